"""``kkbm inspect``: the first ten minutes with a new folder of raw files.

For every file and sheet :func:`inspect_folder` shows what the ingest would do: the fate of
the file, the header row it found, which table it guesses and how sure it is, a field per
column with a confidence, the identifier columns it will never read, the columns it will
ignore, and wide tables (one column per year) it would reshape. :meth:`Inspection.draft_mapping`
writes all of it as a mapping file that ``kkbm ingest`` accepts as it is; guesses that are
not certain are marked ``CHECK`` for the user to confirm. Nothing is read from identifier
columns, and no cell value is ever shown.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .inventory import FileEntry, inventory
from .mapping import DEFAULT_MAPPING_NAME, MAPPING_VERSION, Mapping, load_mapping
from .matching import ColumnGuess, detect_table, guess_columns, is_known_header
from .readers import RawFileError, RawSheet, read_file
from .redaction import Echo
from .schema import TABLES
from .validate import field_kind, missing_fields

_YEAR = re.compile(r"^(19[5-9]\d|20\d\d)$")
CERTAIN = 0.999


@dataclass
class SheetInspection:
    """What the ingest would do with one sheet (or a file that gave no sheet)."""

    file: str
    sheet: str | None
    fate: str
    reason: str = ""
    header_row: int | None = None
    header_rows: int = 1
    table: str | None = None
    table_score: float = 0.0
    table_given: bool = False
    candidates: list[tuple[str, float]] = field(default_factory=list)
    columns: list[ColumnGuess] = field(default_factory=list)
    shown: dict[str, str] = field(default_factory=dict)
    wide: list[str] = field(default_factory=list)
    reshape_to: str | None = None
    reshape_value: str | None = None
    missing: list[str] = field(default_factory=list)
    rows: int = 0
    constants: dict[str, str] = field(default_factory=dict)


@dataclass
class Inspection:
    """The result of :func:`inspect_folder`."""

    raw_dir: Path
    entries: list[FileEntry]
    sheets: list[SheetInspection]
    mapping: Mapping

    @property
    def ok(self) -> bool:
        """False when a file or sheet could not be read or understood."""
        return not any(s.fate in ("unreadable", "not_understood", "refused") for s in self.sheets)

    def text(self) -> str:
        """A report for the console."""
        lines = [f"kkbm inspect {self.raw_dir}"]
        for e in self.entries:
            if not e.read:
                lines.append(f"{e.relpath}: {e.fate} ({e.reason})")
        for s in self.sheets:
            where = s.file + (f", sheet '{s.sheet}'" if s.sheet else "")
            if s.fate != "read":
                lines.append(f"{where}: {s.fate.replace('_', ' ')} ({s.reason})")
                continue
            how = "named in the mapping" if s.table_given else f"guessed, score {s.table_score:.2f}"
            rows = f"rows {s.header_row - 1}-{s.header_row}" if s.header_rows == 2 else f"row {s.header_row}"
            lines.append(f"{where}: header at {rows}, {s.rows} row(s); table "
                         f"{s.table or '? (none fits)'} ({how})"
                         + (f"; other candidates: {', '.join(f'{t} {sc:.2f}' for t, sc in s.candidates[1:3])}"
                            if len(s.candidates) > 1 else ""))
            for g in s.columns:
                header = s.shown.get(g.header, g.header)
                if g.role == "identifier":
                    what = (f"identifier ({g.identifier}): becomes the pseudonym {g.field}" if g.field
                            else f"identifier ({g.identifier}): redacted, never read")
                elif g.role == "field":
                    what = f"-> {g.field}" + ("" if g.confidence >= CERTAIN else f"  (guess, {g.confidence:.0%})")
                elif g.header in s.wide:
                    what = f"wide column -> {s.reshape_to} + {s.reshape_value} (reshape)"
                else:
                    what = "ignored"
                lines.append(f"    {header:<32} {what}")
            for header in s.wide:
                lines.append(f"    {header:<32} wide column -> {s.reshape_to} + {s.reshape_value} (reshape)")
            for name, value in s.constants.items():
                lines.append(f"    {name} for the whole sheet: {value} (proposed)")
            if s.missing:
                lines.append(f"    required but not found: {', '.join(s.missing)}")
        return "\n".join(lines)

    def draft_mapping(self) -> str:
        """A mapping file for this folder; ``kkbm ingest`` accepts it as it is."""
        out = [f"# Draft mapping written by `kkbm inspect` on {date.today().isoformat()} for the folder "
               f"{_q(self.raw_dir.name)}.",
               "# Lines marked CHECK are guesses: confirm or correct them. The guide is docs/mapping.md.",
               f"version: {MAPPING_VERSION}"]
        skipped = [e for e in self.entries if not e.read]
        if skipped:
            out.append("# Files the ingest will not read:")
            out += [f"#   {e.relpath}: {e.fate} ({e.reason})" for e in skipped]
        out.append("files:")
        for s in self.sheets:
            out += _entry(s)
        if not any(s.fate == "read" for s in self.sheets):
            out[-1] = "files: []"
        return "\n".join(out) + "\n"


def inspect_folder(raw_dir: str | Path, *, mapping: str | Path | None = None) -> Inspection:
    """Inspect every file and sheet under ``raw_dir`` (see module docstring)."""
    raw_dir = Path(raw_dir)
    mapping_path = Path(mapping) if mapping is not None else raw_dir / DEFAULT_MAPPING_NAME
    rules = load_mapping(mapping_path, required=mapping is not None)
    entries = inventory(raw_dir, rules, mapping_path)
    sheets: list[SheetInspection] = []
    read: list[tuple[str, RawSheet]] = []
    for e in entries:
        if not e.read:
            continue

        def header(sheet: str | None, rel: str = e.relpath):
            rule = rules.rule_for(rel, sheet)
            return list(rule.header_row) if rule and rule.header_row else None

        try:
            raw = read_file(e.path, header_row=header, known=is_known_header)
        except RawFileError as exc:
            sheets.append(SheetInspection(e.relpath, None, "unreadable", exc.reason))
            continue
        except (OSError, ValueError, MemoryError) as exc:
            sheets.append(SheetInspection(e.relpath, None, "unreadable", type(exc).__name__))
            continue
        sheets += [SheetInspection(e.relpath, f.sheet, f.fate, f.reason) for f in raw.fates]
        read += [(e.relpath, s) for s in raw.sheets]
    inspected = [_sheet(rel, s, rules) for rel, s in read]
    _propose_constants(inspected, _community_ids(inspected, read))
    sheets += inspected
    return Inspection(raw_dir, entries, sorted(sheets, key=lambda s: (s.file, s.sheet or "")), rules)


def _community_ids(inspected: list[SheetInspection], read: list[tuple[str, RawSheet]]) -> list[str]:
    """The community ids written in the folder's communities sheets."""
    ids: list[str] = []
    for s, (_, raw) in zip(inspected, read):
        if s.table != "communities":
            continue
        header = next((g.header for g in s.columns if g.field == "community_id"), None)
        if header is not None:
            ids += [str(v).strip() for v in raw.frame[header].dropna().unique() if str(v).strip()]
    return list(dict.fromkeys(ids))


