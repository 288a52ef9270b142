"""Saved plans: every weekly plan is a record of the workspace, and what changed between two.

A plan is saved with everything needed to trust it later and to write its outputs again: its
id (``2026-W50-3``: the week and a number), when and by whom it was made, its inputs (the
planning parameters, seed, pins, teams, travel-time backend and the workspace revision it read)
and the plan itself (routes, stops, left-out tasks with their reasons). Its status is
``draft`` until published; publishing one plan of a week supersedes the week's other
published plan, so a week has at most one published plan (:class:`~geoplan.vocab.PlanStatus`).

:func:`diff_plans` compares two plans visit by visit: kept (same team and day), moved (from
team-day to team-day), added, dropped (with the reason the second plan gives).

The document is JSON written and read by pydantic from the planner's own dataclasses, so a
field added to a plan is saved without code here; ``FORMAT`` numbers the layout.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from pydantic import TypeAdapter

from geoplan.errors import AlreadyExistsError, NotFoundError
from geoplan.planning import (
    DayRoute,
    Lock,
    PlanningParams,
    Replan,
    Stop,
    WeekPlan,
    parse_pins,
    week_days,
)
from geoplan.progress import Progress
from geoplan.store import PlanRecord, Store
from geoplan.travel.backend import TravelTimeBackend
from geoplan.vocab import PlanStatus, StopChange
from geoplan.workspace import plan_week_from_store

FORMAT = 1
"""Layout of the saved document; a reader refuses a newer one."""
_SAVE_ATTEMPTS = 20


# --- what a plan was made from ------------------------------------------------------------


@dataclass(frozen=True)
class PlanInputs:
    """What a plan was made from: enough to know what it assumed and to make it again.

    ``revision`` is the workspace's revision when the plan read it (None when the store cannot
    tell); ``replan_of``, ``kept_before`` and ``locks`` say what a re-plan kept of which plan.
    """

    week: str
    teams: tuple[str, ...] | None = None
    pins: tuple[str, ...] = ()
    away: tuple[str, ...] = ()
    seed: int = 0
    time_limit: float = 20.0
    backend: str = "straight_line"
    revision: int | None = None
    params: PlanningParams = field(default_factory=PlanningParams)
    replan_of: str | None = None
    kept_before: dt.date | None = None
    locks: tuple[str, ...] = ()
    request_id: str | None = None  # the API's id of the request that made it


@dataclass(frozen=True)
class _Document:
    format: int
    inputs: PlanInputs
    plan: WeekPlan


@cache
def _document_json() -> TypeAdapter[_Document]:
    return TypeAdapter(_Document)


@dataclass(frozen=True)
class SavedPlan:
    """A plan as the workspace keeps it."""

    id: str
    week: str
    status: PlanStatus
    created: dt.datetime
    created_by: str
    inputs: PlanInputs
    plan: WeekPlan


@dataclass(frozen=True)
class ListedInputs:
    """The inputs lists show of a plan (kept beside it, so lists need not read its routes)."""

    week_start: dt.date | None = None
    teams: tuple[str, ...] | None = None
    pins: tuple[str, ...] = ()
    seed: int = 0
    time_limit: float = 0.0
    request_id: str | None = None


@dataclass(frozen=True)
class PlanInfo:
    """A saved plan as lists show it: no routes, a few figures."""

    id: str
    week: str
    status: PlanStatus
    created: dt.datetime
    created_by: str
    visits: int
    sites: int
    left_out: int
    replan_of: str | None
    inputs: ListedInputs = field(default_factory=ListedInputs)

    def to_json(self) -> dict[str, object]:
        """The plan's line as JSON (``created`` in ISO 8601, UTC)."""
        return {
            "id": self.id,
            "week": self.week,
            "status": str(self.status),
            "created": self.created.isoformat().replace("+00:00", "Z"),
            "created_by": self.created_by,
            "visits": self.visits,
            "sites": self.sites,
            "left_out": self.left_out,
            "replan_of": self.replan_of,
        }


def iso_week(days: Sequence[dt.date]) -> str:
    """The ISO week a planning week (Sunday first) is named by: that of its Monday."""
    year, week, _ = days[1].isocalendar()
    return f"{year}-W{week:02d}"


# --- saving and reading -------------------------------------------------------------------


