"""Tests for geoplan.progress: one shape, heard the same way from every stage."""

from __future__ import annotations

import pandas as pd

from geoplan.planning import PlanningParams, plan_week
from geoplan.progress import tell
from geoplan.solver import SolverParams
from geoplan.zones import no_closures
from tests.planning_fixtures import WEEK, four_site_matrix, layer, site, team


class Recorder:
    """A progress display that keeps every step it hears."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, float, float | None]] = []

    def __call__(self, step: str, done: float, total: float | None) -> None:
        self.heard.append((step, done, total))


def test_tell_passes_an_unmeasured_step_and_ignores_no_display() -> None:
    """tell() sends (step, 0, None) unless measured, and does nothing without a display."""
    recorder = Recorder()
    tell(recorder, "Reading")
    tell(recorder, "Writing gathering_points", 2000, 5000)
    tell(None, "nobody listens")
    assert recorder.heard == [("Reading", 0, None), ("Writing gathering_points", 2000, 5000)]


def test_a_plan_tells_its_steps_and_measures_the_search_in_seconds() -> None:
    """plan_week tells each step; the search's reports count seconds of the time limit."""
    recorder = Recorder()
    sites = {"gathering_points": layer("gathering_points", [site(s, 13.1) for s in "ABCD"])}
    result = plan_week(
        sites,
        pd.DataFrame(columns=["id", "site_id", "date", "team_id", "services"]),
        layer("teams", [team("T1"), team("T2")]),
        four_site_matrix(),
        days=WEEK,
        closures=no_closures(),
        params=PlanningParams(solver=SolverParams(max_iterations=200, progress_interval=0.01)),
        time_limit=5,
        progress=recorder,
    )
    steps = [step for step, _, _ in recorder.heard]
    assert steps[:2] == ["Deriving visit tasks", "Solving: 4 tasks, 2 team-days"]
    search = recorder.heard[2:]
    assert search
    assert all(step.endswith("visits planned so far") for step, _, _ in search)
    assert all(total == 5 and 0 <= done <= 5 for _, done, total in search)
    assert search[-1][0] == f"Solving: {len(result.stops)} visits planned so far"
