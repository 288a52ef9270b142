"""Partial update files: an id column plus only the columns to change.

A team leader marking one site inaccessible writes three columns (``id,access_status,
access_reason``), not the whole row again. Each file row is merged onto the stored row of its
id (an empty cell keeps the stored value; no geometry is needed), the merged rows are
validated with the layer's rules exactly as a full import is, and then written in one
transaction, or nothing at all. The result says, per row and field, what changed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan.catalog import LayerDef, get_layer, is_missing
from geoplan.errors import LayerValidationError
from geoplan.imports import ImportOptions, check_table
from geoplan.layers import ColumnMapping, map_cells
from geoplan.progress import Progress
from geoplan.report import Problem, ValidationReport
from geoplan.sources import WGS84, RawTable, read_source
from geoplan.spreadsheets import did_you_mean
from geoplan.store import (
    PlainValue,
    Store,
    WriteResult,
    field_order,
    plain_columns,
    row_versions,
)

GEOMETRY = "geometry"


@dataclass(frozen=True)
class FieldChange:
    """One field of one row that an update changes (``geometry`` when the position moves)."""

    id: str
    field: str
    old: PlainValue
    new: PlainValue

    def __str__(self) -> str:
        return f"{self.id}: {self.field} {_text(self.old)} -> {_text(self.new)}"


@dataclass(frozen=True)
class UpdateResult:
    """The validation report of the merged rows, what changes, and what the write did (None
    for a dry run)."""

    report: ValidationReport
    changes: tuple[FieldChange, ...]
    write: WriteResult | None
    notes: tuple[str, ...] = ()

    def summary(self, *, limit: int | None = None) -> str:
        """A line per change (the first ``limit`` of them), or a line saying nothing changes."""
        if not self.changes:
            return "No field changes: every row already holds these values."
        rows = len({c.id for c in self.changes})
        lines = [f"{len(self.changes)} field change(s) in {rows} row(s):"]
        shown = self.changes if limit is None else self.changes[:limit]
        lines += [f"  {c}" for c in shown]
        if len(shown) < len(self.changes):
            lines.append(f"  ... and {len(self.changes) - len(shown)} more")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """One row per change: id, field, old, new."""
        records = [vars(c) for c in self.changes]
        return pd.DataFrame.from_records(records, columns=["id", "field", "old", "new"])


@dataclass(frozen=True)
class _Merged:
    table: RawTable
    rows: list[int]
    stored: pd.DataFrame
    problems: list[Problem]


def update_file(
    path: Path,
    layer: str,
    *,
    store: Store,
    options: ImportOptions | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    name: str | None = None,
) -> UpdateResult:
    """Merge a partial file onto the stored rows of its ids, validate, and write all of it.

    Raises
    ------
    LayerValidationError
        If an id is missing or unknown, or a merged row breaks the layer's rules; nothing is
        written.
    ConflictError
        If a row changed in the workspace while the file was being checked.
    """
    options = options or ImportOptions()
    get_layer(layer)
    table = read_source(path, options=options.source, limits=options.limits, name=name)
    frame, report, changes, versions = check_update(table, layer, store=store, options=options)
    if not report.ok:
        raise LayerValidationError(report)
    notes = tuple(table.notes)
    if dry_run:
        return UpdateResult(report, changes, None, notes)
    write = store.upsert(layer, frame, progress=progress, expected_versions=versions)
    return UpdateResult(report, changes, write, notes)


def check_update(
    table: RawTable, layer: str, *, store: Store, options: ImportOptions | None = None
) -> tuple[pd.DataFrame, ValidationReport, tuple[FieldChange, ...], dict[str, str]]:
    """Validate a partial table merged onto the stored rows; writes nothing.

    Returns the merged typed frame, the report (row numbers are the table's), the changes and
    the versions of the stored rows that were read (for a write that refuses lost updates).
    """
    options = options or ImportOptions()
    definition = get_layer(layer)
    merged = _merge(table, definition, store, options)
    # the merged cells are named by field and mapped already: the mapping is not applied twice
    as_merged = replace(options, mapping=ColumnMapping())
    frame, sub_report = check_table(merged.table, layer, store=store, options=as_merged)
    report = _report(table, definition, merged, sub_report)
    changes = tuple(field_changes(definition, merged.stored, frame)) if report.ok else ()
    return frame, report, changes, row_versions(layer, merged.stored)


# --- merging ------------------------------------------------------------------------------


def _merge(table: RawTable, definition: LayerDef, store: Store, options: ImportOptions) -> _Merged:
    cells, found = map_cells(table, definition, options.mapping)
    found = [_strict_columns(p, definition) for p in found]
    ids = [None if is_missing(v) else _id_text(v) for v in cells[definition.id_field]]
    present = sorted({i for i in ids if i is not None})
    stored = store.read(definition.name, ids=present)
    by_id = {str(v): k for k, v in enumerate(stored[definition.id_field])}
    first = _first_rows(ids)
    problems = [*found, *_id_problems(table, definition, ids, by_id, store)]
    problems += _repeated_ids(table, definition, ids, first)
    rows = [k for k, i in enumerate(ids) if i in by_id and first[i] == k]
    order = [by_id[ids[k]] for k in rows]  # type: ignore[index]
    stored = stored.iloc[order].reset_index(drop=True)
    frame = _merged_cells(definition, cells, rows, stored)
    geometry = _merged_geometry(table, rows, stored) if definition.has_geometry else None
    lines = [table.lines[k] for k in rows] if table.lines else None
    merged = RawTable(file=table.file, frame=frame, geometry=geometry, lines=lines)
    return _Merged(merged, rows, stored, problems)


def _id_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _merged_cells(
    definition: LayerDef, cells: dict[str, list[object]], rows: list[int], stored: pd.DataFrame
) -> pd.DataFrame:
    """The file's cells where filled, the stored values elsewhere, as raw cells."""
    columns: dict[str, pd.Series] = {}
    for name in definition.field_names:
        kept = [None if is_missing(v) else v for v in stored[name].tolist()]
        given = [cells[name][k] for k in rows]
        merged = [old if is_missing(new) else new for new, old in zip(given, kept, strict=True)]
        columns[name] = pd.Series(merged, dtype=object)
    return pd.DataFrame(columns)


def _merged_geometry(table: RawTable, rows: list[int], stored: pd.DataFrame) -> gpd.GeoSeries:
    """The file's geometry (or lon/lat) where it has one, the stored geometry elsewhere."""
    kept = list(stored.geometry)
    given = _file_geometry(table)
    out: list[BaseGeometry | None] = []
    for position, k in enumerate(rows):
        geom = given[k] if given is not None else None
        out.append(kept[position] if geom is None else geom)
    return gpd.GeoSeries(out, crs=WGS84)


def _file_geometry(table: RawTable) -> list[BaseGeometry | None] | None:
    if table.geometry is not None:
        return [None if g is None or g.is_empty else g for g in table.geometry]
    if table.lon_column is None or table.lat_column is None:
        return None
    points = [
        _point(lon, lat)
        for lon, lat in zip(
            table.frame[table.lon_column], table.frame[table.lat_column], strict=True
        )
    ]
    if table.crs != WGS84:
        series = gpd.GeoSeries(points, crs=table.crs).to_crs(WGS84)
        points = [None if p is None else g for p, g in zip(points, series, strict=True)]
    return points


def _point(lon: object, lat: object) -> BaseGeometry | None:
    """A point from two cells, or None when either is empty; a cell that is not a number
    becomes NaN, which validation reports as an invalid position."""
    if is_missing(lon) or is_missing(lat):
        return None
    return shapely.Point(_number(lon), _number(lat))


def _number(value: object) -> float:
    try:
        return float(str(value).strip())
    except ValueError:
        return float("nan")


# --- problems -----------------------------------------------------------------------------


def _id_problems(
    table: RawTable,
    definition: LayerDef,
    ids: list[str | None],
    by_id: dict[str, int],
    store: Store,
) -> list[Problem]:
    problems: list[Problem] = []
    known: frozenset[str] | None = None
    field = definition.id_field
    for k, value in enumerate(ids):
        if value is None:
            fix = f"write the {field} of the row to change; --update changes existing rows only"
            problems.append(
                _problem(
                    table,
                    k,
                    "missing-required",
                    message=f"{field} is missing",
                    fix=fix,
                    field=field,
                )
            )
        elif value not in by_id:
            known = known if known is not None else store.ids(definition.name)
            msg = f"{definition.name} has no {field} {value}{did_you_mean(value, known)}"
            fix = "correct the id; to add new rows import a full file without --update"
            problems.append(
                _problem(
                    table, k, "unknown-id", message=msg, fix=fix, field=field, value=value, id=value
                )
            )
    return problems


def _strict_columns(problem: Problem, definition: LayerDef) -> Problem:
    """In an update file a column that is no field is an error: ignoring it would report "no
    changes" for a change the user meant to make."""
    if problem.rule != "unused-columns" or not problem.value:
        return problem
    columns = problem.value.split(", ")
    hints = "".join(f"; {c}{did_you_mean(c, definition.field_names)}" for c in columns)
    msg = f"column(s) {problem.value} are not fields of {definition.name}{hints}"
    fix = "name each column after the field it changes, or map it with --map FIELD=COLUMN"
    return replace(problem, message=msg, fix=fix, severity="error")


def _first_rows(ids: list[str | None]) -> dict[str, int]:
    first: dict[str, int] = {}
    for k, value in enumerate(ids):
        if value is not None:
            first.setdefault(value, k)
    return first


def _repeated_ids(
    table: RawTable, definition: LayerDef, ids: list[str | None], first: dict[str, int]
) -> list[Problem]:
    problems = []
    for k, value in enumerate(ids):
        if value is not None and first[value] != k:
            msg = f"id {value} is already changed by row {first[value] + 1}"
            fix = "put all changes of a row on one line"
            problems.append(
                _problem(
                    table,
                    k,
                    "duplicate-id",
                    message=msg,
                    fix=fix,
                    field=definition.id_field,
                    id=value,
                )
            )
    return problems


def _problem(
    table: RawTable,
    index: int,
    rule: str,
    *,
    message: str,
    fix: str,
    field: str,
    value: str | None = None,
    id: str | None = None,
) -> Problem:
    line = table.lines[index] if table.lines else None
    return Problem(
        rule=rule,
        message=message,
        fix=fix,
        file=table.file,
        row=index + 1,
        line=line,
        id=id,
        field=field,
        value=value,
    )


def _report(
    table: RawTable, definition: LayerDef, merged: _Merged, sub: ValidationReport
) -> ValidationReport:
    """The merged rows' report in the file's row numbers, with the id problems added."""
    back = {position + 1: k + 1 for position, k in enumerate(merged.rows)}
    moved = [p if p.row is None else replace(p, row=back[p.row]) for p in sub.problems]
    problems = sorted([*merged.problems, *moved], key=lambda p: (p.row or 0, p.severity != "error"))
    errors = [p for p in merged.problems if p.severity == "error"]
    bad_rows = {p.row for p in errors if p.row} | {back[r] for r in sub.bad_rows}
    return ValidationReport(
        definition.name,
        table.file,
        len(table.frame),
        tuple(problems),
        error_count=sub.n_errors + len(errors),
        warning_count=sub.n_warnings + len(merged.problems) - len(errors),
        error_rows=tuple(sorted(bad_rows)),
    )


# --- changes ------------------------------------------------------------------------------


def field_changes(
    definition: LayerDef, before: pd.DataFrame, after: pd.DataFrame
) -> list[FieldChange]:
    """Per row and field, the stored value and the new one, where they differ."""
    names = [f.name for f in field_order(definition)]
    old_columns, new_columns = plain_columns(definition, before), plain_columns(definition, after)
    changes = []
    for r in range(len(after)):
        row_id = str(new_columns[0][r])
        for name, old, new in zip(names, old_columns, new_columns, strict=True):
            if old[r] != new[r]:
                changes.append(FieldChange(row_id, name, old[r], new[r]))
        if definition.has_geometry and not _same_place(
            before.geometry.iloc[r], after.geometry.iloc[r]
        ):
            changes.append(
                FieldChange(
                    row_id, GEOMETRY, _wkt(before.geometry.iloc[r]), _wkt(after.geometry.iloc[r])
                )
            )
    return changes


def _same_place(a: BaseGeometry | None, b: BaseGeometry | None) -> bool:
    if a is None or b is None:
        return a is b
    return bool(a.equals_exact(b, 1e-9))


def _wkt(geom: BaseGeometry | None) -> str | None:
    return None if geom is None else shapely.to_wkt(geom, rounding_precision=6)


def _text(value: PlainValue) -> str:
    return "(empty)" if value is None else repr(value) if isinstance(value, str) else str(value)
