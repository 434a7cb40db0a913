"""Resilience indicators in the shape of the indicator registry (survey-based, design-weighted).

Rows have exactly the columns of :data:`kkbm_analysis.indicators.RESULT_COLUMNS`:
``indicator_id, level, region_code, period, disaggregation, value, numerator,
denominator, ci_low, ci_high, suppressed``. ``period`` is the survey round
(``baseline``, ``followup_1``, ``followup_2``); levels ``national`` (code ``ID``) and
``province``; disaggregations ``all``, ``sex=L|P``, ``status=...`` (from the member register).

Estimation
    The survey samples members within provinces (strata). Each respondent carries the design
    weight ``N_h / n_h`` (members of province h in the register / members sampled there at
    baseline). ``value`` is the weighted mean (or share), the standard error the
    Taylor-linearised one for a stratified sample (with-replacement approximation, no
    finite-population correction). Means get a t interval (respondents - strata degrees
    of freedom), shares a Wilson interval at the effective sample size. Within one province
    the weights are equal, so values there are plain means and shares.
``numerator`` and ``denominator``
    Unweighted respondent counts (the sum of the values, or of the resilient respondents,
    and the number of respondents), so :func:`kkbm_analysis.suppression.suppress`
    applies its small-cell rules to the people behind each cell. Publish only through
    ``suppress(table, registry=registry())``.

:data:`RESILIENCE_INDICATORS` declares them as :class:`kkbm_analysis.indicators.Indicator`
objects (domain ``'resilience'``); they are computed here, not by the fact engine.
"""
from __future__ import annotations

import functools

from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..codes import positions
from ..data import NATIONAL_CODE, ProgramData
from ..indicators import REGISTRY, RESULT_COLUMNS, Indicator
from .frames import ROUNDS, analysis_frame
from .index import ResilienceIndex, resilience_index
from ..item_bank import CAPACITIES, load_item_bank


def _not_from_facts(ctx: Any) -> pd.DataFrame:
    raise ValueError("resilience indicators are survey estimates: compute them with "
                     "kkbm_analysis.resilience.indicators.resilience_indicators, not from facts")


def _indicator(id_: str, label_id: str, label_en: str, def_id: str, def_en: str, kind: str, unit: str,
               numerator: str, denominator: str, direction: int = 1) -> Indicator:
    return Indicator(id_, "resilience", label_id, label_en, def_id, def_en, numerator, denominator, unit, direction,
                     kind, _not_from_facts, ("sex", "status"), sources=("resilience_surveys", "members"))


_INDEX_DEF = ("Rata-rata tertimbang indeks (0-100) per putaran survei: 0 = jawaban terendah pada semua butir, "
              "100 = tertinggi", "Design-weighted mean of the index (0-100) per survey round: 0 = the lowest answer "
                                 "on every item, 100 = the highest")
#: The resilience indicators (ids never change).
RESILIENCE_INDICATORS: dict[str, Indicator] = {i.id: i for i in (
    _indicator("resilience_rci", "Indeks Kapasitas Ketahanan (RCI)", "Resilience Capacity Index (RCI)",
               _INDEX_DEF[0] + "; bobot kapasitas dari model MIMIC", _INDEX_DEF[1] + "; capacity weights from the "
               "MIMIC model", "mean", "index_0_100", "sum of respondents' RCI", "respondents"),
    *(_indicator(f"resilience_{c}", f"Indeks kapasitas {lid}", f"{len_.capitalize()} capacity index",
                 _INDEX_DEF[0] + "; bobot butir dari analisis faktor", _INDEX_DEF[1] + "; item weights from the "
                 "factor model", "mean", "index_0_100", "sum of respondents' index", "respondents")
      for c, lid, len_ in (("absorptive", "menyerap", "absorptive"), ("adaptive", "adaptif", "adaptive"),
                           ("transformative", "transformatif", "transformative"))),
    _indicator("resilience_share_resilient", "Proporsi anggota tangguh", "Share of members resilient",
               "Proporsi tertimbang responden yang ketiga indeks kapasitasnya ≥ 50 (titik tengah skala jawaban)",
               "Design-weighted share of respondents whose three capacity indices are all at least 50 (the middle "
               "of the answer scale)", "proportion", "proportion", "resilient respondents", "respondents"),
    _indicator("resilience_rci_change", "Perubahan RCI sejak putaran sebelumnya", "Change in RCI since the previous round",
               "Rata-rata tertimbang selisih RCI anggota yang sama antara putaran ini dan putaran sebelumnya",
               "Design-weighted mean change in the RCI of the same members between this round and the previous one",
               "mean", "index_points", "sum of respondents' change", "respondents in both rounds"),
)}


