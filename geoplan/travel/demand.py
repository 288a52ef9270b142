"""Travel times made when asked: the bases' rows and columns kept, other blocks on demand.

A week's plan needs the times from every team base to every site and back (which tasks can be
done at all, and which are each team-day's candidates), and then only the times among the few
hundred candidate sites the routing model holds. A square matrix over every site grows with
the square of the map (10,000 sites: 1.7 GB; 50,000: 42 GB); :class:`OnDemandTimes` grows with
the bases times the sites, plus the blocks asked for.

It answers what the planner asks of a :class:`~geoplan.travel.matrix.TravelTimeMatrix` (the
:class:`TravelTimes` protocol): one pair's time, the reasons points cannot be reached, the
backend's name, and a dense block by ids (:meth:`OnDemandTimes.subset`), computed by the same
backend with the same closures, so its numbers are those of the full matrix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from geoplan.travel.backend import TravelTimeBackend
from geoplan.travel.matrix import Points, TravelTimeMatrix
from geoplan.zones import Closures


class TravelTimes(Protocol):
    """What planning asks of travel times: a :class:`TravelTimeMatrix` or on-demand times."""

    @property
    def backend(self) -> str:
        """Name of the backend that made the times."""
        ...

    @property
    def reasons(self) -> Mapping[str, str]:
        """Why a point cannot be reached at all, by point id."""
        ...

    def time(self, origin: str, destination: str) -> float:
        """Seconds from ``origin`` to ``destination``; ``NaN`` when unreachable."""
        ...

    def subset(self, origins: Sequence[str], destinations: Sequence[str]) -> TravelTimeMatrix:
        """A dense matrix between the given ids, in their order."""
        ...


class OnDemandTimes:
    """Times between ``points``: hubs (team bases) to and from all kept, the rest on demand.

    Parameters
    ----------
    points
        Every point that may be asked for (bases and sites).
    hubs
        Ids of the points whose rows and columns are computed at once (the team bases).
    backend, closures
        How times are computed, and the no-go zones closed.
    """

    def __init__(
        self,
        points: Points,
        hubs: Sequence[str],
        *,
        backend: TravelTimeBackend,
        closures: Closures,
    ) -> None:
        self._points = points
        self._at = {pid: k for k, pid in enumerate(points.ids)}
        self._backend = backend
        self._closures = closures
        hub_points = self._take(list(hubs))
        self._out = backend.travel_times(hub_points, points, closures)
        self._in = backend.travel_times(points, hub_points, closures)
        self._hubs = frozenset(hubs)

    @property
    def backend(self) -> str:
        """Name of the backend that made the times."""
        return self._out.backend

    @property
    def parameters(self) -> Mapping[str, object]:
        """The backend's parameters, as a matrix of it would carry."""
        return self._out.parameters

    @property
    def reasons(self) -> Mapping[str, str]:
        """Why a point cannot be reached at all, by point id."""
        return {**self._in.reasons, **self._out.reasons}

    def time(self, origin: str, destination: str) -> float:
        """Seconds from ``origin`` to ``destination``; ``NaN`` when unreachable."""
        if origin in self._hubs:
            return self._out.time(origin, destination)
        if destination in self._hubs:
            return self._in.time(origin, destination)
        return self.subset([origin], [destination]).time(origin, destination)

    def subset(self, origins: Sequence[str], destinations: Sequence[str]) -> TravelTimeMatrix:
        """A dense matrix between the given ids: cut from the hubs' rows or columns when it
        lies in them, else computed by the backend."""
        if self._hubs.issuperset(origins):
            return self._out.subset(origins, destinations)
        if self._hubs.issuperset(destinations):
            return self._in.subset(origins, destinations)
        return self._block(origins, destinations)

    def _block(self, origins: Sequence[str], destinations: Sequence[str]) -> TravelTimeMatrix:
        rows, cols = list(dict.fromkeys(origins)), list(dict.fromkeys(destinations))
        block = self._backend.travel_times(self._take(rows), self._take(cols), self._closures)
        if len(rows) == len(origins) and len(cols) == len(destinations):
            return block
        return block.subset(origins, destinations)

    def _take(self, ids: Sequence[str]) -> Points:
        index = np.array([self._at[i] for i in ids], dtype=np.int64)
        p = self._points
        return Points(tuple(ids), p.lon[index], p.lat[index])


__all__ = ["OnDemandTimes", "TravelTimes"]
