"""Key management over HTTP: admins list, create and revoke keys; a key is shown only once."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.models import KeyCreated, KeyInfo, KeyList, Problem
from tests.api_fixtures import TestClient, Workspace, build_workspace, client_for


@pytest.fixture
def ws(tmp_path: Path, workspace_name: str) -> Workspace:
    """The small workspace, in a GeoPackage file and then in PostGIS."""
    return build_workspace(tmp_path, workspace=workspace_name)


@pytest.fixture
def client(ws: Workspace) -> TestClient:
    return client_for(ws)


def test_list_shows_keys_without_secrets(client: TestClient, ws: Workspace) -> None:
    """The list has ids, roles and names, and no key or hash."""
    response = client.get("/keys", headers=ws.headers("admin"))
    body = KeyList.model_validate(response.json())
    assert sorted(k.role for k in body.keys) == ["admin", "planner", "viewer"]
    assert all(token not in response.text for token in ws.keys.values())
    assert "hash" not in response.text


def test_a_created_key_works_once_shown_and_then_revoked(client: TestClient, ws: Workspace) -> None:
    """A new key opens the API with its role; after revoking it gets 401."""
    response = client.post(
        "/keys", json={"role": "viewer", "name": "QGIS"}, headers=ws.headers("admin")
    )
    assert response.status_code == 201
    made = KeyCreated.model_validate(response.json())
    assert client.get("/collections", headers={"X-API-Key": made.key}).status_code == 200
    listed = client.get("/keys", headers=ws.headers("admin")).text
    assert made.key not in listed
    revoked = KeyInfo.model_validate(
        client.delete(f"/keys/{made.key_id}", headers=ws.headers("admin")).json()
    )
    assert revoked.revoked is not None
    assert client.get("/collections", headers={"X-API-Key": made.key}).status_code == 401


@pytest.mark.parametrize(
    "body",
    [{"role": "superuser"}, {"role": "viewer", "name": 5}, {"role": "viewer", "extra": 1}, {}],
)
def test_bad_key_requests_get_422(
    client: TestClient, ws: Workspace, body: dict[str, object]
) -> None:
    """Unknown roles, non-text names, unknown fields and missing roles are refused."""
    response = client.post("/keys", json=body, headers=ws.headers("admin"))
    assert response.status_code == 422
    Problem.model_validate(response.json())


def test_revoking_an_unknown_key_gets_404(client: TestClient, ws: Workspace) -> None:
    """An id no key has is a 404; an id of the wrong form is a 422."""
    assert client.delete("/keys/0123456789ab", headers=ws.headers("admin")).status_code == 404
    assert client.delete("/keys/not-an-id", headers=ws.headers("admin")).status_code == 422
