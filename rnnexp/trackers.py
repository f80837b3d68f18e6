"""Which tracker a process uses: the CLI records runs through an
AsyncTracker (rnnexp.tracking_async), everything else (notebooks, tests,
joblib or submitit workers) through the in-process Tracker, as does the CLI
with RNNEXP_TRACKER=sync.

The CLI calls `pipeline_runs()` first and `close_trackers()` on its way out.
"""

import atexit
import os
import sys
from typing import Dict, Optional, Tuple

from rnnexp.tracking import Tracker
from rnnexp.tracking_async import AsyncTracker, TrackingError

TRACKER_ENV = "RNNEXP_TRACKER"  # "sync" keeps MLflow in the main process

_pipelining = False
_trackers: Dict[Tuple[int, Optional[str], str], Tracker] = {}


def pipeline_runs() -> None:
    """Lets this process record runs through AsyncTrackers (the CLI calls it;
    it must call `close_trackers` before it exits)."""
    global _pipelining
    _pipelining = os.environ.get(TRACKER_ENV, "async") != "sync"


def open_tracker(tracking_uri: Optional[str], experiment_name: str) -> Tracker:
    """The tracker for a store and experiment, one per process."""
    key = (os.getpid(), tracking_uri, experiment_name)
    if key not in _trackers:
        if _pipelining:
            _trackers[key] = AsyncTracker(tracking_uri, experiment_name)
        else:
            _trackers[key] = Tracker(tracking_uri, experiment_name)
    return _trackers[key]


def close_trackers(error: Optional[BaseException] = None) -> None:
    """Closes this process's AsyncTrackers (waiting for their workers). What
    failed there is printed; with no other `error` on the way out, the process
    then exits with status 1."""
    failures = []
    status = "KILLED" if isinstance(error, (KeyboardInterrupt, SystemExit)) else "FAILED"  # as Tracker.end
    for key in [k for k in _trackers if k[0] == os.getpid()]:
        tracker = _trackers.pop(key)
        try:
            if isinstance(tracker, AsyncTracker):
                tracker.close(status)
        except TrackingError as failure:
            failures.append(failure)
    for failure in failures:
        print(f"rnnexp: error: recording failed: {failure}", file=sys.stderr)
    if failures and error is None:
        raise SystemExit(1)


atexit.register(lambda: close_trackers(error=RuntimeError("at exit")))
