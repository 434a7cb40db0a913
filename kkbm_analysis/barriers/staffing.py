"""Staffing: members per organiser, officers per community, vacancies, turnover and cadre regeneration."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data import NATIONAL_CODE, ProgramData, period_label, region_column
from ..i18n import number
from ._common import (
    DAYS_PER_MONTH,
    HANDOVER,
    ORGANISER_ROLES,
    _add_region,
    _explode_months,
    _frame,
    _lookup,
    _observation_window,
    _periods,
    _Result,
    _share,
    _table_text,
    valid_region_codes,
)


def _active(staff: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Staff active at some point of [start, end]."""
    return (staff["started_on"] <= end) & (staff["ended_on"].isna() | (staff["ended_on"] >= start))


def _departures(organisers: pd.DataFrame, months: int, as_of: pd.Timestamp) -> pd.DataFrame:
    """Departed organisers, each matched to at most one replacement (see module docstring)."""
    dep = organisers.loc[organisers["ended_on"].notna() & (organisers["ended_on"] <= as_of)]
    dep = dep[["staff_id", "role", "community_id", "region_code", "started_on", "ended_on", "end_reason"]]
    cand = organisers[["staff_id", "community_id", "started_on"]].rename(
        columns={"staff_id": "replacement_id", "started_on": "replacement_on"})
    pairs = dep.merge(cand, on="community_id")
    window = ((pairs["replacement_id"] != pairs["staff_id"]) & (pairs["replacement_on"] > pairs["started_on"])
              & (pairs["replacement_on"] >= pairs["ended_on"] - HANDOVER)
              & (pairs["replacement_on"] <= pairs["ended_on"] + pd.DateOffset(months=months)))
    pairs = pairs.loc[window].sort_values(["ended_on", "staff_id", "replacement_on"], kind="stable")
    matched: dict[str, tuple[str, pd.Timestamp]] = {}
    used: set[str] = set()
    for row in pairs.itertuples(index=False):
        if row.staff_id not in matched and row.replacement_id not in used:
            matched[row.staff_id] = (row.replacement_id, row.replacement_on)
            used.add(row.replacement_id)
    out = dep.reset_index(drop=True)
    found = pd.DataFrame(list(matched.values()), index=list(matched), columns=["id", "on"])
    out["replacement_id"] = _lookup(out["staff_id"], found["id"].astype("string"))
    out["replacement_on"] = _lookup(out["staff_id"], pd.to_datetime(found["on"]).astype("datetime64[ms]"))
    out["replaced"] = out["replacement_id"].notna()
    out["months_to_replacement"] = ((out["replacement_on"] - out["ended_on"]).dt.days / DAYS_PER_MONTH
                                    ).astype("Float64")
    out["censored"] = ~out["replaced"] & (out["ended_on"] + pd.DateOffset(months=months) > as_of)
    return out


def _vacancy(data: ProgramData, cos: pd.DataFrame, level: str, last_month: int) -> pd.DataFrame:
    """Community-months (formation to ``as_of``) with ``vacant`` = no CO active in the month."""
    com = _add_region(data, _frame(data, "communities")[["community_id", "formed_on"]], level)
    months = _explode_months(com.assign(_none=pd.NaT), "formed_on", "_none", last_month)
    covered = _explode_months(cos[["community_id", "started_on", "ended_on"]], "started_on", "ended_on",
                              last_month)[["community_id", "month"]]
    covered = covered.drop_duplicates().assign(_covered=True)
    months = months.merge(covered, on=["community_id", "month"], how="left")
    return months.assign(vacant=months["_covered"].isna())[["community_id", "region_code", "month", "vacant"]]


def _staff_in_period(staff: pd.DataFrame, grid: pd.DataFrame, key: str) -> pd.DataFrame:
    """FTE of staff active in each period, summed by ``key``."""
    parts = []
    for label, (ps, pe) in grid.groupby("period", sort=False)[["period_start", "period_end"]].first().iterrows():
        act = staff.loc[_active(staff, ps, pe)]
        parts.append(act.groupby(key)["fte"].sum().rename("fte").reset_index().assign(period=label))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[key, "fte", "period"])


def _officer_ratio(data: ProgramData, staff: pd.DataFrame, grid: pd.DataFrame, level: str) -> pd.DataFrame:
    """Officers (FTE) per community, by region and period (province ratio below province)."""
    officers = staff.loc[staff["role"] == "officer"]
    prov_level = "national" if level == "national" else "province"
    off = _staff_in_period(officers.assign(region_code=officers["province_code"].astype("string")
                                           if prov_level == "province" else NATIONAL_CODE), grid, "region_code")
    com = _add_region(data, _frame(data, "communities"), prov_level)
    ends = grid.groupby("period")["period_end"].first()
    n_com = pd.concat([com.loc[com["formed_on"] <= pe].groupby("region_code").size().rename("n").reset_index()
                       .assign(period=p) for p, pe in ends.items()], ignore_index=True)
    ratio = n_com.merge(off, on=["region_code", "period"], how="left").fillna({"fte": 0.0})
    ratio["officers_per_community"] = ratio["fte"] / ratio["n"]
    ratio = ratio.rename(columns={"fte": "officers_fte"})
    if level in ("national", "province"):
        return ratio[["region_code", "period", "officers_fte", "officers_per_community"]]
    prov_of = _add_region(data, _add_region(data, data.communities[["community_id"]], "province")
                          .rename(columns={"region_code": "province"}), level).dropna(subset=["region_code"])
    prov_of = prov_of.drop_duplicates("region_code")[["region_code", "province"]]
    out = prov_of.merge(ratio.rename(columns={"region_code": "province"}), on="province")
    return out[["region_code", "period", "officers_fte", "officers_per_community"]]


