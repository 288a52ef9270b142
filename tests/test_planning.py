"""The weekly planner: hand-checkable plans, every hard rule, every left-out reason."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geoplan import planning
from geoplan.absences import Absence
from geoplan.errors import ParameterError, PlanningError
from geoplan.params import load_params
from geoplan.planning import (
    STOP_COLUMNS,
    Pin,
    PlanningParams,
    PriorityParams,
    WeekPlan,
    parse_pins,
    pin_problems,
    plan_week,
    planning_points,
    priority,
    stop_record,
    tasks_for_week,
    team_days,
    week_closures,
    week_days,
)
from geoplan.solver import RoutingProblem, Solution
from geoplan.solver.candidates import CandidateParams, CandidateSolution, Travel, Week
from geoplan.travel.matrix import matrix_from_points
from geoplan.vocab import LeftOutReason
from geoplan.zones import no_closures
from tests.planning_fixtures import WEEK, four_site_matrix, layer, minutes_matrix, site, team


@pytest.fixture(autouse=True, params=["full", "candidates"])
def model(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every planning rule holds on both models: all tasks routed (these weeks are small), and
    candidate tasks with one per team-day, so that most tasks are cut before routing and come
    back only through the check and the re-route."""
    if request.param == "candidates":
        tiny = CandidateParams(per_route=1, full_below=0, recheck_rounds=3)
        chosen = planning.solve_candidates

        def with_tiny(
            week: Week, travel: Travel, *, params: CandidateParams, solve: Search
        ) -> CandidateSolution:
            return chosen(week, travel, params=tiny, solve=solve)

        monkeypatch.setattr(planning, "solve_candidates", with_tiny)
    return str(request.param)


HEALTH_30 = PlanningParams(service_minutes={"health": 30, "mhpss": 30, "nfi": 30, "monitoring": 30})
Search = Callable[[RoutingProblem], Solution]
NO_VISITS = pd.DataFrame(columns=["id", "site_id", "date", "team_id", "services"])


def gps(*records: dict[str, object]) -> dict[str, gpd.GeoDataFrame]:
    return {"gathering_points": layer("gathering_points", list(records))}


def four_sites(**extra: object) -> dict[str, gpd.GeoDataFrame]:
    return gps(*(site(s, 13.1 + i / 100, **extra) for i, s in enumerate("ABCD")))


def plan(
    sites: dict[str, gpd.GeoDataFrame],
    teams: list[dict[str, object]],
    matrix: object = None,
    *,
    params: PlanningParams = HEALTH_30,
    visits: pd.DataFrame = NO_VISITS,
    pins: tuple[Pin, ...] = (),
    seed: int = 1,
    time_limit: float = 1.0,
    closures: object = None,
) -> WeekPlan:
    team_frame = layer("teams", teams)
    return plan_week(
        sites,
        visits,
        team_frame,
        matrix if matrix is not None else four_site_matrix([str(t["id"]) for t in teams]),  # type: ignore[arg-type]
        days=WEEK,
        closures=closures if closures is not None else no_closures(),  # type: ignore[arg-type]
        params=params,
        pins=pins,
        seed=seed,
        time_limit=time_limit,
    )


def routes_of(result: WeekPlan) -> dict[str, list[str]]:
    return {
        f"{r.team_id}@{r.day:%a}": [s.task.site_id for s in r.stops]
        for r in result.routes
        if r.stops
    }


def reasons_of(result: WeekPlan) -> dict[str, str]:
    return {lo.task.id: lo.reason for lo in result.left_out}


# --- known best plan ------------------------------------------------------------------------


def test_known_best_plan_four_sites_two_teams() -> None:
    """Base 10 min from A/B and 20 from C/D: one team does A and B, the other C and D."""
    result = plan(four_sites(), [team("T1"), team("T2")])
    assert sorted(sorted(v) for v in routes_of(result).values()) == [["A", "B"], ["C", "D"]]
    assert result.totals()["driving_hours"] == round(70 / 60, 1)
    assert result.left_out == ()


