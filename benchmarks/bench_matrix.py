"""Travel-time matrix speed: road network (cold and warm) against a scipy Dijkstra baseline,
and a large straight-line matrix.

What it measures, each phase in a fresh Python process so that times and peak memory are those
a user sees on a first and a second run:

1. a grid-like road network of ``SIDE * SIDE`` nodes (100,489 by default) is written as an
   OpenStreetMap ``.osm.pbf`` extract: 100 m blocks, a primary road every tenth street, some
   one-way streets;
2. **cold**: :func:`geoplan.travel.roads.read_network` reads, builds, contracts and caches it, then a
   1,000 x 1,000 matrix is computed between random points (snapped to the roads);
3. **warm**: the same in a new process, the network now loaded from the cache;
4. **baseline**: scipy's ``csgraph.dijkstra`` from the same 1,000 origin nodes on the same
   graph, the destination columns taken (what one would write without a hierarchy);
5. a 5,000 x 5,000 straight-line matrix, with and without two no-go zones.

Targets (issue 3, on the 2-core development machine): warm 1,000 x 1,000 within 2 s and at
least 10x faster than the baseline; straight-line 5,000 x 5,000 within 2 s.

Usage::

    python benchmarks/bench_matrix.py [--side 317] [--points 1000] [--straight 5000]

Never run by CI. Numba compiles the hierarchy's kernels on first use and caches them beside
``geoplan/hierarchy.py``; the script says whether that cache was warm.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SEED = 11
STEP_DEG = 0.0009  # about 100 m between crossings
WEST, SOUTH = 13.0, 32.6


def write_grid(path: Path, side: int) -> None:
    """A grid of ``side`` x ``side`` crossings as an OpenStreetMap extract."""
    import osmium

    ids = np.arange(side * side).reshape(side, side) + 1
    with osmium.SimpleWriter(str(path), overwrite=True) as writer:
        for r in range(side):
            for c in range(side):
                location = (WEST + c * STEP_DEG, SOUTH + r * STEP_DEG)
                writer.add_node(osmium.osm.mutable.Node(id=int(ids[r, c]), location=location))
        way_id = 1
        for k in range(side):
            for nodes in (ids[k, :], ids[:, k]):  # a street along row k, then along column k
                writer.add_way(
                    osmium.osm.mutable.Way(
                        id=way_id, nodes=[int(n) for n in nodes], tags=_street_tags(k)
                    )
                )
                way_id += 1


def _street_tags(k: int) -> dict[str, str]:
    if k % 10 == 0:
        return {"highway": "primary"}
    if k % 10 == 5:
        return {"highway": "residential", "oneway": "yes" if k % 20 == 5 else "-1"}
    return {"highway": "residential"}


def random_points(n: int, side: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points scattered over the grid (off the roads, so they are snapped)."""
    rng = np.random.default_rng(seed)
    span = (side - 1) * STEP_DEG
    return WEST + rng.uniform(0, span, n), SOUTH + rng.uniform(0, span, n)


