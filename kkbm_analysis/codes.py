"""Identifiers as integer positions, by Arrow hashing: the joins every analysis needs, without Python loops.

Processed tables hold identifiers as Arrow-backed strings. ``Series.isin`` and ``merge`` on
them hash value by value in Python; :func:`positions` and :func:`is_in` hand the Arrow
buffers to :mod:`pyarrow.compute` (``index_in``, ``is_in``) and return numpy arrays, so a
million members or nine million business reports are placed in a fraction of a second.
Everything after that is integer arithmetic (:func:`numpy.bincount` and friends).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["arrow_strings", "positions", "positions_of", "is_in", "sort_by_key"]


def arrow_strings(values: Any, *, combine: bool = True) -> pa.Array | pa.ChunkedArray:
    """Values as Arrow ``large_string`` (zero-copy for Arrow-backed strings).

    ``combine=False`` keeps chunked columns chunked (the lookups accept them).
    """
    if isinstance(values, pd.Index):
        values = pd.Series(values)
    if isinstance(values, pd.Series) and hasattr(values.array, "_pa_array"):
        arr = values.array._pa_array  # an ArrowStringArray's chunked array, no conversion
    elif isinstance(values, pd.Series):
        arr = pa.array(values.astype("string").to_numpy(dtype=object, na_value=None), type=pa.large_string())
    else:
        arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values)
    if isinstance(arr, pa.ChunkedArray) and combine:
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    return arr


def positions(values: Any, keys: Any) -> np.ndarray:
    """Position of each value among ``keys`` (``-1`` when absent or missing), as int64."""
    return positions_of([values], keys)[0]


def positions_of(columns: Sequence[Any], keys: Any) -> list[np.ndarray]:
    """:func:`positions` of each of several columns among the same ``keys``, hashing the keys once
    (for a million member ids, hashing them is most of the work)."""
    arrays = [arrow_strings(c, combine=False) for c in columns]
    chunks = [chunk for a in arrays for chunk in (a.chunks if isinstance(a, pa.ChunkedArray) else [a])]
    pos = pc.index_in(pa.chunked_array(chunks, type=pa.large_string()), value_set=arrow_strings(keys))
    pos = pos.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return np.split(pos, np.cumsum([len(a) for a in arrays])[:-1])


def is_in(values: Any, keys: Any) -> np.ndarray:
    """Whether each value is among ``keys`` (missing values: False), as a boolean array."""
    hit = pc.is_in(arrow_strings(values, combine=False), value_set=arrow_strings(keys))
    return hit.fill_null(False).to_numpy(zero_copy_only=False).astype(bool, copy=False)


def sort_by_key(table: pa.Table, key: list[str]) -> pa.Table:
    """``table`` sorted by the columns ``key`` (ascending, missing values last, stable), as Arrow.

    The order of ``DataFrame.sort_values(key, kind="stable")``: strings compare by code point
    in both. A table already in key order (as a processed table's partitions, concatenated,
    usually are) is returned as it is, after one vectorised comparison of neighbouring rows.
    """
    if table.num_rows < 2:
        return table
    if _in_order(table, key):
        return table
    return table.take(pc.sort_indices(table, sort_keys=[(k, "ascending") for k in key]))  # nulls at the end


def _in_order(table: pa.Table, key: list[str]) -> bool:
    """Whether each row's key is <= the next row's, lexicographically (False with a missing key value)."""
    if any(table[k].null_count for k in key):
        return False
    before, after = table.slice(0, table.num_rows - 1), table.slice(1)
    *first, last = key
    ok = pc.less_equal(before[last], after[last])
    for k in reversed(first):
        ok = pc.or_(pc.less(before[k], after[k]), pc.and_(pc.equal(before[k], after[k]), ok))
    return bool(pc.all(ok).as_py())
