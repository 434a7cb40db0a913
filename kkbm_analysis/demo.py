"""The main job on the embedded SYNTHETIC demo data.

generate raw files (:mod:`.synth`) -> ingest and validate (:mod:`.ingest`) -> processed
Parquet + data-quality summary -> the analysis products (:mod:`.analyse`), then check
that the quarantine holds exactly the
defects the generator planted (``expected_quarantine.csv``) and the findings the
malformed NIKs it planted (``expected_findings.csv``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from .config import DEFAULT_SEED, Paths
from .analyse import analyse
from .ingest import IngestResult, ingest

KEYS = ["file", "sheet", "row"]


@dataclass(frozen=True)
class DemoReport:
    """Outcome of :func:`run_demo`."""

    result: IngestResult
    missed: pd.DataFrame      # planted defects the ingest did not quarantine (or not for that rule)
    unexpected: pd.DataFrame  # quarantined rows that were not planted
    raw_dir: Path
    processed_dir: Path

    @property
    def ok(self) -> bool:
        return self.missed.empty and self.unexpected.empty and not self.result.errors

    @property
    def text(self) -> str:
        lines = ["SYNTHETIC DEMO DATA", self.result.summary()]
        if self.ok:
            lines.append(f"every quarantined row is a planted defect ({self.result.quarantine[KEYS].drop_duplicates().shape[0]:,}"
                         " rows, matching expected_quarantine.csv)")
        if len(self.missed):
            lines.append(f"{len(self.missed)} planted defect(s) NOT caught, e.g.:\n"
                         + self.missed.head(10).to_string(index=False))
        if len(self.unexpected):
            lines.append(f"{len(self.unexpected)} row(s) quarantined that were not planted, e.g.:\n"
                         + self.unexpected.head(10).to_string(index=False))
        lines.append(f"raw: {self.raw_dir}\nprocessed: {self.processed_dir} (see data_quality.md; "
                     "the analysis products: products.json)")
        return "\n".join(lines)


def run_demo(paths: Paths, *, seed: int = DEFAULT_SEED, scale: str | float = "demo",
             progress: Callable[..., Any] | None = None) -> DemoReport:
    """Generate, ingest and check the demo data under the project's data folders."""
    from .synth import generate_demo
    raw_dir, processed_dir = paths.demo_raw(), paths.demo_processed()
    generate_demo(raw_dir, seed=seed, scale=scale)
    result = ingest(raw_dir, processed_dir, progress=progress)
    analyse(processed_dir)
    missed, unexpected = compare_quarantine(result.quarantine, pd.read_csv(raw_dir / "expected_quarantine.csv",
                                                                           keep_default_na=False))
    return DemoReport(result, missed, unexpected, raw_dir, processed_dir)


def compare_quarantine(quarantine: pd.DataFrame, expected: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Planted defects not caught under their rule, and quarantined rows not planted."""
    got = quarantine[KEYS + ["rule"]].astype({"row": "int64", "sheet": str, "file": str})
    exp = expected[KEYS + ["rule"]].astype({"row": "int64", "sheet": str, "file": str})
    caught = exp.merge(got, on=KEYS + ["rule"], how="left", indicator=True)
    missed = caught[caught["_merge"] == "left_only"].drop(columns="_merge")
    rows = got[KEYS].drop_duplicates().merge(exp[KEYS].drop_duplicates(), on=KEYS, how="left", indicator=True)
    unexpected = rows[rows["_merge"] == "left_only"][KEYS].merge(got, on=KEYS)
    return missed.reset_index(drop=True), unexpected.reset_index(drop=True)
