"""Schedules from a week plan: the files team leaders print, open, load and carry.

:func:`write_schedules` writes, from a :class:`~geoplan.planning.WeekPlan`:

* ``csv``: ``schedule.csv`` (one row per stop) and ``left_out.csv`` (one row per task left
  out, with its reason);
* ``xlsx``: ``schedule.xlsx`` with a *Week* sheet, one sheet per team and a *Left out* sheet,
  laid out to print (header row frozen and repeated, landscape, one page wide);
* ``html``: ``html/<team>_<date>.html``, one printable A4 page per team-day with times,
  positions, services, access notes and a column to write notes in, and ``html/index.html``;
* ``geojson``: ``plan.geojson`` with the team bases, the stops and one line per team-day
  (straight legs, or the roads driven when :func:`road_lines` gives them);
* ``gpx``: ``gpx/<team>_<date>.gpx`` per team-day, the stops as waypoints in visiting order and
  as a route, for a phone or a car's GPS.

Schedules are for the teams, so they hold exact positions of sensitive sites (gathering points,
detention centres); every file that people read says so, and none of them names beneficiaries.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import string
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import jinja2
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

from geoplan.errors import ParameterError
from geoplan.maps.style import (
    PRINT_BASE_FILL,
    PRINT_HEADER_FILL,
    PRINT_INK,
    PRINT_NOTICE,
    PRINT_RULE,
    PRINT_SMALL_INK,
    spreadsheet_colour,
)
from geoplan.outputs import append_row, private_file, private_folder, write_csv, write_text
from geoplan.planning import (
    DAY,
    STOP_LABELS,
    DayRoute,
    LeftOut,
    Stop,
    VisitTask,
    WeekPlan,
    route_id,
    route_record,
    stop_record,
)
from geoplan.vocab import SexAge

FORMATS = ("csv", "xlsx", "html", "geojson", "gpx")
SENSITIVE_NOTICE = (
    "Contains exact locations of sensitive sites (gathering points, detention centres) "
    "- do not share outside the team."
)
GPX_NS = "http://www.topografix.com/GPX/1/1"

Coords = tuple[tuple[float, float], ...]
RouteLines = Mapping[str, Coords]
"""Road geometry per team-day, by route id (``team@YYYY-MM-DD``): (lon, lat) pairs."""
GpxPoint = tuple[float, float, str, str]  # lon, lat, name, description


# --- entry point ----------------------------------------------------------------------------


def write_schedules(
    plan: WeekPlan,
    folder: Path,
    *,
    formats: Sequence[str] = FORMATS,
    lines: RouteLines | None = None,
) -> dict[str, Path]:
    """Write the week's schedules into ``folder`` (created if needed).

    Parameters
    ----------
    plan
        The week plan.
    folder
        Where the files go; files of the same names are replaced.
    formats
        Any of ``csv``, ``xlsx``, ``html``, ``geojson``, ``gpx``.
    lines
        The line each team-day drives, by team-day id, as the travel-time backend traced it
        (:func:`geoplan.workspace.route_lines`); straight legs where missing.

    Returns
    -------
    Every file written, by its path relative to ``folder`` (``schedule.csv``,
    ``html/MED-TRP_2026-11-29.html``, ...).

    Raises
    ------
    ParameterError
        If a format is unknown.
    """
    check_formats(formats)
    private_folder(folder)
    written: dict[str, Path] = {}
    for name in dict.fromkeys(formats):
        for path in _WRITERS[name](plan, folder, lines or {}):
            written[path.relative_to(folder).as_posix()] = path
    return written


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """The formats, checked.

    Raises
    ------
    ParameterError
        If one is not in :data:`FORMATS`.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        got = ", ".join(unknown) or "nothing"
        raise ParameterError(f"--format: expected some of {','.join(FORMATS)}, got {got}")
    return tuple(formats)


def file_stem(route: DayRoute) -> str:
    """A file name for a team-day that is safe on every system: ``TEAM_YYYY-MM-DD``."""
    return f"{_safe(route.team_id)}_{route.day.isoformat()}"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip(".-") or "team"


