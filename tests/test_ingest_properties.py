"""Property-based tests (hypothesis): parsers round-trip, redaction removes what it must, readers
give back what was written, and the ingest never raises on random sheets."""
from __future__ import annotations

import csv
import datetime as dt
import io
import string

import openpyxl
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kkbm_analysis import parsing
from kkbm_analysis.ingest import ingest
from kkbm_analysis.layout import is_column_numbers
from kkbm_analysis.privacy import PseudonymKey
from kkbm_analysis.readers import read_file
from kkbm_analysis.redaction import redact_text
from kkbm_analysis.schema import VOCABULARIES

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
MONTHS_ID = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
             "November", "Desember"]


def indonesian(n: int) -> str:
    return f"{n:,}".replace(",", ".")


# --------------------------------------------------------------------------- parsers round-trip
@SETTINGS
@given(st.integers(min_value=-10**12, max_value=10**12))
def test_indonesian_integers_round_trip(n):
    parsed = parsing.parse_number(pd.Series([indonesian(n)]), integer=True)
    assert not parsed.invalid.iloc[0] and parsed.values.iloc[0] == n


@SETTINGS
@given(st.integers(min_value=0, max_value=10**11), st.integers(min_value=0, max_value=99),
       st.sampled_from(["Rp {x}", "Rp. {x},-", "IDR {x}", "{x}"]))
def test_rupiah_round_trip(whole, cents, style):
    text = style.format(x=f"{indonesian(whole)},{cents:02d}")
    parsed = parsing.parse_rupiah(pd.Series([text]))
    assert not parsed.invalid.iloc[0]
    assert abs(parsed.values.iloc[0] - (whole + cents / 100)) < 1e-6 * max(1, whole)


