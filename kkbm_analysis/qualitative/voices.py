"""Processed qualitative data (the output of :func:`.ingest.ingest_voices`) as DataFrames.

::

    from kkbm_analysis.qualitative import Voices
    voices = Voices.load("data/processed/voices-demo")
    voices.sources, voices.segments, voices.codings     # tables
    voices.coded()                                      # one row per coding, with source fields
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..io import ManifestFacts

__all__ = ["Voices", "TABLES"]

TABLES = ("sources", "segments", "codes", "codings", "attributes", "cases", "themes")
SOURCE_FIELDS = ["province_code", "regency_code", "community_id", "role", "sex", "source_type", "collected_on",
                 "consent", "publishable", "file"]


@dataclass
class Voices(ManifestFacts):
    """Coded, redacted qualitative evidence.

    Attributes
    ----------
    sources, segments, codes, codings, attributes, cases, themes : DataFrame
        The processed tables (see :mod:`kkbm_analysis.qualitative.ingest`).
    manifest : dict
    synthetic : bool
        True for the synthetic demo corpus (every output made from it says so).
    """

    sources: pd.DataFrame
    segments: pd.DataFrame
    codes: pd.DataFrame
    codings: pd.DataFrame
    attributes: pd.DataFrame
    cases: pd.DataFrame
    themes: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)



    @classmethod
    def load(cls, folder: str | Path) -> "Voices":
        """Read a folder written by :func:`~kkbm_analysis.qualitative.ingest_voices`.

        Raises
        ------
        FileNotFoundError
            The folder or one of its tables is missing (the message names it).
        """
        folder = Path(folder)
        missing = [t for t in TABLES if not (folder / f"{t}.parquet").exists()]
        if missing:
            raise FileNotFoundError(f"{folder} is not a processed voices folder: missing "
                                    f"{', '.join(m + '.parquet' for m in missing)} (run `kkbm voices ingest`)")
        tables = {t: pd.read_parquet(folder / f"{t}.parquet") for t in TABLES}
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        return cls(**tables, manifest=manifest)

    @classmethod
    def from_ingest(cls, result: Any) -> "Voices":
        """The tables of an :class:`~kkbm_analysis.qualitative.ingest.VoicesIngest` without a file round trip."""
        return cls(**{t: result.tables[t] for t in TABLES}, manifest=result.manifest)

    def theme_label(self, theme_id: str, lang: str = "en") -> str:
        hit = self.themes.loc[self.themes["theme_id"] == theme_id, f"label_{lang}"]
        return str(hit.iloc[0]) if len(hit) else str(theme_id)

    def theme_ancestors(self) -> dict[str, list[str]]:
        """theme -> [theme, parent, grandparent...]."""
        parent = dict(zip(self.themes["theme_id"], self.themes["parent_id"]))
        out = {}
        for t in parent:
            chain, cur = [], t
            while cur is not None and not pd.isna(cur) and cur not in chain:
                chain.append(cur)
                cur = parent.get(cur)
            out[t] = chain
        return out

    def coded(self, *, roll_up: bool = True) -> pd.DataFrame:
        """One row per coding with its segment, source fields and theme.

        With ``roll_up`` a coding of a sub-theme also counts for every parent theme (one
        extra row per ancestor, ``rolled_up`` True), so a theme's prevalence includes its
        sub-themes.
        """
        seg = self.segments[["segment_id", "start", "end", "publishable"]]
        out = self.codings.merge(seg, on="segment_id", how="left")
        out = out.merge(self.sources[["source_id", *SOURCE_FIELDS]].rename(columns={"publishable": "source_publishable"}),
                        on="source_id", how="left")
        out["rolled_up"] = False
        if roll_up:
            anc = self.theme_ancestors()
            extra = [row | {"theme_id": a, "rolled_up": True} for row in out.to_dict("records")
                     if isinstance(row["theme_id"], str) for a in anc.get(row["theme_id"], [])[1:]]
            if extra:
                out = pd.concat([out, pd.DataFrame(extra)], ignore_index=True)
        return out.astype({"theme_id": "string"})

    def __repr__(self) -> str:
        flag = "SYNTHETIC " if self.synthetic else ""
        return (f"<{flag}Voices: {len(self.sources)} sources, {len(self.segments)} segments, {len(self.codings)} "
                f"codings, {self.codes['theme_id'].notna().sum()} of {len(self.codes)} codes mapped to themes>")
