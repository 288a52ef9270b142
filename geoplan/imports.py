"""Importing files into the workspace and exporting layers out of it.

An import reads the file, validates every row against the layer's definition and the
workspace (operating area, ids that visits point at), and then writes all rows in one
transaction, or nothing at all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio.raw
import shapely
import shapely.geometry
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from geoplan.audit import Action, command_line_user, record_event
from geoplan.boundaries import Boundaries
from geoplan.catalog import LayerDef, get_layer
from geoplan.errors import InputFileError, LayerValidationError, ParameterError
from geoplan.layers import (
    DUPLICATE_POLICIES,
    ColumnMapping,
    OperatingArea,
    ValidationContext,
    validate_table,
)
from geoplan.outputs import private_file, write_csv
from geoplan.progress import Progress
from geoplan.protect import is_protected
from geoplan.report import ValidationReport
from geoplan.sources import WGS84, ImportLimits, RawTable, SourceOptions, read_source
from geoplan.spreadsheets import did_you_mean
from geoplan.store import Store, WriteResult

AREA_SETTING = "operating_area"
BOUNDARY_SETTING = "operating_boundary"
"""The workspace setting holding the country outline of `geoplan area set --boundary` (GeoJSON
of a Polygon or MultiPolygon, and a name)."""
MOVE_TOLERANCE_M = 0.5
ExportFormat = Literal["geojson", "gpkg", "csv"]
EXPORT_SUFFIXES: dict[str, str] = {"geojson": ".geojson", "gpkg": ".gpkg", "csv": ".csv"}
GEOMETRY_COLUMNS = frozenset({"geometry", "lon", "lat", "wkt"})


@dataclass(frozen=True)
class ImportOptions:
    """How to read and check a file: reading options, what reading may cost, column mapping,
    operating area override, and what an import does with repeated ids (``on_duplicate``, see
    :class:`~geoplan.layers.ValidationContext`), with rows the file no longer has
    (``retire_missing``: a full snapshot marks them inaccessible, dated, never deleted) and
    with points moved by less than ``move_tolerance_m`` metres (not a change)."""

    source: SourceOptions = field(default_factory=SourceOptions)
    limits: ImportLimits = field(default_factory=ImportLimits)
    mapping: ColumnMapping = field(default_factory=ColumnMapping)
    area: OperatingArea | None = None
    today: dt.date | None = None
    on_duplicate: str = "error"
    retire_missing: bool = False
    move_tolerance_m: float = MOVE_TOLERANCE_M

    def __post_init__(self) -> None:
        if self.on_duplicate not in DUPLICATE_POLICIES:
            msg = (
                f"on-duplicate {self.on_duplicate!r} is not one of {', '.join(DUPLICATE_POLICIES)}"
            )
            raise ParameterError(msg)
        if not self.move_tolerance_m >= 0:
            msg = f"move tolerance must be 0 metres or more, got {self.move_tolerance_m!r}"
            raise ParameterError(msg)


@dataclass(frozen=True)
class ImportResult:
    """The validation report and, unless it was a dry run, what the write did."""

    report: ValidationReport
    write: WriteResult | None
    notes: tuple[str, ...] = ()


def operating_area(store: Store) -> OperatingArea | None:
    """The workspace's operating area, if one is set."""
    text = store.get_setting(AREA_SETTING)
    if text is None:
        return None
    bbox, _, name = text.partition(";")
    return OperatingArea.parse(bbox, name=name or "operating area")


def set_operating_area(store: Store, area: OperatingArea | None) -> None:
    """Set (or with None, clear) the workspace's operating area."""
    value = (
        None if area is None else f"{area.west},{area.south},{area.east},{area.north};{area.name}"
    )
    store.set_setting(AREA_SETTING, value)
    if area is None:
        store.set_setting(BOUNDARY_SETTING, None)


def check_file(
    path: Path,
    layer: str,
    *,
    store: Store,
    options: ImportOptions | None = None,
    name: str | None = None,
) -> tuple[pd.DataFrame, ValidationReport, tuple[str, ...]]:
    """Read and validate a file for a layer against the workspace; writes nothing.

    ``name`` is the file's name as its sender gave it (an upload's), for messages.

    Raises
    ------
    UnknownLayerError, InputFileError, MappingError
        When the layer, the file or the mapping cannot be used at all.
    ImportLimitError
        When the file is over one of ``options.limits``.
    """
    options = options or ImportOptions()
    get_layer(layer)  # an unknown layer is reported before the file is read
    table = read_source(path, options=options.source, limits=options.limits, name=name)
    frame, report = check_table(table, layer, store=store, options=options)
    return frame, report, tuple(table.notes)


