"""Batch regeneration of every report: :func:`build_reports`.

::

    from kkbm_analysis.reports import build_reports
    result = build_reports("data/processed/demo")      # all provinces x every year and "all" x ("id", "en")
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
   ``<out_dir>/.cache/<name>.json`` beside the outputs. ``force=True`` rebuilds all. When
   nothing is left to do, no cluster is started and Dask is not even imported.
3. Runs the rest on ``dask.distributed`` (:mod:`kkbm_analysis.cluster`): a local cluster of ``jobs``
   worker processes by default, or the cluster at ``scheduler``. One task is one report
   (:func:`.worker.render_report`: notebook -> HTML -> PDF), run on the worker's warm kernel
   (:class:`.worker.WarmKernelPlugin`: the pinned ``kkbm-analysis`` kernel, started once per
   worker and reused through papermill's ``kkbm-warm`` engine, with no execution time-out).
   Tasks are queued in plan order (national briefs first); results arrive as they finish
   (``distributed.as_completed``), with a progress bar.
4. Writes the index pages (:mod:`.index`: ``index.html`` in Indonesian, ``index-en.html`` in
   English) linking every report in the output folder, with headline figures, the data
   date and a note of whatever failed or was skipped (rendered only when one of these, the
   data or the package changed: a no-change re-run reads no product), and returns a
   :class:`BuildResult` whose :meth:`~BuildResult.summary` lists each failure with its
   cell index, exception name and message (from papermill's ``PapermillExecutionError``).

Failures never leave a complete-looking file: outputs are written atomically, and a failed
report's old HTML/PDF/key are removed and replaced by ``<name>.failed.log`` (and the executed
notebook ``<name>.failed.ipynb`` showing the failing cell). A report's key is written last,
by this process, once its HTML (and PDF) are in place. A report whose worker dies is run
again once on another worker; if that worker dies too it fails with ``KilledWorker``.
"""
from __future__ import annotations

import os
import time
import uuid
import warnings
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..config import paths as project_paths
from ..i18n import region_name
from . import kernel as kn
from ..cluster import DEFAULT_MEMORY_LIMIT
from .outcomes import BuildResult, ReportError, ReportOutcome
from .params import ParameterError, check_path, data_summary
from .pdf import DEFAULT_PDF_ENGINE, PDF_ENGINES
from .planning import CACHE_DIR, TEMPLATE_FILES, ReportJob, _paths, _read_key, _remove, output_stem, plan_reports

__all__ = ["build_reports", "plan_reports", "BuildResult", "ReportJob", "ReportOutcome", "ReportError",
           "TEMPLATE_FILES", "output_stem"]

# =========================================================================== keys and progress
def _batch_keys(plan: list[ReportJob], out: Path) -> tuple[dict, dict, dict[str, dict]]:
    """The data and package fingerprints, and every job's current key (by stem): each input hashed once."""
    from .cache import data_fingerprint, file_sha256, package_fingerprint
    (out / CACHE_DIR).mkdir(parents=True, exist_ok=True)
    data_fp = data_fingerprint(plan[0].parameters["data_dir"], memo_file=out / CACHE_DIR / "data-hashes.json")
    package_fp = package_fingerprint()
    templates = {path: file_sha256(path) for path in {job.notebook for job in plan}}
    return data_fp, package_fp, {job.stem: _job_key(job, data_fp, package_fp, templates[job.notebook]) for job in plan}


def _job_key(job: ReportJob, data_fp: dict, package_fp: dict, template_sha256: str | None = None) -> dict:
    from .cache import build_key
    params = dict(job.parameters)
    params["data_dir"] = "<processed>"  # the data's identity is in data_fp, not in where it lies
    return build_key(job.notebook, params, data_fp, package_fp,
                     extra={"template": job.template, "kernel": kn.KERNEL_NAME}, template_sha256=template_sha256)


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
    from .index import IndexEntry
    entries, synthetic = [], False
    cache = out_dir / CACHE_DIR
    seen = set()
    for key_file in sorted(cache.glob("*.json")) if cache.is_dir() else []:
        rec = _read_key(key_file)
        stem = key_file.stem
        if not rec or "template" not in rec or stem.endswith(".failed") or not (out_dir / f"{stem}.html").exists():
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


def _not_run_entry(outcome: ReportOutcome):
    """An index row for a report of this batch that was not run (stopped after the first failure)."""
    from .index import IndexEntry
    job = outcome.job
    return IndexEntry(job.stem, job.template, job.province, region_name(job.province) if job.province else None,
                      job.period, job.lang, None, None, "not run")


