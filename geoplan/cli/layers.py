"""Commands that bring layers in and out: import, validate, export, layers and area."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from geoplan.catalog import get_layer, load_catalog
from geoplan.errors import (
    LayerValidationError,
)
from geoplan.imports import (
    GEOMETRY_COLUMNS,
    MOVE_TOLERANCE_M,
    ExportFormat,
    ImportOptions,
    check_file,
    export_layer,
    import_file,
    operating_area,
    set_boundary,
    set_operating_area,
)
from geoplan.store import DEFAULT_WORKSPACE, Store, open_store, workspace_label
from geoplan.updates import update_file

if TYPE_CHECKING:
    pass

from geoplan.cli.common import (
    AreaOption,
    CoordinateOrderOption,
    CoordinatesOption,
    CrsOption,
    DefaultOption,
    HeaderRowOption,
    IdFromOption,
    ImportParamsOption,
    LatOption,
    LonOption,
    MapOption,
    MappingOption,
    OnDuplicateOption,
    ReportOption,
    SheetOption,
    SourceLayerOption,
    WorkspaceOption,
    app,
    area_app,
    err,
    existing_store,
    import_options,
    out,
    parse_area,
    print_notes,
    print_report,
    progress_bar,
    source_options,
    write_report,
)

MAX_CHANGES_SHOWN = 200

# --- import, validate, export ---------------------------------------------------------------


@app.command("import")
def import_command(
    layer: Annotated[str, typer.Argument(help="Layer to import into (see `geoplan layers`).")],
    file: Annotated[
        Path, typer.Argument(help="GeoJSON, GeoPackage, zipped Shapefile, CSV or XLSX.")
    ],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    mapping: MappingOption = None,
    map_: MapOption = None,
    default: DefaultOption = None,
    id_prefix: Annotated[str, typer.Option("--id-prefix", help="Put this before every id.")] = "",
    source_layer: SourceLayerOption = None,
    sheet: SheetOption = None,
    lon_column: LonOption = None,
    lat_column: LatOption = None,
    crs: CrsOption = None,
    coordinates: CoordinatesOption = None,
    coordinate_order: CoordinateOrderOption = None,
    header_row: HeaderRowOption = None,
    id_from: IdFromOption = None,
    on_duplicate: OnDuplicateOption = "error",
    retire_missing: Annotated[
        bool,
        typer.Option(
            "--retire-missing",
            help="FILE is a full snapshot: rows of LAYER it no longer has are marked inaccessible (dated, with the reason), never deleted.",
        ),
    ] = False,
    move_tolerance: Annotated[
        float,
        typer.Option(
            "--move-tolerance",
            help="Metres a point may move and still count as unchanged (GPS jitter, rounding).",
        ),
    ] = MOVE_TOLERANCE_M,
    area: AreaOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report; write nothing.")
    ] = False,
    report: ReportOption = None,
    params: ImportParamsOption = None,
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help=(
                "FILE holds only an id column and the columns to change: each row is merged "
                "onto the stored row of its id (empty cells keep what is stored; no "
                "coordinates needed), checked with the same rules, and every change listed."
            ),
        ),
    ] = False,
) -> None:
    """Validate FILE and import it into LAYER: all rows, or none if any row has an error.

    Rows are matched by id: new ids are added, changed rows updated, identical rows left alone,
    so importing the same file twice changes nothing.

    With --update, FILE may carry just the id and the columns to change (for example
    id,access_status,access_reason); the command prints each change as old -> new.

    [bold]Examples[/bold]

      geoplan import gathering_points sites.csv --dry-run

      geoplan import clinics osm_health.geojson --map id=ID --map "name=NAME_EN|NAME" --default kind=other

      geoplan export gathering_points -f csv -o access.csv --columns id,access_status,access_reason

      geoplan import gathering_points access.csv --update

      geoplan import gathering_points kobo.csv --coordinates _geolocation --id-from _uuid --default setting=camp

      geoplan import clinics health_2020.geojson --on-duplicate identical --retire-missing
    """
    source = source_options(
        source_layer,
        sheet,
        lon_column,
        lat_column,
        crs,
        coordinates=coordinates,
        coordinate_order=coordinate_order,
        header_row=header_row,
    )
    options = import_options(
        mapping,
        map_,
        default,
        id_prefix,
        source,
        area,
        params,
        id_from=id_from,
        on_duplicate=on_duplicate,
    )
    options = replace(options, retire_missing=retire_missing, move_tolerance_m=move_tolerance)
    store = open_store(workspace)
    if update:
        _update(file, layer, store, options, dry_run=dry_run, report=report)
        return
    importing = f"Importing {file.name} into {layer}"
    with progress_bar(importing) as tell:
        try:
            result = import_file(
                file,
                layer,
                store=store,
                options=options,
                dry_run=dry_run,
                progress=lambda _layer, done, total: tell(importing, done, total),
            )
        except LayerValidationError as exc:
            write_report(exc.report, report)
            raise
    print_notes(result.notes)
    print_report(result.report)
    write_report(result.report, report)
    if result.write is None:
        out.print(
            f"Dry run: {result.report.rows} row(s) would be imported into {layer}; nothing written."
        )
    else:
        out.print(f"{result.write} in {workspace_label(workspace)}")


def _update(
    file: Path,
    layer: str,
    store: Store,
    options: ImportOptions,
    *,
    dry_run: bool,
    report: Path | None,
) -> None:
    with progress_bar(f"Updating {layer} from {file.name}"):
        try:
            result = update_file(file, layer, store=store, options=options, dry_run=dry_run)
        except LayerValidationError as exc:
            write_report(exc.report, report)
            raise
    print_notes(result.notes)
    print_report(result.report)
    write_report(result.report, report)
    out.print(result.summary(limit=MAX_CHANGES_SHOWN))
    if result.write is None:
        out.print("Dry run: nothing written.")
    else:
        out.print(str(result.write))


@app.command("validate")
def validate_command(
    file: Annotated[Path, typer.Argument(help="File to check.")],
    layer: Annotated[str, typer.Option("--layer", "-l", help="Layer the file is meant for.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    mapping: MappingOption = None,
    map_: MapOption = None,
    default: DefaultOption = None,
    id_prefix: Annotated[str, typer.Option("--id-prefix", help="Put this before every id.")] = "",
    source_layer: SourceLayerOption = None,
    sheet: SheetOption = None,
    lon_column: LonOption = None,
    lat_column: LatOption = None,
    crs: CrsOption = None,
    coordinates: CoordinatesOption = None,
    coordinate_order: CoordinateOrderOption = None,
    header_row: HeaderRowOption = None,
    id_from: IdFromOption = None,
    on_duplicate: OnDuplicateOption = "error",
    area: AreaOption = None,
    report: ReportOption = None,
    params: ImportParamsOption = None,
) -> None:
    """Check FILE against a layer's rules and the workspace, and report every problem.

    Nothing is written to the workspace. Exit code 1 when any row has an error.

    [bold]Example[/bold]

      geoplan validate facilities.csv --layer clinics --area=-15.1,7.1,-7.6,12.7 --report problems.csv
    """
    source = source_options(
        source_layer,
        sheet,
        lon_column,
        lat_column,
        crs,
        coordinates=coordinates,
        coordinate_order=coordinate_order,
        header_row=header_row,
    )
    options = import_options(
        mapping,
        map_,
        default,
        id_prefix,
        source,
        area,
        params,
        id_from=id_from,
        on_duplicate=on_duplicate,
    )
    with progress_bar(f"Checking {file.name} for {layer}"):
        _, result, notes = check_file(file, layer, store=open_store(workspace), options=options)
    print_notes(notes)
    write_report(result, report)
    if not result.ok:
        raise LayerValidationError(result)
    print_report(result)


@app.command("export")
def export_command(
    layer: Annotated[str, typer.Argument(help="Layer to export.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="geojson, gpkg or csv.", case_sensitive=False)
    ] = "geojson",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default LAYER.FORMAT).")
    ] = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            help=(
                "Only these fields, comma-separated (the id is always written); add lon,lat "
                "to keep positions. Makes a file to edit and bring back with import --update."
            ),
        ),
    ] = None,
) -> None:
    """Write a layer to GeoJSON, GeoPackage or CSV, in a form `geoplan import` reads back.

    GeoPackage keeps dates as dates and writes layers without positions (visits, indicators)
    as plain tables; CSV writes points as lon/lat columns and areas (no-go zones) as WKT in a
    column named wkt.

    [bold]Examples[/bold]

      geoplan export gathering_points --format csv -o sites.csv

      geoplan export gathering_points -f csv -o access.csv --columns id,access_status,access_reason
    """
    fmt = fmt.lower()
    if fmt not in ("geojson", "gpkg", "csv"):
        raise typer.BadParameter(f"{fmt!r} is not one of geojson, gpkg, csv", param_hint="--format")
    target = output or Path(f"{layer}.{fmt}")
    fmt_literal: ExportFormat = fmt  # type: ignore[assignment]
    chosen = None if columns is None else [c.strip() for c in columns.split(",") if c.strip()]
    rows = export_layer(existing_store(workspace), layer, target, fmt=fmt_literal, columns=chosen)
    out.print(f"Wrote {rows} row(s) of {layer} to {target}")
    with_positions = chosen is None or bool(set(chosen) & GEOMETRY_COLUMNS)
    if get_layer(layer).sensitivity == "high" and with_positions:
        err.print(
            f"[yellow]note:[/yellow] {target} holds exact positions of {layer}, which can expose "
            "people to harm: share it only within the programme, never publicly."
        )


@app.command("layers")
def layers_command(workspace: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """List the layers: rows in the workspace, last update, geometry and sensitivity."""
    store = open_store(workspace)
    catalog = load_catalog()
    table = Table(
        title=f"Layers in {workspace_label(workspace)}"
        + ("" if store.exists() else " (not created yet)")
    )
    for column in ("layer", "rows", "last update (UTC)", "geometry", "sensitivity"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for info in store.list_layers():
        definition = catalog[info.name]
        changed = (info.last_change or "-")[:19].replace("T", " ")
        table.add_row(
            info.name, str(info.rows), changed, definition.geometry, definition.sensitivity
        )
    out.print(table)
    if (area := operating_area(store)) is not None:
        out.print(f"Operating area: {area}")


# --- operating area -------------------------------------------------------------------------


@area_app.command("show")
def area_show(workspace: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """Print the workspace's operating area."""
    area = operating_area(open_store(workspace))
    out.print(str(area) if area else "No operating area is set; set one with `geoplan area set`.")


