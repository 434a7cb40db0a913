"""The processed-data folder: how its tables are typed, laid out, read, checked and written safely.

A processed folder is what ``kkbm ingest`` writes: the tables, the quarantine, the ingest
notes, the accounting, ``data_quality.md`` and ``manifest.json`` (which marks the folder as
an output of this suite). This module is the one place that knows the layout:

* a small table is one Parquet file, ``<table>.parquet``;
* a large table that readers take one province at a time (:data:`PARTITIONED`) is a
  hive-style folder, ``<table>/province=<code>/part-0.parquet``, one file per province
  (the province of the row's community; of the village for departures), each sorted by
  the table's key, so that DuckDB, Dask and Polars (hive partitioning) read only the
  provinces they need. :func:`table_files` lists a table's files, :func:`read_table` reads
  one (whole and key-sorted, or some provinces or columns), :func:`load_processed` all.

Both layouts are read wherever a table is read (older folders, and
:func:`kkbm_analysis.synth.program_data`, hold single files). This module sits below the
ingest, so that loading data (:mod:`.data`), the analyses and :mod:`.synth` never import it:

* :func:`conform` gives a table exactly the schema's columns, types and order;
* :func:`load_processed` and :func:`check_processed` read a folder, and say in plain
  words when it is not a processed folder, is incomplete or holds a corrupt file
  (:class:`ProcessedDataError`);
* :func:`check_output_folder` refuses an output folder that could destroy anything
  (:class:`OutputFolderError`), and :func:`write_atomically` replaces a previous output
  in one swap, cleaning up what killed runs left behind.
"""
from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Collection, Iterable

import pandas as pd

from .codes import sort_by_key
from .manifest import MANIFEST, ProcessedDataError, read_manifest  # the folder's manifest: used here, and re-exported
from .products.layout import FILES as PRODUCT_FILES
from .schema import TABLE_ORDER, TABLES

TOOL = "kkbm-analysis"
#: Tables an analysis or a report cannot do without.
REQUIRED_FOR_ANALYSIS = ("communities", "members")
#: Files the ingest writes besides one Parquet file per table.
INGEST_FILES = ("quarantine.parquet", "quarantine.csv", "ingest_notes.csv", "accounting.csv", "codebook.csv",
                "data_quality.md", MANIFEST)
#: Files (and the ``models/`` folder) written later into a processed folder by ``kkbm analyse``.
ANALYSIS_FILES = PRODUCT_FILES
#: Names of earlier versions of our outputs (still ours when an old folder is replaced).
LEGACY_FILES = ("findings.csv", "barrier_profiles.parquet", "barrier_profiles.csv")
_STAGING_MARK = ".kkbm-staging"
#: Tables written partitioned by province: each over 150,000 rows nationally. The others (a few
#: MB at most, read whole in milliseconds) stay one file, where 38 files would cost more than they save.
PARTITIONED = ("members", "sessions", "attendance", "stages", "businesses", "business_reports", "kur_loans",
               "departures")
#: The hive partition key: the province code of the row's community (of the village, for departures).
PARTITION_COLUMN = "province"
_PART_FILE = "part-0.parquet"


class OutputFolderError(Exception):
    """An output folder was refused because writing there could destroy something."""


# --------------------------------------------------------------------------- typing tables
def column_dtypes(table: str) -> dict[str, str]:
    """The dtype of each column of a processed table, in schema order.

    Dates are ``datetime64[ms]`` and text is pandas ``string``; the rest is the schema's own
    dtype (``Int64``, ``Float64``, ``boolean``). This is the one place those types are set.
    """
    out = {}
    for name, c in TABLES[table].schema.columns.items():
        dtype = str(c.dtype)
        out[name] = ("datetime64[ms]" if dtype.startswith("datetime")
                     else "string" if dtype.startswith("str") else dtype)
    return out


def empty_table(table: str) -> pd.DataFrame:
    """A table with no rows and the schema's columns and types."""
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in column_dtypes(table).items()})


