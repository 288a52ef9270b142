"""Validating layers: raw tables in, typed GeoDataFrames out, every problem reported at once.

Validation happens once, here, at the boundary. Each rule is a small function that returns
problems for every row it finds; :func:`validate_table` runs them all and either returns the
typed frame with a clean report or a report listing every problem, each naming the file, row,
id, field, value and the fix. Downstream code trusts what comes out of here.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.errors
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from geoplan.catalog import (
    FieldDef,
    LayerDef,
    Value,
    is_missing,
    join_list,
    normalise_token,
    parse_value,
)
from geoplan.errors import MappingError
from geoplan.report import Problem, ProblemLog, ValidationReport
from geoplan.sources import WGS84, RawTable

# --- options ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OperatingArea:
    """Where the operation works: points outside are flagged. A bounding box in degrees."""

    west: float
    south: float
    east: float
    north: float
    name: str = "operating area"

    def __post_init__(self) -> None:
        if not (-180 <= self.west < self.east <= 180 and -90 <= self.south < self.north <= 90):
            msg = (
                f"operating area {self.west},{self.south},{self.east},{self.north} is not a box "
                "WEST,SOUTH,EAST,NORTH in degrees with west < east and south < north"
            )
            raise ValueError(msg)

    @classmethod
    def parse(cls, text: str, *, name: str = "operating area") -> OperatingArea:
        """From ``"WEST,SOUTH,EAST,NORTH"``."""
        try:
            west, south, east, north = (float(v) for v in text.split(","))
        except ValueError:
            msg = f"operating area {text!r} must be four numbers WEST,SOUTH,EAST,NORTH"
            raise ValueError(msg) from None
        return cls(west, south, east, north, name=name)

    def contains(self, lon: float, lat: float) -> bool:
        """Whether a point is inside the box."""
        return self.west <= lon <= self.east and self.south <= lat <= self.north

    def __str__(self) -> str:
        return f"{self.name} ({self.west:g},{self.south:g},{self.east:g},{self.north:g})"


@dataclass(frozen=True)
class ColumnMapping:
    """How a file's columns and values become a layer's fields.

    ``columns`` maps a field to a column, or to several columns where the first non-empty one
    wins; ``values`` maps raw values of a field to allowed ones; ``defaults`` fill empty cells.
    """

    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    defaults: Mapping[str, Value] = field(default_factory=dict)
    id_prefix: str = ""

    @classmethod
    def from_toml(cls, path: Path) -> ColumnMapping:
        """Load a mapping file (``[columns]``, ``[values.FIELD]``, ``[defaults]``, ``id_prefix``).

        Raises
        ------
        MappingError
            If the file is not valid TOML or has unknown sections.
        """
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise MappingError(f"mapping file {path}: {exc}") from exc
        unknown = set(data) - {"columns", "values", "defaults", "id_prefix"}
        if unknown:
            msg = f"mapping file {path.name}: unknown section(s) {', '.join(sorted(unknown))}"
            raise MappingError(f"{msg}; use [columns], [values.FIELD], [defaults], id_prefix")
        return cls.build(
            columns=data.get("columns", {}),
            values=data.get("values", {}),
            defaults=data.get("defaults", {}),
            id_prefix=str(data.get("id_prefix", "")),
        )

    @classmethod
    def build(
        cls,
        *,
        columns: Mapping[str, str | list[str] | tuple[str, ...]] | None = None,
        values: Mapping[str, Mapping[str, str]] | None = None,
        defaults: Mapping[str, Value] | None = None,
        id_prefix: str = "",
    ) -> ColumnMapping:
        """From plain dictionaries; a single column name may be given as a string."""
        cols = {k: (v,) if isinstance(v, str) else tuple(v) for k, v in (columns or {}).items()}
        vals = {
            k: {normalise_token(str(r)): str(a) for r, a in v.items()}
            for k, v in (values or {}).items()
        }
        return cls(columns=cols, values=vals, defaults=dict(defaults or {}), id_prefix=id_prefix)

    def merged(self, other: ColumnMapping) -> ColumnMapping:
        """This mapping with ``other``'s entries taking precedence."""
        return ColumnMapping(
            columns={**self.columns, **other.columns},
            values={**self.values, **other.values},
            defaults={**self.defaults, **other.defaults},
            id_prefix=other.id_prefix or self.id_prefix,
        )


