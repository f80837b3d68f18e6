"""A recorder whose MLflow work is done by a worker process
(rnnexp.tracking.worker), so that MLflow's import, the store's opening and
the writing of each record overlap this process's TensorFlow import and
computing. The seam is coarse: a run's start (name, params, tags) and, when
it ends, its results in one piece (files in a folder, metrics, tags,
pictures to draw, a model, the status).

- `start` returns the run's record at once; `record.run_id` waits for the
  worker's answer (by then it has usually come);
- `finish` hands the results over and returns; the record's files stay on
  disk until the worker says they are written;
- a record the worker could not write is reported by `close()`, which waits
  for everything handed over;
- if the worker dies, this process opens the store itself and writes what
  the worker left unwritten, then goes on recording in-process.
"""

import itertools
import os
import subprocess
import sys
from multiprocessing.connection import Connection
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from rnnexp.tracking import protocol
from rnnexp.tracking.recorder import Recorder, RecorderBase, TrackingError
from rnnexp.tracking.run_record import RUNNING, RunRecord, RunStart


class BackgroundRecorder(RecorderBase):
    """Args as Recorder's, and `warm_up` (see rnnexp.tracking.recorders.open_recorder).
    Starts the worker and returns at once."""

    def __init__(self, tracking_uri: Optional[str], experiment_name: str, warm_up: Sequence = ()):
        self.experiment_name = experiment_name
        self._requested_uri, self._pid = tracking_uri, os.getpid()
        self._keys = itertools.count(1)
        self._replies: Dict[Tuple[str, int], protocol.Reply] = {}
        self._unwritten: Dict[int, RunRecord] = {}  # handed to the worker, not yet confirmed written
        self._failures: List[str] = []
        self._in_process: Optional[Recorder] = None  # once the worker is gone
        self._taken_over: Dict[int, str] = {}  # record key -> run id, for records the worker left
        self._closed = False
        self._process, self._requests, self._answers = _start_worker()
        self._open = self._send(protocol.OPEN, tracking_uri, experiment_name, tuple(warm_up))

    @property
    def tracking_uri(self) -> str:
        return self._store()[0]

    @property
    def experiment_id(self) -> str:
        return self._store()[1]

    def _store(self) -> Tuple[str, str]:
        """(tracking URI, experiment id) as the worker opened them; its error, raised every time."""
        if self._in_process is not None:
            return self._in_process.tracking_uri, self._in_process.experiment_id
        reply = self._wait(protocol.OPEN, self._open)
        if reply is None:
            return self._store()
        if not reply.ok:
            raise TrackingError(f"could not open the tracking store: {reply.value.strip().splitlines()[0]}")
        return reply.value

    # -- runs -------------------------------------------------------------
    def start(self, start: RunStart) -> RunRecord:
        if self._in_process is not None:
            return self._in_process.start(start)
        key = self._send(protocol.START, start)
        if self._in_process is not None:  # this send found the worker gone: the run is created here
            return self._in_process.start(start)
        record = RunRecord(start, lambda: self._run_id(key))
        record.handle = key
        self._unwritten[key] = record
        return record

    def finish(self, record: RunRecord) -> None:
        if record.handle is None:  # started, or taken over, in this process
            self._in_process.finish(record)
        elif self._in_process is None:  # a send that finds the worker gone takes over, which writes it
            self._send(protocol.FINISH, record.results, record.start.params, key=record.handle)
        else:  # its creation failed in the worker, which then died: nothing to write to
            self._unwritten.pop(record.handle, None)
            record.discard_files()

    def written(self, record: RunRecord) -> Dict[str, str]:
        if record.handle in self._unwritten and self._in_process is None:
            self._wait(protocol.FINISH, record.handle)
        return record.written or {}

    def _run_id(self, key: int) -> str:
        reply = self._wait(protocol.START, key)
        if reply is None:  # the worker died first: the run was created here (`_take_over`)
            return self._taken_over[key]
        if not reply.ok:
            raise TrackingError(f"the run could not be created: {reply.value}")
        return reply.value

    # -- questions --------------------------------------------------------
    def children(self, parent_id: str) -> List[Dict]:
        return self._call("children", parent_id)

    def find_finished(self, tags: Mapping[str, str]) -> Optional[str]:
        return self._call("find_finished", dict(tags))

    def status(self, run_id: str) -> str:
        return self._call("status", run_id)

    def end_run(self, run_id: str, status: str, error: str) -> None:
        return self._call("end_run", run_id, status, error)

    def metric_histories(self, run_ids: List[str], key: str) -> Dict[str, List[float]]:
        return self._call("metric_histories", list(run_ids), key)

    def _call(self, name: str, *args):
        if self._in_process is None:
            key = self._send(protocol.CALL, name, *args)
            reply = self._wait(protocol.CALL, key)
            if reply is not None:
                if not reply.ok:
                    raise TrackingError(f"{name}: {reply.value}")
                return reply.value
        return getattr(self._in_process, name)(*args)

    def close(self, open_runs_status: str = "FAILED") -> None:
        """Waits until the worker has written everything handed to it and has
        exited; raises TrackingError naming what could not be written."""
        if self._closed or os.getpid() != self._pid:
            return
        self._closed = True
        if self._in_process is None and open_runs_status == "KILLED" and not self._unwritten:
            # Interrupted with nothing left to write: not waiting for the
            # worker (it may still be opening a store); it sees the pipe close and exits.
            self._requests.close()
        elif self._in_process is None:
            key = self._send(protocol.CLOSE, open_runs_status)
            if self._wait(protocol.CLOSE, key) is not None:
                self._process.wait()
        if self._failures:
            raise TrackingError("; ".join(self._failures))

    # -- the pipes --------------------------------------------------------
    def _send(self, kind: str, *arguments, key: Optional[int] = None) -> int:
        if os.getpid() != self._pid:
            raise TrackingError("a BackgroundRecorder cannot be used from a forked process; open a new one")
        key = next(self._keys) if key is None else key
        message = protocol.request(kind, key, *arguments)  # an unpicklable argument fails here
        self._collect()  # answers nobody waits for yet must not fill the pipe and stall the worker
        if self._in_process is None:
            try:
                protocol.send(self._requests, message)
            except OSError:
                self._take_over()
        return key

    def _wait(self, kind: str, key: int) -> Optional[protocol.Reply]:
        """The worker's reply to request (kind, key); None if the worker died first."""
        while (kind, key) not in self._replies:
            if self._in_process is not None or not self._read(timeout=None):
                return None
        return self._replies[kind, key]

    def _collect(self) -> None:
        while self._in_process is None and self._read(timeout=0):
            pass

    def _read(self, timeout: Optional[float]) -> bool:
        """Takes in one reply; False if none came (timeout 0) or the worker is gone."""
        try:
            reply = protocol.receive(self._answers, timeout)
        except (EOFError, OSError):
            self._take_over()
            return False
        if reply is None:
            return False
        self._replies[reply.kind, reply.key] = reply
        if reply.kind == protocol.FINISH:
            record = self._unwritten.pop(reply.key, None)
            if record is not None:
                record.written = reply.value if reply.ok else {}
                record.write_error = None if reply.ok else reply.value
                record.discard_files()
            if not reply.ok:
                started = self._replies.get((protocol.START, reply.key))
                run_id = started.value if started is not None and started.ok else "(never created)"
                self._failures.append(f"run {run_id} ({record.start.name if record else '?'}): {reply.value}")
        return True

    def _take_over(self) -> None:
        """The worker is gone: this process opens the store and writes what
        the worker had not confirmed; it records in-process from now on."""
        if self._in_process is not None:
            return
        code = self._process.wait()
        self._in_process = Recorder(self._requested_uri, self.experiment_name)
        print(f"rnnexp: the tracking worker exited with code {code}; recording goes on in this process",
              file=sys.stderr)
        for key, record in sorted(self._unwritten.items()):
            started = self._replies.get((protocol.START, key))
            if started is None:
                run_id = self._in_process.create_run(record.start)
            elif started.ok:
                run_id = started.value
            else:
                continue  # never created: record.run_id raises why
            record.handle = None
            record._run_id = self._taken_over[key] = run_id
            if record.results.status != RUNNING and self._in_process.status(record.run_id) == RUNNING:
                self._unwritten.pop(key)
                self._in_process.finish(record)


def _start_worker() -> Tuple[subprocess.Popen, Connection, Connection]:
    """Starts `python -m rnnexp.tracking.worker` with a pipe each way."""
    requests_r, requests_w = os.pipe()
    replies_r, replies_w = os.pipe()
    # Its own process group: a Ctrl-C at the terminal is the main process's to
    # handle (one that came while the worker still imported would kill it).
    process = subprocess.Popen([sys.executable, "-m", "rnnexp.tracking.worker", str(requests_r), str(replies_w)],
                               pass_fds=(requests_r, replies_w), stdin=subprocess.DEVNULL, process_group=0)
    os.close(requests_r)
    os.close(replies_w)
    return process, Connection(requests_w, readable=False), Connection(replies_r, writable=False)
