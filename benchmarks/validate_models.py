"""Validate the outcome models on many synthetic datasets: bias and 95% interval coverage.

For each seed the synthetic programme data are generated with effects known by
construction (:mod:`kkbm_analysis.synth`), every model of :mod:`kkbm_analysis.models` is
fitted, and each target parameter's estimate and 95% interval are compared with the
ground truth. The report gives, per model and target: the mean truth, the mean estimate,
the bias, the RMSE, the SD of the error against the mean standard error, and the coverage
(share of intervals containing the truth: near 0.95 when estimator and SEs are right).

    .venv/bin/python benchmarks/validate_models.py                 # 200 seeds, demo scale
    .venv/bin/python benchmarks/validate_models.py --seeds 20 --scale 0.25
    .venv/bin/python benchmarks/validate_models.py --crosscheck --seeds 10   # DiD vs peer packages

With ``--results benchmarks/results`` the summaries are written where they are committed
(``validate_models_summary.md`` and ``did_peer_crosscheck.md`` name the command that made them).

This is a script, not a test; ``tests/test_models.py`` calls :func:`run_validation` on a
few seeds at a small scale with a loose bound. Rows whose ``kind`` is ``rejection`` are
rejection rates of a test whose null hypothesis is true (should be near 0.05);
``contrast`` rows are shown for comparison only (TWFE).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kkbm_analysis import models, synth  # noqa: E402
from kkbm_analysis.data import ProgramData  # noqa: E402
from kkbm_analysis.schema import TABLES  # noqa: E402

OAXACA_PAIR = ("33", "35")   # Jawa Tengah vs Jawa Timur (no mentoring delivered, seed 000)
KM_DAYS = 365
SEED_TIMEOUT = 900  # seconds one seed may take before the run is abandoned


# ----------------------------------------------------------------------------- data
def load_synthetic(seed: int, scale: str | float = "demo") -> tuple[ProgramData, dict]:
    """Synthetic ProgramData and its ground truth, as fast as the synth module allows.

    Uses ``synth.program_data`` when it exists (the processed tables without the file
    round trip); otherwise the generator's clean tables restricted to the schema columns
    (the same values the ingest produces, with raw NIKs instead of pseudonyms).
    """
    program_data = getattr(synth, "program_data", None)
    if program_data is not None:
        data = program_data(seed=seed, scale=scale)
        truth = getattr(data, "ground_truth", None) or data.manifest.get("ground_truth")
        if truth is None:
            truth = synth._simulate(seed, scale, 2017, 2020)[1].truth
        return data, truth
    tables, world = synth._simulate(seed, scale, 2017, 2020)
    clean = {name: df[[c for c in TABLES[name].columns if c in df.columns]] for name, df in tables.items()}
    return ProgramData(clean, {"synthetic": True, "seed": seed}), world.truth


def _v(truth: dict, section: str, key: str) -> Any:
    return truth[section][key]["value"]


# ----------------------------------------------------------------------------- one seed
def _row(model: str, target: str, truth: float, est: float, se: float, lo: float, hi: float,
         kind: str = "estimate") -> dict:
    return {"model": model, "target": target, "kind": kind, "truth": float(truth), "estimate": float(est),
            "std_error": float(se), "ci_low": float(lo), "ci_high": float(hi),
            "covered": bool(lo <= truth <= hi) if kind != "rejection" else bool(est < 0.05)}  # rejected


def _from(model: str, target: str, truth: float, r: pd.Series, kind: str = "estimate") -> dict:
    return _row(model, target, truth, r["estimate"], r["std_error"], r["ci_low"], r["ci_high"], kind)


def evaluate(data: ProgramData, truth: dict, *, n_boot: int = 199) -> list[dict]:
    """Fit every model on one dataset; one row per target parameter."""
    rows: list[dict] = []
    y12 = truth["business_y12"]
    frame = models.business_outcome_frame(data)
    glm = models.business_running_model(frame, method="glm")
    rows.append(_from("logit GLM (cluster)", "log OR points (marginal)", _v(truth, "business_y12",
                                                                         "marginal_log_or_points"), glm.term("points")))
    ame = glm.marginal_effects.set_index("term").loc["points"]
    rows.append(_row("logit GLM (cluster)", "AME points", y12["ame_points"]["value"], ame["ame"], ame["std_error"],
                     ame["ci_low"], ame["ci_high"]))
    gee = models.business_running_model(frame, method="gee")
    rows.append(_from("GEE exchangeable", "log OR points (marginal)", y12["marginal_log_or_points"]["value"],
                      gee.term("points")))
    mixed = models.business_running_model(frame, method="mixed")
    for term, key in (("points", "beta_points"), ("kur_before_t12", "beta_kur"), ("female", "beta_female"),
                      ("years_abroad", "beta_years_abroad"), ("members_per_staff_10", "beta_members_per_staff")):
        rows.append(_from("GLMM random intercept", f"log OR {term} (conditional)", y12[key]["value"], mixed.term(term)))
    sd = mixed.random_effect_sd
    rows.append(_row("GLMM random intercept", "community SD", y12["sd_community"]["value"], sd["estimate"],
                     np.nan, sd["ci_low"], sd["ci_high"]))
    # survival
    surv = models.business_survival_frame(data)
    cox = models.business_survival_model(surv)
    rows.append(_from("Cox (cluster)", "log HR points", _v(truth, "business_survival", "beta_surv"), cox.term("points")))
    for term in ("kur_before_t12", "female"):
        rows.append(_from("Cox (cluster)", f"log HR {term} (null)", 0.0, cox.term(term)))
    ph = float(cox.ph_test.loc[cox.ph_test["term"] == "GLOBAL", "p_value"].iloc[0])
    rows.append(_row("Cox (cluster)", "PH test rejects (PH true)", 0.05, ph, np.nan, np.nan, np.nan, "rejection"))
    km = models.survival_curves(surv, times=(KM_DAYS,))
    rate = _v(truth, "business_survival", "lambda0_per_month") / 30.44
    hr = _v(truth, "business_survival", "hr_per_point")
    for group, (lo_p, hi_p) in (("0", (0, 0)), ("3–4", (3, 4))):
        sel = surv["points"].between(lo_p, hi_p)
        true_s = float(np.mean(np.exp(-rate * hr ** surv.loc[sel, "points"] * KM_DAYS)))
        est = km.estimates[km.estimates["group"] == group]
        if len(est):
            rows.append(_from("Kaplan-Meier", f"S(12 months) | {group} points", true_s, est.iloc[0]))
    # Oaxaca-Blinder (no truth beyond 'no province effect in the DGP')
    gap = models.province_gap_decomposition(frame, *OAXACA_PAIR, n_boot=n_boot, seed=1)
    rows.append(_from("Oaxaca-Blinder 33 vs 35", "unexplained (DGP: 0 up to LPM approx.)", 0.0,
                      gap.term("unexplained"), kind="approximate"))
    # Perdes DiD: both estimators against the same truth (the peer-package comparison is --crosscheck)
    perdes = truth["perdes"]
    by_e = {r["event_time"]: r["att"] for r in perdes["att_by_event_time"]["value"]}
    for label, estimator in (("BJS imputation", "imputation"), ("Callaway-Sant'Anna", "callaway_santanna")):
        did = models.perdes_effect(data, n_boot=0, estimator=estimator)
        rows.append(_from(label, "ATT overall", perdes["att_overall"]["value"], did.term("ATT (overall)")))
        rows.append(_from(label, "ATT relative", perdes["att_overall_relative"]["value"],
                          did.term("ATT (relative to counterfactual)")))
        for e in (0, 3, 12):
            rows.append(_from(label, f"ATT(e={e})", by_e[e], did.term(f"e={e}")))
        rows.append(_row(label, "pre-trend test rejects (mean of leads)", 0.05, did.pretrend["p_value"],
                         np.nan, np.nan, np.nan, "rejection"))
        rows.append(_row(label, "pre-trend test rejects (all leads, sup-t)", 0.05, did.pretrend["p_value_joint"],
                         np.nan, np.nan, np.nan, "rejection"))
    rows.append(_from("TWFE (biased, contrast)", "ATT overall", perdes["att_overall"]["value"],
                      did.term("TWFE (biased, contrast)"), kind="contrast"))
    return rows


def _one(args: tuple[int, Any, int]) -> list[dict]:
    seed, scale, n_boot = args
    warnings.simplefilter("ignore")
    t = time.perf_counter()
    with _one_thread():   # two workers on two cores: multithreaded BLAS would only oversubscribe
        data, truth = load_synthetic(seed, scale)
        try:
            rows = evaluate(data, truth, n_boot=n_boot)
        except models.ModelInputError as exc:
            return [{"model": "ERROR", "target": str(exc), "kind": "error", "seed": seed}]
    for r in rows:
        r["seed"] = seed
        r["seconds"] = time.perf_counter() - t
    return rows


def _one_thread() -> Any:
    try:
        from threadpoolctl import threadpool_limits
        return threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scipy's usual stack
        import contextlib
        return contextlib.nullcontext()


# ----------------------------------------------------------------------------- many seeds
def run_validation(seeds: Iterable[int] = range(200), scale: str | float = "demo", *, workers: int = 2,
                   n_boot: int = 199, progress: bool = True, start_method: str = "spawn") -> pd.DataFrame:
    """Fit every model on each seed (in ``workers`` processes); one row per seed and target.

    ``start_method`` is the multiprocessing start method: ``"spawn"`` (safe everywhere) or
    ``"fork"`` (Linux; workers start instantly, used by the quick test).
    """
    jobs = [(int(s), scale, n_boot) for s in seeds]
    rows: list[dict] = []
    start = time.perf_counter()
    if workers > 1:
        here = str(Path(__file__).resolve().parent)
        if here not in sys.path:     # spawned workers import this module by name (they inherit sys.path)
            sys.path.insert(0, here)
        with mp.get_context(start_method).Pool(workers) as pool:
            results = pool.imap_unordered(_one, jobs)
            for i in range(1, len(jobs) + 1):
                rows += results.next(timeout=SEED_TIMEOUT)   # a dead worker raises instead of hanging
                _progress(progress, i, len(jobs), start)
    else:
        for i, job in enumerate(jobs, 1):
            rows += _one(job)
            _progress(progress, i, len(jobs), start)
    return pd.DataFrame(rows)


def _progress(show: bool, i: int, n: int, start: float) -> None:
    if show:
        elapsed = time.perf_counter() - start
        print(f"  seed {i}/{n} done, {elapsed:.0f} s elapsed, ~{elapsed / i * (n - i):.0f} s left", flush=True)


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Per model and target: mean truth, bias, RMSE, SD of the error vs mean SE, coverage (or rejection rate).

    The truth can differ by seed (e.g. the realised ATT), so the spread compared with the mean
    standard error is that of the error (estimate - that seed's truth), not of the estimates.
    """
    ok = results[results["kind"] != "error"].assign(error=lambda d: d["estimate"] - d["truth"])
    g = ok.groupby(["model", "target", "kind"], sort=False)
    out = g.agg(n=("estimate", "size"), truth=("truth", "mean"), mean_estimate=("estimate", "mean"),
                bias=("error", "mean"), sd_error=("error", "std"), mean_se=("std_error", "mean"),
                coverage=("covered", "mean"))
    out["bias_se"] = out["sd_error"] / np.sqrt(out["n"])
    out["rmse"] = np.sqrt(g["error"].apply(lambda e: (e**2).mean()))
    rej = out.index.get_level_values("kind") == "rejection"
    out.loc[rej, ["mean_estimate", "sd_error", "mean_se", "bias", "bias_se", "rmse"]] = np.nan
    out = out.rename(columns={"coverage": "coverage_or_rejection"})
    return out.reset_index()[["model", "target", "kind", "n", "truth", "mean_estimate", "bias", "bias_se", "rmse",
                              "sd_error", "mean_se", "coverage_or_rejection"]]


