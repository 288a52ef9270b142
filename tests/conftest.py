"""Shared fixtures: where the real data lives, headless Chromium, a PostGIS server, the
workspace of each kind of store, and skips that CI turns into failures."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

from tests.api_fixtures import TestClient, Workspace, build_workspace, client_for, copy_workspace

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("GEOPLAN_SHARED_DATA", REPO.parent / "shared" / "data"))
FIXTURES = Path(__file__).resolve().parent / "data"
CHROMIUM = Path("/usr/bin/chromium")
POSTGIS = os.environ.get("GEOPLAN_TEST_POSTGIS", "")
"""A DSN of a PostgreSQL server with PostGIS whose schemas the tests may create and drop
(``scripts/postgis start`` prints one; .ci/run sets it)."""
STORE_KINDS = ("geopackage", "postgis")

# In CI (.ci/run sets GEOPLAN_STRICT_SKIPS=1) a test that would skip for a missing service or
# data folder fails instead, so that a green run never hides an untested path.
STRICT_SKIPS = os.environ.get("GEOPLAN_STRICT_SKIPS") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip on a laptop that lacks something; fail in CI, where it must be present."""
    if STRICT_SKIPS:
        pytest.fail(f"required in CI but missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data folder ``../shared/data``; skips (or fails in CI) when absent."""
    if not SHARED_DATA.is_dir():
        skip_or_fail(f"real data folder {SHARED_DATA} is missing")
    return SHARED_DATA


@pytest.fixture(scope="session")
def fixtures() -> Path:
    """The folder of small hand-made fixture files, ``tests/data``."""
    return FIXTURES


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, driven by Playwright."""
    if not CHROMIUM.exists():
        skip_or_fail(f"headless Chromium {CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        yield chromium
        chromium.close()


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk with no room left for the workspace: every SQLite connection opened from now on
    may not grow its file (``max_page_count``), so a write that needs a page fails with
    SQLITE_FULL ("database or disk is full"), as on a full disk. Nothing is mounted."""
    connect = sqlite3.connect

    def connect_full(*args: object, **kwargs: object) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)  # type: ignore[arg-type]
        conn.execute("PRAGMA max_page_count = 1")  # SQLite keeps it at the file's size
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect_full)


@pytest.fixture(scope="session")
def postgis_server() -> str:
    """The DSN of the test PostGIS server; skips (or fails in CI) without one."""
    if not POSTGIS:
        skip_or_fail(
            "no PostGIS server: set GEOPLAN_TEST_POSTGIS to the DSN that `scripts/postgis start` "
            "prints"
        )
    return POSTGIS


def new_postgis_workspace(server: str) -> str:
    """A new empty schema on the server, as the DSN of a workspace in it."""
    import psycopg

    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    parts = urlsplit(server)
    option = "options=" + quote(f"-csearch_path={schema},public")
    query = f"{parts.query}&{option}" if parts.query else option
    return urlunsplit(parts._replace(query=query))


def drop_postgis_workspace(workspace: str) -> None:
    """Drop a schema made by :func:`new_postgis_workspace`, and everything in it."""
    import psycopg

    schema = workspace.rpartition("search_path%3D")[2].partition("%2C")[0]
    with psycopg.connect(workspace, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@contextmanager
def fresh_workspace(kind: str, folder: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A workspace that does not exist yet: a GeoPackage path in ``folder`` or a new schema."""
    if kind == "geopackage":
        yield str(folder / "ws.gpkg")
        return
    workspace = new_postgis_workspace(request.getfixturevalue("postgis_server"))
    try:
        yield workspace
    finally:
        drop_postgis_workspace(workspace)


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    """Each kind of store in turn (GeoPackage, PostGIS)."""
    return str(request.param)


@pytest.fixture
def workspace_name(
    store_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A new workspace of each kind of store in turn: a GeoPackage path or a PostGIS DSN."""
    with fresh_workspace(store_kind, tmp_path, request) as name:
        yield name


@pytest.fixture(scope="module")
def api_store_kind() -> str:
    """The store the API test workspace lives in; a module parametrises it to run on both."""
    return "geopackage"


@pytest.fixture(scope="module")
def template(
    tmp_path_factory: pytest.TempPathFactory, api_store_kind: str, request: pytest.FixtureRequest
) -> Iterator[Workspace]:
    """The small API test workspace with a key per role, built once per module."""
    folder = tmp_path_factory.mktemp("api")
    with fresh_workspace(api_store_kind, folder, request) as name:
        yield build_workspace(folder, workspace=name)


@pytest.fixture
def ws(template: Workspace, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Workspace]:
    """A fresh copy of the template, for a test that writes."""
    kind = "geopackage" if isinstance(template.path, Path) else "postgis"
    with fresh_workspace(kind, tmp_path, request) as name:
        yield copy_workspace(template, tmp_path, workspace=name)


@pytest.fixture
def client(ws: Workspace) -> TestClient:
    """An in-process client of an app on the test's own workspace."""
    return client_for(ws)
