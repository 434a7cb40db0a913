"""Batch regeneration of every report: :func:`build_reports`.

::

    from kkbm_analysis.reports import build_reports
    result = build_reports("data/processed/demo")      # all provinces x ("2018",) x ("id", "en")
    print(result.summary()); raise SystemExit(result.exit_code)

What it does
------------
1. Validates the request at once (unknown provinces or periods list the valid ones; paths
   must lie in the project's data and output folders) and plans one job per province report
   (template ``report_province.ipynb``) and national brief (``brief_national.ipynb``, both
   in the package: ``kkbm_analysis/reports/templates``) x period x language
   (:mod:`.planning`). Output names are built from the parameters:
   ``province-36-banten-2018-id.html``, ``brief-national-2018-en.pdf``.
2. Skips every job whose cache key is unchanged (template, parameters, package version and
   sources, input data: manifest ``data_version`` and the SHA-256 of every processed file;
   see :func:`kkbm_analysis.reports.cache.build_key`); the key is stored in
   ``<out_dir>/.cache/<name>.json`` beside the outputs. ``force=True`` rebuilds all.
3. Runs the rest in ``jobs`` worker processes (:mod:`.pool`). Each worker holds one warm kernel
   (:class:`~kkbm_analysis.reports.kernel.WarmKernel`, the pinned ``kkbm-analysis`` kernel of
   this environment) reused for all its notebooks through papermill (engine ``kkbm-warm``),
   with no execution time-out, and exports HTML in-process. The languages of one report go
   to the same worker, so they share its data and analysis caches.
4. Prints each report's PDF from the main process as it is built, with one PDF engine for
   the whole batch (:mod:`.pdf`: WeasyPrint by default, Chromium optionally; skipped with a
   warning and a note in the summary when the engine cannot run).
5. Writes ``index.html`` linking every report in the output folder, and returns a
   :class:`BuildResult` whose :meth:`~BuildResult.summary` lists each failure with its
   cell index, exception name and message (from papermill's ``PapermillExecutionError``).

Failures never leave a complete-looking file: outputs are written atomically, and a failed
report's old HTML/PDF/key are removed and replaced by ``<name>.failed.log`` (and the executed
notebook ``<name>.failed.ipynb`` showing the failing cell).
"""
from __future__ import annotations

import logging
import os
import time
import warnings
from pathlib import Path
from typing import Iterable, Sequence

from ..config import paths as project_paths
from ..i18n import region_name
from . import kernel as kn
from .params import ParameterError, check_path
from .outcomes import BuildResult, ReportError, ReportOutcome
from .planning import CACHE_DIR, TEMPLATE_FILES, ReportJob, _paths, _read_key, _remove, output_stem, plan_reports
from .pdf import DEFAULT_PDF_ENGINE, PDF_ENGINES, PdfEngineUnavailable, open_pdf_engine
from .pool import _run_pool

__all__ = ["build_reports", "plan_reports", "BuildResult", "ReportJob", "ReportOutcome", "ReportError",
           "TEMPLATE_FILES", "output_stem"]

log = logging.getLogger(__name__)


# =========================================================================== records


# =========================================================================== planning


# =========================================================================== outputs and cache


def _job_key(job: ReportJob, data_fp: dict, package_fp: dict) -> dict:
    from .cache import build_key
    params = dict(job.parameters)
    params["data_dir"] = "<processed>"  # the data's identity is in data_fp, not in where it lies
    return build_key(job.notebook, params, data_fp, package_fp,
                     extra={"template": job.template, "kernel": kn.KERNEL_NAME})


# =========================================================================== worker


# =========================================================================== main process
def _progress(enabled: bool, total: int):
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    prog = Progress(TextColumn("[bold]reports[/bold]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.description}"), console=Console(stderr=True), transient=False)
    prog.start()
    prog.add_task("", total=total)
    return prog


