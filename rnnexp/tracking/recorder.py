"""Recorders: a job records each run through one, as a `RunRecord` that the
recorder creates at the start and writes in one piece at the end.

    with recorder.run(RunStart(name, params, tags)) as run:
        ...                       # compute; write files into run.folder
        run.log_metrics({...})    # and metrics, tags, pictures to draw, a model
    print(run.run_id)

`Recorder` does the MLflow work in this process. The CLI uses a
`BackgroundRecorder` (rnnexp.tracking.background) instead, which hands the
same records to a worker process, so that MLflow's import, the store and the
writing overlap this process's TensorFlow import and computing. Which one a
process gets, rnnexp.tracking.recorders decides.
"""

import json
import os
import sys
from contextlib import contextmanager
from typing import Dict, Iterator, List, Mapping, Optional, Sequence
from urllib.parse import quote

from rnnexp.interrupts import deferred_interrupts
from rnnexp.tracking import queries, writer
from rnnexp.tracking.run_record import RunRecord, RunResults, RunStart
from rnnexp.tracking.store import http_tracking_uri, open_store

LOCAL_UI = "http://127.0.0.1:5000"  # where `mlflow ui` listens unless told otherwise
# MLflow 3 opens an experiment and its runs in the GenAI view unless a link asks for this one.
ML_VIEW = "workflowType=machine_learning"


def ui_address(tracking_uri: str) -> str:
    """The MLflow UI's address for a store: a tracking server's own, else
    `mlflow ui` on this machine."""
    server = http_tracking_uri(tracking_uri)
    return server.rstrip("/") if server else LOCAL_UI


def ui_note(tracking_uri: str) -> Optional[str]:
    """What the links of a store that is not a server assume, once per
    command; None for a server."""
    if http_tracking_uri(tracking_uri):
        return None
    here = tracking_uri == f"sqlite:///{os.path.abspath('mlflow.db')}"
    started = "`mlflow ui` started in this folder" if here else f"`mlflow ui --backend-store-uri {tracking_uri}`"
    return f"(the links open in {started}, at {LOCAL_UI})"


class TrackingError(RuntimeError):
    """A record could not be written, or the tracking worker died."""


class RecorderBase:
    """What every recorder offers; subclasses do the MLflow work."""

    tracking_uri: str
    experiment_id: str
    experiment_name: str

    @contextmanager
    def run(self, start: RunStart) -> Iterator[RunRecord]:
        """Creates a run, yields its record, and writes the record when the
        body ends, with the status the body earned: FINISHED, KILLED on an
        interrupt, else FAILED with the error (raised on)."""
        record = self.start(start)
        try:
            yield record
        except BaseException as error:
            record.end(error)
            try:
                self.finish(record)
            except TrackingError as failure:  # the body's error is the one to raise
                print(f"rnnexp: error: recording failed: {failure}", file=sys.stderr)
            raise
        record.end(None)
        self.finish(record)

    def start(self, start: RunStart) -> RunRecord:
        raise NotImplementedError

    def finish(self, record: RunRecord) -> None:
        raise NotImplementedError

    def written(self, record: RunRecord) -> Dict[str, str]:
        """Waits until `record` is written; returns what writing made
        ({"model_uri": ...} for a record with a model)."""
        return record.written or {}

    def run_url(self, run_id: str) -> str:
        """The run's page in the MLflow UI (`ui_address`), in its model-training view."""
        return f"{ui_address(self.tracking_uri)}/#/experiments/{self.experiment_id}/runs/{run_id}?{ML_VIEW}"

    def runs_table_url(self) -> str:
        """The experiment's runs table."""
        return f"{ui_address(self.tracking_uri)}/#/experiments/{self.experiment_id}?{ML_VIEW}"

    def compare_url(self, run_ids: Sequence[str]) -> str:
        """The UI's comparison of these runs (params, metrics, plots side by side)."""
        runs, experiments = (quote(json.dumps(ids, separators=(",", ":")))
                             for ids in (list(run_ids), [self.experiment_id]))
        return f"{ui_address(self.tracking_uri)}/#/compare-runs?runs={runs}&experiments={experiments}"


class Recorder(RecorderBase):
    """Records runs into one MLflow store and experiment, in this process.

    Args:
        tracking_uri: None for MLflow's default (MLFLOW_TRACKING_URI, else
            sqlite:///mlflow.db plus ./mlruns in the working folder).
        experiment_name: created if missing, unless `create` is False.
        create: False to only read: a missing store or experiment raises LookupError.
    """

    def __init__(self, tracking_uri: Optional[str], experiment_name: str, create: bool = True):
        self.client, self.tracking_uri, self.experiment_id = open_store(tracking_uri, experiment_name, create)
        self.experiment_name = experiment_name

    def start(self, start: RunStart) -> RunRecord:
        with deferred_interrupts():  # an interrupt now would lose the id of a RUNNING run
            return RunRecord(start, self.create_run(start))

    def finish(self, record: RunRecord) -> None:
        """Writes the record; raises TrackingError if part of it could not be
        written (the run has then ended FAILED, the rest recorded)."""
        try:
            with deferred_interrupts():  # so that the run does not stay RUNNING
                record.written = self.write_results(record.run_id, record.results, record.start.params)
        except writer.WriteFailed as error:
            raise TrackingError(f"run {record.run_id} ({record.start.name}): {error}") from None
        finally:
            record.discard_files()

    def create_run(self, start: RunStart) -> str:
        return writer.create_run(self.client, self.experiment_id, start)

    def write_results(self, run_id: str, results: RunResults, params: Mapping[str, str]) -> Dict[str, str]:
        return writer.write_results(self.client, self.experiment_id, run_id, results, params)

    def end_run(self, run_id: str, status: str, error: str) -> None:
        """Ends a run this recorder did not start (a sweep point whose process died)."""
        writer.end_run(self.client, run_id, status, error)

    def children(self, parent_id: str) -> List[Dict]:
        return queries.children(self.client, self.experiment_id, parent_id)

    def find_finished(self, tags: Mapping[str, str]) -> Optional[str]:
        return queries.find_finished(self.client, self.experiment_id, tags)

    def status(self, run_id: str) -> str:
        return queries.status(self.client, run_id)

    def metric_histories(self, run_ids: List[str], key: str) -> Dict[str, List[float]]:
        return queries.metric_histories(self.client, list(run_ids), key)
