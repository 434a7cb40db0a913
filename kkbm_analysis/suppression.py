"""Small-cell suppression for everything published, and the only way to write it.

Analysis functions (:func:`kkbm_analysis.indicators.compute_indicators`...) return
unsuppressed frames. Anything that leaves the project (the indicator Parquet, CSVs,
reports) goes through :func:`suppress`, which returns a :class:`PublishedTable`; the
writers here refuse anything else, so a report cannot bypass suppression by accident.

Primary suppression (thresholds from :mod:`kkbm_analysis.config`)
-----------------------------------------------------------------
``count``
    Suppressed when ``0 < value < min_count`` (default 5). **Zero is published**: a
    true zero discloses nothing about a person, and hiding zeros would hide where the
    programme is absent.
``total`` (rupiah sums)
    Suppressed when fewer than ``min_count`` units contribute (``0 < denominator < 5``),
    since a sum over one to four businesses or loans discloses their amounts.
``proportion``
    Suppressed when ``0 < denominator < min_denominator`` (default 10), and also when
    ``0 < numerator < min_count``: the numerator is a count of people that other
    tables publish as a count (approved loans, resolved cases), so it obeys the count
    rule too.
``mean``, ``median``
    Suppressed when ``0 < denominator < min_denominator``.
``growth``
    Its numerator and denominator are the base total of two periods; a growth cell is
    suppressed whenever either base cell is (reason ``'secondary'``).

Secondary suppression
---------------------
Published cells satisfy exact linear equations an attacker can subtract along:

* regions: a parent (national, a province...) equals the sum of its children at the
  next finer level present in the table (per indicator x period x disaggregation);
* time, for flows (:attr:`Indicator.time_additive`): ``'all'`` = sum of years, a
  year = sum of its quarters (or months), a quarter = sum of its months;
* disaggregation: ``'all'`` = sum of the ``sex=`` cells, and of the ``status=`` cells (of
  the cells of any ``variable=`` prefix);
* links between indicators that publish the same number (e.g. KUR applications and the
  approval rate's denominator; members by status and the KUR-uptake denominator) and
  stock-flow identities (members at *t* = members at *t-1* + members joined in *t*).

Every equation is checked on the unsuppressed values and used only if it holds exactly
(on numerators, and separately on denominators). Then, repeatedly until nothing changes:
in every equation with exactly one suppressed cell, the smallest other cell (non-zero
cells first) is suppressed too. So no suppressed cell is the only unknown of any
equation, and subtraction along any single dimension cannot recover it. Suppressed cells
get ``value``, ``numerator``, ``denominator``, ``ci_low``, ``ci_high`` = NA,
``suppressed = True`` and ``suppression`` = ``'primary'`` or ``'secondary'``.

Limits: this is the classic one-unknown rule; it does not solve general systems of
equations across several dimensions at once (an attacker combining many equations
could, in rare patterns, narrow a cell down), and applies no dominance rule to rupiah
totals beyond the contributor count.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .config import MIN_PUBLISHED_COUNT, MIN_PUBLISHED_DENOMINATOR
from .data import NATIONAL_CODE, REGION_LEVELS
from .indicators.registry import REGISTRY, Indicator

__all__ = ["PublishedTable", "Thresholds", "suppress", "require_published", "write_indicator_table",
           "write_published_csv", "PUBLISHED_COLUMNS"]

_KEY = ["indicator_id", "level", "region_code", "period", "disaggregation"]
_NUMBERS = ["value", "numerator", "denominator", "ci_low", "ci_high"]
#: Columns of a published (suppressed) table.
PUBLISHED_COLUMNS: tuple[str, ...] = (*_KEY, *_NUMBERS, "suppressed", "suppression")
_LEVEL_DEPTH = {"province": 1, "regency": 2, "district": 3, "village": 4}
_PERIOD_ORDER = ("all", "year", "quarter", "month")

#: Indicators publishing the same number: (indicator, field, indicator, field), same cell key.
LINKS: tuple[tuple[str, str, str, str], ...] = (
    ("kur_applications", "N", "kur_approval_rate", "D"),
    ("kur_loans_approved", "N", "kur_amount_total", "D"),
    ("kur_amount_total", "N", "kur_amount_mean", "N"),
    ("kur_amount_total", "D", "kur_amount_mean", "D"),
    ("business_volume_total", "N", "business_volume_mean", "N"),
    ("business_volume_total", "D", "business_volume_mean", "D"),
    ("business_volume_total", "D", "business_volume_median", "D"),
    ("advocacy_cases_resolved", "N", "advocacy_resolution_rate", "N"),
    ("advocacy_cases_resolved", "N", "advocacy_days_to_resolution", "D"),
    ("members", "N", "kur_uptake", "D"),
)
#: A cell equal to the sum of cells of another indicator (same level, region, period).
SUMS: tuple[tuple[tuple[str, str, str], tuple[tuple[str, str, str], ...]], ...] = (
    (("kur_uptake", "D", "all"), (("members", "N", "status=pmi_purna"), ("members", "N", "status=keluarga"))),
)
#: (stock, flow): stock at t = stock at t-1 + flow in t (entries only, no exits).
STOCK_FLOWS: tuple[tuple[str, str], ...] = (("members", "members_joined"),)


# =========================================================================== the wrapper type
@dataclass(frozen=True)
class Thresholds:
    """Thresholds a table was suppressed with."""

    min_count: int = MIN_PUBLISHED_COUNT
    min_denominator: int = MIN_PUBLISHED_DENOMINATOR


_TOKEN = object()


class PublishedTable:
    """A suppressed indicator table: the only thing the writers accept.

    Made only by :func:`suppress`. ``.frame`` returns a copy, so the published values
    cannot be edited in place.

    Attributes
    ----------
    thresholds : Thresholds
    metadata : mapping
        ``synthetic``, ``data_version``, ``span`` of the source table, thresholds and
        cell counts.
    """

    __slots__ = ("_frame", "_thresholds", "_metadata")

    def __init__(self, frame: pd.DataFrame, thresholds: Thresholds, metadata: Mapping[str, Any], *,
                 _token: object = None) -> None:
        if _token is not _TOKEN:
            raise TypeError("PublishedTable is made only by kkbm_analysis.suppression.suppress(table)")
        object.__setattr__(self, "_frame", frame)
        object.__setattr__(self, "_thresholds", thresholds)
        object.__setattr__(self, "_metadata", MappingProxyType(dict(metadata)))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("PublishedTable is read-only")

    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the suppressed table (columns :data:`PUBLISHED_COLUMNS`)."""
        return self._frame.copy()

    @property
    def thresholds(self) -> Thresholds:
        return self._thresholds

    @property
    def metadata(self) -> Mapping[str, Any]:
        return self._metadata

    def __len__(self) -> int:
        return len(self._frame)

    def summary(self) -> str:
        m = self._metadata
        flag = "SYNTHETIC " if m.get("synthetic") else "" if m.get("synthetic") is False else "(synthetic: unknown) "
        return (f"{flag}published indicator table: {m['rows']:,} cells, {m['primary']:,} suppressed (primary), "
                f"{m['secondary']:,} suppressed (secondary); min count {self._thresholds.min_count}, "
                f"min denominator {self._thresholds.min_denominator}")

    def __repr__(self) -> str:
        return f"<PublishedTable {self.summary()}>"

    def _repr_html_(self) -> str:
        return f"<p><b>PublishedTable</b>: {self.summary()}</p>" + self._frame.head(20).to_html()


