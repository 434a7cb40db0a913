"""HTML building blocks of the report sections: the page style, headings, tables, cards, badges."""
from __future__ import annotations

from html import escape
from typing import Any, Iterable, Sequence

from ..config import MIN_PUBLISHED_COUNT
from ..i18n import is_finite as finite
from ..i18n import number, percent, rupiah
from ..i18n import number as num
from ..i18n import text as t

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


def _plain_count(x: Any, lang: str) -> str:
    if not finite(x):
        return t("common.no_data", lang)
    return t("common.suppressed", lang) if 0 < float(x) < MIN_PUBLISHED_COUNT else num(x, 0, lang)


def value_text(x: Any, unit: str, lang: str) -> str:
    """An indicator value in its unit (proportions as %, rupiah as Rp, counts as integers)."""
    if unit == "proportion":
        return percent(x, 1, lang)
    if unit.startswith("rupiah"):
        return rupiah(x, lang)
    if unit in ("count", "people"):
        return number(x, 0, lang)
    if unit == "ratio":
        return percent(x, 1, lang, signed=True)
    return number(x, 1, lang)
