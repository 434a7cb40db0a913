"""A tile-grid map of Indonesia's 38 provinces that needs no boundary file.

Each province is one equal square, laid out roughly as on the map: west to east from
Aceh (top left) through Sumatra, Java and Nusa Tenggara, Kalimantan, Sulawesi and
Maluku to the six Papua provinces on the right; north to south within each island
group. Small provinces (DKI Jakarta, DI Yogyakarta, Bali) weigh as much as large ones,
which suits indicators where each province counts once. The layout is the bundled
resource ``resources/provinces.csv`` (``code, abbreviation, short_name, row, col``; abbreviations
are the ISO 3166-2:ID province codes) and works fully offline::

    from kkbm_analysis.viz import tile_map
    tile_map(table, lang="id")

Classes, colours, legend, and the suppressed/no-data conventions are those of
:func:`~.maps.choropleth`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.patches import Rectangle

from . import _frames
from .classes import add_credit, classify, legend_handles
from ..i18n import check_lang, text
from .theme import (HATCH_EDGE, MISSING_COLOUR, MISSING_HATCH, SEQUENTIAL, SUPPRESSED_COLOUR, SUPPRESSED_HATCH,
                    new_axes)

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

__all__ = ["tile_grid", "tile_geodataframe", "tile_map"]

TILE_GID_PREFIX = "tile-"
_GAP = 0.08  # white space between tiles, in tile widths


def tile_grid() -> pd.DataFrame:
    """The tile layout: ``code, abbreviation, short_name, row, col`` for the 38 provinces."""
    return _frames.tile_table().copy()


def tile_geodataframe() -> "gpd.GeoDataFrame":
    """The tiles as square polygons (``region_code``, ``abbreviation``, ``short_name``, geometry).

    Coordinates are tile units (x = column, y = minus row), with no CRS: for joining
    and drawing with geopandas (``.plot``, ``.explore`` needs a CRS), or as stand-in
    shapes in tests and examples.
    """
    import geopandas as gpd
    from shapely.geometry import box

    table = _frames.tile_table()
    size = 1 - _GAP
    shapes = [box(c + _GAP / 2, -r - _GAP / 2 - size, c + _GAP / 2 + size, -r - _GAP / 2)
              for r, c in zip(table["row"], table["col"])]
    return gpd.GeoDataFrame({"region_code": table["code"], "abbreviation": table["abbreviation"],
                             "short_name": table["short_name"]}, geometry=shapes)


def _text_colour(face: str) -> str:
    """Black or white, whichever reads better on *face*."""
    r, g, b = to_rgb(face)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "black" if luminance > 0.5 else "white"


def tile_map(data: pd.DataFrame, *, value: str = "value", region_col: str = "region_code",
             suppressed: str | None = "suppressed",
             scheme: str = "quantiles", k: int = 5, bins: Sequence[float] | None = None, cmap: str = SEQUENTIAL,
             percent: bool | None = None, decimals: int | None = None, labels: str = "abbreviation",
             lang: str = "en", legend: bool = True, legend_title: str | None = None, title: str | None = None,
             note: bool = True, ax: Axes | None = None) -> Axes:
    """Draw province values on the built-in tile grid.

    Parameters
    ----------
    data : DataFrame
        One row per province: ``region_col`` (codes), ``value``, optionally ``suppressed``.
        Provinces absent from *data* are drawn as "no data". Codes below province level
        are rejected (the grid has provinces only).
    value, region_col, suppressed : str
        Column names.
    scheme, k, bins, cmap, percent, decimals :
        Classification and legend format, as in :func:`~.maps.choropleth`.
    labels : {'abbreviation', 'short_name', 'code'}
        Text on each tile: ISO 3166-2 abbreviation (``JB``), short name (``Jabar``) or code.
    lang : {'en', 'id'}
    legend, legend_title, title :
        Legend on/off and its title; axes title.
    note : bool
        Say under the map that tiles are not to scale.
    ax : Axes, optional

    Returns
    -------
    Axes
        Each tile is a Rectangle patch with gid ``'tile-<code>'``.
    """
    check_lang(lang)
    if labels not in ("abbreviation", "short_name", "code"):
        raise ValueError(f"labels must be 'abbreviation', 'short_name' or 'code', not {labels!r}")
    status = _frames.region_status(data, value=value, region_col=region_col, suppressed=suppressed, what="tile_map")
    deeper = [c for c in status.index if "." in c]
    if deeper:
        raise ValueError(f"the tile grid has provinces only; the data has codes {deeper[:5]}")
    grid = _frames.tile_table().set_index("code")
    unknown = sorted(set(status.index) - set(grid.index))
    if unknown:
        raise ValueError(f"not province codes of the tile grid: {unknown}")
    joined = status.reindex(grid.index)
    joined["status"] = joined["status"].fillna("missing")
    percent = _frames.is_percent(data, [value], percent)
    classes = classify(joined["value"], scheme=scheme, k=k, bins=bins, cmap=cmap)

    n_cols, n_rows = int(grid["col"].max()) + 1, int(grid["row"].max()) + 1
    ax = new_axes(ax, (11, 5.6))
    size = 1 - _GAP
    for code, tile in grid.iterrows():
        state = joined.at[code, "status"]
        if state == "value":
            face, hatch, edge = classes.colours[int(classes.classes[code])], None, "none"
        elif state == "suppressed":
            face, hatch, edge = SUPPRESSED_COLOUR, SUPPRESSED_HATCH, HATCH_EDGE
        else:
            face, hatch, edge = MISSING_COLOUR, MISSING_HATCH, HATCH_EDGE
        x, y = tile["col"] + _GAP / 2, tile["row"] + _GAP / 2
        ax.add_patch(Rectangle((x, y), size, size, facecolor=face, edgecolor=edge, hatch=hatch, linewidth=0.8,
                               gid=f"{TILE_GID_PREFIX}{code}"))
        label = code if labels == "code" else tile[labels]
        fontsize = 9 if labels != "short_name" else 6
        colour = _text_colour(face) if state == "value" else "#333333"
        ax.text(x + size / 2, y + size / 2, label, ha="center", va="center", fontsize=fontsize,
                fontweight="bold", color=colour,
                bbox=None if state == "value" else {"boxstyle": "square,pad=0.1", "facecolor": face,
                                                    "edgecolor": "none"})
    ax.set_xlim(-0.1, n_cols + 0.1)
    ax.set_ylim(n_rows + 0.1, -0.1)  # row 0 on top
    ax.set_aspect("equal")
    ax.set_axis_off()
    if legend:
        handles = legend_handles(classes, joined["status"], lang=lang, percent=percent, decimals=decimals)
        ax.legend(handles=handles, title=_frames.value_label(data, value, legend_title, lang),
                  loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    if title:
        ax.set_title(title)
    if note:
        add_credit(ax, text("figure.tile_note", lang))
    return ax

