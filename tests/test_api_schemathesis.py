"""schemathesis against the whole OpenAPI, in-process: every operation, every default check.

Each operation is its own test item (``test_operation[POST /collections/teams/items]``) and
gets ``EXAMPLES`` generated requests (plus schemathesis' explicit examples and coverage
cases), schema-valid and schema-invalid alike, sent with an admin key. Generation is
seeded, so CI sends the same requests on every run. An operation that writes gets a
fresh copy of the small test workspace and its own app, so nothing one operation writes
changes what the next one sees; read-only operations share one app.

Every default check runs, with two settings and one check narrowed, each for a stated reason:

- ``missing_required_header`` also expects 428: a write without ``If-Match`` is answered 428
  Precondition Required (RFC 6585), the status made for exactly that.
- ``positive_data_acceptance`` is replaced by :func:`accepts_valid_data`, which runs it and
  forgives only refusals that no JSON Schema can foresee, each named in :data:`BEYOND_SCHEMA`:
  a stale ETag (412), rules across fields, rows or layers of the workspace (an end before its
  start, parts above the total, an unknown site, a duplicate id, a polygon that crosses
  itself, a point outside the operation's area), a period or a ``datetime`` interval that
  ends before it starts, a bbox whose south is above its north, the contents of an uploaded file, and the teams and
  sites a plan names. Any other refusal of schema-valid data still fails.

``POST /plans`` queues real plans in real processes; each is deleted (its process stopped)
as soon as it is answered, so that the queue never fills.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import CheckContext, positive_data_acceptance
from schemathesis.core.parameters import ParameterLocation
from schemathesis.openapi.checks import RejectedPositiveData
from starlette.types import Receive, Scope, Send

from api.app import create_app
from api.auth import KEY_HEADER
from api.settings import Settings
from tests.api_fixtures import Workspace, build_workspace, copy_workspace

EXAMPLES = int(os.environ.get("GEOPLAN_SCHEMATHESIS_EXAMPLES", "100"))
"""Generated requests per operation (the issue asks for at least 100)."""
SEED = 20261122
"""One fixed seed: the same requests on every run and in every checkout (hypothesis'
derandomised mode drew different requests when the repository sat at another path)."""
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BEYOND_SCHEMA_RULES = frozenset(
    {
        "order",  # an end not after its start (two fields)
        "parts-exceed-total",  # men + women + boys + girls above people (several fields)
        "parts-contradict-total",
        "future-date",  # depends on today
        "unknown-reference",  # a site, team or area id the workspace does not have
        "duplicate-id",
        "invalid-geometry",  # a ring that crosses itself or collapses
        "lon-lat-swapped",  # positions judged against the operation's area
        "wrong-sign",
        "outside-area",
    }
)
"""Layer validation rules about relations and the workspace, which no schema can state."""
BEYOND_PATTERN = {
    "query.period": "is before start",  # START..END with END before START
    "query.datetime": "ends before it starts",  # START/END with END before START
    "query.bbox": "SOUTH is above NORTH",
}
"""Parameters whose refusal compares two parts of one value, and the words that say so."""
PLAN_STATE_FIELDS = (
    "body.teams.",
    "body.away.",
    "body.pins.",
    "body.replan_of",
    "body.locks",
    "body.kept_before",
)
"""Plan request fields checked against the workspace: teams (also those away), pins' sites, teams and days, the
saved plan to re-plan; and locks and kept_before, which need replan_of (across fields)."""
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "checks": {
            "missing_required_header": {
                "expected-statuses": ["400", "401", "403", "406", "415", "422", "428"]
            }
        },
    }
)


class Switch:
    """An ASGI app that hands each request to the app of the operation under test, so that
    schemathesis' own extra requests (the same request without a key, say) reach it too."""

    def __init__(self) -> None:
        self.app: FastAPI | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # each app is stopped by its fixture instead
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        assert self.app is not None, "no app: the test must use the served fixture"
        await self.app(scope, receive, send)


