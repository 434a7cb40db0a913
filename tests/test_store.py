"""The processed-folder layer: typed tables, plain errors for bad folders, safe atomic output, layering."""
from __future__ import annotations

import ast
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kkbm_analysis import store
from kkbm_analysis.data import ProgramData
from kkbm_analysis.ingest import ingest
from kkbm_analysis.privacy import PseudonymKey
from kkbm_analysis.store import OutputFolderError, ProcessedDataError

PACKAGE = Path(__file__).resolve().parents[1] / "kkbm_analysis"
KEY = PseudonymKey(b"store-test")
COMMUNITIES = ("Kode KKBM,Nama KKBM,Program,Provinsi,Kabupaten/Kota,Kecamatan,Desa/Kelurahan,Tanggal Pembentukan\n"
               "K1,KKBM Lontar,KKBM,Banten,Kab. Serang,Tirtayasa,Lontar,12/03/2017\n")
MEMBERS = ("NIK,Kode KKBM,Status,Jenis Kelamin,Tanggal Bergabung\n3604135203850001,K1,purna,P,01/04/2017\n")


@pytest.fixture
def processed(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "komunitas.csv").write_text(COMMUNITIES)
    (raw / "anggota.csv").write_text(MEMBERS)
    out = tmp_path / "processed"
    ingest(raw, out, key=KEY)
    return out


# --------------------------------------------------------------------------- conform
def test_conform_types_sorts_and_adds_optional_columns():
    df = pd.DataFrame({"member_id": ["b", "a"], "community_id": ["K1", "K1"], "status": ["pmi_purna", "keluarga"],
                       "sex": ["P", "L"], "joined_on": pd.to_datetime(["2017-01-02", "2017-01-01"]), "extra": [1, 2]})
    out = store.conform("members", df)
    assert list(out.columns) == store.TABLES["members"].columns
    assert list(out["member_id"]) == ["a", "b"]
    assert str(out["member_id"].dtype) == "string" and str(out["joined_on"].dtype) == "datetime64[ms]"
    assert out["village_code"].isna().all() and str(out["village_code"].dtype) == "string"
    with pytest.raises(KeyError, match="joined_on"):
        store.conform("members", df.drop(columns="joined_on"))


def test_conform_without_validation_types_accepted_rows_as_the_validation_does(tmp_path):
    """The ingest's finalise skips the second validation: its rows must come out the same."""
    from kkbm_analysis.spool import TableSpool

    df = pd.DataFrame({"member_id": ["b", "a", None], "community_id": ["K1", "K1", "K2"],
                       "status": ["pmi_purna", "keluarga", "pmi_aktif"], "sex": ["P", "L", None],
                       "joined_on": pd.to_datetime(["2017-01-02", "2017-01-01", "2018-03-04"]),
                       "birth_year": [1980, None, 1975]}).dropna(subset=["member_id"])
    spool = TableSpool(tmp_path, "members")
    typed = df.reindex(columns=list(store.column_dtypes("members"))).assign(_uid=range(len(df)))
    spool.write(typed, np.arange(len(df)))
    rows = spool.frame(spool.read())
    fast, checked = store.conform("members", rows, validate=False), store.conform("members", rows)
    pd.testing.assert_frame_equal(fast, checked)
    assert list(fast["member_id"]) == ["a", "b"] and str(fast["birth_year"].dtype) == "Int64"
    loose = df.astype({"birth_year": "float64", "member_id": object})  # types the validation would coerce
    pd.testing.assert_frame_equal(store.conform("members", loose, validate=False), checked)


