"""The weekly planner: hand-checkable plans, every hard rule, every left-out reason."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geoplan import planning
from geoplan.absences import Absence
from geoplan.demo.scenario import generate_scenario
from geoplan.errors import ParameterError, PlanningError
from geoplan.params import load_params
from geoplan.planning import (
    LEFT_OUT_COLUMNS,
    STOP_COLUMNS,
    LeftOut,
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
    assert reasons_of(result) == {"E/health": LeftOutReason.CUT_OFF_BY_NO_GO_ZONE}
    assert "no-go zone Bridge" in result.left_out[0].detail


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


# --- left-out reasons: each code with a text a team leader can act on -----------------------


def only_left_out(result: WeekPlan) -> LeftOut:
    (left,) = result.left_out
    return left


def bridge_zone(valid_from: str = "2026-11-01") -> gpd.GeoDataFrame:
    """A no-go zone ``Bridge`` across the way from the base (13.0E) to anything east of 13.16E."""
    return gpd.GeoDataFrame(
        {
            "id": ["Z1"],
            "name": ["Bridge"],
            "reason": ["clashes"],
            "valid_from": [pd.Timestamp(valid_from)],
            "valid_to": [pd.NaT],
        },
        geometry=[shapely.box(13.14, 32.0, 13.16, 33.0)],
        crs=4326,
    )


def test_code_inaccessible_names_the_site_and_why() -> None:
    """inaccessible: the site's name and its access reason."""
    sites = gps(site("A", 13.1, access_status="inaccessible", access_reason="raids"))
    left = only_left_out(plan(sites, [team("T1")], four_site_matrix(["T1"])))
    assert (left.reason, left.reason.text) == ("inaccessible", "inaccessible")
    assert left.detail == "Site A is marked inaccessible (raids)"


def test_code_in_no_go_zone_names_the_zone() -> None:
    """in_no_go_zone: the zone the site lies in."""
    zone = bridge_zone()
    sites = gps(site("A", 13.15))
    left = only_left_out(
        plan(sites, [team("T1")], four_site_matrix(["T1"]), closures=week_closures(zone, WEEK))
    )
    assert (left.reason, left.reason.text) == ("in_no_go_zone", "inside a no-go zone")
    assert left.detail == "Site A: inside no-go zone Bridge"


def test_code_no_team_names_the_service() -> None:
    """no_team: the service no planned team offers."""
    sites = gps(site("A", 13.1, services_needed="protection"))
    left = only_left_out(plan(sites, [team("T1")], four_site_matrix(["T1"])))
    assert (left.reason, left.reason.text) == ("no_team", "no team offers the service")
    assert left.detail == "no planned team offers protection"


def test_code_closed_names_the_teams_whose_days_it_misses() -> None:
    """closed: the teams offering the service, whose working days the site is never open on."""
    centre = {"id": "A", "name": "Centre A", "access_days": "fri", "services_needed": "health"}
    sites = {
        "detention_centres": layer("detention_centres", [{**centre, "lon": 13.1, "lat": 32.9}])
    }
    left = only_left_out(plan(sites, [team("T1")], four_site_matrix(["T1"])))
    assert (left.reason, left.reason.text) == ("closed", "closed on every working day")
    assert left.detail == "Centre A cannot be visited on any day its health teams (Team T1) work"


def test_code_cut_off_by_no_go_zone_names_the_zone() -> None:
    """cut_off_by_no_go_zone: a site outside every zone that no base reaches without crossing
    one names the zone, distinct from out_of_reach."""
    closures = week_closures(bridge_zone(), WEEK)
    sites = gps(site("E", 13.3))
    teams = [team("T1", shift_end="15:00")]
    points = planning_points(sites, layer("teams", teams))
    matrix = matrix_from_points(points, points, closures=closures)
    left = only_left_out(plan(sites, teams, matrix, closures=closures))
    assert (left.reason, left.reason.text) == ("cut_off_by_no_go_zone", "cut off by a no-go zone")
    assert left.detail == "Site E: no base reaches it without crossing no-go zone Bridge"


