"""Settings read from the environment: tracking URI, artifact root, retention, writer intervals."""

from __future__ import annotations

import os
import re
from pathlib import Path

TRACKING_URI_ENV = "RUNYARD_TRACKING_URI"
ARTIFACT_ROOT_ENV = "RUNYARD_ARTIFACT_ROOT"
RETENTION_DAYS_ENV = "RUNYARD_RETENTION_DAYS"
FLUSH_INTERVAL_ENV = "RUNYARD_FLUSH_INTERVAL"
DEFAULT_TRACKING_URI = "sqlite:///runyard.db"
DEFAULT_ARTIFACT_DIR = "runyard-artifacts"
DEFAULT_RETENTION_DAYS = 30
HEARTBEAT_INTERVAL_SECONDS = 30.0
# A RUNNING run whose heartbeat is older than this is shown as lost.
STALE_HEARTBEAT_MS = 3 * int(HEARTBEAT_INTERVAL_SECONDS * 1000)
# A RUNNING run that never sent a runyard heartbeat (logged by an MLflow client through the server, where
# every accepted write counts as one) is shown as lost only after this long without a write.
STALE_WRITES_MS = 30 * 60 * 1000


def default_tracking_uri() -> str:
    """RUNYARD_TRACKING_URI, else sqlite:///runyard.db in the current directory."""
    return os.environ.get(TRACKING_URI_ENV) or DEFAULT_TRACKING_URI


def normalize_tracking_uri(uri_or_path: str | os.PathLike[str]) -> str:
    """Accept a database URL or a plain path to a SQLite file; return a database URL."""
    text = os.fspath(uri_or_path).strip()
    if "://" in text:
        if text.startswith("postgresql://") or text.startswith("postgres://"):
            return "postgresql+psycopg://" + text.split("://", 1)[1]
        if text.startswith("sqlite:///") and not text.startswith("sqlite:////"):
            # A relative SQLite path is pinned to the current directory now: a later os.chdir must not
            # send new pooled connections to a different (empty) file.
            path, sep, query = text[len("sqlite:///") :].partition("?")
            if path and path != ":memory:":
                return "sqlite:///" + str(Path(path).expanduser().absolute()) + sep + query
        return text
    return "sqlite:///" + str(Path(text).expanduser().absolute())


def default_artifact_root(tracking_uri: str) -> str:
    """RUNYARD_ARTIFACT_ROOT, else runyard-artifacts/ beside a SQLite file (or in the cwd)."""
    configured = os.environ.get(ARTIFACT_ROOT_ENV)
    if configured:
        return str(Path(configured).expanduser().absolute())
    sqlite_path = sqlite_file_path(tracking_uri)
    base = sqlite_path.parent if sqlite_path is not None else Path.cwd()
    return str((base / DEFAULT_ARTIFACT_DIR).absolute())


def sqlite_file_path(tracking_uri: str) -> Path | None:
    """The database file of a sqlite:/// URI (None for in-memory or other backends)."""
    if not tracking_uri.startswith("sqlite:"):
        return None
    rest = tracking_uri.split(":", 1)[1]
    rest = rest[3:] if rest.startswith("///") else rest.lstrip("/")
    rest = rest.split("?", 1)[0]
    if rest in ("", ":memory:"):
        return None
    return Path(rest).absolute()


def retention_days() -> float:
    """Days a deleted run is kept before `gc` may remove it (RUNYARD_RETENTION_DAYS, default 30)."""
    raw = os.environ.get(RETENTION_DAYS_ENV)
    if not raw:
        return float(DEFAULT_RETENTION_DAYS)
    try:
        days = float(raw)
    except ValueError:
        return float(DEFAULT_RETENTION_DAYS)
    return days if days >= 0 else float(DEFAULT_RETENTION_DAYS)


def flush_interval_seconds() -> float:
    """How often the background writer flushes buffered metrics (RUNYARD_FLUSH_INTERVAL, default 1 s)."""
    raw = os.environ.get(FLUSH_INTERVAL_ENV)
    try:
        value = float(raw) if raw else 1.0
    except ValueError:
        value = 1.0
    return min(max(value, 0.01), 60.0)


_PASSWORD_IN_URL = re.compile(r"(?P<head>[a-zA-Z][\w+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?P<at>@)")


_PASSWORD_IN_QUERY = re.compile(r"(?i)(?P<head>[?&]password=)(?P<pw>[^&\s]*)")


def mask_uri(text: str) -> str:
    """Replace the password of every database URL in text (user:PW@ or ?password=PW) by ***."""
    text = _PASSWORD_IN_URL.sub(lambda m: f"{m.group('head')}***{m.group('at')}", text)
    return _PASSWORD_IN_QUERY.sub(lambda m: f"{m.group('head')}***", text)
