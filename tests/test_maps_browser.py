"""The demo's maps in a real headless Chromium, offline: no JavaScript errors and no request
to any host, the base map drawn (its share of the map's pixels measured), the expected markers
and route lines, the plan's day switcher and panel (checked against ``schedule.csv``), working
toggles, popups and measuring tool, phone-sized screens, and one A4 or A3 page when printed
with the data filling it. Screenshots are kept in tests/artefacts/."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from geoplan.coverage import CoverageResult, coverage_from_layers
from geoplan.demo.scenario import build_demo_workspace, demo_basemap
from geoplan.maps import Paper, write_maps
from geoplan.planning import WeekPlan
from geoplan.schedules import write_schedules
from geoplan.store import open_store
from geoplan.workspace import coverage_layers, plan_week_from_store, read_frames

pytestmark = pytest.mark.browser

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
TODAY = dt.date(2025, 3, 12)


@dataclass(frozen=True)
class DemoMaps:
    """The three maps ``geoplan demo`` writes, and what went into them."""

    paths: dict[str, Path]
    a3: dict[str, Path]
    schedule: Path
    sites: int
    clinics: int
    bases: int
    coverage: CoverageResult
    plan: WeekPlan


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoMaps:
    """The demo workspace (seed 7), its coverage and a one-second plan, drawn as the demo does."""
    folder = tmp_path_factory.mktemp("demo")
    build_demo_workspace(folder / "geoplan.gpkg", seed=7, today=TODAY)
    store = open_store(folder / "geoplan.gpkg")
    coverage = coverage_from_layers(coverage_layers(store), today=TODAY)
    plan = plan_week_from_store(store, today=TODAY, seed=7, time_limit=1)
    frames = read_frames(store)
    basemap = demo_basemap()
    maps = {"frames": frames, "day": TODAY, "coverage": coverage, "plan": plan, "basemap": basemap}
    paths = write_maps(folder / "maps", **maps)  # type: ignore[arg-type]
    a3 = write_maps(folder / "a3", **maps, paper=Paper("A3"))  # type: ignore[arg-type]
    write_schedules(plan, folder / "schedules", formats=["csv", "html"])
    sites = sum(len(frames[n]) for n in ("gathering_points", "detention_centres", "cip_sites"))
    return DemoMaps(
        paths,
        a3,
        folder / "schedules",
        sites,
        len(frames["clinics"]),
        len(frames["teams"]),
        coverage,
        plan,
    )


@dataclass
class Opened:
    """A map open in a page, with what the page complained about and what it tried to fetch."""

    page: Any
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def count(self, selector: str) -> int:
        return int(self.page.locator(selector).count())


@contextmanager
def open_map(browser: Any, path: Path, *, width: int = 1400, height: int = 900) -> Iterator[Opened]:
    """Open a map file with every request that is not a local file aborted (no network)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    opened = Opened(page)

    def on_console(message: Any) -> None:
        if message.type in ("error", "warning"):
            opened.errors.append(f"{message.type}: {message.text} ({message.location})")

    def on_request(route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            opened.blocked.append(route.request.url)
            route.abort()

    page.on("console", on_console)
    page.on("pageerror", lambda error: opened.errors.append(f"page error: {error}"))
    page.route("**/*", on_request)
    page.goto(path.as_uri())
    page.wait_for_function("window.geoplan && window.geoplan.ready", timeout=15_000)
    yield opened
    page.close()


@pytest.fixture(params=["layers", "coverage", "plan"])
def opened(request: pytest.FixtureRequest, browser: Any, demo: DemoMaps) -> Iterator[Opened]:
    """Each demo map, open."""
    with open_map(browser, demo.paths[request.param]) as opened:
        yield opened


@pytest.fixture
def plan_page(browser: Any, demo: DemoMaps) -> Iterator[Opened]:
    """The plan map, open."""
    with open_map(browser, demo.paths["plan"]) as opened:
        yield opened


def test_maps_run_offline_without_javascript_errors(opened: Opened) -> None:
    """No console error or warning, no page error, and not one request to another host: the
    base map is in the file, and no tile server learns where the map looks."""
    assert opened.errors == []
    assert opened.blocked == []


def test_the_base_map_is_drawn_with_place_names(opened: Opened) -> None:
    """The coast and boundaries on a canvas under the data, town names above it, and the
    base map's sources credited in the corner."""
    page = opened.page
    assert page.locator(".leaflet-gpBase-pane canvas").count() == 1
    names = page.locator(".gp-place").all_inner_texts()
    assert len(names) >= 5
    assert "Tripoli" in names
    credit = page.locator(".leaflet-control-attribution").inner_text()
    assert "OpenStreetMap contributors" in credit
    assert "geoBoundaries" in credit


def test_layers_map_shows_every_site_and_base(browser: Any, demo: DemoMaps) -> None:
    """Every site, clinic and base is a marker in the page."""
    with open_map(browser, demo.paths["layers"]) as opened:
        assert opened.count(".gp-site") == demo.sites + demo.clinics + demo.bases
        assert opened.count("path.leaflet-interactive") >= 1  # the active no-go zone


def test_coverage_map_shows_sites_and_proposals(browser: Any, demo: DemoMaps) -> None:
    """Each analysed site, clinic and base is a marker; proposed stops are stars."""
    sites = demo.coverage.sites
    out = int((~sites["covered"].astype(bool)).sum())
    proposals = len(demo.coverage.siting.choices) if demo.coverage.siting is not None else 0
    with open_map(browser, demo.paths["coverage"]) as opened:
        assert opened.count(".gp-site") == len(sites) + demo.clinics + demo.bases
        assert opened.count(".gp-site .gp-gap") == out
        assert opened.count(".gp-proposal") == proposals


def test_plan_map_shows_routes_stops_and_left_out(plan_page: Opened, demo: DemoMaps) -> None:
    """For the whole week: one line per team-day with stops, one numbered marker per stop, one
    per left-out site."""
    routes = [r for r in demo.plan.routes if r.stops]
    left_out = demo.plan.left_out_frame()["site_id"].nunique()
    plan_page.page.click(".gp-day[data-day='week']")
    assert plan_page.count("path.gp-route") == len(routes)
    assert plan_page.count(".gp-stop") == len(demo.plan.stops)
    assert plan_page.count(".gp-left-out") == left_out
    first = routes[0].stops[0]
    label = plan_page.page.locator(".gp-stop").first.inner_text()
    assert label.split() == [str(first.order), f"{first.arrival:%H:%M}"]


def test_the_plan_opens_on_one_day_and_the_switcher_changes_it(
    plan_page: Opened, demo: DemoMaps
) -> None:
    """The plan opens on its first day; each day's button shows that day's routes and stops,
    "Whole week" all of them; unticking a team hides its routes."""
    routes = [r for r in demo.plan.routes if r.stops]
    days = sorted({r.day for r in routes})
    page = plan_page.page

    def shown(day: dt.date | None, *, without: str = "") -> tuple[int, int]:
        chosen = [r for r in routes if (day is None or r.day == day) and r.team_id != without]
        return len(chosen), sum(len(r.stops) for r in chosen)

    assert (plan_page.count("path.gp-route"), plan_page.count(".gp-stop")) == shown(days[0])
    assert shown(days[0])[0] < len(routes)
    for day in days:
        page.click(f".gp-day[data-day='{day.isoformat()}']")
        assert (plan_page.count("path.gp-route"), plan_page.count(".gp-stop")) == shown(day)
        assert page.locator(".gp-day.gp-on").inner_text() == f"{day:%a %d}"
    page.click(".gp-day[data-day='week']")
    assert plan_page.count("path.gp-route") == len(routes)
    team, name = routes[0].team_id, routes[0].team_name
    page.get_by_label(re.compile(f"Team: {re.escape(name)} ")).uncheck()
    assert plan_page.count("path.gp-route") == shown(None, without=team)[0]
    page.get_by_label(re.compile(f"Team: {re.escape(name)} ")).check()
    assert plan_page.count("path.gp-route") == len(routes)
    assert plan_page.errors == []


def test_stops_are_numbered_per_team_day(plan_page: Opened, demo: DemoMaps) -> None:
    """On one day, each team's stops are numbered 1, 2, 3... once: no two stops "1" in a
    team's colour."""
    page = plan_page.page
    first = min(r.day for r in demo.plan.routes if r.stops)
    page.click(f".gp-day[data-day='{first.isoformat()}']")
    labels = page.locator(".gp-stop .gp-stop-n").evaluate_all(
        "els => els.map(e => [e.style.getPropertyValue('--c'), e.firstChild.textContent])"
    )
    assert len(labels) == len(set(map(tuple, labels)))
    teams = {r.team_id for r in demo.plan.routes if r.day == first and r.stops}
    assert sum(1 for _, n in labels if n == "1") == len(teams)


def test_the_panel_totals_equal_the_schedule(plan_page: Opened, demo: DemoMaps) -> None:
    """Each team-day cell of the panel, and its totals, count the stops of schedule.csv and
    the people expected at each team-day's sites."""
    schedule = pd.read_csv(demo.schedule / "schedule.csv")
    page = plan_page.page
    page.click(".gp-day[data-day='week']")
    cells = page.locator(".gp-panel .gp-grid td[data-day]").evaluate_all(
        "els => els.map(e => [e.closest('tr').dataset.team || 'all', e.dataset.day,"
        " +e.dataset.stops, +e.dataset.people])"
    )
    sites = schedule.drop_duplicates(["team_id", "date", "site_id"])
    for team, day, stops, people in cells:
        rows = schedule
        at = sites
        if team != "all":
            rows, at = rows.loc[rows["team_id"] == team], at.loc[at["team_id"] == team]
        if day != "week":
            rows, at = rows.loc[rows["date"] == day], at.loc[at["date"] == day]
        assert stops == len(rows), (team, day)
        assert people == int(at["people"].sum()), (team, day)
    total = page.locator(".gp-panel tr.gp-total td[data-day='week']")
    assert int(total.get_attribute("data-stops")) == len(schedule)


def test_a_stop_opens_its_popup(plan_page: Opened, demo: DemoMaps) -> None:
    """Clicking a numbered stop shows the site, the service and the arrival time."""
    first = next(r for r in demo.plan.routes if r.stops).stops[0]
    plan_page.page.locator(".gp-stop").first.dispatch_event("click")  # stops may overlap
    popup = plan_page.page.locator(".leaflet-popup-content").inner_text()
    assert first.task.site_name in popup
    assert f"Arrive\t{first.arrival:%H:%M}" in popup


def test_the_measuring_tool_measures(browser: Any, demo: DemoMaps) -> None:
    """Three clicks measure an area and its perimeter in kilometres, without errors."""
    with open_map(browser, demo.paths["layers"]) as opened:
        page = opened.page
        page.hover(".leaflet-control-measure")
        page.click(".js-start")
        for x, y in ((500, 500), (700, 520), (700, 640)):
            page.mouse.click(x, y)
        page.click(".js-finish")
        result = page.locator(".leaflet-popup-content").inner_text()
        assert "Kilometers" in result
        assert "Hectares" in result
        assert opened.errors == []


def test_the_map_area_is_drawn_not_grey(opened: Opened, request: pytest.FixtureRequest) -> None:
    """At least 20 % of the map area differs from its dominant colour (the base map's land and
    sea, roads and names, and the data); screenshots kept as artefacts."""
    from PIL import Image

    kind = request.node.callspec.params["opened"]
    ARTEFACTS.mkdir(exist_ok=True)
    path = ARTEFACTS / f"map_{kind}.png"
    opened.page.locator(".folium-map").screenshot(path=str(path))
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB")).reshape(-1, 3).astype(np.uint32)
    packed = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    colours, counts = np.unique(packed, return_counts=True)
    drawn = 1 - counts.max() / counts.sum()  # share of pixels that are not the dominant colour
    assert len(colours) > 200
    assert drawn >= 0.20


_COVERED = """() => {
  const map = document.querySelector('.folium-map').getBoundingClientRect();
  const controls = '.leaflet-control, .gp-title, .gp-legend, .gp-panel';
  let free = 0, all = 0;
  for (let x = map.left + 2; x < map.right; x += 6) {
    for (let y = map.top + 2; y < map.bottom; y += 6) {
      all += 1;
      const el = document.elementFromPoint(x, y);
      if (!el || !el.closest(controls)) free += 1;
    }
  }
  return free / all;
}"""


@pytest.mark.parametrize("kind", ["layers", "coverage", "plan"])
def test_on_a_phone_the_controls_fold_away(browser: Any, demo: DemoMaps, kind: str) -> None:
    """At 390 x 844 the legend, panels and layer control start as buttons, leaving at least
    70 % of the map in view; a tap opens the layer control."""
    with open_map(browser, demo.paths[kind], width=390, height=844) as opened:
        page = opened.page
        ARTEFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / f"map_{kind}_phone.png"))
        assert page.evaluate(_COVERED) >= 0.70
        assert not page.locator(".leaflet-control-layers-list").is_visible()
        assert page.locator(".gp-legend").get_attribute("open") is None
        page.click(".leaflet-control-layers-toggle")
        assert page.locator(".leaflet-control-layers-list").is_visible()
        assert opened.errors == []


