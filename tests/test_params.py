"""Tests for geoplan.params: one TOML file, every table, defaults, and errors that name the spot."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import geoplan.planning
from geoplan.cli import run
from geoplan.coverage import CoverageParams
from geoplan.demo.scenario import build_demo_workspace
from geoplan.errors import InputFileError, ParameterError
from geoplan.params import Params, load_params
from geoplan.planning import PlanningParams, plan_week
from geoplan.solver import RoutingProblem, Solution, SolverParams, solve
from geoplan.travel.matrix import StraightLineParams
from geoplan.travel.roads import DEFAULT_SPEEDS_KMH, NetworkParams
from geoplan.zones import no_closures
from tests.planning_fixtures import WEEK, four_site_matrix, layer, site, team

EVERY_TABLE = """
[straight_line]
speed_kmh = 20

[road_network]
max_snap_m = 300

[road_network.speeds_kmh]
residential = 15

[coverage]
threshold_minutes = 45
site_layers = ["gathering_points"]

[planning]
time_limit = 5
cip_statuses = ["planned"]

[planning.service_minutes]
health = 30

[planning.priority]
overdue_weight = 2

[solver]
max_iterations = 7
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_empty_file_gives_every_default(tmp_path: Path) -> None:
    """A file without tables holds the default parameters of every stage."""
    params = load_params(write(tmp_path, "# nothing set\n"))
    assert params == Params()
    assert params.straight_line == StraightLineParams()
    assert params.road_network == NetworkParams()
    assert params.coverage == CoverageParams()
    assert params.planning == PlanningParams()
    assert params.solver == SolverParams()


def test_every_table_is_read_and_missing_keys_keep_their_defaults(tmp_path: Path) -> None:
    """Each table sets what it names; the rest, and the default entries of mappings, stay."""
    params = load_params(write(tmp_path, EVERY_TABLE))
    assert params.straight_line == StraightLineParams(speed_kmh=20)
    assert params.road_network.max_snap_m == 300
    assert params.road_network.speeds_kmh == {**DEFAULT_SPEEDS_KMH, "residential": 15}
    assert params.coverage == CoverageParams(
        threshold_minutes=45, site_layers=("gathering_points",)
    )
    planning = params.planning
    assert (planning.time_limit, planning.cip_statuses) == (5, ("planned",))
    assert planning.service_minutes == {**PlanningParams().service_minutes, "health": 30}
    assert planning.priority.overdue_weight == 2
    assert planning.priority.people_weight == PlanningParams().priority.people_weight
    assert params.solver == planning.solver == SolverParams(max_iterations=7)


def test_the_example_file_is_every_default() -> None:
    """examples/planning.toml, which documents every table, loads to the defaults."""
    path = Path(__file__).resolve().parents[1] / "examples" / "planning.toml"
    assert load_params(path) == Params()


