"""The tracking worker: a helper process that owns the MLflow store and
carries out the Tracker calls the main process sends it (see
rnnexp.tracking_async, which starts it).

It imports MLflow and opens the store while the main process imports
TensorFlow, and runs artifact writers while the main process computes the next
sweep point. Three threads: a reader takes messages off the pipe, a writer
thread (rnnexp.tracking_writers) runs `write_and_log` writers into temporary
folders, and the main thread makes every MLflow call, in order per run:
- a run's calls wait behind that run's pending writers, so a run is ended only
  after its artifacts are logged, and ends FAILED if one of them failed;
- `create_run` jumps the queue (it concerns no other run). The main process
  does not wait for it: it names the run with a provisional id of its own
  (tracking_wire.PROVISIONAL_PREFIX), which the worker maps to the MLflow id
  in every call that follows;
- any other call that returns a value (`children`, ...) and `__close__` wait
  for every writer first, so they see everything sent before them.
When the main process ends without closing (killed, crashed), what was sent is
still carried out, and every run left open is ended KILLED.
"""

import itertools
import os
import queue
import shutil
import signal
import sys
import threading
import traceback
from collections import Counter, defaultdict, deque
from multiprocessing.connection import Connection
from pathlib import Path

from rnnexp import tracking_wire
from rnnexp.tracking import ERROR_TAG, Tracker
from rnnexp.tracking_writers import run_writers

UNORDERED_CALLS = ("__open__", "create_run", "__prepare__")  # wait for no writer, and go first
URGENT, IN_TURN = 0, 1
EOF = "__eof__"


