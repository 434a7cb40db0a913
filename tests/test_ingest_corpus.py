"""The ingest on a corpus of odd and bad inputs, each made here as a field officer would make it.

Every case runs the real command line (in this process, so ~100 cases stay fast) and asserts:
no traceback; the exit code; for every file and sheet written to the accounting
``rows read = accepted + quarantined + skipped`` and the expected fate; raw files byte-
identical; and no planted identifier in any output file (Parquet decoded) or printed line.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import pytest

from field_corpus import (ADDRESSES, BIRTH_DATES, COMMUNITY_HEADER, COMMUNITY_ROWS, EMAILS, JOINED, MEMBER_HEADER,
                          NAMES, NIKS, PASSPORTS, PHONES, SEX, STATUS, communities_table, leaks, member_rows,
                          members_table, output_text, snapshot, write_csv, write_gz, write_xlsb, write_xlsx)
from kkbm_analysis import cli, store

KEY = "corpus-secret-key"


@dataclass
class Ctx:
    """One case's folders, arguments and extra checks."""

    raw: Path
    work: Path
    outside: Path
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    command: str = "ingest"
    checks: list[Callable[["Run"], None]] = field(default_factory=list)
    patches: list[tuple[Any, str, Any]] = field(default_factory=list)  # (object, attribute, value) for this run
    untouched: list[Path] = field(default_factory=list)  # folders/files outside raw that must not change

    @property
    def out(self) -> Path:
        return self.work / "out"


