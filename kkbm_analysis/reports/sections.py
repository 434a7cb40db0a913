"""The sections of the province report and the national brief, as displayable HTML.

The report templates (``notebooks/report_province.ipynb``, ``notebooks/brief_national.ipynb``)
are thin: a parameters cell, then one call per section::

    import kkbm_analysis.reports as rp
    report = rp.ProvinceReport.from_parameters(province="36", period="2018", lang="id",
                                               data_dir="data/processed/demo")
    report.header()
    report.key_figures()
    ...

Each method returns :class:`Html` (shown by Jupyter, kept as a ``text/html`` output and
exported as is). Numbers come from :mod:`.analysis` (memoised), words from :mod:`.text`,
figures from :mod:`.figures` (embedded PNG). Sentences are generated from the numbers.
"""
from __future__ import annotations

import math
from html import escape
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from pathlib import Path

from ..barriers import DEFAULT_TOLERANCE
from ..config import MIN_PUBLISHED_COUNT
from ..config import paths as project_paths
from ..data import NATIONAL_CODE
from . import analysis as an
from . import figures as fg
from .cache import load_data
from .params import ReportParameters, validate_parameters
# Short names: the sections format a number or fetch a word on nearly every line.
from ..i18n import ci_label, has_text, p_value
from ..i18n import interval as ci
from ..i18n import is_finite as finite
from ..i18n import join_names
from ..i18n import number as num
from ..i18n import percent as pct
from ..i18n import region_name
from ..i18n import text as t
from .text import value_text

__all__ = ["Html", "ProvinceReport", "NationalBrief", "STYLE", "recommendations"]

#: Relative distance from the national value still called similar (the barrier profiles' verdict rule).
TOLERANCE = DEFAULT_TOLERANCE
#: At most this many provinces are named in one recommendation.
MAX_NAMED = 3

STYLE = """
.kkbm-report{font-family:"DejaVu Sans","Liberation Sans",Arial,sans-serif;color:#1a1a1a;line-height:1.45}
.kkbm-report h1{font-size:1.7em;margin:.2em 0 .1em}
.kkbm-report h2{font-size:1.3em;margin:1.4em 0 .5em;padding-bottom:.2em;border-bottom:2px solid #0072B2;color:#0b3d63}
.kkbm-subtitle{color:#555;margin:0 0 1em}
.kkbm-banner{border:3px solid #B2182B;background:#fdecea;color:#B2182B;font-weight:bold;padding:.6em .9em;
  margin:0 0 1em;letter-spacing:.02em}
.kkbm-lead{font-size:1.08em;margin:.6em 0 1em}
.kkbm-cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(10.5em,1fr));gap:.6em;margin:.6em 0 1em}
.kkbm-card{border:1px solid #cfd8e3;border-top:4px solid #0072B2;border-radius:4px;padding:.5em .7em;background:#f7f9fc;
  break-inside:avoid}
.kkbm-card-value{font-size:1.55em;font-weight:bold;color:#0b3d63}
.kkbm-card-label{font-size:.86em;color:#333}
.kkbm-card-note{font-size:.78em;color:#666;margin-top:.2em}
table.kkbm-table{border-collapse:collapse;margin:.5em 0 .8em;font-size:.9em;width:100%}
table.kkbm-table th{background:#0b3d63;color:#fff;text-align:left;padding:.35em .5em;font-weight:600}
table.kkbm-table td{border-bottom:1px solid #dde3ea;padding:.3em .5em;vertical-align:top}
table.kkbm-table td.num{text-align:right;white-space:nowrap}table.kkbm-table th.num{text-align:right}
table.kkbm-table.wide{font-size:.78em}table.kkbm-table.wide td:nth-child(2){white-space:nowrap}table.kkbm-table.wide th,table.kkbm-table.wide td{padding:.3em .3em}
table.kkbm-table tr.kkbm-group td{background:#eef3f8;font-weight:bold;color:#0b3d63}
table.kkbm-table tr.kkbm-highlight td{background:#fff3e0;font-weight:bold}
table.kkbm-table tr.kkbm-national td{border-top:2px solid #0b3d63;font-weight:bold}
table.kkbm-table tr{break-inside:avoid}
.kkbm-report h2+p{break-before:avoid}
.kkbm-supp{color:#777;font-style:italic}
.kkbm-badge{display:inline-block;padding:.05em .45em;border-radius:.7em;font-size:.82em;white-space:nowrap}
.kkbm-badge.better{background:#d9f0e3;color:#0d6b3a}.kkbm-badge.worse{background:#fbe0dc;color:#a11d0c}
.kkbm-badge.similar{background:#eceff3;color:#444}.kkbm-badge.unknown{background:#f4f4f4;color:#777}
.kkbm-note{font-size:.84em;color:#555}
.kkbm-sentences li{margin:.2em 0}
.kkbm-recs li{margin:.45em 0}
figure.kkbm-figure{margin:.8em 0;break-inside:avoid}
figure.kkbm-figure figcaption{font-size:.85em;color:#444;margin-top:.3em}
.kkbm-model{border-left:4px solid #56B4E9;padding:.2em .8em;margin:.6em 0;background:#f5fafd}
.kkbm-notes li{margin:.3em 0;font-size:.9em}
"""


