"""Tests for kkbm_analysis.parsing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from kkbm_analysis import parsing
from kkbm_analysis.parsing import (
    Parsed,
    normalise_text,
    parse_bool,
    parse_category,
    parse_date,
    parse_month,
    parse_number,
    parse_percent,
    parse_rupiah,
)

BLANKS = [None, np.nan, pd.NA, pd.NaT, "", "   ", "\t\n", "\u00a0", "-", " - ", "\u2013"]
SYNONYMS = {
    "pmi_purna": ["PMI Purna", "purna", "mantan PMI"],
    "keluarga": ["keluarga PMI", "anggota keluarga"],
    "calon_pmi": ["Calon PMI", "CPMI"],
}
ALL_PARSERS = {
    "number": parse_number,
    "integer": lambda s: parse_number(s, integer=True),
    "rupiah": parse_rupiah,
    "percent": parse_percent,
    "date": parse_date,
    "month": parse_month,
    "bool": parse_bool,
    "category": lambda s: parse_category(s, SYNONYMS),
}
VALID_SAMPLE = {  # one parseable string per parser
    "number": "1.250",
    "integer": "1.250",
    "rupiah": "Rp 1.250",
    "percent": "12,5%",
    "date": "26/07/2019",
    "month": "Jul-19",
    "bool": "ya",
    "category": "purna",
}


def one(parser, value, **kwargs) -> tuple[object, bool]:
    """Parse a single cell; return (value, invalid)."""
    result = parser(pd.Series([value], dtype=object), **kwargs)
    return result.values.iloc[0], bool(result.invalid.iloc[0])


def assert_valid(parser, value, expected, **kwargs) -> None:
    got, invalid = one(parser, value, **kwargs)
    assert not invalid, f"{value!r} flagged invalid"
    if isinstance(expected, float):
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)
    else:
        assert got == expected
    assert type(got) is not type(pd.NA)


def assert_invalid(parser, value, **kwargs) -> None:
    got, invalid = one(parser, value, **kwargs)
    assert invalid, f"{value!r} not flagged invalid (got {got!r})"
    assert pd.isna(got)


# --------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------

NUMBER_CASES = [
    ("1.250.000", 1250000.0),
    ("1.250", 1250.0),
    ("12,5", 12.5),
    ("1.250.000,50", 1250000.5),
    ("1,250,000.50", 1250000.5),
    ("1,250,000", 1250000.0),
    ("1.5", 1.5),
    ("12.75", 12.75),
    ("0.250", 0.25),
    ("1 250 000", 1250000.0),
    ("1\u00a0250\u00a0000", 1250000.0),
    ("-1.000", -1000.0),
    ("(1.000)", -1000.0),
    ("( 1.250,5 )", -1250.5),
    ("+7", 7.0),
    ("\u22122,5", -2.5),
    ("  42  ", 42.0),
    ("007", 7.0),
    ("1,5 jt", 1500000.0),
    ("1,5jt", 1500000.0),
    ("2 JUTA", 2000000.0),
    ("3rb", 3000.0),
    ("3 Ribu", 3000.0),
    ("1M", 1e9),
    ("2 miliar", 2e9),
    ("2 Milyar", 2e9),
    ("1.1 jt", 1100000.0),
    ("1.5E+06", 1500000.0),
    (3, 3.0),
    (2.5, 2.5),
    (np.int64(4), 4.0),
    (np.float32(0.5), 0.5),
    (Decimal("1.25"), 1.25),
    (True, 1.0),
]
NUMBER_INVALID = [
    "abc", "12a", "1..2", "1,,2", "1.2.3", "12.34.567", "1.250,5,5", "1,5.3",
    "1234.567", "12 5", "1.250 000", "1.", ",5", "Rp 2 juta", "1.000,-", "12%", "5 kg",
    "(1.000", "1.000)", "--5", "-(5)", "1 x", "#N/A", "nan", "inf",
    float("inf"), dt.date(2019, 7, 26), [1],
]


@pytest.mark.parametrize(("raw", "expected"), NUMBER_CASES)
def test_parse_number_valid(raw, expected):
    assert_valid(parse_number, raw, expected)


@pytest.mark.parametrize("raw", NUMBER_INVALID, ids=repr)
def test_parse_number_invalid(raw):
    assert_invalid(parse_number, raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1.250.000", 1250000), ("12,00", 12), ("1,5 jt", 1500000), (3.0, 3), ("-7", -7),
     ("9.223.372.036.854.775.807", 2**63 - 1), ("-9223372036854775807", 1 - 2**63),
     ("9.223.372.036.854.775.808", None), ("12345678901234567", 12345678901234567)],
)
def test_parse_number_integer_valid(raw, expected):
    if expected is None:  # beyond Int64
        assert_invalid(parse_number, raw, integer=True)
    else:
        assert_valid(parse_number, raw, expected, integer=True)


@pytest.mark.parametrize("raw", ["12,5", "1.5", 2.5, "0,0005 rb", "abc", 1e19])
def test_parse_number_integer_rejects_fractions(raw):
    assert_invalid(parse_number, raw, integer=True)


def test_parse_number_dtypes():
    assert parse_number(pd.Series(["1"], dtype=object)).values.dtype == "Float64"
    assert parse_number(pd.Series(["1"], dtype=object), integer=True).values.dtype == "Int64"


@pytest.mark.parametrize("integer", [False, True])
def test_numeric_dtype_fast_path_matches_object_path(integer):
    data = [1.0, 2.5, np.nan, np.inf, -3.0, 1e20]
    fast = parse_number(pd.Series(data), integer=integer)
    slow = parse_number(pd.Series(data, dtype=object), integer=integer)
    pd.testing.assert_series_equal(fast.values, slow.values)
    pd.testing.assert_series_equal(fast.invalid, slow.invalid)
    assert fast.invalid.tolist() == [False, integer, False, True, False, integer]


def test_integer_dtype_input_passes_through():
    result = parse_number(pd.Series([1, 2, None], dtype="Int64"), integer=True)
    assert result.values.tolist() == [1, 2, pd.NA]
    assert not result.invalid.any()


def test_string_dtype_input():
    result = parse_number(pd.Series(["1.250", None, "x"], dtype="string"))
    assert result.values.tolist() == [1250.0, pd.NA, pd.NA]
    assert result.invalid.tolist() == [False, False, True]


# --------------------------------------------------------------------------
# Rupiah
# --------------------------------------------------------------------------

RUPIAH_CASES = [
    ("Rp 1.250.000,-", 1250000.0),
    ("Rp1.250.000,50", 1250000.5),
    ("Rp. 1.250.000", 1250000.0),
    ("Rp.1.250.000,00", 1250000.0),
    ("rp 500.000.-", 500000.0),
    ("IDR 2.000.000", 2000000.0),
    ("IDR2000000", 2000000.0),
    ("Rp 2 juta", 2000000.0),
    ("Rp 1,5 jt", 1500000.0),
    ("RP 750rb", 750000.0),
    ("(Rp 1.000)", -1000.0),
    ("-Rp 1.000", -1000.0),
    ("Rp -1.000", -1000.0),
    ("1.250.000", 1250000.0),
    ("1.250.000,-", 1250000.0),
    (1250000, 1250000.0),
]
RUPIAH_INVALID = ["Rp", "Rp ,-", "USD 5", "Rp 1..000", "Rp abc", "5 Rp", "Rp -1.000-", "Rp 12%"]


@pytest.mark.parametrize(("raw", "expected"), RUPIAH_CASES)
def test_parse_rupiah_valid(raw, expected):
    assert_valid(parse_rupiah, raw, expected)


@pytest.mark.parametrize("raw", RUPIAH_INVALID)
def test_parse_rupiah_invalid(raw):
    assert_invalid(parse_rupiah, raw)


# --------------------------------------------------------------------------
# Percent
# --------------------------------------------------------------------------

PERCENT_CASES = [
    ("12,5%", 0.125),
    ("12.5 %", 0.125),
    ("12,5", 0.125),
    ("12.5", 0.125),
    ("100%", 1.0),
    ("0,3", 0.003),  # percent columns hold percents
    ("-5%", -0.05),
    ("12.3", 0.123),
    (12.5, 0.125),
    (50, 0.5),
]
PERCENT_INVALID = ["abc", "12,5%%", "% 12", "5 jt%", "Rp 5", "12,5 persen", "1..2%"]


@pytest.mark.parametrize(("raw", "expected"), PERCENT_CASES)
def test_parse_percent_valid(raw, expected):
    assert_valid(parse_percent, raw, expected)


@pytest.mark.parametrize("raw", PERCENT_INVALID)
def test_parse_percent_invalid(raw):
    assert_invalid(parse_percent, raw)


def test_parse_percent_text_is_exact_decimal():
    assert one(parse_percent, "12,3%")[0] == 0.123


def test_parse_percent_numeric_dtype():
    result = parse_percent(pd.Series([12.5, np.nan, np.inf]))
    assert result.values.tolist() == [0.125, pd.NA, pd.NA]
    assert result.invalid.tolist() == [False, False, True]


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

D = pd.Timestamp("2019-07-26")
JUL = pd.Timestamp("2019-07-01")
DATE_CASES = [
    ("26/07/2019", D),
    ("26-07-2019", D),
    ("26.07.2019", D),
    ("26/7/2019", D),
    ("26/7/19", D),
    ("2019-07-26", D),
    ("2019/07/26", D),
    ("26 Juli 2019", D),
    ("26 Jul 2019", D),
    ("26-Jul-2019", D),
    ("26-jul-19", D),
    ("26 July 2019", D),
    ("26 JULI 2019", D),
    ("26 Jul. 2019", D),
    ("July 26, 2019", D),
    ("26 Agt 2019", pd.Timestamp("2019-08-26")),
    ("1 Peb 2020", pd.Timestamp("2020-02-01")),
    ("1 Nop 2020", pd.Timestamp("2020-11-01")),
    ("1 Mei 2020", pd.Timestamp("2020-05-01")),
    ("1 Okt 2020", pd.Timestamp("2020-10-01")),
    ("1 Des 2020", pd.Timestamp("2020-12-01")),
    ("29/02/2020", pd.Timestamp("2020-02-29")),
    ("Jul-19", JUL),
    ("Juli 2019", JUL),
    ("Jul 2019", JUL),
    ("Sept. 2019", pd.Timestamp("2019-09-01")),
    ("07/2019", JUL),
    ("7-2019", JUL),
    ("2019-07", JUL),
    ("26/07/2019 14:03", D),
    ("26/07/2019 14.03 WIB", D),
    ("2019-07-26 14:03:11", D),
    ("2019-07-26T14:03", D),
    ("2019-07-26T14:03:11.123+07:00", D),
    ("2019-07-26T23:59:59-05:00", D),
    ("2019-07-26T14:03:11Z", D),
    (43672, D),
    (43672.75, D),
    ("43672", D),
    ("43672.75", D),
    (np.int64(43672), D),
    (dt.datetime(2019, 7, 26, 15, 1), D),
    (dt.date(2019, 7, 26), D),
    (pd.Timestamp("2019-07-26 23:30"), D),
    (pd.Timestamp("2019-07-26 23:30", tz="Asia/Jakarta"), D),
    (np.datetime64("2019-07-26T10:00"), D),
]
DATE_INVALID = [
    "31/02/2019", "13/13/2019", "29/02/2019", "00/07/2019", "26/07", "26,07",
    "2019", 2019, 1900, 2100.0, "1/1/2300", 3000000, 0, -5, 0.5, "1.250,5",
    "26/07-2019", "26 Juill 2019", "Juli", "abc", "2019-07-26 25", "26/07/2019x",
    "20190726", True, dt.time(12, 0), "32 Jul 2019",
]


@pytest.mark.parametrize(("raw", "expected"), DATE_CASES, ids=repr)
def test_parse_date_valid(raw, expected):
    assert_valid(parse_date, raw, expected)


@pytest.mark.parametrize("raw", DATE_INVALID, ids=repr)
def test_parse_date_invalid(raw):
    assert_invalid(parse_date, raw)


def test_parse_date_dtype_and_midnight():
    result = parse_date(pd.Series(["2019-07-26T14:03:11", dt.datetime(2019, 7, 26, 9)], dtype=object))
    assert result.values.dtype == "datetime64[ns]"
    assert (result.values == D).all()


def test_parse_date_excel_serial_origin():
    assert one(parse_date, 1)[0] == pd.Timestamp("1899-12-31")
    assert one(parse_date, 1899)[0] == pd.Timestamp("1905-03-13")
    assert one(parse_date, 2101)[0] == pd.Timestamp("1905-10-01")


def test_parse_date_month_first():
    raw = pd.Series(["07/26/2019", "26/07/2019", "2019-07-26", "26 Jul 2019"], dtype=object)
    result = parse_date(raw, dayfirst=False)
    assert result.values.tolist()[:1] == [D]
    assert result.invalid.tolist() == [False, True, False, False]
    assert result.values.iloc[2] == D and result.values.iloc[3] == D


def test_parse_date_two_digit_year_pivot():
    this_yy = dt.date.today().year % 100
    assert one(parse_date, f"01/01/{this_yy:02d}")[0].year == 2000 + this_yy
    if this_yy < 99:
        assert one(parse_date, f"01/01/{this_yy + 1:02d}")[0].year == 1901 + this_yy
    assert one(parse_date, "01/01/95")[0].year == 1995


def test_parse_date_datetime_dtype_fast_path():
    stamps = pd.Series(pd.to_datetime(["2019-07-26 14:03", None]), index=[5, 6])
    result = parse_date(stamps)
    assert result.values.tolist()[0] == D and pd.isna(result.values.iloc[1])
    assert result.values.dtype == "datetime64[ns]"
    assert result.invalid.tolist() == [False, False]
    assert list(result.values.index) == [5, 6]


def test_parse_date_tz_aware_dtype_keeps_wall_date():
    stamps = pd.Series(pd.to_datetime(["2019-07-26 23:30"]).tz_localize("Asia/Jakarta"))
    assert parse_date(stamps).values.iloc[0] == D


MONTH_CASES = [
    ("Jul-19", JUL),
    ("Juli 2019", JUL),
    ("jul 2019", JUL),
    ("July 2019", JUL),
    ("07/2019", JUL),
    ("2019-07", JUL),
    ("26/07/2019", JUL),
    ("2019-07-26T14:03:11+07:00", JUL),
    (dt.date(2019, 7, 26), JUL),
    (43672, JUL),
    ("Desember 2020", pd.Timestamp("2020-12-01")),
]


@pytest.mark.parametrize(("raw", "expected"), MONTH_CASES, ids=repr)
def test_parse_month_valid(raw, expected):
    assert_valid(parse_month, raw, expected)


@pytest.mark.parametrize("raw", ["13/2019", "2019-13", "Juli", "2019", "Jull 2019", "x"])
def test_parse_month_invalid(raw):
    assert_invalid(parse_month, raw)


def test_parse_month_dtype():
    assert parse_month(pd.Series(["Jul-19"], dtype=object)).values.dtype == "datetime64[ns]"


def test_parse_month_is_parse_date_on_the_first_of_the_month():
    """Months are made per distinct value: the same as every row's date truncated, index and name kept."""
    raw = pd.Series(["Jul-19", "26/07/2019", None, "x", "Jul-19", " - ", dt.date(2020, 12, 31), 43672, "26/07/2019"],
                    index=range(10, 19), name="period", dtype=object)
    for column in (raw, raw.astype("str")):
        months, dates = parse_month(column), parse_date(column)
        truncated = dates.values.to_numpy().astype("datetime64[M]").astype("datetime64[ns]")
        pd.testing.assert_series_equal(months.values, pd.Series(truncated, index=raw.index, name="period"))
        pd.testing.assert_series_equal(months.invalid, dates.invalid)


