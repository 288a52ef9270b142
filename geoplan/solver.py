"""Routes for team-days: a neutral routing problem, and the one door to PyVRP.

The planner describes a week as a :class:`RoutingProblem`: places with a travel-time and a
distance matrix, team bases (:class:`Depot`), one :class:`Vehicle` per team-day, and the
visit :class:`Task` objects with their time windows, priorities (prizes), NFI kits and the
vehicles allowed to do them. :func:`solve` builds a PyVRP instance from it, searches for
good routes within a time limit and returns a :class:`Solution` in which every visit is
timed; :func:`check_solution` re-checks a solution against every hard rule.

This is the only module of geoplan that imports :mod:`pyvrp`. Times and distances are
floats everywhere else; here they become whole seconds and metres, rounded so that a plan
that fits in whole seconds also fits in real ones: travel and service times are rounded up,
the ends of windows and shifts down.

How each rule reaches PyVRP
---------------------------
* *Shift, back at base*: each vehicle type has the shift as its time window
  (``tw_early``, ``tw_late``) and its depot as start and end depot.
* *Time windows*: one PyVRP client per window. Alternative windows (a detention centre
  open Monday and Wednesday) form a mutually exclusive :class:`pyvrp.ClientGroup`, so that
  at most one, or exactly one when the task is required, is visited.
* *Optional tasks and priority*: optional clients with the task's prize; PyVRP minimises
  travel cost plus the prizes of the tasks it leaves out.
* *Which vehicles may do a task* (services, pins) and *unreachable pairs*: routing profiles.
  Edges that must not be used get a travel time longer than the whole planning horizon, so
  any route that uses one arrives too late somewhere and is infeasible (time warp), plus a
  distance larger than any honest route. Vehicles whose restrictions do not conflict share
  a profile, and a restriction is only written where the windows and the shift overlap, so
  a week of team-days needs about one profile per team.
* *Pins*: a pinned task is required and allowed on its one vehicle only.
* *NFI kits and stop limits*: load dimensions; a task delivers its kits and one "stop", a
  vehicle's capacity is its kits and its maximum number of stops.
"""

from __future__ import annotations

import itertools
import math
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd
import pyvrp
from pyvrp.IteratedLocalSearch import (
    IteratedLocalSearch,
    IteratedLocalSearchCallbacks,
    IteratedLocalSearchParams,
)
from pyvrp.PenaltyManager import PenaltyManager, PenaltyParams
from pyvrp.search import (
    OPERATORS,
    LocalSearch,
    NeighbourhoodParams,
    PerturbationManager,
    PerturbationParams,
    compute_neighbours,
)

from geoplan.errors import ParameterError, PlanningError

_MAX_SEED = 2**32 - 1
_MAX_BLOCKED_DISTANCE = 2**40


