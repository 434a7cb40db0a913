"""The "Voices from the field" section of the province report and the national brief, from the products only.

Province report: the joint display of the products (:meth:`kkbm_analysis.products.Products.joint_display`,
written by ``kkbm analyse``): each barrier measure (its published cell, 95 % interval and
interval verdict) beside the prevalence of the matching theme among the province's coded
sources (the published ``voices`` cells, withheld under the small-cell rule like every
number), the convergence verdict (convergent / complementary / divergent / too small to
say) with the rule that produced it, and up to two excerpts: only the redacted segments
marked publishable that the product carries. Numbers come from their own published cells,
so the scan of the HTML traces every one of them; the verdicts are copied from the product
(``data-convergence`` beside the keys of the row).

National brief: how often each theme is raised in each province (and nationally), and how
many indicator-theme pairs of each province converge, complement each other, diverge or are
too small to judge.

Without coded voices the section says so in one line.
"""
from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from ..i18n import date, number, region_name
from ..i18n import text as t
from ..products import NATIONAL
from .cells import badge, cell_ci, is_withheld, supp, tagged
from .markup import Html, _css, _h2, _p, _section, _table

__all__ = ["voices_section", "CONVERGENCE"]

#: The convergence verdicts, in display order (words: ``voices.joint.verdict.<verdict>``).
CONVERGENCE: tuple[str, ...] = ("convergent", "complementary", "divergent", "too_small")


def _one(frame: pd.DataFrame) -> pd.Series | None:
    return frame.iloc[0] if len(frame) else None


def _voices_cell(products: Any, measure: str, region: str) -> pd.Series | None:
    return _one(products.voices(measure=measure, region=region, period="all"))


def _convergence(row: pd.Series, lang: str) -> str:
    v = str(row["convergence"])
    return (f'<span class="kkbm-convergence {escape(v)}" data-convergence="{escape(v)}" '
            f'data-joint-barrier="{escape(str(row["measure_id"]))}" data-theme="{escape(str(row["theme_id"]))}" '
            f'data-region="{escape(str(row["region_code"]))}" data-period="{escape(str(row["period"]))}">'
            f'{escape(t("voices.joint.verdict." + v, lang))}</span>')


def _excerpts(row: pd.Series) -> list[str]:
    return [str(row[c]) for c in ("excerpt_1", "excerpt_2") if c in row.index and pd.notna(row[c])]


def _stamp(products: Any, lang: str) -> str:
    synthetic = bool((products.manifest.get("voices") or {}).get("synthetic", False))
    return _p(t("voices.notes.synthetic", lang), "kkbm-voices-synthetic") if synthetic else ""


