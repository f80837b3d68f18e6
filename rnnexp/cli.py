"""The command line: `python -m rnnexp [overrides] [-m]`. A thin Hydra entry;
the work is in rnnexp.job.

Exit codes: 0 all went well; 1 a run or sweep point failed; 2 bad config
values or an unreachable tracking server (nothing was run); 130/143
interrupted by SIGINT/SIGTERM.
"""

import atexit
import os
import sys
import threading
import traceback
from pathlib import Path

import hydra
from omegaconf import DictConfig

import rnnexp.schema  # noqa: F401  registers the schema before Hydra composes
from rnnexp import trackers
from rnnexp.errors import CheckFailed, ConfigError
from rnnexp.interrupts import exit_code, install_handlers

CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "conf")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def _hydra_main(cfg: DictConfig) -> None:
    from rnnexp.job import hydra_context, run_job
    from rnnexp.launchers import parent_run_id

    # A sweep point's failure is recorded on its run (FAILED, with the error),
    # and the sweep's summary lists every failed point and sets the exit code;
    # Hydra would print a traceback and name the first failure only. Without a
    # parent run (the sweep callback left out) Hydra's reporting is all there is.
    context = hydra_context()
    in_sweep = context.get("multirun") and parent_run_id(context["sweep_dir"])
    try:
        run_job(cfg)
    except (ConfigError, CheckFailed) as error:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise  # asked for the full trace
        bad_config = isinstance(error, ConfigError)
        print(f"rnnexp: {'error' if bad_config else 'check failed'}: {error}", file=sys.stderr)
        if not in_sweep:
            raise SystemExit(2 if bad_config else 1)  # not an Exception, so Hydra adds no traceback
    except Exception:
        if not in_sweep:
            raise
        traceback.print_exc()


def main() -> None:
    """The `rnnexp` command and `python -m rnnexp`: runs, then ends the
    process at once with its exit code (see `exit_now`). An unexpected error
    propagates as usual, with its traceback."""
    try:
        run()
    except SystemExit as stop:
        exit_now(stop.code)
    exit_now(0)


def exit_now(code) -> None:
    """Ends the process without the interpreter's teardown: with TensorFlow,
    Keras and Hydra loaded, freeing every module and object costs about two
    seconds, as much as a dozen small sweep points. Nothing is lost by it: the
    runs are recorded by then (`close_trackers` waited for the tracking worker),
    the atexit handlers still run (logging's closes the job's log file), and
    the console streams are flushed.

    A process with more to wind down (threads, worker processes: a joblib
    launcher's pool) exits the usual way, which stops those first."""
    multiprocessing = sys.modules.get("multiprocessing")
    if threading.active_count() > 1 or (multiprocessing is not None and multiprocessing.active_children()):
        raise SystemExit(code)
    if isinstance(code, str):  # SystemExit("message"), as sys.exit prints it
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be told
            pass
    os._exit(0 if code is None else int(code))


def run() -> None:
    """The command line's work: Hydra's app, then the sweeps and trackers
    closed whatever happened. Raises SystemExit with the exit code."""
    install_handlers()
    trackers.pipeline_runs()  # MLflow work in a helper process, drained below
    error = None
    try:
        _hydra_main()
    except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM through install_handlers
        error = interrupt
        print(f"\nrnnexp: interrupted ({str(interrupt) or 'SIGINT'}); a run in progress is recorded as KILLED",
              file=sys.stderr)
        raise SystemExit(exit_code(interrupt))
    except BaseException as caught:
        error = caught
        raise
    finally:
        if "rnnexp.sweep" in sys.modules:  # only a multirun loads it
            sys.modules["rnnexp.sweep"].finish_open_sweeps(error)
        trackers.close_trackers(error)
    if "rnnexp.sweep" in sys.modules and sys.modules["rnnexp.sweep"].not_finished_points:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
