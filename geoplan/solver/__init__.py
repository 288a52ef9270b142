"""Routes for team-days: a neutral routing problem, an independent check, and a PyVRP adapter.

- :mod:`geoplan.solver.problem`: the problem (:class:`RoutingProblem` and its parts) and the
  search parameters (:class:`SolverParams`); nothing about PyVRP.
- :mod:`geoplan.solver.solution`: what a search returns (:class:`Solution`, its routes and
  visits) and reports while it runs (:class:`SolveProgress`).
- :mod:`geoplan.solver.check`: :func:`check_solution`, every hard rule re-checked without
  the solver.
- :mod:`geoplan.solver.pyvrp`: :func:`solve`, the only module of geoplan that imports PyVRP.
"""

from geoplan.solver.check import check_solution
from geoplan.solver.problem import (
    Depot,
    RoutingProblem,
    SolverParams,
    Task,
    TimeWindow,
    Vehicle,
)
from geoplan.solver.pyvrp import SearchCallback, solve
from geoplan.solver.solution import Route, Solution, SolveProgress, Visit

__all__ = [
    "Depot",
    "Route",
    "RoutingProblem",
    "SearchCallback",
    "Solution",
    "SolveProgress",
    "SolverParams",
    "Task",
    "TimeWindow",
    "Vehicle",
    "Visit",
    "check_solution",
    "solve",
]
