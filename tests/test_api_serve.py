"""`geoplan serve` starts the real server on 127.0.0.1, queried over HTTP."""

from __future__ import annotations

import json
import select
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from geoplan.keys import list_keys, revoke_key
from tests.api_fixtures import FIXTURES, Workspace, build_workspace, geoplan_command, served
from tests.conftest import drop_postgis_workspace, new_postgis_workspace

GP = "/collections/gathering_points"


@contextmanager
def _serve(ws: Workspace, *options: str, **env: str) -> Iterator[int]:
    """``geoplan serve`` on the workspace at a free port, with extra options and GEOPLAN_*
    variables; yields the port."""
    with served(ws.path, *options, **env) as url:
        yield int(url.rsplit(":", 1)[1])


def test_api_workers_on_one_postgis_workspace_see_every_write_at_once(
    tmp_path: Path, postgis_server: str
) -> None:
    """Two `geoplan serve` processes on one PostGIS workspace, one of them with two workers:
    a feature created through one is listed by the other at its next request (its cache is
    keyed by the workspace's revision), and a key revoked elsewhere is refused by every worker
    at its next request."""
    dsn = new_postgis_workspace(postgis_server)
    try:
        ws = build_workspace(tmp_path, workspace=dsn)
        with _serve(ws, "--workers", "2") as port_a, _serve(ws) as port_b:
            a, b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
            viewer = ws.headers("viewer")
            for url in (a, a, a, b):  # every worker of A has its cache filled
                assert httpx.get(f"{url}{GP}/items", headers=viewer).json()["numberMatched"] == 3
            created = httpx.post(f"{b}{GP}/items", json=_FEATURE, headers=ws.headers("admin"))
            assert created.status_code == 201, created.text
            for url in (a, a, a, b):  # fresh connections: any worker of A answers
                assert httpx.get(f"{url}{GP}/items", headers=viewer).json()["numberMatched"] == 4
            key_id = next(k.key_id for k in list_keys(ws.store) if k.role == "viewer")
            revoke_key(ws.store, key_id)  # as `geoplan keys revoke` does, from another process
            for url in (a, a, a, b):
                assert httpx.get(f"{url}{GP}/items", headers=viewer).status_code == 401
    finally:
        drop_postgis_workspace(dsn)


_FEATURE = {
    "type": "Feature",
    "id": "GP-9",
    "geometry": {"type": "Point", "coordinates": [13.1, 32.9]},
    "properties": {"name": "Camp west", "setting": "camp"},
}


def test_geoplan_serve_answers_over_http(tmp_path: Path) -> None:
    """The served API answers /health without a key and layers with one, on loopback, with
    no-store and nosniff; a Host that is not trusted gets 400."""
    ws = build_workspace(tmp_path)
    with _serve(ws) as port:
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/health").json() == {"status": "ok", "workspace": True}
        assert httpx.get(f"{url}/collections").status_code == 401
        items = httpx.get(f"{url}/collections/gathering_points/items", headers=ws.headers("viewer"))
        assert items.headers["content-type"] == "application/geo+json"
        assert items.json()["numberMatched"] == 3
        assert items.headers["cache-control"] == "no-store"
        assert items.headers["x-content-type-options"] == "nosniff"
        assert "server" not in items.headers
        evil = {**ws.headers("viewer"), "Host": "evil.example"}
        assert httpx.get(f"{url}/collections", headers=evil).status_code == 400


def _send_slowly(port: int, head: bytes, body: bytes, *, every: float) -> tuple[bytes, float]:
    """Send ``head`` at once and ``body`` one byte per ``every`` seconds until the server
    answers; the answer (read until the server closes) and the seconds the body took."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        started = time.monotonic()
        for byte in body:
            if _answered_within(sock, every):
                break
            sock.sendall(bytes([byte]))
        answered = time.monotonic() - started
        answer = b""
        while chunk := sock.recv(65536):  # b"" once the server has closed the connection
            answer += chunk
    return answer, answered


def _answered_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server starts answering within ``seconds``, looked at every 20 ms, so that
    no byte is sent after the server has answered and closed (that byte would reset the
    connection and lose the answer)."""
    deadline = time.monotonic() + seconds
    while True:
        readable, _, _ = select.select(
            [sock], [], [], min(0.02, max(0.0, deadline - time.monotonic()))
        )
        if readable:
            return True
        if time.monotonic() >= deadline:
            return False


def test_a_slow_body_is_cut_off_with_408(tmp_path: Path) -> None:
    """A body sent a byte every 0.3 s gets 408 within GEOPLAN_BODY_TIMEOUT (2 s) plus a margin,
    and the server closes the connection; a normal feature and a normal upload still work."""
    ws = build_workspace(tmp_path)
    feature = {
        "type": "Feature",
        "id": "GP-9",
        "geometry": {"type": "Point", "coordinates": [13.1, 32.9]},
        "properties": {"name": "Camp west", "setting": "camp"},
    }
    body = json.dumps(feature).encode()
    with _serve(ws, GEOPLAN_BODY_TIMEOUT="2") as port:
        head = (
            f"POST {GP}/items HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"X-API-Key: {ws.keys['admin']}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        # 0.3 s does not divide the 2 s limit: no byte is due as the server answers
        answer, seconds = _send_slowly(port, head, body, every=0.3)
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert b"connection: close" in answer.lower()
        assert b"GEOPLAN_BODY_TIMEOUT" in answer
        assert 1.5 <= seconds < 2 + 3
        url = f"http://127.0.0.1:{port}"
        created = httpx.post(f"{url}{GP}/items", json=feature, headers=ws.headers("admin"))
        assert created.status_code == 201, created.text
        csv = (FIXTURES / "valid" / "gathering_points.csv").read_bytes()
        files = {"file": ("gathering_points.csv", csv, "text/csv")}
        upload = httpx.post(
            f"{url}{GP}/import?dry_run=true", files=files, headers=ws.headers("admin")
        )
        assert upload.status_code == 200, upload.text


def test_serve_refuses_a_missing_workspace(tmp_path: Path) -> None:
    """A workspace that does not exist is an error, not an empty server."""
    missing = tmp_path / "nowhere.gpkg"
    done = subprocess.run(
        [*geoplan_command(), "serve", "--workspace", str(missing)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "does not exist" in done.stderr
