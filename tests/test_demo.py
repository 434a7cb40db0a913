"""The main job end to end on small synthetic data: planted defects are exactly what gets
quarantined (registers and voices), the planted malformed NIKs are exactly the ingest's notes
of that rule, identifiers never reach processed files, and the same seed gives byte-identical
Parquet and analysis products.

The run checked is the shared project's (conftest: ``run_demo`` at a tenth of the demo's size);
the byte-identity test makes a run of its own (seed 11) and makes it again from fresh raw files.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from kkbm_analysis import store
from kkbm_analysis.analyse import analyse
from kkbm_analysis.data import ProgramData
from kkbm_analysis.demo import compare_notes, compare_quarantine
from kkbm_analysis.ingest import ingest
from kkbm_analysis.io import read_parquet_metadata, sha256
from kkbm_analysis.qualitative import ingest_voices
from kkbm_analysis.synth import generate_voices_demo


@pytest.fixture(scope="module")
def demo_run(demo_project):
    """The DemoReport of run_demo on the shared project."""
    return demo_project.report


def test_demo_quarantine_is_exactly_the_planted_defects(demo_run):
    assert demo_run.ok, demo_run.text
    expected = pd.read_csv(demo_run.raw_dir / "expected_quarantine.csv", keep_default_na=False)
    assert len(expected) > 0
    assert demo_run.result.quarantine[["file", "sheet", "row"]].drop_duplicates().shape[0] == len(expected)


def test_demo_planted_niks_are_exactly_the_ingest_notes(demo_run):
    expected = pd.read_csv(demo_run.raw_dir / "expected_ingest_notes.csv", keep_default_na=False)
    notes = pd.read_csv(demo_run.processed_dir / "ingest_notes.csv", keep_default_na=False)
    got = notes[notes.rule == "invalid_nik"][["file", "sheet", "row"]].astype({"row": "int64", "sheet": str})
    exp = expected[["file", "sheet", "row"]].astype({"row": "int64", "sheet": str})
    assert len(exp) > 0 and (expected.rule == "invalid_nik").all()
    assert sorted(map(tuple, got.values.tolist())) == sorted(map(tuple, exp.values.tolist()))
    assert demo_run.notes_missed.empty and demo_run.notes_unexpected.empty


def test_demo_runs_the_voices_corpus_in_folders_of_its_own(demo_run):
    voices = demo_run.voices
    assert voices is not None and voices.ok, voices.text
    assert voices.raw_dir == demo_run.raw_dir.parent / "demo-voices"
    assert voices.processed_dir == demo_run.processed_dir.parent / "demo-voices"
    assert (voices.processed_dir / "segments.parquet").exists() and voices.result.manifest["synthetic"]
    assert len(voices.planted) >= 4 and voices.quarantined.equals(voices.planted)
    assert not any("voices" in p.name for p in demo_run.raw_dir.iterdir())   # the tabular ingest never sees them
    assert "SYNTHETIC DEMO DATA (voices)" in demo_run.text


def test_demo_does_not_reload_the_tables_it_holds(demo_project):
    """run_demo hands the ingest's tables to the analyses and the voices generator (no read back): the shared
    project's run recorded every call of the processed-table loaders (``store`` and ``data``)."""
    assert demo_project.report.ok, demo_project.report.text
    assert demo_project.reloads == (), "run_demo read processed tables back from disk"


def test_compare_notes_detects_misses_and_extras():
    notes = pd.DataFrame({"file": ["a", "a", "a"], "sheet": ["S", "S", "S"], "row": [2, 3, 9],
                          "rule": ["invalid_nik", "invalid_nik", "unused_column"]})
    exp = pd.DataFrame({"file": ["a", "a"], "sheet": ["S", "S"], "row": [2, 4], "table": "members",
                        "rule": "invalid_nik"})
    missed, unexpected = compare_notes(notes, exp)
    assert missed["row"].tolist() == [4] and unexpected["row"].tolist() == [3]


def test_compare_quarantine_detects_misses_and_extras():
    q = pd.DataFrame({"file": ["a", "a"], "sheet": ["", ""], "row": [2, 3], "rule": ["x", "y"]})
    exp = pd.DataFrame({"file": ["a", "a"], "sheet": ["", ""], "row": [2, 4], "rule": ["x", "z"]})
    missed, unexpected = compare_quarantine(q, exp)
    assert missed[["row", "rule"]].values.tolist() == [[4, "z"]]
    assert unexpected[["row", "rule"]].values.tolist() == [[3, "y"]]


