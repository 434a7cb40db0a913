"""The figure functions every notebook uses.

Each function takes a plain DataFrame with documented columns first, then keyword-only
options grouped by purpose (columns; what to show; labels and language), draws on
``ax`` (a new figure if None) and returns the Axes, as seaborn's axes-level functions
do. They do not need the suite's result objects: ``compute_indicators(...)``,
``mentoring_gap(...).by_point``, ``stage_funnel(...).funnel``, ``survival_curves(...).curves``
and ``perdes_effect(...).event_study`` frames fit as they are, and so does any frame
with the same columns.

================================  ============================================================
:func:`indicator_bars`            indicator by region, 95 % CIs, national benchmark line
:func:`indicator_trend`           indicator over periods, one line per region
:func:`mentoring_gap_chart`       share of members receiving each mandated point, by province
:func:`funnel_chart`              members reaching each empowerment stage
:func:`staffing_scatter`          members per CO/penggerak vs. mentoring coverage
:func:`survival_chart`            Kaplan-Meier curves with confidence bands
:func:`event_study_chart`         event-study estimates with pre-trends
:func:`forest_chart`              coefficients or odds ratios with intervals
================================  ============================================================

The indicator charts live here; the barrier charts in :mod:`.programme_charts`, the model
charts in :mod:`.model_charts`, their shared docs and helpers in :mod:`._chart_kit`. Every
chart is importable from this module and from :mod:`kkbm_analysis.viz`.

Suppressed cells (``suppressed=True``, value NA: too few people to publish) are drawn as
a grey hatched band or cell labelled "suppressed (small numbers)" / "disembunyikan
(jumlah kecil)"; cells with no data at all as a dotted band labelled "no data". Neither is
ever drawn as zero. Labels follow ``lang='en'|'id'``, numbers too (``42,5%`` in Indonesian).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from ..i18n import check_lang, number, text
from ..intervals import wilson_interval
from . import _frames
from ._chart_kit import _bounds, _gap_band, _gap_handle, _legend_outside, _percent_limits, _share_docs, _states
from .model_charts import event_study_chart, forest_chart, survival_chart
from .programme_charts import funnel_chart, mentoring_gap_chart, staffing_scatter
from .theme import BENCHMARK_COLOUR, PALETTE, SUPPRESSED_HATCH, format_axis, new_axes

__all__ = ["indicator_bars", "indicator_trend", "mentoring_gap_chart", "funnel_chart", "staffing_scatter",
           "survival_chart", "event_study_chart", "forest_chart", "wilson_interval"]


# --------------------------------------------------------------------------- shared docs


# --------------------------------------------------------------------------- helpers


# =========================================================================== indicator bars

@_share_docs
def indicator_bars(data: pd.DataFrame, *, value: str = "value", region_col: str = "region_code",
                   ci: Sequence[str] | None = ("ci_low", "ci_high"), numerator: str | None = "numerator",
                   denominator: str | None = "denominator", suppressed: str | None = "suppressed",
                   benchmark: bool | float | None = True, kind: str = "bar", sort: bool = True,
                   region_labels: str | Mapping[str, str] = "name", percent: bool | None = None,
                   decimals: int | None = None, label: str | None = None, color: str | None = None,
                   lang: str = "en", ax: Axes | None = None) -> Axes:
    """An indicator by region: horizontal bars (or dots) with 95 % CIs and a national line.

    Parameters
    ----------
    data : DataFrame
        One row per region, e.g. ``compute_indicators(...)`` filtered to one indicator,
        period and disaggregation: ``region_code``, ``value``, ``ci_low``, ``ci_high``,
        ``suppressed``; optionally a national row (``region_code == 'ID'``), used as the
        benchmark and not drawn as a bar.
    value, region_col : str
        Column names.
    {ci}
        Without them, a Wilson interval is computed from ``numerator`` / ``denominator``
        when both columns exist (for proportions).
    numerator, denominator : str or None
        Counts for the Wilson interval (used only when the ci columns are absent).
    {suppressed}
    benchmark : bool or float or None
        True: a dashed line at the national row's value (if there is one); a number:
        a line there; None/False: no line.
    kind : {'bar', 'dot'}
        Bars from zero, or dots (better when values are far from zero).
    sort : bool
        Largest value on top (suppressed and missing at the bottom); False keeps the
        data's order.
    {region_labels}
    {percent}
    label : str, optional
        Value-axis label (default: the indicator's name in *lang*, if known).
    color : str, optional
        Bar colour (default the palette's first).
    {lang}
    {ax}

    {returns}
        CI error bars are the Axes' ``containers``; the benchmark line has gid
        ``'benchmark'``; suppressed rows are patches with gid ``'suppressed'``.
    """
    check_lang(lang)
    if kind not in ("bar", "dot"):
        raise ValueError(f"kind must be 'bar' or 'dot', not {kind!r}")
    _frames.require_columns(data, [value, region_col], "indicator_bars")
    national = None
    if benchmark is True:
        national = _frames.national_value(data, value=value, region_col=region_col, suppressed=suppressed)
    elif benchmark not in (None, False):
        national = float(benchmark)
    is_national = data[region_col].astype("string").str.upper().eq(_frames.NATIONAL_CODE).fillna(False)
    rows = data.loc[~is_national.to_numpy()].reset_index(drop=True)
    _frames.one_row_per(rows, [region_col], "indicator_bars")

    values = _frames.floats(rows[value])
    hidden = _frames.suppressed_mask(rows, suppressed)
    states = _states(values, hidden)
    values = np.where(states == "value", values, np.nan)
    bounds = _bounds(rows, ci, numerator, denominator)
    low, high = (np.where(states == "value", b, np.nan) for b in bounds) if bounds else (None, None)
    percent = _frames.is_percent(data, [value], percent)

    order = np.arange(len(rows))
    if sort:
        rank = np.where(states == "value", -np.nan_to_num(values, nan=0.0), np.inf)
        order = np.lexsort((np.where(states == "suppressed", 0, 1), rank))
    y = np.empty(len(rows))
    y[order] = np.arange(len(rows))
    names = _frames.region_names(rows[region_col].tolist(), region_labels, lang)

    ax = new_axes(ax, (8, max(2.5, 0.38 * len(rows) + 1.2)))
    colour = color or PALETTE[0]
    ok = states == "value"
    if kind == "bar":
        ax.barh(y[ok], values[ok], height=0.7, color=colour, zorder=2, label=None)
        for pos, v in zip(y[ok & (values == 0)], values[ok & (values == 0)]):  # a bar at 0 is not a missing bar
            ax.text(0, pos, " " + number(v, decimals if decimals is not None else 0, lang=lang, percent=percent),
                    ha="left", va="center", fontsize=8.5, color="#333333", gid="zero-label", zorder=3)
    else:
        ax.plot(values[ok], y[ok], "o", color=colour, markersize=7, zorder=3)
    handles: list[Any] = []
    if low is not None:
        has_ci = ok & np.isfinite(low) & np.isfinite(high)
        if has_ci.any():
            err = np.vstack([values[has_ci] - low[has_ci], high[has_ci] - values[has_ci]])
            ax.errorbar(values[has_ci], y[has_ci], xerr=np.clip(err, 0, None), fmt="none", ecolor="#333333",
                        elinewidth=1.1, capsize=3, zorder=4)
            handles.append(Line2D([], [], color="#333333", marker="|", markersize=8, linewidth=1.1,
                                  label=text("common.ci95", lang)))
    for state in ("suppressed", "missing"):
        for pos in y[states == state]:
            _gap_band(ax, pos, state, lang)
        if (states == state).any():
            handles.append(_gap_handle(state, lang))
    if national is not None:
        line = ax.axvline(national, color=BENCHMARK_COLOUR, linestyle="--", linewidth=1.3, zorder=5, gid="benchmark")
        line.set_label(f"{text('common.national', lang)}: {number(national, decimals if decimals is not None else 1, lang=lang, percent=percent)}")
        handles.insert(0, line)

    ax.set_yticks(np.arange(len(rows)), [names[i] for i in order])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(_frames.value_label(data, value, label, lang))
    ax.set_ylabel("")
    format_axis(ax, "x", lang=lang, percent=percent, decimals=decimals)
    if percent:
        shown = [values, high if high is not None else [], [national] if national is not None else []]
        _percent_limits(ax, "x", np.concatenate([np.asarray(v, dtype=float) for v in shown]))
    elif kind == "bar":
        ax.set_xlim(left=min(0.0, np.nanmin(values, initial=0.0)))
    _legend_outside(ax, handles)
    return ax


# =========================================================================== trend

@_share_docs
def indicator_trend(data: pd.DataFrame, *, x: str = "period", value: str = "value",
                    hue: str | None = "region_code", ci: Sequence[str] | None = ("ci_low", "ci_high"),
                    suppressed: str | None = "suppressed", benchmark: bool = True,
                    region_labels: str | Mapping[str, str] = "name", percent: bool | None = None,
                    decimals: int | None = None, label: str | None = None, lang: str = "en",
                    ax: Axes | None = None) -> Axes:
    """An indicator over reporting periods, one line per region, with CI bands.

    Parameters
    ----------
    data : DataFrame
        One row per (region, period): ``period`` labels that sort in time order
        (``'2017'``, ``'2017-Q3'``, ``'2017-07'``), ``region_code``, ``value``, CI and
        ``suppressed`` columns. National rows (``'ID'``) are drawn as a black dashed
        line when *benchmark* is True.
    x, value : str
        Period and value columns.
    hue : str or None
        Column whose values get one line each (default the region); None: one line.
    {ci}
    {suppressed}
        Suppressed periods break the line and are marked with a grey x at the foot of
        the plot.
    benchmark : bool
        Draw the national series.
    {region_labels}
    {percent}
    label : str, optional
        Value-axis label.
    {lang}
    {ax}

    {returns}
    """
    check_lang(lang)
    _frames.require_columns(data, [x, value, hue], "indicator_trend")
    frame = data.copy()
    frame["_x"] = frame[x].astype("string")
    periods = sorted(frame["_x"].dropna().unique())
    pos = {p: i for i, p in enumerate(periods)}
    group_col = hue or "_all"
    if hue is None:
        frame["_all"] = "all"
    national_mask = (frame[group_col].astype("string").str.upper() == _frames.NATIONAL_CODE).fillna(False)
    _frames.one_row_per(frame, [group_col, "_x"], "indicator_trend")
    percent = _frames.is_percent(data, [value], percent)

    ax = new_axes(ax, (9, 4.8))
    handles: list[Any] = []
    any_suppressed = False
    groups = [g for g in pd.unique(frame.loc[~national_mask.to_numpy(), group_col])]
    names = (_frames.region_names(groups, region_labels, lang) if hue == "region_code"
             else [str(g) for g in groups])
    all_values = []
    for i, (group, name) in enumerate(zip(groups, names)):
        part = frame.loc[frame[group_col] == group].sort_values("_x", key=lambda s: s.map(pos))
        xs = part["_x"].map(pos).to_numpy(dtype=float)
        ys = _frames.floats(part[value])
        hidden = _frames.suppressed_mask(part, suppressed)
        ys = np.where(hidden, np.nan, ys)
        colour = PALETTE[i % len(PALETTE)]
        line, = ax.plot(xs, ys, marker="o", markersize=5, linewidth=1.8, color=colour, label=name)
        handles.append(line)
        all_values.append(ys)
        bounds = _bounds(part, ci, None, None)
        if bounds is not None:
            lo, hi = (np.where(hidden | ~np.isfinite(ys), np.nan, b) for b in bounds)
            ax.fill_between(xs, lo, hi, color=colour, alpha=0.15, linewidth=0)
            alone = _isolated(ys) & np.isfinite(lo) & np.isfinite(hi)  # no band can be drawn around them
            if alone.any():
                ax.errorbar(xs[alone], ys[alone], yerr=np.clip(np.vstack([ys[alone] - lo[alone],
                                                                          hi[alone] - ys[alone]]), 0, None),
                            fmt="none", ecolor=colour, elinewidth=1.2, capsize=3)
            all_values.append(hi)
        if hidden.any():
            any_suppressed = True
            for xi in xs[hidden]:  # a full-height band in the region's colour: not a value
                ax.add_patch(Rectangle((xi - 0.06 + 0.05 * (i - (len(groups) - 1) / 2), 0), 0.12, 1,
                                       transform=ax.get_xaxis_transform(), facecolor="none", edgecolor=colour,
                                       hatch=SUPPRESSED_HATCH, linewidth=0.8, gid="suppressed", zorder=1))
    if benchmark and national_mask.any():
        part = frame.loc[national_mask.to_numpy()].sort_values("_x", key=lambda s: s.map(pos))
        ys = np.where(_frames.suppressed_mask(part, suppressed), np.nan, _frames.floats(part[value]))
        line, = ax.plot(part["_x"].map(pos).to_numpy(dtype=float), ys, linestyle="--", color=BENCHMARK_COLOUR,
                        linewidth=1.5, marker="s", markersize=4, label=text("common.national", lang), gid="benchmark")
        handles.insert(0, line)
        all_values.append(ys)
    if any_suppressed:
        handles.append(_gap_handle("suppressed", lang))
    ax.set_xticks(range(len(periods)), periods)
    ax.set_xlim(-0.4, len(periods) - 0.6)
    ax.set_xlabel(text("figure.period", lang))
    ax.set_ylabel(_frames.value_label(data, value, label, lang))
    format_axis(ax, "y", lang=lang, percent=percent, decimals=decimals)
    if percent and all_values:
        _percent_limits(ax, "y", np.concatenate(all_values))
    if hue is not None or len(handles) > 1:
        _legend_outside(ax, handles)
    return ax


def _isolated(values: np.ndarray) -> np.ndarray:
    """Finite values whose neighbours are both missing (a line or band cannot show them)."""
    ok = np.isfinite(values)
    before = np.r_[False, ok[:-1]]
    after = np.r_[ok[1:], False]
    return ok & ~before & ~after


# =========================================================================== mentoring gap


# =========================================================================== funnel


# =========================================================================== staffing


# =========================================================================== survival


# =========================================================================== event study


# =========================================================================== forest


