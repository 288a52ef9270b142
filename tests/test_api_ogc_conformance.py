"""OGC API - Features - Part 1: Core (OGC 17-069r4), the requirements of the two conformance
classes the API declares, Core and GeoJSON, walked one assertion each.

Each test is named after its requirement (``/req/core/fc-bbox-response`` is
``test_req_core_fc_bbox_response``) and its docstring quotes what the requirement asks. The
workspace is the small API one plus two no-go zones with validity intervals; features are
checked against geojson-pydantic's GeoJSON models, not the API's own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
import shapely
from geojson_pydantic import Feature, FeatureCollection

from geoplan.catalog import load_catalog
from geoplan.edits import Edit, create_feature
from tests.api_fixtures import TestClient, Workspace, build_workspace, live_server

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
GEOJSON_CLASS = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
GEOJSON = "application/geo+json"
GP = "/collections/gathering_points"
ZONES = "/collections/no_go_zones"
LAYERS = tuple(load_catalog())


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The small workspace (3 gathering points) with a zone closed 29 Nov-27 Dec 2026 and one
    closed from 10 Jan 2027 on."""
    ws = build_workspace(tmp_path_factory.mktemp("conformance"))
    store = ws.store
    closed = {"id": "NGZ-01", "name": "Port road", "reason": "clashes"}
    dates = {"valid_from": dt.date(2026, 11, 29), "valid_to": dt.date(2026, 12, 27)}
    create_feature(
        store, "no_go_zones", Edit({**closed, **dates}, shapely.box(13.2, 32.85, 13.25, 32.9))
    )
    later = {
        "id": "NGZ-02",
        "name": "Market",
        "reason": "raids",
        "valid_from": dt.date(2027, 1, 10),
    }
    create_feature(store, "no_go_zones", Edit(later, shapely.box(13.0, 32.7, 13.05, 32.75)))
    return ws


@pytest.fixture
def get(client: TestClient, ws: Workspace) -> Any:
    """GET with a planner's key."""

    def answer(path: str, **params: str) -> httpx.Response:
        return client.get(path, params=params, headers=ws.headers("planner"))

    return answer


