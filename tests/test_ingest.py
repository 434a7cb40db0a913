"""Ingest on a small, deliberately broken file set: every row accounted for, every broken
row quarantined under the right rule, identifiers never reach processed data, raw files
untouched, outputs atomic, and the command line keeps its exit-code contract."""
from __future__ import annotations

import json
import gc
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import importlib

import openpyxl
import pandas as pd
import pytest

from kkbm_analysis.forked import WorkerFailed, available
from kkbm_analysis.ingest import IngestResult, ingest
from kkbm_analysis.store import load_processed
from kkbm_analysis.io import sha256
from kkbm_analysis.privacy import PseudonymKey

ingest_mod = importlib.import_module("kkbm_analysis.ingest")  # the package re-exports the function
KEY = PseudonymKey(b"test-key-not-secret")
AS_OF = date(2026, 1, 1)
NIK_SITI = "3604135203850001"   # valid structure, woman born 12/03/1985
NIK_SHORT = "360413520385000"   # 15 digits: kept, reported as a finding

COMMUNITIES = """Kode KKBM,Nama KKBM,Program,Provinsi,Kabupaten/Kota,Kecamatan,Desa/Kelurahan,Tanggal Pembentukan,Pemdes Terlibat
K1,KKBM Lontar,KKBM,Banten,Kab. Serang,Tirtayasa,Lontar,12/03/2017,Ya
K2,KKBM Blitar,KKBM,Jawa Timur,Blitar,,,01-05-2017,Tidak
K3,KKBM Entah,KKBM,Jawa Timur,Kab. Blitar,Kanigoro,Desa Tidak Ada,01/05/2017,Ya
K4,KBMI Tracap,KBMI,Jawa Tengah,KABUPATEN WONOSOBO,Kaliwiro,Tracap,26 Juli 2017,ya
"""

MEMBER_HEADER = ["NIK", "Nama", "No HP", "Kode KKBM", "Status", "Jenis Kelamin", "Tahun Lahir",
                 "Tanggal Bergabung", "Tanggal Berangkat", "Tanggal Kembali"]
# (row values, expected rule or None); rows start at sheet row 4 (title, blank, header above)
MEMBER_ROWS = [
    ([NIK_SITI, "Siti Aminah", "081234567890", "K1", "PMI Purna", "P", 1985, "01/04/2017", "01/01/2010", "01/01/2015"], None),
    (["3604130101800002", "Budi Santoso", "081298765432", "K1", "calon", "L", 1980, "31/02/2017", None, None], "invalid_date"),
    ([NIK_SITI, "Siti Aminah", "081234567890", "K1", "PMI Purna", "P", 1985, "01/04/2017", None, None], "duplicate_key"),
    (["3604135203850003", "Ani", "0813", "K9", "purna", "P", 1985, "01/04/2017", None, None], "unknown_reference"),
    ([NIK_SHORT, "Rina", "0814", "K4", "keluarga", "P", 1990, "2 Agustus 2017", None, None], None),
    (["3604135203850005", "Dewi", "0815", "K1", "purnaa", "P", 1985, "01/04/2017", None, None], "invalid_category"),
    (["3604135203850006", "Sri", "0816", "K1", "purna", "P", 1985, "01/04/2031", None, None], "future_date"),
    (["3604135203850007", "Tuti", "0817", "K1", "purna", "P", 1985, "01/04/2017", "01/01/2016", "01/01/2015"], "return_after_departure"),
    (["3604135203850008", "Yati", "0818", "K1", "purna", "P", 1850, "01/04/2017", None, None], "out_of_range"),
    (["3604135203850009", "Wati", "0819", "K1", "purna", "P", 1985, None, None, None], "missing_value"),
    (["3604135203850010", "Lina", "0820", "K2", "purna", "P", 1985, "01/04/2017", None, None], "unknown_reference"),
]

KUR = """No Pengajuan;NIK Debitur;Bank;Tanggal Pengajuan;Disetujui;Tanggal Persetujuan;Plafon (Rp)
L1;{nik};BRI;01/06/2017;Ya;15/06/2017;Rp 10.000.000
L2;{nik};BRI;01/01/2017;Tidak;;
L3;{nik};BNI;01/07/2017;Ya;01/08/2017;Rp 600.000.000
L4;{nik};BNI;01/07/2017;mungkin;;
L5;{nik};BNI;01/07/2017;Ya;01/08/2017;12a
L6;{nik};BNI;01/07/2017;Tidak;01/08/2017;Rp 5.000.000
""".format(nik=NIK_SITI)
KUR_EXPECTED = {2: None, 3: "loan_before_joining", 4: "out_of_range", 5: "invalid_boolean",
                6: "invalid_number", 7: "approval_consistent"}
