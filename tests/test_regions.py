"""Tests for kkbm_analysis.regions (Kemendagri codes and region harmonisation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kkbm_analysis.regions import (
    PROVINCE_SPLITS_2022,
    RegionMatch,
    harmonise_regions,
    load_region_table,
    normalise_code,
    normalise_name,
    province_as_of,
    region_table,
)

CODE_COLUMNS = ["province_code", "regency_code", "district_code", "village_code"]


def match_one(**cells) -> RegionMatch:
    """Harmonise a one-row frame whose columns are named after their level."""
    frame = pd.DataFrame({level: [value] for level, value in cells.items()}, dtype=object)
    return harmonise_regions(frame, **{level: level for level in cells})


def codes_of(result: RegionMatch) -> list:
    """The first row's codes, <NA> as None."""
    row = result.codes.iloc[0]
    return [None if pd.isna(v) else v for v in row[CODE_COLUMNS]]


# --------------------------------------------------------------------------
# region_table / load_region_table
# --------------------------------------------------------------------------


def test_region_table_counts_and_shape():
    table = region_table()
    assert list(table.columns) == ["code", "level", "kind", "name", "parent_code", "province_code"]
    assert table["level"].value_counts().sort_index().tolist() == [38, 514, 7285, 83762]
    assert table["code"].is_unique and table["code"].is_monotonic_increasing
    provinces = table[table["level"] == 1]
    assert {"91", "92", "93", "94", "95", "96"} <= set(provinces["code"])
    assert provinces["parent_code"].isna().all()
    assert table.loc[table["level"] > 1, "parent_code"].notna().all()


def test_region_table_rows_and_kinds():
    table = region_table().set_index("code")
    assert table.loc["36.04.13.2007", "name"] == "Lontar"
    assert table.loc["36.04.13.2007", "kind"] == "desa"
    assert table.loc["36.04.13.2007", "parent_code"] == "36.04.13"
    assert table.loc["36.04.13.2007", "province_code"] == "36"
    assert table.loc["35.05", ["name", "kind"]].tolist() == ["Kabupaten Blitar", "kabupaten"]
    assert table.loc["35.72", ["name", "kind"]].tolist() == ["Kota Blitar", "kota"]
    assert table.loc["93.01.01", "kind"] == "distrik"
    assert table.loc["36.04.13", "kind"] == "kecamatan"
    assert set(table["kind"]) == {
        "provinsi", "kabupaten", "kota", "kecamatan", "distrik", "desa", "kelurahan", "desa_adat",
    }


def test_region_table_returns_a_copy():
    table = region_table()
    table.loc[0, "name"] = "changed"
    assert region_table().loc[0, "name"] == "Aceh"


def test_load_region_table_from_csv(tmp_path):
    path = tmp_path / "wilayah.csv"
    path.write_text("code,name\n36,Banten\n3604,Kabupaten Serang\n36.73,Kota Serang\n360413,Tirtayasa\n")
    table = load_region_table(path)
    assert table["code"].tolist() == ["36", "36.04", "36.04.13", "36.73"]
    assert table["kind"].tolist() == ["provinsi", "kabupaten", "kecamatan", "kota"]
    assert table["parent_code"].fillna("-").tolist() == ["-", "36", "36.04", "36"]
    frame = pd.DataFrame({"kab": ["Serang", "Kota Serang"], "kec": ["Tirtayasa", None]})
    result = harmonise_regions(frame, regency="kab", district="kec", table=table)
    assert result.codes["district_code"].tolist()[0] == "36.04.13"
    assert result.codes["regency_code"].tolist() == ["36.04", "36.73"]


def test_load_region_table_rejects_orphans_and_bad_codes(tmp_path):
    orphan = tmp_path / "orphan.csv"
    orphan.write_text("code,name\n36,Banten\n35.05,Kabupaten Blitar\n")
    with pytest.raises(ValueError, match="35"):
        load_region_table(orphan)
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name\n36,Banten\n36.4,Somewhere\n")
    with pytest.raises(ValueError, match="36.4"):
        load_region_table(bad)