def test_code_out_of_reach_gives_the_nearest_routed_base_never_nan() -> None:
    """out_of_reach: minutes from the nearest base that has a route (not ``nan`` when the first
    team's base has none), and which bases have no route."""
    ids = ["base:T2", "base:T1", "A"]
    matrix = minutes_matrix(ids, {("base:T1", "A"): 120, ("base:T1", "base:T2"): 0})
    left = only_left_out(plan(gps(site("A", 13.1)), [team("T2"), team("T1")], matrix))
    assert (left.reason, left.reason.text) == (
        "out_of_reach",
        "cannot be reached and returned from within any shift",
    )
    assert left.detail == (
        "Site A: 120 min from the nearest base (Team T1) and 120 min back, plus 30 min on site, "
        "do not fit any shift or access window; no route from the base of Team T2 (no route)"
    )


def test_code_out_of_reach_gives_the_sites_own_reason() -> None:
    """out_of_reach: a site no base reaches for a reason of its own says that reason."""
    matrix = minutes_matrix(["base:T1", "A"], {})
    matrix = dataclasses.replace(matrix, reasons={"A": "too far from any road: 812 m"})
    left = only_left_out(plan(gps(site("A", 13.1)), [team("T1")], matrix))
    assert left.reason == LeftOutReason.OUT_OF_REACH
    assert left.detail == "Site A: too far from any road: 812 m"


def test_code_no_team_time_names_the_teams_minutes_short_and_the_stop_kept(model: str) -> None:
    """no_team_time: the team that could have gone, by how many minutes its day was short, and
    the lower-priority stop it kept instead.

    A 90-minute shift does A and B (10 + 30 + 5 + 30 + 10 = 85 min, 5 free); C (1,000 people,
    higher priority than A) needs 20 + 30 + 20 = 70 min from base: 65 min short. (With one
    candidate per team-day the route is C alone, and each task left out is short as well.)
    """
    sites = gps(site("A", 13.1), site("B", 13.11), site("C", 13.12, people=1000), site("D", 13.13))
    result = plan(sites, [team("T1", shift_end="09:30")], four_site_matrix(["T1"]))
    left = {lo.task.site_id: lo for lo in result.left_out}
    assert {lo.reason for lo in left.values()} == {LeftOutReason.NO_TEAM_TIME}
    assert all(re.search(r"Team T1 \(Sun \d+ min short\)", lo.detail) for lo in left.values())
    if model == "candidates":
        return
    assert sorted(routes_of(result)["T1@Sun"]) == ["A", "B"]
    assert left["C"].reason.text == "left out for higher-priority tasks"
    assert re.search(
        r"could have gone: Team T1 \(Sun 65 min short\); "
        r"kept lower-priority Site [AB] \(Team T1, Sun\) instead$",
        left["C"].detail,
    ), left["C"].detail
    assert "kept lower-priority" not in left["D"].detail  # D ranks as A and B do


def test_code_no_team_time_says_a_day_was_full() -> None:
    """no_team_time: a team-day at its stop limit reads "full at N stops"."""
    result = plan(
        four_sites(), [team("T1", max_stops=2, shift_end="15:00")], four_site_matrix(["T1"])
    )
    assert [lo.reason for lo in result.left_out] == [LeftOutReason.NO_TEAM_TIME] * 2
    assert all("Team T1 (Sun full at 2 stops)" in lo.detail for lo in result.left_out)


