"""Boundary polygons and the placement hints for points outside them."""

from __future__ import annotations

import pytest
import shapely

from geoplan.boundaries import Boundaries, placement_hint

# Two boxes standing for admin areas west of Greenwich (Guinea-like longitudes).
WEST = shapely.box(-15.0, 7.0, -11.0, 12.0)
EAST = shapely.box(-11.0, 7.0, -7.5, 12.0)
AREAS = Boundaries.from_geometries([WEST, EAST], ids=["GN01", "GN02"], names=["West", "East"])


@pytest.mark.parametrize(
    ("lon", "lat", "rule"),
    [
        (9.5, -13.0, "lon-lat-swapped"),  # axes exchanged
        (13.0, 9.5, "wrong-sign"),  # the longitude's minus sign lost
        (9.5, 9.5, "copied-coordinate"),  # the latitude copied into the longitude
        (-77.66, 9.5, "decimal-shift"),  # -7.766 with its decimal point slipped
        (-9.5, 963658.0, "decimal-shift"),  # 9.63658 written without its decimal point
    ],
)
def test_placement_hints(lon: float, lat: float, rule: str) -> None:
    """Each usual slip is named by the fix that puts the point back inside."""
    hint = placement_hint(lon, lat, AREAS.contains)
    assert hint is not None
    assert hint.rule == rule


def test_no_hint_for_a_point_simply_elsewhere() -> None:
    """A point in another continent gets no made-up hint."""
    assert placement_hint(100.0, 40.0, AREAS.contains) is None


def test_areas_at_names_the_polygon() -> None:
    """A point is located in its polygon; edges count as inside."""
    assert AREAS.areas_at(-12.0, 9.0) == [0]
    assert AREAS.describe(AREAS.areas_at(-9.0, 9.0)[0]) == "East (GN02)"
    assert not AREAS.contains(-5.0, 9.0)
