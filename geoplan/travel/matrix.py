"""Travel-time matrices: how long a team takes from A to B, and which pairs cannot be driven.

A :class:`TravelTimeMatrix` is the contract between the travel-time backends and everything
that consumes travel times (planning, coverage, maps). Unreachable pairs are marked explicitly
in ``reachable`` and hold ``NaN`` in ``seconds`` and ``metres``; never a silent huge number.

Backends follow the :class:`~geoplan.travel.backend.TravelTimeBackend` protocol:

- :class:`StraightLineBackend` (the default, needs nothing): great-circle distance times a
  detour factor, at one average speed. An approximation, good for a first plan;
- :class:`geoplan.travel.roads.RoadNetworkBackend`: shortest travel times on roads from a local
  OpenStreetMap extract;
- :class:`geoplan.travel.table.TableBackend`: a user's own matrix from a CSV file;
- a user's own OSRM or Valhalla server fits the same protocol (not implemented yet).

No-go zones (:func:`geoplan.zones.active_zones`) apply to every backend: a point inside an
active zone is unreachable with the reason ``inside no-go zone <name>``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numba import njit, prange

from geoplan.errors import ParameterError
from geoplan.outputs import write_csv
from geoplan.travel.backend import BackendOptions, Coords, ReachArea, TravelTimeBackend
from geoplan.zones import Closures, inside_zone_reason, no_closures

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), in metres."""

NO_ROUTE = "no route that avoids the active no-go zones"
"""Reason of a pair (or a point) that no route joins although both ends are usable."""


@dataclass(frozen=True)
class TravelTimeMatrix:
    """Travel times and distances from every origin to every destination.

    Parameters
    ----------
    origins, destinations
        Point ids, in row and column order.
    seconds, metres
        Arrays of shape ``(len(origins), len(destinations))``; ``NaN`` where unreachable.
    reachable
        Boolean array of the same shape; ``False`` marks a pair that cannot be travelled.
    reasons
        Why a point cannot be reached at all (snapped too far from any road, inside a no-go
        zone), by point id.
    backend
        Name of the backend that made the matrix (``straight_line``, ``road_network``, ...).
    parameters
        The backend's parameters (speeds, detour factor, file hash, date of closures, ...).
    no_route
        Why an unreachable pair between two usable points cannot be travelled (the backend's
        words; :data:`NO_ROUTE` by default).
    """

    origins: tuple[str, ...]
    destinations: tuple[str, ...]
    seconds: np.ndarray
    metres: np.ndarray
    reachable: np.ndarray
    reasons: Mapping[str, str] = field(default_factory=dict)
    backend: str = "unknown"
    parameters: Mapping[str, object] = field(default_factory=dict)
    no_route: str = NO_ROUTE
    _rows: dict[str, int] = field(init=False, repr=False, compare=False)
    _cols: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rows", _index(self.origins))
        object.__setattr__(self, "_cols", _index(self.destinations))
        shape = (len(self.origins), len(self.destinations))
        for name in ("seconds", "metres", "reachable"):
            if getattr(self, name).shape != shape:
                msg = f"{name} has shape {getattr(self, name).shape}, expected {shape}"
                raise ValueError(msg)

    @property
    def shape(self) -> tuple[int, int]:
        """Number of origins and destinations."""
        return (len(self.origins), len(self.destinations))

    def row(self, origin: str) -> int:
        """Row index of an origin id."""
        return self._rows[origin]

    def col(self, destination: str) -> int:
        """Column index of a destination id."""
        return self._cols[destination]

    def time(self, origin: str, destination: str) -> float:
        """Seconds from ``origin`` to ``destination``; ``NaN`` when unreachable."""
        return float(self.seconds[self.row(origin), self.col(destination)])

    def distance(self, origin: str, destination: str) -> float:
        """Metres from ``origin`` to ``destination``; ``NaN`` when unreachable."""
        return float(self.metres[self.row(origin), self.col(destination)])

    def subset(self, origins: Sequence[str], destinations: Sequence[str]) -> TravelTimeMatrix:
        """The same matrix restricted (and reordered) to the given ids."""
        rows = [self.row(o) for o in origins]
        cols = [self.col(d) for d in destinations]
        grid = np.ix_(rows, cols)
        keep = set(origins) | set(destinations)
        return TravelTimeMatrix(
            origins=tuple(origins),
            destinations=tuple(destinations),
            seconds=self.seconds[grid],
            metres=self.metres[grid],
            reachable=self.reachable[grid],
            reasons={k: v for k, v in self.reasons.items() if k in keep},
            backend=self.backend,
            parameters=self.parameters,
            no_route=self.no_route,
        )

    def to_frame(self) -> pd.DataFrame:
        """Long-form table, one row per pair.

        Columns ``from_id``, ``to_id``, ``seconds``, ``metres`` (``NaN`` when unreachable),
        ``reachable`` and ``reason`` (empty when reachable; else the origin's or the
        destination's reason, or :data:`NO_ROUTE`).
        """
        n_o, n_d = self.shape
        return pd.DataFrame(
            {
                "from_id": np.repeat(np.asarray(self.origins, dtype=object), n_d),
                "to_id": np.tile(np.asarray(self.destinations, dtype=object), n_o),
                "seconds": self.seconds.ravel(),
                "metres": self.metres.ravel(),
                "reachable": self.reachable.ravel(),
                "reason": self._pair_reasons().ravel(),
            }
        )

    def unreachable_points(self) -> dict[str, str]:
        """Points that no pair reaches, by id, with the reason.

        A point with a reason of its own (too far from a road, inside a no-go zone) keeps it; a
        destination that no origin reaches (or an origin that reaches no destination) gets
        :data:`NO_ROUTE`.
        """
        found = dict(self.reasons)
        if self.shape[0] and self.shape[1]:
            for ids, cut in (
                (self.destinations, ~self.reachable.any(axis=0)),
                (self.origins, ~self.reachable.any(axis=1)),
            ):
                for k in np.flatnonzero(cut):
                    found.setdefault(ids[k], self.no_route)
        return dict(sorted(found.items()))

    def unreachable_counts(self) -> dict[str, int]:
        """How many points are unreachable for each kind of reason, most frequent first.

        The kind is the reason up to its first colon, so that ``too far from any road: nearest
        road is 812 m away`` counts as ``too far from any road``.
        """
        kinds = Counter(why.split(":")[0] for why in self.unreachable_points().values())
        return dict(kinds.most_common())

    def summary(self) -> str:
        """A few lines for people: size, backend, unreachable pairs and points, and why."""
        n_o, n_d = self.shape
        points = self.unreachable_points()
        lines = [
            f"{n_o} x {n_d} travel-time matrix ({self.backend})",
            f"unreachable pairs: {int((~self.reachable).sum())} of {n_o * n_d}; "
            f"unreachable points: {len(points)}",
        ]
        lines += [f"  {pid}: {why}" for pid, why in points.items()]
        return "\n".join(lines)

    def _pair_reasons(self) -> np.ndarray:
        reasons = np.full(self.shape, "", dtype=object)
        reasons[~self.reachable] = self.no_route
        for pid, why in self.reasons.items():
            if pid in self._cols:
                reasons[:, self._cols[pid]] = why
        for pid, why in self.reasons.items():
            if pid in self._rows:
                reasons[self._rows[pid], :] = why  # the origin's own reason wins
        reasons[self.reachable] = ""
        return reasons


