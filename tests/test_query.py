"""Selecting rows: bounding boxes (antimeridian included), attribute values, date ranges."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geoplan.catalog import get_layer
from geoplan.errors import ParameterError
from geoplan.layers import validate_table
from geoplan.query import DateRange, RowFilter, date_field, filter_rows, filterable_fields
from geoplan.sources import RawTable, read_source

GP = get_layer("gathering_points")
VISITS = get_layer("outreach_visits")


@pytest.fixture
def sites(fixtures: Path) -> gpd.GeoDataFrame:
    frame, report = validate_table(read_source(fixtures / "valid" / "gathering_points.csv"), GP)
    assert report.ok
    return frame


@pytest.fixture
def visits() -> pd.DataFrame:
    rows = pd.DataFrame(
        {
            "id": ["V1", "V2", "V3"],
            "site_id": ["GP-1", "GP-2", "GP-1"],
            "date": ["2024-01-01", "2024-01-15", "2024-02-01"],
            "team_id": ["T1", "T1", "T2"],
            "services": ["health", "health,nfi", "mhpss"],
        },
        dtype=object,
    )
    context_ids = {
        "teams": frozenset({"T1", "T2"}),
        "gathering_points": frozenset({"GP-1", "GP-2"}),
    }
    from geoplan.layers import ValidationContext

    frame, report = validate_table(
        RawTable("v.csv", rows), VISITS, context=ValidationContext(known_ids=context_ids)
    )
    assert report.ok, report.summary()
    return frame


def _ids(frame: pd.DataFrame) -> list[str]:
    return list(frame["id"])


def test_bbox_keeps_points_inside(sites: gpd.GeoDataFrame) -> None:
    """GP-2 (13.25, 32.85) and GP-3 (13.30, 32.86) are inside; GP-1 (13.18) is not."""
    assert _ids(filter_rows(sites, GP, RowFilter(bbox=(13.2, 32.8, 13.4, 32.9)))) == [
        "GP-2",
        "GP-3",
    ]


def test_bbox_across_the_antimeridian_and_empty_boxes(sites: gpd.GeoDataFrame) -> None:
    """WEST > EAST wraps around the antimeridian; SOUTH > NORTH matches nothing."""
    assert _ids(filter_rows(sites, GP, RowFilter(bbox=(13.26, 32.0, 13.2, 33.0)))) == [
        "GP-1",
        "GP-3",
    ]
    assert filter_rows(sites, GP, RowFilter(bbox=(13.0, 33.0, 14.0, 32.0))).empty


def test_equals_on_values_and_list_members(sites: gpd.GeoDataFrame) -> None:
    """Enum and integer fields match by value; list fields match when they hold the value."""
    assert _ids(filter_rows(sites, GP, RowFilter(equals={"setting": "shelter"}))) == ["GP-3"]
    assert _ids(filter_rows(sites, GP, RowFilter(equals={"visit_frequency_days": 14}))) == ["GP-1"]
    assert _ids(filter_rows(sites, GP, RowFilter(equals={"services_needed": "mhpss"}))) == ["GP-1"]
    assert _ids(filter_rows(sites, GP, RowFilter(equals={"services_needed": "health"}))) == [
        "GP-1",
        "GP-2",
    ]


def test_free_text_cannot_be_matched(sites: gpd.GeoDataFrame) -> None:
    """Names and notes are not selection keys (a viewer could probe them otherwise)."""
    assert "name" not in {f.name for f in filterable_fields(GP)}
    with pytest.raises(ParameterError, match="cannot be selected by 'name'"):
        filter_rows(sites, GP, RowFilter(equals={"name": "Farm compound"}))


def test_date_ranges_include_both_ends(visits: pd.DataFrame) -> None:
    """A range keeps days from start to end inclusive; either end may be open."""
    assert date_field(VISITS) == "date"
    jan = DateRange(dt.date(2024, 1, 1), dt.date(2024, 1, 15))
    assert _ids(filter_rows(visits, VISITS, RowFilter(dates=jan))) == ["V1", "V2"]
    assert _ids(
        filter_rows(visits, VISITS, RowFilter(dates=DateRange(start=dt.date(2024, 1, 2))))
    ) == [
        "V2",
        "V3",
    ]
    with pytest.raises(ParameterError, match="ends before it starts"):
        DateRange(dt.date(2024, 2, 1), dt.date(2024, 1, 1))


def test_dates_on_a_layer_without_time_keep_every_row(sites: gpd.GeoDataFrame) -> None:
    """Gathering points have no time: a date range keeps every one (OGC API datetime)."""
    kept = filter_rows(sites, GP, RowFilter(dates=DateRange(start=dt.date(2024, 1, 1))))
    assert len(kept) == len(sites)
