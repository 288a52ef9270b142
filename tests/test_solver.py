"""Tests for geoplan.solver: known best plans, one test per hard rule, seeds, time limits.

Fixtures are tiny and checkable by hand: travel times in round minutes (and kilometres equal
to minutes, 60 km/h), shifts from 08:00 to 15:00, prizes far above any travel cost unless a
test says otherwise. Each rule test is built so that breaking the rule would give a cheaper
plan, so the test fails when the rule is not enforced.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from geoplan.errors import ParameterError, PlanningError
from geoplan.params import load_params
from geoplan.solver import (
    Depot,
    Route,
    RoutingProblem,
    Solution,
    SolveProgress,
    SolverParams,
    Task,
    TimeWindow,
    Vehicle,
    Visit,
    check_solution,
    solve,
)
from geoplan.solver.pyvrp import _build_model

MIN = 60
HOUR = 3600
DAY = 86400
NAN = float("nan")
BIG = 10**6
SHIFT = TimeWindow(8 * HOUR, 15 * HOUR)
FAST = SolverParams(max_iterations=1000)


def at(hh: int, mm: int = 0, day: int = 0) -> int:
    """Seconds on the week's timeline for day ``day`` at ``hh:mm``."""
    return day * DAY + hh * HOUR + mm * MIN


def make_problem(
    locations: tuple[str, ...],
    minutes: Sequence[Sequence[float]],
    vehicles: tuple[Vehicle, ...],
    tasks: tuple[Task, ...],
    depots: tuple[Depot, ...] = (Depot("B", "B"),),
) -> RoutingProblem:
    """A problem from a matrix in minutes (and km), duration-weighted objective."""
    grid = np.array(minutes, dtype=float)
    return RoutingProblem(
        locations=locations,
        durations=grid * MIN,
        distances=grid * 1000,
        depots=depots,
        vehicles=vehicles,
        tasks=tasks,
    )


def run(problem: RoutingProblem, seed: int = 1) -> Solution:
    """Solve with an iteration budget, so that results do not depend on machine speed."""
    return solve(problem, time_limit=30, seed=seed, params=FAST)


def done_by(solution: Solution) -> dict[str, str]:
    """Task id -> vehicle id of every visit."""
    return {v.task: r.vehicle for r in solution.routes for v in r.visits}


def order(solution: Solution, vehicle: str) -> list[str]:
    """Task ids of a vehicle's route, in order."""
    route = solution.route(vehicle)
    return [v.task for v in route.visits] if route else []


# Base B and four sites: a, b north of the base, c, d south; crossing over costs as much as
# going back through the base. Sites a and c only accept a visit starting by 09:00.
FOUR_SITES = ("B", "a", "b", "c", "d")
FOUR_MINUTES = [
    [0, 10, 15, 10, 15],
    [10, 0, 5, 20, 25],
    [15, 5, 0, 25, 30],
    [10, 20, 25, 0, 5],
    [15, 25, 30, 5, 0],
]


def four_sites() -> RoutingProblem:
    """The hand-checkable instance: 4 sites, 1 base, 2 teams, 60 minutes on site."""
    early = (TimeWindow(at(8), at(9)),)
    tasks = tuple(
        Task(s, s, service=60 * MIN, prize=BIG, windows=early if s in "ac" else ()) for s in "abcd"
    )
    shift = TimeWindow(at(8), at(11))
    vehicles = (Vehicle("t1", "B", shift), Vehicle("t2", "B", shift))
    return make_problem(FOUR_SITES, FOUR_MINUTES, vehicles, tasks)


# --- known best plans -------------------------------------------------------------------


def test_four_sites_two_teams_known_best_plan() -> None:
    """The 3-hour shifts force two routes; the best pairs a-b and c-d, early sites first."""
    solution = run(four_sites())
    assert solution.feasible
    assert sorted([order(solution, "t1"), order(solution, "t2")]) == [["a", "b"], ["c", "d"]]
    for route in solution.routes:
        first, second = route.visits
        assert (route.start, first.arrival, first.departure) == (at(8), at(8, 10), at(9, 10))
        assert (second.arrival, second.departure, route.end) == (at(9, 15), at(10, 15), at(10, 30))
        assert route.distance == 30_000
    assert solution.objective == 2 * 150 * MIN  # two routes of 2 h 30, nothing left out
    assert solution.unvisited == ()