def require_published(obj: Any, what: str = "this export") -> PublishedTable:
    """Return ``obj`` if it is a :class:`PublishedTable`, else raise a clear TypeError.

    Every export function calls this first (reports, CSV, Parquet...).
    """
    if isinstance(obj, PublishedTable):
        return obj
    raise TypeError(f"{what} accepts only a PublishedTable (small cells suppressed), not "
                    f"{type(obj).__name__}. Run kkbm_analysis.suppression.suppress(table) first; analysis "
                    f"frames are never written unsuppressed.")


def write_indicator_table(published: PublishedTable, path: str | Path) -> Path:
    """Write a suppressed indicator table to Parquet (atomically, byte-reproducibly).

    Parameters
    ----------
    published : PublishedTable
        From :func:`suppress`. A plain DataFrame is refused (TypeError).
    path : path
        Typically ``data/processed/indicators.parquet``. Key-value metadata records the
        thresholds and whether the data are SYNTHETIC.
    """
    from .io import write_parquet

    published = require_published(published, "write_indicator_table")
    path = Path(path)
    write_parquet(published._frame, path, _file_metadata(published))
    return path


def write_published_csv(published: PublishedTable, path: str | Path) -> Path:
    """Write a suppressed table as UTF-8 CSV (empty cells where suppressed).

    A first comment line says SYNTHETIC when the data are synthetic.
    """
    from .io import write_text

    published = require_published(published, "write_published_csv")
    meta = _file_metadata(published)
    header = "".join(f"# {k}: {v}\n" for k, v in meta.items())
    write_text(header + published._frame.to_csv(index=False), Path(path))
    return Path(path)


