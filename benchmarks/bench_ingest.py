"""Benchmark: the ingest of synthetic data against a bare read of the same input files.

Not a test. Run it from the project's environment::

    .venv/bin/python benchmarks/bench_ingest.py --scale demo
    .venv/bin/python benchmarks/bench_ingest.py --scale national:0.05
    .venv/bin/python benchmarks/bench_ingest.py --scale national     # the full national geography

Each measured step runs in a fresh child process, which imports what it needs first and
then reports the wall time and CPU time of the work alone (imports excluded; the CPU time of
the helper processes the ingest forks is included) and its own peak resident memory
(``VmHWM``, which does include the imports; not ``ru_maxrss``, which a child inherits from its
parent across fork and exec), so one step's memory does not leak into another's. The peak of
the summed proportional set size of the child and its helper processes (pages a helper shares
with its parent count once, split between them) is sampled every 0.1 s in a second run of the
step, not in the timed one: reading the processes' page tables that often costs the timed work
about a tenth of its time where several large processes run (2–3 s of a national ingest):

1. ``ingest``: :func:`kkbm_analysis.ingest.ingest` of the raw folder (read, map, parse,
   harmonise, pseudonymise, validate, cross-table rules, write Parquet, quarantine and
   manifest);
2. ``bare_read``: the same input files the ingest reads (its own inventory: every CSV and
   TSV, every workbook sheet), each read once with no parsing of values and no checks:
   ``pandas.read_csv`` told the delimiter, encoding and width (title lines are narrower than
   the records), and ``pandas.read_excel`` with the
   calamine engine (the engine the ingest uses) for every sheet of every workbook;
3. ``read_parquet``: every processed table (either layout: one file, or one per province).

``benchmarks/scale_curve.py`` runs the same steps (and ``analyse``) at several scales.

The ratio ingest / bare read is the figure issue 12 targets (at most 2.5 at national scale).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"

CHILD = r"""
import csv, io, json, os, resource, sys, threading, time
from pathlib import Path
step, raw, processed, sampled = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4] == "sampled"
import pandas as pd
rows = 0


def tree_pss_mib() -> float:
    # this process and its children (the ingest forks helpers): proportional set size, shared pages split
    pids, total = [os.getpid()], 0
    while pids:
        pid = pids.pop()
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                pids += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
            total += next(int(x.split()[1]) for x in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
                          if x.startswith("Pss:"))
        except (OSError, StopIteration, ValueError):
            pass
    return total / 1024


tree_peak, sampling = [0.0], True


def sample() -> None:
    while sampling:
        tree_peak[0] = max(tree_peak[0], tree_pss_mib())
        time.sleep(0.1)


if sampled:  # the run that measures the tree's memory (its times are not reported)
    threading.Thread(target=sample, daemon=True).start()
if step == "ingest":
    from kkbm_analysis.ingest import ingest
    t0, c0 = time.perf_counter(), time.process_time()
    res = ingest(raw, processed)  # its forked helpers' CPU time is counted below (children's times)
    rows = int(res.accounting["rows_read"].sum())
elif step == "bare_read":
    from kkbm_analysis.inventory import inventory
    from kkbm_analysis.mapping import load_mapping
    from kkbm_analysis.readers import sniff_delimiter, sniff_encoding
    import python_calamine  # noqa: F401  (imported before the clock starts)
    t0, c0 = time.perf_counter(), time.process_time()
    for e in inventory(raw, load_mapping(None)):
        if not e.read:
            continue
        name = e.path.name.lower()
        if name.endswith((".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")):
            sheets = pd.read_excel(e.path, sheet_name=None, header=None, engine="calamine")
            rows += sum(len(s) for s in sheets.values())
        else:
            head = e.path.open("rb").read(65536)
            enc = sniff_encoding(head)
            text = head.decode(enc, "replace")
            sep = sniff_delimiter(text)
            width = max(len(r) for r in csv.reader(io.StringIO(text), delimiter=sep))  # title lines are narrower
            rows += len(pd.read_csv(e.path, sep=sep, encoding=enc, header=None, names=range(width), dtype=str))
