"""The README's Python examples run as written, in order, on the demo project (registers, resilience
survey and voices), so the sections a newcomer copies from stay true after code moves."""
from __future__ import annotations

import contextlib
import io
import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_the_examples():
    code = "\n".join(_python_blocks())
    for call in ("ProgramData.load", "qual.Voices.load", "qual.joint_display", "rs.cfa", "rs.resilience_index"):
        assert call in code, call


@pytest.mark.slow
def test_readme_examples_run_on_the_demo_project(project, monkeypatch):
    monkeypatch.chdir(project.root)   # the examples use paths relative to the project root
    namespace: dict = {}
    out = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(out):
        warnings.simplefilter("ignore")
        for block in _python_blocks():
            exec(compile(block, str(README), "exec"), namespace)   # noqa: S102 - our own README
    assert namespace["data"].synthetic and namespace["voices"].synthetic
    assert "| Indikator |" in out.getvalue()            # the joint display in Indonesian
    assert 0 <= namespace["index"].scores["rci"].mean() <= 100