def _rels(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {link["rel"]: link for link in body["links"]}


def _items_parameters(client: TestClient, path: str = f"{GP}/items") -> dict[str, Any]:
    operation = client.get("/api").json()["paths"][path]["get"]
    return {p["name"]: p for p in operation["parameters"]}


# --- API landing page, definition, conformance --------------------------------------------


def test_req_core_root_op(get: Any) -> None:
    """/req/core/root-op: the server supports GET at the landing page path /."""
    assert get("/").status_code == 200


def test_req_core_root_success(get: Any) -> None:
    """/req/core/root-success: the landing page links the API definition (service-desc), the
    conformance declaration (conformance) and the collections (data)."""
    assert {"service-desc", "conformance", "data"} <= set(_rels(get("/").json()))


def test_req_core_api_definition_op(get: Any) -> None:
    """/req/core/api-definition-op: GET on the service-desc URL is supported."""
    assert get(_rels(get("/").json())["service-desc"]["href"]).status_code == 200


def test_req_core_api_definition_success(get: Any) -> None:
    """/req/core/api-definition-success: the answer is the API definition, in the media type
    the link names."""
    desc = _rels(get("/").json())["service-desc"]
    response = get(desc["href"])
    assert (response.headers["content-type"], "paths" in response.json()) == (desc["type"], True)


def test_req_core_conformance_op(get: Any) -> None:
    """/req/core/conformance-op: GET /conformance is supported."""
    assert get("/conformance").status_code == 200


def test_req_core_conformance_success(get: Any) -> None:
    """/req/core/conformance-success: conformsTo lists the classes, Core and GeoJSON here."""
    assert {CORE, GEOJSON_CLASS} <= set(get("/conformance").json()["conformsTo"])


def test_req_core_http(ws: Workspace) -> None:
    """/req/core/http: the server conforms to HTTP 1.1 (a real uvicorn on loopback)."""
    with live_server(ws) as url:
        response = httpx.get(f"{url}/conformance", headers=ws.headers("planner"))
    assert (response.http_version, response.status_code) == ("HTTP/1.1", 200)


def test_req_core_query_param_unknown(get: Any) -> None:
    """/req/core/query-param-unknown: an unspecified query parameter is answered 400."""
    assert get(f"{GP}/items", foo="1").status_code == 400


def test_req_core_query_param_invalid(get: Any) -> None:
    """/req/core/query-param-invalid: an invalid value of a parameter is answered 400."""
    assert get(f"{GP}/items", limit="0").status_code == 400


# --- collections --------------------------------------------------------------------------


def test_req_core_fc_md_op(get: Any) -> None:
    """/req/core/fc-md-op: GET /collections is supported."""
    assert get("/collections").status_code == 200


def test_req_core_fc_md_success(get: Any) -> None:
    """/req/core/fc-md-success: the answer has links and a collections array."""
    body = get("/collections").json()
    assert (type(body["links"]), type(body["collections"])) == (list, list)


def test_req_core_fc_md_links(get: Any) -> None:
    """/req/core/fc-md-links: a self link to /collections."""
    assert _rels(get("/collections").json())["self"]["href"].endswith("/collections")


def test_req_core_fc_md_items(get: Any) -> None:
    """/req/core/fc-md-items: one collection per feature collection the server offers."""
    assert sorted(c["id"] for c in get("/collections").json()["collections"]) == sorted(LAYERS)


def test_req_core_fc_md_items_links(get: Any) -> None:
    """/req/core/fc-md-items-links: each collection links its items (rel items)."""
    collections = get("/collections").json()["collections"]
    assert all(_rels(c)["items"]["href"].endswith(f"/{c['id']}/items") for c in collections)


def test_req_core_fc_md_extent(get: Any) -> None:
    """/req/core/fc-md-extent: the spatial extent is a bbox in CRS84 and the temporal one an
    interval of RFC 3339 times, here covering both zones' validity (the last one open)."""
    extent = get(ZONES).json()["extent"]
    assert extent["spatial"]["bbox"] == [[13.0, 32.7, 13.25, 32.9]]
    assert extent["temporal"]["interval"] == [["2026-11-29T00:00:00Z", None]]


def test_req_core_sfc_md_op(get: Any) -> None:
    """/req/core/sfc-md-op: GET /collections/{collectionId} is supported."""
    assert get(GP).status_code == 200


def test_req_core_sfc_md_success(get: Any) -> None:
    """/req/core/sfc-md-success: the collection is described as in /collections."""
    listed = next(
        c for c in get("/collections").json()["collections"] if c["id"] == "gathering_points"
    )
    assert get(GP).json() == listed


# --- features -----------------------------------------------------------------------------


def test_req_core_fc_op(get: Any) -> None:
    """/req/core/fc-op: GET /collections/{collectionId}/items is supported."""
    assert get(f"{GP}/items").status_code == 200


def test_req_core_fc_limit_definition(client: TestClient) -> None:
    """/req/core/fc-limit-definition: limit is an integer query parameter with a minimum of 1,
    a maximum and a default, in form style without explode."""
    limit = _items_parameters(client)["limit"]
    schema = limit["schema"]
    assert (limit["in"], schema["type"], schema["minimum"]) == ("query", "integer", 1)
    assert schema["maximum"] >= schema["default"] >= 1


def test_req_core_fc_limit_response_1(get: Any) -> None:
    """/req/core/fc-limit-response-1: no more features than limit."""
    body = get(f"{GP}/items", limit="2").json()
    assert len(body["features"]) == 2


def test_req_core_fc_bbox_definition(client: TestClient) -> None:
    """/req/core/fc-bbox-definition: bbox is an optional query parameter."""
    bbox = _items_parameters(client)["bbox"]
    assert (bbox["in"], bbox["required"]) == ("query", False)


def test_req_core_fc_bbox_response(get: Any) -> None:
    """/req/core/fc-bbox-response: only features whose geometry intersects the bbox (GP-2 at
    13.25,32.85 and GP-3 at 13.30,32.86, not GP-1 at 13.18,32.88)."""
    found = get(f"{GP}/items", bbox="13.2,32.8,13.35,32.87").json()["features"]
    assert sorted(f["id"] for f in found) == ["GP-2", "GP-3"]


def test_req_core_fc_time_definition(client: TestClient) -> None:
    """/req/core/fc-time-definition: datetime is an optional string query parameter, on every
    collection."""
    params = [_items_parameters(client, f"/collections/{layer}/items") for layer in LAYERS]
    assert all(p["datetime"]["schema"]["type"] == "string" for p in params)


def test_req_core_fc_time_response(get: Any) -> None:
    """/req/core/fc-time-response: only features whose time intersects datetime: on 10 Dec
    2026 the zone valid 29 Nov-27 Dec, not the one from 10 Jan 2027."""
    found = get(f"{ZONES}/items", datetime="2026-12-10T09:00:00Z").json()["features"]
    assert [f["id"] for f in found] == ["NGZ-01"]


def test_req_core_fc_response(get: Any) -> None:
    """/req/core/fc-response: 200 and a feature collection."""
    response = get(f"{GP}/items")
    assert (response.status_code, response.json()["type"]) == (200, "FeatureCollection")


def test_req_core_fc_links(get: Any) -> None:
    """/req/core/fc-links: a self link, and a next link while there are more features."""
    rels = _rels(get(f"{GP}/items", limit="1").json())
    assert ("self" in rels, "offset=1" in rels["next"]["href"]) == (True, True)


def test_req_core_fc_rel_type(get: Any) -> None:
    """/req/core/fc-rel-type: the links use the registered relation types."""
    body = get(f"{GP}/items", limit="1", offset="1").json()
    assert {link["rel"] for link in body["links"]} <= {
        "self",
        "next",
        "prev",
        "collection",
        "alternate",
    }


def test_req_core_fc_timestamp(get: Any) -> None:
    """/req/core/fc-timeStamp: timeStamp is the time the answer was made (UTC, within a
    minute of now)."""
    stamp = dt.datetime.fromisoformat(get(f"{GP}/items").json()["timeStamp"])
    assert abs(dt.datetime.now(dt.UTC) - stamp) < dt.timedelta(minutes=1)


def test_req_core_fc_numbermatched(get: Any) -> None:
    """/req/core/fc-numberMatched: the number of features matching the selection (all pages)."""
    assert get(f"{GP}/items", limit="1").json()["numberMatched"] == 3


def test_req_core_fc_numberreturned(get: Any) -> None:
    """/req/core/fc-numberReturned: the number of features in this answer."""
    body = get(f"{GP}/items", limit="2").json()
    assert body["numberReturned"] == len(body["features"]) == 2


def test_req_core_f_op(get: Any) -> None:
    """/req/core/f-op: GET /collections/{collectionId}/items/{featureId} is supported."""
    assert get(f"{GP}/items/GP-1").status_code == 200


def test_req_core_f_success(get: Any) -> None:
    """/req/core/f-success: the answer is that feature."""
    assert get(f"{GP}/items/GP-1").json()["id"] == "GP-1"


def test_req_core_f_links(get: Any) -> None:
    """/req/core/f-links: a self link and a link to the collection."""
    rels = _rels(get(f"{GP}/items/GP-1").json())
    ends = (
        rels["self"]["href"].endswith(f"{GP}/items/GP-1"),
        rels["collection"]["href"].endswith(GP),
    )
    assert ends == (True, True)


def test_req_core_crs84(get: Any) -> None:
    """/req/core/crs84: coordinates are CRS84 longitude, latitude (GP-1 is 13.18 E, 32.88 N)."""
    assert get(f"{GP}/items/GP-1").json()["geometry"]["coordinates"] == [13.18, 32.88]


# --- GeoJSON ------------------------------------------------------------------------------


def test_req_geojson_definition(get: Any) -> None:
    """/req/geojson/definition: items and an item are answered as application/geo+json."""
    types = {get(path).headers["content-type"] for path in (f"{GP}/items", f"{GP}/items/GP-1")}
    assert types == {GEOJSON}


def test_req_geojson_content(get: Any) -> None:
    """/req/geojson/content: the answers are a GeoJSON FeatureCollection and Feature, as
    geojson-pydantic reads them (polygons and points)."""
    FeatureCollection.model_validate(get(f"{ZONES}/items").json())
    Feature.model_validate(get(f"{GP}/items/GP-1").json())
    assert FeatureCollection.model_validate(get(f"{GP}/items").json()).features
