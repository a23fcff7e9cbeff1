"""Run-details screen: chart keys and live refresh, artifact previews, open/download, reproduce, scale."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from run_detail_helpers import T0, HostApp, render_text, seed_run, settle
from runyard import Metric, TrackingClient
from runyard.tui.modals.confirm import ConfirmModal
from runyard.tui.modals.prompt import PromptModal
from runyard.tui.modals.text_viewer import TextViewerModal
from runyard.tui.screens.run_detail import RunDetailScreen
from runyard.tui.widgets import artifact_browser
from runyard.tui.widgets.artifact_browser import ArtifactBrowser
from runyard.tui.widgets.plots.metric_chart import EMA_WEIGHTS, MetricChart, MetricsPanel, ema
from runyard.tui.widgets.tables.kv_table import KVTable
from textual.widgets import Input, Tree

pytestmark = pytest.mark.anyio


@pytest.fixture
def seeded(sqlite_uri: str, tmp_path: Path) -> tuple[TrackingClient, dict[str, str]]:
    """A client on a fresh SQLite store and the ids of the seeded runs."""
    client = TrackingClient(sqlite_uri, artifact_root=str(tmp_path / "artifacts"))
    return client, seed_run(client, tmp_path)


async def test_chart_draws_selected_metric_and_toggles(seeded: tuple[TrackingClient, dict[str, str]]) -> None:
    client, ids = seeded
    app = HostApp(client, ids["run"])
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        chart = app.screen.query_one(MetricChart)
        assert (
            chart.history is not None and chart.history.key == "train/loss"
        )  # the first metric, drawn at once
        await pilot.press("3", "down", "enter")  # val/acc
        await settle(pilot)
        assert chart.history.key == "val/acc"
        await pilot.press("up", "enter")  # train/loss
        await settle(pilot)
        history = chart.history
        assert history is not None and history.key == "train/loss" and history.x_axis == "step"
        assert history.total_points == 2000 and len(history) < 2000  # downsampled by the core
        assert max(history.maxs) == 99.0  # the one-point spike survives
        assert "train/loss · x: step" in chart.describe()
        await pilot.press("x")
        await settle(pilot)
        assert chart.x_mode == "wall time" and chart.history.x_axis == "time"
        assert chart.history.total_points == 2000
        await pilot.press("x")
        await settle(pilot)
        assert chart.x_mode == "relative time" and "x: relative time" in chart.describe()
        assert chart._xs(chart.history)[0] >= 0  # seconds since the run started
        await pilot.press("x")
        await settle(pilot)
        assert chart.x_mode == "step" and chart.history.x_axis == "step"
        await pilot.press("l")
        assert chart.log_y and "log y" in chart.describe()
        await pilot.press("l")
        assert not chart.log_y
        await pilot.press("plus", "plus")
        assert chart.ema_weight == EMA_WEIGHTS[2] and f"EMA {EMA_WEIGHTS[2]:g}" in chart.describe()
        await pilot.press("minus", "minus", "minus")
        assert chart.ema_weight == 0 and "EMA" not in chart.describe()
        await pilot.press("down", "enter")  # val/acc: 20 points, drawn as they are
        await settle(pilot)
        assert chart.history.key == "val/acc" and chart.history.steps[-1] == 1900
        assert chart.history.source == "points"


def test_ema_smooths_and_keeps_nan() -> None:
    values = [0.0, 10.0, float("nan"), 10.0]
    smoothed = ema(values, 0.5)
    assert (
        smoothed[0] == 0.0
        and 0 < smoothed[1] < 10
        and smoothed[2] != smoothed[2]
        and smoothed[3] > smoothed[1]
    )
    assert ema(values, 0.0)[1] == 10.0


async def test_live_refresh_appends_only_newer_points(seeded: tuple[TrackingClient, dict[str, str]]) -> None:
    client, ids = seeded
    run_id = ids["child0"]  # RUNNING
    client.log_batch(run_id, metrics=[Metric("loss", float(s), T0 + s, s) for s in range(50)])
    app = HostApp(client, run_id, clock=lambda: T0 + 1000)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        await pilot.press("3", "enter")
        await settle(pilot)
        chart = app.screen.query_one(MetricChart)
        assert chart.history is not None and chart.history.last_step == 49
        client.log_batch(run_id, metrics=[Metric("loss", -5.0, T0 + 60, 60)])
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        screen._refresh_if_running()  # what the 2-second timer does while RUNNING
        await settle(pilot)
        assert chart.history.last_step == 60 and chart.history.total_points == 51
        assert min(chart.history.mins) == -5.0 and chart.history.source == "merged"
        metrics = screen.query_one("#metrics-table", KVTable)
        assert metrics.shown[0].cells[1] == "-5"  # the summary row refreshed too
        assert app.screen.query_one(MetricsPanel).selected_key == "loss"


async def select_artifact(pilot, app: HostApp, path: str) -> str:
    """Move the tree cursor to an artifact and return its preview as text."""
    browser = app.screen.query_one(ArtifactBrowser)
    tree = browser.query_one(Tree)
    await pilot.press("5")
    for key in ["down"] * 40 + ["up"] * 40:
        node = tree.cursor_node
        if node is not None and node.data is not None and node.data.path == path:
            break
        await pilot.press(key)
    await settle(pilot)
    assert browser.previewed_path == path
    return render_text(browser.preview_renderable, 100)


async def test_artifact_tree_and_previews_of_each_type(seeded: tuple[TrackingClient, dict[str, str]]) -> None:
    client, ids = seeded
    app = HostApp(client, ids["run"])
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        browser = app.screen.query_one(ArtifactBrowser)
        assert {e.path for e in browser.entries} >= {"logs/train.log", "config.json", "plots/gradient.png"}
        labels = [str(node.label) for node in browser.query_one(Tree).root.children]
        assert any(label.startswith("config.json") and "B" in label for label in labels)
        text = await select_artifact(pilot, app, "logs/train.log")
        assert "epoch 2 loss 1.9" in text and "34 B" in text
        text = await select_artifact(pilot, app, "config.json")
        assert '"layers": [' in text and "    64," in text  # pretty-printed
        text = await select_artifact(pilot, app, "metrics.csv")
        assert "step" in text and "loss" in text and "1.7" in text and "2 rows" in text
        text = await select_artifact(pilot, app, "code/train.py")
        assert "def main():" in text and "1 " in text  # highlighted with line numbers
        await select_artifact(pilot, app, "plots/gradient.png")
        image = render_text(browser.preview_renderable)
        assert "▀" in image
        text = await select_artifact(pilot, app, "model.bin")
        assert "Binary file" in text and "model.bin" in text


def test_large_files_are_read_partially(tmp_path: Path, sqlite_uri: str) -> None:
    client = TrackingClient(sqlite_uri, artifact_root=str(tmp_path / "artifacts"))
    run_id = client.create_run(client.create_experiment("big")).info.run_id
    client.log_text(run_id, "line\n" * 400_000, "big.log")  # 2 MB
    head, size = client.read_artifact_head(run_id, "big.log", artifact_browser.PREVIEW_BYTES)
    assert len(head) == 1 << 20 and size == 2_000_000
    text = render_text(artifact_browser.build_preview("big.log", head[:100], size, "/x/big.log"))
    assert "showing the first 100 B" in text


def test_a_very_wide_csv_previews_its_first_columns_and_says_so() -> None:
    header = ",".join(f"c{index}" for index in range(5000))
    rows = "\n".join(",".join(str(row * index) for index in range(5000)) for row in range(3))
    head = f"{header}\n{rows}\n".encode()
    preview = artifact_browser.build_preview("wide.csv", head, len(head), "/x/wide.csv")
    table = preview.renderables[1]
    assert len(table.columns) == artifact_browser.CSV_COLUMNS == 50
    assert [column.header for column in table.columns][-1] == "c49"
    assert "first 50 of 5,000 columns" in str(table.caption)


def test_png_decoder_without_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from run_detail_helpers import tiny_png
    from runyard.tui.widgets.plots.halfblock import decode_image

    real_import = builtins.__import__

    def no_pillow(name: str, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pillow)
    pixels = decode_image(tiny_png(6, 4), 80, 40)
    assert pixels is not None and len(pixels) == 4 and len(pixels[0]) == 6
    assert pixels[0][0] == (255, 0, 0) and pixels[3][5] == (55, 0, 200)
    assert decode_image(b"not an image", 80, 40) is None


async def test_open_shows_path_without_desktop_and_download_copies(
    seeded: tuple[TrackingClient, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, ids = seeded
    monkeypatch.setattr(artifact_browser, "system_opener", lambda: None)
    notices: list[str] = []
    monkeypatch.setattr(ArtifactBrowser, "notify", lambda self, text, **kw: notices.append(text))
    app = HostApp(client, ids["run"])
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        await select_artifact(pilot, app, "config.json")
        await pilot.press("o")
        await settle(pilot)
        local = client.artifact_local_path(ids["run"], "config.json")
        assert notices and notices[-1] == f"No desktop opener here. Local path: {local}"
        await pilot.press("D")
        await pilot.pause()
        prompt = app.screen
        assert isinstance(prompt, PromptModal) and prompt.query_one(Input).value == os.getcwd()
        prompt.query_one(Input).value = str(tmp_path / "downloads")
        await pilot.press("enter")
        await settle(pilot)
        assert (tmp_path / "downloads" / "config.json").read_text() == Path(local).read_text()
        assert notices[-1].startswith("Copied config.json to")


async def test_reproduce_commands_and_script(
    seeded: tuple[TrackingClient, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, ids = seeded
    monkeypatch.chdir(tmp_path)
    app = HostApp(client, ids["run"])
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await pilot.pause()
        viewer = app.screen
        assert isinstance(viewer, TextViewerModal)
        shown = viewer.text
        await pilot.press("escape", "P")
        await settle(pilot)
        script = tmp_path / "reproduce-sweep-parent.sh"
        assert script.read_text() == shown
        assert script.stat().st_mode & stat.S_IXUSR
        script.write_text("# my edits\n")
        await pilot.press("P")  # the file exists now: asks before replacing it
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await settle(pilot)
        assert script.read_text() == "# my edits\n"
        await pilot.press("P", "y")
        await settle(pilot)
        assert script.read_text() == shown
    requirements = client.artifact_local_path(ids["run"], "environment/requirements.txt")
    lines = shown.splitlines()
    assert lines[0] == "#!/usr/bin/env bash" and "set -euo pipefail" in lines
    expected_in_order = [
        "git clone https://github.com/acme/vision.git vision",
        "cd vision",
        "git checkout 0123456789abcdef0123456789abcdef01234567",
        "python3.11 -m venv .venv-reproduce",
        ". .venv-reproduce/bin/activate",
        f"cp {requirements} environment/requirements.txt",
        "python -m pip install -r environment/requirements.txt",
        "python train.py --lr 0.1",
    ]
    positions = [lines.index(line) for line in expected_in_order]
    assert positions == sorted(positions)
    assert any(line.startswith("# WARNING: the working tree had uncommitted changes") for line in lines)


async def test_a_run_with_1000_params_1000_tags_and_500_metrics(sqlite_uri: str, tmp_path: Path) -> None:
    client = TrackingClient(sqlite_uri, artifact_root=str(tmp_path / "artifacts"))
    run_id = client.create_run(client.create_experiment("wide"), run_name="wide").info.run_id
    client.log_params(run_id, {f"param-{i:04d}": f"value {i}" for i in range(1000)})
    client.set_tags(run_id, {f"tag-{i:04d}": f"tag value {i}" for i in range(1000)})
    client.log_batch(run_id, metrics=[Metric(f"metric-{i:03d}", i / 7, T0, 0) for i in range(500)])
    app = HostApp(client, run_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        params = screen.query_one("#params-table", KVTable)
        tags = screen.query_one("#tags-table", KVTable)
        metrics = screen.query_one("#metrics-table", KVTable)
        assert (len(params.shown), len(metrics.shown)) == (1000, 500)
        assert len(tags.shown) >= 1000
        await pilot.press("2", "slash", *"param-099")
        assert [row.key for row in params.shown] == [f"param-099{i}" for i in range(10)]
        await pilot.press("escape")  # clears the filter and returns to the table (a second one goes back)
        assert len(params.shown) == 1000
        await pilot.press("4", "pagedown", "pagedown")
        assert tags.data_table.cursor_row > 20 and tags.data_table.scroll_offset.y > 10
        await pilot.press("ctrl+end")
        assert tags.selected_key == tags.shown[-1].key == "tag-0999"
        assert tags.data_table.scroll_offset.y > 900
        await pilot.press("3", "ctrl+end", "enter")
        await settle(pilot)
        chart = screen.query_one(MetricChart)
        assert chart.history is not None and chart.history.key == "metric-499"


def chart_canvas(chart: MetricChart) -> str:
    """The chart as the user sees it, built from its figure as a render does."""
    from rich.text import Text

    return Text.from_ansi(chart.plt.build()).plain


def y_labels(canvas: str) -> list[str]:
    """The y tick labels of a plotext canvas (the text left of each '┤')."""
    return [line.split("┤")[0].strip() for line in canvas.splitlines() if "┤" in line]


async def test_log_axis_survives_a_resize(seeded: tuple[TrackingClient, dict[str, str]]) -> None:
    client, ids = seeded
    app = HostApp(client, ids["run"])
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        chart = app.screen.query_one(MetricChart)
        await pilot.press("3", "l")
        await settle(pilot)
        before = chart_canvas(chart)
        assert "log y" in before and y_labels(before) == ["100", "10", "1"]
        await pilot.resize_terminal(100, 40)  # re-renders the figure without a new plot()
        await settle(pilot)
        after = chart_canvas(chart)
        assert "log y" in after and y_labels(after) == ["100", "10", "1"]


async def test_a_spike_is_clipped_and_o_shows_it(seeded: tuple[TrackingClient, dict[str, str]]) -> None:
    client, ids = seeded
    app = HostApp(client, ids["run"])
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        chart = app.screen.query_one(MetricChart)
        canvas = chart_canvas(chart)
        assert "clipped: 1 beyond (o: show all)" in canvas and "▲" in canvas
        assert max(float(label) for label in y_labels(canvas)) < 10  # the curve fills the chart
        await pilot.press("3", "o")
        await settle(pilot)
        canvas = chart_canvas(chart)
        assert "clipped" not in canvas and "▲" not in canvas and float(y_labels(canvas)[0]) >= 99