def test_stop_times_follow_travel_and_service() -> None:
    """Arrival = departure of the previous stop + travel; departure = start + time on site."""
    result = plan(four_sites(), [team("T1"), team("T2")])
    for route in result.routes:
        previous = route.depart
        for stop in route.stops:
            assert stop.arrival == previous + dt.timedelta(seconds=stop.travel_seconds)
            assert stop.departure == stop.start + dt.timedelta(minutes=30)
            previous = stop.departure
        assert route.back == previous + dt.timedelta(seconds=route.return_seconds)


# --- hard rules -----------------------------------------------------------------------------


def test_only_teams_offering_the_service_do_the_task() -> None:
    """An MHPSS need goes to the MHPSS team, never to the medical one."""
    sites = gps(site("A", 13.1, services_needed="mhpss"), site("B", 13.11))
    teams = [team("T1"), team("T2", kind="mhpss", services="mhpss")]
    result = plan(sites, teams, four_site_matrix(["T1", "T2"]))
    assert routes_of(result) == {"T2@Sun": ["A"], "T1@Sun": ["B"]}


def test_back_at_base_by_the_end_of_the_shift() -> None:
    """With a one-hour shift every route is back by 09:00, leaving the rest out."""
    result = plan(four_sites(), [team("T1", shift_end="09:00")], four_site_matrix(["T1"]))
    assert result.routes
    assert all(r.back.time() <= dt.time(9, 0) for r in result.routes)
    assert sum(len(r.stops) for r in result.routes) == 1  # 10 + 30 + 10 minutes fits once
    reasons = reasons_of(result)
    assert (reasons["C/health"], reasons["D/health"]) == (
        LeftOutReason.OUT_OF_REACH,
        LeftOutReason.OUT_OF_REACH,
    )  # 20+30+20
    assert sorted(reasons.values()).count(LeftOutReason.NO_TEAM_TIME) == 1  # A or B


def test_access_windows_days_and_hours() -> None:
    """A centre open Monday and Wednesday 09:00-12:00 is visited only then."""
    centre = {
        "id": "A",
        "name": "Centre A",
        "detainees": 50,
        "access_days": "mon,wed",
        "access_start": "09:00",
        "access_end": "12:00",
        "services_needed": "monitoring",
        "lon": 13.1,
        "lat": 32.9,
    }
    sites = {"detention_centres": layer("detention_centres", [centre])}
    teams = [
        team(
            "T1",
            kind="protection",
            services="monitoring,protection",
            working_days="sun,mon,tue,wed,thu",
            shift_end="15:00",
        )
    ]
    result = plan(sites, teams, four_site_matrix(["T1"]))
    (stop,) = result.stops
    assert stop.start.strftime("%a") in ("Mon", "Wed")
    assert dt.time(9, 0) <= stop.start.time()
    assert stop.departure.time() <= dt.time(12, 0)


def test_max_stops_per_team_day() -> None:
    """A team limited to two stops a day does two, even with time for more."""
    result = plan(
        four_sites(), [team("T1", max_stops=2, shift_end="15:00")], four_site_matrix(["T1"])
    )
    assert [len(r.stops) for r in result.routes] == [2]
    assert list(reasons_of(result).values()) == [
        LeftOutReason.NO_TEAM_TIME,
        LeftOutReason.NO_TEAM_TIME,
    ]


def test_nfi_kits_do_not_exceed_what_the_vehicle_carries() -> None:
    """20 people need 5 kits; a team carrying 10 kits makes at most two NFI visits a day."""
    sites = four_sites(services_needed="nfi", people=20)
    teams = [team("T1", kind="mrrm", services="nfi", nfi_kits=10, shift_end="15:00")]
    result = plan(sites, teams, four_site_matrix(["T1"]))
    assert [sum(s.task.kits for s in r.stops) for r in result.routes] == [10]
    assert len(result.stops) == 2


def test_no_second_visit_in_the_week_unless_frequency_requires_it() -> None:
    """A fortnightly need is visited once in the week; a need every two days, three times."""
    teams = [team("T1", working_days="sun,mon,tue,wed,thu", shift_end="15:00")]
    once = plan(gps(site("A", 13.1)), teams, four_site_matrix(["T1"]))
    assert [s.task.site_id for s in once.stops] == ["A"]
    often = plan(gps(site("A", 13.1, visit_frequency_days=2)), teams, four_site_matrix(["T1"]))
    days = sorted(s.start.date() for s in often.stops)
    assert len(days) == 3
    assert len(set(days)) == 3


