"""A sweep's parent run: one MLflow run per sweep, its points nested under it
(the tag `mlflow.parentRunId`). It is opened before any point runs, its id
handed to every job (rnnexp.sweep.handoff), and ended when the sweep ends
with a status that sums up its points, the comparison of the points
(compare.csv, compare.html) and, with plots on, sweep_summary.png.
"""

import sys
from pathlib import Path
from typing import List, Optional

from rnnexp.config.schema import MlflowConfig
from rnnexp.interrupts import deferred_interrupts
from rnnexp.store_uri import without_passwords
from rnnexp.sweep.handoff import SweepPoints, publish_parent_run, withdraw_parent_run
from rnnexp.tracking.recorder import RecorderBase, ui_note
from rnnexp.tracking.recorders import check_open, open_recorder
from rnnexp.tracking.run_record import FAILED, FINISHED, KILLED, RUNNING, RunRecord, RunStart
from rnnexp.tracking.tags import ERROR_TAG, ROLE_SWEEP, ROLE_TAG, SWEEP_DIR_TAG, error_text


def sweep_status(child_statuses: List[str], error: Optional[BaseException]) -> str:
    """The parent's status: KILLED if the sweep was interrupted (a
    KeyboardInterrupt, which SIGTERM raises too) or a child was killed; FAILED
    if the sweep stopped on another error or a child failed or never finished;
    else FINISHED."""
    if isinstance(error, KeyboardInterrupt) or KILLED in child_statuses:
        return KILLED
    if error is not None or any(status != FINISHED for status in child_statuses):
        return FAILED
    return FINISHED


class SweepParent:
    """An open sweep's parent run."""

    def __init__(self, recorder: RecorderBase, record: RunRecord, plots: bool):
        self.recorder, self.record, self.plots = recorder, record, plots

    @classmethod
    def open(cls, mlflow: MlflowConfig, overrides: List[str], sweep_dir: Path, plots: bool,
             preload=None, points: Optional[SweepPoints] = None) -> "SweepParent":
        """Creates the parent run and publishes its id in `sweep_dir`.

        Args:
            preload: called once the recorder is open and before the run's id
                is needed (TensorFlow's import, for jobs that run in this
                process: it overlaps a background recorder's opening of the store).
        """
        from rnnexp.record.plots import warm_ups

        recorder = open_recorder(mlflow.tracking_uri, mlflow.experiment_name, warm_ups(plots))
        if preload is not None:
            preload()
        check_open(recorder)  # a store that cannot be opened stops the sweep here, saying why
        start = RunStart(name=without_passwords(f"sweep {' '.join(overrides)}".strip()), params={},
                         tags={ROLE_TAG: ROLE_SWEEP, SWEEP_DIR_TAG: str(sweep_dir)})
        with deferred_interrupts():  # the record must reach _open_sweeps, or the parent stays RUNNING
            parent = cls(recorder, recorder.start(start), plots)
            _open_sweeps.append(parent)
        publish_parent_run(sweep_dir, parent.record.run_id, points)  # for jobs in other processes too
        print(without_passwords(f"Sweep recorded as parent run {parent.record.run_id} in experiment "
                                f"'{recorder.experiment_name}' at {recorder.tracking_uri}"))
        return parent

    def close(self, error: Optional[BaseException]) -> int:
        """Ends the parent run; prints the points that did not finish and
        returns how many. A point still RUNNING here belongs to a job whose
        process ended without ending it (a worker killed with its pool): it is
        ended KILLED."""
        children = None
        try:
            children = self._points()
            if children:
                self._write_summary(children)
        finally:  # whatever happened, the parent does not stay RUNNING (points not read: FAILED)
            statuses = [run["status"] for run in children] if children is not None else [FAILED]
            self.record.results.status = sweep_status(statuses, error)
            if error is not None:
                self.record.set_tags({ERROR_TAG: error_text(error)})
            self.recorder.finish(self.record)
        withdraw_parent_run()
        if children:
            self._show(children)
        failed = [run for run in children if run["status"] != FINISHED]
        if failed:
            print(f"\n{len(failed)} of {len(children)} sweep points did not finish:", file=sys.stderr)
            for run in failed:
                print(f"  {run['status']:8} {run['name']}: {run['tags'].get(ERROR_TAG) or '(no error recorded)'}",
                      file=sys.stderr)
        return len(failed)

    def _show(self, children: List[dict]) -> None:
        """The points as a table that fits the terminal, and the links into the UI."""
        import shutil

        from rnnexp.record.comparison import compare_table, format_table

        print(f"\nSweep '{self.record.start.name}': {len(children)} points, parent run {self.record.run_id}")
        print(format_table(compare_table(children), width=shutil.get_terminal_size((120, 24)).columns))
        print(f"Compare the points: {self.recorder.compare_url([run['run_id'] for run in children])}")
        print(f"The runs table: {self.recorder.runs_table_url()}")
        note = ui_note(self.recorder.tracking_uri)
        if note:
            print(without_passwords(note))

    def _points(self) -> List[dict]:
        """The sweep's points as they are now (rnnexp.tracking.queries)."""
        children = self.recorder.children(self.record.run_id)
        for run in children:
            if run["status"] == RUNNING:
                run["tags"][ERROR_TAG] = "its job's process ended without ending the run"
                self.recorder.end_run(run["run_id"], KILLED, run["tags"][ERROR_TAG])
                run["status"] = KILLED
        return children

    def _write_summary(self, children: List[dict]) -> None:
        """The comparison table (and plot) into the parent's record. A failure
        here is reported, not raised: the points' own records stand."""
        from rnnexp.record.comparison import write_sweep_summary

        try:
            write_sweep_summary(self.record.folder, children, self.plots)
            if self.plots:
                self._draw_gradients(children)
        except Exception as caught:  # noqa: BLE001  a summary is never worth losing the sweep's status
            print(f"rnnexp: could not write the sweep summary to run {self.record.run_id}: {caught!r}",
                  file=sys.stderr)


    def _draw_gradients(self, children: List[dict]) -> None:
        """sweep_gradients.png: every point's dynamics.grad_norm curve, if any point logged one."""
        from rnnexp.record.dynamics_plots import GRAD_NORM, sweep_gradient_figure

        histories = self.recorder.metric_histories([run["run_id"] for run in children], GRAD_NORM)
        curves = {run["name"]: histories[run["run_id"]] for run in children if run["run_id"] in histories}
        if curves:
            sweep_gradient_figure(self.record.folder / "sweep_gradients.png", curves)


_open_sweeps: List[SweepParent] = []
not_finished_points = 0  # points of this process's sweeps that did not finish; the CLI exits 1 if any


def close_open_sweeps(error: Optional[BaseException]) -> None:
    """Ends every parent run this process opened: from the callback's
    `on_multirun_end`, or from the CLI on its way out when Hydra stopped early
    (an interrupt, an error), which Hydra does not tell its callbacks."""
    global not_finished_points
    with deferred_interrupts():
        while _open_sweeps:
            not_finished_points += _open_sweeps[-1].close(error)
            _open_sweeps.pop()
