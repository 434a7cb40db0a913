"""Evidence-graded recommendation records: which regions lag the nation, on what, and how sure we are.

The policy (:func:`recommend`) reads the **published** barrier cells (with their interval
verdicts, :mod:`kkbm_analysis.verdicts`) and the model fits of ``kkbm analyse``, and returns
structured records, no words: reports render them through the catalogue. The rules:

* A province gets a record for an action when its cell of the action's measure is judged
  ``worse``: the national value lies outside the province's 95 % interval, on the worse side.
  A cell withheld or under the small-cell rule is ``too_few`` and drives no record; a cell
  without an interval drives none either.
* Each record names its evidence (the cell keys it rests on: the province's cell and the
  national one), its design and strength, ``n``, the interval and the window of dates.
* ``design`` is ``descriptive`` for a comparison of measures. A supporting model is named with
  its own design: the business model's average marginal effect of a mentoring point is an
  ``association`` (observational); the Perdes staggered DiD is ``quasi_experimental``
  (parallel trends, no anticipation). ``causal`` is True only for the DiD, and only when its
  effect is significant (p < 0.05) and in the direction that supports the action.
* A national record encourages Perdes when the DiD supports it and community villages
  without one remain (the national cells published).
* ``gap`` = |value - national| / |national| ranks the records of one action and period
  (``priority`` 1 = largest gap). ``quantity`` is a number the action implies and the data
  support (organisers needed to reach the national ratio; villages without a Perdes),
  never an extrapolation beyond the observed range.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .regions import NATIONAL_CODE

__all__ = ["Action", "ACTIONS", "RECORD_COLUMNS", "recommend"]

#: Columns of a recommendation record (``recommendations.parquet``), in order.
RECORD_COLUMNS: tuple[str, ...] = (
    "record_id", "action_id", "level", "region_code", "period", "measure_id", "product", "value", "ci_low", "ci_high",
    "n", "national_value", "verdict", "gap", "priority", "window_start", "window_end", "evidence", "design",
    "strength", "causal", "support_fit", "support_term", "support_design", "support_estimate", "support_ci_low",
    "support_ci_high", "support_p_value", "quantity", "quantity_unit")


@dataclass(frozen=True)
class Action:
    """One recommended action: the barrier measure that calls for it and the model that may support it."""

    id: str
    measure: str
    support_fit: str | None = None
    support_term: str | None = None
    support_design: str | None = None
    support_sign: int = 1


#: The actions, in display order.
ACTIONS: tuple[Action, ...] = (
    Action("strengthen_mentoring", "mentoring_coverage", "business_model", "points", "association", +1),
    Action("recruit_organisers", "members_per_organiser"),
    Action("build_cadre_regeneration", "cadre_regeneration"),
    Action("facilitate_kur", "kur_owner_uptake"),
    Action("encourage_perdes", "perdes_share", "perdes_did", "ATT (overall)", "quasi_experimental", -1),
)


def _support(action: Action, fits: Mapping[str, Any]) -> dict[str, Any]:
    """The supporting model's estimate for an action (empty when there is none or it failed)."""
    fit = fits.get(action.support_fit) if action.support_fit else None
    if not fit or fit.get("status") != "ok":
        return {}
    table = fit["tables"].get("marginal_effects" if action.support_fit == "business_model" else "estimates")
    if table is None or action.support_term not in set(table["term"]):
        return {}
    row = table.set_index("term").loc[action.support_term]
    est = float(row["ame"] if "ame" in row else row["estimate"])
    lo, hi, p = float(row["ci_low"]), float(row["ci_high"]), float(row["p_value"])
    supports = p < 0.05 and np.sign(est) == action.support_sign
    return {"support_fit": action.support_fit, "support_term": action.support_term,
            "support_design": action.support_design, "support_estimate": est, "support_ci_low": lo,
            "support_ci_high": hi, "support_p_value": p, "_supports": bool(supports)}


def _evidence(*cells: pd.Series, fit: str | None = None, term: str | None = None) -> str:
    items = [{k: str(c[k]) for k in ("product", "measure_id", "level", "region_code", "period", "disaggregation")}
             for c in cells]
    if fit:
        items.append({"fit": fit, "term": term})
    return json.dumps(items, sort_keys=True)


def _quantity(action: Action, row: pd.Series) -> tuple[float, str | None]:
    if action.id == "recruit_organisers" and row["national_value"] > 0:
        need = float(row["numerator"]) / float(row["national_value"]) - float(row["denominator"])
        return (float(math.ceil(need)), "organisers_fte") if need > 0 else (np.nan, None)
    if action.id == "encourage_perdes":
        return float(row["denominator"] - row["numerator"]), "villages"
    return np.nan, None


