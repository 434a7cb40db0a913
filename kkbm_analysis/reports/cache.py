"""Caches of the report machinery: data and analyses in memory, build keys on disk.

In memory (per process)
    :func:`load_data` keeps one :class:`~kkbm_analysis.data.ProgramData` per processed
    folder and data version, and :func:`memo` keeps the result of an analysis call per
    data and arguments. A batch worker reuses one kernel for many notebooks, so the data
    are read once per worker and, e.g., the barrier profiles of every province are computed
    once and serve every province report and language. A changed manifest (another data
    version, or a rewritten folder) is a new key, so stale results are never served.

On disk (per output)
    :func:`build_key` hashes what decides a report: the template file, its parameters,
    the package (version and source files) and the input data (manifest ``data_version``
    plus the SHA-256 of every processed file). The batch runner stores the key beside the
    outputs and skips a report whose key is unchanged.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable

__all__ = ["load_data", "data_key", "memo", "clear", "data_fingerprint", "package_fingerprint",
           "build_key", "file_sha256"]

_LOCK = threading.RLock()
_DATA: "OrderedDict[tuple, Any]" = OrderedDict()
_RESULTS: "OrderedDict[tuple, Any]" = OrderedDict()
#: Processed folders kept in memory at once (national data take ~2 GB each).
MAX_DATASETS = 2
MAX_RESULTS = 256


def _manifest_stamp(folder: Path) -> tuple:
    """What identifies a processed folder's content cheaply: manifest bytes + file sizes/mtimes."""
    manifest = folder / "manifest.json"
    raw = manifest.read_bytes() if manifest.exists() else b""
    files = tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.glob("*.parquet")))
    return hashlib.sha256(raw).hexdigest(), files


def data_key(data: Any) -> tuple:
    """The memo key of a loaded dataset (its folder and stamp, or its identity)."""
    key = getattr(data, "_kkbm_cache_key", None)
    return key if key is not None else ("object", id(data), getattr(data, "data_version", None))


def load_data(processed_dir: str | os.PathLike) -> Any:
    """:meth:`ProgramData.load` once per folder and content (cached in this process).

    Parameters
    ----------
    processed_dir : path
        A processed folder written by the ingest (or by :func:`kkbm_analysis.synth.program_data`
        plus its manifest).

    Returns
    -------
    ProgramData
        The same object for the same folder and content; a new one if the folder changed.
    """
    from ..data import ProgramData
    folder = Path(processed_dir).resolve()
    if not folder.is_dir():
        raise FileNotFoundError(f"processed data folder not found: {folder}")
    key = ("folder", str(folder), _manifest_stamp(folder))
    with _LOCK:
        if key in _DATA:
            _DATA.move_to_end(key)
            return _DATA[key]
        for old in [k for k in _DATA if k[1] == str(folder)]:  # the folder changed: drop its old version
            _forget(old)
        data = ProgramData.load(folder)
        data.__dict__["_kkbm_cache_key"] = key
        _DATA[key] = data
        while len(_DATA) > MAX_DATASETS:
            _forget(next(iter(_DATA)))
        return data


def _forget(key: tuple) -> None:
    _DATA.pop(key, None)
    for k in [k for k in _RESULTS if k[1] == key]:
        _RESULTS.pop(k, None)


def _view(value: Any) -> Any:
    """What a caller gets of a cached value: its own view of a DataFrame or Series.

    Under pandas' copy-on-write (the default from pandas 3) a shallow copy costs nothing and a caller that changes it
    (adds a column, sets a cell) changes only its own copy, never the cached value that the
    next report reads.
    """
    import pandas as pd
    return value.copy(deep=False) if isinstance(value, (pd.DataFrame, pd.Series)) else value


def memo(name: str, data: Any, fn: Callable[[], Any], *args: Any) -> Any:
    """``fn()`` computed once per (``name``, data, ``args``) in this process.

    The result depends on nothing but the data's content and the arguments, so a cache
    hit returns exactly what a fresh computation would (DataFrames and Series as the
    caller's own view, see :func:`_view`). Exceptions are cached too (and raised again), so
    an analysis that cannot run on these data is not retried for every report.
    """
    key = (name, data_key(data), args)
    with _LOCK:
        if key in _RESULTS:
            _RESULTS.move_to_end(key)
            ok, value = _RESULTS[key]
            if ok:
                return _view(value)
            raise value
    try:
        value = fn()
        entry = (True, value)
    except Exception as exc:  # noqa: BLE001 - re-raised below and on every later call
        entry = (False, exc)
    with _LOCK:
        _RESULTS[key] = entry
        while len(_RESULTS) > MAX_RESULTS:
            _RESULTS.popitem(last=False)
    if not entry[0]:
        raise entry[1]
    return _view(entry[1])


def clear() -> None:
    """Forget every cached dataset and result of this process."""
    with _LOCK:
        _DATA.clear()
        _RESULTS.clear()


# --------------------------------------------------------------------------- build keys
def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def data_fingerprint(processed_dir: str | os.PathLike, *, memo_file: str | os.PathLike | None = None) -> dict:
    """The input data's identity: manifest ``data_version`` and the SHA-256 of every file.

    Hashes are remembered in ``memo_file`` (JSON) by file size and modification time, so an
    unchanged folder is fingerprinted without reading it again.
    """
    folder = Path(processed_dir).resolve()
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    known: dict = {}
    if memo_file and Path(memo_file).exists():
        try:
            known = json.loads(Path(memo_file).read_text())
        except (OSError, ValueError):
            known = {}
    hashes, fresh = {}, {}
    for p in sorted(folder.iterdir()):
        if not p.is_file() or p.name.startswith("."):
            continue
        st = p.stat()
        stamp = f"{p}:{st.st_size}:{st.st_mtime_ns}"
        digest = known.get(stamp) or file_sha256(p)
        fresh[stamp] = digest
        hashes[p.name] = digest
    if memo_file and fresh != known:
        from ..io import write_json
        write_json(fresh, memo_file)
    total = hashlib.sha256(json.dumps(hashes, sort_keys=True).encode()).hexdigest()
    return {"data_version": str(manifest.get("data_version", "unknown")), "synthetic": bool(manifest.get("synthetic")),
            "files_sha256": total}


_PACKAGE_FP: dict[str, str] = {}


def package_fingerprint() -> dict:
    """The package's version and a hash of its source and resource files."""
    from .. import __version__
    if not _PACKAGE_FP:
        pkg = Path(__file__).resolve().parent.parent
        h = hashlib.sha256()
        for p in sorted(pkg.rglob("*")):
            if p.is_file() and p.suffix in (".py", ".yaml", ".json", ".csv") and "__pycache__" not in p.parts:
                h.update(p.relative_to(pkg).as_posix().encode())
                h.update(p.read_bytes())
        _PACKAGE_FP["version"] = __version__
        _PACKAGE_FP["sources_sha256"] = h.hexdigest()
    return dict(_PACKAGE_FP)


def build_key(template_path: str | os.PathLike, parameters: dict, data: dict, package: dict,
              extra: dict | None = None) -> dict:
    """The cache record of one report: its parts and their combined hash (``key``)."""
    parts = {"template_sha256": file_sha256(template_path), "parameters": parameters, "data": data,
             "package": package, **(extra or {})}
    key = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    return {"key": key, **parts}
