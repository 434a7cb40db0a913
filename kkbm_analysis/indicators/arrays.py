"""Arrow and numpy helpers of the indicator engine: identifier joins by Arrow hashing, typed arrays.

Identifier joins (member to community, report to business...) run once per source table on
Arrow hash tables (:func:`_lookup`); everything after them is integer codes.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..codes import arrow_strings

#: The integer that stands for a missing date (NaT) in day and month codes.
_NAT = np.iinfo(np.int64).min


#: Values as Arrow ``large_string`` (one implementation: :func:`kkbm_analysis.codes.arrow_strings`).
_arrow_strings = arrow_strings


def _lookup(values: Any, keys: pa.Array) -> np.ndarray:
    """Position of each value in ``keys`` (``-1`` if absent or missing), by Arrow hashing."""
    pos = pc.index_in(_arrow_strings(values, combine=False), value_set=keys)
    return pos.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def _take(arr: np.ndarray, pos: np.ndarray, missing: Any = -1) -> np.ndarray:
    """``arr[pos]`` with ``missing`` where ``pos < 0``."""
    found = pos >= 0
    if found.all():
        return arr[pos]
    out = arr[np.where(found, pos, 0)] if len(arr) else np.full(len(pos), missing, dtype=arr.dtype)
    return np.where(found, out, missing)


def _dates(values: Any) -> np.ndarray:
    """Dates as ``datetime64[ms]`` (NaT for missing)."""
    if isinstance(values, np.ndarray) and values.dtype == "datetime64[ms]":
        return values
    if isinstance(values, (pd.Series, pd.Index)):
        return values.to_numpy(dtype="datetime64[ms]", na_value=np.datetime64("NaT"))
    return np.asarray(values, dtype="datetime64[ms]")


def _floats(values: Any) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.Index)):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(values, dtype=np.float64)


def _bools(values: Any) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.Index)):
        return values.to_numpy(dtype=bool, na_value=False)
    return np.asarray(values, dtype=bool)


def _group_min_dates(pos: np.ndarray, dates: np.ndarray, n: int, how: str = "min") -> np.ndarray:
    """Per-position minimum (or maximum) of ``dates`` (NaT where none)."""
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ms]")
    ok = (pos >= 0) & ~np.isnat(dates)
    if ok.any():
        s = pd.Series(dates[ok]).groupby(pos[ok]).agg(how)
        out[s.index.to_numpy()] = s.to_numpy(dtype="datetime64[ms]")
    return out
