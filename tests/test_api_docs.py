"""api/routes/docs.py: /docs is Swagger UI loaded from this server's own, pinned assets."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from api.routes.docs import ASSETS, MEDIA, SWAGGER_UI
from tests.api_fixtures import TestClient, Workspace, build_workspace, client_for

_URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    ws: Workspace = build_workspace(tmp_path_factory.mktemp("api-docs"))
    with client_for(ws) as client:
        yield client


def test_docs_reference_only_the_servers_own_assets(client: TestClient) -> None:
    """The /docs page names no http(s) or protocol-relative URL: its script, style sheet, icon
    and OpenAPI document are paths on this server, the assets pinned by version."""
    page = client.get("/docs")
    assert page.status_code == 200
    assert _URL.findall(page.text) == []
    sources = re.findall(r"""(?:src|href)="([^"]+)\"""", page.text)
    assert sorted(sources) == sorted(f"/docs/assets/{name}?v={SWAGGER_UI}" for name in MEDIA)
    assert "url: '/openapi.json'" in page.text
    assert '"validatorUrl": null' in page.text


def test_the_asset_route_serves_the_vendored_files(client: TestClient) -> None:
    """Each asset comes back byte for byte with its media type; other names get 404."""
    for name, media in MEDIA.items():
        response = client.get(f"/docs/assets/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"] == media
        assert response.content == (ASSETS / name).read_bytes()
    for name in ("LICENSE", "..%2Fsettings.py", "swagger-ui.js"):
        assert client.get(f"/docs/assets/{name}").status_code == 404


def test_the_vendored_version_is_the_one_named(client: TestClient) -> None:
    """The folder, the bundle's own version string and the licence files agree."""
    assert ASSETS.name == f"swagger-ui-{SWAGGER_UI}"
    assert {"LICENSE", "NOTICE"} <= {p.name for p in ASSETS.iterdir()}
    assert f'"{SWAGGER_UI}"' in (ASSETS / "swagger-ui-bundle.js").read_text(encoding="utf-8")


def test_docs_follow_the_root_path(client: TestClient) -> None:
    """Behind a proxy's root path, the page's assets and OpenAPI URL are under it."""
    proxied = TestClient(client.app, root_path="/geoplan")
    text = proxied.get("/geoplan/docs").text
    assert f"/geoplan/docs/assets/swagger-ui-bundle.js?v={SWAGGER_UI}" in text
    assert "url: '/geoplan/openapi.json'" in text
