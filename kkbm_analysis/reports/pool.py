"""The worker pool: processes that each hold one warm kernel and build reports through papermill."""
from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import queue
import re
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

from . import kernel as kn
from .outcomes import ReportError, ReportOutcome
from .planning import CACHE_DIR, ReportJob, _paths, _remove


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


def _run_pool(todo: list[ReportJob], n_workers: int, out: Path, outcomes: dict, keys: dict,
              continue_on_error: bool, kernel_name: str, start_timeout: float, finish_pdf, bar,
              data_fp: dict, package_fp: dict, root: Path) -> None:
    """Run ``todo`` on ``n_workers`` warm-kernel processes; fill ``outcomes``.

    The workers run in the project ``root`` (their working directory and ``KKBM_ROOT``).
    """
    from ..io import write_json
    groups: dict[tuple, list[ReportJob]] = {}
    for job in todo:
        groups.setdefault((job.template, job.province, job.period), []).append(job)
    # national briefs first (they need every province's numbers), then provinces in order
    tasks = sorted(groups.values(), key=lambda g: (g[0].template != "national", g[0].period, g[0].province or ""))
    by_stem = {j.stem: j for j in todo}
    config = {"kernel_name": kernel_name, "cwd": str(root), "start_timeout": start_timeout,
              "out_dir": str(out), "env": {"KKBM_ROOT": str(root)},
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
