"""Candidate tasks: a model that grows with the week, not with the map.

A week has a few hundred visit slots (team-days x the visits one day holds), while a national
programme has thousands of due tasks. Routing them all builds a solver model that grows with
the square of the tasks (a 9,371-client PyVRP instance takes 12 GB and 48 s before its first
iteration). The one scaling decision of the planner is made here:

**Each team-day keeps ``per_route`` most promising tasks of its own; the routing model holds
only these (and every required or pinned task), and a check afterwards shows that no cut
task could have entered the plan with a gain.**

* :func:`choose_candidates` ranks, for every vehicle, the tasks it may do and could do alone
  (base -> site -> base within its shift and the site's window) by
  ``prize - service - reach_weight * (out + back)``: the task's priority, less the share of
  the round trip it would carry on a route that visits several sites. Only the tasks to the
  vehicle's base and back are needed: a ``vehicles x tasks`` array, never ``tasks x tasks``.
* :func:`improving_insertions` is the check: every cut task is tried at every position of
  every route of the plan (and on every idle team-day), keeping each route's visits on time
  (forward time slack, waits absorbing the delay), its kits and its stop limit. A cut task
  whose prize exceeds the route time its cheapest insertion adds would have made a better plan;
  the planner then routes again with those tasks added (``recheck_rounds``). A task cut and not
  found by the check is left out for higher-priority tasks, as truly as one the solver drops.

Nothing here knows about PyVRP or geoplan's layers: tasks, vehicles and depots are the neutral
ones of :mod:`geoplan.solver.problem`, and travel times come from a :class:`Travel`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from geoplan.errors import ParameterError
from geoplan.solver.problem import (
    Depot,
    RoutingProblem,
    Task,
    Vehicle,
    seconds_down,
    seconds_up,
    shift_seconds,
)
from geoplan.solver.solution import Route, Solution, Visit


class Travel(Protocol):
    """Travel between location ids; ``NaN`` where a pair cannot be travelled."""

    def seconds(self, origins: Sequence[str], destinations: Sequence[str]) -> np.ndarray:
        """An ``(origins, destinations)`` array of seconds."""
        ...

    def metres(self, origins: Sequence[str], destinations: Sequence[str]) -> np.ndarray:
        """An ``(origins, destinations)`` array of metres."""
        ...


@dataclass(frozen=True)
class CandidateParams:
    """How many tasks reach the routing model (``[planning.candidates]``).

    Parameters
    ----------
    per_route
        Tasks each team-day keeps of its own, best first (a day holds 3-6 visits); ``0``
        routes every task (the full model).
    full_below
        Below this many plannable tasks every task is routed: the full model is small enough.
    reach_weight
        Share of a task's round trip from the base that ranks against it (a route visiting
        several sites shares one trip out and back among them).
    recheck_rounds
        How often the planner routes again when the check finds cut tasks that would have
        made a better plan; ``0`` to only report them.
    """

    per_route: int = 8
    full_below: int = 1500
    reach_weight: float = 0.5
    recheck_rounds: int = 1

    def __post_init__(self) -> None:
        counts = {k: getattr(self, k) for k in ("per_route", "full_below", "recheck_rounds")}
        bad = {k: v for k, v in counts.items() if not (isinstance(v, int) and v >= 0)}
        if bad:
            raise ParameterError(f"planning.candidates: expected whole numbers >= 0, got {bad}")
        if not 0 <= self.reach_weight <= 1:
            msg = f"planning.candidates.reach_weight = {self.reach_weight}; expected 0 to 1"
            raise ParameterError(msg)


@dataclass(frozen=True)
class Candidates:
    """The tasks that go to the routing model and those cut before it."""

    kept: tuple[Task, ...]
    cut: tuple[Task, ...]

    @property
    def full(self) -> bool:
        """Whether every task is routed."""
        return not self.cut


def choose_candidates(
    tasks: Sequence[Task],
    vehicles: Sequence[Vehicle],
    depots: Sequence[Depot],
    travel: Travel,
    *,
    params: CandidateParams,
) -> Candidates:
    """Every vehicle's ``per_route`` best tasks of its own, every must-do task and every
    alternative of a group (a re-plan's stops of the old plan: a few hundred at most).

    Vehicles pick in turn, each its best task not yet picked, ``per_route`` rounds: the days
    of one team (or two teams at one base) rank tasks alike, and would otherwise all keep the
    same few. Task order is kept in the result, and ties go to the earlier task, so the same
    tasks give the same model (and the same seed the same plan).
    """
    if params.per_route == 0 or len(tasks) < params.full_below:
        return Candidates(tuple(tasks), ())
    value = _alone_values(tasks, vehicles, depots, travel, params.reach_weight)
    keep = np.array([t.must_do or t.group is not None for t in tasks], dtype=bool)
    ranked = [_ranked(row) for row in value]
    at = [0] * len(ranked)
    for _ in range(params.per_route):
        for k, order in enumerate(ranked):
            while at[k] < len(order) and keep[order[at[k]]]:
                at[k] += 1
            if at[k] < len(order):
                keep[order[at[k]]] = True
    kept = tuple(t for t, k in zip(tasks, keep, strict=True) if k)
    cut = tuple(t for t, k in zip(tasks, keep, strict=True) if not k)
    return Candidates(kept, cut)


def _ranked(row: np.ndarray) -> np.ndarray:
    """Indexes of the tasks a vehicle can do alone, best first (stable on ties)."""
    able = np.flatnonzero(np.isfinite(row))
    return able[np.argsort(-row[able], kind="stable")]


def _alone_values(
    tasks: Sequence[Task],
    vehicles: Sequence[Vehicle],
    depots: Sequence[Depot],
    travel: Travel,
    reach_weight: float,
) -> np.ndarray:
    """``vehicles x tasks``: each task's rank value on each vehicle; ``-inf`` where it cannot
    be done alone (not allowed, unreachable, or no window fits the shift with the round trip)."""
    homes = list(dict.fromkeys(d.location for d in depots))
    places = list(dict.fromkeys(t.location for t in tasks))
    out, back = _ceil(travel.seconds(homes, places)), _ceil(travel.seconds(places, homes)).T
    home_of = {d.id: homes.index(d.location) for d in depots}
    place_of = np.array([places.index(t.location) for t in tasks]) if tasks else np.zeros(0, int)
    value = np.full((len(vehicles), len(tasks)), -np.inf)
    prize = np.array([t.prize - seconds_up(t.service) for t in tasks], dtype=float)
    for k, vehicle in enumerate(vehicles):
        h = home_of[vehicle.depot]
        go, ret = out[h, place_of], back[h, place_of]
        fits = _fits_alone(tasks, vehicle, go, ret)
        value[k, fits] = (prize - reach_weight * (go + ret))[fits]
    return value


def _ceil(seconds: np.ndarray) -> np.ndarray:
    """Whole seconds up, as the solver plans; unreachable stays ``NaN``."""
    return np.ceil(np.round(seconds, 6))


def _fits_alone(
    tasks: Sequence[Task], vehicle: Vehicle, go: np.ndarray, ret: np.ndarray
) -> np.ndarray:
    start, end = shift_seconds(vehicle)
    fits = np.zeros(len(tasks), dtype=bool)
    for i, task in enumerate(tasks):
        if not task.allows(vehicle.id) or not (np.isfinite(go[i]) and np.isfinite(ret[i])):
            continue
        service = seconds_up(task.service)
        for early, late in _windows(task, (start, end)):
            begin = max(start + go[i], early)
            if begin <= late and begin + service + ret[i] <= end:
                fits[i] = True
                break
    return fits


def _windows(task: Task, shift: tuple[int, int]) -> list[tuple[int, int]]:
    """The task's start-of-service windows in whole seconds, cut to a shift."""
    start, end = shift
    given = [(seconds_up(w.start), seconds_down(w.end)) for w in task.windows] or [(start, end)]
    cut = [(max(early, start), min(late, end)) for early, late in given]
    return [(early, late) for early, late in cut if early <= late]


# ---------------------------------------------------------------------------------------
# The check: could a cut task have entered the plan with a gain?
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Insertion:
    """The best place found for a cut task in a plan, and what it would have gained."""

    task: str
    vehicle: str
    position: int  # visits before it on the route
    gain: int  # prize less the route time it adds; > 0 means a better plan


def improving_insertions(
    solution: Solution,
    cut: Sequence[Task],
    *,
    routed: Sequence[Task],
    vehicles: Sequence[Vehicle],
    depots: Sequence[Depot],
    travel: Travel,
) -> list[Insertion]:
    """Cut tasks that one insertion into the plan would make a better plan, best first.

    Every route of ``solution`` (an idle vehicle is an empty route) is tried at every
    position; an insertion must keep every later visit within its window and the route back
    by the shift's end (the waits on the route absorb the delay first), and keep the
    vehicle's kits and stops. Its gain is the task's prize less the seconds it adds to the
    route. ``routed`` are the tasks of the model ``solution`` solved (for their windows).
    """
    if not cut:
        return []
    by_vehicle = {r.vehicle: r for r in solution.routes}
    by_task = {t.id: t for t in routed}
    depot_at = {d.id: d.location for d in depots}
    best: dict[str, Insertion] = {}
    for vehicle in vehicles:
        route = by_vehicle.get(vehicle.id)
        able = [t for t in cut if t.allows(vehicle.id)]
        if not able or not _has_room(vehicle, route):
            continue
        slots = _slots(route, vehicle, depot_at[vehicle.depot], by_task)
        for found in _route_insertions(slots, vehicle, able, travel):
            if found.gain > 0 and (found.task not in best or found.gain > best[found.task].gain):
                best[found.task] = found
    return sorted(best.values(), key=lambda i: (-i.gain, i.task))


def _has_room(vehicle: Vehicle, route: Route | None) -> bool:
    stops = len(route.visits) if route else 0
    return vehicle.max_stops is None or stops < vehicle.max_stops


@dataclass(frozen=True)
class _Slots:
    """A route as insertion slots: slot ``p`` lies before node ``p`` of the route's visits
    and its return to base (so slot 0 is right after leaving the base)."""

    places: list[str]  # the base, each visit's place, the base
    departs: np.ndarray  # departure from the node before slot p
    arrives: np.ndarray  # arrival at the node after slot p
    slack: np.ndarray  # delay the node after slot p may take, waits included
    waits: np.ndarray  # waits from the node after slot p to the end, which absorb a delay
    load: int


def _slots(route: Route | None, vehicle: Vehicle, base: str, tasks: dict[str, Task]) -> _Slots:
    shift = shift_seconds(vehicle)
    visits = route.visits if route else ()
    leave, back = (route.start, route.end) if route else (shift[0], shift[0])
    late = np.array([*(_latest(v, tasks[v.task], shift) for v in visits), shift[1]], dtype=float)
    starts = np.array([*(v.start for v in visits), back], dtype=float)
    wait = np.array([*(v.wait for v in visits), 0], dtype=float)
    before = np.cumsum(wait)
    # slack[p] = min over nodes j >= p of (late_j - start_j + waits of nodes p..j)
    room = np.minimum.accumulate((late - starts + before)[::-1])[::-1]
    return _Slots(
        places=[base, *(v.location for v in visits), base],
        departs=np.array([leave, *(v.departure for v in visits)], dtype=float),
        arrives=np.array([*(v.arrival for v in visits), back], dtype=float),
        slack=room - before + wait,
        waits=np.cumsum(wait[::-1])[::-1],
        load=sum(v.demand for v in visits),
    )


def _latest(visit: Visit, task: Task, shift: tuple[int, int]) -> int:
    """Latest start of a visit: the end of the window it uses (cut to the shift)."""
    if visit.window is None:
        return shift[1]
    return min(shift[1], seconds_down(task.windows[visit.window].end))


def _route_insertions(
    slots: _Slots, vehicle: Vehicle, able: Sequence[Task], travel: Travel
) -> list[Insertion]:
    fit = [t for t in able if vehicle.capacity is None or slots.load + t.demand <= vehicle.capacity]
    if not fit:
        return []
    places = list(dict.fromkeys(t.location for t in fit))
    ends = list(dict.fromkeys(slots.places))
    rows = [ends.index(p) for p in slots.places]
    go = _ceil(travel.seconds(ends, places))[rows]
    come = _ceil(travel.seconds(places, ends))[:, rows]
    shift = shift_seconds(vehicle)
    found = []
    for task in fit:
        col = places.index(task.location)
        best = _best_slot(task, shift, slots, go[:-1, col], come[col, 1:])
        if best is not None:
            found.append(Insertion(task.id, vehicle.id, best[1], best[0]))
    return found


def _best_slot(
    task: Task, shift: tuple[int, int], slots: _Slots, to_task: np.ndarray, from_task: np.ndarray
) -> tuple[int, int] | None:
    """The best (gain, position) of the task on the route; ``None`` when it fits nowhere."""
    service = seconds_up(task.service)
    arrive = slots.departs + to_task
    best: tuple[int, int] | None = None
    for early, late in _windows(task, shift):
        begin = np.maximum(arrive, early)
        delay = begin + service + from_task - slots.arrives
        with np.errstate(invalid="ignore"):
            ok = (begin <= late) & (delay <= slots.slack)
        if not ok.any():
            continue
        added = np.maximum(0.0, delay - slots.waits)
        # before the first visit, the team leaves later instead of waiting on site
        added[0] = max(0.0, added[0] - (begin[0] - arrive[0]))
        gain = np.where(ok, task.prize - added, -np.inf)
        p = int(np.argmax(gain))
        if best is None or gain[p] > best[0]:
            best = (int(gain[p]), p)
    return best


# ---------------------------------------------------------------------------------------
# Choose, route, check, and route again with what the check found
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    """The team-days, their bases and the tasks of a week, as the solver sees them."""

    tasks: tuple[Task, ...]
    vehicles: tuple[Vehicle, ...]
    depots: tuple[Depot, ...]


@dataclass(frozen=True)
class CandidateSolution:
    """A plan made from candidate tasks, with what was cut and what the check found.

    ``solution.objective`` counts the prizes of the cut tasks too, so it compares with the
    objective of the full model.
    """

    solution: Solution
    cut: tuple[Task, ...]
    missed: tuple[Insertion, ...]  # cut tasks the check still finds would gain
    routed: int  # tasks in the last routing model
    rounds: int  # routing runs made


def solve_candidates(
    week: Week,
    travel: Travel,
    *,
    params: CandidateParams,
    solve: Callable[[RoutingProblem], Solution],
) -> CandidateSolution:
    """Route the candidate tasks, check the cut ones, and route again with those that gain.

    ``solve`` runs the search (its time limit and seed are the caller's); each round gets
    it whole. Of the rounds, the plan with the lowest objective is kept (the first on ties).
    """
    chosen = choose_candidates(week.tasks, week.vehicles, week.depots, travel, params=params)
    kept, cut = list(chosen.kept), list(chosen.cut)
    best: CandidateSolution | None = None
    rounds = 0
    while True:
        rounds += 1
        solution = solve(candidate_problem(kept, week, travel))
        missed = improving_insertions(
            solution, cut, routed=kept, vehicles=week.vehicles, depots=week.depots, travel=travel
        )
        total = replace(solution, objective=solution.objective + sum(t.prize for t in cut))
        found = CandidateSolution(total, tuple(cut), tuple(missed), len(kept), rounds)
        if best is None or found.solution.objective < best.solution.objective:
            best = found
        if not missed or rounds > params.recheck_rounds:
            return replace(best, rounds=rounds)
        kept, cut = _widened(week.tasks, kept, {m.task for m in missed})


def _widened(
    tasks: Sequence[Task], kept: Sequence[Task], more: set[str]
) -> tuple[list[Task], list[Task]]:
    """The kept tasks and ``more``, in the week's task order, and the rest."""
    ids = {t.id for t in kept} | more
    return [t for t in tasks if t.id in ids], [t for t in tasks if t.id not in ids]


def candidate_problem(tasks: Sequence[Task], week: Week, travel: Travel) -> RoutingProblem:
    """The routing problem of the week's vehicles and ``tasks``: matrices over their places."""
    locations = list(
        dict.fromkeys([*(d.location for d in week.depots), *(t.location for t in tasks)])
    )
    return RoutingProblem(
        locations=tuple(locations),
        durations=travel.seconds(locations, locations),
        distances=travel.metres(locations, locations),
        depots=week.depots,
        vehicles=week.vehicles,
        tasks=tuple(tasks),
    )


__all__ = [
    "CandidateParams",
    "CandidateSolution",
    "Candidates",
    "Insertion",
    "Travel",
    "Week",
    "candidate_problem",
    "choose_candidates",
    "improving_insertions",
    "solve_candidates",
]
