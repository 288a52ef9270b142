"""The command that writes ready-to-fill layer templates: ``geoplan template``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geoplan.cli.common import app, out
from geoplan.templates import write_template


@app.command("template")
def template_command(
    layer: Annotated[
        str, typer.Argument(help="Layer to make a template for (see `geoplan layers`).")
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="File to write: .xlsx (with drop-down lists), .csv, or .gpkg (for areas).",
        ),
    ],
) -> None:
    """Write an empty, ready-to-fill template of LAYER: the columns `geoplan import` reads.

    The XLSX has one sheet to fill with the layer's columns (required ones in red; a note on
    each header says what goes there), drop-down lists of the allowed values, a check on
    counts, and a Fields sheet describing every column. List columns take several values
    separated by , or ; and day columns take ranges such as Sun-Thu. Area layers
    (admin_areas, no_go_zones) need polygons: write a .gpkg and draw them in QGIS.

    [bold]Examples[/bold]

      geoplan template gathering_points -o sites.xlsx

      geoplan template teams -o teams.csv

      geoplan template no_go_zones -o zones.gpkg
    """
    path = write_template(layer, output)
    out.print(f"Wrote the {layer} template to {path}")
