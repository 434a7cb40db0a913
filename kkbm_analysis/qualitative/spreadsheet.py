"""Coded-segments spreadsheets (CSV, XLSX, ODS) as QDA tools export them.

MAXQDA ("Export coded segments"), ATLAS.ti (quotation exports), NVivo (coding exports) and
QualCoder (coding reports) write one row per coded segment: the document, the code (a path
like ``Hambatan\\Modal`` or ``Hambatan > Modal``; ATLAS.ti may list several codes in one cell,
one per line), the segment text, the coder and the position, often with document variables
beside them. Headers are recognised in Indonesian and English (:data:`.mapping.FIELDS`),
others through ``kkbm-voices.yaml``.

A sheet with a source column but neither code nor text columns is read as a table of source
attributes (one row per document), as MAXQDA's document-variable export.

Each row has a fate: it becomes codings of a segment, or attributes of a source, or is
quarantined with its file, sheet, row, column, rule and a plain message:

``missing_source``   no document named;
``missing_code``     a segment row without a code;
``missing_segment``  neither segment text nor positions;
``invalid_position`` positions that are not whole numbers, negative, or end before start;
``conflicting_attribute`` (finding, row kept) a source attribute that differs from the
                     value given on an earlier row of the same source: the first is kept.

Segments are the same segment when source and positions agree (or, without positions,
source and text); codings of several coders on one segment let inter-coder agreement be
computed per segment.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..readers import RawSheet, read_raw
from .mapping import IDENTIFIER_FIELDS, VoicesMapping
from .model import QualProject

__all__ = ["SheetRead", "read_segments_file", "ATTRIBUTE_FIELDS"]

#: Fields stored as source attributes (variables) when a sheet has them.
ATTRIBUTE_FIELDS = ("province", "regency", "community", "role", "sex", "date", "source_type", "consent",
                    "publishable", *IDENTIFIER_FIELDS)
#: A ``publishable`` column is per segment: stored as a value of entity ``'selection'``.
_NS = uuid.UUID("6f1b4a52-7c0e-4c55-9a39-0a1d2e3f4b5c")
_CODE_SEPARATORS = ("\\", " > ", "::", "/")


def _guid(*parts: Any) -> str:
    """A stable GUID for an item of a spreadsheet (same file and content, same GUID)."""
    return str(uuid.uuid5(_NS, "\x1f".join(map(str, parts))))


@dataclass
class SheetRead:
    """What a spreadsheet gave.

    Attributes
    ----------
    project : QualProject
    problems : list of dict
        ``file, location, item, column, rule, message`` (quarantined rows and findings;
        ``severity`` ``'quarantine'`` or ``'finding'``).
    rows : list of dict
        One per sheet: ``file, sheet, rows_read, rows_accepted, rows_quarantined, kind``.
    """

    project: QualProject
    problems: list[dict] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)


def read_segments_file(path: Path, rel: str, mapping: VoicesMapping) -> SheetRead:
    """Read one spreadsheet of coded segments (every sheet of a workbook).

    Parameters
    ----------
    path : Path
        The file (read only).
    rel : str
        Its path relative to the raw folder, for messages and stable GUIDs.
    mapping : VoicesMapping

    Raises
    ------
    kkbm_analysis.readers.RawFileError
        The file cannot be read at all.
    """
    builder = _Builder(rel)
    for sheet in read_raw(path):
        builder.sheet(sheet, mapping)
    return SheetRead(builder.project(), builder.problems, builder.accounting)


class _Builder:
    def __init__(self, rel: str) -> None:
        self.rel = rel
        self.sources: dict[str, dict] = {}
        self.attrs: dict[tuple[str, str], tuple[Any, str]] = {}
        self.codes: dict[str, dict] = {}
        self.selections: dict[tuple, dict] = {}
        self.codings: list[dict] = []
        self.users: dict[str, dict] = {}
        self.problems: list[dict] = []
        self.accounting: list[dict] = []

    # ------------------------------------------------------------------ sheets
    def sheet(self, raw: RawSheet, mapping: VoicesMapping) -> None:
        headers = {str(h): mapping.field_of(h) for h in raw.frame.columns}
        fields = {f: h for h, f in reversed(list(headers.items())) if f and f != "drop"}
        extra = [h for h, f in headers.items() if f is None]
        kind = "segments" if ("code" in fields or "text" in fields) else "source attributes"
        bad = 0
        for row_no, row in raw.frame.iterrows():
            where = f"{raw.sheet + ', ' if raw.sheet else ''}row {row_no}"
            ok = (self._segment_row(row, fields, extra, where) if kind == "segments"
                  else self._attribute_row(row, fields, extra, where))
            bad += not ok
        self.accounting.append({"file": self.rel, "sheet": raw.sheet or "", "kind": kind,
                                "rows_read": len(raw.frame), "rows_accepted": len(raw.frame) - bad,
                                "rows_quarantined": bad})
        if "source" not in fields:
            self.problems.append(self._problem(raw.sheet or "", "sheet", "", "missing_column",
                                               "no document/source column found (e.g. 'Document name', 'Nama "
                                               "dokumen'); name it in kkbm-voices.yaml", "finding"))

    def _problem(self, where: str, item: str, column: str, rule: str, message: str,
                 severity: str = "quarantine") -> dict:
        return {"file": self.rel, "location": where, "item": item, "column": column, "rule": rule,
                "message": message, "severity": severity}

    def _quarantine(self, where: str, column: str, rule: str, message: str) -> bool:
        self.problems.append(self._problem(where, "row", column, rule, message))
        return False

    def _source(self, row: pd.Series, fields: dict, where: str) -> str | None:
        name = _cell(row, fields.get("source"))
        if name is None:
            return None
        guid = _guid(self.rel, "source", name)
        self.sources.setdefault(guid, {"source_guid": guid, "name": name, "kind": "text", "text": None,
                                       "location": f"{self.rel}: {where}"})
        return guid

    def _attributes(self, guid: str, row: pd.Series, fields: dict, extra: list[str], where: str,
                    per_segment: tuple[str, ...] = ()) -> None:
        pairs = [(f, fields[f]) for f in ATTRIBUTE_FIELDS if f in fields and f not in per_segment]
        pairs += [(h, h) for h in extra]
        for variable, header in pairs:
            value = _cell(row, header)
            if value is None:
                continue
            old = self.attrs.setdefault((guid, variable), (value, where))
            if old[0] != value and variable not in IDENTIFIER_FIELDS:
                self.problems.append(self._problem(
                    where, "row", header, "conflicting_attribute",
                    f"{header} differs from the value on {old[1]} for the same document; the first is kept",
                    "finding"))

    def _attribute_row(self, row: pd.Series, fields: dict, extra: list[str], where: str) -> bool:
        guid = self._source(row, fields, where)
        if guid is None:
            return self._quarantine(where, fields.get("source", ""), "missing_source", "no document named")
        self._attributes(guid, row, fields, extra, where)
        return True

    def _segment_row(self, row: pd.Series, fields: dict, extra: list[str], where: str) -> bool:
        guid = self._source(row, fields, where)
        if guid is None:
            return self._quarantine(where, fields.get("source", ""), "missing_source",
                                    "no document named for this segment")
        codes = _codes(_cell(row, fields.get("code")), _cell(row, fields.get("code_parent")))
        if not codes:
            return self._quarantine(where, fields.get("code", ""), "missing_code", "the segment has no code")
        text = _cell(row, fields.get("text"))
        try:
            start, end = _position(row, fields, "start"), _position(row, fields, "end")
        except ValueError as exc:
            return self._quarantine(where, str(exc.args[1]), "invalid_position", str(exc.args[0]))
        if start is not None and end is not None and end < start:
            return self._quarantine(where, fields["end"], "invalid_position",
                                    f"end {end} lies before start {start}")
        if text is None and (start is None or end is None):
            return self._quarantine(where, fields.get("text", ""), "missing_segment",
                                    "neither the segment text nor its start and end positions are given")
        self._attributes(guid, row, fields, extra, where, per_segment=("publishable",))
        key = (guid, start, end) if start is not None and end is not None else (guid, "text", text)
        sel = self.selections.setdefault(key, {
            "selection_guid": _guid(self.rel, "selection", *key), "source_guid": guid, "start": start, "end": end,
            "text": text, "name": _cell(row, fields.get("segment_id")), "location": f"{self.rel}: {where}"})
        if sel["text"] is None and text is not None:
            sel["text"] = text
        coder = _cell(row, fields.get("coder"))
        user = None
        if coder is not None:
            user = _guid(self.rel, "user", coder)
            self.users.setdefault(user, {"user_guid": user, "name": coder})
        for path in codes:
            code = self._code(path)
            self.codings.append({"coding_guid": _guid(self.rel, "coding", where, path), "selection_guid":
                                 sel["selection_guid"], "code_guid": code, "creating_user": user,
                                 "location": f"{self.rel}: {where}"})
        publishable = _cell(row, fields.get("publishable"))
        if publishable is not None:
            self.attrs.setdefault((sel["selection_guid"], "publishable"), (publishable, where))
        return True

    def _code(self, path: tuple[str, ...]) -> str:
        parent = None
        for depth in range(1, len(path) + 1):
            guid = _guid(self.rel, "code", *path[:depth])
            self.codes.setdefault(guid, {"code_guid": guid, "parent_guid": parent, "name": path[depth - 1],
                                         "is_codable": True})
            parent = guid
        return parent

    # ------------------------------------------------------------------ result
    def project(self) -> QualProject:
        variables = sorted({v for _, v in self.attrs})
        var_guid = {v: _guid(self.rel, "variable", v) for v in variables}
        selections = {s["selection_guid"] for s in self.selections.values()}
        values = [{"entity": "selection" if g in selections else "source", "entity_guid": g,
                   "variable_guid": var_guid[v], "value": value} for (g, v), (value, _) in self.attrs.items()]
        return QualProject.from_records(
            name=self.rel, origin="coded-segments spreadsheet", users=list(self.users.values()),
            codes=list(self.codes.values()), sources=list(self.sources.values()),
            selections=list(self.selections.values()), codings=self.codings,
            variables=[{"variable_guid": var_guid[v], "name": v, "type": "Text"} for v in variables],
            values=values)


def _cell(row: pd.Series, header: str | None) -> str | None:
    if header is None:
        return None
    value = row.get(header)
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat") and not isinstance(value, str):
        value = value.isoformat()[:10] if getattr(value, "hour", 0) == 0 else value.isoformat()
    text = str(value).strip()
    return text or None


def _codes(cell: str | None, parent: str | None) -> list[tuple[str, ...]]:
    """Code paths of a cell: one per line; hierarchy by \\, >, :: or /."""
    if cell is None:
        return []
    out = []
    for line in cell.replace("\r", "\n").split("\n"):
        line = line.strip()
        if not line:
            continue
        parts = [line]
        for sep in _CODE_SEPARATORS:
            if sep in line:
                parts = [p.strip() for p in line.split(sep) if p.strip()]
                break
        out.append(tuple(([parent] if parent and parts[0] != parent else []) + parts))
    return out


def _position(row: pd.Series, fields: dict, name: str) -> int | None:
    raw = _cell(row, fields.get(name))
    if raw is None:
        return None
    try:
        value = int(float(raw.replace(",", ".")))
    except ValueError:
        raise ValueError(f"{name} position {raw!r} is not a whole number", fields[name]) from None
    if value < 0:
        raise ValueError(f"{name} position {value} is negative", fields[name])
    return value

