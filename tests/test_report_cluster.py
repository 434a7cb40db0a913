"""The report batch on dask.distributed: a local cluster of 2 workers, a scheduler and workers started as
separate programs on 127.0.0.1, warm kernels per worker, workers that die mid-batch, memory limits.

Most tests render a tiny template (a parameters cell and one code cell) so that they time the cluster, not the
analyses; one builds real reports through ``kkbm reports --scheduler``. Nothing goes beyond the loopback.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from kkbm_analysis.reports import ParameterError, build_reports
from kkbm_analysis.cluster import RESERVED, worker_memory_limit

pytestmark = pytest.mark.usefixtures("project")

TINY = "tiny_province.ipynb"


def _tiny_template(folder: Path, code: str) -> Path:
    """A province template with the batch's parameters and one code cell."""
    import nbformat   # here: nbformat's import builds jsonschema's URI parser (about 1.5 CPU-s)
    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('province = "36"\nperiod = "2018"\nlang = "en"\ndata_dir = ""\n'
                                       "show_models = True\nn_boot = 50")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(textwrap.dedent(code))]
    nb.metadata["kernelspec"] = {"name": "kkbm-analysis", "display_name": "Python (kkbm-analysis)",
                                 "language": "python"}
    nbformat.write(nb, folder / TINY)
    return folder


PID_CELL = """
import os, time
time.sleep(1.5)   # long enough for both workers to take reports
print("kernel pid", os.getpid())
"""


def _kill_cell(markers: Path, kill: dict[str, bool]) -> str:
    """Kills the worker process (the kernel's parent) when rendering a province of ``kill``: the first time
    (False) or every time (True); each kill's kernel pid is appended to ``markers/killed-<province>``."""
    return f"""
import os, signal, time, pathlib
marker = pathlib.Path({str(markers)!r}) / ("killed-" + province)
always = {kill!r}.get(province)
if always is not None and (always or not marker.exists()):
    with open(marker, "a") as f:
        f.write(f"{{os.getpid()}}\\n")
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(120)
print("kernel pid", os.getpid())
"""


def _pids(html: Path) -> list[int]:
    return [int(p) for p in re.findall(r"kernel pid (\d+)", html.read_text(encoding="utf-8"))]


def _gone(pids, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids):
            return True
        time.sleep(0.5)
    return False


def _connection_files(runtime: Path, tmp: Path) -> set[str]:
    """Kernel connection files: named ones in a Jupyter runtime folder, and the temporary ones that jupyter_client
    makes (``tempfile.mkstemp(".json")``) for a kernel started without a name, as nbclient starts them."""
    return {p.name for p in [*runtime.glob("kernel-*.json"), *tmp.glob("tmp*.json")]}


@pytest.fixture(scope="module")
def provinces(demo_project) -> list[str]:
    import pandas as pd
    return sorted(pd.read_parquet(demo_project.processed / "communities.parquet")["province_code"].astype(str).unique())


# =========================================================================== quick checks
def test_memory_limit_is_shared_by_the_workers_after_the_reserve():
    from dask.utils import parse_bytes
    assert worker_memory_limit("4GiB", 2) == (4 * 2**30 - parse_bytes(RESERVED)) // 2
    assert worker_memory_limit(None, 2) is None
    with pytest.raises(ValueError, match="per worker"):
        worker_memory_limit("1.2GiB", 2)


def test_an_unusable_memory_limit_is_refused_before_anything_runs(project):
    with pytest.raises(ParameterError, match="memory_limit"):
        build_reports(project.processed, project.reports / "refused", provinces=["36"], periods=("2018",), langs=("en",), jobs=2,
                      national=False, memory_limit="lots", progress=False)
    assert not (project.reports / "refused" / "index.html").exists()


