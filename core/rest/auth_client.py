"""Users, permissions and tokens of a `runyard server --auth`, through its HTTP API, as the caller.

MLflow's auth API where it has the call (users/create|get|list|update-password|update-admin|delete,
experiments/permissions/create|delete), runyard's /api/2.0/runyard/ routes where it has none (who am
I, audit, permission listings, the default permission, tokens). The caller's credentials are the
Transport's (RUNYARD_TRACKING_* or MLFLOW_TRACKING_*); passwords travel only in JSON bodies.
"""

from __future__ import annotations

from typing import Any

from ..access import AccessToken, AuditEntry, PermissionEntry, User
from .protocol import MLFLOW_API, RUNYARD_API
from .transport import Transport

JsonDict = dict[str, Any]
USERS = f"{MLFLOW_API}/users"
EXPERIMENT_PERMISSIONS = f"{MLFLOW_API}/experiments/permissions"


def _int(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None


def _user(payload: JsonDict) -> User:
    return User(
        id=int(payload.get("id") or 0),
        username=str(payload.get("username") or ""),
        is_admin=bool(payload.get("is_admin")),
        version=0,
        creation_time=_int(payload.get("creation_time")),
    )


def _token(payload: JsonDict) -> AccessToken:
    return AccessToken(
        id=str(payload.get("id") or ""),
        username=str(payload.get("username") or ""),
        name=str(payload.get("name") or ""),
        creation_time=int(payload.get("creation_time") or 0),
        expiration_time=_int(payload.get("expiration_time")),
        last_used_time=_int(payload.get("last_used_time")),
    )


def _entry(payload: JsonDict) -> PermissionEntry:
    return PermissionEntry(
        experiment_id=str(payload.get("experiment_id") or ""),
        username=str(payload.get("username") or ""),
        user_id=int(payload.get("user_id") or 0),
        permission=str(payload.get("permission") or ""),
    )


class AuthClient:
    """The access-control calls of one tracking server (the Transport's pool and credentials)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @property
    def url(self) -> str:
        """The server's URL (never with credentials)."""
        return self.transport.base_url

    @property
    def has_credentials(self) -> bool:
        """True when requests carry a token or a username and password."""
        return bool(self.transport.credentials.headers())

    def whoami(self) -> JsonDict:
        """{auth: False} on a server without --auth, else {auth, username, is_admin, default_permission}."""
        return self.transport.call("GET", f"{RUNYARD_API}/auth/whoami", retries=1)

    # ------------------------------------------------------------------ users
    def add_user(self, username: str, password: str, is_admin: bool = False) -> User:
        """Create a user (then make them an administrator when asked)."""
        answer = self.transport.call("POST", f"{USERS}/create", {"username": username, "password": password})
        user = _user(answer.get("user") or {})
        if is_admin:
            self.set_admin(user.username, True)
            user = User(user.id, user.username, True, user.version, user.creation_time)
        return user

    def get_user(self, username: str) -> User:
        """One user (RemoteNotFound when there is none)."""
        return _user(self.transport.call("GET", f"{USERS}/get", {"username": username}).get("user") or {})

    def list_users(self) -> list[User]:
        """Every user, never a password hash."""
        return [_user(u) for u in self.transport.call("GET", f"{USERS}/list").get("users") or []]

    def set_password(self, username: str, password: str) -> None:
        """Set a user's password (for one's own, the server also wants the current one: the caller's)."""
        body = {"username": username, "password": password}
        credentials = self.transport.credentials
        if credentials.username == username and credentials.password:
            body["current_password"] = credentials.password
        self.transport.call("PATCH", f"{USERS}/update-password", body)

    def set_admin(self, username: str, is_admin: bool) -> None:
        """Make a user an administrator, or not."""
        self.transport.call("PATCH", f"{USERS}/update-admin", {"username": username, "is_admin": is_admin})

    def remove_user(self, username: str) -> None:
        """Delete a user with their tokens and permissions."""
        self.transport.call("DELETE", f"{USERS}/delete", {"username": username})

    def audit_entries(self, limit: int) -> list[AuditEntry]:
        """The latest changes to users, tokens and permissions, newest first."""
        answer = self.transport.call("GET", f"{RUNYARD_API}/users/audit", {"limit": limit})
        return [
            AuditEntry(
                int(e.get("time") or 0),
                str(e.get("actor") or ""),
                str(e.get("action") or ""),
                str(e.get("target") or ""),
                str(e.get("detail") or ""),
            )
            for e in answer.get("entries") or []
        ]

    # ------------------------------------------------------------------ permissions
    def set_permission(self, experiment_id: str, username: str, permission: str) -> None:
        """Grant (or change) a user's permission on an experiment."""
        body = {"experiment_id": experiment_id, "username": username, "permission": permission}
        self.transport.call("POST", f"{EXPERIMENT_PERMISSIONS}/create", body)

    def revoke_permission(self, experiment_id: str, username: str) -> bool:
        """Remove a user's entry on an experiment; True if there was one."""
        existed = bool(self.list_permissions(experiment_id, username))
        body = {"experiment_id": experiment_id, "username": username}
        self.transport.call("DELETE", f"{EXPERIMENT_PERMISSIONS}/delete", body)
        return existed

    def list_permissions(
        self, experiment_id: str | None = None, username: str | None = None
    ) -> list[PermissionEntry]:
        """Explicit entries: of one experiment (MANAGE on it suffices), else every one (administrators)."""
        body = {"experiment_id": experiment_id, "username": username}
        path = (
            f"{RUNYARD_API}/experiments/permissions/list"
            if experiment_id
            else f"{RUNYARD_API}/permissions/list"
        )
        return [_entry(e) for e in self.transport.call("GET", path, body).get("permissions") or []]

    def default_permission(self) -> str:
        """The permission on experiments a user has no entry for."""
        return str(self.whoami().get("default_permission") or "READ")

    def set_default_permission(self, permission: str) -> None:
        """Set the permission for experiments a user has no entry for."""
        self.transport.call("POST", f"{RUNYARD_API}/permissions/set-default", {"permission": permission})

    # ------------------------------------------------------------------ tokens
    def create_token(
        self, username: str | None, name: str = "", expires_ms: int | None = None
    ) -> tuple[AccessToken, str]:
        """A new token of the caller (or, for an administrator, of username): its listing and its value."""
        body = {"username": username, "name": name, "expires_ms": expires_ms}
        answer = self.transport.call(
            "POST", f"{RUNYARD_API}/tokens/create", {k: v for k, v in body.items() if v}
        )
        return _token(answer.get("token") or {}), str(answer.get("value") or "")

    def list_tokens(self, username: str | None = None) -> list[AccessToken]:
        """The caller's tokens (an administrator's call: everyone's, or username's)."""
        answer = self.transport.call("GET", f"{RUNYARD_API}/tokens/list", {"username": username})
        return [_token(t) for t in answer.get("tokens") or []]

    def revoke_token(self, token_id: str) -> None:
        """Revoke a token by id: one's own, or any for an administrator."""
        self.transport.call("POST", f"{RUNYARD_API}/tokens/revoke", {"token_id": token_id})
