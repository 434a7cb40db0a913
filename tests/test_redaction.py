"""Identifier columns by header, identifier values by pattern, and what a message may quote."""
from __future__ import annotations

import pytest

from kkbm_analysis.redaction import Echo, looks_like_name, name_tokens, redact_text, redact_value, scrub_log
from kkbm_analysis.schema import identifier_kind


@pytest.mark.parametrize("header, kind", [
    ("NIK", "nik"), ("NIK (16 digit)", "nik"), ("No KTP.2", "nik"), ("No. KTP", "nik"), ("e-KTP", "nik"),
    ("Nomor Induk Kependudukan", "nik"), ("National ID", "nik"), ("Nama", "name"), ("Nama Lengkap", "name"),
    ("Nama 2", "name"), ("nama_pmi", "name"), ("Full Name", "name"), ("Mother's maiden name", "name"),
    ("Nama Ibu Kandung", "name"), ("No. HP/WA", "phone"), ("Telp.", "phone"), ("Phone number", "phone"),
    ("Kontak", "phone"), ("Nomor Paspor PMI", "passport"), ("Passport No", "passport"), ("E-mail", "email"),
    ("Alamat Domisili", "address"), ("RT/RW", "address"), ("Address", "address"), ("No. KK", "family_card"),
    ("Tempat Lahir", "birth_place"), ("TTL", "birth_place"), ("No. Rekening", "other_id"), ("NPWP", "other_id"),
    ("Tanda Tangan", "signature"), ("Foto", "photo"),
])
def test_identifier_headers(header, kind):
    assert identifier_kind(header) == kind


@pytest.mark.parametrize("header", ["Nama KKBM", "Nama Desa", "Nama Kelompok", "Community name", "Kode KKBM",
                                    "Status", "Jenis Kelamin", "Tanggal Lahir", "Keterangan", "Village",
                                    "Negara Tujuan", "Jumlah Penempatan", "Bank Penyalur"])
def test_headers_that_are_not_identifiers(header):
    assert identifier_kind(header) is None


@pytest.mark.parametrize("text", [
    "3604135203850001", "NIK 3604 1352 0385 0001", "3604135203850001.0", "3.604135203850001e+15",
    "081234567890", "0812-3456-7890", "+62 812 3456 7890", "(021) 555-12345", "paspor C1234567",
    "B 7654321", "siti.aminah@example.co.id", "rek. 1234567890123",
])
def test_identifier_values_are_removed(text):
    out = redact_text(text)
    digits = "".join(ch for ch in text if ch.isdigit())
    assert "removed" in out and "@" not in out
    if digits:
        assert digits[:9] not in "".join(ch for ch in out if ch.isdigit())


@pytest.mark.parametrize("text", ["Rp 1.250.000.000", "-250.000", "26/07/2019", "2019-07-26 10:30:00",
                                  "KKBM-36-01-U0012", "Jumlah 1.250", "36.04.13.2007", "12,5%", "2019"])
def test_ordinary_values_are_kept(text):
    assert redact_text(text) == text


def test_redact_value_keeps_numbers_and_redacts_id_numbers():
    assert redact_value(1850) == 1850 and redact_value(12.5) == 12.5 and redact_value(None) is None
    assert redact_value(3604135203850001) == "[number removed]"
    assert redact_value(3.604135203850001e15) == "[number removed]"


def test_names_are_hidden_and_field_values_shown():
    echo = Echo(name_tokens(["Siti Aminah Zulkarnaen", "Budi Santoso"]))
    assert echo.quote("Siti Aminah Zulkarnaen") == Echo.HIDDEN
    assert echo.quote("budi") == Echo.HIDDEN                       # a word of the sheet's name column
    assert echo.quote("Dewi Lestari Anggraeni") == Echo.HIDDEN     # looks like a name
    assert echo.quote("purnaa") == "'purnaa'"                      # a typo of a category is shown
    assert echo.quote("Dagangann") == "'Dagangann'"
    assert echo.quote("Warung Sembako") == "'Warung Sembako'"
    assert echo.quote("Jawa Timur") == "'Jawa Timur'"
    assert echo.quote("Siti", strict=True) == Echo.HIDDEN           # a name in a date or number column
    assert echo.quote("Sukamakmur Jaya", lenient=True) == "'Sukamakmur Jaya'"  # a place name
    assert echo.quote("Jl. Melati No. 5", lenient=True) == Echo.HIDDEN  # an address never
    assert echo.quote(None) == "(empty)"
    assert echo.header("Siti Aminah Zulkarnaen", confirmed=False) == "[header not shown]"
    assert echo.header("Tanggal Bergabung", confirmed=True) == "Tanggal Bergabung"
    assert looks_like_name("Rahmat Hidayat") and not looks_like_name("Ternak kambing")