elif step == "analyse":
    from kkbm_analysis.analyse import analyse
    t0, c0 = time.perf_counter(), time.process_time()
    analyse(processed)  # cold: the ingest just replaced the folder, so no model fit is cached
elif step == "read_parquet":
    from kkbm_analysis import store
    from kkbm_analysis.schema import TABLE_ORDER
    t0, c0 = time.perf_counter(), time.process_time()
    for table in TABLE_ORDER:
        if store.table_location(processed, table) is not None:
            rows += len(store.read_table(processed, table))
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
children = os.times()
cpu += children.children_user + children.children_system  # the ingest's forked helpers (waited for)
sampling = False
try:  # this process's own high-water mark (ru_maxrss keeps the parent's across fork and exec)
    status = Path("/proc/self/status").read_text()
    peak = int(next(x for x in status.splitlines() if x.startswith("VmHWM:")).split()[1]) / 1024
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"step": step, "seconds": seconds, "cpu_seconds": cpu, "rows": rows, "peak_mib": peak,
                  "tree_peak_mib": tree_peak[0]}))
"""


def run_step(step: str, raw: Path, processed: Path, *, tree: bool = True) -> dict:
    """One step in a fresh child process: its wall and CPU time (imports excluded) and peak memory; with
    ``tree``, the peak of its process tree's PSS from a second, sampled run (``tree_peak_mib``)."""
    def child(mode: str) -> dict:
        proc = subprocess.run([sys.executable, "-c", CHILD, step, str(raw), str(processed), mode],
                              capture_output=True, text=True, check=True)
        return json.loads(proc.stdout.strip().splitlines()[-1])

    timed = child("timed")
    return {**timed, "tree_peak_mib": child("sampled")["tree_peak_mib"]} if tree else timed


def load_average() -> str:
    """The machine's 1-minute load average (other work running skews every timing)."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="demo", help="synth scale: demo, national or national:<fraction>")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--steps", default="ingest,bare_read,read_parquet",
                        help="steps to run (ingest and bare_read first; the ratio needs both)")
    args = parser.parse_args()

    raw = OUT / f"raw_{args.scale.replace(':', '_')}_{args.seed}"
    processed = OUT / f"processed_{args.scale.replace(':', '_')}_{args.seed}"
    if args.regenerate or not (raw / "SYNTHETIC.json").exists():
        from kkbm_analysis.synth import generate_demo
        t0 = time.perf_counter()
        generate_demo(raw, seed=args.seed, scale=args.scale)
        print(f"generated raw data in {time.perf_counter() - t0:.1f} s -> {raw}")
    size = sum(f.stat().st_size for f in raw.rglob("*") if f.is_file()) / 2**20
    print(f"raw data: {size:,.0f} MiB in {len(list(raw.glob('*')))} files; load average {load_average()}")

    results = [run_step(s, raw, processed) for s in args.steps.split(",")]
    print(f"\n{'step':<14}{'rows':>12}{'seconds':>10}{'CPU s':>9}{'rows/s':>12}{'peak MiB':>11}{'tree MiB':>10}")
    for r in results:
        print(f"{r['step']:<14}{r['rows']:>12,}{r['seconds']:>10.2f}{r['cpu_seconds']:>9.2f}"
              f"{r['rows'] / max(r['seconds'], 1e-9):>12,.0f}{r['peak_mib']:>11,.0f}{r.get('tree_peak_mib', 0):>10,.0f}")
    if [r["step"] for r in results[:2]] == ["ingest", "bare_read"]:
        wall, cpu = (results[0][k] / results[1][k] for k in ("seconds", "cpu_seconds"))
        print(f"\ningest costs {wall:.1f}x the wall time and {cpu:.1f}x the CPU time of a bare read of the same "
              f"files (CSV and workbooks; the bare read parses no value and checks nothing); load average after: "
              f"{load_average()} (on a busy machine the CPU ratio is the steadier one)")


if __name__ == "__main__":
    main()
