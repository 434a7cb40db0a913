"""Empowerment indicators: a registry, their facts, and one aggregator for every cut.

KKBM's success indicators (seed 001: economic empowerment, information services,
advocacy; plus membership, which the CO's periodic update covers) are declared once in
:data:`REGISTRY`. Each :class:`Indicator` carries bilingual labels and definitions,
its numerator and denominator, unit, direction, how its values aggregate (``kind``),
and a function that turns :class:`~kkbm_analysis.data.ProgramData` into **facts**.

Facts
-----
A facts frame has one row per counted unit (a business, a report, a loan, an event, a
member...) with

``community_id``
    The community the unit belongs to (its region follows from the community).
``date``
    The date that places the fact in a reporting period.
``sex``, ``status``
    The member attributes used for disaggregation (missing when the unit has no single
    member, e.g. a group-owned business or a case of a non-member).
``num``, ``den``
    What the unit adds to the numerator and (for ratios) the denominator.
``unit`` (per-unit indicators only)
    The unit whose facts are summed first, e.g. a business's monthly reports add up to its
    volume in the period before the mean or median over businesses is taken.

Facts do not depend on the region level, the period or the disaggregation asked for,
so they are built once per call and shared by every cut. All identifier joins (member
to community, report to business to community...) are done once per source table, on
Arrow hash tables, and then everything is integer codes and :func:`numpy.bincount`.

Flows and stocks
----------------
Most indicators are **flows**: a fact counts in the period its date falls in, so months
add up to quarters, quarters to years, and years to the whole span. **Stock** indicators
(``stock=True``: active businesses, members, KUR uptake) are values *at the end of each
period*. Their facts are entries (``num=+1`` on the day a unit enters, e.g. joins) and
exits (``num=-1`` on the day it leaves, e.g. a business closes); the aggregator adds them
up cumulatively over the period grid, so the value of a period is the stock at its last
day (at the end of the data for the last, possibly partial, period; at the end of the
span for ``period=None``). Entries dated before the span count in the opening stock.
Stocks do not add up over time, but do add up over regions and disaggregations.

Kinds
-----
``count``
    Additive: ``value = numerator`` = sum of ``num`` (people counts may add more than one
    per fact, e.g. attendees of an event). ``denominator`` is empty.
``total``
    An additive amount (rupiah): ``value = numerator`` = sum of ``num``;
    ``denominator`` = the number of contributing units (loans, businesses), which the
    published table needs for small-cell suppression.
``proportion``
    ``value = numerator / denominator`` with a Wilson 95 % interval.
``mean``
    ``value = numerator / denominator``, the mean over units, with a t 95 % interval
    (approximate for skewed amounts).
``median``
    The median over units; ``denominator`` = the number of units, ``numerator`` empty.
``growth``
    Period-on-period relative change of the ``base`` indicator's total:
    ``value = (V_t - V_{t-1}) / V_{t-1}``, ``numerator = V_t - V_{t-1}``,
    ``denominator = V_{t-1}``. No row for ``period=None`` nor for the first period.

Regions and periods
-------------------
The region of a fact is its community's code at the requested level (``national``:
:data:`~kkbm_analysis.data.NATIONAL_CODE`). A community without a code at that level
(a district-wide community has no village code) is left out *at that level only*; so
village rows need not add up to districts, but every level from the deepest one all
communities have upward adds up exactly. The period grid runs over the data's span
(:func:`data_span`: first to last activity date) unless ``span`` is given; flow facts
outside the span are ignored.

Disaggregations
---------------
``by='sex'`` or ``by='status'`` split rows by the member attribute
(``'sex=P'``, ``'status=pmi_purna'``...). Facts without the attribute go to
``'sex=unknown'`` / ``'status=unknown'`` (shown only when such facts exist), so the
categories always add up to ``'all'`` for additive kinds. An indicator that does not allow
the requested disaggregation (events, groups: no member attached) is returned with
disaggregation ``'all'`` only. Membership status is the status at the last update (the
register keeps no status history), so ``status=`` cuts of past periods use today's status.

Performance
-----------
Built for national scale (1 million members, 9 million monthly business reports):
identifier joins run once per source table on Arrow hash tables (member ids of all
member-keyed tables in one pass); facts are built once per call and shared by the
indicators using them; per-(business, period) sums are made once per period grid (a
business's region and owner attributes are fixed, so every region level and
disaggregation reuses them); group-bys are :func:`numpy.bincount` on dense integer keys
(region x period x category); medians use a radix grouping and partial sorts.
``benchmarks/bench_indicators.py`` compares every indicator by province x month with the
same aggregations in DuckDB SQL and checks that both give the same numbers.

Typical use::

    import kkbm_analysis as kk
    from kkbm_analysis.indicators import compute_indicators, list_indicators
    data = kk.ProgramData.load("data/processed/demo")
    list_indicators()
    compute_indicators(data, ["kur_uptake", "members"], level="province", period="year", by="status")

Results are the *analysis* view (``suppressed`` is always False). Anything published goes
through :func:`kkbm_analysis.suppression.suppress` first; :func:`write_indicator_table`
accepts only its result.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .data import NATIONAL_CODE, PERIODS, REGION_LEVELS, ProgramData
from .schema import VOCABULARIES
from .suppression import write_indicator_table  # noqa: F401  (re-exported: publishing needs a PublishedTable)

__all__ = [
    "Indicator", "FactContext", "REGISTRY", "RESULT_COLUMNS", "KINDS", "DISAGGREGATIONS",
    "list_indicators", "indicator_facts", "compute_indicators", "indicator_table", "data_span", "with_labels",
    "write_indicator_table",
]

#: Columns of every result of :func:`compute_indicators`, in order.
RESULT_COLUMNS: tuple[str, ...] = ("indicator_id", "level", "region_code", "period", "disaggregation",
                                   "value", "numerator", "denominator", "ci_low", "ci_high", "suppressed")
#: How values aggregate (see the module docstring).
KINDS: tuple[str, ...] = ("count", "total", "proportion", "mean", "median", "growth")
#: Disaggregations an indicator may allow.
DISAGGREGATIONS: tuple[str, ...] = ("sex", "status")
DOMAINS: tuple[str, ...] = ("economic", "information", "advocacy", "membership")

SEX_KEYS: tuple[str, ...] = tuple(VOCABULARIES["sex"])
STATUS_KEYS: tuple[str, ...] = tuple(VOCABULARIES["member_status"])
_DISAGG_KEYS = {"sex": SEX_KEYS, "status": STATUS_KEYS}
#: Members eligible for (business) KUR in the uptake indicator.
KUR_ELIGIBLE_STATUS: tuple[str, ...] = ("pmi_purna", "keluarga")

#: Dated columns that define the data's span (see :func:`data_span`).
SPAN_COLUMNS: dict[str, tuple[str, ...]] = {
    "communities": ("formed_on",), "members": ("joined_on",), "businesses": ("started_on", "closed_on"),
    "business_reports": ("period",), "groups": ("formed_on",), "kur_loans": ("applied_on", "approved_on"),
    "consultations": ("held_on",), "info_services": ("held_on",),
    "advocacy_cases": ("opened_on", "closed_on"), "prevention_events": ("held_on",),
}

_NAT = np.iinfo(np.int64).min


# =========================================================================== fast joins
def _arrow_strings(values: Any, *, combine: bool = True) -> pa.Array | pa.ChunkedArray:
    """Values as Arrow ``large_string`` (zero-copy for Arrow-backed strings).

    ``combine=False`` keeps chunked columns chunked (lookups accept them; concatenating
    the 9 million report ids read from Parquet would only copy them).
    """
    if isinstance(values, pd.Index):
        values = pd.Series(values)
    if isinstance(values, pd.Series) and hasattr(values.array, "_pa_array"):
        arr = values.array._pa_array  # ArrowStringArray: its chunked array, no conversion
    else:
        arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values)
    if isinstance(arr, pa.ChunkedArray) and combine:
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    return arr


def _lookup(values: Any, keys: pa.Array) -> np.ndarray:
    """Position of each value in ``keys`` (``-1`` if absent or missing), by Arrow hashing."""
    pos = pc.index_in(_arrow_strings(values, combine=False), value_set=keys)
    return pos.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def _take(arr: np.ndarray, pos: np.ndarray, missing: Any = -1) -> np.ndarray:
    """``arr[pos]`` with ``missing`` where ``pos < 0``."""
    found = pos >= 0
    if found.all():
        return arr[pos]
    out = arr[np.where(found, pos, 0)] if len(arr) else np.full(len(pos), missing, dtype=arr.dtype)
    return np.where(found, out, missing)


def _dates(values: Any) -> np.ndarray:
    """Dates as ``datetime64[ms]`` (NaT for missing)."""
    if isinstance(values, np.ndarray) and values.dtype == "datetime64[ms]":
        return values
    if isinstance(values, (pd.Series, pd.Index)):
        return values.to_numpy(dtype="datetime64[ms]", na_value=np.datetime64("NaT"))
    return np.asarray(values, dtype="datetime64[ms]")


def _floats(values: Any) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.Index)):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(values, dtype=np.float64)


def _bools(values: Any) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.Index)):
        return values.to_numpy(dtype=bool, na_value=False)
    return np.asarray(values, dtype=bool)


def _group_min_dates(pos: np.ndarray, dates: np.ndarray, n: int, how: str = "min") -> np.ndarray:
    """Per-position minimum (or maximum) of ``dates`` (NaT where none)."""
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ms]")
    ok = (pos >= 0) & ~np.isnat(dates)
    if ok.any():
        s = pd.Series(dates[ok]).groupby(pos[ok]).agg(how)
        out[s.index.to_numpy()] = s.to_numpy(dtype="datetime64[ms]")
    return out


# =========================================================================== fact context
@dataclass(frozen=True)
class _Units:
    """Codes of one source table's rows: position keys, community, sex and status codes."""

    frame: pd.DataFrame
    keys: pa.Array | None
    comm: np.ndarray
    sex: np.ndarray
    status: np.ndarray

    @cached_property
    def labels(self) -> pd.Index:
        return pd.Index(pd.Series(self.keys.to_pandas(), dtype="string")) if self.keys is not None else pd.Index([])


