"""The processed view: the tables the ingest would write, without the file round trip (program_data)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..config import DEFAULT_SEED
from ..schema import TABLES
from .simulate import _simulate

if TYPE_CHECKING:  # pragma: no cover
    from ..data import ProgramData

#: Columns that hold a member's or a staff member's raw NIK in the clean tables.
_PSEUDONYM_COLUMNS = {"member_id": "member", "owner_member_id": "member", "staff_id": "staff"}


def program_data(*, seed: int = DEFAULT_SEED, scale: str | float = "demo", start_year: int = 2017,
                 end_year: int = 2020) -> "ProgramData":
    """The processed tables the ingest makes from :func:`generate_demo`'s files, minus the
    planted defects, built directly from the clean tables (no file round trip).

    For validation over many seeds and for benchmarks. Identifiers are dropped, NIKs
    become the demo key's pseudonyms, and each table is typed and sorted exactly as the
    ingest finalises it (a test checks the two routes give equal tables).

    Returns
    -------
    ProgramData
        With ``manifest['synthetic'] = True`` and the ground truth under
        ``manifest['ground_truth']``.
    """
    from ..data import ProgramData
    from ..store import conform
    from ..privacy import PseudonymKey, pseudonymise

    key = PseudonymKey.demo()
    clean, world = _simulate(seed, scale, start_year, end_year)
    tables = {}
    for name, df in clean.items():
        df = df[[c for c in TABLES[name].columns if c in df]].copy()
        for column, entity in _PSEUDONYM_COLUMNS.items():
            if column in df:
                df[column] = pseudonymise(df[column], key, entity)
        df["_uid"] = np.arange(len(df))
        tables[name] = conform(name, df)
    manifest = {"synthetic": True, "data_version": f"synthetic-seed{seed}-{scale}", "seed": seed,
                "scale": scale, "pseudonym_key_id": key.key_id, "ground_truth": world.truth}
    return ProgramData(tables, manifest)
