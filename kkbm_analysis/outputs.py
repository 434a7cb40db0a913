"""Analysis tables written beside the processed data, for analysts outside Python.

After an ingest, the main job writes into the processed folder:

``indicators.parquet`` (and ``.csv``)
    Every registry indicator, national and by province, per year and for the whole
    span, overall and by sex and member status, with Wilson intervals, after small-cell
    suppression (primary and secondary): the published view.
``barrier_profiles.parquet`` (and ``.csv``)
    Every province's barrier profile (value, national benchmark, verdict and a sentence
    in Indonesian and English), for the whole record and per year.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .barriers import barrier_profiles
from .data import ProgramData
from .indicators import indicator_table, publish
from .io import write_csv, write_parquet
from .suppression import PublishedTable, write_published_csv, write_published_parquet


@dataclass(frozen=True)
class AnalysisOutputs:
    """What :func:`write_analysis_tables` wrote."""

    indicators: PublishedTable
    barrier_profiles: pd.DataFrame
    files: tuple[Path, ...]


def write_analysis_tables(data: ProgramData, processed_dir: str | Path) -> AnalysisOutputs:
    """Compute, suppress and write the indicator table and barrier profiles.

    Parameters
    ----------
    data : ProgramData
        The processed data (usually ``ProgramData.load(processed_dir)``).
    processed_dir : path
        Folder to write into (each file atomically).
    """
    processed_dir = Path(processed_dir)
    table = indicator_table(data, levels=("national", "province"), periods=("year", None),
                            by=(None, "sex", "status"))
    published = publish(table, data)
    profiles = pd.concat([barrier_profiles(data, level="province", period=None),
                          barrier_profiles(data, level="province", period="year")], ignore_index=True)
    meta = {"synthetic": str(data.synthetic).lower(), "data_version": data.data_version}
    files = (write_published_parquet(published, processed_dir / "indicators.parquet"),
             write_published_csv(published, processed_dir / "indicators.csv"))
    write_parquet(profiles, processed_dir / "barrier_profiles.parquet", meta)
    write_csv(profiles, processed_dir / "barrier_profiles.csv")
    files += (processed_dir / "barrier_profiles.parquet", processed_dir / "barrier_profiles.csv")
    return AnalysisOutputs(published, profiles, files)
