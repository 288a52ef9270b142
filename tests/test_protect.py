"""Generalising sensitive positions: H3 cell centres, no free text, no fine resolutions."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import h3
import pandas as pd
import pytest
import shapely

from geoplan.catalog import get_layer
from geoplan.errors import ParameterError
from geoplan.layers import validate_table
from geoplan.protect import (
    cell_centre,
    free_text_fields,
    generalise_frames,
    generalise_points,
    is_protected,
)
from geoplan.sources import read_source


@pytest.fixture
def sites(fixtures: Path) -> gpd.GeoDataFrame:
    frame, report = validate_table(
        read_source(fixtures / "valid" / "gathering_points.csv"), get_layer("gathering_points")
    )
    assert report.ok
    return frame


def test_points_move_to_their_cell_centre(sites: gpd.GeoDataFrame) -> None:
    """Each site sits at the centre of the resolution-7 cell it lies in; counts stay."""
    out = generalise_points(sites, get_layer("gathering_points"), resolution=7)
    for point, generalised, cell in zip(sites.geometry, out.geometry, out["h3_cell"], strict=True):
        assert cell == h3.latlng_to_cell(point.y, point.x, 7)
        assert (generalised.x, generalised.y) == cell_centre(cell)
        assert generalised.distance(point) > 0
    assert list(out["people"]) == list(sites["people"])


def test_free_text_is_left_out(sites: gpd.GeoDataFrame) -> None:
    """Names, notes and reasons go; codes with a fixed form (P-codes) stay."""
    layer = get_layer("gathering_points")
    assert free_text_fields(layer) == ("name", "access_reason", "notes")
    out = generalise_points(sites, layer, resolution=6)
    assert not set(free_text_fields(layer)) & set(out.columns)
    assert "admin_code" in out.columns
    assert free_text_fields(get_layer("detention_centres")) == (
        "name",
        "access_reason",
        "notes",
        "authority",
    )


def test_only_high_point_layers_are_protected() -> None:
    """Gathering points and detention centres are protected; clinics and visits are not."""
    protected = {
        n
        for n in ("gathering_points", "detention_centres", "clinics", "outreach_visits")
        if is_protected(get_layer(n))
    }
    assert protected == {"gathering_points", "detention_centres"}


@pytest.mark.parametrize("resolution", [-1, 9, 15])
def test_fine_resolutions_are_refused(sites: gpd.GeoDataFrame, resolution: int) -> None:
    """A resolution finer than 8 (or negative) is not a generalisation."""
    with pytest.raises(ParameterError, match="not a generalisation"):
        generalise_points(sites, get_layer("gathering_points"), resolution=resolution)


def test_frames_of_protected_layers_are_generalised_and_others_kept(
    sites: gpd.GeoDataFrame,
) -> None:
    """An analysis' input: gathering points at cell centres without names; clinics as they are."""
    clinics = gpd.GeoDataFrame(
        pd.DataFrame({"id": ["CL-1"], "name": ["Clinic one"]}),
        geometry=[shapely.Point(13.19, 32.87)],
        crs="EPSG:4326",
    )
    frames = {"gathering_points": sites, "clinics": clinics}
    out = generalise_frames(frames, resolution=7)
    assert out["clinics"] is clinics
    points = out["gathering_points"]
    assert "name" not in points.columns
    for point, cell in zip(points.geometry, points["h3_cell"], strict=True):
        assert (point.x, point.y) == cell_centre(cell)
