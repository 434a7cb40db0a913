#!/usr/bin/env python3
"""Set-up and entry points that need nothing but Python 3.11 and pip.

    python3 tasks.py demo     # main job on the embedded synthetic demo data
    python3 tasks.py test     # the whole test suite

Each command creates (or updates) the project's virtual environment in ``.venv``,
installs the package with its dependencies, registers the Jupyter kernel
``kkbm-analysis`` inside that environment, then runs. Extra arguments are passed on
(``python3 tasks.py test -k ingest``; ``python3 tasks.py demo --seed 7``).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
KERNEL_NAME = "kkbm-analysis"
STAMP = VENV / ".kkbm-install-stamp"


def _run(*args: str | Path) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT)


def _install_fingerprint() -> str:
    """Hash of what decides the installed set: the dependency declaration."""
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_env() -> None:
    """Create ``.venv``, install the package and register the kernel when needed."""
    if not PYTHON.exists():
        print(f"Creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    fingerprint = _install_fingerprint()
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    _run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[test]")
    # The kernel lives inside the venv (--sys-prefix), so papermill finds it there.
    _run(PYTHON, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL_NAME,
         "--display-name", "Python (kkbm-analysis)")
    STAMP.write_text(fingerprint)


def compile_package() -> None:
    """Byte-compile the package's sources, as pip does for a package it installs (this checkout is installed
    editable, so pip does not). The demo's and the suite's many processes (kernels, Dask workers, commands) then
    load the compiled modules instead of each compiling them again, as they do where ``PYTHONDONTWRITEBYTECODE``
    keeps Python from saving them (about 0.3 CPU-seconds a process). Up-to-date files are skipped."""
    subprocess.run([str(PYTHON), "-m", "compileall", "-q", "kkbm_analysis"], check=True, cwd=ROOT)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test"}:
        print(__doc__)
        return 2
    ensure_env()
    compile_package()
    command, rest = argv[0], argv[1:]
    if command == "demo":
        cmd = [BIN / "kkbm", "demo", *rest]
    else:
        cmd = [PYTHON, "-m", "pytest", *rest]
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, env=_environment(command)).returncode


def _environment(command: str) -> dict[str, str]:
    """The environment of the command: this one, except that the suite may save the test modules pytest has
    rewritten (``tests/__pycache__``, ignored by git), as pip's compiled modules and :func:`compile_package`'s
    are saved. Where ``PYTHONDONTWRITEBYTECODE`` is set, pytest otherwise rewrites the asserts of every test
    module again in each of its processes at every run (about 3 CPU-seconds a process); a saved module is read
    back even where that variable is set, and rewritten when its source changes."""
    env = dict(os.environ)
    if command == "test":
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
