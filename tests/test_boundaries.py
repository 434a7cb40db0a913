"""Boundary files: reading, matching/repair against the official codes, download, resolution.

Downloads are tested against a local HTTP server on 127.0.0.1 only. The shared
denyherianto GeoJSON (``../shared/data/boundaries``) is used when present; otherwise a
generated stand-in with the same quirks is used, so no test is skipped.
"""
from __future__ import annotations

import functools
import hashlib
import http.server
import json
import shutil
import threading
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely import affinity

from kkbm_analysis.regions import region_table
from kkbm_analysis.viz import boundaries as bd
from kkbm_analysis.viz.tilegrid import tile_geodataframe

SHARED_GEOJSON = Path(__file__).resolve().parents[2] / "shared/data/boundaries/indonesia-38-provinces.geojson"


# --------------------------------------------------------------------------- fixtures

@functools.cache
def _official_provinces() -> dict[str, str]:
    table = region_table()
    table = table.loc[table["level"] == 1]
    return dict(zip(table["code"], table["name"]))


def _squares(codes: list[str]) -> list:
    """One small lon/lat square per code, placed by the tile grid (inside Indonesia's box)."""
    tiles = tile_geodataframe().set_index("region_code")
    return [affinity.affine_transform(tiles.geometry[c], [3, 0, 0, 1.5, 95, 6]) for c in codes]


def write_geojson(path: Path, rows: list[dict], *, geometry_codes: list[str] | None = None) -> Path:
    """A GeoJSON of province squares with the given properties (one square per row)."""
    codes = geometry_codes or [str(r.get("KODE_PROV", "11")).split(".")[0][:2] for r in rows]
    codes = [c if c in _official_provinces() else "11" for c in codes]
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=_squares(codes), crs=4326)
    frame.to_file(path, driver="GeoJSON")
    return path


def denyherianto_like(path: Path) -> Path:
    """38 features with the quirks of the denyherianto file: 2022 provinces under parent codes, 'DKI Jakarta'."""
    parents = {"93": "91", "94": "91", "95": "91", "96": "92"}
    rows, codes = [], []
    for code, name in _official_provinces().items():
        rows.append({"KODE_PROV": parents.get(code, code),
                     "PROVINSI": "DKI Jakarta" if code == "31" else name})
        codes.append(code)
    return write_geojson(path, rows, geometry_codes=codes)


@pytest.fixture
def boundary_file(tmp_path: Path) -> Path:
    """The shared denyherianto GeoJSON when available, else the generated stand-in."""
    if SHARED_GEOJSON.exists():
        return SHARED_GEOJSON
    return denyherianto_like(tmp_path / bd.DEFAULT_FILENAME)  # same name: credited like the real file


# --------------------------------------------------------------------------- the real file

def test_denyherianto_file_is_matched_and_repaired(boundary_file: Path):
    bset = bd.load_boundaries(boundary_file)
    assert (bset.code_column, bset.name_column) == ("KODE_PROV", "PROVINSI")
    assert sorted(bset.codes) == sorted(_official_provinces())  # all 38, each once
    assert bset.missing == ()
    report = bset.report.set_index("name_given")
    # The four 2022 provinces are filed under their parent's code; the name recodes them.
    for name, given, new in [("Papua Selatan", "91", "93"), ("Papua Tengah", "91", "94"),
                             ("Papua Pegunungan", "91", "95"), ("Papua Barat Daya", "92", "96")]:
        row = report.loc[name]
        assert (row["code_given"], row["region_code"], row["status"]) == (given, new, "repaired")
        assert "parent" in row["how"] and new in row["how"]
    # 'DKI Jakarta' is not the official name as written, but is read as it.
    dki = report.loc["DKI Jakarta"]
    assert dki["region_code"] == "31" and dki["status"] == "matched" and not dki["name_as_is"]
    assert "Daerah Khusus Ibukota Jakarta" in dki["how"]
    # Everything else matched as-is.
    problems = set(bset.problems["name_given"])
    assert problems == {"Papua Selatan", "Papua Tengah", "Papua Pegunungan", "Papua Barat Daya", "DKI Jakarta"}
    assert (bset.report["status"] == "unmatched").sum() == 0
    assert bset.credit == bd.DEFAULT_CREDIT
    assert "Papua Tengah" in bset.summary() and "repaired 4" in bset.summary()
    assert set(bset.split_status()["status"]) == {"own shape"}


def test_default_checksum_is_that_of_the_shared_file():
    assert len(bd.DEFAULT_SHA256) == 64 and int(bd.DEFAULT_SHA256, 16) >= 0
    if SHARED_GEOJSON.exists():
        assert bd.file_sha256(SHARED_GEOJSON) == bd.DEFAULT_SHA256
    assert bd.DEFAULT_URL.endswith("/" + bd.DEFAULT_FILENAME)


# --------------------------------------------------------------------------- repairs

