"""Synthetic resilience survey rounds with a latent structure known by construction.

The generator takes the synthetic programme world (member register, mentoring, KUR,
staffing, village government) and interviews a sample of members in three rounds. What
it draws, and what ``ground_truth.json`` (section ``resilience``) records:

Sample and rounds
    ``per_province`` members per province (all when fewer), simple random sample within
    province. Baseline in February-April of ``start_year + 2``; follow-up 1 in
    February-March and follow-up 2 in October-November of ``start_year + 3``. A member
    answers follow-up 1 with probability 0.92 and, having answered it, follow-up 2 with
    0.92 (monotone drop-out, completely at random).
Capacities (absorptive, adaptive, transformative)
    ``F_irk = sum_p gamma_pk (x_irp - mean_p) + u_ck + z_ik + e_irk`` with the
    covariates ``x`` of :func:`kkbm_analysis.resilience.frames.covariates` at the
    interview date (means: baseline sample), a community effect ``u ~ N(0, 0.05)``, a
    person effect ``z`` (correlations 0.5 / 0.4 / 0.5) and an occasion effect
    ``e ~ N(0, 0.15)``; var(z) is set so that each capacity has variance 1 in the baseline
    sample. So ``gamma`` is in standard deviations of the capacity per unit of the covariate.
Items
    Latent response ``y*_j = lambda_j F_k(j) + sqrt(1 - lambda_j^2) eps``, cut at four
    thresholds into the 1-5 answer. The *observed-scale loading* (the change in the
    expected answer per SD of the capacity, what a linear CFA with unit-variance factors
    estimates) is ``l_j = lambda_j * sum_s phi(tau_js)``, recorded as ``loadings``.
Shocks and recovery
    At each follow-up a member reports a shock since the previous interview with
    probability 0.35 (follow-up 1) or 0.55 (follow-up 2), independent of the capacities;
    the most serious one starts in a month between the two interviews. Recovery happens
    in month k after the shock with the discrete-time proportional hazard
    ``1 - exp(-exp(alpha + sum_k delta_k F_prev,k))``, ``F_prev`` the true capacities at
    the previous interview; it is reported when k is at most the completed months before
    the interview (``months_to_recover = k``). ``delta`` is the log hazard ratio per SD.
Protective factors, risks, outcomes
    Individual and social resources load on latent factors correlated with the capacities;
    risk items, well-being (income stability, basic needs), remittance use and re-migration
    (procedural or not) depend on the capacities as listed in the ground truth.

:func:`simulate_survey` returns the processed table (as the ingest makes it);
:func:`demo_data` adds it to :func:`kkbm_analysis.synth.program_data`;
:func:`add_survey_to_demo` writes it as a KoboToolbox export of the XLSForm, with planted
defects, into the demo's raw folder.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ..config import DEFAULT_SEED
from ..data import ProgramData
from ..resilience.frames import DRIVERS, ROUNDS, covariates
from ..item_bank import CAPACITIES, load_item_bank
from .survey_kobo import uuids

SECTION = "resilience"
KOBO_FILE = "SYNTHETIC_kobo_survei_ketahanan.xlsx"
PER_PROVINCE = 200
RETENTION = 0.92
#: (month window start, end) of each round, as (years after start_year, month).
ROUND_WINDOWS = {"baseline": ((2, 2), (2, 4)), "followup_1": ((3, 2), (3, 3)), "followup_2": ((3, 10), (3, 11))}
BASE_THRESHOLDS = np.array([-1.6, -0.6, 0.4, 1.4])

#: Latent-response loadings and threshold shifts of the capacity items (item bank order).
ITEM_LAMBDA = {"absorptive": (0.80, 0.70, 0.65, 0.55), "adaptive": (0.75, 0.80, 0.60, 0.70),
               "transformative": (0.70, 0.60, 0.75, 0.65)}
ITEM_SHIFT = {"absorptive": (0.6, 0.0, 0.3, -0.3), "adaptive": (0.0, 0.2, -0.2, 0.4),
              "transformative": (0.3, 0.5, 0.7, 0.2)}
#: Effects of the covariates on the capacities (SD of capacity per unit).
GAMMA = {
    "points": (0.10, 0.15, 0.08),
    "membership_years": (0.12, 0.08, 0.15),
    "kur_approved": (0.20, 0.10, 0.05),
    "village_gov_involved": (0.00, 0.05, 0.25),
    "perdes_in_force": (0.00, 0.00, 0.10),
    "members_per_staff_10": (0.00, -0.04, -0.04),
    "female": (0.00, 0.00, 0.00),
}
COMMUNITY_VAR = 0.05
OCCASION_VAR = 0.15
PERSON_CORR = np.array([[1.0, 0.5, 0.4], [0.5, 1.0, 0.5], [0.4, 0.5, 1.0]])
RECOVERY_ALPHA = float(np.log(0.18))
RECOVERY_DELTA = (0.35, 0.20, 0.0)
SHOCK_P = {"followup_1": 0.35, "followup_2": 0.55}
PROTECTIVE = {"protective_individual": ((0.25, 0.45, 0.0), (0.75, 0.65, 0.60)),
              "protective_social": ((0.20, 0.0, 0.50), (0.70, 0.65, 0.60))}


@dataclass
class SurveyDemo:
    """What :func:`simulate_survey` made.

    Attributes
    ----------
    surveys : DataFrame
        The processed ``resilience_surveys`` table (typed and sorted as the ingest makes it).
    truth : dict
        The ground-truth section (every entry ``{"value", "description"}``).
    latent : DataFrame
        Per interview: ``member_id, round`` and the true capacities (for tests).
    """

    surveys: pd.DataFrame
    truth: dict
    latent: pd.DataFrame = field(repr=False)


# --------------------------------------------------------------------------- truth helpers
def observed_loadings() -> dict[str, float]:
    """True observed-scale loadings ``l_j = lambda_j * sum_s phi(tau_js)`` per item field."""
    bank = load_item_bank()
    out = {}
    for cap in CAPACITIES:
        for f, lam, shift in zip(bank.scale_fields(cap), ITEM_LAMBDA[cap], ITEM_SHIFT[cap]):
            out[f] = float(lam * stats.norm.pdf(BASE_THRESHOLDS + shift).sum())
    return out


def _truth(n_members: dict[str, int], start_year: int) -> dict[str, dict[str, Any]]:
    def entry(value: Any, description: str) -> dict[str, Any]:
        return {"value": value, "description": description}

    bank = load_item_bank()
    lam = {f: loading for cap in CAPACITIES for f, loading in zip(bank.scale_fields(cap), ITEM_LAMBDA[cap])}
    return {
        "sample_per_province": entry(n_members, "members interviewed at baseline, per province"),
        "rounds": entry({r: [f"{start_year + a[0]}-{a[1]:02d}", f"{start_year + b[0]}-{b[1]:02d}"]
                         for r, (a, b) in ROUND_WINDOWS.items()}, "fieldwork months of each round"),
        "retention": entry(RETENTION, "probability of answering the next round (monotone drop-out, at random)"),
        "loadings": entry({f: round(v, 6) for f, v in observed_loadings().items()},
                          "observed-scale loading of each capacity item: change in the expected 1-5 answer "
                          "per SD of its capacity (what a CFA with unit-variance factors estimates)"),
        "latent_response_loadings": entry(lam, "loading of the item's latent response (unit variance)"),
        "thresholds": entry({f: (BASE_THRESHOLDS + s).round(3).tolist() for cap in CAPACITIES
                             for f, s in zip(bank.scale_fields(cap), ITEM_SHIFT[cap])},
                            "cut points of the latent response into the answers 1-5"),
        "gamma": entry({p: dict(zip(CAPACITIES, v)) for p, v in GAMMA.items()},
                       "effect of each covariate on each capacity, in SD of the capacity per unit "
                       "(covariates as in kkbm_analysis.resilience.frames)"),
        "community_variance": entry(COMMUNITY_VAR, "variance of the community effect on each capacity"),
        "occasion_variance": entry(OCCASION_VAR, "variance of the occasion (round) effect on each capacity"),
        "person_correlation": entry(PERSON_CORR.tolist(), "correlation of the person effects of the capacities"),
        "recovery_alpha": entry(RECOVERY_ALPHA, "log of the monthly recovery hazard at average capacities"),
        "recovery_delta": entry(dict(zip(CAPACITIES, RECOVERY_DELTA)),
                                "log hazard ratio of recovery per SD of the capacity before the shock "
                                "(discrete-time proportional hazards, cloglog link)"),
        "shock_probability": entry(SHOCK_P, "probability of a shock since the previous interview "
                                            "(independent of the capacities)"),
    }


# --------------------------------------------------------------------------- the draw
def simulate_survey(data: ProgramData, *, seed: int = DEFAULT_SEED, per_province: int = PER_PROVINCE,
                    start_year: int | None = None) -> SurveyDemo:
    """Interview a sample of the programme's members in three rounds (module docstring).

    Parameters
    ----------
    data : ProgramData
        The programme world (processed tables; e.g. :func:`kkbm_analysis.synth.program_data`).
    seed : int
        Same seed and data, same survey.
    per_province : int
        Members sampled per province.
    start_year : int, optional
        Programme start (default: the year the first community formed).
    """
    rng = np.random.default_rng([int(seed), zlib.crc32(b"resilience-survey")])
    start_year = int(start_year or pd.to_datetime(data.communities["formed_on"]).min().year)
    members = _sample(data, rng, per_province)
    rows = _rounds(members, rng, start_year)
    x = covariates(data, rows)
    cap = _capacities(rows, x, rng)
    out = rows[["member_id", "community_id", "round", "interviewed_on"]].copy()
    out["worked_abroad"] = _worked_abroad(members, rows, rng)
    _risks(out, rows, cap, rng)
    prot = _protective(cap, rng)
    bank = load_item_bank()
    for scale, latent in prot.items():
        for f, lam in zip(bank.scale_fields(scale), PROTECTIVE[scale][1]):
            out[f] = _likert(latent, lam, -0.3, rng)
    for k, c in enumerate(CAPACITIES):
        for f, lam, shift in zip(bank.scale_fields(c), ITEM_LAMBDA[c], ITEM_SHIFT[c]):
            out[f] = _likert(cap[:, k], lam, shift, rng)
    unrecovered = _shocks(out, rows, cap, rng)
    _outcomes(out, rows, cap, unrecovered, rng)
    out["submission_id"] = uuids(rng, len(out))
    n = members.groupby("province_code").size()
    latent = pd.DataFrame({"member_id": rows["member_id"], "round": rows["round"],
                           **{c: cap[:, k] for k, c in enumerate(CAPACITIES)}})
    return SurveyDemo(finalise(out), _truth({str(k): int(v) for k, v in n.items()}, start_year), latent)


def finalise(surveys: pd.DataFrame) -> pd.DataFrame:
    """Typed, key-sorted table exactly as the ingest writes ``resilience_surveys``."""
    from ..schema import TABLES
    from ..store import conform  # one definition of "processed", shared with the ingest

    df = surveys.reindex(columns=TABLES["resilience_surveys"].columns)
    df["_uid"] = np.arange(len(df))
    return conform("resilience_surveys", df)


def _sample(data: ProgramData, rng: np.random.Generator, per_province: int) -> pd.DataFrame:
    mem = data.members[["member_id", "community_id", "sex", "status", "joined_on"]].copy()
    mem["member_id"] = mem["member_id"].astype("string")
    prov = data.communities.drop_duplicates("community_id").set_index("community_id")["province_code"]
    mem["province_code"] = mem["community_id"].map(prov).astype("string")
    mem = mem.sort_values("member_id", kind="stable").reset_index(drop=True)
    picked = []
    for _, idx in sorted(mem.groupby("province_code").groups.items()):
        idx = np.asarray(idx)
        picked.append(np.sort(rng.choice(idx, min(per_province, len(idx)), replace=False)))
    return mem.loc[np.sort(np.concatenate(picked))].reset_index(drop=True)


def _rounds(members: pd.DataFrame, rng: np.random.Generator, start_year: int) -> pd.DataFrame:
    n = len(members)
    answers = np.ones(n, bool)
    parts = []
    for i, r in enumerate(ROUNDS):
        if i:
            answers &= rng.random(n) < RETENTION
        (ya, ma), (yb, mb) = ROUND_WINDOWS[r]
        lo = np.datetime64(f"{start_year + ya}-{ma:02d}-01")
        hi = (np.datetime64(f"{start_year + yb}-{mb:02d}", "M") + 1).astype("datetime64[D]")
        days = rng.integers(0, int((hi - lo).astype(int)), n)
        part = members.assign(round=r, interviewed_on=pd.to_datetime(lo + days.astype("timedelta64[D]")))
        parts.append(part[answers])
    rows = pd.concat(parts, ignore_index=True)
    rows["member_community_id"] = rows["community_id"]
    rows["round_index"] = rows["round"].map({r: i for i, r in enumerate(ROUNDS)})
    return rows.sort_values(["member_id", "round_index"], kind="stable").reset_index(drop=True)


def _capacities(rows: pd.DataFrame, x: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    gamma = np.array([GAMMA[p] for p in DRIVERS])
    X = x[list(DRIVERS)].to_numpy(dtype=float)
    base = (rows["round"] == "baseline").to_numpy()
    m = (X - X[base].mean(axis=0)) @ gamma
    comm, comm_idx = np.unique(rows["community_id"].astype(str), return_inverse=True)
    u = rng.normal(0, np.sqrt(COMMUNITY_VAR), (len(comm), 3))[comm_idx]
    person, person_idx = np.unique(rows["member_id"].astype(str), return_inverse=True)
    var_z = 1.0 - m[base].var(axis=0) - COMMUNITY_VAR - OCCASION_VAR
    sd = np.sqrt(np.clip(var_z, 0.05, None))
    z = rng.multivariate_normal(np.zeros(3), PERSON_CORR * np.outer(sd, sd), len(person))[person_idx]
    e = rng.normal(0, np.sqrt(OCCASION_VAR), (len(rows), 3))
    return m + u + z + e


def _likert(latent: np.ndarray, lam: float, shift: float, rng: np.random.Generator) -> np.ndarray:
    y = lam * latent + np.sqrt(1 - lam**2) * rng.standard_normal(len(latent))
    return 1 + (y[:, None] > (BASE_THRESHOLDS + shift)[None, :]).sum(axis=1)


def _worked_abroad(members: pd.DataFrame, rows: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    status = members.set_index("member_id")["status"]
    draw = pd.Series(rng.random(len(status)) < 0.2, index=status.index)
    abroad = status.isin(["pmi_purna", "pmi_aktif"]) | ((status == "keluarga") & draw)
    return rows["member_id"].map(abroad).to_numpy(dtype=bool)


def _bernoulli(logit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.random(len(logit)) < 1 / (1 + np.exp(-logit))


def _risks(out: pd.DataFrame, rows: pd.DataFrame, cap: np.ndarray, rng: np.random.Generator) -> None:
    later = (rows["round"] != "baseline").to_numpy(dtype=float)
    aktif = (rows["status"] == "pmi_aktif").to_numpy(dtype=float)
    abs_, ada, tra = cap.T
    out["risk_debt"] = _bernoulli(-0.6 - 0.5 * abs_, rng)
    out["risk_job_loss"] = _bernoulli(-1.4 - 0.3 * ada + 0.8 * later, rng)
    out["risk_irregular_income"] = _bernoulli(-0.2 - 0.4 * ada, rng)
    out["risk_family_breakdown"] = _bernoulli(-2.3 - 0.3 * tra, rng)
    out["risk_child_care"] = _bernoulli(-1.7 + 0.6 * aktif, rng)
    out["risk_remittance_conflict"] = _bernoulli(-1.9 + 0.5 * aktif, rng)
    abroad = out["worked_abroad"].to_numpy(dtype=bool)
    for f, a in (("risk_early_return", -1.5 + 0.7 * later), ("risk_abuse", -2.0), ("risk_unpaid_wages", -1.7)):
        out[f] = pd.array(np.where(abroad, _bernoulli(np.full(len(out), 0.0) + a, rng), pd.NA), dtype="boolean")


def _protective(cap: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    out = {}
    for scale, (weights, _) in PROTECTIVE.items():
        w = np.asarray(weights)
        signal = cap @ w
        out[scale] = signal + np.sqrt(max(1 - signal.var(), 0.2)) * rng.standard_normal(len(cap))
    return out


#: Relative frequency of each shock type (choice list ``shock_type`` of the item bank).
SHOCK_WEIGHTS = {"job_loss": 0.30, "illness": 0.18, "business_failure": 0.12, "debt_crisis": 0.12,
                 "early_return": 0.10, "remittance_stop": 0.08, "disaster": 0.07, "death": 0.03}


def _month_index(d: pd.Series) -> np.ndarray:
    d = pd.to_datetime(d)
    return (d.dt.year * 12 + d.dt.month - 1).to_numpy(dtype=int)


def _shocks(out: pd.DataFrame, rows: pd.DataFrame, cap: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shocks since the previous interview and recovery; returns 'shocked and not recovered'."""
    n = len(rows)
    p = rows["round"].map(SHOCK_P).fillna(0.0).to_numpy(dtype=float)
    shocked = rng.random(n) < p
    prev = np.r_[False, (rows["member_id"].to_numpy()[1:] == rows["member_id"].to_numpy()[:-1])]
    shocked &= prev  # every follow-up row has the member's previous round (monotone drop-out)
    month = _month_index(rows["interviewed_on"])
    prev_month = np.r_[month[0], month[:-1]]
    start = prev_month + 1 + np.floor(rng.random(n) * np.maximum(month - prev_month - 1, 1)).astype(int)
    completed = month - start
    prev_cap = np.vstack([cap[:1], cap[:-1]])
    hazard = 1 - np.exp(-np.exp(RECOVERY_ALPHA + prev_cap @ np.array(RECOVERY_DELTA)))
    k = rng.geometric(hazard)
    recovered = shocked & (k <= completed)
    shocks = np.asarray([c.name for c in load_item_bank().choices["shock_type"]])
    weights = np.array([SHOCK_WEIGHTS[s] for s in shocks])
    first = rng.choice(len(shocks), n, p=weights / weights.sum())
    second = rng.choice(len(shocks), n, p=weights / weights.sum())
    two = rng.random(n) < 0.3
    listed = [" ".join(dict.fromkeys([shocks[a]] + ([shocks[b]] if t else []))) for a, b, t in zip(first, second, two)]
    out["any_shock"] = pd.array(np.where(rows["round"] == "baseline", pd.NA, shocked), dtype="boolean")
    out["shocks"] = pd.array(np.where(shocked, listed, None), dtype="string")
    out["main_shock"] = pd.array(np.where(shocked, shocks[first], None), dtype="string")
    start_date = pd.to_datetime({"year": start // 12, "month": start % 12 + 1, "day": 1})
    out["main_shock_month"] = start_date.where(shocked)
    out["recovered"] = pd.array(np.where(shocked, recovered, pd.NA), dtype="boolean")
    out["months_to_recover"] = pd.array(np.where(recovered, k, pd.NA), dtype="Int64")
    return shocked & ~recovered


def _outcomes(out: pd.DataFrame, rows: pd.DataFrame, cap: np.ndarray, unrecovered: np.ndarray,
              rng: np.random.Generator) -> None:
    abs_, ada, tra = cap.T
    hit = unrecovered.astype(float)
    for f, signal in (("income_stability", 0.45 * abs_ + 0.25 * ada + 0.10 * tra - 0.6 * hit),
                      ("basic_needs", 0.50 * abs_ + 0.15 * ada - 0.4 * hit)):
        latent = signal + np.sqrt(max(1 - signal.var(), 0.2)) * rng.standard_normal(len(signal))
        out[f] = 1 + (latent[:, None] > BASE_THRESHOLDS[None, :]).sum(axis=1)
    aktif = (rows["status"] == "pmi_aktif").to_numpy()
    received = rng.random(len(rows)) < np.where(aktif, 0.85, 0.25)
    out["remittance_received"] = received
    uses = {"consumption": np.full(len(rows), 2.2), "education": np.full(len(rows), -0.4),
            "health": np.full(len(rows), -1.4), "business": -1.2 + 0.5 * ada + 0.3 * tra,
            "savings": -1.0 + 0.4 * abs_, "debt_repayment": -1.0 - 0.4 * abs_, "housing": np.full(len(rows), -1.1)}
    chosen = np.column_stack([_bernoulli(v, rng) for v in uses.values()])
    chosen[~chosen.any(axis=1), 0] = True
    names = np.asarray(list(uses))
    text = [" ".join(names[c]) for c in chosen]
    out["remittance_use"] = pd.array(np.where(received, text, None), dtype="string")
    base_p = rows["status"].map({"calon_pmi": 0.25, "keluarga": 0.10, "pmi_purna": 0.12,
                                 "pmi_aktif": 0.05}).fillna(0.1).to_numpy(dtype=float)
    left = rng.random(len(rows)) < base_p
    irregular = _bernoulli(-1.2 - 0.5 * tra, rng)
    out["remigration"] = np.where(~left, "none", np.where(irregular, "non_procedural", "procedural"))


# --------------------------------------------------------------------------- entry points
def demo_data(*, seed: int = DEFAULT_SEED, scale: str | float = "demo", per_province: int = PER_PROVINCE,
              start_year: int = 2017, end_year: int = 2020) -> ProgramData:
    """:func:`kkbm_analysis.synth.program_data` plus the resilience survey (no file round trip).

    Equal to the ingest of :func:`kkbm_analysis.synth.generate_demo`'s files minus planted
    defects (a test checks it). The truth is in ``manifest['ground_truth']['resilience']``.
    """
    from .processed import program_data

    data = program_data(seed=seed, scale=scale, start_year=start_year, end_year=end_year)
    demo = simulate_survey(data, seed=seed, per_province=per_province, start_year=start_year)
    data.tables["resilience_surveys"] = demo.surveys
    data.manifest.setdefault("ground_truth", {})[SECTION] = demo.truth
    return data


def add_survey_to_demo(out_dir: str | Path, tables: Mapping[str, pd.DataFrame], *, seed: int,
                       dirty_share: float, files: list, quarantine: list, truth: dict) -> None:
    """The hook of :func:`kkbm_analysis.synth.generate_demo`: write the survey's Kobo export.

    ``tables`` are the demo's clean tables (raw NIKs). Appends the file to ``files``, its
    planted defects (``file, sheet, row, table, rule``) to ``quarantine`` and the truth to
    ``truth['resilience']``.
    """
    from .survey_kobo import write_kobo_export

    data, nik_of = _processed_view(tables)
    demo = simulate_survey(data, seed=seed)
    path = Path(out_dir) / KOBO_FILE
    expected = write_kobo_export(path, demo.surveys, data, nik_of, seed=seed, dirty_share=dirty_share)
    files.append(path)
    quarantine.append(expected)
    truth[SECTION] = demo.truth


def _processed_view(tables: Mapping[str, pd.DataFrame]) -> tuple[ProgramData, pd.Series]:
    """The clean tables with member NIKs replaced by the demo key's pseudonyms (as the ingest does)."""
    from ..privacy import PseudonymKey, pseudonymise
    from ..schema import TABLES

    key = PseudonymKey.demo()
    view = {}
    for name in ("communities", "members", "staff", "sessions", "attendance", "kur_loans", "village_regulations"):
        df = tables[name][[c for c in TABLES[name].columns if c in tables[name]]].copy()
        if "member_id" in df:
            df["member_id"] = pseudonymise(df["member_id"], key, "member")
        view[name] = df
    nik_of = pd.Series(tables["members"]["member_id"].astype(str).to_numpy(),
                       index=view["members"]["member_id"].astype(str).to_numpy())
    return ProgramData(view, {"synthetic": True}), nik_of
