"""Request and response models.

Request models are strict: unknown fields are rejected, numbers must be JSON numbers (never
strings or booleans), coordinates must be finite, dates must be ``YYYY-MM-DD`` text. Layer
models are generated from the layer catalog, so a field added in ``layers/`` appears in the
OpenAPI schema by itself.

Response models are split by role. A viewer reading a high-sensitivity layer gets a
:class:`GeneralisedFeature`-shaped model whose geometry can only be the centre of a coarse H3
cell (its validator refuses anything else) and whose properties leave out free text, which can
describe a place as precisely as coordinates can.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import cache
from typing import Annotated, Any, Literal

import h3
from geojson_pydantic import MultiPolygon, Point
from pydantic import (
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    WithJsonSchema,
    create_model,
    model_validator,
)
from pydantic.json_schema import JsonDict

from geoplan.catalog import MAX_WHOLE, FieldDef, LayerDef, check_year, get_layer
from geoplan.protect import MAX_RESOLUTION, cell_centre, free_text_fields, is_protected
from geoplan.vocab import Role

MAX_VIEWER_RESOLUTION = MAX_RESOLUTION  # coarser cells (smaller numbers) are allowed

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)
_OUT = ConfigDict(extra="forbid")


# --- problems -------------------------------------------------------------------------------


class FieldError(BaseModel):
    """One invalid part of a request."""

    model_config = _OUT
    field: str = Field(description="Where: `body.properties.people`, `query.limit`, ...")
    reason: str = Field(description="What is wrong with it.")


class ValidationProblem(BaseModel):
    """One problem found by layer validation: the same as `geoplan import` reports."""

    model_config = _OUT
    severity: Literal["error", "warning"]
    rule: str
    message: str
    fix: str
    file: str
    row: int | None = None
    id: str | None = None
    field: str | None = None
    value: str | None = None
    line: int | None = None


class Problem(BaseModel):
    """An error, as `application/problem+json` (RFC 9457)."""

    model_config = _OUT
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(None, description="Invalid request parts.")
    problems: list[ValidationProblem] | None = Field(
        None,
        description="The problems layer validation found, as `geoplan import` reports them "
        "(the first GEOPLAN_IMPORT_MAX_PROBLEMS).",
    )
    problems_total: int | None = Field(
        None, description="How many problems were found, listed or not."
    )


# --- small shared models --------------------------------------------------------------------


class Link(BaseModel):
    """A hypermedia link (OGC API)."""

    model_config = _OUT
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class Health(BaseModel):
    """Whether the service is up and can read its workspace."""

    model_config = _OUT
    status: Literal["ok"]
    workspace: bool = Field(description="Whether the workspace file exists.")


class LandingPage(BaseModel):
    """OGC API landing page."""

    model_config = _OUT
    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    """OGC API conformance classes the service implements."""

    model_config = _OUT
    conformsTo: list[str]  # noqa: N815  (OGC's name)


class SpatialExtent(BaseModel):
    """Bounding box of a collection in CRS84."""

    model_config = _OUT
    bbox: list[list[float]]
    crs: str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


class TemporalExtent(BaseModel):
    """Time span of a collection."""

    model_config = _OUT
    interval: list[list[str | None]]
    trs: str = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"


class Extent(BaseModel):
    """Spatial and temporal extent of a collection."""

    model_config = _OUT
    spatial: SpatialExtent | None = None
    temporal: TemporalExtent | None = None


class Collection(BaseModel):
    """One layer as an OGC API collection."""

    model_config = _OUT
    id: str
    title: str
    description: str
    itemType: Literal["feature"] = "feature"  # noqa: N815
    crs: list[str] = ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    extent: Extent | None = None
    links: list[Link]
    sensitivity: Literal["public", "low", "medium", "high"]
    generalised: bool = Field(
        description="Whether positions are shown generalised to H3 cells (for your role)."
    )


class Collections(BaseModel):
    """Every layer."""

    model_config = _OUT
    collections: list[Collection]
    links: list[Link]


class WriteSummary(BaseModel):
    """What a write did."""

    model_config = _OUT
    layer: str
    added: int
    updated: int
    unchanged: int
    deleted: int


class ImportReport(BaseModel):
    """The validation report of an upload: the same as `geoplan import` prints."""

    model_config = _OUT
    layer: str
    file: str
    rows: int
    ok: bool
    headline: str
    problems: list[ValidationProblem] = Field(
        description="The first problems found (GEOPLAN_IMPORT_MAX_PROBLEMS of them at most); "
        "ask ?report=csv for all of them as a file."
    )
    problems_total: int = Field(description="How many problems were found, listed or not.")
    notes: list[str]
    write: WriteSummary | None = Field(description="What was written; null for a dry run.")


class KeyCreate(BaseModel):
    """A key to create."""

    model_config = _STRICT
    role: Role
    name: Annotated[str, Strict(), Field(max_length=200)] = ""


class KeyInfo(BaseModel):
    """A key as the workspace knows it: never the key itself."""

    model_config = _OUT
    key_id: str
    role: Role
    name: str
    created: str
    revoked: str | None


class KeyCreated(KeyInfo):
    """A new key; `key` is shown this once and cannot be recovered."""

    key: str


class KeyList(BaseModel):
    """Every key, revoked ones included."""

    model_config = _OUT
    keys: list[KeyInfo]


# --- geometries in requests ---------------------------------------------------------------

Longitude = Annotated[float, Strict(), AllowInfNan(False), Field(ge=-180, le=180)]
Latitude = Annotated[float, Strict(), AllowInfNan(False), Field(ge=-90, le=90)]
Position = tuple[Longitude, Latitude]
Ring = Annotated[list[Position], Field(min_length=4)]


class PointIn(BaseModel):
    """A GeoJSON Point in EPSG:4326 (longitude, latitude)."""

    model_config = _STRICT
    type: Literal["Point"]
    coordinates: Position


class PolygonIn(BaseModel):
    """A GeoJSON Polygon in EPSG:4326."""

    model_config = _STRICT
    type: Literal["Polygon"]
    coordinates: Annotated[list[Ring], Field(min_length=1)]


class MultiPolygonIn(BaseModel):
    """A GeoJSON MultiPolygon in EPSG:4326."""

    model_config = _STRICT
    type: Literal["MultiPolygon"]
    coordinates: Annotated[list[Annotated[list[Ring], Field(min_length=1)]], Field(min_length=1)]


AreaIn = Annotated[PolygonIn | MultiPolygonIn, Field(discriminator="type")]


# --- layer models -------------------------------------------------------------------------


# The schema's date pattern is the calendar itself: every real day from FIRST_YEAR to LAST_YEAR
# matches (the 29th to 31st where the month has them, 29 February in leap years) and nothing
# else does, so a client that follows the schema is never refused a real date.
YEAR_TEXT = r"(19|20|21)\d{2}"  # FIRST_YEAR to LAST_YEAR
_LEAP_YEAR = r"((19|20|21)(0[48]|[2468][048]|[13579][26])|2000)"  # 1900 and 2100 are not
_MONTH_DAY = (
    r"((0[13578]|1[02])-(0[1-9]|[12]\d|3[01])"  # months of 31 days
    r"|(0[469]|11)-(0[1-9]|[12]\d|30)"  # months of 30 days
    r"|02-(0[1-9]|1\d|2[0-8]))"
)
DATE_TEXT = rf"({YEAR_TEXT}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
DATE_PATTERN = rf"^{DATE_TEXT}$"


def _iso_date(value: object) -> object:
    """Only ``YYYY-MM-DD`` text is a date (no timestamps, no numbers), in the years
    :data:`~geoplan.catalog.FIRST_YEAR` to :data:`~geoplan.catalog.LAST_YEAR`."""
    if isinstance(value, dt.date):
        return check_year(value)
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("expected a date as YYYY-MM-DD text")
    return check_year(dt.date.fromisoformat(value))


IsoDate = Annotated[
    dt.date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
]


def _whole(value: object) -> object:
    """A JSON number with no fraction (``600.0``) is an integer, as JSON Schema counts."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = Annotated[int, Strict(), BeforeValidator(_whole)]
