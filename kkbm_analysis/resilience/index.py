"""Capacity sub-indices and the Resilience Capacity Index (RCI) with its structure matrix.

Sub-indices (TANGO / Feed the Future style: one per capacity, from the factor model)
    ``I_k = 100 * sum_j w_j (y_j - 1) / 4`` over the items of capacity k (answers 1-5), with
    weights ``w_j`` proportional to the item's Bartlett factor-score weight in the CFA,
    ``loading_j / residual variance_j``, normalised to sum 1. So 0 means the lowest answer
    on every item, 100 the highest, 50 the middle of the scale; items that measure the
    capacity better weigh more. An interview missing some items is scored from the others
    (weights renormalised) when they carry at least half of the weight, else NaN.
Resilience Capacity Index (RIMA-II style)
    A MIMIC model (semopy): a latent well-being factor measured by the outcome items
    (income stability, basic needs; the first is the marker) and caused by the three
    sub-indices (per 10 points). The RCI is the sub-indices weighted by their MIMIC
    coefficients, normalised to sum 1 (a non-positive coefficient gets weight 0, said in
    the notes), so it also runs 0-100.
Resilience Structure Matrix
    For each capacity: its MIMIC coefficient (with 95 % interval), its weight in the RCI and
    its correlation with the RCI; for each item: its standardized loading, its weight in its
    sub-index, its share of the RCI (weight x capacity weight) and its correlation with the
    RCI. It shows which capacities and which items drive the index.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..i18n import number, text
from ._base import (ModelInputError, ResilienceResult, capacity_label, check_lang, complete_items, one_blas_thread,
                    quiet_engines)
from .confirmatory import Z95, CFAResult, cfa, fit_indices, fit_semopy
from .frames import item_matrix
from ..item_bank import load_item_bank

MIN_WEIGHT_ANSWERED = 0.5
RESILIENT_THRESHOLD = 50.0


def index_weights(model: CFAResult) -> pd.DataFrame:
    """Item weights of each sub-index: ``capacity, item, weight`` (sum 1 per capacity)."""
    lam, theta, _ = model.matrices()
    rows = []
    for cap, items in model.structure.items():
        raw = lam.loc[items, cap] / theta.loc[items]
        if (raw <= 0).any():
            raise ModelInputError(f"the {cap} items do not all load positively; fix the model before scoring")
        rows += [{"capacity": cap, "item": i, "weight": float(w)} for i, w in (raw / raw.sum()).items()]
    return pd.DataFrame(rows)


def capacity_indices(frame: pd.DataFrame, model: CFAResult) -> pd.DataFrame:
    """Sub-indices (0-100) of every row of ``frame``, one column per capacity (module docstring)."""
    lo, hi = load_item_bank().likert_range
    weights = index_weights(model)
    out = pd.DataFrame(index=frame.index)
    for cap, w in weights.groupby("capacity", sort=False):
        x = (item_matrix(frame, list(w["item"])) - lo) / (hi - lo)
        wv = w["weight"].to_numpy()
        answered = x.notna().to_numpy()
        share = answered @ wv
        value = np.nansum(x.to_numpy() * wv, axis=1) / np.where(share > 0, share, np.nan)
        out[cap] = np.where(share >= MIN_WEIGHT_ANSWERED, 100 * value, np.nan)
    return out


@dataclass
class ResilienceIndex(ResilienceResult):
    """Result of :func:`resilience_index`.

    Attributes
    ----------
    estimates : DataFrame
        MIMIC coefficients of the capacities on well-being: ``capacity, estimate`` (per 10
        index points, in units of the marker outcome), ``std_error, ci_low, ci_high,
        p_value, standardized, rci_weight``.
    structure : DataFrame
        The Resilience Structure Matrix (module docstring): ``level`` ('capacity' or
        'item'), ``name, capacity, coefficient, loading_standardized, weight_in_capacity,
        weight_in_rci, correlation_with_rci``.
    scores : DataFrame
        Per interview row of the input frame: ``absorptive, adaptive, transformative, rci``
        (0-100) and ``resilient`` (every capacity at least 50).
    item_weights : DataFrame
        ``capacity, item, weight``.
    mimic_fit : dict
        Fit indices of the MIMIC model.
    """

    structure: pd.DataFrame = field(default_factory=pd.DataFrame)
    scores: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    item_weights: pd.DataFrame = field(default_factory=pd.DataFrame)
    mimic_fit: dict = field(default_factory=dict)
    measurement: CFAResult | None = field(default=None, repr=False)
    _tables: tuple = (("structure", "Resilience Structure Matrix"),)
    title = "Resilience Capacity Index (RCI): MIMIC weights and structure matrix"

    def interpretation(self, lang: str = "en") -> str:
        check_lang(lang)
        base = self.scores
        top = self.estimates.sort_values("rci_weight", ascending=False).iloc[0]
        items = self.structure[self.structure["level"] == "item"].sort_values("weight_in_rci", ascending=False)
        item = items.iloc[0]
        mean = base["rci"].mean()
        share = base["resilient"].mean()
        return text("resilience.index", lang, mean=number(mean, 1, lang), share=number(share, 1, lang, percent=True),
                    capacity=capacity_label(top["capacity"], lang), weight=number(top["rci_weight"], 2, lang),
                    item=item["name"])


@one_blas_thread
def resilience_index(frame: pd.DataFrame, model: CFAResult | None = None, *, round: str = "baseline",
                     outcomes: tuple[str, ...] | None = None) -> ResilienceIndex:
    """Sub-indices, the MIMIC-weighted RCI and the structure matrix (module docstring).

    Parameters
    ----------
    frame : DataFrame
        Interview rows (all rounds are scored; the MIMIC is fitted on ``round``).
    model : CFAResult, optional
        The measurement model (default: :func:`~kkbm_analysis.resilience.cfa.cfa` on ``round``).
    outcomes : tuple of str, optional
        Well-being indicators of the MIMIC (default: the item bank's ``wellbeing`` scale).
    """
    model = model or cfa(frame, round=round)
    outcomes = outcomes or tuple(load_item_bank().scale_fields("wellbeing"))
    if len(outcomes) < 2:
        raise ModelInputError("the MIMIC model needs at least two well-being indicators")
    notes = list(model.notes)
    sub = capacity_indices(frame, model)
    caps = list(model.structure)
    sel = frame["round"] == round if "round" in frame else pd.Series(True, index=frame.index)
    data = pd.concat([sub.loc[sel, caps] / 10, item_matrix(frame.loc[sel], list(outcomes))], axis=1)
    data = complete_items(data, "the MIMIC model", notes)
    desc = "\n".join([f"wellbeing =~ {' + '.join(outcomes)}", f"wellbeing ~ {' + '.join(caps)}"])
    mimic = fit_semopy(desc, data)
    est = _mimic_estimates(mimic, caps, data)
    w = est["estimate"].clip(lower=0)
    if (est["estimate"] <= 0).any():
        notes.append("capacities with a non-positive MIMIC coefficient get weight 0 in the RCI: "
                     + ", ".join(est.loc[est["estimate"] <= 0, "capacity"]))
    if w.sum() <= 0:
        raise ModelInputError("no capacity has a positive MIMIC coefficient: the RCI is not defined")
    est["rci_weight"] = (w / w.sum()).to_numpy()
    v = est.set_index("capacity")["rci_weight"]
    scores = sub.copy()
    scores["rci"] = sub[caps].to_numpy() @ v.reindex(caps).to_numpy()
    scores["resilient"] = (sub[caps] >= RESILIENT_THRESHOLD).all(axis=1) & sub[caps].notna().all(axis=1)
    weights = index_weights(model)
    structure = _structure(frame, model, est, weights, scores)
    try:
        mfit = fit_indices(mimic, data)
    except (ValueError, np.linalg.LinAlgError, KeyError):  # pragma: no cover - engine-specific layouts
        mfit = {}
    return ResilienceIndex(est, int(sel.sum()), notes, bool(frame.attrs.get("synthetic", False)),
                           structure=structure, scores=scores, item_weights=weights, mimic_fit=mfit,
                           measurement=model)


def _mimic_estimates(mimic: Any, caps: list[str], data: pd.DataFrame) -> pd.DataFrame:
    with quiet_engines():
        est = mimic.inspect()
    reg = est[(est["op"] == "~") & (est["lval"] == "wellbeing") & est["rval"].isin(caps)].copy()
    reg = reg.rename(columns={"rval": "capacity", "Estimate": "estimate", "Std. Err": "std_error",
                              "p-value": "p_value"})
    reg["std_error"] = pd.to_numeric(reg["std_error"], errors="coerce")
    reg["p_value"] = pd.to_numeric(reg["p_value"], errors="coerce")
    reg["ci_low"] = reg["estimate"] - Z95 * reg["std_error"]
    reg["ci_high"] = reg["estimate"] + Z95 * reg["std_error"]
    with quiet_engines():
        std = mimic.inspect(std_est=True)
    std = std[(std["op"] == "~") & (std["lval"] == "wellbeing")].set_index("rval")["Est. Std"]
    reg["standardized"] = reg["capacity"].map(std).astype(float)
    reg = reg.set_index("capacity").reindex(caps).reset_index()
    return reg[["capacity", "estimate", "std_error", "ci_low", "ci_high", "p_value", "standardized"]]


def _structure(frame: pd.DataFrame, model: CFAResult, est: pd.DataFrame, weights: pd.DataFrame,
               scores: pd.DataFrame) -> pd.DataFrame:
    rci = scores["rci"]
    std = model.estimates.set_index("item")["standardized"]
    v = est.set_index("capacity")["rci_weight"]
    rows = [{"level": "capacity", "name": r.capacity, "capacity": r.capacity, "coefficient": r.estimate,
             "loading_standardized": np.nan, "weight_in_capacity": np.nan, "weight_in_rci": r.rci_weight,
             "correlation_with_rci": float(scores[r.capacity].corr(rci))} for r in est.itertuples()]
    for r in weights.itertuples():
        answers = pd.to_numeric(frame[r.item], errors="coerce")
        rows.append({"level": "item", "name": r.item, "capacity": r.capacity, "coefficient": np.nan,
                     "loading_standardized": float(std[r.item]), "weight_in_capacity": r.weight,
                     "weight_in_rci": r.weight * float(v[r.capacity]),
                     "correlation_with_rci": float(answers.corr(rci))})
    return pd.DataFrame(rows)


