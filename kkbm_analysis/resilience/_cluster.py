"""Cluster-robust OLS inference with few clusters: CR2 with Bell-McCaffrey degrees of freedom.

With a few dozen communities, and covariates that vary at the community level (staffing,
village government, Perdes), the usual cluster-robust (CR1) standard errors are too small.
The fix recommended by Imbens & Kolesar (2016) and Pustejovsky & Tipton (2018):

CR2 (Bell & McCaffrey 2002)
    ``V = M [sum_g X_g' A_g e_g e_g' A_g X_g] M`` with ``M = (X'X)^-1`` and the
    adjustment ``A_g = (I - H_gg)^(-1/2)``, ``H_gg = X_g M X_g'``.
Degrees of freedom (Bell-McCaffrey, working model: independent errors)
    For coefficient k, with ``G_g = (I - H)_g' A_g X_g M e_k`` (one column per cluster),
    ``df = (sum_g G_g'G_g)^2 / sum_{g,h} (G_g'G_h)^2``; intervals use t(df).

statsmodels fits the model (``OLS``); its CR1 errors stay available (``se='cr1'``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def _inv_sqrt(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((a + a.T) / 2)
    w = np.clip(w, 1e-12, None)
    return (v / np.sqrt(w)) @ v.T


def cr2(X: np.ndarray, resid: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CR2 variance matrix of OLS coefficients and Bell-McCaffrey df per coefficient.

    The df need the cluster-by-cluster products ``G_g'G_h`` (module docstring). Since
    ``(I - H)_g = E_g - X M X_g'`` and ``M X'X M = M``, they reduce to
    ``G_g'G_h = [g = h] |a_g|^2 - b_g' M b_h`` with ``a_g = A_g X_g M e_k`` and
    ``b_g = X_g' a_g``: a diagonal minus a rank-k matrix, so the sums the df need are
    computed from k x k matrices, in time and memory linear in the rows.
    """
    X = np.asarray(X, dtype=float)
    k = X.shape[1]
    M = np.linalg.inv(X.T @ X)
    codes, labels = pd.factorize(pd.Series(groups))
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
    meat = np.zeros((k, k))
    d = np.empty((len(labels), k))        # d[g, j] = |a_g|^2 for coefficient j
    B = np.empty((len(labels), k, k))     # B[g][:, j] = b_g for coefficient j
    for g in range(len(labels)):
        idx = order[bounds[g]:bounds[g + 1]]
        Xg = X[idx]
        A = _inv_sqrt(np.eye(len(idx)) - Xg @ M @ Xg.T)
        AX = A @ Xg
        u = AX.T @ resid[idx]
        meat += np.outer(u, u)
        a = AX @ M                        # n_g x k: column j is a_g for coefficient j
        d[g] = np.einsum("ij,ij->j", a, a)
        B[g] = Xg.T @ a
    V = M @ meat @ M
    MB = np.einsum("kl,glj->gkj", M, B)  # M b_g per coefficient
    c = np.einsum("gkj,gkj->gj", B, MB)  # diagonal of B'MB per coefficient
    S = np.einsum("gkj,glj->jkl", B, B)  # sum_g b_g b_g' per coefficient
    MS = np.einsum("kl,jlm->jkm", M, S)
    frob = np.einsum("jkl,jlk->j", MS, MS)  # |B'MB|_F^2 = trace(M S M S)
    trace = d.sum(axis=0) - c.sum(axis=0)
    squares = (d**2).sum(axis=0) - 2 * (d * c).sum(axis=0) + frob
    return V, trace**2 / squares


def cluster_table(fit, groups: np.ndarray, se: str = "cr2") -> pd.DataFrame:
    """Tidy estimates of a fitted statsmodels OLS with cluster-robust 95 % intervals.

    ``se='cr2'``: CR2 with Bell-McCaffrey t degrees of freedom (default); ``'cr1'``:
    statsmodels' cluster-robust errors with t(clusters - 1).
    """
    names = list(fit.model.exog_names)
    est = np.asarray(fit.params, dtype=float)
    if se == "cr2":
        V, df = cr2(fit.model.exog, np.asarray(fit.resid, dtype=float), groups)
        bse = np.sqrt(np.diag(V))
    elif se == "cr1":
        codes = pd.factorize(pd.Series(groups))[0]
        robust = fit.get_robustcov_results(cov_type="cluster", groups=codes)
        bse = np.asarray(robust.bse, dtype=float)
        df = np.full(len(est), len(np.unique(codes)) - 1.0)
    else:
        raise ValueError("se must be 'cr2' or 'cr1'")
    crit = stats.t.ppf(0.975, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.t.sf(np.abs(est / bse), df)
    return pd.DataFrame({"term": names, "estimate": est, "std_error": bse, "ci_low": est - crit * bse,
                         "ci_high": est + crit * bse, "p_value": p, "df": df})
