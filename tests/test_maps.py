"""HTML maps: each layer a toggle with its features, legends, title, tools, print styles, escaping."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from pathlib import Path

import folium
import geopandas as gpd
import pytest
import shapely

from geoplan import maps
from geoplan.coverage import CoverageLayers, coverage_from_layers
from geoplan.errors import ParameterError
from geoplan.maps.style import (
    ASSETS,
    CHOROPLETH,
    INACCESSIBLE_GREY,
    LAYER_LOOK,
    NEVER_COLOUR,
    choropleth_colour,
    class_breaks,
    overdue_colour,
    page_json,
    team_colour,
)
from geoplan.store import open_store
from geoplan.travel.matrix import (
    Points,
    StraightLineBackend,
    StraightLineParams,
    points_from_frame,
)
from geoplan.travel.roads import RoadNetworkBackend, read_network, road_reach_area
from geoplan.workspace import MapRequest, coverage_reach, map_from_store, route_lines
from geoplan.zones import active_zones, no_closures
from tests.maps_fixtures import TODAY, TRICKY_NAME, WEEK, Page, frames, week_plan


@pytest.fixture(scope="module")
def layers_page() -> Page:
    """The layers map of the tiny workspace on TODAY."""
    return Page.parse(maps.render_map(maps.layers_map(frames(), day=TODAY)))


@pytest.fixture(scope="module")
def plan_page() -> Page:
    """The plan map of the hand-made week."""
    return Page.parse(maps.render_map(maps.plan_map(week_plan(), frames())))


@pytest.fixture(scope="module")
def coverage_result() -> object:
    """Coverage of the tiny workspace on TODAY (straight lines, 30 min)."""
    return coverage_from_layers(CoverageLayers.from_frames(frames()), today=TODAY)


@pytest.fixture(scope="module")
def coverage_page(coverage_result: object) -> Page:
    """The coverage map of the tiny workspace."""
    reach = coverage_reach(coverage_result, frames(), StraightLineBackend())  # type: ignore[arg-type]
    return Page.parse(maps.render_map(maps.coverage_map(coverage_result, frames(), reach=reach)))  # type: ignore[arg-type]


def points_of(page: Page, layer: str) -> list[list[object]]:
    return page.data()[layer]["points"]  # type: ignore[return-value]


def style_of(page: Page, layer: str, point: list[object]) -> str:
    styles = page.data()[layer]["styles"]
    return styles[point[2]]["html"]  # type: ignore[index]


def by_title(page: Page, layer: str) -> dict[str, list[object]]:
    return {str(p[4]): p for p in points_of(page, layer)}


# --- the layers map ---------------------------------------------------------------------------


def test_each_layer_is_a_toggle_named_with_its_count(layers_page: Page) -> None:
    """Every non-empty layer has its own toggle; empty ones (CIP sites) have none."""
    assert layers_page.overlays() == [
        "Admin boundaries (1)",
        "No-go zones closed on 10 Mar 2026 (1)",
        "No-go zones on other dates (1)",
        "Gathering points (3)",
        "Detention centres (1)",
        "Clinics (1)",
        "Team bases (1)",
    ]


def test_each_toggle_holds_its_features(layers_page: Page) -> None:
    """The data block behind each toggle holds exactly the features its name counts."""
    for name, block in layers_page.data().items():
        if name == "Base map":
            continue
        expected = int(re.search(r"\((\d+)\)$", name).group(1))  # type: ignore[union-attr]
        features = block.get("points") or block["geojson"]["features"]  # type: ignore[index]
        assert len(features) == expected, name  # type: ignore[arg-type]


def test_site_fill_says_status_and_shape_says_kind(layers_page: Page) -> None:
    """Up to date: layer colour; 10 days overdue: red scale; inaccessible: grey; never
    visited: darkest red; restricted: amber ring; shapes by layer."""
    sites = by_title(layers_page, "Gathering points (3)")
    html = {name: style_of(layers_page, "Gathering points (3)", p) for name, p in sites.items()}
    assert LAYER_LOOK["gathering_points"][1] in html[TRICKY_NAME]
    assert "#fb6a4a" in html["Bravo"]
    assert INACCESSIBLE_GREY in html["Charlie"]
    assert "gp-off" in html["Charlie"]
    assert all("gp-circle" in h for h in html.values())
    (centre,) = points_of(layers_page, "Detention centres (1)")
    centre_html = style_of(layers_page, "Detention centres (1)", centre)
    assert NEVER_COLOUR in centre_html
    assert "gp-square" in centre_html
    assert "gp-restricted" in centre_html


def test_popup_has_what_a_team_leader_needs(layers_page: Page) -> None:
    """Name, kind, people by sex and age, last visit, services due, access hours, status."""
    bravo = str(by_title(layers_page, "Gathering points (3)")["Bravo"][3])
    for text in (
        "<h3>Bravo</h3>",
        "Gathering points \u00b7 camp \u00b7 GP-2",
        "<td>20</td>",
        "2026-02-14 (24 days ago)",
        "health (10 days overdue)",
        "overdue 8-30 days",
    ):
        assert text in bravo
    alpha = str(by_title(layers_page, "Gathering points (3)")[TRICKY_NAME][3])
    assert "10 (men 4, women 3, boys 2, girls 1)" in alpha
    (centre,) = points_of(layers_page, "Detention centres (1)")
    assert "Sun Tue, 09:00-12:00" in str(centre[3])
    assert "restricted" in str(centre[3])
    assert "health (never delivered)" in str(centre[3])


def test_text_from_the_data_is_escaped(layers_page: Page) -> None:
    """A name with markup or template code shows as text: escaped in the popup, never raw in
    the page, never run as a template."""
    alpha = str(by_title(layers_page, "Gathering points (3)")[TRICKY_NAME][3])
    assert (
        "Alpha &lt;b&gt;camp&lt;/b&gt; &amp; &quot;co&quot; &#123;&#123; 7*7 &#125;&#125;" in alpha
    )
    assert not layers_page.root.find_all("b")
    scripts = [n for n in layers_page.root.find_all("script") if "gp-data" not in n.classes]
    assert not [n for n in scripts if "alert(1)" in n.text]
    assert "&quot;co&quot; 49" not in layers_page.html


def test_legend_lists_places_status_and_areas(layers_page: Page) -> None:
    """The legend explains every shape, every status colour and the area styles."""
    legend = layers_page.legend()
    assert legend["Places"] == [
        "Gathering points",
        "Detention centres",
        "Clinics",
        "team base (team colour)",
    ]
    assert legend["Status"] == [
        "up to date",
        "overdue 1-7 days",
        "overdue 8-30 days",
        "overdue over 30 days",
        "a needed service never delivered",
        "inaccessible",
        "restricted access",
    ]
    assert legend["Areas"] == ["admin boundary", "no-go zone closed on 10 Mar 2026"]


def test_title_block_has_date_and_sensitive_note(layers_page: Page) -> None:
    """Title, date, and a do-not-share note naming the sensitive layers shown."""
    title = layers_page.title_block()
    assert "Layers" in title
    assert "Tuesday 10 March 2026" in title
    assert "do not share" in title
    assert "detention centres, gathering points" in title
    assert "<title>Layers \u2014 Tuesday 10 March 2026</title>" in layers_page.html


def test_a_map_without_sensitive_layers_has_no_note() -> None:
    """Clinics alone are public facilities: no do-not-share note."""
    only = {"clinics": frames()["clinics"]}
    page = Page.parse(maps.render_map(maps.layers_map(only, day=TODAY)))
    assert "do not share" not in page.title_block()


def test_map_has_scale_bar_full_screen_measuring_and_print_styles(layers_page: Page) -> None:
    """Scale bar, full-screen button, measuring tool, and one A4 landscape page in print."""
    html = layers_page.html
    assert "L.control.scale()" in html
    assert "L.control.fullscreen(" in html
    assert "new L.Control.Measure(" in html
    assert '"primaryLengthUnit": "kilometers"' in html
    assert "@page { size: A4 landscape; margin: 8mm; }" in html
    assert re.search(r"@media print \{.*\.leaflet-control-layers", html, re.S)
    assert 'addEventListener("beforeprint"' in html


def test_no_go_zones_are_hatched_when_closed(layers_page: Page) -> None:
    """The zone closed on the day is filled with the hatch pattern; the other is an outline."""
    (closed,) = layers_page.data()["No-go zones closed on 10 Mar 2026 (1)"]["geojson"]["features"]  # type: ignore[index]
    (other,) = layers_page.data()["No-go zones on other dates (1)"]["geojson"]["features"]  # type: ignore[index]
    assert closed["properties"]["style"]["fillColor"] == "url(#gp-hatch)"
    assert "Checkpoint belt" in closed["properties"]["popup"]
    assert other["properties"]["style"]["dashArray"] == "4 4"
    assert '<pattern id="gp-hatch"' in layers_page.html


def test_assets_are_embedded_so_the_map_opens_offline(layers_page: Page) -> None:
    """Every script and style sheet is in the page: nothing is fetched but tiles."""
    assert not layers_page.root.find_all("link")
    assert all("src" not in s.attrs for s in layers_page.root.find_all("script"))
    assert "leaflet-1.9.4/leaflet.js" in layers_page.html
    assert "url(images/" not in layers_page.html  # style-sheet images became data URIs
    assert "https://tile.openstreetmap.org" not in layers_page.html  # offline by default
    online = maps.render_map(maps.layers_map(frames(), day=TODAY, tiles=True))
    assert "https://tile.openstreetmap.org" in online  # only when asked for


def test_online_assets_link_the_same_versions_from_the_cdn() -> None:
    """With inline=False the page links the vendored versions on jsDelivr instead."""
    page = Page.parse(maps.render_map(maps.layers_map(frames(), day=TODAY), inline=False))
    linked = {s.attrs["src"] for s in page.root.find_all("script") if "src" in s.attrs}
    linked |= {link.attrs["href"] for link in page.root.find_all("link")}
    assert linked <= {a.url for a in ASSETS}
    assert all(a.url in linked for a in ASSETS if "markercluster" not in a.key)


def test_vendored_assets_and_licences_are_present() -> None:
    """Each vendored package ships its files and its licence."""
    static = Path(maps.__file__).parent / "static"
    for asset in ASSETS:
        assert (static / asset.path).is_file(), asset.path
        assert (static / asset.path.split("/")[0] / "LICENSE").is_file()


def test_plain_background_still_draws_every_layer(layers_page: Page) -> None:
    """Without tiles: no tile layer, a plain background, the same toggles and features."""
    plain = Page.parse(maps.render_map(maps.layers_map(frames(), day=TODAY, tiles=False)))
    assert "{background:#eef0ec}" in layers_page.html  # no base map given: plain
    assert "tile.openstreetmap" not in plain.html
    assert "{background:#eef0ec}" in plain.html
    assert plain.overlays() == layers_page.overlays()
    assert plain.data().keys() == layers_page.data().keys()


def test_many_points_are_clustered() -> None:
    """Above the threshold a layer's points go into a marker cluster."""
    m = maps.base_map("Clustered", day=TODAY)
    maps.add_layers(m, frames(), day=TODAY, cluster_above=2)
    html = maps.render_map(m)
    assert html.count("L.markerClusterGroup(") == 1
    assert '"disableClusteringAtZoom": 15' in html


