"""Commands that protect people: share, policy, purge and audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from geoplan.cli.common import (
    BackendOption,
    WorkspaceOption,
    app,
    err,
    existing_store,
    out,
    parse_date,
    progress_bar,
    travel_backend,
)
from geoplan.store import DEFAULT_WORKSPACE, Store

if TYPE_CHECKING:
    from geoplan.share import ShareProduct

policy_app = typer.Typer(
    help="Show or change the protection policy: who sees exact positions, what others see, "
    "the suppression threshold and how long visits are kept.",
    no_args_is_help=True,
)
app.add_typer(policy_app, name="policy")
audit_app = typer.Typer(
    help="Read and check the audit log of exports, key changes, policy changes and reads of "
    "exact positions.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")

ByOption = Annotated[
    str,
    typer.Option(
        "--by",
        help="Count per admin1 or admin2 area (by P-code) or per H3 hexagon: h3:RES, no finer "
        "than the policy's viewer resolution (e.g. h3:6).",
    ),
]
PeriodOption = Annotated[
    str | None,
    typer.Option(help="Period START..END, e.g. 2026-06-01..2026-11-30 (default: half a year)."),
]
DateOption = Annotated[
    str | None, typer.Option(help="The product's date, YYYY-MM-DD (default: today).")
]


# --- share ----------------------------------------------------------------------------------


@app.command("share")
def share_command(
    kind: Annotated[
        str, typer.Argument(help="What to share: coverage, activities or layers.", metavar="KIND")
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="File to write: .csv, .xlsx, .geojson or .html."),
    ],
    by: ByOption = "admin2",
    period: PeriodOption = None,
    date: DateOption = None,
    roads: Annotated[
        Path | None, typer.Option(help="OpenStreetMap extract for coverage's travel times.")
    ] = None,
    backend: BackendOption = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Make a product meant to leave the programme: counts per area, safe to hand to partners.

    Sensitive layers appear only as counts of sites and people per area. Under the workspace
    policy's threshold (k sites, m people; `geoplan policy show`) a count is suppressed, and
    enough others too that no suppressed count can be worked out from the totals. Counts by
    sex and age follow the same rule. The file says its level, rule, date and sources on its
    face; area shapes never point into a sensitive site's cell.

    [bold]coverage[/bold]: sites and people within reach of a clinic or base and out of reach.
    [bold]activities[/bold]: people reached in the period by men, women, boys and girls.
    [bold]layers[/bold]: sites and people per sensitive layer.

    [bold]Examples[/bold]

      geoplan share coverage --by admin2 --period 2026-06-01..2026-11-30 -o coverage.xlsx

      geoplan share activities --by h3:6 -o activities.geojson

      geoplan share layers --by admin1 -o sites.html
    """
    product = _product(kind, by, period, date, roads, backend, workspace)
    from geoplan.share import save_share  # noqa: PLC0415  (keeps --help fast)

    save_share(product, output)
    hidden = int(product.table.hidden.sum())
    out.print(
        f"Wrote {kind} per area to {escape(str(output))}: {len(product.areas)} area(s), "
        f"{hidden} cell(s) suppressed ({product.table.secondary} to protect others)."
    )


def _product(
    kind: str,
    by: str,
    period: str | None,
    date: str | None,
    roads: Path | None,
    backend: str | None,
    workspace: str,
) -> ShareProduct:
    from geoplan.indicators import Period  # noqa: PLC0415  (keeps --help fast)
    from geoplan.policy import read_policy  # noqa: PLC0415
    from geoplan.share import Level, ShareRequest  # noqa: PLC0415
    from geoplan.workspace import share_from_store  # noqa: PLC0415

    store = existing_store(workspace)
    policy = read_policy(store)
    day = parse_date(date)
    request = ShareRequest(
        kind,
        Level.parse(by, viewer_resolution=policy.viewer_resolution),
        Period.parse(period) if period else Period.ending(day),
        threshold=policy.threshold,
        viewer_resolution=policy.viewer_resolution,
    )
    with progress_bar(f"Sharing {kind}") as tell:
        travel = (
            travel_backend(roads, backend, params=None, progress=tell) if roads or backend else None
        )
        return share_from_store(store, request, backend=travel, today=day)


