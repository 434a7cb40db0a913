"""The main job end to end on small synthetic data: planted defects are exactly what gets
quarantined, identifiers never reach processed files, and the same seed gives
byte-identical Parquet and analysis products."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from kkbm_analysis.analyse import analyse
from kkbm_analysis.config import paths
from kkbm_analysis.demo import compare_quarantine, run_demo
from kkbm_analysis.ingest import ingest
from kkbm_analysis.io import read_parquet_metadata, sha256
from kkbm_analysis.synth import generate_demo

SCALE = 0.1

pytestmark = pytest.mark.slow  # the main job end to end: generates and ingests the demo several times


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    report = run_demo(paths(root), seed=11, scale=SCALE)
    return report


def test_demo_quarantine_is_exactly_the_planted_defects(demo_run):
    assert demo_run.ok, demo_run.text
    expected = pd.read_csv(demo_run.raw_dir / "expected_quarantine.csv", keep_default_na=False)
    assert len(expected) > 0
    assert demo_run.result.quarantine[["file", "sheet", "row"]].drop_duplicates().shape[0] == len(expected)


def test_demo_planted_nik_findings_reported(demo_run):
    expected = pd.read_csv(demo_run.raw_dir / "expected_findings.csv", keep_default_na=False)
    f = demo_run.result.findings
    got = f[f.rule == "invalid_nik"][["file", "sheet", "row"]].astype({"row": "int64", "sheet": str})
    # the ingest reports a malformed NIK once per person, in the registers (members, staff)
    planted = expected[(expected.rule == "invalid_nik") & expected.table.isin(["members", "staff"])]
    exp = planted[["file", "sheet", "row"]].astype({"row": "int64", "sheet": str})
    assert len(exp) > 0
    assert sorted(map(tuple, got.values.tolist())) == sorted(map(tuple, exp.values.tolist()))


def test_compare_quarantine_detects_misses_and_extras():
    q = pd.DataFrame({"file": ["a", "a"], "sheet": ["", ""], "row": [2, 3], "rule": ["x", "y"]})
    exp = pd.DataFrame({"file": ["a", "a"], "sheet": ["", ""], "row": [2, 4], "rule": ["x", "z"]})
    missed, unexpected = compare_quarantine(q, exp)
    assert missed[["row", "rule"]].values.tolist() == [[4, "z"]]
    assert unexpected[["row", "rule"]].values.tolist() == [[3, "y"]]


def test_identifiers_absent_from_every_processed_file(demo_run):
    raw_text = []
    for f in demo_run.raw_dir.glob("*.csv"):
        raw_text.append(f.read_bytes().decode("utf-8", "replace"))
    from kkbm_analysis.synth import generate_tables
    truth = generate_tables(seed=11, scale=SCALE)
    members = truth["members"]
    niks = set(members["nik"].astype(str))
    names = {n for n in members["name"].astype(str) if len(n) > 6}
    phones = set(members["phone"].astype(str))
    assert niks and names and phones
    processed = demo_run.processed_dir
    files = [p for p in processed.iterdir() if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files)
    blob = "\n".join(pd.read_parquet(p).astype(str).to_csv() if p.suffix == ".parquet"
                     else p.read_text(encoding="utf-8-sig") for p in files)
    leaked = [v for v in list(niks) + list(names) + list(phones) if v in blob]
    assert leaked == []


def test_processed_files_marked_synthetic(demo_run):
    manifest = json.loads((demo_run.processed_dir / "manifest.json").read_text())
    assert manifest["synthetic"] is True and manifest["pseudonym_key_id"] == "demo"
    for p in demo_run.processed_dir.glob("*.parquet"):
        assert read_parquet_metadata(p)["synthetic"] == "true"
    assert "SYNTHETIC" in (demo_run.processed_dir / "data_quality.md").read_text()


def test_same_seed_gives_byte_identical_parquet(demo_run, tmp_path: Path):
    raw = tmp_path / "raw"
    generate_demo(raw, seed=11, scale=SCALE)
    out = tmp_path / "processed"
    ingest(raw, out, as_of=pd.Timestamp(demo_run.result.manifest["as_of"]).date())
    analyse(out)  # the analysis products are reproducible too, model fits included
    first = {p.name: sha256(p) for p in demo_run.processed_dir.glob("*.parquet")}
    second = {p.name: sha256(p) for p in out.glob("*.parquet")}
    assert first and first == second
    products = json.loads((demo_run.processed_dir / "products.json").read_text())
    assert any(name.startswith("models/") for name in products["files"])
    assert products["files"] == json.loads((out / "products.json").read_text())["files"]
    assert sha256(demo_run.processed_dir / "products.json") == sha256(out / "products.json")


def test_other_seed_gives_other_data(demo_run, tmp_path: Path):
    raw = tmp_path / "raw"
    generate_demo(raw, seed=12, scale=SCALE)
    res = ingest(raw, None)
    a = pd.read_parquet(demo_run.processed_dir / "members.parquet")
    assert not a["member_id"].sort_values().reset_index(drop=True).equals(
        res.tables["members"]["member_id"].sort_values().reset_index(drop=True))


def test_program_data_equals_the_ingest_of_the_raw_files(demo_run):
    from kkbm_analysis.resilience.synth import demo_data  # program_data plus the resilience survey
    direct = demo_data(seed=11, scale=SCALE)
    assert direct.synthetic and {"business_y12", "resilience"} <= set(direct.manifest["ground_truth"])
    for name, df in demo_run.result.tables.items():
        pd.testing.assert_frame_equal(direct.tables[name], df, obj=name)
