"""View types (ACTIVE_ONLY, DELETED_ONLY, ALL) as SQL conditions: the one place that maps them to stages."""

from __future__ import annotations

from typing import Any

from runyard.entities import LifecycleStage, ViewType
from runyard.exceptions import InvalidInput


def check_view_type(view_type: str, what: str = "view_type") -> str:
    """The view type itself, or InvalidInput naming the accepted ones."""
    if view_type not in ViewType.VALUES:
        raise InvalidInput(f"Invalid {what} {view_type!r}: use one of {', '.join(ViewType.VALUES)}.")
    return view_type


def stage_condition(stage_column: Any, view_type: str) -> Any:
    """The lifecycle stages a view type selects, as a condition on a lifecycle_stage column."""
    check_view_type(view_type)
    if view_type == ViewType.ALL:
        return stage_column.in_([LifecycleStage.ACTIVE, LifecycleStage.DELETED])
    if view_type == ViewType.DELETED_ONLY:
        return stage_column == LifecycleStage.DELETED
    return stage_column == LifecycleStage.ACTIVE
