"""The checks that need a whole table, or two: duplicate keys, references between tables, table rules.

They run on the spooled rows (:mod:`.spool`: rows that passed every row rule) with Arrow's
vectorised kernels: key columns become integer codes once (Arrow dictionary encoding), a
duplicate is a repeated code combination, and a reference is a set-membership test
(:func:`pyarrow.compute.is_in`, a hash semi-join) against the accepted rows of the other
table. Messages are the ingest's own (:mod:`.validate`): they point to the earlier row of a
duplicate and never quote an identifier.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .redaction import Echo
from .schema import TABLES
from .spool import TableSpool
from .validate import Problems, field_kind

__all__ = ["duplicate_keys", "checked_columns", "rows_to_check", "reference_problems", "accepted_values",
           "table_rules"]

Describe = Callable[[int, int], str]  # (uid, row) -> "row 5 of anggota.xlsx, sheet 'Anggota'"


def _plain(column: str) -> str:
    return column.replace("_", " ")


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, int]:
    """Integer codes of a column's values (equal values, equal codes; every null one code) and how many
    codes there are, from one hash pass (Arrow gives every chunk the same dictionary)."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    encoded = pc.dictionary_encode(column, null_encoding="encode")
    if not encoded.num_chunks:
        return np.zeros(0, dtype=np.int32), 0
    codes = np.concatenate([chunk.indices.to_numpy(zero_copy_only=False) for chunk in encoded.chunks])  # int32
    return codes, len(encoded.chunks[-1].dictionary)


def _combined(columns: list[Callable[[], pa.ChunkedArray]]) -> np.ndarray:
    """One integer per row for a combination of columns, each read when its turn comes (equal combinations,
    equal integers; the codes are made dense again only when the next column could overflow them)."""
    codes, size = _codes(columns[0]())
    key = codes.astype(np.int64)  # the first column's codes as they are (no zeros to multiply)
    for column in columns[1:]:
        codes, count = _codes(column())
        if size * count >= 2 ** 62:
            key = pd.factorize(key)[0].astype(np.int64)
            size = int(key.max(initial=-1)) + 1
        key *= count  # in place: no copy of a whole table's keys
        key += codes
        size *= count
    return key


def _repeats(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions whose key an earlier position holds (ascending), and that earlier position (the first
    with the key), found by one stable sort."""
    order = np.argsort(key, kind="stable")
    ranked = key[order]
    again = np.flatnonzero(ranked[1:] == ranked[:-1]) + 1  # sorted places whose key the place before holds
    if not len(again):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # a run of equal keys is its first place, then consecutive places of `again`: each finds the run's first
    opens = np.r_[True, again[1:] != again[:-1] + 1]
    later, earlier = order[again], order[(again[opens] - 1)[np.cumsum(opens) - 1]]
    by_position = np.argsort(later, kind="stable")
    return later[by_position], earlier[by_position]


# --------------------------------------------------------------------------- duplicate keys
def duplicate_keys(table: str, spool: TableSpool, problems: Problems, echo: Echo, describe: Describe) -> None:
    """Rows whose key repeats an earlier row's (in the order read); the first is kept."""
    key = list(TABLES[table].key)
    n = spool.rows
    if n < 2:
        return
    later, earlier = _repeats(_combined([lambda k=k: spool.read([k]).column(k) for k in key]))
    if not len(later):
        return
    data = _at_positions(spool, key, later)  # the repeated rows' keys (not the whole columns again)
    wanted = np.union1d(later, earlier)
    found = _at_positions(spool, ["_uid", "_row"], wanted)
    uids, rows = found.column("_uid").to_numpy(), found.column("_row").to_numpy()
    later_at, earlier_at = np.searchsorted(wanted, later), np.searchsorted(wanted, earlier)
    pseudonymous = {k for k in key if field_kind(table, k) == "pseudonym"}
    shown: list[list[str]] = []
    for k in key:
        if k in pseudonymous:
            shown.append(["the same person"] * len(later))
            continue
        values = data.column(k).to_pandas()
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        said = np.array([f"{_plain(k)} {echo.quote(_python(v))}" for v in uniques], dtype=object)
        shown.append(said[codes].tolist())
    places = {int(i): describe(int(uids[i]), int(rows[i])) for i in np.unique(earlier_at)}
    messages = [f"{' and '.join(parts)} already appear(s) at {places[int(e)]}; only the first is kept"
                for parts, e in zip(zip(*shown), earlier_at)]
    problems.add(uids[later_at], ",".join(key), "duplicate_key", messages)


def _at_positions(spool: TableSpool, columns: list[str], positions: np.ndarray) -> pa.Table:
    """Some columns of the spooled rows at sorted ``positions`` (counted over the whole spool)."""
    parts, offset = [], 0
    for batch in spool.batches(columns):
        lo, hi = np.searchsorted(positions, [offset, offset + batch.num_rows])
        if hi > lo:
            parts.append(batch.take(pa.array(positions[lo:hi] - offset)))
        offset += batch.num_rows
    return pa.concat_tables(parts) if parts else spool.schema.empty_table().select(columns)


def _python(value):
    """A spooled value as the ingest's frames hold it (dates as Timestamps, missing as NA)."""
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value)
    return value


# --------------------------------------------------------------------------- references
def checked_columns(table: str) -> list[str]:
    """The columns that :func:`reference_problems` and :func:`table_rules` read (each once, in order)."""
    columns = [c for ref in TABLES[table].references for c in ref.columns] + list(_RULE_COLUMNS.get(table, ()))
    return list(dict.fromkeys(columns))


def rows_to_check(table: str, spool: TableSpool, bad: np.ndarray) -> pa.Table:
    """The accepted rows' :func:`checked_columns`, read once (``_uid`` first)."""
    return _accepted(spool, bad, ["_uid", *checked_columns(table)])


