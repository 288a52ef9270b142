"""Layers over HTTP the OGC API - Features way: reads, paging, filters, protected positions,
edits with ETags, and whole-file uploads; bodies checked against their response models."""

from __future__ import annotations

import io
import re
from typing import Any

import h3
import httpx
import pytest

from api.models import (
    Collection,
    Collections,
    Conformance,
    ImportReport,
    LandingPage,
    Problem,
    collection_out,
    feature_out,
    generalised_feature_out,
)
from api.ogc import CONFORMANCE
from geoplan.protect import cell_centre
from tests.api_fixtures import (
    DC_POINT,
    FIXTURES,
    TestClient,
    Workspace,
    client_for,
)
from tests.conftest import STORE_KINDS

GP = "/collections/gathering_points"


@pytest.fixture(scope="module", params=STORE_KINDS)
def api_store_kind(request: pytest.FixtureRequest) -> str:
    """Every test here runs on a GeoPackage and on a PostGIS workspace."""
    return str(request.param)


VISITS = "/collections/outreach_visits"
NEW_GP = {
    "type": "Feature",
    "id": "GP-9",
    "geometry": {"type": "Point", "coordinates": [13.1, 32.9]},
    "properties": {"name": "Camp west", "setting": "camp", "people": 5},
}
NEW_VISIT: dict[str, Any] = {
    "type": "Feature",
    "id": "V-9",
    "geometry": None,
    "properties": {
        "site_id": "GP-1",
        "date": "2026-01-10",
        "team_id": "T-MED",
        "services": ["health"],
    },
}


def _problem(response: httpx.Response, status: int) -> Problem:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return Problem.model_validate(response.json())


# --- landing page, conformance, collections -------------------------------------------------


def test_landing_page_links_the_api(client: TestClient, ws: Workspace) -> None:
    """The landing page links the OpenAPI document, the docs, conformance and the layers."""
    page = LandingPage.model_validate(client.get("/", headers=ws.headers("viewer")).json())
    rels = {link.rel: link.href for link in page.links}
    assert rels["service-desc"].endswith("/openapi.json")
    assert rels["data"].endswith("/collections")
    assert {"self", "service-doc", "conformance"} <= set(rels)


def test_conformance_lists_core_and_geojson(client: TestClient, ws: Workspace) -> None:
    """Conformance names OGC API - Features Part 1 core and GeoJSON."""
    body = Conformance.model_validate(
        client.get("/conformance", headers=ws.headers("viewer")).json()
    )
    assert body.conformsTo == list(CONFORMANCE)


def test_collections_list_every_layer_with_extents(client: TestClient, ws: Workspace) -> None:
    """Every catalog layer is a collection; extents come from the rows, dates for visits."""
    body = Collections.model_validate(
        client.get("/collections", headers=ws.headers("planner")).json()
    )
    by_id = {c.id: c for c in body.collections}
    assert {"gathering_points", "outreach_visits", "detention_centres", "clinics"} <= set(by_id)
    extent = by_id["gathering_points"].extent
    assert extent is not None
    assert extent.spatial is not None
    assert extent.spatial.bbox == [[13.18, 32.85, 13.3, 32.88]]
    visits = by_id["outreach_visits"].extent
    assert visits is not None
    assert visits.temporal is not None
    assert visits.temporal.interval == [["2026-10-04T00:00:00Z", "2026-10-05T23:59:59Z"]]
    assert not by_id["gathering_points"].generalised


def test_collection_tells_a_viewer_positions_are_generalised(
    client: TestClient, ws: Workspace
) -> None:
    """A viewer's collection says generalised, with an extent of cell centres, not sites."""
    body = Collection.model_validate(client.get(GP, headers=ws.headers("viewer")).json())
    assert body.generalised
    assert body.extent is not None
    assert body.extent.spatial is not None
    assert body.extent.spatial.bbox != [[13.18, 32.85, 13.3, 32.88]]
    assert any(link.rel == "items" for link in body.links)


# --- items ----------------------------------------------------------------------------------


