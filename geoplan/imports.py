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
import pandas as pd

from geoplan.audit import Action, command_line_user, record_event
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
from geoplan.protect import is_protected
from geoplan.report import ValidationReport
from geoplan.sources import ImportLimits, RawTable, SourceOptions, read_source
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


def export_layer(
    store: Store,
    layer: str,
    path: Path,
    *,
    fmt: ExportFormat | None = None,
    who: str | None = None,
) -> int:
    """Write a layer to GeoJSON, GeoPackage or CSV (points as lon/lat columns, areas as WKT).

    An export of a sensitive layer's exact positions is written to the audit log, by ``who``
    (the person at the command line by default). Returns the number of rows written.
    """
    fmt = fmt or _format_from_suffix(path)
    frame = _exportable(store.read(layer))
    if fmt == "csv":
        write_csv(_csv_table(frame), path)
    else:
        _write_features(frame, layer, path, fmt)
    if is_protected(get_layer(layer)):
        what = f"{layer} to {path.name} ({fmt})"
        who = who or command_line_user()
        record_event(store, Action.EXPORT_EXACT, who=who, what=what, rows=len(frame))
    return len(frame)


def _write_features(frame: pd.DataFrame, layer: str, path: Path, fmt: ExportFormat) -> None:
    features = (
        frame
        if isinstance(frame, gpd.GeoDataFrame)
        else gpd.GeoDataFrame(frame, geometry=[None] * len(frame), crs="EPSG:4326")
    )  # visits: features without geometry
    driver = "GeoJSON" if fmt == "geojson" else "GPKG"
    with private_file(path) as partial:
        features.to_file(partial, driver=driver, layer=layer, engine="pyogrio")


def _format_from_suffix(path: Path) -> ExportFormat:
    for fmt, suffix in EXPORT_SUFFIXES.items():
        if path.suffix.lower() == suffix:
            return fmt  # type: ignore[return-value]
    kinds = ", ".join(EXPORT_SUFFIXES.values())
    raise InputFileError(f"{path.name}: cannot tell the format from the name; end it with {kinds}")


def _exportable(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as ISO text so that every format keeps them as the day they are."""
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
