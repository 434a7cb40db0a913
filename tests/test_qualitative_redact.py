"""Text redaction: each rule on planted identifiers, and what must stay readable."""
from __future__ import annotations

import pytest

from kkbm_analysis.qualitative.redact import Redactor

R = Redactor(participants=["Siti Aminah", "Darsono"], provinces=["36", "35"])


@pytest.mark.parametrize("text, gone, kept, rule", [
    ("NIK saya 3604123456780001 ya.", ["3604123456780001"], ["NIK saya", "ya."], "nik"),
    ("NIK 36.04.12.345678.0001 tercatat", ["36.04.12.345678.0001"], ["tercatat"], "nik"),
    ("No HP 0812-3456-7890, kantor (021) 5551234", ["0812-3456-7890", "5551234"], ["No HP"], "phone"),
    ("WA +62 813 1111 2222 saja", ["813 1111 2222"], ["WA", "saja"], "phone"),
    ("Kirim ke siti.aminah@gmail.com besok", ["siti.aminah@gmail.com"], ["besok"], "email"),
    ("Paspor A1234567 hilang", ["A1234567"], ["hilang"], "passport"),
    ("Kata Pak Slamet Riyadi, modal susah.", ["Slamet", "Riyadi"], ["Kata Pak", "modal susah"], "honorific"),
    ("Mbak Darmiyati dan Bu Kades hadir", ["Darmiyati"], ["Bu Kades", "Mbak"], "honorific"),
    ("Pak Camat Hartono tidak datang", ["Hartono"], ["Pak Camat"], "honorific"),
    ("bersama Siti Aminah dan Darsono", ["Siti", "Aminah", "Darsono"], ["bersama"], "participant"),
    ("lalu Sutrisno Wibisono datang", ["Sutrisno", "Wibisono"], ["lalu", "datang"], "name_gazetteer"),
    ("dari Desa Lontar, Kecamatan Tirtayasa", ["Lontar", "Tirtayasa"], ["Desa", "Kecamatan"], "place_marker"),
    ("rumahnya RT 03/RW 05 dekat masjid", ["03", "05"], ["dekat masjid"], "place_marker"),
    ("tinggal di Lontar sejak kecil", ["Lontar"], ["tinggal di", "sejak kecil"], "place_gazetteer"),
])
def test_each_rule_removes_the_identifier_and_keeps_the_rest(text, gone, kept, rule):
    out, counts = R.redact(text)
    for g in gone:
        assert g not in out
    for k in kept:
        assert k in out
    assert counts[rule] >= 1


@pytest.mark.parametrize("text", [
    "Modal Rp 15.000.000 pada tahun 2018, 7.935 anggota di 49 desa.",
    "Pelatihan 6 hari tanggal 12-03-2019 di Kabupaten Serang, Jawa Timur dan Blitar.",
    "Baru kemarin pengurus KKBM bertemu Disnakertrans dan LP3TKI.",
    "Saya tidak tahu. Jaya sekali usahanya.",
])
def test_numbers_published_places_and_generic_words_stay(text):
    out, counts = R.redact(text)
    assert out == text and not counts


def test_place_gazetteer_is_limited_to_the_sources_province():
    only_papua = Redactor(provinces=["91"])
    assert only_papua.redact("tinggal di Lontar")[0] == "tinggal di Lontar"
    assert R.redact("tinggal di Lontar")[0] == "tinggal di [DESA]"


def test_blank_and_missing_text():
    assert R.redact(None) == (None, {})
    assert R.redact("")[0] == ""
