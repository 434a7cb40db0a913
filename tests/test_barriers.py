"""Barrier factors on a tiny hand-made programme whose every number is computed by hand.

Two communities: C1 in Jawa Timur (35, no mentoring at all, a CO who left and was replaced
after three months) and C2 in Banten (36, mentoring delivered, a penggerak who left and was
never replaced). Six members, three in each. Expected values are written out in the
comments beside each assertion.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kkbm_analysis import barriers as br
from kkbm_analysis.data import ProgramData
from kkbm_analysis.verdicts import VERDICTS, verdicts

D = pd.Timestamp
M = br.DAYS_PER_MONTH  # days per month used for "months to first mentoring"


def _dates(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    return df.assign(**{c: pd.to_datetime(df[c]) for c in cols})


def make_data() -> ProgramData:
    communities = _dates(pd.DataFrame({
        "community_id": ["C1", "C2"], "community_name": ["KKBM Blitar", "KKBM Lontar"],
        "program": ["KKBM", "KKBM"], "province_code": ["35", "36"], "regency_code": ["35.05", "36.04"],
        "district_code": ["35.05.01", "36.04.13"], "village_code": ["35.05.01.2001", "36.04.13.2007"],
        "unit": ["LP3TKI Surabaya", "BP3TKI Serang"], "formed_on": ["2018-01-01", "2018-01-01"],
        "village_gov_involved": pd.array([False, True], dtype="boolean"),
    }), "formed_on")
    members = _dates(pd.DataFrame({
        "member_id": ["m1", "m2", "m3", "m4", "m5", "m6"],
        "community_id": ["C1", "C1", "C1", "C2", "C2", "C2"],
        "status": ["pmi_purna"] * 6, "sex": ["P", "L", "P", "P", "P", "L"],
        "joined_on": ["2018-01-01"] * 6,
    }), "joined_on")
    sessions = _dates(pd.DataFrame({
        "session_id": ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"],
        "community_id": ["C1", "C2", "C2", "C2", "C2", "C2", "C1", "C2"],
        "kind": ["entry_training", "entry_training", "mentoring_1", "mentoring_2", "mentoring_1", "mentoring_4",
                 "other_training", "other_training"],
        "held_on": ["2018-03-01", "2018-03-01", "2018-04-01", "2018-06-01", "2018-07-01", "2018-09-01",
                    "2018-06-01", "2019-12-31"],   # S8: nobody came; it only ends the record
    }), "held_on")
    attendance = pd.DataFrame([
        ("S1", "m1"), ("S1", "m2"),                    # m3 never trained
        ("S2", "m4"), ("S2", "m5"), ("S2", "m6"),
        ("S3", "m4"), ("S3", "m5"), ("S4", "m4"), ("S5", "m6"), ("S6", "m4"),
        ("S7", "m2"),                                  # m2's only follow-up: other training
    ], columns=["session_id", "member_id"])
    d = "2018-02-01"
    stages = _dates(pd.DataFrame({
        "member_id": ["m1", "m2", "m3", "m4", "m5", "m6"],
        "identified_on": [d] * 6,
        "potential_on": [d, d, None, d, d, d],
        "trained_on": [d, d, None, d, d, d],
        "implemented_on": [None, d, None, d, None, d],
        "evaluated_on": [None, None, None, d, None, None],
    }), "identified_on", "potential_on", "trained_on", "implemented_on", "evaluated_on")
    staff = _dates(pd.DataFrame({
        "staff_id": ["a1", "a2", "p1", "b1", "p2", "o1", "o2", "o3"],
        "role": ["co", "co", "penggerak", "co", "penggerak", "officer", "officer", "officer"],
        "community_id": ["C1", "C1", "C1", "C2", "C2", None, None, None],
        "province_code": ["35", "35", "35", "36", "36", "35", "36", "36"],
        "started_on": ["2018-01-01", "2018-07-01", "2018-01-01", "2018-01-01", "2018-01-01", "2017-06-01",
                       "2018-01-01", "2018-01-01"],
        "ended_on": ["2018-03-31", None, None, None, "2019-06-30", None, None, "2018-06-30"],
        "end_reason": ["resigned", None, None, None, "migrated", None, None, "contract_ended"],
        "fte": pd.array([1.0, 1.0, 0.5, 1.0, None, 1.0, 0.5, 1.0], dtype="Float64"),
    }), "started_on", "ended_on")
    regs = _dates(pd.DataFrame({
        "province_code": ["36", "33"], "village_code": ["36.04.13.2007", "33.07.04.2014"],
        "title": ["Perdes Lontar 2/2018", "Perdes elsewhere"], "adopted_on": ["2018-05-01", "2018-01-01"],
    }), "adopted_on")
    cases = _dates(pd.DataFrame({
        "case_id": ["k1", "k2", "k3", "k4"], "community_id": ["C1", "C1", "C2", "C2"],
        "case_type": ["unpaid_wages"] * 4, "opened_on": ["2018-05-01", "2019-05-01", "2018-05-01", "2018-06-01"],
        "outcome": ["resolved"] * 4,
        "disnakertrans_informed": pd.array([False, True, True, None], dtype="boolean"),
    }), "opened_on")
    kur = _dates(pd.DataFrame({
        "loan_id": ["L1", "L2", "L3", "L4"], "member_id": ["m4", "m5", "m4", "m2"],
        "applied_on": ["2018-05-01", "2018-06-01", "2019-02-01", "2019-01-10"],
        "approved": pd.array([True, False, True, True], dtype="boolean"),
        "approved_on": ["2018-05-31", None, "2019-03-03", "2019-01-20"],
        "amount_idr": pd.array([10e6, None, 20e6, 5e6], dtype="Float64"),
    }), "applied_on", "approved_on")
    businesses = _dates(pd.DataFrame({
        "business_id": ["B1", "B2", "B3", "B4"], "community_id": ["C2", "C1", "C2", "C2"],
        "owner_member_id": ["m4", "m2", "m6", None], "group_id": [None, None, None, "G1"],
        "sector": ["food"] * 4, "status": ["active"] * 4,
        "started_on": ["2018-04-01", "2018-12-01", "2019-05-01", "2018-01-01"],
    }), "started_on")
    return ProgramData(tables={"communities": communities, "members": members, "sessions": sessions,
                               "attendance": attendance, "stages": stages, "staff": staff,
                               "village_regulations": regs, "advocacy_cases": cases, "kur_loans": kur,
                               "businesses": businesses})


@pytest.fixture(scope="module")
def data() -> ProgramData:
    return make_data()


def row(df: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for k, v in where.items():
        mask &= df[k] == v
    hit = df.loc[mask]
    assert len(hit) == 1, f"{len(hit)} rows for {where}"
    return hit.iloc[0]


# --------------------------------------------------------------------------- mentoring gap
def test_member_table_points_dates_and_follow_up(data):
    mm = br.member_mentoring(data).set_index("member_id")
    assert mm["trained"].to_dict() == {"m1": True, "m2": True, "m3": False, "m4": True, "m5": True, "m6": True}
    assert mm["points_received"].to_dict() == {"m1": 0, "m2": 0, "m3": 0, "m4": 3, "m5": 1, "m6": 1}
    assert mm.loc["m4", "points"] == "mentoring_1, mentoring_2, mentoring_4"
    assert mm.loc["m6", "points"] == "mentoring_1"
    assert bool(mm.loc["m4", "mentoring_4"]) and not bool(mm.loc["m4", "mentoring_3"])
    assert mm.loc["m6", "first_mentoring_on"] == D("2018-07-01")
    assert mm.loc["m4", "months_to_first"] == pytest.approx(31 / M)      # 1 Mar -> 1 Apr
    assert mm.loc["m6", "months_to_first"] == pytest.approx(122 / M)     # 1 Mar -> 1 Jul
    assert pd.isna(mm.loc["m1", "months_to_first"])
    assert not mm.loc["m1", "followed_up"]                          # trained, nothing after
    assert bool(mm.loc["m2", "followed_up"])                          # other training counts
    assert pd.isna(mm.loc["m3", "followed_up"])                       # never trained: not applicable
    assert mm.loc["m4", "mentoring_sessions"] == 3


def test_mentoring_gap_overview_by_province(data):
    gap = br.mentoring_gap(data, level="province")
    jatim, banten = row(gap.overview, region_code="35"), row(gap.overview, region_code="36")
    assert jatim["members_trained"] == 2 and banten["members_trained"] == 3
    assert jatim["mean_points"] == 0 and banten["mean_points"] == pytest.approx(5 / 3)
    assert jatim["no_follow_up_share"] == 0.5 and banten["no_follow_up_share"] == 0
    assert banten["months_to_first_median"] == pytest.approx(31 / M)
    assert banten["months_to_first_q3"] == pytest.approx((31 + (122 - 31) / 2) / M)  # linear quantile
    assert pd.isna(jatim["months_to_first_median"])
    assert banten["coverage"] == pytest.approx(5 / 12)
    nat = gap.national.iloc[0]
    assert nat["members_trained"] == 5 and nat["mean_points"] == 1.0 and nat["no_follow_up_share"] == 0.2
    assert "SYNTHETIC" not in gap.summary() and "Mentoring gap by province" in str(gap)


def test_mentoring_gap_by_point_and_distribution(data):
    gap = br.mentoring_gap(data)
    p1 = row(gap.by_point, region_code="36", point_id="mentoring_1")
    assert (p1["members_received"], p1["member_share"], p1["sessions_held"]) == (3, 1.0, 2)
    assert (p1["communities_received"], p1["community_share"]) == (1, 1.0)
    p2 = row(gap.by_point, region_code="36", point_id="mentoring_2")
    assert p2["member_share"] == pytest.approx(1 / 3)
    assert row(gap.by_point, region_code="36", point_id="mentoring_3")["community_share"] == 0
    assert row(gap.by_point, region_code="35", point_id="mentoring_1")["community_share"] == 0
    dist = gap.distribution
    assert row(dist, region_code="35", points_received=0)["share"] == 1.0
    assert row(dist, region_code="36", points_received=1)["members"] == 2
    assert row(dist, region_code="36", points_received=3)["share"] == pytest.approx(1 / 3)
    assert sorted(dist.loc[dist["region_code"] == "36", "points_received"]) == [0, 1, 2, 3, 4]


def test_mandated_vs_delivered_per_community_and_province(data):
    gap = br.mentoring_gap(data, level="national")
    c1, c2 = row(gap.mandated_community, community_id="C1"), row(gap.mandated_community, community_id="C2")
    assert (c1["members_trained"], c1["points_mandated"], c1["points_delivered"], c1["coverage"]) == (2, 8, 0, 0)
    assert (c2["points_mandated"], c2["points_delivered"]) == (12, 5)
    assert c2["coverage"] == pytest.approx(5 / 12)
    sessions = (c2["sessions_mentoring_1"], c2["sessions_mentoring_3"], c2["sessions_total"], c2["points_held"])
    assert sessions == (2, 0, 4, 3)
    assert c2["community_name"] == "KKBM Lontar"
    p36 = row(gap.mandated_province, province_code="36")
    assert (p36["communities"], p36["communities_mandated"], p36["points_delivered"]) == (1, 1, 5)
    assert list(gap.overview["region_code"]) == ["ID"]


# --------------------------------------------------------------------------- stage funnel
def test_stage_funnel_national_conversions_and_largest_drop(data):
    f = br.stage_funnel(data)
    nat = f.funnel.set_index("stage")
    assert nat["reached"].tolist() == [6, 5, 5, 3, 1]
    assert nat.loc["potential_on", "from_previous"] == pytest.approx(5 / 6)
    assert nat.loc["implemented_on", "from_previous"] == pytest.approx(3 / 5)
    assert nat.loc["implemented_on", "from_start"] == pytest.approx(0.5)
    assert nat.loc["evaluated_on", "from_start"] == pytest.approx(1 / 6)
    assert pd.isna(nat.loc["identified_on", "from_previous"])
    drop = f.largest_drop.iloc[0]
    assert (drop["from_stage"], drop["to_stage"], drop["lost"]) == ("implemented_on", "evaluated_on", 2)
    assert drop["drop_share"] == pytest.approx(2 / 3)
    assert "largest drop: Implementation -> Evaluation" in f.summary()


def test_stage_funnel_by_province(data):
    f = br.stage_funnel(data, level="province").funnel
    assert f.loc[f["region_code"] == "35", "reached"].tolist() == [3, 2, 2, 1, 0]
    assert row(f, region_code="36", stage="implemented_on")["from_previous"] == pytest.approx(2 / 3)


# --------------------------------------------------------------------------- staffing
def test_staffing_ratios_in_2018(data):
    t = br.staffing(data, level="province", period="year").table
    j = row(t, region_code="35", period="2018")
    assert (j["members"], j["communities"]) == (3, 1)
    assert j["organisers_fte"] == 2.5 and j["members_per_organiser"] == pytest.approx(3 / 2.5)  # a1, a2, p1 (0.5)
    assert j["members_per_co"] == pytest.approx(1.5)
    assert j["officers_per_community"] == 1.0
    b = row(t, region_code="36", period="2018")
    assert b["organisers_fte"] == 2.0                     # p2's missing FTE counts as 1
    assert b["officers_per_community"] == pytest.approx(1.5)  # o2 (0.5) + o3 (left mid-2018)
    assert row(t, region_code="36", period="2019")["officers_per_community"] == pytest.approx(0.5)
    assert set(t["period"]) == {"2018", "2019"}          # the record starts when the first community forms
    nat = br.staffing(data, level="national").table
    assert row(nat, period="2018")["officers_per_community"] == pytest.approx(2.5 / 2)


def test_vacancy_months_and_turnover(data):
    t = br.staffing(data, level="province", period="year").table
    j = row(t, region_code="35", period="2018")
    assert j["vacancy_months"] == 3                       # April, May, June 2018: no CO
    assert row(t, region_code="35", period="2019")["vacancy_months"] == 0
    assert row(t, region_code="36", period="2018")["vacancy_months"] == 0
    assert j["avg_organisers"] == pytest.approx((3 * 2 + 3 * 1 + 6 * 2) / 12)
    assert j["turnover"] == pytest.approx(1 / 1.75)
    b19 = row(t, region_code="36", period="2019")
    assert b19["organisers_ended"] == 1 and b19["turnover"] == pytest.approx(1 / 1.5)
    nat = row(br.staffing(data, level="national").table, period="2018")
    assert nat["vacancy_months_per_community"] == pytest.approx(3 / 2)


@pytest.mark.parametrize("months, expected", [(6, 1.0), (2, 0.0)])
def test_cadre_regeneration_window(data, months, expected):
    s = br.staffing(data, level="province", period=None, replacement_months=months)
    j = row(s.table, region_code="35", period="all")
    assert j["departures"] == 1 and j["regeneration"] == expected   # a2 started 3 months after a1 left
    assert row(s.table, region_code="36", period="all")["regeneration"] == 0.0  # p2 never replaced
    a1 = row(s.departures, staff_id="a1")
    assert a1["replaced"] == (expected == 1.0)


def test_regeneration_censoring_and_one_to_one(data):
    s = br.staffing(data, level="province", period=None, as_of="2019-09-30")
    p2 = row(s.departures, staff_id="p2")                   # left 30 Jun 2019, 6-month window open
    assert bool(p2["censored"]) and pd.isna(row(s.table, region_code="36", period="all")["regeneration"])
    staff = data.staff.copy()
    extra = staff.loc[staff["staff_id"] == "a1"].assign(staff_id="a0")  # a second leaver, same day
    two = ProgramData(tables={**data.tables, "staff": pd.concat([staff, extra], ignore_index=True)})
    t = br.staffing(two, level="province", period=None).table
    assert row(t, region_code="35", period="all")["regeneration"] == 0.5  # one newcomer replaces one leaver


# --------------------------------------------------------------------------- government synergy
def test_government_synergy(data):
    g = br.government_synergy(data)
    t = g.table.set_index("region_code")
    assert t.loc["35", "perdes_share"] == 0 and t.loc["36", "perdes_share"] == 1.0
    assert t.loc["36", "first_perdes_on"] == D("2018-05-01")
    assert t.loc["35", "gov_involved_share"] == 0 and t.loc["36", "gov_involved_share"] == 1.0
    assert t.loc["35", "disnakertrans_share"] == 0.5 and t.loc["36", "disnakertrans_share"] == 1.0  # NA left out
    nat = br.government_synergy(data, level="national").table.iloc[0]
    assert (nat["villages"], nat["villages_with_perdes"]) == (2, 1)           # the Perdes in 33 is no community's
    assert nat["disnakertrans_share"] == pytest.approx(2 / 3)
    assert list(g.perdes["title"]) == ["Perdes Lontar 2/2018"]
    before = br.government_synergy(data, level="national", as_of="2018-04-30").table.iloc[0]
    assert before["perdes_share"] == 0


# --------------------------------------------------------------------------- capital
def test_capital_access_whole_record(data):
    t = br.capital_access(data).table.set_index("region_code")
    assert t.loc["36", "applications"] == 3 and t.loc["36", "approval_rate"] == pytest.approx(2 / 3)
    assert t.loc["36", "amount_total"] == 30e6 and t.loc["36", "amount_median"] == 15e6
    assert t.loc["36", "days_to_approval_median"] == 30
    assert t.loc["35", "days_to_approval_median"] == 10
    assert t.loc["36", "owners"] == 2 and t.loc["36", "owners_applied_share"] == 0.5  # m5 applied but owns none
    nat = br.capital_access(data, level="national").table.iloc[0]
    assert nat["approval_rate"] == 0.75 and nat["owners_applied_share"] == pytest.approx(2 / 3)


def test_capital_access_by_year(data):
    t = br.capital_access(data, period="year").table
    b18, b19 = row(t, region_code="36", period="2018"), row(t, region_code="36", period="2019")
    assert (b18["applications"], b18["approval_rate"], b18["owners"], b18["owners_applied_share"]) == (2, 0.5, 1, 1.0)
    assert (b19["applications"], b19["owners"], b19["owners_applied_share"]) == (1, 2, 0.5)
    assert row(t, region_code="35", period="2018")["applications"] == 0


# --------------------------------------------------------------------------- barrier profile
def test_barrier_profile_benchmark_verdicts_and_sentences(data):
    p = br.barrier_profile(data, "36")
    t = p.table.set_index("barrier_id")
    nat = br.mentoring_gap(data, level="national").overview.iloc[0]
    assert t.loc["mentoring_points_mean", "benchmark"] == nat["mean_points"] == 1.0
    assert t.loc["mentoring_points_mean", "value"] == pytest.approx(5 / 3)
    assert t.loc["mentoring_points_mean", "verdict"] == "too_few"        # 3 trained members: no badge
    assert t.loc["mentoring_points_mean", "n"] == 3
    assert t.loc["mentoring_points_mean", "sentence_id"] == \
        "Rata-rata 1,7 dari 4 poin pendampingan diterima per anggota (nasional: 1,0)."
    assert t.loc["mentoring_points_mean", "sentence_en"] == \
        "Members received on average 1.7 of the 4 mentoring points (national: 1.0)."
    assert t.loc["no_follow_up_share", "verdict"] == "too_few"
    assert "0%" in t.loc["no_follow_up_share", "sentence_en"] and "20%" in t.loc["no_follow_up_share", "sentence_id"]
    assert t.loc["members_per_organiser", "benchmark"] == pytest.approx(6 / 4.5)  # 5 organisers, one at 0.5 FTE
    assert "1,3" in t.loc["members_per_organiser", "sentence_id"]
    assert t.loc["training_to_practice", "value"] == pytest.approx(2 / 3)
    assert t.loc["kur_approval_rate", "benchmark"] == 0.75
    assert p.region_name != "" and "Barrier profile" in p.summary() and "Profil hambatan" in p.summary()
    assert set(t["verdict"]) <= set(VERDICTS)
    assert (t["verdict"] == "too_few").sum() >= 8                      # a toy province: almost nothing to judge


def test_barrier_profile_jatim_values_and_no_badge_without_data(data):
    t = br.barrier_profile(data, "35", lang="id").table.set_index("barrier_id")
    assert t.loc["mentoring_points_mean", "sentence_id"].startswith("Rata-rata 0,0 dari 4")
    assert t.loc["months_to_first_mentoring", "verdict"] == "not_applicable"  # nobody mentored in 35: no value
    assert t.loc["months_to_first_mentoring", "sentence_en"] == \
        "Median months from entry training to first mentoring: no data (national: 1.0)."
    assert t.loc["members_per_organiser", "value"] == pytest.approx(3 / 2.5)
    assert t.loc["members_per_organiser", "verdict"] == "too_few"      # 3 members


@pytest.mark.parametrize("value, lo, hi, national, direction, few, expected", [
    (0.30, 0.25, 0.35, 0.50, "higher_is_better", False, "worse"),           # national above the interval
    (0.30, 0.25, 0.35, 0.50, "lower_is_better", False, "better"),
    (0.60, 0.55, 0.65, 0.50, "higher_is_better", False, "better"),
    (0.45, 0.30, 0.60, 0.50, "higher_is_better", False, "no_clear_difference"),  # 10 points apart, wide interval
    (0.49, 0.485, 0.495, 0.50, "higher_is_better", False, "worse"),        # 1 point apart, narrow interval
    (0.30, 0.25, 0.35, 0.50, "higher_is_better", True, "too_few"),         # small cell: no badge at all
    (0.30, None, None, 0.50, "higher_is_better", False, "not_applicable"),  # no interval (a count)
    (0.30, 0.25, 0.35, 0.50, "neutral", False, "not_applicable"),
])
def test_verdict_is_read_from_the_interval(value, lo, hi, national, direction, few, expected):
    got = verdicts([value], [lo if lo is not None else np.nan], [hi if hi is not None else np.nan], [national],
                   [direction], [few])
    assert got.tolist() == [expected]


def test_with_verdicts_judges_against_the_national_cell_of_the_same_period():
    rows = pd.DataFrame({
        "measure_id": ["m"] * 4, "level": ["national", "province", "national", "province"],
        "region_code": ["ID", "11", "ID", "11"], "period": ["2018", "2018", "2019", "2019"], "disaggregation": "all",
        "value": [0.5, 0.3, 0.2, 0.3], "numerator": [500, 30, 200, 30], "denominator": [1000, 100, 1000, 100],
        "ci_low": [0.47, 0.22, 0.18, 0.22], "ci_high": [0.53, 0.39, 0.23, 0.39], "kind": "proportion",
        "direction": "higher_is_better"})
    out = br.with_verdicts(rows).set_index(["region_code", "period"])
    assert out.loc[("11", "2018"), "verdict"] == "worse" and out.loc[("11", "2018"), "national_value"] == 0.5
    assert out.loc[("11", "2019"), "verdict"] == "better"
    assert out.loc[("ID", "2018"), "verdict"] == "not_applicable"
    assert (out["verdict_rule"] == "national_outside_ci95").all()


def test_barrier_profile_for_one_period(data):
    t = br.barrier_profile(data, "36", period="2018").table.set_index("barrier_id")
    assert t.loc["kur_approval_rate", "value"] == 0.5 and t.loc["kur_approval_rate", "benchmark"] == 0.5
    assert t.loc["kur_approval_rate", "verdict"] == "too_few"
    assert t.loc["disnakertrans_informed_share", "benchmark"] == pytest.approx(0.5)   # k1 no, k3 yes (k4 NA)
    with pytest.raises(ValueError, match="period"):
        br.barrier_profile(data, "36", period="year")


def test_unknown_region_lists_valid_codes(data):
    with pytest.raises(ValueError, match=r"'99'.*35, 36"):
        br.barrier_profile(data, "99")
    with pytest.raises(ValueError, match="ID"):
        br.barrier_profile(data, "35", level="national")


def test_barrier_profiles_long_format(data):
    long = br.barrier_profiles(data)
    assert {"region_code", "barrier_id", "value", "benchmark", "verdict", "sentence_id", "sentence_en"} <= set(long)
    assert len(long) == 2 * len(br.MEASURES)
    one = br.barrier_profile(data, "35").table
    got = long.loc[long["region_code"] == "35"].reset_index(drop=True)
    pd.testing.assert_series_equal(got["sentence_id"], one["sentence_id"])
    nat = long.groupby("barrier_id")["benchmark"].nunique(dropna=False)
    assert (nat == 1).all()                                              # one national benchmark per barrier
    yearly = br.barrier_profiles(data, period="year")
    assert set(yearly["period"]) == {"2018", "2019"}


# --------------------------------------------------------------------------- demo data (calibrated)
@pytest.fixture(scope="module")
def demo(demo_data) -> ProgramData:
    """The SYNTHETIC demo at a tenth of its size, generated and ingested like the real thing (conftest)."""
    return demo_data


def test_demo_jawa_timur_gets_less_mentoring_than_the_nation(demo):
    gap = br.mentoring_gap(demo)
    jatim = row(gap.overview, region_code="35")["mean_points"]
    assert jatim < gap.national.iloc[0]["mean_points"]
    profile = br.barrier_profile(demo, "35")
    assert profile.table.set_index("barrier_id").loc["mentoring_points_mean", "verdict"] == "worse"
    assert profile.summary().startswith("SYNTHETIC DATA")
    members = gap.members
    assert members["points_received"].between(0, 4).all() and len(members) == len(demo.members)


# --------------------------------------------------------------------------- the one-pass cells
@pytest.fixture(scope="module")
def cells(demo_data) -> pd.DataFrame:
    return br.barrier_cells(demo_data)


def _cell(cells: pd.DataFrame, measure: str, region: str, period: str) -> pd.Series:
    hit = cells.loc[(cells["measure_id"] == measure) & (cells["region_code"] == region) & (cells["period"] == period)]
    assert len(hit) == 1
    return hit.iloc[0]


@pytest.mark.parametrize("kind", ["year", None])
def test_cells_equal_the_barrier_functions(demo_data, cells, kind):
    """The one-pass cells and the per-barrier analyses are the same numbers (numerators and denominators)."""
    pairs = {"members_per_organiser": ("members", "organisers_fte"), "cadre_regeneration": ("replaced", None),
             "vacancy_months_per_community": ("vacancy_months", "communities_observed"),
             "organiser_turnover": ("organisers_ended", "avg_organisers")}
    for level in ("province", "national"):
        st = br.staffing(demo_data, level=level, period=kind).table
        for _, r in st.loc[st["period"].isin([*cells["period"].unique()])].iterrows():
            for measure, (num, den) in pairs.items():
                c = _cell(cells, measure, r["region_code"], r["period"])
                assert c["numerator"] == pytest.approx(r[num])
                want = r[den] if den else r["departures"] - r["departures_censored"]
                assert c["denominator"] == pytest.approx(want)
        cap = br.capital_access(demo_data, level=level, period=kind).table
        for _, r in cap.loc[cap["period"].isin([*cells["period"].unique()])].iterrows():
            c = _cell(cells, "kur_owner_uptake", r["region_code"], r["period"])
            assert (c["numerator"], c["denominator"]) == (r["owners_applied"], r["owners"])
    gap = br.mentoring_gap(demo_data)
    for _, r in gap.overview.iterrows():
        c = _cell(cells, "mentoring_points_mean", r["region_code"], "all")
        assert c["value"] == pytest.approx(r["mean_points"]) and c["n"] == r["members_trained"]
        m = _cell(cells, "months_to_first_mentoring", r["region_code"], "all")
        if pd.isna(r["months_to_first_median"]):
            assert pd.isna(m["value"]) and m["n"] == 0        # nobody mentored (Jawa Timur)
        else:
            assert m["value"] == pytest.approx(r["months_to_first_median"])


def test_cells_carry_intervals_and_windows(cells):
    shown = cells.loc[cells["ci_low"].notna()]
    assert len(shown) > 100
    assert ((shown["ci_low"] <= shown["value"] + 1e-12) & (shown["value"] <= shown["ci_high"] + 1e-12)).all()
    ratio = _cell(cells, "members_per_organiser", "ID", "all")
    assert ratio["kind"] == "ratio" and ratio["ci_low"] < ratio["value"] < ratio["ci_high"]  # Poisson on members
    cohort = _cell(cells, "training_to_practice", "35", "2018")
    assert str(cohort["window_start"].date()) == "2018-01-01" and cohort["window_end"] > pd.Timestamp("2019-01-01")
    mentored = _cell(cells, "no_follow_up_share", "35", "2018")  # a year's mentoring holds no later data
    assert (str(mentored["window_start"].date()), str(mentored["window_end"].date())) == ("2018-01-01", "2018-12-31")
    stock = _cell(cells, "perdes_share", "35", "2018")
    assert str(stock["window_end"].date()) == "2018-12-31" and stock["window_start"] < pd.Timestamp("2018-01-01")


def test_a_years_mentoring_is_counted_up_to_the_years_end(demo_data, cells):
    """A year's trained cohort: points, coverage and follow-up from sessions up to that year's end only; the
    whole span ('all') counts them up to the end of the record."""
    mm = br.member_mentoring(demo_data)
    points = [c[:-3] for c in mm.columns if c.startswith("mentoring_") and c.endswith("_on")]
    assert len(points) == 4
    for year in ("2017", "2018"):
        end = pd.Timestamp(f"{year}-12-31")
        cohort = mm.loc[mm["trained"] & (mm["entry_training_on"].dt.year == int(year))]
        by_end = sum((cohort[f"{p}_on"] <= end).astype(int) for p in points)
        c = _cell(cells, "mentoring_points_mean", "ID", year)
        assert c["n"] == len(cohort) and c["value"] == pytest.approx(by_end.mean())
        assert c["value"] < cohort["points_received"].mean()  # later sessions are left out of the year
        no_follow = ~(cohort["followed_up_on"] <= end)
        assert _cell(cells, "no_follow_up_share", "ID", year)["value"] == pytest.approx(no_follow.mean())
    whole = mm.loc[mm["trained"]]
    assert _cell(cells, "mentoring_points_mean", "ID", "all")["value"] == pytest.approx(whole["points_received"].mean())


# --------------------------------------------------------------------------- integer codes and grid sums
def test_member_rows_place_each_reference_once_and_follow_a_replaced_table(data):
    from kkbm_analysis.codes import positions
    d = ProgramData(dict(data.tables), data.manifest)
    for table, column in (("attendance", "member_id"), ("stages", "member_id"), ("businesses", "owner_member_id")):
        want = positions(d.tables[table][column], d.members["member_id"])
        np.testing.assert_array_equal(d.member_rows(table, column), want)
    assert d.member_rows("attendance") is d.member_rows("attendance")            # found once, kept
    d.tables["attendance"] = d.attendance.iloc[::-1].reset_index(drop=True)       # a table replaced: placed again
    want = positions(d.attendance["member_id"], d.members["member_id"])
    np.testing.assert_array_equal(d.member_rows("attendance"), want)
    d.tables["members"] = d.members.iloc[1:].reset_index(drop=True)               # other members: every column again
    np.testing.assert_array_equal(d.member_rows("stages"), positions(d.stages["member_id"], d.members["member_id"]))
    assert (d.member_rows("stages") == -1).any()


def test_grid_sums_and_medians_add_each_cell_in_unit_order():
    grid = br.BarrierGrid("province", np.array(["11", "12"], dtype=object), ["2018", "2019"], "year",
                          pd.Timestamp("2018-01-01"), pd.Timestamp("2019-12-31"))
    rng = np.random.default_rng(1)
    region, period = rng.integers(-1, 2, 500), rng.integers(-1, 2, 500)
    w = rng.random(500) / 3
    got = grid.sum(region, period, w)
    want = np.zeros((3, 3))
    for r, p, x in zip(region, period, w):                        # one unit after the other, as a loop would
        for rr, pp in ((r, p), (r, 2), (2, p), (2, 2)):
            if rr >= 0 and pp >= 0:
                want[rr, pp] += x
    assert got.tobytes() == want.tobytes()
    assert grid.sum(region, period).dtype == np.int64 and grid.sum(region, period)[2, 2] == 500
    values = np.where(rng.random(500) < 0.2, np.nan, rng.integers(0, 9, 500).astype(float))
    med, lo, hi, n = grid.median(region, period, values)
    ok = ~np.isnan(values)
    assert n[2, 2] == ok.sum() and med[2, 2] == np.median(values[ok])
    cell = ok & (region == 1) & (period == 0)
    assert n[1, 0] == cell.sum() and med[1, 0] == np.median(values[cell])
    assert lo[1, 0] <= med[1, 0] <= hi[1, 0]
