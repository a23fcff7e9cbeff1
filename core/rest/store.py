"""RestStore: the Store interface over HTTP, on a runyard server or a stock MLflow tracking server.

MLflow's REST API carries experiments, runs, logging, histories and trash; runyard's endpoints
(/api/2.0/runyard/...) carry what the app needs beyond it. A server that answers 404 on
/api/2.0/runyard/version is a stock MLflow server: then the browsing calls are computed on this side
from MLflow's search (at most OVERVIEW_SAMPLE runs: counts then read "1,000+"), histories are
downsampled here, and what MLflow cannot do (purge, gc, OR/NOT, MIN()/MAX()) is refused with a message
that names the limitation (rest/mlflow_compat.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..entities import (
    RUN_NAME,
    Experiment,
    ExperimentOverview,
    GcResult,
    Run,
    RunKeys,
)
from ..exceptions import ExperimentExists, ExperimentNotFound, InvalidInput, RunNotFound
from . import mlflow_compat as compat
from . import protocol as p
from .decode import experiment_from_json, run_from_json
from .histories import RemoteHistories
from .live import RemoteLive
from .protocol import MLFLOW_API as MLFLOW
from .protocol import RUNYARD_API as RUNYARD
from .remote_logged_models import RemoteLoggedModels
from .search import RemoteSearch
from .transport import RemoteNotFound, Transport

if TYPE_CHECKING:
    from ..entities import (
        DatasetInput,
        LoggedModelInput,
    )
    from .artifacts import RemoteArtifacts

CLIENT_API_VERSION = 1


class ServerVersionMismatch(InvalidInput):
    """The runyard server speaks another version of runyard's endpoints than this client."""


