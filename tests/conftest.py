"""Fixtures shared by the test modules, the test markers, and the settings of a parallel run.

``demo_project`` (session)
    One small SYNTHETIC project, built once per test run by :func:`kkbm_analysis.demo.run_demo`
    (what ``kkbm demo`` runs) at a tenth of the demo's size, default seed: the raw files
    (``data/raw/demo``), their ingest (``data/processed/demo``), the voices corpus
    (``data/raw/demo-voices``, ``data/processed/demo-voices``) and the analysis products, with
    empty ``reports/`` and ``figures/`` folders. Its ``report`` is the
    :class:`~kkbm_analysis.demo.DemoReport`; ``synth`` is what the generator returned, and
    ``reloads`` lists every read of processed tables back from disk during the run (the demo
    hands the tables it holds to the analyses: ``test_demo.py`` checks the list is empty).
    Tests may add files under ``reports/`` (each in a folder of its own) but change nothing
    else: every test, in every worker, sees the same project.
``demo_data`` (session)
    Its processed tables as a :class:`~kkbm_analysis.data.ProgramData`. Treat it as
    read-only: every test of a worker sees the same object.
``demo_voices`` (session)
    The :class:`~kkbm_analysis.demo.VoicesDemoReport` of the project's voices corpus.
``demo_again`` (session)
    The demo's raw files generated a second time with the same seed and scale, in a folder of
    their own (``again/data/raw/demo``): the reproducibility tests compare them, and what is
    made from them, with the project.
``demo_other_seed`` (session)
    The demo's raw files generated with another seed (:data:`OTHER_SEED`), same scale.
``project``
    ``demo_project`` with ``KKBM_ROOT`` pointing at it for the test (paths in report
    parameters must lie inside the project).
``kkbm``
    Runs the ``kkbm`` command in this process (``kkbm("ingest", folder, env={...})``) and
    returns its exit code, stdout and stderr (a few tests run the installed program itself,
    in a process of its own).

Markers (see README, "Tests")
    ``slow``: runs Jupyter kernels (notebooks, report batches, Dask clusters) or makes demo
    data of its own (generated, ingested or analysed again); ``pytest -m "not slow"`` is the
    quick loop while developing.
    ``browser``: needs a Chromium; skipped with the reason when none is installed.

Parallel runs
    ``addopts`` runs the suite on two processes (pytest-xdist, ``-n 2 --dist loadscope``: a
    module's tests stay in one process, so a module fixture is built once; the tests of
    :data:`ONE_BY_ONE` are handed out one by one, and the modules of :data:`SAME_PROCESS` share
    a process); ``-n 0`` runs everything in one process.
    The modules are handed out in the order of :func:`_run_order` (xdist's own reordering, by
    the number of tests in a module, is turned off): those that do not use the shared project
    first, then the longest, and the tests handed out one by one last. The session fixtures above live in one folder per run (removed
    at the end) and reach every process as a pickle. ``demo_project`` is built by a process of
    its own, started as soon as the collected tests are known to need it, while the tests that
    do not need it run first; the others are built by the first process that asks for them,
    under a file lock.
    Every process of the run, and every program it starts (kernels, ``kkbm`` in a process of its
    own), does its linear algebra on one BLAS thread (:data:`ONE_BLAS_THREAD`), as ``kkbm analyse``
    does: the test processes already fill the cores, and a BLAS that splits a small solve over
    threads which must wait for a busy core is many times slower (scipy's ``cho_solve`` on a
    59-square system: 0.05 ms on one thread, 1-20 ms on two, the more so the busier the machine).
"""
from __future__ import annotations

import gc
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

#: Scale of the shared demo project (a tenth of the published 7,935 members).
DEMO_SCALE = 0.1
#: The seed of ``demo_other_seed`` (the project uses the default seed).
OTHER_SEED = 7

#: BLAS thread counts of every process of the run, read when numpy loads (unless the user set one of them).
ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "BLIS_NUM_THREADS": "1"}


def _one_blas_thread() -> None:
    """Set :data:`ONE_BLAS_THREAD` for this process and those it starts, unless the user chose a count."""
    if any(name in os.environ for name in ONE_BLAS_THREAD):
        return
    os.environ.update(ONE_BLAS_THREAD)
    if "numpy" in sys.modules:   # loaded before this file (by a plugin): limit the libraries already loaded too
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=1, user_api="blas")


_one_blas_thread()

_RUN_ID = pytest.StashKey[str]()
_INTERRUPTED = pytest.StashKey[bool]()