def test_an_unknown_table_is_named_with_the_nearest_known_one(tmp_path: Path) -> None:
    """A misspelt table is refused, naming the file, the table, a guess and the known tables."""
    path = write(tmp_path, "[plannig]\ntime_limit = 5\n")
    with pytest.raises(ParameterError) as caught:
        load_params(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: unknown tables [plannig] (did you mean [planning]?)")
    assert "[straight_line], [road_network], [coverage], [planning], [solver]" in message


def test_a_key_outside_any_table_is_refused(tmp_path: Path) -> None:
    """A bare key at the top of the file is an error saying which tables it may go under."""
    with pytest.raises(ParameterError, match=r"time_limit outside any table; .*\[planning\]"):
        load_params(write(tmp_path, "time_limit = 5\n"))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "[solver]\nmax_iteration = 5\n",
            r"\[solver\]: unknown keys max_iteration \(did you mean max_iterations\?\)",
        ),
        (
            "[coverage]\nthreshold = 45\n",
            r"\[coverage\]: unknown keys threshold \(did you mean threshold_minutes\?\)",
        ),
        (
            "[planning.priority]\noverdue = 1\n",
            r"\[planning\.priority\]: unknown keys overdue \(did you mean overdue_bonus\?\)",
        ),
        (
            "[planning]\nsolver = { max_iterations = 5 }\n",
            r"\[planning\]: unknown keys solver; expected some of",
        ),
        (
            "[straight_line]\nzzz = 1\n",
            r"\[straight_line\]: unknown keys zzz; expected some of detour_factor, speed_kmh\.",
        ),
    ],
)
def test_an_unknown_key_names_the_file_the_table_and_a_guess(
    tmp_path: Path, text: str, words: str
) -> None:
    """An unknown key is refused with the file, its table, the nearest key and the known keys."""
    with pytest.raises(ParameterError, match=words) as caught:
        load_params(write(tmp_path, text))
    assert str(caught.value).startswith(str(tmp_path / "params.toml"))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            '[planning]\ntime_limit = "long"\n',
            r"\[planning\]: time_limit: expected a number, got 'long'",
        ),
        (
            '[coverage]\nsite_layers = "gathering_points"\n',
            r"\[coverage\]: site_layers: expected a list",
        ),
        ("[road_network]\nspeeds_kmh = 5\n", r"\[road_network\]: speeds_kmh: expected a table"),
        ('[road_network]\nuse_maxspeed = "yes"\n', r"use_maxspeed: expected true or false"),
        ("[planning]\npriority = 3\n", r"\[planning\]: priority: expected a table"),
        ("[solver]\nnum_neighbours = 0\n", r"\[solver\]: solver parameter num_neighbours = 0"),
        (
            "[planning.priority]\noverdue_bonus = 0\n",
            r"\[planning\.priority\]: priority\.overdue_bonus",
        ),
        (
            "[straight_line]\nspeed_kmh = 0.5\n",
            r"\[straight_line\]: speed_kmh: expected a number from 1",
        ),
    ],
)
def test_a_bad_value_names_the_file_the_table_and_the_key(
    tmp_path: Path, text: str, words: str
) -> None:
    """A value of the wrong kind or out of range is refused, naming where it is."""
    with pytest.raises(ParameterError, match=words):
        load_params(write(tmp_path, text))


def test_an_unreadable_file_is_an_input_file_error(tmp_path: Path) -> None:
    """A missing file or broken TOML raises InputFileError naming the file."""
    with pytest.raises(InputFileError, match=r"nowhere\.toml: cannot read parameters as TOML"):
        load_params(tmp_path / "nowhere.toml")
    with pytest.raises(InputFileError, match=r"params\.toml: cannot read parameters as TOML"):
        load_params(write(tmp_path, "[planning\n"))


def test_the_solver_table_reaches_the_search_of_a_plan(tmp_path: Path) -> None:
    """[solver] max_iterations stops the plan's search there, long before its time limit."""
    params = load_params(write(tmp_path, "[solver]\nmax_iterations = 7\n"))
    sites = {"gathering_points": layer("gathering_points", [site(s, 13.1) for s in "ABCD"])}
    teams = layer("teams", [team("T1"), team("T2")])
    no_visits = pd.DataFrame(columns=["id", "site_id", "date", "team_id", "services"])
    result = plan_week(
        sites,
        no_visits,
        teams,
        four_site_matrix(),
        days=WEEK,
        closures=no_closures(),
        params=params.planning,
        seed=3,
        time_limit=60,
    )
    assert (result.stopped_by, result.iterations, result.seed) == ("max iterations", 7, 3)
    assert result.runtime < 30


def test_geoplan_plan_params_hands_the_solver_table_to_the_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`geoplan plan --params FILE` searches with the file's [solver] table and its seed."""
    workspace = tmp_path / "geoplan.gpkg"
    build_demo_workspace(workspace, seed=7, sites=10, visits=50, today=dt.date(2026, 11, 25))
    path = write(tmp_path, "[solver]\nmax_iterations = 5\nnum_neighbours = 9\n")
    searches: list[tuple[SolverParams | None, int]] = []

    def spy(problem: RoutingProblem, **options: Any) -> Solution:
        searches.append((options["params"], options["seed"]))
        return solve(problem, **options)

    monkeypatch.setattr(geoplan.planning, "solve", spy)
    args = [
        "plan",
        "-w",
        str(workspace),
        "--week",
        "2026-W49",
        "--seed",
        "4",
        "--params",
        str(path),
    ]
    assert run([*args, "--format", "csv", "-o", str(tmp_path / "out")]) == 0
    assert searches == [(SolverParams(max_iterations=5, num_neighbours=9), 4)]
