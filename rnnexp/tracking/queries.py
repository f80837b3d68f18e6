"""What rnnexp reads back from a store, as plain dicts: a sweep's points,
an experiment's runs, the latest sweep, one run, a finished twin for resume.

A run is {"run_id", "name", "status", "start_time" (ms), "params",
"metrics" (latest values), "tags"}.
"""

from typing import Dict, List, Mapping, Optional

from rnnexp.tracking.tags import PARENT_TAG, ROLE_SWEEP, ROLE_TAG


def plain_run(run) -> Dict:
    """An MLflow Run as plain values."""
    return {"run_id": run.info.run_id, "name": run.info.run_name, "status": run.info.status,
            "start_time": run.info.start_time, "params": dict(run.data.params),
            "metrics": dict(run.data.metrics), "tags": dict(run.data.tags)}


def search(client, experiment_id: str, filter_string: str, newest_first: bool = False,
           max_results: int = 50000) -> List[Dict]:
    runs = client.search_runs([experiment_id], filter_string=filter_string, max_results=max_results,
                              order_by=[f"attributes.start_time {'DESC' if newest_first else 'ASC'}"])
    return [plain_run(run) for run in runs]


def children(client, experiment_id: str, parent_id: str) -> List[Dict]:
    """The runs nested under `parent_id`, oldest first."""
    return search(client, experiment_id, f"tags.`{PARENT_TAG}` = '{parent_id}'")


def experiment_runs(client, experiment_id: str) -> List[Dict]:
    """Every rnnexp run of the experiment except sweep parents, oldest first."""
    return search(client, experiment_id, f"tags.`{ROLE_TAG}` != '{ROLE_SWEEP}'")


def latest_sweep(client, experiment_id: str) -> Optional[Dict]:
    """The most recently started sweep parent run, or None."""
    runs = search(client, experiment_id, f"tags.`{ROLE_TAG}` = '{ROLE_SWEEP}'", newest_first=True, max_results=1)
    return runs[0] if runs else None


def get_run(client, experiment_id: str, run_id: str) -> Dict:
    """One run of this experiment; LookupError if there is none."""
    from mlflow.exceptions import MlflowException

    try:
        run = client.get_run(run_id)
    except MlflowException as error:
        raise LookupError(f"run {run_id!r}: not found in {client.tracking_uri} ({error.message})") from None
    if run.info.experiment_id != experiment_id:
        raise LookupError(f"run {run_id!r}: not in experiment {experiment_id!r}")
    return plain_run(run)


def find_finished(client, experiment_id: str, tags: Mapping[str, str]) -> Optional[str]:
    """The id of the newest FINISHED run of the experiment that carries all
    of `tags` (values compared exactly), or None."""
    conditions = [f"tags.`{key}` = '{value}'" for key, value in tags.items()]
    conditions.append("attributes.status = 'FINISHED'")
    runs = client.search_runs([experiment_id], filter_string=" and ".join(conditions),
                              order_by=["attributes.start_time DESC"], max_results=1)
    return runs[0].info.run_id if runs else None


def metric_histories(client, run_ids: List[str], key: str) -> Dict[str, List[float]]:
    """Each run's values of the metric `key`, in the order of their steps
    (a curve logged with steps, e.g. dynamics.grad_norm); runs without it are left out."""
    histories = {}
    for run_id in run_ids:
        points = sorted(client.get_metric_history(run_id, key), key=lambda m: (m.step, m.timestamp))
        if points:
            histories[run_id] = [m.value for m in points]
    return histories


def status(client, run_id: str) -> str:
    """RUNNING, FINISHED, FAILED or KILLED."""
    return client.get_run(run_id).info.status
