"""Validation of keys, values and metric numbers; every error names the offending key."""

from __future__ import annotations

import math
import numbers
import re

from .exceptions import InvalidInput

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_RUN_NAME_LENGTH = 250
MAX_EXPERIMENT_NAME_LENGTH = 500

_KEY_PATTERN = re.compile(r"^[\w\-. /:]+$")  # MLflow's characters (colons too, as MLflow on POSIX)
_valid_keys: set[str] = set()  # cache: log_metric validates the same few keys millions of times


def validate_key(key: object, kind: str) -> str:
    """Check a param/metric/tag key: letters, digits, _ - . / : space, at most 250 characters."""
    if key.__class__ is str and key in _valid_keys:
        return key
    if not isinstance(key, str) or not key:
        raise InvalidInput(f"Invalid {kind} key {key!r}: a key must be a non-empty string.", key=str(key))
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"Invalid {kind} key {key[:40]!r}...: {len(key)} characters, at most {MAX_KEY_LENGTH} allowed.",
            key=key,
        )
    if not _KEY_PATTERN.match(key) or key != key.strip() or "//" in key or key.startswith("/"):
        raise InvalidInput(
            f"Invalid {kind} key {key!r}: use letters, digits, underscores, dashes, periods, colons, spaces "
            "and slashes (no leading slash, no '//', no leading or trailing space).",
            key=key,
        )
    if len(_valid_keys) < 100_000:
        _valid_keys.add(key)
    return key


_SURROGATE = re.compile("[\ud800-\udfff]")


def _reject_nul(text: str, what: str, key: str | None = None) -> None:
    """Refuse text no database stores: NUL (PostgreSQL) and lone surrogates (not encodable as UTF-8)."""
    if "\x00" in text:
        raise InvalidInput(f"{what} contains a NUL character (\\x00): remove it.", key=key)
    surrogate = _SURROGATE.search(text)
    if surrogate is not None:
        raise InvalidInput(
            f"{what} contains a lone surrogate (\\u{ord(surrogate.group()):04x}), which is not valid "
            "Unicode: decode the text properly (e.g. bytes.decode('utf-8', 'replace')) before logging it.",
            key=key,
        )


def validate_param_value(key: str, value: object) -> str:
    """Turn a param value into its string (at most 6000 characters)."""
    text = value if isinstance(value, str) else str(value)
    _reject_nul(text, f"Param {key!r} value", key)
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        raise InvalidInput(
            f"Param {key!r} value has {len(text)} characters; at most {MAX_PARAM_VALUE_LENGTH} allowed.",
            key=key,
        )
    return text


def validate_tag_value(key: str, value: object) -> str:
    """Turn a tag value into its string (at most 8000 characters)."""
    text = value if isinstance(value, str) else str(value)
    _reject_nul(text, f"Tag {key!r} value", key)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidInput(
            f"Tag {key!r} value has {len(text)} characters; at most {MAX_TAG_VALUE_LENGTH} allowed.",
            key=key,
        )
    return text


def validate_metric_value(key: str, value: object) -> float:
    """A metric value must be a real number (NaN and +/-inf are allowed); bools and strings are not."""
    if value.__class__ is float:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        # numpy scalars are numbers.Real; torch tensors of one element have .item()
        item = getattr(value, "item", None)
        if item is not None and not isinstance(value, str | bytes):
            try:
                return validate_metric_value(key, item())
            except (TypeError, ValueError):
                pass
        if isinstance(value, numbers.Number) and not isinstance(value, numbers.Complex | bool):
            try:  # decimal.Decimal: a number, just not registered as Real (MLflow accepts it too)
                return float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                pass
        raise InvalidInput(
            f"Metric {key!r} value {value!r} is not a number: log ints or floats (NaN and inf are fine).",
            key=key,
        )
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf  # type: ignore[operator]  # an int beyond float range


def validate_step(key: str, step: object) -> int:
    """Steps are integers; None means 0 (as in MLflow)."""
    if step.__class__ is int and _MIN_INT64 <= step <= _MAX_INT64:
        return step  # the hot path: no slow numbers.Integral check
    if step is None:
        return 0
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise InvalidInput(f"Metric {key!r} step {step!r} must be an integer.", key=key)
    return _int64(key, "step", step)


# Steps and timestamps are BIGINT columns: a bigger int would make every later batch of the writer fail.
_MIN_INT64 = -(2**63)
_MAX_INT64 = 2**63 - 1


def _int64(key: str, what: str, number: numbers.Integral) -> int:
    value = int(number)
    if not _MIN_INT64 <= value <= _MAX_INT64:
        raise InvalidInput(
            f"Metric {key!r} {what} {value} is out of range: at most 2**63 - 1 in size.", key=key
        )
    return value


def validate_timestamp(key: str, timestamp: object) -> int | None:
    """Timestamps are integer milliseconds since the epoch."""
    if timestamp is None:
        return None
    if isinstance(timestamp, bool) or not isinstance(timestamp, numbers.Integral):
        raise InvalidInput(f"Metric {key!r} timestamp {timestamp!r} must be integer milliseconds.", key=key)
    return _int64(key, "timestamp", timestamp)


def validate_run_name(name: object) -> str:
    """Run names are non-empty strings of at most 250 characters."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"Invalid run name {name!r}: give a non-empty name.")
    _reject_nul(name, "Run name")
    if len(name) > MAX_RUN_NAME_LENGTH:
        raise InvalidInput(f"Run name has {len(name)} characters; at most {MAX_RUN_NAME_LENGTH} allowed.")
    return name.strip()


def validate_experiment_name(name: object) -> str:
    """Experiment names: non-empty, at most 500 characters; may be a path like /team/vision/resnet."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"Invalid experiment name {name!r}: give a non-empty name.")
    _reject_nul(name, "Experiment name")
    name = name.strip()
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidInput(
            f"Experiment name has {len(name)} characters; at most {MAX_EXPERIMENT_NAME_LENGTH} allowed."
        )
    if "//" in name or (name.endswith("/") and name != "/"):
        raise InvalidInput(f"Invalid experiment name {name!r}: no empty folder names ('//' or trailing '/').")
    return name
