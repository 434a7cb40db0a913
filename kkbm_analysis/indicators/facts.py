"""Facts of the indicators, in SQL: the base relations and the :class:`Facts` of each registry indicator.

A **base relation** (:data:`BASES`) is one source table joined once to what every fact of it
needs: the region of its community at each level (``community_id`` and the ``r_<level>`` columns of ``_regions``, see
:meth:`~.source.Source.regions`) and the member attributes used for disaggregation (``sex``
and ``status`` as codes in :data:`SEX_KEYS` / :data:`STATUS_KEYS` order; NULL when the unit
has no single member or the value is not in the vocabulary). A row whose community is
unknown has no region and is left out. :class:`Facts` says, in SQL over one base relation,
which rows an indicator counts (``where``), the date that places them in a period
(``date``), what each adds to the numerator and the denominator (``num``, ``den``) and, for
per-unit indicators, the unit whose facts are summed first (``unit``). The registry
(:mod:`.registry`) declares one :class:`Facts` per indicator; the engine (:mod:`.engine`)
aggregates them. :func:`data_span` is the first and last activity date.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..data import ProgramData
from ..schema import VOCABULARIES

__all__ = ["Facts", "BASES", "facts_frame", "SEX_KEYS", "STATUS_KEYS", "KUR_ELIGIBLE_STATUS", "DECIDED_OUTCOMES", "SPAN_COLUMNS",
           "data_span"]


#: What the indicators are computed from: tables in memory or a processed folder.
Data = ProgramData | str | Path


SEX_KEYS: tuple[str, ...] = tuple(VOCABULARIES["sex"])


STATUS_KEYS: tuple[str, ...] = tuple(VOCABULARIES["member_status"])


_DISAGG_KEYS = {"sex": SEX_KEYS, "status": STATUS_KEYS}


#: Members eligible for (business) KUR in the uptake indicator.
KUR_ELIGIBLE_STATUS: tuple[str, ...] = ("pmi_purna", "keluarga")


#: Case outcomes that decide a case (every outcome of the vocabulary but ``ongoing``).
DECIDED_OUTCOMES: tuple[str, ...] = tuple(o for o in VOCABULARIES["case_outcome"] if o != "ongoing")


#: Dated columns that define the data's span (see :func:`data_span`).
SPAN_COLUMNS: dict[str, tuple[str, ...]] = {
    "communities": ("formed_on",), "members": ("joined_on",), "businesses": ("started_on", "closed_on"),
    "business_reports": ("period",), "groups": ("formed_on",), "kur_loans": ("applied_on", "approved_on"),
    "consultations": ("held_on",), "info_services": ("held_on",),
    "advocacy_cases": ("opened_on", "closed_on"), "prevention_events": ("held_on",),
}


def sql_list(values: Any) -> str:
    """Text values as a SQL list: ``('a', 'b')``."""
    return "(" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + ")"


@dataclass(frozen=True)
class Facts:
    """An indicator's facts, in SQL over one base relation of :data:`BASES`.

    Attributes
    ----------
    base : str
        The base relation (a key of :data:`BASES`).
    date : str
        Column (or expression) whose date places a fact in a period.
    num : str
        What a fact adds to the numerator (default ``1``: the fact is counted).
    den : str, optional
        What a fact adds to the denominator (None: the number of facts, or of units).
    where : str, optional
        Which rows of the base relation are facts (default all).
    unit : str, optional
        For per-unit indicators: the unit whose facts are summed per period first (e.g. a
        business's monthly reports add up to its volume in the period). Units are taken in
        this column's order where order matters (a mean's sum of squares).
    grain : {'fact', 'month'}, optional
        How often a unit has a fact, by its table's key: ``'fact'``, once (the unit is the
        fact, e.g. a loan); ``'month'``, at most once per date (business reports are keyed by
        business and reporting month), so once per month when every fact is dated on the
        first of a month, which the engine checks. Where the grain makes summing per unit
        change nothing, the engine skips it.

    Calling a :class:`Facts` with the data (a :class:`~kkbm_analysis.data.ProgramData` or a
    processed folder) gives its facts frame (:func:`~.engine.indicator_facts`).
    """

    base: str
    date: str
    num: str = "1"
    den: str | None = None
    where: str | None = None
    unit: str | None = None
    grain: str | None = None

    def __post_init__(self) -> None:
        if self.base not in BASES:
            raise ValueError(f"unknown base relation {self.base!r}; known: {', '.join(BASES)}")
        if self.grain not in (None, "fact", "month") or (self.grain and not self.unit):
            raise ValueError("grain is None, 'fact' or 'month', and only for facts with a unit")

    def __call__(self, data: Data) -> pd.DataFrame:
        return facts_frame(data, self)


# =========================================================================== base relations
def _codes(column: str, keys: tuple[str, ...]) -> str:
    """SQL: a vocabulary value's position in ``keys`` (NULL for a missing or unknown value)."""
    whens = " ".join(f"WHEN '{k}' THEN {i}" for i, k in enumerate(keys))
    return f"CAST(CASE {column} {whens} END AS TINYINT)"


