"""Delimited text files (``.csv``, ``.tsv``, ``.txt``, also gzipped) as raw cells.

The encoding and the delimiter are sniffed (:func:`sniff_encoding`, :func:`sniff_delimiter`);
the header is found among the leading records (:mod:`.layout`), also when it is written with
another delimiter than the data or spans two rows; the records after it are read by pandas'
C parser as raw strings, with the line number where each record starts.
"""
from __future__ import annotations

import codecs
import csv
import gzip
import re
import zlib
from collections import Counter
from itertools import islice
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from .kobo import looks_like_kobo
from .textrows import parser_reason
from .layout import MAX_SCAN, HeaderNotFound, cell_text, combine_header, detect_header_row as _detect, sub_header, \
    title_of
from .rawsheet import Known, RawFile, fail as _fail, finish as _finish, no_header as _no_header, \
    numbers_row as _numbers_row, stream as _stream
from .textrows import TextReadError, TextRows, whole_file_encoding

__all__ = ["sniff_encoding", "sniff_delimiter", "read_text_file"]

_DELIMITERS = (",", ";", "\t", "|")
_ENCODING_SAMPLE_BYTES = 1 << 20  # bytes looked at to choose an encoding
_SNIFF_SAMPLE_CHARS = 64 * 1024  # characters looked at to choose a delimiter
_WIDTH_RETRIES = 12  # re-reads allowed when CSV rows are wider than expected


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


def read_text_file(path: Path, header: list[int] | None, known: Known | None,
                   chunk_rows: int | None = None) -> RawFile:
    """Read a delimited text file: whole (``chunk_rows`` None) or, for a large file, in chunks.

    With ``chunk_rows``, the sheet's rows come from :func:`~kkbm_analysis.rawsheet.chunks_of`
    (a KoboToolbox export is still read whole: folding its select-multiple columns needs all
    rows). The encoding is the first of the sniffed one, ``cp1252`` and ``latin-1`` that
    decodes the whole file.
    """
    try:
        with _open_binary(path) as fh:
            sample = fh.read(_ENCODING_SAMPLE_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise _fail(path, f"it is not a valid gzip file ({type(exc).__name__})" if _gz(path)
                    else f"the file cannot be read ({type(exc).__name__})") from None
    candidates = list(dict.fromkeys([sniff_encoding(sample), "cp1252", "latin-1"]))
    try:
        encoding = whole_file_encoding(path, candidates)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _fail(path, f"the compressed data is damaged ({type(exc).__name__})") from None
    if encoding is None:
        raise _fail(path, "the text encoding could not be recognised (tried " + ", ".join(candidates) + ")")
    try:
        return _read_delimited_as(path, header, encoding, known, chunk_rows)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _fail(path, f"the compressed data is damaged ({type(exc).__name__})") from None
    except TextReadError as exc:
        raise _fail(path, exc.reason) from None


def _read_delimited_as(path: Path, header: list[int] | None, encoding: str, known: Known | None,
                       chunk_rows: int | None) -> RawFile:
    """Read delimited text with a known encoding."""
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
    # every line above the data is one record: the fast reader may skip them as lines
    one_line_each = all(s == e for s, e in zip(starts[:first_data], ends[:first_data]))
    rows_reader = TextRows(path, encoding, delimiter, skip=first_data, width=width,
                           first_line=ends[first_data - 1] + 1, fast=one_line_each and not split)
    title, header_line = title_of(records[:pos]), starts[first_data - 1]
    if chunk_rows is None or looks_like_kobo([cell_text(v) for v in names]):
        data, rows = rows_reader.read_all() if chunk_rows is not None else _whole(path, encoding, delimiter,
                                                                                   first_data, width, ends)
        skipped = _numbers_row(data, rows, len(names))
        sheet = _finish(path, None, names, data, rows, header_line, title, known, skipped=skipped,
                        encoding=encoding, delimiter=delimiter)
    else:
        sheet = _stream(path, None, names, lambda only=None: rows_reader.chunks(chunk_rows, only), header_line, title, known,
                        numbers_width=len(names), width=width, encoding=encoding, delimiter=delimiter)
    sheet.notes += notes
    sheet.header_rows = first_data - pos
    return RawFile(path, [sheet], [])


def _whole(path: Path, encoding: str, delimiter: str, first_data: int, width: int,
           ends: list[int]) -> tuple[pd.DataFrame, np.ndarray]:
    """The records after the header, read whole by pandas' C parser (a whole-file read)."""
    data = _pandas_csv(path, encoding, delimiter, skip=first_data, width=width)
    return data, _csv_line_numbers(path, encoding, data, ends[first_data - 1])


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
                raise _fail(path, parser_reason(exc)) from None
            width = max(int(seen.group(1)), 2 * width)
    raise _fail(path, "rows have wildly different numbers of cells")


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
