"""Between typed frames and GeoJSON: rows out as features, request features in as edits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
import shapely.geometry
from pydantic import BaseModel
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry

from api.models import property_fields, viewer_fields
from geoplan.catalog import FieldDef, LayerDef
from geoplan.edits import Edit
from geoplan.protect import CELL_COLUMN

JsonValue = str | int | float | bool | list[str] | None


def feature_dicts(frame: pd.DataFrame, layer: LayerDef, *, viewer: bool) -> list[dict[str, Any]]:
    """Rows as GeoJSON feature dictionaries, column by column (fast for large pages).

    ``viewer``: ``frame`` is generalised (see :func:`geoplan.protect.generalise_points`), and
    only what a viewer may see is copied, with the H3 cell.
    """
    fields = viewer_fields(layer) if viewer else property_fields(layer)
    columns = {f.name: _json_column(f, frame[f.name]) for f in fields}
    if viewer:
        columns[CELL_COLUMN] = [str(c) for c in frame[CELL_COLUMN]]
    names = list(columns)
    rows = zip(*columns.values(), strict=True) if names else iter([()] * len(frame))
    ids = [str(v) for v in frame[layer.id_field]]
    geoms = _geometries(frame)
    return [
        {
            "type": "Feature",
            "id": fid,
            "geometry": geom,
            "properties": dict(zip(names, row, strict=True)),
        }
        for fid, geom, row in zip(ids, geoms, rows, strict=True)
    ]


def _json_column(f: FieldDef, series: pd.Series) -> list[JsonValue]:
    missing = series.isna().to_numpy()
    if f.type == "date":
        days = [None if m else v.date().isoformat() for v, m in zip(series, missing, strict=True)]
        return list(days)
    if f.type == "enum_list":
        return [None if m else str(v).split(",") for v, m in zip(series, missing, strict=True)]
    convert = {"integer": int, "number": float, "boolean": bool}.get(f.type, str)
    return [None if m else convert(v) for v, m in zip(series, missing, strict=True)]


def _geometries(frame: pd.DataFrame) -> list[dict[str, Any] | None]:
    if not isinstance(frame, gpd.GeoDataFrame):
        return [None] * len(frame)
    if len(frame) and (frame.geom_type == "Point").all():
        xs, ys = frame.geometry.x.tolist(), frame.geometry.y.tolist()
        return [{"type": "Point", "coordinates": (x, y)} for x, y in zip(xs, ys, strict=True)]
    return [None if g is None else dict(shapely.geometry.mapping(g)) for g in frame.geometry]


def shape_of(geometry: BaseModel | None) -> BaseGeometry | None:
    """A request geometry as a shapely geometry.

    Raises
    ------
    ValueError
        If GEOS cannot build it (the message says why).
    """
    if geometry is None:
        return None
    try:
        return shapely.geometry.shape(geometry.model_dump())
    except (GEOSException, ValueError, TypeError) as exc:
        raise ValueError(f"geometry cannot be built: {exc}") from None


def edit_from(
    layer: LayerDef, feature_id: str, properties: Mapping[str, Any], geometry: BaseModel | None
) -> Edit:
    """An edit (what :mod:`geoplan.edits` validates) from a request's parts."""
    return Edit({**properties, layer.id_field: feature_id}, shape_of(geometry))
