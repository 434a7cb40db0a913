"""PDF engines: a built report's HTML printed to an A4 PDF.

``weasyprint`` (default)
    WeasyPrint, installed from PyPI with the package; it needs the Pango library that
    ordinary Linux systems (and the base image) have. No browser, no network. Where the
    HarfBuzz-subset library is missing, WeasyPrint subsets fonts with fontTools, which reads
    each font's layout tables only to drop them; the engine hands it the fonts without them
    (:func:`_lean_font_subsetting`: the same bytes out, 0.5-1 CPU-s less per report). The
    compressed pixels of the reports' opaque PNG figures go into the PDF as they are, where
    WeasyPrint would decode and re-encode them (:func:`_png_pixels_as_they_are`: the same
    bytes out, about 0.4 CPU-s less per province report).
``chromium`` (optional)
    Headless Chromium over the DevTools protocol (:mod:`.chromium`), when a Chromium is
    installed (Debian's ``chromium``, or ``KKBM_CHROMIUM``).

Both print the same page: A4, the report's own style, a red "SYNTHETIC DATA / DATA
SINTETIS" line on every page of demo reports, the report title and ``page / pages`` in the
footer. WeasyPrint also gets ``css/print.css``: the key-figure cards in flowing rows,
headings kept with what follows them, the colophon kept with the last section, so no
heading is stranded at a page foot, figures at most 185 mm tall (a 38-province bar chart
shares its page) and the end matter set small. When the last page would still be near-empty
(less than :data:`NEAR_EMPTY` of it filled; rare), WeasyPrint lays the report out again with
the slightly tighter settings of :data:`TIGHTER`, in turn, and keeps the first that saves the page.

::

    with open_pdf_engine("weasyprint") as engine:
        engine.print_pdf("report.html", "report.pdf", header="SYNTHETIC DATA", footer="Title")

:func:`open_pdf_engine` raises :class:`PdfEngineUnavailable` (with the reason) when an engine
cannot run here; the batch then builds HTML only and says so in its summary.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import warnings
from abc import ABC, abstractmethod
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from .markup import _css

__all__ = ["PDF_ENGINES", "DEFAULT_PDF_ENGINE", "PdfEngine", "PdfEngineUnavailable", "WeasyPrintEngine",
           "ChromiumEngine", "open_pdf_engine"]

#: Engine names, the default first.
PDF_ENGINES: tuple[str, ...] = ("weasyprint", "chromium")
DEFAULT_PDF_ENGINE = "weasyprint"


class PdfEngineUnavailable(RuntimeError):
    """The PDF engine cannot run on this machine; the message says why and how to get it."""


class PdfEngine(ABC):
    """Prints built report pages to PDF; use as a context manager (it may hold a browser)."""

    name = ""

    def start(self) -> None:
        """Get ready to print (start a browser, load fonts...)."""

    def close(self) -> None:
        """Release what :meth:`start` took."""

    def __enter__(self) -> "PdfEngine":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @abstractmethod
    def print_pdf(self, html: str | os.PathLike, pdf: str | os.PathLike, *, header: str = "",
                  footer: str = "") -> Path:
        """Print a local HTML file to ``pdf`` (atomically): A4, ``header`` on every page, ``footer`` and page numbers."""


def _css_string(text: str) -> str:
    """``text`` as a quoted CSS string (for ``content:``)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


class WeasyPrintEngine(PdfEngine):
    """PDF by WeasyPrint (the default engine)."""

    name = "weasyprint"

    def __init__(self) -> None:
        try:
            with warnings.catch_warnings():  # a notice about an optional font-subsetting library, not a problem
                warnings.simplefilter("ignore", DeprecationWarning)
                import weasyprint
        except (ImportError, OSError) as exc:  # OSError: the Pango library is missing
            raise PdfEngineUnavailable(f"WeasyPrint cannot run here ({exc}); install it with pip install weasyprint "
                                       "(it needs the Pango library: apt-get install libpango-1.0-0)") from exc
        self._weasyprint = weasyprint
        self._lean_fonts: dict[bytes, bytes] = {}  # a font file's digest -> the file without its layout tables
        logging.getLogger("weasyprint").setLevel(logging.ERROR)  # CSS it ignores (scripts, grid fallbacks) is fine
        logging.getLogger("fontTools").setLevel(logging.ERROR)

    def print_pdf(self, html: str | os.PathLike, pdf: str | os.PathLike, *, header: str = "",
                  footer: str = "") -> Path:
        from .export import write_bytes

        margins = ("@page{size:A4;margin:16mm 13mm 17mm;"
                   "@bottom-left{content:" + _css_string(footer) + ";font:7.5pt 'DejaVu Sans',sans-serif;color:#666}"
                   "@bottom-right{content:counter(page) ' / ' counter(pages);font:7.5pt 'DejaVu Sans',sans-serif;"
                   "color:#666}"
                   + ("@top-center{content:" + _css_string(header) + ";font:bold 7.5pt 'DejaVu Sans',sans-serif;"
                      "color:#B2182B}" if header else "") + "}")
        styles = [self._weasyprint.CSS(string=_css("print.css")), self._weasyprint.CSS(string=margins)]
        page = self._weasyprint.HTML(filename=str(html))
        document = page.render(stylesheets=styles)
        for tighter in TIGHTER if len(document.pages) > 1 and last_page_fill(document) < NEAR_EMPTY else ():
            retry = page.render(stylesheets=[*styles, self._weasyprint.CSS(string=tighter)])
            if len(retry.pages) < len(document.pages):
                document = retry
                break
        with _fixed_font_timestamps(), _lean_font_subsetting(self._lean_fonts), _png_pixels_as_they_are():
            return write_bytes(document.write_pdf(), pdf)


