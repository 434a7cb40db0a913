"""Executed notebooks to self-contained HTML pages (the index pages: :mod:`.index`; PDF: :mod:`.pdf`).

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
from html import escape
from pathlib import Path
from typing import Any

from ..io import atomic_path
from .markup import STYLE, _css

__all__ = ["notebook_to_html", "write_html", "write_bytes", "PAGE_CSS", "PAGE_STYLE", "NARROW_CSS", "NARROW_MEDIA"]


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


#: The id given to papermill's injected-parameters cell, which papermill draws at random.
INJECTED_CELL_ID = "injected-parameters"


def _for_export(nb: Any) -> Any:
    """A copy without stderr outputs, and with a fixed id for the injected parameters (the page's
    ``cell-id`` anchor), so that the same notebook and parameters give the same page."""
    import copy
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell.id = INJECTED_CELL_ID
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
    body, _ = _exporter().from_notebook_node(_for_export(nb))
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
