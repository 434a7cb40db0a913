"""The Perdes DiD's fast numerical core against the dense computation it replaced.

``dense_imputation_effect`` below is the Borusyak–Jaravel–Spiess imputation estimator as the
package computed it until the fixed effects were absorbed by block elimination: the village
and month dummies' normal equations built and solved as one dense (N + T - 1)-square system,
one dense solve per batch of estimands, and the pre-trend regression's collinearity checked
with a full SVD of the dummy matrix's Gram matrix and its coefficients from a dense inverse.
It is kept here, not in the package, as the reference: the package's result must equal it to
1e-8 (every estimate, standard error, event-study row, uniform band, pre-trend statistic,
ATT(g, t) cell and note) on the demo seed, on other seeds, and on hand-made panels that
exercise the awkward cases (no never-treated village, a cohort of one village, leads that
are collinear with the fixed effects, villages left out of the panel). The sup-t pre-trend test
is the one deliberate change (a wild restricted bootstrap-t, tested on its own below). Also
here: the fixed-effects solver against plain least squares, and, with the ``bench`` extra,
each estimator against its peer package.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from kkbm_analysis import models, synth
from kkbm_analysis.config import DEFAULT_SEED
from kkbm_analysis.models import ModelInputError, ModelWarning, did
from kkbm_analysis.models._base import FEW_CLUSTERS, Z95, warn
from kkbm_analysis.models.did import _perdes_result, _relative, _uniform_band, _wald
from kkbm_analysis.models.frames import month_label

TOL = 1e-8


# ----------------------------------------------------------------------------- the dense reference
def dense_imputation_effect(Y: np.ndarray, cohort: np.ndarray, months: np.ndarray, never: np.ndarray, notes: list[str],
                       *, synthetic: bool, outcome: str, event_window: tuple[int, int], n_boot: int,
                       seed: int) -> models.PerdesEffect:
    """The dense reference: ``did._imputation_effect`` as it was before the fixed effects were absorbed."""
    N, T = Y.shape
    first, last = months[0], months[-1]
    treated = ~never
    E = np.where(treated[:, None], months[None, :] - cohort[:, None], np.iinfo(np.int64).min)  # event time
    D = treated[:, None] & (E >= 0)                               # treated observations (Omega_1)
    M = ~D                                                        # untreated observations (Omega_0)
    bad = np.flatnonzero(D.any(axis=0) & ~M.any(axis=0))
    if len(bad):
        raise ModelInputError(
            "the imputation estimator needs never-treated or not-yet-treated villages in every month with "
            f"adopting villages; no untreated village in {month_label(months[bad[0]])}"
            + (f" and {len(bad) - 1} later month(s)" if len(bad) > 1 else ""))
    if not never.any():
        notes.append("no never-treated village: the counterfactuals are imputed from not-yet-treated villages only")
    if N < FEW_CLUSTERS:
        warn(f"only {N} villages: village-clustered standard errors are unreliable", notes)
    ZZ = _dense_fe_gram(M)
    # step 1: village and month fixed effects on untreated observations only
    theta = np.linalg.solve(ZZ, _dense_fe_rhs(np.where(M, Y, 0.0)))
    fitted = theta[:N, None] + np.concatenate([[0.0], theta[N:]])[None, :]
    resid0 = np.where(M, Y - fitted, 0.0)
    # step 2: unit-level effects of treated observations
    tau = np.where(D, Y - fitted, np.nan)
    # leave-one-village-out mean effect by event time (BJS Theorem 3 'auxiliary' tau-bar, conservative)
    e_vals = np.unique(E[D])
    tau_bar = np.zeros_like(Y)
    tot, cnt = np.nansum(tau), D.sum()
    for e in e_vals:
        sel = D & (E == e)
        s_e, n_e = tau[sel].sum(), sel.sum()
        own = np.where(sel, tau, 0.0).sum(axis=1)                  # one obs per village at event time e
        has = sel.any(axis=1)
        lo_mean = (s_e - own) / (n_e - 1) if n_e > 1 else None
        for i in np.flatnonzero(has):
            if n_e > 1:
                tau_bar[i, sel[i]] = lo_mean[i]
            else:  # a single village at this event time: leave-out mean over all other treated obs
                own_all = np.nansum(tau[i])
                tau_bar[i, sel[i]] = (tot - own_all) / max(cnt - D[i].sum(), 1)
    eps = np.where(D, np.nan_to_num(tau) - tau_bar, resid0)        # auxiliary residuals for the variance

    def estimate(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Estimands sum(W_k * tau) for weight arrays W (K x N x T on Omega_1): estimates and N x K influence."""
        B = np.linalg.solve(ZZ, np.stack([_dense_fe_rhs(w) for w in W], axis=1))          # P x K
        adj = B[:N].T[:, :, None] + np.vstack([np.zeros(len(W)), B[N:]]).T[:, None, :]  # K x N x T
        V = W - M[None] * adj                                                         # weights on Y
        est = (V * Y[None]).sum(axis=(1, 2))
        psi = (V * eps[None]).sum(axis=2).T                                           # N x K
        return est, psi * N                                     # scaled as the CS influence functions

    def weights(sel_list: list[np.ndarray]) -> np.ndarray:
        return np.stack([sel / sel.sum() for sel in sel_list]).astype(float)

    est, inf = estimate(weights([D]))
    overall = _wald(float(est[0]), inf[:, 0], N)
    relative = _relative(Y, cohort, months, float(est[0]), inf[:, 0], N)
    # cohort x month cells (post only), by chunks
    cell_g, cell_t = [], []
    for g in np.unique(cohort[treated]):
        for ti in np.flatnonzero(months >= g):
            cell_g.append(g)
            cell_t.append(ti)
    cell_att, cell_se, cell_n = [], [], []
    for k0 in range(0, len(cell_g), 64):
        sels = []
        for g, ti in zip(cell_g[k0:k0 + 64], cell_t[k0:k0 + 64]):
            sel = np.zeros_like(D)
            sel[cohort == g, ti] = True
            sels.append(sel)
            cell_n.append(int((cohort == g).sum()))
        a, f = estimate(weights(sels))
        cell_att += list(a)
        cell_se += list(np.sqrt((f**2).sum(axis=0)) / N)
    cell_att, cell_se = np.asarray(cell_att), np.asarray(cell_se)
    att_gt = pd.DataFrame({"cohort": [month_label(g) for g in cell_g], "period": [month_label(months[t]) for t in cell_t],
                           "event_time": np.asarray([months[t] - g for g, t in zip(cell_g, cell_t)], dtype="int64"),
                           "att": cell_att, "std_error": cell_se, "ci_low": cell_att - Z95 * cell_se,
                           "ci_high": cell_att + Z95 * cell_se, "n_villages": np.asarray(cell_n, dtype="int64"),
                           "post": True})
    lo, hi = event_window
    rows, infs = [], []
    lead_list = [e for e in range(lo, 0) if (treated[:, None] & (E == e)).any()]
    pre_inf = None
    if lead_list:
        lead_list, lead_est, pre_inf = _dense_bjs_leads(Y, M, E, lead_list, notes)
        for j, e in enumerate(lead_list):
            sel = E == e
            rows.append({"event_time": e, **_wald(float(lead_est[j]), pre_inf[:, j], N),
                         "n_cohorts": int(len(np.unique(cohort[sel.any(axis=1)]))), "n_villages": int(sel.sum())})
            infs.append(pre_inf[:, j])
    post_e = [e for e in range(max(lo, 0), hi + 1) if (D & (E == e)).any()]
    if post_e:
        a, f = estimate(weights([D & (E == e) for e in post_e]))
        for j, e in enumerate(post_e):
            sel = D & (E == e)
            rows.append({"event_time": e, **_wald(float(a[j]), f[:, j], N),
                         "n_cohorts": int(len(np.unique(cohort[sel.any(axis=1)]))), "n_villages": int(sel.sum())})
            infs.append(f[:, j])
    es = pd.DataFrame(rows).rename(columns={"estimate": "att"})
    if_es = np.column_stack(infs)
    es["cband_low"], es["cband_high"] = _uniform_band(es, if_es, N, n_boot, seed)
    return _perdes_result(es, if_es, Y, cohort, months, treated, never, (first, last), seed=seed,
                          overall=overall, relative=relative, att_gt=att_gt, notes=notes, synthetic=synthetic,
                          outcome=outcome, n_obs=int(N * len(months)), estimator="imputation",
                          lead_t=_gaussian_multiplier_t(pre_inf, N) if pre_inf is not None else None,
                          pretrend_test="mean of BJS lead coefficients = 0",
                          estimator_note=("estimator: Borusyak–Jaravel–Spiess imputation (village and month "
                                          f"fixed effects fitted on {int(M.sum()):,} untreated village-months, "
                                          f"effects imputed for {int(D.sum()):,} treated ones); conservative "
                                          "analytic standard errors clustered by village"))



