"""The FastAPI application: ``create_app(settings)``.

``geoplan serve`` runs it with uvicorn (``uvicorn api.app:create_app --factory`` does the same);
settings come from ``GEOPLAN_*`` environment variables (see :class:`api.settings.Settings`).
Routers live one per area in :mod:`api.routes`; add a new one to :func:`routers` and its routes
to the roles table in :mod:`api.roles`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path

from api.auth import KEY_HEADER, AuthMiddleware, RoutePattern
from api.cache import LayerReader
from api.errors import add_error_handlers
from api.limits import BodyLimitMiddleware
from api.models import Problem
from api.roles import route_roles
from api.routes import keys, layers, meta
from api.settings import Settings
from geoplan.store import open_store

DESCRIPTION = """
Layers, coverage and plans of a humanitarian outreach operation.

Send an API key in the `X-API-Key` header (make one with `geoplan keys create --role ROLE`).
Roles: **viewer** reads layers, with gathering points and detention centres generalised to
coarse H3 cells and their free text left out; **planner** reads everything and records visits;
**admin** also edits every layer and manages keys. Errors are `application/problem+json`.
"""


def routers() -> list[APIRouter]:
    """Every router, in the order their routes are matched (coverage, plans and maps join here)."""
    return [meta.router, layers.build_router(), keys.router]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API for one workspace."""
    settings = settings or Settings()  # type: ignore[call-arg]
    app = FastAPI(
        title="geoplan API",
        version="0.1.0",
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        openapi_url="/openapi.json",
    )
    store = open_store(settings.workspace)
    app.state.settings = settings
    app.state.store = store
    app.state.reader = LayerReader(store, entries=settings.cache_entries)
    add_error_handlers(app)
    for router in routers():
        app.include_router(router)
    # Added innermost first: CORS answers preflights, then keys are checked, then body sizes.
    app.add_middleware(BodyLimitMiddleware, limit=settings.body_limit)
    app.state.routes = route_patterns(app)
    app.add_middleware(
        AuthMiddleware, routes=lambda: app.state.routes, store=store, roles=route_roles()
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[KEY_HEADER, "If-Match", "Content-Type"],
            expose_headers=["ETag", "Location"],
        )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def route_patterns(app: FastAPI) -> list[RoutePattern]:
    """Every (method, path regex, path template) the app serves, HEAD left out."""
    return [
        (method, compile_path(str(route.path))[0], str(route.path))
        for route in iter_route_contexts(app.routes)
        for method in sorted(route.methods or ())
        if method != "HEAD" and route.path is not None
    ]


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with the problem+json schema the error responses refer to."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(problem.pop("$defs", {}))
        schemas["Problem"] = problem
        app.openapi_schema = schema
    return app.openapi_schema