@SETTINGS
@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2099, 12, 31)),
       st.sampled_from(["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "id"]))
def test_dates_round_trip(day, style):
    text = f"{day.day} {MONTHS_ID[day.month - 1]} {day.year}" if style == "id" else day.strftime(style)
    parsed = parsing.parse_date(pd.Series([text]))
    assert not parsed.invalid.iloc[0] and parsed.values.iloc[0] == pd.Timestamp(day)


@SETTINGS
@given(st.data())
def test_category_labels_and_synonyms_map_to_their_key(data):
    name = data.draw(st.sampled_from(sorted(VOCABULARIES)))
    vocab = VOCABULARIES[name]
    key = data.draw(st.sampled_from(sorted(vocab)))
    cat = vocab[key]
    written = data.draw(st.sampled_from([cat.key, cat.label_id, cat.label_en, *cat.synonyms]))
    cased = data.draw(st.sampled_from([written, written.upper(), written.title(), f"  {written} "]))
    synonyms = {k: (c.label_id, c.label_en, *c.synonyms) for k, c in vocab.items()}
    assert parsing.parse_category(pd.Series([cased]), synonyms).values.iloc[0] == key


# --------------------------------------------------------------------------- redaction
digits = st.text(alphabet=string.digits, min_size=1, max_size=1)
nik = st.builds(lambda p, rest: p + rest, st.sampled_from(["11", "32", "35", "36", "96"]),
                st.text(alphabet=string.digits, min_size=14, max_size=14))
phone = st.builds(lambda a, b, c, sep: f"08{a}{sep}{b}{sep}{c}", st.text(string.digits, min_size=2, max_size=2),
                  st.text(string.digits, min_size=4, max_size=4), st.text(string.digits, min_size=3, max_size=5),
                  st.sampled_from(["", "-", " ", "."]))
email = st.builds(lambda u, d: f"{u}@{d}.co.id", st.text(string.ascii_lowercase, min_size=1, max_size=8),
                  st.text(string.ascii_lowercase, min_size=1, max_size=8))
passport = st.builds(lambda letter, n: f"{letter}{n}", st.sampled_from("ABC"),
                     st.text(string.digits, min_size=7, max_size=7))
filler = st.text(alphabet=string.ascii_letters + " ,:;()", max_size=20)


@SETTINGS
@given(st.lists(st.one_of(nik, phone, email, passport), min_size=1, max_size=4), filler, filler)
def test_redaction_removes_every_identifier(secrets, before, after):
    text = before + " " + " , ".join(secrets) + " " + after
    out = redact_text(text)
    for secret in secrets:
        assert secret not in out
        if secret[0].isdigit():
            assert "".join(ch for ch in secret if ch.isdigit()) not in out.replace(" ", "").replace("-", "")


@SETTINGS
@given(st.integers(min_value=0, max_value=999_999_999))
def test_redaction_keeps_amounts(n):
    text = f"Rp {indonesian(n)}"
    assert redact_text(text) == text


# --------------------------------------------------------------------------- readers round-trip
cell_text = st.text(alphabet=string.digits + "xyzq .,;|-/\"'", max_size=12)
header_names = st.lists(st.text(alphabet=string.ascii_lowercase, min_size=3, max_size=8), min_size=2, max_size=5,
                        unique=True)


@SETTINGS
@given(header_names, st.data(), st.sampled_from([",", ";", "\t", "|"]),
       st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
def test_csv_read_gives_back_what_was_written(tmp_path_factory, headers, data, sep, encoding):
    rows = data.draw(st.lists(st.lists(cell_text, min_size=len(headers), max_size=len(headers)), max_size=6))
    rows = [r for r in rows if any(c.strip() for c in r)]
    assume(not rows or not is_column_numbers(rows[0], len(headers)))
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\n").writerows([headers, *rows])
    path = tmp_path_factory.mktemp("csv") / "data.csv"
    path.write_bytes(buf.getvalue().encode(encoding))
    raw = read_file(path)
    assert len(raw.sheets) == 1 and not raw.fates
    frame = raw.sheets[0].frame
    assert list(frame.columns) == headers
    expected = [[c if c != "" else None for c in r] for r in rows]
    got = [[None if v is None else v for v in r] for r in frame.itertuples(index=False, name=None)]
    assert got == expected
    assert frame.index.tolist() == list(range(2, 2 + len(rows)))


# --------------------------------------------------------------------------- ingest never raises
HEADERS = ["NIK", "Nama", "No HP", "Kode KKBM", "Status", "Jenis Kelamin", "Tanggal Bergabung", "Tahun",
           "Provinsi", "Jumlah Penempatan", "Kode Usaha", "Omzet", "Bulan", "Keterangan", "Desa", "2019", ""]
any_cell = st.one_of(st.none(), st.text(max_size=15), st.integers(-10**17, 10**17),
                     st.floats(allow_nan=True, allow_infinity=True), st.dates(), nik, phone,
                     st.sampled_from(["Jumlah", "TOTAL", "Sumber: BPS", "purna", "P", "L", "Banten", "K1", "Ya",
                                      "=SUM(A1)", "30/12/1899", "-250.000", "(1)"]))


@SETTINGS
@given(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=7), st.data(), st.booleans())
def test_ingest_never_raises_on_random_sheets(tmp_path_factory, headers, data, as_xlsx):
    rows = data.draw(st.lists(st.lists(any_cell, min_size=len(headers), max_size=len(headers) + 1), max_size=8))
    raw = tmp_path_factory.mktemp("raw")
    if as_xlsx:
        wb = openpyxl.Workbook()
        ws = wb.active
        try:
            for row in [headers, *rows]:
                ws.append([None if isinstance(v, float) and v != v else v for v in row])
            wb.save(raw / "data.xlsx")
        except Exception:  # openpyxl refuses some cell values (e.g. control characters): not our concern
            assume(False)
    else:
        buf = io.StringIO()
        csv.writer(buf).writerows([headers, *rows])
        (raw / "data.csv").write_text(buf.getvalue(), encoding="utf-8", errors="surrogatepass")
    result = ingest(raw, None, key=PseudonymKey(b"property"), as_of=dt.date(2026, 1, 1))
    acc = result.accounting
    assert (acc.rows_read == acc.rows_accepted + acc.rows_quarantined + acc.rows_skipped).all()
    assert sum(len(df) for df in result.tables.values()) <= max(1, acc.rows_accepted.sum()) * 8
    assert set(result.quarantine["rule"]) <= set(result.quarantine["rule"])  # frames are well formed
    assert list(result.quarantine.columns)[:9] == ["table", "file", "sheet", "row", "cell", "column", "field",
                                                   "rule", "message"]


@SETTINGS
@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(-3, 4)), st.one_of(st.none(), st.integers(-3, 4))),
                min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_schema_checks_report_every_failing_row_with_its_values(counts, rnd):
    """Each row breaking a column check or a table rule is reported once per rule, with its own values,
    whether the rows come in order (as from the row rules) or not; repeated values get the same message."""
    import numpy as np

    from kkbm_analysis.validate import Problems, _pandera
    n = len(counts)
    order = list(range(n))
    rnd.shuffle(order)
    df = pd.DataFrame({"_uid": np.arange(100, 100 + n), "event_id": [f"E{i}" for i in range(n)],
                       "community_id": "K1", "held_on": pd.Timestamp("2020-01-01"),
                       "people_reached": pd.array([r for r, _ in counts], dtype="Int64"),
                       "people_dissuaded": pd.array([d for _, d in counts], dtype="Int64")},
                      index=np.arange(0, 3 * n, 3))
    expected = set()
    for i, (reached, dissuaded) in enumerate(counts):
        for column, value in (("people_reached", reached), ("people_dissuaded", dissuaded)):
            if value is not None and value < 0:
                label = column.replace("_", " ")
                expected.add((100 + i, column, "out_of_range", f"{indonesian(value)} is negative; {label} must be 0 or more"))
        if reached is not None and dissuaded is not None and dissuaded > reached:
            expected.add((100 + i, "", "dissuaded_within_reached", "people_dissuaded exceeds people_reached "
                          f"(people_reached {indonesian(reached)}, people_dissuaded {indonesian(dissuaded)})"))
    for frame in (df, df.iloc[order]):
        problems = Problems()
        _pandera("prevention_events", frame, problems)
        got = problems.frame()
        assert set(got.itertuples(index=False, name=None)) == {e + (None,) for e in expected}


