"""Raw files -> validated, pseudonymised Parquet tables, a quarantine, notes and a manifest.

The pipeline, for a raw folder that is only ever read:

1. give every file a fate (:mod:`.inventory`): read, excluded by a named rule,
   unsupported, refused (a link out of the folder) or unreadable;
2. open each file's sheets (:mod:`.readers`): workbooks whole, text files as a header and
   a stream of rows read in chunks, each sheet that holds no table with its own fate; decide
   which table a sheet holds (:mod:`.matching`, :mod:`.mapping`);
3. table by table, sheet by sheet and chunk by chunk (:mod:`.sheetflow`): apply the
   mapping (rows to skip, totals and footers with a sum check, constants, recodes,
   wide-to-long: :mod:`.shaping`), parse, pseudonymise, harmonise regions and check every
   row (:mod:`.validate`); rows that pass wait in the table's spool (:mod:`.spool`);
4. the checks that need a whole table, or two: duplicate keys, references between tables
   (:mod:`.checks`);
5. write the accepted rows as Parquet, by province for the large tables (:mod:`.finalise`,
   :mod:`.store`), every other row to the quarantine with a pointer to its raw cell and a
   plain message, and the accounting, where for every file and sheet ``rows read =
   accepted + quarantined + skipped`` (:mod:`.results`).

Memory follows the largest chunk (``chunk_rows``) and the largest province, not the input. Forked helpers
(:mod:`.forked`) may read the workbooks, build, check and write some tables meanwhile. The output folder is
checked before anything is read (never the raw folder, never around it, never a folder that is not ours) and
replaced in one swap; an ingest that reads no rows keeps the previous output. :func:`ingest` returns an
:class:`IngestResult`; ``kkbm ingest`` is its command line.
"""
from __future__ import annotations

import gc
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from . import store
from .checks import accepted_values, checked_columns, duplicate_keys, reference_problems, rows_to_check, table_rules
from .finalise import PARENTS, PROVINCE_VIA, finalise
from .forked import Claims, Forked, available
from .inventory import FileEntry, inventory, is_embedded_demo
from .io import sha256, write_csv, write_json, write_parquet, write_text
from .mapping import DEFAULT_MAPPING_NAME, load_mapping
from .matching import detect_table, is_known_header
from .privacy import PseudonymKey
from .quality import quality_report
from .readers import WORKBOOK_SUFFIXES, RawFile, RawFileError, data_suffix, read_file
from .redaction import Echo
from .regions import official_index
from .results import (PROBLEM_COLUMNS, PROBLEM_FATES, IngestResult, Locator, ProcessedTables, accounting_frame,
                      data_version, manifest, manifest_inputs, notes_frame, package_version,
                      quarantine_frame)
from .schema import SCHEMA_VERSION, TABLE_ORDER, TABLES, codebook
from .sheetflow import UID_BITS, Context, SheetJob
from .spool import RAW_PREFIX, TableSpool
from .validate import Problems, field_kind

__all__ = ["ingest", "IngestResult", "write_outputs", "CHUNK_ROWS"]
#: Rows of a text file read at a time (memory follows this, not the file's size).
CHUNK_ROWS = 250_000
#: Input size from which a forked helper pays for itself (forking and merging cost about a CPU second).
PARALLEL_BYTES = 64 << 20
#: In the work folder: refused rows of the tables checked after the check-and-write helper started (_hand_over).
_REFUSED = "refused.npz"


class _NothingRead(Exception):
    """No row was read: the previous output is kept."""


