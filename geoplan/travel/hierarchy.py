"""Contraction hierarchies: many-to-many shortest travel times on a directed road graph.

Why this module exists (measured on the 2-core development machine, a 100,489-node, 400,688-edge
grid-like road graph with a faster road every tenth street, 1,000 origins x 1,000 destinations):

======================================  ==========================================
engine                                  time for the 1,000 x 1,000 query
======================================  ==========================================
scipy ``csgraph.dijkstra`` (baseline)   about 16 s (0.80 s per 50 sources)
igraph ``Graph.distances``              about 26 s (1.32 s per 50 sources)
networkit ``SPSP`` (2 threads)          about 14 s (2.79 s per 200 sources)
rustworkx ``dijkstra_shortest_path_...`` about 57 s (2.85 s per 50 sources)
pandana 0.8 contraction hierarchies     11.1 s to contract, 9.2 s for the 10^6 pair queries;
                                        the hierarchy cannot be saved, so every run pays both
this module (numba, bucket many-to-many) see ``benchmarks/bench_matrix.py``: well under 1 s
======================================  ==========================================

None of the libraries reaches the 2 s target, because each answers one origin (or one pair) at a
time. The bucket algorithm of Knopp et al. (2007) on a contraction hierarchy (Geisberger et al.,
2008) searches only the small upward part of the graph from each origin and each destination, and
the hierarchy is three arrays that cache to disk. The kernels are compiled with numba, which
caches the machine code beside this file.

The hierarchy is exact: tests compare it with scipy's Dijkstra on random graphs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

_INF = np.inf
# Witness searches stop after this many settled nodes; stopping early only adds a shortcut that
# was not strictly needed, it never makes an answer wrong.
_SETTLE_LIMIT_SIMULATE = 16
_SETTLE_LIMIT_CONTRACT = 100
_WITNESS_HEAP = 1 << 16


@dataclass(frozen=True, eq=False)
class Hierarchy:
    """A contraction hierarchy: upward graphs in CSR form for the forward and backward searches.

    Parameters
    ----------
    n_nodes
        Number of nodes of the road graph.
    up_start, up_head, up_seconds, up_metres
        Forward upward graph: edges ``tail -> head`` with ``rank[tail] < rank[head]``, grouped
        by tail (``up_start`` has ``n_nodes + 1`` offsets).
    down_start, down_head, down_seconds, down_metres
        Backward upward graph: edges ``head -> tail`` of the original direction with
        ``rank[tail] > rank[head]``, grouped by head and pointing to the tail.
    """

    n_nodes: int
    up_start: np.ndarray
    up_head: np.ndarray
    up_seconds: np.ndarray
    up_metres: np.ndarray
    down_start: np.ndarray
    down_head: np.ndarray
    down_seconds: np.ndarray
    down_metres: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays by name, for saving with :func:`numpy.savez`."""
        names = (
            *("up_start", "up_head", "up_seconds", "up_metres"),
            *("down_start", "down_head", "down_seconds", "down_metres"),
        )
        return {name: getattr(self, name) for name in names}

    @classmethod
    def from_arrays(cls, n_nodes: int, arrays: dict[str, np.ndarray]) -> Hierarchy:
        """Rebuild a hierarchy from :meth:`arrays`."""
        return cls(n_nodes=n_nodes, **arrays)


def build_hierarchy(
    n_nodes: int,
    tails: np.ndarray,
    heads: np.ndarray,
    seconds: np.ndarray,
    metres: np.ndarray,
) -> Hierarchy:
    """Contract a directed graph into a hierarchy.

    Parameters
    ----------
    n_nodes
        Number of nodes; edges refer to nodes ``0 .. n_nodes - 1``.
    tails, heads, seconds, metres
        One entry per directed edge; parallel edges and self-loops are allowed (the shortest
        parallel edge wins, loops are dropped). ``seconds`` is what is minimised, ``metres`` is
        carried along the shortest path.

    Returns
    -------
    Hierarchy
        The upward graphs that :func:`many_to_many` searches.
    """
    keep = tails != heads
    t, h, w, m = _shortest_parallel(tails[keep], heads[keep], seconds[keep], metres[keep])
    rank, et, eh, ew, em = _contract(
        n_nodes,
        t.astype(np.int64),
        h.astype(np.int64),
        w.astype(np.float64),
        m.astype(np.float64),
    )
    upward = rank[et] < rank[eh]
    up = _csr(n_nodes, et[upward], eh[upward], ew[upward], em[upward])
    down = _csr(n_nodes, eh[~upward], et[~upward], ew[~upward], em[~upward])
    return Hierarchy(n_nodes, *up, *down)