def test_overdue_tasks_left_out_are_flagged() -> None:
    """A task overdue when the week begins says so first, and in the frame's overdue column:
    C and D were last visited on 1 Nov (every 14 days), a 90-minute shift fits one of them
    (20 + 30 + 20 min), and the other is 50 min short."""
    history = pd.DataFrame(
        [
            {"id": f"V{s}", "site_id": s, "date": pd.Timestamp("2026-11-01"), "team_id": "T1"}
            for s in "CD"
        ]
    ).assign(services="health")
    sites = gps(site("C", 13.12), site("D", 13.13))
    result = plan(sites, [team("T1", shift_end="09:30")], four_site_matrix(["T1"]), visits=history)
    left = only_left_out(result)
    assert left.reason == LeftOutReason.NO_TEAM_TIME
    assert left.detail.startswith("overdue by 14 days (due Sun 15 Nov); ")
    assert "could have gone: Team T1 (Sun 50 min short)" in left.detail
    frame = result.left_out_frame()
    assert frame["overdue"].tolist() == [True]
    assert "1 of them overdue" in result.summary()


def test_overdue_flag_comes_with_rule_reasons_too() -> None:
    """An overdue task left out by a rule (too far for the shift) is flagged as well."""
    history = pd.DataFrame(
        [{"id": "V1", "site_id": "C", "date": pd.Timestamp("2026-11-01"), "team_id": "T1"}]
    ).assign(services="health")
    result = plan(
        gps(site("C", 13.12)),
        [team("T1", shift_end="08:40")],
        four_site_matrix(["T1"]),
        visits=history,
    )
    left = only_left_out(result)
    assert left.reason == LeftOutReason.OUT_OF_REACH
    assert left.detail.startswith(
        "overdue by 14 days (due Sun 15 Nov); Site C: 20 min from the nearest base"
    )


def test_left_out_frame_has_code_beside_the_words() -> None:
    """left_out.csv's ``code`` is the reason's code, ``reason`` its words."""
    result = plan(four_sites(), [team("T1", shift_end="09:30")], four_site_matrix(["T1"]))
    frame = result.left_out_frame()
    assert list(frame.columns) == LEFT_OUT_COLUMNS
    assert set(frame["code"]) == {"no_team_time"}
    assert set(frame["reason"]) == {"left out for higher-priority tasks"}


def test_summary_counts_tasks_at_sites() -> None:
    """The summary counts tasks and the sites they are at, as the plan map does."""
    sites = gps(site("A", 13.1, services_needed="health,mhpss"), site("B", 13.11))
    result = plan(sites, [team("T1", shift_end="08:05")], four_site_matrix(["T1"]))
    assert "left out: 3 tasks at 2 sites" in result.summary()
    assert "    2 tasks at 2 sites: closed on every working day" in result.summary()
    assert "    1 task at 1 site: no team offers the service" in result.summary()


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
    assert all("could have gone: Team T1 (Sun " in lo.detail for lo in result.left_out)
    assert not any("T1@" in lo.detail for lo in result.left_out)  # names, not vehicle ids


def test_a_pinned_task_is_never_cut_before_routing() -> None:
    """The pinned task is routed even when its team-day keeps only one other candidate."""
    params = PlanningParams(
        service_minutes=HEALTH_30.service_minutes,
        candidates=CandidateParams(per_route=1, full_below=0, recheck_rounds=0),
    )
    result = plan(four_sites(), [team("T1")], params=params, pins=(Pin.parse("D:T1:sun"),))
    assert "D" in routes_of(result)["T1@Sun"]


# --- the demo week: every reason readable ---------------------------------------------------


@pytest.fixture(scope="module")
def demo_week() -> WeekPlan:
    """The demo scenario's next week (its no-go zone closed), planned for 2 seconds."""
    frames = generate_scenario(today=dt.date(2026, 11, 26), validate=False)
    sites = {name: frames[name] for name in planning.PLANNED_LAYERS}
    days = week_days(None, today=dt.date(2026, 11, 26))
    closures = week_closures(frames["no_go_zones"], days)
    teams = frames["teams"]
    matrix = planning.week_matrix(sites, teams, backend=None, closures=closures)
    return plan_week(
        sites,
        frames["outreach_visits"],
        teams,
        matrix,
        days=days,
        closures=closures,
        seed=1,
        time_limit=2.0,
    )