class Html(str):
    """A string of HTML that Jupyter displays as HTML."""

    def _repr_html_(self) -> str:
        return str(self)


def _h2(key: str, lang: str) -> str:
    return f"<h2>{escape(t(key, lang))}</h2>"


def _section(*parts: str) -> Html:
    return Html('<div class="kkbm-report">' + "".join(parts) + "</div>")


def _p(text: str, cls: str = "") -> str:
    return f'<p class="{cls}">{escape(text)}</p>' if cls else f"<p>{escape(text)}</p>"


def _supp(lang: str) -> str:
    return f'<span class="kkbm-supp">{escape(t("common.suppressed", lang))}</span>'


def _badge(verdict: str, lang: str) -> str:
    verdict = verdict if verdict in ("better", "worse", "similar") else "unknown"
    return f'<span class="kkbm-badge {verdict}">{escape(t("common.verdict_" + verdict, lang))}</span>'


def _table(header: Sequence[tuple[str, bool]], rows: Iterable[tuple[str, Sequence[str]]], cls: str = "") -> str:
    """``header``: (label, numeric); ``rows``: (css class, already-escaped cells)."""
    head = "".join(f'<th class="num">{escape(h)}</th>' if isnum else f"<th>{escape(h)}</th>" for h, isnum in header)
    body = []
    for row_cls, cells in rows:
        tds = "".join(f'<td class="num">{c}</td>' if header[i][1] else f"<td>{c}</td>" for i, c in enumerate(cells))
        body.append(f'<tr class="{row_cls}">{tds}</tr>' if row_cls else f"<tr>{tds}</tr>")
    classes = f"kkbm-table {cls}".strip()
    return f'<table class="{classes}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _cards(cards: Sequence[tuple[str, str, str]]) -> str:
    out = []
    for value, label, note in cards:
        out.append(f'<div class="kkbm-card"><div class="kkbm-card-value">{value}</div>'
                   f'<div class="kkbm-card-label">{escape(label)}</div>'
                   + (f'<div class="kkbm-card-note">{escape(note)}</div>' if note else "") + "</div>")
    return '<div class="kkbm-cards">' + "".join(out) + "</div>"


def _count(x: Any, lang: str) -> str:
    """A count of people: withheld between 1 and MIN_PUBLISHED_COUNT - 1."""
    if not finite(x):
        return t("common.no_data", lang)
    return _supp(lang) if 0 < float(x) < MIN_PUBLISHED_COUNT else escape(num(x, 0, lang))


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
        root = project_paths().root
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


def _plain_count(x: Any, lang: str) -> str:
    if not finite(x):
        return t("common.no_data", lang)
    return t("common.suppressed", lang) if 0 < float(x) < MIN_PUBLISHED_COUNT else num(x, 0, lang)


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


# =========================================================================== national brief
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