# =========================================================================== one folder per test run
def pytest_configure(config):
    """Give the run an id that the xdist workers share (the folder of the shared fixtures is named by it)."""
    if hasattr(config, "workerinput"):
        return
    config.option.loadscopereorder = False   # xdist hands the modules out in the order _run_order gives them
    run_id = getattr(config.option, "testrunuid", None) or uuid.uuid4().hex
    if hasattr(config.option, "testrunuid"):
        config.option.testrunuid = run_id   # xdist hands it to its workers
    config.stash[_RUN_ID] = run_id


def pytest_sessionfinish(session, exitstatus):
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        session.config.stash[_INTERRUPTED] = True


def pytest_unconfigure(config):
    """Wait for this process's builder: another process of the run may still need the shared project after
    this one's own tests are done (an interrupted run stops it instead). The controlling process removes the
    run's folder once every worker is done."""
    builder = config.stash.get(_BUILDER_PROCESS, None)
    if builder is not None:
        if builder.poll() is None and config.stash.get(_INTERRUPTED, False):
            builder.terminate()
        builder.wait()
    if not hasattr(config, "workerinput") and _RUN_ID in config.stash:
        shutil.rmtree(_run_folder(config), ignore_errors=True)


def _run_folder(config) -> Path:
    """Where this run's shared fixtures live: a private temporary folder, not pytest's base folder
    (which concurrent test runs on the same machine may prune)."""
    worker = getattr(config, "workerinput", None)
    run_id = worker["testrunuid"] if worker else config.stash[_RUN_ID]
    return Path(tempfile.gettempdir()) / f"kkbm-tests-{run_id}"


def built_once(config, name: str, build: Callable[[Path], Any]) -> Any:
    """``build(folder)``'s value, computed by the first process of the run that asks for ``name``.

    The others wait for it (a file lock) and read it back (a pickle); ``folder`` is the run's
    ``<run folder>/<name>``, so files written there are shared too.
    """
    from filelock import FileLock
    run = _run_folder(config)
    run.mkdir(exist_ok=True)
    done = run / f"{name}.pickle"
    with FileLock(run / f"{name}.lock"):
        if done.exists():
            return pickle.loads(done.read_bytes())
        value = build(run / name)
        partial = done.with_suffix(".partial")
        partial.write_bytes(pickle.dumps(value))
        partial.replace(done)
    return value


# =========================================================================== the demo project
@dataclass(frozen=True)
class DemoProject:
    """A project root holding small SYNTHETIC demo data: raw, processed, voices and analysis products."""

    root: Path
    report: Any           # kkbm_analysis.demo.DemoReport of run_demo
    synth: Any            # kkbm_analysis.synth.SynthResult of the raw files
    reloads: tuple = ()   # (function, args) of each read of processed tables during run_demo
    scale: float = DEMO_SCALE

    @property
    def seed(self) -> int:
        return self.synth.ground_truth["seed"]

    @property
    def ingest(self):
        """The registers' :class:`~kkbm_analysis.results.IngestResult`."""
        return self.report.result

    @property
    def voices_report(self):
        return self.report.voices

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw" / "demo"

    @property
    def processed(self) -> Path:
        return self.root / "data" / "processed" / "demo"

    @property
    def voices(self) -> Path:
        return self.root / "data" / "processed" / "demo-voices"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def figures(self) -> Path:
        return self.root / "figures"


def _build_demo_project(folder: Path) -> DemoProject:
    """``run_demo`` on a new project root, recording what the generator returned and any read-back."""
    import kkbm_analysis.data as data_module
    import kkbm_analysis.demo as demo_module
    import kkbm_analysis.store as store
    from kkbm_analysis.config import Paths

    root = folder / "project"
    generated, reloads = [], []

    def spy(module, name: str, record: list, keep_result: bool = False) -> None:
        real = getattr(module, name)

        def wrapper(*args, **kwargs):
            result = real(*args, **kwargs)
            record.append(result if keep_result else (f"{module.__name__}.{name}", args))
            return result
        mp.setattr(module, name, wrapper)

    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spy(demo_module, "generate_demo", generated, keep_result=True)
        spy(store, "load_processed", reloads)
        spy(data_module, "load_processed", reloads)
        report = demo_module.run_demo(Paths(root), scale=DEMO_SCALE)
    for name in ("reports", "figures"):
        (root / name).mkdir()
    return DemoProject(root, report, generated[0], tuple(reloads))


