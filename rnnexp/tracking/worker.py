"""The tracking worker: a process that owns the MLflow store for a
BackgroundRecorder (rnnexp.tracking.background starts it as
`python -m rnnexp.tracking.worker REQUESTS_FD REPLIES_FD`).

It opens the store (importing MLflow) while the main process imports
TensorFlow, then writes each run record it is handed while the main process
computes the next one, through an in-process `Recorder`, answering every
request in the order it came (rnnexp.tracking.protocol). A thread reads the
requests as they come, so that the main process never waits for a pipe to
drain. If the main process goes away without closing, what it sent is still
written, and every run it left open is ended KILLED.
"""

import os
import queue
import signal
import sys
import threading
import traceback
from multiprocessing.connection import Connection

from rnnexp.tracking import protocol
from rnnexp.tracking.recorder import Recorder
from rnnexp.tracking.run_record import KILLED
from rnnexp.tracking.writer import WriteFailed

GONE = None  # what the reader queues once the main process has closed its end


class Worker:
    def __init__(self, replies: Connection):
        self.replies = replies
        self.recorder = None
        self.open_error = "(never asked to open it)"
        self.run_ids = {}  # record key -> MLflow run id
        self.open_runs = {}  # record key -> run id, started and not yet finished

    def serve(self, requests: Connection) -> None:
        inbox: "queue.Queue" = queue.Queue()
        threading.Thread(target=_read, args=(requests, inbox), daemon=True).start()
        while True:
            message = inbox.get()
            if message is GONE:
                self.end_open_runs(KILLED, "the main process ended without ending this run")
                return
            if not self.handle(message):
                return

    def handle(self, message: protocol.Request) -> bool:
        """Carries out one request and answers it; False once asked to close."""
        try:
            value = self.carry_out(message.kind, message.key, message.arguments())
        except WriteFailed as error:  # its message names what failed
            self.answer(message, False, str(error))
        except Exception as error:  # noqa: BLE001  answered as text: the main process decides
            self.answer(message, False, f"{type(error).__name__}: {error}")
        else:
            self.answer(message, True, value)
        if message.kind == protocol.OPEN and self.recorder is not None:
            self.warm_up(message.arguments()[2])
        return message.kind != protocol.CLOSE

    def carry_out(self, kind: str, key: int, arguments: tuple):
        if kind == protocol.OPEN:
            tracking_uri, experiment_name, _ = arguments
            try:
                self.recorder = Recorder(tracking_uri, experiment_name)
            except Exception as error:  # noqa: BLE001  every later request answers with it
                self.open_error = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error) else ''}"
                raise
            return self.recorder.tracking_uri, self.recorder.experiment_id
        if self.recorder is None:
            raise RuntimeError(f"the store could not be opened: {self.open_error}")
        if kind == protocol.START:
            (start,) = arguments
            self.run_ids[key] = self.open_runs[key] = self.recorder.create_run(start)
            return self.run_ids[key]
        if kind == protocol.FINISH:
            results, params = arguments
            if key not in self.run_ids:
                raise RuntimeError("the run was never created")
            self.open_runs.pop(key, None)
            return self.recorder.write_results(self.run_ids[key], results, params)
        if kind == protocol.CALL:
            name, *args = arguments
            if name not in protocol.CALLS:
                raise ValueError(f"call={name!r}: expected one of {protocol.CALLS}")
            return getattr(self.recorder, name)(*args)
        if kind == protocol.CLOSE:
            (status,) = arguments
            self.end_open_runs(status, "the run was still open when its recorder closed")
            return None
        raise ValueError(f"kind={kind!r}: expected one of open, start, finish, call, close")

    def warm_up(self, functions) -> None:
        """Loads what the pictures to come need (a hint: a failure changes nothing)."""
        for function in functions:
            try:
                function()
            except Exception:  # noqa: BLE001  the writer that needs it will raise what it raised
                pass

    def end_open_runs(self, status: str, why: str) -> None:
        for run_id in [self.open_runs[key] for key in sorted(self.open_runs)]:
            try:
                self.recorder.end_run(run_id, status, why)
            except Exception:  # noqa: BLE001  the others are still ended
                traceback.print_exc()
        self.open_runs.clear()

    def answer(self, message: protocol.Request, ok: bool, value) -> None:
        try:
            protocol.send(self.replies, protocol.Reply(message.kind, message.key, ok, value))
        except OSError:
            pass  # the main process is gone; nobody to tell


def _read(requests: Connection, inbox: "queue.Queue") -> None:
    try:
        while True:
            inbox.put(protocol.receive(requests))
    except (EOFError, OSError):
        inbox.put(GONE)
    except Exception:  # noqa: BLE001  a message that cannot be read: the pipe is out of step
        traceback.print_exc()
        inbox.put(GONE)


def main(requests_fd: int, replies_fd: int) -> None:
    # The main process decides when to stop: a Ctrl-C or SIGTERM that reaches
    # the whole process group is its to handle; this process then ends the
    # runs as it is told, or as KILLED once the main process is gone.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    replies = Connection(replies_fd, readable=False)
    Worker(replies).serve(Connection(requests_fd, writable=False))
    replies.close()
    # Everything is written: skip the interpreter's slow teardown of MLflow,
    # SQLAlchemy and pandas, which the main process waits for.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
