"""The aggregation engine: every level x period x disaggregation cut of the indicators, in DuckDB.

:func:`compute_indicators` and :func:`indicator_table` (the public entry points) open a
:class:`~.source.Source` over the data (in memory or a processed folder) and run one SQL
query per **family** of indicators (:mod:`.family`: facts from the same base relation and
date, stock or flow) for every level x period grid x disaggregation asked for; per-unit sums
(business volumes) are made once at the finest grid and rolled up to the others (then one
query per grid). numpy then finishes the cells: stocks as cumulative sums over the grid,
growth, the 95 % intervals (:mod:`kkbm_analysis.intervals`), and the zero cells of complete
tables.

Results do not depend on DuckDB's threads: sums of integral values (counts, rupiah, days)
are exact integer sums (``HUGEINT``), whatever the order rows arrive in; data with
fractional or very large values are summed on one thread, in a fixed order. A mean's sum
of squares adds its units in unit order (an ordered aggregate), as the numpy engine before
it did, so that the intervals stay the same to the last bit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import duckdb
import numpy as np
import pandas as pd

from ..data import PERIODS, REGION_LEVELS
from ..intervals import t_interval, wilson_interval
from .facts import _DISAGG_KEYS, Data, Facts, data_span
from .family import FINENESS, Cut, Family, PeriodGrid, coarser, period_grid, unit_sums
from .registry import DISAGGREGATIONS, Indicator, _resolve
from .source import Source

__all__ = ["RESULT_COLUMNS", "compute_indicators", "indicator_table", "indicator_facts"]

#: Columns of every result of :func:`compute_indicators`, in order.
RESULT_COLUMNS: tuple[str, ...] = ("indicator_id", "level", "region_code", "period", "disaggregation",
                                   "value", "numerator", "denominator", "ci_low", "ci_high", "suppressed")

# =========================================================================== facts, for inspection
def indicator_facts(data: Data, indicator: str | Indicator) -> pd.DataFrame:
    """The facts frame of one indicator (see :func:`~.facts.facts_frame`), for inspection.

    Parameters
    ----------
    data : ProgramData, str or Path
        Tables in memory or a processed folder.
    indicator : str or Indicator
    """
    (ind,) = _resolve(indicator)
    return ind.facts(data)


# =========================================================================== one family's sums
@dataclass
class _Sums:
    """The sums of one indicator's facts for one (level, period, disaggregation) cut, per dense key."""

    num: np.ndarray
    den: np.ndarray
    count: np.ndarray        # facts (or units) per key
    sumsq: np.ndarray        # sum of squared values (means)
    median: np.ndarray       # median value (medians)
    labels: list[str]
    has_unknown: bool
    shape: tuple[int, int, int]