def _clock(moment: dt.datetime) -> str:
    return moment.strftime("%H:%M")


def _minute(moment: dt.datetime) -> dt.time:
    """The time of day to the minute, as printed (seconds dropped, like :func:`_clock`)."""
    return moment.time().replace(second=0, microsecond=0)


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def access_hours(task: VisitTask) -> str:
    """The site's access hours (``09:00-12:00``), or ``""`` when it is open all day."""
    end = task.open_until + task.service_seconds
    if task.open_from <= 0 and end >= DAY - 1:
        return ""
    return f"{_hhmm(task.open_from)}-{_hhmm(min(end, DAY - 1))}"


def access_text(task: VisitTask) -> str:
    """What a team needs to know to get in: hours, restricted status and the reason."""
    parts = []
    if hours := access_hours(task):
        parts.append(f"access {hours}")
    if task.access_status != "open":
        parts.append(task.access_status)
    if task.access_note:
        parts.append(task.access_note)
    return "; ".join(parts)


def people_text(task: VisitTask) -> str:
    """``men 3, women 2, ...`` for the parts that are known."""
    known = [(k, n) for k, n in zip(SexAge, task.people_by_sex_age, strict=True) if n is not None]
    return ", ".join(f"{k} {n}" for k, n in known)


# --- CSV ------------------------------------------------------------------------------------


def _write_csv(plan: WeekPlan, folder: Path, _lines: RouteLines) -> list[Path]:
    frame = plan.to_frame()
    frame.insert(3, "weekday", [dt.date.fromisoformat(d).strftime("%a") for d in frame["date"]])
    frame["admin_code"] = [s.task.admin_code or "" for s in plan.stops]
    frame["access"] = [access_text(s.task) for s in plan.stops]
    frame = frame.astype(dict.fromkeys(SexAge, "Int64"))  # where known; blank otherwise
    stops = write_csv(frame, folder / "schedule.csv")
    return [stops, write_csv(plan.left_out_frame(), folder / "left_out.csv")]


# --- XLSX -----------------------------------------------------------------------------------

Column = tuple[str, int]  # label, width in characters


def _field(name: str, width: int) -> Column:
    """A column holding a stop field, under the field's label (:data:`STOP_LABELS`)."""
    return STOP_LABELS[name], width


TEAM_COLUMNS: tuple[Column, ...] = (
    _field("date", 11),
    ("Day", 5),
    _field("order", 4),
    _field("site_id", 12),
    _field("site_name", 26),
    _field("service", 11),
    _field("arrival", 7),
    _field("start", 7),
    _field("departure", 7),
    _field("travel_min", 7),
    _field("travel_km", 7),
    _field("people", 7),
    _field("nfi_kits", 6),
    _field("lat", 10),
    _field("lon", 10),
    ("Admin area", 10),
    ("Access", 24),
    ("Done / notes", 30),
)
WEEK_COLUMNS: tuple[Column, ...] = (
    _field("team_id", 12),
    _field("team_name", 28),
    _field("date", 11),
    ("Day", 5),
    ("Leave base", 9),
    ("Back", 7),
    ("Stops", 6),
    ("km", 7),
    ("Driving h", 9),
    ("On site h", 9),
)
LEFT_OUT_COLUMNS: tuple[Column, ...] = (
    _field("task_id", 18),
    _field("site_id", 12),
    _field("site_name", 26),
    _field("layer", 16),
    _field("service", 11),
    _field("status", 8),
    ("Days overdue", 8),
    _field("people", 7),
    ("Priority", 8),
    ("Reason", 30),
    ("Detail", 60),
    _field("lat", 10),
    _field("lon", 10),
)
_HEADER_FILL = PatternFill("solid", fgColor=spreadsheet_colour(PRINT_HEADER_FILL))
_BASE_FILL = PatternFill("solid", fgColor=spreadsheet_colour(PRINT_BASE_FILL))
_TIME = "hh:mm"
_DEGREES = "0.00000"


