"""ArtifactBrowser: a run's artifacts as a tree with sizes, and a preview of the selected file.

Listing, reading and copying happen in workers through the TrackingClient; a preview reads at most the
first MiB. Text, logs and code are highlighted by extension (rich Syntax), JSON is pretty-printed, CSV
shows its first 1,000 rows as a table, images render with half blocks; anything else shows its size
and local path. `o` opens the file with the system opener (or shows the path over SSH), `D` copies it
to a directory you type.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from functools import partial
from pathlib import PurePosixPath

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from runyard import FileInfo, InvalidInput, TrackingClient
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Static, Tree

from ..modals.prompt import PromptModal
from ..workers import post_outcome
from .plots.halfblock import decode_image, halfblock_text

PREVIEW_BYTES = 1 << 20
CSV_ROWS = 1000
CSV_COLUMNS = 50  # wider tables take the UI thread seconds to lay out (5,000 columns: 40 s)
MAX_ENTRIES = 5000
TEXT_LEXERS = {
    ".py": "python",
    ".sh": "bash",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".md": "markdown",
    ".ini": "ini",
    ".cfg": "ini",
    ".sql": "sql",
    ".js": "javascript",
    ".html": "html",
    ".xml": "xml",
    ".c": "c",
    ".cpp": "cpp",
    ".rs": "rust",
    ".go": "go",
    ".r": "r",
    ".ipynb": "json",
}
PLAIN_TEXT = {".txt", ".log", ".out", ".err", ".text", ".rst", ""}
IMAGES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"}


def human_size(size: int | None) -> str:
    """A byte count as B / KB / MB / GB with one decimal."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def preview_kind(path: str) -> str:
    """'syntax', 'text', 'json', 'csv', 'image' or 'binary', by extension."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in IMAGES:
        return "image"
    if suffix in TEXT_LEXERS:
        return "syntax"
    if suffix in PLAIN_TEXT:
        return "text"
    return "binary"


def build_preview(path: str, head: bytes, size: int, local_path: str, width: int = 80) -> RenderableType:
    """The renderable preview of an artifact from its first bytes (pure: runs in a worker)."""
    kind = preview_kind(path)
    truncated = size > len(head)
    note = Text(f"{path} · {human_size(size)}", style="bold")
    if truncated:
        note.append(f" · showing the first {human_size(len(head))}", style="italic")
    if kind == "image":
        pixels = decode_image(head, max(8, width - 2), 48) if not truncated else None
        if pixels is None:
            return Group(note, Text(f"No terminal rendering for this image.\n{local_path}"))
        return Group(note, halfblock_text(pixels))
    if kind == "binary" or b"\x00" in head[:4096]:
        return Group(note, Text(f"Binary file: no preview.\nLocal path: {local_path}"))
    text = head.decode("utf-8", errors="replace")
    if kind == "json":
        try:
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            pass  # truncated or invalid: show it as it is
        return Group(note, Syntax(text, "json", word_wrap=True, line_numbers=False))
    if kind == "csv":
        return Group(note, _csv_table(text, "\t" if path.lower().endswith(".tsv") else ","))
    if kind == "syntax":
        lexer = TEXT_LEXERS[PurePosixPath(path).suffix.lower()]
        return Group(note, Syntax(text, lexer, word_wrap=True, line_numbers=True))
    return Group(note, Text(text))


def _csv_table(text: str, delimiter: str) -> RenderableType:
    """The first CSV_ROWS rows and CSV_COLUMNS columns as a table; the caption says what was left out."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    table = Table(show_lines=False, header_style="bold", expand=False)
    rows = 0
    total_columns = 0
    for index, record in enumerate(reader):
        if index == 0:
            total_columns = len(record)
            for name in record[:CSV_COLUMNS]:
                table.add_column(name, overflow="ellipsis", max_width=30)
            continue
        if rows >= CSV_ROWS:
            break
        cells = record[: len(table.columns)]
        table.add_row(*cells, *[""] * (len(table.columns) - len(cells)))
        rows += 1
    caption = f"first {rows:,} rows" if rows >= CSV_ROWS else f"{rows:,} rows"
    if total_columns > CSV_COLUMNS:
        caption += f" · first {CSV_COLUMNS} of {total_columns:,} columns (open the file with o for the rest)"
    table.caption = caption
    return table


