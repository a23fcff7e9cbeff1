"""RunyardApp: the Textual application; it receives its client and settings (tests pass a temp store)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from runyard import TrackingClient
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen

from . import stop_signals
from .commands import NAVIGATION_PREFIXES, RunyardCommands
from .crash import crash_directory, save_crash_report
from .modals.help import HelpModal
from .screens.experiments import ExperimentsScreen
from .screens.trash_scope import TrashScope
from .settings import Settings

SEARCH_NOTES = (
    "Moving: arrows or j/k, pgup/pgdn or ctrl+u/ctrl+d, home/end or g/G; tab, shift+tab: next/previous area.",
    "q goes back (Escape too); on the main screen q quits. A double click on a run opens it.",
    "Search box: → accepts the completion · ↑/↓ past queries · Enter applies · Escape back to the table.",
    "Queries: metrics.acc > 0.9 AND (params.opt = 'adam' OR tags.team LIKE 'cv%'), MIN(metrics.loss) < 0.1",
    "Column chooser: type to filter, ↓ to the list, space toggles, Enter applies.",
)


class RunyardApp(App[None]):
    """Browse and search training runs."""

    CSS_PATH = "app.tcss"
    TITLE = "runyard"
    COMMANDS = App.COMMANDS | {RunyardCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Back (quits on the main screen)"),
        Binding("question_mark", "help", "Keys", id="app.help"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, id="app.palette"),
        Binding("T", "trash", "Trash", id="app.trash", tooltip="Deleted runs: restore, purge"),
    ]

    def __init__(
        self,
        client: TrackingClient,
        settings: Settings,
        exit_after_first_render: bool = False,
        watch: tuple[list[str], tuple[str, ...]] | None = None,
    ) -> None:
        super().__init__()
        self.watch_scope = watch
        self.client = client
        self.settings = settings
        self.exit_after_first_render = exit_after_first_render
        self.crash_error: BaseException | None = None
        self.crash_report: Path | None = None

    def on_mount(self) -> None:
        """Apply the remembered theme and open the browse screen."""
        if self.settings.theme and self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.push_screen(ExperimentsScreen(self.client, self.settings, self.exit_after_first_render))
        if self.watch_scope is not None:
            from .screens.watch import WatchScreen

            experiment_ids, metric_keys = self.watch_scope
            self.push_screen(WatchScreen(self.client, experiment_ids, metric_keys))
        if not self.is_headless:
            stop_signals.install(self)

    def _remember_theme(self, theme: object) -> None:
        self.settings.theme = getattr(theme, "name", None)
        self.settings.save()

    def help_sections(self, screen: Screen[object]) -> list[tuple[str, Sequence[Binding]]]:
        """The bindings of the screen's widgets by area, then the app's."""
        sections: dict[str, list[Binding]] = {}
        for node in [screen, *screen.query("*")]:
            area = getattr(node, "COMMAND_AREA", None)
            if area is None:
                continue
            for bindings in node._bindings.key_to_bindings.values():
                sections.setdefault(area, []).extend(
                    b for b in bindings if b.id and not b.action.startswith(NAVIGATION_PREFIXES)
                )
        sections["Everywhere"] = [b for b in self.BINDINGS if isinstance(b, Binding)]
        return [(area, _unique(bindings)) for area, bindings in sections.items()]

    def action_help(self) -> None:
        """Show every key."""
        if isinstance(self.screen, HelpModal):
            return
        self.push_screen(HelpModal(self.help_sections(self.screen), SEARCH_NOTES))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's commands (theme, quit, ...) plus the help screen."""
        yield from super().get_system_commands(screen)
        yield SystemCommand("Keys (help)", "Every key binding of this screen", self.action_help)
        yield SystemCommand("Trash", "Deleted runs and experiments: restore, purge (T)", self.action_trash)

    async def action_quit(self) -> None:
        """Quit on the main screen; elsewhere go back, as Escape does there (which may ask first)."""
        screen = self.screen
        if not isinstance(screen, ModalScreen) and len(self.screen_stack) <= 2:
            await super().action_quit()
            return
        for binding in screen._bindings.key_to_bindings.get("escape", ()):
            if await self.run_action(binding.action, screen):
                return
        screen.dismiss(None)

    def _handle_exception(self, error: Exception) -> None:
        """Save the traceback of the first unhandled error to a file, then let Textual exit with status 1."""
        if self.crash_error is None:
            self.crash_error = error
            self.crash_report = save_crash_report(error, crash_directory(self.settings.path))
        super()._handle_exception(error)

    def on_unmount(self) -> None:
        """Save the remembered state."""
        if not self.is_headless:
            stop_signals.uninstall()
        self.settings.save()

    # ----------------------------------------------------------------- trash
    def action_trash(self) -> None:
        """Open the trash of the shown experiment, folder or run's experiment (else all); reload after."""
        from .screens.trash import TrashScreen

        screen = self.screen
        if isinstance(screen, TrashScreen) or isinstance(screen, ModalScreen):
            return
        scope = screen.trash_scope() if isinstance(screen, TrashScope) else None
        experiment_ids, name = scope if scope is not None else (None, None)
        trash = TrashScreen(self.client, experiment_ids, name, clock=self.settings.clock)

        def closed(changed: bool | None) -> None:
            if changed and isinstance(screen, TrashScope):
                screen.action_reload()

        self.push_screen(trash, closed)


def _unique(bindings: Iterable[Binding]) -> list[Binding]:
    seen: set[str] = set()
    unique = []
    for binding in bindings:
        key = binding.id or binding.key
        if key not in seen:
            seen.add(key)
            unique.append(binding)
    return unique
