"""RestStore's run search: pages of runs, and a first page with the runs signature in one request.

On a runyard server a page comes as compact rows (rest/run_rows.py) and, asked for, with the runs
signature computed just before the search in the same request, so that the app's search (signature,
then page) is one round trip instead of two. On a stock MLflow server, runyard's search extensions are
refused first and the signature is computed here from the first runs (rest/mlflow_compat.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..entities import PagedList, Run
from . import mlflow_compat as compat
from . import protocol as p
from .protocol import MLFLOW_API as MLFLOW
from .protocol import RUNYARD_API as RUNYARD
from .run_rows import LAYOUT as ROWS_LAYOUT
from .run_rows import runs_from_rows


class RemoteSearch:
    """search_runs and search_runs_with_signature for RestStore (a mixin on its requests)."""

    if TYPE_CHECKING:

        def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]: ...

        def _run(self, payload: Mapping[str, Any]) -> Run: ...

        def server_info(self) -> dict[str, Any]: ...

        def runs_signature(
            self, experiment_ids: Sequence[str], run_view_type: str = "ACTIVE_ONLY"
        ) -> tuple[int, int]: ...

        @property
        def is_runyard(self) -> bool: ...

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: str = "ACTIVE_ONLY",
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """One page of runs; on a stock MLflow server, runyard's search extensions are refused first."""
        body = self._search_body(experiment_ids, filter_string, run_view_type, max_results, order_by)
        if page_token:
            body["page_token"] = page_token
        return self._search(body)[0]

    def search_runs_with_signature(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: str = "ACTIVE_ONLY",
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
    ) -> tuple[PagedList, tuple[int, int]]:
        """The first page and runs_signature(experiment_ids, run_view_type), the signature read first."""
        body = self._search_body(experiment_ids, filter_string, run_view_type, max_results, order_by)
        if not self.is_runyard:
            signature = self.runs_signature(experiment_ids, run_view_type)
            return self._search(body)[0], signature
        body["with_signature"] = True
        page, answer = self._search(body)
        found = answer.get("signature")
        if found is None:  # a server that cannot fold it in: asked separately
            return page, self.runs_signature(experiment_ids, run_view_type)
        return page, (int(found[0]), int(found[1]))

    def _search_body(
        self,
        experiment_ids: Sequence[str],
        filter_string: str,
        run_view_type: str,
        max_results: int,
        order_by: Sequence[str] | None,
    ) -> dict[str, Any]:
        if not self.is_runyard:
            compat.check_search(filter_string, order_by)
        body: dict[str, Any] = {
            "experiment_ids": [str(e) for e in experiment_ids],
            "run_view_type": run_view_type,
            "max_results": max(1, min(int(max_results), p.SEARCH_MAX_RESULTS_LIMIT)),
        }
        if filter_string:
            body["filter"] = filter_string
        if order_by:
            body["order_by"] = list(order_by)
        return body

    def _search(self, body: dict[str, Any]) -> tuple[PagedList, dict[str, Any]]:
        if not self.is_runyard:
            answer = self._call("POST", f"{MLFLOW}/runs/search", body)
            runs = [self._run(r) for r in answer.get("runs") or ()]
            return PagedList(runs, answer.get("next_page_token") or None), answer
        body["layout"] = ROWS_LAYOUT
        answer = self._call("POST", f"{RUNYARD}/runs/search", body)
        if answer.get("layout") == ROWS_LAYOUT:
            runs = runs_from_rows(answer, int(self.server_info()["clock_skew_ms"]))
        else:  # a server without the rows layout answers Run messages
            runs = [self._run(r) for r in answer.get("runs") or ()]
        return PagedList(runs, answer.get("next_page_token") or None), answer
