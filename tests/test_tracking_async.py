"""The asynchronous tracker (rnnexp.tracking_async) on a real store on disk:
it records what the in-process Tracker records, ends runs honestly when a
writer, the worker or the main process fails, and leaves no process behind.

Each test starts a worker process (which imports MLflow), hence `slow`.
"""

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from rnnexp import trackers
from rnnexp.artifacts import write_forward_artifacts, write_tensors
from rnnexp.encoding import one_hot
from rnnexp.tracking import ERROR_TAG, Tracker
from rnnexp.tracking_async import AsyncTracker, TrackingError

pytestmark = pytest.mark.slow
TESTS = str(Path(__file__).resolve().parent)


def failing_writer(folder: Path, message: str) -> None:
    """A writer that fails after writing a file, as a full disk would."""
    (folder / "partial.txt").write_text("half")
    raise ValueError(message)


def note_preparation() -> None:
    """A prepare_writers function: notes which process called it."""
    with open(os.environ["RNNEXP_TEST_MARKER"], "a") as marker:
        marker.write(f"{os.getpid()}\n")


def failing_preparation() -> None:
    raise ValueError("a hint that fails")


@pytest.fixture
def worker_imports_tests(monkeypatch):
    """Lets the worker import this module (for `failing_writer`)."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [TESTS, os.environ.get("PYTHONPATH")])))


def record_sample(tracker: Tracker, hydra_dir: Path) -> list:
    """The calls a sweep makes, plus a failing point; returns `children`.
    `hydra_dir` is changed right after it is logged: what counts is what it
    held when `log_folder` was called."""
    hydra_dir.mkdir()
    (hydra_dir / "overrides.yaml").write_text("- hidden_size=3\n")
    encoded = one_hot(["h", "e", "l", "o"], ["hello", "hel"])
    rng = np.random.default_rng(0)
    tensors = {"inputs": encoded.inputs, "outputs": rng.normal(size=(2, 5, 3)).astype(np.float32),
               "state_h": rng.normal(size=(2, 3)).astype(np.float32)}
    weights = {"kernel": rng.normal(size=(4, 3)).astype(np.float32), "bias": np.zeros(3, np.float32)}
    parent = tracker.create_run("sweep", {"rnnexp.role": "sweep"})
    with tracker.run("point", {"hidden_size": "3", "data.vocab": "[\"h\", \"e\"]"}, {"rnnexp.role": "point"}, parent) as run_id:
        tracker.write_and_log(run_id, write_forward_artifacts, ("hello", "hel"), tensors, weights,
                              encoded.lengths, "hidden_size: 3\n")
        tracker.write_here_and_log(run_id, write_tensors, {"twice": 2 * tensors["outputs"]}, encoded.lengths,
                                   artifact_path="here")
        tracker.log_folder(run_id, hydra_dir, ".hydra")
        (hydra_dir / "overrides.yaml").write_text("changed later")
        tracker.log_metrics(run_id, {"check.err": 0.25})
        tracker.log_metrics(run_id, {"loss": 2.0}, step=1)
        tracker.log_metrics(run_id, {"loss": 1.0}, step=2)
    with pytest.raises(ZeroDivisionError):
        with tracker.run("broken", {"hidden_size": "4"}, {"rnnexp.role": "point"}, parent):
            1 / 0
    children = tracker.children(parent)
    tracker.terminate(parent, "FINISHED")
    return children


def read_back(uri: str) -> dict:
    """Everything a store holds about its runs, by run name, ids left out."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("rnnexp")
    runs = {}
    for run in client.search_runs([experiment.experiment_id]):
        run_id = run.info.run_id
        files, stack = {}, [""]
        while stack:
            for item in client.list_artifacts(run_id, stack.pop() or None):
                if item.is_dir:
                    stack.append(item.path)
                else:
                    files[item.path] = Path(client.download_artifacts(run_id, item.path)).read_bytes()
        runs[run.info.run_name] = {
            "status": run.info.status, "params": run.data.params, "metrics": run.data.metrics,
            "loss": [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")],
            "tags": {k: v for k, v in run.data.tags.items() if k not in ("mlflow.parentRunId", "mlflow.user")},
            "has_parent": "mlflow.parentRunId" in run.data.tags, "files": files,
        }
    return runs


def test_records_what_the_sync_tracker_records(tmp_path):
    sync_uri, async_uri = f"sqlite:///{tmp_path / 'sync.db'}", f"sqlite:///{tmp_path / 'async.db'}"
    sync_children = record_sample(Tracker(sync_uri, "rnnexp"), tmp_path / "sync_hydra")
    tracker = AsyncTracker(async_uri, "rnnexp")
    async_children = record_sample(tracker, tmp_path / "async_hydra")
    tracker.close()

    expected, got = read_back(sync_uri), read_back(async_uri)
    assert set(got) == {"sweep", "point", "broken"}
    assert got == expected
    assert got["point"]["status"] == "FINISHED" and got["broken"]["status"] == "FAILED"
    assert "ZeroDivisionError" in got["broken"]["tags"][ERROR_TAG]
    assert {"tensors/outputs.npy", "tables/states.csv", "here/tensors/twice.npy"} <= set(got["point"]["files"])
    assert got["point"]["files"][".hydra/overrides.yaml"] == b"- hidden_size=3\n"
    unique = ("run_id", "tags", "start_time")  # differ between any two stores
    strip = [{k: v for k, v in child.items() if k not in unique} for child in async_children]
    assert strip == [{k: v for k, v in child.items() if k not in unique} for child in sync_children]
    assert tracker._process.poll() is not None  # the worker is gone


written_here = []


def writer_here(folder: Path, fail: bool) -> None:
    """Writes a file in the calling process and notes where."""
    written_here.append(folder)
    (folder / "a.txt").write_text("a")
    if fail:
        raise OSError("disk full")


def test_written_here_the_folder_is_logged_then_deleted(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    written_here.clear()
    tracker = AsyncTracker(uri, "rnnexp")
    with tracker.run("here", {}, {}) as run_id:
        tracker.write_here_and_log(run_id, writer_here, False)
        with pytest.raises(OSError, match="disk full"):  # raised here, at once, as the in-process Tracker does
            tracker.write_here_and_log(run_id, writer_here, True)
        assert not written_here[1].exists()  # never handed over: deleted here
    tracker.close()

    assert not written_here[0].exists()
    assert read_back(uri)["here"]["files"] == {"a.txt": b"a"}
    assert read_back(uri)["here"]["status"] == "FINISHED"


def test_a_failing_writer_fails_its_run_and_close_says_so(tmp_path, worker_imports_tests, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    tracker = AsyncTracker(uri, "rnnexp")
    with tracker.run("bad", {"p": "1"}, {}) as bad:
        tracker.write_and_log(bad, failing_writer, "disk full")
        tracker.log_metrics(bad, {"m": 1.0})
    with tracker.run("good", {}, {}) as good:
        tracker.log_metrics(good, {"m": 2.0})
    with pytest.raises(TypeError, match="module-level function"):
        tracker.write_and_log(good, lambda folder: None)
    bad = tracker.resolved(bad)  # the error names the run by its MLflow id
    with pytest.raises(TrackingError, match=f"run {bad}: ValueError in test_tracking_async.failing_writer: disk full"):
        tracker.close()
    runs = read_back(uri)
    assert runs["bad"]["status"] == "FAILED"
    assert "disk full" in runs["bad"]["tags"][ERROR_TAG]
    assert runs["bad"]["metrics"] == {"m": 1.0} and runs["bad"]["files"] == {}  # the rest is still recorded
    assert runs["good"]["status"] == "FINISHED"

    monkeypatch.delenv("PYTHONPATH")  # now the worker cannot import the writer's module
    tracker = AsyncTracker(uri, "rnnexp")
    with tracker.run("unimportable", {}, {}) as run_id:
        tracker.write_and_log(run_id, failing_writer, "never runs")
    with pytest.raises(TrackingError, match="ModuleNotFoundError"):
        tracker.close()
    assert read_back(uri)["unimportable"]["status"] == "FAILED"


def test_a_dead_worker_fails_open_runs_and_the_tracker_carries_on(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    tracker = AsyncTracker(uri, "rnnexp")
    with pytest.raises(TrackingError, match="exited with code -9"):
        with tracker.run("cut", {"p": "1"}, {}) as cut:
            tracker.resolved(cut)  # created: the worker dies while the run is open
            tracker._process.kill()
            tracker._process.wait()
            tracker.log_metrics(cut, {"m": 1.0})
    with tracker.run("after", {}, {}) as after:  # in this process now
        tracker.log_metrics(after, {"m": 2.0})
    with pytest.raises(TrackingError, match="exited with code -9"):
        tracker.close()
    runs = read_back(uri)
    assert runs["cut"]["status"] == "FAILED" and "TrackingError" in runs["cut"]["tags"][ERROR_TAG]
    assert runs["after"]["status"] == "FINISHED" and runs["after"]["metrics"] == {"m": 2.0}


def test_a_run_the_dead_worker_never_created_is_reported_lost(tmp_path):
    import signal

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    tracker = AsyncTracker(uri, "rnnexp")
    tracker.experiment_id  # the store is open
    tracker._process.send_signal(signal.SIGSTOP)  # it reads nothing more
    with pytest.raises(TrackingError, match="exited with code -9"):
        with tracker.run("never", {"p": "1"}, {}) as never:
            tracker._process.kill()
            tracker._process.wait()
            tracker.log_metrics(never, {"m": 1.0})
    with pytest.raises(TrackingError, match=f"run {never} was lost with the tracking worker"):
        tracker.resolved(never)
    with tracker.run("after", {}, {}):  # in this process now
        pass
    with pytest.raises(TrackingError, match="exited with code -9"):
        tracker.close()
    runs = read_back(uri)
    assert set(runs) == {"after"} and runs["after"]["status"] == "FINISHED"


def test_a_run_the_store_refuses_raises_where_its_id_is_needed(tmp_path):
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    tracker = AsyncTracker(uri, "rnnexp")
    experiment_id = tracker.experiment_id  # the store is made: no second process makes it at once
    MlflowClient(uri).delete_experiment(experiment_id)  # no run can be created in it now
    with tracker.run("refused", {"p": "1"}, {}) as refused:  # returns at once: the worker answers later
        tracker.log_metrics(refused, {"m": 1.0})
    with pytest.raises(MlflowException, match="must be in the 'active' state"):
        tracker.resolved(refused)
    with pytest.raises(MlflowException, match="must be in the 'active' state"):
        tracker.run_url(refused)
    with pytest.raises(TrackingError, match=f"run {refused} was never created: MlflowException"):
        tracker.close()
    assert tracker._process.poll() is not None
    assert MlflowClient(uri).search_runs([experiment_id], run_view_type=3) == []


def test_prepare_writers_runs_once_in_the_worker_and_never_fails_a_run(tmp_path, worker_imports_tests, monkeypatch):
    marker = tmp_path / "prepared.txt"
    monkeypatch.setenv("RNNEXP_TEST_MARKER", str(marker))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    tracker = AsyncTracker(uri, "rnnexp")
    for _ in range(2):
        tracker.prepare_writers(note_preparation)
        tracker.prepare_writers(failing_preparation)
    assert tracker._opened is None  # a hint never waits for the store to open
    with pytest.raises(TypeError, match="module-level function"):
        tracker.prepare_writers(lambda: None)
    with tracker.run("after", {}, {}) as run_id:
        tracker.write_and_log(run_id, write_tensors, {"x": np.zeros(2)}, np.array([2]))
    worker = tracker._process.pid
    tracker.close()  # nothing failed
    assert marker.read_text().split() == [str(worker)]
    assert read_back(uri)["after"]["status"] == "FINISHED"
    Tracker(uri, "rnnexp").prepare_writers(note_preparation)  # in process: a hint with no time to use
    assert marker.read_text().split() == [str(worker)]


def test_when_the_main_process_dies_the_worker_ends_its_runs_killed(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    script = textwrap.dedent(f"""
        import os
        from rnnexp.tracking_async import AsyncTracker
        tracker = AsyncTracker({uri!r}, "rnnexp")
        done = tracker.create_run("done", {{}})
        tracker.terminate(done, "FINISHED")
        open_run = tracker.create_run("open", {{}})
        tracker.log_params(open_run, {{"p": "1"}})
        print(tracker._process.pid, flush=True)
        os._exit(3)  # as if killed: no cleanup at all
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 3, proc.stderr
    worker = int(proc.stdout.split()[0])
    deadline = time.monotonic() + 120
    while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{worker}").exists()
    runs = read_back(uri)
    assert runs["done"]["status"] == "FINISHED"
    assert runs["open"]["status"] == "KILLED" and runs["open"]["params"] == {"p": "1"}
    assert "main process ended" in runs["open"]["tags"][ERROR_TAG]


def test_the_cli_pipelines_only_when_asked(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setattr(trackers, "_pipelining", False)
    assert type(trackers.open_tracker(uri, "plain")) is Tracker
    monkeypatch.setenv(trackers.TRACKER_ENV, "sync")
    trackers.pipeline_runs()
    assert type(trackers.open_tracker(uri, "sync")) is Tracker
    monkeypatch.delenv(trackers.TRACKER_ENV)
    trackers.pipeline_runs()
    tracker = trackers.open_tracker(uri, "async")
    assert isinstance(tracker, AsyncTracker) and trackers.open_tracker(uri, "async") is tracker
    trackers.close_trackers()
    assert tracker._process.poll() is not None