def test_finalise_in_arrow_writes_the_bytes_conform_and_pandas_write(tmp_path):
    """The ingest sorts and writes its spooled rows in Arrow: the Parquet file must be byte-identical to
    the one a conformed frame gives (keys out of order, non-ASCII text, missing values, several batches)."""
    from kkbm_analysis.finalise import _conformed
    from kkbm_analysis.io import sha256, write_parquet
    from kkbm_analysis.spool import TableSpool

    ids = ["K-z", "K-é", "K-a", "K-Ω", "K-Z", "K-ab", "K-b"]
    df = pd.DataFrame({"member_id": ids, "community_id": ["K1", "K2", "K1", None, "K3", "K1", "K2"],
                       "status": ["pmi_purna", "keluarga", "pmi_aktif", "keluarga", None, "pmi_purna", "keluarga"],
                       "sex": ["P", "L", None, "P", "L", "P", "L"],
                       "joined_on": pd.to_datetime(["2017-01-02", None, "2018-03-04", "2019-05-06", "2017-01-01",
                                                    "2020-02-29", "2018-12-31"]),
                       "birth_year": [1980, None, 1975, 1990, None, 1985, 1970]})
    spool = TableSpool(tmp_path, "members")
    typed = df.reindex(columns=list(store.column_dtypes("members"))).assign(_uid=range(len(df)))
    for part in (typed.iloc[:3], typed.iloc[3:]):
        spool.write(part, np.arange(len(part)))
    rows = spool.read()
    write_parquet(_conformed("members", rows), tmp_path / "arrow.parquet", {"table": "members"})
    write_parquet(store.conform("members", spool.frame(rows), validate=False), tmp_path / "pandas.parquet",
                  {"table": "members"})
    assert sha256(tmp_path / "arrow.parquet") == sha256(tmp_path / "pandas.parquet")
    assert list(pd.read_parquet(tmp_path / "arrow.parquet")["member_id"]) == sorted(ids)


