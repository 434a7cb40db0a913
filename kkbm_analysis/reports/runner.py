"""Batch regeneration of every report: :func:`build_reports`.

::

    from kkbm_analysis.reports import build_reports
    result = build_reports("data/processed/demo")      # all provinces x ("2018",) x ("id", "en")
    print(result.summary()); raise SystemExit(result.exit_code)

What it does
------------
1. Validates the request at once (unknown provinces or periods list the valid ones; paths
   must lie in the project's data and output folders) and plans one job per province report
   (template ``notebooks/report_province.ipynb``) and national brief
   (``notebooks/brief_national.ipynb``) x period x language. Output names are built from the
   parameters: ``province-36-banten-2018-id.html``, ``brief-national-2018-en.pdf``.
2. Skips every job whose cache key is unchanged (template, parameters, package version and
   sources, input data: manifest ``data_version`` and the SHA-256 of every processed file;
   see :func:`kkbm_analysis.reports.cache.build_key`); the key is stored in
   ``<out_dir>/.cache/<name>.json`` beside the outputs. ``force=True`` rebuilds all.
3. Runs the rest in ``jobs`` worker processes. Each worker holds one warm kernel
   (:class:`~kkbm_analysis.reports.kernel.WarmKernel`, the pinned ``kkbm-analysis`` kernel of
   this environment) reused for all its notebooks through papermill (engine ``kkbm-warm``),
   with no execution time-out, and exports HTML in-process. The languages of one report go
   to the same worker, so they share its data and analysis caches.
4. Prints PDFs from the main process with one headless Chromium for the whole batch
   (skipped with a warning if none is installed).
5. Writes ``index.html`` linking every report in the output folder, and returns a
   :class:`BuildResult` whose :meth:`~BuildResult.summary` lists each failure with its
   cell index, exception name and message (from papermill's ``PapermillExecutionError``).

Failures never leave a complete-looking file: outputs are written atomically, and a failed
report's old HTML/PDF/key are removed and replaced by ``<name>.failed.log`` (and the executed
notebook ``<name>.failed.ipynb`` showing the failing cell).
"""
from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import queue
import re
import time
import traceback
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..config import paths as project_paths
from . import kernel as kn
from .params import ParameterError, check_path, data_summary, valid_periods, valid_provinces
from ..i18n import LANGS, region_name

__all__ = ["build_reports", "plan_reports", "BuildResult", "ReportJob", "ReportOutcome", "ReportError",
           "TEMPLATE_FILES", "output_stem"]

log = logging.getLogger(__name__)

#: Template notebook of each report kind, in ``notebooks/``.
TEMPLATE_FILES: dict[str, str] = {"province": "report_province.ipynb", "national": "brief_national.ipynb"}
CACHE_DIR = ".cache"


# =========================================================================== records
@dataclass(frozen=True)
class ReportJob:
    """One report to build."""

    template: str
    notebook: Path
    parameters: dict
    stem: str
    period: str
    lang: str
    province: str | None = None

    @property
    def title(self) -> str:
        from ..i18n import text as t
        if self.template == "province":
            return t("report.province_title", self.lang, name=region_name(self.province or "", self.lang)) + f" ({self.period})"
        return t("report.national_title", self.lang, period=self.period)


@dataclass(frozen=True)
class ReportError:
    """Why a report failed: the failing cell and the exception (from PapermillExecutionError)."""

    ename: str
    evalue: str
    cell_index: int | None = None
    source: str = ""
    traceback: str = ""

    def line(self) -> str:
        where = f"cell {self.cell_index}" if self.cell_index is not None else "outside the notebook"
        first = self.source.strip().splitlines()[0][:70] if self.source.strip() else ""
        return f"{where}{f' ({first})' if first else ''}: {self.ename}: {self.evalue}"


@dataclass
class ReportOutcome:
    """What happened to one report: ``built``, ``cached`` (up to date), ``failed`` or ``not run``."""

    job: ReportJob
    status: str
    html: Path | None = None
    pdf: Path | None = None
    seconds: float = 0.0
    error: ReportError | None = None
    log: Path | None = None
    pdf_error: str = ""


