"""Page layout: the PDF's last page is not near-empty, and tables stay inside a phone-width screen (420 px).

Rendered with WeasyPrint (the default PDF engine, always installed), so these run everywhere.
"""
from __future__ import annotations

import os

from kkbm_analysis.reports.export import NARROW_CSS, NARROW_MEDIA, PAGE_CSS, PAGE_STYLE
from kkbm_analysis.reports.markup import STYLE

# weasyprint is imported by the tests that draw with it (its import costs about 1.3 CPU-s at collection otherwise).


def _page(body: str, style: str | None = None) -> str:
    """A page built like :func:`kkbm_analysis.reports.export.notebook_to_html` builds one."""
    style = PAGE_STYLE if style is None else style
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>{style}</style></head><body>'
            f'<main class="kkbm-page"><div class="kkbm-report">{body}</div></main></body></html>')


def _notes_page(n_lines: int) -> str:
    """A report of *n_lines* one-line paragraphs, then a data-notes list of a few lines."""
    notes = "".join(f"<li>Data note {i}: where the numbers come from and how small cells are withheld.</li>"
                    for i in range(6))
    return _page("<h1>Report</h1>" + "".join(f"<p>Finding {i}: one line of ordinary prose.</p>"
                                            for i in range(n_lines))
                 + f'<h2>Data notes</h2><ul class="kkbm-notes">{notes}</ul>')


def test_a_near_empty_last_page_is_pulled_back(tmp_path):
    import weasyprint
    from pypdf import PdfReader

    from kkbm_analysis.reports.markup import _css
    from kkbm_analysis.reports.pdf import NEAR_EMPTY, open_pdf_engine, last_page_fill
    plain = [weasyprint.CSS(string=_css("print.css")), weasyprint.CSS(string="@page{size:A4;margin:16mm 13mm 17mm}")]
    for n in range(20, 90):  # the first length whose plain layout spills a few lines onto a second page
        document = weasyprint.HTML(string=_notes_page(n)).render(stylesheets=plain)
        if len(document.pages) == 2:
            break
    assert len(document.pages) == 2 and last_page_fill(document) < NEAR_EMPTY
    html = tmp_path / "report.html"
    html.write_text(_notes_page(n), encoding="utf-8")
    with open_pdf_engine("weasyprint") as engine:
        pdf = engine.print_pdf(html, tmp_path / "report.pdf", footer="Report")
    assert len(PdfReader(pdf).pages) == 1
    full = tmp_path / "full.html"  # a last page that is well filled is left alone
    full.write_text(_notes_page(n + 12), encoding="utf-8")
    with open_pdf_engine("weasyprint") as engine:
        pages = PdfReader(engine.print_pdf(full, tmp_path / "full.pdf")).pages
    assert len(pages) == len(weasyprint.HTML(string=_notes_page(n + 12)).render(stylesheets=plain).pages)


def _boxes(box, tag):
    stack = [box]
    while stack:
        b = stack.pop()
        if getattr(b, "element_tag", None) == tag:
            yield b
        stack.extend(getattr(b, "children", None) or [])


WIDE_TABLE = ('<table class="kkbm-table wide"><tr><th>Province</th>'
              + "".join(f'<th class="num">Column heading {i}</th>' for i in range(11)) + "</tr>"
              + ("<tr><td>Nusa Tenggara Timur</td>" + '<td class="num">1.234,5</td>' * 11 + "</tr>") * 3 + "</table>")
FIGURE = ('<figure class="kkbm-figure"><img alt="map" style="max-width:100%;width:860px" src="data:image/png;'
          'base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E'
          'rkJggg=="><figcaption>A map</figcaption></figure>')


def _phone(narrow_rules: bool):
    """The page laid out on a 420 px screen. WeasyPrint evaluates no (max-width) query, so the narrow-screen
    rules the page carries inside one are put in unconditionally, at the same place of the cascade."""
    import weasyprint
    style = PAGE_CSS + STYLE + (NARROW_CSS if narrow_rules else "")
    sheets = [weasyprint.CSS(string="@page{size:420px 2000px !important;margin:0 !important}")]
    html = _page(f"<h2>Comparison</h2>{WIDE_TABLE}{FIGURE}", style)
    return weasyprint.HTML(string=html, media_type="screen").render(stylesheets=sheets).pages[0]._page_box