def test_no_reason_in_the_demo_week_reads_nan(demo_week: WeekPlan) -> None:
    """Every left-out task of the demo week has a code, words and a detail, none with nan."""
    frame = demo_week.left_out_frame()
    assert len(frame) > 0
    assert set(frame["code"]) <= {str(r) for r in LeftOutReason}
    for column in ("reason", "detail"):
        texts = frame[column].astype(str)
        assert not texts.str.contains(r"\bnan\b", case=False).any(), texts[
            texts.str.contains("nan")
        ]
        assert (texts.str.len() > 0).all()
    no_time = frame.loc[frame["code"] == "no_team_time", "detail"]
    assert no_time.str.contains("could have gone: ").all()
    assert "left out: " in demo_week.summary()
    assert " tasks at " in demo_week.summary()


def test_a_pin_on_a_site_that_is_not_due_makes_its_task() -> None:
    """C was visited yesterday (due again in 14 days): pinned, it is planned anyway."""
    visits = pd.DataFrame(
        {
            "id": ["V1"],
            "site_id": ["C"],
            "date": [WEEK[0] - dt.timedelta(days=1)],
            "team_id": ["T1"],
            "services": ["health"],
        }
    )
    not_early = replace(HEALTH_30, early_days=0)
    unpinned = plan(four_sites(), [team("T1"), team("T2")], visits=visits, params=not_early)
    assert "C" not in {s.task.site_id for s in unpinned.stops}
    pinned = plan(
        four_sites(),
        [team("T1"), team("T2")],
        visits=visits,
        params=not_early,
        pins=(Pin.parse("C:T2:sun"),),
    )
    assert "C" in routes_of(pinned)["T2@Sun"]


def test_a_pin_at_a_time_starts_the_visit_then() -> None:
    """@09:30 fixes the start of the visit; the route is built around it."""
    pin = Pin.parse("D:T1:sun@09:30")
    assert (pin.at, pin.seconds, pin.text) == ("09:30", 9 * 3600 + 30 * 60, "D:T1:sun@09:30")
    result = plan(four_sites(), [team("T1"), team("T2")], pins=(pin,))
    (stop,) = [s for s in result.stops if s.task.site_id == "D"]
    assert stop.start.strftime("%a %H:%M") == "Sun 09:30"
    with pytest.raises(ParameterError, match="HH:MM"):
        Pin.parse("D:T1:sun@9h30")


def test_pin_errors_are_plain_words() -> None:
    """Unknown site with did-you-mean, a service the team does not offer, a site closed that
    day or at that time, a time outside the shift: each named, no solver ids."""
    centre = {
        "id": "DC-05",
        "name": "Centre five",
        "detainees": 50,
        "access_days": "mon",
        "access_start": "09:00",
        "access_end": "12:00",
        "services_needed": "monitoring",
        "lon": 13.1,
        "lat": 32.9,
    }
    sites = {**four_sites(), "detention_centres": layer("detention_centres", [centre])}
    teams = layer(
        "teams",
        [team("T1", services="health,monitoring", working_days="sun,mon", shift_end="15:00")],
    )
    pins = (
        Pin.parse("DC-50:T1:mon"),
        Pin.parse("A:T1:sun:nfi"),
        Pin.parse("DC-05:T1:sun"),
        Pin.parse("DC-05:T1:mon@13:00"),
        Pin.parse("A:T1:sun@16:00"),
    )
    found = pin_problems(pins, sites=sites, teams=teams, days=WEEK)
    reasons = {p.index: p.reason for p in found}
    assert "did you mean DC-05" in reasons[0]
    assert "team T1 does not offer nfi" in reasons[1]
    assert "Centre five is closed on Sun" in reasons[2]
    assert "it opens on mon" in reasons[2]
    assert "closed at 13:00: visits can start 09:00-12:00" in reasons[3]
    assert "team T1 works 08:00-15:00, not at 16:00" in reasons[4]
    assert not any("@2026" in r for r in reasons.values())