def test_routes_do_not_cross_active_no_go_zones() -> None:
    """A zone across the only straight path makes a site unreachable, so it is not planned."""
    zone = gpd.GeoDataFrame(
        {
            "id": ["Z1"],
            "name": ["Bridge"],
            "reason": ["clashes"],
            "valid_from": [pd.Timestamp("2026-11-01")],
            "valid_to": [pd.NaT],
        },
        geometry=[shapely.box(13.14, 32.0, 13.16, 33.0)],
        crs=4326,
    )
    sites = gps(site("A", 13.1), site("E", 13.3))
    teams_list = [team("T1", shift_end="15:00")]
    closures = week_closures(zone, WEEK)
    points = planning_points(sites, layer("teams", teams_list))
    matrix = matrix_from_points(points, points, closures=closures)
    result = plan(sites, teams_list, matrix, closures=closures)
    assert [s.task.site_id for s in result.stops] == ["A"]
    assert reasons_of(result) == {"E/health": LeftOutReason.OUT_OF_REACH}


# --- left-out reasons -----------------------------------------------------------------------


def test_reason_inaccessible() -> None:
    """An inaccessible site is left out as inaccessible."""
    result = plan(
        gps(site("A", 13.1, access_status="inaccessible"), site("B", 13.11)),
        [team("T1")],
        four_site_matrix(["T1"]),
    )
    assert reasons_of(result) == {"A/health": LeftOutReason.INACCESSIBLE}


def test_reason_inside_a_no_go_zone() -> None:
    """A site inside an active zone is left out naming the zone."""
    zone = gpd.GeoDataFrame(
        {
            "id": ["Z1"],
            "name": ["Harbour"],
            "reason": ["raids"],
            "valid_from": [pd.Timestamp("2026-11-30")],
            "valid_to": [pd.Timestamp("2026-12-01")],
        },
        geometry=[shapely.Point(13.1, 32.9).buffer(0.004)],
        crs=4326,
    )
    result = plan(
        gps(site("A", 13.1), site("B", 13.11)),
        [team("T1")],
        four_site_matrix(["T1"]),
        closures=week_closures(zone, WEEK),
    )
    assert reasons_of(result) == {"A/health": LeftOutReason.IN_NO_GO_ZONE}
    assert "inside no-go zone Harbour" in result.left_out[0].detail


def test_reason_no_team_offers_the_service() -> None:
    """A protection need with only medical teams is left out for want of a team."""
    result = plan(
        gps(site("A", 13.1, services_needed="protection")), [team("T1")], four_site_matrix(["T1"])
    )
    assert reasons_of(result) == {"A/protection": LeftOutReason.NO_TEAM}


def test_reason_closed_on_every_working_day() -> None:
    """A centre open only on Fridays is closed on every working day."""
    centre = {
        "id": "A",
        "name": "Centre A",
        "access_days": "fri",
        "services_needed": "health",
        "lon": 13.1,
        "lat": 32.9,
    }
    result = plan(
        {"detention_centres": layer("detention_centres", [centre])},
        [team("T1")],
        four_site_matrix(["T1"]),
    )
    assert reasons_of(result) == {"A/health": LeftOutReason.CLOSED}


def test_reason_cannot_be_reached_within_any_shift() -> None:
    """A site 2 hours away cannot be visited in a 2.5-hour shift."""
    matrix = minutes_matrix(["base:T1", "A"], {("base:T1", "A"): 120})
    result = plan(gps(site("A", 13.1)), [team("T1")], matrix)
    assert reasons_of(result) == {"A/health": LeftOutReason.OUT_OF_REACH}
    assert "120 min" in result.left_out[0].detail


def test_reason_capacity() -> None:
    """When time runs out the lowest-priority tasks are left for capacity."""
    result = plan(four_sites(), [team("T1", shift_end="09:30")], four_site_matrix(["T1"]))
    assert set(reasons_of(result).values()) == {LeftOutReason.NO_TEAM_TIME}
    assert len(result.left_out) == 2


