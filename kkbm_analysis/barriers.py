"""Barrier factors: why empowerment does not turn into practice (issue 3, section 2).

The evaluation must measure the barriers named in the seed documents (see
``docs/DOMAIN.md``): thin mentoring, too few staff and no cadre regeneration, training
that does not become practice, no synergy with government, and little access to capital.
Each function here takes a :class:`~kkbm_analysis.data.ProgramData` and returns a small
result object with tidy DataFrames and a readable ``summary()``; :func:`barrier_profile`
puts one region's numbers next to the national ones, with a sentence in Indonesian and
English for each::

    import kkbm_analysis as kk
    from kkbm_analysis import barriers
    data = kk.ProgramData.load("data/processed/demo")
    barriers.mentoring_gap(data)                  # by province
    barriers.barrier_profile(data, "35")          # Jawa Timur vs. Indonesia

Regions are those of :data:`kkbm_analysis.data.REGION_LEVELS`; everything attached to a
community is placed in the community's region (members in their own community's, sessions
in the session's community's). Rows whose community has no code at the requested level
(e.g. a kecamatan-wide community at village level) are left out. The national code is
``'ID'``.

Definitions (analysis choices, each can be argued; change them here, not in notebooks)
------------------------------------------------------------------------------------------
Mentoring gap (:func:`mentoring_gap`, :func:`member_mentoring`)
    *Trained member*: attended at least one ``entry_training`` session; their *entry date*
    is the first such session's ``held_on``. The mandate (Perka BNP2TKI 6/2017, read via
    :func:`~kkbm_analysis.schema.load_mentoring_points`) is that every trained member
    receives every mentoring point, so member shares, the points-per-member mean and
    distribution, and the mandated-vs-delivered tables count trained members only.
    *Points received*: distinct mentoring points whose sessions the member attended, on any
    date. *First mentoring*: the earliest mentoring-point session attended on or after the
    entry date (for untrained members: the earliest one); *months to first* = days / 30.4375
    (median and IQR over trained members who had one). *Follow-up*: any mentoring-point or ``other_training`` session attended on or
    after the entry date (another entry training is not follow-up). A community *received*
    a point when at least one session of that point was held for it (``sessions`` table);
    its denominator is communities with at least one trained member (the mandated ones).
    *Mandated* = number of points x trained members; *delivered* = points received, summed
    over trained members; *coverage* = delivered / mandated. Sessions held per point count
    every session of that kind held for the community, attended or not.
Stage funnel (:func:`stage_funnel`)
    A member *reached* a stage when the ``stages`` table dates it. Conversion from the
    previous stage = reached / reached the previous stage; from the start = reached /
    reached problem identification. Members without a ``stages`` row reached no stage.
    The *largest drop* is the step with the lowest conversion from the previous stage
    (the earliest on ties).
Staffing (:func:`staffing`)
    The record runs from the earliest community ``formed_on`` to ``as_of`` (default: the
    latest date in any table). Periods are calendar years, quarters or months
    (``period=None``: the whole record as one period ``'all'``). A staff member is *active*
    in a period if ``started_on <= period end`` and (``ended_on`` is NA or ``ended_on >=
    period start``); active staff are counted in FTE (``fte``, 1 where not given).
    *Organisers* are CO and penggerak of a community. *Members* are those who joined by the
    period end (the register has no leaving date). Officers (LP3TKI/BP3TKI/UPT) belong to
    their ``province_code``: officers per community = active officers (FTE) in the province /
    communities formed in the province by the period end; below province level a region gets
    its province's ratio. A *vacancy month* is a calendar month, from the month a community
    was formed to ``as_of``, in which no CO of the community was active on any day.
    *Turnover* = organisers whose service ended in the period / the mean monthly headcount of
    active organisers over the period's months in the record. *Cadre regeneration*: a departed
    organiser is *replaced* when another CO or penggerak of the same community started within
    ``[ended_on - 1 month, ended_on + N months]`` (N = ``replacement_months``, default 6; the
    month before allows a handover); each newcomer replaces at most one leaver (earliest
    departures matched first). Unreplaced departures whose N-month window runs past ``as_of``
    are *censored* and left out of the share; regeneration = replaced / (departures -
    censored), departures counted in the period they ended.
Government synergy (:func:`government_synergy`)
    Villages are the distinct ``village_code`` of communities (communities without one are
    left out); a village *has a Perdes* when ``village_regulations`` lists one for it
    (adoption date = its earliest). Village-government involvement and Disnakertrans
    shares are over communities / advocacy cases where the flag is recorded (NA left out).
Access to capital (:func:`capital_access`)
    Applications are counted per application and placed in the period of ``applied_on``;
    approval rate = approved / applications; amounts are over approved applications with an
    amount; days to approval over approved ones with both dates. *Business-owning members*
    own at least one business individually (``owner_member_id``; group businesses are not
    attributed to persons) that started by the period end; the share who applied counts
    those with an application in the period.
Barrier profile (:func:`barrier_profile`, :func:`barrier_profiles`)
    ``period`` is None (the whole record) or one period label (``'2019'``, ``'2019-Q3'``,
    ``'2019-07'``). For a period, mentoring indicators are for members whose entry training
    fell in it (a cohort, with all their later mentoring), the funnel for members identified
    in it, staffing and KUR for the period itself, Perdes adopted by its end and advocacy
    cases opened in it. The benchmark is the same indicator computed nationally. The verdict
    is ``'similar'`` when the value is within ``tolerance`` (default 10 %) of the benchmark
    (relative to the benchmark; with a zero benchmark only zero is similar), otherwise
    ``'better'``/``'worse'`` by the indicator's direction, and ``'unknown'`` when either
    number is missing. Sentences are generated from the numbers; Indonesian sentences use
    comma decimals and dot thousands (``1.234,5``).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from .data import NATIONAL_CODE, PERIODS, ProgramData, period_label, region_column
from .i18n import check_lang, number, region_name, text
from .periods import in_period, period_bounds, period_kind
from .schema import STAGES, TABLES, MentoringPoints, load_mentoring_points

__all__ = [
    "BarrierProfile", "CapitalAccess", "GovernmentSynergy", "MentoringGap", "StageFunnel", "Staffing",
    "BarrierMeasure", "MEASURES", "barrier_profile", "barrier_profiles", "capital_access",
    "government_synergy", "member_mentoring", "mentoring_gap", "stage_funnel", "staffing", "valid_region_codes",
]

ORGANISER_ROLES = ("co", "penggerak")
DAYS_PER_MONTH = 365.25 / 12
HANDOVER = pd.DateOffset(months=1)
DEFAULT_TOLERANCE = 0.10


# =========================================================================== shared helpers
def _frame(data: ProgramData, table: str) -> pd.DataFrame:
    """A table with dates, booleans and numbers typed as the schema says (fixtures may be loose)."""
    df = data.tables[table]
    columns = TABLES[table].schema.columns
    fixes = {}
    for name, c in columns.items():
        if name not in df.columns:
            continue
        dtype = str(c.dtype)
        if dtype.startswith("datetime") and not pd.api.types.is_datetime64_dtype(df[name]):
            fixes[name] = pd.to_datetime(df[name])
        elif dtype == "boolean" and str(df[name].dtype) != "boolean":
            fixes[name] = df[name].astype("boolean")
        elif dtype in ("Float64", "Int64") and not pd.api.types.is_numeric_dtype(df[name]):
            fixes[name] = pd.to_numeric(df[name])
    return df.assign(**fixes) if fixes else df


def _region_codes(data: ProgramData, level: str) -> pd.Series:
    """community_id -> code of its region at ``level`` ('ID' nationally)."""
    column = region_column(level)
    com = data.communities.drop_duplicates("community_id")
    values = NATIONAL_CODE if column is None else com[column].to_numpy()
    return pd.Series(values, index=com["community_id"].to_numpy(), dtype="string")


def _add_region(data: ProgramData, df: pd.DataFrame, level: str, on: str = "community_id") -> pd.DataFrame:
    """Add ``region_code`` (the region of the row's community at ``level``)."""
    return df.assign(region_code=df[on].astype("string").map(_region_codes(data, level)).astype("string"))


def _lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """``values[key]`` for each key (NA/NaT where missing), keeping the values' dtype even when empty."""
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index, dtype=values.dtype)


