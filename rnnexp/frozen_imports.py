"""Imports a large package (TensorFlow, MLflow, matplotlib) with Python's
cyclic garbage collector paused, then freezes what the import made.

Such an import makes hundreds of thousands of objects that live as long as
the process (TensorFlow: about 400,000) and almost no garbage. The collector
runs whenever allocations outnumber frees by 700, and each of its full passes
walks the whole, growing heap: during TensorFlow's import that was about a
fifth of the import's time. Frozen (`gc.freeze`), those objects are skipped by
every later full pass too. The few cycles of garbage made during the import
stay in memory (a few MB). The figures are in bench/ and the history.

`native_lines_dropped` keeps chosen lines that native code writes straight to
file descriptor 2 during such an import off the console (TensorFlow 2.21's
start-up notes ignore its TF_CPP_MIN_LOG_LEVEL switch).
"""

import gc
import importlib
import os
import re
import sys
import tempfile
from contextlib import contextmanager, nullcontext
from types import ModuleType
from typing import Optional


@contextmanager
def collector_paused():
    """Runs the body without the cyclic garbage collector, then freezes what
    is alive. The collector is turned back on only if it was on before, so a
    caller that turned it off (or an enclosing `collector_paused`) keeps it off."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def import_frozen(name: str, dropped_lines: Optional["re.Pattern[str]"] = None) -> ModuleType:
    """`importlib.import_module(name)`, inside `collector_paused` the first
    time, and inside `native_lines_dropped(dropped_lines)` if given."""
    if name in sys.modules:
        return sys.modules[name]
    with collector_paused(), (native_lines_dropped(dropped_lines) if dropped_lines else nullcontext()):
        return importlib.import_module(name)


@contextmanager
def native_lines_dropped(pattern: "re.Pattern[str]"):
    """Runs the body with file descriptor 2 caught in a temporary file, then
    writes to stderr every caught line that `pattern` does not match, also
    when the body raised (a Ctrl-C mid-import). Python's own writes to
    sys.stderr meanwhile are caught and passed on the same way, in order."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            lines = caught.read().decode(errors="replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not pattern.match(line))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()
