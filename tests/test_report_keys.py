"""What makes a report out of date, checked without building one: every input of a report's key
(data, parameters, template, package sources and resources) and the index pages' own key.

The batch here is "built" by writing placeholder pages with the keys the runner computes
(:func:`kkbm_analysis.reports.runner._batch_keys`), so that :func:`build_reports` finds every
report up to date and starts nothing; ``test_reports.py`` builds real ones.
"""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from kkbm_analysis.reports import build_reports, plan_reports
from kkbm_analysis.reports import cache as rcache
from kkbm_analysis.reports import index as rindex
from kkbm_analysis.reports import runner
from kkbm_analysis.reports.planning import TEMPLATES_DIR, _paths

pytestmark = pytest.mark.usefixtures("project")
PACKAGE = Path(rcache.__file__).resolve().parent.parent
REQUEST = dict(periods=("2018",), langs=("en",), n_boot=50)


@pytest.fixture
def provinces(demo_project) -> list[str]:
    return rcache.load_products(demo_project.processed).provinces[:2]


def _stamp(plan, out: Path) -> None:
    """Placeholder HTML and PDF for each job, and the key the runner would store once they are built."""
    _, _, keys = runner._batch_keys(plan, out)
    for job in plan:
        p = _paths(out, job.stem)
        p["html"].write_text(f"<html>{job.stem}</html>", encoding="utf-8")
        p["pdf"].write_bytes(b"%PDF-1.7 placeholder")
        p["key"].write_text(__import__("json").dumps(keys[job.stem]), encoding="utf-8")


def _stale(plan, out: Path) -> list[str]:
    _, _, keys = runner._batch_keys(plan, out)
    return [job.stem for job in runner._up_to_date(plan, keys, out, force=False)[1]]


@pytest.fixture
def built(demo_project, provinces):
    """An output folder in which the request's three reports are up to date."""
    out = demo_project.reports / f"keys-{uuid.uuid4().hex[:8]}"
    plan = plan_reports(demo_project.processed, provinces=provinces, **REQUEST)
    out.mkdir(parents=True)
    _stamp(plan, out)
    yield out, plan
    shutil.rmtree(out)


def test_a_no_change_rerun_builds_nothing_and_renders_the_index_once(demo_project, provinces, built, monkeypatch):
    out, plan = built
    first = build_reports(demo_project.processed, out, provinces=provinces, **REQUEST, progress=False)
    assert [r.status for r in first.reports] == ["cached"] * 3 and first.workers == 0
    pages = {name: (out / name).read_bytes() for name in rindex.INDEX_PAGES.values()}
    assert all(f'href="{job.stem}.html"'.encode() in pages["index.html"] for job in plan)

    def render(*args, **kwargs):
        raise AssertionError("the index pages were rendered again with nothing changed")
    monkeypatch.setattr(rindex, "index_html", render)
    again = build_reports(demo_project.processed, out, provinces=provinces, **REQUEST, progress=False)
    assert [r.status for r in again.reports] == ["cached"] * 3 and again.workers == 0
    assert {name: (out / name).read_bytes() for name in pages} == pages


