"""The languages of the suite and their CLDR locales.

Every user-facing word exists in Bahasa Indonesia (``"id"``) and English (``"en"``).
Numbers and dates follow the CLDR locale of each language (``id_ID``, ``en``) through
Babel. Adding a language means adding it here, giving every catalogue entry a text in it
(``catalogue.yaml``; a test checks that none is missing) and naming its locale.
"""
from __future__ import annotations

#: Language codes, Indonesian first (the programme's own language).
LANGS: tuple[str, ...] = ("id", "en")
#: CLDR locale of each language (decimal and grouping symbols, month names).
LOCALES: dict[str, str] = {"id": "id_ID", "en": "en"}


def check_lang(lang: object) -> str:
    """Return *lang* if it is one of :data:`LANGS`; raise ValueError otherwise.

    Examples
    --------
    >>> check_lang("id")
    'id'
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(repr(x) for x in LANGS)}, not {lang!r}")
    return str(lang)
