"""Coverage as viewers get it, tried the way an attacker with a viewer key would.

Viewers know where the clinics and team bases are, and each sensitive site's coarse H3 cell.
Sweeping ``/coverage/gaps`` over thresholds and dates tells, per site, between which minutes
the nearest place offering each service lies; intersecting those rings around the known
places used to put a site far closer than its cell centre. A viewer's analysis is made from
the cell centres, so the sweep can give back no more than the centre: these tests run the
attack with a viewer key (and, to show it is real, with a planner's exact answers), and check
that no viewer answer moves when a site moves inside its cell, that viewers read no minutes,
distances or places, and that a planner's cached answer is never a viewer's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h3
import numpy as np
import pytest
import shapely

from api.models_analysis import GapTable, GeneralisedGapTable
from geoplan.coverage import CoverageParams
from geoplan.demo.scenario import build_demo_workspace
from geoplan.edits import Edit, create_feature, read_feature, update_feature
from geoplan.keys import create_key
from geoplan.protect import cell_centre
from geoplan.store import open_store
from geoplan.travel.matrix import Points, StraightLineParams, great_circle_metres
from geoplan.vocab import Role, Service
from tests.api_fixtures import (
    DC_POINT,
    TestClient,
    Workspace,
    build_workspace,
    client_for,
    copy_workspace,
)

DEMO_DAY = dt.date(2025, 3, 12)
DATES = ("2024-12-01", "2025-01-15", "2025-03-12")
"""No-go zone NGZ-02 active, none active, NGZ-01 active."""
THRESHOLDS = range(1, 61)
"""Every threshold in whole minutes the API accepts, up to an hour."""
SITE_LAYERS = ("gathering_points", "detention_centres")
ANY = "any clinic or base"
GRID_M = 25.0
MINUTES_OR_DISTANCE = re.compile(r"\d\s*(?:min|mins|minutes?|km|m)\b|\bnearest\b")

Constraints = dict[tuple[str, str], tuple[float, float]]
"""Per (provider set, date): the nearest provider lies more than low and at most high minutes
away."""


@dataclass(frozen=True)
class Place:
    """A clinic or team base as a viewer reads it."""

    lon: float
    lat: float
    services: frozenset[str]
    kind: str | None
    usable: bool


# --- the workspaces ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The demo workspace (186 sites, 20 clinics, 5 team bases, 2 no-go zones; fewer visits,
    which the positions do not depend on) with a key per role."""
    path = tmp_path_factory.mktemp("viewers-demo") / "demo.gpkg"
    build_demo_workspace(path, seed=7, visits=300, today=DEMO_DAY)
    store = open_store(path)
    return Workspace(path, {role: create_key(store, role=role, name=role)[1] for role in Role})


@pytest.fixture(scope="module")
def demo_client(demo: Workspace) -> TestClient:
    """A client of the demo workspace."""
    return client_for(demo)


@pytest.fixture(scope="module")
def truth(demo: Workspace) -> dict[str, tuple[float, float]]:
    """Every sensitive site's exact position, read from the store."""
    store = demo.store
    return {
        str(site_id): (point.x, point.y)
        for layer in SITE_LAYERS
        for site_id, point in zip(store.read(layer)["id"], store.read(layer).geometry, strict=True)
    }


@pytest.fixture(scope="module")
def places(demo_client: TestClient, demo: Workspace) -> dict[str, Place]:
    """The clinics and team bases, read with the viewer key."""
    out = {}
    for layer in ("clinics", "teams"):
        for feature in _get(demo_client, demo, Role.VIEWER, f"/collections/{layer}/items")[
            "features"
        ]:
            props = feature["properties"]
            usable = layer == "teams" or props["access_status"] != "inaccessible"
            lon, lat = feature["geometry"]["coordinates"]
            out[feature["id"]] = Place(
                lon, lat, frozenset(props["services"] or ()), props.get("kind"), usable
            )
    return out


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The small API workspace plus an admin area whose east edge runs through DC-1's cell,
    between DC-1 (inside) and its cell centre (outside)."""
    ws = build_workspace(tmp_path_factory.mktemp("viewers-small"))
    area = shapely.box(13.15, 32.75, 13.239, 32.90)
    create_feature(ws.store, "admin_areas", Edit({"id": "LY09", "name": "West district"}, area))
    return ws


# --- the attack -------------------------------------------------------------------------------


def test_viewers_read_clinics_and_teams_exactly(
    demo: Workspace, places: Mapping[str, Place]
) -> None:
    """The attack's premise: a viewer reads every clinic and team base at its position."""
    store = demo.store
    exact = {
        str(i): (p.x, p.y)
        for layer in ("clinics", "teams")
        for i, p in zip(store.read(layer)["id"], store.read(layer).geometry, strict=True)
    }
    assert {i: (p.lon, p.lat) for i, p in places.items()} == exact


