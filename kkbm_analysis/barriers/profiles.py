"""Barrier profiles: every barrier measure of a region next to the national benchmark, with a verdict and a sentence.

The measures come from the other modules of the package (mentoring, funnel, staffing,
synergy, capital); their labels and sentences from the catalogue
(:mod:`kkbm_analysis.i18n`, ``barrier.*``). What a period means for each measure and how
verdicts are given is in the package docstring.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

import pandas as pd

from ..data import PERIODS, ProgramData, region_column
from ..i18n import check_lang, number, region_name, text
from ..periods import in_period, period_bounds, period_kind
from ..schema import MentoringPoints, load_mentoring_points
from ._common import _add_region, _observation_window, _periods, _Result, valid_region_codes
from .capital import capital_access
from .funnel import _funnel, _stage_rows
from .mentoring import _mentoring_overview, member_mentoring
from .staffing import staffing
from .synergy import _synergy_table

__all__ = ["BarrierProfile", "BarrierMeasure", "MEASURES", "DEFAULT_TOLERANCE", "barrier_profile", "barrier_profiles"]

DEFAULT_TOLERANCE = 0.10


# =========================================================================== barrier profile
@dataclass(frozen=True)
class BarrierMeasure:
    """One measure of the barrier profile.

    Its label and the sentence that describes it are the catalogue entries
    ``barrier.<id>.label`` and ``barrier.<id>.sentence`` (:mod:`kkbm_analysis.i18n`).
    """

    id: str
    unit: str
    higher_is_better: bool
    decimals: int
    percent: bool

    @property
    def direction(self) -> str:
        return "higher is better" if self.higher_is_better else "higher is worse"

    def label(self, lang: str) -> str:
        """The measure's name in ``lang``."""
        return text(f"barrier.{self.id}.label", lang)

    def sentence(self, lang: str, value: Any, benchmark: Any, **fields: Any) -> str:
        """The value against the benchmark in a sentence (``{n}`` points, ``{N}`` months as ``fields``)."""
        v, b = (number(x, self.decimals, lang, percent=self.percent) for x in (value, benchmark))
        if pd.isna(value):
            return text("barrier.no_data_sentence", lang, label=self.label(lang), b=b)
        return text(f"barrier.{self.id}.sentence", lang, v=v, b=b, **fields)


#: The profile's measures: id, unit, higher is better, decimals, shown as a percentage.
#: Sentence templates (catalogue): ``{v}`` value, ``{b}`` benchmark, ``{n}`` number of
#: mandated points, ``{N}`` replacement window in months.
MEASURES: tuple[BarrierMeasure, ...] = (
    BarrierMeasure("mentoring_points_mean", "points", True, 1, False),
    BarrierMeasure("no_follow_up_share", "share", False, 0, True),
    BarrierMeasure("months_to_first_mentoring", "months", False, 1, False),
    BarrierMeasure("training_to_practice", "share", True, 0, True),
    BarrierMeasure("members_per_organiser", "members per FTE", False, 1, False),
    BarrierMeasure("officers_per_community", "officers (FTE) per community", True, 2, False),
    BarrierMeasure("vacancy_months_per_community", "months per community", False, 1, False),
    BarrierMeasure("organiser_turnover", "share of average staff", False, 0, True),
    BarrierMeasure("cadre_regeneration", "share", True, 0, True),
    BarrierMeasure("perdes_share", "share", True, 0, True),
    BarrierMeasure("village_gov_involved_share", "share", True, 0, True),
    BarrierMeasure("disnakertrans_informed_share", "share", True, 0, True),
    BarrierMeasure("kur_approval_rate", "share", True, 0, True),
    BarrierMeasure("kur_owner_uptake", "share", True, 0, True),
)


def _verdict(value: Any, benchmark: Any, higher_is_better: bool, tolerance: float) -> str:
    if pd.isna(value) or pd.isna(benchmark):
        return "unknown"
    if abs(value - benchmark) <= tolerance * abs(benchmark):
        return "similar"
    return "better" if (value > benchmark) == higher_is_better else "worse"


