"""The unsuppressed cells of every product, and the relations between them, for one suppression.

Each builder returns cells in the published shape (:mod:`kkbm_analysis.suppression`) with a
``product`` column: indicators (:mod:`kkbm_analysis.indicators`), barrier measures and the
12-month business outcome (:func:`kkbm_analysis.barriers.barrier_cells`, the outcome frame),
mentoring points, resilience (:mod:`kkbm_analysis.resilience.indicators`) and voices
(:func:`kkbm_analysis.qualitative.analysis.prevalence_cells`). :func:`relations` declares
the numbers two products publish alike, so that one suppression withholds them together.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..barriers import ALL_MEASURES, BarrierGrid, barrier_cells, mentoring_point_cells
from ..barriers.measures import BarrierMeasure
from ..i18n import region_name, text
from ..indicators import RELATIONS as INDICATOR_RELATIONS
from ..indicators import cells as indicator_cells_of
from ..indicators import indicator_table
from ..intervals import wilson_interval
from ..suppression import Relations
from .shared import Shared

__all__ = ["indicator_cells", "barrier_product_cells", "point_cells", "outcome_cells", "resilience_cells",
           "voices_cells", "relations", "OUTCOME"]

#: The 12-month business outcome, published beside the barrier measures.
OUTCOME = BarrierMeasure("business_running_12m", "share", True, 0, True, "proportion", "cohort",
                         "evidence.measure.business_running_12m")


def indicator_cells(shared: Shared) -> pd.DataFrame:
    """Every registry indicator, national and by province, per year and for the span, overall and by sex and status."""
    table = indicator_table(shared.data, levels=("national", "province"), periods=("year", None),
                            by=(None, "sex", "status"), span=shared.span)
    return indicator_cells_of(table).assign(product="indicators")


def barrier_product_cells(shared: Shared) -> pd.DataFrame:
    """Every barrier measure by province and nationally, per year and for the record (one pass).

    The KUR approval rate is the indicator of the same name (the same numbers): its barrier
    cells are taken from the published indicator cells, not computed twice.
    """
    cells = barrier_cells(shared.data, labels=shared.years, replacement_months=shared.parameters.replacement_months,
                          points=shared.points, mentoring=shared.mentoring)
    cells = cells.loc[cells["measure_id"] != "kur_approval_rate"]
    return pd.concat([cells, outcome_cells(shared)], ignore_index=True).assign(product="barriers")


def point_cells(shared: Shared) -> pd.DataFrame:
    """Per mandated point: the cohort's share who received it and the sessions held."""
    grid = BarrierGrid.of(shared.data, "province", "year", shared.years)
    return mentoring_point_cells(shared.data, grid=grid, points=shared.points,
                                 mentoring=shared.mentoring).assign(product="mentoring_points")


def outcome_cells(shared: Shared) -> pd.DataFrame:
    """Share of trained members running a business 12 months after their entry training, by the
    year of that training (Y12 of :func:`kkbm_analysis.models.business_outcome_frame`)."""
    frame = shared.outcome
    grid = BarrierGrid.of(shared.data, "province", "year", shared.years)
    from ..barriers.cells import _Cells  # the same cell builder as every barrier measure
    cells = _Cells(grid)
    if frame is None or not len(frame):
        return cells.frame()
    f = frame.dropna(subset=["y12"])
    region = pd.Index(grid.codes).get_indexer(f["province_code"].astype(str).where(f["province_code"].notna(), None))
    period = grid.period_of(f["t0"])
    count = grid.sum(region, period)
    ran = grid.sum(region, period, f["y12"].to_numpy(dtype=float))
    cells.add(OUTCOME, ran, count, ci=wilson_interval(ran, count))
    out = cells.frame()
    end = shared.observation_end  # the outcome of a cohort is observed up to 12 months after its period
    out["window_end"] = (out["window_end"] + pd.DateOffset(years=1)).clip(upper=end).astype("datetime64[ms]")
    return out