def _index_entries(out_dir: Path) -> tuple[list, bool]:
    """Every report in ``out_dir`` (from the stored keys and failure logs)."""
    from .export import IndexEntry
    entries, synthetic = [], False
    cache = out_dir / CACHE_DIR
    seen = set()
    for key_file in sorted(cache.glob("*.json")) if cache.is_dir() else []:
        rec = _read_key(key_file)
        stem = key_file.stem
        if not rec or stem.endswith(".failed") or not (out_dir / f"{stem}.html").exists():
            continue
        params = rec.get("parameters", {})
        synthetic = synthetic or bool(rec.get("data", {}).get("synthetic"))
        pdf = out_dir / f"{stem}.pdf"
        code = params.get("province")
        entries.append(IndexEntry(stem, rec.get("template", ""), code, region_name(code) if code else None,
                                  str(params.get("period", "")), str(params.get("lang", "")), f"{stem}.html",
                                  pdf.name if pdf.exists() else None, "ok"))
        seen.add(stem)
    for failed in sorted(cache.glob("*.failed.json")) if cache.is_dir() else []:
        rec = _read_key(failed) or {}
        stem = failed.name[: -len(".failed.json")]
        if stem in seen or not (out_dir / f"{stem}.failed.log").exists():
            continue
        params = rec.get("parameters", {})
        code = params.get("province")
        entries.append(IndexEntry(stem, rec.get("template", ""), code, region_name(code) if code else None,
                                  str(params.get("period", "")), str(params.get("lang", "")), None, None, "failed",
                                  rec.get("error", "")))
    return entries, synthetic


def build_reports(processed_dir: str | Path, out_dir: str | Path | None = None, *,
                  provinces: Iterable[str] | None = None, periods: Sequence[str] = ("2018",),
                  langs: Sequence[str] = ("id", "en"), jobs: int | None = os.cpu_count(),
                  continue_on_error: bool = True, force: bool = False, pdf: bool = True,
                  pdf_engine: str = DEFAULT_PDF_ENGINE, progress: bool = True, national: bool = True,
                  templates_dir: str | Path | None = None, templates: dict[str, str] | None = None,
                  show_models: bool = True, n_boot: int | None = None, kernel_name: str = kn.KERNEL_NAME,
                  start_timeout: float = kn.START_TIMEOUT, root: str | Path | None = None) -> BuildResult:
    """Regenerate every province report and national brief, plus ``index.html``.

    Parameters
    ----------
    processed_dir : path
        Processed data (inside the project's ``data/``), e.g. ``data/processed/demo``.
    out_dir : path, optional
        Output folder (default ``paths().reports``; inside the project's output folders).
    provinces : iterable of str, optional
        Province codes as strings (default: every province in the data).
    periods : sequence of str
        Years (default ``("2018",)``).
    langs : sequence of {'id', 'en'}
    jobs : int
        Worker processes (default: the number of cores), each with one warm kernel.
    continue_on_error : bool
        Go on after a failing report (default); otherwise stop at the first failure and
        mark the rest ``not run``.
    force : bool
        Rebuild even up-to-date reports.
    pdf : bool
        Also print PDFs (skipped with a note when the engine cannot run here).
    pdf_engine : {'weasyprint', 'chromium'}
        The PDF engine (:mod:`kkbm_analysis.reports.pdf`); WeasyPrint needs no browser.
    progress : bool
        Show a progress bar (rich, on stderr).
    national : bool
        Include the national brief.
    templates_dir, templates : optional
        Another folder of templates (default: the package's), or other file names per kind
        (``{"province": ...}``).
    show_models, n_boot
        Template options (model section; bootstrap draws of the gap decomposition).
    kernel_name : str
        The pinned kernel (``kkbm-analysis``), registered in this environment if missing.
    start_timeout : float
        Seconds to wait for a kernel to start.
    root : path, optional
        Project root (default :func:`kkbm_analysis.config.find_root`); resolved once here and
        handed to the planning, the output folder check and the workers.

    Returns
    -------
    BuildResult
        ``exit_code`` is 0 when every report is built or up to date.

    Raises
    ------
    ParameterError
        Invalid request (before anything runs).
    KernelNotFoundError
        The pinned kernel is missing and cannot be registered.
    """
    from .cache import data_fingerprint, package_fingerprint
    from .export import write_index

    t0 = time.perf_counter()
    if pdf and pdf_engine not in PDF_ENGINES:
        raise ParameterError(f"unknown PDF engine {pdf_engine!r}; engines: {', '.join(PDF_ENGINES)}")
    paths = project_paths(root)
    plan = plan_reports(processed_dir, provinces=provinces, periods=periods, langs=langs, national=national,
                        templates_dir=templates_dir, templates=templates, show_models=show_models, n_boot=n_boot,
                        root=paths.root)
    out = check_path(out_dir if out_dir is not None else paths.reports, "out_dir", root=paths.root)
    (out / CACHE_DIR).mkdir(parents=True, exist_ok=True)
    kn.ensure_kernel(kernel_name)
    data_fp = data_fingerprint(plan[0].parameters["data_dir"], memo_file=out / CACHE_DIR / "data-hashes.json")
    package_fp = package_fingerprint()
    keys = {job.stem: _job_key(job, data_fp, package_fp) for job in plan}
    outcomes, todo = _up_to_date(plan, keys, out, force)
    missing_pdf = [j for j in plan if outcomes.get(j.stem) and outcomes[j.stem].pdf is None]
    printer = _PdfStep(out, pdf_engine if pdf and (todo or missing_pdf) else None,
                       header="SYNTHETIC DATA / DATA SINTETIS" if data_fp.get("synthetic") else "")
    n_workers = max(0, min(int(jobs or 1), len({(j.template, j.province, j.period) for j in todo})))
    pdf_only = missing_pdf if printer.engine else []
    bar = _progress(progress, len(plan)) if todo or pdf_only else None
    if bar:
        bar.update(bar.task_ids[0], completed=len(plan) - len(todo))
    try:
        for job in pdf_only:
            printer(outcomes[job.stem])
        if todo:
            _run_pool(todo, n_workers, out, outcomes, keys, continue_on_error, kernel_name, start_timeout,
                      lambda job: printer(outcomes[job.stem]), bar, data_fp, package_fp, paths.root)
    finally:
        printer.close()
        if bar:
            bar.stop()
    entries, synthetic = _index_entries(out)
    index = write_index(out, entries, synthetic=synthetic)
    pdf_note = "" if not pdf else printer.note
    return BuildResult([outcomes[j.stem] for j in plan], out, index, pdf, pdf_note, time.perf_counter() - t0,
                       n_workers)


