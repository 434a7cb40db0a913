"""Vectorised parsers for raw cell values from Indonesian spreadsheets and surveys.

Excel, CSV and KoboToolbox exports deliver columns whose cells mix ``str`` (often
with stray spaces), ``int``, ``float``, ``None``/``NaN`` and date objects
(``datetime.datetime``, ``datetime.date``, ``pd.Timestamp``).  Every parser here
takes such a Series and returns a :class:`Parsed` pair ``(values, invalid)``.

Conventions
-----------
Blank versus invalid
    A cell is *blank* when it is ``None``, ``NaN``, ``NaT``, ``pd.NA``, an empty
    or whitespace-only string, or a lone dash (``-``, ``–``, ``—``).  Blank cells
    are simply missing: their value is NA and ``invalid`` is ``False``.  A cell
    is *invalid* when it is non-blank but cannot be parsed: its value is NA and
    ``invalid`` is ``True``.
Numbers
    Indonesian convention first: ``.`` groups thousands and ``,`` is the decimal
    separator (``1.250.000,50``).  When both occur, the last one is the decimal
    separator, so English ``1,250,000.50`` works too.  A single ``,`` is always
    decimal (``1,250`` is 1.25); a single ``.`` followed by exactly three digits
    is a thousands separator (``1.250`` is 1250) unless the integer part is
    ``0`` (``0.250`` is 0.25).  Thousands groups must have three digits, spaces
    may separate them, ``(1.000)`` is negative, and the scale words ``rb``/
    ``ribu`` (1e3), ``jt``/``juta`` (1e6) and ``m``/``miliar``/``milyar`` (1e9)
    multiply.  Scientific notation (``1.5E+06``, as written by some CSV
    exporters) is accepted.  Python numbers pass through; ``bool`` counts as 0/1.
Rupiah
    Numbers, optionally prefixed by ``Rp``, ``Rp.`` or ``IDR`` and optionally
    ending in ``,-`` or ``.-``.  Currency prefixes are *not* accepted by
    :func:`parse_number`.
Percent
    Percent columns hold percents: the result is a fraction, ``value / 100``,
    whether or not the cell has a ``%`` sign (``12,5%`` and ``12,5`` are both
    0.125).  This applies to numeric cells too (divided by 100 in float
    arithmetic), so Excel cells formatted as percent, which are stored as
    fractions (0.125), must not be passed through here.
Dates
    Day first (``26/07/2019``), ISO year first (``2019-07-26``), Indonesian and
    English month names (``26 Juli 2019``, ``26-Jul-19``), month-only forms
    (``Jul-19``, ``07/2019``, ``2019-07``: first of the month) and Excel serial
    numbers (days after 1899-12-30).  A trailing time and UTC offset are
    dropped: the date is the wall date as written.  Results are
    ``datetime64[ns]`` at midnight, so dates outside 1677-09-22..2262-04-11
    are invalid.
Speed
    Each parser factorises its input, parses every distinct non-NA value once
    and maps the results back with ``take``.  The common number forms are
    parsed with vectorised string operations; the rest value by value with
    precompiled regular expressions.  Numeric, datetime and boolean dtypes
    take fully vectorised paths.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

__all__ = [
    "Parsed",
    "normalise_text",
    "parse_bool",
    "parse_category",
    "parse_date",
    "parse_month",
    "parse_number",
    "parse_percent",
    "parse_rupiah",
]


@dataclass(frozen=True, eq=False)
class Parsed:
    """Result of a parser.

    Attributes
    ----------
    values : pandas.Series
        Parsed values with the input's index and name; NA (``<NA>``, ``NaT``
        or ``NaN`` for object dtype) where the input was blank or invalid.
    invalid : pandas.Series
        Boolean Series with the same index: ``True`` where the input was
        non-blank but could not be parsed.
    """

    values: pd.Series
    invalid: pd.Series


# --------------------------------------------------------------------------
# Shared machinery
# --------------------------------------------------------------------------

_INVALID = object()  # per-value sentinel: non-blank but unparseable
_BLANK_STRINGS = frozenset({"", "-", "\u2013", "\u2014"})
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def _clean(text: str) -> str | None:
    """Strip invisible characters and outer whitespace; ``None`` when blank.

    Parameters
    ----------
    text : str
        Raw cell text.

    Returns
    -------
    str or None
        The stripped text, or ``None`` if the cell is blank.
    """
    text = text.translate(_INVISIBLE).strip()
    return None if text in _BLANK_STRINGS else text


def _is_real(value: Any) -> bool:
    """Return True for int/float/NumPy numbers and ``Decimal`` (bool included)."""
    return isinstance(value, (numbers.Real, Decimal))


def _as_series(raw: Any) -> pd.Series:
    """Return ``raw`` as a Series (lists and arrays are wrapped)."""
    return raw if isinstance(raw, pd.Series) else pd.Series(raw, dtype=object)


def _wrap(raw: pd.Series, values: Any, invalid: np.ndarray, dtype: Any = None) -> Parsed:
    """Build a :class:`Parsed` aligned with ``raw``."""
    vals = pd.Series(values, index=raw.index, name=raw.name, dtype=dtype, copy=False)
    bad = pd.Series(invalid, index=raw.index, name=raw.name, dtype=bool, copy=False)
    return Parsed(vals, bad)


def _by_unique(
    raw: pd.Series,
    parse_many: Callable[[np.ndarray], list],
    to_array: Callable[[list], Any],
    dtype: Any = None,
) -> Parsed:
    """Parse each distinct non-NA value of ``raw`` once and map back.

    Parameters
    ----------
    raw : pandas.Series
        Input cells.
    parse_many : callable
        Maps the object array of distinct values to a list of parsed values,
        with ``None`` for blank and ``_INVALID`` for unparseable entries.
    to_array : callable
        Turns the list of parsed values (``None`` for missing) into an array
        whose ``take(..., allow_fill=True)`` fills with NA.
    dtype : optional
        dtype for the output Series.

    Returns
    -------
    Parsed
    """
    codes, uniques = _factorize(raw)
    results = parse_many(np.asarray(uniques, dtype=object))
    bad = np.fromiter((r is _INVALID for r in results), bool, len(results))
    arr = to_array([None if r is _INVALID else r for r in results])
    values = arr.take(codes, allow_fill=True)
    invalid = np.append(bad, False)[codes]  # code -1 (NA) -> last entry, False
    return _wrap(raw, values, invalid, dtype)


class _Unhashable:
    """Stand-in for an unhashable cell (e.g. a list); no parser accepts it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _hashable(value: Any) -> Any:
    """Return ``value``, or an :class:`_Unhashable` wrapper if it has no hash."""
    try:
        hash(value)
    except TypeError:
        return _Unhashable(value)
    return value