@dataclass
class Run:
    ctx: Ctx
    code: int
    printed: str
    wrote: bool = False  # this run wrote the output folder

    @property
    def out(self) -> Path:
        return self.ctx.out

    def accounting(self) -> pd.DataFrame:
        return pd.read_csv(self.out / "accounting.csv", keep_default_na=False)

    def quarantine(self) -> pd.DataFrame:
        return pd.read_csv(self.out / "quarantine.csv", keep_default_na=False)

    def notes(self) -> pd.DataFrame:
        return pd.read_csv(self.out / "ingest_notes.csv", keep_default_na=False)

    def table(self, name: str) -> pd.DataFrame:
        return store.read_table(self.out, name)

    def manifest(self) -> dict:
        return json.loads((self.out / "manifest.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Ctx], None]
    exit: int
    fates: dict[str, str]


CASES: list[Case] = []


def case(exit: int, **fates: str):
    """Register a case: its exit code and expected fates (``file`` or ``file::sheet`` -> fate)."""
    def register(build: Callable[[Ctx], None]) -> Callable[[Ctx], None]:
        CASES.append(Case(build.__name__, build, exit, {k.replace("__", "::"): v for k, v in fates.items()}))
        return build
    return register


def expect(ctx: Ctx, fates: dict[str, str]) -> None:
    """Expected fates for file names that are not valid Python keywords."""
    ctx.checks.append(lambda run: _check_fates(run, fates))


# --------------------------------------------------------------------------- running
def run_case(c: Case, tmp_path: Path, monkeypatch, capsys) -> Run:
    ctx = Ctx(tmp_path / "raw", tmp_path / "work", tmp_path / "outside")
    for p in (ctx.raw, ctx.work, ctx.outside):
        p.mkdir()
    ctx.args = ["--out", str(ctx.out)]
    c.build(ctx)
    env = {"KKBM_PSEUDONYM_KEY": KEY, "KKBM_PSEUDONYM_KEY_FILE": str(ctx.outside / "no.key"),
           "KKBM_LOG_DIR": str(ctx.work / "logs"), "KKBM_ROOT": str(ctx.work / "project"), **ctx.env}
    for k, v in env.items():
        if v is None:
            monkeypatch.delenv(k, raising=False)
        else:
            monkeypatch.setenv(k, v)
    for obj, name, value in ctx.patches:
        monkeypatch.setattr(obj, name, value)
    manifest = ctx.out / "manifest.json"
    earlier = manifest.read_bytes() if manifest.exists() else None
    before = snapshot(ctx.raw)
    kept = {p: (snapshot(p) if p.is_dir() else p.read_bytes()) for p in ctx.untouched}
    argv = [ctx.command, *([] if ctx.args[:1] and not ctx.args[0].startswith("-") else [str(ctx.raw)])]
    if ctx.command == "ingest":
        argv += ["--no-progress", "--as-of", "2026-01-01"]
    argv += ctx.args
    monkeypatch.setattr(sys, "argv", ["kkbm", *argv])
    capsys.readouterr()
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    run = Run(ctx, code, out.out + out.err, manifest.exists() and manifest.read_bytes() != earlier)
    assert snapshot(ctx.raw) == before, "the raw folder changed"
    for p, was in kept.items():
        assert (snapshot(p) if p.is_dir() else p.read_bytes()) == was, f"{p} changed"
    return run


def _check_fates(run: Run, fates: dict[str, str]) -> None:
    acc = run.accounting()
    for key, fate in fates.items():
        file, _, sheet = key.partition("::")
        rows = acc[(acc["file"] == file) & (acc["sheet"] == sheet)] if sheet else acc[acc["file"] == file]
        assert len(rows), f"{key} is not in the accounting:\n{acc[['file', 'sheet', 'fate']]}"
        assert set(rows["fate"]) == {fate}, f"{key}: {set(rows['fate'])} != {fate}: {rows['reason'].tolist()}"


# =========================================================================== the cases
# --------------------------------------------------------------------------- never destroy
@case(2)
def out_is_the_raw_folder(ctx):
    write_csv(ctx.raw / "anggota.csv", members_table())
    ctx.args = ["--out", str(ctx.raw)]


@case(2)
def out_contains_the_raw_folder(ctx):
    write_csv(ctx.raw / "anggota.csv", members_table())
    ctx.args = ["--out", str(ctx.raw.parent)]


@case(2)
def out_inside_the_raw_folder(ctx):
    write_csv(ctx.raw / "anggota.csv", members_table())
    ctx.args = ["--out", str(ctx.raw / "processed")]


@case(2)
def out_is_a_file(ctx):
    write_csv(ctx.raw / "anggota.csv", members_table())
    target = ctx.outside / "hasil.csv"
    target.write_text("keep me\n")
    ctx.args, ctx.untouched = ["--out", str(target)], [target]


@case(2)
def out_is_someone_elses_folder(ctx):
    write_csv(ctx.raw / "anggota.csv", members_table())
    thesis = ctx.outside / "thesis"
    thesis.mkdir()
    (thesis / "bab3.docx").write_bytes(b"chapter three")
    ctx.args, ctx.untouched = ["--out", str(thesis)], [thesis]
    ctx.checks.append(lambda run: (thesis / "bab3.docx").exists())


def _previous_output(ctx: Ctx) -> None:
    """An earlier good output in ctx.out (made by a real ingest of other raw files)."""
    from kkbm_analysis.ingest import ingest
    from kkbm_analysis.privacy import PseudonymKey
    earlier = ctx.outside / "earlier"
    write_csv(earlier / "komunitas.csv", communities_table())
    ingest(earlier, ctx.out, key=PseudonymKey(KEY.encode()))


@case(0, **{"komunitas.csv": "read"})
def out_is_an_earlier_output(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    _previous_output(ctx)


@case(2)
def out_is_an_earlier_output_plus_a_users_file(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    _previous_output(ctx)
    (ctx.out / "my_notes.txt").write_text("mine")
    ctx.untouched = [ctx.out]


@case(1)
def empty_raw_folder_keeps_the_previous_output(ctx):
    _previous_output(ctx)
    ctx.untouched = [ctx.out]
    ctx.checks.append(lambda run: "no rows were read" in run.printed)


@case(1)
def exclude_everything_keeps_the_previous_output(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    (ctx.raw / "kkbm-mapping.yaml").write_text('version: 1\nexclude: ["*"]\n')
    _previous_output(ctx)
    ctx.untouched = [ctx.out]


@case(0, **{"komunitas.csv": "read"})
def staging_left_by_a_killed_run_is_cleaned(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    stale = ctx.work / ".out.staging-999999"
    stale.mkdir()
    (stale / ".kkbm-staging").touch()
    (stale / "members.parquet").write_bytes(b"half written")
    ctx.checks.append(lambda run: not stale.exists())


@case(0)
def default_output_never_resolves_to_the_raw_folder(ctx):
    raw = ctx.work / "project" / "data" / "processed" / "desa"
    raw.mkdir(parents=True)
    write_csv(raw / "komunitas.csv", communities_table())
    ctx.raw.rmdir()
    ctx.raw.symlink_to(raw)  # the raw folder is where its default output would be
    ctx.args = []
    ctx.checks.append(lambda run: (raw.parent / "desa-processed" / "manifest.json").exists())
    ctx.checks.append(lambda run: sorted(p.name for p in raw.iterdir()) == ["komunitas.csv"])


# --------------------------------------------------------------------------- usage errors
@case(2)
def raw_folder_missing(ctx):
    ctx.args = [str(ctx.work / "tidak_ada"), "--out", str(ctx.out)]
    ctx.checks.append(lambda run: "not found" in run.printed)


@case(2)
def raw_folder_is_a_file(ctx):
    f = ctx.outside / "data.csv"
    write_csv(f, communities_table())
    ctx.args = [str(f), "--out", str(ctx.out)]


@case(2)
def mapping_is_not_yaml(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    (ctx.raw / "kkbm-mapping.yaml").write_text("files:\n  - file: [unclosed\n")
    ctx.checks.append(lambda run: "line" in run.printed)


@case(2)
def mapping_is_not_utf8(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    (ctx.raw / "kkbm-mapping.yaml").write_bytes("columns:\n  \"Tgl Gabung\u00e9\": joined_on\n".encode("utf-16"))
    ctx.checks.append(lambda run: "UTF-8" in run.printed)


@case(2)
def mapping_header_row_is_text(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    (ctx.raw / "kkbm-mapping.yaml").write_text('version: 1\nfiles:\n  - file: "*.csv"\n    header_row: abc\n')
    ctx.checks.append(lambda run: "line 4" in run.printed and "header_row" in run.printed)


@case(2)
def mapping_key_misspelt(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    (ctx.raw / "kkbm-mapping.yaml").write_text('version: 1\nfiles:\n  - file: "*.csv"\n    colums: {}\n')
    ctx.checks.append(lambda run: "did you mean 'columns'" in run.printed)


@case(2)
def mapping_unknown_field(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    (ctx.raw / "kkbm-mapping.yaml").write_text('version: 1\ncolumns:\n  "Tgl": joined_date\n')
    ctx.checks.append(lambda run: "joined_on" in run.printed)


@case(2)
def mapping_unknown_table(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    (ctx.raw / "kkbm-mapping.yaml").write_text('version: 1\nfiles:\n  - file: "*.csv"\n    table: member\n')
    ctx.checks.append(lambda run: "members" in run.printed)


@case(2)
def mapping_version_from_the_future(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    (ctx.raw / "kkbm-mapping.yaml").write_text("version: 2\n")


@case(2)
def mapping_named_but_missing(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.args += ["--mapping", str(ctx.outside / "nope.yaml")]


@case(2)
def mapping_field_of_another_table(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    (ctx.raw / "kkbm-mapping.yaml").write_text(
        'version: 1\nfiles:\n  - file: "*.csv"\n    table: communities\n    columns: {"Nama KKBM": joined_on}\n')


@case(2)
def no_pseudonym_key_for_real_data(ctx):
    write_csv(ctx.raw / "anggota.csv", members_table())
    ctx.env["KKBM_PSEUDONYM_KEY"] = None
    ctx.checks.append(lambda run: "pseudonym key" in run.printed)


@case(2)
def copied_demo_marker_does_not_unlock_the_demo_key(ctx):
    write_csv(ctx.raw / "SYNTHETIC_anggota.csv", members_table())
    (ctx.raw / "SYNTHETIC.json").write_text(json.dumps({"generator": "kkbm_analysis.synth", "sha256": {}}))
    ctx.env["KKBM_PSEUDONYM_KEY"] = None


@case(2)
def bad_reference_date(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.args += ["--as-of", "31/12/2025"]


# --------------------------------------------------------------------------- what gets read
@case(0, **{"komunitas.csv.gz": "read"})
def gzipped_csv_is_read(ctx):
    write_gz(ctx.raw / "komunitas.csv.gz", communities_table())
    ctx.checks.append(lambda run: len(run.table("communities")) == 2)


@case(0, **{"penempatan.xlsb": "read"})
def xlsb_workbook_is_read(ctx):
    write_xlsb(ctx.raw / "penempatan.xlsb", {"Data": [["Tahun", "Provinsi", "Jumlah Penempatan"],
                                                       [2019, "Banten", 12], [2020, "Jawa Timur", 30]]})
    ctx.checks.append(lambda run: run.table("placements")["placements"].sum() == 42)


@case(1, **{"rusak.xlsb": "unreadable"})
def xlsb_that_crashes_the_reader_is_unreadable(ctx):
    write_xlsb(ctx.raw / "rusak.xlsb", {"Data": [["Tahun", "Provinsi"], [2019, "Banten"]]}, broken=True)
    write_csv(ctx.raw / "komunitas.csv", communities_table())


@case(1, **{"luas.xlsb::Data": "unreadable"})
def xlsb_with_a_huge_used_area_is_refused_not_read(ctx):
    write_xlsb(ctx.raw / "luas.xlsb", {"Data": [["Tahun", "Provinsi"], [2019, "Banten"]]},
               dimension=(1_048_575, 16_383))
    write_csv(ctx.raw / "komunitas.csv", communities_table())


@case(0, **{"catatan.json": "unsupported", "komunitas.csv": "read"})
def json_is_listed_as_unsupported(ctx):
    (ctx.raw / "catatan.json").write_text('{"note": "Siti Aminah Zulkarnaen 081234567890"}')
    write_csv(ctx.raw / "komunitas.csv", communities_table())


@case(0, **{"DATA": "unsupported"})
def file_without_a_suffix_is_listed(ctx):
    write_csv(ctx.raw / "DATA", members_table())
    write_csv(ctx.raw / "komunitas.csv", communities_table())


@case(0, **{"_komunitas.csv": "read"})
def underscore_names_are_read(ctx):
    write_csv(ctx.raw / "_komunitas.csv", communities_table())


@case(0, **{"README.md": "unsupported"})
def readme_is_listed(ctx):
    (ctx.raw / "README.md").write_text("# Data desa\nKontak: Siti Aminah Zulkarnaen, 081234567890\n")
    write_csv(ctx.raw / "komunitas.csv", communities_table())


@case(0, **{"expected_results.csv": "read", "expected_quarantine.csv": "excluded"})
def demo_metadata_names_are_excluded_and_said(ctx):
    write_csv(ctx.raw / "expected_results.csv", communities_table())
    write_csv(ctx.raw / "expected_quarantine.csv", [["file", "row"], ["x.csv", 2]])


@case(0, **{"expected_quarantine.csv": "read"})
def include_reads_a_file_a_default_rule_leaves_out(ctx):
    write_csv(ctx.raw / "expected_quarantine.csv", communities_table())
    (ctx.raw / "kkbm-mapping.yaml").write_text('version: 1\ninclude: ["expected_quarantine.csv"]\n')


@case(0, **{"..csv": "excluded", ".DS_Store": "excluded", "~$rekap.xlsx": "excluded"})
def hidden_and_lock_files_are_listed(ctx):
    write_csv(ctx.raw / "..csv", members_table())
    (ctx.raw / ".DS_Store").write_bytes(b"\x00\x01")
    (ctx.raw / "~$rekap.xlsx").write_bytes(b"lock")
    write_csv(ctx.raw / "komunitas.csv", communities_table())


@case(1, **{"passwd.csv": "refused"})
def symlink_out_of_the_raw_folder_is_refused(ctx):
    secret = ctx.outside / "passwd"
    secret.write_text("root:x:0:0:Siti Aminah Zulkarnaen:/root:/bin/bash\n")
    (ctx.raw / "passwd.csv").symlink_to(secret)
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: "root:x" not in run.quarantine().to_string())


@case(1)
def symlinked_folder_out_of_the_raw_folder_is_refused(ctx):
    other = ctx.outside / "other"
    write_csv(other / "anggota.csv", members_table())
    (ctx.raw / "desa2").symlink_to(other, target_is_directory=True)
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    expect(ctx, {"desa2": "refused"})


@case(0, **{"salinan.csv": "excluded", "komunitas.csv": "read"})
def symlink_inside_the_raw_folder_is_read_once(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    (ctx.raw / "salinan.csv").symlink_to(ctx.raw / "komunitas.csv")
    ctx.checks.append(lambda run: len(run.table("communities")) == 2)


@case(0, **{"antrian": "unsupported"})
def named_pipe_is_never_opened(ctx):
    os.mkfifo(ctx.raw / "antrian")
    write_csv(ctx.raw / "komunitas.csv", communities_table())


@case(0, **{"arsip.zip": "unsupported"})
def zip_archive_is_listed_with_a_hint(ctx):
    import zipfile
    with zipfile.ZipFile(ctx.raw / "arsip.zip", "w") as zf:
        zf.writestr("anggota.csv", "NIK,Nama\n3604135203850001,Siti Aminah Zulkarnaen\n")
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: "unpack" in run.accounting().set_index("file").loc["arsip.zip", "reason"])


@case(0, **{"kosong.csv": "empty", "komunitas.csv": "read"})
def empty_file_is_listed(ctx):
    (ctx.raw / "kosong.csv").write_bytes(b"")
    write_csv(ctx.raw / "komunitas.csv", communities_table())


@case(1, **{"rusak.xlsx": "unreadable"})
def corrupt_workbook_is_unreadable(ctx):
    (ctx.raw / "rusak.xlsx").write_bytes(b"PK\x03\x04" + b"not a workbook " * 20)
    write_csv(ctx.raw / "komunitas.csv", communities_table())


@case(1, **{"anggota.xls": "unreadable"})
def csv_saved_under_an_excel_name(ctx):
    write_csv(ctx.raw / "anggota.xls", members_table())
    write_csv(ctx.raw / "komunitas.csv", communities_table())


@case(0, **{"anggota.xlsx::Anggota": "read"})
def stray_cell_far_away_does_not_crash(ctx):
    write_xlsx(ctx.raw / "anggota.xlsx", {"Anggota": members_table()}, cells={"Anggota": {"XFD1048576": "x"}})
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: len(run.table("members")) == 4)
    ctx.checks.append(lambda run: "stray_cells_ignored" in set(run.notes()["rule"]))


@case(1)
def formula_without_a_saved_result_is_noted(ctx):
    rows = [["Tahun", "Provinsi", "Jumlah Penempatan"], [2019, "Banten", 12], [2020, "Banten", "=B2*2"]]
    write_xlsx(ctx.raw / "penempatan.xlsx", {"Data": rows})
    ctx.checks.append(lambda run: "formula_without_value" in set(run.notes()["rule"]))


@case(0, **{"rekap.xlsx::Kosong": "empty", "rekap.xlsx::Catatan": "no_table", "rekap.xlsx::Komunitas": "read"})
def empty_and_notes_sheets_have_fates(ctx):
    write_xlsx(ctx.raw / "rekap.xlsx", {"Komunitas": communities_table(), "Kosong": [],
                                        "Catatan": [["Data ini dikumpulkan oleh Siti Aminah Zulkarnaen."],
                                                    ["Hubungi 081234567890 bila ada pertanyaan."]]})


@case(1, **{"angka.xlsx::Lembar1": "not_understood"})
def table_without_any_header_is_not_understood(ctx):
    write_xlsx(ctx.raw / "angka.xlsx", {"Lembar1": [[i, i * 2, i * 3, i * 4] for i in range(1, 12)]})
    write_csv(ctx.raw / "komunitas.csv", communities_table())


# --------------------------------------------------------------------------- where the header is
@case(0, **{"anggota.xlsx::Anggota": "read"})
def header_deep_in_the_sheet(ctx):
    notes = [[f"Catatan {i}: data dikumpulkan dari kader desa."] for i in range(44)]
    write_xlsx(ctx.raw / "anggota.xlsx", {"Anggota": notes + members_table()})
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: len(run.table("members")) == 4)


@case(0, **{"anggota.csv": "read"})
def utf16_without_a_bom(ctx):
    write_csv(ctx.raw / "anggota.csv", members_table(), sep="\t", encoding="utf-16-le")
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: len(run.table("members")) == 4)


@case(0, **{"anggota.csv": "read"})
def utf16_with_a_bom(ctx):
    write_csv(ctx.raw / "anggota.csv", members_table(), sep="\t", encoding="utf-16")
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: len(run.table("members")) == 4)


@case(0)
def windows_1252_semicolons(ctx):
    rows = communities_table()
    rows[1][1] = "KKBM Lontar Séjahtera"
    write_csv(ctx.raw / "komunitas.csv", rows, sep=";", encoding="cp1252", newline="\r\n")
    ctx.checks.append(lambda run: "Séjahtera" in run.table("communities")["community_name"].iloc[0])


@case(0)
def header_written_with_another_delimiter(ctx):
    text = ";".join(MEMBER_HEADER) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in member_rows())
    (ctx.raw / "anggota.csv").write_text(text, encoding="utf-8")
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: len(run.table("members")) == 4)


@case(0)
def numbered_row_above_the_header(ctx):
    write_xlsx(ctx.raw / "anggota.xlsx", {"Anggota": [list(range(1, 10))] + members_table()})
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: len(run.table("members")) == 4)


@case(0)
def column_numbers_under_the_header(ctx):
    rows = [MEMBER_HEADER, [f"({i})" for i in range(1, 10)], *member_rows()]
    write_xlsx(ctx.raw / "anggota.xlsx", {"Anggota": rows})
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: len(run.table("members")) == 4)
    ctx.checks.append(lambda run: run.accounting().set_index("file").loc["anggota.xlsx", "skipped_other"] == 1)


@case(0)
def two_row_header_under_merged_cells(ctx):
    top = ["No", "NIK", "Nama", "No HP", "Kode KKBM", "Status", "Jenis Kelamin", "Tanggal", None]
    low = [None, None, None, None, None, None, None, "Lahir", "Bergabung"]
    write_xlsx(ctx.raw / "anggota.xlsx", {"Anggota": [top, low, *member_rows()]},
               titles={"Anggota": ["REKAP ANGGOTA KKBM LONTAR", "Tahun 2017"]},
               merges={"Anggota": ["H3:I3", "A3:A4", "B3:B4"]})
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: run.table("members")["joined_on"].notna().all())
    ctx.checks.append(lambda run: len(run.table("members")) == 4)


@case(0)
def title_block_with_merged_title(ctx):
    write_xlsx(ctx.raw / "komunitas.xlsx", {"Profil KKBM": communities_table()},
               titles={"Profil KKBM": ["PROFIL KKBM PROVINSI BANTEN", "Dibuat oleh: Siti Aminah Zulkarnaen",
                                       "", "Kontak 081234567890"]},
               merges={"Profil KKBM": ["A1:H1"]}, start_row=6)
    ctx.checks.append(lambda run: len(run.table("communities")) == 2)


@case(0)
def one_sheet_per_village_with_the_village_from_the_sheet_name(ctx):
    sheets = {"Lontar": [MEMBER_HEADER, *member_rows(2)], "Tirtayasa": [MEMBER_HEADER, *member_rows(4)[2:]]}
    write_xlsx(ctx.raw / "anggota_per_desa.xlsx", sheets)
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    (ctx.raw / "kkbm-mapping.yaml").write_text(
        'version: 1\nfiles:\n  - file: "anggota_per_desa.xlsx"\n    table: members\n'
        '    constants: {village: "{sheet}", district: Tirtayasa}\n')
    ctx.checks.append(lambda run: set(run.table("members")["village_code"]) == {"36.04.13.2007", "36.04.13.2001"})


@case(0)
def wide_yearly_table_reshaped_by_the_mapping(ctx):
    rows = [["Provinsi", "2019", "2020", "2021"], ["Banten", 10, 12, 14], ["Jawa Timur", 20, None, 25],
            ["INDONESIA", 30, 12, 39]]
    write_xlsx(ctx.raw / "penempatan.xlsx", {"Penempatan": rows},
               titles={"Penempatan": ["PENEMPATAN PMI MENURUT PROVINSI", "Sumber: BP2MI"]})
    (ctx.raw / "kkbm-mapping.yaml").write_text(
        'version: 1\nfiles:\n  - file: "penempatan.xlsx"\n    table: placements\n'
        '    reshape: {columns: ["20??"], to: year, value: placements}\n')
    ctx.checks.append(lambda run: len(run.table("placements")) == 5 and run.table("placements")["placements"].sum() == 81)
    ctx.checks.append(lambda run: run.accounting()["skipped_totals"].sum() == 1)
    ctx.checks.append(lambda run: "sum_check" not in set(run.notes()["rule"]))


@case(1)
def wide_yearly_table_without_a_mapping_says_how(ctx):
    write_csv(ctx.raw / "penempatan.csv", [["Provinsi", "Tahun", "2019", "2020"], ["Banten", "", 10, 12]])
    ctx.checks.append(lambda run: "reshape" in " ".join(run.quarantine()["message"]))


@case(0)
def totals_row_in_a_placements_table_is_not_a_country(ctx):
    rows = [["Tahun", "Provinsi", "Negara Tujuan", "Jumlah Penempatan"], [2019, "Banten", "Malaysia", 120],
            [2019, "Banten", "Taiwan", 80], [2019, "Banten", "TOTAL (reported)", 200]]
    write_csv(ctx.raw / "penempatan.csv", rows)
    ctx.checks.append(lambda run: set(run.table("placements")["destination_country"]) == {"Malaysia", "Taiwan"})


@case(0)
def totals_that_do_not_add_up_are_a_note(ctx):
    rows = [["Tahun", "Provinsi", "Jumlah Penempatan"], [2019, "Banten", 120], [2019, "Jawa Timur", 80],
            ["Jumlah", "", 250]]
    write_csv(ctx.raw / "penempatan.csv", rows)
    ctx.checks.append(lambda run: "sum_check" in set(run.notes()["rule"]))
    ctx.checks.append(lambda run: "250" in " ".join(run.notes()["message"]))


@case(0)
def footer_and_signature_block_are_skipped(ctx):
    rows = [*communities_table(), [None] * 8, ["Sumber: Dinas Tenaga Kerja"],
            [None, None, None, None, None, "Mengetahui,"], [None, None, None, None, None, "Siti Aminah Zulkarnaen"]]
    write_xlsx(ctx.raw / "komunitas.xlsx", {"Komunitas": rows})
    ctx.checks.append(lambda run: len(run.table("communities")) == 2)
    ctx.checks.append(lambda run: run.accounting()["skipped_footer"].sum() == 3)


@case(0)
def header_repeated_on_every_page(ctx):
    rows = [MEMBER_HEADER, *member_rows(2), MEMBER_HEADER, *member_rows(4)[2:]]
    write_xlsx(ctx.raw / "anggota.xlsx", {"Anggota": rows})
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: len(run.table("members")) == 4)


# --------------------------------------------------------------------------- identifiers
@case(0)
def english_headers(ctx):
    header = ["No", "NIK", "Full Name", "Phone", "Community ID", "Status", "Sex", "Date of birth", "Date joined",
              "E-mail", "Address"]
    rows = [r + [EMAILS[i], ADDRESSES[i]] for i, r in enumerate(member_rows())]
    write_csv(ctx.raw / "members.csv", [header, *rows])
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: len(run.table("members")) == 4)


@case(0)
def nik_header_with_a_note_and_phone_header_with_a_slash(ctx):
    header = ["No", "NIK (16 digit)", "Nama Lengkap", "No. HP/WA", "Kode KKBM", "Status", "JK", "Tgl Lahir",
              "Tgl Bergabung"]
    write_csv(ctx.raw / "anggota.csv", [header, *member_rows()])
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: len(run.table("members")) == 4)


@case(1)
def second_ktp_column_is_an_identifier_too(ctx):
    header = MEMBER_HEADER + ["No KTP", "No KTP"]
    rows = [r + [NIKS[i], NIKS[(i + 1) % 4]] for i, r in enumerate(member_rows())]
    rows[1][6] = "purnaa"  # one bad row, so values land in the quarantine
    write_csv(ctx.raw / "anggota.csv", [header, *rows])
    write_csv(ctx.raw / "komunitas.csv", communities_table())


@case(1)
def column_shift_moves_a_phone_into_status(ctx):
    rows = member_rows()
    rows[2] = [3, NIKS[2], NAMES[2], "", PHONES[2], "K1", STATUS[2], SEX[2], BIRTH_DATES[2], JOINED[2]]
    write_csv(ctx.raw / "anggota.csv", [MEMBER_HEADER, *rows])
    write_csv(ctx.raw / "komunitas.csv", communities_table())


@case(1)
def column_shift_moves_a_name_into_sex_and_a_passport_into_joined(ctx):
    rows = member_rows()
    rows[1] = [2, NIKS[1], "", PHONES[1], "K1", STATUS[1], NAMES[1], BIRTH_DATES[1], PASSPORTS[1]]
    write_xlsx(ctx.raw / "anggota.xlsx", {"Anggota": [MEMBER_HEADER, *rows]})
    write_csv(ctx.raw / "komunitas.csv", communities_table())


@case(1)
def phone_typed_into_the_joining_date(ctx):
    rows = members_table()
    rows[1][8] = PHONES[1]
    write_csv(ctx.raw / "anggota.csv", rows)
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: "invalid_date" in set(run.quarantine()["rule"]))


@case(1)
def email_typed_into_the_status(ctx):
    rows = members_table()
    rows[2][5] = EMAILS[2]
    write_csv(ctx.raw / "anggota.csv", rows)
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: "invalid_category" in set(run.quarantine()["rule"]))


@case(1)
def nik_typed_into_the_community_code(ctx):
    rows = members_table()
    rows[3][4] = NIKS[3]
    write_csv(ctx.raw / "anggota.csv", rows)
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: "unknown_reference" in set(run.quarantine()["rule"]))


