"""The sections a policy reader expects around the tables: key messages, findings with evidence, methods,
limitations and the colophon.

Everything here is written from the analysis products through the catalogue
(``narrative.*``): a key message or a finding says only what its published cell and verdict
support (the verdict comes from the interval rule of the analysis layer), cites the cell
(value, n, interval, data window) and is tagged like every other number. Methods and
limitations are in plain words (no module names, no settings); settings, versions and the
data version go to the colophon only. :class:`NarrativeSections` is mixed into both reports
(:class:`~.sections._Report`), which supply ``lang``, ``period``, ``products``, ``params``,
``region``, ``region_label`` and the cell accessors.
"""
from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from ..config import package_version
from ..config import paths as project_paths
from ..i18n import ci_label, is_finite, region_name
from ..i18n import date as fmt_date
from ..i18n import date_range as fmt_range
from ..i18n import number as num
from ..i18n import text as t
from ..manifest import read_manifest
from ..products import NATIONAL
from ..products.layout import PRODUCTS_VERSION
from .cells import cell_ci, is_withheld, tagged, tagged_fit
from .markup import Html, _h2, _p, _section, _table

__all__ = ["NarrativeSections", "fill", "FINDING_MEASURES"]

#: Barrier measures a finding may rest on, in reading order (the mean of points is the coverage times
#: the number of points: one finding, stated once as coverage).
FINDING_MEASURES: tuple[str, ...] = (
    "mentoring_coverage", "no_follow_up_share", "months_to_first_mentoring", "training_to_practice",
    "members_per_organiser", "officers_per_community", "vacancy_months_per_community", "organiser_turnover",
    "cadre_regeneration", "perdes_share", "village_gov_involved_share", "disnakertrans_informed_share",
    "kur_owner_uptake", "business_running_12m")
#: Measures of the key messages (after the scale), in order.
KEY_MEASURES: tuple[str, ...] = ("mentoring_coverage", "business_running_12m")
#: The staffing measure whose trend is a key message.
STAFFING = "members_per_organiser"


def fill(key: str, lang: str, html: Mapping[str, str] | None = None, **fields: Any) -> str:
    """A catalogue text as escaped HTML, with ``html`` fields (already HTML, e.g. tagged cells) put in place."""
    html = dict(html or {})
    marks = {k: f"\x00{i}\x00" for i, k in enumerate(html)}
    out = escape(t(key, lang, **fields, **marks))
    for k, mark in marks.items():
        out = out.replace(mark, html[k])
    return out


def _items(items: Sequence[str], cls: str) -> str:
    return f'<ul class="{cls}">' + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


