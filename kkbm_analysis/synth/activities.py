"""Groups, consultations, information services, advocacy cases, prevention events, village regulations, departures and placements."""
from __future__ import annotations

import uuid

import numpy as np
import pandas as pd

from .business import _uniform_between
from .calibration import LONTAR, PERDES, PUBLISHED, TRACAP
from .people import _names
from .world import _block_seq, _days, _months, _ns, _village_catalogue, _words, _World


def _per_community(counts: np.ndarray) -> np.ndarray:
    """Community index of each event, given event counts per community."""
    return np.repeat(np.arange(len(counts)), counts)


def _ids(cid: np.ndarray, prefix: str, width: int) -> np.ndarray:
    """``<community>-<prefix><n>`` numbered within each community (rows sorted by community)."""
    seq = _block_seq(cid)
    return np.char.add(np.char.add(cid.astype(str), f"-{prefix}"), np.char.zfill(seq.astype(str), width))


def _event_dates(rng: np.random.Generator, w: _World, formed: np.ndarray, lead_days: int = 30) -> np.ndarray:
    lo = formed + np.timedelta64(lead_days, "D")
    return _uniform_between(rng, lo, np.full(len(lo), w.end))


def _sorted_events(ci: np.ndarray, dates: np.ndarray) -> np.ndarray:
    return np.lexsort((dates, ci))


def _groups(w: _World, comm: pd.DataFrame) -> pd.DataFrame:
    """1-4 business groups (KUB) or cooperatives per community."""
    rng = w.rng("groups")
    ci = _per_community(1 + np.minimum(rng.poisson(1.0, len(comm)), 3))
    n = len(ci)
    formed = comm["formed_on"].to_numpy().astype("datetime64[D]")[ci]
    date = _uniform_between(rng, formed + np.timedelta64(60, "D"),
                            np.full(n, np.datetime64(f"{w.end_year - 1}-12-31", "D")))
    coop = rng.random(n) < 0.3
    o = _sorted_events(ci, date)
    ci, date, coop = ci[o], date[o], coop[o]
    cid = comm["community_id"].to_numpy()[ci]
    words = np.array(_words()["group_words"])
    word = words[rng.integers(0, len(words), n)]
    village = comm["community_name"].str.replace("KKBM ", "", regex=False).to_numpy()[ci]
    name = np.where(coop, np.char.add("Koperasi Purna PMI ", word.astype(str)),
                    np.char.add(np.char.add(np.char.add("KUB ", word.astype(str)), " "), village.astype(str)))
    w.record("groups", "model", "1 + min(Poisson(1), 3) groups per community; 30 % cooperatives; formed "
             "60 days after the community up to end_year - 1; legal entity 80 % of cooperatives, 15 % of KUB",
             "Business groups and cooperatives.")
    return pd.DataFrame({
        "group_id": _ids(cid, "K", 2), "community_id": cid, "group_name": name,
        "kind": np.where(coop, "cooperative", "business_group"), "formed_on": _ns(date),
        "member_count": pd.array(np.where(coop, rng.integers(20, 61, n), rng.integers(8, 31, n)), dtype="Int64"),
        "legal_entity": pd.array(rng.random(n) < np.where(coop, 0.8, 0.15), dtype="boolean"),
    })


_TOPICS = {"bank": ("Akses KUR", "Pembukuan sederhana"), "government": ("Perizinan usaha (NIB, PIRT)",
           "Pemasaran produk"), "university": ("Pengemasan produk", "Pemasaran digital"),
           "ngo": ("Penguatan kelompok", "Rencana usaha"), "private": ("Kemitraan pemasaran (CSR)",
           "Pelatihan produksi"), "other": ("Lainnya", "Konsultasi umum")}


