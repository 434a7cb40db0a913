"""The resilience section of the province report and the national brief, rendered from the products only.

What it shows (every number a published cell or a cached fit, tagged so the HTML scan can
trace it; every word from the ``field.resilience`` block of the string catalogue):

* the Resilience Capacity Index and its three sub-indices (absorptive, adaptive,
  transformative) and the share of members resilient in the latest survey round: the
  province against the national value, with 95 % intervals and the interval verdict
  (``resilience`` cells of ``kkbm analyse``; withheld cells show only the mark); the brief
  shows every province;
* the risks members report most (economic, household, working abroad), against the nation;
* measurement quality in plain words: reliability (Cronbach's alpha, McDonald's omega),
  the fit of the three-capacity model, and measurement invariance by sex and by province,
  or the plain statement that the sample cannot support the test (fits ``resilience_items``,
  ``resilience_cfa``, ``resilience_invariance_*``);
* what the capacities are associated with (``resilience_drivers``: associations, with
  intervals, never effects);
* recovery after a shock (``resilience_recovery``: hazard ratios per SD of capacity).

Without a resilience survey in the data the section says so in one line.
"""
from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from ..i18n import date as date_words
from ..i18n import has_text, is_finite, number, region_name
from ..i18n import interval as ci_text
from ..i18n import text as t
from ..item_bank import CAPACITIES
from ..products import NATIONAL, ModelFit
from . import figures as fg
from .cells import badge, cell_ci, is_withheld, supp, tagged, tagged_fit
from .markup import Html, _css, _h2, _p, _section, _table

__all__ = ["resilience_section", "RESILIENCE_MEASURES", "latest_round"]

#: The measures of the section, in display order.
RESILIENCE_MEASURES: tuple[str, ...] = (
    "resilience_rci", *(f"resilience_{c}" for c in CAPACITIES), "resilience_share_resilient", "resilience_rci_change")
#: Measures of the brief's province table.
BRIEF_MEASURES: tuple[str, ...] = RESILIENCE_MEASURES[:5]


def survey_rounds(products: Any) -> list[str]:
    """The survey rounds of the resilience product, in the manifest's order (empty without a survey)."""
    rounds = (products.manifest.get("resilience") or {}).get("rounds") or []
    if not rounds and products.has("resilience"):
        rounds = sorted(products.resilience(disaggregation=None)["period"].astype(str).unique())
    return list(rounds)


def _round_ends(products: Any) -> dict[str, pd.Timestamp]:
    """The last date each survey round covers (its cells' window end)."""
    cells = products.resilience(disaggregation=None)
    return {str(k): pd.Timestamp(v) for k, v in cells.groupby("period", observed=True)["window_end"].max().items()}


def latest_round(products: Any, period: str | None = None) -> str | None:
    """The last survey round collected within ``period`` (a year; ``None`` or ``'all'``: the last round).

    A year's report shows no later data: a round collected after the year is not its latest round. None
    without a survey, or when every round was collected after ``period``.
    """
    rounds = survey_rounds(products)
    if not rounds or period in (None, "all"):
        return rounds[-1] if rounds else None
    ends = _round_ends(products)
    within = [r for r in rounds if r in ends and ends[r].year <= int(period)]
    return within[-1] if within else None


def _upper(s: str) -> str:
    return s[:1].upper() + s[1:]


def _round_words(round_: str, lang: str) -> str:
    key = f"field.resilience.round.{round_}"
    return t(key, lang) if has_text(key) else round_


def _with_html(sentence: str, **html: str) -> str:
    """``sentence`` escaped, with each ``{name}`` placeholder (written ``\\x00name\\x00``) replaced by HTML."""
    out = escape(sentence)
    for name, piece in html.items():
        out = out.replace(escape(f"\x00{name}\x00"), piece)
    return out


# =========================================================================== the index against the nation
def _index_table(report: Any, round_: str) -> str:
    lang, code = report.lang, report.code
    rows = []
    for measure in RESILIENCE_MEASURES:
        own, nat = report._cell("resilience", measure, code, round_), report._cell("resilience", measure, NATIONAL,
                                                                                   round_)
        if own is None and nat is None:
            continue
        label = str((own if own is not None else nat)["label_" + lang])
        interval = supp(lang) if is_withheld(own) else escape(cell_ci(own, "resilience", lang))
        rows.append(("", [escape(label), tagged(own, "resilience", lang), interval, tagged(nat, "resilience", lang),
                          badge(own, lang, "resilience") if own is not None else ""]))
    return _table([(t("report.col_measure", lang), False), (report.name, True), (t("common.ci95", lang), True),
                   (t("common.national", lang), True), (t("report.col_verdict", lang), False)], rows)