@case(1)
def name_typed_into_the_sex_column(ctx):
    rows = members_table()
    rows[1][6] = NAMES[3]
    write_xlsx(ctx.raw / "anggota.xlsx", {"Anggota": rows})
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: "invalid_category" in set(run.quarantine()["rule"]))


@case(1)
def passport_typed_into_an_amount(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    write_csv(ctx.raw / "anggota.csv", members_table())
    header = ["No Pengajuan", "NIK Debitur", "Bank", "Tanggal Pengajuan", "Disetujui", "Tanggal Persetujuan",
              "Plafon (Rp)"]
    rows = [["L1", NIKS[0], "BRI", "01/06/2017", "Ya", "15/06/2017", PASSPORTS[2]]]
    write_csv(ctx.raw / "kur.csv", [header, *rows])
    ctx.checks.append(lambda run: "invalid_number" in set(run.quarantine()["rule"]))


@case(1)
def address_typed_into_the_village(ctx):
    header = MEMBER_HEADER + ["Desa"]
    rows = [r + ["Lontar"] for r in member_rows()]
    rows[0][9] = ADDRESSES[1]
    write_csv(ctx.raw / "anggota.csv", [header, *rows])
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: "unknown_region" in set(run.quarantine()["rule"]))


@case(1)
def free_text_remarks_with_a_phone_and_a_name(ctx):
    header = MEMBER_HEADER + ["Keterangan"]
    rows = [r + [f"hubungi {NAMES[i]} di {PHONES[i]} / {EMAILS[i]}"] for i, r in enumerate(member_rows())]
    rows[0][8] = "kemarin"  # a bad date: the row goes to the quarantine
    write_csv(ctx.raw / "anggota.csv", [header, *rows])
    write_csv(ctx.raw / "komunitas.csv", communities_table())


