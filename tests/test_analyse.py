"""``kkbm analyse``: the analysis products (shape, one suppression, verdicts, records, manifest, model cache).

Runs on the shared small SYNTHETIC project (conftest: generated, ingested and analysed once).
"""
from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from kkbm_analysis.analyse import Parameters, analyse
from kkbm_analysis.analyse.fits import FitCache, frame_sha256
from kkbm_analysis.io import sha256
from kkbm_analysis.products import BARRIER_COLUMNS, CELL_COLUMNS, RECOMMENDATION_COLUMNS, Products
from kkbm_analysis.suppression import NUMBERS, small_cells


@pytest.fixture(scope="module")
def products(demo_project) -> Products:
    return Products.open(demo_project.processed)


@pytest.fixture(scope="module")
def copy(demo_project, tmp_path_factory) -> Path:
    """A private copy of the processed folder (with its products), for runs that rewrite them."""
    out = tmp_path_factory.mktemp("analyse") / "processed"
    shutil.copytree(demo_project.processed, out)
    return out


# --------------------------------------------------------------------------- shape
@pytest.mark.parametrize("product, columns", [("indicators", CELL_COLUMNS), ("barriers", BARRIER_COLUMNS),
                                              ("mentoring_points", BARRIER_COLUMNS)])
def test_each_product_has_the_cell_shape(products, product, columns):
    f = products.cells(product, disaggregation=None)
    assert tuple(f.columns[:len(columns)]) == columns
    assert not f.duplicated(["measure_id", "level", "region_code", "period", "disaggregation"]).any()
    assert set(f["period"]) == {*products.years, "all"}
    assert set(f["level"]) == {"national", "province"}
    assert set(f.loc[f["level"] == "province", "region_code"]) == set(products.provinces)
    assert f["region_name"].notna().all() and f["label_id"].notna().all() and f["label_en"].notna().all()
    assert (f["window_start"] <= f["window_end"]).all()


def test_csv_is_plain_with_the_header_first(demo_project, products):
    csv = pd.read_csv(demo_project.processed / "indicators.csv")
    parquet = products.indicators(disaggregation=None)
    assert list(csv.columns) == list(parquet.columns) and len(csv) == len(parquet)
    assert {"label_id", "label_en", "region_name"} <= set(csv.columns)
    assert csv["value"].isna().sum() == parquet["value"].isna().sum()


def test_indicators_cover_sex_and_status_and_the_whole_span(products):
    f = products.indicators(disaggregation=None, measure="members", region="ID", period="all")
    assert {"all", "sex=L", "sex=P", "status=pmi_purna"} <= set(f["disaggregation"])


# --------------------------------------------------------------------------- one suppression
def test_withheld_cells_have_no_numbers_and_a_reason(products):
    for name in ("indicators", "barriers", "mentoring_points"):
        f = products.cells(name, disaggregation=None)
        s = f["suppressed"].astype(bool)
        assert s.any() and (~s).any()
        assert f.loc[s, list(NUMBERS)].isna().all().all()
        assert set(f.loc[s, "suppression"]) <= {"primary", "secondary"}
        assert f.loc[~s, "suppression"].isna().all()
        assert not small_cells(f.loc[~s]).any(), f"{name}: a published cell falls under the small-cell rule"


def test_one_suppression_across_products(products):
    """Numbers two products publish alike are withheld in both or in neither (one call, declared relations)."""
    trained = products.barriers(measure="members_trained")
    mean = products.barriers(measure="mentoring_points_mean")
    both = trained.merge(mean, on=["region_code", "period"], suffixes=("_n", "_m"))
    shown = both.loc[~both["suppressed_n"] & ~both["suppressed_m"]]
    assert len(shown) and (shown["value_n"] == shown["denominator_m"]).all()
    # coverage is the mean number of points / 4 of the same members: the two are withheld together
    cover = products.barriers(measure="mentoring_coverage").set_index(["region_code", "period"])["suppressed"]
    points = mean.set_index(["region_code", "period"])["suppressed"]
    assert points.any() and (cover.reindex(points.index) == points).all()
    manifest = products.manifest["suppression"]
    assert manifest["cells"] == sum(v["cells"] for v in manifest["by_product"].values())


def test_barrier_kur_approval_rate_is_the_published_indicator(products):
    b = products.barriers(measure="kur_approval_rate").set_index(["region_code", "period"])
    i = products.indicators(measure="kur_approval_rate").set_index(["region_code", "period"])
    joined = b[["value", "suppressed"]].join(i[["value", "suppressed"]].add_suffix("_i"))
    assert len(joined) == len(b) and (joined["suppressed"] == joined["suppressed_i"]).all()
    shown = joined.loc[~joined["suppressed"]]
    assert (shown["value"] == shown["value_i"]).all()


