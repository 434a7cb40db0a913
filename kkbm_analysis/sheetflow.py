"""One sheet through the ingest, chunk by chunk: shape, parse and check, spool, and account.

A :class:`SheetJob` is one sheet (or text file) that holds a table. :meth:`SheetJob.run`
takes its rows a chunk at a time (a whole workbook sheet is one chunk): the mapping is
applied (:mod:`.shaping`), values are parsed and checked row by row (:mod:`.validate`),
the quarantine and notes of the chunk are written while its raw cells are at hand, and the
rows that pass go to the table's spool (:mod:`.spool`) for the checks that need the whole
table. Row ids are ``sheet number << 36 | position``, so they follow the order of reading
whatever order the tables are built in. What could only be known at the end of a sheet
(the columns a whole read would drop, the sheet's notes) is settled there.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from .mapping import DEFAULT_MAPPING_NAME, FileRule, Mapping
from .matching import detect_table, guess_columns
from .privacy import PseudonymKey, PseudonymMemo
from .rawsheet import RawSheet, chunks_of
from .redaction import Echo, name_tokens
from .results import Locator, notes_frame, quarantine_frame
from .schema import TABLES
from .shaping import SheetPlan, Shaped, plan_sheet, shape_chunk
from .spool import TableSpool
from .validate import Problems, build_table, missing_fields

__all__ = ["SheetJob", "UID_BITS", "NAME_KINDS"]

#: Bits of a row id that count rows within a sheet (the rest is the sheet's number).
UID_BITS = 36
NAME_KINDS = ("name", "address", "birth_place", "signature")
_SEEN = "\x00headers seen\x00"  # stands for the sheet's headers until the sheet was read to its end
_TAIL_ROWS = 2_000  # a last chunk shorter than this is read together with the one before it


@dataclass
class Context:
    """What every sheet of one ingest shares."""

    key: PseudonymKey | None  # None until the ingest has checksummed the files (the demo key needs them)
    as_of: pd.Timestamp
    rules: Mapping
    chunk_rows: int | None
    notes: list[dict] = field(default_factory=list)  # sheet-level notes, in the order made
    pseudonyms: dict[str, PseudonymMemo] = field(default_factory=dict)  # by entity: the pseudonyms made so far


@dataclass
class SheetJob:
    """One table-holding sheet of a raw file and what became of its rows.

    Attributes
    ----------
    no : int
        The sheet's number in reading order (the high bits of its row ids).
    relpath : str
    raw : RawSheet
        The sheet: whole, or its header with a :class:`~kkbm_analysis.rawsheet.RowStream`.
    table : str or None
        ``None`` when no table fits (every row is quarantined).
    rule : FileRule or None
    """

    no: int
    relpath: str
    raw: RawSheet
    table: str | None
    rule: FileRule | None
    plan: SheetPlan | None = None
    kept: int = 0
    blank: int = 0
    skips: Counter = field(default_factory=Counter)
    early_bad: int = 0
    late_bad: int = 0
    quarantine: list[pd.DataFrame] = field(default_factory=list)
    notes: list[pd.DataFrame] = field(default_factory=list)
    _names: frozenset[str] | None = None
    _echo: Echo | None = None
    _mapped: dict[str, str] | None = None  # the plan's, plus the name column of staff sheets without NIK

    # ------------------------------------------------------------------ identity
    @property
    def first_uid(self) -> int:
        return self.no << UID_BITS

    @property
    def sheet(self) -> str:
        return self.raw.sheet or ""

    @property
    def streamed(self) -> bool:
        return self.raw.stream is not None

    def columns(self) -> list[str]:
        """The sheet's columns as a whole read gives them (known for a streamed sheet once read)."""
        return self.raw.stream.kept_columns() if self.streamed else list(self.raw.frame.columns)

    def names(self) -> frozenset[str]:
        """Words of the person names in the sheet (read once, when a message first needs them)."""
        if self._names is None:
            cols = [h for h, kind in (self.plan.identifiers if self.plan else {}).items() if kind in NAME_KINDS]
            if not cols:
                self._names = frozenset()
            elif not self.streamed:
                self._names = name_tokens(v for h in cols for v in self.raw.frame[h].dropna().unique())
            else:
                seen: set = set()
                for part in self.raw.stream.values(cols):
                    for h in cols:
                        seen.update(part[h].dropna().unique().tolist())
                self._names = name_tokens(seen)
        return self._names

    def warm(self, ctx: Context) -> None:
        """Plan the sheet and read its person-name words now, as :meth:`run` and :meth:`names` would (while this
        process would otherwise wait for another); a failure is left for :meth:`run` to raise in its place."""
        if self.table is None or not self.streamed or self._names is not None:
            return
        try:
            self.plan = plan_sheet(self.raw, self.relpath, self.table, self.rule, ctx.rules)
            self.names()
        except Exception:  # noqa: BLE001 (raised again where it belongs, when the sheet is run)
            self.plan, self._names = None, None

    def echo(self) -> Echo:
        """How the sheet's values may be quoted (one :class:`Echo`, which remembers what it decided)."""
        if self._echo is None:
            self._echo = Echo(self.names)
        return self._echo

    def head(self, frame: pd.DataFrame | None = None, uids: np.ndarray | None = None,
             rows: np.ndarray | None = None) -> Shaped:
        """The sheet as one :class:`Shaped` part (for messages about rows found later): ``frame``
        holds the raw cells wanted, by row number."""
        raw = self.raw if frame is None else _with_frame(self.raw, frame)
        plan = self.plan
        empty = np.zeros(0, dtype=np.int64)
        return Shaped(raw, self.relpath, self.table, self.rule, pd.DataFrame(), empty if rows is None else rows,
                      empty if uids is None else uids, self._mapped or (plan.mapped if plan else {}),
                      plan.identifiers if plan else {}, plan.dropped if plan else [],
                      plan.unused if plan else [], {}, plan.constants if plan else {})

    # ------------------------------------------------------------------ between processes
    _STATE = ("plan", "kept", "blank", "skips", "early_bad", "quarantine", "notes", "_names", "_mapped")

    def state(self) -> dict:
        """What :meth:`run` found (counts, quarantine, notes, what the stream learnt), to hand to the same
        job in another process (:meth:`restore`): a forked helper builds some tables."""
        out = {name: getattr(self, name) for name in self._STATE}
        if self.streamed:
            out["stream"] = self.raw.stream.state()
        return out

    def restore(self, state: dict) -> None:
        """Take in :meth:`state` from the process that ran this job."""
        for name in self._STATE:
            setattr(self, name, state[name])
        if "stream" in state:
            self.raw.stream.restore(state["stream"])

    # ------------------------------------------------------------------ the rows
    def run(self, ctx: Context, spool: TableSpool | None, echo: Echo, pending: list[pd.DataFrame],
            communities: pd.DataFrame | None = None) -> None:
        """Read, shape, parse and check every chunk; spool the rows that pass; render the rest."""
        self.plan = plan_sheet(self.raw, self.relpath, self.table, self.rule, ctx.rules)
        position, staff_note = self.first_uid, False
        earlier = (lambda: self.raw.stream.replay()) if self.streamed else None
        for chunk, last in _with_last(chunks_of(self.raw)):
            width = len(self.columns()) if last and self.streamed else None
            shaped = shape_chunk(chunk, self.plan, position, last=last, width=width, earlier=earlier)
            position += shaped.span
            self._count(chunk, shaped)
            staff_note = _staff_names(shaped, ctx.notes, staff_note)
            if staff_note:
                self._mapped = shaped.mapped
            if not len(shaped.uids):
                continue
            if self.table is None:
                self._unrecognised(shaped)
            else:
                self._build(ctx, shaped, spool, echo, pending, communities)
        self._finish(ctx)

    def _count(self, chunk: RawSheet, shaped: Shaped) -> None:
        self.kept += len(shaped.uids)
        self.blank += chunk.blank_rows
        for row, reason in shaped.skipped.items():
            kind = ("totals" if reason.startswith("a totals row") else "footer" if reason.startswith("a footer")
                    else "other")
            self.skips[kind] += 1
        if shaped.skipped:
            self._sheet_notes_rows(shaped)

    def _build(self, ctx: Context, shaped: Shaped, spool: TableSpool, echo: Echo, pending: list[pd.DataFrame],
               communities: pd.DataFrame | None) -> None:
        table = self.table
        problems, later, notes = Problems(), Problems(), []
        self._missing_columns(ctx, shaped, problems)
        clean = build_table(table, [shaped], ctx.key, ctx.as_of, problems, notes, echo, communities, later,
                            ctx.pseudonyms)  # the rows without a problem in `problems`
        locator, echoes = Locator([shaped]), {0: self.echo()}
        if len(problems.columns["uid"]):
            self.quarantine.append(quarantine_frame(problems.frame(), locator, echoes))
        if notes:
            self.notes.append(notes_frame(notes, locator, echoes))
        if len(later.columns["uid"]):
            pending.append(quarantine_frame(later.frame(), locator, echoes, keep_uid=True))
        self.early_bad += len(problems.uids())
        if len(clean):
            rows = shaped.rows[np.searchsorted(shaped.uids, clean["_uid"].to_numpy())]
            spool.write(clean, rows, self._raw_cells(shaped, rows, spool.raw_fields) if self.streamed else None)

    def _raw_cells(self, shaped: Shaped, rows: np.ndarray, fields: list[str]) -> pd.DataFrame:
        """The raw cells of the spooled rows for the fields a later check may quote."""
        out = {}
        frame = shaped.raw.frame
        for f in fields:
            header = next((h for h, m in self.plan.mapped.items() if m == f and h not in self.plan.identifiers), None)
            if header is not None and header in frame:
                out[f] = frame[header].reindex(rows).reset_index(drop=True)
        return pd.DataFrame(out, index=pd.RangeIndex(len(rows)))

    def _missing_columns(self, ctx: Context, shaped: Shaped, problems: Problems) -> None:
        """Every row of a sheet lacking a required field is quarantined, with the mapping lines that fix it."""
        spec = TABLES[self.table]
        present = set(shaped.frame.columns)
        absent = missing_fields(self.table, present)
        if not absent:
            return
        echo = self.echo()
        guesses = {g.field: g.header for g in guess_columns(list(self.plan.unused), self.table, threshold=0.6)
                   if g.field}
        seen = _SEEN if self.streamed else self._seen(echo)
        for column in absent:
            c = spec.schema.columns[column]
            problems.add(shaped.uids, column, "missing_column",
                         f"required column {column} ({c.title}) was not found; headers seen: {seen}. "
                         + self._fix_hint(ctx, column, guesses.get(column), echo), headers="")

    def _seen(self, echo: Echo) -> str:
        return ", ".join(echo.header(h, confirmed=self.raw.header_confirmed) for h in self.columns())

    def _fix_hint(self, ctx: Context, column: str, guess: str | None, echo: Echo) -> str:
        header = echo.header(guess, confirmed=self.raw.header_confirmed) if guess else "<header in your file>"
        line = f'"{header}": {column}'
        rules = ctx.rules
        where = rules.source.name if rules.source else DEFAULT_MAPPING_NAME
        years = [h for h in self.plan.unused if h.strip().isdigit() and len(h.strip()) == 4]
        extra = (f" The headers {', '.join(years[:3])} look like years: a reshape turns them into rows, e.g. "
                 f"reshape: {{columns: [\"{years[0][:2]}??\"], to: year, value: <count field>}}." if len(years) >= 2
                 else "")
        if self.rule is not None:
            return (f"To fix it, add  {line}  under columns: of the files entry at {where} line {self.rule.line}, "
                    f"or set it for the whole sheet under constants:.{extra}")
        sheet = f", sheet: \"{self.sheet}\"" if self.sheet else ""
        return (f"To fix it, add to {where}:  files: [{{file: \"{self.relpath}\"{sheet}, columns: {{{line}}}}}]  "
                f"(or run `kkbm inspect` for a draft).{extra}")

    def _unrecognised(self, shaped: Shaped) -> None:
        problems = Problems()
        _, ranked = detect_table(list(self.raw.frame.columns), self.raw.sheet, self.relpath)
        hint = ", ".join(f"{t} ({sc:.0%})" for t, sc in ranked[:3]) or "none"
        sheet = f", sheet: \"{self.sheet}\"" if self.sheet else ""
        problems.add(shaped.uids, "", "unrecognised_sheet",
                     f"could not tell which table this sheet holds (closest: {hint}); name it in "
                     f"kkbm-mapping.yaml, e.g. files: [{{file: \"{self.relpath}\"{sheet}, table: <table>}}], or "
                     "run `kkbm inspect` for a draft", headers="")
        self.quarantine.append(quarantine_frame(problems.frame(), Locator([shaped]), {0: self.echo()}))
        self.early_bad += len(shaped.uids)

    # ------------------------------------------------------------------ notes
    def _note(self, rule: str, message: str, column: str = "", row: Any = None) -> dict:
        shown = self.echo().header(column, confirmed=self.raw.header_confirmed) if column else ""
        return {"table": self.table or "", "file": self.relpath, "sheet": self.sheet, "row": row, "cell": "",
                "field": "", "rule": rule, "message": message, "column": shown}

    def _sheet_notes_rows(self, shaped: Shaped) -> None:
        """Notes for the rows of a chunk left out on purpose, and its sum checks."""
        out = [self._note(n["rule"], n["message"], n.get("column", ""), n.get("row")) for n in shaped.notes]
        out += [self._note("row_skipped", reason, row=row) for row, reason in sorted(shaped.skipped.items())]
        self.notes.append(notes_frame(out, Locator([]), {}))

    def _finish(self, ctx: Context) -> None:
        """What only the end of the sheet settles: the headers a message lists, the sheet's notes."""
        if self.streamed and self.quarantine:
            seen = self._seen(self.echo())
            for q in self.quarantine:
                q["message"] = q["message"].str.replace(_SEEN, seen, regex=False)
        raw, plan = self.raw, self.plan
        out = [self._note(n["rule"], n["message"], n.get("column", ""), n.get("row")) for n in plan.notes]
        out += [self._note("reader_note", text) for text in raw.notes]
        if raw.formula_cells:
            shown = ", ".join(raw.formula_cells[:10]) + (" ..." if len(raw.formula_cells) > 10 else "")
            out.append(self._note("formula_without_value", f"{len(raw.formula_cells)} formula cell(s) have no saved "
                                  f"result and were read as empty ({shown}); open the file in Excel or LibreOffice "
                                  "and save it again"))
        if raw.stray_cells:
            shown = ", ".join(raw.stray_cells[:10])
            out.append(self._note("stray_cells_ignored", f"{len(raw.stray_cells)} cell(s) far from the table were "
                                  f"not read ({shown}); delete them if they are not data"))
        for header, kind in plan.identifiers.items():
            if header not in plan.mapped:
                out.append(self._note("identifier_dropped", f"a direct identifier ({kind.replace('_', ' ')}): not "
                                      "read, never written", header))
        for header in plan.dropped:
            out.append(self._note("column_dropped", "left out on purpose by the mapping", header))
        kept = self.columns()
        later = [h for h in kept if h not in plan.headers]  # columns only records further down have
        for header in [*plan.unused, *later] if self.table else []:
            if header in kept:
                out.append(self._note("column_not_used", f"no field of {self.table} matches this header; it is not "
                                      "read (map it in kkbm-mapping.yaml if it should be)", header))
        if out:
            self.notes.append(notes_frame(out, Locator([]), {}))

    def accounting(self) -> dict:
        """The sheet's row in the accounting: rows read = accepted + quarantined + skipped."""
        skipped = sum(self.skips.values()) + self.blank
        bad = self.early_bad + self.late_bad
        return {"file": self.relpath, "sheet": self.sheet, "table": self.table or "(unrecognised)", "fate": "read",
                "rows_read": self.kept + skipped, "rows_accepted": self.kept - bad, "rows_quarantined": bad,
                "rows_skipped": skipped, "skipped_blank": self.blank, "skipped_totals": self.skips["totals"],
                "skipped_footer": self.skips["footer"], "skipped_other": self.skips["other"], "reason": ""}