def _consultations(w: _World, comm: pd.DataFrame, bus: pd.DataFrame) -> pd.DataFrame:
    """Business-development consultations with outside partners, often about one business."""
    rng = w.rng("consultations")
    nc = len(comm)
    cmap = dict(zip(comm["community_id"], range(nc)))
    b_ci = bus["community_id"].map(cmap).to_numpy()
    b_count = np.bincount(b_ci, minlength=nc)
    ci = _per_community(rng.poisson(2 + 0.05 * b_count))
    n = len(ci)
    starts = np.searchsorted(b_ci, np.arange(nc))
    pick = starts[ci] + (rng.random(n) * b_count[ci]).astype(int)
    about = (rng.random(n) < 0.6) & (b_count[ci] > 0)
    b = np.minimum(pick, len(bus) - 1)
    b_start = bus["started_on"].to_numpy().astype("datetime64[D]")[b]
    b_stop = bus["closed_on"].to_numpy().astype("datetime64[D]")[b]
    formed = comm["formed_on"].to_numpy().astype("datetime64[D]")[ci]
    lo = np.where(about, b_start + np.timedelta64(15, "D"), formed + np.timedelta64(30, "D"))
    hi = np.where(about & ~np.isnat(b_stop), b_stop, w.end)
    date = _uniform_between(rng, np.minimum(lo, hi), hi)  # while the business runs
    partners = np.array(["bank", "government", "university", "ngo", "private", "other"])
    ptype = partners[rng.choice(len(partners), n, p=[.3, .3, .12, .12, .12, .04])]
    topic = np.where(rng.random(n) < 0.5, [_TOPICS[p][0] for p in ptype], [_TOPICS[p][1] for p in ptype])
    o = _sorted_events(ci, date)
    cid = comm["community_id"].to_numpy()[ci[o]]
    business = np.where(about, bus["business_id"].to_numpy()[b], None)
    w.record("consultations", "model", "Poisson(2 + 0.05 x businesses) per community; 60 % about one "
             "business of the community (dated while it runs); partner shares bank .3, government .3, "
             "university/NGO/private .12 each, other .04", "Consultations.")
    return pd.DataFrame({
        "consultation_id": _ids(cid, "KS", 3), "community_id": cid,
        "business_id": pd.array(business[o], dtype="str"), "held_on": _ns(date[o]),
        "partner_type": ptype[o], "topic": topic[o],
    })


def _info_services(w: _World, comm: pd.DataFrame) -> pd.DataFrame:
    """Dissemination, information services and placement facilitation (KoboToolbox)."""
    rng = w.rng("info_services")
    formed = comm["formed_on"].to_numpy().astype("datetime64[D]")
    months = (w.end - formed).astype(int) / 30.44
    ci = _per_community(rng.poisson(0.5 * months))
    n = len(ci)
    date = _event_dates(rng, w, formed[ci])
    kinds = np.array(["dissemination", "information_service", "placement_facilitation"])
    k = rng.choice(3, n, p=[.45, .35, .20])
    attendees = np.select([k == 0, k == 1], [rng.integers(20, 121, n), rng.integers(3, 31, n)],
                          rng.integers(1, 16, n))
    placed = np.where(k == 2, rng.binomial(attendees, 0.6), -1)
    o = _sorted_events(ci, date)
    w.record("info_services", "model", "Poisson(0.5 per month active) events per community; dissemination "
             ".45 (20-120 people), information service .35 (3-30), placement facilitation .20 (1-15 "
             "people, Binomial(people, 0.6) placements)", "Information services.")
    return pd.DataFrame({
        "event_id": _uuids(rng, n), "community_id": comm["community_id"].to_numpy()[ci[o]],
        "held_on": _ns(date[o]), "kind": kinds[k[o]], "attendees": pd.array(attendees[o], dtype="Int64"),
        "placements_facilitated": pd.array(np.where(placed[o] >= 0, placed[o], None), dtype="Int64"),
    })