class _Engine:
    """One data source, its span and regions; every requested cut aggregated family by family."""

    def __init__(self, data: Data, span: tuple[Any, Any] | None, levels: list[str]) -> None:
        self.source = Source(data)
        self.levels = levels
        self.span = (tuple(pd.Timestamp(s).normalize() for s in span) if span is not None
                     else data_span(self.source))
        if self.span[1] < self.span[0]:
            raise ValueError(f"span ends before it starts: {self.span}")
        self.region_codes = self.source.regions(levels)

    def close(self) -> None:
        self.source.close()

    def query(self, family: Family, grids: list[PeriodGrid], cuts: list[Cut],
              units: str | None = None) -> dict[str, np.ndarray]:
        """The family's aggregates as float arrays (NaN for NULL): exact integer sums, or (for
        fractional or huge values) DOUBLE sums on one thread."""
        con = self.source.con
        per_unit = True if units else family.per_unit(grids[0]) if len(grids) == 1 else False

        def run(exact: bool, by_unit: bool) -> dict[str, np.ndarray]:
            return _arrays(self.source.sql(family.sql(grids, cuts, self.levels, exact, by_unit,
                                                      units if exact else None)))

        try:
            out = run(True, bool(per_unit))
            if per_unit is None and not (out["_first_days"] != 0).all():
                per_unit = True
                out = run(True, True)
            if (out["_exact"] != 0).all():
                return out
        except duckdb.OutOfRangeException:
            pass
        threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
        con.execute("SET threads = 1")
        try:
            return run(False, per_unit is not False)
        finally:
            con.execute(f"SET threads = {threads}")

    def sums(self, result: dict[str, np.ndarray], family: Family, cuts: list[Cut], ind: Indicator,
             cut: Cut, grid: PeriodGrid) -> _Sums:
        """One indicator's sums for one cut, as dense arrays over region x period x category."""
        level, by, _ = cut
        j = family.measures.index(ind.facts)
        region = result["r"]
        rows = np.flatnonzero((result["_cut"] == cuts.index(cut)) & ~np.isnan(region) & (result[f"cnt{j}"] > 0))
        R, P = len(self.region_codes[level]), grid.n
        if by is None:
            c, labels, has_unknown = np.zeros(len(rows), dtype=np.int64), ["all"], False
        else:
            keys = _DISAGG_KEYS[by]
            c = result["c"][rows].astype(np.int64)
            labels = [f"{by}={k}" for k in keys] + [f"{by}=unknown"]
            has_unknown = bool((c == len(keys)).any())
        C = len(labels)
        key = (region[rows].astype(np.int64) * P + result["p"][rows].astype(np.int64)) * C + c
        n = R * P * C

        def dense(column: str, fill: float = 0.0) -> np.ndarray:
            out = np.full(n, fill)
            if column in result:
                out[key] = result[column][rows]
            return out

        count = dense(f"cnt{j}")
        num, den = dense(f"num{j}"), dense(f"den{j}") if ind.facts.den is not None else count.copy()
        if ind.stock:
            num = np.cumsum(num.reshape(R, P, C), axis=1).ravel()
            den = np.cumsum(den.reshape(R, P, C), axis=1).ravel()
        return _Sums(num, den, count, dense(f"sq{j}"), dense(f"med{j}", np.nan), labels, has_unknown, (R, P, C))

    def aggregate(self, inds: list[Indicator], grids: list[PeriodGrid], by_list: Sequence[str | None],
                  complete: bool) -> dict[tuple[int, str, str], list[dict[str, np.ndarray]]]:
        """Every indicator x level x period cut: pieces of the result, by (grid index, indicator, level).

        A family is one query for every grid, or one per grid when its facts are summed per unit
        (the unit sums depend on the period).
        """
        for ind in inds:
            if not isinstance(ind.facts, Facts):
                ind.facts(self.source)  # computed elsewhere: its facts function says where
                raise ValueError(f"{ind.id}: the engine aggregates indicators whose facts are SQL (Facts)")
        wanted = {ind.id: list(dict.fromkeys(b for b in by_list if b is None or b in ind.disaggregations)) or [None]
                  for ind in inds}
        families: dict[Any, list[Indicator]] = {}
        for ind in inds:
            f = ind.facts
            families.setdefault((f.base, f.date, ind.stock, f.unit, f if f.unit else None), []).append(ind)
        pieces: dict[tuple[int, str, str], list[dict[str, np.ndarray]]] = {}
        for members in families.values():
            family = Family(members)
            bys = list(dict.fromkeys(b for i in members for b in wanted[i.id]))
            together = all(family.per_unit(g) is False for g in grids)
            rolled = {} if together else self.rolled_units(family, grids, [(lv, b, 0) for lv in self.levels for b in bys])
            for ks in ([list(range(len(grids)))] if together else [[k] for k in range(len(grids))]):
                cuts = [(lv, b, i) for i in range(len(ks)) for lv in self.levels for b in bys]
                result = self.query(family, [grids[k] for k in ks], cuts, rolled.get(ks[0]))
                for i, k in enumerate(ks):
                    for level in self.levels:
                        for ind in members:
                            for by in wanted[ind.id]:
                                S = self.sums(result, family, cuts, ind, (level, by, i), grids[k])
                                pieces.setdefault((k, ind.id, level), []).append(
                                    self.piece(ind, level, grids[k], by, S, complete))
        return pieces

    def rolled_units(self, family: Family, grids: list[PeriodGrid], cuts: list[Cut]) -> dict[int, str]:
        """Unit sums of every grid rolled up from those of the finest (a temp table), when there
        are several grids and the sums are exact; SQL of each grid's units by grid index."""
        if len(grids) < 2:
            return {}
        order = sorted(range(len(grids)), key=lambda k: FINENESS[grids[k].period])
        finest = grids[order[0]]
        try:
            self.source.sql(f"CREATE OR REPLACE TEMP TABLE _units AS {family.units(finest, cuts, self.levels, True)}")
            if not self.source.sql("SELECT coalesce(bool_and(_exact), true) AS ok FROM _units")["ok"].all():
                return {}
        except duckdb.OutOfRangeException:
            return {}
        out = {order[0]: "SELECT * FROM _units"}
        for k in order[1:]:
            pairs = ", ".join(f"({p}, {q})" for p, q in enumerate(coarser(finest, grids[k])))
            out[k] = unit_sums(f"SELECT * EXCLUDE (p0), m.q FROM _units JOIN (VALUES {pairs}) m(p, q) ON m.p = _units.p0",
                               self.levels, "q", "SUM(n0)")
        return out

    def piece(self, ind: Indicator, level: str, grid: PeriodGrid, by: str | None, S: _Sums,
              complete: bool) -> dict[str, np.ndarray]:
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
        return {"indicator_id": ind.id, "level": level, "region_code": self.region_codes[level][ri],
                "period": grid.labels[pi], "disaggregation": np.asarray(S.labels, dtype=object)[ci],
                **{k: v[idx] for k, v in out.items()}}


