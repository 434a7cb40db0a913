"""Pre-trend tests of the staggered Perdes DiD (:mod:`.did`): mean of the leads, and a sup-t test.

Two tests of the event-study leads e = L..-1 (the coefficients before adoption):

``p_value``: their mean is zero (1 df, normal reference)
    With the varying base period of Callaway–Sant'Anna each lead is a one-month placebo
    change, so a linear pre-trend in levels moves every lead the same way; this test has
    its power there. Under the null it rejected 3.5 % (CS) and 8 % (imputation) of 200
    synthetic seeds (benchmarks/results/validate_models_summary.md).
``p_value_joint``: all leads are zero, sup-t by a wild restricted bootstrap-t
    The statistic is max_j |t_j| over the leads. Its null distribution is simulated by the
    wild cluster bootstrap with the null imposed (Cameron, Gelbach & Miller 2008; MacKinnon
    & Webb 2017): the outcome is rebuilt as the fit under "no pre-trend" plus each village's
    restricted residuals times a Rademacher sign v_i, the leads *and their standard errors*
    are re-estimated, and each draw's max |t*| is compared with the observed one. Under the
    null it rejected 6 % (CS) and 8 % (imputation) of 200 synthetic seeds, and 3 % and 6 %
    of 400 synthetic 49-village panels (benchmarks/bench_did.py's generator).

Why not the Gaussian multiplier bootstrap (the earlier test: 14 % (CS) over 200 seeds, 14-23 % on the panels)
    Multiplying the influence functions by signs simulates max |Z_j| for Z ~ N(0, R):
    it treats the t-statistics as normal. With ~20 adopting villages they are not: the
    village-clustered standard errors come from few villages whose residuals are shrunk
    by leverage (a cohort of one village contributes no within-cohort deviation at all,
    a village's pre-period months also fix its own fixed effect), so the t-statistics have
    Student-like tails. A test of 12 leads at 5 % works in the far tail of each one (about
    2.8 SE), where that matters most: over 300 synthetic 49-village panels the 95 % quantile
    of the observed max |t| was 3.2 (CS) and 3.4 (imputation) against the bootstrap's
    ~2.8. Re-estimating the standard error in each draw reproduces the shrinkage, so the
    bootstrap-t inherits those tails. The chi-square Wald test is worse still (it inverts
    the leads' estimated covariance: 60 % rejection).

The two estimators supply their leads' bootstrap as a function ``lead_t(v)`` of a B x N
array of village multipliers returning B x L t-statistics; with ``v`` all ones it returns
the observed t-statistics (tested).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

DRAWS_PER_BATCH = 64    # bootstrap draws evaluated at once (memory: a few DRAWS_PER_BATCH x leads x N floats)
LeadT = Callable[[np.ndarray], np.ndarray]


def pretrend_tests(leads: pd.DataFrame, inf: np.ndarray, N: int, lead_t: LeadT, seed: int,
                   n_boot: int = 999) -> dict:
    """Mean-of-leads test and sup-t bootstrap-t test (see the module docstring).

    Parameters
    ----------
    leads : DataFrame
        Event-study rows e < 0: ``event_time, att, std_error``.
    inf : ndarray, N x L
        The leads' village influence functions (SE = norm / N).
    N : int
        Villages.
    lead_t : callable
        B x N village multipliers -> B x L bootstrap t-statistics under the null.
    seed, n_boot : int
        Bootstrap seed (``seed + 1`` is used) and draws.
    """
    th, se = leads["att"].to_numpy(), leads["std_error"].to_numpy()
    mean_if = inf.mean(axis=1)
    mean, mean_se = float(th.mean()), float(np.sqrt((mean_if**2).sum()) / N)
    z = mean / mean_se
    observed = float(np.max(np.abs(_ratio(th, se))))
    rng = np.random.default_rng(seed + 1)
    v = rng.choice([-1.0, 1.0], size=(n_boot, N))
    t_max = np.concatenate([np.max(np.abs(lead_t(v[b:b + DRAWS_PER_BATCH])), axis=1)
                            for b in range(0, n_boot, DRAWS_PER_BATCH)])
    return {"test": "mean of leads = 0", "estimate": mean, "std_error": mean_se, "statistic": float(z**2), "df": 1,
            "p_value": float(2 * stats.norm.sf(abs(z))), "p_value_joint": float((t_max >= observed).mean()),
            "leads": leads["event_time"].astype(int).tolist()}


def _ratio(estimate: np.ndarray, se: np.ndarray) -> np.ndarray:
    """t-statistics, 0 where the standard error is 0 (a degenerate draw)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(se > 0, estimate / se, 0.0)


