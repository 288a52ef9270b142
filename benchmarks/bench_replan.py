"""Re-planning after one change, against a fresh plan of the same week (issue 15).

The week: the demo generator's 2,000 gathering points (plus its detention centres and CIP
sites, about 13 visits per site of history) and eight teams (``bench_plan``'s), straight-line
times with the week's no-go zones closed. The planner's own steps (:func:`plan_week`):

1. *first*: the week planned with seed 1;
2. one site of *first*'s busiest team-day is marked inaccessible;
3. *re-plan*: :func:`plan_week` with ``replan=Replan(first)`` and seed 2;
4. *fresh* (the anchor, same run): the changed week planned from nothing with seed 2.

Both 3 and 4 search until ``--stall`` iterations bring no better plan (or the time limit):
"reaches its result" is the wall time of that search, model building included. Target: the
re-plan's time at most the fresh plan's, keeping at least 90 % of the other stops of *first*
on their team and day (the fresh plan's share is printed beside it).

Usage::

    python benchmarks/bench_replan.py [--size 2000] [--teams 8] [--time-limit 60]
        [--stall 3000] [--today 2026-11-25]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from bench_plan import VISITS_PER_SITE, with_teams

from geoplan.demo.scenario import generate_scenario
from geoplan.planning import (
    PLANNED_LAYERS,
    PlanningParams,
    Replan,
    WeekPlan,
    plan_week,
    week_closures,
    week_days,
    week_times,
)
from geoplan.plans import diff_plans
from geoplan.solver import SolverParams
from geoplan.vocab import StopChange


def close_one_site(layers: dict[str, pd.DataFrame], plan: WeekPlan) -> tuple[dict, str]:
    """The layers with the first stop of the busiest team-day's site marked inaccessible."""
    task = max(plan.routes, key=lambda r: len(r.stops)).stops[0].task
    frame = layers[task.layer].copy()
    frame.loc[frame["id"] == task.site_id, "access_status"] = "inaccessible"
    return {**layers, task.layer: frame}, task.site_id


def kept_share(first: WeekPlan, second: WeekPlan, closed: str) -> tuple[int, int]:
    """Of *first*'s stops at other sites, how many *second* keeps on their team-day."""
    others = [
        s for s in diff_plans(first, second).stops if s.site_id != closed and s.before is not None
    ]
    return sum(1 for s in others if s.change == StopChange.KEPT), len(others)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--teams", type=int, default=8)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--stall", type=int, default=3000)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 25))
    args = parser.parse_args()

    frames = generate_scenario(
        seed=1,
        sites=args.size,
        visits=args.size * VISITS_PER_SITE,
        today=args.today,
        validate=False,
    )
    days = week_days(None, today=args.today)
    teams = with_teams(frames["teams"], args.teams)
    layers = {name: frames[name] for name in PLANNED_LAYERS}
    closures = week_closures(frames["no_go_zones"], days)
    params = PlanningParams(
        time_limit=args.time_limit, solver=SolverParams(stall_iterations=args.stall)
    )

    def plan(sites: dict, seed: int, previous: WeekPlan | None = None) -> tuple[WeekPlan, float]:
        started = time.perf_counter()
        times = week_times(sites, teams, backend=None, closures=closures)
        result = plan_week(
            sites,
            frames["outreach_visits"],
            teams,
            times,
            days=days,
            closures=closures,
            params=params,
            seed=seed,
            replan=Replan(previous) if previous is not None else None,
        )
        return result, time.perf_counter() - started

    first, first_s = plan(layers, 1)
    changed, closed = close_one_site(layers, first)
    again, again_s = plan(changed, 2, first)
    fresh, fresh_s = plan(changed, 2)
    load = os.getloadavg()[0]
    print(
        f"week of {args.size} gathering points, {args.teams} teams, stall {args.stall} "
        f"iterations, limit {args.time_limit:g} s; site {closed} closed; load {load:.1f}"
    )
    print(
        f"{'run':<10} {'wall s':>7} {'search s':>9} {'iters':>6} {'visits':>6} "
        f"{'objective':>11} {'kept':>12}"
    )
    for name, result, seconds in (
        ("first", first, first_s),
        ("re-plan", again, again_s),
        ("fresh", fresh, fresh_s),
    ):
        kept, of = kept_share(first, result, closed)
        share = f"{kept}/{of} {100 * kept / of:.0f}%" if name != "first" else ""
        print(
            f"{name:<10} {seconds:>7.1f} {result.runtime:>9.1f} {result.iterations:>6} "
            f"{len(result.stops):>6} {result.objective:>11} {share:>12}"
        )
    ratio = again_s / fresh_s
    print(f"re-plan / fresh time: {ratio:.2f} (target <= 1.00)")


if __name__ == "__main__":
    main()
