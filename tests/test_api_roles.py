"""The role x route x method table in api/ROLES.md, walked against the app: 0 mismatches."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import api.app
from api.app import route_patterns
from api.roles import RULES, render, route_roles
from geoplan.catalog import load_catalog
from geoplan.vocab import Role
from tests.api_fixtures import TestClient, Workspace, build_workspace, client_for

TABLE = Path(__file__).resolve().parent.parent / "api" / "ROLES.md"
CALLERS = (None, *Role)
_ROW = re.compile(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \|(.*)$")
_PLACEHOLDERS = {"{feature_id}": "NO-SUCH-ID", "{key_id}": "000000000000"}


def _table() -> dict[tuple[str, str], dict[str | None, bool]]:
    """ROLES.md as (method, concrete path) -> caller -> allowed, {layer} spelled out."""
    rows: list[tuple[str, str, dict[str | None, bool]]] = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            cells = [c.strip() for c in match[3].split("|")][: len(CALLERS)]
            rows.append(
                (match[1], match[2], dict(zip(CALLERS, [c == "yes" for c in cells], strict=True)))
            )
    own = {(m, p) for m, p, _ in rows if "{layer}" not in p}
    table = {(m, p): allowed for m, p, allowed in rows if "{layer}" not in p}
    for method, path, allowed in rows:
        if "{layer}" in path:
            for layer in load_catalog():
                key = (method, path.replace("{layer}", layer))
                if key not in own:
                    table[key] = allowed
    return table


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return build_workspace(tmp_path_factory.mktemp("api-roles"))


@pytest.fixture(scope="module")
def client(ws: Workspace) -> Iterator[TestClient]:
    """The app, closed at the end so that the plans the walk starts are stopped."""
    with client_for(ws) as client:
        yield client


def test_the_table_file_is_the_rendered_rules() -> None:
    """api/ROLES.md is what api/roles.py renders (regenerate: python -m api.roles)."""
    assert TABLE.read_text(encoding="utf-8") == render(RULES)


def test_every_route_is_in_the_table_and_nothing_else(client: TestClient) -> None:
    """The table lists exactly the routes the app serves."""
    served = {(method, path) for method, _, path in route_patterns(client.app)}  # type: ignore[arg-type]
    assert served == set(_table())
    assert served == set(route_roles())


def test_walk_the_table(client: TestClient, ws: Workspace) -> None:
    """Every route, method and caller: allowed ones pass the key check, others get 403/401."""
    mismatches, checked = [], 0
    for (method, path), allowed in sorted(_table().items()):
        url = path
        for placeholder, value in _PLACEHOLDERS.items():
            url = url.replace(placeholder, value)
        for caller in CALLERS:
            headers = ws.headers(caller) if caller else {}
            body: dict[str, object] | None = {} if method in ("POST", "PUT", "PATCH") else None
            status = client.request(method, url, headers=headers, json=body).status_code
            refusal = 401 if caller is None else 403
            ok = status not in (401, 403) if allowed[caller] else status == refusal
            checked += 1
            if not ok:
                mismatches.append((method, path, caller, status))
    assert mismatches == []
    assert checked == len(CALLERS) * len(_table()) > 300


def test_a_route_left_out_of_the_table_is_closed(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fail closed: a route without a rule is refused to every key."""
    partial = {k: v for k, v in route_roles().items() if k != ("GET", "/conformance")}
    monkeypatch.setattr(api.app, "route_roles", lambda: partial)
    client = client_for(ws)
    assert client.get("/conformance", headers=ws.headers("admin")).status_code == 403
    assert client.get("/collections", headers=ws.headers("viewer")).status_code == 200
