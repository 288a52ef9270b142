"""The OpenAPI documents (``api/openapi.py``): 3.1 at /openapi.json, 3.0 at /api, each valid
for its version and typed as it is, with every way of sending a key declared."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

from api.openapi import as_openapi_30
from tests.api_fixtures import TestClient, Workspace, client_for

OAS30 = "application/vnd.oai.openapi+json;version=3.0"
OAS31 = "application/vnd.oai.openapi+json;version=3.1"
ITEMS = "/collections/gathering_points/items"


@pytest.fixture(scope="module")
def documents(template: Workspace) -> dict[str, dict[str, Any]]:
    """Both documents, as served."""
    client = client_for(template)
    return {"3.1": client.get("/openapi.json").json(), "3.0": client.get("/api").json()}


def test_openapi_json_is_a_valid_openapi_31_document(documents: dict[str, Any]) -> None:
    """/openapi.json says 3.1 and validates as OpenAPI 3.1."""
    assert documents["3.1"]["openapi"].startswith("3.1")
    OpenAPIV31SpecValidator(documents["3.1"]).validate()


def test_api_is_a_valid_openapi_30_document(documents: dict[str, Any]) -> None:
    """/api says 3.0 and validates as OpenAPI 3.0: what the service-desc type promises."""
    assert documents["3.0"]["openapi"] == "3.0.3"
    OpenAPIV30SpecValidator(documents["3.0"]).validate()


def test_both_documents_describe_the_same_operations(documents: dict[str, Any]) -> None:
    """Converting to 3.0 loses no path or method."""

    def operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
        return {(path, method) for path, item in doc["paths"].items() for method in item}

    assert operations(documents["3.0"]) == operations(documents["3.1"])


def test_api_is_typed_as_openapi_30(client: TestClient) -> None:
    """/api answers with the OpenAPI 3.0 media type, without a key."""
    assert client.get("/api").headers["content-type"] == OAS30


def test_openapi_json_asked_for_30_gives_the_30_document(client: TestClient) -> None:
    """/openapi.json with ``Accept: ...;version=3.0`` gives the 3.0 document, typed so."""
    response = client.get("/openapi.json", headers={"Accept": OAS30})
    assert response.headers["content-type"] == OAS30
    assert response.json()["openapi"] == "3.0.3"


def test_openapi_json_asked_for_its_type_says_31(client: TestClient) -> None:
    """/openapi.json asked for the OpenAPI media type is typed version=3.1, as it is."""
    response = client.get("/openapi.json", headers={"Accept": OAS31})
    assert response.headers["content-type"] == OAS31


def test_the_service_desc_links_match_their_documents(client: TestClient, ws: Workspace) -> None:
    """The service-desc links: /api typed OpenAPI 3.0 and answered so, then /openapi.json
    typed JSON and answered so (each answered with the type its link names)."""
    links = client.get("/", headers=ws.headers("viewer")).json()["links"]
    served = [
        (
            link["type"],
            client.get(link["href"]).headers["content-type"],
            link["href"].rsplit("/", 1)[1],
        )
        for link in links
        if link["rel"] == "service-desc"
    ]
    assert served == [
        (OAS30, OAS30, "api"),
        ("application/json", "application/json", "openapi.json"),
    ]


@pytest.mark.parametrize("version", ["3.0", "3.1"])
def test_the_security_schemes_are_declared(documents: dict[str, Any], version: str) -> None:
    """The X-API-Key header, HTTP Basic and Bearer are all declared."""
    schemes = documents[version]["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["APIKeyHeader"]["description"],
    }
    assert schemes["HTTPBasic"]["scheme"] == "basic"
    assert schemes["HTTPBearer"]["scheme"] == "bearer"


def test_a_keyed_operation_takes_any_of_the_three(documents: dict[str, Any]) -> None:
    """The items operation may be called with a header key, Basic or Bearer."""
    security = documents["3.1"]["paths"][ITEMS]["get"]["security"]
    assert security == [{"APIKeyHeader": []}, {"HTTPBasic": []}, {"HTTPBearer": []}]


def test_an_open_operation_asks_for_no_key(documents: dict[str, Any]) -> None:
    """/health declares no security."""
    assert "security" not in documents["3.1"]["paths"]["/health"]["get"]


def test_a_nullable_union_becomes_nullable() -> None:
    """``anyOf: [integer, null]`` is a nullable integer in 3.0; a reference goes in allOf."""
    doc = {
        "openapi": "3.1.0",
        "a": {"anyOf": [{"type": "integer"}, {"type": "null"}], "title": "A"},
        "b": {"anyOf": [{"$ref": "#/x"}, {"type": "null"}]},
    }
    converted = as_openapi_30(doc)
    assert converted["a"] == {"type": "integer", "nullable": True, "title": "A"}
    assert converted["b"] == {"allOf": [{"$ref": "#/x"}], "nullable": True}


def test_const_examples_tuples_and_files_are_30() -> None:
    """const is a one-value enum, examples one example, a tuple an array of its item type, a
    file a binary string, a numeric exclusive bound a boolean one."""
    doc = {
        "c": {"type": "string", "const": "Feature", "examples": ["Feature"]},
        "p": {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}]},
        "f": {"type": "string", "contentMediaType": "application/octet-stream"},
        "n": {"type": "number", "exclusiveMinimum": 0},
    }
    converted = as_openapi_30(doc)
    assert converted["c"] == {"type": "string", "enum": ["Feature"], "example": "Feature"}
    assert converted["p"] == {"type": "array", "items": {"type": "number"}}
    assert converted["f"] == {"type": "string", "format": "binary"}
    assert converted["n"] == {"type": "number", "minimum": 0, "exclusiveMinimum": True}


def test_cors_lets_the_authorization_header_through(ws: Workspace) -> None:
    """With CORS configured, a preflight asking to send Authorization is allowed."""
    client = client_for(ws, cors_origins=("https://maps.example.org",))
    preflight = {
        "Origin": "https://maps.example.org",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Authorization",
    }
    response = client.options(ITEMS, headers=preflight)
    assert response.status_code == 200
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