@contextmanager
def _fixed_font_timestamps() -> Iterator[None]:
    """Subset fonts stamped with a fixed time, so that the same page gives the same PDF bytes.

    fontTools stamps each font it subsets with the time it saved it (the ``head`` table), unless
    ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) says which time; one the caller
    set is kept.
    """
    given = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = given if given is not None else "0"
    try:
        yield
    finally:
        if given is None:
            del os.environ["SOURCE_DATE_EPOCH"]


#: Layout tables that WeasyPrint has fontTools drop from every subset font (glyph substitution and positioning:
#: the PDF carries positioned glyphs), and the legacy kerning table fontTools drops when positioning is there.
_DROPPED_BY_SUBSETTING = ("GSUB", "GPOS")
_LEGACY_KERNING = "kern"


@contextmanager
def _lean_font_subsetting(memo: dict[bytes, bytes]) -> Iterator[None]:
    """WeasyPrint's fontTools subsetting given each font without the tables it drops anyway.

    fontTools (4.68) decompiles a font's whole ``GSUB``/``GPOS`` tables before the subsetter drops
    them: for DejaVu Sans about 0.4 s per font and document, two thirds of the subsetting. Removing
    them first, once per font file and engine (``memo``), gives byte-identical subset fonts (a test
    compares the PDFs). The HarfBuzz-subset path, when that library is installed, is left as it is.
    Like :func:`_fixed_font_timestamps`, this changes process-wide state (a WeasyPrint method) while
    a PDF is written: safe for the batch's one-thread workers, not for threads printing at once.
    """
    try:
        from weasyprint.pdf.fonts import Font
        subset = Font._fonttools_subset
    except (ImportError, AttributeError):  # pragma: no cover - another WeasyPrint
        yield
        return

    def lean_subset(font: Any, *args: Any, **kwargs: Any) -> None:
        if font.file_content[:4] != b"ttcf":  # a collection's fonts are left whole (saving one would lose the rest)
            font.file_content = _without_layout_tables(font.file_content, memo)
        subset(font, *args, **kwargs)

    Font._fonttools_subset = lean_subset
    try:
        yield
    finally:
        Font._fonttools_subset = subset


def _without_layout_tables(content: bytes, memo: dict[bytes, bytes]) -> bytes:
    """The font file ``content`` without the tables fontTools' subsetting drops (remembered in ``memo``)."""
    key = hashlib.sha1(content, usedforsecurity=False).digest()
    if key not in memo:
        from fontTools.ttLib import TTFont
        font = TTFont(io.BytesIO(content), lazy=True)
        dropped = [tag for tag in _DROPPED_BY_SUBSETTING if tag in font]
        if "GPOS" in dropped and _LEGACY_KERNING in font:
            dropped.append(_LEGACY_KERNING)
        if dropped:
            for tag in dropped:
                del font[tag]
            lean = io.BytesIO()
            font.save(lean)
            content = lean.getvalue()
        memo[key] = content
    return memo[key]


