"""`runyard users`, `runyard permissions` and `runyard tokens`: access control of `runyard server --auth`.

They work on the store's database URI (the same --store as every command), or on the server's URL
(--store https://host:port) as the caller whose credentials are in RUNYARD_TRACKING_* or
MLFLOW_TRACKING_*: there the server decides (users for administrators; permissions for
administrators and MANAGE holders; tokens for their owner). Passwords come from a prompt or
--password-stdin, never from the command line; a token's value is printed once.
"""

from __future__ import annotations

import sys

import click

from ..formatting import format_time
from .access_backend import open_access, refused_as
from .common import DurationType, find_experiment, render_table, store_option

PERMISSION_CHOICES = click.Choice(["READ", "EDIT", "MANAGE", "NO_PERMISSIONS"], case_sensitive=False)
PERMISSION_METAVAR = "READ|EDIT|MANAGE|NO_PERMISSIONS"
ADMIN = "an administrator"
ADMIN_OR_MANAGE = "an administrator or MANAGE on the experiment"


def _read_password(password_stdin: bool, prompt: str = "Password") -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    if not password:
        raise click.UsageError("The password is empty: type one at the prompt or send one line on stdin.")
    return password


password_stdin_option = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin (for scripts)."
)


# ----------------------------------------------------------------------------- users
@click.group("users")
def users_group() -> None:
    """Users of `runyard server --auth`: add, list, change passwords, make admins, remove, audit.

    On the store's database URI, or on the server's URL as an administrator (credentials from
    RUNYARD_TRACKING_USERNAME/PASSWORD or _TOKEN, or MLFLOW_TRACKING_*).

    \b
    Examples:
      runyard users add --admin alice --store runyard.db
      runyard users list --store https://tracking.example.com
    """


@users_group.command("add")
@click.argument("username")
@click.option("--admin", is_flag=True, help="An administrator: may do everything, manage users.")
@password_stdin_option
@store_option
@refused_as(ADMIN)
def users_add(username: str, admin: bool, password_stdin: bool, store: str | None) -> None:
    """Add a user (the password is prompted for, or read with --password-stdin).

    \b
    Examples:
      runyard users add --admin alice --store runyard.db
      echo "$PASSWORD" | runyard users add ci-bot --password-stdin --store https://tracking.example.com
    """
    access = open_access(store, must_exist=False)
    user = access.calls.add_user(username, _read_password(password_stdin), is_admin=admin)
    click.echo(f"Added {'administrator' if user.is_admin else 'user'} {user.username!r}.")


@users_group.command("list")
@store_option
@refused_as(ADMIN)
def users_list(store: str | None) -> None:
    """List the users (never their passwords).

    \b
    Example:
      runyard users list --store runyard.db
    """
    users = open_access(store).calls.list_users()
    if not users:
        click.echo("No users: add the first administrator with `runyard users add --admin NAME`.")
        return
    rows = [[u.username, "yes" if u.is_admin else "", format_time(u.creation_time)] for u in users]
    click.echo(render_table(["USER", "ADMIN", "CREATED"], rows))


@users_group.command("passwd")
@click.argument("username")
@password_stdin_option
@store_option
@refused_as(ADMIN)
def users_passwd(username: str, password_stdin: bool, store: str | None) -> None:
    """Set a user's password (ends the user's logins cached by running servers).

    \b
    Example:
      runyard users passwd bob --store runyard.db
    """
    calls = open_access(store).calls
    calls.set_password(username, _read_password(password_stdin, "New password"))
    click.echo(f"Changed the password of {username!r}.")


@users_group.command("admin")
@click.argument("username")
@click.option("--off", is_flag=True, help="Take administrator rights away instead.")
@store_option
@refused_as(ADMIN)
def users_admin(username: str, off: bool, store: str | None) -> None:
    """Make a user an administrator (or not, with --off).

    \b
    Example:
      runyard users admin bob --off --store runyard.db
    """
    open_access(store).calls.set_admin(username, not off)
    click.echo(f"{username!r} is {'no longer ' if off else 'now '}an administrator.")


