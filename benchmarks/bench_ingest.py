"""Benchmark: ingest of national-scale synthetic data vs plain pandas reads of the same data.

Not a test. Run it from the project's environment::

    .venv/bin/python benchmarks/bench_ingest.py            # generates data once into benchmarks/out/
    .venv/bin/python benchmarks/bench_ingest.py --scale 0.5

Each measured step runs in a fresh child process, which reports its wall time and its own
peak resident memory (``ru_maxrss``), so one step's memory does not leak into another's:

1. ``kkbm ingest`` of the raw folder (read, map, parse, harmonise, pseudonymise,
   validate, cross-table rules, write Parquet + quarantine + manifest);
2. ``pandas.read_csv`` of every raw CSV with default options (no parsing or checks);
3. ``pandas.read_parquet`` of every processed table.
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
import json, resource, sys, time
from pathlib import Path
step, raw, processed = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
t0 = time.perf_counter()
rows = 0
if step == "ingest":
    from kkbm_analysis.ingest import ingest
    res = ingest(raw, processed)
    rows = int(res.accounting["rows_read"].sum())
elif step == "read_csv":
    # plain pandas.read_csv, told the delimiter and encoding (sniffed from the first 64 KiB)
    import pandas as pd
    from kkbm_analysis.readers import sniff_delimiter, sniff_encoding
    for f in sorted(p for p in raw.iterdir() if p.suffix in (".csv", ".tsv", ".txt")):
        head = f.open("rb").read(65536)
        enc = sniff_encoding(head)
        rows += len(pd.read_csv(f, sep=sniff_delimiter(head.decode(enc, "replace")), encoding=enc,
                                skiprows=0, on_bad_lines="skip"))
elif step == "read_parquet":
    import pandas as pd
    for f in sorted(processed.glob("*.parquet")):
        rows += len(pd.read_parquet(f))
seconds = time.perf_counter() - t0
print(json.dumps({"step": step, "seconds": seconds, "rows": rows,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_step(step: str, raw: Path, processed: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, step, str(raw), str(processed)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="national", help="synth scale (default national)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()

    raw = OUT / f"raw_{args.scale}_{args.seed}"
    processed = OUT / f"processed_{args.scale}_{args.seed}"
    if args.regenerate or not (raw / "SYNTHETIC.json").exists():
        from kkbm_analysis.synth import generate_demo
        t0 = time.perf_counter()
        scale = args.scale if args.scale in ("demo", "national") else float(args.scale)
        generate_demo(raw, seed=args.seed, scale=scale)
        print(f"generated raw data in {time.perf_counter() - t0:.1f} s -> {raw}")
    size = sum(f.stat().st_size for f in raw.rglob("*") if f.is_file()) / 2**20
    print(f"raw data: {size:,.0f} MiB in {len(list(raw.glob('*')))} files")

    results = [run_step(s, raw, processed) for s in ("ingest", "read_csv", "read_parquet")]
    print(f"\n{'step':<14}{'rows':>12}{'seconds':>10}{'rows/s':>14}{'peak MiB':>11}")
    for r in results:
        print(f"{r['step']:<14}{r['rows']:>12,}{r['seconds']:>10.1f}{r['rows'] / r['seconds']:>14,.0f}"
              f"{r['peak_mib']:>11,.0f}")
    ingest_s, csv_s = results[0]["seconds"], results[1]["seconds"]
    print(f"\ningest costs {ingest_s / csv_s:.1f}x a bare pandas.read_csv of the same CSV files "
          "(the bare read parses nothing and checks nothing)")


if __name__ == "__main__":
    main()