def save_matrix(matrix: TravelTimeMatrix, path: Path) -> Path:
    """Write the long-form table (:meth:`TravelTimeMatrix.to_frame`) to a CSV file.

    Seconds and metres are rounded to one decimal; unreachable pairs have them empty and say
    why in ``reason``. The file is written whole or not at all.
    """
    return write_csv(matrix.to_frame().round({"seconds": 1, "metres": 1}), path)


def _index(ids: tuple[str, ...]) -> dict[str, int]:
    return {pid: i for i, pid in enumerate(ids)}


@dataclass(frozen=True)
class Points:
    """Checked point ids and coordinates, the form every backend works on.

    Parameters
    ----------
    ids
        Point ids, unique.
    lon, lat
        Coordinates in degrees (EPSG:4326).
    """

    ids: tuple[str, ...]
    lon: np.ndarray
    lat: np.ndarray


@dataclass(frozen=True)
class StraightLineParams:
    """Parameters of the straight-line backend.

    Parameters
    ----------
    detour_factor
        Road distance over great-circle distance; 1.3 is typical of towns, more in hills or
        where roads are few. At least 1.
    speed_kmh
        Average door-to-door driving speed, in km/h.
    """

    detour_factor: float = 1.3
    speed_kmh: float = 30.0

    def __post_init__(self) -> None:
        check_number("detour_factor", self.detour_factor, 1.0, 5.0, "1.3 suits most towns")
        check_number("speed_kmh", self.speed_kmh, 1.0, 200.0, "30 km/h suits town driving")


