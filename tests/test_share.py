"""Shared products attacked as an outsider would: on the demo workspace and on one of 5,000
sites, every product (coverage, activities, layers; admin and H3 levels; CSV, XLSX, GeoJSON,
HTML) is searched for any point in a sensitive site's viewer-resolution H3 cell, its published
cells are checked against the threshold, and every suppressed cell is attacked by linear
algebra from the published totals."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import h3
import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from geoplan.demo.scenario import build_demo_workspace
from geoplan.errors import ParameterError, PolicyError
from geoplan.indicators import Period
from geoplan.policy import protected_layers, read_policy
from geoplan.share import (
    FORMATS,
    SHARE_KINDS,
    TOTAL,
    Level,
    ShareProduct,
    ShareRequest,
    save_share,
    scrub_geometry,
)
from geoplan.store import Store, open_store
from geoplan.workspace import share_from_store

TODAY = dt.date(2026, 12, 1)
PERIOD = Period(dt.date(2026, 6, 1), dt.date(2026, 11, 30))
_NUMBER = re.compile(r"-?\d{1,3}\.\d+")
_PAIR = re.compile(r"\[\s*(-?\d{1,3}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*\]")


@dataclass(frozen=True)
class Shared:
    """A workspace and the products made from it, written in every format."""

    store: Store
    protected: frozenset[str]
    products: dict[tuple[str, str], ShareProduct]
    files: dict[tuple[str, str, str], Path]


def _shared(folder: Path, levels: tuple[str, ...], **sizes: int) -> Shared:
    build_demo_workspace(folder / "ws.gpkg", today=TODAY, **sizes)
    store = open_store(folder / "ws.gpkg")
    policy = read_policy(store)
    products, files = {}, {}
    for kind in SHARE_KINDS:
        for by in levels:
            request = ShareRequest(
                kind,
                Level.parse(by, viewer_resolution=policy.viewer_resolution),
                PERIOD,
                threshold=policy.threshold,
                viewer_resolution=policy.viewer_resolution,
            )
            product = share_from_store(store, request, today=TODAY)
            products[(kind, by)] = product
            for suffix in FORMATS:
                path = folder / f"{kind}-{by.replace(':', '')}{suffix}"
                files[(kind, by, suffix)] = save_share(product, path)
    return Shared(store, sensitive_cells(store, policy.viewer_resolution), products, files)


def sensitive_cells(store: Store, resolution: int) -> frozenset[str]:
    """The attacker's target: the viewer-resolution cells of every sensitive site."""
    cells = set()
    for layer in protected_layers():
        for p in store.read(layer).geometry:
            if p is not None and not p.is_empty:
                cells.add(h3.latlng_to_cell(p.y, p.x, resolution))
    return frozenset(cells)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Shared:
    """The demo workspace's products."""
    return _shared(tmp_path_factory.mktemp("share-demo"), ("admin2", "admin1", "h3:6"))


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Shared:
    """Products of a workspace of 5,000 gathering points and 20,000 visits."""
    folder = tmp_path_factory.mktemp("share-big")
    return _shared(folder, ("admin2", "h3:6", "h3:7"), sites=5000, visits=20000)


@pytest.fixture(params=["demo", "big"])
def shared(request: pytest.FixtureRequest) -> Shared:
    """Each workspace's products."""
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


# --- what an attacker reads out of a file -------------------------------------------------------


def file_text(path: Path) -> str:
    """Everything a file says, as text (an XLSX's cells, one per line)."""
    if path.suffix == ".xlsx":
        book = load_workbook(path)
        return "\n".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
        )
    return path.read_text(encoding="utf-8")


def points_in(text: str) -> list[tuple[float, float]]:
    """Every bracketed pair of numbers (a GeoJSON position, a Leaflet LatLng), read both ways
    as (lat, lon)."""
    pairs = []
    for a, b in _PAIR.findall(text):
        for lat, lon in ((float(a), float(b)), (float(b), float(a))):
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                pairs.append((lat, lon))
    return pairs


def published_table(path: Path) -> pd.DataFrame:
    """The table of a CSV product, its ``#`` lines skipped."""
    text = path.read_text(encoding="utf-8")
    return pd.read_csv(io.StringIO(text), comment="#", dtype={"area_id": str, "area_name": str})


def recomputable_column(values: np.ndarray) -> bool:
    """Whether a column whose last value is the sum of the others gives a hidden value away."""
    return int(np.isnan(values).sum()) == 1


# --- the attacks ---------------------------------------------------------------------------------


def test_no_file_points_into_a_sensitive_cell(shared: Shared) -> None:
    """No coordinate in any product lies in the viewer-resolution cell of a sensitive site."""
    assert shared.protected
    for (kind, by, suffix), path in shared.files.items():
        resolution = h3.get_resolution(next(iter(shared.protected)))
        hits = [
            (lat, lon)
            for lat, lon in points_in(file_text(path))
            if h3.latlng_to_cell(lat, lon, resolution) in shared.protected
        ]
        assert hits == [], f"{kind} by {by} ({suffix}) points into a sensitive cell: {hits[:3]}"
        if suffix in (".csv", ".xlsx"):  # tables hold whole counts only: no coordinate at all
            assert _NUMBER.findall(file_text(path)) == [], path.name


