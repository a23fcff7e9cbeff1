"""`runyard ui`, `runyard demo` and the bare `runyard`: open the TUI on a store that exists."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..config import mask_uri, normalize_tracking_uri, sqlite_file_path
from ..exceptions import SchemaVersionError, StoreError
from .common import resolve_store, store_option

if TYPE_CHECKING:
    from ..tracking.client import TrackingClient

DEMO_HINT = "`runyard demo` writes a demo store to explore"
DEMO_DB_NAME = "runyard.db"


class StoreUnavailable(click.ClickException):
    """The store to open in the TUI is missing, unreachable or not a runyard store (exit status 2)."""

    exit_code = 2


def check_store(uri: str) -> TrackingClient:
    """A client of a store that exists and answers; StoreUnavailable (exit 2) otherwise.

    The TUI goes on with this client: on a tracking server, its connection and the server's version
    (asked once per client) are not asked for again.
    """
    from runyard.config import is_remote_uri
    from runyard.exceptions import RunyardError
    from runyard.tracking.client import TrackingClient

    try:
        client = TrackingClient(uri, must_exist=True)
        client.list_experiments()
    except RunyardError as error:
        if is_remote_uri(uri) or not isinstance(error, StoreError):
            raise StoreUnavailable(mask_uri(error.message)) from None
        message = error.message
        if not isinstance(error, SchemaVersionError) and "runyard demo" not in message:
            message = f"{message.rstrip('.')}. ({DEMO_HINT}.)"
        raise StoreUnavailable(mask_uri(message)) from None
    return client


def check_while_the_tui_loads(uri: str) -> TrackingClient:
    """check_store(uri); for a tracking server, in a thread while this one imports the TUI.

    The server's answers (version, experiments) then arrive while Textual loads instead of before.
    What the check imports is imported first, here: the two threads never import the same modules.
    """
    import importlib

    from runyard.config import is_remote_uri

    if not is_remote_uri(uri):
        return check_store(uri)
    from runyard.rest.transport import import_http_client

    for name in ("runyard.clock", "runyard.tracking.client", "runyard.rest.store"):
        importlib.import_module(name)
    import_http_client()
    outcome: list[TrackingClient | BaseException] = []

    def check() -> None:
        try:
            outcome.append(check_store(uri))
        except BaseException as error:  # noqa: BLE001 - raised again on the main thread
            outcome.append(error)

    thread = threading.Thread(target=check, name="runyard-store-check", daemon=True)
    thread.start()
    try:
        importlib.import_module("runyard.tui.app")
    except ImportError:
        pass  # launch_tui says the TUI is missing once the check is done
    thread.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def launch_tui(uri: str, exit_after_first_render: bool = False) -> None:
    """Check the store, then hand it to runyard.tui.launch."""
    client = check_while_the_tui_loads(uri)
    try:
        from ..tui import launch
    except ImportError as error:
        raise click.ClickException(f"The runyard TUI is not available in this install: {error}.") from None
    status = launch(client.tracking_uri, exit_after_first_render=exit_after_first_render, client=client)
    if status:
        sys.exit(status)  # the TUI crashed; it printed where the traceback is


def launch_watch(uri: str, experiment_ids: list[str], metric_keys: tuple[str, ...]) -> None:
    """Open the TUI on its watch screen (the RUNNING runs of these experiments)."""
    client = check_store(uri)
    try:
        from ..tui import launch
    except ImportError as error:
        raise click.ClickException(f"The runyard TUI is not available in this install: {error}.") from None
    status = launch(client.tracking_uri, watch=(experiment_ids, metric_keys), client=client)
    if status:
        sys.exit(status)


def _store_of(path_or_uri: str) -> str:
    """A URI from a URI, a .db path, or a directory holding runyard.db (such as ./runyard-demo)."""
    candidate = Path(path_or_uri).expanduser()
    if "://" not in path_or_uri and candidate.is_dir() and (candidate / DEMO_DB_NAME).is_file():
        candidate = candidate / DEMO_DB_NAME
        return normalize_tracking_uri(str(candidate))
    return normalize_tracking_uri(path_or_uri)


def _shown(uri: str) -> str:
    """How to name a store on the command line: a short path for SQLite files, the masked URI otherwise."""
    path = sqlite_file_path(uri)
    if path is None:
        return mask_uri(uri)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@click.command("ui", short_help="Open the terminal UI on a store.")
@click.argument("path_or_uri", required=False, metavar="[PATH_OR_URI]")
@store_option
@click.option("--exit-after-first-render", is_flag=True, hidden=True)
def ui_command(path_or_uri: str | None, store: str | None, exit_after_first_render: bool) -> None:
    """Open the terminal UI on a store: a .db file, a database URL, or a tracking server.

    A tracking server is `runyard server` or a stock `mlflow server` (http:// or https://); credentials
    come from RUNYARD_TRACKING_TOKEN, or RUNYARD_TRACKING_USERNAME and _PASSWORD (MLflow's
    MLFLOW_TRACKING_* names work too).

    \b
    Examples:
      runyard ui
      runyard ui runyard-demo
      runyard ui postgresql://tracker@db.example/runs
      runyard ui http://tracking.example:5000
    """
    if path_or_uri and store:
        raise click.UsageError("Give the store either as PATH_OR_URI or with --store, not both.")
    uri = _store_of(path_or_uri) if path_or_uri else resolve_store(store)
    launch_tui(uri, exit_after_first_render)


@click.command("demo", short_help="Write a demo store and open it in the terminal UI.")
@click.option(
    "--path",
    "directory",
    type=click.Path(file_okay=False),
    default="runyard-demo",
    show_default=True,
    help="Directory to write the demo store into.",
)
@click.option(
    "--open/--no-open",
    "open_tui",
    default=None,
    help="Open the TUI on it afterwards [default: yes in a terminal, no otherwise].",
)
@click.option(
    "--fresh",
    is_flag=True,
    help="Rewrite the demo store even if the directory already holds one (deletes that store).",
)
def demo_command(directory: str, open_tui: bool | None, fresh: bool) -> None:
    """Write a realistic demo store (experiments, a sweep, metric curves, artifacts) and open it.

    \b
    Example:
      runyard demo --path /tmp/runyard-demo --no-open
    """
    try:
        from runyard.demo.build import write_demo_store
    except ImportError as error:
        raise click.ClickException(f"The demo is not available in this build: {error}.") from None
    existing = Path(directory) / "runyard.db"
    if existing.is_file() and not fresh:
        uri = _store_of(str(existing))
        click.echo(f"Opening the demo store already in {directory}/ (--fresh rewrites it).", err=True)
    else:
        uri = _write_demo_with_progress(write_demo_store, directory, fresh)
        click.echo(f"Demo store written to {_shown(uri)}", err=True)
    if open_tui is None:
        open_tui = sys.stdin.isatty() and sys.stdout.isatty()
    if open_tui:
        launch_tui(uri)
    else:
        click.echo(f"Open it with: runyard ui {_shown(uri)}", err=True)


def _write_demo_with_progress(write_demo_store: Any, directory: str, fresh: bool) -> str:
    """Write the demo store with a progress bar on stderr (it takes seconds before the app can open)."""
    with click.progressbar(
        length=1, label="Writing the demo store", file=sys.stderr, item_show_func=lambda part: part
    ) as bar:

        def progress(part: str, done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos, None if part == "done" else part)

        return str(write_demo_store(str(Path(directory)), overwrite=fresh, progress=progress))