def test_every_task_is_either_planned_or_left_out_once() -> None:
    """No task is lost and none has two reasons."""
    result = plan(four_sites(), [team("T1", shift_end="09:30")], four_site_matrix(["T1"]))
    ids = [s.task.id for s in result.stops] + [lo.task.id for lo in result.left_out]
    assert sorted(ids) == ["A/health", "B/health", "C/health", "D/health"]


# --- priority -------------------------------------------------------------------------------


def test_overdue_outranks_merely_due_with_the_same_people() -> None:
    """Of two sites with the same people, the overdue one is kept when only one fits."""
    visits = pd.DataFrame(
        {
            "id": ["V1", "V2"],
            "site_id": ["A", "B"],
            "date": pd.to_datetime(["2026-11-15", "2026-11-01"]),
            "team_id": ["T1", "T1"],
            "services": ["health", "health"],
        }
    )
    sites = gps(site("A", 13.1), site("B", 13.11))  # A due on the 29th, B overdue by 14 days
    tasks = {t.site_id: t for t in tasks_for_week(sites, visits, WEEK, params=HEALTH_30)}
    assert (tasks["A"].status, tasks["B"].status) == ("due", "overdue")
    assert tasks["B"].score > tasks["A"].score
    result = plan(sites, [team("T1", shift_end="09:00")], four_site_matrix(["T1"]), visits=visits)
    assert [s.task.site_id for s in result.stops] == ["B"]


def test_priority_grows_with_people_flags_and_never_visited() -> None:
    """More people, vulnerability flags and never having been visited each raise priority."""
    visits = pd.DataFrame(
        {
            "id": ["V1"],
            "site_id": ["A"],
            "date": pd.to_datetime(["2026-11-15"]),
            "team_id": ["T1"],
            "services": ["health"],
        }
    )
    sites = gps(
        site("A", 13.1),
        site("B", 13.11, people=500),
        site("C", 13.12, vulnerability_flags="unaccompanied_children,pregnant_women"),
    )
    tasks = {t.site_id: t for t in tasks_for_week(sites, visits, WEEK, params=HEALTH_30)}
    assert tasks["B"].score > tasks["C"].score > tasks["A"].score
    assert priority(tasks["A"], PriorityParams(people_weight=0)) < tasks["A"].score


def test_history_sets_due_dates_and_early_tasks() -> None:
    """The last visit per site and service sets the due date; far-off needs are not tasks."""
    visits = pd.DataFrame(
        {
            "id": ["V1", "V2"],
            "site_id": ["A", "B"],
            "date": pd.to_datetime(["2026-11-25", "2026-11-28"]),
            "team_id": ["T1", "T1"],
            "services": ["health", "health,mhpss"],
        }
    )
    sites = gps(site("A", 13.1, visit_frequency_days=14), site("B", 13.11, visit_frequency_days=30))
    tasks = {t.site_id: t for t in tasks_for_week(sites, visits, WEEK, params=HEALTH_30)}
    assert tasks["A"].status == "early"
    assert tasks["A"].due_date == dt.date(2026, 12, 9)
    assert "B" not in tasks  # next due on 28 December


# --- the plan's stops --------------------------------------------------------------------------


def test_every_stop_field_is_a_column_and_a_record_picks_its_own() -> None:
    """to_frame has the columns of STOP_FIELDS; stop_record gives the fields asked, in order."""
    result = plan(four_sites(), [team("T1")])
    frame = result.to_frame()
    assert tuple(frame.columns) == STOP_COLUMNS
    route = next(r for r in result.routes if r.stops)
    stop = route.stops[0]
    record = stop_record(route, stop, names=("site_id", "arrival", "team_id"))
    assert list(record) == ["site_id", "arrival", "team_id"]
    assert record == {
        "site_id": stop.task.site_id,
        "arrival": f"{stop.arrival:%H:%M}",
        "team_id": "T1",
    }
    first = frame.loc[frame["site_id"] == stop.task.site_id].iloc[0]
    assert stop_record(route, stop) == {k: first[k] for k in STOP_COLUMNS}


# --- pins, seeds, limits ----------------------------------------------------------------------


