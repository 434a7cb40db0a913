"""Executed notebooks to self-contained HTML and PDF, and the index page.

HTML
    nbconvert's ``HTMLExporter`` (``basic`` template: the cells only) with code hidden
    (``exclude_input``, no prompts), wrapped in a page of our own: inline CSS, no script
    and no link to any CDN (no MathJax, no require.js), images as ``data:`` URIs, so the
    file opens offline and prints well. Cells tagged ``remove-cell`` (developer notes in
    the templates) and ``stderr`` streams (warnings) are left out.
PDF
    The HTML printed by headless Chromium (Debian's ``chromium``) over the DevTools
    protocol on a pipe: one browser serves a whole batch (:class:`ChromiumPrinter`), A4,
    page numbers in the footer and, for synthetic data, a red header on every page. When
    no Chromium is found, :func:`find_chromium` returns None and the batch skips PDF with a
    warning.
Every file is written atomically (temporary file, then rename).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Sequence

from ..i18n import text as t
from ..io import atomic_path
from .markup import STYLE, _css

__all__ = ["notebook_to_html", "write_html", "write_bytes", "write_index", "IndexEntry", "PAGE_CSS",
           "PAGE_STYLE", "NARROW_CSS", "NARROW_MEDIA"]


#: Screens this narrow (phones) get the rules of ``css/narrow.css``.
NARROW_MEDIA = "screen and (max-width:700px)"

#: The rules for narrow screens alone (``css/narrow.css``): tables and figures scroll inside the screen.
NARROW_CSS = _css("narrow.css")

#: The page around a report (``css/page.css``): width, prompts hidden, A4 print rules.
PAGE_CSS = _css("page.css")

#: Every page's style sheet: the page, the report style, then the narrow-screen rules (last, so they win there).
PAGE_STYLE = f"{PAGE_CSS}{STYLE}@media {NARROW_MEDIA}{{\n{NARROW_CSS}}}\n"


# --------------------------------------------------------------------------- HTML
_EXPORTER: Any = None


def _exporter():
    global _EXPORTER
    if _EXPORTER is None:
        from nbconvert import HTMLExporter
        from nbconvert.preprocessors import TagRemovePreprocessor
        from traitlets.config import Config
        c = Config()
        c.TagRemovePreprocessor.remove_cell_tags = {"remove-cell", "dev-note"}
        c.TagRemovePreprocessor.enabled = True
        exporter = HTMLExporter(config=c, template_name="basic")
        exporter.exclude_input = True
        exporter.exclude_input_prompt = True
        exporter.exclude_output_prompt = True
        exporter.register_preprocessor(TagRemovePreprocessor(config=c), enabled=True)
        _EXPORTER = exporter
    return _EXPORTER


def _drop_stderr(nb: Any) -> Any:
    import copy
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    return nb


def notebook_to_html(nb: Any, *, title: str, lang: str = "en", footer: str = "") -> str:
    """A self-contained HTML page of an executed notebook, code hidden.

    Parameters
    ----------
    nb : NotebookNode
        The executed notebook.
    title : str
        The page title.
    lang : {'id', 'en'}
        The page's language (``<html lang>``).
    footer : str
        A plain-text line at the bottom (e.g. the generator and data version).
    """
    body, _ = _exporter().from_notebook_node(_drop_stderr(nb))
    foot = f'<div class="kkbm-footer">{escape(footer)}</div>' if footer else ""
    return ("<!DOCTYPE html>\n"
            f'<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n"
            '<meta name="generator" content="kkbm-analysis">\n'
            f"<style>{PAGE_STYLE}</style>\n</head>\n<body>\n"
            f'<main class="kkbm-page">\n{body}\n{foot}</main>\n</body>\n</html>\n')


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(data: bytes, path: str | os.PathLike) -> Path:
    """Write a file atomically with the usual permissions (readable by others unless the umask says no)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
        os.chmod(tmp, 0o666 & ~_umask())
    return path


def write_html(html: str, path: str | os.PathLike) -> Path:
    """Write a page atomically."""
    return write_bytes(html.encode("utf-8"), path)


# --------------------------------------------------------------------------- PDF


# --------------------------------------------------------------------------- index
@dataclass(frozen=True)
class IndexEntry:
    """One row of the index page."""

    stem: str
    template: str
    province: str | None
    province_name: str | None
    period: str
    lang: str
    html: str | None
    pdf: str | None
    status: str          # 'ok' or 'failed'
    error: str = ""


def write_index(out_dir: str | os.PathLike, entries: Sequence[IndexEntry], *, synthetic: bool,
                lang: str = "en", note: str = "") -> Path:
    """``index.html`` linking every report (relative links), national briefs first.

    The page is bilingual in its headings (reports exist in both languages).
    """
    out_dir = Path(out_dir)
    title = "KKBM — laporan evaluasi / evaluation reports"
    def links(e: IndexEntry) -> str:
        if e.status != "ok":
            return f'<span class="failed">gagal / failed: {escape(e.error)}</span>'
        parts = [f'<a href="{escape(e.html)}">HTML</a>'] if e.html else []
        if e.pdf:
            parts.append(f'<a href="{escape(e.pdf)}">PDF</a>')
        return " · ".join(parts)

    def table(rows: Sequence[IndexEntry], national: bool) -> str:
        head = ("<tr><th>Periode / period</th><th>Bahasa / language</th><th>Berkas / files</th></tr>" if national else
                "<tr><th>Kode / code</th><th>Provinsi / province</th><th>Periode / period</th>"
                "<th>Bahasa / language</th><th>Berkas / files</th></tr>")
        body = []
        for e in rows:
            lang_name = {"id": "Bahasa Indonesia", "en": "English"}.get(e.lang, e.lang)
            cells = ([e.period, lang_name] if national else [e.province or "", e.province_name or "", e.period,
                                                                 lang_name])
            body.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + f"<td>{links(e)}</td></tr>")
        return f"<table>{head}{''.join(body)}</table>"

    nat = sorted((e for e in entries if e.template == "national"), key=lambda e: (e.period, e.lang))
    prov = sorted((e for e in entries if e.template == "province"),
                  key=lambda e: (e.province or "", e.period, e.lang))
    banner = (f'<div class="kkbm-banner">{escape(t("report.synthetic_banner", "id"))}<br>'
              f'{escape(t("report.synthetic_banner", "en"))}</div>') if synthetic else ""
    css = (PAGE_CSS + STYLE + "table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}"
           "th{background:#0b3d63;color:#fff;text-align:left;padding:.35em .5em}"
           "td{border-bottom:1px solid #dde3ea;padding:.3em .5em}.failed{color:#a11d0c}")
    html = ("<!DOCTYPE html>\n<html lang=\"id\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n"
            f'<main class="kkbm-page kkbm-report">{banner}<h1>{escape(title)}</h1>'
            f'<p class="kkbm-subtitle">Komunitas Keluarga Buruh Migran (BP2MI)</p>'
            "<h2>Ringkasan kebijakan nasional / National policy briefs</h2>" + table(nat, True)
            + "<h2>Laporan provinsi / Province reports</h2>" + table(prov, False)
            + (f'<p class="kkbm-note">{escape(note)}</p>' if note else "") + "</main>\n</body>\n</html>\n")
    path = out_dir / "index.html"
    if path.exists() and path.read_text(encoding="utf-8") == html:
        return path
    return write_html(html, path)