#: The program that builds the shared project in a process of its own: argv = run folder, this folder.
_BUILDER = """\
import pickle, sys, traceback
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import conftest
run = Path(sys.argv[1])
try:
    project = conftest._build_demo_project(run / "demo_project")
    (run / "demo_project.partial").write_bytes(pickle.dumps(project))
    (run / "demo_project.partial").replace(run / "demo_project.pickle")
except BaseException:
    (run / "demo_project.failed").write_text(traceback.format_exc())
    raise
"""
_BUILDER_PROCESS = pytest.StashKey[subprocess.Popen]()


def pytest_collection_finish(session):
    """Start building the shared project as soon as the collected tests are known to need it: it is built in a
    process of its own while the tests that do not need it run (they come first: pytest_collection_modifyitems).

    Then spare the garbage collector the collected tests: everything loaded so far (the test modules, the
    package, its libraries, the collected items) lives until the run ends, so it is frozen out of the collector's
    full passes (:func:`gc.freeze`), and those passes come less often (a larger first threshold). In a test
    process, with hundreds of thousands of long-lived objects, they took 4-7 CPU-s; this does not change what
    is freed, only how often the collector looks (reference counting frees the rest as before)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, *gc.get_threshold()[1:])
    if session.config.option.collectonly:
        return   # nothing runs: --collect-only neither builds the project nor waits for it
    if any("demo_project" in getattr(item, "fixturenames", ()) for item in session.items):
        _start_demo_project(session.config)


def _start_demo_project(config) -> None:
    """Start the builder, unless another process of the run has started it."""
    run = _run_folder(config)
    run.mkdir(exist_ok=True)
    try:
        os.close(os.open(run / "demo_project.started", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    with open(run / "demo_project.log", "wb") as log:
        process = subprocess.Popen([sys.executable, "-c", _BUILDER, str(run), str(Path(__file__).parent)],
                                   stdout=log, stderr=subprocess.STDOUT)
    (run / "demo_project.pid").write_text(str(process.pid))
    config.stash[_BUILDER_PROCESS] = process


def _builder_gone(run: Path) -> bool:
    import psutil
    pid = run / "demo_project.pid"
    if not pid.exists():
        return False   # just started
    try:
        return psutil.Process(int(pid.read_text())).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture(scope="session")
def demo_project(request) -> DemoProject:
    """The shared small SYNTHETIC project (generated, ingested and analysed once per run, by the builder)."""
    run = _run_folder(request.config)
    _start_demo_project(request.config)   # (started at collection already, unless the hook did not run)
    done, failed = run / "demo_project.pickle", run / "demo_project.failed"
    while not done.exists():
        if failed.exists():
            raise RuntimeError(f"building the shared demo project failed:\n{failed.read_text()}")
        if _builder_gone(run) and not done.exists():
            log = run / "demo_project.log"
            raise RuntimeError(f"the builder of the shared demo project stopped without a result; its output:\n"
                               f"{log.read_text(errors='replace')[-5000:] if log.exists() else '(none)'}")
        time.sleep(0.5)
    return pickle.loads(done.read_bytes())


@pytest.fixture(scope="session")
def demo_data(demo_project):
    """The shared project's processed tables (read-only for tests)."""
    from kkbm_analysis.data import ProgramData
    return ProgramData.load(demo_project.processed)


@pytest.fixture(scope="session")
def demo_voices(demo_project):
    """The voices corpus of the shared project (generated, ingested and analysed with it)."""
    return demo_project.voices_report


def _generate(folder: Path, seed: int | None = None):
    from kkbm_analysis.synth import generate_demo
    kwargs = {} if seed is None else {"seed": seed}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return generate_demo(folder / "data" / "raw" / "demo", scale=DEMO_SCALE, **kwargs)


@pytest.fixture(scope="session")
def demo_again(request):
    """The project's raw files made again (same seed, same scale), as a SynthResult."""
    return built_once(request.config, "demo_again", _generate)


@pytest.fixture(scope="session")
def demo_other_seed(request):
    """The demo's raw files with seed :data:`OTHER_SEED` (same scale), as a SynthResult."""
    return built_once(request.config, "demo_other_seed", lambda folder: _generate(folder, OTHER_SEED))


@pytest.fixture
def project(demo_project, monkeypatch) -> DemoProject:
    """The shared project, with ``KKBM_ROOT`` set to it for this test."""
    monkeypatch.setenv("KKBM_ROOT", str(demo_project.root))
    return demo_project


