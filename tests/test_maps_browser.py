"""The demo's maps in a real headless Chromium, offline: no JavaScript errors, the expected
markers and route lines in the page, working toggles, popups and measuring tool, a screenshot
that is not blank (kept in tests/artefacts/), and one A4 landscape page when printed."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from geoplan.coverage import CoverageResult, coverage_from_layers
from geoplan.demo.scenario import build_demo_workspace
from geoplan.maps import write_maps
from geoplan.planning import WeekPlan
from geoplan.store import open_store
from geoplan.workspace import coverage_layers, plan_week_from_store, read_frames

pytestmark = pytest.mark.browser

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
TODAY = dt.date(2025, 3, 12)
TILES = "https://tile.openstreetmap.org/"


@dataclass(frozen=True)
class DemoMaps:
    """The three maps ``geoplan demo`` writes, and what went into them."""

    paths: dict[str, Path]
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
    paths = write_maps(folder / "maps", frames, day=TODAY, coverage=coverage, plan=plan)
    sites = sum(len(frames[n]) for n in ("gathering_points", "detention_centres", "cip_sites"))
    return DemoMaps(paths, sites, len(frames["clinics"]), len(frames["teams"]), coverage, plan)


@dataclass
class Opened:
    """A map open in a page, with what the page complained about and what it tried to fetch."""

    page: Any
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def count(self, selector: str) -> int:
        return int(self.page.locator(selector).count())


@contextmanager
def open_map(browser: Any, path: Path) -> Iterator[Opened]:
    """Open a map file with every request that is not a local file aborted (no network)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    opened = Opened(page)

    def on_console(message: Any) -> None:
        tile_failure = message.location.get("url", "").startswith(TILES)
        if message.type in ("error", "warning") and not tile_failure:
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
    """No console error or warning, no page error; the only requests are map tiles."""
    assert opened.errors == []
    assert all(url.startswith(TILES) for url in opened.blocked)


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
    """One line per team-day with stops, one numbered marker per stop, one per left-out site."""
    routes = [r for r in demo.plan.routes if r.stops]
    left_out = demo.plan.left_out_frame()["site_id"].nunique()
    assert plan_page.count("path.gp-route") == len(routes)
    assert plan_page.count(".gp-stop") == len(demo.plan.stops)
    assert plan_page.count(".gp-left-out") == left_out
    first = routes[0].stops[0]
    label = plan_page.page.locator(".gp-stop").first.inner_text()
    assert label.split() == [str(first.order), f"{first.arrival:%H:%M}"]


def test_team_and_day_toggles_hide_their_routes(plan_page: Opened, demo: DemoMaps) -> None:
    """Unticking a team hides its routes and stops; unticking a day hides that day's."""
    routes = [r for r in demo.plan.routes if r.stops]
    team, day = routes[0].team_id, routes[0].day
    team_name = routes[0].team_name
    page = plan_page.page
    page.get_by_label(re.compile(f"Team: {re.escape(team_name)} ")).uncheck()
    assert plan_page.count(".gp-stop") == sum(len(r.stops) for r in routes if r.team_id != team)
    assert plan_page.count("path.gp-route") == sum(1 for r in routes if r.team_id != team)
    page.get_by_label(re.compile(f"Day: {day:%a %d %b} ")).uncheck()
    left = [r for r in routes if r.team_id != team and r.day != day]
    assert plan_page.count("path.gp-route") == len(left)
    page.get_by_label(re.compile(f"Team: {re.escape(team_name)} ")).check()
    page.get_by_label(re.compile(f"Day: {day:%a %d %b} ")).check()
    assert plan_page.count("path.gp-route") == len(routes)
    assert plan_page.errors == []


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


def test_screenshot_is_not_blank(opened: Opened, request: pytest.FixtureRequest) -> None:
    """The drawn map has many colours and much more than the background; kept as an artefact."""
    from PIL import Image

    kind = request.node.callspec.params["opened"]
    ARTEFACTS.mkdir(exist_ok=True)
    path = ARTEFACTS / f"map_{kind}.png"
    opened.page.screenshot(path=str(path))
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB")).reshape(-1, 3).astype(np.uint32)
    packed = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    colours, counts = np.unique(packed, return_counts=True)
    drawn = 1 - counts.max() / counts.sum()  # share of pixels that are not the background
    assert len(colours) > 200
    assert drawn > 0.05


def test_prints_on_one_a4_landscape_page(opened: Opened) -> None:
    """In print the controls are hidden, the title and legend stay, and it is one A4 page."""
    page = opened.page
    page.emulate_media(media="print")
    assert not page.locator(".leaflet-control-layers").is_visible()
    assert not page.locator(".leaflet-control-zoom").is_visible()
    assert page.locator(".gp-title").is_visible()
    assert page.locator(".gp-legend").is_visible()
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    pages = re.findall(rb"/Type\s*/Page[^s]", pdf)
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert len(pages) == 1
    assert box is not None
    assert (round(float(box[1])), round(float(box[2]))) == (842, 595)  # A4 landscape, points
