"""What a published cell is, when it is too small to show (primary rules by kind), and declared relations.

The cell shape is shared by every published product (indicators, barrier metrics,
mentoring points, resilience, voices): a key (:data:`CELL_KEY`), numbers
(:data:`NUMBERS`) and a ``kind`` that says how the value is made and which small-cell rule
applies. :func:`small_cells` is the primary rule, used by :func:`~.core.suppress` and by
every verdict ("too few" is exactly this rule or a suppressed cell).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..config import MIN_PUBLISHED_COUNT, MIN_PUBLISHED_DENOMINATOR

__all__ = ["CELL_KEY", "NUMBERS", "KINDS", "Thresholds", "Relations", "small_cells", "primary_mask", "default_n"]

#: The key of a published cell.
CELL_KEY: tuple[str, ...] = ("measure_id", "level", "region_code", "period", "disaggregation")
#: Numeric columns of a cell; all NA when the cell is suppressed.
NUMBERS: tuple[str, ...] = ("value", "numerator", "denominator", "n", "ci_low", "ci_high")
#: How a value is made (the ``kind`` column); each kind has its primary rule.
KINDS: tuple[str, ...] = ("count", "total", "proportion", "mean", "median", "ratio", "rate", "growth")


@dataclass(frozen=True)
class Thresholds:
    """Thresholds a table was suppressed with (defaults from :mod:`kkbm_analysis.config`)."""

    min_count: int = MIN_PUBLISHED_COUNT
    min_denominator: int = MIN_PUBLISHED_DENOMINATOR

    def as_dict(self) -> dict[str, int]:
        return {"min_count": self.min_count, "min_denominator": self.min_denominator}


#: Fields of a cell that equations may use: numerator, denominator, n.
FIELDS = {"N": 0, "D": 1, "n": 2}


@dataclass(frozen=True)
class Relations:
    """Exact relations between measures, declared by the layer that defines them.

    Every relation is checked on the unsuppressed values before it is used, so a
    declaration that does not hold is simply not used.

    Attributes
    ----------
    links : tuple of (a, field, b, field, factor)
        ``a.field == factor * b.field`` for cells with the same key apart from the measure
        (fields ``'N'`` numerator, ``'D'`` denominator, ``'n'``), e.g. the same count
        published by two measures.
    sums : tuple of ((a, field, disaggregation), ((b, field, disaggregation), ...))
        A cell equal to the sum of cells of other measures (same level, region, period).
    stock_flows : tuple of (stock, flow)
        ``stock(t) = stock(t - 1) + flow(t)`` (entries only).
    growth : tuple of (growth measure, base measure)
        A growth cell is withheld whenever its base cell of this or the previous period is.
    """

    links: tuple[tuple[str, str, str, str, float], ...] = ()
    sums: tuple[tuple[tuple[str, str, str], tuple[tuple[str, str, str], ...]], ...] = ()
    stock_flows: tuple[tuple[str, str], ...] = ()
    growth: tuple[tuple[str, str], ...] = ()

    def __add__(self, other: "Relations") -> "Relations":
        return Relations(*(getattr(self, f) + getattr(other, f) for f in ("links", "sums", "stock_flows", "growth")))

    @classmethod
    def of(cls, links: Any = (), sums: Any = (), stock_flows: Any = (), growth: Any = ()) -> "Relations":
        """Relations from plain sequences; 4-tuples of ``links`` get the factor 1."""
        return cls(tuple(tuple(x) if len(x) == 5 else (*x, 1.0) for x in links), tuple(sums), tuple(stock_flows),
                   tuple(growth))


NO_RELATIONS = Relations()


def default_n(kind: np.ndarray, numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """The units behind a cell when a product does not say: the numerator for counts, ratios and
    rates (the people or events counted), nothing for growth, the denominator otherwise."""
    return np.select([np.isin(kind, ["count", "ratio", "rate"]), kind == "growth"], [numerator, np.nan],
                     default=denominator)


def primary_mask(kind: np.ndarray, N: np.ndarray, n: np.ndarray, thresholds: Thresholds) -> np.ndarray:
    """The primary (small-cell) rule, by kind.

    ``count``: ``0 < numerator < min_count`` (zero is published). ``total``: ``0 < n <
    min_count`` contributing units. ``proportion``: ``0 < n < min_denominator`` or ``0 <
    numerator < min_count``. ``mean``, ``median``: ``0 < n < min_denominator``. ``ratio``,
    ``rate``: ``0 < n < min_count`` (n: the count the ratio is made of). ``growth``: none of its
    own (withheld with its base, see :class:`Relations`).
    """
    c, d = thresholds.min_count, thresholds.min_denominator
    with np.errstate(invalid="ignore"):
        small_num = (N > 0) & (N < c)
        small_n_count = (n > 0) & (n < c)
        small_n = (n > 0) & (n < d)
    return np.select([kind == "count", kind == "total", kind == "proportion", np.isin(kind, ["mean", "median"]),
                      np.isin(kind, ["ratio", "rate"])],
                     [small_num, small_n_count, small_n | small_num, small_n, small_n_count], default=False)


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].to_numpy(dtype=float, na_value=np.nan) if column in frame else np.full(len(frame), np.nan)


def small_cells(frame: pd.DataFrame, thresholds: Thresholds | None = None) -> np.ndarray:
    """True where a cell falls under the primary rule (:func:`primary_mask`), from its own numbers.

    ``frame`` needs ``kind`` and ``numerator``; ``n`` (where missing: :func:`default_n`) and
    ``denominator`` are used when present.
    """
    thresholds = thresholds or Thresholds()
    kind = frame["kind"].astype(str).to_numpy()
    N, D = _numbers(frame, "numerator"), _numbers(frame, "denominator")
    n = _numbers(frame, "n")
    n = np.where(np.isnan(n), default_n(kind, N, D), n)
    return primary_mask(kind, N, n, thresholds)
