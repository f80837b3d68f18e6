"""Shared fixtures: composing configs without the command line, and running
the real CLI in a scratch folder."""

import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CONF_DIR = REPO / "rnnexp" / "conf"

# A shell that starts the suite in the background (`pytest &` in a script) has
# it ignore SIGINT, and every process it starts inherits that: the interrupt
# tests would send a Ctrl-C that nobody takes. With Python's own handler back
# here, the CLI processes the tests start get the default disposition again.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def compose():
    """compose(overrides) -> the composed DictConfig, as `python -m rnnexp` would see it."""
    from rnnexp.config.compose import compose_hydra

    return compose_hydra


def run_cli(args, cwd, env=None, timeout=600, check=True):
    """Runs `python -m rnnexp *args` in `cwd`; returns the CompletedProcess."""
    # The scratch folder's own default store, unless the test names another.
    full_env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    full_env.update({"TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})})
    proc = subprocess.run([sys.executable, "-m", "rnnexp", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"rnnexp {args} exited {proc.returncode}\nstdout:\n{proc.stdout[-4000:]}\n"
                             f"stderr:\n{proc.stderr[-4000:]}")
    return proc


@pytest.fixture
def cli(tmp_path):
    """cli(*args, **kw) runs the real CLI in a fresh temporary folder."""
    return lambda *args, **kw: run_cli(list(args), cwd=tmp_path, **kw)


@pytest.fixture
def cli_in():
    """cli_in(folder, *args, **kw) runs the real CLI in `folder`."""
    return lambda folder, *args, **kw: run_cli(list(args), cwd=folder, **kw)


@pytest.fixture
def store(tmp_path):
    """An MlflowClient on the default store that the CLI creates in tmp_path."""
    from mlflow.tracking import MlflowClient

    return MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")


class Recorded:
    """One finished CLI invocation in its own scratch folder, read back through
    MlflowClient from the default store the CLI created there."""

    def __init__(self, folder: Path, proc: subprocess.CompletedProcess):
        self.folder, self.proc = folder, proc
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")

    def runs(self, experiment_name: str = "rnnexp") -> list:
        """Every run of the experiment, oldest first."""
        experiment = self.client.get_experiment_by_name(experiment_name)
        return self.client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])

    def parent_and_children(self):
        """(the sweep's parent run, its children); asserts there is one parent."""
        runs = self.runs()
        parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
        assert len(parents) == 1, [r.info.run_name for r in parents]
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
        assert len(children) == len(runs) - 1
        return parents[0], children

    def artifacts(self, run_id: str) -> Path:
        """All of a run's artifacts, downloaded once into the scratch folder."""
        folder = self.folder / "downloads" / run_id
        if not folder.exists():
            folder.mkdir(parents=True)
            self.client.download_artifacts(run_id, "", str(folder))
        return folder


@pytest.fixture(scope="session")
def recorded(tmp_path_factory):
    """recorded(*args) runs `python -m rnnexp *args` once per session in a fresh
    scratch folder and returns a Recorded; tests asking for the same command
    share it (each CLI run costs a TensorFlow start-up)."""
    done = {}

    def _recorded(*args):
        if args not in done:
            folder = tmp_path_factory.mktemp("cli")
            done[args] = Recorded(folder, run_cli(list(args), cwd=folder))
        return done[args]

    return _recorded


def png_size(path):
    """(width, height) of a PNG file, read from its header."""
    with open(path, "rb") as handle:
        header = handle.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])
