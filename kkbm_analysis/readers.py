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

import codecs
import csv
import gzip
import re
import warnings
import zlib
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any, Callable, Sequence, Union

import numpy as np
import pandas as pd

from .kobo import looks_like_kobo, tidy_kobo
from .layout import (MAX_SCAN, HeaderNotFound, cell_text, combine_header, detect_header_row as _detect,
                     is_column_numbers, is_empty, looks_tabular, sub_header, title_of)
from .workbooks import WorkbookError, cell_ref, workbook_grids

__all__ = ["RawFileError", "RawSheet", "RawFile", "SheetFate", "SUPPORTED_SUFFIXES", "data_suffix", "read_file",
           "read_raw", "detect_header_row", "sniff_encoding", "sniff_delimiter"]

SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".csv.gz", ".tsv.gz", ".txt.gz",
                      ".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
_TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".csv.gz", ".tsv.gz", ".txt.gz")
_DELIMITERS = (",", ";", "\t", "|")
_ENCODING_SAMPLE_BYTES = 1 << 20  # bytes looked at to choose an encoding
_SNIFF_SAMPLE_CHARS = 64 * 1024  # characters looked at to choose a delimiter
_WIDTH_RETRIES = 12  # re-reads allowed when CSV rows are wider than expected

#: A header row: a 1-based row number, two consecutive rows (a two-row header), or a
#: function of the sheet name giving either (None: detect it).
HeaderSpec = Union[int, Sequence[int], Callable[[Union[str, None]], Union[int, Sequence[int], None]], None]
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


def _fail(path: Path, reason: str, sheet: str | None = None) -> RawFileError:
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


def data_suffix(path: str | Path) -> str | None:
    """The supported suffix of a file name (``'.csv.gz'`` counts as one), or None."""
    name = Path(path).name.lower()
    return next((s for s in sorted(SUPPORTED_SUFFIXES, key=len, reverse=True) if name.endswith(s)
                 and len(name) > len(s)), None)


# --------------------------------------------------------------------------- #
# Entry points
# --------------------------------------------------------------------------- #
def read_file(path: str | Path, *, sheets: Sequence[str] | None = None, header_row: HeaderSpec = None,
              known: Known | None = None) -> RawFile:
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

    Raises
    ------
    RawFileError
        The file is missing, empty, of an unsupported type or not readable at all.
    """
    path = Path(path)
    suffix = _check_file(path)
    if suffix in _TEXT_SUFFIXES:
        return _read_text_file(path, _header_for(header_row, None), known)
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


def _no_header(sheet: str | None, grid: pd.DataFrame, reason: str) -> SheetFate:
    if looks_tabular(grid):
        return SheetFate(sheet, "not_understood", reason)
    return SheetFate(sheet, "no_table", "no header row found: only notes or a title, no table")


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
# Sniffing
# --------------------------------------------------------------------------- #
def sniff_encoding(data: bytes) -> str:
    """Choose a text encoding for raw bytes.

    Order: byte-order mark; UTF-16 without a BOM (NUL bytes on every other position);
    strict UTF-8; ``cp1252`` when the bytes decode with it and look like Western text
    (isolated accented letters, as in "Désa"); charset-normalizer's best guess;
    ``cp1252`` if it decodes; ``latin-1`` as the last resort.
    """
    for bom, name in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                      (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return name
    utf16 = _utf16_without_bom(data)
    if utf16:
        return utf16
    if _decodes(data, "utf-8"):
        return "utf-8"
    cp1252_ok = _decodes(data, "cp1252")
    if cp1252_ok and _looks_western(data):
        return "cp1252"
    guess = _charset_guess(data)
    if guess:
        return guess
    return "cp1252" if cp1252_ok else "latin-1"


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` when most of every other byte is NUL (ASCII text in UTF-16)."""
    sample = data[:4096]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) / 2
    if odd > 0.4 * half and even < 0.1 * half:
        return "utf-16-le"
    if even > 0.4 * half and odd < 0.1 * half:
        return "utf-16-be"
    return None


def _looks_western(data: bytes) -> bool:
    """True when non-ASCII bytes are mostly isolated (accents in Latin words)."""
    if b"\x00" in data:
        return False
    high = np.frombuffer(data, dtype=np.uint8) >= 0x80
    n_high = int(high.sum())
    if n_high == 0:
        return True
    paired = high[1:] & high[:-1]
    adjacent = np.zeros_like(high)
    adjacent[1:] |= paired
    adjacent[:-1] |= paired
    return int(adjacent.sum()) <= 0.5 * n_high


