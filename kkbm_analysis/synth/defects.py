"""Planted defects: the extra rows, one defect each, that the ingest must quarantine."""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..schema import STAGES
from .activities import _uuids
from .rendering import REPORT_SPEC, SHEETS
from .world import _block_seq, _name_key, _name_keys, _ns, _village_catalogue, _World

#: Defects injected per table (rule names as the ingest reports them).
DEFECTS: dict[str, tuple[str, ...]] = {
    "communities": ("invalid_boolean", "unknown_region", "ambiguous_region", "invalid_date"),
    "members": ("invalid_category", "invalid_date", "missing_value", "out_of_range", "future_date",
                "duplicate_key", "return_after_departure"),
    "staff": ("end_after_start", "invalid_category", "invalid_date"),
    "sessions": ("invalid_date", "missing_value", "invalid_number", "invalid_category"),
    "attendance": ("unknown_reference", "duplicate_key"),
    "stages": ("stages_in_order", "invalid_date"),
    "groups": ("invalid_boolean", "invalid_date"),
    "businesses": ("closure_consistent", "invalid_category", "duplicate_key", "unknown_reference",
                   "missing_value"),
    "business_reports": ("invalid_number", "out_of_range", "invalid_date", "duplicate_key", "unknown_reference"),
    "kur_loans": ("loan_before_joining", "approval_consistent", "out_of_range", "invalid_boolean", "invalid_date"),
    "consultations": ("invalid_category", "invalid_date"),
    "info_services": ("invalid_number", "invalid_category"),
    "advocacy_cases": ("close_after_open", "invalid_category", "invalid_date"),
    "prevention_events": ("dissuaded_within_reached", "invalid_number"),
    "village_regulations": ("invalid_date", "unknown_region"),
    "departures": ("unknown_region", "invalid_number", "duplicate_key"),
    "placements": ("invalid_number", "out_of_range"),
}


_BAD_DATES = ("31/02/2018", "2018-13-45", "31/04/2019", "30 Februari 2019")


_BAD_NUMBERS = ("12a", "1..2", "3 orang?", "1.2.3,4,5")


_BAD_CATEGORY = {"members": ("status", "purnaa"), "staff": ("role", "penggerakk"),
                 "sessions": ("kind", "Pendampingan 7"), "businesses": ("sector", "Dagangann"),
                 "consultations": ("partner_type", "Bankk"), "info_services": ("kind", "sosialisasii"),
                 "advocacy_cases": ("case_type", "gaji_telat")}


_BAD_BOOL = ("mungkin", "kadang", "?")


_FAKE_VILLAGES = ("Sukamakmur Jaya Sintetis", "Karangsintetis", "Tegalfiktif Baru")


@functools.cache
def _fake_village() -> str:
    """A village name that exists nowhere in Indonesia (checked against the code list)."""
    known = set(_name_keys(_village_catalogue()["village_name"]))
    return next(v for v in _FAKE_VILLAGES if _name_key(v) not in known)


def _raw(rows: pd.DataFrame, column: str, values: Any, rng: np.random.Generator | None = None) -> None:
    """Override the written cell of ``column`` with raw text."""
    if isinstance(values, tuple):
        values = np.asarray(values, dtype=object)[rng.integers(0, len(values), len(rows))]
    rows[f"__raw__{column}"] = values


def _pick(frame: pd.DataFrame, mask: Any, m: int, rng: np.random.Generator, unique: str | None = None
          ) -> pd.DataFrame:
    """``m`` source rows among ``mask`` (and without a malformed NIK), distinct if possible."""
    ok = np.asarray(mask, dtype=bool) & ~frame["_bad_nik"].to_numpy(dtype=bool)
    if unique is not None:
        ok &= ~frame[unique].duplicated().to_numpy()
    idx = np.flatnonzero(ok if ok.any() else ~frame["_bad_nik"].to_numpy(dtype=bool))
    chosen = rng.choice(idx, m, replace=m > len(idx))
    return frame.iloc[np.sort(chosen)].copy()


def _shift_days(s: pd.Series, lo: int, hi: int, rng: np.random.Generator) -> pd.Series:
    return s + pd.to_timedelta(rng.integers(lo, hi + 1, len(s)), unit="D")


