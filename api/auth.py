"""Keys and roles, checked before anything else happens to a request.

:class:`AuthMiddleware` finds the route a request is for, looks its least role up in
:mod:`api.roles`, and answers 401 (no valid key) or 403 (a role that may not) before the body is
read. The key it found is left in ``request.state.key`` for handlers (see :mod:`api.deps`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from fastapi.security import APIKeyHeader
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import STORE_UNAVAILABLE, log, problem_response
from api.roles import allows
from geoplan.errors import StoreError
from geoplan.keys import ApiKey, verify_key
from geoplan.store import GeoPackageStore

KEY_HEADER = "X-API-Key"
api_key_scheme = APIKeyHeader(
    name=KEY_HEADER,
    auto_error=False,
    description="An API key made with `geoplan keys create --role ROLE`.",
)
_CHALLENGE = {"WWW-Authenticate": f'ApiKey header="{KEY_HEADER}"'}

RoutePattern = tuple[str, re.Pattern[str], str]
"""A method, the regular expression of a route's path and the route's path template."""


class AuthMiddleware:
    """Refuse requests whose key is missing, unknown, revoked or of a role too low."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Callable[[], Sequence[RoutePattern]],
        store: GeoPackageStore,
        roles: Mapping[tuple[str, str], str],
    ) -> None:
        self.app = app
        self.routes = routes
        self.store = store
        self.roles = roles
        self._patterns: Sequence[RoutePattern] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._patterns is None:
            self._patterns = self.routes()
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        path = _route_path(self._patterns, method, scope)
        if path is None:  # no such route (404) or method (405): let the router say so
            await self.app(scope, receive, send)
            return
        least = self.roles.get((method, path))
        if least is not None and allows(least, None):
            await self.app(scope, receive, send)
            return
        try:
            key = _presented_key(scope, self.store)
        except StoreError as exc:  # middleware errors skip the app's handlers: answer here
            log.error("checking a key: %s", exc)
            await problem_response(503, STORE_UNAVAILABLE)(scope, receive, send)
            return
        if key is None:
            detail = f"send a valid API key in the {KEY_HEADER} header"
            await problem_response(401, detail, headers=_CHALLENGE)(scope, receive, send)
            return
        if least is None or not allows(least, key.role):
            detail = f"a {key.role} key may not {scope['method']} {path}" + (
                f"; it needs {least}" if least else ""
            )
            await problem_response(403, detail)(scope, receive, send)
            return
        scope.setdefault("state", {})["key"] = key
        await self.app(scope, receive, send)


def _route_path(patterns: Sequence[RoutePattern], method: str, scope: Scope) -> str | None:
    path = str(scope["path"])
    root = str(scope.get("root_path", ""))
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    for wanted, regex, template in patterns:
        if wanted == method and regex.match(path):
            return template
    return None


def _presented_key(scope: Scope, store: GeoPackageStore) -> ApiKey | None:
    wanted = KEY_HEADER.lower().encode()
    for name, value in scope.get("headers", []):
        if name == wanted:
            return verify_key(store, value.decode("latin-1").strip())
    return None
