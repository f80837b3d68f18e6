"""Opening an MLflow tracking store: a quick probe first, then MLflow's own
client (with SQLite's "database is locked" retried) and the experiment.

A tracking server that is down would cost minutes of MLflow's retries with
back-off (MLFLOW_HTTP_REQUEST_MAX_RETRIES, ...): `check_reachable` asks its
`/health` once, with a short timeout, before MLflow is imported or anything
computed. Plain urllib, no MLflow import, on that path.

MLflow sets `PRAGMA busy_timeout = 20000` on its SQLite sessions, so a writer
normally waits for another's lock; SQLite skips that wait when waiting could
deadlock (a transaction that read first, then wants to write while another
commits) and fails at once with "database is locked". Parallel sweep workers
writing to one SQLite store meet exactly that; MLflow rolls the transaction
back, so calling again is safe (`RetryingClient`).
"""

import os
import random
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Optional, Tuple

from rnnexp.errors import ConfigError
from rnnexp.frozen_imports import collector_paused

PROBE_TIMEOUT_S = 10.0
LOCKED = "database is locked"
LOCK_ATTEMPTS = 8
FIRST_WAIT_S = 0.05  # doubled after each failure, with jitter: at most ~13 s in all


def http_tracking_uri(tracking_uri: Optional[str]) -> Optional[str]:
    """The http(s) tracking URI in force (`tracking_uri`, else MLFLOW_TRACKING_URI),
    or None when it names no server (a database, a folder, MLflow's default)."""
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or ""
    return uri if uri.startswith(("http://", "https://")) else None


def check_reachable(tracking_uri: Optional[str], timeout: float = PROBE_TIMEOUT_S) -> None:
    """Returns if the tracking server answers at all (any HTTP status: a
    proxy's 401 or a 404 still means something is listening), or if the URI
    names no server; raises otherwise.

    Args:
        tracking_uri: the config's `mlflow.tracking_uri` (None: the environment's).
        timeout: seconds to wait for the connection and the answer.

    Raises:
        ConfigError: naming the URI and why it could not be reached.
    """
    uri = http_tracking_uri(tracking_uri)
    if uri is None:
        return
    key = "mlflow.tracking_uri" if tracking_uri else "MLFLOW_TRACKING_URI"
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout):
            return
    except urllib.error.HTTPError:
        return
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise ConfigError(key, uri, "a reachable MLflow tracking server",
                          f"{uri.rstrip('/')}/health did not answer (waited at most {timeout:g} s): {reason}") from None


def retry_when_locked(call: Callable[[], Any], attempts: int = LOCK_ATTEMPTS) -> Any:
    """Returns `call()`, calling it again after a short, growing wait while it
    fails with SQLite's lock error; any other error, or the last one, is raised."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception as error:
            if LOCKED not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(FIRST_WAIT_S * 2 ** attempt * (1 + random.random()))


class RetryingClient:
    """An MlflowClient whose method calls go through `retry_when_locked`."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name: str):
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute
        return lambda *args, **kwargs: retry_when_locked(lambda: attribute(*args, **kwargs))


def open_store(tracking_uri: Optional[str], experiment_name: str, create: bool = True) -> Tuple[Any, str, str]:
    """MLflow's client on a store, and the experiment's id.

    Args:
        tracking_uri: None for MLflow's default (MLFLOW_TRACKING_URI, else
            sqlite:///mlflow.db plus ./mlruns in the working folder).
        experiment_name: created if missing, unless `create` is False.
        create: False to only read: a missing store or experiment raises
            LookupError, and no empty store is left behind.

    Returns:
        (client, the tracking URI in force, the experiment's id).
    """
    with collector_paused():  # MLflow's import and a new store's tables (rnnexp.frozen_imports)
        from mlflow.tracking import MlflowClient, get_tracking_uri

        if not create:  # before the client: opening a SQLite store creates it
            _check_store_exists(tracking_uri or get_tracking_uri())
        client = RetryingClient(MlflowClient(tracking_uri))
    return client, client.tracking_uri, _experiment_id(client, experiment_name, create)


def _experiment_id(client, name: str, create: bool) -> str:
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    if not create:
        names = sorted(e.name for e in client.search_experiments())
        raise LookupError(f"experiment {name!r}: not found in {client.tracking_uri}; it has {names}")
    try:
        return client.create_experiment(name)
    except MlflowException:  # created meanwhile by a parallel job, or refused (an invalid name)
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


def _check_store_exists(tracking_uri: str) -> None:
    """LookupError if `tracking_uri` is a SQLite file that does not exist."""
    if tracking_uri.startswith("sqlite:///"):
        database = Path(tracking_uri[len("sqlite:///"):])
        if not database.is_file():
            raise LookupError(f"no MLflow store at {tracking_uri} (no file {database}; run where the "
                              "runs were recorded, or pass the store's URI)")
