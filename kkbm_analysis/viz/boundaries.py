"""Boundary files for maps: find, download, read, and match to the official code list.

The suite ships no boundary file and downloads nothing unless asked: without one, maps
are drawn on the built-in tile grid (:mod:`.tilegrid`). A user brings a file (GeoJSON,
Shapefile, GeoPackage, or TopoJSON through GDAL's TopoJSON driver), or downloads the
default public one::

    from kkbm_analysis.viz import boundaries
    path = boundaries.download_boundaries()          # once; verified, cached in data/raw/boundaries/
    bset = boundaries.load_boundaries(path)           # matched to Kemendagri codes
    print(bset.summary())                             # what matched, what was repaired, what not
    bset.report                                       # the same, one row per feature

Which file a map uses (:func:`resolve_boundaries`): an explicit path, else the
``KKBM_BOUNDARIES`` environment variable, else the cached download in
``data/raw/boundaries/``, else none (tile grid).

Matching and repair
-------------------
Boundary files in the wild rarely agree with the official list (``regions.region_table``).
:func:`match_boundaries` finds the code and name columns by how many of their values are
official codes or names, then reads each feature:

* codes written as numbers (``11``, ``11.0``), without dots (``"3604"``) or with a country
  prefix (``"ID11"``) are rewritten (``"11"``, ``"36.04"``);
* names are compared after :func:`~kkbm_analysis.regions.normalise_name` (``"DKI Jakarta"``
  is Daerah Khusus Ibukota Jakarta, ``"Kep. Riau"`` Kepulauan Riau); a feature without a
  usable code is placed by its name when exactly one official region has it;
* a 2022 province filed under its parent's code (``KODE_PROV = 91`` named
  ``"Papua Tengah"``) is recoded to its own code (94) when the name says so;
* a code and a name that point to two different regions are not guessed: the feature is
  left unmatched and the report says why;
* several features of one region are merged into one shape;
* official regions with no feature are listed in ``missing``: an old 34-province file lacks
  93-96 (Papua Selatan, Papua Tengah, Papua Pegunungan, Papua Barat Daya), whose areas it
  draws under 91 Papua and 92 Papua Barat (see :meth:`BoundarySet.split_status`).

Credit
------
The default file is "Indonesia GeoJSON & TopoJSON Maps (38 Provinces)" by denyherianto,
CC BY 4.0: every map drawn from it must credit the source, which :func:`~.maps.choropleth`
does from :attr:`BoundarySet.credit`.
"""
from __future__ import annotations

import functools
import hashlib
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..regions import PROVINCE_SPLITS_2022, normalise_code, normalise_name

__all__ = [
    "DEFAULT_URL", "DEFAULT_SHA256", "DEFAULT_FILENAME", "DEFAULT_CREDIT", "ENV_VAR", "LEVELS",
    "BoundarySet", "BoundaryDownloadError", "BoundaryChecksumError",
    "load_boundaries", "match_boundaries", "download_boundaries", "resolve_boundaries", "boundaries_dir",
    "file_sha256",
]

#: The default public boundary set: denyherianto's 38-province GeoJSON on GitHub (CC BY 4.0).
DEFAULT_URL = ("https://raw.githubusercontent.com/denyherianto/indonesia-geojson-topojson-maps-with-38-provinces/"
               "main/GeoJSON/indonesia-38-provinces.geojson")
#: SHA-256 of that file (253,643 bytes; the copy the project was developed against).
DEFAULT_SHA256 = "97f23f738c7aa66836b971d76381c009a34c6aaefe9c982e85f060e678402027"
DEFAULT_FILENAME = "indonesia-38-provinces.geojson"
#: Credit line for maps drawn from the default file.
DEFAULT_CREDIT = "denyherianto, CC BY 4.0"
#: Environment variable naming a boundary file to use by default.
ENV_VAR = "KKBM_BOUNDARIES"
#: Supported levels and their Kemendagri code level.
LEVELS = {"province": 1, "regency": 2}

_SPLIT_LAWS = {"93": "UU 14/2022", "94": "UU 15/2022", "95": "UU 16/2022", "96": "UU 29/2022"}
#: Former official names still found in old boundary files (not in regions' alias list).
_FORMER_NAMES = {"irian jaya barat": "92", "irian jaya": "91", "irian jaya timur": "91"}