def ingest(raw_dir: str | Path, out_dir: str | Path | None = None, *, mapping: str | Path | None = None,
           key: PseudonymKey | None = None, as_of: date | None = None,
           progress: Callable[[Iterable[Any], str], Iterable[Any]] | None = None,
           chunk_rows: int | None = None, workers: int | None = None) -> IngestResult:
    """Ingest every data file under ``raw_dir``.

    Parameters
    ----------
    raw_dir : path
        Folder of raw files (CSV/TSV, gzipped CSV, Excel, ODS, KoboToolbox exports). Read only.
    out_dir : path, optional
        Where to write the processed tables, quarantine, notes and manifest. Refused when it
        is the raw folder, contains it, lies inside it, is a file, or is a non-empty folder
        that is not an earlier output (:class:`~kkbm_analysis.store.OutputFolderError`).
        Replaced as a whole and atomically; kept as it was when nothing could be read.
        ``None`` writes nothing (the tables are then kept in memory).
    mapping : path, optional
        Mapping YAML (default ``raw_dir/kkbm-mapping.yaml`` if present); see :mod:`.mapping`.
    key : PseudonymKey, optional
        Pseudonym key. Default: :meth:`PseudonymKey.for_data` (the configured key; the public
        demo key only for the suite's own demo, proven by its files' checksums).
    as_of : date, optional
        Dates after this are quarantined as ``future_date`` (default: today).
    progress : callable, optional
        ``progress(iterable, description)`` wrapper for a progress bar.
    chunk_rows : int, optional
        Rows of a text file read at a time (default :data:`CHUNK_ROWS`). The outputs do
        not depend on it; memory does.
    workers : int, optional
        1, or 2: a forked helper builds, checks and writes some tables (Linux, two free cores). Default
        2 for inputs of :data:`PARALLEL_BYTES` or more. The outputs do not depend on it.

    Returns
    -------
    IngestResult
        With ``out_dir``, its ``tables`` are read from the output when first asked for.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"raw data folder not found: {raw_dir}" if not raw_dir.exists()
                                else f"{raw_dir} is a file; give the folder that holds the raw files")
    if out_dir is not None:
        store.check_output_folder(out_dir, raw_dir)
    mapping_path = Path(mapping) if mapping is not None else raw_dir / DEFAULT_MAPPING_NAME
    rules = load_mapping(mapping_path, required=mapping is not None)
    entries = inventory(raw_dir, rules, mapping_path)
    ctx = Context(key, pd.Timestamp(as_of or date.today()), rules, int(chunk_rows or CHUNK_ROWS))  # key: see _Run
    parallel = available() and (workers > 1 if workers is not None else _size(entries) >= PARALLEL_BYTES)
    run = _Run(ctx, raw_dir, entries, progress or (lambda it, _desc: it), parallel)
    with _rare_collections():  # the outputs do not depend on it (see there)
        if out_dir is None:
            with tempfile.TemporaryDirectory(prefix="kkbm-ingest-") as work:
                return run.result(None, Path(work))
        made: list[IngestResult] = []

        def fill(staging: Path) -> None:
            work = staging / ".spool"
            try:
                result = run.result(staging, work)
                made.append(result)
                if result.rows_read == 0:
                    raise _NothingRead()
            finally:
                shutil.rmtree(work, ignore_errors=True)
            _write_reports(result, staging)

        try:
            out = store.write_atomically(out_dir, fill, raw_dir=raw_dir)
        except _NothingRead:
            result = made[0]
            result.errors.append(f"no rows were read from {raw_dir}; the output folder {out_dir} was left as it was")
            return result
        result = made[0]
        result.tables = ProcessedTables(out, result.manifest["tables"])
        return result


@contextmanager
def _rare_collections(young: int = 10_000) -> Iterator[None]:
    """Python's cycle collector run less often (restored after).

    The ingest makes millions of short-lived lists, dicts and tuples (messages, cells, rows of
    problems). With the default threshold, their churn triggers full collections that walk every
    live object again: about a CPU second in all at national scale. A young generation of
    ``young`` objects (Python's default is 700) collects the same garbage, just in larger batches.
    """
    before = gc.get_threshold()
    gc.set_threshold(max(young, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


# --------------------------------------------------------------------------- reading
def _size(entries: list[FileEntry]) -> int:
    """Bytes of the files to read (one that cannot be looked at counts nothing)."""
    size = 0
    for e in entries:
        try:
            size += e.path.stat().st_size if e.read else 0
        except OSError:
            pass
    return size


def _checksums(entries: list[FileEntry]) -> tuple[dict[str, str], dict[str, str]]:
    sums, unreadable = {}, {}
    for e in entries:
        if e.read:
            try:
                sums[e.relpath] = sha256(e.path)
            except OSError as exc:
                unreadable[e.relpath] = f"the file cannot be opened ({exc.strerror or type(exc).__name__})"
    return sums, unreadable


class _Run:
    """One ingest: the sheets found, the tables built, the checks between them, the outputs."""

    def __init__(self, ctx: Context, raw_dir: Path, entries: list[FileEntry], wrap: Callable,
                 parallel: bool = False) -> None:
        self.ctx, self.raw_dir, self.entries, self.wrap, self.parallel = ctx, raw_dir, entries, wrap, parallel
        self.checksums: dict[str, str] = {}
        self.unreadable: dict[str, str] = {}
        self.synthetic = False
        self.jobs: list[SheetJob] = []
        self.others: list[dict] = []
        self.errors: list[str] = []
        self.spools: dict[str, TableSpool] = {}
        self.late: dict[str, Problems] = {}
        self.bad: dict[str, np.ndarray] = {}
        self.present: list[str] = []
        self.committed: dict[str, list[pd.DataFrame]] = {}
        self.table_notes: dict[str, list[dict]] = {}

    def result(self, out: Path | None, work: Path) -> IngestResult:
        self._open_all()
        self._build_all(work)
        self.ctx.pseudonyms.clear()  # every table is parsed: its memory is freed for the checks and the writing
        for job in self.jobs:
            if job.table is None:
                job.run(self.ctx, None, Echo(), [])
        accounting = accounting_frame([j.accounting() for j in self.jobs], self.others)  # files' fates are known
        meta = {"synthetic": str(self.synthetic).lower(), "schema_version": SCHEMA_VERSION,
                "data_version": data_version(manifest_inputs(self.entries, self.checksums, accounting)),
                "package_version": package_version()}
        helper = self._cross_table(out, meta, work)
        tables, info, quarantine = self._finalise(out, meta, work, helper)
        self._count_late()
        notes = self._notes()
        accounting = accounting_frame([j.accounting() for j in self.jobs], self.others)
        inputs = manifest_inputs(self.entries, self.checksums, accounting)
        rules, key = self.ctx.rules, self.ctx.key
        info = manifest(inputs=inputs, tables=info, accounting=accounting, key_id=key.key_id,
                        key_note="demo key: the suite's synthetic demo only" if key.is_demo
                        else "keyed HMAC-SHA256 pseudonyms", synthetic=self.synthetic, as_of=self.ctx.as_of.date(),
                        mapping_file=rules.source.name if rules.source else None, errors=self.errors)
        for spool in self.spools.values():
            spool.remove()
        return IngestResult(tables, quarantine, notes, accounting, info, self.errors)

    # ------------------------------------------------------------------ files and sheets
    def _open_all(self) -> None:
        opened, reading = self._open_files()
        try:
            self._make_jobs(opened, reading)
        finally:
            if reading is not None:
                reading.stop()

    def _make_jobs(self, opened: dict[str, RawFile | tuple[str, str]], reading: Forked | None) -> None:
        """A :class:`SheetJob` per sheet to read, in file order; a file the helper still reads (``reading``)
        is waited for when its turn comes, the sheets before it warmed meanwhile (:meth:`SheetJob.warm`)."""
        for e in self.entries:
            if reading is not None and e.read and e.relpath not in self.unreadable and e.relpath not in opened:
                for job in self.jobs:
                    if reading.ready():
                        break
                    job.warm(self.ctx)
                opened.update(reading.result())
                reading = None
            if not e.read or e.relpath in self.unreadable:
                fate, reason = (e.fate, e.reason) if not e.read else ("unreadable", self.unreadable[e.relpath])
                self.others.append({"file": e.relpath, "fate": fate, "reason": reason})
                if fate in PROBLEM_FATES:
                    self.errors.append(f"{e.relpath}: {fate}: {reason}")
                continue
            raw = opened[e.relpath]
            if isinstance(raw, tuple):
                fate, reason = raw
                self.others.append({"file": e.relpath, "fate": fate, "reason": reason})
                if fate == "unreadable":
                    self.errors.append(f"{e.relpath}: unreadable: {reason}")
                continue
            for fate in raw.fates:
                self.others.append({"file": e.relpath, "sheet": fate.sheet or "", "fate": fate.fate,
                                    "reason": fate.reason})
                if fate.fate in PROBLEM_FATES:
                    self.errors.append(f"{e.relpath}{_sheet(fate.sheet)}: {fate.fate.replace('_', ' ')}: {fate.reason}")
            for sheet in raw.sheets:
                rule = self.ctx.rules.rule_for(e.relpath, sheet.sheet)
                if rule and rule.skip:
                    self.others.append({"file": e.relpath, "sheet": sheet.sheet or "", "fate": "excluded",
                                        "reason": f"skip: true in the mapping (files entry at line {rule.line})"})
                    continue
                headers = [str(c) for c in sheet.frame.columns]
                overrides = self.ctx.rules.columns_for(rule)
                table = (rule.table if rule and rule.table
                         else detect_table(headers, sheet.sheet, e.relpath, overrides)[0])
                self.jobs.append(SheetJob(len(self.jobs), e.relpath, sheet, table, rule))

    def _open_files(self) -> tuple[dict[str, RawFile | tuple[str, str]], Forked | None]:
        """Each readable file opened (:meth:`_read_one`), after :meth:`_checksums`; with ``parallel``, a forked
        helper reads the workbooks (read whole, unlike text files) meanwhile, from before the checksums (what it
        reads of a file the checksums find unreadable is not used): returned with the files opened here, for
        :meth:`_make_jobs` to wait for."""
        books = [e for e in self.entries if e.read and data_suffix(e.path) in WORKBOOK_SUFFIXES]
        helper = (Forked(self._read_many, books, what="reading the workbooks")
                  if self.parallel and books and len(books) < sum(e.read for e in self.entries) else None)
        try:
            self._checksums()
            readable = [e for e in self.entries if e.read and e.relpath not in self.unreadable]
            opened = {e.relpath: self._read_one(e) for e in
                      self.wrap([e for e in readable if helper is None or e not in books], "reading files")}
            if helper is not None:
                official_index()  # while the workbooks are read: the processes forked later inherit it
        except BaseException:
            if helper is not None:
                helper.stop()
            raise
        return opened, helper

    def _checksums(self) -> None:
        """Each file's checksum (or why it cannot be read), whether the folder is the suite's own demo, and the
        pseudonym key (the configured one; the demo key only for the demo; else an error), before any row."""
        self.checksums, self.unreadable = _checksums(self.entries)
        self.synthetic = is_embedded_demo(self.raw_dir, self.entries, self.checksums)
        self.ctx.key = self.ctx.key or PseudonymKey.for_data(self.synthetic)

    def _read_many(self, entries: list[FileEntry]) -> dict[str, RawFile | tuple[str, str]]:
        """(In the helper) :meth:`_read_one` of each entry."""
        return {e.relpath: self._read_one(e) for e in entries}

    def _read_one(self, e: FileEntry) -> RawFile | tuple[str, str]:
        """The file's tables and sheet fates, or (its fate, the reason) when it cannot be read."""
        rules = self.ctx.rules

        def header(sheet: str | None):
            rule = rules.rule_for(e.relpath, sheet)
            return list(rule.header_row) if rule and rule.header_row else None

        try:
            return read_file(e.path, header_row=header, known=is_known_header, chunk_rows=self.ctx.chunk_rows)
        except RawFileError as exc:
            fate = "empty" if exc.reason == "the file is empty" else "unreadable"
            reason = exc.reason
        except (OSError, ValueError, MemoryError) as exc:  # a reader library failing on an odd file
            fate, reason = "unreadable", f"the file could not be read ({type(exc).__name__})"
        return fate, reason

    # ------------------------------------------------------------------ tables
    def _build_all(self, work: Path) -> None:
        """Every table, in :data:`TABLE_ORDER`; with ``parallel``, a forked helper builds some meanwhile
        (:meth:`_beside`, then the last of this side's that it claims first), and what it made is merged as if
        this process had built them in order."""
        beside = self._beside() if self.parallel else []
        if any(TABLES[t].region_columns for t in beside):
            official_index()  # built before the fork, not on both sides (0.5 s)
        # this side's tables after members (which needs communities): built by whichever side is free first
        spare = Claims([t for t in TABLE_ORDER[TABLE_ORDER.index("members") + 1:] if t not in beside
                        and any(j.table == t for j in self.jobs)]) if beside else None
        helper = (Forked(self._build_tables, beside, spare, work, what=f"building the tables {', '.join(beside)}")
                  if beside else None)
        try:
            for table in self.wrap(TABLE_ORDER, "checking tables"):
                if table not in beside and (spare is None or table not in spare.names or spare.claim(table)):
                    self._build(table, work)
            if helper is not None:
                self._merge(helper.result())
        finally:
            if helper is not None:
                helper.stop()

    def _beside(self) -> list[str]:
        """Tables whose rows hold no pseudonym (NIKs are remembered on this side), but communities (members need it)."""
        tables = {j.table for j in self.jobs if j.table is not None}
        return [t for t in TABLE_ORDER if t in tables and t != "communities"
                and not any(field_kind(t, c) == "pseudonym" for c in TABLES[t].columns)]

    def _build_tables(self, tables: list[str], spare: Claims, work: Path) -> dict:
        """(In the helper) build ``tables``, then those of ``spare`` from its end that this process claims before
        the parent does; return what that changed here, for :meth:`_merge`."""
        before = len(self.ctx.notes)
        for table in tables:
            self._build(table, work)
        tables = list(tables)
        for table in reversed(spare.names):
            if not spare.claim(table):
                break  # the parent goes through them in order: it has taken this one and every one before
            self._build(table, work)
            tables.append(table)
        jobs = {j.no: j.state() for j in self.jobs if j.table in tables}
        return {"jobs": jobs, "notes": self.ctx.notes[before:],
                "tables": {t: (self.spools[t], self.late[t], self.bad[t], self.committed[t]) for t in tables
                           if t in self.spools}}

    def _merge(self, built: dict) -> None:
        """Take in what a helper built (:meth:`_build_tables`), in the order a sequential run makes it."""
        for no, state in built["jobs"].items():
            self.jobs[no].restore(state)
        for table, made in built["tables"].items():
            self.spools[table], self.late[table], self.bad[table], self.committed[table] = made
        self.ctx.notes += built["notes"]  # sheet notes: each about its own sheet, so their order does not matter
        self.present = [t for t in TABLE_ORDER if t in self.spools]
        self.spools, self.late, self.bad = ({t: d[t] for t in TABLE_ORDER if t in d} for d in
                                            (self.spools, self.late, self.bad))

    def _build(self, table: str, work: Path) -> None:
        jobs = [j for j in self.jobs if j.table == table]
        if not jobs:
            return
        spool = self.spools[table] = TableSpool(work, table, _late_fields(table))
        echo = Echo(lambda: frozenset().union(*(j.names() for j in jobs)))
        communities = self._communities() if table == "members" else None
        pending: list[pd.DataFrame] = []
        for job in jobs:
            job.run(self.ctx, spool, echo, pending, communities)
        spool.close()
        if not any(j.kept for j in jobs):
            spool.remove()
            del self.spools[table]
            return
        self.present.append(table)
        late = self.late[table] = Problems()
        duplicate_keys(table, spool, late, echo, self._describe)
        duplicates = np.fromiter(late.uids(), dtype=np.int64)
        kept = [q[~q["uid"].isin(duplicates)] for q in pending]
        self.committed[table] = kept
        later = np.unique(np.concatenate([q["uid"].to_numpy(dtype=np.int64) for q in kept] or [np.zeros(0, np.int64)]))
        self.bad[table] = np.union1d(duplicates, later)

    def _communities(self) -> pd.DataFrame | None:
        """Accepted communities (their province and regency place members' villages)."""
        spool = self.spools.get("communities")
        if spool is None:
            return None
        rows = spool.frame(spool.read(["_uid", "community_id", "province_code", "regency_code"]))
        return rows[~rows["_uid"].isin(self.bad.get("communities", []))].drop(columns="_uid")

    def _describe(self, uid: int, row: int) -> str:
        job = self.jobs[uid >> UID_BITS]
        sheet = f", sheet '{job.sheet}'" if job.sheet else ""
        return f"row {row} of {job.relpath}{sheet}"

    def _cross_table(self, out: Path | None, meta: dict[str, str], work: Path) -> tuple[Forked, str, Claims] | None:
        """References between tables in dependency order, against accepted rows; then the table rules.

        With ``parallel`` (and an output folder), a forked helper checks and writes the table with the most rows
        that no other table depends on, from when the tables it refers to are settled (:meth:`_finalise` waits);
        then it writes, from the end, those of this side's tables that it claims before this process does: the
        ones settled before it started at once, the others once their refused rows are handed over
        (:meth:`_hand_over`).
        """
        echo = Echo(lambda: frozenset().union(*(j.names() for j in self.jobs)))
        known: dict[tuple, tuple[np.ndarray, Any]] = {}
        depended = {r.table for spec in TABLES.values() for r in spec.references} | set(PARENTS)
        leaves = [t for t in self.present if t not in depended]
        largest = max(leaves, key=lambda t: self.spools[t].rows) if leaves else None
        helper, settled = None, []
        order = _settled_first(largest, [t for t in TABLES if t in self.present])
        for table in order:
            if table == largest and self.parallel and out is not None and len(self.present) > 1:
                later = [t for t in order if t not in settled and t != table]
                spare = Claims(later + settled, ready=settled)  # refused rows final: either side may write them
                helper = (Forked(self._check_and_write, table, echo, known, out, meta, work, spare,
                                 what=f"checking and writing the table {table}"), table, spare)
                continue
            self._check(table, echo, known)
            settled.append(table)
        if helper is not None:  # the tables checked here since: the helper may write them too, from now on
            _hand_over(work, {t: self.bad[t] for t in later})
            helper[2].open(later)
        return helper

    def _check(self, table: str, echo: Echo, known: dict) -> None:
        late = self.late[table]
        rows = rows_to_check(table, self.spools[table], self.bad[table])
        kept = np.ones(rows.num_rows, dtype=bool)  # not refused by a check of this table yet
        for ref in TABLES[table].references:
            if ref.table not in self.present:
                self.table_notes.setdefault(table, []).append(
                    {"table": table, "field": ",".join(ref.columns), "rule": "reference_not_checked",
                     "message": f"no {ref.table} data was given, so {', '.join(ref.columns)} could not be checked "
                                "against it"})
                continue
            reference_problems(table, rows, kept, ref, self._known(ref, known), late, echo)
        table_rules(table, rows, kept, self.spools, self.bad, late)
        self.bad[table] = np.union1d(self.bad[table], np.fromiter(late.uids(), dtype=np.int64))

    def _check_and_write(self, table: str, echo: Echo, known: dict, out: Path, meta: dict[str, str],
                         work: Path, spare: Claims) -> tuple:
        """(In the helper) :meth:`_check` one table, then write it (:func:`.finalise`); then write those of
        ``spare`` from its end that this process claims before the parent does."""
        self._check(table, echo, known)
        _, info = finalise([table], self.spools, self.bad, out, meta, work)
        late = self.late[table]
        ready = self._late_quarantine(table, late.frame()) if len(late.columns["uid"]) else None
        handed = None
        for name in reversed(spare.names):
            if not spare.claim(name):
                break  # the parent goes through them in order: it has taken this one and every one before
            if handed is None:  # the refused rows of the tables checked there since, read once handed over
                handed = _handed_over(work)
                self.bad.update(handed or {})
            info.update(finalise([name], self.spools, self.bad, out, meta, work)[1])
        return table, late, self.bad[table], self.table_notes.get(table, []), info, ready

    def _known(self, ref, known: dict[tuple, tuple[np.ndarray, Any]]) -> Any:
        """The target's accepted keys (:func:`.checks.accepted_values`), read again only when the target's
        refused rows have changed since (several tables refer to members)."""
        bad, values = known.get((ref.table, ref.target), (None, None))
        if bad is not self.bad[ref.table]:
            bad = self.bad[ref.table]
            values = accepted_values(self.spools[ref.table], list(ref.target), bad)
            known[(ref.table, ref.target)] = (bad, values)
        return values

    # ------------------------------------------------------------------ writing
    def _finalise(self, out: Path | None, meta: dict[str, str], work: Path,
                  helper: tuple[Forked, str, Claims] | None) -> tuple[dict, dict, pd.DataFrame]:
        """The accepted rows written (:func:`.finalise`) and the quarantine, while the ``helper`` checks and
        writes its table; what it found is merged in table order (the manifest lists the tables in order)."""
        theirs, spare = (helper[1], helper[2]) if helper else (None, None)
        shared = spare.names if spare else []
        try:  # this side's own work first, then the tables the helper may take (the last ones) once it is free
            ready = {t: self._late_quarantine(t, late.frame()) for t, late in self.late.items()
                     if t != theirs and len(late.columns["uid"])}
            tables, info = finalise([t for t in self.present if t != theirs and t not in shared], self.spools,
                                    self.bad, out, meta, work)
            for name in shared:
                if not spare.claim(name):
                    break
                info.update(finalise([name], self.spools, self.bad, out, meta, work)[1])
            if helper is not None:
                table, self.late[table], self.bad[table], self.table_notes[table], written, rows = \
                    helper[0].result()
                info.update(written)
                if rows is not None:
                    ready[table] = rows
                info = {t: info[t] for t in self.present}
        finally:
            if helper is not None:
                helper[0].stop()
        return tables, info, self._quarantine(ready)

    # ------------------------------------------------------------------ quarantine and notes
    def _count_late(self) -> None:
        """Each sheet's rows refused by a whole-table check or a deferred schema check (for the accounting)."""
        uids = np.concatenate([np.zeros(0, np.int64), *(self.bad[t] for t in self.present)]).astype(np.int64)
        counts = np.bincount(uids >> UID_BITS, minlength=len(self.jobs))
        for job in self.jobs:
            job.late_bad = int(counts[job.no])

    def _quarantine(self, ready: dict[str, pd.DataFrame]) -> pd.DataFrame:
        """Every problem row, sorted by where it is; ``ready``: whole-table checks' rows already made, by table."""
        frames = [q for j in self.jobs for q in j.quarantine]
        frames += [q.drop(columns="uid") for t in TABLE_ORDER for q in self.committed.get(t, []) if len(q)]
        for table, late in self.late.items():
            if len(late.columns["uid"]):
                frames.append(ready[table] if table in ready else self._late_quarantine(table, late.frame()))
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame(columns=PROBLEM_COLUMNS + ["values"]).astype({"row": "Int64"})
        q = pd.concat(frames, ignore_index=True)
        q = q.sort_values(["file", "sheet", "row", "column", "rule"], kind="stable")
        return q[PROBLEM_COLUMNS + ["values"]].reset_index(drop=True).astype({"row": "Int64"})

    def _late_quarantine(self, table: str, problems: pd.DataFrame) -> pd.DataFrame:
        """Quarantine rows for problems found by whole-table checks (their raw cells come from the spool)."""
        uids = pd.unique(problems["uid"])
        spool = self.spools[table]
        found = spool.frame(spool.read(["_uid", "_row", *[RAW_PREFIX + f for f in spool.raw_fields]],
                                       uids=np.asarray(uids, dtype=np.int64)))
        found = found.drop_duplicates("_uid").sort_values("_uid")
        parts = []
        for no, rows in found.groupby(found["_uid"].to_numpy() >> UID_BITS, sort=True):
            job = self.jobs[int(no)]
            if job.streamed:
                cells = pd.DataFrame({h: rows[RAW_PREFIX + f].to_numpy(dtype=object)
                                      for h, f in job.plan.mapped.items() if RAW_PREFIX + f in rows
                                      and h not in job.plan.identifiers}, index=rows["_row"].to_numpy())
                frame = cells.reindex(columns=job.raw.frame.columns).where(lambda d: d.notna(), None)
            else:
                frame = job.raw.frame
            parts.append(job.head(frame, rows["_uid"].to_numpy(), rows["_row"].to_numpy()))
        echoes = {i: self.jobs[int(p.uids[0]) >> UID_BITS].echo() for i, p in enumerate(parts)}
        return quarantine_frame(problems, Locator(parts), echoes)

    def _notes(self) -> pd.DataFrame:
        frames = [notes_frame(self.ctx.notes, Locator([]), {})] if self.ctx.notes else []
        frames += [n for j in self.jobs for n in j.notes]
        if self.table_notes:
            frames.append(notes_frame([n for t in TABLES for n in self.table_notes.get(t, [])], Locator([]), {}))
        frames = [f for f in frames if len(f)]
        if not frames:
            return notes_frame([], Locator([]), {})
        notes = pd.concat(frames, ignore_index=True)
        return notes.sort_values(["file", "sheet", "row", "column", "rule"], kind="stable").reset_index(drop=True)


def _late_fields(table: str) -> list[str]:
    """Fields a whole-table check may quote: keys, references and table rules (never pseudonyms)."""
    fields = [*TABLES[table].key, *checked_columns(table)]
    return [f for f in dict.fromkeys(fields) if field_kind(table, f) != "pseudonym"]


def _hand_over(work: Path, bad: dict[str, np.ndarray]) -> None:
    """Refused rows of some tables (their ``_uid``), for a helper to read (:func:`_handed_over`): the file
    appears whole, or not at all."""
    partial = work / f"{_REFUSED}.partial"
    with open(partial, "wb") as sink:
        np.savez(sink, **bad)
    os.replace(partial, work / _REFUSED)


def _handed_over(work: Path) -> dict[str, np.ndarray] | None:
    """The refused rows handed over by :func:`_hand_over` (None before it)."""
    if not (work / _REFUSED).exists():
        return None
    with np.load(work / _REFUSED) as handed:
        return {t: handed[t] for t in handed.files}


def _settled_first(table: str | None, tables: list[str]) -> list[str]:
    """``tables`` (in dependency order) with ``table`` moved forward to just after the tables it depends on,
    directly or not (references, and the way to its province), so a helper can take it over as early as
    possible; the others keep their order."""
    if table is None:
        return tables
    needs, todo = set(), [table]
    while todo:
        now = todo.pop()
        via = PROVINCE_VIA.get(now, ())
        hops = [] if isinstance(via, str) else [p for _, p in via]
        for parent in [ref.table for ref in TABLES[now].references] + hops:
            if parent not in needs:
                needs.add(parent)
                todo.append(parent)
    first = [t for t in tables if t in needs]
    return first + [table] + [t for t in tables if t not in needs and t != table]


def _sheet(name: str | None) -> str:
    return f", sheet '{name}'" if name else ""


# --------------------------------------------------------------------------- writing
def _write_reports(result: IngestResult, staging: Path) -> None:
    """Everything beside the tables: quarantine, notes, accounting, codebook, quality report, manifest."""
    meta = {"synthetic": str(result.manifest["synthetic"]).lower(), "data_version": result.manifest["data_version"],
            "schema_version": result.manifest["schema_version"],
            "package_version": result.manifest["package_version"]}
    with ThreadPoolExecutor(1) as pool:  # the quarantine's CSV, a large one, is written by DuckDB beside the rest
        large = pool.submit(write_csv, result.quarantine, staging / "quarantine.csv")
        write_parquet(result.quarantine.astype({"row": "Int64"}), staging / "quarantine.parquet", meta)
        write_csv(result.notes, staging / "ingest_notes.csv")
        write_csv(result.accounting, staging / "accounting.csv")
        write_csv(codebook(), staging / "codebook.csv")
        write_text(quality_report(result), staging / "data_quality.md")
        large.result()
    write_json({**result.manifest, "outputs": sorted(p.name for p in staging.iterdir() if not
                                                     p.name.startswith(".")) + [store.MANIFEST]},
               staging / store.MANIFEST)


def write_outputs(result: IngestResult, out_dir: Path, *, raw_dir: Path | None = None) -> Path:
    """Write an in-memory result into a fresh folder, then swap it in place of ``out_dir`` (see :mod:`.store`)."""
    meta = {"synthetic": str(result.manifest["synthetic"]).lower(), "data_version": result.manifest["data_version"],
            "schema_version": result.manifest["schema_version"],
            "package_version": result.manifest["package_version"]}

    def fill(staging: Path) -> None:
        for table, df in result.tables.items():
            write_parquet(df, staging / f"{table}.parquet", {**meta, "table": table})
        _write_reports(result, staging)

    return store.write_atomically(out_dir, fill, raw_dir=raw_dir)