def test_builders_need_a_base_map() -> None:
    """A plain folium map has no title block or legend to fill: a clear error."""
    with pytest.raises(ParameterError, match="base_map"):
        maps.add_layers(folium.Map(), frames(), day=TODAY)


# --- the coverage map -------------------------------------------------------------------------


def test_coverage_map_toggles(coverage_page: Page, coverage_result: object) -> None:
    """Choropleth, reach area, clinics, bases, sites within and out of reach: one toggle each."""
    sites = coverage_result.sites  # type: ignore[attr-defined]
    out = int((~sites["covered"].astype(bool)).sum())
    names = coverage_page.overlays()
    assert "People out of reach per admin area (1)" in names
    assert "Within 30 min of a clinic or base (1)" in names
    assert f"Sites out of reach ({out})" in names
    assert f"Sites within reach ({len(sites) - out})" in names
    assert "Clinics (1)" in names
    assert "Team bases (1)" in names


def test_out_of_reach_sites_are_ringed(coverage_page: Page, coverage_result: object) -> None:
    """Sites beyond the threshold carry the red ring and their gap reasons."""
    sites = coverage_result.sites  # type: ignore[attr-defined]
    far = sites.loc[~sites["covered"].astype(bool)]
    assert len(far)
    name = f"Sites out of reach ({len(far)})"
    for point in points_of(coverage_page, name):
        assert "gp-gap" in style_of(coverage_page, name, point)
        assert "no clinic or base" in str(point[3])