def _defect(table: str, rule: str, f: pd.DataFrame, m: int, rng: np.random.Generator, w: _World
            ) -> pd.DataFrame:
    """``m`` extra rows of ``table`` carrying exactly one defect ``rule``."""
    special = {"stages": _defect_stages, "business_reports": _defect_reports}.get(table)
    if special is not None and rule != "duplicate_key":
        rows = special(rule, f, m, rng, w)
        if rows is not None:
            return rows
    cand = _candidates(table, rule, f)
    rows = _pick(f, cand, m, rng, unique="member_id" if table == "attendance" else None)
    if rule in ("invalid_date", "invalid_number", "invalid_boolean", "invalid_category"):
        column = _RAW_TARGET[rule].get(table) or _BAD_CATEGORY.get(table, ("",))[0]
        bad = {"invalid_date": _BAD_DATES, "invalid_number": _BAD_NUMBERS, "invalid_boolean": _BAD_BOOL,
               "invalid_category": (_BAD_CATEGORY.get(table, ("", ""))[1],)}[rule]
        if table == "advocacy_cases" and rule == "invalid_date":
            bad = ("2019-13-45", "2019-02-30")
        _raw(rows, column, bad, rng)
    else:
        _MUTATE[table, rule](rows, rng, w)
    return rows


_RAW_TARGET = {
    "invalid_date": {"communities": "formed_on", "members": "joined_on", "staff": "started_on",
                     "sessions": "held_on", "groups": "formed_on", "kur_loans": "applied_on",
                     "consultations": "held_on", "advocacy_cases": "opened_on",
                     "village_regulations": "adopted_on"},
    "invalid_number": {"sessions": "duration_days", "info_services": "attendees",
                       "prevention_events": "people_reached", "departures": "non_procedural",
                       "placements": "placements"},
    "invalid_boolean": {"communities": "village_gov_involved", "groups": "legal_entity", "kur_loans": "approved"},
    "invalid_category": {},
}


def _candidates(table: str, rule: str, f: pd.DataFrame) -> Any:
    """Rows a defect can be made from without creating a second defect."""
    if table == "communities" and rule == "ambiguous_region":
        return f["province_code"].eq("35")
    if table == "members" and rule == "return_after_departure":
        return f["status"].eq("pmi_purna")
    if table == "businesses" and rule == "unknown_reference":
        return f["owner_member_id"].notna()
    if table == "kur_loans":
        if rule in ("approval_consistent", "out_of_range"):
            return f["approved"].fillna(False)
        if rule in ("invalid_boolean", "invalid_date"):
            return ~f["approved"].fillna(False)
    if table == "advocacy_cases" and rule == "close_after_open":
        return f["closed_on"].notna()
    return np.ones(len(f), dtype=bool)


def _set(rows: pd.DataFrame, **values: Any) -> None:
    for column, value in values.items():
        rows[column] = value


def _m_unknown_village(rows, rng, w) -> None:
    _raw(rows, "village_code", _fake_village())


def _m_ambiguous_regency(rows, rng, w) -> None:
    """"Blitar" is both Kab. Blitar and Kota Blitar; no district or village below it decides."""
    _raw(rows, "regency_code", "Blitar")
    _set(rows, district_code=None, village_code=None)


def _m_birth_1850(rows, rng, w) -> None:
    _raw(rows, "birth_date", ("12/05/1850", "03/11/1850"), rng)


def _m_return_before_departure(rows, rng, w) -> None:
    rows["returned_on"] = _shift_days(rows["departed_on"], -300, -30, rng)


def _m_end_before_start(rows, rng, w) -> None:
    _set(rows, ended_on=_shift_days(rows["started_on"], -200, -10, rng), end_reason="resigned")


def _m_unknown_session(rows, rng, w) -> None:
    rows["session_id"] = rows["session_id"].str.replace(r"-S\d+$", "-S999", regex=True)


def _m_closed_undated(rows, rng, w) -> None:
    _set(rows, status="closed", closed_on=pd.NaT)


def _m_unknown_owner(rows, rng, w) -> None:
    rows["owner_member_id"] = _fresh_niks(rows["owner_member_id"].str[:12].to_numpy(), 500)


def _m_kur_before_joining(rows, rng, w) -> None:
    joined = rows["member_id"].map(w.lat["member_frame"].set_index("member_id")["joined_on"])
    rows["applied_on"] = _shift_days(joined, -200, -30, rng).to_numpy()
    rows["approved_on"] = rows["approved_on"].where(rows["approved_on"].isna(),
                                                    _shift_days(rows["applied_on"], 14, 56, rng))


def _m_closed_before_opened(rows, rng, w) -> None:
    rows["closed_on"] = _shift_days(rows["opened_on"], -60, -5, rng)


def _m_dissuaded_too_many(rows, rng, w) -> None:
    rows["people_dissuaded"] = rows["people_reached"] + rng.integers(1, 11, len(rows))


def _m_departures_bad_count(rows, rng, w) -> None:
    rows["period"] = rows["period"] - pd.DateOffset(months=120)  # a month outside the panel: fresh key
    _raw(rows, "non_procedural", ("3a", "1..2"), rng)


def _m_placements_bad_count(rows, rng, w) -> None:
    rows["year"] = rows["year"] - 5  # a year outside the table: fresh key
    _raw(rows, "placements", ("12a", "1..2"), rng)


