"""Rows set aside with a reason (totals, footers, repeated headers, mapping), constants, recodes, reshape."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kkbm_analysis.mapping import parse_mapping
from kkbm_analysis.readers import read_file
from kkbm_analysis.shaping import shape_sheet


def shaped(tmp_path: Path, text: str, table: str, mapping: str = "", name: str = "t.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    raw = read_file(path).sheets[0]
    rules = parse_mapping(mapping)
    return shape_sheet(raw, name, table, rules.rule_for(name, raw.sheet), rules, 0)


def test_totals_row_is_skipped_and_checked(tmp_path):
    s = shaped(tmp_path, "Tahun,Provinsi,Jumlah Penempatan\n2019,Banten,10\n2019,Jawa Timur,20\nJumlah,,31\n",
               "placements")
    assert s.skipped == {4: "a totals row ('Jumlah')"}
    assert list(s.rows) == [2, 3] and len(s.frame) == 2
    (note,) = s.notes
    assert note["rule"] == "sum_check" and note["row"] == 4 and note["column"] == "Jumlah Penempatan"
    assert "states 31" in note["message"] and "add up to 30" in note["message"]


@pytest.mark.parametrize("label", ["TOTAL", "Total (reported)", "INDONESIA", "Grand Total", "Jumlah Kab. Serang",
                                   "JUMLAH SELURUHNYA"])
def test_totals_words(tmp_path, label):
    text = f"Provinsi,Negara,Tahun,Jumlah Penempatan\nBanten,Malaysia,2019,10\nBanten,{label},2019,10\n"
    s = shaped(tmp_path, text, "placements")
    assert 3 in s.skipped and not s.notes  # the total matches the row above


def test_subtotals_and_grand_total_add_up(tmp_path):
    text = ("Provinsi,Tahun,Jumlah Penempatan\nBanten,2019,10\nBanten,2020,5\nSub Total,,15\nJawa Timur,2019,7\n"
            "Sub Total,,7\nTotal,,22\n")
    s = shaped(tmp_path, text, "placements")
    assert sorted(s.skipped) == [4, 6, 7] and not s.notes


def test_a_word_inside_a_text_cell_is_not_a_total(tmp_path):
    text = ("Kode Konsultasi,Kode KKBM,Tanggal,Jenis Mitra,Topik\n"
            "C1,K1,01/05/2018,Bank,Jumlah modal yang dibutuhkan untuk warung\n")
    s = shaped(tmp_path, text, "consultations")
    assert not s.skipped and list(s.rows) == [2]


def test_footers_repeated_headers_and_mapping_rows(tmp_path):
    text = ("Kode KKBM,Nama KKBM,Program,Provinsi,Tanggal Pembentukan\n"
            "K1,KKBM Lontar,KKBM,Banten,12/03/2017\n"
            "contoh,isian,KKBM,Banten,01/01/2017\n"
            "Kode KKBM,Nama KKBM,Program,Provinsi,Tanggal Pembentukan\n"
            "K2,KBMI Tracap,KBMI,Jawa Tengah,26/07/2017\n"
            "Sumber: Dinas,,,,\n"
            ",,,Mengetahui,\n")
    mapping = 'files:\n  - file: t.csv\n    skip_rows: [3]\n'
    s = shaped(tmp_path, text, "communities", mapping)
    assert s.skipped == {3: "left out by the mapping (skip_rows)", 4: "the header repeated (a new page)",
                         6: "a footer or note under the table", 7: "a footer or note under the table"}
    assert list(s.rows) == [2, 5]


def test_a_sparse_data_row_with_its_key_is_not_a_footer(tmp_path):
    text = "Kode KKBM,Nama KKBM,Program,Provinsi,Tanggal Pembentukan\nK1,KKBM Lontar,KKBM,Banten,12/03/2017\nK2,,,,\n"
    s = shaped(tmp_path, text, "communities")
    assert list(s.rows) == [2, 3] and not s.skipped


def test_constants_recodes_and_reshape(tmp_path):
    text = "Negara,2019,2020\nMalaysia,10,\nTaiwan,5,7\nArab,,\n"
    mapping = ('files:\n  - file: "*.csv"\n    table: placements\n    constants: {province: "{file}"}\n'
               '    recode: {destination_country: {"Arab": "Arab Saudi"}}\n'
               '    reshape: {columns: ["20??"], to: year, value: placements}\n')
    s = shaped(tmp_path, text, "placements", mapping, name="Banten.csv")
    assert s.constants == {"province_code": "Banten"}
    assert s.frame[["destination_country", "year", "placements", "_col"]].values.tolist() == [
        ["Malaysia", "2019", "10", "2019"], ["Taiwan", "2019", "5", "2019"], ["Taiwan", "2020", "7", "2020"]]
    assert set(s.frame["province_code"]) == {"Banten"}
    assert s.skipped == {4: "no value in any of the reshaped columns"}   # 'Arab' had no counts
    assert list(s.uids) == [0, 1] and np.array_equal(s.rows, [2, 3])      # ids stay per raw row


def test_recode_matches_normalised_text(tmp_path):
    text = "NIK,Kode KKBM,Status,JK,Tanggal Bergabung\n3604135203850001,K1,  MANTAN tkw ,P,01/04/2017\n"
    s = shaped(tmp_path, text, "members", 'recode:\n  status: {"Mantan TKW": pmi_purna}\n')
    assert list(s.frame["status"]) == ["pmi_purna"]


def test_totals_prefilter_in_arrow_matches_the_python_pattern():
    """The RE2 pattern that finds totals words in all-ASCII Arrow text gives the Python pattern's matches."""
    import random

    import pyarrow as pa
    import pyarrow.compute as pc

    from kkbm_analysis.shaping import _TOTAL_START, _TOTAL_START_ASCII

    words = ["jumlah", "JUMLAH", "Total", "grand", "sub", "-", "total", "jml", "rekap", "indonesia", "all", "ALL",
             "semua", " ", "\t", "\x0b", "\x1c", "_", "x", "9", ".", "(", "\n"]
    rng = random.Random(0)
    values = ["".join(rng.choice(words) for _ in range(rng.randint(0, 4))) for _ in range(20_000)]
    values += ["".join(chr(rng.randint(0, 127)) for _ in range(rng.randint(0, 6))) for _ in range(20_000)]
    expected = [bool(_TOTAL_START.match(v)) for v in values]
    assert any(expected) and not all(expected)
    assert pc.match_substring_regex(pa.array(values), _TOTAL_START_ASCII).to_pylist() == expected
    # as the shaping runs it: once per distinct value of a column of Arrow text in two chunks, with blanks
    import pandas as pd

    from kkbm_analysis.patterns import ascii_matches
    from kkbm_analysis.textrows import ARROW_STRINGS
    cells = [*values, None, *values[:5000]]
    column = pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array([cells[:30_000], cells[30_000:]]))).astype(
        ARROW_STRINGS)
    assert column.array._pa_array.num_chunks == 2
    assert ascii_matches(column, _TOTAL_START_ASCII).tolist() == [c is not None and bool(_TOTAL_START.match(c))
                                                                  for c in cells]


