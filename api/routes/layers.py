"""Layers the OGC API - Features way, with edits and whole-file uploads.

Routes are made per layer from the catalog, so each layer's OpenAPI shows its own properties,
filters and request bodies. Reads: ``/collections``, ``/collections/{layer}``, its ``items``
(``bbox``, ``limit``, ``offset``, ``datetime``, attribute filters, paging links) and one item.
Writes: create (``POST items``), replace (``PUT``), update (``PATCH``, a JSON merge patch) and
delete, each needing the item's ``ETag`` in ``If-Match`` so that two editors cannot overwrite
each other; and ``POST /collections/{layer}/import`` for a whole file, validated and written as
``geoplan import`` does. Viewers see sensitive sites generalised (see :mod:`geoplan.protect`).
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
import shutil
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal

import geopandas as gpd
import pandas as pd
from fastapi import APIRouter, Depends, File, Header, Query, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, AllowInfNan, BaseModel, ConfigDict, Field, create_model

from api.deps import KeyDep, PolicyDep, ReaderDep, SettingsDep, StoreDep
from api.errors import ETAG_PATTERN, IF_MATCH, report_problems, scrub
from api.features import edit_from, feature_dicts, shape_of
from api.models import (
    DATE_TEXT,
    Collection,
    Collections,
    Extent,
    ImportReport,
    Link,
    SpatialExtent,
    TemporalExtent,
    WriteSummary,
    collection_out,
    feature_in,
    feature_out,
    feature_patch,
    field_bounds,
    generalised_feature_out,
    generalised_for,
)
from api.ogc import GEOJSON, JSON, link, only_params, parse_bbox, parse_interval, url
from api.responses import (
    BAD_QUERY,
    CONFLICT,
    NOT_FOUND,
    PRECONDITIONS,
    PROBLEMS,
    GeoJSONResponse,
    problem,
)
from api.settings import MIB, Settings
from geoplan.audit import Action, record_event
from geoplan.catalog import FieldDef, LayerDef, load_catalog
from geoplan.edits import (
    Versioned,
    create_feature,
    delete_feature,
    read_feature,
    replace_feature,
    update_feature,
)
from geoplan.errors import ImportLimitError, LayerValidationError, NotFoundError
from geoplan.imports import ImportOptions, ImportResult, import_file
from geoplan.keys import ApiKey, api_who
from geoplan.layers import ColumnMapping
from geoplan.outputs import safe_frame
from geoplan.policy import Policy
from geoplan.protect import is_protected
from geoplan.query import RowFilter, filter_rows, filterable_fields, time_span
from geoplan.report import ValidationReport
from geoplan.sources import (
    TABLE_SUFFIXES,
    VECTOR_SUFFIXES,
    ImportLimits,
    SourceOptions,
    limit_hint,
)
from geoplan.store import Store
from geoplan.vocab import Role

TAG = "OGC API - Features"
# Decimal degrees within their ranges (no exponents: 1E999 is no longitude); that SOUTH is not
# above NORTH is for the validator to say.
_LON = r"\s*[-+]?(180(\.0*)?|(1[0-7]\d|\d{1,2})(\.\d*)?|\.\d+)\s*"
_LAT = r"\s*[-+]?(90(\.0*)?|[0-8]?\d(\.\d*)?|\.\d+)\s*"
_HEIGHT = r"\s*[-+]?(\d{1,6}(\.\d*)?|\.\d+)\s*"
BBOX_PATTERN = rf"^({_LON},{_LAT},{_LON},{_LAT}|{_LON},{_LAT},{_HEIGHT},{_LON},{_LAT},{_HEIGHT})$"
_TIME = r"T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?"
_INSTANT = rf"{DATE_TEXT}(T|{_TIME})?"  # a day (a bare trailing T too), or an RFC 3339 time
DATETIME_PATTERN = rf"^({_INSTANT}|{_INSTANT}/({_INSTANT}|\.\.)?|(\.\.)?/{_INSTANT})$"
"""A day or time, or an interval with at least one end (``/``, ``../..`` are refused).