@case(1)
def birth_dates_in_quarantined_rows_become_years(ctx):
    rows = member_rows()
    for r in rows:
        r[8] = "bulan lalu"  # every joining date is bad
    write_csv(ctx.raw / "anggota.csv", [MEMBER_HEADER, *rows])
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: "1985" in " ".join(run.quarantine()["values"]))


@case(1)
def names_in_a_sheet_no_table_fits(ctx):
    rows = [["Nama Pengurus", "Jabatan Di Desa", "Telepon Kantor"],
            *[[NAMES[i], "Sekretaris", PHONES[i]] for i in range(4)]]
    write_csv(ctx.raw / "pengurus_desa.csv", rows)
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: set(run.quarantine()["rule"]) == {"unrecognised_sheet"})


@case(1)
def misdetected_header_made_of_a_data_row(ctx):
    rows = [[NIKS[i], NAMES[i], PHONES[i], "K1", STATUS[i]] for i in range(4)]
    write_csv(ctx.raw / "anggota.csv", rows)
    write_csv(ctx.raw / "komunitas.csv", communities_table())


@case(0)
def nik_stored_as_an_excel_number(ctx):
    rows = members_table()
    for r in rows[1:]:
        r[1] = int(r[1])
    write_xlsx(ctx.raw / "anggota.xlsx", {"Anggota": rows})
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: run.table("members")["member_id"].str.startswith("M").all())


