"""The trend section of both reports: indicators and staffing over the years, with their intervals.

Read from the products' cells per year (every year is a period of ``kkbm analyse``): a
table with one column per year, each cell the published value, its 95 % interval and (in a
province report) the national value, all tagged. A report of one year shows only the years
up to it (a 2018 report does not show 2019); the whole-period report shows every year. The
brief adds members per organiser by province and year, where staffing shifts most.
"""
from __future__ import annotations

from html import escape

from ..i18n import region_name
from ..i18n import text as t
from ..products import NATIONAL
from .cells import cell_ci, is_withheld, tagged
from .markup import Html, _h2, _p, _section, _table
from .narrative import fill

__all__ = ["TrendSection", "TREND_MEASURES"]

#: Rows of the trend table: (product, measure).
TREND_MEASURES: tuple[tuple[str, str], ...] = (
    ("indicators", "members"), ("barriers", "members_trained"), ("barriers", "mentoring_coverage"),
    ("barriers", "no_follow_up_share"), ("barriers", "members_per_organiser"), ("barriers", "business_running_12m"),
    ("indicators", "kur_uptake"), ("barriers", "kur_owner_uptake"))


class TrendSection:
    """``trend()`` for both reports (mixed into :class:`~.sections._Report`)."""

    def _trend_cell(self, product: str, measure: str, region: str, year: str, national: bool) -> str:
        lang = self.lang
        c = self._cell(product, measure, region, year)
        parts = [tagged(c, product, lang)]
        if c is not None and not is_withheld(c):
            ci = cell_ci(c, product, lang)
            if ci != t("common.not_applicable", lang):
                parts.append(f'<span class="kkbm-ci">{escape(ci)}</span>')
        if national:
            n = self._cell(product, measure, NATIONAL, year)
            parts.append(f'<span class="kkbm-ci">{fill("narrative.national_prefix", lang, {"value": tagged(n, product, lang)})}</span>')
        return "<br>".join(parts)

    def trend(self) -> Html:
        """Indicators and staffing per year up to the report's period (with intervals; the nation beside)."""
        lang, region, years = self.lang, self.region, self.trend_years
        parts = [_h2("narrative.trend", lang)]
        if len(years) < 2:
            parts.append(_p(t("narrative.trend_one_year", lang, years=", ".join(years) or self.period_text())))
            return _section(*parts)
        national = region != NATIONAL
        rows = []
        for product, measure in TREND_MEASURES:
            first = self._cell(product, measure, NATIONAL, years[-1])
            if first is None:
                continue
            label = str(first["label_id" if lang == "id" else "label_en"])
            rows.append(("", [escape(label[:1].upper() + label[1:]),
                              *(self._trend_cell(product, measure, region, y, national) for y in years)]))
        header = [(t("report.col_measure", lang), False), *((y, True) for y in years)]
        intro = "narrative.trend_intro" if national else "narrative.trend_intro_national"
        parts += [_p(t(intro, lang, name=self.region_label)), _table(header, rows, "kkbm-trend")]
        if not national:
            parts.append(self._staffing_by_province(years))
        if self.period != "all" and years[-1] != self.products.years[-1]:
            parts.append(_p(t("narrative.trend_upto", lang, period=self.period), "kkbm-note"))
        return _section(*parts)

    def _staffing_by_province(self, years: list[str]) -> str:
        lang = self.lang
        rows = []
        for code in [*self.products.provinces, NATIONAL]:
            name = t("common.national", lang) if code == NATIONAL else region_name(code, lang)
            rows.append(("kkbm-national" if code == NATIONAL else "",
                         [escape(name), *(self._trend_cell("barriers", "members_per_organiser", code, y, False)
                                          for y in years)]))
        header = [(t("common.province", lang), False), *((y, True) for y in years)]
        return _table(header, rows, "kkbm-trend")
