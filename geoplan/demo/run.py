"""The demo pipeline: a fresh demo workspace, then every stage geoplan has, in order.

Each stage is a small function that takes the run so far and adds what it made (summary lines
and output files), so a new stage is one function and one entry in :data:`STAGES`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geoplan.outputs import private_folder
from geoplan.progress import Progress, tell
from geoplan.store import Store, open_store


@dataclass(frozen=True)
class DemoOptions:
    """What the demo builds: the seed and size of the synthetic scenario, and optional roads."""

    seed: int = 7
    sites: int | None = None
    visits: int | None = None
    roads: Path | None = None
    today: dt.date | None = None
    time_limit: float = 10.0


@dataclass
class DemoRun:
    """What the demo made so far: summary lines and output files by name."""

    out_dir: Path
    options: DemoOptions
    lines: list[str] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    """What a stage made for later stages: ``"matrix"``, ``"plan"``, ``"coverage"``."""

    @property
    def workspace(self) -> Path:
        """The demo workspace file."""
        return self.out_dir / "geoplan.gpkg"

    @property
    def store(self) -> Store:
        """The demo workspace's store."""
        return open_store(self.workspace)

    @property
    def today(self) -> dt.date:
        """The date the demo treats as today."""
        return self.options.today or dt.date.today()

    def summary(self) -> str:
        """Everything the stages reported, then where the outputs are."""
        lines = [*self.lines, "", "Outputs:"]
        lines += [f"  {name:<22} {path}" for name, path in self.outputs.items()]
        return "\n".join(lines)


def run_demo(
    out_dir: Path, *, options: DemoOptions | None = None, progress: Progress | None = None
) -> DemoRun:
    """Build the demo workspace in ``out_dir`` and run every stage on it.

    ``progress`` is told the name of each stage as it starts.
    """
    run = DemoRun(out_dir=out_dir, options=options or DemoOptions())
    private_folder(out_dir)
    for name, stage in STAGES:
        tell(progress, name)
        stage(run)
    return run


def _build_workspace(run: DemoRun) -> None:
    from geoplan.demo.scenario import build_demo_workspace  # noqa: PLC0415  (heavy; only for the demo)

    options = run.options
    results = build_demo_workspace(
        run.workspace,
        seed=options.seed,
        sites=options.sites,
        visits=options.visits,
        today=run.today,
    )
    run.lines.append(f"Demo workspace for western Libya (seed {options.seed}, synthetic data):")
    run.lines += [f"  {name:<18} {result.added:>7} rows" for name, result in results.items()]
    run.outputs["workspace"] = run.workspace


def _compute_travel_times(run: DemoRun) -> None:
    """Travel times from the team bases to the sites and clinics, and from every site to the
    clinics and bases, with today's no-go zones closed.

    Only what the stages need, so that it grows with the sites times the bases and clinics
    (a square over 50,000 sites would take 42 GB): ``run.results["matrix"]`` is sites x
    (clinics, bases ``base:<team>``), which coverage cuts down; the planner makes its own
    week's times (:func:`geoplan.planning.week_times`). The CSV holds bases -> sites and clinics.
    """
    from geoplan.planning import PLANNED_LAYERS, base_location, planning_points  # noqa: PLC0415
    from geoplan.travel.matrix import matrix_from_points, save_matrix  # noqa: PLC0415
    from geoplan.workspace import travel_time_backend  # noqa: PLC0415
    from geoplan.zones import active_zones  # noqa: PLC0415

    store = run.store
    teams = store.read("teams")
    sites = {layer: store.read(layer) for layer in (*PLANNED_LAYERS, "clinics")}
    points = planning_points(sites, teams)
    bases = [base_location(t) for t in teams["id"]]
    is_base = points["id"].isin(bases)
    hubs = points.loc[is_base | points["id"].isin(sites["clinics"]["id"])]
    closures = active_zones(store.read("no_go_zones"), on=run.today)
    backend = run.results["backend"] = travel_time_backend(run.options.roads)
    part = matrix_from_points(
        points.loc[is_base], points.loc[~is_base], backend=backend, closures=closures
    )
    run.results["matrix"] = matrix_from_points(
        points.loc[~is_base], hubs, backend=backend, closures=closures
    )
    run.outputs["travel_times"] = save_matrix(part, run.out_dir / "travel_times.csv")
    unreachable = part.unreachable_counts()
    why = "; ".join(f"{kind}: {n}" for kind, n in unreachable.items()) or "none"
    run.lines.append(
        f"Travel times ({part.backend}, {len(closures.zones)} no-go zone(s) active on "
        f"{run.today}): {len(bases)} bases x {len(part.destinations)} sites and clinics; "
        f"unreachable points: {sum(unreachable.values())} ({why})"
    )


