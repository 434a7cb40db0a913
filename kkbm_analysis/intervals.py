"""95 % intervals shared by the indicator engine and the charts.

:func:`wilson_interval` (a proportion; statsmodels' Wilson score interval) and
:func:`t_interval` (a mean, from its sum of squares). One implementation each, so a chart
that draws an interval from a numerator and a denominator draws the same interval as the
published indicator table.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["wilson_interval", "t_interval"]


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
