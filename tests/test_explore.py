"""The notebook helpers of kkbm_analysis.reports.explore that read the ingest's own files."""
from __future__ import annotations

import pandas as pd

from kkbm_analysis.reports import explore


def test_notes_by_rule_counts_every_ingest_note(demo_project):
    out = explore.notes_by_rule(demo_project.processed)
    notes = pd.read_csv(demo_project.processed / "ingest_notes.csv", keep_default_na=False, encoding="utf-8-sig")
    assert len(notes) > 0 and out["notes"].sum() == len(notes)
    planted = demo_project.synth.expected_ingest_notes
    nik = out[(out["table"] == "members") & (out["rule"] == "invalid_nik")]["notes"]
    assert nik.tolist() == [int((planted["table"] == "members").sum())]


def test_notes_by_rule_of_a_folder_without_notes_is_empty(tmp_path):
    out = explore.notes_by_rule(tmp_path)
    assert out.empty and list(out.columns) == ["table", "rule", "notes"]
