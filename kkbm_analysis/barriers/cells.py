"""Every barrier measure for every region and period in one pass, as unsuppressed cells.

:func:`barrier_cells` builds the shared intermediates once (the per-member mentoring
record, the stage funnel, staffing, synergy and capital tables) and derives each measure
for every region of a level, the nation, every period of the record and the whole record
(``'all'``) from them: group sums on integer codes (a region x period grid with a national
row and an ``'all'`` column, the grouping sets of the old per-period loop). Each cell has
its numerator, denominator, ``n`` and 95 % interval by kind (proportion: Wilson; mean: t;
median: order statistics; ratio and rate: exact Poisson on the numerator with the
denominator as exposure, an approximation). Publishing is :mod:`kkbm_analysis.analyse`'s
job: these cells are the analysis view, nothing is withheld yet.

What a period means for each measure is in the package docstring; the window columns say
it per cell: a cohort (members trained, or identified, in the period, followed to the end of
the record), a stock (at the period's end) or the period itself. The mentoring of a year's
trained cohort (points, coverage, follow-up, months to first mentoring, per-point shares) is
counted up to that year's end, so a year's cells hold no later data; the ``'all'`` column counts
it up to the end of the record.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data import NATIONAL_CODE, ProgramData, region_column
from ..i18n import region_name
from ..intervals import median_interval, poisson_rate_interval, t_interval, wilson_interval
from ..periods import period_bounds
from ..schema import STAGES, MentoringPoints, load_mentoring_points
from ._common import _frame, _observation_window
from .measures import ALL_MEASURES, BarrierMeasure
from .mentoring import _NONE, _positions, member_mentoring
from .staffing import staffing
from .synergy import _synergy_table

__all__ = ["BarrierGrid", "barrier_cells", "mentoring_point_cells", "CELL_COLUMNS"]

#: Columns of every cell frame made here.
CELL_COLUMNS: tuple[str, ...] = (
    "measure_id", "level", "region_code", "period", "disaggregation", "value", "numerator", "denominator", "n",
    "ci_low", "ci_high", "kind", "unit", "direction", "stock", "window_start", "window_end", "region_name",
    "label_id", "label_en")
_DIV = {"year": 12, "quarter": 3, "month": 1}


@dataclass(frozen=True)
class BarrierGrid:
    """Regions (at one level, plus the nation) x periods (plus ``'all'``) of one record.

    Attributes
    ----------
    level : str
    codes : ndarray of str
        Region codes at ``level`` that have communities (the nation is added as the last row).
    labels : list of str
        Period labels of the record (``'all'`` is added as the last column).
    kind : {'year', 'quarter', 'month'}
    start, end : Timestamp
        The record's first and last day.
    """

    level: str
    codes: np.ndarray
    labels: list[str]
    kind: str
    start: pd.Timestamp
    end: pd.Timestamp

    @classmethod
    def of(cls, data: ProgramData, level: str = "province", kind: str = "year",
           labels: list[str] | None = None) -> "BarrierGrid":
        start, end = _observation_window(data)
        if pd.isna(start) or pd.isna(end):
            raise ValueError("barrier measures need dated communities or staff to define the record")
        col = region_column(level)
        codes = (np.array([], dtype=object) if col is None
                 else np.array(sorted(data.communities[col].dropna().astype(str).unique()), dtype=object))
        if labels is None:
            first, last = (int(np.datetime64(d.date(), "M").astype(np.int64)) // _DIV[kind] for d in (start, end))
            labels = [_label(i, kind) for i in range(first, last + 1)]
        return cls(level, codes, list(labels), kind, start, end)

    @property
    def R(self) -> int:
        return len(self.codes)

    @property
    def P(self) -> int:
        return len(self.labels)

    def region_of_communities(self, data: ProgramData) -> np.ndarray:
        """Region index of every community (``-1`` without a code at this level)."""
        col = region_column(self.level)
        if col is None:
            return np.full(len(data.communities), -1, dtype=np.int64)
        return pd.Index(self.codes).get_indexer(data.communities[col].astype(str).where(
            data.communities[col].notna(), None)).astype(np.int64)

    def period_of(self, dates: Any) -> np.ndarray:
        """Period index of each date (``-1`` when missing or outside the record's periods)."""
        d = pd.Series(dates).to_numpy(dtype="datetime64[ms]", na_value=np.datetime64("NaT"))
        value = d.astype("datetime64[M]").astype(np.int64) // _DIV[self.kind]
        keys = np.array([_label_index(label, self.kind) for label in self.labels], dtype=np.int64)
        order = np.argsort(keys)
        pos = np.clip(np.searchsorted(keys[order], value), 0, max(len(keys) - 1, 0))
        found = (len(keys) > 0) & ~np.isnat(d)
        found &= keys[order][pos] == value if len(keys) else False
        return np.where(found, order[pos] if len(keys) else -1, -1).astype(np.int64)

    def sum(self, region: np.ndarray, period: np.ndarray, weights: Any = None) -> np.ndarray:
        """Sums over units per (region + nation) x (period + all): an ``(R + 1, P + 1)`` array.

        ``region`` -1: counted nationally only; ``period`` -1: counted in ``'all'`` only. Each
        cell adds its units' weights in unit order (one :func:`numpy.bincount` per group of cells).
        """
        region, period = np.asarray(region, dtype=np.int64), np.asarray(period, dtype=np.int64)
        n_cells = (self.R + 1) * (self.P + 1)
        w = None if weights is None else np.broadcast_to(np.asarray(weights, dtype=float), (len(region),))
        out = np.zeros(n_cells, dtype=np.int64 if w is None else float)
        for key, rows in self._groups(region, period):  # each cell is in one group: adding the others' zeros
            out += np.bincount(key, weights=None if w is None else w[rows], minlength=n_cells)
        return out.reshape(self.R + 1, self.P + 1)

    def _groups(self, region: np.ndarray, period: np.ndarray) -> list[tuple[np.ndarray, Any]]:
        """The cells' keys (row-major in the grid) of the units counted in each group of cells (region x
        period, region x all, nation x period, nation x all), with the units' rows, in unit order."""
        has_r, has_p = region >= 0, period >= 0
        both, width = has_r & has_p, self.P + 1
        nation = np.full(len(region), self.R * width + self.P, dtype=np.int64)
        return [((region * width + period)[both], both), ((region * width + self.P)[has_r], has_r),
                ((self.R * width + period)[has_p], has_p), (nation, slice(None))]

    def median(self, region: np.ndarray, period: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, ...]:
        """Median, 95 % interval (order statistics) and count per grid cell."""
        ok = ~np.isnan(values)
        by_value = np.argsort(values[ok], kind="stable")  # then a stable sort by cell: by cell, value, unit
        ranked = values[ok][by_value]
        groups = self._groups(*(np.asarray(a, dtype=np.int64)[ok][by_value] for a in (region, period)))
        key = np.concatenate([k for k, _ in groups])
        v = np.concatenate([ranked[rows] for _, rows in groups])
        n_cells = (self.R + 1) * (self.P + 1)
        order = np.argsort(key.astype(np.int16) if n_cells <= np.iinfo(np.int16).max else key, kind="stable")
        key, v = key[order], v[order]
        counts = np.bincount(key, minlength=n_cells)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        med = np.full(n_cells, np.nan)
        has = counts > 0
        med[has] = (v[starts[has] + (counts[has] - 1) // 2] + v[starts[has] + counts[has] // 2]) / 2
        lo, hi = median_interval(v, starts, counts)
        shape = (self.R + 1, self.P + 1)
        return med.reshape(shape), lo.reshape(shape), hi.reshape(shape), counts.reshape(shape).astype(float)

    def windows(self, window: str) -> tuple[np.ndarray, np.ndarray]:
        """First and last day each column covers, for a window kind (:data:`.measures.WINDOWS`)."""
        bounds = [period_bounds(p) for p in self.labels]
        starts = [max(b[0], self.start) for b in bounds] + [self.start]
        ends = [min(b[1], self.end) for b in bounds] + [self.end]
        if window == "stock":
            starts = [self.start] * len(starts)
        elif window == "cohort":
            ends = [self.end] * len(ends)
        return np.array(starts, dtype="datetime64[ms]"), np.array(ends, dtype="datetime64[ms]")


def _label_index(label: str, kind: str) -> int:
    year = int(label[:4]) - 1970
    if kind == "year":
        return year
    if kind == "quarter":
        return year * 4 + int(label[-1]) - 1
    return year * 12 + int(label[5:7]) - 1


def _label(index: int, kind: str) -> str:
    if kind == "year":
        return str(1970 + index)
    if kind == "quarter":
        return f"{1970 + index // 4}-Q{index % 4 + 1}"
    return f"{1970 + index // 12}-{index % 12 + 1:02d}"


# =========================================================================== cells
class _Cells:
    """Collects measures as grid arrays and turns them into one long cell frame."""

    def __init__(self, grid: BarrierGrid) -> None:
        self.grid = grid
        self.parts: list[pd.DataFrame] = []

    def add(self, m: BarrierMeasure, N: Any, D: Any, *, n: Any = None, value: Any = None, ci: Any = None,
            labels: tuple[str, str] | None = None, measure_id: str | None = None) -> None:
        g = self.grid
        shape = (g.R + 1, g.P + 1)
        N = np.broadcast_to(np.asarray(N, dtype=float), shape)
        D = np.broadcast_to(np.asarray(D, dtype=float), shape)
        if value is None:
            with np.errstate(invalid="ignore", divide="ignore"):
                value = np.where(D > 0, N / D, np.nan) if m.kind != "count" else N
        if n is None:
            n = N if m.kind in ("count", "ratio", "rate") else D
        if ci is None:
            ci = _interval(m.kind, N, D)
        start, end = g.windows(m.window)
        codes = np.append(g.codes, NATIONAL_CODE)
        self.parts.append(pd.DataFrame({
            "measure_id": measure_id or m.id,
            "level": np.repeat(np.append(np.full(g.R, g.level, dtype=object), "national"), g.P + 1),
            "region_code": np.repeat(codes, g.P + 1),
            "period": np.tile(np.append(np.asarray(g.labels, dtype=object), "all"), g.R + 1),
            "disaggregation": "all", "value": np.ravel(value), "numerator": N.ravel(), "denominator": D.ravel(),
            "n": np.ravel(np.broadcast_to(np.asarray(n, dtype=float), shape)),
            "ci_low": np.ravel(ci[0]), "ci_high": np.ravel(ci[1]), "kind": m.kind, "unit": m.unit,
            "direction": m.direction, "stock": m.stock,
            "window_start": np.tile(start, g.R + 1), "window_end": np.tile(end, g.R + 1),
            "label_id": labels[0] if labels else m.label("id"), "label_en": labels[1] if labels else m.label("en"),
        }))

    def frame(self) -> pd.DataFrame:
        out = pd.concat(self.parts, ignore_index=True) if self.parts else pd.DataFrame(columns=list(CELL_COLUMNS))
        names = {c: region_name(c) for c in pd.unique(out["region_code"].astype(str))}
        out["region_name"] = out["region_code"].astype(str).map(names)
        out = out[list(CELL_COLUMNS)]
        for c in ("measure_id", "level", "region_code", "period", "disaggregation", "kind", "unit", "direction",
                  "region_name", "label_id", "label_en"):
            out[c] = out[c].astype("string")
        for c in ("value", "numerator", "denominator", "n", "ci_low", "ci_high"):
            out[c] = out[c].astype("Float64")
        out["stock"] = out["stock"].astype(bool)
        return out


def _interval(kind: str, N: np.ndarray, D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if kind == "proportion":
        return wilson_interval(N, D)
    if kind in ("ratio", "rate"):
        return poisson_rate_interval(N, D)
    nan = np.full(N.shape, np.nan)
    return nan, nan


def _mean_ci(total: np.ndarray, sumsq: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
    return t_interval(mean, sumsq, count)


# =========================================================================== the measures
def _mentoring(cells: _Cells, data: ProgramData, mm: pd.DataFrame, region_of_comm: np.ndarray,
               mp: MentoringPoints) -> None:
    g = cells.grid
    trained = mm["trained"].to_numpy(dtype=bool)
    t = mm.loc[trained]
    comm = _positions(t["community_id"], data.communities["community_id"])
    t, comm = t.loc[comm >= 0], comm[comm >= 0]  # members of communities in the register
    r = region_of_comm[comm]
    p = g.period_of(t["entry_training_on"])
    count = g.sum(r, p)
    cells.add(ALL_MEASURES["members_trained"], count, np.nan)
    end = _period_end(g, p)
    pts_all = t["points_received"].to_numpy(dtype=float)
    pts_year = sum(_by(t[f"{point.key}_on"], end) for point in mp.points).astype(float)
    for m, scale in ((ALL_MEASURES["mentoring_points_mean"], 1.0), (ALL_MEASURES["mentoring_coverage"],
                                                                    1 / len(mp.points))):
        total = _years_and_all(g, g.sum(r, p, pts_year * scale), g.sum(r, p, pts_all * scale))
        sumsq = _years_and_all(g, g.sum(r, p, (pts_year * scale) ** 2), g.sum(r, p, (pts_all * scale) ** 2))
        cells.add(m, total, count, ci=_mean_ci(total, sumsq, count))
    no_follow_all = ~t["followed_up"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    no_follow_year = ~_by(t["followed_up_on"], end)
    cells.add(ALL_MEASURES["no_follow_up_share"],
              _years_and_all(g, g.sum(r, p, no_follow_year), g.sum(r, p, no_follow_all)), count)
    months = t["months_to_first"].to_numpy(dtype=float, na_value=np.nan)
    seen = _by(t["first_mentoring_on"], end)
    year = g.median(r, p, np.where(seen, months, np.nan))
    whole = g.median(r, p, months)
    med, lo, hi, n = (_years_and_all(g, a, b) for a, b in zip(year, whole))
    cells.add(ALL_MEASURES["months_to_first_mentoring"], np.nan, n, value=med, ci=(lo, hi))


def _period_end(grid: BarrierGrid, period: np.ndarray) -> np.ndarray:
    """The last day of each unit's period (the record's last day for units outside every period)."""
    ends = grid.windows("period")[1]
    return np.where(period >= 0, ends[np.clip(period, 0, None)], ends[-1]).astype("datetime64[ms]")


def _by(dates: pd.Series, end: np.ndarray) -> np.ndarray:
    """Whether each date is on or before its unit's period end (False when missing)."""
    d = pd.Series(dates).to_numpy(dtype="datetime64[ms]", na_value=np.datetime64("NaT"))
    return ~np.isnat(d) & (d <= end)


def _years_and_all(grid: BarrierGrid, years: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """A grid whose period columns come from ``years`` (a cohort counted up to its period's end) and whose
    ``'all'`` column comes from ``whole`` (counted up to the end of the record)."""
    out = np.array(whole, dtype=float, copy=True)
    out[:, :grid.P] = np.asarray(years, dtype=float)[:, :grid.P]
    return out


def mentoring_point_cells(data: ProgramData, *, grid: BarrierGrid | None = None, points: MentoringPoints | None = None,
                          mentoring: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per mandated point: the share of the period's trained cohort who received it
    (``mentoring_point:<id>``, proportion) and the sessions of it held in the period
    (``mentoring_sessions:<id>``, count), for every region of the grid and the nation."""
    mp = points or load_mentoring_points()
    grid = grid or BarrierGrid.of(data)
    mm = mentoring if mentoring is not None else member_mentoring(data, points=mp)
    region_of_comm = grid.region_of_communities(data)
    cells = _Cells(grid)
    t = mm.loc[mm["trained"].to_numpy(dtype=bool)]
    comm = _positions(t["community_id"], data.communities["community_id"])
    t, comm = t.loc[comm >= 0], comm[comm >= 0]
    r = region_of_comm[comm]
    p = grid.period_of(t["entry_training_on"])
    count = grid.sum(r, p)
    sessions = _frame(data, "sessions")
    s_comm = _positions(sessions["community_id"], data.communities["community_id"])
    sessions, s_comm = sessions.loc[s_comm >= 0], s_comm[s_comm >= 0]
    s_r = region_of_comm[s_comm]
    s_p = grid.period_of(sessions["held_on"])
    kind = sessions["kind"].astype("string").to_numpy(dtype=object, na_value="")
    share = BarrierMeasure("mentoring_point", "share", True, 0, True, "proportion", "period")
    end = _period_end(grid, p)
    held = BarrierMeasure("mentoring_sessions", "sessions", None, 0, False, "count", "period")
    for point in mp.points:
        got = _years_and_all(grid, grid.sum(r, p, _by(t[f"{point.key}_on"], end)),
                             grid.sum(r, p, t[point.key].to_numpy(dtype=bool)))
        cells.add(share, got, count, measure_id=f"mentoring_point:{point.key}",
                  labels=(point.label_id, point.label_en))
        here = kind == point.key
        cells.add(held, grid.sum(s_r[here], s_p[here]), np.nan, measure_id=f"mentoring_sessions:{point.key}",
                  labels=(point.label_id, point.label_en))
    out = cells.frame()
    out["point_id"] = out["measure_id"].str.split(":").str[1].astype("string")
    return out


def _funnel(cells: _Cells, data: ProgramData, region_of_comm: np.ndarray) -> None:
    g = cells.grid
    stages = _frame(data, "stages")
    member = data.member_rows("stages")
    comm = _positions(data.members["community_id"], data.communities["community_id"])
    mcomm = np.where(member >= 0, comm[np.maximum(member, 0)], -1)
    r = np.where(mcomm >= 0, region_of_comm[np.maximum(mcomm, 0)], -1)
    p = g.period_of(stages["identified_on"])
    known = mcomm >= 0  # as the stage funnel: members of communities in the register
    cols = [c for c, _, _ in STAGES]
    before = cols[cols.index("implemented_on") - 1]
    reached = {c: stages[c].notna().to_numpy() & known for c in (before, "implemented_on")}
    cells.add(ALL_MEASURES["training_to_practice"], g.sum(r, p, reached["implemented_on"]), g.sum(r, p, reached[before]))


def _by_period(grid: BarrierGrid, frames: dict[str | None, pd.DataFrame], column: str) -> np.ndarray:
    """A per-(region, period) column of the level and national tables as a grid array."""
    out = np.full((grid.R + 1, grid.P + 1), np.nan)
    labels = pd.Index([*grid.labels, "all"])
    for level_codes, frame in frames.items():
        rows = pd.Index(grid.codes).get_indexer(frame["region_code"].astype(str)) if level_codes == "regions" \
            else np.full(len(frame), grid.R)
        cols = labels.get_indexer(frame["period"].astype(str))
        ok = (rows >= 0) & (cols >= 0)
        out[rows[ok], cols[ok]] = frame[column].to_numpy(dtype=float, na_value=np.nan)[ok]
    return out


def _staffing(cells: _Cells, data: ProgramData, replacement_months: int) -> None:
    g = cells.grid
    frames: dict[Any, pd.DataFrame] = {}
    for key, level in (("regions", g.level), ("nation", "national")):
        parts = [staffing(data, level=level, period=kind, replacement_months=replacement_months, as_of=g.end).table
                 for kind in (g.kind, None)]  # the grid's record ends on a day: the same window, found once
        frames[key] = pd.concat(parts, ignore_index=True)

    def col(name: str) -> np.ndarray:
        return np.nan_to_num(_by_period(g, frames, name), nan=0.0)

    cells.add(ALL_MEASURES["members_per_organiser"], col("members"), col("organisers_fte"))
    officers = _by_period(g, frames, "officers_fte")
    cells.add(ALL_MEASURES["officers_per_community"], officers, col("communities"))
    cells.add(ALL_MEASURES["vacancy_months_per_community"], col("vacancy_months"), col("communities_observed"))
    cells.add(ALL_MEASURES["organiser_turnover"], col("organisers_ended"), col("avg_organisers"))
    cells.add(ALL_MEASURES["cadre_regeneration"], col("replaced"), col("departures") - col("departures_censored"))
    cells.add(ALL_MEASURES["communities"], col("communities"), np.nan)


def _synergy(cells: _Cells, data: ProgramData) -> None:
    g = cells.grid
    parts: dict[str, list[pd.DataFrame]] = {"regions": [], "nation": []}
    for label in [*g.labels, "all"]:
        end = None if label == "all" else period_bounds(label)[1]
        case_period = None if label == "all" else label
        for key, level in (("regions", g.level), ("nation", "national")):
            parts[key].append(_synergy_table(data, level, as_of=end, case_period=case_period)[0].assign(period=label))
    frames = {k: pd.concat(v, ignore_index=True) for k, v in parts.items()}

    def col(name: str) -> np.ndarray:
        return np.nan_to_num(_by_period(g, frames, name), nan=0.0)

    cells.add(ALL_MEASURES["perdes_share"], col("villages_with_perdes"), col("villages"))
    cells.add(ALL_MEASURES["village_gov_involved_share"], col("gov_involved"), col("gov_involvement_known"))
    cells.add(ALL_MEASURES["disnakertrans_informed_share"], col("disnakertrans_informed"), col("disnakertrans_known"))
    cells.add(ALL_MEASURES["villages"], col("villages"), np.nan)
    cells.add(ALL_MEASURES["villages_with_perdes"], col("villages_with_perdes"), np.nan)


def _member_regions(data: ProgramData, region_of_comm: np.ndarray) -> np.ndarray:
    """Region index of every member (-2 when the member's community is not in the register)."""
    comm = _positions(data.members["community_id"], data.communities["community_id"])
    return np.where(comm >= 0, region_of_comm[np.maximum(comm, 0)], -2)


def _capital(cells: _Cells, data: ProgramData, member_region: np.ndarray) -> None:
    """KUR approvals and uptake among business owners, from integer positions (the definitions of
    :func:`.capital.capital_access`: applications placed by ``applied_on``; owners by their first
    own business by the period's end, applying in the period)."""
    g = cells.grid
    loans = _frame(data, "kur_loans")
    biz = _frame(data, "businesses")
    m, owner = data.member_rows("kur_loans"), data.member_rows("businesses", "owner_member_id")
    r = np.where(m >= 0, member_region[np.maximum(m, 0)], -2)
    known = r > -2
    p = g.period_of(loans["applied_on"])
    approved = loans["approved"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    cells.add(ALL_MEASURES["kur_approval_rate"], g.sum(r[known], p[known], approved[known]),
              g.sum(r[known], p[known]))
    started = biz["started_on"].to_numpy(dtype="datetime64[ms]").view(np.int64)
    ok = (owner >= 0) & (started != np.datetime64("NaT", "ms").view(np.int64))
    first = np.full(len(data.members), _NONE, dtype=np.int64)
    np.minimum.at(first, owner[ok], started[ok])
    is_owner = (first != _NONE) & (member_region > -2)
    ends = np.array([period_bounds(label)[1].to_datetime64().astype("datetime64[ms]").view(np.int64)
                     for label in g.labels] + [_NONE], dtype=np.int64)           # 'all': every owner
    owners = np.zeros((g.R + 1, g.P + 1))
    applied = np.zeros((g.R + 1, g.P + 1))
    own_r = member_region[is_owner]
    own_first = first[is_owner]
    for j, end in enumerate(ends):
        by = own_first <= end
        owners[:, j] = np.bincount(np.where(own_r[by] >= 0, own_r[by], g.R), minlength=g.R + 1)
        owners[g.R, j] = by.sum()
    pairs = np.unique(np.column_stack([m[known & (m >= 0)], p[known & (m >= 0)]]), axis=0)  # (member, period)
    for j in range(g.P + 1):
        who = np.unique(pairs[:, 0]) if j == g.P else pairs[pairs[:, 1] == j, 0]
        who = who[(first[who] != _NONE) & (first[who] <= ends[j])]
        rr = member_region[who]
        applied[:, j] = np.bincount(np.where(rr >= 0, rr, g.R), minlength=g.R + 1)
        applied[g.R, j] = len(who)
    cells.add(ALL_MEASURES["kur_owner_uptake"], applied, owners)


def barrier_cells(data: ProgramData, *, level: str = "province", period: str = "year",
                  labels: list[str] | None = None, replacement_months: int = 6, points: MentoringPoints | None = None,
                  mentoring: pd.DataFrame | None = None, measures: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Every barrier measure (:data:`.measures.MEASURES` and :data:`.measures.SUPPORT`) for every
    region at ``level`` and the nation, every period of the record and ``'all'``: unsuppressed cells.

    Parameters
    ----------
    data : ProgramData
    level : str
        Region level of the regional rows (national rows are always added).
    period : {'year', 'quarter', 'month'}
        Period kind of the record's periods.
    labels : list of str, optional
        The periods to produce (default: every period of the record).
    replacement_months : int
        Window for cadre regeneration (see :func:`.staffing.staffing`).
    points : MentoringPoints, optional
    mentoring : DataFrame, optional
        :func:`.mentoring.member_mentoring` of ``data``, when already computed.
    measures : tuple of str, optional
        Families to compute (default all): ``'mentoring', 'funnel', 'staffing', 'synergy', 'capital'``.

    Returns
    -------
    DataFrame
        Columns :data:`CELL_COLUMNS`; ``attrs``: ``synthetic``, ``data_version``, ``span``.
    """
    mp = points or load_mentoring_points()
    grid = BarrierGrid.of(data, level, period, labels)
    cells = _Cells(grid)
    region_of_comm = grid.region_of_communities(data)
    families = measures or ("mentoring", "funnel", "staffing", "synergy", "capital")
    if "mentoring" in families:
        mm = mentoring if mentoring is not None else member_mentoring(data, points=mp)
        _mentoring(cells, data, mm, region_of_comm, mp)
    if "funnel" in families:
        _funnel(cells, data, region_of_comm)
    if "staffing" in families:
        _staffing(cells, data, replacement_months)
    if "synergy" in families:
        _synergy(cells, data)
    if "capital" in families:
        _capital(cells, data, _member_regions(data, region_of_comm))
    out = cells.frame()
    out.attrs.update(synthetic=data.synthetic, data_version=data.data_version,
                     span=(str(grid.start.date()), str(grid.end.date())), replacement_months=replacement_months)
    return out
