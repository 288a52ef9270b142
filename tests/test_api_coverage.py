"""Coverage over HTTP: the ranked gap table, per-area summaries, indicators and the summary, as
JSON and GeoJSON, generalised for viewers, cached per workspace revision; bodies checked against
their response models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h3
import httpx
import pytest
import shapely

from api.models import Problem
from api.models_analysis import (
    AreaFeatureCollection,
    AreaTable,
    CoverageSummary,
    GapFeatureCollection,
    GapTable,
    GeneralisedGapFeatureCollection,
    GeneralisedGapTable,
    IndicatorTable,
)
from geoplan.edits import Edit, create_feature, read_feature, update_feature
from geoplan.keys import create_key
from geoplan.protect import cell_centre
from geoplan.store import open_store
from tests.api_fixtures import (
    DC_POINT,
    TestClient,
    Workspace,
    build_workspace,
    client_for,
    copy_workspace,
)
from tests.conftest import STORE_KINDS, fresh_workspace

AS_OF = "2026-11-30"
PERIOD = "2026-06-01..2026-11-30"
ASK = {"date": AS_OF, "period": PERIOD}
GP1 = (13.18, 32.88)
ACCESS_REASON = "raid near the shelter on 3 March"


@pytest.fixture(scope="module", params=STORE_KINDS)
def template(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Workspace]:
    """The small API workspace plus an admin area (around GP-1 and GP-2), an indicator, and
    GP-3 inaccessible with a free-text reason; in a GeoPackage file, then in PostGIS."""
    folder = tmp_path_factory.mktemp("api-coverage")
    with fresh_workspace(request.param, folder, request) as name:
        yield _coverage_workspace(build_workspace(folder, workspace=name))


def _coverage_workspace(ws: Workspace) -> Workspace:
    store = ws.store
    area = shapely.box(13.15, 32.84, 13.27, 32.90)
    create_feature(store, "admin_areas", Edit({"id": "LY01", "name": "Souq district"}, area))
    indicator = {
        "id": "IND-1",
        "name": "Visits with health",
        "formula": "count() where services contains health",
        "target": 10,
        "period_start": "2026-06-01",
        "period_end": "2026-11-30",
    }
    create_feature(store, "indicators", Edit(indicator, None))
    gp3 = read_feature(store, "gathering_points", "GP-3")
    changes = {"access_status": "inaccessible", "access_reason": ACCESS_REASON}
    update_feature(store, "gathering_points", "GP-3", changes, version=gp3.version)
    return ws


@pytest.fixture(scope="module")
def client(template: Workspace) -> TestClient:
    """A client of the template workspace (read-only tests share it and its cache)."""
    return client_for(template)


def _get(
    client: TestClient, ws: Workspace, path: str, role: str = "planner", **params: Any
) -> httpx.Response:
    return client.get(path, params={**ASK, **params}, headers=ws.headers(role))


def _problem(response: httpx.Response, status: int) -> Problem:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return Problem.model_validate(response.json())


def _fields(problem: Problem) -> set[str]:
    return {e.field for e in problem.errors or []}


# --- the gap table ----------------------------------------------------------------------------


def test_gaps_rank_every_site_with_a_gap_for_planners(
    client: TestClient, template: Workspace
) -> None:
    """Planners get the ranked table with names, exact positions and the analysis' terms."""
    response = _get(client, template, "/coverage/gaps")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    table = GapTable.model_validate(response.json())
    assert [s.rank for s in table.sites] == sorted(s.rank for s in table.sites)
    assert all(s.gaps > 0 for s in table.sites)
    assert table.numberMatched == table.numberReturned == len(table.sites) == 4
    gp1 = next(s for s in table.sites if s.id == "GP-1")
    assert (gp1.lon, gp1.lat) == GP1
    assert gp1.name == "Souq block A"
    assert gp1.area_id == "LY01"
    assert str(table.coverage.as_of) == AS_OF
    assert table.coverage.threshold_minutes == 30
    assert f"{table.coverage.period_start}..{table.coverage.period_end}" == PERIOD


