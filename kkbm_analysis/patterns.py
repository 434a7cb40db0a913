"""Regular-expression pieces that match the same in Python's ``re`` and in pyarrow's RE2.

pandas runs a string method on Arrow text in pyarrow only when RE2 would give Python's
answer; a pattern with ``\\s`` (RE2's is ASCII-only) goes to Python's ``re``, one value at a
time. :data:`SPACE` spells Python's ``\\s`` out so that the fast path is taken with the same
result, and :func:`ascii_matches` runs a pattern in RE2 over all-ASCII Arrow text, where
RE2's case rules, ``\\b`` and ASCII classes are Python's.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["SPACE_CHARS", "SPACE", "ASCII_SPACE", "ascii_matches", "first_bytes", "opening_bytes"]

#: The characters of Python's ``\s`` (those ``str.isspace`` accepts), for a ``[...]`` class; none lies
#: above U+3000 (``tests/test_parsing.py`` checks the whole range).
SPACE_CHARS = "".join(f"\\x{ord(c):02x}" if ord(c) < 0x100 else c for c in map(chr, range(0x3001)) if c.isspace())
#: Python's ``\s`` as a character class pyarrow runs.
SPACE = f"[{SPACE_CHARS}]"
#: Python's ``\s`` on ASCII text.
ASCII_SPACE = "[" + "".join(f"\\x{ord(c):02x}" for c in map(chr, range(128)) if c.isspace()) + "]"


def ascii_matches(column: pd.Series, pattern: str) -> np.ndarray | None:
    """Which cells of a column of Arrow text match ``pattern`` (RE2, from the start), tried once per distinct
    value; None when the column is not Arrow text or holds non-ASCII text (then Python must decide)."""
    if not isinstance(column.dtype, pd.StringDtype) or column.dtype.storage != "pyarrow" or not len(column):
        return None
    data = pc.dictionary_encode(pa.chunked_array(column.array._pa_array).combine_chunks())
    if not pc.all(pc.string_is_ascii(data.dictionary)).as_py():
        return None
    found = pc.match_substring_regex(data.dictionary, pattern).take(data.indices)
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def first_bytes(column: pd.Series, count: int = 1) -> np.ndarray | None:
    """The first ``count`` UTF-8 bytes of each cell of a column of Arrow text, read from Arrow's buffers
    without making a Python string: shape ``(rows,)`` for one byte, ``(rows, count)`` for more; 0 past a
    cell's end (an empty or missing cell is all 0). None when the column is not Arrow text."""
    if not isinstance(column.dtype, pd.StringDtype) or column.dtype.storage != "pyarrow":
        return None
    parts = []
    for chunk in pa.chunked_array(column.array._pa_array).chunks:
        if not pa.types.is_string(chunk.type) and not pa.types.is_large_string(chunk.type):
            return None
        _, offsets, data = chunk.buffers()
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        starts = np.frombuffer(offsets, dtype=width)[chunk.offset:chunk.offset + len(chunk) + 1]
        lengths = starts[1:] - starts[:-1]
        if chunk.null_count:
            lengths = np.where(chunk.is_null().to_numpy(zero_copy_only=False), 0, lengths)
        text = np.frombuffer(data, dtype=np.uint8) if data is not None and data.size else np.zeros(1, np.uint8)
        found = np.empty((len(chunk), count), dtype=np.uint8)
        for k in range(count):  # the index is clipped for cells shorter than k + 1 bytes, which get 0
            found[:, k] = text.take(starts[:-1] + k, mode="clip") * (lengths > k)
        parts.append(found[:, 0] if count == 1 else found)
    if not parts:
        return np.zeros(0 if count == 1 else (0, count), dtype=np.uint8)
    return np.concatenate(parts)


def opening_bytes(alternatives: tuple[str, ...]) -> np.ndarray:
    """Which first two UTF-8 bytes (a 256 x 256 table) a cell can open with when it matches, ignoring case,
    white space and then one of ``alternatives`` (regular expressions that each open with two ASCII letters).

    Any pair starting with ASCII white space or a byte of a non-ASCII character is allowed (Python decides
    such cells' case folding), and so is a word's initial before a non-ASCII byte; a cell of one byte is not.
    """
    table = np.zeros((256, 256), dtype=bool)
    table[[b for b in range(256) if b >= 128 or chr(b).isspace()], :] = True
    for a, b in {w[:2] for w in alternatives}:
        for first in {ord(a.lower()), ord(a.upper())}:
            table[first, 128:] = True
            table[first, [ord(b.lower()), ord(b.upper())]] = True
    return table
