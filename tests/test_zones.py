"""No-go zones: which are active on a date, which points they hold, which segments they cut."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geoplan.errors import ParameterError
from geoplan.zones import Closures, active_zones, inside_zone_reason, no_closures

DAY = dt.date(2026, 3, 10)


def zones(*rows: tuple[str, str, str, str | None], crs: int = 4326) -> gpd.GeoDataFrame:
    """Zones ``(id, name, valid_from, valid_to)``; zone k is the box 0..1 x k..k+1 (degrees)."""
    frame = gpd.GeoDataFrame(
        {
            "id": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "reason": ["clashes"] * len(rows),
            "valid_from": [dt.date.fromisoformat(r[2]) for r in rows],
            "valid_to": [dt.date.fromisoformat(r[3]) if r[3] else None for r in rows],
        },
        geometry=[shapely.box(0, k, 1, k + 1) for k in range(len(rows))],
        crs=4326,
    )
    return frame.to_crs(crs)


def test_a_zone_is_closed_from_its_first_to_its_last_day_both_included() -> None:
    """valid_from and valid_to are both closed days; the day after valid_to is open."""
    layer = zones(("Z1", "North", "2026-03-01", "2026-03-10"))
    assert len(active_zones(layer, on=dt.date(2026, 3, 1)).zones) == 1
    assert len(active_zones(layer, on=DAY).zones) == 1
    assert active_zones(layer, on=dt.date(2026, 3, 11)).empty
    assert active_zones(layer, on=dt.date(2026, 2, 28)).empty


def test_an_empty_valid_to_keeps_a_zone_closed_until_further_notice() -> None:
    """A zone without valid_to stays active on any later date."""
    layer = zones(("Z1", "North", "2026-03-01", None))
    assert list(active_zones(layer, on=dt.date(2031, 1, 1)).zones["id"]) == ["Z1"]


def test_only_the_zones_active_on_the_day_are_kept() -> None:
    """Of three zones, the one not yet started and the one already ended are left out."""
    layer = zones(
        ("OLD", "Old", "2026-01-01", "2026-02-01"),
        ("NOW", "Now", "2026-03-01", None),
        ("LATER", "Later", "2026-04-01", None),
    )
    closures = active_zones(layer, on=DAY)
    assert list(closures.zones["id"]) == ["NOW"]
    assert closures.on == DAY


def test_no_layer_or_an_empty_layer_closes_nothing() -> None:
    """None, an empty layer and no_closures() all mean nothing is closed."""
    assert active_zones(None, on=DAY).empty
    assert active_zones(zones().iloc[:0], on=DAY).empty
    assert no_closures().empty
    assert no_closures().on is None


def test_missing_columns_are_named_in_the_error() -> None:
    """A frame without valid_from is refused, naming the missing column."""
    layer = zones(("Z1", "North", "2026-03-01", None)).drop(columns=["valid_from"])
    with pytest.raises(ParameterError, match="missing valid_from"):
        active_zones(layer, on=DAY)


def test_zones_in_another_crs_are_converted_to_degrees() -> None:
    """A layer in Web Mercator is brought back to EPSG:4326 before it is used."""
    closures = active_zones(zones(("Z1", "North", "2026-03-01", None), crs=3857), on=DAY)
    assert closures.zones.crs.to_epsg() == 4326
    assert closures.zone_containing(np.array([0.5]), np.array([0.5])) == ["North"]


def test_zone_containing_names_the_zone_or_none() -> None:
    """A point inside a zone gets its name, one outside gets None, the first listed wins."""
    layer = zones(("A", "Alpha", "2026-01-01", None), ("B", "Bravo", "2026-01-01", None))
    layer.loc[1, "geometry"] = shapely.box(0, 0, 2, 2)  # Bravo overlaps Alpha
    closures = active_zones(layer, on=DAY)
    lon, lat = np.array([0.5, 1.5, 5.0]), np.array([0.5, 1.5, 5.0])
    assert closures.zone_containing(lon, lat) == ["Alpha", "Bravo", None]


def test_crossed_is_true_for_segments_that_touch_a_zone() -> None:
    """Across, inside and ending inside a zone cut the segment; passing beside does not."""
    closures = active_zones(zones(("Z1", "North", "2026-01-01", None)), on=DAY)
    lon0, lat0 = np.array([-1.0, 0.2, -1.0, -1.0]), np.array([0.5, 0.2, 0.5, 1.5])
    lon1, lat1 = np.array([2.0, 0.8, 0.5, 2.0]), np.array([0.5, 0.8, 0.5, 1.5])
    assert closures.crossed(lon0, lat0, lon1, lat1).tolist() == [True, True, True, False]


def test_nothing_is_crossed_when_nothing_is_closed() -> None:
    """With no active zone, no segment is cut."""
    one = np.array([0.0])
    assert not no_closures().crossed(one, one, one + 1, one + 1).any()


def test_digest_depends_on_the_closed_areas_only() -> None:
    """Same areas in another order give the same digest; another area gives another one."""
    layer = zones(("A", "Alpha", "2026-01-01", None), ("B", "Bravo", "2026-01-01", None))
    forward = active_zones(layer, on=DAY).digest()
    backward = active_zones(layer.iloc[::-1].reset_index(drop=True), on=DAY).digest()
    assert forward == backward
    assert active_zones(layer.iloc[:1], on=DAY).digest() != forward


def test_inside_zone_reason_names_the_zone() -> None:
    """The reason reads "inside no-go zone <name>"."""
    assert inside_zone_reason("Eastern belt") == "inside no-go zone Eastern belt"


def test_closures_report_the_date_asked_for() -> None:
    """Closures keep the date they were asked for."""
    closures = Closures(on=DAY, zones=no_closures().zones)
    assert closures.on == DAY
    assert closures.empty


def closures_of(*geometries: shapely.Geometry) -> Closures:
    """Active closures over the given polygons."""
    rows = [(f"Z{k}", f"Zone {k}", "2026-01-01", None) for k in range(len(geometries))]
    layer = zones(*rows)
    layer["geometry"] = list(geometries)
    return active_zones(layer, on=DAY)


def test_crossed_handles_touching_collinear_and_degenerate_segments() -> None:
    """Along an edge, ending on a corner, a single point on the edge: touching counts."""
    closures = closures_of(shapely.box(0, 0, 1, 1))
    cases = [
        ((-1.0, 0.0), (2.0, 0.0), True),  # along the bottom edge
        ((2.0, 0.0), (3.0, 0.0), False),  # on the edge's line, beyond it
        ((-1.0, -1.0), (0.0, 0.0), True),  # ends on a corner
        ((0.5, 0.0), (0.5, 0.0), True),  # a point on the edge
        ((0.0, 2.0), (2.0, 0.0), True),  # grazes the corner (1, 1)
        ((0.0, 2.1), (2.1, 0.0), False),  # passes just beside it
    ]
    lon0, lat0 = np.array([c[0][0] for c in cases]), np.array([c[0][1] for c in cases])
    lon1, lat1 = np.array([c[1][0] for c in cases]), np.array([c[1][1] for c in cases])
    assert closures.crossed(lon0, lat0, lon1, lat1).tolist() == [c[2] for c in cases]


def test_crossed_agrees_with_shapely_on_random_segments_and_zones() -> None:
    """Against shapely's own intersects: a triangle, a box with a hole and a multipolygon."""
    holed = shapely.Polygon(
        [(0, 0), (4, 0), (4, 4), (0, 4)], holes=[[(1, 1), (3, 1), (3, 3), (1, 3)]]
    )
    shapes = [
        shapely.Polygon([(5, 5), (9, 6), (6, 9)]),
        holed,
        shapely.MultiPolygon([shapely.box(-5, 0, -4, 1), shapely.box(-3, -3, -2, 5)]),
    ]
    rng = np.random.default_rng(8)
    lon0, lat0, lon1, lat1 = (rng.uniform(-6, 10, 4000) for _ in range(4))
    short = rng.random(4000) < 0.5  # half of them short, so that many end inside a zone
    lon1[short] = lon0[short] + rng.normal(0, 0.5, short.sum())
    lat1[short] = lat0[short] + rng.normal(0, 0.5, short.sum())
    lines = shapely.linestrings(np.stack([np.c_[lon0, lat0], np.c_[lon1, lat1]], axis=1))
    for shape in shapes:
        expected = shapely.intersects(lines, shape)
        got = closures_of(shape).crossed(lon0, lat0, lon1, lat1)
        np.testing.assert_array_equal(got, expected)
        assert 0 < expected.sum() < len(expected)
