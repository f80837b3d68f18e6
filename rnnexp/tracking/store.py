"""Opening an MLflow tracking store: a quick probe first, then MLflow's own
client (with SQLite's "database is locked" retried) and the experiment.

The probe (`check_reachable`, a server's /health, a database's file or
port) is rnnexp.store_uri's, standard library only, run before anything heavy.

MLflow sets `PRAGMA busy_timeout = 20000` on its SQLite sessions, so a writer
normally waits for another's lock; SQLite skips that wait when waiting could
deadlock (a transaction that read first, then wants to write while another
commits) and fails at once with "database is locked". Parallel sweep workers
writing to one SQLite store meet exactly that; MLflow rolls the transaction
back, so calling again is safe (`RetryingClient`).
"""

import fcntl
import os
import random
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any, Callable, Optional, Tuple

from rnnexp.frozen_imports import collector_paused
from rnnexp.store_uri import check_reachable, http_tracking_uri, sqlite_file, without_passwords  # noqa: F401

CREATE_ATTEMPTS = 6
IDLE_S = 2.0  # a store being created changes more often than this
CREATE_WAIT_S = 0.5  # then 1, 1.5, ... s: another process's creation of a store takes about a second
LOCKED = "database is locked"
LOCK_ATTEMPTS = 8
FIRST_WAIT_S = 0.05  # doubled after each failure, with jitter: at most ~13 s in all


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

        uri = tracking_uri or get_tracking_uri()
        if without_passwords(uri) != uri:  # MLflow's own "View run at" lines would print it
            os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
        if not create:  # before the client: opening a SQLite store creates it
            _check_store_exists(uri)
        client = RetryingClient(_new_client(MlflowClient, tracking_uri, sqlite_file(uri)))
    return client, client.tracking_uri, _experiment_id(client, experiment_name, create)


def _new_client(client_class, tracking_uri: Optional[str], database: Optional[Path]):
    """MLflow's client, its store's tables created. Two processes creating one
    SQLite store race in MLflow's schema creation ("table ... already exists",
    a migration that finds its row gone), and the loser can leave the store
    half migrated. So rnnexp creates a new store's file whole, under another
    name, and links it into place (only if no other process created one
    meanwhile), taking turns with other rnnexp processes by an flock on the
    folder; a store that another client (a notebook's, which takes no lock)
    is still creating is waited for until it has a schema version; a client
    that still fails to open is made again."""
    if database is None:
        return client_class(tracking_uri)
    database.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(CREATE_ATTEMPTS):
        folder = os.open(database.parent, os.O_RDONLY)
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
            if not database.exists():
                _create_whole(client_class, database)
            _wait_while_created(database)
            client = client_class(tracking_uri)
            client.search_experiments(max_results=1)
            return client
        except Exception:
            if attempt == CREATE_ATTEMPTS - 1:
                raise
        finally:
            os.close(folder)  # and with it the lock
        time.sleep(CREATE_WAIT_S * (attempt + 1))


def _create_whole(client_class, database: Path) -> None:
    partial = database.with_name(f".{database.name}.{os.getpid()}.creating")
    try:
        client_class(f"sqlite:///{partial.resolve()}")  # MLflow creates and migrates the tables
        os.link(partial, database)
    except FileExistsError:
        pass  # another process's store is there now: it is opened below
    finally:
        partial.unlink(missing_ok=True)


def _wait_while_created(database: Path, at_most_s: float = 30.0) -> None:
    """Returns once `database` has a schema version (MLflow's initial tables
    are made before it, so opening it will not make them again: a migration
    still under way fails MLflow's schema check, and the client is made
    again), or once it has not changed for IDLE_S, or after `at_most_s`."""
    deadline = time.monotonic() + at_most_s
    while not _schema_version(database) and time.monotonic() < deadline:
        if time.time() - database.stat().st_mtime > IDLE_S:  # nobody is creating it (an empty file): MLflow will
            return
        time.sleep(0.1)


def _schema_version(database: Path) -> Optional[str]:
    try:
        with closing(sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=1)) as db:
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
            return row[0] if row else None
    except sqlite3.Error:
        return None


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