COMMUNITY_EXPECTED = {2: None, 3: "ambiguous_region", 4: "unknown_region", 5: None}


def _write_raw(raw: Path) -> Path:
    """The broken file set, written into ``raw``."""
    raw.mkdir()
    (raw / "komunitas.csv").write_text(COMMUNITIES, encoding="utf-8")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Anggota"
    ws.append(["DATA ANGGOTA KKBM (uji)"])
    ws.append([])
    ws.append(MEMBER_HEADER)
    for values, _ in MEMBER_ROWS:
        ws.append(values)
    wb.save(raw / "anggota.xlsx")
    (raw / "kur.csv").write_bytes(KUR.encode("cp1252"))
    (raw / "catatan.csv").write_text("Catatan,Isi\nrapat,bulan depan\n", encoding="utf-8")
    return raw


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    """The broken file set, for a test that ingests it itself (or adds files to it)."""
    return _write_raw(tmp_path / "raw")


@dataclass(frozen=True)
class Ingested:
    raw: Path
    raw_before: dict[str, str]   # file name -> SHA-256 before the ingest
    processed: Path
    result: IngestResult


@pytest.fixture(scope="module")
def ingested(tmp_path_factory) -> Ingested:
    """One ingest of the broken file set into a processed folder, shared by the tests that only read it (the
    result, the written files, the raw files): the ingest of the same files with the same key and date gives
    the same result each time (test_pseudonyms_are_stable_and_keyed)."""
    folder = tmp_path_factory.mktemp("ingested")
    raw = _write_raw(folder / "raw")
    before = {p.name: sha256(p) for p in raw.iterdir()}
    return Ingested(raw, before, folder / "processed", ingest(raw, folder / "processed", key=KEY, as_of=AS_OF))


@pytest.fixture
def result(ingested: Ingested) -> IngestResult:
    return ingested.result


def _rules_by_row(result, file: str) -> dict[int, set[str]]:
    q = result.quarantine[result.quarantine["file"] == file]
    return {int(r): set(g["rule"]) for r, g in q.groupby("row")}


def test_every_row_accounted_for(result):
    acc = result.accounting
    assert (acc.rows_read == acc.rows_accepted + acc.rows_quarantined + acc.rows_skipped).all()
    by_file = acc.set_index("file")
    assert by_file.loc["anggota.xlsx", "rows_read"] == len(MEMBER_ROWS)
    assert by_file.loc["kur.csv", "rows_read"] == len(KUR_EXPECTED)
    assert by_file.loc["komunitas.csv", "rows_read"] == len(COMMUNITY_EXPECTED)
    total_q = result.quarantine[["file", "sheet", "row"]].drop_duplicates().shape[0]
    assert acc.rows_quarantined.sum() == total_q
    assert sum(len(df) for df in result.tables.values()) == acc.rows_accepted.sum()


def test_members_quarantined_with_the_right_rule(result):
    got = _rules_by_row(result, "anggota.xlsx")
    for offset, (_, rule) in enumerate(MEMBER_ROWS):
        row = 4 + offset
        if rule is None:
            assert row not in got, f"row {row} wrongly quarantined: {got.get(row)}"
        else:
            assert rule in got.get(row, set()), f"row {row}: expected {rule}, got {got.get(row)}"


def test_kur_and_communities_quarantined_with_the_right_rule(result):
    for file, expected in (("kur.csv", KUR_EXPECTED), ("komunitas.csv", COMMUNITY_EXPECTED)):
        got = _rules_by_row(result, file)
        assert {r for r, rule in expected.items() if rule} == set(got)
        for row, rule in expected.items():
            if rule:
                assert rule in got[row]