def _up_to_date(plan: list[ReportJob], keys: dict[str, dict], out: Path,
                force: bool) -> tuple[dict[str, ReportOutcome], list[ReportJob]]:
    """Outcomes of the reports whose stored key is current (``cached``), and the jobs left to run."""
    outcomes: dict[str, ReportOutcome] = {}
    todo: list[ReportJob] = []
    for job in plan:
        p = _paths(out, job.stem)
        old = _read_key(p["key"])
        if not force and old and old.get("key") == keys[job.stem]["key"] and p["html"].exists():
            outcomes[job.stem] = ReportOutcome(job, "cached", html=p["html"],
                                               pdf=p["pdf"] if p["pdf"].exists() else None)
        else:
            todo.append(job)
    return outcomes, todo


class _PdfStep:
    """Prints each finished report's PDF with one engine for the batch, or says why there is none."""

    def __init__(self, out: Path, engine_name: str | None, *, header: str) -> None:
        self.out, self.header, self.engine, self.note = out, header, None, ""
        if engine_name is None:
            return
        try:
            self.engine = open_pdf_engine(engine_name)
        except PdfEngineUnavailable as exc:
            self.note = f"skipped: {exc}"
            warnings.warn(f"PDF skipped: {exc}", RuntimeWarning, stacklevel=3)

    def __call__(self, outcome: ReportOutcome) -> None:
        p = _paths(self.out, outcome.job.stem)
        if self.engine is None:
            if outcome.status == "built":
                _remove(p["pdf"])  # an older PDF would not match the new HTML
            return
        if outcome.status not in ("built", "cached"):
            return
        try:
            outcome.pdf = self.engine.print_pdf(p["html"], p["pdf"], header=self.header, footer=outcome.job.title)
        except Exception as exc:  # noqa: BLE001 - the HTML stands; the summary says what failed
            outcome.pdf_error = f"{type(exc).__name__}: {exc}"
            _remove(p["pdf"])

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
