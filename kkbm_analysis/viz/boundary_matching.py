"""Matching a boundary file's features to the official code list, repairing what can be repaired.

How codes and names are read, which columns hold them, and what is done when they disagree: see the
module docstring of :mod:`.boundaries` ("Matching and repair").
"""
from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..regions import PROVINCE_SPLITS_2022, normalise_code, normalise_name
from .boundary_set import LEVEL_WORD, LEVELS, SPLIT_LAWS, BoundarySet, official_regions

__all__ = ["match_boundaries", "REPORT_COLUMNS"]

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
    off = official_regions(level)
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
    off = official_regions(level)
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
                       f"{SPLIT_LAWS.get(new[:2], 'the 2022 split')}): a new province filed under its parent's "
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
               else f"code {str(code_value)!r} is not an official {LEVEL_WORD[level]} code")
        how.append(f"{why}; placed by its name -> {candidates[0]}")
        out.update(region_code=candidates[0], status="repaired")
    elif len(candidates) > 1:
        named = ", ".join(f"{off['names'][c]} ({c})" for c in candidates[:4])
        how.append(f"the name fits {len(candidates)} regions ({named}) and the code does not settle it")
    else:
        what = [f"code {str(code_value)!r}" if not _is_blank(code_value) else "no code",
                f"name {str(name_value)!r}" if has_name else "no name"]
        how.append(f"{' and '.join(what)}: no official {LEVEL_WORD[level]} fits")

    final = out["region_code"]
    if final is not None and has_name:
        official = off["names"][final]
        if str(name_value).strip() != official and final in candidates and not name_explained:
            how.append(f"name {str(name_value)!r} read as {official!r}")
    out["how"] = "; ".join(how)
    return out


# =========================================================================== columns

def _score_codes(series: pd.Series, level: int) -> float:
    values = series.dropna()
    if values.empty:
        return 0.0
    sample = values.astype(object).unique()[:500]
    names = official_regions(level)["names"]
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
        raise ValueError(f"no column of the boundary file holds {LEVEL_WORD[lv]} codes or names "
                         f"(columns: {[c for c in frame.columns if c != frame.geometry.name]}); "
                         f"name them with code_col= / name_col=, or check level={level!r}")
    notes = []
    if frame.crs is None:
        frame = frame.set_crs(4326)
        notes.append("The file declares no coordinate reference system; read as WGS84 (EPSG:4326).")

    off = official_regions(lv)
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