def test_identifiers_absent_from_every_processed_file(demo_run, demo_project):
    raw_text = []
    for f in demo_run.raw_dir.glob("*.csv"):
        raw_text.append(f.read_bytes().decode("utf-8", "replace"))
    from kkbm_analysis.synth import generate_tables
    truth = generate_tables(seed=demo_project.seed, scale=demo_project.scale)
    members = truth["members"]
    niks = set(members["nik"].astype(str))
    names = {n for n in members["name"].astype(str) if len(n) > 6}
    phones = set(members["phone"].astype(str))
    assert niks and names and phones
    processed = demo_run.processed_dir
    files = [p for p in processed.rglob("*") if p.is_file()]  # tables partitioned by province too
    assert any(p.suffix == ".parquet" for p in files)
    blob = "\n".join(pd.read_parquet(p).astype(str).to_csv() if p.suffix == ".parquet"
                     else p.read_text(encoding="utf-8-sig") for p in files)
    leaked = occurring(niks | names | phones, blob)
    assert leaked == set()


def occurring(values: set[str], text: str) -> set[str]:
    """The values that occur in ``text`` (``value in text``), the all-digit ones found in one pass: such a value
    occurs only inside a run of digits, so it occurs exactly when it is one of that run's windows of its length."""
    digits = {v for v in values if re.fullmatch(r"[0-9]+", v)}
    lengths = {len(v) for v in digits}
    windows = set()
    for run in set(re.findall(r"[0-9]+", text)):
        for n in lengths:
            windows.update(run[i:i + n] for i in range(len(run) - n + 1))
    return {v for v in values - digits if v in text} | (digits & windows)


def test_occurring_finds_values_anywhere_in_the_text():
    text = "id,x\n1,0812345678901\n2,Siti Aminah binti Ali\n3,99123456789012345678\n"
    values = {"0812345678901", "1234567890123456", "3456789012345678", "Siti Aminah", "Budi Santoso", "812",
              "0812345678902", "123"}
    assert occurring(values, text) == {v for v in values if v in text} == {
        "0812345678901", "1234567890123456", "3456789012345678", "Siti Aminah", "812", "123"}


def test_processed_files_marked_synthetic(demo_run):
    manifest = json.loads((demo_run.processed_dir / "manifest.json").read_text())
    assert manifest["synthetic"] is True and manifest["pseudonym_key_id"] == "demo"
    tables = list(demo_run.processed_dir.rglob("*.parquet"))
    assert any(p.parent != demo_run.processed_dir for p in tables)  # the partitioned tables are checked too
    assert any(p.parent.name == "models" for p in tables)            # and the model fits' tables
    for p in tables:
        assert read_parquet_metadata(p)["synthetic"] == "true"
    assert "SYNTHETIC" in (demo_run.processed_dir / "data_quality.md").read_text()


@pytest.mark.slow
def test_same_seed_gives_byte_identical_parquet(demo_project, demo_again, tmp_path: Path):
    """The shared project (run_demo: tables handed over in memory) made again step by step, each step reading
    the previous one's files: every Parquet file, model fits and voices included, byte for byte. The raw files
    are ``demo_again``'s (generated again with the project's seed and scale; test_synth.py compares their bytes)."""
    raw = demo_again.out_dir
    out = tmp_path / "processed" / "demo"  # the demo's folder names: products.json names the voices folder
    result = ingest(raw, out, as_of=pd.Timestamp(demo_project.ingest.manifest["as_of"]).date())
    generate_voices_demo(tmp_path / "raw-voices", seed=demo_project.seed,
                         data=ProgramData(dict(result.tables), dict(result.manifest)))
    ingest_voices(tmp_path / "raw-voices", tmp_path / "processed" / "demo-voices")  # found beside `out` by analyse
    analyse(out)  # the analysis products are reproducible too, model fits and voices included
    first = {str(p.relative_to(demo_project.processed)): sha256(p) for p in demo_project.processed.rglob("*.parquet")}
    second = {str(p.relative_to(out)): sha256(p) for p in out.rglob("*.parquet")}
    assert first and first == second
    products = json.loads((demo_project.processed / "products.json").read_text())
    assert any(name.startswith("models/") for name in products["files"])
    assert products["files"] == json.loads((out / "products.json").read_text())["files"]
    assert sha256(demo_project.processed / "products.json") == sha256(out / "products.json")


@pytest.mark.slow
def test_other_seed_gives_other_data(demo_run, demo_other_seed):
    res = ingest(demo_other_seed.out_dir, None)
    a = store.read_table(demo_run.processed_dir, "members")
    assert not a["member_id"].sort_values().reset_index(drop=True).equals(
        res.tables["members"]["member_id"].sort_values().reset_index(drop=True))


def test_program_data_equals_the_ingest_of_the_raw_files(demo_run, demo_project):
    from kkbm_analysis.synth import demo_data  # program_data plus the resilience survey
    direct = demo_data(seed=demo_project.seed, scale=demo_project.scale)
    assert direct.synthetic and {"business_y12", "resilience"} <= set(direct.manifest["ground_truth"])
    for name, df in demo_run.result.tables.items():
        pd.testing.assert_frame_equal(direct.tables[name], df, obj=name)
