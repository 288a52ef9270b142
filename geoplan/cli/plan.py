"""Commands for the weekly plan, maps and the demo."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from geoplan.store import DEFAULT_WORKSPACE

if TYPE_CHECKING:
    from geoplan.plans import SavedPlan
    from geoplan.store import Store

from geoplan.cli.common import (
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
from geoplan.cli.share import record_map_export, share_map_command

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
    away: Annotated[
        list[str] | None,
        typer.Option(
            help="TEAM:DAY: the team is away that day (a date or sun..sat), on top of the team_absences layer; repeatable."
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
    replan: Annotated[
        str | None,
        typer.Option(
            "--replan",
            help="Id of a saved plan to change as little as possible (see geoplan plans list): "
            "its week, teams, pins and parameters unless given; every stop still allowed keeps "
            "its team and day unless moving it saves more than replan_move_minutes of driving.",
        ),
    ] = None,
    from_day: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="With --replan: days before this date (YYYY-MM-DD) stay exactly as planned "
            "(done or under way). Default: today, when the week is under way.",
        ),
    ] = None,
    lock: Annotated[
        list[str] | None,
        typer.Option(
            help="With --replan: TEAM:DAY (a date or sun..sat) keeps that team-day exactly as "
            "planned; repeatable."
        ),
    ] = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Plan a week of team-day routes, save the plan in the workspace and write the schedules.

    Visit tasks come from the site layers and the visit history: each service a site needs
    every N days is due when that interval has run out. Each team works its days from its base
    and back within its shift; the solver orders the visits, respects access hours, stop
    limits and NFI kits, and leaves out the lowest-priority tasks when time runs short. Every
    task left out gets one reason. Schedules go to --out: schedule.csv and schedule.xlsx, a
    printable page per team-day (html/), plan.geojson, a GPX file per team-day (gpx/), and
    left_out.csv. Every plan is saved in the workspace as a draft with its id (2026-W49-1):
    publish, compare and export it with geoplan plans.

    [bold]Examples[/bold]

      geoplan plan --week 2026-W49

      geoplan plan --replan 2026-W49-1 --from 2026-12-01 --lock PROT-1:wed

      geoplan plan --week 2026-W49 --teams MED-TRP,PROT-1 --time-limit 60 --seed 3

      geoplan plan --pin DC-03:PROT-1:mon --pin GP-0017:MRRM-1:2026-12-01 -o week49

      geoplan plan --away MED-TRP:tue --away MRRM-1:2026-12-01

      geoplan plan --roads tripoli.osm.pbf --params planning.toml --format html,gpx
    """
    from geoplan.audit import command_line_user  # noqa: PLC0415
    from geoplan.planning import Lock, parse_pins  # noqa: PLC0415
    from geoplan.plans import PlanRequest, make_plan  # noqa: PLC0415
    from geoplan.schedules import check_formats, write_schedules  # noqa: PLC0415
    from geoplan.workspace import route_lines  # noqa: PLC0415

    chosen = check_formats([f.strip() for f in formats.split(",") if f.strip()])
    pins = parse_pins(pin or [])
    locks = [Lock.parse(text) for text in lock or []]
    if (locks or from_day) and not replan:
        raise typer.BadParameter("--from and --lock keep parts of a plan: add --replan ID")
    loaded = load_params_file(params) if params or not replan else None
    team_ids = tuple(t.strip() for t in teams.split(",") if t.strip()) if teams else None
    request = PlanRequest(
        week=week,
        teams=team_ids,
        pins=tuple(p.text for p in pins),
        away=tuple(away or ()),
        params=loaded.planning if loaded else None,
        seed=seed,
        time_limit=time_limit,
        replan_of=replan,
        kept_before=parse_date(from_day) if from_day else None,
        locks=tuple(lk.text for lk in locks),
    )
    store = existing_store(workspace)
    with progress_bar("Reading the workspace") as tell:
        travel = travel_backend(roads, backend, params=loaded, progress=tell)
        saved = make_plan(store, request, who=command_line_user(), backend=travel, progress=tell)
        plan = saved.plan
        tell("Writing the schedules", 0, None)
        lines = route_lines(plan, travel, zones=store.read("no_go_zones"))
        written = write_schedules(plan, out_dir, formats=chosen, lines=lines)
    out.print(escape(plan.summary()))
    _print_written(out_dir, written)
    out.print(_saved_line(saved))


