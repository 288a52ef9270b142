"""OGC API - Features Part 1 as real clients (GDAL, QGIS, OWSLib) use it: the requirements of
issue 21, one assertion each."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
import shapely

from geoplan.edits import Edit, create_feature
from tests.api_fixtures import TestClient, Workspace, build_workspace, client_for

ZONES = "/collections/no_go_zones"
VISITS = "/collections/outreach_visits"
GP = "/collections/gathering_points"
CLOSED = {"id": "NGZ-01", "name": "Port road", "reason": "clashes"}
OPEN = {"id": "NGZ-02", "name": "Market", "reason": "raids"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The small workspace, with a zone closed 29 Nov-27 Dec and one still closed."""
    ws = build_workspace(tmp_path_factory.mktemp("ogc-template"))
    square = shapely.box(13.2, 32.85, 13.25, 32.9)
    store = ws.store
    dates = {"valid_from": dt.date(2026, 11, 29), "valid_to": dt.date(2026, 12, 27)}
    create_feature(store, "no_go_zones", Edit({**CLOSED, **dates}, square))
    since = {"valid_from": dt.date(2027, 1, 10)}
    create_feature(store, "no_go_zones", Edit({**OPEN, **since}, square))
    return ws


def _ids(client: TestClient, ws: Workspace, path: str, when: str) -> list[str]:
    response = client.get(f"{path}/items", params={"datetime": when}, headers=ws.headers("admin"))
    assert response.status_code == 200, response.text
    return [f["id"] for f in response.json()["features"]]


# --- datetime -----------------------------------------------------------------------------


def test_a_zone_is_found_on_a_day_inside_its_validity(client: TestClient, ws: Workspace) -> None:
    """A zone closed 29 Nov-27 Dec is found on 10 Dec (the overlap, not valid_from alone)."""
    assert _ids(client, ws, ZONES, "2026-12-10") == ["NGZ-01"]


def test_a_zone_is_found_on_its_last_day(client: TestClient, ws: Workspace) -> None:
    """valid_to is included."""
    assert _ids(client, ws, ZONES, "2026-12-27") == ["NGZ-01"]


def test_a_zone_is_not_found_after_its_last_day(client: TestClient, ws: Workspace) -> None:
    """The day after valid_to finds no closed zone."""
    assert _ids(client, ws, ZONES, "2026-12-28") == []


def test_a_zone_without_end_is_still_valid(client: TestClient, ws: Workspace) -> None:
    """An empty valid_to means still valid, years later."""
    assert _ids(client, ws, ZONES, "2030-01-01T12:00:00Z") == ["NGZ-02"]


def test_an_interval_overlapping_two_zones_finds_both(client: TestClient, ws: Workspace) -> None:
    """An interval finds every zone valid on one of its days."""
    assert _ids(client, ws, ZONES, "2026-12-20/2027-01-10") == ["NGZ-01", "NGZ-02"]


def test_an_open_interval_finds_zones_valid_before(client: TestClient, ws: Workspace) -> None:
    """../END finds zones that start on or before END."""
    assert _ids(client, ws, ZONES, "../2026-11-29") == ["NGZ-01"]


def test_visits_are_selected_by_their_date(client: TestClient, ws: Workspace) -> None:
    """A visit is found on its day."""
    assert _ids(client, ws, VISITS, "2026-10-05") == ["V-2"]


def test_a_month_interval_ending_on_the_31st_is_accepted(client: TestClient, ws: Workspace) -> None:
    """The README's datetime=2026-03-01/2026-03-31 is a valid interval."""
    assert _ids(client, ws, VISITS, "2026-10-01/2026-10-31") == ["V-1", "V-2"]


def test_a_day_with_a_trailing_t_is_that_whole_day(client: TestClient, ws: Workspace) -> None:
    """GDAL's datetime=2026-10-04T (for date = '2026-10-04') is the whole day."""
    assert _ids(client, ws, VISITS, "2026-10-04T") == ["V-1"]


def test_a_layer_without_time_keeps_every_feature(client: TestClient, ws: Workspace) -> None:
    """datetime on gathering points (no time) keeps every feature."""
    assert _ids(client, ws, GP, "2026-10-04") == ["GP-1", "GP-2", "GP-3"]


def test_every_collection_takes_datetime(client: TestClient) -> None:
    """Every items operation in the OpenAPI has the datetime parameter."""
    paths = client.get("/openapi.json").json()["paths"]
    items = [p for p in paths if p.endswith("/items")]
    missing = [
        p for p in items if "datetime" not in [q["name"] for q in paths[p]["get"]["parameters"]]
    ]
    assert missing == []