def peak_mb() -> float:
    """Peak resident memory of this process, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- phases, each run in its own process ----------------------------------------------------


def phase_road(extract: Path, cache: Path, n_points: int, side: int) -> dict[str, float]:
    """Read (build or load) the network and compute an n x n matrix; times in seconds."""
    from geoplan.travel.matrix import Points
    from geoplan.travel.roads import RoadNetworkBackend, read_network
    from geoplan.zones import no_closures

    imported = peak_mb()
    start = time.perf_counter()
    network = read_network(extract, cache_dir=cache)
    loaded = time.perf_counter()
    lon_o, lat_o = random_points(n_points, side, SEED)
    lon_d, lat_d = random_points(n_points, side, SEED + 1)
    origins = Points(tuple(f"o{i}" for i in range(n_points)), lon_o, lat_o)
    destinations = Points(tuple(f"d{i}" for i in range(n_points)), lon_d, lat_d)
    matrix = RoadNetworkBackend(network, cache_dir=cache).travel_times(
        origins, destinations, no_closures()
    )
    done = time.perf_counter()
    return {
        "nodes": network.n_nodes,
        "edges": network.n_edges,
        "from_cache": float(network.from_cache),
        "read_s": loaded - start,
        "query_s": done - loaded,
        "total_s": done - start,
        "reachable": float(matrix.reachable.mean()),
        "checksum": float(np.nansum(matrix.seconds)),
        "imports_mb": imported,
        "peak_mb": peak_mb(),
    }


def phase_baseline(extract: Path, cache: Path, n_points: int, side: int) -> dict[str, float]:
    """scipy Dijkstra from every origin's node, on the same (cached) graph and snapping."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    from geoplan.travel.matrix import Points
    from geoplan.travel.roads import read_network, snap_points

    network = read_network(extract, cache_dir=cache)
    n = network.n_nodes
    graph = csr_matrix((network.seconds, (network.tails, network.heads)), shape=(n, n))
    lon_o, lat_o = random_points(n_points, side, SEED)
    lon_d, lat_d = random_points(n_points, side, SEED + 1)
    src = snap_points(network, Points(tuple(map(str, range(n_points))), lon_o, lat_o))
    dst = snap_points(network, Points(tuple(map(str, range(n_points))), lon_d, lat_d))
    start = time.perf_counter()
    times = dijkstra(graph, directed=True, indices=src.nodes)[:, dst.nodes]
    off = network.params.off_road_kmh / 3.6
    times += src.metres[:, None] / off + dst.metres[None, :] / off
    elapsed = time.perf_counter() - start
    return {"query_s": elapsed, "checksum": float(times.sum()), "peak_mb": peak_mb()}


def phase_straight(n_points: int) -> dict[str, float]:
    """An n x n straight-line matrix across western Libya, without and with two zones."""
    import geopandas as gpd
    import shapely

    from geoplan.travel.matrix import Points, StraightLineBackend
    from geoplan.zones import active_zones, no_closures

    rng = np.random.default_rng(SEED)
    lon, lat = rng.uniform(11.5, 14.5, n_points), rng.uniform(32.0, 33.2, n_points)
    points = Points(tuple(f"p{i}" for i in range(n_points)), lon, lat)
    backend = StraightLineBackend()
    start = time.perf_counter()
    one = Points(("p0",), lon[:1], lat[:1])
    backend.travel_times(one, one, no_closures())  # loads the compiled kernels, starts threads
    loaded = time.perf_counter()
    plain = backend.travel_times(points, points, no_closures())
    middle = time.perf_counter()
    checksum = float(plain.seconds.sum())
    del plain  # so that the peak is one matrix's
    zones = gpd.GeoDataFrame(
        {
            "id": ["Z1", "Z2"],
            "name": ["Checkpoint belt", "Market district"],
            "valid_from": [dt.date(2026, 1, 1)] * 2,
            "valid_to": [None, None],
        },
        geometry=[shapely.box(13.30, 32.80, 13.45, 32.90), shapely.box(12.60, 32.70, 12.70, 32.78)],
        crs=4326,
    )
    closed = backend.travel_times(points, points, active_zones(zones, on=dt.date(2026, 3, 1)))
    end = time.perf_counter()
    return {
        "kernels_s": loaded - start,
        "plain_s": middle - loaded,
        "zones_s": end - middle,
        "cut_pairs": float((~closed.reachable).sum()),
        "checksum": checksum,
        "peak_mb": peak_mb(),
    }


# --- orchestration ------------------------------------------------------------------------------


