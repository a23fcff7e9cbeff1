"""A small, real training loop in plain Python that produces the demo store's metric curves.

The model is a random-feature network: `layers` frozen random tanh layers (width 8) feed a trained
linear readout, fitted with squared loss to labels +1/-1 (a least-squares classifier, as
scikit-learn's RidgeClassifier) on a synthetic non-linear dataset (4 features) drawn from the seed.
Each step takes one minibatch (batches reshuffled every epoch), computes that batch's exact loss
and gradient, and updates the readout with SGD (momentum 0.9), Adam or AdamW under a warmup +
cosine learning-rate schedule and the given weight decay (L2 for sgd/adam, decoupled for adamw).
Because the loss is quadratic in the readout, a batch's loss and gradient come from its sufficient
statistics (X^T X, X^T y, y^T y, computed once per batch): the same numbers as a per-sample loop,
at O(d^2) per step instead of O(batch * d), which keeps thousands of steps for 50+ runs within a
second or two without numpy.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from operator import mul, sub

HIDDEN_WIDTH = 8
OPTIMIZERS = ("sgd", "adam", "adamw")
_DIVERGED_LOSS = 1e6

# (X^T X / n as rows, X^T y / n, 2 X^T y / n, y^T y / n) of a minibatch of n rows
BatchStats = tuple[list[list[float]], list[float], list[float], float]


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one training run."""

    lr: float
    weight_decay: float = 0.0
    batch_size: int = 32
    optimizer: str = "adam"
    layers: int = 2
    steps: int = 2000
    warmup_steps: int = 100
    val_loss_every: int = 20
    eval_every: int = 100
    lr_every: int = 10
    eval_metrics: tuple[str, ...] = ("accuracy",)
    seed: int = 0


@dataclass
class TrainResult:
    """What the loop computed: per-metric (step, value) histories and the final validation scores."""

    history: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    last_step: int = 0
    diverged: bool = False
    val_scores: list[float] = field(default_factory=list)
    val_labels: list[int] = field(default_factory=list)
    confusion: tuple[int, int, int, int] = (0, 0, 0, 0)  # tn, fp, fn, tp

    def final(self, name: str) -> float | None:
        """The last logged value of a metric (None when it was never logged)."""
        points = self.history.get(name)
        return points[-1][1] if points else None


class DemoDataset:
    """A synthetic two-class problem in 4 dimensions with a non-linear boundary and 6% label noise."""

    def __init__(self, seed: int, n_train: int = 2048, n_val: int = 384, dims: int = 4) -> None:
        rng = random.Random(f"runyard-demo-data-{seed}")
        self.seed = seed
        self.dims = dims
        self.train_x, self.train_y = _sample(rng, n_train, dims)
        self.val_x, self.val_y = _sample(rng, n_val, dims)
        self._features: dict[int, tuple[list[list[float]], list[list[float]]]] = {}
        self._batches: dict[tuple[int, int], list[BatchStats]] = {}
        self._val_stats: dict[int, BatchStats] = {}

    def features(self, layers: int) -> tuple[list[list[float]], list[list[float]]]:
        """Train and validation features after `layers` frozen random tanh layers, plus a bias column."""
        cached = self._features.get(layers)
        if cached is None:
            rng = random.Random(f"runyard-demo-net-{self.seed}")
            weights = []
            fan_in = self.dims
            for _ in range(layers):
                scale = 1.6 / math.sqrt(fan_in)
                weights.append(
                    [([rng.gauss(0.0, scale) for _ in range(fan_in)], rng.gauss(0.0, 0.3)) for _ in range(8)]
                )
                fan_in = HIDDEN_WIDTH
            cached = (
                [_forward(weights, x) for x in self.train_x],
                [_forward(weights, x) for x in self.val_x],
            )
            self._features[layers] = cached
        return cached

    def batches(self, layers: int, batch_size: int) -> list[BatchStats]:
        """Sufficient statistics of each consecutive minibatch of the training set."""
        key = (layers, batch_size)
        cached = self._batches.get(key)
        if cached is None:
            rows = self.features(layers)[0]
            cached = [
                _stats(rows[start : start + batch_size], self.train_y[start : start + batch_size])
                for start in range(0, len(rows) - batch_size + 1, batch_size)
            ]
            self._batches[key] = cached
        return cached

    def val_stats(self, layers: int) -> BatchStats:
        """Sufficient statistics of the whole validation set."""
        cached = self._val_stats.get(layers)
        if cached is None:
            cached = _stats(self.features(layers)[1], self.val_y)
            self._val_stats[layers] = cached
        return cached