@contextmanager
def _png_pixels_as_they_are() -> Iterator[None]:
    """WeasyPrint given the compressed pixels of an opaque PNG as they are, instead of decoding and re-encoding them.

    A PDF image with PNG predictors (``/FlateDecode``, ``Predictor`` 15) holds exactly the
    ``IDAT`` data of a non-interlaced 8-bit PNG. For RGB PNGs WeasyPrint (70) decodes the file
    and has Pillow encode the pixels again, only to keep those ``IDAT`` chunks: for the report
    figures (RGB PNGs written by Pillow, :func:`.figures.png_bytes`) the re-encoding gives the
    same bytes again (a test compares the PDFs), at about 0.1 CPU-s per figure. Other images
    (alpha, palettes, interlaced, not PNG) go through WeasyPrint as before. Like
    :func:`_lean_font_subsetting`, a process-wide swap while a PDF is written (one-thread workers).
    """
    try:
        from weasyprint.images import RasterImage
        encode = RasterImage.__dict__["_get_png_data"]
    except (ImportError, KeyError):  # pragma: no cover - another WeasyPrint
        yield
        return

    def idat_or_encode(pillow_image: Any) -> bytes:
        data = _plain_rgb_idat(pillow_image)
        return data if data is not None else encode.__func__(pillow_image)

    RasterImage._get_png_data = staticmethod(idat_or_encode)
    try:
        yield
    finally:
        RasterImage._get_png_data = encode


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _plain_rgb_idat(pillow_image: Any) -> bytes | None:
    """The joined ``IDAT`` data of an unread PNG that is 8-bit RGB and not interlaced (else None)."""
    source = getattr(pillow_image, "fp", None)
    if getattr(pillow_image, "format", None) != "PNG" or not isinstance(source, io.BytesIO):
        return None
    data = source.getvalue()
    if bytes(data[:8]) != _PNG_SIGNATURE or bytes(data[12:16]) != b"IHDR":
        return None
    bit_depth, colour_type, _, _, interlace = data[24:29]
    if (bit_depth, colour_type, interlace) != (8, 2, 0):  # 8 bits, truecolour without alpha, not interlaced
        return None
    chunks, at = [], 8
    while at + 8 <= len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        kind = bytes(data[at + 4:at + 8])
        if kind == b"IDAT":
            chunks.append(bytes(data[at + 8:at + 8 + length]))
        at += 12 + length  # length, type, data, CRC
    return b"".join(chunks) or None


#: A last page filled less than this (share of its text area, about a third) is "near-empty": it is pulled back when it can be.
NEAR_EMPTY = 0.35

#: Tighter settings tried in turn when the last page is near-empty; the first that saves the page is kept. Rare:
#: ``print.css`` already sets figures at most 185 mm tall and the end matter small (no layout of the 24 pages of a
#: national slice needed it), so a report is laid out once.
TIGHTER: tuple[str, ...] = (
    "body{font-size:9.5pt !important}.kkbm-report h2{margin-top:.9em !important}",
)


def last_page_fill(document: Any) -> float:
    """How much of the last page's text area a rendered WeasyPrint document fills (0-1; 1 if unknown)."""
    try:
        box = document.pages[-1]._page_box  # WeasyPrint's layout tree: the page, its margin boxes, the html box
        top, bottom = box.margin_top, box.margin_height() - box.margin_bottom
    except AttributeError:  # pragma: no cover - another WeasyPrint layout API
        return 1.0
    lowest = top
    stack = [child for child in box.children if not type(child).__name__.endswith("MarginBox")]
    while stack:
        child = stack.pop()
        if isinstance(getattr(child, "height", None), (int, float)):
            lowest = max(lowest, child.position_y + child.margin_height())
        stack.extend(getattr(child, "children", None) or [])
    return (lowest - top) / max(bottom - top, 1.0)


class ChromiumEngine(PdfEngine):
    """PDF by headless Chromium (optional: needs a Chromium on the machine)."""

    name = "chromium"

    def __init__(self, executable: str | None = None) -> None:
        from .chromium import ChromiumPrinter, find_chromium
        self.executable = executable or find_chromium()
        if not self.executable:
            raise PdfEngineUnavailable("no Chromium found (install Debian's chromium, or set KKBM_CHROMIUM; the "
                                       "default engine, weasyprint, needs none)")
        self._printer = ChromiumPrinter(self.executable)

    def start(self) -> None:
        if self._printer.proc is not None:  # already running
            return
        try:
            self._printer.start()
        except Exception as exc:  # noqa: BLE001 - reported as the reason the PDFs are skipped
            raise PdfEngineUnavailable(f"Chromium could not start ({exc})") from exc

    def close(self) -> None:
        self._printer.close()

    def print_pdf(self, html: str | os.PathLike, pdf: str | os.PathLike, *, header: str = "",
                  footer: str = "") -> Path:
        return self._printer.print_pdf(html, pdf, header=header, footer=footer)


def open_pdf_engine(name: str = DEFAULT_PDF_ENGINE) -> PdfEngine:
    """The PDF engine ``name`` (one of :data:`PDF_ENGINES`), started.

    Raises
    ------
    ValueError
        For an unknown engine name.
    PdfEngineUnavailable
        When the engine cannot run on this machine (the message says why).
    """
    engines = {"weasyprint": WeasyPrintEngine, "chromium": ChromiumEngine}
    if name not in engines:
        raise ValueError(f"unknown PDF engine {name!r}; engines: {', '.join(PDF_ENGINES)}")
    engine = engines[name]()
    engine.start()
    return engine
