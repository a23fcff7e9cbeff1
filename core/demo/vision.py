"""The demo's vision experiments: ResNet baselines, the 54-trial sweep, ViT runs, a deleted experiment."""

from __future__ import annotations

from runyard.demo.models import log_datasets, log_demo_model
from runyard.demo.training import train
from runyard.demo.writer import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    SECOND_MS,
    VISION_KEYS,
    DemoSource,
    DemoWriter,
    command_of,
    note,
    params_of,
    truncate,
)
from runyard.entities import Metric, RunStatus, SourceType
from runyard.tracking import context as ctx

SWEEP_NAME = "sweep-lr-wd"
SWEEP_TRIALS = 54
SWEEP_WORKERS = 4
SWEEP_STEPS = 2000
VISION_REPO = "git@github.com:acme-ml/vision.git"


def write_resnet_baselines(writer: DemoWriter, experiment_id: str) -> None:
    """Bob's ResNet baselines four days ago (one killed); a debug run and a smoke sweep in the trash."""
    main = writer.commit()
    for name, optimizer, lr, layers, status, stop in (
        ("resnet18-baseline", "sgd", 0.05, 2, RunStatus.FINISHED, None),
        ("resnet34-baseline", "adam", 0.003, 3, RunStatus.FINISHED, None),
        ("resnet50-cosine", "adamw", 0.001, 4, RunStatus.KILLED, 1240),
    ):
        config = writer.config(
            lr=lr, weight_decay=1e-4, batch_size=64, optimizer=optimizer, layers=layers, steps=3000
        )
        result = train(writer.data, config, max_steps=stop)
        branch, commit = ("main", main) if stop is None else ("exp/cosine-schedule", writer.commit())
        source = DemoSource(
            SourceType.SCRIPT, "/home/bob/src/vision/train.py", "train.py", VISION_REPO, branch, commit,
            dirty=stop is not None,
        )  # fmt: skip
        tags = {"model_family": "resnet", "arch": name.split("-")[0], "dataset": "cifar10-mini"}
        first = name == "resnet18-baseline"
        if first:
            tags[ctx.NOTE] = note(
                name,
                [
                    "SGD with momentum 0.9, 100 warmup steps then cosine decay",
                    f"val_accuracy {result.final('val_accuracy'):.3f} after {result.last_step + 1} steps",
                    "reference point for the lr / weight-decay sweep",
                ],
            )
        if status == RunStatus.KILLED:
            tags["stop_reason"] = f"stopped by hand at step {result.last_step}"
        start = writer.now - 4 * DAY_MS + writer.rng.randint(0, 20) * HOUR_MS
        logged = writer.log_run(
            experiment_id, name, "bob", start, source, params_of(config), result, VISION_KEYS, 320.0,
            status, tags, command=command_of("train.py", config),
        )  # fmt: skip
        if first:
            writer.log_files(logged, image=True)
        log_datasets(writer.client, logged.run_id, augmented=stop is not None)
        if name == "resnet34-baseline":
            log_demo_model(writer.client, logged.run_id)
    debug_source = DemoSource(
        SourceType.SCRIPT, "/home/bob/src/vision/train.py", "train.py", VISION_REPO, "debug/bs256",
        writer.commit(), True,
    )  # fmt: skip
    config = writer.config(lr=0.1, batch_size=128, optimizer="sgd", layers=2, steps=200)
    debug = writer.log_run(
        experiment_id, "debug-bs256", "bob", writer.now - 3 * DAY_MS - 5 * HOUR_MS, debug_source,
        params_of(config), train(writer.data, config), VISION_KEYS, 300.0,
    )  # fmt: skip
    writer.delete(debug.run_id, writer.now - 3 * DAY_MS)
    smoke_start = writer.now - 2 * DAY_MS - 7 * HOUR_MS
    parent = writer.log_run(
        experiment_id, "sweep-smoke", "alice", smoke_start, debug_source, {"trials": 2}, None, {}, 1.0
    )
    for index in range(2):
        config = writer.config(lr=0.01 * (index + 1), layers=2, steps=100)
        writer.log_run(
            experiment_id, f"smoke-{index}", "alice", smoke_start + (index + 1) * MINUTE_MS, debug_source,
            params_of(config), train(writer.data, config), VISION_KEYS, 250.0, parent_run_id=parent.run_id,
        )  # fmt: skip
    writer.delete(parent.run_id, writer.now - 2 * DAY_MS)  # its two children go to the trash with it


