"""What a solver returns: timed visits, routes, progress reports and the solution."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Visit:
    """One task done on a route, with its times in whole seconds on the week's timeline.

    Parameters
    ----------
    task, location
        Ids of the task and of its place.
    window
        Index of the task's window used; ``None`` when the task has no windows.
    arrival, start, departure
        Arrival on site, start of service (after any wait) and departure.
    travel_seconds, travel_metres
        Travel from the previous stop (or the depot), as given in the problem's matrices.
    demand
        NFI kits delivered.
    """

    task: str
    location: str
    window: int | None
    arrival: int
    start: int
    departure: int
    travel_seconds: float
    travel_metres: float
    demand: int = 0

    @property
    def wait(self) -> int:
        """Seconds waited on site before service could start."""
        return self.start - self.arrival


@dataclass(frozen=True)
class Route:
    """The ordered visits of one vehicle, from its depot and back.

    Parameters
    ----------
    vehicle, depot
        Ids of the vehicle and of its depot.
    start, end
        When the route leaves the depot and when it is back. The route leaves as late as
        it can without delaying any visit, and starts every visit as early as it can.
    visits
        The tasks done, in order.
    return_seconds, return_metres
        Travel from the last stop back to the depot.
    """

    vehicle: str
    depot: str
    start: int
    end: int
    visits: tuple[Visit, ...]
    return_seconds: float
    return_metres: float

    @property
    def distance(self) -> float:
        """Metres driven, the return included."""
        return sum(v.travel_metres for v in self.visits) + self.return_metres

    @property
    def travel_time(self) -> float:
        """Seconds driven, the return included."""
        return sum(v.travel_seconds for v in self.visits) + self.return_seconds

    @property
    def load(self) -> int:
        """NFI kits delivered on the route."""
        return sum(v.demand for v in self.visits)


@dataclass(frozen=True)
class SolveProgress:
    """A progress report while the search runs.

    Parameters
    ----------
    elapsed
        Seconds since :func:`solve` was called.
    iterations
        Search iterations so far.
    objective
        Objective of the best feasible solution so far; ``None`` before there is one.
    tasks_done
        Tasks on the routes of the best solution so far.
    """

    elapsed: float
    iterations: int
    objective: int | None
    tasks_done: int


@dataclass(frozen=True)
class Solution:
    """Routes found by :func:`solve`, what they leave out, and how the search went.

    Parameters
    ----------
    routes
        Routes with at least one visit, in the problem's vehicle order.
    unvisited
        Ids of the tasks on no route, in the problem's task order.
    objective
        The cost the solver minimised: weighted distance and duration plus the prizes of
        the tasks left out.
    feasible
        Whether every hard rule holds and every required task is done.
    violations
        What breaks the rules when ``feasible`` is false; empty otherwise.
    runtime
        Seconds from the call to :func:`solve` to its return.
    iterations
        Search iterations done.
    stopped_by
        ``"time limit"``, ``"max iterations"``, ``"stall iterations"`` or ``"nothing to do"``.
    seed
        The seed of the run.
    """

    routes: tuple[Route, ...]
    unvisited: tuple[str, ...]
    objective: int
    feasible: bool
    violations: tuple[str, ...]
    runtime: float
    iterations: int
    stopped_by: str
    seed: int

    def route(self, vehicle: str) -> Route | None:
        """The route of ``vehicle``, or ``None`` when it does nothing."""
        return next((r for r in self.routes if r.vehicle == vehicle), None)

    @property
    def distance(self) -> float:
        """Metres driven over all routes."""
        return sum(r.distance for r in self.routes)

    def summary(self) -> str:
        """A few lines for people: tasks done, objective, feasibility, and each route."""
        done = sum(len(r.visits) for r in self.routes)
        status = "feasible" if self.feasible else "INFEASIBLE"
        lines = [
            f"{done} tasks on {len(self.routes)} routes, {len(self.unvisited)} left out; "
            f"objective {self.objective} ({status})",
            f"{self.distance / 1000:.1f} km; searched {self.runtime:.1f} s, "
            f"{self.iterations} iterations, stopped by {self.stopped_by} (seed {self.seed})",
        ]
        lines += [
            f"  {r.vehicle}: {len(r.visits)} visits, {r.distance / 1000:.1f} km, "
            f"{clock_text(r.start)}-{clock_text(r.end)}"
            for r in self.routes
        ]
        lines += [f"  ! {v}" for v in self.violations]
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """One row per visit: vehicle, sequence, task, window and times, travel legs."""
        columns = ["vehicle", "depot", "sequence", "task", "location", "window", "arrival"]
        columns += ["start", "departure", "wait", "travel_seconds", "travel_metres", "demand"]
        rows = [
            (r.vehicle, r.depot, k, *_visit_row(v))
            for r in self.routes
            for k, v in enumerate(r.visits, start=1)
        ]
        return pd.DataFrame(rows, columns=columns)


def _visit_row(v: Visit) -> tuple[object, ...]:
    times = (v.arrival, v.start, v.departure, v.wait)
    return (v.task, v.location, v.window, *times, v.travel_seconds, v.travel_metres, v.demand)


def clock_text(seconds: int) -> str:
    """``hh:mm`` of a time on the week's timeline, with ``d<day>`` after the first day."""
    day, rest = divmod(seconds, 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"
    return f"d{day} {text}" if day else text
