"""Writers at once against a live server (uvicorn on a random loopback port): no lost write,
no 500, and two edits of the same version cannot both win."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.api_fixtures import Workspace, build_workspace, live_server

CLIENTS, WRITES = 8, 20
VISITS = "/collections/outreach_visits/items"
GP3 = "/collections/gathering_points/items/GP-3"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return build_workspace(tmp_path_factory.mktemp("api-concurrency"))


@pytest.fixture(scope="module")
def base(ws: Workspace) -> Iterator[str]:
    with live_server(ws) as url:
        yield url


def _visit(client_no: int, n: int) -> dict[str, object]:
    return {
        "type": "Feature",
        "id": f"C{client_no}-{n}",
        "geometry": None,
        "properties": {
            "site_id": "GP-1",
            "date": "2026-01-02",
            "team_id": "T-MED",
            "services": ["health"],
            "people_reached": n,
        },
    }


def test_eight_clients_writing_at_once_lose_nothing(base: str, ws: Workspace) -> None:
    """8 clients x 20 new visits at once: every write answered 201 and every visit stored."""

    def writer(client_no: int) -> list[int]:
        with httpx.Client(base_url=base, headers=ws.headers("planner"), timeout=60) as http:
            return [http.post(VISITS, json=_visit(client_no, n)).status_code for n in range(WRITES)]

    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = Counter(s for result in pool.map(writer, range(CLIENTS)) for s in result)
    assert statuses == {201: CLIENTS * WRITES}
    stored = {i for i in ws.store.ids("outreach_visits") if i.startswith("C")}
    assert len(stored) == CLIENTS * WRITES


def test_concurrent_increments_lose_no_update(base: str, ws: Workspace) -> None:
    """Read-modify-write with If-Match, retried on 412: every increment counts, no 500."""
    start = httpx.get(base + GP3, headers=ws.headers("admin")).json()["properties"]["people"]
    seen: Counter[int] = Counter()
    lock = threading.Lock()

    def incrementer(_: int) -> None:
        with httpx.Client(base_url=base, headers=ws.headers("admin"), timeout=60) as http:
            done = 0
            while done < 5:
                current = http.get(GP3)
                people = current.json()["properties"]["people"] + 1
                answer = http.patch(
                    GP3,
                    json={"properties": {"people": people}},
                    headers={"If-Match": current.headers["etag"]},
                )
                with lock:
                    seen[answer.status_code] += 1
                done += answer.status_code == 200

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(incrementer, range(4)))
    final = httpx.get(base + GP3, headers=ws.headers("admin")).json()["properties"]["people"]
    assert final == start + 20
    assert set(seen) <= {200, 412}
    assert seen[200] == 20


def test_two_updates_with_the_same_etag_one_wins(base: str, ws: Workspace) -> None:
    """Two editors send a change based on the same ETag at the same moment: one 200, one 412."""
    for round_no in range(3):
        etag = httpx.get(base + GP3, headers=ws.headers("admin")).headers["etag"]
        barrier = threading.Barrier(2)

        def editor(value: int, etag: str = etag, barrier: threading.Barrier = barrier) -> int:
            with httpx.Client(base_url=base, headers=ws.headers("admin"), timeout=60) as http:
                barrier.wait()
                body = {"properties": {"visit_frequency_days": value}}
                return http.patch(GP3, json=body, headers={"If-Match": etag}).status_code

        with ThreadPoolExecutor(2) as pool:
            statuses = sorted(pool.map(editor, (30 + round_no, 60 + round_no)))
        assert statuses == [200, 412]
