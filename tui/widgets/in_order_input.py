"""InOrderInput: an Input whose editing keys (ctrl+u, backspace, Escape...) act in the order they were typed.

Textual runs a focused widget's ordinary bindings only after the key has bubbled up to the app, while
printable keys typed after it are inserted by the widget first: `ctrl+u` followed at once by text
(a fast typist, a paste, tmux send-keys) deleted the text typed after it. Here the widget runs its own
bindings when the key reaches it, in the same queue as the printable keys.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class InOrderInput(Input):
    """An Input that applies its own key bindings in typing order."""

    async def _on_key(self, event: events.Key) -> None:
        if not event.is_printable:
            for binding in self._bindings.key_to_bindings.get(event.key, ()):
                if binding.priority:
                    continue  # the app ran it already
                if await self.app.run_action(binding.action, self):
                    event.stop()
                    event.prevent_default()
                    return
        await super()._on_key(event)
