"""Models as run artifacts: log_model, load_model, predict, and the snippet that loads one and predicts.

A model is stored under `<name>/` in the run's artifacts with an `MLmodel` descriptor in MLflow's format
(flavors, signature inferred from the input example, the example itself), so that for scikit-learn
`mlflow.sklearn.load_model` / `mlflow.pyfunc.load_model` read the same directory. Flavors:
- `sklearn`: estimators and pipelines, saved with skops (the safe default: `runyard[models]`), or with
  pickle when asked (`serialization_format="pickle"`);
- `runyard_pickle`: any other picklable object (loading a pickle runs code: a warning says so);
- `runyard_files`: a directory of files as-is (a PyTorch or Hugging Face checkpoint), under `data/`.
Loading a pickle, or a skops file that needs types skops does not trust by default, requires
`trusted=True` (or RUNYARD_TRUST_PICKLES=1) and says what it would load.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runyard.exceptions import InvalidInput, MissingExtra

MODEL_FILE = "MLmodel"
TRUST_ENV = "RUNYARD_TRUST_PICKLES"
SKLEARN, PICKLE, FILES = "sklearn", "runyard_pickle", "runyard_files"
_NUMPY_TYPES = {"f": "double", "i": "long", "u": "long", "b": "boolean", "O": "string", "U": "string"}


@dataclass
class ModelInfo:
    """What log_model stored: where, which flavor, and the schema a prediction takes."""

    run_id: str
    name: str
    flavor: str
    model_uri: str
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    input_example: dict[str, Any] | None = None
    library_versions: dict[str, str] = field(default_factory=dict)


# ----------------------------------------------------------------------------- saving
def save_model(
    model: Any,
    directory: str | os.PathLike[str],
    input_example: Any = None,
    serialization_format: str | None = None,
    run_id: str | None = None,
    name: str = "model",
) -> ModelInfo:
    """Write a model and its MLmodel descriptor into an empty or new directory."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    flavors: dict[str, Any] = {}
    versions = {"python": platform.python_version()}
    if isinstance(model, (str, os.PathLike)):
        source = Path(model)
        if not source.is_dir():
            raise InvalidInput(
                f"log_model got the string {os.fspath(model)!r}, which is not a directory: pass a model "
                "object, or the path of a directory of model files (a checkpoint)."
            )
        shutil.copytree(source, target / "data", symlinks=False)
        flavor = FILES
        flavors[FILES] = {"data": "data"}
    elif _is_sklearn(model):
        flavor = SKLEARN
        flavors.update(_save_sklearn(model, target, serialization_format, versions))
    else:
        flavor = PICKLE
        warnings.warn(
            f"runyard: {_class_name(model)} is stored with pickle; loading it runs code from the file, "
            "so load it only from a run you trust (load_model(..., trusted=True)).",
            stacklevel=3,
        )
        import pickle

        try:
            data = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # noqa: BLE001 - any pickling failure is the same user error
            raise InvalidInput(f"log_model cannot pickle {type(model).__qualname__}: {error}") from None
        (target / "model.pkl").write_bytes(data)
        flavors[PICKLE] = {"model_path": "model.pkl", "python_class": _class_name(model)}
    inputs, example, example_info = _example_and_schema(input_example, target)
    outputs = _output_schema(model, input_example) if flavor == SKLEARN else []
    descriptor: dict[str, Any] = {
        "artifact_path": name,
        "flavors": flavors,
        "model_uuid": uuid.uuid4().hex,
        "run_id": run_id,
        "runyard": {"flavor": flavor, "library_versions": versions},
        "utc_time_created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
    }
    if inputs:
        descriptor["signature"] = {
            "inputs": json.dumps(inputs),
            "outputs": json.dumps(outputs) if outputs else None,
            "params": None,
        }
    if example_info:
        descriptor["saved_input_example_info"] = example_info
    (target / MODEL_FILE).write_text(to_yaml(descriptor))
    return ModelInfo(run_id or "", name, flavor, f"runs:/{run_id}/{name}", inputs, outputs, example, versions)


def _is_sklearn(model: Any) -> bool:
    return any(cls.__module__.startswith("sklearn.") for cls in type(model).__mro__)


def _class_name(model: Any) -> str:
    return f"{type(model).__module__}.{type(model).__qualname__}"


