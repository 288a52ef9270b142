"""Candidate tasks per team-day, and the check that no cut task could have made a better plan.

Fixtures in round minutes as in ``tests/test_solver.py``: one base ``B``, shifts 08:00-15:00,
sites on a line east of the base (``A`` 10 min out, ``C`` 60 min), prizes in seconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from geoplan.errors import ParameterError
from geoplan.solver import Depot, Solution, SolverParams, Task, TimeWindow, Vehicle, solve
from geoplan.solver.candidates import (
    CandidateParams,
    Week,
    candidate_problem,
    choose_candidates,
    improving_insertions,
    solve_candidates,
)

MIN = 60
HOUR = 3600
SHIFT = TimeWindow(8 * HOUR, 15 * HOUR)
FAST = SolverParams(max_iterations=500)
PLACES = {"B": 0, "A": 10, "D": 20, "E": 30, "C": 60}  # minutes east of the base
DEPOTS = (Depot("B", "B"),)


class LineTravel:
    """Places on a line: travel minutes are the distance between them (1 km a minute)."""

    def seconds(self, origins: Sequence[str], destinations: Sequence[str]) -> np.ndarray:
        a = np.array([PLACES[o] for o in origins], dtype=float)
        b = np.array([PLACES[d] for d in destinations], dtype=float)
        return np.abs(a[:, None] - b[None, :]) * MIN

    def metres(self, origins: Sequence[str], destinations: Sequence[str]) -> np.ndarray:
        return self.seconds(origins, destinations) * 1000 / MIN


TRAVEL = LineTravel()
EVERY = CandidateParams(per_route=1, full_below=0, recheck_rounds=0)


def task(tid: str, place: str, prize: int = 10 * HOUR, **extra: object) -> Task:
    """A 30-minute visit at ``place`` worth ``prize`` seconds."""
    return Task(tid, place, service=30 * MIN, prize=prize, **extra)  # type: ignore[arg-type]


def vehicle(vid: str = "V1", shift: TimeWindow = SHIFT, **extra: object) -> Vehicle:
    return Vehicle(vid, "B", shift, **extra)  # type: ignore[arg-type]


def run(tasks: Sequence[Task], vehicles: Sequence[Vehicle]) -> Solution:
    week = Week(tuple(tasks), tuple(vehicles), DEPOTS)
    return solve(candidate_problem(tasks, week, TRAVEL), time_limit=10, seed=1, params=FAST)


def test_each_team_day_keeps_its_best_tasks_and_every_must_do() -> None:
    """per_route 1: the nearest of two equal prizes is kept, and a pinned far task too."""
    tasks = [task("far", "C"), task("near", "A"), task("pinned", "E", pinned_to="V1")]
    chosen = choose_candidates(tasks, [vehicle()], DEPOTS, TRAVEL, params=EVERY)
    assert [t.id for t in chosen.kept] == ["near", "pinned"]
    assert [t.id for t in chosen.cut] == ["far"]


def test_small_weeks_route_every_task() -> None:
    """Below full_below (or with per_route 0) nothing is cut: the full model."""
    tasks = [task("far", "C"), task("near", "A")]
    for params in (CandidateParams(per_route=1, full_below=10), CandidateParams(per_route=0)):
        chosen = choose_candidates(tasks, [vehicle()], DEPOTS, TRAVEL, params=params)
        assert chosen.full
        assert [t.id for t in chosen.kept] == ["far", "near"]


def test_a_task_no_vehicle_can_do_alone_ranks_nowhere() -> None:
    """A task whose window closes before the team can get there is not a team-day's candidate."""
    late = task("closed", "C", windows=(TimeWindow(8 * HOUR, 8 * HOUR + 30 * MIN),))
    chosen = choose_candidates(
        [late, task("near", "A")],
        [vehicle()],
        DEPOTS,
        TRAVEL,
        params=CandidateParams(per_route=5, full_below=0),
    )
    assert [t.id for t in chosen.cut] == ["closed"]