_CODE_HINTS = {
    1: ("kode_prov", "kd_prov", "kdppum", "kode_provinsi", "province_code", "prov_code", "adm1_pcode", "kode",
        "code", "id"),
    2: ("kode_kab", "kd_kab", "kdpkab", "kode_kabkota", "kode_kabupaten", "regency_code", "adm2_pcode", "kode",
        "code", "id"),
}
_NAME_HINTS = {
    1: ("provinsi", "propinsi", "wadmpr", "nama_prov", "nama_provinsi", "province", "province_name", "adm1_id",
        "adm1_en", "name_1", "nama", "name"),
    2: ("kabkot", "kab_kota", "wadmkk", "kabupaten", "nama_kab", "nama_kabkota", "regency", "regency_name",
        "adm2_id", "adm2_en", "name_2", "nama", "name"),
}
REPORT_COLUMNS = ["feature", "code_given", "name_given", "region_code", "official_name", "status",
                  "code_as_is", "name_as_is", "how"]


class BoundaryDownloadError(OSError):
    """A boundary file could not be downloaded (HTTP error, network error)."""


class BoundaryChecksumError(ValueError):
    """A downloaded boundary file does not have the expected SHA-256; it was not kept."""


# =========================================================================== result

@dataclass(repr=False)
class BoundarySet:
    """Boundaries matched to the official Kemendagri codes.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        One row per official region found: ``region_code`` (dotted), ``name`` (official),
        ``geometry``.
    report : DataFrame
        One row per feature of the file: ``feature`` (position), ``code_given``,
        ``name_given``, ``region_code`` (<NA> if unmatched), ``official_name``, ``status``
        (``matched``: the code is official as written; ``repaired``: placed after a fix
        described in ``how``; ``merged``: another shape of a region already found;
        ``unmatched``), ``code_as_is`` / ``name_as_is`` (the value equals the official one
        exactly), ``how`` (what differed and what was done).
    level : {'province', 'regency'}
    missing : tuple of str
        Official codes of the level with no feature.
    source : str
        Where the file came from.
    credit : str or None
        Who to credit on maps (``"denyherianto, CC BY 4.0"`` for the default file).
    code_column, name_column : str or None
        The columns read.
    """

    frame: gpd.GeoDataFrame
    report: pd.DataFrame
    level: str = "province"
    missing: tuple[str, ...] = ()
    source: str = ""
    credit: str | None = None
    code_column: str | None = None
    name_column: str | None = None
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def codes(self) -> list[str]:
        """The official codes present."""
        return self.frame["region_code"].tolist()

    @property
    def problems(self) -> pd.DataFrame:
        """Rows of :attr:`report` that did not match as-is (repaired, merged or unmatched)."""
        r = self.report
        return r.loc[(r["status"] != "matched") | ~r["code_as_is"] | ~r["name_as_is"].fillna(True)]

    def split_status(self) -> pd.DataFrame:
        """The 2022 Papua provinces in this file.

        Returns
        -------
        DataFrame
            One row per new province: ``code, name, parent_code, parent_name, law``,
            ``in_file`` (its own shape is present), ``parent_in_file`` and ``status``:
            ``'own shape'``, ``'under parent'`` (drawn as part of the parent's shape:
            data for it must be aggregated to the parent, e.g. with
            :func:`~kkbm_analysis.regions.province_as_of` and a year before 2022, to be
            mapped), or ``'missing'``.
        """
        names = _official(1)["names"]
        if self.level == "province":
            present = set(self.frame["region_code"])
        else:
            present = {c[:2] for c in self.frame["region_code"]}
        rows = []
        for new, parent in PROVINCE_SPLITS_2022.items():
            own, par = new in present, parent in present
            status = "own shape" if own else ("under parent" if par else "missing")
            rows.append({"code": new, "name": names.get(new), "parent_code": parent,
                         "parent_name": names.get(parent), "law": _SPLIT_LAWS[new], "in_file": own,
                         "parent_in_file": par, "status": status})
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """A readable account of the matching."""
        counts = self.report["status"].value_counts()
        n_official = len(_official(LEVELS[self.level])["names"])
        lines = [
            f"Boundaries ({self.level}): {self.source or 'in-memory frame'}",
            f"Columns read: code = {self.code_column!r}, name = {self.name_column!r}",
            f"{len(self.report)} features -> {len(self.frame)} of {n_official} official {_LEVEL_WORDS[self.level]}; "
            + ", ".join(f"{k} {int(counts.get(k, 0))}" for k in ("matched", "repaired", "merged", "unmatched")),
        ]
        problems = self.problems
        if len(problems):
            lines += ["", "Not as-is in the official list:"]
            for r in problems.itertuples():
                lines.append(f"  feature {r.feature}: code {r.code_given!r}, name {r.name_given!r} -> "
                             f"{r.region_code if pd.notna(r.region_code) else 'UNMATCHED'} [{r.status}]: {r.how}")
        if self.missing:
            names = _official(LEVELS[self.level])["names"]
            shown = ", ".join(f"{c} {names.get(c, '?')}" for c in self.missing[:12])
            more = f" and {len(self.missing) - 12} more" if len(self.missing) > 12 else ""
            lines += ["", f"Official regions without a shape: {shown}{more}"]
        lines += self.notes
        if self.credit:
            lines += ["", f"Credit on maps: {self.credit}"]
        return "\n".join(lines)

    __str__ = summary

    def __repr__(self) -> str:
        return (f"<BoundarySet {self.level}: {len(self.frame)} regions, {len(self.missing)} missing, "
                f"{int((self.report['status'] == 'unmatched').sum())} unmatched features>")


