"""Batch reports (issue 4): parameter validation, the batch runner, incremental builds, failures,
self-contained HTML, PDF, and a real browser rendering the result.

The module builds one small synthetic project (demo data at scale 0.1, generated and ingested)
under a temporary ``KKBM_ROOT`` and one small batch on it, shared by the tests.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from kkbm_analysis.reports import ParameterError, build_reports, plan_reports, validate_parameters
from kkbm_analysis.reports import cache as rcache
from kkbm_analysis import i18n
from kkbm_analysis.reports.chromium import CHROMIUM_FLAGS, ChromiumPrinter, find_chromium
from kkbm_analysis.reports.planning import TEMPLATES_DIR
from kkbm_analysis.reports.runner import output_stem
from kkbm_analysis.recommendations import recommendations

TEMPLATES = TEMPLATES_DIR
CHROMIUM = find_chromium() or "chromium"  # browser tests are skipped when there is none (conftest)

pytestmark = pytest.mark.usefixtures("project")  # every test runs with KKBM_ROOT at the shared demo project


@pytest.fixture(scope="module")
def processed(demo_project) -> Path:
    return demo_project.processed


@pytest.fixture(scope="module")
def provinces(processed) -> list[str]:
    return sorted(pd.read_parquet(processed / "communities.parquet")["province_code"].astype(str).unique())


@pytest.fixture(scope="module")
def batch(demo_project, processed, provinces):
    """Two provinces x one language, plus the national brief, with PDF (the default engine), on one warm worker:
    the brief first, then the provinces in order, all in the same kernel."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KKBM_ROOT", str(demo_project.root))
        result = build_reports(processed, demo_project.reports / "batch", provinces=provinces[:2], langs=("en",),
                               jobs=1, progress=False, n_boot=50)
    return result


# =========================================================================== parameters
def test_unknown_province_lists_valid_ones(processed, provinces):
    with pytest.raises(ParameterError) as err:
        validate_parameters("province", province="99", period="2018", lang="id", data_dir=processed)
    message = str(err.value)
    assert "'99'" in message
    for code in provinces:
        assert code in message
    assert i18n.region_name(provinces[0]) in message


def test_unknown_period_lists_valid_years(processed):
    with pytest.raises(ParameterError) as err:
        validate_parameters("province", province="36", period="1999", lang="id", data_dir=processed)
    assert "1999" in str(err.value)
    for year in ("2017", "2018", "2019", "2020"):
        assert year in str(err.value)


def test_codes_and_years_must_be_strings(processed):
    with pytest.raises(ParameterError, match="string"):
        validate_parameters("province", province=36, period="2018", lang="id", data_dir=processed)
    with pytest.raises(ParameterError, match="string"):
        validate_parameters("national", period=2018, lang="id", data_dir=processed)
    with pytest.raises(ParameterError, match="lang"):
        validate_parameters("national", period="2018", lang="fr", data_dir=processed)


def test_valid_parameters_resolve_relative_paths(project, processed):
    p = validate_parameters("province", province="36", period="2018", lang="en",
                            data_dir="data/processed/demo", figure_dir="figures/banten")
    assert p.data_dir == processed.resolve()
    assert p.figure_dir == (project.figures / "banten").resolve()
    assert p.province_name == "Banten"


@pytest.mark.parametrize("path", ["/etc", "../../etc", "data/../../outside", "/tmp"])
def test_path_outside_the_project_is_rejected(path, processed):
    with pytest.raises(ParameterError, match="outside the project"):
        validate_parameters("national", period="2018", lang="en", data_dir=path)
    with pytest.raises(ParameterError, match="outside the project"):
        validate_parameters("national", period="2018", lang="en", data_dir=processed, figure_dir=path)


def test_symlink_out_of_the_project_is_rejected(project):
    link = project.root / "data" / "escape"
    outside = Path(tempfile.mkdtemp())
    link.symlink_to(outside, target_is_directory=True)
    try:
        with pytest.raises(ParameterError, match="outside the project"):
            validate_parameters("national", period="2018", lang="en", data_dir="data/escape")
    finally:
        link.unlink()


