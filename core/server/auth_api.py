"""MLflow's auth REST API on runyard's store: users, and per-experiment permissions (2.x and 3.x routes).

Both generations of MLflow's `AuthServiceClient` work against these: users/create|get|list|
update-password|update-admin|delete, experiments/permissions/create|get|update|delete (2.x) and
users/permissions/grant|revoke|get|list with resource_type "experiment" (3.x). Who may call each is
the route table's business; the handlers only translate. Passwords are hashed here, never stored,
logged or answered.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from .. import access, passwords
from ..exceptions import InvalidInput
from ..rest import protocol as p
from ..store import auth as store_auth
from .access import current_user
from .auth_admin_api import user_json
from .http import request_fields
from .state import ServerState

JsonDict = dict[str, Any]
EXPERIMENT = "experiment"


def _actor(request: Request) -> str:
    user = current_user(request)
    return user.username if user is not None else "server"


def _user_json(user: access.User, permissions: list[access.PermissionEntry]) -> JsonDict:
    return {
        **user_json(user),
        "experiment_permissions": [_permission_json(e) for e in permissions],
        "registered_model_permissions": [],
    }


def _permission_json(entry: access.PermissionEntry) -> JsonDict:
    return {"experiment_id": entry.experiment_id, "user_id": entry.user_id, "permission": entry.permission}


def _password(body: JsonDict, name: str = "password") -> str:
    password = p.get_string(body, name) or ""
    if not password:
        raise InvalidInput(f"Field '{name}' must be a non-empty password.")
    return password


def _bool(body: JsonDict, name: str) -> bool:
    value = body.get(name)
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1"):
        return True
    if str(value).lower() in ("false", "0"):
        return False
    raise InvalidInput(f"Field '{name}' must be true or false, got {value!r}.")


def _experiment_resource(body: JsonDict) -> str:
    resource_type = p.get_string(body, "resource_type") or EXPERIMENT
    if resource_type != EXPERIMENT:
        raise InvalidInput(
            f"resource_type {resource_type!r} is not supported: runyard's permissions are per experiment "
            "(resource_type 'experiment')."
        )
    return p.require_string(body, "resource_id")


# ----------------------------------------------------------------------------- users
async def create_user(state: ServerState, request: Request) -> JsonDict:
    """POST users/create {username, password} -> {user}."""
    body = await request_fields(request)
    username = access.check_username(p.require_string(body, "username"))
    hashed = await state.call(passwords.hash_password, _password(body))
    user = await state.call(store_auth.add_user, state.store, username, hashed, False, _actor(request))
    return {"user": _user_json(user, [])}


async def get_user(state: ServerState, request: Request) -> JsonDict:
    """GET users/get ?username -> {user} with its experiment permissions."""
    body = await request_fields(request)
    username = p.require_string(body, "username")

    def read() -> JsonDict:
        user = store_auth.get_user(state.store, username)
        return _user_json(user, store_auth.list_permissions(state.store, username=username))

    return {"user": await state.call(read)}


async def list_users(state: ServerState, request: Request) -> JsonDict:
    """GET users/list -> {users}: id, username, is_admin, creation_time."""
    users = await state.call(store_auth.list_users, state.store)
    return {"users": [user_json(u) for u in users]}  # MLflow's fields, and runyard's creation_time


async def update_password(state: ServerState, request: Request) -> JsonDict:
    """PATCH users/update-password {username, password, current_password?} (needed for one's own)."""
    body = await request_fields(request)
    username = p.require_string(body, "username")
    password = _password(body)
    caller = current_user(request)
    if caller is not None and caller.username == username:
        current = p.get_string(body, "current_password") or ""
        if not current:
            raise InvalidInput("Current password is required when changing your own password.")
        credential = await state.call(store_auth.get_credential, state.store, username)
        if credential is None or not await state.call(
            passwords.verify_password, current, credential.password_hash
        ):
            raise InvalidInput("Current password does not match.")
    hashed = await state.call(passwords.hash_password, password)
    await state.call(store_auth.set_password_hash, state.store, username, hashed, _actor(request))
    return {}


async def update_admin(state: ServerState, request: Request) -> JsonDict:
    """PATCH users/update-admin {username, is_admin}."""
    body = await request_fields(request)
    username = p.require_string(body, "username")
    await state.call(store_auth.set_admin, state.store, username, _bool(body, "is_admin"), _actor(request))
    return {}


async def delete_user(state: ServerState, request: Request) -> JsonDict:
    """DELETE users/delete {username}; nobody deletes their own account."""
    body = await request_fields(request)
    username = p.require_string(body, "username")
    if username == _actor(request):
        raise InvalidInput("Users cannot delete their own account: ask another admin to delete it.")
    await state.call(store_auth.remove_user, state.store, username, _actor(request))
    return {}


# ----------------------------------------------------------------------------- 2.x experiment permissions
async def _entry(state: ServerState, experiment_id: str, username: str) -> JsonDict:
    entries = await state.call(store_auth.list_permissions, state.store, experiment_id, username)
    if not entries:
        await state.call(store_auth.get_user, state.store, username)  # UserNotFound first
        raise access.UserNotFound(f"User {username!r} has no permission entry on experiment {experiment_id}.")
    return {"experiment_permission": _permission_json(entries[0])}


async def create_experiment_permission(state: ServerState, request: Request) -> JsonDict:
    """POST experiments/permissions/create {experiment_id, username, permission}: the new entry."""
    body = await request_fields(request)
    experiment_id, username = p.require_string(body, "experiment_id"), p.require_string(body, "username")
    permission = p.require_string(body, "permission")
    await state.call(
        store_auth.set_permission, state.store, experiment_id, username, permission, _actor(request)
    )
    return await _entry(state, experiment_id, username)


async def get_experiment_permission(state: ServerState, request: Request) -> JsonDict:
    """GET experiments/permissions/get ?experiment_id&username -> {experiment_permission}."""
    body = await request_fields(request)
    return await _entry(state, p.require_string(body, "experiment_id"), p.require_string(body, "username"))


async def update_experiment_permission(state: ServerState, request: Request) -> JsonDict:
    """PATCH experiments/permissions/update {experiment_id, username, permission}."""
    await create_experiment_permission(state, request)
    return {}


async def delete_experiment_permission(state: ServerState, request: Request) -> JsonDict:
    """DELETE experiments/permissions/delete {experiment_id, username}."""
    body = await request_fields(request)
    experiment_id, username = p.require_string(body, "experiment_id"), p.require_string(body, "username")
    await state.call(store_auth.revoke_permission, state.store, experiment_id, username, _actor(request))
    return {}


# ----------------------------------------------------------------------------- 3.x user permissions
async def grant_permission(state: ServerState, request: Request) -> JsonDict:
    """POST users/permissions/grant {username, resource_type, resource_id, permission}."""
    body = await request_fields(request)
    experiment_id = _experiment_resource(body)
    await state.call(
        store_auth.set_permission,
        state.store,
        experiment_id,
        p.require_string(body, "username"),
        p.require_string(body, "permission"),
        _actor(request),
    )
    return {}


async def revoke_permission(state: ServerState, request: Request) -> JsonDict:
    """POST users/permissions/revoke {username, resource_type, resource_id}."""
    body = await request_fields(request)
    experiment_id = _experiment_resource(body)
    username = p.require_string(body, "username")
    await state.call(store_auth.revoke_permission, state.store, experiment_id, username, _actor(request))
    return {}


async def get_permission(state: ServerState, request: Request) -> JsonDict:
    """GET users/permissions/get ?username&resource_type&resource_id -> {allowed, permission}."""
    body = await request_fields(request)
    experiment_id = _experiment_resource(body)
    username = p.require_string(body, "username")

    def effective() -> str:
        user = store_auth.get_user(state.store, username)
        return store_auth.effective_permission(state.store, user, experiment_id)

    permission = await state.call(effective)
    return {"allowed": permission != access.NO_PERMISSIONS, "permission": permission}


async def list_permissions(state: ServerState, request: Request) -> JsonDict:
    """GET users/permissions/list ?username -> {is_admin, permissions}."""
    body = await request_fields(request)
    username = p.require_string(body, "username")

    def read() -> JsonDict:
        user = store_auth.get_user(state.store, username)
        entries = store_auth.list_permissions(state.store, username=username)
        return {
            "is_admin": user.is_admin,
            "permissions": [
                {"resource_type": EXPERIMENT, "resource_id": e.experiment_id, "permission": e.permission}
                for e in entries
            ],
        }

    return await state.call(read)
