"""Test-only fault injection, loaded by Python at start-up when this folder is
on PYTHONPATH; rnnexp's code is unchanged. It wraps
`rnnexp.core.keras_rnn.build_rnn`:

- RNNEXP_TEST_FAIL_HIDDEN_SIZE=N: raises for hidden_size N, so one sweep point
  fails at run time, past its checks;
- RNNEXP_TEST_PAUSE_HIDDEN_SIZE=N: prints "injected pause" and sleeps for
  hidden_size N, so a test can signal the process while that run is RUNNING;
- RNNEXP_TEST_SKIP_POINT_CHECK=1: the launching process does not check the
  sweep's points first (as with a sweeper that chooses its points as it
  goes), so bad points reach their jobs.

It also lets a test ask any process started with it (the CLI and its
tracking worker) for every thread's stack, with SIGUSR1, when one hangs.
"""

import faulthandler
import os
import signal
import sys
import time

faulthandler.register(signal.SIGUSR1, all_threads=True)

_FAIL = os.environ.get("RNNEXP_TEST_FAIL_HIDDEN_SIZE")
_PAUSE = os.environ.get("RNNEXP_TEST_PAUSE_HIDDEN_SIZE")

if _FAIL or _PAUSE:
    import rnnexp.core.keras_rnn

    _build_rnn = rnnexp.core.keras_rnn.build_rnn

    def _faulty_build_rnn(api, rnn, hidden_size, seed=None, **options):
        if _FAIL and hidden_size == int(_FAIL):
            raise RuntimeError(f"injected fault for hidden_size={hidden_size}")
        if _PAUSE and hidden_size == int(_PAUSE):
            print(f"injected pause for hidden_size={hidden_size}", flush=True)
            sys.stdout.flush()
            time.sleep(600)
        return _build_rnn(api, rnn, hidden_size, seed, **options)

    rnnexp.core.keras_rnn.build_rnn = _faulty_build_rnn

if os.environ.get("RNNEXP_TEST_SKIP_POINT_CHECK"):
    import rnnexp.sweep.callback
    from rnnexp.sweep.points import SweepPlan, expand

    rnnexp.sweep.callback.plan_sweep = lambda loader, config: SweepPlan(points=expand(loader, config), problems=[])