def _file_metadata(published: PublishedTable) -> dict[str, str]:
    m = published.metadata
    flag = m.get("synthetic")
    return {"synthetic": "unknown" if flag is None else str(bool(flag)).lower(),
            "data_version": str(m.get("data_version", "unknown")),
            "span": " to ".join(m.get("span") or ("unknown",)),
            "suppression": f"min_count={published.thresholds.min_count}; "
                           f"min_denominator={published.thresholds.min_denominator}; secondary=one-unknown rule"}


# =========================================================================== suppression
def suppress(table: pd.DataFrame, *, min_count: int = MIN_PUBLISHED_COUNT,
             min_denominator: int = MIN_PUBLISHED_DENOMINATOR, communities: Any = None,
             synthetic: bool | None = None, registry: Mapping[str, Indicator] | None = None) -> PublishedTable:
    """Apply primary and secondary small-cell suppression (see the module docstring).

    Parameters
    ----------
    table : DataFrame
        An indicator table (columns of :data:`kkbm_analysis.indicators.RESULT_COLUMNS`),
        e.g. from :func:`~kkbm_analysis.indicators.indicator_table`. Include the totals
        (national, ``'all'``, years) you publish: equations are built from the rows present.
    min_count, min_denominator : int
        Thresholds (defaults from :mod:`kkbm_analysis.config`).
    communities : DataFrame or ProgramData, optional
        Community -> region codes (``data.community_regions()``); needed only when the
        table has community rows and a coarser level other than national. Parents of
        Kemendagri codes are read from the dotted code itself.
    synthetic : bool, optional
        Whether the data are synthetic (written into every file made from the table).
        Default: ``table.attrs['synthetic']``, set by the indicator functions; pandas may
        drop ``attrs`` when a frame is filtered or concatenated, so pass
        ``synthetic=data.synthetic`` explicitly in pipelines. Unknown is written as
        ``'unknown'``, never as false.
    registry : mapping, optional
        Indicator registry (default :data:`kkbm_analysis.indicators.REGISTRY`).

    Returns
    -------
    PublishedTable
    """
    if registry is None:
        registry = REGISTRY
    if isinstance(table, PublishedTable) or "suppression" in table.columns:
        raise ValueError("the table is already suppressed; suppress the analysis table instead")
    missing = [c for c in (*_KEY, *_NUMBERS) if c not in table.columns]
    if missing:
        raise ValueError(f"not an indicator table: missing columns {missing}")
    if min_count < 1 or min_denominator < 1:
        raise ValueError("thresholds must be at least 1")
    unknown = sorted(set(table["indicator_id"].astype(str)) - set(registry))
    if unknown:
        raise ValueError(f"indicators not in the registry: {unknown}")
    df = table[[*_KEY, *_NUMBERS]].reset_index(drop=True).copy()
    for c in _KEY:
        df[c] = df[c].astype("string")
    if df.duplicated(_KEY).any():
        raise ValueError("the table has duplicate cells (indicator, level, region, period, disaggregation)")

    kind = df["indicator_id"].astype(str).map({k: v.kind for k, v in registry.items()}).to_numpy()
    N = df["numerator"].to_numpy(dtype=float, na_value=np.nan)
    D = df["denominator"].to_numpy(dtype=float, na_value=np.nan)
    primary = _primary(kind, N, D, min_count, min_denominator)
    size = np.where(kind == "count", N, D)
    size = np.where(np.isnan(size), np.inf, size)

    cells = _Cells(df)
    eqs = _equations(df, cells, registry, N, D, communities)
    supp = _secondary(primary.copy(), eqs, size)
    supp |= _growth(df, cells, registry, supp)

    out = df.copy()
    for c in _NUMBERS:
        out[c] = out[c].astype("Float64").mask(supp)
    out["suppressed"] = supp
    reason = np.where(primary, "primary", np.where(supp, "secondary", None))
    out["suppression"] = pd.array(reason, dtype="string")
    meta = {"synthetic": table.attrs.get("synthetic") if synthetic is None else bool(synthetic),
            "data_version": table.attrs.get("data_version", "unknown"), "span": table.attrs.get("span"),
            "rows": len(out), "primary": int(primary.sum()), "secondary": int((supp & ~primary).sum())}
    return PublishedTable(out, Thresholds(min_count, min_denominator), meta, _token=_TOKEN)


