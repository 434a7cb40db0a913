"""Businesses, KUR loans and monthly business reports of the synthetic members, with Y12, survival and volume truths."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .calibration import KUR, REGIONAL_BANKS, SECTOR_MEDIAN_IDR, SECTOR_P, SECTORS, SURVIVAL, VOLUME, Y12
from .world import _block_seq, _days, _expit, _months, _ns, _World


def _businesses_and_kur(w: _World, comm: pd.DataFrame, mem: pd.DataFrame, groups: pd.DataFrame
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Early KUR, the Y12 outcome, member businesses and their survival, later KUR, group businesses."""
    rng = w.rng("business")
    ci, t0 = w.lat["member_ci"], w.lat["t0"]
    t12 = t0 + np.timedelta64(365, "D")
    n = len(ci)
    early = rng.random(n) < _expit(Y12["early_kur_logit"] + Y12["early_kur_point4"] * w.lat["point4"])
    early_ok = early & (rng.random(n) < KUR["p_approved"])
    eta = _y12_linear_predictor(w, early_ok)
    v = rng.normal(0, Y12["sd_community"], len(comm))
    y12 = rng.random(n) < _expit(eta + v[ci])
    closed_before = ~y12 & (early | (rng.random(n) < Y12["closed_share_if_no_business"]))
    start, applied, approved_on, closed = _member_business_dates(w, rng, t0, t12, early, early_ok, y12,
                                                                 closed_before)
    owner = np.flatnonzero(y12 | closed_before)
    loans = _kur_loans(w, rng, comm, mem, ci, t12, y12 & ~early, closed, early, early_ok, applied, approved_on)
    bus = _business_frame(w, rng, comm, mem, owner, start[owner], closed[owner], groups)
    _record_y12(w, eta, y12, closed_before)
    return bus, loans


def _y12_linear_predictor(w: _World, kur12: np.ndarray) -> np.ndarray:
    """Fixed part of logit P(Y12); stores the covariates for the ground truth."""
    mps = w.lat["members_per_staff"][w.lat["member_ci"]]
    x = np.column_stack([np.ones(len(kur12)), w.lat["points"], kur12, w.lat["female"],
                         w.lat["years_abroad"], (mps - w.lat["members_per_staff"].mean()) / 10])
    beta = np.array([Y12["b0"], Y12["beta_points"], Y12["beta_kur"], Y12["beta_female"],
                     Y12["beta_years_abroad"], Y12["beta_members_per_staff"]])
    w.lat["y12_x"], w.lat["y12_beta"] = x, beta
    return x @ beta


def _uniform_between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    span = np.maximum((hi - lo).astype(int), 0)
    return lo + _days(np.floor(rng.random(len(lo)) * (span + 1)))


def _member_business_dates(w, rng, t0, t12, early, early_ok, y12, closed_before):
    """Start, early-KUR application/approval and closure dates of member businesses."""
    d = lambda x: np.timedelta64(x, "D")  # noqa: E731
    start = np.where(early, _uniform_between(rng, t0 + d(30), t0 + d(150)),
                     np.where(y12, _uniform_between(rng, t0 + d(30), t12 - d(1)),
                              _uniform_between(rng, t0 + d(30), t12 - d(90))))
    applied = _uniform_between(rng, start + d(7), t12 - d(75))
    approved_on = applied + _days(rng.integers(14, 57, len(t0)))
    lo = np.maximum(start + d(30), np.where(early, applied + d(30), start + d(30)))
    close_before = _uniform_between(rng, lo, t12 - d(1))
    rate = SURVIVAL["lambda0_per_month"] / 30.44 * SURVIVAL["hr_per_point"] ** w.lat["points"]
    close_after = t12 + _days(np.ceil(rng.exponential(1 / rate)))
    nat = np.datetime64("NaT")
    closed = np.where(y12, np.where(close_after <= w.end, close_after, nat),
                      np.where(closed_before, close_before, nat))
    nat_arr = np.full(len(t0), nat, dtype="datetime64[D]")
    return (start, np.where(early, applied, nat_arr), np.where(early_ok, approved_on, nat_arr),
            closed.astype("datetime64[D]"))


