"""Road networks from OpenStreetMap extracts, and travel times on them.

:func:`read_network` turns a local extract (``.osm.pbf``, ``.osm`` or ``.osm.bz2``; all three
read by pyosmium, so they give the same graph) into a directed graph of drivable ways:

- speeds by road class (:attr:`NetworkParams.speeds_kmh`), or the ``maxspeed`` tag where set;
- one-way streets honoured (``oneway=yes/-1``, roundabouts and motorways);
- only the largest strongly connected part kept, so that every kept node reaches every other;
- contracted into a hierarchy (:mod:`geoplan.travel.hierarchy`) for fast many-to-many queries;
- cached on disk, keyed by the file's content and the parameters: the second run skips all this.

:class:`RoadNetworkBackend` answers travel-time matrices on it: each point is snapped to the
nearest road node (its snap distance reported, driven at :attr:`NetworkParams.off_road_kmh`),
points farther than :attr:`NetworkParams.max_snap_m` from any road are unreachable with that
reason, and the stretch of every way inside or across an active no-go zone is closed.
:func:`route_geometry` draws the roads a team drives through a sequence of stops.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, cast

import geopandas as gpd
import numpy as np
import osmium
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from geoplan.errors import InputFileError, NetworkError, ParameterError
from geoplan.outputs import private_file
from geoplan.progress import Progress, tell
from geoplan.travel.backend import BackendOptions, Coords, ReachArea
from geoplan.travel.hierarchy import Hierarchy, build_hierarchy, many_to_many
from geoplan.travel.matrix import (
    EARTH_RADIUS_M,
    Points,
    TravelTimeMatrix,
    check_number,
    matrix_from_arrays,
    zone_reasons,
)
from geoplan.zones import Closures, no_closures

OSM_SUFFIXES = (".osm.pbf", ".osm", ".osm.bz2")
_CACHE_VERSION = "1"
TOO_FAR = "too far from any road"
"""Start of the reason of a point farther than ``max_snap_m`` from every usable road node."""

DEFAULT_SPEEDS_KMH: Mapping[str, float] = MappingProxyType(
    {
        "motorway": 90.0,
        "motorway_link": 50.0,
        "trunk": 80.0,
        "trunk_link": 45.0,
        "primary": 60.0,
        "primary_link": 40.0,
        "secondary": 50.0,
        "secondary_link": 35.0,
        "tertiary": 40.0,
        "tertiary_link": 30.0,
        "unclassified": 30.0,
        "road": 25.0,
        "residential": 25.0,
        "living_street": 10.0,
        "service": 15.0,
        "track": 15.0,
    }
)
"""Average driving speed by ``highway`` class; classes not listed (footways, paths, ...) are
not driven. Tracks are kept at a crawl because outreach vehicles use them where roads end."""

_NO_ACCESS = frozenset({"no", "private"})
_ONEWAY = {"yes": 1, "true": 1, "1": 1, "-1": -1, "reverse": -1, "no": 0, "false": 0, "0": 0}
_MAXSPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$")
_MPH = 1.609344


@dataclass(frozen=True)
class NetworkParams:
    """How roads become a graph and points reach it.

    Parameters
    ----------
    speeds_kmh
        Speed by ``highway`` class; classes not listed are not driven.
    use_maxspeed
        Drive at the tagged ``maxspeed`` where a way has one, instead of the class speed.
    max_snap_m
        A point farther than this from every road node is unreachable.
    off_road_kmh
        Speed between a point and the road node it snaps to.
    """

    speeds_kmh: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SPEEDS_KMH))
    use_maxspeed: bool = True
    max_snap_m: float = 500.0
    off_road_kmh: float = 10.0

    def __post_init__(self) -> None:
        if not isinstance(self.speeds_kmh, Mapping) or not self.speeds_kmh:
            msg = (
                f"speeds_kmh: expected a table of km/h by highway class, got "
                f"{self.speeds_kmh!r}; for example speeds_kmh = {{ residential = 20 }}."
            )
            raise ParameterError(msg)
        for highway, speed in self.speeds_kmh.items():
            check_number(f"speeds_kmh.{highway}", speed, 1.0, 200.0, "give km/h")
        if not isinstance(self.use_maxspeed, bool):
            msg = f"use_maxspeed: expected true or false, got {self.use_maxspeed!r}."
            raise ParameterError(msg)
        check_number("max_snap_m", self.max_snap_m, 1.0, 50_000.0, "500 m suits towns")
        check_number("off_road_kmh", self.off_road_kmh, 1.0, 200.0, "10 km/h is a crawl")

    def key(self) -> str:
        """A short hash of the parameters that shape the graph, for cache keys."""
        shape = {"speeds_kmh": dict(sorted(self.speeds_kmh.items())), "max": self.use_maxspeed}
        return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:12]


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A directed, strongly connected road graph and its contraction hierarchy.

    Parameters
    ----------
    osm_ids, lon, lat
        Node OpenStreetMap ids and coordinates (EPSG:4326), one entry per node.
    tails, heads
        Node indices of each directed edge.
    seconds, metres
        Travel time and length of each edge.
    way_ids
        OpenStreetMap way each edge belongs to.
    hierarchy
        The contraction hierarchy of the open network (no closures).
    source, digest
        File name and the hash of its content.
    params
        The parameters the network was built with.
    from_cache
        True when the network was loaded from the on-disk cache rather than built.
    """

    osm_ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    tails: np.ndarray
    heads: np.ndarray
    seconds: np.ndarray
    metres: np.ndarray
    way_ids: np.ndarray
    hierarchy: Hierarchy
    source: str
    digest: str
    params: NetworkParams
    from_cache: bool = False

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.osm_ids)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return len(self.tails)

    @property
    def top_speed_kmh(self) -> float:
        """The fastest speed anywhere on the network, including the off-road stretch."""
        fastest = float(np.max(self.metres / self.seconds)) * 3.6 if self.n_edges else 0.0
        return max(fastest, self.params.off_road_kmh)

    def closed_edges(self, closures: Closures) -> np.ndarray:
        """Edges (boolean mask) whose segment lies inside or crosses an active zone."""
        t, h = self.tails, self.heads
        return closures.crossed(self.lon[t], self.lat[t], self.lon[h], self.lat[h])

    def summary(self) -> str:
        """One line for people."""
        return (
            f"road network from {self.source}: {self.n_nodes:,} nodes, {self.n_edges:,} "
            f"directed edges{' (from cache)' if self.from_cache else ''}"
        )


