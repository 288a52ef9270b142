"""`geoplan plan` end to end on a small demo workspace, and the demo's planning stage."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import subprocess
from pathlib import Path

import pytest

from geoplan.cli import run
from geoplan.demo.run import DemoOptions, run_demo
from geoplan.demo.scenario import build_demo_workspace
from geoplan.params import load_params
from geoplan.planning import PlanningParams, WeekPlan, week_days
from geoplan.store import open_store
from tests.planning_fixtures import layer, site, team

TODAY = dt.date(2026, 11, 25)  # a Wednesday: the coming week starts on Sunday 29 November
WEEK = "2026-W49"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plan") / "geoplan.gpkg"
    build_demo_workspace(path, seed=7, sites=25, visits=200, today=TODAY)
    return path


@pytest.fixture(scope="module")
def planned(workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One full run of the installed command: its output folder and what it printed."""
    out = tmp_path_factory.mktemp("out") / "week49"
    args = ["plan", "-w", str(workspace), "--week", WEEK, "--time-limit", "2", "--seed", "3"]
    proc = subprocess.run(
        ["geoplan", *args, "-o", str(out)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    return out, proc.stdout


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_plan_writes_every_schedule_and_prints_the_summary(planned: tuple[Path, str]) -> None:
    """Exit 0; the summary names the week and the visits; every output is in the folder."""
    out, printed = planned
    assert "Week Sun 29 Nov - Thu 03 Dec 2026" in printed
    assert f"to {out}" in printed
    stops = rows(out / "schedule.csv")
    visits = int(printed.split(": ", 1)[1].split(" visits")[0])
    assert len(stops) == visits > 0
    team_days = {(r["team_id"], r["date"]) for r in stops}
    assert len(list((out / "html").glob("*_*.html"))) == len(team_days)
    assert len(list((out / "gpx").glob("*.gpx"))) == len(team_days)
    for name in ("schedule.xlsx", "left_out.csv", "plan.geojson", "html/index.html"):
        assert (out / name).is_file()
    assert {r["date"] for r in stops} <= {d.isoformat() for d in week_days(WEEK)[:5]}


def test_plan_for_some_teams_with_a_pin_and_chosen_formats(
    workspace: Path, planned: tuple[Path, str], tmp_path: Path
) -> None:
    """--teams plans only those teams, --pin moves a visit to the day asked, --format limits files."""
    first = rows(planned[0] / "schedule.csv")
    visit = next(
        r
        for r in first
        if r["team_id"] == "MED-TRP"
        and r["layer"] == "gathering_points"
        and "#" not in r["task_id"]
    )
    other = next(d for d in ("sun", "mon", "tue", "wed", "thu") if d != visit["weekday"].lower())
    pin = f"{visit['site_id']}:MED-TRP:{other}:{visit['service']}"
    out = tmp_path / "out"
    args = ["plan", "-w", str(workspace), "--week", WEEK, "--time-limit", "1", "-o", str(out)]
    assert run([*args, "--teams", "MED-TRP", "--pin", pin, "--format", "csv,gpx"]) == 0
    again = rows(out / "schedule.csv")
    assert {r["team_id"] for r in again} == {"MED-TRP"}
    pinned = [r["weekday"].lower() for r in again if r["task_id"] == visit["task_id"]]
    assert pinned == [other]
    assert sorted(p.name for p in out.iterdir()) == ["gpx", "left_out.csv", "schedule.csv"]


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        (["--week", "2026-W99"], 2),
        (["--pin", "only-two:parts"], 2),
        (["--teams", "NOPE"], 2),
        (["--format", "csv,pdf"], 2),
        (["--time-limit", "0"], 2),
        (["--pin", "NO-SUCH-SITE:PROT-1:mon"], 1),
    ],
)
def test_plan_refuses_bad_options_plainly(
    workspace: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    code: int,
) -> None:
    """Bad week, pin, team, format or time limit: exit 2; a pin the plan cannot keep: exit 1."""
    args = ["plan", "-w", str(workspace), "--time-limit", "1", "-o", str(tmp_path / "o")]
    assert run([*args, *extra]) == code
    printed = capsys.readouterr().err
    assert "error" in printed
    assert "Traceback" not in printed


