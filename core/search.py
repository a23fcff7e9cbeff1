"""Run search: filter tree -> SQL, order_by, paging. (Minimal first version: no filter support yet.)"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import and_, select

from .entities import LifecycleStage, PagedList, Run, ViewType
from .exceptions import InvalidInput, InvalidQuery

if TYPE_CHECKING:
    from .store import SqlStore


def search_runs_page(
    store: SqlStore,
    experiment_ids: Sequence[str],
    filter_string: str = "",
    run_view_type: str = ViewType.ACTIVE_ONLY,
    max_results: int = 1000,
    order_by: Sequence[str] | None = None,
    page_token: str | None = None,
) -> PagedList:
    """One page of runs of the experiments, newest first; `.token` continues (None on the last page)."""
    from .store import runs_t

    if filter_string and filter_string.strip():
        raise InvalidQuery("Filters are not supported yet", filter_string, 0)
    if not 1 <= max_results <= 50_000:
        raise InvalidInput("max_results must be between 1 and 50000.")
    offset = int(json.loads(base64.b64decode(page_token))["offset"]) if page_token else 0
    query = select(runs_t).where(runs_t.c.experiment_id.in_([str(e) for e in experiment_ids]))
    if run_view_type == ViewType.ACTIVE_ONLY:
        query = query.where(runs_t.c.lifecycle_stage == LifecycleStage.ACTIVE)
    elif run_view_type == ViewType.DELETED_ONLY:
        query = query.where(runs_t.c.lifecycle_stage == LifecycleStage.DELETED)
    query = query.order_by(runs_t.c.start_time.desc(), runs_t.c.run_id).offset(offset).limit(max_results + 1)
    with store.db.connect() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
        runs: list[Run] = store.load_runs(conn, rows[:max_results])
    token = None
    if len(rows) > max_results:
        token = base64.b64encode(json.dumps({"offset": offset + max_results}).encode()).decode()
    return PagedList(runs, token)


_ = and_