def test_items_are_geojson_with_counts(client: TestClient, ws: Workspace) -> None:
    """Items come as a GeoJSON FeatureCollection with numberMatched/numberReturned."""
    response = client.get(f"{GP}/items", headers=ws.headers("planner"))
    assert response.headers["content-type"] == "application/geo+json"
    collection_out("gathering_points").model_validate(response.json())
    assert (response.json()["numberMatched"], response.json()["numberReturned"]) == (3, 3)
    first = response.json()["features"][0]
    assert first["id"] == "GP-1"
    assert first["geometry"] == {"type": "Point", "coordinates": [13.18, 32.88]}
    assert first["properties"]["services_needed"] == ["health", "mhpss"]


def test_paging_links_walk_every_feature(client: TestClient, ws: Workspace) -> None:
    """limit/offset pages carry next and prev links that together return every feature once."""
    url, seen = f"{GP}/items?limit=2", []
    while url:
        body = client.get(url, headers=ws.headers("planner")).json()
        collection_out("gathering_points").model_validate(body)
        seen += [f["id"] for f in body["features"]]
        links = {link["rel"]: link["href"] for link in body["links"]}
        url = links.get("next", "").replace("http://testserver", "")
    assert seen == ["GP-1", "GP-2", "GP-3"]
    assert "prev" in links
    assert "offset=0" in links["prev"]


def test_limit_is_capped(ws: Workspace) -> None:
    """A limit above the maximum is answered with the maximum, not an error."""
    client = client_for(ws, page_limit_max=2)
    body = client.get(f"{GP}/items?limit=500", headers=ws.headers("planner")).json()
    assert (body["numberMatched"], body["numberReturned"]) == (3, 2)


def test_bbox_and_attribute_filters(client: TestClient, ws: Workspace) -> None:
    """bbox keeps features inside it; attribute parameters keep equal values or list members."""
    key = ws.headers("planner")
    inside = client.get(f"{GP}/items?bbox=13.2,32.8,13.4,32.9", headers=key).json()
    assert [f["id"] for f in inside["features"]] == ["GP-2", "GP-3"]
    mhpss = client.get(f"{GP}/items?services_needed=mhpss", headers=key).json()
    assert [f["id"] for f in mhpss["features"]] == ["GP-1"]
    both = client.get(f"{GP}/items?setting=shelter&visit_frequency_days=7", headers=key).json()
    assert [f["id"] for f in both["features"]] == ["GP-3"]


def test_datetime_selects_visits_by_day(client: TestClient, ws: Workspace) -> None:
    """datetime takes a day, an interval and open ends, as OGC API defines it."""
    key = ws.headers("viewer")

    def ids(value: str) -> list[str]:
        body = client.get(f"{VISITS}/items", params={"datetime": value}, headers=key).json()
        return [f["id"] for f in body["features"]]

    assert ids("2026-10-04") == ["V-1"]
    assert ids("2026-10-05/..") == ["V-2"]
    assert ids("../2026-10-05T23:00:00Z") == ["V-1", "V-2"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("bbox=1,2,3", "query.bbox"),
        ("bbox=nan,32,14,33", "query.bbox"),
        ("bbox=.1E98,0,1,1", "query.bbox"),  # no exponents (found with schemathesis)
        ("bbox=0,2846,1,1", "query.bbox"),  # a latitude past the pole
        ("bbox=13,33,14,32", "query.bbox"),
        ("limit=0", "query.limit"),
        ("offset=-1", "query.offset"),
        ("setting=palace", "query.setting"),
        ("name=Souq", "query.name"),
        ("colour=red", "query.colour"),
        ("datetime=2026-02-30", "query.datetime"),  # no such day
        ("datetime=0000-00-00", "query.datetime"),  # found with schemathesis
        ("datetime=/", "query.datetime"),  # an interval with no end (found with schemathesis)
        ("people=9007199254740992", "query.people"),  # beyond the largest count
    ],
)
def test_bad_item_queries_name_the_parameter(
    client: TestClient, ws: Workspace, query: str, field: str
) -> None:
    """Invalid or unknown parameters (free text too) get 400, as OGC API - Features requires."""
    problem = _problem(client.get(f"{GP}/items?{query}", headers=ws.headers("viewer")), 400)
    assert problem.errors is not None
    assert field in [e.field for e in problem.errors]


