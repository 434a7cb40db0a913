"""Tests for kkbm_analysis.readers: raw files in, raw cells with provenance out."""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kkbm_analysis.readers import (
    SUPPORTED_SUFFIXES,
    RawFileError,
    RawSheet,
    detect_header_row,
    read_raw,
    sniff_delimiter,
    sniff_encoding,
)

ROWS = [["No", "Nama", "NIK", "Desa"],
        ["1", "Siti Aminah", "0012", "Sukamaju"],
        ["2", "Budi", "0345", "Kepanjen"]]


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` byte-exact (no newline translation)."""
    path.write_bytes(text.encode(encoding))
    return path


def join(rows: list[list[str]], sep: str) -> str:
    return "".join(sep.join(r) + "\n" for r in rows)


def only(path: Path, **kwargs) -> RawSheet:
    sheets = read_raw(path, **kwargs)
    assert len(sheets) == 1
    return sheets[0]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- #
# Delimiters and encodings
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_each_delimiter(tmp_path, sep):
    path = write_text(tmp_path / "data.csv", join(ROWS, sep))
    sheet = only(path)
    assert sheet.delimiter == sep
    assert list(sheet.frame.columns) == ROWS[0]
    assert sheet.frame.loc[2, "Nama"] == "Siti Aminah"
    assert sheet.frame.loc[3, "Desa"] == "Kepanjen"
    assert sheet.sheet is None and sheet.header_row == 1 and sheet.title is None


def test_semicolon_with_decimal_commas_and_quotes(tmp_path):
    text = 'No;Nama;Nilai;Catatan\n1;Siti;7,5;"ya; lanjut"\n2;Budi;8,25;"tidak"\n'
    sheet = only(write_text(tmp_path / "nilai.csv", text))
    assert sheet.delimiter == ";"
    assert sheet.frame["Nilai"].tolist() == ["7,5", "8,25"]
    assert sheet.frame["Catatan"].tolist() == ["ya; lanjut", "tidak"]


@pytest.mark.parametrize("encoding, reported", [
    ("utf-8-sig", "utf-8-sig"),
    ("utf-8", "utf-8"),
    ("cp1252", "cp1252"),
    ("utf-16", "utf-16"),
])
def test_encodings(tmp_path, encoding, reported):
    text = "No;Nama;Désa;Iuran\n1;André;Désa Sukamaju;Rp 1.500.000\n2;Siti;Kepanjen;Rp 20.000\n"
    sheet = only(write_text(tmp_path / "enc.csv", text, encoding))
    assert sheet.encoding == reported
    assert list(sheet.frame.columns) == ["No", "Nama", "Désa", "Iuran"]  # no BOM in name
    assert sheet.frame.loc[2, "Nama"] == "André"
    assert sheet.frame.loc[2, "Désa"] == "Désa Sukamaju"
    assert sheet.frame.loc[2, "Iuran"] == "Rp 1.500.000"
    assert sheet.frame.index.tolist() == [2, 3]


def test_cp1252_character_only_far_into_file(tmp_path):
    # The encoding sample is clean UTF-8/ASCII; the first cp1252 byte comes late.
    body = "".join(f"{i};Nama {i};Desa\n" for i in range(120_000))
    text = "No;Nama;Desa\n" + body + "120000;Désa;Rp\n"
    sheet = only(write_text(tmp_path / "late.csv", text, "cp1252"))
    assert sheet.encoding == "cp1252"
    assert sheet.frame.iloc[-1].tolist() == ["120000", "Désa", "Rp"]
    assert sheet.frame.index[-1] == 120_002


def test_sniff_encoding():
    assert sniff_encoding("Désa".encode("utf-8")) == "utf-8"
    assert sniff_encoding(b"\xef\xbb\xbfNama") == "utf-8-sig"
    assert sniff_encoding("Nama;Désa".encode("utf-16")) == "utf-16"
    assert sniff_encoding("Nama;Désa;Rp 5.000\n".encode("cp1252")) == "cp1252"
    big5 = "No;Nama;Majikan;Kota\n1;Siti;陳大文;台北市\n2;Ani;林美玲;高雄市\n"
    assert sniff_encoding(big5.encode("big5")) == "big5"
    assert sniff_encoding(b"Nama;Kota\nSiti;\x81\x90\n") != "cp1252"  # cp1252 cannot decode
    # A multi-byte character cut at the end of a sample is still UTF-8.
    assert sniff_encoding("Désa".encode("utf-8")[:2]) == "utf-8"


def test_sniff_delimiter():
    assert sniff_delimiter("a;b;c\n1;2,5;3\n4;5,5;6\n") == ";"
    assert sniff_delimiter("a\tb\tc\n1\t2\t3\n") == "\t"
    assert sniff_delimiter("a|b|c\n1|2|3\n") == "|"
    assert sniff_delimiter("REKAP DATA, DESA X\n\na;b;c\n1;2;3\n4;5;6\n") == ";"
    assert sniff_delimiter("only one column\nvalue\n") == ","


# --------------------------------------------------------------------------- #
# Raw values
# --------------------------------------------------------------------------- #
def test_values_stay_raw_strings(tmp_path):
    text = "NIK,Kode,Jumlah,Tanggal,Flag\n0012,007,1.500,05/01/2024,TRUE\n,NA,,,null\n"
    frame = only(write_text(tmp_path / "raw.csv", text)).frame
    assert frame.loc[2].tolist() == ["0012", "007", "1.500", "05/01/2024", "TRUE"]
    assert frame.loc[3].tolist() == [None, "NA", None, None, "null"]
    assert all(type(v) is str for v in frame.loc[2])


def test_header_whitespace_and_collisions(tmp_path):
    text = "  Nama \n Anggota ,Nama,Nama,Nama.2,, Usia   (tahun)\nA,B,C,D,E,F\n"
    text = text.replace("  Nama \n Anggota ", '"  Nama \n Anggota "')
    sheet = only(write_text(tmp_path / "dup.csv", text))
    assert list(sheet.frame.columns) == ["Nama Anggota", "Nama", "Nama.3", "Nama.2",
                                         "unnamed_5", "Usia (tahun)"]
    assert sheet.frame.loc[3].tolist() == ["A", "B", "C", "D", "E", "F"]  # header spans 2 lines


# --------------------------------------------------------------------------- #
# Title rows, row numbers, blank rows
# --------------------------------------------------------------------------- #
def test_csv_title_rows_and_line_numbers(tmp_path):
    text = ("REKAP DATA ANGGOTA KKBM DESA SUKAMAJU (SYNTHETIC);;;\n"
            "Periode: Januari 2024\n"
            "\n"
            "No;Nama;NIK;Catatan\n"          # line 4
            '1;Siti;0012;"baris satu\nbaris dua"\n'  # lines 5-6
            "\n"                             # line 7 blank
            ";;;\n"                          # line 8 blank (delimiters only)
            "2;Budi;0345;ok\n"               # line 9
            "3;Ani;0678;\n")                 # line 10
    sheet = only(write_text(tmp_path / "title.csv", text))
    assert sheet.header_row == 4
    assert sheet.title == "REKAP DATA ANGGOTA KKBM DESA SUKAMAJU (SYNTHETIC) | Periode: Januari 2024"
    assert list(sheet.frame.columns) == ["No", "Nama", "NIK", "Catatan"]
    assert sheet.frame.index.name == "row"
    assert sheet.frame.index.tolist() == [5, 9, 10]
    assert sheet.frame.loc[5, "Catatan"] == "baris satu\nbaris dua"
    assert sheet.frame.loc[10, "Catatan"] is None
    assert sheet.blank_rows == 2


def test_csv_rows_wider_than_header_keep_extra_cells(tmp_path):
    text = "a,b,c\n1,2,3\n3,4,5,6,7\n7,8\n"
    frame = only(write_text(tmp_path / "ragged.csv", text)).frame
    assert list(frame.columns) == ["a", "b", "c", "unnamed_4", "unnamed_5"]
    assert frame.loc[3].tolist() == ["3", "4", "5", "6", "7"]
    assert frame.loc[4].tolist() == ["7", "8", None, None, None]


def test_csv_trailing_empty_columns_dropped(tmp_path):
    # Excel's "Save as CSV" pads every line with delimiters.
    text = "REKAP;;;;\nNo;Nama;;;\n1;Siti;;;\n;;;;\n2;;;;\n"
    sheet = only(write_text(tmp_path / "pad.csv", text))
    assert list(sheet.frame.columns) == ["No", "Nama"]
    assert sheet.frame.index.tolist() == [3, 5]
    assert sheet.blank_rows == 1 and sheet.title == "REKAP"


def test_unclosed_quote_is_a_plain_error(tmp_path):
    path = write_text(tmp_path / "kutip.csv", 'No,Nama\n1,"Siti\n2,Budi\n')
    with pytest.raises(RawFileError, match=r"kutip\.csv.*never closed"):
        read_raw(path)


def test_csv_header_row_override(tmp_path):
    text = "x,y\nNo,Nama\n1,Siti\n"
    sheet = only(write_text(tmp_path / "o.csv", text), header_row=2)
    assert sheet.header_row == 2 and sheet.title == "x | y"
    assert list(sheet.frame.columns) == ["No", "Nama"]
    assert sheet.frame.index.tolist() == [3]


def make_workbook(path: Path) -> Path:
    """Workbook with a merged title, blank rows, dates and a second sheet."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Anggota"
    ws["A1"] = "REKAP DATA ANGGOTA KKBM KABUPATEN MALANG (SYNTHETIC)"
    ws.merge_cells("A1:E1")
    ws["A2"] = "Tahun 2024"
    for col, name in enumerate(["No", "Nama", "NIK", "Tanggal Gabung", "Iuran"], 1):
        ws.cell(row=4, column=col, value=name)
    ws.append([])  # row 5 stays empty
    for row, values in {6: [1, "Siti", "0012", dt.datetime(2024, 1, 5), 15000.5],
                        7: [2, "Budi", "0345", dt.datetime(2024, 2, 1), 20000],
                        10: [3, "Ani", "0678", "belum", None]}.items():
        for col, value in enumerate(values, 1):
            ws.cell(row=row, column=col, value=value)
    kegiatan = wb.create_sheet("Kegiatan")
    kegiatan.append(["Kegiatan", "Peserta"])
    kegiatan.append(["Sosialisasi", 25])
    wb.create_sheet("Kosong")
    wb.save(path)
    return path


def test_excel_title_rows_numbers_blanks_dates(tmp_path):
    path = make_workbook(tmp_path / "rekap.xlsx")
    sheets = read_raw(path)
    assert [s.sheet for s in sheets] == ["Anggota", "Kegiatan"]  # empty sheet skipped
    s = sheets[0]
    assert s.header_row == 4
    assert s.title == "REKAP DATA ANGGOTA KKBM KABUPATEN MALANG (SYNTHETIC) | Tahun 2024"
    assert list(s.frame.columns) == ["No", "Nama", "NIK", "Tanggal Gabung", "Iuran"]
    assert s.frame.index.tolist() == [6, 7, 10]  # rows Excel shows
    assert s.blank_rows == 3  # rows 5, 8, 9
    assert s.frame.loc[6, "Nama"] == "Siti" and s.frame.loc[10, "Nama"] == "Ani"
    assert s.frame.loc[6, "NIK"] == "0012"  # text cell keeps its zeros
    assert isinstance(s.frame.loc[6, "Tanggal Gabung"], dt.datetime)
    assert s.frame.loc[7, "Tanggal Gabung"] == dt.datetime(2024, 2, 1)
    assert s.frame.loc[10, "Tanggal Gabung"] == "belum"
    assert s.frame.loc[6, "Iuran"] == 15000.5
    assert s.frame.loc[10, "Iuran"] is None
    assert s.encoding is None and s.delimiter is None and s.kobo is False


def test_excel_header_cells_that_are_not_text(tmp_path):
    path = tmp_path / "tahun.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Desa", "Kecamatan", 2023, 2024.0, dt.datetime(2024, 12, 31), "Desa"])
    ws.append(["Sukamaju", "Dau", 10, 12, 3, "x"])
    wb.save(path)
    frame = only(path).frame
    assert list(frame.columns) == ["Desa", "Kecamatan", "2023", "2024", "2024-12-31",
                                   "Desa.2"]
    assert frame.loc[2].tolist() == ["Sukamaju", "Dau", 10, 12, 3, "x"]


def test_excel_sheet_selection_and_missing_sheet(tmp_path):
    path = make_workbook(tmp_path / "rekap.xlsx")
    picked = read_raw(path, sheets=["Kegiatan"])
    assert [s.sheet for s in picked] == ["Kegiatan"]
    assert picked[0].frame.loc[2].tolist() == ["Sosialisasi", 25]
    with pytest.raises(RawFileError) as err:
        read_raw(path, sheets=["Kegiatan", "Peserta"])
    message = str(err.value)
    assert "rekap.xlsx" in message and "'Peserta'" in message
    assert all(name in message for name in ("'Anggota'", "'Kegiatan'", "'Kosong'"))


def test_excel_header_row_override(tmp_path):
    path = make_workbook(tmp_path / "rekap.xlsx")
    s = read_raw(path, sheets=["Anggota"], header_row=6)[0]
    assert s.header_row == 6
    assert list(s.frame.columns)[:2] == ["1", "Siti"]
    assert s.frame.index.tolist() == [7, 10]


def test_excel_notes_sheet_is_skipped_with_warning(tmp_path):
    path = tmp_path / "notes.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Catatan"
    wb.active["A1"] = "Data ini sintetis."
    data = wb.create_sheet("Data")
    data.append(["Nama", "Desa"])
    data.append(["Siti", "Sukamaju"])
    wb.save(path)
    with pytest.warns(UserWarning, match="Catatan"):
        sheets = read_raw(path)
    assert [s.sheet for s in sheets] == ["Data"]
    with pytest.raises(RawFileError, match="Catatan"):
        read_raw(path, sheets=["Catatan"])


# --------------------------------------------------------------------------- #
# KoboToolbox / ODK
# --------------------------------------------------------------------------- #
KOBO_HEADER = ["start", "end", "grp_identitas/nama_desa", "grp_identitas/nama",
               "grp_layanan/layanan", "grp_layanan/layanan/informasi",
               "grp_layanan/layanan/advokasi", "grp_layanan/layanan/pelatihan",
               "grp_keluarga/nama", "meta/instanceID", "_id", "_uuid",
               "_submission_time", "_validation_status", "_notes", "_status",
               "_submitted_by", "__version__", "_tags", "_index"]
KOBO_ROWS = [
    ["2024-03-01T09:00:00.000+07:00", "2024-03-01T09:10:00.000+07:00", "Sukamaju",
     "Siti", "informasi advokasi", "1", "1", "0", "Ahmad", "uuid:aaa", "101",
     "aaa", "2024-03-01T02:11:00", "", "[]", "submitted_via_web", "", "vX1", "[]", "1"],
    ["2024-03-02T09:00:00.000+07:00", "2024-03-02T09:10:00.000+07:00", "Kepanjen",
     "Budi", "", "", "", "", "Wati", "uuid:bbb", "102",
     "bbb", "2024-03-02T02:11:00", "", "[]", "submitted_via_web", "", "vX1", "[]", "2"],
]


def test_kobo_csv_export(tmp_path):
    text = join([[f'"{c}"' for c in r] for r in [KOBO_HEADER, *KOBO_ROWS]], ";")
    sheet = only(write_text(tmp_path / "kobo.csv", text))
    assert sheet.kobo is True
    assert sheet.delimiter == ";"
    assert list(sheet.frame.columns) == [
        "start", "end", "nama_desa", "grp_identitas_nama", "layanan",
        "grp_keluarga_nama", "kobo_uuid", "kobo_submission_time"]
    frame = sheet.frame
    assert frame.loc[2, "layanan"] == "informasi advokasi"
    assert frame.loc[3, "layanan"] is None
    assert frame.loc[2, "nama_desa"] == "Sukamaju"
    assert frame["kobo_uuid"].tolist() == ["aaa", "bbb"]
    assert frame.loc[3, "kobo_submission_time"] == "2024-03-02T02:11:00"


@pytest.mark.parametrize("group_sep", ["/", ":", "."])
def test_kobo_group_separators_and_collisions(tmp_path, group_sep):
    header = [h.replace("/", group_sep) for h in KOBO_HEADER]
    frame = only(write_text(tmp_path / "kobo.csv", join([header, *KOBO_ROWS], ","))).frame
    assert list(frame.columns) == [
        "start", "end", "nama_desa", "grp_identitas_nama", "layanan",
        "grp_keluarga_nama", "kobo_uuid", "kobo_submission_time"]
    assert frame["grp_keluarga_nama"].tolist() == ["Ahmad", "Wati"]


def test_kobo_rebuilds_missing_select_multiple_parent(tmp_path):
    header = ["_uuid", "grp_a:nama", "grp_a:layanan:informasi", "grp_a:layanan:advokasi",
              "grp_a:layanan:pelatihan", "_id", "_index"]
    rows = [["u1", "Siti", "True", "False", "True", "1", "1"],
            ["u2", "Budi", "False", "True", "False", "2", "2"],
            ["u3", "Ani", "", "", "", "3", "3"]]
    frame = only(write_text(tmp_path / "kobo.csv", join([header, *rows], ","))).frame
    assert list(frame.columns) == ["kobo_uuid", "nama", "layanan"]
    assert frame["layanan"].tolist() == ["informasi pelatihan", "advokasi", None]


def test_kobo_group_of_yes_no_questions_is_not_folded(tmp_path):
    # Independent 0/1 questions in a group, answered unevenly: not a select-multiple.
    header = ["_uuid", "_id", "grp_aset/rumah", "grp_aset/motor"]
    rows = [["u1", "1", "1", ""], ["u2", "2", "0", "1"]]
    frame = only(write_text(tmp_path / "kobo.csv", join([header, *rows], ","))).frame
    assert list(frame.columns) == ["kobo_uuid", "rumah", "motor"]
    assert frame["motor"].tolist() == [None, "1"]


def test_kobo_xlsx_with_repeat_sheet(tmp_path):
    path = tmp_path / "kobo.xlsx"
    wb = openpyxl.Workbook()
    main = wb.active
    main.title = "KKBM survey"
    main.append(["start", "grp_identitas/nama_desa", "layanan", "layanan/informasi",
                 "layanan/advokasi", "_id", "_uuid", "_submission_time", "_index"])
    main.append([dt.datetime(2024, 3, 1, 9), "Sukamaju", "advokasi", 0, 1, 101, "aaa",
                 dt.datetime(2024, 3, 1, 2, 11), 1])
    repeat = wb.create_sheet("anggota_keluarga")
    repeat.append(["grp_anggota/nama", "grp_anggota/usia", "_index", "_parent_table_name",
                   "_parent_index", "_submission__id", "_submission__uuid"])
    repeat.append(["Ahmad", 45, 1, "KKBM survey", 1, 101, "aaa"])
    wb.save(path)
    survey, members = read_raw(path)
    assert survey.kobo and members.kobo
    assert list(survey.frame.columns) == ["start", "nama_desa", "layanan", "kobo_uuid",
                                          "kobo_submission_time"]
    assert survey.frame.loc[2, "layanan"] == "advokasi"
    assert survey.frame.loc[2, "start"] == dt.datetime(2024, 3, 1, 9)
    assert members.sheet == "anggota_keluarga"
    assert list(members.frame.columns) == ["nama", "usia", "kobo_uuid"]
    assert members.frame.loc[2].tolist() == ["Ahmad", 45, "aaa"]


def test_ordinary_table_is_not_kobo(tmp_path):
    text = "id,start,end,nama/alias\n1,2024-01-01,2024-02-01,Siti/Ani\n"
    sheet = only(write_text(tmp_path / "plain.csv", text))
    assert sheet.kobo is False
    assert list(sheet.frame.columns) == ["id", "start", "end", "nama/alias"]


# --------------------------------------------------------------------------- #
# Header detection
# --------------------------------------------------------------------------- #
def test_detect_header_row():
    grid = pd.DataFrame([
        ["REKAP DATA (SYNTHETIC)", None, None, None, None],
        ["Kabupaten: Malang", "Tahun: 2024", None, None, None],
        [None, None, None, None, None],
        ["No", "Nama", "Desa", "Usia", None],
        [1, "Siti", "Sukamaju", 34, None],
    ])
    assert detect_header_row(grid) == 3
    numeric = pd.DataFrame([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(RawFileError, match="no header row"):
        detect_header_row(numeric)
    late = pd.DataFrame([["title", None]] * 3 + [["a", "b"]])
    with pytest.raises(RawFileError):
        detect_header_row(late, max_scan=3)


# --------------------------------------------------------------------------- #
# Errors and safety
# --------------------------------------------------------------------------- #
def test_missing_file(tmp_path):
    with pytest.raises(RawFileError, match=r"tidak_ada\.csv.*does not exist"):
        read_raw(tmp_path / "tidak_ada.csv")


def test_unsupported_suffix(tmp_path):
    path = write_text(tmp_path / "data.json", "{}")
    with pytest.raises(RawFileError, match=r"data\.json.*unsupported file type"):
        read_raw(path)
    assert ".csv" in SUPPORTED_SUFFIXES and ".ods" in SUPPORTED_SUFFIXES


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_empty_csv(tmp_path, content):
    path = tmp_path / "kosong.csv"
    path.write_bytes(content)
    with pytest.raises(RawFileError, match=r"kosong\.csv.*empty"):
        read_raw(path)


def test_corrupt_workbook(tmp_path):
    path = tmp_path / "rusak.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a workbook" * 10)
    with pytest.raises(RawFileError, match=r"rusak\.xlsx.*not a readable spreadsheet") as err:
        read_raw(path)
    assert err.value.__cause__ is None  # no library traceback attached


def test_workbook_with_only_empty_sheets(tmp_path):
    path = tmp_path / "kosong.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(RawFileError, match=r"kosong\.xlsx.*no sheet holds a table"):
        read_raw(path)


def test_no_header_found(tmp_path):
    path = write_text(tmp_path / "angka.csv", "1,2,3\n4,5,6\n")
    with pytest.raises(RawFileError, match=r"angka\.csv.*no header row found"):
        read_raw(path)


def test_directory_is_refused(tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(RawFileError, match="not a file"):
        read_raw(folder)


def test_files_are_not_modified(tmp_path):
    csv_path = write_text(tmp_path / "data.csv", "REKAP\nNo;Nama\n1;Désa\n", "cp1252")
    xlsx_path = make_workbook(tmp_path / "rekap.xlsx")
    before = {p: (sha256(p), p.stat().st_mtime_ns) for p in (csv_path, xlsx_path)}
    read_raw(csv_path)
    read_raw(xlsx_path)
    read_raw(xlsx_path, sheets=["Kegiatan"])
    assert {p: (sha256(p), p.stat().st_mtime_ns) for p in before} == before


# --------------------------------------------------------------------------- #
# Files as they come from the field (issue 7)
# --------------------------------------------------------------------------- #
from field_corpus import write_gz, write_xlsb  # noqa: E402  (test helpers, same folder)
from kkbm_analysis.readers import data_suffix, read_file  # noqa: E402


def test_gzipped_csv_and_suffixes(tmp_path):
    path = write_gz(tmp_path / "anggota.csv.gz", ROWS, sep=";")
    sheet = only(path)
    assert list(sheet.frame.columns) == ROWS[0] and sheet.frame.loc[2, "Nama"] == "Siti Aminah"
    assert data_suffix("a.CSV.GZ") == ".csv.gz" and data_suffix("..csv") == ".csv" and data_suffix("x.gz") is None
    (tmp_path / "rusak.csv.gz").write_bytes(b"\x1f\x8b broken")
    with pytest.raises(RawFileError, match="gzip|compressed"):
        read_raw(tmp_path / "rusak.csv.gz")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom(tmp_path, encoding):
    sheet = only(write_text(tmp_path / "u.csv", join(ROWS, "\t"), encoding))
    assert sheet.encoding == encoding and sheet.frame.loc[3, "Nama"] == "Budi"


def test_header_written_with_another_delimiter(tmp_path):
    text = "No;Nama;NIK;Desa\n" + "".join(",".join(r) + "\n" for r in ROWS[1:])
    sheet = only(write_text(tmp_path / "campur.csv", text))
    assert list(sheet.frame.columns) == ROWS[0] and sheet.delimiter == ","
    assert any("another delimiter" in n for n in sheet.notes)


def test_known_headers_are_found_deep_in_a_sheet(tmp_path):
    from kkbm_analysis.matching import is_known_header
    notes = [[f"catatan nomor {i} tentang pengisian formulir ini", "lihat lampiran"] for i in range(60)]
    path = write_text(tmp_path / "dalam.csv", join(notes + [["NIK", "Kode KKBM", "Status"], ["1", "K1", "purna"]], ","))
    sheet = read_file(path, known=is_known_header).sheets[0]
    assert sheet.header_row == 61 and sheet.header_confirmed and list(sheet.frame.index) == [62]


def test_two_row_header_and_column_numbers(tmp_path):
    path = tmp_path / "gabung.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["No", "Nama", "Tanggal", None, "Status"])
    ws.append([None, None, "Berangkat", "Pulang", None])
    ws.append(["(1)", "(2)", "(3)", "(4)", "(5)"])
    ws.append([1, "Siti", "01/01/2018", "01/01/2020", "purna"])
    ws.merge_cells("C1:D1")
    wb.save(path)
    sheet = only(path)
    assert list(sheet.frame.columns) == ["No", "Nama", "Tanggal Berangkat", "Tanggal Pulang", "Status"]
    assert sheet.header_row == 2 and sheet.header_rows == 2
    assert sheet.skipped_rows == {3: "column numbers under the header"} and list(sheet.frame.index) == [4]
    assert sheet.cell(4, "Tanggal Pulang") == "D4"


def test_wide_header_of_years_is_a_header(tmp_path):
    path = write_text(tmp_path / "tahun.csv", "Provinsi,2019,2020,2021\nBanten,10,12,14\n")
    assert list(only(path).frame.columns) == ["Provinsi", "2019", "2020", "2021"]


def test_stray_cell_far_away_is_left_out_not_fatal(tmp_path):
    path = tmp_path / "stray.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Nama", "Desa"])
    ws.append(["Siti", "Sukamaju"])
    ws["XFD1048576"] = "x"
    wb.save(path)
    sheet = only(path)
    assert list(sheet.frame.columns) == ["Nama", "Desa"] and sheet.stray_cells == ["XFD1048576"]


def test_formula_cells_without_saved_results_are_listed(tmp_path):
    path = tmp_path / "rumus.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Tahun", "Jumlah"])
    ws.append([2019, 5])
    ws.append([2020, "=B2*2"])
    wb.save(path)
    sheet = only(path)
    assert sheet.formula_cells == ["B3"] and sheet.frame.loc[3, "Jumlah"] is None


def test_xlsb_is_read_and_a_huge_one_refused(tmp_path):
    rows = [["Tahun", "Provinsi"], [2019, "Banten"], [2020, "Jawa Timur"]]
    sheet = only(write_xlsb(tmp_path / "a.xlsb", {"Data": rows}))
    assert sheet.frame.loc[3, "Provinsi"] == "Jawa Timur"
    raw = read_file(write_xlsb(tmp_path / "b.xlsb", {"Data": rows}, dimension=(1_048_575, 16_383)))
    assert not raw.sheets and raw.fates[0].fate == "unreadable" and "stray cell" in raw.fates[0].reason
    raw = read_file(write_xlsb(tmp_path / "c.xlsb", {"Data": rows}, broken=True))
    assert not raw.sheets and raw.fates[0].fate == "unreadable"


def test_sheet_fates(tmp_path):
    path = tmp_path / "fates.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Kosong"
    notes = wb.create_sheet("Catatan")
    notes["A1"] = "Catatan saja."
    numbers = wb.create_sheet("Angka")
    for i in range(8):
        numbers.append([i, i + 1, i + 2, i + 3])
    data = wb.create_sheet("Data")
    data.append(["Nama", "Desa"])
    data.append(["Siti", "Sukamaju"])
    wb.save(path)
    raw = read_file(path)
    assert [s.sheet for s in raw.sheets] == ["Data"]
    assert {f.sheet: f.fate for f in raw.fates} == {"Kosong": "empty", "Catatan": "no_table", "Angka": "not_understood"}
