"""Validating layers: raw tables in, typed GeoDataFrames out, every problem reported at once.

Validation happens once, here, at the boundary. Each rule is a small function that returns
problems for every row it finds; :func:`validate_table` runs them all and either returns the
typed frame with a clean report or a report listing every problem, each naming the file, row,
id, field, value and the fix. Downstream code trusts what comes out of here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.errors
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from geoplan.boundaries import Boundaries, Inside, placement_hint
from geoplan.catalog import (
    FieldDef,
    LayerDef,
    Value,
    is_missing,
    join_list,
    normalise_token,
    parse_value,
)
from geoplan.coordinates import lon_lat, pair_order, split_pair
from geoplan.errors import MappingError
from geoplan.hxl import tag_sources
from geoplan.report import Problem, ProblemLog, ValidationReport
from geoplan.sources import WGS84, RawTable
from geoplan.spreadsheets import (
    did_you_mean,
    is_time_range,
    read_clock,
    read_days,
    read_time_range,
    split_days,
)

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
    id_from: str = ""

    def __post_init__(self) -> None:
        if self.id_from in ID_MADE:
            return
        if self.id_from:  # a column: the same as mapping the id to it
            columns = {**self.columns, "id": (self.id_from,)}
            object.__setattr__(self, "columns", columns)
            object.__setattr__(self, "id_from", "")

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
        unknown = set(data) - {"columns", "values", "defaults", "id_prefix", "id_from"}
        if unknown:
            msg = f"mapping file {path.name}: unknown section(s) {', '.join(sorted(unknown))}"
            raise MappingError(
                f"{msg}; use [columns], [values.FIELD], [defaults], id_prefix, id_from"
            )
        return cls.build(
            columns=data.get("columns", {}),
            values=data.get("values", {}),
            defaults=data.get("defaults", {}),
            id_prefix=str(data.get("id_prefix", "")),
            id_from=str(data.get("id_from", "")),
        )

    @classmethod
    def build(
        cls,
        *,
        columns: Mapping[str, str | list[str] | tuple[str, ...]] | None = None,
        values: Mapping[str, Mapping[str, str]] | None = None,
        defaults: Mapping[str, Value] | None = None,
        id_prefix: str = "",
        id_from: str = "",
    ) -> ColumnMapping:
        """From plain dictionaries; a single column name may be given as a string."""
        cols = {k: (v,) if isinstance(v, str) else tuple(v) for k, v in (columns or {}).items()}
        vals = {
            k: {normalise_token(str(r)): str(a) for r, a in v.items()}
            for k, v in (values or {}).items()
        }
        return cls(
            columns=cols,
            values=vals,
            defaults=dict(defaults or {}),
            id_prefix=id_prefix,
            id_from=id_from,
        )

    def merged(self, other: ColumnMapping) -> ColumnMapping:
        """This mapping with ``other``'s entries taking precedence."""
        return ColumnMapping(
            columns={**self.columns, **other.columns},
            values={**self.values, **other.values},
            defaults={**self.defaults, **other.defaults},
            id_prefix=other.id_prefix or self.id_prefix,
            id_from=other.id_from or self.id_from,
        )


ID_MADE = ("row", "content")
"""``id_from`` values that make ids for a file without them: from the row number, or from a
hash of the row's cells (stable when rows are reordered)."""
DUPLICATE_POLICIES = ("error", "identical", "first", "last")


@dataclass(frozen=True)
class ValidationContext:
    """What validation needs to know beyond the file itself.

    ``known_ids`` holds the ids that references may point at, by layer (from the workspace);
    ``today`` is the date after which dates count as in the future; ``boundaries`` are the
    polygons points must fall in (admin areas or a country outline); ``on_duplicate`` says
    what rows sharing an id do: ``error`` refuses them, ``identical`` drops rows identical to
    an earlier one and refuses the others, ``first`` and ``last`` keep one row per id.
    """

    area: OperatingArea | None = None
    known_ids: Mapping[str, frozenset[str]] = field(default_factory=dict)
    today: dt.date = field(default_factory=dt.date.today)
    boundaries: Boundaries | None = None
    on_duplicate: str = "error"

    def __post_init__(self) -> None:
        if self.on_duplicate not in DUPLICATE_POLICIES:
            msg = (
                f"on_duplicate {self.on_duplicate!r} is not one of {', '.join(DUPLICATE_POLICIES)}"
            )
            raise ValueError(msg)


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
    dropped = drop_duplicates(values[layer.id_field], table, context.on_duplicate, problems)
    for rule in _ROW_RULES:
        problems += rule(values, layer, table, context)
    frame = _frame_from_values(values, layer, geometry)
    report = problems.report(layer.name, table.file, len(table.frame))
    bad = {r - 1 for r in report.bad_rows} | dropped
    return frame.loc[~frame.index.isin(sorted(bad))], report