def _with_frame(raw: RawSheet, frame: pd.DataFrame) -> RawSheet:
    out = RawSheet(file=raw.file, sheet=raw.sheet, frame=frame, header_row=raw.header_row, title=raw.title,
                   blank_rows=0, kobo=raw.kobo, encoding=raw.encoding, delimiter=raw.delimiter,
                   positions=raw.positions, header_confirmed=raw.header_confirmed)
    return out


def _with_last(chunks: Iterator[RawSheet]) -> Iterator[tuple[RawSheet, bool]]:
    """Each chunk with whether it is the last; a short last chunk is joined to the one before it
    (so that a block of footer rows is never cut in two)."""
    it = iter(chunks)
    previous = next(it, None)
    if previous is None:
        return
    for chunk in it:
        if len(chunk.frame) >= _TAIL_ROWS:
            yield previous, False
            previous = chunk
            continue
        following = next(it, None)
        if following is None:
            yield _joined(previous, chunk), True
            return
        yield previous, False
        yield chunk, False
        previous = following
    yield previous, True


def _joined(a: RawSheet, b: RawSheet) -> RawSheet:
    frame = pd.concat([a.frame, b.frame.reindex(columns=a.frame.columns)]) if len(b.frame) else a.frame
    out = _with_frame(a, frame)
    out.blank_rows = a.blank_rows + b.blank_rows
    out.skipped_rows = {**a.skipped_rows, **b.skipped_rows}
    out.notes = a.notes
    out.header_rows = a.header_rows
    return out


def _staff_names(p: Shaped, notes: list[dict], noted: bool) -> bool:
    """Staff sheets without NIK: pseudonymise the name instead (said in the notes, once per sheet)."""
    if p.table != "staff" or "staff_id" in p.frame:
        return noted
    name = next((h for h, k in p.identifiers.items() if k == "name"), None)
    if name is None:
        return noted
    values = p.raw.frame.loc[p.rows, name].to_numpy(dtype=object) if len(p.rows) else np.array([], dtype=object)
    p.frame["staff_id"] = values
    p.mapped = {**p.mapped, name: "staff_id"}
    if not noted:
        notes.append({"table": "staff", "file": p.relpath, "sheet": p.sheet, "row": None, "cell": "",
                      "field": "staff_id", "column": "", "rule": "pseudonym_from_name",
                      "message": "no NIK column: staff pseudonyms are keyed hashes of the names"})
    return True


Describe = Callable[[int, int], str]