def check_table(
    table: RawTable, layer: str, *, store: Store, options: ImportOptions | None = None
) -> tuple[pd.DataFrame, ValidationReport]:
    """Validate raw rows already in memory (for example features sent to the API) exactly as
    :func:`check_file` validates a file's rows: same rules, operating area and known ids.

    Raises
    ------
    UnknownLayerError, MappingError
        When the layer or the mapping cannot be used at all.
    """
    options = options or ImportOptions()
    definition = get_layer(layer)
    context = _context(definition, store, options)
    return validate_table(
        table,
        definition,
        mapping=options.mapping,
        context=context,
        keep_problems=options.limits.max_report_problems,
    )


def import_file(
    path: Path,
    layer: str,
    *,
    store: Store,
    options: ImportOptions | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    name: str | None = None,
) -> ImportResult:
    """Validate a file and, when every row is valid, upsert all of it in one transaction.

    ``name`` is the file's name as its sender gave it (an upload's), for messages.

    Raises
    ------
    LayerValidationError
        If any row has an error; its ``report`` lists every problem and nothing is written.
    """
    options = options or ImportOptions()
    frame, report, notes = check_file(path, layer, store=store, options=options, name=name)
    if not report.ok:
        raise LayerValidationError(report)
    frame = _with_stored_positions(frame, layer, store, options.move_tolerance_m)
    retired = _retired_rows(frame, layer, store, options) if options.retire_missing else None
    if retired is not None and len(retired):
        notes = (
            *notes,
            f"{len(retired)} row(s) of {layer} not in {name or path.name} marked inaccessible (retired)",
        )
        frame = pd.concat([frame, retired], ignore_index=True)
    if dry_run:
        return ImportResult(report, None, notes)
    return ImportResult(report, store.upsert(layer, frame, progress=progress), notes)


def _with_stored_positions(
    frame: pd.DataFrame, layer: str, store: Store, tolerance_m: float
) -> pd.DataFrame:
    """Points moved by less than ``tolerance_m`` keep their stored position, so that GPS
    jitter and rounding between exports are not changes."""
    if not isinstance(frame, gpd.GeoDataFrame) or frame.empty or not store.exists():
        return frame
    stored = store.read(layer, ids=frame["id"].tolist())
    if not isinstance(stored, gpd.GeoDataFrame) or stored.empty:
        return frame
    old = stored.set_index("id").geometry
    matched = frame["id"].isin(old.index) & (frame.geom_type == "Point")
    if not matched.any():
        return frame
    new = frame.loc[matched]
    before = gpd.GeoSeries(old.loc[new["id"]].values, crs=frame.crs, index=new.index)
    metres = _metres_apart(before, new.geometry)
    keep = metres[(metres < tolerance_m) & (before.geom_type == "Point")].index
    out = frame.copy()
    out.loc[keep, out.geometry.name] = before.loc[keep]
    return out


def _metres_apart(a: gpd.GeoSeries, b: gpd.GeoSeries) -> pd.Series:
    """Distances in metres on the WGS84 ellipsoid."""
    geod = Geod(ellps="WGS84")
    _, _, dist = geod.inv(a.x.to_numpy(), a.y.to_numpy(), b.x.to_numpy(), b.y.to_numpy())
    return pd.Series(dist, index=a.index)


def _retired_rows(
    frame: pd.DataFrame, layer: str, store: Store, options: ImportOptions
) -> pd.DataFrame | None:
    """Rows of ``layer`` that the imported snapshot no longer has, marked inaccessible with
    the date and the reason; rows already retired are left as they are."""
    definition = get_layer(layer)
    if "access_status" not in definition.field_names:
        raise ParameterError(
            f"--retire-missing needs a layer with an access status; {layer} has none"
        )
    if not store.exists():
        return None
    gone = sorted(store.ids(layer) - set(frame["id"]))
    if not gone:
        return None
    rows = store.read(layer, ids=gone)
    rows = rows.loc[rows["access_status"] != "inaccessible"].copy()
    today = options.today or dt.date.today()
    rows["access_status"] = "inaccessible"
    rows["access_date"] = pd.Timestamp(today)
    rows["access_reason"] = f"retired: not in the snapshot imported on {today.isoformat()}"
    return rows


