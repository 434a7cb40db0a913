"""The province evaluation report (template ``report_province.ipynb``), section by section."""
from __future__ import annotations

from html import escape
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..data import NATIONAL_CODE
from ..i18n import interval as ci
from ..i18n import is_finite as finite
from ..i18n import number as num
from ..i18n import percent as pct
from ..i18n import region_name
from ..i18n import text as t
from . import analysis as an
from . import figures as fg
from .cache import load_data
from .markup import STYLE, Html, _badge, _cards, _count, _h2, _p, _plain_count, _section, _supp, _table, value_text
from .params import validate_parameters
from .sections import TOLERANCE, _coverage_map, _model_error, _Report, _staffing_figure


class ProvinceReport(_Report):
    """The province evaluation report (template ``notebooks/report_province.ipynb``)."""

    template = "report_province"

    @classmethod
    def from_parameters(cls, *, province: Any, period: Any, lang: Any, data_dir: Any, **options: Any
                        ) -> "ProvinceReport":
        """Validate the parameters (:func:`validate_parameters`) and load the data (cached)."""
        params = validate_parameters("province", province=province, period=period, lang=lang, data_dir=data_dir,
                                     **options)
        return cls(params, load_data(params.data_dir))

    @property
    def code(self) -> str:
        return str(self.params.province)

    @property
    def name(self) -> str:
        return region_name(self.code, self.lang)

    # ------------------------------------------------------------------ numbers
    def _cohort(self, region: str) -> pd.Series:
        coh = an.mentoring_cohorts(self.data, self.period).set_index("region_code")
        return coh.loc[region] if region in coh.index else pd.Series(dtype=object)

    def _profile(self) -> pd.DataFrame:
        return an.profile(self.data, self.period, self.code).set_index("barrier_id")

    # ------------------------------------------------------------------ sections
    def header(self) -> Html:
        """Synthetic-data banner, title, and a lead paragraph with the main numbers."""
        lang, p = self.lang, self.period
        ind = an.indicator_rows(self.data, p, self.code).set_index("indicator_id")
        n_com, n_vil = an.communities_count(self.data, self.code)
        own, nat = self._cohort(self.code), self._cohort(NATIONAL_CODE)
        st, st_nat = an.staffing_row(self.data, p, self.code), an.staffing_row(self.data, p, NATIONAL_CODE)
        from ..schema import load_mentoring_points
        n_points = len(load_mentoring_points().points)
        members = ind.at["members", "value"]
        lead = t("report.province_lead", lang, period=p, name=self.name, communities=num(n_com, 0, lang),
                 villages=num(n_vil, 0, lang),
                 members=t("common.suppressed", lang) if ind.at["members", "suppressed"] else num(members, 0, lang),
                 points=num(own.get("mean_points"), 1, lang), points_nat=num(nat.get("mean_points"), 1, lang),
                 n_points=n_points, mpo=num(None if st is None else st["members_per_organiser"], 0, lang),
                 mpo_nat=num(None if st_nat is None else st_nat["members_per_organiser"], 0, lang))
        return _section(f"<style>{STYLE}</style>", self._banner(),
                        f'<h1 class="kkbm-title">{escape(t("report.province_title", lang, name=self.name))}</h1>',
                        _p(t("report.province_subtitle", lang, period=p, code=self.code), "kkbm-subtitle"),
                        _p(lead, "kkbm-lead"))

    def key_figures(self) -> Html:
        """Cards: members, communities, trained, mentoring coverage, staffing, businesses, KUR."""
        lang, p = self.lang, self.period
        ind = an.indicator_rows(self.data, p, self.code).set_index("indicator_id")
        n_com, n_vil = an.communities_count(self.data, self.code)
        own, nat = self._cohort(self.code), self._cohort(NATIONAL_CODE)
        st, st_nat = an.staffing_row(self.data, p, self.code), an.staffing_row(self.data, p, NATIONAL_CODE)

        def indicator_card(ind_id: str, label_key: str, share_of_national: bool) -> tuple[str, str, str]:
            r = ind.loc[ind_id]
            if r["suppressed"]:
                return _supp(lang), t(label_key, lang, period=p), ""
            value = escape(value_text(r["value"], r["unit"], lang))
            if share_of_national and finite(r["national"]) and float(r["national"]) > 0:
                note = t("report.share_of_national", lang, share=pct(float(r["value"]) / float(r["national"]), 1, lang))
            else:
                note = t("report.national_is", lang, value=value_text(r["national"], r["unit"], lang))
            return value, t(label_key, lang, period=p), note

        from ..schema import load_mentoring_points
        n_points = len(load_mentoring_points().points)
        coverage = own.get("coverage")
        cards = [
            indicator_card("members", "report.kf_members", True),
            (escape(num(n_com, 0, lang)), t("report.kf_communities", lang), t("report.villages_count", lang, n=num(n_vil, 0, lang))),
            (_count(own.get("trained"), lang), t("report.kf_trained", lang, period=p), ""),
            (_supp(lang) if not finite(coverage) and bool(own.get("suppressed", False)) else escape(pct(coverage, 0, lang)),
             t("common.mentoring_coverage", lang),
             t("report.of_mandate", lang, points=num(own.get("mean_points"), 1, lang), n=n_points) + " · "
             + t("report.national_is", lang, value=pct(nat.get("coverage"), 0, lang))),
            (escape(num(None if st is None else st["members_per_organiser"], 0, lang)), t("common.members_per_organiser", lang),
             t("report.national_is", lang, value=num(None if st_nat is None else st_nat["members_per_organiser"], 0, lang))),
            indicator_card("businesses_active", "report.kf_businesses", True),
            indicator_card("kur_uptake", "common.kur_uptake", False),
        ]
        return _section(_h2("report.key_figures", lang), _cards(cards))

    def indicators(self) -> Html:
        """Empowerment indicators with 95% CIs and the national benchmark (suppressed), and a figure."""
        lang, p = self.lang, self.period
        rows_df = an.indicator_rows(self.data, p, self.code)
        rows, domain = [], None
        for r in rows_df.itertuples():
            if r.domain != domain:
                domain = r.domain
                rows.append(("kkbm-group", [escape(t("report.domain_" + domain, lang)), "", "", ""]))
            label = r.label_id if lang == "id" else r.label_en
            if r.suppressed:
                value, interval = _supp(lang), _supp(lang)
            else:
                value = escape(value_text(r.value, r.unit, lang))
                interval = escape(ci(r.ci_low, r.ci_high, 1 if r.unit == "proportion" else 0, lang,
                                     percent=r.unit == "proportion")) if r.kind in ("proportion", "mean") \
                    else escape(t("common.not_applicable", lang))
            national = _supp(lang) if r.national_suppressed else escape(value_text(r.national, r.unit, lang))
            rows.append(("", [escape(label), value, interval, national]))
        table = _table([(t("report.col_indicator", lang), False), (f"{self.name}", True), (t("common.ci95", lang), True),
                        (t("common.national", lang), True)], rows)
        pub = an.published_indicators(self.data)
        note = t("report.suppressed_note", lang, min_count=pub.thresholds.min_count, min_den=pub.thresholds.min_denominator)
        kur = an.indicator_by_province(self.data, "kur_uptake", p).assign(indicator_id="kur_uptake")
        fig = fg.province_bars(kur, "value", lang=lang, highlight=self.code, percent=True, ci=("ci_low", "ci_high"),
                               synthetic=self.synthetic)
        caption = t("report.indicators_figure", lang, period=p)
        return _section(_h2("report.indicators", lang), _p(t("report.indicators_intro", lang, name=self.name, period=p)), table,
                        _p(note, "kkbm-note"),
                        self._figure(fig, f"kur_uptake_{self.code}_{p}_{lang}", caption, caption))

    def _sentences(self, ids: Sequence[str], badges: bool = True) -> str:
        prof = self._profile()
        lang = self.lang
        items = []
        for bid in ids:
            if bid not in prof.index:
                continue
            r = prof.loc[bid]
            badge = _badge(str(r["verdict"]), lang) + " " if badges else ""
            items.append(f"<li>{badge}{escape(str(r['sentence_' + lang]))}</li>")
        return f'<ul class="kkbm-sentences">{"".join(items)}</ul>'

    def _profile_table(self, ids: Sequence[str]) -> str:
        prof = self._profile()
        lang = self.lang
        rows = []
        for bid in ids:
            if bid not in prof.index:
                continue
            r = prof.loc[bid]
            percent = str(r["unit"]) in ("share", "share of average staff")
            small = finite(r["benchmark"]) and abs(float(r["benchmark"])) < 0.1
            decimals = 0 if percent else (3 if small else 2 if bid == "officers_per_community" else 1)

            def fmt(x: Any) -> str:
                return pct(x, decimals, lang) if percent else num(x, decimals, lang)
            rows.append(("", [escape(str(r["label_" + lang])), escape(fmt(r["value"])), escape(fmt(r["benchmark"])),
                              _badge(str(r["verdict"]), lang)]))
        return _table([(t("report.col_measure", lang), False), (self.name, True), (t("common.national", lang), True),
                       (t("report.col_verdict", lang), False)], rows)

    def mentoring(self) -> Html:
        """Mandated vs delivered mentoring for the period's trained cohort, by point, against the nation."""
        lang, p = self.lang, self.period
        from ..schema import load_mentoring_points
        mp = load_mentoring_points()
        own, nat = self._cohort(self.code), self._cohort(NATIONAL_CODE)
        sessions = an.sessions_by_point(self.data, p)
        rows = []
        for point in mp.points:
            label = point.label_id if lang == "id" else point.label_en
            share, share_nat = own.get(f"share_{point.key}"), nat.get(f"share_{point.key}")
            held = sessions.at[self.code, point.key] if self.code in sessions.index and point.key in sessions.columns \
                else 0
            rows.append(("", [escape(label), _supp(lang) if not finite(share) and own.get("trained", 0) else
                              escape(pct(share, 0, lang)), escape(pct(share_nat, 0, lang)),
                              escape(num(held, 0, lang))]))
        table = _table([(t("common.mentoring_point", lang), False), (t("report.col_received_prov", lang, name=self.name), True),
                        (t("report.col_received_nat", lang), True), (t("report.col_sessions", lang), True)], rows)
        intro = t("report.mentoring_intro", lang, n_points=len(mp.points), name=self.name, period=p,
                  trained=_plain_count(own.get("trained"), lang))
        mandate = t("report.mentoring_mandate", lang, period=p, mandated=num(own.get("points_mandated"), 0, lang),
                    delivered=num(own.get("points_delivered"), 0, lang), coverage=pct(own.get("coverage"), 0, lang),
                    coverage_nat=pct(nat.get("coverage"), 0, lang))
        caption = t("report.mentoring_figure", lang, period=p, name=self.name)
        fig = fg.point_bars(_point_shares(self.data, p, [self.code, NATIONAL_CODE]), lang=lang,
                            synthetic=self.synthetic)
        return _section(_h2("report.mentoring", lang), _p(intro), table, _p(mandate),
                        self._sentences(["mentoring_points_mean", "no_follow_up_share", "months_to_first_mentoring"]),
                        self._figure(fig, f"mentoring_points_{self.code}_{p}_{lang}", caption, caption))

    def staffing(self) -> Html:
        """Members per organiser, officers, vacancies, turnover and cadre regeneration."""
        lang, p = self.lang, self.period
        ids = ["members_per_organiser", "officers_per_community", "vacancy_months_per_community",
               "organiser_turnover", "cadre_regeneration"]
        fig = _staffing_figure(self, highlight=self.code)
        caption = t("report.staffing_figure", lang, period=p)
        return _section(_h2("report.staffing", lang), _p(t("report.staffing_intro", lang, period=p)), self._profile_table(ids),
                        self._sentences(ids, badges=False),
                        self._figure(fig, f"members_per_organiser_{self.code}_{p}_{lang}", caption, caption),
                        _p(t("report.verdict_note", lang, tol=pct(TOLERANCE, 0, lang)), "kkbm-note"))

    def other_barriers(self) -> Html:
        """Training into practice, government synergy and access to capital."""
        lang = self.lang
        ids = ["training_to_practice", "perdes_share", "village_gov_involved_share", "disnakertrans_informed_share",
               "kur_approval_rate", "kur_owner_uptake"]
        return _section(_h2("report.other_barriers", lang), _p(t("report.other_intro", lang)), self._profile_table(ids),
                        self._sentences(ids, badges=False),
                        _p(t("report.verdict_note", lang, tol=pct(TOLERANCE, 0, lang)), "kkbm-note"))

    def models(self) -> Html:
        """What the outcome models say about this province (national fits, province-specific reading)."""
        lang, p = self.lang, self.period
        if not self.params.options.get("show_models", True):
            return _section(_h2("report.models", lang), _p(t("report.models_skipped", lang), "kkbm-note"))
        parts = [_h2("report.models", lang), _p(t("report.models_intro", lang, name=self.name))]
        model, sentence = self._points_effect()
        if isinstance(model, Exception):
            parts.append(sentence)
        else:
            rates = an.y12_rates(self.data).set_index("region_code")
            own_points = an.outcome_frame(self.data)
            own_points = own_points.loc[own_points["province_code"].astype(str) == self.code, "points"].mean()
            from ..schema import load_mentoring_points
            n_points = len(load_mentoring_points().points)
            me = model.marginal_effects.set_index("term")
            gain = me.at["points", "ame"] * (n_points - own_points) if "points" in me.index and finite(own_points) \
                else np.nan
            whatif = t("report.model_whatif", lang, name=self.name,
                       y12=pct(rates.at[self.code, "y12"] if self.code in rates.index else None, 0, lang),
                       y12_nat=pct(rates.at[NATIONAL_CODE, "y12"], 0, lang), points=num(own_points, 1, lang),
                       n_points=n_points, gain=num(100 * gain, 1, lang))
            parts.append(f'<div class="kkbm-model">{_p(sentence)}{_p(whatif)}</div>')
            parts.append(self._model_table(model))
        ref = an.gap_reference(self.data, self.code)
        if ref is not None:
            try:
                gap = an.gap_decomposition(self.data, self.code, ref,
                                           int(self.params.options.get("n_boot", an.DEFAULT_N_BOOT)))
                rates = an.y12_rates(self.data).set_index("region_code")
                top = rates.drop(index=NATIONAL_CODE, errors="ignore")["y12"].idxmax() \
                    if rates["y12"].notna().any() else None
                intro = t("report.model_gap_best", lang, name=self.name, ref=region_name(ref, lang)) if top == self.code \
                    else t("report.model_gap_intro", lang, ref=region_name(ref, lang))
                parts.append(f'<div class="kkbm-model">{_p(intro)}{_p(gap.interpretation(lang))}</div>')
            except Exception as exc:  # noqa: BLE001
                parts.append(_model_error("Oaxaca-Blinder", exc, lang))
        try:
            perdes = an.perdes_model(self.data)
            vil = an.villages_with_perdes(self.data, p).set_index("region_code")
            villages = vil.at[self.code, "villages"] if self.code in vil.index else 0
            with_perdes = vil.at[self.code, "with_perdes"] if self.code in vil.index else 0
            parts.append(f'<div class="kkbm-model">{_p(t("report.model_perdes", lang, interpretation=perdes.interpretation(lang), name=self.name, with_perdes=num(with_perdes, 0, lang), villages=num(villages, 0, lang)))}</div>')
        except Exception as exc:  # noqa: BLE001
            parts.append(_model_error("Perdes DiD", exc, lang))
        n = len(an.outcome_frame(self.data).dropna(subset=["y12"]))
        parts.append(_p(t("report.notes_model_sample", lang, n=num(n, 0, lang)), "kkbm-note"))
        return _section(*parts)

    def map(self) -> Html:
        """Tile-grid map of mentoring coverage by province, this province outlined."""
        return _section(_h2("report.map", self.lang), _coverage_map(self, highlight=self.code))


def _point_shares(data: Any, period: str, regions: Sequence[str]) -> pd.DataFrame:
    """Long (region, point) shares of the period's trained cohort, for the mentoring chart."""
    from ..schema import load_mentoring_points
    coh = an.mentoring_cohorts(data, period).set_index("region_code")
    rows = []
    for code in regions:
        r = coh.loc[code] if code in coh.index else pd.Series(dtype=object)
        for point in load_mentoring_points().points:
            rows.append({"region_code": code, "point_id": point.key, "share": r.get(f"share_{point.key}"),
                         "label_id": point.label_id, "label_en": point.label_en,
                         "suppressed": bool(r.get("suppressed", False))})
    out = pd.DataFrame(rows)
    out["share"] = pd.to_numeric(out["share"], errors="coerce")
    return out