@case(1)
def kobo_export_with_names(ctx):
    header = ["start", "end", "grp_identitas/kode_kkbm", "grp_identitas/nik_pmi", "grp_identitas/nama_pmi",
              "grp_identitas/no_hp", "grp_kasus/jenis_kasus", "grp_kasus/tanggal_pengaduan",
              "grp_kasus/hasil_penanganan", "_id", "_uuid", "_submission_time"]
    rows = [[None, None, "K1", NIKS[i], NAMES[i], PHONES[i], "gaji" if i else "gaji telat", "2019-03-01",
             "selesai", i, f"uuid-{i}", "2019-03-02T10:00:00"] for i in range(4)]
    write_csv(ctx.raw / "kobo_advokasi.csv", [header, *rows])
    write_csv(ctx.raw / "komunitas.csv", communities_table())


@case(0)
def readme_mapping_example_works(ctx):
    header = ["No", "No. Induk Kependudukan", "Nama", "Kode KKBM", "Status", "JK", "Tgl Gabung", "Catatan"]
    rows = [[i + 1, NIKS[i], NAMES[i], "K1", STATUS[i], SEX[i], JOINED[i], f"hp {PHONES[i]}"] for i in range(4)]
    write_xlsx(ctx.raw / "rekap_2019.xlsx", {"Sheet1": [["REKAP 2019"], [], [], header, *rows]})
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    (ctx.raw / "kkbm-mapping.yaml").write_text(
        'exclude: ["arsip/*"]\ncolumns:\n  "No. Induk Kependudukan": member_id\nfiles:\n'
        '  - pattern: "rekap_*.xlsx"\n    sheet: "Sheet1"\n    table: members\n    header_row: 4\n'
        '    columns:\n      "Tgl Gabung": joined_on\n      "Catatan": drop\n')
    ctx.checks.append(lambda run: len(run.table("members")) == 4)


