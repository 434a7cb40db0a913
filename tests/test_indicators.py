"""Indicators on a tiny hand-made programme: every family checked against values worked
out by hand (in the comments), rollups across regions, periods and disaggregations,
and the registry's completeness."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from kkbm_analysis.data import NATIONAL_CODE, ProgramData
from kkbm_analysis.indicators import (
    KINDS,
    REGISTRY,
    RESULT_COLUMNS,
    compute_indicators,
    data_span,
    indicator_facts,
    indicator_table,
    list_indicators,
)
from kkbm_analysis.schema import TABLES

M = 1_000_000


def _dates(*values):
    return pd.to_datetime(list(values)).astype("datetime64[ms]")


def _table(name: str, rows: list[dict]) -> pd.DataFrame:
    """A processed-shaped table: every schema column, schema dtypes, strings as 'string'."""
    cols = TABLES[name].schema.columns
    df = pd.DataFrame(rows, columns=list(cols))
    for c, spec in cols.items():
        dtype = str(spec.dtype)
        if dtype.startswith("datetime"):
            df[c] = pd.to_datetime(df[c]).astype("datetime64[ms]")
        elif dtype.startswith("str"):
            df[c] = df[c].astype("string")
        else:
            df[c] = df[c].astype(dtype)
    return df


def make_data() -> ProgramData:
    """Three communities in two provinces; 2017-01-10 .. 2018-12-31."""
    comm = [("K1", "36", "36.04", "36.04.13", "36.04.13.2007", "2017-01-10"),
            ("K2", "36", "36.04", "36.04.13", "36.04.13.2008", "2017-02-01"),
            ("K3", "35", "35.05", "35.05.01", None, "2017-03-01")]  # district-wide: no village code
    communities = _table("communities", [
        {"community_id": c, "community_name": f"KKBM {c}", "program": "KKBM", "province_code": p,
         "regency_code": r, "district_code": d, "village_code": v, "formed_on": f} for c, p, r, d, v, f in comm])
    mem = [("m0", "K1", "pmi_purna", "P", "2017-01-15"), ("m1", "K1", "keluarga", "L", "2017-02-10"),
           ("m2", "K1", "calon_pmi", "P", "2017-03-05"), ("m3", "K2", "pmi_purna", "P", "2017-02-20"),
           ("m4", "K2", "pmi_aktif", "L", "2017-07-01"), ("m5", "K3", "pmi_purna", "L", "2017-03-10"),
           ("m6", "K3", "keluarga", "P", "2018-01-05"), ("m7", "K3", "keluarga", "P", "2018-02-01")]
    members = _table("members", [{"member_id": i, "community_id": c, "status": s, "sex": x, "joined_on": j}
                                 for i, c, s, x, j in mem])
    groups = _table("groups", [
        {"group_id": "G1", "community_id": "K1", "group_name": "KUB 1", "kind": "business_group",
         "formed_on": "2017-04-01"},
        {"group_id": "G2", "community_id": "K3", "group_name": "Kop 2", "kind": "cooperative",
         "formed_on": "2017-06-15"},
        {"group_id": "G3", "community_id": "K2", "group_name": "Kop 3", "kind": "cooperative",
         "formed_on": "2018-03-01"}])
    biz = [("B1", "K1", "m0", None, "2017-02-01", "active", None),
           ("B2", "K1", "m1", None, "2017-05-01", "closed", "2018-03-15"),
           ("B3", "K2", None, "G3", "2018-03-10", "active", None),        # group-owned: sex unknown
           ("B4", "K3", "m5", None, "2017-06-01", "dormant", None),       # last positive report 2017-09
           ("B5", "K3", "m6", None, "2018-01-20", "active", None)]
    businesses = _table("businesses", [
        {"business_id": b, "community_id": c, "owner_member_id": o, "group_id": g, "sector": "trade",
         "started_on": s, "status": st, "closed_on": cl} for b, c, o, g, s, st, cl in biz])
    rep = [("B1", "2017-02-01", 1 * M), ("B1", "2017-03-01", 2 * M), ("B1", "2018-01-01", 3 * M),
           ("B2", "2017-05-01", 7 * M), ("B2", "2018-02-01", 6 * M),
           ("B4", "2017-06-01", 0.5 * M), ("B4", "2017-09-01", 1.5 * M), ("B4", "2017-10-01", 0.0),
           ("B5", "2018-02-01", 2 * M), ("B3", "2018-03-01", None)]
    reports = _table("business_reports", [{"business_id": b, "period": p, "revenue_idr": v} for b, p, v in rep])
    loans = [("L1", "m0", "2017-03-01", True, "2017-03-20", 10 * M), ("L2", "m1", "2017-04-01", False, None, None),
             ("L3", "m3", "2017-05-01", True, "2017-06-01", 20 * M),
             ("L4", "m5", "2017-11-20", True, "2018-01-10", 30 * M), ("L9", "m4", "2017-08-01", False, None, None),
             ("L5", "m2", "2018-02-01", True, "2018-02-15", 5 * M),
             ("L6", "m6", "2018-03-01", True, "2018-03-20", 8 * M),
             ("L7", "m0", "2018-04-01", True, "2018-04-20", 15 * M), ("L8", "m7", "2018-05-01", False, None, None)]
    kur = _table("kur_loans", [{"loan_id": i, "member_id": m, "applied_on": a, "approved": ok, "approved_on": d,
                                "amount_idr": x} for i, m, a, ok, d, x in loans])
    consultations = _table("consultations", [
        {"consultation_id": f"C{i}", "community_id": c, "held_on": d, "partner_type": "bank"}
        for i, (c, d) in enumerate([("K1", "2017-05-05"), ("K1", "2017-08-08"), ("K3", "2018-02-02")])])
    svc = [("E1", "K1", "2017-04-01", "dissemination", 30, None),
           ("E2", "K2", "2017-09-01", "dissemination", None, None),
           ("E3", "K3", "2018-05-01", "information_service", 12, None),
           ("E4", "K1", "2018-06-01", "placement_facilitation", 5, 3),
           ("E5", "K2", "2018-07-01", "placement_facilitation", None, 2)]
    services = _table("info_services", [{"event_id": e, "community_id": c, "held_on": d, "kind": k, "attendees": a,
                                         "placements_facilitated": p} for e, c, d, k, a, p in svc])
    cases = [("A1", "K1", "m0", "2017-02-01", "2017-03-03", "resolved"),      # 30 days
             ("A2", "K1", "m1", "2017-05-01", "2017-05-11", "referred"),
             ("A3", "K2", None, "2017-06-01", "2017-08-30", "resolved"),      # 90 days, not a member
             ("A4", "K3", "m5", "2017-10-01", None, "ongoing"),
             ("A5", "K3", "m6", "2018-01-01", "2018-01-21", "resolved"),      # 20 days
             ("A6", "K1", "m2", "2018-03-01", "2018-04-30", "unresolved"),
             ("A7", "K2", "m3", "2018-05-01", "2018-05-11", "resolved"),      # 10 days
             ("A8", "K3", None, "2018-06-01", "2018-06-05", "unresolved")]
    advocacy = _table("advocacy_cases", [{"case_id": i, "community_id": c, "member_id": m, "case_type": "other",
                                          "opened_on": o, "closed_on": cl, "outcome": out}
                                         for i, c, m, o, cl, out in cases])
    prevention = _table("prevention_events", [
        {"event_id": "P1", "community_id": "K1", "held_on": "2017-06-01", "people_reached": 40, "people_dissuaded": 3},
        {"event_id": "P2", "community_id": "K3", "held_on": "2018-08-01", "people_reached": 25, "people_dissuaded": 2},
        {"event_id": "P3", "community_id": "K2", "held_on": "2018-12-31", "people_reached": None,
         "people_dissuaded": None}])
    tables = {"communities": communities, "members": members, "groups": groups, "businesses": businesses,
              "business_reports": reports, "kur_loans": kur, "consultations": consultations,
              "info_services": services, "advocacy_cases": advocacy, "prevention_events": prevention}
    for name, df in tables.items():  # the fixture itself must be valid processed data
        TABLES[name].schema.validate(df)
    return ProgramData(tables, {"synthetic": True, "data_version": "fixture"})


@pytest.fixture(scope="module")
def data() -> ProgramData:
    return make_data()


@pytest.fixture(scope="module")
def national_years(data) -> pd.DataFrame:
    return compute_indicators(data, level="national", period="year")


def cell(df: pd.DataFrame, indicator: str, period: str, region: str = NATIONAL_CODE, dis: str = "all") -> pd.Series:
    hit = df[(df.indicator_id == indicator) & (df.region_code == region) & (df.period == period)
             & (df.disaggregation == dis)]
    assert len(hit) == 1, (indicator, period, region, dis, len(hit))
    return hit.iloc[0]


def value(df, indicator, period, region=NATIONAL_CODE, dis="all") -> float:
    v = cell(df, indicator, period, region, dis)["value"]
    return float("nan") if pd.isna(v) else float(v)


# --------------------------------------------------------------------------- shape
def test_result_columns_and_types(national_years):
    assert tuple(national_years.columns) == RESULT_COLUMNS
    assert not national_years["suppressed"].any()
    assert national_years.attrs["synthetic"] is True
    assert set(national_years["region_code"]) == {NATIONAL_CODE}
    assert set(national_years["period"]) == {"2017", "2018"}
    assert set(national_years["indicator_id"]) == set(REGISTRY) - set()  # every indicator has rows
    assert not national_years.duplicated(["indicator_id", "level", "region_code", "period", "disaggregation"]).any()


def test_span_runs_from_first_to_last_activity(data):
    assert data_span(data) == (pd.Timestamp("2017-01-10"), pd.Timestamp("2018-12-31"))


# --------------------------------------------------------------------------- business counts
def test_business_counts(data, national_years):
    df = national_years
    assert value(df, "businesses_formed", "2017") == 3      # B1, B2, B4
    assert value(df, "businesses_formed", "2018") == 2      # B3, B5
    # at 2017-12-31: B1, B2 (B4 dormant since 2017-10-01); at 2018-12-31: B1, B3, B5 (B2 closed in March)
    assert value(df, "businesses_active", "2017") == 2
    assert value(df, "businesses_active", "2018") == 3
    months = compute_indicators(data, "businesses_active", level="national", period="month")
    assert value(months, "businesses_active", "2017-09") == 3   # B4 still active at the end of its last positive month
    assert value(months, "businesses_active", "2017-10") == 2
    assert value(months, "businesses_active", "2017-01") == 0
    assert value(df, "groups_formed", "2017") == 2 and value(df, "groups_formed", "2018") == 1
    assert value(df, "cooperatives_formed", "2017") == 1 and value(df, "cooperatives_formed", "2018") == 1
    assert value(df, "business_consultations", "2017") == 2


def test_business_counts_by_owner_sex(data):
    df = compute_indicators(data, "businesses_formed", level="national", period="year", by="sex")
    assert value(df, "businesses_formed", "2017", dis="sex=P") == 1   # B1
    assert value(df, "businesses_formed", "2017", dis="sex=L") == 2   # B2, B4
    assert value(df, "businesses_formed", "2018", dis="sex=unknown") == 1   # B3 is group-owned
    assert value(df, "businesses_formed", "2018", dis="sex=P") == 1   # B5


# --------------------------------------------------------------------------- volume
def test_business_volume_total_mean_median(national_years):
    df = national_years
    # 2017: B1 1+2, B2 7, B4 0.5+1.5+0 -> per business [3, 7, 2] M
    assert value(df, "business_volume_total", "2017") == 12 * M
    assert cell(df, "business_volume_total", "2017")["denominator"] == 3
    assert value(df, "business_volume_mean", "2017") == pytest.approx(4 * M)
    assert value(df, "business_volume_median", "2017") == 3 * M
    # 2018: B1 3, B2 6, B5 2 (B3 reported no volume) -> [3, 6, 2] M
    assert value(df, "business_volume_total", "2018") == 11 * M
    assert value(df, "business_volume_mean", "2018") == pytest.approx(11 * M / 3)
    assert value(df, "business_volume_median", "2018") == 3 * M
    assert cell(df, "business_volume_median", "2018")["denominator"] == 3
    # growth of the total: (11 - 12) / 12; no growth for the first period
    assert value(df, "business_volume_growth", "2018") == pytest.approx(-1 / 12)
    assert cell(df, "business_volume_growth", "2018")["denominator"] == 12 * M
    assert not ((df.indicator_id == "business_volume_growth") & (df.period == "2017")).any()


def test_mean_t_interval(national_years):
    row = cell(national_years, "business_volume_mean", "2017")
    x = np.array([3, 7, 2]) * M
    from scipy.stats import t
    half = t.ppf(0.975, 2) * x.std(ddof=1) / np.sqrt(3)
    assert row["ci_low"] == pytest.approx(x.mean() - half)
    assert row["ci_high"] == pytest.approx(x.mean() + half)


def test_median_even_count_by_province(data):
    df = compute_indicators(data, "business_volume_median", level="province", period=None)
    # province 36 over the whole span: B1 6 M, B2 13 M -> median 9.5 M; province 35: B4 2, B5 2 -> 2 M
    assert value(df, "business_volume_median", "all", "36") == 9.5 * M
    assert value(df, "business_volume_median", "all", "35") == 2 * M


# --------------------------------------------------------------------------- KUR
def test_kur_counts_rate_and_wilson(national_years):
    df = national_years
    assert value(df, "kur_applications", "2017") == 5            # L1 L2 L3 L4 L9
    assert value(df, "kur_applications", "2018") == 4            # L5 L6 L7 L8
    assert value(df, "kur_loans_approved", "2017") == 2          # by approval date: L1, L3
    assert value(df, "kur_loans_approved", "2018") == 4          # L4 (approved 2018-01-10), L5, L6, L7
    row = cell(df, "kur_approval_rate", "2017")                  # by application date: L1, L3, L4 of 5
    assert (row["numerator"], row["denominator"], row["value"]) == (3, 5, pytest.approx(0.6))
    lo, hi = proportion_confint(3, 5, alpha=0.05, method="wilson")
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert value(df, "kur_approval_rate", "2018") == pytest.approx(0.75)
    assert value(df, "kur_amount_total", "2017") == 30 * M
    assert value(df, "kur_amount_total", "2018") == 58 * M
    assert value(df, "kur_amount_mean", "2018") == pytest.approx(14.5 * M)


def test_kur_uptake_is_a_stock_among_eligible_members(data, national_years):
    df = national_years
    # end 2017: eligible joined m0 m1 m3 m5; approved by then m0, m3 -> 2/4
    row = cell(df, "kur_uptake", "2017")
    assert (row["numerator"], row["denominator"]) == (2, 4)
    lo, hi = proportion_confint(2, 4, method="wilson")
    assert row["ci_low"] == pytest.approx(lo) and row["ci_high"] == pytest.approx(hi)
    # end 2018: eligible m0 m1 m3 m5 m6 m7; approved m0 m3 m5 m6 (m2 is calon PMI: not eligible)
    row = cell(df, "kur_uptake", "2018")
    assert (row["numerator"], row["denominator"]) == (4, 6)
    by = compute_indicators(data, "kur_uptake", level="national", period="year", by="status")
    assert set(by["disaggregation"]) == {"status=pmi_purna", "status=keluarga"}
    assert value(by, "kur_uptake", "2018", dis="status=pmi_purna") == 1.0       # m0 m3 m5
    assert value(by, "kur_uptake", "2018", dis="status=keluarga") == pytest.approx(1 / 3)   # m6 of m1 m6 m7


# --------------------------------------------------------------------------- information, advocacy
def test_information_services(national_years):
    df = national_years
    assert value(df, "dissemination_events", "2017") == 2
    assert value(df, "dissemination_reach", "2017") == 30      # E2 has no attendee count
    assert value(df, "information_services", "2018") == 1
    assert value(df, "information_service_reach", "2018") == 12
    assert value(df, "placement_facilitations", "2018") == 2
    assert value(df, "placements_facilitated", "2018") == 5
    assert value(df, "placements_facilitated", "2017") == 0


def test_advocacy_resolution_rate_and_median_days(national_years):
    df = national_years
    assert value(df, "advocacy_cases", "2017") == 4 and value(df, "advocacy_cases", "2018") == 4
    assert value(df, "advocacy_cases_resolved", "2017") == 2
    row = cell(df, "advocacy_resolution_rate", "2017")           # A1 A3 resolved, A2 referred; A4 ongoing
    assert (row["numerator"], row["denominator"]) == (2, 3)
    assert value(df, "advocacy_resolution_rate", "2018") == 0.5  # A5 A7 of A5 A6 A7 A8
    assert value(df, "advocacy_days_to_resolution", "2017") == 60   # median(30, 90)
    assert value(df, "advocacy_days_to_resolution", "2018") == 15   # median(20, 10)
    assert cell(df, "advocacy_days_to_resolution", "2018")["denominator"] == 2
    assert value(df, "prevention_events", "2018") == 2
    assert value(df, "prevention_reach", "2018") == 25
    assert value(df, "people_dissuaded", "2017") == 3


def test_advocacy_cases_of_non_members_are_unknown(data):
    df = compute_indicators(data, "advocacy_cases", level="national", period=None, by="status")
    assert value(df, "advocacy_cases", "all", dis="status=unknown") == 2   # A3, A8
    assert value(df, "advocacy_cases", "all", dis="status=pmi_purna") == 3  # A1 (m0), A4 (m5), A7 (m3)


# --------------------------------------------------------------------------- membership
def test_membership_by_status_and_sex(data):
    df = compute_indicators(data, ["members", "members_joined"], level="national", period="year",
                            by=["status", "sex"])
    assert value(df, "members", "2018", dis="status=pmi_purna") == 3
    assert value(df, "members", "2018", dis="status=keluarga") == 3
    assert value(df, "members", "2018", dis="status=calon_pmi") == 1
    assert value(df, "members", "2018", dis="status=pmi_aktif") == 1
    assert value(df, "members", "2017", dis="status=keluarga") == 1     # m6, m7 joined in 2018
    assert value(df, "members", "2018", dis="sex=P") == 5
    assert value(df, "members", "2018", dis="sex=L") == 3
    assert value(df, "members_joined", "2018", dis="sex=P") == 2
    assert not df["disaggregation"].str.endswith("unknown").any()      # every member has sex and status


def test_stock_by_province_and_quarter(data):
    df = compute_indicators(data, "members", level="province", period="quarter")
    assert value(df, "members", "2017-Q1", "36") == 4     # m0 m1 m2 m3
    assert value(df, "members", "2017-Q3", "36") == 5     # + m4
    assert value(df, "members", "2017-Q1", "35") == 1     # m5
    assert value(df, "members", "2018-Q4", "35") == 3


def test_whole_span_period(data):
    df = compute_indicators(data, ["members", "kur_applications", "business_volume_growth"], level="national",
                            period=None)
    assert value(df, "members", "all") == 8
    assert value(df, "kur_applications", "all") == 9
    assert not (df.indicator_id == "business_volume_growth").any()


# --------------------------------------------------------------------------- rollups
ADDITIVE = [i.id for i in REGISTRY.values() if i.kind in ("count", "total")]
FLOWS = [i.id for i in REGISTRY.values() if i.kind in ("count", "total") and not i.stock]


def test_provinces_sum_to_national(data):
    nat = compute_indicators(data, ADDITIVE, level="national", period="month")
    prov = compute_indicators(data, ADDITIVE, level="province", period="month")
    summed = prov.groupby(["indicator_id", "period"])["numerator"].sum()
    national = nat.set_index(["indicator_id", "period"])["numerator"]
    pd.testing.assert_series_equal(summed.sort_index(), national.sort_index(), check_names=False)
    assert national.sum() > 0


def test_ratios_roll_up_on_numerator_and_denominator(data):
    ids = ["kur_approval_rate", "kur_uptake", "advocacy_resolution_rate", "business_volume_mean"]
    nat = compute_indicators(data, ids, level="national", period="year").set_index(["indicator_id", "period"])
    prov = compute_indicators(data, ids, level="province", period="year")
    for c in ("numerator", "denominator"):
        summed = prov.groupby(["indicator_id", "period"])[c].sum()
        pd.testing.assert_series_equal(summed.sort_index(), nat[c].sort_index(), check_names=False)


def test_months_sum_to_years_for_flows(data):
    years = compute_indicators(data, FLOWS, level="province", period="year")
    months = compute_indicators(data, FLOWS, level="province", period="month")
    months["year"] = months["period"].str[:4]
    summed = months.groupby(["indicator_id", "region_code", "year"])["numerator"].sum()
    yearly = years.set_index(["indicator_id", "region_code", "period"])["numerator"]
    pd.testing.assert_series_equal(summed.sort_index(), yearly.sort_index(), check_names=False)


def test_stocks_do_not_sum_over_time_but_end_where_the_year_ends(data):
    years = compute_indicators(data, "members", level="national", period="year")
    months = compute_indicators(data, "members", level="national", period="month")
    assert value(years, "members", "2017") == value(months, "members", "2017-12")
    assert months[months.period.str.startswith("2017")]["value"].sum() > value(years, "members", "2017")


@pytest.mark.parametrize("by", ["sex", "status"])
def test_disaggregations_sum_to_all(data, by):
    ids = [i for i in ADDITIVE if by in REGISTRY[i].disaggregations]
    total = compute_indicators(data, ids, level="province", period="year")
    split = compute_indicators(data, ids, level="province", period="year", by=by)
    assert split["disaggregation"].str.startswith(f"{by}=").all()
    summed = split.groupby(["indicator_id", "region_code", "period"])["numerator"].sum()
    pd.testing.assert_series_equal(summed.sort_index(),
                                   total.set_index(["indicator_id", "region_code", "period"])["numerator"]
                                   .sort_index(), check_names=False)


def test_sex_l_plus_p_equals_all_for_member_counts(data):
    df = compute_indicators(data, ["members", "members_joined", "kur_applications"], level="national",
                            period="year", by=[None, "sex"])
    for ind in ("members", "members_joined", "kur_applications"):
        for year in ("2017", "2018"):
            assert (value(df, ind, year, dis="sex=L") + value(df, ind, year, dis="sex=P")
                    == value(df, ind, year, dis="all"))


def test_indicator_without_the_disaggregation_gives_all_rows(data):
    df = compute_indicators(data, ["groups_formed", "members"], level="national", period="year", by="sex")
    assert set(df.loc[df.indicator_id == "groups_formed", "disaggregation"]) == {"all"}
    assert set(df.loc[df.indicator_id == "members", "disaggregation"]) == {"sex=L", "sex=P"}


def test_community_without_village_code_is_left_out_at_village_level_only(data):
    village = compute_indicators(data, "members", level="village", period=None)
    district = compute_indicators(data, "members", level="district", period=None)
    assert set(village.region_code) == {"36.04.13.2007", "36.04.13.2008"}
    assert village["value"].sum() == 5                # K3's three members have no village
    assert district["value"].sum() == 8
    community = compute_indicators(data, "members", level="community", period=None)
    assert dict(zip(community.region_code, community.value)) == {"K1": 3, "K2": 2, "K3": 3}


def test_complete_false_drops_zero_cells(data):
    full = compute_indicators(data, "placements_facilitated", level="province", period="month")
    sparse = compute_indicators(data, "placements_facilitated", level="province", period="month", complete=False)
    assert len(full) == 2 * 24 and len(sparse) == 2      # E4 (K1, 36) and E5 (K2, 36)
    assert sparse["value"].sum() == full["value"].sum() == 5


def test_indicator_table_has_every_cut_once(data):
    table = indicator_table(data)
    assert set(table.level) == {"national", "province"}
    assert not table.duplicated(["indicator_id", "level", "region_code", "period", "disaggregation"]).any()
    assert {"all", "sex=P", "status=keluarga"} <= set(table.disaggregation)
    assert set(table.loc[table.indicator_id == "dissemination_events", "disaggregation"]) == {"all"}
    # indicator_table equals the single calls it stands for
    single = compute_indicators(data, "kur_applications", level="province", period="year", by="sex")
    part = table[(table.indicator_id == "kur_applications") & (table.level == "province")
                 & table.disaggregation.str.startswith("sex=")]
    pd.testing.assert_frame_equal(part.reset_index(drop=True), single.reset_index(drop=True))


def test_span_argument_limits_flows_but_stocks_keep_their_opening_stock(data):
    df = compute_indicators(data, ["members", "members_joined"], level="national", period="year",
                            span=("2018-01-01", "2018-12-31"))
    assert set(df.period) == {"2018"}
    assert value(df, "members_joined", "2018") == 2
    assert value(df, "members", "2018") == 8


def test_bad_arguments_raise(data):
    with pytest.raises(ValueError, match="level"):
        compute_indicators(data, level="kabupaten")
    with pytest.raises(ValueError, match="period"):
        compute_indicators(data, period="week")
    with pytest.raises(ValueError, match="by"):
        compute_indicators(data, by="age")
    with pytest.raises(KeyError, match="unknown indicator"):
        compute_indicators(data, "business_units")


def test_indicator_facts_are_readable(data):
    facts = indicator_facts(data, "kur_uptake")
    assert {"community_id", "date", "sex", "status", "num", "den"} <= set(facts.columns)
    assert facts["den"].sum() == 6 and facts["num"].sum() == 4
    assert set(facts["community_id"].astype(str)) <= {"K1", "K2", "K3"}


# --------------------------------------------------------------------------- registry
def test_registry_is_complete_and_bilingual():
    table = list_indicators()
    assert list(table["id"]) == list(REGISTRY)
    assert len(REGISTRY) >= 25
    for ind in REGISTRY.values():
        for text in (ind.label_id, ind.label_en, ind.definition_id, ind.definition_en, ind.numerator, ind.unit):
            assert isinstance(text, str) and text.strip(), ind.id
        assert ind.label_id != ind.label_en or ind.id in {}, ind.id
        assert ind.direction in (-1, 0, 1)
        assert ind.kind in KINDS
        assert set(ind.disaggregations) <= {"sex", "status"}
        assert (ind.denominator is None) == (ind.kind == "count"), ind.id
        assert callable(ind.facts)
        assert ind.sources and set(ind.sources) <= set(TABLES)


def test_registry_covers_every_named_programme_indicator():
    named = {"businesses_formed", "businesses_active", "business_volume_total", "business_volume_mean",
             "business_volume_median", "business_volume_growth", "groups_formed", "cooperatives_formed",
             "kur_uptake", "kur_approval_rate", "kur_amount_total", "kur_amount_mean", "business_consultations",
             "dissemination_events", "dissemination_reach", "information_services", "placement_facilitations",
             "placements_facilitated", "advocacy_cases", "advocacy_resolution_rate",
             "advocacy_days_to_resolution", "people_dissuaded", "members"}
    assert named <= set(REGISTRY)
    assert REGISTRY["members"].stock and REGISTRY["businesses_active"].stock and REGISTRY["kur_uptake"].stock
    assert not REGISTRY["members_joined"].stock


# --------------------------------------------------------------------------- the DuckDB engine
def _with_tables(data: ProgramData, **replace: pd.DataFrame) -> ProgramData:
    return ProgramData({**data.tables, **replace}, data.manifest)


def test_facts_are_sql_over_a_known_base():
    from kkbm_analysis.indicators import Facts
    with pytest.raises(ValueError, match="unknown base relation"):
        Facts("loans_table", "applied_on")
    with pytest.raises(ValueError, match="grain"):
        Facts("loans", "applied_on", grain="month")  # a grain needs a unit


def test_fractional_amounts_are_summed_exactly_as_written(data):
    """Non-integral rupiah take the DOUBLE path (one thread, a fixed order): the sums are those of the values."""
    reports = data.business_reports.copy()
    reports["revenue_idr"] = reports["revenue_idr"] + 0.1  # 1_000_000.1 ...
    df = compute_indicators(_with_tables(data, business_reports=reports), "business_volume_total",
                            level="national", period="year")
    b1, b2, b4 = 1 * M + 0.1 + 2 * M + 0.1, 7 * M + 0.1, 0.5 * M + 0.1 + 1.5 * M + 0.1 + 0.1
    assert value(df, "business_volume_total", "2017") == pytest.approx(b1 + b2 + b4, rel=1e-15)
    again = compute_indicators(_with_tables(data, business_reports=reports), "business_volume_total",
                               level="national", period="year")
    pd.testing.assert_frame_equal(df, again)


def test_two_reports_in_one_month_are_one_business_month(data):
    """At month level a business's reports are summed per month when they are not all on a month's first day."""
    extra = pd.DataFrame({"business_id": ["B1"], "period": _dates("2017-03-15"), "revenue_idr": [4 * M]})
    reports = pd.concat([data.business_reports, extra.astype(data.business_reports.dtypes[extra.columns].to_dict())],
                        ignore_index=True)
    df = compute_indicators(_with_tables(data, business_reports=reports), ["business_volume_mean",
                                                                            "business_volume_median"],
                            level="national", period="month")
    march = cell(df, "business_volume_mean", "2017-03")
    assert march["denominator"] == 1 and march["value"] == 6 * M   # B1: 2 M + 4 M, one business
    assert value(df, "business_volume_median", "2017-03") == 6 * M


def test_results_do_not_depend_on_duckdb_threads(demo_data, monkeypatch):
    import duckdb

    connect = duckdb.connect
    results = []
    for threads in (1, 2, 4):
        monkeypatch.setattr(duckdb, "connect", lambda threads=threads: connect(config={"threads": threads}))
        results.append(indicator_table(demo_data, levels=("national", "province"), periods=("year", None)))
    for other in results[1:]:
        pd.testing.assert_frame_equal(results[0], other, check_exact=True)


def test_a_processed_folder_gives_the_same_indicators_as_its_tables(demo_project, demo_data):
    cuts = {"levels": ("national", "province", "district"), "periods": ("quarter", None), "by": (None, "status")}
    from_folder = indicator_table(demo_project.processed, **cuts)
    from_memory = indicator_table(demo_data, **cuts)
    pd.testing.assert_frame_equal(from_folder, from_memory, check_exact=True)
    assert from_folder.attrs == from_memory.attrs
    assert data_span(demo_project.processed) == data_span(demo_data)


def test_a_damaged_parquet_file_is_reported_in_plain_words(demo_project, tmp_path):
    import shutil

    from kkbm_analysis.store import ProcessedDataError, table_files
    folder = tmp_path / "processed"
    shutil.copytree(demo_project.processed, folder)
    damaged = table_files(folder, "business_reports")[-1]
    damaged.write_bytes(damaged.read_bytes()[:100])  # truncated
    with pytest.raises(ProcessedDataError, match="cannot be read.*kkbm ingest"):
        compute_indicators(folder, "business_volume_total", level="province", period="year")
    with pytest.raises(ProcessedDataError, match="not a processed data folder"):
        compute_indicators(tmp_path, level="province")