def test_rows_already_in_key_order_are_not_sorted_again_with_the_same_result():
    """Rows that come in key order skip the sort: on random two-key tables (ties on the first key, non-ASCII
    and prefix text, missing values, several chunks) the result equals Arrow's stable sort's, and a table out
    of order by one pair is sorted."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from kkbm_analysis.finalise import _in_key_order

    rng = np.random.default_rng(5)
    pool = np.array(["K-a", "K-ab", "K-b", "K-é", "K-Ω", "K-Z", "k-a", "K-"], dtype=object)
    keys = ("business_id", "period")
    for case in range(300):
        n = int(rng.integers(0, 12))
        ids = pool[rng.integers(0, len(pool), n)].tolist()
        periods = pd.to_datetime(rng.integers(0, 4, n), unit="D").astype("datetime64[ms]")
        table = pa.table({"business_id": pa.array(ids, pa.large_string()), "period": pa.array(periods)})
        if case % 3 == 0:  # sorted, so that the shortcut is taken often
            table = table.take(pc.sort_indices(table, sort_keys=[(k, "ascending") for k in keys]))
        if case % 7 == 0 and n:
            table = table.set_column(0, "business_id", pa.array([None] + ids[1:], pa.large_string()))
        table = pa.concat_tables([table.slice(0, n // 2), table.slice(n // 2)])
        order = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in keys])
        assert _in_key_order(table, keys) == (order.to_pylist() == list(range(n)))
    swapped = pa.table({"business_id": pa.array(["K-a", "K-b", "K-b"], pa.large_string()),
                        "period": pa.array(pd.to_datetime(["2017-01-01", "2017-02-01", "2017-01-01"]))})
    assert not _in_key_order(swapped, keys) and _in_key_order(swapped.slice(0, 2), keys)


def test_empty_table_has_the_schema_types():
    empty = store.empty_table("kur_loans")
    assert list(empty.columns) == store.TABLES["kur_loans"].columns and len(empty) == 0
    assert str(empty["applied_on"].dtype) == "datetime64[ms]"


# --------------------------------------------------------------------------- reading
def test_load_processed_and_program_data(processed: Path):
    tables = store.load_processed(processed, require=store.REQUIRED_FOR_ANALYSIS)
    assert set(tables) == {"communities", "members"}
    data = ProgramData.load(processed)
    assert len(data.members) == 1 and data.manifest["tool"] == "kkbm-analysis"


@pytest.mark.parametrize("damage, code, words", [
    ("nothing", 2, "not a processed data folder"),
    ("file", 2, "is a file"),
    ("missing", 2, "not found"),
    ("truncate", 1, "damaged or truncated"),
    ("delete", 1, "incomplete"),
    ("province", 1, "incomplete"),
    ("manifest", 1, "cannot be read"),
])
def test_bad_processed_folders_give_plain_errors(processed: Path, tmp_path: Path, damage, code, words):
    folder = processed
    if damage == "nothing":
        folder = tmp_path / "empty"
        folder.mkdir()
    elif damage == "file":
        folder = tmp_path / "x.txt"
        folder.write_text("x")
    elif damage == "missing":
        folder = tmp_path / "nope"
    elif damage == "truncate":
        first = store.table_files(processed, "members")[0]
        first.write_bytes(first.read_bytes()[:40])
    elif damage == "delete":
        _remove(store.table_location(processed, "members"))
    elif damage == "province":  # one province of a partitioned table gone: never a silent loss
        files = store.table_files(processed, "members")
        assert files and all(f.parent.parent == processed / "members" for f in files)
        shutil.rmtree(files[-1].parent)
    elif damage == "manifest":
        (processed / "manifest.json").write_text("{not json")
    with pytest.raises(ProcessedDataError, match=words) as err:
        ProgramData.load(folder)
    assert err.value.exit_code == code


def _remove(path: Path) -> None:
    shutil.rmtree(path) if path.is_dir() else path.unlink()


def test_required_tables_must_have_rows(processed: Path):
    _remove(store.table_location(processed, "members"))
    manifest = json.loads((processed / "manifest.json").read_text())
    del manifest["tables"]["members"]
    (processed / "manifest.json").write_text(json.dumps(manifest))
    assert set(store.load_processed(processed)) == {"communities"}
    with pytest.raises(ProcessedDataError, match="no members"):
        store.check_processed(processed, require=store.REQUIRED_FOR_ANALYSIS)


# --------------------------------------------------------------------------- output folders
def test_output_folder_checks(tmp_path: Path, processed: Path):
    raw = tmp_path / "raw"
    for bad, words in ((raw, "raw folder itself"), (tmp_path, "contains the raw folder"),
                       (raw / "out", "inside the raw folder")):
        with pytest.raises(OutputFolderError, match=words):
            store.check_output_folder(bad, raw)
    f = tmp_path / "a.txt"
    f.write_text("x")
    with pytest.raises(OutputFolderError, match="is a file"):
        store.check_output_folder(f, raw)
    other = tmp_path / "other"
    other.mkdir()
    (other / "bab1.docx").write_text("x")
    with pytest.raises(OutputFolderError, match="bab1.docx"):
        store.check_output_folder(other, raw)
    assert store.check_output_folder(processed, raw) == processed.resolve()   # an earlier output
    (processed / "notes.txt").write_text("mine")
    with pytest.raises(OutputFolderError, match="notes.txt"):
        store.check_output_folder(processed, raw)
    assert store.check_output_folder(tmp_path / "new", raw) == (tmp_path / "new").resolve()


def test_default_output_avoids_the_raw_folder(tmp_path: Path):
    processed = tmp_path / "data" / "processed"
    raw = processed / "demo"
    raw.mkdir(parents=True)
    assert store.default_output(raw, processed) == processed / "demo-processed"
    assert store.default_output(tmp_path / "elsewhere" / "desa", processed) == processed / "desa"
    with pytest.raises(OutputFolderError):
        store.default_output(processed, processed)


def test_failed_fill_keeps_the_previous_output(processed: Path):
    before = {str(p.relative_to(processed)): p.read_bytes() for p in processed.rglob("*") if p.is_file()}

    def fail(staging: Path) -> None:
        (staging / "members.parquet").write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        store.write_atomically(processed, fail)
    assert {str(p.relative_to(processed)): p.read_bytes() for p in processed.rglob("*") if p.is_file()} == before
    assert not [p for p in processed.parent.iterdir() if ".staging-" in p.name or ".old-" in p.name]


def test_stale_folders_of_ours_are_cleaned_and_others_kept(tmp_path: Path):
    out = tmp_path / "out"
    ours = tmp_path / ".out.staging-999999"
    ours.mkdir()
    (ours / ".kkbm-staging").touch()
    foreign = tmp_path / ".out.staging-999998"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("not ours")
    alive = tmp_path / f".out.staging-{os.getpid()}"
    alive.mkdir()
    (alive / ".kkbm-staging").touch()
    removed = store.clean_stale(out)
    assert removed == [ours] and foreign.exists() and alive.exists()


# --------------------------------------------------------------------------- layering
def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.add(("." * node.level) + (node.module or ""))
            found.update(("." * node.level) + (node.module + "." if node.module else "") + a.name for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_quality_does_not_import_the_ingest_or_results_at_run_time():
    tree = ast.parse((PACKAGE / "quality.py").read_text(encoding="utf-8"))
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert not [n for n in top if isinstance(n, ast.ImportFrom) and n.module in ("ingest", "results")]


def test_a_file_of_someone_else_in_a_partition_folder_is_never_replaced(processed: Path):
    """A partition folder is ours only while it holds nothing but our province files."""
    store.check_output_folder(processed)  # an earlier output: replacing it is fine
    assert (processed / "members").is_dir()
    (processed / "members" / "catatan.txt").write_text("my own notes")
    with pytest.raises(OutputFolderError, match="members"):
        store.check_output_folder(processed)
    (processed / "members" / "catatan.txt").unlink()
    (processed / "members" / "province=99").mkdir()
    (processed / "members" / "province=99" / "draft.xlsx").write_bytes(b"x")
    with pytest.raises(OutputFolderError, match="members"):
        store.check_output_folder(processed)


def test_key_sort_in_arrow_is_the_stable_pandas_order():
    """sort_by_key gives DataFrame.sort_values(key, kind="stable"): code-point order of text, ties in
    their order, missing keys last; a table already in order (and complete) is returned untouched."""
    import pyarrow as pa

    from kkbm_analysis.codes import sort_by_key

    frame = pd.DataFrame({"a": pd.array(["b", "a", "ä", None, "a", "B", "b"], dtype="string"),
                          "t": pd.to_datetime(["2018-02-01", "2018-01-01", "2017-01-01", "2017-01-01",
                                               "2018-01-01", "2019-01-01", None]).astype("datetime64[ms]"),
                          "row": range(7)})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for key in (["a"], ["a", "t"], ["t", "a"]):
        want = frame.sort_values(key, kind="stable").reset_index(drop=True)
        got = sort_by_key(table, key).to_pandas()
        assert got["row"].tolist() == want["row"].tolist(), key
    complete = pa.Table.from_pandas(frame.dropna(), preserve_index=False)
    ordered = sort_by_key(complete, ["a", "t"])
    assert ordered is not complete and sort_by_key(ordered, ["a", "t"]) is ordered


def test_positions_of_several_columns_hash_the_keys_once_with_the_same_answer():
    from kkbm_analysis.codes import positions, positions_of

    keys = pd.Series(["m1", "m2", "m3"], dtype="string")
    columns = [pd.Series(["m3", None, "x", "m1"], dtype="string"), pd.Series([], dtype="string"),
               pd.Series(["m2", "m2"], dtype="string")]
    got = positions_of(columns, keys)
    assert [g.tolist() for g in got] == [[2, -1, -1, 0], [], [1, 1]]
    assert all(np.array_equal(g, positions(c, keys)) for g, c in zip(got, columns))


def test_a_table_kept_in_arrow_types_hands_duckdb_the_same_values(demo_project):
    """``arrow=True`` (what ``kkbm analyse`` does with the business reports) skips the conversion to pandas'
    types, and nothing else: DuckDB gets the same Arrow table from either frame."""
    import pyarrow as pa

    folder = demo_project.processed
    for table in ("business_reports", "communities"):  # a partitioned table, and one in a single file
        plain, kept = store.read_table(folder, table), store.read_table(folder, table, arrow=True)
        assert len(kept) == len(plain) > 0 and list(kept.columns) == list(plain.columns)
        assert all(isinstance(t, pd.ArrowDtype) for t in kept.dtypes)
        assert not any(isinstance(t, pd.ArrowDtype) for t in plain.dtypes)
        assert pa.Table.from_pandas(kept, preserve_index=False).equals(pa.Table.from_pandas(plain, preserve_index=False))
    data = ProgramData.load(folder, arrow=("business_reports",))
    assert isinstance(data.business_reports["period"].dtype, pd.ArrowDtype)
    assert str(data.members["joined_on"].dtype) == "datetime64[ms]"


@pytest.mark.parametrize("dtype", ["object", "string[python]", "string[pyarrow]", "arrow"])
def test_text_that_reads_as_a_formula_is_quoted_in_every_text_type(dtype):
    """CSV cells and headers a spreadsheet would evaluate (= + - @ tab CR first) are quoted, whatever the column's
    text type; other text, missing cells and numbers are left as they are."""
    import pyarrow as pa

    from kkbm_analysis.io import escape_formulas
    text = ["=HYPERLINK(\"x\")", "+62 812", "-5", "@sum", "\tlead", "\rlead", "Jawa Timur", None, "", "a=b"]
    values = pd.Series(text + ([7, 2.5] if dtype == "object" else []),
                       dtype=pd.ArrowDtype(pa.string()) if dtype == "arrow" else dtype)
    got = escape_formulas(pd.DataFrame({"=cmd": values, "n": range(len(values))}))
    assert list(got.columns) == ["'=cmd", "n"]
    cells = got["'=cmd"].tolist()
    assert cells[:6] == ["'" + v for v in text[:6]]
    assert cells[6] == "Jawa Timur" and pd.isna(cells[7]) and cells[8] == "" and cells[9] == "a=b"
    assert cells[10:] == ([7, 2.5] if dtype == "object" else [])
    assert got["n"].tolist() == list(range(len(values)))


def test_spool_outside_is_a_membership_test_of_sorted_or_unsorted_ids():
    """Row ids in any order (and in increasing order, as spooled: the excluded are looked up among them), against
    excluded ids sorted or not, outside the ids' range, at its ends, or none."""
    import pyarrow as pa

    from kkbm_analysis.spool import outside

    rng = np.random.default_rng(3)
    shuffled = rng.choice(10_000, 2_000, replace=False).astype(np.int64)
    for uids in (shuffled, np.sort(shuffled), np.sort(shuffled)[:1]):
        refused = rng.choice(uids, min(300, len(uids)), replace=False)
        for excluded in (np.sort(refused), refused, np.zeros(0, np.int64), np.array([uids.max() + 1]),
                         np.array([uids.min(), uids.max(), uids.min() - 1]), np.arange(-5, 10_005),
                         np.setdiff1d(np.arange(uids.min(), uids.max()), uids)[::7]):  # between ids, none of them
            got = outside(pa.chunked_array([uids[:700], uids[700:]]), excluded).to_numpy(zero_copy_only=False)
            assert (got == ~np.isin(uids, excluded)).all()


