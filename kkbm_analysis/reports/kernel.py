"""The pinned Jupyter kernel and a papermill engine that reuses one warm kernel.

Kernel
------
Reports run on the kernel named :data:`KERNEL_NAME` (``kkbm-analysis``), looked up **only**
in the project's virtual environment (``sys.prefix/share/jupyter/kernels``), so a kernel
of the same name in the user's home or elsewhere on the machine is never picked up.
:func:`ensure_kernel` registers it there when it is missing (``ipykernel install
--sys-prefix``) or fails with a message saying how to register it.

Warm engine
-----------
Starting a kernel and importing pandas, matplotlib and the package costs seconds per
notebook. :class:`WarmKernel` starts the kernel once (the batch keeps one per Dask worker,
:mod:`.worker`), imports the heavy modules, and before each notebook resets it: the user
namespace is cleared (``%reset -f``, which ends with a full garbage collection), figures
closed, matplotlib's rc and the warning filters restored, the working directory and
execution counter reset. What survives a reset (modules, caches) is then frozen
(:func:`gc.freeze`), so the next reset's collection walks only what one notebook made,
not the whole warm process again (a fifth of a national report's kernel time before). Module state
survives: the caches of :mod:`kkbm_analysis.reports.cache` keep loaded data there, so a
worker reads its shared inputs once, to save time only. Every cached result is a pure
function of the data's content and the call's arguments, and callers get their own view
of cached frames, so a report reads the same whether its kernel is warm or fresh (tested:
a notebook run alone on a fresh kernel gives the same HTML as in the batch).

:class:`WarmEngine` is a papermill engine (registered as ``"kkbm-warm"``) that runs the
notebook on the :class:`WarmKernel` handed to :func:`papermill.execute_notebook` as the
engine keyword ``session``, through public papermill and nbclient interfaces only (see
:func:`warm_engine_class`), so parameters, error handling and
:class:`papermill.exceptions.PapermillExecutionError` are papermill's own. There is no
execution time-out (``execution_timeout=None``) and a long start-up time-out.
"""
from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Any

KERNEL_NAME = "kkbm-analysis"
ENGINE_NAME = "kkbm-warm"
#: Seconds to wait for a kernel to start (generous: the machine may be busy).
START_TIMEOUT = 600
#: Starts of a kernel that dies before it answers (a port taken between choosing and binding it).
START_ATTEMPTS = 3
#: Seconds nbclient waits for the outputs of a cell after its reply (under load they lag).
IOPUB_TIMEOUT = 300

#: Imported once when the kernel starts, so notebooks do not pay for them.
WARM_CODE = """
import warnings as _w
import numpy, pandas, matplotlib, matplotlib.pyplot
import kkbm_analysis, kkbm_analysis.reports, kkbm_analysis.reports.province, kkbm_analysis.reports.national
import kkbm_analysis.products, kkbm_analysis.viz
get_ipython().run_line_magic("matplotlib", "inline")
import matplotlib as _m
_KKBM_RC = dict(_m.rcParams)
_KKBM_WARNINGS = list(_w.filters)
import kkbm_analysis.reports.kernel as _k
_k._WARM_STATE = (_KKBM_RC, _KKBM_WARNINGS)
del _m, _w, _k, _KKBM_RC, _KKBM_WARNINGS
"""

#: Run before every notebook: a fresh namespace in a warm process.
RESET_CODE = """
import os as _os, warnings as _w, matplotlib as _m, matplotlib.pyplot as _plt
import kkbm_analysis.reports.kernel as _k
_plt.close("all")
_rc, _filters = _k._WARM_STATE
_m.rcParams.clear()
_m.rcParams.update(_rc)
_w.resetwarnings()
_w.filters[:] = list(_filters)
_w._filters_mutated() if hasattr(_w, "_filters_mutated") else None
_os.chdir({cwd!r})
get_ipython().run_line_magic("reset", "-f")
__import__("gc").freeze()
get_ipython().execution_count = 1
"""

log = logging.getLogger(__name__)


class KernelNotFoundError(RuntimeError):
    """The pinned kernel is not registered in the project's environment and could not be registered."""


def kernel_dirs() -> list[str]:
    """Where the pinned kernel is looked up: the environment's own kernels folder only."""
    return [str(Path(sys.prefix) / "share" / "jupyter" / "kernels")]


def kernel_spec_manager():
    """A KernelSpecManager that sees only the kernels of this virtual environment."""
    from jupyter_client.kernelspec import KernelSpecManager
    ksm = KernelSpecManager()
    ksm.kernel_dirs = kernel_dirs()
    ksm.ensure_native_kernel = False
    return ksm