# ---------------------------------------------------------------------------------------
# The problem
# ---------------------------------------------------------------------------------------


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

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> SolverParams:
        """Parameters from a mapping (a TOML table); missing keys keep their defaults.

        Raises
        ------
        ParameterError
            When the mapping has keys that are not parameters, or values out of range.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            msg = f"unknown solver parameter(s) {unknown}; known: {sorted(known)}"
            raise ParameterError(msg)
        return cls(**data)  # type: ignore[arg-type]

    @classmethod
    def from_toml(cls, path: Path, *, table: str = "solver") -> SolverParams:
        """Parameters from the ``[solver]`` table of a TOML file (defaults if absent).

        Raises
        ------
        ParameterError
            When the file cannot be read or parsed, or holds invalid parameters.
        """
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            msg = f"cannot read solver parameters from {path}: {exc}"
            raise ParameterError(msg) from exc
        section = data.get(table, {})
        if not isinstance(section, dict):
            msg = f"{path}: [{table}] must be a table of parameters, got {section!r}"
            raise ParameterError(msg)
        return cls.from_mapping(section)


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """One task done on a route, with its times in whole seconds on the week's timeline.

    Parameters
    ----------
    task, location
        Ids of the task and of its place.
    window
        Index of the task's window used; ``None`` when the task has no windows.
    arrival, start, departure
        Arrival on site, start of service (after any wait) and departure.
    travel_seconds, travel_metres
        Travel from the previous stop (or the depot), as given in the problem's matrices.
    demand
        NFI kits delivered.
    """

    task: str
    location: str
    window: int | None
    arrival: int
    start: int
    departure: int
    travel_seconds: float
    travel_metres: float
    demand: int = 0

    @property
    def wait(self) -> int:
        """Seconds waited on site before service could start."""
        return self.start - self.arrival


@dataclass(frozen=True)
class Route:
    """The ordered visits of one vehicle, from its depot and back.

    Parameters
    ----------
    vehicle, depot
        Ids of the vehicle and of its depot.
    start, end
        When the route leaves the depot and when it is back. The route leaves as late as
        it can without delaying any visit, and starts every visit as early as it can.
    visits
        The tasks done, in order.
    return_seconds, return_metres
        Travel from the last stop back to the depot.
    """

    vehicle: str
    depot: str
    start: int
    end: int
    visits: tuple[Visit, ...]
    return_seconds: float
    return_metres: float

    @property
    def distance(self) -> float:
        """Metres driven, the return included."""
        return sum(v.travel_metres for v in self.visits) + self.return_metres

    @property
    def travel_time(self) -> float:
        """Seconds driven, the return included."""
        return sum(v.travel_seconds for v in self.visits) + self.return_seconds

    @property
    def load(self) -> int:
        """NFI kits delivered on the route."""
        return sum(v.demand for v in self.visits)


@dataclass(frozen=True)
class SolveProgress:
    """A progress report while the search runs.

    Parameters
    ----------
    elapsed
        Seconds since :func:`solve` was called.
    iterations
        Search iterations so far.
    objective
        Objective of the best feasible solution so far; ``None`` before there is one.
    tasks_done
        Tasks on the routes of the best solution so far.
    """

    elapsed: float
    iterations: int
    objective: int | None
    tasks_done: int


@dataclass(frozen=True)
class Solution:
    """Routes found by :func:`solve`, what they leave out, and how the search went.

    Parameters
    ----------
    routes
        Routes with at least one visit, in the problem's vehicle order.
    unvisited
        Ids of the tasks on no route, in the problem's task order.
    objective
        The cost the solver minimised: weighted distance and duration plus the prizes of
        the tasks left out.
    feasible
        Whether every hard rule holds and every required task is done.
    violations
        What breaks the rules when ``feasible`` is false; empty otherwise.
    runtime
        Seconds from the call to :func:`solve` to its return.
    iterations
        Search iterations done.
    stopped_by
        ``"time limit"``, ``"max iterations"``, ``"stall iterations"`` or ``"nothing to do"``.
    seed
        The seed of the run.
    """

    routes: tuple[Route, ...]
    unvisited: tuple[str, ...]
    objective: int
    feasible: bool
    violations: tuple[str, ...]
    runtime: float
    iterations: int
    stopped_by: str
    seed: int

    def route(self, vehicle: str) -> Route | None:
        """The route of ``vehicle``, or ``None`` when it does nothing."""
        return next((r for r in self.routes if r.vehicle == vehicle), None)

    @property
    def distance(self) -> float:
        """Metres driven over all routes."""
        return sum(r.distance for r in self.routes)

    def summary(self) -> str:
        """A few lines for people: tasks done, objective, feasibility, and each route."""
        done = sum(len(r.visits) for r in self.routes)
        status = "feasible" if self.feasible else "INFEASIBLE"
        lines = [
            f"{done} tasks on {len(self.routes)} routes, {len(self.unvisited)} left out; "
            f"objective {self.objective} ({status})",
            f"{self.distance / 1000:.1f} km; searched {self.runtime:.1f} s, "
            f"{self.iterations} iterations, stopped by {self.stopped_by} (seed {self.seed})",
        ]
        lines += [
            f"  {r.vehicle}: {len(r.visits)} visits, {r.distance / 1000:.1f} km, "
            f"{_clock(r.start)}-{_clock(r.end)}"
            for r in self.routes
        ]
        lines += [f"  ! {v}" for v in self.violations]
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """One row per visit: vehicle, sequence, task, window and times, travel legs."""
        columns = ["vehicle", "depot", "sequence", "task", "location", "window", "arrival"]
        columns += ["start", "departure", "wait", "travel_seconds", "travel_metres", "demand"]
        rows = [
            (r.vehicle, r.depot, k, *_visit_row(v))
            for r in self.routes
            for k, v in enumerate(r.visits, start=1)
        ]
        return pd.DataFrame(rows, columns=columns)


def _visit_row(v: Visit) -> tuple[object, ...]:
    times = (v.arrival, v.start, v.departure, v.wait)
    return (v.task, v.location, v.window, *times, v.travel_seconds, v.travel_metres, v.demand)


def _clock(seconds: int) -> str:
    day, rest = divmod(seconds, 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"
    return f"d{day} {text}" if day else text


# ---------------------------------------------------------------------------------------
# Solving
# ---------------------------------------------------------------------------------------

ProgressCallback = Callable[[SolveProgress], None]


def solve(
    problem: RoutingProblem,
    *,
    time_limit: float,
    seed: int,
    params: SolverParams | None = None,
    progress: ProgressCallback | None = None,
) -> Solution:
    """Find routes for ``problem`` with PyVRP within ``time_limit`` seconds.

    Parameters
    ----------
    problem
        The routing problem.
    time_limit
        Seconds the whole call may take, building the model included. The search cannot
        be interrupted inside PyVRP's construction of a first solution, which on very large
        problems may overrun a very short limit.
    seed
        Seed of the search (0 to 2**32 - 1); see :class:`SolverParams` on determinism.
    params
        Search parameters; defaults when ``None``.
    progress
        Called every ``params.progress_interval`` seconds and once at the end.

    Returns
    -------
    Solution
        The best solution found; check :attr:`Solution.feasible`.

    Raises
    ------
    ParameterError
        When ``time_limit`` or ``seed`` is out of range.
    """
    started = time.perf_counter()
    _check_run(time_limit, seed)
    params = params or SolverParams()
    model = _build_model(problem)
    if model.data is None:
        return _empty_solution(problem, model, time.perf_counter() - started, seed)
    stop = _Stop(started + time_limit, params)
    callbacks = _ProgressCallbacks(progress, params.progress_interval, started, model.offset)
    result = _search(model, _penalty_params(problem), params, callbacks, (stop, seed))
    runtime = time.perf_counter() - started
    run = _Run(runtime, result.num_iterations, stop.reason, seed)
    return _solution_from_pyvrp(problem, model, result, run)


def _search(
    model: _Model,
    penalty: PenaltyParams,
    params: SolverParams,
    callbacks: IteratedLocalSearchCallbacks,
    run: tuple[_Stop, int],
) -> pyvrp.Result:
    """PyVRP's iterated local search, as :func:`pyvrp.solve` runs it, from a repaired start.

    The steps are those of :func:`pyvrp.solve` (same order, so the same random stream);
    only the random first solution is repaired before the first local search.
    """
    stop, seed = run
    data = model.data
    assert data is not None
    rng = pyvrp.RandomNumberGenerator(seed=seed)
    neighbours = compute_neighbours(data, NeighbourhoodParams(num_neighbours=params.num_neighbours))
    search = LocalSearch(data, rng, neighbours, PerturbationManager(PerturbationParams()))
    for operator in OPERATORS:
        if operator.supports(data):
            search.add_operator(operator(data))
    penalties = PenaltyManager(penalty.midpoint_penalties(data), penalty)
    start = _repaired(model, pyvrp.Solution.make_random(data, rng))
    first = search(start, penalties.max_cost_evaluator(), exhaustive=True)
    ils_params = IteratedLocalSearchParams(callbacks=callbacks)
    return IteratedLocalSearch(data, penalties, search, first, ils_params).run(stop, False)


def _repaired(model: _Model, start: pyvrp.Solution) -> pyvrp.Solution:
    """The random start with every visit on a vehicle type that may make it in time.

    A required task that starts on a route that may not do it (a task pinned to Tuesday's
    team on Monday's route) rarely has a neighbour on its one allowed route, so the local
    search would never move it there. Optional visits on such routes are dropped instead.
    """
    assert model.data is not None
    routes: dict[int, list[list[int]]] = {}
    for route in start.routes():
        kind = route.vehicle_type()
        visits = [a.idx for a in route if a.is_client() and kind in model.homes[a.idx]]
        routes.setdefault(kind, []).append(visits)
    placed = {client for visits in itertools.chain(*routes.values()) for client in visits}
    for client, details in enumerate(model.data.clients()):
        if details.required and client not in placed and model.homes[client]:
            same_kind = routes.setdefault(min(model.homes[client]), [])
            if not same_kind:
                same_kind.append([])
            same_kind[0].append(client)
    return pyvrp.Solution(
        model.data,
        [pyvrp.Route(model.data, v, kind) for kind, vs in sorted(routes.items()) for v in vs if v],
    )


def _check_run(time_limit: float, seed: int) -> None:
    if not (isinstance(time_limit, int | float) and math.isfinite(time_limit) and time_limit > 0):
        msg = f"time_limit = {time_limit!r}; expected a number of seconds > 0"
        raise ParameterError(msg)
    if not (isinstance(seed, int) and 0 <= seed <= _MAX_SEED):
        msg = f"seed = {seed!r}; expected an integer from 0 to {_MAX_SEED}"
        raise ParameterError(msg)


def _penalty_params(problem: RoutingProblem) -> PenaltyParams:
    """PyVRP's penalty bounds, raised so that breaking a rule never pays.

    PyVRP penalises a second of lateness or a kit of excess load at most ``max_penalty``.
    When a prize or a unit cost is larger than that, carrying one kit too many could pay
    for itself and the search would never return to feasible plans.
    """
    default = PenaltyParams()
    largest_prize = max((t.prize for t in problem.tasks), default=0)
    weight = max(1, problem.distance_weight, problem.duration_weight)
    ceiling = max(default.max_penalty * weight, 2.0 * largest_prize)
    return PenaltyParams(min_penalty=default.min_penalty, max_penalty=ceiling)


class _Stop:
    """PyVRP stopping criterion: iteration budgets first, then the deadline."""

    def __init__(self, deadline: float, params: SolverParams) -> None:
        self._deadline = deadline
        self._max = params.max_iterations
        self._stall = params.stall_iterations
        self._best: int | None = None
        self._since_best = 0
        self.iterations = -1  # PyVRP asks once before the first iteration
        self.reason = "time limit"

    def __call__(self, best_cost: int) -> bool:
        self.iterations += 1
        if self._best is None or best_cost < self._best:
            self._best, self._since_best = best_cost, 0
        else:
            self._since_best += 1
        if self._max is not None and self.iterations >= self._max:
            self.reason = "max iterations"
            return True
        if self._stall is not None and self._since_best >= self._stall:
            self.reason = "stall iterations"
            return True
        return time.perf_counter() >= self._deadline


class _ProgressCallbacks(IteratedLocalSearchCallbacks):
    """Reports the best solution to the caller every ``interval`` seconds."""

    def __init__(
        self, report: ProgressCallback | None, interval: float, started: float, offset: int
    ) -> None:
        self._report = report
        self._interval = interval
        self._started = started
        self._offset = offset
        self._last = started
        self._iterations = 0

    def on_iteration(
        self,
        current: pyvrp.Solution,
        candidate: pyvrp.Solution,
        best: pyvrp.Solution,
        cost_evaluator: pyvrp.CostEvaluator,
    ) -> None:
        self._iterations += 1
        now = time.perf_counter()
        if self._report is not None and now - self._last >= self._interval:
            self._last = now
            self._send(best, now)

    def on_end(self, result: pyvrp.Result) -> None:
        if self._report is not None:
            self._send(result.best, time.perf_counter())

    def _send(self, best: pyvrp.Solution, now: float) -> None:
        assert self._report is not None
        objective = _objective(best, self._offset) if best.is_feasible() else None
        self._report(
            SolveProgress(now - self._started, self._iterations, objective, best.num_clients())
        )


def _objective(best: pyvrp.Solution, offset: int) -> int:
    # PyVRP counts the prize of every unvisited client, so a group of k alternatives always
    # contributes (k - 1) prizes whether the task is done or not: the offset removes them.
    cost = best.distance_cost() + best.duration_cost() + best.uncollected_prizes()
    return int(cost) - offset


# ---------------------------------------------------------------------------------------
# From the neutral problem to PyVRP
# ---------------------------------------------------------------------------------------

_Window = tuple[int | None, int, int]  # (index in task.windows or None, early, late)


@dataclass(frozen=True, eq=False)
class _Model:
    """A PyVRP instance and the maps back to the problem's ids."""

    data: pyvrp.ProblemData | None
    clients: tuple[tuple[int, int | None], ...]  # PyVRP client -> (task, window index)
    classes: tuple[tuple[int, ...], ...]  # PyVRP vehicle type -> vehicle indices
    homes: tuple[frozenset[int], ...]  # PyVRP client -> vehicle types that may visit it
    durations: np.ndarray  # whole seconds between places, blocked where unreachable
    unusable: tuple[int, ...]  # tasks with no window in an allowed vehicle's shift
    offset: int


@dataclass(frozen=True, eq=False)
class _Whole:
    """The problem's matrices in whole seconds and metres, blocked where unreachable."""

    seconds: np.ndarray
    metres: np.ndarray
    blocked_seconds: int
    blocked_metres: int


@dataclass(frozen=True)
class _Layout:
    """PyVRP's locations: the depots, then one per pair of place and allowed vehicles.

    Tasks at one place share a location when the same vehicles may do them, so that
    keeping a vehicle out of a location never keeps it from a task it may do.
    """

    sites: tuple[int, ...]  # PyVRP location -> matrix index of its place
    of_task: tuple[int | None, ...]  # task -> PyVRP location; None when unusable
    allowed: Mapping[int, frozenset[int]]  # client location -> vehicles allowed there
    windows: Mapping[int, tuple[tuple[int, int], ...]]  # client location -> its windows


@dataclass(frozen=True)
class _Class:
    """Identical vehicles, which become one PyVRP vehicle type."""

    vehicles: tuple[int, ...]
    serve: frozenset[int]  # client locations these vehicles may visit
    block: frozenset[int]  # client locations they may not visit but could reach in time


@dataclass(frozen=True)
class _Loads:
    """Which load dimensions the problem needs: NFI kits, stops, or neither."""

    kits: bool
    stops: bool
    total_demand: int
    num_tasks: int

    def delivery(self, task: Task) -> list[int]:
        return [task.demand] * self.kits + [1] * self.stops

    def capacity(self, vehicle: Vehicle) -> list[int]:
        kits = self.total_demand if vehicle.capacity is None else vehicle.capacity
        stops = self.num_tasks if vehicle.max_stops is None else vehicle.max_stops
        return [kits] * self.kits + [stops] * self.stops


def _build_model(problem: RoutingProblem) -> _Model:
    shifts = [_shift(v) for v in problem.vehicles]
    horizon = max((end for _, end in shifts), default=0)
    whole = _whole_matrices(problem, horizon)
    allowed = [
        frozenset(k for k, v in enumerate(problem.vehicles) if task.allows(v.id))
        for task in problem.tasks
    ]
    windows = [
        _usable_windows(task, [shifts[k] for k in vehicles], horizon)
        for task, vehicles in zip(problem.tasks, allowed, strict=True)
    ]
    unusable = tuple(k for k, w in enumerate(windows) if not w)
    if len(unusable) == len(problem.tasks):
        return _Model(None, (), (), (), whole.seconds, unusable, 0)
    layout = _layout(problem, allowed, windows)
    classes = _vehicle_classes(problem, shifts, layout)
    data, refs, offset = _problem_data(problem, whole, layout, classes, windows)
    homes = _homes(data, refs, classes, shifts, allowed)
    # Tasks that no vehicle can do are not in PyVRP's instance, but their prizes are lost.
    offset -= sum(problem.tasks[k].prize for k in unusable)
    kinds = tuple(c.vehicles for c in classes)
    return _Model(data, refs, kinds, homes, whole.seconds, unusable, offset)


def _homes(
    data: pyvrp.ProblemData,
    refs: Sequence[tuple[int, int | None]],
    classes: Sequence[_Class],
    shifts: Sequence[tuple[int, int]],
    allowed: Sequence[frozenset[int]],
) -> tuple[frozenset[int], ...]:
    """For each PyVRP client, the vehicle types allowed to visit it whose shift meets it."""
    return tuple(
        frozenset(
            kind
            for kind, cls in enumerate(classes)
            if cls.vehicles[0] in allowed[task]
            and _overlaps([(client.tw_early, client.tw_late)], [shifts[cls.vehicles[0]]])
        )
        for client, (task, _) in zip(data.clients(), refs, strict=True)
    )


def _problem_data(
    problem: RoutingProblem,
    whole: _Whole,
    layout: _Layout,
    classes: Sequence[_Class],
    windows: Sequence[Sequence[_Window]],
) -> tuple[pyvrp.ProblemData, tuple[tuple[int, int | None], ...], int]:
    loads = _Loads(
        kits=any(t.demand > 0 for t in problem.tasks),
        stops=any(v.max_stops is not None for v in problem.vehicles),
        total_demand=sum(t.demand for t in problem.tasks),
        num_tasks=len(problem.tasks),
    )
    profile_of, blocked = _profiles(classes)
    distances, durations = _profile_matrices(whole, layout.sites, blocked)
    clients, refs, groups, offset = _clients(problem, windows, layout, loads)
    data = pyvrp.ProblemData(
        [pyvrp.Location(0.0, 0.0, name=problem.locations[s]) for s in layout.sites],
        clients,
        [pyvrp.Depot(k, name=d.id) for k, d in enumerate(problem.depots)],
        _vehicle_types(problem, classes, profile_of, loads),
        distances,  # type: ignore[arg-type]  # the stub spells matrices np.ndarray[int]
        durations,  # type: ignore[arg-type]
        groups,
    )
    return data, refs, offset


def _up(value: float) -> int:
    return math.ceil(round(value, 6))


def _down(value: float) -> int:
    return math.floor(round(value, 6))


def _shift(vehicle: Vehicle) -> tuple[int, int]:
    start = _up(vehicle.shift.start)
    return start, max(start, _down(vehicle.shift.end))


def _whole_matrices(problem: RoutingProblem, horizon: int) -> _Whole:
    reachable = np.isfinite(problem.durations) & np.isfinite(problem.distances)
    np.fill_diagonal(reachable, True)
    seconds = np.ceil(np.round(np.where(reachable, problem.durations, 0.0), 6)).astype(np.int64)
    metres = np.rint(np.where(reachable, problem.distances, 0.0)).astype(np.int64)
    np.fill_diagonal(seconds, 0)
    np.fill_diagonal(metres, 0)
    # A blocked edge takes longer than the whole horizon, so a route that uses it is late
    # somewhere; and it is longer than any route of honest edges.
    blocked_seconds = horizon + 1
    longest = int(metres.max(initial=0))
    blocked_metres = min(_MAX_BLOCKED_DISTANCE, (longest + 1) * (len(problem.tasks) + 2))
    seconds[~reachable] = blocked_seconds
    metres[~reachable] = blocked_metres
    return _Whole(seconds, metres, blocked_seconds, blocked_metres)


def _overlaps(windows: Iterable[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> bool:
    return any(early <= end and late >= start for early, late in windows for start, end in spans)


def _usable_windows(task: Task, shifts: Sequence[tuple[int, int]], horizon: int) -> list[_Window]:
    """The task's windows in whole seconds, cut to the shifts of its allowed vehicles.

    A window that meets no allowed shift is dropped; the others are cut to the span of the
    shifts they meet, so that a task pinned to a team-day only concerns that day.
    """
    given: list[_Window] = [
        (k, _up(w.start), _down(w.end)) for k, w in enumerate(task.windows)
    ] or [(None, 0, horizon)]
    usable = []
    for k, early, late in given:
        met = [(start, end) for start, end in shifts if early <= end and late >= start]
        if met and early <= late:
            first, last = min(start for start, _ in met), max(end for _, end in met)
            usable.append((k, max(early, first), min(late, last)))
    return usable


def _layout(
    problem: RoutingProblem,
    allowed: Sequence[frozenset[int]],
    windows: Sequence[Sequence[_Window]],
) -> _Layout:
    sites = [problem.site(d.location) for d in problem.depots]
    keys: dict[tuple[int, frozenset[int]], int] = {}
    of_task: list[int | None] = []
    spans: dict[int, list[tuple[int, int]]] = {}
    for task, vehicles, usable in zip(problem.tasks, allowed, windows, strict=True):
        if not usable:
            of_task.append(None)
            continue
        key = (problem.site(task.location), vehicles)
        if key not in keys:
            keys[key] = len(sites)
            sites.append(key[0])
        of_task.append(keys[key])
        spans.setdefault(keys[key], []).extend((early, late) for _, early, late in usable)
    allowed_at = {loc: vehicles for (_, vehicles), loc in keys.items()}
    return _Layout(
        tuple(sites), tuple(of_task), allowed_at, {k: tuple(v) for k, v in spans.items()}
    )


def _vehicle_classes(
    problem: RoutingProblem, shifts: Sequence[tuple[int, int]], layout: _Layout
) -> list[_Class]:
    """Vehicles grouped by everything PyVRP sees of them, in first-seen order."""
    groups: dict[tuple[object, ...], list[int]] = {}
    reach: dict[tuple[object, ...], tuple[frozenset[int], frozenset[int]]] = {}
    for k, vehicle in enumerate(problem.vehicles):
        serve = frozenset(loc for loc, ok in layout.allowed.items() if k in ok)
        block = frozenset(
            loc
            for loc, ok in layout.allowed.items()
            if k not in ok and _overlaps(layout.windows[loc], [shifts[k]])
        )
        key = (vehicle.depot, shifts[k], vehicle.capacity, vehicle.max_stops, serve, block)
        groups.setdefault(key, []).append(k)
        reach[key] = (serve, block)
    return [_Class(tuple(ks), *reach[key]) for key, ks in groups.items()]


def _profiles(classes: Sequence[_Class]) -> tuple[list[int], list[frozenset[int]]]:
    """Few profiles: classes share one when none blocks a location another may serve."""
    blocked: list[frozenset[int]] = []
    served: list[frozenset[int]] = []
    profile_of: list[int] = []
    for cls in classes:
        fits = (
            p for p in range(len(blocked)) if not (blocked[p] & cls.serve or cls.block & served[p])
        )
        p = next(fits, len(blocked))
        if p == len(blocked):
            blocked.append(frozenset())
            served.append(frozenset())
        blocked[p] |= cls.block
        served[p] |= cls.serve
        profile_of.append(p)
    return profile_of, blocked


def _profile_matrices(
    whole: _Whole, sites: Sequence[int], blocked: Sequence[frozenset[int]]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    grid = np.ix_(sites, sites)
    base_metres, base_seconds = whole.metres[grid], whole.seconds[grid]
    distances, durations = [], []
    for locations in blocked:
        metres, seconds = base_metres, base_seconds
        if locations:
            columns = sorted(locations)
            metres, seconds = base_metres.copy(), base_seconds.copy()
            metres[:, columns] = whole.blocked_metres
            seconds[:, columns] = whole.blocked_seconds
            np.fill_diagonal(metres, 0)
            np.fill_diagonal(seconds, 0)
        distances.append(metres)
        durations.append(seconds)
    return distances, durations


def _clients(
    problem: RoutingProblem,
    windows: Sequence[Sequence[_Window]],
    layout: _Layout,
    loads: _Loads,
) -> tuple[list[pyvrp.Client], tuple[tuple[int, int | None], ...], list[pyvrp.ClientGroup], int]:
    """One client per usable window; a task's alternative windows form a group."""
    clients: list[pyvrp.Client] = []
    refs: list[tuple[int, int | None]] = []
    groups: list[pyvrp.ClientGroup] = []
    offset = 0
    for k, (task, usable) in enumerate(zip(problem.tasks, windows, strict=True)):
        group = None
        if len(usable) > 1:
            group = len(groups)
            groups.append(pyvrp.ClientGroup(required=task.must_do, name=task.id))
            offset += (len(usable) - 1) * task.prize
        for index, early, late in usable:
            if group is not None:
                groups[group].add_client(len(clients))
            clients.append(_client(task, layout.of_task[k], (early, late), group, loads))
            refs.append((k, index))
    return clients, tuple(refs), groups, offset


def _client(
    task: Task, location: int | None, window: tuple[int, int], group: int | None, loads: _Loads
) -> pyvrp.Client:
    assert location is not None  # usable tasks always have a location
    early, late = window
    return pyvrp.Client(
        location=location,
        delivery=loads.delivery(task),
        service_duration=_up(task.service),
        tw_early=early,
        tw_late=late,
        prize=task.prize,
        required=task.must_do and group is None,
        group=group,
        name=task.id,
    )


def _vehicle_types(
    problem: RoutingProblem, classes: Sequence[_Class], profile_of: Sequence[int], loads: _Loads
) -> list[pyvrp.VehicleType]:
    depot_index = {d.id: k for k, d in enumerate(problem.depots)}
    types = []
    for cls, profile in zip(classes, profile_of, strict=True):
        vehicle = problem.vehicles[cls.vehicles[0]]
        start, end = _shift(vehicle)
        types.append(
            pyvrp.VehicleType(
                num_available=len(cls.vehicles),
                capacity=loads.capacity(vehicle),
                start_depot=depot_index[vehicle.depot],
                end_depot=depot_index[vehicle.depot],
                tw_early=start,
                tw_late=end,
                unit_distance_cost=problem.distance_weight,
                unit_duration_cost=problem.duration_weight,
                profile=profile,
                name=vehicle.id,
            )
        )
    return types


# ---------------------------------------------------------------------------------------
# From PyVRP back to the problem's ids
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    """How a search went, for the solution's record."""

    runtime: float
    iterations: int
    stopped_by: str
    seed: int


def _solution_from_pyvrp(
    problem: RoutingProblem, model: _Model, result: pyvrp.Result, run: _Run
) -> Solution:
    best = result.best
    unused = [list(vehicles) for vehicles in model.classes]
    by_vehicle: dict[int, Route] = {}
    for route in best.routes():
        vehicle = unused[route.vehicle_type()].pop(0)
        refs = [model.clients[a.idx] for a in route if a.is_client()]
        by_vehicle[vehicle] = _timed_route(problem, model.durations, vehicle, refs)
    routes = tuple(by_vehicle[k] for k in sorted(by_vehicle))
    objective = _objective(best, model.offset)
    solution = _finish(problem, routes, objective, run)
    if solution.feasible and not best.is_feasible():
        why = f"time warp {best.time_warp()} s, excess load {best.excess_load()}"
        msg = f"PyVRP reports the solution infeasible ({why})"
        return _replace(solution, feasible=False, violations=(msg,))
    return solution


def _empty_solution(problem: RoutingProblem, model: _Model, runtime: float, seed: int) -> Solution:
    prizes = sum(problem.tasks[k].prize for k in model.unusable)
    return _finish(problem, (), prizes, _Run(runtime, 0, "nothing to do", seed))


def _finish(
    problem: RoutingProblem, routes: tuple[Route, ...], objective: int, run: _Run
) -> Solution:
    visited = {v.task for r in routes for v in r.visits}
    unvisited = tuple(t.id for t in problem.tasks if t.id not in visited)
    draft = Solution(
        routes,
        unvisited,
        objective,
        True,
        (),
        run.runtime,
        run.iterations,
        run.stopped_by,
        run.seed,
    )
    violations = check_solution(problem, draft)
    return _replace(draft, feasible=not violations, violations=violations)


def _replace(solution: Solution, *, feasible: bool, violations: tuple[str, ...]) -> Solution:
    values = {f.name: getattr(solution, f.name) for f in fields(solution)}
    return Solution(**{**values, "feasible": feasible, "violations": violations})


def _timed_route(
    problem: RoutingProblem,
    seconds: np.ndarray,
    vehicle_index: int,
    refs: Sequence[tuple[int, int | None]],
) -> Route:
    """Times a route: leave as late as possible without delaying the first visit."""
    vehicle = problem.vehicles[vehicle_index]
    depot = problem.depot(vehicle.depot)
    home = problem.site(depot.location)
    shift_start, _ = _shift(vehicle)
    visits = _visits(problem, seconds, home, refs, shift_start)
    leave = shift_start
    if visits:
        to_first = int(seconds[home, problem.site(visits[0].location)])
        leave = max(shift_start, visits[0].start - to_first)
        visits = _visits(problem, seconds, home, refs, leave)
    last = problem.site(visits[-1].location) if visits else home
    end = (visits[-1].departure if visits else leave) + int(seconds[last, home])
    back = (float(problem.durations[last, home]), float(problem.distances[last, home]))
    return Route(vehicle.id, depot.id, leave, end, tuple(visits), *back)


def _visits(
    problem: RoutingProblem,
    seconds: np.ndarray,
    home: int,
    refs: Sequence[tuple[int, int | None]],
    leave: int,
) -> list[Visit]:
    """Visits in order, each started as early as its window allows."""
    visits: list[Visit] = []
    clock, previous = leave, home
    for task_index, window in refs:
        task = problem.tasks[task_index]
        site = problem.site(task.location)
        arrival = clock + int(seconds[previous, site])
        start = max(arrival, 0 if window is None else _up(task.windows[window].start))
        departure = start + _up(task.service)
        legs = (float(problem.durations[previous, site]), float(problem.distances[previous, site]))
        visits.append(
            Visit(task.id, task.location, window, arrival, start, departure, *legs, task.demand)
        )
        clock, previous = departure, site
    return visits


# ---------------------------------------------------------------------------------------
# Checking a solution against the rules, independently of PyVRP
# ---------------------------------------------------------------------------------------


def check_solution(problem: RoutingProblem, solution: Solution) -> tuple[str, ...]:
    """Every hard rule that ``solution`` breaks, as messages; empty when it breaks none.

    The rules: each task at most once and every required (or pinned) task done; each
    vehicle on at most one route; a task only on a vehicle allowed to do it (its pin, its
    vehicles); no unreachable leg; service starting within one of the task's windows;
    leaving the depot within the shift and back by its end; kits within the capacity;
    stops within the maximum. Times are checked in whole seconds, as :func:`solve` plans.
    """
    issues = _coverage_issues(problem, solution)
    for route in solution.routes:
        issues += _route_issues(problem, route)
    return tuple(issues)


def _coverage_issues(problem: RoutingProblem, solution: Solution) -> list[str]:
    done = [v.task for r in solution.routes for v in r.visits]
    known = {t.id for t in problem.tasks}
    vehicles = [r.vehicle for r in solution.routes]
    return [
        *(f"task {t!r} is not in the problem" for t in sorted(set(done) - known)),
        *(
            f"task {t!r} is done {done.count(t)} times"
            for t in sorted(set(done))
            if done.count(t) > 1
        ),
        *(
            f"required task {t.id!r} is not done"
            for t in problem.tasks
            if t.must_do and t.id not in done
        ),
        *(
            f"vehicle {v!r} has {vehicles.count(v)} routes"
            for v in sorted(set(vehicles))
            if vehicles.count(v) > 1
        ),
    ]


def _route_issues(problem: RoutingProblem, route: Route) -> list[str]:
    if route.vehicle not in {v.id for v in problem.vehicles}:
        return [f"route of unknown vehicle {route.vehicle!r}"]
    vehicle = problem.vehicle(route.vehicle)
    tasks = {t.id: t for t in problem.tasks}
    where = f"vehicle {vehicle.id!r}"
    issues = [
        f"{where}: task {v.task!r} is not allowed on this vehicle"
        for v in route.visits
        if v.task in tasks and not tasks[v.task].allows(vehicle.id)
    ]
    if vehicle.capacity is not None and route.load > vehicle.capacity:
        issues.append(f"{where}: {route.load} kits exceed the capacity of {vehicle.capacity}")
    if vehicle.max_stops is not None and len(route.visits) > vehicle.max_stops:
        issues.append(
            f"{where}: {len(route.visits)} stops exceed the maximum of {vehicle.max_stops}"
        )
    if route.depot != vehicle.depot:
        issues.append(f"{where}: starts from {route.depot!r}, not its depot {vehicle.depot!r}")
    return issues + _timing_issues(problem, vehicle, route, tasks)


def _timing_issues(
    problem: RoutingProblem, vehicle: Vehicle, route: Route, tasks: Mapping[str, Task]
) -> list[str]:
    where = f"vehicle {vehicle.id!r}"
    start, end = _shift(vehicle)
    issues = [f"{where}: leaves at {_clock(route.start)}, before its shift starts"] * (
        route.start < start
    )
    home = problem.site(problem.depot(vehicle.depot).location)
    clock, previous = route.start, home
    for visit in route.visits:
        if visit.task in tasks:
            issues += _visit_issues(problem, where, tasks[visit.task], visit, (previous, clock))
        clock, previous = visit.departure, problem.site(visit.location)
    issues += _leg_issues(problem, where, "the depot", (previous, home), (clock, route.end))
    if route.end > end:
        issues.append(
            f"{where}: back at {_clock(route.end)}, after its shift ends at {_clock(end)}"
        )
    return issues


def _visit_issues(
    problem: RoutingProblem, where: str, task: Task, visit: Visit, since: tuple[int, int]
) -> list[str]:
    """Issues of one visit; ``since`` is the previous place and its departure time."""
    previous, clock = since
    what = f"task {task.id!r}"
    leg = (previous, problem.site(task.location))
    issues = _leg_issues(problem, where, what, leg, (clock, visit.arrival))
    if visit.start < visit.arrival or visit.departure < visit.start + _up(task.service):
        issues.append(f"{where}: {what} starts before arrival or ends before its service")
    if task.windows and not _in_window(task, visit):
        issues.append(f"{where}: {what} starts at {_clock(visit.start)}, outside its windows")
    return issues


def _in_window(task: Task, visit: Visit) -> bool:
    if visit.window is None or not 0 <= visit.window < len(task.windows):
        return False
    window = task.windows[visit.window]
    return _up(window.start) <= visit.start <= _down(window.end)


def _leg_issues(
    problem: RoutingProblem, where: str, what: str, leg: tuple[int, int], times: tuple[int, int]
) -> list[str]:
    """Issues of travelling ``leg`` (from, to), leaving and arriving at ``times``."""
    frm, to = leg
    clock, arrival = times
    seconds = problem.durations[frm, to] if frm != to else 0.0
    metres = problem.distances[frm, to] if frm != to else 0.0
    if not (math.isfinite(seconds) and math.isfinite(metres)):
        pair = f"{problem.locations[frm]!r} -> {problem.locations[to]!r}"
        return [f"{where}: {what} is reached over the unreachable pair {pair}"]
    if arrival < clock + _up(seconds):
        return [f"{where}: {what} reached at {_clock(arrival)}, sooner than travel allows"]
    return []