def resilience_cells(shared: Shared) -> pd.DataFrame | None:
    """The resilience indicators (design-weighted, per survey round), or None without a survey.

    When the survey cannot support the measurement model (too few interviews...), the product
    is left out and the reason kept in ``shared.notes``.
    """
    surveys = shared.data.tables.get("resilience_surveys")
    if surveys is None or not len(surveys):
        return None
    from ..resilience.frames import analysis_frame
    from ..resilience.indicators import registry, resilience_indicators
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fit warnings are reported by the resilience notebook
            frame = analysis_frame(shared.data)
            table = resilience_indicators(shared.data, frame=frame)
    except (ValueError, np.linalg.LinAlgError, RuntimeError) as exc:
        shared.notes.append(f"resilience indicators left out: {type(exc).__name__}: {exc}")
        return None
    dates = frame.groupby("round")["interviewed_on"].agg(["min", "max"])
    out = indicator_cells_of(table, span=shared.span, registry=registry())
    out["window_start"] = out["period"].map(dates["min"]).astype("datetime64[ms]")
    out["window_end"] = out["period"].map(dates["max"]).astype("datetime64[ms]")
    return out.assign(product="resilience")


def voices_cells(voices: Any) -> pd.DataFrame:
    """Theme prevalence of coded qualitative sources, by province and nationally (period ``'all'``)."""
    from ..qualitative.analysis import prevalence_cells
    table = prevalence_cells(voices)
    names = {c: region_name(c) for c in pd.unique(table["region_code"].astype(str))}
    dates = pd.to_datetime(voices.sources.get("date", pd.Series(dtype="datetime64[ms]")), errors="coerce")
    first, last = (dates.min(), dates.max()) if dates.notna().any() else (pd.NaT, pd.NaT)
    theme = table["measure_id"].str.split(":").str[1]
    labels = voices.themes.set_index("theme_id")[["label_id", "label_en"]]
    prefix = table["measure_id"].str.split(":").str[0]
    words = {p: (text(f"evidence.voices.{p}", "id"), text(f"evidence.voices.{p}", "en")) for p in prefix.unique()}
    out = table.assign(
        unit=np.where(table["kind"] == "proportion", "proportion", np.where(prefix == "voices_segments", "segments",
                                                                              "sources")),
        direction="neutral", stock=False, window_start=first, window_end=last,
        region_name=table["region_code"].astype(str).map(names),
        label_id=[f"{words[p][0]}: {labels['label_id'].get(t, 'semua sumber' if t == 'all' else t)}"
                  for p, t in zip(prefix, theme)],
        label_en=[f"{words[p][1]}: {labels['label_en'].get(t, 'all sources' if t == 'all' else t)}"
                  for p, t in zip(prefix, theme)])
    out["window_start"] = out["window_start"].astype("datetime64[ms]")
    out["window_end"] = out["window_end"].astype("datetime64[ms]")
    return out.assign(product="voices")


def relations(shared: Shared) -> Relations:
    """Every exact relation between published measures: the indicators' own, and the numbers two
    products publish alike (each trained cohort's size, community and village counts...)."""
    n_points = len(shared.points.points)
    trained = [("members_trained", "N", m, "D") for m in
               ("mentoring_points_mean", "mentoring_coverage", "no_follow_up_share",
                *(f"mentoring_point:{p}" for p in shared.points.point_ids))]
    links = [*trained,
             ("mentoring_coverage", "N", "mentoring_points_mean", "N", 1 / n_points),
             ("villages", "N", "perdes_share", "D"), ("villages_with_perdes", "N", "perdes_share", "N"),
             ("communities", "N", "officers_per_community", "D"),
             ("members", "N", "members_per_organiser", "N")]
    return INDICATOR_RELATIONS + Relations.of(links=links)


def measure_ids() -> set[str]:
    """Every barrier measure id a product may publish (for the reader's checks)."""
    return {*ALL_MEASURES, OUTCOME.id}