# --- columns ------------------------------------------------------------------------------


def _map_columns(
    table: RawTable, layer: LayerDef, mapping: ColumnMapping
) -> tuple[dict[str, list[object]], list[Problem]]:
    _check_mapping(table, layer, mapping)
    by_lower = {str(c).strip().lower(): str(c) for c in table.frame.columns}
    cells: dict[str, list[object]] = {}
    used: set[str] = {
        c for c in (table.lon_column, table.lat_column, table.pair_column, wkt_column(table)) if c
    }
    tagged = tag_sources(table.tags, layer)
    for f in layer.fields:
        sources = (
            mapping.columns.get(f.name)
            or ((by_lower[f.name],) if f.name in by_lower else ())
            or tagged.get(f.name, ())
        )
        used.update(sources)
        cells[f.name] = _coalesce(table.frame, sources, f, mapping)
    if mapping.id_from in ID_MADE and not mapping.columns.get(layer.id_field):
        made = made_ids(table, mapping.id_from)
        cells[layer.id_field] = [f"{mapping.id_prefix}{i}" for i in made]
    problems = _split_time_ranges(table, layer, cells, used)
    problems += _unused_columns(table, used)
    return cells, problems


def map_cells(
    table: RawTable, layer: LayerDef, mapping: ColumnMapping | None = None
) -> tuple[dict[str, list[object]], list[Problem]]:
    """A table's raw cells by field, as validation reads them (mapping applied, time ranges
    in one cell split into start and end), and the problems found in doing so.

    Raises
    ------
    MappingError
        As :func:`validate_table`.
    """
    return _map_columns(table, layer, mapping or ColumnMapping())


def made_ids(table: RawTable, how: str) -> list[str]:
    """Ids for a file without them: ``row-17`` (the record number), or ``c-`` and twelve hex
    digits of a hash of the row's cells, so that a re-import of the same file (or of the
    same rows in another order) gives the same ids."""
    if how == "row":
        return [f"row-{r}" for r in table.rows]
    records = table.frame.astype(str).to_numpy().tolist()
    geoms = (
        [g.wkb_hex if g is not None else "" for g in table.geometry]
        if table.geometry is not None
        else [""] * len(records)
    )
    return [
        "c-" + hashlib.sha256("\x1f".join([*r, g]).encode()).hexdigest()[:12]
        for r, g in zip(records, geoms, strict=True)
    ]


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
            value=", ".join(unused),
            severity="warning",
        )
    ]


# --- a time range in one cell -------------------------------------------------------------

_RANGE_COLUMNS = ("{p}", "{p}_hours", "{p}_time", "{p}_times", "{p}s")
_ONE_PAIR_COLUMNS = ("hours", "working_hours", "times", "time_range")


def _time_pairs(layer: LayerDef) -> list[tuple[str, str]]:
    """(start, end) field pairs of clock times, such as (shift_start, shift_end)."""
    times = {f.name for f in layer.fields if f.type == "time"}
    return [(f.after, f.name) for f in layer.fields if f.name in times and f.after in times]


def _range_column(table: RawTable, layer: LayerDef, pair: tuple[str, str]) -> str | None:
    """A file column holding a pair's start and end in one cell: ``shift`` or
    ``shift_hours`` for (shift_start, shift_end); ``hours`` when the layer has one pair."""
    prefix = pair[0].removesuffix("_start").removesuffix("_from")
    names = [n.format(p=prefix) for n in _RANGE_COLUMNS]
    if len(_time_pairs(layer)) == 1:
        names += _ONE_PAIR_COLUMNS
    by_token = {normalise_token(str(c)): str(c) for c in table.frame.columns}
    fields = set(layer.field_names)
    return next((by_token[n] for n in names if n in by_token and n not in fields), None)


def _split_time_ranges(
    table: RawTable, layer: LayerDef, cells: dict[str, list[object]], used: set[str]
) -> list[Problem]:
    """Read ``8:00-16:00`` (in a ``shift`` column, or in the start or end cell itself) as a
    start and an end; a range that cannot be read is an error of its row, never a default."""
    problems: list[Problem] = []
    ids = [_id_text(v) if not is_missing(v) else None for v in cells[layer.id_field]]
    for pair in _time_pairs(layer):
        column = _range_column(table, layer, pair)
        combined = table.frame[column].tolist() if column else [None] * len(table.frame)
        if column:
            used.add(column)
        days = _days_field(layer, pair)
        for i, raw in enumerate(combined):
            where = _Where(table, i, ids[i])
            problems += _split_one(cells, (*pair, days), raw, column or pair[0], where)
    return problems


