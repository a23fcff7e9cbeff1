"""RestStore's live-training operations: console output, the last points per key, store settings.

A runyard server answers them (`/api/2.0/runyard/console/...`, `metrics/recent`, `settings/...`); a stock
MLflow server has no such thing: console capture then keeps nothing remotely, watch shows no sparklines
or alerts from points, and the calls that would need it say so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..entities import ConsoleChunk, Metric
from ..exceptions import InvalidInput
from .protocol import RUNYARD_API as RUNYARD
from .protocol import parse_double

NOT_ON_MLFLOW = "An MLflow tracking server keeps no {what}: it needs a runyard server (runyard server)."
APPEND_CHUNKS = 1_000


class RemoteLive:
    """The Store's live-training operations for RestStore (a mixin on its requests)."""

    if TYPE_CHECKING:

        def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]: ...

        @property
        def is_runyard(self) -> bool: ...

    def append_console(
        self, run_id: str, chunks: Sequence[tuple[int, str, str]], max_chars: int | None = None
    ) -> None:
        """Send console chunks (an MLflow server keeps none: they are dropped)."""
        if not self.is_runyard or not chunks:
            return
        for start in range(0, len(chunks), APPEND_CHUNKS):
            body: dict[str, Any] = {
                "run_id": run_id,
                "chunks": [
                    {"timestamp": ts, "stream": stream, "text": text}
                    for ts, stream, text in chunks[start : start + APPEND_CHUNKS]
                ],
            }
            if max_chars is not None:
                body["max_chars"] = max_chars
            self._call("POST", f"{RUNYARD}/console/append", body)

    def get_console(
        self, run_id: str, after_seq: int | None = None, limit: int | None = None, newest: bool = False
    ) -> list[ConsoleChunk]:
        """The run's console chunks (none on an MLflow server)."""
        if not self.is_runyard:
            return []
        body: dict[str, Any] = {"run_id": run_id, "newest": newest}
        if after_seq is not None:
            body["after_seq"] = after_seq
        if limit is not None:
            body["limit"] = limit
        answer = self._call("GET", f"{RUNYARD}/console/get", body)
        return [
            ConsoleChunk(int(c["seq"]), int(c["timestamp"]), str(c["stream"]), str(c["text"]))
            for c in answer.get("chunks", [])
        ]

    def recent_metrics(
        self, run_ids: Sequence[str], keys: Sequence[str] | None = None
    ) -> dict[str, dict[str, list[Metric]]]:
        """The last points of each (run, key) (none on an MLflow server)."""
        if not self.is_runyard or not run_ids:
            return {}
        body: dict[str, Any] = {"run_ids": list(run_ids)}
        if keys:
            body["keys"] = list(keys)
        answer = self._call("POST", f"{RUNYARD}/metrics/recent", body)
        return {
            str(run_id): {
                str(key): [
                    Metric(str(key), parse_double(value, "value"), int(timestamp), int(step))
                    for step, timestamp, value in points
                ]
                for key, points in by_key.items()
            }
            for run_id, by_key in (answer.get("recent") or {}).items()
        }

    def get_store_settings(self, prefix: str = "") -> dict[str, str]:
        """The server's store settings under a prefix (none on an MLflow server: defaults apply)."""
        if not self.is_runyard:
            return {}
        answer = self._call("GET", f"{RUNYARD}/settings/get", {"prefix": prefix})
        return {str(k): str(v) for k, v in (answer.get("settings") or {}).items()}

    def set_store_setting(self, key: str, value: str | None) -> None:
        """Set a store setting on the server (administrators only)."""
        if not self.is_runyard:
            raise InvalidInput(NOT_ON_MLFLOW.format(what="runyard settings"))
        body: dict[str, Any] = {"key": key}
        if value is not None:
            body["value"] = value
        self._call("POST", f"{RUNYARD}/settings/set", body)
