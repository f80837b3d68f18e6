"""Retries a tracking-store call that SQLite refused with "database is locked".

MLflow sets `PRAGMA busy_timeout = 20000` on its SQLite sessions, so a writer
normally waits for another's lock. SQLite skips that wait when waiting could
deadlock: a transaction that read first and then wants to write, while another
connection is committing, fails at once with "database is locked". Parallel
sweep workers (joblib, submitit) writing to one SQLite store meet exactly that.
MLflow rolls the failed transaction back, so calling again is safe.
"""

import random
import time
from typing import Any, Callable

LOCKED = "database is locked"
ATTEMPTS = 8
FIRST_WAIT_S = 0.05  # doubled after each failure, with jitter: at most ~13 s in all


def retry_when_locked(call: Callable[[], Any], attempts: int = ATTEMPTS) -> Any:
    """Returns `call()`, calling it again after a short, growing wait while it
    fails with SQLite's lock error; any other error, or the last one, is raised."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception as error:
            if LOCKED not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(FIRST_WAIT_S * 2 ** attempt * (1 + random.random()))


class LockRetryingClient:
    """Wraps a client so that each of its method calls goes through `retry_when_locked`."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name: str):
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute
        return lambda *args, **kwargs: retry_when_locked(lambda: attribute(*args, **kwargs))
