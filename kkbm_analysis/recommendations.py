"""Evidence-based recommendations: which provinces lag the nation on which measure, worst first.

The policy (:func:`recommend`) reads the province comparison table (one row per province
and the national row ``'ID'``, as :func:`kkbm_analysis.reports.analysis.province_table`
builds it) and decides, measure by measure, which provinces lag the national value by more
than ``tolerance`` (relative), worst first, at most ``max_named``; the result is a list of
:class:`Recommendation` records with their numbers, ordered by the size of the worst gap.
:func:`recommendation_text` writes one as a sentence in a language, and
:func:`recommendations` does both::

    from kkbm_analysis.recommendations import recommend, recommendations
    recommend(table)                                     # the records
    recommendations(table, lang="id", period="2018")     # the sentences a report shows

Measures: mentoring coverage, members per organiser, cadre regeneration, KUR uptake of
business owners, and villages without a Perdes on PMI protection.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .barriers import DEFAULT_TOLERANCE as TOLERANCE
from .data import NATIONAL_CODE
from .i18n import is_finite as finite
from .i18n import join_names, region_name
from .i18n import number as num
from .i18n import percent as pct
from .i18n import text as t

__all__ = ["MAX_NAMED", "Recommendation", "recommend", "recommendation_text", "recommendations"]

#: At most this many provinces are named in one recommendation.
MAX_NAMED = 3
#: Months within which a departed organiser must be replaced (the barrier profiles' window).
REPLACEMENT_MONTHS = 6


@dataclass(frozen=True)
class Recommendation:
    """One recommendation: a measure, the provinces that lag on it, and the numbers behind it.

    Attributes
    ----------
    measure : str
        ``'coverage'``, ``'members_per_organiser'``, ``'regeneration'``, ``'kur_owner_uptake'``
        or ``'perdes'``.
    priority : float
        Its rank key: the relative gap of the worst province (for Perdes, the share of
        villages without one, halved when the DiD shows no significant effect).
    provinces : tuple of (str, float)
        Province code and its value (for Perdes: villages without one), worst first.
    national : float
        The national value of the measure.
    details : dict
        Measure-specific numbers: ``no_follow_up`` and ``ame`` (coverage), ``needed``
        (organisers), ``villages`` and ``villages_without`` (Perdes).
    evidence : object, optional
        The model result that supports it (the Perdes DiD when its effect is significant).
    """

    measure: str
    priority: float
    provinces: tuple[tuple[str, float], ...]
    national: float
    details: dict[str, Any] = field(default_factory=dict)
    evidence: Any = None


def recommend(table: pd.DataFrame, *, model: Any = None, perdes: Any = None, tolerance: float = TOLERANCE,
              max_named: int = MAX_NAMED) -> list[Recommendation]:
    """The recommendations the comparison table supports, largest gap first (empty when nothing lags).

    Parameters
    ----------
    table : DataFrame
        One row per province and the national row (``region_code`` ``'ID'``), with the
        columns ``coverage, no_follow_up, members_per_organiser, staff_members,
        organisers_fte, regeneration, kur_owner_uptake, villages, with_perdes``.
    model : BusinessModelResult, optional
        Adds the average marginal effect of a mentoring point to the mentoring recommendation.
    perdes : PerdesEffect, optional
        Supports the Perdes recommendation when its effect is negative and significant.
    tolerance : float
        Relative distance from the national value still not called lagging.
    max_named : int
        At most this many provinces per recommendation.
    """
    tab = table.set_index("region_code")
    nat = tab.loc[NATIONAL_CODE]
    prov = tab.drop(index=NATIONAL_CODE).reset_index()
    out: list[Recommendation] = []

    def laggards(column: str, higher_is_better: bool) -> pd.DataFrame:
        ref = nat[column]
        if not finite(ref) or float(ref) == 0:
            return prov.iloc[0:0]
        d = prov.dropna(subset=[column]).copy()
        d["_gap"] = (ref - d[column]) / abs(ref) if higher_is_better else (d[column] - ref) / abs(ref)
        d = d.loc[d["_gap"] > tolerance].sort_values(["_gap", "region_code"], ascending=[False, True])
        return d.head(max_named)

    def record(measure: str, lag: pd.DataFrame, **details: Any) -> Recommendation:
        return Recommendation(measure, float(lag["_gap"].iloc[0]),
                              tuple(zip(lag["region_code"], lag[measure].astype(float))), float(nat[measure]), details)

    lag = laggards("coverage", True)
    if len(lag):
        ame = None
        if model is not None and "points" in set(model.marginal_effects["term"]):
            ame = float(model.marginal_effects.set_index("term").at["points", "ame"])
        out.append(record("coverage", lag, no_follow_up=lag["no_follow_up"].sum(min_count=1), ame=ame))
    lag = laggards("members_per_organiser", False)
    if len(lag):
        need = (lag["staff_members"] / nat["members_per_organiser"] - lag["organisers_fte"]).clip(lower=0).sum()
        out.append(record("members_per_organiser", lag, needed=math.ceil(need) if finite(need) else None))
    for measure in ("regeneration", "kur_owner_uptake"):
        lag = laggards(measure, True)
        if len(lag):
            out.append(record(measure, lag))
    perdes_rec = _perdes(nat, prov, perdes, max_named)
    if perdes_rec is not None:
        out.append(perdes_rec)
    return sorted(out, key=lambda r: -r.priority)  # stable: equal gaps keep the order above


def _perdes(nat: pd.Series, prov: pd.DataFrame, perdes: Any, max_named: int) -> Recommendation | None:
    """Villages without a Perdes, most in the provinces named; the DiD as evidence when significant."""
    villages, with_perdes = nat.get("villages"), nat.get("with_perdes")
    if not (finite(villages) and float(villages) > 0 and float(villages) > float(with_perdes)):
        return None
    without = prov.assign(without=prov["villages"] - prov["with_perdes"])
    without = without.loc[without["without"] > 0].sort_values(["without", "region_code"],
                                                               ascending=[False, True]).head(max_named)
    significant = (perdes is not None and perdes.overall.get("p_value", 1) < 0.05
                   and perdes.overall.get("estimate", 0) < 0)
    villages_without = float(villages) - float(with_perdes)
    return Recommendation("perdes", villages_without / float(villages) * (1.0 if significant else 0.5),
                          tuple(zip(without["region_code"], without["without"].astype(float))),
                          float(with_perdes), {"villages": float(villages), "villages_without": villages_without},
                          perdes if significant else None)


def recommendation_text(rec: Recommendation, lang: str, period: str) -> str:
    """One recommendation as the sentence a report shows, in ``lang``."""
    def where(fmt: Any) -> str:
        return join_names([f"{region_name(code, lang)} ({fmt(value)})" for code, value in rec.provinces], lang)

    def share(v: Any) -> str:
        return pct(v, 0, lang)

    def count(v: Any) -> str:
        return num(v, 0, lang)

    d = rec.details
    if rec.measure == "coverage":
        no_follow = d["no_follow_up"]
        words = t("report.rec_mentoring", lang, where=where(share), national=share(rec.national), period=period,
                  no_follow=count(no_follow) if finite(no_follow) else t("common.suppressed", lang))
        if d.get("ame") is not None:
            words += " " + t("report.rec_points_effect", lang, ame=num(100 * d["ame"], 1, lang))
        return words
    if rec.measure == "members_per_organiser":
        return t("report.rec_staffing", lang, where=where(count), national=count(rec.national),
                 needed=count(d["needed"]))
    if rec.measure == "regeneration":
        return t("report.rec_regeneration", lang, where=where(share), national=share(rec.national),
                 months=REPLACEMENT_MONTHS)
    if rec.measure == "kur_owner_uptake":
        return t("report.rec_kur", lang, where=where(share), national=share(rec.national))
    if rec.measure == "perdes":
        effect = rec.evidence.interpretation(lang) if rec.evidence is not None else ""
        return t("report.rec_perdes", lang, villages_without=count(d["villages_without"]),
                 villages=count(d["villages"]), provinces=where(count), effect=effect).strip()
    raise ValueError(f"unknown recommendation measure {rec.measure!r}")


def recommendations(table: pd.DataFrame, *, lang: str, period: str, model: Any = None, perdes: Any = None,
                    tolerance: float = TOLERANCE, max_named: int = MAX_NAMED) -> list[str]:
    """The recommendations of :func:`recommend` as sentences in ``lang`` (``report.rec_none`` when nothing lags).

    Parameters are those of :func:`recommend`; ``period`` is the cohort year the sentences name.
    """
    recs = recommend(table, model=model, perdes=perdes, tolerance=tolerance, max_named=max_named)
    if not recs:
        return [t("report.rec_none", lang)]
    return [recommendation_text(r, lang, period) for r in recs]