def save_plan(
    store: Store,
    plan: WeekPlan,
    inputs: PlanInputs,
    *,
    who: str,
    now: dt.datetime | None = None,
) -> SavedPlan:
    """Save a new draft plan under the week's next free number.

    Two savers racing for a number both succeed: the loser takes the next one.
    """
    week = iso_week(plan.days)
    created = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    document = _document_json().dump_json(_Document(FORMAT, inputs, plan)).decode()
    summary = _summary(plan, inputs)
    number = _next_number(store, week)
    for attempt in range(_SAVE_ATTEMPTS):
        plan_id = f"{week}-{number + attempt}"
        record = PlanRecord(
            plan_id,
            week,
            PlanStatus.DRAFT,
            created.isoformat().replace("+00:00", "Z"),
            who,
            summary,
            document,
        )
        try:
            store.add_plan(record)
        except AlreadyExistsError:
            continue
        return SavedPlan(plan_id, week, PlanStatus.DRAFT, created, who, inputs, plan)
    raise AlreadyExistsError(f"could not find a free plan number for week {week}; try again")


def _next_number(store: Store, week: str) -> int:
    numbers = [_number(r.id) for r in store.list_plans(week=week)]
    return max(numbers, default=0) + 1


def _number(plan_id: str) -> int:
    tail = plan_id.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _summary(plan: WeekPlan, inputs: PlanInputs) -> str:
    totals = plan.totals()
    figures = {
        "visits": int(totals["tasks_done"]),
        "sites": int(totals["sites_visited"]),
        "left_out": int(totals["tasks_left_out"]),
        "replan_of": inputs.replan_of,
        "inputs": {
            "week_start": plan.days[0].isoformat(),
            "teams": inputs.teams,
            "pins": inputs.pins,
            "seed": inputs.seed,
            "time_limit": inputs.time_limit,
            "request_id": inputs.request_id,
        },
    }
    return json.dumps(figures)


def read_plan(store: Store, plan_id: str) -> SavedPlan:
    """A saved plan by id.

    Raises
    ------
    NotFoundError
        If there is none, with the closest ids (or the newest ones).
    """
    record = store.read_plan(plan_id)
    if record is None:
        raise NotFoundError(_no_plan(store, plan_id))
    document = _document_json().validate_json(record.document)
    if document.format > FORMAT:
        msg = f"plan {plan_id} was saved by a newer geoplan (format {document.format}); update"
        raise NotFoundError(msg)
    return SavedPlan(
        record.id,
        record.week,
        PlanStatus(record.status),
        _parse_time(record.created),
        record.created_by,
        document.inputs,
        document.plan,
    )


def _no_plan(store: Store, plan_id: str) -> str:
    ids = [r.id for r in store.list_plans()]
    if not ids:
        return f"no plan {plan_id!r}: the workspace has no saved plans yet (make one: geoplan plan)"
    close = difflib.get_close_matches(plan_id, ids, n=3, cutoff=0.6)
    if close:
        return f"no plan {plan_id!r}; did you mean {' or '.join(close)}?"
    return f"no plan {plan_id!r}; the newest are {', '.join(ids[:3])} (geoplan plans list)"


def _parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def list_plans(store: Store, *, week: str | None = None) -> list[PlanInfo]:
    """The saved plans (of one ISO week), newest first."""
    return [_info(r) for r in store.list_plans(week=week)]


def _info(record: PlanRecord) -> PlanInfo:
    figures = json.loads(record.summary or "{}")
    return PlanInfo(
        id=record.id,
        week=record.week,
        status=PlanStatus(record.status),
        created=_parse_time(record.created),
        created_by=record.created_by,
        visits=int(figures.get("visits", 0)),
        sites=int(figures.get("sites", 0)),
        left_out=int(figures.get("left_out", 0)),
        replan_of=figures.get("replan_of"),
        inputs=_listed_inputs(figures.get("inputs") or {}),
    )


def _listed_inputs(data: dict[str, Any]) -> ListedInputs:
    start = data.get("week_start")
    teams = data.get("teams")
    return ListedInputs(
        week_start=dt.date.fromisoformat(start) if start else None,
        teams=tuple(teams) if teams else None,
        pins=tuple(data.get("pins") or ()),
        seed=int(data.get("seed") or 0),
        time_limit=float(data.get("time_limit") or 0.0),
        request_id=data.get("request_id"),
    )


