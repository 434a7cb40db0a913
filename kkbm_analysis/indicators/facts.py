"""Facts of the indicators: one row per counted unit, built once per data (see the package docstring).

:class:`FactContext` joins every source table to its community (and, through the member, to
sex and status) once, as integer codes; the facts functions (``_f_*``) turn it into the facts
frame of each registry indicator. :func:`data_span` is the first and last activity date.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from ..data import ProgramData
from ..schema import VOCABULARIES
from .arrays import _arrow_strings, _bools, _dates, _floats, _group_min_dates, _lookup, _take

__all__ = ["FactContext", "SEX_KEYS", "STATUS_KEYS", "KUR_ELIGIBLE_STATUS", "SPAN_COLUMNS", "business_activity_end",
           "data_span"]


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
