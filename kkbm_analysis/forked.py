"""Run one piece of work in a forked copy of this process, beside the work this process goes on with.

The ingest's independent steps (tables built from different files, tables written to different
Parquet files) are Python-heavy, so threads would wait on each other for the interpreter lock.
A forked child starts from this process's state as it is (nothing is pickled on the way in),
does its part, and sends its result back through a pipe, pickled. Outputs stay exactly those of
a sequential run, as long as the two sides touch different files and the parent merges the
results in a fixed order.

:func:`available` says whether forking is possible and worth it here (Linux, at least two
usable cores). :class:`Claims` lets the parent and a child share out pieces of work, each piece
to whichever side asks first. :class:`Forked` starts the child; :meth:`Forked.result` waits for it and
re-raises the child's exception as it was, or raises :class:`WorkerFailed` when the child died
without a word (killed for memory, say).
"""
from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import sys
import traceback
from typing import Any, Callable

__all__ = ["available", "Claims", "Forked", "WorkerFailed"]


class WorkerFailed(RuntimeError):
    """The forked child stopped without sending a result (e.g. killed by the system for memory)."""


class _ChildTraceback(Exception):
    """Where in the child an exception was raised (attached as the cause of the re-raised one)."""


def available() -> bool:
    """Whether work can run in a forked child here: Linux (fork is safe there for this process's
    libraries) with at least two cores this process may use, and not inside a daemonic process (a
    multiprocessing or Dask worker, which may not have children)."""
    if not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods():
        return False
    if multiprocessing.current_process().daemon:
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return cores >= 2


def _give_back_memory() -> None:
    """Return freed heap pages to the system (glibc's ``malloc_trim``, Arrow's pool) before forking."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _child(send, fn: Callable[..., Any], args: tuple) -> None:
    try:
        payload = ("ok", fn(*args))
    except BaseException as exc:  # noqa: BLE001 (every failure goes back to the parent)
        from .redaction import scrub_log
        where = scrub_log("".join(traceback.format_exception(exc)))
        payload = ("error", exc, where)
    try:
        send.send(payload)
    except Exception as exc:  # the result or the exception could not be pickled
        from .redaction import scrub_log
        send.send(("error", RuntimeError(f"the forked worker's result could not be sent back "
                                         f"({type(exc).__name__})"), scrub_log(traceback.format_exc())))
    finally:
        send.close()


class Claims:
    """Names of pieces of work that a parent and its forked children share out: each is done by whoever
    claims it first (made before the fork, so both sides hold the same shared memory).

    Parameters
    ----------
    names : list of str
        The pieces that may be claimed.
    ready : list of str, optional
        Those that may be claimed from the start (default: all); the others only once :meth:`open`.
    """

    _CLOSED, _OPEN, _TAKEN = 0, 1, 2

    def __init__(self, names: list[str], ready: list[str] | None = None) -> None:
        self.names = list(names)
        self._state = multiprocessing.get_context("fork").Array("b", len(self.names))  # with a lock
        self.open(self.names if ready is None else ready)

    def open(self, names: list[str]) -> None:
        """Let ``names`` be claimed (those not taken yet)."""
        with self._state.get_lock():
            for name in names:
                at = self.names.index(name)
                self._state[at] = max(self._state[at], self._OPEN)

    def claim(self, name: str) -> bool:
        """Whether the caller got ``name`` (False when another process claimed it first, or it is not open)."""
        at = self.names.index(name)
        with self._state.get_lock():
            if self._state[at] != self._OPEN:
                return False
            self._state[at] = self._TAKEN
            return True

    def taken(self, name: str) -> bool:
        """Whether some process has claimed ``name``."""
        return self._state[self.names.index(name)] == self._TAKEN


class Forked:
    """``fn(*args)`` running in a forked child process from the moment this object is made.

    Parameters
    ----------
    fn : callable
        Run in the child; its return value must pickle.
    *args
        Passed to ``fn`` as they are (the child has its own copy of them).
    what : str
        What the child does, for the message when it dies (``"building tables x, y"``).
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, what: str = "work") -> None:
        self.what = what
        _give_back_memory()  # the child starts from this process's pages: fewer of them, less memory in all
        ctx = multiprocessing.get_context("fork")
        self._receive, send = ctx.Pipe(duplex=False)
        self._process = ctx.Process(target=_child, args=(send, fn, args), daemon=True)
        gc.freeze()  # the child's garbage collector leaves the objects it inherits alone: fewer pages copied
        try:
            self._process.start()
        finally:
            gc.unfreeze()
        send.close()
        self._done = False

    def ready(self) -> bool:
        """Whether the child has sent its result (or ended): :meth:`result` would not wait."""
        return self._done or self._receive.poll()

    def result(self) -> Any:
        """Wait for the child; its return value, or its exception raised here."""
        if self._done:
            raise RuntimeError("the result was already taken")
        self._done = True
        try:
            message = self._receive.recv()
        except EOFError:
            message = None
        finally:
            self._receive.close()
            self._process.join()
        if message is None:
            raise WorkerFailed(f"the worker process {self.what} stopped without a result "
                               f"(exit code {self._process.exitcode}); the machine may be short of memory")
        if message[0] == "error":
            exc = message[1]
            raise exc from _ChildTraceback("in the worker process:\n" + message[2])
        return message[1]

    def stop(self) -> None:
        """End the child if it still runs (after a failure on this side)."""
        if not self._done:
            self._done = True
            self._process.kill()
            self._process.join()
            self._receive.close()