def valid_region_codes(data: ProgramData, level: str) -> list[str]:
    """Region codes at ``level`` that have at least one community (``['ID']`` nationally)."""
    return sorted(_region_codes(data, level).dropna().unique().tolist())


def _share(num: Any, den: Any) -> Any:
    """num / den, NA where den is 0 (works on scalars and Series)."""
    if isinstance(den, pd.Series):
        return (num / den.where(den != 0)).astype("Float64")
    return float(num) / float(den) if den else np.nan


def _months_index(dates: pd.Series) -> pd.Series:
    """Calendar month as one integer (year * 12 + month - 1)."""
    return dates.dt.year * 12 + dates.dt.month - 1


def _month_start(index: pd.Series | np.ndarray) -> pd.Series:
    index = pd.Series(np.asarray(index, dtype="int64"))
    return pd.to_datetime(pd.DataFrame({"year": index // 12, "month": index % 12 + 1, "day": 1}))


def _explode_months(df: pd.DataFrame, start: str, end: str, last_month: int) -> pd.DataFrame:
    """One row per calendar month from ``start``'s month to ``end``'s (or ``last_month``)."""
    df = df.reset_index(drop=True)
    first = _months_index(df[start]).astype("int64")
    stop = _months_index(df[end]).fillna(last_month).clip(upper=last_month).astype("int64")
    n = (stop - first + 1).clip(lower=0).to_numpy()
    out = df.loc[df.index.repeat(n)].reset_index(drop=True)
    out["month"] = np.repeat(first.to_numpy(), n) + out.groupby(np.repeat(df.index.to_numpy(), n)).cumcount().to_numpy()
    return out


def _observation_window(data: ProgramData, as_of: Any = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Start (earliest community formation) and end (``as_of`` or the latest date anywhere)."""
    start = _frame(data, "communities")["formed_on"].min()
    if pd.isna(start):
        start = _frame(data, "staff")["started_on"].min()
    if as_of is not None:
        return start, pd.Timestamp(as_of).normalize()
    latest = [_frame(data, t)[c].max() for t, spec in TABLES.items() for c, col in spec.schema.columns.items()
              if str(col.dtype).startswith("datetime") and c in data.tables[t].columns]
    return start, max((d for d in latest if pd.notna(d)), default=pd.NaT)


def _table_text(df: pd.DataFrame, max_rows: int = 40) -> str:
    if df.empty:
        return "(no rows)"
    shown = df.head(max_rows)
    more = f"\n... {len(df) - max_rows} more rows" if len(df) > max_rows else ""
    return shown.to_string(index=False, float_format=lambda v: f"{v:,.3g}") + more


class _Result(ABC):
    """Shared behaviour: a summary a person reads, used for print and for Jupyter."""

    synthetic: bool

    @abstractmethod
    def summary(self) -> str:
        """The result as text a person reads (also ``print`` and Jupyter)."""

    def _header(self, title: str) -> str:
        flag = "SYNTHETIC DATA — " if self.synthetic else ""
        return f"{flag}{title}\n{'=' * len(flag + title)}"

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return f"<pre>{escape(self.summary())}</pre>"


# =========================================================================== mentoring gap
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


# =========================================================================== stage funnel
_STAGE_COLUMNS = [c for c, _, _ in STAGES]


def _stage_rows(data: ProgramData, level: str) -> pd.DataFrame:
    """Stage dates per member with the member's region."""
    stages = _frame(data, "stages")
    return _add_region(data, stages.merge(data.members[["member_id", "community_id"]], on="member_id", how="left"),
                       level)


def _funnel(rows: pd.DataFrame) -> pd.DataFrame:
    """Long funnel: per region and stage, reached and conversion rates."""
    reached = rows.dropna(subset=["region_code"]).groupby("region_code")[_STAGE_COLUMNS].count()
    long = reached.reset_index().melt(id_vars="region_code", var_name="stage", value_name="reached")
    order = {c: i + 1 for i, c in enumerate(_STAGE_COLUMNS)}
    long["stage_no"] = long["stage"].map(order)
    long = long.sort_values(["region_code", "stage_no"], kind="stable").reset_index(drop=True)
    labels = {c: (lid, len_) for c, lid, len_ in STAGES}
    long["label_id"] = long["stage"].map(lambda c: labels[c][0])
    long["label_en"] = long["stage"].map(lambda c: labels[c][1])
    g = long.groupby("region_code")["reached"]
    previous = g.shift(1)
    long["reached"] = long["reached"].astype("int64")
    long["from_previous"] = _share(long["reached"], previous)
    long["from_start"] = _share(long["reached"], g.transform("first"))
    long["lost"] = (previous - long["reached"]).astype("Int64")
    return long[["region_code", "stage_no", "stage", "label_id", "label_en", "reached", "from_previous",
                 "from_start", "lost"]]


def _largest_drop(funnel: pd.DataFrame) -> pd.DataFrame:
    """Per region, the step with the lowest conversion from the previous stage."""
    steps = funnel.dropna(subset=["from_previous"])
    idx = steps.groupby("region_code")["from_previous"].idxmin()
    out = steps.loc[idx.dropna()].reset_index(drop=True)
    prev = dict(zip(_STAGE_COLUMNS[1:], STAGES[:-1]))
    out.insert(1, "from_stage", out["stage"].map(lambda c: prev[c][0]))
    out.insert(2, "from_label_en", out["stage"].map(lambda c: prev[c][2]))
    out["drop_share"] = 1 - out["from_previous"]
    return out.rename(columns={"stage": "to_stage", "label_en": "to_label_en", "label_id": "to_label_id"})[
        ["region_code", "from_stage", "to_stage", "from_label_en", "to_label_en", "to_label_id", "lost",
         "drop_share"]]


@dataclass(repr=False)
class StageFunnel(_Result):
    """The empowerment-stage funnel (see :func:`stage_funnel`).

    Attributes
    ----------
    level : str
    funnel : DataFrame
        Per region and stage: ``reached, from_previous, from_start, lost`` (+ labels).
    largest_drop : DataFrame
        Per region, the step where the largest share of members is lost.
    """

    level: str
    funnel: pd.DataFrame
    largest_drop: pd.DataFrame
    synthetic: bool = False

    def summary(self) -> str:
        lines = [self._header(f"Training into practice: stage funnel by {self.level}")]
        for code, f in self.funnel.groupby("region_code", sort=True):
            lines += ["", f"[{code}]", _table_text(f[["label_en", "reached", "from_previous", "from_start"]])]
            drop = self.largest_drop.loc[self.largest_drop["region_code"] == code]
            if len(drop):
                d = drop.iloc[0]
                lines.append(f"largest drop: {d['from_label_en']} -> {d['to_label_en']} "
                             f"({number(d['drop_share'], 0, percent=True)} lost, {int(d['lost']):,} members)")
        return "\n".join(lines)


def stage_funnel(data: ProgramData, *, level: str = "national") -> StageFunnel:
    """Problem identification -> potential -> training -> implementation -> evaluation.

    Parameters
    ----------
    data : ProgramData
    level : str, default 'national'
        Region level (a key of :data:`~kkbm_analysis.data.REGION_LEVELS`).

    Returns
    -------
    StageFunnel
        Counts reaching each stage, conversion from the previous stage and from the start,
        and where members drop out (the lowest step conversion).
    """
    funnel = _funnel(_stage_rows(data, level))
    return StageFunnel(level=level, funnel=funnel, largest_drop=_largest_drop(funnel), synthetic=data.synthetic)


# =========================================================================== staffing
def _active(staff: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Staff active at some point of [start, end]."""
    return (staff["started_on"] <= end) & (staff["ended_on"].isna() | (staff["ended_on"] >= start))


def _periods(start: pd.Timestamp, end: pd.Timestamp, period: str | None) -> pd.DataFrame:
    """Month grid of the record: ``month`` (int), ``period`` label, ``period_start``, ``period_end``."""
    months = np.arange(_months_index(pd.Series([start]))[0], _months_index(pd.Series([end]))[0] + 1)
    grid = pd.DataFrame({"month": months})
    grid["period"] = period_label(_month_start(months), period).to_numpy()
    if period is None:
        grid["period_start"], grid["period_end"] = start, end
    else:
        bounds = {label: period_bounds(label) for label in grid["period"].unique()}
        grid["period_start"] = grid["period"].map(lambda p: bounds[p][0])
        grid["period_end"] = grid["period"].map(lambda p: bounds[p][1])
    return grid


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
    covered = _explode_months(cos, "started_on", "ended_on", last_month)[["community_id", "month"]]
    covered = covered.drop_duplicates().assign(_covered=True)
    months = months.merge(covered, on=["community_id", "month"], how="left")
    return months.assign(vacant=months["_covered"].isna())[["community_id", "region_code", "month", "vacant"]]


def _staffin_period(staff: pd.DataFrame, grid: pd.DataFrame, key: str) -> pd.DataFrame:
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
    off = _staffin_period(officers.assign(region_code=officers["province_code"].astype("string")
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
    counts = []
    for label, (ps, pe) in bounds.iterrows():
        counts.append(pd.DataFrame({
            "members": members.loc[members["joined_on"] <= pe].groupby("region_code").size(),
            "communities": com.loc[com["formed_on"] <= pe].groupby("region_code").size(),
        }).rename_axis("region_code").reset_index().assign(period=label))
    out = out.merge(pd.concat(counts), on=["region_code", "period"], how="left")
    for role, name in ((list(ORGANISER_ROLES), "organisers_fte"), (["co"], "co_fte")):
        fte = _staffin_period(org.loc[org["role"].isin(role)], grid, "region_code").rename(columns={"fte": name})
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


def _vacancy_by_period(data: ProgramData, org: pd.DataFrame, grid: pd.DataFrame, level: str,
                       last: int) -> pd.DataFrame:
    months = _vacancy(data, org.loc[org["role"] == "co"], level, last).merge(grid[["month", "period"]], on="month")
    g = months.groupby(["region_code", "period"])
    return pd.DataFrame({"vacancy_months": g["vacant"].sum(),
                         "communities_observed": g["community_id"].nunique()}).reset_index()


def _turnover(org: pd.DataFrame, grid: pd.DataFrame, last: int) -> pd.DataFrame:
    """Organisers who ended in the period and mean monthly headcount, by region and period."""
    heads = _explode_months(org, "started_on", "ended_on", last)
    heads = heads.loc[heads["month"] >= grid["month"].min()]
    per_month = heads.groupby(["region_code", "month"])["staff_id"].nunique().rename("n").reset_index()
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


# =========================================================================== government synergy
def _synergy_table(data: ProgramData, level: str, *, as_of: Any = None,
                   case_period: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Perdes coverage, village-government involvement, Disnakertrans informed, by region."""
    com = _add_region(data, _frame(data, "communities"), level).dropna(subset=["region_code"])
    regs = _frame(data, "village_regulations")
    if as_of is not None:
        regs = regs.loc[regs["adopted_on"] <= pd.Timestamp(as_of)]
    villages = com.dropna(subset=["village_code"])[["region_code", "village_code"]].drop_duplicates()
    perdes = villages.merge(regs[["village_code", "title", "adopted_on"]], on="village_code")
    first = regs.groupby("village_code")["adopted_on"].min()
    villages = villages.assign(perdes_on=_lookup(villages["village_code"], first))
    cases = _add_region(data, _frame(data, "advocacy_cases"), level)
    cases = cases.loc[in_period(cases["opened_on"], case_period)]
    gv, gov, cs = villages.groupby("region_code"), com.groupby("region_code"), cases.groupby("region_code")
    out = pd.DataFrame({
        "villages": gv.size(), "villages_with_perdes": gv["perdes_on"].count(),
        "first_perdes_on": gv["perdes_on"].min(), "last_perdes_on": gv["perdes_on"].max(),
        "communities": gov.size(), "gov_involvement_known": gov["village_gov_involved"].count(),
        "gov_involved": gov["village_gov_involved"].sum(),
        "cases": cs.size(), "disnakertrans_known": cs["disnakertrans_informed"].count(),
        "disnakertrans_informed": cs["disnakertrans_informed"].sum(),
    }).reindex(valid_region_codes(data, level))
    counts = [c for c in out.columns if not c.endswith("_on")]
    out[counts] = out[counts].fillna(0).astype("int64")
    out["perdes_share"] = _share(out["villages_with_perdes"], out["villages"])
    out["gov_involved_share"] = _share(out["gov_involved"], out["gov_involvement_known"])
    out["disnakertrans_share"] = _share(out["disnakertrans_informed"], out["disnakertrans_known"])
    out = out.rename_axis("region_code").reset_index()
    return out, perdes.sort_values(["region_code", "adopted_on"], kind="stable").reset_index(drop=True)


@dataclass(repr=False)
class GovernmentSynergy(_Result):
    """Village regulations, village-government involvement, Disnakertrans (see :func:`government_synergy`).

    Attributes
    ----------
    level : str
    table : DataFrame
        Per region: villages, villages with a Perdes and its share, first/last adoption,
        communities with village-government involvement and its share, advocacy cases and
        the share of which Disnakertrans was informed.
    perdes : DataFrame
        Each Perdes in a community village: region, village, title, adoption date.
    """

    level: str
    table: pd.DataFrame
    perdes: pd.DataFrame
    synthetic: bool = False

    def summary(self) -> str:
        t = self.table
        lines = [self._header(f"Government synergy by {self.level}"),
                 f"Overall: {int(t['villages_with_perdes'].sum()):,} of {int(t['villages'].sum()):,} community "
                 f"villages have a Perdes on PMI protection; village government involved in "
                 f"{int(t['gov_involved'].sum()):,} of {int(t['gov_involvement_known'].sum()):,} communities; "
                 f"Disnakertrans informed of {int(t['disnakertrans_informed'].sum()):,} of "
                 f"{int(t['disnakertrans_known'].sum()):,} advocacy cases.", "",
                 _table_text(t[["region_code", "villages", "perdes_share", "first_perdes_on", "gov_involved_share",
                                "cases", "disnakertrans_share"]])]
        return "\n".join(lines)


def government_synergy(data: ProgramData, *, level: str = "province", as_of: Any = None) -> GovernmentSynergy:
    """Perdes on PMI protection, village-government involvement, Disnakertrans informed.

    Parameters
    ----------
    data : ProgramData
    level : str, default 'province'
        Region level (a key of :data:`~kkbm_analysis.data.REGION_LEVELS`).
    as_of : date-like, optional
        Count only Perdes adopted on or before this date (default: all).

    Returns
    -------
    GovernmentSynergy
    """
    table, perdes = _synergy_table(data, level, as_of=as_of)
    return GovernmentSynergy(level=level, table=table, perdes=perdes, synthetic=data.synthetic)


# =========================================================================== access to capital
def _owners(data: ProgramData, level: str) -> pd.DataFrame:
    """Business-owning members with the start of their first own business and their region."""
    biz = _frame(data, "businesses").dropna(subset=["owner_member_id"])
    first = biz.groupby("owner_member_id")["started_on"].min().rename("first_business_on")
    owners = first.rename_axis("member_id").reset_index().astype({"member_id": "string"})
    owners = owners.merge(data.members[["member_id", "community_id"]].astype("string"), on="member_id", how="left")
    return _add_region(data, owners, level)


@dataclass(repr=False)
class CapitalAccess(_Result):
    """KUR uptake (see :func:`capital_access`).

    Attributes
    ----------
    level, period : str
    table : DataFrame
        Per region and period: applications, applicants, approvals, approval rate, amounts
        (total, mean, median), median days to approval, business owners and the share who applied.
    loans : DataFrame
        The KUR applications with region, period and days to approval.
    """

    level: str
    period: str | None
    table: pd.DataFrame
    loans: pd.DataFrame
    synthetic: bool = False

    def summary(self) -> str:
        t, loans = self.table, self.loans
        approved = loans.loc[loans["approved"].fillna(False).astype(bool)]
        lines = [self._header(f"Access to capital (KUR) by {self.level} and {self.period or 'whole record'}"),
                 f"Overall: {len(loans):,} applications, {len(approved):,} approved "
                 f"({number(_share(len(approved), len(loans)), 0, percent=True)}), Rp {number(approved['amount_idr'].sum(), 0)} "
                 f"in total; median {number(loans['days_to_approval'].median(), 0)} days to approval.", "",
                 _table_text(t[["region_code", "period", "applications", "approval_rate", "amount_median",
                                "days_to_approval_median", "owners", "owners_applied_share"]])]
        return "\n".join(lines)


def capital_access(data: ProgramData, *, level: str = "province", period: str | None = None) -> CapitalAccess:
    """KUR applications, approvals, amounts, time to approval, uptake among business owners.

    Parameters
    ----------
    data : ProgramData
    level : str, default 'province'
        Region level (a key of :data:`~kkbm_analysis.data.REGION_LEVELS`).
    period : {'year', 'quarter', 'month'} or None
        Period of the application date; None = the whole record (``'all'``). Every
        period of the record is listed, with zero applications where there were none.

    Returns
    -------
    CapitalAccess
    """
    loans = _frame(data, "kur_loans").astype({"member_id": "string"})
    loans = _add_region(data, loans.merge(data.members[["member_id", "community_id"]].astype("string"),
                                          on="member_id", how="left"), level)
    loans = loans.assign(period=period_label(loans["applied_on"], period).to_numpy(),
                         approved=loans["approved"].fillna(False).astype(bool))
    loans["days_to_approval"] = (loans["approved_on"] - loans["applied_on"]).dt.days.where(loans["approved"])
    labels = ["all"]
    if period is not None:
        start, end = _observation_window(data)
        labels = sorted(set(loans["period"].dropna()) | set(_periods(start, end, period)["period"] if pd.notna(end)
                                                             and pd.notna(start) else ()))
    table = _capital_table(loans, _owners(data, level), valid_region_codes(data, level), labels)
    return CapitalAccess(level=level, period=period, table=table, loans=loans, synthetic=data.synthetic)


def _capital_table(loans: pd.DataFrame, owners: pd.DataFrame, codes: list[str], labels: list[str]) -> pd.DataFrame:
    g = loans.groupby(["region_code", "period"])
    amounts = loans.loc[loans["approved"]].groupby(["region_code", "period"])["amount_idr"]
    out = pd.DataFrame({
        "applications": g.size(), "applicants": g["member_id"].nunique(), "approvals": g["approved"].sum(),
        "amount_total": amounts.sum(), "amount_mean": amounts.mean(), "amount_median": amounts.median(),
        "days_to_approval_median": g["days_to_approval"].median(),
    })
    grid = pd.MultiIndex.from_product([codes, labels], names=["region_code", "period"])
    out = out.reindex(grid)
    out[["applications", "applicants", "approvals"]] = out[["applications", "applicants", "approvals"]].fillna(0)
    out["approval_rate"] = _share(out["approvals"], out["applications"])
    own = []
    for label in labels:
        end = period_bounds(label)[1] if label != "all" else pd.Timestamp.max
        o = owners.loc[owners["first_business_on"] <= end]
        applied = loans.loc[loans["period"] == label, "member_id"]
        own.append(pd.DataFrame({"owners": o.groupby("region_code").size(),
                                 "owners_applied": o.loc[o["member_id"].isin(applied)].groupby("region_code").size()})
                   .assign(period=label).rename_axis("region_code").reset_index())
    own_df = (pd.concat(own) if own else pd.DataFrame(columns=["region_code", "period", "owners", "owners_applied"])
              ).set_index(["region_code", "period"])
    out = out.join(own_df, how="left")
    out[["owners", "owners_applied"]] = out[["owners", "owners_applied"]].fillna(0)
    ints = ["applications", "applicants", "approvals", "owners", "owners_applied"]
    out[ints] = out[ints].astype("int64")
    out["owners_applied_share"] = _share(out["owners_applied"], out["owners"])
    return out.reset_index()


# =========================================================================== barrier profile
@dataclass(frozen=True)
class BarrierMeasure:
    """One measure of the barrier profile.

    Its label and the sentence that describes it are the catalogue entries
    ``barrier.<id>.label`` and ``barrier.<id>.sentence`` (:mod:`kkbm_analysis.i18n`).
    """

    id: str
    unit: str
    higher_is_better: bool
    decimals: int
    percent: bool

    @property
    def direction(self) -> str:
        return "higher is better" if self.higher_is_better else "higher is worse"

    def label(self, lang: str) -> str:
        """The measure's name in ``lang``."""
        return text(f"barrier.{self.id}.label", lang)

    def sentence(self, lang: str, value: Any, benchmark: Any, **fields: Any) -> str:
        """The value against the benchmark in a sentence (``{n}`` points, ``{N}`` months as ``fields``)."""
        v, b = (number(x, self.decimals, lang, percent=self.percent) for x in (value, benchmark))
        if pd.isna(value):
            return text("barrier.no_data_sentence", lang, label=self.label(lang), b=b)
        return text(f"barrier.{self.id}.sentence", lang, v=v, b=b, **fields)


#: The profile's measures: id, unit, higher is better, decimals, shown as a percentage.
#: Sentence templates (catalogue): ``{v}`` value, ``{b}`` benchmark, ``{n}`` number of
#: mandated points, ``{N}`` replacement window in months.
MEASURES: tuple[BarrierMeasure, ...] = (
    BarrierMeasure("mentoring_points_mean", "points", True, 1, False),
    BarrierMeasure("no_follow_up_share", "share", False, 0, True),
    BarrierMeasure("months_to_first_mentoring", "months", False, 1, False),
    BarrierMeasure("training_to_practice", "share", True, 0, True),
    BarrierMeasure("members_per_organiser", "members per FTE", False, 1, False),
    BarrierMeasure("officers_per_community", "officers (FTE) per community", True, 2, False),
    BarrierMeasure("vacancy_months_per_community", "months per community", False, 1, False),
    BarrierMeasure("organiser_turnover", "share of average staff", False, 0, True),
    BarrierMeasure("cadre_regeneration", "share", True, 0, True),
    BarrierMeasure("perdes_share", "share", True, 0, True),
    BarrierMeasure("village_gov_involved_share", "share", True, 0, True),
    BarrierMeasure("disnakertrans_informed_share", "share", True, 0, True),
    BarrierMeasure("kur_approval_rate", "share", True, 0, True),
    BarrierMeasure("kur_owner_uptake", "share", True, 0, True),
)


def _verdict(value: Any, benchmark: Any, higher_is_better: bool, tolerance: float) -> str:
    if pd.isna(value) or pd.isna(benchmark):
        return "unknown"
    if abs(value - benchmark) <= tolerance * abs(benchmark):
        return "similar"
    return "better" if (value > benchmark) == higher_is_better else "worse"


def _profile_values(data: ProgramData, level: str, label: str | None, mp: MentoringPoints,
                    replacement_months: int) -> pd.DataFrame:
    """Measure values (columns) for every region at ``level`` (rows) in one period."""
    kind = period_kind(label)
    codes = valid_region_codes(data, level)
    members = _add_region(data, member_mentoring(data, points=mp), level)
    trained = members.loc[members["trained"] & in_period(members["entry_training_on"], label)]
    ment = _mentoring_overview(trained.dropna(subset=["region_code"]), len(mp.points)).set_index("region_code")
    rows = _stage_rows(data, level)
    funnel = _funnel(rows.loc[in_period(rows["identified_on"], label)])
    fun = funnel.loc[funnel["stage"] == "implemented_on"].set_index("region_code")["from_previous"]
    st = staffing(data, level=level, period=kind, replacement_months=replacement_months).table
    st = st.loc[st["period"] == (label or "all")].set_index("region_code")
    end = period_bounds(label)[1] if label else None
    syn = _synergy_table(data, level, as_of=end, case_period=label)[0].set_index("region_code")
    cap = capital_access(data, level=level, period=kind).table
    cap = cap.loc[cap["period"] == (label or "all")].set_index("region_code")
    out = pd.DataFrame({
        "mentoring_points_mean": ment["mean_points"], "no_follow_up_share": ment["no_follow_up_share"],
        "months_to_first_mentoring": ment["months_to_first_median"], "training_to_practice": fun,
        "members_per_organiser": st["members_per_organiser"], "officers_per_community": st["officers_per_community"],
        "vacancy_months_per_community": st["vacancy_months_per_community"], "organiser_turnover": st["turnover"],
        "cadre_regeneration": st["regeneration"], "perdes_share": syn["perdes_share"],
        "village_gov_involved_share": syn["gov_involved_share"],
        "disnakertrans_informed_share": syn["disnakertrans_share"],
        "kur_approval_rate": cap["approval_rate"], "kur_owner_uptake": cap["owners_applied_share"],
    }, index=pd.Index(codes, name="region_code"))
    return out.astype("Float64")


def _profile_rows(values: pd.DataFrame, national: pd.Series, n_points: int, replacement_months: int,
                  tolerance: float) -> pd.DataFrame:
    """Long profile: one row per region and measure, with verdicts and sentences."""
    rows = []
    for code, vals in values.iterrows():
        for m in MEASURES:
            v, b = vals[m.id], national[m.id]
            rows.append({"region_code": code, "barrier_id": m.id, "label_id": m.label("id"),
                         "label_en": m.label("en"), "value": v, "benchmark": b, "unit": m.unit,
                         "direction": m.direction, "verdict": _verdict(v, b, m.higher_is_better, tolerance),
                         **{f"sentence_{lang}": m.sentence(lang, v, b, n=n_points, N=replacement_months)
                            for lang in ("id", "en")}})
    out = pd.DataFrame(rows)
    return out.astype({"value": "Float64", "benchmark": "Float64"})


def _profile_frame(data: ProgramData, level: str, label: str | None, replacement_months: int,
                   tolerance: float, points: MentoringPoints | None) -> pd.DataFrame:
    mp = points or load_mentoring_points()
    values = _profile_values(data, level, label, mp, replacement_months)
    national = _profile_values(data, "national", label, mp, replacement_months).iloc[0]
    out = _profile_rows(values, national, len(mp.points), replacement_months, tolerance)
    out.insert(1, "period", label or "all")
    out.insert(1, "level", level)
    out.attrs.update(synthetic=data.synthetic, data_version=data.data_version, tolerance=tolerance,
                     replacement_months=replacement_months)
    return out


def _region_name(data: ProgramData, level: str, code: str) -> str:
    """A community's own name, or the region's (:func:`kkbm_analysis.i18n.region_name`)."""
    if level == "community":
        names = data.communities.set_index("community_id")["community_name"]
        return str(names.get(code, code))
    return region_name(code)


@dataclass(repr=False)
class BarrierProfile(_Result):
    """One region's barrier indicators next to the national benchmark (see :func:`barrier_profile`).

    Attributes
    ----------
    region_code, region_name, level, period : str
    table : DataFrame
        One row per indicator: ``barrier_id, label_id, label_en, value, benchmark, unit,
        direction, verdict, sentence_id, sentence_en``.
    lang : {'id', 'en'} or None
        Language of ``summary()`` (None: both).
    tolerance : float
    """

    region_code: str
    region_name: str
    level: str
    period: str
    table: pd.DataFrame
    lang: str | None = None
    tolerance: float = DEFAULT_TOLERANCE
    synthetic: bool = False

    def sentences(self, lang: str = "en") -> list[str]:
        """The plain-language sentences in ``'id'`` or ``'en'``."""
        return self.table[f"sentence_{lang}"].tolist()

    def summary(self) -> str:
        langs = [self.lang] if self.lang else ["id", "en"]
        title = " / ".join(text("barrier.profile_title", lang, name=self.region_name, code=self.region_code,
                                period=self.period) for lang in langs)
        lines = [self._header(title)]
        for lang in langs:
            lines.append("")
            width = max(len(text(f"common.verdict_{v}", lang)) for v in ("better", "worse", "similar", "unknown"))
            for verdict, sentence in zip(self.table["verdict"], self.table[f"sentence_{lang}"]):
                lines.append(f"[{text(f'common.verdict_{verdict}', lang):>{width}}] {sentence}")
        lines.append(f"\n(similar = within {self.tolerance:.0%} of the national value)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cols = ["label_en", "value", "benchmark", "unit", "verdict", "sentence_id", "sentence_en"]
        return f"<pre>{escape(self._header(f'Barrier profile: {self.region_name} ({self.region_code})'))}</pre>" \
               + self.table[cols].to_html(index=False, na_rep="NA")


def _check_period(period: str | None) -> None:
    if period in PERIODS:
        raise ValueError(f"period must be None or one period label such as '2019' or '2019-Q3', not the "
                         f"period kind {period!r}")
    period_kind(period)


def barrier_profile(data: ProgramData, region_code: str, *, level: str = "province", period: str | None = None,
                    lang: str | None = None, replacement_months: int = 6, tolerance: float = DEFAULT_TOLERANCE,
                    points: MentoringPoints | None = None) -> BarrierProfile:
    """All barrier indicators of one region, compared with the national value.

    Parameters
    ----------
    data : ProgramData
    region_code : str
        A code at ``level`` (e.g. ``'35'`` for Jawa Timur); ``'ID'`` at national level.
    level : str, default 'province'
        Region level (a key of :data:`~kkbm_analysis.data.REGION_LEVELS`).
    period : str, optional
        None for the whole record, or one period label (``'2019'``, ``'2019-Q3'``,
        ``'2019-07'``); what a period means for each indicator is in the module docstring.
    lang : {'id', 'en'}, optional
        Language of ``summary()``; both when None. The table always has both.
    replacement_months : int, default 6
        Window for cadre regeneration (see :func:`staffing`).
    tolerance : float, default 0.10
        Relative distance from the benchmark still called 'similar'.
    points : MentoringPoints, optional
        The mandated mentoring points.

    Returns
    -------
    BarrierProfile

    Raises
    ------
    ValueError
        If ``region_code`` is not a region with communities at ``level`` (the message lists
        the valid codes), or ``period``/``lang`` is not valid.
    """
    period = None if period is None else str(period)
    if lang is not None:
        check_lang(lang)
    _check_period(period)
    valid = valid_region_codes(data, level)
    if str(region_code) not in valid:
        raise ValueError(f"unknown {level} code {region_code!r}; valid codes: {', '.join(valid) or '(none)'}")
    frame = _profile_frame(data, level, period, replacement_months, tolerance, points)
    table = frame.loc[frame["region_code"] == str(region_code)].drop(columns=["region_code", "level", "period"])
    return BarrierProfile(region_code=str(region_code), region_name=_region_name(data, level, str(region_code)),
                          level=level, period=period or "all", table=table.reset_index(drop=True), lang=lang,
                          tolerance=tolerance, synthetic=data.synthetic)


def barrier_profiles(data: ProgramData, *, level: str = "province", period: str | None = None,
                     replacement_months: int = 6, tolerance: float = DEFAULT_TOLERANCE,
                     points: MentoringPoints | None = None) -> pd.DataFrame:
    """Barrier profiles of every region at ``level``, in long format.

    Parameters
    ----------
    data : ProgramData
    level : str, default 'province'
    period : str, optional
        None (whole record), one period label (``'2019'``), or a period kind
        (``'year'``, ``'quarter'``, ``'month'``) for every period of the record.
    replacement_months, tolerance, points
        As in :func:`barrier_profile`.

    Returns
    -------
    DataFrame
        ``region_code, level, period, barrier_id, label_id, label_en, value, benchmark, unit,
        direction, verdict, sentence_id, sentence_en``; ``attrs`` carries ``synthetic`` and
        ``data_version``.
    """
    region_column(level)
    if period in PERIODS:
        start, end = _observation_window(data)
        labels = _periods(start, end, period)["period"].unique().tolist()
        parts = [_profile_frame(data, level, label, replacement_months, tolerance, points) for label in labels]
        out = pd.concat(parts, ignore_index=True)
        out.attrs.update(parts[0].attrs if parts else {})
        return out
    _check_period(period)
    return _profile_frame(data, level, period, replacement_months, tolerance, points)
