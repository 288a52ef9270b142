"""The ``geoplan`` command.

Each command parses its options, makes one call into the library and prints the result.
Errors are printed in plain words without a traceback; the exit code is 0 on success, 1 when
data is invalid or a step fails, and 2 when the command itself is used wrongly.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as Bar
from rich.table import Table

from geoplan.catalog import get_layer, load_catalog
from geoplan.errors import (
    GeoplanError,
    InputFileError,
    LayerValidationError,
    MappingError,
    ParameterError,
    UnknownLayerError,
)
from geoplan.imports import (
    ExportFormat,
    ImportOptions,
    check_file,
    export_layer,
    import_file,
    operating_area,
    set_operating_area,
)
from geoplan.keys import create_key, list_keys, revoke_key
from geoplan.layers import ColumnMapping, OperatingArea
from geoplan.outputs import disk_full, is_disk_full, write_csv
from geoplan.report import ValidationReport
from geoplan.sources import ImportLimits, SourceOptions, limit_hint
from geoplan.store import DEFAULT_WORKSPACE, Store, open_store
from geoplan.vocab import Role

if TYPE_CHECKING:
    from geoplan.coverage import CoverageParams, CoverageResult
    from geoplan.params import Params
    from geoplan.progress import Progress
    from geoplan.travel.backend import TravelTimeBackend

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
USAGE_ERRORS = (UnknownLayerError, InputFileError, MappingError, ParameterError)
MAX_PROBLEMS_SHOWN = 40

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

app = typer.Typer(
    name="geoplan",
    help=(
        "Plan humanitarian mobile outreach: load layers, find coverage gaps, plan weekly team "
        "routes and print maps.\n\n"
        "Start with [bold]geoplan demo[/bold] to build a demo workspace for western Libya and run "
        "every stage on it. Layers live in one GeoPackage file ([italic]geoplan.gpkg[/italic] in "
        "the current folder unless --workspace or GEOPLAN_WORKSPACE says otherwise) that QGIS "
        "opens as it is."
    ),
    epilog=(
        "Examples:\n\n"
        "  geoplan demo\n\n"
        "  geoplan import gathering_points sites.csv --dry-run\n\n"
        "  geoplan import clinics health.geojson --mapping clinics_mapping.toml\n\n"
        "  geoplan validate kobo_export.xlsx --layer outreach_visits\n\n"
        "  geoplan export clinics --format csv -o clinics.csv\n\n"
        "  geoplan matrix --from teams --to gathering_points -o times.csv\n\n"
        "  geoplan coverage --period 2026-06-01..2026-11-30 --threshold 30min --by admin\n\n"
        "  geoplan map plan --week 2026-W49 -o week49.html\n\n"
        "Exit codes: 0 success, 1 invalid data or a failed step, 2 wrong usage."
    ),
    rich_markup_mode="rich",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
area_app = typer.Typer(
    help="Show or set the operating area: points outside it are flagged on import.",
    no_args_is_help=True,
)
app.add_typer(area_app, name="area")
keys_app = typer.Typer(
    help="Create, list and revoke API keys (the workspace keeps only their hashes).",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")

WorkspaceOption = Annotated[
    Path,
    typer.Option(
        "--workspace",
        "-w",
        envvar="GEOPLAN_WORKSPACE",
        help="Workspace GeoPackage file (created on first import).",
        show_default=True,
    ),
]
BackendOption = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help="Travel-time backend as NAME or NAME:ARGUMENT: straight_line (the default), roads:FILE.osm.pbf (as --roads), table:FILE.csv (your own matrix: from_id,to_id,seconds).",
    ),
]
MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        help="FIELD=COLUMN: take FIELD from COLUMN (repeatable). FIELD=COL1|COL2 takes the first non-empty.",
    ),
]
DefaultOption = Annotated[
    list[str] | None,
    typer.Option("--default", help="FIELD=VALUE: fill empty FIELD cells with VALUE (repeatable)."),
]
MappingOption = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        help="TOML mapping file with [columns], [values.FIELD], [defaults] and id_prefix (see README).",
    ),
]
SourceLayerOption = Annotated[
    str | None, typer.Option("--source-layer", help="Layer to read from a GeoPackage with several.")
]
SheetOption = Annotated[
    str | None, typer.Option("--sheet", help="Sheet to read from an XLSX workbook.")
]
LonOption = Annotated[str | None, typer.Option("--lon-column", help="Longitude column of a table.")]
LatOption = Annotated[str | None, typer.Option("--lat-column", help="Latitude column of a table.")]
CrsOption = Annotated[
    str | None,
    typer.Option(
        "--crs",
        help="CRS of a table's coordinates, or of a file that declares none (e.g. EPSG:32633).",
    ),
]
AreaOption = Annotated[
    str | None,
    typer.Option(
        "--area",
        help="WEST,SOUTH,EAST,NORTH: flag points outside this box (overrides the workspace's).",
    ),
]
ReportOption = Annotated[
    Path | None, typer.Option("--report", help="Also write every problem to this CSV file.")
]
ImportParamsOption = Annotated[
    Path | None,
    typer.Option(
        "--params",
        help="TOML file whose \\[imports] table sets the import limits (max_bytes, max_rows, ...; see README).",
    ),
]


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
    options = _import_options(
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
    with _progress(importing) as tell:
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
            _write_report(exc.report, report)
            raise
    _print_notes(result.notes)
    _print_report(result.report)
    _write_report(result.report, report)
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
    options = _import_options(
        mapping,
        map_,
        default,
        id_prefix,
        SourceOptions(source_layer, sheet, lon_column, lat_column, crs),
        area,
        params,
    )
    with _progress(f"Checking {file.name} for {layer}"):
        _, result, notes = check_file(file, layer, store=open_store(workspace), options=options)
    _print_notes(notes)
    _write_report(result, report)
    if not result.ok:
        raise LayerValidationError(result)
    _print_report(result)


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
    """Write a layer to GeoJSON, GeoPackage or CSV (points as lon/lat columns).

    [bold]Example[/bold]

      geoplan export gathering_points --format csv -o sites.csv
    """
    fmt = fmt.lower()
    if fmt not in ("geojson", "gpkg", "csv"):
        raise typer.BadParameter(f"{fmt!r} is not one of geojson, gpkg, csv", param_hint="--format")
    target = output or Path(f"{layer}.{fmt}")
    fmt_literal: ExportFormat = fmt  # type: ignore[assignment]
    rows = export_layer(_existing_store(workspace), layer, target, fmt=fmt_literal)
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
    area = _parse_area(bbox, name=name)
    set_operating_area(open_store(workspace), area)
    out.print(f"Operating area set to {area}")


@area_app.command("clear")
def area_clear(workspace: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """Remove the operating area."""
    set_operating_area(open_store(workspace), None)
    out.print("Operating area cleared.")


# --- travel times ---------------------------------------------------------------------------


@app.command("matrix")
def matrix_command(
    from_layer: Annotated[
        str, typer.Option("--from", help="Point layer to travel from (teams: their bases).")
    ],
    to_layer: Annotated[str, typer.Option("--to", help="Point layer to travel to.")],
    roads: Annotated[
        Path | None,
        typer.Option(
            help="OpenStreetMap extract (.osm.pbf/.osm/.osm.bz2); straight lines if unset."
        ),
    ] = None,
    backend: BackendOption = None,
    date: Annotated[
        str | None,
        typer.Option(help="Day travelled, YYYY-MM-DD: no-go zones active that day are closed."),
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV file to write.")] = Path(
        "matrix.csv"
    ),
    params: Annotated[
        Path | None,
        typer.Option(
            help="TOML file with \\[straight_line] and \\[road_network] parameters (see README)."
        ),
    ] = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Travel times and distances from every point of one layer to every point of another.

    Writes one CSV row per pair: from_id, to_id, seconds, metres, reachable, reason. Without
    --roads, times are straight-line distance times a detour factor at one average speed (an
    approximation); with --roads, the fastest drive on the extract's roads, one-way streets
    honoured. No-go zones active on --date (today by default) are closed; a point inside one is
    unreachable with the reason "inside no-go zone <name>". The first run on an extract builds
    and caches its road network; later runs load it from the cache.

    [bold]Examples[/bold]

      geoplan matrix --from teams --to gathering_points -o times.csv

      geoplan matrix --from teams --to detention_centres --roads tripoli.osm.pbf --date 2026-03-01
    """
    from geoplan.travel.matrix import save_matrix  # noqa: PLC0415  (fast --help)
    from geoplan.workspace import matrix_from_store  # noqa: PLC0415

    day = _parse_date(date)
    loaded = _load_params(params)
    store = _existing_store(workspace)
    with _progress("Travel times") as tell:
        travel = _backend(roads, backend, params=loaded, progress=tell)
        tell("Computing travel times", 0, None)
        matrix = matrix_from_store(store, from_layer, to_layer, on=day, backend=travel)
        save_matrix(matrix, output)
    out.print(escape(travel.description))
    _print_matrix_summary(matrix.summary())
    out.print(f"Wrote {matrix.shape[0] * matrix.shape[1]} pair(s) to {output}")