def _save_sklearn(
    model: Any, target: Path, serialization_format: str | None, versions: dict[str, str]
) -> dict[str, Any]:
    import sklearn

    versions["scikit-learn"] = sklearn.__version__
    chosen = serialization_format or "skops"
    trusted: list[str] | None = None
    if chosen == "skops":
        try:
            import skops
            import skops.io
        except ImportError:
            raise MissingExtra(
                "Saving a scikit-learn model safely needs skops: pip install 'runyard[models]' "
                "(or pass serialization_format='pickle' to store it with pickle)."
            ) from None
        versions["skops"] = skops.__version__
        data_file = "model.skops"
        skops.io.dump(model, target / data_file)
        trusted = skops.io.get_untrusted_types(file=target / data_file) or None
    elif chosen == "pickle":
        import pickle

        data_file = "model.pkl"
        (target / data_file).write_bytes(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    else:
        raise InvalidInput(f"Unknown serialization_format {chosen!r}: use 'skops' (safe) or 'pickle'.")
    python_function = {
        "loader_module": "mlflow.sklearn",
        "model_path": data_file,
        "predict_fn": "predict",
        "python_version": platform.python_version(),
    }
    return {
        "python_function": python_function,
        "sklearn": {
            "code": None,
            "pickled_model": data_file,
            "serialization_format": chosen,
            "sklearn_version": sklearn.__version__,
            "skops_trusted_types": trusted,
        },
    }


def _example_and_schema(
    example: Any, target: Path
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, Any] | None]:
    """Column schema and the saved example (MLflow's split orient) of a DataFrame, dict or array."""
    if example is None:
        return [], None, None
    columns, rows = _columns_and_rows(example)
    if columns is None:
        return [], None, None
    schema = [{"type": kind, "name": name, "required": True} for name, kind in columns]
    split = {"columns": [name for name, _ in columns], "data": rows}
    (target / "input_example.json").write_text(json.dumps(split, default=_plain))
    info = {"artifact_path": "input_example.json", "pandas_orient": "split", "type": "dataframe"}
    return schema, split, info


def _columns_and_rows(example: Any) -> tuple[list[tuple[str, str]] | None, list[list[Any]]]:
    if hasattr(example, "dtypes") and hasattr(example, "columns"):  # a pandas DataFrame
        head = example.head(5)
        columns = [(str(name), _NUMPY_TYPES.get(dtype.kind, "string")) for name, dtype in head.dtypes.items()]
        return columns, head.values.tolist()
    if isinstance(example, Mapping):
        columns = [(str(name), _python_type(value)) for name, value in example.items()]
        return columns, [list(example.values())]
    if hasattr(example, "dtype") and hasattr(example, "shape"):  # a numpy array: columns by position
        rows = example.reshape(1, -1) if example.ndim == 1 else example[:5]
        kind = _NUMPY_TYPES.get(example.dtype.kind, "string")
        return [(str(i), kind) for i in range(rows.shape[1])], rows.tolist()
    return None, []


def _python_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    return "string"


def _output_schema(model: Any, example: Any) -> list[dict[str, Any]]:
    if example is None or not hasattr(model, "predict"):
        return []
    try:
        predicted = model.predict(example)
    except Exception:  # noqa: BLE001 - no output schema when the example cannot be predicted
        return []
    kind = _NUMPY_TYPES.get(getattr(getattr(predicted, "dtype", None), "kind", "O"), "string")
    return [{"type": kind, "required": True}]


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else str(value)