@dataclass(frozen=True)
class StraightLineBackend:
    """Great-circle distance times a detour factor, driven at one average speed.

    An approximation: it knows no roads, rivers or one-way streets. A pair whose straight
    path crosses an active no-go zone is unreachable.
    """

    params: StraightLineParams = field(default_factory=StraightLineParams)
    name: ClassVar[str] = "straight_line"

    @property
    def description(self) -> str:
        """What the times are based on, in one line."""
        p = self.params
        return f"straight lines at {p.speed_kmh:g} km/h, detour factor {p.detour_factor:g}"

    def travel_times(
        self, origins: Points, destinations: Points, closures: Closures
    ) -> TravelTimeMatrix:
        """Travel times from every origin to every destination, with ``closures`` applied."""
        metres = great_circle_metres(origins, destinations)
        metres *= self.params.detour_factor
        seconds = metres / (self.params.speed_kmh / 3.6)
        reachable = ~crossing_pairs(origins, destinations, closures)
        reasons = zone_reasons(origins, destinations, closures)
        return matrix_from_arrays(
            origins,
            destinations,
            seconds,
            metres,
            reachable=reachable,
            reasons=reasons,
            backend=self.name,
            parameters={**asdict(self.params), "closures_on": closures.on},
        )

    def reach_area(
        self, origins: Points, minutes: float, closures: Closures, *, places: Points
    ) -> ReachArea:
        """A circle of radius ``minutes x speed / detour factor`` around each origin (the
        backend's own rule, read backwards), merged, less the active no-go zones.

        Roads, rivers and checkpoints make the real area smaller or odd-shaped: this is a
        guide, not a boundary. ``places`` are not needed.
        """
        p = self.params
        km = minutes / 60 * p.speed_kmh / p.detour_factor
        note = (
            f"Approximate: {km:.1f} km around each open clinic and team base ({minutes:g} min "
            f"at {p.speed_kmh:g} km/h, detour factor {p.detour_factor:g}), less "
            "active no-go zones; roads make the real area smaller."
        )
        return ReachArea(circles_around(origins, km * 1000, closures), note)

    def route_line(self, stops: Points, closures: Closures) -> Coords | None:
        """Straight legs: the backend knows no roads to follow."""
        return None


def straight_line_from_spec(argument: str, options: BackendOptions) -> StraightLineBackend:
    """``--backend straight_line``: parameters from the ``[straight_line]`` table, if given.

    Raises
    ------
    ParameterError
        When an argument is given (the backend takes none) or a parameter is out of range.
    """
    if argument:
        msg = f"--backend straight_line takes no argument, got {argument!r}"
        raise ParameterError(msg)
    return StraightLineBackend(options.tables.straight_line)


def circles_around(points: Points, radius_m: float, closures: Closures) -> shapely.Geometry | None:
    """Circles of ``radius_m`` around each point, merged, less the active no-go zones."""
    if not len(points.ids):
        return None
    where = gpd.GeoSeries(gpd.points_from_xy(points.lon, points.lat), crs=4326)
    utm = where.estimate_utm_crs()
    circles = where.to_crs(utm).buffer(radius_m, quad_segs=24)
    area = gpd.GeoSeries([circles.union_all()], crs=utm).to_crs(4326).iloc[0]
    if not closures.empty:
        area = area.difference(closures.zones.geometry.union_all())
    return area


def matrix_from_points(
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    backend: TravelTimeBackend | None = None,
    closures: Closures | None = None,
) -> TravelTimeMatrix:
    """Travel times between two point layers.

    Parameters
    ----------
    origins, destinations
        Point layers with a unique string ``id`` column, in EPSG:4326 (other CRSs are
        converted).
    backend
        How to compute times; the straight-line backend by default.
    closures
        No-go zones active on the day, from :func:`geoplan.zones.active_zones`; none by default.

    Raises
    ------
    ParameterError
        When a layer has no ``id`` column, repeated ids or geometries that are not points.
    """
    chosen = backend if backend is not None else StraightLineBackend()
    return chosen.travel_times(
        points_from_frame(origins, name="origins"),
        points_from_frame(destinations, name="destinations"),
        closures if closures is not None else no_closures(),
    )


def points_from_frame(frame: gpd.GeoDataFrame, *, name: str) -> Points:
    """Check a point layer once and take its ids and coordinates.

    Raises
    ------
    ParameterError
        Listing every problem at once: missing ``id`` column, empty or repeated ids, missing
        or non-point geometries, coordinates outside -180..180 / -90..90.
    """
    if "id" not in frame.columns:
        msg = f"{name}: expected an `id` column, got columns {list(frame.columns)}; add one."
        raise ParameterError(msg)
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    ids = frame["id"].astype("string").fillna("").to_numpy(dtype=object)
    geoms = frame.geometry
    problems = _point_problems(ids, geoms)
    if problems:
        listed = "; ".join(problems[:20]) + (" ..." if len(problems) > 20 else "")
        msg = f"{name}: {len(problems)} problem(s): {listed}"
        raise ParameterError(msg)
    return Points(tuple(str(i) for i in ids), geoms.x.to_numpy(float), geoms.y.to_numpy(float))


