"""Health, the OGC API landing page and conformance."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from api.deps import KeyDep, StoreDep
from api.models import Conformance, Health, LandingPage
from api.ogc import CONFORMANCE, JSON, OPENAPI, link, only_params
from api.responses import BAD_QUERY, PROBLEMS

router = APIRouter(responses=PROBLEMS)
OGC_JSON = [Depends(only_params(f=("json",)))]
"""An OGC API JSON document's dependencies: unknown query parameters are refused (400)."""


@router.get("/health", tags=["service"], summary="Whether the service is up")
def health(store: StoreDep) -> Health:
    """Open to everyone; says only whether the workspace file exists."""
    return Health(status="ok", workspace=store.exists())


@router.get(
    "/",
    tags=["OGC API - Features"],
    summary="Landing page",
    response_model_exclude_none=True,
    dependencies=OGC_JSON,
    responses=BAD_QUERY,
)
def landing(request: Request, key: KeyDep) -> LandingPage:
    """Links to the API description, the conformance classes and the layers."""
    return LandingPage(
        title="geoplan",
        description="Layers of a humanitarian outreach operation, as OGC API - Features.",
        links=[
            link(request, "/", "self", JSON, "This document"),
            link(request, "/api", "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
            link(
                request, "/openapi.json", "service-desc", JSON, "The API definition (OpenAPI 3.1)"
            ),
            link(request, "/docs", "service-doc", "text/html", "The API documentation"),
            link(request, "/conformance", "conformance", JSON, "Conformance classes"),
            link(request, "/collections", "data", JSON, "The layers"),
        ],
    )


@router.get(
    "/conformance",
    tags=["OGC API - Features"],
    summary="Conformance classes",
    dependencies=OGC_JSON,
    responses=BAD_QUERY,
)
def conformance(key: KeyDep) -> Conformance:
    """The OGC API - Features classes implemented: Part 1 core and GeoJSON."""
    return Conformance(conformsTo=list(CONFORMANCE))
