"""Speed and size of an HTML map at the size of a large operation.

Anchors (issue 6): a map of 5,000 sites and 40 routes is built within 3 s, weighs less than
5 MB, and is idle in headless Chromium within 3 s of being opened.

The layers come from the demo generator (5,000 gathering points plus the scenario's detention
centres, clinics, CIP sites, no-go zones and visits); three teams are added beside the
scenario's five so that eight teams working five days give 40 team-day routes, planned for
real by PyVRP on the sites nearest the bases (planning is not timed). The map is the layers
map with the week's plan on top: every site with its status and popup, bases, no-go zones,
routes with numbered stops, left-out sites, on the offline base map (issue 19: the demo's
own, or ``--basemap FILE``), and the same map without a base map as the peer in the same run.
*Build* is from the layers in memory to the HTML file written, Leaflet and the base map
embedded; *idle* is from asking Chromium to open the file (every request but the file itself
aborted) until the page has drawn everything and the browser reports an idle period; the
plan opens on its first day, and the whole week's 40 routes are then shown and counted. A
screenshot is kept for a look.

Usage::

    python benchmarks/bench_maps.py [--sites 5000] [--teams 8] [--repeat 3] [--out DIR]
        [--basemap FILE.osm.pbf|FILE.geojson]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geoplan import maps
from geoplan.basemap import BaseMap, read_basemap
from geoplan.demo.scenario import demo_basemap, generate_scenario
from geoplan.planning import WeekPlan, plan_week, week_closures, week_days, week_matrix

TODAY = dt.date(2026, 11, 25)
BUILD_S, SIZE_MB, IDLE_S = 3.0, 5.0, 3.0
PLANNED_SITES = 600
EXTRA_COLOURS = ("#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")


def layers(*, sites: int, teams: int, seed: int) -> dict[str, pd.DataFrame]:
    """Demo layers at benchmark size, with teams copied until there are ``teams``."""
    frames = dict(generate_scenario(seed=seed, sites=sites, visits=20 * sites, today=TODAY))
    base = frames["teams"]
    extra = [
        base.iloc[[i % len(base)]].assign(
            id=f"{base['id'].iloc[i % len(base)]}-B{i}",
            name=f"{base['name'].iloc[i % len(base)]} B{i}",
            colour=EXTRA_COLOURS[i % len(EXTRA_COLOURS)],
        )
        for i in range(max(teams - len(base), 0))
    ]
    frames["teams"] = gpd.GeoDataFrame(pd.concat([base, *extra], ignore_index=True), crs=4326)
    return frames


def plan(frames: dict[str, pd.DataFrame], *, time_limit: float, seed: int) -> WeekPlan:
    """A real week of routes for every team, on the gathering points nearest the bases."""
    days = week_days(TODAY + dt.timedelta(days=7))
    teams = frames["teams"]
    points = frames["gathering_points"]
    utm = points.estimate_utm_crs()
    near = points.to_crs(utm).distance(teams.to_crs(utm).union_all()).nsmallest(PLANNED_SITES)
    sites = {
        "gathering_points": points.loc[near.index],
        "detention_centres": frames["detention_centres"],
        "cip_sites": frames["cip_sites"],
    }
    closures = week_closures(frames["no_go_zones"], days)
    matrix = week_matrix(sites, teams, backend=None, closures=closures)
    return plan_week(
        sites,
        frames["outreach_visits"],
        teams,
        matrix,
        days=days,
        closures=closures,
        seed=seed,
        time_limit=time_limit,
    )


def build(
    frames: dict[str, pd.DataFrame], week: WeekPlan, path: Path, basemap: BaseMap | None
) -> float:
    """Seconds from the layers and plan in memory to the HTML file written."""
    start = time.perf_counter()
    m = maps.base_map("Benchmark: layers and the week's plan", day=TODAY, basemap=basemap)
    maps.add_context(m, frames, closures=week_closures(frames["no_go_zones"], week.days))
    maps.add_layers(m, frames, day=TODAY)
    maps.add_plan(m, week, teams=frames["teams"])
    maps.save_map(m, path)
    return time.perf_counter() - start


def idle(path: Path, screenshot: Path) -> tuple[float, float, dict[str, int]]:
    """Seconds until the page is idle (wall clock, and the page's own clock), and counts."""
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort()
        )
        start = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_function("window.geoplan && window.geoplan.ready")
        page_clock = page.evaluate(
            "() => new Promise(r => requestIdleCallback(() => r(performance.now())))"
        )
        wall = time.perf_counter() - start
        first_day = page.locator("path.gp-route").count()
        page.click(".gp-day[data-day='week']")
        counts = page.evaluate(
            """() => ({
                markers: document.querySelectorAll('.leaflet-marker-icon').length,
                names: document.querySelectorAll('.gp-place').length,
                routes: document.querySelectorAll('path.gp-route').length,
                stops: document.querySelectorAll('.gp-stop').length,
                sites: Object.entries(geoplan.layers)
                    .filter(([k, v]) => v.kind === 'points')
                    .reduce((n, [k, v]) => n + v.count, 0),
            })"""
        )
        counts["first_day_routes"] = first_day
        page.screenshot(path=str(screenshot))
        browser.close()
    return wall, page_clock / 1000, counts


