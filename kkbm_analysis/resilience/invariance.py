"""Measurement invariance of the capacity model across groups (sex, provinces).

Before comparing capacity scores between women and men, or between provinces, the items
must measure the capacities the same way in each group. Three nested multi-group CFAs,
fitted jointly by maximum likelihood with a mean structure:

configural
    Same items on the same factors in every group; all parameters free per group
    (factors with variance 1 and mean 0 in each group).
metric (weak)
    Loadings equal across groups; factor variances free in all groups but the first.
scalar (strong)
    Loadings and item intercepts equal; factor means free in all groups but the first.
    Needed to compare means.

The multi-group likelihood is written here (semopy fits groups only separately):
``F = sum_g n_g / N [log|Sigma_g| + tr(S_g Sigma_g^-1) - log|S_g| - p + (m_g - mu_g)'
Sigma_g^-1 (m_g - mu_g)]``, ``chi2 = N F``, minimised with analytic gradients
(scipy L-BFGS-B). The configural chi-square equals the sum of the groups' separate CFA
chi-squares (a test checks it against semopy). A level holds when the fit does not
worsen by more than 0.01 in CFI and 0.015 in RMSEA from the level before (Chen 2007);
the likelihood-ratio test is reported beside it (with large samples it rejects trivial
differences).

Sample size: a group needs at least ``max(100, 10 x items)`` complete interviews; smaller
groups are left out (noted), and with fewer than two groups left no test is run and the
result says so plainly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..i18n import has_text, number, text
from ._base import ResilienceResult, check_lang, one_blas_thread
from .confirmatory import rmsea_interval
from .frames import item_fields, item_matrix

LEVELS = ("configural", "metric", "scalar")
DELTA_CFI = -0.01
DELTA_RMSEA = 0.015


def min_group_size(n_items: int) -> int:
    """Fewest complete interviews a group needs for the multi-group CFA."""
    return max(100, 10 * n_items)


class _Model:
    """Parameter layout of one invariance level for G groups."""

    def __init__(self, pattern: np.ndarray, G: int, level: str):
        p, m = pattern.shape
        self.p, self.m, self.G, self.level = p, m, G, level
        count = 0

        def new() -> int:
            nonlocal count
            count += 1
            return count - 1

        self.lam = np.full((G, p, m), -1)
        self.nu = np.full((G, p), -1)
        self.theta = np.full((G, p), -1)
        self.phi = np.full((G, m, m), -1)
        self.kappa = np.full((G, m), -1)
        shared_lam = level in ("metric", "scalar")
        shared_nu = level == "scalar"
        for g in range(G):
            for j, k in zip(*np.nonzero(pattern)):
                self.lam[g, j, k] = self.lam[0, j, k] if shared_lam and g else new()
            for j in range(p):
                self.nu[g, j] = self.nu[0, j] if shared_nu and g else new()
                self.theta[g, j] = new()
            for k in range(m):
                if shared_lam and g:
                    self.phi[g, k, k] = new()
                for j in range(k):
                    self.phi[g, k, j] = self.phi[g, j, k] = new()
                if shared_nu and g:
                    self.kappa[g, k] = new()
        self.n = count

    def unpack(self, x: np.ndarray, g: int) -> tuple[np.ndarray, ...]:
        """Group ``g``'s loadings, intercepts, residual variances, factor covariances and means."""
        return tuple(a[g] for a in self.unpack_all(x))

    def unpack_all(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        """:meth:`unpack` of every group at once, stacked along a first axis of length G."""
        take = lambda idx, fixed: np.where(idx >= 0, x[np.maximum(idx, 0)], fixed)  # noqa: E731
        return (take(self.lam, 0.0), take(self.nu, 0.0), take(self.theta, 0.0), take(self.phi, np.eye(self.m)),
                take(self.kappa, 0.0))

    def gradient_index(self) -> np.ndarray:
        """Per group, the parameter each gradient term of :func:`_objective` adds to (-1: none), G x K.

        The terms come group by group, in the order loadings, intercepts, residual variances,
        factor means, factor variances (the diagonal), factor covariances (below it).
        """
        eye = np.eye(self.m, dtype=bool)
        below = np.tril(np.ones((self.m, self.m), dtype=bool), -1)
        parts = [self.lam, self.nu, self.theta, self.kappa, np.where(eye, self.phi, -1), np.where(below, self.phi, -1)]
        return np.concatenate([a.reshape(self.G, -1) for a in parts], axis=1)

    def bounds(self) -> list[tuple[float | None, float | None]]:
        b: list[tuple[float | None, float | None]] = [(None, None)] * self.n
        for idx in self.theta.ravel():
            b[idx] = (1e-6, None)
        for g in range(self.G):
            for k in range(self.m):
                if self.phi[g, k, k] >= 0:
                    b[self.phi[g, k, k]] = (1e-4, None)
        return b


def _objective(x: np.ndarray, model: _Model, S: np.ndarray, means: np.ndarray, w: np.ndarray,
               index: np.ndarray) -> tuple[float, np.ndarray]:
    """The multi-group fit function (module docstring) and its gradient, every group at once.

    ``S`` and ``means`` are stacked per group, ``index`` is :meth:`_Model.gradient_index`. A
    group whose implied covariance is not positive definite ends the evaluation (1e10, with
    the gradient of the groups before it).
    """
    lam, nu, theta, phi, kappa = model.unpack_all(x)
    lam_t = np.swapaxes(lam, 1, 2)
    sigma = lam @ phi @ lam_t + theta[:, :, None] * np.eye(model.p)
    sign, logdet = np.linalg.slogdet(sigma)
    bad = np.flatnonzero(sign <= 0)
    G = bad[0] if len(bad) else model.G
    lam, lam_t, nu, phi, kappa, sigma, w = lam[:G], lam_t[:G], nu[:G], phi[:G], kappa[:G], sigma[:G], w[:G]
    A = np.linalg.inv(sigma)
    d = means[:G] - (nu + (lam @ kappa[:, :, None])[:, :, 0])
    M = S[:G] + d[:, :, None] * d[:, None, :]
    Gm = A - A @ M @ A
    g_mu = ((-2 * A) @ d[:, :, None])[:, :, 0]
    d_lam = 2 * Gm @ lam @ phi + g_mu[:, :, None] * kappa[:, None, :]
    d_phi = lam_t @ Gm @ lam
    terms = [w[:, None, None] * d_lam, w[:, None] * g_mu, w[:, None] * np.diagonal(Gm, axis1=1, axis2=2),
             w[:, None] * (lam_t @ g_mu[:, :, None])[:, :, 0], w[:, None, None] * d_phi,
             (w * 2)[:, None, None] * d_phi]
    values = np.concatenate([t.reshape(G, -1) for t in terms], axis=1).ravel()
    idx = index[:G].ravel()
    used = idx >= 0
    grad = np.bincount(idx[used], weights=values[used], minlength=len(x))
    if G < model.G:
        return 1e10, grad
    f = 0.0
    for term in w * (logdet + np.trace(M @ A, axis1=1, axis2=2)):
        f += term
    return f, grad


def _start(model: _Model, pattern: np.ndarray, S: list[np.ndarray], means: list[np.ndarray]) -> np.ndarray:
    x = np.zeros(model.n)
    for g in range(model.G):
        sd = np.sqrt(np.diag(S[g]))
        for j, k in zip(*np.nonzero(pattern)):
            x[model.lam[g, j, k]] = 0.7 * sd[j]
        x[model.nu[g]] = means[g]
        x[model.theta[g]] = 0.5 * sd**2
        for k in range(model.m):
            if model.phi[g, k, k] >= 0:
                x[model.phi[g, k, k]] = 1.0
            for j in range(k):
                x[model.phi[g, k, j]] = 0.3
    return x


def fit_level(groups: list[pd.DataFrame], pattern: np.ndarray, level: str) -> dict[str, float]:
    """Fit one invariance level; chi2, df, CFI, TLI, RMSEA (90 % CI), SRMR."""
    S = [g.cov(ddof=0).to_numpy() for g in groups]
    means = [g.mean().to_numpy() for g in groups]
    n = np.array([len(g) for g in groups], dtype=float)
    N, p, G = n.sum(), pattern.shape[0], len(groups)
    model = _Model(pattern, G, level)
    res = optimize.minimize(_objective, _start(model, pattern, S, means), jac=True,
                            args=(model, np.stack(S), np.stack(means), n / N, model.gradient_index()),
                            method="L-BFGS-B", bounds=model.bounds(), options={"maxiter": 5000, "ftol": 1e-13,
                                                                               "gtol": 1e-9})
    const = sum(w * (np.linalg.slogdet(s)[1] + p) for w, s in zip(n / N, S))
    chi2 = max(float(N * (res.fun - const)), 0.0)
    df = int(G * (p * (p + 1) // 2 + p) - model.n)
    chi2_b = float(sum(ng * (np.sum(np.log(np.diag(s))) - np.linalg.slogdet(s)[1]) for ng, s in zip(n, S)))
    df_b = G * p * (p - 1) // 2
    d, d_b = max(chi2 - df, 0.0), max(chi2_b - df_b, 0.0)
    srmr = []
    for g in range(G):
        lam, nu, theta, phi, kappa = model.unpack(res.x, g)
        sigma = lam @ phi @ lam.T + np.diag(theta)
        sd = np.sqrt(np.diag(S[g]))
        r = (S[g] - sigma) / np.outer(sd, sd)
        srmr.append(np.mean(r[np.triu_indices(p)] ** 2))
    lo, hi = rmsea_interval(chi2, df, int(N))
    return {"level": level, "chi2": chi2, "df": df, "p_value": float(stats.chi2.sf(chi2, df)),
            "cfi": 1 - d / max(d, d_b) if max(d, d_b) > 0 else 1.0,
            "tli": ((chi2_b / df_b) - (chi2 / df)) / ((chi2_b / df_b) - 1),
            "rmsea": float(np.sqrt(d / (df * (N - 1)))) * np.sqrt(G), "rmsea_ci_low": lo * np.sqrt(G),
            "rmsea_ci_high": hi * np.sqrt(G), "srmr": float(np.sqrt(np.average(srmr, weights=n))),
            "converged": bool(res.success)}


@dataclass
class InvarianceResult(ResilienceResult):
    """Result of :func:`measurement_invariance`.

    Attributes
    ----------
    estimates : DataFrame
        One row per level: ``level, chi2, df, p_value, cfi, tli, rmsea, rmsea_ci_low,
        rmsea_ci_high, srmr, converged, delta_chi2, delta_df, delta_p, delta_cfi,
        delta_rmsea, holds``. Empty when the sample cannot support the test.
    groups : DataFrame
        ``group, n, used``.
    supported : bool
        False when fewer than two groups are large enough (then nothing was fitted).
    """

    groups: pd.DataFrame = field(default_factory=pd.DataFrame)
    by: str = ""
    supported: bool = True
    _tables: tuple = (("groups", "Groups"),)
    title = "Measurement invariance of the capacity model"

    @property
    def highest_level(self) -> str | None:
        """The strictest level that holds (None if not even configural fits, or not tested)."""
        held = None
        for r in self.estimates.itertuples():
            if not r.holds:
                break
            held = r.level
        return held

    def interpretation(self, lang: str = "en") -> str:
        check_lang(lang)
        small = self.groups.loc[~self.groups["used"], "group"].tolist()
        group = f"resilience.group.{self.by}"
        by = text(group, lang) if has_text(group) else self.by
        if not self.supported:
            need = self.groups.attrs.get("minimum")
            return text("resilience.invariance.unsupported", lang, by=by,
                        need="" if need is None else number(need, 0, lang))
        top = self.highest_level
        out = text("resilience.invariance.highest", lang, by=by,
                   level=text(f"resilience.invariance_level.{top or 'none'}", lang))
        out += text("resilience.invariance.comparable" if top == "scalar" else "resilience.invariance.not_comparable",
                    lang)
        if small:
            out += text("resilience.invariance.left_out", lang, groups=", ".join(map(str, small)))
        return out


@one_blas_thread
def measurement_invariance(frame: pd.DataFrame, by: str, structure: dict[str, list[str]] | None = None, *,
                           round: str | None = "baseline") -> InvarianceResult:
    """Configural, metric and scalar invariance of the capacity model across ``by`` groups.

    Parameters
    ----------
    frame : DataFrame
        Interview rows (:func:`~kkbm_analysis.resilience.frames.analysis_frame`).
    by : str
        Grouping column, e.g. ``'sex'`` or ``'province_code'``.
    structure : dict, optional
        Factor -> items (default: the three capacities).
    """
    structure = structure or item_fields()
    items = [i for its in structure.values() for i in its]
    rows = frame if round is None or "round" not in frame else frame[frame["round"] == round]
    x = item_matrix(rows, items)
    x["_group"] = rows[by].astype("string").fillna("unknown").to_numpy()
    x = x.dropna()
    minimum = min_group_size(len(items))
    sizes = x["_group"].value_counts().sort_index()
    groups = pd.DataFrame({"group": sizes.index.astype(str), "n": sizes.to_numpy(), "used": sizes.to_numpy() >= minimum})
    groups.attrs["minimum"] = minimum
    notes = []
    if (~groups["used"]).any():
        notes.append(f"groups with fewer than {minimum} complete interviews left out: "
                     + ", ".join(f"{g} ({n})" for g, n in groups.loc[~groups["used"], ["group", "n"]].to_numpy()))
    used = groups.loc[groups["used"], "group"].tolist()
    synthetic = bool(frame.attrs.get("synthetic", False))
    if len(used) < 2:
        return InvarianceResult(pd.DataFrame(), int(len(x)), notes, synthetic, groups=groups, by=by, supported=False)
    data = [x.loc[x["_group"] == g, items] for g in used]
    pattern = np.array([[i in structure[f] for f in structure] for i in items])
    fits = pd.DataFrame([fit_level(data, pattern, level) for level in LEVELS])
    prev = fits.shift(1)
    fits["delta_chi2"] = fits["chi2"] - prev["chi2"]
    fits["delta_df"] = fits["df"] - prev["df"]
    fits["delta_p"] = [stats.chi2.sf(c, d) if d and d > 0 else np.nan for c, d in zip(fits["delta_chi2"], fits["delta_df"])]
    fits["delta_cfi"] = fits["cfi"] - prev["cfi"]
    fits["delta_rmsea"] = fits["rmsea"] - prev["rmsea"]
    fits["holds"] = [bool(r.cfi >= 0.90) if r.level == "configural" else
                     bool(r.delta_cfi >= DELTA_CFI and r.delta_rmsea <= DELTA_RMSEA) for r in fits.itertuples()]
    if not fits["converged"].all():
        notes.append("the optimiser did not converge for: " + ", ".join(fits.loc[~fits["converged"], "level"]))
    return InvarianceResult(fits, int(sum(len(d) for d in data)), notes, synthetic, groups=groups, by=by)