def build_reports(processed_dir: str | Path, out_dir: str | Path | None = None, *,
                  provinces: Iterable[str] | None = None, periods: Sequence[str] | None = None,
                  langs: Sequence[str] = ("id", "en"), jobs: int | None = os.cpu_count(),
                  scheduler: Any = None, memory_limit: str | int | None = DEFAULT_MEMORY_LIMIT,
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
    periods : sequence of str, optional
        Years and/or ``'all'`` (default: every year of the data plus ``'all'``, the whole span).
    langs : sequence of {'id', 'en'}
    jobs : int
        Worker processes of the local cluster (default: the number of cores; never more than
        there are reports to build), each with one warm kernel. Not used with ``scheduler``.
    scheduler : str or distributed.Client, optional
        Run on an existing Dask cluster: its scheduler's address (``"tcp://127.0.0.1:8786"``)
        or a client of it. Default: a local cluster started for the batch
        (:mod:`kkbm_analysis.cluster`; a script calling this at its top level needs
        no ``if __name__ == "__main__":`` guard).
    memory_limit : str, int or None
        The local cluster's whole process tree (default ``"4GiB"``; None: no limit); a report
        whose kernel goes over its worker's share fails with ``MemoryLimitExceeded``. With
        ``scheduler``, the cluster's own worker limits apply.
    continue_on_error : bool
        Go on after a failing report (default); otherwise no report starts after the first
        failure, and those left are marked ``not run``.
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
        Invalid request (before anything runs), including an unusable ``memory_limit`` (checked when
        there is something to build).
    KernelNotFoundError
        The pinned kernel is missing and cannot be registered.
    ClusterError
        The scheduler cannot be reached or no worker joins it.
    """
    from .index import write_index

    t0 = time.perf_counter()
    if pdf and pdf_engine not in PDF_ENGINES:
        raise ParameterError(f"unknown PDF engine {pdf_engine!r}; engines: {', '.join(PDF_ENGINES)}")
    paths = project_paths(root)
    plan = plan_reports(processed_dir, provinces=provinces, periods=periods, langs=langs, national=national,
                        templates_dir=templates_dir, templates=templates, show_models=show_models, n_boot=n_boot,
                        root=paths.root)
    out = check_path(out_dir if out_dir is not None else paths.reports, "out_dir", root=paths.root)
    data_fp, package_fp, keys = _batch_keys(plan, out)
    outcomes, todo = _up_to_date(plan, keys, out, force)
    missing_pdf = [j for j in plan if pdf and j.stem in outcomes and outcomes[j.stem].pdf is None]
    # The workers open the PDF engine at their first PDF and say when it cannot run there, so a batch that builds
    # reports does not wait for the engine here (importing WeasyPrint takes a second); a batch of nothing but
    # missing PDFs is not started without a working engine.
    engine, pdf_notes = ((pdf_engine if pdf else None), set()) if todo else _pdf_engine_here(
        pdf_engine if missing_pdf else None)
    tasks = [(job, "report") for job in todo] + [(job, "pdf") for job in (missing_pdf if engine else [])]
    n_workers = 0
    if tasks:
        n_local = max(1, min(int(jobs or 1), len(tasks)))
        if scheduler is None:  # checked only when there is work: Dask is not imported for a no-change re-run
            _check_memory_limit(memory_limit, n_local)
            kn.ensure_kernel(kernel_name)
        plugin = f"kkbm-warm-kernel-{uuid.uuid4().hex[:12]}"
        settings = _settings(plugin, kernel_name, paths.root, out, start_timeout, engine, data_fp, package_fp,
                             continue_on_error)
        bar = _progress(progress, len(plan))
        try:
            if bar:
                bar.update(bar.task_ids[0], completed=len(plan) - len(todo))
            n_workers = _run_on_dask(tasks, settings, scheduler, n_local, memory_limit, bar,
                                     lambda job, kind, payload: _record(outcomes, job, kind, payload, out, keys,
                                                                        pdf_notes))
        finally:
            if bar:
                bar.stop()
    for note in sorted(pdf_notes):
        warnings.warn(f"PDF {note}", RuntimeWarning, stacklevel=2)
    entries, synthetic = _index_entries(out)
    entries += [_not_run_entry(outcomes[j.stem]) for j in plan if outcomes[j.stem].status == "not run"]
    index = write_index(out, entries, synthetic=synthetic, products=data_summary(plan[0].parameters["data_dir"]),
                        notes=sorted(pdf_notes) if pdf else (), pdf_wanted=pdf,
                        sources={"data": data_fp, "package": package_fp})
    return BuildResult([outcomes[j.stem] for j in plan], out, index, pdf, "; ".join(sorted(pdf_notes)) if pdf else "",
                       time.perf_counter() - t0, n_workers)


def _check_memory_limit(memory_limit: str | int | None, jobs: int) -> None:
    from ..cluster import worker_memory_limit
    try:
        worker_memory_limit(memory_limit, jobs)
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"memory_limit {memory_limit!r}: {exc}") from None


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


def _pdf_engine_here(name: str | None) -> tuple[str | None, set[str]]:
    """``name`` if the PDF engine can run on this machine, else None and the reason."""
    if name is None:
        return None, set()
    from .pdf import PdfEngineUnavailable, open_pdf_engine
    try:
        open_pdf_engine(name).close()
    except PdfEngineUnavailable as exc:
        return None, {f"skipped: {exc}"}
    return name, set()


def _settings(plugin: str, kernel_name: str, root: Path, out: Path, start_timeout: float, engine: str | None,
              data_fp: dict, package_fp: dict, continue_on_error: bool):
    from .worker import BatchSettings
    return BatchSettings(
        plugin=plugin, kernel_name=kernel_name, root=str(root), out_dir=str(out), start_timeout=start_timeout,
        footer=f"kkbm-analysis {package_fp['version']} · data {data_fp['data_version']} · {{template}}",
        pdf_engine=engine, pdf_header="SYNTHETIC DATA / DATA SINTETIS" if data_fp.get("synthetic") else "",
        stop_event=None if continue_on_error else f"{plugin}-stop")


def _run_on_dask(tasks: list[tuple[ReportJob, str]], settings, scheduler: Any, n_local: int,
                 memory_limit: str | int | None, bar, record) -> int:
    """Submit one task per report (plan order first), hand each result to ``record``; the number of workers."""
    from distributed import as_completed

    from ..cluster import batch_client
    from .worker import WarmKernelPlugin, render_report
    with batch_client(scheduler, n_workers=n_local, memory_limit=memory_limit) as (client, n_workers):
        client.register_plugin(WarmKernelPlugin(settings, eager=any(kind == "report" for _, kind in tasks)))
        try:
            futures = {client.submit(render_report, job, settings, kind, key=f"{kind}-{job.stem}-{settings.plugin}",
                                     priority=len(tasks) - i, pure=False): (job, kind)
                       for i, (job, kind) in enumerate(tasks)}
            for future in as_completed(futures, loop=client.loop):
                job, kind = futures.pop(future)
                record(job, kind, _payload(future, job))
                if bar:
                    bar.update(bar.task_ids[0], advance=1 if kind == "report" else 0, description=job.stem)
        finally:
            _release(client, settings)
    return n_workers


def _release(client: Any, settings) -> None:
    """Shut the batch's kernels down on every worker (the plugin's teardown) and forget its stop event."""
    from distributed import Event
    try:
        client.unregister_worker_plugin(settings.plugin)
        if settings.stop_event:
            Event(settings.stop_event, client=client).clear()
    except Exception as exc:  # noqa: BLE001 - the batch's own outcome (or error) matters more
        warnings.warn(f"could not release the report workers' kernels: {type(exc).__name__}: {exc}",
                      RuntimeWarning, stacklevel=2)


def _payload(future: Any, job: ReportJob) -> dict:
    """The task's result, or a failure saying why the task itself failed (e.g. its worker died)."""
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - every failure becomes a summary line
        name = type(exc).__name__
        if name == "KilledWorker":
            attempts = getattr(exc, "allowed_failures", 0) + 1
            text = (f"the worker process running this report died ({attempts} attempt{'s' if attempts > 1 else ''}, "
                    f"last on {getattr(exc.last_worker, 'address', '?')}): a crash, or killed for memory")
        else:
            text = str(exc) or name
        return {"stem": job.stem, "status": "failed", "seconds": 0.0,
                "error": {"ename": name, "evalue": text, "cell_index": None}}


