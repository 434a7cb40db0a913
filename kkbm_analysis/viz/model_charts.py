"""Charts of model results: Kaplan-Meier curves, event studies, forest plots of coefficients or odds ratios."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ..i18n import check_lang, number, text
from . import _frames
from ._chart_kit import _bounds, _legend_outside, _share_docs, _with_ci, _wrap
from .theme import PALETTE, format_axis, new_axes

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
