"""The aggregation engine: facts built once, any level x period x disaggregation cut summed from them.

:func:`compute_indicators` and :func:`indicator_table` (the public entry points) build an
:class:`_Engine` over a :class:`~.facts.FactContext`; its caches are shared by the
indicators of one call. Group-bys are :func:`numpy.bincount` on dense integer keys
(region x period x category); medians use a radix grouping and partial sorts.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from ..data import NATIONAL_CODE, PERIODS, REGION_LEVELS, ProgramData
from ..intervals import t_interval, wilson_interval
from .arrays import _NAT, _arrow_strings, _dates, _floats, _lookup
from .facts import _DISAGG_KEYS, SEX_KEYS, STATUS_KEYS, FactContext, data_span
from .registry import DISAGGREGATIONS, Indicator, _resolve

__all__ = ["RESULT_COLUMNS", "compute_indicators", "indicator_table", "indicator_facts"]

#: Columns of every result of :func:`compute_indicators`, in order.
RESULT_COLUMNS: tuple[str, ...] = ("indicator_id", "level", "region_code", "period", "disaggregation",
                                   "value", "numerator", "denominator", "ci_low", "ci_high", "suppressed")


def indicator_facts(data: ProgramData, indicator: str | Indicator) -> pd.DataFrame:
    """The facts frame of one indicator (see the module docstring), for inspection.

    Parameters
    ----------
    data : ProgramData
    indicator : str or Indicator

    Returns
    -------
    DataFrame
        ``community_id, date, sex, status, num`` (+ ``den``, ``unit`` when used).
    """
    (ind,) = _resolve(indicator)
    return ind.facts(FactContext(data))


# =========================================================================== span and grids


@dataclass(frozen=True)
class _PeriodGrid:
    period: str | None
    start_day: int
    end_day: int
    start_abs: int
    labels: np.ndarray

    @property
    def n(self) -> int:
        return len(self.labels)


_DIVISOR = {"year": 12, "quarter": 3, "month": 1}


def _period_grid(span: tuple[pd.Timestamp, pd.Timestamp], period: str | None) -> _PeriodGrid:
    start, end = (np.datetime64(s.date(), "D") for s in span)
    sd, ed = int(start.astype(np.int64)), int(end.astype(np.int64))
    if period is None:
        return _PeriodGrid(None, sd, ed, 0, np.array(["all"], dtype=object))
    div = _DIVISOR[period]
    m0 = int(start.astype("datetime64[M]").astype(np.int64)) // div
    m1 = int(end.astype("datetime64[M]").astype(np.int64)) // div
    idx = np.arange(m0, m1 + 1)
    months = idx * div
    years = 1970 + months // 12
    if period == "year":
        labels = [str(y) for y in years]
    elif period == "quarter":
        labels = [f"{y}-Q{(m % 12) // 3 + 1}" for y, m in zip(years, months)]
    else:
        labels = [f"{y}-{m % 12 + 1:02d}" for y, m in zip(years, months)]
    return _PeriodGrid(period, sd, ed, m0, np.array(labels, dtype=object))


@dataclass(frozen=True)
class _FactArrays:
    """A facts frame as aligned numpy arrays."""

    comm: np.ndarray
    day: np.ndarray
    month: np.ndarray
    sex: np.ndarray
    status: np.ndarray
    num: np.ndarray
    den: np.ndarray | None
    unit: np.ndarray | None


def _day_month(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days and months since 1970 of ``datetime64[ms]`` dates (``_NAT`` where missing).

    Integer arithmetic and a small day -> month table: much faster than numpy's calendar
    conversions on millions of dates.
    """
    ms = dates.view(np.int64)
    nat = ms == _NAT
    day = ms // 86_400_000
    day[nat] = _NAT
    month = np.full(len(day), _NAT, dtype=np.int64)
    ok = ~nat
    if ok.any():
        d = day[ok]
        lo, hi = int(d.min()), int(d.max())
        table = np.arange(lo, hi + 1).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        month[ok] = table[d - lo]
    return day, month


def _codes(col: pd.Series, categories: Sequence[str] | pd.Index) -> np.ndarray:
    if isinstance(col.dtype, pd.CategoricalDtype) and list(col.cat.categories) == list(categories):
        return col.cat.codes.to_numpy().astype(np.int64)
    return _lookup(col.astype("string"), _arrow_strings(pd.Series(list(categories), dtype="string")))