def test_team_day_pages_read_on_a_phone(browser: Any, demo: DemoMaps) -> None:
    """A printed team-day page at phone width: no sideways scrolling, stops as cards, text at
    least 12 px."""
    page_path = next(p for p in (demo.schedule / "html").glob("*.html") if p.name != "index.html")
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(page_path.as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('td')).fontSize)")
    assert size >= 12
    assert not page.locator("thead").is_visible()
    page.screenshot(path=str(ARTEFACTS / "team_day_phone.png"), full_page=True)
    page.close()


_DATA_BOX = """() => {
  const map = document.querySelector('.folium-map').getBoundingClientRect();
  const els = document.querySelectorAll(
    '.leaflet-overlay-pane path.leaflet-interactive, .leaflet-marker-pane .gp-icon');
  let l = Infinity, t = Infinity, r = -Infinity, b = -Infinity;
  els.forEach(e => {
    const box = e.getBoundingClientRect();
    if (!box.width && !box.height) return;
    l = Math.min(l, box.left); t = Math.min(t, box.top);
    r = Math.max(r, box.right); b = Math.max(b, box.bottom);
  });
  l = Math.max(l, map.left); t = Math.max(t, map.top);
  r = Math.min(r, map.right); b = Math.min(b, map.bottom);
  return [(r - l) / map.width, (b - t) / map.height];
}"""
PAGE_POINTS = {"A4": (842, 595), "A3": (1191, 842)}


