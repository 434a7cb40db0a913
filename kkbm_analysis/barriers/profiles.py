"""Barrier profiles: every barrier measure of a region next to the national benchmark, with a verdict and a sentence.

Built on :func:`.cells.barrier_cells` (one pass over every region and period), so a profile
and the published barrier metrics are the same numbers. The verdict is the interval rule of
:mod:`kkbm_analysis.verdicts` (``better``/``worse`` only when the national value lies
outside the region's 95 % interval; ``too_few`` under the small-cell rule). Labels and
sentences come from the catalogue (:mod:`kkbm_analysis.i18n`, ``barrier.*``). What a period
means for each measure is in the package docstring.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

import pandas as pd

from ..data import PERIODS, ProgramData, region_column
from ..i18n import check_lang, region_name, text
from ..periods import period_kind
from ..schema import MentoringPoints, load_mentoring_points
from ..suppression import small_cells
from ..verdicts import VERDICT_RULE, VERDICTS, verdicts
from ._common import _Result, valid_region_codes
from .cells import barrier_cells
from .measures import MEASURES, BarrierMeasure

__all__ = ["BarrierProfile", "BarrierMeasure", "MEASURES", "barrier_profile", "barrier_profiles", "with_verdicts"]

PROFILE_COLUMNS = ["region_code", "level", "period", "barrier_id", "label_id", "label_en", "value", "ci_low",
                   "ci_high", "n", "benchmark", "unit", "direction", "verdict", "sentence_id", "sentence_en"]


def with_verdicts(cells: pd.DataFrame, too_few: pd.Series | None = None) -> pd.DataFrame:
    """``cells`` with ``national_value``, ``verdict`` and ``verdict_rule`` added (the interval rule).

    Parameters
    ----------
    cells : DataFrame
        Cells of one or more measures with their national rows (``region_code`` ``'ID'``).
    too_few : Series of bool, optional
        Cells that may not be judged (default: :func:`kkbm_analysis.suppression.small_cells`;
        published products pass their suppression flag too).
    """
    key = ["measure_id", "period", "disaggregation"]
    nat = cells.loc[cells["level"] == "national", [*key, "value"]].rename(columns={"value": "national_value"})
    out = cells.drop(columns=["national_value"], errors="ignore").merge(nat, on=key, how="left")
    out.index = cells.index
    few = small_cells(out) if too_few is None else too_few.to_numpy(dtype=bool)
    out["verdict"] = pd.array(verdicts(out["value"], out["ci_low"], out["ci_high"], out["national_value"],
                                       out["direction"], few, out["level"] == "national"), dtype="string")
    out["verdict_rule"] = pd.array([VERDICT_RULE] * len(out), dtype="string")
    return out


def _profile_frame(data: ProgramData, level: str, period: str | None, replacement_months: int,
                   points: MentoringPoints | None) -> pd.DataFrame:
    """Long profile of every region at ``level``: one row per region, period and measure."""
    mp = points or load_mentoring_points()
    if period in PERIODS:
        cells = barrier_cells(data, level=level, period=period, replacement_months=replacement_months, points=mp)
        cells = cells.loc[cells["period"] != "all"]
    else:
        kind = period_kind(period) or "year"
        cells = barrier_cells(data, level=level, period=kind, labels=[period] if period else [],
                              replacement_months=replacement_months, points=mp)
        cells = cells.loc[cells["period"] == (period or "all")]
    ids = [m.id for m in MEASURES]
    cells = with_verdicts(cells.loc[cells["measure_id"].isin(ids)])
    rows = cells.loc[cells["level"] != "national"].copy()
    spec = {m.id: m for m in MEASURES}
    rows["barrier_id"] = rows["measure_id"]
    rows["benchmark"] = rows["national_value"]
    for lang in ("id", "en"):
        rows[f"sentence_{lang}"] = [spec[b].sentence(lang, v, nat, n=len(mp.points), N=replacement_months)
                                    for b, v, nat in zip(rows["barrier_id"], rows["value"], rows["benchmark"])]
    order = {b: i for i, b in enumerate(ids)}
    rows = rows.sort_values(["period", "region_code", "barrier_id"], key=lambda s: s.map(order) if s.name ==
                            "barrier_id" else s, kind="stable")
    out = rows[PROFILE_COLUMNS].reset_index(drop=True)
    out.attrs.update(synthetic=data.synthetic, data_version=data.data_version, verdict_rule=VERDICT_RULE,
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
    """One region's barrier measures next to the national benchmark (see :func:`barrier_profile`).

    Attributes
    ----------
    region_code, region_name, level, period : str
    table : DataFrame
        One row per measure: ``barrier_id, label_id, label_en, value, ci_low, ci_high, n,
        benchmark, unit, direction, verdict, sentence_id, sentence_en``.
    lang : {'id', 'en'} or None
        Language of ``summary()`` (None: both).
    """

    region_code: str
    region_name: str
    level: str
    period: str
    table: pd.DataFrame
    lang: str | None = None
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
            width = max(len(text(f"evidence.verdict.{v}", lang)) for v in VERDICTS)
            for verdict, sentence in zip(self.table["verdict"], self.table[f"sentence_{lang}"]):
                lines.append(f"[{text(f'evidence.verdict.{verdict}', lang):>{width}}] {sentence}")
        lines.append("\n" + text("evidence.verdict_note", langs[-1]))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cols = ["label_en", "value", "ci_low", "ci_high", "n", "benchmark", "verdict", "sentence_id", "sentence_en"]
        return f"<pre>{escape(self._header(f'Barrier profile: {self.region_name} ({self.region_code})'))}</pre>" \
               + self.table[cols].to_html(index=False, na_rep="NA")


def _check_period(period: str | None) -> None:
    if period in PERIODS:
        raise ValueError(f"period must be None or one period label such as '2019' or '2019-Q3', not the "
                         f"period kind {period!r}")
    period_kind(period)


def barrier_profile(data: ProgramData, region_code: str, *, level: str = "province", period: str | None = None,
                    lang: str | None = None, replacement_months: int = 6,
                    points: MentoringPoints | None = None) -> BarrierProfile:
    """All barrier measures of one region, compared with the national value.

    Parameters
    ----------
    data : ProgramData
    region_code : str
        A code at ``level`` (e.g. ``'35'`` for Jawa Timur).
    level : str, default 'province'
        Region level (a key of :data:`~kkbm_analysis.data.REGION_LEVELS`).
    period : str, optional
        None for the whole record, or one period label (``'2019'``, ``'2019-Q3'``,
        ``'2019-07'``); what a period means for each measure is in the package docstring.
    lang : {'id', 'en'}, optional
        Language of ``summary()``; both when None. The table always has both.
    replacement_months : int, default 6
        Window for cadre regeneration (see :func:`staffing`).
    points : MentoringPoints, optional
        The mandated mentoring points.

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
    frame = _profile_frame(data, level, period, replacement_months, points)
    table = frame.loc[frame["region_code"] == str(region_code)].drop(columns=["region_code", "level", "period"])
    return BarrierProfile(region_code=str(region_code), region_name=_region_name(data, level, str(region_code)),
                          level=level, period=period or "all", table=table.reset_index(drop=True), lang=lang,
                          synthetic=data.synthetic)


def barrier_profiles(data: ProgramData, *, level: str = "province", period: str | None = None,
                     replacement_months: int = 6, points: MentoringPoints | None = None) -> pd.DataFrame:
    """Barrier profiles of every region at ``level``, in long format.

    Parameters
    ----------
    data : ProgramData
    level : str, default 'province'
    period : str, optional
        None (whole record), one period label (``'2019'``), or a period kind (``'year'``,
        ``'quarter'``, ``'month'``) for every period of the record.
    replacement_months, points
        As in :func:`barrier_profile`.

    Returns
    -------
    DataFrame
        ``region_code, level, period, barrier_id, label_id, label_en, value, ci_low, ci_high,
        n, benchmark, unit, direction, verdict, sentence_id, sentence_en``; ``attrs``
        carries ``synthetic``, ``data_version`` and ``verdict_rule``.
    """
    region_column(level)
    if period not in PERIODS:
        _check_period(period)
    return _profile_frame(data, level, period, replacement_months, points)