def test_quarantine_names_file_sheet_row_column_and_message(result):
    q = result.quarantine
    bad_date = q[(q.file == "anggota.xlsx") & (q.row == 5)].iloc[0]
    assert (bad_date.sheet, bad_date.field, bad_date.rule) == ("Anggota", "joined_on", "invalid_date")
    assert (bad_date.column, bad_date.cell) == ("Tanggal Bergabung", "H5")
    assert "31/02/2017" in bad_date.message
    ambiguous = q[(q.file == "komunitas.csv") & (q.row == 3)].iloc[0]
    assert "35.05" in ambiguous.message and "35.72" in ambiguous.message
    assert set(q[q.file == "catatan.csv"]["rule"]) == {"unrecognised_sheet"}


def test_range_messages_name_the_limit_the_schema_sets(result):
    """A value out of range is reported with the schema's own limit (a year as a year, an amount in rupiah)."""
    from kkbm_analysis.schema import TABLES

    def limit(table, column, check):
        return next(c.statistics for c in TABLES[table].schema.columns[column].checks if c.name == check)

    q = result.quarantine[result.quarantine["rule"] == "out_of_range"]
    year = q[q["field"] == "birth_year"]["message"].tolist()
    amount = q[q["field"] == "amount_idr"]["message"].tolist()
    low = limit("members", "birth_year", "greater_than_or_equal_to")["min_value"]
    high = limit("kur_loans", "amount_idr", "less_than_or_equal_to")["max_value"]
    assert year == [f"1850 is below the minimum of {low} for birth year"]
    assert len(amount) == 1 and amount[0].startswith("Rp 600.000.000 is above the maximum of Rp ")
    assert f"{high:,}".replace(",", ".") in amount[0] and "None" not in amount[0]


def test_quarantine_keeps_values_but_redacts_identifiers(result):
    q = result.quarantine
    rec = q[(q.file == "anggota.xlsx") & (q.row == 5)].iloc[0]
    assert "31/02/2017" in rec["values"] and "calon" not in rec["values"]  # only the cells the problem is about
    assert "3604130101800002" not in rec["values"] and "Budi" not in rec["values"]


def test_regions_harmonised_to_codes(result):
    com = result.tables["communities"].set_index("community_id")
    assert com.loc["K1", "village_code"] == "36.04.13.2007"
    assert com.loc["K4", "village_code"] == "33.07.04.2014"
    assert com.loc["K4", "program"] == "KBMI"


def test_values_parsed(result):
    kur = result.tables["kur_loans"].set_index("loan_id")
    assert kur.loc["L1", "amount_idr"] == 10_000_000
    assert kur.loc["L1", "approved_on"] == pd.Timestamp("2017-06-15")
    members = result.tables["members"]
    assert set(members["status"]) == {"pmi_purna", "keluarga"}


def test_invalid_nik_is_a_finding_not_a_rejection(result):
    f = result.findings
    nik = f[f.rule == "invalid_nik"]
    assert list(nik["row"]) == [8] and list(nik["file"]) == ["anggota.xlsx"]
    assert len(result.tables["members"]) == 2


def test_identifiers_never_reach_processed_files(ingested: Ingested):
    result, out = ingested.result, ingested.processed
    files = [p for p in out.rglob("*") if p.is_file()]  # tables partitioned by province too
    assert any(p.parent != out for p in files)
    blob = b"".join(p.read_bytes() for p in files)
    text = "".join(pd.read_parquet(p).astype(str).to_csv() for p in files if p.suffix == ".parquet")
    for secret in (NIK_SITI, NIK_SHORT, "3604130101800002", "Siti Aminah", "Budi", "081234567890"):
        assert secret.encode() not in blob
        assert secret not in text
    member_cols = set(result.tables["members"].columns)
    assert not member_cols & {"nik", "name", "nama", "phone", "no_hp"}


def test_pseudonyms_are_stable_and_keyed(raw_dir: Path):
    a = ingest(raw_dir, None, key=KEY, as_of=AS_OF).tables["members"]["member_id"]
    again = ingest(raw_dir, None, key=KEY, as_of=AS_OF).tables
    b = again["members"]["member_id"]
    c = ingest(raw_dir, None, key=PseudonymKey(b"another key"), as_of=AS_OF).tables["members"]["member_id"]
    assert list(a) == list(b)
    assert set(a).isdisjoint(set(c))
    kur = again["kur_loans"]   # another ingest than a's: its loans name a's pseudonyms
    assert set(kur["member_id"]) <= set(a)