def _days_field(layer: LayerDef, pair: tuple[str, str]) -> str | None:
    """The day list that goes with a pair of times: opening_days for opening_start, and
    working_days for a team's shift."""
    prefix = pair[0].removesuffix("_start").removesuffix("_from")
    for name in (f"{prefix}_days", "working_days"):
        if name in layer.field_names and layer.field(name).type == "enum_list":
            return name
    return None


def _split_one(
    cells: dict[str, list[object]],
    fields: tuple[str, str, str | None],
    raw: object,
    column: str,
    where: _Where,
) -> list[Problem]:
    start, end, days_field = fields
    pair = (start, end)
    cell = _range_cell(raw, cells[start][where.index], cells[end][where.index])
    if cell is None:
        return []
    text, from_column = cell
    days, text = split_days(text) if from_column and days_field else ((), text)
    if days and days_field:
        found = _set_days(cells, days_field, days, column, where)
        if found:
            return found
    try:
        first, last = read_time_range(text)
    except ValueError as exc:
        fix = (
            "write the times as HH:MM-HH:MM on the 24-hour clock (for example 08:00-16:00), "
            f"or fill {start} and {end}"
        )
        return [where.problem("bad-time-range", str(exc), fix, field=column, value=_show(text))]
    if from_column and _disagrees(cells, pair, where.index, (first, last)):
        msg = f"{column} {text} disagrees with {start}/{end} in the same row"
        fix = f"keep the times in one place: empty {column}, or {start} and {end}"
        return [where.problem("conflicting-times", msg, fix, field=column, value=_show(text))]
    cells[start][where.index], cells[end][where.index] = first, last
    return []


def _set_days(
    cells: dict[str, list[object]], field: str, days: tuple[str, ...], column: str, where: _Where
) -> list[Problem]:
    """Days written with the times (``Su-Th 08:00-16:00``) fill the day list of the row."""
    current = cells[field][where.index]
    if not is_missing(current) and read_days(str(current)) != days:
        msg = f"the days in {column} disagree with {field} in the same row"
        fix = f"keep the days in one place: in {column} or in {field}"
        return [where.problem("conflicting-days", msg, fix, field=column, value=_show(current))]
    cells[field][where.index] = ",".join(days)
    return []


def _range_cell(raw: object, start: object, end: object) -> tuple[str, bool] | None:
    """The text holding a time range, and whether it came from a separate column."""
    if not is_missing(raw):
        return str(raw), True
    for value in (start, end):
        if isinstance(value, str) and is_time_range(value):
            return value, False
    return None


def _disagrees(
    cells: dict[str, list[object]], pair: tuple[str, str], index: int, times: tuple[str, str]
) -> bool:
    for name, expected in zip(pair, times, strict=True):
        value = cells[name][index]
        if is_missing(value) or isinstance(value, dt.time):
            continue
        try:
            if read_clock(str(value)) != expected:
                return True
        except ValueError:
            return True
    return False


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
    admin_code: str | None = None

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
    if table.geometry is None and table.pair_column is not None:
        geoms = _points_from_pairs(table, ids, context, problems)
    elif table.geometry is None and wkt is not None and table.lon_column is None:
        geoms = _shapes_from_wkt(table, wkt, ids, problems)
    elif table.geometry is None:
        if table.lon_column is None or table.lat_column is None:
            problems.append(_no_coordinates(table, layer))
            return [None] * len(table.frame)
        geoms = _points_from_columns(table, ids, problems)
    else:
        geoms = list(table.geometry)
    from_columns = table.geometry is None
    codes = values.get("admin_code", [None] * len(geoms))
    out: list[BaseGeometry | None] = []
    for i, geom in enumerate(geoms):
        if geom is None and from_columns:  # the coordinate cells were reported already
            out.append(None)
            continue
        where = _Where(table, i, _as_id(ids[i]), _as_id(codes[i]))
        out.append(_check_one_geometry(geom, layer, where, context, problems))
    return out