@dataclass(frozen=True)
class Snapped:
    """Points snapped to a road network.

    Parameters
    ----------
    nodes
        Index of the nearest usable road node of each point.
    metres
        Great-circle distance from each point to that node.
    reasons
        Points that cannot be reached, by id, with the reason.
    """

    nodes: np.ndarray
    metres: np.ndarray
    reasons: Mapping[str, str]


def read_network(
    path: Path,
    *,
    params: NetworkParams | None = None,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> RoadNetwork:
    """Read a road network from an OpenStreetMap extract, or from the cache when built before.

    Parameters
    ----------
    path
        An ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` file.
    params
        Speeds and snapping; defaults otherwise.
    cache_dir
        Where built networks are kept; :func:`default_cache_dir` by default.
    progress
        Told about each step of a build, with the fraction done (of a total of 1).

    Raises
    ------
    InputFileError
        When the file is missing, not an OSM extract, or corrupt.
    NetworkError
        When the extract holds no drivable road.
    """
    params = params if params is not None else NetworkParams()
    path = _check_osm_path(path)
    digest = file_digest(path)
    name = f"network-v{_CACHE_VERSION}-{digest}-{params.key()}.npz"
    cache = (cache_dir or default_cache_dir()) / name
    if cache.exists():
        cached = _load_network(cache, params)
        if cached is not None:
            return cached
    network = build_network(path, params=params, digest=digest, progress=progress)
    tell(progress, "saving the network cache", 0.95, 1)
    _save_network(cache, network)
    tell(progress, "network ready", 1.0, 1)
    return network


def build_network(
    path: Path,
    *,
    params: NetworkParams | None = None,
    digest: str = "",
    progress: Progress | None = None,
) -> RoadNetwork:
    """Build a road network from an OpenStreetMap extract, without the cache.

    Raises
    ------
    InputFileError
        When the file cannot be read as OpenStreetMap data.
    NetworkError
        When the extract holds no drivable road.
    """
    params = params if params is not None else NetworkParams()
    tell(progress, f"reading roads from {path.name}", 0.0, 1)
    segments = _read_segments(path, params)
    tell(progress, "building the road graph", 0.3, 1)
    graph = _graph_from_segments(segments, path)
    tell(progress, "contracting the road graph", 0.4, 1)
    hierarchy = build_hierarchy(
        len(graph["osm_ids"]), graph["tails"], graph["heads"], graph["seconds"], graph["metres"]
    )
    return _network(graph, hierarchy, source=path.name, digest=digest, params=params)


def default_cache_dir() -> Path:
    """``$GEOPLAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/geoplan``, else ``~/.cache/geoplan``."""
    if os.environ.get("GEOPLAN_CACHE_DIR"):
        return Path(os.environ["GEOPLAN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "geoplan"


def file_digest(path: Path) -> str:
    """Hash of a file's content (first 16 hex digits of SHA-256)."""
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class RoadNetworkBackend:
    """Shortest travel times on a road network, with points snapped to the nearest road node.

    Parameters
    ----------
    network
        From :func:`read_network`.
    cache_dir
        Where hierarchies of closed networks are kept (one per set of active zones).
    """

    network: RoadNetwork
    cache_dir: Path | None = None
    name: ClassVar[str] = "road_network"

    @property
    def description(self) -> str:
        """What the times are based on, in one line."""
        return self.network.summary()

    def reach_area(
        self, origins: Points, minutes: float, closures: Closures, *, places: Points
    ) -> ReachArea:
        """The roads from which one of ``origins`` is reached within ``minutes``, widened by
        :data:`ROAD_REACH_WIDTH_M` (see :func:`road_reach_area`); ``places`` are not needed."""
        note = (
            f"Along roads: road segments from which an open clinic or team base is reached "
            f"within {minutes:g} min by the fastest drive (one-way streets honoured, active "
            f"no-go zones closed), widened by {ROAD_REACH_WIDTH_M:g} m."
        )
        return ReachArea(
            road_reach_area(self.network, origins, minutes=minutes, closures=closures), note
        )

    def route_line(self, stops: Points, closures: Closures) -> Coords | None:
        """The roads driven through ``stops`` (:func:`route_geometry`), or ``None`` when a leg
        cannot be driven with the zones closed (the caller draws straight legs)."""
        try:
            line = route_geometry(self.network, stops, closures=closures)
        except NetworkError:
            return None
        return tuple((float(x), float(y)) for x, y, *_ in line.coords)

    def travel_times(
        self, origins: Points, destinations: Points, closures: Closures
    ) -> TravelTimeMatrix:
        """Travel times from every origin to every destination, with ``closures`` applied."""
        net = self.network
        hierarchy = hierarchy_for(net, closures, cache_dir=self.cache_dir)
        snap_o = snap_points(net, origins, closures=closures)
        snap_d = snap_points(net, destinations, closures=closures)
        seconds, metres = many_to_many(hierarchy, snap_o.nodes, snap_d.nodes)
        off_road = net.params.off_road_kmh / 3.6
        seconds += (snap_o.metres / off_road)[:, None] + (snap_d.metres / off_road)[None, :]
        metres += snap_o.metres[:, None] + snap_d.metres[None, :]
        _zero_self_pairs(origins, destinations, seconds, metres)
        reasons = {**snap_o.reasons, **snap_d.reasons}
        reasons.update(zone_reasons(origins, destinations, closures))
        parameters = {
            "source": net.source,
            "digest": net.digest,
            **asdict(net.params),
            "closures_on": closures.on,
            "closed_zones": sorted(map(str, closures.zones["id"])),
            "snap_metres": _snap_report(origins, destinations, snap_o, snap_d),
        }
        return matrix_from_arrays(
            origins,
            destinations,
            seconds,
            metres,
            reachable=np.isfinite(seconds),
            reasons=reasons,
            backend=self.name,
            parameters=parameters,
        )


def roads_from_spec(argument: str, options: BackendOptions) -> RoadNetworkBackend:
    """``--backend roads:FILE``: the road network of an OpenStreetMap extract, with the
    ``[road_network]`` parameters of the options.

    Raises
    ------
    ParameterError
        When no extract is named.
    InputFileError, NetworkError
        As :func:`read_network`.
    """
    if not argument:
        msg = "--backend roads needs an extract: roads:FILE.osm.pbf"
        raise ParameterError(msg)
    network = read_network(
        Path(argument),
        params=options.tables.road_network,
        cache_dir=options.cache_dir,
        progress=options.progress,
    )
    return RoadNetworkBackend(network, cache_dir=options.cache_dir)


def hierarchy_for(
    network: RoadNetwork, closures: Closures, *, cache_dir: Path | None = None
) -> Hierarchy:
    """The contraction hierarchy of ``network`` with the ways in active zones closed.

    Built once per set of closed areas and cached beside the network.
    """
    closed = network.closed_edges(closures) if not closures.empty else None
    if closed is None or not closed.any():
        return network.hierarchy
    key = f"v{_CACHE_VERSION}-{network.digest}-{network.params.key()}-{closures.digest()}"
    cache = (cache_dir or default_cache_dir()) / f"hierarchy-{key}.npz"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as data:
            return Hierarchy.from_arrays(network.n_nodes, dict(data))
    open_ = ~closed
    hierarchy = build_hierarchy(
        network.n_nodes,
        network.tails[open_],
        network.heads[open_],
        network.seconds[open_],
        network.metres[open_],
    )
    _atomic_savez(cache, hierarchy.arrays())
    return hierarchy


def snap_points(
    network: RoadNetwork, points: Points, *, closures: Closures | None = None
) -> Snapped:
    """Snap each point to the nearest road node outside active zones.

    Points farther than ``max_snap_m`` from every such node get a reason and are unreachable.
    """
    closures = closures if closures is not None else no_closures()
    usable = np.ones(network.n_nodes, dtype=bool)
    if not closures.empty:
        inside = closures.zone_containing(network.lon, network.lat)
        usable = np.array([zone is None for zone in inside], dtype=bool)
    candidates = np.flatnonzero(usable)
    if len(candidates) == 0:
        msg = f"{network.source}: every road node is inside an active no-go zone."
        raise NetworkError(msg)
    tree = cKDTree(_unit_vectors(network.lon[candidates], network.lat[candidates]))
    chord, nearest = tree.query(_unit_vectors(points.lon, points.lat))
    metres = 2 * EARTH_RADIUS_M * np.arcsin(np.clip(np.asarray(chord) / 2, 0.0, 1.0))
    limit = network.params.max_snap_m
    reasons = {
        pid: f"{TOO_FAR}: nearest road is {d:,.0f} m away, more than max_snap_m {limit:,.0f} m"
        for pid, d in zip(points.ids, metres, strict=True)
        if d > limit
    }
    return Snapped(nodes=candidates[nearest], metres=metres, reasons=reasons)


def route_geometry(
    network: RoadNetwork, stops: Points, *, closures: Closures | None = None
) -> shapely.LineString:
    """The roads driven through ``stops`` in order, as one line from the first to the last.

    Each leg is the fastest path between the stops' snapped nodes, with active zones closed;
    the line starts and ends at the stops themselves.

    Raises
    ------
    NetworkError
        When fewer than two stops are given or a leg cannot be driven.
    """
    if len(stops.ids) < 2:
        msg = f"route_geometry: expected at least two stops, got {len(stops.ids)}."
        raise NetworkError(msg)
    closures = closures if closures is not None else no_closures()
    snapped = snap_points(network, stops, closures=closures)
    graph = _csr(network, ~network.closed_edges(closures))
    coords: list[tuple[float, float]] = [(float(stops.lon[0]), float(stops.lat[0]))]
    for k in range(len(stops.ids) - 1):
        nodes = _leg_nodes(graph, int(snapped.nodes[k]), int(snapped.nodes[k + 1]))
        if nodes is None:
            msg = (
                f"route_geometry: no road from stop {stops.ids[k]} to {stops.ids[k + 1]} "
                "with the active no-go zones closed; drop one of them from the route."
            )
            raise NetworkError(msg)
        coords += [(float(network.lon[n]), float(network.lat[n])) for n in nodes]
        coords.append((float(stops.lon[k + 1]), float(stops.lat[k + 1])))
    return shapely.LineString(coords)


ROAD_REACH_WIDTH_M = 250.0
"""How far either side of a reached road the road reach area extends."""


def road_reach_area(
    network: RoadNetwork,
    points: Points,
    *,
    minutes: float,
    closures: Closures | None = None,
    width_m: float = ROAD_REACH_WIDTH_M,
) -> shapely.Geometry | None:
    """The roads from which one of ``points`` is reached within ``minutes``, widened.

    The fastest drive towards the nearest point (one-way streets honoured, roads in active
    no-go zones closed, the off-road stretch to each point at the network's off-road speed);
    a road segment counts when both its ends are reached in time, and the area is those
    segments widened by ``width_m`` either side, less the active zones.
    """
    closures = closures if closures is not None else no_closures()
    if not len(points.ids):
        return None
    snapped = snap_points(network, points, closures=closures)
    usable = np.array([i not in snapped.reasons for i in points.ids], dtype=bool)
    if not usable.any():
        return None
    off_road = snapped.metres[usable] / (network.params.off_road_kmh / 3.6)
    seconds = _times_to(network, snapped.nodes[usable], off_road, closures=closures)
    reached = seconds <= minutes * 60
    return _reached_roads(network, reached, closures=closures, width_m=width_m)


def _times_to(
    network: RoadNetwork, nodes: np.ndarray, start: np.ndarray, *, closures: Closures
) -> np.ndarray:
    """Seconds from every node to the nearest of ``nodes`` (plus that node's ``start``)."""
    n = network.n_nodes
    open_ = ~network.closed_edges(closures)
    # Reversed edges, cheapest first so that duplicates keep the fastest, plus a source node
    # n joined to each target node by its off-road time.
    tails = np.concatenate([network.heads[open_], np.full(len(nodes), n)])
    heads = np.concatenate([network.tails[open_], nodes])
    cost = np.concatenate([network.seconds[open_], np.maximum(start, 1e-6)])
    order = np.lexsort((cost, heads, tails))
    keep = order[np.unique(np.c_[tails[order], heads[order]], axis=0, return_index=True)[1]]
    graph = csr_matrix((cost[keep], (tails[keep], heads[keep])), shape=(n + 1, n + 1))
    return np.asarray(dijkstra(graph, directed=True, indices=n))[:n]


def _reached_roads(
    network: RoadNetwork, reached: np.ndarray, *, closures: Closures, width_m: float
) -> shapely.Geometry | None:
    both = reached[network.tails] & reached[network.heads] & ~network.closed_edges(closures)
    if not both.any():
        return None
    t, h = network.tails[both], network.heads[both]
    lines = gpd.GeoSeries(
        shapely.linestrings(
            np.stack(
                [np.c_[network.lon[t], network.lat[t]], np.c_[network.lon[h], network.lat[h]]],
                axis=1,
            )
        ),
        crs=4326,
    )
    utm = lines.estimate_utm_crs()
    merged = shapely.multilinestrings(lines.to_crs(utm).to_numpy())
    area = gpd.GeoSeries([shapely.buffer(merged, width_m, quad_segs=2)], crs=utm)
    shape = area.to_crs(4326).iloc[0]
    if not closures.empty:
        shape = shape.difference(closures.zones.geometry.union_all())
    return shape


# --- reading OpenStreetMap --------------------------------------------------------------


@dataclass
class _Segments:
    """Consecutive node pairs of drivable ways, before they become directed edges."""

    a: list[int] = field(default_factory=list)
    b: list[int] = field(default_factory=list)
    coords: list[tuple[float, float, float, float]] = field(default_factory=list)
    way: list[int] = field(default_factory=list)
    speed: list[float] = field(default_factory=list)
    oneway: list[int] = field(default_factory=list)


def _check_osm_path(path: Path) -> Path:
    path = Path(path)
    if not path.name.lower().endswith(OSM_SUFFIXES):
        msg = (
            f"roads: expected an OpenStreetMap extract ({', '.join(OSM_SUFFIXES)}), "
            f"got {path.name}; export one with osmium or download one for the area."
        )
        raise InputFileError(msg)
    if not path.is_file():
        msg = f"roads: file {path} does not exist; check the path."
        raise InputFileError(msg)
    with path.open("rb") as handle:
        head = handle.read(64)
    if not _looks_like_osm(path.name.lower(), head):
        msg = (
            f"roads: cannot read {path.name} as OpenStreetMap data: the name says an extract "
            f"but the content is not one (it starts with {head[:8]!r}); download it again."
        )
        raise InputFileError(msg)
    return path


def _looks_like_osm(name: str, head: bytes) -> bool:
    """Whether a file's first bytes are those its suffix promises: a PBF's first blob header
    (``OSMHeader``), bzip2's magic, or an XML document."""
    if name.endswith(".osm.pbf"):
        return b"OSMHeader" in head[:24]
    if name.endswith(".osm.bz2"):
        return head.startswith(b"BZh")
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"<?xml", b"<osm"))


def _read_segments(path: Path, params: NetworkParams) -> _Segments:
    segments = _Segments()
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    try:
        for way in processor:
            if isinstance(way, osmium.osm.Way):
                _add_way(segments, way, params)
    except RuntimeError as exc:
        msg = f"roads: cannot read {path.name} as OpenStreetMap data ({exc}); is it complete?"
        raise InputFileError(msg) from exc
    return segments


def _add_way(segments: _Segments, way: osmium.osm.Way, params: NetworkParams) -> None:
    tags = {tag.k: tag.v for tag in way.tags}
    speed = _way_speed(tags, params)
    if speed is None:
        return
    oneway = _way_oneway(tags)
    refs = [(n.ref, n.lon, n.lat) for n in way.nodes if n.location.valid()]
    for (a, ax, ay), (b, bx, by) in itertools.pairwise(refs):
        segments.a.append(a)
        segments.b.append(b)
        segments.coords.append((ax, ay, bx, by))
        segments.way.append(way.id)
        segments.speed.append(speed)
        segments.oneway.append(oneway)


def _way_speed(tags: Mapping[str, str], params: NetworkParams) -> float | None:
    """Speed of a drivable way in km/h, or ``None`` when vehicles cannot use it."""
    highway = tags.get("highway", "")
    if highway not in params.speeds_kmh or tags.get("area") == "yes":
        return None
    if any(tags.get(k) in _NO_ACCESS for k in ("access", "motor_vehicle", "motorcar")):
        return None
    tagged = _MAXSPEED.match(tags.get("maxspeed", ""))
    if params.use_maxspeed and tagged and float(tagged.group(1)) > 0:
        return float(tagged.group(1)) * (_MPH if tagged.group(2) == "mph" else 1.0)
    return float(params.speeds_kmh[highway])


def _way_oneway(tags: Mapping[str, str]) -> int:
    """1 for one-way along the way, -1 against it, 0 for both directions."""
    if tags.get("oneway") in _ONEWAY:
        return _ONEWAY[tags["oneway"]]
    implied = tags.get("junction") in {"roundabout", "circular"} or tags["highway"] == "motorway"
    return 1 if implied else 0


def _graph_from_segments(segments: _Segments, path: Path) -> dict[str, np.ndarray]:
    """Directed, deduplicated edges restricted to the largest strongly connected part."""
    if not segments.a:
        msg = (
            f"roads: {path.name} holds no drivable way (highway = "
            f"{', '.join(sorted(DEFAULT_SPEEDS_KMH)[:4])}, ...); is it the right extract?"
        )
        raise NetworkError(msg)
    coords = np.asarray(segments.coords, dtype=float)
    osm_ids, index = np.unique(np.r_[segments.a, segments.b], return_inverse=True)
    lon, lat = np.empty(len(osm_ids)), np.empty(len(osm_ids))
    lon[index], lat[index] = np.r_[coords[:, 0], coords[:, 2]], np.r_[coords[:, 1], coords[:, 3]]
    a, b = np.split(index, 2)
    metres = _haversine(coords[:, 0], coords[:, 1], coords[:, 2], coords[:, 3])
    seconds = metres / (np.asarray(segments.speed) / 3.6)
    oneway, way = np.asarray(segments.oneway), np.asarray(segments.way, dtype=np.int64)
    fwd, back = oneway >= 0, oneway <= 0
    edges = {
        "tails": np.r_[a[fwd], b[back]],
        "heads": np.r_[b[fwd], a[back]],
        "seconds": np.r_[seconds[fwd], seconds[back]],
        "metres": np.r_[metres[fwd], metres[back]],
        "way_ids": np.r_[way[fwd], way[back]],
    }
    keep = _fastest_edges(edges["tails"], edges["heads"], edges["seconds"])
    nodes = {"osm_ids": osm_ids, "lon": lon, "lat": lat}
    return _largest_component(nodes, {k: v[keep] for k, v in edges.items()})


def _fastest_edges(tails: np.ndarray, heads: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Indices of the edges to keep: no loops, and the fastest of parallel edges."""
    order = np.lexsort((seconds, heads, tails))
    t, h = tails[order], heads[order]
    first = np.ones(len(t), dtype=bool)
    first[1:] = (t[1:] != t[:-1]) | (h[1:] != h[:-1])
    return np.sort(order[first & (t != h)])


def _largest_component(
    nodes: Mapping[str, np.ndarray], edges: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Keep the largest strongly connected part, so that every node reaches every other."""
    n = len(nodes["osm_ids"])
    tails, heads = edges["tails"], edges["heads"]
    adjacency = csr_matrix((np.ones(len(tails)), (tails, heads)), shape=(n, n))
    _, labels = connected_components(adjacency, directed=True, connection="strong")
    kept = labels == np.argmax(np.bincount(labels))
    new_index = np.cumsum(kept) - 1
    keep_edge = kept[tails] & kept[heads]
    graph = {k: v[kept] for k, v in nodes.items()}
    graph |= {k: v[keep_edge] for k, v in edges.items()}
    graph["tails"] = new_index[graph["tails"]].astype(np.int64)
    graph["heads"] = new_index[graph["heads"]].astype(np.int64)
    return graph


# --- cache --------------------------------------------------------------------------------

_NETWORK_ARRAYS = ("osm_ids", "lon", "lat", "tails", "heads", "seconds", "metres", "way_ids")


def _save_network(cache: Path, network: RoadNetwork) -> None:
    arrays = {name: getattr(network, name) for name in _NETWORK_ARRAYS}
    arrays |= {f"h_{k}": v for k, v in network.hierarchy.arrays().items()}
    meta = {"version": _CACHE_VERSION, "source": network.source, "digest": network.digest}
    arrays["meta"] = np.array(json.dumps(meta))
    _atomic_savez(cache, arrays)


def _load_network(cache: Path, params: NetworkParams) -> RoadNetwork | None:
    """The cached network, or ``None`` when the cache file is unreadable (then it is rebuilt)."""
    try:
        with cache.open("rb") as stream, np.load(stream, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None
    hier = {k[2:]: arrays.pop(k) for k in list(arrays) if k.startswith("h_")}
    hierarchy = Hierarchy.from_arrays(len(arrays["osm_ids"]), hier)
    source, digest = meta["source"], meta["digest"]
    return _network(arrays, hierarchy, source=source, digest=digest, params=params, cached=True)


def _network(
    arrays: Mapping[str, np.ndarray],
    hierarchy: Hierarchy,
    *,
    source: str,
    digest: str,
    params: NetworkParams,
    cached: bool = False,
) -> RoadNetwork:
    return RoadNetwork(
        osm_ids=arrays["osm_ids"],
        lon=arrays["lon"],
        lat=arrays["lat"],
        tails=arrays["tails"],
        heads=arrays["heads"],
        seconds=arrays["seconds"],
        metres=arrays["metres"],
        way_ids=arrays["way_ids"],
        hierarchy=hierarchy,
        source=source,
        digest=digest,
        params=params,
        from_cache=cached,
    )


def _atomic_savez(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write an ``.npz`` so that a reader never sees half a file (write, then rename)."""
    with private_file(path) as partial, partial.open("wb") as stream:
        np.savez(stream, **cast(dict[str, Any], arrays))


# --- helpers ------------------------------------------------------------------------------


def _haversine(
    lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray, lat1: np.ndarray
) -> np.ndarray:
    lon0, lat0, lon1, lat1 = map(np.radians, (lon0, lat0, lon1, lat1))
    h = (
        np.sin((lat1 - lat0) / 2) ** 2
        + np.cos(lat0) * np.cos(lat1) * np.sin((lon1 - lon0) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lon_r, lat_r = np.radians(lon), np.radians(lat)
    return np.c_[np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r), np.sin(lat_r)]


def _zero_self_pairs(
    origins: Points, destinations: Points, seconds: np.ndarray, metres: np.ndarray
) -> None:
    """A point to itself takes no time, whatever its snap distance."""
    cols = {pid: j for j, pid in enumerate(destinations.ids)}
    for i, pid in enumerate(origins.ids):
        j = cols.get(pid)
        if j is not None and np.isfinite(seconds[i, j]):
            seconds[i, j] = 0.0
            metres[i, j] = 0.0


def _snap_report(
    origins: Points, destinations: Points, snap_o: Snapped, snap_d: Snapped
) -> dict[str, float]:
    report = dict(zip(origins.ids, map(float, snap_o.metres), strict=True))
    report.update(zip(destinations.ids, map(float, snap_d.metres), strict=True))
    return report


def _csr(network: RoadNetwork, keep: np.ndarray) -> csr_matrix:
    n = network.n_nodes
    return csr_matrix(
        (network.seconds[keep], (network.tails[keep], network.heads[keep])), shape=(n, n)
    )


def _leg_nodes(graph: csr_matrix, source: int, target: int) -> list[int] | None:
    """Nodes of the fastest path from ``source`` to ``target``, or ``None`` without one."""
    if source == target:
        return [source]
    _, pred = dijkstra(graph, indices=source, return_predecessors=True)
    if pred[target] < 0:
        return None
    nodes = [target]
    while nodes[-1] != source:
        nodes.append(int(pred[nodes[-1]]))
    return nodes[::-1]