def _m_placements_negative(rows, rng, w) -> None:
    _set(rows, year=rows["year"] - 10, placements=-rows["placements"] - 1)


def _m_none(rows, rng, w) -> None:
    """Exact copy (duplicate_key): the second occurrence is the defect."""


_MUTATE: dict[tuple[str, str], Callable[..., None]] = {
    ("communities", "unknown_region"): _m_unknown_village,
    ("communities", "ambiguous_region"): _m_ambiguous_regency,
    ("members", "missing_value"): lambda r, g, w: _set(r, joined_on=pd.NaT),
    ("members", "out_of_range"): _m_birth_1850,
    ("members", "future_date"): lambda r, g, w: _set(r, joined_on=pd.Timestamp("2031-03-15")),
    ("members", "duplicate_key"): _m_none,
    ("members", "return_after_departure"): _m_return_before_departure,
    ("staff", "end_after_start"): _m_end_before_start,
    ("sessions", "missing_value"): lambda r, g, w: _set(r, held_on=pd.NaT),
    ("attendance", "unknown_reference"): _m_unknown_session,
    ("attendance", "duplicate_key"): _m_none,
    ("businesses", "closure_consistent"): _m_closed_undated,
    ("businesses", "duplicate_key"): _m_none,
    ("businesses", "unknown_reference"): _m_unknown_owner,
    ("businesses", "missing_value"): lambda r, g, w: _set(r, started_on=pd.NaT),
    ("business_reports", "duplicate_key"): _m_none,
    ("kur_loans", "loan_before_joining"): _m_kur_before_joining,
    ("kur_loans", "approval_consistent"): lambda r, g, w: _set(r, approved=False),
    ("kur_loans", "out_of_range"): lambda r, g, w: _set(r, amount_idr=750_000_000.0),
    ("advocacy_cases", "close_after_open"): _m_closed_before_opened,
    ("prevention_events", "dissuaded_within_reached"): _m_dissuaded_too_many,
    ("village_regulations", "unknown_region"): _m_unknown_village,
    ("departures", "unknown_region"): _m_unknown_village,
    ("departures", "invalid_number"): _m_departures_bad_count,
    ("departures", "duplicate_key"): _m_none,
    ("placements", "invalid_number"): _m_placements_bad_count,
    ("placements", "out_of_range"): _m_placements_negative,
}


def _defect_stages(rule, f, m, rng, w) -> pd.DataFrame:
    """Stage rows for members who have none (so the key stays unique)."""
    mem = w.lat["member_frame"]
    pool = np.setdiff1d(w.lat["no_stage_row"], w.lat.setdefault("used_stage_targets", np.zeros(0, int)))
    pool = pool[~mem["_bad_nik"].to_numpy()[pool]]
    who = np.sort(rng.choice(pool, min(m, len(pool)), replace=False))
    w.lat["used_stage_targets"] = np.r_[w.lat["used_stage_targets"], who]
    t = mem.iloc[who]
    rows = pd.DataFrame({"member_id": t["member_id"].to_numpy(), "name": t["name"].to_numpy(),
                         "_prov": t["_prov"].to_numpy(), "_bad_nik": False, "_r": 0})
    for col, _, _ in STAGES:
        rows[col] = pd.NaT
    rows["identified_on"] = _shift_days(t["joined_on"], 3, 10, rng).to_numpy()
    if rule == "stages_in_order":  # potential recognised before the problem was identified
        rows["potential_on"] = _shift_days(rows["identified_on"], -40, -10, rng)
    else:
        _raw(rows, "identified_on", _BAD_DATES, rng)
    return rows


def _defect_reports(rule, f, m, rng, w) -> pd.DataFrame | None:
    """Invalid or out-of-range values go into unreported months (fresh keys); bad ids into new ones."""
    if rule == "invalid_date":
        rows = _pick(f, np.ones(len(f), bool), m, rng)
        _raw(rows, "period", ("Jux-19", "13/2019", "Juli 2O19"), rng)
        return rows
    if rule == "unknown_reference":
        rows = _pick(f, np.ones(len(f), bool), m, rng)
        rows["business_id"] = rows["business_id"].str.replace(r"-U\d+$", "", regex=True) + [
            f"-U8{j:03d}" for j in range(len(rows))]
        return rows
    bi, month = w.lat["unreported"]
    free = np.setdiff1d(np.arange(len(bi)), w.lat.setdefault("used_unreported", np.zeros(0, int)))
    pick = np.sort(rng.choice(free, min(m, len(free)), replace=False))
    w.lat["used_unreported"] = np.r_[w.lat["used_unreported"], pick]
    ids, prov = w.lat["business_ids"], w.lat["business_prov"]
    rows = pd.DataFrame({"business_id": ids[bi[pick]], "period": _ns(month[pick].astype("datetime64[M]")),
                         "revenue_idr": np.round(rng.lognormal(np.log(3e6), 0.5, len(pick)), -3),
                         "workers": rng.integers(1, 6, len(pick)), "_prov": prov[bi[pick]],
                         "_bad_nik": False, "_r": 0})
    if rule == "invalid_number":
        _raw(rows, "workers", ("2a", "1..2", "tiga"), rng)
    else:
        rows["revenue_idr"] = -rows["revenue_idr"]
    return rows