``2026-09-28T`` is no RFC 3339 time, but GDAL's OAPIF driver sends it for ``date =
'2026-09-28'``: it is taken as the whole day."""
DATETIME_DOC = (
    "An instant or an interval (OGC API - Features `datetime`): a day `2026-03-01`, an RFC 3339 "
    "time `2026-03-01T08:00:00Z` (taken as its UTC day), or START/END with `..` or nothing for "
    "an open end. A day followed by a bare `T` (`2026-03-01T`, as GDAL sends it) is that whole "
    "day. {semantics}"
)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_PAGING = ("limit", "offset", "bbox", "datetime", "f")
PAGE_DEFAULT = int(Settings.model_fields["page_limit_default"].default)
PAGE_MAX = int(Settings.model_fields["page_limit_max"].default)
"""``limit``'s default and maximum in the OpenAPI (the settings' defaults), for clients such as
GDAL that page by what the API definition states."""


def build_router() -> APIRouter:
    """``/collections`` and every layer's routes."""
    router = APIRouter(responses=PROBLEMS)
    router.add_api_route(
        "/collections",
        list_collections,
        methods=["GET"],
        tags=[TAG],
        summary="The layers",
        response_model=Collections,
        response_model_exclude_none=True,
        **_json_doc(),
    )
    for layer in load_catalog().values():
        _add_layer(router, layer)
    return router


def list_collections(
    request: Request, key: KeyDep, reader: ReaderDep, policy: PolicyDep
) -> Collections:
    """Every layer with its extent, as the caller's role sees it."""
    collections = [
        _collection(request, layer, key, reader, policy) for layer in load_catalog().values()
    ]
    return Collections(collections=collections, links=[link(request, "/collections", "self")])


# --- per-layer routes ---------------------------------------------------------------------


def _add_layer(router: APIRouter, layer: LayerDef) -> None:
    base = f"/collections/{layer.name}"
    item = f"{base}/items/{{feature_id}}"
    reads: list[tuple[str, str, Callable[..., Any], dict[str, Any]]] = [
        (
            "GET",
            base,
            _describe_handler(layer),
            {"response_model": Collection, "response_model_exclude_none": True, **_json_doc()},
        ),
        ("GET", f"{base}/items", _items_handler(layer), _items_doc(layer)),
        ("GET", item, _item_handler(layer), _item_doc(layer)),
    ]
    writes: list[tuple[str, str, Callable[..., Any], dict[str, Any]]] = [
        ("POST", f"{base}/items", _create_handler(layer), _write_doc(layer, 201, CONFLICT)),
        ("PUT", item, _replace_handler(layer), _write_doc(layer, 200, NOT_FOUND, PRECONDITIONS)),
        ("PATCH", item, _update_handler(layer), _write_doc(layer, 200, NOT_FOUND, PRECONDITIONS)),
        ("DELETE", item, _delete_handler(layer), _delete_doc()),
        ("POST", f"{base}/import", _import_handler(layer), _import_doc()),
    ]
    for _, path, handler, doc in reads[1:]:  # items and an item answer HEAD as GET
        router.add_api_route(
            path,
            _head(handler),
            methods=["HEAD"],
            name=f"{layer.name}:head_{handler.__name__}",
            include_in_schema=False,
            dependencies=doc.get("dependencies"),
        )
    for method, path, handler, doc in [*reads, *writes]:
        summary = (handler.__doc__ or "").strip().splitlines()[0].format(layer=layer.title)
        router.add_api_route(
            path,
            handler,
            methods=[method],
            tags=[layer.title],
            summary=summary,
            name=f"{layer.name}:{handler.__name__}",
            **doc,
        )


def _head(handler: Callable[..., Any]) -> Callable[..., Any]:
    """The GET handler answering HEAD: its status and headers (Content-Length too), no body."""

    def head(**kwargs: Any) -> Response:
        answer: Response = handler(**kwargs)
        return Response(status_code=answer.status_code, headers=dict(answer.headers))

    head.__signature__ = inspect.signature(handler)  # type: ignore[attr-defined]
    return head


def _typed(handler: Callable[..., Any], **types: Any) -> Callable[..., Any]:
    """Give a handler's parameters their per-layer types (FastAPI reads ``__signature__``)."""
    signature = inspect.signature(handler, eval_str=True)
    params = [
        p.replace(annotation=types.get(p.name, p.annotation)) for p in signature.parameters.values()
    ]
    handler.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return handler


FeatureId = Annotated[str, Field(min_length=1, max_length=64, description="The feature's id.")]
IfMatch = Annotated[
    str,
    Header(
        alias=IF_MATCH,
        pattern=ETAG_PATTERN,
        description="The ETag of the one version being edited, as GET returned it (not * or a "
        "list). Without it: 428.",
    ),
]


