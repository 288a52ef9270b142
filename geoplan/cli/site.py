"""Commands for one site by id: show it, change some of its fields."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

from geoplan.cli.common import WorkspaceOption, app, existing_store, out, pairs
from geoplan.store import DEFAULT_WORKSPACE

site_app = typer.Typer(
    help="Show one site, or change some of its fields, by its id alone (GP-0157, DC-03, ...): "
    "the site layer holding it is found for you.",
    no_args_is_help=True,
)
app.add_typer(site_app, name="site")

SiteArgument = Annotated[
    str, typer.Argument(help="Id of the site, in any site layer (e.g. GP-0157).", metavar="ID")
]
FormatOption = Annotated[
    str, typer.Option("--format", help="text (for people) or json (for programs).")
]


@site_app.command("show")
def site_show(
    site_id: SiteArgument,
    fmt: FormatOption = "text",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Show a site's layer and every field, empty ones included (not its position).

    [bold]Examples[/bold]

      geoplan site show GP-0157

      geoplan site show DC-03 --format json
    """
    from geoplan.edits import read_site  # noqa: PLC0415  (keeps --help fast)

    _check_format(fmt)
    site = read_site(existing_store(workspace), site_id)
    _print(site.summary(), site.to_dict(), fmt)


@site_app.command("set")
def site_set(
    site_id: SiteArgument,
    assignments: Annotated[
        list[str],
        typer.Argument(
            help="FIELD=VALUE, one or more: values as in an import file (dates YYYY-MM-DD, "
            "lists separated by commas, e.g. services_needed=health,mhpss); FIELD= clears it.",
            metavar="FIELD=VALUE...",
        ),
    ],
    fmt: FormatOption = "text",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Change some fields of one site, checked by the same rules as an import.

    The whole site is checked again with its layer's rules (allowed values, counts that add
    up, dates not in the future, ...); if anything is wrong nothing is written and every
    problem is listed with its fix. Otherwise the change is written in one transaction and
    each field is printed with its old and new value. The next `geoplan plan` works from the
    changed site: an inaccessible site is left out with reason inaccessible. Each change is
    recorded in the audit log (`geoplan audit show`).

    [bold]Examples[/bold]

      geoplan site set GP-0157 access_status=inaccessible access_reason="checkpoint closed"

      geoplan site set DC-03 access_days=sun,tue visit_frequency_days=7 --format json
    """
    from geoplan.edits import set_site_fields  # noqa: PLC0415  (keeps --help fast)

    _check_format(fmt)
    values = dict(pairs(assignments, "FIELD=VALUE"))
    edit = set_site_fields(existing_store(workspace), site_id, values)
    _print(edit.summary(), edit.to_dict(), fmt)


def _check_format(fmt: str) -> None:
    if fmt not in ("text", "json"):
        raise typer.BadParameter(f"{fmt!r} is not text or json", param_hint="--format")


def _print(text: str, data: dict[str, object], fmt: str) -> None:
    if fmt == "json":
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        out.print(escape(text))