class FactContext:
    """A :class:`ProgramData` with its joins done once, for the facts functions.

    Every source table is joined to its community (and, through the member, to sex and
    status) once, as integer codes; all indicators built from the same context share
    them. Facts functions take a context and return :meth:`facts`.

    Parameters
    ----------
    data : ProgramData
    """

    def __init__(self, data: ProgramData) -> None:
        self.data = data
        ids = data.communities["community_id"]
        self._community_keys = _arrow_strings(ids)
        self.community_ids = pd.Index(pd.Series(ids, dtype="string").to_numpy(), dtype="string")

    # ------------------------------------------------------------------ code helpers
    def community_codes(self, ids: Any) -> np.ndarray:
        """Positions of community ids in ``data.communities`` (-1 if unknown)."""
        return _lookup(ids, self._community_keys)

    @staticmethod
    def vocab_codes(values: Any, keys: Sequence[str]) -> np.ndarray:
        """Codes of vocabulary values in ``keys`` order (-1 for missing/other)."""
        return _lookup(values, pa.array(list(keys), type=pa.large_string())).astype(np.int8)

    # ------------------------------------------------------------------ per-table joins
    @cached_property
    def members(self) -> _Units:
        m = self.data.members
        return _Units(m, _arrow_strings(m["member_id"]), self.community_codes(m["community_id"]),
                      self.vocab_codes(m["sex"], SEX_KEYS), self.vocab_codes(m["status"], STATUS_KEYS))

    #: Member-keyed columns resolved together (one hash table of member ids for all).
    MEMBER_REFERENCES: tuple[tuple[str, str], ...] = (
        ("businesses", "owner_member_id"), ("kur_loans", "member_id"), ("advocacy_cases", "member_id"))

    @cached_property
    def _member_refs(self) -> dict[tuple[str, str], np.ndarray]:
        cols = [(t, c) for t, c in self.MEMBER_REFERENCES if len(self.data.tables[t])]
        if not cols:
            return {}
        arrays = [_arrow_strings(self.data.tables[t][c], combine=False) for t, c in cols]
        chunks = [ch for a in arrays for ch in (a.chunks if isinstance(a, pa.ChunkedArray) else [a])]
        pos = _lookup(pa.chunked_array(chunks, type=pa.large_string()), self.members.keys)
        bounds = np.cumsum([0, *map(len, arrays)])
        return {tc: pos[a:b] for tc, a, b in zip(cols, bounds[:-1], bounds[1:])}

    def member_attrs(self, member_ids: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(position, community, sex, status) codes of the members with these ids.

        ``member_ids`` may also be a ``(table, column)`` pair of :attr:`MEMBER_REFERENCES`,
        resolved with the others in one pass.
        """
        m = self.members
        if isinstance(member_ids, tuple):
            pos = self._member_refs.get(member_ids)
            if pos is None:
                pos = _lookup(self.data.tables[member_ids[0]][member_ids[1]], m.keys)
        else:
            pos = _lookup(member_ids, m.keys)
        return pos, _take(m.comm, pos), _take(m.sex, pos), _take(m.status, pos)

    @cached_property
    def businesses(self) -> _Units:
        """Businesses with their community and their owner's sex and status."""
        b = self.data.businesses
        _, _, sex, status = self.member_attrs(("businesses", "owner_member_id"))
        return _Units(b, _arrow_strings(b["business_id"]), self.community_codes(b["community_id"]), sex, status)

    @cached_property
    def reports(self) -> dict[str, np.ndarray]:
        """Business reports as codes: business position, community, sex, status, month, volume."""
        r = self.data.business_reports
        b = self.businesses
        pos = _lookup(r["business_id"], b.keys)
        return {"pos": pos, "comm": _take(b.comm, pos), "sex": _take(b.sex, pos),
                "status": _take(b.status, pos), "date": _dates(r["period"]),
                "revenue": _floats(r["revenue_idr"])}

    @cached_property
    def loans(self) -> dict[str, np.ndarray]:
        """KUR applications: applicant codes, dates, approval, amount."""
        k = self.data.kur_loans
        pos, comm, sex, status = self.member_attrs(("kur_loans", "member_id"))
        applied = _dates(k["applied_on"])
        approved_on = _dates(k["approved_on"])
        return {"member": pos, "comm": comm, "sex": sex, "status": status, "applied": applied,
                "approved": _bools(k["approved"]),
                "approval_date": np.where(np.isnat(approved_on), applied, approved_on),
                "amount": _floats(k["amount_idr"])}

    @cached_property
    def cases(self) -> dict[str, np.ndarray]:
        """Advocacy cases: community, member sex/status, dates, outcome."""
        c = self.data.advocacy_cases
        _, _, sex, status = self.member_attrs(("advocacy_cases", "member_id"))
        opened, closed = _dates(c["opened_on"]), _dates(c["closed_on"])
        return {"comm": self.community_codes(c["community_id"]), "sex": sex, "status": status,
                "opened": opened, "closed": closed,
                "decided_on": np.where(np.isnat(closed), opened, closed),
                "outcome": self.vocab_codes(c["outcome"], tuple(VOCABULARIES["case_outcome"]))}

    def events(self, table: str, kind: str | None = None) -> tuple[pd.DataFrame, np.ndarray]:
        """Rows of a community-keyed event table (optionally of one ``kind``) and their community codes."""
        df = self.data.tables[table]
        if kind is not None:
            df = df[_bools(df["kind"] == kind)]
        return df, self.community_codes(df["community_id"])

    # ------------------------------------------------------------------ the facts frame
    def facts(self, *, comm: np.ndarray, date: Any, num: Any = 1.0, den: Any = None,
              sex: np.ndarray | None = None, status: np.ndarray | None = None,
              unit: np.ndarray | None = None, unit_labels: pd.Index | None = None) -> pd.DataFrame:
        """Build a facts frame from codes (see the module docstring).

        Parameters
        ----------
        comm : array of int
            Community codes (positions in ``data.communities``; -1 = unknown, dropped).
        date : array-like of datetime
        num, den : scalar or array
            Contribution to numerator and denominator (``den=None``: no denominator).
        sex, status : array of int, optional
            Codes in :data:`SEX_KEYS` / :data:`STATUS_KEYS` order (-1 = missing).
        unit, unit_labels : optional
            Unit codes and their labels, for per-unit indicators.
        """
        n = len(comm)
        comm = np.asarray(comm, dtype=np.int64)
        cols: dict[str, Any] = {
            "community_id": pd.Categorical.from_codes(np.where(comm >= 0, comm, -1),
                                                      categories=self.community_ids, validate=False),
            "date": _dates(date),
            "sex": pd.Categorical.from_codes(np.full(n, -1) if sex is None else sex,
                                             categories=list(SEX_KEYS), validate=False),
            "status": pd.Categorical.from_codes(np.full(n, -1) if status is None else status,
                                                categories=list(STATUS_KEYS), validate=False),
            "num": np.broadcast_to(np.asarray(num, dtype=np.float64), (n,)).copy(),
        }
        if den is not None:
            cols["den"] = np.broadcast_to(np.asarray(den, dtype=np.float64), (n,)).copy()
        if unit is not None:
            cols["unit"] = pd.Categorical.from_codes(unit, categories=unit_labels, validate=False)
        return pd.DataFrame(cols, copy=False)  # the arrays are fresh: no need to copy them again


# =========================================================================== facts functions
def _f_businesses_formed(ctx: FactContext) -> pd.DataFrame:
    b = ctx.businesses
    return ctx.facts(comm=b.comm, date=b.frame["started_on"], sex=b.sex, status=b.status)


def business_activity_end(ctx: FactContext) -> np.ndarray:
    """The day each business stops being active (NaT while active).

    ``closed_on`` when the business closed. A business whose current status is dormant
    (and has no closure date) stops on the first day of the month after its last report
    with positive volume, or on its start date if it never reported a positive volume.
    """
    b = ctx.businesses
    end = _dates(b.frame["closed_on"]).copy()
    dormant = _bools(b.frame["status"] == "dormant") & np.isnat(end)
    if dormant.any():
        r = ctx.reports
        rows = np.flatnonzero((r["revenue"] > 0) & _take(dormant, r["pos"], False))
        last = _group_min_dates(r["pos"][rows], r["date"][rows], len(b.comm), how="max")
        after = (last.astype("datetime64[M]") + 1).astype("datetime64[ms]")
        start = _dates(b.frame["started_on"])
        end[dormant] = np.where(np.isnat(last), start, after)[dormant]
    return end


def _f_businesses_active(ctx: FactContext) -> pd.DataFrame:
    b = ctx.businesses
    end = business_activity_end(ctx)
    ends = ~np.isnat(end)
    return ctx.facts(comm=np.concatenate([b.comm, b.comm[ends]]),
                     date=np.concatenate([_dates(b.frame["started_on"]), end[ends]]),
                     num=np.concatenate([np.ones(len(b.comm)), -np.ones(ends.sum())]),
                     sex=np.concatenate([b.sex, b.sex[ends]]),
                     status=np.concatenate([b.status, b.status[ends]]))


def _f_business_volume(ctx: FactContext) -> pd.DataFrame:
    r = ctx.reports
    ok = ~np.isnan(r["revenue"]) & (r["pos"] >= 0)
    return ctx.facts(comm=r["comm"][ok], date=r["date"][ok], num=r["revenue"][ok], sex=r["sex"][ok],
                     status=r["status"][ok], unit=r["pos"][ok], unit_labels=ctx.businesses.labels)


def _f_groups(kind: str | None) -> Callable[[FactContext], pd.DataFrame]:
    def facts(ctx: FactContext) -> pd.DataFrame:
        g, comm = ctx.events("groups", kind)
        return ctx.facts(comm=comm, date=g["formed_on"])
    facts.__name__ = f"_f_groups_{kind or 'all'}"
    return facts


def _f_kur_applications(ctx: FactContext) -> pd.DataFrame:
    k = ctx.loans
    return ctx.facts(comm=k["comm"], date=k["applied"], sex=k["sex"], status=k["status"])


def _f_kur_approved(ctx: FactContext) -> pd.DataFrame:
    k = ctx.loans
    a = k["approved"]
    return ctx.facts(comm=k["comm"][a], date=k["approval_date"][a], sex=k["sex"][a], status=k["status"][a])


def _f_kur_approval_rate(ctx: FactContext) -> pd.DataFrame:
    k = ctx.loans
    return ctx.facts(comm=k["comm"], date=k["applied"], num=k["approved"].astype(float), den=1.0,
                     sex=k["sex"], status=k["status"])


def _f_kur_amount(ctx: FactContext) -> pd.DataFrame:
    k = ctx.loans
    a = k["approved"] & ~np.isnan(k["amount"])
    return ctx.facts(comm=k["comm"][a], date=k["approval_date"][a], num=k["amount"][a], den=1.0,
                     sex=k["sex"][a], status=k["status"][a])


def _f_kur_uptake(ctx: FactContext) -> pd.DataFrame:
    m = ctx.members
    eligible = np.isin(m.status, [STATUS_KEYS.index(s) for s in KUR_ELIGIBLE_STATUS])
    joined = _dates(m.frame["joined_on"])
    k = ctx.loans
    first = _group_min_dates(np.where(k["approved"], k["member"], -1), k["approval_date"], len(m.comm))
    first = np.where(np.isnat(first) | (first >= joined), first, joined)  # counted from joining on
    has = eligible & ~np.isnat(first)
    idx = np.concatenate([np.flatnonzero(eligible), np.flatnonzero(has)])
    n_den = int(eligible.sum())
    return ctx.facts(comm=m.comm[idx], date=np.concatenate([joined[eligible], first[has]]),
                     num=np.r_[np.zeros(n_den), np.ones(len(idx) - n_den)],
                     den=np.r_[np.ones(n_den), np.zeros(len(idx) - n_den)],
                     sex=m.sex[idx], status=m.status[idx])


def _f_consultations(ctx: FactContext) -> pd.DataFrame:
    c, comm = ctx.events("consultations")
    return ctx.facts(comm=comm, date=c["held_on"])


def _f_services(kind: str | None, column: str | None = None) -> Callable[[FactContext], pd.DataFrame]:
    def facts(ctx: FactContext) -> pd.DataFrame:
        s, comm = ctx.events("info_services", kind)
        num = 1.0 if column is None else np.nan_to_num(_floats(s[column]))
        return ctx.facts(comm=comm, date=s["held_on"], num=num)
    facts.__name__ = f"_f_services_{kind or 'any'}_{column or 'events'}"
    return facts


def _f_advocacy_cases(ctx: FactContext) -> pd.DataFrame:
    c = ctx.cases
    return ctx.facts(comm=c["comm"], date=c["opened"], sex=c["sex"], status=c["status"])


_OUTCOMES = tuple(VOCABULARIES["case_outcome"])


def _f_advocacy_resolved(ctx: FactContext) -> pd.DataFrame:
    c = ctx.cases
    r = c["outcome"] == _OUTCOMES.index("resolved")
    return ctx.facts(comm=c["comm"][r], date=c["decided_on"][r], sex=c["sex"][r], status=c["status"][r])


def _f_advocacy_resolution_rate(ctx: FactContext) -> pd.DataFrame:
    c = ctx.cases
    decided = (c["outcome"] >= 0) & (c["outcome"] != _OUTCOMES.index("ongoing"))
    resolved = (c["outcome"] == _OUTCOMES.index("resolved")).astype(float)
    return ctx.facts(comm=c["comm"][decided], date=c["decided_on"][decided], num=resolved[decided], den=1.0,
                     sex=c["sex"][decided], status=c["status"][decided])


def _f_advocacy_days(ctx: FactContext) -> pd.DataFrame:
    c = ctx.cases
    r = (c["outcome"] == _OUTCOMES.index("resolved")) & ~np.isnat(c["closed"])
    days = (c["closed"][r] - c["opened"][r]) / np.timedelta64(1, "D")
    return ctx.facts(comm=c["comm"][r], date=c["closed"][r], num=days, den=1.0, sex=c["sex"][r],
                     status=c["status"][r])


def _f_prevention(column: str | None) -> Callable[[FactContext], pd.DataFrame]:
    def facts(ctx: FactContext) -> pd.DataFrame:
        p, comm = ctx.events("prevention_events")
        num = 1.0 if column is None else np.nan_to_num(_floats(p[column]))
        return ctx.facts(comm=comm, date=p["held_on"], num=num)
    facts.__name__ = f"_f_prevention_{column or 'events'}"
    return facts


def _f_members(ctx: FactContext) -> pd.DataFrame:
    m = ctx.members
    return ctx.facts(comm=m.comm, date=m.frame["joined_on"], sex=m.sex, status=m.status)


# =========================================================================== the registry
@dataclass(frozen=True, repr=False)
class Indicator:
    """One empowerment indicator.

    Attributes
    ----------
    id : str
        Stable identifier (used in tables and file names; never renamed).
    domain : str
        ``'economic'``, ``'information'``, ``'advocacy'`` or ``'membership'``.
    label_id, label_en : str
        Short name in Bahasa Indonesia and English.
    definition_id, definition_en : str
        Full definition (what is counted, the date that places it in a period).
    numerator, denominator : str or None
        What the numerator and denominator columns hold (``denominator`` None: empty).
    unit : str
        ``'count'``, ``'people'``, ``'proportion'``, ``'rupiah'``, ``'rupiah_per_business'``,
        ``'rupiah_per_loan'``, ``'days'``, ``'ratio'``.
    direction : int
        +1 higher is better, -1 lower is better, 0 neutral.
    kind : str
        How values aggregate, one of :data:`KINDS`.
    facts : callable
        ``facts(FactContext) -> DataFrame``, see :meth:`FactContext.facts`.
    disaggregations : tuple of str
        Allowed among ``('sex', 'status')``.
    stock : bool
        True for values at period end (see the module docstring).
    base : str, optional
        For ``kind='growth'``: the ``total`` indicator whose change it is.
    sources : tuple of str
        Processed tables used.
    """

    id: str
    domain: str
    label_id: str
    label_en: str
    definition_id: str
    definition_en: str
    numerator: str
    denominator: str | None
    unit: str
    direction: int
    kind: str
    facts: Callable[[FactContext], pd.DataFrame] = field(repr=False, compare=False)
    disaggregations: tuple[str, ...] = ()
    stock: bool = False
    base: str | None = None
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.id}: kind must be one of {KINDS}")
        if self.direction not in (-1, 0, 1):
            raise ValueError(f"{self.id}: direction must be -1, 0 or +1")
        if not set(self.disaggregations) <= set(DISAGGREGATIONS):
            raise ValueError(f"{self.id}: disaggregations must be among {DISAGGREGATIONS}")
        if self.stock and self.kind not in ("count", "proportion"):
            raise ValueError(f"{self.id}: only count and proportion indicators can be stocks")
        if (self.kind == "growth") != (self.base is not None):
            raise ValueError(f"{self.id}: growth indicators (and only they) name a base")

    def __repr__(self) -> str:
        flags = ", stock" if self.stock else ""
        sign = {1: "+1 higher is better", -1: "-1 lower is better", 0: "0 neutral"}[self.direction]
        return (f"<Indicator {self.id}: {self.label_en} / {self.label_id} [{self.kind}, {self.unit}{flags}, "
                f"{sign}]>")

    @property
    def time_additive(self) -> bool:
        """Whether the numerator adds up over periods (flows of additive kinds)."""
        return not self.stock and self.kind not in ("median", "growth")

    def compute(self, data: ProgramData, **kwargs: Any) -> pd.DataFrame:
        """:func:`compute_indicators` for this indicator only."""
        return compute_indicators(data, self.id, **kwargs)