# --- reading ------------------------------------------------------------------------------


def _describe_handler(layer: LayerDef) -> Callable[..., Any]:
    def describe(
        *, request: Request, key: KeyDep, reader: ReaderDep, policy: PolicyDep
    ) -> Collection:
        """{layer}: the layer's description and extent"""
        return _collection(request, layer, key, reader, policy)

    return describe


def _items_handler(layer: LayerDef) -> Callable[..., Any]:
    def items(
        *,
        request: Request,
        key: KeyDep,
        reader: ReaderDep,
        store: StoreDep,
        policy: PolicyDep,
        settings: SettingsDep,
        query: BaseModel,
    ) -> Response:
        """{layer}: features, filtered and paged"""
        viewer = _generalised(policy, layer, key.role)
        selection = _selection(layer, query)
        frame = _candidates(reader, layer, policy, selection, viewer=viewer)
        matched = filter_rows(frame, layer, selection)
        chosen = "limit" in query.model_fields_set
        asked = getattr(query, "limit", PAGE_DEFAULT) if chosen else settings.page_limit_default
        limit = min(asked, settings.page_limit_max)
        offset = int(getattr(query, "offset", 0))
        page = matched.iloc[offset : offset + limit]
        body = {
            "type": "FeatureCollection",
            "features": feature_dicts(page, layer, viewer=viewer),
            "numberMatched": len(matched),
            "numberReturned": len(page),
            "timeStamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "links": _page_links(request, layer, offset, limit, len(matched)),
        }
        model = collection_out(layer.name, viewer=viewer).model_validate(body)
        if not viewer:
            _audit_read(store, layer, key, f"GET /collections/{layer.name}/items", len(page))
        return _geojson(model)

    return _typed(items, query=Annotated[items_query(layer.name), Query()])


def _item_handler(layer: LayerDef) -> Callable[..., Any]:
    def get_item(
        *,
        request: Request,
        key: KeyDep,
        reader: ReaderDep,
        store: StoreDep,
        policy: PolicyDep,
        feature_id: FeatureId,
    ) -> Response:
        """{layer}: one feature (with its ETag, for editing)"""
        if not _generalised(policy, layer, key.role):
            response = _feature_response(
                request, layer, read_feature(store, layer.name, feature_id)
            )
            _audit_read(store, layer, key, f"GET /collections/{layer.name}/items/{feature_id}", 1)
            return response
        frame = _frame(reader, layer, policy, viewer=True)
        row = frame.loc[frame[layer.id_field] == feature_id]
        if row.empty:
            raise NotFoundError(f"{layer.name} has no feature {feature_id!r}")
        feature = {
            **feature_dicts(row, layer, viewer=True)[0],
            "links": _item_links(request, layer, feature_id),
        }
        return _geojson(generalised_feature_out(layer.name).model_validate(feature))

    return get_item


def _frame(reader: ReaderDep, layer: LayerDef, policy: Policy, *, viewer: bool) -> pd.DataFrame:
    resolution = policy.layer(layer.name).resolution
    return reader.frame(layer.name, generalised_to=resolution if viewer else None)


def _generalised(policy: Policy, layer: LayerDef, role: str) -> bool:
    """Whether the policy shows this role the layer's positions generalised."""
    return generalised_for(layer, Role.VIEWER) and not policy.sees_exact(layer.name, role)


def _audit_read(store: Store, layer: LayerDef, key: ApiKey, what: str, rows: int) -> None:
    """One audit entry for a read of a sensitive layer's exact positions."""
    if is_protected(layer):
        record_event(store, Action.READ_EXACT, who=api_who(key), what=what, rows=rows)


def _candidates(
    reader: ReaderDep, layer: LayerDef, policy: Policy, selection: RowFilter, *, viewer: bool
) -> pd.DataFrame:
    """The rows a selection can match: with a bbox (not crossing the antimeridian) only those
    the spatial index finds in it, on the positions the caller sees (generalised for a viewer);
    :func:`geoplan.query.filter_rows` then applies the whole selection to them."""
    bbox = selection.bbox
    if bbox is None or not layer.has_geometry or bbox[0] > bbox[2]:
        return _frame(reader, layer, policy, viewer=viewer)
    resolution = policy.layer(layer.name).resolution if viewer else None
    return reader.within(layer.name, bbox, generalised_to=resolution)


