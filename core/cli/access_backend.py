"""Where `runyard users|permissions|tokens` act: the store's database, or a tracking server's auth API.

Both answer the same calls (`SqlAccess` here, `runyard.rest.auth_client.AuthClient` over HTTP), so each
command is written once. On a server every call is made as the caller (credentials from
RUNYARD_TRACKING_* or MLFLOW_TRACKING_*); the server decides what they may do, and a refusal becomes
one line naming what the command needs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import click

from ..access import AccessToken, AuditEntry, PermissionEntry, User
from ..config import is_remote_uri, mask_uri
from .common import open_client, resolve_store

if TYPE_CHECKING:
    from runyard.store.sql_store import SqlStore
    from runyard.tracking.client import TrackingClient

F = TypeVar("F", bound=Callable[..., Any])
CREDENTIALS_HINT = (
    "set RUNYARD_TRACKING_USERNAME and RUNYARD_TRACKING_PASSWORD, or RUNYARD_TRACKING_TOKEN "
    "(MLflow's MLFLOW_TRACKING_* names work too)"
)


class AccessCalls(Protocol):
    """What the commands call, on a database or on a server."""

    def add_user(self, username: str, password: str, is_admin: bool = False) -> User: ...
    def get_user(self, username: str) -> User: ...
    def list_users(self) -> list[User]: ...
    def set_password(self, username: str, password: str) -> None: ...
    def set_admin(self, username: str, is_admin: bool) -> None: ...
    def remove_user(self, username: str) -> None: ...
    def audit_entries(self, limit: int) -> list[AuditEntry]: ...
    def set_permission(self, experiment_id: str, username: str, permission: str) -> None: ...
    def revoke_permission(self, experiment_id: str, username: str) -> bool: ...
    def list_permissions(
        self, experiment_id: str | None = None, username: str | None = None
    ) -> list[PermissionEntry]: ...
    def default_permission(self) -> str: ...
    def set_default_permission(self, permission: str) -> None: ...
    def create_token(
        self, username: str | None, name: str = "", expires_ms: int | None = None
    ) -> tuple[AccessToken, str]: ...
    def list_tokens(self, username: str | None = None) -> list[AccessToken]: ...
    def revoke_token(self, token_id: str) -> None: ...


@dataclass
class SqlAccess:
    """The calls on the store's database (the CLI user is the database's owner: no checks)."""

    store: SqlStore

    def add_user(self, username: str, password: str, is_admin: bool = False) -> User:
        from ..passwords import hash_password
        from ..store import auth

        self.store.db.create_if_missing()  # the first admin may come before the server's first start
        return auth.add_user(self.store, username, hash_password(password), is_admin=is_admin)

    def get_user(self, username: str) -> User:
        from ..store import auth

        return auth.get_user(self.store, username)

    def list_users(self) -> list[User]:
        from ..store import auth

        return auth.list_users(self.store)

    def set_password(self, username: str, password: str) -> None:
        from ..passwords import hash_password
        from ..store import auth

        auth.get_user(self.store, username)
        auth.set_password_hash(self.store, username, hash_password(password))

    def set_admin(self, username: str, is_admin: bool) -> None:
        from ..store import auth

        auth.set_admin(self.store, username, is_admin)

    def remove_user(self, username: str) -> None:
        from ..store import auth

        auth.remove_user(self.store, username)

    def audit_entries(self, limit: int) -> list[AuditEntry]:
        from ..store import auth

        return auth.audit_entries(self.store, limit)

    def set_permission(self, experiment_id: str, username: str, permission: str) -> None:
        from ..store import auth

        auth.set_permission(self.store, experiment_id, username, permission)

    def revoke_permission(self, experiment_id: str, username: str) -> bool:
        from ..store import auth

        return auth.revoke_permission(self.store, experiment_id, username)

    def list_permissions(
        self, experiment_id: str | None = None, username: str | None = None
    ) -> list[PermissionEntry]:
        from ..store import auth

        return auth.list_permissions(self.store, experiment_id, username)

    def default_permission(self) -> str:
        from ..store import auth

        return auth.default_permission(self.store)

    def set_default_permission(self, permission: str) -> None:
        from ..store import auth

        auth.set_default_permission(self.store, permission)

    def create_token(
        self, username: str | None, name: str = "", expires_ms: int | None = None
    ) -> tuple[AccessToken, str]:
        from ..store import auth

        if not username:
            raise click.UsageError(
                "On a database URI, name whose token it is: --user NAME (on a server the default is you)."
            )
        return auth.create_token(self.store, username, name, expires_ms)

    def list_tokens(self, username: str | None = None) -> list[AccessToken]:
        from ..store import auth

        return auth.list_tokens(self.store, username)

    def revoke_token(self, token_id: str) -> None:
        from ..store import auth

        auth.revoke_token(self.store, token_id)


@dataclass
class Access:
    """The calls and the experiments (by name or id) of one --store, and the signed-in caller if remote."""

    calls: AccessCalls
    client: TrackingClient
    url: str | None = None  # the server's URL (None: a database)
    caller: str | None = None
    caller_is_admin: bool = False


def open_access(store: str | None, must_exist: bool = True) -> Access:
    """The database's or the server's access calls; on a server, checks who the caller is first."""
    uri = resolve_store(store)
    client = open_client(uri, must_exist=must_exist and not is_remote_uri(uri))
    if not is_remote_uri(uri):
        return Access(SqlAccess(client.store), client)
    from runyard.rest.auth_client import AuthClient
    from runyard.rest.transport import AuthenticationFailed, RemoteNotFound

    remote = AuthClient(client.store.transport)
    url = mask_uri(remote.url)
    try:
        me = remote.whoami()
    except RemoteNotFound:
        raise click.ClickException(
            f"{url} has no runyard access API (a stock MLflow server, or an older runyard): manage its "
            "users with MLflow's client (mlflow.server.get_app_client('basic-auth', tracking_uri))."
        ) from None
    except AuthenticationFailed as error:
        if remote.has_credentials:
            raise click.ClickException(str(error)) from None
        raise click.ClickException(f"{url} needs your credentials: {CREDENTIALS_HINT}.") from None
    if not me.get("auth"):
        raise click.ClickException(
            f"Auth is off on {url}: it has no users, permissions or tokens. Start it with "
            "`runyard server --auth` to turn access control on."
        )
    return Access(remote, client, url, str(me.get("username") or ""), bool(me.get("is_admin")))


def refused_as(needs: str) -> Callable[[F], F]:
    """Turn a server's 403 into one line: `runyard users list needs an administrator on URL: why`."""

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            from runyard.rest.transport import PermissionDenied

            try:
                return command(*args, **kwargs)
            except PermissionDenied as error:
                words = click.get_current_context().command_path.split()[1:]  # e.g. users list
                command_line = " ".join(["runyard", *words])
                url = mask_uri(resolve_store(kwargs.get("store")))
                raise click.ClickException(f"{command_line} needs {needs} on {url}: {error}") from None

        return run  # type: ignore[return-value]

    return decorate