def ensure_kernel(name: str = KERNEL_NAME, *, register: bool = True) -> Path:
    """The folder of the pinned kernel spec, registering it in the environment if missing.

    Raises
    ------
    KernelNotFoundError
        When the kernel is missing and cannot be registered (the message says how to).
    """
    from jupyter_client.kernelspec import NoSuchKernel
    ksm = kernel_spec_manager()
    how = (f"register it with: {sys.executable} -m ipykernel install --sys-prefix --name {name} "
           f"--display-name \"Python ({name})\" (python3 tasks.py does this)")
    try:
        spec = ksm.get_kernel_spec(name)
    except NoSuchKernel:
        if not register:
            raise KernelNotFoundError(f"Jupyter kernel {name!r} is not registered in {kernel_dirs()[0]}; {how}") \
                from None
        try:
            from ipykernel.kernelspec import install
            install(kernel_name=name, display_name=f"Python ({name})", prefix=sys.prefix)
            spec = kernel_spec_manager().get_kernel_spec(name)
        except Exception as exc:  # noqa: BLE001 - reported with the remedy
            raise KernelNotFoundError(f"Jupyter kernel {name!r} is missing from {kernel_dirs()[0]} and could not "
                                      f"be registered ({exc}); {how}") from exc
    exe = spec.argv[0] if spec.argv else ""
    if exe and exe != "python" and not Path(exe).exists() and shutil.which(exe) is None:
        raise KernelNotFoundError(f"Jupyter kernel {name!r} points to {exe}, which does not exist; {how}")
    return Path(spec.resource_dir)


