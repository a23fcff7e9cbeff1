"""Command palette provider: every key binding of the screen's widgets, as a searchable command."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode
from textual.widget import Widget

from .modals.help import key_label

NAVIGATION_PREFIXES = ("cursor_", "page_", "first", "last", "history", "leave", "scroll_")


def screen_commands(screen: DOMNode) -> Iterator[tuple[str, str, DOMNode, Binding]]:
    """(title, help, node, binding) for each binding with an id on the screen and its widgets."""
    nodes: list[DOMNode] = [screen, *screen.query("*")]
    seen: set[str] = set()
    for node in nodes:
        area = getattr(node, "COMMAND_AREA", None)
        if area is None:
            continue
        for binding in node._bindings.key_to_bindings.values():
            for item in binding:
                if not item.id or item.id in seen or item.action.startswith(NAVIGATION_PREFIXES):
                    continue
                seen.add(item.id)
                yield (
                    f"{area}: {item.tooltip or item.description}",
                    f"key {key_label(item.key)}",
                    node,
                    item,
                )


class RunyardCommands(Provider):
    """Offers the actions of the experiment tree, the run table and the screen in the palette."""

    async def discover(self) -> Hits:
        """All actions, listed when the palette opens."""
        for title, help_text, node, binding in screen_commands(self.screen):
            yield DiscoveryHit(title, partial(_run_action, node, binding.action), help=help_text)

    async def search(self, query: str) -> Hits:
        """Actions whose title matches the query."""
        matcher = self.matcher(query)
        for title, help_text, node, binding in screen_commands(self.screen):
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(_run_action, node, binding.action),
                    help=help_text,
                )


async def _run_action(node: DOMNode, action: str) -> None:
    if isinstance(node, Widget) or hasattr(node, "run_action"):
        await node.run_action(action)
