"""Plans over HTTP: 202 then poll until done, the result and every output format, checks that
name the field, failures with their reason, the queue limit and roles; bodies checked against
their response models. Plans run for real (PyVRP in a job process) with a one-second limit."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import httpx
import openpyxl
import pytest

from api.models import Problem
from api.models_analysis import PlanInfo, PlanJob, PlanList
from geoplan.vocab import LEFT_OUT_TEXTS
from tests.api_fixtures import TestClient, Workspace, build_workspace, client_for, served
from tests.conftest import STORE_KINDS, fresh_workspace

WEEK = "2026-W49"  # Sunday 29 November 2026 to Saturday 5 December
QUICK = {"week": WEEK, "time_limit": 1, "seed": 0}
OUTPUTS = ("schedule.csv", "left_out.csv", "schedule.xlsx", "plan.geojson", "map.html")


@pytest.fixture(scope="module", params=STORE_KINDS)
def ws(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Workspace]:
    """The small workspace, in a GeoPackage file and then in PostGIS: the plan's job process
    reads it there."""
    folder = tmp_path_factory.mktemp("api-plans")
    with fresh_workspace(request.param, folder, request) as name:
        yield build_workspace(folder, workspace=name)


@pytest.fixture(scope="module")
def client(ws: Workspace) -> Iterator[TestClient]:
    """A client whose app runs two plans at once; closing it stops the plans still running."""
    with client_for(ws, plan_workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def done(client: TestClient, ws: Workspace) -> PlanJob:
    """A plan of the week for every team, polled until it finished."""
    response = client.post("/plans", json=QUICK, headers=ws.headers("planner"))
    assert response.status_code == 202, response.text
    return _wait(client, ws, response.headers["location"])


def _wait(client: TestClient, ws: Workspace, location: str, *, seconds: float = 90) -> PlanJob:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = PlanJob.model_validate(client.get(location, headers=ws.headers("planner")).json())
        if job.status in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"the plan at {location} did not finish in {seconds} s")


def _problem(response: httpx.Response, status: int) -> Problem:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return Problem.model_validate(response.json())


def _post(client: TestClient, ws: Workspace, body: Any) -> httpx.Response:
    return client.post("/plans", json=body, headers=ws.headers("planner"))


# --- a plan from start to end -----------------------------------------------------------------


def test_post_answers_202_with_the_plans_url(client: TestClient, ws: Workspace) -> None:
    """POST /plans answers at once: 202, Location, the status and the week resolved."""
    response = _post(client, ws, {**QUICK, "teams": ["T-MED"], "pins": ["GP-1:T-MED:mon"]})
    assert response.status_code == 202
    info = PlanInfo.model_validate(response.json())
    assert info.status in ("queued", "running")
    assert response.headers["location"].endswith(f"/plans/{info.id}")
    assert str(info.input.week_start) == "2026-11-29"
    assert info.input.teams == ["T-MED"]
    assert info.input.pins == ["GP-1:T-MED:mon"]
    job = _wait(client, ws, response.headers["location"])
    assert job.status == "done", job.error
    assert job.result is not None
    monday = next(r for r in job.result.routes if str(r.date) == "2026-11-30")
    assert "GP-1" in [s.site_id for s in monday.stops]


def test_a_done_plan_has_routes_left_out_and_totals(done: PlanJob) -> None:
    """The result: stops in order per team-day, every left-out visit with one reason."""
    assert done.status == "done", done.error
    result = done.result
    assert result is not None
    stops = [s for r in result.routes for s in r.stops]
    assert result.totals.tasks_done == len(stops) > 0
    assert result.totals.tasks_left_out == len(result.left_out)
    for route in result.routes:
        assert [s.order for s in route.stops] == list(range(1, len(route.stops) + 1))
        assert {r.team_id for r in result.routes} <= {"T-MED", "T-MRRM"}
    assert all(lo.reason in LEFT_OUT_TEXTS.values() and lo.detail for lo in result.left_out)
    assert str(result.days[0]) == "2026-11-29"
    assert result.summary.startswith("Week Sun 29 Nov")
    assert {link.title for link in done.links if link.rel == "alternate"} == {
        "Schedule (CSV)",
        "Schedule (XLSX)",
        "Visits left out (CSV)",
        "Plan (GeoJSON)",
        "Map",
    }


def test_outputs_parse(client: TestClient, ws: Workspace, done: PlanJob) -> None:
    """CSV, XLSX, GeoJSON and the HTML map each read back with what the plan holds."""
    assert done.result is not None
    stops = [s for r in done.result.routes for s in r.stops]
    base = f"/plans/{done.id}"
    answers = {
        name: client.get(f"{base}/{name}", headers=ws.headers("planner")) for name in OUTPUTS
    }
    assert all(a.status_code == 200 for a in answers.values())
    schedule = list(csv.DictReader(io.StringIO(answers["schedule.csv"].text)))
    assert [r["site_id"] for r in schedule] == [s.site_id for s in stops]
    assert answers["schedule.csv"].headers["content-type"].startswith("text/csv")
    assert "attachment" in answers["schedule.csv"].headers["content-disposition"]
    left_out = list(csv.DictReader(io.StringIO(answers["left_out.csv"].text)))
    assert {r["task_id"] for r in left_out} == {lo.task_id for lo in done.result.left_out}
    book = openpyxl.load_workbook(io.BytesIO(answers["schedule.xlsx"].content))
    assert book.sheetnames[0] == "Week"
    assert book.sheetnames[-1] == "Left out"
    geojson = json.loads(answers["plan.geojson"].content)
    assert geojson["type"] == "FeatureCollection"
    points = [f for f in geojson["features"] if f["geometry"]["type"] == "Point"]
    assert len(points) >= len(stops)
    assert answers["plan.geojson"].headers["content-type"] == "application/geo+json"
    html = answers["map.html"]
    assert html.headers["content-type"].startswith("text/html")
    tags = _tags(html.text)
    assert {"html", "script", "title"} <= tags
    assert "L.map(" in html.text


def _tags(html: str) -> set[str]:
    seen: set[str] = set()

    class Tags(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            seen.add(tag)

    Tags().feed(html)
    return seen


def test_plans_are_listed_newest_first(client: TestClient, ws: Workspace, done: PlanJob) -> None:
    """GET /plans lists the saved plans by their saved id, without their results."""
    listed = PlanList.model_validate(client.get("/plans", headers=ws.headers("admin")).json())
    assert done.plan_id in [p.id for p in listed.plans]
    assert {p.publication for p in listed.plans} <= {"draft", "published", "superseded"}
    created = [p.created for p in listed.plans]
    assert created == sorted(created, reverse=True)
    assert "result" not in client.get("/plans", headers=ws.headers("planner")).json()["plans"][0]


def test_the_object_form_of_a_pin_is_the_same(client: TestClient, ws: Workspace) -> None:
    """A pin as {site, team, day} is read like SITE:TEAM:DAY."""
    pin = {"site": "GP-2", "team": "T-MRRM", "day": "2026-12-01", "service": "health"}
    response = _post(client, ws, {**QUICK, "pins": [pin]})
    assert response.status_code == 202, response.text
    assert PlanInfo.model_validate(response.json()).input.pins == ["GP-2:T-MRRM:2026-12-01:health"]
    client.delete(response.headers["location"], headers=ws.headers("planner"))


# --- failures, refusals -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"teams": ["T-XYZ"]}, "body.teams.0", "T-MED, T-MRRM"),
        ({"week": "2026-W60"}, "body.week", "ISO week"),
        ({"week": "next week"}, "body.week", "ISO week like 2026-W49"),
        ({"pins": ["GP-1:T-MED"]}, "body.pins.0", "SITE:TEAM:DAY"),
        ({"pins": ["GP-9:T-MED:mon"]}, "body.pins.0.site", "no site 'GP-9'"),
        ({"pins": ["GP-1:T-MED:fri"]}, "body.pins.0.day", "does not work on Fri"),
        ({"pins": ["GP-1:T-MED:someday"]}, "body.pins.0.day", "pattern"),
        ({"pins": [{"site": "GP-1", "team": "T-MED", "day": "2027-01-04"}]}, "body.pins.0.day", "not a day of the week"),
        ({"pins": [{"site": "GP-1", "team": "T-NONE", "day": "mon"}]}, "body.pins.0.team", "not planned"),
        ({"pins": [{"site": "GP-1", "team": "T-MED", "day": "mon", "service": "dentistry"}]}, "body.pins.0.service", "unknown service"),
        ({"time_limit": 0}, "body.time_limit", "greater than or equal to 1"),
        ({"time_limit": 601}, "body.time_limit", "less than or equal to 600"),
        ({"time_limit": "5"}, "body.time_limit", "number"),
        ({"time_limit": True}, "body.time_limit", "number"),
        ({"seed": 1.5}, "body.seed", "integer"),
        ({"seed": -1}, "body.seed", "greater than or equal to 0"),
        ({"teams": []}, "body.teams", "at least 1"),
        ({"weeks": "2026-W49"}, "body.weeks", "not permitted"),
    ],
)  # fmt: skip
def test_bad_requests_name_the_field(
    client: TestClient, ws: Workspace, body: dict[str, Any], field: str, words: str
) -> None:
    """Each problem of a plan request gets 422 naming the field and the reason."""
    problem = _problem(_post(client, ws, {**QUICK, **body}), 422)
    reasons = {e.field: e.reason for e in problem.errors or []}
    assert field in reasons, reasons
    assert words in reasons[field]


def test_every_problem_is_reported_at_once(client: TestClient, ws: Workspace) -> None:
    """An unknown team and two bad pins: three errors in one answer."""
    body = {**QUICK, "teams": ["T-MED", "T-XYZ"], "pins": ["GP-9:T-MED:mon", "GP-1:T-MED:sat"]}
    problem = _problem(_post(client, ws, body), 422)
    assert {e.field for e in problem.errors or []} == {
        "body.teams.1",
        "body.pins.0.site",
        "body.pins.1.day",
    }


def test_each_bad_pin_is_named_by_its_index_and_field(client: TestClient, ws: Workspace) -> None:
    """Three pins wrong in three ways: one error each, at body.pins.N.<field>."""
    pins = ["GP-9:T-MED:mon", {"site": "GP-1", "team": "T-NONE", "day": "mon"}, "GP-1:T-MED:fri"]
    problem = _problem(_post(client, ws, {**QUICK, "pins": pins}), 422)
    reasons = {e.field: e.reason for e in problem.errors or []}
    assert set(reasons) == {"body.pins.0.site", "body.pins.1.team", "body.pins.2.day"}
    assert "pin the visit to a day it works" in reasons["body.pins.2.day"]


def test_away_days_are_checked_and_refuse_pins_on_them(client: TestClient, ws: Workspace) -> None:
    """`away` names an unknown team or a day outside the week at body.away.N; a pin on a day
    its team is away is refused with the day."""
    body = {**QUICK, "away": ["T-XYZ:mon", "T-MED:2026-12-09", "T-MED:tue"]}
    problem = _problem(_post(client, ws, {**body, "pins": ["GP-1:T-MED:tue"]}), 422)
    reasons = {e.field: e.reason for e in problem.errors or []}
    assert set(reasons) == {"body.away.0", "body.away.1", "body.pins.0.day"}
    assert "unknown team 'T-XYZ'" in reasons["body.away.0"]
    assert "not a day of the week planned" in reasons["body.away.1"]
    assert "team T-MED is away on Tue 1 Dec" in reasons["body.pins.0.day"]


def test_a_plan_with_away_days_gives_the_team_no_route_then(
    client: TestClient, ws: Workspace
) -> None:
    """The plan honours `away` and says so in its input."""
    away = ["T-MED:sun", "T-MED:mon"]
    response = _post(client, ws, {**QUICK, "away": away})
    assert response.status_code == 202, response.text
    job = _wait(client, ws, response.headers["location"])
    assert job.status == "done", job.error
    assert job.input.away == away
    assert job.result is not None
    days = {str(r.date) for r in job.result.routes if r.team_id == "T-MED" and r.stops}
    assert not days & {"2026-11-29", "2026-11-30"}


def test_the_first_week_and_a_whole_number_seed_are_accepted(
    client: TestClient, ws: Workspace
) -> None:
    """1900-01-01 is a Monday whose week starts in 1899, and ``3.0`` is the integer 3: both
    fit the schema, so both are accepted (found with schemathesis)."""
    response = _post(client, ws, {**QUICK, "week": "1900-01-01", "seed": 3.0})
    assert response.status_code == 202, response.text
    info = PlanInfo.model_validate(response.json())
    assert (str(info.input.week_start), info.input.seed) == ("1899-12-31", 3)
    assert client.delete(f"/plans/{info.id}", headers=ws.headers("planner")).status_code == 204


def test_nan_and_a_time_limit_over_the_servers_are_refused(ws: Workspace) -> None:
    """NaN is 422, never 500; a time limit over GEOPLAN_PLAN_TIME_LIMIT_MAX names the limit."""
    client = client_for(ws, plan_time_limit_max=5)
    headers = {**ws.headers("planner"), "Content-Type": "application/json"}
    nan = client.post("/plans", content=b'{"time_limit": NaN}', headers=headers)
    assert _problem(nan, 422).errors
    over = _problem(
        client.post("/plans", json={"time_limit": 10}, headers=ws.headers("planner")), 422
    )
    assert {e.field: e.reason for e in over.errors or []}[
        "body.time_limit"
    ] == "at most 5 seconds on this server"


def test_a_plan_that_cannot_be_made_fails_with_its_reason(
    client: TestClient, ws: Workspace
) -> None:
    """A pin the request check passes but the week cannot hold (a 90-minute visit starting a
    minute before the shift ends) fails the plan with the planner's words; a pin on a service
    the team does not offer is refused at once, naming the field."""
    refused = _problem(_post(client, ws, {**QUICK, "pins": ["GP-3:T-MED:mon"]}), 422)
    assert "body.pins.0.service" in {e.field for e in refused.errors or []}
    response = _post(client, ws, {**QUICK, "pins": ["GP-2:T-MED:mon@14:59"]})
    assert response.status_code == 202, response.text
    job = _wait(client, ws, response.headers["location"])
    assert job.status == "failed"
    assert job.error is not None
    assert "GP-2" in job.error
    assert "cannot be done" in job.error
    assert "Traceback" not in job.error
    assert job.result is None
    output = client.get(f"/plans/{job.id}/schedule.csv", headers=ws.headers("planner"))
    assert "failed" in _problem(output, 409).detail


def test_outputs_wait_for_the_plan_and_delete_stops_it(client: TestClient, ws: Workspace) -> None:
    """Before a plan is done its outputs are 409; DELETE stops and forgets it (then 404)."""
    response = _post(client, ws, {**QUICK, "time_limit": 60})
    location = response.headers["location"]
    early = client.get(f"{location}/schedule.xlsx", headers=ws.headers("planner"))
    assert "once its status is done" in _problem(early, 409).detail
    assert client.delete(location, headers=ws.headers("planner")).status_code == 204
    assert _problem(client.get(location, headers=ws.headers("planner")), 404)
    assert _problem(client.delete(location, headers=ws.headers("planner")), 404)


def test_unknown_and_malformed_plan_ids(client: TestClient, ws: Workspace) -> None:
    """An unknown id is 404 (for the plan and each output); a malformed one is 422."""
    headers = ws.headers("planner")
    missing = _problem(client.get("/plans/0123456789abcdef", headers=headers), 404)
    assert "GET /plans" in missing.detail
    for name in OUTPUTS:
        _problem(client.get(f"/plans/0123456789abcdef/{name}", headers=headers), 404)
    malformed = _problem(client.get("/plans/XYZ", headers=headers), 422)
    assert "path.plan_id" in {e.field for e in malformed.errors or []}


def test_a_full_queue_answers_503_with_retry_after(ws: Workspace) -> None:
    """When the queue is full, POST /plans answers 503 with Retry-After."""
    client = client_for(ws)
    client.app.state.plans.queue = 0  # type: ignore[attr-defined]
    response = client.post("/plans", json=QUICK, headers=ws.headers("planner"))
    problem = _problem(response, 503)
    assert "try again" in problem.detail
    assert response.headers["retry-after"] == "60"


def test_viewers_may_not_plan_or_read_plans(
    client: TestClient, ws: Workspace, done: PlanJob
) -> None:
    """Every plan route is 403 for a viewer and 401 without a key."""
    paths = ["/plans", f"/plans/{done.id}", *(f"/plans/{done.id}/{name}" for name in OUTPUTS)]
    for path in paths:
        assert _problem(client.get(path, headers=ws.headers("viewer")), 403)
        assert client.get(path).status_code == 401
    refused = client.post("/plans", json=QUICK, headers=ws.headers("viewer"))
    assert _problem(refused, 403)
    assert client.delete(f"/plans/{done.id}", headers=ws.headers("viewer")).status_code == 403


# --- saved plans ------------------------------------------------------------------------------


def test_a_done_plan_is_saved_by_the_keys_name(
    client: TestClient, ws: Workspace, done: PlanJob
) -> None:
    """A finished plan is saved in the workspace as a draft (2026-W49-n), by the asking key's
    name, and is found by its saved id as by its request's id."""
    assert done.plan_id is not None
    assert done.plan_id.startswith(f"{WEEK}-")
    assert done.publication == "draft"
    assert done.created_by == "planner"
    by_saved = PlanJob.model_validate(
        client.get(f"/plans/{done.plan_id}", headers=ws.headers("planner")).json()
    )
    assert by_saved.result == done.result
    csv_text = client.get(f"/plans/{done.plan_id}/schedule.csv", headers=ws.headers("planner"))
    assert csv_text.status_code == 200


