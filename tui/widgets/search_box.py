"""SearchBox: the run query input with key completion and a history of past queries (up/down)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from textual.binding import Binding
from textual.suggester import Suggester
from textual.widget import Widget

from .control_message import ControlMessage, focus_now
from .in_order_input import InOrderInput
from .tables.run_rows import quote_key

ENTITY_PREFIXES = ("metrics.", "params.", "tags.", "attributes.")
ATTRIBUTE_KEYS = (
    "run_id",
    "run_name",
    "status",
    "user_id",
    "start_time",
    "end_time",
    "duration",
    "source_name",
    "source_type",
    "source_version",
    "experiment_id",
    "parent_run_id",
)
KEYWORDS = ("AND", "OR", "NOT", "LIKE", "ILIKE", "IN", "IS NULL", "IS NOT NULL")
_TOKEN_START = re.compile(r"[\s(]")


class KeySuggester(Suggester):
    """Completes the word at the end of the input: entity prefixes, then known keys after a prefix."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.keys: dict[str, list[str]] = {"metrics": [], "params": [], "tags": [], "attributes": []}
        self.keys["attributes"] = list(ATTRIBUTE_KEYS)

    def set_keys(self, metrics: Sequence[str], params: Sequence[str], tags: Sequence[str]) -> None:
        """The keys offered after metrics., params. and tags."""
        self.keys.update(metrics=list(metrics), params=list(params), tags=list(tags))

    async def get_suggestion(self, value: str) -> str | None:
        """The input completed at its last word, or None."""
        return self.complete(value)

    def complete(self, value: str) -> str | None:
        """The completion of value's last word (synchronous, for tests)."""
        if not value or value[-1].isspace():
            return None
        starts = [m.end() for m in _TOKEN_START.finditer(value)]
        start = starts[-1] if starts else 0
        word = value[start:]
        if word.startswith(("MIN(", "MAX(", "LATEST(", "min(", "max(", "latest(")):
            start += word.index("(") + 1
            word = value[start:]
        if not word:
            return None
        head = value[:start]
        if "." not in word:
            for prefix in ENTITY_PREFIXES:
                if prefix.startswith(word.lower()) and prefix != word:
                    return head + prefix
            return None
        entity, _, partial = word.partition(".")
        entity = {"metric": "metrics", "param": "params", "tag": "tags", "attr": "attributes"}.get(
            entity, entity
        )
        for key in self.keys.get(entity, []):
            written = quote_key(key)
            if written != partial and (written.startswith(partial) or key.startswith(partial)):
                return head + word[: len(word) - len(partial)] + written
        return None


class SearchBox(InOrderInput):
    """The query input: Enter applies, Escape returns to the table, up/down walk the history."""

    BINDINGS = [
        Binding("up", "history(-1)", "Older query", show=False, id="search.older"),
        Binding("down", "history(1)", "Newer query", show=False, id="search.newer"),
        Binding("escape", "leave", "Back to runs", id="search.leave"),
    ]

    class Left(ControlMessage):
        """The user pressed Escape: focus goes back to the table."""

    def __init__(self, *, id: str | None = None) -> None:
        self.key_suggester = KeySuggester()
        super().__init__(
            placeholder="/ to search: metrics.accuracy > 0.9 AND params.lr = '0.01'",
            suggester=self.key_suggester,
            id=id,
            select_on_focus=False,
        )
        self.history: list[str] = []
        self.return_target: Widget | None = None
        self._history_index: int | None = None
        self._draft = ""

    def set_history(self, history: Sequence[str]) -> None:
        """Past queries, oldest first."""
        self.history = list(history)
        self._history_index = None

    def action_history(self, step: int) -> None:
        """Show an older (-1) or newer (+1) query from the history."""
        if not self.history:
            return
        if self._history_index is None:
            if step > 0:
                return
            self._draft = self.value
            index = len(self.history) - 1
            if self.history[index] == self.value and index > 0:
                index -= 1  # the box already shows the newest query (the one just applied): go past it
        else:
            index = self._history_index + step
        if index >= len(self.history):
            self._history_index = None
            self.value = self._draft
        else:
            self._history_index = max(0, index)
            self.value = self.history[self._history_index]
        self.cursor_position = len(self.value)

    def action_leave(self) -> None:
        """Return to the table without applying."""
        self._history_index = None
        if self.return_target is not None:
            focus_now(self.return_target)
        self.post_message(self.Left(self))

    async def action_submit(self) -> None:
        """Apply the query (Submitted) and go back to the table at once."""
        self._history_index = None
        await super().action_submit()
        if self.return_target is not None:
            focus_now(self.return_target)
