"""People of the synthetic programme: members with their identities and migration histories, and staff (COs, penggerak, officers)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .calibration import COUNTRIES, COUNTRY_P, PUBLISHED, STAFF, STATUS_KEYS, STATUS_SHARES
from .world import _block_seq, _days, _ns, _words, _World, national_size


def _nik(region6: np.ndarray, birth: np.ndarray, female: np.ndarray, serial_base: int) -> np.ndarray:
    """Synthetic NIK: 6 region digits, DDMMYY (day + 40 for women), 4-digit serial."""
    b = pd.to_datetime(_ns(birth))
    day = b.day.to_numpy() + 40 * female
    ddmmyy = day * 10000 + b.month.to_numpy() * 100 + b.year.to_numpy() % 100
    prefix = np.char.add(region6.astype(str), np.char.zfill(ddmmyy.astype(str), 6))
    order = np.argsort(prefix, kind="stable")
    serial = np.empty(len(prefix), dtype="int64")
    serial[order] = _block_seq(prefix[order]) + serial_base
    return np.char.add(prefix, np.char.zfill(serial.astype(str), 4))


def _names(rng: np.random.Generator, female: np.ndarray) -> np.ndarray:
    wd = _words()
    n = len(female)
    f1, f2 = np.array(wd["female_first"]), np.array(wd["female_second"])
    m1, m2 = np.array(wd["male_first"]), np.array(wd["male_second"])
    first = np.where(female, f1[rng.integers(0, len(f1), n)], m1[rng.integers(0, len(m1), n)])
    second = np.where(female, f2[rng.integers(0, len(f2), n)], m2[rng.integers(0, len(m2), n)])
    single = rng.random(n) < 0.15  # many Javanese names are a single word
    return np.where(single, second, np.char.add(np.char.add(first, " "), second))


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    prefixes = np.array(["0812", "0813", "0821", "0822", "0852", "0853", "0856", "0857", "0877",
                         "0878", "0838", "0895", "0896", "0819", "0817"])
    short = rng.random(n) < 0.3  # 11- and 12-digit numbers
    digits = np.where(short, rng.integers(10**6, 10**7, n), rng.integers(10**7, 10**8, n)).astype(str)
    return np.char.add(prefixes[rng.integers(0, len(prefixes), n)], digits)


def _addresses(rng: np.random.Generator, n: int) -> np.ndarray:
    dusun = np.array(_words()["dusun"])
    rt = np.char.zfill(rng.integers(1, 13, n).astype(str), 2)
    rw = np.char.zfill(rng.integers(1, 7, n).astype(str), 2)
    head = np.char.add("Dusun ", dusun[rng.integers(0, len(dusun), n)])
    return np.char.add(np.char.add(np.char.add(head, ", RT "), rt), np.char.add("/RW ", rw))


def _community_sizes(rng: np.random.Generator, n_comm: int, total: int, minimum: int) -> np.ndarray:
    extra = rng.multinomial(total - n_comm * minimum, rng.dirichlet(np.full(n_comm, 4.0)))
    return minimum + extra


def _members(w: _World, comm: pd.DataFrame) -> pd.DataFrame:
    """Members with status, sex, birth, migration history, joining date and identifiers."""
    rng = w.rng("members")
    nc = len(comm)
    if w.scale.national:
        total = national_size(w.scale.multiplier)[1]
        minimum = max(1, min(60, total // (2 * nc)))
    else:
        total = int(round(PUBLISHED["members"] * w.scale.multiplier))
        minimum = max(3, int(round(60 * w.scale.multiplier)))
    sizes = _community_sizes(rng, nc, total, minimum)
    ci = np.repeat(np.arange(nc), sizes)
    n = len(ci)
    status = rng.choice(4, n, p=STATUS_SHARES)
    female = rng.random(n) < np.where(status == 3, 0.4, 0.7)
    lo = np.array([1965, 1975, 1988, 1960])[status]
    hi = np.array([1995, 1996, 2000, 2000])[status]
    birth = (rng.integers(lo, hi + 1).astype(str).astype("datetime64[Y]").astype("datetime64[D]")
             + _days(rng.integers(0, 365, n)))
    formed = comm["formed_on"].to_numpy().astype("datetime64[D]")[ci]
    span = (w.join_end - formed).astype(int)
    joined = formed + _days(np.where(rng.random(n) < 0.5, rng.uniform(0, 120, n), rng.uniform(0, span)))
    departed, returned = _migration(rng, status, birth, joined)
    country = _countries(rng, female)
    country = np.where(status <= 1, country, None)
    w.lat.update(member_ci=ci, sizes=sizes, female=female, status=status,
                 years_abroad=np.where(status == 0, (returned - departed).astype(float) / 365.25, 0.0))
    region6 = np.char.replace(comm["district_code"].to_numpy().astype(str), ".", "")[ci]
    nik = _nik(region6, birth, female, 0)
    nik = _malform_some_niks(w, rng, nik)
    passport = np.char.add(np.array(["C", "B", "A"])[rng.choice(3, n, p=[.7, .2, .1])],
                           rng.integers(1_000_000, 10_000_000, n).astype(str))
    has_passport = (status <= 1) | ((status == 2) & (rng.random(n) < 0.3))
    _record_members(w)
    located = _where_members_live(w, comm, ci)
    return pd.DataFrame({
        "member_id": nik, "community_id": comm["community_id"].to_numpy()[ci],
        "status": np.array(STATUS_KEYS)[status], "sex": np.where(female, "P", "L"),
        "birth_year": pd.array(birth.astype("datetime64[Y]").astype(int) + 1970, dtype="Int64"),
        "destination_country": pd.array(country, dtype="str"),
        "departed_on": _ns(departed), "returned_on": _ns(returned), "joined_on": _ns(joined),
        "nik": nik, "name": _names(rng, female), "phone": _phones(rng, n),
        "passport_no": pd.array(np.where(has_passport, passport, None), dtype="str"),
        "address": _addresses(rng, n), "birth_date": _ns(birth), **located,
    })


def _where_members_live(w: _World, comm: pd.DataFrame, ci: np.ndarray) -> dict[str, pd.api.extensions.ExtensionArray]:
    """Member location: every other province (by code) records it, as the community's village and district."""
    provinces = sorted(comm["province_code"].unique())
    recording = provinces[::2]
    here = np.isin(comm["province_code"].to_numpy()[ci], recording)
    w.record("members", "location_provinces", [str(p) for p in recording],
             "Provinces whose member sheets record where members live (Desa and Kecamatan columns): the "
             "village and district of the member's community; elsewhere the member's location is left empty.")
    return {c: pd.array(np.where(here, comm[c].to_numpy()[ci], None), dtype="str")
            for c in ("province_code", "regency_code", "district_code", "village_code")}


