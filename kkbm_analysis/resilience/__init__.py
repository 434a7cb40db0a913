"""Resilience of migrant workers and their families: a measured index, its drivers, the programme's part.

Framework (KAWAN-PMI study of Desa Lontar, seed 004): risk factors (economic, household,
working abroad), protective factors (individual and social resources), and three
capacities (absorptive or coping, adaptive, transformative); empowerment as enabling,
empowering and protecting. Methods follow FAO RIMA-II (factor analysis, then a MIMIC
Resilience Capacity Index with a structure matrix) and the TANGO / Feed the Future
capacity indices, with psychometric practice (alpha, omega, CFA fit, invariance).

Pieces (each result has ``summary()``, tidy DataFrames and ``interpretation(lang)``)::

    import kkbm_analysis as kk
    from kkbm_analysis import resilience as rs
    data = kk.ProgramData.load("data/processed/demo")     # or kkbm_analysis.synth.demo_data(seed=...)
    frame = rs.analysis_frame(data)          # one row per interview + programme covariates
    rs.item_analysis(frame)                  # alpha, omega, item-rest r, floor/ceiling
    rs.efa(frame)                            # factor_analyzer, parallel analysis, KMO
    model = rs.cfa(frame)                    # semopy CFA: loadings, CFI/TLI/RMSEA/SRMR
    rs.measurement_invariance(frame, "sex")  # configural / metric / scalar
    idx = rs.resilience_index(frame, model)  # sub-indices 0-100, MIMIC RCI, structure matrix
    rs.capacity_drivers(frame, model)        # mentoring, staffing, village gov, KUR (clustered)
    rs.recovery_model(frame, model)          # does capacity speed recovery after a shock?
    rs.empowerment_map(data, frame, model)   # enabling / empowering / protecting coverage
    rs.resilience_indicators(data)           # registry-shaped, design-weighted
    rs.resilience_section(data, "35")        # numbers for a report section

The survey instrument: ``resources/resilience_items.yaml`` (item bank, one source of truth)
and the XLSForm built from it (:mod:`.instrument`). Heavy engines (semopy,
factor_analyzer) load only when a function needs them.
"""
from __future__ import annotations

import importlib
from typing import Any

from ..item_bank import CAPACITIES, ItemBank, load_item_bank

#: Public name -> submodule that defines it (imported on first use).
_EXPORTS: dict[str, str] = {
    "analysis_frame": "frames", "interviews": "frames", "covariates": "frames", "DRIVERS": "frames",
    "ROUNDS": "frames",
    "item_analysis": "measurement", "ItemAnalysis": "measurement", "efa": "measurement", "EFAResult": "measurement",
    "cronbach_alpha": "measurement", "omega_total": "measurement",
    "cfa": "confirmatory", "CFAResult": "confirmatory", "compare_models": "confirmatory",
    "one_factor_structure": "confirmatory",
    "measurement_invariance": "invariance", "InvarianceResult": "invariance",
    "resilience_index": "index", "ResilienceIndex": "index", "capacity_indices": "index",
    "capacity_drivers": "models", "DriversResult": "models", "recovery_model": "models",
    "RecoveryResult": "models", "shock_episodes": "models",
    "empowerment_map": "empowerment", "EmpowermentResult": "empowerment", "coverage": "empowerment",
    "resilience_indicators": "indicators", "RESILIENCE_INDICATORS": "indicators", "registry": "indicators",
    "resilience_section": "report", "ResilienceSection": "report",
    "write_xlsform": "instrument", "check_xlsform": "instrument", "convert_xlsform": "instrument",
    "form_path": "instrument",
}

__all__ = ["CAPACITIES", "ItemBank", "load_item_bank", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
