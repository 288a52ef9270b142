"""Weekly planning at scale: demo-generator weeks with 500 and 2,000 sites, 8 teams x 5 days.

Anchors (issue 4): for each size, the time to a first feasible plan; the plan's objective at
the configured time limit against a run five times longer (target: within 1 %); peak memory.

Each week comes from the demo generator (:func:`geoplan.demo.scenario.generate_scenario`, seeded,
``validate=False`` for speed): N gathering points plus the scenario's detention centres, CIP
sites, no-go zones and visit history (about 13 visits per site, as in the default scenario).
The scenario has five teams; three more are added as second teams of the busiest kinds
(medical Tripoli, MRRM, protection), with their own ids and the same bases, so that eight teams
work Sunday to Thursday: 40 team-days. The week starts on the Sunday after ``--today``.

The week then goes through the planner's own steps (:mod:`geoplan.planning`): the straight-line
matrix with the week's no-go zones closed, visit tasks from the history, the left-out checks,
the routing problem, and :func:`geoplan.solver.solve`. The solver reports its best solution
every 0.05 s, which times the first feasible one. Each size runs in a fresh process, so the
peak memory (maximum resident set size) is that size's alone.

The objective is what the solver minimises: seconds driven and waited plus the prizes (the
priority) of the tasks left out, so most of it is the tasks no team has time for; ``visits``
shows how many tasks each run fits into the week. ``cpu s`` is the processor time a solve got:
on a machine shared with other work a 20 s limit can buy much less than 20 s of search.

Usage::

    python benchmarks/bench_plan.py [--sizes 500,2000] [--time-limit 20] [--factor 5]
        [--seed 1] [--today 2026-11-25]

``--time-limit`` defaults to :class:`geoplan.planning.PlanningParams`'s ``time_limit``.
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
    PlanningParams,
    left_out_by_rule,
    routing_problem,
    tasks_for_week,
    team_days,
    week_closures,
    week_days,
    week_matrix,
)
from geoplan.solver import RoutingProblem, SolveProgress, SolverParams, solve

VISITS_PER_SITE = 13
EXTRA_TEAMS = {"MED-TRP": "MED-TRP-2", "MRRM-1": "MRRM-2", "PROT-1": "PROT-2"}
TARGET_GAP = 1.0


@dataclass(frozen=True)
class Week:
    """A planning week ready for the solver, and what it took to build."""

    problem: RoutingProblem
    sites: int
    tasks: int
    left_out_by_rule: int
    team_days: int
    build_seconds: float


@dataclass(frozen=True)
class Figures:
    """What one size measured."""

    sites: int
    tasks: int
    left_out_by_rule: int
    team_days: int
    build_seconds: float
    first_feasible: float | None
    objective: int
    objective_long: int
    visits: int
    visits_long: int
    feasible: bool
    time_limit: float
    factor: float
    cpu_seconds: float
    cpu_seconds_long: float
    peak_mb: float

    @property
    def gap(self) -> float:
        """Percent by which the objective at the time limit exceeds the longer run's."""
        return 100.0 * (self.objective - self.objective_long) / self.objective_long


