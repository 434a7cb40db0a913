"""Benchmark: regenerating every report with ``build_reports`` vs a plain papermill + nbconvert loop.

Run from the project root (it is a script, not a test)::

    .venv/bin/python benchmarks/bench_reports.py                        # national scale, everything
    .venv/bin/python benchmarks/bench_reports.py --baseline-sample 6    # time 6 loop runs, extrapolate
    nohup .venv/bin/python benchmarks/bench_reports.py > benchmarks/out/bench_reports.log 2>&1 &

Both sides render the same notebooks with the same parameters on the same data: the province
report for every province in the data and the national brief, for each period and language.

* **batch** -- ``kkbm_analysis.reports.build_reports`` (``force=True``, an empty output folder, PDF off
  by default so both sides make HTML only): warm worker processes, each holding one kernel reused
  across notebooks, data and analyses loaded once per worker, HTML exported in-process.
* **loop** -- for each report, ``papermill TEMPLATE OUT.ipynb -k kkbm-analysis -r ... -p ...`` then
  ``jupyter nbconvert --to html --no-input OUT.ipynb``, one after the other (a fresh kernel each time).

At national scale one loop iteration repeats every shared analysis (minutes each), so the whole
loop takes hours; ``--baseline-sample N`` times N iterations spread over the list (the national
brief included) and extrapolates the loop's total as their mean x the number of reports. The
output says which figures are measured and which are extrapolated. Also timed: a second
``build_reports`` run with nothing changed (incremental: nothing re-runs).

The data: ``kkbm_analysis.synth.program_data(scale=...)`` (``national``: 38 provinces, ~1 million
members), written once as a processed folder under ``benchmarks/out/bench-root`` (a project root of
its own via ``KKBM_ROOT``, so the path rules of the reports apply). ``--communities F`` keeps a
random fraction F of the communities of each province (at least 3) to make a lighter national
dataset with all 38 provinces.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", default="national", help="program_data scale: national, demo or a multiplier")
    p.add_argument("--seed", type=int, default=20170)
    p.add_argument("--communities", type=float, default=1.0,
                   help="fraction of each province's communities to keep (1.0: all)")
    p.add_argument("--periods", default="2018", help="comma-separated years")
    p.add_argument("--langs", default="id,en", help="comma-separated languages")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="batch worker processes")
    p.add_argument("--n-boot", type=int, default=50, help="bootstrap draws of the province gap decomposition")
    p.add_argument("--pdf", action="store_true", help="also print PDFs in the batch (the loop makes none)")
    p.add_argument("--baseline-sample", type=int, default=0,
                   help="time only this many loop iterations and extrapolate (0: run the whole loop)")
    p.add_argument("--skip-baseline", action="store_true")
    p.add_argument("--root", default=str(HERE / "out" / "bench-root"), help="project root of the benchmark")
    return p.parse_args(argv)


# --------------------------------------------------------------------------- data
def subsample(data, fraction: float, seed: int):
    """Keep a random ``fraction`` of each province's communities (>= 3) and everything attached to them."""
    import numpy as np

    from kkbm_analysis.data import ProgramData
    rng = np.random.default_rng(seed)
    com = data.communities
    keep = []
    for _, grp in com.groupby("province_code"):
        n = max(3, int(round(fraction * len(grp))))
        keep += list(rng.choice(grp["community_id"].to_numpy(), size=min(n, len(grp)), replace=False))
    keep = set(keep)
    t = dict(data.tables)

    def by(table, column, values):
        df = t[table]
        t[table] = df[df[column].isin(values) | df[column].isna()] if column == "community_id" and table == "staff" \
            else df[df[column].isin(values)]

    for table in ("communities", "members", "staff", "sessions", "groups", "businesses", "consultations",
                  "info_services", "advocacy_cases", "prevention_events"):
        by(table, "community_id", keep)
    members, sessions = set(t["members"]["member_id"]), set(t["sessions"]["session_id"])
    by("attendance", "member_id", members)
    by("attendance", "session_id", sessions)
    by("stages", "member_id", members)
    by("kur_loans", "member_id", members)
    by("business_reports", "business_id", set(t["businesses"]["business_id"]))
    villages = set(t["communities"]["village_code"].dropna())
    by("village_regulations", "village_code", villages)
    by("departures", "village_code", villages)
    manifest = {**data.manifest, "data_version": f"{data.manifest['data_version']}-communities{fraction:g}"}
    return ProgramData({k: v.reset_index(drop=True) for k, v in t.items()}, manifest)


def make_data(root: Path, scale: str, seed: int, fraction: float) -> Path:
    """The processed folder (written once per scale, seed and fraction)."""
    from kkbm_analysis.io import write_json, write_parquet
    from kkbm_analysis.synth import program_data
    name = f"{scale}-seed{seed}" + (f"-communities{fraction:g}" if fraction < 1 else "")
    folder = root / "data" / "processed" / name
    if (folder / "manifest.json").exists():
        print(f"data: reusing {folder}", flush=True)
        return folder
    t0 = time.perf_counter()
    data = program_data(seed=seed, scale=float(scale) if scale not in ("demo", "national") else scale)
    if fraction < 1:
        data = subsample(data, fraction, seed)
    staging = folder.with_name(folder.name + ".staging")
    staging.mkdir(parents=True, exist_ok=True)
    meta = {"synthetic": "true", "data_version": data.manifest["data_version"]}
    for table, df in data.tables.items():
        write_parquet(df, staging / f"{table}.parquet", {**meta, "table": table})
    manifest = {k: v for k, v in data.manifest.items() if k != "ground_truth"}
    write_json(manifest, staging / "manifest.json")
    staging.rename(folder)
    print(f"data: {data!r} written to {folder} in {time.perf_counter() - t0:.0f} s", flush=True)
    return folder


