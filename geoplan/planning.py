"""Weekly outreach plans: which team visits which sites, on which day, in which order.

The week is planned in four steps, each a small function:

1. :func:`tasks_for_week` turns sites and the visit history into visit tasks: a site needs each
   of its services every N days; a task is due when its interval has run out (or the site was
   never visited) and may be done early when its due date falls soon after the week.
2. :func:`priority` scores every task (see :class:`PriorityParams`); the score becomes the
   task's prize, so when time runs short the solver leaves out the lowest-priority tasks.
3. :func:`left_out_by_rule` checks, before solving, every reason a task cannot be done at all
   (inaccessible, inside a no-go zone, no team offers the service, closed on every working day,
   cut off by a no-go zone, cannot be reached and returned from within any shift). The rest
   goes to the solver; what it leaves out was left out for higher-priority tasks, and
   :func:`no_time_detail` says which teams could have gone and how their days fell short.
4. :func:`plan_week` builds the routing problem, solves it (:mod:`geoplan.solver`) and returns
   a :class:`WeekPlan`. :func:`geoplan.workspace.plan_week_from_store` reads the layers, builds the travel-time
   matrix with the week's no-go zones closed, and delegates.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.absences import Absence, away_on
from geoplan.catalog import get_layer, split_list
from geoplan.errors import ParameterError, PlanningError
from geoplan.overdue import days_overdue, due_date
from geoplan.progress import Progress, tell
from geoplan.solver import (
    Depot,
    Route,
    RoutingProblem,
    SearchCallback,
    Solution,
    SolveProgress,
    SolverParams,
    Task,
    TimeWindow,
    Vehicle,
    solve,
)
from geoplan.solver.candidates import (
    CandidateParams,
    CandidateSolution,
    Week,
    solve_candidates,
)
from geoplan.travel.backend import TravelTimeBackend
from geoplan.travel.demand import OnDemandTimes, TravelTimes
from geoplan.travel.matrix import (
    StraightLineBackend,
    TravelTimeMatrix,
    matrix_from_points,
    points_from_frame,
)
from geoplan.vocab import LeftOutReason, Service, SexAge, Weekday
from geoplan.zones import Closures, active_zones, inside_zone_reason

PLANNED_LAYERS = ("gathering_points", "detention_centres", "cip_sites")
DAY = 86400


# --- parameters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PriorityParams:
    """How a task's priority score is made; the one place that ranks tasks.

    ``score = (1 + people_weight * log10(1 + people)) * timing
    + vulnerability_weight * flags + never_visited_bonus`` where ``timing`` is
    ``1 + overdue_bonus + overdue_weight * min(overdue / frequency, max_overdue_intervals)`` for
    an overdue task, ``1`` for a task due during the week and ``early_factor`` for one that is
    not due yet. Any overdue task thus outranks a merely due one with the same people.

    Parameters
    ----------
    people_weight
        Weight of the (log) number of people the site serves.
    overdue_bonus
        Added to the timing factor of every overdue task.
    overdue_weight
        Weight per frequency interval a task is overdue.
    max_overdue_intervals
        Cap on the intervals counted, so one forgotten site cannot swamp the week.
    vulnerability_weight
        Added per vulnerability flag of the site.
    never_visited_bonus
        Added when the site has never been visited for the service.
    early_factor
        Timing factor of tasks that are not due yet (done early when a team passes by).
    """

    people_weight: float = 1.0
    overdue_bonus: float = 0.5
    overdue_weight: float = 1.0
    max_overdue_intervals: float = 3.0
    vulnerability_weight: float = 0.5
    never_visited_bonus: float = 1.0
    early_factor: float = 0.2

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) < 0:
                raise ParameterError(
                    f"priority.{f.name}: expected 0 or more, got {getattr(self, f.name)}"
                )
        if self.overdue_bonus <= 0:
            raise ParameterError("priority.overdue_bonus: must be above 0 so overdue outranks due")


@dataclass(frozen=True)
class PlanningParams:
    """Planning parameters; :func:`geoplan.params.load_params` reads them from a TOML file.

    Parameters
    ----------
    service_minutes
        Minutes on site per service, unless a site sets ``service_minutes``.
    priority
        How tasks are ranked.
    prize_seconds_per_point
        How many seconds of driving one priority point is worth: the exchange rate between
        travel time and priority in the solver's objective. Time on site does not count
        against a task: its prize includes it.
    early_days
        Tasks due up to this many days after the week may be done early.
    nfi_kits_per_person
        NFI kits an NFI visit hands out per person at the site (rounded up).
    max_stops
        Most sites a team visits in a day, unless the team sets its own; ``None`` for no limit.
    cip_statuses
        CIP project statuses that still need visits.
    time_limit
        Seconds the solver searches.
    solver
        How the search runs besides its time limit and seed (the file's ``[solver]`` table).
    candidates
        Which tasks reach the routing model (``[planning.candidates]``): each team-day's most
        promising ones on a large week; see :mod:`geoplan.solver.candidates`.
    replan_move_minutes
        In a re-plan, the minutes of driving a stop of the old plan must save before it moves
        to another team or day (its prize there is this much lower); 0 re-plans freely.
    """

    service_minutes: Mapping[str, int] = field(
        default_factory=lambda: {
            Service.HEALTH: 90,
            Service.MHPSS: 60,
            Service.PROTECTION: 60,
            Service.NFI: 45,
            Service.MONITORING: 60,
        }
    )
    priority: PriorityParams = field(default_factory=PriorityParams)
    prize_seconds_per_point: int = 3600
    early_days: int = 7
    nfi_kits_per_person: float = 0.25
    max_stops: int | None = None
    cip_statuses: tuple[str, ...] = ("planned", "in_progress", "completed")
    time_limit: float = 20.0
    solver: SolverParams = field(default_factory=SolverParams)
    candidates: CandidateParams = field(default_factory=CandidateParams)
    replan_move_minutes: int = 60

    def __post_init__(self) -> None:
        if not 0 <= self.replan_move_minutes <= 24 * 60:
            msg = f"replan_move_minutes: expected 0 to 1440 minutes, got {self.replan_move_minutes}"
            raise ParameterError(msg)
        bad = {k: v for k, v in self.service_minutes.items() if not 1 <= v <= 600}
        if bad:
            raise ParameterError(f"service_minutes: expected 1-600 minutes, got {bad}")
        if self.prize_seconds_per_point < 1 or self.early_days < 0 or self.time_limit <= 0:
            raise ParameterError(
                "prize_seconds_per_point must be >= 1, early_days >= 0 and time_limit > 0"
            )


# --- the week -----------------------------------------------------------------------------


def week_days(
    week: str | dt.date | None = None, *, today: dt.date | None = None
) -> tuple[dt.date, ...]:
    """The seven days of a planning week, Sunday first.

    ``week`` is an ISO week (``"2026-W49"``: the Sunday before that ISO week's Monday starts
    it), any date (its week), or ``None`` for the next week starting after ``today``.

    Raises
    ------
    ParameterError
        If ``week`` is not an ISO week or a date.
    """
    if week is None:
        today = today or dt.date.today()
        start = today + dt.timedelta(days=7 - (today.isoweekday() % 7))
    elif isinstance(week, dt.date):
        start = week - dt.timedelta(days=week.isoweekday() % 7)
    else:
        start = _parse_week(week)
    return tuple(start + dt.timedelta(days=i) for i in range(7))


def _parse_week(text: str) -> dt.date:
    try:
        if "W" in text.upper():
            year, wk = text.upper().split("-W")
            return dt.date.fromisocalendar(int(year), int(wk), 1) - dt.timedelta(days=1)
        day = dt.date.fromisoformat(text)
    except ValueError:
        msg = f"week {text!r}: expected an ISO week like 2026-W49 or a date like 2026-11-29"
        raise ParameterError(msg) from None
    return day - dt.timedelta(days=day.isoweekday() % 7)


def weekday_code(day: dt.date) -> Weekday:
    """``sun``, ``mon``, ... for a date."""
    return Weekday.of(day)


# --- tasks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitTask:
    """One service to deliver at one site during the week.

    ``open_days`` are the day indexes of the week (0 = Sunday) on which the site can be
    visited, with ``open_from``/``open_until`` the seconds of the day in which service may
    start (access hours, less the time on site).
    """

    id: str
    site_id: str
    layer: str
    site_name: str
    service: str
    service_seconds: int
    frequency_days: int
    last_visit: dt.date | None
    due_date: dt.date
    days_overdue: int
    status: str  # "overdue", "due" or "early"
    people: int
    people_by_sex_age: tuple[int | None, int | None, int | None, int | None]
    vulnerability_flags: tuple[str, ...]
    access_status: str
    lon: float
    lat: float
    open_days: tuple[int, ...]
    open_from: int
    open_until: int
    kits: int = 0
    score: float = 0.0
    pinned_to: str | None = None  # vehicle id (team@date)
    admin_code: str | None = None
    access_note: str = ""  # why access is restricted, for the printed schedule
    notes: str = ""  # the site's notes for team leaders

    @property
    def never_visited(self) -> bool:
        """Whether the site never had this service."""
        return self.last_visit is None


def tasks_for_week(
    sites: Mapping[str, gpd.GeoDataFrame],
    visits: pd.DataFrame,
    days: Sequence[dt.date],
    *,
    params: PlanningParams | None = None,
    working_days: Sequence[int] = (0, 1, 2, 3, 4),
) -> list[VisitTask]:
    """Visit tasks for a week from the site layers and the visit history.

    A site needs each of its services every ``frequency`` days; a task is due when that many
    days have passed since the last visit for the service (or it never had one). Tasks due by
    the end of the week, or up to ``early_days`` after it, are candidates. A service needed
    more often than the working week is long (``working_days``, indexes with 0 = Sunday)
    gives one task per ``frequency`` working days, each on its own part of the week.
    """
    params = params or PlanningParams()
    last = last_visits(visits, before=days[0])
    tasks: list[VisitTask] = []
    for layer, frame in sites.items():
        for row in _plannable(layer, frame, params).itertuples(index=False):
            for task in _site_tasks(layer, row._asdict(), last, days, params):
                tasks += _occurrences(task, working_days)
    return [replace(t, score=priority(t, params.priority)) for t in tasks]


def last_visits(visits: pd.DataFrame, *, before: dt.date) -> dict[tuple[str, str], dt.date]:
    """Date of the last visit before a day, by (site id, service)."""
    if visits.empty:
        return {}
    frame = visits.loc[
        pd.to_datetime(visits["date"]) < pd.Timestamp(before), ["site_id", "date", "services"]
    ]
    frame = (
        frame.assign(service=frame["services"].map(split_list))
        .explode("service")
        .dropna(subset=["service"])
    )
    latest = frame.groupby(["site_id", "service"])["date"].max()
    return {(str(k[0]), str(k[1])): pd.Timestamp(v).date() for k, v in latest.items()}  # type: ignore[index]


def _plannable(layer: str, frame: gpd.GeoDataFrame, params: PlanningParams) -> gpd.GeoDataFrame:
    if layer == "cip_sites" and "status" in frame:
        frame = frame.loc[frame["status"].isin(params.cip_statuses)]
    return frame.assign(lon=frame.geometry.x, lat=frame.geometry.y).drop(
        columns=frame.geometry.name
    )


def _site_tasks(
    layer: str,
    row: Mapping[str, object],
    last: Mapping[tuple[str, str], dt.date],
    days: Sequence[dt.date],
    params: PlanningParams,
) -> list[VisitTask]:
    definition = get_layer(layer)
    frequency = _int(row.get(definition.role("frequency") or ""), 14)
    tasks = []
    for service in split_list(row.get(definition.role("services") or "")):
        previous = last.get((str(row["id"]), service))
        base = _base_task(
            layer, row, service, frequency=frequency, last=previous, days=days, params=params
        )
        if base is not None:
            tasks.append(base)
    return tasks


def _base_task(
    layer: str,
    row: Mapping[str, object],
    service: str,
    *,
    frequency: int,
    last: dt.date | None,
    days: Sequence[dt.date],
    params: PlanningParams,
    pinned: bool = False,
) -> VisitTask | None:
    """The site's task for the service this week, or None when it is not due by the end of
    the week plus ``early_days`` (a ``pinned`` task is made anyway)."""
    week_start, week_end = days[0], days[-1]
    # Overdue as of the week's first day (geoplan.overdue: the rule coverage uses too).
    due = week_start if last is None else due_date(last, frequency)
    if due > week_end + dt.timedelta(days=params.early_days) and not pinned:
        return None
    overdue = days_overdue(last, frequency, as_of=week_start) or 0
    status = "overdue" if overdue > 0 else ("due" if due <= week_end else "early")
    seconds = 60 * _int(row.get("service_minutes"), params.service_minutes.get(service, 60))
    open_days, start, until = _access(layer, row, seconds)
    definition = get_layer(layer)
    people = _int(row.get(definition.role("people") or ""), 0)
    return VisitTask(
        id=f"{row['id']}/{service}",
        site_id=str(row["id"]),
        layer=layer,
        site_name=str(row["name"]),
        service=service,
        service_seconds=seconds,
        frequency_days=frequency,
        last_visit=last,
        due_date=due,
        days_overdue=overdue,
        status=status,
        people=people,
        people_by_sex_age=tuple(_opt_int(row.get(k)) for k in SexAge),  # type: ignore[arg-type]
        vulnerability_flags=split_list(row.get(definition.role("vulnerability") or "")),
        access_status=str(row.get("access_status") or "open"),
        lon=float(row["lon"]),  # type: ignore[arg-type]
        lat=float(row["lat"]),  # type: ignore[arg-type]
        open_days=open_days,
        open_from=start,
        open_until=until,
        kits=math.ceil(people * params.nfi_kits_per_person) if service == Service.NFI else 0,
        admin_code=_text(row.get("admin_code")) or None,
        access_note=_text(row.get("access_reason")),
        notes=_text(row.get("notes")),
    )


def _access(
    layer: str, row: Mapping[str, object], service_seconds: int
) -> tuple[tuple[int, ...], int, int]:
    """Days (0 = Sunday) and start-of-service seconds in which the site can be visited."""
    definition = get_layer(layer)
    days_field = definition.role("access_days")
    if days_field is None:
        return tuple(range(7)), 0, DAY - 1
    open_days = tuple(Weekday(d).number for d in split_list(row.get(days_field)))
    start = _seconds(row.get(definition.role("access_start") or ""), 0)
    end = _seconds(row.get(definition.role("access_end") or ""), DAY - 1)
    return open_days, start, end - service_seconds


def _occurrences(task: VisitTask, working_days: Sequence[int]) -> list[VisitTask]:
    """A service needed more often than the working week is long: one task per part of it."""
    count = math.ceil(len(working_days) / task.frequency_days)
    if count <= 1:
        return [task]
    parts = np.array_split(np.asarray(sorted(working_days)), count)
    return [
        replace(
            task, id=f"{task.id}#{k + 1}", open_days=tuple(d for d in task.open_days if d in part)
        )
        for k, part in enumerate(parts)
    ]


def priority(task: VisitTask, params: PriorityParams) -> float:
    """The task's priority score (see :class:`PriorityParams`)."""
    if task.status == "overdue":
        intervals = min(task.days_overdue / task.frequency_days, params.max_overdue_intervals)
        timing = 1 + params.overdue_bonus + params.overdue_weight * intervals
    else:
        timing = 1.0 if task.status == "due" else params.early_factor
    people = 1 + params.people_weight * math.log10(1 + task.people)
    extra = params.vulnerability_weight * len(task.vulnerability_flags)
    return people * timing + extra + (params.never_visited_bonus if task.never_visited else 0.0)


def _opt_int(value: object) -> int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value)  # type: ignore[call-overload]


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _int(value: object, default: int) -> int:
    found = _opt_int(value)
    return default if found is None else found


