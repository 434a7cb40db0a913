"""Numbers, percentages, intervals, rupiah, p-values and dates, written per language.

Indonesian writes ``1.234,5``, ``42,5%`` and ``29 November 2026``; English ``1,234.5``,
``42.5%`` and ``29 November 2026``. Separators, patterns and month names come from CLDR
through Babel (locales of :data:`~kkbm_analysis.i18n.languages.LOCALES`); nothing here
swaps characters by hand.

Rounding is Python's (the float is rounded to the requested decimals exactly as
``f"{x:.1f}"`` does), and Babel then writes the rounded number in the locale, so a value
prints the same in both languages and the same as before the suite used Babel. A rounded
zero never carries a minus sign (``-0,0`` is written ``0,0``). Missing values (None, NaN,
``pd.NA``) are written as the catalogue's "no data".
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import re
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.numbers import format_decimal, format_percent

from .catalogue import text
from .languages import LOCALES, check_lang

__all__ = ["is_missing", "is_finite", "number", "percent", "interval", "rupiah", "p_value", "date", "date_range"]


def is_missing(x: Any) -> bool:
    """True for None, NaN, NaT and ``pd.NA`` (and anything pandas calls missing)."""
    if x is None:
        return True
    try:
        import pandas as pd
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def is_finite(x: Any) -> bool:
    """True for a real, finite number."""
    if is_missing(x):
        return False
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


@functools.cache
def _locale(lang: str) -> Locale:
    return Locale.parse(LOCALES[check_lang(lang)])


@functools.cache
def _pattern(lang: str, decimals: int, percent: bool, signed: bool) -> str:
    """The locale's decimal (or percent) pattern with exactly ``decimals`` fraction digits."""
    loc = _locale(lang)
    base = (loc.percent_formats if percent else loc.decimal_formats)[None].pattern.split(";")[0]
    digits = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    pattern = re.sub(r"[#0,.]+", digits, base, count=1)
    if signed:
        pattern = f"+{pattern};-{pattern}"
    return pattern


def _rounded(value: float, decimals: int) -> tuple[Decimal, bool]:
    """``value`` rounded as Python rounds floats, as an exact Decimal, and whether it was a negative zero.

    A negative value that rounds to zero is written as an unsigned zero (never ``-0,0``).
    """
    out = Decimal(f"{value:.{decimals}f}")
    if out == 0 and out.is_signed():
        return abs(out), True
    return out, False


def number(x: Any, decimals: int = 0, lang: str = "en", *, percent: bool = False, signed: bool = False) -> str:
    """A number in the language's format.

    Parameters
    ----------
    x : number
        The value; missing gives ``"no data"`` / ``"tidak ada data"``.
    decimals : int
        Digits after the decimal separator.
    lang : {'id', 'en'}
    percent : bool
        *x* is a proportion: written as a percentage (``0.425`` -> ``42,5%``).
    signed : bool
        Always show the sign (``+7,1``).

    Examples
    --------
    >>> number(1234.567, 1, "id"), number(1234.567, 1, "en"), number(0.425, 1, "id", percent=True)
    ('1.234,6', '1,234.6', '42,5%')
    """
    check_lang(lang)
    if is_missing(x):
        return text("common.no_data", lang)
    value = float(x)
    if not math.isfinite(value):
        return format_decimal(value, locale=_locale(lang))
    rounded, negative_zero = _rounded(100 * value if percent else value, decimals)
    pattern = _pattern(lang, decimals, percent, signed and not negative_zero)
    if percent:
        return format_percent(rounded.scaleb(-2), format=pattern, locale=_locale(lang))
    return format_decimal(rounded, format=pattern, locale=_locale(lang))


def percent(x: Any, decimals: int = 0, lang: str = "en", *, signed: bool = False) -> str:
    """A proportion as a percentage: ``percent(0.425, 1, 'id') == '42,5%'``."""
    return number(x, decimals, lang, percent=True, signed=signed)


def interval(lo: Any, hi: Any, decimals: int = 0, lang: str = "en", *, percent: bool = False) -> str:
    """An interval: ``'12–18%'``, ``'1.234–1.456'``; ``'-0,5 s.d. 0,3'`` when a bound is negative.

    A missing bound gives the catalogue's "not applicable" (``—``).
    """
    if is_missing(lo) or is_missing(hi):
        return text("common.not_applicable", lang)
    sep = "–" if min(float(lo), float(hi)) >= 0 else " " + text("common.interval_to", lang) + " "
    return f"{number(lo, decimals, lang, percent=percent)}{sep}{number(hi, decimals, lang, percent=percent)}"


def rupiah(x: Any, lang: str = "en") -> str:
    """An amount in rupiah, in millions or billions when large: ``'Rp 12,5 juta'`` / ``'Rp 12.5 million'``."""
    if is_missing(x):
        return text("common.no_data", lang)
    value = float(x)
    if abs(value) >= 1e9:
        return f"Rp {number(value / 1e9, 1, lang)} {text('common.billion', lang)}"
    if abs(value) >= 1e6:
        return f"Rp {number(value / 1e6, 1, lang)} {text('common.million', lang)}"
    return f"Rp {number(value, 0, lang)}"


def p_value(p: Any, lang: str = "en") -> str:
    """A p-value: ``'p < 0.001'`` or ``'p = 0.034'`` (``'p = 0,034'`` in Indonesian)."""
    if is_missing(p):
        return "p " + text("common.not_available", lang)
    if float(p) < 0.001:
        return "p < " + number(0.001, 3, lang)
    return "p = " + number(p, 3, lang)


def date(value: Any, lang: str = "en") -> str:
    """A date in words: ``'29 November 2026'`` (Indonesian month names in Indonesian)."""
    if is_missing(value):
        return text("common.no_data", lang)
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    elif hasattr(value, "date") and callable(value.date):
        value = value.date()
    return _babel_date(value, "d MMMM y", locale=_locale(lang))


def date_range(start: Any, end: Any, lang: str = "en") -> str:
    """A span of dates in words: ``'1 January 2018 – 31 December 2018'`` (``'1 Januari 2018 – 31 Desember 2018'``)."""
    return f"{date(start, lang)} – {date(end, lang)}"
