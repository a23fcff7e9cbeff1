"""The demo store's writer: runs with tags, params, metric histories and artifacts, on a fixed clock.

Ids come from `random.Random(seed)` and everything else from a second seeded generator, drawn in a
fixed order, so the same seed and clock write the same store. Runs go through TrackingClient and
SqlStore (never the fluent API, which uses the real clock and the process's own context).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from runyard.demo.artifacts import REQUIREMENTS, TRAIN_SCRIPT, confusion_png, predictions_csv, train_log
from runyard.demo.training import DemoDataset, TrainConfig, TrainResult
from runyard.entities import Metric, RunStatus
from runyard.store import lifecycle
from runyard.tracking import context as ctx
from runyard.tracking.client import TrackingClient
from runyard.validation import validate_key

SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

# Names of the training loop's histories -> metric keys each team logs them under.
VISION_KEYS = {"train_loss": "train_loss", "val_loss": "val_loss", "val_accuracy": "val_accuracy", "lr": "lr"}
NLP_KEYS = {
    "train_loss": "train/loss",
    "val_loss": "eval/loss",
    "val_accuracy": "eval/accuracy",
    "val_f1": "eval/f1",
    "lr": "train/learning_rate",
    "grad_norm": "train/grad.norm",
}
CHURN_KEYS = {
    "train_loss": "train_loss",
    "val_loss": "val_loss",
    "val_accuracy": "val_accuracy",
    "val_auc": "val_auc",
}
NOTEBOOK_KEYS = {"train_loss": "loss", "val_accuracy": "accuracy"}


@dataclass(frozen=True)
class DemoSource:
    """Where a run came from: the run's source fields and its git tags."""

    source_type: str
    name: str
    entry_point: str | None
    repo_url: str
    branch: str
    commit: str
    dirty: bool = False


@dataclass
class Logged:
    """A run written to the store, with what the artifact writers need."""

    run_id: str
    name: str
    start: int
    end: int | None
    params: dict[str, object]
    result: TrainResult | None
    times: list[int] = field(default_factory=list)  # absolute timestamp of each step

    def timestamp_of(self, step: int) -> int:
        """When the loop logged that step."""
        return self.times[min(step, len(self.times) - 1)]


