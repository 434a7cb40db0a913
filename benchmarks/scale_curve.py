"""Benchmark: time and peak memory of each step against the scale of the data, and the log-log slope.

Not a test. Run it from the project's environment (each scale is generated once into
``benchmarks/out/``; the national geography at a fraction exercises the national code path)::

    .venv/bin/python benchmarks/scale_curve.py                                   # demo, national:0.01, 0.02, 0.05
    .venv/bin/python benchmarks/scale_curve.py --scales national:0.01,national:0.1,national
    .venv/bin/python benchmarks/scale_curve.py --scales demo,national --steps ingest,bare_read --update

Steps (each in a fresh child process, imports outside the clock; see ``bench_ingest.py``):
``ingest``, ``bare_read`` (every input file the ingest reads, CSV and workbooks, with no
parsing or checks), ``analyse`` (cold: every analysis product and model fit) and
``read_parquet`` (``--steps`` picks some; ``--update`` replaces only the rows measured in the CSV and
keeps the others, so that one step can be measured again without the rest). Writes ``benchmarks/results/scale_curve.csv`` (one row per step and
scale: rows read, seconds, peak MiB, the machine's load average) and
``scale_curve.png``, and prints the slope of log(seconds) and log(peak MiB) against
log(rows read) per step: 1 means linear, below 1 memory or time that does not grow with
the input. Timings on a shared machine vary with its load, which is recorded.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import OUT, load_average, run_step  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
STEPS = ("ingest", "bare_read", "analyse", "read_parquet")


def measure(scale: str, seed: int, steps: tuple[str, ...] = STEPS) -> list[dict]:
    """The steps at one scale (the raw data generated first when missing), in :data:`STEPS` order."""
    tag = scale.replace(":", "_")
    raw, processed = OUT / f"raw_{tag}_{seed}", OUT / f"processed_{tag}_{seed}"
    if not (raw / "SYNTHETIC.json").exists():
        from kkbm_analysis.synth import generate_demo
        t0 = time.perf_counter()
        generate_demo(raw, seed=seed, scale=scale)
        print(f"{scale}: generated in {time.perf_counter() - t0:.0f} s", flush=True)
    out, rows = [], None
    for step in (s for s in STEPS if s in steps):
        load = load_average()
        r = run_step(step, raw, processed, tree=False)
        out.append({"scale": scale, "step": step, "seconds": round(r["seconds"], 3),
                    "cpu_seconds": round(r["cpu_seconds"], 3), "peak_mib": round(r["peak_mib"], 1),
                    "load_before": load, "rows_read": None})
        print(f"{scale:<16}{step:<14}{r['seconds']:>9.2f} s{r['cpu_seconds']:>9.2f} CPU s{r['peak_mib']:>9,.0f} MiB"
              f"  (load {load})", flush=True)
        if step == "ingest":
            rows = r["rows"]
    for row in out:
        row["rows_read"] = rows if rows is not None else _rows_read(processed)
    return out


def _rows_read(processed: Path) -> int:
    """Rows read by the ingest that wrote ``processed`` (from its accounting), when it was not run now."""
    import pandas as pd
    return int(pd.read_csv(processed / "accounting.csv")["rows_read"].sum())


def _merged(rows: list[dict], path: Path) -> list[dict]:
    """The rows measured now, and those of ``path`` for the (scale, step) pairs not measured now."""
    if not path.exists():
        return rows
    with open(path, newline="") as fh:
        kept = [r for r in csv.DictReader(fh)]
    now = {(r["scale"], r["step"]) for r in rows}
    for r in kept:
        for k in ("rows_read",):
            r[k] = int(r[k])
        for k in ("seconds", "cpu_seconds", "peak_mib"):
            r[k] = float(r[k])
    old = [r for r in kept if (r["scale"], r["step"]) not in now]
    scales = list(dict.fromkeys([r["scale"] for r in kept] + [r["scale"] for r in rows]))
    return sorted(old + rows, key=lambda r: (scales.index(r["scale"]), STEPS.index(r["step"])))


def slopes(rows: list[dict]) -> dict[str, tuple[float, float]]:
    """Per step, the log-log slope of CPU seconds (steadier than wall time on a shared machine) and of
    peak MiB against rows read (NaN with one scale)."""
    out = {}
    for step in dict.fromkeys(r["step"] for r in rows):
        mine = [r for r in rows if r["step"] == step]
        if len({r["rows_read"] for r in mine}) < 2:
            out[step] = (float("nan"), float("nan"))
            continue
        x = np.log([r["rows_read"] for r in mine])
        out[step] = tuple(float(np.polyfit(x, np.log([max(r[k], 1e-3) for r in mine]), 1)[0])
                          for k in ("cpu_seconds", "peak_mib"))
    return out


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for step in dict.fromkeys(r["step"] for r in rows):
        mine = sorted((r for r in rows if r["step"] == step), key=lambda r: r["rows_read"])
        x = [r["rows_read"] for r in mine]
        axes[0].loglog(x, [r["seconds"] for r in mine], marker="o", label=step)
        axes[1].loglog(x, [r["peak_mib"] for r in mine], marker="o", label=step)
    for ax, label in zip(axes, ("seconds (wall)", "peak resident memory (MiB)")):
        ax.set_xlabel("rows read by the ingest")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="demo,national:0.01,national:0.02,national:0.05")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--name", default="scale_curve", help="file name stem in benchmarks/results/")
    parser.add_argument("--steps", default=",".join(STEPS), help=f"some of {', '.join(STEPS)}")
    parser.add_argument("--update", action="store_true",
                        help="keep the CSV's rows for the (scale, step) pairs not measured now")
    args = parser.parse_args()
    steps = tuple(s.strip() for s in args.steps.split(","))
    if not set(steps) <= set(STEPS):
        parser.error(f"--steps: choose among {', '.join(STEPS)}")

    rows = [r for scale in args.scales.split(",") for r in measure(scale.strip(), args.seed, steps)]
    if args.update:
        rows = _merged(rows, RESULTS / f"{args.name}.csv")
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / f"{args.name}.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["scale", "rows_read", "step", "seconds", "cpu_seconds", "peak_mib",
                                                "load_before"])
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, RESULTS / f"{args.name}.png")
    print(f"\n{'step':<14}{'slope(CPU)':>12}{'slope(memory)':>15}")
    for step, (t, m) in slopes(rows).items():
        print(f"{step:<14}{t:>12.2f}{m:>15.2f}")
    print(f"\nwrote {RESULTS / (args.name + '.csv')} and .png")


if __name__ == "__main__":
    main()