def _propose_constants(inspected: list[SheetInspection], community_ids: list[str]) -> None:
    """Fields a sheet lacks that the folder settles: its only community, a village named by the sheet."""
    for s in inspected:
        if s.table is None:
            continue
        columns = TABLES[s.table].schema.columns
        mapped = {g.field for g in s.columns if g.field}
        if "community_id" in s.missing and len(community_ids) == 1:
            s.constants["community_id"] = community_ids[0]
            s.missing.remove("community_id")
        if ("village_code" in columns and "village_code" not in mapped and s.sheet
                and re.match(r"(?i)^\s*(desa|kelurahan|kel\.?|ds\.?)\s+\w", s.sheet)):
            s.constants["village"] = "{sheet}"


def _sheet(relpath: str, raw: RawSheet, rules: Mapping) -> SheetInspection:
    headers = [str(c) for c in raw.frame.columns]
    rule = rules.rule_for(relpath, raw.sheet)
    overrides = rules.columns_for(rule)
    years = [h for h in headers if _YEAR.match(h.strip())]
    years = years if len(years) >= 2 else []
    table, ranked = detect_table([h for h in headers if h not in years] + (["tahun", "jumlah"] if years else []),
                                 raw.sheet, relpath, overrides)
    given = bool(rule and rule.table)
    if given:
        table = rule.table
    elif table is None and ranked:
        table = ranked[0][0]  # a tie or a weak fit: the best, to be checked
    elif table is None and years:
        table = "placements"  # counts by year with one label column: a published table
    score = dict(ranked).get(table, 0.0) if table else 0.0
    wide = years if table else []
    guesses = guess_columns([h for h in headers if h not in wide], table, overrides)
    s = SheetInspection(relpath, raw.sheet, "read", header_row=raw.header_row, header_rows=raw.header_rows,
                        table=table, table_score=score, table_given=given, candidates=ranked, columns=guesses,
                        wide=wide, rows=len(raw.frame))
    echo = Echo()
    s.shown = {h: echo.header(h, confirmed=raw.header_confirmed) for h in headers}
    if table and wide:
        s.reshape_to, s.reshape_value = _reshape_fields(table, {g.field for g in guesses if g.field})
    if table:
        found = {g.field for g in guesses if g.field} | ({s.reshape_to, s.reshape_value} if s.reshape_to else set())
        s.missing = missing_fields(table, found)
    return s


