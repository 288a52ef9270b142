"""Editing single features: create, replace, update and delete, safe against lost updates.

Sites have a shortcut by id alone (:func:`read_site`, :func:`set_site_fields`): a site id is
unique across the site layers, so a team leader marking a site inaccessible names the site and
the fields, as text, and the layer is found for them.

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

from geoplan.audit import Action, command_line_user, record_event
from geoplan.catalog import SITE_LAYERS, LayerDef, get_layer
from geoplan.errors import (
    AlreadyExistsError,
    ConflictError,
    LayerValidationError,
    NotFoundError,
    ParameterError,
)
from geoplan.imports import check_table
from geoplan.sources import WGS84, RawTable
from geoplan.spreadsheets import did_you_mean
from geoplan.store import PlainValue, Store, field_order, plain_columns, row_versions
from geoplan.updates import FieldChange, field_changes

SOURCE = "request"


@dataclass(frozen=True)
class Edit:
    """A feature as an editor sends it: raw property values (the id included) and geometry,
    and where it comes from (named in problem reports)."""

    values: Mapping[str, object]
    geometry: BaseGeometry | None = None
    source: str = SOURCE


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
    frame = _validated(store, layer, Edit(values, edit.geometry, edit.source))
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
    source: str = SOURCE,
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
    edit = Edit(values, geom, source)
    return replace_feature(store, layer, feature_id, edit, version=version)


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
    table = RawTable(file=edit.source, frame=cells, geometry=geometry)
    frame, report = check_table(table, layer, store=store)
    if not report.ok:
        raise LayerValidationError(report)
    return frame


# --- sites by id --------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """One site as stored: its layer, its fields as plain values (dates as ISO text, lists as
    comma-separated text) and its version."""

    id: str
    layer: str
    fields: Mapping[str, PlainValue]
    version: str

    def summary(self) -> str:
        """The layer's title and a line per field, empty fields included."""
        title = get_layer(self.layer).title
        width = max(len(name) for name in self.fields)
        lines = [f"{self.id} ({title}, layer {self.layer})"]
        lines += [f"  {name:<{width}}  {_shown(value)}" for name, value in self.fields.items()]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        """``{"site", "layer", "fields"}`` for programs."""
        return {"site": self.id, "layer": self.layer, "fields": dict(self.fields)}


@dataclass(frozen=True)
class SiteEdit:
    """What :func:`set_site_fields` changed: per field, the old value and the new one."""

    site: Site
    changes: tuple[FieldChange, ...]

    def summary(self) -> str:
        """A line per changed field, or a line saying the site already held these values."""
        where = f"{self.site.id} ({self.site.layer})"
        if not self.changes:
            return f"No field changes: {where} already holds these values."
        lines = [f"Changed {len(self.changes)} field(s) of {where}:"]
        lines += [f"  {c.field}: {_shown(c.old)} -> {_shown(c.new)}" for c in self.changes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        """``{"site", "layer", "changed": {field: {"old", "new"}}}`` for programs."""
        changed = {c.field: {"old": c.old, "new": c.new} for c in self.changes}
        return {"site": self.site.id, "layer": self.site.layer, "changed": changed}


def find_site_layer(store: Store, site_id: str) -> str:
    """The site layer holding ``site_id``.

    Raises
    ------
    NotFoundError
        If no site layer has that id; the message suggests the closest ids.
    """
    known: list[str] = []
    for layer in SITE_LAYERS:
        ids = store.ids(layer)
        if site_id in ids:
            return layer
        known += ids
    hint = did_you_mean(site_id, known)
    msg = f"no site has the id {site_id!r}{hint}; site layers are {', '.join(SITE_LAYERS)}"
    raise NotFoundError(msg)


def read_site(store: Store, site_id: str) -> Site:
    """A site by id, from whichever site layer holds it.

    Raises
    ------
    NotFoundError
        As :func:`find_site_layer`.
    """
    layer = find_site_layer(store, site_id)
    return _site(layer, read_feature(store, layer, site_id))


def set_site_fields(
    store: Store,
    site_id: str,
    values: Mapping[str, str],
    *,
    who: str | None = None,
    source: str | None = None,
) -> SiteEdit:
    """Change fields of one site from text values, as a file cell would hold them.

    Each value is read by its field's type (dates YYYY-MM-DD, whole numbers, lists separated
    by commas, allowed words) and the whole row is checked with the layer's import rules, then
    written in one transaction that refuses a row changed meanwhile. An empty value clears
    the field. A change is recorded in the audit log by ``who`` (the person at the command
    line by default).

    Raises
    ------
    NotFoundError
        If no site has that id.
    ParameterError
        If a field is not one of the layer's (the message lists them) or is the id.
    LayerValidationError
        If a value or the changed row breaks the layer's rules; nothing is written.
    ConflictError
        If the site changed between reading and writing it.
    """
    layer = find_site_layer(store, site_id)
    definition = get_layer(layer)
    _check_field_names(definition, values)
    current = read_feature(store, layer, site_id)
    changes = {name: (value if value.strip() else None) for name, value in values.items()}
    where = source or f"site {site_id}"
    updated = update_feature(store, layer, site_id, changes, version=current.version, source=where)
    changed = tuple(field_changes(definition, current.frame, updated.frame))
    if changed:
        what = f"{layer} {site_id}: {', '.join(c.field for c in changed)}"
        record_event(store, Action.SITE_EDITED, who=who or command_line_user(), what=what)
    return SiteEdit(_site(layer, updated), changed)


def _site(layer: str, feature: Versioned) -> Site:
    definition = get_layer(layer)
    columns = plain_columns(definition, feature.frame)
    names = [f.name for f in field_order(definition)]
    fields = {name: column[0] for name, column in zip(names, columns, strict=True)}
    ordered = {name: fields[name] for name in definition.field_names}
    site_id = str(fields[definition.id_field])
    return Site(site_id, layer, ordered, feature.version)


def _check_field_names(definition: LayerDef, values: Mapping[str, str]) -> None:
    if not values:
        raise ParameterError("name at least one FIELD=VALUE to change")
    for name in values:
        if name == definition.id_field:
            msg = (
                f"{name} names the site and cannot be changed here; to rename a site, "
                "export the layer, change the id and import it again"
            )
            raise ParameterError(msg)
        if name not in definition.field_names:
            hint = did_you_mean(name, definition.field_names)
            fields = ", ".join(n for n in definition.field_names if n != definition.id_field)
            msg = f"{definition.name} has no field {name!r}{hint}; its fields are: {fields}"
            raise ParameterError(msg)


def _shown(value: PlainValue) -> str:
    return "(empty)" if value is None else str(value)
