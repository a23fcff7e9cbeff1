"""`runyard users`, `runyard permissions` and `runyard tokens`: access control of `runyard server --auth`.

They work on the store's database URI (the same --store as every command). Passwords come from a
prompt or --password-stdin, never from the command line; a token's value is printed once.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from ..formatting import format_time
from .common import DurationType, find_experiment, open_client, render_table, resolve_store, store_option

if TYPE_CHECKING:
    from runyard.store.sql_store import SqlStore
    from runyard.tracking.client import TrackingClient

PERMISSION_CHOICES = click.Choice(["READ", "EDIT", "MANAGE", "NO_PERMISSIONS"], case_sensitive=False)
PERMISSION_METAVAR = "READ|EDIT|MANAGE|NO_PERMISSIONS"


def _client(store: str | None, must_exist: bool = True) -> TrackingClient:
    uri = resolve_store(store)
    if uri.startswith(("http://", "https://")):
        raise click.UsageError(
            f"{uri} is a server: users, permissions and tokens are managed on the store's database URI "
            "(e.g. --store runyard.db or --store postgresql://...), or through the server's MLflow auth "
            "API (mlflow.server.get_app_client)."
        )
    return open_client(uri, must_exist=must_exist)


def _store(store: str | None) -> SqlStore:
    return _client(store).store


def _read_password(password_stdin: bool, prompt: str = "Password") -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    if not password:
        raise click.UsageError("The password is empty: type one at the prompt or send one line on stdin.")
    return password


def _hash(password: str) -> str:
    from ..passwords import hash_password

    return hash_password(password)


password_stdin_option = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin (for scripts)."
)


# ----------------------------------------------------------------------------- users
@click.group("users")
def users_group() -> None:
    """Users of `runyard server --auth`: add, list, change passwords, make admins, remove, audit.

    \b
    Example:
      runyard users add --admin alice --store runyard.db
    """


@users_group.command("add")
@click.argument("username")
@click.option("--admin", is_flag=True, help="An administrator: may do everything, manage users.")
@password_stdin_option
@store_option
def users_add(username: str, admin: bool, password_stdin: bool, store: str | None) -> None:
    """Add a user (the password is prompted for, or read with --password-stdin).

    \b
    Examples:
      runyard users add --admin alice --store runyard.db
      echo "$PASSWORD" | runyard users add ci-bot --password-stdin
    """
    from ..store import auth

    target = _client(store, must_exist=False).store
    target.db.create_if_missing()  # the first admin may come before the server's first start
    user = auth.add_user(target, username, _hash(_read_password(password_stdin)), is_admin=admin)
    click.echo(f"Added {'administrator' if user.is_admin else 'user'} {user.username!r}.")


@users_group.command("list")
@store_option
def users_list(store: str | None) -> None:
    """List the users (never their passwords).

    \b
    Example:
      runyard users list --store runyard.db
    """
    from ..store import auth

    users = auth.list_users(_store(store))
    if not users:
        click.echo("No users: add the first administrator with `runyard users add --admin NAME`.")
        return
    rows = [[u.username, "yes" if u.is_admin else "", format_time(u.creation_time)] for u in users]
    click.echo(render_table(["USER", "ADMIN", "CREATED"], rows))


@users_group.command("passwd")
@click.argument("username")
@password_stdin_option
@store_option
def users_passwd(username: str, password_stdin: bool, store: str | None) -> None:
    """Set a user's password (ends the user's logins cached by running servers).

    \b
    Example:
      runyard users passwd bob --store runyard.db
    """
    from ..store import auth

    target = _store(store)
    auth.get_user(target, username)
    auth.set_password_hash(target, username, _hash(_read_password(password_stdin, "New password")))
    click.echo(f"Changed the password of {username!r}.")


@users_group.command("admin")
@click.argument("username")
@click.option("--off", is_flag=True, help="Take administrator rights away instead.")
@store_option
def users_admin(username: str, off: bool, store: str | None) -> None:
    """Make a user an administrator (or not, with --off).

    \b
    Example:
      runyard users admin bob --off --store runyard.db
    """
    from ..store import auth

    auth.set_admin(_store(store), username, not off)
    click.echo(f"{username!r} is {'no longer ' if off else 'now '}an administrator.")


@users_group.command("remove")
@click.argument("username")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@store_option
def users_remove(username: str, yes: bool, store: str | None) -> None:
    """Remove a user with their tokens and permissions.

    \b
    Example:
      runyard users remove bob --yes --store runyard.db
    """
    from ..store import auth

    target = _store(store)
    auth.get_user(target, username)
    if not yes:
        click.confirm(f"Remove user {username!r}, their tokens and permissions?", abort=True)
    auth.remove_user(target, username)
    click.echo(f"Removed {username!r}.")


@users_group.command("audit")
@click.option("--limit", "-n", default=50, show_default=True, type=click.IntRange(1, 100_000))
@store_option
def users_audit(limit: int, store: str | None) -> None:
    """The latest changes to users, tokens and permissions: when, who, what, to whom.

    \b
    Example:
      runyard users audit -n 20 --store runyard.db
    """
    from ..store import auth

    entries = auth.audit_entries(_store(store), limit)
    rows = [[format_time(e.time), e.actor, e.action, e.target, e.detail] for e in entries]
    click.echo(render_table(["TIME", "BY", "ACTION", "TARGET", "DETAIL"], rows) if rows else "No entries.")


# ----------------------------------------------------------------------------- permissions
@click.group("permissions")
def permissions_group() -> None:
    """Per-experiment permissions (READ, EDIT, MANAGE, NO_PERMISSIONS) of server users.

    \b
    Example:
      runyard permissions grant /vision/resnet bob EDIT --store runyard.db
    """


@permissions_group.command("grant")
@click.argument("experiment")
@click.argument("username")
@click.argument("permission", type=PERMISSION_CHOICES, metavar=PERMISSION_METAVAR)
@store_option
def permissions_grant(experiment: str, username: str, permission: str, store: str | None) -> None:
    """Give USERNAME PERMISSION on EXPERIMENT (a name or an id); replaces an earlier grant.

    READ: view runs, metrics and artifacts. EDIT: also log, tag, rename. MANAGE: also delete and
    restore, and change the experiment's permissions. NO_PERMISSIONS: nothing, not even in searches.

    \b
    Example:
      runyard permissions grant /vision/resnet alice EDIT --store runyard.db
    """
    from ..store import auth

    client = _client(store)
    found = find_experiment(client, experiment)
    auth.set_permission(client.store, found.experiment_id, username, permission)
    click.echo(f"{username!r} has {permission.upper()} on {found.name!r} ({found.experiment_id}).")


@permissions_group.command("revoke")
@click.argument("experiment")
@click.argument("username")
@store_option
def permissions_revoke(experiment: str, username: str, store: str | None) -> None:
    """Remove USERNAME's entry on EXPERIMENT: the default permission applies again.

    \b
    Example:
      runyard permissions revoke /vision/resnet bob --store runyard.db
    """
    from ..store import auth

    client = _client(store)
    found = find_experiment(client, experiment)
    removed = auth.revoke_permission(client.store, found.experiment_id, username)
    fallback = auth.default_permission(client.store)
    state = "Removed the entry of" if removed else "There was no entry for"
    click.echo(f"{state} {username!r} on {found.name!r}: the default ({fallback}) applies.")


@permissions_group.command("list")
@click.option("--experiment", "-e", default=None, help="Only this experiment (a name or an id).")
@click.option("--user", "-u", "username", default=None, help="Only this user.")
@store_option
def permissions_list(experiment: str | None, username: str | None, store: str | None) -> None:
    """List the permission entries, and the default for experiments without one.

    \b
    Example:
      runyard permissions list --user bob --store runyard.db
    """
    from ..store import auth

    client = _client(store)
    experiment_id = find_experiment(client, experiment).experiment_id if experiment else None
    entries = auth.list_permissions(client.store, experiment_id, username)
    names = {e.experiment_id: e.name for e in client.list_experiments("ALL")}
    rows = [[names.get(e.experiment_id, e.experiment_id), e.username, e.permission] for e in entries]
    if rows:
        click.echo(render_table(["EXPERIMENT", "USER", "PERMISSION"], rows))
    click.echo(f"Default for experiments without an entry: {auth.default_permission(client.store)}.")


@permissions_group.command("default")
@click.argument("permission", type=PERMISSION_CHOICES, metavar=PERMISSION_METAVAR)
@store_option
def permissions_default(permission: str, store: str | None) -> None:
    """Set the permission users have on experiments without an entry for them (READ unless set).

    \b
    Example:
      runyard permissions default NO_PERMISSIONS --store runyard.db
    """
    from ..store import auth

    auth.set_default_permission(_store(store), permission)
    click.echo(f"Default permission: {permission.upper()}.")


# ----------------------------------------------------------------------------- tokens
@click.group("tokens")
def tokens_group() -> None:
    """Bearer tokens for automation (MLFLOW_TRACKING_TOKEN): create, list, revoke.

    \b
    Example:
      export MLFLOW_TRACKING_TOKEN=$(runyard tokens create --user ci-bot --expires 90d)
    """


@tokens_group.command("create")
@click.option("--user", "-u", "username", required=True, help="Whose token it is.")
@click.option("--name", default="", help="A label to recognize it by in `runyard tokens list`.")
@click.option(
    "--expires", type=DurationType(), default=None, help="Lifetime, e.g. 90d or 12h [default: never]."
)
@store_option
def tokens_create(username: str, name: str, expires: int | None, store: str | None) -> None:
    """Create a token; its value is printed once (stdout), only its SHA-256 is kept.

    \b
    Example:
      export MLFLOW_TRACKING_TOKEN=$(runyard tokens create --user ci-bot --expires 90d)
    """
    from ..store import auth

    token, value = auth.create_token(_store(store), username, name, expires)
    until = format_time(token.expiration_time) if token.expiration_time else "never"
    click.echo(f"Token {token.id} of {username!r} (expires {until}); shown only now:", err=True)
    click.echo(value)


@tokens_group.command("list")
@click.option("--user", "-u", "username", default=None, help="Only this user's tokens.")
@store_option
def tokens_list(username: str | None, store: str | None) -> None:
    """List tokens by id (never their values).

    \b
    Example:
      runyard tokens list --user ci-bot --store runyard.db
    """
    from ..store import auth

    tokens = auth.list_tokens(_store(store), username)
    rows = [
        [
            t.id,
            t.username,
            t.name,
            format_time(t.creation_time),
            format_time(t.expiration_time) if t.expiration_time else "never",
        ]
        for t in tokens
    ]
    click.echo(render_table(["ID", "USER", "NAME", "CREATED", "EXPIRES"], rows) if rows else "No tokens.")


@tokens_group.command("revoke")
@click.argument("token_id")
@store_option
def tokens_revoke(token_id: str, store: str | None) -> None:
    """Revoke a token by its id (`runyard tokens list`); servers refuse it from the next request.

    \b
    Example:
      runyard tokens revoke 3f2a9c0d1e7b4a55 --store runyard.db
    """
    from ..store import auth

    auth.revoke_token(_store(store), token_id)
    click.echo(f"Revoked token {token_id}.")