def _write_xlsx(plan: WeekPlan, folder: Path, _lines: RouteLines) -> list[Path]:
    path = folder / "schedule.xlsx"
    book = Workbook()
    week = book.active
    assert week is not None
    week.title = "Week"
    _week_sheet(week, plan)
    names = {"week", "left out"}
    for team_id, routes in _by_team(plan).items():
        sheet = book.create_sheet(_sheet_name(team_id, names))
        _team_sheet(sheet, routes, plan)
    _left_out_sheet(book.create_sheet("Left out"), plan.left_out)
    with private_file(path) as partial:
        book.save(partial)
    return [path]


def _by_team(plan: WeekPlan) -> dict[str, list[DayRoute]]:
    teams: dict[str, list[DayRoute]] = {}
    for route in plan.routes:
        teams.setdefault(route.team_id, []).append(route)
    return teams


def _sheet_name(team_id: str, taken: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of ``[]:*?/\\``, unique."""
    base = re.sub(r"[\[\]:*?/\\]", "-", team_id)[:31] or "Team"
    name, k = base, 2
    while name.lower() in taken:
        name = f"{base[:28]}~{k}"
        k += 1
    taken.add(name.lower())
    return name


def _week_sheet(sheet: Worksheet, plan: WeekPlan) -> None:
    _table_header(sheet, WEEK_COLUMNS, title=f"Week of {plan.days[0]:%d %b %Y}: team-days")
    for r in plan.routes:
        append_row(
            sheet,
            [
                r.team_id,
                r.team_name,
                r.day,
                f"{r.day:%a}",
                _minute(r.depart),
                _minute(r.back),
                len(r.stops),
                round(r.metres / 1000, 1),
                round(r.driving_seconds / 3600, 2),
                round(r.on_site_seconds / 3600, 2),
            ],
        )
    _formats(sheet, {3: "yyyy-mm-dd", 5: _TIME, 6: _TIME})
    sheet.append([])
    for key, value in plan.totals().items():
        append_row(sheet, [key.replace("_", " "), value])


def _team_sheet(sheet: Worksheet, routes: Sequence[DayRoute], plan: WeekPlan) -> None:
    name = routes[0].team_name
    _table_header(sheet, TEAM_COLUMNS, title=f"{name} - week of {plan.days[0]:%d %b %Y}")
    for route in routes:
        base = plan.base_positions.get(route.team_id)
        _base_row(sheet, route, "Leave base", base, leave=route.depart)
        for stop in route.stops:
            append_row(sheet, _stop_row(route, stop))
        _base_row(sheet, route, "Back at base", base, arrive=route.back)
    _formats(sheet, {1: "yyyy-mm-dd", 7: _TIME, 8: _TIME, 9: _TIME, 14: _DEGREES, 15: _DEGREES})
    for row in sheet.iter_rows(min_row=2):
        row[-1].alignment = row[-2].alignment = Alignment(wrap_text=True, vertical="top")
        _fit_row_height(sheet, row[0].row)


def _stop_row(route: DayRoute, stop: Stop) -> list[object]:
    task = stop.task
    return [
        route.day,
        f"{route.day:%a}",
        stop.order,
        task.site_id,
        task.site_name,
        task.service,
        _minute(stop.arrival),
        _minute(stop.start),
        _minute(stop.departure),
        round(stop.travel_seconds / 60),
        round(stop.travel_metres / 1000, 1),
        task.people,
        task.kits or None,
        round(task.lat, 6),
        round(task.lon, 6),
        task.admin_code,
        access_text(task) or None,
        task.notes or None,
    ]


def _base_row(
    sheet: Worksheet,
    route: DayRoute,
    label: str,
    base: tuple[float, float] | None,
    *,
    leave: dt.datetime | None = None,
    arrive: dt.datetime | None = None,
) -> None:
    back = arrive is not None
    append_row(
        sheet,
        [
            route.day,
            f"{route.day:%a}",
            None,
            None,
            label,
            None,
            _minute(arrive) if arrive else None,
            None,
            _minute(leave) if leave else None,
            round(route.return_seconds / 60) if back else None,
            round(route.return_metres / 1000, 1) if back else None,
            None,
            None,
            round(base[1], 6) if base else None,
            round(base[0], 6) if base else None,
        ],
    )
    for cell in sheet[sheet.max_row]:
        cell.fill = _BASE_FILL
        cell.font = Font(italic=True)


def _left_out_sheet(sheet: Worksheet, left_out: Sequence[LeftOut]) -> None:
    _table_header(sheet, LEFT_OUT_COLUMNS, title="Tasks left out this week, and why")
    ranked = sorted(left_out, key=lambda lo: -lo.task.score)
    for lo in ranked:
        t = lo.task
        append_row(
            sheet,
            [
                t.id,
                t.site_id,
                t.site_name,
                t.layer,
                t.service,
                t.status,
                t.days_overdue,
                t.people,
                round(t.score, 2),
                lo.reason.text,
                lo.detail,
                round(t.lat, 6),
                round(t.lon, 6),
            ],
        )
    _formats(sheet, {12: _DEGREES, 13: _DEGREES})


def _table_header(sheet: Worksheet, columns: Sequence[Column], *, title: str) -> None:
    """Header row, frozen and repeated on every printed page, as tall as its wrapped titles;
    landscape A4, one page wide; see :func:`_print_bands` for the page header and footer."""
    append_row(sheet, [name for name, _ in columns])
    for k, (_, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(k)].width = width
        cell = sheet.cell(row=1, column=k)
        cell.font, cell.fill = Font(bold=True), _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    _fit_row_height(sheet, 1)
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}1"
    setup = sheet.page_setup
    setup.orientation, setup.paperSize = "landscape", sheet.PAPERSIZE_A4
    setup.fitToWidth, setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = True
    _print_bands(sheet, title)


def _print_bands(sheet: Worksheet, title: str) -> None:
    """The page header (title left, page number right: both short, so they never meet) and
    footer (the sensitivity notice alone, centred, small), in margins of their own so that
    LibreOffice and Excel print them clear of the table."""
    sheet.oddHeader.left.text, sheet.oddHeader.left.size = title, 10
    sheet.oddHeader.right.text, sheet.oddHeader.right.size = "Page &P of &N", 9
    sheet.oddFooter.center.text, sheet.oddFooter.center.size = SENSITIVE_NOTICE, 8
    sheet.page_margins = PageMargins(
        left=0.4, right=0.4, top=0.75, bottom=0.75, header=0.3, footer=0.3
    )


LINE_POINTS = 15.0
"""The height of one line of 11-point text in a row, in points (Excel's default row)."""


def _fit_row_height(sheet: Worksheet, row: int) -> None:
    """Make a row as tall as its longest wrapped cell (LibreOffice does not grow rows that a
    file leaves without a height, so wrapped text would spill over the rows below)."""
    lines = 1
    for cell in sheet[row]:
        if cell.value is None or not (cell.alignment and cell.alignment.wrap_text):
            continue
        width = sheet.column_dimensions[cell.column_letter].width or 8.43
        lines = max(lines, _wrapped_lines(str(cell.value), int(width)))
    sheet.row_dimensions[row].height = LINE_POINTS * lines if lines > 1 else None


def _wrapped_lines(text: str, width: int) -> int:
    """Lines ``text`` takes wrapped at word boundaries in a column ``width`` characters wide
    (a little narrower, for the cell's padding and bold type)."""
    room = max(1, width - 2)
    return sum(len(textwrap.wrap(part, room) or [""]) for part in text.splitlines() or [""])


def _formats(sheet: Worksheet, formats: Mapping[int, str]) -> None:
    for row in sheet.iter_rows(min_row=2):
        for column, number_format in formats.items():
            if column <= len(row):
                row[column - 1].number_format = number_format


# --- HTML -----------------------------------------------------------------------------------

_STYLE = string.Template("""
@page { size: A4 landscape; margin: 12mm 10mm; }
* { box-sizing: border-box; }
body { font: 10pt/1.3 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: $ink;
       margin: 0; }
@media screen { body { max-width: 277mm; margin: 8mm auto; padding: 0 4mm; } }
.notice { border: 2px solid $notice; color: $notice; font-weight: bold; padding: 3px 8px;
          margin: 0 0 6px; }
h1 { font-size: 15pt; margin: 0 0 2px; }
.meta { margin: 0 0 6px; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid $rule; padding: 3px 4px; vertical-align: top; text-align: left; }
th { background: $header; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
tr.stop td { height: 15mm; }
tr.base td { background: $base; font-style: italic; }
td.time { white-space: nowrap; }
table { table-layout: fixed; }
td { overflow-wrap: anywhere; }
.small { font-size: 8.5pt; color: $small; }
footer { margin-top: 6px; }
a { color: $ink; }
@media screen and (max-width: 699px) {
  body { margin: 0; padding: 8px; font-size: 13pt; max-width: none; }
  table, tbody, tr, td { display: block; width: auto !important; }
  table { table-layout: auto; }
  thead, colgroup, td.notes { display: none; }
  tr.stop, tr.base { border: 1px solid $rule; margin: 0 0 8px; padding: 4px 6px; }
  tr.stop td, tr.base td { border: none; height: auto; padding: 1px 0; }
  td:empty { display: none; }
  td[data-label]::before { content: attr(data-label) ": "; color: $small; font-size: 10pt; }
}
""").substitute(
    ink=PRINT_INK,
    notice=PRINT_NOTICE,
    rule=PRINT_RULE,
    header=PRINT_HEADER_FILL,
    base=PRINT_BASE_FILL,
    small=PRINT_SMALL_INK,
)
"""The printed pages' style sheet, in the print palette of :mod:`geoplan.maps.style`."""

_DAY_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ team_name }} - {{ date_long }}</title>
<style>@STYLE@</style>
</head>
<body>
<p class="notice" role="note">{{ notice }}</p>
<h1>{{ team_name }} <span class="small">({{ team_id }})</span> - {{ date_long }}</h1>
<p class="meta">Leave base {{ depart }}, back at base {{ back }}.
{{ stops|length }} stop(s), {{ km }} km, {{ driving }} driving, {{ on_site }} on site.
People expected: {{ people }}.</p>
<table>
<colgroup><col style="width:3%"><col style="width:5.5%"><col style="width:5.5%">
<col style="width:5.5%"><col style="width:19%"><col style="width:10%"><col style="width:8%">
<col style="width:12%"><col style="width:15%"><col style="width:16.5%"></colgroup>
<thead><tr><th>{{ label.order }}</th><th>{{ label.arrival }}</th><th>{{ label.start }}</th><th>{{ label.departure }}</th><th>{{ label.site_name }}</th><th>Position</th>
<th>{{ label.service }}</th><th>People expected</th><th>Access</th><th>Notes</th></tr></thead>
<tbody>
<tr class="base"><td></td><td></td><td></td><td class="time">{{ depart }}</td>
<td>Leave base</td><td class="num">{{ base }}</td><td></td><td></td><td></td><td></td></tr>
{% for s in stops %}<tr class="stop">
<td class="num" data-label="{{ label.order }}">{{ s.order }}</td><td class="time" data-label="{{ label.arrival }}">{{ s.arrival }}</td>
<td class="time" data-label="{{ label.start }}">{{ s.start }}</td><td class="time" data-label="{{ label.departure }}">{{ s.departure }}</td>
<td><strong>{{ s.site_name }}</strong><br><span class="small">{{ s.site_id }} - {{ s.layer }}
<br>{{ s.travel }}</span></td>
<td class="num" data-label="Position">{{ s.position }}{% if s.admin_code %}<br><span class="small">{{ s.admin_code }}</span>{% endif %}</td>
<td data-label="{{ label.service }}">{{ s.service }}{% if s.nfi_kits %}<br><span class="small">{{ s.nfi_kits }} NFI kits</span>{% endif %}</td>
<td class="num" data-label="People expected">{{ s.people }}{% if s.breakdown %}<br><span class="small">{{ s.breakdown }}</span>{% endif %}</td>
<td data-label="Access">{{ s.access }}{% if s.notes %}<br><span class="small">{{ s.notes }}</span>{% endif %}</td>
<td class="notes"></td>
</tr>
{% endfor %}<tr class="base"><td></td><td class="time">{{ back }}</td><td></td><td></td>
<td>Back at base<br><span class="small">{{ return_leg }}</span></td><td class="num">{{ base }}</td>
<td></td><td></td><td></td><td></td></tr>
</tbody>
</table>
<footer class="small">Week plan of {{ week }}, seed {{ seed }}, travel times: {{ backend }}.
Positions are latitude, longitude (WGS 84).</footer>
</body>
</html>
"""

_INDEX_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Schedules - week of {{ week }}</title>
<style>@STYLE@</style>
</head>
<body>
<p class="notice" role="note">{{ notice }}</p>
<h1>Schedules - week of {{ week }}</h1>
<pre class="meta">{{ summary }}</pre>
<table>
<thead><tr><th>Team</th><th>Day</th><th>Leave</th><th>Back</th><th>Stops</th><th>km</th></tr></thead>
<tbody>
{% for r in routes %}<tr><td>{{ r.team }}</td><td><a href="{{ r.href }}">{{ r.day }}</a></td>
<td class="time">{{ r.depart }}</td><td class="time">{{ r.back }}</td>
<td class="num">{{ r.stops }}</td><td class="num">{{ r.km }}</td></tr>
{% else %}<tr><td colspan="6">No visits planned this week.</td></tr>
{% endfor %}</tbody>
</table>
</body>
</html>
"""

