"""Benchmark: the staggered Perdes DiD (:func:`kkbm_analysis.models.perdes_effect`) by panel size.

Not a test. Run it from the project's environment::

    .venv/bin/python benchmarks/bench_did.py                        # 49 and 6,000 villages
    .venv/bin/python benchmarks/bench_did.py --villages 49 600 6000 --repeat 3
    .venv/bin/python benchmarks/bench_did.py --estimator imputation --n-boot 999

Data: a village x month panel made here with the synthetic generator's Perdes model
(:data:`kkbm_analysis.synth.PERDES`: Poisson non-procedural departures with a village
effect, seasonality and a common trend; about 40 % of villages adopt in monthly cohorts
from January of the second year to June of the fourth; the effect falls by cohort),
January 2016 to December 2020 (60 months), the span and shape of the demo and national
``departures`` tables. 49 villages is the demo's size and 6,000 the national one (~6,000
communities), without generating a million members: only the DiD's input is built.

Each size is timed as ``perdes_effect(panel, estimator=..., n_boot=...)`` end to end (the
panel pivot, the estimator, event study, uniform band, pre-trend tests and the TWFE
contrast), the best of ``--repeat`` runs; panel generation and imports are outside the
timing. ``--threads N`` caps the BLAS/OpenMP threads (threadpoolctl); on a shared machine
one thread gives steadier figures than oversubscribed BLAS threads.

Figures (best of runs, one BLAS thread, shared 2-core machine with a load average of 4-5):

    villages  estimator          before (dense FE system)   after (block elimination)
    49        imputation         0.14 s                     0.04 s
    49        callaway_santanna  0.07 s                     0.06 s
    6,000     imputation         346 s (159 s, 2 threads)   3.2 s
    6,000     callaway_santanna  1.2 s                      1.9 s

"Before" is the dense computation kept as a reference in ``tests/test_did.py``, with the
earlier Gaussian-multiplier sup-t test; "after" includes the wild restricted bootstrap-t of
the sup-t pre-trend test (about 2 s of the 3.2 s and 0.7 s of the 1.9 s at 6,000 villages).
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from kkbm_analysis import models
from kkbm_analysis.synth import PERDES

FIRST_MONTH = 2016 * 12          # month index (year * 12 + month - 1) of 2016-01
N_MONTHS = 60                    # 2016-01 .. 2020-12
ADOPTION = (2018 * 12, 2019 * 12 + 5)   # cohorts uniform in 2018-01 .. 2019-06


def village_panel(n_villages: int, seed: int = 0) -> pd.DataFrame:
    """A synthetic village x month departures panel with staggered Perdes adoption.

    Returns
    -------
    DataFrame
        ``village_code, month, y, cohort`` (Int64 month index or NA), the input
        :func:`~kkbm_analysis.models.perdes_effect` takes.
    """
    rng = np.random.default_rng(seed)
    months = np.arange(FIRST_MONTH, FIRST_MONTH + N_MONTHS)
    adopt = rng.random(n_villages) < 0.4
    g = rng.integers(ADOPTION[0], ADOPTION[1] + 1, n_villages)
    t = months - months[0]
    season = PERDES["seasonal_amplitude"] * np.sin(2 * np.pi * ((months % 12) - 2) / 12)
    alpha = np.log(PERDES["baseline_non_procedural"]) + rng.normal(0, PERDES["sd_village"], n_villages)
    mu0 = np.exp(alpha[:, None] + (season + PERDES["trend_per_month"] * t)[None, :])
    e = months[None, :] - g[:, None]
    k = PERDES["k_earliest"] + (PERDES["k_latest"] - PERDES["k_earliest"]) * (g - ADOPTION[0]) / (
        ADOPTION[1] - ADOPTION[0])
    r = np.where(e < 3, PERDES["effect_months_0_2"], PERDES["effect_from_month_3"])
    y = rng.poisson(mu0 * np.where(adopt[:, None] & (e >= 0), 1 - r * k[:, None], 1.0))
    codes = np.array([f"V{i:05d}" for i in range(n_villages)])
    return pd.DataFrame({"village_code": np.repeat(codes, N_MONTHS), "month": np.tile(months, n_villages),
                         "y": y.ravel().astype(float),
                         "cohort": pd.array(np.repeat(np.where(adopt, g, -1), N_MONTHS), dtype="Int64")
                         }).replace({"cohort": {-1: pd.NA}})


def time_did(panel: pd.DataFrame, *, estimator: str, n_boot: int, repeat: int) -> tuple[float, models.PerdesEffect]:
    """Best wall time of ``repeat`` calls of perdes_effect on ``panel``, and the last result."""
    best, res = np.inf, None
    for _ in range(repeat):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", models.ModelWarning)
            t0 = time.perf_counter()
            res = models.perdes_effect(panel, estimator=estimator, n_boot=n_boot)
            best = min(best, time.perf_counter() - t0)
    return best, res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--villages", type=int, nargs="+", default=[49, 6000])
    ap.add_argument("--estimator", choices=[*models.did.ESTIMATORS, "both"], default="both")
    ap.add_argument("--n-boot", type=int, default=999, help="uniform-band bootstrap draws (the default of "
                                                            "perdes_effect)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None, help="cap BLAS/OpenMP threads (default: no cap)")
    args = ap.parse_args(argv)
    if args.threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)
    estimators = models.did.ESTIMATORS if args.estimator == "both" else (args.estimator,)
    rows = []
    for n in args.villages:
        panel = village_panel(n, args.seed)
        for est in estimators:
            seconds, res = time_did(panel, estimator=est, n_boot=args.n_boot, repeat=args.repeat)
            rows.append({"villages": n, "village_months": len(panel), "adopting": res.n_treated,
                         "cohorts": res.n_cohorts, "estimator": est, "seconds": round(seconds, 3),
                         "att": round(res.overall["estimate"], 4), "se": round(res.overall["std_error"], 4)})
            print(f"  {n:,} villages, {est}: {seconds:.2f} s", flush=True)
    print(pd.DataFrame(rows).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