def main() -> None:
    """Build the instance, time the map and print the figures against the anchors."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=5000)
    parser.add_argument("--teams", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=15.0, help="planner seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "bench_maps")
    parser.add_argument("--basemap", type=Path, help="base map (default: the demo's)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores)")

    frames = layers(sites=args.sites, teams=args.teams, seed=args.seed)
    sites = sum(len(frames[n]) for n in ("gathering_points", "detention_centres", "cip_sites"))
    week = plan(frames, time_limit=args.time_limit, seed=args.seed)
    routes = [r for r in week.routes if r.stops]
    print(
        f"instance: {sites:,} sites, {len(frames['clinics'])} clinics, {len(frames['teams'])} "
        f"teams, {len(frames['outreach_visits']):,} visits; plan: {len(routes)} routes, "
        f"{len(week.stops)} stops, {len(week.left_out)} tasks left out"
    )

    basemap = read_basemap(args.basemap) if args.basemap else demo_basemap()
    print(
        f"base map: {basemap.source or 'demo'}, {len(basemap.features):,} features "
        f"({basemap.count('road'):,} roads, {basemap.count('place'):,} places), "
        f"{basemap.size() / 1e3:.0f} KB of GeoJSON"
    )
    bare = args.out / "bench_map_no_basemap.html"
    bare_times = [build(frames, week, bare, None) for _ in range(args.repeat)]
    bare_wall, _, _ = idle(bare, args.out / "bench_map_no_basemap.png")
    path = args.out / "bench_map.html"
    times = [build(frames, week, path, basemap) for _ in range(args.repeat)]
    size = path.stat().st_size / 1e6
    wall, page_clock, counts = idle(path, args.out / "bench_map.png")
    best = min(times)
    print(
        f"build: {best:.2f} s (best of {len(times)}: {', '.join(f'{t:.2f}' for t in times)}; "
        f"without base map {min(bare_times):.2f} s; anchor {BUILD_S:g} s)"
    )
    print(
        f"file size: {size:.2f} MB (without base map {bare.stat().st_size / 1e6:.2f} MB; "
        f"anchor {SIZE_MB:g} MB)"
    )
    print(
        f"idle in headless Chromium: {wall:.2f} s wall clock, {page_clock:.2f} s page clock "
        f"(without base map {bare_wall:.2f} s wall; anchor {IDLE_S:g} s)"
    )
    print(
        f"in the page: {counts['sites']:,} point markers, {counts['markers']:,} marker elements "
        f"drawn (clusters included), {counts['names']} place names, "
        f"{counts['first_day_routes']} route lines on the first day, {counts['routes']} for the "
        f"whole week, {counts['stops']} stops"
    )
    for name, value, anchor in (
        ("build", best, BUILD_S),
        ("size", size, SIZE_MB),
        ("idle", wall, IDLE_S),
    ):
        print(f"{'PASS' if value <= anchor else 'FAIL'} {name}: {value / anchor:.0%} of the budget")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"map: {path}\nscreenshot: {args.out / 'bench_map.png'}")


if __name__ == "__main__":
    main()
