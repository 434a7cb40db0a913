"""Drivers of capacity, recovery after shocks, empowerment, indicators and the report section.

Recovery on the demo seed: the true effects of mentoring and of membership duration on each
capacity, and of each capacity on recovery, sit inside the 95 % intervals.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from resilience_world import demo_world

from kkbm_analysis.indicators import RESULT_COLUMNS
from kkbm_analysis.models import ModelInputError
from kkbm_analysis.resilience import (capacity_drivers, empowerment_map, recovery_model, registry, resilience_index,
                                      resilience_indicators, resilience_section, shock_episodes)
from kkbm_analysis.resilience.models import person_months
from kkbm_analysis.suppression import suppress


@pytest.fixture(scope="module")
def world():
    return demo_world()


@pytest.fixture(scope="module")
def truth(world):
    return world[0].manifest["ground_truth"]["resilience"]


def _covered(row, value) -> bool:
    return bool(row["ci_low"] <= value <= row["ci_high"])


def test_mentoring_and_duration_effects_recovered_on_the_demo_seed(world, truth):
    _, frame, model = world
    r = capacity_drivers(frame, model)
    gamma = truth["gamma"]["value"]
    for term in ("points", "membership_years"):
        for cap in ("absorptive", "adaptive", "transformative"):
            assert _covered(r.effect(cap, term), gamma[term][cap]), (term, cap)
    assert r.effect("adaptive", "points")["p_value"] < 0.001   # a real effect is detected
    misses = sum(not _covered(r.effect(c, t), v) for t, caps in gamma.items() for c, v in caps.items())
    assert misses <= 2   # of 21 intervals (1 expected by chance; this seed: perdes -> absorptive)
    assert r.n_clusters == 49 and set(r.estimates["term"]) >= {"round_followup_1", "round_followup_2"}


def test_recovery_effects_recovered_on_the_demo_seed(world, truth):
    _, frame, model = world
    r = recovery_model(frame, model)
    est = r.estimates.set_index("term")
    for cap, value in truth["recovery_delta"]["value"].items():
        assert _covered(est.loc[cap], value), cap
    assert est.loc["absorptive", "hazard_ratio"] > 1 and est.loc["absorptive", "p_value"] < 0.001
    assert 0.3 < r.recovered_share < 0.8
    assert "HR" in r.interpretation("en") and "rasio hazard" in r.interpretation("id")


def test_person_months_expand_episodes_exactly(world):
    _, frame, model = world
    ep = shock_episodes(frame, model)
    assert (ep["months"] >= 1).all() and (ep["months"] <= ep["months_observed"]).all()
    assert ep["round"].isin(["followup_1", "followup_2"]).all()
    pm = person_months(ep)
    assert len(pm) == ep["months"].sum() and pm["event"].sum() == ep["recovered"].sum()
    last = pm.groupby((pm["month"] == 1).cumsum())["month"].max().to_numpy()
    assert (last == ep["months"].to_numpy()).all()
    tiny = pd.DataFrame({"months": [2, 1], "recovered": [1, 0], "community_id": ["a", "b"]})
    out = person_months(tiny)
    assert out["month"].tolist() == [1, 2, 1] and out["event"].tolist() == [0, 1, 0]


def test_recovery_refuses_too_few_events(world):
    _, frame, model = world
    few = frame[frame["member_community_id"].isin(frame["member_community_id"].unique()[:2])]
    with pytest.raises(ModelInputError):
        recovery_model(few, model)


def test_empowerment_coverage_and_associations(world):
    data, frame, model = world
    r = empowerment_map(data, frame, model)
    cov = r.coverage
    assert cov[["enabling", "empowering", "protecting"]].apply(lambda s: s.between(0, 1).all()).all()
    assert (cov["mentoring"] == frame["points"] / 4).all()
    table = r.coverage_table.set_index(["region_code", "round"])
    assert table.loc[("35", "all"), "mentoring"] == 0      # Kab. Blitar: no mentoring delivered (seed 000)
    assert table.loc[("ID", "all"), "n"] == len(frame)
    adaptive = r.estimates.set_index(["capacity", "term"]).loc[("adaptive", "empowering")]
    assert adaptive["estimate"] > 0 and adaptive["p_value"] < 0.01  # mentoring raises adaptive capacity
    assert "association" in r.interpretation("en") and "asosiasi" in r.interpretation("id")


def test_indicators_have_the_registry_shape_and_publish_through_suppression(world):
    data, frame, model = world
    index = resilience_index(frame, model)
    tab = resilience_indicators(data, frame=frame, index=index)
    assert list(tab.columns) == list(RESULT_COLUMNS) and tab.attrs["synthetic"]
    assert set(tab["period"]) == {"baseline", "followup_1", "followup_2"}
    assert not tab.duplicated(["indicator_id", "level", "region_code", "period", "disaggregation"]).any()
    nat = tab[(tab["level"] == "national") & (tab["disaggregation"] == "all")].set_index(["indicator_id", "period"])
    assert pd.isna(nat.get("resilience_rci_change", pd.Series(dtype=float)).get("baseline", np.nan))
    assert ("resilience_rci_change", "followup_1") in nat.index
    rci = nat.loc[("resilience_rci", "baseline")]
    assert rci["ci_low"] < rci["value"] < rci["ci_high"] and rci["denominator"] == 1400
    # the national value is the design-weighted mean of the provinces
    prov = tab[(tab["level"] == "province") & (tab["indicator_id"] == "resilience_rci") & (tab["period"] == "baseline")
               & (tab["disaggregation"] == "all")].set_index("region_code")["value"]
    n_reg = data.members["community_id"].map(data.communities.set_index("community_id")["province_code"]).value_counts()
    weighted = float((prov * n_reg.reindex(prov.index)).sum() / n_reg.reindex(prov.index).sum())
    assert rci["value"] == pytest.approx(weighted, abs=1e-9)
    published = suppress(tab, registry=registry(), synthetic=True)
    f = published.frame
    small = f["denominator"].isna() & f["suppressed"]
    assert small.any() and not (f.loc[~f["suppressed"], "denominator"] < 10).any()


def test_report_section_province_and_national(world):
    data, frame, model = world
    index = resilience_index(frame, model)
    sec = resilience_section(data, "35", frame=frame, index=index)
    assert sec.round == "followup_2" and sec.synthetic
    idx = sec.index.set_index("indicator_id")
    assert {"resilience_rci", "resilience_absorptive", "resilience_share_resilient"} <= set(idx.index)
    assert idx.loc["resilience_rci", "national_value"] != idx.loc["resilience_rci", "value"]
    assert len(sec.risks) == 5 and sec.risks["share"].is_monotonic_decreasing
    assert set(sec.activities["dimension"]) == {"enabling", "empowering", "protecting"}
    en, id_ = sec.text("en"), sec.text("id")
    assert "RCI" in en and "national" in en and "nasional" in id_ and "asosiasi" in id_
    brief = resilience_section(data, None, frame=frame, index=index)
    assert brief.region_code == "ID" and "national" not in brief.text("en")
    with pytest.raises(ValueError, match="no resilience interviews in province '99'"):
        resilience_section(data, "99", frame=frame, index=index)


def test_cr2_against_a_direct_construction():
    """CR2 variance: M sum_g X_g' (I - H_gg)^-1/2 e_g e_g' (I - H_gg)^-1/2 X_g M, built with scipy's sqrtm."""
    import statsmodels.api as sm
    from scipy.linalg import sqrtm

    from kkbm_analysis.resilience._cluster import cluster_table, cr2

    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(8), [5, 6, 7, 8, 9, 10, 11, 12])
    X = sm.add_constant(np.column_stack([rng.normal(size=len(g)), rng.normal(size=8)[g]]))
    y = X @ [1.0, 0.5, 0.2] + rng.normal(size=8)[g] + rng.normal(size=len(g))
    fit = sm.OLS(y, X).fit()
    V, df = cr2(X, fit.resid, g)
    M = np.linalg.inv(X.T @ X)
    meat = np.zeros((3, 3))
    for c in range(8):
        i = g == c
        A = np.linalg.inv(np.real(sqrtm(np.eye(i.sum()) - X[i] @ M @ X[i].T)))
        u = X[i].T @ A @ fit.resid[i]
        meat += np.outer(u, u)
    assert np.abs(M @ meat @ M - V).max() < 1e-10
    assert (df > 1).all() and (df < 8).all() and df[2] < df[1]   # a cluster-level covariate has fewer df
    cr1 = cluster_table(fit, g, "cr1")
    assert (cluster_table(fit, g)["std_error"] > cr1["std_error"]).all()   # CR2 corrects CR1's downward bias