def _schema(switch: Switch) -> Any:
    """The OpenAPI, from an app on an empty workspace (it depends only on the catalog)."""
    with tempfile.TemporaryDirectory(prefix="geoplan-openapi-") as folder:
        switch.app = _app(Path(folder) / "openapi.gpkg")
        loaded = schemathesis.openapi.from_asgi("/openapi.json", switch, config=CONFIG)
        switch.app = None
    return loaded


def _app(workspace: Path) -> FastAPI:
    """The app, trusting the Host schemathesis' in-process client sends."""
    return create_app(Settings(workspace=workspace, trusted_hosts=("testserver",)))  # type: ignore[call-arg]


SWITCH = Switch()
schema = _schema(SWITCH)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The small workspace with a key per role, built once."""
    return build_workspace(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="module")
def reader_app(template: Workspace) -> Iterator[FastAPI]:
    """One app for the operations that only read."""
    app = _app(template.path)
    yield app
    app.state.plans.shutdown()


@pytest.fixture
def served(
    request: pytest.FixtureRequest, template: Workspace, tmp_path: Path
) -> Iterator[Workspace]:
    """The app the operation's requests reach: its own, on a fresh workspace, if it writes."""
    if _writes(request.node.name):
        workspace = copy_workspace(template, tmp_path)
        app = _app(workspace.path)
    else:
        workspace, app = template, request.getfixturevalue("reader_app")
    SWITCH.app = app
    yield workspace
    SWITCH.app = None
    if app is not request.node.funcargs.get("reader_app"):
        app.state.plans.shutdown()


def _writes(test_name: str) -> bool:
    method = test_name.partition("[")[2].split(" ", 1)[0]
    return method in WRITES


def accepts_valid_data(ctx: CheckContext, response: schemathesis.Response, case: Any) -> None:
    """schemathesis' ``positive_data_acceptance``, forgiving the refusals in the module doc."""
    try:
        positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if not _beyond_schema(case, response):
            raise


def _beyond_schema(case: Any, response: schemathesis.Response) -> bool:
    """Whether a refusal of schema-valid data is for a reason no schema can state."""
    if response.status_code == 412:  # a well-formed ETag of another version
        return True
    if response.status_code not in (400, 422):  # 400: an OGC API read's query (Part 1)
        return False
    if case.path.endswith("/import"):  # the upload's contents: `format: binary` to a schema
        return True
    body = response.json()
    problems = [p for p in body.get("problems") or [] if p["severity"] == "error"]
    if problems:
        return all(p["rule"] in BEYOND_SCHEMA_RULES for p in problems)
    errors = body.get("errors") or []
    plan = case.method == "POST" and case.path == "/plans"
    return bool(errors) and all(_beyond_pattern(e, plan=plan) for e in errors)


def _beyond_pattern(error: dict[str, str], *, plan: bool) -> bool:
    """A parameter refused for what no pattern can state: a period or datetime interval whose
    end comes before its start, a bbox whose south is above its north, or a plan's team or pin
    the workspace does not have."""
    if error["field"] in BEYOND_PATTERN:
        return BEYOND_PATTERN[error["field"]] in error["reason"]
    return plan and error["field"].startswith(PLAN_STATE_FIELDS)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_operation(case: Any, served: Workspace) -> None:
    response = case.call_and_validate(
        headers=_keyed(case, served),
        excluded_checks=[positive_data_acceptance],
        additional_checks=[accepts_valid_data],
    )
    _stop_plan(case, response)


def _keyed(case: Any, served: Workspace) -> dict[str, str]:
    """The admin key, unless the case leaves the key out on purpose (headers made to break
    the schema): that request must be refused (401), so it is sent without one."""
    given = {name.lower() for name in case.headers or {}}
    if case.meta.is_negative_at(ParameterLocation.HEADER) and KEY_HEADER.lower() not in given:
        return {}
    return served.headers("admin")


def _stop_plan(case: Any, response: schemathesis.Response) -> None:
    """Delete a plan the request queued (stopping its process), so the queue never fills."""
    if case.method == "POST" and case.path == "/plans" and response.status_code == 202:
        assert SWITCH.app is not None
        SWITCH.app.state.plans.delete(str(response.json()["id"]))
