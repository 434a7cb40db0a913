"""Item analysis and exploratory factor analysis of the resilience scales.

Item analysis (:func:`item_analysis`), per scale, on the interviews of one round with every
item of the scale answered:

Cronbach's alpha
    ``k / (k - 1) * (1 - sum(item variances) / variance(sum))``, with Feldt's (1965)
    95 % interval ``1 - (1 - alpha) * F`` (F quantiles with ``n - 1`` and
    ``(n - 1)(k - 1)`` degrees of freedom).
McDonald's omega (total)
    ``(sum l)^2 / ((sum l)^2 + sum theta)`` from a one-factor ML model of the scale
    (semopy; unit-variance factor, loadings ``l``, residual variances ``theta``).
Per item
    mean, SD, the item-rest correlation (with the sum of the other items), alpha if the
    item is dropped, and the floor and ceiling shares (answers at the lowest and highest
    point: above 15 % each is the usual warning).

Exploratory factor analysis (:func:`efa`): ``factor_analyzer`` (ML extraction, oblimin
rotation by default), with the Kaiser-Meyer-Olkin measure, Bartlett's test of sphericity,
and Horn's parallel analysis for the number of factors (eigenvalues of the correlation
matrix against the 95th percentile of those of random normal data of the same size).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..i18n import number, text
from ._base import (MIN_SCALE_N, ModelInputError, ResilienceResult, check_lang, complete_items, label, one_blas_thread,
                    quiet_engines)
from .confirmatory import fit_semopy, model_description
from .frames import item_fields, item_matrix
from ..item_bank import CAPACITIES, load_item_bank

FLOOR_CEILING_WARNING = 0.15
ALPHA_ACCEPTABLE = 0.70
DEFAULT_SCALES = (*CAPACITIES, "protective_individual", "protective_social")


def cronbach_alpha(items: pd.DataFrame) -> float:
    """Cronbach's alpha of complete item answers."""
    x = items.to_numpy(dtype=float)
    k = x.shape[1]
    return float(k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1)))


