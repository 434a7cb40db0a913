"""The index pages of a report folder: ``index.html`` (Bahasa Indonesia) and ``index-en.html`` (English).

Each page says which data the reports rest on (the data's last date, from the products
manifest, and the window the data cover), shows headline figures per province from the
published cells (a withheld cell shows only the "suppressed" mark; every figure is tagged
like a report's, see :mod:`.cells`), links the HTML and PDF of every report, lists in a
visible box every report that failed, was not run or has no PDF and why, and links the other
language's page.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import astuple, dataclass
from html import escape
from pathlib import Path
from typing import Any, Sequence

from ..i18n import date as date_text
from ..i18n import region_name
from ..i18n import text as t
from ..products import NATIONAL
from .cells import tagged
from .planning import CACHE_DIR

__all__ = ["IndexEntry", "write_index", "index_html", "INDEX_PAGES", "HEADLINES"]

#: Page file per language; the first is the folder's ``index.html``.
INDEX_PAGES: dict[str, str] = {"id": "index.html", "en": "index-en.html"}

#: Headline figures per province: (product, measure), over the whole span of the data.
HEADLINES: tuple[tuple[str, str], ...] = (("indicators", "members"), ("barriers", "mentoring_coverage"),
                                          ("barriers", "members_per_organiser"), ("indicators", "kur_uptake"),
                                          ("barriers", "business_running_12m"))
WHOLE_SPAN = "all"
#: The pages' key and SHA-256, in the folder's ``.cache``.
STAMP = "index-pages.json"

_CSS = ("table.kkbm-index{border-collapse:collapse;width:100%;margin:.5em 0 1.5em;font-size:.92em}"
        "table.kkbm-index th{background:#0b3d63;color:#fff;text-align:left;padding:.35em .5em;vertical-align:bottom}"
        "table.kkbm-index td{border-bottom:1px solid #dde3ea;padding:.3em .5em;vertical-align:top}"
        "table.kkbm-index td.num,table.kkbm-index th.num{text-align:right}"
        "table.kkbm-index td{white-space:nowrap}"
        "table.kkbm-index tr.kkbm-national td{border-top:2px solid #0b3d63;font-weight:bold}"
        ".kkbm-lang{float:right;font-size:.9em}.kkbm-problems{border:2px solid #a11d0c;background:#fdf1ef;"
        "padding:.5em 1em;margin:1em 0}.kkbm-problems h2{color:#a11d0c;border:0;margin:.2em 0}"
        ".kkbm-ok{color:#0d6b3a}.failed{color:#a11d0c}")


@dataclass(frozen=True)
class IndexEntry:
    """One report in the folder."""

    stem: str
    template: str
    province: str | None
    province_name: str | None
    period: str
    lang: str
    html: str | None
    pdf: str | None
    status: str          # 'ok' or 'failed' (as found in the folder); 'not run' from the batch
    error: str = ""


def _links(e: IndexEntry, lang: str) -> str:
    if e.status != "ok":
        return f'<span class="failed">{escape(t("index.failed_short", lang))}</span>'
    parts = [f'<a href="{escape(e.html)}">HTML</a>'] if e.html else []
    parts.append(f'<a href="{escape(e.pdf)}">PDF</a>' if e.pdf else
                 f'<span class="failed">{escape(t("index.no_pdf", lang))}</span>')
    return " · ".join(parts)


def _report_rows(entries: Sequence[IndexEntry], lang: str) -> str:
    """Reports grouped per province (national brief first): one row per period, one cell per language."""
    langs = sorted({e.lang for e in entries}, key=lambda x: (x != lang, x))
    groups: dict[tuple[str, str], dict[str, IndexEntry]] = {}
    for e in sorted(entries, key=lambda e: (e.template != "national", e.province or "", e.period)):
        groups.setdefault((e.province or "", e.period), {})[e.lang] = e
    head = (f"<tr><th>{escape(t('index.report', lang))}</th><th>{escape(t('index.period', lang))}</th>"
            + "".join(f"<th>{escape(t('index.language_' + x, lang))}</th>" for x in langs) + "</tr>")
    rows = []
    for (code, period), by_lang in groups.items():
        name = (f"{region_name(code, lang)} ({code})" if code else t("index.national_brief", lang))
        shown = t("index.whole_period", lang) if period == WHOLE_SPAN else period
        rows.append(f"<tr><td>{escape(name)}</td><td>{escape(shown)}</td>"
                    + "".join(f"<td>{_links(by_lang[x], lang) if x in by_lang else '—'}</td>" for x in langs)
                    + "</tr>")
    return f'<table class="kkbm-index">{head}{"".join(rows)}</table>'


def _headline_table(products: Any, lang: str) -> str:
    """Headline figures per province and nationally, over the whole span, from the published cells."""
    frames = {prod: products.cells(prod, measure=[m for p, m in HEADLINES if p == prod], period=WHOLE_SPAN)
              for prod in {p for p, _ in HEADLINES}}
    labels = []
    for prod, measure in HEADLINES:
        hit = frames[prod].loc[frames[prod]["measure_id"] == measure, f"label_{lang}"]
        labels.append(str(hit.iloc[0]) if len(hit) else measure)
    head = (f"<tr><th>{escape(t('index.province', lang))}</th>"
            + "".join(f'<th class="num">{escape(label)}</th>' for label in labels) + "</tr>")
    first: dict[tuple[str, str, str], dict] = {}  # (product, measure, region) -> its first cell
    for prod, frame in frames.items():
        for cell in frame.to_dict("records"):
            first.setdefault((prod, cell["measure_id"], cell["region_code"]), cell)
    rows = []
    for code in [*products.provinces, NATIONAL]:
        cells = [f'<td class="num">{tagged(first.get((prod, measure, code)), prod, lang)}</td>'
                 for prod, measure in HEADLINES]
        name = region_name(code, lang) + ("" if code == NATIONAL else f" ({code})")
        cls = ' class="kkbm-national"' if code == NATIONAL else ""
        rows.append(f"<tr{cls}><td>{escape(name)}</td>{''.join(cells)}</tr>")
    return f'<table class="kkbm-index">{head}{"".join(rows)}</table>'


def _problems(entries: Sequence[IndexEntry], notes: Sequence[str], pdf_wanted: bool, lang: str) -> str:
    """A visible box listing every report that failed, was not run or has no PDF, and why."""
    items = []
    for e in sorted(entries, key=lambda e: e.stem):
        if e.status == "failed":
            items.append(t("index.problem_failed", lang, report=e.stem, reason=e.error or "?"))
        elif e.status == "not run":
            items.append(t("index.problem_not_run", lang, report=e.stem))
        elif pdf_wanted and not e.pdf:
            items.append(t("index.problem_no_pdf", lang, report=e.stem))
    items += [t("index.problem_note", lang, note=n) for n in notes]
    if not items:
        return f'<p class="kkbm-ok">{escape(t("index.all_built", lang))}</p>'
    return (f'<div class="kkbm-problems" role="alert"><h2>{escape(t("index.problems", lang))}</h2><ul>'
            + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul></div>")


def index_html(entries: Sequence[IndexEntry], *, lang: str, products: Any = None, synthetic: bool = False,
               notes: Sequence[str] = (), pdf_wanted: bool = True) -> str:
    """The index page in *lang* (see the module docstring).

    Parameters
    ----------
    entries : sequence of IndexEntry
        Every report in the folder (and those of the batch that were not run).
    lang : {'id', 'en'}
    products : Products, optional
        The analysis products the reports read: the data date and the headline figures.
    synthetic : bool
        Show the SYNTHETIC banner.
    notes : sequence of str
        Batch-wide notes shown among the problems (e.g. why no PDF could be printed).
    pdf_wanted : bool
        Whether PDFs were asked for (a report without one is then listed as a problem).
    """
    from .export import PAGE_STYLE
    other = "en" if lang == "id" else "id"
    title = t("index.title", lang)
    switch = (f'<a class="kkbm-lang" href="{INDEX_PAGES[other]}" hreflang="{other}" lang="{other}">'
              f'{escape(t("index.switch", other))}</a>')
    banner = (f'<div class="kkbm-banner">{escape(t("report.synthetic_banner", lang))}<br>'
              f'{escape(t("report.synthetic_banner", other))}</div>') if synthetic else ""
    parts = [banner, switch, f"<h1>{escape(title)}</h1>",
             f'<p class="kkbm-subtitle">{escape(t("index.subtitle", lang))}</p>']
    if products is not None:
        first, last = products.data_window
        parts.append(f'<p class="kkbm-lead">{escape(t("index.data_as_of", lang, date=date_text(products.data_as_of, lang), first=date_text(first, lang), last=date_text(last, lang)))}</p>')
    parts.append(_problems(entries, notes, pdf_wanted, lang))
    parts.append(f"<h2>{escape(t('index.reports', lang))}</h2>" + _report_rows(entries, lang))
    if products is not None:
        first, last = products.data_window
        parts.append(f"<h2>{escape(t('index.headlines', lang))}</h2>"
                     f'<p class="kkbm-note">{escape(t("index.headlines_note", lang, first=date_text(first, lang), last=date_text(last, lang)))}</p>'
                     + _headline_table(products, lang))
    return ("<!DOCTYPE html>\n"
            f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<link rel="alternate" hreflang="{other}" href="{INDEX_PAGES[other]}">\n'
            f"<title>{escape(title)}</title>\n<style>{PAGE_STYLE}{_CSS}</style>\n</head>\n<body>\n"
            f'<main class="kkbm-page kkbm-report">{"".join(parts)}</main>\n</body>\n</html>\n')


def write_index(out_dir: str | os.PathLike, entries: Sequence[IndexEntry], *, synthetic: bool,
                products: Any = None, notes: Sequence[str] = (), pdf_wanted: bool = True,
                sources: dict | None = None) -> Path:
    """Write ``index.html`` (Indonesian) and ``index-en.html`` (English); return the path of ``index.html``.

    Pages whose text has not changed are not rewritten.

    ``sources`` names what the pages are made of besides the arguments: the fingerprints of the
    products' folder and of the package (:mod:`.cache`: data, words, code). With it, the pages'
    key (those and every argument but ``products``) is stored in ``.cache/index-pages.json`` with the
    pages' SHA-256, and the pages are not even rendered while the key is the same and the pages
    are as written: a batch with nothing to build reads no product.
    """
    from .export import write_html
    out_dir = Path(out_dir)
    stamp = out_dir / CACHE_DIR / STAMP
    key = None if sources is None else _pages_key(entries, synthetic, notes, pdf_wanted, sources)
    if key is not None and _pages_current(out_dir, stamp, key):
        return out_dir / INDEX_PAGES["id"]
    digests = {}
    for lang, name in INDEX_PAGES.items():
        html = index_html(entries, lang=lang, products=products, synthetic=synthetic, notes=notes,
                          pdf_wanted=pdf_wanted)
        path = out_dir / name
        if not (path.exists() and path.read_text(encoding="utf-8") == html):
            write_html(html, path)
        digests[name] = hashlib.sha256(html.encode("utf-8")).hexdigest()
    if key is not None:
        from ..io import write_json
        write_json({"key": key, "pages": digests}, stamp)
    return out_dir / INDEX_PAGES["id"]


def _pages_key(entries: Sequence[IndexEntry], synthetic: bool, notes: Sequence[str], pdf_wanted: bool,
               sources: dict) -> str:
    parts = {"entries": [astuple(e) for e in entries], "synthetic": synthetic, "notes": list(notes),
             "pdf_wanted": pdf_wanted, "pages": INDEX_PAGES, "sources": sources}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _pages_current(out_dir: Path, stamp: Path, key: str) -> bool:
    """Whether the stored key is ``key`` and each page is the one written with it."""
    try:
        stored = json.loads(stamp.read_text(encoding="utf-8"))
        return stored["key"] == key and all(
            hashlib.sha256((out_dir / name).read_bytes()).hexdigest() == stored["pages"][name]
            for name in INDEX_PAGES.values())
    except (OSError, ValueError, KeyError, TypeError):
        return False