def _uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Deterministic version-4 UUIDs from the random stream."""
    raw = rng.integers(0, 256, (n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return np.array([str(uuid.UUID(bytes=r.tobytes())) for r in raw], dtype=object).astype(str)


ASSISTANCE = ("mediasi", "pendampingan_hukum", "pemulangan", "rujukan", "bantuan_dokumen")


_CASE_TYPES = ("unpaid_wages", "abuse", "trafficking", "documents", "contract", "lost_contact",
               "death_illness", "other")


_CASE_P = (.25, .12, .08, .18, .15, .10, .07, .05)


def _advocacy_cases(w: _World, comm: pd.DataFrame, mem: pd.DataFrame) -> pd.DataFrame:
    """Cases of PMI in trouble; Disnakertrans informed more often where the village is involved."""
    rng = w.rng("advocacy")
    nc = len(comm)
    formed = comm["formed_on"].to_numpy().astype("datetime64[D]")
    ci = _per_community(rng.poisson(0.15 * (w.end - formed).astype(int) / 30.44))
    n = len(ci)
    opened = _event_dates(rng, w, formed[ci], 15)
    outcome = np.array(["resolved", "referred", "unresolved", "ongoing"])[rng.choice(4, n, p=[.55, .2, .1, .15])]
    closed = opened + _days(rng.integers(7, 301, n))
    done = (outcome != "ongoing") & (closed <= w.end)
    outcome = np.where((outcome != "ongoing") & ~done, "ongoing", outcome)
    gov = comm["village_gov_involved"].to_numpy(dtype=bool)[ci]
    informed = rng.random(n) < np.where(gov, 0.5, 0.3)
    m_ci = w.lat["member_ci"]
    pmi = np.flatnonzero(w.lat["status"] <= 1)
    starts, counts = np.searchsorted(m_ci[pmi], np.arange(nc)), np.bincount(m_ci[pmi], minlength=nc)
    is_member = (rng.random(n) < 0.5) & (counts[ci] > 0)
    pick = pmi[np.minimum(starts[ci] + (rng.random(n) * counts[ci]).astype(int), len(pmi) - 1)]
    chosen = rng.random((n, len(ASSISTANCE))) < np.array([.5, .2, .15, .3, .25])
    chosen[np.arange(n), rng.integers(0, len(ASSISTANCE), n)] |= ~chosen.any(axis=1)
    assistance = [" ".join(a for a, c in zip(ASSISTANCE, row) if c) for row in chosen]
    o = _sorted_events(ci, opened)
    w.lat["case_non_member_names"] = _names(rng, rng.random(n) < 0.7)[o]
    w.record("advocacy_cases", "model", "Poisson(0.15 per month) cases per community; types "
             + str(dict(zip(_CASE_TYPES, _CASE_P))) + "; outcomes resolved .55, referred .2, unresolved .1, "
             "ongoing .15 (closed 7-300 days after opening unless ongoing or after end); half concern a PMI "
             "member; Disnakertrans informed with P 0.5 where the village government is involved, else 0.3",
             "Advocacy cases.")
    return pd.DataFrame({
        "case_id": _uuids(rng, n), "community_id": comm["community_id"].to_numpy()[ci[o]],
        "member_id": pd.array(np.where(is_member, mem["member_id"].to_numpy()[pick], None)[o], dtype="str"),
        "case_type": np.array(_CASE_TYPES)[rng.choice(len(_CASE_TYPES), n, p=_CASE_P)][o],
        "opened_on": _ns(opened[o]), "closed_on": _ns(np.where(done, closed, np.datetime64("NaT"))[o]),
        "outcome": outcome[o], "disnakertrans_informed": pd.array(informed[o], dtype="boolean"),
        "assistance": np.array(assistance, dtype=object)[o].astype(str),
    })


def _prevention_events(w: _World, comm: pd.DataFrame) -> pd.DataFrame:
    """Activities against non-procedural placement: people reached >= people dissuaded."""
    rng = w.rng("prevention")
    formed = comm["formed_on"].to_numpy().astype("datetime64[D]")
    ci = _per_community(rng.poisson(0.12 * (w.end - formed).astype(int) / 30.44))
    n = len(ci)
    date = _event_dates(rng, w, formed[ci])
    reached = rng.integers(10, 151, n)
    dissuaded = rng.binomial(reached, rng.uniform(0.02, 0.2, n))
    o = _sorted_events(ci, date)
    cid = comm["community_id"].to_numpy()[ci[o]]
    w.record("prevention_events", "model", "Poisson(0.12 per month) per community; reached 10-150; "
             "dissuaded Binomial(reached, U(0.02, 0.2))", "Prevention events.")
    return pd.DataFrame({
        "event_id": _ids(cid, "P", 3), "community_id": cid, "held_on": _ns(date[o]),
        "people_reached": pd.array(reached[o], dtype="Int64"),
        "people_dissuaded": pd.array(dissuaded[o], dtype="Int64"),
    })


def _perdes_and_departures(w: _World, comm: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Staggered Perdes adoption and the village x month departures panel with its true ATT."""
    rng = w.rng("perdes")
    nv = len(comm)
    lontar = comm["village_code"].to_numpy() == LONTAR
    gov = comm["village_gov_involved"].to_numpy(dtype=bool)
    adopt = (rng.random(nv) < np.where(gov, PERDES["p_adopt_gov_involved"], PERDES["p_adopt_other"])) | lontar
    lo = _months(np.array([np.datetime64(f"{w.start_year + 1}-01", "M")]))[0]
    hi = _months(np.array([np.datetime64(f"{w.end_year - 1}-06", "M")]))[0]
    g = np.where(lontar, rng.integers(lo, lo + 12, nv), rng.integers(lo, hi + 1, nv))
    adopted_on = g.astype("datetime64[M]").astype("datetime64[D]") + _days(rng.integers(0, 28, nv))
    months = np.arange(_months(np.array([np.datetime64(f"{w.start_year - 1}-01", "M")]))[0],
                       _months(np.array([np.datetime64(f"{w.end_year}-12", "M")]))[0] + 1)
    mu0, mu_p = _departure_means(w, rng, nv, months)
    e = months[None, :] - g[:, None]
    k = PERDES["k_earliest"] + (PERDES["k_latest"] - PERDES["k_earliest"]) * (g - lo) / max(hi - lo, 1)
    r = np.where(e < 3, PERDES["effect_months_0_2"], PERDES["effect_from_month_3"])
    treated = adopt[:, None] & (e >= 0)
    tau = np.where(treated, np.log(1 - r * k[:, None]), 0.0)
    non_proc = rng.poisson(mu0 * np.exp(tau))
    proc = rng.poisson(mu_p)
    _record_perdes(w, comm, adopt, g, months, mu0, tau, treated, lo, hi)
    vi = np.repeat(np.arange(nv), len(months))
    regions = comm[["province_code", "regency_code", "district_code", "village_code"]]
    departures = regions.iloc[vi].reset_index(drop=True).assign(
        period=_ns(np.tile(months, nv).astype("datetime64[M]")),
        procedural=pd.array(proc.ravel(), dtype="Int64"), non_procedural=pd.array(non_proc.ravel(), dtype="Int64"))
    names = _village_catalogue().set_index("village_code")["village_name"]
    a = np.flatnonzero(adopt)
    year = adopted_on[a].astype("datetime64[Y]").astype(int) + 1970
    number = rng.integers(1, 13, len(a))
    title = [f"Peraturan Desa {names[v]} Nomor {n} Tahun {y} tentang Perlindungan Pekerja Migran Indonesia"
             for v, n, y in zip(comm["village_code"].to_numpy()[a], number, year)]
    perdes = regions.iloc[a].reset_index(drop=True).assign(title=title, adopted_on=_ns(adopted_on[a]))
    return perdes, departures