def test_a_threshold_and_date_sweep_locates_no_site_closer_than_its_cell(
    demo_client: TestClient,
    demo: Workspace,
    places: Mapping[str, Place],
    truth: Mapping[str, tuple[float, float]],
) -> None:
    """Trilateration from a viewer's sweep of every threshold to 60 min at three dates does no
    better than the cell centre (median error at least 0.8 x); the same attack on a planner's
    exact answers does far better, so the attack is real and the test can fail."""
    errors = {
        role: _attack(demo_client, demo, role, places, truth)
        for role in (Role.VIEWER, Role.PLANNER)
    }
    cells = {i: r["h3_cell"] for i, r in _rows(demo_client, demo, Role.VIEWER, 30, DATES[0])}
    centre = np.median([_metres(cell_centre(cells[i]), truth[i]) for i in truth])
    viewer, planner = np.median(errors[Role.VIEWER]), np.median(errors[Role.PLANNER])
    figures = f"viewer {viewer:.0f} m, planner {planner:.0f} m, cell centre {centre:.0f} m"
    assert len(errors[Role.VIEWER]) == len(truth) == 186
    assert viewer >= 0.8 * centre, figures
    assert planner <= 0.4 * centre, figures


def _attack(
    client: TestClient,
    ws: Workspace,
    role: Role,
    places: Mapping[str, Place],
    truth: Mapping[str, tuple[float, float]],
) -> list[float]:
    """Each site's error, in metres, of the position worked out from ``role``'s sweep."""
    constraints: dict[str, Constraints] = {}
    cells: dict[str, str] = {}
    for day in DATES:
        for threshold in THRESHOLDS:
            for site_id, row in _rows(client, ws, role, threshold, day):
                cells[site_id] = row["h3_cell"]
                _narrow(constraints.setdefault(site_id, {}), row, threshold, day)
    return [
        _metres(_estimate(cells[i], constraints[i], places), truth[i]) for i in sorted(constraints)
    ]


def _narrow(constraints: Constraints, row: Mapping[str, Any], threshold: int, day: str) -> None:
    """Tighten a site's rings by one answer: ``covered`` says whether any clinic or base is
    within the threshold, ``services_out_of_reach`` the same per needed service."""
    needed = list(row["services_needed"])
    if Service.HEALTH in needed:
        needed.append(Service.REFERRAL)
    within = {ANY: row["covered"]} | {s: s not in row["services_out_of_reach"] for s in needed}
    for what, inside in within.items():
        low, high = constraints.get((what, day), (0.0, np.inf))
        constraints[(what, day)] = (
            (low, min(high, threshold)) if inside else (max(low, threshold), high)
        )


def _estimate(
    cell: str, constraints: Constraints, places: Mapping[str, Place]
) -> tuple[float, float]:
    """The centroid of the points of the site's cell that agree with the most rings."""
    lon, lat = _grid(cell)
    ids = list(places)
    minutes = _minutes(lon, lat, [places[i] for i in ids])
    score = np.zeros(len(lon))
    for (what, _day), (low, high) in constraints.items():
        columns = [j for j, i in enumerate(ids) if _provides(places[i], what)]
        if columns:
            nearest = minutes[:, columns].min(axis=1)
            score += (nearest > low) & (nearest <= high)
    best = score == score.max()
    return float(lon[best].mean()), float(lat[best].mean())


def _provides(place: Place, what: str) -> bool:
    """The published rule: any usable clinic or base; for referral, a hospital; else those
    offering the service."""
    if not place.usable:
        return False
    if what == ANY:
        return True
    if what == Service.REFERRAL:
        return place.kind in CoverageParams().referral_kinds
    return what in place.services


