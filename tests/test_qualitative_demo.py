"""The SYNTHETIC voices corpus end to end: generation, ingest, recovery of the prevalence
known by construction, planted identifiers never in any output, planted defects exactly
quarantined, and the joint display built from the public barrier API."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kkbm_analysis.qualitative import (Voices, barrier_metrics, intercoder_agreement,
                                       joint_display, theme_prevalence)
from kkbm_analysis.synth.voices import generate_voices_demo, load_truth


@pytest.fixture(scope="module")
def program(demo_data):
    """The shared demo project's program data, from which its voices corpus was generated."""
    return demo_data


@pytest.fixture(scope="module")
def demo(demo_voices):
    """The shared project's voices corpus (``run_voices_demo`` on its program data): report, corpus, truth."""
    return demo_voices, Voices.load(demo_voices.processed_dir), load_truth(demo_voices.raw_dir)


def test_demo_quarantine_is_exactly_the_planted_defects(demo):
    report, voices, truth = demo
    assert report.ok, report.text
    assert set(report.result.quarantine["rule"]) == {"invalid_position", "unknown_code", "missing_code",
                                                         "unknown_region"}
    assert voices.synthetic and "SYNTHETIC" in report.text


def test_both_file_formats_were_read(demo):
    _, voices, truth = demo
    by_file = voices.sources.groupby("file")["province_code"].agg(lambda s: sorted(set(s)))
    assert by_file["SYNTHETIC_voices_qualcoder.qdpx"] == truth["qdpx_provinces"]
    assert set(by_file["SYNTHETIC_voices_segments.xlsx"]).isdisjoint(truth["qdpx_provinces"])
    assert len(voices.sources) == sum(truth["sources_per_province"].values())


def test_prevalence_known_by_construction_is_recovered(demo):
    _, voices, truth = demo
    got = theme_prevalence(voices, by="province").table.set_index(["province", "theme_id"])["sources"]
    expected = {(r["province_code"], r["theme_id"]): r["sources"] for r in truth["raised"]}
    for key, n in expected.items():
        assert got[key] == n, key
    others = [k for k in got.index if k not in expected and k[1] not in ("resilience", "supporting_factors")]
    assert all(got[k] == 0 for k in others)


def test_prevalence_follows_the_barriers(demo):
    """Themes are raised more often where the matching indicators are worse (by construction)."""
    _, voices, truth = demo
    prob = pd.DataFrame(truth["probabilities"])
    prev = theme_prevalence(voices, by="province").table
    both = prev.merge(prob, left_on=["province", "theme_id"], right_on=["province_code", "theme_id"])
    both = both[both["probability"] != 0.3]
    assert np.corrcoef(both["probability"], both["share"].astype(float))[0, 1] > 0.5
    resid = both["share"].astype(float) - both["probability"]
    assert abs(resid.mean()) < 0.1      # unbiased within sampling error of 20 sources


def test_planted_identifiers_never_reach_an_output(demo):
    report, _, truth = demo
    out = Path(report.processed_dir)
    parts = [pd.read_parquet(p).astype(str).to_csv() for p in sorted(out.glob("*.parquet"))]
    parts += [p.read_text(encoding="utf-8-sig") for p in sorted(out.iterdir()) if p.suffix in (".csv", ".json", ".md")]
    blob = "\n".join(parts)
    kinds = {p["kind"] for p in truth["planted"]}
    assert {"informant", "participant", "honorific_name", "gazetteer_name", "village", "district", "phone", "nik",
            "email"} <= kinds
    leaks = [p for p in truth["planted"] if re.search(rf"(?<!\w){re.escape(p['value'])}(?!\w)", blob)]
    assert leaks == []


def test_consent_and_publishable_marks(demo):
    _, voices, truth = demo
    assert int((~voices.sources["consent"]).sum()) == truth["consent_false"]
    seg = voices.segments.merge(voices.sources[["source_id", "consent", "publishable"]], on="source_id",
                                suffixes=("", "_source"))
    assert seg.loc[~seg["consent"], "text"].isna().all()
    assert (seg["publishable"] == (seg["consent"] & seg["publishable_source"])).all()
    assert int(voices.sources["publishable"].sum()) == truth["publishable"]


def test_double_coding_gives_agreement_below_one(demo):
    _, voices, truth = demo
    res = intercoder_agreement(voices, unit="segment", level="theme")
    pooled = res.table.set_index("key").loc["(all)"]
    assert truth["omissions"] > 0 and 0.5 < pooled["krippendorff_alpha"] < 1
    assert pooled["percent_agreement"] < 1


def test_joint_display_from_the_barrier_api(demo, program):
    _, voices, _ = demo
    metrics = barrier_metrics(program)
    jd = joint_display(metrics, voices)
    assert set(jd.table["convergence"]) <= {"convergent", "complementary", "divergent", "too_small"}
    assert (jd.table["convergence"] == "convergent").sum() > (jd.table["convergence"] == "divergent").sum()
    shown = [e for ex in jd.table["excerpts"] for e in ex]
    publishable = set(voices.segments.loc[voices.segments["publishable"], "text"].dropna())
    assert shown and set(shown) <= publishable
    md = jd.to_markdown("35", lang="en")
    assert md.startswith("**SYNTHETIC DATA**") and "Convergence" in md


def test_generation_is_byte_reproducible(tmp_path, program):
    a = generate_voices_demo(tmp_path / "a", data=program, sources_per_province=3)
    b = generate_voices_demo(tmp_path / "b", data=program, sources_per_province=3)
    for f in a.files:
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name
    assert a.truth == b.truth
