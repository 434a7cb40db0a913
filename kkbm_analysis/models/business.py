"""What drives running a business a year after training: logistic models of Y12.

Three estimators of the same covariate effects (``method=``):

``"glm"`` (default)
    Logistic regression (statsmodels ``GLM``, binomial, logit link) with standard errors
    clustered by community (``cov_type="cluster"``, with the usual small-sample factor).
    Its coefficients are *population-averaged* (marginal) log odds ratios: averaged over
    communities, they are smaller in size than the community-specific ones when
    communities differ (for a random-intercept SD of 0.3 by about 1.5 %). In the
    synthetic ground truth they correspond to ``business_y12.marginal_log_or_points``.
``"gee"``
    Generalised estimating equations (statsmodels ``GEE``) with an exchangeable working
    correlation within communities and robust (sandwich) errors. Also population-averaged.
``"mixed"``
    A random-intercept logistic model (GLMM) ``logit P(Y12) = x'b + v_c``,
    ``v_c ~ N(0, sd^2)``, fitted by maximum likelihood with adaptive Gauss-Hermite
    quadrature (15 nodes per community, implemented here; standard errors from the
    numerical Hessian of the log likelihood, computed with statsmodels' ``approx_hess3``).
    Its coefficients are *conditional* (community-specific) log odds ratios: the ground
    truth's ``business_y12.beta_points`` etc. We chose maximum likelihood over
    statsmodels' ``BinomialBayesMixedGLM`` because its variational-Bayes posterior
    standard deviations are not frequentist standard errors (and tend to be too small).

Average marginal effects (``BusinessModelResult.marginal_effects``) are on the
probability scale, averaged over the analysed members: the change in P(Y12) for one more
mentoring point (a discrete change of +1), for a binary covariate from 0 to 1, and the
derivative for continuous ones; delta-method standard errors. For ``"mixed"`` they are
computed at v_c = 0 (a typical community), for ``"glm"``/``"gee"`` they are population
averages (the ground truth's ``business_y12.ame_points``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special

from ..data import ProgramData
from ..i18n import check_lang, ci_label, has_text, number, p_value, text
from ._base import (ModelInputError, ModelResult, check_clusters, check_events, check_min_rows, check_separation,
                    check_variation, one_blas_thread, table_text, wald_table, warn)
from .frames import DEFAULT_COVARIATES, business_outcome_frame, is_synthetic

METHODS = ("glm", "gee", "mixed")
COUNT_COVARIATES = ("points",)
AGQ_NODES = 15


@dataclass
class BusinessModelResult(ModelResult):
    """Result of :func:`business_running_model`.

    Attributes
    ----------
    estimates : DataFrame
        ``term, estimate`` (log odds ratio), ``std_error, ci_low, ci_high, p_value,
        odds_ratio, odds_ratio_ci_low, odds_ratio_ci_high``; the intercept is ``const``.
    marginal_effects : DataFrame
        ``term, ame, std_error, ci_low, ci_high, p_value`` (probability scale).
    method : str
        ``'glm'``, ``'gee'`` or ``'mixed'``.
    scale : str
        ``'population-averaged'`` or ``'conditional (community-specific)'``.
    n_clusters : int
    outcome_rate : float
        Share of members with Y12 = 1.
    random_effect_sd : dict or None
        For ``'mixed'``: ``estimate, ci_low, ci_high`` of the community SD.
    frame : DataFrame
        The analysis frame (see :func:`~kkbm_analysis.models.business_outcome_frame`).
    fit : object
        The underlying statsmodels results (or the optimiser result for ``'mixed'``).
    """

    marginal_effects: pd.DataFrame = field(default_factory=pd.DataFrame)
    method: str = "glm"
    scale: str = "population-averaged"
    n_clusters: int = 0
    outcome_rate: float = float("nan")
    random_effect_sd: dict | None = None
    frame: pd.DataFrame | None = field(default=None, repr=False)
    fit: Any = field(default=None, repr=False)

    @property
    def title(self) -> str:  # type: ignore[override]
        name = {"glm": "logistic GLM, SEs clustered by community",
                "gee": "GEE logistic, exchangeable within community",
                "mixed": "random-intercept logistic (GLMM, adaptive quadrature)"}[self.method]
        return f"Running a business one year after training (Y12): {name}"

    def _body(self) -> str:
        est = self.estimates[["term", "estimate", "std_error", "p_value", "odds_ratio", "odds_ratio_ci_low",
                              "odds_ratio_ci_high"]]
        parts = [f"Members: {self.n_obs:,}   communities: {self.n_clusters}   share with Y12 = 1: "
                 f"{number(self.outcome_rate, 1, 'en', percent=True)}   coefficients: {self.scale}",
                 "Log odds ratios and odds ratios (95% CI):\n" + table_text(est)]
        if len(self.marginal_effects):
            parts.append("Average marginal effects (probability scale):\n" + table_text(self.marginal_effects))
        if self.random_effect_sd:
            r = self.random_effect_sd
            parts.append(f"Community random-intercept SD: {number(r['estimate'], 3)} "
                         f"(95% CI {number(r['ci_low'], 3)}–{number(r['ci_high'], 3)})")
        return "\n\n".join(parts)

    def interpretation(self, lang: str = "en", term: str = "points") -> str:
        """A sentence on one covariate's effect (default: mentoring points), from the numbers."""
        check_lang(lang)
        r = self.term(term)
        orr, lo, hi = r["odds_ratio"], r["odds_ratio_ci_low"], r["odds_ratio_ci_high"]
        change = abs(orr - 1)
        signif = r["p_value"] < 0.05
        ame = self.marginal_effects.set_index("term").loc[term] if term in set(self.marginal_effects["term"]) else None
        key = f"model.covariate.{term}"
        label = text(key, lang) if has_text(key) else term
        subject = (text("model.business.subject_points", lang) if term == "points"
                   else text("model.business.subject_other", lang, label=label, Label=label[:1].upper() + label[1:]))
        words = text("model.business.effect", lang, subject=subject,
                     verb=text("model.business.raises" if orr >= 1 else "model.business.lowers", lang),
                     change=number(change, 0, lang, percent=True), odds_ratio=number(orr, 2, lang),
                     ci=ci_label(lo, hi, 2, lang), p=p_value(r["p_value"], lang))
        if ame is not None:
            words += text("model.business.marginal", lang, ame=_pp(ame["ame"], lang, signed=True),
                          lo=_pp(ame["ci_low"], lang), hi=_pp(ame["ci_high"], lang))
        scale = "model.business.scale_community" if self.method == "mixed" else "model.business.scale_population"
        words += text("model.business.sample", lang, scale=text(scale, lang), n=number(self.n_obs, 0, lang),
                      k=self.n_clusters)
        if not signif:
            words += text("model.not_significant", lang)
        return words