@area_app.command(
    "set", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": True}
)
def area_set(
    bbox: Annotated[
        list[str] | None,
        typer.Argument(
            help="WEST,SOUTH,EAST,NORTH in degrees, e.g. 11.5,32.0,14.5,33.2 or -15.08,7.19,-7.64,12.68 (a `--` before it is allowed).",
            show_default=False,
        ),
    ] = None,
    name: Annotated[str, typer.Option("--name", help="Name shown in messages.")] = "operating area",
    boundary: Annotated[
        Path | None,
        typer.Option(
            "--boundary",
            help="A country or area outline (GeoJSON, GeoPackage, zipped Shapefile): points outside its polygons are flagged, and the box is taken from it.",
        ),
    ] = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Set the operating area: imports flag points outside it (and say if a sign, an axis
    order, a copied value or a decimal point looks wrong).

    A box catches points far away; an outline (--boundary, or the workspace's admin_areas)
    also catches points in the neighbouring country.

    [bold]Examples[/bold]

      geoplan area set -15.08,7.19,-7.64,12.68 --name Guinea

      geoplan area set --boundary guinea_adm0.geojson --name Guinea
    """
    words, name, workspace = _box_words(bbox or [], name, workspace)
    store = open_store(workspace)
    if boundary is not None and not words:
        area = set_boundary(store, boundary, name=name)
        out.print(f"Operating area set to the outline of {boundary.name}: {area}")
        return
    if len(words) != 1 or boundary is not None:
        msg = "give one box WEST,SOUTH,EAST,NORTH, or --boundary FILE, not both"
        raise typer.BadParameter(msg, param_hint="BBOX")
    area = parse_area(words[0], name=name)
    set_operating_area(store, None)  # a new box replaces an older outline
    set_operating_area(store, area)
    out.print(f"Operating area set to {area}")


def _box_words(words: list[str], name: str, workspace: str) -> tuple[list[str], str, str]:
    """The box, and ``--name NAME`` or ``--workspace FILE`` written after ``--`` (where they
    read as words, as in ``geoplan area set -- -15.08,7.19,-7.64,12.68 --name Guinea``)."""
    rest: list[str] = []
    items = iter(w for w in words if w != "--")
    for word in items:
        if word in ("--name", "--workspace", "-w"):
            value = next(items, None)
            if value is None:
                raise typer.BadParameter(f"{word} needs a value", param_hint=word)
            if word == "--name":
                name = value
            else:
                workspace = value
        else:
            rest.append(word)
    return rest, name, workspace


@area_app.command("clear")
def area_clear(workspace: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """Remove the operating area."""
    set_operating_area(open_store(workspace), None)
    out.print("Operating area cleared.")