def test_the_datetime_pattern_takes_a_trailing_t(client: TestClient) -> None:
    """The schema's pattern describes what is accepted: a bare trailing T too."""
    params = client.get("/openapi.json").json()["paths"][f"{VISITS}/items"]["get"]["parameters"]
    datetime = next(q for q in params if q["name"] == "datetime")
    pattern = next(s["pattern"] for s in datetime["schema"]["anyOf"] if "pattern" in s)
    assert re.fullmatch(pattern, "2026-09-28T")


def test_the_datetime_description_states_the_trailing_t(client: TestClient) -> None:
    """The OpenAPI description says a bare trailing T is the whole day."""
    params = client.get("/openapi.json").json()["paths"][f"{VISITS}/items"]["get"]["parameters"]
    datetime = next(q for q in params if q["name"] == "datetime")
    assert "bare `T`" in datetime["description"]


def test_the_temporal_extent_covers_validity_intervals(client: TestClient, ws: Workspace) -> None:
    """The zones' extent runs from the first valid_from and stays open (a zone still closed)."""
    body = client.get(ZONES, headers=ws.headers("admin")).json()
    assert body["extent"]["temporal"]["interval"] == [["2026-11-29T00:00:00Z", None]]


def test_the_temporal_extent_is_in_rfc3339_date_times(client: TestClient, ws: Workspace) -> None:
    """The visits' extent runs from the first day's start to the last day's end."""
    body = client.get(VISITS, headers=ws.headers("admin")).json()
    assert body["extent"]["temporal"]["interval"] == [
        ["2026-10-04T00:00:00Z", "2026-10-05T23:59:59Z"]
    ]


# --- 400 for invalid or unknown parameters ------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["foo=1", "bbox-crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84", "limit=0", "bbox=abc"],
)
def test_bad_item_parameters_are_400_problems(
    client: TestClient, ws: Workspace, query: str
) -> None:
    """Invalid or unknown item parameters are 400 with a problem+json body."""
    response = client.get(f"{GP}/items?{query}", headers=ws.headers("viewer"))
    assert (response.status_code, response.headers["content-type"]) == (
        400,
        "application/problem+json",
    )


@pytest.mark.parametrize("path", ["/", "/conformance", "/collections", GP, f"{GP}/items/GP-1"])
def test_every_ogc_read_refuses_unknown_parameters(
    client: TestClient, ws: Workspace, path: str
) -> None:
    """The landing page, conformance, collections, a collection and an item refuse foo=1."""
    response = client.get(path, params={"foo": "1"}, headers=ws.headers("viewer"))
    assert response.status_code == 400


def test_the_400_names_the_unknown_parameter(client: TestClient, ws: Workspace) -> None:
    """The problem's errors name the parameter."""
    body = client.get("/collections?foo=1", headers=ws.headers("viewer")).json()
    assert [e["field"] for e in body["errors"]] == ["query.foo"]


def test_f_json_is_still_taken(client: TestClient, ws: Workspace) -> None:
    """f=json, which clients send, is not refused on the landing page."""
    assert client.get("/?f=json", headers=ws.headers("viewer")).status_code == 200


def test_bad_queries_elsewhere_stay_422(client: TestClient, ws: Workspace) -> None:
    """Outside the OGC reads, a bad query stays 422 (the API's rule for invalid input)."""
    response = client.post(f"{GP}/import?report=pdf", headers=ws.headers("admin"))
    assert response.status_code == 422


# --- metadata -----------------------------------------------------------------------------


