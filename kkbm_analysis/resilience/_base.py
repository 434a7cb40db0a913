"""Shared pieces of the resilience results: the result base, labels, engine quirks, guards.

Every word a user reads comes from the ``resilience`` block of the string catalogue
(:func:`kkbm_analysis.i18n.text`), every number from :mod:`kkbm_analysis.i18n`.
"""
from __future__ import annotations

import contextlib
import logging
import warnings
from dataclasses import dataclass
from typing import Iterator

import pandas as pd

from ..i18n import check_lang, has_text, text
from ..item_bank import load_item_bank
from ..models._base import ModelInputError, ModelResult, one_blas_thread, table_text

__all__ = ["ResilienceResult", "ModelInputError", "one_blas_thread", "check_lang", "table_text", "label", "capacity_label",
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
    """A scale, capacity or item label in Indonesian or English (the item bank's, or the catalogue's for the RCI)."""
    check_lang(lang)
    bank = load_item_bank()
    if key == "rci":
        return text("resilience.rci", lang)
    try:
        entry = bank.scales[key] if key in bank.scales else bank.item(key)
    except KeyError:
        return key
    return getattr(entry, f"label_{lang}")


def capacity_label(key: str, lang: str = "en") -> str:
    """Short capacity names for sentences ('absorptive' / 'menyerap'); other keys as they are."""
    name = f"resilience.capacity.{key}"
    return text(name, lang) if has_text(name) else key


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