# --------------------------------------------------------------------------- verdicts
def test_verdicts_follow_the_interval_rule(products):
    f = products.barriers()
    judged = f.loc[f["verdict"].isin(["better", "worse"])]
    assert len(judged) >= 5
    outside = (judged["national_value"] < judged["ci_low"]) | (judged["national_value"] > judged["ci_high"])
    assert outside.all()
    higher = judged["direction"] == "higher_is_better"
    below = judged["value"] < judged["national_value"]
    assert ((judged["verdict"] == "worse") == (higher == below)).all()
    unclear = f.loc[f["verdict"] == "no_clear_difference"]
    assert ((unclear["ci_low"] <= unclear["national_value"]) & (unclear["national_value"] <= unclear["ci_high"])).all()
    few = f.loc[f["suppressed"].astype(bool)]
    assert (few["verdict"] == "too_few").all()
    assert set(f.loc[f["kind"] == "count", "verdict"]) <= {"not_applicable", "too_few"}
    assert (f["verdict_rule"] == "national_outside_ci95").all()


# --------------------------------------------------------------------------- recommendations
def test_recommendations_rest_on_published_worse_cells(products):
    recs = products.recommendations()
    assert tuple(recs.columns) == RECOMMENDATION_COLUMNS and len(recs)
    cells = products.barriers().set_index(["measure_id", "region_code", "period"])
    for _, r in recs.loc[recs["level"] == "province"].iterrows():
        cell = cells.loc[(r["measure_id"], r["region_code"], r["period"])]
        assert not bool(cell["suppressed"]) and cell["verdict"] == "worse"
        assert not small_cells(cell.to_frame().T.assign(kind=cell["kind"])).any()
        evidence = json.loads(r["evidence"])
        assert {"measure_id": r["measure_id"], "region_code": r["region_code"], "period": r["period"]}.items() <= \
            evidence[0].items()
        assert evidence[1]["region_code"] == "ID"
        assert r["design"] == "descriptive" and r["strength"] in ("descriptive", "association", "quasi_experimental")
    assert (recs["causal"] == (recs["strength"] == "quasi_experimental")).all()   # causal words: the DiD only
    assert not recs.loc[recs["causal"], "support_fit"].ne("perdes_did").any()


# --------------------------------------------------------------------------- manifest
def test_manifest_says_where_the_numbers_come_from(demo_project, products, copy):
    m = products.manifest
    ingest = json.loads((demo_project.processed / "manifest.json").read_text())
    assert m["data_version"] == ingest["data_version"] and m["synthetic"] is True
    assert m["data_as_of"] == m["data_window"]["last"] and m["data_as_of"] < ingest["as_of"]  # the data's date
    assert m["thresholds"] == {"min_count": 5, "min_denominator": 10}
    assert m["parameters"] == Parameters().as_dict()
    assert "indicators.parquet" in m["files"] and "models/fits.json" in m["files"]
    assert products.verify() == []
    mine = Products.open(copy)      # tampered with in the private copy: the shared project stays as it is
    assert mine.verify() == []
    (copy / "indicators.csv").write_bytes(b"tampered")
    try:
        assert mine.verify() == ["indicators.csv"]
    finally:
        shutil.copyfile(demo_project.processed / "indicators.csv", copy / "indicators.csv")
    assert Products.open(copy).verify() == []


# --------------------------------------------------------------------------- the model cache
@pytest.fixture(scope="module")
def first(copy):
    """The first analyse of the private copy, and the products it found that have no source any more: the copy
    came with the shared project's voices products, but the voices folder is not beside it."""
    stale = sorted(p.name for p in copy.iterdir() if p.name.startswith(("voices.", "joint_display.")))
    return analyse(copy), stale


@pytest.mark.slow
def test_model_fits_are_cached_by_inputs_parameters_and_seed(copy, first):
    first, _ = first
    fits = json.loads((copy / "models" / "fits.json").read_text())
    assert {"business_model", "perdes_did"} <= set(fits) and any(k.startswith("gap_") for k in fits)
    before = {str(p.relative_to(copy)): sha256(p) for p in copy.rglob("*.parquet")}
    again = analyse(copy)
    assert all(f.cached for f in again.fits), "an unchanged run refits nothing"
    assert before == {str(p.relative_to(copy)): sha256(p) for p in copy.rglob("*.parquet")}
    other = analyse(copy, parameters=Parameters(seed=1))
    hit = {f.fit_id: f.cached for f in other.fits}
    assert hit["business_model"] and not hit["perdes_did"]                 # the logit has no seed
    assert not any(v for k, v in hit.items() if k.startswith("gap_"))      # bootstraps do
    table = copy / "models" / "business_model.parquet"
    table.write_bytes(b"damaged")
    assert not {f.fit_id: f.cached for f in analyse(copy, parameters=Parameters(seed=1)).fits}["business_model"]
    assert len(first.fits) == len(other.fits)