def _sample(rng: random.Random, count: int, dims: int) -> tuple[list[list[float]], list[float]]:
    xs: list[list[float]] = []
    ys: list[float] = []
    for _ in range(count):
        x = [rng.gauss(0.0, 1.0) for _ in range(dims)]
        boundary = 1.4 * x[0] - 0.9 * x[1] + 0.7 * x[2] * x[3] + 0.6 * math.sin(2.0 * x[0]) + 0.2
        label = 1.0 if boundary > 0 else -1.0
        if rng.random() < 0.06:
            label = -label
        xs.append(x)
        ys.append(label)
    return xs, ys


def _forward(weights: list[list[tuple[list[float], float]]], x: list[float]) -> list[float]:
    hidden = x
    for layer in weights:
        hidden = [math.tanh(sum(map(mul, row, hidden)) + bias) for row, bias in layer]
    return [*hidden, 1.0]


def _stats(rows: list[list[float]], labels: list[float]) -> BatchStats:
    """X^T X / n, X^T y / n, 2 X^T y / n and y^T y / n of a batch of n rows."""
    columns = list(map(list, zip(*rows, strict=True)))
    width = len(columns)
    inv = 1.0 / len(rows)
    gram = [[0.0] * width for _ in range(width)]
    for j in range(width):
        for k in range(j, width):
            gram[j][k] = gram[k][j] = sum(map(mul, columns[j], columns[k])) * inv
    xty = [sum(map(mul, column, labels)) * inv for column in columns]
    return gram, xty, [2.0 * value for value in xty], sum(map(mul, labels, labels)) * inv


def _quadratic_loss(stats: BatchStats, w: list[float]) -> tuple[float, list[float]]:
    """Half the mean squared error of the readout w on a batch, and its gradient.

    With G = X^T X / n and h = X^T y / n: loss = (w.Gw - 2 h.w + y.y / n) / 2 and grad = Gw - h.
    """
    gram, xty, twice_xty, yty = stats
    gw = [sum(map(mul, row, w)) for row in gram]
    loss = 0.5 * (sum(map(mul, w, map(sub, gw, twice_xty))) + yty)
    return loss, list(map(sub, gw, xty))


