"""HTML maps that team leaders open, read and print: layers, coverage gaps and weekly plans.

The builders compose onto one folium map, each layer its own toggle in the layer control::

    m = base_map("Western Libya: layers", day=today)
    add_context(m, frames, closures=active_zones(frames["no_go_zones"], on=today))
    add_layers(m, frames, day=today)
    save_map(m, Path("layers.html"))

:func:`layers_map`, :func:`coverage_map` and :func:`plan_map` make the three standard maps,
and :func:`map_from_store` makes any of them from a workspace (the ``geoplan map`` command).

Every map carries a title block with the date, a legend, a scale bar, a full-screen button, a
measuring tool and print styles for one page (A4 or A3, landscape or portrait: :class:`Paper`)
with a north arrow and an overview inset. Maps of gathering points or detention centres say in
the title block that they show exact positions and must not be shared. Files written by
:func:`save_map` embed Leaflet and its plugins (vendored under ``geoplan/static``) and an
offline base map (:mod:`geoplan.basemap`: roads, water, coast, place names), so they open and
read with no internet and ask no tile server anything; online tiles are an explicit choice.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import folium
import folium.plugins
import pandas as pd
import shapely
from folium.map import Layer

from geoplan.basemap import BASEMAP_BUDGET, BaseMap, feature_kind, fit_basemap
from geoplan.catalog import SITE_LAYERS, get_layer
from geoplan.coverage import (
    CoverageResult,
)
from geoplan.errors import ParameterError
from geoplan.maps.content import (
    MEASURES,
    PROPOSAL,
    Frames,
    Marker,
    PlaceNames,
    SiteVisits,
    admin_features,
    admin_labels,
    area_features,
    base_markers,
    coverage_summary_html,
    feature,
    gap_markers,
    has_rows,
    layer_or_none,
    left_out_markers,
    left_out_style,
    marker,
    plan_grid_html,
    route_payload,
    site_markers,
    site_visits,
    siting_markers,
    team_colours,
    zone_features,
)
from geoplan.maps.style import (
    ADMIN_COLOUR,
    BASE_COLOUR,
    BASE_GLYPH,
    CHOROPLETH,
    CLUSTER_CSS,
    CLUSTER_DEFAULT_CSS,
    CLUSTER_JS,
    FULLSCREEN_CSS,
    FULLSCREEN_JS,
    HATCH,
    INACCESSIBLE_GREY,
    LAYER_LOOK,
    LEAFLET_CSS,
    LEAFLET_JS,
    LEFT_OUT_CLUSTER,
    LEGEND_BLANK,
    MEASURE_CSS,
    MEASURE_JS,
    NEVER_COLOUR,
    NEVER_LABEL,
    OVERDUE_BINS,
    REACH_COLOUR,
    ZERO_FILL,
    ZONE_COLOUR,
    BaseMapBlock,
    DataBlock,
    MapFrame,
    MarkerStyle,
    Paper,
    PlanBlock,
    area_swatch,
    class_breaks,
    cluster_icon,
    esc,
    grid_page,
    inline_assets,
    inset_svg,
    line_swatch,
    popup_html,
    use_assets,
)
from geoplan.outputs import write_text
from geoplan.planning import WeekPlan, route_id, tasks_at_sites, week_closures
from geoplan.travel.backend import Coords, ReachArea
from geoplan.zones import Closures, active_zones

MAP_KINDS = ("layers", "coverage", "plan")
MAX_ZOOM = 18
"""The closest zoom (street level); marker clusters need it when there are no tiles."""
CLUSTER_ABOVE = 300
"""A layer with more points than this is clustered (clusters open up as you zoom in)."""
_FRAME = "geoplan_frame"
_BASEMAP = "geoplan_basemap"
_CLUSTER_OPTIONS = {
    "showCoverageOnHover": False,
    "maxClusterRadius": 45,
    "disableClusteringAtZoom": 15,
}

# --- the map and its furniture ----------------------------------------------------------------


def base_map(
    title: str,
    *,
    day: dt.date,
    tiles: bool = False,
    date_text: str | None = None,
    basemap: BaseMap | None = None,
    paper: Paper | None = None,
) -> folium.Map:
    """An empty map with its title block (title and date), legend, scale bar, full-screen
    button, measuring tool and print styles.

    Parameters
    ----------
    title
        Shown in the title block and the browser tab.
    day
        The date the map shows; written in the title block unless ``date_text`` is given.
    tiles
        Online OpenStreetMap tiles: they need internet and tell the tile server where the map
        looks, so they are off unless asked for; the offline ``basemap`` is drawn either way.
    basemap
        Roads, water, coast and place names drawn under the data, clipped to it when the map
        is rendered (:func:`geoplan.basemap.fit_basemap`); a plain background without one.
    paper
        The sheet it prints on (A4 landscape by default).
    """
    m = folium.Map(
        location=(0, 0),
        zoom_start=2,
        tiles=None,
        control_scale=True,
        zoom_snap=0.25,
    )
    m.options["maxZoom"] = MAX_ZOOM  # folium's max_zoom goes to tiles only
    use_assets(m, LEAFLET_JS, LEAFLET_CSS)
    if tiles:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap", control=False).add_to(m)
    full = folium.plugins.Fullscreen(title="Full screen", title_cancel="Exit full screen")
    use_assets(full, FULLSCREEN_JS, FULLSCREEN_CSS)
    measure = folium.plugins.MeasureControl(
        position="topleft",
        primary_length_unit="kilometers",
        secondary_length_unit="meters",
        primary_area_unit="hectares",
        secondary_area_unit="sqmeters",
    )
    use_assets(measure, MEASURE_JS, MEASURE_CSS)
    m.add_child(full).add_child(measure)
    frame = MapFrame(
        title, date_text or f"{day:%A %d %B %Y}", plain=not tiles and basemap is None, paper=paper
    )
    m.add_child(frame, name=_FRAME)
    block = BaseMapBlock()
    m.add_child(block, name=_BASEMAP)
    block.source = basemap  # fitted to the data in render_map
    return m


def _basemap_block(m: folium.Map) -> BaseMapBlock:
    block = m._children.get(_BASEMAP)
    if not isinstance(block, BaseMapBlock):
        raise ParameterError("this map has no geoplan base map; start it with base_map()")
    return block


def _finish_basemap(m: folium.Map, frame: MapFrame) -> None:
    """Clip the base map to the data, and draw the overview inset of the operating area."""
    block = _basemap_block(m)
    source = block.source if isinstance(block.source, BaseMap) else None
    box = None
    if frame.bounds is not None:
        s, w, n, e = frame.bounds
        box = (w, s, e, n)
    if source is not None:
        fitted = fit_basemap(source, box, budget=_basemap_budget(m))
        block.features = list(fitted.features)
        block.attribution = fitted.attribution
        block.sea = fitted.has_land
    if box is not None and not frame.inset:
        frame.inset = _inset(source, block, box)


MAP_BYTES = 4_700_000
"""What a map file may weigh (under 5 MB): the base map gets what the data leaves."""
_ASSET_BYTES = 450_000  # Leaflet, its plugins and geoplan's own script and styles, embedded


def _basemap_budget(m: folium.Map) -> int:
    """Bytes left for the base map once the data blocks and the assets are counted (at least
    100 KB, at most :data:`geoplan.basemap.BASEMAP_BUDGET`)."""
    data, todo = 0, list(m._children.values())
    while todo:
        child = todo.pop()
        if isinstance(child, DataBlock | PlanBlock):
            data += len(child.text.encode())
        todo += list(getattr(child, "_children", {}).values())
    return max(100_000, min(BASEMAP_BUDGET, MAP_BYTES - _ASSET_BYTES - data))


def _inset(source: BaseMap | None, block: BaseMapBlock, box: Sequence[float]) -> str:
    """The operating area (the base map's land or admin areas, else the data grown threefold)
    with the printed area outlined."""
    features = source.features if source else ()
    land = [shapely.geometry.shape(f["geometry"]) for f in features if feature_kind(f) == "land"]
    areas = land or [g for g in block.areas if isinstance(g, shapely.Geometry)]
    w, s, e, n = box
    if areas:
        extent = shapely.total_bounds(areas)
    else:
        dx, dy = max(e - w, 0.05), max(n - s, 0.05)
        extent = (w - dx, s - dy, e + dx, n + dy)
    rings = [
        [(round(x, 3), round(y, 3)) for x, y in poly.exterior.simplify(0.01).coords]
        for g in areas
        for poly in getattr(g, "geoms", [g])
        if poly.geom_type == "Polygon"
    ]
    return inset_svg(rings, list(extent), box)


def map_frame(m: folium.Map) -> MapFrame:
    """The title block and legend of a map made by :func:`base_map`.

    Raises
    ------
    ParameterError
        If the map was not made by :func:`base_map`.
    """
    frame = m._children.get(_FRAME)
    if not isinstance(frame, MapFrame):
        raise ParameterError("this map has no geoplan title block; start it with base_map()")
    return frame


def render_map(m: folium.Map, *, inline: bool = True) -> str:
    """The map as one HTML page; ``inline`` embeds Leaflet and its plugins (no CDN needed)."""
    if not any(isinstance(c, folium.LayerControl) for c in m._children.values()):
        m.add_child(folium.LayerControl(collapsed=False))
    frame = map_frame(m)
    _finish_basemap(m, frame)
    m._children.move_to_end(_FRAME)  # fits the view once every layer is drawn
    page = m.get_root().render()
    return inline_assets(page) if inline else page


def save_map(m: folium.Map, path: Path, *, inline: bool = True) -> Path:
    """Write the map to ``path`` (see :func:`render_map`) and return the path."""
    return write_text(path, render_map(m, inline=inline))


def _group(m: folium.Map, name: str, *, show: bool = True, cluster: str | None = None) -> Layer:
    """A toggle in the layer control; with ``cluster`` (a colour), one that clusters points."""
    group: Layer = folium.FeatureGroup(name=name, show=show)
    if cluster is not None:
        clustered = folium.plugins.MarkerCluster(
            name=name,
            show=show,
            icon_create_function=cluster_icon(cluster),
            options=_CLUSTER_OPTIONS,
        )
        use_assets(clustered, CLUSTER_JS, CLUSTER_CSS, CLUSTER_DEFAULT_CSS)
        group = clustered
    m.add_child(group)
    return group


def _add_points(
    m: folium.Map,
    title: str,
    points: Sequence[Marker],
    styles: Mapping[str, MarkerStyle],
    *,
    show: bool = True,
    cluster_above: int = CLUSTER_ABOVE,
    colour: str = BASE_COLOUR,
) -> Layer | None:
    """A toggle named ``title (count)`` holding one marker per point."""
    if not points:
        return None
    name = f"{title} ({len(points)})"
    group = _group(m, name, show=show, cluster=colour if len(points) > cluster_above else None)
    payload = {"styles": {k: s.as_json() for k, s in styles.items()}, "points": list(points)}
    group.add_child(DataBlock(name, "points", payload))
    map_frame(m).extend([p[0] for p in points], [p[1] for p in points])
    return group


def _add_shapes(
    m: folium.Map, title: str, features: Sequence[dict[str, object]], *, show: bool = True
) -> None:
    """A toggle named ``title (count)`` holding GeoJSON areas with their own styles."""
    if not features:
        return
    name = f"{title} ({len(features)})"
    group = _group(m, name, show=show)
    collection = {"type": "FeatureCollection", "features": list(features)}
    group.add_child(DataBlock(name, "shapes", {"geojson": collection}))


# --- layers -----------------------------------------------------------------------------------


def add_layers(
    m: folium.Map, frames: Frames, *, day: dt.date, cluster_above: int = CLUSTER_ABOVE
) -> None:
    """Every site layer (one toggle each), then team bases.

    Shapes say what a place is (gathering point circle, detention centre square, clinic cross,
    project diamond); the fill says its status: the layer's colour when up to date, a red scale
    when overdue, grey when inaccessible; an amber ring marks restricted access.
    """
    status = site_visits(frames, day=day)
    for layer in SITE_LAYERS:
        if has_rows(frames, layer):
            _add_site_layer(m, layer, frames[layer], status, day=day, cluster_above=cluster_above)
    _status_legend(m)
    if has_rows(frames, "teams"):
        add_team_bases(m, frames["teams"])


def _add_site_layer(
    m: folium.Map,
    layer: str,
    frame: pd.DataFrame,
    status: SiteVisits,
    *,
    day: dt.date,
    cluster_above: int,
) -> None:
    points, styles = site_markers(layer, frame, status, day=day)
    title = get_layer(layer).title
    shape, colour = LAYER_LOOK[layer]
    _add_points(m, title, points, styles, cluster_above=cluster_above, colour=colour)
    map_frame(m).section("Places").rows.append((MarkerStyle(shape, colour).swatch(), title))
    _mark_sensitive(m, layer)


def _mark_sensitive(m: folium.Map, layer: str) -> None:
    definition = get_layer(layer)
    if definition.sensitivity == "high":
        map_frame(m).sensitive[definition.title.lower()] = None


def _status_legend(m: folium.Map) -> None:
    section = map_frame(m).section("Status")
    if section.rows:
        return
    section.rows += [
        (MarkerStyle("circle", LAYER_LOOK["gathering_points"][1]).swatch(), "up to date"),
        *((MarkerStyle("circle", c).swatch(), label) for label, c, _ in OVERDUE_BINS),
        (MarkerStyle("circle", NEVER_COLOUR).swatch(), NEVER_LABEL),
        (MarkerStyle("circle", INACCESSIBLE_GREY, classes="gp-off").swatch(), "inaccessible"),
        (
            MarkerStyle("circle", LEGEND_BLANK, classes="gp-restricted").swatch(),
            "restricted access",
        ),
    ]


def add_team_bases(m: folium.Map, teams: pd.DataFrame, *, show: bool = True) -> None:
    """Each team's base, in the team's colour, with its shift and services."""
    points, styles = base_markers(teams)
    _add_points(m, "Team bases", points, styles, show=show)
    swatch = MarkerStyle("base", BASE_COLOUR, 18, glyph=BASE_GLYPH).swatch()
    map_frame(m).section("Places").rows.append((swatch, "team base (team colour)"))


# --- context: admin areas and no-go zones -----------------------------------------------------


def add_context(m: folium.Map, frames: Frames, *, closures: Closures) -> None:
    """Admin boundaries (when the workspace has them) and no-go zones: the zones in
    ``closures`` hatched, the others (closed on other dates) as a dashed outline, off by
    default."""
    if has_rows(frames, "admin_areas"):
        _add_admin_areas(m, frames["admin_areas"])
    if has_rows(frames, "no_go_zones"):
        _add_zones(m, frames["no_go_zones"], closures)


def _add_admin_areas(m: folium.Map, areas: pd.DataFrame) -> None:
    _add_shapes(m, "Admin boundaries", admin_features(areas))
    block = _basemap_block(m)
    block.labels += admin_labels(areas)
    block.areas = [g for g in areas.geometry if g is not None]
    section = map_frame(m).section("Areas")
    section.rows.append((area_swatch("transparent", border=ADMIN_COLOUR), "admin boundary"))
    _extend_geometries(m, [f for f in areas.geometry if f is not None])


def _add_zones(m: folium.Map, zones: pd.DataFrame, closures: Closures) -> None:
    active, inactive = zone_features(zones, closures)
    when = f"closed on {closures.on:%d %b %Y}" if closures.on else "closed"
    _add_shapes(m, f"No-go zones {when}", active)
    _add_shapes(m, "No-go zones on other dates", inactive, show=False)
    section = map_frame(m).section("Areas")
    section.rows.append((area_swatch(HATCH, border=ZONE_COLOUR), f"no-go zone {when}"))


def _extend_geometries(m: folium.Map, geometries: Sequence[shapely.Geometry]) -> None:
    if not geometries:
        return
    west, south, east, north = shapely.total_bounds(list(geometries))
    map_frame(m).extend([south, north], [west, east])


# --- coverage ---------------------------------------------------------------------------------


def add_coverage(
    m: folium.Map,
    result: CoverageResult,
    frames: Frames,
    *,
    reach: ReachArea | None = None,
    by: str = "admin",
    measure: str = "people_not_covered",
    cluster_above: int = CLUSTER_ABOVE,
) -> None:
    """Coverage gaps: a choropleth of ``measure`` per admin area (or H3 hexagon), the area
    within the threshold of a clinic or base when ``reach`` is given (drawn by the
    travel-time backend: :func:`geoplan.workspace.coverage_reach`), the clinics and bases,
    sites within reach by how overdue they are, and sites out of reach highlighted; proposed
    new stops when the analysis made some.
    """
    _add_choropleth(m, result, by=by, measure=measure)
    if reach is not None:
        _add_reach(m, result, reach)
    if has_rows(frames, "clinics"):
        status = site_visits({}, day=result.as_of)
        clinics = frames["clinics"]
        _add_site_layer(
            m, "clinics", clinics, status, day=result.as_of, cluster_above=cluster_above
        )
    if has_rows(frames, "teams"):
        add_team_bases(m, frames["teams"])
    _add_gap_sites(m, result, PlaceNames.of(frames), cluster_above=cluster_above)
    _add_siting(m, result)
    map_frame(m).panels.append(("Summary", coverage_summary_html(result)))


def _add_choropleth(m: folium.Map, result: CoverageResult, *, by: str, measure: str) -> None:
    if measure not in MEASURES:
        raise ParameterError(f"measure: expected one of {', '.join(MEASURES)}, got {measure!r}")
    areas = result.areas(by)
    admin = by == "admin" and result.admin is not None
    unit = "admin area" if admin else f"H3 hexagon (resolution {result.params.h3_resolution})"
    areas = areas.loc[areas.geometry.notna()]
    breaks = class_breaks(float(areas[measure].max()) if len(areas) else 0.0)
    title = f"{MEASURES[measure]} per {unit}"
    _add_shapes(m, title, area_features(areas, measure, breaks=breaks, admin=admin))
    section = map_frame(m).section(title)
    section.rows.append((area_swatch(ZERO_FILL), "none"))
    lows = [1, *(b + 1 for b in breaks[:-1])]
    section.rows += [
        (area_swatch(c), f"{lo:,}-{hi:,}")
        for c, lo, hi in zip(CHOROPLETH, lows, breaks, strict=False)
    ]


def _add_reach(m: folium.Map, result: CoverageResult, reach: ReachArea) -> None:
    area, note = reach.geometry, reach.note
    minutes = result.params.threshold_minutes
    if area is None or area.is_empty:
        return
    style = {"color": REACH_COLOUR, "weight": 1.5, "fillColor": REACH_COLOUR, "fillOpacity": 0.12}
    title = f"Within {minutes:g} min of a clinic or base"
    popup = popup_html(title, [("How", note)])
    _add_shapes(m, title, [feature(area, style, popup=popup, tooltip=title)])
    section = map_frame(m).section("Reach", note=note)
    section.rows.append((area_swatch(REACH_COLOUR, border=REACH_COLOUR, opacity=0.4), title))


def _add_gap_sites(
    m: folium.Map, result: CoverageResult, names: PlaceNames, *, cluster_above: int
) -> None:
    sites = result.sites.loc[result.sites.geometry.notna()]
    covered = sites["covered"].astype(bool).to_numpy()
    for title, part, gap in (
        ("Sites within reach", sites.loc[covered], False),
        ("Sites out of reach", sites.loc[~covered], True),
    ):
        points, styles = gap_markers(part, gap=gap, names=names)
        _add_points(m, title, points, styles, cluster_above=cluster_above)
    for layer in dict.fromkeys(sites["layer"]):
        _mark_sensitive(m, str(layer))
    _status_legend(m)
    ring = MarkerStyle("circle", LAYER_LOOK["gathering_points"][1], 16, classes="gp-gap")
    map_frame(m).section("Status").rows.append((ring.swatch(), "out of reach (red ring)"))


def _add_siting(m: folium.Map, result: CoverageResult) -> None:
    points = siting_markers(result)
    if points:
        _add_points(m, "Proposed new stops", points, {"star": PROPOSAL})
        map_frame(m).section("Places").rows.append((PROPOSAL.swatch(), "proposed new stop"))


# --- plan -------------------------------------------------------------------------------------


def add_plan(
    m: folium.Map,
    plan: WeekPlan,
    *,
    teams: pd.DataFrame | None = None,
    lines: Mapping[str, Coords] | None = None,
    cluster_above: int = CLUSTER_ABOVE,
) -> None:
    """The week's routes, one colour per team (the team's ``colour`` when set), along the
    ``lines`` traced by the travel-time backend where given (by team-day id,
    :func:`geoplan.workspace.route_lines`) and as straight legs otherwise; stops numbered in
    visiting order (per team-day) with arrival times; one day at a time with a day switcher
    (or the whole week) and a toggle per team; a panel with each team-day's stops, km, hours on
    the road and on site and people expected; left-out sites with reasons.
    """
    colours = team_colours(plan, teams)
    team_groups = _team_groups(m, plan, colours)
    routes = [
        route_payload(r, plan, colours[r.team_id], (lines or {}).get(route_id(r)))
        for r in plan.routes
        if r.stops
    ]
    styles = {
        t: MarkerStyle("stop", c, 22, dom_class="gp-stop", z=1000).as_json()
        for t, c in colours.items()
    }
    days = sorted({r.day for r in plan.routes if r.stops}) or list(plan.days[:1])
    first = days[0].isoformat() if days else "week"
    block = PlanBlock(
        "Routes", {"routes": routes, "styles": styles}, teams=team_groups, first_day=first
    )
    m.add_child(block)
    frame = map_frame(m)
    frame.days = [(d.isoformat(), f"{d:%a %d}") for d in days] + [("week", "Whole week")]
    frame.panels.append(("Team-days", plan_grid_html(plan, colours)))
    for route in routes:
        coords = route["coords"]
        frame.extend([c[0] for c in coords], [c[1] for c in coords])  # type: ignore[attr-defined]
    _add_left_out(m, plan, cluster_above=cluster_above)
    _plan_legend(m, plan, colours)
    for layer in {s.task.layer for s in plan.stops} | {lo.task.layer for lo in plan.left_out}:
        _mark_sensitive(m, layer)


def _team_groups(m: folium.Map, plan: WeekPlan, colours: Mapping[str, str]) -> dict[str, Layer]:
    """A toggle per team, holding the team's base."""
    names = {r.team_id: r.team_name for r in plan.routes}
    visits = Counter(r.team_id for r in plan.routes for _ in r.stops)
    groups = {}
    for team, colour in colours.items():
        name = names.get(team, team)
        group = _group(m, f"Team: {esc(name)} ({visits[team]} visits)")
        if team in plan.base_positions:
            lon, lat = plan.base_positions[team]
            style = MarkerStyle("base", colour, 18, glyph=BASE_GLYPH, z=500)
            popup = popup_html(name, [("Team", team)], subtitle="Team base")
            point = marker(lat, lon, "base", popup, title=f"Base of {name}")
            payload = {"styles": {"base": style.as_json()}, "points": [point]}
            group.add_child(DataBlock(f"Base of {team}", "points", payload))
            map_frame(m).extend([lat], [lon])
        groups[team] = group
    return groups