# =========================================================================== official list

@functools.cache
def _official(level: int) -> dict[str, Any]:
    """Official codes, names and name keys of one level (from ``regions.region_table``)."""
    from ..regions import region_table
    table = region_table()
    table = table.loc[table["level"] == level, ["code", "name", "kind"]]
    names = dict(zip(table["code"].astype(str), table["name"].astype(str)))
    by_key: dict[str, list[str]] = {}
    kinds = dict(zip(table["code"].astype(str), table["kind"].astype(str)))
    for code, name in names.items():
        by_key.setdefault(normalise_name(name, level)[0], []).append(code)
    return {"names": names, "by_key": by_key, "kinds": kinds}


# =========================================================================== reading a value

def _is_blank(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value)) or str(value).strip() == ""


def _read_code(value: Any, level: int) -> tuple[str | None, str]:
    """``(dotted code or None, how it was rewritten or '')``."""
    if _is_blank(value):
        return None, ""
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    raw = value.strip() if isinstance(value, str) else value
    how = ""
    if isinstance(raw, str) and raw[:2].upper() == "ID" and raw[2:].replace(".", "").isdigit():
        raw, how = raw[2:], "country prefix 'ID' dropped"
    code = normalise_code(raw)
    if code is None or code.count(".") + 1 != level:
        return None, ""
    if code != str(value).strip() and not how:
        if isinstance(value, (int, float)):
            how = f"code written as a number ({value!r})"
        elif "." not in str(raw) and "." in code:
            how = "code written without dots"
        else:
            how = f"code written as {str(value).strip()!r}"
    return code, how


def _name_candidates(name: Any, level: int, province_hint: str | None) -> tuple[list[str], str | None]:
    """Official codes whose name matches *name*, and the normalised key."""
    if _is_blank(name):
        return [], None
    key, kind = normalise_name(str(name), level)
    off = _official(level)
    found = list(off["by_key"].get(key, []))
    if not found and level == 1 and key in _FORMER_NAMES:
        found = [_FORMER_NAMES[key]]
    if kind is not None:
        found = [c for c in found if off["kinds"][c] == kind]
    if level > 1 and province_hint and len(found) > 1:
        narrowed = [c for c in found if c[:2] == province_hint or PROVINCE_SPLITS_2022.get(c[:2]) == province_hint]
        found = narrowed or found
    return found, key


def _is_split_child(child: str, parent: str) -> bool:
    """Whether region *child* lies in a 2022 province split from *parent*'s province."""
    return PROVINCE_SPLITS_2022.get(child[:2]) == parent[:2] and child[:2] != parent[:2]


