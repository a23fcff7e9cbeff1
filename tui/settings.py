"""Remembered TUI state per store and experiment (columns, sort, filters, search, theme)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from runyard.config import mask_uri

from .formatting import system_clock_ms

SETTINGS_FILE_ENV = "RUNYARD_TUI_STATE"
HISTORY_LIMIT = 100
STATE_FILTERS = ("ACTIVE_ONLY", "DELETED_ONLY", "ALL")


@dataclass
class ViewState:
    """What the run table of one experiment (or folder) looked like when the user left it."""

    columns: list[str] | None = None  # param/metric/tag column ids such as "metrics.acc"; None: defaults
    sort_column: str | None = None  # a column id; None: newest first
    sort_descending: bool = False
    state_filter: str = "ACTIVE_ONLY"
    last_search: str = ""
    metric_aggregate: str = "latest"  # latest, min or max

    @classmethod
    def from_dict(cls, raw: Any) -> ViewState:
        """A ViewState from stored JSON, ignoring unknown or malformed fields."""
        state = cls()
        if not isinstance(raw, dict):
            return state
        columns = raw.get("columns")
        if isinstance(columns, list) and all(isinstance(c, str) for c in columns):
            state.columns = list(columns)
        if isinstance(raw.get("sort_column"), str):
            state.sort_column = raw["sort_column"]
        state.sort_descending = bool(raw.get("sort_descending", False))
        if raw.get("state_filter") in STATE_FILTERS:
            state.state_filter = raw["state_filter"]
        if isinstance(raw.get("last_search"), str):
            state.last_search = raw["last_search"]
        if raw.get("metric_aggregate") in ("latest", "min", "max"):
            state.metric_aggregate = raw["metric_aggregate"]
        return state


def default_settings_path() -> Path:
    """RUNYARD_TUI_STATE, else tui-state.json in the user's state directory (platformdirs)."""
    configured = os.environ.get(SETTINGS_FILE_ENV)
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_state_path

    return user_state_path("runyard", appauthor=False) / "tui-state.json"


@dataclass
class Settings:
    """TUI settings and remembered state of one store; `save()` writes them back (other stores kept)."""

    store_uri: str = ""
    path: Path | None = None  # None: never read or written (tests)
    refresh_seconds: float = 2.0
    page_size: int = 500
    first_page_size: int = 200  # the first page is smaller: the table shows sooner
    clock: Callable[[], int] = system_clock_ms  # ms since the epoch; fixed in tests and screenshots
    theme: str | None = None
    last_view: str | None = None  # the experiment or folder shown when the app was closed
    search_history: list[str] = field(default_factory=list)
    views: dict[str, ViewState] = field(default_factory=dict)

    @classmethod
    def load(cls, store_uri: str, path: Path | None = None, **overrides: Any) -> Settings:
        """The settings of a store from the state file (a missing or corrupt file gives defaults)."""
        path = path if path is not None else default_settings_path()
        settings = cls(store_uri=store_uri, path=path, **overrides)
        stored = _read_json(path).get("stores", {}).get(mask_uri(store_uri), {})
        if isinstance(stored, dict):
            if isinstance(stored.get("theme"), str):
                settings.theme = stored["theme"]
            if isinstance(stored.get("last_view"), str):
                settings.last_view = stored["last_view"]
            history = stored.get("search_history")
            if isinstance(history, list):
                settings.search_history = [h for h in history if isinstance(h, str)][-HISTORY_LIMIT:]
            views = stored.get("views")
            if isinstance(views, dict):
                settings.views = {str(k): ViewState.from_dict(v) for k, v in views.items()}
        refresh = _read_json(path).get("refresh_seconds")
        if "refresh_seconds" not in overrides and isinstance(refresh, int | float) and refresh > 0:
            settings.refresh_seconds = float(refresh)
        return settings

    def view(self, view_key: str) -> ViewState:
        """The remembered state of an experiment or folder (a fresh default when unknown)."""
        return self.views.setdefault(view_key, ViewState())

    def remember_search(self, query: str) -> None:
        """Append a query to the history (moving a repeat to the end)."""
        query = query.strip()
        if not query:
            return
        if query in self.search_history:
            self.search_history.remove(query)
        self.search_history.append(query)
        del self.search_history[:-HISTORY_LIMIT]

    def save(self) -> None:
        """Write this store's state into the state file, keeping other stores' entries; errors are ignored."""
        if self.path is None:
            return
        data = _read_json(self.path)
        stores = data.setdefault("stores", {})
        if not isinstance(stores, dict):
            stores = data["stores"] = {}
        stores[mask_uri(self.store_uri)] = {
            "theme": self.theme,
            "last_view": self.last_view,
            "search_history": self.search_history[-HISTORY_LIMIT:],
            "views": {key: asdict(view) for key, view in self.views.items()},
        }
        data.setdefault("refresh_seconds", self.refresh_seconds)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
            temporary.replace(self.path)
        except OSError:
            pass


def _read_json(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
