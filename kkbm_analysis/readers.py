"""Read raw data files exactly as researchers bring them.

This module turns a CSV/TSV/TXT export or a spreadsheet workbook (xlsx, xlsm, xls,
ods) into :class:`RawSheet` objects: a frame of *raw* cell values plus provenance
(file, sheet, header row, title rows, encoding, delimiter). It deliberately does not
interpret values: numbers and dates written as text stay text (``"0012"`` stays
``"0012"``), and parsing them is the job of another module.

What it does handle:

* encodings (UTF-8 with/without BOM, UTF-16/32 with BOM, Windows-1252/Latin-1 and
  whatever charset-normalizer recognises) and delimiters (``,`` ``;`` tab ``|``);
* title rows above the header ("REKAP DATA ANGGOTA KKBM ..."), kept as ``title``;
* row numbers as a person sees them (Excel sheet row, CSV line number);
* entirely empty rows (dropped and counted);
* KoboToolbox/ODK exports: group paths flattened, select-multiple per-choice
  columns folded into their parent, bookkeeping columns dropped.

Files are only ever opened for reading. Anything that cannot be read raises
:class:`RawFileError` with a plain message naming the file (and sheet).
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "RawFileError",
    "RawSheet",
    "SUPPORTED_SUFFIXES",
    "read_raw",
    "detect_header_row",
    "sniff_encoding",
    "sniff_delimiter",
]

SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".ods")
_TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
_DELIMITERS = (",", ";", "\t", "|")
_ENCODING_SAMPLE_BYTES = 1 << 20  # bytes looked at to choose an encoding
_SNIFF_SAMPLE_CHARS = 64 * 1024  # characters looked at to choose a delimiter
_MAX_SCAN = 30  # rows searched for the header
_WIDTH_RETRIES = 12  # re-reads allowed when CSV rows are wider than expected



class RawFileError(Exception):
    """A file cannot be read at all.

    The message names the file (and sheet) and the reason in plain words.

    Parameters
    ----------
    message : str
        Full human-readable message.
    path : pathlib.Path, optional
        The file concerned.
    sheet : str, optional
        The sheet concerned, for workbooks.
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
    """Build a :class:`RawFileError` whose message names file and sheet."""
    where = f"'{path}'" + (f", sheet '{sheet}'" if sheet is not None else "")
    return RawFileError(f"Cannot read {where}: {reason}", path=path, sheet=sheet,
                        reason=reason)