# --------------------------------------------------------------------------
# Booleans
# --------------------------------------------------------------------------

TRUE_INPUTS = ["ya", "Ya", " YA ", "y", "yes", "iya", "benar", "true", "TRUE", "1", "v",
               "\u2713", "sudah", "ada", "Ya.", True, 1, 1.0, np.bool_(True)]
FALSE_INPUTS = ["tidak", "TIDAK", "tdk", "t", "no", "n", "false", "0", "belum",
                "tidak ada", "Tidak  Ada", "bukan", False, 0, 0.0]
BOOL_INVALID = ["x", "X", "maybe", "mungkin", "2", 2, 0.5, "ya tidak", dt.date(2019, 1, 1)]


@pytest.mark.parametrize("raw", TRUE_INPUTS, ids=repr)
def test_parse_bool_true(raw):
    got, invalid = one(parse_bool, raw)
    assert isinstance(got, (bool, np.bool_)) and got and not invalid


@pytest.mark.parametrize("raw", FALSE_INPUTS, ids=repr)
def test_parse_bool_false(raw):
    got, invalid = one(parse_bool, raw)
    assert isinstance(got, (bool, np.bool_)) and not got and not invalid


@pytest.mark.parametrize("raw", BOOL_INVALID, ids=repr)
def test_parse_bool_invalid(raw):
    assert_invalid(parse_bool, raw)