def _pp(x: float, lang: str, signed: bool = False) -> str:
    """A probability difference in percentage points, e.g. '+7.5' / '+7,5'."""
    return number(100 * x, 1, lang, signed=signed)


@one_blas_thread
def business_running_model(data: ProgramData | pd.DataFrame, *, covariates: Sequence[str] = DEFAULT_COVARIATES,
                           method: str = "glm", as_of: Any = None) -> BusinessModelResult:
    """Logistic model of Y12 (running a business a year after the entry training).

    Parameters
    ----------
    data : ProgramData or DataFrame
        Programme data, or a frame shaped like :func:`business_outcome_frame` (columns
        ``y12``, ``community_id`` and the covariates).
    covariates : sequence of str
        Columns of the analysis frame (default: mentoring points, members per staff per 10,
        KUR approved before t12, female, years abroad).
    method : {'glm', 'gee', 'mixed'}
        See the module docstring: population-averaged (GLM with community-clustered SEs,
        GEE exchangeable) or conditional (random-intercept GLMM).
    as_of : date-like, optional
        Observation end (default: from the data).

    Returns
    -------
    BusinessModelResult

    Raises
    ------
    ModelInputError
        Too few members (< 50) or events (< 10 per coefficient), fewer than 2 communities,
        no variation in the outcome or a covariate, or (quasi-)complete separation.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    notes: list[str] = []
    synthetic = is_synthetic(data)
    frame = data if isinstance(data, pd.DataFrame) else business_outcome_frame(data, as_of=as_of, notes=notes)
    covariates = list(covariates)
    missing = [c for c in ["y12", "community_id", *covariates] if c not in frame.columns]
    if missing:
        raise ModelInputError(f"the analysis frame lacks {missing}")
    df = frame.dropna(subset=["y12", "community_id", *covariates])
    if len(df) < len(frame):
        notes.append(f"{len(frame) - len(df):,} members with a missing covariate were left out")
    check_min_rows(len(df), "the Y12 model")
    check_variation(df, ["y12"], role="outcome")
    check_variation(df, covariates)
    y = df["y12"].to_numpy(dtype=float)
    names = ["const", *covariates]
    X = np.column_stack([np.ones(len(df)), df[covariates].to_numpy(dtype=float)])
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ModelInputError(f"the covariates {covariates} are collinear (one is a combination of the others)")
    check_events(int(min(y.sum(), len(y) - y.sum())), len(names), "the Y12 model")
    check_separation(y, X, names)
    groups = pd.factorize(df["community_id"].astype("string"))[0]
    k = check_clusters(pd.Series(groups), notes)
    if method == "glm":
        params, cov, fit = _fit_glm(y, X, groups)
        re_sd = None
    elif method == "gee":
        params, cov, fit = _fit_gee(y, X, groups)
        re_sd = None
    else:
        params, cov, fit, re_sd = _fit_mixed(y, X, groups, notes)
    se = np.sqrt(np.diag(cov))
    est = wald_table(names, params, se, exp_label="odds_ratio")
    me = _marginal_effects(X, names, params, cov)
    scale = "conditional (community-specific)" if method == "mixed" else "population-averaged"
    return BusinessModelResult(estimates=est, n_obs=len(df), notes=notes, synthetic=synthetic, marginal_effects=me,
                               method=method, scale=scale, n_clusters=k, outcome_rate=float(y.mean()),
                               random_effect_sd=re_sd, frame=df.reset_index(drop=True), fit=fit)


# ----------------------------------------------------------------------------- estimators
def _fit_glm(y: np.ndarray, X: np.ndarray, groups: np.ndarray):
    import statsmodels.api as sm

    fit = sm.GLM(y, X, family=sm.families.Binomial()).fit(cov_type="cluster", cov_kwds={"groups": groups})
    _check_converged(fit.params, fit.cov_params())
    return np.asarray(fit.params), np.asarray(fit.cov_params()), fit


def _fit_gee(y: np.ndarray, X: np.ndarray, groups: np.ndarray):
    import statsmodels.api as sm

    model = sm.GEE(y, X, groups=groups, family=sm.families.Binomial(), cov_struct=sm.cov_struct.Exchangeable())
    fit = model.fit(maxiter=100)
    _check_converged(fit.params, fit.cov_params())
    return np.asarray(fit.params), np.asarray(fit.cov_params()), fit


def _check_converged(params: Any, cov: Any) -> None:
    params, cov = np.asarray(params), np.asarray(cov)
    if not (np.all(np.isfinite(params)) and np.all(np.isfinite(np.diag(cov)))):
        raise ModelInputError("the model did not converge to finite estimates (check for separation or "
                              "collinearity among the covariates)")


def _agq_setup(groups: np.ndarray) -> dict:
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    nodes, weights = np.polynomial.hermite.hermgauss(AGQ_NODES)
    return {"order": order, "g": g, "starts": starts, "nc": len(starts), "nodes": nodes, "logw": np.log(weights)}


def _agq_loglik(theta: np.ndarray, y: np.ndarray, X: np.ndarray, s: dict) -> float:
    """Log likelihood of the random-intercept logit by adaptive Gauss-Hermite quadrature."""
    beta, sigma = theta[:-1], float(np.exp(theta[-1]))
    eta = X @ beta
    g, nc = s["g"], s["nc"]
    v = np.zeros(nc)
    for _ in range(50):  # Newton for the mode of each community's integrand (concave)
        p = special.expit(eta + v[g])
        grad = np.bincount(g, y - p, nc) - v / sigma**2
        hess = -np.bincount(g, p * (1 - p), nc) - 1 / sigma**2
        step = grad / hess
        v -= step
        if np.max(np.abs(step)) < 1e-12:
            break
    p = special.expit(eta + v[g])
    scale = 1 / np.sqrt(np.bincount(g, p * (1 - p), nc) + 1 / sigma**2)
    vq = v[:, None] + np.sqrt(2) * scale[:, None] * s["nodes"][None, :]          # nc x Q
    e = eta[:, None] + vq[g]                                                         # n x Q
    ll = y[:, None] * e - np.logaddexp(0, e)
    h = np.add.reduceat(ll, s["starts"], axis=0) - vq**2 / (2 * sigma**2)           # nc x Q
    inner = special.logsumexp(s["logw"][None, :] + h + s["nodes"][None, :] ** 2, axis=1)
    return float(np.sum(np.log(np.sqrt(2) * scale) - 0.5 * np.log(2 * np.pi * sigma**2) + inner))


def _fit_mixed(y: np.ndarray, X: np.ndarray, groups: np.ndarray, notes: list[str]):
    from statsmodels.tools.numdiff import approx_hess3

    s = _agq_setup(groups)
    ys, Xs = y[s["order"]], X[s["order"]]
    start_beta, _, _ = _fit_glm(y, X, groups)
    theta0 = np.r_[start_beta, np.log(0.5)]
    lower = np.log(1e-3)
    bounds = [(None, None)] * X.shape[1] + [(lower, np.log(20.0))]
    res = optimize.minimize(lambda t: -_agq_loglik(t, ys, Xs, s), theta0, method="L-BFGS-B", bounds=bounds,
                            options={"maxiter": 500, "ftol": 1e-12, "gtol": 1e-7})
    theta = res.x
    if theta[-1] <= lower + 1e-3:
        warn("the community random-intercept SD is estimated at (nearly) zero: the mixed model reduces to an "
             "ordinary logistic regression, and its standard errors ignore clustering", notes)
        hess = approx_hess3(theta[:-1], lambda b: _agq_loglik(np.r_[b, theta[-1]], ys, Xs, s))
        cov_beta = np.linalg.inv(-hess)
        re = {"estimate": float(np.exp(theta[-1])), "ci_low": 0.0, "ci_high": float("nan")}
        return theta[:-1], cov_beta, res, re
    hess = approx_hess3(theta, lambda t: _agq_loglik(t, ys, Xs, s))
    try:
        cov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        raise ModelInputError("the mixed model's information matrix is singular (the random-intercept SD or a "
                              "coefficient is not identified by these data)") from None
    if not res.success or np.any(np.diag(cov) <= 0):
        raise ModelInputError(f"the mixed model did not converge ({res.message}); try method='glm'")
    se_log = float(np.sqrt(cov[-1, -1]))
    re = {"estimate": float(np.exp(theta[-1])), "ci_low": float(np.exp(theta[-1] - 1.959964 * se_log)),
          "ci_high": float(np.exp(theta[-1] + 1.959964 * se_log))}
    return theta[:-1], cov[:-1, :-1], res, re


# ----------------------------------------------------------------------------- marginal effects
def _binary(X: np.ndarray) -> list[bool]:
    """Whether each column of ``X`` holds only 0 and 1."""
    return [bool(((x == 0.0) | (x == 1.0)).all()) for x in X.T]


def _ame(beta: np.ndarray, X: np.ndarray, names: Sequence[str], binary: Sequence[bool]) -> np.ndarray:
    """Average marginal effect of each covariate: a count's next unit, a 0/1 covariate's switch from 0 to 1
    (``binary``: per column of ``X``), otherwise the derivative."""
    eta = X @ beta
    p = special.expit(eta)
    out = []
    for j, name in enumerate(names):
        if name == "const":
            continue
        x = X[:, j]
        if name in COUNT_COVARIATES:
            out.append(np.mean(special.expit(eta + beta[j]) - p))
        elif binary[j]:
            base = eta - beta[j] * x
            out.append(np.mean(special.expit(base + beta[j]) - special.expit(base)))
        else:
            out.append(np.mean(p * (1 - p)) * beta[j])
    return np.asarray(out)


def _marginal_effects(X: np.ndarray, names: Sequence[str], beta: np.ndarray, cov: np.ndarray) -> pd.DataFrame:
    """Average marginal effects with delta-method standard errors (numerical Jacobian)."""
    binary = _binary(X)
    base = _ame(beta, X, names, binary)
    jac = np.empty((len(base), len(beta)))
    for k in range(len(beta)):
        h = 1e-6 * max(1.0, abs(beta[k]))
        up, down = beta.copy(), beta.copy()
        up[k] += h
        down[k] -= h
        jac[:, k] = (_ame(up, X, names, binary) - _ame(down, X, names, binary)) / (2 * h)
    se = np.sqrt(np.diag(jac @ cov @ jac.T))
    out = wald_table([n for n in names if n != "const"], base, se)
    return out.rename(columns={"estimate": "ame"})
