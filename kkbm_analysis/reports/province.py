"""The province evaluation report (template ``report_province.ipynb``), section by section, from the products."""
from __future__ import annotations

from html import escape
from typing import Any, Sequence

import pandas as pd

from ..i18n import is_finite as finite
from ..i18n import number as num
from ..i18n import percent as pct
from ..i18n import region_name
from ..i18n import text as t
from ..products import NATIONAL
from . import figures as fg
from .advice import province_advice
from .cache import load_products
from .cells import badge, cell_ci, cell_text, is_withheld, supp, tagged
from .markup import STYLE, Html, _cards, _h2, _p, _section, _table
from .narrative import fill
from .params import validate_parameters
from .sections import REPORT_INDICATORS, _coverage_map, _model_error, _Report, _staffing_figure


class ProvinceReport(_Report):
    """The province evaluation report (template ``report_province.ipynb``)."""

    template = "report_province"

    @classmethod
    def from_parameters(cls, *, province: Any, period: Any, lang: Any, data_dir: Any, **options: Any
                        ) -> "ProvinceReport":
        """Validate the parameters (:func:`validate_parameters`) and open the products (cached)."""
        params = validate_parameters("province", province=province, period=period, lang=lang, data_dir=data_dir,
                                     **options)
        return cls(params, load_products(params.data_dir))

    @property
    def code(self) -> str:
        return str(self.params.province)

    @property
    def name(self) -> str:
        return region_name(self.code, self.lang)

    def _words(self, product: str, measure: str, region: str, **kw: Any) -> str:
        """A cell's value as plain words for a sentence ("suppressed" when withheld)."""
        c = self._cell(product, measure, region)
        if c is None:
            return t("common.no_data", self.lang)
        return t("common.suppressed", self.lang) if is_withheld(c) else cell_text(c, product, self.lang, **kw)

    # ------------------------------------------------------------------ sections
    @property
    def region(self) -> str:
        return self.code

    @property
    def region_label(self) -> str:
        return self.name

    def header(self) -> Html:
        """Synthetic-data banner, title, subtitle and the data's own date (the key messages follow)."""
        lang, code = self.lang, self.code
        return _section(f"<style>{STYLE}</style>", self._banner(),
                        f'<h1 class="kkbm-title">{escape(t("report.province_title", lang, name=self.name))}</h1>',
                        _p(t("report.province_subtitle", lang, period=self.period_text(), code=code), "kkbm-subtitle"),
                        _p(self.data_as_of(), "kkbm-subtitle kkbm-data-date"))

    def key_figures(self) -> Html:
        """Cards: members, communities, trained, mentoring coverage, staffing, businesses, KUR."""
        lang, p, code = self.lang, self.period_text(), self.code

        def national_note(product: str, measure: str, share: bool) -> str:
            own, nat = self._cell(product, measure, code), self._cell(product, measure, NATIONAL)
            if is_withheld(nat):
                return ""
            if share and not is_withheld(own) and finite(own["value"]) and float(nat["value"]) > 0:
                return t("report.share_of_national", lang, share=pct(float(own["value"]) / float(nat["value"]), 1,
                                                                      lang))
            return t("report.national_is", lang, value=cell_text(nat, product, lang))

        villages = self._words("barriers", "villages", code)
        cards = [
            (self.tag("indicators", "members", code), t("report.kf_members", lang, period=p),
             national_note("indicators", "members", True)),
            (self.tag("barriers", "communities", code), t("report.kf_communities", lang),
             t("report.villages_count", lang, n=villages)),
            (self.tag("barriers", "members_trained", code), t("report.kf_trained", lang, period=p), ""),
            (self.tag("barriers", "mentoring_coverage", code), t("common.mentoring_coverage", lang),
             t("report.of_mandate", lang, points=self._words("barriers", "mentoring_points_mean", code),
               n=len(self.products.point_ids)) + " · " + national_note("barriers", "mentoring_coverage", False)),
            (self.tag("barriers", "members_per_organiser", code), t("common.members_per_organiser", lang),
             national_note("barriers", "members_per_organiser", False)),
            (self.tag("indicators", "businesses_active", code), t("report.kf_businesses", lang, period=p),
             national_note("indicators", "businesses_active", True)),
            (self.tag("indicators", "kur_uptake", code), _measure_label(self.ind("kur_uptake", code), lang),
             national_note("indicators", "kur_uptake", False)),
        ]
        return _section(_h2("report.key_figures", lang), _cards(cards))

    def indicators(self) -> Html:
        """Empowerment indicators with 95% intervals and the national value (withheld cells marked), and a figure."""
        lang, p, code = self.lang, self.period, self.code
        words = self.period_text()
        cells = self.products.indicators(measure=list(REPORT_INDICATORS), period=p, region=[code, NATIONAL])
        own = cells.loc[cells["region_code"] == code].set_index("measure_id")
        nat = cells.loc[cells["region_code"] == NATIONAL].set_index("measure_id")
        domains = {r["measure_id"]: r for _, r in cells.iterrows()}
        rows, domain = [], None
        for ind_id in REPORT_INDICATORS:
            if ind_id not in domains:
                continue
            dom = str(domains[ind_id]["domain"])
            if dom != domain:
                domain = dom
                rows.append(("kkbm-group", [escape(t("report.domain_" + dom, lang)), "", "", ""]))
            r = own.loc[ind_id] if ind_id in own.index else None
            label = domains[ind_id]["label_id" if lang == "id" else "label_en"]
            own_cell = None if r is None else r.to_dict() | {"measure_id": ind_id}
            interval = supp(lang) if is_withheld(own_cell) else escape(cell_ci(own_cell, "indicators", lang))
            nat_cell = nat.loc[ind_id].to_dict() | {"measure_id": ind_id} if ind_id in nat.index else None
            rows.append(("", [escape(str(label)), tagged(own_cell, "indicators", lang), interval,
                              tagged(nat_cell, "indicators", lang)]))
        table = _table([(t("report.col_indicator", lang), False), (f"{self.name}", True),
                        (t("common.ci95", lang), True), (t("common.national", lang), True)], rows)
        th = self.products.thresholds
        note = t("report.suppressed_note", lang, min_count=th.get("min_count"), min_den=th.get("min_denominator"))
        kur = self.products.indicators(measure="kur_uptake", period=p)
        frame = pd.DataFrame({"region_code": kur["region_code"].astype(str), "value": kur["value"].astype(float),
                              "ci_low": kur["ci_low"].astype(float), "ci_high": kur["ci_high"].astype(float),
                              "suppressed": kur["suppressed"], "indicator_id": "kur_uptake",
                              "label_id": kur["label_id"], "label_en": kur["label_en"], "unit": kur["unit"]})
        fig = fg.province_bars(frame, "value", lang=lang, highlight=code, percent=True, ci=("ci_low", "ci_high"),
                               synthetic=self.synthetic)
        caption = t("report.indicators_figure", lang, period=words)
        return _section(_h2("report.indicators", lang),
                        _p(t("report.indicators_intro", lang, name=self.name, period=words)),
                        table, self.windows_note(own.reset_index()), _p(note, "kkbm-note"),
                        self._figure(fig, f"kur_uptake_{code}_{p}_{lang}", caption, caption))

    def _profile_table(self, ids: Sequence[str]) -> str:
        lang, rows = self.lang, []
        for bid in ids:
            c, n = self.bar(bid, self.code), self.bar(bid, NATIONAL)
            if c is None:
                continue
            rows.append(("", [escape(str(c["label_" + lang])), tagged(c, "barriers", lang),
                              tagged(n, "barriers", lang), badge(c, lang)]))
        table = _table([(t("report.col_measure", lang), False), (self.name, True), (t("common.national", lang), True),
                        (t("report.col_verdict", lang), False)], rows)
        return table + self.windows_note(self.products.barriers(measure=list(ids), region=self.code, period=self.period))

    def mentoring(self) -> Html:
        """Mandated vs delivered mentoring for the period's trained cohort, by point, against the nation."""
        lang, p, code = self.lang, self.period, self.code
        points = self.products.mentoring_points(period=p, region=[code, NATIONAL])
        rows = []
        for pid in self.products.point_ids:
            share = points.loc[points["measure_id"] == f"mentoring_point:{pid}"].set_index("region_code")
            held = points.loc[points["measure_id"] == f"mentoring_sessions:{pid}"].set_index("region_code")
            if share.empty:
                continue
            label = share.iloc[0]["label_id" if lang == "id" else "label_en"]
            rows.append(("", [escape(str(label)), _tag_row(share, code, lang), _tag_row(share, NATIONAL, lang),
                              _tag_row(held, code, lang)]))
        table = _table([(t("common.mentoring_point", lang), False),
                        (t("report.col_received_prov", lang, name=self.name), True),
                        (t("report.col_received_nat", lang), True), (t("report.col_sessions", lang), True)], rows)
        n_points = len(self.products.point_ids)
        trained = self.bar("members_trained", code)
        mean = self.bar("mentoring_points_mean", code)
        withheld = is_withheld(trained) or is_withheld(mean)
        word = t("common.suppressed", lang)
        intro = t("report.mentoring_intro", lang, n_points=n_points, name=self.name, period=self.period_text(),
                  trained=self._words("barriers", "members_trained", code),
                  window=t("narrative.mentoring_window", lang, cohort=self.window(trained),
                           until=self.window(mean).split(" – ")[-1]))
        mandate = t("report.mentoring_mandate", lang, period=self.period_text(),
                    mandated=word if withheld else num(float(trained["value"]) * n_points, 0, lang),
                    delivered=word if withheld else num(mean["numerator"], 0, lang),
                    coverage=self._words("barriers", "mentoring_coverage", code),
                    coverage_nat=self._words("barriers", "mentoring_coverage", NATIONAL))
        caption = t("report.mentoring_figure", lang, period=self.period_text(), name=self.name)
        fig = fg.point_bars(_point_shares(points, [code, NATIONAL]), lang=lang, synthetic=self.synthetic)
        return _section(_h2("report.mentoring", lang), _p(intro), table, _p(mandate),
                        self._profile_table(["mentoring_points_mean", "no_follow_up_share", "months_to_first_mentoring"]),
                        self._figure(fig, f"mentoring_points_{code}_{p}_{lang}", caption, caption))

    def staffing(self) -> Html:
        """Members per organiser, officers, vacancies, turnover and cadre regeneration."""
        lang, p = self.lang, self.period
        ids = ["members_per_organiser", "officers_per_community", "vacancy_months_per_community",
               "organiser_turnover", "cadre_regeneration"]
        fig = _staffing_figure(self, highlight=self.code)
        caption = t("report.staffing_figure", lang, period=self.period_text())
        return _section(_h2("report.staffing", lang), _p(t("report.staffing_intro", lang, period=self.period_text())),
                        self._profile_table(ids),
                        self._figure(fig, f"members_per_organiser_{self.code}_{p}_{lang}", caption, caption))

    def other_barriers(self) -> Html:
        """Training into practice, government synergy and access to capital."""
        lang = self.lang
        ids = ["training_to_practice", "perdes_share", "village_gov_involved_share", "disnakertrans_informed_share",
               "kur_approval_rate", "kur_owner_uptake"]
        return _section(_h2("report.other_barriers", lang), _p(t("report.other_intro", lang)),
                        self._profile_table(ids))

    def models(self) -> Html:
        """What the outcome models say about this province (national fits, read from the products)."""
        lang, code = self.lang, self.code
        if not self.params.options.get("show_models", True):
            return _section(_h2("report.models", lang), _p(t("report.models_skipped", lang), "kkbm-note"))
        parts = [_h2("report.models", lang), _p(t("report.models_intro", lang, name=self.name))]
        fit, sentence = self._points_effect()
        if fit is None:
            parts.append(sentence)
        else:
            parts.append(f'<div class="kkbm-model">{sentence}</div>')
            parts.append(self._model_table(fit))
            parts.append(self.model_window(fit))
        gap = self._fit(f"gap_{code}")
        if gap is not None:
            if gap.ok:
                ref = str(gap.parameters.get("province_a"))
                top = _top_province(self.products.fits())
                intro = t("report.model_gap_best", lang, name=self.name, ref=region_name(ref, lang)) if top == code \
                    else t("report.model_gap_intro", lang, ref=region_name(ref, lang))
                parts.append(f'<div class="kkbm-model">{_p(intro)}{_p(gap.text(lang))}</div>{self.model_window(gap)}')
            else:
                parts.append(_model_error("Oaxaca-Blinder", gap.reason, lang))
        parts.append(self.perdes_did(self._perdes_villages()))
        return _section(*parts)

    def _perdes_villages(self) -> str:
        """How many of the province's community villages have a Perdes (withheld in words when small)."""
        lang, code = self.lang, self.code
        with_perdes, villages = self.bar("villages_with_perdes", code), self.bar("villages", code)
        if is_withheld(with_perdes) or is_withheld(villages):
            return _p(t("narrative.perdes_withheld", lang, name=self.name))
        return "<p>" + fill("report.model_perdes_villages", lang, {
            "with_perdes": tagged(with_perdes, "barriers", lang), "villages": tagged(villages, "barriers", lang)},
            name=self.name) + "</p>"

    def recommendations(self) -> Html:
        """This province's recommendations: the evidence-graded records of the products, in words."""
        lang = self.lang
        items = province_advice(self.products, self.code, self.period, lang)
        body = "".join(f"<li>{i}</li>" for i in items) or f"<li>{escape(t('evidence.rec_none', lang))}</li>"
        return _section(_h2("report.recommendations", lang), _p(t("evidence.recommendations_intro", lang)),
                        f'<ol class="kkbm-recs">{body}</ol>')

    def map(self) -> Html:
        """Tile-grid map of mentoring coverage by province, this province outlined."""
        return _section(_h2("report.map", self.lang), _coverage_map(self, highlight=self.code))