@dataclass(frozen=True)
class ValidationContext:
    """What validation needs to know beyond the file itself.

    ``known_ids`` holds the ids that references may point at, by layer (from the workspace);
    ``today`` is the date after which dates count as in the future.
    """

    area: OperatingArea | None = None
    known_ids: Mapping[str, frozenset[str]] = field(default_factory=dict)
    today: dt.date = field(default_factory=dt.date.today)


# --- the entry point ----------------------------------------------------------------------


def validate_table(
    table: RawTable,
    layer: LayerDef,
    *,
    mapping: ColumnMapping | None = None,
    context: ValidationContext | None = None,
    keep_problems: int | None = None,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Check every row of a raw table against a layer definition.

    Every problem is counted; with ``keep_problems``, only the first that many (by row) are
    kept in the report, so that a file with very many bad cells stays cheap to check.

    Returns
    -------
    The typed frame (a GeoDataFrame in EPSG:4326 for layers with geometry) and the report. The
    frame holds only rows without errors; import it only when ``report.ok``.

    Raises
    ------
    MappingError
        If the mapping names columns the file does not have or fields the layer does not have.
    """
    mapping = mapping or ColumnMapping()
    context = context or ValidationContext()
    cells, found = _map_columns(table, layer, mapping)
    problems = ProblemLog(keep_problems)
    problems += found
    values = _parse_cells(cells, layer, table, problems)
    geometry = (
        _check_geometry(table, layer, values, context, problems) if layer.has_geometry else None
    )
    for rule in _ROW_RULES:
        problems += rule(values, layer, table, context)
    frame = _frame_from_values(values, layer, geometry)
    report = problems.report(layer.name, table.file, len(table.frame))
    return frame.loc[~frame.index.isin([r - 1 for r in report.bad_rows])], report


# --- columns ------------------------------------------------------------------------------


def _map_columns(
    table: RawTable, layer: LayerDef, mapping: ColumnMapping
) -> tuple[dict[str, list[object]], list[Problem]]:
    _check_mapping(table, layer, mapping)
    by_lower = {str(c).strip().lower(): str(c) for c in table.frame.columns}
    cells: dict[str, list[object]] = {}
    used: set[str] = {c for c in (table.lon_column, table.lat_column, wkt_column(table)) if c}
    for f in layer.fields:
        sources = mapping.columns.get(f.name) or ((by_lower[f.name],) if f.name in by_lower else ())
        used.update(sources)
        cells[f.name] = _coalesce(table.frame, sources, f, mapping)
    problems = _unused_columns(table, used)
    return cells, problems


def _check_mapping(table: RawTable, layer: LayerDef, mapping: ColumnMapping) -> None:
    columns = set(map(str, table.frame.columns))
    for name in [*mapping.columns, *mapping.values, *mapping.defaults]:
        if name not in layer.field_names:
            msg = f"the mapping names field {name!r}, which layer {layer.name} does not have"
            raise MappingError(f"{msg}; its fields are: {', '.join(layer.field_names)}")
    missing = [c for srcs in mapping.columns.values() for c in srcs if c not in columns]
    if missing:
        msg = f"{table.file} has no column {missing[0]!r}"
        raise MappingError(f"{msg}; its columns are: {', '.join(sorted(columns))}")


def _coalesce(
    frame: pd.DataFrame, sources: tuple[str, ...], f: FieldDef, mapping: ColumnMapping
) -> list[object]:
    out: list[object] = [None] * len(frame)
    for source in reversed(sources):
        column = frame[source].tolist()
        out = [c if not is_missing(c) else o for c, o in zip(column, out, strict=True)]
    translate = mapping.values.get(f.name, {})
    if translate:
        out = [translate.get(normalise_token(str(v)), v) if not is_missing(v) else v for v in out]
    if f.name in mapping.defaults:
        default = mapping.defaults[f.name]
        out = [default if is_missing(v) else v for v in out]
    if f.name == "id" and mapping.id_prefix:
        out = [f"{mapping.id_prefix}{_id_text(v)}" if not is_missing(v) else v for v in out]
    return out


def _id_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _unused_columns(table: RawTable, used: set[str]) -> list[Problem]:
    unused = [str(c) for c in table.frame.columns if str(c) not in used]
    if not unused:
        return []
    return [
        Problem(
            rule="unused-columns",
            message=f"column(s) {', '.join(unused)} are not fields of this layer and were ignored",
            fix="map a column to a field with --map FIELD=COLUMN if it holds one",
            file=table.file,
            severity="warning",
        )
    ]


# --- cells --------------------------------------------------------------------------------


def _parse_cells(
    cells: dict[str, list[object]], layer: LayerDef, table: RawTable, problems: ProblemLog
) -> dict[str, list[Value]]:
    ids = [_id_text(v) if not is_missing(v) else None for v in cells[layer.id_field]]
    values: dict[str, list[Value]] = {}
    for f in layer.fields:
        values[f.name] = [
            _parse_cell(f, raw, _Where(table, i, ids[i]), problems)
            for i, raw in enumerate(cells[f.name])
        ]
    return values


@dataclass(frozen=True)
class _Where:
    table: RawTable
    index: int
    id: str | None

    def problem(self, rule: str, message: str, fix: str, **kwargs: object) -> Problem:
        lines = self.table.lines
        return Problem(
            rule=rule,
            message=message,
            fix=fix,
            file=self.table.file,
            row=self.index + 1,
            line=lines[self.index] if lines else None,
            id=self.id,
            **kwargs,  # type: ignore[arg-type]
        )


def _parse_cell(f: FieldDef, raw: object, where: _Where, problems: ProblemLog) -> Value:
    if is_missing(raw):
        if f.required:
            fix = f"fill in {f.name}: {f.description}"
            problems.append(
                where.problem("missing-required", "required value is missing", fix, field=f.name)
            )
        return f.default
    try:
        return parse_value(f, raw)
    except ValueError as exc:
        rule = "not-allowed" if "not an allowed value" in str(exc) else _type_rule(f, str(exc))
        problems.append(
            where.problem(rule, str(exc), _fix_for(f, str(exc)), field=f.name, value=_show(raw))
        )
        return None


def _type_rule(f: FieldDef, message: str) -> str:
    if "negative" in message or "maximum" in message or "below" in message:
        return "out-of-range"
    if "expected form" in message:
        return "bad-format"
    return "wrong-type"


def _fix_for(f: FieldDef, message: str) -> str:
    if "negative" in message:
        return f"write a count of zero or more in {f.name}"
    if f.type in ("enum", "enum_list"):
        return (
            f"use one of the allowed values, or map yours with [values.{f.name}] in a mapping file"
        )
    unit = f" in {f.unit}" if f.unit else ""
    return f"write a valid {f.type.replace('_', ' ')}{unit} in {f.name}, or leave it empty" + (
        "" if not f.required else " only if optional"
    )


def _show(raw: object) -> str:
    text = raw.isoformat() if isinstance(raw, dt.date | dt.time) else str(raw)
    return text if len(text) <= 80 else text[:77] + "..."


# --- geometry -----------------------------------------------------------------------------


def _check_geometry(
    table: RawTable,
    layer: LayerDef,
    values: dict[str, list[Value]],
    context: ValidationContext,
    problems: ProblemLog,
) -> list[BaseGeometry | None]:
    ids = values[layer.id_field]
    wkt = wkt_column(table)
    if table.geometry is None and wkt is not None and table.lon_column is None:
        geoms = _shapes_from_wkt(table, wkt, ids, problems)
    elif table.geometry is None:
        if table.lon_column is None or table.lat_column is None:
            problems.append(_no_coordinates(table, layer))
            return [None] * len(table.frame)
        geoms = _points_from_columns(table, ids, problems)
    else:
        geoms = list(table.geometry)
    from_columns = table.geometry is None
    out: list[BaseGeometry | None] = []
    for i, geom in enumerate(geoms):
        if geom is None and from_columns:  # the coordinate cells were reported already
            out.append(None)
            continue
        where = _Where(table, i, _as_id(ids[i]))
        out.append(_check_one_geometry(geom, layer, where, context, problems))
    return out


def _no_coordinates(table: RawTable, layer: LayerDef) -> Problem:
    columns = ", ".join(map(str, table.frame.columns))
    return Problem(
        rule="no-coordinates",
        message=f"no longitude/latitude columns found for layer {layer.name} (columns: {columns})",
        fix="name them lon and lat, or pass --lon-column and --lat-column; or give each "
        "geometry as WKT in a column named wkt (as geoplan export --format csv writes areas)",
        file=table.file,
    )


WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")
"""Names of a table column holding each row's geometry as WKT (``geoplan export`` writes
``wkt``), case aside."""


def wkt_column(table: RawTable) -> str | None:
    """The column of a table (without geometry) that holds WKT geometries, or None."""
    if table.geometry is not None:
        return None
    return next((str(c) for c in table.frame.columns if str(c).strip().lower() in WKT_NAMES), None)


def _shapes_from_wkt(
    table: RawTable, column: str, ids: list[Value], problems: ProblemLog
) -> list[BaseGeometry | None]:
    """Each row's geometry from its WKT cell (in the table's CRS, then WGS 84); a missing or
    unreadable cell is a problem naming the row, the column and the value."""
    shapes: list[BaseGeometry | None] = []
    for i, raw in enumerate(table.frame[column].tolist()):
        where = _Where(table, i, _as_id(ids[i]))
        shapes.append(_shape_from_wkt(raw, column, where, problems))
    if table.crs != WGS84 and any(g is not None for g in shapes):
        series = gpd.GeoSeries(shapes, crs=table.crs).to_crs(WGS84)
        shapes = [None if g is None else t for g, t in zip(shapes, series, strict=True)]
    return shapes


def _shape_from_wkt(
    raw: object, column: str, where: _Where, problems: ProblemLog
) -> BaseGeometry | None:
    if is_missing(raw):
        fix = f"write the geometry as WKT in column {column}, or drop the row"
        problems.append(where.problem("missing-geometry", "geometry is missing", fix, field=column))
        return None
    try:
        return shapely.from_wkt(str(raw).strip())
    except shapely.errors.GEOSException as exc:
        fix = f"write {column} as WKT, for example POLYGON ((13.1 32.8, 13.2 32.8, 13.2 32.9, 13.1 32.8))"
        problems.append(
            where.problem(
                "bad-wkt",
                f"{column} is not readable WKT ({exc})",
                fix,
                field=column,
                value=_show(raw),
            )
        )
        return None


def _as_id(value: Value) -> str | None:
    return value if isinstance(value, str) else None


def _points_from_columns(
    table: RawTable, ids: list[Value], problems: ProblemLog
) -> list[BaseGeometry | None]:
    assert table.lon_column is not None
    assert table.lat_column is not None
    lons = table.frame[table.lon_column].tolist()
    lats = table.frame[table.lat_column].tolist()
    points: list[BaseGeometry | None] = []
    for i, (lon_raw, lat_raw) in enumerate(zip(lons, lats, strict=True)):
        where = _Where(table, i, _as_id(ids[i]))
        lon = _coordinate(lon_raw, "longitude", table.lon_column, where, problems)
        lat = _coordinate(lat_raw, "latitude", table.lat_column, where, problems)
        points.append(shapely.Point(lon, lat) if lon is not None and lat is not None else None)
    if table.crs != WGS84 and any(p is not None for p in points):
        series = gpd.GeoSeries(points, crs=table.crs).to_crs(WGS84)
        points = [None if p is None else g for p, g in zip(points, series, strict=True)]
    return points


def _coordinate(
    raw: object, axis: str, column: str, where: _Where, problems: ProblemLog
) -> float | None:
    if is_missing(raw):
        fix = f"fill in the {axis} in column {column}, or drop the row"
        problems.append(
            where.problem("missing-coordinates", f"{axis} is missing", fix, field=column)
        )
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
        return float(raw)
    try:
        number = float(str(raw).strip())
    except ValueError:
        number = math.nan
    if math.isfinite(number):
        return number
    _bad_coordinate(raw, axis, column, where, problems)
    return None


def _bad_coordinate(
    raw: object, axis: str, column: str, where: _Where, problems: ProblemLog
) -> None:
    text = str(raw).strip()
    numbers = re.findall(r"-?\d+(?:\.\d+)?", text)
    if re.fullmatch(r"-?\d+,\d+", text):
        message = f"{axis} uses a decimal comma, or holds two numbers pasted into one cell"
        fix = f"write the {axis} with a decimal point: {text.replace(',', '.')}"
    elif len(numbers) >= 2 or text.endswith(","):
        message = f"{axis} cell holds a coordinate pair or a stray comma, as if 'lat, lon' was pasted into one cell"
        fix = f"keep only the {axis} in column {column} as a plain decimal number"
    else:
        message = f"{axis} is not a number"
        fix = f"write the {axis} as a decimal number of degrees in column {column}"
    problems.append(where.problem("bad-coordinates", message, fix, field=column, value=_show(raw)))


def _check_one_geometry(
    geom: BaseGeometry | None,
    layer: LayerDef,
    where: _Where,
    context: ValidationContext,
    problems: ProblemLog,
) -> BaseGeometry | None:
    found = _geometry_problem(geom, layer, where)
    if found is not None:
        problems.append(found)
        return None
    assert geom is not None
    if layer.geometry == "Point":
        bad = _point_problems(geom, where, context)
        problems += bad
        return None if bad else geom
    return shapely.MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom


def _geometry_problem(geom: BaseGeometry | None, layer: LayerDef, where: _Where) -> Problem | None:
    if geom is None or geom.is_empty:
        fix = "give the row a geometry (or coordinates), or drop it"
        return where.problem(
            "missing-coordinates", "geometry is missing or empty", fix, field="geometry"
        )
    allowed = ("Point",) if layer.geometry == "Point" else ("Polygon", "MultiPolygon")
    if geom.geom_type not in allowed:
        msg = f"geometry is a {geom.geom_type}; layer {layer.name} needs {' or '.join(allowed)}"
        return where.problem(
            "wrong-geometry-type", msg, f"convert it to a {allowed[0]}", field="geometry"
        )
    if not geom.is_valid:
        reason = explain_validity(geom)
        fix = "repair it (QGIS: Vector > Geometry Tools > Fix Geometries) and import again"
        return where.problem(
            "invalid-geometry", f"geometry is invalid: {reason}", fix, field="geometry"
        )
    return None


def _point_problems(geom: BaseGeometry, where: _Where, context: ValidationContext) -> list[Problem]:
    lon, lat = geom.x, geom.y
    value = f"{lon:g}, {lat:g}"
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return [_out_of_range(lon, lat, value, where)]
    area = context.area
    if area is None or area.contains(lon, lat):
        return []
    return [_outside_area(lon, lat, value, area, where)]


def _out_of_range(lon: float, lat: float, value: str, where: _Where) -> Problem:
    swapped = -180 <= lat <= 180 and -90 <= lon <= 90
    message = f"coordinates (lon, lat) {value} are outside -180..180, -90..90"
    if swapped:
        fix = "longitude and latitude look swapped: exchange the two values"
        return where.problem("lon-lat-swapped", message, fix, field="geometry", value=value)
    fix = "check the coordinates; they must be decimal degrees in EPSG:4326 or in the CRS the file declares"
    return where.problem("coordinates-out-of-range", message, fix, field="geometry", value=value)


def _outside_area(
    lon: float, lat: float, value: str, area: OperatingArea, where: _Where
) -> Problem:
    message = f"point (lon, lat) {value} is outside the {area}"
    if area.contains(lat, lon):
        fix = "longitude and latitude look swapped: exchange the two values"
        return where.problem("lon-lat-swapped", message, fix, field="geometry", value=value)
    if area.contains(-lon, lat):
        fix = f"the longitude's sign looks wrong: {-lon:g} would be inside; correct the sign"
        return where.problem("wrong-sign", message, fix, field="geometry", value=value)
    if area.contains(lon, -lat):
        fix = f"the latitude's sign looks wrong: {-lat:g} would be inside; correct the sign"
        return where.problem("wrong-sign", message, fix, field="geometry", value=value)
    fix = "correct the coordinates, or widen the operating area with `geoplan area set`"
    return where.problem("outside-area", message, fix, field="geometry", value=value)


# --- rules across rows and fields ---------------------------------------------------------

RowRule = Callable[[dict[str, list[Value]], LayerDef, RawTable, ValidationContext], list[Problem]]


def _duplicate_ids(
    values: dict[str, list[Value]], layer: LayerDef, table: RawTable, context: ValidationContext
) -> list[Problem]:
    rows_by_id: dict[str, list[int]] = {}
    for i, value in enumerate(values[layer.id_field]):
        if isinstance(value, str):
            rows_by_id.setdefault(value, []).append(i)
    problems = []
    for pid, rows in rows_by_id.items():
        if len(rows) < 2:
            continue
        listed = ", ".join(str(r + 1) for r in rows)
        for i in rows:
            msg = f"id {pid} is used by rows {listed}"
            fix = "give each row its own id; an id must be unique in a layer"
            problems.append(
                _Where(table, i, pid).problem(
                    "duplicate-id", msg, fix, field=layer.id_field, value=pid
                )
            )
    return problems


def _part_sums(
    values: dict[str, list[Value]], layer: LayerDef, table: RawTable, context: ValidationContext
) -> list[Problem]:
    problems = []
    for total, parts in _part_groups(layer).items():
        for i in range(len(table.frame)):
            problems += _check_parts(
                values, total, parts, _Where(table, i, _as_id(values[layer.id_field][i]))
            )
    return problems


def _part_groups(layer: LayerDef) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for f in layer.fields:
        if f.part_of:
            groups.setdefault(f.part_of, []).append(f.name)
    return groups


def _check_parts(
    values: dict[str, list[Value]], total: str, parts: list[str], where: _Where
) -> list[Problem]:
    known = [v for p in parts if isinstance(v := values[p][where.index], int)]
    count = values[total][where.index]
    if not known:
        return []
    summed = sum(known)
    if not isinstance(count, int):
        if len(known) == len(parts):
            values[total][where.index] = summed  # the total follows from a complete breakdown
        return []
    names = "+".join(parts)
    if summed > count:
        msg = f"{names} add up to {summed}, more than {total} {count}"
        fix = f"correct the breakdown or raise {total} to at least {summed}"
        return [where.problem("parts-exceed-total", msg, fix, field=total, value=str(count))]
    if len(known) == len(parts) and summed != count:
        msg = f"{names} add up to {summed}, but {total} is {count}"
        fix = f"make {total} equal to the sum of {names}, or leave one part empty if unknown"
        return [where.problem("parts-contradict-total", msg, fix, field=total, value=str(count))]
    return []


def _order_rules(
    values: dict[str, list[Value]], layer: LayerDef, table: RawTable, context: ValidationContext
) -> list[Problem]:
    problems = []
    for f in layer.fields:
        if not f.after:
            continue
        for i, (end, start) in enumerate(zip(values[f.name], values[f.after], strict=True)):
            if end is None or start is None or end > start:  # type: ignore[operator]
                continue
            if f.type == "date" and end == start:
                continue
            where = _Where(table, i, _as_id(values[layer.id_field][i]))
            msg = f"{f.name} {_show(end)} is not after {f.after} {_show(start)}"
            fix = "swap the two values or correct one of them"
            problems.append(where.problem("order", msg, fix, field=f.name, value=_show(end)))
    return problems


def _future_dates(
    values: dict[str, list[Value]], layer: LayerDef, table: RawTable, context: ValidationContext
) -> list[Problem]:
    problems = []
    for f in layer.fields:
        if not f.not_future:
            continue
        for i, day in enumerate(values[f.name]):
            if isinstance(day, dt.date) and day > context.today:
                where = _Where(table, i, _as_id(values[layer.id_field][i]))
                msg = f"{f.name} {day.isoformat()} is in the future (today is {context.today.isoformat()})"
                fix = "record visits after they happen; check the year and the day/month order"
                problems.append(
                    where.problem("future-date", msg, fix, field=f.name, value=day.isoformat())
                )
    return problems


def _references(
    values: dict[str, list[Value]], layer: LayerDef, table: RawTable, context: ValidationContext
) -> list[Problem]:
    problems = []
    for f in layer.fields:
        if not f.references:
            continue
        known = frozenset().union(
            *(context.known_ids.get(name, frozenset()) for name in f.references)
        )
        for i, ref in enumerate(values[f.name]):
            if isinstance(ref, str) and ref not in known:
                where = _Where(table, i, _as_id(values[layer.id_field][i]))
                layers_text = " or ".join(f.references)
                msg = f"{f.name} {ref} is not an id in {layers_text}"
                fix = f"import the {layers_text} layer first, or correct the id"
                problems.append(
                    where.problem("unknown-reference", msg, fix, field=f.name, value=ref)
                )
    return problems


_ROW_RULES: tuple[RowRule, ...] = (
    _duplicate_ids,
    _part_sums,
    _order_rules,
    _future_dates,
    _references,
)


# --- typed frame --------------------------------------------------------------------------


def _frame_from_values(
    values: dict[str, list[Value]], layer: LayerDef, geometry: list[BaseGeometry | None] | None
) -> pd.DataFrame:
    data = {f.name: column_from_values(f, values[f.name]) for f in layer.fields}
    frame = pd.DataFrame(data)
    if geometry is None:
        return frame
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs=WGS84), crs=WGS84)


def column_from_values(f: FieldDef, column: Iterable[Value]) -> pd.Series:
    """A typed pandas column for a field: ``Int64``, ``float64``, ``boolean``, dates as
    ``datetime64``, lists comma-joined, text as strings; missing values as NA."""
    items = list(column)
    if f.type == "integer":
        return pd.Series(items, dtype="Int64")
    if f.type == "number":
        return pd.Series([np.nan if v is None else v for v in items], dtype="float64")
    if f.type == "boolean":
        return pd.Series(items, dtype="boolean")
    if f.type == "date":
        return pd.to_datetime(pd.Series(items, dtype=object), errors="coerce").astype(
            "datetime64[ns]"
        )
    if f.type == "enum_list":
        items = [join_list(v) if isinstance(v, tuple) and v else None for v in items]
    return pd.Series(items, dtype=object)
