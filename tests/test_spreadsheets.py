"""Spreadsheets as people write them: one test per habit, each with its file named after it
(``tests/data/habits/``), checked through the real import path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from geoplan.errors import LayerValidationError
from geoplan.imports import check_file, import_file
from geoplan.report import ValidationReport
from geoplan.spreadsheets import closest_ids, read_clock, read_days, read_time_range
from geoplan.store import Store, open_store

WEEK = ("sun", "mon", "tue", "wed", "thu")


@pytest.fixture
def store(fixtures: Path, tmp_path: Path) -> Store:
    """The gathering points (GP-1..3) and teams (T-MED, T-MRRM) of ``tests/data/valid``."""
    store = open_store(tmp_path / "ws.gpkg")
    for layer in ("gathering_points", "teams"):
        import_file(fixtures / "valid" / f"{layer}.csv", layer, store=store)
    return store


def _habit(fixtures: Path, name: str) -> Path:
    return fixtures / "habits" / name


def _check(path: Path, layer: str, store: Store) -> tuple[pd.DataFrame, ValidationReport]:
    frame, report, _ = check_file(path, layer, store=store)
    return frame, report


def _shifts(frame: pd.DataFrame) -> dict[str, tuple[str, str]]:
    return {r.id: (r.shift_start, r.shift_end) for r in frame.itertuples()}


# --- a time range in one cell -------------------------------------------------------------


def test_shift_in_one_cell_xlsx(tmp_path: Path, store: Store) -> None:
    """An Excel `Shift` column holding 8:00-16:00 gives shift_start and shift_end, not the
    08:00-15:00 default."""
    path = tmp_path / "shift_in_one_cell.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "name", "kind", "services", "Shift", "lon", "lat"])
    sheet.append(["T-1", "Medical team 1", "medical", "health", "8:00-16:00", 13.19, 32.87])
    book.save(path)
    frame, report = _check(path, "teams", store)
    assert report.ok
    assert not report.warnings  # the column is read, not dropped as unused
    assert _shifts(frame) == {"T-1": ("08:00", "16:00")}


def test_shift_with_h(fixtures: Path, store: Store) -> None:
    """08h00 - 16h00 and 7h30-14h are read as clock times."""
    frame, report = _check(_habit(fixtures, "shift_with_h.csv"), "teams", store)
    assert report.ok
    assert _shifts(frame) == {"T-1": ("08:00", "16:00"), "T-2": ("07:30", "14:00")}


def test_shift_range_in_start_cell(fixtures: Path, store: Store) -> None:
    """A range typed into shift_start with shift_end left empty fills both."""
    frame, report = _check(_habit(fixtures, "shift_range_in_start_cell.csv"), "teams", store)
    assert report.ok
    assert _shifts(frame) == {"T-1": ("08:00", "16:00")}


def test_shift_unreadable(fixtures: Path, store: Store) -> None:
    """A shift that cannot be read is refused with its row and the fix, never defaulted; 8-4
    is pointed to 08:00-16:00."""
    with pytest.raises(LayerValidationError) as caught:
        import_file(_habit(fixtures, "shift_unreadable.csv"), "teams", store=store)
    errors = {p.row: p for p in caught.value.report.errors}
    assert set(errors) == {2, 3}
    assert {p.rule for p in errors.values()} == {"bad-time-range"}
    assert all(p.field == "shift" and "HH:MM-HH:MM" in p.fix for p in errors.values())
    assert "08:00-16:00" in errors[3].message
    assert store.ids("teams") == frozenset({"T-MED", "T-MRRM"})


def test_shift_conflicting_columns(fixtures: Path, store: Store) -> None:
    """A shift column that disagrees with shift_end in the same row is an error."""
    _, report = _check(_habit(fixtures, "shift_conflicting_columns.csv"), "teams", store)
    assert [(p.row, p.rule) for p in report.errors] == [(1, "conflicting-times")]


# --- day ranges ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["day_range_dash.csv", "day_range_dots.csv", "day_range_osm.csv"])
def test_day_range(fixtures: Path, store: Store, name: str) -> None:
    """Sun-Thu, sun..thu and OSM's Su-Th are the working week Sunday to Thursday."""
    frame, report = _check(_habit(fixtures, name), "teams", store)
    assert report.ok, report.summary()
    assert frame.set_index("id").loc["T-1", "working_days"] == ",".join(WEEK)