@pytest.mark.slow
def test_an_unreachable_scheduler_is_a_usage_error(project):
    import socket
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "kkbm_analysis.cli", "reports", str(project.processed), "--out",
           str(project.reports / "unreachable"), "--province", "36", "--lang", "en", "--no-pdf", "--no-progress",
           "--scheduler", f"tcp://127.0.0.1:{port}"]
    env = {**os.environ, "KKBM_ROOT": str(project.root), "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2, done.stderr
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


# =========================================================================== the local cluster
@pytest.mark.slow
def test_the_local_cluster_runs_without_the_dashboards_profiler_and_fast_monitors():
    """Its workers neither sample their own stacks every 10 ms nor tick every 20 ms: those serve a dashboard the
    local cluster does not have, and cost an idle 2-worker cluster about 8 % of a core. Their nannies fork them (a
    spawned worker imports everything again: slower to start and to restart after a death)."""
    import dask

    from kkbm_analysis.cluster import batch_client

    def settings():
        get = dask.config.get
        return (get("distributed.worker.profile.enabled"), get("distributed.admin.tick.interval"),
                get("distributed.admin.system-monitor.interval"), get("distributed.worker.memory.monitor-interval"),
                get("distributed.worker.multiprocessing-method"))
    with batch_client(n_workers=1) as (client, _):
        seen = list(client.run(settings).values())
        scheduler = client.run_on_scheduler(lambda dask_scheduler: (dask_scheduler.WORKER_SATURATION,
                                                                    dask_scheduler.allowed_failures))
        http = client.run_on_scheduler(lambda dask_scheduler: (dask_scheduler.http_server.address,
                                                               dask_scheduler.http_server.port))
        assert len(client.nthreads()) == 1
    assert seen == [(False, "1s", "2s", "1s", "fork")] and scheduler == (1.0, 1)
    assert http[0] == "127.0.0.1" and http[1] != 8787  # a researcher's own dashboard may hold 8787
    assert dask.config.get("distributed.scheduler.worker-saturation") != 1.0  # the caller's own settings untouched


SCRIPT = """
import json, sys
from kkbm_analysis.reports import build_reports
result = build_reports({processed!r}, {out!r}, provinces={provinces!r}, periods=("2018",), langs=("en",), jobs=2, national=False,
                       pdf=False, progress=False, templates_dir={tdir!r}, templates={{"province": {tiny!r}}})
print(json.dumps([[r.job.stem, r.status, r.worker, r.kernel_pid] for r in result.reports]))
print(result.summary(), file=sys.stderr)
"""


@pytest.mark.slow
def test_two_local_workers_from_an_unguarded_script_each_keep_one_warm_kernel(project, provinces, tmp_path):
    """A script calling build_reports at its top level (no __main__ guard) runs a batch on 2 local worker
    processes; each keeps one kernel for all its reports, and no kernel outlives the batch."""
    tdir = _tiny_template(tmp_path / "templates", PID_CELL)
    out = project.reports / "two-workers"
    script = tmp_path / "batch.py"
    script.write_text(SCRIPT.format(processed=str(project.processed), out=str(out), provinces=provinces[:4],
                                    tdir=str(tdir), tiny=TINY))
    # the batch's own runtime and temporary folders: kernels of other tests (or test runs) stay out of them
    runtime, tmp = tmp_path / "jupyter-runtime", tmp_path / "tmp"
    tmp.mkdir()
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "KKBM_ROOT": str(project.root), "JUPYTER_RUNTIME_DIR": str(runtime),
                               "TMPDIR": str(tmp)}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(done.stdout.strip().splitlines()[-1])
    assert [status for _, status, _, _ in rows] == ["built"] * 4, done.stderr[-3000:]
    workers = {worker for _, _, worker, _ in rows}
    kernels = {pid for _, _, _, pid in rows}
    assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
    assert len(kernels) == 2                     # one warm kernel per worker, reused: not one per report
    for stem, _, _, pid in rows:                 # the pid printed inside the notebook is the worker's kernel
        assert _pids(out / f"{stem}.html") == [pid]
    assert _gone(kernels), "a kernel outlived the batch"
    assert _connection_files(runtime, tmp) == set()   # shut down cleanly: no connection file left behind
    assert "2 workers" in done.stderr


