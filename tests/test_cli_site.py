"""`geoplan site show` and `geoplan site set` on a real GeoPackage workspace."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from geoplan.cli import run
from geoplan.demo.scenario import build_demo_workspace
from geoplan.imports import import_file
from geoplan.planning import PLANNED_LAYERS, tasks_for_week, week_days
from geoplan.store import open_store
from geoplan.vocab import LeftOutReason
from geoplan.workspace import plan_week_from_store

TODAY = dt.date(2026, 11, 25)
WEEK = "2026-W49"


@pytest.fixture
def workspace(workspace_name: str, fixtures: Path) -> str:
    """Three gathering points, in a GeoPackage and then in PostGIS."""
    store = open_store(workspace_name)
    import_file(fixtures / "valid" / "gathering_points.csv", "gathering_points", store=store)
    return workspace_name


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("site") / "geoplan.gpkg"
    build_demo_workspace(path, seed=7, sites=25, visits=200, today=TODAY)
    return path


def test_show_prints_the_layer_and_every_field(
    workspace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Text names the layer and lists every field; JSON carries the same for programs."""
    assert run(["site", "show", "GP-3", "-w", workspace]) == 0
    text = capsys.readouterr().out
    assert "GP-3 (Gathering points, layer gathering_points)" in text
    assert "access_reason" in text
    assert "(empty)" in text
    assert run(["site", "show", "GP-3", "--format", "json", "-w", workspace]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["site"], shown["layer"]) == ("GP-3", "gathering_points")
    assert shown["fields"]["setting"] == "shelter"


def test_show_an_unknown_id_suggests_one(
    workspace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped id exits 1 with a did-you-mean and no traceback."""
    assert run(["site", "show", "GP-33", "-w", workspace]) == 1
    text = capsys.readouterr().err
    assert "no site has the id 'GP-33' (did you mean GP-3" in text
    assert "Traceback" not in text


def test_set_prints_old_and_new_and_writes(
    workspace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each changed field is printed old -> new and the workspace holds the new values."""
    args = ["site", "set", "GP-1", "access_status=inaccessible", "access_reason=checkpoint closed"]
    assert run([*args, "-w", workspace]) == 0
    text = capsys.readouterr().out
    assert "access_status: open -> inaccessible" in text
    assert "access_reason: (empty) -> checkpoint closed" in text
    row = open_store(workspace).read("gathering_points", ids=["GP-1"]).iloc[0]
    assert (row["access_status"], row["access_reason"]) == ("inaccessible", "checkpoint closed")


def test_set_json_answer(workspace: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--format json gives the site, its layer and per changed field the old and new value."""
    args = ["site", "set", "GP-2", "visit_frequency_days=7", "--format", "json", "-w", workspace]
    assert run(args) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer == {
        "site": "GP-2",
        "layer": "gathering_points",
        "changed": {"visit_frequency_days": {"old": 21, "new": 7}},
    }


@pytest.mark.parametrize(
    ("assignment", "code", "words"),
    [
        ("acces_status=open", 2, "did you mean access_status?"),
        ("access_status", 2, "is not FIELD=VALUE"),
        ("people=-4", 1, "negative values are not allowed"),
        ("access_status=closed", 1, "allowed: open, restricted, inaccessible"),
    ],
)
def test_set_refuses_bad_input_and_writes_nothing(
    workspace: str, assignment: str, code: int, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown field or a bad value is refused in plain words; the site is unchanged."""
    before = open_store(workspace).read("gathering_points", ids=["GP-1"])
    assert run(["site", "set", "GP-1", assignment, "-w", workspace]) == code
    printed = capsys.readouterr()
    assert words in printed.out + printed.err
    assert "Traceback" not in printed.err
    after = open_store(workspace).read("gathering_points", ids=["GP-1"])
    assert after.equals(before)


def test_a_site_set_inaccessible_is_left_out_of_the_next_plan(
    demo_template: Path, tmp_path: Path
) -> None:
    """After `site set ID access_status=inaccessible` the plan leaves that site out, reason
    inaccessible, and schedules no stop there."""
    path = tmp_path / "geoplan.gpkg"
    shutil.copy(demo_template, path)
    store = open_store(path)
    days = week_days(WEEK)
    sites = {layer: store.read(layer) for layer in PLANNED_LAYERS}
    tasks = tasks_for_week(sites, store.read("outreach_visits"), days)
    site_id = next(t.site_id for t in tasks if t.layer == "gathering_points")
    assert run(["site", "set", site_id, "access_status=inaccessible", "-w", str(path)]) == 0
    plan = plan_week_from_store(store, week=WEEK, time_limit=1, seed=1)
    reasons = {lo.reason for lo in plan.left_out if lo.task.site_id == site_id}
    assert reasons == {LeftOutReason.INACCESSIBLE}
    assert site_id not in {stop.task.site_id for stop in plan.stops}
