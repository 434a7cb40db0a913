"""``kkbm analyse``: every number anything publishes, computed once per data version, through one suppression.

:func:`analyse` reads a processed folder and writes the **analysis products** beside its
tables; reports, the index, notebooks' published views and CSV exports only read them
(:class:`kkbm_analysis.products.Products`)::

    indicators.parquet / .csv        every registry indicator, national and by province, per year and for
                                     the span, overall, by sex and by member status
    barriers.parquet / .csv          every barrier measure and the 12-month business outcome, with n,
                                     a 95 % interval, the national value and the interval verdict
    mentoring_points.parquet / .csv  per mandated point: the cohort's share who received it, sessions held
    resilience.parquet / .csv        the resilience indicators per survey round (when the survey is there)
    voices.parquet / .csv            theme prevalence of coded qualitative sources (when given or found)
    joint_display.parquet / .csv     barrier measures beside the voices on the matching theme, with the
                                     convergence verdict and publishable excerpts (with voices; :mod:`.joint`)
    models/                          fits (business model, Perdes DiD, province gap decompositions), cached
    recommendations.parquet / .csv   evidence-graded recommendation records (structured, no words)
    products.json                    the products manifest

How it runs
    One :class:`~.shared.Shared` holds the intermediates every product starts from (the
    per-member mentoring record, the business-outcome frame), built once. The cells of every
    product (:mod:`.cells`) go through **one** call of
    :func:`kkbm_analysis.suppression.suppress`, with the relations between products
    declared (:func:`.cells.relations`), so a number two products publish is withheld in
    both or in neither. Barrier and mentoring-point cells then get their verdict from the
    published numbers (:mod:`kkbm_analysis.verdicts`). Model fits are cached on disk by
    the hash of their inputs, parameters, seed and code (:mod:`.fits`): a second run on the
    same data refits nothing. Recommendation records follow from the published cells and
    the fits (:mod:`kkbm_analysis.recommendations`).

    Two threads: the indicators (DuckDB) and the fits that need no published cell (the
    national business model, the Perdes DiD, the resilience fits) run on a second thread
    while this one builds the barrier, mentoring-point and resilience cells and the gap
    decompositions. Both spend most of their time in DuckDB, numpy and Arrow, which release
    the GIL, so on two cores the steps overlap. Every step computes what it computed alone
    (each fit is seeded, one BLAS thread, DuckDB's sums do not depend on its threads), so
    the products are the same byte for byte.

Modules: :mod:`.shared` (parameters, intermediates), :mod:`.cells` (the cells of each
product), :mod:`.fits` (model fits and their cache), :mod:`.write` (files and manifest).
"""
from __future__ import annotations

import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..barriers import with_verdicts
from ..data import ProgramData
from ..recommendations import recommend
from ..store import REQUIRED_FOR_ANALYSIS
from ..suppression import PublishedTable, small_cells, suppress
from . import cells as cl
from .fits import FitRecord, fit_all, independent_fits
from .joint import JOINT_PARAMETERS, convergence_counts, joint_display_cells, write_joint_display
from .shared import Parameters, Shared
from .write import remove_stale, write_manifest, write_products, write_records

__all__ = ["analyse", "AnalysisResult", "Parameters", "find_voices"]

#: Tables the analysis reads only through DuckDB (the indicators) and Arrow: loaded in Arrow's types, so that
#: the 9 M business reports are not converted to pandas' types and back (the same values either way).
ARROW_TABLES = ("business_reports",)


@dataclass
class AnalysisResult:
    """What :func:`analyse` wrote, and how long each step took (not written: it varies by run).

    The steps on the second thread (indicators, national and resilience models) overlap the
    others: the times add up to more than the run's.
    """

    folder: Path
    files: list[Path]
    published: PublishedTable
    fits: list[FitRecord]
    records: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        m = self.published.metadata
        hits = sum(f.cached for f in self.fits)
        failed = [f.fit_id for f in self.fits if f.status != "ok"]
        lines = [f"analysis products in {self.folder}: {m['rows']:,} published cells ({m['primary']:,} withheld "
                 f"under the small-cell rule, {m['secondary']:,} to protect them), {len(self.records):,} "
                 f"recommendation records",
                 f"models: {len(self.fits)} fits, {hits} reused from the cache"
                 + (f"; could not be fitted: {', '.join(failed)}" if failed else ""),
                 *(f"note: {n}" for n in self.notes),
                 "time (indicators and the national and resilience models beside the rest): "
                 + ", ".join(f"{k} {v:.1f} s" for k, v in self.timings.items())]
        return "\n".join(lines)


