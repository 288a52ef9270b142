"""The API's HTML pages in headless Chromium, served for real with their security headers: the
maps draw and measure with no Content-Security-Policy violation, and /docs renders Swagger UI
with no request to another host."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.api_fixtures import Workspace, build_workspace, live_server

pytestmark = pytest.mark.browser

TILES = "https://tile.openstreetmap.org/"
_REPORT_VIOLATIONS = """document.addEventListener('securitypolicyviolation', (e) =>
    console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));"""


@dataclass
class Page:
    """A page open in Chromium, what it complained about and what it asked of other hosts."""

    page: Any
    errors: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Workspace]]:
    """The small workspace, served by uvicorn on loopback."""
    ws = build_workspace(tmp_path_factory.mktemp("api-pages"))
    with live_server(ws) as base:
        yield base, ws


@contextmanager
def open_page(browser: Any, base: str, path: str, headers: dict[str, str]) -> Iterator[Page]:
    """Open ``base + path``: requests to other hosts are recorded and aborted (no network),
    console errors and CSP violations recorded (a blocked map tile is not an error)."""
    context = browser.new_context(
        extra_http_headers=headers, viewport={"width": 1400, "height": 900}
    )
    page = context.new_page()
    opened = Page(page)

    def on_console(message: Any) -> None:
        tile = message.location.get("url", "").startswith(TILES)
        if message.type in ("error", "warning") and not tile:
            opened.errors.append(f"{message.type}: {message.text}")

    def on_request(route: Any) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            opened.elsewhere.append(route.request.url)
            route.abort()

    page.add_init_script(_REPORT_VIOLATIONS)
    page.on("console", on_console)
    page.on("pageerror", lambda error: opened.errors.append(f"page error: {error}"))
    page.route("**/*", on_request)
    response = page.goto(base + path)
    assert response is not None
    assert response.status == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    yield opened
    context.close()


@pytest.mark.parametrize("path", ["/maps/layers.html", "/maps/coverage.html?tiles=false"])
def test_a_served_map_draws_under_its_policy(
    browser: Any, served: tuple[str, Workspace], path: str
) -> None:
    """The map draws its sites and measures an area, with no CSP violation or other error;
    the only requests elsewhere are map tiles."""
    base, ws = served
    with open_page(browser, base, path, ws.headers("planner")) as opened:
        page = opened.page
        page.wait_for_function("window.geoplan && window.geoplan.ready", timeout=15_000)
        assert page.locator(".gp-site").count() >= 4
        page.hover(".leaflet-control-measure")
        page.click(".js-start")
        for x, y in ((500, 400), (700, 420), (700, 540)):
            page.mouse.click(x, y)
        page.click(".js-finish")
        assert "Hectares" in page.locator(".leaflet-popup-content").inner_text()
        assert opened.errors == []
        assert all(url.startswith(TILES) for url in opened.elsewhere)


def test_docs_render_offline(browser: Any, served: tuple[str, Workspace]) -> None:
    """/docs renders every tag and operation with no CSP violation and no request to any other
    host; the page's only requests are its assets and the OpenAPI document."""
    base, _ = served
    with open_page(browser, base, "/docs", {}) as opened:
        page = opened.page
        page.wait_for_selector(".opblock", timeout=15_000)
        assert page.locator(".opblock").count() > 20
        assert "geoplan API" in page.locator(".info .title").inner_text()
        assert opened.elsewhere == []
        assert opened.errors == []