def _fact_arrays(df: pd.DataFrame, ctx: FactContext) -> _FactArrays:
    col = df["community_id"]
    if isinstance(col.dtype, pd.CategoricalDtype) and col.cat.categories is ctx.community_ids:
        comm = col.cat.codes.to_numpy().astype(np.int64)
    else:
        comm = ctx.community_codes(col.astype("string"))
    day, month = _day_month(_dates(df["date"]))
    n = len(df)
    sex = _codes(df["sex"], SEX_KEYS) if "sex" in df else np.full(n, -1, dtype=np.int64)
    status = _codes(df["status"], STATUS_KEYS) if "status" in df else np.full(n, -1, dtype=np.int64)
    unit = None
    if "unit" in df:
        u = df["unit"]
        unit = (u.cat.codes.to_numpy().astype(np.int64) if isinstance(u.dtype, pd.CategoricalDtype)
                else pd.factorize(u)[0].astype(np.int64))
    return _FactArrays(comm, day, month, sex.astype(np.int64), status.astype(np.int64),
                       _floats(df["num"]), _floats(df["den"]) if "den" in df else None, unit)


# =========================================================================== aggregation
def _group_median(key: np.ndarray, values: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Median of ``values`` per ``key`` (NaN where a key has none) and counts per key.

    Values are grouped by key with a stable radix sort (16-bit keys) or a merge sort, and
    each group's median found by partial sorting, so the cost stays close to linear.
    """
    counts = np.bincount(key, minlength=n_keys)
    med = np.full(n_keys, np.nan)
    if not len(key):
        return med, counts
    nonempty = np.flatnonzero(counts)
    if len(nonempty) > 50_000:  # many small groups: one vectorised lexsort is cheaper than a loop
        order = np.lexsort((values, key))
        v = values[order]
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[nonempty]
        c = counts[nonempty]
        med[nonempty] = (v[starts + (c - 1) // 2] + v[starts + c // 2]) / 2
        return med, counts
    k = key.astype(np.int16) if n_keys < 2**15 else key
    v = values[np.argsort(k, kind="stable")]
    ends = np.cumsum(counts)
    for g in nonempty:
        med[g] = np.median(v[ends[g] - counts[g]:ends[g]])
    return med, counts


def _unit_sums(unit: np.ndarray, p: np.ndarray, n_periods: int, rows: np.ndarray,
               num: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum facts per (unit, period): (one fact row of each pair, its period, the sum).

    A unit (e.g. a business) has one community, sex and status, so any of its facts
    carries its region and category. Processed tables are sorted by their key
    (business, month), so pairs usually come in runs and one pass suffices; otherwise
    they are sorted first.
    """
    pair = unit * n_periods + p
    if len(pair) > 1 and not (pair[1:] >= pair[:-1]).all():
        order = np.argsort(pair, kind="stable")
        pair, p, rows, num = pair[order], p[order], rows[order], num[order]
    if not len(pair):
        return rows, p, num
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    return rows[starts], p[starts], np.add.reduceat(num, starts)


@dataclass
class _Sums:
    """Additive sums of one facts frame for one (level, period, disaggregation) cut."""

    num: np.ndarray          # per dense key
    den: np.ndarray          # per dense key (distinct units when facts carry a unit)
    pair_key: np.ndarray     # key of each unit (or fact), for medians and t intervals
    unit_vals: np.ndarray    # value of each unit (or fact)
    labels: list[str]
    has_unknown: bool
    shape: tuple[int, int, int]


class _Engine:
    """Facts built once per data; any (level, period, by) cut aggregated from them.

    Caches, all shared by the indicators of a call: facts per facts function; each
    facts frame's region and period codes per (level, period); and its sums per cut,
    so e.g. the four business-volume indicators sum the 9 million monthly reports once.
    """

    def __init__(self, data: ProgramData, span: tuple[Any, Any] | None = None) -> None:
        self.data = data
        self.ctx = FactContext(data)
        self.span = (tuple(pd.Timestamp(s).normalize() for s in span) if span is not None
                     else data_span(data))
        if self.span[1] < self.span[0]:
            raise ValueError(f"span ends before it starts: {self.span}")
        self._facts: dict[Any, _FactArrays] = {}
        self._regions: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._placed: dict[Any, tuple[Any, ...]] = {}
        self._sums: dict[Any, _Sums] = {}

    def clear_cut_caches(self) -> None:
        """Forget per-period arrays (after each period in :func:`indicator_table`)."""
        self._placed.clear()
        self._sums.clear()

    def facts(self, ind: Indicator) -> _FactArrays:
        key = ind.facts  # indicators sharing a facts function share the facts
        if key not in self._facts:
            self._facts[key] = _fact_arrays(ind.facts(self.ctx), self.ctx)
        return self._facts[key]

    def regions(self, level: str) -> tuple[np.ndarray, np.ndarray]:
        """Community -> region index at ``level`` (-1: no code), and the region codes."""
        if level not in self._regions:
            col = REGION_LEVELS[level]
            n = len(self.ctx.community_ids)
            if col is None:
                self._regions[level] = (np.zeros(n, dtype=np.int64), np.array([NATIONAL_CODE], dtype=object))
            else:
                values = self.data.communities[col].astype("string")
                codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
                self._regions[level] = (codes.astype(np.int64), np.asarray(uniques, dtype=object))
        return self._regions[level]

    def timed(self, ind: Indicator, grid: _PeriodGrid) -> tuple[np.ndarray | None, np.ndarray]:
        """(facts used, or None for all; their period index) on a period grid.

        Flow facts outside the span are dropped; stock facts before it count in the first
        period (the opening stock), after it are dropped. Facts of unknown communities or
        without a date are dropped.
        """
        ck = ("timed", ind.facts, grid.period, ind.stock)
        if ck not in self._placed:
            F = self.facts(ind)
            valid = (F.comm >= 0) & (F.day != _NAT) & (F.day <= grid.end_day)
            if not ind.stock:
                valid &= F.day >= grid.start_day
            sel = None if valid.all() else np.flatnonzero(valid)
            if grid.period is None:
                p = np.zeros(len(F.day) if sel is None else len(sel), dtype=np.int64)
            else:
                p = (F.month if sel is None else F.month[sel]) // _DIVISOR[grid.period] - grid.start_abs
                if ind.stock:
                    np.maximum(p, 0, out=p)
            self._placed[ck] = (sel, p)
        return self._placed[ck]

    def units(self, ind: Indicator, grid: _PeriodGrid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-unit sums for a period grid: (a fact of each (unit, period), period, sum).

        Independent of the region level and disaggregation, which are attributes of the
        unit: so the 9 million monthly reports are summed once per period grid.
        """
        ck = ("units", ind.facts, grid.period, ind.stock)
        if ck not in self._placed:
            F = self.facts(ind)
            sel, p = self.timed(ind, grid)
            rows = np.arange(len(F.unit)) if sel is None else sel
            self._placed[ck] = _unit_sums(F.unit[rows], p, grid.n, rows, F.num[rows])
        return self._placed[ck]

    def sums(self, ind: Indicator, level: str, grid: _PeriodGrid, by: str | None) -> _Sums:
        """Additive sums of an indicator's facts for one cut (shared by indicators with the same facts)."""
        ck = (ind.facts, level, grid.period, ind.stock, by)
        if ck in self._sums:
            return self._sums[ck]
        F = self.facts(ind)
        of_comm, region_codes = self.regions(level)
        R, P = len(region_codes), grid.n
        if F.unit is not None:
            rows, p, vals = self.units(ind, grid)
        else:
            rows, p = self.timed(ind, grid)
            vals = F.num if rows is None else F.num[rows]

        def at(a: np.ndarray) -> np.ndarray:
            return a if rows is None else a[rows]

        r = of_comm[at(F.comm)]
        inside = r >= 0  # communities without a code at this level are left out here
        if not inside.all():
            rows = np.flatnonzero(inside) if rows is None else rows[inside]
            r, p, vals = r[inside], p[inside], vals[inside]
        if by is None:
            c, labels, has_unknown = 0, ["all"], False
        else:
            keys = _DISAGG_KEYS[by]
            raw = at(F.sex if by == "sex" else F.status)
            c = np.where(raw >= 0, raw, len(keys))
            labels = [f"{by}={k}" for k in keys] + [f"{by}=unknown"]
            has_unknown = bool((raw < 0).any())
        C = len(labels)
        n = R * P * C
        key = (r * P + p) * C + c
        num = np.bincount(key, weights=vals, minlength=n)
        if F.unit is None and F.den is not None:
            den = np.bincount(key, weights=at(F.den), minlength=n)
        else:  # counted facts, or distinct units
            den = np.bincount(key, minlength=n).astype(float)
        if ind.stock:
            num = np.cumsum(num.reshape(R, P, C), axis=1).ravel()
            den = np.cumsum(den.reshape(R, P, C), axis=1).ravel()
        out = _Sums(num, den, key, vals, labels, has_unknown, (R, P, C))
        self._sums[ck] = out
        return out

    # ------------------------------------------------------------------ one indicator
    def aggregate(self, ind: Indicator, level: str, grid: _PeriodGrid, by_list: Sequence[str | None],
                  complete: bool) -> list[dict[str, np.ndarray]]:
        region_codes = self.regions(level)[1]
        wanted = [b for b in by_list if b is None or b in ind.disaggregations] or [None]
        pieces = []
        for by in dict.fromkeys(wanted):
            S = self.sums(ind, level, grid, by)
            R, P, C = S.shape
            out = _values(ind, S, complete)
            keep = out.pop("keep")
            if by is not None and not S.has_unknown:  # no 'unknown' facts: no 'unknown' rows
                keep &= np.tile(np.arange(C) != C - 1, len(keep) // C)
            idx = np.flatnonzero(keep)
            P_out = P - 1 if ind.kind == "growth" else P  # growth: periods 1..P-1
            ri, rest = np.divmod(idx, P_out * C)
            pi, ci = np.divmod(rest, C)
            pi += P - P_out
            pieces.append({"indicator_id": ind.id, "level": level, "region_code": region_codes[ri],
                           "period": grid.labels[pi], "disaggregation": np.asarray(S.labels, dtype=object)[ci],
                           **{k: v[idx] for k, v in out.items()}})
        return pieces


def _values(ind: Indicator, S: _Sums, complete: bool) -> dict[str, np.ndarray]:
    """value, numerator, denominator, ci_low, ci_high and the rows to keep, per dense key."""
    R, P, C = S.shape
    num, den = S.num, S.den
    n = len(num)
    nan = np.full(n, np.nan)
    kind = ind.kind
    if kind == "count":
        keep = np.ones(n, bool) if complete else num != 0
        return {"value": num, "numerator": num, "denominator": nan, "ci_low": nan, "ci_high": nan, "keep": keep}
    if kind == "total":
        keep = np.ones(n, bool) if complete else (num != 0) | (den > 0)
        return {"value": num, "numerator": num, "denominator": den, "ci_low": nan, "ci_high": nan, "keep": keep}
    if kind == "growth":
        v = num.reshape(R, P, C)
        prev, cur = v[:, :-1, :].ravel(), v[:, 1:, :].ravel()
        keep = prev > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(keep, (cur - prev) / prev, np.nan)
        m = np.full(prev.size, np.nan)
        return {"value": value, "numerator": cur - prev, "denominator": prev, "ci_low": m, "ci_high": m,
                "keep": keep}
    if kind == "median":
        med, counts = _group_median(S.pair_key, S.unit_vals, n)
        return {"value": med, "numerator": nan, "denominator": counts.astype(float), "ci_low": nan,
                "ci_high": nan, "keep": counts > 0}
    keep = den > 0
    value, lo, hi = nan.copy(), nan.copy(), nan.copy()
    value[keep] = num[keep] / den[keep]
    if kind == "proportion":
        lo[keep], hi[keep] = wilson_interval(num[keep], den[keep])
    elif kind == "mean":
        sumsq = np.bincount(S.pair_key, weights=S.unit_vals**2, minlength=n)
        lo[keep], hi[keep] = t_interval(value[keep], sumsq[keep], den[keep])
    return {"value": value, "numerator": num, "denominator": den, "ci_low": lo, "ci_high": hi, "keep": keep}


def _check_by(by: str | None | Sequence[str | None]) -> list[str | None]:
    by_list = [by] if by is None or isinstance(by, str) else list(by)
    bad = [b for b in by_list if b is not None and b not in DISAGGREGATIONS]
    if bad or not by_list:
        raise ValueError(f"by must be None, one of {DISAGGREGATIONS}, or a sequence of those; got {by!r}")
    return by_list


def _check_level(level: str) -> None:
    if level not in REGION_LEVELS:
        raise ValueError(f"level must be one of {list(REGION_LEVELS)}, not {level!r}")


def _check_period(period: str | None) -> None:
    if period is not None and period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS} or None, not {period!r}")


def _frame(pieces: list[dict[str, Any]], engine: _Engine) -> pd.DataFrame:
    lengths = [len(p["value"]) for p in pieces]
    total = sum(lengths)

    def text(name: str) -> pd.Series:
        parts = [np.broadcast_to(np.asarray(p[name], dtype=object), (n,)) for p, n in zip(pieces, lengths)]
        values = np.concatenate(parts) if parts else np.array([], dtype=object)
        codes, uniques = pd.factorize(values)
        return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype="string")),
                         dtype="category").astype("string")

    def number(name: str) -> pd.arrays.FloatingArray:
        values = np.concatenate([p[name] for p in pieces]) if pieces else np.array([], dtype=float)
        return pd.array(values.astype(np.float64, copy=False), dtype="Float64")

    df = pd.DataFrame({
        **{c: text(c) for c in ("indicator_id", "level", "region_code", "period", "disaggregation")},
        **{c: number(c) for c in ("value", "numerator", "denominator", "ci_low", "ci_high")},
        "suppressed": np.zeros(total, dtype=bool),
    })
    df.attrs.update({"synthetic": engine.data.synthetic, "data_version": engine.data.data_version,
                     "span": (str(engine.span[0].date()), str(engine.span[1].date()))})
    return df


