"""The main job on the embedded SYNTHETIC demo data, and its checks.

:func:`run_demo` runs everything synthetic, each part into its own folders:

* the programme registers: raw files (:func:`kkbm_analysis.synth.generate_demo`, into
  ``data/raw/demo``) -> ingest and validate (:mod:`.ingest`) -> processed Parquet and the
  data-quality summary (``data/processed/demo``) -> the analysis products
  (:mod:`.analyse`, after the voices so their prevalence is among them);
* the voices corpus (:func:`run_voices_demo`): coded interviews and focus groups
  (:func:`kkbm_analysis.synth.generate_voices_demo`, drawn from the processed registers, into
  ``data/raw/demo-voices``) -> :func:`kkbm_analysis.qualitative.ingest_voices`
  (``data/processed/demo-voices``).

Then it checks that the demo is exact: each quarantine holds exactly the defects its
generator planted (``expected_quarantine.csv`` in each raw folder), and the ingest notes
name exactly the malformed NIKs planted in the registers (``expected_ingest_notes.csv``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from .analyse import analyse
from .config import DEFAULT_SEED, Paths
from .data import ProgramData
from .ingest import IngestResult, ingest
from .qualitative import VoicesIngest, ingest_voices
from .synth import generate_demo, generate_voices_demo

KEYS = ["file", "sheet", "row"]
#: The rule of the ingest notes the generator plants (a NIK typed with 15 digits).
PLANTED_NOTE_RULE = "invalid_nik"


@dataclass(frozen=True)
class VoicesDemoReport:
    """Outcome of :func:`run_voices_demo`.

    Attributes
    ----------
    result : VoicesIngest
    planted, quarantined : DataFrame
        ``file, rule, count``: the defects the generator planted, and what the ingest
        quarantined, per file and rule.
    raw_dir, processed_dir : Path
    """

    result: VoicesIngest
    planted: pd.DataFrame
    quarantined: pd.DataFrame
    raw_dir: Path
    processed_dir: Path

    @property
    def ok(self) -> bool:
        """True when the quarantine holds exactly the planted defects."""
        return self.quarantined.equals(self.planted)

    @property
    def text(self) -> str:
        check = ("every quarantined item is a planted defect (matching expected_quarantine.csv)" if self.ok else
                 f"quarantine differs from the planted defects:\n{self.quarantined.to_string(index=False)}\n"
                 f"planted (expected_quarantine.csv):\n{self.planted.to_string(index=False)}")
        return "\n".join(["SYNTHETIC DEMO DATA (voices)", self.result.summary(), check,
                          f"raw: {self.raw_dir}\nprocessed: {self.processed_dir} (see notes.md)"])


@dataclass(frozen=True)
class DemoReport:
    """Outcome of :func:`run_demo`.

    Attributes
    ----------
    result : IngestResult
        The registers' ingest.
    missed : DataFrame
        Planted defects the ingest did not quarantine (or not for that rule).
    unexpected : DataFrame
        Quarantined rows that were not planted.
    notes_missed, notes_unexpected : DataFrame
        Planted malformed NIKs not in the ingest notes, and notes of that rule not planted.
    raw_dir, processed_dir : Path
    voices : VoicesDemoReport, optional
        The voices corpus (None when it was not run).
    """

    result: IngestResult
    missed: pd.DataFrame
    unexpected: pd.DataFrame
    raw_dir: Path
    processed_dir: Path
    notes_missed: pd.DataFrame
    notes_unexpected: pd.DataFrame
    voices: VoicesDemoReport | None = None

    @property
    def ok(self) -> bool:
        tabular = (self.missed.empty and self.unexpected.empty and self.notes_missed.empty
                   and self.notes_unexpected.empty and not self.result.errors)
        return tabular and (self.voices is None or self.voices.ok)

    @property
    def text(self) -> str:
        lines = ["SYNTHETIC DEMO DATA", self.result.summary()]
        if self.missed.empty and self.unexpected.empty:
            lines.append(f"every quarantined row is a planted defect ({self.result.quarantine[KEYS].drop_duplicates().shape[0]:,}"
                         " rows, matching expected_quarantine.csv)")
        if len(self.missed):
            lines.append(f"{len(self.missed)} planted defect(s) NOT caught, e.g.:\n"
                         + self.missed.head(10).to_string(index=False))
        if len(self.unexpected):
            lines.append(f"{len(self.unexpected)} row(s) quarantined that were not planted, e.g.:\n"
                         + self.unexpected.head(10).to_string(index=False))
        for frame, what in ((self.notes_missed, "planted malformed NIK(s) NOT in ingest_notes.csv"),
                            (self.notes_unexpected, f"{PLANTED_NOTE_RULE} note(s) in ingest_notes.csv not planted")):
            if len(frame):
                lines.append(f"{len(frame)} {what}, e.g.:\n" + frame.head(10).to_string(index=False))
        lines.append(f"raw: {self.raw_dir}\nprocessed: {self.processed_dir} (see data_quality.md; "
                     "the analysis products: products.json)")
        if self.voices is not None:
            lines += ["", self.voices.text]
        return "\n".join(lines)


def run_demo(paths: Paths, *, seed: int = DEFAULT_SEED, scale: str | float = "demo",
             progress: Callable[..., Any] | None = None, voices: bool = True) -> DemoReport:
    """Generate, ingest and check the demo data under the project's data folders.

    Parameters
    ----------
    paths : Paths
        The project's folders (resolved once by the caller).
    seed : int
        Seed of every synthetic draw (registers, survey and voices).
    scale : {"demo", "national"} or float
        Size of the registers (see :func:`kkbm_analysis.synth.generate_demo`).
    progress : callable, optional
        Progress callback of the ingest.
    voices : bool
        Also run the voices corpus (:func:`run_voices_demo`), drawn from these registers.
    """
    raw_dir, processed_dir = paths.demo_raw(), paths.demo_processed()
    synth = generate_demo(raw_dir, seed=seed, scale=scale)
    result = ingest(raw_dir, processed_dir, progress=progress)
    data = ProgramData(dict(result.tables), dict(result.manifest))  # the tables just written: no reload
    missed, unexpected = compare_quarantine(result.quarantine, synth.expected_quarantine)
    notes_missed, notes_unexpected = compare_notes(result.notes, synth.expected_ingest_notes)
    voices_report = run_voices_demo(paths, seed=seed, data=data) if voices else None
    analyse(processed_dir, data=data)  # after the voices, so their prevalence is a product too
    return DemoReport(result, missed, unexpected, raw_dir, processed_dir, notes_missed, notes_unexpected,
                      voices_report)


def run_voices_demo(paths: Paths, *, seed: int = DEFAULT_SEED, data: ProgramData | None = None) -> VoicesDemoReport:
    """Generate the SYNTHETIC voices corpus, ingest it and compare its quarantine with the planted defects.

    Parameters
    ----------
    paths : Paths
        Raw files go to ``data/raw/demo-voices``, processed tables to ``data/processed/demo-voices``
        (apart from the registers' folders: the tabular ingest never sees them).
    seed : int
    data : ProgramData, optional
        The processed registers the corpus is drawn from (default: the registers of ``seed``
        without the file round trip, :func:`kkbm_analysis.synth.program_data`).
    """
    raw_dir, processed_dir = paths.demo_voices_raw(), paths.demo_voices_processed()
    generate_voices_demo(raw_dir, seed=seed, data=data)
    result = ingest_voices(raw_dir, processed_dir)
    planted = _per_file_and_rule(pd.read_csv(raw_dir / "expected_quarantine.csv", encoding="utf-8-sig"))
    quarantined = _per_file_and_rule(result.quarantine.groupby(["file", "rule"]).size().rename("count")
                                     .reset_index())
    return VoicesDemoReport(result, planted, quarantined, raw_dir, processed_dir)


def _per_file_and_rule(counts: pd.DataFrame) -> pd.DataFrame:
    out = counts[["file", "rule", "count"]].astype({"file": str, "rule": str, "count": "int64"})
    return out.sort_values(["file", "rule"]).reset_index(drop=True)


def compare_quarantine(quarantine: pd.DataFrame, expected: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Planted defects not caught under their rule, and quarantined rows not planted."""
    got = quarantine[KEYS + ["rule"]].astype({"row": "int64", "sheet": str, "file": str})
    exp = expected[KEYS + ["rule"]].astype({"row": "int64", "sheet": str, "file": str})
    caught = exp.merge(got, on=KEYS + ["rule"], how="left", indicator=True)
    missed = caught[caught["_merge"] == "left_only"].drop(columns="_merge")
    rows = got[KEYS].drop_duplicates().merge(exp[KEYS].drop_duplicates(), on=KEYS, how="left", indicator=True)
    unexpected = rows[rows["_merge"] == "left_only"][KEYS].merge(got, on=KEYS)
    return missed.reset_index(drop=True), unexpected.reset_index(drop=True)


def compare_notes(notes: pd.DataFrame, expected: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Planted malformed NIKs missing from the ingest notes, and notes of that rule not planted."""
    def rows(df: pd.DataFrame) -> pd.DataFrame:
        df = df[df["rule"] == PLANTED_NOTE_RULE]
        return df[KEYS].astype({"row": "int64", "sheet": str, "file": str}).drop_duplicates()

    got, exp = rows(notes), rows(expected)
    both = exp.merge(got, on=KEYS, how="outer", indicator=True)
    missed = both[both["_merge"] == "left_only"][KEYS]
    unexpected = both[both["_merge"] == "right_only"][KEYS]
    return missed.reset_index(drop=True), unexpected.reset_index(drop=True)
