"""Checking a solution against every hard rule of its problem, independently of any solver."""

from __future__ import annotations

import math
from collections.abc import Mapping

from geoplan.solver.problem import (
    RoutingProblem,
    Task,
    Vehicle,
    seconds_down,
    seconds_up,
    shift_seconds,
)
from geoplan.solver.solution import Route, Solution, Visit, clock_text


def check_solution(problem: RoutingProblem, solution: Solution) -> tuple[str, ...]:
    """Every hard rule that ``solution`` breaks, as messages; empty when it breaks none.

    The rules: each task (or group of alternatives) at most once and every required (or
    pinned) task done; each
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
    known = {t.id: t for t in problem.tasks}
    visits = [known[t].visit for t in done if t in known]
    groups = problem.alternatives()
    vehicles = [r.vehicle for r in solution.routes]
    return [
        *(f"task {t!r} is not in the problem" for t in sorted(set(done) - set(known))),
        *(
            f"task {t!r} is done {visits.count(t)} times"
            for t in sorted(set(visits))
            if visits.count(t) > 1
        ),
        *(
            f"required task {visit!r} is not done"
            for visit, members in groups.items()
            if any(problem.tasks[k].must_do for k in members) and visit not in visits
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
    start, end = shift_seconds(vehicle)
    issues = [f"{where}: leaves at {clock_text(route.start)}, before its shift starts"] * (
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
            f"{where}: back at {clock_text(route.end)}, after its shift ends at {clock_text(end)}"
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
    if visit.start < visit.arrival or visit.departure < visit.start + seconds_up(task.service):
        issues.append(f"{where}: {what} starts before arrival or ends before its service")
    if task.windows and not _in_window(task, visit):
        issues.append(f"{where}: {what} starts at {clock_text(visit.start)}, outside its windows")
    return issues


def _in_window(task: Task, visit: Visit) -> bool:
    if visit.window is None or not 0 <= visit.window < len(task.windows):
        return False
    window = task.windows[visit.window]
    return seconds_up(window.start) <= visit.start <= seconds_down(window.end)


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
    if arrival < clock + seconds_up(seconds):
        return [f"{where}: {what} reached at {clock_text(arrival)}, sooner than travel allows"]
    return []