def _seconds(value: object, default: int) -> int:
    if not isinstance(value, str) or ":" not in value:
        return default
    hours, minutes = value.split(":")[:2]
    return int(hours) * 3600 + int(minutes) * 60


# --- teams --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamDay:
    """One team's working day: one route from its base and back within its shift."""

    team_id: str
    team_name: str
    day: dt.date
    day_index: int
    services: frozenset[str]
    shift_start: int  # seconds of the day
    shift_end: int
    kits: int
    max_stops: int | None

    @property
    def id(self) -> str:
        """Vehicle id: ``team@YYYY-MM-DD``."""
        return f"{self.team_id}@{self.day.isoformat()}"

    @property
    def base(self) -> str:
        """Location id of the team's base."""
        return base_location(self.team_id)


def base_location(team_id: str) -> str:
    """Location id of a team's base in the travel-time matrix."""
    return f"base:{team_id}"


def team_days(
    teams: gpd.GeoDataFrame,
    days: Sequence[dt.date],
    *,
    params: PlanningParams | None = None,
    absences: Sequence[Absence] = (),
) -> list[TeamDay]:
    """Every team's working days in the week, but for the days it is away."""
    params = params or PlanningParams()
    out = []
    for row in teams.itertuples(index=False):
        working = set(split_list(row.working_days)) or set(tuple(Weekday)[:5])
        for index, day in enumerate(days):
            away = away_on(absences, str(row.id), day)
            if weekday_code(day) in working and away is None:
                out.append(_team_day(row, day, index, params))
    return out


def _team_day(row: object, day: dt.date, index: int, params: PlanningParams) -> TeamDay:
    get = row._asdict().get  # type: ignore[attr-defined]
    stops = _opt_int(get("max_stops")) or params.max_stops
    return TeamDay(
        team_id=str(get("id")),
        team_name=str(get("name")),
        day=day,
        day_index=index,
        services=frozenset(split_list(get("services"))),
        shift_start=_seconds(get("shift_start"), 8 * 3600),
        shift_end=_seconds(get("shift_end"), 15 * 3600),
        kits=_int(get("nfi_kits"), 0),
        max_stops=stops,
    )


# --- left out by rule ---------------------------------------------------------------------


@dataclass(frozen=True)
class LeftOut:
    """A task the plan does not do, with its one reason and the detail behind it."""

    task: VisitTask
    reason: LeftOutReason
    detail: str


def left_out_by_rule(
    tasks: Sequence[VisitTask],
    days: Sequence[TeamDay],
    matrix: TravelTimes,
    closures: Closures,
    *,
    bases: Mapping[str, tuple[float, float]] | None = None,
) -> dict[str, LeftOut]:
    """Tasks that cannot be done at all this week, each with the first reason that applies.

    ``bases`` (team id -> longitude, latitude) lets a site that no base reaches name the
    no-go zones on the way (:data:`LeftOutReason.CUT_OFF_BY_NO_GO_ZONE`); without it the
    detail names the zones active that week.
    """
    zones = (
        closures.zone_containing(np.array([t.lon for t in tasks]), np.array([t.lat for t in tasks]))
        if tasks
        else []
    )
    reach = _Reach(matrix, closures, bases or {})
    out = {}
    for task, zone in zip(tasks, zones, strict=True):
        found = _reason(task, zone, days, reach)
        if found is not None:
            out[task.id] = LeftOut(task, *found)
    return out