class NarrativeSections:
    """Key messages, findings, methods, limitations and colophon (mixed into the report classes)."""

    # ------------------------------------------------------------------ helpers
    def _label(self, cell: Mapping[str, Any]) -> str:
        label = str(cell["label_id" if self.lang == "id" else "label_en"])
        return label[:1].upper() + label[1:]

    def _ci(self, cell: Mapping[str, Any], product: str = "barriers") -> str:
        text = cell_ci(cell, product, self.lang)
        if text == t("common.not_applicable", self.lang):
            return text
        return f'{t("common.ci95", self.lang)} {text}'

    def _evidence(self, cell: Mapping[str, Any], product: str = "barriers") -> str:
        return fill("narrative.evidence", self.lang, n=num(cell["n"], 0, self.lang), ci=self._ci(cell, product),
                    window=self.window(cell))

    def _verdict(self, cell: Mapping[str, Any]) -> str:
        return t(f"narrative.verdict_phrase.{cell['verdict']}", self.lang)

    def _judged(self, measure: str, region: str) -> pd.Series | None:
        """A barrier cell of this period that may carry a statement (None when absent or withheld)."""
        c = self.bar(measure, region)
        return None if is_withheld(c) or not is_finite(c["value"]) else c

    # ------------------------------------------------------------------ key messages
    def key_messages(self) -> Html:
        """Three to five sentences built from the products, each bound by its verdict (top of the report)."""
        lang = self.lang
        items = [self._scale_message()]
        for measure in KEY_MEASURES:
            items.append(self._measure_message(measure))
        items.append(self._staffing_message())
        items.append(self._model_message())
        items = [i for i in items if i][:5]
        return _section(_h2("narrative.key_messages", lang), _items(items, "kkbm-key-messages"))

    def _scale_message(self) -> str:
        lang, region = self.lang, self.region
        members, communities = self.ind("members", region), self.bar("communities", region)
        if members is None or communities is None:
            return ""
        html = {"members": tagged(members, "indicators", lang), "communities": tagged(communities, "barriers", lang)}
        end = fmt_date(members["window_end"], lang) if pd.notna(members["window_end"]) else self.period_text()
        if region == NATIONAL:
            return fill("narrative.km_scale_national", lang, html, end=end, n=num(len(self.products.provinces), 0,
                                                                                     lang))
        return fill("narrative.km_scale_province", lang, html, end=end, name=self.region_label)

    def _measure_message(self, measure: str) -> str:
        lang, region = self.lang, self.region
        c = self._judged(measure, region)
        if c is None:
            return ""
        html = {"value": tagged(c, "barriers", lang)}
        if region == NATIONAL:
            cells = self.products.barriers(measure=measure, period=self.period, level="province")
            worse = int((cells["verdict"] == "worse").sum())
            return fill("narrative.km_measure_national", lang, html, label=self._label(c), ci=self._ci(c),
                        worse=num(worse, 0, lang), n=num(len(cells), 0, lang))
        nat = self.bar(measure, NATIONAL)
        html["national"] = tagged(nat, "barriers", lang)
        return fill("narrative.km_measure", lang, html, label=self._label(c), ci=self._ci(c), verdict=self._verdict(c))

    def _staffing_message(self) -> str:
        """Members per organiser: its change over the report's years, or the period's value against the nation."""
        lang, region = self.lang, self.region
        years = self.trend_years
        first = self._judged(STAFFING, region) if len(years) < 2 else self.bar(STAFFING, region, years[0])
        last = self.bar(STAFFING, region, years[-1]) if years else None
        if len(years) < 2 or is_withheld(first) or is_withheld(last) or not all(
                is_finite(c[k]) for c in (first, last) for k in ("value", "ci_low", "ci_high")):
            return self._measure_message(STAFFING)
        apart = float(first["ci_high"]) < float(last["ci_low"]) or float(last["ci_high"]) < float(first["ci_low"])
        key = "narrative.km_trend_clear" if apart else "narrative.km_trend_unclear"
        where = "" if region == NATIONAL else t("narrative.in_region", lang, name=self.region_label)
        label = self._label(first)
        return fill(key, lang, {"first": tagged(first, "barriers", lang), "last": tagged(last, "barriers", lang)},
                    where=where, label=label[:1].lower() + label[1:] if where else label, y0=years[0], y1=years[-1])

    def _model_message(self) -> str:
        fit = self._fit("business_model")
        if fit is None or not fit.ok:
            return ""
        est = fit.table("estimates").set_index("term")
        if "points" not in est.index:
            return ""
        r = est.loc["points"]
        html = {"odds_ratio": tagged_fit(fit.fit_id, "points", "odds_ratio", r["odds_ratio"],
                                         num(r["odds_ratio"], 2, self.lang))}
        return fill("narrative.km_model", self.lang, html,
                    ci=ci_label(r["odds_ratio_ci_low"], r["odds_ratio_ci_high"], 2, self.lang))

    # ------------------------------------------------------------------ findings
    def findings(self) -> Html:
        """Each measure that differs clearly from the national value, citing its cell; the rest named."""
        lang = self.lang
        if self.region == NATIONAL:
            return _section(_h2("narrative.findings", lang), _p(t("narrative.findings_intro_national", lang)),
                            self._national_findings())
        items = self._region_findings()
        body = _items(items, "kkbm-findings") if items else _p(t("narrative.no_findings", lang))
        return _section(_h2("narrative.findings", lang), _p(t("narrative.findings_intro", lang)), body)

    def _region_findings(self) -> list[str]:
        lang, region = self.lang, self.region
        clear, unclear, few = [], [], []
        for measure in FINDING_MEASURES:
            c = self.bar(measure, region)
            if c is None:
                continue
            verdict = str(c["verdict"])
            if verdict in ("better", "worse"):
                html = {"value": tagged(c, "barriers", lang), "national": tagged(self.bar(measure, NATIONAL),
                                                                                  "barriers", lang)}
                clear.append(fill("narrative.finding", lang, html, label=self._label(c), name=self.region_label,
                                  verdict=self._verdict(c)) + " " + self._evidence(c))
            elif verdict == "no_clear_difference":
                unclear.append(self._label(c))
            elif verdict == "too_few":
                few.append(self._label(c))
        if unclear:
            clear.append(fill("narrative.no_clear", lang, labels="; ".join(unclear)))
        if few:
            clear.append(fill("narrative.too_few", lang, labels="; ".join(few)))
        return clear

    def _national_findings(self) -> str:
        """One row per measure: the national value with its evidence, and the provinces clearly worse and better."""
        lang, rows, shown = self.lang, [], []
        for measure in FINDING_MEASURES:
            nat = self.bar(measure, NATIONAL)
            if nat is None or is_withheld(nat):
                continue
            shown.append(nat)
            cells = self.products.barriers(measure=measure, period=self.period, level="province")
            evidence = fill("narrative.evidence_short", lang, n=num(nat["n"], 0, lang), ci=self._ci(nat))
            rows.append(("", [escape(self._label(nat)), f'{tagged(nat, "barriers", lang)}<br>'
                                                       f'<span class="kkbm-ci">{evidence}</span>',
                              self._provinces_where(cells, "worse"), self._provinces_where(cells, "better")]))
        if not rows:
            return _p(t("narrative.no_findings", lang))
        header = [(t(f"narrative.col_{key}", lang), False) for key in ("measure", "national", "worse", "better")]
        return _table(header, rows, "findings wide") + self.windows_note(pd.DataFrame(shown))

    def _provinces_where(self, cells: pd.DataFrame, verdict: str) -> str:
        """The provinces of ``cells`` with ``verdict``, each with its tagged value ("none" if there is none)."""
        hit = cells.loc[cells["verdict"] == verdict].sort_values("region_code")
        if hit.empty:
            return escape(t("narrative.none_clear", self.lang))
        return ", ".join(f'{escape(region_name(str(c["region_code"]), self.lang))} '
                         f'({tagged(c, "barriers", self.lang)})' for _, c in hit.iterrows())

    # ------------------------------------------------------------------ methods and limitations
    def methods(self) -> Html:
        """Definitions and rules in plain words (no module names, no settings)."""
        lang, th = self.lang, self.products.thresholds
        points = self.products.mentoring_points(period=self.period, region=NATIONAL)
        labels = points.loc[points["measure_id"].str.startswith("mentoring_point:"),
                            "label_id" if lang == "id" else "label_en"].astype(str).tolist()
        keys = ["sources", "mentoring_point", "follow_up", "outcome", "periods", "staffing", "intervals", "verdicts",
                "suppression", "models"]
        fields = {"mentoring_point": {"n": len(self.products.point_ids), "points": "; ".join(labels)},
                  "suppression": {"min_count": th.get("min_count"), "min_den": th.get("min_denominator")}}
        items = [escape(t(f"narrative.method.{k}", lang, **fields.get(k, {}))) for k in keys]
        return _section(_h2("narrative.methods", lang), _items(items, "kkbm-methods"))

    def limitations(self) -> Html:
        """What the numbers cannot say, including this report's own withheld values and model windows."""
        lang = self.lang
        first, last = self.products.data_window
        items = [t("narrative.limitation.observational", lang), t("narrative.limitation.recording", lang),
                 t("narrative.limitation.mentoring_until", lang, until=fmt_date(last, lang))]
        if self.period != "all":
            items.append(t("narrative.limitation.beyond_period", lang))
            items.append(t("narrative.limitation.models_span", lang, window=fmt_range(first, last, lang),
                           period=self.period_text()))
        total, withheld = self._withheld_count()
        if withheld:
            items.append(t("narrative.limitation.withheld", lang, n=num(withheld, 0, lang), total=num(total, 0, lang),
                           name=self.region_label))
        items.append(t("narrative.limitation.points_reading", lang))
        if self.synthetic:
            items.append(t("narrative.limitation.synthetic", lang))
        return _section(_h2("narrative.limitations", lang), _items([escape(i) for i in items], "kkbm-limitations"))

    def _withheld_count(self) -> tuple[int, int]:
        """(values, withheld values) of this region and period over the indicator and barrier products."""
        frames = [self.products.cells(p, region=self.region, period=self.period) for p in ("indicators", "barriers")]
        f = pd.concat(frames, ignore_index=True)
        return len(f), int(f["suppressed"].astype(bool).sum())

    # ------------------------------------------------------------------ models: their windows in words
    def model_window(self, fit: Any) -> str:
        """The data the business model was fitted on, and whether that reaches beyond the report's period."""
        first, last = self.products.data_window
        text = t("narrative.model_window", self.lang, n=num(fit.n_obs, 0, self.lang),
                 window=fmt_range(first, last, self.lang))
        if self.period != "all":
            text += t("narrative.model_window_beyond", self.lang, period=self.period_text())
        return _p(text, "kkbm-note")

    def did_window(self, fit: Any) -> str:
        """The village-months of the DiD, and whether they reach beyond the report's period."""
        months = fit.numbers.get("periods") or []
        if len(months) != 2 or not all(months):
            return ""
        start = pd.Period(months[0], freq="M").start_time
        end = pd.Period(months[1], freq="M").end_time.normalize()
        text = t("narrative.did_window", self.lang, window=fmt_range(start, end, self.lang))
        if self.period != "all" and str(end.year) > self.period:
            text += t("narrative.model_window_beyond", self.lang, period=self.period_text())
        return _p(text, "kkbm-note")

    # ------------------------------------------------------------------ colophon
    def colophon(self) -> Html:
        """Data version and date, software and products versions, report and analysis parameters (settings only here)."""
        lang, p = self.lang, self.products
        ingest = read_manifest(self.params.data_dir) or {}
        inputs = sum(1 for i in ingest.get("inputs", []) if i.get("fate") == "read")
        first, last = p.data_window
        shown = self.params.as_dict()
        root = self.params.root or project_paths().root
        for k in ("data_dir", "figure_dir"):
            if k in shown and shown[k] is not None and Path(shown[k]).is_relative_to(root):
                shown[k] = Path(shown[k]).relative_to(root).as_posix()
        params = ", ".join(f"{k}={v!r}" for k, v in shown.items() if k != "template")
        analysis = ", ".join(f"{k}={v!r}" for k, v in sorted(p.parameters.items()))
        thresholds = ", ".join(f"{k}={v}" for k, v in sorted(p.thresholds.items()))
        items = [t("narrative.colophon_data", lang, folder=self.params.data_dir.name, version=p.data_version,
                   as_of=fmt_date(p.data_as_of, lang), window=fmt_range(first, last, lang), inputs=num(inputs, 0, lang)),
                 t("narrative.colophon_software", lang, version=package_version(), products=PRODUCTS_VERSION,
                   template=self.template),
                 t("narrative.colophon_report", lang, params=params),
                 t("narrative.colophon_analysis", lang, params=analysis, thresholds=thresholds,
                   rule=str(p.manifest.get("verdict_rule", "")))]
        if self.synthetic:
            items.insert(0, t("narrative.colophon_synthetic", lang))
        return _section(_h2("narrative.colophon", lang),
                        '<ul class="kkbm-notes kkbm-colophon">' + "".join(f"<li>{escape(i)}</li>" for i in items)
                        + "</ul>")
