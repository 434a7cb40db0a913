"""Choropleth maps of an indicator by province (or regency), with honest gaps.

::

    from kkbm_analysis.viz import maps
    table = compute_indicators(data, "kur_uptake", level="province", period=None)
    ax = maps.choropleth(table, lang="id", title="Serapan KUR")   # boundaries if configured, else tile grid

Values are put into ``k`` classes with :mod:`mapclassify` (``quantiles``, Fisher-Jenks
``natural_breaks``, ``equal_interval``, or fixed ``bins`` so that several maps share
one scale); each class gets one colour of :data:`~.theme.SEQUENTIAL`. Suppressed
regions (small numbers) are grey and hatched, regions without data white and dotted,
both labelled in the legend; neither is ever coloured as a value. Maps drawn on a
boundary file credit its source under the map.

Which boundaries: ``boundaries=`` (a :class:`~.boundaries.BoundarySet`, a GeoDataFrame
or a path), else :func:`~.boundaries.resolve_boundaries` (``KKBM_BOUNDARIES``, then a
cached download), else the built-in tile grid (:func:`~.tilegrid.tile_map`).
"""
from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from matplotlib.axes import Axes

from ..i18n import check_lang, text
from . import _frames
from .boundaries import BoundarySet, load_boundaries, match_boundaries, resolve_boundaries
from .classes import CREDIT_GID, SCHEMES, Classification, add_credit, classify, legend_handles
from .theme import HATCH_EDGE, MISSING_COLOUR, MISSING_HATCH, SEQUENTIAL, SUPPRESSED_COLOUR, SUPPRESSED_HATCH, new_axes

__all__ = ["SCHEMES", "CREDIT_GID", "Classification", "classify", "choropleth", "legend_handles"]


# --------------------------------------------------------------------------- boundaries

@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int, size: int, level: str) -> BoundarySet:
    return load_boundaries(path, level=level)


def _boundary_set(boundaries: Any, level: str) -> BoundarySet | None:
    """A BoundarySet from what the caller passed, or the configured file; None -> tile grid."""
    if isinstance(boundaries, BoundarySet):
        if boundaries.level != level:
            raise ValueError(f"the boundaries are {boundaries.level}-level; level={level!r} was asked")
        return boundaries
    if isinstance(boundaries, gpd.GeoDataFrame):
        return match_boundaries(boundaries, level=level, source="GeoDataFrame")
    if boundaries is not None and not isinstance(boundaries, (str, os.PathLike)):
        raise TypeError("boundaries must be a BoundarySet, a GeoDataFrame, a path or None, "
                        f"not {type(boundaries).__name__}")
    path = resolve_boundaries(boundaries)
    if path is None:
        return None
    stat = Path(path).stat()
    return _load_cached(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size, level)


def _check_level(status: pd.DataFrame, level: str) -> None:
    width = {"province": 1, "regency": 2}[level]
    wrong = [c for c in status.index if c.count(".") + 1 != width]
    if wrong:
        raise ValueError(f"level={level!r} but the data has codes of another level: {wrong[:5]}")


# --------------------------------------------------------------------------- choropleth