def test_codes_written_differently_are_repaired(tmp_path: Path):
    rows = [
        {"KODE": 11, "NAMA": "Aceh"},                 # an integer reads as written
        {"KODE": 13.0, "NAMA": "Sumatera Barat"},     # a float from a spreadsheet
        {"KODE": "ID12", "NAMA": "Sumatera Utara"},   # country prefix
        {"KODE": "32.0", "NAMA": "Jawa Barat"},       # float as text
        {"KODE": "33", "NAMA": "JAWA TENGAH"},        # upper-case name
        {"KODE": None, "NAMA": "DI Yogyakarta"},      # no code: placed by its name
        {"KODE": "99", "NAMA": "Jawa Timur"},         # not a code: placed by its name
    ]
    codes = ["11", "13", "12", "32", "33", "34", "35"]
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=_squares(codes), crs=4326)
    bset = bd.match_boundaries(frame)
    r = bset.report
    assert r["region_code"].tolist() == codes
    assert r["status"].tolist() == ["matched", "repaired", "repaired", "repaired", "matched", "repaired", "repaired"]
    assert "number" in r.at[1, "how"] and "prefix" in r.at[2, "how"]
    assert "name" in r.at[5, "how"] and "'99' is not an official province code" in r.at[6, "how"]
    assert not r.at[4, "name_as_is"] and r.at[4, "code_as_is"]
    assert len(bset.missing) == 38 - len(codes)


def test_conflicts_unknowns_and_duplicates(tmp_path: Path):
    rows = [
        {"KODE_PROV": "35", "PROVINSI": "Bali"},          # code and name disagree: not guessed
        {"KODE_PROV": "xx", "PROVINSI": "Atlantis"},      # nothing fits
        {"KODE_PROV": "51", "PROVINSI": "Bali"},
        {"KODE_PROV": "51", "PROVINSI": "Bali"},          # a second shape of Bali: merged
    ]
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=_squares(["35", "11", "51", "52"]), crs=4326)
    bset = bd.match_boundaries(frame)
    r = bset.report
    assert r["status"].tolist() == ["unmatched", "unmatched", "matched", "merged"]
    assert "not guessed" in r.at[0, "how"] and "Atlantis" in r.at[1, "how"]
    assert bset.codes == ["51"]
    assert bset.frame.geometry.iloc[0].area == pytest.approx(sum(g.area for g in frame.geometry.iloc[2:]))
    assert "UNMATCHED" in bset.summary()


def test_old_34_province_file_reports_missing_new_provinces(tmp_path: Path):
    old = [c for c in _official_provinces() if c not in ("93", "94", "95", "96")]
    rows = [{"kode": c, "provinsi": _official_provinces()[c]} for c in old]
    path = write_geojson(tmp_path / "old34.geojson", rows, geometry_codes=old)
    bset = bd.load_boundaries(path)
    assert len(bset) == 34
    assert bset.missing == ("93", "94", "95", "96")
    assert any("predates the Papua split" in n for n in bset.notes)
    split = bset.split_status().set_index("code")
    assert split["status"].tolist() == ["under parent"] * 4
    assert split.loc["96", "parent_code"] == "92" and split.loc["94", "law"] == "UU 15/2022"
    assert "93 Papua Selatan" in bset.summary()
    assert bset.credit == "old34.geojson"


def test_regency_level_codes_and_names():
    table = region_table()
    regencies = table.loc[table["level"] == 2].set_index("name")["code"]
    kab, kota = regencies["Kabupaten Serang"], regencies["Kota Serang"]
    rows = [{"KODE_KAB": kab.replace(".", ""), "KABKOT": "Serang"},   # no dots; bare name fits two
            {"KODE_KAB": None, "KABKOT": "Kota Serang"}]               # name with its kind: one fits
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=_squares(["36", "35"]), crs=4326)
    bset = bd.match_boundaries(frame, level="regency")
    assert bset.report["region_code"].tolist() == [kab, kota]
    assert "without dots" in bset.report.at[0, "how"]
    with pytest.raises(ValueError, match="level"):
        bd.match_boundaries(frame, level="village")


def test_no_code_or_name_column_is_a_clear_error():
    frame = gpd.GeoDataFrame({"foo": ["a", "b"]}, geometry=_squares(["11", "12"]), crs=4326)
    with pytest.raises(ValueError, match="code_col"):
        bd.match_boundaries(frame)


# --------------------------------------------------------------------------- formats

def test_geopackage_and_shapefile(tmp_path: Path):
    rows = [{"KODE_PROV": c, "PROVINSI": _official_provinces()[c]} for c in ("11", "51")]
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=_squares(["11", "51"]), crs=4326)
    frame.to_file(tmp_path / "p.gpkg", driver="GPKG", layer="provinsi")
    frame.to_file(tmp_path / "p.shp")
    for path in (tmp_path / "p.gpkg", tmp_path / "p.shp"):
        assert bd.load_boundaries(path).codes == ["11", "51"]


