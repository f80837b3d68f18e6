"""A sweep (`-m`) is one MLflow parent run with one child run per point.

Hydra calls `SweepParentCallback.on_multirun_start` in the launching process
before any job starts: it opens the store (so that its schema is created once,
there, rather than raced by parallel workers), creates the parent run and
passes its id to every job through the sweep folder and the environment
(rnnexp.launchers), which reach basic, joblib and submitit jobs alike. The
parent is ended by `on_multirun_end`, or, when Hydra stops early (a failed
point, an interrupt), by `finish_open_sweeps`, which the CLI calls on its way
out; either way its status sums up its children and Hydra's exit (a point
that failed before its run existed fails the parent), and it gets the
sweep's comparison table and summary plot (rnnexp.compare).
"""

import os
import sys
from pathlib import Path
from typing import List, Optional, Tuple

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from rnnexp.job import tracker_for
from rnnexp.launchers import publish_parent_run, withdraw_parent_run

_open_sweeps: List[Tuple[object, str, bool]] = []  # (Tracker, parent run id, plots enabled)


class SweepParentCallback(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        tracker = tracker_for(config.mlflow.tracking_uri, config.mlflow.experiment_name)
        overrides = " ".join(config.hydra.overrides.task)
        sweep_dir = Path(os.path.abspath(str(config.hydra.sweep.dir)))  # as Hydra makes job folders
        run_id = tracker.create_run(
            f"sweep {overrides}".strip(),
            {"rnnexp.role": "sweep", "rnnexp.sweep_dir": str(sweep_dir)},
        )
        publish_parent_run(sweep_dir, run_id)
        _open_sweeps.append((tracker, run_id, bool(config.plots.enabled)))
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
        tracker, parent_id, plots = _open_sweeps.pop()
        children = tracker.children(parent_id)
        failed = [run for run in children if run["status"] != "FINISHED"]
        status = sweep_status([run["status"] for run in children], isinstance(error, KeyboardInterrupt))
        if status == "FINISHED" and _is_failure(error):
            # A point rejected by validation fails before its run exists, so
            # only Hydra's exit says that the sweep did not all finish.
            status = "FAILED"
            tracker.set_tags(parent_id, {"rnnexp.error": "a sweep point failed before its run was "
                                                         "created; Hydra printed its error"})
        try:
            log_sweep_summary(tracker, parent_id, children, plots)
        finally:  # whatever happens to the summary, the parent does not stay RUNNING
            tracker.terminate(parent_id, status)
        withdraw_parent_run()
        not_finished += len(failed)
        if failed:
            print(f"\n{len(failed)} of {len(children)} sweep points did not finish:", file=sys.stderr)
            for run in failed:
                error_text = run["tags"].get("rnnexp.error", "")
                print(f"  {run['status']:8} {run['name']}: {error_text}", file=sys.stderr)
    return not_finished


def _is_failure(error: Optional[BaseException]) -> bool:
    """True for any way out but a clean one (Hydra exits 1 when a point failed)."""
    if isinstance(error, SystemExit):
        return error.code not in (0, None)
    return error is not None


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
