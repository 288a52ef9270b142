"""Tiny hand-checkable planning instances: sites, teams and a matrix in round minutes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.catalog import get_layer
from geoplan.layers import validate_table
from geoplan.planning import base_location
from geoplan.sources import RawTable
from geoplan.travel.matrix import TravelTimeMatrix

WEEK = tuple(dt.date(2026, 11, 29) + dt.timedelta(days=i) for i in range(7))
SUNDAY = WEEK[0]


def layer(name: str, records: Sequence[Mapping[str, object]]) -> gpd.GeoDataFrame | pd.DataFrame:
    """A validated layer frame from plain records (``lon``/``lat`` for points)."""
    frame = pd.DataFrame.from_records(records).astype(object)
    has_xy = "lon" in frame
    table = RawTable(
        "fixture", frame, lon_column="lon" if has_xy else None, lat_column="lat" if has_xy else None
    )
    out, report = validate_table(table, get_layer(name))
    assert report.ok, report.summary()
    return out


def site(sid: str, lon: float, **extra: object) -> dict[str, object]:
    """A gathering point needing health every 14 days, never visited, 10 people."""
    return {
        "id": sid,
        "name": f"Site {sid}",
        "setting": "camp",
        "people": 10,
        "services_needed": "health",
        "visit_frequency_days": 14,
        "lon": lon,
        "lat": 32.9,
        **extra,
    }


def team(tid: str, **extra: object) -> dict[str, object]:
    """A medical team working Sundays 08:00-10:30 from the base at 13.0E."""
    return {
        "id": tid,
        "name": f"Team {tid}",
        "kind": "medical",
        "services": "health",
        "working_days": "sun",
        "shift_start": "08:00",
        "shift_end": "10:30",
        "lon": 13.0,
        "lat": 32.9,
        **extra,
    }


def minutes_matrix(
    ids: Sequence[str], minutes: Mapping[tuple[str, str], float]
) -> TravelTimeMatrix:
    """A symmetric matrix from round minutes (1 km per minute); missing pairs are unreachable."""
    n = len(ids)
    seconds = np.full((n, n), np.nan)
    np.fill_diagonal(seconds, 0.0)
    for (a, b), m in minutes.items():
        i, j = ids.index(a), ids.index(b)
        seconds[i, j] = seconds[j, i] = m * 60
    reachable = ~np.isnan(seconds)
    return TravelTimeMatrix(
        tuple(ids), tuple(ids), seconds, seconds * 1000 / 60, reachable, backend="fixture"
    )


def four_site_matrix(team_ids: Sequence[str] = ("T1", "T2")) -> TravelTimeMatrix:
    """Base 10 min from A and B, 20 from C and D; A-B and C-D 5 min apart, A/B-C/D 25."""
    bases = [base_location(t) for t in team_ids]
    ids = [*bases, "A", "B", "C", "D"]
    minutes: dict[tuple[str, str], float] = {("A", "B"): 5, ("C", "D"): 5}
    for a in "AB":
        for c in "CD":
            minutes[(a, c)] = 25
    for base in bases:
        minutes.update({(base, "A"): 10, (base, "B"): 10, (base, "C"): 20, (base, "D"): 20})
        for other in bases:
            if other != base:
                minutes[(base, other)] = 0
    return minutes_matrix(ids, minutes)