# ----------------------------------------------------------------------------- loading
def read_descriptor(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """The MLmodel descriptor of a saved model directory."""
    path = Path(directory) / MODEL_FILE
    if not path.is_file():
        raise InvalidInput(f"{directory} is not a logged model: it has no {MODEL_FILE} file.")
    return from_yaml(path.read_text())


def load_model_from_directory(directory: str | os.PathLike[str], trusted: bool = False) -> Any:
    """The model object saved in a directory (a directory-of-files model returns its data path)."""
    root = Path(directory)
    descriptor = read_descriptor(root)
    flavors = descriptor.get("flavors") or {}
    trusted = trusted or os.environ.get(TRUST_ENV, "").strip().lower() in ("1", "true", "yes")
    if FILES in flavors:
        return str(root / flavors[FILES].get("data", "data"))
    if "sklearn" in flavors:
        conf = flavors["sklearn"]
        data = root / conf["pickled_model"]
        if conf.get("serialization_format") == "skops":
            try:
                import skops.io
            except ImportError:
                raise MissingExtra("Loading this model needs skops: pip install 'runyard[models]'.") from None
            needed = skops.io.get_untrusted_types(file=data)
            if needed and not trusted:
                raise InvalidInput(
                    f"This model needs types skops does not trust by default ({', '.join(needed)}): load "
                    "it with trusted=True (or RUNYARD_TRUST_PICKLES=1) if you trust the run it came from."
                )
            return skops.io.load(data, trusted=needed or None)
        return _unpickle(data, "a scikit-learn model", trusted)
    if PICKLE in flavors:
        conf = flavors[PICKLE]
        return _unpickle(root / conf["model_path"], conf.get("python_class", "an object"), trusted)
    raise InvalidInput(f"No flavor runyard can load in {root / MODEL_FILE}: {', '.join(flavors) or 'none'}.")


def _unpickle(path: Path, what: str, trusted: bool) -> Any:
    if not trusted:
        raise InvalidInput(
            f"{path.name} is a pickle of {what}: unpickling runs code from the file. Load it with "
            "trusted=True (or RUNYARD_TRUST_PICKLES=1) only if you trust the run it came from."
        )
    import pickle

    print(f"runyard: unpickling {what} from {path}", flush=True)  # noqa: T201 - the user asked to see it
    with open(path, "rb") as handle:
        return pickle.load(handle)  # noqa: S301 - trusted=True was given


def split_model_uri(model_uri: str) -> tuple[str, str] | None:
    """(run_id, artifact path) of `runs:/<run_id>/<path>`, or None for a local path."""
    if not model_uri.startswith("runs:/"):
        return None
    rest = model_uri[len("runs:/") :].strip("/")
    run_id, _, path = rest.partition("/")
    if not run_id or not path:
        raise InvalidInput(f"Bad model URI {model_uri!r}: use runs:/<run_id>/<model name>.")
    return run_id, path


def logged_model_id(model_uri: str) -> str | None:
    """The model id of `models:/<model_id>` (MLflow 3's logged model), or None for another URI."""
    if not model_uri.startswith("models:/"):
        return None
    model_id = model_uri[len("models:/") :].strip("/")
    if not model_id or "/" in model_id or "@" in model_id:
        raise InvalidInput(
            f"Bad model URI {model_uri!r}: runyard has no model registry; load a logged model by its id "
            "(models:/m-...) or a run's model (runs:/<run_id>/<name>)."
        )
    return model_id


def fetch_model(client: Any, model_uri: str) -> Path:
    """A local directory holding the model: the path itself, or a download of `runs:/...` / `models:/...`.

    From a tracking server the files go to the artifact cache (RUNYARD_CACHE_DIR), replacing an older
    copy of the same model; from a local store to a new temporary directory.
    """
    model_id = logged_model_id(model_uri)
    if model_id is not None:
        model = client.get_logged_model(model_id)
        return _download_model(
            client.logged_model_artifacts(model_id),
            "",
            lambda: f"Logged model {model_id} has no {MODEL_FILE} file (its status: {model.status}).",
        )
    parts = split_model_uri(model_uri)
    if parts is None:
        return Path(model_uri).expanduser()
    run_id, path = parts

    def missing() -> str:
        from runyard.tracking.run_contents import model_names

        names = ", ".join(model_names(client.get_run(run_id))) or "none recorded"
        return (
            f"Run {run_id} has no model {path!r} (no {path}/{MODEL_FILE} among its artifacts; its "
            f"models: {names}): use runs:/<run_id>/<name> with the name given to log_model."
        )

    return _download_model(client.artifact_repository(run_id), path, missing)


def _download_model(repository: Any, path: str, missing: Callable[[], str]) -> Path:
    """Download a model directory of an artifact repository (local or a server's), checked to hold one."""
    descriptor = f"{path}/{MODEL_FILE}" if path else MODEL_FILE
    if not any(entry.path == descriptor for entry in repository.list(path or None)):
        raise InvalidInput(missing())
    cache = getattr(repository, "cache", None)  # a server's artifacts are downloaded into a cache
    if isinstance(cache, Path):
        target = cache / (path or "artifacts")
        shutil.rmtree(target, ignore_errors=True)
        return Path(repository.download(path or None, target.parent))
    return Path(repository.download(path or None, tempfile.mkdtemp(prefix="runyard-model-")))


def predict(model: Any, data: Any) -> Any:
    """The model's predictions for a pandas DataFrame (or anything its predict method takes)."""
    if not hasattr(model, "predict"):
        raise InvalidInput(f"{type(model).__qualname__} has no predict method.")
    return model.predict(data)


# ----------------------------------------------------------------------------- the snippet
def prediction_snippet(
    run_id: str, name: str, descriptor: Mapping[str, Any], model_uri: str | None = None
) -> str:
    """Ready-to-paste Python that loads the model, builds a DataFrame from its schema and predicts.

    The model is loaded from `runs:/<run_id>/<name>` unless another URI is given (`models:/<model_id>`).
    """
    flavors = descriptor.get("flavors") or {}
    flavor = (descriptor.get("runyard") or {}).get("flavor") or next(iter(flavors), "")
    uri = model_uri or f"runs:/{run_id}/{name}"
    if flavor == FILES:
        return (
            f'import runyard\n\npath = runyard.load_model("{uri}")  # a local directory of the model files\n'
        )
    signature = descriptor.get("signature") or {}
    try:
        columns = json.loads(signature.get("inputs") or "[]")
    except ValueError:
        columns = []
    sklearn = flavors.get(SKLEARN) if isinstance(flavors.get(SKLEARN), Mapping) else None
    if sklearn is None and PICKLE not in flavors and "python_function" in flavors:
        loader = ["import mlflow", "", f'model = mlflow.pyfunc.load_model("{uri}")']
    else:
        pickled = flavor == PICKLE or (sklearn is not None and sklearn.get("serialization_format") != "skops")
        trusted = ", trusted=True" if pickled else ""
        loader = ["import runyard", "", f'model = runyard.load_model("{uri}"{trusted})']
    named = [col for col in columns if isinstance(col, dict) and "name" in col]
    tensors = [col for col in columns if isinstance(col, dict) and col.get("type") == "tensor"]
    if named:
        example = _snippet_values(named)
        lines = ["import pandas as pd", *loader, "data = pd.DataFrame({"]
        lines += [f"    {col['name']!r}: [{example[col['name']]}]," for col in named]
        lines.append("})")
    elif tensors:
        spec = tensors[0].get("tensor-spec") or {}
        shape = [1 if not isinstance(n, int) or n < 0 else n for n in spec.get("shape") or [-1]]
        dtype = spec.get("dtype", "float64")
        lines = ["import numpy as np", *loader, f"data = np.zeros({tuple(shape)!r}, dtype={dtype!r})"]
    else:
        lines = ["import pandas as pd", *loader]
        lines.append("data = pd.DataFrame({...})  # the columns the model was trained on")
    lines.append("print(model.predict(data))")
    return "\n".join(lines) + "\n"


def _snippet_values(columns: list[dict[str, Any]]) -> dict[str, str]:
    defaults = {"double": "0.0", "float": "0.0", "long": "0", "integer": "0", "boolean": "False"}
    return {col["name"]: defaults.get(col.get("type", ""), "''") for col in columns if "name" in col}


# ----------------------------------------------------------------------------- a small YAML
def to_yaml(value: Mapping[str, Any], indent: int = 0) -> str:
    """Block YAML of nested dicts, lists and scalars (what MLmodel files hold); keys sorted as MLflow does."""
    pad = "  " * indent
    out: list[str] = []
    for key in sorted(value):
        item = value[key]
        if isinstance(item, Mapping) and item:
            out.append(f"{pad}{key}:\n{to_yaml(item, indent + 1)}")
        elif isinstance(item, list) and item:
            out.append(f"{pad}{key}:\n" + "".join(f"{pad}- {_scalar(entry)}\n" for entry in item))
        else:
            out.append(f"{pad}{key}: {_scalar(item)}\n")
    return "".join(out)


def _scalar(value: Any) -> str:
    if value is None or value == {} or value == []:
        return "null" if value is None else ("{}" if value == {} else "[]")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))  # a double-quoted YAML scalar: JSON string escapes are valid YAML


