"""Long-format metric history DataFrames (run_id, key, step, timestamp, value) built from column arrays.

Rows of one (run, key) come from the DBAPI cursor in blocks and become numpy columns in one C-level
conversion (a structured array) per block; run ids and keys become pandas Categoricals built from
integer codes, so no Python object is made per point beyond the driver's row tuple.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidInput, MissingExtra

if TYPE_CHECKING:
    from runyard.store.sql_store import SqlStore

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
    """Every point of the keys (all when None) of the runs, ordered by run (as given), key name, step."""
    pandas, numpy = _pandas()
    from runyard.store.frames import iter_history_blocks

    run_list = [run_ids] if isinstance(run_ids, str) else list(dict.fromkeys(run_ids))
    key_list = None if keys is None else ([keys] if isinstance(keys, str) else list(dict.fromkeys(keys)))
    if key_list is not None and not all(isinstance(k, str) for k in key_list):
        raise InvalidInput("keys must be metric names (strings).")
    blocks: list[tuple[Any, ...]] = []
    key_codes: dict[str, int] = {key: code for code, key in enumerate(key_list or [])}
    for run_code, key, rows in iter_history_blocks(store, run_list, key_list, FETCH_BLOCK):
        code = key_codes.setdefault(key, len(key_codes))
        if rows:
            blocks.append(_block(numpy, rows, run_code, code))
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
            "key": pandas.Categorical.from_codes(codes, categories=list(key_codes)),
            "step": steps,
            "timestamp": timestamps,
            "value": values,
        }
    )


def _block(numpy: Any, rows: Sequence[Any], run_code: int, key_code: int) -> tuple[Any, ...]:
    """Column arrays of one block of (step, timestamp, value) rows, converted in C; NULL becomes NaN."""
    table = numpy.array(rows, dtype=_ROW_DTYPE)
    count = len(table)
    return (
        numpy.full(count, run_code, dtype=numpy.int32),
        numpy.full(count, key_code, dtype=numpy.int32),
        table["step"],
        table["timestamp"],
        table["value"],
    )


_ROW_DTYPE = [("step", "i8"), ("timestamp", "i8"), ("value", "f8")]
