"""The mentoring gap: mandated mentoring points against what trained members received, and when."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..data import NATIONAL_CODE, ProgramData
from ..i18n import number
from ..schema import MentoringPoints, load_mentoring_points
from ._common import (
    DAYS_PER_MONTH,
    _add_region,
    _frame,
    _lookup,
    _region_codes,
    _Result,
    _share,
    _table_text,
    valid_region_codes,
)


def _attended_sessions(data: ProgramData) -> pd.DataFrame:
    """Attendance rows with the session's kind, date and community."""
    sessions = _frame(data, "sessions")[["session_id", "kind", "held_on", "community_id"]]
    att = data.attendance[["session_id", "member_id"]].drop_duplicates()
    return att.merge(sessions.rename(columns={"community_id": "session_community_id"}), on="session_id")


def _entry_dates(att: pd.DataFrame, mp: MentoringPoints) -> pd.Series:
    """member_id -> date of the first entry-training session attended."""
    return att.loc[att["kind"] == mp.entry_training.key].groupby("member_id")["held_on"].min()


def member_mentoring(data: ProgramData, *, points: MentoringPoints | None = None) -> pd.DataFrame:
    """Per-member mentoring record: which mandated points each member received, and when.

    Parameters
    ----------
    data : ProgramData
    points : MentoringPoints, optional
        The mandated points (default :func:`~kkbm_analysis.schema.load_mentoring_points`).

    Returns
    -------
    DataFrame
        One row per member: ``member_id, community_id, trained, entry_training_on``, one
        boolean column per point id, ``points_received`` (0..number of points), ``points``
        (ids received, comma-separated), ``mentoring_sessions``, ``first_mentoring_on``,
        ``months_to_first`` and ``followed_up`` (NA for untrained members). Definitions in
        the module docstring; models use ``points_received`` as a covariate.
    """
    mp = points or load_mentoring_points()
    ids = list(mp.point_ids)
    att = _attended_sessions(data)
    entry = _entry_dates(att, mp)
    entry_of = _lookup(att["member_id"], entry)
    after = (att["held_on"] >= entry_of).fillna(False).astype(bool)
    ment = att.loc[att["kind"].isin(ids)]
    out = data.members[["member_id", "community_id"]].astype("string")
    out["entry_training_on"] = _lookup(out["member_id"], entry).astype("datetime64[ms]")
    out["trained"] = out["entry_training_on"].notna()
    for p in ids:
        out[p] = out["member_id"].isin(ment.loc[ment["kind"] == p, "member_id"])
    out["points_received"] = out[ids].sum(axis=1).astype("int64")
    out["points"] = pd.array([", ".join(p for p, got in zip(ids, row) if got)
                              for row in out[ids].itertuples(index=False)], dtype="string")
    out["mentoring_sessions"] = out["member_id"].map(ment.groupby("member_id").size()).fillna(0).astype("int64")
    first = ment.loc[after.loc[ment.index] | entry_of.loc[ment.index].isna()].groupby("member_id")["held_on"].min()
    out["first_mentoring_on"] = _lookup(out["member_id"], first).astype("datetime64[ms]")
    out["months_to_first"] = ((out["first_mentoring_on"] - out["entry_training_on"]).dt.days
                              / DAYS_PER_MONTH).astype("Float64")
    follow = att.loc[att["kind"].isin([*ids, "other_training"]) & after, "member_id"]
    out["followed_up"] = pd.array(out["member_id"].isin(follow), dtype="boolean")
    out.loc[~out["trained"], "followed_up"] = pd.NA
    return out