def _analyse_coverage(run: DemoRun) -> None:
    """Coverage gaps of the demo workspace, with the travel-time stage's matrix when there is one.

    ``run.results["coverage"]`` holds the result; the CSV tables and ``coverage.gpkg`` go to
    ``coverage/``, and the summary lines give the totals and the worst gaps.
    """
    from geoplan.coverage import coverage_reusing_matrix, save_coverage, top_gaps_text  # noqa: PLC0415
    from geoplan.planning import base_location  # noqa: PLC0415
    from geoplan.workspace import coverage_layers  # noqa: PLC0415

    store = run.store
    bases = {str(t): base_location(str(t)) for t in store.read("teams")["id"]}
    matrix = run.results.get("matrix")
    layers = coverage_layers(store)
    result = coverage_reusing_matrix(
        layers, matrix=matrix, base_ids=bases, backend=run.results.get("backend"), today=run.today
    )
    run.results["coverage"] = result
    folder = run.out_dir / "coverage"
    save_coverage(result, folder)
    run.outputs["coverage"] = folder / "coverage.gpkg"
    lines = [*result.summary().splitlines(), *top_gaps_text(result, n=5).splitlines()]
    run.lines += [lines[0] + ":", *(f"  {line}" for line in lines[1:])]


def _plan_week(run: DemoRun) -> None:
    """The coming week's plan (from the next Sunday after today) and its schedules.

    The planner makes the week's travel times with the demo's backend: bases to sites and
    back, then the candidate sites among themselves (:func:`geoplan.planning.week_times`). Leaves the plan in
    ``run.results["plan"]`` and the schedules in ``plan/``.
    """
    from geoplan.schedules import write_schedules  # noqa: PLC0415
    from geoplan.workspace import plan_week_from_store, route_lines  # noqa: PLC0415

    options, store = run.options, run.store
    backend = run.results["backend"]
    plan = plan_week_from_store(
        store,
        today=run.today,
        seed=options.seed,
        time_limit=options.time_limit,
        backend=backend,
    )
    run.results["plan"] = plan
    run.results["lines"] = lines = route_lines(plan, backend, zones=store.read("no_go_zones"))
    written = write_schedules(plan, run.out_dir / "plan", lines=lines)
    run.lines.append(
        f"Plan for the coming week (solver seed {options.seed}, {options.time_limit:g} s):"
    )
    run.lines += [f"  {line}" for line in plan.summary().splitlines()]
    for name, key in PLAN_OUTPUTS.items():
        run.outputs[name] = written[key]
    run.outputs["plan_gpx"] = run.out_dir / "plan" / "gpx"


PLAN_OUTPUTS = {
    "plan_schedule_xlsx": "schedule.xlsx",
    "plan_schedule_csv": "schedule.csv",
    "plan_left_out": "left_out.csv",
    "plan_pages": "html/index.html",
    "plan_geojson": "plan.geojson",
}


def _draw_maps(run: DemoRun) -> None:
    """The layers map, and the coverage and plan maps when those stages ran, in ``maps/``.

    Each file embeds Leaflet and a base map (the demo's own, or the roads extract's), so it
    opens and reads offline; the reach area and the route lines are
    drawn by the travel-time stage's backend (along the roads when the demo had them).
    """
    from geoplan.basemap import read_basemap  # noqa: PLC0415
    from geoplan.demo.scenario import demo_basemap  # noqa: PLC0415
    from geoplan.maps import write_maps  # noqa: PLC0415
    from geoplan.workspace import coverage_reach, read_frames  # noqa: PLC0415

    frames = read_frames(run.store)
    coverage, backend = run.results.get("coverage"), run.results.get("backend")
    reach = coverage_reach(coverage, frames, backend) if coverage and backend else None
    paths = write_maps(
        run.out_dir / "maps",
        frames,
        day=run.today,
        coverage=coverage,
        plan=run.results.get("plan"),
        reach=reach,
        lines=run.results.get("lines"),
        basemap=read_basemap(run.options.roads) if run.options.roads else demo_basemap(),
    )
    run.outputs.update({f"map_{kind}": path for kind, path in paths.items()})
    run.lines.append(
        f"Maps: {', '.join(paths)} in {run.out_dir / 'maps'} (exact positions of gathering "
        "points and detention centres: do not share)"
    )


STAGES: list[tuple[str, Callable[[DemoRun], None]]] = [
    ("Building the demo workspace", _build_workspace),
    ("Computing travel times", _compute_travel_times),
    ("Analysing coverage", _analyse_coverage),
    ("Planning the coming week", _plan_week),
    ("Drawing maps", _draw_maps),
]
