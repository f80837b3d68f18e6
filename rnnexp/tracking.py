"""Everything that talks to MLflow. The only module that imports it (lazily,
inside the Tracker), so the fast paths of the CLI never pay for the import.

A run's status always ends honest: FINISHED, FAILED (error recorded as the tag
`rnnexp.error`) or KILLED (interrupt), never left RUNNING.
"""

import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Sequence

from rnnexp.params import MAX_PARAMS_PER_BATCH, batches

PARENT_TAG = "mlflow.parentRunId"
ERROR_TAG = "rnnexp.error"
ROLE_TAG = "rnnexp.role"  # "sweep" on a sweep's parent run, "point" on its children, "single" otherwise
MODEL_URI_TAG = "rnnexp.model_uri"  # a trained run's logged model, for mlflow.pyfunc.load_model


class Tracker:
    """An MLflow client bound to one tracking store and experiment.

    Args:
        tracking_uri: None for MLflow's default (MLFLOW_TRACKING_URI, else
            sqlite:///mlflow.db plus ./mlruns in the working folder).
        experiment_name: created if missing.
    """

    def __init__(self, tracking_uri: Optional[str], experiment_name: str):
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(tracking_uri)
        self.tracking_uri = self.client._tracking_client.tracking_uri
        self.experiment_name = experiment_name
        self.experiment_id = self._get_or_create_experiment(experiment_name)

    def _get_or_create_experiment(self, name: str) -> str:
        from mlflow.exceptions import MlflowException

        experiment = self.client.get_experiment_by_name(name)
        if experiment is not None:
            return experiment.experiment_id
        try:
            return self.client.create_experiment(name)
        except MlflowException:  # created meanwhile by a parallel job
            return self.client.get_experiment_by_name(name).experiment_id

    @contextmanager
    def run(self, name: str, params: Mapping[str, str], tags: Mapping[str, str],
            parent_run_id: Optional[str] = None) -> Iterator[str]:
        """Creates a run, logs its params, yields its id, and ends it with the
        status its body earned: FINISHED, KILLED on an interrupt, else FAILED."""
        run_id = self.create_run(name, tags, parent_run_id)
        try:
            self.log_params(run_id, params)
            yield run_id
        except BaseException as error:
            self.end(run_id, error)
            raise
        else:
            self.end(run_id, None)

    def end(self, run_id: str, error: Optional[BaseException]) -> None:
        """Ends a run: FINISHED without an error, KILLED for an interrupt
        (KeyboardInterrupt, SystemExit), FAILED otherwise, with the error as a tag."""
        if error is None:
            self.terminate(run_id, "FINISHED")
            return
        killed = isinstance(error, (KeyboardInterrupt, SystemExit))
        message = f"{type(error).__name__}: {error}"[:5000]
        self.set_tags(run_id, {ERROR_TAG: message})
        self.terminate(run_id, "KILLED" if killed else "FAILED")

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        from mlflow.entities import Param

        items = [Param(k, v) for k, v in params.items()]
        for chunk in batches(items, MAX_PARAMS_PER_BATCH):
            self.client.log_batch(run_id, params=chunk)

    def log_metrics(self, run_id: str, metrics: Mapping[str, float], step: int = 0) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, step) for k, v in metrics.items()]
        for chunk in batches(items, 1000):
            self.client.log_batch(run_id, metrics=chunk)

    def log_metric_series(self, run_id: str, series: Mapping[str, Sequence[float]], first_step: int = 1) -> None:
        """Logs each named list of values as one metric whose steps count up from
        `first_step` (e.g. a loss per epoch, so the UI draws the curve), in as
        few calls as MLflow allows."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(name, float(value), now, first_step + i)
                 for name, values in series.items() for i, value in enumerate(values)]
        for chunk in batches(items, 1000):
            self.client.log_batch(run_id, metrics=chunk)

    def log_keras_model(self, run_id: str, keras_model, vocab_size: int, step: int = 0) -> str:
        """Logs a trained next-character model with MLflow's Keras 3 flavor, as an
        MLflow 3 LoggedModel that is an output of the run (its metrics at `step`
        are linked to the model), and tags the run with the model's URI.

        The signature takes and returns float32 (batch, steps, vocab_size)
        tensors of any batch size and length, so that
        `mlflow.pyfunc.load_model(uri).predict(one_hot_batch)` gives the
        next-character probabilities.

        Returns:
            The model's URI, `models:/<model_id>`.
        """
        import numpy as np
        import mlflow.keras
        from mlflow.models import Model, ModelSignature
        from mlflow.types import Schema, TensorSpec

        tensor = TensorSpec(np.dtype(np.float32), (-1, -1, vocab_size))
        signature = ModelSignature(inputs=Schema([tensor]), outputs=Schema([tensor]))
        # Created here rather than by Model.log, which would put it in the
        # process's active experiment (the Default one), not the run's.
        logged = self.client.create_logged_model(
            self.experiment_id, name="model", source_run_id=run_id,
            params=dict(self.client.get_run(run_id).data.params), model_type="keras",
        )
        with self._as_default_store():
            info = Model.log(artifact_path=None, name="model", flavor=mlflow.keras, model=keras_model,
                             run_id=run_id, model_id=logged.model_id, signature=signature,
                             pip_requirements=_keras_requirements(), step=step)
        self.set_tags(run_id, {MODEL_URI_TAG: info.model_uri})
        return info.model_uri

    @contextmanager
    def _as_default_store(self) -> Iterator[None]:
        """Points MLflow's process-wide tracking URI at this tracker's store for
        the duration: model logging resolves the store from it, not from a client."""
        import mlflow

        if mlflow.get_tracking_uri() == self.tracking_uri:
            yield
            return
        # set_tracking_uri mirrors its value into this variable; put back what it was.
        env_before = os.environ.get("MLFLOW_TRACKING_URI")
        mlflow.set_tracking_uri(self.tracking_uri)
        try:
            yield
        finally:
            mlflow.set_tracking_uri(None)
            if env_before is not None:
                os.environ["MLFLOW_TRACKING_URI"] = env_before

    def log_folder(self, run_id: str, folder: Path, artifact_path: Optional[str] = None) -> None:
        """Uploads every file under `folder`, keeping its layout, in one call."""
        self.client.log_artifacts(run_id, str(folder), artifact_path)

    def write_and_log(self, run_id: str, writer: Callable[..., object], *args,
                      artifact_path: Optional[str] = None) -> None:
        """Calls `writer(folder, *args)` on an empty temporary folder and logs
        what it wrote. Artifacts are produced through here, not written by the
        caller, so that a tracker may produce them where it likes (`writer`
        must be a module-level function, and `args` plain values)."""
        with tempfile.TemporaryDirectory(prefix="rnnexp-") as tmp:
            writer(Path(tmp), *args)
            self.log_folder(run_id, Path(tmp), artifact_path)

    def terminate(self, run_id: str, status: str) -> None:
        self.client.set_terminated(run_id, status)

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        from mlflow.entities import RunTag

        self.client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def create_run(self, name: str, tags: Mapping[str, str], parent_run_id: Optional[str] = None) -> str:
        tags = dict(tags)
        if parent_run_id:
            tags[PARENT_TAG] = parent_run_id
        return self.client.create_run(self.experiment_id, run_name=name, tags=tags).info.run_id

    def children(self, parent_run_id: str) -> List[Dict]:
        """The runs nested under `parent_run_id`, oldest first, as plain dicts
        with keys run_id, name, status, params, metrics, tags."""
        runs = self.client.search_runs(
            [self.experiment_id], filter_string=f"tags.`{PARENT_TAG}` = '{parent_run_id}'",
            order_by=["attributes.start_time ASC"], max_results=50000,
        )
        return [
            {"run_id": r.info.run_id, "name": r.info.run_name, "status": r.info.status,
             "params": dict(r.data.params), "metrics": dict(r.data.metrics), "tags": dict(r.data.tags)}
            for r in runs
        ]

    def run_url(self, run_id: str) -> str:
        """Where the run is in the UI: a full address for a server, else the
        fragment to open in `mlflow ui`."""
        fragment = f"#/experiments/{self.experiment_id}/runs/{run_id}"
        if self.tracking_uri.startswith(("http://", "https://")):
            return f"{self.tracking_uri.rstrip('/')}/{fragment}"
        return fragment


def _keras_requirements() -> List[str]:
    """The logged model's pip requirements, pinned to what trained it. Given
    explicitly, because MLflow would otherwise infer them by loading the model
    in a fresh Python process (seconds of TensorFlow import per run)."""
    from importlib.metadata import PackageNotFoundError, version

    pins = [f"keras=={version('keras')}"]
    for backend in ("tensorflow-cpu", "tensorflow"):  # whichever distribution installed TensorFlow
        try:
            return pins + [f"{backend}=={version(backend)}"]
        except PackageNotFoundError:
            continue
    return pins
