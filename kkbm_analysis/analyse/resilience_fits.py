"""Resilience model fits the reports publish: measurement quality, drivers of capacity, recovery after shocks.

Fitted by ``kkbm analyse`` when the resilience survey is in the data, cached on disk like
every fit (:mod:`.fits`: inputs' hash, parameters, code) and read by the reports through
:meth:`kkbm_analysis.products.Products.fit`. All are national models (a province has too
few interviews for its own); every table has a ``term`` column naming its rows.

``resilience_items``
    Reliability of each scale (:func:`kkbm_analysis.resilience.item_analysis`, baseline):
    ``estimates`` one row per scale (``term`` = scale; Cronbach's alpha with Feldt's
    interval, McDonald's omega), ``items`` per item. Numbers: ``alpha_acceptable`` and the
    scales below it.
``resilience_cfa``
    The three-capacity CFA (:func:`kkbm_analysis.resilience.cfa`): ``estimates`` the loadings
    (``term`` = ``capacity:item``), ``fit`` one row (``term`` = ``model``) of fit indices.
    Numbers: the fit indices, the cut-offs and ``good_fit``.
``resilience_invariance_sex``, ``resilience_invariance_province``
    Configural / metric / scalar invariance (:func:`kkbm_analysis.resilience.measurement_invariance`):
    ``estimates`` one row per level (``term`` = level), ``groups``. Numbers: ``supported``
    (False when fewer than two groups reach the minimum size: then nothing was fitted),
    ``highest_level``, ``comparable`` (scalar holds), ``minimum``, ``left_out``.
``resilience_drivers``
    Capacity drivers (:func:`kkbm_analysis.resilience.capacity_drivers`; OLS on Bartlett
    scores, CR2 errors clustered by community): ``estimates`` with ``term`` =
    ``capacity:driver`` (SD of the capacity per unit; associations, not effects).
``resilience_recovery``
    Recovery after a shock (:func:`kkbm_analysis.resilience.recovery_model`; discrete-time
    proportional hazards): ``estimates`` with hazard ratios per SD of capacity measured
    before the shock; ``summary`` (``term`` = ``episodes``): shocks and the share recovered by
    the interview. Numbers: the same, and the communities.

Stored numbers are rounded to 11 significant digits: the estimators (semopy's optimiser, the
linear algebra under them) can differ in the last bits from run to run with the machine's load,
and the same data must give byte-identical products.

A fit that cannot run on the data (too few interviews, shocks or recoveries) is recorded as
``failed`` with the reason, and the report says so.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from .fits import FitCache, FitRecord, PendingFit, _fit
from .shared import Shared, baseline_cfa

__all__ = ["resilience_fits", "RESILIENCE_FITS"]

#: Ids of the resilience fits, in report order.
RESILIENCE_FITS = ("resilience_items", "resilience_cfa", "resilience_invariance_sex",
                   "resilience_invariance_province", "resilience_drivers", "resilience_recovery")


#: Significant digits of every stored number (module docstring).
DIGITS = 11


def _round(x: Any) -> Any:
    """Numbers (in frames, dicts and lists) rounded to :data:`DIGITS` significant digits."""
    if isinstance(x, pd.DataFrame):
        out = x.copy()
        for c in out.columns:
            if pd.api.types.is_float_dtype(out[c]):
                out[c] = [_round(v) for v in out[c]]
                out[c] = out[c].astype(x[c].dtype)
        return out
    if isinstance(x, dict):
        return {k: _round(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_round(v) for v in x]
    if isinstance(x, (float, np.floating)) and np.isfinite(x):
        return float(f"{float(x):.{DIGITS}g}")
    return x


def _stable(run: Callable[[], tuple[Any, dict, dict]]) -> Callable[[], tuple[Any, dict, dict]]:
    """``run`` with its tables and numbers rounded (:func:`_round`)."""
    def wrapped() -> tuple[Any, dict, dict]:
        result, tables, numbers = run()
        return result, {k: _round(v) for k, v in tables.items()}, _round(numbers)
    return wrapped


def _with_term(table: pd.DataFrame, *parts: str) -> pd.DataFrame:
    term = table[parts[0]].astype(str)
    for p in parts[1:]:
        term = term + ":" + table[p].astype(str)
    return table.assign(term=term.to_numpy())[["term", *[c for c in table.columns if c != "term"]]]


def _items(frame: pd.DataFrame) -> tuple[Any, dict, dict]:
    from ..resilience.measurement import ALPHA_ACCEPTABLE, item_analysis
    r = item_analysis(frame)
    weak = r.estimates.loc[r.estimates["alpha"] < ALPHA_ACCEPTABLE, "scale"].tolist()
    return r, {"estimates": _with_term(r.estimates, "scale"), "items": _with_term(r.items, "scale", "item")}, {
        "alpha_acceptable": ALPHA_ACCEPTABLE, "below_acceptable": weak, "round": "baseline"}


def _cfa(model: Any) -> tuple[Any, dict, dict]:
    from ..resilience.confirmatory import CUTOFFS
    f = dict(model.fit_indices)
    fit = pd.DataFrame([{"term": "model", **f}])
    return model, {"estimates": _with_term(model.estimates, "factor", "item"), "fit": fit}, {
        "fit_indices": f, "cutoffs": dict(CUTOFFS), "good_fit": bool(model.good_fit), "round": "baseline",
        "structure": {k: list(v) for k, v in model.structure.items()}}


def _invariance(frame: pd.DataFrame, by: str) -> tuple[Any, dict, dict]:
    from ..resilience.invariance import measurement_invariance
    r = measurement_invariance(frame, by)
    est = r.estimates if len(r.estimates) else pd.DataFrame({"level": pd.Series(dtype=str)})
    groups = r.groups.assign(term=r.groups["group"].astype(str))
    top = r.highest_level if r.supported else None
    return r, {"estimates": _with_term(est, "level"), "groups": groups}, {
        "by": by, "supported": bool(r.supported), "highest_level": top, "comparable": top == "scalar",
        "minimum": int(r.groups.attrs.get("minimum", 0)),
        "left_out": r.groups.loc[~r.groups["used"], "group"].astype(str).tolist()}


def _drivers(frame: pd.DataFrame, model: Any) -> tuple[Any, dict, dict]:
    from ..resilience.models import capacity_drivers
    r = capacity_drivers(frame, model)
    est = r.estimates.rename(columns={"term": "driver"})
    return r, {"estimates": _with_term(est, "capacity", "driver")}, {
        "n_clusters": int(r.n_clusters), "drivers": list(r.drivers), "se": "cr2"}


def _recovery(frame: pd.DataFrame, model: Any) -> tuple[Any, dict, dict]:
    from ..resilience.models import recovery_model
    r = recovery_model(frame, model)
    summary = pd.DataFrame([{"term": "episodes", "shocks": float(len(r.episodes)),
                             "recovered": float(r.episodes["recovered"].sum()),
                             "recovered_share": float(r.recovered_share)}])
    return r, {"estimates": r.estimates, "summary": summary}, {"shocks": int(len(r.episodes)), "recovered": int(r.episodes["recovered"].sum()),
                                           "recovered_share": float(r.recovered_share),
                                           "n_clusters": int(r.n_clusters)}


class _Lazy:
    """A value computed on its first call, then kept. Pickled (for fits run on Dask workers) with the value,
    computed here first: every worker then uses the same fit as a run in this process would."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.fn, self.args = fn, args

    def __getstate__(self) -> dict[str, Any]:
        return {"fn": self.fn, "args": self.args, "value": self()}

    def __call__(self) -> Any:
        if not hasattr(self, "value"):
            self.value = self.fn(*self.args)
        return self.value


