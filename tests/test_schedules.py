"""Schedules from a week plan: every file is read back and checked against the plan."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import subprocess
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest

from geoplan.errors import ParameterError
from geoplan.planning import DayRoute, PlanningParams, WeekPlan, plan_week
from geoplan.planning import planning_points as points_of
from geoplan.schedules import (
    FORMATS,
    SENSITIVE_NOTICE,
    access_text,
    file_stem,
    route_id,
    write_schedules,
)
from geoplan.travel.matrix import matrix_from_points
from geoplan.travel.roads import RoadNetworkBackend, read_network
from geoplan.vocab import LeftOutReason
from geoplan.workspace import route_lines
from geoplan.zones import no_closures
from tests.conftest import skip_or_fail
from tests.planning_fixtures import WEEK, layer, site, team

GPX = "{http://www.topografix.com/GPX/1/1}"
NO_VISITS = pd.DataFrame(columns=["id", "site_id", "date", "team_id", "services"])
TRICKY_NAME = 'Camp <A> & "sons"'


def make_plan(
    sites: dict[str, gpd.GeoDataFrame], teams: list[dict[str, object]], *, backend: object = None
) -> WeekPlan:
    team_frame = layer("teams", teams)
    points = points_of(sites, team_frame)
    matrix = matrix_from_points(points, points, backend=backend)  # type: ignore[arg-type]
    return plan_week(
        sites,
        NO_VISITS,
        team_frame,
        matrix,
        days=WEEK,
        closures=no_closures(),
        params=PlanningParams(time_limit=1.0),
        seed=1,
    )


@pytest.fixture(scope="module")
def week_plan() -> WeekPlan:
    """Three teams, four gathering points (one inaccessible) and a detention centre open
    Monday and Wednesday 09:00-12:00; one site's name and notes hold HTML special characters."""
    gps = layer(
        "gathering_points",
        [
            site(
                "A",
                13.20,
                name=TRICKY_NAME,
                services_needed="health,nfi",
                people=40,
                men=20,
                women=10,
                boys=5,
                girls=5,
                notes="Gate <north> & east",
                admin_code="LY0101",
                access_status="restricted",
                access_reason="checkpoint at the bridge",
            ),
            site("B", 13.22, people=12),
            site("C", 13.25),
            site("X", 13.21, access_status="inaccessible"),
        ],
    )
    centre = {
        "id": "DC1",
        "name": "Centre 1",
        "detainees": 50,
        "access_days": "mon,wed",
        "access_start": "09:00",
        "access_end": "12:00",
        "services_needed": "monitoring",
        "lon": 13.19,
        "lat": 32.86,
    }
    teams = [
        team("MED", working_days="sun,mon", shift_end="15:00"),
        team("MRRM", kind="mrrm", services="health,nfi", nfi_kits=30, shift_end="15:00"),
        team(
            "PROT",
            kind="protection",
            services="monitoring",
            working_days="mon,wed",
            shift_end="15:00",
        ),
    ]
    sites = {"gathering_points": gps, "detention_centres": layer("detention_centres", [centre])}
    plan = make_plan(sites, teams)
    assert plan.routes
    assert plan.left_out
    return plan


