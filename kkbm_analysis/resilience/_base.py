"""Shared pieces of the resilience results: the result base, labels, engine quirks, guards."""
from __future__ import annotations

import contextlib
import logging
import warnings
from dataclasses import dataclass
from typing import Iterator

import pandas as pd

from ..i18n import check_lang
from ..i18n import ci_label as fmt_ci  # the language module's formats (strings move to its catalogue next)
from ..i18n import number as fmt
from ..models._base import ModelInputError, ModelResult, table_text
from ..item_bank import load_item_bank

__all__ = ["ResilienceResult", "ModelInputError", "check_lang", "fmt", "fmt_ci", "table_text", "label",
           "quiet_engines", "MIN_SCALE_N"]

#: Fewest complete answers for any scale statistic or factor model.
MIN_SCALE_N = 50


@dataclass
class ResilienceResult(ModelResult):
    """A resilience result: ``estimates`` plus named tables, ``summary()`` and ``interpretation(lang)``.

    Subclasses list their extra DataFrames in ``_tables`` (name, English caption); the
    summary prints each of them.
    """

    _tables: tuple[tuple[str, str], ...] = ()

    def _body(self) -> str:
        parts = [table_text(self.estimates)]
        for name, caption in self._tables:
            df = getattr(self, name)
            if isinstance(df, pd.DataFrame) and len(df):
                parts.append(f"{caption}:\n{table_text(df)}")
        return "\n\n".join(parts)


def label(key: str, lang: str = "en") -> str:
    """A scale, capacity or item label in Indonesian or English."""
    bank = load_item_bank()
    if key in bank.scales:
        s = bank.scales[key]
        return s.label_id if lang == "id" else s.label_en
    if key == "rci":
        return "Indeks Kapasitas Ketahanan (RCI)" if lang == "id" else "Resilience Capacity Index (RCI)"
    try:
        item = bank.item(key)
    except KeyError:
        return key
    return item.label_id if lang == "id" else item.label_en


def capacity_label(key: str, lang: str = "en") -> str:
    """Short capacity names for sentences ('absorptive' / 'menyerap')."""
    short = {"absorptive": ("menyerap", "absorptive"), "adaptive": ("adaptif", "adaptive"),
             "transformative": ("transformatif", "transformative"), "rci": ("RCI", "RCI")}
    return short.get(key, (key, key))[0 if lang == "id" else 1]


@contextlib.contextmanager
def quiet_engines() -> Iterator[None]:
    """Silence semopy's logging chatter and factor_analyzer's scikit-learn deprecation warnings."""
    logger = logging.getLogger()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)
            warnings.filterwarnings("ignore", category=RuntimeWarning, module="semopy")
            warnings.filterwarnings("ignore", message=".*force_all_finite.*")
            yield
    finally:
        logger.setLevel(level)


def complete_items(items: pd.DataFrame, what: str, notes: list[str]) -> pd.DataFrame:
    """Rows answering every item (listwise), with a note of how many were left out."""
    full = items.dropna()
    if len(full) < len(items):
        notes.append(f"{len(items) - len(full):,} of {len(items):,} interviews left out of {what}: "
                     "an item was not answered (listwise deletion)")
    if len(full) < MIN_SCALE_N:
        raise ModelInputError(f"too few complete answers for {what}: {len(full)} (the documented minimum is "
                              f"{MIN_SCALE_N})")
    return full