class RestStore(RemoteSearch, RemoteHistories, RemoteLive, RemoteLoggedModels):
    """Every Store operation as requests to one tracking server (thread-safe: one pooled client)."""

    def __init__(self, tracking_uri: str, transport: Transport | None = None) -> None:
        self.transport = transport or Transport(tracking_uri)
        self.tracking_uri = self.transport.base_url
        self._lock = threading.Lock()
        self._server: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"RestStore({self.tracking_uri!r})"

    # ----------------------------------------------------------------- the server
    def server_info(self) -> dict[str, Any]:
        """{kind: "runyard"|"mlflow", version, clock_skew_ms}, asked once (a 404 means stock MLflow)."""
        with self._lock:
            if self._server is not None:
                return self._server
        from ..clock import now_ms

        try:
            sent = now_ms()
            answer = self.transport.call("GET", f"{RUNYARD}/version")
            received = now_ms()
        except RemoteNotFound:
            info: dict[str, Any] = {"kind": "mlflow", "version": self._mlflow_version(), "clock_skew_ms": 0}
        else:
            api = answer.get("api_version")
            if api != CLIENT_API_VERSION:
                from .. import __version__

                raise ServerVersionMismatch(
                    f"The runyard server {self.tracking_uri} runs runyard {answer.get('version', '?')} "
                    f"(API {api}); this is runyard {__version__} (API {CLIENT_API_VERSION}): install the "
                    "same runyard version on both sides."
                )
            server_now = int(answer.get("server_time_ms") or (sent + received) // 2)
            skew = (sent + received) // 2 - server_now
            info = {"kind": "runyard", "version": str(answer.get("version", "")), "clock_skew_ms": skew}
        with self._lock:
            self._server = info
        return info

    def _mlflow_version(self) -> str:
        try:
            return self.transport.request("GET", "/version", retries=0).text.strip()[:40]
        except Exception:  # noqa: BLE001 - the version is only shown, never required
            return ""

    @property
    def is_runyard(self) -> bool:
        """True on a runyard server, False on a stock MLflow server."""
        return bool(self.server_info()["kind"] == "runyard")

    @property
    def capabilities(self) -> frozenset[str]:
        """What this server can do beyond MLflow's API: purge, gc, or_filters, aggregates, lost, counts."""
        if self.is_runyard:
            return frozenset({"purge", "gc", "or_filters", "aggregates", "lost", "exact_counts"})
        return frozenset()

    def _run(self, payload: Mapping[str, Any]) -> Run:
        return run_from_json(payload, int(self.server_info()["clock_skew_ms"]))

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        if self._server is None:
            self.server_info()  # the first call checks which server this is and its version
        return self.transport.call(method, path, body)

    def close(self) -> None:
        """Close the connection pool."""
        self.transport.close()

    # ----------------------------------------------------------------- experiments
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, str] | None = None,
        experiment_id: str | None = None,
        creation_time: int | None = None,
    ) -> str:
        """Create an experiment; returns its id (the server chooses ids and times)."""
        from ..validation import validate_experiment_name

        body: dict[str, Any] = {"name": validate_experiment_name(name)}
        if artifact_location:
            body["artifact_location"] = artifact_location
        if tags:
            body["tags"] = p.key_values_json({k: str(v) for k, v in tags.items()}, mlflow_tags=True)
        return str(self._call("POST", f"{MLFLOW}/experiments/create", body)["experiment_id"])

    def get_or_create_experiment(self, name: str, tags: Mapping[str, str] | None = None) -> str:
        """The id of the experiment with this name, created if missing (safe against a concurrent create)."""
        existing = self.get_experiment_by_name(name)
        if existing is not None:
            return existing.experiment_id
        try:
            return self.create_experiment(name, tags=tags)
        except ExperimentExists:
            found = self.get_experiment_by_name(name)
            if found is None:
                raise
            return found.experiment_id

    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment (ExperimentNotFound when missing)."""
        try:
            answer = self._call("GET", f"{MLFLOW}/experiments/get", {"experiment_id": str(experiment_id)})
        except RemoteNotFound as error:
            raise ExperimentNotFound(str(error)) from None
        return experiment_from_json(answer["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with this name, or None."""
        try:
            answer = self._call("GET", f"{MLFLOW}/experiments/get-by-name", {"experiment_name": name})
        except RemoteNotFound:
            return None
        return experiment_from_json(answer["experiment"])

    def list_experiments(self, view_type: str = "ACTIVE_ONLY") -> list[Experiment]:
        """Every experiment in that view."""
        return self.search_experiments("", view_type)

    def search_experiments(
        self,
        filter_string: str = "",
        view_type: str = "ACTIVE_ONLY",
        order_by: Sequence[str] | str | None = None,
        max_results: int | None = None,
    ) -> list[Experiment]:
        """Experiments matching a filter, every page fetched (up to max_results)."""
        orders = [order_by] if isinstance(order_by, str) else list(order_by or [])
        found: list[Experiment] = []
        token: str | None = None
        while True:
            page = max_results - len(found) if max_results else p.SEARCH_MAX_RESULTS_DEFAULT
            body: dict[str, Any] = {"max_results": min(page, p.SEARCH_MAX_RESULTS_DEFAULT)}
            body["view_type"] = view_type
            if filter_string:
                body["filter"] = filter_string
            if orders:
                body["order_by"] = orders
            if token:
                body["page_token"] = token
            answer = self._call("POST", f"{MLFLOW}/experiments/search", body)
            found.extend(experiment_from_json(e) for e in answer.get("experiments") or ())
            token = answer.get("next_page_token")
            if not token or (max_results and len(found) >= max_results):
                return found

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an experiment."""
        from ..validation import validate_experiment_name

        body = {"experiment_id": str(experiment_id), "new_name": validate_experiment_name(new_name)}
        self._experiment_call(f"{MLFLOW}/experiments/update", body)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        """Set a tag of an experiment."""
        body = {"experiment_id": str(experiment_id), "key": p.mlflow_tag_key(key), "value": str(value)}
        self._experiment_call(f"{MLFLOW}/experiments/set-experiment-tag", body)

    def _experiment_call(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return self._call("POST", path, body)
        except RemoteNotFound as error:
            raise ExperimentNotFound(str(error)) from None

    def count_runs(self, experiment_ids: Sequence[str]) -> dict[str, int]:
        """Active runs per experiment (on MLflow: counted up to OVERVIEW_SAMPLE each)."""
        ids = [str(e) for e in experiment_ids]
        if not self.is_runyard:
            return {e: len(compat.first_runs(self, [e])) for e in ids}
        counts = self._call("POST", f"{RUNYARD}/experiments/count-runs", {"experiment_ids": ids})["counts"]
        return {str(k): int(v) for k, v in counts.items()}

    # ----------------------------------------------------------------- runs
    def create_run(
        self,
        experiment_id: str,
        run_name: str | None,
        user_id: str,
        start_time: int | None = None,
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        source_type: str | None = None,
        source_name: str | None = None,
        entry_point: str | None = None,
        source_version: str | None = None,
        status: str = "RUNNING",
        run_id: str | None = None,
    ) -> Run:
        """Create a run (the server chooses the id: run_id cannot be given over HTTP)."""
        from ..clock import now_ms
        from ..entities import PARENT_RUN_ID, SOURCE_NAME, SOURCE_TYPE

        if run_id is not None:
            raise InvalidInput("A tracking server chooses run ids: create the run without run_id.")
        all_tags = {k: str(v) for k, v in (tags or {}).items()}
        if parent_run_id:
            all_tags[PARENT_RUN_ID] = parent_run_id
        if source_type:
            all_tags.setdefault(SOURCE_TYPE, source_type)
        if source_name:
            all_tags.setdefault(SOURCE_NAME, source_name)
        if source_version:
            all_tags.setdefault("runyard.source.git.commit", source_version)
        if run_name:
            all_tags[RUN_NAME] = run_name
        body: dict[str, Any] = {
            "experiment_id": str(experiment_id),
            "user_id": user_id,
            "start_time": now_ms() if start_time is None else start_time,
            "tags": p.key_values_json(all_tags, mlflow_tags=True),
        }
        if run_name:
            body["run_name"] = run_name
        if self.is_runyard:  # this client's writer sends heartbeats: LOST after their timeout, as locally
            body[p.SENDS_HEARTBEATS_FIELD] = True
        try:
            answer = self._call("POST", f"{MLFLOW}/runs/create", body)
        except RemoteNotFound as error:
            raise ExperimentNotFound(str(error)) from None
        run = self._run(answer["run"])
        if status != "RUNNING":
            self.update_run(run.info.run_id, status=status)
            run = self.get_run(run.info.run_id)
        return run

    def get_run(self, run_id: str) -> Run:
        """The run (RunNotFound when missing)."""
        if self.is_runyard:
            runs = self.get_runs([run_id])
            if not runs:
                raise RunNotFound(f"Run '{run_id}' not found.")
            return runs[0]
        try:
            return self._run(self._call("GET", f"{MLFLOW}/runs/get", {"run_id": run_id})["run"])
        except RemoteNotFound as error:
            raise RunNotFound(str(error)) from None

    def get_runs(self, run_ids: Sequence[str]) -> list[Run]:
        """Runs by id in the order given (unknown ids skipped)."""
        ids = list(dict.fromkeys(str(r) for r in run_ids))
        if not ids:
            return []
        if not self.is_runyard:
            return compat.get_runs(self, ids)
        runs: list[Run] = []
        for start in range(0, len(ids), 1000):
            answer = self._call("POST", f"{RUNYARD}/runs/get", {"run_ids": ids[start : start + 1000]})
            runs.extend(self._run(r) for r in answer.get("runs") or ())
        return runs

    def update_run(
        self,
        run_id: str,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
        clear_end_time: bool = False,
    ) -> None:
        """Change a run's status, end time or name."""
        body: dict[str, Any] = {"run_id": run_id}
        if status is not None:
            body["status"] = status
        if end_time is not None:
            body["end_time"] = end_time
        if run_name is not None:
            body["run_name"] = run_name
        if clear_end_time:
            if not self.is_runyard:
                raise InvalidInput(compat.limitation("clearing a run's end time"))
            body["clear_end_time"] = True
        path = f"{RUNYARD}/runs/update" if self.is_runyard else f"{MLFLOW}/runs/update"
        self._run_call(path, body)

    def _run_call(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return self._call("POST", path, body)
        except RemoteNotFound as error:
            raise RunNotFound(str(error)) from None

    def heartbeat(self, run_ids: Sequence[str], timestamp: int | None = None) -> None:
        """Tell the server the runs' processes are alive (a stock MLflow server has no heartbeats)."""
        if run_ids and self.is_runyard:
            body: dict[str, Any] = {"run_ids": list(run_ids)}
            if timestamp is not None:
                body["timestamp"] = timestamp
            self._call("POST", f"{RUNYARD}/runs/heartbeat", body)

    # ----------------------------------------------------------------- logging
    def log_params(self, run_id: str, params: Mapping[str, object]) -> None:
        """Log params (write-once), in batches of MLflow's limit."""
        self.log_batch(run_id, params=params)

    def set_tags(self, run_id: str, tags: Mapping[str, object]) -> None:
        """Set run tags; runyard.runName renames the run."""
        tags = dict(tags)
        name = tags.pop(RUN_NAME, None)
        if name is not None:
            self.update_run(run_id, run_name=str(name))
        if tags:
            self.log_batch(run_id, tags=tags)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Delete a run tag."""
        self._run_call(f"{MLFLOW}/runs/delete-tag", {"run_id": run_id, "key": p.mlflow_tag_key(key)})

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[tuple[str, float, int, int]] = (),
        params: Mapping[str, object] | None = None,
        tags: Mapping[str, object] | None = None,
    ) -> None:
        """Metrics (key, value, timestamp, step), params and tags in requests within MLflow's limits."""
        param_items = [{"key": k, "value": str(v)} for k, v in (params or {}).items()]
        tag_items = [{"key": p.mlflow_tag_key(k), "value": str(v)} for k, v in (tags or {}).items()]
        metric_items = [
            {"key": k, "value": p.encode_double(float(v)), "timestamp": ts, "step": step}
            for k, v, ts, step in metrics
        ]
        limit = p.MAX_PARAMS_TAGS_PER_BATCH
        while param_items or tag_items or metric_items:
            body: dict[str, Any] = {"run_id": run_id}
            if param_items:
                body["params"], param_items = param_items[:limit], param_items[limit:]
            if tag_items:
                body["tags"], tag_items = tag_items[:limit], tag_items[limit:]
            room = p.MAX_METRICS_PER_BATCH - len(body.get("params", ())) - len(body.get("tags", ()))
            if metric_items and room > 0:
                body["metrics"], metric_items = metric_items[:room], metric_items[room:]
            self._run_call(f"{MLFLOW}/runs/log-batch", body)

    def write_metric_points(self, points: Sequence[tuple[str, str, float, int, int]]) -> None:
        """Buffered points (run_id, key, value, timestamp, step): one log-batch per run and 1,000 points."""
        by_run: dict[str, list[tuple[str, float, int, int]]] = {}
        for run_id, key, value, timestamp, step in points:
            by_run.setdefault(run_id, []).append((key, value, timestamp, step))
        for run_id, run_points in by_run.items():
            self.log_batch(run_id, run_points)

    def existing_run_ids(self, run_ids: Sequence[str]) -> set[str]:
        """Which of these runs exist (in any lifecycle stage)."""
        return {run.info.run_id for run in self.get_runs(list(run_ids))}

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[LoggedModelInput] | None = None,
    ) -> int:
        """Record dataset (and model) inputs; returns how many datasets were sent."""
        from .protocol import dataset_json

        items = [
            {
                "dataset": dataset_json(d.dataset),
                **({"tags": [{"key": t.key, "value": t.value} for t in d.tags]} if d.tags else {}),
            }
            for d in datasets or ()
        ]
        body: dict[str, Any] = {"run_id": run_id, "datasets": items}
        if models:
            body["models"] = [{"model_id": m.model_id} for m in models]
        self._run_call(f"{MLFLOW}/runs/log-inputs", body)
        return len(items)

    # ----------------------------------------------------------------- browsing
    def experiment_overview(
        self, experiment_ids: Sequence[str], now_ms: int | None = None
    ) -> ExperimentOverview:
        """Counts of active runs; the server's clock judges LOST (MLflow: from the first runs, no LOST)."""
        ids = [str(e) for e in experiment_ids]
        if not ids:
            return ExperimentOverview()
        if not self.is_runyard:
            return compat.overview(self, ids)
        answer = self._call("POST", f"{RUNYARD}/experiments/overview", {"experiment_ids": ids})
        return ExperimentOverview(
            total_runs=int(answer.get("total_runs", 0)),
            running=int(answer.get("running", 0)),
            lost=int(answer.get("lost", 0)),
            failed=int(answer.get("failed", 0)),
            last_activity=answer.get("last_activity"),
            runs_per_user={str(k): int(v) for k, v in (answer.get("runs_per_user") or {}).items()},
        )

    def run_keys(self, experiment_ids: Sequence[str], run_view_type: str = "ACTIVE_ONLY") -> RunKeys:
        """Distinct param, metric and tag keys (MLflow: of the first runs)."""
        ids = [str(e) for e in experiment_ids]
        if not self.is_runyard:
            return compat.run_keys(self, ids, run_view_type)
        body = {"experiment_ids": ids, "run_view_type": run_view_type}
        answer = self._call("POST", f"{RUNYARD}/runs/keys", body)
        return RunKeys(list(answer["params"]), list(answer["metrics"]), list(answer["tags"]))

    def run_names(self, run_ids: Sequence[str]) -> dict[str, str]:
        """Names of runs by id."""
        return {run.info.run_id: run.info.run_name for run in self.get_runs(run_ids)}

    def runs_signature(
        self, experiment_ids: Sequence[str], run_view_type: str = "ACTIVE_ONLY"
    ) -> tuple[int, int]:
        """A value that changes when runs are added or removed (MLflow: over the first runs)."""
        ids = [str(e) for e in experiment_ids]
        if not ids:
            return (0, 0)
        if not self.is_runyard:
            return compat.signature(self, ids, run_view_type)
        body = {"experiment_ids": ids, "run_view_type": run_view_type}
        count, highest = self._call("POST", f"{RUNYARD}/runs/signature", body)["signature"]
        return (int(count), int(highest))

    def descendant_run_ids(self, run_ids: Sequence[str]) -> list[str]:
        """Active runs below these runs."""
        if not run_ids:
            return []
        if not self.is_runyard:
            return compat.descendants(self, list(run_ids), "ACTIVE_ONLY")
        return list(self._call("POST", f"{RUNYARD}/runs/descendants", {"run_ids": list(run_ids)})["run_ids"])

    # ----------------------------------------------------------------- lifecycle
    def delete_run(
        self, run_ids: str | Iterable[str], delete_descendants: bool = True, dry_run: bool = False
    ) -> list[str]:
        """Move runs (and descendants) to the trash; returns the ids."""
        ids = [run_ids] if isinstance(run_ids, str) else list(run_ids)
        if not self.is_runyard:
            return compat.set_stage(self, ids, "delete", delete_descendants, dry_run)
        body = {"run_ids": ids, "descendants": delete_descendants, "dry_run": dry_run}
        return list(self._run_call(f"{RUNYARD}/runs/delete", body)["run_ids"])

    def restore_run(
        self, run_ids: str | Iterable[str], restore_descendants: bool = True, dry_run: bool = False
    ) -> list[str]:
        """Bring runs (and descendants deleted with them) back from the trash; returns the ids."""
        ids = [run_ids] if isinstance(run_ids, str) else list(run_ids)
        if not self.is_runyard:
            return compat.set_stage(self, ids, "restore", restore_descendants, dry_run)
        body = {"run_ids": ids, "descendants": restore_descendants, "dry_run": dry_run}
        return list(self._run_call(f"{RUNYARD}/runs/restore", body)["run_ids"])

    def delete_runs(
        self, experiment_id: str, max_timestamp_millis: int, max_runs: int, dry_run: bool = False
    ) -> int:
        """Delete active runs started at or before a time; returns the count."""
        if not self.is_runyard:
            raise InvalidInput(compat.limitation("deleting runs by time"))
        body = {
            "experiment_id": str(experiment_id),
            "max_timestamp_millis": max_timestamp_millis,
            "max_runs": max_runs,
            "dry_run": dry_run,
        }
        return int(self._experiment_call(f"{RUNYARD}/runs/delete-before", body)["count"])

    def restore_runs(
        self, experiment_id: str, min_timestamp_millis: int, max_runs: int, dry_run: bool = False
    ) -> int:
        """Restore runs deleted at or after a time; returns the count."""
        if not self.is_runyard:
            raise InvalidInput(compat.limitation("restoring runs by time"))
        body = {
            "experiment_id": str(experiment_id),
            "min_timestamp_millis": min_timestamp_millis,
            "max_runs": max_runs,
            "dry_run": dry_run,
        }
        return int(self._experiment_call(f"{RUNYARD}/runs/restore-since", body)["count"])

    def delete_experiment(self, experiment_id: str) -> None:
        """Move an experiment to the trash."""
        self._experiment_call(f"{MLFLOW}/experiments/delete", {"experiment_id": str(experiment_id)})

    def restore_experiment(self, experiment_id: str) -> None:
        """Bring an experiment back from the trash."""
        self._experiment_call(f"{MLFLOW}/experiments/restore", {"experiment_id": str(experiment_id)})

    def rename_experiment_folder(self, old_prefix: str, new_prefix: str) -> dict[str, str]:
        """Rename every experiment under a folder prefix; returns {old name: new name}."""
        if not self.is_runyard:
            return compat.rename_folder(self, old_prefix, new_prefix)
        body = {"old_prefix": old_prefix, "new_prefix": new_prefix}
        renamed = self._call("POST", f"{RUNYARD}/experiments/rename-folder", body)["renamed"]
        return {str(k): str(v) for k, v in renamed.items()}

    def gc(
        self,
        older_than: timedelta | str | float | None = None,
        run_ids: str | Iterable[str] | None = None,
        experiment_ids: str | Iterable[str] | None = None,
        dry_run: bool = False,
    ) -> GcResult:
        """Permanently remove trashed runs/experiments on the server (its administrators only)."""
        if not self.is_runyard:
            raise InvalidInput(compat.NO_PURGE)
        body: dict[str, Any] = {"dry_run": dry_run}
        if older_than is not None:
            body["older_than"] = _duration_text(older_than)
        if run_ids is not None:
            body["run_ids"] = [run_ids] if isinstance(run_ids, str) else list(run_ids)
        if experiment_ids is not None:
            body["experiment_ids"] = (
                [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids)
            )
        answer = self._call("POST", f"{RUNYARD}/gc", body)
        return GcResult(list(answer.get("run_ids") or ()), list(answer.get("experiment_ids") or ()), dry_run)

    # ----------------------------------------------------------------- artifacts
    def artifacts(self, run_id: str) -> RemoteArtifacts:
        """The run's artifacts through the server's artifact proxy."""
        from .artifacts import RemoteArtifacts

        run = self.get_run(run_id)
        return RemoteArtifacts(self.transport, run.info.experiment_id, run_id, run.info.artifact_uri)


def _duration_text(older_than: timedelta | str | float) -> str:
    """A duration as gc's text form: '30d', or milliseconds as '<n>ms'-free seconds ('90s')."""
    if isinstance(older_than, str):
        return older_than
    if isinstance(older_than, timedelta):
        return f"{int(older_than.total_seconds())}s"
    return f"{older_than}d"