def test_pinned_stop_is_kept_and_the_plan_works_around_it() -> None:
    """C pinned to T1 on Sunday is done by T1 that day; the rest is planned around it."""
    result = plan(four_sites(), [team("T1"), team("T2")], pins=(Pin.parse("C:T1:sun"),))
    routes = routes_of(result)
    assert "C" in routes["T1@Sun"]
    assert sorted(s for r in routes.values() for s in r) == ["A", "B", "C", "D"]


def test_impossible_pins_are_refused_plainly() -> None:
    """A pin to a day the team does not work, or to an inaccessible site, is a PlanningError."""
    with pytest.raises(PlanningError, match="does not work that day"):
        plan(four_sites(), [team("T1")], four_site_matrix(["T1"]), pins=(Pin.parse("C:T1:mon"),))
    with pytest.raises(PlanningError, match="inaccessible"):
        plan(
            gps(site("A", 13.1, access_status="inaccessible")),
            [team("T1")],
            four_site_matrix(["T1"]),
            pins=(Pin.parse("A:T1:sun"),),
        )
    with pytest.raises(ParameterError):
        Pin.parse("A:T1")


def test_every_bad_pin_is_named_at_once() -> None:
    """Pins on an unknown site, team and service, and on a day off: one error naming them all."""
    pins = (Pin("Z", "T1", "sun"), Pin("C", "T9", "sun"), Pin("C", "T1", "mon", "dentistry"))
    found = pin_problems(pins, sites=four_sites(), teams=layer("teams", [team("T1")]), days=WEEK)
    assert [(p.index, p.field) for p in found] == [
        (0, "site"),
        (1, "team"),
        (2, "service"),
        (2, "day"),
    ]
    with pytest.raises(PlanningError) as raised:
        plan(four_sites(), [team("T1")], four_site_matrix(["T1"]), pins=pins)
    for words in (
        "pin Z:T1:sun: no site 'Z'",
        "pin C:T9:sun: team 'T9'",
        "'dentistry'",
        "works (sun)",
    ):
        assert words in str(raised.value)
    with pytest.raises(ParameterError, match=r"'A:T1'.*'B'"):
        parse_pins(["A:T1", "C:T1:sun", "B"])
    assert parse_pins(["C:T1:sun:health"]) == (Pin("C", "T1", "sun", "health"),)


def test_team_days_skip_the_days_a_team_is_away() -> None:
    """An absence removes exactly the team-days it covers, both ends included."""
    teams = layer("teams", [team("T1", working_days="sun-thu"), team("T2", working_days="sun")])
    away = (Absence("T1", WEEK[1], WEEK[2], "leave"), Absence("T2", WEEK[3], WEEK[3]))
    days = {(d.team_id, f"{d.day:%a}") for d in team_days(teams, WEEK, absences=away)}
    assert days == {("T1", "Sun"), ("T1", "Wed"), ("T1", "Thu"), ("T2", "Sun")}


def test_a_pin_on_a_day_the_team_is_away_is_refused_with_the_reason() -> None:
    """Pinning to a team-day an absence covers names the team, the day and why."""
    teams = [team("T1", working_days="sun-thu")]
    away = (Absence("T1", WEEK[2], WEEK[2], "leave"),)
    found = pin_problems(
        (Pin("C", "T1", "tue"),),
        sites=four_sites(),
        teams=layer("teams", teams),
        days=WEEK,
        absences=away,
    )
    assert [(p.field, p.reason) for p in found] == [
        ("day", "team T1 is away on Tue 1 Dec (leave); pin the visit to another team or day")
    ]
    with pytest.raises(PlanningError, match=r"team T1 is away on Tue 1 Dec \(leave\)"):
        plan_week(
            four_sites(),
            NO_VISITS,
            layer("teams", teams),
            four_site_matrix(["T1"]),
            days=WEEK,
            closures=no_closures(),
            pins=(Pin("C", "T1", "tue"),),
            absences=away,
        )


def test_an_away_team_gets_no_route_that_day() -> None:
    """With its only working day away, the team plans nothing and the sites are left out."""
    away = (Absence("T1", WEEK[0], WEEK[0], "vehicle in the workshop"),)
    result = plan_week(
        four_sites(),
        NO_VISITS,
        layer("teams", [team("T1")]),
        four_site_matrix(["T1"]),
        days=WEEK,
        closures=no_closures(),
        params=HEALTH_30,
        absences=away,
        time_limit=1,
    )
    assert result.stops == []
    assert len(result.left_out) == 4