def publish_plan(store: Store, plan_id: str) -> list[str]:
    """Publish a plan: the week's other published plan becomes superseded, in one write.

    Returns the ids superseded. Publishing a published plan changes nothing.

    Raises
    ------
    NotFoundError
        If there is no such plan.
    """
    record = store.read_plan(plan_id)
    if record is None:
        raise NotFoundError(_no_plan(store, plan_id))
    others = [
        r.id
        for r in store.list_plans(week=record.week)
        if r.id != plan_id and r.status == PlanStatus.PUBLISHED
    ]
    changes = {other: str(PlanStatus.SUPERSEDED) for other in others}
    store.set_plan_statuses({**changes, plan_id: str(PlanStatus.PUBLISHED)})
    return others


def delete_plan(store: Store, plan_id: str) -> None:
    """Delete a saved plan.

    Raises
    ------
    NotFoundError
        If there is no such plan.
    """
    if not store.delete_plan(plan_id):
        raise NotFoundError(_no_plan(store, plan_id))


# --- making a plan ------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRequest:
    """What to plan, as ``geoplan plan`` and ``POST /plans`` ask.

    With ``replan_of`` (a saved plan's id) the week, teams, pins and parameters default to
    that plan's, and ``kept_before`` to today when its week is under way: the re-plan keeps
    the days before as they were.
    """

    week: str | dt.date | None = None
    teams: tuple[str, ...] | None = None
    pins: tuple[str, ...] = ()
    away: tuple[str, ...] = ()
    params: PlanningParams | None = None
    seed: int = 0
    time_limit: float | None = None
    replan_of: str | None = None
    kept_before: dt.date | None = None
    locks: tuple[str, ...] = ()
    today: dt.date | None = None
    request_id: str | None = None


def make_plan(
    store: Store,
    request: PlanRequest,
    *,
    who: str,
    backend: TravelTimeBackend | None = None,
    progress: Progress | None = None,
) -> SavedPlan:
    """Plan the week (or re-plan a saved plan) from the workspace and save it as a draft.

    Raises
    ------
    NotFoundError
        If ``replan_of`` names no saved plan.
    PlanningError, ParameterError
        As :func:`geoplan.planning.plan_week`, and for bad pins or locks.
    """
    old = read_plan(store, request.replan_of) if request.replan_of else None
    inputs = _inputs(request, old, store.revision())
    params = inputs.params
    replan = None
    if old is not None:
        kept_before = inputs.kept_before
        replan = Replan(old.plan, kept_before, tuple(Lock.parse(t) for t in inputs.locks))
    plan = plan_week_from_store(
        store,
        week=inputs.week,
        team_ids=list(inputs.teams) if inputs.teams else None,
        params=params,
        pins=parse_pins(inputs.pins),
        away=inputs.away,
        seed=inputs.seed,
        time_limit=inputs.time_limit,
        backend=backend,
        today=request.today,
        progress=progress,
        replan=replan,
    )
    recorded = replace(inputs, backend=plan.backend)
    return save_plan(store, plan, recorded, who=who)


def _inputs(request: PlanRequest, old: SavedPlan | None, revision: int | None) -> PlanInputs:
    """The request's inputs, completed from the plan it re-plans."""
    if old is None:
        days = week_days(request.week, today=request.today)
        params = request.params or PlanningParams()
        teams, pins, away = request.teams, request.pins, request.away
    else:
        days = week_days(request.week or old.plan.days[0])
        params = request.params or old.inputs.params
        teams = request.teams if request.teams is not None else old.inputs.teams
        pins = request.pins or old.inputs.pins
        away = request.away or old.inputs.away
    kept_before = request.kept_before
    today = request.today or dt.date.today()
    if old is not None and kept_before is None and days[0] < today <= days[-1]:
        kept_before = today  # the week is under way: what is done or started stays
    return PlanInputs(
        week=iso_week(days),
        teams=teams,
        pins=tuple(pins),
        away=tuple(away),
        seed=request.seed,
        time_limit=params.time_limit if request.time_limit is None else request.time_limit,
        revision=revision,
        params=params,
        replan_of=old.id if old else None,
        kept_before=kept_before if old else None,
        locks=tuple(request.locks) if old else (),
        request_id=request.request_id,
    )


# --- what changed -------------------------------------------------------------------------


def team_day_text(route: DayRoute) -> str:
    """A team-day as people read it: ``Protection team 1, Tue 08 Dec``."""
    return f"{route.team_name}, {route.day:%a %d %b}"


