"""The numbers behind the reports, computed once per dataset and shared by every report.

Thin, memoised wrappers over :mod:`kkbm_analysis.indicators`, :mod:`.suppression`,
:mod:`.barriers` and :mod:`.models` (see :func:`kkbm_analysis.reports.cache.memo`): a
batch worker computes, e.g., the barrier profiles of all provinces for a period once and
every province report of that period reads its row. Nothing here formats text; see
:mod:`.sections`.

Small cells
-----------
Indicator tables are published through :func:`kkbm_analysis.suppression.suppress` (the
registry's rules, primary and secondary). Barrier measures are not registry indicators;
:func:`mentoring_cohorts` and :func:`province_table` withhold person-based shares whose
base is smaller than :data:`~kkbm_analysis.config.MIN_PUBLISHED_DENOMINATOR` trained
members (flag ``suppressed``).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..config import MIN_PUBLISHED_COUNT, MIN_PUBLISHED_DENOMINATOR
from ..data import NATIONAL_CODE
from ..periods import in_period, period_bounds
from .cache import memo

#: Indicators shown in the reports, in display order (ids of kkbm_analysis.indicators.REGISTRY).
REPORT_INDICATORS: tuple[str, ...] = (
    "members", "members_joined",
    "businesses_formed", "businesses_active", "business_volume_median", "groups_formed", "kur_applications",
    "kur_approval_rate", "kur_uptake", "business_consultations",
    "dissemination_reach", "information_services", "placements_facilitated",
    "advocacy_cases", "advocacy_resolution_rate", "prevention_reach", "people_dissuaded",
)
#: Bootstrap draws for the province gap decomposition in reports (the model's default is 499).
DEFAULT_N_BOOT = 199


def _quiet(fn):
    """Run ``fn()`` with model/pandas warnings silenced (they are reported in result notes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


# --------------------------------------------------------------------------- indicators
def published_indicators(data: Any):
    """The report indicators, national and by province, per year: a suppressed :class:`PublishedTable`."""
    def compute():
        from ..indicators import indicator_table, publish
        table = indicator_table(data, levels=("national", "province"), periods=("year",), by=(None,),
                                indicators=list(REPORT_INDICATORS))
        return publish(table, data)
    return memo("published_indicators", data, compute)


def indicator_rows(data: Any, period: str, region: str) -> pd.DataFrame:
    """One region's published indicators for a year, with the national value beside each.

    Returns
    -------
    DataFrame
        ``indicator_id, domain, label_id, label_en, unit, kind, direction, value, ci_low,
        ci_high, suppressed, national, national_suppressed`` in :data:`REPORT_INDICATORS` order.
    """
    from ..indicators import REGISTRY
    frame = memo("published_frame", data, lambda: published_indicators(data).frame)
    cut = frame.loc[(frame["period"] == period) & (frame["disaggregation"] == "all")]
    own = cut.loc[cut["region_code"] == region].set_index("measure_id")
    nat = cut.loc[cut["region_code"] == NATIONAL_CODE].set_index("measure_id")
    rows = []
    for ind_id in REPORT_INDICATORS:
        spec = REGISTRY[ind_id]
        r = own.loc[ind_id] if ind_id in own.index else None
        n = nat.loc[ind_id] if ind_id in nat.index else None
        rows.append({"indicator_id": ind_id, "domain": spec.domain, "label_id": spec.label_id,
                     "label_en": spec.label_en, "unit": spec.unit, "kind": spec.kind, "direction": spec.direction,
                     "value": None if r is None else r["value"], "ci_low": None if r is None else r["ci_low"],
                     "ci_high": None if r is None else r["ci_high"],
                     "suppressed": False if r is None else bool(r["suppressed"]),
                     "national": None if n is None else n["value"],
                     "national_suppressed": False if n is None else bool(n["suppressed"])})
    return pd.DataFrame(rows)


def indicator_by_province(data: Any, indicator: str, period: str) -> pd.DataFrame:
    """One published indicator for every province (and ``'ID'``) in a year, with its labels and unit."""
    from ..indicators import with_labels
    frame = memo("published_frame", data, lambda: published_indicators(data).frame)
    cut = frame.loc[(frame["measure_id"] == indicator) & (frame["period"] == period)
                    & (frame["disaggregation"] == "all")]
    cols = ["measure_id", "region_code", "level", "value", "ci_low", "ci_high", "suppressed"]
    return with_labels(cut[cols].rename(columns={"measure_id": "indicator_id"})).reset_index(drop=True)


# --------------------------------------------------------------------------- barriers
def profiles(data: Any, period: str) -> pd.DataFrame:
    """Barrier profiles of every province for one period (:func:`kkbm_analysis.barriers.barrier_profiles`)."""
    from ..barriers import barrier_profiles
    return memo("profiles", data, lambda: _quiet(lambda: barrier_profiles(data, level="province", period=period)),
                period)


def profile(data: Any, period: str, province: str) -> pd.DataFrame:
    """One province's barrier profile rows (value, national benchmark, verdict, sentences)."""
    p = profiles(data, period)
    return p.loc[p["region_code"] == province].reset_index(drop=True)


def member_mentoring(data: Any) -> pd.DataFrame:
    """Per-member mentoring record with the member's province (:func:`kkbm_analysis.barriers.member_mentoring`)."""
    def compute():
        from ..barriers import member_mentoring as mm
        out = mm(data)
        prov = data.communities.drop_duplicates("community_id").set_index("community_id")["province_code"]
        out["province_code"] = out["community_id"].map(prov).astype("string")
        return out
    return memo("member_mentoring", data, compute)


def mentoring_cohorts(data: Any, period: str) -> pd.DataFrame:
    """Mentoring of the members whose entry training fell in ``period``, by province and nationally.

    Returns
    -------
    DataFrame
        One row per province code and ``'ID'``: ``trained, mean_points, coverage,
        no_follow_up, no_follow_up_share, points_mandated, points_delivered``, one
        ``share_<point id>`` column per mandated point, and ``suppressed`` (fewer than
        :data:`MIN_PUBLISHED_DENOMINATOR` trained members: shares withheld).
    """
    def compute():
        from ..schema import load_mentoring_points
        ids = list(load_mentoring_points().point_ids)
        m = member_mentoring(data)
        t = m.loc[m["trained"] & in_period(m["entry_training_on"], period)].copy()
        t["no_follow"] = ~t["followed_up"].astype("boolean").fillna(False).astype(bool)
        parts = []
        for code, grp in [*t.groupby("province_code", sort=True), (NATIONAL_CODE, t)]:
            n = len(grp)
            row = {"region_code": str(code), "trained": n, "mean_points": grp["points_received"].mean() if n else np.nan,
                   "no_follow_up": int(grp["no_follow"].sum()), "points_mandated": n * len(ids),
                   "points_delivered": int(grp["points_received"].sum())}
            row["coverage"] = row["points_delivered"] / row["points_mandated"] if n else np.nan
            row["no_follow_up_share"] = row["no_follow_up"] / n if n else np.nan
            for p in ids:
                row[f"share_{p}"] = grp[p].mean() if n else np.nan
            parts.append(row)
        out = pd.DataFrame(parts)
        # provinces with communities but nobody trained in the period still get a row
        known = sorted(set(data.communities["province_code"].dropna().astype(str)) - set(out["region_code"]))
        if known:
            out = pd.concat([out, pd.DataFrame({"region_code": known, "trained": 0})], ignore_index=True)
        out["trained"] = out["trained"].fillna(0).astype("int64")
        out["suppressed"] = (out["trained"] > 0) & (out["trained"] < MIN_PUBLISHED_DENOMINATOR)
        shares = [c for c in out.columns if c.startswith("share_")] + ["mean_points", "coverage", "no_follow_up_share"]
        out.loc[out["suppressed"], shares] = np.nan
        out.loc[(out["no_follow_up"] > 0) & (out["no_follow_up"] < MIN_PUBLISHED_COUNT), "no_follow_up"] = np.nan
        return out.sort_values("region_code", key=lambda s: s.eq(NATIONAL_CODE)).reset_index(drop=True)
    return memo("mentoring_cohorts", data, compute, period)


def sessions_by_point(data: Any, period: str) -> pd.DataFrame:
    """Mentoring sessions held per province and point in ``period`` (and nationally)."""
    def compute():
        s = data.sessions
        prov = data.communities.drop_duplicates("community_id").set_index("community_id")["province_code"]
        held = s.assign(province_code=s["community_id"].map(prov).astype("string"))
        held = held.loc[in_period(pd.to_datetime(s["held_on"]), period)]
        out = pd.crosstab(held["province_code"], held["kind"])
        out.loc[NATIONAL_CODE] = out.sum()
        return out
    return memo("sessions_by_point", data, compute, period)


def staffing_table(data: Any) -> pd.DataFrame:
    """Staffing by province and year plus the national rows (:func:`kkbm_analysis.barriers.staffing`)."""
    def compute():
        from ..barriers import staffing
        prov = _quiet(lambda: staffing(data, level="province", period="year").table)
        nat = _quiet(lambda: staffing(data, level="national", period="year").table)
        return pd.concat([prov, nat], ignore_index=True)
    return memo("staffing", data, compute)


def staffing_row(data: Any, period: str, region: str) -> pd.Series | None:
    table = staffing_table(data)
    rows = table.loc[(table["region_code"] == region) & (table["period"] == period)]
    return rows.iloc[0] if len(rows) else None


def villages_with_perdes(data: Any, period: str) -> pd.DataFrame:
    """Community villages per province and how many had a Perdes on PMI protection by the end of ``period``."""
    def compute():
        com = data.communities.dropna(subset=["village_code"]).drop_duplicates("village_code")
        end = period_bounds(period)[1]
        reg = data.village_regulations
        adopted = set(reg.loc[pd.to_datetime(reg["adopted_on"]) <= end, "village_code"].astype(str))
        com = com.assign(perdes=com["village_code"].astype(str).isin(adopted))
        out = com.groupby(com["province_code"].astype(str)).agg(villages=("village_code", "size"),
                                                                 with_perdes=("perdes", "sum"))
        out.loc[NATIONAL_CODE] = out.sum()
        out["without"] = out["villages"] - out["with_perdes"]
        return out.rename_axis("region_code").reset_index()
    return memo("villages_with_perdes", data, compute, period)


def communities_count(data: Any, region: str) -> tuple[int, int]:
    """(communities, distinct villages) of a province (or ``'ID'``)."""
    com = data.communities.drop_duplicates("community_id")
    if region != NATIONAL_CODE:
        com = com.loc[com["province_code"].astype(str) == region]
    return len(com), int(com["village_code"].dropna().nunique())


# --------------------------------------------------------------------------- models
def outcome_frame(data: Any) -> pd.DataFrame:
    """:func:`kkbm_analysis.models.business_outcome_frame`, once."""
    from ..models import business_outcome_frame
    return memo("outcome_frame", data, lambda: _quiet(lambda: business_outcome_frame(data)))


def y12_rates(data: Any) -> pd.DataFrame:
    """Share of trained members running a business 12 months after training, by province and nationally."""
    def compute():
        f = outcome_frame(data).dropna(subset=["y12"])
        g = f.groupby(f["province_code"].astype(str))["y12"].agg(["mean", "size"])
        g.loc[NATIONAL_CODE] = [f["y12"].mean(), len(f)]
        g.columns = ["y12", "n"]
        g.loc[g["n"] < MIN_PUBLISHED_DENOMINATOR, "y12"] = np.nan
        return g.rename_axis("region_code").reset_index()
    return memo("y12_rates", data, compute)


def business_model(data: Any):
    """:func:`kkbm_analysis.models.business_running_model` on the national data (glm)."""
    from ..models import business_running_model
    return memo("business_model", data, lambda: _quiet(lambda: business_running_model(outcome_frame(data))))


def gap_reference(data: Any, province: str) -> str | None:
    """The province a province is compared with: the highest Y12 share (the next one for the top)."""
    rates = y12_rates(data)
    rates = rates.loc[(rates["region_code"] != NATIONAL_CODE) & rates["y12"].notna()]
    rates = rates.sort_values(["y12", "region_code"], ascending=[False, True])
    others = rates.loc[rates["region_code"] != province, "region_code"].tolist()
    return others[0] if others else None


def gap_decomposition(data: Any, province: str, reference: str, n_boot: int = DEFAULT_N_BOOT):
    """Oaxaca-Blinder gap of ``province`` against ``reference`` (reference minus province)."""
    from ..models import province_gap_decomposition
    return memo("gap", data, lambda: _quiet(lambda: province_gap_decomposition(
        outcome_frame(data), reference, province, n_boot=n_boot)), province, reference, n_boot)


def perdes_model(data: Any):
    """:func:`kkbm_analysis.models.perdes_effect` on the national data."""
    from ..models import perdes_effect
    return memo("perdes", data, lambda: _quiet(lambda: perdes_effect(data)))


# --------------------------------------------------------------------------- national comparison
def province_table(data: Any, period: str) -> pd.DataFrame:
    """Every province with the measures the national brief compares, plus the national row ``'ID'``.

    Columns: ``region_code, members, trained, coverage, mean_points, no_follow_up_share,
    no_follow_up, members_per_organiser, organisers_fte, vacancy_months_per_community,
    regeneration, kur_owner_uptake, y12, villages, with_perdes, suppressed``.
    """
    def compute():
        codes = sorted(data.communities["province_code"].dropna().astype(str).unique())
        coh = mentoring_cohorts(data, period).set_index("region_code")
        st = staffing_table(data)
        st = st.loc[st["period"] == period].set_index("region_code")
        prof = profiles(data, period)
        kur = prof.loc[prof["barrier_id"] == "kur_owner_uptake"].set_index("region_code")
        kur_nat = kur["benchmark"].iloc[0] if len(kur) else np.nan
        members = indicator_by_province(data, "members", period).set_index("region_code")
        y12 = y12_rates(data).set_index("region_code")
        vil = villages_with_perdes(data, period).set_index("region_code")
        rows = []
        for code in [*codes, NATIONAL_CODE]:
            def get(frame, col, default=np.nan):
                return frame.at[code, col] if code in frame.index and col in frame.columns else default
            rows.append({
                "region_code": code, "members": get(members, "value"),
                "members_suppressed": bool(get(members, "suppressed", False)),
                "trained": int(get(coh, "trained", 0) or 0), "coverage": get(coh, "coverage"),
                "mean_points": get(coh, "mean_points"), "no_follow_up_share": get(coh, "no_follow_up_share"),
                "no_follow_up": get(coh, "no_follow_up"),
                "members_per_organiser": get(st, "members_per_organiser"), "organisers_fte": get(st, "organisers_fte"),
                "staff_members": get(st, "members"),
                "vacancy_months_per_community": get(st, "vacancy_months_per_community"),
                "regeneration": get(st, "regeneration"),
                "kur_owner_uptake": kur_nat if code == NATIONAL_CODE else get(kur, "value"),
                "y12": get(y12, "y12"), "villages": get(vil, "villages", 0), "with_perdes": get(vil, "with_perdes", 0),
                "suppressed": bool(get(coh, "suppressed", False)),
            })
        out = pd.DataFrame(rows)
        for c in out.columns:
            if c not in ("region_code", "suppressed", "members_suppressed"):
                out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
        return out
    return memo("province_table", data, compute, period)
