"""Everything that talks to MLflow. The only module that imports it (lazily,
inside the Tracker), so the fast paths of the CLI never pay for the import.

A run's status always ends honest: FINISHED, FAILED (error recorded as the tag
`rnnexp.error`) or KILLED (interrupt), never left RUNNING.
"""

import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Mapping, Optional

from rnnexp.params import MAX_PARAMS_PER_BATCH, batches

PARENT_TAG = "mlflow.parentRunId"
ERROR_TAG = "rnnexp.error"
ROLE_TAG = "rnnexp.role"  # "sweep" on a sweep's parent run, "point" on its children, "single" otherwise


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