@users_group.command("remove")
@click.argument("username")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@store_option
@refused_as(ADMIN)
def users_remove(username: str, yes: bool, store: str | None) -> None:
    """Remove a user with their tokens and permissions.

    \b
    Example:
      runyard users remove bob --yes --store runyard.db
    """
    calls = open_access(store).calls
    calls.get_user(username)
    if not yes:
        click.confirm(f"Remove user {username!r}, their tokens and permissions?", abort=True)
    calls.remove_user(username)
    click.echo(f"Removed {username!r}.")


@users_group.command("audit")
@click.option("--limit", "-n", default=50, show_default=True, type=click.IntRange(1, 100_000))
@store_option
@refused_as(ADMIN)
def users_audit(limit: int, store: str | None) -> None:
    """The latest changes to users, tokens and permissions: when, who, what, to whom.

    \b
    Example:
      runyard users audit -n 20 --store runyard.db
    """
    entries = open_access(store).calls.audit_entries(limit)
    rows = [[format_time(e.time), e.actor, e.action, e.target, e.detail] for e in entries]
    click.echo(render_table(["TIME", "BY", "ACTION", "TARGET", "DETAIL"], rows) if rows else "No entries.")


# ----------------------------------------------------------------------------- permissions
@click.group("permissions")
def permissions_group() -> None:
    """Per-experiment permissions (READ, EDIT, MANAGE, NO_PERMISSIONS) of server users.

    On the store's database URI, or on the server's URL as an administrator or a user with MANAGE
    on the experiment (credentials from RUNYARD_TRACKING_* or MLFLOW_TRACKING_*).

    \b
    Examples:
      runyard permissions grant /vision/resnet bob EDIT --store runyard.db
      runyard permissions list -e /vision/resnet --store https://tracking.example.com
    """


@permissions_group.command("grant")
@click.argument("experiment")
@click.argument("username")
@click.argument("permission", type=PERMISSION_CHOICES, metavar=PERMISSION_METAVAR)
@store_option
@refused_as(ADMIN_OR_MANAGE)
def permissions_grant(experiment: str, username: str, permission: str, store: str | None) -> None:
    """Give USERNAME PERMISSION on EXPERIMENT (a name or an id); replaces an earlier grant.

    READ: view runs, metrics and artifacts. EDIT: also log, tag, rename. MANAGE: also delete and
    restore, and change the experiment's permissions. NO_PERMISSIONS: nothing, not even in searches.

    \b
    Example:
      runyard permissions grant /vision/resnet alice EDIT --store runyard.db
    """
    access = open_access(store)
    found = find_experiment(access.client, experiment)
    access.calls.set_permission(found.experiment_id, username, permission.upper())
    click.echo(f"{username!r} has {permission.upper()} on {found.name!r} ({found.experiment_id}).")


@permissions_group.command("revoke")
@click.argument("experiment")
@click.argument("username")
@store_option
@refused_as(ADMIN_OR_MANAGE)
def permissions_revoke(experiment: str, username: str, store: str | None) -> None:
    """Remove USERNAME's entry on EXPERIMENT: the default permission applies again.

    \b
    Example:
      runyard permissions revoke /vision/resnet bob --store runyard.db
    """
    access = open_access(store)
    found = find_experiment(access.client, experiment)
    removed = access.calls.revoke_permission(found.experiment_id, username)
    fallback = access.calls.default_permission()
    state = "Removed the entry of" if removed else "There was no entry for"
    click.echo(f"{state} {username!r} on {found.name!r}: the default ({fallback}) applies.")


