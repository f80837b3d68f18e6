"""The messages between a BackgroundRecorder and its worker process, and how
they travel: pickled, over two pipes (multiprocessing's `Connection`).

A request is one of:
    open   (tracking_uri, experiment_name, warm_up)  -> (tracking_uri, experiment_id)
    start  (RunStart,)                               -> run id
    finish (RunResults, params)                      -> what writing made, once written
    call   (name, *args), a name in CALLS            -> the answer
    close  (status for runs still open,)             -> None, then the worker exits
Every request is answered with a `Reply` of the same kind and key; an error
is answered as text. A request's arguments are pickled on their own, so that
the worker can still answer a request whose arguments it cannot unpickle.

Sending and receiving hold SIGINT and SIGTERM back until a message is
through, so that an interrupt never leaves half of one in a pipe.
"""

import pickle
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Optional

from rnnexp.interrupts import deferred_interrupts

OPEN, START, FINISH, CALL, CLOSE = "open", "start", "finish", "call", "close"
CALLS = ("children", "find_finished", "status", "end_run", "metric_histories")  # Recorder methods the worker answers


@dataclass(frozen=True)
class Request:
    kind: str
    key: int  # the sender's number for what this is about (a run's record, a call)
    payload: bytes  # the pickled arguments

    def arguments(self) -> tuple:
        return pickle.loads(self.payload)


@dataclass(frozen=True)
class Reply:
    kind: str
    key: int
    ok: bool
    value: Any  # the answer, or the error as text


def request(kind: str, key: int, *arguments) -> Request:
    """A request; raises here, before anything is sent, if an argument cannot be pickled."""
    return Request(kind, key, pickle.dumps(arguments, protocol=pickle.HIGHEST_PROTOCOL))


def send(conn: Connection, message) -> None:
    """Writes one message whole. Raises BrokenPipeError (an OSError) if the other end is gone."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    with deferred_interrupts():
        conn.send_bytes(data)


def receive(conn: Connection, timeout: Optional[float] = None):
    """The next message, or None if none came within `timeout` seconds
    (None: waits, interruptibly). Raises EOFError once the other end is gone."""
    if not conn.poll(timeout):
        return None
    with deferred_interrupts():
        data = conn.recv_bytes()
    return pickle.loads(data)