def test_batch_request_is_validated_before_anything_runs(processed, project):
    with pytest.raises(ParameterError, match="unknown province"):
        plan_reports(processed, provinces=["36", "99"])
    with pytest.raises(ParameterError, match="years in the data"):
        plan_reports(processed, periods=("2031",))
    with pytest.raises(ParameterError, match="strings"):
        plan_reports(processed, provinces=[36])
    with pytest.raises(ParameterError, match="outside the project"):
        build_reports(processed, "/tmp/kkbm-not-here", progress=False)
    assert not Path("/tmp/kkbm-not-here").exists()


def test_plan_names_outputs_from_parameters(processed):
    jobs = plan_reports(processed, provinces=["36"], langs=("id", "en"))
    stems = [j.stem for j in jobs]
    assert stems == ["brief-national-2018-id", "brief-national-2018-en", "province-36-banten-2018-id",
                     "province-36-banten-2018-en"]
    assert all(isinstance(j.parameters["province"], str) for j in jobs if j.template == "province")


# =========================================================================== recommendations
def _comparison(**national):
    rows = [
        {"region_code": "33", "coverage": 0.50, "no_follow_up": 10.0, "members_per_organiser": 80.0,
         "staff_members": 800.0, "organisers_fte": 10.0, "regeneration": 0.5, "kur_owner_uptake": 0.2,
         "villages": 7.0, "with_perdes": 7.0},
        {"region_code": "35", "coverage": 0.05, "no_follow_up": 120.0, "members_per_organiser": 200.0,
         "staff_members": 1000.0, "organisers_fte": 5.0, "regeneration": 0.1, "kur_owner_uptake": 0.05,
         "villages": 7.0, "with_perdes": 1.0},
        {"region_code": "ID", "coverage": 0.30, "no_follow_up": 130.0, "members_per_organiser": 100.0,
         "staff_members": 1800.0, "organisers_fte": 15.0, "regeneration": 0.3, "kur_owner_uptake": 0.15,
         "villages": 14.0, "with_perdes": 8.0, **national},
    ]
    return pd.DataFrame(rows)


def test_recommendations_name_the_largest_gaps_with_numbers():
    recs = recommendations(_comparison(), lang="en", period="2018")
    text = " ".join(recs)
    assert "Jawa Timur" in recs[0]                      # the worst gap comes first
    assert "Jawa Tengah" not in text.split("Perdes")[0]  # better than national: not named
    assert "Jawa Timur (5%)" in text and "national: 30%" in text
    assert "Jawa Timur (200); national: 100" in text and "about 5 more organisers" in text  # 1000/100 - 5
    assert "6 of 14 community villages" in text
    id_recs = recommendations(_comparison(), lang="id", period="2018")
    assert any("Jawa Timur (5%)" in r and "nasional: 30%" in r for r in id_recs)


def test_no_recommendation_without_a_gap():
    table = _comparison()
    table.loc[table["region_code"] == "35", ["coverage", "members_per_organiser", "regeneration",
                                             "kur_owner_uptake", "with_perdes"]] = [0.5, 80.0, 0.5, 0.2, 7.0]
    table.loc[table["region_code"] == "ID", ["coverage", "members_per_organiser", "regeneration",
                                             "kur_owner_uptake", "with_perdes"]] = [0.5, 80.0, 0.5, 0.2, 14.0]
    assert recommendations(table, lang="en", period="2018") == [i18n.text("report.rec_none", "en")]


# =========================================================================== caches
def test_load_data_is_cached_per_folder_and_content(processed):
    rcache.clear()
    a = rcache.load_data(processed)
    assert rcache.load_data(str(processed)) is a
    calls = []
    rcache.memo("test", a, lambda: calls.append(1) or 42)
    assert rcache.memo("test", a, lambda: calls.append(1) or 43) == 42
    assert calls == [1]


def test_build_key_changes_with_each_input(tmp_path):
    nb = tmp_path / "t.ipynb"
    nb.write_text("{}")
    base = rcache.build_key(nb, {"province": "36"}, {"data_version": "a"}, {"version": "1"})
    assert rcache.build_key(nb, {"province": "36"}, {"data_version": "a"}, {"version": "1"})["key"] == base["key"]
    assert rcache.build_key(nb, {"province": "35"}, {"data_version": "a"}, {"version": "1"})["key"] != base["key"]
    assert rcache.build_key(nb, {"province": "36"}, {"data_version": "b"}, {"version": "1"})["key"] != base["key"]
    assert rcache.build_key(nb, {"province": "36"}, {"data_version": "a"}, {"version": "2"})["key"] != base["key"]
    nb.write_text('{"cells": []}')
    assert rcache.build_key(nb, {"province": "36"}, {"data_version": "a"}, {"version": "1"})["key"] != base["key"]