@dataclass(repr=False)
class Staffing(_Result):
    """Staffing, vacancies, turnover and cadre regeneration (see :func:`staffing`).

    Attributes
    ----------
    level, period : str
    replacement_months : int
    table : DataFrame
        Per region and period: members, communities, organiser/CO FTE, members per
        organiser and per CO, officers per community, vacancy months, turnover, regeneration.
    departures : DataFrame
        Each departed organiser with its replacement (if any) and censoring flag.
    window : tuple of Timestamp
        Start and end of the record.
    """

    level: str
    period: str | None
    replacement_months: int
    table: pd.DataFrame
    departures: pd.DataFrame
    window: tuple[pd.Timestamp, pd.Timestamp]
    synthetic: bool = False

    def summary(self) -> str:
        start, end = (d.date() if pd.notna(d) else "NA" for d in self.window)
        cols = ["region_code", "period", "members_per_organiser", "members_per_co", "officers_per_community",
                "vacancy_months_per_community", "turnover", "regeneration"]
        dep = self.departures.loc[~self.departures["censored"]]
        lines = [self._header(f"Staffing by {self.level} and {self.period or 'whole record'} ({start} to {end})"),
                 f"Cadre regeneration (replaced within {self.replacement_months} months): "
                 f"{int(dep['replaced'].sum()):,} of {len(dep):,} departed organisers "
                 f"({number(_share(dep['replaced'].sum(), len(dep)), 0, percent=True)}); "
                 f"{int(self.departures['censored'].sum()):,} more too recent to judge.",
                 "", _table_text(self.table[cols])]
        return "\n".join(lines)


def staffing(data: ProgramData, *, level: str = "province", period: str | None = "year",
             replacement_months: int = 6, as_of: Any = None) -> Staffing:
    """Members per organiser, officers per community, vacancies, turnover, cadre regeneration.

    Parameters
    ----------
    data : ProgramData
    level : str, default 'province'
        Region level (a key of :data:`~kkbm_analysis.data.REGION_LEVELS`).
    period : {'year', 'quarter', 'month'} or None, default 'year'
        Calendar periods; None treats the whole record as one period ``'all'``.
    replacement_months : int, default 6
        N: a departed organiser counts as replaced if a newcomer started within N months.
    as_of : date-like, optional
        End of the record (default: the latest date in any table).

    Returns
    -------
    Staffing
        Definitions in the module docstring.

    Raises
    ------
    ValueError
        If there are no dated communities or staff to define the record.
    """
    region_column(level)
    start, end = _observation_window(data, as_of)
    staff = _frame(data, "staff")
    staff = staff.assign(fte=staff["fte"].astype("Float64").fillna(1.0).astype(float),
                         community_id=staff["community_id"].astype("string"))
    org = _add_region(data, staff.loc[staff["role"].isin(ORGANISER_ROLES) & staff["community_id"].notna()], level)
    if pd.isna(start) or pd.isna(end):
        raise ValueError("staffing needs dated communities or staff")
    grid = _periods(start, end, period)
    last = int(grid["month"].max())
    deps = _departures(org, replacement_months, end)
    deps["period"] = period_label(deps["ended_on"], period).to_numpy()
    table = _staffing_table(data, org, staff, grid, level, last, deps)
    return Staffing(level=level, period=period, replacement_months=replacement_months, table=table,
                    departures=deps, window=(start, end), synthetic=data.synthetic)