_JINJA = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
# The style sheet is our own constant, written into the templates as they are compiled; every
# value passed at render time is data and is HTML-escaped.
_DAY_TEMPLATE = _JINJA.from_string(_DAY_PAGE.replace("@STYLE@", _STYLE))
_INDEX_TEMPLATE = _JINJA.from_string(_INDEX_PAGE.replace("@STYLE@", _STYLE))


def _write_html(plan: WeekPlan, folder: Path, _lines: RouteLines) -> list[Path]:
    pages = _route_files(plan, folder / "html", "html", lambda route: day_page(plan, route))
    return [write_text(folder / "html" / "index.html", index_page(plan)), *pages]


def _route_files(
    plan: WeekPlan, folder: Path, suffix: str, text: Callable[[DayRoute], str]
) -> list[Path]:
    """One file per team-day in ``folder`` (created if needed): ``TEAM_YYYY-MM-DD.suffix``."""
    private_folder(folder)
    return [
        write_text(folder / f"{file_stem(route)}.{suffix}", text(route)) for route in plan.routes
    ]


def day_page(plan: WeekPlan, route: DayRoute) -> str:
    """The printable page of one team-day (all data HTML-escaped)."""
    base = plan.base_positions.get(route.team_id)
    people = sum(t.people for t in {s.task.site_id: s.task for s in route.stops}.values())
    return _DAY_TEMPLATE.render(
        notice=SENSITIVE_NOTICE,
        team_name=route.team_name,
        team_id=route.team_id,
        date_long=f"{route.day:%A %d %B %Y}",
        depart=_clock(route.depart),
        back=_clock(route.back),
        km=f"{route.metres / 1000:.1f}",
        driving=_duration(route.driving_seconds),
        on_site=_duration(route.on_site_seconds),
        people=people,
        base=_position(base[0], base[1]) if base else "",
        label=STOP_LABELS,
        stops=[_stop_view(route, s) for s in route.stops],
        return_leg=_leg(route.return_seconds, route.return_metres),
        week=f"{plan.days[0]:%d %b %Y}",
        seed=plan.seed,
        backend=plan.backend,
    )