def find_voices(processed_dir: Path) -> Path | None:
    """The voices folder beside a processed folder (``<name>-voices``, as ``kkbm voices demo`` writes it)."""
    candidate = processed_dir.parent / f"{processed_dir.name}-voices"
    return candidate if (candidate / "sources.parquet").is_file() else None


def _timed(timings: dict[str, float], name: str, fn: Any) -> Any:
    t0 = time.perf_counter()
    out = fn()
    timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0
    return out


def analyse(processed_dir: str | Path, *, data: ProgramData | None = None, voices_dir: str | Path | None = None,
            parameters: Parameters | None = None, client: Any = None) -> AnalysisResult:
    """Compute, suppress and write every analysis product of a processed folder (see the module docstring).

    Parameters
    ----------
    processed_dir : path
        A processed folder (``kkbm ingest``); the products are written into it.
    data : ProgramData, optional
        Its tables, when already loaded.
    voices_dir : path, optional
        A processed voices folder (``kkbm voices ingest``); default: ``<processed>-voices``
        beside it, if there is one.
    parameters : Parameters, optional
        Analysis choices (replacement window, bootstrap draws, seed...).
    client : distributed.Client or callable, optional
        Run the model fits the cache does not hold (one gap decomposition per province, the
        national models) on this Dask cluster's workers; a callable opening a client as a
        context manager is called only when a fit must run. Default: here, the fits that need no
        published cell on the second thread (module docstring). The products are the same either way.

    Returns
    -------
    AnalysisResult

    Notes
    -----
    Everything runs with one BLAS thread: a sum split over threads is added in another order,
    so the last bits of an estimate, and then a suppression or verdict at a boundary, would
    depend on the machine's cores and on where a fit runs.
    """
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():  # filters as before, after
        beside = ThreadPoolExecutor(1, thread_name_prefix="kkbm-analyse")
        try:
            return _analyse(Path(processed_dir), data, voices_dir, parameters, client, beside)
        finally:  # after an error, what has not started on the second thread does not start
            beside.shutdown(cancel_futures=True)