def _migration(rng: np.random.Generator, status: np.ndarray, birth: np.ndarray, joined: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Departure and return dates consistent with status (purna returned, aktif abroad)."""
    n = len(status)
    year = 365.25
    age_join = (joined - birth).astype(float) / year
    dep_age = rng.uniform(19, np.clip(age_join - 1.6, 19.01, 35))
    stay = rng.uniform(1.5, np.clip(age_join - dep_age - 0.1, 1.51, 8))
    stay = np.minimum(stay, age_join - dep_age - 0.1)
    dep_purna = birth + _days(dep_age * year)
    ret_purna = birth + _days((dep_age + stay) * year)
    dep_aktif = joined - _days(rng.uniform(60, 4 * year, n))
    dep_aktif = np.maximum(dep_aktif, birth + _days(18.5 * year))
    nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    departed = np.where(status == 0, dep_purna, np.where(status == 1, dep_aktif, nat))
    returned = np.where(status == 0, ret_purna, nat)
    return departed, returned


def _countries(rng: np.random.Generator, female: np.ndarray) -> np.ndarray:
    countries = np.array(COUNTRIES)
    pf, pm = np.array(COUNTRY_P["P"]), np.array(COUNTRY_P["L"])
    return np.where(female, countries[rng.choice(len(countries), len(female), p=pf / pf.sum())],
                    countries[rng.choice(len(countries), len(female), p=pm / pm.sum())])


def _malform_some_niks(w: _World, rng: np.random.Generator, nik: np.ndarray) -> np.ndarray:
    """A few members get a 15-digit NIK (a typing slip): accepted, noted by the ingest."""
    k = max(3, int(round(len(nik) * 0.0008)))
    idx = np.sort(rng.choice(len(nik), k, replace=False))
    nik = nik.astype("<U16")
    nik[idx] = nik[idx].astype("<U15")  # drop the last digit
    w.lat["malformed_nik"] = set(nik[idx].tolist())
    w.record("identifiers", "malformed_nik_members", k,
             "Members whose NIK was typed with 15 digits; their rows are accepted, and their register rows "
             "are listed in expected_ingest_notes.csv (rule invalid_nik), as the ingest notes them.")
    return nik


def _record_members(w: _World) -> None:
    w.record("members", "status_shares", dict(zip(STATUS_KEYS, STATUS_SHARES)),
             "Member status probabilities.")
    w.record("members", "female_share_pmi", 0.7, "Share of women among PMI purna, PMI aktif and calon PMI.")
    w.record("members", "female_share_family", 0.4, "Share of women among family members.")
    w.record("members", "birth_years", {"pmi_purna": [1965, 1995], "pmi_aktif": [1975, 1996],
                                        "calon_pmi": [1988, 2000], "keluarga": [1960, 2000]},
             "Uniform birth-year ranges by status.")
    w.record("members", "joining", "half join within 120 days of formation, the rest uniformly until "
             "the end of start_year + 1", "Joining-date model.")
    w.record("members", "years_abroad_definition", "(returned_on - departed_on) / 365.25 for PMI purna; "
             "0 for everyone else", "Covariate years_abroad of the Y12 model.")


_CO_END = (("resigned", .35), ("migrated", .20), ("moved", .15), ("contract_ended", .25), ("other", .05))


_PG_END = (("resigned", .40), ("migrated", .35), ("moved", .15), ("other", .10))


def _staff(w: _World, comm: pd.DataFrame) -> pd.DataFrame:
    """COs (with turnover and replacement), 3 penggerak per community, unit officers."""
    rng = w.rng("staff")
    formed = comm["formed_on"].to_numpy().astype("datetime64[D]")
    co = _co_spells(w, rng, formed)
    pg = _penggerak(w, rng, formed)
    w.lat["members_per_staff"] = _members_per_staff(w, formed, pd.concat([co, pg]))
    off = _officers(w, rng, comm)
    df = pd.concat([co, pg, off], ignore_index=True)
    n = len(df)
    ci = df["ci"].to_numpy()
    female = rng.random(n) < np.where(df["role"] == "penggerak", 0.6, 0.5)
    birth = (rng.integers(1968, 1996, n).astype(str).astype("datetime64[Y]").astype("datetime64[D]")
             + _days(rng.integers(0, 365, n)))
    region6 = np.char.replace(comm["district_code"].to_numpy().astype(str), ".", "")[ci]
    nik = _nik(region6, birth, female, 8000)
    fte = np.select([df["role"] == "co", df["role"] == "penggerak"],
                    [np.where(rng.random(n) < 0.8, 1.0, 0.5), 0.25], 0.2)
    out = pd.DataFrame({
        "staff_id": nik, "role": df["role"].to_numpy(),
        "community_id": pd.array(np.where(df["role"] == "officer", None,
                                          comm["community_id"].to_numpy()[ci]), dtype="str"),
        "unit": comm["unit"].to_numpy()[ci], "province_code": comm["province_code"].to_numpy()[ci],
        "sex": np.where(female, "P", "L"), "started_on": _ns(df["started"].to_numpy()),
        "ended_on": _ns(df["ended"].to_numpy()), "end_reason": pd.array(df["end_reason"], dtype="str"),
        "fte": pd.array(fte, dtype="Float64"), "nik": nik, "name": _names(rng, female),
        "phone": _phones(rng, n),
    })
    order = np.lexsort((out["started_on"].to_numpy(), df["role"].map({"officer": 0, "co": 1, "penggerak": 2}),
                        ci))
    return out.iloc[order].reset_index(drop=True)


def _end_reasons(rng: np.random.Generator, ended: np.ndarray, table: tuple) -> np.ndarray:
    keys, p = zip(*table)
    return np.where(ended, np.array(keys)[rng.choice(len(keys), len(ended), p=p)], None)


def _co_spells(w: _World, rng: np.random.Generator, formed: np.ndarray) -> pd.DataFrame:
    """CO spells: exponential tenure; after an exit, a replacement with some probability."""
    nat = np.datetime64("NaT")
    mean_days = STAFF["co_mean_tenure_months"] * 30.44
    ci = np.arange(len(formed))
    start = formed - _days(rng.integers(0, 21, len(formed)))
    spells, n_ended, n_replaced = [], 0, 0
    for gen in range(STAFF["co_generations"]):
        end = start + _days(rng.exponential(mean_days, len(ci)))
        ended = end <= w.end
        vacancy = _days(rng.integers(*STAFF["vacancy_months"], len(ci), endpoint=True) * 30.44)
        replaced = (ended & (rng.random(len(ci)) < STAFF["co_p_replaced"]) & (end + vacancy <= w.end - 60)
                    & (gen < STAFF["co_generations"] - 1))
        spells.append(pd.DataFrame({"ci": ci, "role": "co", "started": start,
                                    "ended": np.where(ended, end, nat),
                                    "end_reason": _end_reasons(rng, ended, _CO_END)}))
        n_ended, n_replaced = n_ended + ended.sum(), n_replaced + replaced.sum()
        ci, start = ci[replaced], (end + vacancy)[replaced]
    _record_staff(w, n_replaced / max(n_ended, 1))
    return pd.concat(spells, ignore_index=True)


def _penggerak(w: _World, rng: np.random.Generator, formed: np.ndarray) -> pd.DataFrame:
    """Three penggerak per community; leavers are not replaced (no cadre regeneration)."""
    ci = np.repeat(np.arange(len(formed)), 3)
    start = formed[ci] + _days(rng.integers(0, 31, len(ci)))
    end = start + _days(rng.exponential(STAFF["penggerak_mean_tenure_months"] * 30.44, len(ci)))
    ended = end <= w.end
    return pd.DataFrame({"ci": ci, "role": "penggerak", "started": start,
                         "ended": np.where(ended, end, np.datetime64("NaT")),
                         "end_reason": _end_reasons(rng, ended, _PG_END)})


def _officers(w: _World, rng: np.random.Generator, comm: pd.DataFrame) -> pd.DataFrame:
    """2-5 officers per provincial unit (LP3TKI/BP3TKI), listed under the unit's first community."""
    first = comm.reset_index().groupby("province_code")["index"].min().to_numpy()
    ci = np.repeat(first, rng.integers(2, 6, len(first)))
    start = np.datetime64(f"{w.start_year - 1}-01-02", "D") + _days(rng.integers(0, 600, len(ci)))
    leave = rng.random(len(ci)) < 0.2
    end = np.datetime64(f"{w.start_year + 1}-01-01", "D") + _days(
        rng.uniform(0, (w.end - np.datetime64(f"{w.start_year + 1}-01-01", "D")).astype(int) - 30, len(ci)))
    return pd.DataFrame({"ci": ci, "role": "officer", "started": start,
                         "ended": np.where(leave, end, np.datetime64("NaT")),
                         "end_reason": np.where(leave, "contract_ended", None)})


def _members_per_staff(w: _World, formed: np.ndarray, spells: pd.DataFrame) -> np.ndarray:
    """Members / average number of CO + penggerak in post during the first 24 months."""
    ci = spells["ci"].to_numpy()
    window_end = formed[ci] + np.timedelta64(730, "D")
    ended = spells["ended"].to_numpy().astype("datetime64[D]")
    stop = np.minimum(np.where(np.isnat(ended), window_end, ended), window_end)
    start = np.maximum(spells["started"].to_numpy().astype("datetime64[D]"), formed[ci])
    days = np.clip((stop - start).astype(int), 0, None)
    avg_staff = np.bincount(ci, weights=days, minlength=len(formed)) / 730.0
    sizes = w.lat["sizes"]
    mps = sizes / np.maximum(avg_staff, 0.5)
    w.record("mentoring", "members_per_staff_definition",
             "community members / average number of CO + penggerak in post during the 24 months after "
             "the community was formed (staff-days in post / 730)", "How members_per_staff is defined.")
    w.record("mentoring", "members_per_staff_mean", float(mps.mean()),
             "Unweighted mean of members_per_staff over communities (the centring constant).")
    return mps


def _record_staff(w: _World, share_replaced: float) -> None:
    w.record("staff", "penggerak_per_community", 3, "Penggerak per community (never replaced).")
    w.record("staff", "penggerak_mean_tenure_months", STAFF["penggerak_mean_tenure_months"],
             "Mean of the exponential penggerak tenure.")
    w.record("staff", "co_mean_tenure_months", STAFF["co_mean_tenure_months"],
             "Mean of the exponential CO tenure.")
    w.record("staff", "co_p_replaced", STAFF["co_p_replaced"],
             "Probability that a CO who left is replaced (cadre regeneration), after a vacancy.")
    w.record("staff", "co_vacancy_months", list(STAFF["vacancy_months"]),
             "Vacancy before a replacement CO starts: uniform whole months in this range.")
    w.record("staff", "co_share_replaced", share_replaced,
             "Realised share of CO exits that were followed by a replacement.")
    w.record("staff", "officers_per_unit", [2, 5], "Officers per LP3TKI/BP3TKI unit (uniform).")