def test_parse_bool_dtype():
    assert parse_bool(pd.Series(["ya", "tidak"], dtype=object)).values.dtype == "boolean"
    result = parse_bool(pd.Series([True, False]))
    assert result.values.dtype == "boolean"
    assert result.values.tolist() == [True, False]


# --------------------------------------------------------------------------
# Categories and text normalisation
# --------------------------------------------------------------------------

CATEGORY_CASES = [
    ("pmi_purna", "pmi_purna"),
    ("PMI Purna", "pmi_purna"),
    ("  pmi   purna ", "pmi_purna"),
    ("PMI-Purna", "pmi_purna"),
    ("PMIPurna", "pmi_purna"),
    ("Purna.", "pmi_purna"),
    ("MANTAN PMI", "pmi_purna"),
    ("Pürna", "pmi_purna"),
    ("keluarga", "keluarga"),
    ("Anggota keluarga", "keluarga"),
    ("cpmi", "calon_pmi"),
]


@pytest.mark.parametrize(("raw", "expected"), CATEGORY_CASES)
def test_parse_category_valid(raw, expected):
    assert_valid(lambda s: parse_category(s, SYNONYMS), raw, expected)


@pytest.mark.parametrize("raw", ["pmi", "purna purna", "lainnya", "x", 3, dt.date(2019, 1, 1)], ids=repr)
def test_parse_category_invalid(raw):
    assert_invalid(lambda s: parse_category(s, SYNONYMS), raw)