def write_sweep(writer: DemoWriter, experiment_id: str) -> None:
    """Alice's random search over lr, weight decay, batch size, optimizer and depth: a parent and 54 trials.

    Four trials run at a time; two were stopped by hand (KILLED), SGD with a high learning rate
    diverges (FAILED), and the last trial is still running, as is the parent that launched them.
    """
    rng = writer.rng
    configs = []
    for trial in range(SWEEP_TRIALS):
        optimizer = rng.choice(("sgd", "adam", "adamw"))
        lr = float(f"{10 ** rng.uniform(-4.0, 0.45):.2g}")
        if trial == 6:
            optimizer, lr = "sgd", 2.4  # a learning rate this high diverges: the sweep's FAILED trial
        configs.append(
            writer.config(
                lr=lr,
                weight_decay=rng.choice((0.0, 1e-5, 1e-4, 1e-3, 1e-2)),
                batch_size=rng.choice((16, 32, 64, 128)),
                optimizer=optimizer,
                layers=rng.choice((2, 3, 4)),
                steps=SWEEP_STEPS,
            )
        )
    killed = dict.fromkeys(rng.sample(range(8, SWEEP_TRIALS - 8), 2), 0)
    for trial in killed:
        killed[trial] = rng.randint(600, 900)
    results = [
        train(writer.data, config, max_steps=killed.get(trial)) for trial, config in enumerate(configs)
    ]
    # Schedule on four workers (times relative to the sweep's start), then pin "now" just after
    # every trial but the last has ended, with the last one about half-way.
    free = [0] * SWEEP_WORKERS
    starts: list[int] = []
    offsets: list[list[int]] = []
    for config, result in zip(configs, results, strict=True):
        worker = free.index(min(free))
        start = free[worker] + rng.randint(3, 15) * SECOND_MS
        step_ms = 180.0 + 2.5 * config.batch_size + 70.0 * config.layers
        offsets.append(writer.step_times(0, result.last_step + 1, step_ms))
        starts.append(start)
        free[worker] = start + offsets[-1][-1] + 20 * SECOND_MS
    last = SWEEP_TRIALS - 1
    now_relative = max(starts[t] + offsets[t][-1] for t in range(last)) + rng.randint(20, 90) * SECOND_MS
    starts[last] = max(starts[last], now_relative - offsets[last][len(offsets[last]) // 2])
    base = writer.now - now_relative
    running_steps = sum(1 for offset in offsets[last] if starts[last] + offset <= now_relative - SECOND_MS)
    results[last] = truncate(results[last], running_steps - 1)

    finished = [t for t in range(last) if t not in killed and not results[t].diverged]
    best = max(finished, key=lambda t: results[t].final("val_accuracy") or 0.0)
    by_end = sorted(finished, key=lambda t: starts[t] + offsets[t][-1])
    best_so_far = 0.0
    parent_metrics = []
    for count, trial in enumerate(by_end, start=1):
        accuracy = results[trial].final("val_accuracy") or 0.0
        best_so_far = max(best_so_far, accuracy)
        when = base + starts[trial] + offsets[trial][-1]
        parent_metrics += [
            Metric("trial_val_accuracy", accuracy, when, count),
            Metric("best_val_accuracy", best_so_far, when, count),
        ]
    commit = writer.commit()
    driver = DemoSource(
        SourceType.SCRIPT, "/home/alice/src/vision/sweeps/launch.py", "launch.py", VISION_REPO, "main", commit
    )
    top = configs[best]
    diverged = [configs[t] for t in range(last) if results[t].diverged and t not in killed]
    parent_note = note(
        "LR / weight-decay sweep",
        [
            f"random search, {SWEEP_TRIALS} trials, {SWEEP_WORKERS} at a time; objective: max `val_accuracy`",
            f"best so far: trial-{best:02d} ({top.optimizer}, lr {top.lr}, weight decay {top.weight_decay}), "
            f"val_accuracy {results[best].final('val_accuracy'):.3f}",
            f"{len(diverged)} diverged ({', '.join(f'{c.optimizer} at lr {c.lr}' for c in diverged)}); "
            f"{len(killed)} stopped early by hand",
        ],
    )
    sweep_tags = {"model_family": "resnet", "dataset": "cifar10-mini", "sweep": SWEEP_NAME}
    parent = writer.log_run(
        experiment_id,
        SWEEP_NAME,
        "alice",
        base - 12 * SECOND_MS,
        driver,
        {
            "search": "random",
            "trials": SWEEP_TRIALS,
            "parallelism": SWEEP_WORKERS,
            "objective": "val_accuracy",
            "space.lr": "log-uniform(1e-4, 2.8)",
            "space.weight_decay": "[0, 1e-5, 1e-4, 1e-3, 1e-2]",
            "space.batch_size": "[16, 32, 64, 128]",
            "space.optimizer": "[sgd, adam, adamw]",
            "space.layers": "[2, 3, 4]",
        },
        None,
        {},
        1.0,
        RunStatus.RUNNING,
        {**sweep_tags, ctx.NOTE: parent_note},
        command="python sweeps/launch.py --config sweeps/lr_wd.yaml --workers 4",
        times=[base - 12 * SECOND_MS],
        extra_metrics=parent_metrics,
    )
    for trial in sorted(range(SWEEP_TRIALS), key=lambda t: starts[t]):
        config, result = configs[trial], results[trial]
        tags = {**sweep_tags, "trial": str(trial)}
        status = RunStatus.FINISHED
        if trial == last:
            status = RunStatus.RUNNING
        elif trial in killed:
            status = RunStatus.KILLED
            tags["stop_reason"] = f"stopped by hand at step {result.last_step}"
        elif result.diverged:
            status = RunStatus.FAILED
            loss = result.final("train_loss")
            tags["error"] = f"FloatingPointError: loss diverged ({loss:.3g}) at step {result.last_step}"
        if trial == best:
            tags[ctx.NOTE] = note(
                f"Best trial so far (trial-{trial:02d})",
                [
                    f"{config.optimizer}, lr {config.lr}, weight decay {config.weight_decay}, "
                    f"batch size {config.batch_size}, {config.layers} layers",
                    f"val_accuracy {result.final('val_accuracy'):.3f}, "
                    f"val_loss {result.final('val_loss'):.4f}",
                    "next: rerun with 3 seeds before promoting it",
                ],
            )
        source = DemoSource(
            SourceType.JOB, f"k8s:sweep-t{trial:02d}", "train.py", VISION_REPO, "main", commit
        )
        start = base + starts[trial]
        logged = writer.log_run(
            experiment_id,
            f"trial-{trial:02d}",
            "alice",
            start,
            source,
            params_of(config),
            result,
            VISION_KEYS,
            0.0,
            status,
            tags,
            parent.run_id,
            command_of("train.py", config),
            [start + o for o in offsets[trial][: result.last_step + 1]],
        )
        if trial == best:
            writer.log_files(logged, image=True)
        elif result.diverged:
            writer.log_files(logged, error=tags["error"])


def write_vit(writer: DemoWriter, experiment_id: str) -> None:
    """Chen's ViT runs five to eight days ago; one ran out of GPU memory."""
    for index, (name, patch, lr, batch, layers, warmup, stop) in enumerate(
        (
            ("vit-s16-adamw", 16, 0.003, 64, 2, 200, None),
            ("vit-s16-lr1e-3", 16, 0.001, 64, 2, 200, None),
            ("vit-s8-warmup500", 8, 0.003, 32, 3, 500, None),
            ("vit-s32-fast", 32, 0.01, 128, 2, 100, None),
            ("vit-s16-bs128", 16, 0.003, 128, 3, 200, 340),
        )
    ):
        config = writer.config(
            lr=lr, weight_decay=0.05, batch_size=batch, optimizer="adamw", layers=layers, steps=2000,
            warmup_steps=warmup,
        )  # fmt: skip
        result = train(writer.data, config, max_steps=stop)
        params = {**params_of(config), "patch_size": patch, "warmup_steps": warmup, "image_size": 224}
        tags = {"model_family": "vit", "dataset": "cifar10-mini"}
        status, error = RunStatus.FINISHED, None
        if stop is not None:
            status = RunStatus.FAILED
            error = (
                "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB "
                "(GPU 0; 23.65 GiB total capacity)"
            )
            tags["error"] = error
        step_ms = 420.0 if patch > 8 else 630.0
        if patch == 8:
            tags[ctx.NOTE] = note(
                "Patch size 8",
                [
                    "4x the tokens of patch 16: about 1.5x slower per step",
                    f"val_accuracy {result.final('val_accuracy'):.3f} after {result.last_step + 1} steps",
                    f"warmup {warmup} steps instead of 200",
                ],
            )
        source = DemoSource(
            SourceType.SCRIPT, "/home/chen/vision/vit/train_vit.py", "train_vit.py", VISION_REPO, "feat/vit",
            writer.commit(), dirty=index == 3,
        )  # fmt: skip
        start = int(writer.now - (8 - index * 0.7) * DAY_MS)
        logged = writer.log_run(
            experiment_id, name, "chen", start, source, params, result, VISION_KEYS, step_ms, status, tags,
            command=command_of("train_vit.py", config) + f" --patch-size {patch}",
        )  # fmt: skip
        if error:
            writer.log_files(logged, error=error)


def write_old_baselines(writer: DemoWriter, experiment_id: str) -> None:
    """An experiment of two old runs, moved to the trash six days ago."""
    source = DemoSource(
        SourceType.SCRIPT, "/home/bob/src/vision/train.py", "train.py", VISION_REPO, "main", writer.commit()
    )
    for index in range(2):
        config = writer.config(lr=0.02, optimizer="sgd", layers=2 + index, steps=800)
        start = writer.now - (24 - index) * DAY_MS
        writer.log_run(
            experiment_id, f"baseline-v{index + 1}", "bob", start, source, params_of(config),
            train(writer.data, config), VISION_KEYS, 300.0,
        )  # fmt: skip
    writer.delete_experiment(experiment_id, writer.now - 6 * DAY_MS)