def _kur_loans(w, rng, comm, mem, ci, t12, later_pool, closed, early, early_ok, applied, approved_on):
    """Early (before t12) and later KUR applications; amounts 5-50 juta; banks."""
    n = len(ci)
    stop = np.where(np.isnat(closed), w.end, closed) - np.timedelta64(60, "D")
    window = (stop - t12).astype(int)
    p_later = _expit(KUR["later_logit"] + KUR["later_point4"] * w.lat["point4"])
    later = later_pool & (window >= 30) & (rng.random(n) < p_later)
    later_applied = t12 + _days(np.floor(rng.random(n) * np.maximum(window, 0)))
    later_ok = later & (rng.random(n) < KUR["p_approved"])
    later_approved = later_applied + _days(rng.integers(14, 57, n))
    who = np.r_[np.flatnonzero(early), np.flatnonzero(later)]
    app = np.r_[applied[early], later_applied[later]]
    ok = np.r_[early_ok[early], later_ok[later]]
    appr = np.r_[approved_on[early], np.where(later_ok, later_approved, np.datetime64("NaT"))[later]]
    amount = np.round(np.exp(rng.uniform(np.log(KUR["amount_min_idr"]), np.log(KUR["amount_max_idr"]),
                                         len(who))) / 5e5) * 5e5
    order = np.lexsort((who, app))
    who, app, ok, appr, amount = who[order], app[order], ok[order], appr[order], amount[order]
    prov = comm["province_code"].to_numpy()[ci[who]]
    kur_month = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(kur_month, who[ok], _months(appr[ok]))
    w.lat["kur_month"] = kur_month
    _record_kur(w)
    loan_seq = _block_seq(np.sort(prov, kind="stable"))
    seq = np.empty(len(prov), dtype=int)
    seq[np.argsort(prov, kind="stable")] = loan_seq
    return pd.DataFrame({
        "loan_id": np.char.add(np.char.add(np.char.add("KUR-", prov.astype(str)), "-"),
                               np.char.zfill(seq.astype(str), 5)),
        "member_id": mem["member_id"].to_numpy()[who], "bank": _banks(w, rng, prov, app),
        "applied_on": _ns(app), "approved": pd.array(ok, dtype="boolean"),
        "approved_on": _ns(np.where(ok, appr, np.datetime64("NaT"))),
        "amount_idr": pd.array(np.where(ok, amount, np.nan), dtype="Float64"),
    })


def _banks(w: _World, rng: np.random.Generator, prov: np.ndarray, applied: np.ndarray) -> np.ndarray:
    """Lending bank; BSI exists from February 2021 (BRI Syariah before); BPD by province."""
    from lokal import wilayah
    banks = np.array(KUR["banks"], dtype=object)[rng.choice(len(KUR["banks"]), len(prov), p=KUR["bank_p"])]
    banks = np.where((banks == "BSI") & (applied < np.datetime64("2021-02-01")), "BRI Syariah", banks)
    bpd = np.array([REGIONAL_BANKS.get(p, f"Bank {wilayah._base()[p]}") for p in prov], dtype=object)
    return np.where(banks == "BPD", bpd, banks).astype(str)


def _business_frame(w, rng, comm, mem, owner, start, closed, groups) -> pd.DataFrame:
    """Member businesses plus a few group-owned ones; ids numbered by start date per community."""
    ci = w.lat["member_ci"][owner]
    g_ci = groups["community_id"].map(dict(zip(comm["community_id"], range(len(comm))))).to_numpy()
    has = rng.random(len(groups)) < 0.35
    g_formed = groups["formed_on"].to_numpy().astype("datetime64[D]")
    g_start = g_formed + _days(rng.integers(30, 241, len(groups)))
    has &= g_start <= w.end - np.timedelta64(60, "D")
    g_rate = SURVIVAL["lambda0_per_month"] / 30.44
    g_close = g_start + _days(np.ceil(rng.exponential(1 / g_rate, len(groups))))
    g_closed = np.where(g_close <= w.end, g_close, np.datetime64("NaT"))
    all_ci = np.r_[ci, g_ci[has]]
    all_start = np.r_[start, g_start[has]]
    all_closed = np.r_[closed, g_closed[has]].astype("datetime64[D]")
    owner_nik = np.r_[mem["member_id"].to_numpy()[owner], np.full(has.sum(), None)]
    group_id = np.r_[np.full(len(owner), None), groups["group_id"].to_numpy()[has]]
    member_idx = np.r_[owner, np.full(has.sum(), -1)]
    sector = rng.choice(len(SECTORS), len(all_ci), p=SECTOR_P)
    is_closed = ~np.isnat(all_closed)
    dormant = ~is_closed & (rng.random(len(all_ci)) < 0.05)
    status = np.where(is_closed, "closed", np.where(dormant, "dormant", "active"))
    order = np.lexsort((member_idx, all_start, all_ci))
    seq = _block_seq(all_ci[order])
    cid = comm["community_id"].to_numpy()[all_ci[order]]
    w.lat["business"] = {"member": member_idx[order], "sector": sector[order], "start": all_start[order],
                         "closed": all_closed[order], "dormant": dormant[order]}
    _record_survival(w)
    return pd.DataFrame({
        "business_id": np.char.add(np.char.add(cid.astype(str), "-U"), np.char.zfill(seq.astype(str), 3)),
        "community_id": cid, "owner_member_id": pd.array(owner_nik[order], dtype="str"),
        "group_id": pd.array(group_id[order], dtype="str"), "sector": np.array(SECTORS)[sector[order]],
        "started_on": _ns(all_start[order]), "status": status[order], "closed_on": _ns(all_closed[order]),
    })