@dataclass
class RawSheet:
    """One table read from a raw file, with provenance.

    Attributes
    ----------
    file : pathlib.Path
        The path as given to :func:`read_raw`.
    sheet : str or None
        Sheet name for workbooks, ``None`` for delimited text.
    frame : pandas.DataFrame
        One column per header (header text stripped, internal whitespace
        collapsed, duplicates made unique as ``name``, ``name.2``). Values as
        read: ``str`` for CSV cells, whatever the spreadsheet reader gives for
        workbooks (``str``, ``int``, ``float``, ``datetime``); empty cells are
        ``None``. The index, named ``row``, is the row number a person sees
        (Excel: 1-based sheet row; CSV: 1-based line number where the record
        starts). Entirely empty rows are dropped.
    header_row : int
        Row (Excel) or line (CSV) number of the header, 1-based.
    title : str or None
        Text found above the header, cells joined with ``" | "``.
    blank_rows : int
        Entirely empty rows dropped below the header.
    kobo : bool
        True when the table looks like a KoboToolbox/ODK export (and was tidied).
    encoding : str or None
        Encoding used, for delimited text only.
    delimiter : str or None
        Delimiter used, for delimited text only.
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


# --------------------------------------------------------------------------- #
# Public entry point
# --------------------------------------------------------------------------- #
def read_raw(path: str | Path, *, sheets: Sequence[str] | None = None,
             header_row: int | None = None) -> list[RawSheet]:
    """Read a raw data file into frames of raw cell values.

    Parameters
    ----------
    path : str or pathlib.Path
        File with one of :data:`SUPPORTED_SUFFIXES` (case-insensitive).
    sheets : sequence of str, optional
        Workbooks only: read just these sheets, in this order. Ignored for
        delimited text. Naming a sheet that does not exist, or one that is
        empty or has no header, raises :class:`RawFileError`.
    header_row : int, optional
        Row number of the header as a person sees it (Excel sheet row or CSV
        line, 1-based). Overrides detection; applies to every sheet read.

    Returns
    -------
    list of RawSheet
        One item for delimited text; one per non-empty sheet for workbooks.
        When all sheets are read, a sheet in which no header can be found
        (e.g. a notes sheet) is skipped with a warning.

    Raises
    ------
    RawFileError
        The file is missing, empty, of an unsupported type, corrupt, or has no
        recognisable header.
    """
    path = Path(path)
    if header_row is not None and (isinstance(header_row, bool)
                                   or not isinstance(header_row, (int, np.integer))
                                   or header_row < 1):
        raise ValueError(f"header_row must be a positive row number, got {header_row!r}")
    suffix = _check_file(path)
    if suffix in _TEXT_SUFFIXES:
        return [_read_delimited(path, header_row)]
    return _read_workbook(path, sheets, header_row)


def _check_file(path: Path) -> str:
    """Return the lower-case suffix, or raise when the file is unusable."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = suffix or "no suffix"
        raise _fail(path, f"unsupported file type ({shown}); supported types are "
                          + ", ".join(SUPPORTED_SUFFIXES))
    if not path.exists():
        raise _fail(path, "the file does not exist")
    if not path.is_file():
        raise _fail(path, "this is not a file (it is a folder or a device)")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _fail(path, f"the file cannot be accessed ({exc.strerror})") from None
    if size == 0:
        raise _fail(path, "the file is empty")
    return suffix