# --------------------------------------------------------------------------- values and messages
@case(1)
def excel_zero_and_1900_dates_are_not_joining_dates(ctx):
    rows = members_table()
    rows[1][8], rows[2][8], rows[3][8] = 0, 1, 60
    write_xlsx(ctx.raw / "anggota.xlsx", {"Anggota": rows})
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: {"implausible_date", "invalid_date"} >= set(run.quarantine()["rule"])
                      and (run.quarantine()["rule"] == "implausible_date").sum() == 2)


@case(1)
def dates_in_1899_and_1900_written_as_text(ctx):
    rows = members_table()
    rows[1][8], rows[2][8] = "30/12/1899", "01/01/1900"
    write_csv(ctx.raw / "anggota.csv", rows)
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: (run.quarantine()["rule"] == "implausible_date").sum() == 2)


@case(1)
def formula_like_names_are_escaped_in_csv_outputs(ctx):
    rows = [["=HYPERLINK(\"http://x\")", "Kode KKBM", "Nama KKBM"], ["1", "K1", "x"]]
    write_xlsx(ctx.raw / "=cmd.xlsx", {"=SUM(A1)": rows, "@data": [["+62", "-1"], ["a", "b"]]})
    write_csv(ctx.raw / "komunitas.csv", communities_table())

    def no_formula(run: Run) -> None:
        for name in ("quarantine.csv", "ingest_notes.csv", "accounting.csv"):
            frame = pd.read_csv(run.out / name, dtype=str, keep_default_na=False)
            cells = [str(v) for v in frame.to_numpy().ravel()] + list(frame.columns)
            assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], name
    ctx.checks.append(no_formula)


@case(1)
def negative_amount_message_for_people(ctx):
    rows = [["Tahun", "Provinsi", "Jumlah Penempatan"], [2019, "Banten", "-250.000"], [2020, "Banten", 12]]
    write_csv(ctx.raw / "penempatan.csv", rows)
    ctx.checks.append(lambda run: "-250.000 is negative; placements must be 0 or more"
                      in " ".join(run.quarantine()["message"]))


@case(1)
def duplicate_points_to_the_earlier_row(ctx):
    rows = members_table()
    rows.append([5, *rows[1][1:]])
    write_csv(ctx.raw / "anggota.csv", rows)
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: "row 2 of anggota.csv" in " ".join(run.quarantine()["message"]))


@case(1)
def close_category_gets_a_suggestion_with_indonesian_labels(ctx):
    rows = members_table()
    rows[1][5] = "purnaa"
    write_csv(ctx.raw / "anggota.csv", rows)
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: "did you mean 'purna'" in " ".join(run.quarantine()["message"])
                      and "PMI purna" in " ".join(run.quarantine()["message"]))


@case(0)
def recode_in_the_mapping_fixes_a_category(ctx):
    rows = members_table()
    rows[1][5] = "Mantan TKW"
    write_csv(ctx.raw / "anggota.csv", rows)
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    (ctx.raw / "kkbm-mapping.yaml").write_text('version: 1\nrecode:\n  status: {"Mantan TKW": pmi_purna}\n')


@case(0)
def business_sectors_with_everyday_words(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    header = ["Kode Usaha", "Kode KKBM", "Kode Kelompok", "Bidang Usaha", "Tanggal Mulai Usaha", "Status Usaha"]
    rows = [["U1", "K1", "G1", "Ternak kambing", "01/05/2018", "Aktif"],
            ["U2", "K1", "G1", "Warung sembako", "01/06/2018", "Aktif"]]
    write_csv(ctx.raw / "usaha.csv", [header, *rows])
    ctx.checks.append(lambda run: list(run.table("businesses")["sector"]) == ["livestock", "trade"])


@case(0)
def field_names_as_headers(ctx):
    header = ["member_id", "community_id", "status", "sex", "birth_year", "destination_country", "joined_on"]
    rows = [[NIKS[i], "K1", STATUS[i], SEX[i], 1985, "Malaysia", JOINED[i]] for i in range(4)]
    write_csv(ctx.raw / "anggota.csv", [header, *rows])
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: set(run.table("members")["destination_country"]) == {"Malaysia"})


