"""Speed of the HTTP API, served for real by ``geoplan serve`` on the loopback interface.

Anchors (issue 7), on a workspace of 5,000 gathering points and 200,000 outreach visits:

- coverage queries at one client: p95 within 50 ms;
- coverage queries at 16 concurrent clients: at least 300 requests/s, with 0 errors;
- an items page of 1,000 features (``/collections/gathering_points/items?limit=1000``): p95,
  reported (no target);
- a small-bbox items query (about 2 km around one gathering point): p50 and p95, reported.

The workspace comes from the demo generator (:func:`geoplan.demo.scenario.build_demo_workspace`,
``validate=False``). An admin key is made with :func:`geoplan.keys.create_key`, then
``geoplan serve`` runs in a subprocess on 127.0.0.1 at a free port (one uvicorn process, as a
user starts it) and httpx asks over keep-alive connections. The coverage queries are the four
coverage routes in turn (``gaps``, ``areas``, ``summary``, ``indicators``) with their default
options, so every request reads the one analysis the server computed and cached at the first
query (its time is shown as *cold*, not part of the anchors). Throughput runs 16 asyncio
clients for a fixed time. The server is always stopped, whatever happens; the run is bounded
(about a minute and a half on 2 shared cores).

Stores and workers (issue 17): with ``--workspace postgresql://...`` (an empty database or
schema) the demo workspace is copied there with :func:`geoplan.store.copy_workspace`, and the
16-client coverage throughput is measured for the GeoPackage file and for PostGIS, each with
every worker count of ``--workers`` (``geoplan serve --workers N``), one after the other in
the same run so that the figures are relative to each other under the same load. Before each
throughput run every worker is warmed (it computes and caches the analysis on its own).

Usage::

    python benchmarks/bench_api.py [--sites 5000] [--visits 200000] [--requests 200]
        [--clients 16] [--seconds 10] [--pages 30] [--seed 1]
        [--workspace postgresql://USER:PASSWORD@HOST/DB] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np

from geoplan.demo.scenario import build_demo_workspace
from geoplan.keys import create_key
from geoplan.store import copy_workspace, is_url, open_store, workspace_label

TODAY = dt.date(2026, 11, 30)
P95_MS, THROUGHPUT_RPS, PAGE = 50.0, 300.0, 1000
COVERAGE = ("/coverage/gaps", "/coverage/areas", "/coverage/summary", "/coverage/indicators")
ITEMS = f"/collections/gathering_points/items?limit={PAGE}"
BBOX_DEG = 0.01
"""Half the side of the small bbox, in degrees (about 1 km)."""
START_S, COLD_S = 180.0, 120.0


def main(argv: Sequence[str] | None = None) -> None:
    """Build the workspace, serve it, measure, stop the server."""
    args = _parser().parse_args(argv)
    print(f"load before: {_load()}")
    with tempfile.TemporaryDirectory(prefix="geoplan-bench-api-") as folder:
        path = Path(folder) / "bench.gpkg"
        started = time.perf_counter()
        build_demo_workspace(
            path, seed=args.seed, sites=args.sites, visits=args.visits, today=TODAY, validate=False
        )
        _, token = create_key(open_store(path), role="admin", name="bench_api")
        print(
            f"workspace: {args.sites:,} sites, {args.visits:,} visits, "
            f"{path.stat().st_size / 1e6:.0f} MB, built in {time.perf_counter() - started:.1f} s"
        )
        with serve(path) as url, httpx.Client(base_url=url, headers=_key(token)) as client:
            _measure(client, url, token, args)
        if args.workspace or args.workers != [1]:
            _stores_and_workers(path, token, args)
    print(f"load after: {_load()}")


def _stores_and_workers(path: Path, token: str, args: argparse.Namespace) -> None:
    """Throughput of coverage queries per store and worker count, in one run."""
    targets: list[tuple[str, str]] = [("GeoPackage", str(path))]
    if args.workspace:
        if not is_url(args.workspace):
            raise SystemExit("--workspace must be a postgresql:// DSN of an empty database")
        started = time.perf_counter()
        result = copy_workspace(open_store(path), open_store(args.workspace))
        print(
            f"copied to {workspace_label(args.workspace)}: {result.summary()} in "
            f"{time.perf_counter() - started:.1f} s"
        )
        targets.append(("PostGIS", args.workspace))
    rows = []
    for name, workspace in targets:
        for workers in args.workers:
            with serve(workspace, workers=workers) as url:
                warm = asyncio.run(_warm(url, token, args.clients))
                done, errors, seconds = asyncio.run(
                    _concurrent(url, token, args.clients, args.seconds)
                )
            rate = sum(done.values()) / seconds
            rows.append((name, workers, rate, sum(errors.values()), warm))
            print(
                f"{name}, {workers} API worker(s), {args.clients} clients, {seconds:.0f} s: "
                f"{rate:.0f} requests/s, {sum(errors.values())} errors (warmed in {warm:.1f} s)"
            )
    print(f"\n| store | API workers | requests/s ({args.clients} clients) | errors |")
    print("|---|---|---|---|")
    for name, workers, rate, errors, _ in rows:
        print(f"| {name} | {workers} | {rate:.0f} | {errors} |")


async def _warm(url: str, token: str, clients: int) -> float:
    """Ask every coverage route from ``clients`` fresh connections at once, round after round,
    until a whole round answers quickly: every worker has computed and cached its analysis."""
    started = time.perf_counter()
    for _ in range(20):
        round_started = time.perf_counter()
        async with httpx.AsyncClient(base_url=url, headers=_key(token), timeout=COLD_S) as client:
            await asyncio.gather(
                *(
                    client.get(COVERAGE[i % len(COVERAGE)], headers={"Connection": "close"})
                    for i in range(clients)
                )
            )
        if time.perf_counter() - round_started < 1.0:
            break
    return time.perf_counter() - started


def _measure(client: httpx.Client, url: str, token: str, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    for path in COVERAGE:  # the first query computes the analysis; the others read it
        _get(client, path, timeout=COLD_S)
    print(f"cold: first coverage queries (analysis computed and cached): {_since(started):.1f} s")

    times = _sequential(client, [COVERAGE[i % len(COVERAGE)] for i in range(args.requests)])
    p50, p95, p99 = np.percentile(times, [50, 95, 99])
    verdict = "ok" if p95 <= P95_MS else "MISSED"
    print(
        f"coverage queries, 1 client, {args.requests} requests: p50 {p50:.1f} ms, "
        f"p95 {p95:.1f} ms, p99 {p99:.1f} ms   (target p95 <= {P95_MS:.0f} ms: {verdict})"
    )
    for path in COVERAGE:
        one = _sequential(client, [path] * max(args.requests // 4, 10))
        print(f"  {path:<22} p50 {np.median(one):6.1f} ms, p95 {np.percentile(one, 95):6.1f} ms")

    done, errors, seconds = asyncio.run(_concurrent(url, token, args.clients, args.seconds))
    rate = sum(done.values()) / seconds
    verdict = "ok" if rate >= THROUGHPUT_RPS and not errors else "MISSED"
    print(
        f"coverage queries, {args.clients} clients, {seconds:.0f} s: {rate:.0f} requests/s, "
        f"{sum(errors.values())} errors   (target >= {THROUGHPUT_RPS:.0f}/s, 0 errors: {verdict})"
    )
    for problem, count in errors.most_common(5):
        print(f"  error: {problem} x{count}")

    _get(client, ITEMS)  # the layer's frame is read once, then cached
    pages = _sequential(client, [ITEMS] * args.pages)
    size = len(_get(client, ITEMS).content) / 1e6
    print(
        f"items page of {PAGE:,} features ({size:.1f} MB GeoJSON), 1 client, {args.pages} "
        f"requests: p50 {np.median(pages):.0f} ms, p95 {np.percentile(pages, 95):.0f} ms"
    )
    small = _small_bbox(client)
    boxes = _sequential(client, [small] * args.pages)
    found = len(_get(client, small).json()["features"])
    print(
        f"small bbox ({found} features), 1 client, {args.pages} requests: "
        f"p50 {np.median(boxes):.1f} ms, p95 {np.percentile(boxes, 95):.1f} ms"
    )


def _small_bbox(client: httpx.Client) -> str:
    """The items of a box about 2 km wide around the first gathering point."""
    x, y = _get(client, f"{ITEMS[: ITEMS.index('?')]}?limit=1").json()["features"][0]["geometry"][
        "coordinates"
    ]
    box = f"{x - BBOX_DEG},{y - BBOX_DEG},{x + BBOX_DEG},{y + BBOX_DEG}"
    return f"{ITEMS}&bbox={box}"


# --- the server ---------------------------------------------------------------------------


@contextmanager
def serve(workspace: Path | str, *, workers: int = 1) -> Iterator[str]:
    """``geoplan serve`` on a free loopback port; yields its URL and always stops it."""
    port = _free_port()
    script = shutil.which("geoplan")
    command = [script] if script else [sys.executable, "-m", "geoplan"]
    command += ["serve", "--workspace", str(workspace), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)]
    env = {**os.environ, "GEOPLAN_PLAN_WORKERS": "1"}
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"geoplan serve exited with {process.returncode}")
        try:
            httpx.get(f"{url}/health", timeout=2).raise_for_status()
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        return
    raise SystemExit(f"geoplan serve did not answer within {START_S:.0f} s")


# --- asking -------------------------------------------------------------------------------


def _key(token: str) -> dict[str, str]:
    return {"X-API-Key": token}


def _get(client: httpx.Client, path: str, *, timeout: float = 30.0) -> httpx.Response:
    response = client.get(path, timeout=timeout)
    if response.status_code != 200:
        raise SystemExit(f"GET {path}: {response.status_code} {response.text[:300]}")
    return response


def _sequential(client: httpx.Client, paths: Sequence[str]) -> np.ndarray:
    """Milliseconds of each request, one after the other, body read."""
    times = np.empty(len(paths))
    for i, path in enumerate(paths):
        started = time.perf_counter()
        _get(client, path)
        times[i] = (time.perf_counter() - started) * 1000
    return times


async def _concurrent(
    url: str, token: str, clients: int, seconds: float
) -> tuple[Counter[str], Counter[str], float]:
    """Requests done by route and errors by kind, with ``clients`` asking at once."""
    done: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=url, headers=_key(token), limits=limits, timeout=30
    ) as client:
        started = time.perf_counter()
        stop = started + seconds

        async def ask(worker: int) -> None:
            i = worker
            while time.perf_counter() < stop:
                path = COVERAGE[i % len(COVERAGE)]
                i += 1
                try:
                    response = await client.get(path)
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] += 1
                    continue
                if response.status_code == 200:
                    done[path] += 1
                else:
                    errors[f"{path} {response.status_code}"] += 1

        await asyncio.gather(*(ask(w) for w in range(clients)))
        return done, errors, time.perf_counter() - started


# --- reporting ----------------------------------------------------------------------------


def _since(started: float) -> float:
    return time.perf_counter() - started


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPUs"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=5000, help="gathering points")
    parser.add_argument("--visits", type=int, default=200_000, help="outreach visits")
    parser.add_argument("--requests", type=int, default=200, help="latency samples, 1 client")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="throughput run length")
    parser.add_argument("--pages", type=int, default=30, help="items pages of 1,000 features")
    parser.add_argument("--seed", type=int, default=1, help="demo generator seed")
    parser.add_argument(
        "--workspace",
        help="also measure PostGIS: a postgresql:// DSN of an empty database or schema",
    )
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1], help="API worker counts to measure"
    )
    return parser


if __name__ == "__main__":
    main()
