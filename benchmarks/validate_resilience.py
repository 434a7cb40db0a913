"""Validate the resilience measurement and models on many synthetic datasets.

For each seed: the synthetic programme world and its resilience survey
(:func:`kkbm_analysis.synth.demo_data`), then

* the CFA of the three capacities: each item's loading against the true observed-scale
  loading (``ground_truth['resilience']['loadings']``), and the fit indices of the true
  model and of two misspecified rivals (one general factor; three uncorrelated factors);
* the capacity driver models: every covariate's effect on every capacity (``gamma``);
* the recovery model: the log hazard ratio of each capacity (``recovery_delta``).

It writes the per-seed rows to ``benchmarks/out/validate_resilience_seeds.csv`` and a small
summary (coverage of the 95 % intervals with a binomial interval, bias, SD against mean SE;
fit shares) to ``benchmarks/results/validate_resilience_summary.csv`` and ``.md``::

    nice -n 10 .venv/bin/python benchmarks/validate_resilience.py --seeds 200
    .venv/bin/python benchmarks/validate_resilience.py --seeds 5 --no-write   # a quick look

One process, seeds in order; the summary states the command, the seeds and the time taken.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kkbm_analysis import resilience as rs  # noqa: E402
from kkbm_analysis.resilience.confirmatory import CUTOFFS, one_factor_structure  # noqa: E402
from kkbm_analysis.synth import demo_data  # noqa: E402

FIRST_SEED = 1000
OUT = ROOT / "benchmarks" / "out"
RESULTS = ROOT / "benchmarks" / "results"


def _target_rows(seed: int, group: str, est: pd.DataFrame, truth: dict[str, float]) -> list[dict]:
    rows = []
    for name, value in truth.items():
        r = est.loc[name]
        rows.append({"seed": seed, "group": group, "target": name, "truth": value, "estimate": r["estimate"],
                     "std_error": r["std_error"], "covered": bool(r["ci_low"] <= value <= r["ci_high"])})
    return rows


def one_seed(seed: int) -> tuple[list[dict], list[dict]]:
    """Target rows and fit rows of one synthetic dataset."""
    data = demo_data(seed=seed)
    truth = data.manifest["ground_truth"]["resilience"]
    frame = rs.analysis_frame(data)
    model = rs.cfa(frame)
    rows = _target_rows(seed, "loading", model.estimates.set_index("item"), truth["loadings"]["value"])
    drivers = rs.capacity_drivers(frame, model).estimates
    drivers = drivers.assign(name=drivers["term"] + " -> " + drivers["capacity"]).set_index("name")
    gamma = {f"{p} -> {c}": v for p, caps in truth["gamma"]["value"].items() for c, v in caps.items()}
    rows += _target_rows(seed, "gamma", drivers, gamma)
    rec = rs.recovery_model(frame, model).estimates.set_index("term")
    rows += _target_rows(seed, "recovery_delta", rec, truth["recovery_delta"]["value"])
    fits = [{"seed": seed, "model": "true (3 correlated factors)", **model.fit_indices, "good_fit": model.good_fit}]
    for name, kwargs in (("misspecified: one factor", {"structure": one_factor_structure()}),
                         ("misspecified: uncorrelated factors", {"correlated": False})):
        r = rs.cfa(frame, **kwargs)
        fits.append({"seed": seed, "model": name, **r.fit_indices, "good_fit": r.good_fit})
    return rows, fits


def _binomial_ci(k: int, n: int) -> tuple[float, float]:
    lo = stats.beta.ppf(0.025, k, n - k + 1) if k else 0.0
    hi = stats.beta.ppf(0.975, k + 1, n - k) if k < n else 1.0
    return float(lo), float(hi)


def summarise(targets: pd.DataFrame, fits: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coverage per target group and overall; fit shares per model."""
    rows = []
    for group, g in [("all targets", targets), *targets.groupby("group", sort=False)]:
        k, n = int(g["covered"].sum()), len(g)
        lo, hi = _binomial_ci(k, n)
        rows.append({"targets": group, "intervals": n, "coverage": k / n, "coverage_ci_low": lo,
                     "coverage_ci_high": hi, "mean_bias": float((g["estimate"] - g["truth"]).mean()),
                     "sd_over_se": float(g.groupby("target").apply(
                         lambda t: t["estimate"].std(ddof=1) / t["std_error"].mean(), include_groups=False).mean())})
    per_target = targets.groupby(["group", "target"], sort=False).agg(
        truth=("truth", "first"), mean_estimate=("estimate", "mean"), coverage=("covered", "mean"),
        sd=("estimate", "std"), mean_se=("std_error", "mean")).reset_index()
    rows += [{"targets": f"{r.group}: {r.target}", "intervals": int((targets["target"] == r.target).sum()),
              "coverage": r.coverage, "coverage_ci_low": np.nan, "coverage_ci_high": np.nan,
              "mean_bias": r.mean_estimate - r.truth, "sd_over_se": r.sd / r.mean_se}
             for r in per_target.itertuples()]
    cov = pd.DataFrame(rows)
    fit = fits.groupby("model", sort=False).agg(
        seeds=("seed", "size"), share_good_fit=("good_fit", "mean"),
        share_chi2_rejects=("p_value", lambda p: float((p < 0.05).mean())), mean_cfi=("cfi", "mean"),
        mean_tli=("tli", "mean"), mean_rmsea=("rmsea", "mean"), mean_srmr=("srmr", "mean")).reset_index()
    return cov, fit