def test_same_seed_same_plan() -> None:
    """Two runs with the same seed give the same routes and objective."""
    sites = gps(*(site(f"S{i}", 13.1 + i / 200) for i in range(12)))
    ids = ["base:T1", "base:T2", *(f"S{i}" for i in range(12))]
    minutes = {
        (a, b): 3 + (ids.index(a) * 7 + ids.index(b) * 3) % 11 for a in ids for b in ids if a < b
    }
    matrix = minutes_matrix(ids, minutes)
    teams = [team("T1", shift_end="11:00"), team("T2", shift_end="11:00")]
    first = plan(sites, teams, matrix, seed=42)
    second = plan(sites, teams, matrix, seed=42)
    assert routes_of(first) == routes_of(second)
    assert first.objective == second.objective


def test_time_limit_is_respected() -> None:
    """A one-second limit returns within a few seconds, whatever the instance."""
    sites = gps(*(site(f"S{i}", 13.1 + i / 500) for i in range(60)))
    teams = [team(f"T{k}", working_days="sun,mon,tue,wed,thu") for k in range(3)]
    points = planning_points(sites, layer("teams", teams))
    matrix = matrix_from_points(points, points)
    began = time.perf_counter()
    plan(sites, teams, matrix, time_limit=1.0)
    assert time.perf_counter() - began < 6.0


def test_week_parsing() -> None:
    """ISO weeks start on the Sunday before their Monday; the default is next week."""
    assert week_days("2026-W49")[0] == dt.date(2026, 11, 29)
    assert week_days(dt.date(2026, 12, 2))[0] == dt.date(2026, 11, 29)
    assert week_days(None, today=dt.date(2026, 11, 22))[0] == dt.date(2026, 11, 29)
    assert week_days(None, today=dt.date(2026, 11, 26))[0] == dt.date(2026, 11, 29)
    with pytest.raises(ParameterError, match="ISO week"):
        week_days("next week")


def test_parameters_from_toml(tmp_path: Path) -> None:
    """Parameters load from TOML, missing keys keep defaults, unknown keys are refused."""
    path = tmp_path / "p.toml"
    path.write_text(
        "[planning]\ntime_limit = 5\n[planning.service_minutes]\nhealth = 45\n[planning.priority]\noverdue_weight = 2\n"
    )
    params = load_params(path).planning
    assert (params.time_limit, params.service_minutes["health"], params.service_minutes["nfi"]) == (
        5,
        45,
        45,
    )
    assert params.priority.overdue_weight == 2
    path.write_text("[planning]\nspeed = 5\n")
    with pytest.raises(ParameterError, match="unknown"):
        load_params(path)


def test_tasks_cut_before_routing_are_left_out_once_for_higher_priority() -> None:
    """With one candidate per team-day, a cut task is left out for higher-priority tasks and
    says it was cut before routing; every task is planned or left out exactly once."""
    params = PlanningParams(
        service_minutes=HEALTH_30.service_minutes,
        candidates=CandidateParams(per_route=1, full_below=0, recheck_rounds=0),
    )
    result = plan(four_sites(), [team("T1", shift_end="09:30")], params=params)
    ids = [s.task.id for s in result.stops] + [lo.task.id for lo in result.left_out]
    assert sorted(ids) == ["A/health", "B/health", "C/health", "D/health"]
    assert {lo.reason for lo in result.left_out} == {LeftOutReason.NO_TEAM_TIME}
    assert any(lo.detail.startswith("cut before routing") for lo in result.left_out)


def test_a_pinned_task_is_never_cut_before_routing() -> None:
    """The pinned task is routed even when its team-day keeps only one other candidate."""
    params = PlanningParams(
        service_minutes=HEALTH_30.service_minutes,
        candidates=CandidateParams(per_route=1, full_below=0, recheck_rounds=0),
    )
    result = plan(four_sites(), [team("T1")], params=params, pins=(Pin.parse("D:T1:sun"),))
    assert "D" in routes_of(result)["T1@Sun"]
