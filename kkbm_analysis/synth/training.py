"""Entry training, the mandated mentoring points and the empowerment stages of the synthetic members."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import load_mentoring_points
from .business import _uniform_between
from .calibration import MENTORING, NO_MENTORING_PROVINCES
from .world import _block_seq, _days, _expit, _ns, _World


def _training_and_mentoring(w: _World, comm: pd.DataFrame, mem: pd.DataFrame
                            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Entry-training cohorts, mentoring points received, other trainings; sessions and attendance."""
    rng = w.rng("training")
    mp = load_mentoring_points()
    ci = w.lat["member_ci"]
    formed = comm["formed_on"].to_numpy().astype("datetime64[D]")
    joined = mem["joined_on"].to_numpy().astype("datetime64[D]")
    first = formed + _days(rng.integers(25, 46, len(comm)))
    k = np.maximum(0, np.ceil((joined + np.timedelta64(7, "D") - first[ci]).astype(int) / 91)).astype(int)
    n_k = int(k.max()) + 1
    jitter = rng.integers(0, 11, (len(comm), n_k))
    cohort = ci * n_k + k
    t0 = first[ci] + _days(91 * k + jitter[ci, k])
    w.lat.update(t0=t0, cohort=cohort)
    parts = [_session_block(cohort, t0, mp.entry_training.key, 6.0, np.arange(len(ci)))]
    received = _mentoring_receipt(w, rng, comm)
    delay_mean = _delay_means(w)
    for p, point in enumerate(mp.point_ids):
        who = np.flatnonzero(received[:, p])
        parts.append(_mentoring_block(rng, cohort[who], t0[who], who, point, delay_mean[ci[who], p]))
    parts.append(_other_trainings(w, rng, comm, ci))
    w.lat["points"] = received.sum(axis=1)
    w.lat["point4"] = received[:, -1]
    return _sessions_and_attendance(w, rng, comm, mem, parts)


def _session_block(cohort: np.ndarray, date: np.ndarray, kind: str, duration: float, who: np.ndarray
                   ) -> pd.DataFrame:
    """Attendance rows (member index, cohort key, session date) for one kind of session."""
    return pd.DataFrame({"member": who, "key": cohort, "held_on": date, "kind": kind, "duration": duration})


def _mentoring_receipt(w: _World, rng: np.random.Generator, comm: pd.DataFrame) -> np.ndarray:
    """Member x point receipt: logit = a_p + a_prov + delta_staff * (mps - mean) / 10 + u_c."""
    ci = w.lat["member_ci"]
    if len(load_mentoring_points().point_ids) != len(MENTORING["a_point"]):
        raise ValueError("the synthetic model needs exactly four mentoring points in the mentoring-points "
                         "resource (KKBM_MENTORING_POINTS)")
    provinces = sorted(comm["province_code"].unique())
    a_prov = dict(zip(provinces, rng.normal(0, MENTORING["sd_province"], len(provinces))))
    for p in NO_MENTORING_PROVINCES:
        a_prov[p] = -np.inf
    mps = w.lat["members_per_staff"]
    u = rng.normal(0, MENTORING["sd_community"], len(comm))
    base = comm["province_code"].map(a_prov).to_numpy() + MENTORING["delta_staff"] * (mps - mps.mean()) / 10 + u
    logit = np.asarray(MENTORING["a_point"])[None, :] + base[ci][:, None]
    received = rng.random(logit.shape) < _expit(logit)
    _record_mentoring(w, a_prov, mps)
    delivered = ~np.isin(comm["province_code"].to_numpy()[ci], NO_MENTORING_PROVINCES)
    w.record("mentoring", "coverage_realised", dict(zip(load_mentoring_points().point_ids,
                                                        received[delivered].mean(axis=0))),
             "Realised share of members receiving each point, outside the no-delivery provinces.")
    return received


def _delay_means(w: _World) -> np.ndarray:
    """Mean delay (months) after the entry training, per community and point."""
    mps = w.lat["members_per_staff"]
    p = np.arange(4)
    mean = (MENTORING["delay_base_months"] + MENTORING["delay_per_point_months"] * p[None, :]
            + MENTORING["delay_per_10_members_per_staff"] * ((mps - mps.mean()) / 10)[:, None])
    return np.clip(mean, 1.5, 9.0)