_PAGE_STOP_FIELDS = (
    *("order", "arrival", "start", "departure"),
    *("site_name", "site_id", "service", "nfi_kits", "people"),
)


def _stop_view(route: DayRoute, stop: Stop) -> dict[str, object]:
    task = stop.task
    return {
        **stop_record(route, stop, names=_PAGE_STOP_FIELDS),
        "layer": task.layer.replace("_", " "),
        "travel": _leg(stop.travel_seconds, stop.travel_metres),
        "position": _position(task.lon, task.lat),
        "admin_code": task.admin_code or "",
        "breakdown": people_text(task),
        "access": access_text(task),
        "notes": task.notes,
    }


def index_page(plan: WeekPlan) -> str:
    """The list of team-day pages with the week's summary."""
    routes = [
        {
            "team": f"{r.team_name} ({r.team_id})",
            "day": f"{r.day:%a %d %b}",
            "href": f"{file_stem(r)}.html",
            **route_record(r, names=("depart", "back", "stops")),
            "km": f"{r.metres / 1000:.1f}",
        }
        for r in plan.routes
    ]
    return _INDEX_TEMPLATE.render(
        notice=SENSITIVE_NOTICE,
        week=f"{plan.days[0]:%d %b %Y}",
        summary=plan.summary(),
        routes=routes,
    )