def test_known_best_plan_table_and_summary() -> None:
    """The table has one row per visit in route order, and the summary names each route."""
    solution = run(four_sites())
    frame = solution.to_frame()
    assert len(frame) == 4
    assert list(frame.groupby("vehicle")["sequence"].apply(list)) == [[1, 2], [1, 2]]
    assert (frame["travel_seconds"].sum(), frame["wait"].sum()) == (30 * MIN, 0)  # returns excluded
    assert "4 tasks on 2 routes, 0 left out" in solution.summary()
    assert "t1: 2 visits, 30.0 km, 08:00-10:30" in solution.summary()


def test_route_leaves_as_late_as_the_first_visit_allows() -> None:
    """A team whose first site opens at 09:00 leaves at 08:50 rather than wait on site."""
    task = Task("a", "a", service=30 * MIN, prize=BIG, windows=(TimeWindow(at(9), at(10)),))
    problem = make_problem(("B", "a"), [[0, 10], [10, 0]], (Vehicle("v", "B", SHIFT),), (task,))
    route = run(problem).routes[0]
    assert (route.start, route.visits[0].arrival, route.visits[0].wait) == (at(8, 50), at(9), 0)


def test_fractional_travel_times_round_up_to_whole_seconds() -> None:
    """Travel of 600.2 s is planned as 601 s, so that a plan never runs early."""
    task = Task("a", "a", service=0.5, prize=BIG)
    problem = RoutingProblem(
        locations=("B", "a"),
        durations=np.array([[0, 600.2], [600.2, 0]]),
        distances=np.array([[0, 5000.4], [5000.4, 0]]),
        depots=(Depot("B", "B"),),
        vehicles=(Vehicle("v", "B", SHIFT),),
        tasks=(task,),
    )
    route = run(problem).routes[0]
    assert (route.visits[0].arrival, route.visits[0].departure) == (at(8) + 601, at(8) + 602)
    assert route.end == at(8) + 1203
    assert route.distance == pytest.approx(10000.8)


# --- hard rules -------------------------------------------------------------------------

TWO_BASES = ("B1", "B2", "a")
TWO_BASES_MINUTES = [[0, 30, 5], [30, 0, 30], [5, 30, 0]]
TWO_BASE_DEPOTS = (Depot("B1", "B1"), Depot("B2", "B2"))
NEAR_AND_FAR = (Vehicle("near", "B1", SHIFT), Vehicle("far", "B2", SHIFT))


def test_task_only_done_by_an_allowed_vehicle() -> None:
    """A task allowed only to the far team is done by it, although the near team is closer."""
    tasks = (
        Task("a", "a", service=30 * MIN, prize=BIG, vehicles=frozenset({"far"})),
        Task("nobody", "a", service=30 * MIN, prize=BIG, vehicles=frozenset()),
    )
    problem = make_problem(TWO_BASES, TWO_BASES_MINUTES, NEAR_AND_FAR, tasks, TWO_BASE_DEPOTS)
    solution = run(problem)
    assert done_by(solution) == {"a": "far"}
    assert solution.unvisited == ("nobody",)
    assert [r.depot for r in solution.routes] == ["B2"]
    assert solution.feasible


def test_eligibility_holds_when_many_tasks_share_a_site() -> None:
    """Tasks at one site for different teams each go to a team allowed to do them."""
    tasks = tuple(
        Task(f"{team}{k}", "a", service=10 * MIN, prize=BIG, vehicles=frozenset({team}))
        for team in ("near", "far")
        for k in range(3)
    )
    problem = make_problem(TWO_BASES, TWO_BASES_MINUTES, NEAR_AND_FAR, tasks, TWO_BASE_DEPOTS)
    solution = run(problem)
    assert all(task.startswith(team) for task, team in done_by(solution).items())
    assert len(done_by(solution)) == 6