@case(1)
def drop_really_drops(ctx):
    header = MEMBER_HEADER + ["Catatan"]
    rows = [r + [f"alamat {ADDRESSES[i]}"] for i, r in enumerate(member_rows())]
    rows[0][5] = "???"
    write_csv(ctx.raw / "anggota.csv", [header, *rows])
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    (ctx.raw / "kkbm-mapping.yaml").write_text('version: 1\nfiles:\n  - file: anggota.csv\n    drop: [Catatan]\n')
    ctx.checks.append(lambda run: "Catatan" not in " ".join(run.quarantine()["values"])
                      and "column_dropped" in set(run.notes()["rule"]))


@case(0)
def skip_rows_in_the_mapping(ctx):
    rows = [*members_table(), [9, "contoh", "contoh pengisian", "", "K9", "?", "?", "?", "?"]]
    write_csv(ctx.raw / "anggota.csv", rows)
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    (ctx.raw / "kkbm-mapping.yaml").write_text('version: 1\nfiles:\n  - file: anggota.csv\n    skip_rows: ["6"]\n')
    ctx.checks.append(lambda run: run.accounting().set_index("file").loc["anggota.csv", "skipped_other"] == 1)


@case(0)
def constant_community_for_the_whole_sheet(ctx):
    header = [h for h in MEMBER_HEADER if h != "Kode KKBM"]
    rows = [[v for j, v in enumerate(r) if j != 4] for r in member_rows()]
    write_csv(ctx.raw / "anggota_lontar.csv", [header, *rows])
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    (ctx.raw / "kkbm-mapping.yaml").write_text(
        'version: 1\nfiles:\n  - file: anggota_lontar.csv\n    constants: {community_id: K1}\n')
    ctx.checks.append(lambda run: set(run.table("members")["community_id"]) == {"K1"})


@case(1)
def members_keep_their_village_and_an_unknown_one_is_caught(ctx):
    header = MEMBER_HEADER + ["Desa"]
    rows = [r + [v] for r, v in zip(member_rows(), ["Lontar", "Lontar", "Desa Tidak Ada Sama Sekali", "Lontar"])]
    write_csv(ctx.raw / "anggota.csv", [header, *rows])
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.checks.append(lambda run: set(run.table("members")["village_code"]) == {"36.04.13.2007"})
    ctx.checks.append(lambda run: "unknown_region" in set(run.quarantine()["rule"]))


@case(1)
def missing_column_points_to_the_mapping_line(ctx):
    header = [h if h != "Tanggal Bergabung" else "Tgl Gabung KKBM" for h in MEMBER_HEADER]
    write_csv(ctx.raw / "anggota.csv", [header, *member_rows()])
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    (ctx.raw / "kkbm-mapping.yaml").write_text('version: 1\nfiles:\n  - file: anggota.csv\n    table: members\n')
    ctx.checks.append(lambda run: "line 3" in run.quarantine()["message"].iloc[0]
                      and '"Tgl Gabung KKBM": joined_on' in run.quarantine()["message"].iloc[0])


@case(0)
def communities_with_a_leading_number_column(ctx):
    write_csv(ctx.raw / "komunitas.csv", [["No", *COMMUNITY_HEADER], *[[i + 1, *r] for i, r in
                                                                         enumerate(COMMUNITY_ROWS)]])
    ctx.checks.append(lambda run: len(run.table("communities")) == 2)


@case(1)
def placements_without_a_region_column(ctx):
    write_csv(ctx.raw / "penempatan.csv", [["year", "placements"], [2023, 5]])


@case(1)
def duplicate_key_with_empty_parts(ctx):
    rows = [["Tahun", "Provinsi", "Jenis Kelamin", "Jumlah Penempatan"], [2019, "Banten", "", 5],
            [2019, "Banten", "", 7]]
    write_csv(ctx.raw / "penempatan.csv", rows)
    ctx.checks.append(lambda run: "duplicate_key" in set(run.quarantine()["rule"]))


@case(0)
def departures_and_village_regulations_with_numbers(ctx):
    write_csv(ctx.raw / "perdes.csv", [["No", "Provinsi", "Kabupaten/Kota", "Kecamatan", "Desa", "Judul Perdes",
                                        "Tanggal Ditetapkan"],
                                       [1, "Banten", "Kab. Serang", "Tirtayasa", "Lontar", "Perdes 3/2018", "01/06/2018"]])
    write_csv(ctx.raw / "keberangkatan.csv", [["No", "Provinsi", "Kabupaten/Kota", "Kecamatan", "Desa", "Bulan",
                                               "Berangkat Prosedural", "Berangkat Non Prosedural"],
                                              [1, "Banten", "Kab. Serang", "Tirtayasa", "Lontar", "Jan-19", 3, 1]])


@case(1)
def every_cell_is_odd(ctx):
    rows = members_table()
    rows[1] = [1, "", "", "", "", "", "", "", "x"]
    rows[2] = [2, "12", NAMES[2], "", "K1", "", "?", "2050", "31/02/2019"]
    write_csv(ctx.raw / "anggota.csv", rows)
    write_csv(ctx.raw / "komunitas.csv", communities_table())