def _position(lon: float, lat: float) -> str:
    return f"{lat:.5f}, {lon:.5f}"


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _leg(seconds: float, metres: float) -> str:
    return f"{seconds / 60:.0f} min, {metres / 1000:.1f} km drive"


# --- GeoJSON --------------------------------------------------------------------------------


def straight_line(plan: WeekPlan, route: DayRoute) -> Coords:
    """Base, stops in order, base: the team-day as straight legs (repeated places once)."""
    base = plan.base_positions.get(route.team_id)
    stops = [(s.task.lon, s.task.lat) for s in route.stops]
    points = [base, *stops, base] if base else stops
    out: list[tuple[float, float]] = []
    for p in points:
        if p is not None and (not out or out[-1] != p):
            out.append((float(p[0]), float(p[1])))
    return tuple(out)


def plan_geojson(plan: WeekPlan, *, lines: RouteLines | None = None) -> dict[str, object]:
    """Team bases, stops and one line per team-day as a GeoJSON FeatureCollection."""
    lines = lines or {}
    features = [*_base_features(plan), *_stop_features(plan)]
    features += [_route_feature(plan, r, lines.get(route_id(r))) for r in plan.routes]
    return {
        "type": "FeatureCollection",
        "name": f"week plan {plan.days[0].isoformat()}",
        "notice": SENSITIVE_NOTICE,
        "features": features,
    }


