"""FieldPicker: a type-to-filter list of metric/param keys (a filter input above an OptionList).

`/` moves to the filter input (keys typed in the list act on the view); typing filters the list; down,
enter or escape go back into it. Moving the highlight posts `FieldPicker.Highlighted`
and enter posts `FieldPicker.Chosen`; the plot views decide what a key does with the highlighted field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from .control_message import ControlMessage
from .in_order_input import InOrderInput


class FieldInput(InOrderInput):
    """The picker's filter box: down/enter go to the list."""

    BINDINGS = [
        Binding("down", "to_list", "To the list", show=False, id="picker.to_list"),
        Binding("escape", "to_list", "To the list", show=False, id="picker.escape"),
    ]

    def action_to_list(self) -> None:
        """Move the focus to the list below."""
        parent = self.parent
        if isinstance(parent, FieldPicker):
            parent.option_list.focus()


class FieldPicker(Vertical):
    """A filter input and the matching fields; `marks` decorates fields (chosen axes, colour metric)."""

    BINDINGS = [Binding("slash", "focus_filter", "Filter", id="picker.filter", tooltip="Type to filter")]

    DEFAULT_CSS = """
    FieldPicker { width: 28; max-width: 35%; height: 1fr; border-right: vkey $panel-lighten-2; }
    FieldPicker > Input { height: 1; border: none; padding: 0 1; background: $boost; }
    FieldPicker > Input:focus { background: $surface-lighten-1; }
    FieldPicker > OptionList, FieldPicker > OptionList:focus { height: 1fr; border: none; padding: 0; }
    """

    class Highlighted(ControlMessage):
        """The highlight moved to a field."""

        def __init__(self, picker: FieldPicker, field: str) -> None:
            self.field = field
            super().__init__(picker)

    class Chosen(ControlMessage):
        """Enter on a field."""

        def __init__(self, picker: FieldPicker, field: str) -> None:
            self.field = field
            super().__init__(picker)

    def __init__(self, placeholder: str = "type to filter", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.placeholder = placeholder
        self.fields: list[str] = []
        self.shown: list[str] = []
        self.filter_text = ""
        self.marks: Callable[[str], str] = lambda _field: ""

    def compose(self) -> ComposeResult:
        """Filter input above the list."""
        yield FieldInput(placeholder=self.placeholder)
        yield OptionList()

    def action_focus_filter(self) -> None:
        """Move to the filter input."""
        self.query_one(FieldInput).focus()

    @property
    def option_list(self) -> OptionList:
        """The list of fields."""
        return self.query_one(OptionList)

    @property
    def highlighted_field(self) -> str | None:
        """The field under the list's highlight."""
        index = self.option_list.highlighted
        if index is None or not 0 <= index < len(self.shown):
            return None
        return self.shown[index]

    def set_fields(self, fields: Sequence[str], highlight: str | None = None) -> None:
        """Offer these fields (keeping the filter); highlight one of them."""
        self.fields = list(fields)
        self._rebuild(highlight or self.highlighted_field)

    def refresh_marks(self) -> None:
        """Redraw the marks (after the view changed what is chosen)."""
        self._rebuild(self.highlighted_field)

    def _rebuild(self, keep: str | None) -> None:
        needle = self.filter_text.lower()
        self.shown = [field for field in self.fields if needle in field.lower()]
        options = self.option_list
        with self.app.batch_update():
            options.clear_options()
            options.add_options([Option(self._prompt(field), id=field) for field in self.shown])
            if self.shown:
                index = self.shown.index(keep) if keep in self.shown else 0
                with self.prevent(OptionList.OptionHighlighted):
                    options.highlighted = index

    def _prompt(self, field: str) -> Text:
        mark = self.marks(field)
        text = Text(f"{mark:<3}", style="bold" if mark else "")
        text.append(field)
        return text

    @on(Input.Changed)
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.filter_text = event.value.strip()
        before = self.highlighted_field
        self._rebuild(before)
        after = self.highlighted_field
        if after is not None and after != before:
            self.post_message(self.Highlighted(self, after))

    @on(Input.Submitted)
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.option_list.focus()
        field = self.highlighted_field
        if field is not None:
            self.post_message(self.Chosen(self, field))

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Highlighted(self, event.option.id))

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Chosen(self, event.option.id))
