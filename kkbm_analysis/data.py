"""Processed programme data as one object, with the joins every analysis needs.

:class:`ProgramData` holds the processed tables of one ingest (read by :mod:`.store`)
and knows how to attach to any row the region of its community (province, regency,
district, village, community) and a reporting period (year, quarter, month). Indicators,
barrier factors and models all start from it::

    import kkbm_analysis as kk
    data = kk.ProgramData.load("data/processed/demo")
    data.members            # a DataFrame
    data.with_regions(data.businesses)   # + province_code ... community_id
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .io import ManifestFacts
from .regions import NATIONAL_CODE  # noqa: F401  (re-exported: analyses import it from here)
from .schema import TABLE_ORDER
from .store import empty_table, load_processed, read_manifest

#: Region levels from coarsest to finest, and the column holding each level's code.
REGION_LEVELS: dict[str, str | None] = {
    "national": None,
    "province": "province_code",
    "regency": "regency_code",
    "district": "district_code",
    "village": "village_code",
    "community": "community_id",
}
PERIODS = ("year", "quarter", "month")
#: The columns holding a member id that analyses look up among the members (:meth:`ProgramData.member_rows`).
MEMBER_REFERENCES: tuple[tuple[str, str], ...] = (
    ("attendance", "member_id"), ("stages", "member_id"), ("kur_loans", "member_id"), ("businesses", "owner_member_id"))
Period = Literal["year", "quarter", "month"]


def period_label(dates: pd.Series, period: Period | None) -> pd.Series:
    """Reporting-period labels: ``'2017'``, ``'2017-Q3'`` or ``'2017-07'`` (``'all'`` for None).

    Parameters
    ----------
    dates : Series of datetime64
    period : {'year', 'quarter', 'month'} or None
    """
    if period is None:
        return pd.Series("all", index=dates.index, dtype="string")
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS} or None, not {period!r}")
    dates = pd.to_datetime(dates)
    if period == "year":
        out = dates.dt.year.astype("Int64").astype("string")
    elif period == "quarter":
        out = dates.dt.year.astype("Int64").astype("string") + "-Q" + dates.dt.quarter.astype("Int64").astype("string")
    else:
        out = dates.dt.strftime("%Y-%m").astype("string")
    return out


def region_column(level: str) -> str | None:
    """The column holding codes of a region level (``None`` for national)."""
    if level not in REGION_LEVELS:
        raise ValueError(f"level must be one of {list(REGION_LEVELS)}, not {level!r}")
    return REGION_LEVELS[level]


@dataclass
class ProgramData(ManifestFacts):
    """The processed tables of one ingest.

    Attributes
    ----------
    tables : dict of DataFrame
        Table name -> DataFrame (missing tables are empty frames with the schema's columns).
    manifest : dict
        The ingest manifest (data version, synthetic flag, package version...).
    """

    tables: dict[str, pd.DataFrame]
    manifest: dict[str, Any] = field(default_factory=dict)
    _member_rows: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def load(cls, processed_dir: str | Path, *, require: tuple[str, ...] = (),
             arrow: tuple[str, ...] = ()) -> "ProgramData":
        """Read a processed folder written by :func:`kkbm_analysis.ingest`.

        Parameters
        ----------
        processed_dir : path
        require : tuple of str
            Tables that must be present with rows, e.g. ``("communities", "members")``.
        arrow : tuple of str
            Tables kept in Arrow's types (:func:`kkbm_analysis.store.read_table`), for those only DuckDB reads.

        Raises
        ------
        kkbm_analysis.store.ProcessedDataError
            Not a processed folder, a table missing or damaged (the message says which).
        """
        tables = load_processed(processed_dir, require=require, arrow=arrow)
        return cls(tables, read_manifest(processed_dir) or {})

    def __post_init__(self) -> None:
        for name in TABLE_ORDER:
            if name not in self.tables:
                self.tables[name] = empty_table(name)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def __repr__(self) -> str:
        counts = ", ".join(f"{t}={len(df):,}" for t, df in self.tables.items() if len(df))
        flag = " SYNTHETIC" if self.synthetic else ""
        return f"<ProgramData{flag} data_version={self.data_version} {counts}>"



    # ------------------------------------------------------------------ joins
    def member_rows(self, table: str, column: str = "member_id") -> np.ndarray:
        """The row of each row's member in ``members`` (``-1`` when absent or missing), as int64.

        The member ids are integer codes from then on: on first use, the columns of
        :data:`MEMBER_REFERENCES` are all placed among the members at once (hashing the
        members' ids once, :func:`kkbm_analysis.codes.positions_of`), and kept. A table
        replaced in ``tables`` since is placed again; the frames themselves are read-only.
        """
        from .codes import positions_of

        members, cache = self.tables["members"], self._member_rows
        if cache.get("members") is not members:
            cache.clear()
            cache["members"] = members

        def stale(ref: tuple[str, str]) -> bool:
            frame = self.tables.get(ref[0])
            return frame is not None and ref[1] in frame.columns and (
                ref not in cache or cache[ref][0] is not frame or len(cache[ref][1]) != len(frame))
        wanted = [ref for ref in dict.fromkeys([(table, column), *MEMBER_REFERENCES]) if stale(ref)]
        if wanted:
            found = positions_of([self.tables[t][c] for t, c in wanted], members["member_id"])
            cache.update({ref: (self.tables[ref[0]], at) for ref, at in zip(wanted, found)})
        return cache[(table, column)][1]

    def community_regions(self) -> pd.DataFrame:
        """community_id -> province/regency/district/village codes and programme."""
        cols = ["community_id", "province_code", "regency_code", "district_code", "village_code", "program"]
        return self.communities[cols].drop_duplicates("community_id")

    def with_regions(self, df: pd.DataFrame) -> pd.DataFrame:
        """Add the community's region codes and programme to rows carrying ``community_id``.

        Rows keyed by a member or business get their community first with
        :meth:`with_member` or :meth:`with_business`.
        """
        if "community_id" not in df.columns:
            raise ValueError("with_regions needs a community_id column; use with_member or with_business first")
        drop = [c for c in ("province_code", "regency_code", "district_code", "village_code", "program")
                if c in df.columns]
        return df.drop(columns=drop).merge(self.community_regions(), on="community_id", how="left")

    def with_member(self, df: pd.DataFrame, columns: tuple[str, ...] = ("community_id", "sex", "status"),
                    *, on: str = "member_id") -> pd.DataFrame:
        """Add member attributes (community, sex, status...) to rows keyed by a member id."""
        cols = [c for c in columns if c not in df.columns or c == on]
        right = self.members[["member_id", *[c for c in cols if c != "member_id"]]]
        return df.merge(right.rename(columns={"member_id": on}), on=on, how="left")

    def with_business(self, df: pd.DataFrame, columns: tuple[str, ...] = ("community_id", "owner_member_id",
                                                                          "sector")) -> pd.DataFrame:
        """Add business attributes to rows keyed by ``business_id``."""
        cols = [c for c in columns if c not in df.columns]
        return df.merge(self.businesses[["business_id", *cols]], on="business_id", how="left")
