"""One family of indicators as one DuckDB query, on period grids.

A **family** is the indicators whose facts (:class:`~.facts.Facts`) share a base relation, a
date and stock-ness. :meth:`Family.sql` writes the query that aggregates every measure of
the family for many cuts at once (level x period grid x disaggregation): the facts placed on
each period grid (:class:`PeriodGrid`), summed per unit first where the indicator has units
(:meth:`Family.units`), crossed with the cuts and grouped once. The engine (:mod:`.engine`)
runs the queries and finishes the cells.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .facts import BASES, SEX_KEYS, STATUS_KEYS, Facts
from .registry import DISAGGREGATIONS, Indicator


__all__ = ["PeriodGrid", "period_grid", "coarser", "unit_sums", "Family", "Cut", "FINENESS"]


# =========================================================================== span and grids
@dataclass(frozen=True)
class PeriodGrid:
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
        index = f"((year({day}) - 1970) * 12 + month({day}) - 1) // {DIVISOR[self.period]} - {self.start_abs}"
        return (f"greatest({index}, 0)" if stock else index), keep


DIVISOR = {"year": 12, "quarter": 3, "month": 1}
FINENESS = {"month": 0, "quarter": 1, "year": 2, None: 3}


def unit_sums(facts: str, levels: list[str], period: str, total: str) -> str:
    """SQL: ``facts`` summed per unit and ``period`` (grouped by those two alone: a unit's region
    and category are its own, so any row's will do)."""
    attributes = ", ".join(f"any_value({c}) AS {c}" for c in [f"r_{lv}" for lv in levels] + ["c_sex", "c_status"])
    return (f"SELECT _unit, {period} AS p0, {attributes}, true AS w0, {total} AS n0, bool_and(_exact) AS _exact "
            f"FROM ({facts}) GROUP BY _unit, {period}")


def coarser(fine: PeriodGrid, coarse: PeriodGrid) -> list[int]:
    """The period of ``coarse`` holding each period of ``fine`` (grids over one span)."""
    if coarse.period is None:
        return [0] * fine.n
    months = [(fine.start_abs + p) * DIVISOR[fine.period] for p in range(fine.n)]
    return [m // DIVISOR[coarse.period] - coarse.start_abs for m in months]


def period_grid(span: tuple[pd.Timestamp, pd.Timestamp], period: str | None) -> PeriodGrid:
    if period is None:
        return PeriodGrid(None, span[0], span[1], 0, np.array(["all"], dtype=object))
    start, end = (np.datetime64(s.date(), "D") for s in span)
    div = DIVISOR[period]
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
    return PeriodGrid(period, span[0], span[1], m0, np.array(labels, dtype=object))


# =========================================================================== one family, one query
EXACT_LIMIT = 2**53  # integral values below this sum exactly as HUGEINT and convert back exactly


#: One cut of a query: (level, disaggregation, index of the period grid).
Cut = tuple[str, "str | None", int]


class Family:
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

    def per_unit(self, grid: PeriodGrid) -> bool | None:
        """Whether facts must be summed per unit and period first: False when the grain makes it
        change nothing, None when that holds only if every fact is dated on a month's first day."""
        if self.unit is None or self.measures[0].grain == "fact":
            return False
        if self.measures[0].grain == "month" and grid.period == "month":
            return None
        return True

    def _facts(self, grids: list[PeriodGrid], cuts: list[Cut], levels: list[str]) -> str:
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
            integral += [f"coalesce(NOT w{j} OR ({v} = trunc({v}) AND abs({v}) < {EXACT_LIMIT}), true)"
                         for v in values]
        rows.append(f"{' AND '.join(integral)} AS _exact")
        if self.unit is not None:
            rows += [f"{self.unit} AS _unit", "day(_day) = 1 AS _first_day"]
        attributes = any(b is not None for _, b, _ in cuts)
        return (f"SELECT {', '.join(rows)} FROM (SELECT *, CAST({self.date} AS DATE) AS _day "
                f"FROM ({BASES[self.base](attributes)})) WHERE {keep}")

    def units(self, grid: PeriodGrid, cuts: list[Cut], levels: list[str], exact: bool) -> str:
        """SQL: the facts summed per unit and period of ``grid`` (the unit's region and category kept)."""
        return unit_sums(f"SELECT * FROM ({self._facts([grid], cuts, levels)}) WHERE w0", levels, "p0",
                         "SUM(CAST(n0 AS HUGEINT))" if exact else "SUM(n0)")

    def sql(self, grids: list[PeriodGrid], cuts: list[Cut], levels: list[str], exact: bool, per_unit: bool,
            units: str | None = None) -> str:
        """SQL: every measure's aggregates, for every cut at once.

        The facts are crossed with the cuts (a small ``VALUES`` list; none for a single cut) and
        grouped once by cut, region, period and category: one hash table whatever the number of
        cuts. With several cuts, a family without means or medians is first summed by every
        grouping column together, so that only those sums are crossed. ``exact``: sums as HUGEINT (integral values, any order
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
        if len(cuts) == 1 or any(i.kind in ("mean", "median") for i in self.inds):  # on every value
            if self.unit is not None and not units:  # one measure: only its facts
                facts = f"SELECT * FROM ({facts}) WHERE w0"
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
        if len(cuts) == 1:  # nothing to cross
            (level, by, k), = cuts
            return (f"SELECT 0 AS _cut, r_{level} AS r, p{k} AS p, {f'c_{by}' if by else 0} AS c, "
                    f"{', '.join(aggregates)} FROM ({facts}) GROUP BY ALL")
        values = ", ".join(f"({n}, {levels.index(lv)}, {k}, {DISAGGREGATIONS.index(b) if b else -1})"
                           for n, (lv, b, k) in enumerate(cuts))
        region = "CASE _x.level " + " ".join(f"WHEN {i} THEN r_{lv}" for i, lv in enumerate(levels)) + " END"
        period = "CASE _x.grid " + " ".join(f"WHEN {k} THEN p{k}" for k in range(len(grids))) + " END"
        category = "CASE _x.category " + " ".join(f"WHEN {i} THEN c_{b}" for i, b in enumerate(DISAGGREGATIONS)) + " ELSE 0 END"
        return (f"SELECT _x.cut AS _cut, {region} AS r, {period} AS p, {category} AS c, {', '.join(aggregates)} "
                f"FROM ({facts}) CROSS JOIN (VALUES {values}) _x(cut, level, grid, category) GROUP BY ALL")