def _charset_guess(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
        best = from_bytes(data).best()
    except Exception:  # a detector failure must not stop reading
        return None
    return best.encoding if best is not None else None


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=False)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def sniff_delimiter(text_sample: str) -> str:
    """Choose the delimiter among ``,`` ``;`` tab and ``|`` (``","`` when nothing splits the lines)."""
    lines = [ln for ln in text_sample.splitlines() if ln.strip()][:100]
    if not lines:
        return ","
    scores = {d: _consistency(lines, d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: scores[d])  # first wins ties
    try:
        chosen = csv.Sniffer().sniff("\n".join(lines), delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        chosen = None
    if chosen in scores and scores[chosen] >= scores[best]:
        return chosen
    return best if scores[best] > (0, 0) else ","


def _consistency(lines: list[str], delimiter: str) -> tuple[int, int]:
    """Score a delimiter: (lines with the modal field count, that count); unsplit lines ignored."""
    try:
        counts = [len(rec) for rec in csv.reader(lines, delimiter=delimiter)]
    except csv.Error:
        return (0, 0)
    counts = [c for c in counts if c > 1]
    if not counts:
        return (0, 0)
    width, n = Counter(counts).most_common(1)[0]
    return (n, width)


# --------------------------------------------------------------------------- #
# Delimited text
# --------------------------------------------------------------------------- #
def _gz(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def _open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if _gz(path) else open(path, "rb")


def _open_text(path: Path, encoding: str) -> IO[str]:
    return gzip.open(path, "rt", encoding=encoding, newline="") if _gz(path) else open(path, encoding=encoding,
                                                                                          newline="")


def _read_text_file(path: Path, header: list[int] | None, known: Known | None) -> RawFile:
    try:
        with _open_binary(path) as fh:
            sample = fh.read(_ENCODING_SAMPLE_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise _fail(path, f"it is not a valid gzip file ({type(exc).__name__})" if _gz(path)
                    else f"the file cannot be read ({type(exc).__name__})") from None
    first = sniff_encoding(sample)
    tried: list[str] = []
    for encoding in dict.fromkeys([first, "cp1252", "latin-1"]):
        try:
            return _read_delimited_as(path, header, encoding, known)
        except UnicodeError:  # the sample decoded, something later did not
            tried.append(encoding)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise _fail(path, f"the compressed data is damaged ({type(exc).__name__})") from None
    raise _fail(path, "the text encoding could not be recognised (tried " + ", ".join(tried) + ")")


def _read_delimited_as(path: Path, header: list[int] | None, encoding: str, known: Known | None) -> RawFile:
    """Read delimited text with a known encoding (UnicodeError propagates)."""
    with _open_text(path, encoding) as fh:
        sample = fh.read(_SNIFF_SAMPLE_CHARS)
    if not sample.strip():
        raise _fail(path, "the file is empty")
    if len(sample) == _SNIFF_SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # complete lines only
    delimiter = sniff_delimiter(sample)

    records, starts, ends = _head_records(path, encoding, delimiter, header)
    split = _split_odd_delimiters(records, delimiter)
    span = max(1, max(map(len, records)))
    grid = pd.DataFrame([r + [None] * (span - len(r)) for r in records], dtype=object)
    notes = [f"line {starts[i]} uses another delimiter than the data; split on {d!r}" for i, d in split.items()]
    try:
        if header is None:
            pos = _detect(grid, known=known)
            first_data = pos + 1
        else:
            pos = _record_at_line(path, starts, header[0])
            first_data = pos + len(header)
    except HeaderNotFound as exc:
        return RawFile(path, [], [_no_header(None, grid, exc.reason)])
    names = list(records[pos])
    if header is not None and len(header) == 2 and first_data - 1 < len(records):
        names = combine_header(records[pos], records[pos + 1])
    elif header is None and pos + 1 < len(records) and sub_header(records[pos], records[pos + 1]):
        names, first_data = combine_header(records[pos], records[pos + 1]), pos + 2
        notes.append(f"header joined from lines {starts[pos]} and {starts[pos + 1]} (merged group cells)")
    width = max(len(r) for r in records[pos:]) if records[pos:] else len(names)
    data = _pandas_csv(path, encoding, delimiter, skip=first_data, width=width)
    rows = _csv_line_numbers(path, encoding, data, ends[first_data - 1])
    skipped = _numbers_row(data, rows, len(names))
    sheet = _finish(path, None, names, data, rows, starts[first_data - 1], title_of(records[:pos]), known,
                    skipped=skipped, encoding=encoding, delimiter=delimiter)
    sheet.notes += notes
    sheet.header_rows = first_data - pos
    return RawFile(path, [sheet], [])


def _split_odd_delimiters(records: list[list[str]], delimiter: str) -> dict[int, str]:
    """Split single-cell lines that use another delimiter into the data's width (in place)."""
    widths = [len(r) for r in records if len(r) > 1]
    if not widths:
        return {}
    modal = Counter(widths).most_common(1)[0][0]
    done = {}
    for i, rec in enumerate(records):
        if len(rec) != 1 or not rec[0]:
            continue
        for other in _DELIMITERS:
            if other == delimiter or other not in rec[0]:
                continue
            cells = next(csv.reader([rec[0]], delimiter=other))
            if abs(len(cells) - modal) <= 1 and len(cells) > 1:
                records[i] = cells
                done[i] = other
                break
    return done


def _head_records(path: Path, encoding: str, delimiter: str, header: list[int] | None
                  ) -> tuple[list[list[str]], list[int], list[int]]:
    """Parse the leading records with the csv module, with their line spans."""
    limit = max(MAX_SCAN, (max(header) + 2) if header else 0)
    records, starts, ends = [], [], []
    try:
        with _open_text(path, encoding) as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            line = 0
            for rec in islice(reader, limit):
                records.append(rec)
                starts.append(line + 1)
                ends.append(reader.line_num)
                line = reader.line_num
    except csv.Error as exc:
        raise _fail(path, f"the text is not valid delimited data near line {len(records) + 1} ({exc})") from None
    return records, starts, ends


def _record_at_line(path: Path, starts: list[int], line: int) -> int:
    if line in starts:
        return starts.index(line)
    if line > starts[-1]:
        raise _fail(path, f"header_row={line} is beyond the end of the file")
    raise _fail(path, f"line {line} is inside a quoted multi-line cell, not the start of a row")


def _pandas_csv(path: Path, encoding: str, delimiter: str, *, skip: int, width: int) -> pd.DataFrame:
    """Read the records after the header with pandas' C parser, as raw strings.

    Rows wider than ``width`` make pandas fail; the read is then retried wider.
    """
    for _ in range(_WIDTH_RETRIES):
        try:
            return pd.read_csv(
                path, sep=delimiter, header=None, names=list(range(width)), skiprows=skip, dtype=object,
                keep_default_na=False, na_values=[""], skip_blank_lines=False, index_col=False, quotechar='"',
                doublequote=True, encoding=encoding, engine="c", compression="gzip" if _gz(path) else None,
            )
        except pd.errors.EmptyDataError:
            return pd.DataFrame(columns=list(range(width)), dtype=object)
        except pd.errors.ParserError as exc:
            seen = re.search(r"Expected \d+ fields in line \d+, saw (\d+)", str(exc))
            if not seen:
                raise _fail(path, _parser_reason(exc)) from None
            width = max(int(seen.group(1)), 2 * width)
    raise _fail(path, "rows have wildly different numbers of cells")


def _parser_reason(exc: Exception) -> str:
    detail = " ".join(str(exc).split())
    if "EOF inside string" in detail:
        row = re.search(r"starting at row (\d+)", detail)
        where = f" (in data record {int(row.group(1)) + 1} after the header)" if row else ""
        return f"a quotation mark opens a cell that is never closed{where}"
    return f"the text is not valid delimited data ({detail[:200]})"


def _csv_line_numbers(path: Path, encoding: str, data: pd.DataFrame, header_end: int) -> np.ndarray:
    """1-based line number where each record of ``data`` starts (quoted line breaks counted)."""
    first = header_end + 1
    simple = np.arange(first, first + len(data), dtype=np.int64)
    if len(data) == 0 or _count_lines(path, encoding) == header_end + len(data):
        return simple
    extra = np.zeros(len(data), dtype=np.int64)
    for col in data.columns:
        s = data[col]
        if s.notna().any():
            extra += s.str.count("\n").fillna(0).to_numpy(dtype=np.int64)
    return simple + np.concatenate(([0], np.cumsum(extra)[:-1]))


def _count_lines(path: Path, encoding: str, chunk: int = 1 << 22) -> int:
    """Physical lines in a text file (\\n, \\r\\n and lone \\r end a line)."""
    ascii_compatible = "\r\n".encode(encoding, errors="ignore") == b"\r\n"
    nl, cr, crlf = (b"\n", b"\r", b"\r\n") if ascii_compatible else ("\n", "\r", "\r\n")
    opener = (lambda: _open_binary(path)) if ascii_compatible else (lambda: _open_text(path, encoding))
    terminators, last, prev_cr = 0, None, False
    with opener() as fh:
        while block := fh.read(chunk):
            terminators += block.count(nl) + block.count(cr) - block.count(crlf)
            if prev_cr and block[:1] == nl:
                terminators -= 1  # \r\n split across two blocks
            prev_cr = block[-1:] == cr
            last = block[-1:]
    return terminators + (0 if last in (nl, cr) else 1)


def _numbers_row(data: pd.DataFrame, rows: np.ndarray, width: int) -> dict[int, str]:
    """The column-numbers row right under the header, if there is one."""
    for i in range(min(len(data), 2)):
        values = data.iloc[i].tolist()
        if all(is_empty(v) for v in values):
            continue
        if is_column_numbers(values, width):
            return {int(rows[i]): "column numbers under the header"}
        break
    return {}


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


# --------------------------------------------------------------------------- #
# Common assembly
# --------------------------------------------------------------------------- #
def _finish(path: Path, sheet: str | None, header: list[Any], data: pd.DataFrame, rows: np.ndarray,
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
