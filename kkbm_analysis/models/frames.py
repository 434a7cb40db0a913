"""Analysis frames: one row per unit of analysis, built from :class:`~kkbm_analysis.data.ProgramData`.

Definitions (each one is an analysis choice; they match how the synthetic ground truth is
defined, see ``ground_truth.json`` sections ``business_y12``, ``business_survival``, ``perdes``)
---------------------------------------------------------------------------------------------
Entry training, t0 and t12
    A member's *entry date* t0 is the first ``entry_training`` session they attended
    (:func:`kkbm_analysis.barriers.member_mentoring`); ``t12 = t0 + 365 days``. Members
    who attended no entry training are not in the Y12 population.
Y12 (business running a year after training)
    1 if the member owns (``businesses.owner_member_id``) a business with
    ``started_on <= t12`` and (``closed_on`` missing or ``closed_on > t12``), else 0. A
    ``dormant`` status is today's status, not the status at t12, so it does not count.
    Members whose t12 is after the observation end are left out (outcome not yet seen).
Covariates
    ``points``: distinct mandated mentoring points the member attended
    (``points_received`` of :func:`~kkbm_analysis.barriers.member_mentoring`; a warning is
    issued when some of them were attended after t12). ``kur_before_t12``: an approved
    KUR loan with ``approved_on <= t12``. ``female``: ``sex == 'P'``. ``years_abroad``:
    ``(returned_on - departed_on) / 365.25`` when both dates are known, else 0 (PMI aktif,
    calon PMI and family members). ``members_per_staff``: community members divided by the
    average number of CO + penggerak in post during the 24 months after the community was
    formed (staff-days in post / 730, at least 0.5; headcount, not FTE);
    ``members_per_staff_10`` is that number minus its mean over communities, divided by 10
    (the model covariate: per 10 more members per staff member).
Observation end
    The end of the latest month with a business report or village departures record, or
    the latest date in the business, KUR and session tables if later. Survival times are
    censored there (``as_of`` overrides it).
Business survival
    Businesses owned by a member and running at the owner's t12; time origin t12, event
    = closure (``closed_on``), censored at the observation end.
Perdes panel
    Village x calendar month of ``departures``; a village's cohort is the calendar month of
    its earliest ``village_regulations.adopted_on``; villages with none are never treated.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..codes import arrow_strings, positions
from ..data import ProgramData
from ._base import ModelInputError, warn

DAYS_PER_YEAR = 365.25
STAFF_WINDOW_DAYS = 730
ORGANISER_ROLES = ("co", "penggerak")

#: Model covariates and their labels (en, id).
DEFAULT_COVARIATES = ("points", "members_per_staff_10", "kur_before_t12", "female", "years_abroad")


def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).astype("datetime64[ns]")


def _month_end(s: pd.Series) -> pd.Series:
    return (_dates(s).dt.to_period("M").dt.end_time).dt.normalize()


def observation_end(data: ProgramData, as_of: Any = None) -> pd.Timestamp:
    """The date outcomes are observed until (see module docstring); ``as_of`` overrides it."""
    if as_of is not None:
        return pd.Timestamp(as_of).normalize()
    candidates = []
    for table, column in (("business_reports", "period"), ("departures", "period")):
        df = data.tables.get(table)
        if df is not None and len(df):
            candidates.append(_month_end(pd.Series([df[column].max()])).iloc[0])  # month end rises with the date
    for table, columns in (("businesses", ("started_on", "closed_on")), ("kur_loans", ("applied_on", "approved_on")),
                           ("sessions", ("held_on",))):
        df = data.tables.get(table)
        if df is not None and len(df):
            candidates += [_dates(df[c]).max() for c in columns if c in df.columns]
    candidates = [c for c in candidates if pd.notna(c)]
    if not candidates:
        raise ModelInputError("cannot tell when observation ends: no business, KUR, session or departures "
                              "dates; pass as_of=")
    return pd.Timestamp(max(candidates)).normalize()


def community_staffing(data: ProgramData) -> pd.DataFrame:
    """Members per CO + penggerak per community (definition in the module docstring).

    Returns
    -------
    DataFrame
        ``community_id, members, organisers`` (average headcount in post during the 24
        months after formation), ``members_per_staff`` and ``members_per_staff_10``.
    """
    com = data.communities[["community_id", "formed_on"]].drop_duplicates("community_id").copy()
    com["community_id"] = com["community_id"].astype("string")
    com["formed_on"] = _dates(com["formed_on"])
    staff = data.staff
    staff = staff.loc[staff["role"].isin(ORGANISER_ROLES) & staff["community_id"].notna(),
                      ["community_id", "started_on", "ended_on"]].copy()
    staff["community_id"] = staff["community_id"].astype("string")
    staff = staff.merge(com, on="community_id", how="inner")
    window_end = staff["formed_on"] + pd.Timedelta(days=STAFF_WINDOW_DAYS)
    start = np.maximum(_dates(staff["started_on"]), staff["formed_on"])
    stop = _dates(staff["ended_on"]).fillna(window_end)
    stop = np.minimum(stop, window_end)
    days = (stop - start).dt.days.clip(lower=0)
    organisers = days.groupby(staff["community_id"]).sum() / STAFF_WINDOW_DAYS
    members = data.members["community_id"].astype("string").value_counts()
    out = com[["community_id"]].copy()
    out["members"] = out["community_id"].map(members).fillna(0).astype("int64")
    out["organisers"] = out["community_id"].map(organisers).fillna(0.0).astype(float)
    out["members_per_staff"] = out["members"] / np.maximum(out["organisers"], 0.5)
    out["members_per_staff_10"] = (out["members_per_staff"] - out["members_per_staff"].mean()) / 10
    return out.reset_index(drop=True)


def business_outcome_frame(data: ProgramData, *, as_of: Any = None, notes: list[str] | None = None,
                           mentoring: pd.DataFrame | None = None) -> pd.DataFrame:
    """The member-level frame of the Y12 model (definitions in the module docstring).

    Parameters
    ----------
    data : ProgramData
    as_of : date-like, optional
        Observation end (default :func:`observation_end`).
    notes : list, optional
        Receives the exclusions and warnings, for a model summary.
    mentoring : DataFrame, optional
        :func:`kkbm_analysis.barriers.member_mentoring` of ``data`` (all its columns), when already computed
        (``kkbm analyse`` builds it once for every analysis).

    Returns
    -------
    DataFrame
        One row per trained member whose t12 is observed: ``member_id, community_id,
        province_code, t0, t12, y12`` (0/1), ``points, members_per_staff,
        members_per_staff_10, kur_before_t12, female, years_abroad`` (numbers, floats).
    """
    from ..barriers import member_mentoring

    notes = [] if notes is None else notes
    end = observation_end(data, as_of)
    mm = member_mentoring(data) if mentoring is None else mentoring
    mem = data.members[["member_id", "community_id", "sex", "departed_on", "returned_on"]].copy()
    mem["member_id"] = mem["member_id"].astype("string")
    mem["community_id"] = mem["community_id"].astype("string")
    at = _member_rows(mem["member_id"], mm["member_id"])
    trained = np.zeros(len(mem), dtype=bool)
    trained[at >= 0] = mm["trained"].to_numpy(dtype=bool)[at[at >= 0]]
    df = mem.loc[trained].reset_index(drop=True)
    if len(mem) - len(df):
        notes.append(f"{len(mem) - len(df):,} members without an entry training are not in the Y12 population")
    rows = at[trained]
    df["t0"] = _dates(mm["entry_training_on"].iloc[rows].reset_index(drop=True))
    df["t12"] = df["t0"] + pd.Timedelta(days=365)
    late = df["t12"] > end
    if late.any():
        notes.append(f"{int(late.sum()):,} trained members left out: their t12 is after the observation end "
                     f"{end.date()}")
    keep = ~late.to_numpy()
    df = df.loc[keep].reset_index(drop=True)
    _warn_points_after_t12(_dates(mm["last_mentoring_on"]).to_numpy()[rows[keep]], df, notes)
    df["points"] = mm["points_received"].to_numpy()[rows[keep]].astype(float)
    staffing = community_staffing(data)
    in_staffing = positions(df["community_id"], staffing["community_id"])
    for column in ("members_per_staff", "members_per_staff_10"):
        df[column] = _take(staffing[column].to_numpy(dtype=float), in_staffing, np.nan)
    df["female"] = (df["sex"] == "P").astype(float)
    df.loc[df["sex"].isna(), "female"] = np.nan
    years = (_dates(df["returned_on"]) - _dates(df["departed_on"])).dt.days / DAYS_PER_YEAR
    df["years_abroad"] = years.fillna(0.0).clip(lower=0).astype(float)
    df["kur_before_t12"], df["y12"] = _kur_and_y12(data, np.flatnonzero(trained)[keep], df["t12"].to_numpy())
    regions = data.communities[["community_id", "province_code"]].drop_duplicates("community_id")
    in_regions = positions(df["community_id"], regions["community_id"])
    df["province_code"] = regions["province_code"].array.take(in_regions, allow_fill=True)
    cols = ["member_id", "community_id", "province_code", "t0", "t12", "y12", "points", "members_per_staff",
            "members_per_staff_10", "kur_before_t12", "female", "years_abroad"]
    out = df[cols].reset_index(drop=True)
    out.attrs["synthetic"] = data.synthetic
    return out


def _member_rows(members: pd.Series, ids: pd.Series) -> np.ndarray:
    """Row of each member in ``ids`` (-1 if absent): member ids are the members' key, one row each. A frame
    made from the members (as :func:`~kkbm_analysis.barriers.member_mentoring`) lists them in their order."""
    if len(members) == len(ids) and arrow_strings(members).equals(arrow_strings(ids)):
        return np.arange(len(members))
    return positions(members, ids)


def _take(values: np.ndarray, at: np.ndarray, missing: Any) -> np.ndarray:
    """``values[at]``, ``missing`` where ``at`` is -1 (a left join by positions)."""
    return np.where(at >= 0, values[np.maximum(at, 0)] if len(values) else missing, missing)


def _per_member_date(member_at: np.ndarray, when: np.ndarray, n: int, earliest: bool = False) -> np.ndarray:
    """Per member position (0..n-1): the latest (``earliest``: the earliest) ``when`` (datetime64[ns]) of the
    rows whose ``member_at`` is not -1, skipping NaT; NaT where there is none."""
    ok = (member_at >= 0) & ~np.isnat(when)
    none = np.iinfo(np.int64).max if earliest else np.iinfo(np.int64).min
    out = np.full(n, none, dtype=np.int64)
    (np.minimum if earliest else np.maximum).at(out, member_at[ok], when.view(np.int64)[ok])
    return np.where(out == none, np.datetime64("NaT", "ns").view(np.int64), out).view("datetime64[ns]")


def _warn_points_after_t12(last_point_on: np.ndarray, df: pd.DataFrame, notes: list[str]) -> None:
    """Warn when members attended a mandated point after their t12 (``last_point_on``: per row of ``df``)."""
    late = last_point_on > df["t12"].to_numpy()
    if late.any():
        warn(f"{int(late.sum()):,} members attended a mentoring point after their t12; points_received counts "
             "it although it cannot have caused Y12", notes)


def _kur_and_y12(data: ProgramData, member_at: np.ndarray, t12: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``kur_before_t12`` and ``y12`` (0/1 floats) of members (``member_at``: their rows in ``data.members``)
    with their t12 (datetime64[ns]); loans and businesses are placed by the members' integer codes
    (:meth:`~kkbm_analysis.data.ProgramData.member_rows`)."""
    approved, owned = np.flatnonzero(_approved(data.kur_loans)), np.flatnonzero(_owned(data.businesses))
    loans, businesses = data.kur_loans.iloc[approved], data.businesses.iloc[owned]
    ours = np.full(len(data.members), -1, dtype=np.int64)  # member row -> position among ``member_at``
    ours[member_at] = np.arange(len(member_at))
    loan_rows = _take(ours, data.member_rows("kur_loans")[approved], -1)
    business_rows = _take(ours, data.member_rows("businesses", "owner_member_id")[owned], -1)
    first_loan = _per_member_date(loan_rows, _dates(loans["approved_on"]).to_numpy(), len(t12), earliest=True)
    return (first_loan <= t12).astype(float), _running_at(businesses, business_rows, t12).astype(float)