def run_phase(name: str, *args: str) -> dict[str, float]:
    """Run one phase in a fresh interpreter and return what it measured."""
    command = [sys.executable, __file__, "--phase", name, *args]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def numba_cache_warm() -> bool:
    folder = Path(__file__).resolve().parents[1] / "geoplan" / "__pycache__"
    return any(folder.glob("hierarchy.*.nbi"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=317, help="grid side (317^2 = 100,489)")
    parser.add_argument("--points", type=int, default=1000, help="origins = destinations count")
    parser.add_argument("--straight", type=int, default=5000, help="straight-line matrix size")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--extract", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(_phase(args)))
        return
    _report(args)


def _phase(args: argparse.Namespace) -> dict[str, float]:
    if args.phase == "straight":
        return phase_straight(args.straight)
    extract, cache = Path(args.extract), Path(args.cache)
    if args.phase == "road":
        return phase_road(extract, cache, args.points, args.side)
    return phase_baseline(extract, cache, args.points, args.side)


def _report(args: argparse.Namespace) -> None:
    print(
        f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1 and 5 min), {os.cpu_count()} CPUs"
    )
    print(f"numba kernel cache warm before this run: {numba_cache_warm()}")
    sizes = ["--side", str(args.side), "--points", str(args.points)]
    with tempfile.TemporaryDirectory() as folder:
        extract, cache = Path(folder) / "grid.osm.pbf", Path(folder) / "cache"
        start = time.perf_counter()
        write_grid(extract, args.side)
        print(
            f"grid extract written in {time.perf_counter() - start:.1f} s ({extract.stat().st_size / 1e6:.1f} MB)"
        )
        where = ["--extract", str(extract), "--cache", str(cache)]
        cold = run_phase("road", *sizes, *where)
        warm = run_phase("road", *sizes, *where)
        base = run_phase("baseline", *sizes, *where)
    straight = run_phase("straight", "--straight", str(args.straight))
    _print_results(args, cold, warm, base, straight)


def _print_results(
    args: argparse.Namespace,
    cold: dict[str, float],
    warm: dict[str, float],
    base: dict[str, float],
    straight: dict[str, float],
) -> None:
    n, nodes = args.points, int(cold["nodes"])
    speedup = base["query_s"] / warm["total_s"]
    same = abs(cold["checksum"] - base["checksum"]) <= 1e-6 * base["checksum"]
    print(
        f"road graph: {nodes:,} nodes, {int(cold['edges']):,} directed edges; {n:,} x {n:,} matrix"
    )
    print(
        f"  cold (build + query):   {cold['total_s']:6.2f} s  (build {cold['read_s']:.2f} s, query {cold['query_s']:.2f} s), peak {cold['peak_mb']:.0f} MB (after imports {cold['imports_mb']:.0f} MB)"
    )
    print(
        f"  warm (cache + query):   {warm['total_s']:6.2f} s  (load {warm['read_s']:.2f} s, query {warm['query_s']:.2f} s), peak {warm['peak_mb']:.0f} MB   target <= 2 s: {_ok(warm['total_s'] <= 2.0)}"
    )
    print(
        f"  scipy Dijkstra baseline: {base['query_s']:6.2f} s  (query only), peak {base['peak_mb']:.0f} MB"
    )
    print(f"  warm speed-up over baseline: {speedup:.1f}x   target >= 10x: {_ok(speedup >= 10)}")
    print(f"  same times as the baseline: {_ok(same)}; warm from cache: {bool(warm['from_cache'])}")
    m = args.straight
    print(
        f"straight line {m:,} x {m:,}: {straight['plain_s']:.2f} s   target <= 2 s: {_ok(straight['plain_s'] <= 2.0)}"
    )
    print(
        f"  (before it, loading the compiled kernels in a fresh process: {straight['kernels_s']:.2f} s)"
    )
    print(
        f"  with two no-go zones: {straight['zones_s']:.2f} s ({int(straight['cut_pairs']):,} pairs cut), peak {straight['peak_mb']:.0f} MB"
    )


def _ok(flag: bool) -> str:
    return "met" if flag else "MISSED"


if __name__ == "__main__":
    main()