# =========================================================================== the batch
@pytest.mark.slow
def test_small_batch_produces_html_pdf_and_index(batch, provinces):
    assert batch.ok, batch.summary()
    assert batch.exit_code == 0
    assert len(batch.built) == 3 and not batch.failed
    stems = {r.job.stem for r in batch.reports}
    assert stems == {"brief-national-2018-en", *(output_stem("province", "2018", "en", p) for p in provinces[:2])}
    index = (batch.out_dir / "index.html").read_text(encoding="utf-8")
    for r in batch.reports:
        assert r.html.exists() and r.html.stat().st_size > 50_000
        assert f'href="{r.job.stem}.html"' in index
        assert r.pdf is not None and r.pdf.read_bytes()[:5] == b"%PDF-", batch.pdf_note
        assert f'href="{r.job.stem}.pdf"' in index
    assert "SYNTHETIC DATA" in index


@pytest.mark.slow
def test_html_is_self_contained_with_code_hidden(batch):
    for r in batch.reports:
        html = r.html.read_text(encoding="utf-8")
        # no code: neither the template's calls nor input areas
        for code in ("from_parameters", "import kkbm_analysis", "report.key_figures()", "brief.comparison()"):
            assert code not in html
        assert "input_area" not in html and "jp-InputArea" not in html and "In&nbsp;[" not in html
        assert "Developer note" not in html          # cells tagged remove-cell are dropped
        # nothing fetched from the network: no scripts at all, no external link/src
        assert "<script" not in html.lower()
        assert not re.search(r"""<(link|img|iframe|source)[^>]+(href|src)=["']?(https?:)?//""", html, re.I)
        text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html).lower()
        assert "cdn" not in text and "mathjax" not in text and "require.js" not in text
        images = re.findall(r'<img[^>]+src="([^"]+)"', html)
        assert len(images) >= 2 and all(src.startswith("data:image/png;base64,") for src in images)
        assert "output_error" not in html and "Traceback" not in html
        assert 'id="kkbm-synthetic-banner"' in html


@pytest.mark.slow
def test_language_and_number_format_follow_the_parameter(project, processed, provinces):
    out = project.reports / "lang"
    result = build_reports(processed, out, provinces=provinces[:1], langs=("id",), jobs=1, national=False,
                           pdf=False, progress=False, n_boot=50)
    assert result.ok, result.summary()
    html = result.reports[0].html.read_text(encoding="utf-8")
    assert "Angka kunci" in html and "Key figures" not in html
    assert "Catatan data" in html and "Data notes" not in html
    assert re.search(r"\d+,\d%", html)            # decimal comma
    assert not re.search(r">\d+\.\d+%<", html)               # no English decimal points in percentages
    assert not re.search(r">[1-9]\d{0,2}(,\d{3})+<", html)    # no English thousands separators
    assert re.search(r">[1-9]\d{0,2}(\.\d{3})+<", html)       # Indonesian thousands separators


@pytest.mark.slow
def test_incremental_rerun_does_nothing(project, processed, provinces, batch):
    before = {r.job.stem: r.html.stat().st_mtime_ns for r in batch.reports}
    again = build_reports(processed, batch.out_dir, provinces=provinces[:2], langs=("en",), jobs=2,
                          progress=False, n_boot=50)
    assert again.ok
    assert [r.status for r in again.reports] == ["cached"] * 3
    assert again.built == [] and again.workers == 0
    assert {r.job.stem: r.html.stat().st_mtime_ns for r in again.reports} == before
    # a changed parameter is a different key: only that report is rebuilt
    changed = build_reports(processed, batch.out_dir, provinces=provinces[:1], langs=("en",), jobs=1,
                            national=False, progress=False, n_boot=60)
    assert [r.status for r in changed.reports] == ["built"]