def _point(lon: float, lat: float) -> dict[str, object]:
    return {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}


def _base_features(plan: WeekPlan) -> Iterator[dict[str, object]]:
    for team_id, (lon, lat) in plan.base_positions.items():
        yield {
            "type": "Feature",
            "geometry": _point(lon, lat),
            "properties": {"kind": "base", "team_id": team_id},
        }


_GEOJSON_STOP_FIELDS = (
    *("team_id", "date", "order", "task_id", "site_id", "site_name", "layer", "service"),
    *("arrival", "start", "departure", "travel_min", "travel_km", "people", "nfi_kits"),
)
"""The stop fields (:data:`~geoplan.planning.STOP_FIELDS`) a stop of ``plan.geojson`` carries."""


def _stop_features(plan: WeekPlan) -> Iterator[dict[str, object]]:
    for route in plan.routes:
        for stop in route.stops:
            fields = stop_record(route, stop, names=_GEOJSON_STOP_FIELDS)
            yield {
                "type": "Feature",
                "geometry": _point(stop.task.lon, stop.task.lat),
                "properties": {"kind": "stop", "route": route_id(route), **fields},
            }


_GEOJSON_ROUTE_FIELDS = ("team_id", "team_name", "date", "depart", "back", "stops")


def _route_feature(plan: WeekPlan, route: DayRoute, road: Coords | None) -> dict[str, object]:
    coords = road or straight_line(plan, route)
    return {
        "type": "Feature",
        "geometry": {
            "type": "LineString",
            "coordinates": [[round(x, 6), round(y, 6)] for x, y in coords],
        },
        "properties": {
            "kind": "route",
            "route": route_id(route),
            **route_record(route, names=_GEOJSON_ROUTE_FIELDS),
            "km": round(route.metres / 1000, 2),
            "driving_min": round(route.driving_seconds / 60, 1),
            "geometry": "roads" if road else "straight legs",
        },
    }