def _right(box) -> float:
    return box.position_x + box.margin_width()


def test_wide_tables_and_figures_stay_inside_a_phone_screen():
    assert PAGE_STYLE.endswith(f"@media {NARROW_MEDIA}{{\n{NARROW_CSS}}}\n") and "max-width:700px" in NARROW_MEDIA
    page = _phone(narrow_rules=True)
    assert _right(next(_boxes(page, "table"))) <= 420.5  # the table scrolls inside the screen
    assert _right(next(_boxes(page, "figure"))) <= 420.5
    assert next(_boxes(page, "img")).width >= 600  # the figure keeps a readable size (it scrolls) instead of shrinking


def test_without_the_narrow_rules_the_wide_table_overflows_a_phone():
    """The check above can fail: the same page without the narrow-screen rules is wider than the screen."""
    page = _phone(narrow_rules=False)
    assert _right(next(_boxes(page, "table"))) > 420.5
    assert next(_boxes(page, "img")).width < 420


def test_the_same_page_prints_the_same_pdf_bytes(tmp_path, monkeypatch):
    """fontTools stamps each subset font with the time it was made; the engine fixes that time (unless
    SOURCE_DATE_EPOCH is set), so a report printed twice gives the same file."""
    import time

    from kkbm_analysis.reports.pdf import open_pdf_engine
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    html = tmp_path / "report.html"
    html.write_text(_notes_page(30), encoding="utf-8")
    with open_pdf_engine("weasyprint") as engine:
        first = engine.print_pdf(html, tmp_path / "first.pdf", footer="Laporan").read_bytes()
        time.sleep(1.1)  # the font's time stamp counts seconds
        second = engine.print_pdf(html, tmp_path / "second.pdf", footer="Laporan").read_bytes()
    assert first == second
    assert "SOURCE_DATE_EPOCH" not in os.environ  # the caller's environment is left as it was


def test_fonts_without_their_layout_tables_give_the_same_pdf_bytes(tmp_path, monkeypatch):
    """The engine hands fontTools each font without the layout tables its subsetting drops: same bytes, less work."""
    from contextlib import nullcontext

    from weasyprint.text.ffi import harfbuzz_subset

    from kkbm_analysis.reports import pdf
    html = tmp_path / "report.html"
    html.write_text(_notes_page(30).replace("<p>Finding 3:", "<p><b>Bold</b> <i>italic</i> Finding 3:"),
                    encoding="utf-8")
    with pdf.open_pdf_engine("weasyprint") as engine:
        lean = engine.print_pdf(html, tmp_path / "lean.pdf", header="SYNTHETIC DATA", footer="Report").read_bytes()
        if harfbuzz_subset is None:  # fontTools subsets: every font it was given went through the memo
            assert engine._lean_fonts and all(b"GPOS" not in font[:400] for font in engine._lean_fonts.values())
        monkeypatch.setattr(pdf, "_lean_font_subsetting", lambda memo: nullcontext())
        whole = engine.print_pdf(html, tmp_path / "whole.pdf", header="SYNTHETIC DATA", footer="Report").read_bytes()
    assert lean == whole


def _figure_page(tmp_path):
    """A page with one report figure (a bar chart drawn by the report code) as its embedded PNG."""
    import pandas as pd

    from kkbm_analysis.reports import figures as fg
    frame = pd.DataFrame({"region_code": ["11", "12", "13", "ID"], "value": [3.0, 5.0, 4.0, 4.2],
                          "suppressed": [False, False, True, False]})
    fig = fg.province_bars(frame, "value", lang="en", highlight="12", synthetic=True)
    html = tmp_path / "figure.html"
    html.write_text(_page("<h1>Report</h1>" + fg.figure_html(fig, alt="bars", caption="Bars")), encoding="utf-8")
    return fig, html


