"""Who may call what: the one table of role x route x method.

Every route of the app must have a rule here; a route without one is refused to every key (fail
closed), and ``tests/test_api_roles.py`` fails until the rule is added. ``api/ROLES.md`` is this
table rendered for people (``python -m api.roles > api/ROLES.md``); the test walks that file
against the running app, role by role.

A path with ``{layer}`` stands for every layer of the catalog that has no rule of its own for the
same method and path (visits, for example, are written by planners, other layers by admins).
Roles nest: a route open to ``planner`` is open to ``admin`` too; ``open`` needs no key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from geoplan.catalog import load_catalog
from geoplan.vocab import Role

OPEN = "open"
LAYER = "{layer}"
VISITS = "outreach_visits"
_ITEM = "/collections/{layer}/items/{feature_id}"
PLAN_OUTPUTS = ("schedule.csv", "left_out.csv", "schedule.xlsx", "plan.geojson", "map.html")


@dataclass(frozen=True)
class Rule:
    """The least role that may call ``method path``."""

    method: str
    path: str
    role: str
    note: str = ""


def _layer_writes(layer: str, role: str, note: str) -> tuple[Rule, ...]:
    items = f"/collections/{layer}/items"
    return (
        Rule("POST", items, role, note),
        Rule("PUT", f"{items}/{{feature_id}}", role, note),
        Rule("PATCH", f"{items}/{{feature_id}}", role, note),
        Rule("DELETE", f"{items}/{{feature_id}}", role, note),
        Rule("POST", f"/collections/{layer}/import", role, note),
    )


RULES: tuple[Rule, ...] = (
    Rule("GET", "/health", OPEN, "liveness; says nothing about the data"),
    Rule("GET", "/openapi.json", OPEN, "the API's description; no data"),
    Rule("GET", "/api", OPEN, "the API's description in OpenAPI 3.0; no data"),
    Rule("GET", "/docs", OPEN, "interactive documentation; no data"),
    Rule("GET", "/docs/assets/{asset}", OPEN, "the documentation's script and styles; no data"),
    Rule("GET", "/", Role.VIEWER, "OGC API landing page"),
    Rule("GET", "/conformance", Role.VIEWER),
    Rule("GET", "/collections", Role.VIEWER),
    Rule("GET", "/collections/{layer}", Role.VIEWER),
    Rule(
        "GET", "/collections/{layer}/items", Role.VIEWER, "viewers get sensitive sites generalised"
    ),
    Rule("GET", _ITEM, Role.VIEWER, "viewers get sensitive sites generalised"),
    *_layer_writes(LAYER, Role.ADMIN, "layer edits"),
    *_layer_writes(VISITS, Role.PLANNER, "visit records"),
    Rule("GET", "/coverage/gaps", Role.VIEWER, "viewers: sites at their coarse H3 cell, no names"),
    Rule("GET", "/coverage/areas", Role.VIEWER, "viewers: hexagons no finer than theirs"),
    Rule("GET", "/coverage/indicators", Role.VIEWER),
    Rule("GET", "/coverage/summary", Role.VIEWER),
    Rule("GET", "/plans", Role.PLANNER, "plans hold exact positions"),
    Rule("POST", "/plans", Role.PLANNER, "plans hold exact positions"),
    *(
        Rule("GET", f"/plans/{{plan_id}}{output}", Role.PLANNER, "plans hold exact positions")
        for output in ("", *(f"/{name}" for name in PLAN_OUTPUTS))
    ),
    Rule("DELETE", "/plans/{plan_id}", Role.PLANNER, "stops or deletes a plan"),
    Rule("POST", "/plans/{plan_id}/publish", Role.PLANNER, "the plan the teams follow"),
    Rule("GET", "/maps/layers.html", Role.PLANNER, "exact positions: viewers use the layers"),
    Rule("GET", "/maps/coverage.html", Role.PLANNER, "exact positions: viewers use /coverage"),
    Rule("GET", "/maps/share.html", Role.VIEWER, "counts per area, suppressed; no site on it"),
    Rule("GET", "/keys", Role.ADMIN),
    Rule("POST", "/keys", Role.ADMIN),
    Rule("DELETE", "/keys/{key_id}", Role.ADMIN),
)


def expand(rules: Iterable[Rule], layers: Iterable[str]) -> dict[tuple[str, str], str]:
    """(method, concrete route path) -> least role, with ``{layer}`` spelled out per layer."""
    rules = list(rules)
    own = {(r.method, r.path) for r in rules if LAYER not in r.path}
    table: dict[tuple[str, str], str] = {}
    for rule in rules:
        if LAYER not in rule.path:
            table[(rule.method, rule.path)] = rule.role
            continue
        for layer in layers:
            key = (rule.method, rule.path.replace(LAYER, layer))
            if key not in own:
                table[key] = rule.role
    return table


def route_roles() -> dict[tuple[str, str], str]:
    """The expanded table for the catalog's layers."""
    return expand(RULES, load_catalog())


def allows(least: str, role: str | None) -> bool:
    """Whether a caller with ``role`` (None: no key) may call a route open to ``least``."""
    if least == OPEN:
        return True
    return role is not None and Role(role).rank >= Role(least).rank


def render(rules: Iterable[Rule] = RULES) -> str:
    """The table as Markdown (``api/ROLES.md``)."""
    head = [
        "# Roles: who may call what",
        "",
        "Generated from `api/roles.py` (`python -m api.roles > api/ROLES.md`); "
        "`tests/test_api_roles.py` walks this table against the app.",
        "",
        "`{layer}` stands for every layer without a row of its own for the same method and path. "
        "`yes` means the role may call the route; `no` means it gets 403 (401 without a key).",
        "",
        f"| method | route | no key | {' | '.join(Role)} | note |",
        "|---" * (len(Role) + 4) + "|",
    ]
    rows = [
        f"| {r.method} | `{r.path}` | "
        + " | ".join("yes" if allows(r.role, role) else "no" for role in (None, *Role))
        + f" | {r.note} |"
        for r in rules
    ]
    return "\n".join([*head, *rows]) + "\n"


if __name__ == "__main__":
    print(render(), end="")
