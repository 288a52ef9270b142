"""The error table of the API: a full disk answers 507 Insufficient Storage saying so, from the
store and from anywhere else, never "try again shortly" and never a server path."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

from api.errors import DISK_FULL, STORE_UNAVAILABLE, status_for
from api.models import Problem
from geoplan.errors import DiskFullError, StoreError
from tests.api_fixtures import TestClient, Workspace

GP = "/collections/gathering_points"
POINT = {"type": "Point", "coordinates": [13.1, 32.9]}


def _disk_full(response_text: str, status: int, ws: Workspace) -> Problem:
    problem = Problem.model_validate_json(response_text)
    assert status == problem.status == 507
    assert "disk is full" in problem.detail
    assert problem.detail == DISK_FULL
    assert "try again shortly" not in response_text
    assert str(ws.path.parent) not in response_text
    return problem


def test_a_full_disk_is_507_and_a_store_failure_503() -> None:
    """The table: DiskFullError is 507, any other store failure 503."""
    assert status_for(DiskFullError("the disk is full")) == 507
    assert status_for(StoreError("locked")) == 503
    assert "try again shortly" in STORE_UNAVAILABLE
    assert "try again shortly" not in DISK_FULL


@pytest.mark.usefixtures("full_disk")
def test_an_edit_on_a_full_disk_answers_507(client: TestClient, ws: Workspace) -> None:
    """POST a feature that needs new pages when SQLite finds the disk full: 507 saying so."""
    feature = {"type": "Feature", "id": "GP-9", "geometry": POINT}
    long = "gate on the north side; " * 80  # three of them need pages the file does not have
    props = {
        "name": long[:2000],
        "setting": "camp",
        "notes": long[:2000],
        "access_reason": long[:2000],
    }
    body = {**feature, "properties": props}
    response = client.post(f"{GP}/items", json=body, headers=ws.headers("admin"))
    assert response.headers["content-type"] == "application/problem+json"
    _disk_full(response.text, response.status_code, ws)


def test_an_upload_on_a_full_disk_answers_507(
    client: TestClient, ws: Workspace, fixtures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while the upload is saved to a temporary file (outside the store): 507 too."""

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(ws.path.parent / "up.csv"))

    monkeypatch.setattr(shutil, "copyfileobj", full)
    data = (fixtures / "valid" / "gathering_points.csv").read_bytes()
    files = {"file": ("gathering_points.csv", data, "text/csv")}
    response = client.post(f"{GP}/import", files=files, headers=ws.headers("admin"))
    _disk_full(response.text, response.status_code, ws)
    assert "up.csv" not in response.text