def _add_left_out(m: folium.Map, plan: WeekPlan, *, cluster_above: int) -> None:
    points, _ = left_out_markers(plan)
    by_reason = plan.left_out_by_reason()
    styles: dict[str, MarkerStyle] = {reason: left_out_style(reason) for reason in by_reason}
    _add_points(
        m, "Left out sites", points, styles, cluster_above=cluster_above, colour=LEFT_OUT_CLUSTER
    )
    # Counted as the plan's summary counts them: tasks, and the sites they are at.
    section = map_frame(m).section(f"Left out: {tasks_at_sites(plan.left_out)}")
    section.rows += [
        (styles[r].swatch(), f"{r.text}: {tasks_at_sites(left)}") for r, left in by_reason.items()
    ]


def _plan_legend(m: folium.Map, plan: WeekPlan, colours: Mapping[str, str]) -> None:
    names = {r.team_id: r.team_name for r in plan.routes}
    section = map_frame(m).section("Teams")
    section.rows += [(line_swatch(c), names.get(t, t)) for t, c in colours.items()]
    stop = MarkerStyle("stop", BASE_COLOUR, 22)
    map_frame(m).section("Stops").rows.append((stop.swatch(), "visiting order; arrival time below"))


# --- the three maps ---------------------------------------------------------------------------


