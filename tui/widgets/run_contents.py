"""A run's models and datasets on its details screen: ModelList, and the rows of the datasets table.

Both show summaries a worker already fetched. In ModelList `up`/`down` choose a model and `y` copies its
snippet while the list has the focus (elsewhere on the run screen `y` copies the run id).
"""

from __future__ import annotations

from runyard.tracking.run_contents import DatasetSummary, ModelSummary
from textual.binding import Binding
from textual.markup import escape
from textual.widgets import Static

from .tables.kv_table import KVRow

EMPTY = "[dim]No model logged. runyard.log_model(model) or mlflow.<flavor>.log_model(...) adds one here.[/]"


class ModelList(Static, can_focus=True):
    """The models of a run, one block each; the selected one is marked and its snippet is what y copies."""

    COMMAND_AREA = "Model"

    BINDINGS = [
        Binding("y", "copy_snippet", "Copy snippet", id="models.copy_snippet"),
        Binding("down,j", "move(1)", "Next model", show=False, id="models.next"),
        Binding("up,k", "move(-1)", "Previous model", show=False, id="models.previous"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(EMPTY, id=id)
        self.models: list[ModelSummary] = []
        self.selected = 0

    def set_models(self, models: list[ModelSummary]) -> None:
        """Show these models (the selection stays on the same path when it still exists)."""
        current = self.models[self.selected].path if self.models else None
        self.models = list(models)
        paths = [model.path for model in self.models]
        self.selected = paths.index(current) if current in paths else 0
        self.update(self.markup())

    def markup(self) -> str:
        """Every model: a title line, its schema and its snippet; the selected one marked with ▶."""
        if not self.models:
            return EMPTY
        blocks = []
        for index, model in enumerate(self.models):
            marker = "[b $accent]▶[/]" if index == self.selected and len(self.models) > 1 else " "
            status = f"  [dim]{escape(model.status)}[/]" if model.status else ""
            model_id = f"  [dim]{escape(model.model_id)}[/]" if model.model_id else ""
            lines = [
                f"{marker} [b]{escape(model.path)}[/]  {escape(model.flavor)}{status}{model_id}",
                f"  [dim]inputs [/] {escape(model.inputs)}",
                f"  [dim]outputs[/] {escape(model.outputs)}",
            ]
            lines += [f"  [dim]│[/] {escape(line)}" for line in model.snippet.rstrip("\n").splitlines()]
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)

    def action_move(self, step: int) -> None:
        """Select the next or previous model."""
        if self.models:
            self.selected = (self.selected + step) % len(self.models)
            self.update(self.markup())

    def action_copy_snippet(self) -> None:
        """Copy the selected model's snippet to the clipboard."""
        if not self.models:
            self.notify("This run has no model to copy a snippet of.", severity="warning")
            return
        model = self.models[self.selected]
        self.app.copy_to_clipboard(model.snippet)
        self.notify(f"Copied the snippet that loads {model.path} and predicts")


def dataset_key(dataset: DatasetSummary) -> str:
    """The row key of a dataset input: name, digest and context."""
    return f"{dataset.name}\0{dataset.digest}\0{dataset.context}"


def dataset_rows(datasets: list[DatasetSummary]) -> list[KVRow]:
    """Rows of the datasets table: name, digest, context, source, schema summary, rows."""
    rows = []
    for d in datasets:
        count = "" if d.rows is None else f"{d.rows:,}"
        cells = (d.name, d.digest, d.context, d.source, d.schema, count)
        rows.append(KVRow(dataset_key(d), cells, (*cells[:5], d.rows)))
    return rows


def dataset_text(dataset: DatasetSummary) -> str:
    """Every fact of a dataset input, one a line (the viewer enter opens)."""
    facts = [
        ("Name", dataset.name),
        ("Digest", dataset.digest),
        ("Context", dataset.context or "—"),
        ("Source", dataset.source),
        ("Schema", dataset.schema or "not recorded"),
        ("Rows", "not recorded" if dataset.rows is None else f"{dataset.rows:,}"),
    ]
    return "\n".join(f"{label:<8} {value}" for label, value in facts)
