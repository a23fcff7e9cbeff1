"""runyard's access endpoints beyond MLflow's auth API, for `runyard users|permissions|tokens --store http://...`.

Who am I (and is auth on at all), the audit trail, permission listings, the default permission, and
bearer tokens: a signed-in user creates, lists and revokes their own tokens; an administrator anyone's.
The route table decides who may call each; the token handlers also check the owner. A token's value
is answered once, at creation, and stored only as its SHA-256.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .. import access
from ..exceptions import InvalidInput
from ..rest import protocol as p
from ..store import auth as store_auth
from .access import current_user, forbidden
from .http import request_fields
from .state import ServerState

JsonDict = dict[str, Any]
MAX_AUDIT = 100_000


def user_json(user: access.User) -> JsonDict:
    """A user as listed (never a password hash); tokens, entries and audit entries travel as their fields."""
    return {
        "id": user.id,
        "username": user.username,
        "is_admin": user.is_admin,
        "creation_time": user.creation_time,
    }


def _caller(request: Request) -> access.User:
    user = current_user(request)
    if user is None:
        raise InvalidInput(
            "This server runs without --auth: there are no users, tokens or permissions to manage. "
            "Restart it with `runyard server --auth`."
        )
    return user


async def whoami(state: ServerState, request: Request) -> JsonDict:
    """GET auth/whoami -> {auth: false} without --auth, else who the caller is and the default permission."""
    user = current_user(request)
    if state.access is None or user is None:
        return {"auth": False}
    fallback = await state.call(store_auth.default_permission, state.store)
    return {
        "auth": True,
        "username": user.username,
        "is_admin": user.is_admin,
        "default_permission": fallback,
    }


async def audit(state: ServerState, request: Request) -> JsonDict:
    """GET users/audit ?limit -> {entries}, newest first."""
    body = await request_fields(request)
    limit = p.get_int64(body, "limit") or 50
    if not 1 <= limit <= MAX_AUDIT:
        raise InvalidInput(f"limit must be 1 to {MAX_AUDIT}, got {limit}.")
    entries = await state.call(store_auth.audit_entries, state.store, limit)
    return {"entries": [asdict(e) for e in entries]}


async def _permissions(state: ServerState, experiment_id: str | None, username: str | None) -> JsonDict:
    def read() -> JsonDict:
        entries = store_auth.list_permissions(state.store, experiment_id, username)
        return {
            "permissions": [asdict(e) for e in entries],
            "default_permission": store_auth.default_permission(state.store),
        }

    return await state.call(read)


async def list_permissions(state: ServerState, request: Request) -> JsonDict:
    """GET permissions/list ?experiment_id&username -> {permissions, default_permission} (administrators)."""
    body = await request_fields(request)
    return await _permissions(state, p.get_string(body, "experiment_id"), p.get_string(body, "username"))


async def list_experiment_permissions(state: ServerState, request: Request) -> JsonDict:
    """GET experiments/permissions/list ?experiment_id&username: one experiment's entries (MANAGE on it)."""
    body = await request_fields(request)
    experiment_id = p.require_string(body, "experiment_id")
    return await _permissions(state, experiment_id, p.get_string(body, "username"))


async def set_default_permission(state: ServerState, request: Request) -> JsonDict:
    """POST permissions/set-default {permission}: for experiments a user has no entry for."""
    body = await request_fields(request)
    permission = access.check_permission(p.require_string(body, "permission"))
    await state.call(store_auth.set_default_permission, state.store, permission, _caller(request).username)
    return {"default_permission": permission}


# ----------------------------------------------------------------------------- tokens
async def create_token(state: ServerState, request: Request) -> JsonDict | Response:
    """POST tokens/create {username?, name?, expires_ms?} -> {token, value}: the caller's unless an admin."""
    body = await request_fields(request)
    caller = _caller(request)
    username = p.get_string(body, "username") or caller.username
    if username != caller.username and not caller.is_admin:
        return forbidden(
            f"Only an administrator may create tokens for others; {caller.username!r} is not one."
        )
    expires_ms = p.get_int64(body, "expires_ms")
    if expires_ms is not None and expires_ms <= 0:
        raise InvalidInput(f"expires_ms must be positive, got {expires_ms}.")
    token, value = await state.call(
        store_auth.create_token,
        state.store,
        username,
        p.get_string(body, "name") or "",
        expires_ms,
        caller.username,
    )
    return {"token": asdict(token), "value": value}


async def list_tokens(state: ServerState, request: Request) -> JsonDict | Response:
    """GET tokens/list ?username -> {tokens}: the caller's own; an administrator's: all, or one user's."""
    body = await request_fields(request)
    caller = _caller(request)
    username = p.get_string(body, "username") or None
    if not caller.is_admin:
        if username not in (None, caller.username):
            return forbidden(
                f"Only an administrator may list others' tokens; {caller.username!r} is not one."
            )
        username = caller.username
    tokens = await state.call(store_auth.list_tokens, state.store, username)
    return {"tokens": [asdict(t) for t in tokens]}


async def revoke_token(state: ServerState, request: Request) -> JsonDict:
    """POST tokens/revoke {token_id}: one's own token (others' answer 404); an administrator any."""
    body = await request_fields(request)
    caller = _caller(request)
    token_id = p.require_string(body, "token_id")

    def revoke() -> None:
        if not caller.is_admin:  # others' tokens are answered as missing: their ids are not revealed
            own = {t.id for t in store_auth.list_tokens(state.store, caller.username)}
            if token_id not in own:
                raise access.TokenNotFound(
                    f"{caller.username!r} has no token with id {token_id!r}: `runyard tokens list` shows "
                    "yours (an administrator may revoke anyone's)."
                )
        store_auth.revoke_token(state.store, token_id, caller.username)

    await state.call(revoke)
    return {}