def _departure_means(w: _World, rng: np.random.Generator, nv: int, months: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Untreated means: village effect x seasonality x trend x a common 2020 shock."""
    t = months - months[0]
    season = PERDES["seasonal_amplitude"] * np.sin(2 * np.pi * ((months % 12) - 2) / 12)
    year = months // 12 + 1970
    shock = np.where((year == 2020) & (months % 12 >= 3), np.log(PERDES["shock_2020"]), 0.0)
    alpha = np.log(PERDES["baseline_non_procedural"]) + rng.normal(0, PERDES["sd_village"], nv)
    beta = np.log(PERDES["baseline_procedural"]) + rng.normal(0, PERDES["sd_village"], nv)
    mu0 = np.exp(alpha[:, None] + (season + PERDES["trend_per_month"] * t + shock)[None, :])
    mu_p = np.exp(beta[:, None] + (0.5 * season + 0.002 * t + shock)[None, :])
    return mu0, mu_p


def _record_perdes(w, comm, adopt, g, months, mu0, tau, treated, lo, hi) -> None:
    """True ATT(g, t) in counts per village-month, from the true means (not the draws)."""
    att = mu0 * (np.exp(tau) - 1)
    v, t = np.nonzero(treated)
    cells = pd.DataFrame({"cohort": g[v], "period": months[t], "att": att[v, t], "mu0": mu0[v, t]})
    by_gt = cells.groupby(["cohort", "period"]).agg(att=("att", "mean"), n_villages=("att", "size")).reset_index()
    cells["event_time"] = cells["period"] - cells["cohort"]
    by_e = cells.groupby("event_time").agg(att=("att", "mean"), n_cells=("att", "size")).reset_index()
    month = lambda m: str(np.datetime64(int(m), "M"))  # noqa: E731
    s = "perdes"
    w.record(s, "adopting_villages", {c: month(gi) for c, gi, a in zip(comm["village_code"], g, adopt) if a},
             "Village code -> adoption month (cohort g) of the villages that adopted a Perdes.")
    w.record(s, "never_treated_villages", sorted(comm["village_code"][~adopt]), "Villages never treated.")
    w.record(s, "p_adopt", {"village_gov_involved": PERDES["p_adopt_gov_involved"],
                            "other": PERDES["p_adopt_other"]},
             "Adoption probability (Lontar always adopts, in start_year + 1).")
    w.record(s, "adoption_window", [month(lo), month(hi)], "Adoption months are uniform in this window.")
    w.record(s, "cohort_definition", "g = the calendar month containing adopted_on; event time e = period - g "
             "in months; treated from e = 0", "How cohorts and event time are defined.")
    w.record(s, "effect", "non_procedural mean x (1 - r(e) * k(g)), r = 0.10 for e = 0..2, 0.30 from e = 3; "
             "k(g) = 1.25 for the earliest possible cohort falling linearly to 0.75 for the latest",
             "Heterogeneous treatment effect on non-procedural departures (procedural unaffected).")
    for key in ("effect_months_0_2", "effect_from_month_3", "k_earliest", "k_latest", "baseline_non_procedural",
                "baseline_procedural", "sd_village", "trend_per_month", "seasonal_amplitude", "shock_2020"):
        w.record(s, key, PERDES[key], _PERDES_TEXT[key])
    w.record(s, "att_gt", [{"cohort": month(r.cohort), "period": month(r.period),
                            "event_time": int(r.period - r.cohort), "att": r.att, "n_villages": int(r.n_villages)}
                           for r in by_gt.itertuples()],
             "True ATT(g, t): mean over the cohort's villages of mu0 * (exp(tau) - 1), in non-procedural "
             "departures per village-month.")
    w.record(s, "att_by_event_time", [{"event_time": int(r.event_time), "att": r.att, "n_cells": int(r.n_cells)}
                                      for r in by_e.itertuples()],
             "True ATT by event time, averaged over treated village-months.")
    w.record(s, "att_overall", float(cells["att"].mean()),
             "True overall ATT: mean over all treated village-months after adoption (counts per village-month).")
    w.record(s, "att_overall_relative", float(cells["att"].sum() / cells["mu0"].sum()),
             "Sum of ATT / sum of untreated means over the same cells (proportional effect).")


_PERDES_TEXT = {
    "effect_months_0_2": "Proportional reduction (before k(g)) in months 0-2 after adoption.",
    "effect_from_month_3": "Proportional reduction (before k(g)) from month 3.",
    "k_earliest": "Cohort multiplier k(g) for the earliest possible cohort.",
    "k_latest": "Cohort multiplier k(g) for the latest possible cohort.",
    "baseline_non_procedural": "Median village's mean monthly non-procedural departures (before trend).",
    "baseline_procedural": "Median village's mean monthly procedural departures.",
    "sd_village": "SD of the village effect on the log mean.",
    "trend_per_month": "Common trend of log non-procedural departures per month.",
    "seasonal_amplitude": "Amplitude of the common seasonal sine on the log scale.",
    "shock_2020": "Common multiplicative shock from April 2020 (COVID-19 border closures), both kinds.",
}


_PLACEMENT_TOTALS = {2016: 234_451, 2017: 262_899, 2018: 283_640, 2019: 276_553, 2020: 113_173,
                     2021: 72_624, 2022: 200_761, 2023: 274_965}


_PLACEMENT_SHARES = {"35": .24, "33": .21, "32": .21, "52": .11, "18": .06, "12": .04, "36": .03, "51": .02,
                     "53": .02, "73": .01, "34": .005}


LEGACY_PAPUA = {"93": "91", "94": "91", "95": "91", "96": "92"}


def _placements(w: _World) -> pd.DataFrame:
    """BP2MI-style placements by province x year x sex (synthetic split of national totals)."""
    from lokal import wilayah
    rng = w.rng("placements")
    provinces = sorted(c for c in wilayah._base() if len(c) == 2)
    others = [p for p in provinces if p not in _PLACEMENT_SHARES]
    rest = (1 - sum(_PLACEMENT_SHARES.values())) / len(others)
    share = np.array([_PLACEMENT_SHARES.get(p, rest) for p in provinces])
    female = np.where(np.isin(provinces, ["52", "53"]), 0.45, 0.72)
    rows = []
    for year in range(w.start_year - 1, w.end_year + 1):
        total = _PLACEMENT_TOTALS.get(year, 250_000)
        code = np.array([LEGACY_PAPUA.get(p, p) if year < 2022 else p for p in provinces])
        for sex, p_sex in (("L", 1 - female), ("P", female)):
            mean = pd.Series(total * share * p_sex).groupby(code).sum()
            rows.append(pd.DataFrame({"year": year, "province_code": mean.index, "sex": sex,
                                      "placements": rng.poisson(mean.to_numpy())}))
    df = pd.concat(rows, ignore_index=True).sort_values(["year", "province_code", "sex"], ignore_index=True)
    w.record("placements", "model", "national totals per year (approximately the published BP2MI totals; "
             "250,000 where not listed) split by fixed synthetic province shares and sex (72 % women, 45 % "
             "in NTB and NTT), Poisson noise; before 2022 provinces 93-95 are reported under 91 (Papua) and "
             "96 under 92 (Papua Barat)", "Placements context table (synthetic, not the published counts).")
    return pd.DataFrame({
        "year": pd.array(df["year"], dtype="Int64"), "province_code": df["province_code"],
        "regency_code": pd.array([None] * len(df), dtype="str"), "sex": df["sex"],
        "destination_country": pd.array([None] * len(df), dtype="str"),
        "placements": pd.array(df["placements"], dtype="Int64"),
        "source": "SYNTHETIC - modelled on BP2MI Data Penempatan PMI; not the published counts",
    })


def _record_calibration(w: _World, t: dict[str, pd.DataFrame]) -> None:
    comm, mem, staff = t["communities"], t["members"], t["staff"]
    c = "calibration"
    w.record(c, "published_aggregates", PUBLISHED,
             "Published reach by 2017-2018 (seeds 001, 002) that the demo scale reproduces exactly.")
    w.record(c, "provinces", int(comm["province_code"].nunique()), "Provinces with a community.")
    w.record(c, "villages", int(comm["village_code"].nunique()), "Villages (one community each).")
    w.record(c, "communities", len(comm), "Communities (KKBM units).")
    w.record(c, "members", len(mem), "Members; all joined in start_year..start_year + 1.")
    w.record(c, "penggerak", int((staff["role"] == "penggerak").sum()), "Penggerak (3 per community).")
    w.record(c, "co_spells", int((staff["role"] == "co").sum()), "CO spells (1 per community plus replacements).")
    w.record(c, "officers", int((staff["role"] == "officer").sum()), "LP3TKI/BP3TKI officers.")
    w.record(c, "community_sizes", {"min": int(w.lat["sizes"].min()), "max": int(w.lat["sizes"].max())},
             "Members per community: minimum plus Dirichlet(4)-multinomial.")
    w.record(c, "regencies", sorted(comm["regency_code"].unique()), "Regencies with a community.")
    w.record(c, "known_villages", {"Lontar": LONTAR, "Tracap": TRACAP},
             "Real villages that must be present (seeds 002, 004).")
