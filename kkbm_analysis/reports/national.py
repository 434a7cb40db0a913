"""The national policy brief (template ``brief_national.ipynb``), section by section, from the products."""
from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from ..i18n import region_name
from ..i18n import text as t
from ..products import NATIONAL
from .advice import national_advice
from .cache import load_products
from .cells import cell_text, is_withheld, tagged
from .markup import STYLE, Html, _cards, _h2, _p, _section, _table
from .params import validate_parameters
from .sections import _coverage_map, _Report, _staffing_figure

#: The comparison table's columns: (product, measure, header key).
COMPARISON = (("indicators", "members", "report.col_members"), ("barriers", "members_trained", "report.col_trained"),
              ("barriers", "mentoring_coverage", "common.mentoring_coverage"),
              ("barriers", "no_follow_up_share", "common.no_follow_up"),
              ("barriers", "members_per_organiser", "common.members_per_organiser"),
              ("barriers", "vacancy_months_per_community", "report.col_vacancy"),
              ("barriers", "cadre_regeneration", "report.col_regeneration"),
              ("barriers", "kur_owner_uptake", "barrier.kur_owner_uptake.label"),
              ("barriers", "business_running_12m", "report.col_y12"))


class NationalBrief(_Report):
    """The national policy brief (template ``brief_national.ipynb``)."""

    template = "brief_national"

    @classmethod
    def from_parameters(cls, *, period: Any, lang: Any, data_dir: Any, **options: Any) -> "NationalBrief":
        """Validate the parameters (:func:`validate_parameters`) and open the products (cached)."""
        params = validate_parameters("national", period=period, lang=lang, data_dir=data_dir, **options)
        return cls(params, load_products(params.data_dir))

    def _words(self, product: str, measure: str, **kw: Any) -> str:
        c = self._cell(product, measure, NATIONAL)
        if c is None:
            return t("common.no_data", self.lang)
        return t("common.suppressed", self.lang) if is_withheld(c) else cell_text(c, product, self.lang, **kw)

    def header(self) -> Html:
        """Synthetic-data banner, title, subtitle and the data's own date (the key messages follow)."""
        lang, n = self.lang, len(self.products.provinces)
        return _section(f"<style>{STYLE}</style>", self._banner(),
                        f'<h1 class="kkbm-title">{escape(t("report.national_title", lang, period=self.period_text()))}'
                        "</h1>", _p(t("report.national_subtitle", lang, n=n), "kkbm-subtitle"),
                        _p(self.data_as_of(), "kkbm-subtitle kkbm-data-date"))

    def key_figures(self) -> Html:
        lang, p = self.lang, self.period_text()
        villages = self._words("barriers", "villages")
        cards = [
            (escape(str(len(self.products.provinces))), t("report.kf_provinces", lang), ""),
            (self.tag("barriers", "communities", NATIONAL), t("report.kf_communities", lang),
             t("report.villages_count", lang, n=villages)),
            (self.tag("indicators", "members", NATIONAL), t("report.kf_members", lang, period=p), ""),
            (self.tag("barriers", "members_trained", NATIONAL), t("report.kf_trained", lang, period=p), ""),
            (self.tag("barriers", "mentoring_coverage", NATIONAL), t("common.mentoring_coverage", lang), ""),
            (self.tag("barriers", "no_follow_up_share", NATIONAL), t("barrier.no_follow_up_share.label", lang), ""),
            (self.tag("barriers", "members_per_organiser", NATIONAL), t("common.members_per_organiser", lang), ""),
            # the same measure, under the same name, as the comparison table's KUR column
            (self.tag("barriers", "kur_owner_uptake", NATIONAL), t("barrier.kur_owner_uptake.label", lang), ""),
        ]
        return _section(_h2("report.key_figures", lang), _cards(cards))

    def comparison(self) -> Html:
        """All provinces ranked by mentoring coverage, with staffing, KUR and outcome measures."""
        lang, p = self.lang, self.period
        frames = {prod: self.products.cells(prod, measure=[m for pr, m, _ in COMPARISON if pr == prod], period=p)
                  for prod in ("indicators", "barriers")}
        cov = frames["barriers"].loc[frames["barriers"]["measure_id"] == "mentoring_coverage"]
        order = cov.loc[cov["level"] == "province"].assign(
            _missing=lambda d: d["value"].isna(), _v=lambda d: d["value"].astype(float)).sort_values(
            ["_missing", "_v", "region_code"])["region_code"].astype(str).tolist()
        order += [c for c in self.products.provinces if c not in order]

        def cells(code: str, rank: str) -> list[str]:
            name = t("common.national", lang) if code == NATIONAL else region_name(code, lang)
            out = [escape(name), rank]  # the name first: it is the column a phone keeps in view
            for prod, measure, _ in COMPARISON:
                f = frames[prod]
                hit = f.loc[(f["measure_id"] == measure) & (f["region_code"] == code)]
                out.append(tagged(hit.iloc[0] if len(hit) else None, prod, lang))
            return out
        rows = [("", cells(code, str(i))) for i, code in enumerate(order, start=1)]
        rows.append(("kkbm-national", cells(NATIONAL, "")))
        header = [(t("common.province", lang), False), (t("report.col_rank", lang), True),
                  *((t(key, lang), True) for _, _, key in COMPARISON)]
        th = self.products.thresholds
        shown = pd.concat([f.loc[f["region_code"] == NATIONAL] for f in frames.values()], ignore_index=True)
        return _section(_h2("report.comparison", lang),
                        _p(t("report.comparison_intro", lang, period=self.period_text())),
                        _table(header, rows, "wide ranked"), self.windows_note(shown),
                        _p(t("report.suppressed_note", lang, min_count=th.get("min_count"),
                             min_den=th.get("min_denominator")), "kkbm-note"))

    def map(self) -> Html:
        return _section(_h2("report.map", self.lang), _coverage_map(self, highlight=None))

    def staffing(self) -> Html:
        lang, p = self.lang, self.period
        fig = _staffing_figure(self, highlight=None)
        caption = t("report.staffing_figure", lang, period=self.period_text())
        return _section(_h2("report.staffing", lang), _p(t("report.staffing_intro", lang, period=self.period_text())),
                        self._figure(fig, f"members_per_organiser_{NATIONAL}_{p}_{lang}", caption, caption))

    def models(self) -> Html:
        lang = self.lang
        if not self.params.options.get("show_models", True):
            return _section(_h2("report.models", lang), _p(t("report.models_skipped", lang), "kkbm-note"))
        parts = [_h2("report.models", lang)]
        fit, sentence = self._points_effect()
        if fit is None:
            parts.append(sentence)
        else:
            # the model's own reading speaks of raising the odds; the brief words it as an association only
            parts.append(f'<div class="kkbm-model">{sentence}</div>')
            parts.append(self._model_table(fit))
            parts.append(self.model_window(fit))
        parts.append(self.perdes_did())
        return _section(*parts)

    def recommendations(self) -> Html:
        """The evidence-graded recommendation records of the period, in words."""
        lang = self.lang
        items = national_advice(self.products, self.period, lang)
        body = "".join(f"<li>{i}</li>" for i in items) or f"<li>{escape(t('evidence.rec_none', lang))}</li>"
        return _section(_h2("report.recommendations", lang), _p(t("evidence.recommendations_intro", lang)),
                        f'<ol class="kkbm-recs">{body}</ol>')