def _nulls(value: object, path: str = "") -> list[str]:
    """Where a JSON document has a member whose value is null (list items not counted)."""
    if isinstance(value, dict):
        here = [f"{path}.{k}" for k, v in value.items() if v is None]
        return here + [n for k, v in value.items() for n in _nulls(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [n for i, v in enumerate(value) for n in _nulls(v, f"{path}[{i}]")]
    return []


def test_collections_have_no_null_members(client: TestClient, ws: Workspace) -> None:
    """No extent, spatial, temporal or link title is null in /collections."""
    assert _nulls(client.get("/collections", headers=ws.headers("admin")).json()) == []


def test_the_landing_page_has_no_null_members(client: TestClient, ws: Workspace) -> None:
    """No link on the landing page has a null title."""
    assert _nulls(client.get("/", headers=ws.headers("viewer")).json()) == []


def test_an_undated_collection_has_no_temporal_member(client: TestClient, ws: Workspace) -> None:
    """Gathering points have no time: their extent has no temporal member at all."""
    body = client.get(GP, headers=ws.headers("admin")).json()
    assert "temporal" not in body["extent"]


def test_the_service_desc_link_is_the_one_owslib_follows(client: TestClient, ws: Workspace) -> None:
    """The service-desc link's type is the OpenAPI 3.0 media type."""
    links = client.get("/", headers=ws.headers("viewer")).json()["links"]
    desc = next(x for x in links if x["rel"] == "service-desc")
    assert desc["type"] == "application/vnd.oai.openapi+json;version=3.0"


def _limit(client: TestClient) -> dict[str, object]:
    params = client.get("/openapi.json").json()["paths"][f"{GP}/items"]["get"]["parameters"]
    return next(q["schema"] for q in params if q["name"] == "limit")


def test_limit_has_a_default_in_the_openapi(client: TestClient) -> None:
    """limit states its default (100)."""
    assert _limit(client)["default"] == 100


def test_limit_has_a_maximum_in_the_openapi(client: TestClient) -> None:
    """limit states its maximum (10,000)."""
    assert _limit(client)["maximum"] == 10_000


def test_without_limit_a_page_has_the_default_size(ws: Workspace) -> None:
    """The server's GEOPLAN_PAGE_LIMIT_DEFAULT still sizes a page when limit is not sent."""
    body = client_for(ws, page_limit_default=2).get(f"{GP}/items", headers=ws.headers("admin"))
    assert body.json()["numberReturned"] == 2


def test_head_on_items_answers_like_get_without_body(client: TestClient, ws: Workspace) -> None:
    """HEAD on items is 200 with GeoJSON headers and no body."""
    response = client.head(f"{GP}/items", headers=ws.headers("viewer"))
    assert (response.status_code, response.headers["content-type"], response.content) == (
        200,
        "application/geo+json",
        b"",
    )


def test_head_on_an_item_answers_like_get(client: TestClient, ws: Workspace) -> None:
    """HEAD on one item is 200 with its ETag (as GET gives it)."""
    response = client.head(f"{GP}/items/GP-1", headers=ws.headers("planner"))
    get = client.get(f"{GP}/items/GP-1", headers=ws.headers("planner"))
    assert response.headers["etag"] == get.headers["etag"]


def test_head_on_a_missing_item_is_404(client: TestClient, ws: Workspace) -> None:
    """HEAD on an item that does not exist is 404, as GET."""
    assert client.head(f"{GP}/items/GP-404", headers=ws.headers("planner")).status_code == 404


# --- authentication QGIS 3.22 can use -----------------------------------------------------


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_basic_auth_with_the_key_as_password_is_let_in(client: TestClient, ws: Workspace) -> None:
    """HTTP Basic with any user name and the key as password reads the collections."""
    response = client.get("/collections", headers=_basic("qgis", ws.keys["viewer"]))
    assert response.status_code == 200


def test_a_bearer_key_is_let_in(client: TestClient, ws: Workspace) -> None:
    """Authorization: Bearer <key> reads the collections."""
    headers = {"Authorization": f"Bearer {ws.keys['viewer']}"}
    assert client.get("/collections", headers=headers).status_code == 200


def test_basic_auth_keeps_the_role_checks(client: TestClient, ws: Workspace) -> None:
    """A viewer's key by Basic may not add a feature (403), as by X-API-Key."""
    response = client.post(f"{GP}/items", json={}, headers=_basic("any", ws.keys["viewer"]))
    assert response.status_code == 403


def test_a_wrong_basic_password_is_challenged_for_basic(client: TestClient) -> None:
    """A wrong key by Basic is 401 with WWW-Authenticate: Basic realm="geoplan"."""
    response = client.get("/collections", headers=_basic("qgis", "gpk_wrong"))
    assert (response.status_code, response.headers["www-authenticate"]) == (
        401,
        'Basic realm="geoplan"',
    )


def test_a_wrong_header_key_is_not_challenged_for_basic(client: TestClient) -> None:
    """A wrong X-API-Key is 401 without a Basic challenge (no browser prompt)."""
    response = client.get("/collections", headers={"X-API-Key": "gpk_wrong"})
    assert "Basic" not in response.headers["www-authenticate"]


def test_a_wrong_bearer_key_is_401(client: TestClient) -> None:
    """A wrong Bearer key is 401."""
    response = client.get("/collections", headers={"Authorization": "Bearer gpk_wrong"})
    assert response.status_code == 401


def test_basic_responses_are_not_stored(client: TestClient, ws: Workspace) -> None:
    """An answer to a Basic-authenticated request is never cached (as for X-API-Key)."""
    response = client.get(f"{GP}/items", headers=_basic("qgis", ws.keys["viewer"]))
    assert response.headers["cache-control"] == "no-store"


def test_the_openapi_is_served_under_the_service_desc_type(client: TestClient) -> None:
    """Asked for by the service-desc type, /openapi.json answers with that type."""
    accept = {"Accept": "application/vnd.oai.openapi+json;version=3.0"}
    response = client.get("/openapi.json", headers=accept)
    assert response.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"


def test_the_openapi_is_still_json_by_default(client: TestClient) -> None:
    """Without that Accept, /openapi.json stays application/json."""
    assert client.get("/openapi.json").headers["content-type"] == "application/json"