def _gaussian_multiplier_t(inf: np.ndarray, N: int):
    """The sup-t bootstrap the package used before the wild restricted bootstrap-t: signs times the
    influence functions, over fixed standard errors (its p-value is not compared: see assert_same_result)."""
    se = np.sqrt((inf**2).sum(axis=0)) / N
    return lambda v: (v @ inf / N) / se


def _dense_fe_gram(M: np.ndarray, extra: list[np.ndarray] | None = None) -> np.ndarray:
    """Z'Z of village dummies + month dummies (first month dropped) [+ extra indicator columns] on mask M."""
    N, T = M.shape
    Mf = M.astype(float)
    P = N + T - 1
    G = np.zeros((P, P))
    G[np.arange(N), np.arange(N)] = Mf.sum(axis=1)
    G[np.arange(N, P), np.arange(N, P)] = Mf.sum(axis=0)[1:]
    G[:N, N:] = Mf[:, 1:]
    G[N:, :N] = Mf[:, 1:].T
    if not extra:
        return G
    X = [_dense_fe_rhs(x.astype(float)) for x in extra]
    L = len(extra)
    out = np.zeros((P + L, P + L))
    out[:P, :P] = G
    for j, x in enumerate(X):
        out[:P, P + j] = out[P + j, :P] = x
        out[P + j, P + j] = extra[j].sum()               # disjoint indicators: diagonal block
    return out


