"""Summing sites per admin area (by P-code, else by location) and per H3 hexagon.

Two square areas side by side, WEST (LY01, 13.0-13.1 E) and EAST (LY02, 13.1-13.2 E), and
five sites: one in each, one on their shared border, one outside both and one whose P-code
names WEST although it lies in EAST.
"""

from __future__ import annotations

import geopandas as gpd
import h3
import pandas as pd
import pytest
import shapely

from geoplan.areas import OUTSIDE, assign_areas, h3_cells, h3_polygons, totals_by_area
from geoplan.errors import ParameterError

AREAS = gpd.GeoDataFrame(
    {"id": ["LY02", "LY01"], "name": ["East", "West"]},
    geometry=[shapely.box(13.1, 32.8, 13.2, 32.9), shapely.box(13.0, 32.8, 13.1, 32.9)],
    crs="EPSG:4326",
)


def _sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["IN-W", "IN-E", "BORDER", "AWAY", "CODED"],
            "admin_code": [None, "ZZ9", None, None, "LY01"],
            "people": [10, 20, 30, 40, 50],
        },
        geometry=gpd.points_from_xy(
            [13.05, 13.15, 13.1, 14.0, 13.15], [32.85, 32.85, 32.85, 32.85, 32.88]
        ),
        crs="EPSG:4326",
    )


def test_sites_are_placed_by_code_then_location() -> None:
    """A known P-code wins; otherwise the area the site lies in; else outside."""
    placed = assign_areas(_sites(), AREAS).set_index(_sites()["id"])
    assert placed["area_id"].fillna("-").to_dict() == {
        "IN-W": "LY01",
        "IN-E": "LY02",
        "BORDER": "LY01",
        "AWAY": "-",
        "CODED": "LY01",
    }
    assert placed["area_source"].to_dict() == {
        "IN-W": "location",
        "IN-E": "location, p-code unknown",
        "BORDER": "location",
        "AWAY": "outside",
        "CODED": "p-code",
    }
    assert placed.loc["IN-E", "area_name"] == "East"


def test_a_site_on_a_border_is_counted_once_in_the_smaller_id() -> None:
    """The border point touches both squares and goes to LY01 only."""
    placed = assign_areas(_sites(), AREAS)
    assert len(placed) == 5
    assert placed.loc[2, "area_id"] == "LY01"


def test_areas_in_another_crs_are_matched() -> None:
    """Areas in UTM 33N place the same sites as in EPSG:4326."""
    utm = AREAS.to_crs(32633)
    placed = assign_areas(_sites(), utm)
    assert list(placed["area_id"].fillna("-")) == ["LY01", "LY02", "LY01", "-", "LY01"]


@pytest.mark.parametrize(
    ("areas", "message"),
    [
        (AREAS.drop(columns="name"), "expected columns id and name, missing name"),
        (AREAS.assign(id=["LY01", "LY01"]), "ids must be unique, repeated: LY01"),
    ],
)
def test_bad_area_tables_are_refused(areas: gpd.GeoDataFrame, message: str) -> None:
    """Areas without names or with repeated ids are named."""
    with pytest.raises(ParameterError, match=message):
        assign_areas(_sites(), areas)


def test_totals_add_up_with_an_outside_row_and_empty_areas() -> None:
    """Per-area sums plus the outside row equal the total; an empty area gets zeros."""
    sites = _sites()
    placed = assign_areas(sites, AREAS)
    areas = pd.concat([AREAS, pd.DataFrame({"id": ["LY03"], "name": ["Empty"]})])
    table = totals_by_area(sites, placed["area_id"], areas=areas, columns=["people"])
    assert table.to_dict("records") == [
        {"area_id": "LY02", "area_name": "East", "people": 20},
        {"area_id": "LY01", "area_name": "West", "people": 90},
        {"area_id": "LY03", "area_name": "Empty", "people": 0},
        {"area_id": "", "area_name": OUTSIDE, "people": 40},
    ]
    assert table["people"].sum() == sites["people"].sum()


def test_no_outside_row_when_every_site_is_placed() -> None:
    """Without a site outside, the table has one row per area."""
    sites = _sites().iloc[:3]
    table = totals_by_area(
        sites, assign_areas(sites, AREAS)["area_id"], areas=AREAS, columns=["people"]
    )
    assert list(table["area_id"]) == ["LY02", "LY01"]


def test_h3_cells_match_the_library_and_contain_their_sites() -> None:
    """Each point's cell is h3's own; the cell's hexagon contains the point."""
    sites = _sites()
    cells = h3_cells(sites, resolution=7)
    for point, cell in zip(sites.geometry, cells, strict=True):
        assert cell == h3.latlng_to_cell(point.y, point.x, 7)
        assert h3_polygons([cell]).iloc[0].contains(point)


def test_h3_cells_of_projected_points_and_empty_geometries() -> None:
    """Points in another CRS are converted; a missing point has no cell."""
    sites = _sites()
    projected = sites.to_crs(32633)
    assert list(h3_cells(projected, resolution=6)) == list(h3_cells(sites, resolution=6))
    empty = gpd.GeoDataFrame({"id": ["X"]}, geometry=[shapely.Point()], crs="EPSG:4326")
    assert h3_cells(empty, resolution=7).isna().all()


def test_h3_resolution_is_checked() -> None:
    """Resolutions outside 0..15 say what is expected."""
    with pytest.raises(ParameterError, match=r"h3_resolution: expected 0\.\.15, got 16"):
        h3_cells(_sites(), resolution=16)