@case(1)
def bad_rows_in_a_kur_sheet(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    write_csv(ctx.raw / "anggota.csv", members_table())
    header = ["No Pengajuan", "NIK Debitur", "Nama Debitur", "Bank", "Tanggal Pengajuan", "Disetujui",
              "Tanggal Persetujuan", "Plafon (Rp)"]
    rows = [["L1", NIKS[0], NAMES[0], "BRI", "01/06/2017", "Ya", "15/06/2017", "Rp 10.000.000"],
            ["L2", NIKS[1], NAMES[1], "BRI", "01/07/2017", "mungkin", "", ""],
            ["L3", "3604139999990009", "Orang Lain", "BNI", "01/07/2017", "Ya", "01/08/2017", "Rp 600.000.000"]]
    write_csv(ctx.raw / "kur.csv", [header, *rows], sep=";", encoding="cp1252")


# --------------------------------------------------------------------------- the demo key
@case(0)
def synthetic_file_name_in_a_real_folder_uses_the_configured_key(ctx):
    write_csv(ctx.raw / "SYNTHETIC_anggota.csv", members_table())
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    (ctx.raw / "SYNTHETIC.json").write_text(json.dumps({"generator": "kkbm_analysis.synth"}))
    ctx.checks.append(lambda run: run.manifest()["pseudonym_key_id"] != "demo"
                      and run.manifest()["synthetic"] is False)


# --------------------------------------------------------------------------- processed data for reports
def _processed(ctx: Ctx, tables: tuple[str, ...] = ("communities",)) -> Path:
    from kkbm_analysis.ingest import ingest
    from kkbm_analysis.privacy import PseudonymKey
    src = ctx.outside / "src"
    write_csv(src / "komunitas.csv", communities_table())
    if "members" in tables:
        write_csv(src / "anggota.csv", members_table())
    folder = ctx.work / "project" / "data" / "processed" / "x"
    ingest(src, folder, key=PseudonymKey(KEY.encode()))
    return folder


@case(2)
def reports_on_an_empty_folder(ctx):
    folder = ctx.work / "project" / "data" / "processed" / "kosong"
    folder.mkdir(parents=True)
    ctx.command, ctx.args = "reports", []
    ctx.raw, ctx.checks = folder, [lambda run: "not a processed data folder" in run.printed]


@case(1)
def reports_without_members(ctx):
    folder = _processed(ctx)
    ctx.command, ctx.args, ctx.raw = "reports", ["--no-pdf"], folder
    ctx.checks.append(lambda run: "no members" in run.printed)


@case(1)
def reports_on_a_truncated_table(ctx):
    folder = _processed(ctx, ("communities", "members"))
    part = store.table_files(folder, "members")[0]
    data = part.read_bytes()
    part.write_bytes(data[: len(data) // 2])
    ctx.command, ctx.args, ctx.raw = "reports", ["--no-pdf"], folder
    ctx.checks.append(lambda run: "damaged or truncated" in run.printed)


@case(1)
def reports_when_a_listed_table_is_missing(ctx):
    folder = _processed(ctx, ("communities", "members"))
    members = store.table_location(folder, "members")
    shutil.rmtree(members) if members.is_dir() else members.unlink()
    ctx.command, ctx.args, ctx.raw = "analyse", [], folder
    ctx.checks.append(lambda run: "incomplete" in run.printed)


@case(2)
def analyse_a_folder_that_is_not_processed(ctx):
    write_csv(ctx.raw / "komunitas.csv", communities_table())
    ctx.command, ctx.args = "analyse", []


# --------------------------------------------------------------------------- inspect
def _messy_workbook(raw: Path) -> None:
    header = ["No.", "NIK (16 digit)", "Nama Lengkap", "No. HP/WA", "Kode Komunitas KKBM", "Status Anggota",
              "Jenis Kel.", "Tgl. Lahir", "Tgl. Gabung KKBM", "Keterangan"]
    rows = [[i + 1, NIKS[i], NAMES[i], PHONES[i], "K1", STATUS[i], SEX[i], BIRTH_DATES[i], JOINED[i],
             f"alamat {ADDRESSES[i]}"] for i in range(4)]
    write_xlsx(raw / "Data Anggota KKBM Lontar 2017.xlsx", {"Anggota": [header, *rows], "Catatan": [["isi oleh CO"]]},
               titles={"Anggota": ["DATA ANGGOTA KKBM LONTAR", "Desa Lontar, Kec. Tirtayasa", ""]})
    write_csv(raw / "komunitas.csv", communities_table())


@case(0)
def inspect_writes_a_draft_that_ingest_accepts(ctx):
    _messy_workbook(ctx.raw)
    draft = ctx.work / "draft.yaml"
    ctx.command, ctx.args = "inspect", ["--mapping-out", str(draft)]

    def ingest_with_draft(run: Run) -> None:
        from kkbm_analysis.ingest import ingest
        from kkbm_analysis.privacy import PseudonymKey
        result = ingest(run.ctx.raw, None, mapping=draft, key=PseudonymKey(KEY.encode()))
        assert len(result.tables["members"]) == 4, result.quarantine[["rule", "message"]].to_string()
        assert "CHECK" in draft.read_text()
    ctx.checks.append(ingest_with_draft)


@case(2)
def inspect_never_replaces_an_existing_file(ctx):
    _messy_workbook(ctx.raw)
    draft = ctx.outside / "kkbm-mapping.yaml"
    draft.write_text("# mine\n")
    ctx.command, ctx.args, ctx.untouched = "inspect", ["--mapping-out", str(draft)], [draft]


# --------------------------------------------------------------------------- internal errors
@case(3)
def internal_error_is_one_line_and_a_clean_log(ctx):
    import importlib
    write_csv(ctx.raw / "komunitas.csv", communities_table())

    def boom(*args, **kwargs):
        raise RuntimeError(f"unexpected '{NAMES[0]}' {NIKS[0]} {PHONES[1]}")
    ctx.patches.append((importlib.import_module("kkbm_analysis.sheetflow"), "build_table", boom))

    def one_line_and_a_clean_log(run: Run) -> None:
        logs = list((run.ctx.work / "logs").glob("*.log"))
        assert len(logs) == 1 and "RuntimeError" in logs[0].read_text()
        assert len([line for line in run.printed.splitlines() if line.strip()]) == 1
        assert str(logs[0]) in run.printed
    ctx.checks.append(one_line_and_a_clean_log)


# =========================================================================== the test
@pytest.mark.parametrize("c", CASES, ids=[c.name for c in CASES])
def test_corpus_case(c: Case, tmp_path, monkeypatch, capsys):
    run = run_case(c, tmp_path, monkeypatch, capsys)
    assert "Traceback" not in run.printed, run.printed
    assert run.code == c.exit, f"exit {run.code}, expected {c.exit}:\n{run.printed}"
    found = leaks({"printed": run.printed, **output_text(run.ctx.work)})
    assert not found, f"identifiers leaked: {found[:5]}"
    assert not (run.ctx.work / "logs").exists() or c.exit == 3, "an internal-error log was written"
    if run.wrote:
        acc = run.accounting()
        assert (acc.rows_read == acc.rows_accepted + acc.rows_quarantined + acc.rows_skipped).all()
        _check_fates(run, c.fates)
        listed = {i["file"].rstrip("/") for i in run.manifest()["inputs"]}
        for rel in snapshot(run.ctx.raw):
            assert any(rel == f or rel.startswith(f + "/") for f in listed), f"{rel} has no fate in the manifest"
    else:
        assert not c.fates, "expected fates but no output was written"
    for check in run.ctx.checks:
        check(run)


def test_the_corpus_is_large():
    assert len(CASES) >= 80
