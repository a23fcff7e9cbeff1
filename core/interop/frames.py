"""Long-format metric history DataFrames (run_id, key, step, timestamp, value) built from column arrays.

Rows come from the DBAPI cursor in blocks and are turned into numpy columns block by block; run ids
and keys become pandas Categoricals built from integer codes, so no Python object is made per point
beyond the driver's row tuple.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidInput, MissingExtra, RunNotFound

if TYPE_CHECKING:
    from ..store import SqlStore

FETCH_BLOCK = 65_536
COLUMNS = ("run_id", "key", "step", "timestamp", "value")


def _pandas() -> Any:
    try:
        import numpy
        import pandas
    except ImportError:
        raise MissingExtra(
            "Metric DataFrames need pandas and pyarrow: pip install 'runyard[pandas]'"
        ) from None
    return pandas, numpy


def metric_history_frame(
    store: SqlStore, run_ids: Sequence[str] | str, keys: Sequence[str] | str | None = None
) -> Any:
    """Every point of the keys (all keys when None) of the runs, ordered by run (as given), key, step."""
    pandas, numpy = _pandas()
    from sqlalchemy import select

    from ..store import chunked, runs_t

    run_list = [run_ids] if isinstance(run_ids, str) else list(dict.fromkeys(run_ids))
    key_list = None if keys is None else ([keys] if isinstance(keys, str) else list(dict.fromkeys(keys)))
    if key_list is not None and not all(isinstance(k, str) for k in key_list):
        raise InvalidInput("keys must be metric names (strings).")
    pk_of: dict[str, int] = {}
    with store.db.connect() as conn:
        for chunk in chunked(run_list):
            for run_id, pk in conn.execute(
                select(runs_t.c.run_id, runs_t.c.id).where(runs_t.c.run_id.in_(list(chunk)))
            ):
                pk_of[run_id] = int(pk)
        missing = [r for r in run_list if r not in pk_of]
        if missing:
            raise RunNotFound(f"Run {missing[0]!r} not found (and {len(missing) - 1} more).")
        blocks: list[tuple[Any, ...]] = []
        key_codes: dict[str, int] = {k: i for i, k in enumerate(key_list or [])}
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        mark = store.db.paramstyle
        try:
            for run_code, run_id in enumerate(run_list):
                sql = f'SELECT "key", step, timestamp, value FROM metrics WHERE run_pk = {mark}'
                params: list[Any] = [pk_of[run_id]]
                if key_list is not None:
                    if not key_list:
                        break
                    sql += f' AND "key" IN ({", ".join([mark] * len(key_list))})'
                    params += key_list
                cursor.execute(sql + ' ORDER BY "key", step, timestamp, id', params)
                while rows := cursor.fetchmany(FETCH_BLOCK):
                    blocks.append(_block(numpy, rows, run_code, key_codes))
        finally:
            cursor.close()
    categories = sorted(key_codes, key=key_codes.__getitem__)
    if blocks:
        run_codes, codes, steps, timestamps, values = (
            numpy.concatenate(parts) for parts in zip(*blocks, strict=True)
        )
    else:
        run_codes = codes = numpy.empty(0, dtype=numpy.int32)
        steps = timestamps = numpy.empty(0, dtype=numpy.int64)
        values = numpy.empty(0, dtype=numpy.float64)
    return pandas.DataFrame(
        {
            "run_id": pandas.Categorical.from_codes(run_codes, categories=run_list),
            "key": pandas.Categorical.from_codes(codes, categories=categories),
            "step": steps,
            "timestamp": timestamps,
            "value": values,
        }
    )


def _block(numpy: Any, rows: Sequence[Any], run_code: int, key_codes: dict[str, int]) -> tuple[Any, ...]:
    """Column arrays of one block of (key, step, timestamp, value) rows; NULL values become NaN."""
    keys, steps, timestamps, values = zip(*rows, strict=True)
    codes = numpy.fromiter((key_codes.setdefault(k, len(key_codes)) for k in keys), numpy.int32, len(keys))
    return (
        numpy.full(len(rows), run_code, dtype=numpy.int32),
        codes,
        numpy.asarray(steps, dtype=numpy.int64),
        numpy.asarray(timestamps, dtype=numpy.int64),
        numpy.asarray(values, dtype=numpy.float64),  # None -> nan
    )
