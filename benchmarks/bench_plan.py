"""Weekly planning at country scale: demo weeks of 2,000 to 10,000 gathering points, 8 and 20 teams.

Anchors (issue 22): for the planner's model (candidate tasks per team-day, then the check of
the cut ones, :mod:`geoplan.solver.candidates`), the time to a first feasible plan, the
objective after the time limit (60 s) and the peak memory of a fresh process. Targets:
10,000 gathering points with 20 teams feasible within 60 s and 4 GB; 5,000 within 30 s and
2.5 GB; 2,000 within 1.5 GB. At 2,000 gathering points the full model (every plannable task
routed, as before issue 22) runs in the same benchmark as the peer: the planner's objective
must be within 1 % of it (or better) and its visits within 2 %.

Each week comes from the demo generator (:func:`geoplan.demo.scenario.generate_scenario`,
seeded, ``validate=False`` for speed): N gathering points plus the scenario's detention
centres, CIP sites, no-go zones and visit history (about 13 visits per site). The scenario's
five teams are repeated with their own ids and the same bases: 8 teams (second medical
Tripoli, MRRM and protection teams) or 20 (four of each). They work Sunday to Thursday.

The week goes through the planner's own steps (:mod:`geoplan.planning`): straight-line
travel times with the week's no-go zones closed (:func:`geoplan.planning.week_times`: bases
to sites and back, the routed sites' block when routing asks for it), visit tasks from the history, the left-out checks,
then :func:`geoplan.planning.route_candidates` (or, for the full model,
:func:`geoplan.planning.routing_problem` and :func:`geoplan.solver.solve`). ``1st feas s``
counts from the start of routing (candidate choice, the routed sites' travel times and model
building included); ``times s`` is the bases' travel times and the tasks before it. The objective is what the planner minimises:
seconds driven and waited plus the prizes of the tasks left out (the cut ones included), so
the two models' objectives compare. ``routed`` is the tasks in the routing model, ``missed``
the cut tasks the check still finds could have gained after the re-route rounds.

Each run is a fresh process with its address space capped (``--memory-cap``, GB), so a model
that outgrows the machine fails alone; the full model never runs above 2,000 gathering points
(it needs 12-17 GB at 5,000 and more).

Usage::

    python benchmarks/bench_plan.py [--sizes 2000,5000,10000] [--teams 8,20]
        [--time-limit 60] [--seed 1] [--today 2026-11-25] [--memory-cap 6]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

import geopandas as gpd
import pandas as pd

from geoplan.demo.scenario import generate_scenario
from geoplan.planning import (
    PLANNED_LAYERS,
    MatrixTravel,
    PlanningParams,
    TeamDay,
    VisitTask,
    left_out_by_rule,
    routing_problem,
    solver_week,
    tasks_for_week,
    team_days,
    week_closures,
    week_days,
    week_times,
)
from geoplan.solver import RoutingProblem, Solution, SolveProgress, SolverParams, solve
from geoplan.solver.candidates import solve_candidates
from geoplan.travel.demand import OnDemandTimes

VISITS_PER_SITE = 13
EIGHT = {"MED-TRP": 2, "MRRM-1": 2, "PROT-1": 2}
FULL_MODEL_MAX_SITES = 2000
TARGETS = {10000: (60.0, 4096.0), 5000: (30.0, 2560.0), 2000: (None, 1536.0)}
TARGET_OBJECTIVE_PCT = 1.0
TARGET_VISITS_PCT = 2.0


@dataclass(frozen=True)
class Figures:
    """What one run (size, teams, model) measured."""

    size: int
    teams: int
    model: str
    tasks: int
    plannable: int
    routed: int
    team_days: int
    matrix_seconds: float
    first_feasible: float | None
    objective: int
    visits: int
    feasible: bool
    rounds: int
    missed: int
    seconds: float
    peak_mb: float


def with_teams(teams: gpd.GeoDataFrame, count: int) -> gpd.GeoDataFrame:
    """The scenario's five teams, repeated: 8 (three busy kinds twice) or 5 x (count / 5)."""
    copies = EIGHT if count == 8 else dict.fromkeys(teams["id"], count // len(teams))
    extra = []
    for team, n in copies.items():
        row = teams.loc[teams["id"] == team]
        for k in range(2, n + 1):
            extra.append(row.assign(id=f"{team}-{k}", name=row["name"] + f" ({k})"))
    both = pd.concat([teams, *extra], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry=teams.geometry.name, crs=teams.crs)


@dataclass(frozen=True)
class Week:
    """A week's plannable tasks, its team-days and its matrix."""

    tasks: int
    plannable: list[VisitTask]
    routes: list[TeamDay]
    matrix: OnDemandTimes


def build_week(size: int, teams: int, *, seed: int, today: dt.date, params: PlanningParams) -> Week:
    """Generate the scenario and take it through the planner's steps up to routing."""
    frames = generate_scenario(
        seed=seed, sites=size, visits=size * VISITS_PER_SITE, today=today, validate=False
    )
    days = week_days(None, today=today)
    crews = with_teams(frames["teams"], teams)
    layers = {name: frames[name] for name in PLANNED_LAYERS}
    closures = week_closures(frames["no_go_zones"], days)
    matrix = week_times(layers, crews, backend=None, closures=closures)
    routes = team_days(crews, days, params=params)
    working = sorted({r.day_index for r in routes})
    tasks = tasks_for_week(
        layers, frames["outreach_visits"], days, params=params, working_days=working
    )
    excluded = left_out_by_rule(tasks, routes, matrix, closures)
    plannable = [t for t in tasks if t.id not in excluded]
    return Week(len(tasks), plannable, routes, matrix)


def measure(
    size: int, teams: int, model: str, *, seed: int, today: dt.date, limit: float
) -> Figures:
    """Build one week and route it with the planner's model or the full one."""
    params = PlanningParams()
    started = time.perf_counter()
    week = build_week(size, teams, seed=seed, today=today, params=params)
    routing = time.perf_counter()
    matrix_seconds = routing - started
    search = SolverParams(progress_interval=0.05)
    feasible_at: list[float] = []

    def note(report: SolveProgress) -> None:
        if report.objective is not None and not feasible_at:
            feasible_at.append(time.perf_counter() - routing)

    def run(problem: RoutingProblem) -> Solution:
        return solve(problem, time_limit=limit, seed=seed, params=search, progress=note)

    if model == "full":
        problem = routing_problem(week.plannable, week.routes, week.matrix, params=params)
        solution = run(problem)
        routed, rounds, missed = len(problem.tasks), 1, 0
    else:
        result = solve_candidates(
            solver_week(week.plannable, week.routes, params=params),
            MatrixTravel(week.matrix),
            params=params.candidates,
            solve=run,
        )
        solution = result.solution
        routed, rounds, missed = result.routed, result.rounds, len(result.missed)
    first = feasible_at[0] if feasible_at else None
    return Figures(
        size=size,
        teams=teams,
        model=model,
        tasks=week.tasks,
        plannable=len(week.plannable),
        routed=routed,
        team_days=len(week.routes),
        matrix_seconds=matrix_seconds,
        first_feasible=first,
        objective=solution.objective,
        visits=sum(len(r.visits) for r in solution.routes),
        feasible=solution.feasible,
        rounds=rounds,
        missed=missed,
        seconds=time.perf_counter() - routing,
        peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def run_child(size: int, teams: int, model: str, args: argparse.Namespace) -> Figures | str:
    """Measure one run in a fresh process, its address space capped; a failure's last words."""
    command = [
        sys.executable, __file__, "--child", f"{size},{teams},{model}",
        "--time-limit", str(args.time_limit), "--seed", str(args.seed), "--today", args.today,
    ]  # fmt: skip
    cap = int(args.memory_cap * 1024**3)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    proc = subprocess.run(command, capture_output=True, text=True, preexec_fn=limit, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return f"failed (exit {proc.returncode}): {tail[:120]}"
    return Figures(**json.loads(proc.stdout.strip().splitlines()[-1]))


def print_table(results: list[Figures], failures: list[str]) -> None:
    """The figures, one line per run, then the checks against the targets and the peer."""
    print(
        f"{'gathering pts':>13} {'teams':>5} {'model':>9} {'tasks':>6} {'plannable':>9} "
        f"{'routed':>6} {'times s':>8} {'1st feas s':>10} {'objective':>10} {'visits':>6} "
        f"{'rounds':>6} {'missed':>6} {'routing s':>9} {'peak MB':>7}"
    )
    for f in results:
        first = f"{f.first_feasible:.1f}" if f.first_feasible is not None else "none"
        print(
            f"{f.size:>13} {f.teams:>5} {f.model:>9} {f.tasks:>6} {f.plannable:>9} "
            f"{f.routed:>6} {f.matrix_seconds:>8.1f} {first:>10} {f.objective:>10} {f.visits:>6} "
            f"{f.rounds:>6} {f.missed:>6} {f.seconds:>9.1f} {f.peak_mb:>7.0f}"
            + ("" if f.feasible else "  INFEASIBLE")
        )
    for line in failures:
        print(line)
    for line in [*target_lines(results), *peer_lines(results)]:
        print(line)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min): {load} on {os.cpu_count()} CPU(s)")


def target_lines(results: list[Figures]) -> list[str]:
    """The planner's model against the issue's targets."""
    lines = []
    for f in (r for r in results if r.model == "planner" and r.size in TARGETS):
        seconds, mb = TARGETS[f.size]
        ok_time = seconds is None or (f.first_feasible is not None and f.first_feasible <= seconds)
        ok = ok_time and f.peak_mb <= mb and f.feasible
        when = f"feasible within {seconds:g} s and " if seconds else ""
        lines.append(
            f"target {f.size} sites, {f.teams} teams: {when}{mb / 1024:g} GB: "
            + ("met" if ok else "NOT met")
        )
    return lines


def peer_lines(results: list[Figures]) -> list[str]:
    """The planner's model against the full model in the same run."""
    lines = []
    for full in (r for r in results if r.model == "full"):
        new = next(
            (
                r
                for r in results
                if r.model == "planner" and (r.size, r.teams) == (full.size, full.teams)
            ),
            None,
        )
        if new is None:
            continue
        gap = 100.0 * (new.objective - full.objective) / full.objective
        visits = 100.0 * (new.visits - full.visits) / full.visits if full.visits else 0.0
        ok = gap <= TARGET_OBJECTIVE_PCT and abs(visits) <= TARGET_VISITS_PCT
        lines.append(
            f"{full.size} sites, {full.teams} teams: planner vs full model objective "
            f"{gap:+.2f} % (target <= {TARGET_OBJECTIVE_PCT:g} %), visits {visits:+.2f} % "
            f"(target within {TARGET_VISITS_PCT:g} %): " + ("met" if ok else "NOT met")
        )
    return lines


def main() -> None:
    """Measure every run asked for, one at a time, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,5000,10000", help="gathering points")
    parser.add_argument("--teams", default="8,20", help="team counts, comma-separated")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--today", default="2026-11-25", help="the week starts the Sunday after")
    parser.add_argument("--memory-cap", type=float, default=6.0, help="GB per run")
    parser.add_argument("--no-full", action="store_true", help="skip the full model peer")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        size, teams, model = args.child.split(",")
        figures = measure(
            int(size), int(teams), model,
            seed=args.seed, today=dt.date.fromisoformat(args.today), limit=args.time_limit,
        )  # fmt: skip
        print(json.dumps(asdict(figures)))
        return
    results, failures = [], []
    for size in (int(s) for s in args.sizes.split(",")):
        for teams in (int(t) for t in args.teams.split(",")):
            models = ["planner"]
            if size <= FULL_MODEL_MAX_SITES and not args.no_full:
                models.append("full")
            for model in models:
                print(f"{size} gathering points, {teams} teams, {model} model ...", flush=True)
                got = run_child(size, teams, model, args)
                if isinstance(got, str):
                    failures.append(f"{size} sites, {teams} teams, {model} model: {got}")
                else:
                    results.append(got)
    print_table(results, failures)


if __name__ == "__main__":
    main()