@pytest.mark.slow
def test_a_worker_killed_mid_batch_is_retried_once_and_the_rest_go_on(project, provinces, tmp_path):
    """A report whose worker dies is run again on another worker (once); a report that kills every worker it
    runs on fails with KilledWorker, and the other reports are built."""
    retried, doomed = provinces[0], provinces[1]
    markers = tmp_path / "markers"
    markers.mkdir()
    tdir = _tiny_template(tmp_path / "templates", _kill_cell(markers, {retried: False, doomed: True}))
    out = project.reports / "killed"
    result = build_reports(project.processed, out, provinces=provinces[:4], periods=("2018",), langs=("en",), jobs=2, national=False,
                           pdf=False, progress=False, templates_dir=tdir, templates={"province": TINY})
    status = {r.job.province: r.status for r in result.reports}
    assert status == {retried: "built", doomed: "failed", provinces[2]: "built", provinces[3]: "built"}, \
        result.summary()
    killed = result.failed[0]
    assert killed.error.ename == "KilledWorker" and "2 attempts" in killed.error.evalue
    assert killed.job.stem in result.summary() and "KilledWorker" in result.summary()
    assert (out / f"{killed.job.stem}.failed.log").exists() and not (out / f"{killed.job.stem}.html").exists()
    assert len((markers / f"killed-{retried}").read_text().split()) == 1      # killed once, then built
    doomed_kernels = [int(p) for p in (markers / f"killed-{doomed}").read_text().split()]
    assert len(doomed_kernels) == 2                                            # tried twice, on two workers
    assert _gone(doomed_kernels), "the kernel of a killed worker kept running"


@pytest.mark.slow
def test_a_kernel_over_the_memory_limit_fails_its_report_only(project, provinces, tmp_path):
    hog = provinces[0]
    cell = f"""
    import time
    if province == {hog!r}:
        ballast = [b"\\1" * (64 << 20) for _ in range(40)]   # 2.5 GiB, written, so resident
        time.sleep(30)
    print("kernel pid", __import__("os").getpid())
    """
    tdir = _tiny_template(tmp_path / "templates", cell)
    result = build_reports(project.processed, project.reports / "memory", provinces=provinces[:2], periods=("2018",), langs=("en",),
                           jobs=1, national=False, pdf=False, progress=False, memory_limit="2.5GiB",
                           templates_dir=tdir, templates={"province": TINY})
    status = {r.job.province: r.status for r in result.reports}
    assert status == {hog: "failed", provinces[1]: "built"}, result.summary()
    assert result.failed[0].error.ename == "MemoryLimitExceeded"
    assert "memory limit of 1.50 GiB" in result.failed[0].error.evalue


