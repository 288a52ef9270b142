"""Commands on whole workspaces: copy one between a GeoPackage file and PostgreSQL/PostGIS."""

from __future__ import annotations

from typing import Annotated

import typer

from geoplan.cli.common import app, out, progress_bar
from geoplan.store import copy_workspace, open_store, workspace_label

workspace_app = typer.Typer(
    help="Move a whole workspace between a GeoPackage file and a PostgreSQL/PostGIS database.",
    no_args_is_help=True,
)
app.add_typer(workspace_app, name="workspace")


@workspace_app.command("copy")
def copy_command(
    source: Annotated[
        str,
        typer.Argument(
            metavar="FROM", help="Workspace to copy: a .gpkg file or postgresql://... DSN."
        ),
    ],
    target: Annotated[
        str,
        typer.Argument(
            metavar="TO",
            help="Where to copy it: a new .gpkg file or an empty PostgreSQL database or schema.",
        ),
    ],
) -> None:
    """Copy a workspace, losing nothing: every layer (ids, fields, geometries), the API keys
    (only their hashes, as ever; they keep working), and the settings such as the operating
    area. FROM is left as it was; TO must be new or empty.

    A DSN is postgresql://USER:PASSWORD@HOST:PORT/DATABASE; add
    ?options=-csearch_path%3DSCHEMA,public to use a schema other than public.

    [bold]Examples[/bold]

      geoplan workspace copy geoplan.gpkg postgresql://geoplan:PASSWORD@db.example.org/ops

      geoplan workspace copy postgresql://geoplan@db.example.org/ops backup-2026-12-04.gpkg
    """
    with progress_bar(f"Copying {workspace_label(source)}") as tell:
        result = copy_workspace(open_store(source), open_store(target), progress=tell)
    out.print(f"{result.summary()} to {workspace_label(target)}")
