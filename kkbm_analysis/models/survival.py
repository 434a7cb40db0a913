"""Business survival after the one-year mark: Kaplan-Meier curves and Cox regression.

Time origin and population follow the synthetic ground truth (``business_survival``):
member businesses running at the owner's t12 (entry training + 365 days), followed from
t12 until closure (``closed_on``) or the observation end (administrative censoring).
``time_origin="start"`` instead uses business age (time since ``started_on``) with
delayed entry at t12; under a hazard that is constant in time both give the same hazard
ratios.

Kaplan-Meier (:func:`survival_curves`)
    statsmodels ``SurvfuncRight`` per mentoring-intensity group (default 0, 1-2, 3-4
    points), pointwise 95% intervals on the log(-log) scale, and the log-rank test
    (statsmodels ``survdiff``).
Cox model (:func:`business_survival_model`)
    statsmodels ``PHReg`` (Efron ties), robust standard errors clustered by community
    (``fit(groups=...)``, the Lin-Wei sandwich, times G/(G-1)). Proportional hazards are
    checked with the Grambsch-Therneau test: the correlation of scaled Schoenfeld residuals
    with the rank of the event time, per covariate (1 df) and globally (p df), using the
    model-based information matrix.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..data import ProgramData
from ..i18n import check_lang, ci_label, has_text, number, p_value, text
from ._base import (Z95, ModelInputError, ModelResult, check_clusters, check_events, check_min_rows, check_variation,
                    one_blas_thread, table_text, wald_table, warn)
from .frames import DEFAULT_COVARIATES, business_survival_frame, is_synthetic

DAYS_PER_MONTH = 365.25 / 12
DEFAULT_GROUPS = ((0, 0), (1, 2), (3, 4))
DEFAULT_TIMES = (182, 365, 730)
MIN_EVENTS_KM = 10


def _group_label(lo: int, hi: int) -> str:
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def _months(days: float) -> str:
    return f"{days / DAYS_PER_MONTH:.0f}"


# ============================================================================ Kaplan-Meier
@dataclass
class SurvivalCurves(ModelResult):
    """Result of :func:`survival_curves`.

    Attributes
    ----------
    estimates : DataFrame
        Survival at the requested times per group: ``term`` ('S(365 d) | 3–4 points'),
        ``estimate, std_error, ci_low, ci_high, p_value`` (NA), ``group, time_days``.
    curves : DataFrame
        The step functions: ``group, time_days, survival, ci_low, ci_high, at_risk``.
    groups : DataFrame
        ``group, points_from, points_to, businesses, closures, median_days``.
    logrank : dict
        ``statistic, df, p_value`` of the log-rank test of equal survival.
    """

    curves: pd.DataFrame = field(default_factory=pd.DataFrame)
    groups: pd.DataFrame = field(default_factory=pd.DataFrame)
    logrank: dict = field(default_factory=dict)
    time_origin: str = "t12"
    title = "Business survival after t12 by mentoring intensity (Kaplan-Meier)"

    def _body(self) -> str:
        lr = self.logrank
        est = self.estimates[["group", "time_days", "estimate", "std_error", "ci_low", "ci_high"]]
        return "\n\n".join([
            f"Businesses running at t12: {self.n_obs:,}; time origin: {self.time_origin}",
            "Groups (mentoring points):\n" + table_text(self.groups),
            "Share still running (95% CI):\n" + table_text(est),
            f"Log-rank test of equal survival: chi2 = {lr['statistic']:.2f} on {lr['df']} df, "
            f"{p_value(lr['p_value'])}"])

    def interpretation(self, lang: str = "en", time_days: float | None = None) -> str:
        check_lang(lang)
        est = self.estimates
        t = time_days if time_days is not None else (365 if (est["time_days"] == 365).any() else est["time_days"].iloc[0])
        at = est[est["time_days"] == t]
        first, last = at.iloc[0], at.iloc[-1]
        words = text("model.km.curves", lang, months=_months(t),
                     last=number(last["estimate"], 0, lang, percent=True), last_group=last["group"],
                     last_ci=ci_label(last["ci_low"], last["ci_high"], 0, lang, percent=True),
                     first=number(first["estimate"], 0, lang, percent=True), first_group=first["group"],
                     first_ci=ci_label(first["ci_low"], first["ci_high"], 0, lang, percent=True),
                     p=p_value(self.logrank["p_value"], lang))
        return words + ("" if self.logrank["p_value"] < 0.05 else text("model.km.not_significant", lang))

    def plot(self, ax: Any = None) -> Any:
        """Step plot of the curves with their pointwise 95% bands; returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.5))
        for group, c in self.curves.groupby("group", sort=False):
            months = c["time_days"] / DAYS_PER_MONTH
            line = ax.step(months, c["survival"], where="post", label=f"{group} points")[0]
            ax.fill_between(months, c["ci_low"], c["ci_high"], step="post", alpha=0.15, color=line.get_color())
        ax.set_xlabel("months since t12 (entry training + 12 months)")
        ax.set_ylabel("share of businesses still running")
        ax.set_ylim(0, 1.02)
        ax.legend(title="mentoring points")
        ax.set_title(("SYNTHETIC DATA — " if self.synthetic else "") + "Business survival by mentoring intensity")
        return ax


