"""`runyard sync`: send what logging processes left in the outboxes on this machine to their servers."""

from __future__ import annotations

import click

from ..config import mask_uri


@click.command("sync", short_help="Send metric points left in local outboxes to their tracking servers.")
@click.option(
    "--store",
    "store",
    metavar="URL",
    default=None,
    help="Only the outboxes of this tracking server (http(s)://...; credentials in the URL are used "
    "for it) [default: every outbox, each to the server it was logged to].",
)
def sync_command(store: str | None) -> None:
    """Replay the outboxes of runs logged over HTTP while their server was away.

    A process logging to a tracking server keeps unsent metric points in an outbox on local disk
    (RUNYARD_OUTBOX_DIR, else the user's data directory) and sends them itself when the server is
    back; `runyard sync` sends what a process left behind when it ended first. Each outbox goes to
    the server it was logged to, with the credentials of RUNYARD_TRACKING_TOKEN or _USERNAME and
    _PASSWORD (MLflow's MLFLOW_TRACKING_* names work too); emptied outboxes are removed, and
    outboxes of processes that still run are left to them.

    Replaying is idempotent: every batch carries a batch id that a runyard server records, so a
    batch stored before (say, its answer was lost) is not stored twice. A stock MLflow server
    ignores batch ids: there a replay relies on MLflow dropping exact duplicate metric points.

    \b
    Examples:
      runyard sync
      runyard sync --store https://tracking.example.com
    """
    from ..rest.outbox import outbox_dir

    def plural(count: int, noun: str) -> str:
        return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"

    from ..rest.sync import SyncedOutbox, sync_outboxes
    from ..rest.transport import is_remote_uri

    if store is not None and not is_remote_uri(store):
        raise click.UsageError(
            f"--store {mask_uri(store)!r} is not a tracking server: give its http(s):// URL "
            "(outboxes hold points logged over HTTP)."
        )

    def report(result: SyncedOutbox) -> None:
        where = mask_uri(result.server_url)
        if result.sent or not (result.skipped or result.refused):
            click.echo(f"Sent {plural(result.sent, 'point')} of run {result.run_id} to {where}.")
        for message in result.refusals:
            click.echo(f"Refused and dropped: {mask_uri(message)}", err=True)
        if result.skipped:
            click.echo(
                f"Kept {plural(result.waiting, 'point')} of run {result.run_id}: {mask_uri(result.skipped)}.",
                err=True,
            )

    results = sync_outboxes(store, report=report)
    if not results:
        click.echo(f"Nothing to sync: no outbox in {outbox_dir()}.")
        return
    sent = sum(r.sent for r in results)
    removed = sum(r.removed for r in results)
    waiting = [r for r in results if r.waiting]
    click.echo(
        f"Synced {plural(sent, 'point')} of {plural(sum(1 for r in results if r.sent), 'run')}; "
        f"removed {removed} emptied {'outbox' if removed == 1 else 'outboxes'}."
    )
    away = [r for r in waiting if not r.skipped.startswith("its process")]
    if away:
        points = sum(r.waiting for r in away)
        raise click.ClickException(
            f"{plural(points, 'point')} of {plural(len(away), 'run')} still wait in outboxes; "
            "run `runyard sync` again when the tracking server is back."
        )