@dataclass(frozen=True)
class _Reach:
    """What the reach rules read: the travel times, the week's zones and the bases' positions."""

    matrix: TravelTimes
    closures: Closures
    bases: Mapping[str, tuple[float, float]]


def _reason(
    task: VisitTask, zone: str | None, days: Sequence[TeamDay], reach: _Reach
) -> tuple[LeftOutReason, str] | None:
    if task.access_status == "inaccessible":
        note = f" ({task.access_note})" if task.access_note else ""
        return LeftOutReason.INACCESSIBLE, f"{task.site_name} is marked inaccessible{note}"
    if zone is not None:
        return LeftOutReason.IN_NO_GO_ZONE, f"{task.site_name}: {inside_zone_reason(zone)}"
    able = [d for d in days if task.service in d.services]
    if not able:
        return LeftOutReason.NO_TEAM, f"no planned team offers {task.service}"
    open_days = [d for d in able if d.day_index in task.open_days and _window(task, d) is not None]
    if not open_days:
        teams = _names(d.team_name for d in able)
        return (
            LeftOutReason.CLOSED,
            f"{task.site_name} cannot be visited on any day its {task.service} teams "
            f"({teams}) work",
        )
    if not any(_fits(task, d, reach.matrix) for d in open_days):
        return _unreachable(task, open_days, reach)
    return None


def _window(task: VisitTask, day: TeamDay) -> tuple[int, int] | None:
    """Start-of-service window on a team-day (seconds of the day), or None if it misses the shift."""
    start = max(task.open_from, day.shift_start)
    end = min(task.open_until, day.shift_end - task.service_seconds)
    return (start, end) if start <= end else None


def _fits(task: VisitTask, day: TeamDay, matrix: TravelTimes) -> bool:
    """Whether a route base -> site -> base alone fits the shift and the access window."""
    window = _window(task, day)
    out, back = _out_and_back(task, day, matrix)
    if window is None or out is None or back is None:
        return False
    start = max(day.shift_start + out, window[0])
    return start <= window[1] and start + task.service_seconds + back <= day.shift_end


def _out_and_back(
    task: VisitTask, day: TeamDay, matrix: TravelTimes
) -> tuple[float | None, float | None]:
    """Seconds from the team-day's base to the site and back; ``None`` for no route."""
    out, back = matrix.time(day.base, task.site_id), matrix.time(task.site_id, day.base)
    return (None if math.isnan(out) else out), (None if math.isnan(back) else back)


def _unreachable(
    task: VisitTask, days: Sequence[TeamDay], reach: _Reach
) -> tuple[LeftOutReason, str]:
    """Why no team-day can go and come back: no route at all (a zone in the way, the site's own
    reason), or a route too long for every shift and access window."""
    routed = {d.team_id: d for d in days if None not in _out_and_back(task, d, reach.matrix)}
    cut = list({d.team_id: d for d in days if d.team_id not in routed}.values())
    if routed:
        return LeftOutReason.OUT_OF_REACH, _reach_detail(task, list(routed.values()), cut, reach)
    own = reach.matrix.reasons.get(task.site_id)
    if own is None and not reach.closures.empty:
        zones = _zones_between(task, [d.team_id for d in cut], reach)
        detail = f"{task.site_name}: no base reaches it without crossing {zones}"
        return LeftOutReason.CUT_OFF_BY_NO_GO_ZONE, detail
    why = own or _no_route(cut, reach) or "no route from any base"
    return LeftOutReason.OUT_OF_REACH, f"{task.site_name}: {why}"


def _reach_detail(
    task: VisitTask, days: Sequence[TeamDay], cut: Sequence[TeamDay], reach: _Reach
) -> str:
    """The nearest base that has a route (never ``nan``), and why the other bases have none."""
    day = min(days, key=lambda d: sum(x or 0.0 for x in _out_and_back(task, d, reach.matrix)))
    out, back = _out_and_back(task, day, reach.matrix)
    text = (
        f"{task.site_name}: {(out or 0) / 60:.0f} min from the nearest base ({day.team_name}) "
        f"and {(back or 0) / 60:.0f} min back, plus {task.service_seconds // 60} min on site, "
        "do not fit any shift or access window"
    )
    if not cut:
        return text
    why = _no_route(cut, reach)
    if not why and reach.closures.empty:
        why = "no route"
    elif not why:
        why = f"cut off by {_zones_between(task, [d.team_id for d in cut], reach)}"
    return f"{text}; no route from the base of {_names(d.team_name for d in cut)} ({why})"


def _no_route(cut: Sequence[TeamDay], reach: _Reach) -> str:
    """Why the bases have no route when it is their own (inside a zone, far from a road); empty
    when the bases themselves are usable."""
    own = [
        f"the base of {d.team_name} is {reach.matrix.reasons[d.base]}"
        for d in cut
        if d.base in reach.matrix.reasons
    ]
    return "; ".join(own)


def _zones_between(task: VisitTask, team_ids: Sequence[str], reach: _Reach) -> str:
    """``no-go zone(s) <names>``: the active zones that the straight ways from the bases to the
    site cross (every active zone when no base position is known or no straight way crosses
    one: a road detour may be what the zone closes)."""
    zones = reach.closures.zones
    crossed: set[str] = set()
    for team_id in team_ids:
        if team_id not in reach.bases:
            continue
        lon, lat = reach.bases[team_id]
        for name, geometry in zip(zones["name"], zones.geometry, strict=True):
            if geometry.intersects(shapely.LineString([(lon, lat), (task.lon, task.lat)])):
                crossed.add(str(name))
    names = sorted(crossed) or sorted({str(n) for n in zones["name"]})
    return f"no-go zone{'s' if len(names) > 1 else ''} {_names(names)}"


def _names(names: Iterable[str], *, most: int = 4) -> str:
    """``a, b and c`` (distinct, in order; ``and N more`` past ``most``)."""
    unique = list(dict.fromkeys(names))
    if len(unique) > most:
        unique = [*unique[:most], f"{len(unique) - most} more"]
    return unique[0] if len(unique) == 1 else f"{', '.join(unique[:-1])} and {unique[-1]}"


# --- the plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Stop:
    """One visit in a team-day route."""

    order: int
    task: VisitTask
    arrival: dt.datetime
    start: dt.datetime
    departure: dt.datetime
    travel_seconds: float
    travel_metres: float


@dataclass(frozen=True)
class DayRoute:
    """One team-day: ordered stops from the base and back."""

    team_id: str
    team_name: str
    day: dt.date
    depart: dt.datetime
    back: dt.datetime
    stops: tuple[Stop, ...]
    return_seconds: float
    return_metres: float

    @property
    def metres(self) -> float:
        """Distance driven, base to base."""
        return sum(s.travel_metres for s in self.stops) + self.return_metres

    @property
    def driving_seconds(self) -> float:
        """Time driving, base to base."""
        return sum(s.travel_seconds for s in self.stops) + self.return_seconds

    @property
    def on_site_seconds(self) -> float:
        """Time on site."""
        return float(sum(s.task.service_seconds for s in self.stops))


@dataclass(frozen=True)
class WeekPlan:
    """A week of routes, what was left out and why, and how the plan was made.

    ``seed``, ``runtime``, ``iterations`` and ``stopped_by`` describe the solver's run (see
    :class:`geoplan.solver.Solution`).
    """

    days: tuple[dt.date, ...]
    routes: tuple[DayRoute, ...]
    left_out: tuple[LeftOut, ...]
    objective: int
    seed: int
    runtime: float
    backend: str
    base_positions: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    iterations: int = 0
    stopped_by: str = ""

    @property
    def stops(self) -> list[Stop]:
        """Every stop of the week."""
        return [s for r in self.routes for s in r.stops]

    def people_reached(self) -> dict[str, int]:
        """People expected to be reached (each site counted once): total and by sex/age."""
        seen: dict[str, VisitTask] = {s.task.site_id: s.task for s in self.stops}
        totals = {"people": sum(t.people for t in seen.values())}
        for i, key in enumerate(SexAge):
            totals[key] = sum(t.people_by_sex_age[i] or 0 for t in seen.values())
        return totals

    def totals(self) -> dict[str, float]:
        """Tasks done and left out, kilometres, driving and on-site hours, people reached."""
        return {
            "tasks_done": len(self.stops),
            "tasks_left_out": len(self.left_out),
            "sites_visited": len({s.task.site_id for s in self.stops}),
            "team_days_used": sum(1 for r in self.routes if r.stops),
            "km": round(sum(r.metres for r in self.routes) / 1000, 1),
            "driving_hours": round(sum(r.driving_seconds for r in self.routes) / 3600, 1),
            "on_site_hours": round(sum(r.on_site_seconds for r in self.routes) / 3600, 1),
            **self.people_reached(),
        }

    def summary(self) -> str:
        """A few lines for team leaders."""
        t = self.totals()
        lines = [
            f"Week {self.days[0]:%a %d %b} - {self.days[4]:%a %d %b %Y}: "
            f"{t['tasks_done']:.0f} visits at {t['sites_visited']:.0f} sites in {t['team_days_used']:.0f} team-days",
            f"  {t['km']:.0f} km, {t['driving_hours']:.1f} h driving, {t['on_site_hours']:.1f} h on site",
            f"  people expected: {t['people']:.0f} (where known: men {t['men']:.0f}, women {t['women']:.0f}, "
            f"boys {t['boys']:.0f}, girls {t['girls']:.0f})",
            f"  left out: {tasks_at_sites(self.left_out)}{_overdue_note(self.left_out)}",
        ]
        lines += [
            f"    {tasks_at_sites(left)}: {reason.text}"
            for reason, left in self.left_out_by_reason().items()
        ]
        return "\n".join(lines)

    def left_out_by_reason(self) -> dict[LeftOutReason, tuple[LeftOut, ...]]:
        """The tasks left out by reason, the reason with most tasks first (then in the order of
        :class:`LeftOutReason`): what the summary and the plan map count."""
        groups = {r: tuple(lo for lo in self.left_out if lo.reason == r) for r in LeftOutReason}
        ranked = sorted(groups.items(), key=lambda item: -len(item[1]))
        return {reason: left for reason, left in ranked if left}

    def to_frame(self) -> pd.DataFrame:
        """One row per stop, in visiting order per team-day."""
        rows = [stop_record(r, s) for r in self.routes for s in r.stops]
        return pd.DataFrame.from_records(rows, columns=list(STOP_COLUMNS))

    def left_out_frame(self) -> pd.DataFrame:
        """One row per left-out task with its reason, highest priority first."""
        rows = [
            {
                "task_id": lo.task.id,
                "site_id": lo.task.site_id,
                "site_name": lo.task.site_name,
                "layer": lo.task.layer,
                "service": lo.task.service,
                "status": lo.task.status,
                "days_overdue": lo.task.days_overdue,
                "people": lo.task.people,
                "score": round(lo.task.score, 3),
                "overdue": lo.task.days_overdue > 0,
                "code": str(lo.reason),
                "reason": lo.reason.text,
                "detail": lo.detail,
                "lon": lo.task.lon,
                "lat": lo.task.lat,
            }
            for lo in self.left_out
        ]
        frame = pd.DataFrame.from_records(rows, columns=LEFT_OUT_COLUMNS)
        return frame.sort_values("score", ascending=False, ignore_index=True)

    def routes_frame(self) -> pd.DataFrame:
        """One row per team-day: departure, return, stops, km, driving and on-site hours."""
        return pd.DataFrame.from_records([route_record(r) for r in self.routes])