def _mentoring_overview(trained: pd.DataFrame, n_points: int) -> pd.DataFrame:
    """Per region: trained members, mean points, no-follow-up share, months to first mentoring."""
    t = trained.assign(no_follow_up=~trained["followed_up"].astype(bool),
                       any_mentoring=trained["points_received"] > 0)
    g = t.groupby("region_code")
    out = g.agg(members_trained=("member_id", "size"), mean_points=("points_received", "mean"),
                any_mentoring_share=("any_mentoring", "mean"), no_follow_up_share=("no_follow_up", "mean"))
    months = g["months_to_first"]
    out["months_to_first_median"] = months.median()
    out["months_to_first_q1"] = months.quantile(0.25)
    out["months_to_first_q3"] = months.quantile(0.75)
    out["coverage"] = out["mean_points"] / n_points
    return out.reset_index().astype({c: "Float64" for c in out.columns if c != "members_trained"})


def _point_distribution(trained: pd.DataFrame, n_points: int) -> pd.DataFrame:
    """Per region: members and share with 0, 1, ..., n points received."""
    counts = (pd.crosstab(trained["region_code"], trained["points_received"])
              .reindex(columns=range(n_points + 1), fill_value=0))
    long = counts.stack().rename("members").reset_index()
    long.columns = ["region_code", "points_received", "members"]
    long["share"] = _share(long["members"], long.groupby("region_code")["members"].transform("sum"))
    return long.astype({"members": "int64", "points_received": "int64"})


def _by_point(trained: pd.DataFrame, sessions: pd.DataFrame, mp: MentoringPoints) -> pd.DataFrame:
    """Per region and point: members and communities that received it, sessions held."""
    mandated = trained.groupby("region_code")["community_id"].nunique()
    rows = []
    for p in mp.points:
        held = sessions.loc[sessions["kind"] == p.key]
        got = held.loc[held["community_id"].isin(trained["community_id"])].groupby("region_code")["community_id"]
        part = pd.DataFrame({
            "members_trained": trained.groupby("region_code").size(),
            "members_received": trained.groupby("region_code")[p.key].sum(),
            "communities_mandated": mandated,
            "communities_received": got.nunique(),
            "sessions_held": held.groupby("region_code").size(),
        }).fillna(0).astype("int64")
        part.insert(0, "label_en", p.label_en)
        part.insert(0, "label_id", p.label_id)
        part.insert(0, "point_id", p.key)
        rows.append(part)
    out = pd.concat(rows).rename_axis("region_code").reset_index()
    out["member_share"] = _share(out["members_received"], out["members_trained"])
    out["community_share"] = _share(out["communities_received"], out["communities_mandated"])
    return out.sort_values(["region_code", "point_id"], kind="stable").reset_index(drop=True)


def _mandated_delivered(data: ProgramData, trained: pd.DataFrame, sessions: pd.DataFrame,
                        mp: MentoringPoints, level: str) -> pd.DataFrame:
    """Mandated vs delivered per community or per province."""
    ids = list(mp.point_ids)
    t = _add_region(data, trained, level)
    s = _add_region(data, sessions, level)
    codes = pd.Index(valid_region_codes(data, level), name="region_code")
    out = pd.DataFrame(index=codes)
    if level != "community":
        out["communities"] = _region_codes(data, level).value_counts()
        out["communities_mandated"] = t.groupby("region_code")["community_id"].nunique()
    out["members_trained"] = t.groupby("region_code").size()
    out["points_mandated"] = out["members_trained"] * len(ids)
    out["points_delivered"] = t.groupby("region_code")["points_received"].sum()
    held = pd.crosstab(s["region_code"], s["kind"]).reindex(columns=ids, fill_value=0)
    for p in ids:
        out[f"sessions_{p}"] = held[p]
    out = out.fillna(0).astype("int64")
    out["sessions_total"] = out[[f"sessions_{p}" for p in ids]].sum(axis=1)
    if level == "community":
        out["points_held"] = (out[[f"sessions_{p}" for p in ids]] > 0).sum(axis=1)
    out["coverage"] = _share(out["points_delivered"], out["points_mandated"])
    out = out.reset_index()
    if level == "community":
        names = data.communities.drop_duplicates("community_id").set_index("community_id")["community_name"]
        out.insert(1, "community_name", out["region_code"].map(names))
        out = out.rename(columns={"region_code": "community_id"})
    else:
        out = out.rename(columns={"region_code": f"{level}_code"})
    return out


