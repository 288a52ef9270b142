"""Commands for the HTTP API: serve and keys."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from geoplan.keys import create_key, list_keys, revoke_key
from geoplan.store import DEFAULT_WORKSPACE, is_url, open_store
from geoplan.vocab import Role

if TYPE_CHECKING:
    pass

from geoplan.cli.common import (
    WorkspaceOption,
    app,
    err,
    existing_store,
    keys_app,
    out,
)

# --- API ----------------------------------------------------------------------------------


@app.command("serve")
def serve_command(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    host: Annotated[
        str, typer.Option(help="Address to listen on; 127.0.0.1 keeps it on this machine.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help=(
                "API worker processes answering requests on the port, one per CPU core for a "
                "busy server (best on a PostgreSQL workspace). Every worker sees every write "
                "and key revocation at its next request; a plan job is known only to the "
                "worker that took it (see README: server deployment)."
            ),
        ),
    ] = 1,
) -> None:
    """Run the HTTP API (OGC API - Features layers, keys) on the workspace until Ctrl+C.

    Every route but /health needs a key in the X-API-Key header: make one with
    `geoplan keys create --role ROLE`. The documentation is at /docs. More settings come from
    GEOPLAN_* environment variables (see README).

    [bold]Examples[/bold]

      geoplan serve --workspace geoplan-demo/geoplan.gpkg

      GEOPLAN_PUBLIC_URL=https://maps.example.org geoplan serve --host 0.0.0.0 --port 8080

      geoplan serve --workspace postgresql://geoplan:PASSWORD@db.example.org/ops --workers 4
    """
    import os  # noqa: PLC0415

    import uvicorn  # noqa: PLC0415  (keeps --help fast)

    store = existing_store(workspace)
    if not any(k.active for k in list_keys(store)):
        err.print(
            "note: this workspace has no API keys yet; make one with `geoplan keys create --role admin`"
        )
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(
            "note: keys travel in clear text over HTTP; put the API behind HTTPS (a reverse proxy)"
        )
        err.print(
            "note: requests must name a trusted host: set GEOPLAN_PUBLIC_URL (or "
            "GEOPLAN_TRUSTED_HOSTS) to the address clients use"
        )
    name = workspace if is_url(workspace) else str(Path(workspace).resolve())
    os.environ["GEOPLAN_WORKSPACE"] = name
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        server_header=False,  # the server's name and version help nobody but a scanner
        timeout_keep_alive=5,  # idle kept-alive connections close after 5 s
        timeout_graceful_shutdown=10,  # Ctrl+C waits at most 10 s for requests in flight
        limit_concurrency=200,  # more connections and requests at once than this get 503
        backlog=256,
    )  # request bodies have their own time limit: GEOPLAN_BODY_TIMEOUT (api/limits.py)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help=f"One of {', '.join(Role)} (see README: roles).")],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")] = "",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Make an API key with a role and print it once; only its hash is kept.

    [bold]Examples[/bold]

      geoplan keys create --role viewer --name "QGIS, GIS officer"

      geoplan keys create --role admin
    """
    key, token = create_key(open_store(workspace), role=role, name=name)
    out.print(f"Key {key.key_id} ({key.role}) created. It is shown only now; keep it safe:")
    out.print(token)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `geoplan keys list` shows it.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Revoke a key: the API refuses it from the next request on.

    [bold]Example[/bold]

      geoplan keys revoke 3f2a9c0b1d4e
    """
    key = revoke_key(existing_store(workspace), key_id)
    out.print(f"Key {key.key_id} ({key.role}) revoked at {key.revoked}.")


@keys_app.command("list")
def keys_list(workspace: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """List the keys: id, role, name, created and revoked (never the keys themselves)."""
    table = Table("id", "role", "name", "created", "revoked")
    for key in list_keys(existing_store(workspace)):
        table.add_row(key.key_id, key.role, escape(key.name), key.created, key.revoked or "")
    out.print(table)