def layers_map(
    frames: Frames,
    *,
    day: dt.date,
    tiles: bool = False,
    title: str = "Layers",
    basemap: BaseMap | None = None,
    paper: Paper | None = None,
) -> folium.Map:
    """Every layer of the workspace on the day: sites by status, team bases, no-go zones and
    admin boundaries."""
    m = base_map(title, day=day, tiles=tiles, basemap=basemap, paper=paper)
    add_context(m, frames, closures=active_zones(layer_or_none(frames, "no_go_zones"), on=day))
    add_layers(m, frames, day=day)
    return m


def coverage_map(
    result: CoverageResult,
    frames: Frames,
    *,
    tiles: bool = False,
    reach: ReachArea | None = None,
    title: str = "Coverage gaps",
    basemap: BaseMap | None = None,
    paper: Paper | None = None,
) -> folium.Map:
    """Coverage gaps as of the analysis date (see :func:`add_coverage`)."""
    threshold = f"threshold {result.params.threshold_minutes:g} min"
    date_text = f"{result.as_of:%A %d %B %Y} \u00b7 {threshold} \u00b7 period {result.period}"
    m = base_map(
        title, day=result.as_of, tiles=tiles, date_text=date_text, basemap=basemap, paper=paper
    )
    zones = active_zones(layer_or_none(frames, "no_go_zones"), on=result.as_of)
    add_context(m, frames, closures=zones)
    add_coverage(m, result, frames, reach=reach)
    return m