@pytest.fixture(scope="module")
def written(week_plan: WeekPlan, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_schedules(week_plan, tmp_path_factory.mktemp("schedules"))


def route_of(plan: WeekPlan, team_id: str) -> DayRoute:
    return next(r for r in plan.routes if r.team_id == team_id)


# --- files ----------------------------------------------------------------------------------


def test_every_format_is_written_with_one_file_per_team_day(
    week_plan: WeekPlan, written: dict[str, Path]
) -> None:
    """CSV, XLSX, GeoJSON, an index, and one HTML page and one GPX file per team-day."""
    stems = [file_stem(r) for r in week_plan.routes]
    expected = {
        "schedule.csv",
        "left_out.csv",
        "schedule.xlsx",
        "plan.geojson",
        "html/index.html",
        *(f"html/{s}.html" for s in stems),
        *(f"gpx/{s}.gpx" for s in stems),
    }
    assert set(written) == expected
    assert all(path.is_file() and path.stat().st_size > 0 for path in written.values())


def test_only_the_formats_asked_for_are_written(week_plan: WeekPlan, tmp_path: Path) -> None:
    """``formats=("csv",)`` writes the two CSV files and nothing else."""
    written = write_schedules(week_plan, tmp_path, formats=("csv",))
    assert set(written) == {"schedule.csv", "left_out.csv"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["left_out.csv", "schedule.csv"]


def test_unknown_format_is_refused_naming_the_choices(week_plan: WeekPlan, tmp_path: Path) -> None:
    """An unknown format is a parameter error that lists the formats there are."""
    with pytest.raises(ParameterError, match="csv,xlsx,html,geojson,gpx, got pdf"):
        write_schedules(week_plan, tmp_path, formats=("csv", "pdf"))


# --- CSV ------------------------------------------------------------------------------------


def test_csv_has_one_row_per_stop_with_the_plans_times(
    week_plan: WeekPlan, written: dict[str, Path]
) -> None:
    """Each row is one stop: team, day, order, site, times, travel, service, people, position."""
    with written["schedule.csv"].open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    stops = [(r, s) for r in week_plan.routes for s in r.stops]
    assert len(rows) == len(stops)
    for row, (route, stop) in zip(rows, stops, strict=True):
        assert (row["team_id"], row["date"], int(row["order"])) == (
            route.team_id,
            route.day.isoformat(),
            stop.order,
        )
        assert (row["arrival"], row["start"], row["departure"]) == (
            f"{stop.arrival:%H:%M}",
            f"{stop.start:%H:%M}",
            f"{stop.departure:%H:%M}",
        )
        assert (row["site_id"], row["service"], int(row["people"])) == (
            stop.task.site_id,
            stop.task.service,
            stop.task.people,
        )
        assert float(row["travel_min"]) == pytest.approx(stop.travel_seconds / 60, abs=0.05)
        assert (float(row["lon"]), float(row["lat"])) == (stop.task.lon, stop.task.lat)


def test_csv_keeps_unknown_counts_blank_and_names_intact(written: dict[str, Path]) -> None:
    """Counts by sex and age are whole numbers where known and blank where not."""
    frame = pd.read_csv(written["schedule.csv"], dtype=str, keep_default_na=False)
    tricky = frame.loc[frame["site_id"] == "A"].iloc[0]
    assert (tricky["site_name"], tricky["men"], tricky["girls"]) == (TRICKY_NAME, "20", "5")
    assert set(frame.loc[frame["site_id"] == "B", "men"]) <= {""}


def test_left_out_csv_gives_every_left_out_task_its_reason(
    week_plan: WeekPlan, written: dict[str, Path]
) -> None:
    """One row per left-out task with its one reason and the detail behind it."""
    with written["left_out.csv"].open(encoding="utf-8", newline="") as stream:
        rows = {row["task_id"]: row for row in csv.DictReader(stream)}
    assert rows.keys() == {lo.task.id for lo in week_plan.left_out}
    assert rows["X/health"]["reason"] == LeftOutReason.INACCESSIBLE.text
    assert rows["X/health"]["detail"]


# --- XLSX -----------------------------------------------------------------------------------


def test_xlsx_has_a_sheet_per_team_laid_out_for_printing(
    week_plan: WeekPlan, written: dict[str, Path]
) -> None:
    """Week, one sheet per team, Left out; header frozen and repeated, landscape A4, fit to width."""
    book = openpyxl.load_workbook(written["schedule.xlsx"])
    teams = list(dict.fromkeys(r.team_id for r in week_plan.routes))
    assert book.sheetnames == ["Week", *teams, "Left out"]
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert sheet.freeze_panes == "A2"
        assert sheet.print_title_rows == "$1:$1"
        assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9)
        assert (int(setup.fitToWidth), int(setup.fitToHeight)) == (1, 0)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.column_dimensions["A"].width > 4
        assert "do not share" in (sheet.oddFooter.center.text or "")


def test_xlsx_page_header_and_footer_cannot_overlap(written: dict[str, Path]) -> None:
    """Each printed band holds short pieces on opposite sides (title left, page number right
    above; the notice alone below), inside margins that keep them off the table."""
    book = openpyxl.load_workbook(written["schedule.xlsx"])
    for sheet in book.worksheets:
        header, footer, margins = sheet.oddHeader, sheet.oddFooter, sheet.page_margins
        assert len(header.left.text or "") <= 60
        assert (header.center.text, header.right.text) == (None, "Page &P of &N")
        assert (footer.left.text, footer.right.text) == (None, None)
        assert margins.header < margins.top
        assert margins.footer < margins.bottom


def test_xlsx_wrapped_titles_get_rows_tall_enough(written: dict[str, Path]) -> None:
    """The header row is as tall as its most wrapped title ("Travel from previous (min)" in
    a narrow column takes several lines), so no title spills into the rows below."""
    book = openpyxl.load_workbook(written["schedule.xlsx"])
    for sheet in book.worksheets:
        widths = {c.column_letter: sheet.column_dimensions[c.column_letter].width for c in sheet[1]}
        needed = max(
            len(textwrap.wrap(str(c.value), max(1, int(widths[c.column_letter]) - 2)))
            for c in sheet[1]
        )
        assert (sheet.row_dimensions[1].height or 15) >= 15 * needed, sheet.title


def test_xlsx_team_sheets_hold_every_stop_between_leaving_and_returning(
    week_plan: WeekPlan, written: dict[str, Path]
) -> None:
    """A team's sheet: per day, leave base, the stops in order with their times, back at base."""
    book = openpyxl.load_workbook(written["schedule.xlsx"])
    for team_id in {r.team_id for r in week_plan.routes}:
        rows = list(book[team_id].iter_rows(min_row=2, values_only=True))
        routes = [r for r in week_plan.routes if r.team_id == team_id]
        expected: list[tuple[object, ...]] = []
        for r in routes:
            expected.append(("Leave base", None, f"{r.depart:%H:%M}"))
            expected += [
                (s.task.site_name, s.order, f"{s.arrival:%H:%M}", f"{s.departure:%H:%M}")
                for s in r.stops
            ]
            expected.append(("Back at base", f"{r.back:%H:%M}"))
        assert [_team_row(row) for row in rows] == expected


def _team_row(row: Sequence[object]) -> tuple[object, ...]:
    def hm(value: object) -> str:
        assert isinstance(value, dt.time)
        return f"{value:%H:%M}"

    if row[4] == "Leave base":
        return (row[4], row[2], hm(row[8]))
    if row[4] == "Back at base":
        return (row[4], hm(row[6]))
    return (row[4], row[2], hm(row[6]), hm(row[8]))


def test_xlsx_week_and_left_out_sheets_match_the_plan(
    week_plan: WeekPlan, written: dict[str, Path]
) -> None:
    """The Week sheet has a row per team-day and the totals; Left out a row per task."""
    book = openpyxl.load_workbook(written["schedule.xlsx"])
    week = list(book["Week"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[6]) for r in week[: len(week_plan.routes)]] == [
        (r.team_id, len(r.stops)) for r in week_plan.routes
    ]
    totals = {r[0]: r[1] for r in week[len(week_plan.routes) + 1 :]}
    assert totals["tasks done"] == len(week_plan.stops)
    left = list(book["Left out"].iter_rows(min_row=2, values_only=True))
    assert {(r[0], r[9]) for r in left} == {
        (lo.task.id, lo.reason.text) for lo in week_plan.left_out
    }


# --- HTML -----------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Collects the text of each table row by class, the tags used and every link."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, list[str]]] = []
        self.tags: set[str] = set()
        self.links: list[str] = []
        self.text: list[str] = []
        self._row: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        found = dict(attrs)
        self.links += [v for k, v in found.items() if k in ("href", "src") and v]
        if tag == "tr":
            self._row = (found.get("class") or "", [])
        elif tag == "td" and self._row is not None:
            self._row[1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._row is not None:
            self.rows.append((self._row[0], [c.strip() for c in self._row[1]]))
            self._row = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._row is not None and self._row[1]:
            self._row[1][-1] += data


def parse_html(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_html_page_per_team_day_lists_the_stops_in_order_with_times(
    week_plan: WeekPlan, written: dict[str, Path]
) -> None:
    """Each page: leave base, one row per stop (order, arrive, start, leave, site), back at base."""
    for route in week_plan.routes:
        page = parse_html(written[f"html/{file_stem(route)}.html"])
        body = [(kind, cells) for kind, cells in page.rows if kind in ("base", "stop")]
        assert [kind for kind, _ in body] == ["base"] + ["stop"] * len(route.stops) + ["base"]
        assert body[0][1][3] == f"{route.depart:%H:%M}"
        assert body[-1][1][1] == f"{route.back:%H:%M}"
        for (_, cells), stop in zip(body[1:-1], route.stops, strict=True):
            assert cells[:4] == [
                str(stop.order),
                f"{stop.arrival:%H:%M}",
                f"{stop.start:%H:%M}",
                f"{stop.departure:%H:%M}",
            ]
            assert cells[4].startswith(stop.task.site_name)
            assert f"{stop.task.lat:.5f}, {stop.task.lon:.5f}" in cells[5]
            assert cells[6].startswith(stop.task.service)
            assert cells[9] == ""  # left blank to write in


def test_html_carries_the_sensitive_sites_notice_and_escapes_data(
    week_plan: WeekPlan, written: dict[str, Path]
) -> None:
    """Every page shows the do-not-share notice; names and notes are escaped, never markup."""
    for name in (f"html/{file_stem(r)}.html" for r in week_plan.routes):
        page = parse_html(written[name])
        assert SENSITIVE_NOTICE in page.text
    route = next(r for r in week_plan.routes if any(s.task.site_id == "A" for s in r.stops))
    raw = written[f"html/{file_stem(route)}.html"].read_text(encoding="utf-8")
    assert "Camp &lt;A&gt; &amp;" in raw
    assert "<A>" not in raw
    assert "<north>" not in raw
    page = parse_html(written[f"html/{file_stem(route)}.html"])
    assert any(TRICKY_NAME in cells[4] for kind, cells in page.rows if kind == "stop")
    assert any("Gate <north> & east" in cells[8] for kind, cells in page.rows if kind == "stop")


def test_html_shows_access_hours_and_restrictions(
    week_plan: WeekPlan, written: dict[str, Path]
) -> None:
    """The detention centre's visiting hours and the restricted site's reason are printed."""
    page = parse_html(written[f"html/{file_stem(route_of(week_plan, 'PROT'))}.html"])
    stop_cells = [cells for kind, cells in page.rows if kind == "stop"]
    assert stop_cells[0][8] == "access 09:00-12:00"
    restricted = next(s.task for s in week_plan.stops if s.task.site_id == "A")
    assert access_text(restricted) == "restricted; checkpoint at the bridge"


def test_html_is_a4_and_self_contained(week_plan: WeekPlan, written: dict[str, Path]) -> None:
    """A4 via @page, no scripts, no external style sheets, images or fonts."""
    for name, path in written.items():
        if not name.startswith("html/"):
            continue
        raw = path.read_text(encoding="utf-8")
        page = parse_html(path)
        assert "@page { size: A4" in raw
        assert not page.tags & {"script", "link", "img", "iframe"}
        assert not [u for u in page.links if re.match(r"^[a-z]+:", u) or u.startswith("//")]
        assert "url(" not in raw


def test_html_index_links_every_team_day(week_plan: WeekPlan, written: dict[str, Path]) -> None:
    """The index links each team-day's page, which exists beside it."""
    page = parse_html(written["html/index.html"])
    assert page.links == [f"{file_stem(r)}.html" for r in week_plan.routes]
    folder = written["html/index.html"].parent
    assert all((folder / link).is_file() for link in page.links)
    assert SENSITIVE_NOTICE in page.text


@pytest.mark.browser
def test_html_prints_on_a4_landscape_pages_in_chromium(
    week_plan: WeekPlan, written: dict[str, Path], tmp_path: Path
) -> None:
    """Headless Chromium prints a team-day page on A4 landscape (842 x 595 points)."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        skip_or_fail("headless Chromium (/usr/bin/chromium) is not installed")
    page = written[f"html/{file_stem(week_plan.routes[0])}.html"]
    pdf = tmp_path / "day.pdf"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf.read_bytes())
    assert boxes
    assert all(abs(float(w) - 841.9) < 1 and abs(float(h) - 595.0) < 1 for w, h in boxes)


# --- GeoJSON --------------------------------------------------------------------------------


def test_geojson_has_bases_stops_and_a_line_per_team_day(
    week_plan: WeekPlan, written: dict[str, Path]
) -> None:
    """Stops carry their route, order and times; each line runs base, stops, base."""
    data = json.loads(written["plan.geojson"].read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    assert data["notice"] == SENSITIVE_NOTICE
    kinds: dict[str, list[dict[str, Any]]] = {}
    for feature in data["features"]:
        kinds.setdefault(feature["properties"]["kind"], []).append(feature)
    assert len(kinds["base"]) == len(week_plan.base_positions)
    assert [
        (f["properties"]["route"], f["properties"]["order"], f["properties"]["arrival"])
        for f in kinds["stop"]
    ] == [(route_id(r), s.order, f"{s.arrival:%H:%M}") for r in week_plan.routes for s in r.stops]
    assert len(kinds["route"]) == len(week_plan.routes)
    for feature, route in zip(kinds["route"], week_plan.routes, strict=True):
        coords = feature["geometry"]["coordinates"]
        base = [round(v, 6) for v in week_plan.base_positions[route.team_id]]
        assert coords[0] == coords[-1] == base
        assert feature["properties"]["geometry"] == "straight legs"
        sites = {(round(s.task.lon, 6), round(s.task.lat, 6)) for s in route.stops}
        assert {tuple(c) for c in coords[1:-1]} == sites


# --- GPX ------------------------------------------------------------------------------------


def test_gpx_per_team_day_has_waypoints_in_order_and_a_route(
    week_plan: WeekPlan, written: dict[str, Path]
) -> None:
    """Base and stops as waypoints in visiting order; the route runs base, stops, base."""
    for route in week_plan.routes:
        root = ET.parse(written[f"gpx/{file_stem(route)}.gpx"]).getroot()  # noqa: S314  (our own file)
        assert root.tag == f"{GPX}gpx"
        assert root.get("version") == "1.1"
        wpts = root.findall(f"{GPX}wpt")
        names = [w.findtext(f"{GPX}name") for w in wpts]
        assert names == ["Base", *(f"{s.order} {s.task.site_name}" for s in route.stops)]
        for wpt, stop in zip(wpts[1:], route.stops, strict=True):
            assert (float(wpt.get("lon", "")), float(wpt.get("lat", ""))) == pytest.approx(
                (stop.task.lon, stop.task.lat)
            )
            assert f"arrive {stop.arrival:%H:%M}" in (wpt.findtext(f"{GPX}desc") or "")
        rtepts = root.findall(f"{GPX}rte/{GPX}rtept")
        assert len(rtepts) == len(route.stops) + 2
        assert root.find(f"{GPX}trk") is None  # no roads known: straight legs only
        assert SENSITIVE_NOTICE in (root.findtext(f"{GPX}metadata/{GPX}desc") or "")


# --- road geometry ----------------------------------------------------------------------------


def test_road_lines_follow_the_roads_driven(fixtures: Path, tmp_path: Path) -> None:
    """On the hand-made network the line to a site across the bridge passes the bridge node,
    in the GeoJSON and as a GPX track."""
    network = read_network(fixtures / "roads_bridge_shortcut.osm", cache_dir=tmp_path / "cache")
    gps = layer("gathering_points", [{**site("S", 0.0100), "lat": 0.0}])
    base = team("T1", lon=0.0, lat=0.0, shift_end="15:00")
    plan = make_plan({"gathering_points": gps}, [base], backend=RoadNetworkBackend(network))
    (route,) = plan.routes
    lines = route_lines(plan, RoadNetworkBackend(network), zones=None)
    coords = lines[route_id(route)]
    assert (0.006, 0.0) in {(round(x, 4), round(y, 4)) for x, y in coords}  # the bridge
    written = write_schedules(plan, tmp_path / "out", formats=("geojson", "gpx"), lines=lines)
    data = json.loads(written["plan.geojson"].read_text(encoding="utf-8"))
    (line,) = [f for f in data["features"] if f["properties"]["kind"] == "route"]
    assert line["properties"]["geometry"] == "roads"
    assert len(line["geometry"]["coordinates"]) == len(coords)
    root = ET.parse(written[f"gpx/{file_stem(route)}.gpx"]).getroot()  # noqa: S314  (our own file)
    assert len(root.findall(f"{GPX}trk/{GPX}trkseg/{GPX}trkpt")) == len(coords)


# --- an empty week ----------------------------------------------------------------------------


def test_a_week_without_visits_still_writes_readable_files(tmp_path: Path) -> None:
    """Nothing planned: the CSV has its header, the index says so, left-out lists the reason."""
    gps = layer("gathering_points", [site("X", 13.21, access_status="inaccessible")])
    plan = make_plan({"gathering_points": gps}, [team("T1")])
    written = write_schedules(plan, tmp_path, formats=FORMATS)
    assert set(written) == {
        "schedule.csv",
        "left_out.csv",
        "schedule.xlsx",
        "plan.geojson",
        "html/index.html",
    }
    assert pd.read_csv(written["schedule.csv"]).empty
    assert list(pd.read_csv(written["left_out.csv"])["reason"]) == [LeftOutReason.INACCESSIBLE.text]
    assert "No visits planned this week." in parse_html(written["html/index.html"]).text
    assert openpyxl.load_workbook(written["schedule.xlsx"]).sheetnames == ["Week", "Left out"]
