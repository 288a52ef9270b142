"""Maps: folium pages that team leaders open and print.

``build`` composes the maps, ``content`` turns frames into map features, ``style`` holds
every colour, icon and page asset.
"""

from geoplan.maps.build import (
    CLUSTER_ABOVE,
    MAP_KINDS,
    MAP_LAYERS,
    MapRequest,
    add_context,
    add_coverage,
    add_layers,
    add_plan,
    add_team_bases,
    base_map,
    coverage_map,
    layers_map,
    map_frame,
    map_from_store,
    plan_map,
    reach_area,
    read_frames,
    render_map,
    road_reach_area,
    save_map,
    straight_line_params,
    write_maps,
)

__all__ = [
    "CLUSTER_ABOVE",
    "MAP_KINDS",
    "MAP_LAYERS",
    "MapRequest",
    "add_context",
    "add_coverage",
    "add_layers",
    "add_plan",
    "add_team_bases",
    "base_map",
    "coverage_map",
    "layers_map",
    "map_frame",
    "map_from_store",
    "plan_map",
    "reach_area",
    "read_frames",
    "render_map",
    "road_reach_area",
    "save_map",
    "straight_line_params",
    "write_maps",
]