def _no_coordinates(table: RawTable, layer: LayerDef) -> Problem:
    columns = ", ".join(map(str, table.frame.columns))
    return Problem(
        rule="no-coordinates",
        message=f"no longitude/latitude columns found for layer {layer.name} (columns: {columns})",
        fix="name them lon and lat, pass --lon-column and --lat-column, or --coordinates "
        "COLUMN for a 'lat, lon' cell; or give each geometry as WKT in a column named wkt "
        "(as geoplan export --format csv writes areas)",
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


def _points_from_pairs(
    table: RawTable, ids: list[Value], context: ValidationContext, problems: ProblemLog
) -> list[BaseGeometry | None]:
    """Points from a column holding both coordinates ("lat, lon", a geopoint "lat lon alt
    acc"), in the order given or told from the values and the operating area."""
    column = table.pair_column
    assert column is not None
    cells = table.frame[column].tolist()
    pairs = [split_pair(c) for c in cells]
    order = table.coordinate_order
    if order is None:
        inside = _inside(context)
        order, why = pair_order([p for p in pairs if p is not None], inside=inside)
        problems.append(_order_note(table, column, order, why))
    points: list[BaseGeometry | None] = []
    for i, (raw, pair) in enumerate(zip(cells, pairs, strict=True)):
        if pair is None:
            _bad_pair(raw, column, _Where(table, i, _as_id(ids[i])), problems)
            points.append(None)
        else:
            points.append(shapely.Point(*lon_lat(pair, order)))
    if table.crs != WGS84 and any(p is not None for p in points):
        series = gpd.GeoSeries(points, crs=table.crs).to_crs(WGS84)
        points = [None if p is None else g for p, g in zip(points, series, strict=True)]
    return points


def _inside(context: ValidationContext) -> Inside | None:
    if context.boundaries is not None:
        return context.boundaries.contains
    return context.area.contains if context.area is not None else None


def _order_note(table: RawTable, column: str, order: str, why: str) -> Problem:
    first = "latitude" if order == "latlon" else "longitude"
    return Problem(
        rule="coordinate-order",
        message=f"column {column} holds both coordinates; read with the {first} first ({why})",
        fix="if that is wrong, say which comes first with --coordinate-order latlon|lonlat",
        file=table.file,
        field=column,
        severity="warning",
    )


def _bad_pair(raw: object, column: str, where: _Where, problems: ProblemLog) -> None:
    if is_missing(raw):
        fix = f"fill in the coordinates in column {column}, or drop the row"
        problems.append(
            where.problem("missing-coordinates", "coordinates are missing", fix, field=column)
        )
        return
    message = "the cell is not a coordinate pair (two decimal numbers)"
    fix = f"write 'latitude, longitude' in column {column}, for example 32.88, 13.19"
    problems.append(where.problem("bad-coordinates", message, fix, field=column, value=_show(raw)))


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
        fix = (
            f"keep only the {axis} in column {column} as a plain decimal number, or read the "
            f"pair with --coordinates {column}"
        )
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
        point = _point_problems(geom, where, context)
        problems += point
        return None if any(p.severity == "error" for p in point) else geom
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
        return [_out_of_range(lon, lat, value, where, context)]
    area = context.area
    if area is not None and not area.contains(lon, lat):
        return [_outside(lon, lat, value, where, inside=area.contains, what=str(area))]
    boundaries = context.boundaries
    if boundaries is None:
        return []
    if not boundaries.contains(lon, lat):
        found = _outside(lon, lat, value, where, inside=boundaries.contains, what=boundaries.label)
        if boundaries.refuse_outside:
            return [found]
        return [replace(found, severity="warning")]
    return _admin_mismatch(lon, lat, value, boundaries, where)


def _out_of_range(
    lon: float, lat: float, value: str, where: _Where, context: ValidationContext
) -> Problem:
    message = f"coordinates (lon, lat) {value} are outside -180..180, -90..90"
    inside = _inside(context)
    hint = placement_hint(lon, lat, inside) if inside is not None else None
    if hint is not None:
        return where.problem(hint.rule, message, hint.fix, field="geometry", value=value)
    if -180 <= lat <= 180 and -90 <= lon <= 90:
        fix = "longitude and latitude look swapped: exchange the two values"
        return where.problem("lon-lat-swapped", message, fix, field="geometry", value=value)
    fix = "check the coordinates; they must be decimal degrees in EPSG:4326 or in the CRS the file declares"
    return where.problem("coordinates-out-of-range", message, fix, field="geometry", value=value)


def _outside(
    lon: float, lat: float, value: str, where: _Where, *, inside: Inside, what: str
) -> Problem:
    message = f"point (lon, lat) {value} is outside the {what}"
    hint = placement_hint(lon, lat, inside)
    if hint is not None:
        return where.problem(hint.rule, message, hint.fix, field="geometry", value=value)
    fix = (
        "correct the coordinates, or widen the operating area with `geoplan area set` "
        "(or its boundary with --boundary FILE)"
    )
    return where.problem("outside-area", message, fix, field="geometry", value=value)


def _admin_mismatch(
    lon: float, lat: float, value: str, boundaries: Boundaries, where: _Where
) -> list[Problem]:
    """A warning when the point lies outside the area its admin code names (that area must
    be among the boundaries)."""
    code = where.admin_code
    expected = boundaries.index_of(code) if code else None
    found = boundaries.areas_at(lon, lat)
    if expected is None or expected in found:
        return []
    here = ", ".join(boundaries.describe(i) for i in found)
    message = f"point (lon, lat) {value} is in {here}, not in {boundaries.describe(expected)} as admin_code {code} says"
    fix = "correct the coordinates or the admin_code"
    return [
        where.problem(
            "admin-mismatch", message, fix, field="geometry", value=value, severity="warning"
        )
    ]


# --- rules across rows and fields ---------------------------------------------------------

RowRule = Callable[[dict[str, list[Value]], LayerDef, RawTable, ValidationContext], list[Problem]]


def drop_duplicates(
    ids: list[Value], table: RawTable, policy: str, problems: ProblemLog
) -> set[int]:
    """Apply an ``on_duplicate`` policy to rows sharing an id: the 0-based rows dropped (each
    with a warning), and an error on every row still sharing its id with another."""
    rows_by_id: dict[str, list[int]] = {}
    for i, value in enumerate(ids):
        if isinstance(value, str):
            rows_by_id.setdefault(value, []).append(i)
    dropped: set[int] = set()
    for pid, rows in rows_by_id.items():
        if len(rows) < 2:
            continue
        kept = _kept_duplicates(rows, table, policy)
        for i in rows:
            if i not in kept:
                dropped.add(i)
                problems.append(_dropped_duplicate(table, i, pid, policy, kept))
        if len(kept) > 1:
            problems += _conflicting_ids(table, pid, rows, kept, policy)
    return dropped


def _kept_duplicates(rows: list[int], table: RawTable, policy: str) -> list[int]:
    if policy == "first":
        return rows[:1]
    if policy == "last":
        return rows[-1:]
    if policy == "identical":
        first_of: dict[tuple[str, ...], int] = {}
        for i in rows:
            first_of.setdefault(_record_key(table, i), i)
        return sorted(first_of.values())
    return rows


def _record_key(table: RawTable, index: int) -> tuple[str, ...]:
    cells = tuple("" if is_missing(v) else str(v).strip() for v in table.frame.iloc[index])
    geometry = table.geometry.iloc[index] if table.geometry is not None else None
    return (*cells, geometry.wkb_hex if geometry is not None else "")


def _dropped_duplicate(
    table: RawTable, index: int, pid: str, policy: str, kept: list[int]
) -> Problem:
    why = "identical to" if policy == "identical" else "sharing its id with"
    msg = f"row dropped: {why} row {kept[0] + 1} (id {pid}), kept by --on-duplicate {policy}"
    fix = "nothing to do, unless this row is the one to keep"
    return _Where(table, index, pid).problem(
        "duplicate-dropped", msg, fix, field="id", value=pid, severity="warning"
    )


def _conflicting_ids(
    table: RawTable, pid: str, rows: list[int], kept: list[int], policy: str
) -> list[Problem]:
    listed = ", ".join(str(r + 1) for r in rows)
    differ = " and differ in other cells" if policy == "identical" else ""
    msg = f"id {pid} is used by rows {listed}{differ}"
    fix = (
        "give each row its own id (an id must be unique in a layer), or keep one row per id "
        "with --on-duplicate first|last"
        + ("" if policy == "identical" else " (identical drops exact copies only)")
    )
    return [
        _Where(table, i, pid).problem("duplicate-id", msg, fix, field="id", value=pid) for i in kept
    ]


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
        hints: dict[str, str] = {}
        for i, ref in enumerate(values[f.name]):
            if isinstance(ref, str) and ref not in known:
                if ref not in hints:  # a bounded cost on a file of many unknown ids
                    hints[ref] = did_you_mean(ref, known) if len(hints) < _MAX_HINTED else ""
                where = _Where(table, i, _as_id(values[layer.id_field][i]))
                layers_text = " or ".join(f.references)
                msg = f"{f.name} {ref} is not an id in {layers_text}"
                msg += hints[ref]
                fix = f"correct the id, or import the {layers_text} layer first"
                problems.append(
                    where.problem("unknown-reference", msg, fix, field=f.name, value=ref)
                )
    return problems


_MAX_HINTED = 200

_ROW_RULES: tuple[RowRule, ...] = (
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