def _reshape_fields(table: str, used: set[str]) -> tuple[str | None, str | None]:
    columns = TABLES[table].schema.columns
    to = "year" if "year" in columns else next((c for c in columns if field_kind(table, c) == "month"), None)
    numeric = [c for c in columns if field_kind(table, c) in ("int", "number", "rupiah") and c not in used
               and c != to]
    required = [c for c in numeric if not columns[c].nullable]
    value = (required or numeric or [None])[0]
    return (to, value) if to and value else (None, None)


def _q(text: str) -> str:
    """A YAML double-quoted string (JSON quoting is valid YAML)."""
    return json.dumps(str(text), ensure_ascii=False)


def _entry(s: SheetInspection) -> list[str]:
    sheet = f"\n    sheet: {_q(s.sheet)}" if s.sheet is not None else ""
    if s.fate != "read":
        if s.fate in ("empty", "no_table"):
            return [f"  # {s.file}{', sheet ' + _q(s.sheet) if s.sheet else ''}: {s.fate.replace('_', ' ')}"]
        return [f"  # CHECK {s.file}{', sheet ' + _q(s.sheet) if s.sheet else ''}: {s.fate.replace('_', ' ')} "
                f"({s.reason}); give header_row or leave it out"]
    lines = [f"  - file: {_q(s.file)}{sheet}"]
    if s.table is None:
        lines.append("    # CHECK: no table fits; name one (see `kkbm codebook`) or write  skip: true")
        lines.append("    skip: true")
        return lines
    certain = s.table_given or (len(s.candidates) < 2 or s.candidates[0][1] > s.candidates[1][1])
    lines.append(f"    table: {s.table}" + ("" if certain else "    # CHECK: a close call between "
                                            + " and ".join(t for t, _ in s.candidates[:2])))
    rows = [s.header_row - 1, s.header_row] if s.header_rows == 2 else s.header_row
    lines.append(f"    header_row: {json.dumps(rows)}")
    columns, notes = [], []
    for g in s.columns:
        shown = s.shown.get(g.header, g.header)
        if shown != g.header:
            notes.append("    # a header is not shown here: it may be a person's name. CHECK header_row")
            continue
        if g.role == "field" or (g.role == "identifier" and g.field):
            flag = "" if g.confidence >= CERTAIN else f"    # CHECK: guessed ({g.confidence:.0%})"
            columns.append(f"      {_q(g.header)}: {g.field}{flag}")
        elif g.role == "identifier":
            notes.append(f"    # {_q(g.header)}: {g.identifier.replace('_', ' ')}, never read")
        else:
            columns.append(f"      {_q(g.header)}: drop    # not used by {s.table}")
    if columns:
        lines += ["    columns:"] + columns
    if s.constants:
        shown = ", ".join(f"{k}: {_q(v)}" for k, v in s.constants.items())
        lines.append(f"    constants: {{{shown}}}    # CHECK: proposed for the whole sheet")
    if s.wide and s.reshape_to:
        lines.append(f"    reshape: {{columns: [{', '.join(_q(h) for h in s.wide)}], to: {s.reshape_to}, "
                     f"value: {s.reshape_value}}}    # CHECK: one column per year")
    lines += notes
    for missing in s.missing:
        lines.append(f"    # CHECK: required {missing} not found: map its header under columns, or give it for the "
                     f"whole sheet:  constants: {{{missing}: ...}}")
    return lines