# --------------------------------------------------------------------------
# normalise_code / normalise_name / province history
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3604", "36.04"),
        ("36.04", "36.04"),
        (3604, "36.04"),
        (np.int64(3604), "36.04"),
        (36.04, "36.04"),
        (3604.0, "36.04"),
        ("3604.0", "36.04"),
        (35.1, "35.10"),
        ("36.04.13.2007", "36.04.13.2007"),
        ("3604132007", "36.04.13.2007"),
        (3604132007, "36.04.13.2007"),
        (" 360413 ", "36.04.13"),
        ("36", "36"),
        ("Serang", None),
        ("360", None),
        ("35.1", None),
        (36.041, None),
        (None, None),
        (float("nan"), None),
        (True, None),
    ],
)
def test_normalise_code(value, expected):
    assert normalise_code(value) == expected


@pytest.mark.parametrize(
    "value",
    ["Kab. Serang", "Kab Serang", "KABUPATEN SERANG", "Serang (Kab)", "Serang, Kab.", "kabupaten  serang "],
)
def test_normalise_name_kabupaten_variants(value):
    assert normalise_name(value, 2) == ("serang", "kabupaten")


@pytest.mark.parametrize(
    ("value", "level", "expected"),
    [
        ("Kota Blitar", 2, ("blitar", "kota")),
        ("Blitar (Kota)", 2, ("blitar", "kota")),
        ("Blitar", 2, ("blitar", None)),
        ("Kota Adm. Jakarta Pusat", 2, ("jakarta pusat", "kota")),
        ("Kota Administrasi Jakarta Pusat", 2, ("jakarta pusat", "kota")),
        ("Kab. Adm. Kep. Seribu", 2, ("kepulauan seribu", "kabupaten")),
        ("Lima Puluh Kota", 2, ("lima puluh kota", None)),
        ("Kec. Tirtayasa", 3, ("tirtayasa", None)),
        ("Kecamatan Tirtayasa", 3, ("tirtayasa", None)),
        ("Kota Baru", 3, ("kota baru", None)),
        ("Desa Lontar", 4, ("lontar", None)),
        ("Ds. Lontar", 4, ("lontar", None)),
        ("Kel. X", 4, ("x", None)),
        ("  Désa   LONTAR. ", 4, ("lontar", None)),
        ("Regapu\u2019u", 4, ("regapuu", None)),
        ("Sulawesi Utara", 1, ("sulawesi utara", None)),
    ],
)
def test_normalise_name_forms(value, level, expected):
    assert normalise_name(value, level) == expected


@pytest.mark.parametrize(
    ("aliases", "official"),
    [
        (["DKI", "DKI Jakarta", "Jakarta", "dki  jakarta"], "Daerah Khusus Ibukota Jakarta"),
        (
            ["DIY", "DI Yogyakarta", "D.I. Yogyakarta", "Yogyakarta", "Daerah Istimewa Yogyakarta"],
            "Daerah Istimewa Yogyakarta",
        ),
        (["NTB", "Prov. Nusa Tenggara Barat", "Prov. NTB"], "Nusa Tenggara Barat"),
    ],
)
def test_normalise_name_province_aliases(aliases, official):
    expected = normalise_name(official, 1)
    assert [normalise_name(alias, 1) for alias in aliases] == [expected] * len(aliases)


def test_province_splits_match_the_official_names():
    names = region_table().set_index("code")["name"]
    assert dict(PROVINCE_SPLITS_2022) == {"93": "91", "94": "91", "95": "91", "96": "92"}
    assert [names[c] for c in ["93", "94", "95", "96"]] == [
        "Papua Selatan", "Papua Tengah", "Papua Pegunungan", "Papua Barat Daya",
    ]


@pytest.mark.parametrize(
    ("code", "year", "expected"),
    [("93", 2020, "91"), ("96", 2021, "92"), ("93", 2022, "93"), ("93", 2024, "93"),
     ("35", 2015, "35"), ("94.01", 2019, "91")],
)
def test_province_as_of(code, year, expected):
    assert province_as_of(code, year) == expected


def test_province_as_of_rejects_non_codes():
    with pytest.raises(ValueError):
        province_as_of("Papua", 2020)


# --------------------------------------------------------------------------
# harmonise_regions: spellings
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["Kab. Serang", "Kab Serang", "KABUPATEN SERANG", "Serang (Kab)", "Serang, Kab.", "Kabupaten Serang"],
)
def test_serang_variants(value):
    assert codes_of(match_one(province="Banten", regency=value)) == ["36", "36.04", None, None]


@pytest.mark.parametrize("value", ["Kota Serang", "Serang (Kota)", "Serang, Kota", "KOTA SERANG"])
def test_kota_serang_variants(value):
    assert codes_of(match_one(regency=value)) == ["36", "36.73", None, None]


