"""A sweep (`-m`) is one MLflow parent run with one child run per point.

Hydra calls `SweepParentCallback.on_multirun_start` in the launching process
before any job starts: it opens the store (so that its schema is created once,
there, rather than raced by parallel workers), creates the parent run and
passes its id to every job through the environment, which local, joblib and
submitit workers inherit. The parent is ended by `on_multirun_end`, or, when
Hydra stops early (a failed point, an interrupt), by `finish_open_sweeps`,
which the CLI calls on its way out; either way its status sums up its children.
"""

import os
import sys
from typing import List, Optional, Tuple

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from rnnexp.job import PARENT_RUN_ENV, tracker_for
from rnnexp.sweep_compose import BASIC_LAUNCHER, compose_sweep_points_once

_open_sweeps: List[Tuple[object, str]] = []  # (Tracker, parent run id)


class SweepParentCallback(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        compose_sweep_points_once(config)  # Hydra would compose every point twice
        tracker = tracker_for(config.mlflow.tracking_uri, config.mlflow.experiment_name)
        if config.hydra.launcher.get("_target_") == BASIC_LAUNCHER:
            from rnnexp.model import preload

            preload()  # the jobs run here: TensorFlow loads while the tracker's worker opens the store
        overrides = " ".join(config.hydra.overrides.task)
        run_id = tracker.create_run(
            f"sweep {overrides}".strip(),
            {"rnnexp.role": "sweep", "rnnexp.sweep_dir": str(config.hydra.sweep.dir)},
        )
        os.environ[PARENT_RUN_ENV] = run_id
        _open_sweeps.append((tracker, run_id))
        print(f"Sweep recorded as parent run {run_id} in experiment "
              f"'{tracker.experiment_name}' at {tracker.tracking_uri}")

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        finish_open_sweeps(None)


def sweep_status(child_statuses: List[str], interrupted: bool) -> str:
    """The parent's status: KILLED if interrupted or a child was, else FAILED
    if a child failed or never finished, else FINISHED."""
    if interrupted or "KILLED" in child_statuses:
        return "KILLED"
    if any(status != "FINISHED" for status in child_statuses):
        return "FAILED"
    return "FINISHED"


def finish_open_sweeps(error: Optional[BaseException]) -> int:
    """Ends every parent run this process opened; prints the failed points.

    Returns:
        How many points did not finish.
    """
    not_finished = 0
    while _open_sweeps:
        tracker, parent_id = _open_sweeps.pop()
        children = tracker.children(parent_id)
        failed = [run for run in children if run["status"] != "FINISHED"]
        status = sweep_status([run["status"] for run in children], isinstance(error, KeyboardInterrupt))
        tracker.terminate(parent_id, status)
        os.environ.pop(PARENT_RUN_ENV, None)
        not_finished += len(failed)
        if failed:
            print(f"\n{len(failed)} of {len(children)} sweep points did not finish:", file=sys.stderr)
            for run in failed:
                error_text = run["tags"].get("rnnexp.error", "")
                print(f"  {run['status']:8} {run['name']}: {error_text}", file=sys.stderr)
    return not_finished
