"""The background recorder (rnnexp.tracking.background) on a real store on
disk: it records what the in-process Recorder records, ends runs honestly
when a picture, the store, the worker or the main process fails, loses
nothing when its worker dies, and leaves no process behind.

Each test starts a worker process (which imports MLflow), hence `slow`.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from rnnexp.record.forward_files import write_forward_files, write_states_table
from rnnexp.tracking import recorders
from rnnexp.tracking.background import BackgroundRecorder
from rnnexp.tracking.recorder import Recorder, TrackingError
from rnnexp.tracking.run_record import RunStart
from rnnexp.tracking.tags import ERROR_TAG

pytestmark = pytest.mark.slow
TESTS = str(Path(__file__).resolve().parent)


def failing_writer(folder: Path, message: str) -> None:
    """A picture that fails after writing a file, as a full disk would."""
    (folder / "partial.txt").write_text("half")
    raise ValueError(message)


def note_warm_up() -> None:
    """A warm-up function: notes which process called it."""
    with open(os.environ["RNNEXP_TEST_MARKER"], "a") as marker:
        marker.write(f"{os.getpid()}\n")


def failing_warm_up() -> None:
    raise ValueError("a hint that fails")


@pytest.fixture
def worker_imports_tests(monkeypatch):
    """Lets the worker import this module (for the functions above)."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [TESTS, os.environ.get("PYTHONPATH")])))


def record_sample(recorder, hydra_dir: Path) -> list:
    """What a sweep records, plus a failing point; returns the points as
    `children` reads them. `hydra_dir` is changed right after it is added:
    what counts is what it held then."""
    hydra_dir.mkdir()
    (hydra_dir / "overrides.yaml").write_text("- hidden_size=3\n")
    rng = np.random.default_rng(0)
    outputs = rng.normal(size=(2, 5, 3)).astype(np.float32)
    tensors = {"inputs": np.zeros((2, 5, 4), np.float32), "outputs": outputs, "state_h": outputs[:, -1]}
    parent = recorder.start(RunStart("sweep", {}, {"rnnexp.role": "sweep"}))
    with recorder.run(RunStart("point", {"hidden_size": "3", "data.vocab": '["h", "e"]'}, {"rnnexp.role": "point"},
                               parent.run_id)) as run:
        write_forward_files(run.folder, tensors, np.array([5, 3]), {"kernel": np.eye(3, dtype=np.float32)}, "h: 3\n")
        run.render(write_states_table, ["hello", "hel"], outputs, np.array([5, 3]), under="")
        run.add_folder(hydra_dir, ".hydra")
        (hydra_dir / "overrides.yaml").write_text("changed later")
        run.log_metrics({"check.err": 0.25})
        run.log_series({"loss": [2.0, 1.0]})
        run.set_tags({"rnnexp.shapes": "{}"})
    with pytest.raises(ZeroDivisionError):
        with recorder.run(RunStart("broken", {"hidden_size": "4"}, {"rnnexp.role": "point"}, parent.run_id)):
            1 / 0
    children = recorder.children(parent.run_id)
    parent.end(None)
    recorder.finish(parent)
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


def test_records_what_the_in_process_recorder_records(tmp_path):
    here_uri, background_uri = f"sqlite:///{tmp_path / 'here.db'}", f"sqlite:///{tmp_path / 'background.db'}"
    here_children = record_sample(Recorder(here_uri, "rnnexp"), tmp_path / "here_hydra")
    recorder = BackgroundRecorder(background_uri, "rnnexp")
    background_children = record_sample(recorder, tmp_path / "background_hydra")
    recorder.close()

    expected, got = read_back(here_uri), read_back(background_uri)
    assert set(got) == {"sweep", "point", "broken"}
    assert got == expected
    assert got["point"]["status"] == "FINISHED" and got["broken"]["status"] == "FAILED"
    assert "ZeroDivisionError" in got["broken"]["tags"][ERROR_TAG]
    assert {"tensors/outputs.npy", "weights/kernel.npy", "tables/states.csv", "config.yaml"} <= set(got["point"]["files"])
    assert got["point"]["files"][".hydra/overrides.yaml"] == b"- hidden_size=3\n"
    assert got["point"]["loss"] == [(1, 2.0), (2, 1.0)] and got["point"]["has_parent"]
    unique = ("run_id", "tags", "start_time")  # differ between any two stores
    strip = [{k: v for k, v in child.items() if k not in unique} for child in background_children]
    assert strip == [{k: v for k, v in child.items() if k not in unique} for child in here_children]
    assert recorder._process.poll() is not None  # the worker is gone
    assert not [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("rnnexp-run-*") if "point" in p.name]