def test_parse_category_numeric_codes():
    result = parse_category(pd.Series([1, 1.0, "1", 2, "2.5"], dtype=object), {"a": ["1"], "b": ["2,5"]})
    assert result.values.tolist()[:3] == ["a", "a", "a"]
    assert result.invalid.tolist() == [False, False, False, True, False]
    assert result.values.iloc[4] == "b"


def test_parse_category_dtype_and_missing():
    result = parse_category(pd.Series(["purna", None, "zzz"], dtype=object), SYNONYMS)
    assert result.values.dtype == object
    assert result.values.iloc[0] == "pmi_purna"
    assert result.values.isna().tolist() == [False, True, True]


def test_parse_category_string_synonym_is_one_name():
    result = parse_category(pd.Series(["lain-lain", "l"], dtype=object), {"lainnya": "lain lain"})
    assert result.values.iloc[0] == "lainnya"
    assert result.invalid.tolist() == [False, True]


def test_parse_category_clashing_synonyms_raise():
    with pytest.raises(ValueError, match="matches both"):
        parse_category(pd.Series(["a"]), {"a": ["PMI"], "b": ["pmi."]})


def test_parse_category_blank_synonym_raises():
    with pytest.raises(ValueError, match="blank"):
        parse_category(pd.Series(["a"]), {"a": ["-"]})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  PMI   Purna ", "pmi purna"),
        ("PMI-Purna (mantan)", "pmi purna mantan"),
        ("Café Ñusa", "cafe nusa"),
        ("Jum'at", "jumat"),
        ("Jum\u2019at", "jumat"),
        ("pmi_purna", "pmi purna"),
        ("Desa 12/B", "desa 12 b"),
        ("\tA\u00a0B\n", "a b"),
        ("ＰＭＩ", "pmi"),
        ("!!!", ""),
    ],
)
def test_normalise_text(raw, expected):
    assert normalise_text(raw) == expected