def risk_indicators() -> dict[str, Indicator]:
    """One indicator per risk item of the item bank: ``resilience_risk:<field>``, the design-weighted share of
    respondents reporting the risk in the survey round (lower is better; label: the risk domain and the item)."""
    bank = load_item_bank()
    out = {}
    for f in bank.risk_fields():
        item = bank.item(f)
        dom_id, dom_en = bank.risk_domains[item.domain]
        out[f"resilience_risk:{f}"] = _indicator(
            f"resilience_risk:{f}", f"{dom_id}: {item.label_id}", f"{dom_en}: {item.label_en}",
            "Proporsi tertimbang responden yang melaporkan risiko ini pada putaran survei",
            "Design-weighted share of respondents reporting this risk in the survey round", "proportion",
            "proportion", "respondents reporting the risk", "respondents", direction=-1)
    return out


def registry() -> dict[str, Indicator]:
    """The main registry plus the resilience indicators and the risk shares (pass to ``suppress(..., registry=)``)."""
    return {**REGISTRY, **RESILIENCE_INDICATORS, **risk_indicators()}


def design_weights(data: ProgramData, frame: pd.DataFrame) -> pd.Series:
    """``N_h / n_h`` per interview row: register members over baseline respondents of the province."""
    prov = data.communities.drop_duplicates("community_id").set_index("community_id")["province_code"]
    at = positions(data.members["community_id"], prov.index)  # community ids are unique in ``prov``
    N = pd.Series(prov.array.take(at, allow_fill=True)).astype(str).value_counts()
    base = frame[frame["round"] == ROUNDS[0]] if (frame["round"] == ROUNDS[0]).any() else frame
    n = base.drop_duplicates("member_id")["province_code"].astype(str).value_counts()
    p = frame["province_code"].astype(str)
    return (p.map(N) / p.map(n)).astype(float)


def weighted_estimate(y: np.ndarray, w: np.ndarray, strata: np.ndarray) -> tuple[float, float, int]:
    """Weighted mean, its linearised stratified standard error, and n (NaNs dropped).

    ``strata`` are labels, or integer codes (faster: no sorting of labels per call).
    """
    ok = ~np.isnan(y)
    y, w, strata = y[ok], w[ok], strata[ok]
    n = len(y)
    if n == 0:
        return float("nan"), float("nan"), 0
    mean = float(np.sum(w * y) / np.sum(w))
    z = w * (y - mean) / np.sum(w)
    codes = strata if np.issubdtype(strata.dtype, np.integer) else np.unique(strata, return_inverse=True)[1]
    order = np.argsort(codes, kind="stable")   # each stratum's rows in their own order, strata in sorted order
    starts = np.r_[0, np.flatnonzero(np.diff(codes[order])) + 1, n]
    var = 0.0
    for a, b in zip(starts[:-1], starts[1:]):
        zh = z[order[a:b]]
        if len(zh) > 1:
            var += len(zh) / (len(zh) - 1) * float(np.sum((zh - zh.mean()) ** 2))
    return mean, float(np.sqrt(var)), n


@functools.lru_cache(maxsize=None)
def _t975(df: int) -> float:
    return float(stats.t.ppf(0.975, df))


def _row(ind: str, level: str, region: str, period: str, dis: str, y: np.ndarray, w: np.ndarray,
         strata: np.ndarray) -> dict[str, Any]:
    value, se, n = weighted_estimate(y, w, strata)
    ok = ~np.isnan(y)
    kind = RESILIENCE_INDICATORS[ind].kind if ind in RESILIENCE_INDICATORS else "proportion"  # risk shares
    lo = hi = float("nan")
    if n >= 2 and np.isfinite(se):
        if kind == "proportion":
            n_eff = value * (1 - value) / se**2 if se > 0 else n
            lo, hi = _wilson(value, n_eff)
        else:
            half = _t975(max(n - len(np.unique(strata[ok])), 1)) * se
            lo, hi = value - half, value + half
    return {"indicator_id": ind, "level": level, "region_code": region, "period": period, "disaggregation": dis,
            "value": value, "numerator": float(np.nansum(y)), "denominator": float(n), "ci_low": lo, "ci_high": hi,
            "suppressed": False}