def test_the_check_finds_a_cut_task_that_fits_and_prices_it() -> None:
    """D lies on the way between A and E: no detour, so it costs its 30 min on site only."""
    kept = [task("A", "A"), task("E", "E")]
    solution = run(kept, [vehicle()])
    cut = [task("D", "D")]
    found = improving_insertions(
        solution, cut, routed=kept, vehicles=[vehicle()], depots=DEPOTS, travel=TRAVEL
    )
    assert [(i.task, i.vehicle) for i in found] == [("D", "V1")]
    assert found[0].gain == 10 * HOUR - 30 * MIN
    with_d = run([*kept, *cut], [vehicle()])
    assert with_d.feasible
    assert with_d.objective == solution.objective + cut[0].prize - found[0].gain


def test_the_check_respects_later_windows_shift_kits_and_stops() -> None:
    """No insertion that would make a later visit late, run past the shift, or overload."""
    tight = TimeWindow(8 * HOUR + 10 * MIN, 8 * HOUR + 10 * MIN)
    kept = [task("A", "A", windows=(tight,), required=True)]
    short = vehicle(shift=TimeWindow(8 * HOUR, 8 * HOUR + 70 * MIN), capacity=5, max_stops=2)
    solution = run(kept, [short])
    assert solution.feasible
    cases = {
        "before A, A would start late": task("D", "D"),
        "after A, back too late": task("E", "E"),
        "too many kits": task("D2", "D", demand=6),
    }
    for why, cut in cases.items():
        found = improving_insertions(
            solution, [cut], routed=kept, vehicles=[short], depots=DEPOTS, travel=TRAVEL
        )
        assert found == [], why
    full = vehicle(shift=SHIFT, max_stops=1)
    solution = run([task("A", "A")], [full])
    found = improving_insertions(
        solution,
        [task("D", "D")],
        routed=[task("A", "A")],
        vehicles=[full],
        depots=DEPOTS,
        travel=TRAVEL,
    )
    assert found == []


def test_the_check_ignores_a_task_worth_less_than_its_detour() -> None:
    """C, 60 min out, is worth 30 min: no gain from adding it to an idle day."""
    cheap = task("C", "C", prize=30 * MIN + 30 * MIN)
    found = improving_insertions(
        _empty(),
        [cheap],
        routed=[],
        vehicles=[vehicle()],
        depots=DEPOTS,
        travel=TRAVEL,
    )
    assert found == []
    worth = task("C", "C", prize=3 * HOUR)
    found = improving_insertions(
        _empty(), [worth], routed=[], vehicles=[vehicle()], depots=DEPOTS, travel=TRAVEL
    )
    assert [(i.task, i.gain) for i in found] == [("C", 3 * HOUR - 150 * MIN)]


def _empty() -> Solution:
    return Solution((), (), 0, True, (), 0.0, 0, "nothing to do", 1)


def test_a_re_route_takes_in_what_the_check_found() -> None:
    """per_route 1 keeps only A; the check finds D and E; the second round visits all three."""
    tasks = [task("A", "A"), task("D", "D"), task("E", "E")]
    week = Week(tuple(tasks), (vehicle(),), DEPOTS)
    params = CandidateParams(per_route=1, full_below=0, recheck_rounds=1)
    result = solve_candidates(
        week,
        TRAVEL,
        params=params,
        solve=lambda p: solve(p, time_limit=10, seed=1, params=FAST),
    )
    assert result.rounds == 2
    assert result.cut == ()
    assert result.missed == ()
    assert sorted(v.task for r in result.solution.routes for v in r.visits) == ["A", "D", "E"]


def test_the_objective_counts_the_prizes_of_cut_tasks() -> None:
    """A cut task that nothing can take still costs its prize, as in the full model."""
    tasks = [task("A", "A"), task("C", "C", prize=10)]
    week = Week(tuple(tasks), (vehicle(),), DEPOTS)
    result = solve_candidates(
        week,
        TRAVEL,
        params=EVERY,
        solve=lambda p: solve(p, time_limit=10, seed=1, params=FAST),
    )
    full = run(tasks, [vehicle()])
    assert [t.id for t in result.cut] == ["C"]
    assert result.solution.objective == full.objective


def test_parameters_are_checked() -> None:
    """Negative counts and a reach weight outside 0..1 are refused, naming the table."""
    with pytest.raises(ParameterError, match=r"planning\.candidates"):
        CandidateParams(per_route=-1)
    with pytest.raises(ParameterError, match="reach_weight"):
        CandidateParams(reach_weight=2.0)
