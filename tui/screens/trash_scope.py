"""What a screen tells the app when `T` opens the trash from it: which experiments; how to reload after."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class TrashScope(Protocol):
    """A screen the trash can be opened from with a scope of its own (other screens open the whole trash)."""

    def trash_scope(self) -> tuple[list[str], str] | None:
        """The experiment ids and the name the trash shows them under; None: the trash of all experiments."""
        ...

    def action_reload(self) -> None:
        """Load again what the screen shows (runs may have come back from the trash)."""
        ...