def test_cache_key_hashes_the_inputs():
    a = pd.DataFrame({"x": [1.0, 2.0], "g": ["a", "b"]})
    assert frame_sha256(a) == frame_sha256(a.copy())
    assert frame_sha256(a) != frame_sha256(a.assign(x=[1.0, 2.5]))
    assert frame_sha256(a) != frame_sha256(a.astype({"x": "float32"}))


def test_cache_key_from_row_hashes_of_a_larger_frame():
    """The gap decompositions hash their rows once, in the whole outcome frame: the same key as hashing the rows."""
    whole = pd.DataFrame({"y": [1.0, 0.0, 1.0, 1.0], "g": pd.array(["a", "b", None, "a"], dtype="string"),
                          "k": pd.Categorical(["x", "y", "x", "z"])})
    rows = [0, 2, 3]
    hashes = pd.util.hash_pandas_object(whole, index=False).to_numpy()
    part = whole.take(rows).reset_index(drop=True)
    assert frame_sha256(part, hashes[rows]) == frame_sha256(part)
    assert frame_sha256(part, hashes[[0, 1, 3]]) != frame_sha256(part)


def test_an_error_on_the_second_thread_reaches_the_caller(demo_project, tmp_path, monkeypatch):
    """The indicators run on a second thread: their error stops the run like any other, and the thread ends."""
    import threading

    import kkbm_analysis.analyse as an

    def broken(shared):
        raise RuntimeError("indicators broke")
    monkeypatch.setattr(an.cl, "indicator_cells", broken)
    folder = tmp_path / "processed"
    shutil.copytree(demo_project.processed, folder)
    before = (folder / "products.json").read_bytes()
    with pytest.raises(RuntimeError, match="indicators broke"):
        analyse(folder)
    assert (folder / "products.json").read_bytes() == before   # nothing written
    assert not [t for t in threading.enumerate() if t.name.startswith("kkbm-analyse")]


def test_a_fit_that_cannot_run_is_recorded_with_its_reason(copy, tmp_path):
    from kkbm_analysis.analyse.fits import PendingFit, _fit, run_fit
    from kkbm_analysis.models import ModelInputError

    def fails():
        raise ModelInputError("too few observations for the Y12 model: 3")
    pending = _fit(FitCache(tmp_path), "business_model", "business_running_model", pd.DataFrame({"y": [1]}), {}, None,
                   fails)
    assert isinstance(pending, PendingFit)
    rec = run_fit(pending)
    assert rec.status == "failed" and "too few" in rec.reason and not rec.tables


def test_stale_products_are_removed(copy, first):
    _, stale = first
    assert "voices.parquet" in stale   # from an earlier run with voices
    assert not (copy / "voices.parquet").exists()
    assert (copy / "indicators.parquet").exists()


# --------------------------------------------------------------------------- fits on Dask
@pytest.mark.slow
def test_fits_on_a_dask_cluster_give_the_same_products(demo_project, tmp_path):
    """Every fit run again on two local Dask workers (cache emptied) gives the shared project's product files
    (fitted in this process by run_demo) byte for byte."""
    from kkbm_analysis.cluster import batch_client

    here, there = demo_project.processed, tmp_path / "there" / "processed"
    shutil.copytree(here, there)
    shutil.rmtree(there / "models")
    opened = []

    def cluster():  # opened by analyse only when a fit must run
        opened.append(True)
        return batch_client(n_workers=2, memory_limit=None)

    result = analyse(there, voices_dir=demo_project.voices, client=lambda: _client_of(cluster()))
    assert opened and not any(f.cached for f in result.fits)
    files = sorted(p.relative_to(here) for p in here.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(there) for p in there.rglob("*") if p.is_file())
    for rel in files:
        assert sha256(here / rel) == sha256(there / rel), rel
    again = analyse(there, voices_dir=demo_project.voices, client=lambda: _client_of(cluster()))  # all cached
    assert all(f.cached for f in again.fits) and len(opened) == 1


@contextlib.contextmanager
def _client_of(context):
    with context as (client, _):
        yield client


@pytest.mark.slow  # a program of its own, which imports Dask
def test_analyse_on_an_unreachable_scheduler_is_a_usage_error(demo_project):
    import os
    import subprocess
    import sys

    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"}   # distributed's default tries for 30 s
    done = subprocess.run([sys.executable, "-m", "kkbm_analysis.cli", "analyse", str(demo_project.processed),
                           "--scheduler", "tcp://127.0.0.1:9"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr + done.stdout
