"""Atomic, deterministic file output and checksums."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only on success.

    A crash or exception leaves the old file (or none), never a half-written one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; use the usual mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_parquet(df: pd.DataFrame | pa.Table, path: str | Path, metadata: dict[str, str] | None = None) -> None:
    """Write ``df`` to Parquet atomically and byte-reproducibly.

    The pandas index is not stored; ``metadata`` goes into the file's key-value metadata
    under ``kkbm:`` keys (e.g. ``kkbm:synthetic``). No timestamps are written, so the
    same frame gives the same bytes. An Arrow table is written as it is.
    """
    table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
    extra = {f"kkbm:{k}".encode(): str(v).encode() for k, v in sorted((metadata or {}).items())}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **extra})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", write_statistics=True)


def read_parquet_metadata(path: str | Path) -> dict[str, str]:
    """The ``kkbm:`` key-value metadata of a Parquet file written by :func:`write_parquet`."""
    meta = pq.read_schema(path).metadata or {}
    return {k.decode()[5:]: v.decode() for k, v in meta.items() if k.startswith(b"kkbm:")}


def write_text(text: str, path: str | Path) -> None:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(obj: Any, path: str | Path) -> None:
    """Write JSON atomically, keys sorted, for stable diffs."""
    write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n", path)


#: First characters that make a spreadsheet read a cell as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula.

    ``=HYPERLINK(...)``, ``+62...``, ``-1`` or ``@SUM(...)`` written to a CSV and opened in
    Excel or LibreOffice would be evaluated; the quote makes them plain text (OWASP advice).
    Numbers are not text and are left alone.
    """
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def escape_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells are passed through :func:`escape_formula`."""
    out = df.copy()
    for column in out.columns:
        s = out[column]
        if pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
            risky = _starts_formula(s)
            if risky.any():
                s = s.astype(object)
                s[risky] = s[risky].map(escape_formula)
                out[column] = s
    out.columns = [escape_formula(str(c)) for c in out.columns]
    return out


def _starts_formula(s: pd.Series) -> np.ndarray:
    """Which cells of a text column are text starting like a formula (:data:`FORMULA_START`)."""
    if isinstance(s.dtype, (pd.StringDtype, pd.ArrowDtype)):  # typed text (a national quarantine): one pass in C
        return s.str.startswith(FORMULA_START).fillna(False).to_numpy(dtype=bool)
    # object values, maybe mixed with numbers, mostly a few rows: a plain loop (Series.map and isin cost ~1 ms each)
    return np.fromiter((isinstance(v, str) and v.startswith(FORMULA_START) for v in s.tolist()), dtype=bool,
                       count=len(s))


def write_csv(df: pd.DataFrame, path: str | Path, *, escape: bool = True) -> None:
    """Write CSV (UTF-8 with BOM, so Excel opens it right) atomically.

    Text cells starting with ``= + - @`` (and headers) are escaped with a leading ``'``
    (see :func:`escape_formula`) unless ``escape=False``.
    """
    frame = escape_formulas(df) if escape else df
    with atomic_path(path) as tmp:
        if not _write_csv_duckdb(frame, tmp):
            frame.to_csv(tmp, index=False, encoding="utf-8-sig")


#: Rows from which :func:`write_csv` lets DuckDB write a table of text and whole numbers (pandas' writer
#: takes about 3 µs a row in Python's ``csv`` module).
DUCKDB_CSV_ROWS = 50_000
_BOM = "\ufeff".encode()


def _write_csv_duckdb(frame: pd.DataFrame, path: Path) -> bool:
    """Write ``frame`` as :meth:`DataFrame.to_csv` would (the same bytes), with DuckDB's writer; False, writing
    nothing, where the bytes could differ: few rows, a column that is not text or whole numbers, or a cell or
    header with ``#`` or a carriage return (DuckDB quotes those, Python's ``csv`` module does not)."""
    if (len(frame) < DUCKDB_CSV_ROWS or any("#" in str(c) or "\r" in str(c) for c in frame.columns)
            or not all(_text_or_whole(frame[c]) for c in frame.columns)):
        return False
    import duckdb
    import pyarrow.compute as pc

    table = pa.Table.from_pandas(frame, preserve_index=False)
    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            if pc.any(pc.match_substring_regex(column, "[#\r]")).as_py():
                return False
            column = pc.if_else(pc.equal(column, ""), pa.scalar(None, column.type), column)  # both are written empty
        columns.append(column)
    body = path.with_name(path.name + ".body")
    try:
        with duckdb.connect() as con:
            con.execute("SET threads = 1")
            con.register("rows", pa.table(columns, names=[str(c) for c in frame.columns]))
            con.execute("COPY rows TO ? (HEADER, DELIMITER ',')", [str(body)])
        with open(path, "wb") as out, open(body, "rb") as written:
            out.write(_BOM)
            shutil.copyfileobj(written, out, 1 << 20)
    finally:
        body.unlink(missing_ok=True)
    return True


def _text_or_whole(s: pd.Series) -> bool:
    """Whether a column holds only text (escaped cells make it ``object``) or only whole numbers, or is empty."""
    if isinstance(s.dtype, pd.StringDtype) or (pd.api.types.is_integer_dtype(s.dtype) and s.dtype != bool):
        return True
    return s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty")


#: Creation time and zip entry time of every workbook written: no wall clock, so same content, same bytes.
FIXED_TIME = dt.datetime(2020, 1, 1)


def save_workbook(wb: Any, path: str | Path) -> Path:
    """Save an openpyxl workbook atomically and byte-reproducibly.

    The workbook's creation and modification times and every zip entry's time are set to
    :data:`FIXED_TIME`, so the same workbook gives the same bytes on every run.
    """
    from openpyxl.writer.excel import ExcelWriter

    wb.properties.created = wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED)).save()
    path = Path(path)
    with atomic_path(path) as tmp, zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, \
            zipfile.ZipFile(tmp, "w") as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(item.filename))
    return path


def write_sheets(path: str | Path, sheets: dict[str, pd.DataFrame], *, title: str = "",
                 creator: str = "kkbm-analysis") -> Path:
    """Write one sheet per frame (a header row, then the values; missing cells empty).

    Byte-reproducible (:func:`save_workbook`): the same frames give the same bytes.
    """
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    props = wb.properties
    props.creator = props.lastModifiedBy = creator
    props.title = title
    for name, frame in sheets.items():
        ws = wb.create_sheet(name)
        ws.append([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False, name=None):
            ws.append([None if (v is None or (not isinstance(v, str) and pd.isna(v))) else v for v in row])
    return save_workbook(wb, path)


def sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


class ManifestFacts:
    """The two facts every manifest (ingest, voices, products) states, read one way: a mixin for a class
    with a ``manifest`` dict."""

    manifest: dict[str, Any]

    @property
    def synthetic(self) -> bool:
        """True when the data are SYNTHETIC (every output then says so)."""
        return bool(self.manifest.get("synthetic", False))

    @property
    def data_version(self) -> str:
        """The data version the manifest names ('unknown' when it names none)."""
        return str(self.manifest.get("data_version", "unknown"))