def bjs_lead_t(fe, resid0: np.ndarray, X: np.ndarray, V: np.ndarray) -> LeadT:
    """Bootstrap t of the BJS pre-trend regression's leads (untreated cells: FE + lead indicators).

    Parameters
    ----------
    fe : TwoWayFE
        Fixed effects on the untreated cells.
    resid0 : ndarray, N x T
        Y's fixed-effects residuals on them: the residuals of the model without leads (the null).
    X : ndarray, L x N x T
        Lead indicators with the fixed effects partialled out.
    V : ndarray, L x N x T
        Weights of the lead coefficients (coefficient j = sum(V[j] * Y)).

    Notes
    -----
    With Y* = fit under the null + v_i * resid0, the coefficients are beta* = sum_i v_i Q_i
    (Q_ij = sum_t V_j,it resid0_it, as V is orthogonal to the fixed effects), and the full
    model's residuals are e* = v * resid0 - (a* + l*) - sum_k X_k beta*_k, with (a*, l*) the
    fixed effects of v * resid0. Each village's influence sum_t V_j,it e*_it then comes from
    precomputed L x N arrays and two matrix products per batch of draws.
    """
    L, N, T = V.shape
    QT = np.einsum("jnt,nt->jn", V, resid0)                       # L x N
    VT = np.ascontiguousarray(V.reshape(L * N, T).T)               # T x (L N)
    WT = np.einsum("jnt,knt->kjn", V, X).reshape(L, L * N)         # sum_t V_j X_k, as k x (j, n)
    r_unit = resid0.sum(axis=1)

    def lead_t(v: np.ndarray) -> np.ndarray:
        B = len(v)
        beta = v @ QT.T                                            # B x L
        _, lam = fe.solve(r_unit[:, None] * v.T, resid0.T @ v.T)     # month effects of v * resid0: T x B
        # village effects drop out: sum_t V_j,it = 0 in every village (V is within-village)
        infl = (lam.T @ VT).reshape(B, L, N)
        infl += (beta @ WT).reshape(B, L, N)
        np.subtract(v[:, None, :] * QT[None], infl, out=infl)
        return _ratio(beta, np.sqrt(np.einsum("bjn,bjn->bj", infl, infl)))

    return lead_t


def cs_lead_t(Y: np.ndarray, cohort: np.ndarray, never: np.ndarray, cells: dict, p_cell: np.ndarray,
              lead_sels: list[np.ndarray]) -> LeadT:
    """Bootstrap t of the Callaway–Sant'Anna leads (cohort-size-weighted placebo ATT(g, t), t < g).

    Parameters
    ----------
    Y : ndarray, N x T
    cohort, never : ndarray, N
    cells : dict
        The ATT(g, t) cells of :func:`.did._cells`.
    p_cell : ndarray
        Cohort share of each cell (n_g / N).
    lead_sels : list of bool arrays
        Per lead, the cells averaged into it.

    Notes
    -----
    Under the null each cell's cohort and the never-treated share one mean change m_r; the
    bootstrap changes are m_r + v_i r_i with r_i = d_i - m_r. The cell ATT, its influence
    function (a village's change minus its group's mean change, which the bootstrap
    re-centres as the estimator does) and the cohort-weight term are all linear in v.
    """
    N, L = len(Y), len(lead_sels)
    n_c = never.sum()
    groups = np.unique(cohort, return_inverse=True)[1]            # each cohort, and the never-treated (-1)
    H = np.eye(groups.max() + 1)[groups]                          # N x groups, one-hot
    RT = np.zeros((L, N))
    parts = []
    for j, sel in enumerate(lead_sels):
        k = np.flatnonzero(sel)
        d = Y[:, cells["ti"][k]] - Y[:, cells["bi"][k]]             # N x S one-month changes
        G = cohort[:, None] == cells["g"][k][None, :]
        n_g = G.sum(axis=0)
        used = G | never[:, None]
        r = np.where(used, d - (d * used).sum(axis=0) / used.sum(axis=0), 0.0)   # restricted residuals
        p = p_cell[k]
        P = p.sum()
        w = p / P
        RT[j] = (G * r * (w * N / n_g)).sum(axis=1) - never * (r * w).sum(axis=1) * N / n_c
        ind = G.astype(float)
        wif = (ind - p) / P - np.outer(ind.sum(axis=1) - P, p) / P**2
        parts.append((G * r / n_g - never[:, None] * r / n_c, w, np.ascontiguousarray(wif.T)))  # att* = v @ first
    # A village's influence is v_i R_i plus a term its whole group shares (minus the group's mean of v R, plus the
    # cohort-weight term, which depends on the village only through its cohort), so the squared norm needs only
    # per-group sums: no B x L x N array.
    first = np.unique(groups, return_index=True)[1]               # one village per group
    size = H.sum(axis=0)
    RH = (RT.T[:, :, None] * H[:, None, :]).reshape(N, -1)         # v @ RH: per lead and group, the sum of v R
    R2 = RT.T**2

    def lead_t(v: np.ndarray) -> np.ndarray:
        B = len(v)
        s = (v @ RH).reshape(B, L, -1)
        shared = -s / size
        est = np.empty((B, L))
        for j, (att_coef, w, wif_t) in enumerate(parts):
            att = v @ att_coef                                      # B x S
            est[:, j] = att @ w
            shared[:, j, :] += att @ wif_t[:, first]
        sq = (v**2) @ R2 + 2 * (shared * s).sum(axis=2) + (size * shared**2).sum(axis=2)
        return _ratio(est, np.sqrt(np.maximum(sq, 0.0)) / N)

    return lead_t