def plan_map(
    plan: WeekPlan,
    frames: Frames,
    *,
    tiles: bool = False,
    lines: Mapping[str, Coords] | None = None,
    title: str = "Weekly plan",
    basemap: BaseMap | None = None,
    paper: Paper | None = None,
) -> folium.Map:
    """The week's routes, stops and left-out sites (see :func:`add_plan`), with the no-go
    zones closed during the week."""
    days = plan.days
    date_text = f"Week {days[0]:%a %d %b} - {days[min(4, len(days) - 1)]:%a %d %b %Y}"
    m = base_map(title, day=days[0], tiles=tiles, date_text=date_text, basemap=basemap, paper=paper)
    zones = layer_or_none(frames, "no_go_zones")
    closures = week_closures(zones, days) if zones is not None else active_zones(None, on=days[0])
    add_context(m, frames, closures=closures)
    add_plan(m, plan, teams=layer_or_none(frames, "teams"), lines=lines)
    return m


def write_maps(
    folder: Path,
    frames: Frames,
    *,
    day: dt.date,
    coverage: CoverageResult | None = None,
    plan: WeekPlan | None = None,
    reach: ReachArea | None = None,
    lines: Mapping[str, Coords] | None = None,
    tiles: bool = False,
    basemap: BaseMap | None = None,
    paper: Paper | None = None,
) -> dict[str, Path]:
    """Write ``layers.html`` and, when given the results, ``coverage.html``, ``plan.html`` and
    the printable team x day grid ``plan_grid.html`` into ``folder``, each with its assets
    embedded; returns their paths by kind."""
    maps = {"layers": layers_map(frames, day=day, tiles=tiles, basemap=basemap, paper=paper)}
    if coverage is not None:
        maps["coverage"] = coverage_map(
            coverage, frames, reach=reach, tiles=tiles, basemap=basemap, paper=paper
        )
    if plan is not None:
        maps["plan"] = plan_map(
            plan, frames, lines=lines, tiles=tiles, basemap=basemap, paper=paper
        )
    paths = {kind: save_map(m, folder / f"{kind}.html") for kind, m in maps.items()}
    if plan is not None:
        paths["plan_grid"] = write_text(folder / "plan_grid.html", plan_grid_page(plan, frames))
    return paths


def plan_grid_page(plan: WeekPlan, frames: Frames, *, title: str = "Weekly plan") -> str:
    """The team x day grid of a week as a printable page for the office wall."""
    colours = team_colours(plan, layer_or_none(frames, "teams"))
    days = plan.days
    when = f"Week {days[0]:%a %d %b} - {days[min(4, len(days) - 1)]:%a %d %b %Y}"
    return grid_page(title, when, plan_grid_html(plan, colours))