def _mentoring_block(rng: np.random.Generator, cohort: np.ndarray, t0: np.ndarray, who: np.ndarray,
                     point: str, mean_months: np.ndarray) -> pd.DataFrame:
    """One session per (community, cohort) with recipients, dated t0 + a gamma delay."""
    keys, first = np.unique(cohort, return_index=True)
    shape = MENTORING["delay_gamma_shape"]
    delay = np.minimum(rng.gamma(shape, mean_months[first] / shape), 10.5)
    date_by_key = t0[first] + _days(delay * 30.44)
    pos = np.searchsorted(keys, cohort)
    return _session_block(cohort, date_by_key[pos], point, 1.0, who)


def _other_trainings(w: _World, rng: np.random.Generator, comm: pd.DataFrame, ci: np.ndarray) -> pd.DataFrame:
    """A few other trainings per community after joining closed, with 10-30 random members."""
    nc = len(comm)
    n_s = rng.poisson(1.0, nc)
    sc = np.repeat(np.arange(nc), n_s)
    first_day = w.join_end + 1
    dates = first_day + _days(rng.uniform(0, (w.end - first_day).astype(int) - 30, len(sc)))
    size = rng.integers(10, 31, len(sc))
    starts = np.searchsorted(ci, np.arange(nc))
    counts = np.bincount(ci, minlength=nc)
    sess = np.repeat(np.arange(len(sc)), size)
    member = starts[sc[sess]] + (rng.random(len(sess)) * counts[sc[sess]]).astype(int)
    df = pd.DataFrame({"member": member, "key": -1 - sess, "held_on": dates[sess],
                       "kind": "other_training", "duration": 2.0})
    return df.drop_duplicates(["key", "member"])


