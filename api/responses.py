"""Response classes and the error responses every route documents."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from api.errors import PROBLEM_JSON

PROBLEM_REF = "#/components/schemas/Problem"
Responses = dict[int | str, dict[str, Any]]


class GeoJSONResponse(JSONResponse):
    """GeoJSON, as OGC API - Features serves it."""

    media_type = "application/geo+json"


def problem(description: str) -> dict[str, Any]:
    """An OpenAPI response whose body is a problem+json document."""
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
    }


PROBLEMS: Responses = {
    401: problem("No valid API key in the X-API-Key header."),
    403: problem("The key's role may not call this route."),
    413: problem("The request body is over the limit."),
    422: problem("The request is invalid: `errors` names each field and the reason."),
    500: problem("An unexpected error; the server log has the details."),
    503: problem("The workspace cannot be read or written right now."),
    507: problem("The server's disk is full: nothing was written until space is freed."),
}
BAD_QUERY: Responses = {
    400: problem("A query parameter is invalid or unknown (OGC API - Features): `errors` names it.")
}
NOT_FOUND: Responses = {404: problem("No such feature, key or layer.")}
CONFLICT: Responses = {409: problem("A feature with that id already exists.")}
PRECONDITIONS: Responses = {
    412: problem("The feature changed since the ETag sent in If-Match was read."),
    428: problem("If-Match is required: send the ETag of the version you edited."),
}
