"""Charts of the programme barriers: the mentoring gap by point, the stage funnel, staffing against coverage."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from ..i18n import check_lang, number, text
from . import _frames
from ._chart_kit import _gap_band, _gap_handle, _label_column, _legend_outside, _share_docs, _states, _wrap
from .theme import (
    BENCHMARK_COLOUR,
    HATCH_EDGE,
    MISSING_COLOUR,
    MISSING_HATCH,
    PALETTE,
    SEQUENTIAL,
    SUPPRESSED_COLOUR,
    SUPPRESSED_HATCH,
    LocaleFormatter,
    format_axis,
    new_axes,
)


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
        # Every bar says its value, so a bar at 0 reads "0%", not as a missing bar.
        ax.bar_label(bars, labels=[number(v, decimals, lang=lang, percent=True) for v in values[ok, j]],
                     padding=2, fontsize=7, color="#333333", gid="value-label")
        for state in ("suppressed", "missing"):
            for off in offsets[states[:, j] == state]:
                ax.add_patch(Rectangle((0, off - height / 2), 1, height * 0.95, transform=ax.get_yaxis_transform(),
                                       facecolor="none", edgecolor=HATCH_EDGE, linewidth=0.4, gid=state,
                                       hatch=SUPPRESSED_HATCH if state == "suppressed" else MISSING_HATCH))
                ax.text(0.005, off, text("common.suppressed" if state == "suppressed" else "common.no_data", lang),
                        transform=ax.get_yaxis_transform(), ha="left", va="center", fontsize=6.5,
                        fontstyle="italic", color="#333333", gid=f"{state}-label",
                        bbox={"boxstyle": "square,pad=0.05", "facecolor": "white", "edgecolor": "none"})
    for state in ("suppressed", "missing"):
        if (states == state).any():
            handles.append(_gap_handle(state, lang))
    ax.set_yticks(range(len(codes)), region_names)
    ax.set_ylim(len(codes) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(text("figure.share_received", lang))
    format_axis(ax, "x", lang=lang, percent=True, decimals=0)
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.set_xlim(0, 1.12)  # room for the value written after a full bar
    _legend_outside(ax, handles, title=text("common.mentoring_point", lang))
    return ax


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
