"""Commands for saved plans: list, show, publish, delete, export and compare them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from geoplan.cli.common import (
    BackendOption,
    WorkspaceOption,
    app,
    existing_store,
    out,
    progress_bar,
    travel_backend,
)
from geoplan.store import DEFAULT_WORKSPACE

if TYPE_CHECKING:
    from geoplan.plans import PlanInfo, SavedPlan

plans_app = typer.Typer(
    help="Saved weekly plans: every `geoplan plan` saves one as a draft. List them, look at "
    "one, publish the one the teams follow (one per week), compare two, write a plan's "
    "schedules again, or delete one.",
    no_args_is_help=True,
)
app.add_typer(plans_app, name="plans")

PlanIdArgument = Annotated[str, typer.Argument(help="The plan's id, e.g. 2026-W49-2.")]
FormatOption = Annotated[
    str, typer.Option("--format", help="text (for people) or json (for programs).")
]


def _check_format(fmt: str) -> str:
    if fmt not in ("text", "json"):
        raise typer.BadParameter(f"{fmt!r}: expected text or json", param_hint="--format")
    return fmt


@plans_app.command("list")
def list_command(
    week: Annotated[
        str | None, typer.Option(help="Only this ISO week's plans, e.g. 2026-W49.")
    ] = None,
    fmt: FormatOption = "text",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """The saved plans, newest first: id, week, status, when and by whom, visits and sites.

    [bold]Examples[/bold]

      geoplan plans list

      geoplan plans list --week 2026-W49 --format json
    """
    from geoplan.plans import list_plans  # noqa: PLC0415

    plans = list_plans(existing_store(workspace), week=week.upper() if week else None)
    if _check_format(fmt) == "json":
        out.print_json(json.dumps([p.to_json() for p in plans]))
        return
    if not plans:
        out.print("No saved plans yet: `geoplan plan` makes and saves one.")
        return
    out.print(_plans_table(plans))


def _plans_table(plans: list[PlanInfo]) -> Table:
    table = Table(
        "Plan", "Week", "Status", "Made", "By", "Visits", "Sites", "Left out", "Re-plan of"
    )
    for p in plans:
        table.add_row(
            p.id,
            p.week,
            str(p.status),
            f"{p.created:%Y-%m-%d %H:%M} UTC",
            escape(p.created_by),
            str(p.visits),
            str(p.sites),
            str(p.left_out),
            p.replan_of or "",
        )
    return table


@plans_app.command("show")
def show_command(
    plan_id: PlanIdArgument,
    fmt: FormatOption = "text",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """One plan: its status, inputs, summary and every team-day's stops in order.

    [bold]Example[/bold]

      geoplan plans show 2026-W49-2
    """
    from geoplan.plans import read_plan  # noqa: PLC0415

    saved = read_plan(existing_store(workspace), plan_id)
    if _check_format(fmt) == "json":
        out.print_json(json.dumps(_plan_json(saved)))
        return
    for line in _plan_lines(saved):
        out.print(escape(line))


def _plan_json(saved: SavedPlan) -> dict[str, object]:
    plan = saved.plan
    return {
        "id": saved.id,
        "week": saved.week,
        "status": str(saved.status),
        "created": saved.created.isoformat().replace("+00:00", "Z"),
        "created_by": saved.created_by,
        "inputs": {
            "teams": saved.inputs.teams,
            "pins": saved.inputs.pins,
            "seed": saved.inputs.seed,
            "time_limit": saved.inputs.time_limit,
            "backend": saved.inputs.backend,
            "revision": saved.inputs.revision,
            "replan_of": saved.inputs.replan_of,
            "kept_before": str(saved.inputs.kept_before) if saved.inputs.kept_before else None,
            "locks": saved.inputs.locks,
        },
        "totals": plan.totals(),
        "stops": json.loads(plan.to_frame().to_json(orient="records", date_format="iso")),
        "left_out": json.loads(plan.left_out_frame().to_json(orient="records")),
    }


def _plan_lines(saved: SavedPlan) -> list[str]:
    inputs = saved.inputs
    lines = [
        f"Plan {saved.id} ({saved.status}), week {saved.week}, made "
        f"{saved.created:%Y-%m-%d %H:%M} UTC by {saved.created_by}",
        f"  seed {inputs.seed}, {inputs.time_limit:g} s search, travel times: {inputs.backend}, "
        f"workspace revision {inputs.revision}",
    ]
    if inputs.teams:
        lines.append(f"  teams: {', '.join(inputs.teams)}")
    if inputs.pins:
        lines.append(f"  pins: {', '.join(inputs.pins)}")
    if inputs.replan_of:
        kept = f"; kept as planned before {inputs.kept_before}" if inputs.kept_before else ""
        locks = f"; locked: {', '.join(inputs.locks)}" if inputs.locks else ""
        lines.append(f"  re-plan of {inputs.replan_of}{kept}{locks}")
    lines += saved.plan.summary().splitlines()
    for route in saved.plan.routes:
        if not route.stops:
            continue
        lines.append(f"{route.team_name}, {route.day:%a %d %b}: leave {route.depart:%H:%M}")
        lines += [
            f"  {s.order}. {s.arrival:%H:%M} {s.task.site_name} ({s.task.site_id}), {s.task.service}"
            for s in route.stops
        ]
        lines.append(f"  back {route.back:%H:%M}")
    return lines


@plans_app.command("publish")
def publish_command(
    plan_id: PlanIdArgument, workspace: WorkspaceOption = DEFAULT_WORKSPACE
) -> None:
    """Publish a plan: the one the teams follow this week. The week's plan published before
    becomes superseded (a week has one published plan).

    [bold]Example[/bold]

      geoplan plans publish 2026-W49-2
    """
    from geoplan.plans import publish_plan  # noqa: PLC0415

    superseded = publish_plan(existing_store(workspace), plan_id)
    note = f"; {', '.join(superseded)} superseded" if superseded else ""
    out.print(escape(f"Published plan {plan_id}{note}"))


@plans_app.command("delete")
def delete_command(plan_id: PlanIdArgument, workspace: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """Delete a saved plan.

    [bold]Example[/bold]

      geoplan plans delete 2026-W49-1
    """
    from geoplan.plans import delete_plan  # noqa: PLC0415

    delete_plan(existing_store(workspace), plan_id)
    out.print(escape(f"Deleted plan {plan_id}"))


@plans_app.command("export")
def export_command(
    plan_id: PlanIdArgument,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the schedules.")] = Path(
        "plan"
    ),
    formats: Annotated[
        str, typer.Option("--format", help="Outputs to write, comma-separated.")
    ] = "csv,xlsx,html,geojson,gpx",
    roads: Annotated[
        Path | None,
        typer.Option(help="OpenStreetMap extract: route lines along the roads."),
    ] = None,
    backend: BackendOption = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Write a saved plan's schedules again: schedule.csv and .xlsx, a printable page per
    team-day, plan.geojson, GPX per team-day and left_out.csv (as `geoplan plan` wrote them).
    For its map: geoplan map plan --plan ID.

    [bold]Example[/bold]

      geoplan plans export 2026-W49-2 -o week49
    """
    from geoplan.plans import read_plan  # noqa: PLC0415
    from geoplan.schedules import check_formats, write_schedules  # noqa: PLC0415
    from geoplan.workspace import route_lines  # noqa: PLC0415

    chosen = check_formats([f.strip() for f in formats.split(",") if f.strip()])
    store = existing_store(workspace)
    saved = read_plan(store, plan_id)
    with progress_bar("Writing the schedules") as tell:
        travel = travel_backend(roads, backend, params=None, progress=tell)
        lines = route_lines(saved.plan, travel, zones=store.read("no_go_zones"))
        written = write_schedules(saved.plan, out_dir, formats=chosen, lines=lines)
    out.print(escape(f"Wrote {len(written)} file(s) of plan {plan_id} to {out_dir}"))


@plans_app.command("diff")
def diff_command(
    first: Annotated[str, typer.Argument(help="The plan before, e.g. 2026-W49-1.")],
    second: Annotated[str, typer.Argument(help="The plan after, e.g. 2026-W49-2.")],
    fmt: FormatOption = "text",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """What changed between two plans, visit by visit: kept (same team and day), moved (from
    team-day to team-day), added, and dropped with the reason.

    [bold]Examples[/bold]

      geoplan plans diff 2026-W49-1 2026-W49-2

      geoplan plans diff 2026-W49-1 2026-W49-2 --format json
    """
    from geoplan.plans import diff_plans, read_plan  # noqa: PLC0415

    store = existing_store(workspace)
    change = diff_plans(read_plan(store, first).plan, read_plan(store, second).plan)
    if _check_format(fmt) == "json":
        out.print_json(json.dumps(change.to_json()))
        return
    for line in change.lines():
        out.print(escape(line))
