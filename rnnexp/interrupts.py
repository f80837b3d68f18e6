"""Ctrl-C and SIGTERM end the current run KILLED and stop a sweep.

Python turns SIGINT into KeyboardInterrupt; SIGTERM (what `kill`, SLURM and
container runtimes send) would end the process on the spot, leaving its run
RUNNING. `install_handlers` makes SIGTERM raise `Terminated`, a
KeyboardInterrupt, so both travel the same path: up through the run's context
manager (which ends it KILLED), out of Hydra's sweep loop, to the CLI.

Ending a run is a few database writes; cutting one of them in half can leave a
run RUNNING or a transaction open. `deferred_interrupts` holds both signals
back while such writes happen and delivers them afterwards.
"""

import signal
import threading
from contextlib import contextmanager
from typing import Iterator, List

HANDLED = (signal.SIGINT, signal.SIGTERM)


class Terminated(KeyboardInterrupt):
    """Raised by SIGTERM: an interrupt from outside, handled like Ctrl-C."""


def _raise_terminated(signum, frame):
    raise Terminated(f"received signal {signal.Signals(signum).name}")


def install_handlers() -> None:
    """SIGTERM raises `Terminated`; SIGINT raises KeyboardInterrupt, unless the
    process was started with SIGINT ignored (e.g. `nohup`), which is kept.
    Call once, from the main thread of the command line entry."""
    signal.signal(signal.SIGTERM, _raise_terminated)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """The shell's convention, 128 + the signal number: 130 for Ctrl-C, 143 for SIGTERM."""
    return 128 + (signal.SIGTERM if isinstance(interrupt, Terminated) else signal.SIGINT)


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Holds SIGINT and SIGTERM back inside the block; on leaving it, the first
    signal that arrived meanwhile is delivered to the handler that was in place.
    Outside the main thread (where Python runs no signal handlers) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: List[int] = []
    previous = {signum: signal.getsignal(signum) for signum in HANDLED}
    # None: a handler set outside Python, which could not be put back; ignored ones stay ignored
    held = [signum for signum, handler in previous.items() if handler not in (None, signal.SIG_IGN)]
    for signum in held:
        signal.signal(signum, lambda received, frame: pending.append(received))
    try:
        yield
    finally:
        for signum in held:
            signal.signal(signum, previous[signum])
        if pending:
            signal.raise_signal(pending[0])