def _survival_inputs(data: ProgramData | pd.DataFrame, time_origin: str, as_of: Any, notes: list[str]):
    if time_origin not in ("t12", "start"):
        raise ValueError(f"time_origin must be 't12' or 'start', not {time_origin!r}")
    frame = data if isinstance(data, pd.DataFrame) else business_survival_frame(data, as_of=as_of, notes=notes)
    needed = ["time_days", "closed", "entry_days", "community_id", "points"]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ModelInputError(f"the survival frame lacks {missing}")
    frame = frame.loc[frame["time_days"] > 0].copy()
    if time_origin == "t12":
        frame["_time"], frame["_entry"] = frame["time_days"], 0.0
    else:
        frame["_time"], frame["_entry"] = frame["entry_days"] + frame["time_days"], frame["entry_days"]
    return frame


@one_blas_thread
def survival_curves(data: ProgramData | pd.DataFrame, *, groups: Sequence[tuple[int, int]] = DEFAULT_GROUPS,
                    times: Sequence[float] = DEFAULT_TIMES, time_origin: str = "t12",
                    as_of: Any = None) -> SurvivalCurves:
    """Kaplan-Meier survival of businesses by mentoring intensity, with a log-rank test.

    Parameters
    ----------
    data : ProgramData or DataFrame
        Programme data or a frame like :func:`~kkbm_analysis.models.business_survival_frame`.
    groups : sequence of (from, to)
        Inclusive ranges of mentoring points; default 0, 1–2, 3–4.
    times : sequence of float
        Days since the time origin at which survival is reported (default 6, 12, 24 months).
    time_origin : {'t12', 'start'}
        Survival since t12, or business age with delayed entry at t12 (then ``times`` are
        business ages).

    Raises
    ------
    ModelInputError
        Fewer than 50 businesses, fewer than 10 closures, or fewer than two groups with
        businesses.
    """
    from statsmodels.duration.survfunc import SurvfuncRight, survdiff

    notes: list[str] = []
    synthetic = is_synthetic(data)
    df = _survival_inputs(data, time_origin, as_of, notes)
    check_min_rows(len(df), "survival curves")
    if df["closed"].sum() < MIN_EVENTS_KM:
        raise ModelInputError(f"too few closures for survival curves: {int(df['closed'].sum())} (the documented "
                              f"minimum is {MIN_EVENTS_KM})")
    labels = pd.Series(pd.NA, index=df.index, dtype="string")
    for lo, hi in groups:
        labels[(df["points"] >= lo) & (df["points"] <= hi)] = _group_label(lo, hi)
    df["group"] = labels
    if df["group"].isna().any():
        notes.append(f"{int(df['group'].isna().sum())} businesses fall outside the groups and are left out")
        df = df.dropna(subset=["group"])
    present = [g for g in (_group_label(lo, hi) for lo, hi in groups) if (df["group"] == g).any()]
    empty = [_group_label(lo, hi) for lo, hi in groups if _group_label(lo, hi) not in present]
    if empty:
        warn(f"no businesses in the group(s) {empty} (mentoring points); they are left out", notes)
    if len(present) < 2:
        raise ModelInputError(f"survival curves need at least two groups with businesses; only {present} have any "
                              "(no variation in mentoring points)")
    curves, rows, info = [], [], []
    for g in present:
        d = df[df["group"] == g]
        sf = SurvfuncRight(d["_time"].to_numpy(), d["closed"].to_numpy(),
                           entry=d["_entry"].to_numpy() if time_origin == "start" else None)
        s, se = np.asarray(sf.surv_prob), np.asarray(sf.surv_prob_se)
        lo, hi = _loglog_ci(s, se)
        curves.append(pd.DataFrame({"group": g, "time_days": np.r_[0.0, sf.surv_times],
                                    "survival": np.r_[1.0, s], "ci_low": np.r_[1.0, lo], "ci_high": np.r_[1.0, hi],
                                    "at_risk": np.r_[len(d), sf.n_risk]}))
        for t in times:
            k = np.searchsorted(sf.surv_times, t, side="right") - 1
            val, sev, low, high = (1.0, 0.0, 1.0, 1.0) if k < 0 else (s[k], se[k], lo[k], hi[k])
            if t > d["_time"].max():
                val = sev = low = high = np.nan
            rows.append({"term": f"S({t:g} d) | {g} points", "estimate": val, "std_error": sev, "ci_low": low,
                         "ci_high": high, "p_value": np.nan, "group": g, "time_days": float(t)})
        med = sf.quantile(0.5)
        info.append({"group": g, "businesses": len(d), "closures": int(d["closed"].sum()),
                     "median_days": float(med) if med is not None and np.isfinite(med) else np.nan})
    info_df = pd.DataFrame(info)
    bounds = {_group_label(lo, hi): (lo, hi) for lo, hi in groups}
    info_df.insert(1, "points_from", [bounds[g][0] for g in info_df["group"]])
    info_df.insert(2, "points_to", [bounds[g][1] for g in info_df["group"]])
    stat, p = survdiff(df["_time"].to_numpy(), df["closed"].to_numpy(), df["group"].astype(str).to_numpy(),
                       entry=df["_entry"].to_numpy() if time_origin == "start" else None)
    return SurvivalCurves(estimates=pd.DataFrame(rows), n_obs=len(df), notes=notes, synthetic=synthetic,
                          curves=pd.concat(curves, ignore_index=True), groups=info_df,
                          logrank={"statistic": float(stat), "df": len(present) - 1, "p_value": float(p)},
                          time_origin=time_origin)