def test_the_index_is_rendered_again_when_a_report_or_a_page_changes(demo_project, provinces, built):
    out, plan = built
    build_reports(demo_project.processed, out, provinces=provinces, **REQUEST, progress=False)
    gone = plan[-1].stem
    (out / f"{gone}.pdf").unlink()          # the report stays; its PDF is gone: the pages must say so
    with pytest.MonkeyPatch.context() as mp:  # (no PDF engine, so that nothing is printed again)
        mp.setattr(runner, "_pdf_engine_here", lambda name: (None, {"skipped: test"} if name else set()))
        with pytest.warns(RuntimeWarning, match="PDF skipped: test"):
            build_reports(demo_project.processed, out, provinces=provinces, **REQUEST, progress=False)
    page = (out / "index-en.html").read_text(encoding="utf-8")
    assert f'href="{gone}.html"' in page and f'href="{gone}.pdf"' not in page
    (out / "index.html").write_text("edited by hand", encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runner, "_pdf_engine_here", lambda name: (None, {"skipped: test"} if name else set()))
        with pytest.warns(RuntimeWarning, match="PDF skipped: test"):
            build_reports(demo_project.processed, out, provinces=provinces, **REQUEST, progress=False)
    assert (out / "index.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_each_input_of_a_report_makes_it_out_of_date(demo_project, provinces, built, tmp_path, monkeypatch):
    out, plan = built
    assert _stale(plan, out) == []
    # parameters
    assert len(_stale(plan_reports(demo_project.processed, provinces=provinces, **{**REQUEST, "n_boot": 60}), out)) == 3
    # the template of one kind: only its reports
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    with (templates / "brief_national.ipynb").open("a", encoding="utf-8") as f:
        f.write("\n")
    other = plan_reports(demo_project.processed, provinces=provinces, **REQUEST, templates_dir=templates)
    assert _stale(other, out) == ["brief-national-2018-en"]
    # the package: its version, or its files
    fp = rcache.package_fingerprint()
    for changed in ({**fp, "version": fp["version"] + ".post1"}, {**fp, "sources_sha256": "0" * 64}):
        monkeypatch.setattr(rcache, "_PACKAGE_FP", changed)
        assert len(_stale(plan, out)) == 3
    monkeypatch.setattr(rcache, "_PACKAGE_FP", fp)
    assert _stale(plan, out) == []


def test_a_changed_product_makes_every_report_out_of_date(demo_project, provinces):
    """On a copy of the products (the processed tables are not what reports read)."""
    source = demo_project.processed
    copy = source.parent / f"products-{uuid.uuid4().hex[:8]}"
    out = demo_project.reports / copy.name
    shutil.copytree(source, copy, ignore=lambda folder, names: [
        n for n in names if Path(folder) == source and (source / n).is_dir() and n != "models"])
    try:
        plan = plan_reports(copy, provinces=provinces, **REQUEST)
        out.mkdir(parents=True)
        _stamp(plan, out)
        assert _stale(plan, out) == []
        for product in ("models/fits.json", "indicators.parquet"):   # a model fit below the folder, a product
            path = copy / product
            original = path.read_bytes()
            path.write_bytes(original + b" ")
            assert len(_stale(plan, out)) == 3, product
            path.write_bytes(original)
            assert _stale(plan, out) == [], product
        (copy / "members").mkdir()   # the processed tables are not read by reports
        (copy / "members" / "part-0.parquet").write_bytes(b"PAR1")
        assert _stale(plan, out) == []
    finally:
        shutil.rmtree(copy)
        shutil.rmtree(out, ignore_errors=True)


def test_the_package_fingerprint_covers_sources_words_and_style_sheets(tmp_path):
    pkg = tmp_path / "kkbm_analysis"
    shutil.copytree(PACKAGE, pkg, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    base = rcache.sources_sha256(pkg)
    assert base == rcache.package_fingerprint()["sources_sha256"]
    for resource in ("reports/css/print.css", "i18n/catalogue.yaml", "reports/markup.py"):
        path = pkg / resource
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        assert rcache.sources_sha256(pkg) != base, resource
        path.write_bytes(original)
    (pkg / "reports" / "__pycache__").mkdir()
    (pkg / "reports" / "__pycache__" / "markup.cpython-311.pyc").write_bytes(b"bytecode")
    (pkg / "reports" / "templates" / ".ipynb_checkpoints").mkdir()
    (pkg / "reports" / "templates" / ".ipynb_checkpoints" / "x.ipynb").write_text("{}")
    assert rcache.sources_sha256(pkg) == base


def test_kkbm_reports_with_nothing_to_do_loads_no_schema_cluster_or_pdf_library(demo_project, provinces):
    """A no-change ``kkbm reports`` reads keys and manifests only: the processed tables are checked (pandera's
    schemas) only when an analysis must run first, and neither Dask nor a PDF engine is loaded."""
    import subprocess
    import sys
    out = demo_project.reports / f"keys-{uuid.uuid4().hex[:8]}"
    out.mkdir(parents=True)
    _stamp(plan_reports(demo_project.processed, provinces=provinces[:1], periods=("2018",), langs=("en",),
                        national=False), out)
    argv = ["kkbm", "reports", str(demo_project.processed), "--province", provinces[0], "--period", "2018",
            "--lang", "en", "--no-national", "--no-progress", "--out", str(out)]
    probe = (f"import sys\nsys.argv = {argv!r}\nfrom kkbm_analysis.cli import main\n"
             "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "print('LOADED', sorted({m.split('.')[0] for m in sys.modules} & {'pandera', 'distributed', 'weasyprint'}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "KKBM_ROOT": str(demo_project.root)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "0 built, 1 up to date" in done.stdout, done.stdout[-1000:]
    assert done.stdout.rstrip().splitlines()[-1] == "LOADED []", done.stdout[-500:]
    shutil.rmtree(out)
