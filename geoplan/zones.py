"""No-go zones: which areas are closed on a date, and what that closes.

:func:`active_zones` is the one place that decides what is closed on a day. Travel times,
planning and maps all ask it, so that a zone never closes a road for one and not for another.
A zone is closed from ``valid_from`` to ``valid_to``, both days included; an empty ``valid_to``
keeps it closed until further notice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numba import njit, prange

from geoplan.errors import ParameterError

_COLUMNS = ("id", "name", "reason", "valid_from", "valid_to")
_REQUIRED = ("id", "name", "valid_from")


@dataclass(frozen=True, eq=False)
class Closures:
    """The no-go zones active on one date.

    Parameters
    ----------
    on
        The date asked for; ``None`` when no zones apply (no layer given).
    zones
        Active zones only: ``id``, ``name``, ``reason``, ``valid_from``, ``valid_to`` and
        Polygon or MultiPolygon geometry in EPSG:4326.
    """

    on: dt.date | None
    zones: gpd.GeoDataFrame

    @property
    def empty(self) -> bool:
        """True when nothing is closed."""
        return len(self.zones) == 0

    def digest(self) -> str:
        """A short hash of the closed areas, for cache keys (same areas, same digest)."""
        wkb = sorted(shapely.to_wkb(self.zones.geometry.to_numpy(), hex=True).tolist())
        return hashlib.sha256("|".join(wkb).encode()).hexdigest()[:16]

    def zone_containing(self, lon: np.ndarray, lat: np.ndarray) -> list[str | None]:
        """Name of an active zone covering each point, or ``None`` when the point is outside all.

        Parameters
        ----------
        lon, lat
            Point coordinates in degrees (EPSG:4326).
        """
        names: list[str | None] = [None] * len(lon)
        if self.empty or len(lon) == 0:
            return names
        points = shapely.points(lon, lat)
        hits_point, hits_zone = self._tree().query(points, predicate="intersects")
        zone_names = self.zones["name"].to_numpy()
        for p, z in zip(hits_point[::-1], hits_zone[::-1], strict=True):
            names[int(p)] = str(zone_names[z])  # reversed: the first zone listed wins
        return names

    def crossed(
        self, lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray, lat1: np.ndarray
    ) -> np.ndarray:
        """Whether each straight segment ``(lon0, lat0) -> (lon1, lat1)`` touches an active zone.

        Segments are straight in longitude and latitude, which at the scale of a city region is
        the road segment itself and, for longer legs, close enough to the great circle. A
        segment touches a zone when an end lies in it (or on its edge) or when it meets one of
        the zone's rings.
        """
        hit = np.zeros(len(lon0), dtype=bool)
        x0, y0, x1, y1 = _floats(lon0), _floats(lat0), _floats(lon1), _floats(lat1)
        for geometry in self.zones.geometry.to_numpy():
            start = (x0, y0, _outcodes(geometry, x0, y0))
            end = (x1, y1, _outcodes(geometry, x1, y1))
            _segments_touching(start, end, _edges(geometry), hit)
        return hit

    def crossed_pairs(
        self, lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray, lat1: np.ndarray
    ) -> np.ndarray:
        """:meth:`crossed` for every straight path from the points ``0`` to the points ``1``.

        Returns a boolean array of shape ``(len(lon0), len(lon1))``, computed without building
        the paths, so that a 5,000 x 5,000 matrix takes well under a second.
        """
        hit = np.zeros((len(lon0), len(lon1)), dtype=bool)
        x0, y0, x1, y1 = _floats(lon0), _floats(lat0), _floats(lon1), _floats(lat1)
        for geometry in self.zones.geometry.to_numpy():
            start = (x0, y0, _outcodes(geometry, x0, y0))
            end = (x1, y1, _outcodes(geometry, x1, y1))
            _pairs_touching(start, end, _edges(geometry), hit)
        return hit

    def _tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.zones.geometry.to_numpy())


def _floats(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float64)


# Outcodes (Cohen-Sutherland): where a point lies against a zone's bounding box. Two ends that
# share a side bit are both beyond that side, so their segment cannot touch the zone; an end
# with the INSIDE bit lies in the zone or on its edge, so its segment does.
_WEST, _EAST, _SOUTH, _NORTH, _INSIDE = 1, 2, 4, 8, 16
_SIDES = _WEST | _EAST | _SOUTH | _NORTH


def _outcodes(geometry: shapely.Geometry, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    west, south, east, north = geometry.bounds
    codes = np.where(x < west, _WEST, 0) | np.where(x > east, _EAST, 0)
    codes |= np.where(y < south, _SOUTH, 0) | np.where(y > north, _NORTH, 0)
    maybe = np.flatnonzero(codes == 0)
    inside = shapely.intersects_xy(geometry, x[maybe], y[maybe])
    codes[maybe[inside]] = _INSIDE
    return codes.astype(np.uint8)


def _edges(geometry: shapely.Geometry) -> np.ndarray:
    """Every edge of the zone's rings as rows ``(cx, cy, dx, dy)``."""
    rings = shapely.get_rings(shapely.get_parts(geometry))
    edges = [np.c_[xy[:-1], xy[1:]] for xy in map(shapely.get_coordinates, rings)]
    return np.ascontiguousarray(np.concatenate(edges))


