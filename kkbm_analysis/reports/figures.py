"""Report figures: :mod:`kkbm_analysis.viz` charts in the house style, embedded as PNG.

Thin adapters over the viz package (``indicator_bars``, ``mentoring_gap_chart``,
``tile_map``) that draw on a :class:`matplotlib.figure.Figure` made without pyplot (so a
notebook does not display it twice), outline the report's own province, and stamp figures
made from synthetic data. :func:`figure_html` embeds a figure as a ``data:`` URI and
:func:`save` writes it through :func:`kkbm_analysis.viz.theme.save_figure`. Suppressed cells
are drawn grey and hatched, regions without data white, never as zero (the viz rules).

Embedded PNGs are RGB, without an alpha channel, when every pixel is opaque (the figures
are drawn on white): the same pixels, a quarter less to compress, and nothing for the PDF
engine to split off (:func:`png_bytes`).
"""
from __future__ import annotations

import base64
import io
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import viz
from ..viz import theme

HIGHLIGHT = theme.PALETTE[5]   # vermilion: the report's province
PNG_DPI = 150
#: Height of one bar's row in a province bar chart (inches). Every province's row (38 of them, and the nation's)
#: then fits the 185 mm print cap of ``print.css`` with its labels printed at 8 pt or more.
BAR_ROW_INCHES = 0.21
TILE_GID_PREFIX = "tile-"


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100)
    fig.set_facecolor("white")
    return fig


def _finish(fig: Figure, synthetic: bool) -> Figure:
    if synthetic:
        theme.synthetic_banner(fig)
    return fig


def _highlight_bar(ax: Any, name: str) -> None:
    """Colour the bar and bold the label of one region in a horizontal bar chart."""
    ticks = {t.get_text(): (pos, t) for pos, t in zip(ax.get_yticks(), ax.get_yticklabels())}
    if name not in ticks:
        return
    pos, label = ticks[name]
    label.set_fontweight("bold")
    label.set_color(HIGHLIGHT)
    for patch in ax.patches:
        if patch.get_gid() in (None, "") and abs(patch.get_y() + patch.get_height() / 2 - pos) < 1e-6:
            patch.set_facecolor(HIGHLIGHT)


def province_bars(frame: pd.DataFrame, value: str, *, lang: str, highlight: str | None = None,
                  national: float | None = None, percent: bool = False, ci: tuple[str, str] | None = None,
                  suppressed: str | None = "suppressed", label: str | None = None, synthetic: bool = False,
                  decimals: int | None = None) -> Figure:
    """One value per province (:func:`kkbm_analysis.viz.indicator_bars`), the report's province highlighted.

    Parameters
    ----------
    frame : DataFrame
        ``region_code`` and ``value`` (plus the ``ci`` columns and ``suppressed``, if given);
        a national row ``'ID'`` is used as the benchmark when ``national`` is None.
    highlight : str, optional
        Province code drawn in the highlight colour.
    national : float, optional
        Benchmark line.
    """
    with theme.house_style():
        rows = frame.loc[frame["region_code"].astype(str) != "ID"]
        fig = _figure(7.2, max(2.4, BAR_ROW_INCHES * len(rows) + 1.1))
        ax = fig.add_subplot()
        viz.indicator_bars(frame, value=value, ci=ci, numerator=None, denominator=None,
                           suppressed=suppressed if suppressed in frame.columns else None,
                           benchmark=national if national is not None else True, percent=percent,
                           decimals=decimals, label=label, lang=lang, ax=ax)
        if highlight:
            _highlight_bar(ax, viz_name(highlight, lang))
        height = fig.get_figheight()
        fig.subplots_adjust(top=1 - 0.4 / height, bottom=0.75 / height)  # no wide band above tall charts
        return _finish(fig, synthetic)


def viz_name(code: str, lang: str) -> str:
    """The label the viz package gives a province code."""
    from ..viz import _frames
    return _frames.region_names([code], "name", lang)[0]


