"""The barrier measures, declared once: what each one counts, its kind, direction and window.

A :class:`BarrierMeasure` says how its value is made (``kind``: proportion, mean, median,
ratio, rate or count; this decides its small-cell rule and its interval), which way is
better, whether it is a stock (a value at the period's end) and what window of dates a
period's value covers. Its label and the sentence that describes it are catalogue entries
(:mod:`kkbm_analysis.i18n`, ``barrier.<id>``). :data:`MEASURES` are the barrier profile;
:data:`SUPPORT` are published beside them (the counts behind them, the programme's size).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..i18n import number, text

__all__ = ["BarrierMeasure", "MEASURES", "SUPPORT", "ALL_MEASURES", "measure", "WINDOWS"]

#: What a period's value covers: the period itself (a flow), everything up to the period's end
#: (a stock), or the members who entered in the period followed up to the end of the data (a cohort).
WINDOWS: tuple[str, ...] = ("period", "stock", "cohort")


@dataclass(frozen=True)
class BarrierMeasure:
    """One published barrier measure.

    Attributes
    ----------
    id : str
        Stable identifier (``barrier_id`` / ``measure_id``).
    unit : str
        What the value counts, in words (``'share'``, ``'members per FTE'``...).
    higher_is_better : bool or None
        The measure's direction (None: neutral, no better or worse).
    decimals : int
        Decimals shown.
    percent : bool
        Shown as a percentage.
    kind : str
        ``'proportion'``, ``'mean'``, ``'median'``, ``'ratio'``, ``'rate'`` or ``'count'``.
    window : str
        One of :data:`WINDOWS`.
    catalogue : str
        Catalogue prefix of its label and sentence (default ``barrier.<id>``).
    """

    id: str
    unit: str
    higher_is_better: bool | None
    decimals: int
    percent: bool
    kind: str = "proportion"
    window: str = "period"
    catalogue: str = ""

    @property
    def key(self) -> str:
        return self.catalogue or f"barrier.{self.id}"

    @property
    def direction(self) -> str:
        """``'higher_is_better'``, ``'lower_is_better'`` or ``'neutral'`` (as in every published cell)."""
        return {True: "higher_is_better", False: "lower_is_better", None: "neutral"}[self.higher_is_better]

    @property
    def stock(self) -> bool:
        return self.window == "stock"

    def label(self, lang: str) -> str:
        """The measure's name in ``lang``."""
        return text(f"{self.key}.label", lang)

    def sentence(self, lang: str, value: Any, benchmark: Any, **fields: Any) -> str:
        """The value against the benchmark in a sentence (``{n}`` points, ``{N}`` months as ``fields``)."""
        v, b = (number(x, self.decimals, lang, percent=self.percent) for x in (value, benchmark))
        if pd.isna(value):
            return text("barrier.no_data_sentence", lang, label=self.label(lang), b=b)
        return text(f"{self.key}.sentence", lang, v=v, b=b, **fields)


_M = BarrierMeasure
#: The barrier profile's measures. Sentence templates (catalogue): ``{v}`` value, ``{b}`` benchmark,
#: ``{n}`` number of mandated points, ``{N}`` replacement window in months.
MEASURES: tuple[BarrierMeasure, ...] = (
    _M("mentoring_points_mean", "points", True, 1, False, "mean", "cohort"),
    _M("mentoring_coverage", "share", True, 0, True, "mean", "cohort", "evidence.measure.mentoring_coverage"),
    _M("no_follow_up_share", "share", False, 0, True, "proportion", "cohort"),
    _M("months_to_first_mentoring", "months", False, 1, False, "median", "cohort"),
    _M("training_to_practice", "share", True, 0, True, "proportion", "cohort"),
    _M("members_per_organiser", "members per FTE", False, 1, False, "ratio", "stock"),
    _M("officers_per_community", "officers (FTE) per community", True, 2, False, "ratio", "stock"),
    _M("vacancy_months_per_community", "months per community", False, 1, False, "ratio", "period"),
    _M("organiser_turnover", "share of average staff", False, 0, True, "rate", "period"),
    _M("cadre_regeneration", "share", True, 0, True, "proportion", "period"),
    _M("perdes_share", "share", True, 0, True, "proportion", "stock"),
    _M("village_gov_involved_share", "share", True, 0, True, "proportion", "stock"),
    _M("disnakertrans_informed_share", "share", True, 0, True, "proportion", "period"),
    _M("kur_approval_rate", "share", True, 0, True, "proportion", "period"),
    _M("kur_owner_uptake", "share", True, 0, True, "proportion", "stock"),
)
#: Published beside the profile: the counts behind it and the programme's size.
SUPPORT: tuple[BarrierMeasure, ...] = (
    _M("members_trained", "members", None, 0, False, "count", "period", "evidence.measure.members_trained"),
    _M("communities", "communities", None, 0, False, "count", "stock", "evidence.measure.communities"),
    _M("villages", "villages", None, 0, False, "count", "stock", "evidence.measure.villages"),
    _M("villages_with_perdes", "villages", True, 0, False, "count", "stock", "evidence.measure.villages_with_perdes"),
)
del _M

ALL_MEASURES: dict[str, BarrierMeasure] = {m.id: m for m in (*MEASURES, *SUPPORT)}


def measure(measure_id: str) -> BarrierMeasure:
    """The declared measure with this id (KeyError naming the known ones)."""
    try:
        return ALL_MEASURES[measure_id]
    except KeyError:
        raise KeyError(f"unknown barrier measure {measure_id!r}; known: {', '.join(ALL_MEASURES)}") from None
