"""ControlMessage (a widget message that knows its widget, for `@on(Message, "#id")`) and focus_now."""

from __future__ import annotations

from textual.message import Message
from textual.widget import Widget


class ControlMessage(Message):
    """Base of the nested messages of runyard widgets; `control` is the widget that posted it."""

    def __init__(self, widget: Widget) -> None:
        self.widget = widget
        super().__init__()

    @property
    def control(self) -> Widget:
        """The widget that posted the message."""
        return self.widget


def focus_now(target: Widget) -> None:
    """Move focus at once (not after queued messages), so keys typed right after land in target."""
    target.screen.set_focus(target)