def _failing_template(tmp: Path, province: str) -> Path:
    nb = nbformat.read(TEMPLATES / "report_province.ipynb", as_version=4)
    cell = nbformat.v4.new_code_cell(f'if province == "{province}":\n'
                                     f'    raise RuntimeError("deliberate failure for province " + province)')
    nb.cells.insert(4, cell)
    path = tmp / "report_province_failing.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_failing_report_is_summarised_and_leaves_no_complete_file(project, processed, provinces, tmp_path):
    bad, good = provinces[0], provinces[1]
    tdir = tmp_path / "templates"
    tdir.mkdir()
    _failing_template(tdir, bad)
    out = project.reports / "failing"
    out.mkdir()
    stem = output_stem("province", "2018", "en", bad)
    (out / f"{stem}.html").write_text("<html>an old, complete-looking report</html>")
    result = build_reports(processed, out, provinces=[bad, good], langs=("en",), jobs=2, national=False,
                           pdf=False, templates_dir=tdir, templates={"province": "report_province_failing.ipynb"},
                           progress=False, n_boot=50)
    assert result.exit_code == 1 and not result.ok
    assert [r.job.stem for r in result.failed] == [stem]
    assert [r.job.province for r in result.built] == [good]       # continue_on_error: the other one is built
    err = result.failed[0].error
    assert err.cell_index == 5          # template cell 4, after papermill's injected-parameters cell
    assert err.ename == "RuntimeError" and f"deliberate failure for province {bad}" in err.evalue
    summary = result.summary()
    assert stem in summary and "cell 5" in summary and "RuntimeError" in summary
    assert not (out / f"{stem}.html").exists() and not (out / f"{stem}.pdf").exists()
    assert not (out / ".cache" / f"{stem}.json").exists()
    log = (out / f"{stem}.failed.log").read_text()
    assert "cell index: 5" in log and "RuntimeError" in log
    assert (out / f"{stem}.failed.ipynb").exists()
    assert "failed" in (out / "index.html").read_text(encoding="utf-8")
    assert not list(out.glob(".*.tmp")) and not list(out.glob("*.tmp"))


@pytest.mark.slow
def test_stop_at_first_failure(project, processed, provinces, tmp_path):
    tdir = tmp_path / "templates"
    tdir.mkdir()
    _failing_template(tdir, provinces[0])
    result = build_reports(processed, project.reports / "stop", provinces=provinces[:3], langs=("en",), jobs=1,
                           national=False, pdf=False, templates_dir=tdir, continue_on_error=False,
                           templates={"province": "report_province_failing.ipynb"}, progress=False, n_boot=50)
    assert [r.status for r in result.reports] == ["failed", "not run", "not run"]
    assert result.exit_code == 1