def _factorize(raw: pd.Series) -> tuple[np.ndarray, Any]:
    """``pd.factorize`` with NA -> -1, tolerating unhashable cells."""
    try:
        return pd.factorize(raw, use_na_sentinel=True)
    except TypeError:
        return pd.factorize(raw.map(_hashable), use_na_sentinel=True)


def _each(parse_one: Callable[[Any], Any]) -> Callable[[np.ndarray], list]:
    """Lift a one-value parser to a ``parse_many`` for :func:`_by_unique`."""
    return lambda uniques: [parse_one(u) for u in uniques]


def _object_array(items: list) -> pd.api.extensions.ExtensionArray:
    """Object array with ``NaN`` for missing entries."""
    arr = np.empty(len(items), dtype=object)
    arr[:] = [np.nan if x is None else x for x in items]
    return pd.array(arr, dtype=object)


# --------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------

_SCALES = {"rb": 3, "ribu": 3, "jt": 6, "juta": 6, "m": 9, "miliar": 9, "milyar": 9}
_NUMBER_RE = re.compile(
    r"""^(?P<open>\()?\s*
    (?P<sign>[-+])?\s*
    (?P<cur>rp\.?|idr)?\s*
    (?P<sign2>[-+])?\s*
    (?P<body>[0-9](?:[0-9., ]*[0-9])?)\s*
    (?P<scale>ribu|rb|juta|jt|miliar|milyar|m)?\s*
    (?P<pct>%)?\s*
    (?P<close>\))?$""",
    re.VERBOSE,
)
_SCI_RE = re.compile(r"^[-+]?[0-9]+(?:\.[0-9]+)?e[-+]?[0-9]+$")
_PLAIN_INT_RE = re.compile(r"^[0-9]+$")
_GROUPED_RE = re.compile(r"^[1-9][0-9]{0,2}(?P<sep>[ .,])[0-9]{3}(?:(?P=sep)[0-9]{3})*$")
_RUPIAH_TAIL_RE = re.compile(r"[.,]\s*-$")
_INT64_LIMIT = 2**63
#: An ASCII character that none of the number forms above has (in either case), nor a blank cell.
_NO_NUMBER = re.compile(r"[^\s0-9.,()%+\-abdeijlmprtuyABDEIJLMPRTUY\x80-\U0010ffff]")