def _selection(layer: LayerDef, query: BaseModel) -> RowFilter:
    values = query.model_dump(exclude_none=True)
    bbox = values.pop("bbox", None)
    interval = values.pop("datetime", None)
    equals = {k: v for k, v in values.items() if k not in _PAGING}
    return RowFilter(
        bbox=parse_bbox(bbox) if bbox else None,
        equals=equals,
        dates=parse_interval(interval) if interval else None,
    )


def _page_links(
    request: Request, layer: LayerDef, offset: int, limit: int, matched: int
) -> list[Link]:
    path = f"/collections/{layer.name}/items"
    query = dict(request.query_params)
    links = [
        Link(href=url(request, path, query), rel="self", type=GEOJSON),
        link(request, f"/collections/{layer.name}", "collection", JSON, layer.title),
    ]
    if offset + limit < matched:
        after = {**query, "offset": str(offset + limit), "limit": str(limit)}
        links.append(Link(href=url(request, path, after), rel="next", type=GEOJSON))
    if offset > 0:
        before = {**query, "offset": str(max(0, offset - limit)), "limit": str(limit)}
        links.append(Link(href=url(request, path, before), rel="prev", type=GEOJSON))
    return links


def _item_links(request: Request, layer: LayerDef, feature_id: str) -> list[dict[str, Any]]:
    base = f"/collections/{layer.name}"
    return [
        link(request, f"{base}/items/{feature_id}", "self", GEOJSON).model_dump(exclude_none=True),
        link(request, base, "collection", JSON, layer.title).model_dump(exclude_none=True),
    ]


def _geojson(
    model: BaseModel, *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        model.model_dump_json(exclude_unset=True),
        status_code=status,
        media_type=GEOJSON,
        headers=headers,
    )


def _feature_response(
    request: Request, layer: LayerDef, feature: Versioned, *, status: int = 200
) -> Response:
    feature_id = str(feature.frame[layer.id_field].iloc[0])
    body = {
        **feature_dicts(feature.frame, layer, viewer=False)[0],
        "links": _item_links(request, layer, feature_id),
    }
    headers = {"ETag": f'"{feature.version}"'}
    if status == 201:
        headers["Location"] = url(request, f"/collections/{layer.name}/items/{feature_id}")
    return _geojson(feature_out(layer.name).model_validate(body), status=status, headers=headers)


def _collection(
    request: Request, layer: LayerDef, key: ApiKey, reader: ReaderDep, policy: Policy
) -> Collection:
    viewer = _generalised(policy, layer, key.role)
    frame = _frame(reader, layer, policy, viewer=viewer)
    base = f"/collections/{layer.name}"
    return Collection(
        id=layer.name,
        title=layer.title,
        description=layer.description,
        extent=_extent(frame, layer),
        links=[
            link(request, base, "self", JSON, layer.title),
            link(request, f"{base}/items", "items", GEOJSON, f"{layer.title} features"),
        ],
        sensitivity=layer.sensitivity,  # type: ignore[arg-type]
        generalised=viewer,
    )


def _extent(frame: pd.DataFrame, layer: LayerDef) -> Extent | None:
    spatial = temporal = None
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.notna().any():
        bounds = [float(v) for v in frame.geometry.total_bounds]
        spatial = SpatialExtent(bbox=[bounds])
    span = time_span(layer)
    if span is not None and frame[list(span)].notna().any().any():
        temporal = TemporalExtent(interval=[_time_interval(frame, *span)])
    return Extent(spatial=spatial, temporal=temporal) if spatial or temporal else None


def _time_semantics(layer: LayerDef) -> str:
    """What ``datetime`` selects in this layer, for its OpenAPI description."""
    span = time_span(layer)
    if span is None:
        return "This layer has no time: every feature matches."
    first, last = span
    if first == last:
        return f"Features whose `{first}` is one of the days asked."
    return (
        f"Features valid on at least one of the days asked: their `{first}`..`{last}` "
        f"(both included; an empty `{last}` means still valid) overlaps them."
    )


