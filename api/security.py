"""What every response says to browsers, and which Host headers are believed.

:class:`SecurityHeadersMiddleware` adds the headers of every answer: ``nosniff`` and
``no-referrer`` on all, ``Cache-Control: no-store`` on all but the docs' own assets (and always
when a key was sent: answers hold exact positions), and a Content-Security-Policy with
``frame-ancestors 'none'``. HTML pages (the maps, /docs) get a policy that runs the page's
inline ``<script>`` elements, each named by its hash, and scripts from this server only: no
event-handler attributes, no ``javascript:`` links, nothing from other hosts. The hashes are
taken of the page as served, so they do not tell a page's scripts from a ``<script>`` element
that data smuggled in; the HTML escaping of the maps (``geoplan.maps``) keeps those out.

:class:`TrustedHostMiddleware` refuses Host headers that are not trusted, so that the links the
API builds (:func:`api.ogc.url`) never carry a name a client made up.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Collection

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import KEY_HEADER
from api.errors import problem_response

MAP_TILES = "https://tile.openstreetmap.org"
"""Where the maps' background comes from (folium's OpenStreetMap layer)."""
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
"""The policy of everything that is not a page: load nothing, be framed by nobody."""
PAGE_POLICY = (
    "default-src 'none'; script-src 'self' {scripts}; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: {tiles}; font-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""The policy of HTML pages. Their scripts are inline (the maps embed Leaflet) and run only if
their hash is listed; styles and images are inline too (``style`` attributes, ``data:`` URIs)."""
EVAL = "'unsafe-eval'"
"""Added only for pages whose own scripts compile code from text: the maps' measuring tool
(leaflet-measure) builds its templates with ``new Function``. /docs runs without it."""
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers that predate it
}
_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<text>.*?)</script\s*>", re.DOTALL | re.I)
_NOT_JS = re.compile(r"""\b(src\s*=|type\s*=\s*["']?application/(?:ld\+)?json)""", re.I)
_COMPILES = re.compile(r"\bnew Function\(|\beval\(")


class SecurityHeadersMiddleware:
    """Add the browser-facing security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        keyed = _has_header(scope, KEY_HEADER.lower().encode()) or _has_header(
            scope, b"authorization"
        )
        held: Message | None = None
        chunks: list[bytes] = []

        async def sending(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                _add_common(headers, keyed=keyed)
                if headers.get("content-type", "").startswith("text/html"):
                    held = message  # the page's policy names its scripts: wait for the body
                    return
                headers["Content-Security-Policy"] = API_POLICY
            elif held is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(chunks)
                MutableHeaders(scope=held)["Content-Security-Policy"] = page_policy(body)
                await send(held)
                held = None
                message = {"type": "http.response.body", "body": body}
            await send(message)

        await self.app(scope, receive, sending)


def _add_common(headers: MutableHeaders, *, keyed: bool) -> None:
    for name, value in COMMON.items():
        headers[name] = value
    if keyed or "cache-control" not in headers:
        headers["Cache-Control"] = "no-store"


def page_policy(html: bytes) -> str:
    """The Content-Security-Policy of an HTML page: its inline scripts, by SHA-256."""
    text = html.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    scripts = [m["text"] for m in _SCRIPT.finditer(text) if not _NOT_JS.search(m["attrs"])]
    sources = list(dict.fromkeys(_hash(s) for s in scripts if s.strip()))
    if any(_COMPILES.search(s) for s in scripts):
        sources.append(EVAL)
    return PAGE_POLICY.format(scripts=" ".join(sources), tiles=MAP_TILES)


def _hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


class TrustedHostMiddleware:
    """Answer 400 to a Host header that is not one of ``hosts`` (names compared without port)."""

    def __init__(self, app: ASGIApp, *, hosts: Collection[str]) -> None:
        self.app = app
        self.hosts = frozenset(h.lower() for h in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = _host_name(scope)
        if host is not None and host not in self.hosts:
            detail = (
                f"the Host header {host!r} is not a name this server answers to; the operator "
                "can add it to GEOPLAN_TRUSTED_HOSTS or set GEOPLAN_PUBLIC_URL"
            )
            await problem_response(400, detail)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _host_name(scope: Scope) -> str | None:
    """The Host header's name without port or IPv6 brackets; None if there is no header."""
    for name, value in scope.get("headers", []):
        if name == b"host":
            text = value.decode("latin-1").strip().lower()
            if text.startswith("["):
                return text[1:].partition("]")[0]
            return text.partition(":")[0]
    return None


def _has_header(scope: Scope, wanted: bytes) -> bool:
    return any(name == wanted for name, _ in scope.get("headers", []))