@pytest.mark.parametrize(
    ("values", "code"),
    [
        (["DKI", "DKI Jakarta", "Jakarta", "Daerah Khusus Ibukota Jakarta", "Provinsi DKI Jakarta"], "31"),
        (
            ["Daerah Istimewa Yogyakarta", "DI Yogyakarta", "D.I. Yogyakarta", "Yogyakarta", "DIY",
             "DI. Yogyakarta"],
            "34",
        ),
        (["NTB", "Nusa Tenggara Barat", "nusa tenggara  barat", "Prov. NTB"], "52"),
        (["Jabar", "Jateng", "Jatim", "Kepri", "Babel", "Sulsel", "Sumut", "Kalbar", "NTT"], None),
    ],
)
def test_province_spellings(values, code):
    frame = pd.DataFrame({"prov": values})
    result = harmonise_regions(frame, province="prov")
    assert result.problems.empty
    found = result.codes["province_code"].tolist()
    if code is None:  # the abbreviations in order
        assert found == ["32", "33", "35", "21", "19", "73", "12", "61", "53"]
    else:
        assert found == [code] * len(values)


def test_jakarta_administrative_city():
    for value in ["Kota Adm. Jakarta Pusat", "Kota Administrasi Jakarta Pusat", "Jakarta Pusat"]:
        assert codes_of(match_one(province="DKI", regency=value)) == ["31", "31.71", None, None]


def test_yogyakarta_is_a_province_alias_but_a_city_name():
    assert codes_of(match_one(province="Yogyakarta", regency="Yogyakarta")) == ["34", "34.71", None, None]


# --------------------------------------------------------------------------
# harmonise_regions: Blitar, villages, problems
# --------------------------------------------------------------------------


def test_blitar_kab_kota_and_bare():
    frame = pd.DataFrame({"kab": ["Kab. Blitar", "Kota Blitar", "Blitar"]})
    result = harmonise_regions(frame, regency="kab")
    assert result.codes["regency_code"].tolist()[:2] == ["35.05", "35.72"]
    assert result.codes.iloc[2].isna().all()
    assert result.problems[["index", "column", "rule"]].values.tolist() == [[2, "kab", "ambiguous_region"]]
    assert result.problems["message"].iloc[0] == (
        "'Blitar' matches Kabupaten Blitar (35.05) and Kota Blitar (35.72); write Kab. or Kota"
    )


def test_bare_blitar_settled_by_a_district():
    # Kanigoro is a district of Kabupaten Blitar only; Sukorejo of Kota Blitar only.
    assert codes_of(match_one(regency="Blitar", district="Kanigoro")) == ["35", "35.05", "35.05.10", None]
    assert codes_of(match_one(regency="Blitar", district="Sukorejo")) == ["35", "35.72", "35.72.02", None]


def test_lontar_tirtayasa_serang():
    result = match_one(province="Banten", regency="Serang", district="Kec. Tirtayasa", village="Desa Lontar")
    assert result.problems.empty
    assert codes_of(result) == ["36", "36.04", "36.04.13", "36.04.13.2007"]


def test_lontar_needs_its_regency():
    # Banten has a Lontar in Kabupaten Serang and one in Kabupaten Tangerang.
    ambiguous = match_one(province="Banten", village="Lontar")
    assert ambiguous.problems["rule"].tolist() == ["ambiguous_region"]
    assert "36.04.13.2007" in ambiguous.problems["message"].iloc[0]
    assert "36.03.09.2003" in ambiguous.problems["message"].iloc[0]
    assert codes_of(match_one(regency="Kab. Serang", village="Lontar"))[3] == "36.04.13.2007"


def test_tracap_kaliwiro_wonosobo():
    result = match_one(province="Jawa Tengah", regency="Wonosobo", district="Kaliwiro", village="Tracap")
    assert codes_of(result) == ["33", "33.07", "33.07.04", "33.07.04.2014"]


def test_unknown_name():
    result = match_one(province="Banten", regency="Serang", district="Atlantis")
    assert codes_of(result) == [None, None, None, None]
    problem = result.problems.iloc[0]
    assert (problem["column"], problem["rule"]) == ("district", "unknown_region")
    assert "'Atlantis'" in problem["message"]


