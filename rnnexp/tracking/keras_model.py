"""A trained Keras model as an MLflow 3 LoggedModel, in two steps that may
run in two processes: `save_keras_model` writes it in MLflow's format with
MLflow's Keras flavor where the model is (the CLI, which has TensorFlow), and
`log_saved_model` logs that folder through a client (the tracking worker,
which never imports TensorFlow): created in the run's experiment as an
output of the run, its metrics at the model's step linked to it, and the run
tagged with `models:/<model id>`. And back, for `task=generate`:
`load_source_model` downloads a logged model from the configured store
(`mlflow.artifacts.download_artifacts` with its `tracking_uri` argument) and
loads it with `mlflow.keras.load_model`, with the vocabulary the model keeps
in its metadata (for a model logged without it: its run's `data.vocab` param).
Only public MLflow APIs; MLflow's process-wide tracking URI is never touched.
"""

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Mapping, Optional, Sequence, Tuple

from rnnexp.errors import ConfigError
from rnnexp.frozen_imports import import_frozen
from rnnexp.tracking.run_record import TRUNCATION_MARKER, SavedModel
from rnnexp.tracking.tags import MODEL_URI_TAG

MODEL_NAME = "model"
# In the model's MLmodel file (its `metadata`), so that the model alone is
# enough to generate with (`load_source_model`): the vocabulary in
# one-hot order, and the first character of the training data (the default prompt).
VOCAB_KEY = "rnnexp.vocab"
FIRST_CHAR_KEY = "rnnexp.first_char"


def pip_requirements() -> List[str]:
    """Keras and TensorFlow pinned to the installed versions. Given rather than
    inferred: MLflow would infer them by loading the model in a new Python
    process (seconds of TensorFlow import per run)."""
    from importlib.metadata import PackageNotFoundError, version

    pins = [f"keras=={version('keras')}"]
    for backend in ("tensorflow-cpu", "tensorflow"):  # whichever distribution installed TensorFlow
        try:
            return pins + [f"{backend}=={version(backend)}"]
        except PackageNotFoundError:
            continue
    return pins


def save_keras_model(folder: Path, keras_model, vocab: Sequence[str], first_char: str, step: int) -> SavedModel:
    """Saves a next-character model into `folder` (which must not exist yet)
    with MLflow's Keras flavor. Its signature takes and returns float32
    (batch, steps, V) tensors of any batch size and length, so that
    `mlflow.pyfunc.load_model(uri).predict(one_hot_batch)` gives the
    next-character probabilities.

    Args:
        vocab: the V tokens in one-hot order, kept in the model's metadata
            (VOCAB_KEY) with `first_char` (FIRST_CHAR_KEY).
        step: the run's step (its last epoch) whose metrics describe this model.
    """
    vocab_size = len(vocab)
    import numpy as np

    mlflow_keras = import_frozen("mlflow.keras")
    from mlflow.models import ModelSignature
    from mlflow.types import Schema, TensorSpec

    tensor = TensorSpec(np.dtype(np.float32), (-1, -1, vocab_size))
    signature = ModelSignature(inputs=Schema([tensor]), outputs=Schema([tensor]))
    mlflow_keras.save_model(keras_model, str(folder), signature=signature, pip_requirements=pip_requirements(),
                            metadata={VOCAB_KEY: list(vocab), FIRST_CHAR_KEY: first_char})
    return SavedModel(folder=Path(folder), step=step)


def log_saved_model(client, experiment_id: str, run_id: str, saved: SavedModel, params: Mapping[str, str],
                    metrics: Sequence[Tuple[str, float, int, int]]) -> str:
    """Logs a folder from `save_keras_model` as a LoggedModel of run `run_id`
    and tags the run with its URI; returns the URI, `models:/<model id>`.

    Args:
        params: copied to the model, as MLflow's own model logging does.
        metrics: the run's (key, value, ms, step); those at the model's step
            are logged again linked to the model (the UI's Models tab shows them).
    """
    from mlflow.entities import LoggedModelOutput, LoggedModelStatus, Metric, RunTag
    from mlflow.models import Model

    logged = client.create_logged_model(experiment_id, name=MODEL_NAME, source_run_id=run_id,
                                        params=dict(params), model_type="keras")
    description = Path(saved.folder) / "MLmodel"
    model = Model.load(str(description))  # what MLflow's Model.log records in it, once the model has an id
    model.run_id, model.model_id, model.model_uuid = run_id, logged.model_id, logged.model_id
    model.artifact_path = logged.artifact_location
    model.save(str(description))
    client.log_model_artifacts(logged.model_id, str(saved.folder))
    client.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
    client.log_outputs(run_id, [LoggedModelOutput(logged.model_id, step=saved.step)])
    uri = f"models:/{logged.model_id}"
    linked = [Metric(key, value, ms, step, model_id=logged.model_id) for key, value, ms, step in metrics
              if step == saved.step]
    client.log_batch(run_id, metrics=linked, tags=[RunTag(MODEL_URI_TAG, uri)])
    return uri


MODEL_URI_KEY = "generate.model_uri"  # the config key a bad URI is reported under


@dataclass(frozen=True)
class SourceModel:
    uri: str  # as configured: models:/<model id> or runs:/<run id>/<path>
    keras_model: object  # (None, None, V) one-hot -> (None, None, V) next-character probabilities
    vocab: List[str]  # the V tokens in one-hot order
    first_char: Optional[str]  # the first character it was trained on (the default prompt), if known
    run_id: Optional[str]  # the run that logged it


def load_source_model(uri: str, tracking_uri: Optional[str]) -> SourceModel:
    """Loads the model `uri` names from the store at `tracking_uri`.

    Raises:
        ConfigError: no such model, or one without a known vocabulary.
    """
    from mlflow.artifacts import download_artifacts
    from mlflow.keras import load_model
    from mlflow.models import Model

    folder = tempfile.mkdtemp(prefix="rnnexp-source-")
    try:
        try:
            local = download_artifacts(artifact_uri=uri, dst_path=folder, tracking_uri=tracking_uri)
        except Exception as error:  # noqa: BLE001  MlflowException, OSError: the store has no such model
            first_line = (str(error).strip().splitlines() or [""])[0]  # the CLI prints one line
            raise ConfigError(MODEL_URI_KEY, uri, "a model logged in the store",
                              f"{type(error).__name__}: {first_line}") from None
        if not (Path(local) / "MLmodel").is_file():
            raise ConfigError(MODEL_URI_KEY, uri, "a logged model (a folder with an MLmodel file)", f"got {local}")
        description = Model.load(str(Path(local) / "MLmodel"))
        metadata = description.metadata or {}
        run_id = description.run_id or (uri.split("/")[1] if uri.startswith("runs:/") else None)
        vocab = metadata.get(VOCAB_KEY) or vocab_of_run(run_id, tracking_uri, uri)
        return SourceModel(uri=uri, keras_model=load_model(local), vocab=list(vocab),
                           first_char=metadata.get(FIRST_CHAR_KEY), run_id=run_id)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def vocab_of_run(run_id: Optional[str], tracking_uri: Optional[str], uri: str) -> List[str]:
    """The `data.vocab` param of run `run_id`, for a model logged without its vocabulary."""
    from mlflow.tracking import MlflowClient

    value = MlflowClient(tracking_uri).get_run(run_id).data.params.get("data.vocab") if run_id else None
    if not value or value.endswith(TRUNCATION_MARKER):
        raise ConfigError(MODEL_URI_KEY, uri, "a model logged with its vocabulary",
                          f"neither the model nor its run ({run_id}) records the whole data.vocab")
    return json.loads(value)
