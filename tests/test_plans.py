"""Saved plans on both stores (save, read, list newest first, publish, delete), the diff of two
plans, and re-planning with minimal change on the demo workspace: one site closed, at least 90 %
of the other stops keep their team and day; days before --from stay exactly as they were."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from geoplan.demo.scenario import build_demo_workspace
from geoplan.errors import AlreadyExistsError, NotFoundError, ParameterError, PlanningError
from geoplan.planning import PlanningParams, SolverParams, WeekPlan
from geoplan.plans import (
    PlanInputs,
    PlanRequest,
    SavedPlan,
    delete_plan,
    diff_plans,
    iso_week,
    list_plans,
    make_plan,
    publish_plan,
    read_plan,
    save_plan,
)
from geoplan.store import PlanRecord, Store, open_store
from geoplan.vocab import PlanStatus, StopChange

TODAY = dt.date(2026, 11, 25)  # the coming week: Sunday 29 November to Saturday 5 December
WEEK = "2026-W49"
# an iteration budget, so that plans do not depend on the machine's speed
STEADY = PlanningParams(time_limit=120, solver=SolverParams(max_iterations=1500))


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace as `geoplan demo` makes it (default sizes), built once."""
    path = tmp_path_factory.mktemp("plans") / "demo.gpkg"
    build_demo_workspace(path, today=TODAY)
    return path


@pytest.fixture(scope="module")
def first(demo_path: Path) -> SavedPlan:
    """The week planned with seed 1, saved in a copy of the demo workspace."""
    return make_plan(open_store(demo_path), _ask(seed=1), who="cli:test")


def _ask(**options: object) -> PlanRequest:
    return PlanRequest(week=WEEK, params=STEADY, today=TODAY, **options)  # type: ignore[arg-type]


def _copy(demo_path: Path, tmp_path: Path) -> Store:
    target = tmp_path / "copy.gpkg"
    target.write_bytes(demo_path.read_bytes())
    return open_store(target)


def _close_a_planned_site(store: Store, plan: WeekPlan) -> str:
    """Mark the site of the plan's busiest day's first stop inaccessible; its id."""
    route = max(plan.routes, key=lambda r: len(r.stops))
    task = route.stops[0].task
    frame = store.read(task.layer, ids=[task.site_id])
    frame["access_status"] = "inaccessible"
    store.upsert(task.layer, frame)
    return task.site_id


# --- records on both stores -------------------------------------------------------------------


def _record(plan_id: str, week: str = WEEK, created: str = "2026-11-25T10:00:00Z") -> PlanRecord:
    return PlanRecord(plan_id, week, "draft", created, "cli:test", "{}", '{"x": 1}')


def test_plan_records_round_trip_on_each_store(workspace_name: str) -> None:
    """A record is read back whole; lists are newest first, without documents; a taken id is
    refused; statuses change together or not at all; delete says whether there was one."""
    store = open_store(workspace_name)
    store.add_plan(_record(f"{WEEK}-1", created="2026-11-25T10:00:00Z"))
    store.add_plan(_record(f"{WEEK}-2", created="2026-11-25T11:00:00Z"))
    store.add_plan(_record("2026-W50-1", week="2026-W50", created="2026-11-25T12:00:00Z"))
    assert store.read_plan(f"{WEEK}-1") == _record(f"{WEEK}-1")
    assert [r.id for r in store.list_plans()] == ["2026-W50-1", f"{WEEK}-2", f"{WEEK}-1"]
    assert [r.id for r in store.list_plans(week=WEEK)] == [f"{WEEK}-2", f"{WEEK}-1"]
    assert all(r.document == "" for r in store.list_plans())
    with pytest.raises(AlreadyExistsError):
        store.add_plan(_record(f"{WEEK}-1"))
    with pytest.raises(NotFoundError):
        store.set_plan_statuses({f"{WEEK}-1": "published", "nope": "superseded"})
    assert store.read_plan(f"{WEEK}-1").status == "draft"  # type: ignore[union-attr]
    assert store.delete_plan(f"{WEEK}-1") is True
    assert store.delete_plan(f"{WEEK}-1") is False
    assert store.read_plan(f"{WEEK}-1") is None


def test_a_saved_plan_reads_back_equal_with_its_inputs(first: SavedPlan, demo_path: Path) -> None:
    """Every route, stop, left-out task and input comes back as it was saved."""
    again = read_plan(open_store(demo_path), first.id)
    assert again.plan == first.plan
    assert again.inputs == first.inputs
    assert again.inputs.params == STEADY
    assert (again.week, again.status, again.created_by) == (WEEK, PlanStatus.DRAFT, "cli:test")
    assert again.inputs.revision is not None
    assert first.id.startswith(f"{WEEK}-")


