"""What the province report and the national brief share: the report base class and common sections.

The report templates (``report_province.ipynb``, ``brief_national.ipynb``) are thin: a
parameters cell, then one call per section::

    import kkbm_analysis.reports as rp
    report = rp.ProvinceReport.from_parameters(province="36", period="2018", lang="id",
                                               data_dir="data/processed/demo")
    report.header()
    report.key_figures()
    ...

Each section returns :class:`~.markup.Html`. Every number comes from the analysis products
(:class:`kkbm_analysis.products.Products`, written by ``kkbm analyse``): the reports compute
nothing, and every table cell and key figure is tagged with the published cell it shows
(:mod:`.cells`). Words and number formats come from :mod:`kkbm_analysis.i18n`, HTML pieces
from :mod:`.markup`, figures from :mod:`.figures`, recommendation sentences from
:mod:`.advice`. The province report is :mod:`.province`, the brief :mod:`.national`; both
get key messages, findings, methods, limitations and the colophon from :mod:`.narrative`,
the data-quality section from :mod:`.quality` and the trend over the years from :mod:`.trend`.

Time: a report covers one period (a year, or ``'all'``, the whole span, written
"2017–2020"); it shows no cell of a later year, every table states its data windows, and
"data as of" is the data's own last date from the products manifest.
"""
from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from ..i18n import ci_label, has_text, p_value
from ..i18n import date as fmt_date
from ..i18n import date_range as fmt_range
from ..i18n import interval as ci
from ..i18n import number as num
from ..i18n import text as t
from ..products import NATIONAL, ModelFit, Products
from . import figures as fg
from .cells import tagged, tagged_fit
from .field_resilience import resilience_section
from .field_voices import voices_section
from .markup import Html, _p, _table
from .narrative import NarrativeSections
from .params import ReportParameters
from .quality import QualitySection
from .trend import TrendSection

__all__ = ["REPORT_INDICATORS"]

#: Indicators shown in the reports, in display order (ids of the published indicators).
REPORT_INDICATORS: tuple[str, ...] = (
    "members", "members_joined",
    "businesses_formed", "businesses_active", "business_volume_median", "groups_formed", "kur_applications",
    "kur_approval_rate", "kur_uptake", "business_consultations",
    "dissemination_reach", "information_services", "placements_facilitated",
    "advocacy_cases", "advocacy_resolution_rate", "prevention_reach", "people_dissuaded",
)


def _model_error(model: str, reason: str, lang: str) -> str:
    return _p(t("report.model_failed", lang, model=model, reason=reason), "kkbm-note")