def _parse_date(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date YYYY-MM-DD", param_hint="--date"
        ) from None


def _print_matrix_summary(summary: str) -> None:
    lines = summary.splitlines()
    for line in lines[: MAX_PROBLEMS_SHOWN + 2]:
        out.print(escape(line))
    hidden = len(lines) - MAX_PROBLEMS_SHOWN - 2
    if hidden > 0:
        out.print(f"... and {hidden} more unreachable point(s); the CSV's reason column says why")


# --- coverage -------------------------------------------------------------------------------


@app.command("coverage")
def coverage_command(
    period: Annotated[
        str | None,
        typer.Option(
            help="Reporting period START..END, e.g. 2026-06-01..2026-11-30 (default: the "
            "half-year up to today). Gaps are measured at its end, or today if earlier."
        ),
    ] = None,
    threshold: Annotated[
        str | None,
        typer.Option(
            help="A site is within reach when a clinic or team base is at most this far: "
            "30min, 45, 1h30 (default 30min, or the --params file's)."
        ),
    ] = None,
    by: Annotated[
        str, typer.Option(help="Sum people per admin area (admin) or per H3 hexagon (h3).")
    ] = "admin",
    roads: Annotated[
        Path | None,
        typer.Option(
            help="OpenStreetMap extract (.osm.pbf/.osm/.osm.bz2) for road travel times; "
            "straight lines if unset."
        ),
    ] = None,
    backend: BackendOption = None,
    params: Annotated[
        Path | None,
        typer.Option(
            help="TOML file with a \\[coverage] table: service_minutes, referral_kinds, "
            "h3_resolution, new_locations (see README); optionally \\[straight_line] / \\[road_network]."
        ),
    ] = None,
    locations: Annotated[
        int | None, typer.Option(help="New stops or bases to propose (0: none; default 3).")
    ] = None,
    top: Annotated[int, typer.Option(help="Rows of the ranked gap table to print.")] = 15,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the CSV files and coverage.gpkg.")
    ] = Path("coverage"),
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Where are we not reaching? Coverage gaps of every gathering point and detention centre.

    Four kinds of gap, per site, ranked worst first: [bold]spatial[/bold] (no clinic or team
    base within the threshold, or a needed service nobody offers within reach), [bold]temporal
    [/bold] (overdue for a visit, never visited), [bold]service[/bold] (needs not met in the
    period) and [bold]targets[/bold] (indicators behind their pace). People out of reach are
    summed by men, women, boys and girls, per admin area or H3 hexagon, and the places where
    a new stop would reach the most of them are proposed. Writes CSV tables and coverage.gpkg
    (layers coverage_sites, coverage_areas, coverage_next) to the --output folder.

    [bold]Examples[/bold]

      geoplan coverage --period 2026-06-01..2026-11-30 --threshold 30min

      geoplan coverage --by h3 --threshold 45min --roads tripoli.osm.pbf -o gaps
    """
    from geoplan import coverage  # noqa: PLC0415  (keeps --help fast)
    from geoplan.indicators import Period  # noqa: PLC0415
    from geoplan.workspace import coverage_layers  # noqa: PLC0415

    loaded = _load_params(params)
    settings = _coverage_params(loaded.coverage, threshold, locations)
    coverage.check_by(by)
    span = Period.parse(period) if period else None
    store = _existing_store(workspace)
    with _progress("Coverage") as tell:
        travel = _backend(roads, backend, params=loaded, progress=tell)
        tell("Analysing coverage", 0, None)
        layers = coverage_layers(store, site_layers=settings.site_layers)
        result = coverage.coverage_from_layers(layers, backend=travel, period=span, params=settings)
        written = coverage.save_coverage(result, output, by=by)
    _print_coverage(result, by=by, top=top)
    out.print(f"Wrote {len(written)} file(s) to {output}: {', '.join(p.name for p in written)}")
    err.print(
        f"[yellow]note:[/yellow] {output} holds exact positions of gathering points and "
        "detention centres, which can expose people to harm: share it only within the programme."
    )


def _coverage_params(
    settings: CoverageParams, threshold: str | None, locations: int | None
) -> CoverageParams:
    from dataclasses import replace  # noqa: PLC0415

    from geoplan.coverage import parse_minutes  # noqa: PLC0415

    if threshold is not None:
        settings = replace(settings, threshold_minutes=parse_minutes(threshold))
    if locations is not None:
        settings = replace(settings, new_locations=locations)
    return settings


def _print_coverage(result: CoverageResult, *, by: str, top: int) -> None:
    gaps = Table(
        title=f"Coverage gaps {result.period} (as of {result.as_of}, threshold "
        f"{result.params.threshold_minutes:g} min, {result.backend} travel times)"
    )
    for column in ("#", "site", "layer", "people", "gaps", "why"):
        gaps.add_column(column, justify="right" if column in ("#", "people", "gaps") else "left")
    for row in result.top_gaps(top).to_dict("records"):
        gaps.add_row(
            str(row["rank"]),
            escape(str(row["id"])),
            str(row["layer"]),
            _count(row["people"]),
            str(row["gaps"]),
            escape(str(row["gap_reasons"])),
        )
    out.print(gaps)
    out.print(escape(result.summary()))
    out.print(_areas_table(result, by))
    if len(result.indicators):
        out.print(_indicators_table(result))


def _count(value: object) -> str:
    """A whole number with thousands separators; ``?`` when unknown."""
    try:
        return f"{int(value):,}"  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return "?"


def _areas_table(result: CoverageResult, by: str) -> Table:
    areas = result.areas(by)
    hexagons = areas is result.hexagons
    what = f"H3 hexagon (resolution {result.params.h3_resolution})" if hexagons else "admin area"
    table = Table(title=f"People out of reach per {what}, worst first")
    for column in ("area", "sites", "people", "out of reach", "share", "overdue", "unmet"):
        table.add_column(column, justify="left" if column == "area" else "right")
    for row in areas.head(10).to_dict("records"):
        table.add_row(
            escape(str(row["area_name"] or row["area_id"])),
            str(row["sites"]),
            f"{row['people']:,}",
            f"{row['people_not_covered']:,}",
            f"{row['share_not_covered']:.0%}",
            str(row["sites_overdue"]),
            str(row["sites_unmet_needs"]),
        )
    return table


def _indicators_table(result: CoverageResult) -> Table:
    table = Table(title="Indicators against targets")
    for column in ("indicator", "value", "target", "expected by now", "pace", "status"):
        table.add_column(column, justify="left" if column in ("indicator", "status") else "right")
    for row in result.indicators.to_dict("records"):
        pace = row["pace"]
        table.add_row(
            escape(f"{row['id']} {row['name']}"),
            f"{row['value']:,.0f}",
            f"{row['target']:,.0f}",
            f"{row['expected']:,.0f}",
            "-" if math.isnan(pace) else f"{pace:.0%}",
            str(row["status"]),
        )
    return table


# --- weekly plan ----------------------------------------------------------------------------


@app.command("plan")
def plan_command(
    week: Annotated[
        str | None,
        typer.Option(
            help="ISO week (2026-W49: Sunday 29 Nov to Thursday 3 Dec) or any date in the week; default: the coming week."
        ),
    ] = None,
    teams: Annotated[
        str | None, typer.Option(help="Comma-separated team ids to plan for (default: every team).")
    ] = None,
    pin: Annotated[
        list[str] | None,
        typer.Option(
            help="SITE:TEAM:DAY[:SERVICE]: fix a visit to a team and day (a date or sun..sat); repeatable."
        ),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit", help="Seconds the solver searches (default: the parameters', 20)."
        ),
    ] = None,
    seed: Annotated[
        int,
        typer.Option(
            help="Seed of the search: the same seed and data give the same plan (on a busier machine the search may get fewer steps done in the time)."
        ),
    ] = 0,
    params: Annotated[
        Path | None,
        typer.Option(
            help="TOML file with \\[planning] parameters (see examples/planning.toml) and optionally \\[solver], \\[straight_line] / \\[road_network]."
        ),
    ] = None,
    roads: Annotated[
        Path | None,
        typer.Option(
            help="OpenStreetMap extract (.osm.pbf/.osm/.osm.bz2): road travel times, and route lines along the roads."
        ),
    ] = None,
    backend: BackendOption = None,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the schedules.")] = Path(
        "plan"
    ),
    formats: Annotated[
        str, typer.Option("--format", help="Outputs to write, comma-separated.")
    ] = "csv,xlsx,html,geojson,gpx",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Plan a week of team-day routes and write the schedules.

    Visit tasks come from the site layers and the visit history: each service a site needs
    every N days is due when that interval has run out. Each team works its days from its base
    and back within its shift; the solver orders the visits, respects access hours, stop
    limits and NFI kits, and leaves out the lowest-priority tasks when time runs short. Every
    task left out gets one reason. Schedules go to --out: schedule.csv and schedule.xlsx, a
    printable page per team-day (html/), plan.geojson, a GPX file per team-day (gpx/), and
    left_out.csv.

    [bold]Examples[/bold]

      geoplan plan --week 2026-W49

      geoplan plan --week 2026-W49 --teams MED-TRP,PROT-1 --time-limit 60 --seed 3

      geoplan plan --pin DC-03:PROT-1:mon --pin GP-0017:MRRM-1:2026-12-01 -o week49

      geoplan plan --roads tripoli.osm.pbf --params planning.toml --format html,gpx
    """
    from geoplan.planning import parse_pins  # noqa: PLC0415
    from geoplan.schedules import check_formats, write_schedules  # noqa: PLC0415
    from geoplan.workspace import plan_week_from_store, route_lines  # noqa: PLC0415

    chosen = check_formats([f.strip() for f in formats.split(",") if f.strip()])
    pins = parse_pins(pin or [])
    loaded = _load_params(params)
    planning = loaded.planning
    limit = time_limit if time_limit is not None else planning.time_limit
    team_ids = [t.strip() for t in teams.split(",") if t.strip()] if teams else None
    store = _existing_store(workspace)
    with _progress("Reading the workspace") as tell:
        travel = _backend(roads, backend, params=loaded, progress=tell)
        plan = plan_week_from_store(
            store,
            week=week,
            team_ids=team_ids,
            params=planning,
            pins=pins,
            seed=seed,
            time_limit=limit,
            backend=travel,
            progress=tell,
        )
        tell("Writing the schedules", limit, limit)
        lines = route_lines(plan, travel, zones=store.read("no_go_zones"))
        written = write_schedules(plan, out_dir, formats=chosen, lines=lines)
    out.print(escape(plan.summary()))
    _print_written(out_dir, written)


