"""A metric history read a page at a time (as the server answers get-history) is the whole history, cut."""

from __future__ import annotations

import math
from typing import Any

from runyard import Metric
from runyard.store.metrics import history_rows, history_rows_page


def _key(row: tuple[float | None, int, int]) -> tuple[Any, ...]:
    value, timestamp, step = row
    return (timestamp, step, "nan" if value is None or math.isnan(value) else value)


def test_pages_of_a_history_are_the_whole_history_in_order(client: Any) -> None:
    experiment_id = client.create_experiment("/pages")
    run_id = client.create_run(experiment_id, run_name="r").info.run_id
    # ties on timestamp and step, NaN and infinities, steps going backwards, one repeated point
    points = [Metric("loss", float(v % 7), 1_000 + (v % 5), (v * 13) % 11) for v in range(40)]
    points += [Metric("loss", math.nan, 1_002, 3), Metric("loss", math.inf, 1_002, 3)]
    points += [
        Metric("loss", -math.inf, 1_000, 0),
        Metric("loss", 2.0, 1_001, 1),
        Metric("loss", 2.0, 1_001, 1),
    ]
    client.log_batch(run_id, metrics=points)
    client.log_batch(run_id, metrics=[Metric("other", 1.0, 5, 5)])

    store = client.store
    pk = store.run_pk(run_id)
    with store.db.connect() as conn:
        whole = history_rows(conn, pk, "loss")
        paged = [
            row
            for offset in range(0, len(whole) + 7, 7)
            for row in history_rows_page(conn, pk, "loss", offset, 7)
        ]
    assert len(whole) == len(points)
    assert [_key(row) for row in paged] == [_key(row) for row in whole]
