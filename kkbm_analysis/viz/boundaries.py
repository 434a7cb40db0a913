"""Boundary files for maps: find, download, read, and match to the official code list.

The suite ships no boundary file and downloads nothing unless asked: without one, maps
are drawn on the built-in tile grid (:mod:`.tilegrid`). A user brings a file (GeoJSON,
Shapefile, GeoPackage, or TopoJSON through GDAL's TopoJSON driver), or downloads the
default public one::

    from kkbm_analysis.viz import boundaries
    path = boundaries.download_boundaries()          # once; verified, cached in data/raw/boundaries/
    bset = boundaries.load_boundaries(path)           # matched to Kemendagri codes
    print(bset.summary())                             # what matched, what was repaired, what not
    bset.report                                       # the same, one row per feature

This module reads and downloads; the matching is in :mod:`.boundary_matching` and its result,
:class:`BoundarySet`, in :mod:`.boundary_set`.

Which file a map uses (:func:`resolve_boundaries`): an explicit path, else the
``KKBM_BOUNDARIES`` environment variable, else the cached download in
``data/raw/boundaries/``, else none (tile grid).

Matching and repair
-------------------
Boundary files in the wild rarely agree with the official list (``regions.region_table``).
:func:`match_boundaries` finds the code and name columns by how many of their values are
official codes or names, then reads each feature:

* codes written as numbers (``11``, ``11.0``), without dots (``"3604"``) or with a country
  prefix (``"ID11"``) are rewritten (``"11"``, ``"36.04"``);
* names are compared after :func:`~kkbm_analysis.regions.normalise_name` (``"DKI Jakarta"``
  is Daerah Khusus Ibukota Jakarta, ``"Kep. Riau"`` Kepulauan Riau); a feature without a
  usable code is placed by its name when exactly one official region has it;
* a 2022 province filed under its parent's code (``KODE_PROV = 91`` named
  ``"Papua Tengah"``) is recoded to its own code (94) when the name says so;
* a code and a name that point to two different regions are not guessed: the feature is
  left unmatched and the report says why;
* several features of one region are merged into one shape;
* official regions with no feature are listed in ``missing``: an old 34-province file lacks
  93-96 (Papua Selatan, Papua Tengah, Papua Pegunungan, Papua Barat Daya), whose areas it
  draws under 91 Papua and 92 Papua Barat (see :meth:`BoundarySet.split_status`).

Credit
------
The default file is "Indonesia GeoJSON & TopoJSON Maps (38 Provinces)" by denyherianto,
CC BY 4.0: every map drawn from it must credit the source, which :func:`~.maps.choropleth`
does from :attr:`BoundarySet.credit`.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

import geopandas as gpd

from ..io import sha256 as file_sha256
from .boundary_matching import match_boundaries
from .boundary_set import LEVELS, BoundarySet

__all__ = [
    "DEFAULT_URL", "DEFAULT_SHA256", "DEFAULT_FILENAME", "DEFAULT_CREDIT", "ENV_VAR", "LEVELS",
    "BoundarySet", "BoundaryDownloadError", "BoundaryChecksumError",
    "load_boundaries", "match_boundaries", "download_boundaries", "resolve_boundaries", "boundaries_dir",
    "file_sha256",
]

#: The default public boundary set: denyherianto's 38-province GeoJSON on GitHub (CC BY 4.0).
DEFAULT_URL = ("https://raw.githubusercontent.com/denyherianto/indonesia-geojson-topojson-maps-with-38-provinces/"
               "main/GeoJSON/indonesia-38-provinces.geojson")
#: SHA-256 of that file (253,643 bytes; the copy the project was developed against).
DEFAULT_SHA256 = "97f23f738c7aa66836b971d76381c009a34c6aaefe9c982e85f060e678402027"
DEFAULT_FILENAME = "indonesia-38-provinces.geojson"
#: Credit line for maps drawn from the default file.
DEFAULT_CREDIT = "denyherianto, CC BY 4.0"
#: Environment variable naming a boundary file to use by default.
ENV_VAR = "KKBM_BOUNDARIES"

class BoundaryDownloadError(OSError):
    """A boundary file could not be downloaded (HTTP error, network error)."""


class BoundaryChecksumError(ValueError):
    """A downloaded boundary file does not have the expected SHA-256; it was not kept."""



def _default_credit(path: Path) -> str:
    """Credit for a file: the default source when it is that file, else the file's name."""
    try:
        if path.is_file() and path.stat().st_size < 200 * 2**20 and file_sha256(path) == DEFAULT_SHA256:
            return DEFAULT_CREDIT
    except OSError:
        pass
    if path.name == DEFAULT_FILENAME:
        return DEFAULT_CREDIT
    return path.name