@pytest.mark.parametrize("paper", ["A4", "A3"])
@pytest.mark.parametrize("kind", ["layers", "coverage", "plan"])
def test_prints_on_one_page_that_the_data_fills(
    browser: Any, demo: DemoMaps, kind: str, paper: str
) -> None:
    """In print the controls are hidden; title, legend, north arrow and overview inset stay;
    the data fills at least 60 % of the printable width or height; it is one landscape page
    of the paper asked for."""
    path = (demo.paths if paper == "A4" else demo.a3)[kind]
    with open_map(browser, path) as opened:
        page = opened.page
        page.emulate_media(media="print")
        page.wait_for_timeout(200)
        assert not page.locator(".leaflet-control-layers").is_visible()
        assert not page.locator(".leaflet-control-zoom").is_visible()
        for furniture in (".gp-title", ".gp-legend", ".gp-north", ".gp-inset"):
            assert page.locator(furniture).is_visible(), furniture
        width, height = page.evaluate(_DATA_BOX)
        assert max(width, height) >= 0.60, (width, height)
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        (ARTEFACTS / f"map_{kind}_{paper}.pdf").write_bytes(pdf)
        pages = re.findall(rb"/Type\s*/Page[^s]", pdf)
        box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        assert len(pages) == 1
        assert box is not None
        assert (round(float(box[1])), round(float(box[2]))) == PAGE_POINTS[paper]
        assert opened.errors == []


def test_a_clustered_map_opens_without_tiles(browser: Any, demo: DemoMaps, tmp_path: Path) -> None:
    """Marker clusters need the map's closest zoom, which tiles used to give: without tiles
    a clustered layer still draws (a big operation's map is clustered)."""
    from geoplan import maps

    store = open_store(demo.paths["layers"].parent.parent / "geoplan.gpkg")
    frames = read_frames(store)
    m = maps.base_map("Clustered", day=TODAY, basemap=demo_basemap())
    maps.add_layers(m, frames, day=TODAY, cluster_above=2)
    path = maps.save_map(m, tmp_path / "clustered.html")
    with open_map(browser, path) as opened:
        assert opened.count(".gp-cluster") >= 1
        assert opened.errors == []
