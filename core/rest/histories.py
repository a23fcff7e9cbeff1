"""RestStore's metric-history reads: paged MLflow histories, server-side (runyard) or local downsampling."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from ..entities import DownsampledHistory, Metric
from ..exceptions import RunNotFound
from . import mlflow_compat as compat
from . import protocol as p
from .decode import metric_from_json
from .protocol import MLFLOW_API as MLFLOW
from .protocol import RUNYARD_API as RUNYARD
from .transport import RemoteNotFound

if TYPE_CHECKING:
    from ..entities import Run
    from .store import RestStore

HISTORY_PAGE = 25_000


class RemoteHistories:
    """The Store's metric-history operations for RestStore (a mixin on its requests)."""

    if TYPE_CHECKING:

        def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]: ...

        @property
        def is_runyard(self) -> bool: ...

        def get_run(self, run_id: str) -> Run: ...

        def get_runs(self, run_ids: Sequence[str]) -> list[Run]: ...

    def get_metric_history(self, run_id: str, key: str, max_points: int | None = None) -> list[Metric]:
        """Every point of a metric (timestamp, then step), paged; at most max_points when given."""
        metrics: list[Metric] = []
        for page in self.metric_history_pages(run_id, key, max_points):
            metrics.extend(page)
        metrics.sort(key=lambda m: (m.timestamp, m.step))
        return metrics

    def metric_history_pages(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> Iterator[list[Metric]]:
        """The points of a metric a get-history page (HISTORY_PAGE points) at a time, as the server sends
        them; at most max_points in all when given. Memory stays at one page however long the history."""
        sent = 0
        token: str | None = None
        while True:
            page = HISTORY_PAGE if max_points is None else min(HISTORY_PAGE, max_points - sent)
            body: dict[str, Any] = {"run_id": run_id, "metric_key": key, "max_results": page}
            if token:
                body["page_token"] = token
            try:
                answer = self._call("GET", f"{MLFLOW}/metrics/get-history", body)
            except RemoteNotFound as error:
                raise RunNotFound(str(error)) from None
            metrics = [metric_from_json(m) for m in answer.get("metrics") or ()]
            sent += len(metrics)
            if metrics:
                yield metrics
            token = answer.get("next_page_token")
            if not token or (max_points is not None and sent >= max_points):
                return

    def get_metric_history_downsampled(
        self, run_id: str, key: str, max_points: int, x_axis: str = "step", since_step: int | None = None
    ) -> DownsampledHistory:
        """At most max_points buckets; computed by a runyard server, here for a stock MLflow server."""
        if not self.is_runyard:
            return compat.downsample(cast("RestStore", self), run_id, key, max_points, x_axis, since_step)
        body: dict[str, Any] = {"run_id": run_id, "metric_key": key, "max_points": max_points}
        body["x_axis"] = x_axis
        if since_step is not None:
            body["since_step"] = since_step
        try:
            answer = self._call("GET", f"{RUNYARD}/metrics/get-history-downsampled", body)
        except RemoteNotFound as error:
            raise RunNotFound(str(error)) from None
        return DownsampledHistory(
            key=str(answer.get("key", key)),
            x_axis=str(answer.get("x_axis", x_axis)),
            steps=[int(s) for s in answer.get("steps") or ()],
            timestamps=[int(t) for t in answer.get("timestamps") or ()],
            values=[p.parse_double(v, "values") for v in answer.get("values") or ()],
            mins=[p.parse_double(v, "mins") for v in answer.get("mins") or ()],
            maxs=[p.parse_double(v, "maxs") for v in answer.get("maxs") or ()],
            counts=[int(c) for c in answer.get("counts") or ()],
            source=str(answer.get("source", "empty")),
        )

    def get_metric_history_frame(
        self, run_ids: Sequence[str] | str, keys: Sequence[str] | str | None = None
    ) -> Any:
        """Every point as a long pandas DataFrame: run_id, key, step, timestamp, value."""
        from ..interop.frames import _pandas

        pd, _numpy = _pandas()
        ids = [run_ids] if isinstance(run_ids, str) else list(run_ids)
        wanted = [keys] if isinstance(keys, str) else (list(keys) if keys is not None else None)
        rows: list[tuple[str, str, int, int, float]] = []
        for run in self.get_runs(ids):
            for key in wanted if wanted is not None else sorted(run.data.metric_summaries):
                for m in self.get_metric_history(run.info.run_id, key):
                    rows.append((run.info.run_id, key, m.step, m.timestamp, m.value))
        return pd.DataFrame(rows, columns=["run_id", "key", "step", "timestamp", "value"])

    def iter_metric_points(
        self, run_id: str, chunk: int = 65_536
    ) -> Iterator[list[tuple[str, int, int, float]]]:
        """Every point of every metric of the run as (key, step, timestamp, value) rows, in chunks."""
        batch: list[tuple[str, int, int, float]] = []
        for key in sorted(self.get_run(run_id).data.metric_summaries):
            for page in self.metric_history_pages(run_id, key):
                for m in page:
                    batch.append((key, m.step, m.timestamp, m.value))
                    if len(batch) >= chunk:
                        yield batch
                        batch = []
        if batch:
            yield batch
