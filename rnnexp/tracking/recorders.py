"""Which recorder a process records through: one per store and experiment
per process (a sweep's points share it). The CLI asks for BackgroundRecorders
(`use_background_recorders`, unless RNNEXP_TRACKER=sync) and closes them on
its way out (`close_recorders`); everything else (notebooks, tests, joblib
or submitit workers) records in-process.
"""

import os
import sys
from typing import Callable, Dict, Optional, Sequence, Tuple

from rnnexp.tracking.background import BackgroundRecorder
from rnnexp.tracking.recorder import Recorder, RecorderBase, TrackingError

BACKGROUND_ENV = "RNNEXP_TRACKER"  # "sync" keeps MLflow in the CLI's own process

_use_background = False
_recorders: Dict[Tuple[int, Optional[str], str], RecorderBase] = {}


def use_background_recorders() -> None:
    """Lets this process record through BackgroundRecorders (the CLI calls it,
    and `close_recorders` before it exits), unless RNNEXP_TRACKER=sync."""
    global _use_background
    _use_background = os.environ.get(BACKGROUND_ENV, "background") != "sync"


def open_recorder(tracking_uri: Optional[str], experiment_name: str,
                  warm_up: Sequence[Callable[[], object]] = ()) -> RecorderBase:
    """The recorder for a store and experiment, one per process.

    Args:
        warm_up: module-level functions that load what the run's pictures
            need; a BackgroundRecorder's worker calls them once the store is
            open, while this process still imports TensorFlow.
    """
    key = (os.getpid(), tracking_uri, experiment_name)
    if key not in _recorders:
        if _use_background:
            _recorders[key] = BackgroundRecorder(tracking_uri, experiment_name, tuple(warm_up))
        else:
            try:
                _recorders[key] = Recorder(tracking_uri, experiment_name)
            except Exception as error:  # noqa: BLE001  said in one line, as the worker says it
                first = str(error).strip().splitlines()[0] if str(error).strip() else ""
                raise TrackingError(f"could not open the tracking store: {type(error).__name__}: {first}") from error
    return _recorders[key]


def check_open(recorder: RecorderBase) -> None:
    """Returns once the recorder's store is open (a background recorder's
    worker opens it while this process imports TensorFlow); raises
    TrackingError saying why it could not be opened, before anything is computed."""
    recorder.experiment_id


def close_recorders(error: Optional[BaseException] = None) -> None:
    """Closes this process's recorders, waiting for their workers. What could
    not be recorded is printed; with no other `error` on the way out, the
    process then exits with status 1."""
    failures = []
    status = "KILLED" if isinstance(error, (KeyboardInterrupt, SystemExit)) else "FAILED"
    for key in [k for k in _recorders if k[0] == os.getpid()]:
        recorder = _recorders.pop(key)
        if isinstance(recorder, BackgroundRecorder):  # an in-process Recorder has nothing to wait for
            try:
                recorder.close(status)
            except TrackingError as failure:
                failures.append(failure)
    for failure in failures:
        print(f"rnnexp: error: recording failed: {failure}", file=sys.stderr)
    if failures and error is None:
        raise SystemExit(1)