def _sessions_and_attendance(w: _World, rng: np.random.Generator, comm: pd.DataFrame, mem: pd.DataFrame,
                             parts: list[pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Number sessions per community by date; attendance by member NIK."""
    att = pd.concat(parts, ignore_index=True)
    ci = w.lat["member_ci"][att["member"].to_numpy()]
    att["ci"] = ci
    sess = att.groupby(["ci", "kind", "key"], sort=True).agg(
        held_on=("held_on", "first"), duration=("duration", "first"), participants=("member", "size")
    ).reset_index()
    mp = load_mentoring_points()
    kind_order = {k: i for i, k in enumerate((mp.entry_training.key, *mp.point_ids, "other_training"))}
    sess = sess.iloc[np.lexsort((sess["kind"].map(kind_order).to_numpy(), sess["held_on"].to_numpy(),
                                 sess["ci"].to_numpy()))].reset_index(drop=True)
    seq = _block_seq(sess["ci"].to_numpy())
    cid = comm["community_id"].to_numpy()[sess["ci"].to_numpy()]
    sess["session_id"] = np.char.add(np.char.add(cid.astype(str), "-S"), np.char.zfill(seq.astype(str), 3))
    unit = comm["unit"].to_numpy()[sess["ci"].to_numpy()]
    sessions = pd.DataFrame({
        "session_id": sess["session_id"], "community_id": cid, "kind": sess["kind"],
        "held_on": _ns(sess["held_on"].to_numpy()), "duration_days": pd.array(sess["duration"], dtype="Float64"),
        "facilitator": _facilitators(rng, sess["kind"].to_numpy(), unit),
        "participants": pd.array(sess["participants"], dtype="Int64"),
    })
    att = att.merge(sess[["ci", "kind", "key", "session_id"]], on=["ci", "kind", "key"], how="left")
    att = att.sort_values(["session_id", "member"], kind="stable")
    attendance = pd.DataFrame({"session_id": att["session_id"].to_numpy(),
                               "member_id": mem["member_id"].to_numpy()[att["member"].to_numpy()]})
    return sessions, attendance


def _facilitators(rng: np.random.Generator, kind: np.ndarray, unit: np.ndarray) -> np.ndarray:
    partners = np.array(["Dinas Koperasi dan UKM", "Balai Latihan Kerja (BLK)", "Bank BRI", "LSM mitra",
                         "Perguruan tinggi mitra"])
    mentor = np.array(["CO KKBM", "Dinas Koperasi dan UKM", "Perguruan tinggi mitra"])
    pick_p = partners[rng.integers(0, len(partners), len(kind))]
    pick_m = np.where(rng.random(len(kind)) < 0.5, unit, mentor[rng.integers(0, len(mentor), len(kind))])
    entry = load_mentoring_points().entry_training.key
    return np.select([kind == entry, kind == "other_training"], [unit, pick_p], pick_m)


def _record_mentoring(w: _World, a_prov: dict, mps: np.ndarray) -> None:
    mp = load_mentoring_points()
    w.record("entry_training", "kind", mp.entry_training.key, "Session kind of the entry training.")
    w.record("entry_training", "duration_days", 6, "Duration of the entry training.")
    w.record("entry_training", "cohorts",
             "first cohort 25-45 days after formation, then every 91 days (+0-10 days); each member "
             "attends the first cohort at least 7 days after joining; t0 = that training date",
             "How members are assigned to entry-training cohorts.")
    w.record("mentoring", "point_ids", list(mp.point_ids), "Ids of the four mandated mentoring points.")
    w.record("mentoring", "a_point", dict(zip(mp.point_ids, MENTORING["a_point"])),
             "Point intercepts a_p of logit P(member receives point p).")
    w.record("mentoring", "a_province", a_prov,
             "Province effects a_prov ~ N(0, 0.3); null = minus infinity (no delivery at all).")
    w.record("mentoring", "no_delivery_provinces", list(NO_MENTORING_PROVINCES),
             "Provinces where none of the four points was delivered, only the 6-day training (seed 000, "
             "Kab. Blitar, Jawa Timur).")
    w.record("mentoring", "sd_province", MENTORING["sd_province"], "SD of the province effects a_prov.")
    w.record("mentoring", "delta_staff", MENTORING["delta_staff"],
             "Change in logit P(point) per 10 more members per CO+penggerak (centred at the mean).")
    w.record("mentoring", "sd_community", MENTORING["sd_community"], "SD of the community effect u_c.")
    w.record("mentoring", "members_per_staff_by_community",
             {c: float(v) for c, v in zip(w.lat.get("community_ids", []), mps)},
             "members_per_staff of each community.")
    w.record("mentoring", "delay_months",
             "gamma(shape 6) with mean clip(3.5 + 0.8 * (p - 1) + 0.4 * (members_per_staff - mean) / 10, "
             "1.5, 9), capped at 10.5 months, per (community, point, cohort)",
             "Delay of a mentoring session after the cohort's entry training.")
    w.record("mentoring", "session_rule", "one session per (community, point, cohort) if at least one "
             "member of the cohort received the point; attendance = the recipients",
             "When a mentoring session exists.")


def _stages(w: _World, mem: pd.DataFrame, bus: pd.DataFrame) -> pd.DataFrame:
    """Empowerment stages; only members who reached problem identification have a row."""
    rng = w.rng("stages")
    n = len(mem)
    joined = mem["joined_on"].to_numpy().astype("datetime64[D]")
    t0 = w.lat["t0"]
    b = w.lat["business"]
    implemented = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    own = b["member"] >= 0
    implemented[b["member"][own]] = b["start"][own]
    identified = rng.random(n) < 0.95
    potential = identified & (rng.random(n) < 0.85)
    id_on = joined + _days(np.floor(rng.random(n) * np.minimum(20, (t0 - joined).astype(int) // 2)))
    pot_on = _uniform_between(rng, id_on, t0)
    nat = np.datetime64("NaT")
    impl = np.where(potential, implemented, nat)
    ev_on = impl + _days(rng.integers(90, 271, n))
    evaluated = ~np.isnat(impl) & (rng.random(n) < 0.5) & (ev_on <= w.end)
    w.lat["no_stage_row"] = np.flatnonzero(~identified)
    w.record("stages", "model", "identified 95 % (joining + 0-20 days, before training); potential 85 % of "
             "those (between identification and training); trained = entry-training date for those with "
             "potential; implemented = business start if any; evaluated 50 % of implementers, 90-270 days "
             "later if before end; members never identified have no row", "Empowerment-stage model.")
    r = identified
    return pd.DataFrame({
        "member_id": mem["member_id"].to_numpy()[r],
        "identified_on": _ns(id_on[r]),
        "potential_on": _ns(np.where(potential, pot_on, nat)[r]),
        "trained_on": _ns(np.where(potential, t0, nat)[r]),
        "implemented_on": _ns(impl[r]),
        "evaluated_on": _ns(np.where(evaluated, ev_on, nat)[r]),
    })