def _arrays(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """A query result's columns as float arrays (NaN for NULL)."""
    return {c: frame[c].to_numpy(dtype=float, na_value=np.nan) for c in frame.columns}


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
        return {"value": S.median, "numerator": nan, "denominator": S.count, "ci_low": nan,
                "ci_high": nan, "keep": S.count > 0}
    keep = den > 0
    value, lo, hi = nan.copy(), nan.copy(), nan.copy()
    value[keep] = num[keep] / den[keep]
    if kind == "proportion":
        lo[keep], hi[keep] = wilson_interval(num[keep], den[keep])
    elif kind == "mean":
        lo[keep], hi[keep] = t_interval(value[keep], S.sumsq[keep], den[keep])
    return {"value": value, "numerator": num, "denominator": den, "ci_low": lo, "ci_high": hi, "keep": keep}


# =========================================================================== checks and the result frame
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
    df.attrs.update({"synthetic": engine.source.synthetic, "data_version": engine.source.data_version,
                     "span": (str(engine.span[0].date()), str(engine.span[1].date()))})
    return df


def _compute(data: Data, inds: list[Indicator], levels: list[str], periods: Sequence[str | None],
             by_list: list[str | None], span: tuple[Any, Any] | None, complete: bool) -> pd.DataFrame:
    engine = _Engine(data, span, levels)
    try:
        grids = [period_grid(engine.span, period) for period in periods]
        cut = engine.aggregate(inds, grids, by_list, complete)
        pieces = [p for k in range(len(grids)) for level in levels for ind in inds for p in cut.get((k, ind.id, level), [])]
        return _frame(pieces, engine)
    finally:
        engine.close()


# =========================================================================== public API
def compute_indicators(data: Data, indicators: str | Indicator | Iterable[str | Indicator] | None = None,
                       *, level: str = "province", period: str | None = "year",
                       by: str | None | Sequence[str | None] = None, span: tuple[Any, Any] | None = None,
                       complete: bool = True) -> pd.DataFrame:
    """Compute indicators by region level x period x disaggregation, in one call.

    Parameters
    ----------
    data : ProgramData, str or Path
        Tables in memory, or a processed folder (its Parquet files are read directly, only
        the columns the indicators use).
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
    return _compute(data, _resolve(indicators), [level], [period], by_list, span, complete)


def indicator_table(data: Data, *, levels: Sequence[str] = ("national", "province"),
                    periods: Sequence[str | None] = ("year",), by: Sequence[str | None] = (None, "sex", "status"),
                    indicators: str | Indicator | Iterable[str | Indicator] | None = None,
                    span: tuple[Any, Any] | None = None, complete: bool = True) -> pd.DataFrame:
    """The full long indicator table (every level x period x disaggregation asked for).

    This is the unsuppressed table the main job writes, after
    :func:`kkbm_analysis.suppression.suppress`, to ``data/processed/indicators.parquet``
    with :func:`~.published.publish`. Each family of indicators is one query per period
    for every level and disaggregation.

    Parameters
    ----------
    data : ProgramData, str or Path
        Tables in memory or a processed folder.
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
    return _compute(data, _resolve(indicators), list(dict.fromkeys(levels)), list(periods), by_list, span, complete)
