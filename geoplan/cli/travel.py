"""Commands for travel times and coverage: matrix and coverage."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from geoplan.store import DEFAULT_WORKSPACE

if TYPE_CHECKING:
    from geoplan.coverage import CoverageParams, CoverageResult

from geoplan.cli.common import (
    MAX_PROBLEMS_SHOWN,
    BackendOption,
    WorkspaceOption,
    app,
    err,
    existing_store,
    load_params_file,
    out,
    parse_date,
    progress_bar,
    travel_backend,
)

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

    day = parse_date(date)
    loaded = load_params_file(params)
    store = existing_store(workspace)
    with progress_bar("Travel times") as tell:
        travel = travel_backend(roads, backend, params=loaded, progress=tell)
        tell("Computing travel times", 0, None)
        matrix = matrix_from_store(store, from_layer, to_layer, on=day, backend=travel)
        save_matrix(matrix, output)
    out.print(escape(travel.description))
    _print_matrix_summary(matrix.summary())
    out.print(f"Wrote {matrix.shape[0] * matrix.shape[1]} pair(s) to {output}")


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

    loaded = load_params_file(params)
    settings = _coverage_params(loaded.coverage, threshold, locations)
    coverage.check_by(by)
    span = Period.parse(period) if period else None
    store = existing_store(workspace)
    with progress_bar("Coverage") as tell:
        travel = travel_backend(roads, backend, params=loaded, progress=tell)
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
