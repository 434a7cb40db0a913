"""The processed tables as DuckDB relations, for the indicator engine.

A :class:`Source` is a DuckDB connection with one view per processed table, read either
from a :class:`~kkbm_analysis.data.ProgramData` already in memory (its frames, through
Arrow, without copying them) or straight from a processed folder's Parquet files (the
hive-style ``<table>/province=<code>/part-0.parquet`` partitions or one file per table;
:func:`kkbm_analysis.store.table_files`), so that an indicator call on a folder reads only
the columns its SQL uses. A table the data lack is an empty relation with the schema's
columns. The region table ``_regions`` maps each community to its region at every level
(see :meth:`Source.regions`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from ..io import ManifestFacts
from ..data import NATIONAL_CODE, REGION_LEVELS, ProgramData
from ..store import ProcessedDataError, check_processed, empty_table, read_table, table_files

__all__ = ["Source", "TABLES_USED"]

#: The processed tables the indicators read.
TABLES_USED: tuple[str, ...] = ("communities", "members", "businesses", "business_reports", "groups", "kur_loans",
                                "consultations", "info_services", "advocacy_cases", "prevention_events")


def _arrow(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


class Source(ManifestFacts):
    """A DuckDB connection over the processed tables of a :class:`ProgramData` or a processed folder.

    Parameters
    ----------
    data : ProgramData, str or Path
        Tables in memory, or a folder written by ``kkbm ingest``.

    Attributes
    ----------
    con : duckdb.DuckDBPyConnection
        One view per table of :data:`TABLES_USED`.
    manifest : dict
        The ingest manifest (synthetic flag, data version).
    communities : DataFrame
        The communities table (small; the region codes of every level come from it).
    """

    def __init__(self, data: ProgramData | str | Path) -> None:
        self.con = duckdb.connect()
        self.folder = None if isinstance(data, ProgramData) else Path(data)
        if isinstance(data, ProgramData):
            self.manifest = data.manifest
            self.communities = data.communities
            for name in TABLES_USED:
                self.con.register(name, _arrow(data.tables[name]))
        else:
            folder = Path(data)
            self.manifest = check_processed(folder, footers=False)  # DuckDB reads the footers (see :meth:`sql`)
            self.communities = read_table(folder, "communities")
            for name in TABLES_USED:
                files = ", ".join("'" + str(f).replace("'", "''") + "'" for f in table_files(folder, name))
                if files:
                    self.sql(f"CREATE VIEW {name} AS SELECT * FROM read_parquet([{files}], hive_partitioning = false)")
                else:
                    self.con.register(name, _arrow(empty_table(name)))
        self._levels: dict[str, np.ndarray] = {}

    def sql(self, query: str) -> pd.DataFrame:
        """Run a query; a Parquet file DuckDB cannot read is reported in plain words.

        Raises
        ------
        kkbm_analysis.store.ProcessedDataError
            A file of the processed folder is damaged or truncated.
        """
        try:
            result = self.con.execute(query)
            return result.df() if result.description else pd.DataFrame()
        except (duckdb.IOException, duckdb.InvalidInputException) as exc:
            if self.folder is None:
                raise
            raise ProcessedDataError(f"a Parquet file in {self.folder} cannot be read ({type(exc).__name__}: "
                                     f"{str(exc).splitlines()[0][:200]}); run `kkbm ingest` again") from None



    def close(self) -> None:
        self.con.close()

    def regions(self, levels: list[str]) -> dict[str, np.ndarray]:
        """Register ``_regions``: ``community_id`` and, per level, ``r_<level>`` (the region's
        index in the sorted region codes; NULL where the community has no code at that level).

        Returns the region codes of each level (national: :data:`NATIONAL_CODE`). A community
        id given twice counts once, with its first row.
        """
        comm = self.communities.drop_duplicates("community_id").reset_index(drop=True)
        columns: dict[str, Any] = {"community_id": comm["community_id"].astype("string")}
        for level in levels:
            col = REGION_LEVELS[level]
            if col is None:
                codes, uniques = np.zeros(len(comm), dtype=np.int64), np.array([NATIONAL_CODE], dtype=object)
            else:
                codes, uniques = pd.factorize(comm[col].astype("string"), sort=True, use_na_sentinel=True)
                uniques = np.asarray(uniques, dtype=object)
            columns[f"r_{level}"] = pd.Series(codes, dtype="Int32").where(codes >= 0)
            self._levels[level] = uniques
        frame = pd.DataFrame(columns).dropna(subset=["community_id"])
        self.con.register("_regions", _arrow(frame))
        return {level: self._levels[level] for level in levels}
