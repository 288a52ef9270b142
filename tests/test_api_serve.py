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

from tests.api_fixtures import FIXTURES, Workspace, build_workspace, geoplan_command, served

GP = "/collections/gathering_points"


@contextmanager
def _serve(ws: Workspace, **env: str) -> Iterator[int]:
    """``geoplan serve`` on the workspace at a free port; yields the port."""
    with served(ws.path, **env) as url:
        yield int(url.rsplit(":", 1)[1])


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
