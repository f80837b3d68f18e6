"""Everything that talks to MLflow. The only module that imports it (lazily,
inside the Tracker), so the fast paths of the CLI never pay for the import.

A run's status always ends honest: FINISHED, FAILED (error recorded as the tag
`rnnexp.error`) or KILLED (interrupt), never left RUNNING.
"""

import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Sequence

from rnnexp.heavy_imports import collector_paused
from rnnexp.interrupts import deferred_interrupts
from rnnexp.params import MAX_PARAMS_PER_BATCH, batches
from rnnexp.store_retry import LockRetryingClient

PARENT_TAG = "mlflow.parentRunId"
ERROR_TAG = "rnnexp.error"
ROLE_TAG = "rnnexp.role"  # "sweep" on a sweep's parent run, "point" on its children, "single" otherwise
MODEL_URI_TAG = "rnnexp.model_uri"  # a trained run's logged model, for mlflow.pyfunc.load_model
SHAPES_TAG = "rnnexp.shapes"  # JSON {"inputs": [B, T, V], ...}, so a table of runs needs no artifact download


def error_text(error: BaseException) -> str:
    """What the `rnnexp.error` tag says: "Type: message", or the type alone
    when the message is empty (Ctrl-C), within MLflow's tag length."""
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return text[:5000]