def many_to_many(
    hierarchy: Hierarchy, sources: np.ndarray, targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Shortest travel times (and the metres along them) from every source to every target.

    Parameters
    ----------
    hierarchy
        From :func:`build_hierarchy`.
    sources, targets
        Node indices.

    Returns
    -------
    seconds, metres
        Arrays of shape ``(len(sources), len(targets))``; ``inf`` where no path exists.
    """
    sources = np.ascontiguousarray(sources, dtype=np.int64)
    targets = np.ascontiguousarray(targets, dtype=np.int64)
    h = hierarchy
    down = (h.down_start, h.down_head, h.down_seconds, h.down_metres)
    up = (h.up_start, h.up_head, h.up_seconds, h.up_metres)
    b_node, b_target, b_sec, b_met = _backward_searches(h.n_nodes, (down, up), targets)
    order = np.argsort(b_node, kind="stable")
    b_start = np.searchsorted(b_node[order], np.arange(h.n_nodes + 1)).astype(np.int64)
    buckets = (b_start, b_target[order], b_sec[order], b_met[order])
    return _forward_searches(up, down, sources, len(targets), buckets)


def _shortest_parallel(
    tails: np.ndarray, heads: np.ndarray, seconds: np.ndarray, metres: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Keep only the fastest of parallel edges."""
    order = np.lexsort((seconds, heads, tails))
    t, h = tails[order], heads[order]
    first = np.ones(len(t), dtype=bool)
    first[1:] = (t[1:] != t[:-1]) | (h[1:] != h[:-1])
    return t[first], h[first], seconds[order][first], metres[order][first]


def _csr(
    n_nodes: int, tails: np.ndarray, heads: np.ndarray, seconds: np.ndarray, metres: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(tails, kind="stable")
    start = np.searchsorted(tails[order], np.arange(n_nodes + 1)).astype(np.int64)
    return start, heads[order].astype(np.int64), seconds[order], metres[order]


# --- binary heap on parallel arrays (keys, values); returns the new size ---------------------


@njit(cache=True)
def _heap_push(keys: np.ndarray, vals: np.ndarray, size: int, key: float, val: int) -> int:
    i = size
    keys[i] = key
    vals[i] = val
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= keys[i]:
            break
        keys[parent], keys[i] = keys[i], keys[parent]
        vals[parent], vals[i] = vals[i], vals[parent]
        i = parent
    return size + 1


@njit(cache=True)
def _heap_pop(keys: np.ndarray, vals: np.ndarray, size: int) -> int:
    size -= 1
    keys[0] = keys[size]
    vals[0] = vals[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        child = left
        if left + 1 < size and keys[left + 1] < keys[left]:
            child = left + 1
        if keys[i] <= keys[child]:
            break
        keys[child], keys[i] = keys[i], keys[child]
        vals[child], vals[i] = vals[i], vals[child]
        i = child
    return size


# --- contraction --------------------------------------------------------------------------
# The edge pool is a tuple (tail, head, seconds, metres, next_out, next_in, count): parallel
# arrays with one linked list of out-edges and one of in-edges per node, grown by doubling.

_Pool = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]
_Lists = tuple[np.ndarray, np.ndarray, np.ndarray]  # head_out, head_in, contracted
_Work = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # dist, touched, heap keys, values


@njit(cache=True)
def _grow(a: np.ndarray) -> np.ndarray:
    b = np.empty(2 * len(a), dtype=a.dtype)
    b[: len(a)] = a
    return b


@njit(cache=True)
def _new_pool(
    n: int, tails: np.ndarray, heads: np.ndarray, seconds: np.ndarray, metres: np.ndarray
) -> tuple[_Pool, _Lists]:
    m = len(tails)
    cap = max(16, 2 * m)
    e_tail, e_head = np.empty(cap, np.int64), np.empty(cap, np.int64)
    e_w, e_m = np.empty(cap, np.float64), np.empty(cap, np.float64)
    next_out, next_in = np.empty(cap, np.int64), np.empty(cap, np.int64)
    head_out, head_in = np.full(n, -1, np.int64), np.full(n, -1, np.int64)
    for e in range(m):
        u, x = tails[e], heads[e]
        e_tail[e], e_head[e], e_w[e], e_m[e] = u, x, seconds[e], metres[e]
        next_out[e] = head_out[u]
        head_out[u] = e
        next_in[e] = head_in[x]
        head_in[x] = e
    pool = (e_tail, e_head, e_w, e_m, next_out, next_in, m)
    return pool, (head_out, head_in, np.zeros(n, np.bool_))


@njit(cache=True)
def _witness(
    search: tuple[int, int], limits: tuple[float, int], pool: _Pool, lists: _Lists, work: _Work
) -> int:
    """Bounded Dijkstra ``search = (source, avoid)``; returns how many nodes it touched.

    Stops at distance ``limits[0]`` or after ``limits[1]`` settled nodes, or when its buffers
    are full: stopping early can only add an unneeded shortcut, never a wrong distance.
    """
    _, e_head, e_w, _, next_out, _, _ = pool
    head_out, _, contracted = lists
    dist, touched, hk, hv = work
    limit, settle_limit = limits
    source, avoid = search
    n_touched, settled = 1, 0
    touched[0] = source
    dist[source] = 0.0
    size = _heap_push(hk, hv, 0, 0.0, source)
    while size > 0 and settled < settle_limit:
        d, u = hk[0], hv[0]
        size = _heap_pop(hk, hv, size)
        if d > dist[u]:
            continue
        settled += 1
        e = head_out[u]
        while e >= 0:
            x, nd = e_head[e], d + e_w[e]
            if x != avoid and not contracted[x] and nd < dist[x] and nd <= limit:
                if dist[x] == _INF:
                    if n_touched == len(touched) or size == len(hk):
                        return n_touched
                    touched[n_touched] = x
                    n_touched += 1
                dist[x] = nd
                size = _heap_push(hk, hv, size, nd, x)
            e = next_out[e]
    return n_touched


@njit(cache=True)
def _neighbours(
    v: int, head: np.ndarray, nxt: np.ndarray, ends: np.ndarray, contracted: np.ndarray
) -> list[int]:
    """Edge ids from ``v`` to uncontracted nodes, in one adjacency direction."""
    out = [0 for _ in range(0)]
    e = head[v]
    while e >= 0:
        if not contracted[ends[e]] and ends[e] != v:
            out.append(e)
        e = nxt[e]
    return out


@njit(cache=True)
def _process(
    v: int, simulate: bool, pool: _Pool, lists: _Lists, work: _Work
) -> tuple[int, int, _Pool]:
    """Simulate or perform the contraction of ``v``; returns (shortcuts, degree, pool)."""
    head_out, head_in, contracted = lists
    ins = _neighbours(v, head_in, pool[5], pool[0], contracted)
    outs = _neighbours(v, head_out, pool[4], pool[1], contracted)
    settle = _SETTLE_LIMIT_SIMULATE if simulate else _SETTLE_LIMIT_CONTRACT
    shortcuts = 0
    for ei in ins:
        u, w_in, m_in = pool[0][ei], pool[2][ei], pool[3][ei]
        limit = 0.0
        for eo in outs:
            if pool[1][eo] != u:
                limit = max(limit, w_in + pool[2][eo])
        if limit == 0.0:
            continue
        n_touched = _witness((u, v), (limit, settle), pool, lists, work)
        for eo in outs:
            x, via = pool[1][eo], w_in + pool[2][eo]
            if x != u and work[0][x] > via:
                shortcuts += 1
                if not simulate:
                    pool = _add_shortcut(pool, lists, (u, x, via, m_in + pool[3][eo]))
        for k in range(n_touched):
            work[0][work[1][k]] = _INF
    return shortcuts, len(ins) + len(outs), pool


@njit(cache=True)
def _add_shortcut(pool: _Pool, lists: _Lists, edge: tuple[int, int, float, float]) -> _Pool:
    """Add ``u -> x`` or shorten an existing edge ``u -> x``; returns the (grown) pool."""
    e_tail, e_head, e_w, e_m, next_out, next_in, count = pool
    head_out, head_in, _ = lists
    u, x, w, m = edge
    e = head_out[u]
    while e >= 0:
        if e_head[e] == x:
            if w < e_w[e]:
                e_w[e], e_m[e] = w, m
            return pool
        e = next_out[e]
    if count == len(e_tail):
        e_tail, e_head, e_w, e_m = _grow(e_tail), _grow(e_head), _grow(e_w), _grow(e_m)
        next_out, next_in = _grow(next_out), _grow(next_in)
    e_tail[count], e_head[count], e_w[count], e_m[count] = u, x, w, m
    next_out[count] = head_out[u]
    head_out[u] = count
    next_in[count] = head_in[x]
    head_in[x] = count
    return (e_tail, e_head, e_w, e_m, next_out, next_in, count + 1)


@njit(cache=True)
def _contract(
    n: int, tails: np.ndarray, heads: np.ndarray, seconds: np.ndarray, metres: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Contract every node in order of edge difference; returns rank and all final edges."""
    pool, lists = _new_pool(n, tails, heads, seconds, metres)
    contracted = lists[2]
    work = (
        np.full(n, _INF),
        np.empty(_WITNESS_HEAP, np.int64),
        np.empty(_WITNESS_HEAP, np.float64),
        np.empty(_WITNESS_HEAP, np.int64),
    )
    deleted = np.zeros(n, np.int64)
    prio = np.zeros(n, np.float64)
    qk, qv = np.empty(n + 1, np.float64), np.empty(n + 1, np.int64)
    qsize = 0
    for v in range(n):
        s, deg, pool = _process(v, True, pool, lists, work)
        prio[v] = s - deg
        qsize = _heap_push(qk, qv, qsize, prio[v], v)
    rank = np.zeros(n, np.int64)
    level = 0
    while qsize > 0:
        v = qv[0]
        qsize = _heap_pop(qk, qv, qsize)
        # Lazy update: refresh the priority and contract only if it is still the smallest.
        s, deg, pool = _process(v, True, pool, lists, work)
        prio[v] = s - deg + deleted[v]
        if qsize > 0 and prio[v] > qk[0]:
            qsize = _heap_push(qk, qv, qsize, prio[v], v)
            continue
        s, deg, pool = _process(v, False, pool, lists, work)
        contracted[v] = True
        rank[v] = level
        level += 1
        # Neighbours only learn that they lost one; their priority is refreshed lazily when
        # they reach the top of the queue (measured: 3x faster to build, same query time).
        for e in _neighbours(v, lists[0], pool[4], pool[1], contracted):
            deleted[pool[1][e]] += 1
        for e in _neighbours(v, lists[1], pool[5], pool[0], contracted):
            deleted[pool[0][e]] += 1
    count = pool[6]
    return rank, pool[0][:count], pool[1][:count], pool[2][:count], pool[3][:count]


# --- many-to-many query -------------------------------------------------------------------
# An upward graph is (start, head, seconds, metres) in CSR form; search buffers are
# (dist, length, settled order, heap keys, heap values, stalled).
#
# Stall-on-demand (Geisberger et al., 2008, section 4.2): a node that the search reached by a
# longer way than one coming down from a higher node it already reached cannot carry a
# shortest path, so it is neither expanded nor used to meet the other side. That prunes the
# upward searches two- to threefold and the bucket scans several times more.

_Graph = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
_Buffers = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@njit(cache=True)
def _buffers(n: int, n_edges: int) -> _Buffers:
    return (
        np.full(n, _INF),
        np.zeros(n),
        np.empty(n + 1, np.int64),
        np.empty(n_edges + 1, np.float64),
        np.empty(n_edges + 1, np.int64),
        np.zeros(n, np.bool_),
    )


@njit(cache=True)
def _stalled(u: int, d: float, opposite: _Graph, dist: np.ndarray) -> bool:
    """Whether a higher node already reached gives ``u`` a shorter distance than ``d``."""
    start, head, sec, _ = opposite
    e, end = start[u], start[u + 1]
    while e < end and dist[head[e]] + sec[e] >= d:
        e += 1
    return e < end


@njit(cache=True)
def _upward_search(source: int, graphs: tuple[_Graph, _Graph], buffers: _Buffers) -> int:
    """Dijkstra over an upward graph; lists settled nodes in order and returns how many.

    ``graphs`` is (the upward graph searched, the opposite one used to stall). The search runs
    until its heap is empty, so every node it reached is settled and listed; the caller resets
    ``dist`` and ``stalled`` of exactly those nodes and skips the stalled ones.
    """
    graph, opposite = graphs
    start, head, sec, met = graph
    dist, length, order, hk, hv, stalled = buffers
    dist[source] = 0.0
    length[source] = 0.0
    size = _heap_push(hk, hv, 0, 0.0, source)
    n_settled = 0
    while size > 0:
        d, u = hk[0], hv[0]
        size = _heap_pop(hk, hv, size)
        if d > dist[u]:
            continue
        order[n_settled] = u
        n_settled += 1
        if _stalled(u, d, opposite, dist):
            stalled[u] = True
            continue
        for e in range(start[u], start[u + 1]):
            x, nd = head[e], d + sec[e]
            if nd < dist[x]:
                dist[x] = nd
                length[x] = length[u] + met[e]
                size = _heap_push(hk, hv, size, nd, x)
    return n_settled


@njit(cache=True)
def _reset(buffers: _Buffers, n_touched: int) -> None:
    dist, order, stalled = buffers[0], buffers[2], buffers[5]
    for i in range(n_touched):
        dist[order[i]] = _INF
        stalled[order[i]] = False


@njit(cache=True)
def _backward_searches(n: int, graphs: tuple[_Graph, _Graph], targets: np.ndarray) -> _Graph:
    """Upward searches from every target; returns bucket entries (node, target, s, m)."""
    buffers = _buffers(n, len(graphs[0][1]))
    dist, length, order, stalled = buffers[0], buffers[1], buffers[2], buffers[5]
    nodes, tgts = np.empty(1024, np.int64), np.empty(1024, np.int64)
    secs, mets = np.empty(1024, np.float64), np.empty(1024, np.float64)
    count = 0
    for j in range(len(targets)):
        k = _upward_search(targets[j], graphs, buffers)
        while count + k > len(nodes):
            nodes, tgts, secs, mets = _grow(nodes), _grow(tgts), _grow(secs), _grow(mets)
        for i in range(k):
            u = order[i]
            if not stalled[u]:
                nodes[count], tgts[count], secs[count], mets[count] = u, j, dist[u], length[u]
                count += 1
        _reset(buffers, k)
    return nodes[:count], tgts[:count], secs[:count], mets[:count]


@njit(cache=True, parallel=True)
def _forward_searches(
    up: _Graph, down: _Graph, sources: np.ndarray, n_targets: int, buckets: _Graph
) -> tuple[np.ndarray, np.ndarray]:
    """Upward searches from every source, meeting the targets' buckets; two threads or more.

    The graphs come as two arguments: numba's parallel loops take tuples of arrays, not
    tuples of tuples.
    """
    b_start, b_target, b_sec, b_met = buckets
    n = len(b_start) - 1
    best = np.full((len(sources), n_targets), _INF)
    best_m = np.full((len(sources), n_targets), _INF)
    n_chunks = min(len(sources), 64)
    for c in prange(n_chunks):
        buffers = _buffers(n, len(up[1]))
        dist, length, order, stalled = buffers[0], buffers[1], buffers[2], buffers[5]
        for i in range(c, len(sources), n_chunks):
            k = _upward_search(sources[i], (up, down), buffers)
            for a in range(k):
                u = order[a]
                if stalled[u]:
                    continue
                for b in range(b_start[u], b_start[u + 1]):
                    j = b_target[b]
                    cand = dist[u] + b_sec[b]
                    if cand < best[i, j]:
                        best[i, j] = cand
                        best_m[i, j] = length[u] + b_met[b]
            _reset(buffers, k)
    return best, best_m
