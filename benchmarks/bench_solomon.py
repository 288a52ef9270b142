"""Routing quality on the 56 Solomon VRPTW instances, against best-known distances.

Each instance goes through the same path as a weekly plan: it becomes a
:class:`geoplan.solver.RoutingProblem` (one depot, identical vehicles with the depot's
horizon as their shift, every customer a required task with its time window, service time
and demand) and is solved by :func:`geoplan.solver.solve`. The objective is distance alone.

Distances are Euclidean and unrounded, travel time equals distance. The solver plans in
whole units, so coordinates are scaled by ``SCALE`` first; the gap is computed on the
unrounded distance of the routes found, against the ``*_distance`` keys of ``BKS.json``.

Usage::

    python benchmarks/bench_solomon.py [--time-limit 10] [--instances C101,R2] [--seed 1]

``--instances`` takes instance names or prefixes (``R2`` runs R201-R211). Never run by CI:
the full set takes about ten minutes at 10 s per instance.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geoplan.solver import Depot, RoutingProblem, Solution, Task, TimeWindow, Vehicle, solve

SOLOMON = Path(
    os.environ.get("GEOPLAN_SOLOMON", Path(__file__).resolve().parents[2] / "shared/bench/solomon")
)
SCALE = 1000.0  # solver units per Solomon unit: three decimals of precision
CLASSES = ("C1", "C2", "R1", "R2", "RC1", "RC2")


@dataclass(frozen=True)
class Instance:
    """A Solomon instance as read from its text file (row 0 is the depot)."""

    name: str
    vehicles: int
    capacity: int
    xy: np.ndarray
    demand: np.ndarray
    ready: np.ndarray
    due: np.ndarray
    service: np.ndarray


@dataclass(frozen=True)
class Outcome:
    """The result of one instance."""

    name: str
    distance: float
    best_known: float
    routes: int
    feasible: bool
    runtime: float

    @property
    def gap(self) -> float:
        """Percent above the best-known distance."""
        return 100.0 * (self.distance - self.best_known) / self.best_known


def read_instance(path: Path) -> Instance:
    """Read a Solomon instance in its original text format."""
    lines = path.read_text().splitlines()
    head = lines.index(next(line for line in lines if line.strip().startswith("NUMBER")))
    vehicles, capacity = (int(v) for v in lines[head + 1].split())
    rows = [line.split() for line in lines[head + 2 :]]
    table = np.array(
        [[float(v) for v in row] for row in rows if len(row) == 7 and row[0].isdigit()]
    )
    return Instance(
        name=path.stem,
        vehicles=vehicles,
        capacity=capacity,
        xy=table[:, 1:3],
        demand=table[:, 3].astype(int),
        ready=table[:, 4],
        due=table[:, 5],
        service=table[:, 6],
    )


def euclidean(xy: np.ndarray) -> np.ndarray:
    """Unrounded Euclidean distances between all points."""
    diff = xy[:, None, :] - xy[None, :, :]
    return np.sqrt((diff**2).sum(axis=-1))


def problem_from_instance(instance: Instance) -> RoutingProblem:
    """The instance as a routing problem: distance-only objective, all visits required."""
    ids = tuple(f"n{k}" for k in range(len(instance.xy)))
    scaled = euclidean(instance.xy) * SCALE
    shift = TimeWindow(instance.ready[0] * SCALE, instance.due[0] * SCALE)
    tasks = tuple(
        Task(
            id=ids[k],
            location=ids[k],
            service=instance.service[k] * SCALE,
            windows=(TimeWindow(instance.ready[k] * SCALE, instance.due[k] * SCALE),),
            required=True,
            demand=int(instance.demand[k]),
        )
        for k in range(1, len(ids))
    )
    return RoutingProblem(
        locations=ids,
        durations=scaled,
        distances=scaled,
        depots=(Depot("depot", ids[0]),),
        vehicles=tuple(
            Vehicle(f"v{k:02d}", "depot", shift, capacity=instance.capacity)
            for k in range(1, instance.vehicles + 1)
        ),
        tasks=tasks,
        distance_weight=1,
        duration_weight=0,
    )


def true_distance(instance: Instance, solution: Solution) -> float:
    """Unrounded distance of the solution's routes, from the instance's coordinates."""
    dist = euclidean(instance.xy)
    total = 0.0
    for route in solution.routes:
        stops = [0, *(int(v.location[1:]) for v in route.visits), 0]
        total += sum(dist[a, b] for a, b in itertools.pairwise(stops))
    return total


def run_instance(instance: Instance, best_known: float, time_limit: float, seed: int) -> Outcome:
    """Solve one instance and compare it with its best-known distance."""
    solution = solve(problem_from_instance(instance), time_limit=time_limit, seed=seed)
    return Outcome(
        name=instance.name,
        distance=true_distance(instance, solution),
        best_known=best_known,
        routes=len(solution.routes),
        feasible=solution.feasible,
        runtime=solution.runtime,
    )


def selected(names: str | None) -> list[Path]:
    """Instance files matching comma-separated names or prefixes; all when ``None``."""
    paths = sorted(SOLOMON.glob("*.txt"))
    if names is None:
        return paths
    wanted = [n.strip().upper() for n in names.split(",") if n.strip()]
    return [p for p in paths if any(p.stem.upper().startswith(w) for w in wanted)]


def report(outcomes: list[Outcome], time_limit: float) -> None:
    """Print the per-class and overall gaps."""
    by_class: dict[str, list[float]] = defaultdict(list)
    for o in outcomes:
        by_class[o.name[:-2]].append(o.gap)
    print(f"\n{'class':<6}{'n':>4}{'mean gap %':>12}{'max gap %':>11}")
    for cls in CLASSES:
        if cls in by_class:
            gaps = by_class[cls]
            print(f"{cls:<6}{len(gaps):>4}{statistics.fmean(gaps):>12.2f}{max(gaps):>11.2f}")
    gaps = [o.gap for o in outcomes]
    infeasible = [o.name for o in outcomes if not o.feasible]
    print(f"{'all':<6}{len(gaps):>4}{statistics.fmean(gaps):>12.2f}{max(gaps):>11.2f}")
    print(f"time limit {time_limit:g} s per instance; infeasible: {infeasible or 'none'}")


def main() -> None:
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance")
    parser.add_argument("--instances", help="comma-separated names or prefixes, e.g. C101,R2")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    best = json.loads((SOLOMON / "BKS.json").read_text())
    outcomes = []
    print(
        f"{'instance':<9}{'routes':>7}{'distance':>11}{'best known':>12}{'gap %':>8}{'time s':>8}"
    )
    for path in selected(args.instances):
        instance = read_instance(path)
        target = best[f"{instance.name}_distance"]["best_known_cost"]
        o = run_instance(instance, target, args.time_limit, args.seed)
        flag = "" if o.feasible else "  INFEASIBLE"
        print(
            f"{o.name:<9}{o.routes:>7}{o.distance:>11.2f}{o.best_known:>12.2f}"
            f"{o.gap:>8.2f}{o.runtime:>8.1f}{flag}",
            flush=True,
        )
        outcomes.append(o)
    if outcomes:
        report(outcomes, args.time_limit)
    if any(math.isnan(o.gap) for o in outcomes):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