def alpha_interval(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    """Feldt's interval for Cronbach's alpha."""
    d1, d2 = n - 1, (n - 1) * (k - 1)
    lo = 1 - (1 - alpha) * stats.f.ppf((1 + level) / 2, d1, d2)
    hi = 1 - (1 - alpha) * stats.f.ppf((1 - level) / 2, d1, d2)
    return float(lo), float(hi)


def omega_total(loadings: np.ndarray, residual_variances: np.ndarray) -> float:
    """McDonald's omega from one-factor loadings (unit-variance factor) and residual variances."""
    s = float(np.sum(loadings)) ** 2
    return s / (s + float(np.sum(residual_variances)))


def one_factor(items: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """ML one-factor model of complete answers: (loadings, residual variances), item order."""
    model = fit_semopy(model_description({"f": list(items.columns)}), items)
    with quiet_engines():
        est = model.inspect()
    load = est[(est["op"] == "~") & (est["rval"] == "f")].set_index("lval")["Estimate"]
    res = est[(est["op"] == "~~") & (est["lval"] == est["rval"]) & (est["lval"] != "f")].set_index("lval")["Estimate"]
    cols = list(items.columns)
    return load.reindex(cols).to_numpy(dtype=float), res.reindex(cols).to_numpy(dtype=float)


@dataclass
class ItemAnalysis(ResilienceResult):
    """Result of :func:`item_analysis`.

    Attributes
    ----------
    estimates : DataFrame
        One row per scale: ``scale, n, items, alpha, alpha_ci_low, alpha_ci_high, omega,
        mean, sd`` (mean and SD of the average answer).
    items : DataFrame
        One row per item: ``scale, item, n, mean, sd, item_rest_r, alpha_if_dropped,
        floor_share, ceiling_share, loading, loading_standardized``.
    """

    items: pd.DataFrame = field(default_factory=pd.DataFrame)
    _tables: tuple = (("items", "Items"),)
    title = "Item analysis of the resilience scales"

    def interpretation(self, lang: str = "en") -> str:
        check_lang(lang)
        est = self.estimates
        weak = est[est["alpha"] < ALPHA_ACCEPTABLE]
        fc = self.items[(self.items["floor_share"] > FLOOR_CEILING_WARNING)
                        | (self.items["ceiling_share"] > FLOOR_CEILING_WARNING)]
        out = text("resilience.items.reliability", lang, n=len(est), alpha_min=number(est["alpha"].min(), 2, lang),
                   alpha_max=number(est["alpha"].max(), 2, lang), omega_min=number(est["omega"].min(), 2, lang),
                   omega_max=number(est["omega"].max(), 2, lang))
        threshold = number(ALPHA_ACCEPTABLE, 2, lang)
        out += (text("resilience.items.all_acceptable", lang, threshold=threshold) if weak.empty else
                text("resilience.items.below", lang, threshold=threshold,
                     scales=", ".join(label(s, lang) for s in weak["scale"])))
        if len(fc):
            out += text("resilience.items.floor_ceiling", lang, n=len(fc),
                        share=number(FLOOR_CEILING_WARNING, 0, lang, percent=True))
        return out


@one_blas_thread
def item_analysis(frame: pd.DataFrame, scales: tuple[str, ...] = DEFAULT_SCALES, *,
                  round: str | None = "baseline") -> ItemAnalysis:
    """Reliability and item statistics of each scale (module docstring).

    Parameters
    ----------
    frame : DataFrame
        Interview rows (:func:`~kkbm_analysis.resilience.frames.analysis_frame`).
    scales : tuple of str
        Scale keys of the item bank (default: the capacities and the protective factors).
    round : str or None
        Round to analyse (default baseline); None: all rows.
    """
    rows = frame if round is None or "round" not in frame else frame[frame["round"] == round]
    lo, hi = load_item_bank().likert_range
    notes: list[str] = []
    scale_rows, item_rows = [], []
    for scale in scales:
        fields = item_fields((scale,))[scale]
        x = complete_items(item_matrix(rows, fields), f"the scale {scale}", notes)
        alpha = cronbach_alpha(x)
        a_lo, a_hi = alpha_interval(alpha, len(x), x.shape[1])
        lam, theta = one_factor(x)
        total = x.sum(axis=1)
        mean_answer = x.mean(axis=1)
        scale_rows.append({"scale": scale, "n": len(x), "items": x.shape[1], "alpha": alpha, "alpha_ci_low": a_lo,
                           "alpha_ci_high": a_hi, "omega": omega_total(lam, theta),
                           "mean": float(mean_answer.mean()), "sd": float(mean_answer.std(ddof=1))})
        sd = x.std(ddof=0)
        for j, item in enumerate(fields):
            rest = total - x[item]
            item_rows.append({"scale": scale, "item": item, "n": len(x), "mean": float(x[item].mean()),
                              "sd": float(x[item].std(ddof=1)), "item_rest_r": float(np.corrcoef(x[item], rest)[0, 1]),
                              "alpha_if_dropped": cronbach_alpha(x.drop(columns=item)) if x.shape[1] > 2 else np.nan,
                              "floor_share": float((x[item] == lo).mean()), "ceiling_share": float((x[item] == hi).mean()),
                              "loading": lam[j], "loading_standardized": lam[j] / np.sqrt(lam[j] ** 2 + theta[j])
                              if sd[item] > 0 else np.nan})
    return ItemAnalysis(pd.DataFrame(scale_rows), int(min(r["n"] for r in scale_rows)), notes,
                        bool(frame.attrs.get("synthetic", False)), items=pd.DataFrame(item_rows))


# --------------------------------------------------------------------------- EFA
def parallel_analysis(corr: np.ndarray, n: int, *, reps: int = 100, seed: int = 0) -> tuple[int, np.ndarray]:
    """Horn's parallel analysis: (suggested factors, 95th percentile of random eigenvalues)."""
    rng = np.random.default_rng(seed)
    p = corr.shape[0]
    sims = np.empty((reps, p))
    for r in range(reps):
        z = rng.standard_normal((n, p))
        sims[r] = np.sort(np.linalg.eigvalsh(np.corrcoef(z, rowvar=False)))[::-1]
    threshold = np.percentile(sims, 95, axis=0)
    eig = np.sort(np.linalg.eigvalsh(corr))[::-1]
    above = eig > threshold
    k = int(np.argmin(above)) if not above.all() else p
    return max(k, 1), threshold


@dataclass
class EFAResult(ResilienceResult):
    """Result of :func:`efa`.

    Attributes
    ----------
    estimates : DataFrame
        Rotated loadings: one row per item, columns ``item, scale`` (the item bank's
        scale), ``factor_1..factor_k``, ``communality``, ``uniqueness``.
    eigenvalues : DataFrame
        ``component, eigenvalue, parallel_95`` (random-data threshold).
    factor_correlations : DataFrame or None
        For oblique rotations.
    kmo : float
        Kaiser-Meyer-Olkin measure of sampling adequacy (>= 0.6 usual).
    bartlett_chi2, bartlett_p : float
        Bartlett's test of sphericity.
    suggested_factors : int
        Factors retained by parallel analysis.
    """

    eigenvalues: pd.DataFrame = field(default_factory=pd.DataFrame)
    factor_correlations: pd.DataFrame | None = None
    kmo: float = float("nan")
    bartlett_chi2: float = float("nan")
    bartlett_p: float = float("nan")
    suggested_factors: int = 0
    n_factors: int = 0
    rotation: str = "oblimin"
    _tables: tuple = (("eigenvalues", "Eigenvalues and parallel analysis"),
                      ("factor_correlations", "Factor correlations"))
    title = "Exploratory factor analysis (ML, factor_analyzer)"

    def _body(self) -> str:
        return (f"KMO = {self.kmo:.3f}   Bartlett chi2 = {self.bartlett_chi2:.1f} (p = {self.bartlett_p:.3g})   "
                f"parallel analysis suggests {self.suggested_factors} factor(s); {self.n_factors} extracted, "
                f"{self.rotation} rotation\n\n" + super()._body())

    def matches_scales(self) -> float:
        """Share of items whose largest loading is on the factor most of their scale's items load on."""
        cols = [c for c in self.estimates.columns if c.startswith("factor_")]
        top = self.estimates[cols].abs().idxmax(axis=1)
        modal = top.groupby(self.estimates["scale"]).agg(lambda s: s.mode().iloc[0])
        return float((top == self.estimates["scale"].map(modal)).mean())

    def interpretation(self, lang: str = "en") -> str:
        check_lang(lang)
        share = self.matches_scales()
        return text("resilience.efa", lang, suggested=self.suggested_factors, kmo=number(self.kmo, 2, lang),
                    n=self.n_factors, share=number(share, 0, lang, percent=True))


@one_blas_thread
def efa(frame: pd.DataFrame, scales: tuple[str, ...] = CAPACITIES, *, n_factors: int | None = None,
        rotation: str = "oblimin", round: str | None = "baseline", seed: int = 0) -> EFAResult:
    """Exploratory factor analysis of the items of ``scales`` (module docstring).

    ``n_factors`` defaults to the number of scales; the parallel-analysis suggestion is
    reported beside it.
    """
    from factor_analyzer import FactorAnalyzer
    from factor_analyzer.factor_analyzer import calculate_bartlett_sphericity, calculate_kmo

    rows = frame if round is None or "round" not in frame else frame[frame["round"] == round]
    fields = item_fields(scales)
    items = [i for s in scales for i in fields[s]]
    notes: list[str] = []
    x = complete_items(item_matrix(rows, items), "the exploratory factor analysis", notes)
    k = n_factors or len(scales)
    if k >= len(items) or len(x) < MIN_SCALE_N:
        raise ModelInputError(f"cannot extract {k} factors from {len(items)} items and {len(x)} answers")
    with quiet_engines():
        fa = FactorAnalyzer(n_factors=k, rotation=rotation if k > 1 else None, method="ml")
        fa.fit(x.to_numpy())
        kmo = float(calculate_kmo(x.to_numpy())[1])
        chi2, p = calculate_bartlett_sphericity(x.to_numpy())
    corr = np.corrcoef(x.to_numpy(), rowvar=False)
    suggested, threshold = parallel_analysis(corr, len(x), seed=seed)
    loadings = pd.DataFrame(fa.loadings_, columns=[f"factor_{j + 1}" for j in range(k)])
    scale_of = {i: s for s in scales for i in fields[s]}
    est = pd.concat([pd.DataFrame({"item": items, "scale": [scale_of[i] for i in items]}), loadings], axis=1)
    est["communality"] = fa.get_communalities()
    est["uniqueness"] = fa.get_uniquenesses()
    eig = np.sort(np.linalg.eigvalsh(corr))[::-1]
    eigen = pd.DataFrame({"component": np.arange(1, len(eig) + 1), "eigenvalue": eig, "parallel_95": threshold})
    phi = None
    if getattr(fa, "phi_", None) is not None:
        names = list(loadings.columns)
        phi = pd.DataFrame(fa.phi_, index=names, columns=names).reset_index(names="factor")
    return EFAResult(est, len(x), notes, bool(frame.attrs.get("synthetic", False)), eigenvalues=eigen,
                     factor_correlations=phi, kmo=kmo, bartlett_chi2=float(chi2), bartlett_p=float(p),
                     suggested_factors=suggested, n_factors=k, rotation=rotation)