class WarmKernel:
    """One long-lived kernel, reset between notebooks (see the module docstring)."""

    def __init__(self, name: str = KERNEL_NAME, *, cwd: str | os.PathLike | None = None,
                 start_timeout: float = START_TIMEOUT, log_file: str | os.PathLike | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log_file = log_file
        self.env = env
        self.cwd = str(Path(cwd or os.getcwd()).resolve())
        self.start_timeout = start_timeout
        self.km: Any = None
        self.kc: Any = None
        self.last_nb: Any = None
        self.notebooks_run = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start the kernel and import the heavy modules.

        A kernel that dies before it answers is started again, up to :data:`START_ATTEMPTS`
        times: jupyter_client picks free ports and releases them for the kernel to bind, so two
        kernels starting at once (two workers of a batch) can reach for the same port and one
        dies with "Address already in use" (jupyter_client#154, papermill#511).
        """
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                return self._start_once()
            except RuntimeError as exc:
                if "died before replying" not in str(exc) or attempt == START_ATTEMPTS:
                    raise
                log.warning("kernel %s died while starting (attempt %d); starting it again", self.name, attempt)
                self.shutdown()

    def _start_once(self) -> None:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync
        ensure_kernel(self.name)
        self.km = AsyncKernelManager(kernel_name=self.name, kernel_spec_manager=kernel_spec_manager())
        extra: dict[str, Any] = {}
        if self.log_file:  # the kernel's own stdout/stderr (start-up problems) go to a log, not the console
            Path(self.log_file).parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_file, "ab")  # noqa: SIM115 - closed in shutdown()
            extra = {"stdout": self._log, "stderr": self._log}
        if self.env is not None:
            extra["env"] = self.env
        run_sync(self.km.start_kernel)(cwd=self.cwd, extra_arguments=["--HistoryManager.hist_file=:memory:"],
                                       **extra)
        self.kc = self.km.client()
        self.kc.start_channels()
        run_sync(self.kc.wait_for_ready)(timeout=self.start_timeout)
        self.kc.allow_stdin = False
        self.run(WARM_CODE)

    @property
    def pid(self) -> int | None:
        """The kernel's process id (None when it is not running)."""
        return getattr(getattr(self.km, "provisioner", None), "pid", None)

    def alive(self) -> bool:
        from jupyter_core.utils import run_sync
        return self.km is not None and bool(run_sync(self.km.is_alive)())

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:  # noqa: BLE001 - shutting down anyway
                pass
        if self.km is not None:
            try:
                if run_sync(self.km.is_alive)():
                    run_sync(self.km.shutdown_kernel)(now=False)
            except Exception:  # noqa: BLE001
                try:
                    run_sync(self.km.shutdown_kernel)(now=True)
                except Exception:  # noqa: BLE001
                    pass
            try:
                run_sync(self.km.cleanup_resources)()
            except Exception:  # noqa: BLE001
                pass
        self.km = self.kc = None
        log_handle = getattr(self, "_log", None)
        if log_handle is not None:
            log_handle.close()
            self._log = None

    def restart(self) -> None:
        self.shutdown()
        self.start()

    # ------------------------------------------------------------------ execution
    def run(self, code: str) -> None:
        """Execute ``code`` silently; raise RuntimeError with the traceback if it fails."""
        from jupyter_core.utils import run_sync
        errors: list[str] = []

        def hook(msg: dict) -> None:
            if msg.get("msg_type") == "error":
                errors.append("\n".join(msg["content"].get("traceback", [])) or msg["content"].get("evalue", ""))
        reply = run_sync(self.kc.execute_interactive)(code, silent=False, store_history=False, allow_stdin=False,
                                                      timeout=None, output_hook=hook)
        if reply["content"].get("status") != "ok" or errors:
            raise RuntimeError("kernel set-up code failed:\n" + "\n".join(errors or [str(reply["content"])]))

    def prepare(self) -> None:
        """Make sure the kernel is alive (restart a dead one) and reset it for the next notebook."""
        if self.km is None or not self.alive():
            if self.km is not None:
                log.warning("kernel %s died; starting a new one", self.name)
            self.restart()
        self.run(RESET_CODE.format(cwd=self.cwd))


_ENGINE: Any = None


def register_engine() -> Any:
    """Register the warm engine with papermill as ``"kkbm-warm"`` (idempotent); return its class."""
    from papermill.engines import papermill_engines
    engine = warm_engine_class()
    papermill_engines.register(ENGINE_NAME, engine)
    return engine


def warm_engine_class() -> Any:
    """The papermill engine class running notebooks on a :class:`WarmKernel`.

    The kernel comes as the engine keyword ``session``::

        pm.execute_notebook(path, None, parameters=..., engine_name=ENGINE_NAME, kernel_name=session.name,
                            session=session)

    Built on first use so that importing this module does not import papermill. It uses
    public interfaces only: papermill's :class:`papermill.engines.Engine` base class and the
    ``nb_man`` (``NotebookExecutionManager``) hooks that papermill documents for new
    engines, and nbclient's :class:`nbclient.NotebookClient` (``setup_kernel``,
    ``execute_cell``, ``wait_for_reply``), given the warm kernel's manager and client. The
    loop is the one papermill's own engine runs: cells are marked started and completed,
    and the first failing cell is marked with its exception and stops the run, so
    :class:`papermill.exceptions.PapermillExecutionError` is raised by papermill as usual.
    """
    global _ENGINE
    if _ENGINE is not None:
        return _ENGINE
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from papermill.engines import Engine

    class WarmEngine(Engine):
        """papermill engine running notebooks on the :class:`WarmKernel` given as ``session``."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=START_TIMEOUT, execution_timeout=None,
                                     session: WarmKernel | None = None, **kwargs):
            if session is None:
                raise ValueError(f"the {ENGINE_NAME!r} engine needs the warm kernel: execute_notebook(..., "
                                 "session=WarmKernel(...))")
            session.last_nb = nb_man.nb
            if kernel_name and kernel_name != session.name:
                raise ValueError(f"the warm kernel is {session.name!r}, not {kernel_name!r}")
            session.prepare()
            client = NotebookClient(nb_man.nb, km=session.km, kernel_name=session.name, timeout=execution_timeout,
                                    startup_timeout=start_timeout, iopub_timeout=IOPUB_TIMEOUT,
                                    raise_on_iopub_timeout=True)
            client.kc = session.kc  # the warm kernel's client: nbclient then neither starts nor stops a kernel
            nb = nb_man.nb
            try:
                client.reset_execution_trackers()
                with client.setup_kernel():
                    for index, cell in enumerate(nb.cells):
                        try:
                            nb_man.cell_start(cell, index)
                            client.execute_cell(cell, index)
                        except CellExecutionError as exc:
                            nb_man.cell_exception(nb.cells[index], cell_index=index, exception=exc)
                            break
                        finally:
                            nb_man.cell_complete(nb.cells[index], cell_index=index)
                    info = client.wait_for_reply(session.kc.kernel_info())
                    nb.metadata["language_info"] = info["content"]["language_info"]
                    client.set_widgets_metadata()
                return nb
            finally:
                session.notebooks_run += 1

    _ENGINE = WarmEngine
    return _ENGINE