def great_circle_metres(origins: Points, destinations: Points) -> np.ndarray:
    """Great-circle (haversine) distance in metres from every origin to every destination.

    The sines of half differences expand into products of per-point terms, so that each pair
    costs a few multiplications and one ``arcsin``, in parallel, without temporary arrays. The
    result is exactly symmetric when origins and destinations are the same points.
    """
    out = np.empty((len(origins.ids), len(destinations.ids)))
    _haversine_grid(_half_angle_terms(origins), _half_angle_terms(destinations), out)
    return out


def _half_angle_terms(points: Points) -> np.ndarray:
    """Rows sin(lat/2), cos(lat/2), sin(lon/2), cos(lon/2), cos(lat) of every point."""
    lat, lon = np.radians(points.lat) / 2, np.radians(points.lon) / 2
    return np.ascontiguousarray(
        np.stack([np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon), np.cos(2 * lat)])
    )


@njit(cache=True, parallel=True)
def _haversine_grid(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    for i in prange(a.shape[1]):
        for j in range(b.shape[1]):
            sin_dlat = a[0, i] * b[1, j] - a[1, i] * b[0, j]
            sin_dlon = a[2, i] * b[3, j] - a[3, i] * b[2, j]
            h = sin_dlat * sin_dlat + (a[4, i] * b[4, j]) * (sin_dlon * sin_dlon)
            out[i, j] = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(min(max(h, 0.0), 1.0)))


def crossing_pairs(origins: Points, destinations: Points, closures: Closures) -> np.ndarray:
    """Pairs whose straight path touches an active zone (boolean, origins x destinations)."""
    return closures.crossed_pairs(origins.lon, origins.lat, destinations.lon, destinations.lat)


def zone_reasons(origins: Points, destinations: Points, closures: Closures) -> dict[str, str]:
    """``inside no-go zone <name>`` for every origin or destination inside an active zone."""
    reasons: dict[str, str] = {}
    for pts in (origins, destinations):
        for pid, zone in zip(pts.ids, closures.zone_containing(pts.lon, pts.lat), strict=True):
            if zone is not None:
                reasons[pid] = inside_zone_reason(zone)
    return reasons


def matrix_from_arrays(
    origins: Points,
    destinations: Points,
    seconds: np.ndarray,
    metres: np.ndarray,
    *,
    reachable: np.ndarray,
    reasons: Mapping[str, str],
    backend: str,
    parameters: Mapping[str, object],
    no_route: str = NO_ROUTE,
) -> TravelTimeMatrix:
    """Assemble a matrix: rows and columns of points with a reason become unreachable.

    Unreachable pairs (``reachable`` false, a non-finite time, or a point with a reason) get
    ``NaN`` in ``seconds`` and ``metres``, which are taken over and changed in place (a large
    matrix is not copied).
    """
    ok = reachable & np.isfinite(seconds)
    ok &= ~np.isin(np.asarray(origins.ids, dtype=object), list(reasons))[:, None]
    ok &= ~np.isin(np.asarray(destinations.ids, dtype=object), list(reasons))[None, :]
    if not ok.all():
        np.copyto(seconds, np.nan, where=~ok)
        np.copyto(metres, np.nan, where=~ok)
    return TravelTimeMatrix(
        origins=origins.ids,
        destinations=destinations.ids,
        seconds=seconds,
        metres=metres,
        reachable=ok,
        reasons=dict(reasons),
        backend=backend,
        parameters=dict(parameters),
        no_route=no_route,
    )


def _point_problems(ids: np.ndarray, geoms: gpd.GeoSeries) -> list[str]:
    problems = [f"row {k}: empty id" for k, pid in enumerate(ids) if not pid]
    seen = pd.Series(ids)
    problems += [f"row {k}: id {pid} repeated" for k, pid in seen[seen.duplicated()].items()]
    is_point = (geoms.geom_type == "Point").to_numpy() & ~geoms.is_empty.to_numpy()
    problems += [f"row {k} (id {ids[k]}): not a point" for k in np.flatnonzero(~is_point)]
    x, y = np.zeros(len(geoms)), np.zeros(len(geoms))
    x[is_point], y[is_point] = geoms[is_point].x.to_numpy(), geoms[is_point].y.to_numpy()
    bad = (np.abs(x) > 180) | (np.abs(y) > 90)
    problems += [
        f"row {k} (id {ids[k]}): lon {x[k]}, lat {y[k]} outside -180..180 / -90..90; "
        "were longitude and latitude swapped?"
        for k in np.flatnonzero(bad)
    ]
    return problems


def check_number(name: str, value: object, low: float, high: float, hint: str) -> None:
    """Raise :class:`ParameterError` unless ``value`` is a number from ``low`` to ``high``."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not low <= float(value) <= high:  # type: ignore[arg-type]
        msg = f"{name}: expected a number from {low:g} to {high:g}, got {value!r}; {hint}."
        raise ParameterError(msg)
