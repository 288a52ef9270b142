"""Tiny hand-checkable inputs for the map tests, and a small reader of the pages they make.

The workspace: three gathering points (GP-1 visited 5 days ago, GP-2 ten days overdue, GP-3
inaccessible), one restricted detention centre never visited, one clinic, one team, one no-go
zone closed on the day and one closed last year, one admin area around it all. The plan: two
teams, three team-days, four stops, two sites left out.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser

import geopandas as gpd
import pandas as pd
import shapely

from geoplan.catalog import get_layer
from geoplan.layers import ValidationContext, validate_table
from geoplan.planning import DayRoute, LeftOut, Stop, VisitTask, WeekPlan
from geoplan.sources import RawTable
from geoplan.vocab import LeftOutReason

TODAY = dt.date(2026, 3, 10)
WEEK = tuple(dt.date(2026, 3, 15) + dt.timedelta(days=i) for i in range(7))
TRICKY_NAME = 'Alpha <b>camp</b> & "co" {{ 7*7 }} </script><script>alert(1)</script>'


def layer(
    name: str,
    records: Sequence[Mapping[str, object]],
    shapes: Sequence[shapely.Geometry] | None = None,
) -> pd.DataFrame:
    """A validated layer frame from plain records (``lon``/``lat`` for points, or ``shapes``)."""
    frame = pd.DataFrame.from_records(records).astype(object)
    points = "lon" in frame
    geometry = gpd.GeoSeries(list(shapes), crs=4326) if shapes is not None else None
    table = RawTable(
        "fixture",
        frame,
        geometry=geometry,
        lon_column="lon" if points else None,
        lat_column="lat" if points else None,
    )
    known = {"gathering_points": frozenset({"GP-1", "GP-2"}), "teams": frozenset({"T-1"})}
    context = ValidationContext(known_ids=known, today=TODAY)
    out, report = validate_table(table, get_layer(name), context=context)
    assert report.ok, report.summary()
    return out


def frames() -> dict[str, pd.DataFrame]:
    """The tiny workspace, as :func:`geoplan.workspace.read_frames` returns one."""
    gp = {"setting": "camp", "services_needed": "health", "visit_frequency_days": 14, "lat": 32.9}
    return {
        "gathering_points": layer(
            "gathering_points",
            [
                {"id": "GP-1", "name": TRICKY_NAME, "lon": 13.10, "people": 10, "men": 4}
                | {"women": 3, "boys": 2, "girls": 1}
                | gp,
                {"id": "GP-2", "name": "Bravo", "lon": 13.20, "people": 20} | gp,
                {"id": "GP-3", "name": "Charlie", "lon": 13.30, "people": 5}
                | {"access_status": "inaccessible", "access_reason": "raid"}
                | gp,
            ],
        ),
        "detention_centres": layer(
            "detention_centres",
            [
                {"id": "DC-1", "name": "Centre Delta", "lon": 13.25, "lat": 32.95}
                | {"detainees": 100, "access_status": "restricted", "access_days": "sun,tue"}
                | {"access_start": "09:00", "access_end": "12:00"}
            ],
        ),
        "clinics": layer(
            "clinics",
            [
                {
                    "id": "CL-1",
                    "name": "Clinic Echo",
                    "kind": "own_clinic",
                    "lon": 13.15,
                    "lat": 32.92,
                }
            ],
        ),
        "cip_sites": gpd.GeoDataFrame({"id": []}, geometry=gpd.GeoSeries([], crs=4326)),
        "teams": layer(
            "teams",
            [
                {"id": "T-1", "name": "Team One", "kind": "medical", "services": "health"}
                | {"base_name": "Office", "colour": "#123456", "lon": 13.0, "lat": 32.9}
            ],
        ),
        "outreach_visits": layer(
            "outreach_visits",
            [
                {"id": "V-1", "site_id": "GP-1", "date": "2026-03-05", "team_id": "T-1"}
                | {"services": "health"},
                {"id": "V-2", "site_id": "GP-2", "date": "2026-02-14", "team_id": "T-1"}
                | {"services": "health"},
            ],
        ),
        "no_go_zones": layer(
            "no_go_zones",
            [
                {"id": "Z-1", "name": "Checkpoint belt", "reason": "clashes"}
                | {"valid_from": "2026-03-01", "valid_to": "2026-03-31"},
                {"id": "Z-2", "name": "Old quarter", "reason": "raids"}
                | {"valid_from": "2025-01-01", "valid_to": "2025-02-01"},
            ],
            [shapely.box(13.5, 32.8, 13.6, 32.9), shapely.box(13.6, 32.8, 13.7, 32.9)],
        ),
        "admin_areas": layer(
            "admin_areas",
            [{"id": "LY01", "name": "Coast district"}],
            [shapely.box(12.9, 32.7, 13.8, 33.1)],
        ),
    }


# --- a plan made by hand ----------------------------------------------------------------------


def task(
    site_id: str, lon: float, *, service: str = "health", layer: str = "gathering_points"
) -> VisitTask:
    """A task for one service at a site of 10 people (4 men, 3 women, 2 boys, 1 girl)."""
    return VisitTask(
        id=f"{site_id}/{service}",
        site_id=site_id,
        layer=layer,
        site_name=f"Site {site_id}",
        service=service,
        service_seconds=1800,
        frequency_days=14,
        last_visit=None,
        due_date=WEEK[0],
        days_overdue=3,
        status="overdue",
        people=10,
        people_by_sex_age=(4, 3, 2, 1),
        vulnerability_flags=(),
        access_status="open",
        lon=lon,
        lat=32.9,
        open_days=(0, 1, 2, 3, 4),
        open_from=8 * 3600,
        open_until=14 * 3600,
    )


def route(team: str, day: dt.date, tasks: Sequence[VisitTask]) -> DayRoute:
    """A team-day leaving at 08:00 and reaching stop k at 08:k0."""

    def at(minutes: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(8)) + dt.timedelta(minutes=minutes)

    stops = tuple(
        Stop(k, t, at(10 * k), at(10 * k), at(10 * k + 5), 600.0, 5000.0)
        for k, t in enumerate(tasks, start=1)
    )
    name = {"T-1": "Team One", "T-2": "Team <Two> {{ 7*7 }}"}[team]
    return DayRoute(team, name, day, at(0), at(60), stops, 600.0, 5000.0)


def week_plan() -> WeekPlan:
    """Team One on Sunday (GP-1, GP-2) and Monday (DC-1), Team <Two> on Sunday (GP-1);
    GP-3 left out as inaccessible and GP-2's nfi for capacity."""
    routes = (
        route("T-1", WEEK[0], [task("GP-1", 13.1), task("GP-2", 13.2)]),
        route("T-1", WEEK[1], [task("DC-1", 13.25, layer="detention_centres")]),
        route("T-2", WEEK[0], [task("GP-1", 13.1, service="mhpss")]),
    )
    left_out = (
        LeftOut(task("GP-3", 13.3), LeftOutReason.INACCESSIBLE, "Site GP-3 is marked inaccessible"),
        LeftOut(
            task("GP-2", 13.2, service="nfi"), LeftOutReason.NO_TEAM_TIME, "not enough team time"
        ),
    )
    bases = {"T-1": (13.0, 32.9), "T-2": (13.05, 32.88)}
    return WeekPlan(WEEK, routes, left_out, 0, 1, 0.1, "straight_line", bases)