def test_gaps_are_generalised_for_viewers(client: TestClient, template: Workspace) -> None:
    """Viewers get each site's coarse H3 cell, no name, position, free text or travel times."""
    exact = GapTable.model_validate(_get(client, template, "/coverage/gaps").json())
    response = _get(client, template, "/coverage/gaps", role="viewer")
    table = GeneralisedGapTable.model_validate(response.json())
    rows = response.json()["sites"]
    assert not {"name", "lon", "lat", "reach_minutes", "nearest_clinic"} & set(rows[0])
    gp1 = next(s for s in table.sites if s.id == "GP-1")
    assert gp1.h3_cell == h3.latlng_to_cell(GP1[1], GP1[0], 7)
    gp3 = next(s for s in table.sites if s.id == "GP-3")
    assert gp3.gap_reasons.startswith("inaccessible")
    assert ACCESS_REASON in next(s for s in exact.sites if s.id == "GP-3").gap_reasons
    for secret in (ACCESS_REASON, "Souq block A", "Centre near the port", "13.18", "32.8123"):
        assert secret not in response.text


def test_viewers_read_no_travel_minutes_in_the_reasons(
    client: TestClient, template: Workspace
) -> None:
    """With every site beyond a 1 min threshold, planners read the threshold and the nearest
    place's minutes in the reasons, and viewers the same reasons with no minutes at all."""
    exact = _get(client, template, "/coverage/gaps", threshold="1min").json()["sites"]
    viewer = _get(client, template, "/coverage/gaps", "viewer", threshold="1min").json()["sites"]
    assert [s["id"] for s in exact] == [s["id"] for s in viewer]
    for planner_row, viewer_row in zip(exact, viewer, strict=True):
        assert "no clinic or base within 1 min (nearest " in planner_row["gap_reasons"]
        assert "no clinic or base within the threshold" in viewer_row["gap_reasons"]
        assert "nearest" not in viewer_row["gap_reasons"]
        assert " min" not in viewer_row["gap_reasons"]


def test_gaps_as_geojson_by_parameter_or_accept(client: TestClient, template: Workspace) -> None:
    """f=geojson or Accept: application/geo+json give a FeatureCollection at exact positions."""
    by_f = _get(client, template, "/coverage/gaps", f="geojson")
    by_accept = client.get(
        "/coverage/gaps",
        params=ASK,
        headers={**template.headers("planner"), "Accept": "application/geo+json"},
    )
    for response in (by_f, by_accept):
        assert response.headers["content-type"] == "application/geo+json"
        collection = GapFeatureCollection.model_validate(response.json())
        gp1 = next(f for f in collection.features if f.id == "GP-1")
        assert tuple(gp1.geometry.coordinates) == GP1
    json_anyway = _get(client, template, "/coverage/gaps", f="json")
    assert json_anyway.headers["content-type"] == "application/json"


def test_viewer_geojson_sites_sit_at_cell_centres(client: TestClient, template: Workspace) -> None:
    """A viewer's GeoJSON puts each site at its H3 cell's centre, never at the exact point."""
    response = _get(client, template, "/coverage/gaps", role="viewer", f="geojson")
    collection = GeneralisedGapFeatureCollection.model_validate(response.json())
    dc = next(f for f in collection.features if f.id == "DC-1")
    assert tuple(dc.geometry.coordinates) == cell_centre(dc.properties.h3_cell)
    assert tuple(dc.geometry.coordinates) != DC_POINT


def test_gap_kinds_layers_and_pages(client: TestClient, template: Workspace) -> None:
    """gap picks a kind or all sites, layer a layer; limit and offset page with next/prev links."""
    every = GapTable.model_validate(_get(client, template, "/coverage/gaps", gap="all").json())
    assert {s.id for s in every.sites} == {"GP-1", "GP-2", "GP-3", "DC-1"}
    temporal = GapTable.model_validate(
        _get(client, template, "/coverage/gaps", gap="temporal").json()
    )
    assert all(s.temporal_gap for s in temporal.sites)
    centres = GapTable.model_validate(
        _get(client, template, "/coverage/gaps", layer="detention_centres").json()
    )
    assert [s.id for s in centres.sites] == ["DC-1"]
    first = GapTable.model_validate(_get(client, template, "/coverage/gaps", limit=3).json())
    assert (first.numberMatched, first.numberReturned) == (4, 3)
    following = next(link.href for link in first.links if link.rel == "next")
    second = GapTable.model_validate(
        client.get(following, headers=template.headers("planner")).json()
    )
    assert [s.rank for s in second.sites] == [4]
    assert any(link.rel == "prev" for link in second.links)
    assert not any(link.rel == "next" for link in second.links)


