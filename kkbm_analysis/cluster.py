"""Where Dask work runs: a local cluster of worker processes, or a cluster that already runs.

The report batch (:mod:`kkbm_analysis.reports`) runs one report per task here, and ``kkbm analyse
--jobs/--scheduler`` its model fits; the settings below are the batch's.

Local (the default)
    A scheduler in this process and ``n_workers`` worker processes on 127.0.0.1 (one thread
    each, no dashboard), started for the batch and stopped after it. The scheduler hands a
    worker its next report only when it is free (``worker-saturation`` 1.0), so a worker that
    dies takes down no report but its own, and reports start in plan order. The workers are
    separate programs, each watched by a nanny that starts it again if it dies (distributed's
    ``SubprocessWorker``: ``python -m dask spec``), not processes forked or spawned from the
    caller, so a script that calls :func:`~kkbm_analysis.reports.build_reports` at its top
    level needs no ``if __name__ == "__main__":`` guard (``distributed.LocalCluster``'s spawned
    workers would run such a script again). The scheduler needs no program of its own: that
    would add a second of start-up to every batch, one cold report included. It retries a
    report whose worker died once, on another worker (``allowed_failures=1``); if that worker
    dies too, the report fails with ``KilledWorker``. (Give a cluster of your own the same
    two settings: ``distributed.scheduler.allowed-failures: 1``,
    ``distributed.scheduler.worker-saturation: 1.0``.) Left behind by a killed caller, the
    workers close a minute after it.

    Memory: ``memory_limit`` (default 4 GiB) bounds the whole process tree: this process
    (with the scheduler), the nannies, the workers and their kernels. :data:`RESERVED` is kept
    for the first two; each worker gets an equal share of the rest as its Dask ``memory_limit``, which
    :class:`~kkbm_analysis.reports.worker.WarmKernelPlugin` applies to the worker and its
    kernel together.
An existing cluster (``scheduler="tcp://host:8786"``, or a :class:`distributed.Client`)
    Its own workers and limits are used as they are; the workers need this package and the
    ``kkbm-analysis`` kernel installed, and must see the project folder at the same path
    (templates, processed data and output folder are handed over as absolute paths).
"""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from typing import Any, Iterator

__all__ = ["ClusterError", "batch_client", "worker_memory_limit", "DEFAULT_MEMORY_LIMIT", "RESERVED"]

#: Memory of the whole process tree of a batch on the local cluster.
DEFAULT_MEMORY_LIMIT = "4GiB"
#: Held back from ``memory_limit`` for the calling process, the scheduler and the workers' nannies.
RESERVED = "1GiB"
#: Seconds to wait for a first worker before giving up.
WORKER_TIMEOUT = 300
#: The local cluster's Dask settings: a worker gets its next report when it is free; and no sampling profiler,
#: event-loop ticks every 20 ms or resource and memory monitors every 0.1-0.5 s, which serve a dashboard the local
#: cluster does not have: an idle 2-worker cluster used about 10 % of a core with them, 2 % without (the report
#: worker plugin watches memory itself, every 0.5 s). Each nanny forks its worker: the nanny is a program of its own
#: (``python -m dask spec``) that has imported distributed and nothing of ours, so its fork starts the worker, and
#: restarts it after a death, without importing it all again as a spawned process would (a 2-worker cluster: up in
#: about 1.3 s less wall time, with 1 CPU-s less). The scheduler (in this process) reads these settings when it
#: starts; the worker programs from the environment they start in (:func:`_as_environment`).
LOCAL_CONFIG = {
    "distributed.worker.multiprocessing-method": "fork",
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}


class ClusterError(RuntimeError):
    """The Dask cluster cannot be reached or has no workers; the message says which and where."""


def worker_memory_limit(memory_limit: str | int | None, n_workers: int) -> int | None:
    """Each local worker's share (bytes) of ``memory_limit`` after :data:`RESERVED`; None for no limit.

    Raises
    ------
    ValueError
        A limit that is not a size (``"4GiB"``, ``"3000MB"``, bytes) or leaves less than 256 MiB per worker.
    """
    if memory_limit is None:
        return None
    from dask.utils import format_bytes, parse_bytes
    total = parse_bytes(memory_limit) if isinstance(memory_limit, str) else int(memory_limit)
    share = (total - parse_bytes(RESERVED)) // max(1, n_workers)
    if share < 256 * 2**20:
        raise ValueError(f"a memory limit of {format_bytes(total)} leaves {format_bytes(max(share, 0))} per worker "
                         f"for {n_workers} worker(s) after {RESERVED} for the scheduler; give at least "
                         f"{format_bytes(parse_bytes(RESERVED) + n_workers * 256 * 2**20)} or fewer jobs")
    return share