def _markdown(cov: pd.DataFrame, fit: pd.DataFrame, command: str, seeds: range, seconds: float) -> str:
    head = cov[~cov["targets"].str.contains(": ")]
    lines = ["# Resilience validation summary (synthetic data)", "",
             f"Command: `{command}`  ", f"Seeds: {seeds.start}-{seeds.stop - 1} ({len(seeds)}), demo scale; "
             f"time: {seconds / 60:.1f} min (one process).", "",
             "## 95 % interval coverage", "", "| targets | intervals | coverage | 95 % CI | mean bias | SD / mean SE |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r.targets} | {r.intervals} | {r.coverage:.3f} | {r.coverage_ci_low:.3f}–{r.coverage_ci_high:.3f} | "
              f"{r.mean_bias:+.4f} | {r.sd_over_se:.3f} |" for r in head.itertuples()]
    lines += ["", "## CFA fit", "", f"Good fit: CFI and TLI ≥ {CUTOFFS['cfi']}, RMSEA ≤ {CUTOFFS['rmsea']}, "
              f"SRMR ≤ {CUTOFFS['srmr']}.", "",
              "| model | seeds | share good fit | share chi2 p < 0.05 | mean CFI | mean TLI | mean RMSEA | mean SRMR |",
              "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r.model} | {r.seeds} | {r.share_good_fit:.3f} | {r.share_chi2_rejects:.3f} | {r.mean_cfi:.3f} | "
              f"{r.mean_tli:.3f} | {r.mean_rmsea:.3f} | {r.mean_srmr:.3f} |" for r in fit.itertuples()]
    lines += ["", "Per-target coverage is in `validate_resilience_summary.csv`."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--first-seed", type=int, default=FIRST_SEED)
    ap.add_argument("--no-write", action="store_true", help="print the summary only")
    args = ap.parse_args(argv)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    warnings.simplefilter("ignore")
    start = time.time()
    targets, fits = [], []
    for i, seed in enumerate(seeds, 1):
        t, f = one_seed(seed)
        targets += t
        fits += f
        if i % 10 == 0 or i == len(seeds):
            done = pd.DataFrame(targets)
            print(f"{i}/{len(seeds)} seeds, {time.time() - start:.0f} s, coverage so far "
                  f"{done['covered'].mean():.3f}", flush=True)
    targets_df, fits_df = pd.DataFrame(targets), pd.DataFrame(fits)
    cov, fit = summarise(targets_df, fits_df)
    seconds = time.time() - start
    command = "nice -n 10 .venv/bin/python benchmarks/validate_resilience.py " + " ".join(argv or sys.argv[1:])
    md = _markdown(cov, fit, command.strip(), seeds, seconds)
    print(md)
    if not args.no_write:
        OUT.mkdir(parents=True, exist_ok=True)
        RESULTS.mkdir(parents=True, exist_ok=True)
        targets_df.to_csv(OUT / "validate_resilience_seeds.csv", index=False)
        fits_df.to_csv(OUT / "validate_resilience_fits.csv", index=False)
        pd.concat([cov.assign(table="coverage"), fit.assign(table="fit")], ignore_index=True).to_csv(
            RESULTS / "validate_resilience_summary.csv", index=False, float_format="%.4f")
        (RESULTS / "validate_resilience_summary.md").write_text(md, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
