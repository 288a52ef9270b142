"""The API's OpenAPI documents: 3.1 as FastAPI writes it, and the same API as OpenAPI 3.0.

OGC API - Features Part 1 names the OpenAPI 3.0 media type, and clients look for it (OWSLib's
``api()`` follows only a service-desc link typed
``application/vnd.oai.openapi+json;version=3.0``). FastAPI writes 3.1 (JSON Schema 2020-12), so
the 3.0 document is derived from it by :func:`as_openapi_30`, construct by construct, and each
document is served under the media type of its own version (see :mod:`api.routes.docs`).

Both declare every way of presenting a key (:data:`SECURITY_SCHEMES`): the ``X-API-Key``
header, HTTP Basic with the key as password (QGIS 3.22) and ``Authorization: Bearer``.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.models import Problem

OPENAPI_30 = "3.0.3"
KEY_SCHEME = "APIKeyHeader"
"""The scheme FastAPI names after :data:`api.auth.api_key_scheme`."""
SECURITY_SCHEMES: dict[str, dict[str, str]] = {
    "HTTPBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "The API key as the password, any user name (QGIS 3.22's Basic auth).",
    },
    "HTTPBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "The API key as `Authorization: Bearer <key>`.",
    },
}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI 3.1 document, with the problem+json schema the error responses refer to and
    each keyed operation open to any of the three ways of sending the key."""
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    components.setdefault("securitySchemes", {}).update(copy.deepcopy(SECURITY_SCHEMES))
    for operation in _operations(schema):
        if {KEY_SCHEME: []} in operation.get("security", []):
            operation["security"] = [{KEY_SCHEME: []}, *({name: []} for name in SECURITY_SCHEMES)]
    return schema


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for item in document.get("paths", {}).values()
        for method, operation in item.items()
        if method in _METHODS
    ]


def as_openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    """The same API described in OpenAPI 3.0: ``nullable`` instead of null types, ``enum``
    instead of ``const``, one ``example``, array ``items`` instead of ``prefixItems``,
    ``format: binary`` for uploaded files, boolean exclusive bounds."""
    converted: dict[str, Any] = _convert(copy.deepcopy(document))
    converted["openapi"] = OPENAPI_30
    for only_31 in ("jsonSchemaDialect", "webhooks"):
        converted.pop(only_31, None)
    return converted


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    for rule in (_null_union, _null_type, _const, _examples, _prefix_items, _binary, _exclusive):
        node = rule(dict(node))  # each node before its children: a union sees its null member
    return {key: _convert(value) for key, value in node.items()}


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"


def _null_union(node: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, {type: null}]`` is X with ``nullable: true`` (a reference goes in allOf)."""
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if not isinstance(options, list) or not any(_is_null(o) for o in options):
            continue
        rest = [o for o in options if not _is_null(o)]
        del node[key]
        node["nullable"] = True
        if len(rest) > 1:
            node[key] = rest
        elif rest and "$ref" in rest[0]:
            node["allOf"] = rest
        elif rest:
            node = {**rest[0], **node}
    return node


def _null_type(node: dict[str, Any]) -> dict[str, Any]:
    """A list of types without "null" (and ``nullable`` if it was there); a value that can
    only be null (an attribute-only layer's geometry) is a nullable object that is null."""
    kinds = node.get("type")
    if kinds == "null":
        return {**node, "type": "object", "nullable": True, "enum": [None]}
    if isinstance(kinds, list):
        named = [k for k in kinds if k != "null"]
        if len(named) < len(kinds):
            node["nullable"] = True
        node["type"] = named[0] if len(named) == 1 else named
    return node


def _const(node: dict[str, Any]) -> dict[str, Any]:
    """``const: v`` is ``enum: [v]`` (a property named const would hold a schema, a dict)."""
    if "const" in node and not isinstance(node["const"], dict):
        node["enum"] = [node.pop("const")]
    return node


def _examples(node: dict[str, Any]) -> dict[str, Any]:
    """A schema's list of examples becomes its one ``example`` (3.0 parameters and media
    types keep their ``examples`` maps)."""
    examples = node.get("examples")
    if isinstance(examples, list):
        del node["examples"]
        if examples:
            node.setdefault("example", examples[0])
    return node


def _prefix_items(node: dict[str, Any]) -> dict[str, Any]:
    """A tuple (``prefixItems``, a position) is an array of its item types in 3.0."""
    prefix = node.pop("prefixItems", None)
    if isinstance(prefix, list) and "items" not in node:
        unique = [s for i, s in enumerate(prefix) if s not in prefix[:i]]
        node["items"] = unique[0] if len(unique) == 1 else {"anyOf": unique}
    return node


def _binary(node: dict[str, Any]) -> dict[str, Any]:
    if "contentMediaType" in node:
        del node["contentMediaType"]
        if node.get("type") == "string":
            node["format"] = "binary"
    return node


def _exclusive(node: dict[str, Any]) -> dict[str, Any]:
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = node.get(bound)
        if isinstance(value, int | float) and not isinstance(value, bool):
            node[plain] = value
            node[bound] = True
    return node