def _staffing_table(data: ProgramData, org: pd.DataFrame, staff: pd.DataFrame, grid: pd.DataFrame, level: str,
                    last: int, deps: pd.DataFrame) -> pd.DataFrame:
    codes = valid_region_codes(data, level)
    bounds = grid.groupby("period", sort=False)[["period_start", "period_end"]].first()
    out = pd.MultiIndex.from_product([codes, bounds.index], names=["region_code", "period"]).to_frame(index=False)
    out = out.merge(bounds.reset_index(), on="period")
    members = _add_region(data, _frame(data, "members")[["member_id", "community_id", "joined_on"]], level)
    com = _add_region(data, _frame(data, "communities")[["community_id", "formed_on"]], level)
    ends = bounds["period_end"]
    by_end = zip(bounds.index, _counts_by(members, "joined_on", ends), _counts_by(com, "formed_on", ends))
    counts = [pd.DataFrame({"members": m, "communities": c}).rename_axis("region_code").reset_index().assign(period=p)
              for p, m, c in by_end]
    out = out.merge(pd.concat(counts), on=["region_code", "period"], how="left")
    for role, name in ((list(ORGANISER_ROLES), "organisers_fte"), (["co"], "co_fte")):
        fte = _staff_in_period(org.loc[org["role"].isin(role)], grid, "region_code").rename(columns={"fte": name})
        out = out.merge(fte, on=["region_code", "period"], how="left")
    out = out.merge(_officer_ratio(data, staff, grid, level), on=["region_code", "period"], how="left")
    out = out.merge(_vacancy_by_period(data, org, grid, level, last), on=["region_code", "period"], how="left")
    out = out.merge(_turnover(org, grid, last), on=["region_code", "period"], how="left")
    out = out.merge(_regeneration(deps), on=["region_code", "period"], how="left")
    ints = ["members", "communities", "vacancy_months", "organisers_ended", "departures", "replaced",
            "departures_censored"]
    out[ints] = out[ints].fillna(0).astype("int64")
    out[["organisers_fte", "co_fte"]] = out[["organisers_fte", "co_fte"]].fillna(0.0)
    out["members_per_organiser"] = _share(out["members"], out["organisers_fte"])
    out["members_per_co"] = _share(out["members"], out["co_fte"])
    out["vacancy_months_per_community"] = _share(out["vacancy_months"], out["communities_observed"])
    out["turnover"] = _share(out["organisers_ended"], out["avg_organisers"])
    out["regeneration"] = _share(out["replaced"], out["departures"] - out["departures_censored"])
    return out[["region_code", "period", "period_start", "period_end", "members", "communities", "organisers_fte",
                "co_fte", "members_per_organiser", "members_per_co", "officers_fte", "officers_per_community",
                "vacancy_months", "communities_observed", "vacancy_months_per_community", "organisers_ended",
                "avg_organisers", "turnover", "departures", "replaced", "departures_censored", "regeneration"]]


def _counts_by(frame: pd.DataFrame, date: str, ends: pd.Series) -> list[pd.Series]:
    """Rows dated on or before each end, by ``region_code`` (rows without a region or date are not counted)."""
    region, codes = pd.factorize(frame["region_code"])
    when = frame[date].to_numpy(dtype="datetime64[ns]")
    return [pd.Series(np.bincount(region[(region >= 0) & (when <= end.to_datetime64())], minlength=len(codes)),
                      index=codes) for end in ends]


def _vacancy_by_period(data: ProgramData, org: pd.DataFrame, grid: pd.DataFrame, level: str,
                       last: int) -> pd.DataFrame:
    months = _vacancy(data, org.loc[org["role"] == "co"], level, last).merge(grid[["month", "period"]], on="month")
    g = months.groupby(["region_code", "period"])
    return pd.DataFrame({"vacancy_months": g["vacant"].sum(),
                         "communities_observed": g["community_id"].nunique()}).reset_index()


def _turnover(org: pd.DataFrame, grid: pd.DataFrame, last: int) -> pd.DataFrame:
    """Organisers who ended in the period and mean monthly headcount, by region and period."""
    staff = org[["region_code", "started_on", "ended_on"]].assign(staff=pd.factorize(org["staff_id"])[0])
    heads = _explode_months(staff, "started_on", "ended_on", last)  # staff as integer codes: cheaper to count
    heads = heads.loc[heads["month"] >= grid["month"].min()]
    per_month = heads.groupby(["region_code", "month"])["staff"].nunique().rename("n").reset_index()
    regions = org["region_code"].dropna().unique()
    full = pd.MultiIndex.from_product([regions, grid["month"]], names=["region_code", "month"]).to_frame(index=False)
    full = full.merge(per_month, on=["region_code", "month"], how="left").fillna({"n": 0})
    full = full.merge(grid[["month", "period"]], on="month")
    avg = full.groupby(["region_code", "period"])["n"].mean().rename("avg_organisers")
    ended = org.loc[org["ended_on"].notna()]
    bounds = grid.groupby("period")[["period_start", "period_end"]].first()
    n_end = pd.concat([ended.loc[(ended["ended_on"] >= ps) & (ended["ended_on"] <= pe)].groupby("region_code")
                       .size().rename("organisers_ended").reset_index().assign(period=p)
                       for p, (ps, pe) in bounds.iterrows()], ignore_index=True)
    return avg.reset_index().merge(n_end, on=["region_code", "period"], how="outer")


def _regeneration(deps: pd.DataFrame) -> pd.DataFrame:
    g = deps.groupby(["region_code", "period"])
    return pd.DataFrame({"departures": g.size(), "replaced": g["replaced"].sum(),
                         "departures_censored": g["censored"].sum()}).reset_index()
