"""A travel-time backend is a plug-in: one small class, registered, reaches every command.

The backend below (city blocks: east-west, then north-south, at one speed) is defined here and
nowhere else; registering it makes ``--backend blocks`` work in ``geoplan matrix``,
``coverage``, ``plan`` and ``map``, and the maps draw its own reach area and route lines.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import shapely

from geoplan.cli import run
from geoplan.demo.scenario import build_demo_workspace
from geoplan.travel.backend import (
    _REGISTERED,
    BackendOptions,
    Coords,
    ReachArea,
    backend_names,
    register_backend,
)
from geoplan.travel.matrix import Points, TravelTimeMatrix, matrix_from_arrays, zone_reasons
from geoplan.zones import Closures

TODAY = dt.date(2026, 11, 25)
METRES_PER_DEGREE = 111_320.0
NOTE = "City blocks: a diamond around each clinic and base."


class BlocksBackend:
    """City blocks at 20 km/h: east-west first, then north-south."""

    name: ClassVar[str] = "blocks"
    description = "city blocks at 20 km/h"
    speed = 20 / 3.6

    def travel_times(
        self, origins: Points, destinations: Points, closures: Closures
    ) -> TravelTimeMatrix:
        """Manhattan distance in degrees, as metres, at one speed."""
        metres = METRES_PER_DEGREE * (
            np.abs(origins.lon[:, None] - destinations.lon[None, :])
            + np.abs(origins.lat[:, None] - destinations.lat[None, :])
        )
        return matrix_from_arrays(
            origins,
            destinations,
            metres / self.speed,
            metres,
            reachable=np.ones(metres.shape, dtype=bool),
            reasons=zone_reasons(origins, destinations, closures),
            backend=self.name,
            parameters={"closures_on": closures.on},
        )

    def reach_area(
        self, origins: Points, minutes: float, closures: Closures, *, places: Points
    ) -> ReachArea:
        """A diamond of the distance driven in ``minutes`` around each origin."""
        r = minutes * 60 * self.speed / METRES_PER_DEGREE
        diamonds = [
            shapely.Polygon([(x - r, y), (x, y + r), (x + r, y), (x, y - r)])
            for x, y in zip(origins.lon, origins.lat, strict=True)
        ]
        return ReachArea(shapely.union_all(diamonds), NOTE)

    def route_line(self, stops: Points, closures: Closures) -> Coords | None:
        """Each leg east-west, then north-south."""
        coords = [(float(stops.lon[0]), float(stops.lat[0]))]
        for x, y in zip(stops.lon[1:], stops.lat[1:], strict=True):
            coords += [(float(x), coords[-1][1]), (float(x), float(y))]
        return tuple(coords)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A small demo workspace, with the blocks backend registered while the module runs."""
    register_backend("blocks", lambda argument, options: BlocksBackend())
    path = tmp_path_factory.mktemp("blocks") / "geoplan.gpkg"
    build_demo_workspace(path, seed=7, sites=25, visits=200, today=TODAY)
    yield path
    _REGISTERED.pop("blocks")


def _run(*args: str | Path) -> int:
    return run([str(a) for a in args])


def test_a_registered_backend_is_offered(workspace: Path) -> None:
    """``--backend`` knows the registered name besides the built-in ones."""
    assert {"blocks", "straight_line", "roads", "table"} <= set(backend_names())


def test_matrix_uses_the_plugged_in_backend(workspace: Path, tmp_path: Path) -> None:
    """`geoplan matrix --backend blocks` writes the backend's times."""
    out = tmp_path / "m.csv"
    code = _run("matrix", "--from", "teams", "--to", "clinics", "--backend", "blocks",
                "-o", out, "-w", workspace, "--date", TODAY.isoformat())  # fmt: skip
    assert code == 0
    with out.open(encoding="utf-8") as stream:
        first = next(csv.DictReader(stream))
    assert float(first["seconds"]) == pytest.approx(
        float(first["metres"]) / BlocksBackend.speed, abs=0.1
    )  # rounded to 0.1


def test_coverage_uses_the_plugged_in_backend(workspace: Path, tmp_path: Path) -> None:
    """`geoplan coverage --backend blocks` analyses with the backend's times."""
    out = tmp_path / "cov"
    assert _run("coverage", "--backend", "blocks", "-o", out, "-w", workspace) == 0
    assert (out / "coverage_sites.csv").is_file()


def test_plan_routes_follow_the_backend_lines(workspace: Path, tmp_path: Path) -> None:
    """`geoplan plan --backend blocks` writes route lines with the backend's right angles."""
    out = tmp_path / "plan"
    code = _run("plan", "--backend", "blocks", "--week", "2026-W49", "--time-limit", "1",
                "--format", "geojson", "-o", out, "-w", workspace)  # fmt: skip
    assert code == 0
    data = json.loads((out / "plan.geojson").read_text(encoding="utf-8"))
    routes = [f for f in data["features"] if f["properties"]["kind"] == "route"]
    assert routes
    for route in routes:
        coords = route["geometry"]["coordinates"]
        legs = itertools.pairwise(coords)
        assert all(a[0] == b[0] or a[1] == b[1] for a, b in legs)  # no diagonal leg


def test_maps_draw_the_backend_reach_and_routes(workspace: Path, tmp_path: Path) -> None:
    """The coverage map draws the backend's reach area (its note in the legend), and the plan
    map draws its lines (more points than stops, each leg along one axis)."""
    cov = tmp_path / "coverage.html"
    assert _run("map", "coverage", "--backend", "blocks", "--no-tiles", "-o", cov,
                "-w", workspace, "--date", TODAY.isoformat()) == 0  # fmt: skip
    assert NOTE in cov.read_text(encoding="utf-8")
    plan = tmp_path / "plan.html"
    assert _run("map", "plan", "--backend", "blocks", "--week", "2026-W49", "--time-limit", "1",
                "--no-tiles", "-o", plan, "-w", workspace) == 0  # fmt: skip
    routes = _routes(plan.read_text(encoding="utf-8"))
    assert routes
    for route in routes:
        coords = route["coords"]
        assert len(coords) > len(route["stops"]) + 2
        assert "along roads" in route["popup"]
        legs = itertools.pairwise(coords)
        assert all(a[0] == b[0] or a[1] == b[1] for a, b in legs)


def _routes(html: str) -> list[dict[str, object]]:
    """The plan map's route payload (the JSON block the page's script reads)."""
    for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S):
        data = json.loads(block)
        if isinstance(data, dict) and "routes" in data:
            routes: list[dict[str, object]] = data["routes"]
            return routes
    raise AssertionError("no route data in the page")


def test_an_unknown_backend_is_a_usage_error(workspace: Path, tmp_path: Path) -> None:
    """An unknown name exits 2 and names the backends there are."""
    assert _run("matrix", "--from", "teams", "--to", "clinics", "--backend", "osrm",
                "-o", tmp_path / "m.csv", "-w", workspace) == 2  # fmt: skip


def test_options_reach_the_factory() -> None:
    """A factory gets the text after NAME: and the options."""
    seen: list[tuple[str, BackendOptions]] = []

    def factory(argument: str, options: BackendOptions) -> BlocksBackend:
        seen.append((argument, options))
        return BlocksBackend()

    register_backend("probe", factory)
    try:
        from geoplan.workspace import travel_time_backend

        options = BackendOptions(cache_dir=Path("cache"))
        backend = travel_time_backend(spec="probe:some/arg:with:colons", options=options)
    finally:
        _REGISTERED.pop("probe")
    assert backend.description == "city blocks at 20 km/h"
    assert seen == [("some/arg:with:colons", options)]