_SEX_STATUS = ("sex", "status")
_I = Indicator
_INDICATORS: tuple[Indicator, ...] = (
    # ------------------------------------------------------------ economic empowerment
    _I("businesses_formed", "economic", "Unit usaha terbentuk", "Business units formed",
       "Jumlah unit usaha (milik anggota atau kelompok) yang tanggal mulai usahanya jatuh dalam periode. "
       "Pilahan jenis kelamin/status menurut pemilik; usaha milik kelompok masuk 'unknown'.",
       "Business units (owned by a member or by a group) whose start date falls in the period. Sex and "
       "status are the owner's; group-owned businesses fall under 'unknown'.",
       "businesses started in the period", None, "count", 1, "count", _f_businesses_formed,
       _SEX_STATUS, sources=("businesses", "members")),
    _I("businesses_active", "economic", "Usaha aktif (akhir periode)", "Active businesses (at period end)",
       "Jumlah usaha yang berjalan pada hari terakhir periode: sudah mulai dan belum tutup. Usaha berstatus "
       "vakum dihitung aktif sampai akhir bulan terakhir dengan omzet positif (tidak pernah, bila tidak "
       "pernah melapor omzet positif).",
       "Businesses operating on the last day of the period: started and not closed. A business whose "
       "current status is dormant counts as active until the end of its last month with positive reported "
       "volume (never, if it never reported a positive volume).",
       "businesses active at period end", None, "count", 1, "count", _f_businesses_active, _SEX_STATUS,
       stock=True, sources=("businesses", "business_reports", "members")),
    _I("business_volume_total", "economic", "Volume usaha (total omzet)", "Business volume (total turnover)",
       "Jumlah omzet bulanan (Rp) yang dilaporkan usaha untuk bulan-bulan dalam periode. Penyebut: jumlah "
       "usaha yang melaporkan omzet dalam periode.",
       "Sum of the monthly turnover (Rp) businesses reported for the months in the period. Denominator: "
       "businesses reporting a volume in the period (for suppression; value = numerator).",
       "sum of reported monthly turnover (Rp)", "businesses reporting a volume in the period", "rupiah", 1,
       "total", _f_business_volume, _SEX_STATUS, sources=("business_reports", "businesses", "members")),
    _I("business_volume_mean", "economic", "Rata-rata volume per usaha", "Mean business volume per business",
       "Total omzet dalam periode dibagi jumlah usaha yang melapor; volume satu usaha = jumlah omzet "
       "bulanannya dalam periode. Selang kepercayaan t 95% (perkiraan).",
       "Total volume in the period divided by the businesses reporting; a business's volume is the sum of "
       "its monthly turnover in the period. Approximate t 95% interval.",
       "sum of reported monthly turnover (Rp)", "businesses reporting a volume in the period",
       "rupiah_per_business", 1, "mean", _f_business_volume, _SEX_STATUS,
       sources=("business_reports", "businesses", "members")),
    _I("business_volume_median", "economic", "Median volume per usaha", "Median business volume per business",
       "Median, di antara usaha yang melapor, dari volume usaha dalam periode (jumlah omzet bulanannya).",
       "Median over the businesses reporting of their volume in the period (sum of their monthly turnover).",
       "(none)", "businesses reporting a volume in the period", "rupiah_per_business", 1, "median",
       _f_business_volume, _SEX_STATUS, sources=("business_reports", "businesses", "members")),
    _I("business_volume_growth", "economic", "Pertumbuhan volume usaha", "Business volume growth",
       "Perubahan relatif total omzet dibanding periode sebelumnya: (V_t - V_{t-1}) / V_{t-1}. Mencakup "
       "usaha baru, usaha tutup dan perubahan pelaporan; perkembangan per usaha dibaca dari rata-rata/median.",
       "Relative change of total volume from the previous period: (V_t - V_{t-1}) / V_{t-1}. It mixes "
       "businesses entering, leaving and (not) reporting with the growth of existing ones; per-business "
       "development is read from the mean and median. No value for the first period or period=None.",
       "change of total volume from the previous period (Rp)", "total volume in the previous period (Rp)",
       "ratio", 1, "growth", _f_business_volume, _SEX_STATUS, base="business_volume_total",
       sources=("business_reports", "businesses", "members")),
    _I("groups_formed", "economic", "Kelompok usaha/koperasi terbentuk", "Business groups and cooperatives formed",
       "Jumlah kelompok usaha bersama (KUB) dan koperasi yang dibentuk dalam periode.",
       "Joint business groups (KUB) and cooperatives formed in the period.",
       "groups and cooperatives formed in the period", None, "count", 1, "count", _f_groups(None),
       sources=("groups",)),
    _I("cooperatives_formed", "economic", "Koperasi terbentuk", "Cooperatives formed",
       "Jumlah koperasi yang dibentuk dalam periode.", "Cooperatives formed in the period.",
       "cooperatives formed in the period", None, "count", 1, "count", _f_groups("cooperative"),
       sources=("groups",)),
    _I("kur_applications", "economic", "Pengajuan KUR", "KUR applications",
       "Jumlah pengajuan Kredit Usaha Rakyat oleh anggota dengan tanggal pengajuan dalam periode.",
       "Applications for Kredit Usaha Rakyat (people's business credit) by members, dated by application.",
       "applications made in the period", None, "count", 1, "count", _f_kur_applications, _SEX_STATUS,
       sources=("kur_loans", "members")),
    _I("kur_loans_approved", "economic", "KUR disetujui", "KUR loans approved",
       "Jumlah pengajuan KUR yang disetujui, menurut tanggal persetujuan (tanggal pengajuan bila kosong).",
       "KUR applications approved, dated by approval (by application when the approval date is missing).",
       "applications approved in the period", None, "count", 1, "count", _f_kur_approved, _SEX_STATUS,
       sources=("kur_loans", "members")),
    _I("kur_approval_rate", "economic", "Tingkat persetujuan KUR", "KUR approval rate",
       "Proporsi pengajuan KUR yang disetujui, di antara pengajuan dengan tanggal pengajuan dalam periode.",
       "Share of the KUR applications made in the period that were approved.",
       "applications made in the period and approved", "applications made in the period", "proportion", 1,
       "proportion", _f_kur_approval_rate, _SEX_STATUS, sources=("kur_loans", "members")),
    _I("kur_uptake", "economic", "Pemanfaatan KUR oleh anggota", "KUR uptake among eligible members",
       "Proporsi anggota yang memenuhi syarat (PMI purna dan keluarga PMI) yang pernah memperoleh KUR "
       "disetujui sampai akhir periode, di antara anggota yang memenuhi syarat dan sudah bergabung sampai "
       "akhir periode. Status = status terakhir. Calon PMI (skema KUR penempatan) dan PMI aktif (di luar "
       "negeri) tidak termasuk.",
       "Share of eligible members (PMI purna and family members) with at least one approved KUR loan by the "
       "period end, among eligible members who had joined by then. Status is the last recorded status. "
       "Calon PMI (placement KUR scheme) and PMI abroad are not eligible for business KUR here. A loan "
       "approved before joining counts from the joining date.",
       "eligible members with an approved KUR loan by period end", "eligible members at period end",
       "proportion", 1, "proportion", _f_kur_uptake, _SEX_STATUS, stock=True,
       sources=("members", "kur_loans")),
    _I("kur_amount_total", "economic", "Total plafon KUR disetujui", "Total KUR amount approved",
       "Jumlah plafon (Rp) KUR yang disetujui dalam periode (menurut tanggal persetujuan). Penyebut: jumlah "
       "pinjaman disetujui yang plafonnya tercatat.",
       "Sum of the approved KUR amounts (Rp), dated by approval. Denominator: approved loans with a "
       "recorded amount (for suppression; value = numerator).",
       "sum of approved amounts (Rp)", "approved loans with an amount", "rupiah", 1, "total", _f_kur_amount,
       _SEX_STATUS, sources=("kur_loans", "members")),
    _I("kur_amount_mean", "economic", "Rata-rata plafon KUR disetujui", "Mean KUR amount approved",
       "Rata-rata plafon (Rp) per pinjaman KUR yang disetujui dalam periode. Selang kepercayaan t 95%.",
       "Mean approved amount (Rp) per KUR loan approved in the period; t 95% interval.",
       "sum of approved amounts (Rp)", "approved loans with an amount", "rupiah_per_loan", 1, "mean",
       _f_kur_amount, _SEX_STATUS, sources=("kur_loans", "members")),
    _I("business_consultations", "economic", "Konsultasi usaha dengan pihak luar",
       "Business consultations with outside parties",
       "Jumlah konsultasi pengembangan usaha dengan pihak luar (bank, pemerintah, perguruan tinggi, LSM, "
       "swasta) dalam periode.",
       "Business-development consultations with outside parties (banks, government, universities, NGOs, "
       "private firms) held in the period.",
       "consultations held in the period", None, "count", 1, "count", _f_consultations,
       sources=("consultations",)),
    # ------------------------------------------------------------ information services
    _I("dissemination_events", "information", "Kegiatan diseminasi/sosialisasi", "Dissemination events",
       "Jumlah kegiatan diseminasi/sosialisasi dalam periode.", "Dissemination events held in the period.",
       "dissemination events in the period", None, "count", 1, "count", _f_services("dissemination"),
       sources=("info_services",)),
    _I("dissemination_reach", "information", "Orang terjangkau diseminasi", "People reached by dissemination",
       "Jumlah peserta kegiatan diseminasi dalam periode (kegiatan tanpa jumlah peserta dihitung 0; orang "
       "yang hadir beberapa kali terhitung beberapa kali).",
       "Attendees of dissemination events in the period (events without an attendee count add 0; people "
       "attending several events count several times).",
       "attendees of dissemination events", None, "people", 1, "count",
       _f_services("dissemination", "attendees"), sources=("info_services",)),
    _I("information_services", "information", "Layanan informasi", "Information services",
       "Jumlah layanan informasi (migrasi aman, lowongan, prosedur) yang diberikan dalam periode.",
       "Information services (safe migration, vacancies, procedures) given in the period.",
       "information services in the period", None, "count", 1, "count", _f_services("information_service"),
       sources=("info_services",)),
    _I("information_service_reach", "information", "Penerima layanan informasi",
       "People served by information services",
       "Jumlah penerima layanan informasi dalam periode (tanpa jumlah: 0).",
       "People served by information services in the period (services without a count add 0).",
       "people served", None, "people", 1, "count", _f_services("information_service", "attendees"),
       sources=("info_services",)),
    _I("placement_facilitations", "information", "Fasilitasi penempatan prosedural",
       "Procedural placement facilitation events",
       "Jumlah kegiatan fasilitasi proses penempatan prosedural dalam periode.",
       "Events facilitating the procedural placement process in the period.",
       "facilitation events in the period", None, "count", 1, "count",
       _f_services("placement_facilitation"), sources=("info_services",)),
    _I("placements_facilitated", "information", "Penempatan prosedural difasilitasi",
       "Procedural placements facilitated",
       "Jumlah calon PMI yang penempatan prosedurnya difasilitasi, dari semua kegiatan layanan dalam periode.",
       "Prospective migrant workers whose procedural placement was facilitated, over all service events "
       "in the period.",
       "placements facilitated", None, "people", 1, "count", _f_services(None, "placements_facilitated"),
       sources=("info_services",)),
    # ------------------------------------------------------------ advocacy
    _I("advocacy_cases", "advocacy", "Kasus PMI didampingi", "Advocacy cases facilitated",
       "Jumlah kasus PMI bermasalah yang didampingi komunitas, menurut tanggal pengaduan. Pilahan menurut "
       "anggota yang bersangkutan ('unknown' bila bukan anggota).",
       "Cases of migrant workers in trouble that the community assisted, dated by report. Sex and status "
       "are those of the member concerned ('unknown' for non-members). Neutral direction: more cases mean "
       "more reach but also more trouble.",
       "cases reported in the period", None, "count", 0, "count", _f_advocacy_cases, _SEX_STATUS,
       sources=("advocacy_cases", "members")),
    _I("advocacy_cases_resolved", "advocacy", "Kasus advokasi selesai", "Advocacy cases resolved",
       "Jumlah kasus yang selesai (tuntas), menurut tanggal selesai (tanggal pengaduan bila kosong).",
       "Cases resolved, dated by closure (by report when the closure date is missing).",
       "cases resolved in the period", None, "count", 1, "count", _f_advocacy_resolved, _SEX_STATUS,
       sources=("advocacy_cases", "members")),
    _I("advocacy_resolution_rate", "advocacy", "Tingkat penyelesaian kasus", "Advocacy resolution rate",
       "Proporsi kasus selesai di antara kasus yang sudah diputuskan (selesai, dirujuk, tidak selesai) dalam "
       "periode, menurut tanggal selesai (tanggal pengaduan bila kosong). Kasus dirujuk tidak dihitung "
       "selesai; kasus dalam proses tidak dihitung.",
       "Share resolved among cases decided (resolved, referred or unresolved) in the period, dated by "
       "closure (by report when missing). Referred cases are not resolved; ongoing cases are left out.",
       "cases resolved", "cases decided (resolved, referred, unresolved)", "proportion", 1, "proportion",
       _f_advocacy_resolution_rate, _SEX_STATUS, sources=("advocacy_cases", "members")),
    _I("advocacy_days_to_resolution", "advocacy", "Lama penyelesaian kasus (median hari)",
       "Time to resolution (median days)",
       "Median jumlah hari dari pengaduan sampai selesai, untuk kasus selesai dengan tanggal selesai dalam "
       "periode.",
       "Median days from report to closure of the cases resolved (with a closure date) in the period.",
       "(none)", "resolved cases with a closure date", "days", -1, "median", _f_advocacy_days, _SEX_STATUS,
       sources=("advocacy_cases", "members")),
    _I("prevention_events", "advocacy", "Kegiatan pencegahan nonprosedural",
       "Non-procedural placement prevention events",
       "Jumlah kegiatan pencegahan penempatan nonprosedural dalam periode.",
       "Activities to prevent non-procedural (irregular) placement held in the period.",
       "prevention events in the period", None, "count", 1, "count", _f_prevention(None),
       sources=("prevention_events",)),
    _I("prevention_reach", "advocacy", "Orang terjangkau pencegahan", "People reached by prevention",
       "Jumlah orang yang dijangkau kegiatan pencegahan dalam periode (tanpa jumlah: 0).",
       "People reached by prevention activities in the period (activities without a count add 0).",
       "people reached", None, "people", 1, "count", _f_prevention("people_reached"),
       sources=("prevention_events",)),
    _I("people_dissuaded", "advocacy", "Orang batal berangkat nonprosedural",
       "People dissuaded from non-procedural placement",
       "Jumlah orang yang batal berangkat secara nonprosedural berkat kegiatan pencegahan dalam periode.",
       "People dissuaded from departing non-procedurally by the prevention activities of the period.",
       "people dissuaded", None, "people", 1, "count", _f_prevention("people_dissuaded"),
       sources=("prevention_events",)),
    # ------------------------------------------------------------ membership
    _I("members", "membership", "Anggota (akhir periode)", "Members (at period end)",
       "Jumlah anggota yang sudah bergabung sampai hari terakhir periode (register tidak mencatat keluar). "
       "Pilahan status menurut status terakhir: calon PMI, PMI aktif, PMI purna, keluarga.",
       "Members who had joined by the last day of the period (the register records no leaving). Status is "
       "the last recorded status: calon PMI, PMI abroad, PMI purna, family.",
       "members joined by period end", None, "count", 1, "count", _f_members, _SEX_STATUS, stock=True,
       sources=("members",)),
    _I("members_joined", "membership", "Anggota baru", "New members",
       "Jumlah anggota yang bergabung dalam periode.", "Members who joined in the period.",
       "members joined in the period", None, "count", 1, "count", _f_members, _SEX_STATUS,
       sources=("members",)),
)
del _I

