"""Small-cell suppression: thresholds, secondary suppression, an attacker who subtracts
along every dimension, and the PublishedTable gate on every writer."""
from __future__ import annotations


import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from kkbm_analysis.config import MIN_PUBLISHED_COUNT, MIN_PUBLISHED_DENOMINATOR
from kkbm_analysis.data import NATIONAL_CODE, ProgramData
from kkbm_analysis.indicators import REGISTRY, RESULT_COLUMNS, indicator_table, publish
from kkbm_analysis.schema import TABLES
from kkbm_analysis.suppression import (
    CELL_KEY,
    NUMBERS,
    PublishedTable,
    require_published,
    small_cells,
    suppress,
    write_published_csv,
    write_published_parquet,
)

KEY = ["indicator_id", "level", "region_code", "period", "disaggregation"]


# --------------------------------------------------------------------------- helpers
def table(rows: list[tuple]) -> pd.DataFrame:
    """Indicator rows (indicator, level, region, period, dis, numerator, denominator)."""
    df = pd.DataFrame(rows, columns=[*KEY, "numerator", "denominator"])
    kind = df["indicator_id"].map({k: v.kind for k, v in REGISTRY.items()})
    num, den = df["numerator"].astype(float), df["denominator"].astype(float)
    df["value"] = np.where(kind.isin(["count", "total"]), num, num / den)
    df["ci_low"] = np.nan
    df["ci_high"] = np.nan
    df["suppressed"] = False
    df = df[list(RESULT_COLUMNS)]
    for c in KEY:
        df[c] = df[c].astype("string")
    for c in ("value", "numerator", "denominator", "ci_low", "ci_high"):
        df[c] = df[c].astype("Float64")
    df.attrs["span"] = ("2017-01-01", "2018-12-31")
    return df


def provinces(indicator: str, values: dict[str, float], *, period: str = "2018", dis: str = "all") -> list[tuple]:
    """A national total and its provinces (count indicator)."""
    rows = [(indicator, "province", code, period, dis, v, None) for code, v in values.items()]
    return [(indicator, "national", NATIONAL_CODE, period, dis, sum(values.values()), None), *rows]


def status_of(pub: PublishedTable) -> dict[str, str]:
    f = pub.frame
    return {r: ("P" if s == "primary" else "S" if s == "secondary" else "-")
            for r, s in zip(f["region_code"], f["suppression"].fillna("-"))}


# --------------------------------------------------------------------------- primary rules
def test_count_thresholds_zero_is_published():
    rows = provinces("members", {"11": 0, "12": 1, "13": 4, "14": 5, "15": 20, "16": 30})
    pub = publish(table(rows))
    f = pub.frame.set_index("region_code")
    assert not f.loc["11", "suppressed"]                      # 0 is safe
    assert f.loc["12", "suppression"] == f.loc["13", "suppression"] == "primary"
    assert not f.loc["14", "suppressed"]                      # 5 is published
    assert MIN_PUBLISHED_COUNT == 5 and pub.thresholds.min_count == 5
    assert pd.isna(f.loc["12", "value"]) and pd.isna(f.loc["12", "numerator"])


def test_rate_thresholds_on_denominator_and_small_numerator():
    rows = [("kur_approval_rate", "national", NATIONAL_CODE, "2018", "all", 8, 9),     # den < 10
            ("kur_approval_rate", "province", "11", "2018", "all", 3, 40),             # num < 5
            ("kur_approval_rate", "province", "12", "2018", "all", 0, 12),             # 0 of 12: published
            ("kur_amount_mean", "national", NATIONAL_CODE, "2018", "all", 9e7, 9),     # mean over 9 loans
            ("business_volume_median", "national", NATIONAL_CODE, "2018", "all", None, 10),
            ("kur_amount_total", "province", "11", "2018", "all", 4e7, 4),             # sum of 4 loans
            ("kur_amount_total", "province", "12", "2018", "all", 5e7, 5)]
    pub = publish(table(rows))
    got = pub.frame.set_index(["measure_id", "region_code"])["suppression"].astype(object).to_dict()
    assert got[("kur_approval_rate", NATIONAL_CODE)] == "primary"
    assert got[("kur_approval_rate", "11")] == "primary"
    assert pd.isna(got[("kur_approval_rate", "12")])
    assert got[("kur_amount_mean", NATIONAL_CODE)] == "primary"
    assert pd.isna(got[("business_volume_median", NATIONAL_CODE)])
    assert got[("kur_amount_total", "11")] == "primary"
    assert pd.isna(got[("kur_amount_total", "12")])
    assert MIN_PUBLISHED_DENOMINATOR == 10


