"""Raw files -> validated, pseudonymised Parquet tables, a quarantine, notes and a manifest.

The pipeline, for a raw folder that is only ever read:

1. give every file a fate (:mod:`.inventory`): read, excluded by a named rule,
   unsupported, refused (a link out of the folder) or unreadable;
2. read each file's sheets as raw cells with row numbers (:mod:`.readers`), each sheet
   that holds no table with its own fate;
3. decide which table a sheet holds and which header is which field, then apply the
   mapping: rows to skip, totals and footers (with a sum check), constants, recodes,
   wide-to-long (:mod:`.matching`, :mod:`.mapping`, :mod:`.shaping`);
4. parse, pseudonymise, harmonise regions and check every row, then references between
   tables (:mod:`.validate`);
5. write accepted rows as Parquet, every other row to the quarantine with a pointer to
   its raw cell and a plain message, and the accounting, where for every file and sheet
   ``rows read = accepted + quarantined + skipped`` (:mod:`.results`, :mod:`.store`).

The output folder is checked before anything is read (never the raw folder, never around
it, never a folder that is not ours) and replaced in one swap; an ingest that reads no
rows keeps the previous output. :func:`ingest` returns an :class:`IngestResult`;
``kkbm ingest`` is its command line.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from . import store
from .inventory import FileEntry, inventory, is_embedded_demo
from .io import sha256, write_csv, write_json, write_parquet, write_text
from .mapping import DEFAULT_MAPPING_NAME, Mapping, load_mapping
from .matching import detect_table, guess_columns, is_known_header
from .privacy import PseudonymKey
from .quality import quality_report
from .readers import RawFileError, read_file
from .redaction import Echo, name_tokens
from .results import (PROBLEM_FATES, IngestResult, Locator, accounting_frame, manifest, notes_frame,
                      quarantine_frame)
from .schema import TABLE_ORDER, TABLES, codebook
from .shaping import Shaped, shape_sheet
from .validate import Problems, build_table, cross_table, missing_fields

__all__ = ["ingest", "IngestResult", "write_outputs"]
_NAME_KINDS = ("name", "address", "birth_place", "signature")


def ingest(raw_dir: str | Path, out_dir: str | Path | None = None, *, mapping: str | Path | None = None,
           key: PseudonymKey | None = None, as_of: date | None = None,
           progress: Callable[[Iterable[Any], str], Iterable[Any]] | None = None) -> IngestResult:
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
        ``None`` writes nothing.
    mapping : path, optional
        Mapping YAML (default ``raw_dir/kkbm-mapping.yaml`` if present); see :mod:`.mapping`.
    key : PseudonymKey, optional
        Pseudonym key. Default: :meth:`PseudonymKey.for_data` (the configured key; the public
        demo key only for the suite's own demo, proven by its files' checksums).
    as_of : date, optional
        Dates after this are quarantined as ``future_date`` (default: today).
    progress : callable, optional
        ``progress(iterable, description)`` wrapper for a progress bar.

    Returns
    -------
    IngestResult
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
    checksums, unreadable = _checksums(entries)
    synthetic = is_embedded_demo(raw_dir, entries, checksums)
    key = key or PseudonymKey.for_data(synthetic)
    as_of = as_of or date.today()
    wrap = progress or (lambda it, _desc: it)

    parts, others, notes, errors = _read_all(entries, unreadable, rules, wrap)
    problems = Problems()
    echoes = {i: _echo(p) for i, p in enumerate([p for p in parts if len(p.uids)])}
    locator = Locator(parts)
    tables: dict[str, pd.DataFrame] = {}
    for table in wrap(TABLE_ORDER, "checking tables"):
        members = [p for p in parts if p.table == table and len(p.uids)]
        if not members:
            continue
        for p in members:
            _missing_columns(p, rules, problems)
        echo = Echo(lambda ms=members: frozenset().union(*(_names(p) for p in ms)))
        communities = _accepted(tables.get("communities"), problems)
        tables[table] = build_table(table, members, key, pd.Timestamp(as_of), problems, notes, echo,
                                    locator.describe, communities)
    _unrecognised(parts, problems)
    cross_table(tables, problems, notes, Echo(lambda: frozenset().union(*(_names(p) for p in parts))))

    prob = problems.frame()
    bad = set(prob["uid"].tolist())
    final = {t: store.conform(t, df[~df["_uid"].isin(bad)]) for t, df in tables.items()}
    quarantine = quarantine_frame(prob, locator, echoes)
    notes_df = notes_frame(notes, locator, echoes)
    accounting = accounting_frame(parts, bad, others)
    inputs = _inputs(entries, checksums, accounting)
    info = manifest(inputs=inputs, tables=final, accounting=accounting, key_id=key.key_id,
                    key_note="demo key: the suite's synthetic demo only" if key.is_demo
                    else "keyed HMAC-SHA256 pseudonyms", synthetic=synthetic, as_of=as_of,
                    mapping_file=rules.source.name if rules.source else None, errors=errors)
    result = IngestResult(final, quarantine, notes_df, accounting, info, errors)
    if out_dir is not None:
        if result.rows_read == 0:
            result.errors.append(f"no rows were read from {raw_dir}; the output folder {out_dir} was left as it was")
        else:
            write_outputs(result, Path(out_dir), raw_dir=raw_dir)
    return result


# --------------------------------------------------------------------------- reading
def _checksums(entries: list[FileEntry]) -> tuple[dict[str, str], dict[str, str]]:
    sums, unreadable = {}, {}
    for e in entries:
        if e.read:
            try:
                sums[e.relpath] = sha256(e.path)
            except OSError as exc:
                unreadable[e.relpath] = f"the file cannot be opened ({exc.strerror or type(exc).__name__})"
    return sums, unreadable


def _read_all(entries: list[FileEntry], unreadable: dict[str, str], rules: Mapping,
              wrap: Callable) -> tuple[list[Shaped], list[dict], list[dict], list[str]]:
    parts: list[Shaped] = []
    others: list[dict] = []
    notes: list[dict] = []
    errors: list[str] = []
    next_uid = 0
    for e in wrap(entries, "reading files"):
        if not e.read or e.relpath in unreadable:
            fate, reason = (e.fate, e.reason) if not e.read else ("unreadable", unreadable[e.relpath])
            others.append({"file": e.relpath, "fate": fate, "reason": reason})
            if fate in PROBLEM_FATES:
                errors.append(f"{e.relpath}: {fate}: {reason}")
            continue
        raw = _read_one(e, rules, others, errors)
        if raw is None:
            continue
        for fate in raw.fates:
            others.append({"file": e.relpath, "sheet": fate.sheet or "", "fate": fate.fate, "reason": fate.reason})
            if fate.fate in PROBLEM_FATES:
                errors.append(f"{e.relpath}{_sheet(fate.sheet)}: {fate.fate.replace('_', ' ')}: {fate.reason}")
        for sheet in raw.sheets:
            rule = rules.rule_for(e.relpath, sheet.sheet)
            if rule and rule.skip:
                others.append({"file": e.relpath, "sheet": sheet.sheet or "", "fate": "excluded",
                               "reason": f"skip: true in the mapping (files entry at line {rule.line})"})
                continue
            headers = [str(c) for c in sheet.frame.columns]
            overrides = rules.columns_for(rule)
            table = rule.table if rule and rule.table else detect_table(headers, sheet.sheet, e.relpath, overrides)[0]
            shaped = shape_sheet(sheet, e.relpath, table, rule, rules, next_uid)
            next_uid += len(sheet.frame)
            _staff_names(shaped, notes)
            notes += _sheet_notes(shaped)
            parts.append(shaped)
    return parts, others, notes, errors


def _read_one(e: FileEntry, rules: Mapping, others: list[dict], errors: list[str]):
    def header(sheet: str | None):
        rule = rules.rule_for(e.relpath, sheet)
        return list(rule.header_row) if rule and rule.header_row else None

    try:
        return read_file(e.path, header_row=header, known=is_known_header)
    except RawFileError as exc:
        fate = "empty" if exc.reason == "the file is empty" else "unreadable"
        reason = exc.reason
    except (OSError, ValueError, MemoryError) as exc:  # a reader library failing on an odd file
        fate, reason = "unreadable", f"the file could not be read ({type(exc).__name__})"
    others.append({"file": e.relpath, "fate": fate, "reason": reason})
    if fate == "unreadable":
        errors.append(f"{e.relpath}: unreadable: {reason}")
    return None


def _sheet(name: str | None) -> str:
    return f", sheet '{name}'" if name else ""


def _names(part: Shaped) -> frozenset[str]:
    """Words of the person names in a sheet (computed once per sheet, when first needed)."""
    if part.name_words is None:
        cols = [h for h, kind in part.identifiers.items() if kind in _NAME_KINDS]
        part.name_words = name_tokens(v for h in cols for v in part.raw.frame[h].dropna().unique())
    return part.name_words


def _echo(part: Shaped) -> Echo:
    return Echo(lambda: _names(part))


def _sheet_notes(p: Shaped) -> list[dict]:
    """Notes a person should see about a sheet: what was left out or done, and why."""
    echo = _echo(p)
    base = {"table": p.table or "", "file": p.relpath, "sheet": p.sheet, "row": None, "cell": "", "field": ""}

    def note(rule: str, message: str, column: str = "", row: Any = None, cell: str = "") -> dict:
        shown = echo.header(column, confirmed=p.raw.header_confirmed) if column else ""
        return {**base, "rule": rule, "message": message, "column": shown, "row": row, "cell": cell}

    out = [note(n["rule"], n["message"], n.get("column", ""), n.get("row")) for n in p.notes]
    out += [note("row_skipped", reason, row=row) for row, reason in sorted(p.skipped.items())]
    out += [note("reader_note", text) for text in p.raw.notes]
    if p.raw.formula_cells:
        shown = ", ".join(p.raw.formula_cells[:10]) + (" ..." if len(p.raw.formula_cells) > 10 else "")
        out.append(note("formula_without_value", f"{len(p.raw.formula_cells)} formula cell(s) have no saved result "
                                                 f"and were read as empty ({shown}); open the file in Excel or "
                                                 "LibreOffice and save it again"))
    if p.raw.stray_cells:
        shown = ", ".join(p.raw.stray_cells[:10])
        out.append(note("stray_cells_ignored", f"{len(p.raw.stray_cells)} cell(s) far from the table were not "
                                               f"read ({shown}); delete them if they are not data"))
    for header, kind in p.identifiers.items():
        if header not in p.mapped:
            out.append(note("identifier_dropped", f"a direct identifier ({kind.replace('_', ' ')}): not read, "
                                                  "never written", header))
    for header in p.dropped:
        out.append(note("column_dropped", "left out on purpose by the mapping", header))
    for header in p.unused if p.table else []:
        out.append(note("column_not_used", f"no field of {p.table} matches this header; it is not read (map it "
                                           "in kkbm-mapping.yaml if it should be)", header))
    return out


def _staff_names(p: Shaped, notes: list[dict]) -> None:
    """Staff sheets without NIK: pseudonymise the name instead (said in the notes)."""
    if p.table != "staff" or "staff_id" in p.frame:
        return
    name = next((h for h, k in p.identifiers.items() if k == "name"), None)
    if name is None:
        return
    values = p.raw.frame.loc[p.rows, name].to_numpy(dtype=object) if len(p.rows) else np.array([], dtype=object)
    p.frame["staff_id"] = values
    p.mapped[name] = "staff_id"
    notes.append({"table": "staff", "file": p.relpath, "sheet": p.sheet, "row": None, "cell": "", "field": "staff_id",
                  "column": "", "rule": "pseudonym_from_name",
                  "message": "no NIK column: staff pseudonyms are keyed hashes of the names"})


# --------------------------------------------------------------------------- sheet problems
def _missing_columns(p: Shaped, rules: Mapping, problems: Problems) -> None:
    """Quarantine every row of a sheet lacking a required field, saying which mapping lines fix it."""
    spec = TABLES[p.table]
    echo = _echo(p)
    present = set(p.frame.columns)
    free = [h for h in p.unused]
    guesses = {g.field: g.header for g in guess_columns(free, p.table, threshold=0.6) if g.field}
    for column in missing_fields(p.table, present):
        c = spec.schema.columns[column]
        seen = ", ".join(echo.header(h, confirmed=p.raw.header_confirmed) for h in p.raw.frame.columns)
        problems.add(p.uids, column, "missing_column",
                     f"required column {column} ({c.title}) was not found; headers seen: {seen}. "
                     + _fix_hint(p, column, guesses.get(column), rules, echo), headers="")


def _fix_hint(p: Shaped, column: str, guess: str | None, rules: Mapping, echo: Echo) -> str:
    header = echo.header(guess, confirmed=p.raw.header_confirmed) if guess else "<header in your file>"
    line = f'"{header}": {column}'
    where = rules.source.name if rules.source else DEFAULT_MAPPING_NAME
    years = [h for h in p.unused if h.strip().isdigit() and len(h.strip()) == 4]
    extra = (f" The headers {', '.join(years[:3])} look like years: a reshape turns them into rows, e.g. "
             f"reshape: {{columns: [\"{years[0][:2]}??\"], to: year, value: <count field>}}." if len(years) >= 2
             else "")
    if p.rule is not None:
        return (f"To fix it, add  {line}  under columns: of the files entry at {where} line {p.rule.line}, "
                f"or set it for the whole sheet under constants:.{extra}")
    sheet = f", sheet: \"{p.sheet}\"" if p.sheet else ""
    return (f"To fix it, add to {where}:  files: [{{file: \"{p.relpath}\"{sheet}, columns: {{{line}}}}}]  "
            f"(or run `kkbm inspect` for a draft).{extra}")


def _unrecognised(parts: list[Shaped], problems: Problems) -> None:
    for p in parts:
        if p.table is None and len(p.uids):
            _, ranked = detect_table([str(c) for c in p.raw.frame.columns], p.raw.sheet, p.relpath)
            hint = ", ".join(f"{t} ({sc:.0%})" for t, sc in ranked[:3]) or "none"
            sheet = f", sheet: \"{p.sheet}\"" if p.sheet else ""
            problems.add(p.uids, "", "unrecognised_sheet",
                         f"could not tell which table this sheet holds (closest: {hint}); name it in "
                         f"kkbm-mapping.yaml, e.g. files: [{{file: \"{p.relpath}\"{sheet}, table: <table>}}], or "
                         "run `kkbm inspect` for a draft", headers="")


def _accepted(df: pd.DataFrame | None, problems: Problems) -> pd.DataFrame | None:
    return None if df is None else df[~df["_uid"].isin(problems.uids())]


def _inputs(entries: list[FileEntry], checksums: dict[str, str], accounting: pd.DataFrame) -> list[dict]:
    """Every file and folder with its fate (a file whose reading failed is 'unreadable')."""
    fates = {}
    for rec in accounting.itertuples(index=False):
        if rec.sheet == "" and rec.fate != "read":
            fates[rec.file] = (rec.fate, rec.reason)
    out = []
    for e in entries:
        fate, reason = fates.get(e.relpath, (e.fate, e.reason))
        item = {"file": e.relpath, "fate": fate, "reason": reason}
        if e.relpath in checksums:
            item.update(sha256=checksums[e.relpath], bytes=e.path.stat().st_size)
        sheets = accounting[(accounting["file"] == e.relpath) & (accounting["sheet"] != "")]
        if len(sheets):
            item["sheets"] = [{"sheet": s.sheet, "fate": s.fate, "table": s.table, "rows_read": int(s.rows_read)}
                              for s in sheets.itertuples(index=False)]
        out.append(item)
    return out


# --------------------------------------------------------------------------- writing
def write_outputs(result: IngestResult, out_dir: Path, *, raw_dir: Path | None = None) -> Path:
    """Write everything into a fresh folder, then swap it in place of ``out_dir`` (see :mod:`.store`)."""
    meta = {"synthetic": str(result.manifest["synthetic"]).lower(), "data_version": result.manifest["data_version"],
            "schema_version": result.manifest["schema_version"],
            "package_version": result.manifest["package_version"]}

    def fill(staging: Path) -> None:
        for table, df in result.tables.items():
            write_parquet(df, staging / f"{table}.parquet", {**meta, "table": table})
        write_parquet(result.quarantine.astype({"row": "Int64"}), staging / "quarantine.parquet", meta)
        write_csv(result.quarantine, staging / "quarantine.csv")
        write_csv(result.notes, staging / "ingest_notes.csv")
        write_csv(result.accounting, staging / "accounting.csv")
        write_csv(codebook(), staging / "codebook.csv")
        write_text(quality_report(result), staging / "data_quality.md")
        write_json({**result.manifest, "outputs": sorted(p.name for p in staging.iterdir() if not
                                                         p.name.startswith(".")) + [store.MANIFEST]},
                   staging / store.MANIFEST)

    return store.write_atomically(out_dir, fill, raw_dir=raw_dir)
