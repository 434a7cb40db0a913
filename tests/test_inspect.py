"""`kkbm inspect` on workbooks it has never seen: guesses, redaction, and a draft the ingest accepts."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from field_corpus import BIRTH_DATES, NAMES, NIKS, PHONES, PLANTED, communities_table, leaks, write_csv
from kkbm_analysis.ingest import ingest
from kkbm_analysis.inspect import inspect_folder
from kkbm_analysis.mapping import parse_mapping
from kkbm_analysis.privacy import PseudonymKey

KEY = PseudonymKey(b"inspect-test")
STATUS = ["Purna TKI", "calon", "PMI aktif", "keluarga"]


def unseen_workbook(raw: Path, *, with_community_column: bool) -> None:
    """A CO's register with headers the schema does not list, a title block, a merged header, notes."""
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "Petunjuk"
    notes["A1"] = "Isi satu baris per anggota."
    ws = wb.create_sheet("Desa Lontar")
    ws["A1"] = "REGISTER ANGGOTA KOMUNITAS"
    ws.merge_cells("A1:I1")
    ws["A2"] = "Kec. Tirtayasa, Kab. Serang"
    header = ["No.", "NIK (16 digit)", "Nama Lengkap", "No. HP/WA", "Kode Komunitas KKBM", "Status Anggota",
              "Jenis Kel.", "Thn. Lahir", "Tgl. Gabung KKBM"]
    if not with_community_column:
        header.remove("Kode Komunitas KKBM")
    for c, h in enumerate(header, 1):
        ws.cell(row=4, column=c, value=h)
    for i in range(4):
        row = [i + 1, NIKS[i], NAMES[i], PHONES[i], "K1", STATUS[i], "LP"[i % 2], int(BIRTH_DATES[i][-4:]),
               dt.datetime(2017, 4 + i, 3)]
        if not with_community_column:
            row.pop(4)
        for c, v in enumerate(row, 1):
            ws.cell(row=5 + i, column=c, value=v)
    wb.save(raw / "register anggota.xlsx")
    communities = communities_table()
    write_csv(raw / "komunitas.csv", communities if with_community_column else communities[:2])  # one community


@pytest.mark.parametrize("with_community_column", [True, False])
def test_inspect_then_ingest_with_the_draft_accepts_every_valid_member(tmp_path, with_community_column):
    raw = tmp_path / "raw"
    raw.mkdir()
    unseen_workbook(raw, with_community_column=with_community_column)
    report = inspect_folder(raw)
    sheet = next(s for s in report.sheets if s.sheet == "Desa Lontar")
    assert sheet.table == "members" and sheet.header_row == 4
    roles = {g.header: g for g in sheet.columns}
    assert roles["NIK (16 digit)"].field == "member_id" and roles["Nama Lengkap"].role == "identifier"
    assert roles["No. HP/WA"].identifier == "phone"
    assert roles["Tgl. Gabung KKBM"].field == "joined_on" and roles["Tgl. Gabung KKBM"].confidence < 1
    assert roles["No."].role == "ignored"
    if not with_community_column:
        assert sheet.constants["community_id"] == "K1"     # the folder's only community
    draft = report.draft_mapping()
    parse_mapping(draft)
    assert "CHECK" in draft and not leaks({"draft": draft, "text": report.text()})
    path = tmp_path / "draft.yaml"
    path.write_text(draft, encoding="utf-8")
    result = ingest(raw, None, mapping=path, key=KEY)
    assert len(result.tables["members"]) == 4, result.quarantine[["rule", "message"]].to_string()
    assert result.quarantine.empty
    assert set(result.tables["members"]["village_code"]) == {"36.04.13.2007"}   # "Desa Lontar" from the sheet


def test_inspect_reports_files_it_will_not_read(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "catatan.json").write_text("{}")
    (raw / "rusak.xlsx").write_bytes(b"PK\x03\x04 nope")
    write_csv(raw / "penempatan.csv", [["Provinsi", "2019", "2020"], ["Banten", 10, 12], ["Jumlah", 10, 12]])
    report = inspect_folder(raw)
    text = report.text()
    assert "catatan.json: unsupported" in text and "rusak.xlsx: unreadable" in text
    assert not report.ok
    wide = next(s for s in report.sheets if s.file == "penempatan.csv")
    assert wide.table == "placements" and wide.wide == ["2019", "2020"] and wide.reshape_value == "placements"
    draft = report.draft_mapping()
    assert 'reshape: {columns: ["2019", "2020"], to: year, value: placements}' in draft
    assert "catatan.json: unsupported" in draft
    parse_mapping(draft)
    assert not leaks({"t": text}, PLANTED)
