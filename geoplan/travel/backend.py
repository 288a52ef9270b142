"""The travel-time backend protocol: everything a caller asks of a way of travelling.

A backend turns points into a :class:`~geoplan.travel.matrix.TravelTimeMatrix`, draws the area
reached within some minutes of a set of places, traces the line a team drives through its
stops, and describes itself for titles and legends. Callers (coverage, planning, maps, the
command line) hold a :class:`TravelTimeBackend` and never ask which class it is: a new way of
travelling (an OSRM or Valhalla server, a matrix file) is one new module in ``travel/`` and
one line in :data:`BACKENDS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from geoplan.errors import ParameterError
from geoplan.progress import Progress

if TYPE_CHECKING:
    import shapely

    from geoplan.params import Params
    from geoplan.travel.matrix import Points, TravelTimeMatrix
    from geoplan.zones import Closures

Coords = tuple[tuple[float, float], ...]
"""A line as ``(lon, lat)`` pairs."""


@dataclass(frozen=True)
class ReachArea:
    """Where a place within some minutes of the given origins lies, and how it was drawn.

    ``geometry`` is ``None`` when nothing is reached; ``note`` says in plain words how the
    backend drew it (for the map's legend and popup).
    """

    geometry: shapely.Geometry | None
    note: str


class TravelTimeBackend(Protocol):
    """A way of travelling: travel times, reach areas, route lines and a description."""

    @property
    def name(self) -> str:
        """A short code for the backend (``straight_line``, ``road_network``, ...)."""
        ...

    @property
    def description(self) -> str:
        """One line for people: what the times are based on (for titles and legends)."""
        ...

    def travel_times(
        self, origins: Points, destinations: Points, closures: Closures
    ) -> TravelTimeMatrix:
        """Travel times from every origin to every destination, with ``closures`` applied."""
        ...

    def reach_area(
        self, origins: Points, minutes: float, closures: Closures, *, places: Points
    ) -> ReachArea:
        """The area within ``minutes`` of any of ``origins``, less the active zones.

        ``places`` are the points the caller cares about (the sites on a map); a backend that
        knows no geometry between its points (a matrix file) draws the reach from them.
        """
        ...

    def route_line(self, stops: Points, closures: Closures) -> Coords | None:
        """The line driven through ``stops`` in order, or ``None`` when the backend knows no
        better than straight legs between them."""
        ...


@dataclass(frozen=True)
class BackendOptions:
    """What every backend factory is given besides its argument.

    Parameters
    ----------
    params
        Every stage's parameters (:func:`geoplan.params.load_params`); a backend reads its
        own table (``[straight_line]``, ``[road_network]``).
    cache_dir
        Where built networks and hierarchies are kept.
    progress
        Told about each step of a slow start (a network build).
    """

    params: Params | None = None
    cache_dir: Path | None = None
    progress: Progress | None = None

    @property
    def tables(self) -> Params:
        """The parameters given, or every default."""
        from geoplan.params import Params  # noqa: PLC0415  (params imports the backends)

        return self.params or Params()


BackendFactory = Callable[[str, BackendOptions], TravelTimeBackend]
"""Makes a backend from the text after ``NAME:`` in a ``--backend`` option."""

BACKENDS: dict[str, str] = {
    "straight_line": "geoplan.travel.matrix:straight_line_from_spec",
    "roads": "geoplan.travel.roads:roads_from_spec",
    "table": "geoplan.travel.table:table_from_spec",
}
"""Every backend by the name users give it, as ``module:factory`` (imported when used)."""

_REGISTERED: dict[str, BackendFactory] = {}


def register_backend(name: str, factory: BackendFactory) -> None:
    """Make a backend available as ``--backend NAME[:ARGUMENT]`` (for plug-ins and tests)."""
    _REGISTERED[name] = factory


def backend_names() -> list[str]:
    """The names ``--backend`` accepts."""
    return sorted({*BACKENDS, *_REGISTERED})


def backend_from_spec(spec: str, options: BackendOptions | None = None) -> TravelTimeBackend:
    """The backend named by ``NAME`` or ``NAME:ARGUMENT`` (``roads:tripoli.osm.pbf``).

    Raises
    ------
    ParameterError
        When no backend has that name.
    """
    name, _, argument = spec.partition(":")
    factory = _REGISTERED.get(name) or _load(BACKENDS, name)
    return factory(argument, options or BackendOptions())


def _load(table: Mapping[str, str], name: str) -> BackendFactory:
    if name not in table:
        known = ", ".join(backend_names())
        msg = f"--backend {name!r}: no such travel-time backend; expected one of {known}"
        raise ParameterError(msg)
    module, _, attribute = table[name].partition(":")
    factory: BackendFactory = getattr(importlib.import_module(module), attribute)
    return factory