def _wilson(p: float, n: float) -> tuple[float, float]:
    z = 1.959963984540054
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return float(centre - half), float(centre + half)


def resilience_indicators(data: ProgramData, *, frame: pd.DataFrame | None = None,
                          index: ResilienceIndex | None = None, levels: Sequence[str] = ("national", "province"),
                          by: Sequence[str | None] = (None, "sex", "status"), risks: bool = False) -> pd.DataFrame:
    """Every resilience indicator by level x round x disaggregation (module docstring).

    Parameters
    ----------
    data : ProgramData
        With a ``resilience_surveys`` table.
    frame, index : optional
        The analysis frame and :func:`~kkbm_analysis.resilience.index.resilience_index`
        result, when already computed.
    levels : sequence of {'national', 'province'}
    by : sequence of {None, 'sex', 'status'}
    risks : bool
        Also the share reporting each risk item (:func:`risk_indicators`).

    Returns
    -------
    DataFrame
        Columns :data:`kkbm_analysis.indicators.RESULT_COLUMNS`; ``attrs['synthetic']``.
    """
    frame = analysis_frame(data) if frame is None else frame
    index = index or resilience_index(frame)
    s = index.scores.reindex(frame.index)
    values = {"resilience_rci": s["rci"], **{f"resilience_{c}": s[c] for c in CAPACITIES},
              "resilience_share_resilient": s["resilient"].astype(float).where(s[list(CAPACITIES)].notna().all(axis=1)),
              "resilience_rci_change": _change(frame, s["rci"])}
    if risks:
        values.update({ind: frame[ind.split(":", 1)[1]].astype("Float64").astype(float) for ind in risk_indicators()})
    arrays = {ind: y.to_numpy(dtype=float, na_value=np.nan) for ind, y in values.items()}
    w = design_weights(data, frame).to_numpy()
    strata = frame["province_code"].astype(str).to_numpy()
    codes = np.unique(strata, return_inverse=True)[1]
    rounds = {r: (frame["round"] == r).to_numpy() for r in ROUNDS}
    disaggregations = list(_disaggregations(frame, by))
    rows = []
    for level in levels:
        if level not in ("national", "province"):
            raise ValueError(f"level must be 'national' or 'province', not {level!r}")
        regions = [NATIONAL_CODE] if level == "national" else sorted(set(strata))
        for region in regions:
            in_region = np.ones(len(frame), bool) if level == "national" else strata == region
            for period in [r for r in ROUNDS if rounds[r].any()]:
                in_period = in_region & rounds[period]
                for dis, mask in disaggregations:
                    sel = in_period & mask
                    for ind, y in arrays.items():
                        yy = y[sel]
                        if ind == "resilience_rci_change" and np.isnan(yy).all():
                            continue
                        if len(yy):
                            rows.append(_row(ind, level, region, period, dis, yy, w[sel], codes[sel]))
    out = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    for c in ("value", "numerator", "denominator", "ci_low", "ci_high"):
        out[c] = out[c].astype("Float64")
    for c in ("indicator_id", "level", "region_code", "period", "disaggregation"):
        out[c] = out[c].astype("string")
    out.attrs.update({"synthetic": data.synthetic, "data_version": data.data_version})
    return out


def _disaggregations(frame: pd.DataFrame, by: Sequence[str | None]):
    for b in by:
        if b is None:
            yield "all", np.ones(len(frame), bool)
        elif b in ("sex", "status"):
            values = frame[b].astype("string").fillna("unknown")
            for v in sorted(values.unique()):
                yield f"{b}={v}", (values == v).to_numpy()
        else:
            raise ValueError(f"by must be None, 'sex' or 'status', not {b!r}")


def _change(frame: pd.DataFrame, rci: pd.Series) -> pd.Series:
    """RCI minus the same member's RCI in the previous round (NaN at baseline or after a gap)."""
    f = pd.DataFrame({"member_id": frame["member_id"].astype(str), "r": frame["round_index"].astype(float), "rci": rci})
    f = f.sort_values(["member_id", "r"])
    prev = f.groupby("member_id")[["rci", "r"]].shift(1)
    change = (f["rci"] - prev["rci"]).where(f["r"] - prev["r"] == 1)
    return change.reindex(frame.index)


