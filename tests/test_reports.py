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

import numpy as np
import pandas as pd
import pytest

from kkbm_analysis.reports import ParameterError, build_reports, plan_reports, validate_parameters
from kkbm_analysis.reports import cache as rcache
from kkbm_analysis import i18n
from kkbm_analysis.reports.chromium import CHROMIUM_FLAGS, ChromiumPrinter, find_chromium
from kkbm_analysis.reports.planning import TEMPLATES_DIR
from kkbm_analysis.reports.runner import output_stem

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
        result = build_reports(processed, demo_project.reports / "batch", provinces=provinces[:2], periods=("2018",), langs=("en",),
                               jobs=1, progress=False, n_boot=50)
    return result


@pytest.fixture(scope="module")
def one_worker(demo_project):
    """One local worker kept for the module's other batches (each batch still starts a kernel of its own there).

    Starting a cluster costs about 10 CPU-s (a scheduler and a worker process importing Dask), four times over
    here. ``batch`` runs on the local cluster ``build_reports`` starts itself, the user's path, as do the tests of
    ``test_report_cluster.py``.
    """
    from kkbm_analysis.cluster import batch_client
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KKBM_ROOT", str(demo_project.root))
        with batch_client(n_workers=1) as (client, _):
            yield client


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
    with pytest.raises(ParameterError, match="periods in the data"):
        plan_reports(processed, periods=("2031",))
    with pytest.raises(ParameterError, match="strings"):
        plan_reports(processed, provinces=[36])
    with pytest.raises(ParameterError, match="outside the project"):
        build_reports(processed, "/tmp/kkbm-not-here", progress=False)
    assert not Path("/tmp/kkbm-not-here").exists()


def test_plan_names_outputs_from_parameters(processed):
    jobs = plan_reports(processed, provinces=["36"], periods=("2018",), langs=("id", "en"))
    stems = [j.stem for j in jobs]
    assert stems == ["brief-national-2018-id", "brief-national-2018-en", "province-36-banten-2018-id",
                     "province-36-banten-2018-en"]
    assert all(isinstance(j.parameters["province"], str) for j in jobs if j.template == "province")


def test_by_default_every_year_and_the_whole_span_are_built(processed):
    from kkbm_analysis.products import Products
    years = Products.open(processed).years
    jobs = plan_reports(processed, provinces=["36"], langs=("en",))
    assert [j.period for j in jobs if j.template == "national"] == [*years, "all"]
    assert "brief-national-all-en" in {j.stem for j in jobs}


# =========================================================================== recommendations
# =========================================================================== caches
def test_products_are_opened_once_per_folder_and_manifest(project, processed):
    rcache.clear()
    a = rcache.load_products(processed)
    assert rcache.load_products(str(processed)) is a
    assert a.years == ["2017", "2018", "2019", "2020"] and a.provinces
    bare = project.root / "data" / "processed" / "not-analysed"
    shutil.copytree(processed, bare, ignore=shutil.ignore_patterns("products.json", "models"))
    try:
        with pytest.raises(ParameterError, match="kkbm analyse"):   # a folder never analysed: a plain message
            validate_parameters("national", period="2018", lang="en", data_dir=bare)
    finally:
        shutil.rmtree(bare)


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
def test_language_and_number_format_follow_the_parameter(project, processed, provinces, one_worker):
    out = project.reports / "lang"
    result = build_reports(processed, out, provinces=provinces[:1], periods=("2018",), langs=("id",), scheduler=one_worker,
                           national=False, pdf=False, progress=False, n_boot=50)
    assert result.ok, result.summary()
    html = result.reports[0].html.read_text(encoding="utf-8")
    assert "Angka kunci" in html and "Key figures" not in html
    assert "Metode" in html and "Kolofon" in html and "Methods" not in html and "Colophon" not in html
    assert re.search(r"\d+,\d%", html)            # decimal comma
    assert not re.search(r">\d+\.\d+%<", html)               # no English decimal points in percentages
    assert not re.search(r">[1-9]\d{0,2}(,\d{3})+<", html)    # no English thousands separators
    assert re.search(r">[1-9]\d{0,2}(\.\d{3})+<", html)       # Indonesian thousands separators


@pytest.mark.slow
def test_incremental_rerun_does_nothing(project, processed, provinces, batch, one_worker):
    before = {r.job.stem: r.html.stat().st_mtime_ns for r in batch.reports}
    again = build_reports(processed, batch.out_dir, provinces=provinces[:2], periods=("2018",), langs=("en",), jobs=2,
                          progress=False, n_boot=50)
    assert again.ok
    assert [r.status for r in again.reports] == ["cached"] * 3
    assert again.built == [] and again.workers == 0
    assert {r.job.stem: r.html.stat().st_mtime_ns for r in again.reports} == before
    # a changed parameter is a different key: only that report is rebuilt
    changed = build_reports(processed, batch.out_dir, provinces=provinces[:1], periods=("2018",), langs=("en",),
                            scheduler=one_worker, national=False, progress=False, n_boot=60)
    assert [r.status for r in changed.reports] == ["built"]


