"""The raw cells of one table, with where they came from: what every reader returns.

:class:`RawSheet` (a frame of raw cell values with file, sheet, header row, the column of
each header, and the rows left out on purpose), :class:`SheetFate` (what happened to a sheet
that gave no table), :class:`RawFile` (both, for one file) and :class:`RawFileError`, plus
the assembly every reader ends with (:func:`finish`). A large text file is not read whole:
its :class:`RawSheet` holds the header and a :class:`RowStream` that gives the rows in chunks
(:func:`stream`, :func:`chunks_of`), each chunk assembled as :func:`finish` assembles a sheet.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

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
    stream : RowStream or None
        For a sheet read in chunks: ``frame`` holds no rows, :func:`chunks_of` gives them.
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
    stream: "RowStream | None" = field(default=None, repr=False)

    def cell(self, row: int, column: str) -> str:
        """Where a cell is, as a person finds it: ``'D12'`` in a workbook, ``'line 12, field 4'`` in text."""
        return self.cell_namer(column)(row)

    def cell_namer(self, column: str) -> Callable[[int], str]:
        """:meth:`cell` for one column: a function of the row number."""
        try:
            pos = self.positions[list(self.frame.columns).index(column)] if self.positions else None
        except ValueError:
            pos = None
        if pos is None:
            return lambda row: f"row {row}"
        if self.sheet is not None:
            return lambda row: cell_ref(row, pos)
        return lambda row: f"line {row}, field {pos + 1}"


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


# --------------------------------------------------------------------------- sheets read in chunks
class RowStream:
    """The rows of a sheet that is read in chunks (a large text file).

    Each chunk is assembled as :func:`finish` assembles a whole sheet, with one difference
    that only the end of the file can settle: a column without a header is kept while its
    cells may still hold data somewhere; :meth:`kept_columns` says, once every chunk was
    read, which of those a whole read would have dropped (no header and no data anywhere).

    Parameters
    ----------
    sheet : RawSheet
        The header (its ``frame`` has the columns and no rows).
    chunks : callable
        ``chunks(only=None) -> iterator of (frame of raw cells, row numbers)``, read afresh each call;
        ``only``, column positions, asks for those columns alone (a reader may give more).
    names : list of str
        Header cell texts, one per column position (``""`` when the header cell is empty).
    numbers_width : int or None
        Look for a column-numbers row at the top of the first chunk (see :func:`numbers_row`).
    """

    def __init__(self, sheet: "RawSheet", chunks: Callable[..., Iterator[tuple[pd.DataFrame, np.ndarray]]],
                 names: list[str], numbers_width: int | None) -> None:
        self.sheet = sheet
        self._chunks = chunks
        self.names = list(names)
        self.numbers_width = numbers_width
        self.has_data = np.zeros(len(names), dtype=bool)
        self.blank_rows = 0
        self.done = False

    def __iter__(self) -> Iterator["RawSheet"]:
        self.has_data[:] = False
        self.blank_rows, self.done = 0, False
        yield from self._read(track=True)
        self.done = True

    def replay(self) -> Iterator["RawSheet"]:
        """The chunks again, from the start, without touching what the first reading found."""
        return self._read(track=False)

    def _read(self, track: bool) -> Iterator["RawSheet"]:
        first = True
        for data, rows in self._chunks():
            skipped = numbers_row(data, rows, self.numbers_width) if first and self.numbers_width else {}
            first = False
            yield self._chunk(data, rows, skipped, track)

    def _chunk(self, data: pd.DataFrame, rows: np.ndarray, skipped: dict[int, str], track: bool) -> "RawSheet":
        width = data.shape[1]
        if width > len(self.names):  # a record wider than the header: more columns without a header
            self.names += [""] * (width - len(self.names))
            self.has_data = np.concatenate([self.has_data, np.zeros(width - len(self.has_data), dtype=bool)])
        data = data.reindex(columns=range(len(self.names)))
        missing = data.isna()
        if track:
            self.has_data |= ~missing.all(axis=0).to_numpy()
        if any(pd.api.types.is_object_dtype(d) for d in data.dtypes):
            data = data.astype(object).where(~missing, None)
        data.index = pd.Index(rows, name="row")
        blank = missing.all(axis=1).to_numpy()
        data = data.loc[~blank]
        if skipped:
            data = data.drop(index=[r for r in skipped if r in data.index])
        data.columns = self.columns()
        if track:
            self.blank_rows += int(blank.sum())
        head = self.sheet
        return RawSheet(file=head.file, sheet=head.sheet, frame=data, header_row=head.header_row, title=head.title,
                        blank_rows=int(blank.sum()), kobo=False, encoding=head.encoding, delimiter=head.delimiter,
                        positions=list(range(len(self.names))), skipped_rows=skipped,
                        header_confirmed=head.header_confirmed, notes=head.notes, header_rows=head.header_rows)

    def state(self) -> dict:
        """What reading every chunk found (for the same stream in another process)."""
        return {"names": self.names, "has_data": self.has_data, "blank_rows": self.blank_rows, "done": self.done}

    def restore(self, state: dict) -> None:
        self.names, self.has_data = list(state["names"]), state["has_data"]
        self.blank_rows, self.done = state["blank_rows"], state["done"]

    def columns(self) -> list[str]:
        """Column names of the chunks: every position, unnamed ones as ``unnamed_<n>``."""
        return _make_unique([name or f"unnamed_{i + 1}" for i, name in enumerate(self.names)])

    def kept_columns(self) -> list[str]:
        """The columns a whole read keeps (after every chunk was read): see :func:`finish`."""
        keep = _trim_empty_edges(self.names, ~self.has_data)
        return [self.columns()[i] for i in keep]

    def values(self, columns: list[str]) -> Iterator[pd.DataFrame]:
        """The cells of some columns, chunk by chunk, read afresh (blank rows included; only those
        columns are converted where the reader can)."""
        where = [self.columns().index(c) for c in columns]
        for data, _ in self._chunks(where):
            data = data.reindex(columns=range(max(len(self.names), data.shape[1])))
            yield data.iloc[:, where].set_axis(columns, axis=1)


def stream(path: Path, sheet: str | None, header: list[Any], chunks: Callable[..., Iterator[tuple[pd.DataFrame,
           np.ndarray]]], header_line: int, title: str | None, known: Known | None, *, numbers_width: int | None = None,
           width: int = 0, encoding: str | None = None, delimiter: str | None = None) -> RawSheet:
    """A :class:`RawSheet` whose rows are read in chunks (see :class:`RowStream`).

    ``width``: columns known from the first records (more than the header has when they are wider).
    """
    names = [cell_text(v) for v in header]
    names += [""] * (width - len(names))
    named = [name or f"unnamed_{i + 1}" for i, name in enumerate(names)]
    shown = _make_unique(named)
    confirmed = known is not None and sum(bool(known(n)) for n in named) >= 2
    head = RawSheet(file=path, sheet=sheet, frame=pd.DataFrame(columns=shown, index=pd.Index([], name="row")),
                    header_row=int(header_line), title=title, blank_rows=0, kobo=False, encoding=encoding,
                    delimiter=delimiter, positions=list(range(len(names))), header_confirmed=confirmed)
    head.stream = RowStream(head, chunks, names, numbers_width)
    return head


def chunks_of(sheet: RawSheet) -> Iterator[RawSheet]:
    """The rows of a sheet in chunks: the sheet itself, or the chunks of a streamed sheet."""
    if sheet.stream is None:
        yield sheet
    else:
        yield from sheet.stream