def choropleth(data: pd.DataFrame, *, value: str = "value", region_col: str = "region_code",
               suppressed: str | None = "suppressed",
               boundaries: Any = None, level: str = "province",
               scheme: str = "quantiles", k: int = 5, bins: Sequence[float] | None = None, cmap: str = SEQUENTIAL,
               percent: bool | None = None, decimals: int | None = None, lang: str = "en",
               legend: bool = True, legend_title: str | None = None, title: str | None = None,
               credit: bool | str = True, ax: Axes | None = None) -> Axes:
    """Map an indicator by province (or regency), classed, with suppressed regions hatched.

    Parameters
    ----------
    data : DataFrame
        One row per region: ``region_col`` (codes, e.g. from ``compute_indicators``),
        ``value``, and optionally ``suppressed`` (bool). A national row (``'ID'``) is
        ignored. Filter to one indicator, period and disaggregation first.
    value, region_col, suppressed : str
        Column names (``suppressed=None``: no flag column).
    boundaries : BoundarySet, GeoDataFrame, path or None
        Shapes to draw. None: the ``KKBM_BOUNDARIES`` file or the cached download, and
        without either the built-in tile grid (provinces only).
    level : {'province', 'regency'}
        Level of the data and the shapes.
    scheme : {'quantiles', 'natural_breaks', 'equal_interval'}
        mapclassify scheme; *k* classes; *bins* fixes the upper bounds instead.
    cmap : str
        Sequential colour map.
    percent : bool, optional
        Show values as percentages (default: when the indicator is a proportion, or all
        values lie in [0, 1]). *decimals* fixes the digits of legend labels.
    lang : {'en', 'id'}
        Language of the legend and notes.
    legend, legend_title, title :
        Legend on/off and its title (default: the indicator's name); axes title.
    credit : bool or str
        True: credit the boundary source under the map (``"Boundaries: denyherianto, CC BY
        4.0"`` for the default file); a string: that text; False: none.
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    check_lang(lang)
    what = "choropleth"
    status = _frames.region_status(data, value=value, region_col=region_col, suppressed=suppressed, what=what)
    if level not in ("province", "regency"):
        raise ValueError(f"level must be 'province' or 'regency', not {level!r}")
    _check_level(status, level)
    bset = _boundary_set(boundaries, level)
    if bset is None:
        if level != "province":
            raise ValueError("no regency boundaries: pass boundaries= (a file or BoundarySet) or set KKBM_BOUNDARIES; "
                             "the built-in tile grid has provinces only")
        from .tilegrid import tile_map  # lazy: the tile grid is the fallback
        return tile_map(data, value=value, region_col=region_col, suppressed=suppressed, scheme=scheme, k=k,
                        bins=bins, cmap=cmap, percent=percent, decimals=decimals, lang=lang, legend=legend,
                        legend_title=legend_title, title=title, note=bool(credit), ax=ax)

    shapes = bset.frame.set_index("region_code")
    outside = sorted(set(status.index) - set(shapes.index))
    if outside:
        hint = ""
        if level == "province" and set(outside) & {"93", "94", "95", "96"}:
            hint = (" (the boundary file predates the 2022 Papua split: aggregate to pre-2022 provinces with "
                    "regions.province_as_of, or use a 38-province file)")
        warnings.warn(f"{len(outside)} region(s) of the data have no shape and are not drawn: {outside[:10]}{hint}",
                      stacklevel=2)
    joined = status.reindex(shapes.index)
    joined["status"] = joined["status"].fillna("missing")
    percent = _frames.is_percent(data, [value], percent)
    classes = classify(joined["value"], scheme=scheme, k=k, bins=bins, cmap=cmap)

    ax = new_axes(ax, (11, 5))
    geo = gpd.GeoDataFrame(joined, geometry=shapes.geometry, crs=bset.frame.crs)
    has_value = geo["status"] == "value"
    if has_value.any():
        colours = [classes.colours[int(c)] for c in classes.classes[has_value]]
        geo.loc[has_value].plot(ax=ax, color=colours, edgecolor="white", linewidth=0.5)
        ax.collections[-1].set_gid("values")
    for state, face, hatch in (("suppressed", SUPPRESSED_COLOUR, SUPPRESSED_HATCH),
                               ("missing", MISSING_COLOUR, MISSING_HATCH)):
        part = geo.loc[geo["status"] == state]
        if len(part):
            part.plot(ax=ax, facecolor=face, edgecolor=HATCH_EDGE, hatch=hatch, linewidth=0.5)
            ax.collections[-1].set_gid(state)
    ax.set_axis_off()
    ax.set_aspect("equal")
    if legend:
        handles = legend_handles(classes, geo["status"], lang=lang, percent=percent, decimals=decimals)
        ax.legend(handles=handles, title=_frames.value_label(data, value, legend_title, lang), loc="upper left",
                  bbox_to_anchor=(1.0, 1.0), frameon=False)
    if title:
        ax.set_title(title)
    if credit:
        line = credit if isinstance(credit, str) else (
            text("figure.boundaries_credit", lang, source=bset.credit) if bset.credit else None)
        add_credit(ax, line)
    return ax
