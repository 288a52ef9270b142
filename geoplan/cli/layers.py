"""Commands that bring layers in and out: import, validate, export, layers and area."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from geoplan.catalog import get_layer, load_catalog
from geoplan.errors import (
    LayerValidationError,
)
from geoplan.imports import (
    ExportFormat,
    check_file,
    export_layer,
    import_file,
    operating_area,
    set_operating_area,
)
from geoplan.sources import SourceOptions
from geoplan.store import DEFAULT_WORKSPACE, open_store

if TYPE_CHECKING:
    pass

from geoplan.cli.common import (
    AreaOption,
    CrsOption,
    DefaultOption,
    ImportParamsOption,
    LatOption,
    LonOption,
    MapOption,
    MappingOption,
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
    write_report,
)

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
    area: AreaOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report; write nothing.")
    ] = False,
    report: ReportOption = None,
    params: ImportParamsOption = None,
) -> None:
    """Validate FILE and import it into LAYER: all rows, or none if any row has an error.

    Rows are matched by id: new ids are added, changed rows updated, identical rows left alone,
    so importing the same file twice changes nothing.

    [bold]Examples[/bold]

      geoplan import gathering_points sites.csv --dry-run

      geoplan import clinics osm_health.geojson --map id=ID --map "name=NAME_EN|NAME" --default kind=other
    """
    options = import_options(
        mapping,
        map_,
        default,
        id_prefix,
        SourceOptions(source_layer, sheet, lon_column, lat_column, crs),
        area,
        params,
    )
    store = open_store(workspace)
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
        out.print(f"{result.write} in {workspace}")


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
    area: AreaOption = None,
    report: ReportOption = None,
    params: ImportParamsOption = None,
) -> None:
    """Check FILE against a layer's rules and the workspace, and report every problem.

    Nothing is written to the workspace. Exit code 1 when any row has an error.

    [bold]Example[/bold]

      geoplan validate facilities.csv --layer clinics --area=-15.1,7.1,-7.6,12.7 --report problems.csv
    """
    options = import_options(
        mapping,
        map_,
        default,
        id_prefix,
        SourceOptions(source_layer, sheet, lon_column, lat_column, crs),
        area,
        params,
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
) -> None:
    """Write a layer to GeoJSON, GeoPackage or CSV, in a form `geoplan import` reads back.

    GeoPackage keeps dates as dates and writes layers without positions (visits, indicators)
    as plain tables; CSV writes points as lon/lat columns and areas (no-go zones) as WKT in a
    column named wkt.

    [bold]Example[/bold]

      geoplan export gathering_points --format csv -o sites.csv
    """
    fmt = fmt.lower()
    if fmt not in ("geojson", "gpkg", "csv"):
        raise typer.BadParameter(f"{fmt!r} is not one of geojson, gpkg, csv", param_hint="--format")
    target = output or Path(f"{layer}.{fmt}")
    fmt_literal: ExportFormat = fmt  # type: ignore[assignment]
    rows = export_layer(existing_store(workspace), layer, target, fmt=fmt_literal)
    out.print(f"Wrote {rows} row(s) of {layer} to {target}")
    if get_layer(layer).sensitivity == "high":
        err.print(
            f"[yellow]note:[/yellow] {target} holds exact positions of {layer}, which can expose "
            "people to harm: share it only within the programme, never publicly."
        )


@app.command("layers")
def layers_command(workspace: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """List the layers: rows in the workspace, last update, geometry and sensitivity."""
    store = open_store(workspace)
    catalog = load_catalog()
    table = Table(title=f"Layers in {workspace}" + ("" if store.exists() else " (not created yet)"))
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


@area_app.command("set")
def area_set(
    bbox: Annotated[
        str,
        typer.Argument(
            help="WEST,SOUTH,EAST,NORTH in degrees, e.g. 11.5,32.0,14.5,33.2; put -- before it when WEST is negative."
        ),
    ],
    name: Annotated[str, typer.Option("--name", help="Name shown in messages.")] = "operating area",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Set the operating area: imports flag points outside it (and say if a sign or an axis
    order looks wrong)."""
    area = parse_area(bbox, name=name)
    set_operating_area(open_store(workspace), area)
    out.print(f"Operating area set to {area}")


@area_app.command("clear")
def area_clear(workspace: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """Remove the operating area."""
    set_operating_area(open_store(workspace), None)
    out.print("Operating area cleared.")
