"""The neutral routing problem: places, bases, team-days and visits, and how the search runs.

The planner describes a week as a :class:`RoutingProblem`: places with a travel-time and a
distance matrix, team bases (:class:`Depot`), one :class:`Vehicle` per team-day, and the
visit :class:`Task` objects with their time windows, priorities (prizes), NFI kits and the
vehicles allowed to do them. Nothing here knows about PyVRP.

Times and distances are floats in the problem; a solver plans in whole seconds, rounded so
that a plan that fits in whole seconds also fits in real ones: travel and service times are
rounded up (:func:`seconds_up`), the ends of windows and shifts down (:func:`seconds_down`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from geoplan.errors import ParameterError, PlanningError


@dataclass(frozen=True)
class TimeWindow:
    """An interval on the week's timeline, in seconds from the start of the week.

    For a :class:`Task`, service may *start* at any time from ``start`` to ``end``; for a
    :class:`Vehicle`, the route leaves its base at ``start`` or later and is back by ``end``.
    Day ``d`` (0-based) at ``hh:mm`` is ``d * 86400 + hh * 3600 + mm * 60``.
    """

    start: float
    end: float


@dataclass(frozen=True)
class Depot:
    """A team base where routes start and end.

    Parameters
    ----------
    id
        Unique id of the depot.
    location
        Id of the depot's place in :attr:`RoutingProblem.locations`.
    """

    id: str
    location: str


@dataclass(frozen=True)
class Vehicle:
    """One route: a team's working day.

    Parameters
    ----------
    id
        Unique id, for example ``"med-1:2026-12-07"``.
    depot
        Id of the :class:`Depot` the route starts from and returns to.
    shift
        When the route may leave the depot and by when it must be back.
    capacity
        NFI kits the vehicle carries; ``None`` for no limit.
    max_stops
        Most tasks the route may do; ``None`` for no limit.
    """

    id: str
    depot: str
    shift: TimeWindow
    capacity: int | None = None
    max_stops: int | None = None


@dataclass(frozen=True)
class Task:
    """One visit to do at a place, if possible or (``required``) in any case.

    Parameters
    ----------
    id
        Unique id of the task.
    location
        Id of the place in :attr:`RoutingProblem.locations`.
    service
        Seconds spent on site.
    windows
        Alternative windows for the start of service; the visit uses one of them. Empty
        means any time within a vehicle's shift.
    prize
        Cost units the plan loses when it leaves the task out: the task's priority.
    required
        Whether every feasible solution must include the task.
    demand
        NFI kits delivered at the visit.
    vehicles
        Ids of the vehicles allowed to do the task; ``None`` allows every vehicle.
    pinned_to
        Id of the one vehicle that must do the task; a pinned task is always required.
    group
        Tasks with the same group are alternatives of one visit (a re-plan's "keep it on its
        team-day" and "move it"): at most one of them is done, exactly one when any is
        required; leaving them all out loses the highest prize among them once. ``None``: the
        task is its own group.
    """

    id: str
    location: str
    service: float = 0.0
    windows: tuple[TimeWindow, ...] = ()
    prize: int = 0
    required: bool = False
    demand: int = 0
    vehicles: frozenset[str] | None = None
    pinned_to: str | None = None
    group: str | None = None

    @property
    def visit(self) -> str:
        """The visit this task is an alternative of: its group, or its own id."""
        return self.group if self.group is not None else self.id

    @property
    def must_do(self) -> bool:
        """Whether the task is required, explicitly or by a pin."""
        return self.required or self.pinned_to is not None

    def allows(self, vehicle: str) -> bool:
        """Whether ``vehicle`` may do this task (its pin, or its list of vehicles)."""
        if self.pinned_to is not None:
            return vehicle == self.pinned_to
        return self.vehicles is None or vehicle in self.vehicles


@dataclass(frozen=True, eq=False)
class RoutingProblem:
    """Everything the solver needs to plan routes, and nothing about PyVRP.

    The objective is to minimise ``distance_weight`` per metre plus ``duration_weight`` per
    second of route duration (from leaving the depot to returning, waiting included), plus
    the prizes of the tasks left out. All are whole, non-negative cost units.

    Parameters
    ----------
    locations
        Ids of the places, in matrix order.
    durations
        Travel seconds from row to column place; ``NaN`` (or infinity) where a pair
        cannot be travelled. Such pairs are never used.
    distances
        Travel metres, same shape; ``NaN`` (or infinity) where unreachable.
    depots, vehicles, tasks
        Bases, routes (team-days) and visits.
    distance_weight, duration_weight
        Cost units per metre and per second of route duration.

    Raises
    ------
    PlanningError
        Listing every inconsistency at once: unknown ids, duplicate ids, matrices of the
        wrong shape, negative travel times, windows that end before they start, a pin that
        contradicts the task's vehicles.
    """

    locations: tuple[str, ...]
    durations: np.ndarray
    distances: np.ndarray
    depots: tuple[Depot, ...]
    vehicles: tuple[Vehicle, ...]
    tasks: tuple[Task, ...]
    distance_weight: int = 0
    duration_weight: int = 1
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("durations", "distances"):
            array = np.array(getattr(self, name), dtype=float)
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        object.__setattr__(self, "_index", {loc: i for i, loc in enumerate(self.locations)})
        problems = _problem_issues(self)
        if problems:
            lines = "\n".join(f"  - {p}" for p in problems)
            msg = f"routing problem has {len(problems)} problem(s):\n{lines}"
            raise PlanningError(msg)

    def site(self, location: str) -> int:
        """Matrix index of a location id."""
        return self._index[location]

    def depot(self, depot_id: str) -> Depot:
        """The depot with this id."""
        return next(d for d in self.depots if d.id == depot_id)

    def vehicle(self, vehicle_id: str) -> Vehicle:
        """The vehicle with this id."""
        return next(v for v in self.vehicles if v.id == vehicle_id)

    def task(self, task_id: str) -> Task:
        """The task with this id."""
        return next(t for t in self.tasks if t.id == task_id)

    def alternatives(self) -> dict[str, list[int]]:
        """Task indexes by visit (:attr:`Task.visit`), in task order."""
        out: dict[str, list[int]] = {}
        for k, task in enumerate(self.tasks):
            out.setdefault(task.visit, []).append(k)
        return out


def _problem_issues(problem: RoutingProblem) -> list[str]:
    return [
        *_matrix_issues(problem),
        *_duplicates("locations", problem.locations),
        *_duplicates("depots", [d.id for d in problem.depots]),
        *_duplicates("vehicles", [v.id for v in problem.vehicles]),
        *_duplicates("tasks", [t.id for t in problem.tasks]),
        *_depot_issues(problem),
        *_vehicle_issues(problem),
        *(issue for task in problem.tasks for issue in _task_issues(problem, task)),
        *_weight_issues(problem),
    ]


def _matrix_issues(problem: RoutingProblem) -> list[str]:
    n = len(problem.locations)
    issues = []
    for name in ("durations", "distances"):
        array = getattr(problem, name)
        if array.shape != (n, n):
            issues.append(f"{name} has shape {array.shape}, expected ({n}, {n}) for {n} locations")
        elif (array < 0).any():
            i, j = np.argwhere(array < 0)[0]
            issues.append(
                f"{name}[{problem.locations[i]!r}, {problem.locations[j]!r}] is "
                f"{array[i, j]}; travel cannot be negative (use NaN for unreachable)"
            )
    return issues


def _duplicates(what: str, ids: Sequence[str]) -> list[str]:
    dups = sorted(i for i, n in Counter(ids).items() if n > 1)
    return [f"{what}: id {d!r} is used more than once; ids must be unique" for d in dups]


def _depot_issues(problem: RoutingProblem) -> list[str]:
    return [
        f"depot {d.id!r}: location {d.location!r} is not in locations"
        for d in problem.depots
        if d.location not in problem._index
    ]


def _vehicle_issues(problem: RoutingProblem) -> list[str]:
    depots = {d.id for d in problem.depots}
    issues = []
    for v in problem.vehicles:
        where = f"vehicle {v.id!r}"
        if v.depot not in depots:
            issues.append(f"{where}: depot {v.depot!r} is not one of the depots")
        issues += _window_issues(f"{where} shift", v.shift)
        if v.capacity is not None and v.capacity < 0:
            issues.append(f"{where}: capacity {v.capacity} is negative; use 0 or more kits")
        if v.max_stops is not None and v.max_stops < 1:
            issues.append(f"{where}: max_stops {v.max_stops} is below 1; use None for no limit")
    return issues


def _task_issues(problem: RoutingProblem, task: Task) -> list[str]:
    where = f"task {task.id!r}"
    vehicles = {v.id for v in problem.vehicles}
    issues = [f"{where}: location {task.location!r} is not in locations"] * (
        task.location not in problem._index
    )
    if not (math.isfinite(task.service) and task.service >= 0):
        issues.append(f"{where}: service {task.service} s must be a finite number >= 0")
    for k, window in enumerate(task.windows):
        issues += _window_issues(f"{where} window {k}", window)
    if task.prize < 0 or task.demand < 0:
        issues.append(f"{where}: prize {task.prize} and demand {task.demand} must be >= 0")
    unknown = sorted((task.vehicles or frozenset()) - vehicles)
    if unknown:
        issues.append(f"{where}: vehicles {unknown} are not among the vehicles")
    issues += _pin_issues(task, where, vehicles)
    return issues


def _pin_issues(task: Task, where: str, vehicles: set[str]) -> list[str]:
    if task.pinned_to is None:
        return []
    if task.pinned_to not in vehicles:
        return [f"{where}: pinned to {task.pinned_to!r}, which is not among the vehicles"]
    if task.vehicles is not None and task.pinned_to not in task.vehicles:
        return [
            f"{where}: pinned to {task.pinned_to!r}, which is not among its allowed "
            f"vehicles {sorted(task.vehicles)}; pin it to one of them"
        ]
    return []


def _window_issues(where: str, window: TimeWindow) -> list[str]:
    start, end = window.start, window.end
    if not (math.isfinite(start) and math.isfinite(end) and 0 <= start <= end):
        return [f"{where}: ({start}, {end}) must be finite with 0 <= start <= end"]
    return []


def _weight_issues(problem: RoutingProblem) -> list[str]:
    return [
        f"{name} {value} must be an integer >= 0"
        for name in ("distance_weight", "duration_weight")
        if not (isinstance(value := getattr(problem, name), int) and value >= 0)
    ]


# ---------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SolverParams:
    """How the search runs, besides its time limit and seed.

    The same problem and seed give the same solution whenever the search stops on an
    iteration budget (``max_iterations`` or ``stall_iterations``) before the time limit.
    A run that stops on the time limit has done as many iterations as the machine allowed,
    so a busier machine may return a different (usually slightly worse) solution.

    Parameters
    ----------
    max_iterations
        Stop after this many search iterations; ``None`` for no limit.
    stall_iterations
        Stop after this many iterations without a better solution; ``None`` for no limit.
    num_neighbours
        Size of each task's granular neighbourhood in the local search.
    progress_interval
        Seconds between progress reports.

    Raises
    ------
    ParameterError
        When a value is outside its range.
    """

    max_iterations: int | None = None
    stall_iterations: int | None = None
    num_neighbours: int = 50
    progress_interval: float = 1.0

    def __post_init__(self) -> None:
        for name in ("max_iterations", "stall_iterations"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int) and value >= 1):
                msg = f"solver parameter {name} = {value!r}; expected an integer >= 1 or None"
                raise ParameterError(msg)
        if not (isinstance(self.num_neighbours, int) and self.num_neighbours >= 1):
            msg = f"solver parameter num_neighbours = {self.num_neighbours!r}; expected >= 1"
            raise ParameterError(msg)
        interval = self.progress_interval
        if not (isinstance(interval, int | float) and math.isfinite(interval) and interval > 0):
            msg = f"solver parameter progress_interval = {interval!r}; expected seconds > 0"
            raise ParameterError(msg)


# ---------------------------------------------------------------------------------------
# Whole seconds, as the solver plans and the check checks
# ---------------------------------------------------------------------------------------


def seconds_up(value: float) -> int:
    """Whole seconds, rounded up: travel and service times, the starts of windows."""
    return math.ceil(round(value, 6))


def seconds_down(value: float) -> int:
    """Whole seconds, rounded down: the ends of windows and shifts."""
    return math.floor(round(value, 6))


def shift_seconds(vehicle: Vehicle) -> tuple[int, int]:
    """A vehicle's shift in whole seconds, never ending before it starts."""
    start = seconds_up(vehicle.shift.start)
    return start, max(start, seconds_down(vehicle.shift.end))