def _decimal_separator(body: str) -> str:
    """Return the decimal separator of a number body ('' when none).

    Parameters
    ----------
    body : str
        Digits with ``.``, ``,`` or space separators.

    Returns
    -------
    str
        ``"."``, ``","`` or ``""``.
    """
    n_dot, n_comma = body.count("."), body.count(",")
    if n_dot and n_comma:  # the last one is decimal
        return "." if body.rfind(".") > body.rfind(",") else ","
    if n_comma == 1:  # Indonesian decimal comma
        return ","
    if n_dot == 1:
        head, tail = body.split(".")
        is_thousands = len(tail) == 3 and not head.lstrip().startswith("0")
        return "" if is_thousands else "."
    return ""  # none, or repeated thousands separators


def _split_body(body: str) -> tuple[str, str] | None:
    """Split a number body into integer and fraction digit strings.

    Parameters
    ----------
    body : str
        Digits with separators, e.g. ``"1.250.000,50"``.

    Returns
    -------
    tuple of str or None
        ``(integer_digits, fraction_digits)``, or ``None`` if malformed.
    """
    dec = _decimal_separator(body)
    if dec:
        if body.count(dec) != 1:
            return None
        int_part, frac = body.split(dec)
        if not _PLAIN_INT_RE.match(frac):
            return None
    else:
        int_part, frac = body, ""
    if _PLAIN_INT_RE.match(int_part):
        return int_part, frac
    if _GROUPED_RE.match(int_part):
        return re.sub(r"[ .,]", "", int_part), frac
    return None


def _number_text(text: str, *, currency: bool, percent: bool) -> str | None:
    """Rewrite number text as a canonical literal such as ``"-1250.5e0"``.

    Parameters
    ----------
    text : str
        Cleaned (stripped, non-blank) cell text.
    currency : bool
        Accept ``Rp``/``IDR`` prefixes and a ``,-`` tail.
    percent : bool
        Accept a ``%`` sign, reject scale words, and divide by 100.

    Returns
    -------
    str or None
        A literal that ``float``/``Decimal`` accept, or ``None`` if invalid.
    """
    text = " ".join(text.lower().replace("\u2212", "-").split())
    if currency:
        text = _RUPIAH_TAIL_RE.sub("", text)
    shift = -2 if percent else 0
    if _SCI_RE.match(text):
        mantissa, exponent = text.split("e")
        return f"{mantissa}e{int(exponent) + shift}"
    m = _NUMBER_RE.match(text)
    if m is None or bool(m["open"]) != bool(m["close"]):
        return None
    signs = [s for s in (m["sign"], m["sign2"]) if s]
    if len(signs) > 1 or (m["open"] and signs):
        return None
    if (m["cur"] and not currency) or (m["pct"] and not percent):
        return None
    if m["scale"] and percent:
        return None
    parts = _split_body(m["body"])
    if parts is None:
        return None
    negative = bool(m["open"]) or signs == ["-"]
    exponent = _SCALES.get(m["scale"], 0) + shift
    return f"{'-' if negative else ''}{parts[0]}.{parts[1] or '0'}e{exponent}"


def _real_value(value: Any, *, integer: bool, percent: bool) -> Any:
    """Parse a Python/NumPy number (bool counts as 0/1); percents are ``x / 100``."""
    number = float(value)
    if not math.isfinite(number):
        return _INVALID
    if percent:
        return number / 100  # same arithmetic as the vectorised numeric path
    if not integer:
        return number
    if isinstance(value, (numbers.Integral, np.bool_)):
        return int(value) if abs(int(value)) < _INT64_LIMIT else _INVALID
    if not number.is_integer() or abs(number) >= _INT64_LIMIT:
        return _INVALID
    return int(number)