class Worker:
    def __init__(self, replies: Connection):
        self.replies = replies
        self.inbox: "queue.PriorityQueue" = queue.PriorityQueue()  # (URGENT or IN_TURN, arrival, item)
        self.arrivals = itertools.count()
        self.jobs: "queue.Queue" = queue.Queue()
        self.opened = threading.Event()
        self.tracker = None
        self.open_runs, self.failed = set(), {}  # failed: run id -> error text
        self.aliases = {}  # provisional run id -> MLflow run id, or the error its creation raised
        self.pending = Counter()  # run id -> writers not yet logged
        self.backlog = defaultdict(deque)  # run id -> calls waiting for its writers
        self.held = deque()  # calls behind a barrier that waits for all writers
        self.closing = None  # "close" (asked to) or "eof" (main process gone)

    # -- the loop ---------------------------------------------------------
    def serve(self, requests: Connection) -> None:
        threading.Thread(target=self._read, args=(requests,), daemon=True).start()
        threading.Thread(target=run_writers, args=(self.jobs, self._report_written, self.opened), daemon=True).start()
        while not (self.closing and not self.held and not sum(self.pending.values())):
            # handled in a call of its own, so that its arrays are freed once
            # it is done with, not when the next message comes
            self._handle(self.inbox.get()[2])
        if self.closing == "eof":
            self._end_open_runs("KILLED", "the main process ended without ending this run")

    def _handle(self, item) -> None:
        if item == EOF:
            self.closing = self.closing or "eof"
        elif item[0] == "__written__":
            self._written(*item[1:])
        elif self.held:
            self.held.append(item)
        else:
            self._route(item)

    def _read(self, requests: Connection) -> None:
        try:
            while True:
                message = tracking_wire.recv(requests)
                self._put(URGENT if message[1] in UNORDERED_CALLS else IN_TURN, message)
                message = None  # not held while waiting for the next one
        except (EOFError, OSError):
            self._put(IN_TURN, EOF)

    def _put(self, priority: int, item) -> None:
        self.inbox.put((priority, next(self.arrivals), item))

    def _report_written(self, run_id, folder, artifact_path, error) -> None:
        self._put(IN_TURN, ("__written__", run_id, folder, artifact_path, error))

    def _route(self, message) -> None:
        seq, method, packed, wants_reply, run_id = message
        if method != "create_run":
            run_id = self._canonical(run_id)
            message = (seq, method, packed, wants_reply, run_id)
        if run_id is not None:
            if self.pending[run_id] or self.backlog[run_id]:
                self.backlog[run_id].append(message)
                return
        elif method not in UNORDERED_CALLS and sum(self.pending.values()):
            self.held.append(message)  # a barrier: after every writer sent before it
            return
        self._execute(message)

    def _written(self, run_id, folder, artifact_path, error) -> None:
        if error is None:
            self._guarded(run_id, lambda: self.tracker.log_folder(self._real(run_id), Path(folder), artifact_path))
        else:
            self._fail(run_id, error)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
        self.pending[run_id] -= 1
        while self.backlog[run_id] and not self.pending[run_id]:
            self._execute(self.backlog[run_id].popleft())
        while self.held and not sum(self.pending.values()):
            self._route(self.held.popleft())

    # -- the calls --------------------------------------------------------
    def _execute(self, message) -> None:
        seq, method, packed, wants_reply, run_id = message
        if method == "write_and_log":
            self.pending[run_id] += 1
            self.jobs.put((run_id, packed))
        elif method == "__prepare__":
            self.jobs.put((None, packed))  # for the writer thread, which reports nothing back
        elif method == "__close__":
            (status,), _ = packed.open()
            self._end_open_runs(status, "the run was still open when its tracker closed")
            self.closing = "close"
            self._reply(seq, True, None)
        elif wants_reply:
            try:
                value = self._call(method, *packed.open())
            except Exception as error:  # goes back to the caller, who raises it
                if method == "create_run" and run_id:
                    self.aliases[run_id] = error
                self._reply(seq, False, error)
            else:
                if method == "create_run" and run_id:
                    self.aliases[run_id] = value
                self._reply(seq, True, value)
        else:
            self._guarded(run_id, lambda: self._call(method, *packed.open()))

    def _call(self, method, args, kwargs):
        if method == "__open__":
            try:
                self.tracker = Tracker(*args, **kwargs)
            finally:
                self.opened.set()  # the writer thread warms up now, or stops waiting
            return self.tracker.tracking_uri, self.tracker.experiment_id
        args = tuple(self._real(value) for value in args)
        kwargs = {key: self._real(value) for key, value in kwargs.items()}
        if method == "terminate":
            return self._terminate(*args, **kwargs)
        value = getattr(self.tracker, method)(*args, **kwargs)
        if method == "create_run":
            self.open_runs.add(value)
        return value

    def _canonical(self, run_id):
        """The MLflow id of a provisional run id once known, else `run_id`:
        one run has one key in this worker's books whichever id a call used."""
        alias = self.aliases.get(run_id)
        return alias if isinstance(alias, str) else run_id

    def _real(self, value):
        """`value`, or the MLflow id if it is a provisional run id; raises if
        that run could not be created."""
        if not (isinstance(value, str) and value.startswith(tracking_wire.PROVISIONAL_PREFIX)):
            return value
        alias = self.aliases.get(value)
        if isinstance(alias, str):
            return alias
        raise RuntimeError(f"run {value} was never created"
                           + (f": {type(alias).__name__}: {alias}" if alias is not None else ""))

    def _terminate(self, run_id: str, status: str) -> None:
        if status == "FINISHED" and run_id in self.failed:
            self.tracker.set_tags(run_id, {ERROR_TAG: self.failed[run_id]})
            status = "FAILED"
        self.tracker.terminate(run_id, status)
        self.open_runs.discard(run_id)

    def _guarded(self, run_id, function) -> None:
        try:
            function()
        except Exception as error:
            self._fail(run_id, f"{type(error).__name__}: {error}")

    def _fail(self, run_id: str, text: str) -> None:
        """Records a failure of a call nobody waits for: the run will end
        FAILED (or is set so now, if it has ended already) and the main
        process hears of it."""
        text = text[:5000]
        self.failed.setdefault(run_id, text)
        self._notify(("failed", run_id, text))
        if str(self._canonical(run_id)).startswith(tracking_wire.PROVISIONAL_PREFIX):
            return  # never created: nothing in the store to mark
        if run_id not in self.open_runs and self.tracker is not None:
            try:
                self.tracker.set_tags(run_id, {ERROR_TAG: self.failed[run_id]})
                self.tracker.terminate(run_id, "FAILED")
            except Exception:
                traceback.print_exc()

    def _end_open_runs(self, status: str, why: str) -> None:
        for run_id in sorted(self.open_runs):
            try:
                self.tracker.set_tags(run_id, {ERROR_TAG: self.failed.get(run_id, why)})
                self.tracker.terminate(run_id, status)
            except Exception:
                traceback.print_exc()
        self.open_runs.clear()

    # -- replies ----------------------------------------------------------
    def _reply(self, seq: int, ok: bool, value) -> None:
        try:
            tracking_wire.send(self.replies, ("reply", seq, ok, value))
        except (BrokenPipeError, OSError):
            pass  # the main process is gone; nobody to tell
        except Exception as error:  # an unpicklable result or error
            self._notify(("reply", seq, False, RuntimeError(f"{type(value).__name__}: {value} ({error})")))

    def _notify(self, message) -> None:
        try:
            tracking_wire.send(self.replies, message)
        except (BrokenPipeError, OSError):
            pass


def serve(requests_fd: int, replies_fd: int) -> None:
    """The worker process's entry point: serves until the main process closes
    the pipe or asks it to close."""
    # The main process decides when to stop: a Ctrl-C or SIGTERM that reaches
    # the whole process group is its to handle; this process then ends the
    # runs as it is told, or as KILLED once the main process is gone.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    requests = Connection(requests_fd, writable=False)
    replies = Connection(replies_fd, readable=False)
    Worker(replies).serve(requests)
    replies.close()
    # Everything is recorded and committed: skip the interpreter's slow
    # teardown of MLflow, SQLAlchemy and pandas, which the main process waits for.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
