"""Issue 4.3: Ctrl-C (SIGINT) and SIGTERM, sent for real to a running sweep,
end the run in progress KILLED, stop the sweep, end its parent KILLED, and
leave no run RUNNING.

To signal while a run is surely in progress, the test's fault injection
(tests/fault_injection/sitecustomize.py) pauses the second point inside its
run and says so on stdout."""

import os
import queue
import signal
import subprocess
import sys
import threading
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


class Output:
    """Reads a process's stdout and stderr in threads, so that neither pipe
    fills up and a wait for a line ends in time, with the output so far."""

    def __init__(self, proc: subprocess.Popen):
        self.proc, self.lines, self.stdout, self.stderr = proc, queue.Queue(), [], []
        self.threads = [threading.Thread(target=self._pump, args=(proc.stdout, self.stdout, True), daemon=True),
                        threading.Thread(target=self._pump, args=(proc.stderr, self.stderr, False), daemon=True)]
        for thread in self.threads:
            thread.start()

    def _pump(self, stream, kept: list, announce: bool) -> None:
        for line in stream:
            kept.append(line)
            if announce:
                self.lines.put(line)
        if announce:
            self.lines.put(None)  # end of stdout

    def tails(self) -> str:
        return f"stdout:\n{''.join(self.stdout)[-3000:]}\nstderr:\n{''.join(self.stderr)[-20000:]}"

    def wait_for_line(self, prefix: str, timeout: float = 600) -> None:
        """Returns once stdout has a line starting with `prefix`; fails the
        test if stdout ends or `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                pytest.fail(f"never saw a line starting {prefix!r}\n{self.tails()}")
            if line.startswith(prefix):
                return

    def finish(self, timeout: float):
        """Waits for the process to exit and returns (stdout, stderr). If it
        is still running after `timeout` s, every process of its tree prints
        its threads' stacks (faulthandler, SIGUSR1) before it is killed, and
        the test fails showing them."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            tree = [self.proc.pid] + descendants(self.proc.pid)
            for pid in tree:
                os.kill(pid, signal.SIGUSR1)
            time.sleep(3)
            for pid in tree:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.wait()
            for thread in self.threads:
                thread.join(timeout=10)
            pytest.fail(f"processes {tree} still running {timeout} s after the signal; their stacks:\n{self.tails()}")
        for thread in self.threads:  # the pipes close once the tracking worker has exited too
            thread.join(timeout=timeout)
        return "".join(self.stdout), "".join(self.stderr)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_kills_the_current_run_and_stops_the_sweep(tmp_path, store, signum):
    proc = start_sweep(tmp_path, {"RNNEXP_TEST_PAUSE_HIDDEN_SIZE": "2"},
                       "hidden_size=1,2,3", "data=char_h", "-m")
    output = Output(proc)
    try:
        output.wait_for_line("[1/3] 1 (hidden_size=1")
        output.wait_for_line("injected pause for hidden_size=2")
        proc.send_signal(signum)
        sent = time.monotonic()
        stdout, stderr = output.finish(120)
        print(f"{signal.Signals(signum).name}: process ended {time.monotonic() - sent:.1f} s after the signal")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signum, stderr[-3000:]
    assert "rnnexp: interrupted" in stderr
    assert "[3/3]" not in stdout  # the sweep stopped

    runs = store.search_runs(["1"])
    statuses = {run.info.run_name: run.info.status for run in runs}
    parent = next(run for run in runs if run.data.tags.get("rnnexp.role") == "sweep")
    assert statuses == {"1 (hidden_size=1,data=char_h)": "FINISHED", "2 (hidden_size=2,data=char_h)": "KILLED",
                        parent.info.run_name: "KILLED"}
    killed = next(run for run in runs if run.info.run_name == "2 (hidden_size=2,data=char_h)")
    expected = "Terminated" if signum == signal.SIGTERM else "KeyboardInterrupt"
    assert killed.data.tags["rnnexp.error"].startswith(expected)
    assert parent.data.tags["rnnexp.error"].startswith(expected)
    assert "RUNNING" not in statuses.values()


@pytest.mark.slow
@pytest.mark.parametrize("after_s", [0.3, 1.0, 2.0])
def test_ctrl_c_at_any_moment_of_the_start_is_one_line_and_130(tmp_path, after_s):
    """Issue 15, item 7: a Ctrl-C while Hydra, the tracking worker or
    TensorFlow still load, in a new folder (the worker creating the store)."""
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    with open(tmp_path / "err", "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "rnnexp", "plots.enabled=false"], cwd=tmp_path, env=env,
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        time.sleep(after_s)
        os.killpg(proc.pid, signal.SIGINT)  # the whole process group, as a terminal does
        proc.wait(timeout=60)
    message = (tmp_path / "err").read_text().strip()
    assert proc.returncode == 130, message
    assert len(message.splitlines()) == 1 and message.startswith("rnnexp: interrupted (SIGINT)"), message
    from test_tracking_background_cli import wait_until_none_in

    assert wait_until_none_in(tmp_path) == []  # the worker, too, is gone soon after
    if (tmp_path / "mlflow.db").exists():
        from mlflow.tracking import MlflowClient

        client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
        ids = [e.experiment_id for e in client.search_experiments()]
        assert all(run.info.status != "RUNNING" for run in client.search_runs(ids))
    assert not list(tmp_path.glob(".mlflow.db.*")) and not list(tmp_path.glob("*.creating"))  # no half store
