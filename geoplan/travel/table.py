"""A user's own travel times: a matrix read from a CSV file.

For a programme that already has times from elsewhere (an OSRM run, a ministry's table,
times agreed with drivers). The file has one row per pair, in the form ``geoplan matrix``
writes: ``from_id``, ``to_id`` and ``seconds`` (or ``minutes``), optionally ``metres``. A pair
the file does not list is unreachable, with that reason; a point to itself takes no time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from geoplan.errors import InputFileError, ParameterError
from geoplan.travel.backend import BackendOptions, Coords, ReachArea
from geoplan.travel.matrix import (
    Points,
    TravelTimeMatrix,
    circles_around,
    matrix_from_arrays,
    zone_reasons,
)
from geoplan.zones import Closures

PLACE_RADIUS_M = 300.0
"""Radius drawn around each place a table reaches in time (a table knows no geometry)."""


@dataclass(frozen=True, eq=False)
class TableBackend:
    """Travel times looked up in a table of pairs (from :func:`read_table`)."""

    seconds: pd.Series
    """Seconds by ``(from_id, to_id)``."""
    metres: pd.Series
    """Metres by ``(from_id, to_id)``; ``NaN`` where the file gives none."""
    source: str
    name: ClassVar[str] = "table"

    @property
    def description(self) -> str:
        """What the times are based on, in one line."""
        return f"the travel-time table {self.source} ({len(self.seconds):,} pairs)"

    def travel_times(
        self, origins: Points, destinations: Points, closures: Closures
    ) -> TravelTimeMatrix:
        """The table's times for every pair; pairs it lacks are unreachable."""
        index = pd.MultiIndex.from_product([origins.ids, destinations.ids])
        shape = (len(origins.ids), len(destinations.ids))
        seconds = np.array(self.seconds.reindex(index), dtype=float).reshape(shape)
        metres = np.array(self.metres.reindex(index), dtype=float).reshape(shape)
        same = np.equal.outer(np.asarray(origins.ids), np.asarray(destinations.ids))
        seconds[same], metres[same] = 0.0, 0.0
        return matrix_from_arrays(
            origins,
            destinations,
            seconds,
            metres,
            reachable=np.isfinite(seconds),
            reasons=zone_reasons(origins, destinations, closures),
            backend=self.name,
            parameters={"source": self.source, "closures_on": closures.on},
            no_route=f"pair not in the travel-time table {self.source}",
        )

    def reach_area(
        self, origins: Points, minutes: float, closures: Closures, *, places: Points
    ) -> ReachArea:
        """Small circles around the origins and the ``places`` the table reaches in time."""
        times = self.travel_times(origins, places, closures)
        reached = (times.reachable & (times.seconds <= minutes * 60)).any(axis=0)
        keep = np.flatnonzero(reached)
        points = Points(
            (*origins.ids, *(places.ids[k] for k in keep)),
            np.concatenate([origins.lon, places.lon[keep]]),
            np.concatenate([origins.lat, places.lat[keep]]),
        )
        note = (
            f"From the travel-time table {self.source}: the sites reached within {minutes:g} "
            f"min of an open clinic or team base, each drawn {PLACE_RADIUS_M:g} m wide (the "
            "table has no roads to draw)."
        )
        return ReachArea(circles_around(points, PLACE_RADIUS_M, closures), note)

    def route_line(self, stops: Points, closures: Closures) -> Coords | None:
        """Straight legs: the table knows times, not roads."""
        return None


def read_table(path: Path) -> TableBackend:
    """Read a travel-time table: ``from_id``, ``to_id``, ``seconds`` or ``minutes``.

    Raises
    ------
    InputFileError
        Naming the file, the row and the column that cannot be read, and the fix.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputFileError(f"{path.name}: cannot read the travel-time table ({exc})") from None
    seconds = _seconds(frame, path)
    metres = _numbers(frame, "metres", path) if "metres" in frame else np.full(len(frame), np.nan)
    index = pd.MultiIndex.from_arrays([frame["from_id"], frame["to_id"]])
    if index.has_duplicates:
        pair = index[index.duplicated()][0]
        msg = f"{path.name}: the pair {pair[0]} -> {pair[1]} is listed twice; keep one row"
        raise InputFileError(msg)
    return TableBackend(pd.Series(seconds, index=index), pd.Series(metres, index=index), path.name)


def _seconds(frame: pd.DataFrame, path: Path) -> np.ndarray:
    missing = [c for c in ("from_id", "to_id") if c not in frame]
    if missing or not {"seconds", "minutes"} & set(frame.columns):
        msg = (
            f"{path.name}: expected columns from_id, to_id and seconds (or minutes), got "
            f"{', '.join(map(str, frame.columns))}"
        )
        raise InputFileError(msg)
    if "seconds" in frame:
        return _numbers(frame, "seconds", path)
    return _numbers(frame, "minutes", path) * 60


def _numbers(frame: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    """A column of non-negative numbers; an empty cell is an unreachable pair."""
    text = frame[column].astype(str).str.strip()
    values = pd.to_numeric(text.where(text != ""), errors="coerce").to_numpy(float)
    bad = np.flatnonzero((np.isnan(values) & (text != "").to_numpy()) | (values < 0))
    if len(bad):
        row = int(bad[0])
        msg = (
            f"{path.name} row {row + 2}, {column}: {text.iloc[row]!r} is not a "
            "number of 0 or more; leave the cell empty for a pair that cannot be driven"
        )
        raise InputFileError(msg)
    return values


def table_from_spec(argument: str, options: BackendOptions) -> TableBackend:
    """``--backend table:FILE.csv``: travel times from a CSV table.

    Raises
    ------
    ParameterError
        When no file is named.
    InputFileError
        As :func:`read_table`.
    """
    if not argument:
        raise ParameterError("--backend table needs a file: table:FILE.csv")
    return read_table(Path(argument))
