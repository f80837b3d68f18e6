"""Shared fixtures: composing configs without the command line, and running
the real CLI in a scratch folder."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CONF_DIR = REPO / "conf"


@pytest.fixture
def compose():
    """compose(overrides) -> the composed DictConfig, as `python -m rnnexp` would see it."""
    from hydra import compose as hydra_compose, initialize_config_dir

    import rnnexp.schema  # noqa: F401  registers the schema

    def _compose(overrides=(), return_hydra_config=False):
        with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
            return hydra_compose("config", list(overrides), return_hydra_config=return_hydra_config)

    return _compose


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
def store(tmp_path):
    """An MlflowClient on the default store that the CLI creates in tmp_path."""
    from mlflow.tracking import MlflowClient

    return MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
