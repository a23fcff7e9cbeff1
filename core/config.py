"""Settings read from the environment: tracking URI, artifact root, retention, writer intervals."""

from __future__ import annotations

import os
from pathlib import Path

TRACKING_URI_ENV = "RUNYARD_TRACKING_URI"
ARTIFACT_ROOT_ENV = "RUNYARD_ARTIFACT_ROOT"
RETENTION_DAYS_ENV = "RUNYARD_RETENTION_DAYS"
FLUSH_INTERVAL_ENV = "RUNYARD_FLUSH_INTERVAL"
FLUSH_TIMEOUT_ENV = "RUNYARD_FLUSH_TIMEOUT"
DEFAULT_FLUSH_TIMEOUT_SECONDS = 30.0
SQLITE_BUSY_TIMEOUT_ENV = "RUNYARD_SQLITE_BUSY_TIMEOUT"
MAX_BUFFERED_ENV = "RUNYARD_MAX_BUFFERED"
CONSOLE_MAX_MB_ENV = "RUNYARD_CONSOLE_MAX_MB"
DEFAULT_CONSOLE_MAX_MB = 10
DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 60_000
DEFAULT_MAX_BUFFERED = 100_000
DEFAULT_TRACKING_URI = "sqlite:///runyard.db"
DEFAULT_ARTIFACT_DIR = "runyard-artifacts"
DEFAULT_RETENTION_DAYS = 30
HEARTBEAT_INTERVAL_SECONDS = 30.0
# A RUNNING run whose heartbeat is older than this is shown as lost.
STALE_HEARTBEAT_MS = 3 * int(HEARTBEAT_INTERVAL_SECONDS * 1000)
# A RUNNING run that never sent a runyard heartbeat (logged by an MLflow client through the server, where
# every accepted write counts as one) is shown as lost only after this long without a write.
STALE_WRITES_MS = 30 * 60 * 1000


MLFLOW_TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
_chosen_tracking_uri: str | None = None  # set by runyard.set_tracking_uri


def choose_tracking_uri(uri: str | None) -> None:
    """Make uri the store of every later call that names none (None: back to the environment)."""
    global _chosen_tracking_uri
    _chosen_tracking_uri = normalize_tracking_uri(uri) if uri is not None else None


def default_tracking_uri() -> str:
    """set_tracking_uri's, else RUNYARD_TRACKING_URI, else MLFLOW_TRACKING_URI, else sqlite:///runyard.db."""
    return (
        _chosen_tracking_uri
        or os.environ.get(TRACKING_URI_ENV)
        or _mlflow_database_uri()
        or DEFAULT_TRACKING_URI
    )


def _mlflow_database_uri() -> str | None:
    """MLFLOW_TRACKING_URI if it names a database or a tracking server (./mlruns or databricks: ignored)."""
    value = os.environ.get(MLFLOW_TRACKING_URI_ENV, "").strip()
    return value if value.startswith(("sqlite:", "postgresql", "postgres:", "http://", "https://")) else None


def is_remote_uri(uri: str) -> bool:
    """True for an http(s):// tracking URI: a tracking server (runyard's or MLflow's), not a database."""
    return uri.strip().lower().startswith(("http://", "https://"))


def normalize_tracking_uri(uri_or_path: str | os.PathLike[str]) -> str:
    """Accept a database URL or a plain path to a SQLite file; return a database URL."""
    text = os.fspath(uri_or_path).strip()
    if "://" in text:
        if text.startswith("postgresql://") or text.startswith("postgres://"):
            return _quote_at_in_userinfo("postgresql+psycopg://" + text.split("://", 1)[1])
        if text.startswith("sqlite:///") and not text.startswith("sqlite:////"):
            # A relative SQLite path is pinned to the current directory now: a later os.chdir must not
            # send new pooled connections to a different (empty) file.
            path, sep, query = text[len("sqlite:///") :].partition("?")
            if path and path != ":memory:":
                return "sqlite:///" + str(Path(path).expanduser().absolute()) + sep + query
        return _quote_at_in_userinfo(text)
    return "sqlite:///" + str(Path(text).expanduser().absolute())


def _quote_at_in_userinfo(uri: str) -> str:
    """Percent-encode a raw "@" in a URL's user or password (the last "@" ends the userinfo).

    Drivers split at the first "@" and would take the password's tail for the host name (and print it).
    """
    scheme, separator, rest = uri.partition("://")
    authority, slash, path = rest.partition("/")
    if authority.count("@") < 2:
        return uri
    userinfo, _, host = authority.rpartition("@")
    return f"{scheme}{separator}{userinfo.replace('@', '%40')}@{host}{slash}{path}"


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


def flush_timeout_seconds() -> float:
    """How long flush()/end_run wait for a tracking server's acknowledgement (RUNYARD_FLUSH_TIMEOUT, 30 s)."""
    raw = os.environ.get(FLUSH_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_FLUSH_TIMEOUT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        from .exceptions import InvalidInput

        raise InvalidInput(
            f"{FLUSH_TIMEOUT_ENV}={raw!r} is not a number of seconds >= 0: set it to one (the default is "
            f"{DEFAULT_FLUSH_TIMEOUT_SECONDS:g}) or unset it.",
            key=FLUSH_TIMEOUT_ENV,
        )
    return value


def sqlite_busy_timeout_ms() -> int:
    """How long SQLite waits for another writer's lock, in ms (RUNYARD_SQLITE_BUSY_TIMEOUT, default 60000)."""
    return _positive_int_setting(SQLITE_BUSY_TIMEOUT_ENV, DEFAULT_SQLITE_BUSY_TIMEOUT_MS, "milliseconds")


def max_buffered_floor() -> int:
    """The fewest metric points the writer may buffer before log_metric waits (RUNYARD_MAX_BUFFERED)."""
    return _positive_int_setting(MAX_BUFFERED_ENV, DEFAULT_MAX_BUFFERED, "metric points")


def console_max_chars() -> int:
    """How much captured console output a run keeps, in characters (RUNYARD_CONSOLE_MAX_MB, default 10)."""
    return _positive_int_setting(CONSOLE_MAX_MB_ENV, DEFAULT_CONSOLE_MAX_MB, "megabytes") * 1_000_000


def _positive_int_setting(name: str, default: int, unit: str) -> int:
    """A positive integer from the environment variable name; unset or empty gives the default."""
    raw = os.environ.get(name, "").strip().replace("_", "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        from .exceptions import InvalidInput

        raise InvalidInput(
            f"{name}={os.environ[name]!r} is not a positive whole number of {unit}: "
            f"set it to one (the default is {default}) or unset it.",
            key=name,
        )
    return value


def mask_uri(text: str) -> str:
    """Text with every credential masked (see redact.mask_secrets: the one masking function)."""
    from .redact import mask_secrets

    return mask_secrets(text)