def conform(table: str, df: pd.DataFrame, *, validate: bool = True) -> pd.DataFrame:
    """A typed, key-sorted, index-free table with exactly the schema's columns.

    Extra columns are left out; optional (nullable) columns that are absent are added empty.
    The schema is validated (a wrong value raises pandera's error: the ingest quarantines such rows before).

    Parameters
    ----------
    table : str
        Table name (see :data:`kkbm_analysis.schema.TABLES`).
    df : DataFrame
        Rows of that table.
    validate : bool
        ``False`` only for rows that passed every check of the schema already (the ingest's accepted
        rows): they are then only typed, as the validation types them.
    """
    spec, frame = TABLES[table], df.reset_index(drop=True)
    absent = [c for c in spec.columns if c not in frame]
    required = [c for c in absent if not spec.schema.columns[c].nullable]
    if required:
        raise KeyError(f"table {table!r} lacks required column(s) {required}")
    dtypes = column_dtypes(table)
    for column in absent:
        frame[column] = pd.Series(pd.NA, index=frame.index, dtype=dtypes[column])
    out = spec.schema.validate(frame[spec.columns]) if validate else frame[spec.columns]
    for column, dtype in dtypes.items():
        if dtype in ("datetime64[ms]", "string") or not validate:
            out[column] = out[column].astype(dtype)
    return out.sort_values(list(spec.key), kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- reading
def quarantine_counts(folder: str | Path) -> pd.DataFrame:
    """Quarantined rows of a processed folder by table and rule: counts only, never a value or an identifier.

    Reads just the ``table`` and ``rule`` columns of ``quarantine.parquet`` (empty ``table, rule, rows`` if none).
    """
    path = Path(folder) / "quarantine.parquet"
    if not path.is_file():
        return pd.DataFrame({"table": pd.Series(dtype="string"), "rule": pd.Series(dtype="string"),
                             "rows": pd.Series(dtype="int64")})
    q = pd.read_parquet(path, columns=["table", "rule"])
    out = q.groupby(["table", "rule"], observed=True).size().rename("rows").reset_index()
    return out.sort_values(["rows", "table", "rule"], ascending=[False, True, True], kind="stable"
                           ).reset_index(drop=True)


def is_suite_output(folder: str | Path) -> bool:
    """True when ``folder`` holds a manifest written by this suite's ingest."""
    try:
        manifest = read_manifest(folder)
    except ProcessedDataError:
        return False
    return bool(manifest) and manifest.get("tool") == TOOL


def check_processed(folder: str | Path, *, require: Iterable[str] = (), footers: bool = True) -> dict[str, Any]:
    """Check a processed folder without reading its data; return its manifest (``{}`` if none).

    The folder must hold a manifest or at least one table. Every table the manifest lists
    must be present, every table's Parquet footer readable (a truncated file fails here) and each table in
    ``require`` present with rows; ``footers=False`` skips these two (for a reader reporting damaged files).

    Raises
    ------
    ProcessedDataError
        With ``exit_code`` 2 when ``folder`` is not a processed folder, 1 when it is
        incomplete or damaged.
    """
    import pyarrow.parquet as pq

    folder = Path(folder)
    if not folder.exists():
        raise ProcessedDataError(f"processed data folder not found: {folder}", exit_code=2)
    if not folder.is_dir():
        raise ProcessedDataError(f"{folder} is a file, not a processed data folder", exit_code=2)
    manifest = read_manifest(folder)
    present = {t for t in TABLE_ORDER if table_location(folder, t) is not None}
    if manifest is None and not present:
        raise ProcessedDataError(f"{folder} is not a processed data folder (it has no manifest.json and no "
                                 "tables); give the folder `kkbm ingest` wrote, or run `kkbm ingest RAW --out "
                                 "FOLDER` first", exit_code=2)
    manifest = manifest if manifest is not None else {}  # tables written another way (e.g. synth.program_data)
    listed = [t for t in (manifest.get("tables") or {}) if t in TABLES]
    missing = [t for t in listed if t not in present]
    if missing:
        raise ProcessedDataError(f"{folder} is incomplete: the manifest lists {', '.join(missing)} but "
                                 f"{'that file is' if len(missing) == 1 else 'those files are'} missing; "
                                 "run `kkbm ingest` again")
    for table in listed:  # a province gone from a partitioned table is a loss, never silent
        gone = sorted(set(manifest["tables"][table].get("partitions") or ()) - set(partitions(folder, table)))
        if gone:
            raise ProcessedDataError(f"{folder} is incomplete: {table} has no file for province(s) "
                                     f"{', '.join(gone)}, which the manifest lists; run `kkbm ingest` again")
    rows: dict[str, int] = {}
    for table in sorted(present) if footers else ():
        rows[table] = 0
        for path in table_files(folder, table):
            try:
                rows[table] += pq.read_metadata(path).num_rows
            except Exception as exc:  # pyarrow raises several types for damaged files
                raise ProcessedDataError(f"{path} is damaged or truncated ({type(exc).__name__}); run "
                                         "`kkbm ingest` again") from None
    for table in require if footers else ():
        if not rows.get(table):
            raise ProcessedDataError(f"{folder} has no {table} ({'no ' + table + '.parquet' if table not in rows else '0 rows'}); "
                                     f"the analyses need {' and '.join(REQUIRED_FOR_ANALYSIS)}. Check the ingest's "
                                     "data_quality.md: were those sheets recognised?")
    return manifest


def load_processed(folder: str | Path, *, require: Iterable[str] = (), provinces: Iterable[str] | None = None,
                   arrow: Collection[str] = ()) -> dict[str, pd.DataFrame]:
    """Read every processed table of a folder written by the ingest (either layout).

    Parameters
    ----------
    folder : path
        A processed folder.
    require : iterable of str
        Tables that must be present with rows (e.g. :data:`REQUIRED_FOR_ANALYSIS`).
    provinces : iterable of str, optional
        Read only these provinces of the partitioned tables (:data:`PARTITIONED`); the others whole.
    arrow : collection of str
        Tables kept in Arrow's types (see :func:`read_table`).

    Raises
    ------
    ProcessedDataError
        See :func:`check_processed`; also when a table cannot be decoded.
    """
    check_processed(folder, require=require)
    present = [table for table in TABLE_ORDER if table_location(folder, table) is not None]
    with ThreadPoolExecutor(2, thread_name_prefix="kkbm-load") as pool:  # two at a time: Arrow decodes without the GIL
        return dict(zip(present, pool.map(lambda t: read_table(folder, t, provinces=provinces, arrow=t in arrow),
                                          present)))


def table_location(folder: str | Path, table: str) -> Path | None:
    """The table's file (``<table>.parquet``) or partition folder (``<table>/``), or None."""
    whole, parts = Path(folder) / f"{table}.parquet", Path(folder) / table
    return whole if whole.exists() else parts if parts.is_dir() else None


def partitions(folder: str | Path, table: str) -> list[str]:
    """The province codes of a partitioned table (``[]`` for a table in one file)."""
    where, prefix = table_location(folder, table), f"{PARTITION_COLUMN}="
    if where is None or not where.is_dir():
        return []
    return sorted(p.name[len(prefix):] for p in where.iterdir() if p.is_dir() and p.name.startswith(prefix))


def table_files(folder: str | Path, table: str, provinces: Iterable[str] | None = None) -> list[Path]:
    """The Parquet files holding a table (only those of ``provinces`` when it is partitioned).

    For DuckDB, Dask or Polars; a file of a partitioned table holds the table's columns
    without the province, which is in the folder name.
    """
    where = table_location(folder, table)
    if where is None:
        return []
    if where.is_file():
        return [where]
    wanted = None if provinces is None else {str(p) for p in provinces}
    return [where / f"{PARTITION_COLUMN}={p}" / _PART_FILE for p in partitions(folder, table)
            if wanted is None or p in wanted]


def read_table(folder: str | Path, table: str, *, columns: Iterable[str] | None = None,
               provinces: Iterable[str] | None = None, arrow: bool = False) -> pd.DataFrame:
    """One processed table, sorted by its key, with the schema's types (either layout).

    Parameters
    ----------
    folder : path
    table : str
    columns : iterable of str, optional
        Read only these columns.
    provinces : iterable of str, optional
        Only these provinces of a partitioned table (a table in one file is read whole).
    arrow : bool, default False
        Keep Arrow's types (``pandas.ArrowDtype``, the same values unconverted), for a table only DuckDB reads.

    Raises
    ------
    ProcessedDataError
        A file cannot be decoded.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = table_files(folder, table, provinces)
    cols = None if columns is None else list(columns)
    if not files:
        frame = empty_table(table)
        return frame if cols is None else frame[cols]
    single = len(files) == 1 and files[0].name == f"{table}.parquet"  # one file, read as written
    key = [] if single else list(TABLES[table].key)
    need = None if cols is None else cols + [k for k in key if k not in cols]
    try:  # a corrupt page shows only when the data is read
        if single:
            return pd.read_parquet(files[0], columns=cols, **({"dtype_backend": "pyarrow"} if arrow else {}))
        parts = [pq.read_table(f, columns=need) for f in files]
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise ProcessedDataError(f"{table_location(folder, table)} cannot be read ({type(exc).__name__}); "
                                 "run `kkbm ingest` again") from None
    frame = sort_by_key(pa.concat_tables(parts), key).to_pandas(types_mapper=pd.ArrowDtype if arrow else None)
    return frame if cols is None else frame[cols]


# --------------------------------------------------------------------------- writing tables
def write_table(folder: Path, table: str, frame: pd.DataFrame, meta: dict[str, str]) -> dict[str, Any]:
    """Write a conformed table (a frame or an Arrow table) as one file; return its manifest entry."""
    from .io import write_parquet

    write_parquet(frame, folder / f"{table}.parquet", {**meta, "table": table})
    return {"rows": len(frame), "columns": list(getattr(frame, "column_names", frame.columns))}


def write_partitioned(folder: Path, table: str, parts: Iterable[tuple[str, pd.DataFrame]],
                      meta: dict[str, str]) -> dict[str, Any]:
    """Write a table one conformed frame (or Arrow table) per province (hive style); return its manifest entry."""
    from .io import write_parquet

    rows, columns, codes = 0, list(TABLES[table].columns), []
    for code, frame in parts:
        write_parquet(frame, folder / table / f"{PARTITION_COLUMN}={code}" / _PART_FILE,
                      {**meta, "table": table, PARTITION_COLUMN: code})
        rows, columns = rows + len(frame), list(getattr(frame, "column_names", frame.columns))
        codes.append(code)
    return {"rows": rows, "columns": columns, "partitioned_by": PARTITION_COLUMN, "partitions": codes}


# --------------------------------------------------------------------------- output folders
def default_output(raw_dir: str | Path, processed_root: str | Path) -> Path:
    """``processed_root/<raw folder name>``, or ``…-processed`` if that would touch the raw folder.

    Raises
    ------
    OutputFolderError
        When neither name is safe (then ``--out`` must be given).
    """
    raw = Path(raw_dir).resolve()
    root = Path(processed_root)
    for name in (raw.name, f"{raw.name}-processed"):
        candidate = root / name
        if _conflict(candidate.resolve(), raw) is None:
            return candidate
    raise OutputFolderError(f"the default output folder would be inside or around the raw folder {raw}; "
                            "choose one with --out")


def _conflict(out: Path, raw: Path) -> str | None:
    """Why writing ``out`` (resolved) could touch the raw folder, or None."""
    if out == raw:
        return "it is the raw folder itself"
    if raw.is_relative_to(out):
        return "it contains the raw folder (replacing it would delete the raw data)"
    if out.is_relative_to(raw):
        return "it lies inside the raw folder (the next ingest would read its own outputs)"
    return None


def ours(name: str) -> bool:
    """Whether a file (or folder) name is one the suite writes into a processed folder."""
    return (name in INGEST_FILES or name in ANALYSIS_FILES or name in LEGACY_FILES or name in PARTITIONED
            or name.endswith(".parquet") and name[:-8] in TABLES)


def _only_partitions(path: Path) -> bool:
    """Whether a table's partition folder holds nothing but our ``province=<code>/part-0.parquet`` files."""
    if path.name not in PARTITIONED or not path.is_dir():
        return True
    return all(p.is_dir() and p.name.startswith(f"{PARTITION_COLUMN}=") and [c.name for c in p.iterdir()] == [_PART_FILE]
               for p in path.iterdir())


def check_output_folder(out_dir: str | Path, raw_dir: str | Path | None = None) -> Path:
    """Refuse an output folder that could destroy anything; return it resolved.

    Refused: the raw folder, a folder containing it or inside it, a file, and a non-empty
    folder that is not a previous output of this suite (no manifest of ours, or files that
    are not ours). Nothing is touched.

    Raises
    ------
    OutputFolderError
    """
    given = Path(out_dir)
    out = given.resolve()
    if raw_dir is not None:
        why = _conflict(out, Path(raw_dir).resolve())
        if why:
            raise OutputFolderError(f"refusing --out {given}: {why}. Choose a folder outside the raw folder")
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"refusing --out {given}: it is a file, not a folder")
    if out.is_dir():
        entries = sorted(p.name for p in out.iterdir())
        if entries and not is_suite_output(out):
            shown = ", ".join(entries[:5]) + (f" and {len(entries) - 5} more" if len(entries) > 5 else "")
            raise OutputFolderError(f"refusing --out {given}: it is not empty ({shown}) and is not an output of "
                                    "kkbm ingest, so replacing it would delete those files. Give a new or "
                                    "empty folder")
        foreign = [n for n in entries if not ours(n) or not _only_partitions(out / n)]
        if foreign:
            raise OutputFolderError(f"refusing --out {given}: besides an earlier ingest output it holds "
                                    f"{', '.join(foreign[:5])}, which replacing it would delete. Move "
                                    f"{'that' if len(foreign) == 1 else 'those'} elsewhere first")
    return out


