"""Access control of `runyard server --auth`: who is calling (Basic or Bearer) and may they call this route.

Credentials are verified once with the KDF and then cached for at most five minutes under an HMAC of
the Authorization header (never the header itself); a cached login is honoured only while the user's
version in the store is unchanged, so a password change or demotion ends it on every worker. Failed
logins are limited per user and per client address and answered 401 with Retry-After, never 429
(MLflow's client retries 429 for minutes, each retry another failed login).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from .. import access, passwords
from ..store import auth as store_auth
from .http import JsonResponse, request_fields

if TYPE_CHECKING:
    from ..access import AccessFacts, User
    from .routes import RouteRule
    from .state import ServerState

logger = logging.getLogger("runyard.server.auth")
CACHE_SECONDS = 300.0
FAILURE_WINDOW_S = 60.0
MAX_FAILURES = 10
REALM = 'Basic realm="runyard", charset="UTF-8"'
USER_KEY = "runyard.user"
READABLE_KEY = "runyard.readable"
_NEEDED = {"read": access.READ, "edit": access.EDIT, "manage": access.MANAGE}


class FailureLimiter:
    """At most MAX_FAILURES failed logins per key (a username or an address) in a sliding minute."""

    def __init__(self, limit: int = MAX_FAILURES, window_s: float = FAILURE_WINDOW_S) -> None:
        self.limit, self.window_s = limit, window_s
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, key: str, now: float) -> int:
        """Seconds until the key may try again (0: it may now)."""
        failures = self._failures.get(key)
        if not failures:
            return 0
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        if len(failures) < self.limit:
            if not failures:
                del self._failures[key]
            return 0
        return max(1, int(failures[0] + self.window_s - now + 0.999))

    def fail(self, key: str, now: float) -> None:
        """Count one failed login of the key."""
        self._failures.setdefault(key, deque()).append(now)


@dataclass
class CachedLogin:
    """A verified credential: whose, at which user version, until when."""

    user_id: int
    version: int
    expires: float


@dataclass
class AccessControl:
    """The authentication and authorization state of one server process."""

    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    limiter: FailureLimiter = field(default_factory=FailureLimiter)
    cache: dict[bytes, CachedLogin] = field(default_factory=dict)
    dummy_hash: str = ""

    def __post_init__(self) -> None:
        if not self.dummy_hash:
            # Unknown users are verified against this, so they cost one KDF run like a wrong password.
            self.dummy_hash = passwords.hash_password(secrets.token_urlsafe(16))

    async def check(self, state: ServerState, rule: RouteRule, request: Request) -> Response | None:
        """None when the request may go on (the caller is in the request's scope), else the refusal."""
        if rule.permission == "public":
            return None
        identity = await self.identify(state, request)
        if isinstance(identity, Response):
            return identity
        targets = await _targets(rule, request)
        facts = await state.call(_facts, state, identity, targets, rule.finds == "filtered")
        stale = identity.version is not None and (
            facts.user is None or facts.user.version != identity.version
        )
        if stale:  # the password or the rights changed since the login was cached: verify it again
            self.cache.pop(identity.cache_key, None)
            identity = await self.identify(state, request)
            if isinstance(identity, Response):
                return identity
            facts = await state.call(_facts, state, identity, targets, rule.finds == "filtered")
        if facts.user is None:
            if identity.token is not None:
                return self._failed(None, _address(request), "unknown, revoked or expired token")
            return unauthenticated("This user no longer exists: ask an administrator.")
        request.scope[USER_KEY] = facts.user
        return _decide(rule, request, facts, targets)

    async def identify(self, state: ServerState, request: Request) -> Identity | Response:
        """Who the request's Basic or Bearer credential claims to be (verified), or a 401 answer."""
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        address = _address(request)
        now = time.monotonic()
        if scheme.lower() == "bearer" and value.strip():
            wait = self.limiter.retry_after(f"addr:{address}", now)
            return locked_out(wait) if wait else Identity(token=value.strip())
        if scheme.lower() != "basic" or not value.strip():
            return unauthenticated(
                "Authentication required: set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, "
                "or MLFLOW_TRACKING_TOKEN (runyard tokens create)."
            )
        try:
            username, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return unauthenticated("Malformed Basic credentials: send base64 of 'username:password'.")
        wait = max(
            self.limiter.retry_after(f"user:{username}", now),
            self.limiter.retry_after(f"addr:{address}", now),
        )
        if wait:
            return locked_out(wait)
        cache_key = hmac.new(self.key, header.encode(), hashlib.sha256).digest()
        cached = self.cache.get(cache_key)
        if cached is not None and cached.expires > now:
            return Identity(user_id=cached.user_id, version=cached.version, cache_key=cache_key)
        self.cache.pop(cache_key, None)
        credential = await state.call(store_auth.get_credential, state.store, username)
        stored = credential.password_hash if credential is not None else self.dummy_hash
        matches = await state.call(passwords.verify_password, password, stored)
        if credential is None or not matches:
            return self._failed(username, address, "wrong username or password")
        if len(self.cache) > 10_000:
            self.cache.clear()
        self.cache[cache_key] = CachedLogin(credential.user.id, credential.user.version, now + CACHE_SECONDS)
        return Identity(user_id=credential.user.id)

    def _failed(self, username: str | None, address: str, reason: str) -> Response:
        now = time.monotonic()
        if username is not None:
            self.limiter.fail(f"user:{username}", now)
        self.limiter.fail(f"addr:{address}", now)
        logger.warning("failed login from %s (user %r): %s", address, username, reason)
        return unauthenticated(
            "Invalid credentials: check MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD "
            "or MLFLOW_TRACKING_TOKEN."
        )


def unauthenticated(message: str, headers: dict[str, str] | None = None) -> Response:
    """401 UNAUTHENTICATED with WWW-Authenticate (MLflow's client shows the message and does not retry)."""
    return JsonResponse(
        {"error_code": "UNAUTHENTICATED", "message": message},
        status_code=401,
        headers={"WWW-Authenticate": REALM, **(headers or {})},
    )


def locked_out(seconds: int) -> Response:
    """401 with Retry-After for a user or address over the failed-login limit."""
    return unauthenticated(
        f"too many failed logins; try again in {seconds} s", headers={"Retry-After": str(seconds)}
    )


def forbidden(message: str) -> Response:
    """403 PERMISSION_DENIED."""
    return JsonResponse({"error_code": "PERMISSION_DENIED", "message": message}, status_code=403)


def current_user(request: Request) -> User | None:
    """The signed-in user of the request (None when the server runs without --auth)."""
    user = request.scope.get(USER_KEY)
    return user if isinstance(user, access.User) else None


def readable_filter(request: Request) -> set[str] | None:
    """The experiment ids a search may return (None: every one)."""
    readable = request.scope.get(READABLE_KEY)
    return readable if isinstance(readable, set) else None


async def grant_creator(state: ServerState, request: Request, experiment_id: str) -> None:
    """Give the creator of an experiment MANAGE on it (admins need no entry)."""
    user = current_user(request)
    if user is not None and not user.is_admin:
        await state.call(
            store_auth.set_permission, state.store, experiment_id, user.username, access.MANAGE, user.username
        )


@dataclass(frozen=True)
class Identity:
    """A verified login (a user id; version set when it came from the cache) or a token to look up."""

    user_id: int | None = None
    version: int | None = None
    cache_key: bytes = b""
    token: str | None = None


@dataclass(frozen=True)
class Targets:
    """What a request names, before the store is asked: experiment ids, run ids, names, a user."""

    experiment_ids: list[str] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)
    experiment_names: list[str] = field(default_factory=list)
    username: str | None = None
    artifact_parts: list[str] | None = None
    model_ids: list[str] = field(default_factory=list)
    experiment_prefix: str | None = None