def _measure_label(cell: pd.Series | None, lang: str) -> str:
    """A published measure's own label (the measure a card shows is named as the tables name it)."""
    if cell is None:
        return t("common.no_data", lang)
    label = str(cell["label_id" if lang == "id" else "label_en"])
    return label[:1].upper() + label[1:]


def _tag_row(cells: pd.DataFrame, region: str, lang: str) -> str:
    if region not in cells.index:
        return escape(t("common.no_data", lang))
    return tagged(cells.loc[region].to_dict() | {"region_code": region}, "mentoring_points", lang)


def _top_province(fits: dict[str, Any]) -> str | None:
    """The province every other one is compared with (the highest published 12-month business share)."""
    refs = [str(f.parameters.get("province_a")) for f in fits.values() if f.fit_id.startswith("gap_")]
    return max(set(refs), key=refs.count) if refs else None


def _point_shares(points: pd.DataFrame, regions: Sequence[str]) -> pd.DataFrame:
    """Long (region, point) shares of the period's trained cohort, for the mentoring chart."""
    share = points.loc[points["measure_id"].str.startswith("mentoring_point:") & points["region_code"].isin(regions)]
    return pd.DataFrame({"region_code": share["region_code"].astype(str), "point_id": share["point_id"].astype(str),
                         "share": share["value"].astype(float), "label_id": share["label_id"],
                         "label_en": share["label_en"], "suppressed": share["suppressed"].astype(bool)}
                        ).reset_index(drop=True)
