"""`geoplan serve` starts the real server on 127.0.0.1, queried over HTTP."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.api_fixtures import build_workspace, free_port


def _command() -> list[str]:
    script = shutil.which("geoplan")
    return [script] if script else [sys.executable, "-m", "geoplan"]


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


def test_geoplan_serve_answers_over_http(tmp_path: Path) -> None:
    """The served API answers /health without a key and layers with one, on loopback."""
    ws = build_workspace(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        *_command(),
        "serve",
        "--workspace",
        str(ws.path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_up(url, process)
        assert httpx.get(f"{url}/health").json() == {"status": "ok", "workspace": True}
        assert httpx.get(f"{url}/collections").status_code == 401
        items = httpx.get(f"{url}/collections/gathering_points/items", headers=ws.headers("viewer"))
        assert items.headers["content-type"] == "application/geo+json"
        assert items.json()["numberMatched"] == 3
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_refuses_a_missing_workspace(tmp_path: Path) -> None:
    """A workspace that does not exist is an error, not an empty server."""
    missing = tmp_path / "nowhere.gpkg"
    done = subprocess.run(
        [*_command(), "serve", "--workspace", str(missing)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "does not exist" in done.stderr
