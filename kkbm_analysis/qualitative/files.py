"""Which files of a voices folder are read, and why every other one is not.

Nothing under the raw folder goes unlisted: each file is read (a ``.qdpx`` project or a
coded-segments spreadsheet) or skipped with its reason (the tabular ingest's default
exclusions, metadata and notes, the mapping's ``exclude`` patterns, unsupported types,
symbolic links that leave the folder).
"""
from __future__ import annotations

import fnmatch
from pathlib import Path

from ..inventory import DEFAULT_EXCLUDES
from .mapping import VoicesMapping

QDPX_SUFFIXES = (".qdpx", ".qde")
SHEET_SUFFIXES = (".csv", ".tsv", ".xlsx", ".xlsm", ".xls", ".ods")

#: Files of a voices folder that are not coded data: (glob on the name, why), after the ingest's own.
NOT_DATA: tuple[tuple[str, str], ...] = (*DEFAULT_EXCLUDES, ("README*", "a read-me, not data"),
                                         ("*.md", "notes, not data"), ("*.json", "metadata, not data"),
                                         ("*.yaml", "a mapping or codebook file"), ("*.yml", "a mapping or codebook file"),
                                         ("_*", "the name starts with '_' (kept aside)"))


def discover(raw_dir: Path, rules: VoicesMapping) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files to read, and every other file with the reason it is not read (nothing goes unlisted)."""
    files, skipped = [], []
    root = raw_dir.resolve()
    for path in sorted(p for p in raw_dir.rglob("*") if p.is_file() or p.is_symlink()):
        rel = path.relative_to(raw_dir).as_posix()
        why = next((w for p, w in NOT_DATA if fnmatch.fnmatch(path.name, p)), None) \
            or next((f"excluded by the mapping ({p})" for p in rules.exclude
                     if fnmatch.fnmatch(path.name, p) or fnmatch.fnmatch(rel, p)), None)
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            skipped.append((path, "a symbolic link that leaves the raw folder: refused, not opened"))
        elif why:
            skipped.append((path, why))
        elif path.suffix.lower() in QDPX_SUFFIXES + SHEET_SUFFIXES:
            files.append(path)
        elif path.suffix.lower() == ".txt":
            skipped.append((path, "a plain transcript without codes; code it in a QDA tool and export a .qdpx"))
        else:
            skipped.append((path, f"unsupported file type {path.suffix or '(none)'}; read are .qdpx and "
                                  "coded-segments spreadsheets (.csv, .xlsx, .ods)"))
    return files, skipped
