"""The analysis tables the main job writes beside processed data."""
from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from kkbm_analysis.data import NATIONAL_CODE
from kkbm_analysis.io import read_parquet_metadata
from kkbm_analysis.outputs import write_analysis_tables
from kkbm_analysis.synth import program_data


@pytest.fixture(scope="module")
def written(demo_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("processed")
    return demo_data, out, write_analysis_tables(demo_data, out)


def test_indicator_table_is_published_and_complete(written):
    data, out, _ = written
    table = pd.read_parquet(out / "indicators.parquet")
    assert {"indicator_id", "level", "region_code", "period", "disaggregation", "value", "numerator",
            "denominator", "ci_low", "ci_high", "suppressed"} <= set(table.columns)
    assert set(table["level"]) == {"national", "province"}
    assert set(table.loc[table.level == "province", "region_code"]) == set(data.communities["province_code"])
    assert table["suppressed"].any() and not table["suppressed"].all()
    hidden = table[table["suppressed"]]
    assert hidden["value"].isna().all() and hidden["numerator"].isna().all()
    assert read_parquet_metadata(out / "indicators.parquet")["synthetic"] == "true"


def test_published_counts_match_national_where_nothing_is_hidden(written):
    _, out, _ = written
    t = pd.read_parquet(out / "indicators.parquet")
    members = t[(t.indicator_id == "members") & (t.disaggregation == "all") & (t.period == "all")]
    provinces = members[members.level == "province"]
    national = members[members.region_code == NATIONAL_CODE]["value"].iloc[0]
    if not provinces["suppressed"].any():
        assert provinces["value"].sum() == national
    assert national == len(written[0].members)


def test_barrier_profiles_cover_every_province(written):
    data, out, outputs = written
    profiles = pd.read_parquet(out / "barrier_profiles.parquet")
    assert set(profiles["region_code"]) >= set(data.communities["province_code"])
    assert profiles["sentence_id"].str.len().gt(0).all() and profiles["sentence_en"].str.len().gt(0).all()
    assert len(outputs.files) == 4 and all(p.exists() for p in outputs.files)


@pytest.mark.slow
def test_cli_analyse_writes_the_tables(tmp_path):
    data = program_data(seed=6, scale=0.1)
    for name, df in data.tables.items():
        df.to_parquet(tmp_path / f"{name}.parquet")
    proc = subprocess.run([sys.executable, "-m", "kkbm_analysis.cli", "analyse", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "indicators.parquet").exists() and (tmp_path / "barrier_profiles.csv").exists()