def _attributes(alias: str | None) -> str:
    if alias is None:
        return "CAST(NULL AS TINYINT) AS sex, CAST(NULL AS TINYINT) AS status"
    return f"{_codes(alias + '.sex', SEX_KEYS)} AS sex, {_codes(alias + '.status', STATUS_KEYS)} AS status"


def _regions(alias: str) -> str:
    return f"JOIN _regions g ON g.community_id = {alias}.community_id"


def _events(table: str) -> Callable[[bool], str]:
    def sql(attributes: bool) -> str:
        return f"SELECT t.* EXCLUDE (community_id), {_attributes(None)}, g.* FROM {table} t {_regions('t')}"
    return sql


def _members(attributes: bool) -> str:
    return (f"SELECT m.member_id, m.joined_on, m.status AS member_status, {_attributes('m')}, "
            f"g.* FROM members m {_regions('m')}")


def _businesses(attributes: bool) -> str:
    """Businesses with their owner's sex and status (group-owned: none)."""
    owner = "LEFT JOIN members o ON o.member_id = b.owner_member_id" if attributes else ""
    return (f"SELECT b.business_id, b.started_on, b.closed_on, b.status AS business_status, "
            f"{_attributes('o' if attributes else None)}, g.* "
            f"FROM businesses b {_regions('b')} {owner}")


def _reports(attributes: bool) -> str:
    """Monthly business reports with their business's region and owner; ``business_rank``: the
    business's position in ``business_id`` order (an integer unit, in the table's order)."""
    return (f"SELECT r.period, r.revenue_idr, b.* EXCLUDE (started_on, closed_on, business_status) "
            f"FROM business_reports r JOIN (SELECT *, row_number() OVER (ORDER BY business_id) AS business_rank "
            f"FROM ({_businesses(attributes)})) b ON b.business_id = r.business_id")


def _business_spells(attributes: bool) -> str:
    """Entries (``w = 1`` on the start date) and exits (``w = -1``) of active businesses.

    A business exits on ``closed_on``; one whose current status is dormant (and has no
    closure date) on the first day of the month after its last report with positive
    volume, or on its start date if it never reported a positive volume.
    """
    return f"""
        WITH b AS ({_businesses(attributes)}),
        last AS (SELECT business_id, max(period) AS last_positive FROM business_reports
                 WHERE revenue_idr > 0 AND business_id IN (SELECT business_id FROM b WHERE business_status = 'dormant'
                                                           AND closed_on IS NULL)
                 GROUP BY business_id),
        spells AS (SELECT b.*, CASE WHEN b.closed_on IS NOT NULL THEN CAST(b.closed_on AS TIMESTAMP)
                                    WHEN b.business_status = 'dormant'
                                    THEN coalesce(date_trunc('month', l.last_positive) + INTERVAL 1 MONTH,
                                                  CAST(b.started_on AS TIMESTAMP)) END AS ended_on
                   FROM b LEFT JOIN last l ON l.business_id = b.business_id)
        SELECT CAST(started_on AS TIMESTAMP) AS d, 1 AS w, * EXCLUDE (started_on, closed_on, ended_on) FROM spells
        UNION ALL
        SELECT ended_on AS d, -1 AS w, * EXCLUDE (started_on, closed_on, ended_on) FROM spells
        WHERE ended_on IS NOT NULL"""


def _loans(attributes: bool) -> str:
    """KUR applications, placed at the applicant's community; ``approval_date``: approved on, else
    applied on; ``loan_rank``: the loan's position in ``loan_id`` order (an integer unit)."""
    return (f"SELECT row_number() OVER (ORDER BY k.loan_id) AS loan_rank, k.applied_on, "
            f"coalesce(k.approved, false) AS approved, coalesce(k.approved_on, k.applied_on) AS approval_date, "
            f"k.amount_idr, {_attributes('m')}, g.* "
            f"FROM kur_loans k JOIN members m ON m.member_id = k.member_id {_regions('m')}")


