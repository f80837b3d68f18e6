"""Messages between the main process and its tracking worker, over a pipe.

A message is any picklable value. Large NumPy arrays travel out of band
(pickle protocol 5): their memory is written to the pipe as is, never copied
into one big pickle first, so a run's tensors cost no extra memory to send.

Frame: a pickled header (the size of each buffer), then the pickle, then each
buffer, each as one `Connection.send_bytes` record. Buffers are received into
fresh bytearrays, so arrays arrive writable, as they were sent.
"""

import os
import pickle
import signal
import threading
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any, List

# While a frame is being written or read, these signals wait, so that an
# interrupt (KeyboardInterrupt, or whatever a SIGTERM handler raises) lands
# between frames and never leaves half a message in the pipe.
DEFERRED_SIGNALS = (signal.SIGINT, signal.SIGTERM)

# A run id the main process makes up for a run it asked the worker to create,
# so that it goes on without waiting; the worker maps it to the MLflow id.
PROVISIONAL_PREFIX = "rnnexp-provisional-"


@contextmanager
def signals_deferred():
    """Holds SIGINT and SIGTERM back for the block, then hands any that came
    to the handler that was in place. (A signal mask would not do: Python runs
    its handlers in the main thread whichever thread the signal hit.)"""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread runs Python's signal handlers
        return
    caught = []
    previous = {number: signal.signal(number, lambda n, _frame: caught.append(n)) for number in DEFERRED_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        for number in caught:
            _redeliver(number, previous[number])


def _redeliver(number: int, handler) -> None:
    if callable(handler):
        handler(number, None)
    elif handler in (signal.SIG_DFL, None):
        os.kill(os.getpid(), number)  # the default action, now that it is back in place


class Packed:
    """A value pickled on its own inside a message: the receiver reads the
    message whole and opens this later, where a failure to unpickle it (a
    writer's module it cannot import) can be told to the right party."""

    def __init__(self, value: Any):
        self.buffers: List[pickle.PickleBuffer] = []
        self.body = pickle.dumps(value, protocol=5, buffer_callback=self.buffers.append)

    def __reduce__(self):
        return _packed, (self.body, self.buffers)  # the buffers go out of band with the message's

    def open(self) -> Any:
        return pickle.loads(self.body, buffers=self.buffers)


def _packed(body: bytes, buffers: list) -> Packed:
    packed = Packed.__new__(Packed)
    packed.body, packed.buffers = body, buffers
    return packed


def send(conn: Connection, message: Any) -> None:
    """Writes `message` as one frame.

    Raises:
        pickle.PicklingError, TypeError, AttributeError: `message` cannot be
            pickled (nothing has been written then).
        BrokenPipeError: the other end is gone.
    """
    buffers = []
    body = pickle.dumps(message, protocol=5, buffer_callback=buffers.append)
    raws = [buffer.raw() for buffer in buffers]
    header = pickle.dumps([raw.nbytes for raw in raws])
    with signals_deferred():
        conn.send_bytes(header)
        conn.send_bytes(body)
        for raw in raws:
            conn.send_bytes(raw)


def recv(conn: Connection) -> Any:
    """Reads one frame written by `send`.

    Raises:
        EOFError: the other end closed the pipe (or died).
    """
    with signals_deferred():
        sizes = pickle.loads(conn.recv_bytes())
        body = conn.recv_bytes()
        buffers = [bytearray(size) for size in sizes]
        for buffer in buffers:
            conn.recv_bytes_into(buffer)
    return pickle.loads(body, buffers=buffers)
