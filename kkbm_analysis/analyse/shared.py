"""The intermediates every analysis product shares, built once per ``kkbm analyse``.

:class:`Shared` holds the data, its span and periods, the parameters, and computes on first
use (then keeps) the per-member mentoring record and the business-outcome frame that the
barrier measures, the outcome cells and the models all start from: nothing is computed
twice in one run.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..barriers import member_mentoring
from ..data import ProgramData
from ..indicators import data_span
from ..models import business_outcome_frame, observation_end
from ..schema import MentoringPoints, load_mentoring_points

__all__ = ["Parameters", "Shared"]


@dataclass(frozen=True)
class Parameters:
    """The analysis choices of one ``kkbm analyse`` run (written to the products manifest).

    Attributes
    ----------
    replacement_months : int
        Window within which a departed organiser counts as replaced (cadre regeneration).
    gap_n_boot : int
        Bootstrap draws of each province gap decomposition.
    did_n_boot : int
        Multiplier-bootstrap draws of the DiD's uniform event-study band.
    did_event_window : (int, int)
        Event times of the DiD event study (leads from the first to -1).
    seed : int
        Seed of every bootstrap.
    """

    replacement_months: int = 6
    gap_n_boot: int = 499
    did_n_boot: int = 999
    did_event_window: tuple[int, int] = (-12, 24)
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"replacement_months": self.replacement_months, "gap_n_boot": self.gap_n_boot,
                "did_n_boot": self.did_n_boot, "did_event_window": list(self.did_event_window), "seed": self.seed}


@dataclass
class Shared:
    """Data, span, periods and parameters, and the intermediates built from them once.

    Attributes
    ----------
    data : ProgramData
    parameters : Parameters
    points : MentoringPoints
    notes : list of str
        What the intermediates left out (e.g. members whose outcome is not yet observed).
    """

    data: ProgramData
    parameters: Parameters = field(default_factory=Parameters)
    points: MentoringPoints = field(default_factory=load_mentoring_points)
    notes: list[str] = field(default_factory=list)

    @cached_property
    def span(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last activity date (:func:`kkbm_analysis.indicators.data_span`): the data's window."""
        return data_span(self.data)

    @cached_property
    def years(self) -> list[str]:
        """Every calendar year of the span (the periods of every product, beside ``'all'``)."""
        start, end = self.span
        return [str(y) for y in range(start.year, end.year + 1)]

    @cached_property
    def mentoring(self) -> pd.DataFrame:
        """:func:`kkbm_analysis.barriers.member_mentoring`, once."""
        return member_mentoring(self.data, points=self.points)

    @cached_property
    def observation_end(self) -> pd.Timestamp | None:
        """Until when outcomes are observed (:func:`kkbm_analysis.models.observation_end`; None without data)."""
        try:
            return observation_end(self.data)
        except ValueError:
            return None

    @cached_property
    def resilience_frame(self) -> pd.DataFrame | None:
        """:func:`kkbm_analysis.resilience.analysis_frame` of the resilience survey (None without one)."""
        surveys = self.data.tables.get("resilience_surveys")
        if surveys is None or not len(surveys):
            return None
        from ..resilience.frames import analysis_frame
        return analysis_frame(self.data)

    @cached_property
    def resilience_model(self) -> Any:
        """The baseline CFA of the capacities (:func:`baseline_cfa`), fitted once."""
        return baseline_cfa(self.resilience_frame)

    @cached_property
    def outcome(self) -> pd.DataFrame | None:
        """:func:`kkbm_analysis.models.business_outcome_frame`, once (None when it cannot be built)."""
        if self.observation_end is None:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its warnings are kept in the notes
            return business_outcome_frame(self.data, notes=self.notes, mentoring=self.mentoring)

    @cached_property
    def outcome_rows(self) -> dict[str, np.ndarray]:
        """Positions of the outcome frame's rows by province code (as text), in order: found once for every
        gap decomposition (empty without an outcome frame)."""
        frame = self.outcome
        if frame is None:
            return {}
        found = pd.Series(np.arange(len(frame))).groupby(frame["province_code"].astype(str).to_numpy()).indices
        return {str(k): np.asarray(v, dtype=np.int64) for k, v in found.items()}


def baseline_cfa(frame: pd.DataFrame) -> Any:
    """The baseline CFA of the capacities (:func:`kkbm_analysis.resilience.cfa`) of a resilience analysis frame."""
    from ..resilience.confirmatory import cfa
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fit warnings are reported by the resilience notebook
        return cfa(frame)