def test_ids_count_up_per_week_and_a_taken_number_is_skipped(
    first: SavedPlan, tmp_path: Path
) -> None:
    """Plans of a week are numbered 1, 2, ...; a number someone else took meanwhile is skipped."""
    store = open_store(tmp_path / "ws.gpkg")
    inputs = PlanInputs(week=WEEK)
    one = save_plan(store, first.plan, inputs, who="a")
    store.add_plan(_record(f"{WEEK}-2"))
    three = save_plan(store, first.plan, inputs, who="b")
    assert (one.id, three.id) == (f"{WEEK}-1", f"{WEEK}-3")
    assert iso_week(first.plan.days) == WEEK


def test_publishing_keeps_one_published_plan_per_week(first: SavedPlan, tmp_path: Path) -> None:
    """Publishing supersedes the week's published plan; drafts and other weeks stay."""
    store = open_store(tmp_path / "ws.gpkg")
    a, b, c = (save_plan(store, first.plan, PlanInputs(week=WEEK), who="t") for _ in range(3))
    other = replace(_record("2026-W50-1", week="2026-W50"), status="published")
    store.add_plan(other)
    assert publish_plan(store, a.id) == []
    assert publish_plan(store, b.id) == [a.id]
    status = {p.id: p.status for p in list_plans(store)}
    assert status == {
        a.id: PlanStatus.SUPERSEDED,
        b.id: PlanStatus.PUBLISHED,
        c.id: PlanStatus.DRAFT,
        "2026-W50-1": PlanStatus.PUBLISHED,
    }
    assert [p.id for p in list_plans(store, week=WEEK)] == [c.id, b.id, a.id]


def test_unknown_plans_are_named_with_the_closest_ids(first: SavedPlan, tmp_path: Path) -> None:
    """Reading, publishing or deleting a plan that is not there says which ones are."""
    store = open_store(tmp_path / "ws.gpkg")
    with pytest.raises(NotFoundError, match="no saved plans yet"):
        read_plan(store, f"{WEEK}-1")
    save_plan(store, first.plan, PlanInputs(week=WEEK), who="t")
    for act in (read_plan, publish_plan, delete_plan):
        with pytest.raises(NotFoundError, match=f"did you mean {WEEK}-1"):
            act(store, f"{WEEK}-7")


# --- diff -------------------------------------------------------------------------------------


def test_diff_of_a_plan_with_itself_keeps_every_stop(first: SavedPlan) -> None:
    """Nothing moves, nothing is added or dropped."""
    change = diff_plans(first.plan, first.plan).to_json()
    assert change["kept"] == len(first.plan.stops) > 0
    assert (change["moved"], change["added"], change["dropped"]) == (0, 0, 0)


def test_diff_names_moves_additions_and_drops_with_their_reason(first: SavedPlan) -> None:
    """A stop on another team-day is moved (from -> to), one only in the second plan is
    added, one only in the first is dropped with the second plan's reason."""
    routes = list(first.plan.routes)
    busy = [k for k, r in enumerate(routes) if len(r.stops) >= 2]
    k = busy[0]
    moved_stop, dropped_stop = routes[k].stops[0], routes[k].stops[1]
    target = next(j for j, r in enumerate(routes) if r.team_id != routes[k].team_id)
    routes[k] = replace(routes[k], stops=routes[k].stops[2:])
    routes[target] = replace(routes[target], stops=(*routes[target].stops, moved_stop))
    second = replace(first.plan, routes=tuple(routes))
    change = diff_plans(first.plan, second)
    by_task = {s.task_id: s for s in change.stops}
    moved = by_task[moved_stop.task.id]
    assert moved.change == StopChange.MOVED
    assert (moved.before_team_day, moved.after_team_day) == (
        f"{routes[k].team_id}@{routes[k].day}",
        f"{routes[target].team_id}@{routes[target].day}",
    )
    assert moved.after is not None
    assert routes[target].team_name in moved.after
    dropped = by_task[dropped_stop.task.id]
    assert dropped.change == StopChange.DROPPED
    assert dropped.reason is not None
    assert "not needed" in dropped.reason
    back = diff_plans(second, first.plan)
    assert {s.task_id: s.change for s in back.stops}[dropped_stop.task.id] == StopChange.ADDED
    counts = change.to_json()
    assert (counts["moved"], counts["dropped"], counts["added"]) == (1, 1, 0)