"""An integer in a request: ``3`` or ``3.0``; never ``3.5``, ``"3"`` or ``true``."""
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
NOT_BLANK = r"[^\s\u0085\ufeff]"
r"""Text with at least one visible character: blank counts as missing. Spelled out beyond
``\S`` because "white space" differs between JSON Schema (ECMA-262: U+FEFF, not U+0085)
and the validator (Unicode: U+0085, not U+FEFF); both are blank here."""


def _request_type(f: FieldDef) -> Any:
    """The strict request type of a field."""
    return _REQUEST_TYPES[f.type](f)


def field_bounds(f: FieldDef) -> dict[str, Any]:
    """A numeric field's bounds as ``Field`` arguments; whole numbers always have both (at
    most :data:`~geoplan.catalog.MAX_WHOLE` either way), as the layer validation has."""
    if f.type != "integer":
        return {k: v for k, v in (("ge", f.min), ("le", f.max)) if v is not None}
    low = -MAX_WHOLE if f.min is None else max(math.ceil(f.min), -MAX_WHOLE)
    high = MAX_WHOLE if f.max is None else min(math.floor(f.max), MAX_WHOLE)
    return {"ge": low, "le": high}


def _allowed(f: FieldDef) -> Any:
    return Literal.__getitem__(f.allowed)