def test_custom_thresholds():
    rows = provinces("members", {"11": 6, "12": 8, "13": 30})
    assert not publish(table(rows)).frame["suppressed"].any()
    pub = publish(table(rows), min_count=7)
    assert status_of(pub) == {NATIONAL_CODE: "-", "11": "P", "12": "S", "13": "-"}
    assert pub.thresholds.min_count == 7


# --------------------------------------------------------------------------- secondary rules
def test_single_suppressed_cell_gets_the_next_smallest_partner():
    pub = publish(table(provinces("members", {"11": 3, "12": 9, "13": 7, "14": 40})))
    assert status_of(pub) == {NATIONAL_CODE: "-", "11": "P", "12": "-", "13": "S", "14": "-"}


def test_partner_is_non_zero_when_possible():
    pub = publish(table(provinces("members", {"11": 3, "12": 0, "13": 0, "14": 40})))
    assert status_of(pub) == {NATIONAL_CODE: "-", "11": "P", "12": "-", "13": "-", "14": "S"}


def test_two_primary_cells_need_no_partner():
    pub = publish(table(provinces("members", {"11": 3, "12": 2, "13": 40})))
    assert status_of(pub) == {NATIONAL_CODE: "-", "11": "P", "12": "P", "13": "-"}


def test_secondary_cascades_across_dimensions():
    # province 12 is suppressed as the partner of 11 in 2018; its 2018 cell is also the sum of
    # its months, so one of its published months must go too, and so on until stable.
    rows = provinces("members_joined", {"11": 3, "12": 8, "13": 40})
    rows += [("members_joined", "province", "12", "2018-01", "all", 6, None),
             ("members_joined", "province", "12", "2018-02", "all", 2, None),
             ("members_joined", "province", "11", "2018-01", "all", 3, None),
             ("members_joined", "province", "11", "2018-02", "all", 0, None)]
    f = publish(table(rows)).frame.set_index(["region_code", "period"])["suppression"].astype(object)
    assert f[("11", "2018")] == "primary" and f[("12", "2018")] == "secondary"
    assert f[("12", "2018-02")] == "primary"
    assert f[("12", "2018-01")] == "secondary"     # else 2018-01 = ... no: else 12's months give 12's year
    assert f[("11", "2018-01")] == "primary"


def test_time_equations_only_for_flows():
    rows = [("members", "national", NATIONAL_CODE, "2018", "all", 40, None),
            ("members", "national", NATIONAL_CODE, "2018-01", "all", 3, None),
            ("members", "national", NATIONAL_CODE, "2018-02", "all", 37, None)]
    # members is a stock: months do not add up to the year, so no partner is needed
    pub = publish(table(rows))
    assert pub.frame["suppressed"].sum() == 1


def test_linked_indicators_are_suppressed_together():
    rows = provinces("kur_applications", {"11": 12, "12": 30, "13": 45})
    rows += [("kur_approval_rate", "national", NATIONAL_CODE, "2018", "all", 50, 87),
             ("kur_approval_rate", "province", "11", "2018", "all", 4, 12),   # numerator 4: primary
             ("kur_approval_rate", "province", "12", "2018", "all", 20, 30),
             ("kur_approval_rate", "province", "13", "2018", "all", 26, 45)]
    f = publish(table(rows)).frame
    sup = f.set_index(["measure_id", "region_code"])["suppressed"]
    assert sup[("kur_approval_rate", "11")] and sup[("kur_approval_rate", "12")]   # 50 - 20 - 26 would give 4
    # the applications (the rate's denominator) are 12, 30 and 45 people: no small count, nothing to protect
    assert not sup[("kur_applications", "11")] and not sup[("kur_applications", "13")]


def test_small_denominators_are_protected_through_links():
    rows = provinces("kur_applications", {"11": 3, "12": 30, "13": 45})
    rows += [("kur_approval_rate", "national", NATIONAL_CODE, "2018", "all", 50, 78),
             ("kur_approval_rate", "province", "11", "2018", "all", 0, 3),    # 0 of 3 applications
             ("kur_approval_rate", "province", "12", "2018", "all", 22, 30),
             ("kur_approval_rate", "province", "13", "2018", "all", 28, 45)]
    sup = publish(table(rows)).frame.set_index(["measure_id", "region_code"])["suppression"].astype(object)
    assert sup[("kur_applications", "11")] == "primary"                # 3 applications: a small count
    assert sup[("kur_approval_rate", "11")] == "primary"
    # the rate's denominator is the same 3 applications: the partner of the count is hidden in both measures
    assert sup[("kur_applications", "12")] == "secondary" and sup[("kur_approval_rate", "12")] == "secondary"