def eight_teams(teams: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The scenario's five teams plus second medical (Tripoli), MRRM and protection teams."""
    extra = teams.loc[teams["id"].isin(list(EXTRA_TEAMS))].copy()
    extra["id"] = extra["id"].map(EXTRA_TEAMS)
    extra["name"] = extra["name"] + " (2)"
    both = pd.concat([teams, extra], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry=teams.geometry.name, crs=teams.crs)


def build_week(sites: int, *, seed: int, today: dt.date, params: PlanningParams) -> Week:
    """Generate the scenario and take it through the planner's steps up to the solver."""
    started = time.perf_counter()
    frames = generate_scenario(
        seed=seed, sites=sites, visits=sites * VISITS_PER_SITE, today=today, validate=False
    )
    days = week_days(None, today=today)
    teams = eight_teams(frames["teams"])
    layers = {name: frames[name] for name in PLANNED_LAYERS}
    closures = week_closures(frames["no_go_zones"], days)
    matrix = week_matrix(layers, teams, backend=None, closures=closures)
    routes = team_days(teams, days, params=params)
    working = sorted({r.day_index for r in routes})
    tasks = tasks_for_week(
        layers, frames["outreach_visits"], days, params=params, working_days=working
    )
    excluded = left_out_by_rule(tasks, routes, matrix, closures)
    plannable = [t for t in tasks if t.id not in excluded]
    problem = routing_problem(plannable, routes, matrix, params=params)
    return Week(
        problem=problem,
        sites=sum(len(f) for f in layers.values()),
        tasks=len(tasks),
        left_out_by_rule=len(excluded),
        team_days=len(routes),
        build_seconds=time.perf_counter() - started,
    )


def measure(size: int, *, seed: int, today: dt.date, time_limit: float, factor: float) -> Figures:
    """Build one week and solve it at the time limit and at ``factor`` times it."""
    params = PlanningParams()
    week = build_week(size, seed=seed, today=today, params=params)
    reports: list[SolveProgress] = []
    search = SolverParams(progress_interval=0.05)
    cpu = time.process_time()
    short = solve(
        week.problem, time_limit=time_limit, seed=seed, params=search, progress=reports.append
    )
    cpu_short, cpu = time.process_time() - cpu, time.process_time()
    long = solve(week.problem, time_limit=time_limit * factor, seed=seed)
    cpu_long = time.process_time() - cpu
    first = next((r.elapsed for r in reports if r.objective is not None), None)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Figures(
        sites=week.sites,
        tasks=week.tasks,
        left_out_by_rule=week.left_out_by_rule,
        team_days=week.team_days,
        build_seconds=week.build_seconds,
        first_feasible=first,
        objective=short.objective,
        objective_long=long.objective,
        visits=sum(len(r.visits) for r in short.routes),
        visits_long=sum(len(r.visits) for r in long.routes),
        feasible=short.feasible and long.feasible,
        time_limit=time_limit,
        factor=factor,
        cpu_seconds=cpu_short,
        cpu_seconds_long=cpu_long,
        peak_mb=peak,
    )


def run_child(size: int, args: argparse.Namespace) -> Figures:
    """Measure one size in a fresh Python process, so that its peak memory is its own."""
    command = [
        sys.executable,
        __file__,
        "--child",
        str(size),
        "--time-limit",
        str(args.time_limit),
        "--factor",
        str(args.factor),
        "--seed",
        str(args.seed),
        "--today",
        args.today,
    ]
    proc = subprocess.run(command, capture_output=True, text=True, check=True)
    return Figures(**json.loads(proc.stdout.strip().splitlines()[-1]))


def print_table(results: list[tuple[int, Figures]]) -> None:
    """The figures, one line per size (gathering points), next to the targets."""
    head = (
        f"{'gathering pts':>13} {'sites':>6} {'tasks':>6} {'by rule':>7} {'team-days':>9} "
        f"{'build s':>7} {'1st feas s':>10} {'objective':>10} {'long objective':>14} "
        f"{'gap %':>6} {'visits':>6} {'long visits':>11} {'cpu s':>6} {'long cpu s':>10} "
        f"{'peak MB':>7}"
    )
    print(head)
    for size, f in results:
        first = f"{f.first_feasible:.2f}" if f.first_feasible is not None else "none"
        print(
            f"{size:>13} {f.sites:>6} {f.tasks:>6} {f.left_out_by_rule:>7} {f.team_days:>9} "
            f"{f.build_seconds:>7.1f} {first:>10} {f.objective:>10} {f.objective_long:>14} "
            f"{f.gap:>6.2f} {f.visits:>6} {f.visits_long:>11} {f.cpu_seconds:>6.1f} "
            f"{f.cpu_seconds_long:>10.1f} {f.peak_mb:>7.0f}"
        )
    limit = results[0][1]
    print(
        f"time limit {limit.time_limit:g} s vs {limit.time_limit * limit.factor:g} s; "
        f"target: gap within {TARGET_GAP:g} %; feasible: "
        + ", ".join("yes" if f.feasible else "NO" for _, f in results)
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min): {load} on {os.cpu_count()} CPU(s)")


def main() -> None:
    """Measure every size asked for and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,2000", help="gathering points, comma-separated")
    parser.add_argument("--time-limit", type=float, default=PlanningParams().time_limit)
    parser.add_argument("--factor", type=float, default=5.0, help="length of the longer run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--today", default="2026-11-25", help="the week starts the Sunday after")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        figures = measure(
            args.child,
            seed=args.seed,
            today=dt.date.fromisoformat(args.today),
            time_limit=args.time_limit,
            factor=args.factor,
        )
        print(json.dumps(asdict(figures)))
        return
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"planning a week with {size} gathering points ...", flush=True)
        results.append((size, run_child(size, args)))
    print_table(results)


if __name__ == "__main__":
    main()