def _record(outcomes: dict, job: ReportJob, kind: str, payload: dict, out: Path, keys: dict,
            pdf_notes: set[str]) -> None:
    """Turn a task's result into the report's outcome; a built report's key is written last."""
    from ..io import write_json, write_text
    p = _paths(out, job.stem)
    if payload.get("pdf_note"):
        pdf_notes.add(payload["pdf_note"])
    if kind == "pdf":  # a report that was up to date, now with its PDF
        outcomes[job.stem].pdf = p["pdf"] if payload.get("pdf") else None
        outcomes[job.stem].pdf_error = payload.get("pdf_error", "")
        return
    status = payload["status"]
    if status == "not run":
        outcomes[job.stem] = ReportOutcome(job, "not run")
        return
    if status == "built":
        _remove(out / CACHE_DIR / f"{job.stem}.failed.json")
        outcomes[job.stem] = ReportOutcome(job, "built", html=p["html"], pdf=p["pdf"] if payload.get("pdf") else None,
                                           seconds=payload["seconds"], pdf_error=payload.get("pdf_error", ""),
                                           worker=payload.get("worker", ""), kernel_pid=payload.get("kernel_pid"))
        write_json(keys[job.stem], p["key"])  # last: the key marks a complete report
        return
    e = payload.get("error") or {}
    err = ReportError(str(e.get("ename", "Error")), str(e.get("evalue", "")), e.get("cell_index"),
                      str(e.get("source", "")), str(e.get("traceback", "")))
    _remove(p["html"], p["pdf"], p["key"])
    if not p["log"].exists():  # the worker died before it could write one
        write_text(f"REPORT FAILED: {job.stem}\n{err.line()}\n{err.traceback}\n", p["log"])
    write_json({"template": job.template, "parameters": job.parameters, "error": err.line()},
               out / CACHE_DIR / f"{job.stem}.failed.json")
    outcomes[job.stem] = ReportOutcome(job, "failed", seconds=payload.get("seconds", 0.0), error=err, log=p["log"],
                                       worker=payload.get("worker", ""))
