"""Fits shared out between ``analyse``'s two threads (:func:`kkbm_analysis.analyse.fits._shared_out`):
the records come back in order whichever thread ran them, the second thread joins only once its
own queue is done, and an error stops both."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from kkbm_analysis.analyse import fits


def _pending(n: int) -> list[fits.PendingFit]:
    return [fits.PendingFit(f"gap_{i}", "province_gap_decomposition", f"k{i}", "", {}, 0, lambda: None)
            for i in range(n)]


@pytest.fixture
def ran(monkeypatch) -> list[tuple[str, str]]:
    """(fit id, thread name) of each fit run; a fit takes 20 ms, without holding the GIL."""
    log: list[tuple[str, str]] = []

    def run_fit(p):
        time.sleep(0.02)
        log.append((p.fit_id, threading.current_thread().name))
        return p.fit_id
    monkeypatch.setattr(fits, "run_fit", run_fit)
    return log


def test_a_free_second_thread_takes_fits_and_the_records_keep_their_order(ran):
    pending = _pending(12)
    with ThreadPoolExecutor(1, thread_name_prefix="helper") as helper:
        done = fits._shared_out(pending, helper)
    assert done == [p.fit_id for p in pending]
    assert sorted(f for f, _ in ran) == sorted(done)          # each fit ran once
    threads = {t for _, t in ran}
    assert threading.current_thread().name in threads and any(t.startswith("helper") for t in threads)


def test_a_busy_second_thread_leaves_the_fits_to_this_one(ran):
    release = threading.Event()
    with ThreadPoolExecutor(1, thread_name_prefix="helper") as helper:
        helper.submit(release.wait, 5)                        # its own work comes first
        threading.Timer(0.5, release.set).start()             # done long after this thread took every fit
        done = fits._shared_out(_pending(6), helper)
    assert done == [f"gap_{i}" for i in range(6)]
    assert {t for _, t in ran} == {threading.current_thread().name}


@pytest.mark.parametrize("where", ["helper", "MainThread"])
def test_an_error_on_either_thread_stops_both(monkeypatch, where):
    taken: list[str] = []

    def run_fit(p):
        taken.append(p.fit_id)
        time.sleep(0.02)
        if threading.current_thread().name.startswith(where):
            raise RuntimeError("fit broke")
        return p.fit_id
    monkeypatch.setattr(fits, "run_fit", run_fit)
    with ThreadPoolExecutor(1, thread_name_prefix="helper") as helper:
        with pytest.raises(RuntimeError, match="fit broke"):
            fits._shared_out(_pending(40), helper)
    assert len(taken) < 10                                     # nothing taken after the error, on either thread


def test_without_a_second_thread_the_fits_run_here_in_order(ran):
    assert fits._shared_out(_pending(3), None) == ["gap_0", "gap_1", "gap_2"]
    assert [f for f, _ in ran] == ["gap_0", "gap_1", "gap_2"]
