"""Which raw file/sheet is which table, and which raw header is which field.

Common Indonesian headers are recognised from the schema's aliases without any
configuration. Where a user's headers differ, a small YAML file (default
``<raw dir>/kkbm-mapping.yaml``) says so::

    exclude: ["arsip/*"]            # globs (relative to the raw folder) to ignore
    columns:                         # raw header -> field, for every file
      "No. Induk Kependudukan": member_id
    files:
      - pattern: "rekap_*.xlsx"      # glob relative to the raw folder
        sheet: "Sheet1"              # optional: only this sheet
        table: members               # optional: skip auto-detection
        header_row: 4                # optional: 1-based row of the header
        columns:
          "Tgl Gabung": joined_on
          "Catatan": drop             # ignore a column on purpose
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .schema import TABLES, header_key, identifier_kind

DEFAULT_MAPPING_NAME = "kkbm-mapping.yaml"
#: Files in a raw folder that are never data (synthetic-demo metadata, notes).
DEFAULT_EXCLUDE = ("expected_*", "ground_truth*", "SYNTHETIC.json", "README*", "*.md", "*.json", "*.yaml",
                   "*.yml", "_*", ".*", "~$*")


class MappingError(ValueError):
    """The mapping file is malformed (the message names the file and entry)."""


@dataclass(frozen=True)
class FileRule:
    """One ``files:`` entry of the mapping file."""

    pattern: str
    sheet: str | None = None
    table: str | None = None
    header_row: int | None = None
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file (empty when there is none)."""

    columns: dict[str, str] = field(default_factory=dict)
    files: tuple[FileRule, ...] = ()
    exclude: tuple[str, ...] = ()
    source: Path | None = None

    def rule_for(self, relpath: str, sheet: str | None) -> FileRule | None:
        """The first file rule matching a file (and sheet), if any."""
        for rule in self.files:
            if fnmatch.fnmatch(relpath, rule.pattern) and (rule.sheet is None or rule.sheet == sheet):
                return rule
        return None

    def excluded(self, relpath: str) -> bool:
        name = Path(relpath).name
        return any(fnmatch.fnmatch(name, p) for p in DEFAULT_EXCLUDE) or any(
            fnmatch.fnmatch(relpath, p) for p in self.exclude)


def load_mapping(path: str | Path | None) -> Mapping:
    """Read and check a mapping file; ``None`` or a missing default gives an empty mapping."""
    if path is None or not Path(path).exists():
        return Mapping()
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(spec, dict):
        raise MappingError(f"{path}: expected keys 'columns', 'files', 'exclude'")
    unknown = set(spec) - {"columns", "files", "exclude"}
    if unknown:
        raise MappingError(f"{path}: unknown key(s) {sorted(unknown)}; allowed: columns, files, exclude")
    files = tuple(_file_rule(path, i, entry) for i, entry in enumerate(spec.get("files") or [], 1))
    return Mapping(_columns(path, "columns", spec.get("columns") or {}), files,
                   tuple(spec.get("exclude") or ()), path)


def _file_rule(path: Path, i: int, entry: Any) -> FileRule:
    where = f"{path}: files entry {i}"
    if not isinstance(entry, dict) or "pattern" not in entry:
        raise MappingError(f"{where}: needs at least 'pattern'")
    table = entry.get("table")
    if table is not None and table not in TABLES:
        raise MappingError(f"{where}: unknown table '{table}'; known: {', '.join(TABLES)}")
    return FileRule(entry["pattern"], entry.get("sheet"), table, entry.get("header_row"),
                    _columns(path, where, entry.get("columns") or {}))


def _columns(path: Path, where: str, columns: Any) -> dict[str, str]:
    if not isinstance(columns, dict):
        raise MappingError(f"{where}: 'columns' must map raw header -> field")
    known = {c for spec in TABLES.values() for c in spec.columns} | {"drop"}
    bad = sorted(v for v in columns.values() if v not in known)
    if bad:
        raise MappingError(f"{where}: unknown field(s) {bad}; see `kkbm codebook` for the field names")
    return {header_key(k): v for k, v in columns.items()}


# --------------------------------------------------------------------------- header matching
_PARENS = re.compile(r"\([^)]*\)")


def _keys(header: str) -> list[str]:
    """Match keys for a raw header: as written, then without parenthesised notes."""
    full = header_key(header)
    bare = header_key(_PARENS.sub(" ", str(header)))
    return [full] if bare == full else [full, bare]


def match_columns(headers: list[str], table: str, overrides: dict[str, str]) -> dict[str, str]:
    """Map raw headers to the fields of ``table``.

    Returns
    -------
    dict
        raw header -> field name, for the headers that matched (first header wins a field).
        Headers mapped to ``drop`` are left out.
    """
    spec = TABLES[table]
    schema_cols = spec.schema.columns
    out: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        for key in _keys(header):
            target = overrides.get(key)
            if target is None:
                target = next((name for name, c in schema_cols.items()
                               if key in (c.metadata or {}).get("aliases", ()) or key == name), None)
            if target == "drop":
                break
            if target in schema_cols and target not in taken:
                out[header] = target
                taken.add(target)
                break
    return out


def detect_table(headers: list[str], sheet: str | None, filename: str,
                 overrides: dict[str, str]) -> tuple[str | None, list[tuple[str, float]]]:
    """Guess which table a sheet holds from its headers and its sheet/file name.

    Returns the best table (or ``None`` when no table fits or two fit equally) and the
    ranked candidates ``[(table, score)]`` for the error message.
    """
    scores = []
    names = {header_key(sheet or ""), *header_key(Path(filename).stem).split(" ")}
    stem = header_key(Path(filename).stem)
    for name, spec in TABLES.items():
        matched = match_columns(headers, name, overrides)
        if len(matched) < 2:
            continue
        score = len(matched) / len(spec.columns)
        if any(a in names or (a in stem) for a in spec.sheet_aliases):
            score += 0.5
        scores.append((name, round(score, 3)))
    scores.sort(key=lambda t: -t[1])
    if not scores or (len(scores) > 1 and scores[0][1] == scores[1][1]):
        return None, scores
    return scores[0][0], scores


def identifier_headers(headers: list[str]) -> dict[str, str]:
    """Raw headers holding direct identifiers -> identifier kind."""
    return {h: k for h in headers if (k := identifier_kind(h))}
