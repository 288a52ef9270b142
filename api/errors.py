"""Every error as ``application/problem+json`` (RFC 9457), mapped in one table, registered once.

Responses name the field and the reason, never a traceback and never a file path: details pass
through :func:`scrub`, and anything unexpected becomes a plain 500.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.models import FieldError, Problem, ValidationProblem
from geoplan.errors import (
    AlreadyExistsError,
    ConflictError,
    DiskFullError,
    FormulaError,
    GeoplanError,
    ImportLimitError,
    InputFileError,
    LayerValidationError,
    MappingError,
    NotFoundError,
    ParameterError,
    PolicyError,
    StoreError,
    UnknownLayerError,
    without_paths,
)
from geoplan.outputs import is_disk_full
from geoplan.report import ValidationReport

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("geoplan.api")

# Domain errors -> HTTP status, most specific first (the first isinstance match wins).
STATUS_BY_ERROR: tuple[tuple[type[GeoplanError], int], ...] = (
    (LayerValidationError, 422),
    (AlreadyExistsError, 409),
    (ConflictError, 412),
    (UnknownLayerError, 404),
    (NotFoundError, 404),
    (PolicyError, 403),
    (ParameterError, 422),
    (MappingError, 422),
    (FormulaError, 422),
    (ImportLimitError, 413),
    (InputFileError, 422),
    (DiskFullError, 507),
    (StoreError, 503),
)
STORE_UNAVAILABLE = "the workspace cannot be read or written right now; try again shortly"
DISK_FULL = (
    "the server's disk is full: nothing was written; an administrator must free space on it "
    "before writes can succeed"
)
"""507 Insufficient Storage (RFC 4918): unlike 503, it says what is wrong and that waiting
alone will not help, so clients do not retry in a loop and monitoring can tell it apart."""
_HIDDEN = {503: STORE_UNAVAILABLE, 507: DISK_FULL}
IF_MATCH = "If-Match"
ETAG_PATTERN = r'^\s*(W/)?"?[^\s",*]+"?\s*$'
"""One entity tag, quoted or not: edits name the one version they change, never * or a list."""
PRECONDITION_REQUIRED = (
    "send If-Match with the ETag of the one version you edited (GET the feature to read it)"
)


OGC_READ = re.compile(r"^/(conformance|collections(/[^/]+(/items(/[^/]+)?)?)?)?$")
"""Paths of the OGC API - Features reads (landing page, conformance, collections, items, an
item): an invalid or unknown query parameter there is 400, as Part 1 requires
(``/req/core/query-param-invalid``, ``/req/core/query-param-unknown``); elsewhere 422."""


class ProblemResponse(JSONResponse):
    """A JSON response with the problem media type."""

    media_type = PROBLEM_JSON


def scrub(text: str) -> str:
    """A message without server paths: absolute paths (``/vsizip/`` ones too) are cut to
    their last part (:func:`geoplan.errors.without_paths`)."""
    return without_paths(text)


def problem_response(
    status: int,
    detail: str,
    *,
    errors: Sequence[FieldError] | None = None,
    problems: Sequence[ValidationProblem] | None = None,
    problems_total: int | None = None,
    headers: dict[str, str] | None = None,
) -> ProblemResponse:
    """A problem+json response; ``detail`` is scrubbed of file paths."""
    body = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=scrub(detail),
        errors=list(errors) if errors is not None else None,
        problems=list(problems) if problems is not None else None,
        problems_total=problems_total,
    )
    return ProblemResponse(
        body.model_dump(mode="json", exclude_none=True), status_code=status, headers=headers
    )


def status_for(exc: GeoplanError) -> int:
    """The HTTP status of a domain error (400 for kinds the table does not list)."""
    return next((code for kind, code in STATUS_BY_ERROR if isinstance(exc, kind)), 400)


def report_problems(
    report: ValidationReport, *, limit: int | None = None
) -> list[ValidationProblem]:
    """A validation report's problems (the first ``limit``), as `geoplan import` lists them."""
    return [
        ValidationProblem(
            severity=p.severity,
            rule=p.rule,
            message=scrub(p.message),
            fix=scrub(p.fix),
            file=scrub(p.file),
            row=p.row,
            id=p.id,
            field=p.field,
            value=p.value,
            line=p.line,
        )
        for p in report.problems[:limit]
    ]