def _analyse(folder: Path, data: ProgramData | None, voices_dir: str | Path | None, parameters: Parameters | None,
             client: Any, beside: ThreadPoolExecutor) -> AnalysisResult:
    timings: dict[str, float] = {}
    if data is None:
        data = _timed(timings, "load", lambda: ProgramData.load(folder, require=REQUIRED_FOR_ANALYSIS,
                                                                     arrow=ARROW_TABLES))
    shared = Shared(data, parameters or Parameters())
    shared.span  # noqa: B018  (made here, before the second thread reads it)
    indicators = beside.submit(_timed, timings, "indicators", lambda: cl.indicator_cells(shared))
    barriers = _timed(timings, "barriers", lambda: cl.barrier_product_cells(shared))
    national = _beside(beside, client, timings, "national models", lambda: independent_fits(shared, folder, "national"))
    parts = {"indicators": None, "barriers": barriers,
             "mentoring_points": _timed(timings, "barriers", lambda: cl.point_cells(shared))}
    resilience = _timed(timings, "resilience", lambda: cl.resilience_cells(shared))
    resilience_fits = _beside(beside, client, timings, "resilience models",
                              lambda: independent_fits(shared, folder, "resilience"))
    parts["indicators"] = indicators.result()
    if resilience is not None:
        parts["resilience"] = resilience
    voices_path = Path(voices_dir) if voices_dir else find_voices(folder)
    voices_info, voices = None, None
    if voices_path is not None:
        from ..qualitative.voices import Voices
        voices = Voices.load(voices_path)
        parts["voices"] = _timed(timings, "voices", lambda: cl.voices_cells(voices))
        voices_info = {"folder": voices_path.name, "data_version": str(voices.manifest.get("data_version", "unknown")),
                       "synthetic": bool(voices.synthetic)}
    published = _timed(timings, "suppression", lambda: _suppress(shared, parts))
    products = _split(published, list(parts))
    joint = None
    if voices is not None:
        joint = _timed(timings, "voices", lambda: joint_display_cells(products["barriers"], products["voices"], voices))
        voices_info["joint_display"] = {"parameters": dict(JOINT_PARAMETERS), "rows": len(joint),
                                        "convergence": convergence_counts(joint)}
    fits, fit_files = _timed(timings, "models", lambda: fit_all(shared, folder, products["barriers"].frame.loc[
        lambda f: f["measure_id"] == cl.OUTCOME.id], client, national, resilience_fits))
    records = recommend(products["barriers"].frame, {f.fit_id: {"status": f.status, "tables": f.tables} for f in fits},
                        did_window=_did_window(fits))
    meta = {"synthetic": str(bool(data.synthetic)).lower(), "data_version": data.data_version}

    def write() -> list[Path]:
        files = write_products(products, folder, meta) + write_records(records, folder, meta) + fit_files
        if joint is not None:
            files += write_joint_display(joint, folder, meta)
        remove_stale(folder, {p.name for p in files})
        files.append(write_manifest(folder, data=data, span=shared.span, years=shared.years,
                                    parameters=shared.parameters.as_dict(), points=list(shared.points.point_ids),
                                    published=published, products=products, fits=fits, files=files,
                                    voices=voices_info, resilience=_resilience_info(products.get("resilience")),
                                    notes=shared.notes))
        return files
    files = _timed(timings, "write", write)
    return AnalysisResult(folder, files, published, fits, records, list(shared.notes), timings)


def _beside(beside: ThreadPoolExecutor, client: Any, timings: dict[str, float], name: str,
            fn: Callable[[], list[FitRecord]]) -> Callable[[], list[FitRecord]] | None:
    """Fits that need no published cell, started on the second thread (None with a Dask client, which
    runs every fit); returns what gives their records."""
    return None if client is not None else beside.submit(_timed, timings, name, fn).result


def _suppress(shared: Shared, parts: dict[str, pd.DataFrame]) -> PublishedTable:
    table = pd.concat(list(parts.values()), ignore_index=True)
    table.attrs.update(synthetic=shared.data.synthetic, data_version=shared.data.data_version,
                       span=(str(shared.span[0].date()), str(shared.span[1].date())))
    return suppress(table, relations=cl.relations(shared), synthetic=shared.data.synthetic)


def _split(published: PublishedTable, names: list[str]) -> dict[str, PublishedTable]:
    """One published table per product; barrier and mentoring-point cells get their verdicts."""
    frame = published.frame
    out = {}
    for name in names:
        mask = (frame["product"] == name).to_numpy()
        part = published.select(mask)
        if name in ("barriers", "mentoring_points", "resilience"):
            cells = part.frame
            too_few = cells["suppressed"].to_numpy(dtype=bool) | small_cells(cells)
            judged = with_verdicts(cells, pd.Series(too_few, index=cells.index))
            part = part.with_columns(judged[["national_value", "verdict", "verdict_rule"]])
        out[name] = part
    return out


def _resilience_info(resilience: PublishedTable | None) -> dict[str, Any] | None:
    """The survey rounds of the resilience product, in order (for the manifest), None without one."""
    if resilience is None:
        return None
    from ..resilience.frames import ROUNDS
    present = set(resilience.frame["period"].astype(str))
    return {"rounds": [r for r in ROUNDS if r in present]}


def _did_window(fits: list[FitRecord]) -> tuple[Any, Any]:
    did = next((f for f in fits if f.fit_id == "perdes_did" and f.status == "ok"), None)
    if did is None:
        return (pd.NaT, pd.NaT)
    first, last = did.numbers.get("periods", [None, None])
    end = (pd.Period(last, freq="M").end_time.normalize() if last else pd.NaT)
    return (pd.Timestamp(first + "-01") if first else pd.NaT, end)

