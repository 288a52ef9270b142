"""api/security.py: Host headers are trusted or refused, links never carry a made-up Host, and
every answer carries nosniff, no-referrer, no-store (with a key) and a Content-Security-Policy
with frame-ancestors 'none'; HTML pages' policies name their inline scripts by hash."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import httpx
import pytest

from api.app import create_app
from api.models import Problem
from api.roles import route_roles
from api.security import API_POLICY, EVAL, page_policy
from api.settings import Settings
from tests.api_fixtures import TestClient, Workspace, build_workspace, client_for

GP_ITEMS = "/collections/gathering_points/items"
PUBLIC = "https://maps.example.org/geoplan"
_PLACEHOLDERS = {
    "{layer}": "gathering_points",
    "{feature_id}": "GP-1",
    "{key_id}": "000000000000",
    "{plan_id}": "no-such-plan",
    "{asset}": "swagger-ui.css",
}


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return build_workspace(tmp_path_factory.mktemp("api-security"))


@pytest.fixture(scope="module")
def client(ws: Workspace) -> Iterator[TestClient]:
    with client_for(ws) as client:
        yield client


def _hrefs(body: dict[str, object]) -> dict[str, str]:
    links = body["links"]
    assert isinstance(links, list)
    return {link["rel"]: link["href"] for link in links}


def _page_links(client: TestClient, ws: Workspace, host: str | None = None) -> list[str]:
    """Every link of the landing page, an items page and a coverage page (next/prev too)."""
    headers = {**ws.headers("planner"), **({"Host": host} if host else {})}
    hrefs: list[str] = []
    for url in ("/", f"{GP_ITEMS}?limit=1&offset=1", "/coverage/gaps?gap=all&limit=1&offset=1"):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        found = _hrefs(response.json())
        if url != "/":
            assert {"next", "prev"} <= set(found)
        hrefs += found.values()
    return hrefs


# --- hosts and links ------------------------------------------------------------------------


def test_an_untrusted_host_gets_400(ws: Workspace) -> None:
    """With the default trusted hosts, Host: evil.example is refused with 400 problem+json naming
    the settings; 127.0.0.1, localhost and [::1], with or without a port, are answered."""
    app = create_app(Settings(workspace=ws.path))  # type: ignore[call-arg]
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    response = client.get("/collections", headers={**ws.headers("viewer"), "Host": "evil.example"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "GEOPLAN_TRUSTED_HOSTS" in Problem.model_validate(response.json()).detail
    for host in ("127.0.0.1:8000", "localhost", "LOCALHOST:80", "[::1]:8000"):
        answer = client.get("/collections", headers={**ws.headers("viewer"), "Host": host})
        assert answer.status_code == 200, host
    assert client.get("/health", headers={"Host": "evil.example:8000"}).status_code == 400


def test_links_follow_a_trusted_host(client: TestClient, ws: Workspace) -> None:
    """Without a public URL, every link (next and prev included) is on the trusted Host sent."""
    hrefs = _page_links(client, ws)
    assert hrefs
    assert all(href.startswith("http://testserver/") for href in hrefs)


def test_links_use_the_public_url_never_the_host(ws: Workspace) -> None:
    """With GEOPLAN_PUBLIC_URL, every link (next and prev included) and Location starts with
    it whatever Host was sent; an untrusted Host is still refused."""
    client = client_for(ws, public_url=PUBLIC + "/")
    for host in (None, "maps.example.org", "testserver"):
        hrefs = _page_links(client, ws, host)
        assert all(href.startswith(f"{PUBLIC}/") for href in hrefs), hrefs
    evil = client.get(GP_ITEMS, headers={**ws.headers("planner"), "Host": "evil.example"})
    assert evil.status_code == 400


def test_links_keep_the_root_path_behind_a_proxy(ws: Workspace) -> None:
    """Served under a root path (uvicorn --root-path), links include it, as before."""
    app = create_app(Settings(workspace=ws.path, trusted_hosts=("testserver",)))  # type: ignore[call-arg]
    client = TestClient(app, root_path="/geoplan")
    body = client.get("/geoplan/", headers=ws.headers("viewer")).json()
    assert _hrefs(body)["data"] == "http://testserver/geoplan/collections"


@pytest.mark.parametrize(
    "url", ["ftp://maps.example.org", "maps.example.org", "https://maps.example.org/?a=1"]
)
def test_a_public_url_must_be_an_http_address(url: str) -> None:
    """GEOPLAN_PUBLIC_URL must be an absolute http(s) URL without query."""
    with pytest.raises(ValueError, match="public_url"):
        Settings(public_url=url)  # type: ignore[call-arg]


def test_trusted_hosts_come_from_a_comma_separated_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GEOPLAN_TRUSTED_HOSTS is a comma-separated list; the public URL's host is accepted too."""
    monkeypatch.setenv("GEOPLAN_TRUSTED_HOSTS", "geoplan.lan, 10.0.0.5,[::1]")
    monkeypatch.setenv("GEOPLAN_PUBLIC_URL", "https://Maps.Example.org:8443/geoplan")
    settings = Settings()  # type: ignore[call-arg]
    assert settings.trusted_hosts == ("geoplan.lan", "10.0.0.5", "::1")
    assert settings.accepted_hosts() == {"geoplan.lan", "10.0.0.5", "::1", "maps.example.org"}
    default = Settings.model_fields["trusted_hosts"].default
    assert default == ("127.0.0.1", "localhost", "::1")