@permissions_group.command("list")
@click.option("--experiment", "-e", default=None, help="Only this experiment (a name or an id).")
@click.option("--user", "-u", "username", default=None, help="Only this user.")
@store_option
@refused_as(ADMIN + " (or --experiment with MANAGE on it)")
def permissions_list(experiment: str | None, username: str | None, store: str | None) -> None:
    """List the permission entries, and the default for experiments without one.

    On a server, every entry needs an administrator; one experiment's (--experiment), MANAGE on it.

    \b
    Example:
      runyard permissions list --user bob --store runyard.db
    """
    access = open_access(store)
    client = access.client
    experiment_id = find_experiment(client, experiment).experiment_id if experiment else None
    entries = access.calls.list_permissions(experiment_id, username)
    names = {e.experiment_id: e.name for e in client.list_experiments("ALL")}
    rows = [[names.get(e.experiment_id, e.experiment_id), e.username, e.permission] for e in entries]
    if rows:
        click.echo(render_table(["EXPERIMENT", "USER", "PERMISSION"], rows))
    click.echo(f"Default for experiments without an entry: {access.calls.default_permission()}.")


@permissions_group.command("default")
@click.argument("permission", type=PERMISSION_CHOICES, metavar=PERMISSION_METAVAR)
@store_option
@refused_as(ADMIN)
def permissions_default(permission: str, store: str | None) -> None:
    """Set the permission users have on experiments without an entry for them (READ unless set).

    \b
    Example:
      runyard permissions default NO_PERMISSIONS --store runyard.db
    """
    open_access(store).calls.set_default_permission(permission.upper())
    click.echo(f"Default permission: {permission.upper()}.")


# ----------------------------------------------------------------------------- tokens
@click.group("tokens")
def tokens_group() -> None:
    """Bearer tokens for automation (MLFLOW_TRACKING_TOKEN): create, list, revoke.

    On the store's database URI, or on the server's URL as the caller (credentials from
    RUNYARD_TRACKING_* or MLFLOW_TRACKING_*): your own tokens; an administrator's, anyone's.

    \b
    Examples:
      export MLFLOW_TRACKING_TOKEN=$(runyard tokens create --user ci-bot --expires 90d)
      MLFLOW_TRACKING_USERNAME=bob MLFLOW_TRACKING_PASSWORD=... \\
        runyard tokens create --name ci --store https://tracking.example.com
    """


@tokens_group.command("create")
@click.option(
    "--user",
    "-u",
    "username",
    default=None,
    help="Whose token it is (required on a database URI; on a server you, unless an administrator).",
)
@click.option("--name", default="", help="A label to recognize it by in `runyard tokens list`.")
@click.option(
    "--expires", type=DurationType(), default=None, help="Lifetime, e.g. 90d or 12h [default: never]."
)
@store_option
@refused_as(ADMIN + " to make tokens for others")
def tokens_create(username: str | None, name: str, expires: int | None, store: str | None) -> None:
    """Create a token; its value is printed once (stdout), only its SHA-256 is kept.

    \b
    Examples:
      export MLFLOW_TRACKING_TOKEN=$(runyard tokens create --user ci-bot --expires 90d)
      runyard tokens create --name laptop --store https://tracking.example.com  # your own
    """
    token, value = open_access(store).calls.create_token(username, name, expires)
    until = format_time(token.expiration_time) if token.expiration_time else "never"
    click.echo(f"Token {token.id} of {token.username!r} (expires {until}); shown only now:", err=True)
    click.echo(value)


@tokens_group.command("list")
@click.option("--user", "-u", "username", default=None, help="Only this user's tokens.")
@store_option
@refused_as(ADMIN + " to list others' tokens")
def tokens_list(username: str | None, store: str | None) -> None:
    """List tokens by id (never their values); on a server, your own (an administrator's: all).

    \b
    Example:
      runyard tokens list --user ci-bot --store runyard.db
    """
    tokens = open_access(store).calls.list_tokens(username)
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
@refused_as(ADMIN)
def tokens_revoke(token_id: str, store: str | None) -> None:
    """Revoke a token by its id (`runyard tokens list`); servers refuse it from the next request.

    On a server: your own tokens (an administrator: anyone's).

    \b
    Example:
      runyard tokens revoke 3f2a9c0d1e7b4a55 --store runyard.db
    """
    open_access(store).calls.revoke_token(token_id)
    click.echo(f"Revoked token {token_id}.")