def learning_rate(config: TrainConfig, step: int) -> float:
    """Linear warmup, then cosine decay to 5% of the peak."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return config.lr * (0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0))))


def train(dataset: DemoDataset, config: TrainConfig, max_steps: int | None = None) -> TrainResult:
    """Run the loop for config.steps steps (or stop at max_steps, e.g. for a run that is killed)."""
    if config.optimizer not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {config.optimizer!r}: use one of {', '.join(OPTIMIZERS)}.")
    rng = random.Random(f"runyard-demo-run-{config.seed}")
    batches = dataset.batches(config.layers, config.batch_size)
    val = dataset.val_stats(config.layers)
    width = HIDDEN_WIDTH + 1
    w = [rng.gauss(0.0, 0.05) for _ in range(width)]
    m = [0.0] * width
    v = [0.0] * width
    beta1, beta2, eps, decay = 0.9, 0.999, 1e-8, config.weight_decay
    rest1, rest2 = 1.0 - beta1, 1.0 - beta2
    sgd = config.optimizer == "sgd"
    coupled_decay = config.optimizer == "adam" and decay > 0
    sqrt = math.sqrt
    train_loss: list[tuple[int, float]] = []
    val_loss: list[tuple[int, float]] = []
    lrs: list[tuple[int, float]] = []
    grad_norms: list[tuple[int, float]] = []
    result = TrainResult(
        history={"train_loss": train_loss, "val_loss": val_loss, "lr": lrs, "grad_norm": grad_norms}
    )
    order: list[int] = []
    end = config.steps if max_steps is None else min(config.steps, max_steps)
    step = 0
    for step in range(end):
        if not order:
            order = list(range(len(batches)))
            rng.shuffle(order)
        loss, grad = _quadratic_loss(batches[order.pop()], w)
        if not math.isfinite(loss) or loss > _DIVERGED_LOSS:
            train_loss.append((step, loss if math.isfinite(loss) else math.nan))
            result.diverged = True
            break
        train_loss.append((step, loss))
        lr = learning_rate(config, step)
        if step % config.lr_every == 0:
            lrs.append((step, lr))
            grad_norms.append((step, math.sqrt(sum(map(mul, grad, grad)))))
        # zip(strict=False): every vector has the readout's width; this is the hot loop.
        if sgd:  # momentum 0.9, L2 weight decay
            m = [0.9 * mi + gi + decay * wi for mi, gi, wi in zip(m, grad, w, strict=False)]
            w = [wi - lr * mi for wi, mi in zip(w, m, strict=False)]
        else:
            if coupled_decay:
                grad = [gi + decay * wi for gi, wi in zip(grad, w, strict=False)]
            m = [beta1 * mi + rest1 * gi for mi, gi in zip(m, grad, strict=False)]
            v = [beta2 * vi + rest2 * gi * gi for vi, gi in zip(v, grad, strict=False)]
            step_size = lr / (1.0 - beta1 ** (step + 1))
            c2 = 1.0 / (1.0 - beta2 ** (step + 1))
            shrink = 1.0 - lr * decay if config.optimizer == "adamw" else 1.0
            w = [
                wi * shrink - step_size * mi / (sqrt(vi * c2) + eps)
                for wi, mi, vi in zip(w, m, v, strict=False)
            ]
        if step % config.val_loss_every == 0 or step == end - 1:
            val_loss.append((step, _quadratic_loss(val, w)[0]))
        if step % config.eval_every == 0 or step == end - 1:
            _evaluate(dataset, config, w, step, result)
    result.last_step = step
    return result


def _evaluate(
    dataset: DemoDataset, config: TrainConfig, w: list[float], step: int, result: TrainResult
) -> None:
    """Validation accuracy (and F1 / ROC AUC when asked) of the current readout."""
    scores = [sum(map(mul, w, row)) for row in dataset.features(config.layers)[1]]
    tn = fp = fn = tp = 0
    for score, label in zip(scores, dataset.val_y, strict=True):
        if label > 0:
            if score > 0:
                tp += 1
            else:
                fn += 1
        elif score > 0:
            fp += 1
        else:
            tn += 1
    history = result.history
    history.setdefault("val_accuracy", []).append((step, (tp + tn) / len(scores)))
    if "f1" in config.eval_metrics:
        history.setdefault("val_f1", []).append((step, 2 * tp / (2 * tp + fp + fn) if tp else 0.0))
    if "auc" in config.eval_metrics:
        history.setdefault("val_auc", []).append((step, _auc(scores, dataset.val_y)))
    result.val_scores = scores
    result.val_labels = [1 if label > 0 else 0 for label in dataset.val_y]
    result.confusion = (tn, fp, fn, tp)


def _auc(scores: list[float], labels: list[float]) -> float:
    """Area under the ROC curve (probability that a positive outranks a negative)."""
    ranked = sorted(zip(scores, labels, strict=True))
    positives = sum(1 for label in labels if label > 0)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return 0.5
    rank_sum = 0.0
    for rank, (_, label) in enumerate(ranked, start=1):
        if label > 0:
            rank_sum += rank
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