def _match_one(code_value: Any, name_value: Any, level: int) -> dict[str, Any]:
    """Resolve one feature (see the module docstring)."""
    off = _official(level)
    code, code_how = _read_code(code_value, level)
    code_ok = code is not None and code in off["names"]
    hint = code[:2] if code else None
    candidates, _ = _name_candidates(name_value, level, hint)
    has_name = not _is_blank(name_value)
    out: dict[str, Any] = {"region_code": None, "status": "unmatched"}
    how: list[str] = []
    name_explained = False
    if code_how and code_ok:
        how.append(f"{code_how} -> {code}")

    if code_ok and (not has_name or code in candidates):
        out.update(region_code=code, status="repaired" if code_how else "matched")
    elif code_ok and candidates:
        split = [c for c in candidates if _is_split_child(c, code)]
        if len(split) == 1:
            new = split[0]
            how.append(f"code {code} ({off['names'][code]}) is the parent of {off['names'][new]} ({new}, "
                       f"{_SPLIT_LAWS.get(new[:2], 'the 2022 split')}): a new province filed under its parent's "
                       f"code; recoded to {new} by the name")
            out.update(region_code=new, status="repaired")
            name_explained = True
        else:
            named = ", ".join(f"{off['names'][c]} ({c})" for c in candidates[:3])
            how.append(f"code {code} is {off['names'][code]} but the name is {named}: not guessed")
    elif code_ok:
        how.append(f"name {str(name_value)!r} is not an official name; placed by its code")
        name_explained = True
        out.update(region_code=code, status="repaired" if code_how else "matched")
    elif len(candidates) == 1:
        why = ("no code" if code_value is None or _is_blank(code_value)
               else f"code {str(code_value)!r} is not an official {_LEVEL_WORD[level]} code")
        how.append(f"{why}; placed by its name -> {candidates[0]}")
        out.update(region_code=candidates[0], status="repaired")
    elif len(candidates) > 1:
        named = ", ".join(f"{off['names'][c]} ({c})" for c in candidates[:4])
        how.append(f"the name fits {len(candidates)} regions ({named}) and the code does not settle it")
    else:
        what = [f"code {str(code_value)!r}" if not _is_blank(code_value) else "no code",
                f"name {str(name_value)!r}" if has_name else "no name"]
        how.append(f"{' and '.join(what)}: no official {_LEVEL_WORD[level]} fits")

    final = out["region_code"]
    if final is not None and has_name:
        official = off["names"][final]
        if str(name_value).strip() != official and final in candidates and not name_explained:
            how.append(f"name {str(name_value)!r} read as {official!r}")
    out["how"] = "; ".join(how)
    return out


_LEVEL_WORD = {1: "province", 2: "regency/city"}
_LEVEL_WORDS = {"province": "provinces", "regency": "regencies/cities"}


# =========================================================================== columns

def _score_codes(series: pd.Series, level: int) -> float:
    values = series.dropna()
    if values.empty:
        return 0.0
    sample = values.astype(object).unique()[:500]
    names = _official(level)["names"]
    hits = sum(1 for v in sample if _read_code(v, level)[0] in names)
    return hits / len(sample)


def _score_names(series: pd.Series, level: int) -> float:
    values = series.dropna()
    if values.empty or not (pd.api.types.is_string_dtype(values) or values.dtype == object):
        return 0.0
    sample = values.astype(str).unique()[:500]
    hits = sum(1 for v in sample if _name_candidates(v, level, None)[0])
    return hits / len(sample)


def _find_column(frame: pd.DataFrame, level: int, which: str) -> str | None:
    """The column whose values are most often official codes (or names) of *level*."""
    hints = (_CODE_HINTS if which == "code" else _NAME_HINTS)[level]
    score = _score_codes if which == "code" else _score_names
    best, best_key = None, (0.0, -1)
    for col in frame.columns:
        if col == frame.geometry.name:
            continue
        s = score(frame[col], level)
        rank = len(hints) - hints.index(col.lower()) if col.lower() in hints else 0
        if s > 0 and (s, rank) > best_key:
            best, best_key = col, (s, rank)
    return best


# =========================================================================== matching

