"""Figures and maps in the house style (issue 4).

Every plotting function takes a plain DataFrame first, then keyword-only options,
``ax=None``, and returns the Axes (seaborn's convention); labels and numbers follow
``lang='en'|'id'``::

    from kkbm_analysis import viz
    viz.set_theme()
    ax = viz.indicator_bars(table, lang="id")
    viz.synthetic_banner(ax)                       # figures from the demo data
    viz.save_figure(ax.figure, "kur_uptake")       # figures/kur_uptake.png + .svg

Modules
-------
theme
    :func:`set_theme`, :func:`house_style`, palette, number formats, :func:`synthetic_banner`,
    :func:`save_figure`.
charts
    Indicator bars and trends, mentoring gap, stage funnel, staffing scatter,
    Kaplan-Meier, event study, forest plot.
maps, tilegrid
    :func:`choropleth` (boundary file, else the tile grid) and :func:`tile_map`.
boundaries
    Boundary files: :func:`load_boundaries` (matched to Kemendagri codes, with a
    repair report), :func:`download_boundaries`, :func:`resolve_boundaries`; the matching
    itself in ``boundary_matching``, its result :class:`BoundarySet` in ``boundary_set``.
"""
from .boundaries import (BoundaryChecksumError, BoundaryDownloadError, BoundarySet, download_boundaries,
                         load_boundaries, match_boundaries, resolve_boundaries)
from .charts import (event_study_chart, forest_chart, funnel_chart, indicator_bars, indicator_trend,
                     mentoring_gap_chart, staffing_scatter, survival_chart)
from .maps import choropleth, classify
from .theme import (PALETTE, LocaleFormatter, format_axis, house_style, save_figure, set_theme,
                    synthetic_banner)
from .tilegrid import tile_geodataframe, tile_grid, tile_map

__all__ = [
    "BoundaryChecksumError", "BoundaryDownloadError", "BoundarySet", "download_boundaries", "load_boundaries",
    "match_boundaries", "resolve_boundaries",
    "event_study_chart", "forest_chart", "funnel_chart", "indicator_bars", "indicator_trend", "mentoring_gap_chart",
    "staffing_scatter", "survival_chart",
    "choropleth", "classify", "tile_geodataframe", "tile_grid", "tile_map",
    "PALETTE", "LocaleFormatter", "format_axis", "house_style", "save_figure", "set_theme",
    "synthetic_banner",
]
