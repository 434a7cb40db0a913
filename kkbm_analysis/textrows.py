"""The records after a text file's header, read in chunks of rows with bounded memory.

:class:`TextRows` yields, chunk after chunk, a frame of raw cell strings (columns ``0 ..
width-1``) and the line number where each record starts. Two engines read the records:

* pyarrow's CSV reader (the fast path): multi-threaded, cells stay Arrow strings (no Python
  object per cell). Used for ASCII-compatible encodings when every line above the data is
  one record;
* pandas' C parser, exactly as a whole-file read would call it (the reference). It takes
  over, from the first record not yet given, whenever the fast reader refuses a file (a
  record with another number of cells, a damaged byte sequence); records wider than the
  width known so far make it widen and read again, so a late wide record never stops a file.

Both give the same cells for the records the fast reader accepts (``tests/test_textrows.py``
compares them on random files). Line numbers count the line breaks inside quoted cells.
"""
from __future__ import annotations

import codecs
import gzip
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

import numpy as np
import pandas as pd

__all__ = ["TextRows", "whole_file_encoding", "STREAM_ENCODINGS", "ARROW_STRINGS"]

#: Encodings the fast reader takes (ASCII-compatible: one byte per line break).
STREAM_ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "latin-1")
#: pandas' Arrow-backed string type with NaN for a missing cell (pandas' default ``str``).
ARROW_STRINGS = pd.StringDtype("pyarrow", na_value=np.nan)
_WIDTH_RETRIES = 12  # re-reads allowed when records are wider than expected
_BLOCK_BYTES = 1 << 22  # bytes the fast reader parses at a time
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")  # bytes cp1252 leaves undefined


class TextReadError(Exception):
    """The records cannot be read; ``reason`` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _gz(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def _open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if _gz(path) else open(path, "rb")


def whole_file_encoding(path: Path, candidates: list[str], block: int = 1 << 22) -> str | None:
    """The first of ``candidates`` that decodes every byte of the file (None when none does).

    Reading a file in chunks must not find an undecodable byte after rows were used, so
    the choice is made over the whole file first, as a whole-file read would make it.
    """
    for encoding in candidates:
        name = codecs.lookup(encoding).name
        if name in ("latin-1", "iso8859-1"):
            return encoding
        try:
            with _open_binary(path) as fh:
                if name == "cp1252":
                    if any(c in b for b in iter(lambda: fh.read(block), b"") for c in _CP1252_UNDEFINED):
                        continue
                    return encoding
                decoder = codecs.getincrementaldecoder(encoding)()
                for b in iter(lambda: fh.read(block), b""):
                    if name == "utf-8" and b.isascii() and not decoder.getstate()[0]:
                        continue  # ASCII is UTF-8 (no character was left half-read before it): nothing to decode
                    decoder.decode(b)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeError:
            continue
    return None


@dataclass
class TextRows:
    """The data records of a delimited text file, after its header.

    Parameters
    ----------
    path : Path
    encoding, delimiter : str
    skip : int
        Records before the first data record (title lines and the header).
    width : int
        Cells per record known from the leading records (grows when a wider record comes).
    first_line : int
        Line number of the first data record.
    fast : bool
        Whether the fast reader may be used (see module docstring).
    """

    path: Path
    encoding: str
    delimiter: str
    skip: int
    width: int
    first_line: int
    fast: bool = True

    def chunks(self, rows: int | None = None, only: list[int] | None = None
               ) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        """Frames of raw strings (``None``/NaN for an empty cell) and each record's line number.

        ``rows`` records per chunk (about); ``None`` reads everything as one chunk. ``only``: the
        column positions wanted (the fast reader then converts no other cell, and the frames hold
        just those columns, labelled by position; the line numbers do not count the line breaks
        inside the other cells). The pandas parser, where it takes over, gives every column.
        """
        done, line = 0, self.first_line
        if self.fast and self.encoding in STREAM_ENCODINGS:
            try:
                for frame in self._arrow(rows, only):
                    numbers, line = _line_numbers(frame, line)
                    done += len(frame)
                    yield frame, numbers
                return
            except _ArrowRefused:
                pass  # the pandas parser reads on from the first record not given
        for frame in self._pandas(rows, done):
            numbers, line = _line_numbers(frame, line)
            yield frame, numbers

    def read_all(self) -> tuple[pd.DataFrame, np.ndarray]:
        """Every record as one frame (what a whole-file read gives)."""
        parts = list(self.chunks(None))
        if not parts:
            return pd.DataFrame(columns=list(range(self.width)), dtype=object), np.zeros(0, dtype=np.int64)
        if len(parts) == 1:
            return parts[0]
        width = max(f.shape[1] for f, _ in parts)
        frames = [f.reindex(columns=range(width)) for f, _ in parts]
        return pd.concat(frames, ignore_index=True), np.concatenate([r for _, r in parts])

    # ----------------------------------------------------------------- engines
    def _arrow(self, rows: int | None, only: list[int] | None = None) -> Iterator[pd.DataFrame]:
        import pyarrow as pa
        import pyarrow.csv as pcsv

        names = [str(i) for i in range(self.width)]
        include = [names[i] for i in only] if only is not None and all(i < self.width for i in only) else []
        try:
            source = pa.input_stream(str(self.path), compression="gzip" if _gz(self.path) else None)
            reader = pcsv.open_csv(
                source,
                read_options=pcsv.ReadOptions(skip_rows=self.skip, column_names=names, block_size=_BLOCK_BYTES,
                                              encoding="utf8" if self.encoding == "utf-8" else self.encoding),
                parse_options=pcsv.ParseOptions(delimiter=self.delimiter, quote_char='"', double_quote=True,
                                                newlines_in_values=True, ignore_empty_lines=False),
                convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names}, null_values=[""],
                                                    strings_can_be_null=True, quoted_strings_can_be_null=True,
                                                    include_columns=include))
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):
                return
            raise _ArrowRefused() from None
        except (pa.ArrowException, OSError, UnicodeError):
            raise _ArrowRefused() from None
        pending: list = []
        count = 0
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowException, UnicodeError, OSError):
                raise _ArrowRefused() from None
            pending.append(batch)
            count += batch.num_rows
            while rows is not None and count >= rows:
                table = pa.Table.from_batches(pending)
                yield _arrow_frame(table.slice(0, rows))
                rest = table.slice(rows)
                pending, count = rest.to_batches(), rest.num_rows
        if count:
            yield _arrow_frame(pa.Table.from_batches(pending))

    def _pandas(self, rows: int | None, given: int) -> Iterator[pd.DataFrame]:
        """pandas' C parser from the start, skipping the ``given`` records already read."""
        width = self.width
        for _ in range(_WIDTH_RETRIES):
            try:
                for frame in self._pandas_once(rows, given, width):
                    given += len(frame)
                    yield frame
                return
            except pd.errors.ParserError as exc:
                seen = re.search(r"Expected \d+ fields in line \d+, saw (\d+)", str(exc))
                if not seen:
                    raise TextReadError(parser_reason(exc)) from None
                width = max(int(seen.group(1)), 2 * width)
                self.width = width
        raise TextReadError("rows have wildly different numbers of cells")

    def _pandas_once(self, rows: int | None, given: int, width: int) -> Iterator[pd.DataFrame]:
        options = dict(sep=self.delimiter, header=None, names=list(range(width)), skiprows=self.skip, dtype=object,
                       keep_default_na=False, na_values=[""], skip_blank_lines=False, index_col=False, quotechar='"',
                       doublequote=True, encoding=self.encoding, engine="c",
                       compression="gzip" if _gz(self.path) else None)
        try:
            if rows is None:
                parts = [pd.read_csv(self.path, **options)]
            else:
                parts = pd.read_csv(self.path, chunksize=rows, **options)
            skip = given
            for frame in parts:
                if skip >= len(frame):
                    skip -= len(frame)
                    continue
                if skip:
                    frame, skip = frame.iloc[skip:].reset_index(drop=True), 0
                yield frame
        except pd.errors.EmptyDataError:
            return