def match_boundaries(frame: gpd.GeoDataFrame, *, level: str = "province", code_col: str | None = None,
                     name_col: str | None = None, source: str = "", credit: str | None = None) -> BoundarySet:
    """Match a GeoDataFrame of boundaries to the official code list, repairing what it can.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        One feature per region (or several per region: they are merged).
    level : {'province', 'regency'}
    code_col, name_col : str, optional
        Columns holding codes and names; default: found by how many values are official
        codes / names of the level. At least one of the two must be found.
    source, credit : str
        Where the file came from and whom maps must credit.

    Returns
    -------
    BoundarySet

    Raises
    ------
    ValueError
        If neither a code nor a name column can be found.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {list(LEVELS)}, not {level!r}")
    lv = LEVELS[level]
    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError(f"expected a GeoDataFrame, not {type(frame).__name__}")
    for col in (code_col, name_col):
        if col is not None and col not in frame.columns:
            raise KeyError(f"column {col!r} not in the boundary file (it has {list(frame.columns)})")
    code_col = code_col or _find_column(frame, lv, "code")
    name_col = name_col or _find_column(frame, lv, "name")
    if code_col is None and name_col is None:
        raise ValueError(f"no column of the boundary file holds {_LEVEL_WORD[lv]} codes or names "
                         f"(columns: {[c for c in frame.columns if c != frame.geometry.name]}); "
                         f"name them with code_col= / name_col=, or check level={level!r}")
    notes = []
    if frame.crs is None:
        frame = frame.set_crs(4326)
        notes.append("The file declares no coordinate reference system; read as WGS84 (EPSG:4326).")

    off = _official(lv)
    rows = []
    for pos in range(len(frame)):
        code_value = frame[code_col].iloc[pos] if code_col else None
        name_value = frame[name_col].iloc[pos] if name_col else None
        result = _match_one(code_value, name_value, lv)
        final = result["region_code"]
        rows.append({
            "feature": pos,
            "code_given": None if _is_blank(code_value) else str(code_value).strip(),
            "name_given": None if _is_blank(name_value) else str(name_value),
            "region_code": final,
            "official_name": off["names"].get(final) if final else None,
            "status": result["status"],
            "code_as_is": (not _is_blank(code_value)) and str(code_value).strip() in off["names"]
                          and str(code_value).strip() == final,
            "name_as_is": None if name_col is None else (final is not None and str(name_value) == off["names"][final]),
            "how": result["how"],
        })
    report = pd.DataFrame(rows, columns=REPORT_COLUMNS)
    report["name_as_is"] = report["name_as_is"].astype("boolean")

    empty = frame.geometry.isna().to_numpy() | frame.geometry.is_empty.to_numpy()
    report.loc[empty & report["region_code"].notna(), "how"] += "; empty geometry"
    seen = report["region_code"].where(~empty)
    dup = seen.notna() & seen.duplicated(keep="first")
    report.loc[dup, "status"] = "merged"
    report.loc[dup, "how"] = report.loc[dup, "how"].str.cat(
        [f"another shape of {c}; merged into one" for c in report.loc[dup, "region_code"]], sep="; "
    ).str.lstrip("; ")

    keep = report["region_code"].notna().to_numpy() & ~empty
    kept = gpd.GeoDataFrame({"region_code": report.loc[keep, "region_code"].to_numpy()},
                            geometry=frame.geometry.to_numpy()[keep], crs=frame.crs)
    if dup.any():
        kept = kept.dissolve(by="region_code", as_index=False)
    kept["name"] = kept["region_code"].map(off["names"])
    kept = kept[["region_code", "name", "geometry"]].sort_values("region_code", ignore_index=True)
    missing = tuple(sorted(set(off["names"]) - set(kept["region_code"])))
    if lv == 1:
        new_missing = [c for c in missing if c in PROVINCE_SPLITS_2022]
        if new_missing and all(PROVINCE_SPLITS_2022[c] in set(kept["region_code"]) for c in new_missing):
            notes.append(f"Provinces {', '.join(new_missing)} (created 2022) have no shape: the file predates the "
                         "Papua split and draws them under 91 Papua / 92 Papua Barat; see split_status().")
    return BoundarySet(frame=kept, report=report, level=level, missing=missing, source=source, credit=credit,
                       code_column=code_col, name_column=name_col, notes=notes)


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _default_credit(path: Path) -> str:
    """Credit for a file: the default source when it is that file, else the file's name."""
    try:
        if path.is_file() and path.stat().st_size < 200 * 2**20 and file_sha256(path) == DEFAULT_SHA256:
            return DEFAULT_CREDIT
    except OSError:
        pass
    if path.name == DEFAULT_FILENAME:
        return DEFAULT_CREDIT
    return path.name