# --------------------------------------------------------------------------- the two sides
def run_batch(processed: Path, out: Path, args, *, force: bool) -> tuple[float, object]:
    from kkbm_analysis.reports import build_reports
    t0 = time.perf_counter()
    result = build_reports(processed, out, periods=args.periods.split(","), langs=args.langs.split(","),
                           jobs=args.jobs, pdf=args.pdf, force=force, progress=False, n_boot=args.n_boot,
                           templates_dir=REPO / "notebooks")
    return time.perf_counter() - t0, result


def loop_commands(job, out: Path) -> list[list[str]]:
    nb_out = out / f"{job.stem}.ipynb"
    cmd = [str(BIN / "papermill"), str(job.notebook), str(nb_out), "-k", "kkbm-analysis", "--cwd",
           str(job.notebook.parent), "--no-progress-bar"]
    for key, value in job.parameters.items():
        if isinstance(value, str):
            cmd += ["-r", key, value]
        else:
            cmd += ["-p", key, str(value)]
    return [cmd, [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(nb_out)]]


def run_loop(jobs, out: Path) -> list[float]:
    out.mkdir(parents=True, exist_ok=True)
    times = []
    for job in jobs:
        t0 = time.perf_counter()
        for cmd in loop_commands(job, out):
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
        print(f"  loop {job.stem}: {times[-1]:.1f} s", flush=True)
    return times


def spread(items: list, n: int) -> list:
    """``n`` items spread evenly over the list (the first one, i.e. the national brief, included)."""
    if n <= 0 or n >= len(items):
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path(args.root).resolve()
    os.environ["KKBM_ROOT"] = str(root)
    (root / "reports").mkdir(parents=True, exist_ok=True)
    import shutil

    from kkbm_analysis.reports import plan_reports

    print(f"bench_reports: {platform.node()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"scale={args.scale}, communities={args.communities:g}, periods={args.periods}, langs={args.langs}, "
          f"jobs={args.jobs}, n_boot={args.n_boot}, pdf={args.pdf}", flush=True)
    processed = make_data(root, args.scale, args.seed, args.communities)
    jobs = plan_reports(processed, periods=args.periods.split(","), langs=args.langs.split(","),
                        templates_dir=REPO / "notebooks", n_boot=args.n_boot)
    print(f"reports: {len(jobs)} ({sum(j.template == 'province' for j in jobs)} province reports, "
          f"{sum(j.template == 'national' for j in jobs)} national briefs)", flush=True)

    out = root / "reports" / "batch"
    shutil.rmtree(out, ignore_errors=True)
    batch_s, result = run_batch(processed, out, args, force=True)
    print(result.summary(), flush=True)
    print(f"batch (build_reports, {args.jobs} workers): {batch_s:.1f} s", flush=True)
    rerun_s, rerun = run_batch(processed, out, args, force=False)
    print(f"re-run with nothing changed: {rerun_s:.2f} s ({len(rerun.cached)} up to date, "
          f"{len(rerun.built)} re-run)", flush=True)

    record = {"scale": args.scale, "communities": args.communities, "reports": len(jobs), "jobs": args.jobs,
              "n_boot": args.n_boot, "pdf": args.pdf, "batch_seconds": batch_s, "rerun_seconds": rerun_s,
              "batch_ok": result.ok}
    if not args.skip_baseline:
        sample = spread(jobs, args.baseline_sample)
        loop_out = root / "reports" / "loop"
        shutil.rmtree(loop_out, ignore_errors=True)
        print(f"plain loop (papermill + jupyter nbconvert --no-input) over {len(sample)} of {len(jobs)} reports:",
              flush=True)
        times = run_loop(sample, loop_out)
        measured = sum(times)
        loop_total = measured if len(sample) == len(jobs) else statistics.mean(times) * len(jobs)
        kind = "measured" if len(sample) == len(jobs) else f"extrapolated from {len(sample)} runs (mean x {len(jobs)})"
        ratio = batch_s / loop_total
        print(f"loop: {measured:.1f} s measured for {len(sample)} reports; total {loop_total:.1f} s ({kind})",
              flush=True)
        print(f"RESULT batch {batch_s:.1f} s vs loop {loop_total:.1f} s: ratio {ratio:.3f} "
              f"(batch = {100 * ratio:.1f}% of the loop; target <= 25%)", flush=True)
        record.update(loop_seconds=loop_total, loop_measured_seconds=measured, loop_runs=len(sample),
                      loop_kind=kind, ratio=ratio, loop_per_report=times)
    (HERE / "out").mkdir(exist_ok=True)
    name = f"bench_reports-{args.scale}" + (f"-communities{args.communities:g}" if args.communities < 1 else "")
    (HERE / "out" / f"{name}.json").write_text(json.dumps(record, indent=2))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