@dataclass(repr=False)
class MentoringGap(_Result):
    """Mandated mentoring vs. what members received (see :func:`mentoring_gap`).

    Attributes
    ----------
    level : str
    points : MentoringPoints
    overview : DataFrame
        Per region: ``members_trained, mean_points, any_mentoring_share, no_follow_up_share,
        months_to_first_median/q1/q3, coverage``.
    by_point : DataFrame
        Per region and point: members and communities that received it, sessions held, shares.
    distribution : DataFrame
        Per region: members with 0..n points received and their share.
    mandated_community, mandated_province : DataFrame
        Mandated vs delivered per community and per province.
    members : DataFrame
        The per-member table (:func:`member_mentoring`) with ``region_code``.
    national : DataFrame
        ``overview`` computed nationally (one row, ``'ID'``), for comparison.
    """

    level: str
    points: MentoringPoints
    overview: pd.DataFrame
    by_point: pd.DataFrame
    distribution: pd.DataFrame
    mandated_community: pd.DataFrame
    mandated_province: pd.DataFrame
    members: pd.DataFrame
    national: pd.DataFrame
    synthetic: bool = False

    def summary(self) -> str:
        n = len(self.points.points)
        nat = self.national.iloc[0] if len(self.national) else None
        lines = [self._header(f"Mentoring gap by {self.level}: {n} mandated points after the entry training")]
        if nat is not None:
            lines.append(f"National: {int(nat['members_trained']):,} trained members received on average "
                         f"{number(nat['mean_points'], 1)} of {n} points (coverage {number(nat['coverage'], 0, percent=True)}); "
                         f"{number(nat['no_follow_up_share'], 0, percent=True)} had no follow-up at all; median "
                         f"{number(nat['months_to_first_median'], 1)} months to first mentoring.")
        cols = ["region_code", "members_trained", "mean_points", "coverage", "no_follow_up_share",
                "months_to_first_median"]
        lines += ["", _table_text(self.overview[cols]), "", "Share of trained members receiving each point:",
                  _table_text(self.by_point.pivot(index="region_code", columns="point_id",
                                                  values="member_share").reset_index())]
        return "\n".join(lines)


def mentoring_gap(data: ProgramData, *, level: str = "province",
                  points: MentoringPoints | None = None) -> MentoringGap:
    """Mentoring mandated vs. delivered: which points trained members received, how soon.

    Parameters
    ----------
    data : ProgramData
    level : str, default 'province'
        Region level of ``overview``, ``by_point`` and ``distribution`` (a key of
        :data:`~kkbm_analysis.data.REGION_LEVELS`). The mandated-vs-delivered tables are
        always per community and per province.
    points : MentoringPoints, optional
        The mandated points (default :func:`~kkbm_analysis.schema.load_mentoring_points`).

    Returns
    -------
    MentoringGap
    """
    mp = points or load_mentoring_points()
    members = _add_region(data, member_mentoring(data, points=mp), level)
    trained = members.loc[members["trained"]]
    sessions = _add_region(data, _frame(data, "sessions"), level)
    n = len(mp.points)
    national = _mentoring_overview(trained.assign(region_code=NATIONAL_CODE), n)
    return MentoringGap(
        level=level, points=mp, overview=_mentoring_overview(trained.dropna(subset=["region_code"]), n),
        by_point=_by_point(trained, sessions, mp), distribution=_point_distribution(trained, n),
        mandated_community=_mandated_delivered(data, trained, sessions, mp, "community"),
        mandated_province=_mandated_delivered(data, trained, sessions, mp, "province"),
        members=members, national=national, synthetic=data.synthetic)