def _brief_table(report: Any, round_: str) -> str:
    lang, products = report.lang, report.products
    cells = products.resilience(measure=list(BRIEF_MEASURES), period=round_)
    by = {(r["measure_id"], str(r["region_code"])): r for _, r in cells.iterrows()}
    regions = sorted(str(c) for c in cells.loc[cells["level"] == "province", "region_code"].unique())
    rows = []
    for code in [*regions, NATIONAL]:
        name = t("common.national", lang) if code == NATIONAL else region_name(code, lang)
        out = [escape(name)]
        for measure in BRIEF_MEASURES:
            out.append(tagged(by.get((measure, code)), "resilience", lang))
        rci = by.get(("resilience_rci", code))
        out.append(badge(rci, lang, "resilience") if rci is not None and code != NATIONAL else "")
        rows.append(("kkbm-national" if code == NATIONAL else "", out))
    labels = {m: str(cells.loc[cells["measure_id"] == m, "label_" + lang].iloc[0]) for m in BRIEF_MEASURES
              if (cells["measure_id"] == m).any()}
    header = [(t("common.province", lang), False), *((labels.get(m, m), True) for m in BRIEF_MEASURES),
              (t("field.resilience.col_rci_verdict", lang), False)]
    return _table(header, rows, "wide")


def _figure(report: Any, round_: str, highlight: str | None) -> str:
    lang = report.lang
    rci = report.products.resilience(measure="resilience_rci", period=round_)
    frame = pd.DataFrame({"region_code": rci["region_code"].astype(str), "value": rci["value"].astype(float),
                          "ci_low": rci["ci_low"].astype(float), "ci_high": rci["ci_high"].astype(float),
                          "suppressed": rci["suppressed"].astype(bool)})
    fig = fg.province_bars(frame, "value", lang=lang, highlight=highlight, ci=("ci_low", "ci_high"), decimals=1,
                           label=t("field.resilience.figure_axis", lang), synthetic=report.synthetic)
    caption = t("field.resilience.figure", lang, round=_round_words(round_, lang))
    return report._figure(fig, f"resilience_rci_{highlight or NATIONAL}_{round_}_{lang}", caption, caption)


# =========================================================================== risks
#: Risks shown: the most frequent ones.
TOP_RISKS = 5


def risks(report: Any, round_: str) -> str:
    """The risks members report most (latest round): the province's share against the national one, or the
    national shares in the brief; ranked by the report's own published shares (withheld ones last)."""
    lang, products = report.lang, report.products
    code = getattr(report, "code", None)
    cells = products.resilience(period=round_, region=[code or NATIONAL, NATIONAL])
    cells = cells.loc[cells["measure_id"].str.startswith("resilience_risk:")]
    if cells.empty:
        return ""
    own = cells.loc[cells["region_code"] == (code or NATIONAL)].set_index("measure_id")
    nat = cells.loc[cells["region_code"] == NATIONAL].set_index("measure_id")
    shown = own.assign(_v=own["value"].astype(float).where(~own["suppressed"].astype(bool)),
                       _n=nat["value"].reindex(own.index).astype(float))
    order = shown.sort_values(["_v", "_n"], ascending=False, na_position="last").index[:TOP_RISKS]
    rows = []
    for measure in order:
        o, n = own.loc[measure].to_dict() | {"measure_id": measure}, nat.loc[measure].to_dict() | {"measure_id": measure}
        interval = supp(lang) if is_withheld(o) else escape(cell_ci(o, "resilience", lang))
        row = [escape(str(o["label_" + lang])), tagged(o, "resilience", lang), interval]
        if code is not None:
            row += [tagged(n, "resilience", lang), badge(o, lang, "resilience")]
        rows.append(("", row))
    header = [(t("field.resilience.col_risk", lang), False),
              (report.name if code is not None else t("common.national", lang), True), (t("common.ci95", lang), True)]
    if code is not None:
        header += [(t("common.national", lang), True), (t("report.col_verdict", lang), False)]
    return (f"<h3>{escape(t('field.resilience.risks', lang))}</h3>"
            + _p(t("field.resilience.risks_intro", lang, round=_round_words(round_, lang))) + _table(header, rows))


# =========================================================================== measurement quality
def _fit(report: Any, fit_id: str) -> ModelFit | None:
    return report.products.fits().get(fit_id)


def _failed(fit: ModelFit | None, what: str, lang: str) -> str | None:
    if fit is None:
        return t("field.resilience.not_fitted", lang, what=t(f"field.resilience.what.{what}", lang))
    if not fit.ok:
        return t("field.resilience.fit_failed", lang, what=t(f"field.resilience.what.{what}", lang), reason=fit.reason)
    return None


