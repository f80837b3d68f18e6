"""Issue 4.3: Ctrl-C (SIGINT) and SIGTERM, sent for real to a running sweep,
end the run in progress KILLED, stop the sweep, end its parent KILLED, and
leave no run RUNNING.

To signal while a run is surely in progress, the test's fault injection
(tests/fault_injection/sitecustomize.py) pauses the second point inside its
run and says so on stdout."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

FAULTS = Path(__file__).resolve().parent / "fault_injection"


def start_sweep(cwd: Path, env: dict, *args) -> subprocess.Popen:
    full_env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    full_env.update({"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(FAULTS), **env})
    return subprocess.Popen([sys.executable, "-u", "-m", "rnnexp", *args], cwd=cwd, env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def descendants(pid: int) -> list:
    """The process ids under `pid`, from /proc."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            found += [int(child) for child in children]
            todo += [int(child) for child in children]
    return found


def communicate_or_dump(proc: subprocess.Popen, timeout: float):
    """proc.communicate(timeout); if it times out, every process of the tree
    prints its threads' stacks (faulthandler, SIGUSR1) before it is killed,
    and the test fails showing them."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        tree = [proc.pid] + descendants(proc.pid)
        for pid in tree:
            os.kill(pid, signal.SIGUSR1)
        time.sleep(3)
        for pid in tree:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        stdout, stderr = proc.communicate()
        pytest.fail(f"processes {tree} still running {timeout} s after the signal; their stacks:\n"
                    f"{stderr[-20000:]}\nstdout:\n{stdout[-3000:]}")


def wait_for_line(proc: subprocess.Popen, prefix: str, timeout: float = 600) -> list:
    """Reads stdout until a line starts with `prefix`; returns the lines read."""
    deadline, lines = time.monotonic() + timeout, []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith(prefix) or time.monotonic() > deadline:
            break
    assert lines and lines[-1].startswith(prefix), f"never saw {prefix!r}:\n{''.join(lines)[-3000:]}"
    return lines


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_kills_the_current_run_and_stops_the_sweep(tmp_path, store, signum):
    proc = start_sweep(tmp_path, {"RNNEXP_TEST_PAUSE_HIDDEN_SIZE": "2"},
                       "hidden_size=1,2,3", "data=char_h", "-m")
    try:
        wait_for_line(proc, "Recorded run 'hidden_size=1")
        wait_for_line(proc, "injected pause for hidden_size=2")
        proc.send_signal(signum)
        sent = time.monotonic()
        stdout, stderr = communicate_or_dump(proc, 120)
        print(f"{signal.Signals(signum).name}: process ended {time.monotonic() - sent:.1f} s after the signal")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 128 + signum, stderr[-3000:]
    assert "rnnexp: interrupted" in stderr
    assert "Recorded run 'hidden_size=3" not in stdout  # the sweep stopped

    runs = store.search_runs(["1"])
    statuses = {run.info.run_name: run.info.status for run in runs}
    parent = next(run for run in runs if run.data.tags.get("rnnexp.role") == "sweep")
    assert statuses == {"hidden_size=1,data=char_h": "FINISHED", "hidden_size=2,data=char_h": "KILLED",
                        parent.info.run_name: "KILLED"}
    killed = next(run for run in runs if run.info.run_name == "hidden_size=2,data=char_h")
    expected = "Terminated" if signum == signal.SIGTERM else "KeyboardInterrupt"
    assert killed.data.tags["rnnexp.error"].startswith(expected)
    assert parent.data.tags["rnnexp.error"].startswith(expected)
    assert "RUNNING" not in statuses.values()
