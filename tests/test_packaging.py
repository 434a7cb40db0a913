"""environment.yml and pyproject.toml declare the same dependencies."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ;]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = meta["dependencies"] + [s for group in meta["optional-dependencies"].values() for s in group]
    return {_name(s): s.replace(" ", "") for s in specs}


def _environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs: list[str] = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            specs += [d for d in dep.get("pip", []) if not d.startswith("-")]
        elif _name(dep) not in ("python", "pip"):
            specs.append(dep)
    return {_name(s): s.replace(" ", "") for s in specs}


def test_same_dependency_names():
    py, env = _pyproject(), _environment()
    assert sorted(set(py) - set(env)) == [], "in pyproject.toml but not environment.yml"
    assert sorted(set(env) - set(py)) == [], "in environment.yml but not pyproject.toml"


def test_same_version_bounds():
    py, env = _pyproject(), _environment()
    differ = {n: (py[n], env[n]) for n in py if n in env and py[n] != env[n]}
    assert differ == {}


def test_environment_installs_this_package():
    pip = next(d for d in yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
               if isinstance(d, dict))["pip"]
    assert "-e .[test,bench]" in pip


def test_package_data_ships_every_resource():
    """Every non-Python file of the package (catalogue, style sheets, report templates, ...) is declared as
    package data, so an installed package outside a checkout has it."""
    from fnmatch import fnmatch
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["kkbm_analysis"]
    package = ROOT / "kkbm_analysis"
    resources = [p.relative_to(package).as_posix() for p in package.rglob("*")
                 if p.is_file() and p.suffix not in (".py", ".pyc")
                 and not any(part == "__pycache__" or part.startswith(".") for part in p.relative_to(package).parts)]
    assert resources, "the package should hold resources"
    assert [r for r in resources if not any(fnmatch(r, g) for g in globs)] == []