# ----------------------------------------------------------------------------- peers of the DiD estimators
PEERS = {"cs": "differences ATTgt (never-treated controls, simple aggregation)",
         "did2s": "pyfixest did2s (Gardner two-stage: same point estimates as BJS)",
         "leads": "pyfixest feols on untreated village-months: y ~ leads | village + month, CRV1 without "
                  "small-sample factors"}


def crosscheck(seed: int, scale: str | float = "demo", window: tuple[int, int] = (-12, 24)) -> list[dict]:
    """Each DiD estimator of the package against a peer package computing the same estimator, on one seed.

    Callaway–Sant'Anna against the ``differences`` package (ATT and SE). The BJS imputation
    estimator's point estimates against Gardner's two-stage DiD (``pyfixest.did2s``), which
    gives the same numbers (first stage: village and month FE on untreated village-months;
    second stage: the residualised outcome on treatment or event-time dummies); its standard
    errors are not BJS's (Gardner's GMM variance against BJS's conservative one), so they are
    shown as a ratio. The BJS pre-trend regression's leads and SEs against ``pyfixest.feols``
    on the untreated observations. Needs the ``bench`` extra.
    """
    import pyfixest as pf
    from differences import ATTgt

    data, _ = load_synthetic(seed, scale)
    panel = models.departures_panel(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", models.ModelWarning)
        bjs = models.perdes_effect(panel, n_boot=0, event_window=window)
        cs = models.perdes_effect(panel, n_boot=0, event_window=window, estimator="callaway_santanna")
    rows: list[dict] = []

    def add(estimator: str, quantity: str, peer: str, ours: float, theirs: float, compare: str = "equal") -> None:
        rows.append({"seed": seed, "estimator": estimator, "quantity": quantity, "peer": PEERS[peer],
                     "ours": float(ours), "theirs": float(theirs), "abs_diff": abs(float(ours) - float(theirs)),
                     "compare": compare})

    d = panel.assign(g=panel["cohort"].astype("Float64").astype(float)).set_index(["village_code", "month"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        att = ATTgt(data=d[["y", "g"]], cohort_column="g")
        att.fit(formula="y", control_group="never_treated", progress_bar=False)
        simple = att.aggregate("simple").iloc[0]
    add("Callaway-Sant'Anna", "ATT overall", "cs", cs.overall["estimate"], simple.iloc[0])
    add("Callaway-Sant'Anna", "ATT overall SE", "cs", cs.overall["std_error"], simple.iloc[1])

    df = panel.copy()
    g = df["cohort"].astype("Float64").astype(float)
    rel = (df["month"] - g).to_numpy()
    df["treat"] = (rel >= 0).astype(int)                     # NaN (never treated) compares False
    df["post_e"] = np.where(df["treat"] == 1, rel, -1).astype(int)
    df["lead"] = np.where((rel >= window[0]) & (rel <= -1), rel, 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pooled = pf.did2s(df, yname="y", first_stage="~ 0 | village_code + month", second_stage="~ 0 + treat",
                          treatment="treat", cluster="village_code").tidy()
        by_e = pf.did2s(df, yname="y", first_stage="~ 0 | village_code + month",
                        second_stage="~ 0 + i(post_e, ref=-1)", treatment="treat", cluster="village_code").tidy()
        leads = pf.feols("y ~ i(lead, ref=0) | village_code + month", data=df[df["treat"] == 0],
                         vcov={"CRV1": "village_code"}, ssc=pf.ssc(k_adj=False, G_adj=False), fixef_rm="none",
                         fixef_tol=1e-12).tidy()
    add("BJS imputation", "ATT overall", "did2s", bjs.overall["estimate"], pooled["Estimate"].iloc[0])
    add("BJS imputation", "ATT overall SE (BJS conservative vs Gardner GMM)", "did2s", bjs.overall["std_error"],
        pooled["Std. Error"].iloc[0], compare="ratio")
    es = bjs.event_study.set_index("event_time")

    def coef(tidy: pd.DataFrame, column: str) -> pd.Series:
        return pd.Series(tidy[column].to_numpy(), index=[int(float(k.split("::")[1])) for k in tidy.index])

    for name, tidy, sel, peer in (("ATT(e), e >= 0", by_e, es.index >= 0, "did2s"),
                                  ("lead coefficients", leads, es.index < 0, "leads")):
        theirs = coef(tidy, "Estimate").reindex(es.index[sel])
        worst = (es.loc[sel, "att"] - theirs).abs().idxmax()
        add("BJS imputation", f"{name} (largest difference, e={worst})", peer, es.loc[worst, "att"], theirs[worst])
    theirs = coef(leads, "Std. Error").reindex(es.index[es.index < 0])
    worst = (es.loc[es.index < 0, "std_error"] - theirs).abs().idxmax()
    add("BJS imputation", f"lead SEs (largest difference, e={worst})", "leads", es.loc[worst, "std_error"],
        theirs[worst])
    return rows


def crosscheck_markdown(runs: pd.DataFrame, command: str) -> str:
    """Per estimator and quantity: the largest difference from the peer over the seeds (or the SE ratio)."""
    runs = runs.assign(quantity=runs["quantity"].str.replace(r" \(largest difference, e=-?\d+\)", "", regex=True),
                       ratio=runs["ours"] / runs["theirs"])
    lines = [f"# The DiD estimators against peer packages\n\nMade by `{command}` ({runs['seed'].nunique()} seeds). "
             "Each estimator is compared with a package computing the same estimator: differences should be "
             "rounding, except that pyfixest's did2s demeans its first stage iteratively to its own default "
             "tolerance (about 1e-6 here). The BJS and Gardner standard errors are different estimators of the "
             "variance (BJS's is conservative), so only their ratio is shown.\n",
             "| estimator | quantity | peer | seeds | largest abs. difference | ours / peer (mean) |",
             "|---|---|---|---|---|---|"]
    for (est, q, peer, compare), grp in runs.groupby(["estimator", "quantity", "peer", "compare"], sort=False):
        lines.append(f"| {est} | {q} | {peer.replace('|', chr(92) + '|')} | {len(grp)} | "
                     + ("(different estimators of the variance)" if compare == "ratio" else f"{grp['abs_diff'].max():.2e}")
                     + f" | {grp['ratio'].mean():.3f} |")
    return "\n".join(lines) + "\n"


def summary_markdown(table: pd.DataFrame, *, command: str, seconds: float, errors: int) -> str:
    """The summary as a short Markdown page: estimates (bias, RMSE, coverage), then rejection rates."""
    def fmt(v: Any) -> str:
        return "" if pd.isna(v) else f"{v:.3f}" if isinstance(v, float) else str(v).replace("|", "\\|")

    def md(df: pd.DataFrame, cols: list[str]) -> str:
        head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
        return head + "".join("| " + " | ".join(fmt(r[c]) for c in cols) + " |\n" for _, r in df.iterrows())

    est = table[table["kind"] != "rejection"].rename(columns={"coverage_or_rejection": "coverage"})
    rej = table[table["kind"] == "rejection"].rename(columns={"coverage_or_rejection": "rejection_rate"})
    n = int(table["n"].max()) if len(table) else 0
    return (f"# Model validation over synthetic seeds\n\nMade by `{command}` in {seconds / 60:.1f} min "
            f"({n} seeds; {errors} refused by a guard rail). Each seed is a synthetic programme with effects known "
            "by construction; every model is fitted and compared with the truth.\n\n"
            "## Estimates: bias, RMSE and 95 % interval coverage (nominal 0.95)\n\n"
            "`contrast` rows (TWFE) are biased by design; `approximate` rows have an approximate truth. "
            "The truth can vary by seed: `bias`, `rmse` and `sd_error` are of the estimate minus that seed's "
            "truth; `sd_error` near `mean_se` means the standard errors are right.\n\n"
            + md(est, ["model", "target", "kind", "n", "truth", "bias", "bias_se", "rmse", "sd_error", "mean_se",
                       "coverage"])
            + "\n## Rejection rates of tests whose null hypothesis is true (nominal 0.05)\n\n"
            + md(rej, ["model", "target", "n", "rejection_rate"]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=200, help="number of seeds (0..N-1), default 200")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--scale", default="demo", help="'demo' or a float multiplier (e.g. 0.25)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--n-boot", type=int, default=199, help="Oaxaca-Blinder bootstrap draws per seed")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out"), help="folder for the per-seed CSV")
    ap.add_argument("--results", default=None, help="folder for the summary (CSV and Markdown with the command); "
                                                    "default: --out")
    ap.add_argument("--crosscheck", action="store_true",
                    help="compare each DiD estimator with a peer package on --seeds seeds (the bench extra)")
    args = ap.parse_args(argv)
    scale = args.scale if args.scale in ("demo", "national") else float(args.scale)
    command = "python benchmarks/validate_models.py " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.crosscheck:
        runs = pd.DataFrame([r for s in range(args.first_seed, args.first_seed + args.seeds)
                             for r in crosscheck(s, scale)])
        res = Path(args.results or args.out)
        res.mkdir(parents=True, exist_ok=True)
        runs.to_csv(res / "did_peer_crosscheck.csv", index=False, float_format="%.10g")
        text = crosscheck_markdown(runs, command.strip())
        (res / "did_peer_crosscheck.md").write_text(text, encoding="utf-8")
        print(text)
        return 0
    print(f"Validating kkbm_analysis.models on {args.seeds} synthetic seeds (scale {scale}, {args.workers} workers)",
          flush=True)
    start = time.perf_counter()
    results = run_validation(range(args.first_seed, args.first_seed + args.seeds), scale, workers=args.workers,
                             n_boot=args.n_boot)
    seconds = time.perf_counter() - start
    errors = results[results["kind"] == "error"]
    if len(errors):
        print(f"{len(errors)} seed(s) refused by a guard rail:\n{errors[['seed', 'target']].to_string(index=False)}")
    table = summarise(results)
    out, res = Path(args.out), Path(args.results or args.out)
    for folder in (out, res):
        folder.mkdir(parents=True, exist_ok=True)
    results.to_csv(out / "validate_models_runs.csv", index=False)
    table.to_csv(res / "validate_models_summary.csv", index=False, float_format="%.6g")
    (res / "validate_models_summary.md").write_text(
        summary_markdown(table, command=command.strip(), seconds=seconds, errors=len(errors)), encoding="utf-8")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\nWritten: {res / 'validate_models_summary.csv'}, validate_models_summary.md and "
          f"{out / 'validate_models_runs.csv'} ({seconds / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