def _dense_fe_rhs(W: np.ndarray) -> np.ndarray:
    """Z'w for an N x T array w (zero outside the sample): village sums, then month sums (first dropped)."""
    return np.concatenate([W.sum(axis=1), W.sum(axis=0)[1:]])


def _dense_bjs_leads(Y: np.ndarray, M: np.ndarray, E: np.ndarray, lead_list: list[int], notes: list[str]):
    """BJS pre-trend regression: untreated Y on village and month FE plus lead indicators (untreated obs only).

    Returns the leads kept, their coefficients and N x L influence functions (village clusters,
    scaled as the CS ones). Leads are dropped from the earliest if they are collinear with the
    fixed effects (every pre-period of every adopting village inside the window).
    """
    N, T = Y.shape
    P = N + T - 1
    while lead_list:
        ind = [M & (E == e) for e in lead_list]
        G = _dense_fe_gram(M, ind)
        if np.linalg.matrix_rank(G) == len(G):
            break
        notes.append(f"lead e={lead_list[0]} is collinear with the fixed effects and was dropped from the pre-trend "
                     "regression")
        lead_list = lead_list[1:]
    if not lead_list:
        return [], np.array([]), np.zeros((N, 0))
    R = np.linalg.inv(G)[P:]                                   # L x (P + L): rows of the lead coefficients
    Vs = []
    for j in range(len(lead_list)):
        V = R[j, :N][:, None] + np.concatenate([[0.0], R[j, N:P]])[None, :]
        for k, x in enumerate(ind):
            V = V + R[j, P + k] * x
        Vs.append(np.where(M, V, 0.0))                        # coefficient j = sum(V * Y)
    Vs = np.stack(Vs)
    coef = (Vs * Y[None]).sum(axis=(1, 2))
    full = np.linalg.solve(G, np.concatenate([_dense_fe_rhs(np.where(M, Y, 0.0)), [Y[x].sum() for x in ind]]))
    fitted = full[:N, None] + np.concatenate([[0.0], full[N:P]])[None, :] + sum(full[P + k] * x for k, x in enumerate(ind))
    resid = np.where(M, Y - fitted, 0.0)
    psi = (Vs * resid[None]).sum(axis=2).T                    # N x L
    return list(lead_list), coef, psi * N


# ----------------------------------------------------------------------------- comparison
def _fit(panel: pd.DataFrame, **kw) -> tuple[models.PerdesEffect, list]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ModelWarning)
        res = models.perdes_effect(panel, estimator="imputation", **kw)
    return res, [str(w.message) for w in caught]


