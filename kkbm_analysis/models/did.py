"""Does a village regulation (Perdes) reduce non-procedural departures? Staggered DiD.

Design
    Village x calendar-month panel of ``departures`` (outcome ``non_procedural``, counts
    per village-month). A village's cohort g is the month of its earliest Perdes
    (``village_regulations.adopted_on``); event time e = t - g; treated from e = 0 (no
    anticipation). Villages without a Perdes are the *never-treated* controls (villages
    adopting after the panel ends count as never treated in it). This is how the
    synthetic ground truth defines cohorts and its ATT(g, t) (``perdes`` section).
Default estimator: Borusyak, Jaravel & Spiess (2024) imputation (``estimator="imputation"``)
    1. Village and month fixed effects Y_it = a_i + l_t + e are fitted by least squares on
       the *untreated* village-months only: all months of never-treated villages and the
       months before adoption of adopting villages (the village effects are eliminated
       exactly from the dummies' normal equations and the (T - 1)-square month system is
       factorised once, :mod:`._twoway`: O(N T^2), about a second at 6,000 villages).
    2. For each treated village-month, Y_it(0) is imputed as a_i + l_t and the unit effect
       is tau_it = Y_it - a_i - l_t.
    3. ``overall`` = equal-weight mean of tau_it over *all* treated village-months of the
       panel (not only those inside the event window), the same estimand as the synthetic
       truth and the CS overall ATT; ``e=k`` = mean over treated village-months at event
       time k; ``att_gt`` = cohort x month means (post cells only; no placebo cells).
    Every estimate is linear in Y (weights v_it), so standard errors are BJS's analytic,
    conservative, village-clustered variance (their Theorem 3): sum_i (sum_t v_it e~_it)^2,
    with e~ = FE residuals for untreated observations and, for treated ones, tau_it minus
    the leave-this-village-out mean of tau at the same event time (pooling cohorts makes it
    conservative when effects differ by cohort). Using all untreated months rather than one
    base month per cohort makes it much less sensitive to a chance-high month g - 1 (demo
    seed: BJS -0.62, 95% CI -0.97 to -0.28, truth -0.37; CS -0.88, CI -1.35 to -0.41).
    Pre-trends (BJS section 4.4): on untreated observations only, Y is regressed on the
    fixed effects plus lead indicators e = L..-1 (fitted by partialling the fixed effects
    out of the leads); the lead coefficients are the event-study rows e < 0 and are tested
    as below (mean of leads, sup-t bootstrap-t).
    Guard rail: every month with treated village-months needs at least one untreated
    (never-treated or not-yet-treated) village, otherwise ModelInputError.
Alternative: Callaway & Sant'Anna (2021), ``estimator="callaway_santanna"``, implemented here
    ATT(g, t) = mean over cohort g of (Y_t - Y_b) - mean over never-treated of (Y_t - Y_b),
    with base period b = g - 1 for t >= g and b = t - 1 for t < g (the "varying" base
    of the ``did`` package, so pre-period cells are placebo short differences). No
    covariates (unconditional parallel trends). Influence functions per village give
    analytic standard errors clustered by village; a cohort of one village has no
    within-cohort variance, so its cell SEs are reported as missing (the aggregates below
    are still valid).
Aggregations (weights proportional to cohort size, as ``did::aggte``)
    ``overall``: mean of ATT(g, t) over all post-adoption cells weighted by cohort size =
    the ATT averaged over treated village-months. ``event study``: ATT(e) averages the
    cohorts observed at event time e. The standard errors include the estimation of the
    cohort weights (the ``wif`` term of ``did``), which is what makes them valid when
    cohorts are small. Pointwise 95% intervals, plus a uniform (simultaneous) 95% band
    over the event window from a multiplier bootstrap (Rademacher weights).
Pre-trends
    Leads e = -L..-1 of the event window: a 1-df test that their mean is zero (primary,
    aimed at linear pre-trends) and a sup-t test that all are zero, by a wild restricted
    bootstrap-t (see :mod:`._pretrend` for why not a Gaussian multiplier bootstrap or a
    chi-square Wald test).
Relative effect
    ATT / (mean outcome of treated village-months - ATT), i.e. relative to the
    counterfactual mean; delta-method SE. A ratio of noisy estimates: its intervals cover
    well in simulation, but its point estimate is biased towards zero with ~20 adopting
    villages (mean -0.19 against a true -0.28 over 200 synthetic seeds); prefer the ATT.
TWFE (contrast only)
    The two-way fixed-effects coefficient of a post-adoption dummy (village and month
    fixed effects, SEs clustered by village) is reported for comparison. It is *biased*
    when effects differ across cohorts or grow with time since adoption (Goodman-Bacon
    2021; de Chaisemartin & D'Haultfoeuille 2020), as they do here; do not use it.

Why not a package: ``csdid`` 0.4.3 and ``differences`` 0.3.0 both run on pandas 3.1 /
numpy 2.4 and reproduce these ATT(g, t) exactly, and ``pyfixest``'s ``did2s`` (Gardner's
two-stage DiD) gives the imputation estimator's point estimates (benchmarks/validate_models.py
``--crosscheck`` compares each estimator with its peer), but ``differences`` emits pandas-4
deprecation warnings and pulls in polars, ``csdid`` pulls in twine/keyring/plotnine, and
neither gives BJS's conservative variance or its pre-trend regression; without covariates
both estimators are a few lines of linear algebra, validated against the synthetic truth.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..data import ProgramData
from ..i18n import check_lang, ci_label, number, p_value, text
from ._base import FEW_CLUSTERS, Z95, ModelInputError, ModelResult, one_blas_thread, table_text, wald_table, warn
from ._imputation import bjs_leads, imputed_means, leave_out_mean_effect
from ._pretrend import cs_lead_t, pretrend_tests
from ._twoway import TwoWayFE
from .frames import departures_panel, is_synthetic, month_label

MIN_NEVER_TREATED = 2
MIN_VILLAGES = 4
CELL_CHUNK = 256        # ATT(g, t) cells estimated per batch (memory: N x CELL_CHUNK floats)


@dataclass
class PerdesEffect(ModelResult):
    """Result of :func:`perdes_effect`.

    Attributes
    ----------
    estimates : DataFrame
        ``ATT (overall)``, ``ATT (relative to counterfactual)``, ``TWFE (biased, contrast)``
        and one row per event time ``e=...`` of the window: ``term, estimate, std_error,
        ci_low, ci_high, p_value``.
    att_gt : DataFrame
        ``cohort, period, event_time, att, std_error, ci_low, ci_high, n_villages, post``.
    event_study : DataFrame
        ``event_time, att, std_error, ci_low, ci_high, cband_low, cband_high, n_cohorts,
        n_villages``.
    overall : dict
        ``estimate, std_error, ci_low, ci_high, p_value`` (counts per village-month).
    relative : dict
        The same for the proportional effect.
    pretrend : dict or None
        ``test, estimate`` (mean of the leads), ``std_error, statistic, df, p_value``,
        ``p_value_joint`` (all leads zero, sup-t bootstrap) and ``leads``.
    twfe : dict
        The biased TWFE coefficient, for contrast.
    """

    att_gt: pd.DataFrame = field(default_factory=pd.DataFrame)
    event_study: pd.DataFrame = field(default_factory=pd.DataFrame)
    overall: dict = field(default_factory=dict)
    relative: dict = field(default_factory=dict)
    pretrend: dict | None = None
    twfe: dict = field(default_factory=dict)
    outcome: str = "non_procedural"
    n_treated: int = 0
    n_never_treated: int = 0
    n_cohorts: int = 0
    periods: tuple[str, str] = ("", "")
    estimator: str = "imputation"

    @property
    def title(self) -> str:  # type: ignore[override]
        if self.estimator == "imputation":
            return ("Perdes and non-procedural departures: Borusyak–Jaravel–Spiess imputation staggered DiD "
                    "(never-treated and not-yet-treated controls)")
        return "Perdes and non-procedural departures: Callaway–Sant'Anna staggered DiD (never-treated controls)"

    @property
    def estimator_label(self) -> str:
        return "Borusyak–Jaravel–Spiess imputation" if self.estimator == "imputation" else "Callaway–Sant'Anna"

    def _body(self) -> str:
        o, r, t = self.overall, self.relative, self.twfe
        p = self.pretrend
        pre = (f"mean of leads e={p['leads'][0]}..{p['leads'][-1]} = {p['estimate']:.3f} (SE {p['std_error']:.3f}), "
               f"{p_value(p['p_value'])}; all leads zero (sup-t bootstrap): {p_value(p['p_value_joint'])}"
               + (" [lead coefficients of the BJS test regression on untreated observations]"
                  if self.estimator == "imputation" else "")
               if p else "not available (no pre-periods)")
        es = self.event_study[["event_time", "att", "std_error", "ci_low", "ci_high", "cband_low", "cband_high",
                               "n_villages"]]
        return "\n\n".join([
            f"Panel {self.periods[0]}..{self.periods[1]}: {self.n_obs:,} village-months; {self.n_treated} adopting "
            f"villages in {self.n_cohorts} monthly cohorts, {self.n_never_treated} never-treated villages. "
            f"Outcome: {self.outcome} per village-month.",
            f"Overall ATT: {o['estimate']:.3f} (SE {o['std_error']:.3f}; 95% CI {o['ci_low']:.3f} to {o['ci_high']:.3f}; "
            f"{p_value(o['p_value'])})\nRelative to the counterfactual mean: {number(r['estimate'], 1, percent=True)} "
            f"(95% CI {number(r['ci_low'], 1, percent=True)} to {number(r['ci_high'], 1, percent=True)})\n"
            f"Pre-trend tests: {pre}\n"
            f"TWFE for contrast (BIASED under heterogeneous staggered effects): {t['estimate']:.3f} "
            f"(SE {t['std_error']:.3f})",
            "Event study (pointwise CI and uniform band):\n" + table_text(es, max_rows=60),
            f"ATT(g, t): {len(self.att_gt):,} cells (see .att_gt)"
            + (" = cohort x month means of the imputed unit effects" if self.estimator == "imputation" else "")])

    def interpretation(self, lang: str = "en") -> str:
        check_lang(lang)
        o, r = self.overall, self.relative
        down = o["estimate"] < 0
        signif = o["p_value"] < 0.05
        pre_ok = self.pretrend is None or self.pretrend["p_value"] >= 0.05
        design = text(f"model.perdes.design_{self.estimator}", lang, n_treated=self.n_treated,
                      n_never=self.n_never_treated)
        words = text("model.perdes.effect", lang, direction=text("model.perdes.fall" if down else "model.perdes.rise",
                                                                  lang),
                     size=number(abs(o["estimate"]), 2, lang), att=number(o["estimate"], 2, lang),
                     ci=ci_label(o["ci_low"], o["ci_high"], 2, lang), p=p_value(o["p_value"], lang),
                     relative=number(abs(r["estimate"]), 0, lang, percent=True), design=design)
        if not signif:
            words += text("model.not_significant", lang)
        if self.pretrend:
            words += text("model.perdes.pretrend_ok" if pre_ok else "model.perdes.pretrend_caution", lang,
                          p=p_value(self.pretrend["p_value"], lang))
        return words


ESTIMATORS = ("imputation", "callaway_santanna")


@one_blas_thread
def perdes_effect(data: ProgramData | pd.DataFrame, *, outcome: str = "non_procedural",
                  event_window: tuple[int, int] = (-12, 24), n_boot: int = 999, seed: int = 0,
                  estimator: str = "imputation") -> PerdesEffect:
    """Effect of a village Perdes on monthly departures (BJS imputation by default, or Callaway–Sant'Anna).

    Parameters
    ----------
    data : ProgramData or DataFrame
        Programme data, or a panel like :func:`~kkbm_analysis.models.departures_panel`
        (``village_code, month, y, cohort``).
    outcome : str
        Departures column (default ``non_procedural``; ``procedural`` is a placebo).
    event_window : (int, int)
        Event times reported in the event study and tested for pre-trends (leads from the
        first value to -1).
    n_boot : int
        Multiplier-bootstrap draws for the uniform event-study band (0: no band).
    seed : int
    estimator : {"imputation", "callaway_santanna"}
        ``"imputation"`` (default): Borusyak, Jaravel & Spiess (2024), untreated outcomes
        of never-treated and not-yet-treated village-months. ``"callaway_santanna"``:
        Callaway & Sant'Anna (2021) with never-treated controls (see the module docstring).

    Raises
    ------
    ModelInputError
        No never-treated (or fewer than 2) villages (Callaway–Sant'Anna), an adoption month
        without any untreated village (imputation), no adopting village with a pre-period,
        fewer than 4 villages, or no variation in the outcome.
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, not {estimator!r}")
    notes: list[str] = []
    synthetic = is_synthetic(data)
    panel = data if isinstance(data, pd.DataFrame) else departures_panel(data, outcome)
    Y, villages, months, cohort = _balanced(panel, notes)
    N, T = Y.shape
    if N < MIN_VILLAGES:
        raise ModelInputError(f"too few villages for a difference-in-differences: {N} (minimum {MIN_VILLAGES})")
    if np.nanstd(Y) == 0:
        raise ModelInputError(f"no variation in the outcome {outcome!r}: every village-month has the value {Y.flat[0]:g}")
    first, last = months[0], months[-1]
    cohort = np.where(cohort > last, -1, cohort)                 # adopting after the panel: never treated in it
    always = (cohort >= 0) & (cohort <= first)
    if always.any():
        warn(f"{int(always.sum())} village(s) adopted a Perdes in or before the first panel month "
             f"{month_label(first)}: no pre-period, left out", notes)
        keep = ~always
        Y, villages, cohort = Y[keep], villages[keep], cohort[keep]
        N = len(villages)
    never = cohort < 0
    treated = ~never
    if not treated.any():
        raise ModelInputError("no adopting village with a pre-period in the panel: nothing to estimate")
    if estimator == "imputation":
        return _imputation_effect(Y, cohort, months, never, notes, synthetic=synthetic, outcome=outcome,
                                  event_window=event_window, n_boot=n_boot, seed=seed)
    if never.sum() < MIN_NEVER_TREATED:
        raise ModelInputError(f"the Callaway–Sant'Anna estimator with never-treated controls needs at least "
                              f"{MIN_NEVER_TREATED} never-treated villages; the panel has {int(never.sum())}")
    if N < FEW_CLUSTERS:
        warn(f"only {N} villages: village-clustered standard errors are unreliable", notes)
    cells = _cells(cohort, months)
    att, psi, n_g = _att_gt(Y, cohort, never, cells)
    se_cell = np.sqrt((psi**2).sum(axis=0)) / N
    se_cell[n_g < 2] = np.nan
    att_gt = pd.DataFrame({"cohort": [month_label(g) for g in cells["g"]],
                           "period": [month_label(t) for t in cells["t"]], "event_time": cells["e"], "att": att,
                           "std_error": se_cell, "ci_low": att - Z95 * se_cell, "ci_high": att + Z95 * se_cell,
                           "n_villages": n_g, "post": cells["e"] >= 0})
    if (n_g < 2).any():
        notes.append("cohorts of a single village have no within-cohort variance: their ATT(g, t) standard errors "
                     "are missing; use the aggregated estimates")
    p_cell = n_g / N
    post = cells["e"] >= 0
    theta, if_theta = _aggregate(att, psi, p_cell, cohort, cells["g"], post)
    overall = _wald(theta, if_theta, N)
    relative = _relative(Y, cohort, months, theta, if_theta, N)
    lo, hi = event_window
    es_rows, if_es, lead_sels = [], [], []
    for e in range(lo, hi + 1):
        sel = cells["e"] == e
        if not sel.any():
            continue
        if e < 0:
            lead_sels.append(sel)
        th, inf = _aggregate(att, psi, p_cell, cohort, cells["g"], sel)
        es_rows.append({"event_time": e, **_wald(th, inf, N), "n_cohorts": int(sel.sum()),
                        "n_villages": int(n_g[sel].sum())})
        if_es.append(inf)
    es = pd.DataFrame(es_rows).rename(columns={"estimate": "att"})
    if_es = np.column_stack(if_es)
    es["cband_low"], es["cband_high"] = _uniform_band(es, if_es, N, n_boot, seed)
    return _perdes_result(es, if_es, Y, cohort, months, treated, never, (first, last), seed=seed,
                          overall=overall, relative=relative, att_gt=att_gt, notes=notes, synthetic=synthetic,
                          outcome=outcome, n_obs=int(N * len(months)), estimator="callaway_santanna",
                          lead_t=cs_lead_t(Y, cohort, never, cells, p_cell, lead_sels) if lead_sels else None)


# ----------------------------------------------------------------------------- pieces
def _balanced(panel: pd.DataFrame, notes: list[str]):
    need = {"village_code", "month", "y", "cohort"}
    if not need <= set(panel.columns):
        raise ModelInputError(f"the panel needs columns {sorted(need)}")
    wide = panel.pivot_table(index="village_code", columns="month", values="y", aggfunc="sum", observed=True)
    months = np.asarray(wide.columns, dtype="int64")
    full = np.arange(months.min(), months.max() + 1)
    wide = wide.reindex(columns=full)
    complete = wide.notna().all(axis=1)
    if not complete.all():
        notes.append(f"{int((~complete).sum())} village(s) with missing months were left out (the estimator needs "
                     "a balanced panel)")
        wide = wide[complete]
    if wide.empty:
        raise ModelInputError("no village has departures for every month of the panel")
    coh = panel.drop_duplicates("village_code").set_index("village_code")["cohort"]
    cohort = coh.reindex(wide.index).astype("Float64").fillna(-1).to_numpy(dtype="int64")
    return wide.to_numpy(dtype=float), np.asarray(wide.index), full, cohort


def _cells(cohort: np.ndarray, months: np.ndarray) -> dict[str, np.ndarray]:
    gs, ts, bs = [], [], []
    first = months[0]
    for g in np.unique(cohort[cohort >= 0]):
        for t in months[1:]:
            b = g - 1 if t >= g else t - 1
            if b < first:
                continue
            gs.append(g)
            ts.append(t)
            bs.append(b)
    g, t, b = (np.asarray(v, dtype="int64") for v in (gs, ts, bs))
    return {"g": g, "t": t, "b": b, "e": t - g, "ti": t - first, "bi": b - first}


def _att_gt(Y: np.ndarray, cohort: np.ndarray, never: np.ndarray, cells: dict):
    N = len(Y)
    D = Y[:, cells["ti"]] - Y[:, cells["bi"]]                    # N x K long differences
    G = cohort[:, None] == cells["g"][None, :]                   # N x K cohort membership
    n_g = G.sum(axis=0)
    n_c = never.sum()
    m_t = (G * D).sum(axis=0) / n_g
    m_c = D[never].mean(axis=0)
    att = m_t - m_c
    psi = (N / n_g) * G * (D - m_t) - (N / n_c) * never[:, None] * (D - m_c)
    return att, psi, n_g


def _aggregate(att: np.ndarray, psi: np.ndarray, p_cell: np.ndarray, cohort: np.ndarray, g_cell: np.ndarray,
               sel: np.ndarray) -> tuple[float, np.ndarray]:
    """Cohort-size-weighted average of the selected cells and its influence function (with weight term)."""
    p = p_cell[sel]
    P = p.sum()
    w = p / P
    theta = float(w @ att[sel])
    ind = (cohort[:, None] == g_cell[sel][None, :]).astype(float)  # N x S
    wif = (ind - p) / P - np.outer(ind.sum(axis=1) - P, p) / P**2
    inf = psi[:, sel] @ w + wif @ att[sel]
    return theta, inf


def _wald(theta: float, inf: np.ndarray, N: int) -> dict:
    se = float(np.sqrt((inf**2).sum()) / N)
    row = wald_table(["x"], [theta], [se]).iloc[0]
    return {"estimate": theta, "std_error": se, "ci_low": float(row["ci_low"]), "ci_high": float(row["ci_high"]),
            "p_value": float(row["p_value"])}


def _relative(Y: np.ndarray, cohort: np.ndarray, months: np.ndarray, theta: float, if_theta: np.ndarray,
              N: int) -> dict:
    """ATT / counterfactual mean of treated post village-months, with a delta-method SE."""
    post = (cohort[:, None] >= 0) & (months[None, :] >= cohort[:, None])
    T_i = post.sum(axis=1).astype(float)
    A_i = (Y * post).sum(axis=1)
    M = A_i.sum() / T_i.sum()
    if_m = N * (A_i - M * T_i) / T_i.sum()
    denom = M - theta
    est = theta / denom
    inf = (if_theta * M - theta * if_m) / denom**2
    return _wald(est, inf, N)


def _uniform_band(es: pd.DataFrame, if_es: np.ndarray, N: int, n_boot: int, seed: int):
    if n_boot <= 0 or es.empty:
        return np.nan, np.nan
    se = es["std_error"].to_numpy()
    rng = np.random.default_rng(seed)
    V = rng.choice([-1.0, 1.0], size=(n_boot, N))
    draws = V @ if_es / N                                       # n_boot x E deviations
    ok = se > 0
    t_max = np.max(np.abs(draws[:, ok]) / se[ok], axis=1)
    crit = float(np.quantile(t_max, 0.95))
    return es["att"] - crit * se, es["att"] + crit * se


def _twfe(Y: np.ndarray, cohort: np.ndarray, months: np.ndarray) -> dict:
    """Two-way FE coefficient of a post-adoption dummy (balanced panel: exact double demeaning)."""
    D = ((cohort[:, None] >= 0) & (months[None, :] >= cohort[:, None])).astype(float)

    def dm(a: np.ndarray) -> np.ndarray:
        return a - a.mean(axis=1, keepdims=True) - a.mean(axis=0, keepdims=True) + a.mean()

    yd, dd = dm(Y), dm(D)
    delta = float((dd * yd).sum() / (dd**2).sum())
    e = yd - delta * dd
    G = len(Y)
    score = (dd * e).sum(axis=1)
    se = float(np.sqrt(G / (G - 1) * (score**2).sum()) / (dd**2).sum())
    return {"estimate": delta, "std_error": se, "ci_low": delta - Z95 * se, "ci_high": delta + Z95 * se,
            "p_value": float(2 * stats.norm.sf(abs(delta / se)))}


# ----------------------------------------------------------------------------- BJS imputation
def _imputation_effect(Y: np.ndarray, cohort: np.ndarray, months: np.ndarray, never: np.ndarray, notes: list[str],
                       *, synthetic: bool, outcome: str, event_window: tuple[int, int], n_boot: int,
                       seed: int) -> PerdesEffect:
    """Borusyak, Jaravel & Spiess (2024) imputation estimator (see the module docstring)."""
    N, T = Y.shape
    first, last = months[0], months[-1]
    treated = ~never
    E = np.where(treated[:, None], months[None, :] - cohort[:, None], np.iinfo(np.int64).min)  # event time
    D = treated[:, None] & (E >= 0)                               # treated observations (Omega_1)
    M = ~D                                                        # untreated observations (Omega_0)
    bad = np.flatnonzero(D.any(axis=0) & ~M.any(axis=0))
    if len(bad):
        raise ModelInputError(
            "the imputation estimator needs never-treated or not-yet-treated villages in every month with "
            f"adopting villages; no untreated village in {month_label(months[bad[0]])}"
            + (f" and {len(bad) - 1} later month(s)" if len(bad) > 1 else ""))
    if not never.any():
        notes.append("no never-treated village: the counterfactuals are imputed from not-yet-treated villages only")
    if N < FEW_CLUSTERS:
        warn(f"only {N} villages: village-clustered standard errors are unreliable", notes)
    fe = TwoWayFE(M)
    # step 1: village and month fixed effects on untreated observations only
    fitted = fe.fitted(Y)
    resid0 = np.where(M, Y - fitted, 0.0)
    # step 2: unit-level effects of treated observations (0 elsewhere)
    tau = np.where(D, Y - fitted, 0.0)
    eps = np.where(D, tau - leave_out_mean_effect(tau, D, E), resid0)   # auxiliary residuals for the variance

    def estimate(selections: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        return imputed_means(selections, tau, eps, resid0, fe)

    est, inf = estimate([np.flatnonzero(D)])
    overall = _wald(float(est[0]), inf[:, 0], N)
    relative = _relative(Y, cohort, months, float(est[0]), inf[:, 0], N)
    # cohort x month cells (post only), in chunks
    cell_g, cell_t, cell_sel = [], [], []
    for g in np.unique(cohort[treated]):
        members = np.flatnonzero(cohort == g) * T
        for ti in np.flatnonzero(months >= g):
            cell_g.append(g)
            cell_t.append(ti)
            cell_sel.append(members + ti)
    cell_att, cell_se = [], []
    for k0 in range(0, len(cell_sel), CELL_CHUNK):
        a, f = estimate(cell_sel[k0:k0 + CELL_CHUNK])
        cell_att.append(a)
        cell_se.append(np.sqrt((f**2).sum(axis=0)) / N)
    cell_att, cell_se = np.concatenate(cell_att), np.concatenate(cell_se)
    cell_n = np.asarray([len(sel) for sel in cell_sel], dtype="int64")
    att_gt = pd.DataFrame({"cohort": [month_label(g) for g in cell_g], "period": [month_label(months[t]) for t in cell_t],
                           "event_time": np.asarray([months[t] - g for g, t in zip(cell_g, cell_t)], dtype="int64"),
                           "att": cell_att, "std_error": cell_se, "ci_low": cell_att - Z95 * cell_se,
                           "ci_high": cell_att + Z95 * cell_se, "n_villages": cell_n, "post": True})
    lo, hi = event_window
    rows, infs = [], []
    lead_list = [e for e in range(lo, 0) if (treated[:, None] & (E == e)).any()]
    lead_t = None
    if lead_list:
        lead_list, lead_est, pre_inf, lead_t = bjs_leads(Y, resid0, fe, E, lead_list, notes)
        for j, e in enumerate(lead_list):
            sel = E == e
            rows.append({"event_time": e, **_wald(float(lead_est[j]), pre_inf[:, j], N),
                         "n_cohorts": int(len(np.unique(cohort[sel.any(axis=1)]))), "n_villages": int(sel.sum())})
            infs.append(pre_inf[:, j])
    post_e = [e for e in range(max(lo, 0), hi + 1) if (D & (E == e)).any()]
    if post_e:
        a, f = estimate([np.flatnonzero(D & (E == e)) for e in post_e])
        for j, e in enumerate(post_e):
            sel = D & (E == e)
            rows.append({"event_time": e, **_wald(float(a[j]), f[:, j], N),
                         "n_cohorts": int(len(np.unique(cohort[sel.any(axis=1)]))), "n_villages": int(sel.sum())})
            infs.append(f[:, j])
    es = pd.DataFrame(rows).rename(columns={"estimate": "att"})
    if_es = np.column_stack(infs)
    es["cband_low"], es["cband_high"] = _uniform_band(es, if_es, N, n_boot, seed)
    return _perdes_result(es, if_es, Y, cohort, months, treated, never, (first, last), seed=seed,
                          overall=overall, relative=relative, att_gt=att_gt, notes=notes, synthetic=synthetic,
                          outcome=outcome, n_obs=int(N * len(months)), estimator="imputation", lead_t=lead_t,
                          pretrend_test="mean of BJS lead coefficients = 0",
                          estimator_note=("estimator: Borusyak–Jaravel–Spiess imputation (village and month "
                                          f"fixed effects fitted on {int(M.sum()):,} untreated village-months, "
                                          f"effects imputed for {int(D.sum()):,} treated ones); conservative "
                                          "analytic standard errors clustered by village"))


def _perdes_result(es: pd.DataFrame, if_es: np.ndarray, Y: np.ndarray, cohort: np.ndarray, months: np.ndarray,
                   treated: np.ndarray, never: np.ndarray, span: tuple, *, seed: int, overall: dict,
                   relative: dict, att_gt: pd.DataFrame, notes: list[str], synthetic: bool, outcome: str,
                   n_obs: int, estimator: str, lead_t=None, pretrend_test: str | None = None,
                   estimator_note: str | None = None) -> "PerdesEffect":
    """The part both estimators share: pre-trend test, TWFE contrast, estimates table, result.

    ``lead_t`` is the estimator's bootstrap of its leads' t-statistics (:mod:`._pretrend`).
    """
    N = Y.shape[0]
    leads = (es["event_time"] < 0).to_numpy()
    pretrend = None
    if leads.any():
        pretrend = pretrend_tests(es.loc[leads], if_es[:, leads], N, lead_t, seed)
        if pretrend_test:
            pretrend["test"] = pretrend_test
        if pretrend["p_value"] < 0.05:
            warn(f"pre-trend test rejects parallel trends before adoption ({p_value(pretrend['p_value'])})", notes)
    else:
        warn("no pre-periods in the event window: parallel trends cannot be checked", notes)
    twfe = _twfe(Y, cohort, months)
    table = pd.concat([
        wald_table(["ATT (overall)", "ATT (relative to counterfactual)", "TWFE (biased, contrast)"],
                   [overall["estimate"], relative["estimate"], twfe["estimate"]],
                   [overall["std_error"], relative["std_error"], twfe["std_error"]]),
        wald_table([f"e={e}" for e in es["event_time"]], es["att"].to_numpy(), es["std_error"].to_numpy())],
        ignore_index=True)
    if estimator_note:
        notes.append(estimator_note)
    return PerdesEffect(estimates=table, n_obs=n_obs, notes=notes, synthetic=synthetic, att_gt=att_gt,
                        event_study=es[["event_time", "att", "std_error", "ci_low", "ci_high", "p_value",
                                        "cband_low", "cband_high", "n_cohorts", "n_villages"]],
                        overall=overall, relative=relative, pretrend=pretrend, twfe=twfe, outcome=outcome,
                        n_treated=int(treated.sum()), n_never_treated=int(never.sum()),
                        n_cohorts=len(np.unique(cohort[treated])), periods=(month_label(span[0]), month_label(span[1])),
                        estimator=estimator)
