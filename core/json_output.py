"""One JSON encoding for every JSON the CLI and dumps write: NaN and infinities as MLflow's REST API."""

from __future__ import annotations

import json
import math
from typing import Any

_SPECIAL_OUT = {math.inf: "Infinity", -math.inf: "-Infinity"}


def json_float(value: float | None) -> float | str:
    """A float for JSON: NaN (or None) -> "NaN", +-inf -> "Infinity"/"-Infinity", others unchanged."""
    if value is not None and value - value == 0:
        return value
    return "NaN" if value is None or value != value else _SPECIAL_OUT[value]


def json_safe(data: Any) -> Any:
    """`data` with every non-finite float (in dicts, lists and tuples, at any depth) made JSON-safe."""
    if isinstance(data, float):
        return data if data - data == 0 else json_float(data)
    if isinstance(data, dict):
        return {key: json_safe(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [json_safe(item) for item in data]
    return data


def dumps(data: Any, **options: Any) -> str:
    """json.dumps of `data` after json_safe (strict JSON: never a bare NaN or Infinity token)."""
    return json.dumps(json_safe(data), allow_nan=False, **options)
