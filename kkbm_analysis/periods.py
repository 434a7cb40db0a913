"""Reporting periods: labels, their kind, their first and last day.

A period is a calendar year (``'2019'``), quarter (``'2019-Q3'``) or month
(``'2019-07'``); ``'all'`` (or None) is the whole record. :func:`period_label` places
dates in periods (it lives with :class:`~kkbm_analysis.data.ProgramData`); this module
reads labels back, so every analysis parses a period label the same way::

    period_kind("2019-Q3")        # 'quarter'
    period_bounds("2019-Q3")      # (Timestamp('2019-07-01'), Timestamp('2019-09-30'))
    in_period(dates, "2019")      # boolean Series
"""
from __future__ import annotations

import re

import pandas as pd

from .data import PERIODS, period_label

__all__ = ["PERIODS", "period_label", "period_kind", "period_bounds", "in_period"]

_PATTERNS = (("year", r"\d{4}"), ("quarter", r"\d{4}-Q[1-4]"), ("month", r"\d{4}-(0[1-9]|1[0-2])"))
_FREQ = {"year": "Y", "quarter": "Q", "month": "M"}


def period_kind(label: str | None) -> str | None:
    """``'year'``, ``'quarter'`` or ``'month'`` for a period label; None for None or ``'all'``.

    Raises
    ------
    ValueError
        If ``label`` is not a period label.
    """
    if label is None or label == "all":
        return None
    for kind, pattern in _PATTERNS:
        if re.fullmatch(pattern, str(label)):
            return kind
    raise ValueError(f"period must be None or a period label like '2019', '2019-Q3' or '2019-07', "
                     f"not {label!r}")


def period_bounds(label: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of a period label (``'2019'``, ``'2019-Q3'``, ``'2019-07'``)."""
    kind = period_kind(label)
    if kind is None:
        raise ValueError(f"period_bounds needs one period label, not {label!r}")
    p = pd.Period(label.replace("-Q", "Q"), freq=_FREQ[kind])
    return p.start_time.normalize(), p.end_time.normalize()


def in_period(dates: pd.Series, label: str | None) -> pd.Series:
    """True where a date falls in the period (all True for None or ``'all'``; False for a missing date)."""
    if label is None or label == "all":
        return pd.Series(True, index=dates.index)
    return (period_label(dates, period_kind(label)) == label).fillna(False).astype(bool)