def test_totals_rows_first_bytes_filter_changes_nothing(monkeypatch):
    """The filter on a cell's first two bytes only skips cells no totals word can start: the rows found are
    the same as with every filled cell looked at (Arrow text, with non-ASCII, one-letter, blank, padded and
    sliced cells, and cells sharing a totals word's first letter or two: months, codes)."""
    import pandas as pd

    from kkbm_analysis import shaping
    from kkbm_analysis.patterns import first_bytes

    assert all(shaping._TOTAL_FIRST_TWO[ord(a), ord(b)] for w in shaping._TOTAL_STARTS
               for a, b in [(w[0], w[1]), (w[0].upper(), w[1].upper()), (w[0].upper(), w[1])])
    pairs = np.arange(65536, dtype="<u2").view(np.uint8).reshape(-1, 2)  # every two bytes, as the 16-bit number
    assert (shaping._TOTAL_PAIRS[np.arange(65536)] == shaping._TOTAL_FIRST_TWO[pairs[:, 0], pairs[:, 1]]).all()
    rng = np.random.default_rng(3)
    pool = ["JUMLAH", " total", "Grand Total", "\u00a0Jumlah", "Sub-Total", "Kab. Blitar", "Siti", "all", "Alla",
            "rekap 2020", "9 total", "-", "", None, "Indonesia", "ſemua", "Desa Jaya", "Ketua", "Wonosobo",
            "Jun-17", "Jul-18", "Sep-17", "KKBM-11-001", "j", "J", "Ju", "jUMLAH", "tOTAL", "\tjml", "Ｊumlah",
            "Jſ", "all-in", "Nasional", "SEMUA DESA", "Kepala Desa"]
    frame = pd.DataFrame({c: pd.Series(rng.choice(np.array(pool, dtype=object), 400), dtype="string[pyarrow]")
                          for c in ("a", "b", "c")}).iloc[7:]  # sliced: Arrow offsets start past 0
    frame["c"] = frame["c"].astype(object)  # text held as objects: converted to Arrow text for the filters
    frame["d"] = pd.Series(["Jumlah", "\ud800 total", "3", None] * 100, dtype=object).iloc[7:]  # no Arrow: Python
    assert [chr(b) if b else None for b in first_bytes(frame["a"])] == [
        v.encode()[:1].decode("latin-1") if isinstance(v, str) and v else None for v in frame["a"].astype(object)]
    assert [bytes(b).rstrip(b"\0") for b in first_bytes(frame["a"], 2)] == [
        v.encode()[:2] if isinstance(v, str) else b"" for v in frame["a"].astype(object)]
    found = shaping._totals_rows(frame, {}, None)
    assert shaping._totals_rows(frame[["d"]], {}, None).tolist() == [i % 4 == 0 for i in range(7, 400)]
    monkeypatch.setattr(shaping, "first_bytes", lambda column, count=1: None)
    assert found.any() and (found == shaping._totals_rows(frame, {}, None)).all()
