"""The demo's other experiments: notebook runs in Default, BERT fine-tuning, tokenizers, a script."""

from __future__ import annotations

from runyard.demo.training import train
from runyard.demo.writer import (
    CHURN_KEYS,
    DAY_MS,
    HOUR_MS,
    NLP_KEYS,
    NOTEBOOK_KEYS,
    DemoSource,
    DemoWriter,
    command_of,
    note,
    params_of,
)
from runyard.entities import RunStatus, SourceType
from runyard.names import memorable_name
from runyard.tracking import context as ctx

NLP_REPO = "git@github.com:acme-ml/nlp.git"
TRAIN_FILES = ",".join(f"gs://acme-nlp-data/sst2/v3/train-{i:05d}-of-00016.parquet" for i in range(16))


def write_notebooks(writer: DemoWriter, experiment_id: str) -> None:
    """Default: three quick notebook runs by chen (random run names)."""
    source = DemoSource(
        SourceType.NOTEBOOK, "notebooks/explore.ipynb", None, "git@github.com:acme-ml/scratch.git", "main",
        writer.commit(), dirty=True,
    )  # fmt: skip
    for index, (lr, layers) in enumerate(((0.01, 2), (0.03, 3), (0.003, 2))):
        config = writer.config(lr=lr, layers=layers, steps=300)
        start = writer.now - (9 - 3 * index) * DAY_MS - writer.rng.randint(0, 6) * HOUR_MS
        writer.log_run(
            experiment_id, memorable_name(writer.rng), "chen", start, source, {"lr": lr, "layers": layers},
            train(writer.data, config), NOTEBOOK_KEYS, 150.0, command="jupyter lab",
        )  # fmt: skip


def write_bert(writer: DemoWriter, experiment_id: str) -> None:
    """Alice's fine-tuning runs ten to fourteen days ago (keys with slashes and dots); one in the trash."""
    runs = (
        ("bert-base-lr3e-3", 0.003, 128, 2, SourceType.JOB, None),
        ("bert-base-lr1e-2", 0.01, 128, 2, SourceType.JOB, None),
        ("bert-base-seq256", 0.003, 256, 3, SourceType.JOB, None),
        ("bert-large-lr1e-3", 0.001, 128, 4, SourceType.JOB, 900),
        ("bert-base-notebook", 0.005, 128, 2, SourceType.NOTEBOOK, None),
        ("bert-smoke-test", 0.003, 64, 2, SourceType.NOTEBOOK, 150),
    )
    for index, (name, lr, seq, layers, source_type, stop) in enumerate(runs):
        config = writer.config(
            lr=lr, weight_decay=0.01, batch_size=32, optimizer="adamw", layers=layers, steps=2000,
            eval_metrics=("accuracy", "f1"),
        )  # fmt: skip
        result = train(writer.data, config, max_steps=stop)
        large = "large" in name
        params = {
            "model_name": "bert-large-uncased" if large else "bert-base-uncased",
            "learning_rate": lr,
            "weight_decay": 0.01,
            "per_device_train_batch_size": 32,
            "optimizer": "adamw",
            "max_seq_length": seq,
            "layers": layers,
            "num_train_steps": 2000,
            "model.dropout": 0.1,
            "model.hidden_size": 1024 if large else 768,
            "train_files": TRAIN_FILES,
        }
        if source_type == SourceType.JOB:
            source = DemoSource(
                source_type, f"k8s:nlp-finetune-{name}", "finetune.py", NLP_REPO, "main", writer.commit()
            )
        else:
            source = DemoSource(
                source_type, "notebooks/bert_finetune.ipynb", None, NLP_REPO, "alice/notebooks",
                writer.commit(), dirty=True,
            )  # fmt: skip
        tags = {"model_family": "bert", "dataset": "sst2", "task": "sentiment"}
        status = RunStatus.KILLED if large else RunStatus.FINISHED
        if large:
            tags["stop_reason"] = "preempted: spot instance reclaimed"
        if index == 0:
            tags[ctx.NOTE] = note(
                "Baseline for the SST-2 fine-tune",
                [
                    f"eval/f1 {result.final('val_f1'):.3f}, eval/accuracy {result.final('val_accuracy'):.3f}",
                    "AdamW, lr 3e-3, 100 warmup steps then cosine decay",
                    "train_files: 16 parquet shards (see params)",
                ],
            )
        start = int(writer.now - (14 - index * 0.8) * DAY_MS)
        logged = writer.log_run(
            experiment_id, name, "alice", start, source, params, result, NLP_KEYS, 380.0 + seq, status, tags,
            command=f"python finetune.py --model {params['model_name']} --lr {lr} --max-seq-length {seq}",
        )  # fmt: skip
        if index == 0:
            writer.log_files(logged)
        if name == "bert-smoke-test":
            writer.delete(logged.run_id, writer.now - 9 * DAY_MS)


