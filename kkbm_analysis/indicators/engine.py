"""The aggregation engine: every level x period x disaggregation cut of the indicators, in DuckDB.

:func:`compute_indicators` and :func:`indicator_table` (the public entry points) open a
:class:`~.source.Source` over the data (in memory or a processed folder) and run one SQL
query per **family** of indicators (those whose facts come from the same base relation and
date, stock or flow): the facts are filtered and placed on every period grid asked for,
summed first per unit where the indicator has units (then one query per grid), crossed
with the cuts (level x period grid x disaggregation) and grouped once by cut, region,
period and category. Each indicator of the family adds its own ``FILTER``-ed aggregates. numpy then finishes the cells: stocks as cumulative
sums over the grid, growth, the 95 % intervals (:mod:`kkbm_analysis.intervals`), and the
zero cells of complete tables.

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
from .facts import _DISAGG_KEYS, BASES, SEX_KEYS, STATUS_KEYS, Data, Facts, data_span
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


# =========================================================================== span and grids
@dataclass(frozen=True)
class _PeriodGrid:
    period: str | None
    start: pd.Timestamp
    end: pd.Timestamp
    start_abs: int
    labels: np.ndarray

    @property
    def n(self) -> int:
        return len(self.labels)

    def sql(self, day: str, stock: bool) -> tuple[str, str]:
        """SQL (the period index of ``day``, the rows kept): flows inside the span; stocks up to
        its end, those before it in the first period (the opening stock)."""
        start, end = (f"DATE '{d.date()}'" for d in (self.start, self.end))
        keep = f"{day} <= {end}" if stock else f"{day} BETWEEN {start} AND {end}"
        if self.period is None:
            return "0", keep
        index = f"((year({day}) - 1970) * 12 + month({day}) - 1) // {_DIVISOR[self.period]} - {self.start_abs}"
        return (f"greatest({index}, 0)" if stock else index), keep


_DIVISOR = {"year": 12, "quarter": 3, "month": 1}
_FINENESS = {"month": 0, "quarter": 1, "year": 2, None: 3}


def _coarser(fine: _PeriodGrid, coarse: _PeriodGrid) -> list[int]:
    """The period of ``coarse`` holding each period of ``fine`` (grids over one span)."""
    if coarse.period is None:
        return [0] * fine.n
    months = [(fine.start_abs + p) * _DIVISOR[fine.period] for p in range(fine.n)]
    return [m // _DIVISOR[coarse.period] - coarse.start_abs for m in months]


def _period_grid(span: tuple[pd.Timestamp, pd.Timestamp], period: str | None) -> _PeriodGrid:
    if period is None:
        return _PeriodGrid(None, span[0], span[1], 0, np.array(["all"], dtype=object))
    start, end = (np.datetime64(s.date(), "D") for s in span)
    div = _DIVISOR[period]
    m0 = int(start.astype("datetime64[M]").astype(np.int64)) // div
    m1 = int(end.astype("datetime64[M]").astype(np.int64)) // div
    months = np.arange(m0, m1 + 1) * div
    years = 1970 + months // 12
    if period == "year":
        labels = [str(y) for y in years]
    elif period == "quarter":
        labels = [f"{y}-Q{(m % 12) // 3 + 1}" for y, m in zip(years, months)]
    else:
        labels = [f"{y}-{m % 12 + 1:02d}" for y, m in zip(years, months)]
    return _PeriodGrid(period, span[0], span[1], m0, np.array(labels, dtype=object))


# =========================================================================== one family, one query
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


_EXACT_LIMIT = 2**53  # integral values below this sum exactly as HUGEINT and convert back exactly


#: One cut of a query: (level, disaggregation, index of the period grid).
Cut = tuple[str, "str | None", int]


class _Family:
    """Indicators whose facts share a base relation, a date and stock-ness: one query for many cuts.

    Each distinct :class:`Facts` of the family is a **measure** with its own filtered
    aggregates; a family with units holds exactly one measure (facts are summed per unit and
    period first). Means and medians are over units; a mean's sum of squares adds the units
    in their order (one fixed order, so the interval does not depend on threads).
    """

    def __init__(self, inds: list[Indicator]) -> None:
        self.inds = inds
        self.measures: list[Facts] = list(dict.fromkeys(i.facts for i in inds))
        first = self.measures[0]
        self.base, self.date, self.unit, self.stock = first.base, first.date, first.unit, inds[0].stock
        for i in inds:
            if i.kind == "mean" and i.facts.unit is None:
                raise ValueError(f"{i.id}: a mean is over units: its Facts must name a unit")

    def per_unit(self, grid: _PeriodGrid) -> bool | None:
        """Whether facts must be summed per unit and period first: False when the grain makes it
        change nothing, None when that holds only if every fact is dated on a month's first day."""
        if self.unit is None or self.measures[0].grain == "fact":
            return False
        if self.measures[0].grain == "month" and grid.period == "month":
            return None
        return True

    def _facts(self, grids: list[_PeriodGrid], cuts: list[Cut], levels: list[str]) -> str:
        """SQL: the family's facts, with region, category, period index on each grid (``p<k>``) and
        each measure's flag (``w``), numerator (``n``) and denominator (``d``)."""
        keep = grids[0].sql("_day", self.stock)[1]  # the grids share the span
        rows = [f"r_{lv}" for lv in levels] + [f"coalesce(sex, {len(SEX_KEYS)}) AS c_sex",
                                               f"coalesce(status, {len(STATUS_KEYS)}) AS c_status"]
        rows += [f"{g.sql('_day', self.stock)[0]} AS p{k}" for k, g in enumerate(grids)]
        integral = []
        for j, m in enumerate(self.measures):
            rows += [f"coalesce({m.where or 'true'}, false) AS w{j}", f"CAST({m.num} AS DOUBLE) AS n{j}"]
            values = [f"n{j}"]
            if m.den is not None:
                rows.append(f"CAST({m.den} AS DOUBLE) AS d{j}")
                values.append(f"d{j}")
            integral += [f"coalesce(NOT w{j} OR ({v} = trunc({v}) AND abs({v}) < {_EXACT_LIMIT}), true)"
                         for v in values]
        rows.append(f"{' AND '.join(integral)} AS _exact")
        if self.unit is not None:
            rows += [f"{self.unit} AS _unit", "day(_day) = 1 AS _first_day"]
        attributes = any(b is not None for _, b, _ in cuts)
        return (f"SELECT {', '.join(rows)} FROM (SELECT *, CAST({self.date} AS DATE) AS _day "
                f"FROM ({BASES[self.base](attributes)})) WHERE {keep}")

    def units(self, grid: _PeriodGrid, cuts: list[Cut], levels: list[str], exact: bool) -> str:
        """SQL: the facts summed per unit and period of ``grid`` (the unit's region and category kept)."""
        keys = [f"r_{lv}" for lv in levels] + ["p0"]
        total = "SUM(CAST(n0 AS HUGEINT))" if exact else "SUM(n0)"
        return (f"SELECT {', '.join(keys)}, any_value(c_sex) AS c_sex, any_value(c_status) AS c_status, _unit, "
                f"true AS w0, {total} AS n0, bool_and(_exact) AS _exact "
                f"FROM ({self._facts([grid], cuts, levels)}) WHERE w0 GROUP BY ALL")

    def sql(self, grids: list[_PeriodGrid], cuts: list[Cut], levels: list[str], exact: bool, per_unit: bool,
            units: str | None = None) -> str:
        """SQL: every measure's aggregates, for every cut at once.

        The facts are crossed with the cuts (a small ``VALUES`` list) and grouped once by cut,
        region, period and category: one hash table whatever the number of cuts. A family
        without means or medians is first summed by every grouping column together, so that
        only those sums are crossed. ``exact``: sums as HUGEINT (integral values, any order
        gives the same sum); else DOUBLE sums, which the caller runs on one thread.
        ``per_unit`` (one grid only): sum each unit's facts per period first; else check that
        facts are dated on first days (``_first_days``). ``units``: the unit sums (:meth:`units`),
        already made.
        """
        keys = [f"r_{lv}" for lv in levels] + [f"p{k}" for k in range(len(grids))]

        def total(x: str, on: str = "") -> str:
            return f"SUM(CAST({x} AS HUGEINT)) {on}" if exact else f"SUM({x}) {on}"

        per_unit = per_unit or units is not None
        facts = units or (self.units(grids[0], cuts, levels, exact) if per_unit else self._facts(grids, cuts, levels))
        checks = {"_exact": "_exact"} | ({"_first_day": "_first_days"} if self.unit is not None and not per_unit else {})
        aggregates = [f"bool_and({row}) AS {out}" for row, out in checks.items()]
        if any(i.kind in ("mean", "median") for i in self.inds):  # means and medians need every value
            for j, m in enumerate(self.measures):
                on = f"FILTER (WHERE w{j})"
                aggregates += [f"CAST({total(f'n{j}', on)} AS DOUBLE) AS num{j}", f"COUNT(*) {on} AS cnt{j}"]
                if m.den is not None:
                    aggregates.append(f"CAST({total(f'd{j}', on)} AS DOUBLE) AS den{j}")
                kinds = {i.kind for i in self.inds if i.facts == m}
                if "mean" in kinds:
                    aggregates.append(f"SUM(CAST(n{j} AS DOUBLE) * CAST(n{j} AS DOUBLE) ORDER BY _unit) AS sq{j}")
                if "median" in kinds:
                    aggregates.append(f"median(CAST(n{j} AS DOUBLE)) {on} AS med{j}")
        else:  # sums of sums: exact, so the same as summing the facts
            partial = [f"bool_and({c}) AS {c}" for c in checks]
            for j, m in enumerate(self.measures):
                on = f"FILTER (WHERE w{j})"
                partial += [f"{total(f'n{j}', on)} AS n{j}", f"COUNT(*) {on} AS k{j}"]
                aggregates += [f"CAST(SUM(n{j}) AS DOUBLE) AS num{j}", f"SUM(k{j}) AS cnt{j}"]
                if m.den is not None:
                    partial.append(f"{total(f'd{j}', on)} AS d{j}")
                    aggregates.append(f"CAST(SUM(d{j}) AS DOUBLE) AS den{j}")
            facts = f"SELECT {', '.join(keys)}, c_sex, c_status, {', '.join(partial)} FROM ({facts}) GROUP BY ALL"
        values = ", ".join(f"({n}, {levels.index(lv)}, {k}, {DISAGGREGATIONS.index(b) if b else -1})"
                           for n, (lv, b, k) in enumerate(cuts))
        region = "CASE _x.level " + " ".join(f"WHEN {i} THEN r_{lv}" for i, lv in enumerate(levels)) + " END"
        period = "CASE _x.grid " + " ".join(f"WHEN {k} THEN p{k}" for k in range(len(grids))) + " END"
        category = "CASE _x.category " + " ".join(f"WHEN {i} THEN c_{b}" for i, b in enumerate(DISAGGREGATIONS)) + " ELSE 0 END"
        return (f"SELECT _x.cut AS _cut, {region} AS r, {period} AS p, {category} AS c, {', '.join(aggregates)} "
                f"FROM ({facts}) CROSS JOIN (VALUES {values}) _x(cut, level, grid, category) GROUP BY ALL")


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

    def query(self, family: _Family, grids: list[_PeriodGrid], cuts: list[Cut],
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

    def sums(self, result: dict[str, np.ndarray], family: _Family, cuts: list[Cut], ind: Indicator,
             cut: Cut, grid: _PeriodGrid) -> _Sums:
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

    def aggregate(self, inds: list[Indicator], grids: list[_PeriodGrid], by_list: Sequence[str | None],
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
            family = _Family(members)
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

    def rolled_units(self, family: _Family, grids: list[_PeriodGrid], cuts: list[Cut]) -> dict[int, str]:
        """Unit sums of every grid rolled up from those of the finest (a temp table), when there
        are several grids and the sums are exact; SQL of each grid's units by grid index."""
        if len(grids) < 2:
            return {}
        order = sorted(range(len(grids)), key=lambda k: _FINENESS[grids[k].period])
        finest = grids[order[0]]
        try:
            self.source.sql(f"CREATE OR REPLACE TEMP TABLE _units AS {family.units(finest, cuts, self.levels, True)}")
            if not self.source.sql("SELECT coalesce(bool_and(_exact), true) AS ok FROM _units")["ok"].all():
                return {}
        except duckdb.OutOfRangeException:
            return {}
        keys = ", ".join(f"r_{lv}" for lv in self.levels)
        out = {order[0]: "SELECT * FROM _units"}
        for k in order[1:]:
            pairs = ", ".join(f"({p}, {q})" for p, q in enumerate(_coarser(finest, grids[k])))
            out[k] = (f"SELECT {keys}, m.q AS p0, any_value(c_sex) AS c_sex, any_value(c_status) AS c_status, _unit, "
                      f"true AS w0, SUM(n0) AS n0, bool_and(_exact) AS _exact FROM _units "
                      f"JOIN (VALUES {pairs}) m(p, q) ON m.p = _units.p0 GROUP BY ALL")
        return out

    def piece(self, ind: Indicator, level: str, grid: _PeriodGrid, by: str | None, S: _Sums,
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
        grids = [_period_grid(engine.span, period) for period in periods]
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