def test_threshold_decides_who_is_covered(client: TestClient, template: Workspace) -> None:
    """A one-minute threshold leaves every site out of reach; ten hours reach all but the
    inaccessible one's neighbours' limits."""
    tight = GapTable.model_validate(
        _get(client, template, "/coverage/gaps", gap="all", threshold="1min").json()
    )
    loose = GapTable.model_validate(
        _get(client, template, "/coverage/gaps", gap="all", threshold="10h").json()
    )
    assert not any(s.covered for s in tight.sites)
    assert all(s.covered for s in loose.sites)
    assert tight.coverage.threshold_minutes == 1
    assert loose.coverage.threshold_minutes == 600


# --- areas, indicators, summary ---------------------------------------------------------------


def test_areas_by_admin_area_with_an_outside_row(client: TestClient, template: Workspace) -> None:
    """by=admin sums per admin area; sites outside every area have a row with a null id."""
    table = AreaTable.model_validate(_get(client, template, "/coverage/areas").json())
    assert table.by == "admin"
    rows = {a.area_id: a for a in table.areas}
    assert rows["LY01"].sites == 2
    assert rows["LY01"].people == 65
    assert rows[None].sites == 2
    assert sum(a.people for a in table.areas) == 77


def test_areas_as_geojson(client: TestClient, template: Workspace) -> None:
    """Admin areas come with their polygons; the outside row has no geometry."""
    response = _get(client, template, "/coverage/areas", f="geojson")
    assert response.headers["content-type"] == "application/geo+json"
    collection = AreaFeatureCollection.model_validate(response.json())
    shapes = {f.id: f.geometry for f in collection.features}
    assert shapes["outside"] is None
    assert shapes["LY01"] is not None
    assert shapes["LY01"].type in ("Polygon", "MultiPolygon")


def test_areas_by_hexagon_at_a_resolution(client: TestClient, template: Workspace) -> None:
    """by=h3 sums per H3 cell, at resolution 7 unless another is asked."""
    default = AreaTable.model_validate(_get(client, template, "/coverage/areas", by="h3").json())
    fine = AreaTable.model_validate(
        _get(client, template, "/coverage/areas", by="h3", resolution=9).json()
    )
    assert {h3.get_resolution(str(a.area_id)) for a in default.areas} == {7}
    assert {h3.get_resolution(str(a.area_id)) for a in fine.areas} == {9}
    assert fine.coverage.h3_resolution == 9
    assert sum(a.sites for a in fine.areas) == 4


def test_viewers_may_not_ask_for_fine_hexagons(client: TestClient, template: Workspace) -> None:
    """A viewer asking for cells finer than theirs gets 403 naming the resolution."""
    problem = _problem(
        _get(client, template, "/coverage/areas", role="viewer", by="h3", resolution=9), 403
    )
    assert "resolution 9" in problem.detail
    coarse = _get(client, template, "/coverage/areas", role="viewer", by="h3", resolution=5)
    table = AreaTable.model_validate(coarse.json())
    assert {h3.get_resolution(str(a.area_id)) for a in table.areas} == {5}


def test_indicators_against_target_and_pace(client: TestClient, template: Workspace) -> None:
    """Each indicator's value from the visits, progress and pace; status filters."""
    table = IndicatorTable.model_validate(_get(client, template, "/coverage/indicators").json())
    (indicator,) = table.indicators
    assert indicator.id == "IND-1"
    assert indicator.value == 2  # both visits deliver health
    assert indicator.target == 10
    assert indicator.progress == pytest.approx(0.2)
    assert indicator.status == "behind"
    assert indicator.shortfall == pytest.approx(indicator.expected - 2)
    viewer = _get(client, template, "/coverage/indicators", role="viewer")
    assert IndicatorTable.model_validate(viewer.json()).indicators == table.indicators
    met = _get(client, template, "/coverage/indicators", status="met")
    assert IndicatorTable.model_validate(met.json()).indicators == []