def _approved_loans(data: ProgramData) -> pd.DataFrame:
    """KUR loans approved on a known date: ``member_id, approved_on``."""
    loans = data.kur_loans
    return loans.loc[_approved(loans), ["member_id", "approved_on"]]


def _approved(loans: pd.DataFrame) -> np.ndarray:
    """Which loans were approved on a known date."""
    return (loans["approved"].fillna(False).astype(bool) & loans["approved_on"].notna()).to_numpy(dtype=bool)


def _owned_businesses(data: ProgramData) -> pd.DataFrame:
    """Businesses with an owner: ``owner_member_id, started_on, closed_on``."""
    bus = data.businesses
    return bus.loc[_owned(bus), ["owner_member_id", "started_on", "closed_on"]]


def _owned(businesses: pd.DataFrame) -> np.ndarray:
    """Which businesses have an owner."""
    return businesses["owner_member_id"].notna().to_numpy(dtype=bool)


def _running_at(businesses: pd.DataFrame, owner: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Per member (``when``: a date each, datetime64[ns]): owns a business started by ``when`` and not closed
    by then. ``owner``: each business's member position (-1: none of these members)."""
    mine = owner >= 0
    at, t = owner[mine], when[owner[mine]]
    started, closed = (_dates(businesses[c]).to_numpy()[mine] for c in ("started_on", "closed_on"))
    run = (started <= t) & (np.isnat(closed) | (closed > t))
    hit = np.zeros(len(when), dtype=bool)
    hit[at[run]] = True
    return hit


def business_survival_frame(data: ProgramData, *, as_of: Any = None, notes: list[str] | None = None
                            ) -> pd.DataFrame:
    """Member businesses running at the owner's t12, with survival time from t12.

    Returns
    -------
    DataFrame
        One row per business: ``business_id, member_id, community_id, started_on, t12,
        entry_days`` (t12 - start, for the business-age time scale with delayed entry),
        ``time_days`` (t12 to closure or observation end), ``closed`` (0/1) and the
        covariates of :func:`business_outcome_frame`.
    """
    notes = [] if notes is None else notes
    end = observation_end(data, as_of)
    members = business_outcome_frame(data, as_of=end, notes=notes)
    bus = data.businesses.loc[data.businesses["owner_member_id"].notna(),
                              ["business_id", "owner_member_id", "started_on", "closed_on"]].copy()
    bus["member_id"] = bus["owner_member_id"].astype("string")
    df = bus.drop(columns="owner_member_id").merge(members.drop(columns=["y12"]), on="member_id", how="inner")
    start, closed = _dates(df["started_on"]), _dates(df["closed_on"])
    running = (start <= df["t12"]) & (closed.isna() | (closed > df["t12"]))
    df = df.loc[running].copy()
    closed = _dates(df["closed_on"])
    event = closed.notna() & (closed <= end)
    stop = closed.where(event, end)
    df["time_days"] = (stop - df["t12"]).dt.days.astype(float)
    df["closed"] = event.astype(float)
    df["entry_days"] = (df["t12"] - _dates(df["started_on"])).dt.days.astype(float)
    df["started_on"] = _dates(df["started_on"])
    cols = ["business_id", "member_id", "community_id", "province_code", "started_on", "t12", "entry_days",
            "time_days", "closed", "points", "members_per_staff", "members_per_staff_10", "kur_before_t12",
            "female", "years_abroad"]
    out = df[cols].reset_index(drop=True)
    out.attrs["synthetic"] = data.synthetic
    return out


def month_index(dates: pd.Series) -> pd.Series:
    """Calendar month as one integer: year * 12 + month - 1."""
    d = _dates(dates)
    return (d.dt.year * 12 + d.dt.month - 1).astype("Int64")


def month_label(index: int) -> str:
    return f"{int(index) // 12:04d}-{int(index) % 12 + 1:02d}"


def departures_panel(data: ProgramData, outcome: str = "non_procedural") -> pd.DataFrame:
    """Village x month panel with each village's Perdes cohort (month index, NA = never treated).

    Returns
    -------
    DataFrame
        ``village_code, month`` (integer month index), ``period`` (label 'YYYY-MM'),
        ``y`` (the outcome as float), ``cohort`` (Int64 month index of adoption or NA).
    """
    dep = data.departures
    if dep is None or dep.empty:
        raise ModelInputError("the departures table is empty: no village x month panel to analyse")
    if outcome not in dep.columns:
        raise ModelInputError(f"departures has no column {outcome!r}")
    df = pd.DataFrame({"village_code": dep["village_code"].astype("string").to_numpy(),
                       "month": month_index(dep["period"]).to_numpy(),
                       "y": pd.to_numeric(dep[outcome]).astype(float).to_numpy()})
    df = df.dropna(subset=["village_code", "month", "y"])
    df = df.groupby(["village_code", "month"], as_index=False)["y"].sum()
    regs = data.village_regulations
    first = (month_index(regs["adopted_on"]).groupby(regs["village_code"].astype("string")).min()
             if len(regs) else pd.Series(dtype="Int64"))
    df["cohort"] = df["village_code"].map(first).astype("Int64")
    months, at = np.unique(df["month"].to_numpy(dtype="int64"), return_inverse=True)
    df["period"] = np.array([month_label(m) for m in months], dtype=object)[at].tolist()  # each month once
    df["month"] = df["month"].astype("int64")
    out = df.sort_values(["village_code", "month"]).reset_index(drop=True)
    out.attrs["synthetic"] = data.synthetic
    return out


def is_synthetic(data: ProgramData | pd.DataFrame) -> bool:
    """True for synthetic ProgramData and for frames built from it (``attrs['synthetic']``)."""
    if isinstance(data, pd.DataFrame):
        return bool(data.attrs.get("synthetic", False))
    return bool(getattr(data, "synthetic", False))
