"""The mapping language: what it reads, and how it reports mistakes (all at once, with lines)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from kkbm_analysis.mapping import MappingError, load_mapping, parse_mapping
from kkbm_analysis.matching import detect_table, guess_columns, header_keys, match_columns

DOCS = Path(__file__).resolve().parents[1] / "docs" / "mapping.md"

FULL = """\
version: 1
exclude: ["arsip/*"]
include: ["expected_quarantine.csv"]
columns:
  "No. Induk Kependudukan": member_id
recode:
  sector: {"Ternak kambing etawa": livestock}
files:
  - file: "rekap_*.xlsx"
    sheet: "Desa *"
    table: members
    header_row: [4, 5]
    skip_rows: [5, "40-42"]
    columns: {"Tgl Gabung": joined_on, "Catatan": drop}
    drop: ["Keterangan"]
    constants: {community_id: K1, village: "{sheet}"}
    recode: {status: {"Purna TKI": pmi_purna}}
    totals: ["Sub Jumlah"]
  - pattern: "penempatan.csv"
    table: placements
    reshape: {columns: ["20??"], to: year, value: placements}
"""


def test_every_part_of_the_language_is_read():
    m = parse_mapping(FULL)
    rule = m.rule_for("desa/rekap_2019.xlsx", "Desa Lontar")
    assert rule.table == "members" and rule.header_row == (4, 5)
    assert rule.skip_rows == {5, 40, 41, 42}
    assert rule.columns == {"tgl gabung": "joined_on", "catatan": "drop"} and rule.drop == {"keterangan"}
    assert rule.constants == {"community_id": "K1", "village_code": "{sheet}"}
    assert rule.recode == {"status": {"purna tki": "pmi_purna"}} and rule.totals == ("Sub Jumlah",)
    assert m.rule_for("desa/rekap_2019.xlsx", "Catatan") is None          # the sheet glob must match
    reshape = m.rule_for("penempatan.csv", None).reshape
    assert (reshape.to, reshape.value) == ("year", "placements") and reshape.selects("2019")
    assert not reshape.selects("Provinsi")
    assert m.columns == {"no induk kependudukan": "member_id"}
    assert m.recode_for(rule) == {"sector": {"ternak kambing etawa": "livestock"}, "status": {"purna tki": "pmi_purna"}}
    assert m.excluded_by("arsip/lama.xlsx").startswith("exclude 'arsip/*' (kkbm-mapping.yaml line 2)")
    assert m.included("expected_quarantine.csv")


def test_every_mistake_is_reported_with_its_line():
    text = """\
version: 1
files:
  - file: "a.xlsx"
    colums: {}
    header_row: abc
    table: member
  - file: "b.csv"
    columns: {"X": joined_date}
    recode: {status: {"Mantan": purnaa}}
    skip_rows: ["9-2"]
    reshape: {columns: ["20??"], to: year}
"""
    with pytest.raises(MappingError) as err:
        parse_mapping(text)
    problems = err.value.problems
    joined = "\n".join(problems)
    assert "line 4: 'colums' is not a key" in joined and "did you mean 'columns'" in joined
    assert "line 5: header_row must be a row number" in joined
    assert "line 6: unknown table 'member'; did you mean 'members'" in joined
    assert "line 8:" in joined and "'joined_date' is not a field; did you mean 'joined_on'" in joined
    assert "line 9:" in joined and "'purnaa' is not a value of status" in joined
    assert "line 10:" in joined and "skip_rows" in joined
    assert "reshape needs value" in joined
    assert len(problems) == 7


def test_yaml_errors_duplicates_and_versions():
    with pytest.raises(MappingError, match=r"line \d: not valid YAML"):
        parse_mapping("files:\n  - file: [a\n")
    with pytest.raises(MappingError, match="'columns' is given twice"):
        parse_mapping("columns: {}\ncolumns: {}\n")
    with pytest.raises(MappingError, match="version 2"):
        parse_mapping("version: 2\n")
    with pytest.raises(MappingError, match="a field to one value"):
        parse_mapping("files:\n  - file: x\n    constants: [1]\n")
    assert parse_mapping("").files == () and parse_mapping("# only a comment\n").columns == {}


def test_loading_files(tmp_path: Path):
    assert load_mapping(tmp_path / "absent.yaml").files == ()
    with pytest.raises(MappingError, match="does not exist"):
        load_mapping(tmp_path / "absent.yaml", required=True)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes('columns:\n  "Tanggal Masuk Kerja \xe9": joined_on\n'.encode("latin-1"))
    with pytest.raises(MappingError, match="not UTF-8"):
        load_mapping(latin)
    bom = tmp_path / "bom.yaml"
    bom.write_bytes('\ufeffcolumns:\n  "Tgl": joined_on\n'.encode("utf-8"))
    assert load_mapping(bom).columns == {"tgl": "joined_on"}


def test_the_guides_examples_are_valid():
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 6
    for block in blocks:
        parse_mapping(block, "docs/mapping.md")


# --------------------------------------------------------------------------- matching
def test_headers_match_with_notes_numbers_and_field_names():
    assert header_keys("NIK (16 digit)") == ["nik 16 digit", "nik"]
    assert "no ktp" in header_keys("No KTP.2")
    got = match_columns(["NIK (16 digit)", "destination_country", "Date joined", "Kode KKBM", "No KTP"], "members")
    assert got == {"NIK (16 digit)": "member_id", "destination_country": "destination_country",
                   "Date joined": "joined_on", "Kode KKBM": "community_id"}
    assert match_columns(["Catatan", "Tgl Gabung"], "members", {"tgl gabung": "joined_on", "catatan": "drop"}) == {
        "Tgl Gabung": "joined_on"}


def test_table_detection_and_guesses():
    table, ranked = detect_table(["Kode KKBM", "Nama KKBM", "Provinsi", "Tanggal Pembentukan"], "Profil", "x.xlsx")
    assert table == "communities" and ranked[0][0] == "communities"
    guesses = {g.header: g for g in guess_columns(["Tgl. Gabung KKBM", "Nama Lengkap", "Warna Favorit"], "members")}
    assert guesses["Tgl. Gabung KKBM"].field == "joined_on" and 0.6 < guesses["Tgl. Gabung KKBM"].confidence < 1
    assert guesses["Nama Lengkap"].role == "identifier" and guesses["Warna Favorit"].role == "ignored"