def system_opener() -> list[str] | None:
    """The command that opens a file in a desktop app, when there is a desktop to open it on."""
    if sys.platform == "darwin":
        return ["open"]
    if sys.platform.startswith("win"):
        return None  # os.startfile, handled by the caller
    if (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and shutil.which("xdg-open"):
        return ["xdg-open"]
    return None


class ArtifactBrowser(Horizontal):
    """Tree of artifacts (left) and preview (right)."""

    COMMAND_AREA = "Artifacts"

    DEFAULT_CSS = """
    ArtifactBrowser { height: 24; }
    ArtifactBrowser > Tree { width: 40%; min-width: 24; border-right: solid $panel-lighten-2; }
    ArtifactBrowser > VerticalScroll { width: 1fr; padding: 0 1; }
    """

    BINDINGS = [
        Binding("o", "open_artifact", "Open", id="artifacts.open"),
        Binding("D", "download_artifact", "Download", id="artifacts.download"),
    ]

    class ListingLoaded(Message):
        """Every artifact entry of the run (path order)."""

        def __init__(self, entries: list[FileInfo], error: str = "") -> None:
            self.entries = entries
            self.error = error
            super().__init__()

    class PreviewLoaded(Message):
        """A preview renderable built by a worker."""

        def __init__(self, path: str, renderable: RenderableType) -> None:
            self.path = path
            self.renderable = renderable
            super().__init__()

    class Notice(Message):
        """Something to tell the user (opened, copied, path, error)."""

        def __init__(self, text: str, error: bool = False) -> None:
            self.text = text
            self.error = error
            super().__init__()

    def __init__(self, client: TrackingClient, run_id: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client
        self.run_id = run_id
        self.entries: list[FileInfo] = []
        self.previewed_path: str | None = None
        self.preview_renderable: RenderableType | None = None

    def compose(self) -> ComposeResult:
        """Tree and preview pane."""
        tree: Tree[FileInfo] = Tree("artifacts", id="artifact-tree")
        tree.show_root = False
        yield tree
        with VerticalScroll(id="artifact-preview-scroll"):
            yield Static("Select a file to preview it.", id="artifact-preview")

    def on_mount(self) -> None:
        """List the artifacts."""
        self.load_listing()

    @work(thread=True, exclusive=True, group="artifact-list", exit_on_error=False)
    def load_listing(self) -> None:
        """Walk the artifact directory breadth-first (at most MAX_ENTRIES entries)."""

        def walk() -> list[FileInfo]:
            entries: list[FileInfo] = []
            pending = [None]
            while pending and len(entries) < MAX_ENTRIES:
                for entry in self.client.list_artifacts(self.run_id, pending.pop(0)):
                    entries.append(entry)
                    if entry.is_dir:
                        pending.append(entry.path)
            return sorted(entries, key=lambda e: e.path)

        post_outcome(self, walk, self.ListingLoaded, lambda error: self.ListingLoaded([], error))

    def on_artifact_browser_listing_loaded(self, message: ListingLoaded) -> None:
        """Build the tree: directories expanded, files labelled with their size."""
        self.entries = message.entries
        tree = self.query_one(Tree)
        tree.clear()
        nodes = {"": tree.root}
        for entry in sorted(message.entries, key=lambda e: (e.path.count("/"), not e.is_dir, e.path)):
            parent_path, _, name = entry.path.rpartition("/")
            parent = nodes.get(parent_path, tree.root)
            if entry.is_dir:
                nodes[entry.path] = parent.add(Text(f"{name}/", style="bold"), data=entry, expand=True)
            else:
                label = Text(name)
                label.append(f"  {human_size(entry.file_size)}", style="dim")
                parent.add_leaf(label, data=entry)
        if message.error:
            self.query_one("#artifact-preview", Static).update(Text(message.error, style="bold red"))
        elif not message.entries:
            self.query_one("#artifact-preview", Static).update("This run has no artifacts.")

    @property
    def selected_entry(self) -> FileInfo | None:
        """The entry under the tree cursor."""
        node = self.query_one(Tree).cursor_node
        return node.data if node is not None else None

    @on(Tree.NodeHighlighted, "#artifact-tree")
    @on(Tree.NodeSelected, "#artifact-tree")
    def _node_chosen(self, event: Tree.NodeHighlighted[FileInfo] | Tree.NodeSelected[FileInfo]) -> None:
        entry = event.node.data
        if entry is None or entry.is_dir or entry.path == self.previewed_path:
            return
        self.previewed_path = entry.path
        self.query_one("#artifact-preview", Static).update(Text(f"Loading {entry.path}…", style="dim"))
        self.load_preview(entry.path, max(40, self.query_one("#artifact-preview-scroll").size.width))

    @work(thread=True, exclusive=True, group="artifact-preview", exit_on_error=False)
    def load_preview(self, path: str, width: int) -> None:
        """Read the first MiB and build the preview renderable off the UI thread."""

        def preview() -> RenderableType:
            head, size = self.client.read_artifact_head(self.run_id, path, PREVIEW_BYTES)
            local_path = self.client.artifact_local_path(self.run_id, path)
            return build_preview(path, head, size, local_path, width)

        post_outcome(
            self,
            preview,
            lambda renderable: self.PreviewLoaded(path, renderable),
            lambda error: self.PreviewLoaded(path, Text(error, style="bold red")),
        )

    def on_artifact_browser_preview_loaded(self, message: PreviewLoaded) -> None:
        """Show the preview (unless another file was selected meanwhile)."""
        if message.path == self.previewed_path:
            self.preview_renderable = message.renderable
            self.query_one("#artifact-preview", Static).update(message.renderable)

    def action_open_artifact(self) -> None:
        """Open the selected file with the system opener, or show its local path."""
        entry = self.selected_entry
        if entry is not None:
            self.open_artifact(entry.path)

    @work(thread=True, exclusive=True, group="artifact-open", exit_on_error=False)
    def open_artifact(self, path: str) -> None:
        """Resolve the local path and hand it to the opener (never waits for the opened app)."""

        def open_local() -> str:
            local_path = self.client.artifact_local_path(self.run_id, path)
            opener = system_opener()
            if opener is None:
                return f"No desktop opener here. Local path: {local_path}"
            try:
                subprocess.Popen(  # noqa: S603 - a fixed opener and a checked local path
                    [*opener, local_path],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            except OSError as error:
                raise InvalidInput(f"Could not open {local_path}: {error}") from error
            return f"Opened {local_path}"

        error_notice = partial(self.Notice, error=True)
        post_outcome(self, open_local, self.Notice, error_notice, even_if_cancelled=True)

    def action_download_artifact(self) -> None:
        """Ask for a directory and copy the selected file or folder there."""
        entry = self.selected_entry
        if entry is None:
            return
        path = entry.path

        def copy(directory: str) -> None:
            try:
                self.client.download_artifacts(self.run_id, path, os.path.expanduser(directory))
            except OSError as error:
                raise InvalidInput(f"Cannot copy to {directory}: {error.strerror or error}") from None

        def done(directory: str | None) -> None:
            if directory:
                self.post_message(self.Notice(f"Copied {path} to {os.path.expanduser(directory)}"))

        self.app.push_screen(
            PromptModal(f"Copy {path} to directory", os.getcwd(), action=copy), callback=done
        )

    def on_artifact_browser_notice(self, message: Notice) -> None:
        """Show notices as toasts."""
        self.notify(message.text, severity="error" if message.error else "information", timeout=8)