def test_the_bbox_pattern_keeps_to_degrees(client: TestClient) -> None:
    """The OpenAPI's bbox pattern takes decimal degrees within range, so generated clients
    send real boxes (exponents and latitudes past the pole once passed it; found with
    schemathesis); only SOUTH above NORTH is left to the validator."""
    items = client.get("/openapi.json").json()["paths"][f"{GP}/items"]["get"]
    bbox = next(p for p in items["parameters"] if p["name"] == "bbox")
    pattern = bbox["schema"]["anyOf"][0]["pattern"]
    for good in ("12.9,32.6,13.6,33.0", "-180,-90,180,90", "13,32,0,14,33,100"):
        assert re.fullmatch(pattern, good), good
    for bad in (".1E98,0,1,1", "0,2846,1,1", "180.5,0,1,1", "0,0,1"):
        assert not re.fullmatch(pattern, bad), bad


def test_item_carries_an_etag(client: TestClient, ws: Workspace) -> None:
    """One item validates against the layer's feature model and has an ETag."""
    response = client.get(f"{GP}/items/GP-2", headers=ws.headers("planner"))
    feature_out("gathering_points").model_validate(response.json())
    assert response.headers["etag"].startswith('"')
    assert _problem(client.get(f"{GP}/items/GP-77", headers=ws.headers("planner")), 404)


# --- protected positions --------------------------------------------------------------------


def test_viewers_get_sensitive_sites_generalised(client: TestClient, ws: Workspace) -> None:
    """A viewer's detention centre sits at its coarse H3 cell's centre, without free text."""
    response = client.get("/collections/detention_centres/items", headers=ws.headers("viewer"))
    collection_out("detention_centres", viewer=True).model_validate(response.json())
    feature = response.json()["features"][0]
    cell = feature["properties"]["h3_cell"]
    assert h3.get_resolution(cell) == 7
    assert tuple(feature["geometry"]["coordinates"]) == cell_centre(cell) != DC_POINT
    assert not {"name", "notes", "access_reason", "authority"} & set(feature["properties"])
    assert "gate" not in response.text
    assert response.json()["numberReturned"] == 1
    one = client.get("/collections/detention_centres/items/DC-1", headers=ws.headers("viewer"))
    generalised_feature_out("detention_centres").model_validate(one.json())
    assert "etag" not in one.headers


def test_a_viewer_cannot_find_a_site_with_small_boxes(client: TestClient, ws: Workspace) -> None:
    """bbox works on generalised positions: a tiny box around the exact site finds nothing."""
    lon, lat = DC_POINT
    centre = cell_centre(h3.latlng_to_cell(lat, lon, 7))
    assert abs(centre[0] - lon) > 0.001 or abs(centre[1] - lat) > 0.001
    box = f"{lon - 0.0005},{lat - 0.0005},{lon + 0.0005},{lat + 0.0005}"
    url = f"/collections/detention_centres/items?bbox={box}"
    assert client.get(url, headers=ws.headers("viewer")).json()["numberMatched"] == 0
    assert client.get(url, headers=ws.headers("planner")).json()["numberMatched"] == 1


def test_planners_see_exact_positions(client: TestClient, ws: Workspace) -> None:
    """Planners read sensitive sites exactly, with every property."""
    response = client.get(
        "/collections/detention_centres/items/DC-1", headers=ws.headers("planner")
    )
    body = response.json()
    assert tuple(body["geometry"]["coordinates"]) == DC_POINT
    assert body["properties"]["notes"] == "gate on the north side"


# --- edits ----------------------------------------------------------------------------------


def test_create_returns_the_feature_with_location_and_etag(
    client: TestClient, ws: Workspace
) -> None:
    """POST adds a feature (defaults filled) and answers 201 with Location and ETag."""
    response = client.post(f"{GP}/items", json=NEW_GP, headers=ws.headers("admin"))
    assert response.status_code == 201, response.text
    feature_out("gathering_points").model_validate(response.json())
    assert response.headers["location"].endswith(f"{GP}/items/GP-9")
    assert response.json()["properties"]["visit_frequency_days"] == 14
    again = client.get(f"{GP}/items/GP-9", headers=ws.headers("admin"))
    assert again.headers["etag"] == response.headers["etag"]
    assert _problem(client.post(f"{GP}/items", json=NEW_GP, headers=ws.headers("admin")), 409)


