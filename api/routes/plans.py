"""Weekly plans: ask for one, follow it while it runs, then read it and its outputs.

``POST /plans`` checks the request against the workspace (known teams, pins on sites and
days the team works) and answers ``202`` with the plan's URL at once; the week is planned in
a separate process (see :mod:`api.plans`) and saved in the workspace as a draft, by the name
of the key that asked (``plan_id``: ``2026-W50-3``, as ``geoplan plans`` lists it); ``POST
/plans/{id}/publish`` makes it the week's published plan. ``GET /plans/{id}`` says ``queued``, ``running``
(with the step), ``failed`` (with the reason) or ``done``, with the routes per team-day and
the visits left out, each with its reason. The schedule comes as CSV and XLSX, the left-out
visits as CSV, the plan as GeoJSON and as an HTML map. Plans hold exact positions: planners
and admins only.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException

from api.analysis import records
from api.deps import KeyDep, PlansDep, ReaderDep, SettingsDep, get_key
from api.errors import scrub
from api.models import Link
from api.models_analysis import (
    PLAN_ID_PATTERN,
    PlanInfo,
    PlanInput,
    PlanJob,
    PlanList,
    PlanRequest,
    PlanResult,
    TilesQuery,
)
from api.ogc import GEOJSON, JSON, url
from api.plans import Job, JobsBusyError, PlanSpec
from api.responses import NOT_FOUND, PROBLEMS, Responses, problem
from api.settings import Settings
from geoplan.absences import Absence, absences_from_frame, parse_away
from geoplan.errors import NotFoundError, ParameterError
from geoplan.maps import plan_map, render_map
from geoplan.planning import PLANNED_LAYERS, Pin, WeekPlan, pin_problems, week_days
from geoplan.plans import SavedPlan, publish_plan
from geoplan.schedules import plan_geojson, write_schedules
from geoplan.workspace import MAP_LAYERS

router = APIRouter(
    prefix="/plans", tags=["plans"], responses=PROBLEMS, dependencies=[Depends(get_key)]
)
PlanId = Annotated[str, PathParam(pattern=PLAN_ID_PATTERN, description="The plan's id.")]
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOT_READY: Responses = {
    409: problem("The plan is not done yet (or failed): poll GET /plans/{plan_id}.")
}
OUTPUT_RESPONSES: Responses = {**NOT_FOUND, **NOT_READY}
RETRY_AFTER_S = 60


# --- asking for a plan --------------------------------------------------------------------


@router.post(
    "",
    status_code=202,
    summary="Plan a week (answers at once; the plan runs in the background)",
    response_model=PlanInfo,
    responses={503: problem("Too many plans are waiting: try again after Retry-After seconds.")},
)
def post_plan(
    request: Request,
    body: PlanRequest,
    *,
    plans: PlansDep,
    reader: ReaderDep,
    settings: SettingsDep,
    key: KeyDep,
) -> JSONResponse:
    """Checks the request against the workspace (teams, pins, the plan to re-plan) and queues
    the plan. Poll the `Location` URL until `status` is `done` (or `failed`, with the
    reason); the plan is then saved in the workspace (`plan_id`)."""
    spec = replace(plan_spec(body, reader, settings, plans), who=key.name or key.key_id)
    try:
        job = plans.submit(spec)
    except JobsBusyError as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": str(RETRY_AFTER_S)}) from None
    info = plan_info(request, job)
    location = url(request, f"/plans/{job.id}")
    return JSONResponse(
        info.model_dump(mode="json"), status_code=202, headers={"Location": location}
    )


@router.get("", summary="Plans being made, then the saved plans, newest first")
def list_plans(request: Request, plans: PlansDep) -> PlanList:
    """Requests queued, running or failed (kept in memory), then every saved plan of the
    workspace, without their results."""
    return PlanList(plans=[plan_info(request, job) for job in plans.jobs()])


@router.get("/{plan_id}", summary="A plan: its status, then its result", responses=NOT_FOUND)
def get_plan(request: Request, plan_id: PlanId, plans: PlansDep) -> PlanJob:
    """`queued`, `running` (with what the planner is doing), `failed` (with the reason and the
    fix) or `done`, with the routes per team-day and every visit left out with its reason."""
    job = plans.get(plan_id)
    info = plan_info(request, job)
    result = None if job.plan is None else plan_result(job.plan)
    return PlanJob(**dict(info), result=result)


@router.delete(
    "/{plan_id}",
    status_code=204,
    summary="Stop or delete a plan",
    response_class=Response,
    responses={**NOT_FOUND, 204: {"description": "Deleted."}},
)
def delete_plan(plan_id: PlanId, plans: PlansDep) -> Response:
    """A running plan is stopped; a saved one is deleted from the workspace."""
    plans.delete(plan_id)
    return Response(status_code=204)


@router.post(
    "/{plan_id}/publish",
    summary="Publish a saved plan (the week's other published plan becomes superseded)",
    responses=OUTPUT_RESPONSES,
)
def post_publish(request: Request, plan_id: PlanId, plans: PlansDep) -> PlanInfo:
    """The plan becomes the one the teams follow this week; a week has one published plan,
    and the one published before is superseded."""
    job = plans.get(plan_id)
    if job.saved is None:
        _done(job)  # 409: not done yet, or failed
        raise NotFoundError(f"plan {plan_id} is not saved")
    publish_plan(plans.store(), job.saved.id)
    return plan_info(request, plans.get(plan_id))


# --- outputs ------------------------------------------------------------------------------


@router.get(
    "/{plan_id}/schedule.csv",
    summary="The schedule, one row per visit (CSV)",
    response_class=Response,
    responses={**OUTPUT_RESPONSES, 200: {"content": {CSV: {}}, "description": "CSV"}},
)
def get_schedule_csv(plan_id: PlanId, plans: PlansDep) -> Response:
    """Team, date, order, site, service, times, travel, people and the site's position."""
    job, plan = _done(plans.get(plan_id))
    body = _output(job, "schedule.csv", lambda: _schedule_file(plan, "csv", "schedule.csv"))
    return _file(body, CSV, _name(plan, "schedule", "csv"))


