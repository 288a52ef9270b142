"""What every ``geoplan`` command shares: the app, the consoles, the common options and the
plumbing that turns options into library calls."""

from __future__ import annotations

import datetime as dt
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

from geoplan.errors import (
    InputFileError,
    MappingError,
    ParameterError,
    UnknownLayerError,
)
from geoplan.imports import (
    ImportOptions,
)
from geoplan.layers import ColumnMapping, OperatingArea
from geoplan.outputs import write_csv
from geoplan.report import ValidationReport
from geoplan.sources import ImportLimits, SourceOptions, limit_hint
from geoplan.store import Store, open_store, workspace_label

if TYPE_CHECKING:
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
    str,
    typer.Option(
        "--workspace",
        "-w",
        envvar="GEOPLAN_WORKSPACE",
        help=(
            "Workspace: a GeoPackage file (created on first import) or a PostgreSQL database "
            "with PostGIS, as postgresql://USER:PASSWORD@HOST:PORT/DATABASE (see README: "
            "server deployment)."
        ),
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
CoordinatesOption = Annotated[
    str | None,
    typer.Option(
        "--coordinates",
        help="A column holding both coordinates in one cell: 'lat, lon', '[lat, lon]' or a KoBo/ODK geopoint 'lat lon alt acc'.",
    ),
]
CoordinateOrderOption = Annotated[
    str | None,
    typer.Option(
        "--coordinate-order",
        help="latlon or lonlat: which comes first in a --coordinates cell (by default told from the values and the operating area).",
    ),
]
HeaderRowOption = Annotated[
    str | None,
    typer.Option(
        "--header-row",
        help="Row N (or rows N-M, joined as 'People / Men') holding the column names, counting non-blank rows from 1; found by default.",
    ),
]
IdFromOption = Annotated[
    str | None,
    typer.Option(
        "--id-from",
        help="Where ids come from in a file without them: a COLUMN, 'row' (row-17) or 'content' (a hash of the row, stable when rows move).",
    ),
]
OnDuplicateOption = Annotated[
    str,
    typer.Option(
        "--on-duplicate",
        help="Rows sharing an id: error (refuse), identical (drop exact copies, refuse the others), first or last (keep one).",
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


# --- plumbing -------------------------------------------------------------------------------


def import_options(
    mapping_file: Path | None,
    maps: list[str] | None,
    defaults: list[str] | None,
    id_prefix: str,
    source: SourceOptions,
    area: str | None,
    params: Path | None,
    *,
    id_from: str | None = None,
    on_duplicate: str = "error",
) -> ImportOptions:
    mapping = ColumnMapping.from_toml(mapping_file) if mapping_file else ColumnMapping()
    inline = ColumnMapping.build(
        columns={k: v.split("|") for k, v in pairs(maps, "--map")},
        defaults=dict(pairs(defaults, "--default")),
        id_prefix=id_prefix,
        id_from=id_from or "",
    )
    return ImportOptions(
        source=source,
        mapping=mapping.merged(inline),
        area=parse_area(area) if area else None,
        limits=load_params_file(params).imports if params else ImportLimits(),
        on_duplicate=on_duplicate,
    )


def source_options(
    source_layer: str | None,
    sheet: str | None,
    lon_column: str | None,
    lat_column: str | None,
    crs: str | None,
    *,
    coordinates: str | None = None,
    coordinate_order: str | None = None,
    header_row: str | None = None,
) -> SourceOptions:
    """The reading options of the import and validate commands."""
    if coordinate_order not in (None, "latlon", "lonlat"):
        msg = f"{coordinate_order!r} is not latlon or lonlat"
        raise typer.BadParameter(msg, param_hint="--coordinate-order")
    return SourceOptions(
        source_layer,
        sheet,
        lon_column,
        lat_column,
        crs,
        coordinates=coordinates,
        coordinate_order=coordinate_order,  # type: ignore[arg-type]
        header_row=header_row,
    )


def pairs(items: list[str] | None, option: str) -> Iterator[tuple[str, str]]:
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not FIELD=VALUE", param_hint=option)
        yield key.strip(), value.strip()


def parse_area(text: str, *, name: str = "operating area") -> OperatingArea:
    try:
        return OperatingArea.parse(text, name=name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="area") from None


def load_params_file(path: Path | None) -> Params:
    """The --params file's tables, read once; every default without a file."""
    from geoplan.params import Params, load_params  # noqa: PLC0415  (keeps --help fast)

    return load_params(path) if path else Params()


def existing_store(workspace: Path | str) -> Store:
    store = open_store(workspace)
    if not store.exists():
        msg = (
            f"workspace {workspace_label(workspace)} does not exist; import a layer or run "
            "`geoplan demo` first"
        )
        raise InputFileError(msg)
    return store


def travel_backend(
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
def progress_bar(description: str) -> Iterator[Progress]:
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


def print_notes(notes: Sequence[str]) -> None:
    for note in notes:
        err.print(f"note: {note}")


def print_report(report: ValidationReport) -> None:
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


def write_report(report: ValidationReport, path: Path | None) -> None:
    if path is None:
        return
    write_csv(report.to_frame(), path)
    err.print(f"Wrote {len(report.problems)} problem(s) to {path}")
    if not report.complete:
        err.print(
            f"note: {report.total} problem(s) were found and the first {len(report.problems)} "
            f"kept; to keep more, {limit_hint('max_report_problems')}"
        )


def parse_date(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date YYYY-MM-DD", param_hint="--date"
        ) from None