def test_coverage_legend_has_the_colour_scale(coverage_page: Page, coverage_result: object) -> None:
    """The choropleth's classes are in the legend, with the reach note."""
    legend = coverage_page.legend()
    scale = legend["People out of reach per admin area"]
    area = coverage_result.admin  # type: ignore[attr-defined]
    top = int(area["people_not_covered"].max())
    assert scale[0] == "none"
    assert len(scale) == 1 + len(CHOROPLETH)
    assert int(scale[-1].split("-")[-1].replace(",", "")) >= top
    assert "Within 30 min of a clinic or base" in legend["Reach"]
    assert "30 min at 30 km/h, detour factor 1.3" in coverage_page.html


def _points(frame: gpd.GeoDataFrame) -> Points:
    return points_from_frame(frame, name="points")


def test_reach_area_radius_is_threshold_times_speed_over_detour() -> None:
    """30 min at 30 km/h with detour 1.5 is a 10 km circle: about 314 km2."""
    point = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.Point(13.0, 32.9)], crs=4326)
    params = StraightLineParams(detour_factor=1.5, speed_kmh=30)
    area = (
        StraightLineBackend(params)
        .reach_area(_points(point), 30, no_closures(), places=_points(point))
        .geometry
    )
    km2 = gpd.GeoSeries([area], crs=4326).to_crs(point.estimate_utm_crs()).area.iloc[0] / 1e6
    assert km2 == pytest.approx(math.pi * 100, rel=0.01)


