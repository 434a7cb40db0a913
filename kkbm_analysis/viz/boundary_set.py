"""The result of matching a boundary file: :class:`BoundarySet`, and the official code list it is held against.

See :mod:`.boundaries` for reading, downloading and the whole story; :mod:`.boundary_matching` for how
each feature is matched.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from ..regions import PROVINCE_SPLITS_2022, normalise_name

__all__ = ["BoundarySet", "LEVELS", "LEVEL_WORD", "LEVEL_WORDS", "SPLIT_LAWS", "official_regions"]

#: Supported levels and their Kemendagri code level.
LEVELS = {"province": 1, "regency": 2}
#: The laws that created the 2022 Papua provinces.
SPLIT_LAWS = {"93": "UU 14/2022", "94": "UU 15/2022", "95": "UU 16/2022", "96": "UU 29/2022"}
LEVEL_WORD = {1: "province", 2: "regency/city"}
LEVEL_WORDS = {"province": "provinces", "regency": "regencies/cities"}


# =========================================================================== official list

@functools.cache
def official_regions(level: int) -> dict[str, Any]:
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
        names = official_regions(1)["names"]
        if self.level == "province":
            present = set(self.frame["region_code"])
        else:
            present = {c[:2] for c in self.frame["region_code"]}
        rows = []
        for new, parent in PROVINCE_SPLITS_2022.items():
            own, par = new in present, parent in present
            status = "own shape" if own else ("under parent" if par else "missing")
            rows.append({"code": new, "name": names.get(new), "parent_code": parent,
                         "parent_name": names.get(parent), "law": SPLIT_LAWS[new], "in_file": own,
                         "parent_in_file": par, "status": status})
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """A readable account of the matching."""
        counts = self.report["status"].value_counts()
        n_official = len(official_regions(LEVELS[self.level])["names"])
        lines = [
            f"Boundaries ({self.level}): {self.source or 'in-memory frame'}",
            f"Columns read: code = {self.code_column!r}, name = {self.name_column!r}",
            f"{len(self.report)} features -> {len(self.frame)} of {n_official} official {LEVEL_WORDS[self.level]}; "
            + ", ".join(f"{k} {int(counts.get(k, 0))}" for k in ("matched", "repaired", "merged", "unmatched")),
        ]
        problems = self.problems
        if len(problems):
            lines += ["", "Not as-is in the official list:"]
            for r in problems.itertuples():
                lines.append(f"  feature {r.feature}: code {r.code_given!r}, name {r.name_given!r} -> "
                             f"{r.region_code if pd.notna(r.region_code) else 'UNMATCHED'} [{r.status}]: {r.how}")
        if self.missing:
            names = official_regions(LEVELS[self.level])["names"]
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