def test_day_range_wraps_the_week(fixtures: Path, store: Store) -> None:
    """Thu - Sat is Thursday, Friday, Saturday."""
    frame, _ = _check(_habit(fixtures, "day_range_dash.csv"), "teams", store)
    assert frame.set_index("id").loc["T-2", "working_days"] == "thu,fri,sat"


def test_day_range_in_words(fixtures: Path, store: Store) -> None:
    """Sunday to Thursday, and a range with a single day after it (Sun-Tue, Thu)."""
    frame, report = _check(_habit(fixtures, "day_range_in_words.csv"), "teams", store)
    assert report.ok, report.summary()
    days = frame.set_index("id")["working_days"].to_dict()
    assert days == {"T-1": ",".join(WEEK), "T-2": "sun,mon,tue,thu"}


# --- did you mean -------------------------------------------------------------------------


def test_site_id_typo(fixtures: Path, store: Store) -> None:
    """A visit's unknown site id is answered with the closest known ids."""
    _, report = _check(_habit(fixtures, "site_id_typo.csv"), "outreach_visits", store)
    (problem,) = report.errors
    assert (problem.row, problem.field, problem.rule) == (1, "site_id", "unknown-reference")
    assert "did you mean GP-1" in problem.message


def test_team_id_typo(fixtures: Path, store: Store) -> None:
    """A visit's unknown team id gets the closest team id."""
    _, report = _check(_habit(fixtures, "team_id_typo.csv"), "outreach_visits", store)
    (problem,) = report.errors
    assert problem.field == "team_id"
    assert "did you mean T-MED" in problem.message


def test_closest_ids_knows_look_alike_characters() -> None:
    """GP-O132 (letter O) is GP-0132 (digit zero)."""
    known = ["GP-0132", "GP-0123", "GP-1320", "T-1"]
    assert closest_ids("GP-O132", known)[0] == "GP-0132"
    assert closest_ids("XYZ", known) == []


# --- list separators ----------------------------------------------------------------------


def test_list_separators_comma_and_semicolon(fixtures: Path, store: Store) -> None:
    """`health;nfi` and `health,nfi` are the same list."""
    frames = [
        _check(_habit(fixtures, f"list_separators_{kind}.csv"), "teams", store)[0]
        for kind in ("comma", "semicolon")
    ]
    for frame in frames:
        row = frame.iloc[0]
        assert (row["services"], row["working_days"]) == ("health,nfi", "sun,mon,tue")


# --- the text functions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        ("8:00", "08:00"),
        ("08h00", "08:00"),
        ("8h", "08:00"),
        ("16:30:00", "16:30"),
        ("4pm", "16:00"),
        ("12am", "00:00"),
    ],
)
def test_read_clock(text: str, clock: str) -> None:
    """Clock times as people type them."""
    assert read_clock(text) == clock


@pytest.mark.parametrize("text", ["25:00", "8:75", "13pm", "eight", "8:5"])
def test_read_clock_refuses(text: str) -> None:
    """Times that are not times are refused with the expected form."""
    with pytest.raises(ValueError, match="HH:MM"):
        read_clock(text)


def test_read_time_range_forms() -> None:
    """Dashes, en dashes, `to` and am/pm all give a start and an end."""
    for text in ("8:00-16:00", "08h00 - 16h00", "8:00 \u2013 16:00", "8am to 4pm", "8..16"):
        assert read_time_range(text) == ("08:00", "16:00")


def test_read_days_keeps_unknown_words() -> None:
    """A word that is no day stays as written, so that validation names it."""
    assert read_days("sun, funday") == ("sun", "funday")


def test_opening_hours_osm_style(fixtures: Path, store: Store) -> None:
    """An OSM-style `opening_hours` of `Su-Th 08:00-14:00` fills the opening days and hours;
    two ranges in a day are refused on their row (one opening range per clinic)."""
    frame, report = _check(_habit(fixtures, "opening_hours_osm_style.csv"), "clinics", store)
    clinic = frame.set_index("id").loc["CL-1"]
    assert (clinic["opening_start"], clinic["opening_end"]) == ("08:00", "14:00")
    assert clinic["opening_days"] == ",".join(WEEK)
    assert [(p.row, p.rule, p.field) for p in report.errors] == [
        (2, "bad-time-range", "opening_hours")
    ]