_REQUEST_TYPES: dict[str, Any] = {
    "string": lambda f: Annotated[
        str, Strict(), Field(pattern=f.pattern or NOT_BLANK, min_length=1, max_length=2000)
    ],
    # bounds before the number's own validator, or the schema shows them as "ge"/"le"
    "integer": lambda f: Annotated[
        int, Strict(), Field(**field_bounds(f)), BeforeValidator(_whole)
    ],
    "number": lambda f: Annotated[float, Strict(), AllowInfNan(False), Field(**field_bounds(f))],
    "boolean": lambda f: Annotated[bool, Strict()],
    "date": lambda f: IsoDate,
    "time": lambda f: Annotated[str, Strict(), Field(pattern=TIME_PATTERN)],
    "enum": _allowed,
    "enum_list": lambda f: Annotated[list[_allowed(f)], Field(max_length=len(f.allowed))],  # type: ignore[misc]
}


def _response_type(f: FieldDef) -> tuple[Any, JsonDict]:
    """The response type of a field and extra JSON schema (allowed values)."""
    if f.type in ("string", "time"):
        return str, {}
    if f.type == "enum":
        return str, {"enum": list(f.allowed)}
    if f.type == "enum_list":
        return list[str], {"items": {"type": "string", "enum": list(f.allowed)}}
    return {"integer": int, "number": float, "boolean": bool, "date": dt.date}[f.type], {}


def _describe(f: FieldDef) -> str:
    unit = f" ({f.unit})" if f.unit else ""
    return f"{f.description}{unit}"


def property_fields(layer: LayerDef) -> list[FieldDef]:
    """Fields sent and returned as properties (all but the id, which is the feature id)."""
    return [f for f in layer.fields if f.name != layer.id_field]


def viewer_fields(layer: LayerDef) -> list[FieldDef]:
    """Property fields a viewer sees of a protected layer: no free text."""
    hidden = set(free_text_fields(layer))
    return [f for f in property_fields(layer) if f.name not in hidden]


def generalised_for(layer: LayerDef, role: str) -> bool:
    """Whether this role sees the layer's positions generalised."""
    return role == Role.VIEWER and is_protected(layer)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


@cache
def properties_in(name: str, *, partial: bool = False) -> type[BaseModel]:
    """Strict properties of a layer for create/replace, or (``partial``) for a merge-patch."""
    layer = get_layer(name)
    fields: dict[str, Any] = {}
    for f in property_fields(layer):
        kind = _request_type(f)
        if f.required and not partial:
            fields[f.name] = (kind, Field(description=_describe(f)))
        else:
            fields[f.name] = (kind | None, Field(None, description=_describe(f)))
    suffix = "PropertiesPatch" if partial else "PropertiesIn"
    return create_model(f"{_camel(layer.name)}{suffix}", __config__=_STRICT, **fields)


def _geometry_in(layer: LayerDef) -> Any:
    if layer.geometry == "Point":
        return PointIn
    if layer.geometry == "Polygon":
        return AreaIn
    return None


def _id_in(layer: LayerDef) -> Any:
    id_field = layer.field(layer.id_field)
    return Annotated[str, Strict(), Field(pattern=id_field.pattern or None, max_length=64)]


@cache
def feature_in(name: str, *, with_id: bool) -> type[BaseModel]:
    """A feature to create (``with_id``: the client names it) or to replace."""
    layer = get_layer(name)
    geometry = _geometry_in(layer)
    geometry_field: Any = (None, None) if geometry is None else (geometry, ...)
    fields: dict[str, Any] = {
        "type": (Literal["Feature"], ...),
        "geometry": geometry_field,
        "properties": (properties_in(layer.name), ...),
    }
    if with_id:
        fields["id"] = (_id_in(layer), Field(description="The new feature's id."))
    name = f"{_camel(layer.name)}{'New' if with_id else 'Replacement'}"
    doc = "Geometry must be null: the layer has none." if geometry is None else None
    return create_model(name, __config__=_STRICT, __doc__=doc, **fields)