@SETTINGS
@given(st.lists(st.tuples(st.one_of(st.none(), st.sampled_from("abc")), st.integers(0, 3)), min_size=0, max_size=40),
       st.integers(1, 2))
def test_repeated_keys_point_to_the_first_row_with_the_key(rows, width):
    """Every row whose key (one column or two, nulls equal to each other) an earlier row holds is found, in
    order, with the first row holding it: a key held by three rows or more, runs of repeats side by side."""
    import numpy as np
    import pyarrow as pa

    from kkbm_analysis.checks import _combined, _repeats
    keys = [r[:width] for r in rows]
    types = [pa.large_string(), pa.int64()]
    columns = [pa.chunked_array([[k[i] for k in keys[:5]], [k[i] for k in keys[5:]]], type=types[i])
               for i in range(width)]
    first: dict[tuple, int] = {}
    expected = []
    for at, k in enumerate(keys):
        if k in first:
            expected.append((at, first[k]))
        first.setdefault(k, at)
    later, earlier = _repeats(_combined([lambda c=c: c for c in columns]))
    assert list(zip(later.tolist(), earlier.tolist())) == expected
    assert later.dtype == earlier.dtype == np.int64


@SETTINGS
@given(st.lists(st.tuples(st.booleans(), st.sampled_from([None, "1890-05-01", "2019-07-26", "2099-01-01"]),
                          st.integers(-2, 3)), min_size=1, max_size=12))
def test_row_rules_give_the_rows_without_a_problem(rows):
    """The row rules give back exactly the rows without a problem, whether flagged before (``known``) or by
    a rule here (an empty required value, an implausible or future date); the schema's checks see those."""
    import numpy as np

    from kkbm_analysis.redaction import Echo
    from kkbm_analysis.validate import Problems, _pandera, _row_rules
    n = len(rows)
    df = pd.DataFrame({"_uid": np.arange(100, 100 + n), "event_id": [f"E{i}" for i in range(n)],
                       "community_id": "K1", "held_on": pd.to_datetime([d for _, d, _ in rows]).astype("M8[ms]"),
                       "people_reached": pd.array([r for _, _, r in rows], dtype="Int64"),
                       "people_dissuaded": pd.array([0] * n, dtype="Int64")})
    problems, pending = Problems(), Problems()
    problems.add([100 + i for i, (known, _, _) in enumerate(rows) if known], "event_id", "known", "flagged before")
    clean = _row_rules("prevention_events", df, pd.Timestamp("2030-01-01"), problems, Echo(), pending)
    expected = df[~df["_uid"].isin(problems.uids())]
    pd.testing.assert_frame_equal(clean, expected)
    again = Problems()
    _pandera("prevention_events", expected, again)
    assert pending.columns == again.columns


def test_category_values_come_as_the_spooled_text():
    """A category field is text as the spool and the schema hold it (keys; blank and invalid cells missing)."""
    from kkbm_analysis.redaction import Echo
    from kkbm_analysis.store import column_dtypes
    from kkbm_analysis.validate import Problems, _category
    problems = Problems()
    out = _category("members", "sex", pd.Series(["Laki-laki", "perempuan", "x", None]), pd.Series([1, 2, 3, 4]),
                    problems, Echo(), None)
    assert str(out.dtype) == column_dtypes("members")["sex"] == "string"
    assert out.tolist()[:2] == ["L", "P"] and out.isna().tolist() == [False, False, True, True]
    assert problems.columns["uid"] == [3]


def test_birth_year_is_read_once_per_distinct_value_as_cell_by_cell():
    """Birth years read over a column's distinct values equal each cell read alone, an unhashable cell too."""
    import numpy as np

    from kkbm_analysis.redaction import Echo
    from kkbm_analysis.validate import Problems, _birth_year

    def read(cells):
        problems = Problems()
        values = pd.Series(cells, dtype=object, name="birth_year")
        years = _birth_year(values, pd.Series(np.arange(len(cells))), "birth_year", problems, Echo(()))
        return years.tolist(), problems.frame()["uid"].tolist()

    cells = ["1987", "12/08/1987", None, "1987", 1987.0, "05", "Siti", "12/08/1987", "1.987", "", "26 Juli 1990"]
    one_by_one = [read([c]) for c in cells]
    assert read(cells) == ([y for (y,), _ in one_by_one], [i for i, (_, bad) in enumerate(one_by_one) if bad])
    assert read([*cells, ["x"]]) == (read(cells)[0] + [pd.NA], read(cells)[1] + [len(cells)])