def from_yaml(text: str) -> dict[str, Any]:
    """Read an MLmodel file: with PyYAML when installed, else the subset to_yaml writes."""
    try:
        import yaml
    except ImportError:
        return _parse_block(text.splitlines(), 0, 0)[0]
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as error:
        problem = str(error).strip().splitlines()[0] if str(error).strip() else "unreadable"
        raise InvalidInput(f"The {MODEL_FILE} file is not valid YAML ({problem}).") from None
    return loaded if isinstance(loaded, dict) else {}


def _parse_block(lines: list[str], start: int, indent: int) -> tuple[dict[str, Any], int]:
    result: dict[str, Any] = {}
    index = start
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            index += 1
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        if depth < indent:
            break
        key, _, rest = line.strip().partition(":")
        rest = rest.strip()
        index += 1
        if rest:
            result[key] = _parse_scalar(rest)
        elif index < len(lines) and lines[index].strip().startswith("- "):
            items = []
            while index < len(lines) and lines[index].strip().startswith("- "):
                items.append(_parse_scalar(lines[index].strip()[2:]))
                index += 1
            result[key] = items
        else:
            result[key], index = _parse_block(lines, index, indent + 1)
    return result, index


def _parse_scalar(text: str) -> Any:
    if text in ("null", "~"):
        return None
    if text in ("true", "false"):
        return text == "true"
    if text == "{}":
        return {}
    if text == "[]":
        return []
    if text.startswith('"'):
        return json.loads(text)
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text