# --- reading a page ---------------------------------------------------------------------------


@dataclass
class Node:
    """One element of a page."""

    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)
    text: str = ""

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def all_text(self) -> str:
        return self.text + "".join(c.all_text() for c in self.children)

    def walk(self) -> list[Node]:
        return [self, *(n for c in self.children for n in c.walk())]

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        return [n for n in self.walk() if n.tag == tag and (cls is None or cls in n.classes)]


_VOID = {"meta", "link", "br", "img", "input", "hr", "rect", "line"}


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].text += data


@dataclass
class Page:
    """A map page as the tests read it: its elements, data blocks and layer control."""

    html: str
    root: Node

    @classmethod
    def parse(cls, html: str) -> Page:
        parser = _Parser()
        parser.feed(html)
        return cls(html, parser.root)

    def data(self) -> dict[str, dict[str, object]]:
        """Every JSON data block by layer name."""
        blocks = self.root.find_all("script", "gp-data")
        return {b.attrs["data-layer"]: json.loads(b.text) for b in blocks}

    def overlays(self) -> list[str]:
        """Names of the toggles in the layer control, in order."""
        script = next(n.text for n in self.root.find_all("script") if "overlays :" in n.text)
        body = script.split("overlays :", 1)[1].split("},", 1)[0]
        return [
            json.loads(line.split(" : ")[0])
            for line in body.strip(" {\n").splitlines()
            if " : " in line
        ]

    def legend(self) -> dict[str, list[str]]:
        """Legend rows (labels) by section heading."""
        legend = self.root.find_all("details", "gp-legend")[0]
        sections: dict[str, list[str]] = {}
        heading = ""
        for node in legend.walk():
            if node.tag == "h2":
                heading = node.all_text()
                sections[heading] = []
            elif "gp-row" in node.classes:
                sections[heading].append(node.find_all("span")[-1].all_text())
        return sections

    def title_block(self) -> str:
        return self.root.find_all("div", "gp-title")[0].all_text()
