"""The raw cells of one table, with where they came from: what every reader returns.

:class:`RawSheet` (a frame of raw cell values with file, sheet, header row, the column of
each header, and the rows left out on purpose), :class:`SheetFate` (what happened to a sheet
that gave no table), :class:`RawFile` (both, for one file) and :class:`RawFileError`, plus
the assembly every reader ends with (:func:`finish`).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from .kobo import looks_like_kobo, tidy_kobo
from .layout import cell_text, is_column_numbers, is_empty, looks_tabular
from .workbooks import cell_ref

Known = Callable[[str], bool]


class RawFileError(Exception):
    """A file cannot be read at all; the message names the file and the reason in plain words.

    Parameters
    ----------
    message : str
        Full human-readable message.
    path : pathlib.Path, optional
    sheet : str, optional
    reason : str, optional
        The reason alone, without the file name.
    """

    def __init__(self, message: str, *, path: Path | None = None,
                 sheet: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.sheet = sheet
        self.reason = reason if reason is not None else message


def fail(path: Path, reason: str, sheet: str | None = None) -> RawFileError:
    where = f"'{path}'" + (f", sheet '{sheet}'" if sheet is not None else "")
    return RawFileError(f"Cannot read {where}: {reason}", path=path, sheet=sheet, reason=reason)


@dataclass
class RawSheet:
    """One table read from a raw file, with provenance.

    Attributes
    ----------
    file : pathlib.Path
    sheet : str or None
        Sheet name for workbooks, ``None`` for delimited text.
    frame : pandas.DataFrame
        One column per header (whitespace collapsed, duplicates made unique as ``name``,
        ``name.2``); raw values (empty cells are ``None``). The index, named ``row``, is
        the row number a person sees. Empty rows and skipped rows are not in it.
    header_row : int
        Row (Excel) or line (CSV) number of the (last) header row, 1-based.
    title : str or None
        Text found above the header, cells joined with ``" | "``.
    blank_rows : int
        Entirely empty rows below the header.
    kobo : bool
        True when the table looks like a KoboToolbox/ODK export (and was tidied).
    encoding, delimiter : str or None
        For delimited text only.
    positions : list of int or None
        0-based column of each frame column in the file (None for tidied Kobo exports).
    skipped_rows : dict
        Rows left out on purpose, row number -> reason (e.g. the column-numbers row).
    formula_cells, stray_cells : list of str
        Formula cells without a saved result, and far-away cells left out (workbooks).
    header_confirmed : bool
        True when at least two headers are ones the suite knows (so the row is surely a header).
    header_rows : int
        2 when the header was joined from two rows (``header_row`` is the second).
    notes : list of str
        What the reader did that a person should know (e.g. joined a two-row header).
    """

    file: Path
    sheet: str | None
    frame: pd.DataFrame = field(repr=False)
    header_row: int
    title: str | None
    blank_rows: int
    kobo: bool
    encoding: str | None = None
    delimiter: str | None = None
    positions: list[int] | None = None
    skipped_rows: dict[int, str] = field(default_factory=dict)
    formula_cells: list[str] = field(default_factory=list)
    stray_cells: list[str] = field(default_factory=list)
    header_confirmed: bool = False
    notes: list[str] = field(default_factory=list)
    header_rows: int = 1

    def cell(self, row: int, column: str) -> str:
        """Where a cell is, as a person finds it: ``'D12'`` in a workbook, ``'line 12, field 4'`` in text."""
        try:
            pos = self.positions[list(self.frame.columns).index(column)] if self.positions else None
        except ValueError:
            pos = None
        if pos is None:
            return f"row {row}"
        return cell_ref(row, pos) if self.sheet is not None else f"line {row}, field {pos + 1}"


@dataclass(frozen=True)
class SheetFate:
    """What happened to a sheet (or a text file) that gave no table.

    ``fate`` is ``empty``, ``no_table`` (a notes sheet: nothing table-like),
    ``not_understood`` (table-like, but no header found) or ``unreadable``.
    """

    sheet: str | None
    fate: str
    reason: str


@dataclass
class RawFile:
    """Everything read from one file: its tables and the fate of the sheets that gave none."""

    path: Path
    sheets: list[RawSheet]
    fates: list[SheetFate]



def no_header(sheet: str | None, grid: pd.DataFrame, reason: str) -> SheetFate:
    if looks_tabular(grid):
        return SheetFate(sheet, "not_understood", reason)
    return SheetFate(sheet, "no_table", "no header row found: only notes or a title, no table")


def numbers_row(data: pd.DataFrame, rows: np.ndarray, width: int) -> dict[int, str]:
    """The column-numbers row right under the header, if there is one."""
    for i in range(min(len(data), 2)):
        values = data.iloc[i].tolist()
        if all(is_empty(v) for v in values):
            continue
        if is_column_numbers(values, width):
            return {int(rows[i]): "column numbers under the header"}
        break
    return {}


def finish(path: Path, sheet: str | None, header: list[Any], data: pd.DataFrame, rows: np.ndarray,
            header_line: int, title: str | None, known: Known | None, *, skipped: dict[int, str],
            encoding: str | None = None, delimiter: str | None = None) -> RawSheet:
    """Name columns, drop empty rows/columns and skipped rows, tidy Kobo exports, build the RawSheet."""
    width = max(len(header), data.shape[1])
    names = [cell_text(v) for v in header] + [""] * (width - len(header))
    data = data.reindex(columns=range(width))  # header may be wider than the data
    missing = data.isna()  # computed once: this is the costly step on big files
    keep = _trim_empty_edges(names, missing.all(axis=0).to_numpy())
    names = [names[i] or f"unnamed_{i + 1}" for i in keep]
    missing = missing.iloc[:, keep]
    data = data.iloc[:, keep].astype(object).where(~missing, None)
    data.index = pd.Index(rows, name="row")
    blank = missing.all(axis=1).to_numpy() if keep else np.ones(len(data), dtype=bool)
    data = data.loc[~blank]
    if skipped:
        data = data.drop(index=[r for r in skipped if r in data.index])
    positions: list[int] | None = list(keep)
    kobo = looks_like_kobo(names)
    if kobo:
        data, names = tidy_kobo(data, names)
        positions = None
    data.columns = _make_unique(names)
    confirmed = known is not None and sum(bool(known(n)) for n in names) >= 2
    return RawSheet(file=path, sheet=sheet, frame=data, header_row=int(header_line), title=title,
                    blank_rows=int(blank.sum()), kobo=kobo, encoding=encoding, delimiter=delimiter,
                    positions=positions, skipped_rows=dict(skipped), header_confirmed=confirmed)


def _trim_empty_edges(names: list[str], no_data: np.ndarray) -> list[int]:
    """Positions kept after dropping leading/trailing columns with no header and no data."""
    empty = [not name and bool(nd) for name, nd in zip(names, no_data)]
    lo, hi = 0, len(names)
    while lo < hi and empty[lo]:
        lo += 1
    while hi > lo and empty[hi - 1]:
        hi -= 1
    return list(range(lo, hi))


def _make_unique(names: list[str]) -> list[str]:
    """Make names unique: the 2nd 'x' becomes 'x.2', the 3rd 'x.3', ..."""
    taken = set(names)
    seen: Counter[str] = Counter()
    out = []
    for name in names:
        seen[name] += 1
        if seen[name] == 1:
            out.append(name)
            continue
        k = seen[name]
        while f"{name}.{k}" in taken:
            k += 1
        seen[name] = k
        taken.add(f"{name}.{k}")
        out.append(f"{name}.{k}")
    return out
