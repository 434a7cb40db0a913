"""The in-memory model of a coded qualitative project, as read from a file (before privacy).

:class:`QualProject` holds what the REFI-QDA standard exchanges, as tidy frames keyed by the
project's own GUIDs: users (coders), the code hierarchy, text sources with their full
plain text, text selections (segments) with their positions, codings, variables and their
values on sources and cases, and cases with the sources they group. Both readers (the
``.qdpx`` reader and the coded-segments spreadsheet reader) produce it; the ``.qdpx``
writer writes it; the qualitative ingest turns it into pseudonymised, redacted tables.

Positions are REFI-QDA's: Unicode code points from 0, ``end`` exclusive, so that
``text[start:end]`` is the segment. Sources read from a spreadsheet carry no full text
(``text`` is None); their segments carry their own ``text``.

Nothing in this model is redacted: it never leaves memory except through the writer (used
for synthetic projects and exchange) or the ingest (which redacts and pseudonymises).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import pandas as pd

__all__ = ["QualProject", "COLUMNS", "VARIABLE_TYPES", "WHOLE_SOURCE"]

#: Variable types of REFI-QDA (``typeOfVariable``).
VARIABLE_TYPES = ("Text", "Boolean", "Integer", "Float", "Date", "DateTime")
#: Prefix of the selection id of a coding applied to a whole source (a ``Coding`` directly
#: under ``TextSource``): ``"whole:" + source_guid``.
WHOLE_SOURCE = "whole:"

#: Columns of each frame of a :class:`QualProject`.
COLUMNS: dict[str, list[str]] = {
    "users": ["user_guid", "name"],
    "codes": ["code_guid", "parent_guid", "name", "is_codable", "color", "description"],
    "sources": ["source_guid", "name", "kind", "text", "description", "creating_user", "created", "location"],
    "selections": ["selection_guid", "source_guid", "start", "end", "text", "name", "description",
                   "creating_user", "created", "location"],
    "codings": ["coding_guid", "selection_guid", "code_guid", "creating_user", "created", "location"],
    "variables": ["variable_guid", "name", "type", "description"],
    "values": ["entity", "entity_guid", "variable_guid", "value"],
    "cases": ["case_guid", "name", "description"],
    "case_members": ["case_guid", "member_guid", "member_kind"],
}


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS[name]})


@dataclass
class QualProject:
    """A coded qualitative project (see the module docstring).

    Attributes
    ----------
    name, origin, description : str
        Project metadata (``origin`` names the software that wrote it).
    users, codes, sources, selections, codings, variables, values, cases, case_members : DataFrame
        Columns in :data:`COLUMNS`. ``codes.parent_guid`` is None for top-level codes.
        ``sources.kind`` is ``'text'`` or ``'pdf'`` (the text representation of a PDF).
        ``selections.text`` is the segment's own text where no source text exists
        (spreadsheets), else None. ``values.entity`` is ``'source'`` or ``'case'`` (or ``'selection'``
        for a spreadsheet's per-segment ``publishable`` column; REFI-QDA has no selection
        variables, so the writer leaves those out);
        ``case_members.member_kind`` is ``'source'`` or ``'selection'``. ``location`` says
        where an item was read (file, sheet, row or element) for messages.
    skipped : DataFrame
        Items not imported, with the reason (``location, item, reason``), e.g. picture,
        audio and video sources.
    """

    name: str = ""
    origin: str = ""
    description: str = ""
    users: pd.DataFrame = field(default_factory=lambda: _empty("users"))
    codes: pd.DataFrame = field(default_factory=lambda: _empty("codes"))
    sources: pd.DataFrame = field(default_factory=lambda: _empty("sources"))
    selections: pd.DataFrame = field(default_factory=lambda: _empty("selections"))
    codings: pd.DataFrame = field(default_factory=lambda: _empty("codings"))
    variables: pd.DataFrame = field(default_factory=lambda: _empty("variables"))
    values: pd.DataFrame = field(default_factory=lambda: _empty("values"))
    cases: pd.DataFrame = field(default_factory=lambda: _empty("cases"))
    case_members: pd.DataFrame = field(default_factory=lambda: _empty("case_members"))
    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["location", "item", "reason"]))

    @classmethod
    def from_records(cls, **tables: list[dict]) -> "QualProject":
        """Build a project from lists of row dicts (missing columns become None)."""
        meta = {k: tables.pop(k) for k in ("name", "origin", "description") if k in tables}
        frames = {}
        for name, rows in tables.items():
            if name not in COLUMNS and name != "skipped":
                raise TypeError(f"unknown table {name!r}")
            cols = COLUMNS.get(name, ["location", "item", "reason"])
            frames[name] = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols, dtype=object) \
                if rows else (_empty(name) if name in COLUMNS else pd.DataFrame(columns=cols))
        return cls(**meta, **frames)

    def frames(self) -> dict[str, pd.DataFrame]:
        """The tables of :data:`COLUMNS`, by name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in COLUMNS}

    def source_attributes(self) -> pd.DataFrame:
        """One row per source and variable: the source's own value, else its cases' values.

        Returns ``source_guid, variable, value, origin`` with ``origin`` ``'source'`` or
        ``'case'``; where cases disagree every distinct value is kept (one row each).
        """
        names = dict(zip(self.variables["variable_guid"], self.variables["name"]))
        vals = self.values.assign(variable=self.values["variable_guid"].map(names))
        own = vals[vals["entity"] == "source"].rename(columns={"entity_guid": "source_guid"})
        own = own.assign(origin="source")[["source_guid", "variable", "value", "origin"]]
        links = self.case_members[self.case_members["member_kind"] == "source"]
        via = vals[vals["entity"] == "case"].merge(links, left_on="entity_guid", right_on="case_guid")
        via = via.rename(columns={"member_guid": "source_guid"}).assign(origin="case")
        via = via[["source_guid", "variable", "value", "origin"]].drop_duplicates()
        via = via[~via.set_index(["source_guid", "variable"]).index.isin(own.set_index(["source_guid", "variable"]).index)]
        out = pd.concat([own, via], ignore_index=True)
        return out.sort_values(["source_guid", "variable", "origin", "value"], kind="stable").reset_index(drop=True)

    def summary(self) -> str:
        return (f"{self.name or 'project'} ({self.origin or 'unknown origin'}): {len(self.sources)} sources, "
                f"{len(self.codes)} codes, {len(self.selections)} selections, {len(self.codings)} codings, "
                f"{len(self.cases)} cases, {len(self.variables)} variables, {len(self.users)} users, "
                f"{len(self.skipped)} items skipped")

    def __repr__(self) -> str:
        return f"<QualProject {self.summary()}>"
