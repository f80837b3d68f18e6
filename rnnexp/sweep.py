"""A sweep (`-m`) is one MLflow parent run with one child run per point.

Hydra calls `SweepParentCallback.on_multirun_start` in the launching process
before any job starts. It checks every point first (rnnexp.sweep_points) and
that the tracking server answers, so a bad sweep fails at once with nothing
recorded. Then it opens the store, which creates and migrates a new store's
schema once, here, so that parallel workers (joblib, submitit) find it ready
instead of racing to create it; it creates the parent run and passes its id
to every job through the sweep folder and the environment (rnnexp.launchers),
which reach basic, joblib and submitit jobs alike. The parent is ended by `on_multirun_end`, or, when Hydra
stops early (an interrupt, an error), by `finish_open_sweeps`, which the CLI
calls on its way out; either way its status sums up its children, and it gets the sweep's
comparison table and summary plot (rnnexp.compare).
"""

import os
import sys
from pathlib import Path
import traceback
from typing import List, Optional, Tuple

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from rnnexp.errors import ConfigError
from rnnexp.interrupts import deferred_interrupts
from rnnexp.job import prepare_plots, tracker_for
from rnnexp.launchers import publish_parent_run, withdraw_parent_run
from rnnexp.server_probe import check_tracking_server
from rnnexp.sweep_points import point_problems
from rnnexp.tracking import ERROR_TAG, error_text
from rnnexp.sweep_compose import BASIC_LAUNCHER, compose_sweep_points_once

_open_sweeps: List[Tuple[object, str, bool]] = []  # (Tracker, parent run id, plots enabled)
# Points of this process's sweeps that did not finish; the CLI exits non-zero if any.
not_finished_points = 0


class SweepParentCallback(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        # Hydra turns an Exception raised here into a warning and sweeps on;
        # SystemExit is not one, so these stop the sweep before it starts.
        compose_sweep_points_once(config)  # the check's compositions serve the sweeper and launcher too
        try:
            problems = point_problems(config)
        except Exception:
            traceback.print_exc()
            print("rnnexp: error: could not check the sweep's points; nothing was run", file=sys.stderr)
            raise SystemExit(1)
        if problems:
            print(f"rnnexp: error: {len(problems)} sweep point(s) have bad values; nothing was run:",
                  file=sys.stderr)
            print("\n".join(f"  {line}" for line in problems), file=sys.stderr)
            raise SystemExit(2)
        try:
            check_tracking_server(config.mlflow.tracking_uri)
        except ConfigError as error:
            print(f"rnnexp: error: {error}", file=sys.stderr)
            raise SystemExit(2)
        try:
            self._create_parent(config)
        except Exception:
            traceback.print_exc()
            print("rnnexp: error: could not record the sweep's parent run; nothing was run", file=sys.stderr)
            raise SystemExit(1)

    @staticmethod
    def _create_parent(config: DictConfig) -> None:
        tracker = tracker_for(config.mlflow.tracking_uri, config.mlflow.experiment_name)
        prepare_plots(tracker, config)
        if config.hydra.launcher.get("_target_") == BASIC_LAUNCHER:
            from rnnexp.model import preload

            preload()  # the jobs run here: TensorFlow loads while the tracker's worker opens the store
        overrides = " ".join(config.hydra.overrides.task)
        sweep_dir = Path(os.path.abspath(str(config.hydra.sweep.dir)))  # as Hydra makes job folders
        with deferred_interrupts():  # the id must reach _open_sweeps, or the parent stays RUNNING
            run_id = tracker.create_run(
                f"sweep {overrides}".strip(),
                {"rnnexp.role": "sweep", "rnnexp.sweep_dir": str(sweep_dir)},
            )
            _open_sweeps.append((tracker, run_id, bool(config.plots.enabled)))
        run_id = tracker.resolved(run_id)  # published for jobs in other processes too: the MLflow id
        publish_parent_run(sweep_dir, run_id)
        print(f"Sweep recorded as parent run {run_id} in experiment "
              f"'{tracker.experiment_name}' at {tracker.tracking_uri}")

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        finish_open_sweeps(None)


def sweep_status(child_statuses: List[str], error: Optional[BaseException]) -> str:
    """The parent's status: KILLED if the sweep was interrupted (a
    KeyboardInterrupt, which SIGTERM raises too) or a child was killed; FAILED
    if the sweep stopped on another error or a child failed or never finished;
    else FINISHED."""
    if isinstance(error, KeyboardInterrupt) or "KILLED" in child_statuses:
        return "KILLED"
    if error is not None or any(status != "FINISHED" for status in child_statuses):
        return "FAILED"
    return "FINISHED"


def finish_open_sweeps(error: Optional[BaseException]) -> int:
    """Ends every parent run this process opened; prints the failed points.

    A child still RUNNING here belongs to a job whose process ended without
    ending it (a worker killed with its pool); it is ended KILLED.

    Returns:
        How many points did not finish.
    """
    global not_finished_points
    not_finished = 0
    with deferred_interrupts():
        while _open_sweeps:
            tracker, parent_id, plots = _open_sweeps[-1]
            children = tracker.children(parent_id)
            for run in children:
                if run["status"] == "RUNNING":
                    run["tags"][ERROR_TAG] = "its job's process ended without ending the run"
                    tracker.set_tags(run["run_id"], {ERROR_TAG: run["tags"][ERROR_TAG]})
                    tracker.terminate(run["run_id"], "KILLED")
                    run["status"] = "KILLED"
            failed = [run for run in children if run["status"] != "FINISHED"]
            if error is not None:
                tracker.set_tags(parent_id, {ERROR_TAG: error_text(error)})
            try:
                log_sweep_summary(tracker, parent_id, children, plots)
            finally:  # whatever happens to the summary, the parent does not stay RUNNING
                tracker.terminate(parent_id, sweep_status([run["status"] for run in children], error))
            _open_sweeps.pop()
            withdraw_parent_run()
            not_finished += len(failed)
            if failed:
                print(f"\n{len(failed)} of {len(children)} sweep points did not finish:", file=sys.stderr)
                for run in failed:
                    recorded = run["tags"].get(ERROR_TAG) or "(no error recorded)"
                    print(f"  {run['status']:8} {run['name']}: {recorded}", file=sys.stderr)
    not_finished_points += not_finished
    return not_finished



def log_sweep_summary(tracker, parent_id: str, children: List[dict], plots: bool) -> None:
    """Logs the comparison table (and the summary plot) to the parent run. A
    failure here is reported, not raised: the points' own records stand."""
    from rnnexp.compare import write_sweep_summary

    if not children:
        return
    try:
        tracker.write_and_log(parent_id, write_sweep_summary, children, plots)
    except Exception as caught:  # noqa: BLE001  a summary is a convenience, never worth losing the sweep's status
        print(f"rnnexp: could not write the sweep summary to run {parent_id}: {caught!r}", file=sys.stderr)
