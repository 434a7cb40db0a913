"""The linear algebra of the Borusyak–Jaravel–Spiess imputation estimator (:mod:`.did`).

Given the village and month fixed effects fitted on the untreated village-months
(:class:`._twoway.TwoWayFE`), these compute the imputed effects' means and their village
influence functions without forming an N x T weight matrix per estimand, the auxiliary
residuals of BJS's conservative variance, and the pre-trend regression on the leads.
:func:`.did.perdes_effect` assembles the result.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from ._pretrend import bjs_lead_t
from ._twoway import TwoWayFE

__all__ = ["leave_out_mean_effect", "imputed_means", "bjs_leads", "COLLINEAR_TOL"]

COLLINEAR_TOL = 1e-9    # a lead keeping less of its variation after the fixed effects is collinear


def leave_out_mean_effect(tau: np.ndarray, D: np.ndarray, E: np.ndarray) -> np.ndarray:
    """BJS Theorem 3's auxiliary tau-bar on the treated cells D (0 elsewhere), conservative.

    A village has one treated cell per event time, so each cell gets the mean effect of the
    other villages at its event time; where a single village reaches that event time, the
    mean over every other village's treated cells instead.
    """
    rows, cols = np.nonzero(D)
    t, e = tau[rows, cols], E[rows, cols]
    e = e - e.min()
    s_e, n_e = np.bincount(e, weights=t)[e], np.bincount(e)[e]
    own, own_n = tau.sum(axis=1)[rows], D.sum(axis=1)[rows]
    bar = np.where(n_e > 1, (s_e - t) / np.maximum(n_e - 1, 1), (t.sum() - own) / np.maximum(len(t) - own_n, 1))
    out = np.zeros_like(tau)
    out[rows, cols] = bar
    return out


def imputed_means(selections: list[np.ndarray], tau: np.ndarray, eps: np.ndarray, resid0: np.ndarray,
                   fe: TwoWayFE) -> tuple[np.ndarray, np.ndarray]:
    """Means of the unit effects over selections of treated cells, and their influence functions.

    Parameters
    ----------
    selections : list of int arrays
        Flat (row-major) indices of treated cells; estimand k is the mean of tau over them.
    tau, eps, resid0 : ndarray, N x T
        Unit effects (0 off the treated cells), auxiliary residuals, fixed-effects residuals
        of the untreated cells (0 elsewhere).
    fe : TwoWayFE
        The fixed effects fitted on the untreated cells.

    Returns
    -------
    estimates : ndarray, K
    influence : ndarray, N x K
        Village influence functions, scaled as the Callaway–Sant'Anna ones (SE = norm / N).

    Notes
    -----
    Each estimate is linear in Y (BJS Theorem 1): weight w_it = 1/|selection| on its treated
    cells and -(a_i + l_t) on the untreated ones, where (a, l) are the fixed effects that
    least squares gives for the right-hand side Z'w. The influence of village i is
    sum_t v_it eps_it, evaluated without forming the N x T weights of every estimand.
    """
    N, T = tau.shape
    K = len(selections)
    k = np.repeat(np.arange(K), [len(sel) for sel in selections])
    cells = np.concatenate(selections)
    w = np.concatenate([np.full(len(sel), 1.0 / len(sel)) for sel in selections])
    unit, period = np.divmod(cells, T)
    estimates = np.bincount(k, weights=w * tau.ravel()[cells], minlength=K)
    a, lam = fe.solve(sparse.coo_matrix((w, (unit, k)), shape=(N, K)).toarray(),
                    sparse.coo_matrix((w, (period, k)), shape=(T, K)).toarray())
    treated_part = sparse.coo_matrix((w * eps.ravel()[cells], (unit, k)), shape=(N, K)).toarray()
    untreated_part = a * resid0.sum(axis=1)[:, None] + resid0 @ lam
    return estimates, (treated_part - untreated_part) * N


def bjs_leads(Y: np.ndarray, resid0: np.ndarray, fe: TwoWayFE, E: np.ndarray, lead_list: list[int],
               notes: list[str]):
    """BJS pre-trend regression: untreated Y on village and month FE plus lead indicators (untreated obs only).

    By Frisch–Waugh–Lovell: the lead indicators are partialled out of the fixed effects on
    the untreated cells (``resid0`` is Y's own residual), and the lead coefficients solve the
    small L-square system of the partialled leads, whose rank also tells whether leads are
    collinear with the fixed effects (every pre-period of every adopting village inside the
    window); then leads are dropped from the earliest. Returns the leads kept, their
    coefficients, N x L influence functions (village clusters, scaled as the CS ones) and
    their bootstrap t (:func:`._pretrend.bjs_lead_t`).
    """
    N = Y.shape[0]
    indicators = [fe.mask & (E == e) for e in lead_list]
    X = np.stack([fe.residuals(x.astype(float)) for x in indicators])    # L x N x T, 0 off the mask
    counts = np.array([x.sum() for x in indicators], dtype=float)       # X'X before partialling: diagonal
    while lead_list:
        A = np.tensordot(X, X, axes=([1, 2], [1, 2]))
        # share of each lead's variation left after the fixed effects and the other leads
        if np.linalg.eigvalsh(A / np.sqrt(np.outer(counts, counts))).min() > COLLINEAR_TOL:
            break
        notes.append(f"lead e={lead_list[0]} is collinear with the fixed effects and was dropped from the pre-trend "
                     "regression")
        lead_list, X, counts = lead_list[1:], X[1:], counts[1:]
    if not lead_list:
        return [], np.array([]), np.zeros((N, 0)), None
    V = np.tensordot(np.linalg.inv(A), X, axes=1)              # L x N x T: coefficient j = sum(V[j] * Y)
    coef = (V * Y[None]).sum(axis=(1, 2))
    resid = resid0 - np.tensordot(coef, X, axes=1)            # residuals of the full regression
    psi = (V * resid[None]).sum(axis=2).T                     # N x L
    return list(lead_list), coef, psi * N, bjs_lead_t(fe, resid0, X, V)
