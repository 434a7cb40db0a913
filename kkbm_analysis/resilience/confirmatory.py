"""Confirmatory factor analysis of the capacities (semopy), fit indices, and factor scores.

The model (default: the three capacities of the item bank, each measured by its items,
factors correlated) is fitted by maximum likelihood (semopy, objective ``MLW``) on the
baseline interviews with complete answers. The factors have variance 1 (all loadings
free), so a loading is the change in the expected 1-5 answer per standard deviation of the
capacity, and the factor covariances are correlations.

Fit indices: chi-square test, CFI, TLI and RMSEA with its 90 % interval (from the
chi-square and the baseline model, semopy), and SRMR, the root mean square of the
standardized residual covariances (computed here: semopy does not report it). Usual
cut-offs (Hu & Bentler 1999): CFI and TLI >= 0.95, RMSEA <= 0.06, SRMR <= 0.08.

Factor scores (:meth:`CFAResult.scores`): ``'bartlett'`` scores are unbiased for the
capacity (use them as an *outcome*, e.g. in the driver models); ``'regression'``
(Thurstone) scores are E[capacity | answers] (use them as a *covariate*: regression
calibration, e.g. in the recovery model). Rows with missing answers are scored from the
items they answered.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..i18n import number, text
from ._base import ResilienceResult, check_lang, complete_items, one_blas_thread, quiet_engines
from .frames import item_fields, item_matrix

Z95 = float(stats.norm.ppf(0.975))
CUTOFFS = {"cfi": 0.95, "tli": 0.95, "rmsea": 0.06, "srmr": 0.08}


def model_description(structure: dict[str, list[str]], *, correlated: bool = True) -> str:
    """semopy syntax of a CFA with unit-variance factors (every loading free).

    The factor covariances are written out, free or fixed at 0, in the order of ``structure``:
    left to semopy, they are added in the order of a Python set, so their place among the
    parameters, and with it the last digits of every estimate, would change with the
    interpreter's string hashing (``PYTHONHASHSEED``) from one process to the next.
    """
    lines = [f"{f} =~ " + " + ".join(f"l_{f}_{i}*{i}" for i in items) for f, items in structure.items()]
    lines += [f"{f} ~~ 1*{f}" for f in structure]
    factors = list(structure)
    fixed = "" if correlated else "0*"
    lines += [f"{a} ~~ {fixed}{b}" for k, a in enumerate(factors) for b in factors[k + 1:]]
    starts = " ".join(f"l_{f}_{i}" for f, items in structure.items() for i in items)
    lines.append(f"START(0.5) {starts}")
    return "\n".join(lines)


def fit_semopy(description: str, data: pd.DataFrame) -> Any:
    """Fit a semopy model by ML; returns the fitted model."""
    import semopy

    with quiet_engines():
        model = semopy.Model(description)
        model.fit(data, obj="MLW", solver="SLSQP", options={"ftol": 1e-12, "maxiter": 10_000})
    return model


@dataclass
class CFAResult(ResilienceResult):
    """Result of :func:`cfa`.

    Attributes
    ----------
    estimates : DataFrame
        Loadings: ``factor, item, estimate, std_error, ci_low, ci_high, p_value,
        standardized`` (the loading divided by the item's model SD).
    correlations : DataFrame
        ``factor_a, factor_b, estimate, std_error, ci_low, ci_high``.
    residual_variances : DataFrame
        ``item, estimate, std_error``.
    fit_indices : dict
        ``n, chi2, df, p_value, cfi, tli, rmsea, rmsea_ci_low, rmsea_ci_high, srmr, aic, bic``.
    structure : dict
        Factor -> items.
    means : Series
        Item means of the fitting sample (the intercepts).
    """

    correlations: pd.DataFrame = field(default_factory=pd.DataFrame)
    residual_variances: pd.DataFrame = field(default_factory=pd.DataFrame)
    fit_indices: dict = field(default_factory=dict)
    structure: dict = field(default_factory=dict)
    means: pd.Series = field(default_factory=pd.Series, repr=False)
    model: Any = field(default=None, repr=False)
    _tables: tuple = (("correlations", "Factor correlations"),)

    title = "Confirmatory factor analysis of the capacities (ML, unit-variance factors)"

    def _body(self) -> str:
        f = self.fit_indices
        head = (f"n = {f['n']:,}   chi2({f['df']}) = {f['chi2']:.1f}, p = {f['p_value']:.3g}   "
                f"CFI = {f['cfi']:.3f}   TLI = {f['tli']:.3f}   RMSEA = {f['rmsea']:.3f} "
                f"[{f['rmsea_ci_low']:.3f}, {f['rmsea_ci_high']:.3f}]   SRMR = {f['srmr']:.3f}")
        return head + "\n\nLoadings (answer points per SD of the capacity):\n" + super()._body()

    @property
    def good_fit(self) -> bool:
        """CFI and TLI >= 0.95, RMSEA <= 0.06 and SRMR <= 0.08 (Hu & Bentler 1999)."""
        f = self.fit_indices
        return (f["cfi"] >= CUTOFFS["cfi"] and f["tli"] >= CUTOFFS["tli"] and f["rmsea"] <= CUTOFFS["rmsea"]
                and f["srmr"] <= CUTOFFS["srmr"])

    def matrices(self) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
        """Loadings (items x factors), residual variances (items), factor correlations."""
        items = [i for its in self.structure.values() for i in its]
        factors = list(self.structure)
        lam = pd.DataFrame(0.0, index=items, columns=factors)
        for r in self.estimates.itertuples():
            lam.loc[r.item, r.factor] = r.estimate
        theta = self.residual_variances.set_index("item")["estimate"].reindex(items)
        phi = pd.DataFrame(np.eye(len(factors)), index=factors, columns=factors)
        for r in self.correlations.itertuples():
            phi.loc[r.factor_a, r.factor_b] = phi.loc[r.factor_b, r.factor_a] = r.estimate
        return lam, theta, phi

    def score_weights(self, method: str = "bartlett") -> pd.DataFrame:
        """Factor-score weights (items x factors) for complete answers."""
        lam, theta, phi = self.matrices()
        L, T, P = lam.to_numpy(), np.diag(theta.to_numpy()), phi.to_numpy()
        if method == "bartlett":
            Ti = np.linalg.inv(T)
            W = Ti @ L @ np.linalg.inv(L.T @ Ti @ L)
        elif method == "regression":
            W = np.linalg.solve(L @ P @ L.T + T, L @ P)
        else:
            raise ValueError("method must be 'bartlett' or 'regression'")
        return pd.DataFrame(W, index=lam.index, columns=lam.columns)

    def scores(self, frame: pd.DataFrame, method: str = "bartlett") -> pd.DataFrame:
        """Factor scores of every row of ``frame`` (missing answers: scored from the others).

        Returns a frame aligned with ``frame``, one column per factor (SD units; 0 = the
        mean of the fitting sample); rows answering none of a factor's items are NaN.
        """
        lam, theta, phi = self.matrices()
        items = list(lam.index)
        Y = item_matrix(frame, items).to_numpy() - self.means.reindex(items).to_numpy()
        out = np.full((len(frame), lam.shape[1]), np.nan)
        seen = ~np.isnan(Y)
        patterns, inverse = np.unique(seen, axis=0, return_inverse=True)
        for p, obs in enumerate(patterns):
            rows = np.flatnonzero(inverse.ravel() == p)
            if not obs.any():
                continue
            L = lam.to_numpy()[obs]
            T = np.diag(theta.to_numpy()[obs])
            if method == "bartlett":
                Ti = np.linalg.inv(T)
                info = L.T @ Ti @ L
                answered = np.abs(L).sum(axis=0) > 0
                W = np.full((obs.sum(), L.shape[1]), np.nan)
                if answered.any():
                    sub = info[np.ix_(answered, answered)]
                    W[:, answered] = Ti @ L[:, answered] @ np.linalg.inv(sub)
            else:
                P = phi.to_numpy()
                W = np.linalg.solve(L @ P @ L.T + T, L @ P)
            out[rows] = Y[np.ix_(rows, np.flatnonzero(obs))] @ W
        return pd.DataFrame(out, index=frame.index, columns=list(lam.columns))

    def interpretation(self, lang: str = "en") -> str:
        check_lang(lang)
        f = self.fit_indices
        weakest = self.estimates.sort_values("standardized").iloc[0]
        verdict = text("resilience.cfa.fit_good" if self.good_fit else "resilience.cfa.fit_poor", lang)
        return text("resilience.cfa.text", lang, n=number(f["n"], 0, lang), verdict=verdict,
                    cfi=number(f["cfi"], 3, lang), rmsea=number(f["rmsea"], 3, lang), srmr=number(f["srmr"], 3, lang),
                    item=weakest["item"], loading=number(weakest["standardized"], 2, lang))


@one_blas_thread
def cfa(frame: pd.DataFrame, structure: dict[str, list[str]] | None = None, *, round: str | None = "baseline",
        correlated: bool = True, robust: bool = False) -> CFAResult:
    """Fit the confirmatory factor model (module docstring).

    Parameters
    ----------
    frame : DataFrame
        Interview rows (e.g. :func:`~kkbm_analysis.resilience.frames.analysis_frame`).
    structure : dict, optional
        Factor -> item columns (default: the three capacities of the item bank).
    round : str or None
        Survey round to fit on (default ``'baseline'``: one interview per member);
        ``None`` uses every row.
    correlated : bool
        Whether the factors correlate (False: orthogonal, for comparisons).
    robust : bool
        Sandwich (MLR-type) standard errors instead of the expected-information ones.
    """
    structure = structure or item_fields()
    notes: list[str] = []
    rows = frame if round is None or "round" not in frame else frame[frame["round"] == round]
    items = [i for its in structure.values() for i in its]
    data = complete_items(item_matrix(rows, items), "the factor model", notes)
    model = fit_semopy(model_description(structure, correlated=correlated), data)
    return _result(model, data, structure, notes, robust, bool(frame.attrs.get("synthetic", False)))


def _result(model: Any, data: pd.DataFrame, structure: dict[str, list[str]], notes: list[str], robust: bool,
            synthetic: bool) -> CFAResult:
    with quiet_engines():
        est = model.inspect(se_robust=robust)
    est = est.rename(columns={"Estimate": "estimate", "Std. Err": "std_error", "p-value": "p_value"})
    est["std_error"] = pd.to_numeric(est["std_error"], errors="coerce")
    est["p_value"] = pd.to_numeric(est["p_value"], errors="coerce")
    factors = set(structure)
    load = est[(est["op"] == "~") & est["rval"].isin(factors)].rename(columns={"rval": "factor", "lval": "item"})
    load = _with_ci(load[["factor", "item", "estimate", "std_error", "p_value"]])
    sigma, cols = _implied(model)
    sd = pd.Series(np.sqrt(np.diag(sigma)), index=cols)
    load["standardized"] = load["estimate"] / load["item"].map(sd)
    cov = est[(est["op"] == "~~") & est["lval"].isin(factors) & est["rval"].isin(factors)
              & (est["lval"] != est["rval"])].rename(columns={"lval": "factor_a", "rval": "factor_b"})
    cov = _with_ci(cov[["factor_a", "factor_b", "estimate", "std_error"]])
    res = est[(est["op"] == "~~") & (est["lval"] == est["rval"]) & ~est["lval"].isin(factors)]
    res = res.rename(columns={"lval": "item"})[["item", "estimate", "std_error"]].reset_index(drop=True)
    return CFAResult(load.reset_index(drop=True), len(data), notes, synthetic, correlations=cov.reset_index(drop=True),
                     residual_variances=res, fit_indices=fit_indices(model, data), structure=dict(structure),
                     means=data.mean(), model=model)


def _with_ci(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["ci_low"] = df["estimate"] - Z95 * df["std_error"]
    df["ci_high"] = df["estimate"] + Z95 * df["std_error"]
    return df


def _implied(model: Any) -> tuple[np.ndarray, list[str]]:
    sigma = model.calc_sigma()[0]
    return sigma, list(model.vars["observed"])


def fit_indices(model: Any, data: pd.DataFrame) -> dict[str, float]:
    """chi2, df, p, CFI, TLI, RMSEA (90 % CI), SRMR, AIC, BIC of a fitted semopy model.

    Computed from the ML discrepancy ``F = log|Sigma| + tr(S Sigma^-1) - log|S| - p``
    (S: covariance with divisor n) as ``chi2 = n F``; the baseline model has free
    variances and zero covariances. semopy's own ``calc_stats`` rebuilds the model from its
    text and cannot when it starts values, so the same formulas are applied here.
    """
    sigma, cols = _implied(model)
    S = data[cols].cov(ddof=0).to_numpy()
    n, p = len(data), len(cols)
    exo = len(set(model.vars["exogenous"]) & set(cols))  # observed covariates: their (co)variances are
    k = len(model.param_vals) + exo * (exo + 1) // 2   # taken from the sample, as lavaan's fixed.x does
    chi2 = n * ml_discrepancy(S, sigma)
    df = p * (p + 1) // 2 - k
    chi2_b = n * ml_discrepancy(S, np.diag(np.diag(S)))
    df_b = p * (p - 1) // 2
    d, d_b = max(chi2 - df, 0.0), max(chi2_b - df_b, 0.0)
    cfi = 1 - d / max(d, d_b) if max(d, d_b) > 0 else 1.0
    tli = ((chi2_b / df_b) - (chi2 / df)) / ((chi2_b / df_b) - 1) if df > 0 else float("nan")
    rmsea = float(np.sqrt(d / (df * (n - 1)))) if df > 0 else float("nan")
    lo, hi = rmsea_interval(chi2, df, n)
    minus2ll = n * (np.linalg.slogdet(sigma)[1] + np.trace(S @ np.linalg.inv(sigma)) + p * np.log(2 * np.pi))
    return {"n": n, "chi2": float(chi2), "df": int(df), "p_value": float(stats.chi2.sf(chi2, df)) if df > 0 else 1.0,
            "cfi": float(cfi), "tli": float(tli), "rmsea": rmsea, "rmsea_ci_low": lo, "rmsea_ci_high": hi,
            "srmr": srmr(S, sigma), "aic": float(minus2ll + 2 * k), "bic": float(minus2ll + k * np.log(n))}


def ml_discrepancy(S: np.ndarray, sigma: np.ndarray) -> float:
    """The ML fit function ``log|Sigma| + tr(S Sigma^-1) - log|S| - p``."""
    return float(np.linalg.slogdet(sigma)[1] + np.trace(S @ np.linalg.inv(sigma)) - np.linalg.slogdet(S)[1]
                 - S.shape[0])


def srmr(sample_cov: np.ndarray, implied_cov: np.ndarray) -> float:
    """Standardized root mean square residual over the unique (co)variances (Bentler)."""
    sd = np.sqrt(np.diag(sample_cov))
    resid = (sample_cov - implied_cov) / np.outer(sd, sd)
    iu = np.triu_indices(len(sd))
    return float(np.sqrt(np.mean(resid[iu] ** 2)))


def rmsea_interval(chi2: float, df: int, n: int, level: float = 0.90) -> tuple[float, float]:
    """RMSEA confidence interval by inverting the noncentral chi-square in its noncentrality."""
    if df <= 0:
        return float("nan"), float("nan")
    upper_p, lower_p = (1 + level) / 2, (1 - level) / 2

    def bound(p: float) -> float:
        f = lambda lam: stats.ncx2.cdf(chi2, df, lam) - p  # noqa: E731
        if f(1e-9) < 0:  # even a central chi-square puts chi2 below this quantile
            return 0.0
        hi = max(2 * chi2, 10.0)
        while f(hi) > 0:
            hi *= 2
        return optimize.brentq(f, 1e-9, hi)

    lam_lo, lam_hi = bound(upper_p), bound(lower_p)
    return (float(np.sqrt(lam_lo / (df * (n - 1)))), float(np.sqrt(lam_hi / (df * (n - 1)))))


def compare_models(frame: pd.DataFrame, models: dict[str, dict[str, list[str]]], **kwargs: Any) -> pd.DataFrame:
    """Fit several structures on the same rows; one row of fit indices per model."""
    rows = []
    for name, structure in models.items():
        r = cfa(frame, structure, **kwargs)
        rows.append({"model": name, **r.fit_indices, "good_fit": r.good_fit})
    return pd.DataFrame(rows)


def one_factor_structure(structure: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    """Every item on a single factor: the usual misspecified rival of a multi-factor model."""
    structure = structure or item_fields()
    return {"general": [i for its in structure.values() for i in its]}