def test_unknown_code_and_code_at_wrong_level():
    assert match_one(regency="36.99").problems["rule"].tolist() == ["unknown_region"]
    wrong = match_one(regency="36.04.13")
    assert wrong.problems["rule"].tolist() == ["unknown_region"]
    assert "district code" in wrong.problems["message"].iloc[0]


def test_kind_hint_is_a_filter_not_a_guess():
    result = match_one(regency="Kota Lebak")  # only Kabupaten Lebak exists
    assert result.problems["rule"].tolist() == ["unknown_region"]
    assert "Kabupaten Lebak (36.02" in result.problems["message"].iloc[0]


def test_no_fuzzy_matching():
    assert match_one(regency="Serangg").problems["rule"].tolist() == ["unknown_region"]


def test_parent_child_mismatch():
    by_code = match_one(province="Banten", regency="35.05")
    assert by_code.problems[["column", "rule"]].values.tolist() == [["regency", "region_mismatch"]]
    assert "Kabupaten Blitar (35.05" in by_code.problems["message"].iloc[0]
    assert codes_of(by_code) == [None, None, None, None]
    by_name = match_one(province="Banten", regency="Kab. Blitar")
    assert by_name.problems["rule"].tolist() == ["region_mismatch"]
    village = match_one(regency="Kab. Serang", village="36.03.09.2003")  # Lontar of Tangerang
    assert village.problems[["column", "rule"]].values.tolist() == [["village", "region_mismatch"]]


def test_legacy_papua_province():
    frame = pd.DataFrame(
        {"prov": ["Papua", "91", "Papua Selatan", "Papua", "Papua Barat"],
         "kab": ["Kabupaten Merauke", "Merauke", "Merauke", "Kabupaten Jayawijaya", "Merauke"]},
        index=["a", "b", "c", "d", "e"],
    )
    result = harmonise_regions(frame, province="prov", regency="kab")
    codes = result.codes
    assert codes.loc["a", ["province_code", "regency_code"]].tolist() == ["93", "93.01"]
    assert codes.loc["b", ["province_code", "regency_code"]].tolist() == ["93", "93.01"]
    assert codes.loc["c", ["province_code", "regency_code"]].tolist() == ["93", "93.01"]
    assert codes.loc["d", "province_code"] == "95"  # Jayawijaya: Papua Pegunungan
    assert result.notes[["index", "column", "rule"]].values.tolist() == [
        ["a", "prov", "legacy_province"], ["b", "prov", "legacy_province"], ["d", "prov", "legacy_province"],
    ]
    assert "Papua Selatan (93)" in result.notes["message"].iloc[0]
    # Merauke was never in Papua Barat.
    assert result.problems[["index", "rule"]].values.tolist() == [["e", "region_mismatch"]]
    assert codes.loc["e"].isna().all()


def test_codes_in_many_shapes():
    frame = pd.DataFrame({"kab": ["3604", 3604, "36.04", "Kab. Serang", 3604.0]}, dtype=object)
    assert harmonise_regions(frame, regency="kab").codes["regency_code"].tolist() == ["36.04"] * 5
    floats = pd.DataFrame({"kab": [36.04, 35.05, np.nan]})
    result = harmonise_regions(floats, regency="kab")
    assert result.codes["regency_code"].fillna("-").tolist() == ["36.04", "35.05", "-"]
    assert result.problems.empty


def test_deepest_code_fills_its_parents():
    frame = pd.DataFrame({"desa": [3604132007, "3307042014"]}, dtype=object)
    result = harmonise_regions(frame, village="desa")
    assert result.codes.values.tolist() == [
        ["36", "36.04", "36.04.13", "36.04.13.2007"],
        ["33", "33.07", "33.07.04", "33.07.04.2014"],
    ]


def test_duplicate_village_name_in_one_district():
    # Sonder (Kabupaten Minahasa) has two villages named Tounelet Satu.
    result = match_one(regency="Minahasa", district="Sonder", village="Tounelet Satu")
    assert result.problems["rule"].tolist() == ["ambiguous_region"]
    message = result.problems["message"].iloc[0]
    assert "71.02.11.2003" in message and "71.02.11.2018" in message
    by_code = match_one(regency="Minahasa", district="Sonder", village="71.02.11.2018")
    assert codes_of(by_code)[3] == "71.02.11.2018"