def _failing_template(tmp: Path, province: str) -> Path:
    import nbformat   # here: nbformat's import builds jsonschema's URI parser (about 1.5 CPU-s)
    nb = nbformat.read(TEMPLATES / "report_province.ipynb", as_version=4)
    cell = nbformat.v4.new_code_cell(f'if province == "{province}":\n'
                                     f'    raise RuntimeError("deliberate failure for province " + province)')
    nb.cells.insert(4, cell)
    path = tmp / "report_province_failing.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_failing_report_is_summarised_and_leaves_no_complete_file(project, processed, provinces, tmp_path, one_worker):
    bad, good = provinces[0], provinces[1]
    tdir = tmp_path / "templates"
    tdir.mkdir()
    _failing_template(tdir, bad)
    out = project.reports / "failing"
    out.mkdir()
    stem = output_stem("province", "2018", "en", bad)
    (out / f"{stem}.html").write_text("<html>an old, complete-looking report</html>")
    result = build_reports(processed, out, provinces=[bad, good], periods=("2018",), langs=("en",), scheduler=one_worker,
                           national=False, pdf=False, templates_dir=tdir, templates={"province": "report_province_failing.ipynb"},
                           progress=False, n_boot=50)
    assert result.exit_code == 1 and not result.ok
    assert [r.job.stem for r in result.failed] == [stem]
    assert [r.job.province for r in result.built] == [good]       # continue_on_error: the next one is built (same kernel)
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
def test_stop_at_first_failure(project, processed, provinces, tmp_path, one_worker):
    tdir = tmp_path / "templates"
    tdir.mkdir()
    _failing_template(tdir, provinces[0])
    result = build_reports(processed, project.reports / "stop", provinces=provinces[:3], periods=("2018",), langs=("en",),
                           scheduler=one_worker, national=False, pdf=False, templates_dir=tdir, continue_on_error=False,
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
                                                       "other_barriers", "models", "map", "comparison",
                                                       "recommendations")] + \
    [i18n.text(f"narrative.{k}", "en") for k in ("key_messages", "findings", "trend", "methods", "limitations",
                                                 "quality", "colophon")]


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


def test_the_same_notebook_gives_the_same_page_whatever_id_papermill_drew():
    """Papermill gives its injected-parameters cell a random id, which nbconvert writes into the page."""
    import nbformat

    from kkbm_analysis.reports.export import notebook_to_html

    def executed(cell_id: str):
        injected = nbformat.v4.new_code_cell('province = "36"', id=cell_id)
        injected.metadata["tags"] = ["injected-parameters"]
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Laporan", id="intro"), injected])
    pages = [notebook_to_html(executed(i), title="Laporan", lang="id") for i in ("c9432aae", "5e0f7b21")]
    assert pages[0] == pages[1] and "c9432aae" not in pages[0]


@pytest.mark.slow
def test_a_report_reads_the_same_on_a_fresh_kernel(batch, demo_project, execute_notebook):
    """Results do not depend on module caches surviving between notebooks: the province report the batch built
    last on its warm kernel (after the brief and another province filled the caches) equals the same template run
    alone on a fresh kernel by plain papermill. (Other tests rebuild only the first province.)"""
    from kkbm_analysis.reports.export import notebook_to_html
    from kkbm_analysis.reports.kernel import KERNEL_NAME
    report = [r for r in batch.reports if r.job.template == "province"][-1]  # the last notebook of the warm worker
    nb = execute_notebook(str(report.job.notebook), None, parameters=report.job.parameters,
                             kernel_name=KERNEL_NAME, progress_bar=False, cwd=str(demo_project.root),
                             start_timeout=600)
    fresh = notebook_to_html(nb, title=report.job.title, lang=report.job.lang)

    def body(html: str) -> str:
        return re.sub(r'<div class="kkbm-footer">.*?</div>', "", html, flags=re.S)
    assert 'id="cell-id=injected-parameters"' in fresh   # papermill's id for it is random
    assert body(fresh) == body(report.html.read_text(encoding="utf-8"))


# =========================================================================== one source of truth: the HTML scan
_TAGGED = re.compile(r'<span class="kkbm-cell" ([^>]*)>((?:<span class="kkbm-supp">[^<]*</span>)|[^<]*)</span>')
_ATTR = re.compile(r'(data-[a-z-]+)="([^"]*)"')
_PRODUCTS_OF = {"data-indicator": ("indicators", "resilience", "voices"), "data-barrier": ("barriers", "mentoring_points")}


def _tagged(html: str) -> list[tuple[dict, str]]:
    return [(dict(_ATTR.findall(m.group(1))), m.group(2)) for m in _TAGGED.finditer(html)]


@pytest.fixture(scope="module")
def published(processed):
    from kkbm_analysis.products import Products
    p = Products.open(processed)
    cells = {}
    for tag, names in _PRODUCTS_OF.items():
        parts = [p.cells(n, disaggregation=None) for n in names if p.has(n)]
        f = pd.concat(parts, ignore_index=True)
        cells[tag] = f.set_index(["measure_id", "region_code", "period", "disaggregation"])
    return p, cells


