"""ExperimentTree: experiments as folders by their path-like names, with run counts and type markers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.text import Text
from runyard import Experiment
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from .control_message import ControlMessage, focus_now
from .in_order_input import InOrderInput

EXPERIMENT_TYPE_TAG = "runyard.experimentType"
TYPE_MARKERS = {"SCRIPT": "py", "NOTEBOOK": "nb"}


@dataclass
class FolderEntry:
    """A tree node: a folder (experiment is None) or an experiment, with the experiments below it."""

    path: str
    experiment: Experiment | None = None
    experiment_ids: list[str] = field(default_factory=list)
    run_count: int = 0

    @property
    def view_key(self) -> str:
        """The key under which the run table's state is remembered."""
        return f"experiment:{self.experiment.experiment_id}" if self.experiment else f"folder:{self.path}"


def split_path(name: str) -> list[str]:
    """'/vision/resnet' -> ['vision', 'resnet']; a plain name is one part."""
    parts = [part for part in name.split("/") if part]
    return parts or [name]


class ExperimentFilter(InOrderInput):
    """The experiment-name filter above the tree; Escape or Enter returns to the tree."""

    BINDINGS = [Binding("escape", "leave", "Back to the tree", id="experiments.filter_leave")]

    class Left(ControlMessage):
        """Focus goes back to the tree."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="filter experiments", id=id)
        self.return_target: Widget | None = None

    def action_leave(self) -> None:
        """Back to the tree."""
        if self.return_target is not None:
            focus_now(self.return_target)
        self.post_message(self.Left(self))


class ExperimentTree(Tree[FolderEntry]):
    """The experiment folders; posts ExperimentSelected as the cursor moves."""

    COMMAND_AREA = "Experiments"
    BINDINGS = [
        Binding("n", "new", "New experiment", id="experiments.new", tooltip="Create an experiment"),
        Binding(
            "r",
            "rename",
            "Rename",
            id="experiments.rename",
            tooltip="Rename the experiment, or the folder (every experiment in it)",
        ),
        Binding("d", "delete", "Delete", id="experiments.delete", tooltip="Move the experiment to the trash"),
        Binding("j", "cursor_down", "Down", show=False, id="experiments.vim_down"),
        Binding("k", "cursor_up", "Up", show=False, id="experiments.vim_up"),
        Binding("g", "first_line", "First", show=False, id="experiments.vim_first"),
        Binding("G", "last_line", "Last", show=False, id="experiments.vim_last"),
        Binding("ctrl+d", "page_down", "Page down", show=False, id="experiments.vim_page_down"),
        Binding("ctrl+u", "page_up", "Page up", show=False, id="experiments.vim_page_up"),
        Binding(  # priority: keys typed right after `/` must reach the filter
            "slash",
            "filter",
            "Filter",
            id="experiments.filter",
            tooltip="Filter experiments by name",
            priority=True,
        ),
    ]

    class ExperimentSelected(ControlMessage):
        """An experiment or a folder (all experiments below it) was highlighted."""

        def __init__(self, widget: Widget, entry: FolderEntry) -> None:
            self.entry = entry
            super().__init__(widget)

    class NewRequested(ControlMessage):
        """Create an experiment; `folder` is the highlighted folder path (a prefix for the name)."""

        def __init__(self, widget: Widget, folder: str) -> None:
            self.folder = folder
            super().__init__(widget)

    class RenameRequested(ControlMessage):
        """Rename this experiment."""

        def __init__(self, widget: Widget, experiment: Experiment) -> None:
            self.experiment = experiment
            super().__init__(widget)

    class FolderRenameRequested(ControlMessage):
        """Rename a folder: every experiment whose name starts with it."""

        def __init__(self, widget: Widget, folder: str) -> None:
            self.folder = folder
            super().__init__(widget)

    class DeleteRequested(ControlMessage):
        """Move this experiment to the trash (after confirmation)."""

        def __init__(self, widget: Widget, experiment: Experiment, run_count: int) -> None:
            self.experiment = experiment
            self.run_count = run_count
            super().__init__(widget)

    class FilterRequested(ControlMessage):
        """Focus the experiment filter input."""

    def __init__(self, label: str = "All experiments", *, id: str | None = None) -> None:
        super().__init__(label, FolderEntry("/"), id=id)
        self.show_root = True
        self.guide_depth = 3
        self.experiments: list[Experiment] = []
        self.counts: dict[str, int] = {}
        self.name_filter = ""
        self.filter_target: Widget | None = None
        self._nodes_by_key: dict[str, TreeNode[FolderEntry]] = {}

    def set_experiments(self, experiments: Sequence[Experiment], counts: dict[str, int]) -> None:
        """Rebuild the tree, keeping the highlighted node when it still exists."""
        self.experiments = list(experiments)
        self.counts = dict(counts)
        self._rebuild()

    def set_filter(self, text: str) -> None:
        """Show only experiments whose name contains text (case-insensitive)."""
        self.name_filter = text.strip().lower()
        self._rebuild()

    @property
    def highlighted_entry(self) -> FolderEntry | None:
        """The entry under the cursor."""
        node = self.cursor_node
        return node.data if node is not None else None

    def select_view(self, view_key: str) -> bool:
        """Move the cursor to the node of that view key; False when it is not in the tree."""
        node = self._nodes_by_key.get(view_key)
        if node is None:
            return False
        parent = node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        _ = self.last_line  # lays out the tree lines so that the node knows its line
        self.move_cursor(node)
        return True

    def _rebuild(self) -> None:
        current = self.highlighted_entry.view_key if self.highlighted_entry else None
        shown = [e for e in self.experiments if self.name_filter in e.name.lower()]
        self.clear()
        self._nodes_by_key = {}
        root_entry = FolderEntry("/", experiment_ids=[e.experiment_id for e in shown])
        root_entry.run_count = sum(self.counts.get(i, 0) for i in root_entry.experiment_ids)
        self.root.data = root_entry
        self.root.set_label(self._label(self.root_label_text, root_entry))
        self._nodes_by_key[root_entry.view_key] = self.root
        folders: dict[str, TreeNode[FolderEntry]] = {"": self.root}
        for experiment in shown:
            parts = split_path(experiment.name)
            prefix = ""
            parent = self.root
            for part in parts[:-1]:
                prefix = f"{prefix}/{part}"
                if prefix not in folders:
                    entry = FolderEntry(prefix)
                    folders[prefix] = parent.add(part, entry, expand=True)
                    self._nodes_by_key[entry.view_key] = folders[prefix]
                parent = folders[prefix]
                assert parent.data is not None
                parent.data.experiment_ids.append(experiment.experiment_id)
                parent.data.run_count += self.counts.get(experiment.experiment_id, 0)
            entry = FolderEntry(
                experiment.name,
                experiment,
                [experiment.experiment_id],
                self.counts.get(experiment.experiment_id, 0),
            )
            self._nodes_by_key[entry.view_key] = parent.add_leaf(parts[-1], entry)
        for node in self._nodes_by_key.values():
            if node is not self.root and node.data is not None:
                node.set_label(self._label(str(node.label), node.data))
        self.root.expand()
        if current and not self.select_view(current):
            self.select_view(self.root.data.view_key)

    @property
    def root_label_text(self) -> str:
        """The label of the root node."""
        return "All experiments"

    def _label(self, name: str, entry: FolderEntry) -> Text:
        text = Text(name)
        text.append(f" {entry.run_count}", style="dim")
        if entry.experiment is not None:
            marker = TYPE_MARKERS.get(entry.experiment.tags.get(EXPERIMENT_TYPE_TAG, ""))
            if marker:
                text.append(f" {marker}", style="italic dim")
        return text

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[FolderEntry]) -> None:
        """Tell the screen which experiments to show."""
        if event.node.data is not None:
            event.stop()
            self.post_message(self.ExperimentSelected(self, event.node.data))

    def action_new(self) -> None:
        """Ask for a new experiment's name (prefilled with the highlighted folder)."""
        entry = self.highlighted_entry
        folder = ""
        if entry is not None and entry.experiment is None and entry.path != "/":
            folder = entry.path + "/"
        elif entry is not None and entry.experiment is not None and "/" in entry.path.strip("/"):
            folder = entry.path.rsplit("/", 1)[0] + "/"
        self.post_message(self.NewRequested(self, folder))

    def action_rename(self) -> None:
        """Ask for a new name for the highlighted experiment, or folder (all the experiments in it)."""
        entry = self.highlighted_entry
        if entry is None or (entry.experiment is None and entry.path in ("", "/")):
            self.notify("Highlight an experiment or a folder to rename it.", severity="warning")
            return
        if entry.experiment is None:
            self.post_message(self.FolderRenameRequested(self, entry.path))
            return
        self.post_message(self.RenameRequested(self, entry.experiment))

    def action_delete(self) -> None:
        """Ask to move the highlighted experiment to the trash."""
        entry = self.highlighted_entry
        if entry is None or entry.experiment is None:
            self.notify("Highlight an experiment (not a folder) to delete it.", severity="warning")
            return
        self.post_message(self.DeleteRequested(self, entry.experiment, entry.run_count))

    def action_first_line(self) -> None:
        """Move the cursor to the first line (vim g)."""
        self.cursor_line = 0

    def action_last_line(self) -> None:
        """Move the cursor to the last line (vim G)."""
        self.cursor_line = self.last_line

    def action_filter(self) -> None:
        """Go to the experiment filter input (at once when the screen set `filter_target`)."""
        if self.filter_target is not None:
            focus_now(self.filter_target)
        else:
            self.post_message(self.FilterRequested(self))