def test_no_exact_position_is_written(shared: Shared) -> None:
    """No sensitive site's position (longitude and latitude to 4 decimals) is in any product."""
    exact = set()
    for layer in protected_layers():
        for p in shared.store.read(layer).geometry:
            exact.add((round(p.y, 4), round(p.x, 4)))
    for path in shared.files.values():
        found = {(round(lat, 4), round(lon, 4)) for lat, lon in points_in(file_text(path))}
        assert not found & exact, path.name


def test_published_cells_meet_the_threshold(shared: Shared) -> None:
    """Every published cell, totals included, has at least k sites and m people."""
    for (kind, by), product in shared.products.items():
        t, rule = product.table, product.table.threshold
        shown = ~t.hidden
        assert (t.table.people_grid()[shown] >= rule.m).all(), (kind, by)
        assert (t.table.site_grid()[shown] >= rule.k).all(), (kind, by)


def test_files_publish_exactly_the_unsuppressed_cells(shared: Shared) -> None:
    """The CSV holds the published counts and empty cells where suppressed, and a TOTAL row."""
    for (kind, by), product in shared.products.items():
        table = published_table(shared.files[(kind, by, ".csv")])
        assert table["area_id"].iloc[-1] == TOTAL
        people = product.table.published_people()[:, -1]
        np.testing.assert_array_equal(table["people"].to_numpy(float), people)


def test_no_suppressed_cell_can_be_recomputed(shared: Shared) -> None:
    """From each CSV alone: the people (and additive sites) grids with their totals leave no
    suppressed cell determined (matrix rank), and the sites column leaves no single gap."""
    from tests.test_suppression import recomputable

    for (kind, by), product in shared.products.items():
        table = published_table(shared.files[(kind, by, ".csv")])
        columns = product.table.table.columns
        people = table[[*(f"{c} people" for c in columns), "people"]].to_numpy(float)
        assert recomputable(people) == [], (kind, by)
        if product.table.table.additive_sites:
            sites = table[[*(f"{c} sites" for c in columns), "sites"]].to_numpy(float)
            assert recomputable(sites) == [], (kind, by)
        assert not recomputable_column(table["sites"].to_numpy(float)), (kind, by)


def test_every_product_states_level_rule_date_and_sources(shared: Shared) -> None:
    """Each file says on its face what it counts per, how it was suppressed, when, from what."""
    for path in shared.files.values():
        text = file_text(path)
        for needle in ("Level:", "Suppression rule:", "fewer than 5 sites", "Date:", "Sources:"):
            assert needle in text, f"{path.name} lacks {needle!r}"


def test_geojson_features_carry_sites_and_people(demo: Shared) -> None:
    """A GeoJSON product has one feature per area with ``sites`` and ``people``, null where
    suppressed."""
    product = demo.products[("layers", "h3:6")]
    data = json.loads(demo.files[("layers", "h3:6", ".geojson")].read_text(encoding="utf-8"))
    assert len(data["features"]) == len(product.areas)
    hidden = product.table.hidden[:-1, -1]
    for feature, suppressed in zip(data["features"], hidden, strict=True):
        assert {"sites", "people"} <= set(feature["properties"])
        assert (feature["properties"]["people"] is None) == bool(suppressed)
    assert "Suppression rule" in data["description"]


def test_level_finer_than_viewers_is_refused() -> None:
    """An H3 level finer than the policy's viewer resolution is refused with the fix."""
    with pytest.raises(PolicyError, match="use h3:7 or coarser"):
        Level.parse("h3:8", viewer_resolution=7)
    with pytest.raises(ParameterError, match="resolutions 0 to 15"):
        Level.parse("h3:58", viewer_resolution=7)
    with pytest.raises(ParameterError, match="admin1, admin2 or h3:RES"):
        Level.parse("district", viewer_resolution=7)


def test_scrub_drops_vertices_in_protected_cells() -> None:
    """A hexagon's vertex inside a protected cell is dropped; the rest of the shape stays."""
    cell = h3.latlng_to_cell(32.9, 13.2, 6)
    ring = [(x, y) for y, x in h3.cell_to_boundary(cell)]
    import shapely

    target = h3.latlng_to_cell(round(ring[0][1], 5), round(ring[0][0], 5), 7)
    scrubbed = scrub_geometry(shapely.Polygon(ring), frozenset({target}), 7)
    assert scrubbed is not None
    assert all(h3.latlng_to_cell(y, x, 7) != target for x, y in scrubbed.exterior.coords)
    assert len(scrubbed.exterior.coords) < len(ring) + 1


def test_unknown_format_is_refused(demo: Shared, tmp_path: Path) -> None:
    """Only .csv, .xlsx, .geojson and .html are written."""
    with pytest.raises(ParameterError, match=r"must end in \.csv"):
        save_share(demo.products[("layers", "admin2")], tmp_path / "x.pdf")
