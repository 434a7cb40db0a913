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

Suppressed cells (``suppressed=True``, value NA: too few people to publish) are drawn as
a grey hatched band or cell labelled "suppressed (small numbers)" / "disembunyikan
(jumlah kecil)"; cells with no data at all as a dotted band labelled "no data". Neither is
ever drawn as zero. Labels follow ``lang='en'|'id'``, numbers too (``42,5%`` in Indonesian).
"""
from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from ..i18n import check_lang, number, text
from ..intervals import wilson_interval
from . import _frames
from .theme import (BENCHMARK_COLOUR, HATCH_EDGE, MISSING_COLOUR, MISSING_HATCH, PALETTE, SEQUENTIAL,
                    SUPPRESSED_COLOUR, SUPPRESSED_HATCH, LocaleFormatter, format_axis, new_axes)

__all__ = ["indicator_bars", "indicator_trend", "mentoring_gap_chart", "funnel_chart", "staffing_scatter",
           "survival_chart", "event_study_chart", "forest_chart", "wilson_interval"]


# --------------------------------------------------------------------------- shared docs

_DOCS = {
    "ci": """ci : (str, str) or None
        Columns of the lower and upper 95 % bounds; None: no intervals.""",
    "suppressed": """suppressed : str or None
        Column flagging suppressed cells (True: value withheld); None: no such column.""",
    "region_labels": """region_labels : {'name', 'short', 'code'} or mapping
        How regions are named: official Kemendagri name, common short name (Jabar,
        DKI Jakarta...), the code, or a mapping code -> label.""",
    "percent": """percent : bool, optional
        Show values as percentages (default: the indicator is a proportion, or every
        value lies in [0, 1]). decimals fixes the digits shown.""",
    "lang": """lang : {'en', 'id'}
        Language of labels and number format.""",
    "ax": """ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.""",
    "returns": """Returns
    -------
    matplotlib.axes.Axes""",
}


def _share_docs(func: Callable) -> Callable:
    """Fill ``{ci}``, ``{lang}``... in a docstring from :data:`_DOCS` (written once)."""
    doc = func.__doc__ or ""
    for key, words in _DOCS.items():
        doc = doc.replace("{" + key + "}", words)
    func.__doc__ = doc
    return func


# --------------------------------------------------------------------------- helpers

def _legend_outside(ax: Axes, handles: Sequence[Any] | None = None, **kwargs: Any) -> None:
    """Legend to the right of the Axes (never over the data)."""
    if handles is None:
        handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles=list(handles), loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                  borderaxespad=0.0, **kwargs)


def _gap_handle(state: str, lang: str) -> Patch:
    """Legend patch for suppressed / no-data cells."""
    if state == "suppressed":
        return Patch(facecolor=SUPPRESSED_COLOUR, edgecolor=HATCH_EDGE, hatch=SUPPRESSED_HATCH,
                     label=text("figure.suppressed", lang))
    return Patch(facecolor=MISSING_COLOUR, edgecolor=HATCH_EDGE, hatch=MISSING_HATCH, label=text("common.no_data", lang))


def _gap_band(ax: Axes, position: float, state: str, lang: str, *, height: float = 0.7,
              orient: str = "h") -> None:
    """A hatched band across the whole row (``orient='h'``) or column, with a word on it.

    It spans the axis, so it cannot be read as a value; its gid is ``'suppressed'`` or
    ``'missing'``.
    """
    hatched = state == "suppressed"
    face = SUPPRESSED_COLOUR if hatched else MISSING_COLOUR
    hatch = SUPPRESSED_HATCH if hatched else MISSING_HATCH
    if orient == "h":
        rect = Rectangle((0, position - height / 2), 1, height, transform=ax.get_yaxis_transform(),
                         facecolor=face, edgecolor=HATCH_EDGE, hatch=hatch, linewidth=0.6, alpha=0.55,
                         gid=state, zorder=0.5)
        ax.add_patch(rect)
        ax.text(0.01, position, text("figure.suppressed" if hatched else "common.no_data", lang), transform=ax.get_yaxis_transform(),
                ha="left", va="center", fontsize=8.5, fontstyle="italic", color="#333333", gid=f"{state}-label",
                bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none"}, zorder=3)
    else:
        rect = Rectangle((position - height / 2, 0), height, 1, transform=ax.get_xaxis_transform(),
                         facecolor=face, edgecolor=HATCH_EDGE, hatch=hatch, linewidth=0.6, alpha=0.55,
                         gid=state, zorder=0.5)
        ax.add_patch(rect)


def _states(values: np.ndarray, suppressed: np.ndarray) -> np.ndarray:
    return np.where(suppressed, "suppressed", np.where(np.isfinite(values), "value", "missing"))


def _bounds(data: pd.DataFrame, ci: Sequence[str] | None, numerator: str | None,
            denominator: str | None) -> tuple[np.ndarray, np.ndarray] | None:
    """CI bounds from the ci columns, else a Wilson interval from numerator/denominator, else None."""
    if ci is not None and all(c in data.columns for c in ci):
        return _frames.floats(data[ci[0]]), _frames.floats(data[ci[1]])
    if numerator and denominator and numerator in data.columns and denominator in data.columns:
        return wilson_interval(_frames.floats(data[numerator]), _frames.floats(data[denominator]))
    return None


def _wrap(label: str, width: int = 22) -> str:
    return "\n".join(textwrap.wrap(str(label), width)) or str(label)


def _label_column(data: pd.DataFrame, lang: str) -> str | None:
    """``label_id`` / ``label_en`` if the frame carries bilingual labels."""
    column = f"label_{lang}"
    return column if column in data.columns else None


def _with_ci(label: str, lang: str) -> str:
    """``'Odds ratio (95% CI)'``; ``'Efek (ATT; SK 95%)'`` when the label ends in brackets."""
    words = text("common.ci95", lang)
    return f"{label[:-1]}; {words})" if label.endswith(")") else f"{label} ({words})"


def _percent_limits(ax: Axes, axis: str, values: np.ndarray) -> None:
    """Start a share axis at 0 (or below, for negative values); end it at 100 % when the data come close."""
    finite = values[np.isfinite(values)]
    low = min(0.0, float(finite.min())) if len(finite) else 0.0
    high = max(1.0, float(finite.max())) * 1.02 if len(finite) and finite.max() > 0.85 else None
    (ax.set_xlim if axis == "x" else ax.set_ylim)(low, high)


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

@_share_docs
def mentoring_gap_chart(data: pd.DataFrame, *, region_col: str = "region_code", point: str | None = None,
                        value: str | None = None, suppressed: str | None = "suppressed", kind: str = "heatmap",
                        region_labels: str | Mapping[str, str] = "name",
                        point_labels: Mapping[str, str] | None = None, cmap: str = SEQUENTIAL,
                        decimals: int = 0, lang: str = "en", ax: Axes | None = None) -> Axes:
    """Share of trained members who received each mandated mentoring point, by region.

    Parameters
    ----------
    data : DataFrame
        One row per (region, point): ``region_code``, the point (``point`` or
        ``point_id``), the share (``share`` or ``member_share``), e.g.
        ``mentoring_gap(data).by_point``. ``label_id`` / ``label_en`` columns, if present,
        name the points. A national row (``'ID'``) is shown first as "Indonesia".
    region_col, point, value : str
        Columns (*point* and *value* default to the first of the names above).
    {suppressed}
    kind : {'heatmap', 'bars'}
        A region x point heatmap with the percentages written in, or grouped bars.
    {region_labels}
    point_labels : mapping, optional
        Point id -> label (overrides the label columns).
    cmap : str
        Colour map of the heatmap.
    decimals : int
        Decimals of the percentages written in the cells.
    {lang}
    {ax}

    {returns}
        Heatmap cells that are suppressed are Rectangles with gid ``'suppressed'``.
    """
    check_lang(lang)
    if kind not in ("heatmap", "bars"):
        raise ValueError(f"kind must be 'heatmap' or 'bars', not {kind!r}")
    what = "mentoring_gap_chart"
    point = _frames.pick_column(data, point, ("point", "point_id"), "point", what)
    value = _frames.pick_column(data, value, ("share", "member_share"), "share", what)
    _frames.require_columns(data, [region_col], what)
    _frames.one_row_per(data, [region_col, point], what)
    points = list(pd.unique(data[point]))
    labels = dict(point_labels or {})
    lab_col = _label_column(data, lang)
    if lab_col and not point_labels:
        labels = dict(zip(data[point], data[lab_col]))
    point_names = [str(labels.get(p, p)) for p in points]
    codes = list(pd.unique(data[region_col]))
    national = [c for c in codes if str(c).upper() == _frames.NATIONAL_CODE]
    codes = national + sorted(c for c in codes if c not in national)
    region_names = _frames.region_names(codes, region_labels, lang)

    frame = data.assign(_v=_frames.floats(data[value]), _s=_frames.suppressed_mask(data, suppressed))
    grid = frame.pivot(index=region_col, columns=point, values="_v").reindex(index=codes, columns=points)
    hidden = (frame.pivot(index=region_col, columns=point, values="_s").reindex(index=codes, columns=points)
              .fillna(False).to_numpy(dtype=bool))
    values = np.where(hidden, np.nan, grid.to_numpy(dtype=float))
    states = _states(values, hidden)

    if kind == "heatmap":
        ax = new_axes(ax, (1.9 * len(points) + 3.5, 0.42 * len(codes) + 1.8))
        image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=1, aspect="auto")
        colormap = image.get_cmap()
        for (r, c), v in np.ndenumerate(values):
            if states[r, c] == "value":
                shade = colormap(image.norm(v))
                luminance = 0.2126 * shade[0] + 0.7152 * shade[1] + 0.0722 * shade[2]
                ax.text(c, r, number(v, decimals, lang=lang, percent=True), ha="center", va="center",
                        fontsize=9, color="black" if luminance > 0.5 else "white")
            else:
                state = states[r, c]
                ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, gid=state, linewidth=0.6,
                                       facecolor=SUPPRESSED_COLOUR if state == "suppressed" else MISSING_COLOUR,
                                       hatch=SUPPRESSED_HATCH if state == "suppressed" else MISSING_HATCH,
                                       edgecolor=HATCH_EDGE))
        ax.set_xticks(range(len(points)), [_wrap(n, 16) for n in point_names])
        ax.set_yticks(range(len(codes)), region_names)
        ax.tick_params(axis="x", top=True, labeltop=True, bottom=False, labelbottom=False, length=0)
        ax.tick_params(axis="y", length=0)
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        if national:
            ax.axhline(0.5, color="white", linewidth=3)
        bar = ax.figure.colorbar(image, ax=ax, fraction=0.035, pad=0.02)
        bar.set_label(text("figure.share_received", lang))
        bar.ax.yaxis.set_major_formatter(LocaleFormatter(lang=lang, percent=True, decimals=0))
        gaps = [s for s in ("suppressed", "missing") if (states == s).any()]
        if gaps:
            ax.legend(handles=[_gap_handle(s, lang) for s in gaps], loc="upper left", bbox_to_anchor=(0, -0.02),
                      frameon=False, ncol=len(gaps))
        return ax

    ax = new_axes(ax, (8.5, 0.28 * len(codes) * len(points) + 1.5))
    height = 0.8 / len(points)
    handles: list[Any] = []
    for j, name in enumerate(point_names):
        offsets = np.arange(len(codes)) - 0.4 + height * (j + 0.5)
        ok = states[:, j] == "value"
        bars = ax.barh(offsets[ok], values[ok, j], height=height * 0.95, color=PALETTE[j % len(PALETTE)],
                       label=_wrap(name, 28))
        handles.append(bars)
        for state in ("suppressed", "missing"):
            for off in offsets[states[:, j] == state]:
                ax.add_patch(Rectangle((0, off - height / 2), 1, height * 0.95, transform=ax.get_yaxis_transform(),
                                       facecolor="none", edgecolor=HATCH_EDGE, linewidth=0.4, gid=state,
                                       hatch=SUPPRESSED_HATCH if state == "suppressed" else MISSING_HATCH))
    for state in ("suppressed", "missing"):
        if (states == state).any():
            handles.append(_gap_handle(state, lang))
    ax.set_yticks(range(len(codes)), region_names)
    ax.set_ylim(len(codes) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(text("figure.share_received", lang))
    format_axis(ax, "x", lang=lang, percent=True, decimals=0)
    ax.set_xlim(0, 1.0)
    _legend_outside(ax, handles, title=text("common.mentoring_point", lang))
    return ax


# =========================================================================== funnel

@_share_docs
def funnel_chart(data: pd.DataFrame, *, stage: str = "stage", value: str = "reached", order: str | None = "stage_no",
                 suppressed: str | None = "suppressed", conversion: bool = True,
                 stage_labels: Mapping[str, str] | None = None, color: str | None = None, lang: str = "en",
                 ax: Axes | None = None) -> Axes:
    """Members reaching each empowerment stage, with the conversion from the previous stage.

    Parameters
    ----------
    data : DataFrame
        One row per stage for one region: ``stage``, ``reached`` and optionally
        ``stage_no`` (order), ``from_previous`` (conversion), ``label_id`` /
        ``label_en`` and ``suppressed``, e.g. ``stage_funnel(data).funnel`` filtered to
        one ``region_code``.
    stage, value, order : str
        Columns: stage id, count, and sort order (None or absent: the data's order).
    {suppressed}
    conversion : bool
        Write "62% of previous stage" after each bar (from ``from_previous`` or computed).
    stage_labels : mapping, optional
        Stage id -> label (default the ``label_<lang>`` column, else the id).
    color : str, optional
    {lang}
    {ax}

    {returns}
    """
    check_lang(lang)
    _frames.require_columns(data, [stage, value], "funnel_chart")
    _frames.one_row_per(data, [stage], "funnel_chart")
    frame = data.sort_values(order, kind="stable") if order and order in data.columns else data
    frame = frame.reset_index(drop=True)
    counts = _frames.floats(frame[value])
    states = _states(counts, _frames.suppressed_mask(frame, suppressed))
    counts = np.where(states == "value", counts, np.nan)
    lab_col = _label_column(frame, lang)
    labels = [str((stage_labels or {}).get(s, frame.at[i, lab_col] if lab_col else s))
              for i, s in enumerate(frame[stage])]
    if "from_previous" in frame.columns:
        rates = _frames.floats(frame["from_previous"])
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            rates = np.r_[np.nan, counts[1:] / counts[:-1]]
    rates = np.where(states == "value", rates, np.nan)

    ax = new_axes(ax, (8, 0.6 * len(frame) + 1.3))
    y = np.arange(len(frame))
    ok = states == "value"
    ax.barh(y[ok], counts[ok], height=0.65, color=color or PALETTE[2], zorder=2)
    top = np.nanmax(counts, initial=0.0) or 1.0
    decimals = 0 if np.all(np.mod(counts[ok], 1) == 0) else 1
    for i in np.flatnonzero(ok):
        words = number(counts[i], decimals, lang=lang)
        if conversion and np.isfinite(rates[i]):
            words += f"  ({number(rates[i], 0, lang=lang, percent=True)} {text('figure.from_previous', lang)})"
        ax.text(counts[i] + top * 0.01, y[i], words, va="center", ha="left", fontsize=9)
    handles = []
    for state in ("suppressed", "missing"):
        for pos in y[states == state]:
            _gap_band(ax, pos, state, lang)
        if (states == state).any():
            handles.append(_gap_handle(state, lang))
    ax.set_yticks(y, [_wrap(lab, 28) for lab in labels])
    ax.set_ylim(len(frame) - 0.5, -0.5)
    ax.set_xlim(0, top * 1.45)  # room for the words after the longest bar
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(text("figure.members_reached", lang))
    format_axis(ax, "x", lang=lang, decimals=0)
    _legend_outside(ax, handles)
    return ax


# =========================================================================== staffing

@_share_docs
def staffing_scatter(data: pd.DataFrame, *, x: str = "members_per_organiser", y: str = "coverage",
                     hue: str | None = None, size: str | None = None, label: str | None = None,
                     suppressed: str | None = "suppressed", trend: bool = True, percent: bool | None = None,
                     xlabel: str | None = None, ylabel: str | None = None, lang: str = "en",
                     ax: Axes | None = None) -> Axes:
    """Members per staff member against mentoring coverage, one point per community.

    Parameters
    ----------
    data : DataFrame
        One row per community (or region): ``x`` (members per CO/penggerak FTE),
        ``y`` (mentoring coverage: points delivered / mandated), optionally a ``hue``
        column (e.g. province), a ``size`` column (e.g. members) and a ``label`` column
        written next to each point. Rows with either value missing, or flagged
        suppressed, are left out and counted in a note.
    x, y : str
        Columns of the two axes.
    hue, size, label : str, optional
        Colour groups, marker areas, point labels.
    {suppressed}
    trend : bool
        Add a least-squares line (three points or more).
    percent : bool, optional
        Show *y* as a percentage (default: all y in [0, 1]).
    xlabel, ylabel : str, optional
    {lang}
    {ax}

    {returns}
        The note on left-out rows has gid ``'note'``; the trend line gid ``'trend'``.
    """
    check_lang(lang)
    _frames.require_columns(data, [x, y, hue, size, label], "staffing_scatter")
    xs, ys = _frames.floats(data[x]), _frames.floats(data[y])
    hidden = _frames.suppressed_mask(data, suppressed)
    keep = np.isfinite(xs) & np.isfinite(ys) & ~hidden
    percent = _frames.is_percent(data.loc[keep], [y], percent)
    ax = new_axes(ax, (7.5, 5))
    areas = None
    if size is not None:
        s = _frames.floats(data[size])[keep]
        areas = 20 + 180 * (s - np.nanmin(s)) / ((np.nanmax(s) - np.nanmin(s)) or 1)
    if hue is None:
        ax.scatter(xs[keep], ys[keep], s=areas if areas is not None else 36, color=PALETTE[0], alpha=0.8,
                   edgecolor="white", linewidth=0.5, zorder=3)
    else:
        groups = data.loc[keep, hue].astype("string").fillna("?")
        names = (_frames.region_names(list(pd.unique(groups)), "short", lang) if hue.endswith("region_code")
                 or hue == "province_code" else list(pd.unique(groups)))
        for i, (g, name) in enumerate(zip(pd.unique(groups), names)):
            m = (groups == g).to_numpy()
            ax.scatter(xs[keep][m], ys[keep][m], s=areas[m] if areas is not None else 36,
                       color=PALETTE[i % len(PALETTE)], alpha=0.85, edgecolor="white", linewidth=0.5, label=name,
                       zorder=3)
    if label is not None:
        for xi, yi, words in zip(xs[keep], ys[keep], data.loc[keep, label].astype(str)):
            ax.annotate(words, (xi, yi), xytext=(4, 3), textcoords="offset points", fontsize=7.5, color="#333333")
    if trend and keep.sum() >= 3 and np.ptp(xs[keep]) > 0:
        slope, intercept = np.polyfit(xs[keep], ys[keep], 1)
        grid = np.linspace(np.min(xs[keep]), np.max(xs[keep]), 50)
        ax.plot(grid, intercept + slope * grid, linestyle="--", color=BENCHMARK_COLOUR, linewidth=1.2,
                label=text("figure.trend", lang), gid="trend")
    left_out = int((~keep).sum())
    if left_out:
        n_hidden = int(hidden.sum())
        if lang == "id":
            words = f"{left_out} tidak digambar (tanpa nilai" + (f"; {n_hidden} disembunyikan)" if n_hidden else ")")
        else:
            words = f"{left_out} not drawn (no value" + (f"; {n_hidden} suppressed)" if n_hidden else ")")
        ax.text(0.99, 0.01, words, transform=ax.transAxes, ha="right", va="bottom", fontsize=8, color="#555555",
                gid="note")
    ax.set_xlabel(xlabel or text("figure.members_per_staff", lang))
    ax.set_ylabel(ylabel or text("common.mentoring_coverage", lang))
    format_axis(ax, "x", lang=lang)
    format_axis(ax, "y", lang=lang, percent=percent)
    if percent:
        ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    _legend_outside(ax)
    return ax


# =========================================================================== survival

_DAYS_PER_MONTH = 30.4375


@_share_docs
def survival_chart(data: pd.DataFrame, *, time: str | None = None, survival: str = "survival",
                   ci: Sequence[str] | None = ("ci_low", "ci_high"), group: str | None = "group",
                   time_unit: str = "days", show_in: str = "months", group_title: str | None = None,
                   lang: str = "en", ax: Axes | None = None) -> Axes:
    """Kaplan-Meier survival curves (step functions) with confidence bands.

    Parameters
    ----------
    data : DataFrame
        One row per step: ``time`` (or ``time_days``), ``survival``, ``ci_low``,
        ``ci_high`` and ``group``, e.g. ``survival_curves(data).curves``.
    time : str, optional
        Time column (default ``time``, else ``time_days``).
    survival : str
        Survival probability column.
    {ci}
    group : str or None
        One curve per value (None: one curve).
    time_unit, show_in : {'days', 'months'}
        Unit of the time column and of the axis.
    group_title : str, optional
        Legend title.
    {lang}
    {ax}

    {returns}
    """
    check_lang(lang)
    time = _frames.pick_column(data, time, ("time", "time_days"), "time", "survival_chart")
    _frames.require_columns(data, [survival, group], "survival_chart")
    factor = {("days", "months"): 1 / _DAYS_PER_MONTH, ("months", "days"): _DAYS_PER_MONTH}.get(
        (time_unit, show_in), 1.0)
    if time_unit not in ("days", "months") or show_in not in ("days", "months"):
        raise ValueError("time_unit and show_in must be 'days' or 'months'")
    ax = new_axes(ax, (8, 4.8))
    groups = list(pd.unique(data[group])) if group else [None]
    for i, g in enumerate(groups):
        part = data if g is None else data.loc[data[group] == g]
        part = part.sort_values(time, kind="stable")
        t = _frames.floats(part[time]) * factor
        s = _frames.floats(part[survival])
        colour = PALETTE[i % len(PALETTE)]
        ax.step(t, s, where="post", color=colour, linewidth=1.8, label=None if g is None else str(g))
        bounds = _bounds(part, ci, None, None)
        if bounds is not None:
            ax.fill_between(t, bounds[0], bounds[1], step="post", color=colour, alpha=0.15, linewidth=0)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_xlabel(text(f"figure.{show_in}", lang))
    ax.set_ylabel(text("figure.survival", lang))
    format_axis(ax, "y", lang=lang, percent=True, decimals=0)
    format_axis(ax, "x", lang=lang, decimals=0)
    if group:
        _legend_outside(ax, title=group_title)
    return ax


# =========================================================================== event study

@_share_docs
def event_study_chart(data: pd.DataFrame, *, event_time: str = "event_time", estimate: str = "att",
                      ci: Sequence[str] | None = ("ci_low", "ci_high"), band: Sequence[str] | None = None,
                      reference: float | None = -1, xlabel: str | None = None, ylabel: str | None = None,
                      lang: str = "en", ax: Axes | None = None) -> Axes:
    """Event-study estimates by time relative to treatment, leads (pre-trends) and lags.

    Parameters
    ----------
    data : DataFrame
        One row per relative period: ``event_time`` (negative before treatment),
        ``att``, ``ci_low``, ``ci_high``, e.g. ``perdes_effect(data).event_study``.
    event_time, estimate : str
        Columns.
    {ci}
    band : (str, str), optional
        Columns of a simultaneous (uniform) band, drawn as a light bar behind the
        pointwise intervals, e.g. ``('cband_low', 'cband_high')``.
    reference : float or None
        The normalised period (effect 0 by construction); drawn as a hollow marker at 0
        when the data have no row for it. None: none.
    xlabel, ylabel : str, optional
    {lang}
    {ax}

    {returns}
        Leads are drawn in one colour with label "Before (pre-trend test)", lags in
        another; a dotted vertical line separates them.
    """
    check_lang(lang)
    _frames.require_columns(data, [event_time, estimate], "event_study_chart")
    _frames.one_row_per(data, [event_time], "event_study_chart")
    frame = data.sort_values(event_time)
    e = _frames.floats(frame[event_time])
    est = _frames.floats(frame[estimate])
    bounds = _bounds(frame, ci, None, None)
    ax = new_axes(ax, (8.5, 4.5))
    ax.axhline(0, color="#555555", linewidth=0.9, zorder=1)
    ax.axvline(-0.5, color="#555555", linewidth=0.9, linestyle=":", zorder=1)
    if band is not None:
        _frames.require_columns(frame, band, "event_study_chart")
        blo, bhi = _frames.floats(frame[band[0]]), _frames.floats(frame[band[1]])
        ax.vlines(e, blo, bhi, color="#bbbbbb", linewidth=6, alpha=0.6, zorder=1.5)
    for mask, colour, marker, key in ((e < 0, PALETTE[0], "o", "figure.pre_period"),
                                       (e >= 0, PALETTE[5], "s", "figure.post_period")):
        if not mask.any():
            continue
        if bounds is not None:
            lo, hi = bounds[0][mask], bounds[1][mask]
            ok = np.isfinite(lo) & np.isfinite(hi)
            ax.errorbar(e[mask][ok], est[mask][ok], yerr=np.clip(np.vstack([est[mask][ok] - lo[ok],
                                                                             hi[ok] - est[mask][ok]]), 0, None),
                        fmt="none", ecolor=colour, elinewidth=1.2, capsize=2.5, zorder=3)
        ax.plot(e[mask], est[mask], marker, color=colour, markersize=6, label=text(key, lang), zorder=4)
    if reference is not None and not np.any(np.isclose(e, reference)):
        ax.plot([reference], [0], "o", markerfacecolor="white", markeredgecolor="#333333", markersize=6,
                label=text("figure.reference_period", lang), zorder=4, gid="reference")
    ax.xaxis.set_major_locator(mticker.MaxNLocator(integer=True))
    ax.set_xlabel(xlabel or text("figure.event_time", lang))
    ax.set_ylabel(_with_ci(ylabel or text("figure.effect", lang), lang))
    format_axis(ax, "y", lang=lang)
    format_axis(ax, "x", lang=lang, decimals=0)
    _legend_outside(ax)
    return ax


# =========================================================================== forest

_INTERCEPTS = ("Intercept", "const", "(Intercept)")


_RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
_RATIO_TICKS_FINE = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10)


def _ratio_ticks(left: float, right: float) -> list[float]:
    """Round ticks for a ratio axis: 0.5, 1, 2... or finer when the range is narrow."""
    ticks = [t for t in _RATIO_TICKS if left <= t <= right]
    if len(ticks) < 3:
        ticks = [t for t in _RATIO_TICKS_FINE if left <= t <= right]
    if len(ticks) > 7:
        ticks = ticks[::2] if 1 in ticks[::2] else ticks[1::2]
    return ticks


def _log_tick(x: float, lang: str) -> str:
    """A ratio tick with as few decimals as it needs (0.25, 1, 1.5)."""
    decimals = next((d for d in range(4) if math.isclose(round(x, d), x, rel_tol=1e-9, abs_tol=1e-12)), 3)
    return number(x, decimals, lang=lang)


@_share_docs
def forest_chart(data: pd.DataFrame, *, term: str = "term", estimate: str = "estimate",
                 ci: Sequence[str] | None = ("ci_low", "ci_high"), exponentiate: bool = False,
                 log: bool | None = None, reference: float | None = None,
                 term_labels: Mapping[str, str] | None = None, drop: Sequence[str] = _INTERCEPTS,
                 sort: bool = False, annotate: bool = True, decimals: int = 2, xlabel: str | None = None,
                 lang: str = "en", ax: Axes | None = None) -> Axes:
    """Coefficients or odds ratios with 95 % intervals, one row per term.

    Parameters
    ----------
    data : DataFrame
        One row per term: ``term``, ``estimate``, ``ci_low``, ``ci_high`` (a model's
        ``estimates`` table).
    term, estimate : str
        Columns.
    {ci}
    exponentiate : bool
        Plot exp(estimate) and exp(bounds): log-odds -> odds ratios (x label "Odds ratio").
    log : bool, optional
        Log-scaled axis (default: when exponentiating).
    reference : float, optional
        Vertical "no effect" line (default 1 on a log axis, else 0).
    term_labels : mapping, optional
        Term -> readable label.
    drop : sequence of str
        Terms left out (default the intercept).
    sort : bool
        Order by estimate (largest on top) instead of the data's order.
    annotate : bool
        Write "1.45 (1.10–1.92)" right of the plot.
    decimals : int
        Decimals of those numbers.
    xlabel : str, optional
    {lang}
    {ax}

    {returns}
    """
    check_lang(lang)
    _frames.require_columns(data, [term, estimate], "forest_chart")
    frame = data.loc[~data[term].astype("string").isin(list(drop)).fillna(False).to_numpy()].reset_index(drop=True)
    est = _frames.floats(frame[estimate])
    bounds = _bounds(frame, ci, None, None)
    lo, hi = bounds if bounds is not None else (np.full(len(frame), np.nan), np.full(len(frame), np.nan))
    if exponentiate:
        est, lo, hi = np.exp(est), np.exp(lo), np.exp(hi)
    log = exponentiate if log is None else log
    if reference is None:
        reference = 1.0 if log else 0.0
    order = np.argsort(-np.nan_to_num(est, nan=-np.inf), kind="stable") if sort else np.arange(len(frame))
    y = np.empty(len(frame))
    y[order] = np.arange(len(frame))
    labels = [str((term_labels or {}).get(t, t)) for t in frame[term]]

    ax = new_axes(ax, (7.5, 0.42 * len(frame) + 1.4))
    ax.axvline(reference, color="#555555", linewidth=1.0, linestyle="--", zorder=1, gid="reference")
    ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(est)
    if ok.any():
        ax.errorbar(est[ok], y[ok], xerr=np.clip(np.vstack([est[ok] - lo[ok], hi[ok] - est[ok]]), 0, None),
                    fmt="none", ecolor="#333333", elinewidth=1.2, capsize=3, zorder=2)
    ax.plot(est, y, "D", color=PALETTE[0], markersize=6, zorder=3)
    ax.set_yticks(np.arange(len(frame)), [_wrap(labels[i], 32) for i in order])
    ax.set_ylim(len(frame) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    if log:
        shown = np.concatenate([est, lo, hi, [reference]])
        shown = shown[np.isfinite(shown) & (shown > 0)]
        left, right = float(shown.min()) / 1.15, float(shown.max()) * 1.15
        ax.set_xscale("log")
        ax.set_xlim(left, right)
        ax.xaxis.set_major_locator(mticker.FixedLocator(_ratio_ticks(left, right)))
        ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: _log_tick(v, lang)))
        ax.xaxis.set_minor_locator(mticker.NullLocator())
    else:
        format_axis(ax, "x", lang=lang)
    default = text("common.odds_ratio", lang) if exponentiate else text("figure.estimate", lang)
    ax.set_xlabel(_with_ci(xlabel or default, lang))
    if annotate:
        for i in range(len(frame)):
            if not np.isfinite(est[i]):
                continue
            words = number(est[i], decimals, lang=lang)
            if np.isfinite(lo[i]) and np.isfinite(hi[i]):
                words += (f" ({number(lo[i], decimals, lang=lang)}–"
                          f"{number(hi[i], decimals, lang=lang)})")
            ax.text(1.02, y[i], words, transform=ax.get_yaxis_transform(), va="center", ha="left", fontsize=9)
    return ax

