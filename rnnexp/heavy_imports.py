"""Heavy imports (TensorFlow, MLflow and its store, matplotlib) with Python's
cyclic garbage collector paused.

Such an import makes hundreds of thousands of objects that live as long as
the process (TensorFlow: about 400,000) and almost no garbage (about 4,000
unreachable objects after TensorFlow's). The collector runs whenever
allocations outnumber frees by 700, and each of its full passes walks the
whole, growing heap again: during TensorFlow's import that is about 0.9 s of
4.5 s on this machine; 0.1 to 0.4 s for MLflow's import and new store and for
matplotlib's.

`collector_paused` turns the collector off for the import, then freezes
(`gc.freeze`) every object alive at its end, so that later full passes skip
them too: they would never be freed anyway. The few cycles of garbage made
during the import stay in memory (about 3 MB for TensorFlow's).
"""

import gc
from contextlib import contextmanager


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