def _print_written(folder: Path, written: dict[str, Path]) -> None:
    singles = [name for name in written if "/" not in name or name.endswith("index.html")]
    per_day = Counter(name.split("/")[0] for name in written if name not in singles)
    listed = [*singles, *(f"{kind}/ ({n} team-day file(s))" for kind, n in per_day.items())]
    out.print(f"Wrote {len(written)} file(s) to {escape(str(folder))}: {escape(', '.join(listed))}")


# --- maps -----------------------------------------------------------------------------------


@app.command("map")
def map_command(
    kind: Annotated[
        str, typer.Argument(help="Which map: layers, coverage or plan.", metavar="KIND")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path(
        "map.html"
    ),
    no_tiles: Annotated[
        bool,
        typer.Option(
            "--no-tiles",
            help="Plain background instead of OpenStreetMap tiles (tiles need internet).",
        ),
    ] = False,
    date: Annotated[
        str | None,
        typer.Option(help="Day the layers and coverage maps show, YYYY-MM-DD (default: today)."),
    ] = None,
    week: Annotated[
        str | None,
        typer.Option(help="Week the plan map plans: ISO week 2026-W49 or a date (default: next)."),
    ] = None,
    roads: Annotated[
        Path | None,
        typer.Option(help="OpenStreetMap extract: road travel times and routes along the roads."),
    ] = None,
    backend: BackendOption = None,
    seed: Annotated[int, typer.Option(help="Seed of the planner's search.")] = 0,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", help="Seconds the planner searches.")
    ] = None,
    online_assets: Annotated[
        bool,
        typer.Option(
            "--online-assets",
            help="Link Leaflet from its CDN instead of embedding it (smaller file; needs internet).",
        ),
    ] = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Draw an HTML map of the workspace: its layers, its coverage gaps or the coming week's plan.

    [bold]layers[/bold]: every site by status (overdue in red, inaccessible in grey), team
    bases, no-go zones and admin boundaries. [bold]coverage[/bold]: people out of reach per
    admin area (or H3 hexagon), the area within the threshold of a clinic or base, sites out of
    reach ringed in red, proposed new stops. [bold]plan[/bold]: each team-day route in its
    team's colour with numbered stops and arrival times, a toggle per team and per day, and
    left-out sites with their reason. Every map has a legend, a scale bar, full screen, a
    measuring tool and prints on one A4 landscape page; the file opens without internet.

    [bold]Examples[/bold]

      geoplan map layers -o layers.html

      geoplan map coverage --date 2026-03-01 --no-tiles -o gaps.html

      geoplan map plan --week 2026-W49 --roads tripoli.osm.pbf -o week49.html
    """
    from geoplan.maps import MAP_KINDS, map_frame, save_map  # noqa: PLC0415  (fast --help)
    from geoplan.workspace import MapRequest, map_from_store  # noqa: PLC0415

    if kind not in MAP_KINDS:
        raise typer.BadParameter(
            f"{kind!r} is not one of {', '.join(MAP_KINDS)}", param_hint="KIND"
        )
    store = _existing_store(workspace)
    with _progress(f"Drawing the {kind} map") as tell:
        travel = _backend(roads, backend, params=None, progress=tell)
        request = MapRequest(
            day=_parse_date(date),
            week=week,
            tiles=not no_tiles,
            backend=travel,
            seed=seed,
            time_limit=time_limit,
        )
        drawn = map_from_store(kind, store, request=request, progress=tell)
        save_map(drawn, output, inline=not online_assets)
    size = output.stat().st_size / 1e6
    out.print(f"Wrote the {kind} map to {escape(str(output))} ({size:.1f} MB)")
    if sensitive := sorted(map_frame(drawn).sensitive):
        err.print(
            f"[yellow]note:[/yellow] the map shows exact positions of {', '.join(sensitive)}, "
            "which can expose people to harm: share it only within the programme."
        )


# --- demo -----------------------------------------------------------------------------------


@app.command("demo")
def demo_command(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the demo workspace and outputs.")
    ] = Path("geoplan-demo"),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 7,
    sites: Annotated[
        int | None, typer.Option(help="Number of gathering points (default: the scenario's).")
    ] = None,
    visits: Annotated[
        int | None, typer.Option(help="Number of outreach visits (default: the scenario's).")
    ] = None,
    roads: Annotated[
        Path | None,
        typer.Option(help="OpenStreetMap extract (.osm.pbf/.osm/.osm.bz2) for road travel times."),
    ] = None,
    backend: BackendOption = None,
) -> None:
    """Build a fresh demo workspace (a made-up operation in western Libya) and run every stage.

    The data is synthetic: names and coordinates are invented, never real detention-centre
    positions. Outputs go to the --out folder; the summary says where.

    [bold]Examples[/bold]

      geoplan demo

      geoplan demo --out big-demo --sites 5000 --visits 200000 --seed 3
    """
    from geoplan.demo.run import DemoOptions, run_demo  # noqa: PLC0415  (keeps --help fast)

    options = DemoOptions(seed=seed, sites=sites, visits=visits, roads=roads)
    with _progress("Demo") as tell:
        result = run_demo(out_dir, options=options, progress=tell)
    out.print(escape(result.summary()))


# --- API ----------------------------------------------------------------------------------


@app.command("serve")
def serve_command(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    host: Annotated[
        str, typer.Option(help="Address to listen on; 127.0.0.1 keeps it on this machine.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Run the HTTP API (OGC API - Features layers, keys) on the workspace until Ctrl+C.

    Every route but /health needs a key in the X-API-Key header: make one with
    `geoplan keys create --role ROLE`. The documentation is at /docs. More settings come from
    GEOPLAN_* environment variables (see README).

    [bold]Examples[/bold]

      geoplan serve --workspace geoplan-demo/geoplan.gpkg

      GEOPLAN_PUBLIC_URL=https://maps.example.org geoplan serve --host 0.0.0.0 --port 8080
    """
    import os  # noqa: PLC0415

    import uvicorn  # noqa: PLC0415  (keeps --help fast)

    store = _existing_store(workspace)
    if not any(k.active for k in list_keys(store)):
        err.print(
            "note: this workspace has no API keys yet; make one with `geoplan keys create --role admin`"
        )
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(
            "note: keys travel in clear text over HTTP; put the API behind HTTPS (a reverse proxy)"
        )
        err.print(
            "note: requests must name a trusted host: set GEOPLAN_PUBLIC_URL (or "
            "GEOPLAN_TRUSTED_HOSTS) to the address clients use"
        )
    os.environ["GEOPLAN_WORKSPACE"] = str(workspace.resolve())
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level="info",
        server_header=False,  # the server's name and version help nobody but a scanner
        timeout_keep_alive=5,  # idle kept-alive connections close after 5 s
        timeout_graceful_shutdown=10,  # Ctrl+C waits at most 10 s for requests in flight
        limit_concurrency=200,  # more connections and requests at once than this get 503
        backlog=256,
    )  # request bodies have their own time limit: GEOPLAN_BODY_TIMEOUT (api/limits.py)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help=f"One of {', '.join(Role)} (see README: roles).")],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")] = "",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Make an API key with a role and print it once; only its hash is kept.

    [bold]Examples[/bold]

      geoplan keys create --role viewer --name "QGIS, GIS officer"

      geoplan keys create --role admin
    """
    key, token = create_key(open_store(workspace), role=role, name=name)
    out.print(f"Key {key.key_id} ({key.role}) created. It is shown only now; keep it safe:")
    out.print(token)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `geoplan keys list` shows it.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Revoke a key: the API refuses it from the next request on.

    [bold]Example[/bold]

      geoplan keys revoke 3f2a9c0b1d4e
    """
    key = revoke_key(_existing_store(workspace), key_id)
    out.print(f"Key {key.key_id} ({key.role}) revoked at {key.revoked}.")