def _address(request: Request) -> str:
    return request.client.host if request.client else "-"


def _facts(state: ServerState, identity: Identity, targets: Targets, want_readable: bool) -> AccessFacts:
    return store_auth.access_facts(
        state.store,
        user_id=identity.user_id,
        token=identity.token,
        experiment_ids=targets.experiment_ids,
        run_ids=targets.run_ids,
        experiment_names=targets.experiment_names,
        want_readable=want_readable,
        model_ids=targets.model_ids,
        experiment_prefix=targets.experiment_prefix,
    )


async def _targets(rule: RouteRule, request: Request) -> Targets:
    """The experiments, runs, names or user a request acts on, from its path and fields."""
    if rule.finds in ("none", "filtered"):
        return Targets()
    if rule.finds == "model_id":  # in the path: logged-models/{model_id}/...
        return Targets(model_ids=[str(request.path_params.get("model_id") or "")])
    if rule.finds == "artifact_path":
        raw = request.path_params.get("path") or request.query_params.get("path") or ""
        parts = [part for part in str(raw).split("/") if part not in ("", ".")]
        return Targets(experiment_ids=parts[:1], run_ids=parts[1:2], artifact_parts=parts)
    fields: dict[str, Any] = await request_fields(request, repeated=("run_ids",))
    if rule.finds == "username":
        return Targets(username=str(fields.get("username") or ""))
    if rule.finds == "experiment_id":  # one experiment_id, or a list experiment_ids (runyard's routes)
        many = fields.get("experiment_ids")
        if many:
            return Targets(experiment_ids=[str(e) for e in (many if isinstance(many, list) else [many])])
        return Targets(experiment_ids=[str(fields.get("experiment_id") or "0")])
    if rule.finds == "experiment_prefix":  # a folder: every experiment in it
        return Targets(experiment_prefix=str(fields.get("old_prefix") or ""))
    if rule.finds == "resource_id":
        return Targets(experiment_ids=[str(fields.get("resource_id") or "")])
    if rule.finds == "experiment_name":
        return Targets(experiment_names=[str(fields.get("experiment_name") or "")])
    if rule.finds == "run_id":
        run_ids = fields.get("run_ids") or [fields.get("run_id") or fields.get("run_uuid") or ""]
        return Targets(run_ids=[str(r) for r in (run_ids if isinstance(run_ids, list) else [run_ids])])
    return Targets()


