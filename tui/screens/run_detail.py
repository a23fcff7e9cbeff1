"""RunDetailScreen: everything about one run: header, notes, params, metrics with a chart, tags, artifacts,
environment and how to reproduce it, its models and datasets, and its console output. Every store call
runs in a worker; edits save through the core at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from runyard import InvalidInput, Run, RunStatus, TrackingClient
from runyard.config import STALE_HEARTBEAT_MS
from runyard.tracking.context import NOTE, TAG_PREFIX
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.markup import escape
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Collapsible, DataTable, Markdown, Static

from ..formatting import duration, relative_time, system_clock_ms
from ..messages import ErrorMessage
from ..modals.confirm import ConfirmModal
from ..modals.edit_tag import EditTagModal
from ..modals.notes_editor import NotesEditorModal
from ..modals.pick_run import PickRunModal
from ..modals.prompt import PromptModal
from ..modals.text_viewer import TextViewerModal
from ..reproduce import environment_facts, is_dirty, reproduce_script, script_filename
from ..run_details import RunDetails, is_system_tag, load_details
from ..widgets.artifact_browser import ArtifactBrowser
from ..widgets.console_panel import ConsoleLog, ConsolePanel
from ..widgets.key_bar import KeyBar
from ..widgets.plots.metric_chart import MetricsPanel, metric_rows
from ..widgets.run_contents import ModelList, dataset_key, dataset_rows, dataset_text
from ..widgets.tables.kv_table import KVRow, KVTable, TagTable
from ..widgets.tables.run_rows import is_lost, run_duration
from ..workers import post_outcome

WIDE_WIDTH = 160  # from this width the sections sit in two columns
SECTIONS = ("notes", "params", "metrics", "tags", "artifacts", "environment", "models", "datasets", "console")
STATUS_COLOURS = {
    RunStatus.RUNNING: "$accent",
    RunStatus.FINISHED: "$success",
    RunStatus.FAILED: "$error",
    RunStatus.KILLED: "$warning",
    RunStatus.SCHEDULED: "$text-muted",
    "LOST": "$error",
}


class RunDetailScreen(Screen[None]):
    """One run on one screen; keys 1..9 jump to its sections."""

    COMMAND_AREA = "Run"

    BINDINGS = [
        Binding("escape", "back", "Back", id="run_detail.back"),
        Binding("y", "copy_run_id", "Copy id", id="run_detail.copy_id"),
        Binding("R", "rename", "Rename", id="run_detail.rename"),
        Binding("N", "edit_notes", "Edit notes", id="run_detail.edit_notes"),
        Binding("u", "open_parent", "Parent", id="run_detail.parent"),
        Binding("c", "pick_child", "Children", id="run_detail.children"),
        Binding("p", "show_reproduce", "Reproduce", id="run_detail.reproduce"),
        Binding("P", "write_reproduce", "Write script", show=False, id="run_detail.write_script"),
        Binding("ctrl+r", "reload", "Reload", show=False, id="run_detail.reload"),
        # priority: the page keys scroll the whole screen even when a short table has the focus
        Binding(
            "pagedown", "scroll_body(1)", "Page down", show=False, id="run_detail.page_down", priority=True
        ),
        Binding("pageup", "scroll_body(-1)", "Page up", show=False, id="run_detail.page_up", priority=True),
        *(
            Binding(
                str(n), f"jump_section({n})", f"Go to {name}", show=False, id=f"run_detail.section_{name}"
            )
            for n, name in enumerate(SECTIONS, start=1)
        ),
    ]

    class DetailsLoaded(Message):
        """A worker fetched the run and its neighbourhood."""

        def __init__(self, details: RunDetails) -> None:
            self.details = details
            super().__init__()

    class LoadFailed(ErrorMessage):
        """The run could not be read."""

    class ActionDone(Message):
        """A background action finished (text for a toast); reload when asked."""

        def __init__(self, text: str, reload: bool = True, error: bool = False) -> None:
            self.text = text
            self.reload = reload
            self.error = error
            super().__init__()

    def __init__(
        self,
        client: TrackingClient,
        run_id: str,
        *,
        clock: Callable[[], int] = system_clock_ms,
        refresh_seconds: float | None = 2.0,
    ) -> None:
        super().__init__()
        self.client = client
        self.run_id = run_id
        self.clock = clock
        self.refresh_seconds = refresh_seconds
        self.details: RunDetails | None = None

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        """Header, then the nine collapsible sections, then the footer."""
        yield Static("Loading run…", id="run-header")
        yield Static("", id="run-error")
        with VerticalScroll(id="run-body"):
            with Collapsible(title="1 Notes", id="section-notes", collapsed=False):
                yield Markdown("", id="notes-md")
                yield Static("N: edit notes", classes="section-hint")
            with Collapsible(title="2 Parameters", id="section-params", collapsed=False):
                yield KVTable(["key", "value"], noun="params", id="params-table")
            with Collapsible(title="3 Metrics", id="section-metrics", collapsed=False):
                yield MetricsPanel(self.client, self.run_id, id="metrics-panel")
            with Collapsible(title="4 Tags", id="section-tags", collapsed=False):
                yield TagTable(["key", "value"], noun="tags", id="tags-table")
                yield Static(
                    "t: add · enter: edit · delete: remove · v: view (runyard.* tags are read-only)",
                    classes="section-hint",
                )
            with Collapsible(title="5 Artifacts", id="section-artifacts", collapsed=False):
                yield ArtifactBrowser(self.client, self.run_id, id="artifacts")
            with Collapsible(title="6 Environment", id="section-environment", collapsed=False):
                yield Static("", id="environment")
                yield Static(
                    "p: show reproduce commands · P: write reproduce-<run>.sh", classes="section-hint"
                )
            with Collapsible(title="7 Model", id="section-models", collapsed=False):
                yield ModelList(id="model-list")
                yield Static(
                    "y: copy the snippet (load, DataFrame, predict) · ↑↓: choose a model",
                    classes="section-hint",
                )
            with Collapsible(title="8 Datasets", id="section-datasets", collapsed=False):
                yield KVTable(
                    ["name", "digest", "context", "source", "schema", "rows"],
                    noun="datasets",
                    id="datasets-table",
                )
            with Collapsible(title="9 Console", id="section-console", collapsed=False):
                yield ConsolePanel(self.client, self.run_id, id="console-panel")
        yield KeyBar()

    def on_mount(self) -> None:
        """Load the run; poll while it is RUNNING."""
        self.query_one("#run-error", Static).display = False
        self.load_run()
        if self.refresh_seconds:
            self.set_interval(self.refresh_seconds, self._refresh_if_running)

    # ----------------------------------------------------------------- loading
    @work(thread=True, exclusive=True, group="run-detail", exit_on_error=False)
    def load_run(self) -> None:
        """Fetch the run, its experiment, parent and children off the UI thread."""
        post_outcome(
            self, lambda: load_details(self.client, self.run_id), self.DetailsLoaded, self.LoadFailed
        )

    def _refresh_if_running(self) -> None:
        details = self.details
        live = details is not None and (
            details.run.info.status == RunStatus.RUNNING or details.waiting_to_sync
        )
        if details is not None and live and self.is_current:
            self.load_run()
            self.query_one(MetricsPanel).refresh_live()
            self.query_one(ConsolePanel).refresh_live()

    def on_run_detail_screen_load_failed(self, message: LoadFailed) -> None:
        """Show why the run cannot be shown."""
        error = self.query_one("#run-error", Static)
        error.update(escape(message.error))
        error.display = True
        if self.details is None:
            self.query_one("#run-header", Static).update("Run not available. Press escape to go back.")

    async def on_run_detail_screen_details_loaded(self, message: DetailsLoaded) -> None:
        """Fill every section from the fetched entities."""
        details = self.details = message.details
        run = details.run
        self.query_one("#run-error", Static).display = False
        self.query_one("#run-header", Static).update(self.header_markup(details))
        params = run.data.params
        self.query_one("#params-table", KVTable).set_rows(
            [KVRow(key, (key, value), (key, value)) for key, value in params.items()]
        )
        start = run.info.start_time or 0
        self.query_one(MetricsPanel).set_summaries(
            metric_rows(list(run.data.metric_summaries.values())), start
        )
        self.query_one("#tags-table", TagTable).set_rows(
            [
                KVRow(key, (key, value), (key, value), dim=is_system_tag(key))
                for key, value in run.data.tags.items()
            ]
        )
        notes = run.data.tags.get(NOTE, "")
        await self.query_one("#notes-md", Markdown).update(notes or "*No notes yet: press N to write some.*")
        self.query_one("#environment", Static).update(self.environment_markup(details))
        self.query_one("#section-params", Collapsible).title = f"2 Parameters ({len(params):,})"
        self.query_one(
            "#section-metrics", Collapsible
        ).title = f"3 Metrics ({len(run.data.metric_summaries):,})"
        self.query_one("#section-tags", Collapsible).title = f"4 Tags ({len(run.data.tags):,})"
        self.query_one("#model-list", ModelList).set_models(details.models)
        self.query_one("#section-models", Collapsible).title = f"7 Model ({len(details.models):,})"
        self.query_one("#datasets-table", KVTable).set_rows(dataset_rows(details.datasets))
        self.query_one("#section-datasets", Collapsible).title = f"8 Datasets ({len(details.datasets):,})"

    # ----------------------------------------------------------------- text
    def status_markup(self, run: Run) -> str:
        """The coloured status; a RUNNING run without a recent heartbeat shows as LOST."""
        status = run.info.status
        if run.info.is_lost(self.clock(), STALE_HEARTBEAT_MS):
            last = run.info.heartbeat_time or run.info.start_time
            return f"[b $error]● LOST[/] [dim](no heartbeat {relative_time(last, self.clock())})[/]"
        return f"[b {STATUS_COLOURS.get(status, '$text')}]● {status}[/]"

    def header_markup(self, details: RunDetails) -> str:
        """The header lines: name, status, experiment, id, user, times, source, version, family."""
        run, info, now = details.run, details.run.info, self.clock()
        tags = run.data.tags

        def when(ms: int | None, same_day_as: int | None = None) -> str:
            if ms is None:
                return "—"
            moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
            stamp = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
            if same_day_as is not None:
                other = datetime.fromtimestamp(same_day_as / 1000, tz=UTC)
                stamp = moment.strftime("%H:%M:%S") if other.date() == moment.date() else stamp
            relative = relative_time(ms, now)
            return stamp if stamp.startswith(relative) else f"{stamp} [dim]({relative})[/]"

        elapsed = run_duration(run, now)  # as in the run table: a lost run's stops at its last heartbeat
        if info.end_time:
            elapsed_note = ""
        elif is_lost(run, now):
            elapsed_note = ""  # the LOST status says it; a note here wraps the line at 80 columns
        else:
            elapsed_note = " [dim](running)[/]" if info.status == "RUNNING" else ""
        commit = tags.get("runyard.source.git.commit") or info.source_version or ""
        version = escape(commit[:10]) if commit else "—"
        if commit and tags.get("runyard.source.git.branch"):
            version += f" on {escape(tags['runyard.source.git.branch'])}"
        if is_dirty(run):
            version += " [b $warning](dirty)[/]"
        source = " ".join(escape(part) for part in (info.source_type or "", info.source_name or "") if part)
        if info.entry_point:
            source += f" [dim]entry[/] {escape(info.entry_point)}"
        parent = f"{escape(details.parent[1])} [dim](u)[/]" if details.parent else "—"
        children = (
            ", ".join(escape(name) for _, name in details.children[:4])
            + (f" … {len(details.children)} in all" if len(details.children) > 4 else "")
            + " [dim](c)[/]"
            if details.children
            else "—"
        )
        trashed = "  [b $error]in the trash (T)[/]" if info.lifecycle_stage == "deleted" else ""
        if details.waiting_to_sync:
            trashed += f"  [b $warning]{details.waiting_to_sync:,} points waiting to sync[/]"
        lines = [
            f"[b]{escape(info.run_name)}[/]  {self.status_markup(run)}{trashed}   "
            f"[dim]in[/] {escape(details.experiment_name)}",
            f"[dim]Run id[/] {info.run_id} [dim](y)[/]   [dim]User[/] {escape(info.user_id)}   "
            f"[dim]Duration[/] {duration(elapsed) or '—'}{elapsed_note}",
            f"[dim]Started[/] {when(info.start_time)}   [dim]Ended[/] {when(info.end_time, info.start_time)}",
            f"[dim]Source[/] {source or '—'}   [dim]Version[/] {version}",
            f"[dim]Parent[/] {parent}   [dim]Children[/] {children}",
        ]
        return "\n".join(lines)

    def environment_markup(self, details: RunDetails) -> str:
        """Python, platform, command, git; a warning when the tree was dirty."""
        lines = []
        for label, value in environment_facts(details.run):
            lines.append(f"[dim]{label:<13}[/]{escape(value) if value else '[dim]not recorded[/]'}")
        if is_dirty(details.run):
            lines.append(
                "[b $warning]⚠ The working tree had uncommitted changes: "
                "the commit alone does not reproduce it.[/]"
            )
        requirements = "environment/requirements.txt" if details.requirements_path else "[dim]none logged[/]"
        lines.append(f"[dim]{'Packages':<13}[/]{requirements}")
        return "\n".join(lines)

    # ----------------------------------------------------------------- navigation
    def action_back(self) -> None:
        """Back to where the run was opened from."""
        if len(self.app.screen_stack) > 1:
            self.dismiss(None)

    def on_resize(self) -> None:
        """From WIDE_WIDTH columns the sections sit in two columns."""
        self.set_class(self.size.width >= WIDE_WIDTH, "wide")

    def action_scroll_body(self, pages: int) -> None:
        """Page the focused table when it scrolls itself (1000 tags), else scroll the sections a page."""
        focused = self.focused
        if isinstance(focused, DataTable) and focused.max_scroll_y > 0:
            (focused.action_page_down if pages > 0 else focused.action_page_up)()
            return
        body = self.query_one("#run-body", VerticalScroll)
        if pages > 0:
            body.scroll_page_down(animate=False)
        else:
            body.scroll_page_up(animate=False)

    def action_jump_section(self, number: int) -> None:
        """Expand section number (1..9), scroll to it and focus its main widget."""
        name = SECTIONS[number - 1]
        section = self.query_one(f"#section-{name}", Collapsible)
        section.collapsed = False
        target: Widget = section
        tables = {
            "params": "#params-table",
            "tags": "#tags-table",
            "metrics": "#metrics-table",
            "datasets": "#datasets-table",
        }
        if name in tables:
            target = self.query_one(tables[name], KVTable).data_table
        elif name == "models":
            target = self.query_one("#model-list", ModelList)
        elif name == "artifacts":
            target = self.query_one("#artifact-tree")
        elif name == "console":
            target = self.query_one(ConsoleLog)
        else:
            target = section.query_one("CollapsibleTitle")
        self.query_one("#run-body", VerticalScroll).scroll_to_widget(section, top=True, animate=False)
        target.focus(scroll_visible=False)

    def action_open_parent(self) -> None:
        """Open the parent run."""
        if self.details and self.details.parent:
            self.app.push_screen(self._screen_for(self.details.parent[0]))
        else:
            self.notify("This run has no parent.")

    def action_pick_child(self) -> None:
        """Choose a child run and open it."""
        if not self.details or not self.details.children:
            self.notify("This run has no children.")
            return

        def chosen(run_id: str | None) -> None:
            if run_id:
                self.app.push_screen(self._screen_for(run_id))

        self.app.push_screen(
            PickRunModal(f"Children of {self.details.run.info.run_name}", self.details.children), chosen
        )

    def _screen_for(self, run_id: str) -> RunDetailScreen:
        return RunDetailScreen(self.client, run_id, clock=self.clock, refresh_seconds=self.refresh_seconds)

    def action_copy_run_id(self) -> None:
        """Copy the run id to the clipboard (OSC 52 and the app's clipboard)."""
        self.app.copy_to_clipboard(self.run_id)
        self.notify(f"Copied run id {self.run_id}")

    def trash_scope(self) -> tuple[list[str], str] | None:
        """The run's experiment (None until the run has loaded)."""
        if self.details is None:
            return None
        return [self.details.run.info.experiment_id], self.details.experiment_name

    def action_reload(self) -> None:
        """Read the run again."""
        self.load_run()

    # ----------------------------------------------------------------- edits
    def action_rename(self) -> None:
        """Rename the run (errors from the core stay in the prompt)."""
        if self.details is None:
            return

        def renamed(name: str | None) -> None:
            if name:
                self.notify(f"Renamed to {name}")
                self.load_run()

        rename = PromptModal(
            "Rename run",
            self.details.run.info.run_name,
            action=lambda name: self.client.rename_run(self.run_id, name),
        )
        self.app.push_screen(rename, renamed)

    def action_edit_notes(self) -> None:
        """Edit the notes (Markdown); saving writes the runyard.note.content tag."""
        if self.details is None:
            return

        def saved(text: str | None) -> None:
            if text is not None:
                self.notify("Notes saved")
                self.load_run()

        editor = NotesEditorModal(
            lambda text: self.client.set_tag(self.run_id, NOTE, text),
            self.details.run.data.tags.get(NOTE, ""),
            self.details.run.info.run_name,
        )
        self.app.push_screen(editor, saved)

    def _save_user_tag(self, key: str, value: str) -> None:
        if is_system_tag(key):
            raise InvalidInput(
                f"Tag {key!r}: keys starting with {TAG_PREFIX!r} are set by runyard; choose another key."
            )
        self.client.set_tag(self.run_id, key, value)

    def _after_tag_saved(self, result: tuple[str, str] | None) -> None:
        if result is not None:
            self.notify(f"Tag {result[0]} saved")
            self.load_run()

    @on(TagTable.AddRequested)
    def _add_tag(self) -> None:
        self.app.push_screen(EditTagModal(self._save_user_tag), self._after_tag_saved)

    @on(KVTable.RowChosen, "#tags-table")
    def _edit_tag(self, event: KVTable.RowChosen) -> None:
        tags = self.details.run.data.tags if self.details else {}
        if event.key not in tags:
            return
        if is_system_tag(event.key):
            hint = "edit the notes with N" if event.key == NOTE else "runyard tags are read-only"
            self.app.push_screen(TextViewerModal(f"{event.key} ({hint})", tags[event.key]))
            return
        self.app.push_screen(
            EditTagModal(self._save_user_tag, event.key, tags[event.key]), self._after_tag_saved
        )

    @on(TagTable.ViewRequested)
    def _view_tag(self, event: TagTable.ViewRequested) -> None:
        tags = self.details.run.data.tags if self.details else {}
        if event.key in tags:
            self.app.push_screen(TextViewerModal(f"Tag {event.key}", tags[event.key]))

    @on(TagTable.DeleteRequested)
    def _delete_tag(self, event: TagTable.DeleteRequested) -> None:
        key = event.key
        if is_system_tag(key):
            self.notify(f"{key} is a runyard tag: it cannot be deleted here.", severity="warning")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.delete_tag(key)

        self.app.push_screen(
            ConfirmModal("Delete tag", f"Delete tag {key!r} from this run?", "Delete"), confirmed
        )

    @work(thread=True, exclusive=True, group="run-detail-edit", exit_on_error=False)
    def delete_tag(self, key: str) -> None:
        """Remove a tag through the core."""
        post_outcome(
            self,
            lambda: self.client.delete_tag(self.run_id, key),
            lambda _: self.ActionDone(f"Tag {key} deleted"),
            lambda error: self.ActionDone(error, reload=False, error=True),
            even_if_cancelled=True,
        )

    @on(KVTable.RowChosen, "#datasets-table")
    def _view_dataset(self, event: KVTable.RowChosen) -> None:
        for dataset in self.details.datasets if self.details else []:
            if dataset_key(dataset) == event.key:
                self.app.push_screen(TextViewerModal(f"Dataset {dataset.name}", dataset_text(dataset)))
                return

    @on(KVTable.RowChosen, "#params-table")
    def _view_param(self, event: KVTable.RowChosen) -> None:
        params = self.details.run.data.params if self.details else {}
        if event.key in params:
            self.app.push_screen(TextViewerModal(f"Param {event.key}", params[event.key]))

    def on_run_detail_screen_action_done(self, message: ActionDone) -> None:
        """Toast the outcome and reload when something changed."""
        self.notify(message.text, severity="error" if message.error else "information")
        if message.reload:
            self.load_run()

    # ----------------------------------------------------------------- reproduce
    def reproduce_text(self) -> str:
        """The reproduce script of the loaded run ('' before it is loaded)."""
        if self.details is None:
            return ""
        return reproduce_script(
            self.details.run, self.details.experiment_name, self.details.requirements_path
        )

    def action_show_reproduce(self) -> None:
        """Show the commands that recreate the run."""
        if self.details is not None:
            from rich.syntax import Syntax

            text = self.reproduce_text()
            self.app.push_screen(
                TextViewerModal("Reproduce this run (y copies)", text, Syntax(text, "bash", word_wrap=True))
            )

    def action_write_reproduce(self) -> None:
        """Write reproduce-<run>.sh in the current directory (asks before replacing an existing file)."""
        if self.details is None:
            return
        filename = script_filename(self.details.run.info.run_name)
        text = self.reproduce_text()
        if not (Path(os.getcwd()) / filename).exists():
            self.write_script(filename, text)
            return
        from ..modals.confirm import ConfirmModal

        def answered(replace: bool | None) -> None:
            if replace:
                self.write_script(filename, text)

        question = ConfirmModal(f"Replace {filename}?", f"{filename} already exists here.", "Replace")
        self.app.push_screen(question, answered)

    @work(thread=True, exclusive=True, group="run-detail-script", exit_on_error=False)
    def write_script(self, filename: str, text: str) -> None:
        """Write the script file (executable) off the UI thread."""
        path = Path(os.getcwd()) / filename

        def write() -> None:
            try:
                path.write_text(text, encoding="utf-8")
                path.chmod(0o755)
            except OSError as error:
                raise InvalidInput(f"Cannot write {path}: {error.strerror}") from error

        post_outcome(
            self,
            write,
            lambda _: self.ActionDone(f"Wrote {path}", reload=False),
            lambda error: self.ActionDone(error, reload=False, error=True),
            even_if_cancelled=True,
        )
