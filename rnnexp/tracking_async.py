"""A Tracker whose MLflow work runs in a helper process.

`AsyncTracker` has the Tracker's methods and results, but MLflow is imported,
the store opened and every call carried out by a worker process
(rnnexp.tracking_worker) started when the tracker is made, so all that
overlaps the TensorFlow import and the forward pass here:
- `create_run` returns at once a provisional id, which every call here takes
  as the run's id; `resolved` (and `run_url`) give the MLflow id, waiting for
  it if need be, and raise the error if the run could not be created;
- `children` and any other call that returns a value wait for the answer
  (errors raised there are raised here);
- logging calls (`log_params`, `log_metrics`, `set_tags`, `terminate`,
  `log_folder`, `write_and_log`, `write_here_and_log`) are queued and return at
  once; writers run in the worker (`write_here_and_log`'s here, its folder is
  logged there). A failure there makes the run end FAILED, with the error as
  its `rnnexp.error` tag, and is raised by `close()`;
- if the worker dies, this process opens the store itself, ends every run the
  worker left RUNNING as FAILED, raises TrackingError, and carries on in-process.
The process and its pipes are rnnexp.tracking_pipe's; which processes use
an AsyncTracker, rnnexp.trackers's.
"""

import os
import shutil
import tempfile
from pathlib import Path
from typing import Dict, Optional, Tuple

from rnnexp import tracking_wire
from rnnexp.tracking import ERROR_TAG, Tracker
from rnnexp.tracking_pipe import WorkerGone, WorkerPipe

ASYNC_CALLS = ("log_params", "log_metrics", "set_tags", "terminate", "write_and_log", "log_folder_and_remove")
RUN_CALLS = ASYNC_CALLS  # their first argument is a run id: the worker keeps each run's calls in order
INHERITED = ("run", "end")  # built on the calls above; they work as they are


class TrackingError(RuntimeError):
    """Something the tracking worker was asked to do failed, or it died."""