def assert_same_result(panel: pd.DataFrame, monkeypatch, **kw) -> models.PerdesEffect:
    """perdes_effect with the package's numerical core equals it with the dense reference swapped in."""
    fast, fast_warnings = _fit(panel, **kw)
    with monkeypatch.context() as m:
        m.setattr(did, "_imputation_effect", dense_imputation_effect)
        ref, ref_warnings = _fit(panel, **kw)
    assert fast_warnings == ref_warnings
    assert fast.notes == ref.notes
    for name in ("overall", "relative", "twfe"):
        got, want = getattr(fast, name), getattr(ref, name)
        assert got.keys() == want.keys()
        np.testing.assert_allclose([got[k] for k in want], [want[k] for k in want], rtol=0, atol=TOL, err_msg=name)
    assert (fast.pretrend is None) == (ref.pretrend is None)
    if ref.pretrend is not None:
        # p_value_joint is left out on purpose: the sup-t test changed from the Gaussian multiplier bootstrap
        # (kept in the reference) to the wild restricted bootstrap-t (tested below and in the validation)
        assert fast.pretrend["leads"] == ref.pretrend["leads"] and fast.pretrend["test"] == ref.pretrend["test"]
        assert 0 <= fast.pretrend["p_value_joint"] <= 1
        keys = ["estimate", "std_error", "statistic", "df", "p_value"]
        np.testing.assert_allclose([fast.pretrend[k] for k in keys], [ref.pretrend[k] for k in keys], rtol=0, atol=TOL)
    for name in ("estimates", "event_study", "att_gt"):
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(ref, name), check_exact=False, rtol=0, atol=TOL,
                                      obj=name)
    assert (fast.n_obs, fast.n_treated, fast.n_never_treated, fast.n_cohorts, fast.periods) == (
        ref.n_obs, ref.n_treated, ref.n_never_treated, ref.n_cohorts, ref.periods)
    return fast


def random_panel(rng: np.random.Generator, n_villages: int = 60, n_months: int = 36, *, p_adopt: float = 0.5,
                 never: bool = True, cohorts: tuple[int, int] = (6, 30)) -> pd.DataFrame:
    """A Poisson village x month panel with staggered adoption and effects growing with event time."""
    months = np.arange(24000, 24000 + n_months)
    g = months[0] + rng.integers(*cohorts, n_villages)
    adopt = rng.random(n_villages) < p_adopt if never else np.ones(n_villages, dtype=bool)
    e = months[None, :] - g[:, None]
    mu = np.exp(rng.normal(0.5, 0.6, n_villages)[:, None] + 0.3 * np.sin(months / 2.0)[None, :])
    y = rng.poisson(mu * np.where(adopt[:, None] & (e >= 0), np.exp(-0.02 * np.minimum(e, 20) - 0.1), 1.0))
    return pd.DataFrame({"village_code": np.repeat([f"V{i:03d}" for i in range(n_villages)], n_months),
                         "month": np.tile(months, n_villages), "y": y.ravel().astype(float),
                         "cohort": pd.array(np.repeat(np.where(adopt, g, -1), n_months), dtype="Int64")
                         }).replace({"cohort": {-1: pd.NA}})


@pytest.fixture(scope="module")
def demo_panels() -> dict[str, pd.DataFrame]:
    data = synth.program_data(seed=DEFAULT_SEED, scale="demo")
    return {outcome: models.departures_panel(data, outcome) for outcome in ("non_procedural", "procedural")}


def test_demo_seed_equals_the_dense_reference(demo_panels, monkeypatch):
    res = assert_same_result(demo_panels["non_procedural"], monkeypatch)
    assert res.overall["estimate"] == pytest.approx(-0.6217, abs=1e-4)    # the demo seed's published figure
    assert list(res.event_study["event_time"]) == list(range(-12, 25))
    assert_same_result(demo_panels["procedural"], monkeypatch, n_boot=199, seed=5)
    assert_same_result(demo_panels["non_procedural"], monkeypatch, event_window=(-6, 12), n_boot=0)


@pytest.mark.parametrize("seed", [1, 7])
def test_other_seeds_equal_the_dense_reference(seed, monkeypatch):
    data = synth.program_data(seed=seed, scale=0.1)      # the scale changes members, not the 49-village panel
    assert_same_result(models.departures_panel(data), monkeypatch, n_boot=199)