def test_large_csv_written_by_duckdb_has_the_bytes_pandas_writes(tmp_path, monkeypatch):
    """From :data:`DUCKDB_CSV_ROWS` rows, a table of text and whole numbers is written by DuckDB: the file must
    be the one pandas writes (quotes, doubled quotes, line breaks, empty and missing cells, non-ASCII, formula
    escapes), and a table DuckDB would quote differently (``#``, a carriage return) or with a float column falls
    back to pandas."""
    from kkbm_analysis import io as kio

    monkeypatch.setattr(kio, "DUCKDB_CSV_ROWS", 1)
    rng = np.random.default_rng(11)
    atoms = np.array(["a", "b", ",", '"', "\n", " ", "\t", "é", "Ω", ";", "'", "=", "", "\\", "NULL", "\x0b",
                      "\u2028", "-1", "+", "@"], dtype=object)
    taken = []
    real = kio._write_csv_duckdb
    monkeypatch.setattr(kio, "_write_csv_duckdb", lambda frame, path: taken.append(real(frame, path)) or taken[-1])
    for case in range(60):
        n = int(rng.integers(1, 40))
        text = ["".join(rng.choice(atoms, int(rng.integers(0, 5)))) if rng.random() > 0.2 else None for _ in range(n)]
        frame = pd.DataFrame({"text": pd.Series(text, dtype="str"),
                              "row": pd.Series([int(v) if v % 5 else None for v in rng.integers(-9, 10**12, n)],
                                               dtype="Int64"),
                              "count": rng.integers(0, 100, n)})
        if case % 10 == 9:
            frame.loc[0, "text"] = "no. #3" if case % 20 == 9 else "a\rb"
        kio.write_csv(frame, tmp_path / "fast.csv")
        with kio.atomic_path(tmp_path / "pandas.csv") as tmp:
            kio.escape_formulas(frame).to_csv(tmp, index=False, encoding="utf-8-sig")
        assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    assert taken.count(True) == 54 and taken.count(False) == 6
    kio.write_csv(pd.DataFrame({"x": [0.5, 1.0]}), tmp_path / "floats.csv")
    assert taken[-1] is False and (tmp_path / "floats.csv").read_bytes() == "\ufeffx\n0.5\n1.0\n".encode()
    kio.write_csv(pd.DataFrame({"no. #": pd.Series(["a"], dtype="str")}), tmp_path / "header.csv")  # a header too
    assert taken[-1] is False and (tmp_path / "header.csv").read_bytes() == "\ufeffno. #\na\n".encode()


