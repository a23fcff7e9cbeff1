"""`runyard demo`: write a realistic demo store, reproducible from a seed and a clock.

The store looks like a small team's tracker: experiments in folders, a 54-trial hyperparameter sweep
(a parent run with nested children, one still running), runs by several users from scripts,
notebooks and jobs with git versions, notes, FAILED/KILLED/RUNNING runs, runs and an experiment in
the trash, and artifacts of every kind the run details screen previews. Every metric curve is what
the plain-Python training loop of `demo_training.py` really computed for that run's
hyperparameters; times are laid out over the three weeks before `now_ms`.

Given the same seed and now_ms, the store is the same: run and experiment ids, names, times, params
and metric values (ids are drawn from `random.Random(seed)`, never from uuid4 or the clock).
The experiments are written by `demo_vision.py` and `demo_projects.py` through `demo_writer.py`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runyard.entities import SourceType
from runyard.exceptions import InvalidInput
from runyard.tracking import context as ctx
from runyard.tracking.client import TrackingClient

DB_FILE = "runyard.db"
ARTIFACT_DIR = "artifacts"
DEFAULT_DEMO_DIR = "runyard-demo"
DEMO_NOTE = (
    "Demo data written by `runyard demo`: every metric curve was computed by a small plain-Python "
    "model trained on synthetic data with the run's hyperparameters."
)
SCRIPT_EXPERIMENT = "/home/alice/projects/churn/train.py"
# name, age in days (creation time before now), tags; ids are drawn in this order.
EXPERIMENTS: tuple[tuple[str, int, dict[str, str]], ...] = (
    ("Default", 30, {}),
    ("/vision/resnet", 25, {"team": "vision", ctx.NOTE: f"# ResNet on CIFAR-10 (mini)\n\n{DEMO_NOTE}"}),
    ("/vision/vit-small", 12, {"team": "vision"}),
    ("/vision/old-baselines", 28, {"team": "vision"}),
    ("/nlp/bert-finetune", 16, {"team": "nlp", ctx.NOTE: f"# BERT fine-tuning on SST-2\n\n{DEMO_NOTE}"}),
    ("/nlp/tokenizer-ablation", 22, {"team": "nlp"}),
    (SCRIPT_EXPERIMENT, 18, {ctx.EXPERIMENT_SOURCE_TYPE: SourceType.SCRIPT}),
)


def write_demo_store(
    directory: str | Path,
    seed: int = 7,
    now_ms: int | None = None,
    overwrite: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> str:
    """Write the demo store into directory (runyard.db and artifacts/); returns its tracking URI.

    A directory that already holds a store is refused unless overwrite is true (then its runyard.db
    and artifacts/ are removed first). If writing fails, nothing is left behind. progress(what, done,
    total) is called as each part of the store is written.
    """
    from runyard.clock import now_ms as clock_now

    root = Path(directory).expanduser().absolute()
    if root.exists() and not root.is_dir():
        raise InvalidInput(f"Cannot write the demo store into {root}: it is a file; choose a directory.")
    db_path = root / DB_FILE
    uri = f"sqlite:///{db_path}"
    if db_path.exists() or (root / ARTIFACT_DIR).exists():
        if not overwrite:
            raise InvalidInput(
                f"{root} already holds a runyard store: open it with `runyard ui {db_path}`, "
                "or choose another directory (or overwrite it)."
            )
        _remove_store(root, uri)
    root.mkdir(parents=True, exist_ok=True)
    now = clock_now() if now_ms is None else int(now_ms)
    try:
        _write_experiments(TrackingClient(uri, artifact_root=str(root / ARTIFACT_DIR)), seed, now, progress)
    except BaseException:
        _remove_store(root, uri)
        raise
    return uri


def _write_experiments(
    client: TrackingClient, seed: int, now: int, progress: Callable[[str, int, int], None] | None = None
) -> None:
    from runyard.demo.projects import write_bert, write_churn, write_notebooks, write_tokenizers
    from runyard.demo.vision import write_old_baselines, write_resnet_baselines, write_sweep, write_vit
    from runyard.demo.writer import DAY_MS, DemoWriter

    writer = DemoWriter(client, seed, now)
    ids: dict[str, str] = {}
    for name, age_days, tags in EXPERIMENTS:
        experiment_id = "0" if name == "Default" else writer.new_id()
        creation_time = now - age_days * DAY_MS
        client.store.create_experiment(
            name, tags=tags, experiment_id=experiment_id, creation_time=creation_time
        )
        ids[name] = experiment_id
    parts: list[tuple[str, Callable[[Any, str], Any], str]] = [
        ("Default", write_notebooks, "Default"),
        ("/vision/resnet baselines", write_resnet_baselines, "/vision/resnet"),
        ("/vision/resnet sweep", write_sweep, "/vision/resnet"),
        ("/vision/vit-small", write_vit, "/vision/vit-small"),
        ("/vision/old-baselines", write_old_baselines, "/vision/old-baselines"),
        ("/nlp/bert-finetune", write_bert, "/nlp/bert-finetune"),
        ("/nlp/tokenizer-ablation", write_tokenizers, "/nlp/tokenizer-ablation"),
        (SCRIPT_EXPERIMENT, write_churn, SCRIPT_EXPERIMENT),
    ]
    for done, (label, write, experiment) in enumerate(parts):
        if progress is not None:
            progress(label, done, len(parts))
        write(writer, ids[experiment])
    if progress is not None:
        progress("done", len(parts), len(parts))


def _remove_store(root: Path, uri: str) -> None:
    """Delete the demo's database files and artifacts (closing this process's pooled connections)."""
    from runyard.store import db

    with db._databases_lock:
        database = db._databases.pop(uri, None)
    if database is not None:
        database.dispose()
    for suffix in ("", "-wal", "-shm", "-journal"):
        (root / f"{DB_FILE}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(root / ARTIFACT_DIR, ignore_errors=True)