def test_route_is_back_at_base_by_the_end_of_its_shift() -> None:
    """A visit that would bring the team back at 09:05 is left out of an 08:00-09:00 shift."""
    task = Task("a", "a", service=45 * MIN, prize=BIG)
    minutes = [[0, 10], [10, 0]]
    short = (Vehicle("v", "B", TimeWindow(at(8), at(9))),)
    assert run(make_problem(("B", "a"), minutes, short, (task,))).unvisited == ("a",)
    exact = (Vehicle("v", "B", TimeWindow(at(8), at(9, 5))),)
    route = run(make_problem(("B", "a"), minutes, exact, (task,))).routes[0]
    assert route.end == at(9, 5)


def test_service_starts_within_the_task_window() -> None:
    """A site open 09:30-10:00 forces the order b, a; a site open after the shift is left out."""
    # The road from the base to b is 20 min, back 10. Ignoring the opening time, a-then-b
    # looks 10 min shorter, but it is back at 10:45, after the shift ends at 10:15.
    tasks = (
        Task("a", "a", service=30 * MIN, prize=BIG, windows=(TimeWindow(at(9, 30), at(10)),)),
        Task("b", "b", service=30 * MIN, prize=BIG),
        Task("evening", "a", service=30 * MIN, prize=BIG, windows=(TimeWindow(at(16), at(17)),)),
    )
    minutes = [[0, 10, 20], [10, 0, 5], [10, 5, 0]]
    vehicle = Vehicle("v", "B", TimeWindow(at(8), at(10, 15)))
    solution = run(make_problem(("B", "a", "b"), minutes, (vehicle,), tasks))
    assert order(solution, "v") == ["b", "a"]
    b, a = solution.routes[0].visits
    assert (b.start, a.arrival, a.start, a.window) == (at(8, 20), at(8, 55), at(9, 30), 0)
    assert solution.routes[0].end == at(10, 10)
    assert solution.unvisited == ("evening",)
    assert solution.feasible


def test_service_starts_before_the_window_closes() -> None:
    """A site whose latest start is 08:25 is visited first, though the other order is shorter."""
    # Base-b-a-base is 25 min against 45 for base-a-b-base, but reaches a at 08:45.
    tasks = (
        Task("a", "a", service=30 * MIN, prize=BIG, windows=(TimeWindow(at(8), at(8, 25)),)),
        Task("b", "b", service=30 * MIN, prize=BIG),
    )
    minutes = [[0, 20, 10], [10, 0, 5], [20, 5, 0]]
    solution = run(make_problem(("B", "a", "b"), minutes, (Vehicle("v", "B", SHIFT),), tasks))
    assert order(solution, "v") == ["a", "b"]
    assert solution.routes[0].visits[0].start == at(8, 20)
    assert solution.feasible


def test_alternative_windows_use_one_open_day_once() -> None:
    """A centre open Monday and Wednesday morning is visited once, on one of those days."""
    days = tuple(Vehicle(f"d{d}", "B", TimeWindow(at(8, day=d), at(15, day=d))) for d in range(4))
    open_days = (TimeWindow(at(9, day=1), at(12, day=1)), TimeWindow(at(9, day=3), at(12, day=3)))
    tasks = (
        Task("dc", "a", service=60 * MIN, prize=BIG, windows=open_days),
        Task(
            "weekend",
            "a",
            service=60 * MIN,
            prize=BIG,
            windows=(TimeWindow(at(9, day=5), at(12, day=5)),),
        ),
    )
    solution = run(make_problem(("B", "a"), [[0, 20], [20, 0]], days, tasks))
    visits = [(r.vehicle, v) for r in solution.routes for v in r.visits]
    assert len(visits) == 1
    vehicle, visit = visits[0]
    assert (vehicle, visit.window) in {("d1", 0), ("d3", 1)}
    window = open_days[visit.window or 0]
    assert window.start <= visit.start <= window.end
    assert solution.unvisited == ("weekend",)
    assert solution.feasible


