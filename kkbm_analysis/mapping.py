"""The mapping language: how a folder of field workbooks becomes the suite's tables.

Common Indonesian (and English) headers are recognised without any configuration. Where a
folder needs more, a YAML file (default ``<raw folder>/kkbm-mapping.yaml``; ``kkbm inspect``
writes a draft) says so. The user guide ``docs/mapping.md`` has worked examples::

    version: 1
    exclude: ["arsip/*"]              # files to leave out (globs, relative to the raw folder)
    include: ["_anggota.csv"]         # files a default rule would leave out, read anyway
    columns:                           # raw header -> field, for every file
      "No. Induk Kependudukan": member_id
    recode:                            # raw value -> value, per field, for every file
      sector: {"Ternak kambing": livestock}
    files:
      - file: "rekap_*.xlsx"           # glob, relative to the raw folder
        sheet: "Desa *"                # optional glob on the sheet name
        table: members                 # skip the automatic guess
        header_row: 4                  # or [4, 5] for a two-row header
        skip_rows: [5, "40-42"]        # rows to leave out, as the spreadsheet numbers them
        columns: {"Tgl Gabung": joined_on, "Catatan": drop}
        drop: ["Keterangan"]           # columns to ignore on purpose
        constants: {community_id: K1, village: "{sheet}"}   # the whole sheet is one community
        recode: {status: {"Purna TKI": pmi_purna}}
        reshape: {columns: ["20??"], to: year, value: placements}   # one column per year
        totals: ["Sub Jumlah"]         # more words that start a totals row
        skip: false                    # true: leave this sheet out

:func:`load_mapping` checks everything and reports every mistake at once, with its line
(:class:`MappingError`).
"""
from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from .schema import TABLES, VOCABULARIES, header_key

DEFAULT_MAPPING_NAME = "kkbm-mapping.yaml"
MAPPING_VERSION = 1
TOP_KEYS = ("version", "exclude", "include", "columns", "recode", "files")
FILE_KEYS = ("file", "pattern", "sheet", "table", "header_row", "skip_rows", "columns", "drop", "constants",
             "recode", "reshape", "totals", "skip")
RESHAPE_KEYS = ("columns", "to", "value")
#: Region words accepted as constant names, for the ``*_code`` fields.
REGION_WORDS = {"province": "province_code", "provinsi": "province_code", "regency": "regency_code",
                "kabupaten": "regency_code", "district": "district_code", "kecamatan": "district_code",
                "village": "village_code", "desa": "village_code"}


class MappingError(ValueError):
    """The mapping file has mistakes; the message lists each with its line."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path, self.problems = Path(path), problems
        head = f"{path}: " + ("1 problem" if len(problems) == 1 else f"{len(problems)} problems")
        super().__init__(head + "\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Reshape:
    """A wide table (one column per year or month) turned into rows of (period, value)."""

    columns: tuple[str, ...]
    to: str
    value: str

    def selects(self, header: str) -> bool:
        """Whether a raw header is one of the wide columns (names or globs, case-insensitive)."""
        key = header.strip().lower()
        return any(fnmatch.fnmatch(key, p.strip().lower()) for p in self.columns)


@dataclass(frozen=True)
class FileRule:
    """One ``files:`` entry."""

    file: str
    sheet: str | None = None
    table: str | None = None
    header_row: tuple[int, ...] | None = None
    skip_rows: frozenset[int] = frozenset()
    columns: dict[str, str] = field(default_factory=dict)
    drop: frozenset[str] = frozenset()
    constants: dict[str, Any] = field(default_factory=dict)
    recode: dict[str, dict[str, str]] = field(default_factory=dict)
    reshape: Reshape | None = None
    totals: tuple[str, ...] = ()
    skip: bool = False
    line: int = 0

    @property
    def pattern(self) -> str:  # the earlier name of ``file``
        return self.file

    def matches(self, relpath: str, sheet: str | None) -> bool:
        """Whether this rule is about a file (relative path) and sheet."""
        name = relpath.rsplit("/", 1)[-1]
        hit = fnmatch.fnmatch(relpath, self.file) or ("/" not in self.file and fnmatch.fnmatch(name, self.file))
        return hit and (self.sheet is None or (sheet is not None and fnmatch.fnmatch(sheet, self.sheet)))


@dataclass(frozen=True)
class Mapping:
    """A checked mapping file (empty when there is none)."""

    columns: dict[str, str] = field(default_factory=dict)
    files: tuple[FileRule, ...] = ()
    exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    recode: dict[str, dict[str, str]] = field(default_factory=dict)
    source: Path | None = None
    version: int = MAPPING_VERSION
    lines: dict[tuple, int] = field(default_factory=dict, repr=False)

    def rule_for(self, relpath: str, sheet: str | None) -> FileRule | None:
        """The first file rule about a file (and sheet), if any."""
        return next((r for r in self.files if r.matches(relpath, sheet)), None)

    def excluded_by(self, relpath: str) -> str | None:
        """The ``exclude`` pattern that leaves a file out (with its line), or None."""
        name = relpath.rsplit("/", 1)[-1]
        for i, p in enumerate(self.exclude):
            if fnmatch.fnmatch(relpath, p) or fnmatch.fnmatch(name, p):
                return f"exclude {p!r}" + (f" (kkbm-mapping.yaml line {self.lines[('exclude', i)]})"
                                           if ("exclude", i) in self.lines else "")
        return None

    def included(self, relpath: str) -> bool:
        """Whether an ``include`` pattern asks for a file a default rule would leave out."""
        name = relpath.rsplit("/", 1)[-1]
        return any(fnmatch.fnmatch(relpath, p) or fnmatch.fnmatch(name, p) for p in self.include)

    def excluded(self, relpath: str) -> bool:  # kept for callers of the earlier API
        return self.excluded_by(relpath) is not None

    def columns_for(self, rule: FileRule | None) -> dict[str, str]:
        """Header key -> field for a sheet: the global ``columns`` and the rule's own."""
        return {**self.columns, **(rule.columns if rule else {})}

    def recode_for(self, rule: FileRule | None) -> dict[str, dict[str, str]]:
        """Field -> {normalised raw value -> new value} for a sheet."""
        out = {f: dict(v) for f, v in self.recode.items()}
        for f, values in (rule.recode if rule else {}).items():
            out.setdefault(f, {}).update(values)
        return out

    def line_of(self, *path: Any) -> int | None:
        """Line of an entry of the file, e.g. ``line_of('files', 0)``."""
        return self.lines.get(tuple(path))