def _decide(rule: RouteRule, request: Request, facts: AccessFacts, targets: Targets) -> Response | None:
    user = facts.user
    assert user is not None
    if rule.finds == "filtered":
        request.scope[READABLE_KEY] = facts.readable
        return None
    if user.is_admin:
        return None
    if rule.finds == "username" and targets.username == user.username:
        return None
    if rule.permission == "admin":
        return forbidden(f"{rule.method} {rule.path} needs an administrator; {user.username!r} is not one.")
    if rule.finds == "none":
        return None
    experiments = _experiments_of(facts, targets)
    if experiments is None:
        return forbidden("Listing the artifact root needs an administrator: list a run's artifacts instead.")
    needed = _NEEDED[rule.permission]
    for experiment_id in experiments:
        granted = facts.permission(experiment_id)
        if not access.allows(granted, needed):
            return forbidden(
                f"Permission denied: {user.username!r} has {granted} on experiment {experiment_id}, "
                f"this request needs {needed}. Ask someone with MANAGE on it (runyard permissions grant)."
            )
    return None


def _experiments_of(facts: AccessFacts, targets: Targets) -> list[str] | None:
    """The experiments a request acts on (an unknown one is left to the handler's 404); None: the root."""
    parts = targets.artifact_parts
    if parts is not None:
        if not parts:
            return None  # the root listing names every experiment: administrators only
        if len(parts) >= 2 and parts[1] in facts.run_experiments:
            return [facts.run_experiments[parts[1]]]  # the run's own experiment, whatever the path claims
        return parts[:1]
    if targets.experiment_prefix is not None:  # every experiment the folder rename would move
        return sorted(facts.prefix_experiments)
    if targets.model_ids:  # an unknown model is left to the handler's 404
        return sorted({facts.model_experiments[m] for m in targets.model_ids if m in facts.model_experiments})
    if targets.experiment_names:
        return [facts.name_experiments[n] for n in targets.experiment_names if n in facts.name_experiments]
    if targets.run_ids:
        return sorted({facts.run_experiments[r] for r in targets.run_ids if r in facts.run_experiments})
    return targets.experiment_ids
