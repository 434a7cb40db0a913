"""Evidence-based recommendations: which provinces lag the nation on which measure, worst first."""
from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .barriers import DEFAULT_TOLERANCE as TOLERANCE
from .data import NATIONAL_CODE
from .i18n import is_finite as finite
from .i18n import join_names, region_name
from .i18n import number as num
from .i18n import percent as pct
from .i18n import text as t

#: At most this many provinces are named in one recommendation.
MAX_NAMED = 3


def recommendations(table: pd.DataFrame, *, lang: str, period: str, model: Any = None, perdes: Any = None,
                    tolerance: float = TOLERANCE, max_named: int = MAX_NAMED) -> list[str]:
    """Evidence-based recommendations from the province comparison (:func:`analysis.province_table`).

    Each measure (mentoring coverage, members per organiser, cadre regeneration, KUR uptake of
    business owners, villages without a Perdes) names the provinces that are worse than the
    national value by more than ``tolerance`` (relative), worst first, at most ``max_named``,
    with their numbers. Recommendations are ordered by the size of the worst gap; a measure
    without such provinces gives no recommendation.

    Returns
    -------
    list of str
        Sentences in ``lang``; ``[t('rec_none')]`` when nothing lags.
    """
    tab = table.set_index("region_code")
    nat = tab.loc[NATIONAL_CODE]
    prov = tab.drop(index=NATIONAL_CODE).reset_index()
    out: list[tuple[float, str]] = []

    def laggards(column: str, higher_is_better: bool) -> pd.DataFrame:
        ref = nat[column]
        if not finite(ref) or float(ref) == 0:
            return prov.iloc[0:0]
        d = prov.dropna(subset=[column]).copy()
        d["_gap"] = (ref - d[column]) / abs(ref) if higher_is_better else (d[column] - ref) / abs(ref)
        d = d.loc[d["_gap"] > tolerance].sort_values(["_gap", "region_code"], ascending=[False, True])
        return d.head(max_named)

    def where(lag: pd.DataFrame, column: str, fmt) -> str:
        return join_names([f"{region_name(c, lang)} ({fmt(v)})" for c, v in zip(lag["region_code"], lag[column])],
                          lang)

    lag = laggards("coverage", True)
    if len(lag):
        no_follow = lag["no_follow_up"].sum(min_count=1)
        text = t("report.rec_mentoring", lang, where=where(lag, "coverage", lambda v: pct(v, 0, lang)),
                 national=pct(nat["coverage"], 0, lang), period=period,
                 no_follow=num(no_follow, 0, lang) if finite(no_follow) else t("common.suppressed", lang))
        if model is not None and "points" in set(model.marginal_effects["term"]):
            ame = model.marginal_effects.set_index("term").at["points", "ame"]
            text += " " + t("report.rec_points_effect", lang, ame=num(100 * ame, 1, lang))
        out.append((float(lag["_gap"].iloc[0]), text))
    lag = laggards("members_per_organiser", False)
    if len(lag):
        need = (lag["staff_members"] / nat["members_per_organiser"] - lag["organisers_fte"]).clip(lower=0).sum()
        out.append((float(lag["_gap"].iloc[0]), t(
            "report.rec_staffing", lang, where=where(lag, "members_per_organiser", lambda v: num(v, 0, lang)),
            national=num(nat["members_per_organiser"], 0, lang),
            needed=num(math.ceil(need) if finite(need) else None, 0, lang))))
    lag = laggards("regeneration", True)
    if len(lag):
        out.append((float(lag["_gap"].iloc[0]), t(
            "report.rec_regeneration", lang, where=where(lag, "regeneration", lambda v: pct(v, 0, lang)),
            national=pct(nat["regeneration"], 0, lang), months=6)))
    lag = laggards("kur_owner_uptake", True)
    if len(lag):
        out.append((float(lag["_gap"].iloc[0]), t(
            "report.rec_kur", lang, where=where(lag, "kur_owner_uptake", lambda v: pct(v, 0, lang)),
            national=pct(nat["kur_owner_uptake"], 0, lang))))
    villages, with_perdes = nat.get("villages"), nat.get("with_perdes")
    if finite(villages) and float(villages) > 0 and float(villages) > float(with_perdes):
        without = prov.assign(without=prov["villages"] - prov["with_perdes"])
        without = without.loc[without["without"] > 0].sort_values(["without", "region_code"],
                                                                   ascending=[False, True]).head(max_named)
        effect = ""
        if perdes is not None and perdes.overall.get("p_value", 1) < 0.05 and perdes.overall.get("estimate", 0) < 0:
            effect = perdes.interpretation(lang)
        share_without = (float(villages) - float(with_perdes)) / float(villages)
        out.append((share_without * (1.0 if effect else 0.5), t(
            "report.rec_perdes", lang, villages_without=num(float(villages) - float(with_perdes), 0, lang),
            villages=num(villages, 0, lang),
            provinces=join_names([f"{region_name(r.region_code, lang)} ({num(r.without, 0, lang)})"
                                  for r in without.itertuples()], lang), effect=effect).strip()))
    if not out:
        return [t("report.rec_none", lang)]
    return [text for _, text in sorted(out, key=lambda x: -x[0])]