def test_a_failed_write_removes_the_folders_it_made_and_keeps_the_others(tmp_path):
    """A fill that fails (a missing pseudonym key, a crash) leaves no trace: not the staging folder, and not the
    folders above the output that the call made; folders that were there stay."""
    (tmp_path / "kept").mkdir()

    def fail(staging):
        (staging / "half.parquet").write_bytes(b"x")
        raise RuntimeError("no key")

    for out in (tmp_path / "new" / "deep" / "out", tmp_path / "kept" / "deeper" / "out"):
        with pytest.raises(RuntimeError):
            store.write_atomically(out, fail)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["kept"]


def test_province_of_each_row_follows_its_parents_and_is_none_when_one_is_unknown(tmp_path):
    """A row's province comes through its parents (a stage: its member, their community); a row whose parent,
    or grandparent, is unknown (or refused) leaves the table unpartitioned (None)."""
    from kkbm_analysis.finalise import _Accepted
    from kkbm_analysis.spool import TableSpool

    def spool(table: str, rows: dict) -> TableSpool:
        frame = pd.DataFrame(rows).reindex(columns=list(store.column_dtypes(table)))
        made = TableSpool(tmp_path / table, table)
        for at in (slice(0, 2), slice(2, None)):  # two batches
            part = frame.iloc[at]
            made.write(part.assign(_uid=np.arange(len(frame))[at] + 100 * len(table)), np.arange(len(part)))
        made.close()
        return made

    communities = {"community_id": ["K1", "K2", "K3"], "province_code": ["36", "33", "52"]}
    members = {"member_id": ["m1", "m2", "m3", "m4"], "community_id": ["K2", "K1", "K3", "K2"]}
    stages = {"member_id": ["m3", "m1", "m1", "m4", "m2"], "stage": ["pra"] * 5}
    spools = {"communities": spool("communities", communities), "members": spool("members", members),
              "stages": spool("stages", stages)}
    expected = [{"m1": "33", "m2": "36", "m3": "52", "m4": "33"}[m] for m in stages["member_id"]]
    assert _Accepted(spools, {}).provinces("stages").to_pylist() == expected
    refused_stage = {"stages": np.array([100 * len("stages") + 1])}  # refused rows are left out
    assert _Accepted(spools, refused_stage).provinces("stages").to_pylist() == expected[:1] + expected[2:]
    k3 = {"communities": np.array([100 * len("communities") + 2])}  # m3's community refused: m3's stage unknown
    assert _Accepted(spools, k3).provinces("stages") is None
    assert _Accepted(spools, k3).provinces("members") is None
    m1 = {"members": np.array([100 * len("members")])}  # a stage's member refused
    assert _Accepted(spools, m1).provinces("stages") is None
    assert _Accepted({t: s for t, s in spools.items() if t != "communities"}, {}).provinces("stages") is None


def test_a_row_refused_by_one_reference_is_not_refused_again_by_the_next():
    """The reference checks of a table run in turn on its rows read once: a row the first one refuses is
    left alone by the second (one problem per row and check, as when each check read the accepted rows)."""
    import pyarrow as pa

    from kkbm_analysis.checks import reference_problems
    from kkbm_analysis.redaction import Echo
    from kkbm_analysis.schema import TABLES
    from kkbm_analysis.validate import Problems

    rows = pa.table({"_uid": [1, 2, 3, 4], "session_id": ["S1", "SX", "SX", "S1"],
                     "member_id": ["M1", "MX", "M1", "MX"]})
    kept, problems = np.ones(4, dtype=bool), Problems()
    by_session, by_member = TABLES["attendance"].references
    for ref, known in ((by_session, "S1"), (by_member, "M1")):
        reference_problems("attendance", rows, kept, ref, pa.array([known], pa.large_string()), problems, Echo())
    assert list(zip(problems.columns["uid"], problems.columns["field"])) == [
        (2, "session_id"), (3, "session_id"), (4, "member_id")]
    assert kept.tolist() == [True, False, False, False]
