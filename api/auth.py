"""Keys and roles, checked before anything else happens to a request.

:class:`AuthMiddleware` finds the route a request is for, looks its least role up in
:mod:`api.roles`, and answers 401 (no valid key) or 403 (a role that may not) before the body is
read. The key it found is left in ``request.state.key`` for handlers (see :mod:`api.deps`).

A key is presented in the ``X-API-Key`` header, as ``Authorization: Bearer <key>``, or as the
password of HTTP Basic (any user name): QGIS 3.22 can send only Basic. Every way gets the same
role checks; a wrong key is 401, with a Basic challenge only where Basic was tried.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Callable, Mapping, Sequence

from fastapi.security import APIKeyHeader
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import STORE_UNAVAILABLE, log, problem_response
from api.roles import allows
from geoplan.errors import StoreError
from geoplan.keys import ApiKey, verify_key
from geoplan.store import DataVersion, Store

KEY_HEADER = "X-API-Key"
api_key_scheme = APIKeyHeader(
    name=KEY_HEADER,
    auto_error=False,
    description="An API key made with `geoplan keys create --role ROLE`.",
)
AUTHORIZATION = b"authorization"
_CHALLENGE = {"WWW-Authenticate": f'ApiKey header="{KEY_HEADER}"'}
BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="geoplan"'}
"""Asked again of a client that tried Basic: QGIS and browsers then prompt for the password."""

RoutePattern = tuple[str, re.Pattern[str], str]
"""A method, the regular expression of a route's path and the route's path template."""


class AuthMiddleware:
    """Refuse requests whose key is missing, unknown, revoked or of a role too low."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Callable[[], Sequence[RoutePattern]],
        store: Store,
        roles: Mapping[tuple[str, str], str],
    ) -> None:
        self.app = app
        self.routes = routes
        self.keys = KeyCache(store)
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
        token, basic = presented_token(scope)
        try:
            key = None if token is None else self.keys.verify(token)
        except StoreError as exc:  # middleware errors skip the app's handlers: answer here
            log.error("checking a key: %s", exc)
            await problem_response(503, STORE_UNAVAILABLE)(scope, receive, send)
            return
        if key is None:
            detail = (
                f"send a valid API key in the {KEY_HEADER} header, as "
                "'Authorization: Bearer <key>', or as the password of HTTP Basic"
            )
            challenge = BASIC_CHALLENGE if basic else _CHALLENGE
            await problem_response(401, detail, headers=challenge)(scope, receive, send)
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


def presented_token(scope: Scope) -> tuple[str | None, bool]:
    """The key a request presents (``X-API-Key`` first, then ``Authorization``) and whether
    it came by HTTP Basic; ``(None, basic)`` if none can be read."""
    headers = dict(scope.get("headers", []))
    header = headers.get(KEY_HEADER.lower().encode())
    if header is not None:
        return header.decode("latin-1").strip(), False
    authorization = headers.get(AUTHORIZATION)
    if authorization is None:
        return None, False
    scheme, _, credentials = authorization.decode("latin-1").strip().partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip() or None, False
    if scheme.lower() == "basic":
        return _basic_password(credentials.strip()), True
    return None, False


def _basic_password(credentials: str) -> str | None:
    """The password of Basic credentials (``base64(user:password)``); the user is any name."""
    try:
        text = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _, colon, password = text.partition(":")
    return password if colon and password else None


class KeyCache:
    """Tokens already checked, kept only while the workspace stands still.

    Every answer is dropped as soon as the workspace changes (its
    :meth:`geoplan.store.Store.data_version` moves), so a key revoked by ``geoplan keys revoke``
    in another process is refused at its very next request, while unchanged keys cost no lookup.
    """

    def __init__(self, store: Store, *, entries: int = 1024) -> None:
        self.store = store
        self.entries = entries
        self._answers: dict[str, ApiKey | None] = {}
        self._seen: DataVersion | None = None
        self._lock = threading.Lock()

    def verify(self, token: str) -> ApiKey | None:
        """The active key ``token`` belongs to, or None (as :func:`geoplan.keys.verify_key`).

        Raises
        ------
        StoreError
            If the workspace cannot be read.
        """
        version = self.store.data_version()
        with self._lock:
            if version is None or version != self._seen:
                self._answers.clear()
                self._seen = version
            if token in self._answers:
                return self._answers[token]
        key = verify_key(self.store, token)  # read after the version: never older than it
        if version is not None:
            with self._lock:
                if len(self._answers) >= self.entries:  # made-up tokens: start afresh
                    self._answers.clear()
                if self._seen == version:
                    self._answers[token] = key
        return key