def test_pseudonym_memo_gives_the_pseudonyms_made_without_it():
    """The memo one ingest shares across tables changes nothing: the same pseudonyms as a fresh hash of
    every cell, a number never taken for its text (3201.0 is '32010', not '3201'), blanks stay blank,
    and only canonical NIKs are remembered (by number, a NIK spelled with spaces as its digits)."""
    from kkbm_analysis.privacy import PseudonymMemo, pseudonymise

    first = pd.Series(["3201 0101 0101 0001", "3201010101010002", None, "  ", "Siti  Aminah"], dtype=object)
    second = pd.Series([3201.0, "3201", "3201010101010002", 3201, "siti aminah", None], dtype=object)
    memo = PseudonymMemo()
    for raw in (first, second, first):
        assert pseudonymise(raw, KEY, "member", memo).tolist() == pseudonymise(raw, KEY, "member").tolist()
    assert pseudonymise(second, KEY, "member", memo).isna().tolist() == [False] * 5 + [True]
    assert memo.numbers.tolist() == [3201010101010001, 3201010101010002]
    assert memo.pseudonyms[1].decode() == pseudonymise(pd.Series(["3201010101010002"]), KEY, "member")[0]


def test_pseudonyms_of_a_nik_agree_however_it_is_spelled_and_stored():
    """A canonical NIK (found in Arrow, hashed without normalising) and the same NIK with spaces, dots or
    dashes get one pseudonym, whatever the column's dtype and whether the memo knows it already."""
    import random

    from kkbm_analysis.privacy import PseudonymMemo, _keyed_hashes, normalise_identifier, pseudonymise

    rng = random.Random(12)
    memo = PseudonymMemo()
    for _ in range(30):
        niks = ["".join(rng.choice("0123456789") for _ in range(16)) for _ in range(8)]
        spelled = [" ".join([n[:4], n[4:8], n[8:]]) if rng.random() < 0.5 else f"{n[:6]}.{n[6:12]}-{n[12:]}"
                   for n in niks]
        cells = rng.sample(niks + spelled + [None, "", " ", "Siti Aminah", "12345", "３２０１"], 16)
        canon = normalise_identifier(pd.Series(cells, dtype=object))
        hashes = _keyed_hashes(KEY, "member:", "M")
        expected = [None if c is pd.NA else hashes([c])[0] for c in canon]
        for dtype in (object, "string", "str"):
            two_chunks = pd.concat([pd.Series(cells[:5], dtype=dtype), pd.Series(cells[5:], dtype=dtype)],
                                   ignore_index=True)
            for column in (pd.Series(cells, dtype=dtype), two_chunks):
                for m in (memo, None):
                    got = pseudonymise(column, KEY, "member", m)
                    assert [None if v is pd.NA else v for v in got] == expected
        assert pseudonymise(pd.Series(niks), KEY, "member", memo).tolist() == \
            pseudonymise(pd.Series(spelled), KEY, "member").tolist()


def test_raw_files_never_modified(ingested: Ingested):
    assert {p.name: sha256(p) for p in ingested.raw.iterdir()} == ingested.raw_before


def test_manifest_records_inputs_and_counts(ingested: Ingested):
    m = ingested.result.manifest
    assert {i["file"]: i["sha256"] for i in m["inputs"]}["kur.csv"] == sha256(ingested.raw / "kur.csv")
    assert m["rows"]["rows_read"] == m["rows"]["rows_accepted"] + m["rows"]["rows_quarantined"]
    assert m["pseudonym_key_id"] == KEY.key_id and "test-key" not in str(m)
    assert m["synthetic"] is False


def test_processed_tables_round_trip(ingested: Ingested):
    result = ingested.result
    loaded = load_processed(ingested.processed)
    assert set(loaded) == set(result.tables)
    pd.testing.assert_frame_equal(loaded["kur_loans"], result.tables["kur_loans"], check_dtype=False)


def test_failed_write_keeps_previous_output(raw_dir: Path, tmp_path: Path, monkeypatch):
    out = tmp_path / "processed"
    ingest(raw_dir, out, key=KEY, as_of=AS_OF)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ingest_mod, "write_csv", boom)
    with pytest.raises(OSError):
        ingest(raw_dir, out, key=KEY, as_of=AS_OF)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not [p for p in tmp_path.iterdir() if "staging" in p.name]


def test_missing_required_column_quarantines_the_sheet(tmp_path: Path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "anggota.csv").write_text("NIK,Kode KKBM,Status,Jenis Kelamin\n"
                                     f"{NIK_SITI},K1,purna,P\n", encoding="utf-8")
    res = ingest(raw, None, key=KEY, as_of=AS_OF)
    assert set(res.quarantine["rule"]) == {"missing_column"}
    assert "joined_on" in set(res.quarantine["field"])