def _province_records(cells: pd.DataFrame, action: Action, support: dict[str, Any]) -> list[dict[str, Any]]:
    m = cells.loc[cells["measure_id"] == action.measure]
    nat = m.loc[m["level"] == "national"].set_index("period", drop=False)
    worse = m.loc[(m["level"] != "national") & (m["verdict"] == "worse")]
    out = []
    for _, row in worse.iterrows():
        national = nat.loc[row["period"]]
        gap = abs(float(row["value"]) - float(row["national_value"])) / abs(float(row["national_value"])) \
            if float(row["national_value"]) != 0 else np.inf
        backed = bool(support.get("_supports", False))
        design = support["support_design"] if backed else "descriptive"
        qty, unit = _quantity(action, row)
        out.append({
            "record_id": f"{action.id}:{row['region_code']}:{row['period']}", "action_id": action.id,
            "level": row["level"], "region_code": row["region_code"], "period": row["period"],
            "measure_id": action.measure, "product": row["product"], "value": row["value"], "ci_low": row["ci_low"],
            "ci_high": row["ci_high"], "n": row["n"], "national_value": row["national_value"],
            "verdict": row["verdict"], "gap": gap, "window_start": row["window_start"],
            "window_end": row["window_end"],
            "evidence": _evidence(row, national, fit=support.get("support_fit") if backed else None,
                                  term=support.get("support_term")),
            "design": "descriptive", "strength": design,
            "causal": bool(backed and design == "quasi_experimental"),
            **{k: v for k, v in support.items() if not k.startswith("_")}, "quantity": qty, "quantity_unit": unit})
    return out


def _national_perdes(cells: pd.DataFrame, support: dict[str, Any], window: tuple[Any, Any]) -> list[dict[str, Any]]:
    """The national Perdes record: the DiD supports it and community villages without one remain."""
    if not support.get("_supports"):
        return []
    cut = cells.loc[(cells["measure_id"] == "perdes_share") & (cells["level"] == "national")
                    & (cells["period"] == "all") & ~cells["suppressed"].astype(bool)]
    if not len(cut):
        return []
    row = cut.iloc[0]
    without = float(row["denominator"] - row["numerator"])
    if not without > 0:
        return []
    return [{"record_id": f"encourage_perdes:{NATIONAL_CODE}:all", "action_id": "encourage_perdes",
             "level": "national", "region_code": NATIONAL_CODE, "period": "all", "measure_id": "perdes_share",
             "product": row["product"], "value": row["value"], "ci_low": row["ci_low"], "ci_high": row["ci_high"],
             "n": row["n"], "national_value": row["value"], "verdict": row["verdict"], "gap": np.nan,
             "window_start": window[0], "window_end": window[1],
             "evidence": _evidence(row, fit=support["support_fit"], term=support["support_term"]),
             "design": "quasi_experimental", "strength": "quasi_experimental", "causal": True,
             **{k: v for k, v in support.items() if not k.startswith("_")}, "quantity": without,
             "quantity_unit": "villages"}]


def recommend(barriers: pd.DataFrame, fits: Mapping[str, Any] | None = None, *,
              did_window: tuple[Any, Any] = (pd.NaT, pd.NaT)) -> pd.DataFrame:
    """The recommendation records the published cells and fits support (see the module docstring).

    Parameters
    ----------
    barriers : DataFrame
        Published barrier cells with ``national_value``, ``verdict`` and ``product``
        (``barriers.parquet`` as ``kkbm analyse`` writes it).
    fits : mapping, optional
        Fit id -> ``{"status", "tables"}`` (``models/fits.json`` with its tables).
    did_window : (date, date)
        The months the DiD panel covers (the window of the national Perdes record).

    Returns
    -------
    DataFrame
        Columns :data:`RECORD_COLUMNS`, ordered by period, action and priority.
    """
    fits = fits or {}
    rows: list[dict[str, Any]] = []
    for action in ACTIONS:
        support = _support(action, fits)
        rows += _province_records(barriers, action, support)
        if action.id == "encourage_perdes":
            rows += _national_perdes(barriers, support, did_window)
    out = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
    if len(out):
        out["priority"] = (out.sort_values(["gap", "region_code"], ascending=[False, True])
                           .groupby(["period", "action_id"]).cumcount() + 1).reindex(out.index)
        order = {a.id: i for i, a in enumerate(ACTIONS)}
        out = out.sort_values(["period", "action_id", "priority"], key=lambda s: s.map(order) if s.name == "action_id"
                              else s, kind="stable").reset_index(drop=True)
    for c in ("value", "ci_low", "ci_high", "n", "national_value", "gap", "support_estimate", "support_ci_low",
              "support_ci_high", "support_p_value", "quantity"):
        out[c] = out[c].astype("Float64")
    for c in ("record_id", "action_id", "level", "region_code", "period", "measure_id", "product", "verdict",
              "evidence", "design", "strength", "support_fit", "support_term", "support_design", "quantity_unit"):
        out[c] = out[c].astype("string")
    out["priority"] = out["priority"].astype("Int64")
    out["causal"] = out["causal"].astype(bool)
    for c in ("window_start", "window_end"):
        out[c] = pd.to_datetime(out[c]).astype("datetime64[ms]")
    return out