def _context(definition: LayerDef, store: Store, options: ImportOptions) -> ValidationContext:
    referenced = {name for f in definition.fields for name in f.references}
    known = {name: store.ids(name) for name in referenced}
    return ValidationContext(
        area=options.area or operating_area(store),
        known_ids=known,
        today=options.today or dt.date.today(),
        boundaries=boundaries(store) if definition.geometry == "Point" else None,
        on_duplicate=options.on_duplicate,
    )


def boundaries(store: Store) -> Boundaries | None:
    """The polygons points must fall in: the workspace's admin areas and the outline set with
    `geoplan area set --boundary`, when it has either. Outside an outline is an error; outside
    admin areas alone a warning (they may cover part of the operation)."""
    geoms, ids, names = [], [], []
    if (text := store.get_setting(BOUNDARY_SETTING)) is not None:
        outline, name = _outline_from_setting(text)
        geoms.append(outline)
        ids.append("")
        names.append(name)
    if store.exists() and store.ids("admin_areas"):
        areas = store.read("admin_areas")
        geoms += list(areas.geometry)
        ids += [str(v) for v in areas["id"]]
        names += [str(v) for v in areas["name"]]
    if not geoms:
        return None
    outline = ids[0] == ""
    label = names[0] if outline else "admin areas"
    return Boundaries.from_geometries(
        geoms, ids=ids, names=names, label=label, refuse_outside=outline
    )


def _outline_from_setting(text: str) -> tuple[BaseGeometry, str]:
    data = json.loads(text)
    return shapely.geometry.shape(data["geometry"]), str(data.get("name", "boundary"))


def set_boundary(
    store: Store, path: Path, *, name: str, limits: ImportLimits | None = None
) -> OperatingArea:
    """Set the workspace's country outline from a polygon file (all its polygons dissolved),
    and its operating area to the outline's bounding box; returns the area.

    Raises
    ------
    InputFileError
        If the file holds no polygon.
    """
    table = read_source(path, limits=limits)
    polygons = [
        g
        for g in (table.geometry if table.geometry is not None else [])
        if g is not None and g.geom_type in ("Polygon", "MultiPolygon")
    ]
    if not polygons:
        raise InputFileError(f"{path.name} holds no polygon; give a country or area outline")
    outline = shapely.union_all(polygons)
    west, south, east, north = outline.bounds
    area = OperatingArea(west, south, east, north, name=name)
    value = {"name": name, "geometry": shapely.geometry.mapping(outline)}
    store.set_setting(BOUNDARY_SETTING, json.dumps(value))
    set_operating_area(store, area)
    return area


# --- export -------------------------------------------------------------------------------


def export_layer(
    store: Store,
    layer: str,
    path: Path,
    *,
    fmt: ExportFormat | None = None,
    columns: Sequence[str] | None = None,
    who: str | None = None,
) -> int:
    """Write a layer to GeoJSON, GeoPackage or CSV, in a form ``geoplan import`` reads back.

    GeoPackage keeps dates as DATE columns and writes a layer without geometry (visits,
    indicators) as an attribute table; CSV writes points as lon/lat columns and other
    geometries as a ``wkt`` column; GeoJSON writes dates as ISO text (it has no date type) and
    features of a layer without geometry with a null geometry.

    With ``columns``, only those fields (the id always first) are written, and the geometry
    only when ``geometry`` (or ``lon``/``lat``) is among them: such a file, edited and imported
    with ``--update``, changes just those fields.

    An export of a sensitive layer's exact positions is written to the audit log, by ``who``
    (the person at the command line by default). Returns the number of rows written.

    Raises
    ------
    ParameterError
        If ``columns`` names something that is not a field of the layer.
    """
    fmt = fmt or _format_from_suffix(path)
    frame = store.read(layer)
    if columns is not None:
        frame = _with_columns(frame, get_layer(layer), columns)
    if fmt == "csv":
        write_csv(_csv_table(_dates_as_text(frame)), path)
    elif fmt == "gpkg":
        with private_file(path) as partial:
            _write_geopackage(frame, get_layer(layer), partial)
    else:
        geojson = _dates_as_text(frame)
        if not isinstance(geojson, gpd.GeoDataFrame):  # GeoJSON features carry a geometry
            geojson = gpd.GeoDataFrame(geojson, geometry=[None] * len(geojson), crs=WGS84)
        with private_file(path) as partial:
            geojson.to_file(partial, driver="GeoJSON", layer=layer, engine="pyogrio")
    if is_protected(get_layer(layer)):
        what = f"{layer} to {path.name} ({fmt})"
        who = who or command_line_user()
        record_event(store, Action.EXPORT_EXACT, who=who, what=what, rows=len(frame))
    return len(frame)


