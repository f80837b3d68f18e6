"""Imports a large package (TensorFlow, MLflow, matplotlib) with Python's
cyclic garbage collector paused, then freezes what the import made.

Such an import makes hundreds of thousands of objects that live as long as
the process (TensorFlow: about 400,000) and almost no garbage. The collector
runs whenever allocations outnumber frees by 700, and each of its full passes
walks the whole, growing heap: during TensorFlow's import that was about a
fifth of the import's time. Frozen (`gc.freeze`), those objects are skipped by
every later full pass too. The few cycles of garbage made during the import
stay in memory (a few MB). The figures are in bench/ and the history.
"""

import gc
import importlib
import sys
from contextlib import contextmanager
from types import ModuleType


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


def import_frozen(name: str) -> ModuleType:
    """`importlib.import_module(name)`, inside `collector_paused` the first time."""
    if name in sys.modules:
        return sys.modules[name]
    with collector_paused():
        return importlib.import_module(name)
