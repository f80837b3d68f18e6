"""A trained Keras model as an MLflow 3 LoggedModel, in two steps that may
run in two processes: `save_keras_model` writes it in MLflow's format with
MLflow's Keras flavor where the model is (the CLI, which has TensorFlow), and
`log_saved_model` logs that folder through a client (the tracking worker,
which never imports TensorFlow): created in the run's experiment as an
output of the run, its metrics at the model's step linked to it, and the run
tagged with `models:/<model id>`. Only public MLflow APIs; MLflow's
process-wide tracking URI is never touched.
"""

from pathlib import Path
from typing import List, Mapping, Sequence, Tuple

from rnnexp.frozen_imports import import_frozen
from rnnexp.tracking.run_record import SavedModel
from rnnexp.tracking.tags import MODEL_URI_TAG

MODEL_NAME = "model"


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


def save_keras_model(folder: Path, keras_model, vocab_size: int, step: int) -> SavedModel:
    """Saves a next-character model into `folder` (which must not exist yet)
    with MLflow's Keras flavor. Its signature takes and returns float32
    (batch, steps, vocab_size) tensors of any batch size and length, so that
    `mlflow.pyfunc.load_model(uri).predict(one_hot_batch)` gives the
    next-character probabilities.

    Args:
        step: the run's step (its last epoch) whose metrics describe this model.
    """
    import numpy as np

    mlflow_keras = import_frozen("mlflow.keras")
    from mlflow.models import ModelSignature
    from mlflow.types import Schema, TensorSpec

    tensor = TensorSpec(np.dtype(np.float32), (-1, -1, vocab_size))
    signature = ModelSignature(inputs=Schema([tensor]), outputs=Schema([tensor]))
    mlflow_keras.save_model(keras_model, str(folder), signature=signature, pip_requirements=pip_requirements())
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