def clean_stale(out_dir: Path) -> list[Path]:
    """Remove staging and old folders that killed runs left beside ``out_dir``.

    Only folders named like ours and known to be ours (a staging mark, or our manifest
    for a set-aside old output) are removed, and only when the process that made them
    is gone.
    """
    removed = []
    parent = out_dir.parent
    if not parent.is_dir():
        return removed
    for path in parent.glob(f".{out_dir.name}.*-*"):
        kind, _, pid = path.name[len(out_dir.name) + 2:].rpartition("-")
        if kind not in ("staging", "old") or not pid.isdigit() or _alive(int(pid)):
            continue
        mine = (path / _STAGING_MARK).exists() if kind == "staging" else is_suite_output(path)
        if path.is_dir() and not path.is_symlink() and mine:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_atomically(out_dir: str | Path, fill: Callable[[Path], None], *, raw_dir: str | Path | None = None) -> Path:
    """Fill a fresh staging folder with ``fill(staging)``, then swap it in place of ``out_dir``.

    The output folder is checked first (:func:`check_output_folder`); a failure while
    filling leaves the previous output as it was and removes the staging folder, and the
    folders above it that this call made (a first run that fails leaves no trace).
    """
    out = check_output_folder(out_dir, raw_dir)
    made = [p for p in out.parents if not p.exists()]  # deepest first
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(out)
    staging = out.with_name(f".{out.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    (staging / _STAGING_MARK).touch()
    try:
        fill(staging)
        (staging / _STAGING_MARK).unlink()
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in made:
            try:
                folder.rmdir()  # only if still empty
            except OSError:
                break
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def _swap(staging: Path, out: Path) -> None:
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        os.replace(out, old)
    try:
        os.replace(staging, out)
    except OSError:
        if old.exists():
            os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