def test_summary_counts_people_and_gaps(client: TestClient, template: Workspace) -> None:
    """The summary: people in and out of reach, sites per kind of gap, indicators behind."""
    summary = CoverageSummary.model_validate(_get(client, template, "/coverage/summary").json())
    total = next(t for t in summary.totals if t.status == "total")
    assert (total.sites, total.people) == (4, 77)
    assert summary.gaps.sites == 4
    assert summary.gaps.with_gaps == 4
    assert summary.indicators_behind == ["IND-1"]
    assert summary.text.startswith(f"Coverage {PERIOD}")
    assert {link.title for link in summary.links} >= {"Gaps", "Areas", "Indicators"}


# --- bad requests, roles, cache ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"period": "2026-11-30..2026-06-01"}, "query.period", "swap"),
        ({"period": "last month"}, "query.period", "START..END"),
        ({"threshold": "soon"}, "query.threshold", "30min"),
        ({"threshold": "0"}, "query.threshold", "1 minute"),
        ({"threshold": "48h"}, "query.threshold", "24 hours"),
        ({"threshold": "0.5"}, "query.threshold", "whole minutes"),  # found by schemathesis
        ({"date": "2026-02-30"}, "query.date", ""),
        ({"date": "30/11/2026"}, "query.date", "YYYY-MM-DD"),
        ({"resolution": "16"}, "query.resolution", ""),
        ({"limit": "0"}, "query.limit", ""),
        ({"f": "xml"}, "query.f", ""),
        ({"gap": "spacial"}, "query.gap", ""),
        ({"colour": "red"}, "query.colour", "not permitted"),
    ],
)
def test_bad_parameters_are_named(
    client: TestClient, template: Workspace, params: dict[str, str], field: str, words: str
) -> None:
    """Each bad parameter gets 422 naming it and saying why."""
    problem = _problem(
        client.get("/coverage/gaps", params=params, headers=template.headers("viewer")), 422
    )
    assert field in _fields(problem)
    reason = next(e.reason for e in problem.errors or [] if e.field == field)
    assert words in reason


def test_every_coverage_route_needs_a_key(client: TestClient) -> None:
    """Without a key every coverage route answers 401."""
    for path in ("gaps", "areas", "indicators", "summary"):
        assert client.get(f"/coverage/{path}").status_code == 401


def test_a_workspace_without_sites_says_what_to_do(tmp_path: Path) -> None:
    """An empty workspace gets a 422 problem that says to import sites."""
    store = open_store(tmp_path / "empty.gpkg")
    key = create_key(store, role="viewer", name="v")[1]
    client = client_for(Workspace(store.path, {"viewer": key}))
    problem = _problem(client.get("/coverage/summary", headers={"X-API-Key": key}), 422)
    assert "geoplan import" in problem.detail


def test_repeats_come_from_memory_and_a_write_invalidates(
    template: Workspace, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The same analysis is computed once for every route (a viewer's is one of its own, made
    from the generalised sites); a layer write makes it afresh."""
    kind = "geopackage" if isinstance(template.path, Path) else "postgis"
    with fresh_workspace(kind, tmp_path, request) as name:
        _check_repeats_and_invalidation(copy_workspace(template, tmp_path, workspace=name))


def _check_repeats_and_invalidation(ws: Workspace) -> None:
    client = client_for(ws)
    cache = client.app.state.coverage.cache  # type: ignore[attr-defined]
    before = GapTable.model_validate(_get(client, ws, "/coverage/gaps", gap="all").json())
    for path in ("/coverage/gaps", "/coverage/areas", "/coverage/indicators", "/coverage/summary"):
        assert _get(client, ws, path).status_code == 200
    assert cache.computed == 1
    for path in ("/coverage/gaps", "/coverage/summary"):
        assert _get(client, ws, path, role="viewer").status_code == 200
    assert cache.computed == 2
    visit = {
        "type": "Feature",
        "id": "V-3",
        "geometry": None,
        "properties": {
            "site_id": "GP-3",
            "date": "2026-11-20",
            "team_id": "T-MED",
            "services": ["protection"],
        },
    }
    written = client.post(
        "/collections/outreach_visits/items", json=visit, headers=ws.headers("planner")
    )
    assert written.status_code == 201, written.text
    after = GapTable.model_validate(_get(client, ws, "/coverage/gaps", gap="all").json())
    assert cache.computed == 3
    gp3 = {
        t: next(s for s in table.sites if s.id == "GP-3")
        for t, table in (("before", before), ("after", after))
    }
    assert gp3["before"].never_visited
    assert not gp3["after"].never_visited
    assert gp3["after"].visits_in_period == 1
