"""Summing sites per area: admin areas (by P-code, else by location) and H3 hexagons.

Every site lands in exactly one area or in the ``outside`` group, so per-area totals always
add up to the national total.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from geoplan.errors import ParameterError

OUTSIDE = "(outside every area)"
"""Name of the group of sites that fall in no area."""

AREA_SOURCES = ("p-code", "location", "location, p-code unknown", "outside")
"""How a site was placed in its area (the ``area_source`` column)."""


def assign_areas(sites: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """The admin area of every site: by its ``admin_code`` when that names an area, else by
    where the site lies.

    A site on the border of two areas goes to the one with the smaller id, so each site is
    counted once.

    Parameters
    ----------
    sites
        Points with ``id`` and, optionally, ``admin_code`` columns.
    areas
        Polygons with ``id`` (the P-code) and ``name`` columns.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``sites``: ``area_id`` and ``area_name`` (missing when outside every
        area) and ``area_source`` (one of :data:`AREA_SOURCES`).

    Raises
    ------
    ParameterError
        If ``areas`` lacks an ``id`` or ``name`` column or repeats an id.
    """
    _check_areas(areas)
    names = dict(zip(areas["id"].astype(str), areas["name"].astype(str), strict=True))
    codes = _codes(sites)
    by_code = codes.where(codes.isin(list(names)))
    by_place = _areas_by_location(sites, areas)
    area_id = by_code.fillna(by_place)
    source = np.select(
        [by_code.notna(), by_place.notna() & codes.notna(), by_place.notna()],
        ["p-code", "location, p-code unknown", "location"],
        default="outside",
    )
    return pd.DataFrame(
        {
            "area_id": area_id.astype("string"),
            "area_name": area_id.map(names).astype("string"),
            "area_source": source,
        },
        index=sites.index,
    )


def _check_areas(areas: gpd.GeoDataFrame) -> None:
    missing = [c for c in ("id", "name") if c not in areas.columns]
    if missing:
        msg = f"admin_areas: expected columns id and name, missing {', '.join(missing)}"
        raise ParameterError(msg)
    repeated = sorted(set(areas["id"][areas["id"].duplicated()].astype(str)))
    if repeated:
        msg = f"admin_areas: ids must be unique, repeated: {', '.join(repeated[:10])}"
        raise ParameterError(msg)


def _codes(sites: gpd.GeoDataFrame) -> pd.Series:
    if "admin_code" not in sites.columns:
        return pd.Series(pd.NA, index=sites.index, dtype="string")
    codes = sites["admin_code"].astype("string").str.strip()
    return codes.where(codes != "")


def _areas_by_location(sites: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.Series:
    points = gpd.GeoDataFrame(
        geometry=sites.geometry.to_crs(areas.crs) if areas.crs else sites.geometry
    )
    polygons = areas[["id", "geometry"]].sort_values("id")
    joined = gpd.sjoin(points, polygons, how="inner", predicate="intersects")
    first = joined.sort_values("id", kind="stable").groupby(level=0)["id"].first()
    return first.reindex(sites.index).astype("string")


# --- H3 -------------------------------------------------------------------------------------


def h3_cells(sites: gpd.GeoDataFrame, *, resolution: int) -> pd.Series:
    """The H3 cell (v4 id) of every point at ``resolution``; missing for empty geometries.

    Raises
    ------
    ParameterError
        If ``resolution`` is not in 0..15.
    """
    if not 0 <= resolution <= 15:
        raise ParameterError(f"h3_resolution: expected 0..15, got {resolution}; 7 is about 5 km2")
    geoms = (
        sites.geometry.to_crs(4326) if sites.crs and sites.crs.to_epsg() != 4326 else sites.geometry
    )
    shapes = geoms.to_numpy()
    present = ~(shapely.is_missing(shapes) | shapely.is_empty(shapes))
    cells = np.full(len(shapes), None, dtype=object)
    lon, lat = shapely.get_x(shapes[present]), shapely.get_y(shapes[present])
    cells[present] = [h3.latlng_to_cell(y, x, resolution) for x, y in zip(lon, lat, strict=True)]
    return pd.Series(cells, index=sites.index, dtype="string")


def h3_polygons(cells: Iterable[str]) -> gpd.GeoSeries:
    """The hexagon (or pentagon) of every H3 cell, in EPSG:4326."""
    shapes = [shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in cells]
    return gpd.GeoSeries(shapes, crs="EPSG:4326")


# --- totals ---------------------------------------------------------------------------------


def totals_by_area(
    values: pd.DataFrame,
    area_id: pd.Series,
    *,
    areas: pd.DataFrame,
    columns: Sequence[str],
) -> pd.DataFrame:
    """Sum ``columns`` of ``values`` per area; sites without an area go to an ``outside`` row.

    Every area of ``areas`` gets a row, with zeros when no site lies in it, so the rows add
    up to the column totals of ``values``.

    Parameters
    ----------
    values
        Numbers per site.
    area_id
        Area id per site, aligned with ``values``; missing for sites outside every area.
    areas
        ``id`` and ``name`` of every area.
    columns
        The columns to sum.
    """
    sums = values[list(columns)].groupby(area_id.fillna("").to_numpy()).sum()
    order = list(areas["id"].astype(str))
    table = sums.reindex(order, fill_value=0)
    table.insert(0, "area_name", list(areas["name"].astype(str)))
    if "" in sums.index:
        outside = sums.loc[[""]].assign(area_name=OUTSIDE)
        table = pd.concat([table, outside[table.columns]])
    return table.rename_axis("area_id").reset_index()