def share_map_command(
    output: Path, *, by: str, period: str | None, date: str | None, workspace: str
) -> None:
    """``geoplan map share``: the shared coverage map (see ``geoplan share coverage``)."""
    product = _product("coverage", by, period, date, None, None, workspace)
    from geoplan.share import save_share  # noqa: PLC0415

    save_share(product, output.with_suffix(".html") if output.suffix != ".html" else output)
    out.print(
        f"Wrote the shared coverage map to {escape(str(output))}; it holds no position of a site."
    )


def record_map_export(store: Store, kind: str, output: Path, sensitive: Iterable[str]) -> None:
    """One audit entry for a map that shows exact positions of sensitive layers."""
    from geoplan.audit import Action, command_line_user, record_event  # noqa: PLC0415

    layers = sorted(sensitive)
    if layers:
        what = f"map {kind} to {output.name}: exact positions of {', '.join(layers)}"
        record_event(store, Action.EXPORT_EXACT, who=command_line_user(), what=what)


# --- policy ---------------------------------------------------------------------------------


@policy_app.command("show")
def policy_show(workspace: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """Show the protection policy, layer by layer (defaults where nothing was set)."""
    from geoplan.policy import read_policy  # noqa: PLC0415

    table = Table("layer", "setting", "value")
    for row in read_policy(existing_store(workspace)).rows():
        table.add_row(*row)
    out.print(table)


@policy_app.command("set")
def policy_set(
    layer: Annotated[
        str, typer.Argument(help="gathering_points, detention_centres or outreach_visits.")
    ],
    setting: Annotated[
        str,
        typer.Argument(help="exact_roles, resolution, k or m (outreach_visits: retention_days)."),
    ],
    value: Annotated[
        str,
        typer.Argument(help="Roles comma-separated (planner,admin), a whole number, or none."),
    ],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Change one setting of the policy; the API and `geoplan share` follow it at once.

    k and m cannot go below 3. The change is written to the audit log.

    [bold]Examples[/bold]

      geoplan policy set gathering_points k 10

      geoplan policy set detention_centres exact_roles admin

      geoplan policy set detention_centres resolution 6

      geoplan policy set outreach_visits retention_days 365
    """
    from geoplan.audit import command_line_user  # noqa: PLC0415
    from geoplan.policy import change_policy, read_policy, set_policy  # noqa: PLC0415

    store = existing_store(workspace)
    changed = change_policy(read_policy(store), layer, setting, value)
    set_policy(store, changed, who=command_line_user(), what=f"{layer} {setting} = {value}")
    out.print(f"Policy: {escape(layer)} {escape(setting)} is now {escape(value)}.")


# --- purge ----------------------------------------------------------------------------------


@app.command("purge")
def purge_command(
    date: DateOption = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Delete the outreach visits older than the policy's retention period and say how many.

    Set the period first: `geoplan policy set outreach_visits retention_days 365`.
    """
    from geoplan.audit import command_line_user  # noqa: PLC0415
    from geoplan.policy import purge_visits, read_policy  # noqa: PLC0415

    store = existing_store(workspace)
    if read_policy(store).visit_retention_days is None:
        out.print(
            "The policy keeps visits for ever; nothing was deleted. Set a period with "
            "`geoplan policy set outreach_visits retention_days DAYS`."
        )
        return
    deleted = purge_visits(store, today=parse_date(date), who=command_line_user())
    out.print(f"Deleted {deleted} outreach visit(s) older than the retention period.")


# --- audit ----------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify(workspace: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """Check that no entry of the audit log was changed or deleted; name the first that was."""
    from geoplan.audit import verify_log  # noqa: PLC0415

    check = verify_log(existing_store(workspace))
    if check.ok:
        out.print(check.summary())
        return
    err.print(f"[red]{escape(check.summary())}[/red]")
    raise typer.Exit(1)


@audit_app.command("show")
def audit_show(
    since: Annotated[
        str | None,
        typer.Option(help="Only entries from this date or time on (YYYY-MM-DD[THH:MM], UTC)."),
    ] = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """List the audit log: when, who, what and how many rows."""
    from geoplan.audit import read_log  # noqa: PLC0415

    table = Table("#", "when (UTC)", "who", "action", "what", "rows")
    for r in read_log(existing_store(workspace), since=_since(since)):
        rows = "" if r.rows is None else str(r.rows)
        table.add_row(str(r.sequence), r.when[:19], escape(r.who), r.action, escape(r.what), rows)
    out.print(table)


def _since(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date or time YYYY-MM-DD[THH:MM]", param_hint="--since"
        ) from None
