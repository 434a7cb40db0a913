"""The mentoring gap: mandated mentoring points against what trained members received, and when."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from ..codes import positions
from ..data import NATIONAL_CODE, ProgramData
from ..i18n import number
from ..schema import MentoringPoints, load_mentoring_points
from ._common import (
    DAYS_PER_MONTH,
    _add_region,
    _frame,
    _region_codes,
    _Result,
    _share,
    _table_text,
    valid_region_codes,
)


#: Position of each value among keys (-1 if absent): :func:`kkbm_analysis.codes.positions`.
_positions = positions


def _first(member: np.ndarray, when: np.ndarray, n: int) -> np.ndarray:
    """Earliest ``when`` (int64 ms) per member position (``_NONE`` where none)."""
    out = np.full(n, _NONE, dtype=np.int64)
    np.minimum.at(out, member, when)
    return out


_NONE = np.iinfo(np.int64).max
_NAT = np.datetime64("NaT", "ms")


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
        ``months_to_first``, ``last_mentoring_on`` (latest dated session of a mandated point) and
        ``followed_up`` (NA for untrained members). Definitions in
        the module docstring; models use ``points_received`` as a covariate. ``<point>_on``
        (first dated session of each point) and ``followed_up_on`` (first dated follow-up
        session) let a period's cohort be counted up to the period's end only.

    Notes
    -----
    Columnar: identifiers are turned into positions once (Arrow hashing), then every
    per-member quantity is a numpy reduction over attendance rows, so a million members
    with their attendance take seconds.
    """
    mp = points or load_mentoring_points()
    ids = list(mp.point_ids)
    sessions = _frame(data, "sessions")
    members = data.members
    n = len(members)
    kinds = [mp.entry_training.key, *ids, "other_training"]  # codes 0, 1..len(ids), len(ids) + 1
    kind = _positions(sessions["kind"], pd.Series(kinds, dtype="string"))
    held = sessions["held_on"].to_numpy(dtype="datetime64[ms]").view(np.int64)
    att = data.attendance
    pair = np.column_stack([_positions(att["session_id"], sessions["session_id"]), data.member_rows("attendance")])
    pair = pair[(pair >= 0).all(axis=1)]
    code = np.sort(pair[:, 0] * max(n, 1) + pair[:, 1])  # session-major, as np.unique(pair, axis=0)
    code = code[np.r_[True, code[1:] != code[:-1]]] if len(code) else code  # one attendance per pair
    s, m = np.divmod(code, max(n, 1))
    k, t = kind[s], held[s]
    dated = t != np.datetime64("NaT", "ms").view(np.int64)
    entry = _first(m[(k == 0) & dated], t[(k == 0) & dated], n)
    trained = entry != _NONE
    after = dated & (t >= entry[m])
    is_point = (k >= 1) & (k <= len(ids))
    out = members[["member_id", "community_id"]].astype("string").reset_index(drop=True)
    out["entry_training_on"] = np.where(trained, entry, _NAT.view(np.int64)).view("datetime64[ms]")
    out["trained"] = trained
    flags = np.zeros((n, len(ids)), dtype=bool)
    flags[m[is_point], k[is_point] - 1] = True
    for j, p in enumerate(ids):
        out[p] = flags[:, j]
    point_rows = is_point & dated
    for j, pid in enumerate(ids):
        rows = point_rows & (k == j + 1)
        on = _first(m[rows], t[rows], n)
        out[f"{pid}_on"] = np.where(on != _NONE, on, _NAT.view(np.int64)).view("datetime64[ms]")
    out["points_received"] = flags.sum(axis=1).astype("int64")
    bits = flags @ (1 << np.arange(len(ids)))
    names = [", ".join(p for j, p in enumerate(ids) if c >> j & 1) for c in range(1 << len(ids))]
    out["points"] = pd.array(np.asarray(names, dtype=object)[bits], dtype="string")
    out["mentoring_sessions"] = np.bincount(m[is_point], minlength=n).astype("int64")
    first_rows = is_point & dated & (after | ~trained[m])
    first = _first(m[first_rows], t[first_rows], n)
    out["first_mentoring_on"] = np.where(first != _NONE, first, _NAT.view(np.int64)).view("datetime64[ms]")
    last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, m[point_rows], t[point_rows])
    out["last_mentoring_on"] = np.where(last != np.iinfo(np.int64).min, last, _NAT.view(np.int64)).view("datetime64[ms]")
    out["months_to_first"] = ((out["first_mentoring_on"] - out["entry_training_on"]).dt.days
                              / DAYS_PER_MONTH).astype("Float64")
    follow = np.zeros(n, dtype=bool)
    follow_rows = (is_point | (k == len(ids) + 1)) & after
    follow[m[follow_rows]] = True
    follow_on = _first(m[follow_rows & dated], t[follow_rows & dated], n)
    out["followed_up_on"] = np.where(trained & (follow_on != _NONE), follow_on,
                                     _NAT.view(np.int64)).view("datetime64[ms]")
    out["followed_up"] = pd.array(np.where(trained, follow, False), dtype="boolean")
    out.loc[~trained, "followed_up"] = pd.NA
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
