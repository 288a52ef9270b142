"""OGC API - Features pieces: conformance classes, the ``bbox`` and ``datetime`` parameters,
and links."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from api.models import Link
from geoplan.catalog import check_year
from geoplan.query import DateRange
from geoplan.store import BBox

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
)
GEOJSON = "application/geo+json"
JSON = "application/json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
"""The first service-desc link's type, of the OpenAPI 3.0 document at ``/api``: the one OWSLib's
``api()`` looks for (OGC API - Features Part 1 names the OpenAPI 3.0 media type)."""
OPENAPI_31 = "application/vnd.oai.openapi+json;version=3.1"
"""The OpenAPI type of ``/openapi.json`` as FastAPI writes it (3.1), when a client asks for it;
the landing page's second service-desc link types it plain JSON, as it is served by default."""


def parse_bbox(text: str) -> BBox:
    """``WEST,SOUTH,EAST,NORTH`` in degrees (six numbers with heights are also read).

    Raises
    ------
    ValueError
        Naming what is wrong: count, a value that is not a finite number, a range.
    """
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise ValueError("bbox must be 4 numbers WEST,SOUTH,EAST,NORTH in degrees")
    numbers = [_finite(p) for p in parts]
    west, south, east, north = numbers if len(numbers) == 4 else [numbers[i] for i in (0, 1, 3, 4)]
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise ValueError("bbox longitudes must be within -180..180")
    if not (-90 <= south <= 90 and -90 <= north <= 90):
        raise ValueError(
            "bbox latitudes must be within -90..90; were longitude and latitude swapped?"
        )
    if south > north:
        raise ValueError("bbox SOUTH is above NORTH; the order is WEST,SOUTH,EAST,NORTH")
    return (west, south, east, north)


def _finite(text: str) -> float:
    try:
        number = float(text.strip())
    except ValueError:
        raise ValueError(f"bbox value {text.strip()!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"bbox value {text.strip()!r} is not a finite number")
    return number


def parse_interval(text: str) -> DateRange:
    """An OGC ``datetime``: one instant, or ``START/END`` with ``..`` (or nothing) for an open
    end; instants are days (``2024-03-01``) or RFC 3339 times, taken as their UTC day. A day
    with a bare trailing ``T`` (``2024-03-01T``, as GDAL's OAPIF driver sends a date) is that day.

    Raises
    ------
    ValueError
        For anything else, or an interval that ends before it starts.
    """
    parts = text.split("/")
    if len(parts) == 1:
        day = _day(parts[0])
        return DateRange(day, day)
    if len(parts) != 2:
        raise ValueError("datetime must be one date or START/END")
    start, end = (None if p in ("", "..") else _day(p) for p in parts)
    if start is None and end is None:
        raise ValueError("datetime interval needs at least one end")
    return DateRange(start, end)


def _day(text: str) -> dt.date:
    try:
        moment = dt.datetime.fromisoformat(text.removesuffix("T"))
    except ValueError:
        msg = (
            f"datetime {text!r} is not YYYY-MM-DD or an RFC 3339 time such as 2024-03-01T08:00:00Z"
        )
        raise ValueError(msg) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return check_year(moment.date())


def url(request: Request, path: str, query: Mapping[str, str] | None = None) -> str:
    """An absolute URL on this server: under ``GEOPLAN_PUBLIC_URL`` if it is set, otherwise
    under the request's own address (a trusted Host, see :mod:`api.security`; behind a proxy,
    its root path included)."""
    public: str | None = request.app.state.settings.public_url
    text = (public or str(request.base_url).rstrip("/")) + path
    return f"{text}?{urlencode(query)}" if query else text


def link(request: Request, path: str, rel: str, media: str = JSON, title: str = "") -> Link:
    """A link to a path on this server."""
    return Link(href=url(request, path), rel=rel, type=media, title=title or None)


def only_params(**allowed: tuple[str, ...]) -> Callable[[Request], None]:
    """A dependency refusing query parameters other than ``allowed`` (name -> its values), as
    OGC API - Features Part 1 requires of every route (answered 400, see :mod:`api.errors`)."""

    def check(request: Request) -> None:
        takes = ", ".join(allowed) or "no query parameters"
        errors = [
            {"loc": ("query", name), "msg": f"unknown parameter; this route takes {takes}"}
            for name in request.query_params
            if name not in allowed
        ]
        errors += [
            {"loc": ("query", name), "msg": f"must be one of {', '.join(allowed[name])}"}
            for name, value in request.query_params.multi_items()
            if name in allowed and value not in allowed[name]
        ]
        if errors:
            raise RequestValidationError(errors)

    return check
