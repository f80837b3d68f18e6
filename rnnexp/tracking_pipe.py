"""The main process's end of the tracking worker: starts the worker process
(rnnexp.tracking_worker) and carries calls to it and answers back, over two
pipes. What the calls mean is rnnexp.tracking_async's business.
"""

import os
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from rnnexp import tracking_wire

PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)
# The worker imports this very package: its folder goes on the worker's path
# unless it is there already (as site-packages is).
WORKER_CODE = ("import sys; root = {root!r}; sys.path.insert(0, root) if root not in sys.path else None; "
               "from rnnexp.tracking_worker import serve; serve({requests}, {replies})")

# The worker holds each run's tensors only while it writes them. glibc serves
# allocations from 128 kB up from their own mappings, returned when freed, but
# raises that bar to the size of each mapping freed (up to 32 MB), after which
# freed tensors stay in its heap. A fixed bar keeps it: what the worker has
# written no longer counts in the process tree's memory.
WORKER_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(1 << 20)}


def worker_environment() -> Dict[str, str]:
    """This process's environment, plus WORKER_MALLOC unless already set."""
    return {**WORKER_MALLOC, **os.environ}


class WorkerGone(Exception):
    """The worker process has exited: nothing more can be sent or answered."""


class WorkerPipe:
    """Starts the worker at once. A call is a numbered message (seq, method,
    Packed((args, kwargs)), wants_reply, run_id); the worker answers
    ("reply", seq, ok, value) for those that want it, and reports
    ("failed", run id, error text) for a call nobody waits for."""

    def __init__(self):
        self.seq = 0
        self.answers: Dict[int, Tuple[bool, object]] = {}  # seq -> (ok, value), not yet collected
        self.failures: List[Tuple[str, str]] = []  # (run id, error text)
        requests_r, requests_w = os.pipe()
        replies_r, replies_w = os.pipe()
        code = WORKER_CODE.format(root=PACKAGE_ROOT, requests=requests_r, replies=replies_w)
        self.process = subprocess.Popen([sys.executable, "-c", code], pass_fds=(requests_r, replies_w),
                                        stdin=subprocess.DEVNULL, env=worker_environment())
        os.close(requests_r)
        os.close(replies_w)
        self._requests = Connection(requests_w, readable=False)
        self._replies = Connection(replies_r, writable=False)

    def send(self, method: str, args: tuple, kwargs: dict, wants_reply: bool, run_id: Optional[str]) -> int:
        """Sends a call; returns its number.

        Raises:
            WorkerGone: the worker has exited.
        """
        packed = tracking_wire.Packed((args, kwargs))  # an unpicklable argument fails here, before sending
        self.collect()  # answers nobody waits for yet must not fill the pipe and stall the worker
        self.seq += 1
        try:
            tracking_wire.send(self._requests, (self.seq, method, packed, wants_reply, run_id))
        except (BrokenPipeError, OSError):
            raise WorkerGone() from None
        return self.seq

    def wait(self, seq: int):
        """The answer to call `seq`, waiting for it; an error the worker
        answered is raised here.

        Raises:
            WorkerGone: the worker exited before it answered.
        """
        while seq not in self.answers:
            try:
                self._replies.poll(None)  # interruptible: nothing is read yet
                message = tracking_wire.recv(self._replies)
            except (EOFError, OSError):
                raise WorkerGone() from None
            self._take(message)
        ok, value = self.answers.pop(seq)
        if not ok:
            raise value
        return value

    def collect(self) -> None:
        """Reads what the worker has sent so far, without waiting."""
        try:
            while self._replies.poll(0):
                self._take(tracking_wire.recv(self._replies))
        except (EOFError, OSError):
            pass  # the worker is gone: the next wait finds out

    def _take(self, message) -> None:
        if message[0] == "reply":
            self.answers[message[1]] = message[2:]
        else:  # ("failed", run id, error text)
            self.failures.append(message[1:])
