"""HTML building blocks of the report sections: the page style (a package resource), headings, tables,
cards, and how an indicator value is written in its unit (published cells: :mod:`.cells`)."""
from __future__ import annotations

import functools
from html import escape
from importlib import resources
from typing import Any, Iterable, Sequence

from ..i18n import number, percent, rupiah
from ..i18n import text as t


@functools.cache
def _css(name: str) -> str:
    """A style sheet of the package (``kkbm_analysis/reports/css/``)."""
    return resources.files(__package__).joinpath("css", name).read_text(encoding="utf-8")


#: The report style (``css/report.css``): cards, tables, badges, banner. Inlined into every page.
STYLE = _css("report.css")


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