def test_a_failing_picture_fails_its_run_and_close_says_so(tmp_path, worker_imports_tests, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    recorder = BackgroundRecorder(uri, "rnnexp")
    with recorder.run(RunStart("bad", {"p": "1"}, {})) as bad:
        (bad.folder / "kept.txt").write_text("kept")
        bad.render(failing_writer, "disk full")
        bad.log_metrics({"m": 1.0})
    with recorder.run(RunStart("good", {}, {})) as good:
        good.log_metrics({"m": 2.0})
    with pytest.raises(TrackingError, match=f"run {bad.run_id} \\(bad\\): ValueError in "
                                            "test_tracking_background.failing_writer: disk full"):
        recorder.close()
    runs = read_back(uri)
    assert runs["bad"]["status"] == "FAILED" and "disk full" in runs["bad"]["tags"][ERROR_TAG]
    # the rest is still recorded, the half-written picture's file too
    assert runs["bad"]["metrics"] == {"m": 1.0} and set(runs["bad"]["files"]) == {"kept.txt", "partial.txt"}
    assert runs["good"]["status"] == "FINISHED"

    monkeypatch.delenv("PYTHONPATH")  # now the worker cannot import the picture's module
    recorder = BackgroundRecorder(uri, "rnnexp")
    with recorder.run(RunStart("unimportable", {}, {})) as run:
        run.render(failing_writer, "never runs")
    with pytest.raises(TrackingError, match="ModuleNotFoundError"):
        recorder.close()
    assert read_back(uri)["unimportable"]["status"] == "FAILED"


def test_a_dead_worker_loses_nothing(tmp_path, capfd):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    recorder = BackgroundRecorder(uri, "rnnexp")
    with recorder.run(RunStart("cut", {"p": "1"}, {})) as cut:
        cut.run_id  # created by the worker, which then dies while the run is open
        recorder._process.kill()
        recorder._process.wait()
        (cut.folder / "a.txt").write_text("a")
        cut.log_metrics({"m": 1.0})
    with recorder.run(RunStart("after", {}, {})) as after:  # in this process now
        after.log_metrics({"m": 2.0})
    recorder.close()  # nothing failed: nothing to raise
    assert "the tracking worker exited with code -9; recording goes on in this process" in capfd.readouterr().err
    runs = read_back(uri)
    assert runs["cut"]["status"] == "FINISHED" and runs["cut"]["metrics"] == {"m": 1.0}
    assert runs["cut"]["files"] == {"a.txt": b"a"} and runs["cut"]["params"] == {"p": "1"}
    assert runs["after"]["status"] == "FINISHED" and runs["after"]["metrics"] == {"m": 2.0}


def test_records_a_dead_worker_never_took_are_written_here(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    recorder = BackgroundRecorder(uri, "rnnexp")
    recorder.experiment_id  # the store is open
    recorder._process.send_signal(signal.SIGSTOP)  # it reads nothing more
    with recorder.run(RunStart("unread", {"p": "1"}, {})) as unread:
        unread.log_metrics({"m": 1.0})
    recorder._process.kill()
    recorder._process.wait()
    assert len(unread.run_id) == 32  # created here once the worker was found dead
    recorder.close()
    runs = read_back(uri)
    assert runs["unread"]["status"] == "FINISHED" and runs["unread"]["metrics"] == {"m": 1.0}


def test_a_run_the_store_refuses_raises_where_its_id_is_needed(tmp_path):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    recorder = BackgroundRecorder(uri, "rnnexp")
    experiment_id = recorder.experiment_id  # the store is made: no second process makes it at once
    MlflowClient(uri).delete_experiment(experiment_id)  # no run can be created in it now
    with recorder.run(RunStart("refused", {"p": "1"}, {})) as refused:  # returns at once: the worker answers later
        refused.log_metrics({"m": 1.0})
    with pytest.raises(TrackingError, match="could not be created: MlflowException.*must be in the 'active' state"):
        print(refused.run_id)
    with pytest.raises(TrackingError, match=r"run \(never created\) \(refused\): RuntimeError: the run was never created"):
        recorder.close()
    assert recorder._process.poll() is not None
    assert MlflowClient(uri).search_runs([experiment_id], run_view_type=3) == []


def test_warm_up_runs_once_in_the_worker_and_never_fails_a_run(tmp_path, worker_imports_tests, monkeypatch):
    marker = tmp_path / "warmed.txt"
    monkeypatch.setenv("RNNEXP_TEST_MARKER", str(marker))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    recorder = BackgroundRecorder(uri, "rnnexp", warm_up=(note_warm_up, failing_warm_up))
    with recorder.run(RunStart("after", {}, {})) as run:
        run.render(write_states_table, ["ab"], np.zeros((1, 2, 3)), np.array([2]))
    worker = recorder._process.pid
    recorder.close()  # nothing failed
    assert marker.read_text().split() == [str(worker)]
    assert read_back(uri)["after"]["status"] == "FINISHED"


def test_when_the_main_process_dies_the_worker_ends_its_runs_killed(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    script = textwrap.dedent(f"""
        import os
        from rnnexp.tracking.background import BackgroundRecorder
        from rnnexp.tracking.run_record import RunStart
        recorder = BackgroundRecorder({uri!r}, "rnnexp")
        with recorder.run(RunStart("done", {{}}, {{}})):
            pass
        open_run = recorder.start(RunStart("open", {{"p": "1"}}, {{}}))
        open_run.run_id
        print(recorder._process.pid, flush=True)
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


def test_the_cli_records_in_the_background_only_when_asked(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setattr(recorders, "_use_background", False)
    assert type(recorders.open_recorder(uri, "plain")) is Recorder
    monkeypatch.setenv(recorders.BACKGROUND_ENV, "sync")
    recorders.use_background_recorders()
    assert type(recorders.open_recorder(uri, "sync")) is Recorder
    monkeypatch.delenv(recorders.BACKGROUND_ENV)
    recorders.use_background_recorders()
    recorder = recorders.open_recorder(uri, "background")
    assert isinstance(recorder, BackgroundRecorder) and recorders.open_recorder(uri, "background") is recorder
    recorders.close_recorders()
    assert recorder._process.poll() is not None