@keys_app.command("list")
def keys_list(workspace: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """List the keys: id, role, name, created and revoked (never the keys themselves)."""
    table = Table("id", "role", "name", "created", "revoked")
    for key in list_keys(_existing_store(workspace)):
        table.add_row(key.key_id, key.role, escape(key.name), key.created, key.revoked or "")
    out.print(table)


# --- plumbing -------------------------------------------------------------------------------


def _import_options(
    mapping_file: Path | None,
    maps: list[str] | None,
    defaults: list[str] | None,
    id_prefix: str,
    source: SourceOptions,
    area: str | None,
    params: Path | None,
) -> ImportOptions:
    mapping = ColumnMapping.from_toml(mapping_file) if mapping_file else ColumnMapping()
    inline = ColumnMapping.build(
        columns={k: v.split("|") for k, v in _pairs(maps, "--map")},
        defaults=dict(_pairs(defaults, "--default")),
        id_prefix=id_prefix,
    )
    return ImportOptions(
        source=source,
        mapping=mapping.merged(inline),
        area=_parse_area(area) if area else None,
        limits=_load_params(params).imports if params else ImportLimits(),
    )


def _pairs(items: list[str] | None, option: str) -> Iterator[tuple[str, str]]:
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not FIELD=VALUE", param_hint=option)
        yield key.strip(), value.strip()


def _parse_area(text: str, *, name: str = "operating area") -> OperatingArea:
    try:
        return OperatingArea.parse(text, name=name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="area") from None


def _load_params(path: Path | None) -> Params:
    """The --params file's tables, read once; every default without a file."""
    from geoplan.params import Params, load_params  # noqa: PLC0415  (keeps --help fast)

    return load_params(path) if path else Params()


def _existing_store(workspace: Path) -> Store:
    store = open_store(workspace)
    if not store.exists():
        msg = f"workspace {workspace} does not exist; import a layer or run `geoplan demo` first"
        raise InputFileError(msg)
    return store


def _backend(
    roads: Path | None,
    spec: str | None,
    *,
    params: Params | None,
    progress: Progress | None,
) -> TravelTimeBackend:
    """The travel-time backend of ``--roads`` or ``--backend`` (straight lines by default)."""
    from geoplan.travel.backend import BackendOptions  # noqa: PLC0415  (keeps --help fast)
    from geoplan.workspace import travel_time_backend  # noqa: PLC0415

    options = BackendOptions(params=params, progress=progress)
    return travel_time_backend(roads, spec=spec, options=options)


@contextmanager
def _progress(description: str) -> Iterator[Progress]:
    """A progress bar on stderr while a command runs, told by its stages (:mod:`geoplan.progress`).

    Each step replaces the description; a measured step fills the bar (rows written, seconds
    searched, the fraction of a road-network build), an unmeasured one empties it.
    """
    bar = Bar(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=None)

        def tell(step: str, done: float, total: float | None) -> None:
            if total is None:
                bar.update(task, description=step, completed=0)
            else:
                bar.update(task, description=step, completed=done, total=total)

        yield tell


def _print_notes(notes: Sequence[str]) -> None:
    for note in notes:
        err.print(f"note: {note}")


def _print_report(report: ValidationReport) -> None:
    style = "red" if not report.ok else "green"
    out.print(f"[{style}]{escape(report.headline())}[/{style}]")
    for p in report.problems[:MAX_PROBLEMS_SHOWN]:
        mark = "[red]error  [/red]" if p.severity == "error" else "[yellow]warning[/yellow]"
        value = f" = {p.value!r}" if p.value is not None else ""
        out.print(f"{mark} {escape(p.where())}{escape(value)}: {escape(p.message)}")
        out.print(f"        [dim]fix:[/dim] {escape(p.fix)}")
    hidden = report.total - min(len(report.problems), MAX_PROBLEMS_SHOWN)
    if hidden > 0:
        out.print(f"... and {hidden} more; write them all with --report problems.csv")


def _write_report(report: ValidationReport, path: Path | None) -> None:
    if path is None:
        return
    write_csv(report.to_frame(), path)
    err.print(f"Wrote {len(report.problems)} problem(s) to {path}")
    if not report.complete:
        err.print(
            f"note: {report.total} problem(s) were found and the first {len(report.problems)} "
            f"kept; to keep more, {limit_hint('max_report_problems')}"
        )


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code, printing errors without tracebacks."""
    try:
        app(args=list(argv) if argv is not None else None, prog_name="geoplan")
    except SystemExit as exc:  # typer exits itself on success, --help and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_FAILED
    except LayerValidationError as exc:
        _print_report(exc.report)
        return EXIT_FAILED
    except USAGE_ERRORS as exc:
        err.print(f"[red]error:[/red] {exc}")
        return EXIT_USAGE
    except GeoplanError as exc:
        err.print(f"[red]error:[/red] {exc}")
        return EXIT_FAILED
    except OSError as exc:
        err.print(f"[red]error:[/red] {_os_error_text(exc)}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        err.print("Interrupted; nothing half-written was kept.")
        return 130
    except Exception as exc:  # a bug: say so plainly, without a traceback
        err.print(f"[red]internal error:[/red] {type(exc).__name__}: {exc}. Please report it.")
        return EXIT_FAILED
    return EXIT_OK


def _os_error_text(exc: OSError) -> str:
    """What went wrong, in words: a full disk says so and where; anything else as the system
    says it, with the file."""
    if is_disk_full(exc):
        where = Path(exc.filename).parent if exc.filename else "the output folder"
        return str(disk_full(where))
    return f"{exc.strerror or exc}: {exc.filename or ''}"


def main() -> None:
    """Entry point of the ``geoplan`` console script."""
    sys.exit(run())