def _primary(kind: np.ndarray, N: np.ndarray, D: np.ndarray, min_count: int, min_den: int) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        small_n = (N > 0) & (N < min_count)
        small_d_count = (D > 0) & (D < min_count)
        small_d = (D > 0) & (D < min_den)
    return np.select([kind == "count", kind == "total", kind == "proportion", np.isin(kind, ["mean", "median"])],
                     [small_n, small_d_count, small_d | small_n, small_d], default=False)


# --------------------------------------------------------------------------- equations
@dataclass
class _Eqs:
    eq: np.ndarray
    row: np.ndarray


def _period_type(labels: pd.Series) -> pd.Series:
    s = labels.astype(str)
    return pd.Series(np.select([s == "all", s.str.len() == 4, s.str.contains("-Q", regex=False)],
                               ["all", "year", "quarter"], default="month"), index=labels.index)


def _parent_period(labels: pd.Series, child: str, parent: str) -> pd.Series:
    s = labels.astype(str)
    if parent == "all":
        return pd.Series("all", index=labels.index)
    if parent == "year":
        return s.str[:4]
    month = s.str[5:7].astype(int)  # parent quarter of a month
    return s.str[:4] + "-Q" + ((month - 1) // 3 + 1).astype(str)


def _prev_period(labels: pd.Series) -> pd.Series:
    """Previous period label of the same type ('all' has none: NA)."""
    s = labels.astype(str)
    typ = _period_type(labels)
    out = pd.Series(pd.NA, index=labels.index, dtype="string")
    y = pd.to_numeric(s.str[:4], errors="coerce")
    is_y, is_q, is_m = typ == "year", typ == "quarter", typ == "month"
    out[is_y] = (y[is_y] - 1).astype(int).astype(str)
    if is_q.any():
        q = s[is_q].str[-1].astype(int)
        yy = np.where(q == 1, y[is_q] - 1, y[is_q]).astype(int)
        qq = np.where(q == 1, 4, q - 1)
        out[is_q] = [f"{a}-Q{b}" for a, b in zip(yy, qq)]
    if is_m.any():
        m = s[is_m].str[5:7].astype(int)
        yy = np.where(m == 1, y[is_m] - 1, y[is_m]).astype(int)
        mm = np.where(m == 1, 12, m - 1)
        out[is_m] = [f"{a}-{b:02d}" for a, b in zip(yy, mm)]
    return out


def _community_parents(communities: Any) -> pd.DataFrame:
    if communities is None:
        raise ValueError("the table has community rows under a sub-national level: pass communities="
                         "data.community_regions() (or the ProgramData) to suppress()")
    if hasattr(communities, "community_regions"):
        communities = communities.community_regions()
    return communities.set_index(communities["community_id"].astype(str))


def _region_parent(codes: pd.Series, child: str, parent: str, communities: Any) -> pd.Series:
    if parent == "national":
        return pd.Series(NATIONAL_CODE, index=codes.index, dtype="string")
    if child == "community":
        regions = _community_parents(communities)
        col = REGION_LEVELS[parent]
        return pd.Series(codes.astype(str).map(regions[col]).to_numpy(), index=codes.index, dtype="string")
    depth = _LEVEL_DEPTH[parent]
    return codes.astype(str).str.split(".").str[:depth].str.join(".").astype("string")


class _Cells:
    """Integer codes of a table's cell keys, and lookup of cells by (modified) key."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.codes: dict[str, np.ndarray] = {}
        self.labels: dict[str, pd.Index] = {}
        for c in _KEY:
            codes, uniques = pd.factorize(df[c].astype(str))
            self.codes[c] = codes.astype(np.int64)
            self.labels[c] = pd.Index(uniques, dtype=object)
        self.dims = tuple(len(self.labels[c]) + 1 for c in _KEY)
        self.index = pd.Index(self.key(**self.codes))

    def key(self, **codes: np.ndarray) -> np.ndarray:
        return np.ravel_multi_index(tuple(np.asarray(codes[c]) for c in _KEY), self.dims)

    def code_of(self, column: str, labels: Any) -> np.ndarray:
        """Codes of labels in a key column (-1 if the label is not in the table)."""
        return self.labels[column].get_indexer(pd.Index(np.asarray(labels, dtype=object)))

    def find(self, rows: np.ndarray, **changes: np.ndarray) -> np.ndarray:
        """Row of the cell whose key is that of ``rows`` with ``changes`` (-1 if absent)."""
        codes = {c: self.codes[c][rows] for c in _KEY}
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
        new = fn(pd.Series(self.labels[column][uniq], dtype="string"))
        table = np.full(len(self.labels[column]), -1, dtype=np.int64)
        table[uniq] = self.code_of(column, pd.Series(new).astype(object).where(pd.Series(new).notna(), None))
        return table[self.codes[column][rows]]


class _EqBuilder:
    """Equations as flat arrays: equation id, row, coefficient, field (0 numerator, 1 denominator)."""

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
        """'parent = sum of children', for numerators and for denominators."""
        ok = parents >= 0
        children, parents = children[ok], parents[ok]
        if not len(children):
            return
        uniq, inv = np.unique(parents, return_inverse=True)
        for fld in (0, 1):
            ids = self.n_eq + np.arange(len(uniq))
            self.parts.append((ids, uniq, np.ones(len(uniq)), np.full(len(uniq), fld)))
            self.parts.append((ids[inv], children, -np.ones(len(children)), np.full(len(children), fld)))
            self.n_eq += len(uniq)

    def arrays(self) -> tuple[np.ndarray, ...]:
        if not self.parts:
            e = np.array([], dtype=np.int64)
            return e, e, np.array([], dtype=float), e
        return tuple(np.concatenate([p[i] for p in self.parts]) for i in range(4))


def _equations(df: pd.DataFrame, cells: "_Cells", registry: Mapping[str, Any], N: np.ndarray, D: np.ndarray,
               communities: Any) -> _Eqs:
    """Every exact equation among the table's cells (see the module docstring)."""
    eqs = _EqBuilder()
    ind = df["indicator_id"].astype(str)
    in_eqs = (ind.map({k: v.kind for k, v in registry.items()}) != "growth").to_numpy()
    additive = ind.map({k: v.time_additive for k, v in registry.items()}).to_numpy(dtype=bool)

    # regions: each level present sums to the next coarser level present
    level = df["level"].astype(str).to_numpy()
    levels = [lv for lv in REGION_LEVELS if (level == lv).any()]
    for parent, child in zip(levels, levels[1:]):
        rows = np.flatnonzero((level == child) & in_eqs)
        if len(rows):
            parent_code = cells.mapped("region_code", rows,
                                       lambda s: _region_parent(s, child, parent, communities))
            eqs.hierarchy(rows, cells.find(rows, level=cells.code_of("level", [parent])[0],
                                           region_code=parent_code))

    # time (flows): each period type present sums to the next coarser type present
    ptype = _period_type(df["period"]).to_numpy()
    types = [t for t in _PERIOD_ORDER if (ptype == t).any()]
    for parent, child in zip(types, types[1:]):
        rows = np.flatnonzero((ptype == child) & additive)
        if len(rows):
            parent_code = cells.mapped("period", rows, lambda s: _parent_period(s, child, parent))
            eqs.hierarchy(rows, cells.find(rows, period=parent_code))

    # disaggregations: the categories of one variable sum to 'all'
    dis = df["disaggregation"].astype(str)
    all_code = cells.code_of("disaggregation", ["all"])[0]
    for prefix in sorted({d.split("=", 1)[0] + "=" for d in dis.unique() if "=" in d}):
        rows = np.flatnonzero(dis.str.startswith(prefix).to_numpy() & in_eqs)
        if len(rows) and all_code >= 0:  # separate calls: separate equations per variable
            eqs.hierarchy(rows, cells.find(rows, disaggregation=all_code))

    _link_equations(cells, eqs, ind.to_numpy())
    eq, row, coef, fld = eqs.arrays()
    if not len(eq):
        return _Eqs(eq, row)

    # keep only equations that hold exactly on the unsuppressed values
    vals = np.where(fld == 0, N[row], D[row])
    n_eq = eqs.n_eq
    size = np.bincount(eq, minlength=n_eq)
    finite = np.bincount(eq, weights=np.isfinite(vals).astype(float), minlength=n_eq) == size
    c = np.nan_to_num(coef * vals)
    total = np.bincount(eq, weights=c, minlength=n_eq)
    scale = np.bincount(eq, weights=np.abs(c), minlength=n_eq)
    exact = finite & (np.abs(total) <= 1e-9 * np.maximum(scale, 1.0)) & (size >= 2)
    keep = exact[eq]
    return _Eqs(eq[keep], row[keep])


def _link_equations(cells: _Cells, eqs: _EqBuilder, ind: np.ndarray) -> None:
    """Equations between indicators that publish the same numbers (see LINKS, SUMS, STOCK_FLOWS)."""
    fields = {"N": 0, "D": 1}

    def ind_code(name: str) -> int:
        return int(cells.code_of("indicator_id", [name])[0])

    for a, fa, b, fb in LINKS:
        rows = np.flatnonzero(ind == a)
        if len(rows) and ind_code(b) >= 0:
            eqs.add([(rows, 1.0, fields[fa]), (cells.find(rows, indicator_id=ind_code(b)), -1.0, fields[fb])])
    for (ta, fa, da), terms in SUMS:
        rows = np.flatnonzero((ind == ta) & (cells.codes["disaggregation"] == cells.code_of("disaggregation", [da])[0]))
        if not len(rows):
            continue
        found = [(cells.find(rows, indicator_id=ind_code(tb),
                             disaggregation=cells.code_of("disaggregation", [db])[0]), -1.0, fields[fb])
                 for tb, fb, db in terms]
        eqs.add([(rows, 1.0, fields[fa]), *found])
    for stock, flow in STOCK_FLOWS:
        rows = np.flatnonzero(ind == stock)
        if not len(rows) or ind_code(flow) < 0:
            continue
        prev = cells.mapped("period", rows, _prev_period)
        eqs.add([(rows, 1.0, 0), (cells.find(rows, indicator_id=ind_code(flow)), -1.0, 0),
                 (cells.find(rows, period=prev), -1.0, 0)])


def _secondary(supp: np.ndarray, eqs: _Eqs, size: np.ndarray) -> np.ndarray:
    """One-unknown rule, iterated to a fixed point."""
    eq, row = eqs.eq, eqs.row
    if not len(eq):
        return supp
    n_eq = eq.max() + 1
    zero = (size[row] <= 0)
    # order of preference inside an equation: non-zero first, then smallest, then row (deterministic)
    pref = np.lexsort((row, size[row], zero, eq))
    eq_s, row_s = eq[pref], row[pref]
    while True:
        s = supp[row_s]
        count = np.bincount(eq_s, weights=s.astype(float), minlength=n_eq)
        single = count == 1
        if not single.any():
            return supp
        cand = single[eq_s] & ~s
        c_eq, c_row = eq_s[cand], row_s[cand]
        first = np.r_[True, c_eq[1:] != c_eq[:-1]]
        supp[c_row[first]] = True


def _growth(df: pd.DataFrame, cells: _Cells, registry: Mapping[str, Any], supp: np.ndarray) -> np.ndarray:
    """Growth cells whose base cell (this period or the previous one) is suppressed."""
    out = np.zeros(len(df), dtype=bool)
    ind = df["indicator_id"].astype(str).to_numpy()
    for gid in pd.unique(ind):
        spec = registry[gid]
        if spec.kind != "growth":
            continue
        base = int(cells.code_of("indicator_id", [spec.base])[0])
        if base < 0:
            raise ValueError(f"{gid} can only be published with its base indicator {spec.base} in the same "
                             f"table (its numerator and denominator are base values)")
        rows = np.flatnonzero(ind == gid)
        for found in (cells.find(rows, indicator_id=base),
                      cells.find(rows, indicator_id=base, period=cells.mapped("period", rows, _prev_period))):
            out[rows[found >= 0]] |= supp[found[found >= 0]]
    return out