def test_publishing_supersedes_the_weeks_published_plan(client: TestClient, ws: Workspace) -> None:
    """POST /plans/{id}/publish: one published plan per week, the one before superseded."""
    headers = ws.headers("planner")
    first = _wait(client, ws, _post(client, ws, QUICK).headers["location"])
    second = _wait(client, ws, _post(client, ws, {**QUICK, "seed": 1}).headers["location"])
    published = client.post(f"/plans/{first.plan_id}/publish", headers=headers)
    assert published.status_code == 200, published.text
    assert PlanInfo.model_validate(published.json()).publication == "published"
    client.post(f"/plans/{second.plan_id}/publish", headers=headers)
    listed = PlanList.model_validate(client.get("/plans", headers=headers).json()).plans
    status = {p.plan_id: p.publication for p in listed}
    assert (status[first.plan_id], status[second.plan_id]) == ("superseded", "published")
    assert sum(1 for p in listed if p.publication == "published") == 1
    refused = client.post(f"/plans/{first.plan_id}/publish", headers=ws.headers("viewer"))
    assert refused.status_code == 403


def test_a_replan_through_the_api_keeps_locked_days(
    client: TestClient, ws: Workspace, done: PlanJob
) -> None:
    """replan_of with kept_before: the days before are the old plan's, exactly."""
    body = {**QUICK, "seed": 3, "replan_of": done.plan_id, "kept_before": "2026-12-01"}
    again = _wait(client, ws, _post(client, ws, body).headers["location"])
    assert again.status == "done", again.error
    assert again.replan_of == done.plan_id
    assert done.result is not None
    assert again.result is not None

    def before(job: PlanJob) -> list[object]:
        assert job.result is not None
        return [r for r in job.result.routes if str(r.date) < "2026-12-01"]

    assert before(again) == before(done)
    unknown = _problem(_post(client, ws, {**QUICK, "replan_of": "2026-W49-999"}), 422)
    assert "body.replan_of" in {e.field for e in unknown.errors or []}
    alone = _problem(_post(client, ws, {**QUICK, "locks": ["T-MRRM:mon"]}), 422)
    assert "body.locks" in {e.field for e in alone.errors or []}


