"""One language module: the words, numbers, dates and region names users read, per language.

Charts, models, barrier profiles and reports all write through this package, so a word,
a number format or a region name is decided in one place::

    from kkbm_analysis import i18n
    i18n.text("report.key_figures", "id")          # 'Angka kunci'   (catalogue.yaml)
    i18n.number(1234.5, 1, "id")                   # '1.234,5'       (Babel, CLDR id_ID)
    i18n.percent(0.425, 1, "id")                   # '42,5%'
    i18n.interval(0.12, 0.18, 0, "id", percent=True)   # '12%–18%'
    i18n.rupiah(12_500_000, "id")                  # 'Rp 12,5 juta'
    i18n.date("2026-11-29", "id")                  # '29 November 2026'
    i18n.region_name("36", "id")                   # 'Banten'

Modules
-------
languages
    :data:`LANGS`, the CLDR locales, :func:`check_lang`.
catalogue
    :func:`text` over ``catalogue.yaml`` (every user-facing string, grouped by where it
    appears) and its glossary (one Indonesian term per concept, :func:`glossary_problems`).
formats
    :func:`number`, :func:`percent`, :func:`interval`, :func:`rupiah`, :func:`p_value`,
    :func:`date` on Babel.
names
    :func:`region_name` from the region layer; :func:`province_short_forms` (abbreviations, short names).

Adding a language: its code and locale in :mod:`.languages`, a text in it for every
catalogue entry.
"""
from .catalogue import GlossaryTerm, entries, glossary, glossary_problems, has_text, text
from .formats import date, date_range, interval, is_finite, is_missing, number, p_value, percent, rupiah
from .languages import LANGS, LOCALES, check_lang
from .names import PROVINCES_FILE, SHORT_NAMES, province_short_forms, region_name

__all__ = [
    "LANGS", "LOCALES", "check_lang",
    "text", "has_text", "entries", "GlossaryTerm", "glossary", "glossary_problems",
    "number", "percent", "interval", "rupiah", "p_value", "date", "date_range", "is_missing", "is_finite",
    "region_name", "SHORT_NAMES", "PROVINCES_FILE", "province_short_forms", "join_names", "ci_label",
]


def join_names(names: list[str] | tuple[str, ...], lang: str) -> str:
    """``'A'``, ``'A and B'``, ``'A, B and C'`` (``dan`` in Indonesian)."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + f" {text('common.and', lang)} " + names[-1]


def ci_label(lo: object, hi: object, decimals: int = 2, lang: str = "en", *, percent: bool = False) -> str:
    """A labelled 95 % interval for a sentence: ``'95% CI 1.25–1.55'``."""
    return f"{text('common.ci95', lang)} {interval(lo, hi, decimals, lang, percent=percent)}"