@dataclass
class BuildResult:
    """Outcome of :func:`build_reports`."""

    reports: list[ReportOutcome]
    out_dir: Path
    index: Path | None = None
    pdf_requested: bool = True
    pdf_note: str = ""
    seconds: float = 0.0
    workers: int = 0

    def _with(self, status: str) -> list[ReportOutcome]:
        return [r for r in self.reports if r.status == status]

    @property
    def built(self) -> list[ReportOutcome]:
        return self._with("built")

    @property
    def cached(self) -> list[ReportOutcome]:
        return self._with("cached")

    @property
    def failed(self) -> list[ReportOutcome]:
        return self._with("failed")

    @property
    def not_run(self) -> list[ReportOutcome]:
        return self._with("not run")

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_run

    @property
    def exit_code(self) -> int:
        """0 when every report is built or up to date, 1 otherwise."""
        return 0 if self.ok else 1

    def summary(self) -> str:
        lines = [f"reports: {len(self.built)} built, {len(self.cached)} up to date, {len(self.failed)} failed"
                 + (f", {len(self.not_run)} not run" if self.not_run else "")
                 + f" ({self.seconds:.1f} s, {self.workers} worker{'s' if self.workers != 1 else ''}) -> {self.out_dir}"]
        if self.pdf_note:
            lines.append(f"PDF: {self.pdf_note}")
        pdf_errors = [r for r in self.reports if r.pdf_error]
        for r in pdf_errors:
            lines.append(f"  PDF of {r.job.stem} failed: {r.pdf_error}")
        if self.failed:
            lines.append("failed reports:")
            for r in self.failed:
                lines.append(f"  {r.job.stem}: {r.error.line() if r.error else 'unknown error'}"
                             + (f"  [log: {r.log.name}]" if r.log else ""))
        if self.not_run:
            lines.append("not run (stopped after the first failure, continue_on_error=False): "
                         + ", ".join(r.job.stem for r in self.not_run))
        if self.index:
            lines.append(f"index: {self.index}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# =========================================================================== planning
def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def output_stem(template: str, period: str, lang: str, province: str | None = None) -> str:
    """File name (without suffix) of a report: ``province-36-banten-2018-id``, ``brief-national-2018-en``."""
    if template == "province":
        return f"province-{province}-{_slug(region_name(province or ''))}-{period}-{lang}"
    return f"brief-national-{period}-{lang}"


def _templates_dir(templates_dir: str | Path | None) -> Path:
    return Path(templates_dir) if templates_dir else project_paths().root / "notebooks"


def plan_reports(processed_dir: str | Path, *, provinces: Iterable[str] | None = None,
                 periods: Sequence[str] = ("2018",), langs: Sequence[str] = LANGS, national: bool = True,
                 templates_dir: str | Path | None = None, show_models: bool = True, n_boot: int | None = None,
                 templates: dict[str, str] | None = None) -> list[ReportJob]:
    """Validate a batch request and list its jobs (nothing runs).

    Raises
    ------
    ParameterError
        Unknown province, period or language (the message lists the valid ones), a path
        outside the project's data and output folders, or a missing template.
    """
    from .analysis import DEFAULT_N_BOOT
    folder = check_path(processed_dir, "processed_dir", must_exist=True)
    summary = data_summary(folder)
    valid_p, valid_y = valid_provinces(summary), valid_periods(summary)
    periods = [str(p) for p in periods]
    bad = [p for p in periods if p not in valid_y]
    if bad or not periods:
        raise ParameterError(f"unknown period(s) {bad or periods}; years in the data: {', '.join(valid_y) or '(none)'}")
    langs = [str(x) for x in langs]
    if not langs or any(x not in LANGS for x in langs):
        raise ParameterError(f"unknown language(s) {[x for x in langs if x not in LANGS] or langs}; "
                             f"valid: {', '.join(LANGS)}")
    if provinces is None:
        provinces = valid_p
    else:
        provinces = [p if isinstance(p, str) else _refuse_code(p) for p in provinces]
        bad = [p for p in provinces if p not in valid_p]
        if bad:
            raise ParameterError(f"unknown province(s) {bad}; provinces in the data: "
                                 + ", ".join(f"{c} ({region_name(c)})" for c in valid_p))
    tdir = _templates_dir(templates_dir)
    files = {**TEMPLATE_FILES, **(templates or {})}
    for kind in ("province", "national") if national else ("province",):
        if not (tdir / files[kind]).exists():
            raise ParameterError(f"template {files[kind]} not found in {tdir}")
    common = {"data_dir": str(folder), "show_models": bool(show_models), "n_boot": int(n_boot or DEFAULT_N_BOOT)}
    jobs = []
    for period in periods:
        if national:
            for lang in langs:
                jobs.append(ReportJob("national", tdir / files["national"],
                                      {"period": period, "lang": lang, **common},
                                      output_stem("national", period, lang), period, lang))
        for code in provinces:
            for lang in langs:
                jobs.append(ReportJob("province", tdir / files["province"],
                                      {"province": code, "period": period, "lang": lang, **common},
                                      output_stem("province", period, lang, code), period, lang, code))
    return jobs


def _refuse_code(value: Any) -> str:
    raise ParameterError(f"province codes must be strings such as '36', not {type(value).__name__} {value!r}")


# =========================================================================== outputs and cache
def _paths(out_dir: Path, stem: str) -> dict[str, Path]:
    return {"html": out_dir / f"{stem}.html", "pdf": out_dir / f"{stem}.pdf",
            "key": out_dir / CACHE_DIR / f"{stem}.json", "log": out_dir / f"{stem}.failed.log",
            "nb": out_dir / f"{stem}.failed.ipynb"}


def _job_key(job: ReportJob, data_fp: dict, package_fp: dict) -> dict:
    from .cache import build_key
    params = dict(job.parameters)
    params["data_dir"] = "<processed>"  # the data's identity is in data_fp, not in where it lies
    return build_key(job.notebook, params, data_fp, package_fp,
                     extra={"template": job.template, "kernel": kn.KERNEL_NAME})


def _read_key(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _remove(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass


# =========================================================================== worker
def _worker_main(worker_id: int, tasks: Any, results: Any, config: dict) -> None:
    """A worker process: one warm kernel, many notebooks.

    It asks for work by reporting ``idle`` and gets one task (the languages of one report) at a
    time on its own queue, so the main process decides what runs next (and can stop).
    """
    os.environ.update(config.get("env", {}))
    logging.basicConfig(level=logging.ERROR)
    for name in ("papermill", "traitlets", "nbclient", "asyncio"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    session = kn.WarmKernel(config["kernel_name"], cwd=config["cwd"], start_timeout=config["start_timeout"],
                            log_file=Path(config["out_dir"]) / CACHE_DIR / f"kernel-{worker_id}.log")
    try:
        session.start()
    except Exception as exc:  # noqa: BLE001 - reported to the main process
        results.put(("fatal", worker_id, f"{type(exc).__name__}: {exc}"))
        session.shutdown()
        return
    kn.set_session(session)
    try:
        while True:
            results.put(("idle", worker_id, None))
            task = tasks.get()
            if task is None:
                break
            for job in task:
                results.put(("started", worker_id, job.stem))
                results.put(("done", worker_id, _run_job(job, session, config)))
    finally:
        kn.set_session(None)
        session.shutdown()


def _run_job(job: ReportJob, session: kn.WarmKernel, config: dict) -> dict:
    """Execute one report through papermill on the warm kernel and export its HTML."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from .export import notebook_to_html, write_html

    out = _paths(Path(config["out_dir"]), job.stem)
    t0 = time.perf_counter()
    session.last_nb = None
    try:
        nb = pm.execute_notebook(str(job.notebook), None, parameters=job.parameters, engine_name=kn.ENGINE_NAME,
                                 kernel_name=session.name, progress_bar=False, log_output=False,
                                 start_timeout=config["start_timeout"], execution_timeout=None,
                                 cwd=config["cwd"])
        footer = config["footer"].format(template=job.notebook.name)
        write_html(notebook_to_html(nb, title=job.title, lang=job.lang, footer=footer), out["html"])
        _remove(out["log"], out["nb"])
        return {"stem": job.stem, "status": "built", "seconds": time.perf_counter() - t0}
    except Exception as exc:  # noqa: BLE001 - every failure becomes a summary line and a log
        if isinstance(exc, PapermillExecutionError):
            err = {"ename": exc.ename, "evalue": exc.evalue, "cell_index": exc.cell_index,
                   "source": exc.source, "traceback": _strip_ansi("\n".join(exc.traceback))}
        else:
            err = {"ename": type(exc).__name__, "evalue": str(exc), "cell_index": _running_cell(session.last_nb),
                   "source": "", "traceback": traceback.format_exc()}
        _remove(out["html"], out["pdf"], out["key"])
        _write_failure(job, err, out, session.last_nb)
        return {"stem": job.stem, "status": "failed", "seconds": time.perf_counter() - t0, "error": err}


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def _running_cell(nb: Any) -> int | None:
    if nb is None:
        return None
    for i, cell in enumerate(nb.cells):
        if cell.get("metadata", {}).get("papermill", {}).get("status") == "running":
            return i
    return None


def _write_failure(job: ReportJob, err: dict, out: dict[str, Path], nb: Any) -> None:
    from ..io import write_text
    text = (f"REPORT FAILED: {job.stem}\ntemplate: {job.notebook}\nparameters: {json.dumps(job.parameters)}\n"
            f"cell index: {err.get('cell_index')}\nexception: {err['ename']}: {err['evalue']}\n\n"
            f"cell source:\n{err.get('source', '')}\n\ntraceback:\n{err.get('traceback', '')}\n")
    write_text(text, out["log"])
    if nb is not None:
        import nbformat
        try:
            with open(out["nb"].with_suffix(".ipynb.tmp"), "w", encoding="utf-8") as f:
                nbformat.write(nb, f)
            os.replace(out["nb"].with_suffix(".ipynb.tmp"), out["nb"])
        except Exception:  # noqa: BLE001 - the log is enough
            pass


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
                  progress: bool = True, national: bool = True, templates_dir: str | Path | None = None,
                  templates: dict[str, str] | None = None, show_models: bool = True,
                  n_boot: int | None = None, kernel_name: str = kn.KERNEL_NAME,
                  start_timeout: float = kn.START_TIMEOUT) -> BuildResult:
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
        Also print PDFs with headless Chromium (skipped with a note if none is installed).
    progress : bool
        Show a progress bar (rich, on stderr).
    national : bool
        Include the national brief.
    templates_dir, templates : optional
        Another folder of templates, or other file names per kind (``{"province": ...}``).
    show_models, n_boot
        Template options (model section; bootstrap draws of the gap decomposition).
    kernel_name : str
        The pinned kernel (``kkbm-analysis``), registered in this environment if missing.
    start_timeout : float
        Seconds to wait for a kernel to start.

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
    from .export import ChromiumPrinter, find_chromium, write_index

    t0 = time.perf_counter()
    plan = plan_reports(processed_dir, provinces=provinces, periods=periods, langs=langs, national=national,
                        templates_dir=templates_dir, templates=templates, show_models=show_models, n_boot=n_boot)
    out = check_path(out_dir if out_dir is not None else project_paths().reports, "out_dir")
    out.mkdir(parents=True, exist_ok=True)
    (out / CACHE_DIR).mkdir(exist_ok=True)
    kn.ensure_kernel(kernel_name)
    data_fp = data_fingerprint(plan[0].parameters["data_dir"], memo_file=out / CACHE_DIR / "data-hashes.json")
    package_fp = package_fingerprint()

    chromium = find_chromium() if pdf else None
    pdf_note = "" if not pdf else ("" if chromium else "skipped: no Chromium found (apt-get install chromium)")
    if pdf and not chromium:
        warnings.warn("PDF skipped: no Chromium found (install Debian's chromium)", RuntimeWarning, stacklevel=2)

    outcomes: dict[str, ReportOutcome] = {}
    keys: dict[str, dict] = {}
    todo: list[ReportJob] = []
    pdf_only: list[ReportJob] = []
    for job in plan:
        key = _job_key(job, data_fp, package_fp)
        keys[job.stem] = key
        p = _paths(out, job.stem)
        old = _read_key(p["key"])
        if not force and old and old.get("key") == key["key"] and p["html"].exists():
            outcomes[job.stem] = ReportOutcome(job, "cached", html=p["html"],
                                               pdf=p["pdf"] if p["pdf"].exists() else None)
            if chromium and not p["pdf"].exists():
                pdf_only.append(job)
        else:
            todo.append(job)

    n_workers = max(0, min(int(jobs or 1), len({(j.template, j.province, j.period) for j in todo})))
    bar = _progress(progress, len(plan)) if todo or pdf_only else None
    if bar:
        bar.update(bar.task_ids[0], completed=len(plan) - len(todo))
    printer = None
    try:
        if chromium and (todo or pdf_only):
            try:
                printer = ChromiumPrinter(chromium)
                printer.start()
            except Exception as exc:  # noqa: BLE001 - PDF is optional
                printer = None
                pdf_note = f"skipped: Chromium could not start ({exc})"

        def finish_pdf(job: ReportJob) -> None:
            o = outcomes[job.stem]
            p = _paths(out, job.stem)
            if printer is None:
                if o.status == "built":
                    _remove(p["pdf"])  # an older PDF would not match the new HTML
                return
            try:
                header = "SYNTHETIC DATA / DATA SINTETIS" if data_fp.get("synthetic") else ""
                printer.print_pdf(p["html"], p["pdf"], header=header, footer=job.title)
                o.pdf = p["pdf"]
            except Exception as exc:  # noqa: BLE001 - the HTML stands; the summary says what failed
                o.pdf_error = f"{type(exc).__name__}: {exc}"
                _remove(p["pdf"])

        for job in pdf_only:
            finish_pdf(job)
        if todo:
            _run_pool(todo, n_workers, out, outcomes, keys, continue_on_error, kernel_name, start_timeout,
                      finish_pdf, bar, data_fp, package_fp)
    finally:
        if printer is not None:
            printer.close()
        if bar:
            bar.stop()
    entries, synthetic = _index_entries(out)
    index = write_index(out, entries, synthetic=synthetic)
    result = BuildResult([outcomes[j.stem] for j in plan], out, index, pdf, pdf_note, time.perf_counter() - t0,
                         n_workers)
    return result


def _run_pool(todo: list[ReportJob], n_workers: int, out: Path, outcomes: dict, keys: dict,
              continue_on_error: bool, kernel_name: str, start_timeout: float, finish_pdf, bar,
              data_fp: dict, package_fp: dict) -> None:
    """Run ``todo`` on ``n_workers`` warm-kernel processes; fill ``outcomes``."""
    from ..io import write_json
    groups: dict[tuple, list[ReportJob]] = {}
    for job in todo:
        groups.setdefault((job.template, job.province, job.period), []).append(job)
    # national briefs first (they need every province's numbers), then provinces in order
    tasks = sorted(groups.values(), key=lambda g: (g[0].template != "national", g[0].period, g[0].province or ""))
    by_stem = {j.stem: j for j in todo}
    config = {"kernel_name": kernel_name, "cwd": str(todo[0].notebook.parent), "start_timeout": start_timeout,
              "out_dir": str(out), "env": {"KKBM_ROOT": str(project_paths().root)},
              "footer": f"kkbm-analysis {package_fp['version']} · data {data_fp['data_version']} · {{template}}"}
    ctx = mp.get_context("spawn")
    result_q = ctx.Queue()
    task_qs = [ctx.Queue() for _ in range(n_workers)]
    procs = [ctx.Process(target=_worker_main, args=(i, task_qs[i], result_q, config), daemon=True,
                         name=f"kkbm-report-worker-{i}") for i in range(n_workers)]
    for p in procs:
        p.start()
    queued = list(tasks)
    running: dict[int, str] = {}
    fatal: list[str] = []
    pending = set(by_stem)
    stopping = False
    closed: set[int] = set()

    def dispatch(wid: int) -> None:
        if wid in closed:
            return
        if queued and not stopping:
            task_qs[wid].put(queued.pop(0))
        else:
            task_qs[wid].put(None)
            closed.add(wid)
    def finished() -> bool:
        """Nothing left to wait for: every worker dead, or stopping and every worker released."""
        alive = [i for i, p in enumerate(procs) if p.is_alive()]
        if not alive:
            return True
        return stopping and not running and all(i in closed for i in alive)

    try:
        while pending:
            try:
                kind, wid, payload = result_q.get(timeout=1.0)
            except queue.Empty:
                for i, p in enumerate(procs):
                    stem = running.get(i)
                    if not p.is_alive() and stem:
                        running.pop(i)
                        if stem in pending:
                            _record(outcomes, by_stem[stem], out, keys, {
                                "stem": stem, "status": "failed", "seconds": 0,
                                "error": {"ename": "WorkerDied", "evalue": f"worker {i} exited with code "
                                          f"{p.exitcode} while running this report", "cell_index": None}},
                                data_fp, write_json)
                            pending.discard(stem)
                            _advance(bar, stem)
                if finished():
                    break
                continue
            if kind == "fatal":
                fatal.append(payload)
            elif kind == "idle":
                dispatch(wid)
            elif kind == "started":
                running[wid] = payload
                if bar:
                    bar.update(bar.task_ids[0], description=payload)
            elif kind == "done":
                running.pop(wid, None)
                stem = payload["stem"]
                pending.discard(stem)
                job = by_stem[stem]
                _record(outcomes, job, out, keys, payload, data_fp, write_json)
                if payload["status"] == "built":
                    finish_pdf(job)
                    write_json(keys[stem], _paths(out, stem)["key"])  # last: the key marks a complete report
                _advance(bar, stem)
                if payload["status"] == "failed" and not continue_on_error:
                    stopping = True
            if stopping and finished():
                break
    finally:
        for i in range(n_workers):
            if i not in closed:
                task_qs[i].put(None)
                closed.add(i)
        for p in procs:
            p.join(timeout=60)
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join(timeout=10)
    for stem in pending:
        job = by_stem[stem]
        if stopping:
            outcomes[stem] = ReportOutcome(job, "not run")
        else:  # the workers are gone: say why
            codes = ", ".join(str(p.exitcode) for p in procs)
            reason = "; ".join(fatal) or (f"every report worker exited (exit codes {codes}); if you call "
                                          "build_reports from a script, guard it with if __name__ == '__main__'")
            outcomes[stem] = ReportOutcome(job, "failed", error=ReportError("WorkerError", reason))


def _advance(bar, stem: str) -> None:
    if bar:
        bar.update(bar.task_ids[0], advance=1, description=stem)


def _record(outcomes: dict, job: ReportJob, out: Path, keys: dict, payload: dict, data_fp: dict, write_json) -> None:
    p = _paths(out, job.stem)
    if payload["status"] == "built":
        _remove(out / CACHE_DIR / f"{job.stem}.failed.json")
        outcomes[job.stem] = ReportOutcome(job, "built", html=p["html"], seconds=payload["seconds"])
        return
    e = payload.get("error") or {}
    err = ReportError(str(e.get("ename", "Error")), str(e.get("evalue", "")), e.get("cell_index"),
                      str(e.get("source", "")), str(e.get("traceback", "")))
    _remove(p["html"], p["pdf"], p["key"])
    if not p["log"].exists():
        from ..io import write_text
        write_text(f"REPORT FAILED: {job.stem}\n{err.line()}\n{err.traceback}\n", p["log"])
    write_json({"template": job.template, "parameters": job.parameters, "error": err.line()},
               out / CACHE_DIR / f"{job.stem}.failed.json")
    outcomes[job.stem] = ReportOutcome(job, "failed", seconds=payload.get("seconds", 0.0), error=err, log=p["log"])
