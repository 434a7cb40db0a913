"""Read raw data files exactly as researchers bring them.

This module turns a delimited text file (``.csv``, ``.tsv``, ``.txt``, also gzipped) or a
spreadsheet workbook (``.xlsx``, ``.xlsm``, ``.xlsb``, ``.xls``, ``.ods``) into
:class:`RawSheet` objects: a frame of *raw* cell values plus provenance (file, sheet,
header row, title rows, encoding, delimiter, the column of each header). It deliberately
does not interpret values: numbers and dates written as text stay text (``"0012"`` stays
``"0012"``), and parsing them is the job of :mod:`.parsing`.

What it handles:

* encodings (UTF-8 with/without BOM, UTF-16/32 with BOM, UTF-16 without BOM,
  Windows-1252/Latin-1 and whatever charset-normalizer recognises) and delimiters
  (``,`` ``;`` tab ``|``), also when the header uses another delimiter than the data;
* title blocks and notes above the header, a header deep in the sheet, two-row headers
  under merged cells, a row of column numbers under the header (:mod:`.layout`);
* row numbers as a person sees them (Excel sheet row, CSV line number);
* entirely empty rows (dropped and counted);
* KoboToolbox/ODK exports (:mod:`.kobo`);
* workbooks safely (:mod:`.workbooks`): sizes checked before reading, one bad sheet
  never stops the others, formula cells without a saved result listed.

:func:`read_file` gives every sheet a fate (read, empty, no table, not understood,
unreadable). Files are only ever opened for reading. A file that cannot be read at all
raises :class:`RawFileError` with a plain message naming the file.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable, Sequence, Union

import numpy as np
import pandas as pd

from .delimited import read_text_file, sniff_delimiter, sniff_encoding
from .layout import MAX_SCAN, HeaderNotFound, combine_header, detect_header_row as _detect, is_empty, sub_header, \
    title_of
from .rawsheet import Known, RawFile, RawFileError, RawSheet, SheetFate, chunks_of, fail as _fail, \
    finish as _finish, no_header as _no_header, numbers_row as _numbers_row
from .workbooks import WorkbookError, workbook_grids

__all__ = ["RawFileError", "RawSheet", "RawFile", "SheetFate", "SUPPORTED_SUFFIXES", "WORKBOOK_SUFFIXES", "data_suffix",
           "read_file", "chunks_of", "read_raw", "detect_header_row", "sniff_encoding", "sniff_delimiter"]

SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".csv.gz", ".tsv.gz", ".txt.gz",
                      ".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
_TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".csv.gz", ".tsv.gz", ".txt.gz")
#: Workbooks: read whole when opened (text files are read in chunks later).
WORKBOOK_SUFFIXES = tuple(s for s in SUPPORTED_SUFFIXES if s not in _TEXT_SUFFIXES)

#: A header row: a 1-based row number, two consecutive rows (a two-row header), or a
#: function of the sheet name giving either (None: detect it).
HeaderSpec = Union[int, Sequence[int], Callable[[Union[str, None]], Union[int, Sequence[int], None]], None]


def data_suffix(path: str | Path) -> str | None:
    """The supported suffix of a file name (``'.csv.gz'`` counts as one), or None."""
    name = Path(path).name.lower()
    return next((s for s in sorted(SUPPORTED_SUFFIXES, key=len, reverse=True) if name.endswith(s)
                 and len(name) > len(s)), None)


# --------------------------------------------------------------------------- #
# Entry points
# --------------------------------------------------------------------------- #
def read_file(path: str | Path, *, sheets: Sequence[str] | None = None, header_row: HeaderSpec = None,
              known: Known | None = None, chunk_rows: int | None = None) -> RawFile:
    """Read every table of a raw file, and the fate of each sheet that holds none.

    Parameters
    ----------
    path : str or pathlib.Path
        A file with one of :data:`SUPPORTED_SUFFIXES` (case-insensitive).
    sheets : sequence of str, optional
        Workbooks only: read just these sheets, in this order.
    header_row : int, pair of int, or callable, optional
        Header row(s) as a person sees them (1-based), or ``f(sheet) -> rows or None``.
        Overrides detection.
    known : callable, optional
        ``known(header_text) -> bool``: whether a header is one the suite knows; a row with
        several known headers is taken as the header wherever it is.
    chunk_rows : int, optional
        Text files only: read the rows in chunks of about this many (the sheet's ``frame``
        then holds the header only; :func:`~kkbm_analysis.rawsheet.chunks_of` gives the rows).

    Raises
    ------
    RawFileError
        The file is missing, empty, of an unsupported type or not readable at all.
    """
    path = Path(path)
    suffix = _check_file(path)
    if suffix in _TEXT_SUFFIXES:
        return read_text_file(path, _header_for(header_row, None), known, chunk_rows)
    try:
        grids = workbook_grids(path, sheets)
    except WorkbookError as exc:
        raise _fail(path, str(exc)) from None
    out, fates = [], []
    for g in grids:
        if g.grid is None:
            fates.append(SheetFate(g.name, "unreadable", g.reason or "cannot be read"))
            continue
        grid = g.grid.astype(object).where(g.grid.notna(), None).replace({"": None})
        if grid.empty or grid.isna().all(axis=None):
            fates.append(SheetFate(g.name, "empty", "the sheet is empty"))
            continue
        try:
            sheet = _sheet_from_grid(path, g.name, grid, _header_for(header_row, g.name), known)
        except HeaderNotFound as exc:
            fates.append(_no_header(g.name, grid, exc.reason))
            continue
        sheet.formula_cells, sheet.stray_cells = g.formula_cells, g.stray_cells
        out.append(sheet)
    return RawFile(path, out, fates)


def read_raw(path: str | Path, *, sheets: Sequence[str] | None = None,
             header_row: int | None = None) -> list[RawSheet]:
    """Read a raw data file into frames of raw cell values (the tables only).

    Sheets without a table are skipped with a ``UserWarning`` (use :func:`read_file` to
    get their fates). Raises :class:`RawFileError` when no sheet holds a table, or when a
    sheet named in ``sheets`` holds none.
    """
    if header_row is not None and (isinstance(header_row, bool) or not isinstance(header_row, (int, np.integer))
                                   or header_row < 1):
        raise ValueError(f"header_row must be a positive row number, got {header_row!r}")
    raw = read_file(path, sheets=sheets, header_row=header_row)
    if raw.fates and (sheets is not None or header_row is not None):
        f = raw.fates[0]
        raise _fail(raw.path, f.reason, f.sheet)
    worth_saying = [f for f in raw.fates if f.fate != "empty"]
    if worth_saying and raw.sheets:
        warnings.warn(f"{raw.path}: skipped sheet(s) without a table: "
                      + "; ".join(f"'{f.sheet}' ({f.reason})" for f in worth_saying), UserWarning, stacklevel=2)
    if not raw.sheets:
        reasons = "; ".join((f"'{f.sheet}' ({f.reason})" if f.sheet is not None else f.reason) for f in raw.fates)
        nothing = all(f.fate == "empty" for f in raw.fates)
        if raw.fates and raw.fates[0].sheet is None:
            raise _fail(raw.path, reasons)
        raise _fail(raw.path, "no sheet holds a table" + (" (all sheets are empty)" if nothing else ": " + reasons))
    return raw.sheets


def detect_header_row(cells: pd.DataFrame, *, max_scan: int = MAX_SCAN, known: Known | None = None) -> int:
    """0-based position of the header row in a headerless grid (see :func:`.layout.detect_header_row`).

    Raises
    ------
    RawFileError
        No row qualifies (the message does not name a file).
    """
    try:
        return _detect(cells, max_scan=max_scan, known=known)
    except HeaderNotFound as exc:
        raise RawFileError(exc.reason, reason=exc.reason) from None


def _header_for(spec: HeaderSpec, sheet: str | None) -> list[int] | None:
    value = spec(sheet) if callable(spec) else spec
    if value is None:
        return None
    rows = [value] if isinstance(value, (int, np.integer)) else list(value)
    if not rows or any(isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 1 for r in rows):
        raise ValueError(f"header_row must be a positive row number or two, got {value!r}")
    return [int(r) for r in rows]


def _check_file(path: Path) -> str:
    """Return the supported suffix, or raise when the file is unusable."""
    suffix = data_suffix(path)
    if suffix is None:
        shown = Path(path).suffix.lower() or "no suffix"
        raise _fail(path, f"unsupported file type ({shown}); supported types are " + ", ".join(SUPPORTED_SUFFIXES))
    if not path.exists():
        raise _fail(path, "the file does not exist")
    if not path.is_file():
        raise _fail(path, "this is not a file (it is a folder or a device)")
    try:
        size = path.stat().st_size
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise _fail(path, f"the file cannot be opened ({exc.strerror or type(exc).__name__})") from None
    if size == 0:
        raise _fail(path, "the file is empty")
    return suffix


# --------------------------------------------------------------------------- #
# Workbook sheets
# --------------------------------------------------------------------------- #
def _sheet_from_grid(path: Path, sheet: str, grid: pd.DataFrame, header: list[int] | None,
                     known: Known | None) -> RawSheet:
    """Build one RawSheet from a headerless sheet grid (row 1 at position 0)."""
    notes = []
    if header is None:
        pos = _detect(grid, known=known)
        first_data = pos + 1
        if pos + 1 < len(grid) and sub_header(grid.iloc[pos].tolist(), grid.iloc[pos + 1].tolist()):
            names = combine_header(grid.iloc[pos].tolist(), grid.iloc[pos + 1].tolist())
            first_data = pos + 2
            notes.append(f"header joined from rows {pos + 1} and {pos + 2} (merged group cells)")
        else:
            names = grid.iloc[pos].tolist()
    else:
        pos = header[0] - 1
        if pos >= len(grid) or all(is_empty(v) for v in grid.iloc[pos]):
            raise HeaderNotFound(f"header_row {header[0]} is empty or beyond the last row")
        names = grid.iloc[pos].tolist()
        if len(header) == 2 and pos + 1 < len(grid):
            names = combine_header(names, grid.iloc[pos + 1].tolist())
        first_data = pos + len(header)
    data = grid.iloc[first_data:].reset_index(drop=True)
    rows = np.arange(first_data + 1, first_data + 1 + len(data), dtype=np.int64)
    title = title_of(grid.iloc[:pos].itertuples(index=False, name=None))
    skipped = _numbers_row(data, rows, len(names))
    out = _finish(path, sheet, names, data, rows, first_data, title, known, skipped=skipped)
    out.notes += notes
    out.header_rows = first_data - pos
    return out
