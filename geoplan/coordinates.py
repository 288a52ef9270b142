"""Coordinates written as text: a pair in one cell ("lat, lon", "[lat, lon]", a KoBo/ODK
geopoint "lat lon alt acc"), and which of the two numbers is the longitude.

Pure functions on cells and numbers; validation (:mod:`geoplan.layers`) reports what they
cannot read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from geoplan.sources import CoordinateOrder

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_PAIR = re.compile(
    rf"^\s*[\[(]?\s*({_NUMBER})\s*(?:[,;]\s*|\s+)({_NUMBER})"
    rf"(?:\s*[,;]?\s*{_NUMBER}){{0,2}}\s*[\])]?\s*$"
)
"""Two numbers separated by a comma, a semicolon or spaces, optionally in brackets, followed by
at most two more (a geopoint's altitude and accuracy)."""


def split_pair(text: object) -> tuple[float, float] | None:
    """The first two numbers of a one-cell coordinate pair, in the order written; None when
    the cell is not one."""
    if not isinstance(text, str):
        return None
    match = _PAIR.match(text)
    if match is None:
        return None
    return float(match.group(1)), float(match.group(2))


def pair_order(
    pairs: Sequence[tuple[float, float]],
    *,
    inside: Callable[[float, float], bool] | None = None,
) -> tuple[CoordinateOrder, str]:
    """Which number comes first in ``pairs``, and why.

    A first number beyond +-90 can only be a longitude (a second one, a latitude); otherwise
    the order that puts more points ``inside(lon, lat)`` the operating area wins; otherwise
    latitude first, as KoBo, ODK and map applications write it.
    """
    first_lon = sum(abs(a) > 90 >= abs(b) for a, b in pairs)
    first_lat = sum(abs(b) > 90 >= abs(a) for a, b in pairs)
    if first_lon != first_lat:
        order: CoordinateOrder = "lonlat" if first_lon > first_lat else "latlon"
        return order, "only longitudes go beyond 90 degrees"
    if inside is not None:
        as_latlon = sum(inside(b, a) for a, b in pairs)
        as_lonlat = sum(inside(a, b) for a, b in pairs)
        if as_latlon != as_lonlat:
            order = "latlon" if as_latlon > as_lonlat else "lonlat"
            return order, "more points fall inside the operating area that way"
    return "latlon", "latitude first, as KoBo, ODK and map applications write it"


def lon_lat(pair: tuple[float, float], order: CoordinateOrder) -> tuple[float, float]:
    """The pair as (longitude, latitude)."""
    return (pair[1], pair[0]) if order == "latlon" else pair