def point_bars(shares: pd.DataFrame, *, lang: str, synthetic: bool = False) -> Figure:
    """Share of trained members receiving each mandated point, region(s) against the nation.

    ``shares``: one row per (``region_code``, ``point_id``) with ``share``, ``label_id``,
    ``label_en`` and ``suppressed`` (:func:`kkbm_analysis.viz.mentoring_gap_chart`, bars).
    """
    with theme.house_style():
        fig = _figure(7.2, 1.2 + 1.1 * shares["region_code"].nunique())
        ax = fig.add_subplot()
        viz.mentoring_gap_chart(shares, kind="bars", lang=lang, ax=ax)
        return _finish(fig, synthetic)


def tile_map(frame: pd.DataFrame, *, lang: str, value: str = "value", highlight: str | None = None,
             percent: bool = True, legend_title: str = "", synthetic: bool = False) -> Figure:
    """Indonesia's 38 provinces as a tile grid (:func:`kkbm_analysis.viz.tile_map`), one outlined."""
    with theme.house_style():
        fig = _figure(8.6, 4.4)
        ax = fig.add_subplot()
        viz.tile_map(frame, value=value, lang=lang, percent=percent, legend_title=legend_title or None, ax=ax)
        if highlight:
            for patch in ax.patches:
                if patch.get_gid() == f"{TILE_GID_PREFIX}{highlight}":
                    patch.set_edgecolor(HIGHLIGHT)
                    patch.set_linewidth(3.0)
                    patch.set_zorder(2.9)  # above the other tiles, below the labels
        return _finish(fig, synthetic)


# --------------------------------------------------------------------------- output
class _OpaquePngCanvas(FigureCanvasAgg):
    """An Agg canvas that writes an opaque image as an RGB PNG (matplotlib writes RGBA only).

    Used for one ``savefig`` (so ``bbox_inches="tight"`` works as usual): the drawn buffer
    goes to Pillow as RGB when its alpha channel is 255 everywhere, else as RGBA, as
    matplotlib would. Like matplotlib, it writes the resolution (``pHYs``) and no other
    metadata, so identical figures give identical bytes.
    """

    def print_png(self, filename_or_obj: Any, **kwargs: Any) -> None:  # kwargs: savefig's own (dpi, orientation...)
        from PIL import Image
        FigureCanvasAgg.draw(self)
        width, height = self.get_width_height(physical=True)
        image = Image.frombuffer("RGBA", (width, height), self.buffer_rgba(), "raw", "RGBA", 0, 1)
        if image.getextrema()[3][0] == 255:  # every pixel opaque: the alpha channel says nothing
            image = image.convert("RGB")
        image.save(filename_or_obj, format="png", dpi=(self.figure.dpi, self.figure.dpi))


def png_bytes(fig: Figure, dpi: int = PNG_DPI) -> bytes:
    """The figure as PNG bytes: RGB when opaque (it is, on white), no timestamp or other metadata."""
    buf = io.BytesIO()
    canvas = fig.canvas
    _OpaquePngCanvas(fig)  # the figure's canvas for this one save
    try:
        fig.savefig(buf, format="png", dpi=dpi, facecolor="white", bbox_inches="tight", pad_inches=0.12)
    finally:
        fig.set_canvas(canvas)
    return buf.getvalue()


def figure_html(fig: Figure, *, alt: str, caption: str = "", dpi: int = PNG_DPI) -> str:
    """A ``<figure>`` with the PNG embedded as a ``data:`` URI (no external file, works offline)."""
    data = base64.b64encode(png_bytes(fig, dpi)).decode("ascii")
    width = int(round(fig.get_figwidth() * 100))
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return (f'<figure class="kkbm-figure"><img src="data:image/png;base64,{data}" alt="{escape(alt)}" '
            f'style="max-width:100%;width:{width}px">{cap}</figure>')


def save(fig: Figure, name: str, directory: str | Path | None) -> list[Path]:
    """Also write the figure (PNG and SVG) to ``directory`` when one is given."""
    if directory is None:
        return []
    return theme.save_figure(fig, name, directory=directory)
