"""Paths and settings, all derived from one project root.

The root is the directory holding ``pyproject.toml`` when the package is used from a
checkout, or the current directory otherwise; ``KKBM_ROOT`` overrides it. Every other
path derives from it, so only the root differs between users (DIME convention).

Environment variables
---------------------
KKBM_ROOT
    Project root (default: the checkout, else the current directory).
KKBM_PSEUDONYM_KEY
    Secret key for member pseudonyms (HMAC-SHA256). Never commit it.
KKBM_PSEUDONYM_KEY_FILE
    File holding that key (default ``~/.config/kkbm/pseudonym.key``), outside the repo.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
RESOURCES_DIR = PACKAGE_DIR / "resources"

#: Programme years covered by the published KKBM aggregates (seeds 001, 002).
DEFAULT_YEARS: tuple[int, int] = (2017, 2018)
#: Default seed for the synthetic demo data.
DEFAULT_SEED = 20170
#: Small-cell thresholds for anything published (issue 3 uses them).
MIN_PUBLISHED_COUNT = 5
MIN_PUBLISHED_DENOMINATOR = 10


def package_version() -> str:
    """The installed package's version (``0+unknown`` outside an installation)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("kkbm-analysis")
    except PackageNotFoundError:  # pragma: no cover
        return "0+unknown"


def find_root() -> Path:
    """Return the project root (see module docstring)."""
    env = os.environ.get("KKBM_ROOT")
    if env:
        return Path(env).expanduser().resolve()
    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").exists():
        return checkout
    return Path.cwd().resolve()


@dataclass(frozen=True)
class Paths:
    """The project's folders, derived from its root."""

    root: Path

    @property
    def raw(self) -> Path:
        """Raw inputs: never modified by the suite."""
        return self.root / "data" / "raw"

    @property
    def processed(self) -> Path:
        """Validated, pseudonymised Parquet tables and the manifest."""
        return self.root / "data" / "processed"

    @property
    def figures(self) -> Path:
        return self.root / "figures"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def demo_raw(self) -> Path:
        """Where the demo writes its synthetic raw files."""
        return self.raw / "demo"

    def demo_processed(self) -> Path:
        return self.processed / "demo"

    def demo_voices_raw(self) -> Path:
        """Where the demo writes its synthetic coded interviews (apart from the tabular raw files)."""
        return self.raw / "demo-voices"

    def demo_voices_processed(self) -> Path:
        return self.processed / "demo-voices"


def paths(root: str | Path | None = None) -> Paths:
    """Project paths for ``root`` (default: :func:`find_root`)."""
    return Paths(Path(root).resolve() if root else find_root())
