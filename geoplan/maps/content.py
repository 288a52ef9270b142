"""What geoplan's maps say: markers, areas and popups made from layers, coverage results and
weekly plans.

Pure functions from data to the records the page draws (no folium here): a marker is
``[lat, lon, style key, popup HTML, title, label HTML]``, an area a GeoJSON feature with its
style and popup. :mod:`geoplan.maps` puts them on the map; :mod:`geoplan.maps.style` says how
they look. Popups hold what a team leader needs: name, kind, people by men/women/boys/girls,
last visit, services due, access hours and status.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import mapping

from geoplan.catalog import get_layer, split_list
from geoplan.coverage import CoverageResult, demand_sites, visit_history
from geoplan.indicators import Period
from geoplan.maps.style import (
    ADMIN_COLOUR,
    AREA_BORDER,
    BASE_GLYPH,
    HATCH_FILL,
    INACCESSIBLE_GREY,
    LAYER_LOOK,
    LEFT_OUT_CAPACITY,
    LEFT_OUT_CLOSED,
    LEFT_OUT_GLYPH,
    LEFT_OUT_GLYPHS,
    LEFT_OUT_NO_TEAM,
    LEFT_OUT_OUT_OF_REACH,
    PROPOSAL_COLOUR,
    STAR_GLYPH,
    ZONE_COLOUR,
    MarkerStyle,
    choropleth_colour,
    esc,
    overdue_colour,
    popup_html,
    team_colour,
)
from geoplan.planning import STOP_LABELS, DayRoute, LeftOut, Stop, WeekPlan, stop_record
from geoplan.travel.backend import Coords
from geoplan.vocab import LeftOutReason, SexAge
from geoplan.zones import Closures

Frames = Mapping[str, pd.DataFrame]
Marker = tuple[float, float, str, str, str, str]
"""One marker: ``(lat, lon, style key, popup HTML, title, label HTML)``; a JSON array."""


def marker(
    lat: float, lon: float, key: str, popup: str, *, title: object, label: str = ""
) -> Marker:
    """One marker; ``popup`` and ``label`` are HTML made by geoplan, ``title`` plain text."""
    return (round(float(lat), 6), round(float(lon), 6), key, popup, text(title), label)


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """The rows of a table as dictionaries keyed by column name."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _number(value: object) -> float | None:
    """A count or a time from a table cell; None when missing."""
    if isinstance(value, numbers.Real) and not math.isnan(float(value)):
        return float(value)
    return None


def count_text(value: object) -> str:
    """A count for people: ``1,234``; 0 when missing."""
    return f"{int(_number(value) or 0):,}"


def feature(
    geometry: shapely.Geometry, style: Mapping[str, object], *, popup: str = "", tooltip: str = ""
) -> dict[str, object]:
    props = {"style": dict(style), "popup": popup, "tooltip": esc(tooltip)}
    return {"type": "Feature", "geometry": mapping(geometry), "properties": props}


@dataclass(frozen=True)
class SiteVisits:
    """What the visit history says about each site on the day: last visit, services due."""

    last: Mapping[str, dt.date]
    due: Mapping[str, list[tuple[str, int | None]]]  # service, days overdue (None: never)

    def level(self, site_id: str) -> tuple[float | None, bool]:
        """Days overdue of the most overdue service, and whether a service was never delivered."""
        due = self.due.get(site_id, [])
        never = any(days is None for _, days in due)
        return max((d for _, d in due if d is not None), default=None), never


def site_visits(frames: Frames, *, day: dt.date) -> SiteVisits:
    """Last visit and overdue services of every site with a visit frequency, as of ``day``."""
    layers = [
        n for n in ("gathering_points", "detention_centres", "cip_sites") if has_rows(frames, n)
    ]
    visits = frames.get("outreach_visits")
    if visits is None or not len(visits):
        visits = pd.DataFrame({"site_id": [], "date": pd.Series(dtype="datetime64[ns]")})
        visits["services"] = pd.Series(dtype=object)
    sites = demand_sites(frames, layers=layers)
    history = visit_history(sites, visits, period=Period.ending(day), as_of=day)
    dates = pd.to_datetime(visits["date"])
    done = visits.loc[(dates <= pd.Timestamp(day)).to_numpy(dtype=bool)]
    last = pd.to_datetime(done["date"]).groupby(done["site_id"].astype(str)).max()
    due: dict[str, list[tuple[str, int | None]]] = {}
    overdue = history.loc[history["overdue"]]
    for site, service, never, days in zip(
        overdue["site_id"],
        overdue["service"],
        overdue["never_delivered"],
        overdue["days_overdue"],
        strict=True,
    ):
        late = None if never else int(_number(days) or 0)
        due.setdefault(str(site), []).append((str(service), late))
    return SiteVisits({str(k): v.date() for k, v in last.items()}, due)


