"""Team absences: `--away TEAM:DAY`, the team_absences layer, and plans that honour both."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from geoplan.absences import Absence, absences_from_frame, away_on, parse_away
from geoplan.cli import run
from geoplan.errors import LayerValidationError, ParameterError, PlanningError
from geoplan.imports import import_file
from geoplan.planning import Pin, week_days
from geoplan.store import Store, open_store
from geoplan.workspace import plan_week_from_store

WEEK = "2026-W49"  # Sunday 29 November to Saturday 5 December 2026
DAYS = week_days(WEEK)
TEAMS = ("T-MED", "T-MRRM")


@pytest.fixture
def workspace(workspace_name: str, fixtures: Path) -> str:
    """The valid fixtures' teams, sites and visits, in a GeoPackage and then in PostGIS."""
    store = open_store(workspace_name)
    for name in ("teams", "gathering_points", "outreach_visits"):
        import_file(fixtures / "valid" / f"{name}.csv", name, store=store)
    return workspace_name


def write_absences(folder: Path, text: str) -> Path:
    path = folder / "absences.csv"
    path.write_text("id,team,from,to,reason\n" + text, encoding="utf-8")
    return path


def team_days_planned(store: Store, **options: object) -> set[tuple[str, dt.date]]:
    plan = plan_week_from_store(store, week=WEEK, time_limit=1, seed=1, **options)  # type: ignore[arg-type]
    return {(r.team_id, r.day) for r in plan.routes if r.stops}


# --- parsing ------------------------------------------------------------------------------


def test_parse_away_reads_weekdays_and_dates_of_the_week() -> None:
    """TEAM:DAY with sun..sat or a date of the week gives a one-day absence."""
    found = parse_away(["T-MED:tue", "T-MRRM:2026-12-03"], team_ids=TEAMS, days=DAYS)
    assert found == (
        Absence("T-MED", dt.date(2026, 12, 1), dt.date(2026, 12, 1)),
        Absence("T-MRRM", dt.date(2026, 12, 3), dt.date(2026, 12, 3)),
    )
    assert parse_away(["T:1:Mon"], team_ids=["T:1"], days=DAYS)[0].start == DAYS[1]


def test_parse_away_names_every_problem_at_once() -> None:
    """An unknown team (with a suggestion), a day outside the week and a text without a day
    are all named in one error."""
    with pytest.raises(ParameterError) as raised:
        parse_away(["T-MEX:tue", "T-MED:2026-12-09", "T-MED"], team_ids=TEAMS, days=DAYS)
    text = str(raised.value)
    assert "unknown team 'T-MEX' (did you mean T-MED?); teams: T-MED, T-MRRM" in text
    assert "'2026-12-09' is not a day of the week planned (Sun 29 Nov to Sat 5 Dec)" in text
    assert "'T-MED': expected TEAM:DAY" in text


def test_an_absence_covers_its_days_and_says_why() -> None:
    """Both ends are included; the words name the team, the day and the reason."""
    leave = Absence("T-MED", DAYS[1], DAYS[3], "leave")
    assert [leave.covers("T-MED", d) for d in DAYS] == [False, True, True, True] + [False] * 3
    assert not leave.covers("T-MRRM", DAYS[2])
    assert away_on([leave], "T-MED", DAYS[2]) is leave
    assert leave.says(DAYS[2]) == "team T-MED is away on Tue 1 Dec (leave)"
    assert Absence("T-MED", DAYS[2], DAYS[2]).says(DAYS[2]) == "team T-MED is away on Tue 1 Dec"
    with pytest.raises(ParameterError, match="ends 2026-11-29 before it starts 2026-12-01"):
        Absence("T-MED", DAYS[2], DAYS[0])


# --- the layer ----------------------------------------------------------------------------


def test_the_layer_imports_and_reads_back_as_absences(workspace: str, tmp_path: Path) -> None:
    """team_absences imports through the ordinary import; an empty reason stays empty."""
    store = open_store(workspace)
    rows = "A-1,T-MED,2026-11-30,2026-12-01,leave\nA-2,T-MRRM,2026-12-03,2026-12-03,\n"
    import_file(write_absences(tmp_path, rows), "team_absences", store=store)
    assert absences_from_frame(store.read("team_absences")) == (
        Absence("T-MED", DAYS[1], DAYS[2], "leave"),
        Absence("T-MRRM", DAYS[4], DAYS[4]),
    )
    assert absences_from_frame(pd.DataFrame()) == ()


def test_the_layer_refuses_unknown_teams_and_reversed_days(workspace: str, tmp_path: Path) -> None:
    """An unknown team, `to` before `from` and a missing `from` are each named; nothing lands."""
    store = open_store(workspace)
    rows = "A-1,T-MEX,2026-12-01,2026-12-02,\nA-2,T-MED,2026-12-02,2026-12-01,\nA-3,T-MED,,2026-12-01,\n"
    with pytest.raises(LayerValidationError) as raised:
        import_file(write_absences(tmp_path, rows), "team_absences", store=store)
    found = {(p.row, p.field) for p in raised.value.report.errors}
    assert found == {(1, "team"), (2, "to"), (3, "from")}
    assert store.read("team_absences").empty


def test_plans_honour_the_layer_and_away(workspace: str, tmp_path: Path) -> None:
    """plan_week_from_store gives no work on the layer's days nor on `away`'s."""
    store = open_store(workspace)
    rows = "A-1,T-MED,2026-11-29,2026-12-01,leave\n"
    import_file(write_absences(tmp_path, rows), "team_absences", store=store)
    planned = team_days_planned(store, away=["T-MRRM:sun", "T-MED:wed"])
    assert planned, "the week still has work for someone"
    away = {("T-MED", d) for d in DAYS[:4]} | {("T-MRRM", DAYS[0])}
    assert not planned & away


def test_a_pin_on_an_away_day_is_refused_in_plain_words(workspace: str) -> None:
    """The error names the team, the day and the reason (none given on --away)."""
    store = open_store(workspace)
    with pytest.raises(PlanningError, match="pin GP-1:T-MED:mon: team T-MED is away on Mon 30 Nov"):
        plan_week_from_store(
            store, week=WEEK, away=["T-MED:mon"], pins=[Pin("GP-1", "T-MED", "mon")], time_limit=1
        )


# --- the command --------------------------------------------------------------------------


def test_plan_away_leaves_the_team_day_empty(
    workspace: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`geoplan plan --away` gives the team no stop that day; a bad --away exits 2 in words."""
    out = tmp_path / "plan"
    args = ["plan", "-w", str(workspace), "--week", WEEK, "--time-limit", "1", "-o", str(out)]
    assert run([*args, "--away", "T-MED:sun", "--away", "T-MED:mon", "--format", "csv"]) == 0
    with (out / "schedule.csv").open(encoding="utf-8", newline="") as stream:
        stops = list(csv.DictReader(stream))
    assert stops
    assert not [r for r in stops if r["team_id"] == "T-MED" and r["date"] <= "2026-11-30"]
    capsys.readouterr()
    assert run([*args, "--away", "T-MED:friday"]) == 2
    assert "'friday' is not a day of the week planned" in capsys.readouterr().err
