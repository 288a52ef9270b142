"""The app as a whole: settings from GEOPLAN_* variables, open and closed routes, keys, CORS,
the body limits (size and time), strict inputs and problem+json errors without tracebacks or paths."""

from __future__ import annotations

import asyncio
import gc
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.types import Message, Scope

from api.app import GC_THRESHOLDS, create_app
from api.errors import scrub
from api.models import Health, Problem
from api.settings import Settings
from geoplan.keys import create_key, revoke_key, verify_key
from geoplan.store.geopackage import GeoPackageStore
from tests.api_fixtures import TestClient, Workspace, client_for

GP_ITEMS = "/collections/gathering_points/items"
POINT = {"type": "Point", "coordinates": [13.1, 32.9]}


def _problem(response: httpx.Response, status: int) -> Problem:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return Problem.model_validate(response.json())


def _feature(**properties: object) -> dict[str, object]:
    props = {"name": "Camp west", "setting": "camp", **properties}
    return {"type": "Feature", "id": "GP-9", "geometry": POINT, "properties": props}


# --- settings and open routes ---------------------------------------------------------------


def test_settings_come_from_geoplan_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """GEOPLAN_* variables set the workspace, CORS origins (comma-separated) and limits."""
    monkeypatch.setenv("GEOPLAN_WORKSPACE", str(tmp_path / "x.gpkg"))
    monkeypatch.setenv("GEOPLAN_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("GEOPLAN_BODY_LIMIT", "2048")
    settings = Settings()  # type: ignore[call-arg]
    assert settings.workspace == str(tmp_path / "x.gpkg")
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.body_limit == 2048
    assert create_app().state.settings.workspace == str(tmp_path / "x.gpkg")


def test_health_and_docs_need_no_key(client: TestClient) -> None:
    """/health, /docs and /openapi.json are open; they carry no data."""
    assert Health.model_validate(client.get("/health").json()) == Health(
        status="ok", workspace=True
    )
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "X-API-Key" in json.dumps(schema["components"]["securitySchemes"])
    assert "Problem" in schema["components"]["schemas"]


def test_everything_else_needs_a_valid_key(client: TestClient, ws: Workspace) -> None:
    """No key, a malformed key, an unknown key and a revoked key all get 401."""
    for headers in ({}, {"X-API-Key": "nonsense"}, {"X-API-Key": "gpk_000000000000_" + "a" * 43}):
        problem = _problem(client.get("/collections", headers=headers), 401)
        assert "X-API-Key" in problem.detail
    key = verify_key(ws.store, ws.keys["viewer"])
    assert key is not None
    revoke_key(ws.store, key.key_id)
    assert _problem(client.get("/collections", headers=ws.headers("viewer")), 401)


def test_keys_answers_are_remembered_only_until_the_keys_change(
    client: TestClient, ws: Workspace
) -> None:
    """Checked keys are kept while the workspace is unchanged (the file is not opened per
    request), yet a key revoked elsewhere is refused at its very next request and a key made
    elsewhere works at once."""
    _, token = create_key(ws.store, role="planner", name="remembered")
    made_elsewhere = {"X-API-Key": token}
    for _ in range(3):
        assert client.get("/collections", headers=made_elsewhere).status_code == 200
    key = verify_key(ws.store, token)
    assert key is not None
    revoke_key(ws.store, key.key_id)
    assert _problem(client.get("/collections", headers=made_elsewhere), 401)
    _, again = create_key(ws.store, role="viewer", name="new")
    assert client.get("/collections", headers={"X-API-Key": again}).status_code == 200


def test_a_role_that_may_not_gets_403(client: TestClient, ws: Workspace) -> None:
    """A viewer may not write; the answer names the role needed."""
    problem = _problem(client.post(GP_ITEMS, json=_feature(), headers=ws.headers("viewer")), 403)
    assert "admin" in problem.detail


def test_cors_is_closed_unless_configured(ws: Workspace) -> None:
    """Without configured origins no CORS header is sent; with them, preflights are answered."""
    ask = {"Origin": "https://maps.example", "Access-Control-Request-Method": "GET"}
    closed = client_for(ws).options("/collections", headers=ask)
    assert "access-control-allow-origin" not in closed.headers
    opened = client_for(ws, cors_origins=("https://maps.example",))
    answer = opened.options("/collections", headers=ask)
    assert answer.headers["access-control-allow-origin"] == "https://maps.example"
    other = opened.options("/collections", headers={**ask, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


# --- body limit -----------------------------------------------------------------------------


def test_bodies_over_the_limit_get_413(ws: Workspace) -> None:
    """A declared length over the limit and a streamed body growing past it both get 413."""
    client = client_for(ws, body_limit=1024)
    big = json.dumps(_feature(notes="x" * 2000)).encode()
    declared = client.post(
        GP_ITEMS, content=big, headers={**ws.headers("admin"), "Content-Type": "application/json"}
    )
    assert "1024" in _problem(declared, 413).detail

    def chunks() -> Iterator[bytes]:
        yield big[:600]
        yield big[600:]

    streamed = client.post(
        GP_ITEMS,
        content=chunks(),
        headers={**ws.headers("admin"), "Content-Type": "application/json"},
    )
    assert _problem(streamed, 413)
    assert "GP-9" not in ws.store.ids("gathering_points")


def test_the_default_limit_is_ten_mebibytes() -> None:
    """The body limit defaults to 10 MiB."""
    assert Settings.model_fields["body_limit"].default == 10 * 1024 * 1024


def test_a_body_that_stops_arriving_gets_408(ws: Workspace) -> None:
    """A body still incomplete when GEOPLAN_BODY_TIMEOUT is up gets 408 problem+json naming
    the limit and the setting, with Connection: close; nothing is written."""
    app = client_for(ws, body_timeout=0.3).app
    body = json.dumps(_feature()).encode()
    headers = [
        (b"host", b"testserver"),
        (b"x-api-key", ws.keys["admin"].encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": GP_ITEMS,
        "raw_path": GP_ITEMS.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
    }
    chunks = [body[:10]]
    sent: list[Message] = []

    async def receive() -> Message:
        if chunks:
            return {"type": "http.request", "body": chunks.pop(), "more_body": True}
        await asyncio.sleep(30)  # the rest never comes
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    async def call() -> None:
        await app(scope, receive, send)

    started = time.monotonic()
    asyncio.run(call())
    assert time.monotonic() - started < 5
    start = sent[0]
    assert start["status"] == 408
    response_headers = dict(start["headers"])
    assert response_headers[b"connection"] == b"close"
    detail = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))["detail"]
    assert "0.3 seconds" in detail
    assert "GEOPLAN_BODY_TIMEOUT" in detail
    assert "GP-9" not in ws.store.ids("gathering_points")


def test_the_default_body_timeout_is_thirty_seconds() -> None:
    """Request bodies must arrive within 30 s by default."""
    assert Settings.model_fields["body_timeout"].default == 30.0


# --- strict inputs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_feature(people="12"), "body.properties.people"),
        (_feature(people=True), "body.properties.people"),
        (_feature(people=12.5), "body.properties.people"),
        (_feature(colour="red"), "body.properties.colour"),
        ({**_feature(), "extra": 1}, "body.extra"),
        (
            {**_feature(), "geometry": {"type": "Point", "coordinates": ["13.1", 32.9]}},
            "body.geometry.coordinates.0",
        ),
        (
            {**_feature(), "geometry": {"type": "Point", "coordinates": [True, 32.9]}},
            "body.geometry.coordinates.0",
        ),
        (_feature(access_date="2024-01-01T10:00:00"), "body.properties.access_date"),
        (_feature(services_needed="health"), "body.properties.services_needed"),
    ],
)
def test_inputs_are_not_coerced(
    client: TestClient, ws: Workspace, body: object, field: str
) -> None:
    """Strings, booleans and fractions are not taken as counts or coordinates; unknown fields
    are refused; each error names the field."""
    problem = _problem(client.post(GP_ITEMS, json=body, headers=ws.headers("admin")), 422)
    assert problem.errors is not None
    assert field in [e.field for e in problem.errors]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_get_422(client: TestClient, ws: Workspace, number: str) -> None:
    """NaN and Infinity in a coordinate or a count are answered with 422, never 500."""
    for text in (
        f'{{"type":"Feature","id":"GP-9","geometry":{{"type":"Point","coordinates":[{number},32.9]}},"properties":{{"name":"a","setting":"camp"}}}}',
        f'{{"type":"Feature","id":"GP-9","geometry":{{"type":"Point","coordinates":[13.1,32.9]}},"properties":{{"name":"a","setting":"camp","people":{number}}}}}',
    ):
        headers = {**ws.headers("admin"), "Content-Type": "application/json"}
        assert _problem(client.post(GP_ITEMS, content=text, headers=headers), 422)


