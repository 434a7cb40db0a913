"""The ``kkbm`` command's surface: --version, --province by codes and names, help at 80 columns."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kkbm_analysis.cli_options import ProvinceError, resolve_provinces, spread_values
from kkbm_analysis.config import package_version

DATA_PROVINCES = ["18", "32", "33", "35", "36", "52", "53"]


def _kkbm(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The installed program in a process of its own (the other tests run it in this process: conftest ``kkbm``)."""
    return subprocess.run([sys.executable, "-m", "kkbm_analysis.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_version():
    done = _kkbm("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"kkbm-analysis {package_version()}"


def test_provinces_by_code_and_name_in_any_case():
    got = resolve_provinces(["35", "jawa TENGAH", "Banten,ntb", "Jawa-Timur", "JB", "jatim"], DATA_PROVINCES)
    assert got == ["35", "33", "36", "52", "32"]


def test_unknown_or_absent_province_lists_the_valid_ones():
    with pytest.raises(ProvinceError, match="no province is called 'Jawa Tmur'") as err:
        resolve_provinces(["Jawa Tmur"], DATA_PROVINCES)
    assert "35 Jawa Timur" in str(err.value) and "53 Nusa Tenggara Timur" in str(err.value)
    with pytest.raises(ProvinceError, match=r"Aceh \(11\) has no data"):
        resolve_provinces(["aceh"], DATA_PROVINCES)


def test_several_values_after_one_province_option(tmp_path):
    folder = tmp_path / "processed"
    folder.mkdir()
    argv = ["reports", "--province", "35", "36", "jawa barat", str(folder), "--lang", "en"]
    assert spread_values(argv) == ["reports", "--province", "35", "--province", "36", "--province", "jawa barat",
                                   str(folder), "--lang", "en"]
    assert spread_values(["ingest", "--province", "35", "36"]) == ["ingest", "--province", "35", "36"]
    assert spread_values(["reports", "--province", "35", "--no-pdf"]) == ["reports", "--province", "35", "--no-pdf"]


def test_cli_province_errors_are_plain_usage_errors(project, kkbm):
    done = kkbm("reports", str(project.processed), "--out", str(project.reports / "cli-provinces"), "--province",
                 "35", "Atlantis", "--no-pdf", "--no-progress")
    assert done.returncode == 2, done.stderr
    assert "no province is called 'Atlantis'" in done.stderr and "Traceback" not in done.stderr
    assert not (project.reports / "cli-provinces" / "index.html").exists()


def test_reports_paths_are_relative_to_the_working_folder(project, kkbm, monkeypatch):
    """As in every other command and shell: `cd data/processed && kkbm reports demo --out ../../reports/x`."""
    monkeypatch.chdir(project.processed.parent)
    done = kkbm("reports", "demo", "--out", "../../reports/cli-relative", "--province", "Atlantis", "--no-pdf",
                "--no-progress")
    assert done.returncode == 2, done.stderr
    assert "no province is called 'Atlantis'" in done.stderr      # the folder was found and checked first
    monkeypatch.chdir(project.root / "figures")
    done = kkbm("reports", "demo", "--no-pdf", "--no-progress")
    assert done.returncode == 2 and f"folder not found: {project.root / 'figures' / 'demo'}" in done.stderr


def test_reports_refuses_an_output_folder_outside_the_project_before_reading_data(project, kkbm, tmp_path):
    """A wrong --out is the first thing said, at once: no processed table is read and nothing is analysed."""
    elsewhere = tmp_path / "elsewhere"
    done = kkbm("reports", str(project.root / "data" / "no-such-folder-made"), "--out", str(elsewhere), "--no-pdf",
                "--no-progress")
    assert done.returncode == 2, done.stderr
    assert "out_dir" in done.stderr and "outside the project" in done.stderr and "Traceback" not in done.stderr
    assert not elsewhere.exists()


@pytest.mark.parametrize("command", [(), ("reports",), ("demo",), ("ingest",), ("analyse",), ("voices",)])
def test_help_reads_at_80_columns(command, kkbm):
    done = kkbm(*command, "--help", env={"COLUMNS": "80"})
    assert done.returncode == 0 and done.stdout.startswith("Usage: kkbm")
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert not any(line.strip().endswith("…") for line in lines)  # nothing cut off mid-word
    # the description's paragraphs are wrapped as wholes: only a paragraph's last line may stop short
    description = "\n".join(lines[1:next(i for i, line in enumerate(lines) if line.endswith(":"))])
    for paragraph in [p.splitlines() for p in description.strip("\n").split("\n\n")]:
        assert all(len(line) > 55 for line in paragraph[:-1]), paragraph