BAD_PINS = {
    "malformed": (
        ["only-two:parts", "GP-0001:PROT-1:mon", "one"],
        2,
        ("'only-two:parts'", "'one'"),
    ),
    "unknown": (
        ["NO-SUCH-SITE:PROT-1:mon", "GP-0001:NO-TEAM:mon", "GP-0001:PROT-1:someday"],
        1,
        ("no site 'NO-SUCH-SITE'", "team 'NO-TEAM' is not planned", "'someday' is not a day"),
    ),
}


@pytest.mark.parametrize("case", BAD_PINS.values(), ids=BAD_PINS.keys())
def test_every_bad_pin_is_reported_at_once(
    workspace: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: tuple[list[str], int, tuple[str, ...]],
) -> None:
    """Malformed pins (exit 2), or pins on unknown sites, teams or days (exit 1): all named."""
    pins, code, named = case
    args = ["plan", "-w", str(workspace), "--time-limit", "1", "-o", str(tmp_path / "o")]
    assert run([*args, *(f"--pin={p}" for p in pins)]) == code
    printed = " ".join(capsys.readouterr().err.split())
    for words in named:
        assert words in printed, printed


def test_plan_without_a_workspace_says_how_to_make_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing workspace is a usage error that points to `geoplan demo`."""
    assert run(["plan", "-w", str(tmp_path / "none.gpkg")]) == 2
    assert "geoplan demo" in capsys.readouterr().err


def test_plan_help_teaches_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    """`geoplan plan --help` shows the options and examples."""
    assert run(["plan", "--help"]) == 0
    text = capsys.readouterr().out
    for word in ("--week", "--pin", "--time-limit", "--roads", "--format", "geoplan plan --week"):
        assert word in text


def test_demo_plans_the_coming_week(tmp_path: Path) -> None:
    """The demo plans the week from the next Sunday after today and writes its schedules."""
    options = DemoOptions(sites=20, visits=150, today=TODAY, time_limit=1.0)
    result = run_demo(tmp_path / "demo", options=options)
    plan = result.results["plan"]
    assert isinstance(plan, WeekPlan)
    assert plan.days[0] == dt.date(2026, 11, 29)
    assert plan.routes
    assert any(line.startswith("Plan for the coming week") for line in result.lines)
    assert result.outputs["plan_pages"] == tmp_path / "demo" / "plan" / "html" / "index.html"
    assert len(rows(result.outputs["plan_schedule_csv"])) == len(plan.stops)


def test_example_parameters_file_documents_the_defaults() -> None:
    """examples/planning.toml loads and holds exactly the default parameters, each commented."""
    path = Path(__file__).resolve().parents[1] / "examples" / "planning.toml"
    assert load_params(path).planning == PlanningParams()
    lines = path.read_text(encoding="utf-8").splitlines()
    for k, line in enumerate(lines):
        if re.match(r"^#? ?[a-z_]+ = ", line) and not line.startswith(("# detour", "# speed")):
            documented = lines[k - 1].startswith("#") or " # " in line
            assert documented, f"line {k + 1} has no comment: {line}"


def test_plan_on_roads_draws_the_routes_along_them(
    fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--roads plans on the extract's roads: the route line follows them across the bridge."""
    monkeypatch.setenv("GEOPLAN_CACHE_DIR", str(tmp_path / "cache"))
    store = open_store(tmp_path / "roads.gpkg")
    store.upsert("teams", layer("teams", [team("T1", lon=0.0, lat=0.0, shift_end="15:00")]))
    gps = [{**site("S", 0.0100), "lat": 0.0}, {**site("R", 0.0040), "lat": 0.0030}]
    store.upsert("gathering_points", layer("gathering_points", gps))
    out = tmp_path / "out"
    args = ["plan", "-w", str(tmp_path / "roads.gpkg"), "--week", WEEK, "--time-limit", "1"]
    roads = str(fixtures / "roads_bridge_shortcut.osm")
    assert run([*args, "--roads", roads, "--format", "geojson", "-o", str(out)]) == 0
    data = json.loads((out / "plan.geojson").read_text(encoding="utf-8"))
    (line,) = [f for f in data["features"] if f["properties"]["kind"] == "route"]
    assert line["properties"]["geometry"] == "roads"
    assert [0.006, 0.0] in line["geometry"]["coordinates"]  # the bridge node