def test_reach_area_leaves_out_closed_zones() -> None:
    """An active no-go zone inside the circle is cut out of the reachable area."""
    point = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.Point(13.55, 32.85)], crs=4326)
    zones = active_zones(frames()["no_go_zones"], on=TODAY)
    area = (
        StraightLineBackend().reach_area(_points(point), 30, zones, places=_points(point)).geometry
    )
    assert area is not None
    assert not area.contains(shapely.Point(13.55, 32.85))
    assert area.contains(shapely.Point(13.45, 32.85))


def test_road_reach_follows_the_roads(fixtures: Path, tmp_path: Path) -> None:
    """From node 1, one minute reaches nodes 2 (32 s) and 5 (30 s), not 3 or the east part;
    the area is those road segments widened by 250 m."""
    network = read_network(fixtures / "roads_bridge_shortcut.osm", cache_dir=tmp_path)
    base = gpd.GeoDataFrame({"id": ["b"]}, geometry=[shapely.Point(0.0, 0.0)], crs=4326)
    area = road_reach_area(network, _points(base), minutes=1)
    assert area is not None
    assert area.contains(shapely.Point(0.002, 0.0))  # node 2
    assert area.contains(shapely.Point(0.0, 0.003))  # node 5
    assert not area.contains(shapely.Point(0.004, 0.003))  # node 6: 70 s
    assert not area.contains(shapely.Point(0.008, 0.0))  # node 8, over the bridge
    longer = road_reach_area(network, _points(base), minutes=3)
    assert longer is not None
    assert longer.contains(shapely.Point(0.008, 0.0))