#: Every indicator, by id, in presentation order.
REGISTRY: dict[str, Indicator] = {ind.id: ind for ind in _INDICATORS}


def list_indicators() -> pd.DataFrame:
    """The indicator registry as a table (for notebooks and the indicator codebook).

    Returns
    -------
    DataFrame
        One row per indicator: ``id, domain, label_id, label_en, definition_id,
        definition_en, numerator, denominator, unit, direction, kind, stock,
        disaggregations, sources``.
    """
    rows = [{"id": i.id, "domain": i.domain, "label_id": i.label_id, "label_en": i.label_en,
             "definition_id": i.definition_id, "definition_en": i.definition_en, "numerator": i.numerator,
             "denominator": i.denominator, "unit": i.unit, "direction": i.direction, "kind": i.kind,
             "stock": i.stock, "disaggregations": ", ".join(i.disaggregations) or "(none)",
             "sources": ", ".join(i.sources)} for i in REGISTRY.values()]
    return pd.DataFrame(rows).astype({c: "string" for c in ("id", "domain", "label_id", "label_en",
                                                            "definition_id", "definition_en", "numerator",
                                                            "denominator", "unit", "kind",
                                                            "disaggregations", "sources")})


def with_labels(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with each row's indicator ``label_id``, ``label_en`` and ``unit`` added (from the registry).

    Charts (:mod:`kkbm_analysis.viz`) know no registry: a frame of one indicator that
    carries these columns gets its axis label and percent format from them.
    """
    ids = table["indicator_id"].astype("string")
    meta = {c: ids.map({k: getattr(v, c) for k, v in REGISTRY.items()}).astype("string")
            for c in ("label_id", "label_en", "unit")}
    return table.assign(**meta)


def _resolve(indicators: str | Indicator | Iterable[str | Indicator] | None) -> list[Indicator]:
    if indicators is None:
        return list(REGISTRY.values())
    if isinstance(indicators, (str, Indicator)):
        indicators = [indicators]
    out = []
    for i in indicators:
        if isinstance(i, Indicator):
            out.append(i)
        elif i in REGISTRY:
            out.append(REGISTRY[i])
        else:
            raise KeyError(f"unknown indicator {i!r}; known: {', '.join(REGISTRY)}")
    return out


def indicator_facts(data: ProgramData, indicator: str | Indicator) -> pd.DataFrame:
    """The facts frame of one indicator (see the module docstring), for inspection.

    Parameters
    ----------
    data : ProgramData
    indicator : str or Indicator

    Returns
    -------
    DataFrame
        ``community_id, date, sex, status, num`` (+ ``den``, ``unit`` when used).
    """
    (ind,) = _resolve(indicator)
    return ind.facts(FactContext(data))


# =========================================================================== span and grids
def data_span(data: ProgramData) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last activity date in the data (the default period grid).

    Uses the dated columns of :data:`SPAN_COLUMNS`; a report month counts to its last day.

    Raises
    ------
    ValueError
        If the data holds no dated activity.
    """
    lo, hi = [], []
    for table, cols in SPAN_COLUMNS.items():
        df = data.tables.get(table)
        if df is None or not len(df):
            continue
        for c in cols:
            d = _dates(df[c])
            d = d[~np.isnat(d)]
            if not len(d):
                continue
            lo.append(d.min())
            top = d.max()
            if table == "business_reports":
                top = ((top.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1).astype("datetime64[ms]")
            hi.append(top)
    if not lo:
        raise ValueError("the data hold no dated activity: cannot place indicators in periods")
    return pd.Timestamp(min(lo)).normalize(), pd.Timestamp(max(hi)).normalize()


@dataclass(frozen=True)
class _PeriodGrid:
    period: str | None
    start_day: int
    end_day: int
    start_abs: int
    labels: np.ndarray

    @property
    def n(self) -> int:
        return len(self.labels)


_DIVISOR = {"year": 12, "quarter": 3, "month": 1}


def _period_grid(span: tuple[pd.Timestamp, pd.Timestamp], period: str | None) -> _PeriodGrid:
    start, end = (np.datetime64(s.date(), "D") for s in span)
    sd, ed = int(start.astype(np.int64)), int(end.astype(np.int64))
    if period is None:
        return _PeriodGrid(None, sd, ed, 0, np.array(["all"], dtype=object))
    div = _DIVISOR[period]
    m0 = int(start.astype("datetime64[M]").astype(np.int64)) // div
    m1 = int(end.astype("datetime64[M]").astype(np.int64)) // div
    idx = np.arange(m0, m1 + 1)
    months = idx * div
    years = 1970 + months // 12
    if period == "year":
        labels = [str(y) for y in years]
    elif period == "quarter":
        labels = [f"{y}-Q{(m % 12) // 3 + 1}" for y, m in zip(years, months)]
    else:
        labels = [f"{y}-{m % 12 + 1:02d}" for y, m in zip(years, months)]
    return _PeriodGrid(period, sd, ed, m0, np.array(labels, dtype=object))


@dataclass(frozen=True)
class _FactArrays:
    """A facts frame as aligned numpy arrays."""

    comm: np.ndarray
    day: np.ndarray
    month: np.ndarray
    sex: np.ndarray
    status: np.ndarray
    num: np.ndarray
    den: np.ndarray | None
    unit: np.ndarray | None


def _day_month(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days and months since 1970 of ``datetime64[ms]`` dates (``_NAT`` where missing).

    Integer arithmetic and a small day -> month table: much faster than numpy's calendar
    conversions on millions of dates.
    """
    ms = dates.view(np.int64)
    nat = ms == _NAT
    day = ms // 86_400_000
    day[nat] = _NAT
    month = np.full(len(day), _NAT, dtype=np.int64)
    ok = ~nat
    if ok.any():
        d = day[ok]
        lo, hi = int(d.min()), int(d.max())
        table = np.arange(lo, hi + 1).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        month[ok] = table[d - lo]
    return day, month


def _codes(col: pd.Series, categories: Sequence[str] | pd.Index) -> np.ndarray:
    if isinstance(col.dtype, pd.CategoricalDtype) and list(col.cat.categories) == list(categories):
        return col.cat.codes.to_numpy().astype(np.int64)
    return _lookup(col.astype("string"), _arrow_strings(pd.Series(list(categories), dtype="string")))


def _fact_arrays(df: pd.DataFrame, ctx: FactContext) -> _FactArrays:
    col = df["community_id"]
    if isinstance(col.dtype, pd.CategoricalDtype) and col.cat.categories is ctx.community_ids:
        comm = col.cat.codes.to_numpy().astype(np.int64)
    else:
        comm = ctx.community_codes(col.astype("string"))
    day, month = _day_month(_dates(df["date"]))
    n = len(df)
    sex = _codes(df["sex"], SEX_KEYS) if "sex" in df else np.full(n, -1, dtype=np.int64)
    status = _codes(df["status"], STATUS_KEYS) if "status" in df else np.full(n, -1, dtype=np.int64)
    unit = None
    if "unit" in df:
        u = df["unit"]
        unit = (u.cat.codes.to_numpy().astype(np.int64) if isinstance(u.dtype, pd.CategoricalDtype)
                else pd.factorize(u)[0].astype(np.int64))
    return _FactArrays(comm, day, month, sex.astype(np.int64), status.astype(np.int64),
                       _floats(df["num"]), _floats(df["den"]) if "den" in df else None, unit)


# =========================================================================== aggregation
def _wilson(num: np.ndarray, den: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(num, den, alpha=0.05, method="wilson")
    return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


def _t_interval(mean: np.ndarray, sumsq: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from scipy.stats import t

    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.maximum(sumsq - n * mean**2, 0) / (n - 1)
        half = t.ppf(0.975, np.maximum(n - 1, 1)) * np.sqrt(var / n)
    half = np.where(n >= 2, half, np.nan)
    return mean - half, mean + half


def _group_median(key: np.ndarray, values: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Median of ``values`` per ``key`` (NaN where a key has none) and counts per key.

    Values are grouped by key with a stable radix sort (16-bit keys) or a merge sort, and
    each group's median found by partial sorting, so the cost stays close to linear.
    """
    counts = np.bincount(key, minlength=n_keys)
    med = np.full(n_keys, np.nan)
    if not len(key):
        return med, counts
    nonempty = np.flatnonzero(counts)
    if len(nonempty) > 50_000:  # many small groups: one vectorised lexsort is cheaper than a loop
        order = np.lexsort((values, key))
        v = values[order]
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[nonempty]
        c = counts[nonempty]
        med[nonempty] = (v[starts + (c - 1) // 2] + v[starts + c // 2]) / 2
        return med, counts
    k = key.astype(np.int16) if n_keys < 2**15 else key
    v = values[np.argsort(k, kind="stable")]
    ends = np.cumsum(counts)
    for g in nonempty:
        med[g] = np.median(v[ends[g] - counts[g]:ends[g]])
    return med, counts


def _unit_sums(unit: np.ndarray, p: np.ndarray, n_periods: int, rows: np.ndarray,
               num: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum facts per (unit, period): (one fact row of each pair, its period, the sum).

    A unit (e.g. a business) has one community, sex and status, so any of its facts
    carries its region and category. Processed tables are sorted by their key
    (business, month), so pairs usually come in runs and one pass suffices; otherwise
    they are sorted first.
    """
    pair = unit * n_periods + p
    if len(pair) > 1 and not (pair[1:] >= pair[:-1]).all():
        order = np.argsort(pair, kind="stable")
        pair, p, rows, num = pair[order], p[order], rows[order], num[order]
    if not len(pair):
        return rows, p, num
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    return rows[starts], p[starts], np.add.reduceat(num, starts)


@dataclass
class _Sums:
    """Additive sums of one facts frame for one (level, period, disaggregation) cut."""

    num: np.ndarray          # per dense key
    den: np.ndarray          # per dense key (distinct units when facts carry a unit)
    pair_key: np.ndarray     # key of each unit (or fact), for medians and t intervals
    unit_vals: np.ndarray    # value of each unit (or fact)
    labels: list[str]
    has_unknown: bool
    shape: tuple[int, int, int]


class _Engine:
    """Facts built once per data; any (level, period, by) cut aggregated from them.

    Caches, all shared by the indicators of a call: facts per facts function; each
    facts frame's region and period codes per (level, period); and its sums per cut,
    so e.g. the four business-volume indicators sum the 9 million monthly reports once.
    """

    def __init__(self, data: ProgramData, span: tuple[Any, Any] | None = None) -> None:
        self.data = data
        self.ctx = FactContext(data)
        self.span = (tuple(pd.Timestamp(s).normalize() for s in span) if span is not None
                     else data_span(data))
        if self.span[1] < self.span[0]:
            raise ValueError(f"span ends before it starts: {self.span}")
        self._facts: dict[Any, _FactArrays] = {}
        self._regions: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._placed: dict[Any, tuple[Any, ...]] = {}
        self._sums: dict[Any, _Sums] = {}

    def clear_cut_caches(self) -> None:
        """Forget per-period arrays (after each period in :func:`indicator_table`)."""
        self._placed.clear()
        self._sums.clear()

    def facts(self, ind: Indicator) -> _FactArrays:
        key = ind.facts  # indicators sharing a facts function share the facts
        if key not in self._facts:
            self._facts[key] = _fact_arrays(ind.facts(self.ctx), self.ctx)
        return self._facts[key]

    def regions(self, level: str) -> tuple[np.ndarray, np.ndarray]:
        """Community -> region index at ``level`` (-1: no code), and the region codes."""
        if level not in self._regions:
            col = REGION_LEVELS[level]
            n = len(self.ctx.community_ids)
            if col is None:
                self._regions[level] = (np.zeros(n, dtype=np.int64), np.array([NATIONAL_CODE], dtype=object))
            else:
                values = self.data.communities[col].astype("string")
                codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
                self._regions[level] = (codes.astype(np.int64), np.asarray(uniques, dtype=object))
        return self._regions[level]

    def timed(self, ind: Indicator, grid: _PeriodGrid) -> tuple[np.ndarray | None, np.ndarray]:
        """(facts used, or None for all; their period index) on a period grid.

        Flow facts outside the span are dropped; stock facts before it count in the first
        period (the opening stock), after it are dropped. Facts of unknown communities or
        without a date are dropped.
        """
        ck = ("timed", ind.facts, grid.period, ind.stock)
        if ck not in self._placed:
            F = self.facts(ind)
            valid = (F.comm >= 0) & (F.day != _NAT) & (F.day <= grid.end_day)
            if not ind.stock:
                valid &= F.day >= grid.start_day
            sel = None if valid.all() else np.flatnonzero(valid)
            if grid.period is None:
                p = np.zeros(len(F.day) if sel is None else len(sel), dtype=np.int64)
            else:
                p = (F.month if sel is None else F.month[sel]) // _DIVISOR[grid.period] - grid.start_abs
                if ind.stock:
                    np.maximum(p, 0, out=p)
            self._placed[ck] = (sel, p)
        return self._placed[ck]

    def units(self, ind: Indicator, grid: _PeriodGrid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-unit sums for a period grid: (a fact of each (unit, period), period, sum).

        Independent of the region level and disaggregation, which are attributes of the
        unit: so the 9 million monthly reports are summed once per period grid.
        """
        ck = ("units", ind.facts, grid.period, ind.stock)
        if ck not in self._placed:
            F = self.facts(ind)
            sel, p = self.timed(ind, grid)
            rows = np.arange(len(F.unit)) if sel is None else sel
            self._placed[ck] = _unit_sums(F.unit[rows], p, grid.n, rows, F.num[rows])
        return self._placed[ck]

    def sums(self, ind: Indicator, level: str, grid: _PeriodGrid, by: str | None) -> _Sums:
        """Additive sums of an indicator's facts for one cut (shared by indicators with the same facts)."""
        ck = (ind.facts, level, grid.period, ind.stock, by)
        if ck in self._sums:
            return self._sums[ck]
        F = self.facts(ind)
        of_comm, region_codes = self.regions(level)
        R, P = len(region_codes), grid.n
        if F.unit is not None:
            rows, p, vals = self.units(ind, grid)
        else:
            rows, p = self.timed(ind, grid)
            vals = F.num if rows is None else F.num[rows]

        def at(a: np.ndarray) -> np.ndarray:
            return a if rows is None else a[rows]

        r = of_comm[at(F.comm)]
        inside = r >= 0  # communities without a code at this level are left out here
        if not inside.all():
            rows = np.flatnonzero(inside) if rows is None else rows[inside]
            r, p, vals = r[inside], p[inside], vals[inside]
        if by is None:
            c, labels, has_unknown = 0, ["all"], False
        else:
            keys = _DISAGG_KEYS[by]
            raw = at(F.sex if by == "sex" else F.status)
            c = np.where(raw >= 0, raw, len(keys))
            labels = [f"{by}={k}" for k in keys] + [f"{by}=unknown"]
            has_unknown = bool((raw < 0).any())
        C = len(labels)
        n = R * P * C
        key = (r * P + p) * C + c
        num = np.bincount(key, weights=vals, minlength=n)
        if F.unit is None and F.den is not None:
            den = np.bincount(key, weights=at(F.den), minlength=n)
        else:  # counted facts, or distinct units
            den = np.bincount(key, minlength=n).astype(float)
        if ind.stock:
            num = np.cumsum(num.reshape(R, P, C), axis=1).ravel()
            den = np.cumsum(den.reshape(R, P, C), axis=1).ravel()
        out = _Sums(num, den, key, vals, labels, has_unknown, (R, P, C))
        self._sums[ck] = out
        return out

    # ------------------------------------------------------------------ one indicator
    def aggregate(self, ind: Indicator, level: str, grid: _PeriodGrid, by_list: Sequence[str | None],
                  complete: bool) -> list[dict[str, np.ndarray]]:
        region_codes = self.regions(level)[1]
        wanted = [b for b in by_list if b is None or b in ind.disaggregations] or [None]
        pieces = []
        for by in dict.fromkeys(wanted):
            S = self.sums(ind, level, grid, by)
            R, P, C = S.shape
            out = _values(ind, S, complete)
            keep = out.pop("keep")
            if by is not None and not S.has_unknown:  # no 'unknown' facts: no 'unknown' rows
                keep &= np.tile(np.arange(C) != C - 1, len(keep) // C)
            idx = np.flatnonzero(keep)
            P_out = P - 1 if ind.kind == "growth" else P  # growth: periods 1..P-1
            ri, rest = np.divmod(idx, P_out * C)
            pi, ci = np.divmod(rest, C)
            pi += P - P_out
            pieces.append({"indicator_id": ind.id, "level": level, "region_code": region_codes[ri],
                           "period": grid.labels[pi], "disaggregation": np.asarray(S.labels, dtype=object)[ci],
                           **{k: v[idx] for k, v in out.items()}})
        return pieces


def _values(ind: Indicator, S: _Sums, complete: bool) -> dict[str, np.ndarray]:
    """value, numerator, denominator, ci_low, ci_high and the rows to keep, per dense key."""
    R, P, C = S.shape
    num, den = S.num, S.den
    n = len(num)
    nan = np.full(n, np.nan)
    kind = ind.kind
    if kind == "count":
        keep = np.ones(n, bool) if complete else num != 0
        return {"value": num, "numerator": num, "denominator": nan, "ci_low": nan, "ci_high": nan, "keep": keep}
    if kind == "total":
        keep = np.ones(n, bool) if complete else (num != 0) | (den > 0)
        return {"value": num, "numerator": num, "denominator": den, "ci_low": nan, "ci_high": nan, "keep": keep}
    if kind == "growth":
        v = num.reshape(R, P, C)
        prev, cur = v[:, :-1, :].ravel(), v[:, 1:, :].ravel()
        keep = prev > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(keep, (cur - prev) / prev, np.nan)
        m = np.full(prev.size, np.nan)
        return {"value": value, "numerator": cur - prev, "denominator": prev, "ci_low": m, "ci_high": m,
                "keep": keep}
    if kind == "median":
        med, counts = _group_median(S.pair_key, S.unit_vals, n)
        return {"value": med, "numerator": nan, "denominator": counts.astype(float), "ci_low": nan,
                "ci_high": nan, "keep": counts > 0}
    keep = den > 0
    value, lo, hi = nan.copy(), nan.copy(), nan.copy()
    value[keep] = num[keep] / den[keep]
    if kind == "proportion":
        lo[keep], hi[keep] = _wilson(num[keep], den[keep])
    elif kind == "mean":
        sumsq = np.bincount(S.pair_key, weights=S.unit_vals**2, minlength=n)
        lo[keep], hi[keep] = _t_interval(value[keep], sumsq[keep], den[keep])
    return {"value": value, "numerator": num, "denominator": den, "ci_low": lo, "ci_high": hi, "keep": keep}


def _check_by(by: str | None | Sequence[str | None]) -> list[str | None]:
    by_list = [by] if by is None or isinstance(by, str) else list(by)
    bad = [b for b in by_list if b is not None and b not in DISAGGREGATIONS]
    if bad or not by_list:
        raise ValueError(f"by must be None, one of {DISAGGREGATIONS}, or a sequence of those; got {by!r}")
    return by_list


def _check_level(level: str) -> None:
    if level not in REGION_LEVELS:
        raise ValueError(f"level must be one of {list(REGION_LEVELS)}, not {level!r}")


def _check_period(period: str | None) -> None:
    if period is not None and period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS} or None, not {period!r}")


def _frame(pieces: list[dict[str, Any]], engine: _Engine) -> pd.DataFrame:
    lengths = [len(p["value"]) for p in pieces]
    total = sum(lengths)

    def text(name: str) -> pd.Series:
        parts = [np.broadcast_to(np.asarray(p[name], dtype=object), (n,)) for p, n in zip(pieces, lengths)]
        values = np.concatenate(parts) if parts else np.array([], dtype=object)
        codes, uniques = pd.factorize(values)
        return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype="string")),
                         dtype="category").astype("string")

    def number(name: str) -> pd.arrays.FloatingArray:
        values = np.concatenate([p[name] for p in pieces]) if pieces else np.array([], dtype=float)
        return pd.array(values.astype(np.float64, copy=False), dtype="Float64")

    df = pd.DataFrame({
        **{c: text(c) for c in ("indicator_id", "level", "region_code", "period", "disaggregation")},
        **{c: number(c) for c in ("value", "numerator", "denominator", "ci_low", "ci_high")},
        "suppressed": np.zeros(total, dtype=bool),
    })
    df.attrs.update({"synthetic": engine.data.synthetic, "data_version": engine.data.data_version,
                     "span": (str(engine.span[0].date()), str(engine.span[1].date()))})
    return df


def _compute(engine: _Engine, inds: list[Indicator], levels: Sequence[str], periods: Sequence[str | None],
             by_list: list[str | None], complete: bool) -> pd.DataFrame:
    pieces = []
    for period in periods:  # per-period caches are shared by all levels, then dropped
        grid = _period_grid(engine.span, period)
        for level in levels:
            for ind in inds:
                pieces.extend(engine.aggregate(ind, level, grid, by_list, complete))
            engine._sums.clear()
        engine.clear_cut_caches()
    return _frame(pieces, engine)


# =========================================================================== public API
def compute_indicators(data: ProgramData, indicators: str | Indicator | Iterable[str | Indicator] | None = None,
                       *, level: str = "province", period: str | None = "year",
                       by: str | None | Sequence[str | None] = None, span: tuple[Any, Any] | None = None,
                       complete: bool = True) -> pd.DataFrame:
    """Compute indicators by region level x period x disaggregation, in one call.

    Parameters
    ----------
    data : ProgramData
    indicators : str, Indicator or list of them, optional
        Indicator ids (see :func:`list_indicators`); default all of :data:`REGISTRY`.
    level : {'national', 'province', 'regency', 'district', 'village', 'community'}
        Region level of the rows. National rows have region code ``'ID'``.
    period : {'year', 'quarter', 'month'} or None
        Reporting period; None: the whole span as one period labelled ``'all'``.
    by : None, 'sex', 'status' or a sequence of those
        Disaggregation. ``None`` gives ``'all'`` rows; ``'sex'`` gives ``'sex=L'``,
        ``'sex=P'`` (and ``'sex=unknown'`` if any fact lacks it). Indicators that do not
        allow a requested disaggregation give ``'all'`` rows instead (once).
    span : (date, date), optional
        First and last day of the period grid (default :func:`data_span`).
    complete : bool, default True
        For count and total indicators, also return zero cells for every region of the
        level x period x category (regions: those of the data's communities). False
        keeps only cells with a non-zero value or contributing units, which is much
        smaller at fine levels by month. Ratios, means and medians never get rows without
        a denominator.

    Returns
    -------
    DataFrame
        Columns :data:`RESULT_COLUMNS`; ordered by indicator (registry order),
        disaggregation, region, period. ``attrs`` holds ``synthetic``, ``data_version``
        and ``span``. ``suppressed`` is False: this is the analysis view; publish only
        through :func:`kkbm_analysis.suppression.suppress`.

    Examples
    --------
    >>> compute_indicators(data, ["members", "kur_uptake"], level="national", period=None, by="sex")
    ... # doctest: +SKIP
    """
    _check_level(level)
    _check_period(period)
    by_list = _check_by(by)
    inds = _resolve(indicators)
    return _compute(_Engine(data, span), inds, [level], [period], by_list, complete)


def indicator_table(data: ProgramData, *, levels: Sequence[str] = ("national", "province"),
                    periods: Sequence[str | None] = ("year",), by: Sequence[str | None] = (None, "sex", "status"),
                    indicators: str | Indicator | Iterable[str | Indicator] | None = None,
                    span: tuple[Any, Any] | None = None, complete: bool = True) -> pd.DataFrame:
    """The full long indicator table (every level x period x disaggregation asked for).

    This is the unsuppressed table the main job writes, after
    :func:`kkbm_analysis.suppression.suppress`, to ``data/processed/indicators.parquet``
    with :func:`write_indicator_table`. Facts are built once and shared by all cuts.

    Parameters
    ----------
    data : ProgramData
    levels : sequence of str
        Region levels (see :func:`compute_indicators`).
    periods : sequence of {'year', 'quarter', 'month', None}
    by : sequence of {None, 'sex', 'status'}
        Include None to get the ``'all'`` rows the disaggregations add up to.
    indicators, span, complete
        As in :func:`compute_indicators`.

    Returns
    -------
    DataFrame
        Columns :data:`RESULT_COLUMNS`, no duplicate (indicator, level, region, period,
        disaggregation).
    """
    for level in levels:
        _check_level(level)
    for period in periods:
        _check_period(period)
    by_list = _check_by(list(by))
    return _compute(_Engine(data, span), _resolve(indicators), list(levels), list(periods), by_list, complete)