# --------------------------------------------------------------------------- command line
def _kkbm(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The installed program in a process of its own (the other tests run it in this process: conftest ``kkbm``)."""
    return subprocess.run([sys.executable, "-m", "kkbm_analysis.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def test_cli_exit_1_on_data_problems(raw_dir: Path, tmp_path: Path):
    proc = _kkbm("ingest", str(raw_dir), "--out", str(tmp_path / "o"), "--no-progress", "--as-of", "2026-01-01",
                 env={"KKBM_PSEUDONYM_KEY": "cli-test-key"})
    assert proc.returncode == 1, proc.stderr
    assert "quarantined" in proc.stdout and "Traceback" not in proc.stderr


def test_cli_exit_2_on_usage_errors(raw_dir: Path, tmp_path: Path, kkbm):
    missing = kkbm("ingest", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "not found" in missing.stderr and "Traceback" not in missing.stderr
    bad_option = kkbm("ingest", str(raw_dir), "--as-of", "31/01/2026", env={"KKBM_PSEUDONYM_KEY": "k"})
    assert bad_option.returncode == 2 and "--as-of" in bad_option.stderr
    no_key = kkbm("ingest", str(raw_dir), "--out", str(tmp_path / "o"),
                  env={"KKBM_PSEUDONYM_KEY": "", "KKBM_PSEUDONYM_KEY_FILE": str(tmp_path / "none")})
    assert no_key.returncode == 2 and "pseudonym key" in no_key.stderr and "Traceback" not in no_key.stderr
    unknown = kkbm("frobnicate")
    assert unknown.returncode == 2


def test_cli_help_on_every_subcommand(kkbm):
    for command in ("synth", "ingest", "demo", "codebook"):
        proc = kkbm(command, "--help")
        assert proc.returncode == 0 and "Usage" in proc.stdout


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can read every file")
def test_unreadable_file_and_folder_get_a_fate(tmp_path: Path):
    raw = tmp_path / "raw"
    (raw / "tertutup").mkdir(parents=True)
    (raw / "komunitas.csv").write_text(COMMUNITIES, encoding="utf-8")
    locked = raw / "anggota.csv"
    locked.write_text("NIK,Kode KKBM\n3604135203850001,K1\n", encoding="utf-8")
    locked.chmod(0)
    (raw / "tertutup").chmod(0)
    try:
        res = ingest(raw, None, key=KEY, as_of=AS_OF)
    finally:
        locked.chmod(0o644)
        (raw / "tertutup").chmod(0o755)
    fates = {i["file"]: i["fate"] for i in res.manifest["inputs"]}
    assert fates["anggota.csv"] == "unreadable" and fates["tertutup/"] == "unreadable"
    assert not res.ok and any("anggota.csv" in e for e in res.errors)


def test_member_location_only_where_the_sheet_gives_it(tmp_path: Path):
    """A member's village is looked for in the community's regency; a member whose row names no village or
    district keeps no location (the community's is not copied in), whatever other rows or files say."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "komunitas.csv").write_text(COMMUNITIES, encoding="utf-8")
    header = "NIK,Kode KKBM,Status,Jenis Kelamin,Tanggal Bergabung,Kecamatan,Desa\n"
    rows = [f"{NIK_SITI},K1,PMI Purna,P,01/04/2017,Tirtayasa,Lontar\n",
            "3604135203850002,K1,PMI Purna,P,01/04/2017,,\n",
            "3307016704900003,K4,Keluarga,P,01/09/2017,,Tracap\n"]
    (raw / "anggota.csv").write_text(header + "".join(rows), encoding="utf-8")
    members = ingest(raw, None, key=KEY, as_of=AS_OF).tables["members"]
    where = members.set_index("member_id")[["province_code", "regency_code", "district_code", "village_code"]]
    located = where.dropna(how="all")
    assert sorted(located["village_code"]) == ["33.07.04.2014", "36.04.13.2007"]
    assert located.loc[located["village_code"] == "36.04.13.2007", "province_code"].item() == "36"
    assert len(where) == 3 and where.isna().all(axis=1).sum() == 1   # the member without a village: no location


@pytest.mark.slow
def test_outputs_do_not_depend_on_the_chunk_size(demo_project, tmp_path: Path, monkeypatch):
    """Text files read in small chunks (many per file, a short tail joined to the chunk before it) give
    byte-identical outputs: tables, quarantine, notes, accounting and manifest."""
    from kkbm_analysis import sheetflow

    raw = demo_project.root / "data" / "raw" / "demo"
    whole = demo_project.processed
    as_of = date.fromisoformat(json.loads((whole / "manifest.json").read_text())["as_of"])
    longest = max(sum(1 for _ in p.open("rb")) for p in raw.glob("*.csv"))
    chunk = 97
    assert longest > 10 * chunk                       # the demo's CSV files are read in many chunks
    monkeypatch.setattr(sheetflow, "_TAIL_ROWS", 20)
    out = tmp_path / "chunked"
    ingest(raw, out, as_of=as_of, chunk_rows=chunk)
    written = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert any(p.parts[0] == "members" for p in written)  # a partitioned table is compared too
    for rel in written:
        assert sha256(out / rel) == sha256(whole / rel), rel


# --------------------------------------------------------------------------- a forked helper (workers=2)
DEPARTURES = ("Provinsi\tKabupaten/Kota\tKecamatan\tDesa\tBulan\tBerangkat Prosedural\tBerangkat Non Prosedural\n"
              "Banten\tKab. Serang\tTirtayasa\tLontar\t2017-01\t4\t0\n"
              "Banten\tKab. Serang\tTirtayasa\tLontar\t2017-02\t3\t1\n"
              "Banten\tKab. Serang\tTirtayasa\tLontar\tFeb-2017\t3\t1\n"       # the same village and month again
              "Banten\tKab. Serang\tTirtayasa\tDesa Tidak Ada\t2017-03\t2\t0\n"  # no such village
              "Jawa Tengah\tKABUPATEN WONOSOBO\tKaliwiro\tTracap\t2017-03\tdua\t0\n")


@pytest.fixture
def raw_two(raw_dir: Path) -> Path:
    """The broken file set plus a table whose rows name no person (built by the helper)."""
    (raw_dir / "keberangkatan.tsv").write_text(DEPARTURES, encoding="utf-8")
    return raw_dir


needs_fork = pytest.mark.skipif(not available(), reason="no fork or fewer than two cores here: "
                                "the ingest runs in one process")


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@needs_fork
def test_a_forked_helper_gives_byte_identical_outputs(raw_two: Path, tmp_path: Path, monkeypatch):
    """workers=2 (helpers read the workbook, build departures, check and write a table) and workers=1 write the
    same bytes: tables, quarantine, notes, accounting, quality report and manifest."""
    helpers: list[str] = []
    real = ingest_mod.Forked

    def spied(fn, *args, what="work"):
        helpers.append(what)
        return real(fn, *args, what=what)

    monkeypatch.setattr(ingest_mod, "Forked", spied)
    one = ingest(raw_two, tmp_path / "one", key=KEY, as_of=AS_OF, workers=1)
    assert helpers == []
    two = ingest(raw_two, tmp_path / "two", key=KEY, as_of=AS_OF, workers=2)
    assert helpers[:2] == ["reading the workbooks", "building the tables departures"]
    assert helpers[2].startswith("checking and writing the table ") and len(helpers) == 3
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
    rules = set(two.quarantine.loc[two.quarantine["file"] == "keberangkatan.tsv", "rule"])
    assert {"duplicate_key", "unknown_region", "invalid_number"} <= rules  # the helper's problems came back
    assert two.accounting.equals(one.accounting)


@needs_fork
def test_the_helper_builds_the_person_tables_it_claims_first(raw_two: Path, tmp_path: Path, monkeypatch):
    """The person tables after members go to whichever side is free first, and so do the tables to write after
    the helper's own (those checked here after it started, once their refused rows are handed over); when
    that is the helper (here it takes kur_loans, then every table to write while this process waits), the
    outputs are those of one process."""
    parent, refused, made = os.getpid(), [], []

    class HelperFirst(ingest_mod.Claims):
        def __init__(self, names, ready=None):
            super().__init__(names, ready)
            made.append((list(names), list(names if ready is None else ready)))

        def claim(self, name: str) -> bool:
            if os.getpid() != parent:
                return super().claim(name)
            deadline = time.monotonic() + 60
            while not self.taken(name) and time.monotonic() < deadline:
                time.sleep(0.01)  # the helper claims the last ones once its own tables are built
            got = super().claim(name)
            refused.append((name, got))
            return got

    def refusing(table, rows, kept, spools, bads, problems):
        real_rules(table, rows, kept, spools, bads, problems)
        if table == "departures":  # a row refused here after the helper started: its write must leave it out
            problems.add(rows.column("_uid").to_numpy()[:1], "month", "test_rule", "refused")

    real_rules = ingest_mod.table_rules
    monkeypatch.setattr(ingest_mod, "table_rules", refusing)
    one = ingest(raw_two, tmp_path / "one", key=KEY, as_of=AS_OF, workers=1)
    assert "test_rule" in set(one.quarantine["rule"])
    monkeypatch.setattr(ingest_mod, "Claims", HelperFirst)
    ingest(raw_two, tmp_path / "two", key=KEY, as_of=AS_OF, workers=2)
    written, settled = made[-1]
    assert set(written) - set(settled)  # some were checked here after the helper started: handed over
    assert refused == [("kur_loans", False), (written[0], False)]
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
    assert len(one.tables["kur_loans"]) > 0


@needs_fork
def test_a_failure_in_the_helper_is_raised_as_in_one_process(raw_two: Path, tmp_path: Path, monkeypatch):
    """An error while the helper builds a table reaches the caller as the same exception (with the helper's
    traceback as its cause), and the output folder is left as it was."""
    real = ingest_mod._Run._build

    def broken(self, table, work):
        if table == "departures":
            raise ValueError("departures could not be built")
        return real(self, table, work)

    monkeypatch.setattr(ingest_mod._Run, "_build", broken)
    out = tmp_path / "processed"
    for workers in (1, 2):
        with pytest.raises(ValueError, match="departures could not be built") as caught:
            ingest(raw_two, out, key=KEY, as_of=AS_OF, workers=workers)
        assert not out.exists()
        assert ("in the worker process" in str(caught.value.__cause__)) == (workers == 2)


@needs_fork
def test_a_helper_that_dies_is_reported(raw_two: Path, tmp_path: Path, monkeypatch):
    """A helper killed without a word (e.g. for memory) is a plain error naming what it was doing."""
    real = ingest_mod._Run._build

    def killed(self, table, work):
        if table == "departures":
            os._exit(9)
        return real(self, table, work)

    monkeypatch.setattr(ingest_mod._Run, "_build", killed)
    with pytest.raises(WorkerFailed, match="building the tables departures stopped without a result "
                                                      r"\(exit code 9\)"):
        ingest(raw_two, tmp_path / "processed", key=KEY, as_of=AS_OF, workers=2)
    assert not (tmp_path / "processed").exists()


def test_no_helper_inside_a_daemonic_process(monkeypatch):
    """A multiprocessing or Dask worker may not have children: the ingest then runs in one process."""
    import multiprocessing

    assert not multiprocessing.current_process().daemon
    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True)
    assert not available()


@needs_fork
def test_the_helper_is_used_by_default_only_for_large_inputs(raw_two: Path, tmp_path: Path, monkeypatch):
    """Forking and merging cost about a CPU second: by default a small input stays in one process."""
    helpers: list[str] = []
    real = ingest_mod.Forked
    monkeypatch.setattr(ingest_mod, "Forked", lambda fn, *a, what="": helpers.append(what) or real(fn, *a, what=what))
    ingest(raw_two, tmp_path / "small", key=KEY, as_of=AS_OF)
    assert helpers == []
    monkeypatch.setattr(ingest_mod, "PARALLEL_BYTES", 1)
    ingest(raw_two, tmp_path / "large", key=KEY, as_of=AS_OF)
    assert "building the tables departures" in helpers


@needs_fork
def test_kkbm_ingest_says_plainly_when_its_helper_dies_and_runs_with_one_process(raw_two: Path, tmp_path: Path,
                                                                                 monkeypatch, kkbm):
    """`kkbm ingest --workers 2` with a helper killed (as for memory): a plain message naming the way out, exit 2,
    nothing written; `--workers 1` then ingests."""
    real = ingest_mod._Run._build

    def killed(self, table, work):
        if table == "departures" and os.getpid() != parent:
            os._exit(9)
        return real(self, table, work)

    parent = os.getpid()
    monkeypatch.setattr(ingest_mod._Run, "_build", killed)
    out = tmp_path / "processed"
    args = ("ingest", str(raw_two), "--out", str(out), "--no-progress", "--as-of", "2026-01-01")
    failed = kkbm(*args, "--workers", "2", env={"KKBM_PSEUDONYM_KEY": "cli-test-key"})
    assert failed.returncode == 2 and "Traceback" not in failed.stderr, failed.stderr
    assert "building the tables departures stopped without a result" in failed.stderr
    assert "--workers 1" in failed.stderr and not out.exists()
    again = kkbm(*args, "--workers", "1", env={"KKBM_PSEUDONYM_KEY": "cli-test-key"})
    assert again.returncode == 1 and (out / "manifest.json").is_file()  # 1: the broken rows are quarantined


def test_the_ingest_collects_cycles_less_often_and_restores_the_threshold(raw_dir: Path, tmp_path: Path, monkeypatch):
    """While the ingest runs, Python's young generation is larger (fewer full collections); the user's setting
    (Python's default here) is back afterwards, after a failure too."""
    seen, real, suite = [], ingest_mod._Run.result, gc.get_threshold()

    def spied(self, out, work):
        seen.append(gc.get_threshold())
        return real(self, out, work)

    monkeypatch.setattr(ingest_mod._Run, "result", spied)
    gc.set_threshold(700, *suite[1:])
    try:
        ingest(raw_dir, tmp_path / "processed", key=KEY, as_of=AS_OF, workers=1)
        assert seen == [(10_000, *suite[1:])]
        assert gc.get_threshold() == (700, *suite[1:])
        monkeypatch.setattr(ingest_mod._Run, "result", lambda self, out, work: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            ingest(raw_dir, tmp_path / "again", key=KEY, as_of=AS_OF, workers=1)
        assert gc.get_threshold() == (700, *suite[1:])
    finally:
        gc.set_threshold(*suite)  # the suite's own setting (conftest)


@needs_fork
def test_sheets_before_a_workbook_still_read_are_warmed_meanwhile_with_the_same_outputs(raw_dir: Path,
                                                                                      tmp_path: Path, monkeypatch):
    """While the helper reads a workbook, this process plans the text sheets before it and reads their person
    names (SheetJob.warm): the outputs are those of one process, and a failure while warming is left for the
    sheet's own run (here it passes there)."""
    import csv as csv_module

    from kkbm_analysis import sheetflow

    (raw_dir / "anggota.xlsx").unlink()  # members as a text file, first in file order; a workbook after it
    with open(raw_dir / "anggota.csv", "w", encoding="utf-8", newline="") as sink:
        csv_module.writer(sink).writerows([MEMBER_HEADER, *(v for v, _ in MEMBER_ROWS)])
    wb = openpyxl.Workbook()
    wb.active.append(["Catatan", "Isi"])
    wb.active.append(["rapat", "bulan depan"])
    wb.save(raw_dir / "zz_catatan.xlsx")
    monkeypatch.setattr(ingest_mod, "PARALLEL_BYTES", 0)
    one = ingest(raw_dir, tmp_path / "one", key=KEY, as_of=AS_OF, workers=1)
    warmed, real_warm, real_plan, failed = [], sheetflow.SheetJob.warm, sheetflow.plan_sheet, []

    def warm(self, ctx):
        real_warm(self, ctx)
        warmed.append((self.table, self.plan is not None, bool(self._names)))

    def plan_once_broken(*args):
        if not failed:
            failed.append(True)
            raise ValueError("a failure while warming")
        return real_plan(*args)

    monkeypatch.setattr(ingest_mod.Forked, "ready", lambda self: False)  # the workbook is always still read
    monkeypatch.setattr(sheetflow.SheetJob, "warm", warm)
    two = ingest(raw_dir, tmp_path / "two", key=KEY, as_of=AS_OF, workers=2)
    assert ("members", True, True) in warmed
    assert _files(tmp_path / "one") == _files(tmp_path / "two") and two.accounting.equals(one.accounting)
    monkeypatch.setattr(sheetflow, "plan_sheet", plan_once_broken)
    warmed.clear()
    ingest(raw_dir, tmp_path / "three", key=KEY, as_of=AS_OF, workers=2)
    assert failed and warmed[0] == ("members", False, False)  # its warming failed: run() planned it after
    assert _files(tmp_path / "one") == _files(tmp_path / "three")