@contextmanager
def batch_client(scheduler: Any = None, *, n_workers: int = 1, memory_limit: str | int | None = DEFAULT_MEMORY_LIMIT,
                 quiet: bool = True) -> Iterator[tuple[Any, int]]:
    """A :class:`distributed.Client` for one batch and the number of workers, closed afterwards.

    Parameters
    ----------
    scheduler : str or distributed.Client, optional
        The address of a running scheduler (``tcp://127.0.0.1:8786``) or a client of it (left
        open); None starts a local cluster of ``n_workers`` processes (see the module docstring).
    n_workers : int
        Workers of the local cluster.
    memory_limit : str, int or None
        The local cluster's whole process tree (``"4GiB"``); not used for an existing cluster.
    quiet : bool
        Keep distributed's log messages under ERROR in this process (and in local workers).

    Raises
    ------
    ClusterError
        The scheduler cannot be reached, or no worker joins it within :data:`WORKER_TIMEOUT` s (a
        local cluster waits for all its workers, so the batch's worker plugin reaches each of them).
    """
    from distributed import Client
    level = logging.ERROR if quiet else logging.WARNING
    if isinstance(scheduler, Client):
        _wait_for_workers(scheduler, scheduler.scheduler.address)
        yield scheduler, len(scheduler.nthreads())
        return
    with _quiet_logs(level):
        if scheduler:
            try:
                client = Client(str(scheduler), set_as_default=False)  # time-out: distributed.comm.timeouts.connect
            except (OSError, TimeoutError) as exc:
                raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
            try:
                _wait_for_workers(client, str(scheduler))
                yield client, len(client.nthreads())
            finally:
                client.close()
            return
        cluster = _local_cluster(n_workers, worker_memory_limit(memory_limit, n_workers), level)
        try:
            client = Client(cluster, set_as_default=False)
            try:
                _wait_for_workers(client, cluster.scheduler_address, n_workers)
                yield client, n_workers
            finally:
                client.close()
        finally:
            cluster.close()


def _local_cluster(n_workers: int, per_worker: int | None, level: int) -> Any:
    """A scheduler in this process (no program to start) and ``n_workers`` worker programs, each with a nanny."""
    import dask
    from distributed import Scheduler, SpecCluster
    from distributed.deploy.subprocess import SubprocessWorker
    worker = {"cls": SubprocessWorker,
              "options": {"worker_class": "distributed.Nanny",
                          "worker_kwargs": {"host": "127.0.0.1", "nthreads": 1, "silence_logs": level,
                                            "memory_limit": per_worker or 0, "death_timeout": "60s"}}}
    # no dashboard; its small HTTP server (health checks) on any free loopback port, not on 8787, which a
    # researcher's own Dask dashboard may hold
    scheduler = {"cls": Scheduler, "options": {"host": "127.0.0.1", "port": 0, "dashboard": False,
                                               "dashboard_address": "127.0.0.1:0", "allowed_failures": 1}}
    with _environ(_as_environment(LOCAL_CONFIG)), dask.config.set(LOCAL_CONFIG):
        return SpecCluster(scheduler=scheduler, workers=dict.fromkeys(range(n_workers), worker), worker=worker,
                           silence_logs=level, name="kkbm-local")


def _as_environment(settings: dict[str, Any]) -> dict[str, str]:
    """Dask settings as the environment variables a Dask program reads them from (``DASK_A__B_C``)."""
    return {"DASK_" + key.upper().replace(".", "__").replace("-", "_"): str(value) for key, value in settings.items()}


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _wait_for_workers(client: Any, where: str, n: int = 1) -> None:
    try:
        client.wait_for_workers(n, timeout=WORKER_TIMEOUT)
    except (TimeoutError, OSError) as exc:
        raise ClusterError(f"no Dask worker joined the scheduler at {where} within {WORKER_TIMEOUT} s "
                           f"({type(exc).__name__}); start workers with: dask worker {where}") from None


@contextmanager
def _quiet_logs(level: int) -> Iterator[None]:
    """distributed's loggers at ``level`` or above while the batch runs (its INFO lines are not ours to print)."""
    loggers = [logging.getLogger(name) for name in ("distributed", "tornado")]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(lg.level, level))
    try:
        yield
    finally:
        for lg, old in zip(loggers, before):
            lg.setLevel(old)