class _ArrowRefused(Exception):
    """The fast reader cannot read this file (the pandas parser takes over)."""


def _arrow_frame(table) -> pd.DataFrame:
    """A batch of records as a frame whose columns are labelled by position."""
    import pyarrow as pa

    frame = table.combine_chunks().to_pandas(types_mapper=lambda t: ARROW_STRINGS if t == pa.string() else None)
    frame.columns = [int(name) for name in table.column_names]
    return frame


def _line_numbers(frame: pd.DataFrame, line: int) -> tuple[np.ndarray, int]:
    """Line number of each record (records holding quoted line breaks span several lines)."""
    n = len(frame)
    numbers = np.arange(line, line + n, dtype=np.int64)
    extra = np.zeros(n, dtype=np.int64)
    for col in frame.columns:
        s = frame[col]
        if _may_hold_newline(s):
            extra += s.str.count("\n").fillna(0).to_numpy(dtype=np.int64)
    if extra.any():
        numbers += np.concatenate(([0], np.cumsum(extra)[:-1]))
    return numbers, int(line + n + extra.sum())


def _may_hold_newline(s: pd.Series) -> bool:
    """Whether a column of raw cells may hold a line break (cheap: Arrow's byte buffers are scanned)."""
    if s.dtype == object:
        return bool(s.notna().any()) and bool(s.str.contains("\n", regex=False).fillna(False).any())
    data = getattr(s.array, "_pa_array", None)
    if data is None:
        return True
    for chunk in data.chunks:
        buffer = chunk.buffers()[2]
        if buffer is not None and (np.frombuffer(buffer, dtype=np.uint8) == 10).any():
            return True
    return False


def parser_reason(exc: Exception) -> str:
    """A pandas/pyarrow parser error in plain words (the delimited reader's messages too)."""
    detail = " ".join(str(exc).split())
    if "EOF inside string" in detail:
        row = re.search(r"starting at row (\d+)", detail)
        where = f" (in data record {int(row.group(1)) + 1} after the header)" if row else ""
        return f"a quotation mark opens a cell that is never closed{where}"
    return f"the text is not valid delimited data ({detail[:200]})"