# =========================================================================== the command line
@dataclass(frozen=True)
class Ran:
    """Exit code and printed output of one ``kkbm`` command."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def kkbm(monkeypatch, capsys) -> Callable[..., Ran]:
    """Run ``kkbm ARGS`` in this process through the console entry point (``kkbm_analysis.cli.main``).

    ``env`` sets (or, with None, removes) environment variables for the run. The command's exit
    code, stdout and stderr come back as they would from the installed program; an exception
    that escapes the entry point fails the test.
    """
    import sys

    from kkbm_analysis import cli

    def run(*args: str, env: dict[str, str | None] | None = None) -> Ran:
        with monkeypatch.context() as mp:
            for key, value in (env or {}).items():
                if value is None:
                    mp.delenv(key, raising=False)
                else:
                    mp.setenv(key, value)
            mp.setattr(sys, "argv", ["kkbm", *map(str, args)])
            capsys.readouterr()
            try:
                cli.main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            out = capsys.readouterr()
        return Ran(code, out.out, out.err)
    return run


# =========================================================================== markers
@pytest.hookimpl(trylast=True)   # after -m and -k have deselected: the order is of the tests that run
def pytest_collection_modifyitems(config, items):
    """Skip ``browser`` tests, saying why, when no Chromium is installed; run the modules that do not use the
    shared project first, so that one process builds it while the other has work."""
    from kkbm_analysis.reports.chromium import find_chromium
    if not find_chromium():
        skip = pytest.mark.skip(reason="no Chromium on this machine: the optional PDF engine and the browser "
                                       "rendering checks need Debian's chromium (or KKBM_CHROMIUM)")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)
    items.sort(key=_run_order(items))   # stable: the order within a module is kept


def _run_order(items) -> Callable[[Any], tuple]:
    """The order in which the tests are handed to the processes (xdist keeps it: ``loadscopereorder`` is off).

    First the modules that do not use the shared project (one process builds it meanwhile); then those that do:
    the modules with the most ``slow`` tests (kernels, batches, clusters: the longest runs) first, then the
    others, and last the tests handed out one by one (:data:`ONE_BY_ONE`), which fill the time until both
    processes are done.
    """
    uses_project, slow = set(), {}
    for item in items:
        module = item.module.__name__
        if "demo_project" in item.fixturenames:
            uses_project.add(module)
        slow[module] = slow.get(module, 0) + ("slow" in item.keywords and not _one_by_one(item.nodeid))

    def order(item) -> tuple:
        module = item.module.__name__
        if module not in uses_project:
            return (0,)
        if _one_by_one(item.nodeid):
            return (3,)
        return (1, -slow[module]) if slow[module] else (2,)
    return order


#: Tests that use no module fixture and each run something long (a notebook in a kernel of its own): handed out one
#: at a time (each parameter too), so that both processes share them. Every other module goes to one process whole.
ONE_BY_ONE = {"tests/test_notebooks.py::test_notebook_runs_top_to_bottom",
              "tests/test_notebooks.py::test_template_refuses_an_unknown_province_at_once",
              "tests/test_notebooks.py::test_template_refuses_a_path_outside_the_project"}


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadscope`` with :data:`ONE_BY_ONE`: a module's tests in one process, except those tests; the
    modules of :data:`SAME_PROCESS` in the process of the module named there."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if _one_by_one(nodeid):
                return nodeid
            module = super()._split_scope(nodeid)
            return SAME_PROCESS.get(module, module)
    return Scheduling(config, log)


#: Modules whose tests go to the process of another module's: those that read notebooks with nbformat, whose import
#: builds jsonschema's URI parser (1.5-4 CPU-s in every process that imports it); those that use the resilience world
#: of ``resilience_world.demo_world`` (the demo seed's data, survey and CFA, 1.5-2 CPU-s, made once per process).
SAME_PROCESS = {"tests/test_resilience_notebook.py": "tests/test_notebooks.py",
                "tests/test_resilience_measurement.py": "tests/test_resilience_models.py"}


def _one_by_one(nodeid: str) -> bool:
    return nodeid.split("[", 1)[0] in ONE_BY_ONE


# =========================================================================== notebooks
@pytest.fixture
def execute_notebook() -> Callable[..., Any]:
    """``papermill.execute_notebook``, run again when its kernel died before answering.

    jupyter_client picks free ports and releases them for the kernel to bind; a kernel starting at the same
    moment elsewhere (the other test process) can take one first, and the kernel dies with "Address already
    in use" (jupyter_client#154, papermill#511). The product's warm kernels retry the same way
    (``WarmKernel.start``).
    """
    import papermill as pm

    from kkbm_analysis.reports.kernel import START_ATTEMPTS

    def run(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                return pm.execute_notebook(*args, **kwargs)
            except RuntimeError as exc:
                if "died before replying" not in str(exc) or attempt == START_ATTEMPTS:
                    raise
    return run