def test_planners_record_visits(client: TestClient, ws: Workspace) -> None:
    """A planner may add a visit; its references are checked like an import's."""
    made = client.post(f"{VISITS}/items", json=NEW_VISIT, headers=ws.headers("planner"))
    assert made.status_code == 201, made.text
    assert made.json()["properties"]["date"] == "2026-01-10"
    orphan = {
        **NEW_VISIT,
        "id": "V-10",
        "properties": {**NEW_VISIT["properties"], "site_id": "GP-404"},
    }
    problem = _problem(
        client.post(f"{VISITS}/items", json=orphan, headers=ws.headers("planner")), 422
    )
    assert problem.problems is not None
    assert problem.problems[0].rule == "unknown-reference"


def test_edits_are_validated_like_imports(client: TestClient, ws: Workspace) -> None:
    """A feature breaking the layer's rules gets 422 with the import's problems, each named."""
    bad = {**NEW_GP, "properties": {**NEW_GP["properties"], "men": 9}}  # type: ignore[dict-item]
    problem = _problem(client.post(f"{GP}/items", json=bad, headers=ws.headers("admin")), 422)
    assert problem.problems is not None
    assert problem.errors is not None
    assert [p.rule for p in problem.problems] == ["parts-exceed-total"]
    assert problem.errors[0].field == "properties.people"
    assert client.get(f"{GP}/items/GP-9", headers=ws.headers("admin")).status_code == 404


def test_replace_update_delete_need_the_current_etag(client: TestClient, ws: Workspace) -> None:
    """PUT, PATCH and DELETE need If-Match: missing 428, stale 412, current succeeds."""
    key = ws.headers("admin")
    etag = client.get(f"{GP}/items/GP-3", headers=key).headers["etag"]
    body = {k: v for k, v in NEW_GP.items() if k != "id"}
    assert _problem(client.put(f"{GP}/items/GP-3", json=body, headers=key), 428)
    replaced = client.put(f"{GP}/items/GP-3", json=body, headers={**key, "If-Match": etag})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["properties"]["name"] == "Camp west"
    patch = {"properties": {"people": 7, "notes": None}}
    stale = client.patch(f"{GP}/items/GP-3", json=patch, headers={**key, "If-Match": etag})
    assert _problem(stale, 412)
    fresh = {**key, "If-Match": replaced.headers["etag"]}
    patched = client.patch(f"{GP}/items/GP-3", json=patch, headers=fresh)
    assert patched.status_code == 200, patched.text
    assert patched.json()["properties"]["people"] == 7
    assert patched.json()["geometry"] == NEW_GP["geometry"]
    assert _problem(client.delete(f"{GP}/items/GP-3", headers={**key, "If-Match": etag}), 412)
    gone = client.delete(f"{GP}/items/GP-3", headers={**key, "If-Match": patched.headers["etag"]})
    assert gone.status_code == 204
    assert _problem(client.get(f"{GP}/items/GP-3", headers=key), 404)


def test_patch_moves_a_site_and_refuses_removing_its_geometry(
    client: TestClient, ws: Workspace
) -> None:
    """A merge patch may move a point; a null geometry is refused, naming the field."""
    key = ws.headers("admin")
    etag = client.get(f"{GP}/items/GP-1", headers=key).headers["etag"]
    moved = {"geometry": {"type": "Point", "coordinates": [13.2, 32.9]}}
    done = client.patch(f"{GP}/items/GP-1", json=moved, headers={**key, "If-Match": etag})
    assert done.json()["geometry"]["coordinates"] == [13.2, 32.9]
    cleared = client.patch(
        f"{GP}/items/GP-1",
        json={"geometry": None},
        headers={**key, "If-Match": done.headers["etag"]},
    )
    problem = _problem(cleared, 422)
    assert problem.errors is not None
    assert problem.errors[0].field == "body.geometry"