def test_growth_follows_its_base():
    rows = [("business_volume_total", "national", NATIONAL_CODE, "2017", "all", 9e8, 3),
            ("business_volume_total", "national", NATIONAL_CODE, "2018", "all", 9e9, 40),
            ("business_volume_growth", "national", NATIONAL_CODE, "2018", "all", 81e8, 9e8)]
    f = publish(table(rows)).frame.set_index(["measure_id", "period"])["suppression"].fillna("-")
    assert f[("business_volume_total", "2017")] == "primary"
    assert f[("business_volume_total", "2018")] == "-"
    assert f[("business_volume_growth", "2018")] == "secondary"   # its denominator is the 2017 total
    with pytest.raises(ValueError, match="base"):
        publish(table(rows[2:]))


def test_duplicate_cells_and_unknown_indicators_are_refused():
    rows = provinces("members", {"11": 6})
    with pytest.raises(ValueError, match="duplicate"):
        publish(table(rows + rows[:1]))
    with pytest.raises(ValueError, match="registry"):
        publish(table([("not_an_indicator", "national", NATIONAL_CODE, "2018", "all", 1, None)]))


def test_community_rows_need_their_regions():
    rows = [("members", "province", "11", "2018", "all", 10, None),
            ("members", "community", "K1", "2018", "all", 3, None),
            ("members", "community", "K2", "2018", "all", 7, None)]
    with pytest.raises(ValueError, match="communities"):
        publish(table(rows))
    regions = pd.DataFrame({"community_id": ["K1", "K2"], "province_code": ["11", "11"],
                            "regency_code": ["11.01", "11.01"], "district_code": [None, None],
                            "village_code": [None, None], "program": ["KKBM", "KKBM"]})
    f = publish(table(rows), communities=regions).frame.set_index("region_code")
    assert f.loc["K1", "suppression"] == "primary" and f.loc["K2", "suppression"] == "secondary"


# --------------------------------------------------------------------------- the attack
def _random_data(seed: int) -> ProgramData:
    """A small random programme: 3 provinces, 5 regencies, communities of very unequal size."""
    rng = np.random.default_rng(seed)

    def frame(name: str, cols: dict) -> pd.DataFrame:
        spec = TABLES[name].schema.columns
        df = pd.DataFrame({c: cols.get(c, [None] * len(next(iter(cols.values())))) for c in spec})
        for c, s in spec.items():
            d = str(s.dtype)
            df[c] = (pd.to_datetime(df[c]).astype("datetime64[ms]") if d.startswith("datetime")
                     else df[c].astype("string") if d.startswith("str") else df[c].astype(d))
        return df

    def days(n: int, lo: str = "2017-01-01", hi: str = "2018-12-31") -> np.ndarray:
        a, b = np.datetime64(lo), np.datetime64(hi)
        return (a + rng.integers(0, (b - a).astype(int) + 1, n)).astype("datetime64[ms]")

    regencies = ["11.01", "11.02", "12.01", "13.01", "13.02"]
    comm = [f"K{i}" for i in range(9)]
    reg = [regencies[i % 5] for i in range(9)]
    communities = frame("communities", {
        "community_id": comm, "community_name": comm, "program": ["KKBM"] * 9,
        "province_code": [r[:2] for r in reg], "regency_code": reg, "district_code": [r + ".01" for r in reg],
        "village_code": [f"{r}.01.20{i:02d}" for i, r in enumerate(reg)], "formed_on": ["2017-01-01"] * 9})
    n = 260
    mcomm = rng.choice(comm, n, p=np.array([30, 20, 12, 8, 6, 4, 2, 1, 1]) / 84)
    members = frame("members", {
        "member_id": [f"m{i}" for i in range(n)], "community_id": mcomm,
        "status": rng.choice(["pmi_purna", "keluarga", "calon_pmi", "pmi_aktif"], n, p=[.45, .25, .15, .15]),
        "sex": rng.choice(["P", "L"], n, p=[.7, .3]), "joined_on": days(n, "2017-01-01", "2018-06-30")})
    k = 110
    who = rng.integers(0, n, k)
    applied = np.maximum(days(k), members["joined_on"].to_numpy()[who])
    ok = rng.random(k) < 0.6
    kur = frame("kur_loans", {
        "loan_id": [f"L{i}" for i in range(k)], "member_id": members["member_id"].to_numpy()[who],
        "applied_on": applied, "approved": ok,
        "approved_on": np.where(ok, applied + np.timedelta64(20, "D"), np.datetime64("NaT")),
        "amount_idr": np.where(ok, rng.integers(5, 50, k) * 1e6, np.nan)})
    c = 70
    cases = frame("advocacy_cases", {
        "case_id": [f"A{i}" for i in range(c)], "community_id": rng.choice(comm, c),
        "case_type": ["other"] * c, "opened_on": days(c, "2017-01-01", "2018-10-31"),
        "outcome": rng.choice(["resolved", "referred", "unresolved", "ongoing"], c, p=[.5, .2, .1, .2])})
    cases["closed_on"] = (cases["opened_on"] + pd.to_timedelta(rng.integers(1, 60, c), unit="D")).where(
        cases["outcome"] != "ongoing")
    e = 60
    prevention = frame("prevention_events", {
        "event_id": [f"P{i}" for i in range(e)], "community_id": rng.choice(comm, e), "held_on": days(e),
        "people_reached": rng.integers(5, 60, e), "people_dissuaded": rng.integers(0, 5, e)})
    return ProgramData({"communities": communities, "members": members, "kur_loans": kur,
                        "advocacy_cases": cases, "prevention_events": prevention}, {"synthetic": True})