def _keep_or_move(keep_bonus: int) -> RoutingProblem:
    """Site a, 10 min from base B and 40 min from base C: "keep" it on the far vehicle c1
    (prize BIG + keep_bonus) or "move" it to b1 (prize BIG), one visit either way."""
    vehicles = (Vehicle("b1", "B", SHIFT), Vehicle("c1", "C", SHIFT))
    tasks = (
        Task(
            "a",
            "a",
            service=30 * MIN,
            prize=BIG + keep_bonus,
            vehicles=frozenset({"c1"}),
            group="a",
        ),
        Task("a+move", "a", service=30 * MIN, prize=BIG, vehicles=frozenset({"b1"}), group="a"),
    )
    minutes = [[0, 50, 10], [50, 0, 40], [10, 40, 0]]
    depots = (Depot("B", "B"), Depot("C", "C"))
    return make_problem(("B", "C", "a"), minutes, vehicles, tasks, depots=depots)


def test_alternatives_of_a_group_are_done_once_moved_only_for_a_gain() -> None:
    """Of a group's alternatives one is done; the kept one unless moving saves more driving
    than its bonus, and the objective counts the prize lost by moving once."""
    # kept: 40 + 30 on site + 40 min; moved: 10 + 30 + 10 min, plus the bonus it loses
    kept = run(_keep_or_move(keep_bonus=90 * MIN))  # moving saves 60 min: not worth 90
    assert done_by(kept) == {"a": "c1"}
    assert kept.unvisited == ()
    assert kept.objective == 110 * MIN
    moved = run(_keep_or_move(keep_bonus=30 * MIN))  # moving saves 60 min: worth 30
    assert done_by(moved) == {"a+move": "b1"}
    assert moved.objective == 50 * MIN + 30 * MIN
    assert moved.feasible
    assert check_solution(_keep_or_move(30 * MIN), moved) == ()


def test_group_left_out_loses_its_highest_prize_once_and_is_listed_once() -> None:
    """A group no vehicle can fit is one left-out visit, costing its highest prize."""
    problem = _keep_or_move(keep_bonus=5)
    short = TimeWindow(at(8), at(8, 20))
    problem = replace(problem, vehicles=tuple(replace(v, shift=short) for v in problem.vehicles))
    solution = run(problem)
    assert solution.routes == ()
    assert solution.unvisited == ("a",)
    assert solution.objective == BIG + 5


def test_check_solution_counts_a_group_once() -> None:
    """Doing two alternatives of one group breaks the rules."""
    problem = _keep_or_move(keep_bonus=0)
    visit = Visit("a", "a", None, at(8, 40), at(8, 40), at(9, 10), 40 * MIN, 40_000, 0)
    twice = Solution(
        (
            Route("c1", "C", at(8), at(9, 50), (visit,), 40 * MIN, 40_000),
            Route(
                "b1",
                "B",
                at(8),
                at(9),
                (
                    replace(
                        visit,
                        task="a+move",
                        arrival=at(8, 10),
                        start=at(8, 10),
                        departure=at(8, 40),
                        travel_seconds=10 * MIN,
                        travel_metres=10_000,
                    ),
                ),
                10 * MIN,
                10_000,
            ),
        ),
        (),
        0,
        True,
        (),
        0.0,
        0,
        "",
        0,
    )
    assert "task 'a' is done 2 times" in check_solution(problem, twice)


def test_later_alternative_window_used_when_the_first_cannot_be() -> None:
    """When Monday's team-day ends at 09:30, the centre open Monday and Wednesday gets Wednesday."""
    days = (
        Vehicle("mon", "B", TimeWindow(at(8, day=1), at(9, 30, day=1))),
        Vehicle("wed", "B", TimeWindow(at(8, day=3), at(15, day=3))),
    )
    open_days = (TimeWindow(at(9, day=1), at(12, day=1)), TimeWindow(at(9, day=3), at(12, day=3)))
    task = Task("dc", "a", service=60 * MIN, prize=BIG, windows=open_days)
    solution = run(make_problem(("B", "a"), [[0, 20], [20, 0]], days, (task,)))
    assert done_by(solution) == {"dc": "wed"}
    visit = solution.routes[0].visits[0]
    assert (visit.window, visit.start) == (1, at(9, day=3))