def _grid(cell: str) -> tuple[np.ndarray, np.ndarray]:
    polygon = shapely.Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(cell)])
    west, south, east, north = polygon.bounds
    step_lat = GRID_M / 111_320
    step_lon = step_lat / np.cos(np.radians((south + north) / 2))
    lon, lat = np.meshgrid(np.arange(west, east, step_lon), np.arange(south, north, step_lat))
    inside = shapely.contains_xy(polygon, lon.ravel(), lat.ravel())
    return lon.ravel()[inside], lat.ravel()[inside]


def _minutes(lon: np.ndarray, lat: np.ndarray, places: list[Place]) -> np.ndarray:
    """Straight-line minutes, the backend's published rule (the analysis names its backend)."""
    line = StraightLineParams()
    there = _points([p.lon for p in places], [p.lat for p in places])
    metres = great_circle_metres(_points(lon, lat), there)
    return metres * line.detour_factor / (line.speed_kmh / 3.6) / 60


def _points(lon: Iterable[float], lat: Iterable[float]) -> Points:
    lons, lats = np.asarray(list(lon), dtype=float), np.asarray(list(lat), dtype=float)
    return Points(tuple(map(str, range(len(lons)))), lons, lats)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(great_circle_metres(_points([a[0]], [a[1]]), _points([b[0]], [b[1]]))[0, 0])


# --- no viewer answer depends on where in its cell a site lies --------------------------------


def test_moving_a_site_inside_its_cell_changes_no_viewer_answer(
    small: Workspace, tmp_path: Path
) -> None:
    """DC-1 moved across its cell (and out of an admin area): every viewer answer, at every
    threshold and date, stays byte for byte; planners see the move."""
    ws = copy_workspace(small, tmp_path)
    client = client_for(ws)
    cell = h3.latlng_to_cell(DC_POINT[1], DC_POINT[0], 7)
    centre = np.array(cell_centre(cell))
    moved = tuple(centre + 0.8 * (centre - np.array(DC_POINT)))
    assert h3.latlng_to_cell(moved[1], moved[0], 7) == cell
    before = {role: _answers(client, ws, role) for role in (Role.VIEWER, Role.PLANNER)}
    dc = read_feature(ws.store, "detention_centres", "DC-1")
    update_feature(
        ws.store, "detention_centres", "DC-1", {}, version=dc.version, geometry=shapely.Point(moved)
    )
    after = {role: _answers(client, ws, role) for role in (Role.VIEWER, Role.PLANNER)}
    assert after[Role.VIEWER] == before[Role.VIEWER]
    changed = {k for k, v in after[Role.PLANNER].items() if v != before[Role.PLANNER][k]}
    assert ("/coverage/areas", 30, "2026-11-30", "admin") in changed


def _answers(client: TestClient, ws: Workspace, role: Role) -> dict[tuple[object, ...], str]:
    """Every coverage route's body at a few thresholds and dates, by (route, threshold, date,
    option)."""
    out = {}
    for threshold in (1, 20, 30, 60):
        for day in ("2026-07-01", "2026-11-30"):
            ask = {"threshold": str(threshold), "date": day}
            asks: dict[tuple[str, str], dict[str, str]] = {
                ("/coverage/gaps", "json"): {"gap": "all"},
                ("/coverage/gaps", "geojson"): {"gap": "all", "f": "geojson"},
                ("/coverage/areas", "admin"): {"by": "admin", "f": "geojson"},
                **{
                    ("/coverage/areas", f"h3-{r}"): {"by": "h3", "resolution": str(r)}
                    for r in (5, 6, 7)
                },
                ("/coverage/summary", ""): {},
            }
            for (path, option), extra in asks.items():
                response = client.get(path, params={**ask, **extra}, headers=ws.headers(role))
                assert response.status_code == 200, response.text
                out[(path, threshold, day, option)] = response.text
    return out


# --- what viewers read ------------------------------------------------------------------------


