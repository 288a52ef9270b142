"""Selecting rows of a layer: by bounding box, attribute values and a date range.

Works on typed frames as :mod:`geoplan.store` reads them, so a caller can read a layer once and
answer many selections from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.catalog import FieldDef, LayerDef, Value
from geoplan.errors import ParameterError
from geoplan.store import BBox

FILTERABLE_TYPES = ("string", "integer", "number", "boolean", "enum", "enum_list")


@dataclass(frozen=True)
class DateRange:
    """Days from ``start`` to ``end``, both included; None leaves that end open."""

    start: dt.date | None = None
    end: dt.date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            msg = f"date range {self.start}/{self.end} ends before it starts; swap the two dates"
            raise ParameterError(msg)


@dataclass(frozen=True)
class RowFilter:
    """Which rows to keep.

    Parameters
    ----------
    bbox
        WEST, SOUTH, EAST, NORTH in degrees; WEST > EAST crosses the antimeridian and SOUTH >
        NORTH matches nothing.
    equals
        Field -> value; a list field matches when it holds the value.
    dates
        Days the row's time span must overlap (see :func:`time_span`); every row of a layer
        without time matches.
    """

    bbox: BBox | None = None
    equals: Mapping[str, Value] = field(default_factory=dict)
    dates: DateRange | None = None


def filterable_fields(layer: LayerDef) -> tuple[FieldDef, ...]:
    """Fields a selection may match on: codes, numbers and allowed values, never free text."""
    return tuple(
        f for f in layer.fields if f.type in FILTERABLE_TYPES and (f.type != "string" or f.pattern)
    )


def date_field(layer: LayerDef) -> str | None:
    """The field that dates a row (a visit's ``date``): the first required date field."""
    return next((f.name for f in layer.fields if f.type == "date" and f.required), None)


def time_span(layer: LayerDef) -> tuple[str, str] | None:
    """The fields giving a row's time: its first and last day, both included.

    A validity interval is a date field with another date field ``after`` it (a no-go zone's
    ``valid_from``/``valid_to``, a CIP site's ``start_date``/``end_date``); otherwise a row is
    dated by one day, its :func:`date_field` (a visit's ``date``) as both ends. None for a layer
    without time.
    """
    dates = {f.name for f in layer.fields if f.type == "date"}
    ends = ((f.after, f.name) for f in layer.fields if f.type == "date" and f.after in dates)
    span = next(ends, None)
    if span is not None:
        return span
    name = date_field(layer)
    return (name, name) if name else None


def filter_rows(frame: pd.DataFrame, layer: LayerDef, selection: RowFilter) -> pd.DataFrame:
    """The rows of a typed frame that match, in their order.

    Raises
    ------
    ParameterError
        If ``equals`` names a field that cannot be matched on.
    """
    keep = np.ones(len(frame), dtype=bool)
    if selection.bbox is not None and isinstance(frame, gpd.GeoDataFrame):
        keep &= _in_bbox(frame, selection.bbox)
    for name, value in selection.equals.items():
        keep &= _equals(frame, _filter_field(layer, name), value)
    if selection.dates is not None:
        keep &= _in_range(frame, layer, selection.dates)
    return frame.loc[keep]


def _filter_field(layer: LayerDef, name: str) -> FieldDef:
    allowed = {f.name: f for f in filterable_fields(layer)}
    if name not in allowed:
        msg = f"layer {layer.name} cannot be selected by {name!r}; use one of {', '.join(allowed)}"
        raise ParameterError(msg)
    return allowed[name]


def _in_bbox(frame: gpd.GeoDataFrame, bbox: BBox) -> np.ndarray:
    west, south, east, north = bbox
    if south > north:
        return np.zeros(len(frame), dtype=bool)
    boxes = (
        [(west, south, east, north)]
        if west <= east
        else [(west, south, 180, north), (-180, south, east, north)]
    )
    if (frame.geom_type == "Point").all():
        x, y = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
        hits = [(x >= w) & (x <= e) & (y >= s) & (y <= n) for w, s, e, n in boxes]
    else:
        hits = [frame.intersects(shapely.box(*b)).to_numpy() for b in boxes]
    return np.logical_or.reduce(hits)


def _equals(frame: pd.DataFrame, f: FieldDef, value: Value) -> np.ndarray:
    column = frame[f.name]
    if f.type == "enum_list":
        items = column.astype(object).where(column.notna(), "")
        return np.array([str(value) in str(v).split(",") for v in items], dtype=bool)
    return (column == value).fillna(False).to_numpy(dtype=bool)


def _in_range(frame: pd.DataFrame, layer: LayerDef, dates: DateRange) -> np.ndarray:
    """Rows whose time span overlaps ``dates``: a visit on one of its days, a zone or a site
    valid on at least one of them. An empty end of a validity interval is open (a zone still
    closed); a row dated by one day needs that day. Layers without time keep every row."""
    span = time_span(layer)
    if span is None:
        return np.ones(len(frame), dtype=bool)
    first, last = (pd.to_datetime(frame[name]) for name in span)
    if span[0] == span[1]:  # one day: a row without it has no time to match
        keep = np.array(first.notna().to_numpy(dtype=bool), copy=True)  # pandas may hand a view
    else:
        keep = np.ones(len(frame), dtype=bool)
    if dates.start is not None:  # the row ends on or after the start (or never ends)
        keep &= (last.isna() | (last >= pd.Timestamp(dates.start))).to_numpy(dtype=bool)
    if dates.end is not None:  # the row starts on or before the end (or has no start)
        keep &= (first.isna() | (first <= pd.Timestamp(dates.end))).to_numpy(dtype=bool)
    return keep
