"""Weekly outreach plans: which team visits which sites, on which day, in which order.

The week is planned in four steps, each a small function:

1. :func:`tasks_for_week` turns sites and the visit history into visit tasks: a site needs each
   of its services every N days; a task is due when its interval has run out (or the site was
   never visited) and may be done early when its due date falls soon after the week.
2. :func:`priority` scores every task (see :class:`PriorityParams`); the score becomes the
   task's prize, so when time runs short the solver leaves out the lowest-priority tasks.
3. :func:`left_out_by_rule` checks, before solving, every reason a task cannot be done at all
   (inaccessible, inside a no-go zone, no team offers the service, closed on every working day,
   cannot be reached and returned from within any shift). The rest goes to the solver; what it
   leaves out was left out for higher-priority tasks.
4. :func:`plan_week` builds the routing problem, solves it (:mod:`geoplan.solver`) and returns
   a :class:`WeekPlan`. :func:`geoplan.workspace.plan_week_from_store` reads the layers, builds the travel-time
   matrix with the week's no-go zones closed, and delegates.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.absences import Absence, away_on
from geoplan.catalog import get_layer, split_list
from geoplan.errors import ParameterError, PlanningError
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

    def __post_init__(self) -> None:
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
) -> VisitTask | None:
    week_start, week_end = days[0], days[-1]
    due = week_start if last is None else last + dt.timedelta(days=frequency)
    if due > week_end + dt.timedelta(days=params.early_days):
        return None
    overdue = (week_start - due).days if last is not None else 0
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
        days_overdue=max(overdue, 0),
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
) -> dict[str, LeftOut]:
    """Tasks that cannot be done at all this week, each with the first reason that applies."""
    zones = (
        closures.zone_containing(np.array([t.lon for t in tasks]), np.array([t.lat for t in tasks]))
        if tasks
        else []
    )
    out = {}
    for task, zone in zip(tasks, zones, strict=True):
        found = _reason(task, zone, days, matrix)
        if found is not None:
            out[task.id] = LeftOut(task, *found)
    return out


def _reason(
    task: VisitTask, zone: str | None, days: Sequence[TeamDay], matrix: TravelTimes
) -> tuple[LeftOutReason, str] | None:
    if task.access_status == "inaccessible":
        return LeftOutReason.INACCESSIBLE, f"{task.site_name} is marked inaccessible"
    if zone is not None:
        return LeftOutReason.IN_NO_GO_ZONE, inside_zone_reason(zone)
    able = [d for d in days if task.service in d.services]
    if not able:
        return LeftOutReason.NO_TEAM, f"no planned team offers {task.service}"
    open_days = [d for d in able if d.day_index in task.open_days and _window(task, d) is not None]
    if not open_days:
        return (
            LeftOutReason.CLOSED,
            f"{task.site_name} cannot be visited on any day its {task.service} teams work",
        )
    if not any(_fits(task, d, matrix) for d in open_days):
        return LeftOutReason.OUT_OF_REACH, _reach_detail(task, open_days, matrix)
    return None


def _window(task: VisitTask, day: TeamDay) -> tuple[int, int] | None:
    """Start-of-service window on a team-day (seconds of the day), or None if it misses the shift."""
    start = max(task.open_from, day.shift_start)
    end = min(task.open_until, day.shift_end - task.service_seconds)
    return (start, end) if start <= end else None


def _fits(task: VisitTask, day: TeamDay, matrix: TravelTimes) -> bool:
    """Whether a route base -> site -> base alone fits the shift and the access window."""
    window = _window(task, day)
    out, back = matrix.time(day.base, task.site_id), matrix.time(task.site_id, day.base)
    if window is None or math.isnan(out) or math.isnan(back):
        return False
    start = max(day.shift_start + out, window[0])
    return start <= window[1] and start + task.service_seconds + back <= day.shift_end


def _reach_detail(task: VisitTask, days: Sequence[TeamDay], matrix: TravelTimes) -> str:
    if all(math.isnan(matrix.time(d.base, task.site_id)) for d in days):
        why = matrix.reasons.get(task.site_id, "no route from any base")
        return f"{task.site_name}: {why}"
    best = min(matrix.time(d.base, task.site_id) for d in days)
    return (
        f"{task.site_name}: {best / 60:.0f} min from the nearest base each way plus "
        f"{task.service_seconds // 60} min on site do not fit any shift or access window"
    )


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
        reasons = pd.Series([lo.reason.text for lo in self.left_out], dtype=object).value_counts()
        lines = [
            f"Week {self.days[0]:%a %d %b} - {self.days[4]:%a %d %b %Y}: "
            f"{t['tasks_done']:.0f} visits at {t['sites_visited']:.0f} sites in {t['team_days_used']:.0f} team-days",
            f"  {t['km']:.0f} km, {t['driving_hours']:.1f} h driving, {t['on_site_hours']:.1f} h on site",
            f"  people expected: {t['people']:.0f} (where known: men {t['men']:.0f}, women {t['women']:.0f}, "
            f"boys {t['boys']:.0f}, girls {t['girls']:.0f})",
            f"  left out: {t['tasks_left_out']:.0f}",
        ]
        lines += [f"    {count:>4}  {reason}" for reason, count in reasons.items()]
        return "\n".join(lines)

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
    "reason",
    "detail",
    "lon",
    "lat",
]


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
    """A task fixed to a team and day by the team leader (``SITE:TEAM:DAY``).

    ``day`` is a date or a weekday code (``mon``); ``service`` picks one of the site's tasks
    when it has several (the first the team offers otherwise).
    """

    site_id: str
    team_id: str
    day: str
    service: str | None = None

    @classmethod
    def parse(cls, text: str) -> Pin:
        """From ``SITE:TEAM:DAY`` or ``SITE:TEAM:DAY:SERVICE``.

        Raises
        ------
        ParameterError
            If the text does not have three or four parts.
        """
        parts = text.split(":")
        if len(parts) not in (3, 4) or not all(p.strip() for p in parts):
            raise ParameterError(
                f"pin {text!r}: expected SITE:TEAM:DAY or SITE:TEAM:DAY:SERVICE (DAY a date or "
                "sun..sat), such as DC-03:PROT-1:mon"
            )
        return cls(*parts)

    @property
    def text(self) -> str:
        """``SITE:TEAM:DAY[:SERVICE]``, as :meth:`parse` reads it."""
        return ":".join(p for p in (self.site_id, self.team_id, self.day, self.service) if p)


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
class _PinCheck:
    """What a pin is checked against: sites, the teams planned and the days they work."""

    sites: frozenset[str]
    team_ids: tuple[str, ...]
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
        return cls(
            sites=frozenset(str(i) for frame in sites.values() for i in frame["id"]),
            team_ids=tuple(str(t) for t in teams["id"]),
            working=frozenset((r.team_id, r.day) for r in team_days(teams, days)),
            days=tuple(days),
            services=get_layer("outreach_visits").field("services").allowed,
            absences=tuple(absences),
        )

    def problems(self, pin: Pin) -> list[tuple[str, str]]:
        """(field, reason) for everything wrong with the pin."""
        found = []
        if pin.site_id not in self.sites:
            found.append(("site", f"no site {pin.site_id!r} in {', '.join(PLANNED_LAYERS)}"))
        if pin.team_id not in self.team_ids:
            teams = ", ".join(self.team_ids) or "none (no team asked for exists)"
            found.append(("team", f"team {pin.team_id!r} is not planned; teams planned: {teams}"))
        if pin.service is not None and pin.service not in self.services:
            known = ", ".join(self.services)
            found.append(("service", f"unknown service {pin.service!r}; services are: {known}"))
        return found + self._day_problems(pin)

    def _day_problems(self, pin: Pin) -> list[tuple[str, str]]:
        day = next((d for d in self.days if pin.day in (d.isoformat(), weekday_code(d))), None)
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
    tasks = _apply_pins(tasks, routes, pins)
    excluded = left_out_by_rule(tasks, routes, matrix, closures)
    _check_pins(tasks, excluded)
    plannable = [t for t in tasks if t.id not in excluded]
    tell(progress, f"Solving: {len(plannable)} tasks, {len(routes)} team-days")
    limit = params.time_limit if time_limit is None else time_limit
    routed = route_candidates(
        plannable, routes, matrix, params=params, seed=seed, time_limit=limit, progress=progress
    )
    return _week_plan(
        routed.solution,
        tasks=plannable,
        routes=routes,
        excluded={**excluded, **cut_before_routing(routed, plannable)},
        days=days,
        matrix=matrix,
        teams=teams,
        seed=seed,
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
) -> CandidateSolution:
    """Route the week's candidate tasks (``params.candidates``), check the cut ones, and route
    again with any the check finds would have made a better plan."""

    def search(problem: RoutingProblem) -> Solution:
        return solve(
            problem,
            time_limit=time_limit,
            seed=seed,
            params=params.solver,
            progress=_search_progress(progress, time_limit),
        )

    week = solver_week(tasks, routes, params=params)
    return solve_candidates(week, MatrixTravel(matrix), params=params.candidates, solve=search)


def solver_week(
    tasks: Sequence[VisitTask], routes: Sequence[TeamDay], *, params: PlanningParams
) -> Week:
    """The week's tasks, team-days and bases as the solver's tasks, vehicles and depots."""
    return Week(
        tasks=tuple(_solver_task(t, routes, params) for t in tasks),
        vehicles=tuple(_vehicle(r) for r in routes),
        depots=tuple(Depot(id=b, location=b) for b in dict.fromkeys(r.base for r in routes)),
    )


def cut_before_routing(routed: CandidateSolution, tasks: Sequence[VisitTask]) -> dict[str, LeftOut]:
    """The tasks cut before routing, each left out for higher-priority tasks, with why."""
    by_id = {t.id: t for t in tasks}
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
                f"cut before routing; it could have fitted {m.vehicle} (gain {m.gain}), "
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
    tasks: list[VisitTask], routes: Sequence[TeamDay], pins: Sequence[Pin]
) -> list[VisitTask]:
    """The tasks with the pinned ones fixed to their team-day (pins checked by check_pins)."""
    by_id = {t.id: t for t in tasks}
    missing = []
    for pin in pins:
        route = _pinned_route(pin, routes)
        task = _pinned_task(pin, tasks, route)
        if task is None:
            missing.append(
                f"pin {pin.text}: the site has no task this week that team {pin.team_id} can do "
                "(is the site id right, and does it need a service the team offers?)"
            )
        else:
            by_id[task.id] = replace(task, pinned_to=route.id)
    if missing:
        raise PlanningError("; ".join(missing))
    return list(by_id.values())


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
    ]
    return max(candidates, key=lambda t: t.score) if candidates else None


def _check_pins(tasks: Sequence[VisitTask], excluded: Mapping[str, LeftOut]) -> None:
    broken = [
        f"{t.id} ({excluded[t.id].reason.text}: {excluded[t.id].detail})"
        for t in tasks
        if t.pinned_to and t.id in excluded
    ]
    if broken:
        raise PlanningError("pinned task(s) cannot be done: " + "; ".join(broken))


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
) -> WeekPlan:
    by_task = {t.id: t for t in tasks}
    by_route = {r.id: r for r in routes}
    week_start = dt.datetime.combine(days[0], dt.time())
    day_routes = tuple(
        _day_route(route, by_route[route.vehicle], by_task, week_start) for route in solution.routes
    )
    capacity = [
        LeftOut(
            by_task[t],
            LeftOutReason.NO_TEAM_TIME,
            "not enough team time this week for this priority",
        )
        for t in solution.unvisited
    ]
    positions = {str(row.id): (row.geometry.x, row.geometry.y) for row in teams.itertuples()}
    return WeekPlan(
        days=tuple(days),
        routes=tuple(sorted(day_routes, key=lambda r: (r.team_id, r.day))),
        left_out=(*excluded.values(), *capacity),
        objective=solution.objective,
        seed=seed,
        runtime=solution.runtime,
        backend=matrix.backend,
        base_positions=positions,
        iterations=solution.iterations,
        stopped_by=solution.stopped_by,
    )


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
    "DayRoute",
    "LeftOut",
    "MatrixTravel",
    "Pin",
    "PinProblem",
    "PlanningParams",
    "PriorityParams",
    "Stop",
    "StopField",
    "TeamDay",
    "VisitTask",
    "WeekPlan",
    "check_pins",
    "cut_before_routing",
    "last_visits",
    "left_out_by_rule",
    "matrix_fits_week",
    "parse_pins",
    "pin_problems",
    "plan_week",
    "priority",
    "route_candidates",
    "route_id",
    "route_record",
    "routing_problem",
    "solver_week",
    "stop_record",
    "tasks_for_week",
    "team_days",
    "week_closures",
    "week_days",
    "week_matrix",
    "week_times",
]
