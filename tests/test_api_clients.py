"""Real OGC API - Features clients that nobody here wrote, against a real ``geoplan serve``:
GDAL's OAPIF driver (``ogr2ogr`` from Debian's gdal-bin), OWSLib (``owslib.ogcapi.features``)
and QGIS 3.22 (Debian's python3-qgis, headless) through its OAPIF provider with Basic auth.

Every expectation is computed here from the workspace itself (the store's frames), never from
the API. Without a client the test skips with the reason; in CI (``GEOPLAN_STRICT_SKIPS=1``,
set by ``.ci/run``, which installs gdal-bin and python3-qgis) it fails instead.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from geoplan.catalog import load_catalog
from geoplan.demo.scenario import build_demo_workspace
from geoplan.edits import Edit, create_feature
from geoplan.keys import create_key
from geoplan.store import Store, open_store
from tests.api_fixtures import FIXTURES, served
from tests.conftest import skip_or_fail

LAYERS = tuple(load_catalog())
SYSTEM_PYTHON = Path("/usr/bin/python3")
QGIS_SCRIPT = FIXTURES / "clients" / "qgis_oapif.py"
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
GEOJSON = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"


@dataclass(frozen=True)
class Server:
    """A served workspace: its URL, a planner's key and its store (for the expectations)."""

    url: str
    key: str
    store: Store

    def frame(self, layer: str) -> pd.DataFrame:
        """A layer's rows as the workspace holds them."""
        return self.store.read(layer)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo workspace (40 sites, 120 visits, every layer with rows: an admin area and
    a team absence are added) served by ``geoplan serve`` on loopback."""
    path = tmp_path_factory.mktemp("clients") / "ws.gpkg"
    build_demo_workspace(
        path, seed=3, sites=40, visits=120, today=dt.date(2026, 11, 30), validate=False
    )
    store = open_store(path)
    area = {"id": "LY0101", "name": "Central district", "level": 2}
    create_feature(store, "admin_areas", Edit(area, shapely.box(13.0, 32.7, 13.4, 33.0)))
    team = str(store.read("teams")["id"].iloc[0])
    leave = {
        "id": "AB-1",
        "team": team,
        "from": "2026-12-01",
        "to": "2026-12-02",
        "reason": "leave",
    }
    create_feature(store, "team_absences", Edit(leave))
    assert all(info.rows > 0 for info in store.list_layers())
    _, key = create_key(store, role="planner", name="clients")
    with served(path) as url:
        yield Server(url, key, store)


# --- GDAL's OAPIF driver ------------------------------------------------------------------


def _gdal() -> None:
    if shutil.which("ogr2ogr") is None:
        skip_or_fail("GDAL's ogr2ogr is missing (apt-get install gdal-bin)")


def _ogr2ogr(server: Server, layer: str, target: Path, *options: str) -> str:
    """Copy one collection into a GeoPackage with ``ogr2ogr``, the key sent as a header; the
    driver's debug log (the URLs it fetched)."""
    env = {**os.environ, "GDAL_HTTP_HEADERS": f"X-API-Key: {server.key}"}
    command = ["ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{server.url}", layer, *options]
    done = subprocess.run(
        [*command, "--debug", "on"], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


def _copied_ids(target: Path, layer: str) -> list[str]:
    frame = pyogrio.read_dataframe(target, layer=layer, read_geometry=False)
    return sorted(str(v) for v in frame["id"])


def _fetched(log: str) -> list[str]:
    return [line for line in log.splitlines() if "Fetch(" in line]


@pytest.mark.parametrize("layer", LAYERS)
def test_gdal_copies_every_collection_whole(server: Server, layer: str, tmp_path: Path) -> None:
    """ogr2ogr copies each collection with every feature (by id), paging to the end."""
    _gdal()
    target = tmp_path / "copy.gpkg"
    _ogr2ogr(server, layer, target)
    assert _copied_ids(target, layer) == sorted(server.frame(layer)["id"])


def test_gdal_copies_polygons_with_their_geometry(server: Server, tmp_path: Path) -> None:
    """The no-go zones arrive as polygons with the workspace's bounds."""
    _gdal()
    target = tmp_path / "zones.gpkg"
    _ogr2ogr(server, "no_go_zones", target)
    copied = gpd.read_file(target, layer="no_go_zones")
    expected = server.frame("no_go_zones")
    assert set(copied.geom_type) <= {"Polygon", "MultiPolygon"}
    assert copied.total_bounds == pytest.approx(expected.total_bounds, abs=1e-9)


def test_gdal_bbox_is_sent_and_counted_right(server: Server, tmp_path: Path) -> None:
    """``-spat`` goes to the server as ``bbox`` and brings exactly the sites inside it."""
    _gdal()
    sites = server.frame("gathering_points")
    west, south, east, north = sites.total_bounds
    box = (west, south, (west + east) / 2, (south + north) / 2)
    expected = sorted(sites.loc[sites.intersects(shapely.box(*box)), "id"])
    assert 0 < len(expected) < len(sites)
    target = tmp_path / "box.gpkg"
    log = _ogr2ogr(server, "gathering_points", target, "-spat", *(str(v) for v in box))
    assert any("bbox=" in line for line in _fetched(log))
    assert _copied_ids(target, "gathering_points") == expected


def test_gdal_attribute_filter_is_sent_and_counted_right(server: Server, tmp_path: Path) -> None:
    """``-where "setting = '...'"`` goes to the server as ``setting=`` and counts right."""
    _gdal()
    sites = server.frame("gathering_points")
    setting = str(sites["setting"].mode()[0])
    expected = sorted(sites.loc[sites["setting"] == setting, "id"])
    assert 0 < len(expected) < len(sites)
    target = tmp_path / "where.gpkg"
    log = _ogr2ogr(server, "gathering_points", target, "-where", f"setting = '{setting}'")
    assert any(f"setting={setting}" in line for line in _fetched(log))
    assert _copied_ids(target, "gathering_points") == expected


def test_gdal_date_filter_is_sent_as_datetime(server: Server, tmp_path: Path) -> None:
    """``-where "date = 'YYYY-MM-DD'"`` on visits goes to the server as ``datetime`` (GDAL
    writes ``YYYY-MM-DDT``) and brings that day's visits, no more and no fewer."""
    _gdal()
    visits = server.frame("outreach_visits")
    day = pd.Timestamp(visits["date"].mode()[0]).date().isoformat()
    expected = sorted(visits.loc[pd.to_datetime(visits["date"]) == pd.Timestamp(day), "id"])
    assert 0 < len(expected) < len(visits)
    target = tmp_path / "day.gpkg"
    log = _ogr2ogr(server, "outreach_visits", target, "-where", f"date = '{day}'")
    assert any(f"datetime={day}" in line for line in _fetched(log))
    assert _copied_ids(target, "outreach_visits") == expected


def test_gdal_reads_the_temporal_extent(server: Server) -> None:
    """ogrinfo shows the no-go zones' temporal extent from their validity intervals."""
    _gdal()
    env = {**os.environ, "GDAL_HTTP_HEADERS": f"X-API-Key: {server.key}"}
    command = ["ogrinfo", "-ro", "-so", f"OAPIF:{server.url}", "no_go_zones"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    zones = server.frame("no_go_zones")
    first = pd.Timestamp(zones["valid_from"].min()).date().isoformat()
    assert f"TEMPORAL_INTERVAL_MIN={first}T00:00:00Z" in done.stdout, done.stdout + done.stderr
    assert f"Feature Count: {len(zones)}" in done.stdout


def test_gdal_connects_with_basic_auth(server: Server, tmp_path: Path) -> None:
    """GDAL's own HTTP Basic (any user, the key as password) is let in as well."""
    _gdal()
    env = {**os.environ, "GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"gdal:{server.key}"}
    target = tmp_path / "basic.gpkg"
    command = ["ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{server.url}", "teams"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _copied_ids(target, "teams") == sorted(server.frame("teams")["id"])


# --- OWSLib -------------------------------------------------------------------------------


def _owslib(server: Server, **auth: str) -> Any:
    try:
        from owslib.ogcapi.features import Features
        from owslib.util import Authentication
    except ImportError:
        skip_or_fail("OWSLib is not installed (uv sync --extra dev)")
    if auth:
        return Features(server.url, auth=Authentication(**auth))
    return Features(server.url, headers={"X-API-Key": server.key})


def test_owslib_reads_the_conformance_classes(server: Server) -> None:
    """OWSLib's conformance() lists Part 1 core and GeoJSON."""
    assert {CORE, GEOJSON} <= set(_owslib(server).conformance()["conformsTo"])


def test_owslib_lists_every_collection(server: Server) -> None:
    """OWSLib's collections() names every layer of the catalog."""
    listed = _owslib(server).collections()["collections"]
    assert sorted(c["id"] for c in listed) == sorted(LAYERS)


def test_owslib_reads_a_collection_extent(server: Server) -> None:
    """OWSLib's collection() has the zones' bbox and an RFC 3339 temporal interval."""
    described = _owslib(server).collection("no_go_zones")
    zones = server.frame("no_go_zones")
    assert described["extent"]["spatial"]["bbox"][0] == pytest.approx(list(zones.total_bounds))
    start, _ = described["extent"]["temporal"]["interval"][0]
    assert dt.datetime.fromisoformat(start).tzinfo is not None


def test_owslib_reads_items_with_the_right_count(server: Server) -> None:
    """collection_items() returns every site and says how many matched."""
    items = _owslib(server).collection_items("gathering_points", limit=1000)
    sites = server.frame("gathering_points")
    assert items["numberMatched"] == len(sites)
    assert sorted(f["id"] for f in items["features"]) == sorted(sites["id"])


def test_owslib_filters_items_by_bbox_and_datetime(server: Server) -> None:
    """collection_items() with bbox and datetime gets what the workspace says."""
    features = _owslib(server)
    zones = server.frame("no_go_zones")
    zone = zones.iloc[0]
    day = pd.Timestamp(zone["valid_from"]).date().isoformat()
    found = features.collection_items("no_go_zones", datetime_=day)["features"]
    assert str(zone["id"]) in {f["id"] for f in found}
    west, south, east, north = zone.geometry.bounds
    inside = features.collection_items("no_go_zones", bbox=[west, south, east, north])
    expected = zones.loc[zones.intersects(shapely.box(west, south, east, north)), "id"]
    assert sorted(f["id"] for f in inside["features"]) == sorted(expected)


def test_owslib_reads_the_api_definition(server: Server) -> None:
    """api() follows the service-desc link to an OpenAPI 3.0 document with the items paths."""
    api = _owslib(server).api()
    assert api["openapi"].startswith("3.0")
    assert "/collections/gathering_points/items" in api["paths"]


def test_owslib_connects_with_basic_auth(server: Server) -> None:
    """OWSLib's Authentication (user any name, the key as password) is let in."""
    features = _owslib(server, username="owslib", password=server.key)
    items = features.collection_items("teams")
    assert items["numberMatched"] == len(server.frame("teams"))


# --- QGIS 3.22 ----------------------------------------------------------------------------


def _qgis(server: Server, layer: str, key: str, folder: Path) -> dict[str, Any]:
    """Run the QGIS loader with the system Python in a fresh profile folder; what it got."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(folder),
        "XDG_RUNTIME_DIR": str(folder),
        "QT_QPA_PLATFORM": "offscreen",
    }
    command = [str(SYSTEM_PYTHON), str(QGIS_SCRIPT), server.url, layer, key, str(folder)]
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


@pytest.fixture(scope="module")
def qgis() -> None:
    """Skip (or fail in CI) unless the system Python imports QGIS."""
    probe = [str(SYSTEM_PYTHON), "-c", "import qgis.core"]
    found = (
        SYSTEM_PYTHON.exists()
        and not subprocess.run(probe, capture_output=True, check=False).returncode
    )
    if not found:
        skip_or_fail("QGIS's Python bindings are missing (apt-get install python3-qgis)")


@pytest.mark.usefixtures("qgis")
@pytest.mark.parametrize("layer", ["gathering_points", "no_go_zones"])
def test_qgis_loads_a_layer_with_basic_auth(server: Server, layer: str, tmp_path: Path) -> None:
    """QGIS 3.22's OAPIF provider, with a Basic auth config holding the key, loads the layer
    with every feature and the workspace's extent."""
    got = _qgis(server, layer, server.key, tmp_path)
    frame = server.frame(layer)
    assert got["auth_stored"]
    assert got["valid"]
    assert got["feature_count"] == len(frame)
    assert got["ids"] == sorted(frame["id"])
    assert got["extent"] == pytest.approx(list(frame.total_bounds), abs=1e-6)


@pytest.mark.usefixtures("qgis")
def test_qgis_with_a_wrong_password_gets_no_layer(server: Server, tmp_path: Path) -> None:
    """A Basic auth config with a wrong key loads nothing: the layer is not valid."""
    got = _qgis(server, "gathering_points", "gpk_wrong", tmp_path)
    assert not got["valid"]
    assert got["ids"] == []