def test_report_figures_are_opaque_rgb_pngs_with_matplotlibs_pixels(tmp_path):
    """The figure's PNG drops only an alpha channel that says nothing: the pixels are matplotlib's own."""
    import io

    import numpy as np
    from PIL import Image

    from kkbm_analysis.reports import figures as fg
    fig, _ = _figure_page(tmp_path)
    ours = Image.open(io.BytesIO(fg.png_bytes(fig)))
    buf = io.BytesIO()  # what matplotlib writes itself (RGBA)
    fig.savefig(buf, format="png", dpi=fg.PNG_DPI, metadata={"Software": None}, facecolor="white",
                bbox_inches="tight", pad_inches=0.12)
    theirs = Image.open(io.BytesIO(buf.getvalue()))
    assert ours.mode == "RGB" and theirs.mode == "RGBA" and ours.size == theirs.size
    assert np.asarray(theirs)[..., 3].min() == 255
    assert np.array_equal(np.asarray(ours), np.asarray(theirs)[..., :3])
    assert fg.png_bytes(fig) == fg.png_bytes(fig) and type(fig.canvas).__name__ == "FigureCanvasBase"


def test_png_pixels_go_into_the_pdf_as_they_are_with_the_same_bytes(tmp_path, monkeypatch):
    """The engine hands WeasyPrint an RGB PNG's compressed pixels instead of having it decode and re-encode them:
    the PDF is byte-identical, and an image with an alpha channel still goes through WeasyPrint."""
    import base64
    import io
    from contextlib import nullcontext

    from PIL import Image

    from kkbm_analysis.reports import pdf
    _, html = _figure_page(tmp_path)
    used = []
    plain_idat = pdf._plain_rgb_idat
    monkeypatch.setattr(pdf, "_plain_rgb_idat", lambda image: used.append(plain_idat(image)) or used[-1])
    with pdf.open_pdf_engine("weasyprint") as engine:
        as_they_are = engine.print_pdf(html, tmp_path / "a.pdf", footer="Report").read_bytes()
        assert used and all(data for data in used)  # the figure took the short way
        monkeypatch.setattr(pdf, "_png_pixels_as_they_are", lambda: nullcontext())
        reencoded = engine.print_pdf(html, tmp_path / "b.pdf", footer="Report").read_bytes()
    assert as_they_are == reencoded
    with_alpha = FIGURE.split("base64,")[1].split('"')[0]  # the 1-pixel RGBA PNG above
    image = Image.open(io.BytesIO(base64.b64decode(with_alpha)))
    assert image.mode == "RGBA" and pdf._plain_rgb_idat(image) is None


def test_a_38_province_chart_prints_at_most_185_mm_tall_in_proportion(tmp_path):
    """Print figures fit the page: a bar chart of every province (taller than the cap at the text width) is set
    at most 185 mm tall, its proportions kept, and shares its page with its heading and caption. Its province
    names still print at 8 pt or more."""
    import io

    import pandas as pd
    import weasyprint
    from PIL import Image

    from kkbm_analysis.reports import figures as fg
    from kkbm_analysis.reports.markup import _css
    from kkbm_analysis.viz._frames import tile_table
    codes = sorted(tile_table()["code"].astype(str))
    assert len(codes) == 38
    frame = pd.DataFrame({"region_code": codes, "value": [float(i % 7) for i in range(len(codes))],
                          "suppressed": False})
    fig = fg.province_bars(frame, "value", lang="en", highlight=codes[3])
    label_pt = fig.axes[0].get_yticklabels()[0].get_fontsize()
    figure = fg.figure_html(fig, alt="bars", caption="Bars")
    png = Image.open(io.BytesIO(fg.png_bytes(fig)))
    drawn_mm = png.height / fg.PNG_DPI * 25.4  # the figure's own height, at which its labels are label_pt
    html = _page("<h2>Staffing</h2><p>Members per organiser.</p>" + figure)
    page = "@page{size:A4;margin:16mm 13mm 17mm}"
    mm = 25.4 / 96  # CSS pixels to millimetres

    def laid_out(sheets):
        document = weasyprint.HTML(string=html).render(stylesheets=[weasyprint.CSS(string=s) for s in sheets])
        return len(document.pages), next(img for page in document.pages for img in _boxes(page._page_box, "img"))

    _, plain = laid_out([page])
    pages, printed = laid_out([_css("print.css"), page])
    assert plain.height * mm > 185  # without the print rules the chart is taller than the cap
    assert printed.height * mm <= 185.01 and pages == 1
    assert label_pt * printed.height * mm / drawn_mm >= 8  # province names printed at 8 pt or more
    assert printed.style["object_fit"] == "contain"  # drawn inside its box in proportion, not stretched
