"""BrowseActions: what the browse screen does on request: experiment and run trash, CSV export, columns."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from runyard import Experiment, InvalidInput, Metric, Run, TrackingClient
from textual import on, work
from textual.message import Message
from textual.screen import Screen

from .. import formatting
from ..messages import ActionFailed, DeletePrepared, ExperimentDeleted, RunsDeleted, RunsExported
from ..modals.column_chooser import ColumnChooserModal
from ..modals.confirm import ConfirmModal
from ..modals.prompt import PromptModal
from ..settings import Settings, ViewState
from ..widgets.experiment_tree import ExperimentTree
from ..widgets.tables.run_rows import DATASETS_COLUMN
from ..widgets.tables.run_table import RunTable
from ..widgets.tables.run_trends import trend_column
from ..workers import error_text

if TYPE_CHECKING:
    from runyard.entities import RunKeys


class BrowseActions(Screen[None]):
    """Create, rename and trash experiments; trash and export runs (the browse screen inherits these)."""

    client: TrackingClient
    select_after_reload: str | None
    view_state: ViewState
    settings: Settings
    keys: RunKeys | None

    @property
    def table(self) -> RunTable:
        """The run table."""
        return self.query_one("#runs", RunTable)

    def start_search(self, keep_cursor: bool = False) -> None:
        """Run the current search again (the browse screen implements it)."""
        raise NotImplementedError

    def search_scope(self) -> tuple[list[str], str, str, list[str] | None]:
        """Experiment ids, filter, view type and order_by of the shown search (the browse screen's)."""
        raise NotImplementedError

    def load_experiments(self) -> object:
        """Re-read the experiments (the browse screen implements it)."""
        raise NotImplementedError

    def forget_entry(self) -> None:
        """Drop the shown experiment (it went to the trash); the browse screen implements it."""
        raise NotImplementedError

    # ----------------------------------------------------------------- experiments
    @on(ExperimentTree.NewRequested)
    def new_experiment(self, message: ExperimentTree.NewRequested) -> None:
        """Ask for a name and create the experiment."""

        def created(name: str | None) -> None:
            if name:
                self.notify(f"Created experiment {name}.")
                self.select_after_reload = name
                self.load_experiments()

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
                self.select_after_reload = name
                self.load_experiments()

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
                self.load_experiments()

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
        try:
            self.client.delete_experiment(experiment.experiment_id)
        except Exception as error:  # any failure is shown: never a stuck screen
            self.post_message(ActionFailed(error_text(error)))
            return
        self.post_message(ExperimentDeleted(experiment.name))

    def on_experiment_deleted(self, message: ExperimentDeleted) -> None:
        """Reload the tree."""
        self.notify(f"Moved {message.name} to the trash.")
        self.forget_entry()
        self.load_experiments()

    # ----------------------------------------------------------------- runs
    @on(RunTable.DeleteRequested, "#runs")
    def delete_requested(self, message: RunTable.DeleteRequested) -> None:
        """Count the children that would go too, then confirm."""
        self.prepare_delete(message.run_ids)

    @work(thread=True, exclusive=True, group="run-action", exit_on_error=False)
    def prepare_delete(self, run_ids: list[str]) -> None:
        """Ask the core which runs a delete would move (a dry run): the chosen ones and their descendants."""
        try:
            affected = self.client.delete_run(run_ids, delete_descendants=True, dry_run=True)
        except Exception as error:  # any failure is shown: never a stuck screen
            self.post_message(ActionFailed(error_text(error)))
            return
        chosen = set(run_ids)
        self.post_message(DeletePrepared(run_ids, len([r for r in affected if r not in chosen])))

    def on_delete_prepared(self, message: DeletePrepared) -> None:
        """Ask for confirmation naming the count and the children."""
        count = len(message.run_ids)
        runs = "1 run" if count == 1 else f"{formatting.count(count)} runs"
        if message.descendant_count:
            children = (
                "1 child run" if message.descendant_count == 1 else f"{message.descendant_count} child runs"
            )
            tail = f"{'Its' if count == 1 else 'Their'} {children} will be deleted too."
        else:
            tail = "No child runs are affected."
        text = f"Move {runs} to the trash?\n{tail}\nDeleted runs can be restored from the trash."

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete_runs(message.run_ids)

        self.app.push_screen(ConfirmModal("Delete runs", text, "Delete"), answered)

    @work(thread=True, exclusive=True, group="run-action", exit_on_error=False)
    def delete_runs(self, run_ids: list[str]) -> None:
        """Move the runs and their descendants to the trash."""
        try:
            deleted = self.client.delete_run(run_ids, delete_descendants=True)
        except Exception as error:  # any failure is shown: never a stuck screen
            self.post_message(ActionFailed(error_text(error)))
            return
        self.post_message(RunsDeleted(list(deleted)))

    def on_runs_deleted(self, message: RunsDeleted) -> None:
        """Reload the table and the counts."""
        count = len(message.run_ids)
        self.notify(f"Moved {count} run{'s' if count != 1 else ''} to the trash.")
        self.table.selected.difference_update(message.run_ids)
        self.start_search(keep_cursor=True)
        self.load_experiments()

    @on(RunTable.ExportRequested, "#runs")
    def export_requested(self, message: RunTable.ExportRequested) -> None:
        """Ask for a path and write the CSV; a path that cannot be written is reported in the dialog.

        With a selection, the selected runs; without, every run matching the search (one core call in
        the dialog's worker, however few pages the table has loaded).
        """
        runs = message.runs
        written_count: list[int] = []
        if runs is not None:
            count = formatting.count(len(runs))
            what = f"{count} selected {'run' if len(runs) == 1 else 'runs'}"
        else:
            what = "every run matching the search"
        scope = self.search_scope()

        def write(path: str) -> None:
            written_count.append(self.export_runs(runs, path, scope))

        def written(path: str | None) -> None:
            if path:
                self.post_message(RunsExported(str(Path(path).expanduser()), written_count[-1]))

        self.app.push_screen(PromptModal(f"Export {what} as CSV to", "runs.csv", action=write), written)

    def export_runs(
        self, runs: list[Run] | None, path: str, scope: tuple[list[str], str, str, list[str] | None]
    ) -> int:
        """Write the runs (None: the whole search) as CSV (called in the dialog's worker thread)."""
        target = Path(path).expanduser()
        experiment_ids, filter_string, view_type, order_by = scope
        try:
            if runs is None:
                return self.client.export_runs_csv(target, experiment_ids, filter_string, view_type, order_by)
            from runyard.tracking.export import export_runs_csv

            names = {e.experiment_id: e.name for e in self.client.list_experiments("ALL")}
            return export_runs_csv(runs, target, names)
        except OSError as error:
            reason = error.strerror or str(error)
            raise InvalidInput(f"Cannot write {target}: {reason}. Type another path.") from error

    def on_runs_exported(self, message: RunsExported) -> None:
        """Say where the file went."""
        noun = "run" if message.count == 1 else "runs"
        self.notify(f"Wrote {formatting.count(message.count)} {noun} to {message.path}.")

    def on_action_failed(self, message: ActionFailed) -> None:
        """Show the error."""
        self.notify(message.error, severity="error", timeout=8)

    # ----------------------------------------------------------------- columns
    @on(RunTable.ColumnsRequested, "#runs")
    def choose_columns(self) -> None:
        """Open the column chooser with every key of the shown runs."""
        available = self._available_columns()

        def chosen(columns: list[str] | None) -> None:
            if columns is not None:
                self.view_state.columns = columns
                self.table.set_columns(columns)
                self.settings.save()  # saved as it changes: a dropped session keeps it

        self.app.push_screen(ColumnChooserModal(available, self.table.dynamic_columns), chosen)

    @on(RunTable.ColumnsChanged, "#runs")
    def columns_changed(self, message: RunTable.ColumnsChanged) -> None:
        """Remember columns the table changed itself (`t` adds or removes a sparkline column)."""
        self.view_state.columns = list(message.columns)
        self.settings.save()  # saved as it changes: a dropped session keeps it

    class RecentRead(Message):
        """A worker read the recent points the sparkline columns asked for (request `number`)."""

        def __init__(
            self,
            number: int,
            run_ids: list[str],
            keys: list[str],
            recent: dict[str, dict[str, list[Metric]]] | None,
        ) -> None:
            self.number = number
            self.run_ids = run_ids
            self.keys = keys
            self.recent = recent  # None: the read failed
            super().__init__()

    @on(RunTable.RecentWanted, "#runs")
    def recent_wanted(self, message: RunTable.RecentWanted) -> None:
        """Read the recent points of the rows on screen, in a worker."""
        self.read_recent(message.number, message.run_ids, message.keys)

    @work(thread=True, group="recent", exit_on_error=False)
    def read_recent(self, number: int, run_ids: list[str], keys: list[str]) -> None:
        """One store call: the last points of these runs' trend keys."""
        try:
            recent = self.client.recent_metrics(run_ids, keys)
        except Exception as error:  # any failure is shown: never a stuck screen
            self.post_message(self.RecentRead(number, run_ids, keys, None))
            self.post_message(ActionFailed(f"Cannot read the sparklines: {error_text(error)}"))
            return
        self.post_message(self.RecentRead(number, run_ids, keys, recent))

    def on_browse_actions_recent_read(self, message: RecentRead) -> None:
        """Hand the points to the table (which drops answers overtaken by a newer request)."""
        if message.recent is None:
            self.table.recent_failed(message.number, message.run_ids)
        else:
            self.table.set_recent(message.number, message.recent, message.run_ids, message.keys)

    def _available_columns(self) -> list[str]:
        metrics: set[str] = set()
        params: set[str] = set()
        tags: set[str] = set()
        if self.keys is not None:
            metrics.update(self.keys.metrics)
            params.update(self.keys.params)
            tags.update(self.keys.tags)
        for run in self.table.runs[:5000]:
            metrics.update(run.data.metric_summaries or run.data.metrics)
            params.update(run.data.params)
            tags.update(run.data.tags)
        return (
            [DATASETS_COLUMN]
            + [column for k in sorted(metrics) for column in (f"metrics.{k}", trend_column(k))]
            + [f"params.{k}" for k in sorted(params)]
            + [f"tags.{k}" for k in sorted(tags)]
        )
