"""Shared fixtures: where the real data lives, headless Chromium, and skips that CI turns into
failures."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api_fixtures import TestClient, Workspace, build_workspace, client_for, copy_workspace

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("GEOPLAN_SHARED_DATA", REPO.parent / "shared" / "data"))
FIXTURES = Path(__file__).resolve().parent / "data"
CHROMIUM = Path("/usr/bin/chromium")

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


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The small API test workspace with a key per role, built once per module."""
    return build_workspace(tmp_path_factory.mktemp("api"))


@pytest.fixture
def ws(template: Workspace, tmp_path: Path) -> Workspace:
    """A fresh copy of the template, for a test that writes."""
    return copy_workspace(template, tmp_path)


@pytest.fixture
def client(ws: Workspace) -> TestClient:
    """An in-process client of an app on the test's own workspace."""
    return client_for(ws)
