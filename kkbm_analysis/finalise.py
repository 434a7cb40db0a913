"""The accepted rows of each table, typed, sorted by key and written (by province where the store says).

After every check, a table's accepted rows are its spooled rows (:mod:`.spool`) minus the
rows a whole-table check refused. :func:`finalise` types and sorts them exactly as
:func:`kkbm_analysis.store.conform` does and hands them to the store: one file, or one
file per province for the tables :data:`kkbm_analysis.store.PARTITIONED` names. A row's
province is its community's (found through its session, member or business, whose own
rows were accepted), or its village's for departures. A partitioned table is written
province by province, so only one province's rows are ever in memory; when a row's
province cannot be told (its parent table was not given), the table stays one file.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import store
from .schema import TABLES
from .spool import TableSpool

__all__ = ["finalise", "PROVINCE_VIA", "PARENTS"]

#: How a row finds its province: the hops (column, parent table) up to its community, whose
#: ``province_code`` it is; or the column whose first two digits are the province code.
PROVINCE_VIA: dict[str, tuple[tuple[str, str], ...] | str] = {
    "members": (("community_id", "communities"),),
    "sessions": (("community_id", "communities"),),
    "businesses": (("community_id", "communities"),),
    "attendance": (("session_id", "sessions"), ("community_id", "communities")),
    "stages": (("member_id", "members"), ("community_id", "communities")),
    "kur_loans": (("member_id", "members"), ("community_id", "communities")),
    "business_reports": (("business_id", "businesses"), ("community_id", "communities")),
    "departures": "village_code",
}
#: The key of each parent table, and the column a row of it points on to (the table rules of
#: :func:`kkbm_analysis.checks.table_rules` look up members and businesses too).
PARENTS = {"communities": ("community_id", "province_code"), "sessions": ("session_id", "community_id"),
           "members": ("member_id", "community_id"), "businesses": ("business_id", "community_id")}


class _Accepted:
    """The accepted rows of every spooled table."""

    def __init__(self, spools: dict[str, TableSpool], bad: dict[str, np.ndarray]) -> None:
        self.spools, self.bad = spools, bad
        self._maps: dict[tuple[str, ...], tuple[pa.Array, pa.Array]] = {}

    def batches(self, table: str, columns: list[str] | None = None) -> Iterator[pa.Table]:
        for batch in self.spools[table].accepted(self.bad.get(table, np.zeros(0, np.int64)), columns):
            if batch.num_rows:
                yield batch

    def column(self, table: str, column: str) -> pa.ChunkedArray:
        parts = [b.column(column) for b in self.batches(table, [column])]
        if not parts:
            return pa.chunked_array([], type=self.spools[table].schema.field(column).type)
        return pa.chunked_array([c for p in parts for c in p.chunks], type=parts[0].type)

    def lookup(self, parents: tuple[str, ...]) -> tuple[pa.Array, pa.Array]:
        """(keys of the first parent's accepted rows, the column the last parent points on to for each): the
        hops composed on the parents' rows, so a large table looks up only once (kept: several tables go
        through members)."""
        if parents not in self._maps:
            if len(parents) == 1:
                key, value = PARENTS[parents[0]]
                self._maps[parents] = (self.column(parents[0], key).combine_chunks().cast(pa.large_string()),
                                       self.column(parents[0], value).combine_chunks().cast(pa.large_string()))
            else:
                keys, onward = self.lookup(parents[:1])
                after, value = self.lookup(parents[1:])
                self._maps[parents] = (keys, value.take(pc.index_in(onward, value_set=after)))
        return self._maps[parents]

    def provinces(self, table: str) -> pa.Array | None:
        """The province of each accepted row (in spool order), or None when some cannot be told."""
        via = PROVINCE_VIA[table]
        if isinstance(via, str):
            values = self.column(table, via).combine_chunks().cast(pa.large_string())
            out = pc.utf8_slice_codeunits(values, 0, 2)
        else:
            if any(parent not in self.spools for _, parent in via):
                return None
            keys, onward = self.lookup(tuple(parent for _, parent in via))
            values = self.column(table, via[0][0]).combine_chunks().cast(pa.large_string())
            out = onward.take(pc.index_in(values, value_set=keys))
        if out.null_count:
            return None
        return out


def finalise(present: list[str], spools: dict[str, TableSpool], bad: dict[str, np.ndarray], out: Path | None,
             meta: dict[str, str], work: Path) -> tuple[dict[str, pd.DataFrame], dict[str, dict]]:
    """Type, sort and write every present table; return (tables kept in memory, manifest entries).

    With ``out`` None nothing is written and every table is returned in memory.
    """
    accepted = _Accepted(spools, bad)
    tables, info = {}, {}
    for table in present:
        if out is None:
            tables[table] = store.conform(table, _frame(spools[table], accepted.batches(table)), validate=False)
            info[table] = {"rows": len(tables[table]), "columns": list(tables[table].columns)}
            continue
        codes = accepted.provinces(table) if table in store.PARTITIONED else None
        if codes is None or len(codes) == 0:
            rows = _rows(spools[table], accepted.batches(table, _arrow_schema(table).names))
            info[table] = store.write_table(out, table, _conformed(table, rows), meta)
        else:
            parts = _by_province(table, spools[table], accepted, codes, work)
            info[table] = store.write_partitioned(out, table, parts, meta)
    return tables, info


def _rows(spool: TableSpool, batches: Iterator[pa.Table]) -> pa.Table:
    parts = list(batches)
    return pa.concat_tables(parts) if parts else spool.schema.empty_table()


def _frame(spool: TableSpool, batches: Iterator[pa.Table]) -> pd.DataFrame:
    return spool.frame(_rows(spool, batches))


def _by_province(table: str, spool: TableSpool, accepted: _Accepted, codes: pa.Array,
                 work: Path) -> Iterator[tuple[str, pd.DataFrame]]:
    """Conformed frames, one per province, after one pass that splits the rows by province."""
    names = pc.unique(codes).to_pylist()
    order = {code: i for i, code in enumerate(sorted(names))}
    folder = work / f"{table}.provinces"
    folder.mkdir(parents=True, exist_ok=True)
    writers: dict[str, tuple] = {}
    at = 0
    for batch in accepted.batches(table, _arrow_schema(table).names):  # the table's columns (not _uid, raw cells)
        part = codes.slice(at, batch.num_rows)
        at += batch.num_rows
        index = np.array([order[c] for c in pc.unique(part).to_pylist()])
        ranks = pc.index_in(part, value_set=pa.array(sorted(names), type=part.type)).to_numpy()
        perm = np.argsort(ranks, kind="stable")
        ordered = batch.take(pa.array(perm))
        cuts = np.searchsorted(ranks[perm], np.arange(len(names) + 1))
        for i in np.sort(index):
            code = sorted(names)[i]
            piece = ordered.slice(int(cuts[i]), int(cuts[i + 1] - cuts[i]))
            if code not in writers:
                sink = pa.OSFile(str(folder / f"{code}.arrows"), "wb")
                writers[code] = (sink, pa.ipc.new_stream(sink, piece.schema))
            writers[code][1].write_table(piece)
    for sink, writer in writers.values():
        writer.close()
        sink.close()
    for code in sorted(writers):
        path = folder / f"{code}.arrows"
        with pa.OSFile(str(path), "rb") as source:
            rows = pa.ipc.open_stream(source).read_all()
        path.unlink()
        yield code, _conformed(table, rows)


def _conformed(table: str, rows: pa.Table) -> pa.Table:
    """Spooled rows as :func:`kkbm_analysis.store.conform` gives them, without a round trip through pandas.

    The schema's columns with the types (and pandas metadata) that a conformed frame's Arrow
    conversion has, sorted by key with Arrow's stable sort (text by code point, missing last, as
    pandas sorts), in one chunk: the Parquet file is the same byte for byte.
    """
    schema, keys = _arrow_schema(table), TABLES[table].key
    data = rows.select(schema.names).cast(schema).combine_chunks()
    if _in_key_order(data, keys):  # rows often come in key order already: the sort would change nothing
        return data
    order = pc.sort_indices(data, sort_keys=[(k, "ascending") for k in keys])  # nulls last, by default
    return data.take(order).combine_chunks()


def _in_key_order(data: pa.Table, keys: tuple[str, ...]) -> bool:
    """Whether each row's key is at most the next row's (compared as the stable sort compares: text by its
    bytes, which is code point order); False for a key with a missing value."""
    if data.num_rows < 2:
        return True
    columns = [data.column(k).combine_chunks() for k in keys]
    if any(c.null_count for c in columns):
        return False
    pairs = [(c.slice(0, len(c) - 1), c.slice(1)) for c in columns]
    ordered = pc.less_equal(*pairs[-1])
    for a, b in reversed(pairs[:-1]):
        ordered = pc.or_(pc.less(a, b), pc.and_(pc.equal(a, b), ordered))
    return bool(pc.all(ordered).as_py())


@cache
def _arrow_schema(table: str) -> pa.Schema:
    return pa.Schema.from_pandas(store.empty_table(table), preserve_index=False)
