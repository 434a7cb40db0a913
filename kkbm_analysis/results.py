"""What an ingest produced, as tables a person can read: quarantine, notes, accounting, manifest.

Below the ingest and above the checks: :class:`IngestResult` and the functions that turn
problems keyed by row id into the quarantine (each row pointing to its raw cell, never
copying identifiers), sheet and row notes into ``ingest_notes.csv``, and the fate of every
file and sheet into the accounting, where for each one
``rows read = accepted + quarantined + skipped`` (blank, totals, footer, other).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd

from .config import package_version
from .redaction import Echo
from .schema import SCHEMA_VERSION
from .shaping import Shaped
from .store import read_table

PROBLEM_COLUMNS = ["table", "file", "sheet", "row", "cell", "column", "field", "rule", "message"]
ACCOUNTING_COLUMNS = ["file", "sheet", "table", "fate", "rows_read", "rows_accepted", "rows_quarantined",
                      "rows_skipped", "skipped_blank", "skipped_totals", "skipped_footer", "skipped_other", "reason"]
COUNTS = ["rows_read", "rows_accepted", "rows_quarantined", "rows_skipped", "skipped_blank", "skipped_totals",
          "skipped_footer", "skipped_other"]
#: Fates of a file or sheet that mean data may be missing (the run exits 1).
PROBLEM_FATES = ("unreadable", "not_understood", "refused")


@dataclass
class IngestResult:
    """What an ingest produced.

    Attributes
    ----------
    tables : dict of DataFrame
        Accepted rows per table, typed as in :mod:`.schema`, sorted by key.
    quarantine : DataFrame
        One row per problem: table, file, sheet, row, cell, column (the raw header),
        field, rule, message, and ``values``: the cells the row's problems are about, as
        JSON, redacted (identifier columns never; birth dates as years).
    notes : DataFrame
        Noteworthy facts about kept rows and sheets (malformed NIK, legacy province, totals
        that do not add up, columns not used, skipped rows, identifiers dropped...), written
        as ``ingest_notes.csv``; same columns as the quarantine without ``values``.
    accounting : DataFrame
        Per file and sheet: fate, rows read, accepted, quarantined, skipped (by reason).
    manifest : dict
        Every input with its fate and SHA-256, counts, versions, key id, parameters.
    errors : list of str
        Files, folders or sheets that could not be used, in plain words.
    """

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    notes: pd.DataFrame
    accounting: pd.DataFrame
    manifest: dict[str, Any]
    errors: list[str] = field(default_factory=list)

    @property
    def findings(self) -> pd.DataFrame:
        """The ingest notes (their earlier name)."""
        return self.notes

    @property
    def rows_read(self) -> int:
        return int(self.accounting["rows_read"].sum())

    @property
    def rows_quarantined(self) -> int:
        return int(self.accounting["rows_quarantined"].sum())

    @property
    def ok(self) -> bool:
        """True when rows were read, nothing was quarantined and every file and sheet was usable."""
        return not self.errors and self.rows_quarantined == 0 and self.rows_read > 0

    def summary(self) -> str:
        """Plain-text account of the run."""
        acc = self.accounting[self.accounting["table"] != ""]
        by_table = acc.groupby("table", sort=True)[["rows_read", "rows_accepted", "rows_quarantined",
                                                    "rows_skipped"]].sum()
        kind = "SYNTHETIC demo data" if self.manifest.get("synthetic") else "data"
        lines = [f"kkbm-analysis ingest ({kind}, data version {self.manifest.get('data_version')})",
                 f"{'table':<22}{'read':>10}{'accepted':>10}{'quarantined':>13}{'skipped':>9}"]
        for table, row in by_table.iterrows():
            lines.append(f"{table:<22}{row.rows_read:>10,}{row.rows_accepted:>10,}{row.rows_quarantined:>13,}"
                         f"{row.rows_skipped:>9,}")
        files = pd.Series([i["fate"] for i in self.manifest.get("inputs", [])], dtype=object).value_counts()
        if len(files):
            lines.append("files: " + ", ".join(f"{n} {fate}" for fate, n in files.items()))
        if len(self.quarantine):
            lines.append("quarantined by rule: " + ", ".join(
                f"{r} {n}" for r, n in self.quarantine["rule"].value_counts().sort_index().items()))
        lines += [f"problem: {e}" for e in self.errors]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# --------------------------------------------------------------------------- where rows are
class Locator:
    """Row id -> its sheet (a :class:`Shaped` part) and the row number a person sees."""

    def __init__(self, parts: list[Shaped]) -> None:
        self.parts = [p for p in parts if len(p.uids)]
        self.starts = np.array([p.uids[0] for p in self.parts], dtype=np.int64)

    def part(self, uid: int) -> Shaped:
        return self.parts[int(np.searchsorted(self.starts, uid, side="right")) - 1]

    def row(self, uid: int) -> int:
        p = self.part(uid)
        return int(p.rows[int(np.searchsorted(p.uids, uid))])

    def describe(self, uid: int) -> str:
        """``"row 5 of anggota.xlsx, sheet 'Anggota'"`` for messages."""
        p = self.part(uid)
        sheet = f", sheet '{p.sheet}'" if p.sheet else ""
        return f"row {self.row(uid)} of {p.relpath}{sheet}"

    def frame(self, uids: np.ndarray) -> pd.DataFrame:
        """table, file, sheet, row and part index of each uid."""
        uids = np.asarray(uids, dtype=np.int64)
        idx = np.searchsorted(self.starts, uids, side="right") - 1
        rows = np.zeros(len(uids), dtype=np.int64)
        for i in np.unique(idx):  # one search per part, not per row
            mine = idx == i
            part = self.parts[int(i)]
            rows[mine] = part.rows[np.searchsorted(part.uids, uids[mine])]

        def each(values: list) -> list:
            return np.array(values, dtype=object)[idx].tolist() if len(idx) else []
        return pd.DataFrame({"part": idx, "table": each([p.table or "" for p in self.parts]),
                             "file": each([p.relpath for p in self.parts]),
                             "sheet": each([p.sheet for p in self.parts]), "row": rows})


def _column_of(part: Shaped, fields: str, header: Any) -> str:
    if isinstance(header, str) and header:
        return header
    return " / ".join(h for h in (part.header_of(f) for f in fields.split(",") if f) if h)


# --------------------------------------------------------------------------- frames
def quarantine_frame(problems: pd.DataFrame, locator: Locator, echoes: dict[int, Echo], *,
                     keep_uid: bool = False) -> pd.DataFrame:
    """The quarantine: each problem with its raw cell and the row's mapped values, redacted.

    ``keep_uid`` keeps the row id (``uid``), for problems that may still be dropped.
    """
    extra = ["uid"] if keep_uid else []
    if problems.empty:
        return pd.DataFrame(columns=PROBLEM_COLUMNS + ["values"] + extra).astype({"row": "Int64"})
    where = locator.frame(problems["uid"].to_numpy())
    q = pd.concat([problems.reset_index(drop=True), where], axis=1)
    columns, cells = [], []
    placed: dict[tuple, tuple[str, Any]] = {}  # (part, field, header) -> the column shown, its cells' namer
    for at, fields, header, row in zip(*_lists(q, ["part", "field", "header", "row"])):
        key = (at, fields, header)
        found = placed.get(key)
        if found is None:
            part = locator.parts[at]
            column = _column_of(part, fields, header)
            shown = echoes.get(at, Echo()).header(column, confirmed=part.raw.header_confirmed) if column else ""
            first = column.split(" / ")[0] if column else ""
            found = placed[key] = (shown, part.raw.cell_namer(first) if first in part.raw.frame.columns else None)
        columns.append(found[0])
        cells.append(found[1](row) if found[1] is not None else "")
    q["column"], q["cell"] = columns, cells
    q["values"] = q["uid"].map(_values_by_uid(q, locator, echoes))
    q = q.sort_values(["file", "sheet", "row", "column", "rule"], kind="stable")
    return q[PROBLEM_COLUMNS + ["values"] + extra].reset_index(drop=True).astype({"row": "Int64"})


def _involved_fields(q: pd.DataFrame) -> dict[int, frozenset[str]]:
    """Per row id, the fields its problems are about (named, or mentioned by a table rule)."""
    from .schema import TABLES
    out: dict[int, frozenset[str]] = {}
    named: dict[str, frozenset[str]] = {}  # a problem's fields -> their names (they repeat)
    mentioned: dict[tuple, frozenset[str]] = {}  # (table, message) -> the table's columns it names (messages repeat)
    for uid, table, fields, message in zip(*_lists(q, ["uid", "table", "field", "message"])):
        names = named.get(fields)
        if names is None:
            names = named[fields] = frozenset(f for f in str(fields).split(",") if f)
        if not names and table in TABLES:
            names = mentioned.get((table, message))
            if names is None:
                names = mentioned[(table, message)] = frozenset(c for c in TABLES[table].columns
                                                                if c in str(message))
        before = out.get(uid)
        out[uid] = names if before is None or before == names else before | names
    return out


def _lists(frame: pd.DataFrame, columns: list[str]) -> list[list]:
    """Columns as Python lists (a loop over them is much faster than ``itertuples`` over Arrow text)."""
    return [frame[c].tolist() for c in columns]


#: ``json.dumps(..., ensure_ascii=False)`` without making an encoder per row.
_JSON = json.JSONEncoder(ensure_ascii=False)


def _values_by_uid(q: pd.DataFrame, locator: Locator, echoes: dict[int, Echo]) -> dict[int, str]:
    """uid -> the cells its problems are about, as JSON: redacted, identifiers never, birth dates as years.

    Only those cells: the rest of the row stays in the raw file, where the pointer (file,
    sheet, row, cell) leads. The text is what ``json.dumps(record, ensure_ascii=False)``
    gives for the record {shown header: shown value}, built a column at a time from the
    JSON of each distinct cell.
    """
    involved = _involved_fields(q)
    out: dict[int, str] = {}
    firsts = q.drop_duplicates("uid")
    for index, rows in firsts.groupby("part", sort=False):
        part = locator.parts[int(index)]
        echo = echoes.get(int(index), Echo())
        if part.table is None:
            out.update({int(u): "" for u in rows["uid"]})
            continue
        uids = rows["uid"].tolist()
        wanted = [involved.get(uid, frozenset()) for uid in uids]
        named = frozenset().union(*wanted)
        headers = [h for h, f in part.mapped.items() if h not in part.identifiers and f in named]
        cells = _lists(part.raw.frame.reindex(index=rows["row"].to_numpy(), columns=headers), headers)
        shown = [echo.header(h, confirmed=part.raw.header_confirmed) for h in headers]
        fields = [part.mapped[h] for h in headers]
        encoded: list[dict] = [{} for _ in headers]  # per header: (type, cell) -> its JSON
        groups: dict[frozenset, list[int]] = {}  # the fields a row's problems are about -> the rows
        for i, about in enumerate(wanted):
            groups.setdefault(about, []).append(i)
        for about, at in groups.items():
            keys: dict[str, int] = {}  # shown header -> its cell's header (as a dict: the first place, the last value)
            for j, f in enumerate(fields):
                if f in about:
                    keys[shown[j]] = j
            texts = ["{"] * len(at)
            for n, (key, j) in enumerate(keys.items()):
                lead = (", " if n else "") + _JSON.encode(key) + ": "
                column = [_cell_json(cells[j][i], echo, fields[j] == "birth_year", encoded[j]) for i in at]
                texts = [t + lead + c for t, c in zip(texts, column)]
            out.update(zip([uids[i] for i in at], [t + "}" for t in texts]))
    return out


def _cell_json(value: Any, echo: Echo, year: bool, known: dict) -> str:
    """A cell as shown in the quarantine's ``values``, as JSON (remembered in ``known``, by type and value)."""
    try:
        return known[(type(value), value)]
    except KeyError:
        pass
    except TypeError:  # an unhashable cell
        return _JSON.encode(_jsonable(echo.cell(_year_only(value) if year else value)))
    text = known[(type(value), value)] = _JSON.encode(_jsonable(echo.cell(_year_only(value) if year else value)))
    return text


