"""Fixtures shared by the test modules, and the test markers.

``demo_project`` (session)
    One small SYNTHETIC project, built once per test run: the demo's raw files at a tenth
    of their size (default seed), ingested into ``data/processed/demo`` and analysed there
    (``kkbm analyse``: the analysis products reports read), with empty ``reports/`` and
    ``figures/`` folders. It lives in a private temporary folder (not
    pytest's shared base folder, which concurrent test runs on the same machine may prune)
    and is removed at the end.
``demo_data`` (session)
    Its processed tables as a :class:`~kkbm_analysis.data.ProgramData`. Treat it as
    read-only: every test sees the same object.
``demo_voices`` (session)
    The SYNTHETIC voices corpus drawn from those tables, generated and ingested into the
    same project (``data/raw/demo-voices``, ``data/processed/demo-voices``), as ``kkbm demo``
    does; the :class:`~kkbm_analysis.demo.VoicesDemoReport`.
``project``
    ``demo_project`` (with its voices) and ``KKBM_ROOT`` pointing at it for the test (paths
    in report parameters must lie inside the project).

Markers (see README, "Tests")
    ``slow``: runs Jupyter kernels (notebooks, report batches) or generates the demo data
    again; ``pytest -m "not slow"`` is the quick loop while developing.
    ``browser``: needs a Chromium; skipped with the reason when none is installed.
"""
from __future__ import annotations

import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Scale of the shared demo project (a tenth of the published 7,935 members).
DEMO_SCALE = 0.1


@dataclass(frozen=True)
class DemoProject:
    """A project root holding small SYNTHETIC demo data, raw and processed."""

    root: Path
    synth: object        # kkbm_analysis.synth.SynthResult of the raw files
    ingest: object       # kkbm_analysis.ingest.IngestResult

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


@pytest.fixture(scope="session")
def demo_project() -> DemoProject:
    """The shared small SYNTHETIC project (generated and ingested once per run)."""
    from kkbm_analysis.analyse import analyse
    from kkbm_analysis.ingest import ingest
    from kkbm_analysis.synth import generate_demo

    base = Path(tempfile.mkdtemp(prefix="kkbm-test-project-"))
    root = base / "project"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        synth = generate_demo(root / "data" / "raw" / "demo", scale=DEMO_SCALE)
        result = ingest(root / "data" / "raw" / "demo", root / "data" / "processed" / "demo")
        analyse(root / "data" / "processed" / "demo")
    for folder in ("reports", "figures"):
        (root / folder).mkdir()
    yield DemoProject(root, synth, result)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def demo_data(demo_project):
    """The shared project's processed tables (read-only for tests)."""
    from kkbm_analysis.data import ProgramData
    return ProgramData.load(demo_project.processed)


@pytest.fixture(scope="session")
def demo_voices(demo_project, demo_data):
    """The voices corpus of the shared project (generated and ingested once per run)."""
    from kkbm_analysis.config import Paths
    from kkbm_analysis.demo import run_voices_demo

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_voices_demo(Paths(demo_project.root), data=demo_data)


@pytest.fixture
def project(demo_project, demo_voices, monkeypatch) -> DemoProject:
    """The shared project (with its voices), with ``KKBM_ROOT`` set to it for this test."""
    monkeypatch.setenv("KKBM_ROOT", str(demo_project.root))
    return demo_project


def pytest_collection_modifyitems(config, items):
    """Skip ``browser`` tests, saying why, when no Chromium is installed."""
    from kkbm_analysis.reports.chromium import find_chromium
    if find_chromium():
        return
    skip = pytest.mark.skip(reason="no Chromium on this machine: the optional PDF engine and the browser "
                                   "rendering checks need Debian's chromium (or KKBM_CHROMIUM)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)