def _y12_truth(w: _World) -> tuple[float, float]:
    """Population-averaged log OR per point and average marginal effect, integrating over v_c.

    The marginal coefficient is the probability limit of a logistic GLM (e.g. with
    cluster-robust errors) of Y12 on the model's covariates: it solves the GLM score
    equations with E_v[P(Y12 | x, v)] as outcome (Gauss-Hermite quadrature, 40 nodes).
    """
    x, beta = w.lat["y12_x"], w.lat["y12_beta"]
    nodes, weights = np.polynomial.hermite_e.hermegauss(40)
    weights = weights / weights.sum()
    sd = Y12["sd_community"]

    def marginal_p(eta: np.ndarray) -> np.ndarray:
        return _expit(eta[:, None] + sd * nodes[None, :]) @ weights

    eta = x @ beta
    mu = marginal_p(eta)
    b = np.zeros(x.shape[1])
    for _ in range(25):
        p = _expit(x @ b)
        step = np.linalg.solve(x.T @ (x * (p * (1 - p))[:, None]), x.T @ (mu - p))
        b += step
        if np.abs(step).max() < 1e-10:
            break
    ame = float(np.mean(marginal_p(eta + beta[1]) - mu))
    return float(b[1]), ame


def _record_y12(w: _World, eta: np.ndarray, y12: np.ndarray, closed_before: np.ndarray) -> None:
    marginal, ame = _y12_truth(w)
    s = "business_y12"
    w.record(s, "definition", "Y12 = 1 if the member owns a business with started_on <= t12 and "
             "(closed_on missing or > t12); t12 = t0 + 365 days, t0 = the member's entry-training date",
             "Outcome definition.")
    w.record(s, "covariates", "points = number of distinct mentoring points attended (all before t12); "
             "kur_approved_before_t12 = an approved KUR loan with approved_on <= t12; female = sex P; "
             "years_abroad as in members; members_per_staff centred at its mean and divided by 10",
             "Covariates of the Y12 model.")
    for key, text in (("b0", "Intercept."), ("beta_points", "Log odds ratio per mentoring point (log 1.4)."),
                      ("beta_kur", "Log odds ratio of an approved KUR before t12 (log 1.6)."),
                      ("beta_female", "Log odds ratio for women."),
                      ("beta_years_abroad", "Log odds ratio per year abroad."),
                      ("beta_members_per_staff", "Direct effect of members per staff (none: it acts "
                                                 "only through mentoring)."),
                      ("sd_community", "SD of the community random intercept v_c."),
                      ("closed_share_if_no_business", "Share of Y12 = 0 members (without early KUR) "
                                                      "whose business started after training and "
                                                      "closed before t12.")):
        w.record(s, key, Y12[key], text)
    w.record(s, "early_kur", "P(apply before t12) = expit(-2.5 + 1.0 * received point 4); early "
             "applicants have a business started 30-150 days after t0, apply 7+ days after the start "
             "and at least 75 days before t12", "How early KUR applications are drawn (before Y12).")
    w.record(s, "marginal_log_or_points", marginal,
             "Population-averaged log odds ratio per point (what a cluster-robust logistic GLM of Y12 "
             "on the same covariates estimates), integrating v_c out over the simulated population.")
    w.record(s, "ame_points", ame, "Average marginal effect of one more point on P(Y12), over the "
             "simulated members (probability scale).")
    w.record(s, "p_y12_realised", float(y12.mean()), "Realised share of members with Y12 = 1.")
    w.record(s, "p_y12_expected", float(np.mean(_expit(eta))), "Mean of expit(fixed part) (v_c = 0).")
    w.record(s, "group_businesses", "groups own a business with probability 0.35, started 30-240 days "
             "after the group formed, no owner member, constant hazard lambda0 from the start",
             "Group-owned businesses (not part of the Y12 population).")


