"""What drives the capacities, and whether capacity speeds recovery after a shock.

Capacity drivers (:func:`capacity_drivers`)
    For each capacity, OLS of its Bartlett factor score (SD units, from the baseline CFA;
    unbiased as an outcome) on the programme covariates of
    :data:`~kkbm_analysis.resilience.frames.DRIVERS` (mentoring points received, years of
    membership, KUR approved, village government involvement, Perdes in force, members
    per CO/penggerak, sex) and round indicators, over every interview (statsmodels
    ``OLS``), with standard errors clustered by community (interviews of one member are
    nested in the community): CR2 with Bell-McCaffrey degrees of freedom by default, since
    several covariates vary only between the few dozen communities
    (:mod:`kkbm_analysis.resilience._cluster`; ``se='cr1'`` gives statsmodels' usual
    cluster-robust errors). Coefficients: SD of the capacity per unit.
Recovery after a shock (:func:`recovery_model`)
    Shocks reported at a follow-up, with the month the most serious one began, whether the
    household recovered and in which month after the shock. Each shock becomes one row per
    completed month at risk (discrete-time survival, person-months); a complementary
    log-log GLM (binomial, statsmodels) with a piecewise-constant baseline hazard (months
    1, 2, 3, 4-6, 7+) and the capacities measured at the *previous* interview, before the
    shock. Its coefficients are log hazard ratios of recovery per SD of capacity, the
    discrete-time proportional-hazards model of Prentice & Gloeckler (1978). The
    capacities enter as regression (Thurstone) factor scores, E[capacity | answers]: the
    regression-calibration correction for measurement error. Errors clustered by community.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..models._base import check_clusters, check_min_rows, check_variation, wald_table
from ..i18n import ci_label, has_text, number, text
from ._base import ModelInputError, ResilienceResult, capacity_label, check_lang, one_blas_thread
from ._cluster import cluster_table
from .confirmatory import CFAResult, cfa
from .frames import DRIVERS, ROUNDS

#: Pieces of the baseline recovery hazard: months after the shock.
HAZARD_PIECES = {"month_1": (1, 1), "month_2": (2, 2), "month_3": (3, 3), "month_4_6": (4, 6),
                 "month_7_plus": (7, 10_000)}


@dataclass
class DriversResult(ResilienceResult):
    """Result of :func:`capacity_drivers`.

    Attributes
    ----------
    estimates : DataFrame
        ``capacity, term, estimate, std_error, ci_low, ci_high, p_value, df`` (SD of the
        capacity per unit of the covariate; round indicators and the intercept included;
        ``df``: the t degrees of freedom of the interval).
    n_clusters : int
    """

    n_clusters: int = 0
    drivers: tuple[str, ...] = ()
    title = "What drives the capacities: OLS on Bartlett scores, CR2 errors clustered by community"

    def effect(self, capacity: str, term: str) -> pd.Series:
        rows = self.estimates[(self.estimates["capacity"] == capacity) & (self.estimates["term"] == term)]
        if rows.empty:
            raise KeyError(f"no estimate for {capacity} / {term}")
        return rows.iloc[0]

    def interpretation(self, lang: str = "en", term: str = "points") -> str:
        check_lang(lang)
        driver = f"resilience.driver.{term}"
        parts = []
        for cap in dict.fromkeys(self.estimates["capacity"]):
            r = self.effect(cap, term)
            part = text("resilience.drivers.effect", lang, capacity=capacity_label(cap, lang),
                        estimate=number(r["estimate"], 2, lang, signed=True),
                        ci=ci_label(r["ci_low"], r["ci_high"], 2, lang))
            parts.append(part + ("" if r["p_value"] < 0.05 else text("resilience.drivers.not_significant", lang)))
        return text("resilience.drivers.text", lang, driver=text(driver, lang) if has_text(driver) else term,
                    effects="; ".join(parts), k=number(self.n_clusters, 0, lang))


def _scores(frame: pd.DataFrame, model: CFAResult | None, method: str) -> tuple[pd.DataFrame, CFAResult]:
    model = model or cfa(frame, round="baseline")
    return model.scores(frame, method=method), model


@one_blas_thread
def capacity_drivers(frame: pd.DataFrame, model: CFAResult | None = None, *,
                     drivers: Sequence[str] = tuple(DRIVERS), round_effects: bool = True,
                     se: str = "cr2") -> DriversResult:
    """OLS of each capacity's Bartlett score on the programme covariates (module docstring).

    Parameters
    ----------
    frame : DataFrame
        :func:`~kkbm_analysis.resilience.frames.analysis_frame` rows (every round).
    model : CFAResult, optional
        Measurement model (default: the baseline CFA).
    drivers : sequence of str
        Covariates (columns of ``frame``).
    round_effects : bool
        Include round indicators (default; protects the other effects from common shocks).
    se : {'cr2', 'cr1'}
        Cluster-robust errors (module docstring).
    """
    import statsmodels.api as sm

    scores, model = _scores(frame, model, "bartlett")
    notes = list(model.notes)
    X = frame[list(drivers)].astype(float)
    if round_effects and "round" in frame:
        present = [r for r in ROUNDS if (frame["round"] == r).any()]
        for r in present[1:]:
            X[f"round_{r}"] = (frame["round"] == r).astype(float)
    X = sm.add_constant(X, has_constant="add")
    rows = []
    groups = frame["member_community_id"].astype(str)
    for cap in model.structure:
        df = pd.concat([scores[cap].rename("y"), X, groups.rename("g")], axis=1).dropna()
        check_min_rows(len(df), f"the {cap} driver model")
        check_variation(df, [c for c in X.columns if c != "const"])
        n_clusters = check_clusters(df["g"], notes)
        fit = sm.OLS(df["y"], df[X.columns]).fit()
        rows.append(cluster_table(fit, df["g"].to_numpy(), se).assign(capacity=cap))
    est = pd.concat(rows, ignore_index=True)
    est = est[["capacity", "term", "estimate", "std_error", "ci_low", "ci_high", "p_value", "df"]]
    notes.append("CR2 cluster-robust errors with Bell-McCaffrey t degrees of freedom (column df)" if se == "cr2"
                 else "CR1 cluster-robust errors with t(communities - 1) intervals")
    return DriversResult(est, len(df), list(dict.fromkeys(notes)), bool(frame.attrs.get("synthetic", False)),
                         n_clusters=n_clusters, drivers=tuple(drivers))


# --------------------------------------------------------------------------- recovery
def shock_episodes(frame: pd.DataFrame, model: CFAResult | None = None) -> pd.DataFrame:
    """One row per shock reported at a follow-up, with the capacities measured before it.

    Returns
    -------
    DataFrame
        ``member_id, community_id, round, main_shock, shock_month, interviewed_on,
        months_observed`` (completed months from the shock's month to the interview),
        ``recovered`` (0/1, within the observed months), ``months`` (to recovery or
        observed), and the previous interview's regression scores of each capacity.
    """
    scores, model = _scores(frame, model, "regression")
    caps = list(model.structure)
    f = pd.concat([frame[["member_id", "member_community_id", "round", "round_index", "interviewed_on", "any_shock",
                          "main_shock", "main_shock_month", "recovered", "months_to_recover"]], scores[caps]], axis=1)
    f = f.sort_values(["member_id", "round_index"], kind="stable")
    prev = f.groupby("member_id")[caps].shift(1)
    prev_round = f.groupby("member_id")["round_index"].shift(1)
    ep = f[(f["any_shock"].fillna(False).astype(bool)) & f["main_shock_month"].notna()].copy()
    ep[caps] = prev.loc[ep.index, caps]
    ep = ep[prev_round.loc[ep.index].notna()]
    month = lambda s: pd.to_datetime(s).dt.year * 12 + pd.to_datetime(s).dt.month  # noqa: E731
    ep["months_observed"] = (month(ep["interviewed_on"]) - month(ep["main_shock_month"])).astype(int)
    rec = ep["recovered"].fillna(False).astype(bool) & ep["months_to_recover"].notna()
    k = pd.to_numeric(ep["months_to_recover"], errors="coerce")
    rec &= (k <= ep["months_observed"]).fillna(False)
    ep["recovered"] = rec.astype(int)
    ep["months"] = np.where(rec, k, ep["months_observed"]).astype(int)
    ep = ep[ep["months"] >= 1]
    ep = ep.rename(columns={"member_community_id": "community_id", "main_shock_month": "shock_month"})
    return ep[["member_id", "community_id", "round", "main_shock", "shock_month", "interviewed_on",
               "months_observed", "recovered", "months", *caps]].reset_index(drop=True)


def person_months(episodes: pd.DataFrame) -> pd.DataFrame:
    """Expand episodes into one row per month at risk, ``event`` = 1 in the recovery month."""
    n = episodes["months"].to_numpy(dtype=int)
    out = episodes.loc[episodes.index.repeat(n)].reset_index(drop=True)
    out["month"] = np.concatenate([np.arange(1, m + 1) for m in n]) if len(n) else np.array([], int)
    last = np.cumsum(n) - 1
    event = np.zeros(len(out), dtype=float)
    event[last[episodes["recovered"].to_numpy(dtype=bool)]] = 1.0
    out["event"] = event
    return out


@dataclass
class RecoveryResult(ResilienceResult):
    """Result of :func:`recovery_model`.

    Attributes
    ----------
    estimates : DataFrame
        ``term, estimate`` (log hazard ratio), ``std_error, ci_low, ci_high, p_value,
        hazard_ratio, hazard_ratio_ci_low, hazard_ratio_ci_high`` for each capacity (per
        SD, measured before the shock) and the baseline-hazard pieces.
    episodes : DataFrame
        :func:`shock_episodes`.
    recovered_share : float
    """

    episodes: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    recovered_share: float = float("nan")
    n_clusters: int = 0
    title = "Recovery after a shock: discrete-time proportional hazards (cloglog), SEs clustered by community"

    def _body(self) -> str:
        return (f"Shocks: {len(self.episodes):,}   recovered by the interview: "
                f"{number(self.recovered_share, 1, 'en', percent=True)}   person-months: {self.n_obs:,}   "
                f"communities: {self.n_clusters}\n\n" + super()._body())

    def interpretation(self, lang: str = "en") -> str:
        check_lang(lang)
        caps = self.estimates[~self.estimates["term"].str.startswith("month")]
        parts = []
        for r in caps.itertuples():
            parts.append(text("resilience.recovery.effect", lang, capacity=capacity_label(r.term, lang),
                              hr=number(r.hazard_ratio, 2, lang),
                              ci=ci_label(r.hazard_ratio_ci_low, r.hazard_ratio_ci_high, 2, lang)))
        return text("resilience.recovery.text", lang, effects="; ".join(parts))


@one_blas_thread
def recovery_model(frame: pd.DataFrame, model: CFAResult | None = None) -> RecoveryResult:
    """Discrete-time proportional-hazards model of recovery (module docstring)."""
    import statsmodels.api as sm

    model = model or cfa(frame, round="baseline")
    episodes = shock_episodes(frame, model)
    caps = list(model.structure)
    notes = list(model.notes)
    episodes = episodes.dropna(subset=caps)
    pm = person_months(episodes)
    check_min_rows(len(episodes), "the recovery model")
    if episodes["recovered"].sum() < 10 * len(caps):
        raise ModelInputError(f"too few recoveries for the recovery model: {int(episodes['recovered'].sum())} "
                              f"(need at least {10 * len(caps)})")
    X = pd.DataFrame({name: pm["month"].between(a, b).astype(float) for name, (a, b) in HAZARD_PIECES.items()})
    X = X.loc[:, X.sum() > 0]
    X = pd.concat([X, pm[caps].astype(float)], axis=1)
    n_clusters = check_clusters(pm["community_id"], notes)
    glm = sm.GLM(pm["event"], X, family=sm.families.Binomial(link=sm.families.links.CLogLog()))
    fit = glm.fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(pm["community_id"])[0]})
    est = wald_table(list(X.columns), fit.params.to_numpy(), fit.bse.to_numpy(), exp_label="hazard_ratio")
    est = pd.concat([est[est["term"].isin(caps)], est[~est["term"].isin(caps)]], ignore_index=True)
    return RecoveryResult(est, len(pm), notes, bool(frame.attrs.get("synthetic", False)), episodes=episodes,
                          recovered_share=float(episodes["recovered"].mean()), n_clusters=n_clusters)
