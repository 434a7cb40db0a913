"""What the province report and the national brief share: the report base class and common sections.

The report templates (``report_province.ipynb``, ``brief_national.ipynb``) are thin: a
parameters cell, then one call per section::

    import kkbm_analysis.reports as rp
    report = rp.ProvinceReport.from_parameters(province="36", period="2018", lang="id",
                                               data_dir="data/processed/demo")
    report.header()
    report.key_figures()
    ...

Each section returns :class:`~.markup.Html` (shown by Jupyter, kept as a ``text/html`` output
and exported as is). Numbers come from :mod:`.analysis` (memoised), words and number
formats from :mod:`kkbm_analysis.i18n`, HTML pieces from :mod:`.markup`, figures from
:mod:`.figures` (embedded PNG). The province report is :mod:`.province`, the brief
:mod:`.national`; recommendations come from :mod:`kkbm_analysis.recommendations`.
"""
from __future__ import annotations

from html import escape
from typing import Any


from pathlib import Path

from ..barriers import DEFAULT_TOLERANCE
from ..config import paths as project_paths
from ..data import NATIONAL_CODE
from ..i18n import text as t
from ..i18n import number as num
from ..i18n import ci_label, has_text, p_value
from ..i18n import interval as ci
from . import figures as fg
from . import analysis as an
from .markup import Html, _h2, _p, _section, _table
from .params import ReportParameters
# Short names: the sections format a number or fetch a word on nearly every line.

__all__ = ["TOLERANCE"]

#: Relative distance from the national value still called similar (the barrier profiles' verdict rule).
TOLERANCE = DEFAULT_TOLERANCE


def _model_error(model: str, exc: Exception, lang: str) -> str:
    return _p(t("report.model_failed", lang, model=model, reason=str(exc)), "kkbm-note")


# =========================================================================== shared base
class _Report:
    template = ""

    def __init__(self, params: ReportParameters, data: Any) -> None:
        self.params = params
        self.data = data
        self.lang = params.lang
        self.period = params.period

    @property
    def synthetic(self) -> bool:
        return bool(self.data.synthetic)

    def _figure(self, fig, name: str, alt: str, caption: str) -> str:
        if self.params.figure_dir is not None:
            fg.save(fig, name, self.params.figure_dir)
        return fg.figure_html(fig, alt=alt, caption=caption)

    def _banner(self) -> str:
        return f'<div class="kkbm-banner" id="kkbm-synthetic-banner">{escape(t("report.synthetic_banner", self.lang))}</div>' \
            if self.synthetic else ""

    def data_notes(self) -> Html:
        """Sources, synthetic flag, suppression, definitions, parameters, package version."""
        from .. import __version__
        lang, m = self.lang, self.data.manifest
        pub = an.published_indicators(self.data)
        meta = pub.metadata
        shown = self.params.as_dict()
        root = self.params.root or project_paths().root
        for k in ("data_dir", "figure_dir"):
            if k in shown and Path(shown[k]).is_relative_to(root):
                shown[k] = Path(shown[k]).relative_to(root).as_posix()
        params = ", ".join(f"{k}={v!r}" for k, v in shown.items() if k != "template")
        if m.get("inputs") and m.get("as_of"):
            items = [t("report.notes_source", lang, inputs=num(len(m["inputs"]), 0, lang), folder=self.params.data_dir.name,
                       version=self.data.data_version, as_of=m["as_of"])]
        else:
            items = [t("report.notes_source_plain", lang, folder=self.params.data_dir.name, version=self.data.data_version)]
        if self.synthetic:
            items.append(t("report.notes_synthetic", lang))
        items += [t("report.notes_suppression", lang, min_count=pub.thresholds.min_count,
                    min_den=pub.thresholds.min_denominator, primary=num(meta["primary"], 0, lang),
                    secondary=num(meta["secondary"], 0, lang)),
                  t("report.notes_definitions", lang), t("report.notes_parameters", lang, params=params),
                  t("report.notes_software", lang, version=__version__, template=self.template)]
        lis = "".join(f"<li>{escape(i)}</li>" for i in items)
        return _section(_h2("report.data_notes", lang), f'<ul class="kkbm-notes">{lis}</ul>')

    def _points_effect(self) -> tuple[Any, str]:
        """(business model result or exception, sentence on the effect of one more point)."""
        lang = self.lang
        try:
            model = an.business_model(self.data)
        except Exception as exc:  # noqa: BLE001 - shown in the report, not hidden
            return exc, _model_error("logit", exc, lang)
        me = model.marginal_effects.set_index("term")
        if "points" not in me.index:
            return model, ""
        r = me.loc["points"]
        sentence = t("report.model_points_effect", lang, ame=num(100 * r["ame"], 1, lang),
                     ci=ci_label(100 * r["ci_low"], 100 * r["ci_high"], 1, lang), p=p_value(r["p_value"], lang))
        return model, sentence

    def _model_table(self, model: Any) -> str:
        lang = self.lang
        rows = []
        for rec in model.estimates.itertuples():
            if rec.term == "const":
                continue
            key = f"model.covariate.{rec.term}"
            label = t(key, lang) if has_text(key) else rec.term
            label = label[:1].upper() + label[1:]
            rows.append(("", [escape(label), escape(num(rec.odds_ratio, 2, lang)),
                              escape(ci(rec.odds_ratio_ci_low, rec.odds_ratio_ci_high, 2, lang)),
                              escape(num(rec.p_value, 3, lang) if rec.p_value >= 0.001 else "< " + num(0.001, 3, lang))]))
        return _table([(t("common.term", lang), False), (t("common.odds_ratio", lang), True), (t("common.ci95", lang), True),
                       (t("report.col_p", lang), True)], rows) + _p(t("report.models_table_caption", lang), "kkbm-note")


# =========================================================================== province report


def _coverage_map(report: _Report, highlight: str | None) -> str:
    lang, p = report.lang, report.period
    coh = an.mentoring_cohorts(report.data, p)
    coh = coh.loc[coh["region_code"] != NATIONAL_CODE, ["region_code", "coverage", "suppressed"]]
    caption = t("report.map_caption", lang, period=p)
    fig = fg.tile_map(coh, value="coverage", lang=lang, highlight=highlight, percent=True,
                      legend_title=t("common.mentoring_coverage", lang), synthetic=report.synthetic)
    return report._figure(fig, f"coverage_map_{highlight or 'ID'}_{p}_{lang}", caption, caption)


def _staffing_figure(report: _Report, highlight: str | None):
    st = an.staffing_table(report.data)
    st = st.loc[st["period"] == report.period, ["region_code", "members_per_organiser"]]
    return fg.province_bars(st, "members_per_organiser", lang=report.lang, highlight=highlight, decimals=0,
                            label=t("figure.members_per_staff", report.lang), synthetic=report.synthetic)


# =========================================================================== national brief


# =========================================================================== recommendations
