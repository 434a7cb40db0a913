"""95 % intervals shared by the indicator engine, the barrier measures and the charts.

:func:`wilson_interval` (a proportion; statsmodels' Wilson score interval),
:func:`t_interval` (a mean, from its sum of squares), :func:`poisson_rate_interval` (a ratio
of counts or a rate: exact Poisson on the numerator, the denominator as exposure) and
:func:`median_interval` (a median, from order statistics). One implementation each, so a
chart that draws an interval from a numerator and a denominator draws the same interval as
the published tables.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["wilson_interval", "t_interval", "poisson_rate_interval", "median_interval"]


def wilson_interval(numerator: Any, denominator: Any) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score 95 % interval of a proportion (NaN where the denominator is 0 or missing).

    Parameters
    ----------
    numerator, denominator : array-like
        Counts (successes and trials).

    Returns
    -------
    (ndarray, ndarray)
        Lower and upper bounds, shaped like the inputs.
    """
    from statsmodels.stats.proportion import proportion_confint

    x, n = np.broadcast_arrays(np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float))
    lo, hi = np.full(x.shape, np.nan), np.full(x.shape, np.nan)
    ok = n > 0
    if ok.any():
        low, high = proportion_confint(x[ok], n[ok], alpha=0.05, method="wilson")
        lo[ok], hi[ok] = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    return lo, hi


def t_interval(mean: np.ndarray, sumsq: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """t 95 % interval of means from the sums of squares and counts (NaN below 2 observations)."""
    from scipy.stats import t

    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.maximum(sumsq - n * mean**2, 0) / (n - 1)
        half = t.ppf(0.975, np.maximum(n - 1, 1)) * np.sqrt(var / n)
    half = np.where(n >= 2, half, np.nan)
    return mean - half, mean + half


def poisson_rate_interval(count: Any, exposure: Any) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) 95 % interval of a rate ``count / exposure``, the count taken as Poisson.

    Used for ratios of counts (members per organiser, vacancy months per community) and rates
    (turnover): the numerator is treated as a Poisson count and the denominator as fixed
    exposure. An approximation: it ignores the denominator's own variation and any clustering
    of the counted events (documented with the measures). NaN where the exposure is 0 or missing.
    """
    from scipy.stats import chi2

    k, e = np.broadcast_arrays(np.asarray(count, dtype=float), np.asarray(exposure, dtype=float))
    lo, hi = np.full(k.shape, np.nan), np.full(k.shape, np.nan)
    ok = (e > 0) & (k >= 0) & np.isfinite(k)
    if ok.any():
        kk = k[ok]
        with np.errstate(invalid="ignore"):
            lower = np.where(kk > 0, chi2.ppf(0.025, 2 * kk) / 2, 0.0)
        lo[ok] = lower / e[ok]
        hi[ok] = chi2.ppf(0.975, 2 * kk + 2) / 2 / e[ok]
    return lo, hi


def median_interval(values_sorted: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distribution-free 95 % interval of each group's median, from order statistics.

    ``values_sorted`` holds every group's values sorted within the group; group g is
    ``values_sorted[starts[g]:starts[g] + counts[g]]``. The bounds are the order statistics
    x(l) and x(n - l + 1) with l the largest rank such that a Binomial(n, 1/2) falls below l with
    probability at most 2.5 % (at least 1: for n < 6 the interval is the range, covering more
    than 95 %). NaN for empty groups.
    """
    from scipy.stats import binom

    counts = np.asarray(counts, dtype=np.int64)
    lo, hi = np.full(len(counts), np.nan), np.full(len(counts), np.nan)
    ok = counts > 0
    if ok.any():
        n = counts[ok]
        rank = np.maximum(binom.ppf(0.025, n, 0.5).astype(np.int64), 1)  # 1-based lower rank
        s = np.asarray(starts, dtype=np.int64)[ok]
        lo[ok] = values_sorted[s + rank - 1]
        hi[ok] = values_sorted[s + n - rank]
    return lo, hi
