"""Which table a sheet holds and which raw header is which field.

Headers are compared after :func:`kkbm_analysis.schema.header_key` (lower case, words only),
with and without notes in brackets and numbered-duplicate suffixes, against each field's
aliases, its name written with spaces (``destination country``) and its Indonesian and
English meaning. :func:`guess_columns` goes further for ``kkbm inspect``: close headers
("Tgl. Gabung KKBM") get a field and a confidence, to be confirmed in the mapping file.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .schema import TABLES, header_key, identifier_kind

_PARENS = re.compile(r"\([^)]*\)|\[[^]]*\]")
_NUMBERED = re.compile(r"[._ -]+\d{1,2}$")
#: Abbreviations field officers use, expanded before fuzzy comparison.
_ABBREVIATIONS = {"tgl": "tanggal", "tg": "tanggal", "thn": "tahun", "th": "tahun", "kel": "kelamin",
                  "jk": "jenis kelamin", "no": "nomor", "nmr": "nomor", "kab": "kabupaten", "kec": "kecamatan",
                  "ds": "desa", "kel.": "kelurahan", "prov": "provinsi", "jml": "jumlah", "kd": "kode",
                  "ket": "keterangan", "bln": "bulan", "pmi": "pmi", "kkbm": "kkbm", "id": "kode"}


def header_keys(header: str) -> list[str]:
    """Match keys of a raw header: as written, without bracketed notes, without a duplicate number."""
    return list(_header_keys(str(header)))


@cache
def _header_keys(text: str) -> tuple[str, ...]:
    keys = [header_key(text), header_key(_PARENS.sub(" ", text))]
    keys.append(header_key(_NUMBERED.sub("", _PARENS.sub(" ", text).strip())))
    return tuple(k for k in dict.fromkeys(keys) if k)


@cache
def field_keys(table: str) -> dict[str, str]:
    """Header key -> field of a table: aliases first, then field names, then meanings."""
    out: dict[str, str] = {}
    columns = TABLES[table].schema.columns
    for name, c in columns.items():
        for alias in (c.metadata or {}).get("aliases", ()):
            out.setdefault(alias, name)
    for name in columns:
        out.setdefault(header_key(name.replace("_", " ")), name)
    for name, c in columns.items():
        for meaning in (c.title, c.description):
            if meaning:
                out.setdefault(header_key(meaning), name)
                out.setdefault(header_key(_PARENS.sub(" ", meaning)), name)
    out.pop("", None)
    return out


@cache
def _known_keys() -> frozenset[str]:
    return frozenset(k for t in TABLES for k in field_keys(t))


@cache
def is_known_header(text: str) -> bool:
    """Whether a header names a field of some table (used to find the header row)."""
    return any(k in _known_keys() for k in header_keys(text)) or identifier_kind(text) is not None


def match_columns(headers: list[str], table: str, overrides: dict[str, str] | None = None,
                  drops: frozenset[str] | set[str] = frozenset(), skip: set[str] | frozenset[str] = frozenset()
                  ) -> dict[str, str]:
    """Map raw headers to the fields of ``table`` (the first header wins a field).

    Parameters
    ----------
    headers : list of str
    table : str
    overrides : dict, optional
        Header key -> field (or ``'drop'``) from the mapping file.
    drops : set of str
        Header keys to leave out.
    skip : set of str
        Raw headers not to map (e.g. the wide columns of a reshape).
    """
    overrides = overrides or {}
    keys = field_keys(table)
    columns = TABLES[table].schema.columns
    out: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        if header in skip:
            continue
        candidates = header_keys(header)
        if any(k in drops for k in candidates):
            continue
        target = next((overrides[k] for k in candidates if k in overrides), None)
        if target is None:
            target = next((keys[k] for k in candidates if k in keys), None)
        if target == "drop":
            continue
        if target in columns and target not in taken:
            out[header] = target
            taken.add(target)
    return out


def detect_table(headers: list[str], sheet: str | None, filename: str,
                 overrides: dict[str, str] | None = None) -> tuple[str | None, list[tuple[str, float]]]:
    """Guess which table a sheet holds from its headers and its sheet/file name.

    Returns the best table (``None`` when none fits or two fit equally) and the ranked
    candidates ``[(table, score)]``.
    """
    scores = []
    stem = header_key(Path(filename).name.split(".")[0])
    names = {header_key(sheet or ""), *stem.split(" ")}
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


# --------------------------------------------------------------------------- guesses for inspect
@dataclass(frozen=True)
class ColumnGuess:
    """What ``kkbm inspect`` thinks of one column.

    ``role`` is ``field`` (with ``field`` and ``confidence``), ``identifier`` (redacted;
    ``field`` set when it becomes a pseudonym), or ``ignored``.
    """

    header: str
    role: str
    field: str | None = None
    confidence: float = 0.0
    identifier: str | None = None


def _expanded(key: str) -> str:
    return " ".join(_ABBREVIATIONS.get(w, w) for w in key.split())


def _similarity(a: str, b: str) -> float:
    ea, eb = _expanded(a), _expanded(b)
    ratio = difflib.SequenceMatcher(None, ea, eb).ratio()
    wa, wb = set(ea.split()), set(eb.split())
    overlap = len(wa & wb) / max(len(wa | wb), 1)
    contained = 0.9 if wb and wb <= wa and len(wb) >= 2 else 0.0
    return max(ratio, overlap, contained)


def guess_columns(headers: list[str], table: str | None, overrides: dict[str, str] | None = None,
                  threshold: float = 0.72) -> list[ColumnGuess]:
    """A field guess per header with a confidence (1.0 for an exact match)."""
    exact = match_columns(headers, table, overrides) if table else {}
    taken = set(exact.values())
    out = []
    for header in headers:
        kind = identifier_kind(header)
        if header in exact:
            out.append(ColumnGuess(header, "identifier" if kind else "field", exact[header], 1.0, kind))
            continue
        if kind:
            out.append(ColumnGuess(header, "identifier", None, 1.0, kind))
            continue
        best, score = None, 0.0
        if table:
            for key, name in field_keys(table).items():
                if name in taken:
                    continue
                s = max(_similarity(k, key) for k in header_keys(header))
                if s > score:
                    best, score = name, s
        if best and score >= threshold:
            taken.add(best)
            out.append(ColumnGuess(header, "field", best, round(score, 2)))
        else:
            out.append(ColumnGuess(header, "ignored"))
    return out
