"""The verdict rule: a region's value against the national value, read from its 95 % interval.

One rule for every badge and every recommendation (issue 8: "similar = within 10 %" ignored
the uncertainty). Rule ``national_outside_ci95`` (:data:`VERDICT_RULE`):

``too_few``
    The cell is withheld (suppressed) or falls under the small-cell rule
    (:func:`kkbm_analysis.suppression.small_cells`): no badge, no recommendation.
``not_applicable``
    No interval (counts, a missing value or national value), the national row itself, or a
    measure with no declared direction (neutral).
``better`` / ``worse``
    The national value lies outside the region's 95 % interval, on the side the measure's
    direction calls better (worse).
``no_clear_difference``
    The national value lies inside the interval.

The region's interval reflects the region's own sampling noise only; the national value is
treated as fixed (it rests on many more units). With many regions and measures some
``better``/``worse`` verdicts arise by chance; they are screening signals, not tests.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["VERDICTS", "VERDICT_RULE", "verdicts"]

#: Every verdict, in display order.
VERDICTS: tuple[str, ...] = ("better", "worse", "no_clear_difference", "too_few", "not_applicable")
#: Id of the rule (written beside every verdict).
VERDICT_RULE = "national_outside_ci95"


def _floats(x: Any) -> np.ndarray:
    import pandas as pd
    if isinstance(x, (pd.Series, pd.Index)):
        return x.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(x, dtype=float)


def verdicts(value: Any, ci_low: Any, ci_high: Any, national: Any, direction: Any, too_few: Any,
             is_national: Any = False) -> np.ndarray:
    """The verdict of each cell (see the module docstring).

    Parameters
    ----------
    value, ci_low, ci_high, national : array-like of float
        The region's value and 95 % interval, and the national value of the same measure,
        period and disaggregation.
    direction : array-like of str
        ``'higher_is_better'``, ``'lower_is_better'`` or ``'neutral'``.
    too_few : array-like of bool
        Withheld or under the small-cell rule.
    is_national : array-like of bool
        The national rows themselves.

    Returns
    -------
    ndarray of str
    """
    v, lo, hi, nat = (_floats(x) for x in (value, ci_low, ci_high, national))
    n = len(v)
    direction = np.broadcast_to(np.asarray(direction, dtype=object), (n,)).astype(str)
    too_few = np.broadcast_to(np.asarray(too_few, dtype=bool), (n,))
    is_national = np.broadcast_to(np.asarray(is_national, dtype=bool), (n,))
    have = np.isfinite(v) & np.isfinite(lo) & np.isfinite(hi) & np.isfinite(nat)
    signed = direction != "neutral"
    above, below = nat > hi, nat < lo  # national above the interval: the region is lower
    higher_better = direction == "higher_is_better"
    better = np.where(higher_better, below, above)
    worse = np.where(higher_better, above, below)
    out = np.where(better, "better", np.where(worse, "worse", "no_clear_difference"))
    out = np.where(have & signed & ~is_national, out, "not_applicable")
    return np.where(too_few, "too_few", out).astype(object)