def _joint_table(report: Any, rows: pd.DataFrame) -> str:
    """The province's joint display: one row per barrier measure and theme, the rule and excerpts below it."""
    lang, code, p, products = report.lang, report.code, report.period, report.products
    head = [(t("voices.joint.head.indicator", lang), False),
            (f'{report.name} ({t("common.ci95", lang)})', True), (t("common.national", lang), True), (t("voices.joint.head.verdict", lang), False),
            (t("voices.joint.head.theme", lang), False), (t("field.voices.col_sources", lang), True),
            (t("voices.joint.head.convergence", lang), False)]
    th = "".join(f'<th class="num">{escape(h)}</th>' if num else f"<th>{escape(h)}</th>" for h, num in head)
    body = []
    total = _voices_cell(products, "voices_sources:all", code)
    quoted: set[str] = set()  # a theme's excerpts are shown once, at its first row
    for _, r in rows.iterrows():
        own = _one(products.barriers(measure=r["measure_id"], region=code, period=p))
        nat = _one(products.barriers(measure=r["measure_id"], region=NATIONAL, period=p))
        label = str(own["label_" + lang]) if own is not None else str(r["label_" + lang])
        interval = supp(lang) if is_withheld(own) else escape(cell_ci(own, "barriers", lang))
        raised = _voices_cell(products, f"voices_sources:{r['theme_id']}", code)
        share = _voices_cell(products, str(r["voices_measure"]), code)
        sources = (f'{tagged(raised, "voices", lang)} / {tagged(total, "voices", lang)}<br>'
                   f'({tagged(share, "voices", lang, decimals=0)})')
        value = f'{tagged(own, "barriers", lang)}<br><span class="kkbm-note">{interval}</span>'
        cells = [escape(label), value, tagged(nat, "barriers", lang),
                 badge(own, lang) if own is not None else "", escape(str(r["theme_label_" + lang])), sources,
                 _convergence(r, lang)]
        tds = "".join(f'<td class="num">{c}</td>' if head[i][1] else f"<td>{c}</td>" for i, c in enumerate(cells))
        quotes = "" if r["theme_id"] in quoted else "".join(
            f'<blockquote class="kkbm-excerpt">“{escape(e)}”</blockquote>' for e in _excerpts(r))
        quoted.add(str(r["theme_id"]))
        rule = f'<span class="kkbm-note">{escape(t("field.voices.rule", lang))} {escape(str(r["rule_" + lang]))}</span>'
        body.append(f'<tr class="kkbm-joint">{tds}</tr><tr class="kkbm-joint-detail"><td colspan="{len(head)}">'
                    f"{rule}{quotes}</td></tr>")
    return (f'<table class="kkbm-table wide kkbm-joint-display"><thead><tr>{th}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _province(report: Any) -> list[str]:
    lang, code, products = report.lang, report.code, report.products
    rows = products.joint_display(region=code, period=report.period)
    rows = rows.assign(_order=rows["convergence"].map({v: i for i, v in enumerate(CONVERGENCE)})).sort_values(
        "_order", kind="stable")  # what the voices say about the numbers first, "too small to say" last
    total = _voices_cell(products, "voices_sources:all", code)
    if rows.empty or total is None:
        return [_p(t("field.voices.no_sources", lang, name=report.name), "kkbm-note")]
    counts = rows["convergence"].value_counts()
    summary = ", ".join(f"{number(int(counts.get(v, 0)), 0, lang)} {t('voices.joint.verdict.' + v, lang)}"
                        for v in CONVERGENCE)
    intro = escape(t("field.voices.intro", lang, name=report.name, sources="\x00n\x00", pairs=number(len(rows), 0,
                                                                                                    lang),
                     summary=summary)).replace("\x00n\x00", tagged(total, "voices", lang))
    if pd.notna(total["window_start"]) and pd.notna(total["window_end"]):
        intro += " " + escape(t("field.voices.window", lang, first=date(total["window_start"], lang),
                                last=date(total["window_end"], lang), period=report.period))
    return [f"<p>{intro}</p>", _joint_table(report, rows), _p(t("field.voices.rules", lang), "kkbm-note"),
            _p(t("field.voices.excerpt_note", lang), "kkbm-note")]


def _theme_table(report: Any) -> str:
    """Share of sources raising each theme, by province (columns) and nationally."""
    lang, products = report.lang, report.products
    shares = products.voices(period="all")
    shares = shares.loc[shares["measure_id"].str.startswith("voices_share:")]
    regions = sorted(str(c) for c in shares.loc[shares["level"] == "province", "region_code"].unique())
    by = {(r["measure_id"], str(r["region_code"])): r for _, r in shares.iterrows()}
    prefix = t("evidence.voices.voices_share", lang) + ": "
    rows = []
    for measure in sorted(shares["measure_id"].unique()):
        first = shares.loc[shares["measure_id"] == measure].iloc[0]
        label = str(first["label_" + lang]).removeprefix(prefix)
        rows.append(("", [escape(label), *(tagged(by.get((measure, c)), "voices", lang, decimals=0)
                                            for c in [*regions, NATIONAL])]))
    totals = products.voices(measure="voices_sources:all", period="all")
    tby = {str(r["region_code"]): r for _, r in totals.iterrows()}
    rows.append(("kkbm-national", [escape(t("field.voices.row_sources", lang)),
                                   *(tagged(tby.get(c), "voices", lang) for c in [*regions, NATIONAL])]))
    header = [(t("voices.joint.head.theme", lang), False), *((region_name(c, lang), True) for c in regions),
              (t("common.national", lang), True)]
    return _table(header, rows, "wide")


def _count_table(report: Any) -> str:
    """Indicator-theme pairs per convergence verdict, by province (counts of the joint display's rows)."""
    lang, p = report.lang, report.period
    joint = report.products.joint_display(period=p)
    rows = []
    for code in sorted(joint["region_code"].astype(str).unique()):
        counts = joint.loc[joint["region_code"] == code, "convergence"].value_counts()
        cells = [f'<span class="kkbm-joint-count" data-region="{escape(code)}" data-period="{escape(p)}" '
                 f'data-convergence="{v}" data-value="{int(counts.get(v, 0))}">{number(int(counts.get(v, 0)), 0, lang)}'
                 f"</span>" for v in CONVERGENCE]
        rows.append(("", [escape(region_name(code, lang)), *cells]))
    header = [(t("common.province", lang), False), *((t("voices.joint.verdict." + v, lang), True) for v in CONVERGENCE)]
    return _table(header, rows)


def voices_section(report: Any) -> Html:
    """The "Voices from the field" section of a province report (``report.code``) or of the brief."""
    lang, products = report.lang, report.products
    head = f"<style>{_css('field.css')}</style>" + _h2("field.voices.title", lang)
    if not (products.has("voices") and products.has_joint_display()):
        return _section(head, _p(t("field.voices.none", lang), "kkbm-note"))
    code = getattr(report, "code", None)
    if code is not None:
        body = _province(report)
    else:
        body = [_p(t("field.voices.national_intro", lang)), _theme_table(report),
                _p(t("field.voices.share_note", lang, max_small=int(products.thresholds.get("min_count", 1)) - 1),
                   "kkbm-note"),
                f"<h3>{escape(t('field.voices.convergence_title', lang, period=report.period))}</h3>",
                _count_table(report), _p(t("field.voices.rules", lang), "kkbm-note")]
    return _section(head, _stamp(products, lang), *body)