def test_a_saved_plan_outlives_the_server(ws: Workspace) -> None:
    """A plan made through one `geoplan serve` is read, whole, from the next one: by its
    request's id (the Location the client kept) and by its saved id."""
    headers = ws.headers("planner")
    with served(ws.path) as url:
        location = httpx.post(f"{url}/plans", json=QUICK, headers=headers).headers["location"]
        deadline = time.monotonic() + 90
        while (job := httpx.get(location, headers=headers).json())["status"] not in (
            "done",
            "failed",
        ):
            assert time.monotonic() < deadline, "the plan did not finish"
            time.sleep(0.3)
    assert job["status"] == "done", job
    path = location.split("/plans/", 1)[1]
    with served(ws.path) as url:
        again = httpx.get(f"{url}/plans/{path}", headers=headers)
        saved = httpx.get(f"{url}/plans/{job['plan_id']}", headers=headers)
        listed = httpx.get(f"{url}/plans", headers=headers).json()["plans"]
        page = httpx.get(f"{url}/plans/{job['plan_id']}/map.html", headers=headers)
    assert again.status_code == 200
    assert again.json()["result"] == job["result"]
    assert saved.json()["result"] == job["result"]
    assert job["plan_id"] in [p["id"] for p in listed]
    assert page.status_code == 200