def test_awkward_panels_equal_the_dense_reference(monkeypatch):
    rng = np.random.default_rng(11)
    assert_same_result(random_panel(rng, 90, 40), monkeypatch, event_window=(-8, 10), n_boot=99)
    # a single never-treated village: the later months' counterfactuals rest on it and on not-yet-treated ones
    panel = random_panel(rng, 40, 30, never=False, cohorts=(4, 20))
    assert_same_result(panel.assign(cohort=panel["cohort"].where(panel["village_code"] != "V005")), monkeypatch,
                       n_boot=0)
    # a cohort of one village (its event times pool over all other treated observations), a village adopting
    # before the panel (left out) and a village with a missing month (left out)
    panel = random_panel(rng, 30, 30)
    panel.loc[panel["village_code"] == "V000", "cohort"] = 24000 + 29
    panel.loc[panel["village_code"] == "V001", "cohort"] = 24000 - 3
    panel = panel.drop(panel.index[(panel["village_code"] == "V002") & (panel["month"] == 24005)])
    res = assert_same_result(panel, monkeypatch, n_boot=0)
    assert any("missing months" in n for n in res.notes) and any("no pre-period" in n for n in res.notes)


def test_leads_collinear_with_the_fixed_effects_are_dropped_like_the_reference(monkeypatch):
    """Every pre-period of every adopting village inside the window and no never-treated village:
    the leads sum to the adopting villages' dummies, so the earliest lead must go."""
    rng = np.random.default_rng(3)
    panel = random_panel(rng, 24, 20, never=False, cohorts=(3, 7))
    panel.loc[panel["village_code"] == "V000", "cohort"] = pd.NA     # ... apart from one never-treated village
    res = assert_same_result(panel, monkeypatch, event_window=(-8, 6), n_boot=0)
    assert any("collinear with the fixed effects" in n for n in res.notes)


def test_exact_fixed_effects_panel_has_zero_residual_variance(monkeypatch):
    """Y = village FE + month FE - 0.4 after adoption: estimates exact, SEs 0 (their ratios are rounding noise,
    so only estimates and SEs are compared)."""
    rng = np.random.default_rng(5)
    panel = random_panel(rng, 20, 24)
    fe = panel.groupby("village_code")["y"].transform("mean") + np.cos(panel["month"])
    post = panel["cohort"].notna() & (panel["month"] >= panel["cohort"].fillna(10**6))
    panel = panel.assign(y=fe - 0.4 * post)
    fast, _ = _fit(panel, n_boot=0)
    with monkeypatch.context() as m:
        m.setattr(did, "_imputation_effect", dense_imputation_effect)
        ref, _ = _fit(panel, n_boot=0)
    assert fast.overall["estimate"] == pytest.approx(-0.4, abs=1e-9)
    assert fast.overall["std_error"] == pytest.approx(0.0, abs=1e-9)
    for name, cols in (("event_study", ["event_time", "att", "std_error"]), ("att_gt", ["att", "std_error"])):
        np.testing.assert_allclose(getattr(fast, name)[cols], getattr(ref, name)[cols], rtol=0, atol=TOL)


def test_guard_rails_are_unchanged():
    rng = np.random.default_rng(2)
    panel = random_panel(rng, 20, 24, never=False, cohorts=(3, 5))     # every village treated by month 5
    with pytest.raises(ModelInputError, match="no untreated village in"):
        models.perdes_effect(panel, n_boot=0)


def test_two_way_fe_is_the_least_squares_fit():
    from kkbm_analysis.models._twoway import TwoWayFE

    rng = np.random.default_rng(8)
    N, T = 30, 12
    mask = rng.random((N, T)) < 0.7
    mask[:, 0] = True                                            # connected through the first period
    Y = rng.normal(size=(N, T))
    rows, cols = np.nonzero(mask)
    Z = np.hstack([np.eye(N)[rows], np.eye(T)[cols][:, 1:]])     # village dummies, month dummies but the first
    b = np.linalg.lstsq(Z, Y[rows, cols], rcond=None)[0]
    fe = TwoWayFE(mask)
    np.testing.assert_allclose(fe.fitted(Y)[mask], Z @ b, rtol=0, atol=1e-12)
    a, lam = fe.solve(np.zeros((N, 1)), np.zeros((T, 1)))
    assert not a.any() and not lam.any()
    resid = fe.residuals(Y)
    assert (resid[~mask] == 0).all() and np.allclose(resid.sum(axis=1), 0) and np.allclose(resid.sum(axis=0), 0)
    mask[3] = False
    with pytest.raises(np.linalg.LinAlgError, match="no cell"):
        TwoWayFE(mask)


