"""The interactive documentation at /docs, with Swagger UI served by geoplan itself.

The page loads its script, style sheet and icon from ``/docs/assets/`` (files vendored and pinned
in ``api/static``, see its README), never from a CDN: keys are typed on this page.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from api.ogc import OPENAPI, OPENAPI_31
from api.openapi import as_openapi_30

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
    """The OpenAPI 3.1 document (``application/json``, or its OpenAPI type when asked for that
    type); the 3.0 document when the client asks for ``...;version=3.0``."""
    accept = request.headers.get("accept", "").replace(" ", "")
    if OPENAPI in accept:
        return get_openapi_30(request)
    asked = OPENAPI_31.split(";")[0] in accept
    return JSONResponse(request.app.openapi(), media_type=OPENAPI_31 if asked else None)


@router.get("/api")
def get_openapi_30(request: Request) -> JSONResponse:
    """The same API in OpenAPI 3.0, typed ``application/vnd.oai.openapi+json;version=3.0``:
    the landing page's first service-desc, which OWSLib and GDAL follow."""
    state = request.app.state
    if getattr(state, "openapi_30", None) is None:
        state.openapi_30 = as_openapi_30(request.app.openapi())
    return JSONResponse(state.openapi_30, media_type=OPENAPI)


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
