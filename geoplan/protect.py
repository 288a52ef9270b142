"""Protecting sensitive positions: "do no harm" applies to data.

Positions of gathering points and detention centres (layers of ``high`` sensitivity) can expose
people to harm. Where they are shown to people who do not plan visits, each site moves to the
centre of the coarse H3 cell it lies in, and free text (names, notes, reasons, authorities),
which can describe a place as precisely as coordinates, is left out.

Analyses shown to such people run on the generalised layers (:func:`generalise_frames`), not on
the exact ones with the output generalised afterwards: an answer computed from cell centres is
the same for every position in the cell, so no sweep of an analysis' options (thresholds,
dates) can narrow a site down below its cell.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import h3
import pandas as pd
import shapely

from geoplan.catalog import LayerDef, get_layer
from geoplan.errors import ParameterError

HIGH = "high"
CELL_COLUMN = "h3_cell"
MAX_RESOLUTION = 8  # cells of about 0.7 km2: anything finer is not a generalisation


def is_protected(layer: LayerDef) -> bool:
    """Whether the layer's positions are generalised for people who may not see them."""
    return layer.sensitivity == HIGH and layer.geometry == "Point"


def free_text_fields(layer: LayerDef) -> tuple[str, ...]:
    """Text fields without a fixed form (names, notes, reasons), which can locate a site."""
    return tuple(
        f.name
        for f in layer.fields
        if f.type == "string" and not f.pattern and f.name != layer.id_field
    )


def cell_centre(cell: str) -> tuple[float, float]:
    """Longitude and latitude of an H3 cell's centre, rounded to 6 decimals."""
    lat, lon = h3.cell_to_latlng(cell)
    return (round(lon, 6), round(lat, 6))


def generalise_points(
    frame: gpd.GeoDataFrame, layer: LayerDef, *, resolution: int
) -> gpd.GeoDataFrame:
    """A layer's sites moved to the centres of their H3 cells, without free text.

    The result has an ``h3_cell`` column; rows without a position keep none.

    Raises
    ------
    ParameterError
        If ``resolution`` is finer than :data:`MAX_RESOLUTION` or below 0.
    """
    if not 0 <= resolution <= MAX_RESOLUTION:
        msg = f"resolution {resolution} is not a generalisation; use 0..{MAX_RESOLUTION}"
        raise ParameterError(msg)
    cells = [
        None if p is None or p.is_empty else h3.latlng_to_cell(p.y, p.x, resolution)
        for p in frame.geometry
    ]
    centres = [None if c is None else shapely.Point(cell_centre(c)) for c in cells]
    out = frame.drop(columns=[c for c in free_text_fields(layer) if c in frame.columns])
    out = out.assign(**{CELL_COLUMN: cells})
    return out.set_geometry(gpd.GeoSeries(centres, index=frame.index, crs=frame.crs))


def generalise_frames(
    frames: Mapping[str, pd.DataFrame], *, resolution: int
) -> dict[str, pd.DataFrame]:
    """Layers keyed by name with every protected layer generalised (:func:`generalise_points`)
    and the others as they are: the input of an analysis meant for people who may not see
    exact positions.

    Raises
    ------
    ParameterError
        If ``resolution`` is not a generalisation (see :func:`generalise_points`).
    """
    return {name: _generalised(frame, name, resolution) for name, frame in frames.items()}


def _generalised(frame: pd.DataFrame, name: str, resolution: int) -> pd.DataFrame:
    layer = get_layer(name)
    if not is_protected(layer):
        return frame
    assert isinstance(frame, gpd.GeoDataFrame)  # a point layer is read with its geometry
    return generalise_points(frame, layer, resolution=resolution)