def _profile_values(data: ProgramData, level: str, label: str | None, mp: MentoringPoints,
                    replacement_months: int) -> pd.DataFrame:
    """Measure values (columns) for every region at ``level`` (rows) in one period."""
    kind = period_kind(label)
    codes = valid_region_codes(data, level)
    members = _add_region(data, member_mentoring(data, points=mp), level)
    trained = members.loc[members["trained"] & in_period(members["entry_training_on"], label)]
    ment = _mentoring_overview(trained.dropna(subset=["region_code"]), len(mp.points)).set_index("region_code")
    rows = _stage_rows(data, level)
    funnel = _funnel(rows.loc[in_period(rows["identified_on"], label)])
    fun = funnel.loc[funnel["stage"] == "implemented_on"].set_index("region_code")["from_previous"]
    st = staffing(data, level=level, period=kind, replacement_months=replacement_months).table
    st = st.loc[st["period"] == (label or "all")].set_index("region_code")
    end = period_bounds(label)[1] if label else None
    syn = _synergy_table(data, level, as_of=end, case_period=label)[0].set_index("region_code")
    cap = capital_access(data, level=level, period=kind).table
    cap = cap.loc[cap["period"] == (label or "all")].set_index("region_code")
    out = pd.DataFrame({
        "mentoring_points_mean": ment["mean_points"], "no_follow_up_share": ment["no_follow_up_share"],
        "months_to_first_mentoring": ment["months_to_first_median"], "training_to_practice": fun,
        "members_per_organiser": st["members_per_organiser"], "officers_per_community": st["officers_per_community"],
        "vacancy_months_per_community": st["vacancy_months_per_community"], "organiser_turnover": st["turnover"],
        "cadre_regeneration": st["regeneration"], "perdes_share": syn["perdes_share"],
        "village_gov_involved_share": syn["gov_involved_share"],
        "disnakertrans_informed_share": syn["disnakertrans_share"],
        "kur_approval_rate": cap["approval_rate"], "kur_owner_uptake": cap["owners_applied_share"],
    }, index=pd.Index(codes, name="region_code"))
    return out.astype("Float64")


def _profile_rows(values: pd.DataFrame, national: pd.Series, n_points: int, replacement_months: int,
                  tolerance: float) -> pd.DataFrame:
    """Long profile: one row per region and measure, with verdicts and sentences."""
    rows = []
    for code, vals in values.iterrows():
        for m in MEASURES:
            v, b = vals[m.id], national[m.id]
            rows.append({"region_code": code, "barrier_id": m.id, "label_id": m.label("id"),
                         "label_en": m.label("en"), "value": v, "benchmark": b, "unit": m.unit,
                         "direction": m.direction, "verdict": _verdict(v, b, m.higher_is_better, tolerance),
                         **{f"sentence_{lang}": m.sentence(lang, v, b, n=n_points, N=replacement_months)
                            for lang in ("id", "en")}})
    out = pd.DataFrame(rows)
    return out.astype({"value": "Float64", "benchmark": "Float64"})


def _profile_frame(data: ProgramData, level: str, label: str | None, replacement_months: int,
                   tolerance: float, points: MentoringPoints | None) -> pd.DataFrame:
    mp = points or load_mentoring_points()
    values = _profile_values(data, level, label, mp, replacement_months)
    national = _profile_values(data, "national", label, mp, replacement_months).iloc[0]
    out = _profile_rows(values, national, len(mp.points), replacement_months, tolerance)
    out.insert(1, "period", label or "all")
    out.insert(1, "level", level)
    out.attrs.update(synthetic=data.synthetic, data_version=data.data_version, tolerance=tolerance,
                     replacement_months=replacement_months)
    return out


def _region_name(data: ProgramData, level: str, code: str) -> str:
    """A community's own name, or the region's (:func:`kkbm_analysis.i18n.region_name`)."""
    if level == "community":
        names = data.communities.set_index("community_id")["community_name"]
        return str(names.get(code, code))
    return region_name(code)