def _time_interval(frame: pd.DataFrame, first: str, last: str) -> list[str | None]:
    """From the first day's start to the last day's end (RFC 3339, UTC); None for an open end
    of a validity interval: a row without a start, or one without an end (still valid)."""
    starts, ends = pd.to_datetime(frame[first]), pd.to_datetime(frame[last])
    interval = first != last
    start = None if interval and starts.isna().any() else starts.min()
    end = None if interval and ends.isna().any() else ends.max()
    return [
        None if start is None else f"{start.date().isoformat()}T00:00:00Z",
        None if end is None else f"{end.date().isoformat()}T23:59:59Z",
    ]


# --- query parameters ---------------------------------------------------------------------


def _check_bbox(text: str) -> str:
    parse_bbox(text)
    return text


def _check_interval(text: str) -> str:
    parse_interval(text)
    return text


def _filter_type(f: FieldDef) -> Any:
    if f.type in ("enum", "enum_list"):
        return Literal.__getitem__(f.allowed)
    limits = field_bounds(f)
    if f.type == "number":
        return Annotated[float, AllowInfNan(False), Field(**limits)]
    if f.type == "integer":
        return Annotated[int, Field(**limits)]
    if f.type == "string":
        return Annotated[str, Field(pattern=f.pattern or None, max_length=200)]
    return bool


@cache
def items_query(name: str) -> type[BaseModel]:
    """The query parameters of a layer's items: paging, bbox, datetime and attribute filters.
    Unknown parameters are refused."""
    layer = load_catalog()[name]
    fields: dict[str, Any] = {
        "limit": (
            int,
            Field(
                PAGE_DEFAULT,
                ge=1,
                le=PAGE_MAX,
                description=f"Features per page: {PAGE_DEFAULT} unless asked (the server's "
                f"GEOPLAN_PAGE_LIMIT_DEFAULT), at most {PAGE_MAX:,}; the server may cap lower "
                "(GEOPLAN_PAGE_LIMIT_MAX); follow the `next` link for more.",
            ),
        ),
        "offset": (int, Field(0, ge=0, description="Features to skip (use the `next` link).")),
        "bbox": (
            Annotated[str, Field(pattern=BBOX_PATTERN), AfterValidator(_check_bbox)] | None,
            Field(
                None,
                description="WEST,SOUTH,EAST,NORTH in degrees (CRS84).",
                examples=["12.9,32.6,13.6,33.0"],
            ),
        ),
        "f": (
            Literal["json", "geojson"] | None,
            Field(None, description="Response format (GeoJSON)."),
        ),
    }
    fields["datetime"] = (
        Annotated[str, Field(pattern=DATETIME_PATTERN), AfterValidator(_check_interval)] | None,
        Field(
            None,
            description=DATETIME_DOC.format(semantics=_time_semantics(layer)),
            examples=["2026-03-01/2026-03-31"],
        ),
    )
    for f in filterable_fields(layer):
        kind = "contains" if f.type == "enum_list" else "equals"
        fields[f.name] = (
            _filter_type(f) | None,
            Field(None, description=f"Keep features whose {f.name} {kind} this."),
        )
    camel = "".join(p.capitalize() for p in name.split("_"))
    return create_model(f"{camel}ItemsQuery", __config__=ConfigDict(extra="forbid"), **fields)


# --- writing ------------------------------------------------------------------------------


def _version(if_match: str) -> str:
    """The version an ETag names (the header's pattern has refused blanks, * and lists)."""
    return if_match.strip().removeprefix("W/").strip('"')


def _create_handler(layer: LayerDef) -> Callable[..., Any]:
    def create(request: Request, store: StoreDep, body: BaseModel) -> Response:
        """{layer}: add a feature"""
        values = body.properties.model_dump()  # type: ignore[attr-defined]
        edit = _edit(layer, str(body.id), values, body)  # type: ignore[attr-defined]
        return _feature_response(
            request, layer, create_feature(store, layer.name, edit), status=201
        )

    return _typed(create, body=feature_in(layer.name, with_id=True))


def _replace_handler(layer: LayerDef) -> Callable[..., Any]:
    def replace(
        *,
        request: Request,
        store: StoreDep,
        feature_id: FeatureId,
        body: BaseModel,
        if_match: IfMatch,
    ) -> Response:
        """{layer}: replace a feature (If-Match required)"""
        version = _version(if_match)
        edit = _edit(layer, feature_id, body.properties.model_dump(), body)  # type: ignore[attr-defined]
        done = replace_feature(store, layer.name, feature_id, edit, version=version)
        return _feature_response(request, layer, done)

    return _typed(replace, body=feature_in(layer.name, with_id=False))


