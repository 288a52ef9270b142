"""HTML maps of the workspace: its layers and its coverage gaps (``geoplan map``).

Each map is one HTML page with Leaflet and its plugins embedded, so it opens without internet
(OpenStreetMap tiles need it; ``tiles=false`` draws a plain background). Maps show exact
positions of gathering points and detention centres, so they are for planners and admins;
viewers get 403 for those and read the generalised layers, the coverage tables and the shared
map (``/maps/share.html``: counts per area, suppressed, no site on it) instead. A map is
drawn once per workspace revision and options and then served from memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from api.analysis import CoverageAsk
from api.deps import CoverageDep, MapsDep, PolicyDep, ReaderDep, StoreDep, get_key
from api.models_analysis import CoverageMapQuery, LayersMapQuery, ShareMapQuery
from api.responses import PROBLEMS
from geoplan.indicators import Period
from geoplan.maps import coverage_map, layers_map, render_map
from geoplan.maps.share import render_share_map
from geoplan.share import Level, ShareRequest
from geoplan.workspace import MAP_LAYERS, coverage_reach, share_from_store, travel_time_backend

router = APIRouter(
    prefix="/maps", tags=["maps"], responses=PROBLEMS, dependencies=[Depends(get_key)]
)


@router.get("/layers.html", summary="Map of the layers", response_class=HTMLResponse)
def get_layers_map(
    store: StoreDep,
    reader: ReaderDep,
    maps: MapsDep,
    query: Annotated[LayersMapQuery, Query()],
) -> HTMLResponse:
    """Every site by status on the day (overdue in red, inaccessible in grey), team bases,
    no-go zones active that day and admin boundaries, each layer with its own toggle."""
    day = query.date or dt.date.today()

    def draw() -> str:
        frames = {name: reader.frame(name) for name in MAP_LAYERS}
        return render_map(layers_map(frames, day=day, tiles=query.tiles))

    return HTMLResponse(_cached(maps, store, ("layers", day, query.tiles), draw))


@router.get("/coverage.html", summary="Map of the coverage gaps", response_class=HTMLResponse)
def get_coverage_map(
    store: StoreDep,
    reader: ReaderDep,
    maps: MapsDep,
    coverage: CoverageDep,
    query: Annotated[CoverageMapQuery, Query()],
) -> HTMLResponse:
    """People out of reach per admin area (or hexagon), the area within the threshold of a
    clinic or base (straight-line travel), sites out of reach ringed in red; the options of
    the coverage routes."""
    ask = CoverageAsk(
        period=query.period,
        threshold=query.threshold,
        today=query.date,
        resolution=query.resolution,
    )

    def draw() -> str:
        result = coverage.tables(ask).result
        frames = {name: reader.frame(name) for name in MAP_LAYERS}
        reach = coverage_reach(result, frames, travel_time_backend())
        drawn = coverage_map(result, frames, tiles=query.tiles, reach=reach)
        return render_map(drawn)

    key = ("coverage", *ask.key(0)[1:], query.tiles)  # the analysis' terms, defaults filled
    return HTMLResponse(_cached(maps, store, key, draw))


@router.get("/share.html", summary="The shared coverage map", response_class=HTMLResponse)
def get_share_map(
    store: StoreDep,
    maps: MapsDep,
    policy: PolicyDep,
    query: Annotated[ShareMapQuery, Query()],
) -> HTMLResponse:
    """People and sites within reach and out of reach per area, suppressed under the policy's
    threshold (and further so that no suppressed count can be recomputed), with no site on it:
    the map for viewers and for sharing. Self-contained: it asks no other host for anything."""
    day = query.date or dt.date.today()
    request = ShareRequest(
        "coverage",
        Level.parse(query.by, viewer_resolution=policy.viewer_resolution),
        Period.parse(query.period) if query.period else Period.ending(day),
        threshold=policy.threshold,
        viewer_resolution=policy.viewer_resolution,
    )

    def draw() -> str:
        return render_share_map(share_from_store(store, request, today=day))

    key = ("share", query.by, str(request.period), day, policy.to_json())
    return HTMLResponse(_cached(maps, store, key, draw))


def _cached(
    maps: MapsDep, store: StoreDep, key: tuple[Hashable, ...], draw: Callable[[], str]
) -> str:
    """A map drawn once per workspace revision and options."""
    revision = store.revision()
    if revision is None:  # the revision cannot be known: never reuse
        return draw()
    return maps.get((revision, *key), draw)