ATTACKED = ["members", "members_joined", "kur_applications", "kur_loans_approved", "kur_approval_rate",
            "kur_amount_total", "kur_amount_mean", "kur_uptake", "advocacy_cases", "advocacy_cases_resolved",
            "advocacy_resolution_rate", "advocacy_days_to_resolution", "people_dissuaded", "prevention_events"]


def _attacker_equations(f: pd.DataFrame) -> list[tuple[int, list[int]]]:
    """(parent row, child rows) for every 'total = sum of parts' an outsider knows of."""
    rows = {tuple(k): i for i, k in enumerate(f[list(CELL_KEY)].astype(str).itertuples(index=False))}
    groups: dict[tuple, list[int]] = {}
    for i, (ind, level, region, period, dis) in enumerate(f[list(CELL_KEY)].astype(str).itertuples(index=False)):
        parents = []
        if level == "province":
            parents.append(("region", (ind, "national", NATIONAL_CODE, period, dis)))
        if level == "regency":
            parents.append(("region", (ind, "province", region[:2], period, dis)))
        if len(period) == 7 and REGISTRY[ind].time_additive:          # months add up to the year
            parents.append(("time", (ind, level, region, period[:4], dis)))
        if dis != "all":
            parents.append((dis.split("=")[0], (ind, level, region, period, "all")))
        for relation, p in parents:
            groups.setdefault((relation, p), []).append(i)
    eqs = []
    for gkey, kids in groups.items():
        parent = gkey[-1]
        if parent in rows and REGISTRY[parent[0]].kind != "growth":
            eqs.append((rows[parent], kids))
    # stock-flow: members(t) - members(t-1) = members_joined(t)
    for (ind, level, region, period, dis), i in rows.items():
        if ind == "members" and len(period) == 4:
            prev = rows.get((ind, level, region, str(int(period) - 1), dis))
            flow = rows.get(("members_joined", level, region, period, dis))
            if prev is not None and flow is not None:
                eqs.append((i, [prev, flow]))
    return eqs