def _saved_line(saved: SavedPlan) -> str:
    line = f"Saved as plan {saved.id} (draft): geoplan plans publish {saved.id}"
    if saved.inputs.replan_of:
        kept = saved.inputs.kept_before
        since = f", days before {kept:%a %d %b} kept as planned" if kept else ""
        line = (
            f"Saved as plan {saved.id} (draft), a re-plan of {saved.inputs.replan_of}{since}; "
            f"see what changed: geoplan plans diff {saved.inputs.replan_of} {saved.id}"
        )
    return escape(line)


def _print_written(folder: Path, written: dict[str, Path]) -> None:
    singles = [name for name in written if "/" not in name or name.endswith("index.html")]
    per_day = Counter(name.split("/")[0] for name in written if name not in singles)
    listed = [*singles, *(f"{kind}/ ({n} team-day file(s))" for kind, n in per_day.items())]
    out.print(f"Wrote {len(written)} file(s) to {escape(str(folder))}: {escape(', '.join(listed))}")


# --- maps -----------------------------------------------------------------------------------


@app.command("map")
def map_command(
    kind: Annotated[
        str,
        typer.Argument(help="Which map: layers, coverage, plan or share.", metavar="KIND"),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path(
        "map.html"
    ),
    no_tiles: Annotated[
        bool,
        typer.Option("--no-tiles", hidden=True, help="No online tiles (the default now)."),
    ] = False,
    online_tiles: Annotated[
        bool,
        typer.Option(
            "--online-tiles",
            help="Also fetch OpenStreetMap tiles from the internet. Off by default: tile "
            "requests tell the tile server where the map looks, so never for maps of sensitive "
            "sites shared outside the programme.",
        ),
    ] = False,
    basemap: Annotated[
        Path | None,
        typer.Option(
            help="Background drawn offline: an OpenStreetMap extract (.osm.pbf/.osm/.osm.bz2) "
            "or a GeoJSON base map. Default: the --roads extract, when given.",
        ),
    ] = None,
    paper: Annotated[
        str, typer.Option(help="Paper the map prints on: A4 or A3.", case_sensitive=False)
    ] = "A4",
    orientation: Annotated[
        str, typer.Option(help="landscape or portrait.", case_sensitive=False)
    ] = "landscape",
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
    plan_id: Annotated[
        str | None,
        typer.Option(
            "--plan",
            help="plan map: the saved plan to draw (see geoplan plans list). Default: the "
            "week's published plan, else its newest saved plan, else a fresh one.",
        ),
    ] = None,
    by: Annotated[
        str, typer.Option("--by", help="share map: admin1, admin2 or h3:RES (see geoplan share).")
    ] = "admin2",
    period: Annotated[
        str | None, typer.Option(help="share map: period START..END (default: half a year).")
    ] = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Draw an HTML map of the workspace: its layers, its coverage gaps or the coming week's plan.

    [bold]layers[/bold]: every site by status (overdue in red, inaccessible in grey), team
    bases, no-go zones and admin boundaries. [bold]coverage[/bold]: people out of reach per
    admin area (or H3 hexagon), the area within the threshold of a clinic or base, sites out of
    reach ringed in red, proposed new stops. [bold]plan[/bold]: each team-day route in its
    team's colour with numbered stops and arrival times, a toggle per team and per day, and
    left-out sites with their reason, one day at a time with a day switcher and a team x day
    panel. [bold]share[/bold]: people and sites per area, suppressed under the policy's
    threshold, with no site on it: the one map to hand outside the programme (see
    `geoplan share`). Every map has a legend, a scale bar, full screen, a measuring tool and
    prints on one page (A4 landscape by default, --paper A3) with a north arrow and an overview
    inset; it opens and reads without internet: roads, water and place names come from the
    --roads or --basemap extract, drawn offline, and no tile server is asked anything.

    [bold]Examples[/bold]

      geoplan map layers -o layers.html

      geoplan map coverage --date 2026-03-01 --basemap libya.osm.pbf -o gaps.html

      geoplan map plan --week 2026-W49 --roads tripoli.osm.pbf --paper A3 -o week49.html

      geoplan map plan --plan 2026-W49-2 -o week49.html

      geoplan map share --by h3:6 -o shared.html
    """
    from geoplan.basemap import read_basemap  # noqa: PLC0415  (fast --help)
    from geoplan.maps import MAP_KINDS, Paper, map_frame, save_map  # noqa: PLC0415
    from geoplan.workspace import MapRequest, map_from_store  # noqa: PLC0415

    if kind == "share":  # counts per area for outsiders: see `geoplan share`
        share_map_command(output, by=by, period=period, date=date, workspace=workspace)
        return
    if kind not in MAP_KINDS:
        raise typer.BadParameter(
            f"{kind!r} is not one of {', '.join(MAP_KINDS)}", param_hint="KIND"
        )
    try:
        sheet = Paper(paper.upper(), orientation.lower())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--paper/--orientation") from exc
    store = existing_store(workspace)
    saved = _plan_to_draw(store, plan_id, week) if kind == "plan" else None
    with progress_bar(f"Drawing the {kind} map") as tell:
        travel = travel_backend(roads, backend, params=None, progress=tell)
        background = basemap or roads
        request = MapRequest(
            day=parse_date(date),
            week=week,
            tiles=online_tiles and not no_tiles,
            basemap=read_basemap(background) if background else None,
            paper=sheet,
            backend=travel,
            seed=seed,
            time_limit=time_limit,
            plan=saved.plan if saved else None,
        )
        drawn = map_from_store(kind, store, request=request, progress=tell)
        save_map(drawn, output, inline=not online_assets)
    record_map_export(store, kind, output, map_frame(drawn).sensitive)
    size = output.stat().st_size / 1e6
    drew = f" of plan {saved.id} ({saved.status})" if saved else ""
    if kind == "plan" and saved is None:
        drew = " of a fresh plan (not saved: the week has no saved plan)"
    out.print(f"Wrote the {kind} map{drew} to {escape(str(output))} ({size:.1f} MB)")
    if online_tiles and map_frame(drawn).sensitive:
        err.print(
            "[yellow]note:[/yellow] --online-tiles: opening this map asks the tile server for "
            "the area around sensitive sites; leave it out for maps that leave the office."
        )
    if sensitive := sorted(map_frame(drawn).sensitive):
        err.print(
            f"[yellow]note:[/yellow] the map shows exact positions of {', '.join(sensitive)}, "
            "which can expose people to harm: share it only within the programme."
        )


def _plan_to_draw(store: Store, plan_id: str | None, week: str | None) -> SavedPlan | None:
    """The plan the plan map draws: the one asked for, else the week's published plan, else
    its newest saved plan; None when the week has none (a fresh plan is drawn)."""
    from geoplan.planning import week_days  # noqa: PLC0415
    from geoplan.plans import iso_week, list_plans, read_plan  # noqa: PLC0415
    from geoplan.vocab import PlanStatus  # noqa: PLC0415

    if plan_id:
        return read_plan(store, plan_id)
    saved = list_plans(store, week=iso_week(week_days(week)))
    chosen = next((p for p in saved if p.status == PlanStatus.PUBLISHED), None)
    chosen = chosen or (saved[0] if saved else None)
    return read_plan(store, chosen.id) if chosen else None


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
    with progress_bar("Demo") as tell:
        result = run_demo(out_dir, options=options, progress=tell)
    out.print(escape(result.summary()))