def test_whole_numbers_count_as_integers_but_nothing_else_does(
    client: TestClient, ws: Workspace
) -> None:
    """``5.0`` is the integer 5, as JSON Schema counts (found with schemathesis); ``5.5``,
    ``"5"`` and ``true`` are still refused."""
    whole = {**NEW_GP, "properties": {**NEW_GP["properties"], "people": 5.0}}  # type: ignore[dict-item]
    created = client.post(f"{GP}/items", json=whole, headers=ws.headers("admin"))
    assert created.status_code == 201, created.text
    assert created.json()["properties"]["people"] == 5
    for value in (5.5, "5", True):
        bad = {**NEW_GP, "id": "GP-8", "properties": {**NEW_GP["properties"], "people": value}}  # type: ignore[dict-item]
        problem = _problem(client.post(f"{GP}/items", json=bad, headers=ws.headers("admin")), 422)
        assert [e.field for e in problem.errors or []] == ["body.properties.people"]


def test_integer_bounds_are_in_the_schema(client: TestClient) -> None:
    """A field's bounds reach the OpenAPI as minimum and maximum, so generated clients keep
    to them (they were once written as pydantic's ge/le, which no client reads; found with
    schemathesis)."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    minutes = schemas["GatheringPointsPropertiesIn"]["properties"]["service_minutes"]["anyOf"][0]
    assert (minutes["minimum"], minutes["maximum"]) == (5, 480)
    assert "ge" not in minutes


def test_counts_beyond_the_largest_whole_number_are_422_not_500(
    client: TestClient, ws: Workspace
) -> None:
    """A count past 2**53 - 1 is refused naming the field, and every integer field says its
    bounds in the schema (a 20-digit count overflowed the table into a 500; found with
    schemathesis)."""
    huge = {**NEW_GP, "properties": {**NEW_GP["properties"], "people": 18446744073709550592}}  # type: ignore[dict-item]
    problem = _problem(client.post(f"{GP}/items", json=huge, headers=ws.headers("admin")), 422)
    assert [e.field for e in problem.errors or []] == ["body.properties.people"]
    people = client.get("/openapi.json").json()["components"]["schemas"][
        "GatheringPointsPropertiesIn"
    ]["properties"]["people"]["anyOf"][0]
    assert people["maximum"] == 2**53 - 1


@pytest.mark.parametrize("day", ["2263-01-01", "0001-01-01", "1899-12-31"])
def test_dates_beyond_1900_to_2199_are_422_not_500(
    client: TestClient, ws: Workspace, day: str
) -> None:
    """A date the tables' clock cannot hold (a mistyped year) is refused naming the field,
    and the schema's pattern keeps to the years accepted (found with schemathesis)."""
    bad = {**NEW_GP, "properties": {**NEW_GP["properties"], "access_date": day}}  # type: ignore[dict-item]
    problem = _problem(client.post(f"{GP}/items", json=bad, headers=ws.headers("admin")), 422)
    assert [e.field for e in problem.errors or []] == ["body.properties.access_date"]
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    access = schemas["GatheringPointsPropertiesIn"]["properties"]["access_date"]["anyOf"][0]
    assert not re.fullmatch(access["pattern"], day)
    assert re.fullmatch(access["pattern"], "2026-11-28")


@pytest.mark.parametrize("position", [[1.96e16, 0.0], [13.1, 91.0], [-180.5, 32.9]])
def test_positions_off_the_globe_are_refused_by_the_schema(
    client: TestClient, ws: Workspace, position: list[float]
) -> None:
    """Longitude -180..180 and latitude -90..90 are in the OpenAPI, so a position off the
    globe is refused as schema-invalid, naming the coordinate (found with schemathesis)."""
    bad = {**NEW_GP, "geometry": {"type": "Point", "coordinates": position}}
    problem = _problem(client.post(f"{GP}/items", json=bad, headers=ws.headers("admin")), 422)
    assert all(e.field.startswith("body.geometry.coordinates.") for e in problem.errors or [])
    point = client.get("/openapi.json").json()["components"]["schemas"]["PointIn"]
    lon, lat = point["properties"]["coordinates"]["prefixItems"]
    assert (lon["minimum"], lon["maximum"], lat["minimum"], lat["maximum"]) == (-180, 180, -90, 90)