# =========================================================================== separate processes on 127.0.0.1
@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """``dask scheduler`` and ``dask worker`` (2 worker processes) as separate programs on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("dask-cluster")
    scheduler_file = folder / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",  # the settings of the local cluster
           "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0",
           "KKBM_CHROMIUM": str(folder / "no-such-chromium")}  # workers without the optional PDF engine
    logs = open(folder / "cluster.log", "w")  # noqa: SIM115 - closed below
    scheduler = subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                                 env=env, stdout=logs, stderr=subprocess.STDOUT, cwd=folder)
    workers = None
    try:
        deadline = time.monotonic() + 120
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        workers = subprocess.Popen([sys.executable, "-m", "dask", "worker", address, "--nworkers", "2",
                                    "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard",
                                    "--memory-limit", "1.5GiB"],
                                   env=env, stdout=logs, stderr=subprocess.STDOUT, cwd=folder)
        from distributed import Client
        with Client(address, set_as_default=False, timeout=60) as client:
            client.wait_for_workers(2, timeout=300)
        assert address.startswith("tcp://127.0.0.1:")
        yield address
    finally:
        for proc in (workers, scheduler):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        logs.close()


@pytest.mark.slow
def test_kkbm_reports_on_a_separate_scheduler_and_workers(project, provinces, dask_cluster):
    out = project.reports / "external"
    cmd = [sys.executable, "-m", "kkbm_analysis.cli", "reports", str(project.processed), "--out", str(out),
           "--province", provinces[0], "--period", "2018", "--lang", "en", "--no-progress", "--scheduler", dask_cluster]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "KKBM_ROOT": str(project.root)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "2 built" in done.stdout and "2 workers" in done.stdout
    for stem in ("brief-national-2018-en", f"province-{provinces[0]}-"):
        html = next(out.glob(f"{stem}*.html"))
        assert html.stat().st_size > 50_000 and "Traceback" not in html.read_text(encoding="utf-8")
        assert html.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    # nothing changed: nothing is rebuilt, and the cluster is not even contacted
    again = subprocess.run(cmd[:-2] + ["--scheduler", "tcp://127.0.0.1:9"], capture_output=True, text=True,
                           timeout=300, env={**os.environ, "KKBM_ROOT": str(project.root)})
    assert again.returncode == 0 and "0 built, 2 up to date" in again.stdout, again.stderr[-2000:]
    # --no-national: the province's report only
    alone = subprocess.run(cmd[:-2] + ["--no-national", "--scheduler", "tcp://127.0.0.1:9"], capture_output=True,
                           text=True, timeout=300, env={**os.environ, "KKBM_ROOT": str(project.root)})
    assert alone.returncode == 0 and "0 built, 1 up to date" in alone.stdout, alone.stderr[-2000:]


@pytest.mark.slow
def test_a_worker_of_a_separate_cluster_killed_mid_batch(project, provinces, dask_cluster, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    tdir = _tiny_template(tmp_path / "templates", _kill_cell(markers, {provinces[1]: False}))
    result = build_reports(project.processed, project.reports / "external-killed", provinces=provinces[:3],
                           periods=("2018",), langs=("en",), scheduler=dask_cluster, national=False, pdf=False, progress=False,
                           templates_dir=tdir, templates={"province": TINY})
    assert result.ok and len(result.built) == 3, result.summary()
    assert (markers / f"killed-{provinces[1]}").exists()                      # it was killed, then retried


@pytest.mark.slow
def test_a_pdf_engine_the_workers_cannot_run_leaves_the_html_and_says_why(project, provinces, dask_cluster, tmp_path):
    """The workers open the PDF engine themselves: one that cannot run there skips the PDFs, and the summary, the
    index page and a warning say why; the reports are built."""
    tdir = _tiny_template(tmp_path / "templates", "print('kernel pid', __import__('os').getpid())")
    out = project.reports / "no-pdf-engine"
    with pytest.warns(RuntimeWarning, match="PDF skipped: no Chromium found"):
        result = build_reports(project.processed, out, provinces=provinces[:2], periods=("2018",), langs=("en",),
                               scheduler=dask_cluster, national=False, pdf_engine="chromium", progress=False,
                               templates_dir=tdir, templates={"province": TINY})
    assert result.ok and len(result.built) == 2, result.summary()
    assert all(r.html.exists() and r.pdf is None for r in result.reports)
    assert not list(out.glob("*.pdf"))
    assert "PDF: skipped: no Chromium found" in result.summary()
    assert "no Chromium found" in (out / "index-en.html").read_text(encoding="utf-8")


def test_a_kernel_that_loses_the_port_race_is_started_again(monkeypatch):
    """jupyter_client picks ports and releases them for the kernel; two kernels starting at once can reach for
    the same one, and one dies before it answers. The warm kernel starts it again; other failures stay failures."""
    from kkbm_analysis.reports import kernel as kn

    starts, stops = [], []
    outcomes = iter([RuntimeError("Kernel died before replying to kernel_info"), None])

    def start_once(self):
        starts.append(True)
        outcome = next(outcomes)
        if outcome is not None:
            raise outcome
    monkeypatch.setattr(kn.WarmKernel, "_start_once", start_once)
    monkeypatch.setattr(kn.WarmKernel, "shutdown", lambda self: stops.append(True))
    kn.WarmKernel().start()
    assert len(starts) == 2 and len(stops) == 1
    outcomes = iter([RuntimeError("kernel set-up code failed: ImportError")])
    with pytest.raises(RuntimeError, match="set-up code failed"):
        kn.WarmKernel().start()
    assert len(starts) == 3                         # not retried
    outcomes = iter([RuntimeError("Kernel died before replying to kernel_info")] * kn.START_ATTEMPTS)
    with pytest.raises(RuntimeError, match="died before replying"):
        kn.WarmKernel().start()
    assert len(starts) == 3 + kn.START_ATTEMPTS