@cache
def feature_patch(name: str) -> type[BaseModel]:
    """A merge-patch of a feature: given properties change, null clears one."""
    layer = get_layer(name)
    fields: dict[str, Any] = {"properties": (properties_in(layer.name, partial=True), None)}
    geometry = _geometry_in(layer)
    if geometry is not None:  # may be left out, never null: a located feature keeps a place
        fields["geometry"] = (geometry, None)
    return create_model(f"{_camel(layer.name)}Patch", __config__=_STRICT, **fields)


@cache
def properties_out(name: str, *, viewer: bool = False) -> type[BaseModel]:
    """Properties as returned: every field, or for a viewer of a high layer no free text and
    the H3 cell."""
    layer = get_layer(name)
    chosen = viewer_fields(layer) if viewer else property_fields(layer)
    fields: dict[str, Any] = {}
    for f in chosen:
        kind, extra = _response_type(f)
        fields[f.name] = (
            kind | None,
            Field(None, description=_describe(f), json_schema_extra=extra),
        )
    if viewer:
        fields["h3_cell"] = (str, Field(description="H3 cell the site lies in."))
    suffix = "ViewerProperties" if viewer else "Properties"
    return create_model(f"{_camel(layer.name)}{suffix}", __config__=_OUT, **fields)


def _geometry_out(layer: LayerDef) -> Any:
    return {"Point": Point, "Polygon": MultiPolygon, "None": None}[layer.geometry]


@cache
def feature_out(name: str) -> type[BaseModel]:
    """A feature with exact geometry and every property."""
    layer = get_layer(name)
    geometry = _geometry_out(layer)
    fields: dict[str, Any] = {
        "type": (Literal["Feature"], "Feature"),
        "id": (str, ...),
        "geometry": (None, None) if geometry is None else (geometry | None, ...),
        "properties": (properties_out(layer.name), ...),
        "links": (list[Link] | None, None),
    }
    return create_model(f"{_camel(layer.name)}Feature", __config__=_OUT, **fields)


def coarse_cell(cell: str) -> str:
    """The cell, checked to be an H3 cell no finer than the viewers' resolution."""
    if not h3.is_valid_cell(cell) or h3.get_resolution(cell) > MAX_VIEWER_RESOLUTION:
        raise ValueError(f"h3_cell must be an H3 cell of resolution <= {MAX_VIEWER_RESOLUTION}")
    return cell


class _CellCentre(BaseModel):
    # No docstring: it would become the schema's description, and the OpenAPI stays as it was.
    model_config = _OUT
    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]


class GeneralisedFeature(BaseModel):
    """A site shown at the centre of its coarse H3 cell; exact coordinates cannot be carried.

    Subclasses add ``properties`` with an ``h3_cell``; the geometry must be that cell's centre.
    """

    model_config = _OUT
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: _CellCentre

    @model_validator(mode="after")
    def _geometry_is_the_cell_centre(self) -> GeneralisedFeature:
        cell = coarse_cell(str(getattr(getattr(self, "properties", None), "h3_cell", "")))
        if tuple(self.geometry.coordinates) != cell_centre(cell):
            raise ValueError("a generalised feature's geometry must be its H3 cell's centre")
        return self


@cache
def generalised_feature_out(name: str) -> type[BaseModel]:
    """A high-sensitivity site as a viewer may see it."""
    layer = get_layer(name)
    return create_model(
        f"{_camel(layer.name)}GeneralisedFeature",
        __base__=GeneralisedFeature,
        properties=(properties_out(layer.name, viewer=True), ...),
        links=(list[Link] | None, None),
    )


# An alias, not an inline Literal: a string inside a create_model field tuple reads to mypy as
# a forward reference it cannot resolve.
FeatureCollectionType = Literal["FeatureCollection"]


@cache
def collection_out(name: str, *, viewer: bool = False) -> type[BaseModel]:
    """A page of features (OGC API items response)."""
    layer = get_layer(name)
    feature = generalised_feature_out(name) if viewer else feature_out(name)
    suffix = "GeneralisedFeatureCollection" if viewer else "FeatureCollection"
    return create_model(
        f"{_camel(layer.name)}{suffix}",
        __config__=_OUT,
        type=(FeatureCollectionType, "FeatureCollection"),
        features=(list[feature], ...),  # type: ignore[valid-type]
        numberMatched=(int, ...),
        numberReturned=(int, ...),
        timeStamp=(str, ...),
        links=(list[Link], ...),
    )
