"""Shared pieces of the API tests: a small workspace, keys per role, in-process and live servers.

The workspace holds the hand-checkable fixtures of ``tests/data/valid`` (3 gathering points, 2
teams, 2 visits) plus one detention centre and one clinic made here.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import shapely
import uvicorn
from starlette.exceptions import StarletteDeprecationWarning

from api.app import create_app
from api.settings import Settings
from geoplan.edits import Edit, create_feature
from geoplan.imports import import_file
from geoplan.keys import create_key
from geoplan.store import Store, is_url, open_store
from geoplan.store import copy_workspace as copy_store
from geoplan.vocab import Role

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2; httpx works the same here
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

FIXTURES = Path(__file__).resolve().parent / "data"
DC_POINT = (13.2345, 32.8123)
__all__ = ["TestClient"]


@dataclass(frozen=True)
class Workspace:
    """A workspace (a GeoPackage file, or a PostGIS DSN) and one key per role."""

    path: Path | str
    keys: dict[str, str]

    @property
    def store(self) -> Store:
        """The workspace's store."""
        return open_store(self.path)

    def headers(self, role: str) -> dict[str, str]:
        """The key header of a role."""
        return {"X-API-Key": self.keys[role]}


def build_workspace(folder: Path, *, workspace: str | None = None) -> Workspace:
    """The small workspace, with a key per role: ``folder/ws.gpkg``, or the new workspace
    named by ``workspace`` (a PostGIS DSN)."""
    path: Path | str = workspace if workspace and is_url(workspace) else folder / "ws.gpkg"
    store = open_store(path)
    for layer in ("gathering_points", "teams", "outreach_visits"):
        import_file(FIXTURES / "valid" / f"{layer}.csv", layer, store=store)
    centre = {"id": "DC-1", "name": "Centre near the port", "notes": "gate on the north side"}
    create_feature(store, "detention_centres", Edit(centre, shapely.Point(*DC_POINT)))
    clinic = {"id": "CL-1", "name": "Clinic one", "kind": "own_clinic", "services": ["health"]}
    create_feature(store, "clinics", Edit(clinic, shapely.Point(13.19, 32.87)))
    keys = {role: create_key(store, role=role, name=role)[1] for role in Role}
    return Workspace(path, keys)


def copy_workspace(template: Workspace, folder: Path, *, workspace: str | None = None) -> Workspace:
    """A fresh copy of a built workspace (keys included), faster than building it again: the
    file copied into ``folder``, or a PostGIS template copied by geoplan into the new
    workspace named by ``workspace``."""
    if isinstance(template.path, Path):
        target = folder / template.path.name
        shutil.copyfile(template.path, target)
        return Workspace(target, dict(template.keys))
    assert workspace is not None, "a PostGIS template is copied into a new schema's DSN"
    copy_store(open_store(template.path), open_store(workspace))
    return Workspace(workspace, dict(template.keys))


def client_for(workspace: Workspace, **settings: object) -> TestClient:
    """An in-process client of the app on this workspace; server errors become responses.

    The client's Host is ``testserver``: it is trusted unless ``trusted_hosts`` says otherwise."""
    chosen = {"trusted_hosts": ("testserver",), **settings}
    app = create_app(Settings(workspace=workspace.path, **chosen))  # type: ignore[arg-type]
    return TestClient(app, raise_server_exceptions=False)


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(workspace: Workspace) -> Iterator[str]:
    """The app served by uvicorn on a random loopback port, in a thread; yields its base URL."""
    port = free_port()
    app = create_app(Settings(workspace=workspace.path))  # type: ignore[call-arg]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def geoplan_command() -> list[str]:
    """The ``geoplan`` command of this environment."""
    script = shutil.which("geoplan")
    return [script] if script else [sys.executable, "-m", "geoplan"]


@contextmanager
def served(path: Path | str, *options: str, **env: str) -> Iterator[str]:
    """``geoplan serve`` (the real command, in a subprocess) on 127.0.0.1 at a free port, with
    extra options and GEOPLAN_* variables; yields its base URL and always stops the server."""
    port = free_port()
    command = [*geoplan_command(), "serve", "--workspace", str(path)]
    command += ["--host", "127.0.0.1", "--port", str(port), *options]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env}
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"geoplan serve exited with {process.returncode}")
        try:
            httpx.get(f"{url}/health", timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        return
    raise AssertionError("geoplan serve did not answer within 60 s")
