"""House style for every figure: theme, palette, synthetic-data stamp, axis number formats, saving.

Figures of the suite look the same in every notebook and report, in Bahasa Indonesia or
English, and say so when they come from synthetic demo data::

    from kkbm_analysis.viz import theme
    theme.set_theme()                        # once per notebook, or:
    with theme.house_style():
        ax = charts.indicator_bars(table, lang="id")
        theme.synthetic_banner(ax)            # demo data only
        theme.save_figure(ax.figure, "kur_uptake_by_province")

Colours
-------
:data:`PALETTE` is the Okabe-Ito palette (safe for the common colour-vision
deficiencies); :data:`SEQUENTIAL` (ColorBrewer ``YlGnBu``) colours maps and heatmaps.
Suppressed small cells are drawn in :data:`SUPPRESSED_COLOUR` with :data:`SUPPRESSED_HATCH`,
regions without data in white with :data:`MISSING_HATCH`: never as zero.

Words and numbers
-----------------
Every word on a figure comes from :mod:`kkbm_analysis.i18n` (``figure.*`` and ``common.*``
entries of its catalogue); numbers are written by :func:`kkbm_analysis.i18n.number`
(Indonesian ``1.234,5`` and ``42,5%``; English ``1,234.5`` and ``42.5%``).
:class:`LocaleFormatter` writes an axis's tick labels that way.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from ..i18n import check_lang, number, text

__all__ = [
    "PALETTE", "SEQUENTIAL", "SUPPRESSED_COLOUR", "SUPPRESSED_HATCH", "MISSING_COLOUR", "MISSING_HATCH",
    "BENCHMARK_COLOUR", "set_theme", "house_style", "synthetic_banner", "save_figure", "LocaleFormatter",
    "format_axis",
]

# --------------------------------------------------------------------------- colours

#: Okabe-Ito qualitative palette (blue, orange, green, pink, sky blue, vermilion, yellow, black).
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
                            "#F0E442", "#000000")
#: Sequential colour map for choropleths, tile grids and heatmaps (ColorBrewer, colour-blind safe).
SEQUENTIAL = "YlGnBu"
#: Suppressed (small-number) cells: grey with diagonal hatching.
SUPPRESSED_COLOUR = "#bdbdbd"
SUPPRESSED_HATCH = "////"
#: Regions or cells without any data: white with dots.
MISSING_COLOUR = "#ffffff"
MISSING_HATCH = "..."
#: Outline and hatch colour of suppressed/missing shapes.
HATCH_EDGE = "#737373"
#: National benchmark lines.
BENCHMARK_COLOUR = "#333333"
#: Colour of the synthetic-data stamp.
BANNER_COLOUR = "#B2182B"

_RC: dict[str, Any] = {
    "font.family": "sans-serif",
    # DejaVu Sans ships with matplotlib: the same glyphs on every machine.
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "sans-serif"],
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 9.5,
    "legend.title_fontsize": 10,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.1,
    "svg.fonttype": "path",      # SVG looks the same without the font installed
    "svg.hashsalt": "kkbm",      # stable element ids: identical SVGs from identical inputs
    "hatch.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.constrained_layout.use": False,
}

# --------------------------------------------------------------------------- theme

def set_theme(*, context: str = "notebook", font_scale: float = 1.0, rc: dict[str, Any] | None = None) -> None:
    """Apply the house style globally (seaborn ``whitegrid`` + :data:`PALETTE` + readable sizes).

    Parameters
    ----------
    context : {'paper', 'notebook', 'talk', 'poster'}
        seaborn plotting context (scales fonts and lines).
    font_scale : float
        Extra scaling of all fonts.
    rc : dict, optional
        rcParams that override the house ones.
    """
    sns.set_theme(context=context, style="whitegrid", palette=list(PALETTE), font_scale=font_scale,
                  rc={**_RC, **(rc or {})})
    # set_theme scales the house sizes only if they are set after the context: do it by hand
    for key in ("axes.titlesize", "axes.labelsize", "xtick.labelsize", "ytick.labelsize", "legend.fontsize",
                "legend.title_fontsize"):
        if not rc or key not in rc:
            mpl.rcParams[key] = _RC[key] * font_scale * _CONTEXT_SCALE.get(context, 1.0)


_CONTEXT_SCALE = {"paper": 0.85, "notebook": 1.0, "talk": 1.3, "poster": 1.6}


@contextlib.contextmanager
def house_style(**kwargs: Any) -> Iterator[None]:
    """Context manager: the house style inside the block, the previous settings after it.

    Keyword arguments are passed to :func:`set_theme`.
    """
    with mpl.rc_context():
        set_theme(**kwargs)
        yield


# --------------------------------------------------------------------------- banner

_BANNER_GID = "kkbm-synthetic-banner"


def _figure_of(fig_or_ax: Figure | SubFigure | Axes) -> Figure | SubFigure:
    if isinstance(fig_or_ax, Axes):
        return fig_or_ax.figure
    if isinstance(fig_or_ax, (Figure, SubFigure)):
        return fig_or_ax
    raise TypeError(f"expected a matplotlib Figure or Axes, not {type(fig_or_ax).__name__}")


def synthetic_banner(fig_or_ax: Figure | Axes, *, label: str | None = None) -> mpl.text.Text:
    """Stamp "SYNTHETIC DATA / DATA SINTETIS" on a figure made from demo data.

    The stamp sits in the figure's top-right corner in red capitals on white, and a
    faint diagonal watermark crosses the plotting area, so a cropped figure still says
    it. Stamping twice does nothing more.

    Parameters
    ----------
    fig_or_ax : Figure or Axes
        The figure (an Axes stamps its figure).
    label : str, optional
        Other wording (default: the catalogue's ``figure.synthetic``, bilingual).

    Returns
    -------
    matplotlib.text.Text
        The stamp.
    """
    fig = _figure_of(fig_or_ax)
    for existing in fig.texts:
        if existing.get_gid() == _BANNER_GID:
            return existing
    words = label or text("figure.synthetic", "en")
    stamp = fig.text(0.995, 0.995, words, ha="right", va="top", fontsize=9, fontweight="bold",
                     color=BANNER_COLOUR, gid=_BANNER_GID, zorder=10,
                     bbox={"boxstyle": "square,pad=0.3", "facecolor": "white", "edgecolor": BANNER_COLOUR,
                           "linewidth": 1.0})
    fig.text(0.5, 0.5, words, ha="center", va="center", rotation=25, fontsize=26, fontweight="bold",
             color=BANNER_COLOUR, alpha=0.08, gid=_BANNER_GID + "-watermark", zorder=0)
    return stamp


# --------------------------------------------------------------------------- saving

def save_figure(fig: Figure | Axes, name: str, *, formats: Sequence[str] = ("png", "svg"),
                directory: str | os.PathLike | None = None, dpi: float | None = None) -> list[Path]:
    """Write a figure as PNG and SVG (by default) to ``figures/``, each file atomically.

    Each file is written to a temporary name in the target folder and renamed over the
    final name, so a reader never sees half a file and a failed save leaves the previous
    one. SVGs carry no date, so the same figure gives the same file.

    Parameters
    ----------
    fig : Figure or Axes
        The figure (an Axes saves its figure).
    name : str
        File stem, e.g. ``"kur_uptake_by_province"`` (a known suffix is dropped).
    formats : sequence of str
        Any of matplotlib's formats (``"png"``, ``"svg"``, ``"pdf"``...).
    directory : path, optional
        Default: ``kkbm_analysis.config.paths().figures``. Created if missing.
    dpi : float, optional
        Resolution of raster formats (default ``savefig.dpi``, 200 in the house style).

    Returns
    -------
    list of Path
        The written files, in the order of *formats*.
    """
    fig = _figure_of(fig)
    if isinstance(fig, SubFigure):
        fig = fig.figure
    if not name or Path(name).name != name:
        raise ValueError(f"name must be a plain file name without folders, not {name!r}")
    stem = name
    for fmt in formats:
        if stem.lower().endswith("." + fmt.lower()):
            stem = stem[: -len(fmt) - 1]
    if directory is None:
        from ..config import paths
        directory = paths().figures
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        fmt = fmt.lower().lstrip(".")
        target = directory / f"{stem}.{fmt}"
        metadata = {"Date": None} if fmt in ("svg", "pdf") else None
        handle, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".{fmt}.tmp", dir=directory)
        try:
            with os.fdopen(handle, "wb") as out:
                fig.savefig(out, format=fmt, dpi=dpi or mpl.rcParams["savefig.dpi"], metadata=metadata,
                            bbox_inches="tight", pad_inches=0.1)  # legends outside the Axes stay in
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written


# --------------------------------------------------------------------------- numbers

def _auto_decimals(locs: Sequence[float], percent: bool) -> int:
    """Fewest decimals (at most 4) that write every tick value exactly (12.5 -> 1, 20 -> 0)."""
    values = np.asarray([v for v in locs if np.isfinite(v)], dtype=float) * (100 if percent else 1)
    for decimals in range(5):
        if np.allclose(np.round(values, decimals), values, rtol=0, atol=1e-9 * max(1.0, np.abs(values).max(initial=0))):
            return decimals
    return 4


class LocaleFormatter(mticker.Formatter):
    """Tick labels in Indonesian or English number format.

    Parameters
    ----------
    lang : {'en', 'id'}
    decimals : int, optional
        Fixed decimals; default: the fewest that tell the ticks apart.
    percent : bool
        Values are proportions, shown as percentages.
    """

    def __init__(self, *, lang: str = "en", decimals: int | None = None, percent: bool = False) -> None:
        self.lang = check_lang(lang)
        self.decimals = decimals
        self.percent = percent
        self._ticks: list[float] = []

    def set_locs(self, locs: Sequence[float]) -> None:
        self._ticks = list(locs)
        super().set_locs(locs)

    def __call__(self, x: float, pos: int | None = None) -> str:
        decimals = self.decimals if self.decimals is not None else _auto_decimals(self._ticks or [x], self.percent)
        return number(x, decimals, self.lang, percent=self.percent)


def format_axis(ax: Axes, axis: str = "y", *, lang: str = "en", percent: bool = False,
                decimals: int | None = None) -> Axes:
    """Use :class:`LocaleFormatter` on the ``'x'``, ``'y'`` (or ``'both'``) axis; return the Axes."""
    for name in ("x", "y") if axis == "both" else (axis,):
        getattr(ax, f"{name}axis").set_major_formatter(LocaleFormatter(lang=lang, decimals=decimals,
                                                                       percent=percent))
    return ax


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """*ax*, or the Axes of a new figure of *figsize* (inches)."""
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize)
    return ax
