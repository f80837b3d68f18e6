"""The tracking worker's writer thread: runs the writers of `write_and_log`
calls one at a time, each into a fresh temporary folder, and reports the
folder, or what went wrong, to the worker's main loop, which logs it."""

import queue
import tempfile
import threading
from pathlib import Path
from typing import Callable, Optional, Tuple

# Imported once the store is open, while the main process still imports
# TensorFlow, so that the first writer does not pay for them.
WARM_IMPORTS = ("pandas", "rnnexp.artifacts")


def run_writers(jobs: "queue.Queue", report: Callable[..., None], store_open: threading.Event) -> None:
    """Serves `jobs` of (run id, Packed((run id, writer, *args), kwargs))
    forever, calling `report(run_id, folder, artifact_path, error)` for each."""
    store_open.wait()  # MLflow's own import goes first
    for name in WARM_IMPORTS:
        try:
            __import__(name)
        except ImportError:
            pass
    while True:
        run_id, packed = jobs.get()
        if run_id is None:  # a Tracker.prepare_writers hint
            prepare(packed)
            continue
        outcome = write(packed)
        packed = None  # its arrays are freed now, not when the next job comes
        report(run_id, *outcome)


def prepare(packed) -> None:
    """Calls the function of a prepare_writers hint. A hint that fails
    changes nothing: the writers that need it will raise what it raised."""
    try:
        (function,), _ = packed.open()
        function()
    except Exception:  # noqa: BLE001
        pass


def write(packed) -> Tuple[Optional[str], Optional[str], Optional[str]]:
    """Returns (folder, artifact_path, error text or None)."""
    folder, artifact_path = None, None
    try:
        folder = tempfile.mkdtemp(prefix="rnnexp-")
        (_, writer, *args), kwargs = packed.open()
        artifact_path = kwargs.get("artifact_path")
    except BaseException as caught:  # no folder, or the writer cannot be imported here
        return folder, artifact_path, f"{type(caught).__name__}: {caught}"
    try:
        writer(Path(folder), *args)
    except BaseException as caught:  # even SystemExit: the run fails, the thread goes on
        return folder, artifact_path, f"{type(caught).__name__} in {writer.__module__}.{writer.__qualname__}: {caught}"
    return folder, artifact_path, None