class Tracker:
    """An MLflow client bound to one tracking store and experiment.

    Args:
        tracking_uri: None for MLflow's default (MLFLOW_TRACKING_URI, else
            sqlite:///mlflow.db plus ./mlruns in the working folder).
        experiment_name: created if missing, unless `create` is False.
        create: False to only read: a missing store or experiment raises
            LookupError (and no empty store is left behind).
    """

    def __init__(self, tracking_uri: Optional[str], experiment_name: str, create: bool = True):
        with collector_paused():  # MLflow's import and a new store's tables, see rnnexp.heavy_imports
            from mlflow.tracking import MlflowClient, get_tracking_uri

            if not create:  # before the client: opening a SQLite store creates it
                _check_store_exists(tracking_uri or get_tracking_uri())
            self.client = LockRetryingClient(MlflowClient(tracking_uri))
        self.tracking_uri = self.client._tracking_client.tracking_uri
        self.experiment_name = experiment_name
        if create:
            self.experiment_id = self._get_or_create_experiment(experiment_name)
        else:
            self.experiment_id = self._existing_experiment(experiment_name)

    def _existing_experiment(self, name: str) -> str:
        experiment = self.client.get_experiment_by_name(name)
        if experiment is None:
            names = sorted(e.name for e in self.client.search_experiments())
            raise LookupError(f"experiment {name!r}: not found in {self.tracking_uri}; it has {names}")
        return experiment.experiment_id

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
        run_id = None
        try:
            with deferred_interrupts():  # an interrupt now would lose the id of a RUNNING run
                run_id = self.create_run(name, tags, parent_run_id)
            self.log_params(run_id, params)
            yield run_id
        except BaseException as error:
            if run_id is not None:
                self.end(run_id, error)
            raise
        else:
            self.end(run_id, None)

    def end(self, run_id: str, error: Optional[BaseException]) -> None:
        """Ends a run: FINISHED without an error, KILLED for an interrupt
        (KeyboardInterrupt, SystemExit), FAILED otherwise, with the error as a tag.
        Interrupts arriving meanwhile wait until the run is ended."""
        with deferred_interrupts():
            if error is None:
                self.terminate(run_id, "FINISHED")
                return
            killed = isinstance(error, (KeyboardInterrupt, SystemExit))
            self.set_tags(run_id, {ERROR_TAG: error_text(error)})
            self.terminate(run_id, "KILLED" if killed else "FAILED")

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        from mlflow.entities import Param

        items = [Param(k, v) for k, v in params.items()]
        for chunk in batches(items, MAX_PARAMS_PER_BATCH):
            self.client.log_batch(run_id, params=chunk)

    def log_metrics(self, run_id: str, metrics: Mapping[str, float], step: int = 0,
                    tags: Optional[Mapping[str, str]] = None) -> None:
        """Logs `metrics` (and `tags`, in the same call) at `step`."""
        from mlflow.entities import Metric, RunTag

        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, step) for k, v in metrics.items()]
        tag_items = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
        for index, chunk in enumerate(batches(items, 1000)):
            self.client.log_batch(run_id, metrics=chunk, tags=tag_items if index == 0 else [])

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

    def log_keras_model(self, run_id: str, keras_model, vocab_size: int, pip_requirements: List[str],
                        step: int = 0) -> str:
        """Logs a trained next-character model with MLflow's Keras 3 flavor, as an
        MLflow 3 LoggedModel that is an output of the run (its metrics at `step`
        are linked to the model), and tags the run with the model's URI.

        The signature takes and returns float32 (batch, steps, vocab_size)
        tensors of any batch size and length, so that
        `mlflow.pyfunc.load_model(uri).predict(one_hot_batch)` gives the
        next-character probabilities. `pip_requirements` are given rather than
        inferred: MLflow would infer them by loading the model in a new
        Python process (seconds of TensorFlow import per run).

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
                             pip_requirements=pip_requirements, step=step)
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

    def write_here_and_log(self, run_id: str, writer: Callable[..., object], *args,
                           artifact_path: Optional[str] = None) -> None:
        """`write_and_log`, with `writer` run in this process whatever the
        tracker: for bulky arrays, cheaper to write than to hand over."""
        self.write_and_log(run_id, writer, *args, artifact_path=artifact_path)

    def log_folder_and_remove(self, run_id: str, folder: str, artifact_path: Optional[str] = None) -> None:
        """`log_folder`, then deletes `folder`, which the caller handed over."""
        try:
            self.log_folder(run_id, Path(folder), artifact_path)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def terminate(self, run_id: str, status: str) -> None:
        self.client.set_terminated(run_id, status)

    def status(self, run_id: str) -> str:
        """The run's status: RUNNING, FINISHED, FAILED or KILLED."""
        return self.client.get_run(run_id).info.status

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        from mlflow.entities import RunTag

        self.client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def create_run(self, name: str, tags: Mapping[str, str], parent_run_id: Optional[str] = None) -> str:
        tags = dict(tags)
        if parent_run_id:
            tags[PARENT_TAG] = parent_run_id
        return self.client.create_run(self.experiment_id, run_name=name, tags=tags).info.run_id

    def prepare_writers(self, function: Callable[[], object]) -> None:
        """A hint that writers to come need what `function()` loads: an
        AsyncTracker's worker calls it while it has nothing else to do. Here
        there is no such time, so nothing happens."""

    def resolved(self, run_id: str) -> str:
        """The MLflow id of a run id `create_run` returned: the same here (an
        AsyncTracker's create_run answers before the store does)."""
        return run_id

    def children(self, parent_run_id: str) -> List[Dict]:
        """The runs nested under `parent_run_id`, oldest first, as plain dicts
        with keys run_id, name, status, params, metrics, tags."""
        return self._search(f"tags.`{PARENT_TAG}` = '{parent_run_id}'")

    def experiment_runs(self) -> List[Dict]:
        """Every rnnexp run of the experiment except sweep parents, oldest first."""
        return self._search(f"tags.`{ROLE_TAG}` != 'sweep'")

    def latest_sweep(self) -> Optional[Dict]:
        """The most recently started sweep parent run, or None."""
        runs = self._search(f"tags.`{ROLE_TAG}` = 'sweep'", newest_first=True, max_results=1)
        return runs[0] if runs else None

    def get_run(self, run_id: str) -> Dict:
        """One run of this experiment as a plain dict; LookupError if there is none."""
        from mlflow.exceptions import MlflowException

        try:
            run = self.client.get_run(run_id)
        except MlflowException as error:
            raise LookupError(f"run {run_id!r}: not found in {self.tracking_uri} ({error.message})") from None
        if run.info.experiment_id != self.experiment_id:
            raise LookupError(f"run {run_id!r}: not in experiment {self.experiment_name!r}")
        return _plain_run(run)

    def _search(self, filter_string: str, newest_first: bool = False, max_results: int = 50000) -> List[Dict]:
        runs = self.client.search_runs(
            [self.experiment_id], filter_string=filter_string, max_results=max_results,
            order_by=[f"attributes.start_time {'DESC' if newest_first else 'ASC'}"],
        )
        return [_plain_run(r) for r in runs]

    def find_finished(self, tags: Mapping[str, str]) -> Optional[str]:
        """The id of the newest FINISHED run of this experiment that carries
        all of `tags` (values compared exactly), or None."""
        conditions = [f"tags.`{key}` = '{value}'" for key, value in tags.items()]
        conditions.append("attributes.status = 'FINISHED'")
        runs = self.client.search_runs([self.experiment_id], filter_string=" and ".join(conditions),
                                       order_by=["attributes.start_time DESC"], max_results=1)
        return runs[0].info.run_id if runs else None

    def run_url(self, run_id: str) -> str:
        """Where the run is in the UI: a full address for a server, else the
        fragment to open in `mlflow ui`."""
        fragment = f"#/experiments/{self.experiment_id}/runs/{run_id}"
        if self.tracking_uri.startswith(("http://", "https://")):
            return f"{self.tracking_uri.rstrip('/')}/{fragment}"
        return fragment


def _plain_run(run) -> Dict:
    """An MLflow Run as plain values: run_id, name, status, start_time (ms),
    params, metrics (latest values), tags."""
    return {"run_id": run.info.run_id, "name": run.info.run_name, "status": run.info.status,
            "start_time": run.info.start_time, "params": dict(run.data.params),
            "metrics": dict(run.data.metrics), "tags": dict(run.data.tags)}


def _check_store_exists(tracking_uri: str) -> None:
    """LookupError if `tracking_uri` is a SQLite file that does not exist."""
    if tracking_uri.startswith("sqlite:///"):
        database = Path(tracking_uri[len("sqlite:///"):])
        if not database.is_file():
            raise LookupError(f"no MLflow store at {tracking_uri} (no file {database}; run where the "
                              "runs were recorded, or pass the store's URI)")

