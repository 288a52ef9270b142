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
        the road segment itself and, for longer legs, close enough to the great circle.
        """
        hit = np.zeros(len(lon0), dtype=bool)
        if self.empty or len(lon0) == 0:
            return hit
        coords = np.stack([np.c_[lon0, lat0], np.c_[lon1, lat1]], axis=1)
        lines = shapely.linestrings(coords)
        hits_line, _ = self._tree().query(lines, predicate="intersects")
        hit[hits_line] = True
        return hit

    def _tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.zones.geometry.to_numpy())


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