@router.get(
    "/{plan_id}/left_out.csv",
    summary="Visits left out, each with its reason (CSV)",
    response_class=Response,
    responses={**OUTPUT_RESPONSES, 200: {"content": {CSV: {}}, "description": "CSV"}},
)
def get_left_out_csv(plan_id: PlanId, plans: PlansDep) -> Response:
    """Highest priority first: site, service, status, people, reason and detail."""
    job, plan = _done(plans.get(plan_id))
    body = _output(job, "left_out.csv", lambda: _schedule_file(plan, "csv", "left_out.csv"))
    return _file(body, CSV, _name(plan, "left_out", "csv"))


@router.get(
    "/{plan_id}/schedule.xlsx",
    summary="The schedule as a workbook to print",
    response_class=Response,
    responses={**OUTPUT_RESPONSES, 200: {"content": {XLSX: {}}, "description": "XLSX"}},
)
def get_schedule_xlsx(plan_id: PlanId, plans: PlansDep) -> Response:
    """A Week sheet, one sheet per team and a Left out sheet, laid out to print."""
    job, plan = _done(plans.get(plan_id))
    body = _output(job, "schedule.xlsx", lambda: _schedule_file(plan, "xlsx", "schedule.xlsx"))
    return _file(body, XLSX, _name(plan, "schedule", "xlsx"))


@router.get(
    "/{plan_id}/plan.geojson",
    summary="Team bases, stops and one line per team-day (GeoJSON)",
    response_class=Response,
    responses={**OUTPUT_RESPONSES, 200: {"content": {GEOJSON: {}}, "description": "GeoJSON"}},
)
def get_plan_geojson(plan_id: PlanId, plans: PlansDep) -> Response:
    """Straight legs between the stops; the same file `geoplan plan` writes."""
    job, plan = _done(plans.get(plan_id))
    body = _output(job, "plan.geojson", lambda: _geojson_bytes(plan))
    return _file(body, GEOJSON, _name(plan, "plan", "geojson"), inline=True)


@router.get(
    "/{plan_id}/map.html",
    summary="The plan's map (HTML, assets embedded)",
    response_class=HTMLResponse,
    responses=OUTPUT_RESPONSES,
)
def get_plan_map(
    plan_id: PlanId, plans: PlansDep, reader: ReaderDep, query: Annotated[TilesQuery, Query()]
) -> HTMLResponse:
    """Each team-day route in its team's colour with numbered stops, a toggle per team and per
    day, and the left-out sites with their reason; opens without internet unless tiles are on."""
    job, plan = _done(plans.get(plan_id))

    def draw() -> bytes:
        frames = {name: reader.frame(name) for name in MAP_LAYERS}
        return render_map(plan_map(plan, frames, tiles=query.tiles)).encode()

    return HTMLResponse(_output(job, f"map-{query.tiles}", draw))


