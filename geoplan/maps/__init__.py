"""Maps: folium pages that team leaders open and print.

``build`` composes the maps, ``content`` turns frames into map features, ``style`` holds
every colour, icon and page asset.
"""

from geoplan.maps.build import (
    CLUSTER_ABOVE,
    MAP_KINDS,
    add_context,
    add_coverage,
    add_layers,
    add_plan,
    add_team_bases,
    base_map,
    coverage_map,
    layers_map,
    map_frame,
    plan_grid_page,
    plan_map,
    render_map,
    save_map,
    write_maps,
)
from geoplan.maps.style import Paper

__all__ = [
    "CLUSTER_ABOVE",
    "MAP_KINDS",
    "Paper",
    "add_context",
    "add_coverage",
    "add_layers",
    "add_plan",
    "add_team_bases",
    "base_map",
    "coverage_map",
    "layers_map",
    "map_frame",
    "plan_grid_page",
    "plan_map",
    "render_map",
    "save_map",
    "write_maps",
]