# --------------------------------------------------------------------------- #
# Sniffing
# --------------------------------------------------------------------------- #
def sniff_encoding(data: bytes) -> str:
    """Choose a text encoding for raw bytes.

    Order: byte-order mark; strict UTF-8; ``cp1252`` when the bytes decode with
    it and look like Western text (isolated accented letters, as in "Désa");
    charset-normalizer's best guess (e.g. Big5/GBK names of employers abroad);
    ``cp1252`` if it decodes; ``latin-1`` as the last resort.

    Parameters
    ----------
    data : bytes
        The file contents or a leading sample (a multi-byte character cut at
        the end of a sample is tolerated).

    Returns
    -------
    str
        A Python codec name such as ``"utf-8"``, ``"utf-8-sig"``, ``"utf-16"``
        or ``"cp1252"``.

    Notes
    -----
    charset-normalizer alone is unreliable on short, mostly-ASCII samples: it
    reads a cp1252 "Désa" as Big5 or Johab. Hence the Western-text check first.
    """
    for bom, name in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                      (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return name
    if _decodes(data, "utf-8"):
        return "utf-8"
    cp1252_ok = _decodes(data, "cp1252")
    if cp1252_ok and _looks_western(data):
        return "cp1252"
    guess = _charset_guess(data)
    if guess:
        return guess
    return "cp1252" if cp1252_ok else "latin-1"


def _looks_western(data: bytes) -> bool:
    """True when non-ASCII bytes are mostly isolated (accents in Latin words).

    Multi-byte encodings (Big5, GBK, Shift-JIS, UTF-16) produce runs of
    non-ASCII bytes or NUL bytes instead.
    """
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
    """charset-normalizer's best guess, or None."""
    try:
        from charset_normalizer import from_bytes
        best = from_bytes(data).best()
    except Exception:  # a detector failure must not stop reading
        return None
    return best.encoding if best is not None else None


def _decodes(data: bytes, encoding: str) -> bool:
    """True when ``data`` decodes strictly with ``encoding``."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=False)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def sniff_delimiter(text_sample: str) -> str:
    """Choose the delimiter among ``,`` ``;`` tab and ``|``.

    :class:`csv.Sniffer` (restricted to those four) is asked first; its answer
    is kept unless another candidate splits the sample's lines more
    consistently (same field count on more lines).

    Parameters
    ----------
    text_sample : str
        The first lines of the file.

    Returns
    -------
    str
        The delimiter; ``","`` when nothing splits the lines at all.
    """
    lines = [ln for ln in text_sample.splitlines() if ln.strip()][:100]
    if not lines:
        return ","
    scores = {d: _consistency(lines, d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: scores[d])  # first wins ties
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters="".join(_DELIMITERS))
        chosen = sniffed.delimiter
    except csv.Error:
        chosen = None
    if chosen in scores and scores[chosen] >= scores[best]:
        return chosen
    return best if scores[best] > (0, 0) else ","


def _consistency(lines: list[str], delimiter: str) -> tuple[int, int]:
    """Score a delimiter: (lines with the modal field count, that count).

    Lines the delimiter does not split (title lines) are ignored.
    """
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
# Header detection and cell text
# --------------------------------------------------------------------------- #
def detect_header_row(cells: pd.DataFrame, *, max_scan: int = _MAX_SCAN) -> int:
    """Find the header in a headerless grid of cells.

    The header is the first row, among the first ``max_scan``, whose number of
    non-empty cells is at least ``max(2, 0.6 * widest)`` (``widest`` being the
    largest such count among the scanned rows) and at least half of whose
    non-empty cells are text containing a letter (not numbers or dates).

    Parameters
    ----------
    cells : pandas.DataFrame
        Grid read without a header; empty cells are None, NaN or blank strings.
    max_scan : int, default 30
        Number of leading rows searched.

    Returns
    -------
    int
        0-based position of the header row in ``cells``.

    Raises
    ------
    RawFileError
        No row qualifies (the message does not name a file; :func:`read_raw`
        adds it).
    """
    rows = [[v for v in row if not _is_empty(v)]
            for row in cells.iloc[:max_scan].itertuples(index=False, name=None)]
    widest = max((len(r) for r in rows), default=0)
    if widest == 0:
        reason = f"the first {max_scan} rows are empty"
        raise RawFileError(reason, reason=reason)
    need = max(2, 0.6 * widest)
    for pos, row in enumerate(rows):
        if len(row) >= need and sum(map(_is_text, row)) * 2 >= len(row):
            return pos
    reason = (f"no header row found in the first {max_scan} rows (a header needs at "
              f"least {int(np.ceil(need))} filled cells, mostly text); pass header_row= "
              "to choose it")
    raise RawFileError(reason, reason=reason)


def _is_empty(value: Any) -> bool:
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
    """True for a string containing at least one letter."""
    return isinstance(value, str) and any(ch.isalpha() for ch in value)


def _cell_text(value: Any) -> str:
    """Display text of a header or title cell, whitespace collapsed."""
    if _is_empty(value):
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


def _title_of(rows: Iterable[Iterable[Any]]) -> str | None:
    """Join the non-empty cells above the header with ' | '."""
    parts = [_cell_text(v) for row in rows for v in row if not _is_empty(v)]
    return " | ".join(parts) if parts else None


# --------------------------------------------------------------------------- #
# Delimited text
# --------------------------------------------------------------------------- #
def _read_delimited(path: Path, header_row: int | None) -> RawSheet:
    """Read a CSV/TSV/TXT file into a RawSheet, falling back on encodings."""
    with open(path, "rb") as fh:
        sample = fh.read(_ENCODING_SAMPLE_BYTES)
    first = sniff_encoding(sample)
    tried: list[str] = []
    for encoding in dict.fromkeys([first, "cp1252", "latin-1"]):
        try:
            return _read_delimited_as(path, header_row, encoding)
        except UnicodeError:  # the sample decoded, something later did not
            tried.append(encoding)
    raise _fail(path, "the text encoding could not be recognised (tried "
                      + ", ".join(tried) + ")")


def _read_delimited_as(path: Path, header_row: int | None, encoding: str) -> RawSheet:
    """Read delimited text with a known encoding (UnicodeError propagates)."""
    with open(path, encoding=encoding, newline="") as fh:
        sample = fh.read(_SNIFF_SAMPLE_CHARS)
    if not sample.strip():
        raise _fail(path, "the file is empty")
    if len(sample) == _SNIFF_SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # complete lines only
    delimiter = sniff_delimiter(sample)

    records, starts, ends = _head_records(path, encoding, delimiter, header_row)
    span = max(1, max(map(len, records)))
    grid = pd.DataFrame([r + [None] * (span - len(r)) for r in records], dtype=object)
    if header_row is None:
        try:
            pos = detect_header_row(grid)
        except RawFileError as exc:
            raise _fail(path, exc.reason) from None
    else:
        pos = _record_at_line(path, starts, header_row)

    width = max(len(r) for r in records[pos:])
    data = _pandas_csv(path, encoding, delimiter, skip=pos + 1, width=width)
    rows = _csv_line_numbers(path, encoding, data, ends[pos])
    return _finish(path, None, records[pos], data, rows, starts[pos],
                   _title_of(records[:pos]), encoding=encoding, delimiter=delimiter)


def _head_records(path: Path, encoding: str, delimiter: str, header_row: int | None
                  ) -> tuple[list[list[str]], list[int], list[int]]:
    """Parse the leading records with the csv module, with their line spans."""
    limit = max(_MAX_SCAN, header_row or 0)
    records, starts, ends = [], [], []
    try:
        with open(path, encoding=encoding, newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            line = 0
            for rec in islice(reader, limit):
                records.append(rec)
                starts.append(line + 1)
                ends.append(reader.line_num)
                line = reader.line_num
    except csv.Error as exc:
        raise _fail(path, f"the text is not valid delimited data near line "
                          f"{len(records) + 1} ({exc})") from None
    return records, starts, ends


def _record_at_line(path: Path, starts: list[int], line: int) -> int:
    """Index of the record starting at ``line`` (the header_row override)."""
    if line in starts:
        return starts.index(line)
    if line > starts[-1]:
        raise _fail(path, f"header_row={line} is beyond the end of the file")
    raise _fail(path, f"line {line} is inside a quoted multi-line cell, not the start of a row")


def _pandas_csv(path: Path, encoding: str, delimiter: str, *, skip: int,
                width: int) -> pd.DataFrame:
    """Read the records after the header with pandas' C parser, as raw strings.

    Empty cells come back as NaN. Rows wider than ``width`` make pandas fail;
    the read is then retried wider (extra columns are named and kept).
    """
    for _ in range(_WIDTH_RETRIES):
        try:
            return pd.read_csv(
                path, sep=delimiter, header=None, names=list(range(width)),
                skiprows=skip, dtype=object, keep_default_na=False, na_values=[""],
                skip_blank_lines=False, index_col=False, quotechar='"',
                doublequote=True, encoding=encoding, engine="c",
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
    """Plain-words reason for a pandas tokenizer error."""
    detail = " ".join(str(exc).split())
    if "EOF inside string" in detail:
        row = re.search(r"starting at row (\d+)", detail)
        where = f" (in data record {int(row.group(1)) + 1} after the header)" if row else ""
        return f"a quotation mark opens a cell that is never closed{where}"
    return f"the text is not valid delimited data ({detail})"


def _csv_line_numbers(path: Path, encoding: str, data: pd.DataFrame,
                      header_end: int) -> np.ndarray:
    """1-based line number where each record of ``data`` starts.

    Every record takes one line unless a quoted cell holds line breaks; that is
    detected by comparing the file's line count, and only then are the breaks
    inside cells counted.
    """
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
    mode, nl, cr, crlf = ("rb", b"\n", b"\r", b"\r\n") if ascii_compatible \
        else ("r", "\n", "\r", "\r\n")
    opener = (lambda: open(path, "rb")) if ascii_compatible \
        else (lambda: open(path, encoding=encoding, newline=""))
    terminators, last, prev_cr = 0, None, False
    with opener() as fh:
        while block := fh.read(chunk):
            terminators += block.count(nl) + block.count(cr) - block.count(crlf)
            if prev_cr and block[:1] == nl:
                terminators -= 1  # \r\n split across two blocks
            prev_cr = block[-1:] == cr
            last = block[-1:]
    return terminators + (0 if last in (nl, cr) else 1)


# --------------------------------------------------------------------------- #
# Workbooks
# --------------------------------------------------------------------------- #
def _read_workbook(path: Path, sheets: Sequence[str] | None,
                   header_row: int | None) -> list[RawSheet]:
    """Read the sheets of a workbook, with calamine then (xlsx) openpyxl."""
    engines = ["calamine"]
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        engines.append("openpyxl")
    first_error: Exception | None = None
    for engine in engines:
        try:
            grids = _workbook_grids(path, sheets, engine)
        except RawFileError:
            raise
        except Exception as exc:  # library errors become a plain message below
            first_error = first_error or exc
            continue
        return _sheets_from_grids(path, grids, header_row, explicit=sheets is not None)
    raise _fail(path, _workbook_reason(first_error)) from None


def _workbook_reason(exc: Exception | None) -> str:
    """Plain-words reason for a workbook that no engine could open."""
    detail = " ".join(str(exc).split())[:200] if exc is not None else ""
    reason = "it is not a readable spreadsheet (it may be corrupt, password-protected, " \
             "or saved in another format under this name)"
    return f"{reason}; reader said: {detail}" if detail else reason


def _workbook_grids(path: Path, sheets: Sequence[str] | None, engine: str
                    ) -> dict[str, pd.DataFrame]:
    """Headerless grids of the requested sheets, in order."""
    with pd.ExcelFile(path, engine=engine) as book:
        names = [str(n) for n in book.sheet_names]
        if sheets is not None:
            missing = [s for s in sheets if s not in names]
            if missing:
                raise _fail(path, "no sheet named " + ", ".join(repr(m) for m in missing)
                            + "; the workbook has " + ", ".join(repr(n) for n in names))
        wanted = list(dict.fromkeys(sheets)) if sheets is not None else names
        return {name: pd.read_excel(book, sheet_name=name, header=None, dtype=object)
                for name in wanted}


def _sheets_from_grids(path: Path, grids: dict[str, pd.DataFrame],
                       header_row: int | None, *, explicit: bool) -> list[RawSheet]:
    """Turn sheet grids into RawSheets, skipping empty (and, if implicit, headerless) sheets."""
    out, skipped = [], []
    for name, grid in grids.items():
        grid = grid.astype(object).where(grid.notna(), None).replace({"": None})
        if grid.isna().all(axis=None):
            if explicit:
                raise _fail(path, "the sheet is empty", name)
            continue
        try:
            out.append(_sheet_from_grid(path, name, grid, header_row))
        except RawFileError as exc:
            if explicit or exc.sheet != name or header_row is not None:
                raise
            skipped.append(f"'{name}' ({exc.reason})")
    if skipped:
        warnings.warn(f"{path}: skipped sheet(s) without a table: " + "; ".join(skipped),
                      UserWarning, stacklevel=4)
    if not out:
        raise _fail(path, "no sheet holds a table" + (": " + "; ".join(skipped) if skipped
                                                       else " (all sheets are empty)"))
    return out


def _sheet_from_grid(path: Path, sheet: str, grid: pd.DataFrame,
                     header_row: int | None) -> RawSheet:
    """Build one RawSheet from a headerless sheet grid (row 1 at position 0)."""
    if header_row is None:
        try:
            pos = detect_header_row(grid)
        except RawFileError as exc:
            raise _fail(path, exc.reason, sheet) from None
    else:
        pos = header_row - 1
        if pos >= len(grid) or all(_is_empty(v) for v in grid.iloc[pos]):
            raise _fail(path, f"header_row={header_row} is empty or beyond the last row",
                        sheet)
    header = grid.iloc[pos].tolist()
    data = grid.iloc[pos + 1:].reset_index(drop=True)
    rows = np.arange(pos + 2, pos + 2 + len(data), dtype=np.int64)
    title = _title_of(grid.iloc[:pos].itertuples(index=False, name=None))
    return _finish(path, sheet, header, data, rows, pos + 1, title)


# --------------------------------------------------------------------------- #
# Common assembly
# --------------------------------------------------------------------------- #
def _finish(path: Path, sheet: str | None, header: list[Any], data: pd.DataFrame,
            rows: np.ndarray, header_line: int, title: str | None, *,
            encoding: str | None = None, delimiter: str | None = None) -> RawSheet:
    """Name columns, drop empty rows/columns, tidy Kobo exports, build the RawSheet."""
    width = max(len(header), data.shape[1])
    names = [_cell_text(v) for v in header] + [""] * (width - len(header))
    data = data.reindex(columns=range(width))  # header may be wider than the data
    missing = data.isna()  # computed once: this is the costly step on big files
    keep = _trim_empty_edges(names, missing.all(axis=0).to_numpy())
    names = [n or f"unnamed_{i + 1}" for n, i in ((names[i], i) for i in keep)]
    missing = missing.iloc[:, keep]
    data = data.iloc[:, keep].astype(object).where(~missing, None)
    data.index = pd.Index(rows, name="row")
    blank = missing.all(axis=1).to_numpy() if keep else np.ones(len(data), dtype=bool)
    data = data.loc[~blank]

    kobo = _looks_like_kobo(names)
    if kobo:
        data, names = _tidy_kobo(data, names)
    data.columns = _make_unique(names)
    return RawSheet(file=path, sheet=sheet, frame=data, header_row=int(header_line),
                    title=title, blank_rows=int(blank.sum()), kobo=kobo,
                    encoding=encoding, delimiter=delimiter)


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


# --------------------------------------------------------------------------- #
# KoboToolbox / ODK exports
# --------------------------------------------------------------------------- #
_KOBO_STRONG = {"_uuid", "_submission_time", "__version__", "_xform_id_string",
                "_parent_index", "_parent_table_name", "_submission__uuid"}
_KOBO_WEAK = {"_id", "_index", "_status", "_validation_status", "_submitted_by",
              "_notes", "_tags", "start", "end"}
_KOBO_META = re.compile(r"^(meta|formhub)[/:.]", re.IGNORECASE)
_KOBO_META_ID = re.compile(r"^(meta|formhub)[/:.](instanceid|uuid)$", re.IGNORECASE)
_KOBO_KEEP = {"_uuid": "kobo_uuid", "_submission_time": "kobo_submission_time",
              # repeat-group sheets: link back to the parent submission
              "_submission__uuid": "kobo_uuid",
              "_submission__submission_time": "kobo_submission_time"}
_XML_NAME = re.compile(r"^[^\W\d][\w.\-]*$")
_BINARY = ["0", "1", "0.0", "1.0", "True", "False", "true", "false", "TRUE", "FALSE",
           0, 1, True, False]
_TRUTHY = ["1", "1.0", "True", "true", "TRUE", 1, True]


def _looks_like_kobo(names: list[str]) -> bool:
    """True when the headers carry KoboToolbox/ODK meta columns."""
    present = set(names)
    if present & _KOBO_STRONG or any(map(_KOBO_META_ID.match, names)):
        return True
    weak = present & _KOBO_WEAK
    return len(weak) >= 2 and any(w.startswith("_") for w in weak)


def _tidy_kobo(data: pd.DataFrame, names: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Drop bookkeeping columns, fold select-multiples, flatten group paths."""
    sep = _group_separator(names)
    keep = [i for i, n in enumerate(names)
            if n in _KOBO_KEEP or not (n.startswith("_") or _KOBO_META.match(n))]
    data = data.iloc[:, keep]
    data.columns = range(len(keep))
    names = [_KOBO_KEEP.get(names[i], names[i]) for i in keep]
    if sep:
        data, names = _fold_select_multiple(data, names, sep)
        names = _flatten_paths([_segments(n, sep) for n in names])
    return data, names


def _group_separator(names: list[str]) -> str | None:
    """The group-path separator used in the headers ('/', ':' or '.'), if any."""
    counts = {s: sum(len(_segments(n, s)) > 1 for n in names) for s in "/:."}
    best = max(counts, key=lambda s: counts[s])  # '/' wins ties
    return best if counts[best] else None


def _segments(name: str, sep: str) -> list[str]:
    """Split a Kobo header into path segments when its groups look like XML names."""
    parts = name.split(sep)
    if len(parts) > 1 and parts[-1] and all(_XML_NAME.match(p) for p in parts[:-1]):
        return parts
    return [name]


def _is_binary(col: pd.Series) -> bool:
    """True for a per-choice column: only 0/1 (or True/False) and blanks."""
    return bool((col.isna() | col.isin(_BINARY)).all())


def _fold_select_multiple(data: pd.DataFrame, names: list[str], sep: str
                          ) -> tuple[pd.DataFrame, list[str]]:
    """Drop select-multiple per-choice columns; rebuild a missing parent column."""
    present = set(names)
    children: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        if len(_segments(name, sep)) > 1:
            children.setdefault(name.rsplit(sep, 1)[0], []).append(i)

    drop: set[int] = set()
    rebuilt: dict[int, tuple[str, pd.Series]] = {}
    for parent, idx in children.items():
        if not all(_is_binary(data[i]) for i in idx):
            continue
        if parent in present:
            drop.update(idx)
        elif _is_missing_parent(parent, idx, names, data, sep):
            drop.update(idx)
            rebuilt[idx[0]] = (parent, _rebuild_choices(data, idx, names, sep))

    cols, out_names = [], []
    for i, name in enumerate(names):
        if i in rebuilt:
            cols.append(rebuilt[i][1])
            out_names.append(rebuilt[i][0])
        if i not in drop:
            cols.append(data[i])
            out_names.append(name)
    frame = pd.concat(cols, axis=1, ignore_index=True) if cols else data.iloc[:, :0]
    return frame, out_names


def _is_missing_parent(parent: str, idx: list[int], names: list[str],
                       data: pd.DataFrame, sep: str) -> bool:
    """Whether binary columns under ``parent`` are choices of a dropped select-multiple.

    Guards against folding a group of yes/no questions: needs at least two
    columns, nothing else under the same path, and every row either answered
    for all choices or for none.
    """
    if len(idx) < 2:
        return False
    under = [i for i, n in enumerate(names) if n.startswith(parent + sep)]
    if sorted(under) != sorted(idx):
        return False
    answered = data[idx].notna()
    if not answered.to_numpy().any():  # no data: no evidence either way
        return False
    return bool((answered.all(axis=1) | ~answered.any(axis=1)).all())


def _rebuild_choices(data: pd.DataFrame, idx: list[int], names: list[str],
                     sep: str) -> pd.Series:
    """Space-joined names of the choices marked 1/True; None when none is."""
    out = pd.Series("", index=data.index, dtype=object)
    for i in idx:
        choice = names[i].rsplit(sep, 1)[1]
        out = out + np.where(data[i].isin(_TRUTHY).to_numpy(), " " + choice, "")
    out = out.str.strip()
    return out.where(out != "", None)


def _flatten_paths(paths: list[list[str]]) -> list[str]:
    """Last path segment as the name; colliding names keep more segments ('_')."""
    depth = [1] * len(paths)
    while True:
        names = ["_".join(p[-d:]) for p, d in zip(paths, depth)]
        counts = Counter(names)
        grow = [i for i, n in enumerate(names) if counts[n] > 1 and depth[i] < len(paths[i])]
        if not grow:
            return names
        for i in grow:
            depth[i] += 1
