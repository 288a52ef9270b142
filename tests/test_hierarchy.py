"""Contraction hierarchy: exact shortest times, compared with scipy's Dijkstra."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geoplan.travel.hierarchy import Hierarchy, build_hierarchy, many_to_many

Edges = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def random_graph(seed: int, n: int, m: int) -> Edges:
    """A random directed graph: ``m`` edges on ``n`` nodes, loops and parallel edges included."""
    rng = np.random.default_rng(seed)
    tails, heads = rng.integers(0, n, m), rng.integers(0, n, m)
    seconds = rng.uniform(1.0, 100.0, m)
    metres = seconds * rng.uniform(5.0, 25.0, m)
    return tails, heads, seconds, metres


def grid_graph(side: int, seed: int) -> Edges:
    """A two-way grid with random times, some streets one-way: road-like, many equal hops."""
    rng = np.random.default_rng(seed)
    ids = np.arange(side * side).reshape(side, side)
    a = np.r_[ids[:, :-1].ravel(), ids[:-1, :].ravel()]
    b = np.r_[ids[:, 1:].ravel(), ids[1:, :].ravel()]
    two_way = rng.random(len(a)) > 0.2
    tails, heads = np.r_[a, b[two_way]], np.r_[b, a[two_way]]
    seconds = rng.uniform(5.0, 30.0, len(tails))
    return tails, heads, seconds, seconds * 10.0


def dijkstra_times(n: int, edges: Edges) -> tuple[np.ndarray, np.ndarray]:
    """All-pairs times and predecessors by scipy, the fastest of parallel edges kept."""
    tails, heads, seconds, _ = edges
    keep = tails != heads
    dense = np.full((n, n), np.inf)
    np.minimum.at(dense, (tails[keep], heads[keep]), seconds[keep])
    dense[np.isinf(dense)] = 0.0  # no edge
    return dijkstra(csr_matrix(dense), directed=True, return_predecessors=True)


def path_metres(edges: Edges, pred: np.ndarray, i: int, j: int) -> float:
    """Metres along scipy's shortest path from ``i`` to ``j`` (fastest parallel edge)."""
    tails, heads, seconds, metres = edges
    total, node = 0.0, j
    while node != i:
        prev = pred[i, node]
        mask = (tails == prev) & (heads == node)
        total += float(metres[mask][np.argmin(seconds[mask])])
        node = prev
    return total


def assert_same_as_dijkstra(n: int, edges: Edges) -> None:
    hierarchy = build_hierarchy(n, *edges)
    nodes = np.arange(n)
    seconds, metres = many_to_many(hierarchy, nodes, nodes)
    expected, pred = dijkstra_times(n, edges)
    np.testing.assert_allclose(seconds, expected, rtol=1e-9)
    rng = np.random.default_rng(n)
    for i, j in rng.integers(0, n, (20, 2)):
        if i != j and np.isfinite(expected[i, j]):
            assert metres[i, j] == pytest.approx(path_metres(edges, pred, int(i), int(j)))


@pytest.mark.parametrize("seed", range(6))
def test_random_sparse_graphs_match_dijkstra(seed: int) -> None:
    """Times (and metres along the path) equal scipy's on random graphs with unreachable pairs."""
    assert_same_as_dijkstra(60, random_graph(seed, 60, 150))


@pytest.mark.parametrize("seed", range(3))
def test_random_dense_graphs_match_dijkstra(seed: int) -> None:
    """Dense graphs, where contraction adds many shortcuts, still give exact times."""
    assert_same_as_dijkstra(40, random_graph(100 + seed, 40, 600))


@pytest.mark.parametrize("seed", range(3))
def test_road_like_grids_match_dijkstra(seed: int) -> None:
    """A 20 x 20 grid with one-way streets gives scipy's times for all 160,000 pairs."""
    assert_same_as_dijkstra(400, grid_graph(20, seed))


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 25),
    edges=st.lists(
        st.tuples(st.integers(0, 24), st.integers(0, 24), st.floats(0.5, 50.0)), max_size=80
    ),
)
def test_any_small_graph_matches_dijkstra(n: int, edges: list[tuple[int, int, float]]) -> None:
    """Whatever the graph (empty, looped, parallel, cut in pieces), times equal scipy's."""
    kept = [(a, b, w) for a, b, w in edges if a < n and b < n]
    tails = np.array([a for a, _, _ in kept], dtype=np.int64)
    heads = np.array([b for _, b, _ in kept], dtype=np.int64)
    seconds = np.array([w for _, _, w in kept], dtype=float)
    hierarchy = build_hierarchy(n, tails, heads, seconds, seconds * 10)
    got, metres = many_to_many(hierarchy, np.arange(n), np.arange(n))
    expected, _ = dijkstra_times(n, (tails, heads, seconds, seconds * 10))
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    np.testing.assert_allclose(metres[np.isfinite(got)], 10 * got[np.isfinite(got)], rtol=1e-9)


def test_unreachable_pairs_are_infinite() -> None:
    """Two nodes joined one way only: back is inf, and so is everything to an isolated node."""
    one = np.array([0]), np.array([1]), np.array([5.0]), np.array([50.0])
    seconds, metres = many_to_many(build_hierarchy(3, *one), np.arange(3), np.arange(3))
    assert seconds[0, 1] == 5.0
    assert metres[0, 1] == 50.0
    assert np.isinf(seconds[1, 0])
    assert np.isinf(seconds[:2, 2]).all()
    assert (np.diag(seconds) == 0).all()


def test_repeated_and_empty_queries_keep_their_shape() -> None:
    """Sources and targets may repeat or be empty; the result has one row and column each."""
    hierarchy = build_hierarchy(25, *grid_graph(5, 0))
    seconds, _ = many_to_many(hierarchy, np.array([3, 3, 7]), np.array([0, 24, 0, 3]))
    assert seconds.shape == (3, 4)
    np.testing.assert_array_equal(seconds[0], seconds[1])
    np.testing.assert_array_equal(seconds[:, 0], seconds[:, 2])
    assert many_to_many(hierarchy, np.array([], dtype=int), np.arange(4))[0].shape == (0, 4)
    assert many_to_many(hierarchy, np.arange(4), np.array([], dtype=int))[0].shape == (4, 0)


def test_arrays_round_trip_gives_the_same_answers() -> None:
    """A hierarchy saved as arrays and rebuilt answers exactly as before (the disk cache)."""
    hierarchy = build_hierarchy(100, *grid_graph(10, 1))
    again = Hierarchy.from_arrays(100, hierarchy.arrays())
    nodes = np.arange(100)
    np.testing.assert_array_equal(
        many_to_many(hierarchy, nodes, nodes)[0], many_to_many(again, nodes, nodes)[0]
    )