def _number_one(value: Any, *, integer: bool, currency: bool, percent: bool) -> Any:
    """Parse one distinct cell value to float/int, ``None`` or ``_INVALID``."""
    if _is_real(value):
        return _real_value(value, integer=integer, percent=percent)
    if not isinstance(value, str):
        return _INVALID
    text = _clean(value)
    if text is None:
        return None
    literal = _number_text(text, currency=currency, percent=percent)
    if literal is None:
        return _INVALID
    if not integer:
        return float(literal)
    number = Decimal(literal)
    if number != number.to_integral_value() or abs(number) >= _INT64_LIMIT:
        return _INVALID
    return int(number)


# Unambiguous common forms, parsed with vectorised string ops (see _simple_numbers).
_SIMPLE_DOTS_RE = r"-?(?:[1-9][0-9]{0,2}(?:\.[0-9]{3})+|[0-9]+)(?:,[0-9]+)?"  # 1.250.000,5
_SIMPLE_POINT_RE = r"-?[0-9]+\.(?:[0-9]{1,2}|[0-9]{4,})"  # 12.75 (not 3 decimals)


def _simple_numbers(
    uniques: np.ndarray, *, integer: bool, currency: bool, percent: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised parse of the unambiguous common number forms.

    Handles plain integers, Indonesian ``1.250.000,50``, decimal-comma
    ``12,5`` and decimal-point ``12.75`` (plus ``Rp``/``,-`` or ``%`` when
    allowed).  Everything else is left to the per-value parser, which gives
    the same result for these forms.

    Parameters
    ----------
    uniques : numpy.ndarray
        Distinct cell values (object dtype).
    integer, currency, percent : bool
        As in :func:`_number_text`; in integer mode only digit strings up to
        18 digits are handled here.

    Returns
    -------
    handled : numpy.ndarray of bool
        Which entries were parsed.
    values : numpy.ndarray
        Parsed values of the handled entries, in order.
    """
    is_str = np.fromiter((isinstance(u, str) for u in uniques), bool, len(uniques))
    try:
        text = pd.Series(uniques[is_str], dtype=str).str.strip().str.lower()
    except UnicodeError:  # e.g. lone surrogates: leave all to the per-value parser
        return np.zeros(len(uniques), bool), np.empty(0)
    if currency:
        text = text.str.replace(r"^(?:rp\.?|idr) ?", "", regex=True)
        text = text.str.replace(r"[.,] ?-$", "", regex=True)
    if percent:
        text = text.str.replace(r" ?%$", "", regex=True)
    point = text.str.fullmatch(_SIMPLE_POINT_RE).to_numpy(dtype=bool)
    dots = text.str.fullmatch(_SIMPLE_DOTS_RE).to_numpy(dtype=bool)
    canon = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    canon = canon.where(~point, text)[point | dots]
    if integer:
        short = canon.str.fullmatch(r"-?[0-9]{1,18}").to_numpy(dtype=bool)
        ok, values = short, canon[short].astype(np.int64).to_numpy()
    else:
        ok = np.ones(len(canon), bool)
        values = (canon + "e-2" if percent else canon).astype(float).to_numpy()
    handled = np.zeros(len(uniques), bool)
    handled[np.flatnonzero(is_str)[point | dots][ok]] = True
    return handled, values


def _numbers_many(uniques: np.ndarray, **flags: bool) -> list:
    """``parse_many`` for numbers: vectorised common forms, then per value."""
    handled, values = _simple_numbers(uniques, **flags)
    results = [None] * len(uniques)
    for i, value in zip(np.flatnonzero(handled), values.tolist()):
        results[i] = value
    for i in np.flatnonzero(~handled):
        value = uniques[i]  # text with a character no number has (a date's "/", a word) is no number: no parse
        results[i] = _INVALID if isinstance(value, str) and _NO_NUMBER.search(value) else _number_one(value, **flags)
    return results


def _numeric_fast(raw: pd.Series, *, integer: bool, percent: bool) -> Parsed:
    """Vectorised path for Series with a numeric (non-bool) dtype."""
    if integer and ptypes.is_integer_dtype(raw.dtype):
        return _wrap(raw, raw.astype("Int64").array, np.zeros(len(raw), bool))
    data = raw.to_numpy(dtype=float, na_value=np.nan)
    missing = raw.isna().to_numpy()
    ok = np.isfinite(data)
    if integer:
        ok &= (np.floor(data) == data) & (np.abs(data) < _INT64_LIMIT)
        values = pd.array(np.where(ok, data, 0).astype(np.int64), dtype="Int64")
    else:
        values = pd.array(data / 100 if percent else data, dtype="Float64")
    values[~ok] = pd.NA
    return _wrap(raw, values, ~ok & ~missing)


def _parse_numeric(raw: Any, *, integer: bool, currency: bool, percent: bool) -> Parsed:
    """Shared driver of the number, rupiah and percent parsers."""
    raw = _as_series(raw)
    if ptypes.is_numeric_dtype(raw.dtype) and not ptypes.is_bool_dtype(raw.dtype):
        return _numeric_fast(raw, integer=integer, percent=percent)
    dtype = "Int64" if integer else "Float64"
    flags = {"integer": integer, "currency": currency, "percent": percent}
    parse_many = functools.partial(_numbers_many, **flags)
    return _by_unique(raw, parse_many, functools.partial(pd.array, dtype=dtype), dtype)


def parse_number(raw: pd.Series, *, integer: bool = False) -> Parsed:
    """Parse numbers written in Indonesian or English style.

    Parameters
    ----------
    raw : pandas.Series
        Raw cells (str, int, float, NA...).
    integer : bool, default False
        Return ``Int64``; a non-integral value is then invalid.

    Returns
    -------
    Parsed
        ``Float64`` (or ``Int64``) values.

    Examples
    --------
    >>> parse_number(pd.Series(["1.250.000", "12,5", "1,5 jt", "(1.000)"])).values.tolist()
    [1250000.0, 12.5, 1500000.0, -1000.0]
    """
    return _parse_numeric(raw, integer=integer, currency=False, percent=False)


def parse_rupiah(raw: pd.Series) -> Parsed:
    """Parse rupiah amounts such as ``"Rp 1.250.000,-"`` or ``"IDR 2 juta"``.

    Parameters
    ----------
    raw : pandas.Series
        Raw cells.

    Returns
    -------
    Parsed
        ``Float64`` amounts in rupiah.
    """
    return _parse_numeric(raw, integer=False, currency=True, percent=False)


def parse_percent(raw: pd.Series) -> Parsed:
    """Parse percents to fractions: ``"12,5%"``, ``"12.5 %"`` and ``"12,5"`` -> 0.125.

    Percent columns are assumed to hold percents, so a value without a ``%``
    sign (including a numeric cell) is divided by 100 as well.

    Parameters
    ----------
    raw : pandas.Series
        Raw cells.

    Returns
    -------
    Parsed
        ``Float64`` fractions.
    """
    return _parse_numeric(raw, integer=False, currency=False, percent=True)


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

_MONTHS = {name: number for number, names in enumerate(
    ["januari jan january", "februari feb peb pebruari february", "maret mar march", "april apr", "mei may",
     "juni jun june", "juli jul july", "agustus agu agt ags aug august", "september sep sept",
     "oktober okt oct october", "november nov nop nopember", "desember des dec december"], start=1)
    for name in names.split()}
_TIME = (
    r"(?:(?:\s+|t)[0-9]{1,2}[:.][0-9]{2}(?:[:.][0-9]{2}(?:[.,][0-9]+)?)?"
    r"(?:\s*[ap]\.?m\.?)?(?:\s*(?:z|utc|gmt|[-+][0-9]{2}(?::?[0-9]{2})?|wita|wib|wit))?)?$"
)
_Y = r"(?P<y>[0-9]{4}|[0-9]{2})"
_DATE_PATTERNS = [  # (regex, kind); kind "dmy" swaps to mdy when dayfirst=False
    (re.compile(r"^(?P<y>[0-9]{4})(?P<s>[-/.])(?P<m>[0-9]{1,2})(?P=s)(?P<d>[0-9]{1,2})" + _TIME),
     "ymd"),
    (re.compile(r"^(?P<d>[0-9]{1,2})(?P<s>[-/.])(?P<m>[0-9]{1,2})(?P=s)" + _Y + _TIME), "dmy"),
    (re.compile(r"^(?P<d>[0-9]{1,2})[-/. ]*(?P<mon>[a-z]+)\.?[-/., ]*" + _Y + _TIME), "named"),
    (re.compile(r"^(?P<mon>[a-z]+)\.? (?P<d>[0-9]{1,2}),? (?P<y>[0-9]{4})" + _TIME), "named"),
    (re.compile(r"^(?P<mon>[a-z]+)\.?[-/.,' ]*" + _Y + "$"), "named"),
    (re.compile(r"^(?P<m>[0-9]{1,2})[-/.](?P<y>[0-9]{4})$"), "ymd"),
    (re.compile(r"^(?P<y>[0-9]{4})[-/.](?P<m>[0-9]{1,2})$"), "ymd"),
]
_SERIAL_RE = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_MAX_SERIAL = 2958465
_MIN_DATE, _MAX_DATE = dt.date(1677, 9, 22), dt.date(2262, 4, 11)  # datetime64[ns]
_UNIX_ORDINAL = dt.date(1970, 1, 1).toordinal()


def _full_year(year: str) -> int:
    """Expand a two-digit year: 20yy up to the current year, else 19yy."""
    if len(year) == 4:
        return int(year)
    yy, this_yy = int(year), dt.date.today().year % 100
    return (2000 if yy <= this_yy else 1900) + yy


def _make_date(year: int, month: int, day: int) -> dt.date | None:
    """Return a valid in-range date, or ``None``."""
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return None
    return date if _MIN_DATE <= date <= _MAX_DATE else None


def _date_from_match(m: re.Match, kind: str, dayfirst: bool) -> dt.date | None:
    """Build a date from a matched pattern (missing day -> 1)."""
    groups = m.groupdict()
    if kind == "named":
        month = _MONTHS.get(groups["mon"])
        if month is None:
            return None
    else:
        month = int(groups["m"])
    day = int(groups.get("d") or 1)
    if kind == "dmy" and not dayfirst:
        day, month = month, day
    return _make_date(_full_year(groups["y"]), month, day)


def _serial_date(serial: float) -> dt.date | None:
    """Convert an Excel serial day number; 1900..2100 look like years: invalid."""
    if not math.isfinite(serial) or not 1 <= serial <= _MAX_SERIAL:
        return None
    days = math.floor(serial)
    if 1900 <= days <= 2100:
        return None
    date = _EXCEL_EPOCH + dt.timedelta(days=days)
    return date if _MIN_DATE <= date <= _MAX_DATE else None


def _text_date(text: str, dayfirst: bool) -> dt.date | None:
    """Parse cleaned date text."""
    text = " ".join(text.lower().split())
    if _SERIAL_RE.match(text):
        return _serial_date(float(text))
    for pattern, kind in _DATE_PATTERNS:
        m = pattern.match(text)
        if m is not None:
            return _date_from_match(m, kind, dayfirst)
    return None


def _dates_many(uniques: np.ndarray, dayfirst: bool) -> list:
    """``parse_many`` for dates (:func:`_by_unique`): text through :func:`_str_date`, the rest :func:`_date_one`."""
    this_year = dt.date.today().year  # once, not per value
    return [_str_date(u, dayfirst, this_year) if isinstance(u, str) else _date_one(u, dayfirst) for u in uniques]


def _date_one(value: Any, dayfirst: bool) -> Any:
    """Parse one distinct cell, not text (:func:`_str_date`), to days since 1970-01-01 or ``_INVALID``."""
    if isinstance(value, dt.datetime):  # includes pd.Timestamp; wall date
        date = _make_date(value.year, value.month, value.day)
    elif isinstance(value, dt.date):
        date = _make_date(value.year, value.month, value.day)
    elif isinstance(value, np.datetime64):
        return _date_one(pd.Timestamp(value), dayfirst)
    elif _is_real(value) and not isinstance(value, (bool, np.bool_)):
        date = _serial_date(float(value))
    else:
        date = None
    return _INVALID if date is None else date.toordinal() - _UNIX_ORDINAL


@functools.lru_cache(maxsize=1 << 17)
def _str_date(value: str, dayfirst: bool, this_year: int) -> Any:
    """:func:`_date_one` of a text cell, remembered across the chunks and tables of a run (they repeat the same
    dates; ``this_year`` is part of the key because two-digit years depend on it)."""
    text = _clean(value)
    if text is None:
        return None
    date = _text_date(text, dayfirst)
    return _INVALID if date is None else date.toordinal() - _UNIX_ORDINAL


def _days_array(items: list, unit: str = "D") -> pd.api.extensions.ExtensionArray:
    """``datetime64[ns]`` array from days since the epoch (``None`` -> NaT), truncated to ``unit``
    (``"M"``: the first of the month)."""
    nat = np.iinfo(np.int64).min
    days = np.array([nat if d is None else d for d in items], dtype=np.int64)
    return pd.array(days.view("datetime64[D]").astype(f"datetime64[{unit}]").astype("datetime64[ns]"))


def _datetime_fast(raw: pd.Series) -> Parsed | None:
    """Vectorised path for datetime64 Series; ``None`` if out of ns range."""
    values = raw.dt.tz_localize(None) if raw.dt.tz is not None else raw
    try:
        values = values.dt.normalize().astype("datetime64[ns]")
    except (pd.errors.OutOfBoundsDatetime, OverflowError, ValueError):
        return None
    return _wrap(raw, values.array, np.zeros(len(raw), bool))


def parse_date(raw: pd.Series, *, dayfirst: bool = True) -> Parsed:
    """Parse dates to ``datetime64[ns]`` at midnight.

    Accepted: ``26/07/2019``, ``26-07-2019``, ``26.07.2019``, ``26/7/19``,
    ISO ``2019-07-26`` (with an optional time and offset, which are dropped),
    ``26 Juli 2019``, ``26-Jul-19``, ``July 26, 2019``, month-only forms
    (``Jul-19``, ``Juli 2019``, ``07/2019``, ``2019-07``: first of month),
    Excel serial numbers, and date/datetime/Timestamp objects.

    Parameters
    ----------
    raw : pandas.Series
        Raw cells.
    dayfirst : bool, default True
        Read all-numeric ``a/b/yyyy`` as day/month (False: month/day).  ISO and
        month-name forms are unaffected.

    Returns
    -------
    Parsed
        ``datetime64[ns]`` values.

    Notes
    -----
    Two-digit years are 20yy up to the current year and 19yy above it.
    A bare number is an Excel serial (1899-12-30 plus n days, time fraction
    dropped); integers 1900-2100 look like years and are invalid.
    """
    raw = _as_series(raw)
    if ptypes.is_datetime64_any_dtype(raw.dtype):
        fast = _datetime_fast(raw)
        if fast is not None:
            return fast
    return _by_unique(raw, functools.partial(_dates_many, dayfirst=dayfirst), _days_array, "datetime64[ns]")


def parse_month(raw: pd.Series) -> Parsed:
    """Parse months (or full dates) to the first day of the month.

    Parameters
    ----------
    raw : pandas.Series
        Raw cells; same accepted forms as :func:`parse_date`, typically
        ``Jul-19``, ``Juli 2019``, ``07/2019`` or ``2019-07``.

    Returns
    -------
    Parsed
        ``datetime64[ns]`` values on the first of the month.
    """
    raw = _as_series(raw)
    if not ptypes.is_datetime64_any_dtype(raw.dtype):  # each distinct value to its month once, not every row
        to_months = functools.partial(_days_array, unit="M")
        return _by_unique(raw, functools.partial(_dates_many, dayfirst=True), to_months, "datetime64[ns]")
    parsed = parse_date(raw)
    months = parsed.values.to_numpy().astype("datetime64[M]").astype("datetime64[ns]")
    values = pd.Series(months, index=parsed.values.index, name=parsed.values.name)
    return Parsed(values, parsed.invalid)


# --------------------------------------------------------------------------
# Booleans and categories
# --------------------------------------------------------------------------

_TRUE = {"ya", "y", "yes", "iya", "benar", "true", "1", "v", "\u2713", "\u2714", "sudah", "ada"}
_FALSE = {"tidak", "tdk", "t", "no", "n", "false", "0", "belum", "tidak ada", "bukan", "salah"}
_BOOLS = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}


def _bool_one(value: Any) -> Any:
    """Parse one distinct cell to bool, ``None`` or ``_INVALID``."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        text = _clean(value)
        if text is None:
            return None
        key = " ".join(text.lower().split())
        if key not in _BOOLS:
            key = normalise_text(text)  # "Ya." / "TIDAK!"
        return _BOOLS.get(key, _INVALID)
    if _is_real(value) and value in (0, 1):
        return bool(value)
    return _INVALID


def parse_bool(raw: pd.Series) -> Parsed:
    """Parse yes/no answers in Indonesian or English.

    True: ``ya``, ``y``, ``yes``, ``iya``, ``benar``, ``true``, ``1``, ``v``,
    ``✓``, ``✔``, ``sudah``, ``ada``.  False: ``tidak``, ``tdk``, ``t``,
    ``no``, ``n``, ``false``, ``0``, ``belum``, ``tidak ada``, ``bukan``,
    ``salah``.  Case, outer spaces and trailing punctuation are ignored.
    ``x`` is ambiguous (ticked or crossed out) and therefore invalid.

    Parameters
    ----------
    raw : pandas.Series
        Raw cells; Python bools and the numbers 0/1 pass through.

    Returns
    -------
    Parsed
        Values of pandas ``"boolean"`` dtype.
    """
    raw = _as_series(raw)
    if ptypes.is_bool_dtype(raw.dtype):
        return _wrap(raw, raw.astype("boolean").array, np.zeros(len(raw), bool))
    to_array = functools.partial(pd.array, dtype="boolean")
    return _by_unique(raw, _each(_bool_one), to_array, "boolean")


def normalise_text(value: str) -> str:
    """Normalise text for matching.

    Lower-cases (``casefold``), strips accents, removes apostrophes, turns all
    other characters that are not letters or digits into spaces and collapses
    whitespace.

    Parameters
    ----------
    value : str
        Text to normalise.

    Returns
    -------
    str
        Normalised text, e.g. ``"  PMI-Purna (mantan) "`` -> ``"pmi purna mantan"``.
    """
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"['\u2018\u2019`\u00b4]", "", text)
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def _match_key(value: str) -> str:
    """Matching key: normalised text without spaces ("PMI Purna" == "pmi_purna")."""
    return normalise_text(value).replace(" ", "")