def _write_geojson(plan: WeekPlan, folder: Path, lines: RouteLines) -> list[Path]:
    text = json.dumps(plan_geojson(plan, lines=lines), ensure_ascii=False, indent=1)
    return [write_text(folder / "plan.geojson", text)]


# --- GPX ------------------------------------------------------------------------------------


def route_gpx(plan: WeekPlan, route: DayRoute, *, road: Coords | None = None) -> str:
    """One team-day as GPX 1.1: base and stops as waypoints, then the route in order.

    When the roads driven are known they are added as a track.
    """
    ET.register_namespace("", GPX_NS)
    root = ET.Element(_gpx("gpx"), {"version": "1.1", "creator": "geoplan"})
    meta = ET.SubElement(root, _gpx("metadata"))
    _text(meta, "name", f"{route.team_name} {route.day:%a %d %b %Y}")
    _text(meta, "desc", SENSITIVE_NOTICE)
    points = list(_gpx_points(plan, route))
    has_base = route.team_id in plan.base_positions
    for gpx_point in points[:-1] if has_base else points:  # the base once
        _waypoint(root, "wpt", gpx_point)
    rte = ET.SubElement(root, _gpx("rte"))
    _text(rte, "name", f"{route.team_id} {route.day.isoformat()}")
    for gpx_point in points:
        _waypoint(rte, "rtept", gpx_point)
    if road:
        _track(root, route, road)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _gpx_points(plan: WeekPlan, route: DayRoute) -> Iterator[GpxPoint]:
    base = plan.base_positions.get(route.team_id)
    if base:
        yield base[0], base[1], "Base", f"leave {_clock(route.depart)}"
    for s in route.stops:
        times = stop_record(route, s, names=("arrival", "start", "departure"))
        desc = ", ".join(
            [s.task.service, *(f"{STOP_LABELS[k].lower()} {t}" for k, t in times.items())]
        )
        yield s.task.lon, s.task.lat, f"{s.order} {s.task.site_name}", desc
    if base:
        yield base[0], base[1], "Base", f"back {_clock(route.back)}"


def _gpx(tag: str) -> str:
    return f"{{{GPX_NS}}}{tag}"


def _text(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, _gpx(tag)).text = value


def _waypoint(parent: ET.Element, tag: str, gpx_point: GpxPoint) -> None:
    lon, lat, name, desc = gpx_point
    point = ET.SubElement(parent, _gpx(tag), {"lat": f"{lat:.6f}", "lon": f"{lon:.6f}"})
    _text(point, "name", name)
    _text(point, "desc", desc)


def _track(root: ET.Element, route: DayRoute, road: Coords) -> None:
    track = ET.SubElement(root, _gpx("trk"))
    _text(track, "name", f"{route.team_id} {route.day.isoformat()} roads")
    segment = ET.SubElement(track, _gpx("trkseg"))
    for lon, lat in road:
        ET.SubElement(segment, _gpx("trkpt"), {"lat": f"{lat:.6f}", "lon": f"{lon:.6f}"})


def _write_gpx(plan: WeekPlan, folder: Path, lines: RouteLines) -> list[Path]:
    def text(route: DayRoute) -> str:
        return route_gpx(plan, route, road=lines.get(route_id(route)))

    return _route_files(plan, folder / "gpx", "gpx", text)


_WRITERS: Mapping[str, Callable[[WeekPlan, Path, RouteLines], list[Path]]] = {
    "csv": _write_csv,
    "xlsx": _write_xlsx,
    "html": _write_html,
    "geojson": _write_geojson,
    "gpx": _write_gpx,
}

__all__ = [
    "FORMATS",
    "SENSITIVE_NOTICE",
    "access_hours",
    "access_text",
    "check_formats",
    "day_page",
    "file_stem",
    "index_page",
    "plan_geojson",
    "route_gpx",
    "route_id",
    "straight_line",
    "write_schedules",
]
