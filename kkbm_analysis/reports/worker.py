"""The Dask worker side of the report batch: one warm kernel per worker, one report per task.

:class:`WarmKernelPlugin` is a :class:`distributed.WorkerPlugin`. Registered by
:func:`~kkbm_analysis.reports.build_reports` for one batch, it starts the pinned
``kkbm-analysis`` kernel (:class:`~kkbm_analysis.reports.kernel.WarmKernel`) on every worker
as the worker joins, keeps it warm for every report that worker renders, and shuts it down
cleanly when the batch unregisters the plugin or the worker closes. The kernel keeps the
shared, read-only inputs (processed data, analysis products) it has loaded, so a worker
reads them once, not once per report.

:func:`render_report` is the task: one report, rendered on the worker's kernel through
papermill (engine ``kkbm-warm``), exported to self-contained HTML and printed to PDF (one
PDF engine per worker), every file written atomically. It never raises for a report's own
failure: it writes ``<name>.failed.log`` (and the executed notebook ``<name>.failed.ipynb``),
removes the report's old outputs and returns the failing cell and exception, which the
batch reports.

Everything that touches the kernel runs on one thread of the plugin (the kernel's
messaging is bound to the thread that started it); the Dask task only waits for it.

Memory
    The worker's Dask ``memory_limit`` is applied to the worker **and its kernel** together
    (Dask itself watches only the worker process). A watchdog polls both: above 95 % of the
    limit it kills the kernel, and the report fails with ``MemoryLimitExceeded`` (the
    kernel starts again for the next report); after a report that left them above 80 %,
    the kernel is restarted, which drops its caches.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
import time
import traceback
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin

from . import kernel as kn
from .planning import ReportJob, _paths, _remove

__all__ = ["BatchSettings", "WarmKernelPlugin", "render_report", "MEMORY_KILL", "MEMORY_RESTART"]

log = logging.getLogger(__name__)

#: Share of the worker's memory limit (worker + kernel) at which the kernel is killed mid-report.
MEMORY_KILL = 0.95
#: Share at which the kernel is restarted (caches dropped) after a report.
MEMORY_RESTART = 0.80
#: Seconds between two looks of the memory watchdog.
WATCH_INTERVAL = 0.5
#: Seconds the watchdog keeps its list of the kernel's processes before looking them up again.
CHILDREN_LOOKUP = 10.0


@dataclass(frozen=True)
class BatchSettings:
    """What every task of one batch shares (sent to the workers once, with the plugin)."""

    plugin: str                    # the plugin's name (unique per batch)
    kernel_name: str
    root: str                      # project root: the kernel's working directory and KKBM_ROOT
    out_dir: str
    start_timeout: float
    footer: str                    # HTML footer, ``{template}`` filled per report
    pdf_engine: str | None = None  # None: no PDF (an older PDF of a rebuilt report is removed)
    pdf_header: str = ""           # e.g. the synthetic-data line on every page
    stop_event: str | None = None  # name of the distributed.Event set at the first failure (stop on error)


class WarmKernelPlugin(WorkerPlugin):
    """One warm kernel (and one PDF engine) per Dask worker, for one batch.

    Parameters
    ----------
    settings : BatchSettings
    eager : bool
        Start the kernel as soon as the worker has the plugin (default), overlapping its
        start with the batch's start; otherwise at the first notebook (a batch that only
        prints missing PDFs needs none).
    """

    def __init__(self, settings: BatchSettings, *, eager: bool = True) -> None:
        self.name = settings.plugin
        self.settings = settings
        self.eager = eager

    # ------------------------------------------------------------------ worker life
    def setup(self, worker: Any) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kkbm-kernel")
        self._session: kn.WarmKernel | None = None
        self._start_error: str | None = None
        self._pdf: Any = None
        self._pdf_note: str | None = None
        self._memory_killed: str | None = None
        self._watched: tuple[int | None, float, list] | None = None  # (kernel pid, when, processes watched)
        self._busy = False
        self._address = str(worker.address)
        self._limit = getattr(getattr(worker, "memory_manager", None), "memory_limit", None) or None
        self._log_file = Path(worker.local_directory) / "kkbm-kernel.log"
        self._stopping = threading.Event()
        if self._limit:
            threading.Thread(target=self._watch_memory, name="kkbm-memory-watchdog", daemon=True).start()
        if self.eager:
            self._thread.submit(self._kernel_or_none)
            threading.Thread(target=_import_ahead, args=(self.settings.pdf_engine,), name="kkbm-imports",
                             daemon=True).start()

    async def teardown(self, worker: Any) -> None:
        self._stopping.set()
        if self._busy:  # the batch was interrupted: stop the report's kernel rather than wait for the report
            self._kill_kernel()
        await asyncio.wrap_future(self._thread.submit(self._close))
        self._thread.shutdown(wait=False)

    def _close(self) -> None:
        if self._session is not None:
            self._session.shutdown()
            self._session = None
        if self._pdf is not None:
            self._pdf.close()
            self._pdf = None

    # ------------------------------------------------------------------ the kernel (its own thread)
    def _kernel(self) -> kn.WarmKernel:
        """The started kernel; raises RuntimeError (with the kernel's log) when it cannot start."""
        if self._start_error is not None:
            raise RuntimeError(self._start_error)
        if self._session is None:
            session = kn.WarmKernel(self.settings.kernel_name, cwd=self.settings.root,
                                    start_timeout=self.settings.start_timeout, log_file=self._log_file,
                                    env={**os.environ, "KKBM_ROOT": self.settings.root})
            try:
                session.start()
            except Exception as exc:  # noqa: BLE001 - every report of this worker says why
                session.shutdown()
                self._start_error = (f"the kernel {self.settings.kernel_name!r} could not start on this worker: "
                                     f"{type(exc).__name__}: {exc}{_tail(self._log_file)}")
                raise RuntimeError(self._start_error) from None
            kn.register_engine()
            self._session = session
        return self._session

    def _kernel_or_none(self) -> None:
        try:
            self._kernel()
        except RuntimeError:
            pass  # kept in _start_error; the first report says it

    def _pdf_engine(self) -> Any:
        """This worker's PDF engine, opened at the first PDF (None, with a note, when it cannot run here)."""
        if self._pdf is None and self._pdf_note is None:
            from .pdf import PdfEngineUnavailable, open_pdf_engine
            try:
                self._pdf = open_pdf_engine(self.settings.pdf_engine)
            except PdfEngineUnavailable as exc:
                self._pdf_note = f"skipped: {exc}"
        return self._pdf

    def render(self, job: ReportJob, kind: str) -> dict:
        """Render ``job`` on the kernel thread (``kind``: ``"report"``, or ``"pdf"`` for the PDF only)."""
        result = self._thread.submit(self._render, job, kind).result()
        result["worker"] = self._address
        return result

    def _render(self, job: ReportJob, kind: str) -> dict:
        out = _paths(Path(self.settings.out_dir), job.stem)
        t0 = time.perf_counter()
        result: dict[str, Any] = {"stem": job.stem, "status": "built" if kind == "report" else "cached"}
        if kind == "report":
            try:
                self._busy = True
                result["kernel_pid"] = self._execute(job, out)
            except Exception as exc:  # noqa: BLE001 - every failure becomes a summary line and a log
                err = self._error(exc)
                _remove(out["html"], out["pdf"], out["key"])
                _write_failure(job, err, out, self._session.last_nb if self._session else None)
                return {**result, "status": "failed", "seconds": time.perf_counter() - t0, "error": err}
            finally:
                self._busy = False
                self._after_report()
        result.update(self._print(job, out, rebuilt=kind == "report"))
        result["seconds"] = time.perf_counter() - t0
        return result

    def _execute(self, job: ReportJob, out: dict[str, Path]) -> int | None:
        """Run the notebook, write its HTML; the kernel's process id."""
        import papermill as pm

        from .export import notebook_to_html, write_html
        session = self._kernel()
        session.last_nb = None
        self._memory_killed = None
        nb = pm.execute_notebook(str(job.notebook), None, parameters=job.parameters, engine_name=kn.ENGINE_NAME,
                                 kernel_name=session.name, progress_bar=False, log_output=False,
                                 start_timeout=self.settings.start_timeout, execution_timeout=None,
                                 cwd=self.settings.root, session=session)
        footer = self.settings.footer.format(template=job.notebook.name)
        write_html(notebook_to_html(nb, title=job.title, lang=job.lang, footer=footer), out["html"])
        _remove(out["log"], out["nb"])
        return session.pid

    def _print(self, job: ReportJob, out: dict[str, Path], *, rebuilt: bool) -> dict:
        """The PDF of a built page: ``pdf`` (bool), ``pdf_error`` or ``pdf_note`` (engine unavailable)."""
        if self.settings.pdf_engine is None:
            if rebuilt:
                _remove(out["pdf"])  # an older PDF would not match the new HTML
            return {"pdf": False}
        engine = self._pdf_engine()
        if engine is None:
            if rebuilt:
                _remove(out["pdf"])
            return {"pdf": False, "pdf_note": self._pdf_note}
        try:
            engine.print_pdf(out["html"], out["pdf"], header=self.settings.pdf_header, footer=job.title)
            return {"pdf": True}
        except Exception as exc:  # noqa: BLE001 - the HTML stands; the summary says what failed
            _remove(out["pdf"])
            return {"pdf": False, "pdf_error": f"{type(exc).__name__}: {exc}"}

    def _error(self, exc: Exception) -> dict:
        from papermill.exceptions import PapermillExecutionError
        if isinstance(exc, PapermillExecutionError):
            return {"ename": exc.ename, "evalue": exc.evalue, "cell_index": exc.cell_index, "source": exc.source,
                    "traceback": _strip_ansi("\n".join(exc.traceback))}
        cell = _running_cell(self._session.last_nb if self._session else None)
        if self._memory_killed:
            return {"ename": "MemoryLimitExceeded", "evalue": self._memory_killed, "cell_index": cell,
                    "source": "", "traceback": ""}
        return {"ename": type(exc).__name__, "evalue": str(exc), "cell_index": cell, "source": "",
                "traceback": traceback.format_exc()}

    def _after_report(self) -> None:
        """Restart the kernel (dropping its caches) when worker and kernel hold most of the memory limit."""
        used = self._memory_used()
        if self._session is not None and self._limit and used > MEMORY_RESTART * self._limit:
            log.info("worker and kernel use %.2f GiB of %.2f GiB: restarting the kernel", used / 2**30,
                     self._limit / 2**30)
            self._session.restart()

    # ------------------------------------------------------------------ memory (watchdog thread)
    def _kernel_processes(self) -> list:
        import psutil
        pid = self._session.pid if self._session is not None else None
        if not pid:
            return []
        try:
            proc = psutil.Process(pid)
            return [proc, *proc.children(recursive=True)]
        except psutil.Error:
            return []

    def _memory_used(self) -> int:
        """Resident memory of this worker process and its kernel (with the kernel's children).

        The processes are looked up again every :data:`CHILDREN_LOOKUP` seconds or when the kernel
        changes, not at every look: finding a process's children reads every process of the machine
        (a few ms each time, twice a second for the whole batch), and reports start none.
        """
        import psutil
        pid = self._session.pid if self._session is not None else None
        now = time.monotonic()
        if self._watched is None or self._watched[0] != pid or now - self._watched[1] > CHILDREN_LOOKUP:
            self._watched = (pid, now, [psutil.Process(), *self._kernel_processes()])
        total = 0
        for proc in self._watched[2]:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _watch_memory(self) -> None:
        while not self._stopping.wait(WATCH_INTERVAL):
            used = self._memory_used()
            if used <= MEMORY_KILL * self._limit:
                continue
            if not self._kernel_processes():
                continue
            self._memory_killed = (f"worker and kernel used {used / 2**30:.2f} GiB, over {MEMORY_KILL:.0%} of this "
                                   f"worker's memory limit of {self._limit / 2**30:.2f} GiB; the kernel was stopped "
                                   "(raise --memory-limit or lower --jobs)")
            log.warning(self._memory_killed)
            self._kill_kernel()

    def _kill_kernel(self) -> None:
        import psutil
        for proc in self._kernel_processes():
            try:
                proc.kill()
            except psutil.Error:
                pass


def render_report(job: ReportJob, settings: BatchSettings, kind: str = "report") -> dict:
    """The Dask task: build one report on this worker's warm kernel (see the module docstring).

    Returns
    -------
    dict
        ``stem``, ``status`` (``built``, ``cached`` for a PDF-only task, ``failed`` or ``not run``),
        ``seconds``, ``error`` (``ename``, ``evalue``, ``cell_index``, ``source``, ``traceback``),
        ``pdf``, ``pdf_error``, ``pdf_note``, ``worker`` (address), ``kernel_pid``.
    """
    from distributed import Event, get_worker
    worker = get_worker()
    plugin = worker.plugins.get(settings.plugin)
    if plugin is None:  # a worker that joined while the batch registered its plugin: add it here
        plugin = WarmKernelPlugin(settings)
        asyncio.run_coroutine_threadsafe(worker.plugin_add(plugin=plugin, name=settings.plugin),
                                         worker.loop.asyncio_loop).result()
    stop = Event(settings.stop_event) if settings.stop_event else None
    if stop is not None and stop.is_set():
        return {"stem": job.stem, "status": "not run", "seconds": 0.0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = plugin.render(job, kind)
    if stop is not None and result["status"] == "failed":
        stop.set()  # before returning, so that no later report starts on any worker
    return result


#: What a report needs in the worker once its kernel has run it (papermill, the HTML exporter).
IMPORT_AHEAD = ("papermill", "nbconvert", "nbconvert.preprocessors")


def _import_ahead(pdf_engine: str | None) -> None:
    """Import what the worker's first report will need, while its kernel starts.

    The kernel's start (a process importing pandas, matplotlib and the package) keeps the worker
    waiting for seconds on one core; these imports (2-3 CPU-s) would otherwise follow it, one after
    the other. A module that cannot be imported is left for the report itself to say why.
    """
    import importlib
    for name in (*IMPORT_AHEAD, *(("weasyprint",) if pdf_engine == "weasyprint" else ())):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the report's own import of it says why
            return


# --------------------------------------------------------------------------- failures
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def _tail(log_file: Path, lines: int = 15) -> str:
    try:
        text = log_file.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return ""
    return ("\nkernel log:\n" + "\n".join(text)) if text else ""


def _running_cell(nb: Any) -> int | None:
    if nb is None:
        return None
    for i, cell in enumerate(nb.cells):
        if cell.get("metadata", {}).get("papermill", {}).get("status") == "running":
            return i
    return None


def _write_failure(job: ReportJob, err: dict, out: dict[str, Path], nb: Any) -> None:
    """``<name>.failed.log`` (cell, exception, traceback) and the executed notebook ``<name>.failed.ipynb``."""
    from ..io import atomic_path, write_text
    text = (f"REPORT FAILED: {job.stem}\ntemplate: {job.notebook}\nparameters: {json.dumps(job.parameters)}\n"
            f"cell index: {err.get('cell_index')}\nexception: {err['ename']}: {err['evalue']}\n\n"
            f"cell source:\n{err.get('source', '')}\n\ntraceback:\n{err.get('traceback', '')}\n")
    write_text(text, out["log"])
    if nb is not None:
        import nbformat
        try:
            with atomic_path(out["nb"]) as tmp, open(tmp, "w", encoding="utf-8") as f:
                nbformat.write(nb, f)
        except Exception:  # noqa: BLE001 - the log is enough
            pass
