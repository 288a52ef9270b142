"""The interactive documentation at /docs, with Swagger UI served by geoplan itself.

The page loads its script, style sheet and icon from ``/docs/assets/`` (files vendored and pinned
in ``api/static``, see its README), never from a CDN: keys are typed on this page.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from api.ogc import OPENAPI

SWAGGER_UI = "5.35.0"
"""The vendored version of the npm package ``swagger-ui-dist``."""
ASSETS = Path(__file__).resolve().parent.parent / "static" / f"swagger-ui-{SWAGGER_UI}"
MEDIA = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
CACHED = {"Cache-Control": "public, max-age=31536000, immutable"}
"""Assets are named by version (``?v=``), so a browser may keep them."""

router = APIRouter(include_in_schema=False)


@router.get("/openapi.json")
def get_openapi_document(request: Request) -> JSONResponse:
    """The OpenAPI document: typed ``application/vnd.oai.openapi+json;version=3.0`` (the
    landing page's service-desc type, which OWSLib follows) when the client asks for that
    type, ``application/json`` otherwise."""
    asked = "application/vnd.oai.openapi+json" in request.headers.get("accept", "")
    return JSONResponse(request.app.openapi(), media_type=OPENAPI if asked else None)


@router.get("/docs")
def get_docs(request: Request) -> HTMLResponse:
    """Swagger UI on this API's OpenAPI document."""
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}/openapi.json",
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=_asset_url(root, "swagger-ui-bundle.js"),
        swagger_css_url=_asset_url(root, "swagger-ui.css"),
        swagger_favicon_url=_asset_url(root, "favicon-32x32.png"),
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from swagger.io
    )


@router.get("/docs/assets/{asset}")
def get_docs_asset(asset: str) -> FileResponse:
    """One of the vendored Swagger UI files (by name from a fixed list: no paths)."""
    if asset not in MEDIA:
        raise HTTPException(404, f"no documentation asset {asset!r}")
    return FileResponse(ASSETS / asset, media_type=MEDIA[asset], headers=CACHED)


def _asset_url(root: str, asset: str) -> str:
    return f"{root}/docs/assets/{asset}?v={SWAGGER_UI}"