def _record_survival(w: _World) -> None:
    s = "business_survival"
    w.record(s, "lambda0_per_month", SURVIVAL["lambda0_per_month"], "Baseline monthly closure hazard.")
    w.record(s, "hr_per_point", SURVIVAL["hr_per_point"], "Hazard ratio per mentoring point.")
    w.record(s, "beta_surv", float(np.log(SURVIVAL["hr_per_point"])), "Log hazard ratio per point.")
    w.record(s, "hazard", "constant (exponential) in time since t12", "Shape of the hazard.")
    w.record(s, "time_origin", "t12 (entry training + 365 days) for businesses running at t12; equivalently "
             "the business start with delayed entry at t12", "Analysis time origin.")
    w.record(s, "censoring_date", str(w.end), "Administrative censoring (end_year-12-31).")
    w.record(s, "status", "closed if closed_on is set; else active, or dormant for 5 % (dormant businesses "
             "stop reporting in their last 3 months)", "Business status model.")


def _record_kur(w: _World) -> None:
    s = "kur"
    w.record(s, "later_applications", "business owners running at t12 without an early application apply "
             "with P = expit(-0.9 + 0.8 * received point 4), uniformly between t12 and 60 days before "
             "closure or end", "Later KUR applications.")
    w.record(s, "p_approved", KUR["p_approved"], "Approval probability.")
    w.record(s, "approval_delay_days", [14, 56], "approved_on - applied_on, uniform.")
    w.record(s, "amount_idr", [KUR["amount_min_idr"], KUR["amount_max_idr"]],
             "Approved amount: log-uniform in this range, rounded to Rp 500,000 (KUR mikro).")
    w.record(s, "banks", dict(zip(KUR["banks"], KUR["bank_p"])),
             "Bank shares; BSI appears as BRI Syariah before February 2021; BPD = the province's bank.")


def _business_reports(w: _World, bus: pd.DataFrame) -> pd.DataFrame:
    """Monthly revenue and workers from start to closure/censoring; ~10 % of months unreported."""
    rng = w.rng("reports")
    b = w.lat["business"]
    nb = len(bus)
    m0 = _months(b["start"])
    last = np.where(np.isnat(b["closed"]), _months(np.array([w.end]))[0], _months(b["closed"]))
    nm = last - m0 + 1
    bi = np.repeat(np.arange(nb), nm)
    month = m0[bi] + (np.arange(len(bi)) - np.repeat(np.cumsum(nm) - nm, nm))
    keep = ~(b["dormant"][bi] & (month > last[bi] - 3))
    reported = keep & (rng.random(len(bi)) >= VOLUME["share_unreported"])
    member = b["member"][bi]
    kur_month = np.where(member >= 0, w.lat["kur_month"][np.maximum(member, 0)], np.iinfo(np.int64).max)
    effect = rng.normal(0, VOLUME["sd_business"], nb)
    log_rev = (np.log(np.asarray(SECTOR_MEDIAN_IDR))[b["sector"][bi]] + effect[bi]
               + rng.normal(0, VOLUME["sd_month"], len(bi)) + VOLUME["beta_kur_volume"] * (kur_month <= month))
    revenue = np.round(np.exp(log_rev) / 1000) * 1000
    base = rng.integers(1, 6, nb)
    workers = np.clip(base[bi] + (rng.random(len(bi)) < 0.15) * rng.choice([-1, 1], len(bi)), 1, 5)
    w.lat["unreported"] = (bi[keep & ~reported], month[keep & ~reported])
    _record_volume(w)
    r = reported
    return pd.DataFrame({
        "business_id": bus["business_id"].to_numpy()[bi[r]],
        "period": _ns(month[r].astype("datetime64[M]")),
        "revenue_idr": pd.array(revenue[r], dtype="Float64"),
        "workers": pd.array(workers[r], dtype="Int64"),
    })


def _record_volume(w: _World) -> None:
    s = "business_volume"
    w.record(s, "model", "log revenue_idr = log(sector median) + business effect + month noise + "
             "beta_kur_volume * 1[month(approved_on of the owner's first approved KUR) <= period]",
             "Monthly business volume model (rupiah, rounded to Rp 1,000).")
    w.record(s, "sector_median_idr", dict(zip(SECTORS, SECTOR_MEDIAN_IDR)), "Median monthly revenue by sector.")
    w.record(s, "sd_business", VOLUME["sd_business"], "SD of the business effect on log revenue.")
    w.record(s, "sd_month", VOLUME["sd_month"], "SD of the month noise on log revenue.")
    w.record(s, "beta_kur_volume", VOLUME["beta_kur_volume"],
             "Effect of an approved KUR (disbursed on or before the month) on log revenue (log 1.25).")
    w.record(s, "share_unreported", VOLUME["share_unreported"], "Share of business-months not reported.")
    w.record(s, "workers", "uniform 1-5 per business; +-1 in 15 % of months, clipped to 1-5",
             "Workers model.")
