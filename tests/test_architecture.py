"""The house rules that keep the code easy to carry on (docs/ARCHITECTURE.md): the layer contract, lint,
small modules, a docstring on every package."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kkbm_analysis"
BIN = Path(sys.executable).parent

#: Aim for modules under about 500 lines. Modules above it, with why; none may grow past its cap.
LARGE_MODULES: dict[str, tuple[int, str]] = {
    "readers.py": (860, "ingest area (issue 7 reworks it)"),
    "parsing.py": (870, "ingest area (issue 7): one parser per Indonesian cell format"),
    "regions.py": (830, "ingest area (issue 7): the region list, names and harmonisation"),
    "schema.py": (940, "18 table schemas declared once (declarations, not logic); the resilience table is generated from its item bank"),
    "ingest.py": (700, "ingest area (issue 7)"),
    "models/did.py": (530, "the DiD: two estimators, their shared inference and result (BJS linear algebra in _imputation)"),
    "suppression.py": (580, "primary and secondary suppression over every sum relation, one algorithm"),
    "indicators/engine.py": (540, "the aggregation engine and its two public entry points"),
}
SIZE_LIMIT = 500


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_layer_contract_is_kept():
    """lint-imports checks the contracts of pyproject.toml (layers point one way; viz knows no registry)."""
    result = _run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " 0 broken" in result.stdout.split("Contracts:")[-1]


def test_layer_contract_names_every_module_and_has_no_exceptions():
    """Each package and top-level module of kkbm_analysis sits in exactly one layer, and no contract ignores
    an import (an exception would hide a layer leaning the wrong way)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    contracts = config["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    named = [m.strip().removeprefix("kkbm_analysis.") for layer in layers for m in layer.split("|")]
    actual = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    actual |= {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert sorted(named) == sorted(set(named)), "a module is named in two layers"
    assert set(named) == actual, f"not in a layer: {sorted(actual - set(named))}; no such module: " \
                                 f"{sorted(set(named) - actual)}"
    assert not [c["name"] for c in contracts if c.get("ignore_imports")]


def test_lint_passes():
    """ruff check with the rules of pyproject.toml: a lint error fails the suite."""
    result = _run(sys.executable, "-m", "ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_lint_reads_every_module_and_test():
    """The exclusions of pyproject.toml (the project's data and output folders) leave no module unread: a bare
    "reports" there once left the whole ``kkbm_analysis/reports`` package unlinted."""
    listed = _run(sys.executable, "-m", "ruff", "check", "--no-cache", "--show-files", ".").stdout
    checked = {Path(line.strip()).resolve() for line in listed.splitlines() if line.strip().endswith(".py")}
    missing = [str(p.relative_to(ROOT)) for p in [*_modules(), *(ROOT / "tests").glob("*.py")] if p not in checked]
    assert not missing, missing


def test_notebooks_are_stripped():
    """nbstripout, as the pre-commit hook runs it, would change no committed notebook."""
    notebooks = sorted(str(p.relative_to(ROOT)) for p in [*ROOT.glob("notebooks/*.ipynb"),
                                                          *PACKAGE.glob("reports/templates/*.ipynb")])
    assert len(notebooks) >= 6
    result = _run(str(BIN / "nbstripout"), "--verify", "--keep-id", "--extra-keys",
                  "metadata.papermill cell.metadata.papermill cell.metadata.execution", *notebooks)
    assert result.returncode == 0, result.stdout + result.stderr


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_modules_stay_small():
    too_big = {}
    for path in _modules():
        name = path.relative_to(PACKAGE).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        cap = LARGE_MODULES.get(name, (SIZE_LIMIT, ""))[0]
        if lines > cap:
            too_big[name] = lines
    assert not too_big, f"split these modules along their seams (limit {SIZE_LIMIT} lines): {too_big}"


@pytest.mark.parametrize("package", sorted({p.parent.relative_to(PACKAGE).as_posix() for p in _modules()
                                            if p.name == "__init__.py"}))
def test_every_package_says_what_lives_there(package):
    init = PACKAGE / package / "__init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    assert doc and len(doc) > 80, f"{init.relative_to(ROOT)} needs a docstring saying what the package holds"


def test_every_module_has_a_docstring():
    missing = [p.relative_to(PACKAGE).as_posix() for p in _modules()
               if not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))]
    assert not missing


#: Libraries the package's top level and ``kkbm --help`` do without (each takes a noticeable part of a second).
HEAVY = ("pandas", "numpy", "pyarrow", "pandera", "scipy", "statsmodels", "matplotlib", "seaborn", "geopandas",
         "duckdb", "papermill", "distributed", "weasyprint")


def test_package_top_level_and_help_load_no_heavy_library():
    """``import kkbm_analysis`` and ``kkbm --help`` start fast: the top-level names are imported when first used."""
    probe = ("import sys\nsys.argv = ['kkbm', '--help']\nimport kkbm_analysis\nfrom kkbm_analysis.cli import main\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             f"print('LOADED', sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    result = _run(sys.executable, "-c", probe)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Usage: kkbm" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1] == "LOADED []", result.stdout[-500:]


def test_provinces_by_name_load_no_chart_library():
    """``kkbm reports --province jatim`` knows its provinces without matplotlib or seaborn (abbreviations and short
    names are region facts, read from the package's resources, not from the chart layer)."""
    probe = ("import sys\nfrom kkbm_analysis.cli_options import resolve_provinces\n"
             "assert resolve_provinces(['jatim', 'JB'], ['32', '35']) == ['35', '32']\n"
             "print('LOADED', sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib', 'seaborn', 'geopandas'}))")
    result = _run(sys.executable, "-c", probe)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.rstrip().splitlines()[-1] == "LOADED []", result.stdout[-500:]


def test_top_level_ingest_is_the_function_whatever_was_imported_first():
    """``kk.ingest`` stays the function after ``import kkbm_analysis.demo`` has imported the module of that name."""
    probe = ("import kkbm_analysis as kk\nimport kkbm_analysis.demo\nimport sys\n"
             "assert kk.ingest is sys.modules['kkbm_analysis.ingest'].ingest, kk.ingest\n"
             "from kkbm_analysis.ingest import IngestResult\nprint('OK')")
    result = _run(sys.executable, "-c", probe)
    assert result.returncode == 0 and result.stdout.strip() == "OK", result.stderr[-2000:]


def test_top_level_names_are_the_documented_objects():
    """Every name of ``kkbm_analysis.__all__`` resolves lazily to the object of its home module."""
    probe = ("import kkbm_analysis as kk\n"
             "names = [n for n in kk.__all__ if n != '__version__']\n"
             "got = {n: getattr(kk, n) for n in names}\n"
             "import sys\n"
             "homes = {'ProgramData': 'data', 'IngestResult': 'results', 'ingest': 'ingest', 'load_processed': 'store',\n"
             "         'TABLES': 'schema', 'codebook': 'schema', 'load_mentoring_points': 'schema'}\n"
             "assert sorted(homes) == sorted(names), names\n"
             "assert all(got[n] is getattr(sys.modules['kkbm_analysis.' + homes[n]], n) for n in names)\n"
             "assert kk.ingest is sys.modules['kkbm_analysis.ingest'].ingest and callable(kk.ingest)\n"
             "print('OK')")
    result = _run(sys.executable, "-c", probe)
    assert result.returncode == 0 and result.stdout.strip() == "OK", result.stderr[-2000:]
