"""The clean synthetic tables, before any raw formatting: generate_tables."""
from __future__ import annotations

import pandas as pd

from ..config import DEFAULT_SEED
from ..schema import TABLES
from .activities import (
    _advocacy_cases,
    _consultations,
    _groups,
    _info_services,
    _perdes_and_departures,
    _placements,
    _prevention_events,
    _record_calibration,
)
from .business import _business_reports, _businesses_and_kur
from .people import _members, _staff
from .training import _stages, _training_and_mentoring
from .world import _communities, _resolve_scale, _World


def generate_tables(*, seed: int = DEFAULT_SEED, scale: str | float = "demo", start_year: int = 2017,
                    end_year: int = 2020) -> dict[str, pd.DataFrame]:
    """Generate the clean "true" tables, before raw formatting.

    Parameters
    ----------
    seed : int
        Seed of all random draws (same seed, same tables).
    scale : {"demo", "national"}, "national:<fraction>" or float
        ``"demo"``: the published 2017-2018 aggregates (7 provinces, 49 villages, 7,935
        members); ``"national"``: 38 provinces, ~6,000 communities, 1,000,000 members;
        ``"national:0.1"``: the national geography at a tenth (38 provinces, 600
        communities, 100,000 members); a float multiplies the demo's member count (e.g.
        0.1 for fast tests).
    start_year, end_year : int
        Communities form and members join in ``start_year`` and ``start_year + 1``;
        follow-up ends on ``end_year``-12-31. Requires ``end_year >= start_year + 3``.

    Returns
    -------
    dict of str to pandas.DataFrame
        One frame per table of :data:`kkbm_analysis.schema.TABLES`, in schema column
        names. Direct identifiers are still present: ``member_id`` and ``staff_id`` hold
        the NIK (the raw value the ingest pseudonymises) and members/staff carry ``nik``,
        ``name``, ``phone`` (members also ``passport_no``, ``address``, ``birth_date``).
    """
    tables, _ = _simulate(seed, scale, start_year, end_year)
    return tables


def _simulate(seed: int, scale: str | float, start_year: int, end_year: int
              ) -> tuple[dict[str, pd.DataFrame], _World]:
    """All clean tables (in :data:`TABLES` order) and the world holding latents and ground truth."""
    if end_year < start_year + 3:
        raise ValueError("end_year must be at least start_year + 3 (joining takes two years, "
                         "the business outcome is read one year after training)")
    w = _World(int(seed), _resolve_scale(scale), int(start_year), int(end_year))
    t: dict[str, pd.DataFrame] = {}
    t["communities"] = _communities(w)
    t["members"] = _members(w, t["communities"])
    t["staff"] = _staff(w, t["communities"])
    t["sessions"], t["attendance"] = _training_and_mentoring(w, t["communities"], t["members"])
    t["groups"] = _groups(w, t["communities"])
    t["businesses"], t["kur_loans"] = _businesses_and_kur(w, t["communities"], t["members"], t["groups"])
    t["business_reports"] = _business_reports(w, t["businesses"])
    t["stages"] = _stages(w, t["members"], t["businesses"])
    t["consultations"] = _consultations(w, t["communities"], t["businesses"])
    t["info_services"] = _info_services(w, t["communities"])
    t["advocacy_cases"] = _advocacy_cases(w, t["communities"], t["members"])
    t["prevention_events"] = _prevention_events(w, t["communities"])
    t["village_regulations"], t["departures"] = _perdes_and_departures(w, t["communities"])
    t["placements"] = _placements(w)
    _record_calibration(w, t)
    return {name: t[name] for name in TABLES if name in t}, w