# --- checking a request -------------------------------------------------------------------


def plan_spec(
    body: PlanRequest, reader: ReaderDep, settings: Settings, plans: PlansDep
) -> PlanSpec:
    """What to plan, checked against the workspace; every problem is reported at once.

    Raises
    ------
    RequestValidationError
        Naming each field: an unknown week, team, site or plan to re-plan, a pin on a day
        outside the week or one its team does not work, a time limit over the server's.
    """
    errors: list[dict[str, Any]] = []
    old = _replanned(body, plans, errors)
    week = body.week or (old.plan.days[0].isoformat() if old else None)
    days = _week(week, errors)
    if old is not None and days is not None and old.plan.days[0] != days[0]:
        errors.append(_error(("week",), f"plan {old.id} is of week {old.week}: leave week out"))
    for field in ("kept_before", "locks"):
        if getattr(body, field) and old is None and body.replan_of is None:
            errors.append(_error((field,), "keeps parts of a plan: give replan_of too"))
    if body.time_limit > settings.plan_time_limit_max:
        reason = f"at most {settings.plan_time_limit_max:g} seconds on this server"
        errors.append(_error(("time_limit",), reason))
    team_ids = _teams(body.teams, list(reader.frame("teams")["id"].astype(str)), errors)
    pins: list[Pin] = []
    if days is not None:
        absences = _absences(body.away, days, reader, errors)
        pins, problems = _pins(body, days, team_ids, reader, absences)
        errors += problems
    if errors:
        raise RequestValidationError(errors)
    assert days is not None
    return PlanSpec(
        week_start=days[0],
        teams=tuple(team_ids) if body.teams else None,
        pins=tuple(pins),
        time_limit=body.time_limit,
        seed=body.seed,
        replan_of=old.id if old else None,
        kept_before=body.kept_before,
        locks=tuple(body.locks),
        away=tuple(body.away),
    )


def _replanned(
    body: PlanRequest, plans: PlansDep, errors: list[dict[str, Any]]
) -> SavedPlan | None:
    if body.replan_of is None:
        return None
    try:
        job = plans.get(body.replan_of)
    except NotFoundError as exc:
        errors.append(_error(("replan_of",), str(exc)))
        return None
    if job.saved is None:
        errors.append(_error(("replan_of",), f"plan {body.replan_of} is {job.status}, not saved"))
    return job.saved


def _error(loc: Sequence[str | int], reason: str) -> dict[str, Any]:
    return {"loc": ("body", *loc), "msg": reason, "type": "value_error"}


def _week(week: str | None, errors: list[dict[str, Any]]) -> tuple[dt.date, ...] | None:
    try:
        return week_days(week)
    except ParameterError as exc:
        errors.append(_error(("week",), str(exc)))
        return None


def _teams(
    asked: Sequence[str] | None, known: Sequence[str], errors: list[dict[str, Any]]
) -> list[str]:
    if not asked:
        return list(known)
    for i, team in enumerate(asked):
        if team not in known:
            errors.append(
                _error(
                    ("teams", i), f"unknown team {team!r}; teams are: {', '.join(known) or 'none'}"
                )
            )
    return list(dict.fromkeys(t for t in asked if t in known))


def _absences(
    texts: Sequence[str], days: Sequence[dt.date], reader: ReaderDep, errors: list[dict[str, Any]]
) -> tuple[Absence, ...]:
    """The days teams are away: the ``team_absences`` layer's and ``away``'s, with a problem
    for each ``away`` text naming an unknown team or a day outside the week."""
    known = [str(t) for t in reader.frame("teams")["id"]]
    asked: list[Absence] = []
    for i, text in enumerate(texts):
        try:
            asked += parse_away([text], team_ids=known, days=days)
        except ParameterError as exc:
            errors.append(_error(("away", i), str(exc)))
    return (*absences_from_frame(reader.frame("team_absences")), *asked)


def _pins(
    body: PlanRequest,
    days: Sequence[dt.date],
    team_ids: Sequence[str],
    reader: ReaderDep,
    absences: Sequence[Absence] = (),
) -> tuple[list[Pin], list[dict[str, Any]]]:
    """The pins, and every problem of each (:func:`~geoplan.planning.pin_problems`), naming
    the pin's field."""
    pins = [Pin(p.site, p.team, p.day, p.service, p.at) for p in body.pins]
    teams = reader.frame("teams")
    problems = pin_problems(
        pins,
        sites={layer: reader.frame(layer) for layer in PLANNED_LAYERS},
        teams=teams.loc[teams["id"].astype(str).isin(team_ids)],
        days=days,
        absences=absences,
    )
    return pins, [_error(("pins", p.index, p.field), p.reason) for p in problems]


