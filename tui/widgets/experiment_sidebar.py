"""ExperimentSidebar: the experiment filter and tree; it reads experiments and creates, renames, trashes them.

The browse screen shows the runs of what is highlighted here; the sidebar tells it through messages
(`Loaded` after every read, `Filtered`, `ExperimentDeleted`) and never touches the run table.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from runyard import Experiment, TrackingClient
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input

from .. import formatting
from ..messages import ActionFailed
from ..modals.confirm import ConfirmModal
from ..modals.prompt import PromptModal
from ..workers import action_failed, post_outcome, post_result, post_unless_cancelled
from .experiment_tree import ExperimentFilter, ExperimentTree, FolderEntry


def tree_signature(client: TrackingClient, experiments: list[Any]) -> tuple[object, ...]:
    """What the tree shows, cheaply: experiment ids and names, and the active runs' signature."""
    names = tuple((e.experiment_id, e.name) for e in experiments)
    return names, client.runs_signature([e.experiment_id for e in experiments])


class ExperimentSidebar(Vertical):
    """The filter above the experiment tree; create (n), rename (r, R) and trash (d) experiments."""

    class Loaded(Message):
        """Active experiments and their active run counts, now in the tree.

        `tree_signature` changes when experiments are created, renamed or deleted, or active runs of
        any experiment come or go (the tree's names and counts). `counted` is False for the list sent
        ahead of the counts (the tree is not filled with it), so the remembered view opens sooner."""

        def __init__(
            self,
            experiments: list[Experiment],
            counts: dict[str, int],
            tree_signature: Any,
            counted: bool = True,
        ) -> None:
            self.experiments = experiments
            self.counts = counts
            self.tree_signature = tree_signature
            self.counted = counted
            super().__init__()

    class Filtered(Message):
        """The filter text changed: the highlighted entry may now hold other experiments."""

        def __init__(self, entry: FolderEntry | None) -> None:
            self.entry = entry
            super().__init__()

    class ExperimentDeleted(Message):
        """An experiment moved to the trash."""

        def __init__(self, name: str) -> None:
            self.name = name
            super().__init__()

    def __init__(self, client: TrackingClient, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client
        self.select_after_reload: str | None = None  # the name to highlight once the tree is re-read
        self.tree_signature: Any = None  # of the experiments shown in the tree

    def compose(self) -> ComposeResult:
        """The filter line and the tree."""
        yield ExperimentFilter(id="experiment-filter")
        yield ExperimentTree(id="experiments")

    @property
    def experiment_tree(self) -> ExperimentTree:
        """The experiment tree."""
        return self.query_one("#experiments", ExperimentTree)

    def on_mount(self) -> None:
        """Wire the filter and the tree to each other (`/` in the tree, Escape in the filter)."""
        self.experiment_tree.filter_target = self.query_one("#experiment-filter")
        self.query_one("#experiment-filter", ExperimentFilter).return_target = self.experiment_tree

    # ----------------------------------------------------------------- reading
    def load(self, select: str | None = None, early: bool = False) -> None:
        """Re-read the experiments (then highlight the one named `select`, when given).

        early: post the list once before the run counts too (`Loaded` with counted=False)."""
        if select is not None:
            self.select_after_reload = select
        self.load_experiments(early)

    @work(thread=True, exclusive=True, group="experiments", exit_on_error=False)
    def load_experiments(self, early: bool = False) -> None:
        """Read active experiments and their run counts."""

        def read() -> ExperimentSidebar.Loaded:
            experiments = self.client.list_experiments()
            if early:  # the remembered view can show its runs before the tree has its counts
                post_unless_cancelled(self, self.Loaded(experiments, {}, None, counted=False))
            with ThreadPoolExecutor(1) as pool:  # two independent reads: one round trip's wait on a server
                signature = pool.submit(tree_signature, self.client, experiments)
                counts = self.client.count_runs([e.experiment_id for e in experiments])
                return self.Loaded(experiments, counts, signature.result())

        post_result(self, read, action_failed)

    def on_experiment_sidebar_loaded(self, message: Loaded) -> None:
        """Fill the tree and highlight the experiment asked for (the screen then shows its runs)."""
        if not message.counted:  # the list ahead of the counts: the screen opens the remembered view
            return
        self.tree_signature = message.tree_signature
        self.experiment_tree.set_experiments(message.experiments, message.counts)
        wanted, self.select_after_reload = self.select_after_reload, None
        match = next((e for e in message.experiments if e.name == wanted), None)
        if match is not None:
            self.experiment_tree.select_view(f"experiment:{match.experiment_id}")

    # ----------------------------------------------------------------- filter
    @on(ExperimentTree.FilterRequested)
    def focus_filter(self) -> None:
        """Go to the experiment filter."""
        self.query_one("#experiment-filter").focus()

    @on(Input.Changed, "#experiment-filter")
    def experiment_filter_changed(self, event: Input.Changed) -> None:
        """Filter the tree by name."""
        event.stop()
        self.experiment_tree.set_filter(event.value)
        # The cursor may stay on the same line (no highlight event) while the node's experiments changed.
        self.post_message(self.Filtered(self.experiment_tree.highlighted_entry))

    @on(Input.Submitted, "#experiment-filter")
    @on(ExperimentFilter.Left)
    def experiment_filter_left(self, event: Message) -> None:
        """Back to the tree."""
        event.stop()
        self.experiment_tree.focus()

    # ----------------------------------------------------------------- edits
    @on(ExperimentTree.NewRequested)
    def new_experiment(self, message: ExperimentTree.NewRequested) -> None:
        """Ask for a name and create the experiment."""

        def created(name: str | None) -> None:
            if name:
                self.notify(f"Created experiment {name}.")
                self.load(select=name)

        prompt = PromptModal(
            "New experiment",
            message.folder,
            placeholder="/team/project/name",
            action=self.client.create_experiment,
        )
        self.app.push_screen(prompt, created)

    @on(ExperimentTree.RenameRequested)
    def rename_experiment(self, message: ExperimentTree.RenameRequested) -> None:
        """Ask for a new name and rename."""
        experiment_id = message.experiment.experiment_id

        def rename(name: str) -> None:
            self.client.rename_experiment(experiment_id, name)

        def renamed(name: str | None) -> None:
            if name:
                self.notify(f"Renamed to {name}.")
                self.load(select=name)

        self.app.push_screen(
            PromptModal("Rename experiment", message.experiment.name, action=rename), renamed
        )

    @on(ExperimentTree.FolderRenameRequested)
    def rename_folder(self, message: ExperimentTree.FolderRenameRequested) -> None:
        """Ask for the folder's new path, then rename every experiment in it (like `rename --folder`)."""
        folder = message.folder
        moved: dict[str, str] = {}

        def rename(name: str) -> None:
            moved.update(self.client.rename_experiment_folder(folder, name))

        def renamed(name: str | None) -> None:
            if name:
                count = formatting.plural(len(moved), "experiment")
                self.notify(f"Renamed folder {folder} to {name.rstrip('/')} ({count}).")
                self.select_after_reload = next(iter(moved.values()), None)
                self.load()

        self.app.push_screen(PromptModal("Rename folder", folder, action=rename), renamed)

    @on(ExperimentTree.DeleteRequested)
    def delete_experiment(self, message: ExperimentTree.DeleteRequested) -> None:
        """Confirm, then move the experiment to the trash."""
        experiment = message.experiment
        runs = f"its {formatting.count(message.run_count)} runs" if message.run_count != 1 else "its 1 run"
        text = (
            f"Move experiment {experiment.name} and {runs} to the trash?\n"
            "It can be restored from the trash until it is garbage-collected."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.trash_experiment(experiment)

        self.app.push_screen(ConfirmModal("Delete experiment", text, "Delete"), answered)

    @work(thread=True, exclusive=True, group="experiment-action", exit_on_error=False)
    def trash_experiment(self, experiment: Experiment) -> None:
        """Move the experiment (and with it its runs) to the trash."""
        post_outcome(
            self,
            lambda: self.client.delete_experiment(experiment.experiment_id),
            lambda _: self.ExperimentDeleted(experiment.name),
            ActionFailed,
            even_if_cancelled=True,
        )

    def on_experiment_sidebar_experiment_deleted(self, message: ExperimentDeleted) -> None:
        """Say so (the screen forgets the shown experiment and re-reads the tree)."""
        self.notify(f"Moved {message.name} to the trash.")