# ----------------------------------------------------------------------------- sup-t pre-trend test
@pytest.fixture
def lead_bootstrap(monkeypatch):
    """Captures what perdes_effect hands to the pre-trend tests: the leads and their bootstrap-t function."""
    seen = {}
    real = did.pretrend_tests

    def spy(leads, inf, N, lead_t, seed, n_boot=999):
        seen.update(leads=leads, lead_t=lead_t, N=N)
        return real(leads, inf, N, lead_t, seed, n_boot)

    monkeypatch.setattr(did, "pretrend_tests", spy)
    return seen


@pytest.mark.parametrize("estimator", ["imputation", "callaway_santanna"])
def test_bootstrap_t_with_unit_multipliers_is_the_observed_t(estimator, demo_panels, lead_bootstrap):
    """All multipliers 1 rebuild the data themselves: the re-estimated leads and SEs are the observed ones."""
    res = models.perdes_effect(demo_panels["non_procedural"], estimator=estimator, n_boot=0)
    leads = lead_bootstrap["leads"]
    observed = (leads["att"] / leads["std_error"]).to_numpy()
    assert len(observed) == 12 and res.pretrend["leads"] == list(range(-12, 0))
    ones = np.ones((3, lead_bootstrap["N"]))
    np.testing.assert_allclose(lead_bootstrap["lead_t"](ones), np.tile(observed, (3, 1)), rtol=1e-9, atol=1e-9)
    # the sign of every village flipped: same fit, mirrored residuals, t-statistics of the opposite sign
    np.testing.assert_allclose(lead_bootstrap["lead_t"](-ones[:1])[0], -observed, rtol=1e-9, atol=1e-9)
    draws = lead_bootstrap["lead_t"](np.random.default_rng(0).choice([-1.0, 1.0], size=(200, lead_bootstrap["N"])))
    assert np.isfinite(draws).all() and 0.7 < draws.std() < 1.5   # t-like draws, not the observed ones repeated


@pytest.mark.parametrize("estimator", ["imputation", "callaway_santanna"])
def test_sup_t_rejects_a_planted_pre_trend_and_is_reproducible(estimator, demo_panels):
    panel = demo_panels["non_procedural"]
    months_before = (panel["cohort"].astype("Float64") - panel["month"]).astype(float)
    dip = np.where(panel["cohort"].notna() & months_before.between(1, 4), 2.0, 0.0)   # a jump 4 months before
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)
        res = models.perdes_effect(panel.assign(y=panel["y"] + dip), estimator=estimator, n_boot=0)
        again = models.perdes_effect(panel.assign(y=panel["y"] + dip), estimator=estimator, n_boot=0)
        other = models.perdes_effect(panel.assign(y=panel["y"] + dip), estimator=estimator, n_boot=0, seed=1)
    assert res.pretrend["p_value_joint"] < 0.01
    assert again.pretrend == res.pretrend and other.pretrend["p_value_joint"] < 0.01


# ----------------------------------------------------------------------------- peer packages (bench extra)
def test_each_estimator_matches_its_peer_package():
    """Callaway–Sant'Anna = the differences package; BJS point estimates = Gardner's two-stage DiD (pyfixest);
    BJS leads and their SEs = pyfixest's feols on the untreated observations."""
    pytest.importorskip("pyfixest", reason="peer package of the benchmarks (pip install -e .[bench])")
    pytest.importorskip("differences", reason="peer package of the benchmarks (pip install -e .[bench])")
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        import validate_models as vm
    finally:
        sys.path.pop(0)
    rows = pd.DataFrame(vm.crosscheck(DEFAULT_SEED, "demo"))
    exact = rows[(rows["compare"] == "equal") & ~rows["peer"].str.startswith("pyfixest did2s")]
    assert len(exact) == 4 and (exact["abs_diff"] < 1e-8).all(), exact.to_string()
    did2s = rows[(rows["compare"] == "equal") & rows["peer"].str.startswith("pyfixest did2s")]
    assert len(did2s) == 2 and (did2s["abs_diff"] < 1e-4).all(), did2s.to_string()   # its demeaning tolerance
    ratio = rows.loc[rows["compare"] == "ratio"].iloc[0]
    assert 0.8 < ratio["ours"] / ratio["theirs"] < 1.5       # BJS's conservative SE against Gardner's