def _peel(published: np.ndarray, equations: list[tuple[int, list[int]]]) -> np.ndarray:
    """Recover what single-unknown subtraction can, repeatedly; returns the known values."""
    known = published.copy()
    changed = True
    while changed:
        changed = False
        for parent, kids in equations:
            cells = [parent, *kids]
            unknown = [c for c in cells if np.isnan(known[c])]
            if len(unknown) != 1:
                continue
            u = unknown[0]
            kids_sum = sum(known[c] for c in kids if c != u)
            known[u] = known[parent] - kids_sum if u != parent else kids_sum
            changed = True
    return known


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_attack_cannot_recover_any_suppressed_cell(seed):
    data = _random_data(seed)
    true = indicator_table(data, indicators=ATTACKED, levels=("national", "province", "regency"),
                           periods=("year", "month"), by=(None, "sex", "status"))
    pub = publish(true)
    f = pub.frame
    assert (f[list(CELL_KEY)].to_numpy() == true[KEY].to_numpy()).all()
    sup = f["suppressed"].to_numpy()
    assert sup.sum() >= 50 and (f["suppression"] == "secondary").sum() >= 10   # the attack has work to do
    equations = _attacker_equations(f)
    assert len(equations) > 1000
    for column in ("numerator", "denominator"):
        truth = true[column].to_numpy(dtype=float, na_value=np.nan)
        published = f[column].to_numpy(dtype=float, na_value=np.nan)
        applicable = ~np.isnan(truth)
        # sanity: the equations hold on the true values, so the attack is a real one
        for parent, kids in equations[:300]:
            if applicable[parent]:
                assert truth[parent] == pytest.approx(sum(truth[k] for k in kids))
        known = _peel(published, equations)
        recovered = sup & applicable & ~np.isnan(known)
        assert not recovered.any(), f[recovered][list(CELL_KEY)].head()
        # the naive attack: total minus the published parts never equals a suppressed cell,
        # because every suppressed cell shares its equation with another non-zero suppressed cell
        for parent, kids in equations:
            if np.isnan(published[parent]):
                continue
            hidden = [k for k in kids if sup[k] and applicable[k]]
            if len(hidden) == 1:
                pytest.fail(f"cell {f.loc[hidden[0], list(CELL_KEY)].tolist()} is the only unknown of its total")
            if hidden and any(truth[k] != 0 for k in hidden):
                residual = published[parent] - sum(published[k] for k in kids if not sup[k])
                assert not any(residual == truth[k] for k in hidden if truth[k] != 0 and len(hidden) > 1
                               and sum(truth[j] != 0 for j in hidden) > 1)


def test_suppressed_cells_are_blank_and_labelled():
    data = _random_data(4)
    pub = publish(indicator_table(data, indicators=ATTACKED))
    f = pub.frame
    assert tuple(f.columns[:5]) == CELL_KEY and tuple(f.columns[-2:]) == ("suppressed", "suppression")
    s = f["suppressed"]
    assert s.any()
    assert f.loc[s, list(NUMBERS)].isna().all().all()
    assert set(f.loc[s, "suppression"]) <= {"primary", "secondary"}
    assert f.loc[~s, "suppression"].isna().all()
    assert pub.metadata["primary"] + pub.metadata["secondary"] == s.sum()
    assert pub.metadata["synthetic"] is True


# --------------------------------------------------------------------------- the gate
def test_published_table_is_made_only_by_suppress(tmp_path):
    df = table(provinces("members", {"11": 3, "12": 30, "13": 8}))
    with pytest.raises(TypeError, match="suppress"):
        PublishedTable(df, None, {})
    pub = publish(df)
    copy = pub.frame
    copy.loc[:, "value"] = 999
    assert (pub.frame["value"] != 999).any()          # .frame is a copy
    with pytest.raises(AttributeError):
        pub.extra = 1
    assert "PublishedTable" in repr(pub) and "<table" in pub._repr_html_()


def test_writers_refuse_plain_dataframes(tmp_path):
    df = table(provinces("members", {"11": 3, "12": 30, "13": 8}))
    for writer in (write_published_parquet, write_published_csv):
        with pytest.raises(TypeError, match="PublishedTable"):
            writer(df, tmp_path / "out")
    with pytest.raises(TypeError, match="suppress"):
        require_published(df, "a report")
    assert not list(tmp_path.iterdir())


def test_write_indicator_table_writes_the_suppressed_table(tmp_path):
    df = table(provinces("members", {"11": 3, "12": 30, "13": 8}))
    df.attrs["synthetic"] = True
    pub = publish(df)
    path = write_published_parquet(pub, tmp_path / "indicators.parquet")
    back = pd.read_parquet(path)
    assert back["suppressed"].sum() == 2 and back.loc[back["suppressed"], "value"].isna().all()
    meta = pq.read_schema(path).metadata
    assert meta[b"kkbm:synthetic"] == b"true"
    assert b"min_count=5" in meta[b"kkbm:suppression"]
    csv = write_published_csv(pub, tmp_path / "indicators.csv")
    assert csv.read_text(encoding="utf-8-sig").startswith("measure_id,level,region_code,period")  # plain CSV
    again = pd.read_csv(csv)
    assert list(again.columns) == list(back.columns) and again["value"].isna().sum() == 2
    # attrs lost (a filtered or concatenated frame): never written as 'false'
    lost = publish(table(provinces("members", {"11": 3, "12": 30, "13": 8})))
    meta = pq.read_schema(write_published_parquet(lost, tmp_path / "lost.parquet")).metadata
    assert meta[b"kkbm:synthetic"] == b"unknown"
    explicit = publish(table(provinces("members", {"11": 3, "12": 30, "13": 8})), synthetic=False)
    assert pq.read_schema(write_published_parquet(explicit, tmp_path / "real.parquet")).metadata[
        b"kkbm:synthetic"] == b"false"
    with pytest.raises(ValueError, match="already suppressed"):
        suppress(pub.frame)
    with pytest.raises(ValueError, match="kind"):
        suppress(df)                                  # no kinds and no registry: refused, not guessed