def _num(fit: ModelFit, term: str, statistic: str, decimals: int, lang: str, table: str = "estimates",
         signed: bool = False) -> str:
    row = fit.row(term, table)
    return tagged_fit(fit.fit_id, term, statistic, row[statistic], number(row[statistic], decimals, lang,
                                                                           signed=signed), table=table)


def _reliability(report: Any) -> str:
    lang = report.lang
    fit = _fit(report, "resilience_items")
    problem = _failed(fit, "reliability", lang)
    if problem:
        return escape(problem)
    est = fit.table().set_index("term")
    parts = []
    for cap in CAPACITIES:
        if cap not in est.index:
            continue
        r = est.loc[cap]
        alpha, omega = _num(fit, cap, "alpha", 2, lang), _num(fit, cap, "omega", 2, lang)
        ci = escape(ci_text(r["alpha_ci_low"], r["alpha_ci_high"], 2, lang))
        parts.append(_with_html(t("field.resilience.reliability_scale", lang, capacity=t(
            f"resilience.capacity.{cap}", lang), alpha="\x00a\x00", ci="\x00c\x00", omega="\x00o\x00"),
            a=alpha, c=ci, o=omega))
    threshold = float(fit.numbers.get("alpha_acceptable", 0.7))
    weak = [c for c in fit.numbers.get("below_acceptable", []) if c in CAPACITIES]
    verdict = (t("field.resilience.reliability_good", lang, threshold=number(threshold, 2, lang)) if not weak else
               t("field.resilience.reliability_weak", lang, threshold=number(threshold, 2, lang),
                 scales=", ".join(t(f"resilience.capacity.{c}", lang) for c in weak)))
    return escape(t("field.resilience.reliability", lang)) + " " + "; ".join(parts) + ". " + escape(verdict)


def _model_fit(report: Any) -> str:
    lang = report.lang
    fit = _fit(report, "resilience_cfa")
    problem = _failed(fit, "cfa", lang)
    if problem:
        return escape(problem)
    stats = {s: _num(fit, "model", s, 3, lang, table="fit") for s in ("cfi", "tli", "rmsea", "srmr")}
    n = fit.numbers.get("fit_indices", {}).get("n")
    key = "field.resilience.fit_good" if fit.numbers.get("good_fit") else "field.resilience.fit_poor"
    sentence = t(key, lang, n=number(n, 0, lang), cfi="\x00cfi\x00", tli="\x00tli\x00", rmsea="\x00rmsea\x00",
                 srmr="\x00srmr\x00")
    return _with_html(sentence, **stats) + " " + escape(t("field.resilience.fit_cutoffs", lang))


def _invariance(report: Any, by: str) -> str:
    lang = report.lang
    fit = _fit(report, f"resilience_invariance_{by}")
    problem = _failed(fit, f"invariance_{by}", lang)
    return escape(problem or fit.text(lang))


def measurement(report: Any) -> str:
    """Reliability, model fit and invariance, in plain words (national measurement model)."""
    lang = report.lang
    items = [_reliability(report), _model_fit(report), _invariance(report, "sex"), _invariance(report, "province")]
    lis = "".join(f"<li>{i}</li>" for i in items)
    return (f"<h3>{escape(t('field.resilience.measurement', lang))}</h3>"
            f"{_p(t('field.resilience.measurement_intro', lang))}<ul class=\"kkbm-sentences\">{lis}</ul>")


# =========================================================================== drivers and recovery
def drivers(report: Any) -> str:
    """What the capacities are associated with: SD of each capacity per unit of each driver, with intervals."""
    lang = report.lang
    head = f"<h3>{escape(t('field.resilience.drivers', lang))}</h3>"
    fit = _fit(report, "resilience_drivers")
    problem = _failed(fit, "drivers", lang)
    if problem:
        return head + _p(problem, "kkbm-note")
    est = fit.table().set_index("term")
    rows, clear = [], []
    for driver in fit.numbers.get("drivers", []):
        key = f"resilience.driver.{driver}"
        label = t(key, lang) if has_text(key) else driver
        cells = [escape(_upper(label))]
        for cap in CAPACITIES:
            term = f"{cap}:{driver}"
            if term not in est.index:
                cells.append(escape(t("common.no_data", lang)))
                continue
            r = est.loc[term]
            cells.append(f'{_num(fit, term, "estimate", 2, lang, signed=True)}<br><span class="kkbm-note">'
                         f'{escape(ci_text(r["ci_low"], r["ci_high"], 2, lang))}</span>')
            if is_finite(r["ci_low"]) and (r["ci_low"] > 0 or r["ci_high"] < 0):
                clear.append((abs(r["estimate"] / r["std_error"]), label, cap, r))
        rows.append(("", cells))
    table = _table([(t("field.resilience.col_driver", lang), False),
                    *((_upper(t("field.resilience.col_capacity", lang, capacity=t(f"resilience.capacity.{c}", lang))),
                       True) for c in CAPACITIES)], rows)
    sentences = []
    for _, label, cap, r in sorted(clear, key=lambda x: -x[0])[:3]:
        key = "field.resilience.association_higher" if r["estimate"] > 0 else "field.resilience.association_lower"
        sentences.append(t(key, lang, driver=_upper(label), capacity=t(f"resilience.capacity.{cap}", lang),
                           estimate=number(r["estimate"], 2, lang, signed=True),
                           ci=ci_text(r["ci_low"], r["ci_high"], 2, lang)))
    if not sentences:
        sentences.append(t("field.resilience.association_none", lang))
    lis = "".join(f"<li>{escape(s)}</li>" for s in sentences)
    note = t("field.resilience.drivers_note", lang, k=number(fit.numbers.get("n_clusters"), 0, lang),
             n=number(fit.n_obs, 0, lang))
    return head + _p(t("field.resilience.drivers_intro", lang)) + f'<ul class="kkbm-sentences">{lis}</ul>' + table \
        + _p(note, "kkbm-note")