# --- answering ----------------------------------------------------------------------------


def plan_info(request: Request, job: Job) -> PlanInfo:
    """A job's status, what it was asked for and links to its outputs."""
    base = f"/plans/{job.id}"
    links = [Link(href=url(request, base), rel="self", type=JSON)]
    if job.status == "done":
        links += [
            Link(href=url(request, f"{base}/{name}"), rel="alternate", type=media, title=title)
            for name, media, title in _OUTPUTS
        ]
    saved = job.saved or job.listed
    return PlanInfo(
        id=job.id,
        status=job.status,  # type: ignore[arg-type]
        plan_id=saved.id if saved else None,
        publication=str(saved.status) if saved else None,  # type: ignore[arg-type]
        created_by=job.spec.who,
        replan_of=job.spec.replan_of,
        created=job.created,
        started=job.started,
        finished=job.finished,
        input=_input(job.spec),
        step=job.step,
        error=None if job.error is None else scrub(job.error),
        links=links,
    )


def _input(spec: PlanSpec) -> PlanInput:
    pins = [pin.text for pin in spec.pins]
    return PlanInput(
        week_start=spec.week_start,
        week_end=spec.week_start + dt.timedelta(days=6),
        teams=list(spec.teams) if spec.teams else None,
        pins=pins,
        away=list(spec.away),
        time_limit=spec.time_limit,
        seed=spec.seed,
    )


_OUTPUTS = (
    ("schedule.csv", CSV, "Schedule (CSV)"),
    ("schedule.xlsx", XLSX, "Schedule (XLSX)"),
    ("left_out.csv", CSV, "Visits left out (CSV)"),
    ("plan.geojson", GEOJSON, "Plan (GeoJSON)"),
    ("map.html", "text/html", "Map"),
)


def _left_out_rows(plan: WeekPlan) -> list[dict[str, object]]:
    """The left-out table's rows, its ``code`` column as the API's ``reason_code``."""
    rows = records(plan.left_out_frame())
    return [
        {**{k: v for k, v in row.items() if k != "code"}, "reason_code": row["code"]}
        for row in rows
    ]


def plan_result(plan: WeekPlan) -> PlanResult:
    """A plan's routes, left-out visits and totals."""
    stops = records(plan.to_frame())
    by_route: dict[tuple[str, str], list[dict[str, object]]] = {}
    for stop in stops:
        key = (str(stop.pop("team_id")), str(stop.pop("date")))
        stop.pop("team_name")
        by_route.setdefault(key, []).append(stop)
    routes = [
        {**r, "stops": by_route.get((str(r["team_id"]), str(r["date"])), [])}
        for r in records(plan.routes_frame())
    ]
    return PlanResult.model_validate(
        {
            "days": list(plan.days),
            "summary": plan.summary(),
            "totals": plan.totals(),
            "routes": routes,
            "left_out": _left_out_rows(plan),
            "objective": plan.objective,
            "seed": plan.seed,
            "runtime": plan.runtime,
            "backend": plan.backend,
        }
    )


def _done(job: Job) -> tuple[Job, WeekPlan]:
    if job.plan is None:
        why = f"failed: {scrub(job.error or '')}" if job.status == "failed" else f"is {job.status}"
        raise HTTPException(409, f"plan {job.id} {why}; its outputs exist once its status is done")
    return job, job.plan


def _output(job: Job, name: str, make: Callable[[], bytes]) -> bytes:
    """An output of a plan, made once and kept with it."""
    if name not in job.outputs:
        job.outputs[name] = make()
    body: bytes = job.outputs[name]
    return body


def _schedule_file(plan: WeekPlan, kind: str, name: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="geoplan-plan-") as folder:
        written = write_schedules(plan, Path(folder), formats=[kind])
        return written[name].read_bytes()


def _geojson_bytes(plan: WeekPlan) -> bytes:
    return json.dumps(plan_geojson(plan), ensure_ascii=False).encode()


def _name(plan: WeekPlan, stem: str, suffix: str) -> str:
    return f"{stem}_{plan.days[0].isoformat()}.{suffix}"


def _file(body: bytes, media: str, name: str, *, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'{disposition}; filename="{name}"'}
    )
