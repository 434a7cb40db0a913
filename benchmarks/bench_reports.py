"""Benchmark: regenerating every report with ``build_reports`` (on Dask) vs a plain papermill + nbconvert loop.

Run from the project root (it is a script, not a test)::

    .venv/bin/python benchmarks/bench_reports.py                         # the demo batch: every year, id + en
    .venv/bin/python benchmarks/bench_reports.py --scale national --periods 2018 --baseline-sample 4
    nohup .venv/bin/python benchmarks/bench_reports.py > benchmarks/out/bench_reports.log 2>&1 &

Both sides render the same notebooks (the package's templates) with the same parameters on the
same data: the province report for every province in the data and the national brief, for each
period (default: every year in the data) and language, HTML only (PDF off unless ``--pdf``; the
loop makes none), working directory the project root.

* **batch** -- ``kkbm_analysis.reports.build_reports`` (``force=True``, an empty output folder): a
  local Dask cluster of ``--jobs`` worker processes (or ``--scheduler ADDRESS``), each keeping one warm
  kernel for all its reports, HTML exported on the worker. The whole process tree's peak resident
  memory (this process, the scheduler, the workers and their kernels; psutil, every 0.2 s) is
  reported too (with ``--scheduler`` only this process is seen).
* **loop** -- for each report, ``papermill TEMPLATE OUT.ipynb -k kkbm-analysis -r ... -p ...`` then
  ``jupyter nbconvert --to html --no-input OUT.ipynb``, one after the other (a fresh kernel each time).
* **no-change re-run** -- ``build_reports`` again with nothing changed: timed in this process (modules
  already imported) and in a fresh Python process (the call alone, then with the imports).

``--no-national`` leaves the national briefs out (``--provinces 36 --periods 2018 --langs id
--no-national --jobs 1`` times one province report from a cold start: cluster, kernel and imports
included). The batch's CPU is also split by process: this one, the kernels, the Dask workers
(driving the notebooks, HTML export, PDF) and the scheduler and nannies.

``--baseline-sample N`` times N loop iterations spread over the list (the national brief
included) and extrapolates the loop's total as their mean x the number of reports; the output
says which figures are measured and which are extrapolated. The ratio is measured side by side
in one run (target: batch <= 0.15 x loop; no-change re-run <= 1 s).

The data: ``kkbm_analysis.synth.program_data(scale=...)`` (``demo``: the calibrated 7 provinces;
``national``: 38 provinces, ~1 million members), written once as a processed folder under
``benchmarks/out/bench-root`` (a project root of its own via ``KKBM_ROOT``, so the path rules of the
reports apply). ``--communities F`` keeps a random fraction F of the communities of each province
(at least 3) to make a lighter national dataset with all 38 provinces.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", default="demo", help="program_data scale: demo, national or a multiplier")
    p.add_argument("--seed", type=int, default=20170)
    p.add_argument("--communities", type=float, default=1.0,
                   help="fraction of each province's communities to keep (1.0: all)")
    p.add_argument("--periods", default="all", help="comma-separated periods, or 'all' (every year in the data and the whole span, the batch's default)")
    p.add_argument("--langs", default="id,en", help="comma-separated languages")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes of the local cluster")
    p.add_argument("--scheduler", default=None, help="run the batch on this Dask scheduler instead")
    p.add_argument("--n-boot", type=int, default=50, help="bootstrap draws of the province gap decomposition")
    p.add_argument("--pdf", action="store_true", help="also print PDFs in the batch (the loop makes none)")
    p.add_argument("--baseline-sample", type=int, default=0,
                   help="time only this many loop iterations and extrapolate (0: run the whole loop)")
    p.add_argument("--skip-baseline", action="store_true")
    p.add_argument("--root", default=str(HERE / "out" / "bench-root"), help="project root of the benchmark")
    p.add_argument("--processed", default=None,
                   help="an existing, analysed processed folder inside --root (instead of generating one)")
    p.add_argument("--provinces", default=None, help="comma-separated province codes (default: every province)")
    p.add_argument("--out-name", default="batch", help="output folder under <root>/reports (emptied first)")
    p.add_argument("--no-national", action="store_true",
                   help="province reports only (no national brief), e.g. to time one report from a cold start")
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
        return analysed(folder)
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
    return analysed(folder)


def analysed(folder: Path) -> Path:
    """The folder with its analysis products (``kkbm analyse``, once: the reports only read them; not timed)."""
    from kkbm_analysis.analyse import analyse
    if not (folder / "products.json").exists():
        t0 = time.perf_counter()
        analyse(folder)
        print(f"products: analysed {folder} in {time.perf_counter() - t0:.0f} s (not part of either side)", flush=True)
    return folder


# --------------------------------------------------------------------------- the two sides
class TreeMemory:
    """Peak resident memory and CPU time of this process and all its descendants, sampled every 0.2 s.

    ``cpu`` is the CPU time (user + system) the tree used while watched: each process's last
    seen time, less this process's own at the start (a process's last 0.2 s may be missed);
    ``cpu_by_role`` splits it into this process (``main``), Jupyter kernels (``kernel``), Dask
    worker processes (``worker``: notebook driving, HTML export, PDF) and the rest (``dask``:
    scheduler and nannies; ``other``).
    """

    def __init__(self) -> None:
        import psutil
        self.peak = 0
        self._me = psutil.Process()
        start = self._me.cpu_times()
        self._cpu_start = start.user + start.system
        self._cpu: dict[int, float] = {}
        self._role: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def cpu(self) -> float:
        return sum(self._cpu.values()) - self._cpu_start

    @property
    def cpu_by_role(self) -> dict[str, float]:
        roles: dict[str, float] = {"main": -self._cpu_start}
        for pid, seconds in self._cpu.items():
            roles[self._role[pid]] = roles.get(self._role[pid], 0.0) + seconds
        return roles

    def _role_of(self, proc) -> str:
        import psutil
        if proc.pid == self._me.pid:
            return "main"
        try:
            command = " ".join(proc.cmdline())
        except psutil.Error:
            return "other"
        if "ipykernel" in command:
            return "kernel"
        if "spawn_main" in command:
            return "worker"
        return "dask" if "dask" in command else "other"

    def _sample(self) -> None:
        import psutil
        total = 0
        for proc in [self._me, *self._me.children(recursive=True)]:
            try:
                with proc.oneshot():
                    total += proc.memory_info().rss
                    times = proc.cpu_times()
                    self._cpu[proc.pid] = times.user + times.system
                if proc.pid not in self._role:
                    self._role[proc.pid] = self._role_of(proc)
            except psutil.Error:
                pass
        self.peak = max(self.peak, total)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()
        self._sample()

    def __enter__(self) -> "TreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def run_batch(processed: Path, out: Path, periods: list[str], args, *,
              force: bool) -> tuple[float, object, int, float, dict[str, float]]:
    """(wall seconds, result, process tree's peak resident bytes, CPU seconds of the tree, and by role)."""
    from kkbm_analysis.reports import build_reports
    provinces = args.provinces.split(",") if args.provinces else None
    with TreeMemory() as memory:
        t0 = time.perf_counter()
        result = build_reports(processed, out, provinces=provinces, periods=periods, langs=args.langs.split(","),
                               jobs=args.jobs, scheduler=args.scheduler, pdf=args.pdf, force=force, progress=False,
                               n_boot=args.n_boot, national=not args.no_national)
        seconds = time.perf_counter() - t0
    return seconds, result, memory.peak, memory.cpu, memory.cpu_by_role


def per_report_seconds(result) -> dict[str, tuple[int, float, float]]:
    """Per template: (reports built, mean and median seconds per report on its worker)."""
    by: dict[str, list[float]] = {}
    for outcome in result.built:
        by.setdefault(outcome.job.template, []).append(outcome.seconds)
    return {k: (len(v), statistics.mean(v), statistics.median(v)) for k, v in sorted(by.items())}


FRESH = """
import time
t0 = time.perf_counter()
from kkbm_analysis.reports import build_reports
t1 = time.perf_counter()
r = build_reports({processed!r}, {out!r}, provinces={provinces!r}, periods={periods!r}, langs={langs!r},
                  pdf={pdf!r}, progress=False, n_boot={n_boot!r}, national={national!r})
t2 = time.perf_counter()
assert not r.built and r.ok, r.summary()
print(f"{{t2 - t1:.3f}} {{t2 - t0:.3f}}")
"""


def rerun_fresh(processed: Path, out: Path, periods: list[str], args) -> tuple[float, float]:
    """A no-change re-run in a new Python process: (the call, the call with the package's import)."""
    code = FRESH.format(processed=str(processed), out=str(out), periods=periods, langs=args.langs.split(","),
                        provinces=args.provinces.split(",") if args.provinces else None,
                        pdf=args.pdf, n_boot=args.n_boot, national=not args.no_national)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    call, with_import = (float(x) for x in done.stdout.split()[-2:])
    return call, with_import


def loop_commands(job, out: Path, root: Path) -> list[list[str]]:
    nb_out = out / f"{job.stem}.ipynb"
    cmd = [str(BIN / "papermill"), str(job.notebook), str(nb_out), "-k", "kkbm-analysis", "--cwd", str(root),
           "--no-progress-bar"]
    for key, value in job.parameters.items():
        if isinstance(value, str):
            cmd += ["-r", key, value]
        else:
            cmd += ["-p", key, str(value)]
    return [cmd, [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(nb_out)]]


def run_loop(jobs, out: Path, root: Path) -> list[float]:
    out.mkdir(parents=True, exist_ok=True)
    times = []
    for job in jobs:
        t0 = time.perf_counter()
        for cmd in loop_commands(job, out, root):
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
    from kkbm_analysis.reports.params import data_summary, valid_periods

    print(f"bench_reports: {platform.node()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"scale={args.scale}, communities={args.communities:g}, periods={args.periods}, langs={args.langs}, "
          f"jobs={args.jobs}, scheduler={args.scheduler or 'local'}, n_boot={args.n_boot}, pdf={args.pdf}",
          flush=True)
    processed = (root / args.processed if args.processed else
                 make_data(root, args.scale, args.seed, args.communities))
    periods = valid_periods(data_summary(processed)) if args.periods == "all" else args.periods.split(",")
    jobs = plan_reports(processed, provinces=args.provinces.split(",") if args.provinces else None,
                        periods=periods, langs=args.langs.split(","), n_boot=args.n_boot,
                        national=not args.no_national)
    print(f"reports: {len(jobs)} ({sum(j.template == 'province' for j in jobs)} province reports, "
          f"{sum(j.template == 'national' for j in jobs)} national briefs; periods {', '.join(periods)})", flush=True)

    out = root / "reports" / args.out_name
    shutil.rmtree(out, ignore_errors=True)
    load = os.getloadavg()
    batch_s, result, peak, batch_cpu, cpu_roles = run_batch(processed, out, periods, args, force=True)
    print(result.summary(), flush=True)
    print(f"batch (build_reports on Dask, {result.workers} workers): {batch_s:.1f} s wall, {batch_cpu:.1f} s CPU "
          f"(process tree), process tree peak {peak / 2**30:.2f} GiB; load average before "
          f"{load[0]:.1f}, after {os.getloadavg()[0]:.1f}", flush=True)
    print("  CPU by process: " + ", ".join(f"{role} {seconds:.1f} s" for role, seconds in sorted(cpu_roles.items())),
          flush=True)
    per_report = per_report_seconds(result)
    for template, (n, mean, median) in per_report.items():
        print(f"  {template}: {n} reports, {mean:.1f} s mean, {median:.1f} s median per report on its worker "
              "(notebook, HTML and PDF)", flush=True)
    rerun_s, rerun, _, _, _ = run_batch(processed, out, periods, args, force=False)
    fresh_call, fresh_total = rerun_fresh(processed, out, periods, args)
    print(f"RESULT no-change re-run: {rerun_s:.3f} s in this process; {fresh_call:.2f} s in a fresh process "
          f"({fresh_total:.2f} s with the import) ({len(rerun.cached)} up to date, {len(rerun.built)} re-run; "
          f"target <= 1 s)", flush=True)

    record = {"scale": args.scale, "communities": args.communities, "periods": periods, "reports": len(jobs),
              "jobs": args.jobs, "workers": result.workers, "scheduler": args.scheduler, "n_boot": args.n_boot,
              "pdf": args.pdf, "batch_seconds": batch_s, "batch_cpu_seconds": batch_cpu,
              "batch_cpu_seconds_by_process": cpu_roles, "batch_tree_peak_bytes": peak, "rerun_seconds": rerun_s,
              "rerun_fresh_call_seconds": fresh_call, "rerun_fresh_with_import_seconds": fresh_total,
              "batch_ok": result.ok, "per_report_seconds": per_report}
    if not args.skip_baseline:
        sample = spread(jobs, args.baseline_sample)
        loop_out = root / "reports" / "loop"
        shutil.rmtree(loop_out, ignore_errors=True)
        print(f"plain loop (papermill + jupyter nbconvert --no-input) over {len(sample)} of {len(jobs)} reports:",
              flush=True)
        times = run_loop(sample, loop_out, root)
        measured = sum(times)
        loop_total = measured if len(sample) == len(jobs) else statistics.mean(times) * len(jobs)
        kind = "measured" if len(sample) == len(jobs) else f"extrapolated from {len(sample)} runs (mean x {len(jobs)})"
        ratio = batch_s / loop_total
        print(f"loop: {measured:.1f} s measured for {len(sample)} reports; total {loop_total:.1f} s ({kind})",
              flush=True)
        print(f"RESULT batch {batch_s:.1f} s vs loop {loop_total:.1f} s: ratio {ratio:.3f} "
              f"(batch = {100 * ratio:.1f}% of the loop; target <= 15%)", flush=True)
        record.update(loop_seconds=loop_total, loop_measured_seconds=measured, loop_runs=len(sample),
                      loop_kind=kind, ratio=ratio, loop_per_report=times)
    (HERE / "out").mkdir(exist_ok=True)
    name = (f"bench_reports-{Path(args.processed).name}-{args.out_name}" if args.processed else
            f"bench_reports-{args.scale}" + (f"-communities{args.communities:g}" if args.communities < 1 else ""))
    (HERE / "out" / f"{name}.json").write_text(json.dumps(record, indent=2))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