def has_rows(frames: Frames, layer: str) -> bool:
    frame = frames.get(layer)
    return frame is not None and len(frame) > 0


def site_markers(
    layer: str, frame: pd.DataFrame, status: SiteVisits, *, day: dt.date
) -> tuple[list[Marker], dict[str, MarkerStyle]]:
    shape, colour = LAYER_LOOK[layer]
    points: list[Marker] = []
    styles: dict[str, MarkerStyle] = {}
    geometry = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else None
    if geometry is None:
        return points, styles
    for row, geom in zip(records(frame), geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        key, style, label = _site_style(shape, colour, row, status)
        styles[key] = style
        popup = _site_popup(layer, row, status, label=label, day=day, geom=geom)
        points.append(marker(geom.y, geom.x, key, popup, title=row.get("name")))
    return points, styles


def _site_style(
    shape: str, colour: str, row: Mapping[str, object], status: SiteVisits
) -> tuple[str, MarkerStyle, str]:
    access = str(row.get("access_status") or "open")
    days, never = status.level(str(row.get("id")))
    scale = overdue_colour(days, never=never)
    fill, label = scale if scale is not None else (colour, "up to date")
    classes = "gp-restricted" if access == "restricted" else ""
    if access == "inaccessible":
        fill, label, classes = INACCESSIBLE_GREY, "inaccessible", "gp-off"
    key = f"{shape}|{fill}|{classes}"
    return key, MarkerStyle(shape, fill, classes=classes), label


def _site_popup(
    layer: str,
    row: Mapping[str, object],
    status: SiteVisits,
    *,
    label: str,
    day: dt.date,
    geom: shapely.Point,
) -> str:
    definition = get_layer(layer)
    site_id = str(row.get("id"))
    kind = text(row.get({"clinics": "kind", "cip_sites": "project_type"}.get(layer, "setting")))
    rows = [
        ("Status", label),
        ("Access", _access_text(row)),
        ("People", people_text(row, definition.role("people"))),
        ("Needs", _needs_text(row, definition.role("services"), definition.role("frequency"))),
        ("Last visit", _last_visit_text(status.last.get(site_id), day, layer)),
        ("Services due", _due_text(status.due.get(site_id), layer)),
        ("Access hours", _hours_text(row, layer)),
        ("Offers", list_text(row.get("services")) if layer == "clinics" else ""),
        ("Project", text(row.get("status")) if layer == "cip_sites" else ""),
        ("Vulnerabilities", list_text(row.get("vulnerability_flags"))),
        ("Authority", text(row.get("authority"))),
        ("Notes", text(row.get("notes"))),
        ("Position", f"{geom.y:.5f}, {geom.x:.5f}"),
    ]
    subtitle = " \u00b7 ".join(p for p in (definition.title, kind.replace("_", " "), site_id) if p)
    return popup_html(text(row.get("name")) or site_id, rows, subtitle=subtitle)


def text(value: object) -> str:
    """A table cell as plain text for people: dates as days, missing values empty."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, pd.Timestamp | dt.datetime):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, tuple | list):
        return ", ".join(map(str, value))
    return str(value)


def list_text(value: object) -> str:
    """A list field (``health,mhpss``) for people: ``health, mhpss``."""
    return ", ".join(split_list(value)) if text(value) else ""


def _access_text(row: Mapping[str, object]) -> str:
    status = text(row.get("access_status")) or "open"
    reason, since = text(row.get("access_reason")), text(row.get("access_date"))
    return status + (f": {reason}" if reason else "") + (f" (as of {since})" if since else "")


def people_text(row: Mapping[str, object], field: str | None) -> str:
    total = text(row.get(field)) if field else ""
    if not total:
        return ""
    counts = [(k, text(row.get(k))) for k in SexAge]
    parts = ", ".join(f"{k} {n}" for k, n in counts if n)
    return total + (f" ({parts})" if parts else "")


def _needs_text(row: Mapping[str, object], services: str | None, frequency: str | None) -> str:
    needed = list_text(row.get(services)) if services else ""
    every = text(row.get(frequency)) if frequency else ""
    return needed + (f", every {every} days" if every else "")


def _last_visit_text(last: dt.date | None, day: dt.date, layer: str) -> str:
    if layer == "clinics":
        return ""
    if last is None:
        return "never"
    return f"{last:%Y-%m-%d} ({(day - last).days} days ago)"


def _due_text(due: Sequence[tuple[str, int | None]] | None, layer: str) -> str:
    if layer == "clinics":
        return ""
    if not due:
        return "none"
    return ", ".join(
        f"{s} (never delivered)" if d is None else f"{s} ({d} days overdue)" for s, d in due
    )


def _hours_text(row: Mapping[str, object], layer: str) -> str:
    fields = {
        "detention_centres": ("access_days", "access_start", "access_end"),
        "clinics": ("opening_days", "opening_start", "opening_end"),
    }.get(layer)
    if fields is None:
        return ""
    days = " ".join(d.title() for d in split_list(row.get(fields[0])))
    start, end = text(row.get(fields[1])), text(row.get(fields[2]))
    hours = f"{start}-{end}" if start and end else ""
    return ", ".join(p for p in (days, hours) if p)


def base_popup(row: Mapping[str, object]) -> str:
    shift = f"{text(row.get('shift_start'))}-{text(row.get('shift_end'))}"
    rows = [
        ("Team", text(row.get("name"))),
        ("Kind", text(row.get("kind"))),
        ("Services", list_text(row.get("services"))),
        ("Works", " ".join(d.title() for d in split_list(row.get("working_days")))),
        ("Shift", shift if shift != "-" else ""),
        ("NFI kits a day", text(row.get("nfi_kits"))),
        ("Most stops a day", text(row.get("max_stops"))),
    ]
    name = text(row.get("base_name")) or "Team base"
    return popup_html(name, rows, subtitle=f"Base of {text(row.get('id'))}")


def zone_popup(row: Mapping[str, object], *, active: bool) -> str:
    until = text(row.get("valid_to")) or "further notice"
    rows = [
        ("Why", text(row.get("reason"))),
        ("Closed", f"{text(row.get('valid_from'))} to {until}"),
        ("Now", "closed: teams must not enter or cross" if active else "not closed on this date"),
    ]
    return popup_html(text(row.get("name")), rows, subtitle="No-go zone")


def area_popup(row: Mapping[str, object], *, admin: bool) -> str:
    out = ", ".join(f"{b} {count_text(row[f'{b}_not_covered'])}" for b in SexAge)
    rows = [
        ("Sites", f"{row['sites']}"),
        ("People", count_text(row["people"])),
        ("Out of reach", f"{count_text(row['people_not_covered'])} ({out})"),
        ("Sites out of reach", f"{row['sites_not_covered']}"),
        ("Sites overdue", f"{row['sites_overdue']}"),
        ("Never visited", f"{row['sites_never_visited']}"),
        ("Needs unmet", f"{row['sites_unmet_needs']}"),
    ]
    kind = "Admin area" if admin else "H3 hexagon"
    return popup_html(str(row["area_name"]), rows, subtitle=f"{kind} {row['area_id']}")


def layer_or_none(frames: Frames, layer: str) -> gpd.GeoDataFrame | None:
    frame = frames.get(layer)
    return frame if isinstance(frame, gpd.GeoDataFrame) and len(frame) else None


def facilities(frames: Frames) -> gpd.GeoDataFrame:
    parts = []
    clinics = layer_or_none(frames, "clinics")
    if clinics is not None:
        parts.append(clinics.loc[clinics["access_status"].fillna("open") != "inaccessible"])
    teams = layer_or_none(frames, "teams")
    if teams is not None:
        parts.append(teams)
    if not parts:
        return gpd.GeoDataFrame({"id": []}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    geoms = pd.concat([p.geometry for p in parts], ignore_index=True)
    return gpd.GeoDataFrame({"id": range(len(geoms))}, geometry=geoms, crs=4326)


@dataclass(frozen=True)
class PlaceNames:
    """Names to show instead of ids: clinics and bases by id, sites' P-codes, admin areas."""

    facilities: Mapping[str, str]
    codes: Mapping[str, str]
    areas: Mapping[str, str]

    @classmethod
    def of(cls, frames: Frames) -> PlaceNames:
        facilities: dict[str, str] = {}
        codes: dict[str, str] = {}
        for layer in ("clinics", "teams"):
            frame = frames.get(layer)
            if frame is not None and len(frame) and "name" in frame:
                facilities.update(
                    zip(frame["id"].astype(str), frame["name"].map(text), strict=True)
                )
        for layer in ("gathering_points", "detention_centres", "cip_sites"):
            frame = frames.get(layer)
            if frame is not None and len(frame) and "admin_code" in frame:
                codes.update(
                    zip(frame["id"].astype(str), frame["admin_code"].map(text), strict=True)
                )
        areas = frames.get("admin_areas")
        named = (
            dict(zip(areas["id"].astype(str), areas["name"].map(text), strict=True))
            if areas is not None and len(areas) and "name" in areas
            else {}
        )
        return cls(facilities, codes, named)

    def facility(self, ident: object) -> str:
        """``Name (id)``, or the id when the name is not known."""
        key = text(ident)
        name = self.facilities.get(key, "")
        return f"{name} ({key})" if name and name != key else key

    def area(self, site_id: object, area_id: object, area_name: object) -> str:
        """The site's admin area by P-code and name, from the analysis or the site's code."""
        code = text(area_id) or self.codes.get(text(site_id), "")
        name = text(area_name) or self.areas.get(code, "")
        if code and name and name != code:
            return f"{code} {name}"
        return code or name


def gap_markers(
    sites: pd.DataFrame, *, gap: bool, names: PlaceNames | None = None
) -> tuple[list[Marker], dict[str, MarkerStyle]]:
    names = names or PlaceNames({}, {}, {})
    points: list[Marker] = []
    styles: dict[str, MarkerStyle] = {}
    for row, geom in zip(records(sites), sites.geometry, strict=True):
        shape, colour = LAYER_LOOK.get(str(row["layer"]), LAYER_LOOK["gathering_points"])
        never = bool(row["never_visited"]) or bool(row["services_never_delivered"])
        scale = overdue_colour(_number(row["days_overdue"]), never=never)
        fill = (
            INACCESSIBLE_GREY
            if row["access_status"] == "inaccessible"
            else (scale or (colour, ""))[0]
        )
        classes = "gp-gap" if gap else ("gp-off" if fill == INACCESSIBLE_GREY else "")
        key = f"{shape}|{fill}|{classes}"
        styles[key] = MarkerStyle(shape, fill, 16 if gap else 14, classes=classes, z=400 * gap)
        points.append(marker(geom.y, geom.x, key, _gap_popup(row, names), title=row["name"]))
    return points, styles


def _gap_popup(row: Mapping[str, object], names: PlaceNames) -> str:
    def minutes(site: object, value: object) -> str:
        time = _number(value)
        return f"{names.facility(site)}, {time:.0f} min" if text(site) and time is not None else ""

    rows = [
        ("Gaps", text(row["gap_reasons"]) or "none"),
        ("People", people_text(row, "people")),
        ("Nearest clinic", minutes(row["nearest_clinic"], row["clinic_minutes"])),
        ("Nearest referral", minutes(row["nearest_referral"], row["referral_minutes"])),
        ("Nearest base", minutes(row["nearest_base"], row["base_minutes"])),
        ("Last visit", text(row["last_visit"]) or "never"),
        ("Services overdue", list_text(row["services_overdue"])),
        ("Unmet in period", list_text(row["services_unmet"])),
        ("Access", text(row["access_status"])),
        ("Area", names.area(row["id"], row.get("area_id"), row.get("area_name"))),
        ("H3 cell", text(row.get("h3_cell"))),
    ]
    subtitle = f"{get_layer(str(row['layer'])).title} \u00b7 {row['id']} \u00b7 rank {row['rank']}"
    return popup_html(text(row["name"]), rows, subtitle=subtitle)


def team_colours(plan: WeekPlan, teams: pd.DataFrame | None) -> dict[str, str]:
    own = {}
    if teams is not None and "colour" in teams:
        own = dict(zip(teams["id"].astype(str), teams["colour"], strict=True))
    ids = sorted({r.team_id for r in plan.routes} | set(plan.base_positions))
    return {t: team_colour(own.get(t), i) for i, t in enumerate(ids)}


def route_payload(
    route: DayRoute, plan: WeekPlan, colour: str, line: Coords | None
) -> dict[str, object]:
    coords, along_roads = _route_coords(route, plan, line)
    stops = [
        marker(
            s.task.lat,
            s.task.lon,
            route.team_id,
            _stop_popup(route, s),
            title=f"{s.order}. {s.task.site_name} {s.arrival:%H:%M}",
            label=f'{s.order}<span class="gp-stop-t">{s.arrival:%H:%M}</span>',
        )
        for s in route.stops
    ]
    return {
        "team": route.team_id,
        "day": route.day.isoformat(),
        "colour": colour,
        "coords": coords,
        "popup": _route_popup(route, along_roads=along_roads),
        "stops": stops,
    }


def _route_coords(
    route: DayRoute, plan: WeekPlan, line: Coords | None
) -> tuple[list[list[float]], bool]:
    """[lat, lon] along the traced ``line`` when there is one, else from the base through the
    stops and back in straight legs."""
    if line is not None:
        return [[round(y, 6), round(x, 6)] for x, y in line], True
    base = plan.base_positions.get(route.team_id)
    stops = [(s.task.lon, s.task.lat) for s in route.stops]
    path = [base, *stops, base] if base is not None else stops
    return [[round(lat, 6), round(lon, 6)] for lon, lat in path], False


def _stop_popup(route: DayRoute, s: Stop) -> str:
    task = s.task
    times = stop_record(route, s, names=("service", "arrival", "start", "departure"))
    people = stop_record(route, s, names=tuple(SexAge))
    rows = [
        *((STOP_LABELS[k], str(v)) for k, v in times.items()),
        (
            "Drive from previous",
            f"{s.travel_seconds / 60:.0f} min, {s.travel_metres / 1000:.1f} km",
        ),
        (STOP_LABELS["people"], people_text({"people": task.people, **people}, "people")),
        (STOP_LABELS["nfi_kits"], str(task.kits) if task.kits else ""),
        ("Why now", _task_status(task.status, task.days_overdue, never=task.never_visited)),
        ("Site", f"{task.site_id} ({get_layer(task.layer).title})"),
    ]
    subtitle = f"Stop {s.order} \u00b7 {route.team_name} \u00b7 {route.day:%a %d %b}"
    return popup_html(task.site_name, rows, subtitle=subtitle)


def _task_status(status: str, days_overdue: int, *, never: bool) -> str:
    if never:
        return "never delivered"
    return f"{status}, {days_overdue} days overdue" if days_overdue > 0 else status


def _route_popup(route: DayRoute, *, along_roads: bool) -> str:
    rows = [
        ("Leaves base", f"{route.depart:%H:%M}"),
        ("Back at base", f"{route.back:%H:%M}"),
        ("Stops", str(len(route.stops))),
        ("Distance", f"{route.metres / 1000:.1f} km"),
        ("Driving", f"{route.driving_seconds / 3600:.1f} h"),
        ("On site", f"{route.on_site_seconds / 3600:.1f} h"),
        ("Line", "along roads" if along_roads else "straight between stops"),
    ]
    return popup_html(route.team_name, rows, subtitle=f"{route.day:%A %d %B %Y}")


def left_out_popup(left: Sequence[LeftOut]) -> str:
    """One site's tasks left out, each service with its reason and the detail behind it."""
    task = left[0].task
    lines = [(lo.task.service, f"{lo.reason.text}: {lo.detail}") for lo in left]
    subtitle = f"Left out \u00b7 {get_layer(task.layer).title} \u00b7 {task.site_id}"
    return popup_html(task.site_name, lines, subtitle=subtitle)


# --- builders used by geoplan.maps -----------------------------------------------------------

MEASURES = {
    "people_not_covered": "People out of reach",
    "sites_overdue": "Sites overdue",
    "sites_not_covered": "Sites out of reach",
}
"""What a coverage choropleth can show, with its legend title."""
REASON_COLOURS = {
    LeftOutReason.INACCESSIBLE: INACCESSIBLE_GREY,
    LeftOutReason.IN_NO_GO_ZONE: ZONE_COLOUR,
    LeftOutReason.NO_TEAM: LEFT_OUT_NO_TEAM,
    LeftOutReason.CLOSED: LEFT_OUT_CLOSED,
    LeftOutReason.CUT_OFF_BY_NO_GO_ZONE: ZONE_COLOUR,
    LeftOutReason.OUT_OF_REACH: LEFT_OUT_OUT_OF_REACH,
    LeftOutReason.NO_TEAM_TIME: LEFT_OUT_CAPACITY,
}
"""Colour of a left-out site by the reason it was left out."""
PROPOSAL = MarkerStyle(
    "star", PROPOSAL_COLOUR, 20, glyph=STAR_GLYPH, dom_class="gp-proposal", z=800
)


def base_markers(teams: pd.DataFrame) -> tuple[list[Marker], dict[str, MarkerStyle]]:
    """Each team's base in the team's colour, with its shift and services."""
    points: list[Marker] = []
    styles: dict[str, MarkerStyle] = {}
    for i, (row, geom) in enumerate(zip(records(teams), teams.geometry, strict=True)):
        key = str(row["id"])
        styles[key] = MarkerStyle("base", team_colour(row.get("colour"), i), 18, glyph=BASE_GLYPH)
        points.append(marker(geom.y, geom.x, key, base_popup(row), title=row.get("base_name")))
    return points, styles


def admin_labels(areas: pd.DataFrame) -> list[tuple[float, float, str, int]]:
    """Each admin area's P-code and name at a point inside it, for the base map's labels."""
    labels = []
    for row, geom in zip(records(areas), areas.geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        point = geom.representative_point()
        name = " ".join(p for p in (text(row.get("id")), text(row.get("name"))) if p)
        labels.append((round(point.y, 5), round(point.x, 5), name, 1))
    return labels


def admin_features(areas: pd.DataFrame) -> list[dict[str, object]]:
    """Admin boundaries as dashed outlines named on hover."""
    style = {"color": ADMIN_COLOUR, "weight": 1.5, "fill": False, "dashArray": "6 3"}
    return [
        feature(geom, style, tooltip=f"{row.get('name')} ({row.get('id')})")
        for row, geom in zip(records(areas), areas.geometry, strict=True)
        if geom is not None and not geom.is_empty
    ]


def zone_features(
    zones: pd.DataFrame, closures: Closures
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """No-go zones closed per ``closures`` (hatched) and the others (dashed outline)."""
    active_ids = set(closures.zones["id"].astype(str))
    closed = {"color": ZONE_COLOUR, "weight": 2, "fillColor": HATCH_FILL, "fillOpacity": 1}
    other = {"color": ZONE_COLOUR, "weight": 1.5, "dashArray": "4 4", "fillOpacity": 0.03}
    active: list[dict[str, object]] = []
    inactive: list[dict[str, object]] = []
    for row, geom in zip(records(zones), zones.geometry, strict=True):
        is_active = str(row["id"]) in active_ids
        popup = zone_popup(row, active=is_active)
        made = feature(geom, closed if is_active else other, popup=popup, tooltip=text(row["name"]))
        (active if is_active else inactive).append(made)
    return active, inactive


def area_features(
    areas: pd.DataFrame, measure: str, *, breaks: Sequence[int], admin: bool
) -> list[dict[str, object]]:
    """Admin areas or hexagons filled by ``measure`` (see :data:`MEASURES`)."""
    label = MEASURES[measure].lower()
    return [
        feature(
            geom,
            {
                "color": AREA_BORDER,
                "weight": 0.8,
                "fillColor": choropleth_colour(_number(row[measure]) or 0, breaks),
                "fillOpacity": 0.6 if (_number(row[measure]) or 0) > 0 else 0.15,
            },
            popup=area_popup(row, admin=admin),
            tooltip=f"{row['area_name']}: {count_text(row[measure])} {label}",
        )
        for row, geom in zip(records(areas), areas.geometry, strict=True)
    ]


def siting_markers(result: CoverageResult) -> list[Marker]:
    """The proposed new stops (style key ``star``), where their positions are known."""
    if result.siting is None:
        return []
    positions = dict(zip(result.sites["id"], result.sites.geometry, strict=True))
    points = []
    for row in records(result.siting.choices):
        geom = positions.get(row["location_id"])
        if geom is None:
            continue
        rows = [
            ("People newly in reach", f"{_number(row['people_newly_covered']) or 0:,.0f}"),
            ("Sites newly in reach", text(row["sites_newly_covered"])),
            ("Method", f"{result.siting.method}, {result.siting.status}"),
        ]
        popup = popup_html(f"Proposed stop {row['rank']}: {row['location_id']}", rows)
        points.append(marker(geom.y, geom.x, "star", popup, title=f"Proposed stop {row['rank']}"))
    return points


def left_out_style(reason: LeftOutReason) -> MarkerStyle:
    """A grey disc with a glyph that says why the site was left out (red in a no-go zone)."""
    colour = REASON_COLOURS.get(reason, INACCESSIBLE_GREY)
    glyph = LEFT_OUT_GLYPHS.get(str(reason), LEFT_OUT_GLYPH)
    return MarkerStyle("ex", colour, 15, glyph=glyph, dom_class="gp-left-out")


def left_out_markers(plan: WeekPlan) -> tuple[list[Marker], Counter[LeftOutReason]]:
    """One marker per left-out site, styled by the reason of its highest-priority task, and
    the number of sites per reason."""
    by_site: dict[str, list[LeftOut]] = {}
    for left in sorted(plan.left_out, key=lambda lo: -lo.task.score):
        by_site.setdefault(left.task.site_id, []).append(left)
    points = [
        marker(
            left[0].task.lat,
            left[0].task.lon,
            left[0].reason,
            left_out_popup(left),
            title=left[0].task.site_name,
        )
        for left in by_site.values()
    ]
    return points, Counter(left[0].reason for left in by_site.values())


# --- the plan's team x day grid ----------------------------------------------------------------


_BR = '<span class="gp-br"></span>'
"""A line break in a grid cell (a middle dot when the panel shows one day on a line)."""


@dataclass(frozen=True)
class TeamDay:
    """What a team does in a day, or in the week: stops, km base to base, hours on the road
    and on site, and people expected (each site counted once a day)."""

    stops: int = 0
    km: float = 0.0
    road_hours: float = 0.0
    site_hours: float = 0.0
    people: int = 0

    @classmethod
    def of(cls, route: DayRoute) -> TeamDay:
        sites = {s.task.site_id: s.task.people for s in route.stops}
        return cls(
            len(route.stops),
            route.metres / 1000,
            route.driving_seconds / 3600,
            route.on_site_seconds / 3600,
            int(sum(sites.values())),
        )

    def __add__(self, other: TeamDay) -> TeamDay:
        return TeamDay(
            self.stops + other.stops,
            self.km + other.km,
            self.road_hours + other.road_hours,
            self.site_hours + other.site_hours,
            self.people + other.people,
        )

    def cell(self, day: str, *, css: str = "") -> str:
        """A grid cell (HTML) with its figures, and the same figures as data attributes."""
        attrs = (
            f'data-day="{day}" data-stops="{self.stops}" data-km="{self.km:.1f}" '
            f'data-people="{self.people}"'
        )
        if not self.stops:
            return f'<td class="gp-cell gp-empty {css}" {attrs}>\u2014</td>'
        return (
            f'<td class="gp-cell {css}" {attrs}><b>{self.stops}</b> stops{_BR}'
            f"{self.km:.0f} km{_BR}{self.road_hours:.1f} h road{_BR}"
            f"{self.site_hours:.1f} h on site{_BR}{self.people:,} people</td>"
        )


def plan_grid(plan: WeekPlan) -> dict[tuple[str, str], TeamDay]:
    """Each team-day's figures by (team id, ISO date)."""
    grid: dict[tuple[str, str], TeamDay] = {}
    for route in plan.routes:
        key = (route.team_id, route.day.isoformat())
        grid[key] = grid.get(key, TeamDay()) + TeamDay.of(route)
    return grid


def plan_grid_html(plan: WeekPlan, colours: Mapping[str, str]) -> str:
    """The team x day grid as an HTML table: a row per team in its colour, a column per day,
    totals per team and per day (each cell: stops, km, hours on the road and on site, people
    expected)."""
    grid = plan_grid(plan)
    days = [d.isoformat() for d in plan.days if any(k[1] == d.isoformat() for k in grid)]
    names = {r.team_id: r.team_name for r in plan.routes}
    head = "".join(f'<th data-day="{d}">{dt.date.fromisoformat(d):%a %d %b}</th>' for d in days)
    rows = []
    for team, colour in colours.items():
        if team not in names:
            continue
        cells = [grid.get((team, d), TeamDay()) for d in days]
        total = sum(cells, TeamDay())
        body = "".join(c.cell(d) for c, d in zip(cells, days, strict=True))
        swatch = f'<span class="gp-team-sw" style="background:{colour}"></span>'
        rows.append(
            f'<tr data-team="{esc(team)}"><th>{swatch}{esc(names[team])}</th>{body}'
            f"{total.cell('week', css='gp-sum')}</tr>"
        )
    by_day = [sum((grid.get((t, d), TeamDay()) for t in names), TeamDay()) for d in days]
    week = sum(by_day, TeamDay())
    totals = "".join(c.cell(d, css="gp-sum") for c, d in zip(by_day, days, strict=True))
    rows.append(
        f'<tr class="gp-total"><th>All teams</th>{totals}{week.cell("week", css="gp-sum")}</tr>'
    )
    return (
        '<div class="gp-grid-wrap"><table class="gp-grid"><thead><tr><th>Team</th>'
        f'{head}<th data-day="week">Week</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        '<p class="gp-note">km base to base; people expected at each team-day\'s sites.</p></div>'
    )


# --- the coverage summary ----------------------------------------------------------------------


def coverage_summary_html(result: CoverageResult) -> str:
    """What the coverage map says in a few lines: people out of reach (by men, women, boys,
    girls), sites overdue and never visited, and the indicators behind their pace."""
    totals = result.totals.set_index("status")
    out = totals.loc["not covered"] if "not covered" in totals.index else None
    everyone = totals.loc["total"] if "total" in totals.index else None
    sites = result.sites
    overdue = int((pd.to_numeric(sites["days_overdue"], errors="coerce").fillna(0) > 0).sum())
    never = int(sites["never_visited"].astype(bool).sum())
    rows = []
    if out is not None and everyone is not None:
        parts = ", ".join(f"{b} {count_text(out[b])}" for b in SexAge)
        rows.append(
            (
                "People out of reach",
                f"{count_text(out['people'])} of {count_text(everyone['people'])} ({parts})",
            )
        )
        rows.append(
            ("Sites out of reach", f"{count_text(out['sites'])} of {count_text(everyone['sites'])}")
        )
    rows.append(("Sites overdue", f"{overdue:,}"))
    rows.append(("Never visited", f"{never:,}"))
    behind = result.indicators.loc[result.indicators["status"] == "behind"]
    rows.append(("Indicators behind", f"{len(behind)} of {len(result.indicators)}"))
    cells = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    names = "".join(
        f"<li>{esc(text(r['name']))}: {_number(r['value']) or 0:,.0f} of "
        f"{_number(r['target']) or 0:,.0f} ({(_number(r['progress']) or 0):.0%})</li>"
        for r in records(behind)
    )
    listing = f'<ul class="gp-behind">{names}</ul>' if names else ""
    return f'<table class="gp-summary">{cells}</table>{listing}'