def test_coverage_map_reach_along_roads(fixtures: Path, tmp_path: Path) -> None:
    """With a network the reach layer says it follows the roads."""
    network = read_network(fixtures / "roads_bridge_shortcut.osm", cache_dir=tmp_path)
    result = coverage_from_layers(CoverageLayers.from_frames(frames()), today=TODAY)
    near = frames()
    teams = gpd.GeoDataFrame(near["teams"])
    near["teams"] = teams.set_geometry(gpd.GeoSeries([shapely.Point(0, 0)], crs=4326))
    reach = coverage_reach(result, near, RoadNetworkBackend(network))
    page = Page.parse(maps.render_map(maps.coverage_map(result, near, reach=reach)))
    assert "Within 30 min of a clinic or base (1)" in page.overlays()
    assert "Along roads: road segments from which" in page.html


# --- the plan map -----------------------------------------------------------------------------


def test_plan_map_has_a_toggle_per_team_and_a_day_switcher(plan_page: Page) -> None:
    """Teams are toggles named with their visits (names escaped); days are switcher buttons
    (each working day with routes, then the whole week), and the plan opens on the first."""
    names = plan_page.overlays()
    assert "Team: Team One (3 visits)" in names
    assert "Team: Team &lt;Two&gt; &#123;&#123; 7*7 &#125;&#125; (1 visits)" in names
    assert "Team &lt;Two&gt; 49" not in plan_page.html
    assert not any(n.startswith("Day:") for n in names)
    buttons = [(b.attrs["data-day"], b.text) for b in plan_page.root.find_all("button", "gp-day")]
    assert buttons == [("2026-03-15", "Sun 15"), ("2026-03-16", "Mon 16"), ("week", "Whole week")]
    assert plan_page.data()["Routes"]["firstDay"] == "2026-03-15"
    assert "Left out sites (2)" in names


def test_routes_in_team_colours_with_numbered_stops(plan_page: Page) -> None:
    """One route per team-day in the team's colour, base to base; stops numbered with times."""
    routes = plan_page.data()["Routes"]["routes"]
    assert len(routes) == 3  # type: ignore[arg-type]
    first = routes[0]  # type: ignore[index]
    assert (first["team"], first["day"], first["colour"]) == ("T-1", "2026-03-15", "#123456")
    assert first["coords"][0] == first["coords"][-1] == [32.9, 13.0]
    assert len(first["coords"]) == 4
    labels = [s[5] for s in first["stops"]]
    assert labels == [
        '1<span class="gp-stop-t">08:10</span>',
        '2<span class="gp-stop-t">08:20</span>',
    ]
    assert "Arrive</th><td>08:10" in first["stops"][0][3]
    assert "10 (men 4, women 3, boys 2, girls 1)" in first["stops"][0][3]
    assert routes[2]["colour"] != "#123456"  # type: ignore[index]


def test_left_out_sites_say_why(plan_page: Page) -> None:
    """Each left-out site has a marker coloured by reason and a popup with the reason."""
    points = {p[4]: p for p in points_of(plan_page, "Left out sites (2)")}
    assert "inaccessible: Site GP-3 is marked inaccessible" in str(points["Site GP-3"][3])
    assert "left out for higher-priority tasks" in str(points["Site GP-2"][3])
    legend = plan_page.legend()["Left out: 2 tasks at 2 sites"]
    assert sorted(legend) == [
        "inaccessible: 1 task at 1 site",
        "left out for higher-priority tasks: 1 task at 1 site",
    ]