def test_topojson(tmp_path: Path):
    topo = {"type": "Topology",
            "objects": {"provinces": {"type": "GeometryCollection", "geometries": [
                {"type": "Polygon", "arcs": [[0]], "properties": {"KODE_PROV": "11", "PROVINSI": "Aceh"}},
                {"type": "Polygon", "arcs": [[1]], "properties": {"KODE_PROV": "91", "PROVINSI": "Papua Tengah"}},
            ]}},
            "arcs": [[[95, 5], [96, 5], [96, 4], [95, 4], [95, 5]],
                     [[136, -3], [137, -3], [137, -4], [136, -4], [136, -3]]]}
    path = tmp_path / "p.topo.json"
    path.write_text(json.dumps(topo))
    if "TopoJSON" in pyogrio.list_drivers():
        bset = bd.load_boundaries(path)
        assert bset.codes == ["11", "94"]
        assert any("no coordinate reference system" in n for n in bset.notes)
    else:  # GDAL built without the driver: the error says which file could not be read
        with pytest.raises(ValueError, match="cannot read boundary file"):
            bd.load_boundaries(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        bd.load_boundaries("/nonexistent/provinces.geojson")


# --------------------------------------------------------------------------- download (127.0.0.1 only)

class _Server:
    """A static file server on 127.0.0.1 that counts GET requests."""

    def __init__(self, directory: Path) -> None:
        self.requests = 0
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(directory), **kwargs)

            def do_GET(self):  # noqa: N802
                outer.requests += 1
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def served(tmp_path: Path, boundary_file: Path):
    folder = tmp_path / "www"
    folder.mkdir()
    shutil.copy(boundary_file, folder / bd.DEFAULT_FILENAME)
    server = _Server(folder)
    yield server, hashlib.sha256((folder / bd.DEFAULT_FILENAME).read_bytes()).hexdigest()
    server.close()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_verifies_and_caches(served, tmp_path: Path):
    server, sha = served
    dest = tmp_path / "raw" / "boundaries"
    path = bd.download_boundaries(server.url(bd.DEFAULT_FILENAME), sha256=sha, dest=dest)
    assert path == dest / bd.DEFAULT_FILENAME
    assert bd.file_sha256(path) == sha
    assert _leftovers(dest) == [bd.DEFAULT_FILENAME]  # no partial files
    assert server.requests == 1
    # cache hit: present and verified -> no second request
    again = bd.download_boundaries(server.url(bd.DEFAULT_FILENAME), sha256=sha, dest=dest)
    assert again == path and server.requests == 1
    # the cached file is usable
    assert len(bd.load_boundaries(path)) == 38


def test_download_with_wrong_checksum_keeps_nothing(served, tmp_path: Path):
    server, _ = served
    dest = tmp_path / "raw" / "boundaries"
    with pytest.raises(bd.BoundaryChecksumError, match="not the expected"):
        bd.download_boundaries(server.url(bd.DEFAULT_FILENAME), sha256="0" * 64, dest=dest)
    assert _leftovers(dest) == []
    assert server.requests == 1


def test_download_404_is_a_clear_error(served, tmp_path: Path):
    server, sha = served
    dest = tmp_path / "raw" / "boundaries"
    with pytest.raises(bd.BoundaryDownloadError, match="HTTP 404"):
        bd.download_boundaries(server.url("nope.geojson"), sha256=sha, dest=dest)
    assert _leftovers(dest) == []


def test_corrupt_cache_is_downloaded_again(served, tmp_path: Path):
    server, sha = served
    dest = tmp_path / "raw" / "boundaries"
    dest.mkdir(parents=True)
    (dest / bd.DEFAULT_FILENAME).write_text("{}")
    with pytest.warns(UserWarning, match="downloading it again"):
        path = bd.download_boundaries(server.url(bd.DEFAULT_FILENAME), sha256=sha, dest=dest)
    assert bd.file_sha256(path) == sha and server.requests == 1


def test_download_defaults_to_the_project_raw_folder(served, tmp_path: Path, monkeypatch):
    server, sha = served
    monkeypatch.setenv("KKBM_ROOT", str(tmp_path / "project"))
    path = bd.download_boundaries(server.url(bd.DEFAULT_FILENAME), sha256=sha)
    assert path == tmp_path / "project" / "data" / "raw" / "boundaries" / bd.DEFAULT_FILENAME


# --------------------------------------------------------------------------- resolution order

def test_resolve_order(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("KKBM_ROOT", str(tmp_path))
    monkeypatch.delenv(bd.ENV_VAR, raising=False)
    assert bd.resolve_boundaries() is None  # nothing configured: tile grid
    cached = tmp_path / "data" / "raw" / "boundaries" / bd.DEFAULT_FILENAME
    cached.parent.mkdir(parents=True)
    cached.write_text("{}")
    assert bd.resolve_boundaries() == cached
    env_file = tmp_path / "env.geojson"
    env_file.write_text("{}")
    monkeypatch.setenv(bd.ENV_VAR, str(env_file))
    assert bd.resolve_boundaries() == env_file
    explicit = tmp_path / "explicit.geojson"
    explicit.write_text("{}")
    assert bd.resolve_boundaries(explicit) == explicit
    with pytest.raises(FileNotFoundError):
        bd.resolve_boundaries(tmp_path / "typo.geojson")
    monkeypatch.setenv(bd.ENV_VAR, str(tmp_path / "gone.geojson"))
    with pytest.raises(FileNotFoundError, match=bd.ENV_VAR):
        bd.resolve_boundaries()