def _update_handler(layer: LayerDef) -> Callable[..., Any]:
    def update(
        *,
        request: Request,
        store: StoreDep,
        feature_id: FeatureId,
        body: BaseModel,
        if_match: IfMatch,
    ) -> Response:
        """{layer}: change some properties or the geometry (JSON merge patch; If-Match required)"""
        version = _version(if_match)
        properties = getattr(body, "properties", None)
        changes = properties.model_dump(exclude_unset=True) if properties is not None else {}
        geometry = None
        if "geometry" in body.model_fields_set:
            geometry = getattr(body, "geometry", None)
            if geometry is None:
                raise _invalid(
                    "geometry", "a feature of this layer needs a geometry; it cannot be removed"
                )
        done = update_feature(
            store, layer.name, feature_id, changes, version=version, geometry=_shape(geometry)
        )
        return _feature_response(request, layer, done)

    return _typed(update, body=feature_patch(layer.name))


def _delete_handler(layer: LayerDef) -> Callable[..., Any]:
    def delete(store: StoreDep, feature_id: FeatureId, if_match: IfMatch) -> Response:
        """{layer}: delete a feature (If-Match required)"""
        delete_feature(store, layer.name, feature_id, version=_version(if_match))
        return Response(status_code=204)

    return delete


def _edit(layer: LayerDef, feature_id: str, values: dict[str, Any], body: BaseModel) -> Any:
    try:
        return edit_from(layer, feature_id, values, getattr(body, "geometry", None))
    except ValueError as exc:
        raise _invalid("geometry", str(exc)) from None


def _shape(geometry: BaseModel | None) -> Any:
    try:
        return shape_of(geometry)
    except ValueError as exc:
        raise _invalid("geometry", str(exc)) from None