def load_boundaries(path: str | os.PathLike, *, level: str = "province", layer: str | int | None = None,
                    code_col: str | None = None, name_col: str | None = None,
                    credit: str | None = None) -> BoundarySet:
    """Read a boundary file and match it to the official code list.

    Parameters
    ----------
    path : path
        GeoJSON, Shapefile (``.shp`` or a ``.zip``), GeoPackage, or TopoJSON (read by
        GDAL's TopoJSON driver; pass ``layer`` = the topology object's name when the
        file holds several objects), or anything else GDAL reads.
    level : {'province', 'regency'}
        The level of the shapes.
    layer : str or int, optional
        Layer of a multi-layer file (GeoPackage, TopoJSON).
    code_col, name_col : str, optional
        Code and name columns, if the automatic choice is wrong.
    credit : str, optional
        Whom maps must credit; default ``"denyherianto, CC BY 4.0"`` for the default file
        (recognised by its checksum or name), else the file's name.

    Returns
    -------
    BoundarySet
        Shapes with official ``region_code`` and ``name``, and the matching ``report``.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"boundary file not found: {path}")
    kwargs = {} if layer is None else {"layer": layer}
    try:
        frame = gpd.read_file(path, **kwargs)
    except Exception as exc:  # pyogrio's errors name neither the file nor what to do
        raise ValueError(f"cannot read boundary file {path}: {exc}") from exc
    return match_boundaries(frame, level=level, code_col=code_col, name_col=name_col, source=str(path),
                            credit=credit if credit is not None else _default_credit(path))


# =========================================================================== download

def boundaries_dir(root: str | os.PathLike | None = None) -> Path:
    """``data/raw/boundaries`` of the project (see :func:`kkbm_analysis.config.paths`)."""
    from ..config import paths
    return paths(root).raw / "boundaries"


def download_boundaries(url: str = DEFAULT_URL, *, sha256: str | None = DEFAULT_SHA256,
                        dest: str | os.PathLike | None = None, filename: str | None = None,
                        timeout: float = 60.0, force: bool = False) -> Path:
    """Download a public boundary file once, verify its checksum and cache it.

    Nothing in the suite calls this on its own: maps work without boundaries (tile grid).

    Parameters
    ----------
    url : str
        Default: denyherianto's 38-province GeoJSON (CC BY 4.0; credit it on maps).
    sha256 : str or None
        Expected SHA-256 (hex). A mismatch raises :class:`BoundaryChecksumError` and the
        download is not kept. ``None`` skips the check (a warning gives the hash to pin).
    dest : path, optional
        Cache folder (default ``data/raw/boundaries``).
    filename : str, optional
        Name of the cached file (default: the last part of the URL).
    timeout : float
        Seconds to wait for the server.
    force : bool
        Download even if a verified copy is cached.

    Returns
    -------
    Path
        The cached file. If it is already there and matches *sha256*, nothing is downloaded.

    Raises
    ------
    BoundaryDownloadError
        HTTP or network failure (nothing is written).
    BoundaryChecksumError
        The file downloaded is not the expected one (nothing is written).
    """
    dest = Path(dest) if dest is not None else boundaries_dir()
    name = filename or Path(urllib.parse.urlparse(url).path).name or DEFAULT_FILENAME
    if Path(name).name != name:
        raise ValueError(f"filename must be a plain file name, not {name!r}")
    target = dest / name
    expected = sha256.lower() if sha256 else None
    if target.exists() and not force:
        if expected is None or file_sha256(target) == expected:
            return target
        warnings.warn(f"cached {target} does not have the expected SHA-256; downloading it again", stacklevel=2)
    dest.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=dest)
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(handle, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": "kkbm-analysis"})
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - user-chosen URL
                    for chunk in iter(lambda: response.read(1 << 16), b""):
                        digest.update(chunk)
                        out.write(chunk)
            except urllib.error.HTTPError as exc:
                raise BoundaryDownloadError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from exc
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                raise BoundaryDownloadError(f"download of {url} failed: {reason} (no network? pass a local file "
                                            f"with {ENV_VAR} or load_boundaries(path))") from exc
        actual = digest.hexdigest()
        if expected is not None and actual != expected:
            raise BoundaryChecksumError(
                f"the file at {url} has SHA-256 {actual}, not the expected {expected}; it was not kept. "
                "If the source changed on purpose, check the new file and pass its sha256= (or sha256=None)")
        if expected is None:
            warnings.warn(f"{url} downloaded without a checksum; its SHA-256 is {actual} (pass sha256= to pin it)",
                          stacklevel=2)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def resolve_boundaries(path: str | os.PathLike | None = None, *,
                       root: str | os.PathLike | None = None) -> Path | None:
    """The boundary file a map should use, or None for the tile grid.

    Order: *path* > the ``KKBM_BOUNDARIES`` environment variable > the default file
    cached by :func:`download_boundaries` in ``data/raw/boundaries/`` > None.

    Raises
    ------
    FileNotFoundError
        If *path* or ``KKBM_BOUNDARIES`` names a file that does not exist (a typo should
        not silently give a tile grid).
    """
    if path is not None:
        chosen = Path(path).expanduser()
        if not chosen.exists():
            raise FileNotFoundError(f"boundary file not found: {chosen}")
        return chosen
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        chosen = Path(env).expanduser()
        if not chosen.exists():
            raise FileNotFoundError(f"{ENV_VAR} names a file that does not exist: {chosen}")
        return chosen
    cached = boundaries_dir(root) / DEFAULT_FILENAME
    return cached if cached.is_file() else None
