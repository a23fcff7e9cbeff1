"""Access control's model: MLflow's permission names and order, and the users, tokens and audit entries."""

from __future__ import annotations

from dataclasses import dataclass, field

from .exceptions import InvalidInput, RunyardError

NO_PERMISSIONS, READ, EDIT, MANAGE = "NO_PERMISSIONS", "READ", "EDIT", "MANAGE"
# Weakest first: a permission allows what every permission before it allows.
PERMISSION_ORDER = (NO_PERMISSIONS, READ, EDIT, MANAGE)
DEFAULT_PERMISSION = READ  # for experiments a user has no entry for, as MLflow's default
DEFAULT_PERMISSION_SETTING = "auth.default_permission"
MAX_USERNAME = 256


def check_permission(permission: str) -> str:
    """The permission in MLflow's spelling (case-insensitive), or InvalidInput naming the accepted ones."""
    upper = str(permission).strip().upper()
    if upper not in PERMISSION_ORDER:
        raise InvalidInput(f"Unknown permission {permission!r}: use one of {', '.join(PERMISSION_ORDER)}.")
    return upper


def allows(granted: str, needed: str) -> bool:
    """True when the granted permission includes the needed one (READ < EDIT < MANAGE)."""
    return PERMISSION_ORDER.index(granted) >= PERMISSION_ORDER.index(needed)


def check_username(username: str) -> str:
    """A username without surrounding space, 1..256 characters, no ':' (HTTP Basic splits on it)."""
    name = str(username or "").strip()
    if not name or len(name) > MAX_USERNAME or ":" in name or any(c.isspace() for c in name):
        raise InvalidInput(
            f"Invalid username {username!r}: use 1 to {MAX_USERNAME} characters without spaces or ':'."
        )
    return name


class UserNotFound(RunyardError, KeyError):
    """No user with that name."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "No such user."


class UserExists(InvalidInput):
    """A user with that name exists already."""


class TokenNotFound(RunyardError, KeyError):
    """No token with that id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "No such token."


@dataclass(frozen=True)
class User:
    """A server user (never carries the password hash out of the store, except for verification)."""

    id: int
    username: str
    is_admin: bool
    version: int
    creation_time: int | None = None


@dataclass(frozen=True)
class Credential:
    """What a login is checked against: the user and the stored password hash."""

    user: User
    password_hash: str


@dataclass(frozen=True)
class AccessToken:
    """A bearer token's listing: its id, owner, name and times (the value is shown only once)."""

    id: str
    username: str
    name: str
    creation_time: int
    expiration_time: int | None
    last_used_time: int | None


@dataclass(frozen=True)
class PermissionEntry:
    """A user's explicit permission on one experiment."""

    experiment_id: str
    username: str
    user_id: int
    permission: str


@dataclass(frozen=True)
class AuditEntry:
    """One recorded change to users, tokens or permissions."""

    time: int
    actor: str
    action: str
    target: str
    detail: str


@dataclass(frozen=True)
class AccessFacts:
    """What one request's access decision needs, read from the store in one go."""

    user: User | None  # None: unknown user id, or a token unknown, revoked or expired
    run_experiments: dict[str, str] = field(default_factory=dict)  # known run id -> experiment id
    name_experiments: dict[str, str] = field(default_factory=dict)  # experiment name -> id
    explicit: dict[str, str] = field(default_factory=dict)  # the user's entries on the experiments asked
    default: str = DEFAULT_PERMISSION
    readable: set[str] | None = None  # when asked: the readable experiment ids (None: all)
    model_experiments: dict[str, str] = field(default_factory=dict)  # known logged model id -> experiment
    prefix_experiments: list[str] = field(default_factory=list)  # ids of the experiments in a folder asked

    def permission(self, experiment_id: str) -> str:
        """The user's effective permission on an experiment (MANAGE for admins)."""
        if self.user is not None and self.user.is_admin:
            return MANAGE
        return self.explicit.get(experiment_id, self.default)