@njit(cache=True, inline="always")
def _meets_an_edge(segment: tuple[float, float, float, float], edges: np.ndarray) -> bool:
    """Whether the segment ``a -> b`` crosses or touches one of the edges."""
    ax, ay, bx, by = segment
    for e in range(edges.shape[0]):
        cx, cy, dx, dy = edges[e, 0], edges[e, 1], edges[e, 2], edges[e, 3]
        a_side = (dx - cx) * (ay - cy) - (dy - cy) * (ax - cx)
        b_side = (dx - cx) * (by - cy) - (dy - cy) * (bx - cx)
        c_side = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
        d_side = (bx - ax) * (dy - ay) - (by - ay) * (dx - ax)
        if a_side * b_side > 0 or c_side * d_side > 0:
            continue
        if a_side != 0 or b_side != 0:
            return True
        # On one line, the sign tests say nothing: the two must also overlap.
        if (
            min(ax, bx) <= max(cx, dx)
            and max(ax, bx) >= min(cx, dx)
            and min(ay, by) <= max(cy, dy)
            and max(ay, by) >= min(cy, dy)
        ):
            return True
    return False


# Points are (lon, lat, outcode) arrays.


@njit(cache=True, parallel=True)
def _segments_touching(
    start: tuple[np.ndarray, np.ndarray, np.ndarray],
    end: tuple[np.ndarray, np.ndarray, np.ndarray],
    edges: np.ndarray,
    hit: np.ndarray,
) -> None:
    """Set ``hit[k]`` for every segment from start point ``k`` to end point ``k`` touching it."""
    x0, y0, code0 = start
    x1, y1, code1 = end
    for k in prange(len(x0)):
        if hit[k] or code0[k] & code1[k] & _SIDES:
            continue
        an_end_inside = (code0[k] | code1[k]) & _INSIDE != 0
        hit[k] = an_end_inside or _meets_an_edge((x0[k], y0[k], x1[k], y1[k]), edges)


@njit(cache=True, parallel=True)
def _pairs_touching(
    start: tuple[np.ndarray, np.ndarray, np.ndarray],
    end: tuple[np.ndarray, np.ndarray, np.ndarray],
    edges: np.ndarray,
    hit: np.ndarray,
) -> None:
    """Set ``hit[i, j]`` for every path from start point ``i`` to end point ``j`` touching it."""
    x0, y0, code0 = start
    x1, y1, code1 = end
    for i in prange(len(x0)):
        for j in range(len(x1)):
            if hit[i, j] or code0[i] & code1[j] & _SIDES:
                continue
            an_end_inside = (code0[i] | code1[j]) & _INSIDE != 0
            hit[i, j] = an_end_inside or _meets_an_edge((x0[i], y0[i], x1[j], y1[j]), edges)


def no_closures() -> Closures:
    """Closures with nothing closed."""
    return Closures(on=None, zones=_empty_zones())


def active_zones(zones: gpd.GeoDataFrame | None, *, on: dt.date) -> Closures:
    """The zones of the ``no_go_zones`` layer that are closed on ``on``.

    Parameters
    ----------
    zones
        The ``no_go_zones`` layer (validated), or ``None`` for no zones.
    on
        The day asked for; a zone is active when ``valid_from <= on <= valid_to``, and an
        empty ``valid_to`` means open-ended.

    Raises
    ------
    ParameterError
        When the frame lacks ``id``, ``name`` or ``valid_from``.
    """
    if zones is None or len(zones) == 0:
        return Closures(on=on, zones=_empty_zones())
    _check_columns(zones)
    day = pd.Timestamp(on)
    starts = pd.to_datetime(zones["valid_from"])
    ends = (
        pd.to_datetime(zones["valid_to"]) if "valid_to" in zones else pd.Series(pd.NaT, zones.index)
    )
    active = (starts <= day) & (ends.isna() | (day <= ends))
    kept = zones.loc[active.to_numpy()].to_crs(4326) if zones.crs else zones.loc[active]
    return Closures(on=on, zones=kept.reset_index(drop=True))


def inside_zone_reason(name: str) -> str:
    """The reason given for a point inside a zone."""
    return f"inside no-go zone {name}"


def _check_columns(zones: gpd.GeoDataFrame) -> None:
    missing = [c for c in _REQUIRED if c not in zones.columns]
    if missing:
        msg = (
            f"no_go_zones: expected columns {', '.join(_REQUIRED)}; missing {', '.join(missing)}. "
            "Read the layer with geoplan's layer reader, which adds empty optional columns."
        )
        raise ParameterError(msg)


def _empty_zones() -> gpd.GeoDataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in _COLUMNS})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=4326))