def test_viewers_read_no_minutes_distances_or_places(
    demo_client: TestClient, demo: Workspace
) -> None:
    """No viewer body of any coverage route, at thresholds that leave sites beyond reach and
    on a day a no-go zone cuts one off, holds minutes, kilometres or metres, a travel-time
    field, or the id or name of a clinic, team, base or no-go zone; planners' do."""
    places = _place_words(demo)
    for role in (Role.VIEWER, Role.PLANNER):
        bodies = _bodies(demo_client, demo, role)
        found = {w for w in places if any(w in body for body in bodies)}
        timed = [m.group() for body in bodies for m in MINUTES_OR_DISTANCE.finditer(body)]
        if role == Role.VIEWER:
            assert not found, found
            assert not timed, timed[:5]
        else:
            assert found
            assert timed
    rows = _get(demo_client, demo, Role.VIEWER, "/coverage/gaps", gap="all", limit=10_000)
    fields = set().union(*(row.keys() for row in rows["sites"]))
    timing = {"minutes", "nearest", "distance", "metres", "lon", "lat", "name"}
    assert {f for f in fields if set(f.split("_")) & timing} == {"area_name"}  # admin areas


def _place_words(ws: Workspace) -> set[str]:
    store = ws.store
    clinics, teams, zones = store.read("clinics"), store.read("teams"), store.read("no_go_zones")
    words = {*clinics["id"], *clinics["name"], *teams["id"], *teams["name"], *teams["base_name"]}
    return {str(w) for w in (*words, *zones["name"]) if isinstance(w, str) and w}


def _bodies(client: TestClient, ws: Workspace, role: Role) -> list[str]:
    bodies = []
    for threshold in ("1", "30"):
        ask = {"threshold": threshold, "date": DATES[-1]}
        for path, extra in (
            ("/coverage/gaps", {"gap": "all", "limit": "10000"}),
            ("/coverage/gaps", {"gap": "all", "limit": "10000", "f": "geojson"}),
            ("/coverage/areas", {"limit": "10000"}),
            ("/coverage/summary", {}),
            ("/coverage/indicators", {}),
        ):
            response = client.get(path, params={**ask, **extra}, headers=ws.headers(role))
            assert response.status_code == 200, response.text
            bodies.append(response.text)
    return bodies


# --- the cache --------------------------------------------------------------------------------


def test_a_planners_cached_answer_is_never_a_viewers(small: Workspace, tmp_path: Path) -> None:
    """At 20 min DC-1 is within reach from its position (19.9 min) but not from its cell
    centre (21.4 min): a viewer asking right after a planner gets the cell centre's answer,
    the same as a viewer alone would, from an analysis of its own."""
    (tmp_path / "both").mkdir()
    (tmp_path / "alone").mkdir()
    ws = copy_workspace(small, tmp_path / "both")
    client = client_for(ws)
    ask = {"threshold": "20", "date": "2026-11-30", "gap": "all"}
    planner = client.get("/coverage/gaps", params=ask, headers=ws.headers(Role.PLANNER))
    viewer = client.get("/coverage/gaps", params=ask, headers=ws.headers(Role.VIEWER))
    assert client.app.state.coverage.cache.computed == 2  # type: ignore[attr-defined]
    exact = {s.id: s for s in GapTable.model_validate(planner.json()).sites}
    seen = {s.id: s for s in GeneralisedGapTable.model_validate(viewer.json()).sites}
    assert exact["DC-1"].covered
    assert not seen["DC-1"].covered
    alone = copy_workspace(small, tmp_path / "alone")
    fresh = client_for(alone).get("/coverage/gaps", params=ask, headers=alone.headers(Role.VIEWER))
    assert viewer.json() == fresh.json()


# --- helpers ----------------------------------------------------------------------------------


def _get(client: TestClient, ws: Workspace, role: Role, path: str, **params: object) -> Any:
    response = client.get(path, params={"limit": 10_000, **params}, headers=ws.headers(role))
    assert response.status_code == 200, response.text
    return response.json()


def _rows(
    client: TestClient, ws: Workspace, role: Role, threshold: int, day: str
) -> list[tuple[str, dict[str, Any]]]:
    body = _get(client, ws, role, "/coverage/gaps", gap="all", threshold=str(threshold), date=day)
    return [(str(row["id"]), row) for row in body["sites"]]