# --------------------------------------------------------------------------- loading
def load_mapping(path: str | Path | None, *, required: bool = False) -> Mapping:
    """Read and check a mapping file.

    Parameters
    ----------
    path : path or None
        The file; ``None`` (or a missing file when not ``required``) gives an empty mapping.
    required : bool
        The user named this file: a missing file is an error.

    Raises
    ------
    MappingError
        With every problem found and its line.
    """
    if path is None:
        return Mapping()
    path = Path(path)
    if not path.is_file():
        if required or path.exists():
            raise MappingError(path, ["the mapping file does not exist" if not path.exists()
                                      else "this is a folder, not a mapping file"])
        return Mapping()
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MappingError(path, [f"the file is not UTF-8 text (byte {exc.start + 1}); save it as UTF-8"]) from None
    except OSError as exc:
        raise MappingError(path, [f"the file cannot be read ({exc.strerror or type(exc).__name__})"]) from None
    return parse_mapping(text, path)


def parse_mapping(text: str, source: str | Path = DEFAULT_MAPPING_NAME) -> Mapping:
    """Check mapping text (see :func:`load_mapping`)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise MappingError(source, [f"{where}not valid YAML ({problem})"]) from None
    lines: dict[tuple, int] = {}
    problems: list[str] = []
    spec = _python(node, (), lines, problems) if node is not None else {}
    if spec in (None, ""):
        spec = {}
    if not isinstance(spec, dict):
        raise MappingError(source, ["the file must be a set of keys: " + ", ".join(TOP_KEYS)])
    check = _Checker(lines, problems)
    check.keys(spec, TOP_KEYS, (), "the mapping")
    version = spec.get("version", MAPPING_VERSION)
    if version != MAPPING_VERSION:
        check.add((("version",)), f"version {version!r} is not one this kkbm-analysis reads; write version: 1")
    mapping = Mapping(
        columns=check.columns(spec.get("columns"), ("columns",), None),
        files=tuple(r for i, e in enumerate(check.seq(spec.get("files"), ("files",))) if (r := check.rule(e, i))),
        exclude=tuple(check.strings(spec.get("exclude"), ("exclude",))),
        include=tuple(check.strings(spec.get("include"), ("include",))),
        recode=check.recode(spec.get("recode"), ("recode",), None),
        source=Path(source), version=MAPPING_VERSION, lines=lines)
    if problems:
        raise MappingError(source, problems)
    return mapping


def _python(node: yaml.Node, path: tuple, lines: dict, problems: list[str]) -> Any:
    """The node as Python data, recording the line of every key and item; duplicates reported."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            key = yaml.SafeLoader(" ").construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            key = str(key) if key is not None else ""
            if key in out:
                problems.append(f"line {key_node.start_mark.line + 1}: {key!r} is given twice")
            out[key] = _python(value_node, (*path, key), lines, problems)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_python(n, (*path, i), lines, problems) for i, n in enumerate(node.value)]
    return yaml.SafeLoader(" ").construct_object(node)


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def all_fields() -> dict[str, set[str]]:
    """Field name -> tables that have it."""
    out: dict[str, set[str]] = {}
    for name, spec in TABLES.items():
        for c in spec.columns:
            out.setdefault(c, set()).add(name)
    return out