def load_boundaries(path: str | os.PathLike, *, level: str = "province", layer: str | int | None = None,
                    code_col: str | None = None, name_col: str | None = None,
                    credit: str | None = None) -> BoundarySet:
    """Read a boundary file and match it to the official code list.

    Parameters
    ----------
    path : path
        GeoJSON, Shapefile (``.shp`` or a ``.zip``), GeoPackage, or TopoJSON (read by
        GDAL's TopoJSON driver; pass ``layer`` = the topology object's name when the
        file holds several objects), or anything else GDAL reads.
    level : {'province', 'regency'}
        The level of the shapes.
    layer : str or int, optional
        Layer of a multi-layer file (GeoPackage, TopoJSON).
    code_col, name_col : str, optional
        Code and name columns, if the automatic choice is wrong.
    credit : str, optional
        Whom maps must credit; default ``"denyherianto, CC BY 4.0"`` for the default file
        (recognised by its checksum or name), else the file's name.

    Returns
    -------
    BoundarySet
        Shapes with official ``region_code`` and ``name``, and the matching ``report``.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"boundary file not found: {path}")
    kwargs = {} if layer is None else {"layer": layer}
    try:
        frame = gpd.read_file(path, **kwargs)
    except Exception as exc:  # pyogrio's errors name neither the file nor what to do
        raise ValueError(f"cannot read boundary file {path}: {exc}") from exc
    return match_boundaries(frame, level=level, code_col=code_col, name_col=name_col, source=str(path),
                            credit=credit if credit is not None else _default_credit(path))


# =========================================================================== download

def boundaries_dir(root: str | os.PathLike | None = None) -> Path:
    """``data/raw/boundaries`` of the project (see :func:`kkbm_analysis.config.paths`)."""
    from ..config import paths
    return paths(root).raw / "boundaries"


def download_boundaries(url: str = DEFAULT_URL, *, sha256: str | None = DEFAULT_SHA256,
                        dest: str | os.PathLike | None = None, filename: str | None = None,
                        timeout: float = 60.0, force: bool = False) -> Path:
    """Download a public boundary file once, verify its checksum and cache it.

    Nothing in the suite calls this on its own: maps work without boundaries (tile grid).

    Parameters
    ----------
    url : str
        Default: denyherianto's 38-province GeoJSON (CC BY 4.0; credit it on maps).
    sha256 : str or None
        Expected SHA-256 (hex). A mismatch raises :class:`BoundaryChecksumError` and the
        download is not kept. ``None`` skips the check (a warning gives the hash to pin).
    dest : path, optional
        Cache folder (default ``data/raw/boundaries``).
    filename : str, optional
        Name of the cached file (default: the last part of the URL).
    timeout : float
        Seconds to wait for the server.
    force : bool
        Download even if a verified copy is cached.

    Returns
    -------
    Path
        The cached file. If it is already there and matches *sha256*, nothing is downloaded.

    Raises
    ------
    BoundaryDownloadError
        HTTP or network failure (nothing is written).
    BoundaryChecksumError
        The file downloaded is not the expected one (nothing is written).
    """
    dest = Path(dest) if dest is not None else boundaries_dir()
    name = filename or Path(urllib.parse.urlparse(url).path).name or DEFAULT_FILENAME
    if Path(name).name != name:
        raise ValueError(f"filename must be a plain file name, not {name!r}")
    target = dest / name
    expected = sha256.lower() if sha256 else None
    if target.exists() and not force:
        if expected is None or file_sha256(target) == expected:
            return target
        warnings.warn(f"cached {target} does not have the expected SHA-256; downloading it again", stacklevel=2)
    dest.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=dest)
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(handle, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": "kkbm-analysis"})
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - user-chosen URL
                    for chunk in iter(lambda: response.read(1 << 16), b""):
                        digest.update(chunk)
                        out.write(chunk)
            except urllib.error.HTTPError as exc:
                raise BoundaryDownloadError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from exc
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                raise BoundaryDownloadError(f"download of {url} failed: {reason} (no network? pass a local file "
                                            f"with {ENV_VAR} or load_boundaries(path))") from exc
        actual = digest.hexdigest()
        if expected is not None and actual != expected:
            raise BoundaryChecksumError(
                f"the file at {url} has SHA-256 {actual}, not the expected {expected}; it was not kept. "
                "If the source changed on purpose, check the new file and pass its sha256= (or sha256=None)")
        if expected is None:
            warnings.warn(f"{url} downloaded without a checksum; its SHA-256 is {actual} (pass sha256= to pin it)",
                          stacklevel=2)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def resolve_boundaries(path: str | os.PathLike | None = None, *,
                       root: str | os.PathLike | None = None) -> Path | None:
    """The boundary file a map should use, or None for the tile grid.

    Order: *path* > the ``KKBM_BOUNDARIES`` environment variable > the default file
    cached by :func:`download_boundaries` in ``data/raw/boundaries/`` > None.

    Raises
    ------
    FileNotFoundError
        If *path* or ``KKBM_BOUNDARIES`` names a file that does not exist (a typo should
        not silently give a tile grid).
    """
    if path is not None:
        chosen = Path(path).expanduser()
        if not chosen.exists():
            raise FileNotFoundError(f"boundary file not found: {chosen}")
        return chosen
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        chosen = Path(env).expanduser()
        if not chosen.exists():
            raise FileNotFoundError(f"{ENV_VAR} names a file that does not exist: {chosen}")
        return chosen
    cached = boundaries_dir(root) / DEFAULT_FILENAME
    return cached if cached.is_file() else None
