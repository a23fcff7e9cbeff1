"""Run search: filter and order_by (parsed by query.py, compiled by search_sql.py), keyset paging.

A page is one SELECT (runs with their sort values, filtered, ordered, limited) plus a constant number
of queries that fetch params, metric summaries and tags of the page's runs (`SqlStore.load_runs`).
The page token is opaque: it records where the page ended (the last row's sort values and run_id),
the clock used for `duration`, and a fingerprint of the search, so the next page continues exactly
after that row even while new runs arrive (keyset pagination, never OFFSET).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from runyard.entities import Experiment, PagedList, ViewType
from runyard.exceptions import InvalidInput

if TYPE_CHECKING:
    from runyard.store.sql_store import SqlStore

MAX_RESULTS_LIMIT = 50_000
_TOKEN_VERSION = 2


def _fingerprint(
    experiment_ids: Sequence[str], filter_string: str, run_view_type: str, order_by: Sequence[str]
) -> str:
    payload = json.dumps([sorted(experiment_ids), filter_string, run_view_type, list(order_by)])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _encode_token(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def _decode_token(token: str, fingerprint: str) -> dict[str, Any]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        valid = isinstance(payload, dict) and payload.get("v") == _TOKEN_VERSION
    except (ValueError, binascii.Error, UnicodeError):
        valid = False
    if not valid:
        raise InvalidInput("Invalid page_token: pass the .token of the previous page unchanged.")
    if payload.get("f") != fingerprint:
        raise InvalidInput(
            "This page_token belongs to a different search: repeat the same experiment ids, filter, "
            "run_view_type and order_by as the search that returned it."
        )
    return payload


def _normalize_order_by(order_by: Sequence[str] | str | None) -> list[str]:
    if order_by is None:
        return []
    if isinstance(order_by, str):
        return [order_by]
    return [str(item) for item in order_by]


def search_runs_page(
    store: SqlStore,
    experiment_ids: Sequence[str],
    filter_string: str = "",
    run_view_type: str = ViewType.ACTIVE_ONLY,
    max_results: int = 1000,
    order_by: Sequence[str] | None = None,
    page_token: str | None = None,
) -> PagedList:
    """One page of runs matching the filter, in order; `.token` continues (None on the last page)."""
    from runyard.clock import now_ms
    from runyard.search.evaluate import with_tiebreaks
    from runyard.search.parser import parse_filter, parse_order_by
    from runyard.store.page_load import load_page
    from runyard.store.search_sql import FilterCompiler, page_query, position_of

    if isinstance(max_results, bool) or not isinstance(max_results, int):
        raise InvalidInput(f"max_results must be an integer between 1 and {MAX_RESULTS_LIMIT}.")
    if not 1 <= max_results <= MAX_RESULTS_LIMIT:
        raise InvalidInput(f"max_results must be between 1 and {MAX_RESULTS_LIMIT}, got {max_results}.")
    if run_view_type not in ViewType.VALUES:
        raise InvalidInput(
            f"Invalid run_view_type {run_view_type!r}: use one of {', '.join(ViewType.VALUES)}."
        )
    ids = [str(experiment_id) for experiment_id in experiment_ids]
    filter_text = filter_string or ""
    order_items = _normalize_order_by(order_by)
    node = parse_filter(filter_text)
    order = with_tiebreaks(parse_order_by(order_items))
    fingerprint = _fingerprint(ids, filter_text, run_view_type, order_items)
    after = None
    clock = now_ms()
    if page_token:
        payload = _decode_token(page_token, fingerprint)
        try:
            clock = int(payload["now"])
            after = ([(str(state), value) for state, value in payload["after"]], str(payload["run_id"]))
            if len(after[0]) != len(order):
                raise ValueError("token positions do not match the order_by keys")
        except (KeyError, TypeError, ValueError):
            raise InvalidInput(
                "Invalid page_token: pass the .token of the previous page unchanged."
            ) from None
    if not ids:
        return PagedList([], None)
    compiler = FilterCompiler(store.db.dialect, clock)
    with store.db.connect() as conn:
        walked = None
        if not order_items and compiler.can_scan_in_order(node):
            if after is None and len(ids) == 1 and run_view_type == ViewType.ACTIVE_ONLY:
                walked = _bounded_walk(conn, compiler, node, ids, order, max_results)
            if walked is None:
                compiler.scan_in_order = _scan_in_order(conn, compiler, node, ids, max_results)
        if walked is None:
            query, columns = page_query(compiler, ids, run_view_type, node, order, after, max_results + 1)
            result = conn.execute(query)
            rows, keys = result.fetchall(), list(result.keys())
        else:
            rows, keys, columns = walked
        index_of = {name: index for index, name in enumerate(keys)}
        runs = load_page(conn, store.db.dialect, rows[:max_results])
    token = None
    if len(rows) > max_results:
        last = rows[max_results - 1]
        positions = [
            position_of(
                column,
                last[index_of[f"_sort_{index}"]],
                last[index_of[f"_present_{index}"]] if f"_present_{index}" in index_of else None,
            )
            for index, column in enumerate(columns)
        ]
        token = _encode_token(
            {
                "v": _TOKEN_VERSION,
                "f": fingerprint,
                "now": clock,
                "after": positions,
                "run_id": last[index_of["run_id"]],
            }
        )
    return PagedList(runs, token)


_WALK_BOUND = 3  # the bounded walk visits at most this many times (page + 1) runs


def _bounded_walk(
    conn: Any, compiler: Any, node: Any, experiment_ids: list[str], order: Any, limit: int
) -> tuple[list[Any], list[str], Any] | None:
    """SQLite, one condition, default order, the first page of one experiment's active runs: walk
    the newest runs first without counting anything first (page rows, their keys, sort columns).

    Bound: the start time of the W-th newest run of the scope, W = 3 x (limit + 1) (one index-only
    step). The runs started at or after it are walked newest first; when limit + 1 of them match,
    they are the page, since every run beyond the bound comes later in the default order. Otherwise
    None: the caller counts and picks the plan (_scan_in_order). A clause most runs pass skips the
    two counts (~2 ms of a 10,000-run page); one few runs pass pays a walk of W runs more.
    """
    from runyard.store.search_sql import page_query, scope_condition
    from runyard.store.sql_store import runs_t
    from sqlalchemy import select

    width = _WALK_BOUND * (limit + 1)
    newest = (
        select(runs_t.c.start_time)
        .where(scope_condition(experiment_ids, ViewType.ACTIVE_ONLY))
        .order_by(runs_t.c.start_time.desc().nulls_last())
        .limit(1)
        .offset(width - 1)
    )
    bound = conn.execute(newest).first()
    if bound is not None and bound[0] is None:  # runs without a start time within the bound
        return None
    compiler.scan_in_order = True
    query, columns = page_query(compiler, experiment_ids, ViewType.ACTIVE_ONLY, node, order, None, limit + 1)
    if bound is not None:  # None: fewer than W runs in scope, the walk is short anyway
        query = query.where(runs_t.c.start_time >= bound[0])
    result = conn.execute(query)
    rows = result.fetchall()
    compiler.scan_in_order = False
    if bound is not None and len(rows) <= limit:
        return None
    return rows, list(result.keys()), columns


def _scan_in_order(conn: Any, compiler: Any, node: Any, experiment_ids: list[str], limit: int) -> bool:
    """SQLite, one condition, newest first: walk the runs in order rather than start from the matches?

    Starting from the matching run keys costs ~3 us a match (look up, then sort); walking the
    experiment's runs newest first and probing each costs ~3 us a run until `limit` matched, i.e.
    limit / selectivity. Walking wins when matches^2 > limit x runs: measured on 100,000 runs, a
    clause half the runs pass took 155 ms from the matches and 5 ms walking. Two capped counts
    (index-only) decide; matches are counted in every experiment, an upper bound for these ones.
    """
    from math import isqrt

    from runyard.store.sql_store import runs_t
    from sqlalchemy import func, select

    matching = compiler.matching_run_keys(node)
    if matching is None:
        return False
    # One statement, both counts capped: the threshold isqrt(limit x runs) is at most 10 x limit here.
    in_scope = select(runs_t.c.id).where(runs_t.c.experiment_id.in_(experiment_ids)).limit(100 * limit)
    capped = matching.limit(10 * limit).subquery()
    counts = select(
        select(func.count()).select_from(in_scope.subquery()).scalar_subquery(),
        select(func.count()).select_from(capped).scalar_subquery(),
    )
    runs, matches = conn.execute(counts).one()
    return bool(runs > 2 * limit and matches >= isqrt(limit * runs))


def search_experiments(
    store: SqlStore,
    filter_string: str = "",
    view_type: str = ViewType.ACTIVE_ONLY,
    order_by: Sequence[str] | str | None = None,
    max_results: int | None = None,
) -> list[Experiment]:
    """Experiments matching a filter such as `name LIKE '/team/%' AND tags.x = 'y'`, in order.

    Stores hold few experiments (hundreds, not millions), so they are read in two queries and the
    filter is evaluated with the reference semantics (query_eval) rather than compiled to SQL.
    Default order: newest created first, then experiment_id.
    """
    from runyard.search.evaluate import evaluate_experiment, sort_experiments
    from runyard.search.parser import parse_filter, parse_order_by

    if view_type not in ViewType.VALUES:
        raise InvalidInput(f"Invalid view_type {view_type!r}: use one of {', '.join(ViewType.VALUES)}.")
    if max_results is not None and (
        isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1
    ):
        raise InvalidInput("max_results must be a positive integer (or None for every experiment).")
    node = parse_filter(filter_string or "", experiments=True)
    order = parse_order_by(_normalize_order_by(order_by), experiments=True)
    found = [
        experiment
        for experiment in store.list_experiments(view_type)
        if evaluate_experiment(node, experiment)
    ]
    ordered = sort_experiments(found, order)
    return ordered if max_results is None else ordered[:max_results]
