"""A section-ready summary of resilience for a province report or the national brief.

:func:`resilience_section` returns the numbers a report section shows, already through
small-cell suppression, with sentences in Indonesian and English:

``index``
    The RCI, the three sub-indices and the share resilient in the latest round: the
    province's value and 95 % interval against the national one, with respondents (from
    :func:`~kkbm_analysis.resilience.indicators.resilience_indicators`, published through
    :func:`kkbm_analysis.suppression.suppress`; suppressed cells are NA).
``risks``
    The risk factors members report most (latest round): share of respondents per risk,
    province and national, with Wilson intervals; a share with fewer than 10 respondents or
    1-4 reporting it is suppressed. Ranked by the province's share (national for the brief).
``activities``
    The programme's activities: coverage of enabling, empowering and protecting in the
    province against the nation, and the association of each with each capacity
    (national model: provinces are too small for their own), labelled as associations.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..config import MIN_PUBLISHED_COUNT, MIN_PUBLISHED_DENOMINATOR
from ..data import NATIONAL_CODE, ProgramData
from ..i18n import ci_label, number, text
from ..suppression import suppress
from ._base import capacity_label, check_lang, label
from .confirmatory import cfa
from .empowerment import DIMENSIONS, EmpowermentResult, dimension_label, empowerment_map
from .frames import ROUNDS, analysis_frame
from .index import ResilienceIndex, resilience_index
from .indicators import RESILIENCE_INDICATORS, registry, resilience_indicators
from ..item_bank import load_item_bank

TOP_RISKS = 5


@dataclass
class ResilienceSection:
    """Numbers and sentences of one resilience report section (see the module docstring)."""

    region_code: str
    round: str
    index: pd.DataFrame
    risks: pd.DataFrame
    activities: pd.DataFrame
    associations: pd.DataFrame
    synthetic: bool
    notes: list[str] = field(default_factory=list)

    def text(self, lang: str = "en") -> str:
        """Two or three sentences with the numbers, in Indonesian (``'id'``) or English."""
        check_lang(lang)
        rci = self.index.set_index("indicator_id").loc["resilience_rci"]
        parts = []
        if pd.notna(rci["value"]):
            numbers = {"value": number(rci["value"], 1, lang), "ci": ci_label(rci["ci_low"], rci["ci_high"], 1, lang),
                       "national": number(rci["national_value"], 1, lang)}
            parts.append(text("resilience.section.rci" if self.region_code == NATIONAL_CODE
                           else "resilience.section.rci_versus_national", lang, **numbers))
        else:
            parts.append(text("resilience.section.rci_suppressed", lang))
        top = self.risks.dropna(subset=["share"]).head(3)
        if len(top):
            names = ", ".join(f"{label(r.risk, lang).lower()} ({number(r.share, 0, lang, percent=True)})"
                              for r in top.itertuples())
            parts.append(text("resilience.section.risks", lang, risks=names))
        if len(self.associations):
            t = (self.associations["estimate"] / self.associations["std_error"]).abs()
            a = self.associations.loc[t.idxmax()]
            dim = dimension_label(a["term"], lang)
            parts.append(text("resilience.section.association", lang, dimension=dim, Dimension=dim.capitalize(),
                           capacity=capacity_label(a["capacity"], lang),
                           estimate=number(a["estimate"], 2, lang, signed=True),
                           ci=ci_label(a["ci_low"], a["ci_high"], 2, lang)))
        return " ".join(parts)


def resilience_section(data: ProgramData, province: str | None = None, *, frame: pd.DataFrame | None = None,
                       index: ResilienceIndex | None = None, empowerment: EmpowermentResult | None = None,
                       round: str | None = None) -> ResilienceSection:
    """The resilience numbers of a province report (``province='35'``) or the national brief (None).

    Pass ``frame``, ``index`` and ``empowerment`` when a batch has computed them once for
    every province.
    """
    frame = analysis_frame(data) if frame is None else frame
    if province is not None and province not in set(frame["province_code"].astype(str)):   # before any fit
        raise ValueError(f"no resilience interviews in province {province!r}; provinces with interviews: "
                         f"{', '.join(sorted(set(frame['province_code'].astype(str))))}")
    model = index.measurement if index is not None and index.measurement is not None else cfa(frame)
    index = index or resilience_index(frame, model)
    empowerment = empowerment or empowerment_map(data, frame, model)
    round = round or [r for r in ROUNDS if (frame["round"] == r).any()][-1]
    region = province or NATIONAL_CODE
    table = resilience_indicators(data, frame=frame, index=index, by=(None,))
    published = suppress(table, registry=registry(), synthetic=data.synthetic).frame
    return ResilienceSection(region, round, _index_table(published, region, round),
                             _risk_table(frame, province, round), _activity_table(empowerment, region),
                             empowerment.estimates.copy(), data.synthetic, list(index.notes))


def _index_table(published: pd.DataFrame, region: str, round: str) -> pd.DataFrame:
    p = published[(published["period"] == round) & (published["disaggregation"] == "all")
                  & (published["indicator_id"] != "resilience_rci_change")]
    local = p[p["region_code"] == region].set_index("indicator_id")
    nat = p[p["region_code"] == NATIONAL_CODE].set_index("indicator_id")
    rows = []
    for ind in RESILIENCE_INDICATORS:
        if ind == "resilience_rci_change" or ind not in local.index:
            continue
        spec = RESILIENCE_INDICATORS[ind]
        rows.append({"indicator_id": ind, "label_id": spec.label_id, "label_en": spec.label_en,
                     "value": local.at[ind, "value"], "ci_low": local.at[ind, "ci_low"],
                     "ci_high": local.at[ind, "ci_high"], "n": local.at[ind, "denominator"],
                     "suppressed": bool(local.at[ind, "suppressed"]),
                     "national_value": nat.at[ind, "value"], "national_ci_low": nat.at[ind, "ci_low"],
                     "national_ci_high": nat.at[ind, "ci_high"]})
    return pd.DataFrame(rows)


def _share(x: pd.Series) -> tuple[float, float, float, int, int]:
    from statsmodels.stats.proportion import proportion_confint

    x = x.dropna().astype(bool)
    n, k = len(x), int(x.sum())
    if n < MIN_PUBLISHED_DENOMINATOR or 0 < k < MIN_PUBLISHED_COUNT:
        return np.nan, np.nan, np.nan, n, k
    lo, hi = proportion_confint(k, n, method="wilson")
    return k / n, float(lo), float(hi), n, k


def _risk_table(frame: pd.DataFrame, province: str | None, round: str) -> pd.DataFrame:
    bank = load_item_bank()
    now = frame[frame["round"] == round]
    local = now if province is None else now[now["province_code"].astype(str) == province]
    rows = []
    for f in bank.risk_fields():
        share, lo, hi, n, _ = _share(local[f])
        nshare, nlo, nhi, nn, _ = _share(now[f])
        domain = bank.item(f).domain
        rows.append({"risk": f, "domain": domain, "domain_id": bank.risk_domains[domain][0],
                     "domain_en": bank.risk_domains[domain][1], "share": share, "ci_low": lo, "ci_high": hi,
                     "n": n, "suppressed": bool(np.isnan(share)) and n > 0, "national_share": nshare,
                     "national_ci_low": nlo, "national_ci_high": nhi})
    out = pd.DataFrame(rows).sort_values(["share", "national_share"], ascending=False, na_position="last")
    return out.head(TOP_RISKS).reset_index(drop=True)


def _activity_table(emp: EmpowermentResult, region: str) -> pd.DataFrame:
    cov = emp.coverage_table[emp.coverage_table["round"] == "all"].set_index("region_code")
    rows = []
    for dim, acts in DIMENSIONS.items():
        n = cov.at[region, "n"] if region in cov.index else 0
        small = n < MIN_PUBLISHED_DENOMINATOR
        rows.append({"dimension": dim, "label_id": dimension_label(dim, "id"), "label_en": dimension_label(dim, "en"),
                     "activities": " + ".join(acts),
                     "coverage": np.nan if small else cov.at[region, dim], "n": n,
                     "national_coverage": cov.at[NATIONAL_CODE, dim]})
    return pd.DataFrame(rows)


