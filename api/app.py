"""The FastAPI application: ``create_app(settings)``.

``geoplan serve`` runs it with uvicorn (``uvicorn api.app:create_app --factory`` does the same);
settings come from ``GEOPLAN_*`` environment variables (see :class:`api.settings.Settings`).
Routers live one per area in :mod:`api.routes`; add a new one to :func:`routers` and its routes
to the roles table in :mod:`api.roles`.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path

from api.analysis import CoverageCache, ResultCache
from api.auth import KEY_HEADER, AuthMiddleware, RoutePattern
from api.cache import LayerReader
from api.errors import add_error_handlers
from api.limits import BodyLimitMiddleware
from api.openapi import openapi_document
from api.plans import PlanJobs
from api.roles import route_roles
from api.routes import coverage, docs, keys, layers, maps, meta, plans
from api.security import SecurityHeadersMiddleware, TrustedHostMiddleware
from api.settings import Settings
from geoplan.store import open_store

DESCRIPTION = """
Layers, coverage and plans of a humanitarian outreach operation.

Send an API key in the `X-API-Key` header, as `Authorization: Bearer <key>`, or as the password
of HTTP Basic with any user name (make one with `geoplan keys create --role ROLE`).
Roles: **viewer** reads layers, with gathering points and detention centres generalised to
coarse H3 cells and their free text left out, and the coverage tables generalised alike;
**planner** reads everything, records visits, plans weeks and draws maps; **admin** also edits
every layer and manages keys. Errors are `application/problem+json`.
"""
MAP_ENTRIES = 4
"""Rendered maps kept in memory (each is about a megabyte)."""
GC_THRESHOLDS = (50_000, 20, 20)
"""The collector's thresholds while serving (Python's default is 700, 10, 10): an items page
allocates tens of thousands of objects, and at the default every few pages ended in a full
collection over the whole heap (about 120 ms on 50,000 sites)."""


def routers() -> list[APIRouter]:
    """Every router, in the order their routes are matched."""
    return [
        meta.router,
        docs.router,
        layers.build_router(),
        coverage.router,
        plans.router,
        maps.router,
        keys.router,
    ]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Keep the garbage collector out of the serving path; stop running plans at the end."""
    thresholds = gc.get_threshold()
    _quiet_collector()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
    app.state.plans.shutdown()


def _quiet_collector() -> None:
    """Collect once, then freeze: what start-up made (modules, routes, models; the bulk of the
    heap) is never scanned again, so a full collection walks only what requests made since.
    Fewer, larger young collections (:data:`GC_THRESHOLDS`) promote less of a page's short-lived
    objects to the old generation."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API for one workspace."""
    settings = settings or Settings()  # type: ignore[call-arg]
    app = FastAPI(
        title="geoplan API",
        version="0.1.0",
        description=DESCRIPTION,
        docs_url=None,  # api.routes.docs serves /docs with Swagger UI vendored, not a CDN's
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        openapi_url=None,  # api.routes.docs serves /openapi.json, as JSON or as OpenAPI
        lifespan=_lifespan,
    )
    store = open_store(settings.workspace)
    app.state.settings = settings
    app.state.store = store
    app.state.reader = LayerReader(store, entries=settings.cache_entries)
    app.state.coverage = CoverageCache(
        store, entries=settings.cache_entries, viewer_resolution=settings.viewer_h3_resolution
    )
    app.state.maps = ResultCache[str](min(settings.cache_entries, MAP_ENTRIES))
    app.state.plans = PlanJobs(settings.workspace, workers=settings.plan_workers)
    add_error_handlers(app)
    for router in routers():
        app.include_router(router)
    # Added innermost first. From the outside in: security headers go on every answer, the Host
    # is checked, CORS answers preflights, keys are checked, then body sizes and times.
    app.add_middleware(
        BodyLimitMiddleware, limit=settings.body_limit, timeout=settings.body_timeout
    )
    app.state.routes = route_patterns(app)
    app.add_middleware(
        AuthMiddleware, routes=lambda: app.state.routes, store=store, roles=route_roles()
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[KEY_HEADER, "Authorization", "If-Match", "Content-Type"],
            expose_headers=["ETag", "Location", "WWW-Authenticate"],
        )
    app.add_middleware(TrustedHostMiddleware, hosts=settings.accepted_hosts())
    app.add_middleware(SecurityHeadersMiddleware)
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
    """The OpenAPI 3.1 document, built once (see :mod:`api.openapi`)."""
    if app.openapi_schema is None:
        app.openapi_schema = openapi_document(app)
    return app.openapi_schema
