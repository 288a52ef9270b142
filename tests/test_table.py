"""The table backend: a user's own travel times from a CSV file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from geoplan.errors import InputFileError, ParameterError
from geoplan.travel.backend import BackendOptions
from geoplan.travel.matrix import Points
from geoplan.travel.table import read_table, table_from_spec
from geoplan.zones import no_closures

A = Points(("A",), np.array([13.0]), np.array([32.9]))
BC = Points(("B", "C"), np.array([13.01, 13.2]), np.array([32.9, 32.9]))


def _table(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "times.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_times_come_from_the_table(tmp_path: Path) -> None:
    """Listed pairs take the table's seconds and metres; a point to itself takes none."""
    path = _table(tmp_path, "from_id,to_id,seconds,metres\nA,B,600,5000\nA,C,1800,\n")
    matrix = read_table(path).travel_times(A, BC, no_closures())
    assert matrix.seconds.tolist() == [[600.0, 1800.0]]
    assert matrix.metres[0, 0] == 5000.0
    assert np.isnan(matrix.metres[0, 1])
    same = read_table(path).travel_times(A, A, no_closures())
    assert same.seconds.tolist() == [[0.0]]


def test_minutes_are_read_as_well(tmp_path: Path) -> None:
    """A table in minutes gives the same seconds."""
    path = _table(tmp_path, "from_id,to_id,minutes\nA,B,10\n")
    assert read_table(path).travel_times(A, BC, no_closures()).seconds[0, 0] == 600.0


def test_a_pair_the_table_lacks_is_unreachable_with_that_reason(tmp_path: Path) -> None:
    """A missing pair, or one with an empty time, cannot be driven, and says so."""
    path = _table(tmp_path, "from_id,to_id,seconds\nA,B,\n")
    matrix = read_table(path).travel_times(A, BC, no_closures())
    assert not matrix.reachable.any()
    assert set(matrix.to_frame()["reason"]) == {"pair not in the travel-time table times.csv"}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("from_id,to_id,seconds\nA,B,ten\n", "times.csv row 2, seconds: 'ten' is not a number"),
        ("from_id,to_id,seconds\nA,B,-5\n", "row 2, seconds: '-5' is not a number of 0 or more"),
        ("from,to,seconds\nA,B,5\n", "expected columns from_id, to_id and seconds"),
        ("from_id,to_id,seconds\nA,B,5\nA,B,6\n", "the pair A -> B is listed twice"),
    ],
)
def test_a_bad_table_is_refused_naming_row_and_fix(tmp_path: Path, text: str, words: str) -> None:
    """Bad numbers, missing columns and repeated pairs are refused with the row and the fix."""
    with pytest.raises(InputFileError, match=words):
        read_table(_table(tmp_path, text))


def test_the_reach_area_is_drawn_from_the_places_reached(tmp_path: Path) -> None:
    """B is reached within 15 minutes, C is not: the area holds A and B, not C."""
    path = _table(tmp_path, "from_id,to_id,seconds\nA,B,600\nA,C,1800\n")
    reach = read_table(path).reach_area(A, 15, no_closures(), places=BC)
    assert reach.geometry is not None
    assert reach.geometry.contains(shapely.Point(13.0, 32.9))
    assert reach.geometry.contains(shapely.Point(13.01, 32.9))
    assert not reach.geometry.contains(shapely.Point(13.2, 32.9))
    assert "times.csv" in reach.note


def test_the_spec_names_the_file(tmp_path: Path) -> None:
    """``table:FILE`` reads FILE; ``table`` alone says what it needs."""
    path = _table(tmp_path, "from_id,to_id,seconds\nA,B,600\n")
    assert "1 pairs" in table_from_spec(str(path), BackendOptions()).description
    with pytest.raises(ParameterError, match=r"table:FILE\.csv"):
        table_from_spec("", BackendOptions())