def write_tokenizers(writer: DemoWriter, experiment_id: str) -> None:
    """Bob's tokenizer ablation seventeen to twenty days ago; the character-level run failed at once."""
    commit = writer.commit()
    source = DemoSource(
        SourceType.SCRIPT, "/home/bob/src/nlp/ablate_tokenizer.py", "ablate_tokenizer.py", NLP_REPO,
        "exp/tokenizers", commit,
    )  # fmt: skip
    for index, (tokenizer, vocab, layers, stop) in enumerate(
        (
            ("bpe", 32000, 2, None),
            ("wordpiece", 30522, 3, None),
            ("unigram", 32000, 4, None),
            ("char", 256, 2, 60),
        )
    ):
        config = writer.config(
            lr=0.003, weight_decay=0.01, batch_size=32, optimizer="adam", layers=layers, steps=1500,
            eval_metrics=("accuracy", "f1"),
        )  # fmt: skip
        result = train(writer.data, config, max_steps=stop)
        tags = {"dataset": "wikitext-103", "tokenizer": tokenizer}
        status = RunStatus.FINISHED
        if stop is not None:
            status = RunStatus.FAILED
            tags["error"] = "ValueError: sequence length 2048 exceeds max_position_embeddings (512)"
        params = {
            "tokenizer": tokenizer,
            "vocab_size": vocab,
            "lr": config.lr,
            "layers": layers,
            "steps": 1500,
        }
        writer.log_run(
            experiment_id, f"tok-{tokenizer}-{vocab}", "bob", writer.now - (20 - index) * DAY_MS, source,
            params, result, NLP_KEYS, 260.0, status, tags,
            command=f"python ablate_tokenizer.py --tokenizer {tokenizer} --vocab-size {vocab}",
        )  # fmt: skip


def write_churn(writer: DemoWriter, experiment_id: str) -> None:
    """Alice's churn model, run as a script over two weeks (random run names); one killed."""
    source_name = "/home/alice/projects/churn/train.py"
    for index, (lr, weight_decay, layers, stop) in enumerate(
        (
            (0.01, 0.0, 1, None),
            (0.003, 1e-4, 2, None),
            (0.03, 1e-3, 2, 500),
            (0.01, 1e-4, 3, None),
            (0.005, 1e-4, 2, None),
        )
    ):
        config = writer.config(
            lr=lr, weight_decay=weight_decay, batch_size=64, optimizer="adam", layers=layers, steps=1200,
            eval_metrics=("accuracy", "auc"),
        )  # fmt: skip
        result = train(writer.churn_data, config, max_steps=stop)
        source = DemoSource(
            SourceType.SCRIPT, source_name, "train.py", "https://github.com/alice/churn.git", "main",
            writer.commit(), dirty=index % 2 == 1,
        )  # fmt: skip
        tags = {"model_family": "mlp", "dataset": "churn-2026-10"}
        status = RunStatus.FINISHED if stop is None else RunStatus.KILLED
        candidate = index == 4
        if candidate:
            tags[ctx.NOTE] = note(
                "Candidate for the November model",
                [
                    f"val_auc {result.final('val_auc'):.3f}, val_accuracy {result.final('val_accuracy'):.3f}",
                    f"Adam, lr {lr}, {layers} hidden layers",
                    "predictions.csv and the confusion matrix are in the artifacts",
                ],
            )
        start = int(writer.now - (16 - index * 3.5) * DAY_MS)
        logged = writer.log_run(
            experiment_id, memorable_name(writer.rng), "alice", start, source, params_of(config), result,
            CHURN_KEYS, 200.0, status, tags, command=command_of(source_name, config),
        )  # fmt: skip
        if candidate:
            writer.log_files(logged, image=True)
