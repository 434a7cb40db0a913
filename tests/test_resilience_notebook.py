"""Notebook 05 (resilience) is thin, committed without outputs, and runs top to bottom on demo data."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "05_resilience.ipynb"


def test_notebook_is_thin_and_has_no_outputs():
    import nbformat   # here, not at collection: its import builds jsonschema's URI parser (about 1.5 CPU-s)
    import papermill as pm
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "kkbm-analysis"
    params = pm.inspect_notebook(str(NOTEBOOK))
    assert {"data_dir", "province", "lang"} <= set(params)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [] and cell.execution_count is None
        code = [ln.split("#")[0] for ln in cell.source.splitlines() if ln.strip() and not ln.strip().startswith("#")]
        assert len(code) <= 9 and not any(("def " in ln or "for " in ln) for ln in code)
    assert "05_resilience.ipynb" in (REPO / "notebooks" / "README.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_notebook_runs_on_demo_data(project, tmp_path, execute_notebook):
    """On the shared demo project (conftest; KKBM_ROOT points at it), from the notebooks folder, in Indonesian."""
    nb = execute_notebook(str(NOTEBOOK), str(tmp_path / "05_out.ipynb"), kernel_name="kkbm-analysis",
                             progress_bar=False, cwd=str(NOTEBOOK.parent), start_timeout=600, execution_timeout=None,
                             parameters={"data_dir": "data/processed/demo", "province": "36", "lang": "id"})
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    text = "\n".join(str(o.get("data", {}).get("text/html", "")) + str(o.get("data", {}).get("text/plain", ""))
                     + str(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "SYNTHETIC" in text
    assert "Confirmatory factor analysis" in text and "Resilience Structure Matrix" in text
    assert "Invariance by sex" in text
    assert "Groups too small and left out" in text   # ~110 members per province at scale 0.1: some fall short
    assert "RCI" in text and "SK 95%" in text   # the Indonesian section sentence