class AsyncTracker(Tracker):
    """Args as Tracker's. Starts the worker and returns at once."""

    def __init__(self, tracking_uri: Optional[str], experiment_name: str):
        self.experiment_name = experiment_name
        self._requested_uri, self._pid = tracking_uri, os.getpid()
        self._created = []  # the ids create_run returned, for the ending of a dead worker's runs
        self._creations: Dict[str, int] = {}  # provisional run id -> its create_run's seq
        self._run_ids: Dict[str, object] = {}  # provisional run id -> MLflow id, or the error
        self._fallback: Optional[Tracker] = None
        self._local: Optional[Tracker] = None  # for the calls that must run in this process
        self._closed = False
        self._prepared = set()
        self._pipe = WorkerPipe()
        self._process = self._pipe.process
        self._open_seq = self._send("__open__", (tracking_uri, experiment_name), {}, True)
        self._opened = None  # (tracking uri, experiment id), or the error that opening raised

    @property
    def tracking_uri(self) -> str:
        return self._ensure_open()[0]

    @property
    def experiment_id(self) -> str:
        return self._ensure_open()[1]

    def _ensure_open(self) -> Tuple[str, str]:
        """The worker's answer to opening the store; its error, if it failed,
        raised here every time."""
        if self._opened is None:
            try:
                self._opened = self._wait(self._open_seq)
            except TrackingError:
                raise  # the worker died; the store is open here instead
            except Exception as error:
                self._opened = error
        if isinstance(self._opened, Exception):
            raise self._opened
        return self._opened

    # -- calls ------------------------------------------------------------
    def create_run(self, name, tags, parent_run_id=None) -> str:
        """Returns a provisional id at once (see `resolved`); the worker
        creates the run meanwhile."""
        if self._fallback_ready():
            run_id = self._on_fallback("create_run", (name, tags, parent_run_id), {})
            self._created.append(run_id)
            return run_id
        self._ensure_open()
        provisional = f"{tracking_wire.PROVISIONAL_PREFIX}{self._pipe.seq + 1}"
        self._creations[provisional] = self._send("create_run", (name, tags, parent_run_id), {}, True, provisional)
        self._created.append(provisional)
        return provisional

    def resolved(self, run_id: str) -> str:
        """The MLflow id of a run id `create_run` returned (waits for the
        worker's answer if it has not come yet).

        Raises:
            The error that creating the run raised in the worker.
        """
        if run_id not in self._creations:
            return run_id
        if run_id not in self._run_ids:
            if self._fallback_ready():  # the worker died before it answered
                raise TrackingError(f"run {run_id} was lost with the tracking worker before its creation "
                                    f"was confirmed")
            try:
                self._run_ids[run_id] = self._wait(self._creations[run_id])
            except TrackingError:
                raise
            except Exception as error:
                self._run_ids[run_id] = error
        if isinstance(self._run_ids[run_id], Exception):
            raise self._run_ids[run_id]
        return self._run_ids[run_id]

    def run_url(self, run_id: str) -> str:
        return super().run_url(self.resolved(run_id))

    def log_folder(self, run_id: str, folder: Path, artifact_path: Optional[str] = None) -> None:
        """Queued like the others: the folder's files are read now, so it may
        change or go once this returns."""
        files = {str(p.relative_to(folder)): p.read_bytes() for p in Path(folder).rglob("*") if p.is_file()}
        self.write_and_log(run_id, write_files, files, artifact_path=artifact_path)

    def write_and_log(self, run_id, writer, *args, artifact_path=None) -> None:
        _check_importable("writer", writer)
        self._post("write_and_log", run_id, writer, *args, artifact_path=artifact_path)

    def prepare_writers(self, function) -> None:
        """Has the worker's writer thread call `function()` (once per
        function), as soon as the store is open: while this process still
        imports TensorFlow, the worker has time to spare."""
        _check_importable("function", function)
        if function not in self._prepared and not self._fallback_ready():
            self._prepared.add(function)
            self._send("__prepare__", (function,), {}, False)  # queued behind the opening, not waiting for it

    def write_here_and_log(self, run_id, writer, *args, artifact_path=None) -> None:
        """Runs `writer` here, into a temporary folder that the worker logs and
        then deletes: the arrays never cross the pipe (pickling and sending a
        large run's 70 MB took longer than writing them) nor sit in the worker."""
        folder = tempfile.mkdtemp(prefix="rnnexp-")
        try:
            writer(Path(folder), *args)
            self._post("log_folder_and_remove", run_id, folder, artifact_path)
        except BaseException:  # not handed over: nobody else will delete it
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def log_keras_model(self, run_id: str, *args, **kwargs):
        """Runs here, not in the worker: a Keras model does not cross
        processes, and the worker never imports TensorFlow."""
        if self._local is None:
            self._local = Tracker(self._requested_uri, self.experiment_name)
        return self._local.log_keras_model(self.resolved(run_id), *args, **kwargs)

    def _call(self, method, *args, **kwargs):
        if self._fallback_ready():
            return self._on_fallback(method, args, kwargs)
        self._ensure_open()
        return self._wait(self._send(method, args, kwargs, True))

    def _post(self, method, *args, **kwargs) -> None:
        if self._fallback_ready():
            return self._on_fallback(method, args, kwargs)
        self._ensure_open()
        self._send(method, args, kwargs, False)

    def _on_fallback(self, method, args, kwargs):
        """A call carried out here once the worker is gone. A run whose
        creation the worker never confirmed is lost (its death was raised
        already): logging to it is skipped, anything else about it raises."""
        values = [*args, *kwargs.values()]
        lost = [v for v in values if isinstance(v, str) and v in self._creations and not self._confirmed(v)]
        if lost and method in ASYNC_CALLS:
            return None
        if lost:
            return self.resolved(lost[0])  # raises what became of it
        args = tuple(self._run_ids.get(v, v) if isinstance(v, str) else v for v in args)
        kwargs = {k: self._run_ids.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
        return getattr(self._fallback, method)(*args, **kwargs)

    def _confirmed(self, provisional: str) -> bool:
        return isinstance(self._run_ids.get(provisional), str)

    # -- the pipe ---------------------------------------------------------
    def _send(self, method, args, kwargs, wants_reply, run_id=None) -> int:
        if os.getpid() != self._pid:
            raise TrackingError("an AsyncTracker cannot be used from a forked process; open a new one")
        if self._closed:
            raise TrackingError("the tracker is closed")
        try:
            return self._pipe.send(method, args, kwargs, wants_reply, args[0] if method in RUN_CALLS else run_id)
        except WorkerGone:
            self._worker_died()

    def _wait(self, seq: int):
        try:
            return self._pipe.wait(seq)
        except WorkerGone:
            self._worker_died()

    # -- endings ----------------------------------------------------------
    def _fallback_ready(self) -> bool:
        return self._fallback is not None

    def _worker_died(self):
        code = self._process.wait()
        why = f"the tracking worker process exited with code {code}; what it had not yet recorded is lost"
        self._pipe.collect()  # its last answers are still in the pipe
        for provisional, seq in self._creations.items():
            ok, value = self._pipe.answers.pop(seq, (False, None))
            if ok:
                self._run_ids.setdefault(provisional, value)
        self._fallback = Tracker(self._requested_uri, self.experiment_name)
        self._opened = (self._fallback.tracking_uri, self._fallback.experiment_id)
        for run_id in self._created:
            run_id = self._run_ids.get(run_id, run_id)
            if not isinstance(run_id, str) or run_id.startswith(tracking_wire.PROVISIONAL_PREFIX):
                continue  # never created, or its id never came back
            if self._fallback.status(run_id) == "RUNNING":
                self._fallback.set_tags(run_id, {ERROR_TAG: why})
                self._fallback.terminate(run_id, "FAILED")
        self._pipe.failures.append(("", why))
        raise TrackingError(why)

    def close(self, open_runs_status: str = "FAILED") -> None:
        """Waits until the worker has done everything sent to it and has
        exited; raises TrackingError if anything failed there. A run still
        open (its creation was interrupted before its id came back) is ended
        with `open_runs_status`."""
        if self._closed or os.getpid() != self._pid:
            return
        try:
            if self._fallback is None:
                self._wait(self._send("__close__", (open_runs_status,), {}, True))
                self._process.wait()
        finally:
            self._closed = True
        if self._pipe.failures:
            raise TrackingError("; ".join(f"run {run_id}: {text}" if run_id else text
                                          for run_id, text in self._pipe.failures))


def _waiting_call(name: str):
    def method(self, *args, **kwargs):
        return self._call(name, *args, **kwargs)

    method.__name__, method.__doc__ = name, getattr(Tracker, name).__doc__
    return method


def _queued_call(name: str):
    def method(self, *args, **kwargs):
        return self._post(name, *args, **kwargs)

    method.__name__, method.__doc__ = name, getattr(Tracker, name).__doc__
    return method


# Every other Tracker method (present or added later) runs in the worker and
# waits for its answer, so AsyncTracker keeps up with Tracker by itself.
for _name, _value in list(vars(Tracker).items()):
    if callable(_value) and not _name.startswith("__") and _name not in INHERITED and _name not in vars(AsyncTracker):
        setattr(AsyncTracker, _name, _queued_call(_name) if _name in ASYNC_CALLS else _waiting_call(_name))


def _check_importable(argument: str, function) -> None:
    if getattr(function, "__qualname__", "") != getattr(function, "__name__", None) or function.__module__ == "__main__":
        raise TypeError(f"{argument}={function!r}: expected a module-level function of an importable module "
                        f"(the tracking worker imports it by name)")


def write_files(folder: Path, files: Dict[str, bytes]) -> None:
    """A writer that puts back files read by `AsyncTracker.log_folder`."""
    for relative, data in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