def _compute(engine: _Engine, inds: list[Indicator], levels: Sequence[str], periods: Sequence[str | None],
             by_list: list[str | None], complete: bool) -> pd.DataFrame:
    pieces = []
    for period in periods:  # per-period caches are shared by all levels, then dropped
        grid = _period_grid(engine.span, period)
        for level in levels:
            for ind in inds:
                pieces.extend(engine.aggregate(ind, level, grid, by_list, complete))
            engine._sums.clear()
        engine.clear_cut_caches()
    return _frame(pieces, engine)


# =========================================================================== public API
def compute_indicators(data: ProgramData, indicators: str | Indicator | Iterable[str | Indicator] | None = None,
                       *, level: str = "province", period: str | None = "year",
                       by: str | None | Sequence[str | None] = None, span: tuple[Any, Any] | None = None,
                       complete: bool = True) -> pd.DataFrame:
    """Compute indicators by region level x period x disaggregation, in one call.

    Parameters
    ----------
    data : ProgramData
    indicators : str, Indicator or list of them, optional
        Indicator ids (see :func:`list_indicators`); default all of :data:`REGISTRY`.
    level : {'national', 'province', 'regency', 'district', 'village', 'community'}
        Region level of the rows. National rows have region code ``'ID'``.
    period : {'year', 'quarter', 'month'} or None
        Reporting period; None: the whole span as one period labelled ``'all'``.
    by : None, 'sex', 'status' or a sequence of those
        Disaggregation. ``None`` gives ``'all'`` rows; ``'sex'`` gives ``'sex=L'``,
        ``'sex=P'`` (and ``'sex=unknown'`` if any fact lacks it). Indicators that do not
        allow a requested disaggregation give ``'all'`` rows instead (once).
    span : (date, date), optional
        First and last day of the period grid (default :func:`data_span`).
    complete : bool, default True
        For count and total indicators, also return zero cells for every region of the
        level x period x category (regions: those of the data's communities). False
        keeps only cells with a non-zero value or contributing units, which is much
        smaller at fine levels by month. Ratios, means and medians never get rows without
        a denominator.

    Returns
    -------
    DataFrame
        Columns :data:`RESULT_COLUMNS`; ordered by indicator (registry order),
        disaggregation, region, period. ``attrs`` holds ``synthetic``, ``data_version``
        and ``span``. ``suppressed`` is False: this is the analysis view; publish only
        through :func:`kkbm_analysis.suppression.suppress`.

    Examples
    --------
    >>> compute_indicators(data, ["members", "kur_uptake"], level="national", period=None, by="sex")
    ... # doctest: +SKIP
    """
    _check_level(level)
    _check_period(period)
    by_list = _check_by(by)
    inds = _resolve(indicators)
    return _compute(_Engine(data, span), inds, [level], [period], by_list, complete)