def reference_problems(table: str, rows: pa.Table, kept: np.ndarray, ref, known: pa.Array, problems: Problems,
                       echo: Echo) -> None:
    """Rows (of :func:`rows_to_check`, those still ``kept``) whose reference (``ref.columns``) is not among the
    target's accepted keys (``known``: :func:`accepted_values`); they are no longer ``kept`` (changed in place)."""
    values = _as_text([rows.column(c) for c in ref.columns])  # one membership test: the known values hashed once
    missing = pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, value_set=known)))
    missing = np.asarray(missing.to_numpy(zero_copy_only=False), dtype=bool) & kept
    if not missing.any():
        return
    kept &= ~missing
    uids = rows.column("_uid").to_numpy()[missing]
    if all(field_kind(table, c) == "pseudonym" for c in ref.columns):
        problems.add(uids, ",".join(ref.columns), "unknown_reference",
                     f"this person (by the NIK in this row) is not in the {ref.table} table; add them there or "
                     "check the NIK")
        return
    codes, uniques = pd.factorize(values.filter(pa.array(missing)).to_pandas())
    said = np.array([f"{echo.quote(v)} does not exist in table {ref.table} ({', '.join(ref.target)})"
                     for v in uniques], dtype=object)
    problems.add(uids, ",".join(ref.columns), "unknown_reference", said[codes])


def _as_text(columns: list[pa.ChunkedArray]) -> pa.ChunkedArray:
    """Reference values as text (several columns joined with ' / '; null when any part is)."""
    texts = [pc.cast(c, pa.large_string()) if not pa.types.is_large_string(c.type) else c for c in columns]
    if len(texts) == 1:
        return texts[0]
    return pc.binary_join_element_wise(*texts, " / ")


def accepted_values(spool: TableSpool, columns: list[str], bad: np.ndarray) -> pa.Array:
    """Distinct reference values of a table's accepted rows (text; several columns joined with ' / ')."""
    parts = [pc.unique(_as_text([batch.column(c) for c in columns])) for batch in spool.accepted(bad, columns)]
    if not parts:
        return pa.array([], type=pa.large_string())
    return pc.unique(pa.chunked_array(parts, type=pa.large_string()).combine_chunks())


# --------------------------------------------------------------------------- table rules
#: The columns each table rule reads: the parent's key, and the date compared with the parent's.
_RULE_COLUMNS = {"kur_loans": ("member_id", "applied_on"), "business_reports": ("business_id", "period")}


def table_rules(table: str, rows: pa.Table, kept: np.ndarray, spools: dict[str, TableSpool],
                bads: dict[str, np.ndarray], problems: Problems) -> None:
    """Rules between a row (of :func:`rows_to_check`, those still ``kept`` after the reference checks) and its
    parent: a loan before the member joined, a report outside the business's lifetime (against accepted
    parent rows).

    Each row finds its parent by a hash lookup of its key among the parent's accepted keys
    (:func:`pyarrow.compute.index_in`, over every row at once: the hash table of the keys is built
    once), and the dates are compared in numpy.
    """
    if table == "kur_loans" and "members" in spools:
        keys, (joined_on,) = _parent_columns(spools["members"], bads["members"], "member_id", ["joined_on"])
        joined = _dates(joined_on.take(pc.index_in(rows.column("member_id"), value_set=keys)))
        applied = _dates(rows.column("applied_on"))
        hit = (applied < joined) & kept  # false where either is missing
        problems.add(rows.column("_uid").to_numpy()[hit], "applied_on", "loan_before_joining",
                     [f"applied {pd.Timestamp(a):%d/%m/%Y}, before the member joined on {pd.Timestamp(j):%d/%m/%Y}"
                      for a, j in zip(applied[hit], joined[hit])])
    if table == "business_reports" and "businesses" in spools:
        keys, (started, closed) = _parent_columns(spools["businesses"], bads["businesses"], "business_id",
                                                  ["started_on", "closed_on"])
        start, end = pa.array(_month_start(started)), pa.array(_month_start(closed))
        at = pc.index_in(rows.column("business_id"), value_set=keys)
        period = _dates(rows.column("period"))
        outside_life = (period < _dates(start.take(at))) | (period > _dates(end.take(at)))  # false where NaT
        hit = outside_life & kept
        problems.add(rows.column("_uid").to_numpy()[hit], "period", "report_outside_lifetime",
                     "report month is before the business started or after it closed")


def _parent_columns(spool: TableSpool, bad: np.ndarray, key: str,
                    columns: list[str]) -> tuple[pa.Array, list[pa.Array]]:
    """A parent table's accepted keys and, aligned with them, some of its columns (the first row of a key)."""
    data = _accepted(spool, bad, [key, *columns])
    keys = data.column(key).combine_chunks()
    first = pc.equal(pc.index_in(keys, value_set=keys), pa.array(np.arange(len(keys)), type=pa.int32()))
    data = data.filter(pc.fill_null(first, False))
    return data.column(key).combine_chunks(), [data.column(c).combine_chunks() for c in columns]


def _dates(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Dates as numpy ``datetime64`` (missing as NaT)."""
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype="datetime64[ms]")


def _month_start(values: pa.Array) -> np.ndarray:
    """The first day of each date's month (missing stays NaT)."""
    return _dates(values).astype("datetime64[M]").astype("datetime64[ms]")


def _accepted(spool: TableSpool, bad: np.ndarray, columns: list[str]) -> pa.Table:
    """Some columns of the spool's accepted rows (those not in ``bad``), in the order written."""
    parts = list(spool.accepted(bad, columns))
    return pa.concat_tables(parts) if parts else spool.schema.empty_table().select(columns)