@pytest.mark.slow
def test_every_tagged_cell_is_a_published_cell(batch, published):
    products, cells = published
    for report in batch.reports:
        html = report.html.read_text(encoding="utf-8")
        tagged = _tagged(html)
        assert len(tagged) >= 40, f"{report.job.stem}: only {len(tagged)} tagged numbers"
        for attrs, shown in tagged:
            if "data-model" in attrs:
                fit = products.fit(attrs["data-model"])
                table = fit.table(attrs.get("data-table") or (
                    "marginal_effects" if attrs["data-statistic"] == "ame" else "estimates"))
                value = float(table.set_index("term").at[attrs["data-term"], attrs["data-statistic"]])
                assert float(attrs["data-value"]) == value
                continue
            tag = "data-indicator" if "data-indicator" in attrs else "data-barrier"
            key = (attrs[tag], attrs["data-region"], attrs["data-period"], attrs["data-disaggregation"])
            assert key in cells[tag].index, f"{report.job.stem}: {tag} {key} is no published cell"
            cell = cells[tag].loc[key]
            if attrs["data-value"] == "":
                assert bool(cell["suppressed"]) and "kkbm-supp" in shown, (report.job.stem, key)
            else:
                assert not bool(cell["suppressed"]), f"{report.job.stem}: withheld cell {key} shown as {shown}"
                assert float(attrs["data-value"]) == float(cell["value"]), (report.job.stem, key)


@pytest.mark.slow
def test_no_withheld_value_appears_next_to_its_label(batch, published, demo_data):
    """The unsuppressed numbers (recomputed here with the analysis layer) of every withheld cell of a report's
    region and period appear nowhere in the rows and sentences that carry the cell's label."""
    from kkbm_analysis.analyse import cells as cl
    from kkbm_analysis.analyse.shared import Shared
    from kkbm_analysis.reports.cells import cell_text
    products, cells = published
    shared = Shared(demo_data)
    raw = pd.concat([cl.indicator_cells(shared), cl.barrier_product_cells(shared), cl.point_cells(shared)],
                    ignore_index=True).set_index(["measure_id", "region_code", "period", "disaggregation"])
    checked = 0
    for report in batch.reports:
        html = report.html.read_text(encoding="utf-8")
        lang, period = report.job.lang, report.job.period
        region = report.job.province or "ID"
        blocks = re.findall(r"<tr[^>]*>.*?</tr>|<li>.*?</li>|<p[^>]*>.*?</p>", html, flags=re.S)
        for tag, frame in cells.items():
            withheld = frame.loc[frame["suppressed"].astype(bool)].reset_index()
            withheld = withheld.loc[(withheld["region_code"] == region) & (withheld["period"] == period)
                                    & (withheld["disaggregation"] == "all")]
            for _, cell in withheld.iterrows():
                key = (cell["measure_id"], region, period, "all")
                truth = raw.loc[key]
                if pd.isna(truth["value"]):
                    continue
                product = "indicators" if tag == "data-indicator" else (
                    "mentoring_points" if str(cell["measure_id"]).startswith("mentoring_") and ":" in
                    str(cell["measure_id"]) else "barriers")
                secret = cell_text(truth.to_dict() | {"measure_id": key[0]}, product, lang)
                label = str(cell["label_" + lang])
                for block in blocks:
                    if label not in block:
                        continue
                    others = "".join(m.group(0) for m in _TAGGED.finditer(block)
                                     if 'data-value=""' not in m.group(1))   # published numbers of other cells
                    rest = re.sub(r"<[^>]+>", " ", block.replace(others, "") if others else block)
                    assert secret not in rest, f"{report.job.stem}: withheld {key} ({secret}) shown beside '{label}'"
                    checked += 1
    assert checked >= 10  # the scan found withheld cells to check


@pytest.mark.slow
def test_no_badge_rests_on_a_small_cell(batch, published):
    """Every badge names the cell it judges; better/worse only on published cells outside the small-cell rule."""
    from kkbm_analysis.suppression import small_cells
    _, cells = published
    badge = re.compile(r'<span class="kkbm-badge [a-z_]+" ([^>]*)>')
    seen = {}
    for report in batch.reports:
        for m in badge.finditer(report.html.read_text(encoding="utf-8")):
            attrs = dict(_ATTR.findall(m.group(1)))
            tag = "data-barrier" if "data-barrier" in attrs else "data-indicator"  # resilience cells have verdicts
            key = (attrs[tag], attrs["data-region"], attrs["data-period"], attrs["data-disaggregation"])
            cell = cells[tag].loc[key]
            assert cell["verdict"] == attrs["data-verdict"], key
            if attrs["data-verdict"] in ("better", "worse"):
                assert not bool(cell["suppressed"]) and not small_cells(cell.to_frame().T).any(), key
            seen[attrs["data-verdict"]] = seen.get(attrs["data-verdict"], 0) + 1
    assert sum(seen.values()) >= 10 and seen.get("too_few", 0) >= 1, seen