# --------------------------------------------------------------------------
# Cross-cutting behaviour
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_PARSERS)
def test_blank_is_missing_not_invalid(name):
    result = ALL_PARSERS[name](pd.Series(BLANKS, dtype=object))
    assert result.values.isna().all()
    assert not result.invalid.any()
    assert result.invalid.dtype == bool


@pytest.mark.parametrize("name", ALL_PARSERS)
def test_index_and_name_preserved(name):
    index = pd.Index(["r9", "r3", "r7", "r1"], name="row")
    cells = [VALID_SAMPLE[name], None, "??", VALID_SAMPLE[name]]
    raw = pd.Series(cells, index=index, name="col", dtype=object)
    result = ALL_PARSERS[name](raw)
    for series in (result.values, result.invalid):
        assert series.index.equals(index)
        assert series.name == "col"
    assert result.invalid.tolist() == [False, False, True, False]
    assert result.values.notna().tolist() == [True, False, False, True]


@pytest.mark.parametrize("name", ALL_PARSERS)
def test_empty_series(name):
    result = ALL_PARSERS[name](pd.Series([], dtype=object))
    assert len(result.values) == 0 and len(result.invalid) == 0


def test_mixed_types_number():
    raw = pd.Series(["1.250", 3, 2.5, None, np.nan, "x", " ", "Rp 5", 7.0, "7"], dtype=object)
    result = parse_number(raw)
    assert result.values.tolist() == [1250.0, 3.0, 2.5, pd.NA, pd.NA, pd.NA, pd.NA, pd.NA, 7.0, 7.0]
    assert result.invalid.tolist() == [False] * 5 + [True, False, True, False, False]


