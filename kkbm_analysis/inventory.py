"""Every file under a raw folder, with its fate, before anything is read.

:func:`inventory` walks the raw folder (never following links out of it) and gives each
file and each unusable folder one fate:

``read``
    a data file the ingest reads;
``excluded``
    left out by a rule that is named (a default rule such as an Excel lock file or the
    demo's own metadata, or an ``exclude`` pattern of the mapping; ``include`` overrides
    the default rules);
``unsupported``
    not a kind of file the suite reads (``.json``, ``.zip``, no suffix, ...);
``refused``
    a symbolic link that leaves the raw folder (its target is never opened);
``unreadable``
    a folder that cannot be listed (a file that cannot be read is found when it is read).

:func:`is_embedded_demo` decides, from the files' contents, whether the folder is the
suite's own synthetic demo (the only data the public demo key may be used for).
"""
from __future__ import annotations

import fnmatch
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .io import sha256
from .mapping import DEFAULT_MAPPING_NAME, Mapping
from .readers import SUPPORTED_SUFFIXES, data_suffix
from .store import is_suite_output

#: Default rules: (glob on the file name, why it is left out).
DEFAULT_EXCLUDES: tuple[tuple[str, str], ...] = (
    ("~$*", "an Excel/Word lock file (the file is open somewhere)"),
    (".~lock.*", "a LibreOffice lock file"),
    (".*", "a hidden file (name starts with '.')"),
    ("Thumbs.db", "a Windows system file"),
    ("desktop.ini", "a Windows system file"),
    ("expected_quarantine.csv", "the synthetic demo's list of planted defects, not data"),
    ("expected_ingest_notes.csv", "the synthetic demo's list of the ingest notes it expects, not data"),
    ("expected_findings.csv", "the synthetic demo's list of expected ingest notes (its earlier name), not data"),
    ("ground_truth.json", "the synthetic demo's ground truth, not data"),
    ("SYNTHETIC.json", "the synthetic demo's marker, not data"),
)
DEMO_MARKER = "SYNTHETIC.json"
DEMO_GENERATOR_PREFIX = "kkbm_analysis.synth"


@dataclass(frozen=True)
class FileEntry:
    """One file (or folder) under the raw folder and its fate."""

    relpath: str
    path: Path
    fate: str
    reason: str = ""

    @property
    def read(self) -> bool:
        return self.fate == "read"


def inventory(raw_dir: Path, mapping: Mapping, mapping_file: Path | None = None) -> list[FileEntry]:
    """Every file under ``raw_dir`` with its fate, in a stable order (see module docstring)."""
    raw = raw_dir.resolve()
    mapping_file = (mapping_file or raw / DEFAULT_MAPPING_NAME).resolve()
    out: list[FileEntry] = []
    _walk(raw, raw, "", mapping, mapping_file, out)
    return sorted(out, key=lambda e: e.relpath)


def _walk(raw: Path, folder: Path, prefix: str, mapping: Mapping, mapping_file: Path,
          out: list[FileEntry]) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        out.append(FileEntry(prefix or "./", folder, "unreadable",
                             f"the folder cannot be listed ({exc.strerror or type(exc).__name__})"))
        return
    for entry in entries:
        rel = f"{prefix}{entry.name}"
        path = Path(entry.path)
        if entry.is_symlink():
            out.append(_link(raw, rel, path))
            continue
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError as exc:
            out.append(FileEntry(rel, path, "unreadable", f"cannot be examined ({exc.strerror})"))
            continue
        if stat.S_ISDIR(mode):
            if entry.name.startswith("."):
                out.append(FileEntry(rel + "/", path, "excluded", "a hidden folder (name starts with '.')"))
            elif is_suite_output(path):
                out.append(FileEntry(rel + "/", path, "excluded", "an output folder of kkbm ingest, not raw data"))
            elif mapping.excluded_by(rel + "/") or mapping.excluded_by(rel):
                out.append(FileEntry(rel + "/", path, "excluded", mapping.excluded_by(rel + "/")
                                     or mapping.excluded_by(rel) or ""))
            else:
                _walk(raw, path, rel + "/", mapping, mapping_file, out)
            continue
        if not stat.S_ISREG(mode):
            out.append(FileEntry(rel, path, "unsupported", "not a regular file (a device, pipe or socket)"))
            continue
        out.append(_file_fate(rel, path, mapping, mapping_file))


def _link(raw: Path, rel: str, path: Path) -> FileEntry:
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return FileEntry(rel, path, "refused", "a symbolic link whose target does not exist")
    if not target.is_relative_to(raw):
        return FileEntry(rel, path, "refused", "a symbolic link that leaves the raw folder (not followed)")
    inside = target.relative_to(raw).as_posix()
    return FileEntry(rel, path, "excluded", f"a symbolic link to '{inside}', which is read where it is")


def _file_fate(rel: str, path: Path, mapping: Mapping, mapping_file: Path) -> FileEntry:
    name = path.name
    if path.resolve() == mapping_file:
        return FileEntry(rel, path, "excluded", "the mapping file")
    by_mapping = mapping.excluded_by(rel)
    if by_mapping:
        return FileEntry(rel, path, "excluded", f"left out by the mapping: {by_mapping}")
    if not mapping.included(rel):
        for pattern, why in DEFAULT_EXCLUDES:
            if fnmatch.fnmatchcase(name, pattern):
                return FileEntry(rel, path, "excluded", f"{why} (default rule {pattern!r}; `include:` in the "
                                                        "mapping reads it anyway)")
    if data_suffix(name) is None:
        shown = Path(name).suffix.lower() or "no suffix"
        hint = "; unpack it into the raw folder" if shown in (".zip", ".rar", ".7z") else ""
        return FileEntry(rel, path, "unsupported",
                         f"not a file type kkbm reads ({shown}){hint}; it reads {', '.join(SUPPORTED_SUFFIXES)}")
    return FileEntry(rel, path, "read")


def is_embedded_demo(raw_dir: Path, entries: list[FileEntry], checksums: dict[str, str] | None = None) -> bool:
    """Whether the folder is exactly the suite's synthetic demo, proven by the files' contents.

    The demo's ``SYNTHETIC.json`` lists the SHA-256 of every data file it wrote. The folder
    is the demo only when that marker was written by :mod:`kkbm_analysis.synth`, every file
    read is listed with the same checksum, and no listed file is missing. A file name
    (``SYNTHETIC_*.csv``) or a copied marker proves nothing.
    """
    marker = raw_dir / DEMO_MARKER
    read = [e for e in entries if e.read]
    if not (raw_dir / DEMO_MARKER).is_file() or (raw_dir / DEMO_MARKER).is_symlink():
        return False
    try:
        stamp = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    listed = stamp.get("sha256") if isinstance(stamp, dict) else None
    if not isinstance(listed, dict) or not str(stamp.get("generator", "")).startswith(DEMO_GENERATOR_PREFIX):
        return False
    if not read or {e.relpath for e in read} != set(listed):
        return False
    sums = checksums or {}
    try:
        return all((sums.get(e.relpath) or sha256(e.path)) == listed[e.relpath] for e in read)
    except OSError:
        return False
