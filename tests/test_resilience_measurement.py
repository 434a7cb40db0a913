"""Measurement: item analysis, EFA, CFA, invariance, sub-indices and RCI on the demo seed.

Recovery: the true observed-scale loadings sit inside the CFA's 95 % intervals; estimates
agree with independent computations (hand formulas for alpha, omega and the index;
factor_analyzer against semopy for one-factor loadings and regression scores) to 1e-6.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from resilience_world import demo_world

from kkbm_analysis.models import ModelInputError
from kkbm_analysis.resilience import (capacity_indices, cfa, compare_models, efa, item_analysis,
                                      measurement_invariance, one_factor_structure, resilience_index)
from kkbm_analysis.resilience.frames import item_fields, item_matrix
from kkbm_analysis.resilience.measurement import cronbach_alpha, omega_total, one_factor

TOL = 1e-6


@pytest.fixture(scope="module")
def world():
    return demo_world()


@pytest.fixture(scope="module")
def baseline_items(world):
    _, frame, _ = world
    base = frame[frame["round"] == "baseline"]
    return {s: item_matrix(base, f).dropna() for s, f in item_fields().items()}


def test_true_loadings_inside_the_intervals_on_the_demo_seed(world):
    """11 of the 12 intervals cover the truth on the demo seed; transform_capital misses by chance
    (estimate 2.5 SE above the truth; its coverage over 200 seeds is in benchmarks/results). With 12
    intervals at 95 %, one miss is expected 34 % of the time; the test allows one, never more."""
    data, _, model = world
    truth = pd.Series(data.manifest["ground_truth"]["resilience"]["loadings"]["value"])
    est = model.estimates.set_index("item").loc[truth.index]
    inside = (est["ci_low"] <= truth) & (truth <= est["ci_high"])
    assert list(truth.index[~inside]) == ["transform_capital"]
    z = (est["estimate"] - truth) / est["std_error"]
    assert z.abs().max() < 3 and abs(z.mean()) < 1


def test_cfa_fit_is_good_for_the_true_model_and_rejects_misspecified_ones(world):
    _, frame, model = world
    assert model.good_fit and model.fit_indices["df"] == 51
    assert model.fit_indices["rmsea_ci_low"] <= model.fit_indices["rmsea"] <= model.fit_indices["rmsea_ci_high"]
    rivals = compare_models(frame, {"one": one_factor_structure()}).iloc[0]
    assert not rivals["good_fit"] and rivals["p_value"] < 1e-6 and rivals["cfi"] < 0.9
    orthogonal = cfa(frame, correlated=False)
    assert not orthogonal.good_fit and orthogonal.fit_indices["srmr"] > 0.08
    corr = model.correlations.set_index(["factor_a", "factor_b"])["estimate"]
    assert corr.between(0.2, 0.7).all()


def test_alpha_and_omega_against_hand_computations(world, baseline_items):
    _, frame, _ = world
    ia = item_analysis(frame)
    for scale, x in baseline_items.items():
        C = np.cov(x.to_numpy(), rowvar=False)
        k = C.shape[0]
        alpha_hand = k / (k - 1) * (1 - np.trace(C) / C.sum())
        row = ia.estimates.set_index("scale").loc[scale]
        assert row["alpha"] == pytest.approx(alpha_hand, abs=TOL)
        lam, theta = one_factor(x)
        assert row["omega"] == pytest.approx(lam.sum() ** 2 / (lam.sum() ** 2 + theta.sum()), abs=TOL)
        items = ia.items[ia.items["scale"] == scale].set_index("item")
        first = x.columns[0]
        rest = x.drop(columns=first).sum(axis=1)
        assert items.loc[first, "item_rest_r"] == pytest.approx(np.corrcoef(x[first], rest)[0, 1], abs=TOL)
        assert items.loc[first, "floor_share"] == pytest.approx((x[first] == 1).mean(), abs=TOL)
    assert cronbach_alpha(pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 2, 3, 4]})) == pytest.approx(1.0)
    assert omega_total(np.array([1.0, 1.0]), np.array([0.0, 0.0])) == 1.0


def _ml_one_factor_by_hand(x: pd.DataFrame, start: np.ndarray) -> np.ndarray:
    """Standardized one-factor ML loadings: minimise log|S(l)| + tr(R S(l)^-1) directly (no SEM library)."""
    from scipy import optimize

    R = np.corrcoef(x.to_numpy(), rowvar=False)

    def discrepancy(lam):
        sigma = np.outer(lam, lam) + np.diag(1 - lam * lam)
        return np.linalg.slogdet(sigma)[1] + np.trace(R @ np.linalg.inv(sigma))

    return optimize.minimize(discrepancy, start, method="BFGS", options={"gtol": 1e-12}).x


def test_semopy_loadings_and_scores_agree_with_independent_computations(baseline_items):
    """semopy's one-factor loadings equal a direct minimisation of the ML discrepancy to 1e-6 and
    factor_analyzer's to 1e-5 (factor_analyzer stops its L-BFGS-B search about 1e-6 short of the
    optimum: its discrepancy is higher than semopy's); regression scores equal factor_analyzer's."""
    from factor_analyzer import FactorAnalyzer

    for scale, x in baseline_items.items():
        lam, theta = one_factor(x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fa = FactorAnalyzer(n_factors=1, rotation=None, method="ml").fit(x.to_numpy())
            fa_scores = fa.transform(x.to_numpy())[:, 0]
        sign = np.sign(fa.loadings_[0, 0])
        ref = fa.loadings_[:, 0] * sign
        hand = _ml_one_factor_by_hand(x, ref)
        std = lam / np.sqrt(lam**2 + theta)
        assert np.abs(std - hand).max() < TOL, scale
        assert np.abs(ref - hand).max() < 1e-5, scale
        model = cfa(x.assign(round="baseline"), {scale: list(x.columns)})
        ours = model.scores(x, method="regression")[scale].to_numpy()
        # factor_analyzer scores the standardized items with R^-1 L: the same as ours on the raw scale
        assert np.abs(ours - sign * fa_scores).max() < 1e-4, scale
        assert np.corrcoef(ours, fa_scores)[0, 1] * sign > 1 - 1e-9


def test_efa_recovers_the_three_capacities(world):
    _, frame, _ = world
    r = efa(frame)
    assert r.suggested_factors == 3 and r.matches_scales() == 1.0 and r.kmo > 0.7
    assert r.bartlett_p < 1e-10


def test_index_against_a_hand_computation(world):
    _, frame, model = world
    sub = capacity_indices(frame, model)
    lam, theta, _ = model.matrices()
    for cap, items in model.structure.items():
        w = lam.loc[items, cap] / theta.loc[items]
        w = w / w.sum()
        hand = 100 * ((frame[items].astype(float) - 1) / 4 * w.to_numpy()).sum(axis=1)
        assert np.abs(sub[cap] - hand).max() < TOL
        assert sub[cap].between(0, 100).all()
    idx = resilience_index(frame, model)
    v = idx.estimates.set_index("capacity")["rci_weight"]
    assert v.sum() == pytest.approx(1.0) and (v > 0).all()
    hand_rci = sum(sub[c] * v[c] for c in model.structure)
    assert np.abs(idx.scores["rci"] - hand_rci).max() < TOL
    assert (idx.scores["resilient"] == (sub >= 50).all(axis=1)).all()


def test_structure_matrix_ranks_the_capacity_built_to_drive_wellbeing(world):
    _, frame, model = world
    idx = resilience_index(frame, model)
    caps = idx.structure[idx.structure["level"] == "capacity"].set_index("name")
    assert caps["weight_in_rci"].idxmax() == "absorptive"   # outcomes load most on absorptive by construction
    items = idx.structure[idx.structure["level"] == "item"]
    assert items["weight_in_rci"].sum() == pytest.approx(1.0)
    assert {"Resilience Capacity Index", "Indeks"} & set(" ".join([idx.summary(), idx.interpretation("id")]).split()) \
        or "RCI" in idx.interpretation("id")


def test_invariance_configural_equals_the_separate_group_fits(world):
    _, frame, _ = world
    r = measurement_invariance(frame, "sex")
    assert r.supported and list(r.estimates["level"]) == ["configural", "metric", "scalar"]
    base = frame[frame["round"] == "baseline"]
    separate = sum(cfa(base[base["sex"] == s]).fit_indices["chi2"] for s in ("L", "P"))
    assert r.estimates.iloc[0]["chi2"] == pytest.approx(separate, abs=1e-3)
    assert r.estimates["df"].is_monotonic_increasing and r.estimates["converged"].all()
    assert r.highest_level in ("metric", "scalar")  # invariant by construction (ordinal items: close)
    assert "sex" in r.interpretation("en") and "jenis kelamin" in r.interpretation("id")


def test_invariance_says_plainly_when_groups_are_too_small(world):
    _, frame, _ = world
    small = frame[frame["member_community_id"].isin(frame["member_community_id"].unique()[:8])]
    r = measurement_invariance(small, "province_code")
    assert not r.supported and r.estimates.empty
    assert "cannot support" in r.interpretation("en") and "tidak cukup" in r.interpretation("id")
    assert not r.groups["used"].any()


def test_guard_rails(world):
    _, frame, _ = world
    with pytest.raises(ModelInputError, match="too few complete answers"):
        cfa(frame.head(20))
    with pytest.raises(ModelInputError, match="too few complete answers"):
        item_analysis(frame.assign(absorb_savings=pd.NA))


def test_results_are_bilingual_and_labelled_synthetic(world):
    _, frame, model = world
    for r in (model, item_analysis(frame)):
        assert r.summary().startswith("SYNTHETIC DATA")
        assert r.interpretation("id") != r.interpretation("en")
        assert "," in r.interpretation("id")   # decimal commas
        with pytest.raises(ValueError):
            r.interpretation("fr")
