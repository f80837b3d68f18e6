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

A database store is looked at before MLflow opens it (`database_problem`):
MLflow would retry one it cannot open for about 100 s, then raise a
traceback. SQLite: the file must be a file, an SQLite database (or empty),
writable, in a writable folder (the journal goes there). PostgreSQL, MySQL,
SQL Server on a host: something must accept a TCP connection on its port.
"""

import os
import random
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Optional, Tuple
from urllib.parse import urlsplit

from rnnexp.errors import ConfigError
from rnnexp.frozen_imports import collector_paused

PROBE_TIMEOUT_S = 10.0
DEFAULT_STORE = "sqlite:///mlflow.db"  # MLflow 3's, without MLFLOW_TRACKING_URI
CONNECT_TIMEOUT_S = 5.0
SQLITE_HEADER = b"SQLite format 3\x00"
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433}
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
    proxy's 401 or a 404 still means something is listening), or if a
    database store looks fit to open (rnnexp.tracking.store_probe); raises otherwise.

    Args:
        tracking_uri: the config's `mlflow.tracking_uri` (None: the environment's).
        timeout: seconds to wait for the connection and the answer.

    Raises:
        ConfigError: naming the URI and why it could not be reached.
    """
    uri = http_tracking_uri(tracking_uri)
    key = "mlflow.tracking_uri" if tracking_uri or not os.environ.get("MLFLOW_TRACKING_URI") else "MLFLOW_TRACKING_URI"
    if uri is None:  # a database: rnnexp.tracking.store_probe
        database = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_STORE
        problem = database_problem(database, min(timeout, CONNECT_TIMEOUT_S))
        if problem:
            raise ConfigError(key, tracking_uri or os.environ.get("MLFLOW_TRACKING_URI"),
                              "a tracking store that can be opened", f"{database}: {problem}")
        return
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
    if experiment is not None and experiment.lifecycle_stage == "deleted":
        raise LookupError(f"experiment {name!r} is deleted in {client.tracking_uri}: restore it (`mlflow "
                          f"experiments restore --experiment-id {experiment.experiment_id}`), or name another")
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


def database_problem(uri: str, timeout: float = CONNECT_TIMEOUT_S) -> Optional[str]:
    """Why the database store at `uri` cannot be opened, or None if it looks fine
    (or is of a kind not probed here)."""
    kind = uri.split(":", 1)[0].split("+")[0].lower()
    if kind == "sqlite":
        return sqlite_problem(uri)
    if kind in DEFAULT_PORTS:
        return server_problem(uri, DEFAULT_PORTS[kind], timeout)
    return None


def sqlite_problem(uri: str) -> Optional[str]:
    path = uri.split("://", 1)[-1].split("?", 1)[0]
    path = path[1:] if path.startswith("/") else path  # sqlite:///relative, sqlite:////absolute
    if path in ("", ":memory:"):
        return None
    database = Path(path)
    if database.is_dir():
        return f"{database} is a folder, not an SQLite database file"
    if database.exists():
        try:
            with open(database, "rb") as handle:
                header = handle.read(len(SQLITE_HEADER))
        except OSError as error:
            return f"{database} cannot be read ({error.strerror})"
        if header and header != SQLITE_HEADER:
            return f"{database} is not an SQLite database (it starts with {header[:8]!r})"
        if not os.access(database, os.W_OK):
            return f"{database} is read-only; runs are written into it"
        folder = database.parent
    else:
        folder = database.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            return f"{folder} is not a folder; {database} cannot be created in it"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder.resolve()} is not writable; SQLite writes {database.name} and its journal there"
    return None


def server_problem(uri: str, default_port: int, timeout: float) -> Optional[str]:
    try:
        parts = urlsplit(uri)
        host, port = parts.hostname, parts.port or default_port
    except ValueError as error:
        return f"the URI cannot be read ({error})"
    if not host:  # a Unix socket (?host=/run/postgresql) or the driver's default: the driver will tell
        return None
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as error:
        return f"nothing accepts connections at {host}:{port} ({error.strerror or error}; waited at most {timeout:g} s)"
