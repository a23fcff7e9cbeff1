"""KeyBar: the footer line of key hints drawn as one Text, the keys a newcomer needs first.

Textual's Footer rebuilds a widget per key on every focus change; measured here, that was most of the
time of a search (Enter moves focus from the search box back to the table). It also cut keys off at
80 columns in binding order; here keys are ranked and only whole keys that fit are shown.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

# What a newcomer needs first, by binding id; keys not listed follow in binding order when they fit.
FOOTER_ORDER = (
    "run_detail.back",
    "watch.back",
    "watch.open",
    "compare.back",
    "trash.back",
    "runs.open",
    "runs.search",
    "runs.select",
    "runs.compare",
    "view.sidebar",
    "runs.state_filter",
    "trash_runs.restore",
    "trash_runs.purge",
    "trash_experiments.restore",
    "trash_experiments.purge",
    "trash_runs.select",
    "run_detail.reproduce",
    "run_detail.children",
    "run_detail.parent",
    "runs.sort",
)
ALWAYS = ("app.help", "app.quit")  # shown last, whatever the width (? lists every key)
SEPARATOR = " "
PALETTE = ("^p", "Commands")  # shown when there is room left


def _rank(binding: Binding, position: int) -> tuple[int, int]:
    if binding.id in FOOTER_ORDER:
        return FOOTER_ORDER.index(binding.id), position
    return len(FOOTER_ORDER), position


class KeyBar(Static):
    """Keys of the focused widget and its ancestors (show=True), ranked, as many as fit; ? and q always."""

    COMPONENT_CLASSES = {"key-bar--key"}

    def on_mount(self) -> None:
        """Follow the screen's bindings (focus changes)."""
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        """Stop following."""
        self.screen.bindings_updated_signal.unsubscribe(self)

    def on_resize(self, _event: events.Resize) -> None:
        """Fit the keys to the new width."""
        self._bindings_changed(self.screen)

    def on_show(self) -> None:
        """Draw the keys once the screen is shown (focus set while it was not current is missed otherwise)."""
        self.call_after_refresh(self._bindings_changed, self.screen)

    def shown_keys(self, screen: Screen[object]) -> list[tuple[str, str, bool]]:
        """(key, description, enabled) of the keys shown at the current width, in display order."""
        main_screen = len(self.app.screen_stack) <= 2
        candidates: list[tuple[Binding, bool]] = []
        pinned: dict[str, tuple[Binding, bool]] = {}
        seen: set[str] = set()
        for _node, binding, enabled, _tooltip in screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            if binding.id in ALWAYS:
                if binding.id != "app.quit" or main_screen:  # elsewhere q goes back, as Escape does
                    pinned[binding.id] = (binding, enabled)
            else:
                candidates.append((binding, enabled))
        ranked = sorted(enumerate(candidates), key=lambda item: _rank(item[1][0], item[0]))
        tail = [pinned[key] for key in ALWAYS if key in pinned]
        room = (self.size.width or 80) - sum(self._width(binding) for binding, _ in tail)
        chosen: list[tuple[int, Binding, bool]] = []
        for position, (binding, enabled) in ranked:
            width = self._width(binding)
            if width <= room:
                chosen.append((_rank(binding, position)[0], binding, enabled))
                room -= width
        chosen.sort(key=lambda item: item[0])
        keys = [(self.app.get_key_display(b), b.description, on) for _rank_, b, on in chosen]
        if room >= len(PALETTE[0]) + 1 + len(PALETTE[1]) + len(SEPARATOR):
            keys.append((*PALETTE, True))
        return keys + [(self.app.get_key_display(b), b.description, on) for b, on in tail]

    def _width(self, binding: Binding) -> int:
        return len(self.app.get_key_display(binding)) + 1 + len(binding.description) + len(SEPARATOR)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if not screen.is_current:
            return
        text = Text(no_wrap=True, overflow="crop")
        key_style = self.get_component_rich_style("key-bar--key")
        for key, description, enabled in self.shown_keys(screen):
            text.append(key, style=key_style if enabled else "dim")
            text.append(f" {description}{SEPARATOR}", style="" if enabled else "dim")
        self.update(text)