def _uptake(attributes: bool) -> str:
    """Eligible members (``wd = 1`` on joining) and their first approved KUR loan (``wn = 1``), counted
    from the joining date when approved before it."""
    return f"""
        WITH e AS ({_members(attributes)} WHERE m.status IN {sql_list(KUR_ELIGIBLE_STATUS)}),
        first AS (SELECT member_id, min(coalesce(approved_on, applied_on)) AS first_approval FROM kur_loans
                  WHERE approved GROUP BY member_id)
        SELECT CAST(joined_on AS TIMESTAMP) AS d, 0 AS wn, 1 AS wd, * EXCLUDE (member_id, joined_on) FROM e
        UNION ALL
        SELECT CASE WHEN f.first_approval >= e.joined_on THEN CAST(f.first_approval AS TIMESTAMP)
                    ELSE CAST(e.joined_on AS TIMESTAMP) END AS d, 1 AS wn, 0 AS wd,
               e.* EXCLUDE (member_id, joined_on)
        FROM e JOIN first f ON f.member_id = e.member_id WHERE f.first_approval IS NOT NULL"""


def _cases(attributes: bool) -> str:
    """Advocacy cases at their community, with the member's attributes (none for a non-member);
    ``decided_on``: closed on, else opened on."""
    member = "LEFT JOIN members m ON m.member_id = c.member_id" if attributes else ""
    return (f"SELECT c.opened_on, c.closed_on, coalesce(c.closed_on, c.opened_on) AS decided_on, c.outcome, "
            f"{_attributes('m' if attributes else None)}, g.* "
            f"FROM advocacy_cases c {_regions('c')} {member}")


#: Base relations: SQL of each, given whether the member attributes are needed.
BASES: dict[str, Callable[[bool], str]] = {
    "members": _members, "businesses": _businesses, "business_spells": _business_spells, "reports": _reports,
    "loans": _loans, "uptake": _uptake, "cases": _cases, "groups": _events("groups"),
    "consultations": _events("consultations"), "info_services": _events("info_services"),
    "prevention_events": _events("prevention_events"),
}


# =========================================================================== facts, for inspection
def facts_frame(data: Data, facts: Facts) -> pd.DataFrame:
    """The facts of a :class:`~.facts.Facts`: one row per counted unit of a known community.

    Returns
    -------
    DataFrame
        ``community_id, date, sex, status, num`` (+ ``den``, ``unit`` when used), sorted.
    """
    from .source import Source
    source = Source(data)
    try:
        source.regions(["national"])
        extra = (f", CAST({facts.den} AS DOUBLE) AS den" if facts.den else "") + \
                (f", CAST({facts.unit} AS VARCHAR) AS unit" if facts.unit else "")
        frame = source.sql(
            f"SELECT community_id, CAST({facts.date} AS TIMESTAMP) AS date, sex, status, "
            f"CAST({facts.num} AS DOUBLE) AS num{extra} FROM ({BASES[facts.base](True)}) "
            f"WHERE {facts.where or 'true'} ORDER BY ALL")
    finally:
        source.close()
    for column, keys in (("sex", SEX_KEYS), ("status", STATUS_KEYS)):
        codes = frame[column].to_numpy(dtype=float, na_value=np.nan)
        frame[column] = pd.Categorical.from_codes(np.where(np.isnan(codes), -1, codes).astype(int),
                                                  categories=list(keys))
    frame["community_id"] = frame["community_id"].astype("string")
    frame["date"] = frame["date"].astype("datetime64[ms]")
    return frame


# =========================================================================== span
def data_span(data: ProgramData | str | Path) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last activity date in the data (the default period grid).

    Uses the dated columns of :data:`SPAN_COLUMNS`; a report month counts to its last day.

    Parameters
    ----------
    data : ProgramData, str or Path
        Tables in memory or a processed folder.

    Raises
    ------
    ValueError
        If the data holds no dated activity.
    """
    from .source import Source
    source = data if hasattr(data, "con") else Source(data)
    parts = []
    for table, cols in SPAN_COLUMNS.items():
        for c in cols:
            top = f"last_day(max({c}))" if table == "business_reports" else f"max({c})"
            parts.append(f"SELECT CAST(min({c}) AS DATE) AS lo, CAST({top} AS DATE) AS hi FROM {table}")
    try:
        lo, hi = source.sql(f"SELECT min(lo) AS lo, max(hi) AS hi FROM ({' UNION ALL '.join(parts)})").iloc[0]
    finally:
        if source is not data:
            source.close()
    if pd.isna(lo):
        raise ValueError("the data hold no dated activity: cannot place indicators in periods")
    return pd.Timestamp(lo).normalize(), pd.Timestamp(hi).normalize()