def test_mixed_types_date():
    raw = pd.Series(
        ["26/07/2019", dt.date(2019, 7, 26), pd.Timestamp("2019-07-26 10:00"), 43672, None, "x", ""],
        dtype=object,
    )
    result = parse_date(raw)
    assert (result.values.iloc[:4] == D).all()
    assert result.values.iloc[4:].isna().all()
    assert result.invalid.tolist() == [False] * 5 + [True, False]


def test_mixed_types_bool():
    raw = pd.Series(["ya", True, 0, None, "x", 1.0], dtype=object)
    result = parse_bool(raw)
    assert result.values.tolist() == [True, True, False, pd.NA, pd.NA, True]
    assert result.invalid.tolist() == [False, False, False, False, True, False]


def test_list_input_is_accepted():
    assert parse_number(["1,5", None]).values.tolist() == [1.5, pd.NA]


def test_parsed_is_frozen():
    result = parse_bool(pd.Series(["ya"]))
    assert isinstance(result, Parsed)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.values = pd.Series([False])


def test_input_is_not_modified():
    raw = pd.Series([" 1.250 ", None, "x"], dtype=object)
    before = raw.copy()
    parse_number(raw)
    pd.testing.assert_series_equal(raw, before)


# --------------------------------------------------------------------------
# Scale: unique-then-map
# --------------------------------------------------------------------------

N_ROWS, N_DISTINCT = 1_000_000, 1_000


def _big_sample(pool: list) -> tuple[pd.Series, np.ndarray]:
    rng = np.random.default_rng(42)
    codes = rng.integers(0, len(pool), N_ROWS)
    return pd.Series(np.array(pool, dtype=object)[codes], dtype=object), codes


def test_million_rows_numbers_correct():
    # Mix of vectorised forms and forms needing the per-value parser.
    pool = [f"{i}.{i % 1000:03d},5" if i % 2 else f"{i},5 rb" for i in range(1, N_DISTINCT)] + ["x"]
    expected = [i * 1000 + i % 1000 + 0.5 if i % 2 else i * 1000 + 500.0 for i in range(1, N_DISTINCT)]
    expected = np.array(expected + [np.nan])
    raw, codes = _big_sample(pool)
    result = parse_number(raw)
    got = result.values.to_numpy(dtype=float, na_value=np.nan)
    np.testing.assert_array_equal(got, expected[codes])
    np.testing.assert_array_equal(result.invalid.to_numpy(), codes == N_DISTINCT - 1)


def test_million_rows_dates_parse_each_distinct_value_once(monkeypatch):
    calls = []
    original = parsing._str_date  # what a text cell goes to

    def counting(value, *args):
        calls.append(value)
        return original(value, *args)

    monkeypatch.setattr(parsing, "_str_date", counting)
    days = pd.date_range("2000-01-01", periods=N_DISTINCT, freq="D")
    pool = [d.strftime("%d/%m/%Y") for d in days]
    raw, codes = _big_sample(pool)
    result = parse_date(raw)
    assert len(calls) == N_DISTINCT == len(set(calls))
    np.testing.assert_array_equal(result.values.to_numpy(), days.to_numpy()[codes])
    assert not result.invalid.any()