def indicator_table(data: ProgramData, *, levels: Sequence[str] = ("national", "province"),
                    periods: Sequence[str | None] = ("year",), by: Sequence[str | None] = (None, "sex", "status"),
                    indicators: str | Indicator | Iterable[str | Indicator] | None = None,
                    span: tuple[Any, Any] | None = None, complete: bool = True) -> pd.DataFrame:
    """The full long indicator table (every level x period x disaggregation asked for).

    This is the unsuppressed table the main job writes, after
    :func:`kkbm_analysis.suppression.suppress`, to ``data/processed/indicators.parquet``
    with :func:`~.published.publish`. Facts are built once and shared by all cuts.

    Parameters
    ----------
    data : ProgramData
    levels : sequence of str
        Region levels (see :func:`compute_indicators`).
    periods : sequence of {'year', 'quarter', 'month', None}
    by : sequence of {None, 'sex', 'status'}
        Include None to get the ``'all'`` rows the disaggregations add up to.
    indicators, span, complete
        As in :func:`compute_indicators`.

    Returns
    -------
    DataFrame
        Columns :data:`RESULT_COLUMNS`, no duplicate (indicator, level, region, period,
        disaggregation).
    """
    for level in levels:
        _check_level(level)
    for period in periods:
        _check_period(period)
    by_list = _check_by(list(by))
    return _compute(_Engine(data, span), _resolve(indicators), list(levels), list(periods), by_list, complete)
