"""Every notebook (the exploratory ones in notebooks/ and the report templates, which are package data)
runs top to bottom through papermill on small demo data, and the committed notebooks carry no outputs; the
report templates have a typed, commented ``parameters`` cell and refuse bad parameters at once.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from kkbm_analysis.reports.planning import TEMPLATES_DIR

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
TEMPLATES = ["report_province.ipynb", "brief_national.ipynb"]
#: Every notebook by name: the exploratory ones (notebooks/) and the report templates (package data).
PATHS = {**{p.name: p for p in NOTEBOOKS.glob("*.ipynb")}, **{name: TEMPLATES_DIR / name for name in TEMPLATES}}
ALL = sorted(PATHS)
KERNEL = "kkbm-analysis"
# nbformat and papermill are imported by the tests that use them: importing nbformat builds jsonschema's URI parser
# (about 1.5 CPU-s), which the process that runs none of these tests need not pay at collection.


def test_the_expected_notebooks_exist():
    assert {"01_data_quality.ipynb", "02_indicators.ipynb", "03_barriers.ipynb", "04_models.ipynb",
            *TEMPLATES} <= set(ALL)
    assert not any((NOTEBOOKS / name).exists() for name in TEMPLATES)   # one copy: the package's
    readme = (NOTEBOOKS / "README.md").read_text(encoding="utf-8")
    for name in ALL:
        assert name in readme, f"{name} is not described in notebooks/README.md"


@pytest.mark.parametrize("name", ALL)
def test_committed_notebook_has_no_outputs(name):
    import nbformat
    nb = nbformat.read(PATHS[name], as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == KERNEL
    assert "papermill" not in nb.metadata
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: committed with outputs"
            assert cell.execution_count is None, f"{name}: committed with execution counts"
        assert "papermill" not in cell.metadata and "execution" not in cell.metadata


@pytest.mark.parametrize("name", ALL)
def test_notebook_has_a_parameters_cell(name):
    import nbformat
    import papermill as pm
    nb = nbformat.read(PATHS[name], as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    params = pm.inspect_notebook(str(PATHS[name]))
    assert "data_dir" in params
    for p in params.values():
        assert p["inferred_type_name"] not in ("None", ""), f"{name}: {p['name']} has no type hint"
        assert p["help"], f"{name}: {p['name']} has no comment"


def test_template_parameters():
    import papermill as pm
    prov = pm.inspect_notebook(str(PATHS["report_province.ipynb"]))
    assert {"province", "period", "lang", "data_dir", "show_models", "figure_dir"} <= set(prov)
    assert prov["province"]["inferred_type_name"] == "str" and prov["province"]["default"] == '"36"'
    assert prov["period"]["inferred_type_name"] == "str" and prov["period"]["default"] == '"2018"'
    assert prov["lang"]["default"] == '"id"'
    nat = pm.inspect_notebook(str(PATHS["brief_national.ipynb"]))
    assert {"period", "lang", "data_dir"} <= set(nat) and "province" not in nat


def test_templates_are_thin():
    """Templates hold parameters and calls; logic lives in kkbm_analysis.reports."""
    import nbformat
    for name in TEMPLATES:
        nb = nbformat.read(PATHS[name], as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
                lines = [ln for ln in cell.source.splitlines() if ln.strip() and not ln.strip().startswith("#")]
                assert len(lines) <= 5, f"{name}: a cell has {len(lines)} lines of code"
                assert "for " not in cell.source and "def " not in cell.source


def test_exploratory_notebooks_load_through_the_data_layer_and_show_the_banner():
    """Not through the report layer; the banner is the first code cell's last expression, so it displays."""
    import nbformat
    for name in sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(PATHS[name], as_version=4)
        code = [c.source for c in nb.cells if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", [])]
        assert not any("kkbm_analysis.reports" in src or "import reports" in src for src in code), name
        assert code[0].strip().splitlines()[-1].startswith("nbk.banner("), name


# =========================================================================== execution
def _errors(nb) -> list[str]:
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                found.append(f"cell {i}: {out.ename}: {out.evalue}")
            if out.output_type == "stream" and out.name == "stderr" and "Traceback" in out.text:
                found.append(f"cell {i}: traceback on stderr")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL)
def test_notebook_runs_top_to_bottom(name, project, tmp_path, execute_notebook):
    out = tmp_path / name
    nb = execute_notebook(str(PATHS[name]), str(out), kernel_name=KERNEL, progress_bar=False,
                             cwd=str(project.root), start_timeout=600, execution_timeout=None,
                             parameters={"data_dir": "data/processed/demo"})
    assert _errors(nb) == []
    assert all(c.execution_count is not None for c in nb.cells if c.cell_type == "code" and c.source.strip())
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)
    assert "SYNTHETIC" in html or "DATA SINTETIS" in html   # demo data are labelled on every output
    plain = [str(o.get("data", {}).get("text/plain", "")) + o.get("text", "") for c in nb.cells
             if c.cell_type == "code" for o in c.outputs]
    assert not any("<Figure size" in x for x in plain), "a figure printed as text instead of a picture"
    if name in TEMPLATES:
        assert 'id="kkbm-synthetic-banner"' in html
        images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
                  if "data:image/png;base64," in o.get("data", {}).get("text/html", "")]
        assert len(images) >= 2


@pytest.mark.slow
def test_template_refuses_an_unknown_province_at_once(project, tmp_path, execute_notebook):
    from papermill.exceptions import PapermillExecutionError
    with pytest.raises(PapermillExecutionError) as err:
        execute_notebook(str(PATHS["report_province.ipynb"]), str(tmp_path / "bad.ipynb"),
                            kernel_name=KERNEL, progress_bar=False, cwd=str(project.root), start_timeout=600,
                            parameters={"data_dir": "data/processed/demo", "province": "99", "lang": "en"})
    e = err.value
    assert e.ename == "ParameterError"
    assert "'99'" in e.evalue and "36 (Banten)" in e.evalue and "35 (Jawa Timur)" in e.evalue
    assert e.cell_index == 3   # the first code cell after the parameters and the injected parameters
    assert "from_parameters" in e.source


@pytest.mark.slow
def test_template_refuses_a_path_outside_the_project(project, tmp_path, execute_notebook):
    from papermill.exceptions import PapermillExecutionError
    with pytest.raises(PapermillExecutionError) as err:
        execute_notebook(str(PATHS["brief_national.ipynb"]), str(tmp_path / "bad.ipynb"),
                            kernel_name=KERNEL, progress_bar=False, cwd=str(project.root), start_timeout=600,
                            parameters={"data_dir": "/etc"})
    assert err.value.ename == "ParameterError" and "outside the project" in err.value.evalue
