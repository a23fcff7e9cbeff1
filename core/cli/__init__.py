"""The `runyard` command line (click): runs, experiments, gc, export, db, and the TUI entry points.

Errors of the core (RunyardError) are printed as one line `Error: <message>` with passwords masked;
a query error prints its multi-line message with the caret and exits with status 2, as does a
store that cannot be opened. Nothing here prints a traceback unless RUNYARD_DEBUG is set.
"""

from __future__ import annotations

import os
from typing import Any

import click

from ..config import mask_uri
from ..exceptions import InvalidQuery, RunyardError, StoreError
from .common import store_option


class CommandError(click.ClickException):
    """A RunyardError (or unexpected failure) shown as `Error: <message>`, exit status 1."""

    def __init__(self, message: str) -> None:
        super().__init__(mask_uri(message))


class InputError(CommandError):
    """A bad query or a store that cannot be opened: `Error: <message>`, exit status 2."""

    exit_code = 2


class RunyardGroup(click.Group):
    """The root group: turns core errors into one-line messages instead of tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; translate RunyardError and unexpected exceptions into CommandError."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except InvalidQuery as error:
            raise InputError(error.message) from None
        except StoreError as error:
            raise InputError(error.message) from None
        except RunyardError as error:
            raise CommandError(error.message) from None
        except KeyboardInterrupt:
            raise
        except Exception as error:  # noqa: BLE001 - a one-line message, never a traceback
            if os.environ.get("RUNYARD_DEBUG"):
                raise
            first = (str(error).strip().splitlines() or [""])[0]
            raise CommandError(
                f"{type(error).__name__}: {first} (set RUNYARD_DEBUG=1 to see the traceback)"
            ) from None


@click.group(
    cls=RunyardGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@store_option
@click.version_option(package_name="runyard", prog_name="runyard")
@click.pass_context
def cli(ctx: click.Context, store: str | None) -> None:
    """runyard: track ML training runs and browse them in the terminal.

    Without a command, opens the terminal UI on the store (RUNYARD_TRACKING_URI, else ./runyard.db).

    \b
    Examples:
      runyard demo                      write a demo store and open it
      runyard ui runyard-demo/runyard.db
      runyard runs search -e /vision/resnet -f "metrics.accuracy > 0.9"
    """
    ctx.obj = {"store": store}
    if ctx.invoked_subcommand is None:
        from .common import resolve_store
        from .ui import launch_tui

        launch_tui(resolve_store(store))


def _register() -> None:
    from .access import permissions_group, tokens_group, users_group
    from .experiments import experiments_group
    from .logs import logs_command
    from .maintenance import db_group, export_csv_command, gc_command
    from .runs import runs_group
    from .server import server_command
    from .sync import sync_command
    from .ui import demo_command, ui_command
    from .watch import watch_command

    for command in (
        runs_group,
        experiments_group,
        logs_command,
        watch_command,
        gc_command,
        export_csv_command,
        db_group,
        ui_command,
        demo_command,
        server_command,
        sync_command,
        users_group,
        permissions_group,
        tokens_group,
    ):
        cli.add_command(command)


_register()

from .interop import register as _register_interop  # noqa: E402  (export, import, copy, import-mlflow)

_register_interop(cli)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `runyard` console script."""
    cli.main(args=argv, prog_name="runyard")
