"""Tests of the synthetic demo data: calibration, consistency, effects, raw files, determinism."""
from __future__ import annotations

import csv
import hashlib
import json
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest

from kkbm_analysis import parsing, synth
from kkbm_analysis.schema import (IDENTIFIER_HEADERS, STAGES, TABLES, VOCABULARIES, field_meta, header_key,
                                  identifier_kind, load_mentoring_points)

SMALL = 0.1  # scale multiplier for fast raw-file tests


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return synth.generate_tables()


@pytest.fixture(scope="module")
def demo(demo_project) -> synth.SynthResult:
    """The raw files of the shared demo project (conftest: default seed, scale SMALL)."""
    assert demo_project.synth.out_dir == demo_project.raw
    return demo_project.synth


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _y12(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Members with points received, t0, t12 and Y12, derived from the clean tables only."""
    m, s, a, b = tables["members"], tables["sessions"], tables["attendance"], tables["businesses"]
    att = a.merge(s[["session_id", "kind", "held_on", "community_id"]], on="session_id")
    entry = load_mentoring_points().entry_training.key
    t0 = att[att["kind"] == entry].groupby("member_id")["held_on"].min()
    points = att[att["kind"].isin(load_mentoring_points().point_ids)].groupby("member_id")["kind"].nunique()
    out = m[["member_id", "community_id", "sex"]].assign(
        t0=m["member_id"].map(t0), points=m["member_id"].map(points).fillna(0).astype(int))
    out["t12"] = out["t0"] + pd.Timedelta(days=365)
    own = b[b["owner_member_id"].notna()].merge(out[["member_id", "t12"]], left_on="owner_member_id",
                                                right_on="member_id")
    running = own[(own["started_on"] <= own["t12"]) & (own["closed_on"].isna() | (own["closed_on"] > own["t12"]))]
    out["y12"] = out["member_id"].isin(running["owner_member_id"])
    return out


def _members_per_staff(tables: dict[str, pd.DataFrame]) -> pd.Series:
    """Members / CO+penggerak in post (staff-days within 24 months of formation / 730), per community."""
    c, st, m = tables["communities"], tables["staff"], tables["members"]
    st = st[st["role"].isin(["co", "penggerak"])].merge(c[["community_id", "formed_on"]], on="community_id")
    stop = st["formed_on"] + pd.Timedelta(days=730)
    end = st["ended_on"].fillna(stop).clip(upper=stop)
    days = (end - st["started_on"].clip(lower=st["formed_on"])).dt.days.clip(lower=0)
    staff = days.groupby(st["community_id"]).sum() / 730
    return m.groupby("community_id").size() / staff


# ----------------------------------------------------------------------------- calibration
def test_demo_calibration(tables):
    c, m, st = tables["communities"], tables["members"], tables["staff"]
    assert c["province_code"].nunique() == 7
    assert c["village_code"].nunique() == len(c) == 49
    assert len(m) == 7935
    assert (st["role"] == "penggerak").sum() == 147
    assert (st[st["role"] == "penggerak"].groupby("community_id").size() == 3).all()
    assert (st[st["role"] == "co"].groupby("community_id").size() >= 1).all()
    assert {"36.04.13.2007", "33.07.04.2014"} <= set(c["village_code"])  # Lontar, Tracap
    assert c["village_code"].str.startswith("35.05.").sum() == 7        # Kab. Blitar
    assert not c["regency_code"].eq("35.72").any()                      # not Kota Blitar
    assert m["joined_on"].dt.year.between(2017, 2018).all()
    assert (c["program"] == "KKBM").all() and c["formed_on"].dt.year.eq(2017).all()
    assert m.groupby("community_id").size().min() >= 60


def test_scale_multiplier_keeps_the_structure():
    t = synth.generate_tables(scale=SMALL)
    assert len(t["members"]) == round(7935 * SMALL)
    assert t["communities"]["village_code"].nunique() == 49
    assert (t["staff"]["role"] == "penggerak").sum() == 147


def test_national_fraction_is_the_national_geography_in_proportion():
    t = synth.generate_tables(scale="national:0.01")
    com, mem = t["communities"], t["members"]
    assert len(com) == 60 and com["province_code"].nunique() == 38     # every province, 1 % of 6,000 villages
    assert len(mem) == 10_000 and mem["community_id"].isin(com["community_id"]).all()
    per_province = com["province_code"].value_counts()
    assert per_province.min() >= 1 and per_province["35"] == per_province.max()  # Jawa Timur: weight .14
    assert {"36.04.13.2007", "33.07.04.2014"} <= set(com["village_code"])  # Lontar and Tracap are kept


@pytest.mark.parametrize("kwargs", [{"scale": "huge"}, {"scale": -1}, {"end_year": 2018}, {"scale": "national:x"},
                                    {"scale": "national:0"}])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        synth.generate_tables(**kwargs)


def test_member_mix(tables):
    m = tables["members"]
    shares = m["status"].value_counts(normalize=True)
    for key, share in zip(synth.calibration.STATUS_KEYS, synth.calibration.STATUS_SHARES):
        assert abs(shares[key] - share) < 0.03
    assert abs((m.loc[m["status"] != "keluarga", "sex"] == "P").mean() - 0.7) < 0.03
    assert m["birth_year"].between(1960, 2000).all()


# ----------------------------------------------------------------------------- consistency
def test_clean_tables_pass_the_schemas(tables):
    for name, df in tables.items():
        TABLES[name].schema.validate(df.reindex(columns=TABLES[name].columns), lazy=True)  # optional columns absent


def test_identifiers_are_well_formed(tables):
    m = tables["members"]
    nik = m["member_id"]
    assert (nik == m["nik"]).all() and nik.is_unique
    good = nik.str.fullmatch(r"\d{16}")
    assert 3 <= (~good).sum() <= 20 and nik[~good].str.fullmatch(r"\d{15}").all()
    g = m[good]
    district = g["community_id"].map(tables["communities"].set_index("community_id")["district_code"])
    assert (g["member_id"].str[:6] == district.str.replace(".", "", regex=False)).all()
    day = g["member_id"].str[6:8].astype(int)
    assert ((day > 40) == (g["sex"] == "P")).all()
    assert (day - 40 * (g["sex"] == "P") == g["birth_date"].dt.day).all()
    assert (g["member_id"].str[12:] != "0000").all()
    assert m["phone"].str.fullmatch(r"08\d{9,10}").all()
    assert m["passport_no"].dropna().str.fullmatch(r"[ABC]\d{7}").all()
    assert m["address"].str.fullmatch(r"Dusun [A-Za-z]+, RT \d\d/RW \d\d").all()


def test_migration_dates_follow_status(tables):
    m = tables["members"]
    purna, aktif = m[m["status"] == "pmi_purna"], m[m["status"] == "pmi_aktif"]
    assert (purna["departed_on"] < purna["returned_on"]).all() and (purna["returned_on"] < purna["joined_on"]).all()
    assert aktif["returned_on"].isna().all() and (aktif["departed_on"] < aktif["joined_on"]).all()
    other = m[m["status"].isin(["calon_pmi", "keluarga"])]
    assert other[["departed_on", "returned_on", "destination_country"]].isna().all().all()


def test_stages_in_order(tables):
    st = tables["stages"]
    cols = [c for c, _, _ in STAGES]
    for earlier, later in zip(cols, cols[1:]):
        assert not (st[later].notna() & st[earlier].isna()).any()
        assert not (st[later] < st[earlier]).any()
    share = len(st) / len(tables["members"])
    assert 0.92 < share < 0.98
    assert 0.80 < st["potential_on"].notna().mean() < 0.90


def test_every_member_attends_one_entry_training_after_joining(tables):
    y = _y12(tables)
    att = tables["attendance"].merge(tables["sessions"], on="session_id")
    entry = att[att["kind"] == load_mentoring_points().entry_training.key]
    assert entry["member_id"].is_unique and set(entry["member_id"]) == set(tables["members"]["member_id"])
    joined = tables["members"].set_index("member_id")["joined_on"]
    assert (y.set_index("member_id")["t0"] > joined).all()
    assert (tables["sessions"].loc[tables["sessions"]["kind"] == "entry_training", "duration_days"] == 6).all()


def test_mentoring_sessions_after_training_and_none_in_jatim(tables):
    y = _y12(tables).set_index("member_id")
    att = tables["attendance"].merge(tables["sessions"], on="session_id")
    ment = att[att["kind"].isin(load_mentoring_points().point_ids)]
    assert (ment["held_on"] > ment["member_id"].map(y["t0"])).all()
    assert (ment["held_on"] < ment["member_id"].map(y["t12"])).all()
    assert not ment["community_id"].str.startswith("KKBM-35-").any()
    assert (tables["sessions"]["participants"] == tables["sessions"]["session_id"].map(
        tables["attendance"]["session_id"].value_counts())).all()


def test_loans_after_joining_and_consistent(tables):
    k = tables["kur_loans"].merge(tables["members"][["member_id", "joined_on"]], on="member_id")
    assert (k["applied_on"] > k["joined_on"]).all()
    ok = k[k["approved"]]
    assert (ok["approved_on"] >= ok["applied_on"] + pd.Timedelta(days=14)).all()
    assert ok["amount_idr"].between(5e6, 50e6).all()
    assert k.loc[~k["approved"], ["approved_on", "amount_idr"]].isna().all().all()
    assert 0.5 < k["approved"].mean() < 0.7
    assert not (k["bank"].eq("BSI") & (k["applied_on"] < "2021-02-01")).any()


def test_reports_within_business_lifetime(tables):
    r = tables["business_reports"].merge(tables["businesses"], on="business_id")
    assert (r["period"] >= r["started_on"].dt.to_period("M").dt.to_timestamp()).all()
    closed = r["closed_on"].notna()
    assert (r.loc[closed, "period"] <= r.loc[closed, "closed_on"]).all()
    assert (r["period"] <= "2020-12-01").all() and (r["period"].dt.day == 1).all()
    assert r["workers"].between(1, 5).all()
    assert 2.5e6 < r["revenue_idr"].median() < 3.5e6
    months = r.groupby("business_id").size()
    assert not r.duplicated(["business_id", "period"]).any() and len(months) > 0
    b = tables["businesses"]
    assert ((b["status"] == "closed") == b["closed_on"].notna()).all()
    assert (b["owner_member_id"].isna() == b["group_id"].notna()).all()


def test_prevention_and_advocacy_are_plausible(tables):
    p, a = tables["prevention_events"], tables["advocacy_cases"]
    assert (p["people_dissuaded"] <= p["people_reached"]).all()
    assert (a["closed_on"].isna() | (a["closed_on"] >= a["opened_on"])).all()
    gov = a["community_id"].map(tables["communities"].set_index("community_id")["village_gov_involved"])
    assert a.loc[gov.astype(bool), "disnakertrans_informed"].mean() > a.loc[~gov.astype(bool),
                                                                             "disnakertrans_informed"].mean()
    assert 0.3 < a["disnakertrans_informed"].mean() < 0.5


def test_placements_use_legacy_papua_before_2022(tables):
    p = tables["placements"]
    assert set(p["year"]) == set(range(2016, 2021))
    assert not p["province_code"].isin(["93", "94", "95", "96"]).any()
    assert p["province_code"].nunique() == 34
    assert not p.duplicated(["year", "province_code", "sex"]).any()
    later = synth.generate_tables(scale=SMALL, start_year=2019, end_year=2023)["placements"]
    assert later.loc[later["year"] == 2023, "province_code"].nunique() == 38


# ----------------------------------------------------------------------------- effects
def test_more_points_more_businesses(tables):
    y = _y12(tables)
    rate = y.groupby(y["points"].clip(upper=3))["y12"].mean()
    assert rate.is_monotonic_increasing and rate[3] - rate[0] > 0.1


def test_coverage_falls_with_members_per_staff(tables):
    y = _y12(tables)
    cov = y.groupby("community_id")["points"].mean()
    mps = _members_per_staff(tables)
    keep = ~cov.index.str.startswith("KKBM-35-")
    assert np.corrcoef(mps[cov.index][keep], cov[keep])[0, 1] < -0.3
    assert cov[~keep].eq(0).all()


def test_kur_raises_volume_and_points_lengthen_survival(tables):
    r = tables["business_reports"].merge(tables["businesses"][["business_id", "owner_member_id"]], on="business_id")
    k = tables["kur_loans"]
    first = k[k["approved"]].groupby("member_id")["approved_on"].min().dt.to_period("M").dt.to_timestamp()
    r["kur"] = r["period"] >= r["owner_member_id"].map(first)
    r["logrev"] = np.log(r["revenue_idr"])
    within = r.groupby("business_id")["logrev"].transform("mean")
    demeaned = r["logrev"] - within
    has_both = r.groupby("business_id")["kur"].transform("nunique") == 2
    diff = demeaned[has_both & r["kur"]].mean() - demeaned[has_both & ~r["kur"]].mean()
    assert 0.1 < diff < 0.35  # log(1.25) = 0.22
    y = _y12(tables)
    run = tables["businesses"].merge(y[y["y12"]], left_on="owner_member_id", right_on="member_id")
    stop = run["closed_on"].fillna(pd.Timestamp("2020-12-31"))
    run["months"] = (stop - run["t12"]).dt.days / 30.44
    rate = run.groupby(run["points"] >= 2).apply(lambda g: g["closed_on"].notna().sum() / g["months"].sum())
    assert rate[True] < rate[False]


def test_perdes_lowers_non_procedural_departures(tables):
    d, p = tables["departures"], tables["village_regulations"]
    adopted = p.set_index("village_code")["adopted_on"].dt.to_period("M").dt.to_timestamp()
    d = d.assign(g=d["village_code"].map(adopted))
    treated = d["g"].notna()
    post = d["period"] >= d["g"]
    late = d["period"] >= "2019-07-01"  # after every adoption
    early = d["period"] < "2018-01-01"  # before every adoption
    ratio = lambda m: d.loc[m & late, "non_procedural"].sum() / d.loc[m & early, "non_procedural"].sum()  # noqa
    assert ratio(treated) < 0.9 * ratio(~treated)
    assert "36.04.13.2007" in adopted.index and adopted["36.04.13.2007"].year == 2018
    assert 0.25 < treated.groupby(d["village_code"]).first().mean() < 0.6
    assert post[treated].any()


# ----------------------------------------------------------------------------- raw files
def test_raw_file_names_and_synthetic_marks(demo):
    raw = [p for p in demo.files if p.name.startswith("SYNTHETIC_")]
    assert {p.name for p in demo.files} - {p.name for p in raw} == {
        "ground_truth.json", "expected_quarantine.csv", "expected_ingest_notes.csv", "SYNTHETIC.json"}
    assert len([p for p in raw if p.name.startswith("SYNTHETIC_KKBM_")]) == 7
    for path in raw:
        if path.suffix == ".xlsx":
            wb = openpyxl.load_workbook(path, read_only=True)
            assert "SYNTHETIC" in wb.properties.title
            if "kobo" not in path.name:
                for ws in wb.worksheets:
                    assert "SYNTHETIC" in str(next(ws.iter_rows(max_row=1, values_only=True))[0])
        elif "laporan_usaha" in path.name:
            first = path.read_bytes().split(b"\r\n")[0].decode("cp1252")
            assert "SYNTHETIC" in first
    stamp = json.loads((demo.out_dir / "SYNTHETIC.json").read_text(encoding="utf-8"))
    assert stamp["notice"] == synth.NOTICE and stamp["seed"] == synth.DEFAULT_SEED
    assert stamp["package_version"]


def _sheet(demo, province: str, table: str) -> tuple[str, list[tuple]]:
    path = next(p for p in demo.files if p.name.startswith(f"SYNTHETIC_KKBM_{province}_"))
    wb = openpyxl.load_workbook(path, read_only=True)
    for ws in wb.worksheets:
        if header_key(ws.title) in TABLES[table].sheet_aliases:
            return ws.title, list(ws.iter_rows(values_only=True))
    raise AssertionError(f"no {table} sheet in {path.name}")


def _header_row(rows: list[tuple]) -> int:
    return next(i for i, r in enumerate(rows) if r and r[0] == "No")


def test_member_sheets_of_some_provinces_say_where_members_live(demo):
    """Every other province records its members' Kecamatan and Desa; the others have no such columns."""
    recording = demo.ground_truth["members"]["location_provinces"]["value"]
    provinces = sorted({p.name.split("_")[2] for p in demo.files if p.name.startswith("SYNTHETIC_KKBM_")})
    assert recording == provinces[::2] and 0 < len(recording) < len(provinces)
    for prov in provinces:
        _, rows = _sheet(demo, prov, "members")
        header = [header_key(str(h)) for h in rows[_header_row(rows)] if h is not None]
        has = bool({"kecamatan", "kec"} & set(header)) and bool({"desa", "desa kelurahan"} & set(header))
        assert has == (prov in recording), prov


def test_member_sheet_holds_identifiers(demo):
    _, rows = _sheet(demo, "36", "members")
    header_row = _header_row(rows)
    header = [identifier_kind(h) for h in rows[header_row]]
    assert {"nik", "name", "phone", "passport", "address"} <= set(header)
    data = [r for r in rows[header_row + 1:] if any(v is not None for v in r)]
    col = {kind: i for i, kind in enumerate(header) if kind}
    assert sum(bool(re.fullmatch(r"\d{16}", str(r[col["nik"]]))) for r in data) > 0.9 * len(data)
    assert all(str(r[col["phone"]]).startswith("08") for r in data)
    assert any(re.fullmatch(r"[ABC]\d{7}", str(r[col["passport"]])) for r in data)
    assert all(str(r[col["address"]]).startswith("Dusun ") for r in data)
    assert not any(rows[header_row - 1])  # the blank row between title and header


def test_headers_sheets_and_labels_match_the_schema():
    for spec in synth.rendering.ALL_SPECS:
        aliases = {c: field_meta(spec.table, c)["aliases"] for c in TABLES[spec.table].columns}
        for col in spec.columns:
            for h in col.headers:
                h = h.split("/")[-1] if h.startswith("grp_") else h  # Kobo group path: last segment
                key = "kobo uuid" if h == "_uuid" else header_key(h)  # the Kobo reader renames _uuid
                owners = [c for c, a in aliases.items() if key in a]
                if col.source in aliases:
                    assert owners == [col.source], (spec.table, h, owners)
                elif col.source == "birth_date":
                    assert owners == ["birth_year"]
                elif col.source in ("name", "phone", "address", "passport_no"):
                    assert identifier_kind(h) and not owners, (spec.table, h)
        if spec in synth.rendering.SHEETS:
            assert all(header_key(n) in TABLES[spec.table].sheet_aliases for n in spec.names)
    for vocab in ("member_status", "sex", "staff_role", "end_reason", "sector", "business_status",
                  "group_kind", "partner_type", "session_kind", "program"):
        synonyms = {k: c.synonyms for k, c in VOCABULARIES[vocab].items()}
        for key, labels in synth.rendering._labels(vocab).items():
            parsed = parsing.parse_category(pd.Series(labels), synonyms).values
            assert (parsed == key).all(), (vocab, key, labels)
    for table, (_, bad) in synth.defects._BAD_CATEGORY.items():
        vocab = field_meta(table, synth.defects._BAD_CATEGORY[table][0])["vocab"]
        synonyms = {k: c.synonyms for k, c in VOCABULARIES[vocab].items()}
        assert parsing.parse_category(pd.Series([bad]), synonyms).invalid.all()
    assert "nik" in IDENTIFIER_HEADERS


def test_member_sheet_round_trips_except_quarantined_rows(demo):
    """Parse one province's member sheet with the schema aliases and parsers: it equals the clean table."""
    sheet, rows = _sheet(demo, "33", "members")
    header_row = _header_row(rows)
    first = header_row + 2  # Excel row number of the first data row
    raw = pd.DataFrame(rows[header_row + 1:], columns=[header_key(h) for h in rows[header_row]])
    raw.index = range(first, first + len(raw))
    raw = raw[raw.notna().any(axis=1)]
    q = demo.expected_quarantine
    bad_rows = set(q.loc[(q["file"].str.startswith("SYNTHETIC_KKBM_33_")) & (q["sheet"] == sheet), "row"])
    assert bad_rows and bad_rows <= set(raw.index)

    def field(name: str) -> pd.Series:
        return raw[next(c for c in raw.columns if c in field_meta("members", name)["aliases"])]
    joined = parsing.parse_date(field("joined_on"))
    status = parsing.parse_category(field("status"), {k: c.synonyms for k, c in
                                                      VOCABULARIES["member_status"].items()})
    good = ~raw.index.isin(bad_rows)
    assert not joined.invalid[good].any() and not status.invalid[good].any()
    clean = synth.generate_tables(scale=SMALL)["members"]
    clean = clean[clean["community_id"].str.startswith("KKBM-33-")].set_index("member_id")
    nik = field("member_id")[good].astype(str)
    assert sorted(nik) == sorted(clean.index)
    assert (joined.values[good].to_numpy() == clean.loc[nik, "joined_on"].to_numpy()).all()
    assert (status.values[good].to_numpy() == clean.loc[nik, "status"].to_numpy()).all()
    mine = q["file"].str.startswith("SYNTHETIC_KKBM_33_") & (q["sheet"] == sheet)   # other workbooks reuse sheet names
    rules = q.loc[mine & q["row"].isin(bad_rows)].set_index("row")["rule"]
    for row, rule in rules.items():
        if rule == "invalid_date":
            assert joined.invalid[row]
        elif rule == "invalid_category":
            assert status.invalid[row]
        elif rule in ("missing_value", "future_date"):
            assert not joined.invalid[row] and (pd.isna(joined.values[row]) or joined.values[row].year == 2031)
        elif rule == "duplicate_key":
            assert (field("member_id")[:row - 1].astype(str) == str(field("member_id")[row])).any()


def test_report_csv_is_windows_1252_semicolon_indonesian_numbers(demo):
    path = demo.out_dir / "SYNTHETIC_laporan_usaha_36.csv"
    lines = path.read_bytes().decode("cp1252").split("\r\n")
    rows = list(csv.reader(lines[1:], delimiter=";"))
    assert [header_key(h) for h in rows[0]][0] in ("kode usaha", "id usaha")
    data = [r for r in rows[1:] if any(r)]
    revenue = parsing.parse_rupiah(pd.Series([r[2] for r in data]))
    months = parsing.parse_month(pd.Series([r[1] for r in data]))
    q = demo.expected_quarantine
    bad = set(q.loc[q["file"] == path.name, "row"])
    ok = ~pd.Series(range(3, 3 + len(data))).isin(bad).to_numpy()
    assert not revenue.invalid[ok].any() and not months.invalid[ok].any()
    assert all(re.fullmatch(r"\d{1,3}(\.\d{3})*", r[2]) for r, good in zip(data, ok) if good)
    clean = synth.generate_tables(scale=SMALL)["business_reports"]
    assert ok.sum() == clean["business_id"].str.startswith("KKBM-36-").sum()


def test_kobo_export_conventions(demo):
    raw = (demo.out_dir / "SYNTHETIC_kobo_advokasi.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    header = rows[0]
    assert {"grp_kasus/jenis_kasus", "grp_kasus/tanggal_pengaduan", "_uuid", "_id", "_index",
            "_submission_time", "_status", "grp_kasus/bentuk_bantuan/mediasi"} <= set(header)
    ix = {h: i for i, h in enumerate(header)}
    for r in rows[1:]:
        chosen = r[ix["grp_kasus/bentuk_bantuan"]].split()
        assert all(r[ix[f"grp_kasus/bentuk_bantuan/{a}"]] == ("1" if a in chosen else "0") for a in synth.activities.ASSISTANCE)
    assert [int(r[ix["_index"]]) for r in rows[1:]] == list(range(1, len(rows)))
    assert len({r[ix["_uuid"]] for r in rows[1:]}) == len(rows) - 1


def test_expected_quarantine_and_ingest_notes(demo):
    q, f = demo.expected_quarantine, demo.expected_ingest_notes
    assert list(q.columns) == list(f.columns) == ["file", "sheet", "row", "table", "rule"]
    for table, rules in synth.defects.DEFECTS.items():
        assert set(q.loc[q["table"] == table, "rule"]) == set(rules), table
    assert not q.duplicated(["file", "sheet", "row"]).any()
    # a malformed NIK is noted where the person is registered, once (not on attendance or KUR rows)
    assert (f["rule"] == "invalid_nik").all() and "members" in set(f["table"])
    assert set(f["table"]) <= set(synth.writers.NOTED_REGISTERS)
    on_disk = pd.read_csv(demo.out_dir / "expected_quarantine.csv", keep_default_na=False)
    assert len(on_disk) == len(q)
    rows = q[q["table"] == "communities"]
    assert "ambiguous_region" in set(rows["rule"]) and rows.loc[rows["rule"] == "ambiguous_region",
                                                                 "file"].str.contains("_35_").all()


@pytest.mark.slow
def test_no_dirty_rows_when_share_is_zero(tmp_path):
    r = synth.generate_demo(tmp_path, scale=SMALL, dirty_share=0)
    assert r.expected_quarantine.empty and not r.expected_ingest_notes.empty


def test_ground_truth_keys(demo):
    gt = json.loads((demo.out_dir / "ground_truth.json").read_text(encoding="utf-8"))
    for key in ("notice", "seed", "calibration", "mentoring", "business_y12", "business_survival",
                "business_volume", "kur", "perdes", "staff", "dirty_rows"):
        assert key in gt, key
    assert gt["business_y12"]["beta_points"]["value"] == pytest.approx(np.log(1.4), abs=1e-6)
    assert gt["business_y12"]["beta_kur"]["value"] == pytest.approx(np.log(1.6), abs=1e-6)
    assert 0 < gt["business_y12"]["marginal_log_or_points"]["value"] < gt["business_y12"]["beta_points"]["value"]
    assert 0 < gt["business_y12"]["ame_points"]["value"] < 0.2
    assert gt["business_survival"]["hr_per_point"]["value"] == 0.85
    assert gt["mentoring"]["delta_staff"]["value"] == -0.35
    assert gt["mentoring"]["a_province"]["value"]["35"] is None
    assert gt["business_volume"]["beta_kur_volume"]["value"] == pytest.approx(np.log(1.25), abs=1e-6)
    assert gt["perdes"]["att_overall"]["value"] < 0 and gt["perdes"]["att_gt"]["value"]
    assert 0 < gt["staff"]["co_share_replaced"]["value"] < 1
    for section in ("mentoring", "business_y12", "business_survival", "perdes"):
        for name, item in gt[section].items():
            assert set(item) == {"value", "description"} and item["description"], (section, name)


# ----------------------------------------------------------------------------- determinism
@pytest.mark.slow
def test_same_seed_same_bytes_other_seed_differs(demo, demo_again, demo_other_seed):
    """The shared project's raw files, made again with its seed and scale (conftest), and with another seed."""
    assert [p.name for p in demo_again.files] == [p.name for p in demo.files]
    for a, b in zip(demo.files, demo_again.files):
        assert _sha(a) == _sha(b), a.name
    other = demo_other_seed
    assert other.ground_truth["seed"] != demo.ground_truth["seed"]
    differs = [_sha(a) != _sha(b) for a, b in zip(demo.files, other.files) if a.name.startswith("SYNTHETIC_")]
    assert all(differs)