def test_text_no_number_can_be_is_invalid_without_a_parse(monkeypatch):
    """A character outside every number form (a date's "/", a word's "n") settles a cell without the
    per-value parser; every such cell is one the parser finds invalid (all ASCII characters, in several places)."""
    flags = [dict(integer=i, currency=c, percent=p) for i in (False, True) for c in (False, True) for p in (False, True)]
    templates = ["1.250", "12,5", "Rp 1.250,-", "1,5 jt", "(1.000)", "1.5E+06", "12,5 %", "-", ""]
    for code in range(128):
        for t in templates:
            for value in (chr(code) + t, t[:2] + chr(code) + t[2:], t + chr(code)):
                if parsing._NO_NUMBER.search(value):
                    assert all(parsing._number_one(value, **f) is parsing._INVALID for f in flags), repr(value)
    parsed = []
    original = parsing._number_one
    monkeypatch.setattr(parsing, "_number_one", lambda value, **f: parsed.append(value) or original(value, **f))
    result = parse_number(pd.Series(["12/08/1987", "10 November 1991", "1 234", "21 Maret 2003"]), integer=True)
    assert result.invalid.tolist() == [True, True, False, True]
    assert parsed == ["1 234", "21 Maret 2003"]


def test_unencodable_text_is_invalid_not_an_error():
    result = parse_number(pd.Series(["\ud800", "1,5"], dtype=object))
    assert result.invalid.tolist() == [True, False]
    assert result.values.iloc[1] == 1.5


def test_space_class_is_pythons_whitespace_in_pyarrow():
    """SPACE spells out Python's \\s, so pandas runs it in pyarrow with Python's result."""
    import re
    import sys

    from kkbm_analysis.patterns import SPACE

    every = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert re.fullmatch(SPACE + "*", every) and not re.search(SPACE, "".join(
        chr(i) for i in range(0x3100) if not chr(i).isspace() and not 0xD800 <= i < 0xE000))
    text = pd.Series(["a\x0bb", "c\u3000 d", " e\x85", "f\xa0\t g", None], dtype="string")
    fast = text.str.replace(SPACE + "+", " ", regex=True)
    slow = text.str.replace(re.compile(r"\s+"), " ", regex=True)  # a compiled pattern always runs in Python
    assert fast.tolist() == slow.tolist() == ["a b", "c d", " e ", "f g", pd.NA]


def test_nik_problems_fast_path_agrees_with_the_rules_one_value_at_a_time():
    """Well-formed NIKs are recognised in Arrow; every verdict equals the per-value rules."""
    import random

    from kkbm_analysis.privacy import _nik_problem, nik_problems

    rng = random.Random(3)
    parts = (["11", "96", "10", "97", "36"], ["00", "01"], ["00", "13"], ["00", "01", "31", "32", "41", "71", "72"],
             ["00", "01", "12", "13"], ["85"], ["0000", "0001"])
    values = ["".join(rng.choice(p) for p in parts) for _ in range(3000)]
    values += ["3604 1352-0385.0001", "٣" * 16, "123", "", None, "36041352038500011"]
    got = nik_problems(pd.Series(values, dtype=object))
    canon = [None if v is None else "".join(c for c in v if not c.isspace() and c not in ".-") for v in values]
    assert got.tolist() == [_nik_problem(c) if c else "" for c in canon]
    assert (got == "").any() and (got != "").any()
    arrow = nik_problems(pd.Series(values * 2, dtype="str", index=range(7, 7 + 2 * len(values))))  # NIKs repeat
    assert arrow.tolist() == got.tolist() * 2 and arrow.index[0] == 7 and arrow.dtype == "string"


def test_whole_numbers_beyond_int64_are_invalid_not_an_error():
    """A workbook cell holding 2**64 as a whole number (found by the ingest's property test)."""
    result = parse_number(pd.Series([None, 18446744073709551616, 2**63, -(2**63) + 1, 7], dtype=object),
                          integer=True)
    assert result.invalid.tolist() == [False, True, True, False, False]
    assert result.values.tolist() == [pd.NA, pd.NA, pd.NA, -(2**63) + 1, 7]