def test_blank_columns_are_not_constraints():
    frame = pd.DataFrame(
        {"prov": ["Banten", None, "", "Jatim"], "kab": [None, None, "  ", "-"]},
        index=[10, 20, 30, 40],
    )
    result = harmonise_regions(frame, province="prov", regency="kab")
    assert result.problems.empty
    assert result.codes.fillna("-").values.tolist() == [
        ["36", "-", "-", "-"], ["-"] * 4, ["-"] * 4, ["35", "-", "-", "-"],
    ]


def test_index_is_preserved():
    frame = pd.DataFrame(
        {"kab": ["Kab. Blitar", "Blitar", "Nowhere", "Kota Blitar"]},
        index=pd.Index(["w", "x", "y", "z"], name="respondent"),
    ).iloc[[3, 1, 0, 2]]
    result = harmonise_regions(frame, regency="kab")
    assert result.codes.index.equals(frame.index)
    assert result.codes["regency_code"].fillna("-").tolist() == ["35.72", "-", "35.05", "-"]
    assert result.problems["index"].tolist() == ["x", "y"]
    assert result.problems["rule"].tolist() == ["ambiguous_region", "unknown_region"]


def test_missing_column_and_no_column():
    frame = pd.DataFrame({"kab": ["Serang"]})
    with pytest.raises(KeyError):
        harmonise_regions(frame, regency="kabupaten")
    with pytest.raises(ValueError):
        harmonise_regions(frame)


def test_large_frame_with_few_combinations():
    base = pd.DataFrame(
        {
            "prov": ["Banten", "Jawa Tengah", "Papua", "Jatim", "Banten"],
            "kab": ["Kab. Serang", "Wonosobo", "Merauke", "Blitar", "Atlantis"],
            "kec": ["Tirtayasa", "Kaliwiro", None, None, None],
            "desa": ["Lontar", "Tracap", None, None, None],
        }
    )
    frame = base.sample(200_000, replace=True, random_state=7)
    frame.index = pd.RangeIndex(1_000_000, 1_200_000)
    result = harmonise_regions(frame, province="prov", regency="kab", district="kec", village="desa")
    assert result.codes.index.equals(frame.index)
    expected = dict(zip(base["kab"], ["36.04.13.2007", "33.07.04.2014", "-", "-", "-"]))
    assert result.codes["village_code"].fillna("-").tolist() == frame["kab"].map(expected).tolist()
    merauke = (frame["kab"] == "Merauke").to_numpy()
    assert (result.codes.loc[merauke, "regency_code"] == "93.01").all()
    bad = frame.index[frame["kab"].isin(["Blitar", "Atlantis"])]
    assert sorted(result.problems["index"]) == sorted(bad)
    assert result.codes.loc[bad].isna().all().all()
    assert len(result.notes) == merauke.sum()


def test_one_official_name_is_the_one_in_the_whole_list():
    from kkbm_analysis.regions import official_name, official_names

    names = official_names()
    assert all(official_name(code) == name for code, name in names.items())   # every level, villages included
    assert official_name("36") == "Banten" and official_name("11.01.01.2001") == "Keude Bakongan"
    assert official_name("99.99") is None and official_name("36.04.99.9999") is None


def test_spellings_of_one_region_resolve_as_each_row_alone():
    """Cells that mean the same region are resolved once, but every problem and note still quotes the
    cell as written in its own row (against harmonising each row on its own)."""
    frame = pd.DataFrame(
        {
            "prov": ["Papua", "PAPUA", "Provinsi Papua", "Jawa Timur", "JAWA TIMUR", "Jatim", None, "Banten"],
            "kab": ["Merauke", "MERAUKE", "Kab. Merauke", "Blitar", "BLITAR", "Kota Lebak", "Kab. Serang", "Atlantis"],
        },
        index=[f"r{i}" for i in range(8)],
    )
    whole = harmonise_regions(frame, province="prov", regency="kab")
    alone = [harmonise_regions(frame.iloc[[i]], province="prov", regency="kab") for i in range(len(frame))]
    pd.testing.assert_frame_equal(whole.codes, pd.concat([a.codes for a in alone]))
    for part in ("problems", "notes"):
        expected = pd.concat([getattr(a, part) for a in alone if len(getattr(a, part))], ignore_index=True)
        pd.testing.assert_frame_equal(getattr(whole, part).astype(object), expected.astype(object))
    assert len(whole.notes) == 3 and len(set(whole.notes["message"])) == 3  # each quotes its own spelling
    assert len(set(whole.problems["message"])) == len(whole.problems) == 4
