"""The exact linear equations among published cells, and the one-unknown rule over them.

Cells are coded once (:class:`Cells`); equations are flat arrays (equation id, row, field)
built for regions, time, disaggregations and declared :class:`~.rules.Relations`, kept only
where they hold exactly on the unsuppressed values (:func:`equations`); :func:`secondary`
applies the one-unknown rule to a fixed point.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..regions import NATIONAL_CODE
from .rules import CELL_KEY, FIELDS, Relations

#: Region levels, coarsest first (the same as :data:`kkbm_analysis.data.REGION_LEVELS`).
LEVELS: tuple[str, ...] = ("national", "province", "regency", "district", "village", "community")
_LEVEL_DEPTH = {"province": 1, "regency": 2, "district": 3, "village": 4}
_PERIOD_ORDER = ("all", "year", "quarter", "month")
_PERIOD_TYPES = (("year", re.compile(r"\d{4}")), ("quarter", re.compile(r"\d{4}-Q[1-4]")),
                 ("month", re.compile(r"\d{4}-(0[1-9]|1[0-2])")))


@dataclass
class Eqs:
    """Equations as parallel arrays: equation id, row and field (0 numerator, 1 denominator, 2 n) of each term."""

    eq: np.ndarray
    row: np.ndarray
    fld: np.ndarray


def period_type(labels: pd.Series) -> pd.Series:
    """``'all'``, ``'year'``, ``'quarter'``, ``'month'``, or ``'other'`` (e.g. survey rounds: no time equations)."""
    uniq = pd.unique(labels.astype(str))
    kinds = {}
    for u in uniq:
        kinds[u] = "all" if u == "all" else next((k for k, rx in _PERIOD_TYPES if rx.fullmatch(u)), "other")
    return labels.astype(str).map(kinds)


def parent_period(labels: pd.Series, parent: str) -> pd.Series:
    """The period of type ``parent`` that contains each label."""
    s = labels.astype(str)
    if parent == "all":
        return pd.Series("all", index=labels.index)
    if parent == "year":
        return s.str[:4]
    month = s.str[5:7].astype(int)  # parent quarter of a month
    return s.str[:4] + "-Q" + ((month - 1) // 3 + 1).astype(str)


def previous_period(labels: pd.Series) -> pd.Series:
    """The previous period of the same type (NA for 'all' and non-calendar labels)."""
    s = labels.astype(str)
    typ = period_type(labels)
    out = pd.Series(pd.NA, index=labels.index, dtype="string")
    y = pd.to_numeric(s.str[:4], errors="coerce")
    is_y, is_q, is_m = typ == "year", typ == "quarter", typ == "month"
    out[is_y] = (y[is_y] - 1).astype(int).astype(str)
    if is_q.any():
        q = s[is_q].str[-1].astype(int)
        yy = np.where(q == 1, y[is_q] - 1, y[is_q]).astype(int)
        out[is_q] = [f"{a}-Q{b}" for a, b in zip(yy, np.where(q == 1, 4, q - 1))]
    if is_m.any():
        m = s[is_m].str[5:7].astype(int)
        yy = np.where(m == 1, y[is_m] - 1, y[is_m]).astype(int)
        out[is_m] = [f"{a}-{b:02d}" for a, b in zip(yy, np.where(m == 1, 12, m - 1))]
    return out


def _region_parent(codes: pd.Series, child: str, parent: str, communities: Any) -> pd.Series:
    if parent == "national":
        return pd.Series(NATIONAL_CODE, index=codes.index, dtype="string")
    if child == "community":
        if communities is None:
            raise ValueError("the table has community rows under a sub-national level: pass communities="
                             "data.community_regions() (or the ProgramData) to suppress()")
        if hasattr(communities, "community_regions"):
            communities = communities.community_regions()
        regions = communities.set_index(communities["community_id"].astype(str))
        return pd.Series(codes.astype(str).map(regions[f"{parent}_code"]).to_numpy(), index=codes.index,
                         dtype="string")
    depth = _LEVEL_DEPTH[parent]
    return codes.astype(str).str.split(".").str[:depth].str.join(".").astype("string")


class Cells:
    """Integer codes of a table's cell keys, and lookup of cells by (modified) key."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.codes: dict[str, np.ndarray] = {}
        self.labels: dict[str, pd.Index] = {}
        for c in CELL_KEY:
            codes, uniques = pd.factorize(df[c].astype(str))
            self.codes[c] = codes.astype(np.int64)
            self.labels[c] = pd.Index(uniques, dtype=object)
        self.dims = tuple(len(self.labels[c]) + 1 for c in CELL_KEY)
        self.index = pd.Index(self.key(**self.codes))

    def key(self, **codes: np.ndarray) -> np.ndarray:
        return np.ravel_multi_index(tuple(np.asarray(codes[c]) for c in CELL_KEY), self.dims)

    def code_of(self, column: str, labels: Any) -> np.ndarray:
        """Codes of labels in a key column (-1 if the label is not in the table)."""
        return self.labels[column].get_indexer(pd.Index(np.asarray(labels, dtype=object)))

    def find(self, rows: np.ndarray, **changes: Any) -> np.ndarray:
        """Row of the cell whose key is that of ``rows`` with ``changes`` (-1 if absent)."""
        codes = {c: self.codes[c][rows] for c in CELL_KEY}
        ok = np.ones(len(rows), dtype=bool)
        for c, v in changes.items():
            v = np.broadcast_to(np.asarray(v, dtype=np.int64), (len(rows),))
            ok &= v >= 0
            codes[c] = np.where(v >= 0, v, 0)
        found = self.index.get_indexer(self.key(**codes))
        return np.where(ok, found, -1)

    def mapped(self, column: str, rows: np.ndarray, fn: Any) -> np.ndarray:
        """Codes of ``fn(label)`` for each row's label in ``column`` (computed on unique labels)."""
        uniq = np.unique(self.codes[column][rows])
        new = pd.Series(fn(pd.Series(self.labels[column][uniq], dtype="string")))
        table = np.full(len(self.labels[column]), -1, dtype=np.int64)
        table[uniq] = self.code_of(column, new.astype(object).where(new.notna(), None))
        return table[self.codes[column][rows]]