def _fresh_niks(prefix12: np.ndarray, base: int) -> np.ndarray:
    """Well-formed NIKs that no clean row uses (serials 9000-9999), unique among themselves."""
    prefix12 = np.asarray(prefix12, dtype=str)
    order = np.argsort(prefix12, kind="stable")
    serial = np.empty(len(prefix12), dtype=int)
    serial[order] = _block_seq(prefix12[order]) - 1
    serial = 9000 + (base + serial) % 1000
    return np.char.add(prefix12, np.char.zfill(serial.astype(str), 4))


def _renew_keys(table: str, rows: pd.DataFrame, j0: int, rng: np.random.Generator) -> None:
    """Give extra rows keys of their own, so nothing references them and they collide with nothing."""
    j = np.arange(j0, j0 + len(rows))
    cid = rows["community_id"].astype(str).to_numpy() if "community_id" in rows else None
    suffix = lambda p, width: np.char.add(np.char.add(cid, f"-{p}9"), np.char.zfill(j.astype(str), width))  # noqa
    if table == "communities":
        rows["community_id"] = np.char.add(np.char.add("KKBM-", rows["province_code"].astype(str).to_numpy()),
                                           np.char.add("-9", np.char.zfill(j.astype(str), 2)))
    elif table in ("sessions", "groups", "businesses", "consultations", "prevention_events"):
        key, p = {"sessions": ("session_id", "S"), "groups": ("group_id", "K"), "businesses": ("business_id", "U"),
                  "consultations": ("consultation_id", "KS"), "prevention_events": ("event_id", "P")}[table]
        rows[key] = suffix(p, 3)
    elif table == "kur_loans":
        rows["loan_id"] = np.char.add(np.char.add("KUR-", rows["_prov"].astype(str).to_numpy()),
                                      np.char.add("-9", np.char.zfill(j.astype(str), 4)))
    elif table in ("advocacy_cases", "info_services"):
        rows["case_id" if table == "advocacy_cases" else "event_id"] = _uuids(rng, len(rows))
        rows["kobo_id"] = (90_000_000 + j).astype(str)
    elif table == "village_regulations":
        rows["title"] = rows["title"].str.replace(r" Nomor \d+ ", " Nomor 99 ", regex=True)


def _per_province(w: _World, table: str) -> bool:
    """Whether a table is written per province (demo workbooks and report CSVs)."""
    return not w.scale.national and table in {spec.table for spec in (*SHEETS, REPORT_SPEC)}


def _make_dirty(table: str, f: pd.DataFrame, w: _World, share: float) -> pd.DataFrame:
    """Extra defective rows for one table, with ``_rule`` and ``_after`` (insert after block row)."""
    rules = DEFECTS[table]
    k = 0 if share <= 0 else max(len(rules), int(round(share * len(f))))
    if k == 0 or len(f) == 0:
        return f.iloc[:0].assign(_rule=pd.Series(dtype=str), _after=pd.Series(dtype=int))
    rng = w.rng(f"dirty:{table}")
    out, j0 = [], 0
    for i, rule in enumerate(rules):
        m = k // len(rules) + (i < k % len(rules))
        if m == 0:
            continue
        rows = _defect(table, rule, f, m, rng, w)
        if rule != "duplicate_key":
            _renew_keys(table, rows, j0, rng)
        out.append(rows.assign(_rule=rule))
        j0 += len(rows)
    dirty = pd.concat(out, ignore_index=True)
    if table in ("members", "staff"):  # fresh NIKs for the whole table at once: unique by construction
        key = "member_id" if table == "members" else "staff_id"
        fresh = dirty["_rule"].ne("duplicate_key").to_numpy()
        niks = _fresh_niks(dirty.loc[fresh, key].str[:12].to_numpy(), 0)
        dirty.loc[fresh, key] = niks
        dirty.loc[fresh, "nik"] = niks
    dirty["_blk"] = dirty["_prov"] if _per_province(w, table) else ""
    n_block = dirty["_blk"].map(f["_blk"].value_counts()).fillna(0).to_numpy(dtype=int)
    r = dirty["_r"].to_numpy(dtype=int)
    u = rng.random(len(dirty))
    dup = dirty["_rule"].eq("duplicate_key").to_numpy()
    dirty["_after"] = np.where(dup, r + np.floor(u * (n_block - r)), np.floor(u * (n_block + 1)) - 1).astype(int)
    return dirty
