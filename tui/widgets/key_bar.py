"""KeyBar: the footer line of key hints drawn as one Text.

Textual's Footer rebuilds a widget per key on every focus change; measured here, that was most of the
time of a search (Enter moves focus from the search box back to the table).
"""

from __future__ import annotations

from rich.text import Text
from textual.screen import Screen
from textual.widgets import Static


class KeyBar(Static):
    """Keys of the focused widget and its ancestors (bindings with show=True), then ^p for the palette."""

    COMPONENT_CLASSES = {"key-bar--key"}

    def on_mount(self) -> None:
        """Follow the screen's bindings (focus changes)."""
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        """Stop following."""
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if not screen.is_current:
            return
        text = Text(no_wrap=True, overflow="ellipsis")
        key_style = self.get_component_rich_style("key-bar--key")
        seen: set[str] = set()
        app_first = sorted(screen.active_bindings.values(), key=lambda active: active[0] is not self.app)
        for _node, binding, enabled, _tooltip in app_first:  # ? and q first: always visible
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            key = f" {self.app.get_key_display(binding)} "
            text.append(key, style=key_style if enabled else "dim")
            text.append(f"{binding.description} ", style="" if enabled else "dim")
        text.append(" ^p ", style=key_style)
        text.append("Commands")
        self.update(text)