LEFT_OUT_COLUMNS = [
    "task_id",
    "site_id",
    "site_name",
    "layer",
    "service",
    "status",
    "days_overdue",
    "people",
    "score",
    "overdue",
    "code",
    "reason",
    "detail",
    "lon",
    "lat",
]
"""Columns of :meth:`WeekPlan.left_out_frame` and ``left_out.csv``: ``code`` is the reason's
stable code (:class:`~geoplan.vocab.LeftOutReason`), ``reason`` its words, ``detail`` what a
team leader can act on, ``overdue`` whether the task was already overdue when the week began."""


def tasks_at_sites(left_out: Sequence[LeftOut]) -> str:
    """``N tasks at M sites``: how summaries and maps count tasks left out."""
    tasks, sites = len(left_out), len({lo.task.site_id for lo in left_out})
    return f"{tasks} task{'s' if tasks != 1 else ''} at {sites} site{'s' if sites != 1 else ''}"


def _overdue_note(left_out: Sequence[LeftOut]) -> str:
    overdue = sum(1 for lo in left_out if lo.task.days_overdue > 0)
    return f" ({overdue} of them overdue)" if overdue else ""


@dataclass(frozen=True)
class StopField:
    """One field of a plan stop: its column name, the label people read, and its value."""

    name: str
    label: str
    value: Callable[[DayRoute, Stop], object]


def _clock(moment: dt.datetime) -> str:
    return moment.strftime("%H:%M")


def _sex_age_field(k: int) -> StopField:
    group = list(SexAge)[k]
    return StopField(group, group.title(), lambda _, s: s.task.people_by_sex_age[k])


STOP_FIELDS: tuple[StopField, ...] = (
    StopField("team_id", "Team", lambda r, _: r.team_id),
    StopField("team_name", "Team name", lambda r, _: r.team_name),
    StopField("date", "Date", lambda r, _: r.day.isoformat()),
    StopField("order", "#", lambda _, s: s.order),
    StopField("task_id", "Task", lambda _, s: s.task.id),
    StopField("site_id", "Site id", lambda _, s: s.task.site_id),
    StopField("site_name", "Site", lambda _, s: s.task.site_name),
    StopField("layer", "Layer", lambda _, s: s.task.layer),
    StopField("service", "Service", lambda _, s: s.task.service),
    StopField("status", "Status", lambda _, s: s.task.status),
    StopField("arrival", "Arrive", lambda _, s: _clock(s.arrival)),
    StopField("start", "Start", lambda _, s: _clock(s.start)),
    StopField("departure", "Leave", lambda _, s: _clock(s.departure)),
    StopField("travel_min", "Travel min", lambda _, s: round(s.travel_seconds / 60, 1)),
    StopField("travel_km", "Travel km", lambda _, s: round(s.travel_metres / 1000, 2)),
    StopField("people", "People", lambda _, s: s.task.people),
    *(_sex_age_field(k) for k in range(len(SexAge))),
    StopField("nfi_kits", "NFI kits", lambda _, s: s.task.kits),
    StopField("lon", "Longitude", lambda _, s: s.task.lon),
    StopField("lat", "Latitude", lambda _, s: s.task.lat),
)
"""Every field of a plan stop, in the order of :meth:`WeekPlan.to_frame`: the one list that
the schedule files, the plan's GeoJSON, the maps' popups and the API's plan output read."""
STOP_COLUMNS = tuple(f.name for f in STOP_FIELDS)
STOP_LABELS: Mapping[str, str] = {f.name: f.label for f in STOP_FIELDS}
"""The label people read for each stop field (printed schedules, map popups)."""
_STOP_VALUES = {f.name: f.value for f in STOP_FIELDS}


ROUTE_FIELDS: Mapping[str, Callable[[DayRoute], object]] = {
    "team_id": lambda r: r.team_id,
    "team_name": lambda r: r.team_name,
    "date": lambda r: r.day.isoformat(),
    "depart": lambda r: _clock(r.depart),
    "back": lambda r: _clock(r.back),
    "stops": lambda r: len(r.stops),
    "km": lambda r: round(r.metres / 1000, 1),
    "driving_hours": lambda r: round(r.driving_seconds / 3600, 2),
    "on_site_hours": lambda r: round(r.on_site_seconds / 3600, 2),
}
"""Every field of a team-day, in the order of :meth:`WeekPlan.routes_frame`, by name."""


def route_id(route: DayRoute) -> str:
    """The team-day's id, ``team@YYYY-MM-DD`` (as the planner's vehicles)."""
    return f"{route.team_id}@{route.day.isoformat()}"


def route_record(
    route: DayRoute, *, names: Sequence[str] = tuple(ROUTE_FIELDS)
) -> dict[str, object]:
    """The team-day's fields (``names``, in that order; every field by default) by name."""
    return {name: ROUTE_FIELDS[name](route) for name in names}


def stop_record(
    route: DayRoute, stop: Stop, *, names: Sequence[str] = STOP_COLUMNS
) -> dict[str, object]:
    """The stop's fields (``names``, in that order; every field by default) by name."""
    return {name: _STOP_VALUES[name](route, stop) for name in names}


