"""Recommendation records in words: the evidence-graded records of ``kkbm analyse``, rendered through the catalogue.

The records (:mod:`kkbm_analysis.recommendations`, read with
:meth:`kkbm_analysis.products.Products.recommendations`) carry the action, the region, the
measure, the value and interval, the national value, the design and the supporting model.
Each becomes one sentence: what to do and where, then its evidence (design, n, interval,
data window). Causal words appear only for a record whose design is quasi-experimental (the
Perdes DiD, with its assumptions); an association is called one.
"""
from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from ..i18n import ci_label, join_names, region_name
from ..i18n import date as fmt_date
from ..i18n import is_finite as finite
from ..i18n import number as num
from ..i18n import percent as pct
from ..i18n import text as t
from ..products import NATIONAL

__all__ = ["province_advice", "national_advice", "MAX_NAMED"]

#: At most this many provinces are named in one national recommendation.
MAX_NAMED = 3
_SHARES = ("strengthen_mentoring", "build_cadre_regeneration", "facilitate_kur", "encourage_perdes")


def _fmt(action: str, x: Any, lang: str) -> str:
    return pct(x, 0, lang) if action in _SHARES else num(x, 0, lang)


def _strength(rec: pd.Series, lang: str) -> str:
    design = t(f"evidence.design.{rec['strength']}", lang)
    share = rec["action_id"] in _SHARES
    interval = ci_label(rec["ci_low"], rec["ci_high"], 0 if share else 1, lang, percent=share) \
        if finite(rec["ci_low"]) else t("common.not_applicable", lang)
    window = (f"{fmt_date(rec['window_start'], lang)} – {fmt_date(rec['window_end'], lang)}"
              if pd.notna(rec["window_start"]) and pd.notna(rec["window_end"]) else t("common.no_data", lang))
    return t("evidence.strength", lang, design=design, n=num(rec["n"], 0, lang), ci=interval, window=window)


def _support(rec: pd.Series, products: Any, lang: str) -> str:
    design = rec["support_design"]
    if pd.isna(design) or rec["strength"] == "descriptive":
        return ""
    if design == "association":
        ci = ci_label(100 * rec["support_ci_low"], 100 * rec["support_ci_high"], 1, lang)
        return t("evidence.support.association", lang, estimate=num(100 * rec["support_estimate"], 1, lang), ci=ci)
    fit = products.fits().get(str(rec["support_fit"]))
    return t("evidence.support.quasi_experimental", lang, interpretation=fit.text(lang) if fit else "")


def _sentence(rec: pd.Series, where: str, products: Any, lang: str) -> str:
    action = str(rec["action_id"])
    national = _fmt(action, rec["national_value"], lang)
    if action == "encourage_perdes" and rec["level"] == "national":
        words = t("evidence.action.encourage_perdes_national", lang, without=num(rec["quantity"], 0, lang),
                  villages=num(rec["n"], 0, lang))  # n of a share of villages: the villages
    else:
        words = t(f"evidence.action.{action}", lang, where=where, national=national,
                  months=products.parameters.get("replacement_months", 6))
        if action == "recruit_organisers" and finite(rec["quantity"]):
            words += t("evidence.action.recruit_organisers_needed", lang, needed=num(rec["quantity"], 0, lang))
    return words + _support(rec, products, lang) + " " + _strength(rec, lang)


def province_advice(products: Any, province: str, period: str, lang: str) -> list[str]:
    """The province's recommendations for a period, as escaped HTML sentences (largest gap first)."""
    recs = products.recommendations(region=province, period=period)
    recs = recs.sort_values(["gap"], ascending=False, kind="stable")
    where = region_name(province, lang)
    return [escape(_sentence(r, f"{where} ({_fmt(r['action_id'], r['value'], lang)})", products, lang))
            for _, r in recs.iterrows()]


def national_advice(products: Any, period: str, lang: str) -> list[str]:
    """The national brief's recommendations: per action, the provinces with the largest gaps (at most
    :data:`MAX_NAMED`), and the national Perdes record; as escaped HTML sentences."""
    recs = products.recommendations(period=period)
    out = []
    for action, group in recs.groupby("action_id", sort=False):
        prov = group.loc[group["region_code"] != NATIONAL].sort_values("priority").head(MAX_NAMED)
        if len(prov):
            where = join_names([f"{region_name(r['region_code'], lang)} ({_fmt(action, r['value'], lang)})"
                                for _, r in prov.iterrows()], lang)
            first = prov.iloc[0].copy()
            if action == "recruit_organisers":
                first["quantity"] = prov["quantity"].sum(min_count=1)
            out.append(escape(_sentence(first, where, products, lang)))
        for _, r in group.loc[group["region_code"] == NATIONAL].iterrows():
            out.append(escape(_sentence(r, "", products, lang)))
    return out
