"""The synthetic resilience survey: latent structure, Kobo export, planted defects, lossless ingest."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kkbm_analysis.demo import compare_quarantine
from kkbm_analysis.readers import read_raw
from kkbm_analysis.synth import survey_kobo as kobo
from kkbm_analysis.item_bank import load_item_bank
from kkbm_analysis.synth.survey import KOBO_FILE, SECTION, demo_data, observed_loadings


@pytest.fixture(scope="module")
def demo(demo_project):
    """The raw files of the shared demo project (conftest), the Kobo export among them."""
    return demo_project.synth


@pytest.fixture(scope="module")
def ingested(demo_project):
    return demo_project.ingest


@pytest.fixture(scope="module")
def direct(demo_project):
    return demo_data(seed=demo_project.seed, scale=demo_project.scale)


def test_demo_writes_the_kobo_export_and_the_truth(demo):
    assert (demo.out_dir / KOBO_FILE).exists() and demo.out_dir / KOBO_FILE in demo.files
    truth = json.loads((demo.out_dir / "ground_truth.json").read_text(encoding="utf-8"))[SECTION]
    assert set(truth["loadings"]["value"]) == {f for s in ("absorptive", "adaptive", "transformative")
                                               for f in load_item_bank().scale_fields(s)}
    assert truth["gamma"]["value"]["points"]["adaptive"] == 0.15
    assert truth["recovery_delta"]["value"] == {"absorptive": 0.35, "adaptive": 0.2, "transformative": 0.0}
    for name, entry in truth.items():
        assert set(entry) == {"value", "description"} and entry["description"], name


def test_export_follows_kobo_conventions(demo):
    sheet = read_raw(demo.out_dir / KOBO_FILE)[0]
    assert sheet.kobo and sheet.sheet == kobo.sheet_name()
    raw = pd.read_excel(demo.out_dir / KOBO_FILE, dtype=str, engine="calamine")
    assert {"start", "end", "_uuid", "_submission_time", "_id", "_index", "meta/instanceID"} <= set(raw.columns)
    assert "grp_kapasitas/a_tabungan" in raw.columns and "grp_identitas/nik" in raw.columns
    choices = [c.name for c in load_item_bank().choices["shock_type"]]
    parent = raw["grp_guncangan/jenis_guncangan"]
    for c in choices:   # the per-choice 0/1 columns agree with the space-separated answer
        col = raw[f"grp_guncangan/jenis_guncangan/{c}"]
        listed = parent.fillna("").str.split().map(lambda xs, c=c: c in xs)
        assert ((col == "1") == listed).all() and (col.isna() == parent.isna()).all()
    assert raw["_uuid"].is_unique   # NIKs as registered (the world plants a few 15-digit ones)
    assert raw["grp_identitas/nik"].str.fullmatch(r"\d{15,16}").all()
    assert set(raw["grp_kapasitas/a_tabungan"].dropna()) <= {"1", "2", "3", "4", "5", "7"}


def test_planted_defects_are_exactly_what_the_ingest_quarantines(demo, ingested):
    expected = demo.expected_quarantine
    planted = expected[expected["table"] == "resilience_surveys"]
    assert set(planted["rule"]) == set(kobo.DEFECTS)
    missed, unexpected = compare_quarantine(ingested.quarantine, expected)
    assert missed.empty and unexpected.empty
    got = ingested.quarantine[ingested.quarantine["table"] == "resilience_surveys"]
    assert got[["file", "sheet", "row"]].drop_duplicates().shape[0] == len(planted)


def test_ingest_round_trip_is_lossless(ingested, direct):
    pd.testing.assert_frame_equal(ingested.tables["resilience_surveys"], direct.resilience_surveys)
    acc = ingested.accounting[ingested.accounting["table"] == "resilience_surveys"]
    assert int(acc["rows_accepted"].sum()) == len(direct.resilience_surveys)
    nik = ingested.tables["resilience_surveys"]["member_id"]
    assert nik.str.startswith("M").all()   # NIKs became pseudonyms


@pytest.mark.slow
def test_same_seed_same_bytes(demo, demo_again):
    """The Kobo export of the shared project's raw files made again with its seed and scale (conftest)."""
    assert (demo_again.out_dir / KOBO_FILE).read_bytes() == (demo.out_dir / KOBO_FILE).read_bytes()


def test_latent_structure_is_as_documented(direct):
    s = direct.resilience_surveys
    counts = s["round"].value_counts()
    assert counts["baseline"] > counts["followup_1"] > counts["followup_2"]
    base = s[s["round"] == "baseline"]
    assert base["any_shock"].isna().all() and s.loc[s["round"] != "baseline", "any_shock"].notna().all()
    rec = s[s["recovered"].fillna(False)]
    assert rec["months_to_recover"].between(1, 36).all()
    month, day = pd.to_datetime(s["main_shock_month"]), pd.to_datetime(s["interviewed_on"])
    assert ((month <= day) | month.isna()).all() and month.notna().any()
    abroad = s["worked_abroad"].astype(bool)
    assert s.loc[~abroad, "risk_abuse"].isna().all() and s.loc[abroad, "risk_abuse"].notna().all()


def test_observed_loadings_match_a_large_simulation():
    """The truth formula l = lambda * sum phi(tau) against the slope of E[answer] on the factor."""
    from kkbm_analysis.synth.survey import BASE_THRESHOLDS, ITEM_LAMBDA, ITEM_SHIFT

    rng = np.random.default_rng(0)
    f = rng.standard_normal(400_000)
    truth = observed_loadings()
    fields = load_item_bank().scale_fields("absorptive")
    for field, lam, shift in zip(fields, ITEM_LAMBDA["absorptive"], ITEM_SHIFT["absorptive"]):
        y = lam * f + np.sqrt(1 - lam**2) * rng.standard_normal(len(f))
        answer = 1 + (y[:, None] > (BASE_THRESHOLDS + shift)[None, :]).sum(axis=1)
        slope = np.cov(answer, f)[0, 1] / f.var()
        assert slope == pytest.approx(truth[field], abs=0.006)