# =========================================================================== recommendations
def recommendations(table: pd.DataFrame, *, lang: str, period: str, model: Any = None, perdes: Any = None,
                    tolerance: float = TOLERANCE, max_named: int = MAX_NAMED) -> list[str]:
    """Evidence-based recommendations from the province comparison (:func:`analysis.province_table`).

    Each measure (mentoring coverage, members per organiser, cadre regeneration, KUR uptake of
    business owners, villages without a Perdes) names the provinces that are worse than the
    national value by more than ``tolerance`` (relative), worst first, at most ``max_named``,
    with their numbers. Recommendations are ordered by the size of the worst gap; a measure
    without such provinces gives no recommendation.

    Returns
    -------
    list of str
        Sentences in ``lang``; ``[t('rec_none')]`` when nothing lags.
    """
    tab = table.set_index("region_code")
    nat = tab.loc[NATIONAL_CODE]
    prov = tab.drop(index=NATIONAL_CODE).reset_index()
    out: list[tuple[float, str]] = []

    def laggards(column: str, higher_is_better: bool) -> pd.DataFrame:
        ref = nat[column]
        if not finite(ref) or float(ref) == 0:
            return prov.iloc[0:0]
        d = prov.dropna(subset=[column]).copy()
        d["_gap"] = (ref - d[column]) / abs(ref) if higher_is_better else (d[column] - ref) / abs(ref)
        d = d.loc[d["_gap"] > tolerance].sort_values(["_gap", "region_code"], ascending=[False, True])
        return d.head(max_named)

    def where(lag: pd.DataFrame, column: str, fmt) -> str:
        return join_names([f"{region_name(c, lang)} ({fmt(v)})" for c, v in zip(lag["region_code"], lag[column])],
                          lang)

    lag = laggards("coverage", True)
    if len(lag):
        no_follow = lag["no_follow_up"].sum(min_count=1)
        text = t("report.rec_mentoring", lang, where=where(lag, "coverage", lambda v: pct(v, 0, lang)),
                 national=pct(nat["coverage"], 0, lang), period=period,
                 no_follow=num(no_follow, 0, lang) if finite(no_follow) else t("common.suppressed", lang))
        if model is not None and "points" in set(model.marginal_effects["term"]):
            ame = model.marginal_effects.set_index("term").at["points", "ame"]
            text += " " + t("report.rec_points_effect", lang, ame=num(100 * ame, 1, lang))
        out.append((float(lag["_gap"].iloc[0]), text))
    lag = laggards("members_per_organiser", False)
    if len(lag):
        need = (lag["staff_members"] / nat["members_per_organiser"] - lag["organisers_fte"]).clip(lower=0).sum()
        out.append((float(lag["_gap"].iloc[0]), t(
            "report.rec_staffing", lang, where=where(lag, "members_per_organiser", lambda v: num(v, 0, lang)),
            national=num(nat["members_per_organiser"], 0, lang),
            needed=num(math.ceil(need) if finite(need) else None, 0, lang))))
    lag = laggards("regeneration", True)
    if len(lag):
        out.append((float(lag["_gap"].iloc[0]), t(
            "report.rec_regeneration", lang, where=where(lag, "regeneration", lambda v: pct(v, 0, lang)),
            national=pct(nat["regeneration"], 0, lang), months=6)))
    lag = laggards("kur_owner_uptake", True)
    if len(lag):
        out.append((float(lag["_gap"].iloc[0]), t(
            "report.rec_kur", lang, where=where(lag, "kur_owner_uptake", lambda v: pct(v, 0, lang)),
            national=pct(nat["kur_owner_uptake"], 0, lang))))
    villages, with_perdes = nat.get("villages"), nat.get("with_perdes")
    if finite(villages) and float(villages) > 0 and float(villages) > float(with_perdes):
        without = prov.assign(without=prov["villages"] - prov["with_perdes"])
        without = without.loc[without["without"] > 0].sort_values(["without", "region_code"],
                                                                   ascending=[False, True]).head(max_named)
        effect = ""
        if perdes is not None and perdes.overall.get("p_value", 1) < 0.05 and perdes.overall.get("estimate", 0) < 0:
            effect = perdes.interpretation(lang)
        share_without = (float(villages) - float(with_perdes)) / float(villages)
        out.append((share_without * (1.0 if effect else 0.5), t(
            "report.rec_perdes", lang, villages_without=num(float(villages) - float(with_perdes), 0, lang),
            villages=num(villages, 0, lang),
            provinces=join_names([f"{region_name(r.region_code, lang)} ({num(r.without, 0, lang)})"
                                  for r in without.itertuples()], lang), effect=effect).strip()))
    if not out:
        return [t("report.rec_none", lang)]
    return [text for _, text in sorted(out, key=lambda x: -x[0])]
