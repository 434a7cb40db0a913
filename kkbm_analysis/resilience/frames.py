"""Analysis frames of the resilience survey: one row per interview, with the programme covariates.

Definitions (each an analysis choice; the synthetic generator uses the same functions, so
its ground truth is defined on exactly these covariates)
-----------------------------------------------------------------------------------------
Interview rows
    ``resilience_surveys`` rows whose member is in the register. Sex, status, joining date
    and community come from the member register (``members``), not from the form;
    ``province_code`` from the community.
``points``
    Distinct mandated mentoring points (see ``resources/mentoring_points.yaml``) the member
    attended in sessions held on or before the interview date (0-4).
``membership_years``
    Years from joining the community to the interview.
``kur_approved``
    An approved KUR loan of the member, approved on or before the interview date (0/1).
``village_gov_involved``
    The community's village government is involved in its work (``communities``; 0/1;
    missing counts as 0).
``perdes_in_force``
    A village regulation (Perdes) on PMI protection was adopted in the community's village
    on or before the interview date (0/1).
``members_per_staff_10``
    Members per CO/penggerak of the community, centred, per 10
    (:func:`kkbm_analysis.models.community_staffing`).
``female``
    ``sex == 'P'`` (0/1).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..codes import is_in
from ..data import ProgramData
from ..schema import load_mentoring_points
from ..item_bank import CAPACITIES, load_item_bank

ROUNDS: tuple[str, ...] = ("baseline", "followup_1", "followup_2")
DAYS_PER_YEAR = 365.25
#: Programme covariates of the driver models (their labels: ``resilience.driver.*`` in the string catalogue).
DRIVERS: tuple[str, ...] = ("points", "membership_years", "kur_approved", "village_gov_involved", "perdes_in_force",
                            "members_per_staff_10", "female")


def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).astype("datetime64[ns]")


def interviews(data: ProgramData, surveys: pd.DataFrame | None = None) -> pd.DataFrame:
    """Survey rows joined with the member register and the community's province.

    Parameters
    ----------
    data : ProgramData
    surveys : DataFrame, optional
        Rows shaped like ``resilience_surveys`` (default: ``data.resilience_surveys``).

    Returns
    -------
    DataFrame
        The survey columns, ``interviewed_on`` as datetime, plus ``sex, status, joined_on,
        member_community_id, province_code`` and ``round_index`` (0 = baseline).
    """
    s = (data.resilience_surveys if surveys is None else surveys).copy()
    s["member_id"] = s["member_id"].astype("string")
    s["interviewed_on"] = _dates(s["interviewed_on"])
    mem = data.members[["member_id", "community_id", "sex", "status", "joined_on"]].rename(
        columns={"community_id": "member_community_id"}).copy()
    mem["member_id"] = mem["member_id"].astype("string")
    out = s.merge(mem, on="member_id", how="inner")
    prov = data.communities.drop_duplicates("community_id").set_index("community_id")["province_code"]
    out["province_code"] = out["member_community_id"].map(prov).astype("string")
    out["round_index"] = out["round"].map({r: i for i, r in enumerate(ROUNDS)}).astype("Int64")
    out = out.sort_values(["member_id", "round_index"], kind="stable").reset_index(drop=True)
    out.attrs["synthetic"] = data.synthetic
    return out


def covariates(data: ProgramData, rows: pd.DataFrame) -> pd.DataFrame:
    """The programme covariates of :data:`DRIVERS` for interview rows (module docstring).

    ``rows`` needs ``member_id, member_community_id, interviewed_on, joined_on, sex``
    (as :func:`interviews` gives). Returns a frame aligned with ``rows``.
    """
    when = _dates(rows["interviewed_on"]).reset_index(drop=True)
    key = pd.DataFrame({"member_id": rows["member_id"].astype("string").to_numpy(), "when": when,
                        "_row": np.arange(len(rows))})
    out = pd.DataFrame(index=range(len(rows)))
    out["points"] = _points_by(data, key)
    out["membership_years"] = ((when - _dates(rows["joined_on"]).reset_index(drop=True)).dt.days
                               / DAYS_PER_YEAR).astype(float)
    out["kur_approved"] = _kur_by(data, key)
    comm = data.communities.drop_duplicates("community_id").set_index("community_id")
    cid = rows["member_community_id"].astype("string").reset_index(drop=True)
    involved = cid.map(comm["village_gov_involved"].astype("boolean")).fillna(False)
    out["village_gov_involved"] = involved.astype(float).to_numpy()
    out["perdes_in_force"] = _perdes_by(data, cid.map(comm["village_code"].astype("string")), when)
    from ..models.frames import community_staffing
    staffing = community_staffing(data).set_index("community_id")["members_per_staff_10"]
    out["members_per_staff_10"] = cid.map(staffing).astype(float).to_numpy()
    out["female"] = (rows["sex"].reset_index(drop=True) == "P").astype(float).to_numpy()
    out.index = rows.index
    return out


def _points_by(data: ProgramData, key: pd.DataFrame) -> np.ndarray:
    ids = load_mentoring_points().point_ids
    sess = data.sessions.loc[data.sessions["kind"].isin(ids), ["session_id", "kind", "held_on"]]
    att = data.attendance[["session_id", "member_id"]]
    att = att.loc[is_in(att["member_id"], key["member_id"])].merge(sess, on="session_id")  # interviewed members
    att["member_id"] = att["member_id"].astype("string")
    m = key.merge(att, on="member_id", how="inner")
    m = m[_dates(m["held_on"]) <= m["when"]]
    counts = m.groupby("_row")["kind"].nunique()
    return counts.reindex(range(len(key)), fill_value=0).to_numpy(dtype=float)


def _kur_by(data: ProgramData, key: pd.DataFrame) -> np.ndarray:
    loans = data.kur_loans
    ok = loans.loc[loans["approved"].fillna(False).astype(bool) & loans["approved_on"].notna(),
                   ["member_id", "approved_on"]].copy()
    ok["member_id"] = ok["member_id"].astype("string")
    first = _dates(ok["approved_on"]).groupby(ok["member_id"]).min()
    return (key["member_id"].map(first) <= key["when"]).fillna(False).to_numpy(dtype=float)


def _perdes_by(data: ProgramData, village: pd.Series, when: pd.Series) -> np.ndarray:
    regs = data.village_regulations
    if regs.empty:
        return np.zeros(len(when))
    first = _dates(regs["adopted_on"]).groupby(regs["village_code"].astype("string")).min()
    return (village.map(first) <= when).fillna(False).to_numpy(dtype=float)


def analysis_frame(data: ProgramData, surveys: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`interviews` plus :func:`covariates`: the frame every resilience model starts from."""
    rows = interviews(data, surveys)
    out = pd.concat([rows, covariates(data, rows)], axis=1)
    out.attrs["synthetic"] = data.synthetic
    return out


def item_fields(scales: tuple[str, ...] = CAPACITIES) -> dict[str, list[str]]:
    """Processed item columns per scale (default: the three capacities)."""
    bank = load_item_bank()
    return {s: bank.scale_fields(s) for s in scales}


def item_matrix(frame: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
    """Item responses as floats (missing stays NaN)."""
    return frame[fields].apply(pd.to_numeric, errors="coerce").astype(float)