def _year_only(value: Any) -> Any:
    """The year of a birth year or birth date cell (the rest of a date is never shown)."""
    import datetime as dt
    import re
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return int(value.year)
    if isinstance(value, (int, float, np.integer, np.floating)) and 1000 <= float(value) <= 9999:
        return int(value)
    years = re.findall(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)", str(value))
    if len(years) == 1:
        return int(years[0])
    from .parsing import parse_date
    date = parse_date(pd.Series([value], dtype=object)).values.iloc[0]
    return None if pd.isna(date) else int(date.year)


def _jsonable(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v if isinstance(v, (str, int, float, bool)) else str(v)


def notes_frame(notes: list[dict], locator: Locator, echoes: dict[int, Echo]) -> pd.DataFrame:
    """Ingest notes: row-level notes located by row id, sheet-level notes as given."""
    rows = []
    for n in notes:
        uid = n.get("uid")
        if uid is not None and not pd.isna(uid):
            part = locator.part(int(uid))
            i = locator.parts.index(part)
            row = locator.row(int(uid))
            column = _column_of(part, n.get("field") or "", n.get("header"))
            column = echoes.get(i, Echo()).header(column, confirmed=part.raw.header_confirmed) if column else ""
            first = column.split(" / ")[0]
            rows.append({"table": part.table or "", "file": part.relpath, "sheet": part.sheet, "row": row,
                         "cell": part.raw.cell(row, first) if first in part.raw.frame.columns else "",
                         "column": column, "field": n.get("field") or "", "rule": n["rule"],
                         "message": n["message"]})
        else:
            rows.append({c: n.get(c, "") for c in PROBLEM_COLUMNS})
    if not rows:
        return pd.DataFrame(columns=PROBLEM_COLUMNS).astype({"row": "Int64"})
    f = pd.DataFrame(rows, columns=PROBLEM_COLUMNS)
    for c in PROBLEM_COLUMNS:
        if c != "row":
            f[c] = f[c].fillna("").astype(str)
    f["row"] = pd.array([None if r in ("", None) or pd.isna(r) else int(r) for r in f["row"]], dtype="Int64")
    return f.sort_values(["file", "sheet", "row", "column", "rule"], kind="stable").reset_index(drop=True)


def accounting_frame(sheets: list[dict], others: list[dict]) -> pd.DataFrame:
    """Per sheet read (``rows read = accepted + quarantined + skipped``), then every other file and sheet."""
    rows = list(sheets)
    for o in others:
        rows.append({**{c: 0 for c in COUNTS}, "table": "", "sheet": "", **o})
    acc = pd.DataFrame(rows, columns=ACCOUNTING_COLUMNS)
    acc[COUNTS] = acc[COUNTS].astype("int64")
    assert (acc.rows_read == acc.rows_accepted + acc.rows_quarantined + acc.rows_skipped).all()
    return acc.sort_values(["file", "sheet"], kind="stable").reset_index(drop=True)


def manifest_inputs(entries: list, checksums: dict[str, str], accounting: pd.DataFrame) -> list[dict]:
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


def data_version(inputs: list[dict]) -> str:
    """The data version: a hash of the names and checksums of the files read."""
    read = [{"file": i["file"], "sha256": i["sha256"]} for i in inputs if i["fate"] == "read"]
    return hashlib.sha256(json.dumps(read, sort_keys=True).encode()).hexdigest()[:12]


def manifest(*, inputs: list[dict], tables: dict[str, Any], accounting: pd.DataFrame, key_id: str,
             key_note: str, synthetic: bool, as_of: Any, mapping_file: str | None, errors: list[str]) -> dict:
    """The manifest: what went in (every file with its fate), what came out, and with which versions.

    ``tables`` holds each table, or its manifest entry (rows, columns, partitions).
    """
    return {
        "tool": "kkbm-analysis", "kind": "processed data", "package_version": package_version(),
        "schema_version": SCHEMA_VERSION, "data_version": data_version(inputs), "synthetic": synthetic,
        "as_of": as_of.isoformat(), "pseudonym_key_id": key_id, "pseudonym_note": key_note,
        "mapping_file": mapping_file, "inputs": inputs,
        "tables": {t: ({"rows": len(df), "columns": list(df.columns)} if isinstance(df, pd.DataFrame) else df)
                   for t, df in sorted(tables.items())},
        "rows": {k: int(v) for k, v in accounting[COUNTS].sum().items()},
        "errors": errors,
    }


class ProcessedTables(Mapping):
    """The tables of a processed folder as a read-only dict, each read when first asked for."""

    def __init__(self, folder: str | Path, names: Iterable[str]) -> None:
        self.folder = Path(folder)
        self.names = [n for n in names]
        self._cache: dict[str, pd.DataFrame] = {}

    def __getitem__(self, table: str) -> pd.DataFrame:
        if table not in self.names:
            raise KeyError(table)
        if table not in self._cache:
            self._cache[table] = read_table(self.folder, table)
        return self._cache[table]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)