def report_errors(report: ValidationReport, *, limit: int | None = None) -> list[FieldError]:
    """A validation report's errors (the first ``limit``) as request fields and reasons."""
    return [
        FieldError(field=_report_field(p.field), reason=scrub(f"{p.message}; {p.fix}"))
        for p in report.errors[:limit]
    ]


def _report_field(name: str | None) -> str:
    if name is None:
        return "body"
    return name if name == "geometry" else f"properties.{name}"


def _location(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _reason(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


async def _on_request_validation(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [FieldError(field=_location(e["loc"]), reason=_reason(e)) for e in exc.errors()]
    if errors and all(e.field == f"header.{IF_MATCH}" for e in errors):  # RFC 6585
        reason = "missing, blank, * or a list; send one ETag as GET returned it"
        return problem_response(
            428, PRECONDITION_REQUIRED, errors=[FieldError(field=errors[0].field, reason=reason)]
        )
    fields = ", ".join(dict.fromkeys(e.field for e in errors))
    queried = bool(errors) and all(e.field.startswith("query.") for e in errors)
    status = 400 if queried and _ogc_read(request) else 422
    return problem_response(status, f"invalid request: {fields}", errors=errors)


def _ogc_read(request: Request) -> bool:
    path = request.url.path.removeprefix(request.scope.get("root_path", "")) or "/"
    return request.method in ("GET", "HEAD") and OGC_READ.match(path) is not None


_UNREADABLE_BODY = ("parsing the body", "multipart")
"""What FastAPI and Starlette say (with 400) of a body they cannot parse: bytes that are not
UTF-8 JSON, a broken multipart form. Answered 422 naming the body, as every other bad input."""


async def _on_http(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 400 and any(m in detail for m in _UNREADABLE_BODY):
        reason = "the body cannot be read: send UTF-8 JSON (or the form the route documents)"
        return problem_response(422, reason, errors=[FieldError(field="body", reason=reason)])
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 405:  # every method of the path, not only those of one route
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return problem_response(exc.status_code, detail, headers=headers or None)


def _allowed_methods(request: Request) -> list[str]:
    path = request.url.path.removeprefix(request.scope.get("root_path", "")) or "/"
    routes = getattr(request.app.state, "routes", [])
    return sorted({method for method, regex, _ in routes if regex.match(path)})


async def _on_domain(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, GeoplanError)
    status = status_for(exc)
    if status in _HIDDEN:
        log.error("%s %s: %s", request.method, request.url.path, exc)
        return problem_response(status, _HIDDEN[status])
    if isinstance(exc, LayerValidationError):
        limit = _problem_limit(request)
        return problem_response(
            status,
            exc.report.headline(),
            errors=report_errors(exc.report, limit=limit),
            problems=report_problems(exc.report, limit=limit),
            problems_total=exc.report.total,
        )
    return problem_response(status, str(exc))


def _problem_limit(request: Request) -> int | None:
    settings = getattr(request.app.state, "settings", None)
    return getattr(settings, "import_max_problems", None)


async def _on_unexpected(request: Request, exc: Exception) -> ProblemResponse:
    if is_disk_full(exc):  # an upload's or an output's temporary file, outside the store
        log.error("%s %s: %s", request.method, request.url.path, exc)
        return problem_response(507, DISK_FULL)
    log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "internal error; the server log has the details")


def add_error_handlers(app: FastAPI) -> None:
    """Register the handlers: request validation, HTTP errors, domain errors, anything else."""
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(GeoplanError, _on_domain)
    app.add_exception_handler(Exception, _on_unexpected)