def test_plan_title_names_the_week_and_its_sensitivity(plan_page: Page) -> None:
    """The week in the title block; stops at detention centres make it sensitive."""
    title = plan_page.title_block()
    assert "Week Sun 15 Mar - Thu 19 Mar 2026" in title
    assert "detention centres, gathering points" in title
    assert plan_page.legend()["Teams"] == ["Team One", "Team <Two> {{ 7*7 }}"]


def test_routes_follow_roads_with_a_network(fixtures: Path, tmp_path: Path) -> None:
    """With a road network the line runs through road nodes, not straight to the stop."""
    network = read_network(fixtures / "roads_bridge_shortcut.osm", cache_dir=tmp_path)
    plan = week_plan()
    stop = plan.routes[0].stops[0]
    stop = replace(stop, task=replace(stop.task, lon=0.004, lat=0.003))  # at road node 6
    route = replace(plan.routes[0], stops=(stop,))
    plan = replace(plan, routes=(route,), base_positions={"T-1": (0.0, 0.0)})  # node 1
    m = maps.base_map("Roads", day=WEEK[0])
    maps.add_plan(m, plan, lines=route_lines(plan, RoadNetworkBackend(network), zones=None))
    routes = Page.parse(maps.render_map(m)).data()["Routes"]["routes"]
    assert isinstance(routes, list)
    coords = [tuple(c) for c in routes[0]["coords"]]
    nodes = {(round(y, 4), round(x, 4)) for x, y in zip(network.lon, network.lat, strict=True)}
    assert len(coords) > 3
    assert set(coords) <= nodes
    assert "along roads" in routes[0]["popup"]


# --- from a workspace, and the pieces ---------------------------------------------------------


def test_layers_map_from_a_workspace(tmp_path: Path) -> None:
    """map_from_store reads the workspace and draws the same layers map."""
    store = open_store(tmp_path / "ws.gpkg")
    for name, frame in frames().items():
        if len(frame):
            store.upsert(name, frame)
    m = map_from_store("layers", store, request=MapRequest(day=TODAY, tiles=False))
    page = Page.parse(maps.render_map(m))
    assert "Gathering points (3)" in page.overlays()
    with pytest.raises(ParameterError, match="layers, coverage, plan"):
        map_from_store("heatmap", store)


def test_write_maps_writes_what_it_is_given(tmp_path: Path) -> None:
    """layers.html always; plan.html when given a plan; each a whole page."""
    paths = maps.write_maps(tmp_path / "maps", frames(), day=TODAY, plan=week_plan())
    assert sorted(paths) == ["layers", "plan", "plan_grid"]
    for path in paths.values():
        assert path.read_text(encoding="utf-8").rstrip().endswith("</html>")


def test_overdue_scale_and_class_breaks() -> None:
    """The red scale's bins, and round class breaks that cover the maximum."""
    assert overdue_colour(0, never=False) is None
    assert overdue_colour(7, never=False) == ("#fcbba1", "overdue 1-7 days")
    assert overdue_colour(31, never=False) == ("#cb181d", "overdue over 30 days")
    assert overdue_colour(None, never=True) == (NEVER_COLOUR, "a needed service never delivered")
    assert class_breaks(687) == [150, 300, 450, 600, 750]
    assert class_breaks(3) == [1, 2, 3, 4, 5]
    assert class_breaks(0) == []
    assert choropleth_colour(0, [10]) == "#f5f5f5"
    assert choropleth_colour(151, [150, 300]) == CHOROPLETH[1]


def test_team_colour_and_page_json() -> None:
    """Valid team colours are kept, others fall back to the palette; JSON cannot end a script."""
    assert team_colour("#ABCDEF", 0) == "#abcdef"
    assert team_colour("red", 1) == team_colour(None, 1) != team_colour(None, 2)
    text = page_json({"name": "</script><!--"})
    assert "</" not in text
    assert "<!--" not in text
    assert json.loads(text) == {"name": "</script><!--"}
