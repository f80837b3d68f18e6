"""The CLI with its tracking worker (the default): a sweep is recorded whole,
an interrupt or a kill leaves no run RUNNING, and no process outlives the run.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def processes_in(folder: Path) -> list:
    """Pids of the processes whose working folder is `folder`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "cwd") == str(folder):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def wait_until_none_in(folder: Path, seconds: float = 120) -> list:
    deadline = time.monotonic() + seconds
    while processes_in(folder) and time.monotonic() < deadline:
        time.sleep(0.2)
    return processes_in(folder)


def runs_by_status(store) -> dict:
    experiment = store.get_experiment_by_name("rnnexp")
    runs = store.search_runs([experiment.experiment_id])
    by_status = {}
    for run in runs:
        by_status.setdefault(run.info.status, []).append(run)
    return by_status


def test_a_sweep_is_recorded_whole_and_leaves_no_process(cli, store, tmp_path):
    cli("hidden_size=1,2,3", "-m")
    assert wait_until_none_in(tmp_path, 0) == []
    by_status = runs_by_status(store)
    assert set(by_status) == {"FINISHED"} and len(by_status["FINISHED"]) == 4
    for run in by_status["FINISHED"]:
        if run.data.tags.get("rnnexp.role") == "point":
            paths = {a.path for a in store.list_artifacts(run.info.run_id, "tensors")}
            assert "tensors/outputs.npy" in paths
            assert run.data.metrics["check.last_output_state_max_abs_err"] == 0.0


def start_sweep(tmp_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "rnnexp", "hidden_size=range(1,40)", "-m"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def wait_for_points(proc: subprocess.Popen, count: int) -> str:
    seen, lines = 0, []
    for line in proc.stdout:
        lines.append(line)
        seen += line.startswith("[") and "/#/experiments/" in line  # a point's line, "[3/39] 3 (...): ..."
        if seen >= count:
            return "".join(lines)
    raise AssertionError("the sweep ended early:\n" + "".join(lines[-50:]))


@pytest.mark.parametrize("how", ["ctrl-c", "kill"])
def test_an_interrupted_sweep_leaves_no_run_running(tmp_path, store, how):
    proc = start_sweep(tmp_path)
    wait_for_points(proc, 2)
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)  # the whole process group, as a terminal does
    else:
        proc.send_signal(signal.SIGTERM)  # the main process only, as `kill` does
    proc.communicate(timeout=300)
    assert proc.returncode != 0
    assert wait_until_none_in(tmp_path) == []  # the worker finished what it had, then left
    by_status = runs_by_status(store)
    assert "RUNNING" not in by_status
    assert len(by_status["FINISHED"]) >= 2
    assert "KILLED" in by_status  # the sweep's parent at least


def worker_of(pid: int) -> int:
    """The pid of the tracking worker the CLI process `pid` started."""
    for entry in Path("/proc").iterdir():
        try:
            if (entry.name.isdigit() and b"rnnexp.tracking.worker" in (entry / "cmdline").read_bytes()
                    and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid):
                return int(entry.name)
        except OSError:
            pass
    raise AssertionError(f"no tracking worker under {pid}")


def test_a_worker_killed_mid_sweep_loses_no_point(tmp_path, store):
    """Issue 15, item 3: `kill -9` of the worker (as the OOM killer would)."""
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "rnnexp", "hidden_size=range(201,209)", "plots.enabled=false",
                             "-m"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    before = wait_for_points(proc, 2)
    os.kill(worker_of(proc.pid), signal.SIGKILL)
    after, _ = proc.communicate(timeout=300)
    output = before + after
    assert proc.returncode == 0, output[-3000:]
    assert "the tracking worker exited with code -9; recording goes on in this process" in output
    by_status = runs_by_status(store)
    points = [run for runs in by_status.values() for run in runs if run.data.tags.get("rnnexp.role") == "point"]
    assert sorted(run.info.run_name.split(" ")[0] for run in points) == [str(h) for h in range(201, 209)]
    for run in points:  # every point whole: finished, with its metrics and files
        assert run.info.status == "FINISHED", (run.info.run_name, run.data.tags.get("rnnexp.error"))
        assert run.data.metrics["check.last_output_state_max_abs_err"] == 0.0
        assert "tensors/outputs.npy" in {a.path for a in store.list_artifacts(run.info.run_id, "tensors")}
    (parent,) = [run for runs in by_status.values() for run in runs if run.data.tags.get("rnnexp.role") == "sweep"]
    assert parent.info.status == "FINISHED" and ": 8 points, parent run" in output
    assert wait_until_none_in(tmp_path) == []
