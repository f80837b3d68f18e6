"""The command line: `python -m rnnexp [overrides] [-m]` (or `rnnexp ...`).
A thin Hydra app; each run is rnnexp.job's, a sweep's parent rnnexp.sweep's.

Exit codes: 0 all went well; 1 a run or sweep point failed; 2 a mistake in
the config (a bad value, a wrong type, an unknown option or key) or a
tracking store that cannot be opened: nothing was run; 130/143 interrupted by
SIGINT/SIGTERM.
"""

import logging
import os
import sys
import threading
import traceback

import hydra
from omegaconf import DictConfig

from rnnexp.config.compose import CONFIG_NAME, CONFIG_PATH, VERSION_BASE, register_schema
from rnnexp.config.hydra_errors import CONFIG_ERRORS, describe_config_error
from rnnexp.config.long_lists import long_list_note
from rnnexp.errors import CheckFailed, ConfigError
from rnnexp.interrupts import exit_code, install_handlers
from rnnexp.mmap_threshold import fix_mmap_threshold
from rnnexp.store_uri import without_passwords
from rnnexp.tracking.recorder import TrackingError
from rnnexp.tracking.recorders import close_recorders, use_background_recorders

register_schema()  # before Hydra composes

# Hydra's switch for raising its errors instead of printing them and exiting 1.
FULL_ERROR_ENV = "HYDRA_FULL_ERROR"
# Whether the user asked for full tracebacks (the CLI sets the switch for itself).
full_error_asked = os.environ.get(FULL_ERROR_ENV) == "1"
job_started = False  # whether Hydra got as far as calling a job (its folders made by then)


@hydra.main(version_base=VERSION_BASE, config_path=CONFIG_PATH, config_name=CONFIG_NAME)
def _hydra_main(cfg: DictConfig) -> None:
    from rnnexp.config.job_context import job_context
    from rnnexp.job import run_job
    from rnnexp.record.console import point_number, say
    from rnnexp.sweep.handoff import parent_run_id, sweep_points

    global job_started
    job_started = True
    # A sweep point's failure is recorded on its run (FAILED, with the error),
    # and the sweep's summary lists every failed point and sets the exit code;
    # Hydra would print a traceback and name the first failure only. Without a
    # parent run (the sweep callback left out) Hydra's reporting is all there is.
    context = job_context()
    in_sweep = context.sweep_dir is not None and parent_run_id(context.sweep_dir)
    try:
        run_job(cfg)
    except (ConfigError, CheckFailed, TrackingError) as error:
        if full_error_asked:
            raise  # asked for the full trace
        kind = {ConfigError: "error", CheckFailed: "check failed"}.get(type(error), "error: recording failed")
        where = point_number(context.number, sweep_points(context.sweep_dir).count) + " " if in_sweep else ""
        say(f"{where}rnnexp: {kind}: {error}", error=True)
        if not in_sweep:
            raise SystemExit(2 if isinstance(error, ConfigError) else 1)  # not an Exception: no traceback
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
    runs are recorded by then (`close_recorders` waited for the tracking
    worker), the logs are flushed and closed, and so are the console streams.

    A process with more to wind down (threads, worker processes: a joblib
    launcher's pool) exits the usual way, which stops those first."""
    multiprocessing = sys.modules.get("multiprocessing")
    if threading.active_count() > 1 or (multiprocessing is not None and multiprocessing.active_children()):
        raise SystemExit(code)
    if isinstance(code, str):  # SystemExit("message"), as sys.exit prints it
        print(code, file=sys.stderr)
        code = 1
    logging.shutdown()  # the job's log file
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be told
            pass
    os._exit(0 if code is None else int(code))


def run() -> None:
    """The command line's work: Hydra's app, then the sweeps and recorders
    closed whatever happened. Raises SystemExit with the exit code."""
    from rnnexp.sweep import parent

    install_handlers()
    fix_mmap_threshold()  # a sweep's freed tensors go back to the system: memory stays flat
    use_background_recorders()  # MLflow's work in a helper process, waited for below
    error = None
    os.environ[FULL_ERROR_ENV] = "1"  # Hydra raises a composition error to us, below
    note = long_list_note(sys.argv[1:])
    if note:  # before a composition that would otherwise be minutes of silence
        print(note, file=sys.stderr, flush=True)
    try:
        _hydra_main()
    except CONFIG_ERRORS as mistake:
        error = mistake
        if full_error_asked:
            raise
        print(without_passwords(f"rnnexp: error: {describe_config_error(mistake)}"), file=sys.stderr)
        raise SystemExit(2)
    except OSError as failed:  # Hydra could not write its output folder (an unwritable working folder)
        error = failed
        if job_started or full_error_asked or not failed.filename:  # a closed pipe names no file
            raise
        print(without_passwords(f"rnnexp: error: hydra.run.dir: cannot write {os.path.abspath(failed.filename)} "
                                f"({failed.strerror}) for Hydra's output folder; run in a writable folder or set "
                                f"hydra.run.dir (hydra.sweep.dir with -m) to one; nothing was run"), file=sys.stderr)
        raise SystemExit(2)
    except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM through install_handlers
        error = interrupt
        print(f"\nrnnexp: interrupted ({str(interrupt) or 'SIGINT'}); a run in progress is recorded as KILLED",
              file=sys.stderr)
        raise SystemExit(exit_code(interrupt))
    except BaseException as caught:
        error = caught
        raise
    finally:
        if not full_error_asked:
            os.environ.pop(FULL_ERROR_ENV, None)
        parent.close_open_sweeps(error)
        close_recorders(error)
    if parent.not_finished_points:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