class _Builder:
    """Equations as flat arrays: equation id, row, coefficient, field (0 numerator, 1 denominator, 2 n)."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.n_eq = 0

    def add(self, terms: list[tuple[np.ndarray, float, int]]) -> None:
        """One equation per position: ``sum(coef * field(row)) == 0``; rows -1 are left out."""
        n = len(terms[0][0])
        ids = self.n_eq + np.arange(n)
        for rows, coef, fld in terms:
            ok = rows >= 0
            self.parts.append((ids[ok], rows[ok], np.full(ok.sum(), coef), np.full(ok.sum(), fld)))
        self.n_eq += n

    def hierarchy(self, children: np.ndarray, parents: np.ndarray) -> None:
        """'parent = sum of children', for numerators, denominators and n."""
        ok = parents >= 0
        children, parents = children[ok], parents[ok]
        if not len(children):
            return
        uniq, inv = np.unique(parents, return_inverse=True)
        for fld in FIELDS.values():
            ids = self.n_eq + np.arange(len(uniq))
            self.parts.append((ids, uniq, np.ones(len(uniq)), np.full(len(uniq), fld)))
            self.parts.append((ids[inv], children, -np.ones(len(children)), np.full(len(children), fld)))
            self.n_eq += len(uniq)

    def arrays(self) -> tuple[np.ndarray, ...]:
        if not self.parts:
            e = np.array([], dtype=np.int64)
            return e, e, np.array([], dtype=float), e
        return tuple(np.concatenate([p[i] for p in self.parts]) for i in range(4))


def equations(df: pd.DataFrame, cells: Cells, values: np.ndarray, time_additive: np.ndarray,
              in_eqs: np.ndarray, relations: Relations, communities: Any, exposure: np.ndarray) -> Eqs:
    """Every exact equation among the table's cells.

    ``values`` is rows x 3 (numerator, denominator, n); ``time_additive`` marks flows;
    ``in_eqs`` the cells that take part in region and disaggregation equations (not growth);
    ``exposure`` the cells whose denominator is exposure (ratios, rates): it is not protected,
    so equations on it are not used.
    """
    eqs = _Builder()
    level = df["level"].astype(str).to_numpy()
    levels = [lv for lv in LEVELS if (level == lv).any()]
    for parent, child in zip(levels, levels[1:]):  # each level present sums to the next coarser one present
        rows = np.flatnonzero((level == child) & in_eqs)
        if len(rows):
            parent_code = cells.mapped("region_code", rows,
                                       lambda s: _region_parent(s, child, parent, communities))
            eqs.hierarchy(rows, cells.find(rows, level=cells.code_of("level", [parent])[0], region_code=parent_code))

    ptype = period_type(df["period"]).to_numpy()
    types = [t for t in _PERIOD_ORDER if (ptype == t).any()]
    for parent, child in zip(types, types[1:]):  # flows: each period type sums to the next coarser one
        rows = np.flatnonzero((ptype == child) & time_additive)
        if len(rows):
            eqs.hierarchy(rows, cells.find(rows, period=cells.mapped("period", rows,
                                                                       lambda s: parent_period(s, parent))))

    dis = df["disaggregation"].astype(str)
    all_code = cells.code_of("disaggregation", ["all"])[0]
    for prefix in sorted({d.split("=", 1)[0] + "=" for d in dis.unique() if "=" in d}):
        rows = np.flatnonzero(dis.str.startswith(prefix).to_numpy() & in_eqs)
        if len(rows) and all_code >= 0:  # separate calls: separate equations per variable
            eqs.hierarchy(rows, cells.find(rows, disaggregation=all_code))

    _relation_equations(cells, eqs, df["measure_id"].astype(str).to_numpy(), relations)
    eq, row, coef, fld = eqs.arrays()
    if not len(eq):
        return Eqs(eq, row, fld)
    vals = values[row, fld]  # keep only equations that hold exactly on the unsuppressed values
    vals = np.where((fld == FIELDS["D"]) & exposure[row], np.nan, vals)  # ... and protect something
    size = np.bincount(eq, minlength=eqs.n_eq)
    finite = np.bincount(eq, weights=np.isfinite(vals).astype(float), minlength=eqs.n_eq) == size
    c = np.nan_to_num(coef * vals)
    total = np.bincount(eq, weights=c, minlength=eqs.n_eq)
    scale = np.bincount(eq, weights=np.abs(c), minlength=eqs.n_eq)
    exact = finite & (np.abs(total) <= 1e-9 * np.maximum(scale, 1.0)) & (size >= 2)
    keep = exact[eq]
    return Eqs(eq[keep], row[keep], fld[keep])


def _relation_equations(cells: Cells, eqs: _Builder, measure: np.ndarray, relations: Relations) -> None:
    def code(name: str) -> int:
        return int(cells.code_of("measure_id", [name])[0])

    for a, fa, b, fb, factor in relations.links:
        rows = np.flatnonzero(measure == a)
        if len(rows) and code(b) >= 0:
            eqs.add([(rows, 1.0, FIELDS[fa]), (cells.find(rows, measure_id=code(b)), -float(factor), FIELDS[fb])])
    for (ta, fa, da), terms in relations.sums:
        rows = np.flatnonzero((measure == ta) & (cells.codes["disaggregation"] == cells.code_of("disaggregation", [da])[0]))
        if not len(rows):
            continue
        found = [(cells.find(rows, measure_id=code(tb), disaggregation=cells.code_of("disaggregation", [db])[0]),
                  -1.0, FIELDS[fb]) for tb, fb, db in terms]
        eqs.add([(rows, 1.0, FIELDS[fa]), *found])
    for stock, flow in relations.stock_flows:
        rows = np.flatnonzero(measure == stock)
        if not len(rows) or code(flow) < 0:
            continue
        prev = cells.mapped("period", rows, previous_period)
        eqs.add([(rows, 1.0, 0), (cells.find(rows, measure_id=code(flow)), -1.0, 0),
                 (cells.find(rows, period=prev), -1.0, 0)])


def secondary(hidden: np.ndarray, eqs: Eqs, size: np.ndarray) -> np.ndarray:
    """One-unknown rule on the numbers of cells, iterated to a fixed point.

    ``hidden`` is rows x 3 (numerator, denominator, n): the numbers that must stay unknown.
    In every equation with exactly one hidden term, the smallest other term (non-zero first,
    then by row) is hidden too. ``size`` (rows x 3) orders the candidates.
    """
    eq, row, fld = eqs.eq, eqs.row, eqs.fld
    if not len(eq):
        return hidden
    n_eq = eq.max() + 1
    term_size = size[row, fld]
    zero = term_size <= 0
    pref = np.lexsort((fld, row, term_size, zero, eq))
    eq_s, row_s, fld_s = eq[pref], row[pref], fld[pref]
    while True:
        s = hidden[row_s, fld_s]
        count = np.bincount(eq_s, weights=s.astype(float), minlength=n_eq)
        single = count == 1
        if not single.any():
            return hidden
        cand = single[eq_s] & ~s
        c_eq, c_row, c_fld = eq_s[cand], row_s[cand], fld_s[cand]
        first = np.r_[True, c_eq[1:] != c_eq[:-1]]
        hidden[c_row[first], c_fld[first]] = True


def growth(df: pd.DataFrame, cells: Cells, relations: Relations, supp: np.ndarray) -> np.ndarray:
    """Growth cells whose base cell (this period or the previous one) is withheld."""
    out = np.zeros(len(df), dtype=bool)
    measure = df["measure_id"].astype(str).to_numpy()
    for gid, base_id in relations.growth:
        rows = np.flatnonzero(measure == gid)
        if not len(rows):
            continue
        base = int(cells.code_of("measure_id", [base_id])[0])
        if base < 0:
            raise ValueError(f"{gid} can only be published with its base {base_id} in the same table (its "
                             f"numerator and denominator are base values)")
        for found in (cells.find(rows, measure_id=base),
                      cells.find(rows, measure_id=base, period=cells.mapped("period", rows, previous_period))):
            out[rows[found >= 0]] |= supp[found[found >= 0]]
    return out