class _Checker:
    """Turns checked YAML data into mapping objects, collecting problems with their lines."""

    def __init__(self, lines: dict[tuple, int], problems: list[str]) -> None:
        self.lines, self.problems = lines, problems

    def add(self, path: tuple, message: str) -> None:
        line = self.lines.get(path)
        while line is None and path:
            path = path[:-1]
            line = self.lines.get(path)
        self.problems.append(f"line {line}: {message}" if line else message)

    def keys(self, spec: dict, allowed: tuple[str, ...], path: tuple, what: str) -> None:
        for key in spec:
            if key not in allowed:
                self.add((*path, key), f"{key!r} is not a key of {what}{_suggest(key, allowed)} "
                                       f"(allowed: {', '.join(allowed)})")

    def seq(self, value: Any, path: tuple) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(path, f"'{path[-1]}' must be a list (each item on a line starting with '- ')")
            return []
        return value

    def strings(self, value: Any, path: tuple) -> list[str]:
        if isinstance(value, str):
            return [value]
        out = []
        for i, v in enumerate(self.seq(value, path)):
            if isinstance(v, (str, int, float)) and not isinstance(v, bool):
                out.append(str(v))
            else:
                self.add((*path, i), f"items of '{path[-1]}' must be text, not {v!r}")
        return out

    def field(self, name: Any, path: tuple, table: str | None, *, allow_drop: bool = False) -> str | None:
        fields = all_fields()
        if allow_drop and name == "drop":
            return "drop"
        if not isinstance(name, str) or name not in fields:
            choices = [*fields, "drop"] if allow_drop else list(fields)
            self.add(path, f"{name!r} is not a field{_suggest(name, choices)}; `kkbm codebook` lists them")
            return None
        if table is not None and table not in fields[name]:
            self.add(path, f"table {table!r} has no field {name!r}{_suggest(name, TABLES[table].columns)} "
                           f"(fields: {', '.join(TABLES[table].columns)})")
            return None
        return name

    def columns(self, value: Any, path: tuple, table: str | None) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(path, "'columns' must map a raw header to a field, e.g.  \"Tgl Gabung\": joined_on")
            return {}
        out = {}
        for header, target in value.items():
            name = self.field(target, (*path, header), table, allow_drop=True)
            if name:
                out[header_key(header)] = name
        return out

    def recode(self, value: Any, path: tuple, table: str | None) -> dict[str, dict[str, str]]:
        from .parsing import normalise_text
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(path, "'recode' must name a field, then raw value: new value")
            return {}
        out: dict[str, dict[str, str]] = {}
        for name, values in value.items():
            target = self.field(name, (*path, name), table)
            if target is None:
                continue
            if not isinstance(values, dict):
                self.add((*path, name), f"recode of {name!r} must map raw values to new values")
                continue
            vocab = self._vocab(target)
            for raw, new in values.items():
                if vocab is not None and not self._category_ok(new, vocab):
                    self.add((*path, name, raw), f"{new!r} is not a value of {name}{_suggest(new, vocab)} "
                                                 f"(allowed: {', '.join(vocab)})")
                    continue
                out.setdefault(target, {})[normalise_text(str(raw))] = str(new)
        return out

    @staticmethod
    def _vocab(field_name: str) -> dict | None:
        for spec in TABLES.values():
            if field_name in spec.columns:
                vocab = (spec.schema.columns[field_name].metadata or {}).get("vocab")
                return VOCABULARIES[vocab] if vocab else None
        return None

    @staticmethod
    def _category_ok(value: Any, vocab: dict) -> bool:
        from .parsing import normalise_text
        key = normalise_text(str(value)).replace(" ", "")
        return any(key in {normalise_text(s).replace(" ", "") for s in (c.key, c.label_id, c.label_en, *c.synonyms)}
                   for c in vocab.values())

    def rows(self, value: Any, path: tuple) -> frozenset[int]:
        out: set[int] = set()
        for i, v in enumerate([value] if isinstance(value, (int, str)) and not isinstance(value, bool)
                              else self.seq(value, path)):
            m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", str(v)) if not isinstance(v, bool) else None
            if m and int(m.group(1)) >= 1 and (not m.group(2) or int(m.group(2)) >= int(m.group(1))):
                out.update(range(int(m.group(1)), int(m.group(2) or m.group(1)) + 1))
            else:
                self.add((*path, i), f"skip_rows takes row numbers like 5 or ranges like \"40-42\", not {v!r}")
        return frozenset(out)

    def header_row(self, value: Any, path: tuple) -> tuple[int, ...] | None:
        if value is None:
            return None
        rows = value if isinstance(value, list) else [value]
        ok = (1 <= len(rows) <= 2 and all(isinstance(r, int) and not isinstance(r, bool) and r >= 1 for r in rows)
              and (len(rows) == 1 or rows[1] == rows[0] + 1))
        if not ok:
            self.add(path, f"header_row must be a row number like 4, or two consecutive rows like [4, 5] for a "
                           f"two-row header, not {value!r}")
            return None
        return tuple(rows)

    def constants(self, value: Any, path: tuple, table: str | None) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(path, "'constants' must map a field to one value, e.g.  community_id: K1")
            return {}
        out = {}
        for name, v in value.items():
            target = self.field(REGION_WORDS.get(str(name).lower(), name), (*path, name), table)
            if target is None:
                continue
            if isinstance(v, (dict, list)):
                self.add((*path, name), f"the constant {name!r} must be one value, not a list or a mapping")
                continue
            out[target] = v
        return out

    def reshape(self, value: Any, path: tuple, table: str | None) -> Reshape | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.add(path, "'reshape' needs columns, to and value, e.g. {columns: [\"20??\"], to: year, "
                           "value: placements}")
            return None
        self.keys(value, RESHAPE_KEYS, path, "reshape")
        missing = [k for k in RESHAPE_KEYS if k not in value]
        if missing:
            self.add(path, f"reshape needs {', '.join(missing)}")
            return None
        to = self.field(value["to"], (*path, "to"), table)
        val = self.field(value["value"], (*path, "value"), table)
        columns = self.strings(value["columns"], (*path, "columns"))
        if not columns:
            self.add((*path, "columns"), "reshape columns must list the wide headers or a glob such as \"20??\"")
        return Reshape(tuple(columns), to, val) if to and val and columns else None

    def rule(self, entry: Any, i: int) -> FileRule | None:
        path = ("files", i)
        if not isinstance(entry, dict):
            self.add(path, "each files entry needs at least 'file' (a file name or glob)")
            return None
        self.keys(entry, FILE_KEYS, path, "a files entry")
        file = entry.get("file", entry.get("pattern"))
        if not isinstance(file, str) or not file.strip():
            self.add(path, "this files entry needs 'file' (a file name or glob such as \"rekap_*.xlsx\")")
            return None
        table = entry.get("table")
        if table is not None and table not in TABLES:
            self.add((*path, "table"), f"unknown table {table!r}{_suggest(table, TABLES)}; known: {', '.join(TABLES)}")
            table = None
        sheet = entry.get("sheet")
        if sheet is not None and not isinstance(sheet, (str, int)):
            self.add((*path, "sheet"), f"sheet must be a sheet name or glob, not {sheet!r}")
            sheet = None
        skip = entry.get("skip", False)
        if not isinstance(skip, bool):
            self.add((*path, "skip"), f"skip must be true or false, not {skip!r}")
            skip = False
        columns = self.columns(entry.get("columns"), (*path, "columns"), table)
        drops = frozenset(header_key(h) for h in self.strings(entry.get("drop"), (*path, "drop")))
        return FileRule(file=file, sheet=None if sheet is None else str(sheet), table=table,
                        header_row=self.header_row(entry.get("header_row"), (*path, "header_row")),
                        skip_rows=self.rows(entry.get("skip_rows"), (*path, "skip_rows")) if "skip_rows" in entry
                        else frozenset(), columns=columns, drop=drops,
                        constants=self.constants(entry.get("constants"), (*path, "constants"), table),
                        recode=self.recode(entry.get("recode"), (*path, "recode"), table),
                        reshape=self.reshape(entry.get("reshape"), (*path, "reshape"), table),
                        totals=tuple(self.strings(entry.get("totals"), (*path, "totals"))), skip=skip,
                        line=self.lines.get(path, 0))
