"""The national policy brief (template ``brief_national.ipynb``), section by section."""
from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from ..data import NATIONAL_CODE
from ..i18n import is_finite as finite
from ..i18n import number as num
from ..i18n import percent as pct
from ..i18n import region_name
from ..i18n import text as t
from ..recommendations import recommendations
from . import analysis as an
from .cache import load_data
from .markup import STYLE, Html, _cards, _count, _h2, _p, _section, _supp, _table
from .params import validate_parameters
from .sections import _coverage_map, _model_error, _Report, _staffing_figure


class NationalBrief(_Report):
    """The national policy brief (template ``notebooks/brief_national.ipynb``)."""

    template = "brief_national"

    @classmethod
    def from_parameters(cls, *, period: Any, lang: Any, data_dir: Any, **options: Any) -> "NationalBrief":
        """Validate the parameters (:func:`validate_parameters`) and load the data (cached)."""
        params = validate_parameters("national", period=period, lang=lang, data_dir=data_dir, **options)
        return cls(params, load_data(params.data_dir))

    def _table(self) -> pd.DataFrame:
        return an.province_table(self.data, self.period)

    def header(self) -> Html:
        lang, p = self.lang, self.period
        table = self._table()
        nat = table.set_index("region_code").loc[NATIONAL_CODE]
        n_com, _ = an.communities_count(self.data, NATIONAL_CODE)
        from ..schema import load_mentoring_points
        n_points = len(load_mentoring_points().points)
        lead = t("report.national_lead", lang, period=p, members=num(nat["members"], 0, lang), communities=num(n_com, 0, lang),
                 n=len(table) - 1, points=num(nat["mean_points"], 1, lang), n_points=n_points,
                 coverage=pct(nat["coverage"], 0, lang), no_follow=pct(nat["no_follow_up_share"], 0, lang))
        return _section(f"<style>{STYLE}</style>", self._banner(),
                        f'<h1 class="kkbm-title">{escape(t("report.national_title", lang, period=p))}</h1>',
                        _p(t("report.national_subtitle", lang, n=len(table) - 1), "kkbm-subtitle"), _p(lead, "kkbm-lead"))

    def key_figures(self) -> Html:
        lang, p = self.lang, self.period
        table = self._table().set_index("region_code")
        nat = table.loc[NATIONAL_CODE]
        n_com, n_vil = an.communities_count(self.data, NATIONAL_CODE)
        ind = an.indicator_rows(self.data, p, NATIONAL_CODE).set_index("indicator_id")
        cards = [
            (escape(num(len(table) - 1, 0, lang)), t("report.kf_provinces", lang), ""),
            (escape(num(n_com, 0, lang)), t("report.kf_communities", lang),
             t("report.villages_count", lang, n=num(n_vil, 0, lang))),
            (_supp(lang) if ind.at["members", "suppressed"] else escape(num(ind.at["members", "value"], 0, lang)),
             t("report.kf_members", lang, period=p), ""),
            (_count(nat["trained"], lang), t("report.kf_trained", lang, period=p), ""),
            (escape(pct(nat["coverage"], 0, lang)), t("common.mentoring_coverage", lang), ""),
            (escape(pct(nat["no_follow_up_share"], 0, lang)), t("common.no_follow_up", lang), ""),
            (escape(num(nat["members_per_organiser"], 0, lang)), t("common.members_per_organiser", lang), ""),
            (_supp(lang) if ind.at["kur_uptake", "suppressed"] else escape(pct(ind.at["kur_uptake", "value"], 1, lang)),
             t("common.kur_uptake", lang), ""),
        ]
        return _section(_h2("report.key_figures", lang), _cards(cards))

    def comparison(self) -> Html:
        """All provinces ranked by mentoring coverage, with staffing, KUR and outcome measures."""
        lang, p = self.lang, self.period
        table = self._table()
        prov = table.loc[table["region_code"] != NATIONAL_CODE].copy()
        prov["_missing"] = prov["coverage"].isna()
        prov = prov.sort_values(["_missing", "coverage", "region_code"])
        nat = table.loc[table["region_code"] == NATIONAL_CODE]
        rows = []

        def cells(r: Any, rank: str) -> list[str]:
            def share(x: Any) -> str:
                return _supp(lang) if r.suppressed and not finite(x) else escape(pct(x, 0, lang))
            return [rank, escape(region_name(r.region_code, lang) if r.region_code != NATIONAL_CODE
                                 else t("common.national", lang)),
                    _supp(lang) if r.members_suppressed else escape(num(r.members, 0, lang)), _count(r.trained, lang),
                    share(r.coverage), share(r.no_follow_up_share), escape(num(r.members_per_organiser, 0, lang)),
                    escape(num(r.vacancy_months_per_community, 1, lang)), escape(pct(r.regeneration, 0, lang)),
                    escape(pct(r.kur_owner_uptake, 0, lang)), escape(pct(r.y12, 0, lang))]
        for i, r in enumerate(prov.itertuples(), start=1):
            rows.append(("", cells(r, str(i))))
        for r in nat.itertuples():
            rows.append(("kkbm-national", cells(r, "")))
        header = [(t("report.col_rank", lang), True), (t("common.province", lang), False), (t("report.col_members", lang), True),
                  (t("report.col_trained", lang), True), (t("common.mentoring_coverage", lang), True), (t("common.no_follow_up", lang), True),
                  (t("common.members_per_organiser", lang), True), (t("report.col_vacancy", lang), True), (t("report.col_regeneration", lang), True),
                  (t("common.kur_uptake", lang), True), (t("report.col_y12", lang), True)]
        pub = an.published_indicators(self.data)
        return _section(_h2("report.comparison", lang), _p(t("report.comparison_intro", lang, period=p)),
                        _table(header, rows, "wide"),
                        _p(t("report.suppressed_note", lang, min_count=pub.thresholds.min_count,
                             min_den=pub.thresholds.min_denominator), "kkbm-note"))

    def map(self) -> Html:
        return _section(_h2("report.map", self.lang), _coverage_map(self, highlight=None))

    def staffing(self) -> Html:
        lang, p = self.lang, self.period
        fig = _staffing_figure(self, highlight=None)
        caption = t("report.staffing_figure", lang, period=p)
        return _section(_h2("report.staffing", lang), _p(t("report.staffing_intro", lang, period=p)),
                        self._figure(fig, f"members_per_organiser_ID_{p}_{lang}", caption, caption))

    def models(self) -> Html:
        lang = self.lang
        if not self.params.options.get("show_models", True):
            return _section(_h2("report.models", lang), _p(t("report.models_skipped", lang), "kkbm-note"))
        parts = [_h2("report.models", lang)]
        model, sentence = self._points_effect()
        if isinstance(model, Exception):
            parts.append(sentence)
        else:
            parts.append(f'<div class="kkbm-model">{_p(sentence)}{_p(model.interpretation(lang))}</div>')
            parts.append(self._model_table(model))
        try:
            perdes = an.perdes_model(self.data)
            parts.append(f'<div class="kkbm-model">{_p(perdes.interpretation(lang))}</div>')
        except Exception as exc:  # noqa: BLE001
            parts.append(_model_error("Perdes DiD", exc, lang))
        return _section(*parts)

    def recommendations(self) -> Html:
        """Recommendations generated from the province comparison and the models."""
        lang = self.lang
        model = perdes = None
        if self.params.options.get("show_models", True):
            try:
                model = an.business_model(self.data)
            except Exception:  # noqa: BLE001 - the recommendation just leaves the model out
                model = None
            try:
                perdes = an.perdes_model(self.data)
            except Exception:  # noqa: BLE001
                perdes = None
        recs = recommendations(self._table(), lang=lang, period=self.period, model=model, perdes=perdes)
        items = "".join(f"<li>{escape(r)}</li>" for r in recs)
        return _section(_h2("report.recommendations", lang), _p(t("report.recommendations_intro", lang)),
                        f'<ol class="kkbm-recs">{items}</ol>')