def _invalid(field: str, reason: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": reason, "type": "value_error"}])


# --- whole files --------------------------------------------------------------------------

SUFFIXES = tuple(dict.fromkeys((*VECTOR_SUFFIXES, *TABLE_SUFFIXES)))
TextParam = Annotated[str | None, Query(max_length=200)]


CSV = "text/csv; charset=utf-8"
ReportFormat = Literal["json", "csv"]


def _import_handler(layer: LayerDef) -> Callable[..., Any]:
    def import_(
        *,
        store: StoreDep,
        settings: SettingsDep,
        file: Annotated[
            UploadFile,
            File(
                description=f"GeoJSON, GeoPackage, zipped Shapefile, CSV or XLSX ({', '.join(SUFFIXES)})."
            ),
        ],
        dry_run: Annotated[bool, Query(description="Check and report; write nothing.")] = False,
        report: Annotated[
            ReportFormat,
            Query(
                description="json: the answer lists the first problems and their total; csv: "
                "the answer is every problem kept, as a CSV file (as `geoplan import --report`)."
            ),
        ] = "json",
        lon_column: TextParam = None,
        lat_column: TextParam = None,
        crs: TextParam = None,
        sheet: TextParam = None,
        source_layer: TextParam = None,
        id_prefix: Annotated[str, Query(max_length=40)] = "",
    ) -> Any:
        """{layer}: import a whole file, all rows or none (as `geoplan import`)"""
        name = _upload_name(file.filename)
        limits = settings.import_limits()
        options = ImportOptions(
            source=SourceOptions(source_layer, sheet, lon_column, lat_column, crs),
            mapping=ColumnMapping.build(id_prefix=id_prefix),
            limits=limits,
        )
        try:
            result = _import_upload(file, name, layer, store, options, dry_run=dry_run)
        except LayerValidationError as exc:
            if report == "csv":
                return _problems_file(exc.report, status=422)
            raise
        if report == "csv":
            return _problems_file(result.report, status=200)
        return _import_report(result, limits)

    return import_


def _import_upload(
    file: UploadFile,
    name: str,
    layer: LayerDef,
    store: Store,
    options: ImportOptions,
    *,
    dry_run: bool,
) -> ImportResult:
    """Save the upload in a folder of its own (never named in any answer) and import it."""
    with tempfile.TemporaryDirectory(prefix="geoplan-upload-") as folder:
        path = Path(folder) / name
        _save_upload(file, path, name, options.limits)
        return import_file(
            path, layer.name, store=store, options=options, dry_run=dry_run, name=name
        )


def _save_upload(file: UploadFile, path: Path, name: str, limits: ImportLimits) -> None:
    with path.open("wb") as target:
        shutil.copyfileobj(_Capped(file.file, name, limits.max_bytes), target, MIB)


class _Capped:
    """A file read through, refused with :class:`ImportLimitError` past ``limit`` bytes."""

    def __init__(self, file: BinaryIO, name: str, limit: int) -> None:
        self._file, self._name, self._limit, self._read = file, name, limit, 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self._read += len(chunk)
        if self._read > self._limit:
            raise ImportLimitError(
                f"{self._name}: more than {self._limit:,} bytes, over the import limit "
                f"max_bytes; split the file, or {limit_hint('max_bytes')}"
            )
        return chunk


def _import_report(result: ImportResult, limits: ImportLimits) -> ImportReport:
    write = None if result.write is None else WriteSummary(**vars(result.write))
    report = result.report
    return ImportReport(
        layer=report.layer,
        file=report.file,
        rows=report.rows,
        ok=report.ok,
        headline=report.headline(),
        problems=report_problems(report, limit=limits.max_problems),
        problems_total=report.total,
        notes=[scrub(note) for note in result.notes],
        write=write,
    )


def _problems_file(report: ValidationReport, *, status: int) -> Response:
    scrubbed = report.to_frame().map(lambda v: scrub(v) if isinstance(v, str) else v)
    body = safe_frame(scrubbed)  # cells from the upload: no formula runs in a spreadsheet
    stem = Path(report.file).stem or "upload"
    return Response(
        body.to_csv(index=False),
        status_code=status,
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{stem}-problems.csv"'},
    )


def _import_doc() -> dict[str, Any]:
    csv = {CSV: {"schema": {"type": "string"}}}
    responses = {
        200: {
            "description": "The import's report (or with ?report=csv, its problems).",
            "content": csv,
        },
        413: problem(
            "The file is over an import limit (GEOPLAN_IMPORT_*): size, ratio, rows, vertices."
        ),
        422: {
            **problem(
                "The file cannot be read, or rows are invalid (with ?report=csv: the problems as CSV)."
            ),
            "content": {**problem("")["content"], **csv},
        },
    }
    return {"response_model": ImportReport, "responses": responses}


def _upload_name(filename: str | None) -> str:
    name = _SAFE_NAME.sub("_", Path(filename or "").name).lstrip(".")
    if not name.lower().endswith(SUFFIXES):
        raise _invalid(
            "file",
            f"the file name must end with one of {', '.join(SUFFIXES)} so its format is known",
        )
    return name


# --- OpenAPI ------------------------------------------------------------------------------


def _json_doc() -> dict[str, Any]:
    """An OGC API JSON document: unknown query parameters are refused (400)."""
    return {"dependencies": [Depends(only_params(f=("json",)))], "responses": BAD_QUERY}


def _items_doc(layer: LayerDef) -> dict[str, Any]:
    model: Any = collection_out(layer.name)
    if generalised_for(layer, Role.VIEWER):
        model = model | collection_out(layer.name, viewer=True)
    return {"response_model": model, "response_class": GeoJSONResponse, "responses": BAD_QUERY}


def _item_doc(layer: LayerDef) -> dict[str, Any]:
    model: Any = feature_out(layer.name)
    if generalised_for(layer, Role.VIEWER):
        model = model | generalised_feature_out(layer.name)
    return {
        "response_model": model,
        "response_class": GeoJSONResponse,
        "responses": {**NOT_FOUND, **BAD_QUERY},
        "dependencies": [Depends(only_params(f=("json", "geojson")))],
    }


def _write_doc(layer: LayerDef, status: int, *extra: dict[int | str, Any]) -> dict[str, Any]:
    responses: dict[int | str, Any] = {}
    for more in extra:
        responses.update(more)
    return {
        "response_model": feature_out(layer.name),
        "response_class": GeoJSONResponse,
        "status_code": status,
        "responses": responses,
    }


def _delete_doc() -> dict[str, Any]:
    responses = {**NOT_FOUND, **PRECONDITIONS, 204: {"description": "Deleted."}}
    return {"status_code": 204, "response_class": Response, "responses": responses}
