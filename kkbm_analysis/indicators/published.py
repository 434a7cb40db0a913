"""Indicator results as published cells: the cell shape, the exact relations between indicators, and
:func:`publish` (suppression with them).

:func:`cells` adds to an indicator result (:func:`~.engine.compute_indicators`,
:func:`~.engine.indicator_table`) what every published cell carries: ``measure_id``,
``kind``, ``unit``, ``direction``, ``stock``, ``n``, the window of dates the value covers,
the labels and the region name. :data:`RELATIONS` declares the equations between
indicators that publish the same number, for secondary suppression.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..i18n import region_name
from ..periods import period_bounds, period_kind
from ..suppression import PublishedTable, Relations, default_n, suppress
from .registry import REGISTRY, Indicator

__all__ = ["RELATIONS", "DIRECTIONS", "cells", "publish", "period_windows"]

#: Direction of an indicator as a word (the ``direction`` column of published cells).
DIRECTIONS: dict[int, str] = {1: "higher_is_better", -1: "lower_is_better", 0: "neutral"}

#: Indicators publishing the same number, sums across indicators, stock-flow identities, growth bases.
RELATIONS = Relations.of(
    links=(("kur_applications", "N", "kur_approval_rate", "D"),
           ("kur_loans_approved", "N", "kur_amount_total", "D"),
           ("kur_amount_total", "N", "kur_amount_mean", "N"),
           ("kur_amount_total", "D", "kur_amount_mean", "D"),
           ("business_volume_total", "N", "business_volume_mean", "N"),
           ("business_volume_total", "D", "business_volume_mean", "D"),
           ("business_volume_total", "D", "business_volume_median", "D"),
           ("advocacy_cases_resolved", "N", "advocacy_resolution_rate", "N"),
           ("advocacy_cases_resolved", "N", "advocacy_days_to_resolution", "D"),
           ("members", "N", "kur_uptake", "D")),
    sums=((("kur_uptake", "D", "all"), (("members", "N", "status=pmi_purna"), ("members", "N", "status=keluarga"))),),
    stock_flows=(("members", "members_joined"),),
    growth=tuple((i.id, i.base) for i in REGISTRY.values() if i.base))


def _calendar_kind(label: str) -> str | None:
    try:
        return period_kind(label)
    except ValueError:  # not a calendar period (e.g. a survey round): no window from the label
        return None


def period_windows(periods: pd.Series, span: tuple[Any, Any], *, stock: Any = False,
                   growth: Any = False) -> tuple[pd.Series, pd.Series]:
    """First and last day each value covers: the period clipped to the data's span.

    A stock covers everything from the span's start to the period's end; a growth cell the
    previous period and this one. ``'all'`` is the whole span.
    """
    lo, hi = (pd.Timestamp(s).normalize() for s in span)
    labels = periods.astype(str)
    starts, ends = {}, {}
    for p in pd.unique(labels):
        kind = None if p == "all" else _calendar_kind(p)
        if p == "all":
            starts[p], ends[p] = lo, hi
        elif kind is not None:
            starts[p], ends[p] = period_bounds(p)
            per = pd.Period(p.replace("-Q", "Q"), freq={"year": "Y", "quarter": "Q", "month": "M"}[kind])
            starts[p + "<"] = (per - 1).start_time.normalize()
    start = pd.to_datetime(labels.map(starts))
    prev = pd.to_datetime((labels + "<").map(starts))
    start = start.where(~np.asarray(growth, dtype=bool) | prev.isna(), prev)
    start = start.where(~np.asarray(stock, dtype=bool), lo)
    start = start.where(start.isna() | (start >= lo), lo)
    end = pd.to_datetime(labels.map(ends))
    end = end.where(end.isna() | (end <= hi), hi)
    return start.astype("datetime64[ms]"), end.astype("datetime64[ms]")


def cells(table: pd.DataFrame, *, span: tuple[Any, Any] | None = None,
          registry: dict[str, Indicator] | None = None) -> pd.DataFrame:
    """An indicator result in the published cell shape (see :mod:`kkbm_analysis.suppression`).

    Parameters
    ----------
    table : DataFrame
        Columns of :data:`~.engine.RESULT_COLUMNS`.
    span : (date, date), optional
        The data's span (default ``table.attrs['span']``), for the windows.
    registry : mapping, optional
        Indicators by id (default :data:`REGISTRY`; the resilience indicators add theirs).

    Returns
    -------
    DataFrame
        ``measure_id, level, region_code, period, disaggregation, value, numerator,
        denominator, n, ci_low, ci_high, kind, unit, direction, stock, window_start,
        window_end, region_name, label_id, label_en, domain``; ``attrs`` kept.
    """
    registry = registry or REGISTRY
    span = span or table.attrs.get("span")
    if span is None:
        raise ValueError("cells() needs the data's span (span= or table.attrs['span'])")
    ids = table["indicator_id"].astype(str)
    unknown = sorted(set(ids) - set(registry))
    if unknown:
        raise ValueError(f"indicators not in the registry: {unknown}")
    spec = {c: ids.map({k: getattr(v, c) for k, v in registry.items()}) for c in
            ("kind", "unit", "direction", "stock", "label_id", "label_en", "domain")}
    kind = spec["kind"].to_numpy(dtype=object).astype(str)
    N = table["numerator"].to_numpy(dtype=float, na_value=np.nan)
    D = table["denominator"].to_numpy(dtype=float, na_value=np.nan)
    start, end = period_windows(table["period"], span, stock=spec["stock"].to_numpy(dtype=bool),
                                growth=kind == "growth")
    codes = table["region_code"].astype(str)
    names = {c: region_name(c) for c in pd.unique(codes)}
    out = pd.DataFrame({
        "measure_id": ids.astype("string"),
        **{c: table[c].astype("string") for c in ("level", "region_code", "period", "disaggregation")},
        **{c: table[c].astype("Float64") for c in ("value", "numerator", "denominator")},
        "n": pd.array(default_n(kind, N, D), dtype="Float64"),
        **{c: table[c].astype("Float64") for c in ("ci_low", "ci_high")},
        "kind": spec["kind"].astype("string"), "unit": spec["unit"].astype("string"),
        "direction": spec["direction"].map(DIRECTIONS).astype("string"),
        "stock": spec["stock"].astype(bool),
        "window_start": start, "window_end": end,
        "region_name": codes.map(names).astype("string"),
        "label_id": spec["label_id"].astype("string"), "label_en": spec["label_en"].astype("string"),
        "domain": spec["domain"].astype("string"),
    })
    out.attrs.update(table.attrs)
    return out


def publish(table: pd.DataFrame, data: Any = None, **options: Any) -> PublishedTable:
    """Suppress an indicator result for publication: :func:`cells`, then
    :func:`~kkbm_analysis.suppression.suppress` with :data:`RELATIONS`.

    Parameters
    ----------
    table : DataFrame
        An indicator result (include the totals you publish: national, ``'all'``...).
    data : ProgramData, optional
        For community rows under a sub-national level, and the synthetic flag.
    **options
        Passed to :func:`~kkbm_analysis.suppression.suppress` (``min_count``...).
    """
    if data is not None:
        options.setdefault("synthetic", data.synthetic)
        options.setdefault("communities", data)
    return suppress(cells(table), relations=RELATIONS, **options)
