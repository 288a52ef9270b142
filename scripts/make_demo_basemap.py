"""Rebuild the demo's offline base map, ``layers/demo/basemap.geojson``, from public data.

Sources (see ``layers/demo/BASEMAP.md`` for licences and attribution):

- land and the mantika (admin 2) boundaries: OCHA COD P-coded boundaries via geoBoundaries,
  ``lby_adm2_cod_pcodes_geoboundaries_simplified.geojson`` (CC BY 3.0 IGO);
- place names: OpenStreetMap place nodes of Libya, 2019,
  ``libya_osm_place_nodes_2019_obiwanlansi.geojson`` (ODbL, (c) OpenStreetMap contributors).

Usage::

    python scripts/make_demo_basemap.py ../shared/data/libya
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import shapely

from geoplan.basemap import PLACE_RANKS, BaseMap, basemap_feature
from geoplan.outputs import write_text

BOX = (11.9, 32.2, 14.5, 33.3)
"""The demo's operating area (12.40, 32.45, 14.00, 32.95) and a margin around it."""
ATTRIBUTION = (
    "Base map: boundaries OCHA COD via geoBoundaries (CC BY 3.0 IGO); "
    "places \u00a9 OpenStreetMap contributors (ODbL)"
)
OUT = Path(__file__).resolve().parents[1] / "layers" / "demo" / "basemap.geojson"


def main(folder: Path) -> None:
    box = shapely.box(*BOX)
    areas = gpd.read_file(folder / "lby_adm2_cod_pcodes_geoboundaries_simplified.geojson")
    areas = areas.loc[areas.intersects(box)]
    features = []
    land = shapely.union_all(list(areas.geometry)).intersection(box).simplify(0.002)
    features.append(basemap_feature(land, "land"))
    for name, code, geom in zip(areas["ADM2_EN"], areas["ADM2_PCODE"], areas.geometry, strict=True):
        line = geom.boundary.intersection(box).difference(land.boundary.buffer(0.003))
        if not line.is_empty:
            features.append(
                basemap_feature(line.simplify(0.002), "boundary", cls="adm2", name=f"{code} {name}")
            )
    places = gpd.read_file(folder / "libya_osm_place_nodes_2019_obiwanlansi.geojson")
    places = places.loc[places.within(box) & places["VALUE"].isin(list(PLACE_RANKS))]
    for row in places.itertuples():
        name = row.NAME_EN if isinstance(row.NAME_EN, str) and row.NAME_EN else row.NAME
        if isinstance(name, str) and name:
            point = shapely.Point(round(row.geometry.x, 4), round(row.geometry.y, 4))
            rank = PLACE_RANKS[row.VALUE]
            features.append(basemap_feature(point, "place", cls=row.VALUE, name=name, rank=rank))
    made = BaseMap(tuple(features), ATTRIBUTION)
    text = json.dumps(made.to_geojson(), separators=(",", ":"), ensure_ascii=False)
    write_text(OUT, text)
    print(f"{OUT}: {len(features)} features, {len(text) / 1000:.0f} KB")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