def recovery(report: Any) -> str:
    """Recovery after a shock: shocks, share recovered, hazard ratio per SD of each capacity."""
    lang = report.lang
    head = f"<h3>{escape(t('field.resilience.recovery', lang))}</h3>"
    fit = _fit(report, "resilience_recovery")
    problem = _failed(fit, "recovery", lang)
    if problem:
        return head + _p(problem, "kkbm-note")
    intro = t("field.resilience.recovery_intro", lang, shocks="\x00s\x00", share="\x00r\x00")
    summary = {"s": _num(fit, "episodes", "shocks", 0, lang, table="summary"),
               "r": tagged_fit(fit.fit_id, "episodes", "recovered_share", fit.row("episodes", "summary")[
                   "recovered_share"], number(fit.row("episodes", "summary")["recovered_share"], 0, lang,
                                              percent=True), table="summary")}
    est = fit.table().set_index("term")
    rows = []
    for cap in CAPACITIES:
        if cap not in est.index:
            continue
        r = est.loc[cap]
        rows.append(("", [escape(_upper(t("field.resilience.col_capacity", lang,
                                          capacity=t(f"resilience.capacity.{cap}", lang)))),
                          _num(fit, cap, "hazard_ratio", 2, lang),
                          escape(ci_text(r["hazard_ratio_ci_low"], r["hazard_ratio_ci_high"], 2, lang))]))
    table = _table([(t("field.resilience.col_capacity_before", lang), False),
                    (t("field.resilience.col_hazard_ratio", lang), True), (t("common.ci95", lang), True)], rows)
    return head + f"<p>{_with_html(intro, **summary)}</p>" + table + _p(t("field.resilience.recovery_note", lang),
                                                                         "kkbm-note")


# =========================================================================== the section
def resilience_section(report: Any) -> Html:
    """The resilience section of a province report (``report.code``) or of the brief (no ``code``)."""
    lang, products = report.lang, report.products
    head = f"<style>{_css('field.css')}</style>" + _h2("field.resilience.title", lang)
    rounds = survey_rounds(products) if products.has("resilience") else []
    if not rounds:
        return _section(head, _p(t("field.resilience.none", lang), "kkbm-note"))
    round_ = latest_round(products, report.period)
    if round_ is None:
        return _section(head, _p(t("field.resilience.none_in_period", lang, period=report.period_text(),
                                   first=str(_round_ends(products)[rounds[0]].year)), "kkbm-note"))
    code = getattr(report, "code", None)
    intro = t("field.resilience.intro", lang, round=_round_words(round_, lang), rounds=number(len(rounds), 0, lang))
    if code is not None and report._cell("resilience", "resilience_rci", code, round_) is None:
        body = [_p(t("field.resilience.no_interviews", lang, name=report.name), "kkbm-note")]
    elif code is not None:
        body = [_index_table(report, round_)]
    else:
        body = [_brief_table(report, round_)]
    th = products.thresholds
    body.append(_p(t("field.resilience.index_note", lang, max_small=int(th.get("min_count", 1)) - 1,
                     min_den=th.get("min_denominator")), "kkbm-note"))
    models = [measurement(report), drivers(report), recovery(report)]
    if round_ != rounds[-1]:  # the models use every round: say they reach beyond a year's report
        end = date_words(_round_ends(products)[rounds[-1]], lang)
        models.insert(0, _p(t("field.resilience.models_beyond_period", lang, end=end, period=report.period_text()),
                            "kkbm-note"))
    return _section(head, _p(intro), *body, _figure(report, round_, code), risks(report, round_), *models)