@pytest.mark.parametrize("tag", [None, "", "*", '"a", "b"'])
def test_if_match_is_required_and_names_one_version(
    client: TestClient, ws: Workspace, tag: str | None
) -> None:
    """If-Match is a required header in the OpenAPI (so generated clients send it); missing,
    blank, * or a list is 428 with what to send."""
    headers = ws.headers("admin") if tag is None else {**ws.headers("admin"), "If-Match": tag}
    problem = _problem(client.delete(f"{GP}/items/GP-3", headers=headers), 428)
    assert "ETag" in problem.detail
    assert [e.field for e in problem.errors or []] == ["header.If-Match"]
    delete = client.get("/openapi.json").json()["paths"][f"{GP}/items/{{feature_id}}"]["delete"]
    if_match = next(p for p in delete["parameters"] if p["name"] == "If-Match")
    assert if_match["required"] is True


def test_a_patch_schema_never_offers_a_null_geometry(client: TestClient) -> None:
    """The merge patch may leave the geometry out but not null it: the OpenAPI says so, so
    a generated null is schema-invalid (found with schemathesis)."""
    patch = client.get("/openapi.json").json()["components"]["schemas"]["GatheringPointsPatch"]
    assert patch["properties"]["geometry"] == {"$ref": "#/components/schemas/PointIn"}


# --- uploads --------------------------------------------------------------------------------


def _upload(
    client: TestClient, ws: Workspace, name: str, data: bytes, query: str = ""
) -> httpx.Response:
    files = {"file": (name, io.BytesIO(data), "text/csv")}
    return client.post(f"{GP}/import{query}", files=files, headers=ws.headers("admin"))


def test_upload_reports_like_geoplan_import(client: TestClient, ws: Workspace) -> None:
    """A valid file is imported in one go and reported as `geoplan import` reports it."""
    data = (FIXTURES / "valid" / "gathering_points.csv").read_bytes()
    data += b"GP-4,Yard,workplace,3,,,,,health,14,13.21,32.86\n"
    dry = ImportReport.model_validate(_upload(client, ws, "more.csv", data, "?dry_run=true").json())
    assert dry.ok
    assert dry.write is None
    done = ImportReport.model_validate(_upload(client, ws, "more.csv", data).json())
    assert done.write is not None
    assert (done.write.added, done.rows, done.file) == (1, 4, "more.csv")


def test_an_upload_with_errors_writes_nothing(client: TestClient, ws: Workspace) -> None:
    """One bad row refuses the whole file, with every problem named by row, field and value."""
    data = b"id,name,setting,lon,lat\nGP-5,Ok,camp,13.2,32.8\nGP-6,Bad,palace,13.2,132.8\n"
    problem = _problem(_upload(client, ws, "bad.csv", data), 422)
    assert problem.problems is not None
    assert {(p.row, p.field, p.value) for p in problem.problems if p.severity == "error"} == {
        (2, "setting", "palace"),
        (2, "geometry", "13.2, 132.8"),
    }
    assert "GP-5" not in ws.store.ids("gathering_points")


def test_a_broken_multipart_body_is_422(client: TestClient, ws: Workspace) -> None:
    """A multipart body that cannot be parsed is answered 422 naming the body, never an
    undocumented 400 (found with schemathesis)."""
    boundary = "f191cb3cee25b6239c5d8f1c780cadf6"
    response = client.post(
        f"{GP}/import",
        content=f"--{boundary}\r\n[{{'a': None}}, None]--{boundary}--\r\n".encode(),
        headers={
            **ws.headers("admin"),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    problem = _problem(response, 422)
    assert [e.field for e in problem.errors or []] == ["body"]


def test_an_upload_needs_a_known_file_type(client: TestClient, ws: Workspace) -> None:
    """A file name without a supported suffix is refused, naming the file field."""
    problem = _problem(_upload(client, ws, "sites.exe", b"MZ"), 422)
    assert problem.errors is not None
    assert problem.errors[0].field == "body.file"
