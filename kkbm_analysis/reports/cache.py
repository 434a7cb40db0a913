"""Caches of the report machinery: the analysis products in memory, build keys on disk.

In memory (per process)
    :func:`load_products` keeps one :class:`~kkbm_analysis.products.Products` per processed
    folder and products manifest: a batch worker reuses one kernel for many notebooks, so
    the products are read once per worker. Reports compute nothing (``kkbm analyse`` did),
    so there is nothing else to keep. A rewritten ``products.json`` is a new key, so stale
    products are never served. :func:`load_data` keeps one
    :class:`~kkbm_analysis.data.ProgramData` per processed folder for exploratory notebooks.

On disk (per output)
    :func:`build_key` hashes what decides a report: the template file, its parameters,
    the package (version, sources and resources: words, style sheets) and the input data
    (manifest ``data_version`` plus the SHA-256 of every file at the top of the processed
    folder; ``products.json`` among them holds the SHA-256 of every product, the model fits'
    included). The batch runner stores the key beside the outputs and skips a report whose
    key is unchanged.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from ..io import sha256 as file_sha256
from ..manifest import MANIFEST as DATA_MANIFEST
from ..manifest import read_manifest
from ..products.layout import MODELS_DIR

__all__ = ["load_products", "load_data", "clear", "data_fingerprint", "package_fingerprint", "sources_sha256",
           "build_key", "file_sha256"]

_LOCK = threading.RLock()
_DATA: "OrderedDict[tuple, Any]" = OrderedDict()
_PRODUCTS: "OrderedDict[tuple, Any]" = OrderedDict()
#: Processed folders kept in memory at once (national data take ~2 GB each; products a few MB).
MAX_DATASETS = 2
MAX_PRODUCTS = 4


def load_products(processed_dir: str | os.PathLike) -> Any:
    """:meth:`Products.open` once per folder and products manifest (cached in this process).

    Raises
    ------
    kkbm_analysis.products.ProductsMissing
        The folder has no analysis products (the message says to run ``kkbm analyse``).
    """
    from ..products import MANIFEST as PRODUCTS_MANIFEST
    from ..products import Products
    folder = Path(processed_dir).resolve()
    path = folder / PRODUCTS_MANIFEST
    stamp = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    key = (str(folder), stamp)
    with _LOCK:
        if key in _PRODUCTS:
            _PRODUCTS.move_to_end(key)
            return _PRODUCTS[key]
        products = Products.open(folder)
        for old in [k for k in _PRODUCTS if k[0] == str(folder)]:
            _PRODUCTS.pop(old, None)
        _PRODUCTS[key] = products
        while len(_PRODUCTS) > MAX_PRODUCTS:
            _PRODUCTS.popitem(last=False)
        return products


def _manifest_stamp(folder: Path) -> tuple:
    """What identifies a processed folder's content cheaply: manifest bytes + file sizes/mtimes."""
    manifest = folder / DATA_MANIFEST
    raw = manifest.read_bytes() if manifest.exists() else b""
    files = tuple(sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                         for p in folder.rglob("*.parquet")))  # tables partitioned by province too
    return hashlib.sha256(raw).hexdigest(), files


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


def clear() -> None:
    """Forget every cached dataset and products of this process."""
    with _LOCK:
        _DATA.clear()
        _PRODUCTS.clear()


# --------------------------------------------------------------------------- build keys
def data_fingerprint(processed_dir: str | os.PathLike, *, memo_file: str | os.PathLike | None = None) -> dict:
    """The input data's identity: manifest ``data_version`` and the SHA-256 of every file the reports
    read: the files at the top of the folder (manifests and products) and the model fits below it.
    The processed tables (folders partitioned by province) are left out: reports read only what
    ``kkbm analyse`` made of them.

    Hashes are remembered in ``memo_file`` (JSON) by file size and modification time, so an
    unchanged folder is fingerprinted without reading it again.
    """
    folder = Path(processed_dir).resolve()
    manifest = read_manifest(folder) or {}
    known: dict = {}
    if memo_file and Path(memo_file).exists():
        try:
            known = json.loads(Path(memo_file).read_text())
        except (OSError, ValueError):
            known = {}
    hashes, fresh = {}, {}
    models = folder / MODELS_DIR
    for p in [*sorted(folder.iterdir()), *(sorted(models.iterdir()) if models.is_dir() else [])]:
        if not p.is_file() or p.name.startswith("."):
            continue
        st = p.stat()
        stamp = f"{p}:{st.st_size}:{st.st_mtime_ns}"
        digest = known.get(stamp) or file_sha256(p)
        fresh[stamp] = digest
        hashes[p.relative_to(folder).as_posix()] = digest
    if memo_file and fresh != known:
        from ..io import write_json
        write_json(fresh, memo_file)
    total = hashlib.sha256(json.dumps(hashes, sort_keys=True).encode()).hexdigest()
    return {"data_version": str(manifest.get("data_version", "unknown")), "synthetic": bool(manifest.get("synthetic")),
            "files_sha256": total}


_PACKAGE_FP: dict[str, str] = {}


def package_fingerprint() -> dict:
    """The package's version and a hash of its files (:func:`sources_sha256`), once per process."""
    from ..config import package_version
    if not _PACKAGE_FP:
        _PACKAGE_FP["version"] = package_version()
        _PACKAGE_FP["sources_sha256"] = sources_sha256(Path(__file__).resolve().parent.parent)
    return dict(_PACKAGE_FP)


def sources_sha256(package_dir: str | os.PathLike) -> str:
    """One hash of a package's files, names and bytes: sources and every resource (word catalogue,
    style sheets, templates), so that changing any of them rebuilds the reports. Bytecode and hidden
    files (``.ipynb_checkpoints``) are left out."""
    pkg = Path(package_dir)
    h = hashlib.sha256()
    for p in sorted(pkg.rglob("*")):
        parts = p.relative_to(pkg).parts
        if (p.is_file() and p.suffix not in (".pyc", ".pyo") and "__pycache__" not in parts
                and not any(part.startswith(".") for part in parts)):
            h.update(p.relative_to(pkg).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def build_key(template_path: str | os.PathLike, parameters: dict, data: dict, package: dict,
              extra: dict | None = None, *, template_sha256: str | None = None) -> dict:
    """The cache record of one report: its parts and their combined hash (``key``).

    ``template_sha256``: the template file's SHA-256 when the caller has it already (a batch hashes
    each template once, not once per report).
    """
    parts = {"template_sha256": template_sha256 or file_sha256(template_path), "parameters": parameters,
             "data": data, "package": package, **(extra or {})}
    key = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    return {"key": key, **parts}