class DemoWriter:
    """Writes the demo's runs through TrackingClient and SqlStore, with a fixed clock and seeded ids."""

    def __init__(self, client: TrackingClient, seed: int, now: int) -> None:
        self.client = client
        self.store = client.store
        self.now = now
        self.ids = random.Random(seed)
        self.rng = random.Random(f"runyard-demo-content-{seed}")
        self.data = DemoDataset(seed)
        self.churn_data = DemoDataset(seed + 1)

    def new_id(self) -> str:
        """A 32-hex id drawn from the seed."""
        return f"{self.ids.getrandbits(128):032x}"

    def commit(self) -> str:
        """A 40-hex git commit drawn from the seed."""
        return f"{self.rng.getrandbits(160):040x}"

    def config(self, **values: object) -> TrainConfig:
        """A TrainConfig with its own seed for batch order and initial weights."""
        return TrainConfig(seed=self.rng.getrandbits(32), **values)

    def step_times(self, start: int, steps: int, step_ms: float) -> list[int]:
        """Absolute time of each step: a start-up pause, then steps of about step_ms (+-10%)."""
        elapsed = float(self.rng.randint(8, 45) * SECOND_MS)
        times = []
        for _ in range(steps):
            elapsed += step_ms * (0.9 + 0.2 * self.rng.random())
            times.append(start + int(elapsed))
        return times

    def log_run(
        self,
        experiment_id: str,
        name: str,
        user: str,
        start: int,
        source: DemoSource,
        params: Mapping[str, object],
        result: TrainResult | None,
        keys: Mapping[str, str],
        step_ms: float,
        status: str = RunStatus.FINISHED,
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        command: str = "python train.py",
        times: list[int] | None = None,
        extra_metrics: Sequence[Metric] = (),
    ) -> Logged:
        """Create one run with its tags, params and metric histories, then end it (or keep it RUNNING)."""
        steps = (result.last_step + 1) if result else 1
        times = times if times is not None else self.step_times(start, steps, step_ms)
        all_tags = {
            ctx.USER: user,
            ctx.SOURCE_NAME: source.name,
            ctx.SOURCE_TYPE: source.source_type,
            ctx.GIT_COMMIT: source.commit,
            ctx.GIT_BRANCH: source.branch,
            ctx.GIT_DIRTY: "true" if source.dirty else "false",
            ctx.GIT_REPO_URL: source.repo_url,
            ctx.PYTHON_VERSION: "3.11.9",
            ctx.PLATFORM: "Linux-6.8.0-45-generic-x86_64-with-glibc2.39",
            ctx.COMMAND: command,
            **(tags or {}),
        }
        run = self.store.create_run(
            experiment_id,
            name,
            user,
            start_time=start,
            tags=all_tags,
            parent_run_id=parent_run_id,
            source_type=source.source_type,
            source_name=source.name,
            entry_point=source.entry_point,
            source_version=source.commit,
            run_id=self.new_id(),
        )
        run_id = run.info.run_id
        # One transaction per run on the store's batch path: the keys are constants checked once and
        # the values floats the loop computed, so the client's per-point checks would add nothing.
        points = [(validate_key(m.key, "metric"), m.value, m.timestamp, m.step) for m in extra_metrics]
        if result is not None:
            for history_name, key in keys.items():
                validate_key(key, "metric")
                history = result.history.get(history_name, ())
                points += [(key, value, times[step], step) for step, value in history]
        self.store.log_batch(run_id, points, params=params)
        end = None
        if status == RunStatus.RUNNING:
            self.store.heartbeat([run_id], timestamp=self.now - self.rng.randint(1, 6) * SECOND_MS)
        else:
            end = times[-1] + self.rng.randint(2, 20) * SECOND_MS
            self.client.set_terminated(run_id, status, end_time=end)
        return Logged(run_id, name, start, end, dict(params), result, times)

    def log_files(self, logged: Logged, error: str | None = None, image: bool = False) -> None:
        """A run's artifacts: log, config, predictions, code, requirements (and a confusion-matrix PNG)."""
        result = logged.result
        assert result is not None
        repository = self.client.artifact_repository(logged.run_id)
        log = train_log(logged.name, logged.params, result.history, logged.timestamp_of, logged.start, error)
        repository.write_bytes("logs/train.log", log.encode())
        self.store.append_console(logged.run_id, [(logged.start, "stdout", coloured_log(log))])
        self.client.log_dict(logged.run_id, {"run_name": logged.name, **logged.params}, "config.json")
        if result.val_scores:
            csv = predictions_csv(result.val_scores, result.val_labels)
            repository.write_bytes("predictions.csv", csv.encode())
        repository.write_bytes("code/train.py", TRAIN_SCRIPT.encode())
        repository.write_bytes(ctx.REQUIREMENTS_ARTIFACT, REQUIREMENTS.encode())
        if image:
            repository.write_bytes("plots/confusion.png", confusion_png(result.confusion))

    def delete(self, run_ids: str | list[str], when: int) -> None:
        """Move runs (and their descendants) to the trash at a fixed time.

        lifecycle.delete_run rather than TrackingClient.delete_run: the same operation, but it takes
        the deletion time, so the trash (deleted time, days left) is reproducible too.
        """
        lifecycle.delete_run(self.store, run_ids, now_ms=when)

    def delete_experiment(self, experiment_id: str, when: int) -> None:
        """Move an experiment to the trash at a fixed time."""
        lifecycle.delete_experiment(self.store, experiment_id, now_ms=when)


def coloured_log(log: str) -> str:
    """The training log as a terminal showed it: times dim, ERROR lines red (ANSI, as captured)."""
    lines = []
    for line in log.splitlines(keepends=True):
        for level in (" INFO", " ERROR"):
            clock, found, rest = line.partition(level)
            if found:
                level_text = (
                    f"\x1b[1;31m{found}{rest.rstrip()}\x1b[0m\n" if level == " ERROR" else found + rest
                )
                line = f"\x1b[2m{clock}\x1b[0m{level_text}"
                break
        lines.append(line)
    return "".join(lines)


def params_of(config: TrainConfig) -> dict[str, object]:
    """The hyperparameters of a training config, as run params."""
    return {
        "lr": config.lr,
        "weight_decay": config.weight_decay,
        "batch_size": config.batch_size,
        "optimizer": config.optimizer,
        "layers": config.layers,
        "steps": config.steps,
    }


def command_of(script: str, config: TrainConfig) -> str:
    """The command line that would launch this config."""
    return (
        f"python {script} --lr {config.lr} --weight-decay {config.weight_decay} --batch-size "
        f"{config.batch_size} --optimizer {config.optimizer} --layers {config.layers} --steps {config.steps}"
    )


def truncate(result: TrainResult, last_step: int) -> TrainResult:
    """The histories up to last_step: what a run that is still going has logged so far."""
    history = {name: [p for p in points if p[0] <= last_step] for name, points in result.history.items()}
    return TrainResult(history=history, last_step=last_step)


def note(title: str, items: Sequence[str]) -> str:
    """A run note in Markdown: a heading and a bullet list."""
    return f"## {title}\n\n" + "\n".join(f"- {item}" for item in items) + "\n"