# =========================================================================== a real browser
def _chromium(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp(prefix="kkbm-test-chromium-")
    try:
        return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.browser
def test_report_renders_in_headless_chromium(batch, tmp_path):
    report = next(r for r in batch.reports if r.job.template == "province")
    url = report.html.resolve().as_uri()
    # 1. the DOM after load: banner, key figures, embedded images, no error output
    dom = _chromium("--dump-dom", "--virtual-time-budget=5000", url).stdout
    assert 'id="kkbm-synthetic-banner"' in dom and "SYNTHETIC DATA" in dom
    figures = re.findall(r'class="kkbm-card-value">([^<]+)<', dom)
    assert len(figures) >= 6 and any(re.search(r"\d", v) for v in figures)
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', dom)) >= 3
    assert "output_error" not in dom and "Traceback" not in dom
    # 2. the images actually decoded (DevTools: every <img> complete with a real width)
    with ChromiumPrinter(CHROMIUM) as browser:
        browser.load(report.html)
        state = browser.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
        title = browser.evaluate("document.querySelector('h1').textContent")
    assert len(state) >= 3 and all(done and width > 100 for done, width in state)
    assert "KKBM" in title
    # 3. a screenshot that is not blank
    shot = tmp_path / "report.png"
    _chromium(f"--screenshot={shot}", "--window-size=1200,2400", "--hide-scrollbars", url)
    from PIL import Image
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert pixels.shape[0] >= 2000 and pixels.std() > 20
    assert len(np.unique(pixels.reshape(-1, 3)[::97], axis=0)) > 50
    # the red banner is on screen near the top
    top = pixels[:400]
    assert ((top[..., 0] > 150) & (top[..., 1] < 60) & (top[..., 2] < 80)).sum() > 500


HEADINGS = [i18n.text(f"report.{k}", "en") for k in ("key_figures", "indicators", "mentoring", "staffing",
                                                       "other_barriers", "models", "map", "data_notes",
                                                       "comparison", "recommendations")]


@pytest.mark.slow
@pytest.mark.parametrize("template", ["province", "national"])
def test_pdf_pages_have_text_banner_and_no_stranded_heading(batch, template):
    """The default engine (WeasyPrint) prints every page with the synthetic-data header and page numbers; no
    page ends with a section heading, and the last page is not left with a line or two."""
    from pypdf import PdfReader
    report = next(r for r in batch.reports if r.job.template == template)
    assert report.pdf is not None and report.pdf.read_bytes()[:5] == b"%PDF-", batch.pdf_note
    pages = PdfReader(report.pdf).pages
    assert len(pages) >= 3
    texts = [page.extract_text() for page in pages]
    assert report.job.title.split(" (")[0] in texts[0] and "SYNTHETIC DATA" in texts[0]
    for number, text in enumerate(texts, start=1):
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        assert "SYNTHETIC DATA / DATA SINTETIS" in lines and f"{number} / {len(pages)}" in text
        content = [ln for ln in lines if ln != "SYNTHETIC DATA / DATA SINTETIS" and report.job.title not in ln]
        assert content and content[-1] not in HEADINGS, f"page {number} ends with the heading {content[-1]!r}"
    assert len(texts[-1]) > 400, "the last page holds almost nothing"


def test_recommendation_policy_is_data_before_words():
    """The policy (which provinces lag on what, by how much) is a record; the sentence is written from it."""
    from kkbm_analysis.recommendations import recommend, recommendation_text
    recs = recommend(_comparison())
    assert recs[0].measure == "members_per_organiser" and recs[0].provinces == (("35", 200.0),)  # gap 100 %
    assert all(a.priority >= b.priority for a, b in zip(recs, recs[1:]))
    staffing = next(r for r in recs if r.measure == "members_per_organiser")
    assert staffing.details["needed"] == 5 and staffing.national == 100
    assert recommendation_text(staffing, "en", "2018").startswith("Recruit more COs/penggerak")


@pytest.mark.slow
@pytest.mark.browser
def test_chromium_is_an_optional_pdf_engine(batch, tmp_path):
    from pypdf import PdfReader

    from kkbm_analysis.reports.pdf import open_pdf_engine
    report = next(r for r in batch.reports if r.job.template == "province")
    with open_pdf_engine("chromium") as engine:
        out = engine.print_pdf(report.html, tmp_path / "chromium.pdf", header="SYNTHETIC DATA / DATA SINTETIS",
                               footer=report.job.title)
    pages = PdfReader(out).pages
    assert len(pages) >= 3 and "SYNTHETIC DATA" in pages[0].extract_text()


def test_unknown_pdf_engine_is_refused_before_anything_runs(processed):
    with pytest.raises(ParameterError, match="PDF engine"):
        build_reports(processed, progress=False, pdf_engine="wkhtml")


@pytest.mark.slow
def test_a_report_reads_the_same_on_a_fresh_kernel(batch, demo_project):
    """Results do not depend on module caches surviving between notebooks: the province report the batch built
    last on its warm kernel (after the brief and another province filled the caches) equals the same template run
    alone on a fresh kernel by plain papermill. (Other tests rebuild only the first province.)"""
    import papermill as pm

    from kkbm_analysis.reports.export import notebook_to_html
    from kkbm_analysis.reports.kernel import KERNEL_NAME
    report = [r for r in batch.reports if r.job.template == "province"][-1]  # the last notebook of the warm worker
    nb = pm.execute_notebook(str(report.job.notebook), None, parameters=report.job.parameters,
                             kernel_name=KERNEL_NAME, progress_bar=False, cwd=str(demo_project.root),
                             start_timeout=600)
    fresh = notebook_to_html(nb, title=report.job.title, lang=report.job.lang)

    def body(html: str) -> str:
        html = re.sub(r'id="cell-id=[0-9a-f-]+"', "", html)           # papermill's random id of its injected cell
        return re.sub(r'<div class="kkbm-footer">.*?</div>', "", html, flags=re.S)
    assert body(fresh) == body(report.html.read_text(encoding="utf-8"))
