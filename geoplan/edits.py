"""Editing single features: create, replace, update and delete, safe against lost updates.

Every edit is validated exactly as a file import is (:func:`geoplan.imports.check_table`: the
same rules, operating area and known ids), then written with the version the editor read (see
:func:`geoplan.store.row_versions`): if someone else changed the row in between, the store
refuses the write inside its transaction and nothing is lost silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from geoplan.catalog import LayerDef, get_layer
from geoplan.errors import AlreadyExistsError, ConflictError, LayerValidationError, NotFoundError
from geoplan.imports import check_table
from geoplan.sources import WGS84, RawTable
from geoplan.store import Store, row_versions

SOURCE = "request"


@dataclass(frozen=True)
class Edit:
    """A feature as an editor sends it: raw property values (the id included) and geometry."""

    values: Mapping[str, object]
    geometry: BaseGeometry | None = None


@dataclass(frozen=True)
class Versioned:
    """One stored row (a one-row typed frame) and its version."""

    frame: pd.DataFrame
    version: str


def read_feature(store: Store, layer: str, feature_id: str) -> Versioned:
    """A row by id with its version.

    Raises
    ------
    NotFoundError
        If the layer has no row with that id.
    """
    frame = store.read(layer, ids=[feature_id])
    if frame.empty:
        raise NotFoundError(f"{layer} has no feature {feature_id!r}")
    return Versioned(frame, row_versions(layer, frame)[feature_id])


def create_feature(store: Store, layer: str, edit: Edit) -> Versioned:
    """Add a new row.

    Raises
    ------
    LayerValidationError
        If the row breaks the layer's rules; ``report`` lists every problem.
    AlreadyExistsError
        If the id is taken.
    """
    feature_id = str(edit.values[get_layer(layer).id_field])
    frame = _validated(store, layer, edit)
    try:
        store.upsert(layer, frame, expected_versions={feature_id: None})
    except ConflictError as exc:
        msg = f"{layer} already has a feature {feature_id!r}; update it or choose another id"
        raise AlreadyExistsError(msg) from exc
    return read_feature(store, layer, feature_id)


def replace_feature(
    store: Store, layer: str, feature_id: str, edit: Edit, *, version: str
) -> Versioned:
    """Replace a row whose stored version is still ``version``.

    Raises
    ------
    NotFoundError
        If there is no such row.
    ConflictError
        If the row changed since ``version`` was read.
    LayerValidationError
        If the new row breaks the layer's rules.
    """
    _expect(store, layer, feature_id, version)
    values = {**edit.values, get_layer(layer).id_field: feature_id}
    frame = _validated(store, layer, Edit(values, edit.geometry))
    store.upsert(layer, frame, expected_versions={feature_id: version})
    return read_feature(store, layer, feature_id)


def update_feature(
    store: Store,
    layer: str,
    feature_id: str,
    changes: Mapping[str, object],
    *,
    version: str,
    geometry: BaseGeometry | None = None,
) -> Versioned:
    """Change some fields of a row (None clears a field) and, if given, its geometry.

    Raises
    ------
    NotFoundError, ConflictError, LayerValidationError
        As :func:`replace_feature`.
    """
    current = _expect(store, layer, feature_id, version)
    values = {**raw_values(current.frame, get_layer(layer)), **changes}
    geom = geometry if geometry is not None else _geometry(current.frame)
    return replace_feature(store, layer, feature_id, Edit(values, geom), version=version)


def delete_feature(store: Store, layer: str, feature_id: str, *, version: str) -> None:
    """Delete a row whose stored version is still ``version``.

    Raises
    ------
    NotFoundError, ConflictError
        As :func:`replace_feature`.
    """
    _expect(store, layer, feature_id, version)
    store.delete(layer, [feature_id], expected_versions={feature_id: version})


def raw_values(frame: pd.DataFrame, layer: LayerDef) -> dict[str, object]:
    """The first row of a typed frame as plain values validation reads again unchanged."""
    row = frame.iloc[0]
    out: dict[str, object] = {}
    for f in layer.fields:
        value = row[f.name]
        if pd.isna(value):
            out[f.name] = None
        elif f.type == "date":
            out[f.name] = pd.Timestamp(value).date()
        else:
            out[f.name] = value.item() if hasattr(value, "item") else value
    return out


def _expect(store: Store, layer: str, feature_id: str, version: str) -> Versioned:
    current = read_feature(store, layer, feature_id)
    if current.version != version:
        msg = (
            f"{layer} {feature_id} was changed by someone else since you read it; "
            "read it again and reapply your change"
        )
        raise ConflictError(msg)
    return current


def _geometry(frame: pd.DataFrame) -> BaseGeometry | None:
    if not isinstance(frame, gpd.GeoDataFrame):
        return None
    geom = frame.geometry.iloc[0]
    return None if geom is None else geom


def _validated(store: Store, layer: str, edit: Edit) -> pd.DataFrame:
    definition = get_layer(layer)
    row = {name: edit.values.get(name) for name in definition.field_names}
    cells = pd.DataFrame({k: pd.Series([v], dtype=object) for k, v in row.items()})
    geometry = None
    if definition.has_geometry:
        geometry = gpd.GeoSeries([edit.geometry], crs=WGS84)
    table = RawTable(file=SOURCE, frame=cells, geometry=geometry)
    frame, report = check_table(table, layer, store=store)
    if not report.ok:
        raise LayerValidationError(report)
    return frame