# =========================================================================== shared base
class _Report(NarrativeSections, QualitySection, TrendSection):
    template = ""

    def __init__(self, params: ReportParameters, products: Products) -> None:
        self.params = params
        self.products = products
        self.lang = params.lang
        self.period = params.period

    @property
    def synthetic(self) -> bool:
        return self.products.synthetic

    # ------------------------------------------------------------------ cells
    def _cell(self, product: str, measure: str, region: str, period: str | None = None) -> pd.Series | None:
        """One published cell of this report's period (or ``period``); None when there is none."""
        return self.products.find(product, measure, region, period or self.period)

    def ind(self, measure: str, region: str, period: str | None = None) -> pd.Series | None:
        return self._cell("indicators", measure, region, period)

    def bar(self, measure: str, region: str, period: str | None = None) -> pd.Series | None:
        return self._cell("barriers", measure, region, period)

    def tag(self, product: str, measure: str, region: str, period: str | None = None, **kw: Any) -> str:
        """The tagged HTML of one published cell."""
        return tagged(self._cell(product, measure, region, period), product, self.lang, **kw)

    def _fit(self, fit_id: str) -> ModelFit | None:
        return self.products.fits().get(fit_id)

    # ------------------------------------------------------------------ sections of both reports
    def resilience(self) -> Html:
        """Resilience capacities against the national value, measurement quality, drivers, recovery
        (:mod:`.field_resilience`)."""
        return resilience_section(self)

    def voices(self) -> Html:
        """Voices from the field: the joint display of numbers and coded voices (:mod:`.field_voices`)."""
        return voices_section(self)

    # ------------------------------------------------------------------ time
    @property
    def region(self) -> str:
        """The code of the region the report is about (the nation for the brief)."""
        return NATIONAL

    @property
    def region_label(self) -> str:
        return t("common.national", self.lang)

    def period_text(self, period: str | None = None) -> str:
        """A period in words: the year, or "the whole period 2017–2020" for ``'all'``."""
        period = period or self.period
        if period != "all":
            return period
        years = self.products.years
        return t("narrative.period_all", self.lang, first=years[0], last=years[-1]) if years else period

    @property
    def trend_years(self) -> list[str]:
        """The years a report of this period may show: up to its own year (a 2018 report shows no later data)."""
        years = self.products.years
        return years if self.period == "all" else [y for y in years if y <= self.period]

    def window(self, cell: Any) -> str:
        """The dates a published cell covers, in words ("no data" without them)."""
        if cell is None or pd.isna(cell.get("window_start")) or pd.isna(cell.get("window_end")):
            return t("common.no_data", self.lang)
        return fmt_range(cell["window_start"], cell["window_end"], self.lang)

    def windows_note(self, cells: pd.DataFrame) -> str:
        """A note naming the distinct data windows of a table's cells (each metric states its window)."""
        if cells.empty or "window_start" not in cells:
            return ""
        spans = cells.dropna(subset=["window_start", "window_end"]).groupby(
            ["window_start", "window_end"], sort=True)["measure_id"].nunique()
        parts = [t("narrative.window_count_one" if n == 1 else "narrative.window_count", self.lang,
                   window=fmt_range(a, b, self.lang), n=num(n, 0, self.lang)) for (a, b), n in spans.items()]
        return _p(t("narrative.windows_note", self.lang, windows="; ".join(parts)), "kkbm-note") if parts else ""

    def data_as_of(self) -> str:
        """The data's own last date in words (from the products manifest; never today's date)."""
        return t("narrative.data_as_of", self.lang, date=fmt_date(self.products.data_as_of, self.lang))

    # ------------------------------------------------------------------ page pieces
    def _figure(self, fig, name: str, alt: str, caption: str) -> str:
        if self.params.figure_dir is not None:
            fg.save(fig, name, self.params.figure_dir)
        return fg.figure_html(fig, alt=alt, caption=caption)

    def _banner(self) -> str:
        return f'<div class="kkbm-banner" id="kkbm-synthetic-banner">{escape(t("report.synthetic_banner", self.lang))}</div>' \
            if self.synthetic else ""

    # ------------------------------------------------------------------ models
    def _points_effect(self) -> tuple[ModelFit | None, str]:
        """(business model fit or None, sentence on the association of one more point)."""
        lang = self.lang
        fit = self._fit("business_model")
        if fit is None or not fit.ok:
            return None, _model_error("logit", fit.reason if fit else t("common.no_data", lang), lang)
        me = fit.table("marginal_effects").set_index("term")
        if "points" not in me.index:
            return fit, ""
        r = me.loc["points"]
        ame = tagged_fit(fit.fit_id, "points", "ame", r["ame"], num(100 * r["ame"], 1, lang))
        rest = escape(t("report.model_points_effect", lang, ame="\x00", ci=ci_label(100 * r["ci_low"],
                                                                                  100 * r["ci_high"], 1, lang),
                        p=p_value(r["p_value"], lang)))
        return fit, f"<p>{rest.replace(chr(0), ame)}</p>"

    def perdes_did(self, extra: str = "") -> str:
        """The staggered Perdes DiD in words with its window (``extra``: HTML inside its box), or why it
        could not be estimated; empty without the fit."""
        did = self._fit("perdes_did")
        if did is None:
            return ""
        if not did.ok:
            return _model_error("Perdes DiD", did.reason, self.lang)
        words = _p(t("report.model_perdes", self.lang, interpretation=did.text(self.lang)))
        return f'<div class="kkbm-model">{words}{extra}</div>{self.did_window(did)}'

    def _model_table(self, fit: ModelFit) -> str:
        lang = self.lang
        rows = []
        for rec in fit.table("estimates").itertuples():
            if rec.term == "const":
                continue
            key = f"model.covariate.{rec.term}"
            label = t(key, lang) if has_text(key) else rec.term
            label = label[:1].upper() + label[1:]
            p_text = num(rec.p_value, 3, lang) if rec.p_value >= 0.001 else "< " + num(0.001, 3, lang)
            rows.append(("", [escape(label),
                              tagged_fit(fit.fit_id, rec.term, "odds_ratio", rec.odds_ratio,
                                         num(rec.odds_ratio, 2, lang)),
                              escape(ci(rec.odds_ratio_ci_low, rec.odds_ratio_ci_high, 2, lang)),
                              tagged_fit(fit.fit_id, rec.term, "p_value", rec.p_value, p_text)]))
        return _table([(t("common.term", lang), False), (t("common.odds_ratio", lang), True),
                       (t("common.ci95", lang), True), (t("report.col_p", lang), True)], rows) \
            + _p(t("report.models_table_caption", lang), "kkbm-note")


# =========================================================================== figures both reports use
def _coverage_map(report: _Report, highlight: str | None) -> str:
    lang, p = report.lang, report.period
    cov = report.products.cells("barriers", measure="mentoring_coverage", period=p, level="province")
    frame = pd.DataFrame({"region_code": cov["region_code"].astype(str), "coverage": cov["value"].astype(float),
                          "suppressed": cov["suppressed"].astype(bool)})
    caption = t("report.map_caption", lang, period=p)
    fig = fg.tile_map(frame, value="coverage", lang=lang, highlight=highlight, percent=True,
                      legend_title=t("common.mentoring_coverage", lang), synthetic=report.synthetic)
    return report._figure(fig, f"coverage_map_{highlight or NATIONAL}_{p}_{lang}", caption, caption)


def _staffing_figure(report: _Report, highlight: str | None):
    st = report.products.cells("barriers", measure="members_per_organiser", period=report.period)
    frame = pd.DataFrame({"region_code": st["region_code"].astype(str),
                          "members_per_organiser": st["value"].astype(float), "suppressed": st["suppressed"]})
    return fg.province_bars(frame, "members_per_organiser", lang=report.lang, highlight=highlight, decimals=0,
                            label=t("figure.members_per_staff", report.lang), synthetic=report.synthetic)