def _loglog_ci(s: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise 95% interval for S(t) on the log(-log S) scale."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lls = np.log(-np.log(s))
        se_ll = se / (s * np.abs(np.log(s)))
        lo = np.exp(-np.exp(lls + Z95 * se_ll))
        hi = np.exp(-np.exp(lls - Z95 * se_ll))
    lo = np.where(s >= 1, 1.0, np.where(s <= 0, 0.0, lo))
    hi = np.where(s >= 1, 1.0, np.where(s <= 0, 0.0, hi))
    return lo, hi


# ============================================================================ Cox
@dataclass
class SurvivalModelResult(ModelResult):
    """Result of :func:`business_survival_model`.

    Attributes
    ----------
    estimates : DataFrame
        ``term, estimate`` (log hazard ratio), ``std_error, ci_low, ci_high, p_value,
        hazard_ratio, hazard_ratio_ci_low, hazard_ratio_ci_high`` (community-clustered).
    ph_test : DataFrame
        Proportional-hazards test per covariate and ``GLOBAL``: ``term, rho`` (correlation
        of the scaled Schoenfeld residual with the event-time rank), ``statistic, df,
        p_value``. A small p-value means the hazard ratio changes over time.
    n_events, n_clusters : int
    time_origin : str
    """

    ph_test: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_events: int = 0
    n_clusters: int = 0
    time_origin: str = "t12"
    frame: pd.DataFrame | None = field(default=None, repr=False)
    fit: Any = field(default=None, repr=False)
    title = "Business closure after t12: Cox proportional hazards, SEs clustered by community"

    def _body(self) -> str:
        est = self.estimates[["term", "estimate", "std_error", "p_value", "hazard_ratio", "hazard_ratio_ci_low",
                              "hazard_ratio_ci_high"]]
        glob = self.ph_test[self.ph_test["term"] == "GLOBAL"].iloc[0]
        return "\n\n".join([
            f"Businesses: {self.n_obs:,}   closures: {self.n_events:,}   communities: {self.n_clusters}   "
            f"time origin: {self.time_origin}",
            "Log hazard ratios and hazard ratios (95% CI):\n" + table_text(est),
            "Proportional-hazards check (scaled Schoenfeld residuals vs event-time rank):\n"
            + table_text(self.ph_test),
            ("Proportional hazards: no evidence against" if glob["p_value"] >= 0.05 else
             "WARNING: proportional hazards rejected") + f" (global {p_value(glob['p_value'])})."])

    def interpretation(self, lang: str = "en", term: str = "points") -> str:
        check_lang(lang)
        r = self.term(term)
        hr, lo, hi = r["hazard_ratio"], r["hazard_ratio_ci_low"], r["hazard_ratio_ci_high"]
        change = abs(1 - hr)
        signif = r["p_value"] < 0.05
        ph_ok = float(self.ph_test.loc[self.ph_test["term"] == "GLOBAL", "p_value"].iloc[0]) >= 0.05
        key = f"model.covariate.{term}"
        label = text(key, lang) if has_text(key) else term
        subject = (text("model.cox.subject_points", lang) if term == "points"
                   else text("model.cox.subject_other", lang, label=label))
        words = text("model.cox.effect", lang, subject=subject,
                     verb=text("model.cox.lowers" if hr < 1 else "model.cox.raises", lang),
                     change=number(change, 0, lang, percent=True), hr=number(hr, 2, lang),
                     ci=ci_label(lo, hi, 2, lang), p=p_value(r["p_value"], lang), n=number(self.n_obs, 0, lang),
                     events=number(self.n_events, 0, lang))
        if not signif:
            words += text("model.not_significant", lang)
        if not ph_ok:
            words += text("model.cox.ph_fails", lang)
        return words


@one_blas_thread
def business_survival_model(data: ProgramData | pd.DataFrame, *, covariates: Sequence[str] = DEFAULT_COVARIATES,
                            time_origin: str = "t12", ties: str = "efron", as_of: Any = None) -> SurvivalModelResult:
    """Cox proportional-hazards model of business closure after t12.

    Parameters
    ----------
    data : ProgramData or DataFrame
        Programme data or a frame like :func:`~kkbm_analysis.models.business_survival_frame`.
    covariates : sequence of str
        Default: mentoring points, members per staff (per 10), KUR before t12, female, years
        abroad.
    time_origin : {'t12', 'start'}
        See the module docstring.
    ties : {'efron', 'breslow'}

    Raises
    ------
    ModelInputError
        Fewer than 50 businesses, fewer than 10 closures per coefficient, no variation in a
        covariate, fewer than 2 communities.
    """
    import statsmodels.api as sm

    notes: list[str] = []
    synthetic = is_synthetic(data)
    df = _survival_inputs(data, time_origin, as_of, notes)
    covariates = list(covariates)
    missing = [c for c in covariates if c not in df.columns]
    if missing:
        raise ModelInputError(f"the survival frame lacks {missing}")
    n0 = len(df)
    df = df.dropna(subset=covariates).reset_index(drop=True)
    if len(df) < n0:
        notes.append(f"{n0 - len(df)} businesses with a missing covariate were left out")
    check_min_rows(len(df), "the Cox model")
    check_variation(df, covariates)
    events = int(df["closed"].sum())
    check_events(events, len(covariates), "the Cox model")
    X = df[covariates].to_numpy(dtype=float)
    groups = pd.factorize(df["community_id"].astype("string"))[0]
    k = check_clusters(pd.Series(groups), notes)
    model = sm.PHReg(df["_time"].to_numpy(), X, status=df["closed"].to_numpy(),
                     entry=df["_entry"].to_numpy() if time_origin == "start" else None, ties=ties)
    fit = model.fit(groups=groups)
    params = np.asarray(fit.params)
    cov = np.asarray(fit.cov_params()) * k / (k - 1)
    if not (np.all(np.isfinite(params)) and np.all(np.isfinite(np.diag(cov)))) or np.any(np.abs(params) > 20):
        raise ModelInputError("the Cox model did not converge to finite estimates (a covariate may predict "
                              "closure perfectly)")
    est = wald_table(covariates, params, np.sqrt(np.diag(cov)), exp_label="hazard_ratio")
    ph = _ph_test(model, fit, covariates)
    glob = float(ph.loc[ph["term"] == "GLOBAL", "p_value"].iloc[0])
    if glob < 0.05:
        warn(f"proportional hazards rejected (global {p_value(glob)}): hazard ratios are time averages", notes)
    return SurvivalModelResult(estimates=est, n_obs=len(df), notes=notes, synthetic=synthetic, ph_test=ph,
                               n_events=events, n_clusters=k, time_origin=time_origin, frame=df, fit=fit)


def _ph_test(model: Any, fit: Any, names: Sequence[str]) -> pd.DataFrame:
    """Grambsch-Therneau test with g(t) = rank of the event time (model-based information)."""
    params = np.asarray(fit.params)
    info = -model.hessian(params)
    V = np.linalg.inv(info)
    resid = np.asarray(fit.schoenfeld_residuals)
    event = np.asarray(model.status) == 1
    ok = event & np.all(np.isfinite(resid), axis=1)
    r = resid[ok]
    t = np.asarray(model.endog)[ok]
    d = len(r)
    g = stats.rankdata(t)
    gc = g - g.mean()
    u = gc @ r                                    # p-vector: sum (g - gbar) r_i
    denom = gc @ gc
    scaled = d * r @ V + params                   # scaled Schoenfeld residuals
    rows = []
    for j, name in enumerate(names):
        stat = d * (V[j] @ u) ** 2 / (V[j, j] * denom)
        rho = stats.pearsonr(g, scaled[:, j])[0] if np.std(scaled[:, j]) > 0 else np.nan
        rows.append({"term": name, "rho": float(rho), "statistic": float(stat), "df": 1,
                     "p_value": float(stats.chi2.sf(stat, 1))})
    stat = d * float(u @ V @ u) / denom
    rows.append({"term": "GLOBAL", "rho": np.nan, "statistic": stat, "df": len(names),
                 "p_value": float(stats.chi2.sf(stat, len(names)))})
    return pd.DataFrame(rows)
