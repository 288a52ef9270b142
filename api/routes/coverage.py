"""Coverage gaps: the ranked gap table, per-area summaries, indicator progress and a summary.

Every route takes the options of ``geoplan coverage`` (``period``, ``threshold``, ``date``,
``resolution``) and reads one analysis, computed once per workspace revision and options (see
:mod:`api.analysis`); the first query after a write computes afresh, in a worker thread. The
gap table and the area summaries come as JSON or GeoJSON (``f=json|geojson``, or
``Accept: application/geo+json``), a page at a time. Viewers get an analysis of their own, made
from each sensitive site's coarse H3 cell centre rather than its position (so that no sweep of
thresholds and dates locates a site more closely than its cell), and the gap table without
names, free text, travel times or minutes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from api.analysis import CoverageAsk, CoverageTables, Row, viewer_geometry
from api.deps import CoverageDep, KeyDep, SettingsDep, get_key
from api.models import Link
from api.models_analysis import (
    AreaFeatureCollection,
    AreasQuery,
    AreaTable,
    CoverageQuery,
    CoverageSummary,
    GapFeatureCollection,
    GapsQuery,
    GapTable,
    GeneralisedGapFeatureCollection,
    GeneralisedGapTable,
    IndicatorsQuery,
    IndicatorTable,
)
from api.ogc import GEOJSON, JSON, url
from api.responses import PROBLEMS, Responses
from api.settings import Settings
from geoplan.coverage import CoverageParams
from geoplan.keys import ApiKey
from geoplan.policy import read_policy

router = APIRouter(
    prefix="/coverage", tags=["coverage"], responses=PROBLEMS, dependencies=[Depends(get_key)]
)
_FORMATS: Responses = {
    200: {
        "description": "JSON, or GeoJSON with `f=geojson` or `Accept: application/geo+json`.",
        "content": {GEOJSON: {}},
    }
}


@router.get(
    "/gaps",
    summary="Sites with coverage gaps, worst first",
    response_model=GapTable
    | GeneralisedGapTable
    | GapFeatureCollection
    | GeneralisedGapFeatureCollection,
    responses=_FORMATS,
)
def get_gaps(
    request: Request,
    key: KeyDep,
    coverage: CoverageDep,
    settings: SettingsDep,
    query: Annotated[GapsQuery, Query()],
) -> Response:
    """The ranked gap table: most kinds of gap first, then most people, never visited, most
    days overdue. `gap` picks the kind, `layer` the sites' layer. Viewers get an analysis made
    from each sensitive site's coarse H3 cell centre, and each site at that centre, without
    name, free text, travel times or minutes."""
    tables = tables_for(coverage, query, key, settings)
    viewer = tables.generalised
    chosen = tables.selections[(query.gap, query.layer)]
    offset, limit = query.offset, _limit(query.limit, settings)
    page = [tables.sites[i] for i in chosen[offset : offset + limit]]
    geojson = _wants_geojson(request, query.f)
    body: dict[str, Any] = {
        "numberMatched": len(chosen),
        "numberReturned": len(page),
        "links": _page_links(request, offset, limit, len(chosen), geojson=geojson),
        "coverage": tables.info,
    }
    if not geojson:
        model: type[BaseModel] = GeneralisedGapTable if viewer else GapTable
        return _json(model.model_validate({**body, "sites": page}))
    features = [_gap_feature(row, viewer=viewer) for row in page]
    model = GeneralisedGapFeatureCollection if viewer else GapFeatureCollection
    return _json(model.model_validate({**body, "features": features}), media=GEOJSON)


@router.get(
    "/areas",
    summary="People in and out of reach per admin area or H3 hexagon",
    response_model=AreaTable | AreaFeatureCollection,
    responses=_FORMATS,
)
def get_areas(
    request: Request,
    key: KeyDep,
    coverage: CoverageDep,
    settings: SettingsDep,
    query: Annotated[AreasQuery, Query()],
) -> Response:
    """Sites and people within and beyond reach (by men, women, boys and girls), sites overdue,
    never visited and with unmet needs, per admin area (hexagons when the workspace has no
    admin areas) or per H3 hexagon, most people out of reach first. The sites outside every
    admin area have a row of their own with a null `area_id`."""
    tables = tables_for(coverage, query, key, settings)
    by = query.by if query.by in tables.areas else "h3"
    rows, shapes = tables.areas[by], tables.area_shapes[by]
    offset, limit = query.offset, _limit(query.limit, settings)
    geojson = _wants_geojson(request, query.f)
    body: dict[str, Any] = {
        "by": by,
        "numberMatched": len(rows),
        "numberReturned": len(rows[offset : offset + limit]),
        "links": _page_links(request, offset, limit, len(rows), geojson=geojson),
        "coverage": tables.info,
    }
    if not geojson:
        return _json(AreaTable.model_validate({**body, "areas": rows[offset : offset + limit]}))
    features = [
        {"type": "Feature", "id": row["area_id"] or "outside", "geometry": shape, "properties": row}
        for row, shape in zip(
            rows[offset : offset + limit], shapes[offset : offset + limit], strict=True
        )
    ]
    return _json(
        AreaFeatureCollection.model_validate({**body, "features": features}), media=GEOJSON
    )


@router.get("/indicators", summary="Indicators against their targets and pace")
def get_indicators(
    request: Request,
    key: KeyDep,
    coverage: CoverageDep,
    settings: SettingsDep,
    query: Annotated[IndicatorsQuery, Query()],
) -> IndicatorTable:
    """Each indicator of the results matrix: its value from the outreach visits, progress
    against the target, the value expected by now at an even pace, and whether it is met, on
    track, behind or not started."""
    tables = tables_for(coverage, query, key, settings)
    rows = [r for r in tables.indicators if query.status in (None, r["status"])]
    links = [Link(href=str(request.url), rel="self", type=JSON)]
    return IndicatorTable.model_validate(
        {"coverage": tables.info, "indicators": rows, "links": links}
    )


@router.get("/summary", summary="The analysis in a few numbers")
def get_summary(
    request: Request,
    key: KeyDep,
    coverage: CoverageDep,
    settings: SettingsDep,
    query: Annotated[CoverageQuery, Query()],
) -> CoverageSummary:
    """People within and beyond reach (by men, women, boys and girls), how many sites have each
    kind of gap, the indicators behind pace, and the summary `geoplan coverage` prints."""
    tables = tables_for(coverage, query, key, settings)
    params = request.query_params
    links = [
        Link(href=str(request.url), rel="self", type=JSON),
        Link(href=url(request, "/coverage/gaps", params), rel="related", type=JSON, title="Gaps"),
        Link(href=url(request, "/coverage/areas", params), rel="related", type=JSON, title="Areas"),
        Link(
            href=url(request, "/coverage/indicators", params),
            rel="related",
            type=JSON,
            title="Indicators",
        ),
    ]
    return CoverageSummary.model_validate(
        {**tables.summary, "coverage": tables.info, "links": links}
    )


# --- helpers ------------------------------------------------------------------------------


def tables_for(
    coverage: CoverageDep, query: CoverageQuery, key: ApiKey, settings: Settings
) -> CoverageTables:
    """The analysis a query asks for, as the caller's role may ask it: a viewer's is made from
    the generalised layers (every route's answer, the areas' and the summary's too).

    Raises
    ------
    HTTPException
        403 when a viewer asks for hexagons finer than the viewers' resolution.
    """
    resolution = query.resolution
    policy = read_policy(coverage.store)
    viewer = policy.generalises(key.role)
    if viewer:
        allowed = policy.viewer_resolution
        if resolution is not None and resolution > allowed:
            msg = (
                f"resolution {resolution}: a viewer may ask for H3 resolution {allowed} or coarser"
            )
            raise HTTPException(403, msg + " (smaller numbers); finer cells would locate sites")
        resolution = min(resolution or CoverageParams.h3_resolution, allowed)
    ask = CoverageAsk(
        period=query.period,
        threshold=query.threshold,
        today=query.date,
        resolution=resolution,
        generalised=viewer,
        viewer_resolution=policy.viewer_resolution if viewer else None,
    )
    tables = coverage.tables(ask)
    if tables.generalised != viewer:  # the cache key keeps them apart: never pass one as the other
        raise RuntimeError(f"coverage tables for the wrong role ({key.role})")
    return tables


def _limit(asked: int | None, settings: Settings) -> int:
    return min(asked or settings.page_limit_default, settings.page_limit_max)


def _wants_geojson(request: Request, f: str | None) -> bool:
    if f is not None:
        return f == "geojson"
    return GEOJSON in request.headers.get("accept", "")


def _page_links(
    request: Request, offset: int, limit: int, matched: int, *, geojson: bool
) -> list[Link]:
    path = request.url.path.removeprefix(request.scope.get("root_path", ""))
    query = dict(request.query_params)
    here, there = (GEOJSON, JSON) if geojson else (JSON, GEOJSON)
    other = {**query, "f": "json" if geojson else "geojson"}
    links = [
        Link(href=url(request, path, query), rel="self", type=here),
        Link(href=url(request, path, other), rel="alternate", type=there),
    ]
    if offset + limit < matched:
        after = {**query, "offset": str(offset + limit), "limit": str(limit)}
        links.append(Link(href=url(request, path, after), rel="next", type=here))
    if offset > 0:
        before = {**query, "offset": str(max(0, offset - limit)), "limit": str(limit)}
        links.append(Link(href=url(request, path, before), rel="prev", type=here))
    return links


def _gap_feature(row: Row, *, viewer: bool) -> dict[str, Any]:
    if viewer:
        return {
            "type": "Feature",
            "id": row["id"],
            "geometry": viewer_geometry(row),
            "properties": row,
        }
    properties = {k: v for k, v in row.items() if k not in ("lon", "lat")}
    point = {"type": "Point", "coordinates": (row["lon"], row["lat"])}
    return {"type": "Feature", "id": row["id"], "geometry": point, "properties": properties}


def _json(model: BaseModel, *, media: str = JSON) -> Response:
    return Response(model.model_dump_json(), media_type=media)