def test_logs_are_scrubbed():
    text = "RuntimeError: bad value 'Siti Aminah' in row with 3604135203850001 and \"0812-3456-7890\""
    out = scrub_log(text)
    assert "Siti" not in out and "3604135203850001" not in out and "0812" not in out
    assert out.startswith("RuntimeError: bad value")


def test_near_known_agrees_with_difflib_on_typos_and_strangers():
    """The length and letter bounds only skip words difflib's own test would refuse."""
    import difflib
    import random

    from kkbm_analysis.redaction import _near_known, field_words

    rng = random.Random(7)
    known = sorted(field_words())
    words = []
    for w in rng.sample(known, 300):
        letters = list(w)
        letters[rng.randrange(len(letters))] = rng.choice("abcdefghijklmnopqrstuvwxyzé")
        words += ["".join(letters), w + rng.choice("aeiu"), w[1:] or w]
    words += ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 12)))
              for _ in range(300)]
    expected = [bool(difflib.get_close_matches(w, field_words(), n=1, cutoff=0.8)) for w in words]
    assert [_near_known(w) for w in words] == expected
    assert any(expected) and not all(expected)


def test_quarantine_values_are_the_json_of_each_rows_redacted_cells():
    """Built a column at a time from each distinct cell, the ``values`` text is exactly ``json.dumps`` of the
    row's record (key order, quotes, newlines and non-ASCII as written, repeated and look-alike values apart)."""
    import json
    from types import SimpleNamespace

    import numpy as np
    import pandas as pd

    from kkbm_analysis.results import _jsonable, _values_by_uid, _year_only

    cells = ['He said "ya"\\n', "Désa\nñ 漢字 😀", "Siti Aminah", "NIK 3604135203850001", 1, 1.0, True, None,
             float("nan"), float("inf"), "12/03/1985", 1985.0, "tiga", "tiga"]
    n = len(cells)
    frame = pd.DataFrame({"Status": cells, "Jumlah": cells[::-1], "Tahun Lahir": cells[3:] + cells[:3],
                          "Budi Santoso": cells, "Rina Wati": ["x"] * n, "Ket": ["extra"] * n},
                         index=np.arange(10, 10 + n))
    part = SimpleNamespace(table="members", identifiers={}, raw=SimpleNamespace(frame=frame, header_confirmed=False),
                           mapped={"Status": "status", "Jumlah": "workers", "Tahun Lahir": "birth_year",
                                   "Budi Santoso": "notes", "Rina Wati": "notes", "Ket": "status"})
    about = ["status", "workers", "birth_year", "notes", "status", "status", "status", "", "status,workers",
             "birth_year,notes", "birth_year", "birth_year", "status", "status"]
    q = pd.DataFrame({"uid": np.arange(n), "part": 0, "row": frame.index, "table": "members", "field": about,
                      "message": "m"})
    echo = Echo(["aminah"])
    got = _values_by_uid(q, SimpleNamespace(parts=[part]), {0: echo})
    for i, row in enumerate(frame.index):
        wanted = set(filter(None, about[i].split(",")))
        record = {}
        for header, field in part.mapped.items():
            if field in wanted:
                value = frame.at[row, header]
                value = _year_only(value) if field == "birth_year" else value
                record[echo.header(header, confirmed=False)] = _jsonable(echo.cell(value))
        assert got[i] == json.dumps(record, ensure_ascii=False)
    assert "3604135203850001" not in "".join(got.values()) and "Siti" not in "".join(got.values())
    assert any('"[header not shown]": "x"' in v for v in got.values())  # two hidden headers: one key, the last cell


def test_redaction_shortcuts_change_nothing():
    """The checks that skip a pattern a text cannot match (no digit, no '@', no '.' with an 'e') give what
    running every pattern gives."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from kkbm_analysis import redaction as r

    def every_pattern(text: str) -> str:
        text = r._EMAIL.sub(r.EMAIL_MARK, text)
        text = r._SCI_ID.sub(r.NUMBER_MARK, text)
        text = r._PASSPORT.sub(r.PASSPORT_MARK, text)
        return r._DIGIT_RUN.sub(r._number_mark, text)

    pieces = ["3.604135203850001e+15", "3.604135203850001E+15", "9.87654321E9", "siti@example.co.id", "@", ".",
              "e", "E", "+", " ", "-", "x", "B 7654321", "0812-3456-7890", "1.250.000", "2019-07-26", "²", "٣"]

    @settings(max_examples=400, deadline=None)
    @given(st.one_of(st.text(alphabet="0123456789@.eE+-, ()aSx²٣", max_size=40),
                     st.lists(st.sampled_from(pieces), max_size=6).map("".join)))
    def check(text):
        assert redact_text(text) == every_pattern(text)

    check()
    assert redact_text("3.604135203850001e+15") == r.NUMBER_MARK and redact_text("a@b.co") == r.EMAIL_MARK