def test_no_more_stops_than_the_maximum() -> None:
    """With at most 2 stops, the team does the two most valuable of four sites."""
    tasks = tuple(
        Task(s, s, service=30 * MIN, prize=BIG if s in "ab" else BIG // 10) for s in "abcd"
    )
    vehicle = Vehicle("v", "B", SHIFT, max_stops=2)
    solution = run(make_problem(FOUR_SITES, FOUR_MINUTES, (vehicle,), tasks))
    assert sorted(order(solution, "v")) == ["a", "b"]
    unlimited = make_problem(FOUR_SITES, FOUR_MINUTES, (replace(vehicle, max_stops=None),), tasks)
    assert len(order(run(unlimited), "v")) == 4


def test_kits_delivered_within_vehicle_capacity() -> None:
    """A vehicle with 10 kits serves sites needing 6 and 4 kits, not 6 and 6."""
    tasks = (
        Task("a", "a", service=30 * MIN, prize=BIG, demand=6),
        Task("b", "b", service=30 * MIN, prize=BIG, demand=6),
        Task("c", "c", service=30 * MIN, prize=BIG, demand=4),
    )
    vehicle = Vehicle("v", "B", SHIFT, capacity=10)
    solution = run(make_problem(FOUR_SITES, FOUR_MINUTES, (vehicle,), tasks))
    route = solution.routes[0]
    assert route.load == 10
    assert "c" in order(solution, "v")
    assert len(solution.unvisited) == 1
    uncapped = make_problem(FOUR_SITES, FOUR_MINUTES, (replace(vehicle, capacity=None),), tasks)
    assert run(uncapped).routes[0].load == 16


def test_pinned_task_done_by_its_vehicle() -> None:
    """A task pinned to the far team is done by it, even with no prize and a closer team."""
    task = Task("a", "a", service=30 * MIN, prize=0, pinned_to="far")
    problem = make_problem(TWO_BASES, TWO_BASES_MINUTES, NEAR_AND_FAR, (task,), TWO_BASE_DEPOTS)
    solution = run(problem)
    assert done_by(solution) == {"a": "far"}
    assert solution.feasible


def test_pinned_task_done_on_its_day() -> None:
    """A task pinned to Tuesday's team-day is done on Tuesday, not on cheaper Monday."""
    days = (
        Vehicle("mon", "B", TimeWindow(at(8, day=1), at(15, day=1))),
        Vehicle("tue", "B", TimeWindow(at(8, day=2), at(15, day=2))),
    )
    tasks = (
        Task("pinned", "a", service=30 * MIN, prize=0, pinned_to="tue"),
        Task("other", "a", service=30 * MIN, prize=BIG, vehicles=frozenset({"mon", "tue"})),
    )
    solution = run(make_problem(("B", "a"), [[0, 10], [10, 0]], days, tasks))
    assert done_by(solution)["pinned"] == "tue"
    visit = next(r.visits[0] for r in solution.routes if r.vehicle == "tue")
    assert at(8, day=2) <= visit.start <= at(15, day=2)


def test_optional_task_left_out_when_not_worth_it_required_task_done() -> None:
    """With no prize an optional task is skipped; the same task when required is done."""
    tasks = (
        Task("optional", "a", service=30 * MIN, prize=0),
        Task("required", "a", service=30 * MIN, prize=0, required=True),
    )
    problem = make_problem(("B", "a"), [[0, 60], [60, 0]], (Vehicle("v", "B", SHIFT),), tasks)
    solution = run(problem)
    assert order(solution, "v") == ["required"]
    assert solution.unvisited == ("optional",)
    assert solution.feasible


def test_required_task_that_cannot_be_done_makes_the_solution_infeasible() -> None:
    """A required task open only after every shift leaves the solution infeasible, saying why."""
    task = Task("late", "a", service=30 * MIN, required=True, windows=(TimeWindow(at(18), at(19)),))
    problem = make_problem(("B", "a"), [[0, 10], [10, 0]], (Vehicle("v", "B", SHIFT),), (task,))
    solution = run(problem)
    assert not solution.feasible
    assert solution.violations == ("required task 'late' is not done",)


def test_unreachable_pair_never_travelled() -> None:
    """With no road from the base to a, the route goes base-b-a; an isolated site is skipped."""
    minutes = [
        [0, NAN, 15, NAN],
        [10, 0, 5, NAN],
        [15, 5, 0, NAN],
        [NAN, NAN, NAN, 0],
    ]
    tasks = tuple(Task(s, s, service=30 * MIN, prize=BIG) for s in ("a", "b", "island"))
    problem = make_problem(("B", "a", "b", "island"), minutes, (Vehicle("v", "B", SHIFT),), tasks)
    solution = run(problem)
    assert order(solution, "v") == ["b", "a"]
    assert solution.unvisited == ("island",)
    assert solution.feasible


def test_each_vehicle_returns_to_its_own_base() -> None:
    """With two bases, each route starts and ends at its vehicle's base."""
    tasks = tuple(Task(f"t{k}", "a", service=60 * MIN, prize=BIG) for k in range(10))
    problem = make_problem(TWO_BASES, TWO_BASES_MINUTES, NEAR_AND_FAR, tasks, TWO_BASE_DEPOTS)
    solution = run(problem)
    assert {r.vehicle: r.depot for r in solution.routes} == {"near": "B1", "far": "B2"}
    far = solution.route("far")
    assert far is not None
    assert far.visits[0].travel_seconds == 30 * MIN
    assert far.return_seconds == 30 * MIN


# --- seeds, time limits, progress -------------------------------------------------------


def random_week(num_tasks: int, seed: int) -> RoutingProblem:
    """Two teams x five days from one base, random sites, services, windows and prizes."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 20_000, size=(num_tasks + 1, 2))
    metres = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    ids = ("B", *(f"s{k}" for k in range(num_tasks)))
    vehicles = tuple(
        Vehicle(f"{team}:{d}", "B", TimeWindow(at(8, day=d), at(15, day=d)), max_stops=6)
        for team in ("med", "pro")
        for d in range(5)
    )
    teams = {
        "med": frozenset(v.id for v in vehicles[:5]),
        "pro": frozenset(v.id for v in vehicles[5:]),
    }
    tasks = tuple(
        Task(
            id=ids[k],
            location=ids[k],
            service=float(rng.integers(20, 90)) * MIN,
            prize=int(rng.integers(1000, 20_000)),
            vehicles=teams["med" if k % 2 else "pro"],
            windows=(TimeWindow(at(9, day=k % 5), at(12, day=k % 5)),) if k % 3 == 0 else (),
        )
        for k in range(1, num_tasks + 1)
    )
    return RoutingProblem(
        locations=ids,
        durations=metres / (30 / 3.6),  # 30 km/h
        distances=metres,
        depots=(Depot("B", "B"),),
        vehicles=vehicles,
        tasks=tasks,
    )


def test_same_seed_gives_the_same_solution() -> None:
    """Two runs with one seed and an iteration budget return identical routes."""
    problem = random_week(40, seed=7)
    params = SolverParams(max_iterations=400)
    first = solve(problem, time_limit=60, seed=3, params=params)
    second = solve(problem, time_limit=60, seed=3, params=params)
    assert first.stopped_by == second.stopped_by == "max iterations"
    assert first.routes == second.routes
    assert first.objective == second.objective
    assert first.feasible


def test_time_limit_is_respected() -> None:
    """A one-second limit on a week of 80 tasks returns within three seconds."""
    problem = random_week(80, seed=11)
    began = time.perf_counter()
    solution = solve(problem, time_limit=1, seed=1)
    elapsed = time.perf_counter() - began
    assert solution.stopped_by == "time limit"
    assert 0.9 <= solution.runtime < 3
    assert elapsed < 3
    assert solution.feasible


def test_stall_iterations_stop_the_search() -> None:
    """The search stops after the given number of iterations without improvement."""
    solution = solve(four_sites(), time_limit=30, seed=1, params=SolverParams(stall_iterations=50))
    assert solution.stopped_by == "stall iterations"
    assert solution.iterations >= 50


def test_progress_reports_the_best_objective() -> None:
    """Progress is reported during the search and once at the end with the final objective."""
    reports: list[SolveProgress] = []
    params = SolverParams(progress_interval=0.2)
    solution = solve(
        random_week(30, seed=5), time_limit=1, seed=2, params=params, progress=reports.append
    )
    assert len(reports) >= 3
    assert [r.elapsed for r in reports] == sorted(r.elapsed for r in reports)
    assert reports[-1].objective == solution.objective
    assert reports[-1].tasks_done == sum(len(r.visits) for r in solution.routes)


def test_week_of_team_days_needs_one_profile_per_team() -> None:
    """Ten team-days of two teams, with pins, compile to two routing profiles."""
    problem = random_week(30, seed=5)
    pins = (
        replace(problem.tasks[0], pinned_to="med:2"),
        replace(problem.tasks[1], pinned_to="pro:4"),
    )
    model = _build_model(replace(problem, tasks=pins + problem.tasks[2:]))
    assert model.data is not None
    assert (model.data.num_profiles, model.data.num_vehicle_types) == (2, 10)


def test_identical_vehicles_share_one_vehicle_type() -> None:
    """Twenty-five identical vehicles become one PyVRP vehicle type with 25 available."""
    vehicles = tuple(Vehicle(f"v{k}", "B", SHIFT, capacity=200) for k in range(25))
    problem = replace(four_sites(), vehicles=vehicles)
    model = _build_model(problem)
    assert model.data is not None
    assert [vt.num_available for vt in model.data.vehicle_types()] == [25]


def test_no_usable_task_returns_an_empty_solution() -> None:
    """When no task can be done, solve returns at once with every task left out."""
    problem = replace(four_sites(), tasks=(Task("x", "a", vehicles=frozenset()),))
    solution = solve(problem, time_limit=5, seed=1)
    assert (solution.routes, solution.unvisited, solution.stopped_by) == (
        (),
        ("x",),
        "nothing to do",
    )


# --- checking solutions -----------------------------------------------------------------


def test_check_solution_reports_broken_rules() -> None:
    """A hand-made route with an ineligible task, a late return and too many kits is flagged."""
    tasks = (Task("a", "a", service=30 * MIN, demand=5, vehicles=frozenset({"far"})),)
    near = Vehicle("near", "B1", TimeWindow(at(8), at(8, 30)), capacity=2)
    problem = make_problem(
        TWO_BASES, TWO_BASES_MINUTES, (near, NEAR_AND_FAR[1]), tasks, TWO_BASE_DEPOTS
    )
    visit = Visit("a", "a", None, at(8, 5), at(8, 5), at(8, 35), 5 * MIN, 5000, demand=5)
    route = Route("near", "B1", at(8), at(8, 40), (visit,), 5 * MIN, 5000)
    solution = Solution((route, route), (), 0, True, (), 0.0, 0, "time limit", 1)
    issues = check_solution(problem, solution)
    assert "task 'a' is done 2 times" in issues
    assert "vehicle 'near' has 2 routes" in issues
    assert "vehicle 'near': task 'a' is not allowed on this vehicle" in issues
    assert "vehicle 'near': 5 kits exceed the capacity of 2" in issues
    assert "vehicle 'near': back at 08:40, after its shift ends at 08:30" in issues


def test_check_solution_reports_unreachable_legs_and_early_arrivals() -> None:
    """A leg over an unreachable pair, and an arrival sooner than travel allows, are flagged."""
    minutes = [[0.0, NAN], [10.0, 0.0]]
    problem = make_problem(("B", "a"), minutes, (Vehicle("v", "B", SHIFT),), (Task("a", "a"),))
    visit = Visit("a", "a", None, at(8), at(8), at(8), 0, 0)
    route = Route("v", "B", at(8), at(8, 5), (visit,), 10 * MIN, 10_000)
    issues = check_solution(problem, Solution((route,), (), 0, True, (), 0.0, 0, "x", 1))
    assert issues == (
        "vehicle 'v': task 'a' is reached over the unreachable pair 'B' -> 'a'",
        "vehicle 'v': the depot reached at 08:05, sooner than travel allows",
    )


# --- validation and parameters ----------------------------------------------------------


def test_problem_reports_every_inconsistency_at_once() -> None:
    """Unknown ids, a bad matrix, a reversed window and a contradictory pin are all listed."""
    with pytest.raises(PlanningError) as caught:
        RoutingProblem(
            locations=("B", "a"),
            durations=np.array([[0, -1.0], [60, 0]]),
            distances=np.zeros((3, 3)),
            depots=(Depot("B", "nowhere"),),
            vehicles=(Vehicle("v", "X", TimeWindow(at(15), at(8))),),
            tasks=(
                Task("t", "a", vehicles=frozenset({"v"}), pinned_to="w"),
                Task("t", "zz", windows=(TimeWindow(5, 1),)),
            ),
        )
    message = str(caught.value)
    for fragment in (
        "durations['B', 'a'] is -1.0",
        "distances has shape (3, 3), expected (2, 2)",
        "tasks: id 't' is used more than once",
        "depot 'B': location 'nowhere' is not in locations",
        "vehicle 'v': depot 'X' is not one of the depots",
        "vehicle 'v' shift",
        "task 't': pinned to 'w', which is not among the vehicles",
        "task 't': location 'zz' is not in locations",
        "task 't' window 0",
    ):
        assert fragment in message


def test_pin_outside_allowed_vehicles_is_rejected() -> None:
    """Pinning a task to a vehicle that its service excludes is an error that names both."""
    task = Task("a", "a", vehicles=frozenset({"far"}), pinned_to="near")
    with pytest.raises(PlanningError, match="pinned to 'near', which is not among its allowed"):
        make_problem(TWO_BASES, TWO_BASES_MINUTES, NEAR_AND_FAR, (task,), TWO_BASE_DEPOTS)


@pytest.mark.parametrize(
    "options",
    [
        {"max_iterations": 0},
        {"stall_iterations": -5},
        {"num_neighbours": 0},
        {"progress_interval": 0.0},
        {"max_iterations": "many"},
    ],
)
def test_solver_params_reject_values_out_of_range(options: dict[str, object]) -> None:
    """Each out-of-range solver parameter raises ParameterError naming it."""
    with pytest.raises(ParameterError, match=next(iter(options))):
        SolverParams(**options)  # type: ignore[arg-type]


def test_solver_params_from_toml_keep_defaults_for_missing_keys(tmp_path: Path) -> None:
    """A [solver] table sets the keys it has; the others keep their defaults."""
    path = tmp_path / "planning.toml"
    path.write_text("[solver]\nmax_iterations = 500\n", encoding="utf-8")
    assert load_params(path).solver == SolverParams(max_iterations=500)
    path.write_text("[planning]\ntime_limit = 1\n", encoding="utf-8")
    assert load_params(path).solver == SolverParams()


def test_solver_params_from_toml_reject_unknown_keys(tmp_path: Path) -> None:
    """An unknown key in [solver] is an error that lists the known ones."""
    path = tmp_path / "planning.toml"
    path.write_text("[solver]\nmax_iteration = 500\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"\[solver\]: unknown keys max_iteration\b"):
        load_params(path)


@pytest.mark.parametrize(("time_limit", "seed"), [(0, 1), (float("inf"), 1), (1, -1), (1, 2**32)])
def test_solve_rejects_bad_time_limit_or_seed(time_limit: float, seed: int) -> None:
    """A time limit that is not a positive number, or a seed out of range, is refused."""
    with pytest.raises(ParameterError):
        solve(four_sites(), time_limit=time_limit, seed=seed)