# --- headers --------------------------------------------------------------------------------


def _assert_secured(response: httpx.Response, what: str) -> None:
    assert response.headers.get("x-content-type-options") == "nosniff", what
    assert response.headers.get("referrer-policy") == "no-referrer", what
    assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", ""), what


def test_every_keyed_answer_is_no_store_and_nosniff(client: TestClient, ws: Workspace) -> None:
    """Every route and method, called with an admin key (successes, 404s, 422s alike), answers
    with no-store, nosniff, no-referrer and frame-ancestors 'none'."""
    checked = 0
    for method, path in sorted(route_roles()):
        url = path
        for placeholder, value in _PLACEHOLDERS.items():
            url = url.replace(placeholder, value)
        body: dict[str, object] | None = {} if method in ("POST", "PUT", "PATCH") else None
        response = client.request(method, url, headers=ws.headers("admin"), json=body)
        what = f"{method} {url} -> {response.status_code}"
        _assert_secured(response, what)
        assert response.headers.get("cache-control") == "no-store", what
        checked += 1
    assert checked == len(route_roles()) > 30


def test_refusals_and_open_routes_are_secured_too(client: TestClient, ws: Workspace) -> None:
    """401, 403 and 404 answers and the open routes carry the same headers."""
    answers = [
        client.get("/collections"),
        client.post(GP_ITEMS, json={}, headers=ws.headers("viewer")),
        client.get("/no/such/route", headers=ws.headers("admin")),
        client.get("/health"),
        client.get("/openapi.json"),
        client.get("/docs"),
    ]
    for response in answers:
        _assert_secured(response, f"{response.request.url} -> {response.status_code}")
        assert response.headers["cache-control"] == "no-store"
    assert answers[0].headers["content-security-policy"] == API_POLICY


def test_docs_assets_may_be_cached_unless_a_key_was_sent(client: TestClient, ws: Workspace) -> None:
    """The vendored assets (no key needed) keep their long cache; with a key, no-store."""
    asset = "/docs/assets/swagger-ui.css"
    plain = client.get(asset)
    _assert_secured(plain, asset)
    assert "immutable" in plain.headers["cache-control"]
    assert client.get(asset, headers=ws.headers("viewer")).headers["cache-control"] == "no-store"


def test_html_pages_get_a_policy_of_hashed_scripts(client: TestClient, ws: Workspace) -> None:
    """Maps and /docs: script-src lists hashes and 'self', never 'unsafe-inline'; frame-ancestors
    'none'; only the maps, whose measuring tool compiles templates, get 'unsafe-eval'."""
    map_page = client.get("/maps/layers.html?tiles=false", headers=ws.headers("planner"))
    docs = client.get("/docs")
    for page in (map_page, docs):
        assert page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script_src
        assert "'sha256-" in script_src
        assert "frame-ancestors 'none'" in policy
        assert page.headers["cache-control"] == "no-store"
    assert EVAL in map_page.headers["content-security-policy"]
    assert EVAL not in docs.headers["content-security-policy"]


def test_page_policy_hashes_inline_scripts_only() -> None:
    """Each inline script is named by the SHA-256 of its text (line ends as browsers read
    them); scripts with src and JSON data blocks are not listed; a page without scripts gets
    none."""
    script = "var a = 1;\nconsole.log(a);"
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    html = (
        f"<html><script>{script.replace(chr(10), chr(13) + chr(10))}</script>"
        '<script src="/x.js"></script><script type="application/json">{"b": 2}</script></html>'
    )
    policy = page_policy(html.encode())
    assert policy.count("'sha256-") == 1
    assert f"'sha256-{digest}'" in policy
    assert "'sha256-" not in page_policy(b"<p>no scripts</p>")
    assert EVAL not in policy
