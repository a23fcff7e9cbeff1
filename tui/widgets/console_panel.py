"""ConsolePanel: the tail of a run's captured output (ANSI colours shown), following it while the run runs.

A worker reads the newest chunks once, then only the chunks after the last one seen. `/` searches the
lines shown (n: next match), `g`/`G` jump to the start/end; at the end, new output keeps it scrolled
down (it follows), elsewhere the view stays where the reader put it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from runyard import ConsoleChunk, TrackingClient
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import RichLog, Static

from ..messages import ErrorMessage
from ..modals.prompt import PromptModal
from ..workers import post_outcome

TAIL_CHUNKS = 400  # the newest chunks read when the panel opens
MAX_LINES = 5000  # lines kept on screen (the oldest go)


@dataclass(frozen=True)
class ConsoleRead:
    """Chunks a worker fetched: the tail (replace) or those after the last seen (append)."""

    chunks: list[ConsoleChunk]
    append: bool


class ConsoleLog(RichLog):
    """The console lines; focusable, with the search and jump keys."""

    can_focus = True

    BINDINGS = [
        Binding("slash", "search", "Search", id="console.search"),
        Binding("n", "next_match", "Next match", show=False, id="console.next_match"),
        Binding("g", "start", "Start", show=False, id="console.start"),
        Binding("G", "end", "End (follow)", show=False, id="console.end"),
    ]

    def action_search(self) -> None:
        """Ask for text and jump to its first line from the top."""
        panel = self.panel
        if panel is not None:
            panel.ask_search()

    def action_next_match(self) -> None:
        """The next line with the searched text (wraps around)."""
        panel = self.panel
        if panel is not None:
            panel.next_match()

    def action_start(self) -> None:
        """The first line shown."""
        self.auto_scroll = False
        self.scroll_home(animate=False)

    def action_end(self) -> None:
        """The last line; new output follows from here."""
        self.auto_scroll = True
        self.scroll_end(animate=False)

    @property
    def panel(self) -> ConsolePanel | None:
        """The panel holding this log."""
        for ancestor in self.ancestors:
            if isinstance(ancestor, ConsolePanel):
                return ancestor
        return None


class ConsolePanel(Widget):
    """A run's console output section (see the module docstring)."""

    class Read(Message):
        """A worker fetched console chunks."""

        def __init__(self, read: ConsoleRead) -> None:
            self.read = read
            super().__init__()

    class ReadFailed(ErrorMessage):
        """The console could not be read."""

    def __init__(self, client: TrackingClient, run_id: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client
        self.run_id = run_id
        self.last_seq: int | None = None
        self.loaded = False
        self.lines: list[Text] = []
        self.partial = ""  # the last line when it had no newline yet (text, ANSI kept)
        self.term = ""
        self.match_line = -1

    def compose(self) -> ComposeResult:
        """The log and its hint line."""
        yield ConsoleLog(wrap=False, markup=False, highlight=False, max_lines=MAX_LINES, id="console-log")
        yield Static("", id="console-hint", classes="section-hint")

    def on_mount(self) -> None:
        """Read the tail."""
        self._show_hint()
        self.load()

    # ----------------------------------------------------------------- reading
    def refresh_live(self) -> None:
        """Fetch what was printed since the last read (called while the run is RUNNING)."""
        if self.loaded:
            self.load()

    @work(thread=True, exclusive=True, group="console", exit_on_error=False)
    def load(self) -> None:
        """Read the newest chunks (first time) or the chunks after the last one seen."""
        after = self.last_seq
        if after is None:

            def read() -> ConsoleRead:
                return ConsoleRead(
                    self.client.get_console(self.run_id, limit=TAIL_CHUNKS, newest=True), False
                )
        else:

            def read() -> ConsoleRead:
                return ConsoleRead(self.client.get_console(self.run_id, after_seq=after), True)

        post_outcome(self, read, self.Read, self.ReadFailed)

    def on_console_panel_read(self, message: Read) -> None:
        """Show the chunks (appending keeps the reader's place unless it is at the end)."""
        read = message.read
        self.loaded = True
        if read.chunks:
            self.last_seq = read.chunks[-1].seq
        elif read.append:
            return
        text = "".join(chunk.text for chunk in read.chunks)
        log = self.query_one(ConsoleLog)
        if not read.append:
            self.lines, self.partial = [], ""
        pending = self.partial + text
        complete, _, self.partial = pending.rpartition("\n")
        new_lines = [Text.from_ansi(line) for line in complete.split("\n")] if complete or _ else []
        if read.append and not new_lines and not self.partial:
            return
        self.lines += new_lines
        del self.lines[:-MAX_LINES]
        self._render_lines(log)
        self._show_hint()

    def on_console_panel_read_failed(self, message: ReadFailed) -> None:
        """Say why the console is not shown."""
        self.query_one("#console-hint", Static).update(f"[b $error]{message.error}[/]")

    def _render_lines(self, log: ConsoleLog) -> None:
        following = log.auto_scroll
        y = log.scroll_y
        log.clear()
        shown = list(self.lines)
        if self.partial:
            shown.append(Text.from_ansi(self.partial))
        if not shown:
            log.write(Text("No console output recorded for this run.", style="dim"))
            return
        term = self.term.lower()
        for index, line in enumerate(shown):
            if term and term in line.plain.lower():
                line = line.copy()
                line.highlight_words([self.term], style="reverse", case_sensitive=False)
                if index == self.match_line:
                    line.stylize("bold")
            log.write(line, scroll_end=following)
        if not following:
            log.scroll_to(y=y, animate=False)

    # ----------------------------------------------------------------- search
    def ask_search(self) -> None:
        """Ask for the text to find."""

        def chosen(term: str | None) -> None:
            if term is not None:
                self.search(term)

        self.app.push_screen(
            PromptModal(
                "Search the console", self.term, hint="Enter to find, n: next match, Escape to cancel"
            ),
            chosen,
        )

    def search(self, term: str) -> None:
        """Highlight term and jump to its first line."""
        self.term = term
        self.match_line = -1
        self.next_match()

    def next_match(self) -> None:
        """Jump to the next line holding the term (wraps around); say so when there is none."""
        log = self.query_one(ConsoleLog)
        if not self.term:
            self._render_lines(log)
            self._show_hint()
            return
        term = self.term.lower()
        lines = self.lines + ([Text.from_ansi(self.partial)] if self.partial else [])
        hits = [i for i, line in enumerate(lines) if term in line.plain.lower()]
        if not hits:
            self.match_line = -1
            self._render_lines(log)
            self._show_hint(f"No line holds {self.term!r}.")
            return
        self.match_line = next((i for i in hits if i > self.match_line), hits[0])
        log.auto_scroll = False
        self._render_lines(log)
        log.scroll_to(y=max(0, self.match_line - log.size.height // 2), animate=False)
        self._show_hint(f"Match {hits.index(self.match_line) + 1} of {len(hits)} for {self.term!r}.")

    def _show_hint(self, note: str = "") -> None:
        keys = "/: search · n: next match · g/G: start/end (G follows new output)"
        hint = self.query_one("#console-hint", Static)
        hint.update(Text(f"{note}  {keys}" if note else keys))