@dataclass(frozen=True)
class StopDiff:
    """One visit compared between two plans: how it changed, where it was and is, and why it
    was dropped (the second plan's reason)."""

    change: StopChange
    task_id: str
    site_id: str
    site_name: str
    service: str
    before: str | None
    after: str | None
    before_team_day: str | None
    after_team_day: str | None
    reason: str | None = None

    def to_json(self) -> dict[str, object]:
        """The visit's line as JSON."""
        return {
            "change": str(self.change),
            "task_id": self.task_id,
            "site_id": self.site_id,
            "site_name": self.site_name,
            "service": self.service,
            "before": self.before,
            "after": self.after,
            "before_team_day": self.before_team_day,
            "after_team_day": self.after_team_day,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PlanDiff:
    """Every visit of two plans, compared."""

    stops: tuple[StopDiff, ...]

    def count(self, change: StopChange) -> int:
        """How many visits changed so."""
        return sum(1 for s in self.stops if s.change == change)

    @property
    def kept_share(self) -> float:
        """Of the first plan's visits, the share the second keeps on their team-day."""
        first = self.count(StopChange.KEPT) + self.count(StopChange.MOVED)
        first += self.count(StopChange.DROPPED)
        return self.count(StopChange.KEPT) / first if first else 1.0

    def to_json(self) -> dict[str, object]:
        """``{"kept": n, "moved": n, "added": n, "dropped": n, "stops": [...]}``."""
        counts: dict[str, object] = {str(c): self.count(c) for c in StopChange}
        return {**counts, "stops": [s.to_json() for s in self.stops]}

    def lines(self) -> list[str]:
        """The comparison for people: the counts, then every visit that changed."""
        head = ", ".join(f"{self.count(c)} {c}" for c in StopChange)
        out = [head]
        for s in self.stops:
            what = f"{s.site_name} ({s.site_id}), {s.service}"
            if s.change == StopChange.MOVED:
                out.append(f"  moved    {what}: {s.before} -> {s.after}")
            elif s.change == StopChange.ADDED:
                out.append(f"  added    {what}: {s.after}")
            elif s.change == StopChange.DROPPED:
                out.append(f"  dropped  {what}: was {s.before}; {s.reason}")
        return out


def diff_plans(first: WeekPlan, second: WeekPlan) -> PlanDiff:
    """Compare two plans visit by visit (a visit is a task: a site, a service, and which of
    the week's occurrences): kept on its team and day, moved, added or dropped."""
    before = _placed(first)
    after = _placed(second)
    reasons = {lo.task.id: f"{lo.reason.text}: {lo.detail}" for lo in second.left_out}
    stops = [
        _compare(task_id, before.get(task_id), after.get(task_id), reasons)
        for task_id in dict.fromkeys([*before, *after])
    ]
    order = list(StopChange)
    stops.sort(key=lambda s: (order.index(s.change), s.site_name, s.task_id))
    return PlanDiff(tuple(stops))


def _placed(plan: WeekPlan) -> dict[str, tuple[DayRoute, Stop]]:
    return {s.task.id: (r, s) for r in plan.routes for s in r.stops}


def _compare(
    task_id: str,
    old: tuple[DayRoute, Stop] | None,
    new: tuple[DayRoute, Stop] | None,
    reasons: dict[str, str],
) -> StopDiff:
    either = old or new
    assert either is not None
    task = either[1].task
    old_key = f"{old[0].team_id}@{old[0].day}" if old else None
    new_key = f"{new[0].team_id}@{new[0].day}" if new else None
    if old is None:
        change = StopChange.ADDED
    elif new is None:
        change = StopChange.DROPPED
    else:
        change = StopChange.KEPT if old_key == new_key else StopChange.MOVED
    reason = None
    if change == StopChange.DROPPED:
        reason = reasons.get(task_id, "not needed this week any more (visited since, or closed)")
    return StopDiff(
        change=change,
        task_id=task_id,
        site_id=task.site_id,
        site_name=task.site_name,
        service=task.service,
        before=team_day_text(old[0]) if old else None,
        after=team_day_text(new[0]) if new else None,
        before_team_day=old_key,
        after_team_day=new_key,
        reason=reason,
    )


__all__ = [
    "FORMAT",
    "ListedInputs",
    "PlanDiff",
    "PlanInfo",
    "PlanInputs",
    "PlanRequest",
    "SavedPlan",
    "StopDiff",
    "delete_plan",
    "diff_plans",
    "iso_week",
    "list_plans",
    "make_plan",
    "publish_plan",
    "read_plan",
    "save_plan",
    "team_day_text",
]
