"""The one door to PyVRP: a routing problem in, a timed solution out.

:func:`solve` builds a PyVRP instance from a :class:`~geoplan.solver.problem.RoutingProblem`,
searches for good routes within a time limit and returns a
:class:`~geoplan.solver.solution.Solution` in which every visit is timed and which
:func:`~geoplan.solver.check.check_solution` has re-checked against every hard rule.

This is the only module of geoplan that imports :mod:`pyvrp` (an import contract keeps it
so). Times and distances become whole seconds and metres here, rounded as
:func:`~geoplan.solver.problem.seconds_up` and :func:`~geoplan.solver.problem.seconds_down`
say, so that a plan that fits in whole seconds also fits in real ones.

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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np
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

from geoplan.errors import ParameterError
from geoplan.solver.check import check_solution
from geoplan.solver.problem import (
    RoutingProblem,
    SolverParams,
    Task,
    Vehicle,
    seconds_down,
    seconds_up,
    shift_seconds,
)
from geoplan.solver.solution import Route, Solution, SolveProgress, Visit

_MAX_SEED = 2**32 - 1
_MAX_BLOCKED_DISTANCE = 2**40


# ---------------------------------------------------------------------------------------
# Solving
# ---------------------------------------------------------------------------------------

SearchCallback = Callable[[SolveProgress], None]


def solve(
    problem: RoutingProblem,
    *,
    time_limit: float,
    seed: int,
    params: SolverParams | None = None,
    progress: SearchCallback | None = None,
    start: Mapping[str, Sequence[str]] | None = None,
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
    start
        Routes to search from (vehicle id -> task ids in order; a re-plan's old plan) instead
        of a random first solution; tasks that are not in the problem, or not allowed on the
        vehicle, are left out of it.

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
    first = _given_start(problem, model, start) if start else None
    result = _search(model, _penalty_params(problem), params, callbacks, (stop, seed), given=first)
    runtime = time.perf_counter() - started
    run = _Run(runtime, result.num_iterations, stop.reason, seed)
    return _solution_from_pyvrp(problem, model, result, run)


def _search(
    model: _Model,
    penalty: PenaltyParams,
    params: SolverParams,
    callbacks: IteratedLocalSearchCallbacks,
    run: tuple[_Stop, int],
    *,
    given: pyvrp.Solution | None = None,
) -> pyvrp.Result:
    """PyVRP's iterated local search, as :func:`pyvrp.solve` runs it, from a repaired start.

    The steps are those of :func:`pyvrp.solve` (same order, so the same random stream);
    only the random first solution (or the ``given`` one) is repaired before the first local
    search.
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
    start = _repaired(model, given or pyvrp.Solution.make_random(data, rng))
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


def _given_start(
    problem: RoutingProblem, model: _Model, start: Mapping[str, Sequence[str]]
) -> pyvrp.Solution:
    """The routes of ``start`` as a PyVRP solution: each task on the first of its clients
    (windows, alternatives) that the vehicle's type may visit."""
    assert model.data is not None
    task_index = {t.id: k for k, t in enumerate(problem.tasks)}
    vehicle_index = {v.id: k for k, v in enumerate(problem.vehicles)}
    kind_of = {k: kind for kind, ks in enumerate(model.classes) for k in ks}
    clients: dict[tuple[int, int], int] = {}  # (task, vehicle type) -> first client
    for client, (task, _) in enumerate(model.clients):
        for kind in model.homes[client]:
            clients.setdefault((task, kind), client)
    routes = []
    for vehicle, tasks in start.items():
        if vehicle not in vehicle_index:
            continue
        kind = kind_of[vehicle_index[vehicle]]
        visits = [
            clients[(task_index[t], kind)]
            for t in tasks
            if t in task_index and (task_index[t], kind) in clients
        ]
        if visits:
            routes.append(pyvrp.Route(model.data, visits, kind))
    return pyvrp.Solution(model.data, routes)


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
        self, report: SearchCallback | None, interval: float, started: float, offset: int
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
    # PyVRP counts the prize of every unvisited client, so a group of alternatives always
    # contributes all its prizes but the one visited: the offset removes all but the highest.
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
    shifts = [shift_seconds(v) for v in problem.vehicles]
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
    offset -= _lost_prizes(problem, unusable)
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
        (k, seconds_up(w.start), seconds_down(w.end)) for k, w in enumerate(task.windows)
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
    """One client per usable window; a visit's alternatives (its windows, and the tasks of
    its group) form a PyVRP group, whose prizes but the highest are offset."""
    clients: list[pyvrp.Client] = []
    refs: list[tuple[int, int | None]] = []
    groups: list[pyvrp.ClientGroup] = []
    offset = 0
    for visit, members in problem.alternatives().items():
        usable = [(k, w) for k in members for w in windows[k]]
        group = None
        if len(usable) > 1:
            group = len(groups)
            required = any(problem.tasks[k].must_do for k in members)
            groups.append(pyvrp.ClientGroup(required=required, name=visit))
            prizes = [problem.tasks[k].prize for k, _ in usable]
            offset += sum(prizes) - max(prizes)
        for k, (index, early, late) in usable:
            if group is not None:
                groups[group].add_client(len(clients))
            task = problem.tasks[k]
            clients.append(_client(task, layout.of_task[k], (early, late), group, loads))
            refs.append((k, index))
    return clients, tuple(refs), groups, offset


def _lost_prizes(problem: RoutingProblem, unusable: Sequence[int]) -> int:
    """The prizes of the visits none of whose alternatives any vehicle can do (the highest
    of each), lost whatever the routes."""
    cannot = set(unusable)
    return sum(
        max(problem.tasks[k].prize for k in members)
        for members in problem.alternatives().values()
        if cannot.issuperset(members)
    )


def _client(
    task: Task, location: int | None, window: tuple[int, int], group: int | None, loads: _Loads
) -> pyvrp.Client:
    assert location is not None  # usable tasks always have a location
    early, late = window
    return pyvrp.Client(
        location=location,
        delivery=loads.delivery(task),
        service_duration=seconds_up(task.service),
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
        start, end = shift_seconds(vehicle)
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
    prizes = _lost_prizes(problem, model.unusable)
    return _finish(problem, (), prizes, _Run(runtime, 0, "nothing to do", seed))


def _finish(
    problem: RoutingProblem, routes: tuple[Route, ...], objective: int, run: _Run
) -> Solution:
    visited = {v.task for r in routes for v in r.visits}
    unvisited = tuple(  # one id per visit none of whose alternatives is done
        problem.tasks[members[0]].id
        for members in problem.alternatives().values()
        if not any(problem.tasks[k].id in visited for k in members)
    )
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
    shift_start, _ = shift_seconds(vehicle)
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
        start = max(arrival, 0 if window is None else seconds_up(task.windows[window].start))
        departure = start + seconds_up(task.service)
        legs = (float(problem.durations[previous, site]), float(problem.distances[previous, site]))
        visits.append(
            Visit(task.id, task.location, window, arrival, start, departure, *legs, task.demand)
        )
        clock, previous = departure, site
    return visits