# --- planning -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    """A visit fixed to a team and day by the team leader (``SITE:TEAM:DAY[:SERVICE][@HH:MM]``).

    ``day`` is a date or a weekday code (``mon``); ``service`` picks one of the site's services
    (the first the team offers otherwise); ``at`` (``HH:MM``) fixes when the visit starts. A
    pin makes a task whether or not the site is due.
    """

    site_id: str
    team_id: str
    day: str
    service: str | None = None
    at: str | None = None

    @classmethod
    def parse(cls, text: str) -> Pin:
        """From ``SITE:TEAM:DAY``, ``SITE:TEAM:DAY:SERVICE``, either with ``@HH:MM``.

        Raises
        ------
        ParameterError
            If the text does not have three or four parts, or the time is not HH:MM.
        """
        body, _, at = text.partition("@")
        parts = body.split(":")
        if len(parts) not in (3, 4) or not all(p.strip() for p in parts):
            raise ParameterError(
                f"pin {text!r}: expected SITE:TEAM:DAY or SITE:TEAM:DAY:SERVICE (DAY a date or "
                "sun..sat), optionally @HH:MM, such as DC-03:PROT-1:mon@10:00"
            )
        if "@" in text and _clock_seconds(at) is None:
            raise ParameterError(f"pin {text!r}: the time after @ must be HH:MM, such as 10:00")
        return cls(*parts, at=at or None)  # type: ignore[misc]

    @property
    def text(self) -> str:
        """``SITE:TEAM:DAY[:SERVICE][@HH:MM]``, as :meth:`parse` reads it."""
        body = ":".join(p for p in (self.site_id, self.team_id, self.day, self.service) if p)
        return f"{body}@{self.at}" if self.at else body

    @property
    def seconds(self) -> int | None:
        """``at`` in seconds of the day, or None."""
        return _clock_seconds(self.at) if self.at else None


def _clock_seconds(text: str) -> int | None:
    """``HH:MM`` (00:00-23:59) in seconds, or None."""
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2):
        return None
    if int(hours) > 23 or int(minutes) > 59:
        return None
    return int(hours) * 3600 + int(minutes) * 60


def parse_pins(texts: Sequence[str]) -> tuple[Pin, ...]:
    """Pins from their texts (:meth:`Pin.parse`).

    Raises
    ------
    ParameterError
        Naming every text that is not ``SITE:TEAM:DAY[:SERVICE]``, all at once.
    """
    pins, problems = [], []
    for text in texts:
        try:
            pins.append(Pin.parse(text))
        except ParameterError as exc:
            problems.append(str(exc))
    if problems:
        raise ParameterError("; ".join(problems))
    return tuple(pins)


@dataclass(frozen=True)
class Lock:
    """A team-day a re-plan keeps exactly as the old plan had it (``TEAM:DAY``; DAY a date or
    a weekday code)."""

    team_id: str
    day: str

    @classmethod
    def parse(cls, text: str) -> Lock:
        """From ``TEAM:DAY``.

        Raises
        ------
        ParameterError
            If the text is not two parts.
        """
        parts = [p.strip() for p in text.split(":")]
        if len(parts) != 2 or not all(parts):
            raise ParameterError(
                f"lock {text!r}: expected TEAM:DAY (DAY a date or sun..sat), such as PROT-1:mon"
            )
        return cls(*parts)

    @property
    def text(self) -> str:
        """``TEAM:DAY``, as :meth:`parse` reads it."""
        return f"{self.team_id}:{self.day}"


@dataclass(frozen=True)
class Replan:
    """What a re-plan keeps of an earlier plan of the same week.

    Team-days before ``kept_before`` (done or under way) and the ``locks`` are copied from
    ``previous`` exactly, and their visits are not planned again. Every other stop of
    ``previous`` that is still allowed stays on its team-day unless moving it saves more
    than ``PlanningParams.replan_move_minutes`` of driving.
    """

    previous: WeekPlan
    kept_before: dt.date | None = None
    locks: tuple[Lock, ...] = ()


def frozen_team_days(
    replan: Replan, routes: Sequence[TeamDay], days: Sequence[dt.date]
) -> frozenset[tuple[str, dt.date]]:
    """The (team, day) pairs a re-plan keeps as they were.

    Raises
    ------
    PlanningError
        If the old plan is of another week, or naming every lock on a team that is not
        planned or a day outside the week, all at once.
    """
    if tuple(replan.previous.days) != tuple(days):
        raise PlanningError(
            f"the plan to re-plan is for the week of {replan.previous.days[0]:%a %d %b %Y}, not "
            f"{days[0]:%a %d %b %Y}: leave --week out to re-plan its own week"
        )
    teams = sorted({r.team_id for r in routes})
    frozen = {
        (r.team_id, r.day)
        for r in routes
        if replan.kept_before is not None and r.day < replan.kept_before
    }
    problems = []
    for lock in replan.locks:
        day = next((d for d in days if lock.day in (d.isoformat(), weekday_code(d))), None)
        if lock.team_id not in teams:
            problems.append(
                f"lock {lock.text}: team {lock.team_id!r} is not planned; teams: {', '.join(teams)}"
            )
        elif day is None:
            problems.append(
                f"lock {lock.text}: {lock.day!r} is not a day of the week {days[0]}..{days[-1]}"
            )
        else:
            frozen.add((lock.team_id, day))
    if problems:
        raise PlanningError("; ".join(problems))
    return frozenset(frozen)


@dataclass(frozen=True)
class PinProblem:
    """One thing wrong with a pin: which pin (its index), which part of it, why, and the fix."""

    index: int
    pin: Pin
    field: str  # site, team, day or service
    reason: str


def pin_problems(
    pins: Sequence[Pin],
    *,
    sites: Mapping[str, gpd.GeoDataFrame],
    teams: gpd.GeoDataFrame,
    days: Sequence[dt.date],
    absences: Sequence[Absence] = (),
) -> list[PinProblem]:
    """Everything wrong with every pin, checked against the week's sites, teams and days.

    Parameters
    ----------
    pins
        The pins.
    sites
        Site layers by name: a pin's site must be in one of them.
    teams
        The teams planned: a pin's team must be one of them and work the pin's day.
    days
        The week's days (:func:`week_days`): a pin's day must be one of them.
    absences
        Days teams are away: a pin's team must not be away on its day.
    """
    check = _PinCheck.of(sites, teams, days, absences)
    return [
        PinProblem(i, pin, part, reason)
        for i, pin in enumerate(pins)
        for part, reason in check.problems(pin)
    ]


def check_pins(
    pins: Sequence[Pin],
    *,
    sites: Mapping[str, gpd.GeoDataFrame],
    teams: gpd.GeoDataFrame,
    days: Sequence[dt.date],
    absences: Sequence[Absence] = (),
) -> None:
    """Check every pin (:func:`pin_problems`).

    Raises
    ------
    PlanningError
        Naming every bad pin with what is wrong and the fix, all at once.
    """
    problems = pin_problems(pins, sites=sites, teams=teams, days=days, absences=absences)
    if problems:
        raise PlanningError("; ".join(f"pin {p.pin.text}: {p.reason}" for p in problems))


@dataclass(frozen=True)
class _PinSite:
    """What a pin is checked against of its site: its services and when it can be visited."""

    layer: str
    name: str
    services: tuple[str, ...]
    open_days: tuple[int, ...]
    opens: int  # seconds of the day
    closes: int


@dataclass(frozen=True)
class _PinCheck:
    """What a pin is checked against: sites, the teams planned, their services and shifts,
    and the days they work."""

    sites: Mapping[str, _PinSite]
    team_ids: tuple[str, ...]
    team_services: Mapping[str, frozenset[str]]
    shifts: Mapping[str, tuple[int, int]]
    working: frozenset[tuple[str, dt.date]]
    days: tuple[dt.date, ...]
    services: tuple[str, ...]
    absences: tuple[Absence, ...] = ()

    @classmethod
    def of(
        cls,
        sites: Mapping[str, gpd.GeoDataFrame],
        teams: gpd.GeoDataFrame,
        days: Sequence[dt.date],
        absences: Sequence[Absence] = (),
    ) -> _PinCheck:
        routes = team_days(teams, days)
        return cls(
            sites={
                str(row["id"]): _pin_site(layer, row)
                for layer, frame in sites.items()
                for row in frame.drop(columns=frame.geometry.name).to_dict("records")
            },
            team_ids=tuple(str(t) for t in teams["id"]),
            team_services={r.team_id: r.services for r in routes},
            shifts={r.team_id: (r.shift_start, r.shift_end) for r in routes},
            working=frozenset((r.team_id, r.day) for r in routes),
            days=tuple(days),
            services=get_layer("outreach_visits").field("services").allowed,
            absences=tuple(absences),
        )

    def problems(self, pin: Pin) -> list[tuple[str, str]]:
        """(field, reason) for everything wrong with the pin."""
        found = []
        site = self.sites.get(pin.site_id)
        if site is None:
            found.append(("site", self._unknown_site(pin.site_id)))
        if pin.team_id not in self.team_ids:
            teams = ", ".join(self.team_ids) or "none (no team asked for exists)"
            found.append(("team", f"team {pin.team_id!r} is not planned; teams planned: {teams}"))
        if pin.service is not None and pin.service not in self.services:
            known = ", ".join(self.services)
            found.append(("service", f"unknown service {pin.service!r}; services are: {known}"))
        elif site is not None and pin.team_id in self.team_services:
            found += self._service_problems(pin, site)
        day_problems = self._day_problems(pin)
        if not day_problems and site is not None:
            day_problems = self._time_problems(pin, site)
        return found + day_problems

    def _unknown_site(self, site_id: str) -> str:
        close = difflib.get_close_matches(site_id, list(self.sites), n=3, cutoff=0.6)
        by_name = [i for i, s in self.sites.items() if s.name.casefold() == site_id.casefold()]
        hint = by_name or close
        mean = f"; did you mean {' or '.join(hint)}?" if hint else ""
        return f"no site {site_id!r} in {', '.join(PLANNED_LAYERS)}{mean}"

    def _service_problems(self, pin: Pin, site: _PinSite) -> list[tuple[str, str]]:
        offered = self.team_services.get(pin.team_id, frozenset())
        if pin.service is not None and pin.service not in offered:
            return [
                (
                    "service",
                    f"team {pin.team_id} does not offer {pin.service}; it offers "
                    f"{', '.join(sorted(offered)) or 'no service'}",
                )
            ]
        if pin.service is None and not set(site.services) & offered:
            return [
                (
                    "service",
                    f"{site.name} needs {', '.join(site.services) or 'no service'}, which team "
                    f"{pin.team_id} does not offer: add the service to visit it for, e.g. "
                    f"{pin.site_id}:{pin.team_id}:{pin.day}:{min(offered, default='health')}",
                )
            ]
        return []

    def _day_problems(self, pin: Pin) -> list[tuple[str, str]]:
        day = self.day_of(pin)
        if day is None:
            return [
                ("day", f"{pin.day!r} is not a day of the week {self.days[0]}..{self.days[-1]}")
            ]
        if pin.team_id not in self.team_ids:
            return []
        if away := away_on(self.absences, pin.team_id, day):
            return [("day", f"{away.says(day)}; pin the visit to another team or day")]
        if (pin.team_id, day) in self.working:
            return []
        worked = sorted(
            {weekday_code(d) for t, d in self.working if t == pin.team_id}, key=lambda w: w.number
        )
        works = ", ".join(worked) or "none this week"
        return [
            (
                "day",
                f"team {pin.team_id} does not work on {day:%a %d %b}; as it does not work that "
                f"day, pin the visit to a day it works ({works})",
            )
        ]

    def _time_problems(self, pin: Pin, site: _PinSite) -> list[tuple[str, str]]:
        day = self.day_of(pin)
        assert day is not None
        index = self.days.index(day)
        if index not in site.open_days:
            open_on = ", ".join(tuple(Weekday)[d] for d in site.open_days) or "no day"
            return [("day", f"{site.name} is closed on {day:%a %d %b}; it opens on {open_on}")]
        at = pin.seconds
        if at is None:
            return []
        if not site.opens <= at <= site.closes:
            hours = f"{_clock_text(site.opens)}-{_clock_text(site.closes)}"
            return [("at", f"{site.name} is closed at {pin.at}: visits can start {hours}")]
        shift = self.shifts.get(pin.team_id)
        if shift is not None and not shift[0] <= at < shift[1]:
            hours = f"{_clock_text(shift[0])}-{_clock_text(shift[1])}"
            return [("at", f"team {pin.team_id} works {hours}, not at {pin.at}")]
        return []

    def day_of(self, pin: Pin) -> dt.date | None:
        """The date of the pin's day in the week, or None."""
        return next((d for d in self.days if pin.day in (d.isoformat(), weekday_code(d))), None)