# --- re-planning ------------------------------------------------------------------------------


def test_replan_after_one_site_closes_keeps_at_least_90_percent(
    first: SavedPlan, demo_path: Path, tmp_path: Path
) -> None:
    """Close one planned site and re-plan with another seed: its stops are dropped as
    inaccessible, and at least 90 % of the other stops keep their team and day (a fresh plan
    with that seed keeps far fewer)."""
    store = _copy(demo_path, tmp_path)
    closed = _close_a_planned_site(store, first.plan)
    again = make_plan(store, _ask(seed=2, replan_of=first.id), who="cli:test")
    change = diff_plans(first.plan, again.plan)
    at_closed = [s for s in change.stops if s.site_id == closed]
    assert at_closed
    assert all(s.change == StopChange.DROPPED for s in at_closed)
    assert all("inaccessible" in (s.reason or "") for s in at_closed)
    others = [s for s in change.stops if s.site_id != closed and s.before is not None]
    kept = sum(1 for s in others if s.change == StopChange.KEPT)
    assert kept / len(others) >= 0.9, f"{kept} of {len(others)} kept"
    fresh = make_plan(store, _ask(seed=2), who="cli:test")
    fresh_kept = diff_plans(first.plan, fresh.plan).count(StopChange.KEPT)
    assert fresh_kept < kept
    assert again.inputs.replan_of == first.id


def test_replan_from_tuesday_keeps_sunday_and_monday_exactly(
    first: SavedPlan, demo_path: Path, tmp_path: Path
) -> None:
    """--from Tuesday: Sunday's and Monday's routes are the old plan's, stop for stop and
    minute for minute, even after a change that would move them."""
    store = _copy(demo_path, tmp_path)
    _close_a_planned_site(store, first.plan)
    tuesday = first.plan.days[2]
    again = make_plan(store, _ask(seed=2, replan_of=first.id, kept_before=tuesday), who="cli:test")

    def early(plan: WeekPlan) -> list[object]:
        return [r for r in plan.routes if r.day < tuesday]

    assert early(again.plan) == early(first.plan)
    assert early(first.plan)
    done_early = {s.task.id for r in early(first.plan) for s in r.stops}
    later = {s.task.id for r in again.plan.routes if r.day >= tuesday for s in r.stops}
    assert not done_early & later  # what was done is not planned again
    assert again.inputs.kept_before == tuesday


def test_a_locked_team_day_stays_and_bad_locks_are_named(
    first: SavedPlan, demo_path: Path, tmp_path: Path
) -> None:
    """--lock TEAM:DAY keeps that team-day; an unknown team or a day outside the week is
    named, all at once."""
    store = _copy(demo_path, tmp_path)
    route = max(first.plan.routes, key=lambda r: len(r.stops))
    lock = f"{route.team_id}:{route.day.isoformat()}"
    again = make_plan(store, _ask(seed=5, replan_of=first.id, locks=(lock,)), who="t")
    assert route in again.plan.routes
    with pytest.raises(PlanningError) as caught:
        make_plan(
            store,
            _ask(replan_of=first.id, locks=("NOPE:mon", f"{route.team_id}:2027-01-01")),
            who="t",
        )
    assert "team 'NOPE' is not planned" in str(caught.value)
    assert "'2027-01-01' is not a day of the week" in str(caught.value)
    with pytest.raises(ParameterError, match="expected TEAM:DAY"):
        make_plan(store, _ask(replan_of=first.id, locks=("just-a-team",)), who="t")


def test_replan_defaults_to_the_old_plans_week_and_parameters(
    first: SavedPlan, demo_path: Path, tmp_path: Path
) -> None:
    """Without week or parameters a re-plan takes the old plan's; once its week is under way
    the days before today are kept."""
    store = _copy(demo_path, tmp_path)
    request = PlanRequest(replan_of=first.id, seed=4, today=first.plan.days[1])
    again = make_plan(store, request, who="t")
    assert again.plan.days == first.plan.days
    assert again.inputs.params == STEADY
    assert again.inputs.kept_before == first.plan.days[1]
    sunday = [r for r in first.plan.routes if r.day == first.plan.days[0]]
    assert [r for r in again.plan.routes if r.day == first.plan.days[0]] == sunday


def test_move_weight_is_checked() -> None:
    """replan_move_minutes is 0 to a day."""
    with pytest.raises(ParameterError, match="replan_move_minutes"):
        PlanningParams(replan_move_minutes=-1)
