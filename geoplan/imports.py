"""Importing files into the workspace and exporting layers out of it.

An import reads the file, validates every row against the layer's definition and the
workspace (operating area, ids that visits point at), and then writes all rows in one
transaction, or nothing at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio.raw
import shapely

from geoplan.catalog import LayerDef, get_layer
from geoplan.errors import InputFileError, LayerValidationError
from geoplan.layers import (
    ColumnMapping,
    OperatingArea,
    ValidationContext,
    validate_table,
)
from geoplan.outputs import private_file, write_csv
from geoplan.progress import Progress
from geoplan.report import ValidationReport
from geoplan.sources import WGS84, ImportLimits, RawTable, SourceOptions, read_source
from geoplan.store import Store, WriteResult

AREA_SETTING = "operating_area"
ExportFormat = Literal["geojson", "gpkg", "csv"]
EXPORT_SUFFIXES: dict[str, str] = {"geojson": ".geojson", "gpkg": ".gpkg", "csv": ".csv"}


@dataclass(frozen=True)
class ImportOptions:
    """How to read and check a file: reading options, what reading may cost, column mapping,
    operating area override."""

    source: SourceOptions = field(default_factory=SourceOptions)
    limits: ImportLimits = field(default_factory=ImportLimits)
    mapping: ColumnMapping = field(default_factory=ColumnMapping)
    area: OperatingArea | None = None
    today: dt.date | None = None


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
    frame, report, notes = check_file(path, layer, store=store, options=options, name=name)
    if not report.ok:
        raise LayerValidationError(report)
    if dry_run:
        return ImportResult(report, None, notes)
    return ImportResult(report, store.upsert(layer, frame, progress=progress), notes)


def _context(definition: LayerDef, store: Store, options: ImportOptions) -> ValidationContext:
    referenced = {name for f in definition.fields for name in f.references}
    known = {name: store.ids(name) for name in referenced}
    return ValidationContext(
        area=options.area or operating_area(store),
        known_ids=known,
        today=options.today or dt.date.today(),
    )


# --- export -------------------------------------------------------------------------------


def export_layer(store: Store, layer: str, path: Path, *, fmt: ExportFormat | None = None) -> int:
    """Write a layer to GeoJSON, GeoPackage or CSV, in a form ``geoplan import`` reads back.

    GeoPackage keeps dates as DATE columns and writes a layer without geometry (visits,
    indicators) as an attribute table; CSV writes points as lon/lat columns and other
    geometries as a ``wkt`` column; GeoJSON writes dates as ISO text (it has no date type) and
    features of a layer without geometry with a null geometry.

    Returns the number of rows written.
    """
    fmt = fmt or _format_from_suffix(path)
    frame = store.read(layer)
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
    return len(frame)


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
