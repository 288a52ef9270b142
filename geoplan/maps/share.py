"""The shared coverage map: counts per area for people outside the programme.

Drawn with the public builders (:func:`~geoplan.maps.build.base_map`,
:func:`~geoplan.maps.build.render_map`) on a plain background: no tiles, Leaflet embedded, so
the page asks no other host for anything. It holds the areas of a
:class:`~geoplan.share.ShareProduct` (their shapes already scrubbed of any vertex in a
sensitive site's cell), coloured by people, with suppressed areas grey, and the product's
level, rule, date and sources in the title block. No site is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING

import folium
import h3
import pandas as pd
import shapely

from geoplan.maps.build import base_map, map_frame, render_map
from geoplan.maps.content import feature
from geoplan.maps.style import (
    CHOROPLETH,
    INACCESSIBLE_GREY,
    ZERO_FILL,
    DataBlock,
    area_swatch,
    choropleth_colour,
    class_breaks,
    popup_html,
)

if TYPE_CHECKING:
    from geoplan.share import ShareProduct


def share_map(product: ShareProduct) -> folium.Map:
    """The product's areas on a plain map, with its notes in the title block."""
    m = base_map(product.title, day=product.made, tiles=False, date_text=product.notes()[2])
    frame = map_frame(m)
    frame.notes.extend(n for n in product.notes() if not n.startswith("Date:"))
    table = product.to_frame()
    areas = table.iloc[:-1]
    people = pd.to_numeric(areas["people"], errors="coerce")
    breaks = class_breaks(float(people.max()) if people.notna().any() else 0.0)
    features = [
        _area_feature(row, geom, breaks)
        for row, geom in zip(areas.to_dict("records"), product.areas.geometry, strict=True)
        if geom is not None
    ]
    if features:
        group = folium.FeatureGroup(name=f"Areas ({len(features)})").add_to(m)
        collection = {"type": "FeatureCollection", "features": features}
        group.add_child(DataBlock("areas", "shapes", {"geojson": collection}))
        _fit(m, product)
    _legend(m, product, breaks)
    return m


def render_share_map(product: ShareProduct) -> str:
    """The shared map as one self-contained HTML page."""
    return render_map(share_map(product), inline=True)


def _area_feature(
    row: Mapping[Hashable, object], geom: shapely.Geometry, breaks: list[int]
) -> dict[str, object]:
    people = row["people"]
    hidden = people is None or people is pd.NA or (isinstance(people, float) and math.isnan(people))
    fill = INACCESSIBLE_GREY if hidden else choropleth_colour(float(people), breaks)  # type: ignore[arg-type]
    style = {"color": INACCESSIBLE_GREY, "weight": 0.8, "fillColor": fill, "fillOpacity": 0.6}
    cells = [(str(k), _text(v)) for k, v in row.items() if k not in ("area_id", "area_name")]
    popup = popup_html(str(row["area_name"]), cells)
    tooltip = f"{row['area_name']}: {_text(people)} people, {_text(row['sites'])} sites"
    return feature(geom, style, popup=popup, tooltip=tooltip)


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "suppressed"
    return f"{int(value):,}"  # type: ignore[call-overload]


def _legend(m: folium.Map, product: ShareProduct, breaks: list[int]) -> None:
    section = map_frame(m).section("People per area")
    section.rows.append((area_swatch(INACCESSIBLE_GREY), "suppressed"))
    section.rows.append((area_swatch(ZERO_FILL), "none"))
    lows = [1, *(b + 1 for b in breaks[:-1])]
    section.rows += [
        (area_swatch(c), f"{lo:,}-{hi:,}")
        for c, lo, hi in zip(CHOROPLETH, lows, breaks, strict=False)
    ]
    counts = map_frame(m).section("Counts per area (sites, people)")
    for row in product.to_frame().to_dict("records"):
        text = f"{row['area_name']}: {_text(row['sites'])} sites, {_text(row['people'])} people"
        counts.rows.append(("", text))


def _fit(m: folium.Map, product: ShareProduct) -> None:
    """Start the view on the areas, with corners outside every protected cell."""
    west, south, east, north = product.areas.geometry.dropna().total_bounds
    pad = max(east - west, north - south, 0.01) * 0.05
    box = _padded(south, west, north, east, pad)
    while _touches_protected(box, product.protected_cells):
        pad *= 2
        box = _padded(south, west, north, east, pad)
    map_frame(m).extend([box[0], box[2]], [box[1], box[3]])


def _padded(south: float, west: float, north: float, east: float, pad: float) -> tuple[float, ...]:
    return tuple(round(v, 4) for v in (south - pad, west - pad, north + pad, east + pad))


def _touches_protected(box: tuple[float, ...], cells: frozenset[str]) -> bool:
    """Whether any pairing of the box's numbers falls in a protected cell."""
    if not cells:
        return False
    resolution = h3.get_resolution(next(iter(cells)))
    lats, lons = (box[0], box[2]), (box[1], box[3])
    return any(h3.latlng_to_cell(a, o, resolution) in cells for a in lats for o in lons)