def _with_columns(
    frame: pd.DataFrame, definition: LayerDef, columns: Sequence[str]
) -> pd.DataFrame:
    """The id and the named fields, with the geometry when asked for."""
    wanted = [c.strip() for c in columns if c.strip()]
    names = set(definition.field_names)
    unknown = [c for c in wanted if c not in names and c not in GEOMETRY_COLUMNS]
    if unknown:
        hint = did_you_mean(unknown[0], definition.field_names)
        msg = f"layer {definition.name} has no field {unknown[0]!r}{hint}"
        raise ParameterError(f"{msg}; its fields are: {', '.join(definition.field_names)}")
    fields = list(dict.fromkeys([definition.id_field, *(c for c in wanted if c in names)]))
    keep_geometry = isinstance(frame, gpd.GeoDataFrame) and bool(set(wanted) & GEOMETRY_COLUMNS)
    if keep_geometry:
        return frame[[*fields, frame.geometry.name]]
    return pd.DataFrame(frame[fields])


def _write_geopackage(frame: pd.DataFrame, definition: LayerDef, path: Path) -> None:
    """One layer in a new GeoPackage: dates as DATE (numpy days, which GDAL writes as OFTDate;
    GeoDataFrame.to_file would write DATETIME), missing counts as NULL, geometry only if the
    layer has one."""
    spatial = isinstance(frame, gpd.GeoDataFrame)
    names = [c for c in frame.columns if not spatial or c != frame.geometry.name]
    dates = {f.name for f in definition.fields if f.type == "date"}
    columns = [_gpkg_column(frame[name], is_date=name in dates) for name in names]
    pyogrio.raw.write(
        path,
        geometry=shapely.to_wkb(frame.geometry.to_numpy()) if spatial else None,
        field_data=[values for values, _ in columns],
        fields=names,
        field_mask=[mask for _, mask in columns],
        layer=definition.name,
        driver="GPKG",
        geometry_type=_geometry_type(frame, definition) if spatial else None,
        crs=WGS84 if spatial else None,
        promote_to_multi=False,
    )


def _geometry_type(frame: gpd.GeoDataFrame, definition: LayerDef) -> str:
    """The layer's one geometry type (zones are stored as MultiPolygon), or Unknown if mixed."""
    kinds = set(frame.geom_type.dropna())
    if not kinds:
        return definition.geometry
    return kinds.pop() if len(kinds) == 1 else "Unknown"


def _gpkg_column(series: pd.Series, *, is_date: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """A column's values for :func:`pyogrio.raw.write` and its mask of missing values."""
    missing = series.isna().to_numpy(dtype=bool)
    if is_date:
        return pd.to_datetime(series).to_numpy().astype("datetime64[D]"), None
    if pd.api.types.is_integer_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        kind = "bool" if pd.api.types.is_bool_dtype(series.dtype) else "int64"
        return series.to_numpy(dtype=kind, na_value=0), missing
    if pd.api.types.is_float_dtype(series.dtype):
        return series.to_numpy(dtype="float64", na_value=np.nan), None
    values = np.array(series.astype(object), dtype=object)  # a copy: pandas may hand a view
    values[missing] = None
    return values, None


def _format_from_suffix(path: Path) -> ExportFormat:
    for fmt, suffix in EXPORT_SUFFIXES.items():
        if path.suffix.lower() == suffix:
            return fmt  # type: ignore[return-value]
    kinds = ", ".join(EXPORT_SUFFIXES.values())
    raise InputFileError(f"{path.name}: cannot tell the format from the name; end it with {kinds}")


def _dates_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as ISO text (CSV and GeoJSON have no date type), so each stays the day it is."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = [None if pd.isna(v) else v.date().isoformat() for v in out[column]]
    return out


def _csv_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The layer as a plain table: points as lon/lat columns, other geometries as WKT."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return frame
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    if (frame.geom_type == "Point").all():
        table["lon"], table["lat"] = frame.geometry.x, frame.geometry.y
    else:
        table["wkt"] = frame.geometry.to_wkt()
    return table