def resilience_fits(shared: Shared, cache: FitCache) -> list[FitRecord | PendingFit]:
    """Every resilience fit (module docstring); none without a resilience survey."""
    frame = shared.resilience_frame
    if frame is None:
        return []
    model = _Lazy(baseline_cfa, frame)   # fitted only on a cache miss, where the fit runs
    if "resilience_model" in vars(shared):  # already fitted for the resilience cells
        model.value = shared.resilience_model
    runs = {
        "resilience_items": ("item_analysis", {"scales": "default", "round": "baseline"}, lambda: _items(frame)),
        "resilience_cfa": ("cfa", {"structure": "item bank", "round": "baseline"}, lambda: _cfa(model())),
        "resilience_invariance_sex": ("measurement_invariance", {"by": "sex", "round": "baseline"},
                                      lambda: _invariance(frame, "sex")),
        "resilience_invariance_province": ("measurement_invariance", {"by": "province_code", "round": "baseline"},
                                           lambda: _invariance(frame, "province_code")),
        "resilience_drivers": ("capacity_drivers", {"se": "cr2", "round_effects": True},
                               lambda: _drivers(frame, model())),
        "resilience_recovery": ("recovery_model", {"baseline_hazard": "piecewise"}, lambda: _recovery(frame, model())),
    }
    return [_fit(cache, fit_id, name, frame, params, None, _stable(run)) for fit_id, (name, params, run) in runs.items()]
