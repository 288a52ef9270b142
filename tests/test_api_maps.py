"""Maps over HTTP: the layers and coverage maps as self-contained HTML for planners, refused to
viewers (they show exact positions), drawn once per workspace revision and options."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from api.models import Problem
from tests.api_fixtures import TestClient, Workspace, build_workspace, client_for, copy_workspace
from tests.maps_fixtures import Page

COVERAGE = {"date": "2026-11-30", "period": "2026-06-01..2026-11-30", "threshold": "45min"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return build_workspace(tmp_path_factory.mktemp("api-maps"))


@pytest.fixture(scope="module")
def client(template: Workspace) -> TestClient:
    return client_for(template)


def _problem(response: httpx.Response, status: int) -> Problem:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return Problem.model_validate(response.json())


def _page(response: httpx.Response) -> Page:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return Page.parse(response.text)


def test_layers_map_draws_every_layer_with_assets_embedded(
    client: TestClient, template: Workspace
) -> None:
    """The layers map has a toggle and the features of each layer, and links no script."""
    page = _page(
        client.get(
            "/maps/layers.html", params={"date": "2026-11-30"}, headers=template.headers("planner")
        )
    )
    points = {
        name: len(block["points"]) for name, block in page.data().items() if "points" in block
    }  # type: ignore[arg-type]
    assert points == {
        "Gathering points (3)": 3,
        "Detention centres (1)": 1,
        "Clinics (1)": 1,
        "Team bases (2)": 2,
    }
    assert page.overlays() == list(points)
    assert "Souq block A" in page.html
    assert not [
        s for s in page.root.find_all("script") if s.attrs.get("src", "").startswith("http")
    ]
    assert "30 November 2026" in page.title_block()
    assert "do not share" in page.title_block().lower()


def test_tiles_can_be_turned_off(client: TestClient, template: Workspace) -> None:
    """tiles=false draws a plain background: no tile server is named."""
    headers = template.headers("admin")
    with_tiles = client.get("/maps/layers.html", headers=headers)
    plain = client.get("/maps/layers.html", params={"tiles": "false"}, headers=headers)
    assert "tile.openstreetmap.org" in with_tiles.text
    assert "tile.openstreetmap.org" not in plain.text


def test_coverage_map_follows_the_coverage_options(client: TestClient, template: Workspace) -> None:
    """The coverage map is drawn for the period, threshold and day asked."""
    page = _page(
        client.get("/maps/coverage.html", params=COVERAGE, headers=template.headers("planner"))
    )
    title = page.title_block()
    assert "threshold 45 min" in title
    assert "period 2026-06-01..2026-11-30" in title
    assert any("reach" in name.lower() for name in page.overlays())


def test_maps_are_refused_to_viewers_and_strangers(client: TestClient, template: Workspace) -> None:
    """Maps show exact positions: a viewer gets 403, no key 401."""
    for path in ("/maps/layers.html", "/maps/coverage.html"):
        assert (
            "planner" in _problem(client.get(path, headers=template.headers("viewer")), 403).detail
        )
        assert client.get(path).status_code == 401


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/maps/layers.html", {"date": "2026-02-30"}, "query.date"),
        ("/maps/layers.html", {"tiles": "maybe"}, "query.tiles"),
        ("/maps/layers.html", {"zoom": "3"}, "query.zoom"),
        ("/maps/coverage.html", {"threshold": "a while"}, "query.threshold"),
        ("/maps/coverage.html", {"period": "2026-12-01..2026-01-01"}, "query.period"),
    ],
)
def test_bad_map_options_are_named(
    client: TestClient, template: Workspace, path: str, params: dict[str, str], field: str
) -> None:
    """A bad option is 422 naming it."""
    problem = _problem(client.get(path, params=params, headers=template.headers("planner")), 422)
    assert field in {e.field for e in problem.errors or []}


def test_maps_are_drawn_once_per_revision(template: Workspace, tmp_path: Path) -> None:
    """The same map is served from memory until a layer changes."""
    ws = copy_workspace(template, tmp_path)
    client = client_for(ws)
    maps = client.app.state.maps  # type: ignore[attr-defined]
    headers = ws.headers("admin")
    first = client.get("/maps/layers.html", params={"date": "2026-11-30"}, headers=headers)
    again = client.get("/maps/layers.html", params={"date": "2026-11-30"}, headers=headers)
    assert first.text == again.text
    assert maps.computed == 1
    clinic = {
        "type": "Feature",
        "id": "CL-2",
        "geometry": {"type": "Point", "coordinates": [13.21, 32.86]},
        "properties": {"name": "Clinic two", "kind": "primary_care", "services": ["health"]},
    }
    assert (
        client.post("/collections/clinics/items", json=clinic, headers=headers).status_code == 201
    )
    after = client.get("/maps/layers.html", params={"date": "2026-11-30"}, headers=headers)
    assert maps.computed == 2
    assert "Clinic two" in after.text
    assert "Clinic two" not in first.text
