"""Users, bearer tokens, experiment permissions and the audit trail of `runyard server --auth`, in SQL.

Every user string reaches SQL as a bound parameter. Password hashes are written and read here but
computed elsewhere (runyard.passwords): the store never sees a password.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from runyard import clock
from runyard.access import (
    DEFAULT_PERMISSION,
    DEFAULT_PERMISSION_SETTING,
    MANAGE,
    NO_PERMISSIONS,
    AccessFacts,
    AccessToken,
    AuditEntry,
    Credential,
    PermissionEntry,
    TokenNotFound,
    User,
    UserExists,
    UserNotFound,
    check_permission,
    check_username,
)
from runyard.exceptions import ExperimentNotFound
from runyard.store.models import (
    AccessTokenRow,
    AuthAuditRow,
    ExperimentPermissionRow,
    StoreSettingRow,
    UserRow,
)
from runyard.store.sql_store import chunked, experiments_t, runs_t
from sqlalchemy import and_, delete, func, insert, select, update

if TYPE_CHECKING:
    from runyard.store.sql_store import SqlStore
    from sqlalchemy.engine import Connection, RowMapping

users_t = UserRow.__table__
permissions_t = ExperimentPermissionRow.__table__
tokens_t = AccessTokenRow.__table__
audit_t = AuthAuditRow.__table__
settings_t = StoreSettingRow.__table__

TOKEN_PREFIX = "ryt_"


def _user(row: RowMapping) -> User:
    return User(
        id=int(row["id"]),
        username=str(row["username"]),
        is_admin=bool(row["is_admin"]),
        version=int(row["version"]),
        creation_time=row["creation_time"],
    )


def _audit(conn: Connection, actor: str, action: str, target: str, detail: str = "") -> None:
    conn.execute(
        insert(audit_t).values(time=clock.now_ms(), actor=actor, action=action, target=target, detail=detail)
    )


def _user_row(conn: Connection, username: str) -> RowMapping:
    row = conn.execute(select(users_t).where(users_t.c.username == username)).mappings().first()
    if row is None:
        raise UserNotFound(f"No user {username!r}: `runyard users list` shows the users.")
    return row


# ----------------------------------------------------------------------------- users
def count_users(store: SqlStore) -> int:
    """How many users the store has (0: access control was never set up)."""
    with store.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(users_t)).scalar_one())


def add_user(
    store: SqlStore, username: str, password_hash: str, is_admin: bool = False, actor: str = "cli"
) -> User:
    """Create a user with an already computed password hash."""
    name = check_username(username)
    now = clock.now_ms()
    with store.db.connect(write=True) as conn:
        exists = conn.execute(select(users_t.c.id).where(users_t.c.username == name)).first()
        if exists is not None:
            raise UserExists(f"User {name!r} exists already: use `runyard users passwd {name}` to change it.")
        conn.execute(
            insert(users_t).values(
                username=name,
                password_hash=password_hash,
                is_admin=bool(is_admin),
                version=1,
                creation_time=now,
                last_update_time=now,
            )
        )
        _audit(conn, actor, "user.create", name, "admin" if is_admin else "")
        return _user(_user_row(conn, name))


def get_user(store: SqlStore, username: str) -> User:
    """The user with that name, or UserNotFound."""
    with store.db.connect() as conn:
        return _user(_user_row(conn, str(username)))


def get_credential(store: SqlStore, username: str) -> Credential | None:
    """The user and password hash a login is verified against, or None for an unknown name."""
    with store.db.connect() as conn:
        row = conn.execute(select(users_t).where(users_t.c.username == str(username))).mappings().first()
        return Credential(_user(row), str(row["password_hash"])) if row is not None else None


def list_users(store: SqlStore) -> list[User]:
    """Every user, by name."""
    with store.db.connect() as conn:
        rows = conn.execute(select(users_t).order_by(users_t.c.username)).mappings().all()
        return [_user(row) for row in rows]


def set_password_hash(store: SqlStore, username: str, password_hash: str, actor: str = "cli") -> None:
    """Replace a user's password hash; bumps the user's version, which ends cached logins."""
    with store.db.connect(write=True) as conn:
        row = _user_row(conn, str(username))
        conn.execute(
            update(users_t)
            .where(users_t.c.id == row["id"])
            .values(
                password_hash=password_hash, version=users_t.c.version + 1, last_update_time=clock.now_ms()
            )
        )
        _audit(conn, actor, "user.password", row["username"])


def set_admin(store: SqlStore, username: str, is_admin: bool, actor: str = "cli") -> None:
    """Make a user an administrator or not (bumps the version)."""
    with store.db.connect(write=True) as conn:
        row = _user_row(conn, str(username))
        conn.execute(
            update(users_t)
            .where(users_t.c.id == row["id"])
            .values(is_admin=bool(is_admin), version=users_t.c.version + 1, last_update_time=clock.now_ms())
        )
        _audit(conn, actor, "user.admin", row["username"], "on" if is_admin else "off")


def remove_user(store: SqlStore, username: str, actor: str = "cli") -> None:
    """Delete a user with their tokens and permissions."""
    with store.db.connect(write=True) as conn:
        row = _user_row(conn, str(username))
        conn.execute(delete(tokens_t).where(tokens_t.c.user_id == row["id"]))
        conn.execute(delete(permissions_t).where(permissions_t.c.user_id == row["id"]))
        conn.execute(delete(users_t).where(users_t.c.id == row["id"]))
        _audit(conn, actor, "user.delete", row["username"])


# ----------------------------------------------------------------------------- tokens
def token_digest(value: str) -> str:
    """The SHA-256 hex digest a token is stored and looked up as."""
    return hashlib.sha256(value.encode()).hexdigest()


def create_token(
    store: SqlStore, username: str, name: str = "", expires_ms: int | None = None, actor: str = "cli"
) -> tuple[AccessToken, str]:
    """A new 256-bit bearer token of the user: its listing and its value (shown once, stored hashed)."""
    value = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = secrets.token_hex(8)
    now = clock.now_ms()
    expiration = now + int(expires_ms) if expires_ms is not None else None
    with store.db.connect(write=True) as conn:
        row = _user_row(conn, str(username))
        conn.execute(
            insert(tokens_t).values(
                id=token_id,
                user_id=row["id"],
                token_sha256=token_digest(value),
                name=str(name or "")[:250],
                creation_time=now,
                expiration_time=expiration,
            )
        )
        _audit(conn, actor, "token.create", row["username"], f"id {token_id}")
    return AccessToken(token_id, str(row["username"]), str(name or ""), now, expiration, None), value


def list_tokens(store: SqlStore, username: str | None = None) -> list[AccessToken]:
    """Every token (or the user's), newest first; never the values."""
    query = select(tokens_t, users_t.c.username).join(users_t, users_t.c.id == tokens_t.c.user_id)
    if username is not None:
        query = query.where(users_t.c.username == str(username))
    with store.db.connect() as conn:
        rows = conn.execute(query.order_by(tokens_t.c.creation_time.desc())).mappings().all()
    return [
        AccessToken(
            str(r["id"]),
            str(r["username"]),
            str(r["name"]),
            r["creation_time"],
            r["expiration_time"],
            r["last_used_time"],
        )
        for r in rows
    ]


def revoke_token(store: SqlStore, token_id: str, actor: str = "cli") -> None:
    """Delete a token by id; TokenNotFound when there is none."""
    with store.db.connect(write=True) as conn:
        row = conn.execute(
            select(tokens_t.c.id, users_t.c.username)
            .join(users_t, users_t.c.id == tokens_t.c.user_id)
            .where(tokens_t.c.id == str(token_id))
        ).first()
        if row is None:
            raise TokenNotFound(f"No token with id {token_id!r}: `runyard tokens list` shows the ids.")
        conn.execute(delete(tokens_t).where(tokens_t.c.id == str(token_id)))
        _audit(conn, actor, "token.revoke", str(row[1]), f"id {token_id}")


def user_of_token(store: SqlStore, value: str) -> User | None:
    """The user a bearer token value belongs to, or None (unknown or expired)."""
    now = clock.now_ms()
    with store.db.connect() as conn:
        row = (
            conn.execute(
                select(users_t)
                .join(tokens_t, tokens_t.c.user_id == users_t.c.id)
                .where(tokens_t.c.token_sha256 == token_digest(value))
                .where((tokens_t.c.expiration_time.is_(None)) | (tokens_t.c.expiration_time > now))
            )
            .mappings()
            .first()
        )
        return _user(row) if row is not None else None


# ----------------------------------------------------------------------------- permissions
def default_permission(store: SqlStore) -> str:
    """The permission of users on experiments they have no entry for (READ unless set)."""
    with store.db.connect() as conn:
        return _default_permission(conn)


def set_default_permission(store: SqlStore, permission: str, actor: str = "cli") -> None:
    """Set the permission for experiments a user has no entry for."""
    permission = check_permission(permission)
    with store.db.connect(write=True) as conn:
        conn.execute(delete(settings_t).where(settings_t.c.key == DEFAULT_PERMISSION_SETTING))
        conn.execute(insert(settings_t).values(key=DEFAULT_PERMISSION_SETTING, value=permission))
        _audit(conn, actor, "permission.default", "*", permission)


def _require_experiment(conn: Connection, experiment_id: str) -> None:
    found = conn.execute(
        select(experiments_t.c.experiment_id).where(experiments_t.c.experiment_id == str(experiment_id))
    ).first()
    if found is None:
        raise ExperimentNotFound(f"No experiment with id {experiment_id!r}.")


def set_permission(
    store: SqlStore, experiment_id: str, username: str, permission: str, actor: str = "cli"
) -> None:
    """Grant (or change) a user's permission on an experiment."""
    permission = check_permission(permission)
    with store.db.connect(write=True) as conn:
        _require_experiment(conn, experiment_id)
        user = _user_row(conn, str(username))
        key = and_(permissions_t.c.experiment_id == str(experiment_id), permissions_t.c.user_id == user["id"])
        conn.execute(delete(permissions_t).where(key))
        conn.execute(
            insert(permissions_t).values(
                experiment_id=str(experiment_id), user_id=user["id"], permission=permission
            )
        )
        _audit(conn, actor, "permission.grant", user["username"], f"experiment {experiment_id}: {permission}")


def get_permission(store: SqlStore, experiment_id: str, username: str) -> str | None:
    """A user's explicit permission on an experiment, or None."""
    with store.db.connect() as conn:
        user = _user_row(conn, str(username))
        value = conn.execute(
            select(permissions_t.c.permission).where(
                permissions_t.c.experiment_id == str(experiment_id), permissions_t.c.user_id == user["id"]
            )
        ).scalar_one_or_none()
    return str(value) if value is not None else None


def revoke_permission(store: SqlStore, experiment_id: str, username: str, actor: str = "cli") -> bool:
    """Remove a user's entry on an experiment (the default permission applies again); True if one existed."""
    with store.db.connect(write=True) as conn:
        user = _user_row(conn, str(username))
        result = conn.execute(
            delete(permissions_t).where(
                permissions_t.c.experiment_id == str(experiment_id), permissions_t.c.user_id == user["id"]
            )
        )
        removed = bool(result.rowcount)
        if removed:
            _audit(conn, actor, "permission.revoke", user["username"], f"experiment {experiment_id}")
    return removed


def list_permissions(
    store: SqlStore, experiment_id: str | None = None, username: str | None = None
) -> list[PermissionEntry]:
    """Explicit permission entries, optionally of one experiment and/or one user."""
    query = select(permissions_t, users_t.c.username).join(users_t, users_t.c.id == permissions_t.c.user_id)
    if experiment_id is not None:
        query = query.where(permissions_t.c.experiment_id == str(experiment_id))
    if username is not None:
        query = query.where(users_t.c.username == str(username))
    with store.db.connect() as conn:
        rows = (
            conn.execute(query.order_by(permissions_t.c.experiment_id, users_t.c.username)).mappings().all()
        )
    return [
        PermissionEntry(str(r["experiment_id"]), str(r["username"]), int(r["user_id"]), str(r["permission"]))
        for r in rows
    ]


def effective_permission(store: SqlStore, user: User, experiment_id: str) -> str:
    """What a user may do on an experiment: MANAGE for admins, their entry, else the default permission."""
    if user.is_admin:
        return "MANAGE"
    with store.db.connect() as conn:
        value = conn.execute(
            select(permissions_t.c.permission).where(
                permissions_t.c.experiment_id == str(experiment_id), permissions_t.c.user_id == user.id
            )
        ).scalar_one_or_none()
    return str(value) if value is not None else default_permission(store)


def readable_experiment_ids(store: SqlStore, user: User) -> set[str] | None:
    """The experiment ids the user may read; None means every one (admins)."""
    if user.is_admin:
        return None
    with store.db.connect() as conn:
        return _readable(conn, user, _default_permission(conn))


def _default_permission(conn: Connection) -> str:
    value = conn.execute(
        select(settings_t.c.value).where(settings_t.c.key == DEFAULT_PERMISSION_SETTING)
    ).scalar_one_or_none()
    return str(value) if value else DEFAULT_PERMISSION


def _readable(conn: Connection, user: User, fallback: str) -> set[str]:
    entries = conn.execute(
        select(permissions_t.c.experiment_id, permissions_t.c.permission).where(
            permissions_t.c.user_id == user.id
        )
    ).all()
    explicit = {str(eid): str(perm) for eid, perm in entries}
    if fallback == NO_PERMISSIONS:
        return {eid for eid, perm in explicit.items() if perm != NO_PERMISSIONS}
    denied = {eid for eid, perm in explicit.items() if perm == NO_PERMISSIONS}
    every = {str(eid) for eid in conn.execute(select(experiments_t.c.experiment_id)).scalars()}
    return every - denied


def _experiment_ids_by(conn: Connection, table: Any, column: str, values: Iterable[object]) -> dict[str, str]:
    """{value: its experiment id} for the rows of table whose `column` holds one of values (chunked IN)."""
    found: dict[str, str] = {}
    for chunk in chunked([str(value) for value in values]):
        rows = conn.execute(select(table.c[column], table.c.experiment_id).where(table.c[column].in_(chunk)))
        found.update({str(value): str(eid) for value, eid in rows})
    return found


def access_facts(
    store: SqlStore,
    user_id: int | None = None,
    token: str | None = None,
    experiment_ids: list[str] | None = None,
    run_ids: list[str] | None = None,
    experiment_names: list[str] | None = None,
    want_readable: bool = False,
    model_ids: list[str] | None = None,
    experiment_prefix: str | None = None,
) -> AccessFacts:
    """Everything one request's access decision needs, in one transaction: the user (by id, or by a
    bearer token's value), the experiments of the runs and names asked about, the user's entries on
    them, the default permission, and when asked the readable experiment ids."""
    with store.db.connect() as conn:
        if token is not None:
            now = clock.now_ms()
            query = (
                select(users_t)
                .join(tokens_t, tokens_t.c.user_id == users_t.c.id)
                .where(tokens_t.c.token_sha256 == token_digest(token))
                .where((tokens_t.c.expiration_time.is_(None)) | (tokens_t.c.expiration_time > now))
            )
        else:
            query = select(users_t).where(users_t.c.id == int(user_id or 0))
        row = conn.execute(query).mappings().first()
        if row is None:
            return AccessFacts(None)
        user = _user(row)
        from runyard.store.logged_models import models_t

        runs = _experiment_ids_by(conn, runs_t, "run_id", run_ids or [])
        names = _experiment_ids_by(conn, experiments_t, "name", experiment_names or [])
        models = _experiment_ids_by(conn, models_t, "model_id", model_ids or [])
        in_folder: list[str] = []
        if experiment_prefix is not None:  # as rename_experiment_folder matches: itself and below it
            folder = experiment_prefix.strip().rstrip("/")
            found = conn.execute(
                select(experiments_t.c.experiment_id).where(
                    (experiments_t.c.name == folder)
                    | (func.substr(experiments_t.c.name, 1, len(folder) + 1) == folder + "/")
                )
            )
            in_folder = sorted(str(eid) for (eid,) in found)
        if user.is_admin:
            return AccessFacts(user, runs, names, {}, MANAGE, None, models, in_folder)
        candidates = sorted(
            {*map(str, experiment_ids or []), *runs.values(), *names.values(), *models.values(), *in_folder}
        )
        explicit: dict[str, str] = {}
        for chunk in chunked(candidates):
            found = conn.execute(
                select(permissions_t.c.experiment_id, permissions_t.c.permission).where(
                    permissions_t.c.user_id == user.id, permissions_t.c.experiment_id.in_(chunk)
                )
            )
            explicit.update({str(eid): str(perm) for eid, perm in found})
        fallback = _default_permission(conn)
        readable = _readable(conn, user, fallback) if want_readable else None
    return AccessFacts(user, runs, names, explicit, fallback, readable, models, in_folder)


# ----------------------------------------------------------------------------- audit
def audit_entries(store: SqlStore, limit: int = 100) -> list[AuditEntry]:
    """The latest audit entries, newest first."""
    with store.db.connect() as conn:
        rows = conn.execute(select(audit_t).order_by(audit_t.c.id.desc()).limit(int(limit))).mappings().all()
    return [AuditEntry(r["time"], r["actor"], r["action"], r["target"], r["detail"]) for r in rows]