def test_malformed_json_gets_422(client: TestClient, ws: Workspace) -> None:
    """A body that is not JSON is a 422 naming the body."""
    headers = {**ws.headers("admin"), "Content-Type": "application/json"}
    problem = _problem(client.post(GP_ITEMS, content=b"{not json", headers=headers), 422)
    assert problem.errors is not None
    assert problem.errors[0].field.startswith("body")


# --- no tracebacks, no paths ----------------------------------------------------------------


def test_unexpected_errors_are_a_plain_500(
    client: TestClient, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug answers 500 problem+json without the exception, traceback or any path."""

    def broken(self: GeoPackageStore, layer: str, **kwargs: object) -> None:
        raise RuntimeError(f"boom in {ws.path}")

    monkeypatch.setattr(GeoPackageStore, "read", broken)
    response = client.get(GP_ITEMS, headers=ws.headers("planner"))
    problem = _problem(response, 500)
    assert "boom" not in response.text
    assert str(ws.path.parent) not in response.text
    assert "Traceback" not in response.text
    assert problem.detail.startswith("internal error")


def test_workspace_errors_hide_the_path(client: TestClient, ws: Workspace) -> None:
    """A workspace that cannot be read gives 503 without its path."""
    ws.path.write_bytes(b"this is not a database" * 100)
    response = client.get(GP_ITEMS, headers=ws.headers("planner"))
    assert "try again" in _problem(response, 503).detail
    assert str(ws.path.parent) not in response.text


def test_scrub_keeps_only_file_names() -> None:
    """Absolute paths in messages are cut to their file names."""
    assert scrub("cannot open /srv/data/libya.gpkg: locked") == "cannot open libya.gpkg: locked"
    assert scrub("row 3 of sites.csv, 13/4 ok") == "row 3 of sites.csv, 13/4 ok"


def test_unreadable_bodies_get_422(client: TestClient, ws: Workspace) -> None:
    """Bytes that are not UTF-8 get 422 naming the body, not a bare 400."""
    headers = {**ws.headers("admin"), "Content-Type": "application/json"}
    problem = _problem(client.post("/keys", content=b"\xff\x05\xfe", headers=headers), 422)
    assert problem.errors is not None
    assert problem.errors[0].field == "body"


def test_405_lists_every_method_of_the_path(client: TestClient, ws: Workspace) -> None:
    """A method the path does not take gets 405 with all the methods it does take."""
    response = client.request("OPTIONS", GP_ITEMS, headers=ws.headers("admin"))
    _problem(response, 405)
    assert response.headers["allow"] == "GET, POST"


def test_blank_required_text_is_refused(client: TestClient, ws: Workspace) -> None:
    """A required name of only spaces is refused by the request model, naming it."""
    body = _feature(name="   ")
    problem = _problem(client.post(GP_ITEMS, json=body, headers=ws.headers("admin")), 422)
    assert problem.errors is not None
    assert [e.field for e in problem.errors] == ["body.properties.name"]


# --- the garbage collector ------------------------------------------------------------------


def test_the_collector_is_frozen_and_tuned_while_serving(ws: Workspace) -> None:
    """While the app runs, start-up objects are frozen and thresholds raised; at shutdown the
    collector is as it was."""
    before = gc.get_threshold()
    with client_for(ws) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
