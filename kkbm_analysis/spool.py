"""Rows of one table kept on disk while the ingest reads on: what lets it stream.

The ingest reads a table chunk by chunk. Rows that pass the row rules are appended to the
table's :class:`TableSpool` (Arrow IPC stream, LZ4-compressed) together with their row id
(``_uid``), the row number a person sees (``_row``) and, for the few fields a later check
may quote (keys, references), the raw cell text (``_raw_<field>``). The checks that need
the whole table (duplicate keys, references between tables, the province of each row) and
the final, key-sorted write then read the spool back batch by batch or column by column,
so memory follows the largest chunk or province, not the input.

A spool lives in a hidden folder inside the output's staging folder (removed before the
output is swapped in, or with the staging folder of a killed run). Identifier columns are
never spooled: pseudonyms are already keyed hashes, and raw cells are kept only for
fields that are not identifiers.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .store import column_dtypes

__all__ = ["TableSpool", "RAW_PREFIX", "outside"]

RAW_PREFIX = "_raw_"
_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")


class TableSpool:
    """The spooled rows of one table.

    Parameters
    ----------
    folder : Path
        Where the spool file goes (created if needed).
    table : str
        The table (its schema fixes the columns and types).
    raw_fields : sequence of str
        Fields whose raw cell text is kept beside the typed value.
    """

    def __init__(self, folder: Path, table: str, raw_fields: Sequence[str] = ()) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{table}.arrows"
        self.table = table
        self.dtypes = column_dtypes(table)
        self.raw_fields = list(raw_fields)
        fields = [pa.field("_uid", pa.int64()), pa.field("_row", pa.int64())]
        fields += list(pa.Schema.from_pandas(_typed(pd.DataFrame(columns=list(self.dtypes)), self.dtypes),
                                             preserve_index=False))
        fields += [pa.field(RAW_PREFIX + f, pa.large_string()) for f in self.raw_fields]
        self.schema = pa.schema(fields)
        self._sink = pa.OSFile(str(self.path), "wb")
        self._writer = pa.ipc.new_stream(self._sink, self.schema, options=_OPTIONS)
        self.rows = 0

    def __getstate__(self) -> dict:
        """A closed spool travels between processes (a forked helper builds some tables): its file stays."""
        if self._writer is not None:
            raise ValueError(f"the spool of {self.table} is still being written")
        return {k: v for k, v in self.__dict__.items() if k != "_sink"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _sink=None)

    def write(self, typed: pd.DataFrame, rows: np.ndarray, raw: pd.DataFrame | None = None) -> None:
        """Append rows: the typed table columns and ``_uid``, their row numbers, and their raw cells.

        ``raw`` holds one column per raw field (missing ones are kept empty).
        """
        if not len(typed):
            return
        frame = _typed(typed[list(self.dtypes)], self.dtypes)
        arrays = [pa.array(typed["_uid"].to_numpy(dtype=np.int64)), pa.array(np.asarray(rows, dtype=np.int64))]
        body = pa.Table.from_pandas(frame, preserve_index=False)
        arrays += [body.column(i).cast(self.schema.field(i + 2).type) for i in range(body.num_columns)]
        for f in self.raw_fields:
            values = raw[f] if raw is not None and f in raw else None
            arrays.append(_raw_text(values, len(typed)))
        batch = pa.Table.from_arrays(arrays, schema=self.schema)
        self._writer.write_table(batch)
        self.rows += len(typed)

    def close(self) -> None:
        """Finish writing (reading is possible from then on)."""
        if self._writer is not None:
            self._writer.close()
            self._sink.close()
            self._writer = None

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.Table]:
        """The spooled rows in the order written, a batch at a time (only ``columns``, the only ones read
        and decompressed)."""
        self.close()
        options = None
        if columns is not None:
            options = pa.ipc.IpcReadOptions(included_fields=sorted({self.schema.get_field_index(c) for c in columns}))
        with pa.memory_map(str(self.path), "r") as source:
            reader = pa.ipc.open_stream(source, options=options)
            for batch in reader:
                table = pa.Table.from_batches([batch])
                yield table.select(list(columns)) if columns is not None else table

    def accepted(self, bad: np.ndarray, columns: Sequence[str] | None = None) -> Iterator[pa.Table]:
        """The spooled rows whose ``_uid`` is not in ``bad``, a batch at a time (only ``columns``)."""
        need = None if columns is None else (list(columns) if "_uid" in columns else ["_uid", *columns])
        for batch in self.batches(need):
            if len(bad):
                batch = batch.filter(outside(batch.column("_uid"), bad))
            yield batch if columns is None else batch.select(list(columns))

    def read(self, columns: Sequence[str] | None = None, uids: Sequence[int] | None = None) -> pa.Table:
        """The spooled rows (only ``columns``; only rows whose ``_uid`` is in ``uids``)."""
        if uids is not None:
            uids = np.unique(np.asarray(uids, dtype=np.int64))
        wanted = list(columns) if columns is not None else None
        need = wanted if wanted is None or uids is None or "_uid" in wanted else [*wanted, "_uid"]
        parts = []
        for table in self.batches(need):
            if uids is not None:
                table = table.filter(pc.invert(outside(table.column("_uid"), uids)))
            parts.append(table.select(wanted) if wanted is not None else table)
        if not parts:
            return self.schema.empty_table().select(wanted) if wanted is not None else self.schema.empty_table()
        return pa.concat_tables(parts)

    def frame(self, table: pa.Table) -> pd.DataFrame:
        """A spooled table as pandas, with the table's own column types."""
        out = table.to_pandas()
        for column, dtype in self.dtypes.items():
            if column in out:
                out[column] = out[column].astype(dtype)
        return out

    def remove(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


def outside(uids: pa.Array | pa.ChunkedArray, excluded: np.ndarray) -> pa.Array:
    """Which ``uids`` are not among ``excluded`` (row ids, no nulls), by a binary search in the sorted ids.

    The ingest tests batch after batch against one set of refused rows; a hash set
    (:func:`pyarrow.compute.is_in`) would be built again for every batch.
    """
    values = uids.to_numpy()
    excluded = np.asarray(excluded, dtype=np.int64)
    if not len(excluded):
        return pa.array(np.ones(len(values), dtype=bool))
    if len(excluded) > 1 and not (excluded[1:] > excluded[:-1]).all():
        excluded = np.unique(excluded)
    if len(values) > 1 and (values[1:] > values[:-1]).all():  # increasing, as spooled: find the excluded among them
        keep = np.ones(len(values), dtype=bool)
        among = excluded[np.searchsorted(excluded, values[0]):np.searchsorted(excluded, values[-1], side="right")]
        at = np.searchsorted(values, among)
        keep[at[values[at] == among]] = False
        return pa.array(keep)
    at = np.minimum(np.searchsorted(excluded, values), len(excluded) - 1)
    return pa.array(excluded[at] != values)


def _typed(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    """Columns cast to the table's types (dates at midnight as ``datetime64[ms]``)."""
    out = {}
    for column, dtype in dtypes.items():
        s = frame[column] if column in frame else pd.Series(pd.NA, index=frame.index)
        out[column] = s.astype(dtype) if str(s.dtype) != dtype else s
    return pd.DataFrame(out, index=frame.index)


def _raw_text(values: pd.Series | None, n: int) -> pa.Array:
    """Raw cells as Arrow text (empty cells null)."""
    if values is None:
        return pa.nulls(n, type=pa.large_string())
    if values.dtype == object:
        texts = values.where(values.notna(), None)
        bad = texts.map(lambda v: v is not None and not isinstance(v, str))
        if bad.any():
            texts = texts.where(~bad, texts.map(str))
        return pa.array(texts.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    return pa.array(values, type=pa.large_string(), from_pandas=True)