# --------------------------------------------------------------------------- any product: the cell shape
def cell_table(rows: list[tuple]) -> pd.DataFrame:
    """Cells (measure, level, region, period, kind, numerator, denominator, n, stock)."""
    df = pd.DataFrame(rows, columns=["measure_id", "level", "region_code", "period", "kind", "numerator",
                                     "denominator", "n", "stock"])
    df.insert(4, "disaggregation", "all")
    df["value"] = np.where(df["kind"] == "count", df["numerator"], df["numerator"] / df["denominator"])
    df["ci_low"] = df["ci_high"] = np.nan
    return df


def test_primary_rules_by_kind_without_a_registry():
    rows = [("ratio_m", "province", "11", "2018", "ratio", 4, 2.0, None, True),        # 4 members: too few
            ("ratio_m", "province", "12", "2018", "ratio", 400, 5.0, None, True),
            ("rate_m", "province", "11", "2018", "rate", 3, 10.0, None, False),       # 3 departures
            ("share_m", "province", "11", "2018", "proportion", 10, 40.0, 8, False),  # n = 8 people < 10
            ("share_m", "province", "12", "2018", "proportion", 10, 40.0, 10, False),
            ("mean_m", "province", "11", "2018", "mean", 30, 9.0, None, False),       # n = denominator = 9
            ("count_m", "province", "11", "2018", "count", 0, None, None, False)]     # zero is published
    df = cell_table(rows)
    f = suppress(df).frame.set_index(["measure_id", "region_code"])["suppression"].astype(object).fillna("-")
    assert f.to_dict() == {("ratio_m", "11"): "primary", ("ratio_m", "12"): "-", ("rate_m", "11"): "primary",
                           ("share_m", "11"): "primary", ("share_m", "12"): "-", ("mean_m", "11"): "primary",
                           ("count_m", "11"): "-"}
    assert small_cells(df).tolist() == [True, False, True, True, False, True, False]


def test_n_equations_and_scaled_links_protect_other_products():
    # a mean over 6 trained members (primary) and a coverage published as points / 4 of the same members:
    # the scaled link withholds the coverage too, and the region equation on n a partner province
    rows = [("points_mean", "national", "ID", "2018", "mean", 60, 36.0, None, False),
            ("points_mean", "province", "11", "2018", "mean", 6, 6.0, None, False),
            ("points_mean", "province", "12", "2018", "mean", 24, 12.0, None, False),
            ("points_mean", "province", "13", "2018", "mean", 30, 18.0, None, False),
            ("coverage", "national", "ID", "2018", "mean", 15, 36.0, None, False),
            ("coverage", "province", "11", "2018", "mean", 1.5, 6.0, None, False),
            ("coverage", "province", "12", "2018", "mean", 6, 12.0, None, False),
            ("coverage", "province", "13", "2018", "mean", 7.5, 18.0, None, False)]
    from kkbm_analysis.suppression import Relations
    linked = Relations.of(links=[("coverage", "N", "points_mean", "N", 0.25)])
    f = suppress(cell_table(rows), relations=linked).frame.set_index(["measure_id", "region_code"])
    assert f.loc[("points_mean", "11"), "suppression"] == "primary"
    assert f.loc[("points_mean", "12"), "suppression"] == "secondary"      # smallest partner
    assert f.loc[("coverage", "11"), "suppressed"] and f.loc[("coverage", "12"), "suppressed"]
    assert not f.loc[("coverage", "13"), "suppressed"]


def test_survey_rounds_take_part_in_no_time_equation():
    rows = [("score", "national", "ID", "baseline", "mean", 300, 30.0, None, False),
            ("score", "national", "ID", "followup_1", "mean", 70, 7.0, None, False),
            ("score", "national", "ID", "all", "mean", 370, 37.0, None, False)]
    f = suppress(cell_table(rows)).frame.set_index("period")["suppression"].astype(object).fillna("-")
    assert f.to_dict() == {"baseline": "-", "followup_1": "primary", "all": "-"}