def _pin_site(layer: str, row: Mapping[str, object]) -> _PinSite:
    definition = get_layer(layer)
    open_days, opens, latest = _access(layer, row, 0)
    return _PinSite(
        layer=layer,
        name=str(row.get("name") or row["id"]),
        services=split_list(row.get(definition.role("services") or "")),
        open_days=open_days,
        opens=opens,
        closes=latest,
    )


def _clock_text(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def plan_week(
    sites: Mapping[str, gpd.GeoDataFrame],
    visits: pd.DataFrame,
    teams: gpd.GeoDataFrame,
    matrix: TravelTimes,
    *,
    days: Sequence[dt.date],
    closures: Closures,
    params: PlanningParams | None = None,
    pins: Sequence[Pin] = (),
    absences: Sequence[Absence] = (),
    seed: int = 0,
    time_limit: float | None = None,
    progress: Progress | None = None,
    replan: Replan | None = None,
) -> WeekPlan:
    """Plan a week of team-day routes.

    Parameters
    ----------
    sites
        Site layers by name (``gathering_points``, ``detention_centres``, ``cip_sites``).
    visits
        The outreach-visit history.
    teams
        Teams to plan for; the point is each team's base.
    matrix
        Travel times between every team base (``base:<team id>``) and site, both ways, with
        the week's no-go zones closed.
    days
        The week's seven days, Sunday first (:func:`week_days`).
    closures
        No-go zones active during the week (to leave out sites inside them).
    params, pins, seed, time_limit
        Planning parameters, tasks fixed to a team-day, the solver's seed and time limit
        (``params.time_limit`` by default).
    absences
        Days teams are away (:mod:`geoplan.absences`): those team-days get no route.
    progress
        Told each step; while the solver searches (about once a second), the visits planned
        so far and the seconds searched of the time limit.
    replan
        An earlier plan of the week to change as little as possible (:class:`Replan`).

    Raises
    ------
    PlanningError
        Naming every pin on an unknown site, team, service or day, on a day its team does
        not work or is away, or on a task that cannot be done that day.
    """
    params = params or PlanningParams()
    check_pins(pins, sites=sites, teams=teams, days=days, absences=absences)
    tell(progress, "Deriving visit tasks")
    routes = team_days(teams, days, params=params, absences=absences)
    working = sorted({r.day_index for r in routes}) or [0, 1, 2, 3, 4]
    tasks = tasks_for_week(sites, visits, days, params=params, working_days=working)
    kept: tuple[DayRoute, ...] = ()
    start: dict[str, list[str]] = {}
    if replan is not None:
        frozen = frozen_team_days(replan, routes, days)
        kept = tuple(r for r in replan.previous.routes if (r.team_id, r.day) in frozen)
        routes = [r for r in routes if (r.team_id, r.day) not in frozen]
        done = {s.task.id for r in kept for s in r.stops}
        tasks = [t for t in tasks if t.id not in done]
        pins = _pins_after_freezing(pins, frozen, kept)
        start = _previous_routes(replan.previous, routes)
    tasks = _apply_pins(tasks, routes, pins, pin_task_maker(sites, visits, days, params))
    excluded = left_out_by_rule(tasks, routes, matrix, closures, bases=base_positions(teams))
    _check_pins(tasks, excluded)
    plannable = [t for t in tasks if t.id not in excluded]
    tell(progress, f"Solving: {len(plannable)} tasks, {len(routes)} team-days")
    limit = params.time_limit if time_limit is None else time_limit
    routed = route_candidates(
        plannable,
        routes,
        matrix,
        params=params,
        seed=seed,
        time_limit=limit,
        progress=progress,
        start=start,
    )
    return _week_plan(
        routed.solution,
        tasks=plannable,
        routes=routes,
        excluded={**excluded, **cut_before_routing(routed, plannable, routes=routes)},
        days=days,
        matrix=matrix,
        teams=teams,
        seed=seed,
        kept=kept,
    )


# --- candidate tasks: the one scaling decision (geoplan.solver.candidates) ----------------


class MatrixTravel:
    """Travel times as the candidate step asks for them: small blocks by id."""

    def __init__(self, matrix: TravelTimes) -> None:
        self._matrix = matrix

    def seconds(self, origins: Sequence[str], destinations: Sequence[str]) -> np.ndarray:
        return self._matrix.subset(origins, destinations).seconds

    def metres(self, origins: Sequence[str], destinations: Sequence[str]) -> np.ndarray:
        return self._matrix.subset(origins, destinations).metres


def route_candidates(
    tasks: Sequence[VisitTask],
    routes: Sequence[TeamDay],
    matrix: TravelTimes,
    *,
    params: PlanningParams,
    seed: int,
    time_limit: float,
    progress: Progress | None = None,
    start: Mapping[str, Sequence[str]] | None = None,
) -> CandidateSolution:
    """Route the week's candidate tasks (``params.candidates``), check the cut ones, and route
    again with any the check finds would have made a better plan.

    ``start`` (team-day id -> task ids in order) are a re-plan's routes of the old plan: the
    search starts from them, and their tasks prefer their old team-day
    (:func:`solver_week`)."""

    def search(problem: RoutingProblem) -> Solution:
        return solve(
            problem,
            time_limit=time_limit,
            seed=seed,
            params=params.solver,
            progress=_search_progress(progress, time_limit),
            start=start,
        )

    keep_on = {t: vehicle for vehicle, ids in (start or {}).items() for t in ids}
    week = solver_week(tasks, routes, params=params, keep_on=keep_on)
    return solve_candidates(week, MatrixTravel(matrix), params=params.candidates, solve=search)


def solver_week(
    tasks: Sequence[VisitTask],
    routes: Sequence[TeamDay],
    *,
    params: PlanningParams,
    keep_on: Mapping[str, str] | None = None,
) -> Week:
    """The week's tasks, team-days and bases as the solver's tasks, vehicles and depots.

    A task in ``keep_on`` (a re-plan's stop of the old plan, on a team-day that may still do
    it) becomes two alternatives of one group: on its old team-day with its prize plus
    ``replan_move_minutes``, and on every other team-day that may do it (id
    :func:`moved_id`) with its prize: the solver moves it only when that saves more.
    """
    keep_on = keep_on or {}
    return Week(
        tasks=tuple(
            alt
            for t in tasks
            for alt in _alternatives(_solver_task(t, routes, params), keep_on.get(t.id), params)
        ),
        vehicles=tuple(_vehicle(r) for r in routes),
        depots=tuple(Depot(id=b, location=b) for b in dict.fromkeys(r.base for r in routes)),
    )


def cut_before_routing(
    routed: CandidateSolution, tasks: Sequence[VisitTask], *, routes: Sequence[TeamDay] = ()
) -> dict[str, LeftOut]:
    """The tasks cut before routing, each left out for higher-priority tasks, with why (the
    team-day it could have fitted named by ``routes``: team name and day)."""
    by_id = {t.id: t for t in tasks}
    names = {r.id: f"{r.team_name} on {r.day:%a}" for r in routes}
    missed = {m.task: m for m in routed.missed}
    out = {}
    for task in routed.cut:
        detail = (
            "cut before routing: every team-day that could do it had more promising tasks, "
            "and no route of the plan could take it with a gain"
        )
        if task.id in missed:
            m = missed[task.id]
            detail = (
                f"cut before routing; it could have fitted {names.get(m.vehicle, m.vehicle)} "
                f"(gain {m.gain}), "
                "but routing again with it gave no better plan"
            )
        out[task.id] = LeftOut(by_id[task.id], LeftOutReason.NO_TEAM_TIME, detail)
    return out


def _search_progress(progress: Progress | None, limit: float) -> SearchCallback | None:
    """The solver's reports as steps: visits planned so far, seconds searched of ``limit``."""
    if progress is None:
        return None

    def report(search: SolveProgress) -> None:
        step = f"Solving: {search.tasks_done} visits planned so far"
        progress(step, min(search.elapsed, limit), limit)

    return report


def matrix_fits_week(
    matrix: TravelTimeMatrix,
    sites: Mapping[str, gpd.GeoDataFrame],
    teams: gpd.GeoDataFrame,
    *,
    zones: gpd.GeoDataFrame,
    closures: Closures,
) -> bool:
    """Whether a ready matrix can plan the week: every base and site is in it both ways, and
    the zones closed when it was made (``parameters["closures_on"]``) are the week's."""
    ids = set(planning_points(sites, teams)["id"])
    if not ids <= set(matrix.origins) or not ids <= set(matrix.destinations):
        return False
    made_on = matrix.parameters.get("closures_on")
    if made_on is None:
        return closures.empty
    if not isinstance(made_on, dt.date):
        return False
    return active_zones(zones, on=made_on).digest() == closures.digest()


def week_closures(zones: gpd.GeoDataFrame, days: Sequence[dt.date]) -> Closures:
    """No-go zones active on any working day of the week: closed for the whole week."""
    daily = [active_zones(zones, on=d) for d in days[:5]]
    frames = [c.zones for c in daily if not c.empty]
    if not frames:
        return daily[0]
    union = pd.concat(frames).drop_duplicates(subset="id")
    return Closures(
        on=days[0], zones=gpd.GeoDataFrame(union, geometry=union.geometry.name, crs=4326)
    )


def week_matrix(
    sites: Mapping[str, gpd.GeoDataFrame],
    teams: gpd.GeoDataFrame,
    *,
    backend: TravelTimeBackend | None,
    closures: Closures,
) -> TravelTimeMatrix:
    """Travel times between every team base and site, both ways."""
    points = planning_points(sites, teams)
    return matrix_from_points(points, points, backend=backend, closures=closures)


def week_times(
    sites: Mapping[str, gpd.GeoDataFrame],
    teams: gpd.GeoDataFrame,
    *,
    backend: TravelTimeBackend | None,
    closures: Closures,
) -> OnDemandTimes:
    """Travel times for the week that grow with the bases times the sites: every base to every
    site and back at once, the times among the candidate sites when routing asks for them."""
    points = points_from_frame(planning_points(sites, teams), name="bases and sites")
    bases = [base_location(t) for t in teams["id"]]
    chosen = backend if backend is not None else StraightLineBackend()
    return OnDemandTimes(points, bases, backend=chosen, closures=closures)


def planning_points(
    sites: Mapping[str, gpd.GeoDataFrame], teams: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Team bases (``base:<id>``) and sites as one point layer."""
    bases = gpd.GeoDataFrame(
        {"id": [base_location(t) for t in teams["id"]]}, geometry=teams.geometry.values, crs=4326
    )
    parts = [
        bases,
        *(
            gpd.GeoDataFrame({"id": f["id"]}, geometry=f.geometry.values, crs=4326)
            for f in sites.values()
        ),
    ]
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=4326)


def select_teams(teams: gpd.GeoDataFrame, team_ids: Sequence[str] | None) -> gpd.GeoDataFrame:
    """The teams named by ``team_ids`` (every team when none is named).

    Raises
    ------
    ParameterError
        Naming the unknown teams and the known ones.
    """
    if not team_ids:
        return teams
    unknown = sorted(set(team_ids) - set(teams["id"]))
    if unknown:
        raise ParameterError(
            f"unknown team(s) {', '.join(unknown)}; teams are: {', '.join(teams['id'])}"
        )
    return teams.loc[teams["id"].isin(team_ids)].reset_index(drop=True)


def _apply_pins(
    tasks: list[VisitTask],
    routes: Sequence[TeamDay],
    pins: Sequence[Pin],
    made: Callable[[Pin, TeamDay], VisitTask | None],
) -> list[VisitTask]:
    """The tasks with the pinned ones fixed to their team-day (pins checked by check_pins),
    and a task made by ``made`` for each pin whose site has none the team can do (a pin makes
    a task, due or not). ``@HH:MM`` fixes the start of the visit."""
    by_id = {t.id: t for t in tasks}
    missing = []
    for pin in pins:
        route = _pinned_route(pin, routes)
        task = _pinned_task(pin, list(by_id.values()), route) or made(pin, route)
        if task is None:
            missing.append(
                f"pin {pin.text}: the site has no service team {pin.team_id} offers; add the "
                "service to pin, e.g. :health"
            )
            continue
        by_id[task.id] = _pinned(task, route, pin)
    if missing:
        raise PlanningError("; ".join(missing))
    return list(by_id.values())


def _pinned(task: VisitTask, route: TeamDay, pin: Pin) -> VisitTask:
    """The task fixed to the route's day, at the pin's time when it gives one."""
    at = pin.seconds
    on_day = tuple(d for d in task.open_days if d == route.day_index)
    fixed = replace(task, pinned_to=route.id, open_days=on_day)
    return fixed if at is None else replace(fixed, open_from=at, open_until=at)


def _pinned_route(pin: Pin, routes: Sequence[TeamDay]) -> TeamDay:
    return next(
        r
        for r in routes
        if r.team_id == pin.team_id and pin.day in (r.day.isoformat(), weekday_code(r.day))
    )


def _pinned_task(pin: Pin, tasks: Sequence[VisitTask], route: TeamDay) -> VisitTask | None:
    candidates = [
        t
        for t in tasks
        if t.site_id == pin.site_id
        and t.service in route.services
        and pin.service in (None, t.service)
        and t.pinned_to is None
    ]
    on_day = [t for t in candidates if route.day_index in t.open_days]
    return max(on_day or candidates, key=lambda t: t.score) if candidates else None


def pin_task_maker(
    sites: Mapping[str, gpd.GeoDataFrame],
    visits: pd.DataFrame,
    days: Sequence[dt.date],
    params: PlanningParams,
) -> Callable[[Pin, TeamDay], VisitTask | None]:
    """Makes the task of a pin on a site that is not due (or not for that service): from the
    site's row, with its last visit for the service and the service the pin names (else the
    site's first service the team offers)."""
    last = last_visits(visits, before=days[0])

    def made(pin: Pin, route: TeamDay) -> VisitTask | None:
        found = next(
            ((layer, frame) for layer, frame in sites.items() if pin.site_id in set(frame["id"])),
            None,
        )
        if found is None:
            return None
        layer, frame = found
        one = frame.loc[frame["id"] == pin.site_id]
        row = one.assign(lon=one.geometry.x, lat=one.geometry.y).iloc[0].to_dict()
        definition = get_layer(layer)
        needs = split_list(row.get(definition.role("services") or ""))
        service = pin.service or next((s for s in needs if s in route.services), None)
        if service is None or service not in route.services:
            return None
        frequency = _int(row.get(definition.role("frequency") or ""), 14)
        previous = last.get((pin.site_id, service))
        task = _base_task(
            layer,
            row,
            service,
            frequency=frequency,
            last=previous,
            days=days,
            params=params,
            pinned=True,
        )
        assert task is not None
        return replace(task, score=priority(task, params.priority))

    return made


def _check_pins(tasks: Sequence[VisitTask], excluded: Mapping[str, LeftOut]) -> None:
    broken = [
        f"{t.id} ({excluded[t.id].reason.text}: {excluded[t.id].detail})"
        for t in tasks
        if t.pinned_to and t.id in excluded
    ]
    if broken:
        raise PlanningError("pinned task(s) cannot be done: " + "; ".join(broken))


MOVED = "~moved"


def moved_id(task_id: str) -> str:
    """The solver id of a re-planned stop's "moved to another team-day" alternative."""
    return task_id + MOVED


def _alternatives(task: Task, old: str | None, params: PlanningParams) -> tuple[Task, ...]:
    """The task, or (re-plan) its keep and move alternatives when its old team-day may do it."""
    if old is None or task.pinned_to is not None or not task.allows(old):
        return (task,)
    others = frozenset(v for v in (task.vehicles or ()) if v != old)
    keep = replace(
        task,
        prize=task.prize + params.replan_move_minutes * 60,
        vehicles=frozenset({old}),
        group=task.id,
    )
    if not others:
        return (keep,)
    return keep, replace(task, id=moved_id(task.id), vehicles=others, group=task.id)


def _previous_routes(previous: WeekPlan, routes: Sequence[TeamDay]) -> dict[str, list[str]]:
    """Team-day id -> task ids in order, of the old plan's routes still being planned."""
    open_days = {r.id for r in routes}
    return {
        route_id(r): [s.task.id for s in r.stops]
        for r in previous.routes
        if route_id(r) in open_days and r.stops
    }


def _pins_after_freezing(
    pins: Sequence[Pin], frozen: frozenset[tuple[str, dt.date]], kept: Sequence[DayRoute]
) -> list[Pin]:
    """The pins on team-days a re-plan still plans; a pin on a kept team-day must already be
    one of its stops.

    Raises
    ------
    PlanningError
        Naming every pin on a kept team-day that does not visit its site.
    """
    visited = {(r.team_id, r.day, s.task.site_id) for r in kept for s in r.stops}
    live, problems = [], []
    for pin in pins:
        day = next((d for t, d in frozen if t == pin.team_id and _same_day(pin.day, d)), None)
        if day is None:
            live.append(pin)
        elif (pin.team_id, day, pin.site_id) not in visited:
            problems.append(
                f"pin {pin.text}: {pin.team_id}'s {day:%a %d %b} is kept as it was planned "
                "(--from or --lock), and that day does not visit the site; pin it to a later day"
            )
    if problems:
        raise PlanningError("; ".join(problems))
    return live


def _same_day(text: str, day: dt.date) -> bool:
    return text in (day.isoformat(), weekday_code(day))


def routing_problem(
    tasks: Sequence[VisitTask],
    routes: Sequence[TeamDay],
    matrix: TravelTimes,
    *,
    params: PlanningParams | None = None,
) -> RoutingProblem:
    """The neutral routing problem for a week: one vehicle per team-day, one task per visit."""
    params = params or PlanningParams()
    locations = list(dict.fromkeys([*(r.base for r in routes), *(t.site_id for t in tasks)]))
    sub = matrix.subset(locations, locations)
    depots = tuple(Depot(id=b, location=b) for b in dict.fromkeys(r.base for r in routes))
    vehicles = tuple(_vehicle(r) for r in routes)
    solver_tasks = tuple(_solver_task(t, routes, params) for t in tasks)
    return RoutingProblem(
        locations=tuple(locations),
        durations=sub.seconds,
        distances=sub.metres,
        depots=depots,
        vehicles=vehicles,
        tasks=solver_tasks,
    )


def _vehicle(route: TeamDay) -> Vehicle:
    offset = route.day_index * DAY
    return Vehicle(
        id=route.id,
        depot=route.base,
        shift=TimeWindow(offset + route.shift_start, offset + route.shift_end),
        capacity=route.kits,
        max_stops=route.max_stops,
    )


def _solver_task(task: VisitTask, routes: Sequence[TeamDay], params: PlanningParams) -> Task:
    able = [
        r
        for r in routes
        if task.service in r.services
        and r.day_index in task.open_days
        and _window(task, r) is not None
    ]
    return Task(
        id=task.id,
        location=task.site_id,
        service=float(task.service_seconds),
        windows=_access_windows(task, able),
        # The solver's route duration includes time on site: adding it to the prize keeps
        # on-site time neutral, so only driving and waiting weigh against a task's priority.
        prize=max(1, round(task.score * params.prize_seconds_per_point)) + task.service_seconds,
        demand=task.kits,
        vehicles=frozenset(r.id for r in able),
        pinned_to=task.pinned_to,
    )


def _access_windows(task: VisitTask, able: Sequence[TeamDay]) -> tuple[TimeWindow, ...]:
    """The site's access hours on each day a team may come (week seconds, start of service).

    A site open all day needs none: the team-days allowed to do the task and their shifts
    already say when. Windows are not cut to shifts here (the solver does that), so each day
    gives one window whatever the teams' shifts: every window becomes a solver client, and
    fewer clients mean a smaller and faster model.
    """
    if task.open_from <= 0 and task.open_until + task.service_seconds >= DAY - 1:
        return ()
    days = sorted({r.day_index for r in able})
    return tuple(TimeWindow(d * DAY + task.open_from, d * DAY + task.open_until) for d in days)


def _week_plan(
    solution: Solution,
    *,
    tasks: Sequence[VisitTask],
    routes: Sequence[TeamDay],
    excluded: Mapping[str, LeftOut],
    days: Sequence[dt.date],
    matrix: TravelTimes,
    teams: gpd.GeoDataFrame,
    seed: int,
    kept: Sequence[DayRoute] = (),
) -> WeekPlan:
    by_task = {t.id: t for t in tasks} | {moved_id(t.id): t for t in tasks}
    by_route = {r.id: r for r in routes}
    week_start = dt.datetime.combine(days[0], dt.time())
    day_routes = tuple(
        _day_route(route, by_route[route.vehicle], by_task, week_start) for route in solution.routes
    )
    capacity = [LeftOut(by_task[t], LeftOutReason.NO_TEAM_TIME, "") for t in solution.unvisited]
    loads = day_loads(routes, day_routes)
    left_out = [
        _flag_overdue(_explain_no_time(lo, loads, matrix)) for lo in (*excluded.values(), *capacity)
    ]
    return WeekPlan(
        days=tuple(days),
        routes=tuple(sorted((*day_routes, *kept), key=lambda r: (r.team_id, r.day))),
        left_out=tuple(left_out),
        objective=solution.objective,
        seed=seed,
        runtime=solution.runtime,
        backend=matrix.backend,
        base_positions=base_positions(teams),
        iterations=solution.iterations,
        stopped_by=solution.stopped_by,
    )


def base_positions(teams: gpd.GeoDataFrame) -> dict[str, tuple[float, float]]:
    """Each team's base as (longitude, latitude), by team id."""
    return {str(row.id): (row.geometry.x, row.geometry.y) for row in teams.itertuples()}


# --- why a task had no team time: read off the solved routes, only for the tasks left out ---


_MOST_TEAM_DAYS = 40
"""Team-days looked at per task left out: keeps the explanation cheap on a large week."""


@dataclass(frozen=True)
class DayLoad:
    """How full a team-day of the plan is: free minutes of its shift, stops, kits left, and its
    lowest-priority stop (``None`` when it has none)."""

    team_day: TeamDay
    free_seconds: float
    stops: int
    kits_left: int
    weakest: Stop | None


def day_loads(routes: Sequence[TeamDay], planned: Sequence[DayRoute]) -> list[DayLoad]:
    """Every team-day of the week with how much of it the plan uses (an unused day is free)."""
    by_id = {route_id(r): r for r in planned}
    loads = []
    for day in routes:
        route = by_id.get(day.id)
        stops = route.stops if route is not None else ()
        used = (route.back - route.depart).total_seconds() if route and stops else 0.0
        loads.append(
            DayLoad(
                team_day=day,
                free_seconds=day.shift_end - day.shift_start - used,
                stops=len(stops),
                kits_left=day.kits - sum(s.task.kits for s in stops),
                weakest=min(stops, key=lambda s: s.task.score, default=None),
            )
        )
    return loads


def no_time_detail(task: VisitTask, loads: Sequence[DayLoad], matrix: TravelTimes) -> str:
    """Which teams could have done the task (they offer the service and the site is open that
    day), how each of their days fell short, and the lower-priority stops kept instead.

    A day falls short by the minutes a visit from its base and back (the most an insertion can
    cost, as a detour through the base is always possible) needs beyond the day's free time.
    """
    able = [
        load
        for load in loads
        if task.service in load.team_day.services
        and load.team_day.day_index in task.open_days
        and _window(task, load.team_day) is not None
    ][:_MOST_TEAM_DAYS]
    notes: dict[str, list[str]] = {}
    for load in able:
        notes.setdefault(load.team_day.team_name, []).append(_day_note(task, load, matrix))
    teams = [f"{name} ({', '.join(days)})" for name, days in notes.items()]
    text = f"could have gone: {_names(teams)}" if teams else "no team-day could take it"
    kept = _kept_instead(task, able)
    return f"{text}; kept lower-priority {kept} instead" if kept else text


def _day_note(task: VisitTask, load: DayLoad, matrix: TravelTimes) -> str:
    """One team-day's shortfall for the task, in words (``Mon 25 min short``)."""
    day, label = load.team_day, f"{load.team_day.day:%a}"
    if day.max_stops is not None and load.stops >= day.max_stops:
        return f"{label} full at {load.stops} stops"
    if task.kits > load.kits_left:
        return f"{label} {task.kits - max(load.kits_left, 0)} NFI kits short"
    out, back = _out_and_back(task, day, matrix)
    if out is None or back is None:
        return f"{label} no route from base"
    short = out + task.service_seconds + back - load.free_seconds
    if short > 0:
        return f"{label} {math.ceil(short / 60)} min short"
    return f"{label} {load.free_seconds / 60:.0f} min free, but its priority did not pay the drive"


def _kept_instead(task: VisitTask, able: Sequence[DayLoad]) -> str:
    """The lowest-priority stops (at most two) that the able team-days made instead."""
    weaker = sorted(
        (load for load in able if load.weakest and load.weakest.task.score < task.score),
        key=lambda load: load.weakest.task.score if load.weakest else 0.0,
    )[:2]
    return (
        _names(
            f"{load.weakest.task.site_name} ({load.team_day.team_name}, {load.team_day.day:%a})"
            for load in weaker
            if load.weakest
        )
        if weaker
        else ""
    )


def _explain_no_time(left: LeftOut, loads: Sequence[DayLoad], matrix: TravelTimes) -> LeftOut:
    """A task left for want of team time, with the teams and days that could have done it."""
    if left.reason != LeftOutReason.NO_TEAM_TIME:
        return left
    why = no_time_detail(left.task, loads, matrix)
    return replace(left, detail=f"{left.detail}; {why}" if left.detail else why)


def _flag_overdue(left: LeftOut) -> LeftOut:
    """An overdue task left out says so first, with its due date (the same in coverage, which
    counts days overdue to another day): the next week starts further behind."""
    task = left.task
    if task.days_overdue <= 0:
        return left
    flag = f"overdue by {task.days_overdue} days (due {task.due_date:%a %d %b})"
    return replace(left, detail=f"{flag}; {left.detail}")


def _day_route(
    route: Route, team_day: TeamDay, tasks: Mapping[str, VisitTask], week_start: dt.datetime
) -> DayRoute:
    def at(seconds: float) -> dt.datetime:
        return week_start + dt.timedelta(seconds=float(seconds))

    stops = tuple(
        Stop(
            order=i + 1,
            task=tasks[v.task],
            arrival=at(v.arrival),
            start=at(v.start),
            departure=at(v.departure),
            travel_seconds=v.travel_seconds,
            travel_metres=v.travel_metres,
        )
        for i, v in enumerate(route.visits)
    )
    return DayRoute(
        team_id=team_day.team_id,
        team_name=team_day.team_name,
        day=team_day.day,
        depart=at(route.start),
        back=at(route.end),
        stops=stops,
        return_seconds=route.return_seconds,
        return_metres=route.return_metres,
    )


__all__ = [
    "ROUTE_FIELDS",
    "STOP_COLUMNS",
    "STOP_FIELDS",
    "STOP_LABELS",
    "DayLoad",
    "DayRoute",
    "LeftOut",
    "Lock",
    "MatrixTravel",
    "Pin",
    "PinProblem",
    "PlanningParams",
    "PriorityParams",
    "Replan",
    "Stop",
    "StopField",
    "TeamDay",
    "VisitTask",
    "WeekPlan",
    "base_positions",
    "check_pins",
    "cut_before_routing",
    "day_loads",
    "frozen_team_days",
    "last_visits",
    "left_out_by_rule",
    "matrix_fits_week",
    "moved_id",
    "no_time_detail",
    "parse_pins",
    "pin_problems",
    "pin_task_maker",
    "plan_week",
    "priority",
    "route_candidates",
    "route_id",
    "route_record",
    "routing_problem",
    "solver_week",
    "stop_record",
    "tasks_at_sites",
    "tasks_for_week",
    "team_days",
    "week_closures",
    "week_days",
    "week_matrix",
    "week_times",
]