def _synonym_table(synonyms: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Map matching keys to canonical keys; raise on empty or clashing synonyms."""
    table: dict[str, str] = {}
    for canonical, names in synonyms.items():
        names = [names] if isinstance(names, str) else list(names)
        for name in [canonical, *names]:
            key = _match_key(name)
            if not key:
                raise ValueError(f"synonym {name!r} of {canonical!r} is blank after normalisation")
            if table.setdefault(key, canonical) != canonical:
                raise ValueError(f"{name!r} matches both {table[key]!r} and {canonical!r}")
    return table


def _category_one(value: Any, table: dict[str, str]) -> Any:
    """Parse one distinct cell to its canonical key, ``None`` or ``_INVALID``."""
    if isinstance(value, str):
        text = _clean(value)
        if text is None:
            return None
    elif isinstance(value, (bool, np.bool_)):
        text = str(bool(value))
    elif _is_real(value):
        number = float(value)
        text = str(int(number)) if number.is_integer() else repr(number)
    else:
        return _INVALID
    return table.get(_match_key(text), _INVALID)


def parse_category(raw: pd.Series, synonyms: Mapping[str, Iterable[str]]) -> Parsed:
    """Map free-text answers to canonical category keys.

    Parameters
    ----------
    raw : pandas.Series
        Raw cells.
    synonyms : mapping of str to iterable of str
        ``{canonical_key: [synonym, ...]}``.  The key itself always matches;
        a bare string is taken as a single synonym.  Matching ignores case,
        accents, spaces and punctuation (see :func:`normalise_text`).

    Returns
    -------
    Parsed
        ``object`` values holding canonical keys (``NaN`` when missing).

    Raises
    ------
    ValueError
        If a synonym is blank after normalisation or matches two keys.

    Examples
    --------
    >>> syn = {"pmi_purna": ["PMI Purna", "mantan PMI"], "keluarga": ["keluarga PMI"]}
    >>> parse_category(pd.Series(["Mantan  PMI", "pmi-purna", "x"]), syn).values.tolist()
    ['pmi_purna', 'pmi_purna', nan]
    """
    table = _synonym_table(synonyms)
    parse_many = _each(lambda v: _category_one(v, table))
    return _by_unique(_as_series(raw), parse_many, _object_array, object)
