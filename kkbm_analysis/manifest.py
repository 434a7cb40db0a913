"""The processed folder's manifest (``manifest.json``): its name, reading it, and the error for a folder
that cannot be used.

``kkbm ingest`` writes the manifest last; it marks the folder as an output of this suite and holds the
data's version. This module needs only the standard library, so that a command which only has to look
at a folder (``kkbm reports`` with nothing to rebuild) need not import pandas' schema machinery;
:mod:`kkbm_analysis.store`, which knows the rest of the folder, uses and re-exports it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["MANIFEST", "ProcessedDataError", "read_manifest"]

MANIFEST = "manifest.json"


class ProcessedDataError(Exception):
    """A processed folder cannot be used; the message says why in plain words.

    Attributes
    ----------
    exit_code : int
        2 when the folder is not a processed folder at all (a usage mistake), 1 when it
        is one but incomplete or damaged (a data problem).
    """

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def read_manifest(folder: str | Path) -> dict[str, Any] | None:
    """The folder's ``manifest.json`` as a dict, or None when there is none.

    Raises
    ------
    ProcessedDataError
        The manifest exists but is not readable JSON.
    """
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProcessedDataError(f"{path} cannot be read ({type(exc).__name__}); run `kkbm ingest` again") from None
    if not isinstance(manifest, dict):
        raise ProcessedDataError(f"{path} is not a manifest written by kkbm-analysis; run `kkbm ingest` again")
    return manifest
