"""The demo's dataset inputs and its one logged model (a small picklable classifier, no ML library needed)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runyard.entities import DATASET_CONTEXT_TAG, Dataset, DatasetInput, InputTag
from runyard.tracking.client import TrackingClient

IMAGES = '[{"type": "tensor", "tensor-spec": {"dtype": "uint8", "shape": [-1, 32, 32, 3]}}]'
LABELS = '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
EXAMPLE = {"mean_red": 0.49, "mean_green": 0.48, "mean_blue": 0.45, "edge_density": 0.17}


@dataclass
class ColourThresholdClassifier:
    """The demo's stand-in for a trained network: class 1 when the edge density passes a threshold."""

    threshold: float

    def predict(self, data: Mapping[str, Sequence[float]] | Any) -> list[int]:
        """One class per row of a DataFrame (or a dict of columns)."""
        return [int(float(value) >= self.threshold) for value in data["edge_density"]]


def image_dataset(split: str, rows: int, digest: str, context: str) -> DatasetInput:
    """A CIFAR-10-like image dataset input, as mlflow.log_input records a numpy source."""
    profile = {"features_shape": [rows, 32, 32, 3], "targets_shape": [rows]}
    dataset = Dataset(
        name=f"cifar10-mini-{split}",
        digest=digest,
        source_type="local",
        source=json.dumps({"uri": f"/data/cifar10-mini/{split}"}),
        schema=json.dumps({"mlflow_tensorspec": {"features": IMAGES, "targets": LABELS}}),
        profile=json.dumps(profile),
    )
    return DatasetInput(dataset, [InputTag(DATASET_CONTEXT_TAG, context)])


def log_datasets(client: TrackingClient, run_id: str, augmented: bool = False) -> None:
    """The training and validation splits a baseline read (the augmented training set has its own digest)."""
    train_digest = "7c41e9a2" if augmented else "3f9a1c2e"
    client.log_inputs(
        run_id,
        [
            image_dataset("train", 5000, train_digest, "training"),
            image_dataset("val", 1000, "b2d07f55", "validation"),
        ],
    )


def log_demo_model(client: TrackingClient, run_id: str) -> None:
    """The run's model, logged with runyard.log_model (a pickle: the demo's own class)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the pickle warning is for users' models, not the demo's
        client.log_model(run_id, ColourThresholdClassifier(0.2), "model", input_example=EXAMPLE)
