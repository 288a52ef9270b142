"""The ``geoplan`` command.

Each command parses its options, makes one call into the library and prints the result.
Errors are printed in plain words without a traceback; the exit code is 0 on success, 1 when
data is invalid or a step fails, and 2 when the command itself is used wrongly.

Commands live in one module per topic beside this one (``layers``, ``travel``, ``plan``,
``server``, ``share``, ``site``); each registers itself on :data:`geoplan.cli.common.app` when imported here, so a
new topic is one new module and one import line.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from geoplan.cli import layers, plan, plans, server, share, site, template, travel, workspace  # noqa: F401  (each registers its commands)
from geoplan.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    USAGE_ERRORS,
    app,
    err,
    print_report,
)
from geoplan.errors import GeoplanError, LayerValidationError
from geoplan.outputs import disk_full, is_disk_full

__all__ = ["app", "main", "run"]


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code, printing errors without tracebacks."""
    try:
        app(args=list(argv) if argv is not None else None, prog_name="geoplan")
    except SystemExit as exc:  # typer exits itself on success, --help and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_FAILED
    except LayerValidationError as exc:
        print_report(exc.report)
        return EXIT_FAILED
    except USAGE_ERRORS as exc:
        err.print(f"[red]error:[/red] {exc}")
        return EXIT_USAGE
    except GeoplanError as exc:
        err.print(f"[red]error:[/red] {exc}")
        return EXIT_FAILED
    except OSError as exc:
        err.print(f"[red]error:[/red] {_os_error_text(exc)}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        err.print("Interrupted; nothing half-written was kept.")
        return 130
    except Exception as exc:  # a bug: say so plainly, without a traceback
        err.print(f"[red]internal error:[/red] {type(exc).__name__}: {exc}. Please report it.")
        return EXIT_FAILED
    return EXIT_OK


def _os_error_text(exc: OSError) -> str:
    """What went wrong, in words: a full disk says so and where; anything else as the system
    says it, with the file."""
    if is_disk_full(exc):
        where = Path(exc.filename).parent if exc.filename else "the output folder"
        return str(disk_full(where))
    return f"{exc.strerror or exc}: {exc.filename or ''}"


def main() -> None:
    """Entry point of the ``geoplan`` console script."""
    sys.exit(run())
