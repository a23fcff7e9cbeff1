"""Messages that cross screens and widgets; a screen's or widget's own results are nested on its class.

The rule: a message that only one screen or widget posts and handles is a nested class on it
(`TrashScreen.Loaded`, handled as `on_trash_screen_loaded`; `RunBrowser.RunsDeleted`), so its name says
whose it is. Only a message that several screens and widgets post or handle lives here.
"""

from __future__ import annotations

from textual.message import Message


class ErrorMessage(Message):
    """The base of every "it failed" message: `error` is the one-line text to show.

    Screens and widgets nest their own subclasses (`ConsolePanel.ReadFailed`, `EditTagModal.SaveFailed`),
    each handled by its own name; nothing handles this base itself.
    """

    def __init__(self, error: str) -> None:
        self.error = error
        super().__init__()


class ActionFailed(ErrorMessage):
    """A store action failed; `error` is the one-line message to show (every screen shows it the same way).

    Posted by `workers.action_failed` and the widgets' workers; it bubbles up to the screen, which notifies.
    """
