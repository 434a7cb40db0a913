"""How a report writes an indicator value in its unit (words and number formats: :mod:`kkbm_analysis.i18n`)."""
from __future__ import annotations

from typing import Any

from ..i18n import number, percent, rupiah


def value_text(x: Any, unit: str, lang: str) -> str:
    """An indicator value in its unit (proportions as %, rupiah as Rp, counts as integers)."""
    if unit == "proportion":
        return percent(x, 1, lang)
    if unit.startswith("rupiah"):
        return rupiah(x, lang)
    if unit in ("count", "people"):
        return number(x, 0, lang)
    if unit == "ratio":
        return percent(x, 1, lang, signed=True)
    return number(x, 1, lang)
