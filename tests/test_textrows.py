"""The two engines that read a text file's records in chunks (kkbm_analysis.textrows) give the same cells
and line numbers: pyarrow's reader (the fast path) and pandas' C parser (the reference, as a whole-file
read calls it), whole or in chunks of any size, on random files with quotes, delimiters and line breaks
inside cells, empty cells, non-ASCII text and ragged records."""
from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kkbm_analysis.textrows import TextRows

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CELL = st.lists(st.sampled_from(list("ab 7;,\"\n\té-") + ["Desa", "Rp 1.000"]), max_size=4).map("".join)


def _cells(frame: pd.DataFrame) -> list[list]:
    """The cells as plain Python (None for an empty cell), whatever the column types."""
    return [[None if pd.isna(v) else str(v) for v in row] for row in frame.astype(object).itertuples(index=False)]


def _write(path: Path, records: list[list[str]], sep: str, encoding: str, title: int) -> None:
    buf = io.StringIO()
    for _ in range(title):
        buf.write("TITLE LINE\n")
    csv.writer(buf, delimiter=sep, lineterminator="\n").writerows(records)
    data = buf.getvalue().encode(encoding)
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)


@SETTINGS
@given(records=st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=40),
       ragged=st.booleans(), sep=st.sampled_from([",", ";", "\t"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]), title=st.integers(0, 2),
       chunk=st.integers(1, 9), gz=st.booleans())
def test_fast_and_reference_engines_agree_whole_and_in_chunks(tmp_path_factory, records, ragged, sep, encoding,
                                                             title, chunk, gz):
    if ragged:  # some records shorter or longer than the first: the fast reader refuses, pandas reads on
        records = [r[: 1 + i % 3] if i % 4 == 3 else r + (["x"] if i % 5 == 4 else []) for i, r in
                   enumerate(records)]
    path = tmp_path_factory.mktemp("rows") / ("data.csv.gz" if gz else "data.csv")
    _write(path, records, sep, encoding, title)

    def rows(fast: bool, size: int | None):
        reader = TextRows(path, encoding, sep, skip=title, width=len(records[0]), first_line=title + 1, fast=fast)
        parts = list(reader.chunks(size))
        frames = [f for f, _ in parts]
        width = max([f.shape[1] for f in frames], default=0)
        cells = [c for f in frames for c in _cells(f.reindex(columns=range(width)))]
        lines = np.concatenate([n for _, n in parts]).tolist() if parts else []
        return [c + [None] * (width - len(c)) for c in cells], lines

    reference = rows(False, None)
    assert len(reference[0]) == len(records)
    for fast in (True, False):
        for size in (None, chunk):
            assert rows(fast, size) == reference, (fast, size)
    # the line numbers count the line breaks inside quoted cells
    expected, line = [], title + 1
    for r in records:
        expected.append(line)
        line += 1 + sum(c.count("\n") for c in r)
    assert reference[1] == expected


@SETTINGS
@given(records=st.lists(st.lists(CELL, min_size=4, max_size=4), min_size=1, max_size=40),
       only=st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True), size=st.sampled_from([None, 1, 7]))
def test_some_columns_are_the_same_cells_as_every_column(tmp_path_factory, records, only, size):
    """Asking the fast reader for some columns gives those columns' cells, as a read of every column does."""
    path = tmp_path_factory.mktemp("only") / "data.csv"
    _write(path, records, ";", "utf-8", 0)
    reader = TextRows(path, "utf-8", ";", 0, 4, 1)
    every = pd.concat([f for f, _ in reader.chunks(size)], ignore_index=True)
    some = pd.concat([f for f, _ in reader.chunks(size, only)], ignore_index=True)
    assert set(only) <= set(some.columns)
    assert _cells(some[only]) == _cells(every[only])


def test_whole_file_utf8_check_skips_ascii_blocks_only_between_characters(tmp_path):
    """An ASCII block is skipped only when no character was left half-read before it: a character cut by a
    block's end is still checked with what follows (valid or not)."""
    from kkbm_analysis.textrows import whole_file_encoding
    cut_ok, cut_bad = tmp_path / "ok.csv", tmp_path / "bad.csv"
    cut_ok.write_bytes(b"abc\xc3" + b"\xa9def" + b"ghij")  # é split between the first two blocks of four bytes
    cut_bad.write_bytes(b"abc\xc3" + b"defg" + b"\xa9xyz")  # a lead byte, then ASCII: not UTF-8 (even though
    # the byte after the ASCII block would complete the character, as a wrongly skipped block would let it)
    assert whole_file_encoding(cut_ok, ["utf-8", "latin-1"], block=4) == "utf-8"
    assert whole_file_encoding(cut_bad, ["utf-8", "latin-1"], block=4) == "latin-1"
    assert whole_file_encoding(cut_bad, ["utf-8"], block=4) is None
