"""Where the table sits in a grid of raw cells: its header, a second header row, column numbers.

Field workbooks put title blocks, notes, merged group headers ("Tanggal" over "Berangkat |
Pulang") and a row of column numbers ("(1) (2) (3)") around the table. The functions here
find the header row among the first rows of a grid, preferring a row whose cells are
headers the suite knows, join a two-row header into one, and recognise the
column-numbers row so that it is skipped with a reason instead of read as data.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = ["HeaderNotFound", "detect_header_row", "sub_header", "combine_header", "is_column_numbers",
           "looks_tabular", "is_empty", "cell_text", "title_of", "MAX_SCAN"]

MAX_SCAN = 200  # rows searched for the header
_YEAR = re.compile(r"^(19[5-9]\d|20\d\d|2100)$")
_COLUMN_NUMBER = re.compile(r"^\(?(\d{1,3})[.)]?$")


class HeaderNotFound(Exception):
    """No header row in a grid; ``reason`` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_empty(value: Any) -> bool:
    """True for None, NaN/NaT and blank strings."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and any(ch.isalpha() for ch in value)


def cell_text(value: Any) -> str:
    """Display text of a header or title cell, whitespace collapsed."""
    if is_empty(value):
        return ""
    if isinstance(value, bool):
        text = str(value)
    elif isinstance(value, (float, np.floating)) and float(value).is_integer():
        text = str(int(value))
    elif isinstance(value, dt.datetime):  # includes pandas.Timestamp
        midnight = value.time() == dt.time(0)
        text = value.date().isoformat() if midnight else value.isoformat(sep=" ")
    elif isinstance(value, (dt.date, dt.time)):
        text = value.isoformat()
    else:
        text = str(value)
    return " ".join(text.split())


def title_of(rows: Iterable[Iterable[Any]]) -> str | None:
    """Join the non-empty cells above the header with ' | '."""
    parts = [cell_text(v) for row in rows for v in row if not is_empty(v)]
    return " | ".join(parts) if parts else None


def _labels(row: list[Any]) -> int:
    """Cells that read as column labels: text, or years when a row has several (a wide table)."""
    text = sum(map(_is_text, row))
    years = {cell_text(v) for v in row if not _is_text(v) and _YEAR.match(cell_text(v))}
    return text + (len(years) if len(years) >= 2 else 0)


def detect_header_row(cells: pd.DataFrame, *, max_scan: int = MAX_SCAN,
                      known: Callable[[str], bool] | None = None) -> int:
    """0-based position of the header row in a headerless grid.

    With ``known`` (a test "is this a header the suite knows?"), the first row holding at
    least two known headers and at least half as many as the best row is the header.
    Otherwise it is the first row, among the first ``max_scan``, with at least
    ``max(2, 0.6 * widest)`` filled cells of which at least half are labels (text with a
    letter, or years when the row has several, as in a table with one column per year).

    Raises
    ------
    HeaderNotFound
    """
    rows = [[v for v in row if not is_empty(v)] for row in cells.iloc[:max_scan].itertuples(index=False, name=None)]
    widest = max((len(r) for r in rows), default=0)
    if widest == 0:
        raise HeaderNotFound(f"the first {min(max_scan, len(rows))} rows are empty")
    if known is not None:
        found = _known_header(rows, known)
        if found is not None:
            return found
    need = max(2, 0.6 * widest)
    for pos, row in enumerate(rows):
        if len(row) >= need and _labels(row) * 2 >= len(row):
            return pos
    raise HeaderNotFound(f"no header row found in the first {min(max_scan, len(rows))} rows (a header needs at "
                         f"least {int(np.ceil(need))} filled cells, mostly text); set header_row in "
                         "kkbm-mapping.yaml to choose it")


def _known_header(rows: list[list[Any]], known: Callable[[str], bool], after: int = 3) -> int | None:
    """The first row with at least two known headers and half as many as the best row seen up
    to ``after`` rows past the first such row (a header is near the top of its table)."""
    scores: list[int] = []
    first = None
    for i, row in enumerate(rows):
        texts = [cell_text(v) for v in row if _is_text(v)] if len(row) >= 2 else []
        scores.append(sum(bool(known(t)) for t in texts) if len(texts) >= 2 else 0)
        if first is None and scores[-1] >= 2:
            first = i
        if first is not None and i >= first + after:
            break
    if first is None:
        return None
    best = max(scores)
    return next(i for i, s in enumerate(scores) if s >= max(2, (best + 1) // 2))


def sub_header(header: Sequence[Any], below: Sequence[Any]) -> bool:
    """Whether ``below`` is the second row of a two-row header (merged group cells above it).

    True when every filled cell below is text, some sit under an empty header cell (the
    rest of a merged group), some header cells have nothing below (merged down), and each
    filled cell below has a group label at or left of it.
    """
    width = max(len(header), len(below))
    head = [header[i] if i < len(header) else None for i in range(width)]
    low = [below[i] if i < len(below) else None for i in range(width)]
    filled = [i for i, v in enumerate(low) if not is_empty(v)]
    if not filled or not all(_is_text(low[i]) for i in filled):
        return False
    under_empty = any(is_empty(head[i]) for i in filled)
    merged_down = any(not is_empty(head[i]) and is_empty(low[i]) for i in range(width))
    first_label = next((i for i, v in enumerate(head) if not is_empty(v)), width)
    return under_empty and merged_down and min(filled) >= first_label


def combine_header(header: Sequence[Any], below: Sequence[Any]) -> list[str]:
    """One header from two rows: ``Tanggal`` over ``Berangkat | Pulang`` -> ``Tanggal Berangkat``, ``Tanggal Pulang``."""
    width = max(len(header), len(below))
    out, group = [], ""
    for i in range(width):
        top = cell_text(header[i]) if i < len(header) else ""
        low = cell_text(below[i]) if i < len(below) else ""
        if top:
            group = top
        out.append(f"{group} {low}".strip() if low else top)
    return out


def is_column_numbers(row: Sequence[Any], width: int) -> bool:
    """Whether a row is the column numbering some forms put under the header ("(1) (2) (3)")."""
    numbers = []
    for v in row:
        if is_empty(v):
            continue
        m = _COLUMN_NUMBER.match(cell_text(v))
        if not m:
            return False
        numbers.append(int(m.group(1)))
    return (len(numbers) >= max(2, 0.6 * width) and numbers == sorted(numbers)
            and numbers[-1] - numbers[0] == len(numbers) - 1 and numbers[0] <= 2)


def looks_tabular(cells: pd.DataFrame, *, min_rows: int = 5, min_cells: int = 3) -> bool:
    """Whether a grid without a header still looks like a table (rows of several filled cells)."""
    if cells.empty:
        return False
    filled = cells.notna() & cells.map(lambda v: not is_empty(v))
    return int((filled.sum(axis=1) >= min_cells).sum()) >= min_rows