@dataclass(repr=False)
class BarrierProfile(_Result):
    """One region's barrier indicators next to the national benchmark (see :func:`barrier_profile`).

    Attributes
    ----------
    region_code, region_name, level, period : str
    table : DataFrame
        One row per indicator: ``barrier_id, label_id, label_en, value, benchmark, unit,
        direction, verdict, sentence_id, sentence_en``.
    lang : {'id', 'en'} or None
        Language of ``summary()`` (None: both).
    tolerance : float
    """

    region_code: str
    region_name: str
    level: str
    period: str
    table: pd.DataFrame
    lang: str | None = None
    tolerance: float = DEFAULT_TOLERANCE
    synthetic: bool = False

    def sentences(self, lang: str = "en") -> list[str]:
        """The plain-language sentences in ``'id'`` or ``'en'``."""
        return self.table[f"sentence_{lang}"].tolist()

    def summary(self) -> str:
        langs = [self.lang] if self.lang else ["id", "en"]
        title = " / ".join(text("barrier.profile_title", lang, name=self.region_name, code=self.region_code,
                                period=self.period) for lang in langs)
        lines = [self._header(title)]
        for lang in langs:
            lines.append("")
            width = max(len(text(f"common.verdict_{v}", lang)) for v in ("better", "worse", "similar", "unknown"))
            for verdict, sentence in zip(self.table["verdict"], self.table[f"sentence_{lang}"]):
                lines.append(f"[{text(f'common.verdict_{verdict}', lang):>{width}}] {sentence}")
        lines.append(f"\n(similar = within {self.tolerance:.0%} of the national value)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cols = ["label_en", "value", "benchmark", "unit", "verdict", "sentence_id", "sentence_en"]
        return f"<pre>{escape(self._header(f'Barrier profile: {self.region_name} ({self.region_code})'))}</pre>" \
               + self.table[cols].to_html(index=False, na_rep="NA")


def _check_period(period: str | None) -> None:
    if period in PERIODS:
        raise ValueError(f"period must be None or one period label such as '2019' or '2019-Q3', not the "
                         f"period kind {period!r}")
    period_kind(period)


def barrier_profile(data: ProgramData, region_code: str, *, level: str = "province", period: str | None = None,
                    lang: str | None = None, replacement_months: int = 6, tolerance: float = DEFAULT_TOLERANCE,
                    points: MentoringPoints | None = None) -> BarrierProfile:
    """All barrier indicators of one region, compared with the national value.

    Parameters
    ----------
    data : ProgramData
    region_code : str
        A code at ``level`` (e.g. ``'35'`` for Jawa Timur); ``'ID'`` at national level.
    level : str, default 'province'
        Region level (a key of :data:`~kkbm_analysis.data.REGION_LEVELS`).
    period : str, optional
        None for the whole record, or one period label (``'2019'``, ``'2019-Q3'``,
        ``'2019-07'``); what a period means for each indicator is in the module docstring.
    lang : {'id', 'en'}, optional
        Language of ``summary()``; both when None. The table always has both.
    replacement_months : int, default 6
        Window for cadre regeneration (see :func:`staffing`).
    tolerance : float, default 0.10
        Relative distance from the benchmark still called 'similar'.
    points : MentoringPoints, optional
        The mandated mentoring points.

    Returns
    -------
    BarrierProfile

    Raises
    ------
    ValueError
        If ``region_code`` is not a region with communities at ``level`` (the message lists
        the valid codes), or ``period``/``lang`` is not valid.
    """
    period = None if period is None else str(period)
    if lang is not None:
        check_lang(lang)
    _check_period(period)
    valid = valid_region_codes(data, level)
    if str(region_code) not in valid:
        raise ValueError(f"unknown {level} code {region_code!r}; valid codes: {', '.join(valid) or '(none)'}")
    frame = _profile_frame(data, level, period, replacement_months, tolerance, points)
    table = frame.loc[frame["region_code"] == str(region_code)].drop(columns=["region_code", "level", "period"])
    return BarrierProfile(region_code=str(region_code), region_name=_region_name(data, level, str(region_code)),
                          level=level, period=period or "all", table=table.reset_index(drop=True), lang=lang,
                          tolerance=tolerance, synthetic=data.synthetic)


def barrier_profiles(data: ProgramData, *, level: str = "province", period: str | None = None,
                     replacement_months: int = 6, tolerance: float = DEFAULT_TOLERANCE,
                     points: MentoringPoints | None = None) -> pd.DataFrame:
    """Barrier profiles of every region at ``level``, in long format.

    Parameters
    ----------
    data : ProgramData
    level : str, default 'province'
    period : str, optional
        None (whole record), one period label (``'2019'``), or a period kind
        (``'year'``, ``'quarter'``, ``'month'``) for every period of the record.
    replacement_months, tolerance, points
        As in :func:`barrier_profile`.

    Returns
    -------
    DataFrame
        ``region_code, level, period, barrier_id, label_id, label_en, value, benchmark, unit,
        direction, verdict, sentence_id, sentence_en``; ``attrs`` carries ``synthetic`` and
        ``data_version``.
    """
    region_column(level)
    if period in PERIODS:
        start, end = _observation_window(data)
        labels = _periods(start, end, period)["period"].unique().tolist()
        parts = [_profile_frame(data, level, label, replacement_months, tolerance, points) for label in labels]
        out = pd.concat(parts, ignore_index=True)
        out.attrs.update(parts[0].attrs if parts else {})
        return out
    _check_period(period)
    return _profile_frame(data, level, period, replacement_months, tolerance, points)
