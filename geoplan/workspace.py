"""The workspace layer: reads the store and picks the travel-time backend for each stage.

It is the only part of the core that reads a :class:`~geoplan.store.Store` for an analysis:
the stages (coverage, planning, maps, schedules) take frames and results, never a store, and
never ask which backend they were given. The command line, the API and the demo come here.

- :func:`travel_time_backend`: the backend a user asked for (``--backend`` or ``--roads``);
- :func:`read_frames`, :func:`coverage_layers`: the layers a stage reads;
- :func:`matrix_from_store`, :func:`plan_week_from_store`: the stages on a workspace
  (coverage: :func:`geoplan.coverage.coverage_reusing_matrix` of :func:`coverage_layers`);
- :func:`coverage_reach`, :func:`route_lines`: what the maps and schedules draw, made by the
  backend;
- :func:`map_from_store`: any map of a workspace (the ``geoplan map`` command);
- :func:`share_from_store`: a product for outside the programme (``geoplan share``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.absences import absences_from_frame, parse_away
from geoplan.basemap import BaseMap
from geoplan.catalog import SITE_LAYERS, get_layer, load_catalog
from geoplan.coverage import (
    CoverageLayers,
    CoverageParams,
    CoverageResult,
    coverage_from_layers,
    coverage_layer_names,
)
from geoplan.errors import ParameterError
from geoplan.maps import MAP_KINDS, Paper, coverage_map, layers_map, plan_map
from geoplan.maps.content import facilities, layer_or_none
from geoplan.planning import (
    PLANNED_LAYERS,
    Pin,
    PlanningParams,
    Replan,
    WeekPlan,
    matrix_fits_week,
    plan_week,
    route_id,
    select_teams,
    week_closures,
    week_days,
    week_times,
)
from geoplan.progress import Progress, tell
from geoplan.protect import generalise_frames
from geoplan.schedules import straight_line
from geoplan.share import ShareInputs, ShareProduct, ShareRequest, share_product
from geoplan.store import Store
from geoplan.travel.backend import (
    BackendOptions,
    Coords,
    ReachArea,
    TravelTimeBackend,
    backend_from_spec,
)
from geoplan.travel.demand import TravelTimes
from geoplan.travel.matrix import Points, TravelTimeMatrix, matrix_from_points
from geoplan.zones import active_zones

MAP_LAYERS = (*SITE_LAYERS, "teams", "outreach_visits", "no_go_zones", "admin_areas")
"""The layers a map draws."""


# --- the backend ------------------------------------------------------------------------------


def travel_time_backend(
    roads: Path | None = None,
    *,
    spec: str | None = None,
    options: BackendOptions | None = None,
) -> TravelTimeBackend:
    """The backend a user asked for: ``spec`` (``--backend NAME[:ARGUMENT]``), else roads
    from an extract when ``roads`` is given, else straight lines.

    Raises
    ------
    ParameterError
        When both are given, the name is unknown or a parameter is out of range.
    InputFileError, NetworkError
        When the backend's file cannot be read.
    """
    if spec is not None and roads is not None:
        raise ParameterError("give --roads FILE or --backend NAME:ARGUMENT, not both")
    if spec is None:
        spec = f"roads:{roads}" if roads is not None else "straight_line"
    return backend_from_spec(spec, options)


# --- reading the workspace --------------------------------------------------------------------


def read_frames(store: Store) -> dict[str, pd.DataFrame]:
    """The layers a map draws, read from a workspace."""
    return {name: store.read(name) for name in MAP_LAYERS}


def coverage_layers(
    store: Store,
    *,
    site_layers: Sequence[str] = CoverageParams.site_layers,
    generalised_to: int | None = None,
) -> CoverageLayers:
    """Every layer the coverage analysis needs, read from a workspace; with ``generalised_to``,
    as viewers see them: sensitive sites at the centres of their H3 cells at that resolution,
    without free text (:func:`geoplan.protect.generalise_frames`)."""
    frames = {n: store.read(n) for n in coverage_layer_names(site_layers)}
    if generalised_to is not None:
        frames = generalise_frames(frames, resolution=generalised_to)
    return CoverageLayers.from_frames(frames, site_layers=site_layers)


# --- the stages on a workspace ----------------------------------------------------------------


def matrix_from_store(
    store: Store,
    origins: str,
    destinations: str,
    *,
    on: dt.date,
    backend: TravelTimeBackend | None = None,
) -> TravelTimeMatrix:
    """Travel times from every point of one workspace layer to every point of another.

    Parameters
    ----------
    store
        The workspace.
    origins, destinations
        Point layers (``teams`` means the teams' bases).
    on
        The day travelled: the no-go zones active on it are closed.
    backend
        How to compute times; the straight-line backend by default.

    Raises
    ------
    UnknownLayerError
        When a layer name is not in the catalog.
    ParameterError
        When a layer holds no points, or none at all.
    """
    frames = {
        role: _point_layer(store, name, role)
        for role, name in (("--from", origins), ("--to", destinations))
    }
    closures = active_zones(store.read("no_go_zones"), on=on)
    return matrix_from_points(frames["--from"], frames["--to"], backend=backend, closures=closures)


def _point_layer(store: Store, name: str, role: str) -> gpd.GeoDataFrame:
    geometry = get_layer(name).geometry
    if geometry != "Point":
        points = [d.name for d in load_catalog().values() if d.geometry == "Point"]
        msg = (
            f"{role} {name}: expected a point layer ({', '.join(points)}), "
            f"got a layer of {geometry} geometry."
        )
        raise ParameterError(msg)
    frame = store.read(name)
    if len(frame) == 0:
        msg = f"{role} {name}: the layer is empty in the workspace; import it first."
        raise ParameterError(msg)
    return cast(gpd.GeoDataFrame, frame)


def plan_week_from_store(
    store: Store,
    *,
    week: str | dt.date | None = None,
    team_ids: Sequence[str] | None = None,
    params: PlanningParams | None = None,
    pins: Sequence[Pin] = (),
    away: Sequence[str] = (),
    seed: int = 0,
    time_limit: float | None = None,
    backend: TravelTimeBackend | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
    matrix: TravelTimeMatrix | None = None,
    replan: Replan | None = None,
) -> WeekPlan:
    """Read the workspace, build the week's travel-time matrix and plan the week.

    ``matrix`` is reused when it covers every team base and site and was made with the same
    no-go zones closed as the week (:func:`geoplan.planning.matrix_fits_week`); otherwise
    ``backend`` makes the times the week needs (:func:`geoplan.planning.week_times`: bases to
    sites and back, then the candidate sites among themselves), never a square over the map.
    The teams are away on the days of the ``team_absences`` layer and on those of ``away``
    (``TEAM:DAY`` texts, :func:`geoplan.absences.parse_away`). The other options are those of
    :func:`geoplan.planning.plan_week`.

    Raises
    ------
    ParameterError
        If an ``away`` text names an unknown team or a day outside the week.
    """
    read = store.read
    days = week_days(week, today=today)
    every_team = read("teams")
    asked = parse_away(away, team_ids=[str(t) for t in every_team["id"]], days=days)
    absences = (*absences_from_frame(read("team_absences")), *asked)
    teams = select_teams(every_team, team_ids)
    sites = {layer: read(layer) for layer in PLANNED_LAYERS}
    zones = read("no_go_zones")
    closures = week_closures(zones, days)
    times: TravelTimes | None = matrix
    if matrix is None or not matrix_fits_week(matrix, sites, teams, zones=zones, closures=closures):
        tell(progress, "Building the travel-time matrix")
        # bases to sites and back now; the candidate sites' own block when routing asks
        times = week_times(sites, teams, backend=backend, closures=closures)
    assert times is not None
    return plan_week(
        sites,
        read("outreach_visits"),
        teams,
        times,
        days=days,
        closures=closures,
        params=params,
        pins=pins,
        absences=absences,
        seed=seed,
        time_limit=time_limit,
        progress=progress,
        replan=replan,
    )


# --- what the outputs draw, made by the backend -----------------------------------------------


def coverage_reach(
    result: CoverageResult, frames: Mapping[str, pd.DataFrame], backend: TravelTimeBackend
) -> ReachArea:
    """The area within the analysis' threshold of an open clinic or team base, as the
    backend draws it, with the no-go zones active on the analysis date closed."""
    closures = active_zones(layer_or_none(frames, "no_go_zones"), on=result.as_of)
    sites = result.sites.loc[result.sites.geometry.notna() & ~result.sites.geometry.is_empty]
    return backend.reach_area(
        _points(facilities(frames)),
        result.params.threshold_minutes,
        closures,
        places=_points(sites),
    )


def route_lines(
    plan: WeekPlan, backend: TravelTimeBackend, *, zones: pd.DataFrame | None
) -> dict[str, Coords]:
    """The line each team-day drives (base, stops, base) as the backend traces it, with the
    week's zones closed, by team-day id; team-days it cannot trace are left out (they are
    drawn as straight legs)."""
    days = plan.days
    closures = week_closures(zones, days) if zones is not None else active_zones(None, on=days[0])
    out = {}
    for route in plan.routes:
        coords = straight_line(plan, route)
        if len(coords) < 2:
            continue
        stops = Points(
            tuple(str(k) for k in range(len(coords))),
            np.asarray([c[0] for c in coords], dtype=float),
            np.asarray([c[1] for c in coords], dtype=float),
        )
        line = backend.route_line(stops, closures)
        if line is not None:
            out[route_id(route)] = line
    return out


def _points(frame: pd.DataFrame) -> Points:
    """The non-empty points of a frame, numbered (ids may repeat across layers)."""
    geometry = gpd.GeoSeries(frame.geometry) if len(frame) else gpd.GeoSeries([], crs=4326)
    geometry = geometry.loc[geometry.notna() & ~geometry.is_empty]
    return Points(
        tuple(str(k) for k in range(len(geometry))),
        geometry.x.to_numpy(float),
        geometry.y.to_numpy(float),
    )


# --- maps of a workspace ----------------------------------------------------------------------


@dataclass(frozen=True)
class MapRequest:
    """What ``geoplan map`` was asked for.

    Parameters
    ----------
    day
        The date the layers and coverage maps show (today by default).
    week
        The week to plan (ISO week ``2026-W49``, a date, or the next week by default).
    tiles
        Online OpenStreetMap tiles (off by default: they need internet and tell the tile
        server where the map looks); the offline ``basemap`` is drawn either way.
    basemap
        Roads, water, coast and place names under the data (:mod:`geoplan.basemap`).
    paper
        The sheet the map prints on.
    backend
        How travel times, reach areas and route lines are made; straight lines by default.
    seed, time_limit
        The planner's seed and time limit in seconds.
    plan
        The plan the plan map draws (a saved one: :func:`geoplan.plans.read_plan`); planned
        afresh when None.
    """

    day: dt.date | None = None
    week: str | None = None
    tiles: bool = False
    basemap: BaseMap | None = None
    paper: Paper | None = None
    backend: TravelTimeBackend | None = None
    seed: int = 0
    time_limit: float | None = None
    plan: WeekPlan | None = None


def map_from_store(
    kind: str,
    store: Store,
    *,
    request: MapRequest | None = None,
    progress: Progress | None = None,
) -> folium.Map:
    """The ``layers``, ``coverage`` or ``plan`` map of a workspace, computing what it needs.

    Raises
    ------
    ParameterError
        If ``kind`` is not one of :data:`~geoplan.maps.MAP_KINDS`.
    """
    if kind not in MAP_KINDS:
        raise ParameterError(f"map: expected one of {', '.join(MAP_KINDS)}, got {kind!r}")
    request = request or MapRequest()
    day = request.day or dt.date.today()
    frames = read_frames(store)
    if kind == "layers":
        return layers_map(
            frames, day=day, tiles=request.tiles, basemap=request.basemap, paper=request.paper
        )
    backend = request.backend or travel_time_backend()
    if kind == "coverage":
        tell(progress, "Finding coverage gaps")
        result = coverage_from_layers(coverage_layers(store), backend=backend, today=day)
        reach = coverage_reach(result, frames, backend)
        return coverage_map(
            result,
            frames,
            reach=reach,
            tiles=request.tiles,
            basemap=request.basemap,
            paper=request.paper,
        )
    plan = request.plan or plan_week_from_store(
        store,
        week=request.week,
        seed=request.seed,
        time_limit=request.time_limit,
        backend=backend,
        today=day,
        progress=progress,
    )
    lines = route_lines(plan, backend, zones=frames["no_go_zones"])
    return plan_map(
        plan, frames, lines=lines, tiles=request.tiles, basemap=request.basemap, paper=request.paper
    )


# --- shared products --------------------------------------------------------------------------


def share_from_store(
    store: Store,
    request: ShareRequest,
    *,
    backend: TravelTimeBackend | None = None,
    today: dt.date | None = None,
) -> ShareProduct:
    """A product for outside the programme (:func:`geoplan.share.share_product`) of a
    workspace: its sensitive layers, visits and admin areas, and for ``coverage`` the
    coverage analysis of the request's period."""
    layers = coverage_layers(store)
    covered = None
    if request.kind == "coverage":
        result = coverage_from_layers(
            layers, backend=backend or travel_time_backend(), period=request.period, today=today
        )
        covered = dict(zip(result.sites["id"].astype(str), result.sites["covered"], strict=True))
    sources = ["gathering_points", "detention_centres"]
    if request.kind == "activities":
        sources.append("outreach_visits")
    if request.kind == "coverage":
        sources += ["clinics", "teams", "outreach_visits"]
    inputs = ShareInputs(
        sites=layers.sites,
        visits=layers.visits,
        admin_areas=layers.admin_areas,
        sources=(*(f"{name} (workspace layer)" for name in sources),),
        covered=covered,
    )
    return share_product(inputs, request, made=today or dt.date.today())
