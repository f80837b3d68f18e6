"""The CLI's paths that must stay light: `--help`, `--cfg job` and config
errors import neither TensorFlow, Keras nor MLflow (Python's own import log,
PYTHONPROFILEIMPORTTIME, lists every module a process imported)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # subprocesses, though without TensorFlow

HEAVY = ("tensorflow", "keras", "mlflow")


def run_logged(command, cwd):
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["PYTHONPROFILEIMPORTTIME"] = "1"
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def imported(stderr: str) -> set:
    """Top-level packages named in the import-time log."""
    return {line.split("|")[-1].strip().split(".")[0] for line in stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


def test_the_console_script_runs_help(tmp_path):
    script = Path(sys.executable).parent / "rnnexp"
    assert script.is_file()
    proc = run_logged([str(script), "--help"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "hidden_size: 2" in proc.stdout and "api: cell, layer" in proc.stdout
    loaded = imported(proc.stderr)
    assert "hydra" in loaded  # the log works
    assert not loaded & set(HEAVY)


def test_cfg_job_prints_the_config_without_heavy_imports(tmp_path):
    proc = run_logged([sys.executable, "-m", "rnnexp", "rnn=gru", "--cfg", "job"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "rnn: gru" in proc.stdout and "- eolll" in proc.stdout
    assert not imported(proc.stderr) & set(HEAVY)


@pytest.mark.parametrize("override, message", [
    ("data.sequences=[hello,hexlo]",
     "data.sequences[1]='hexlo': expected characters from data.vocab ['h', 'e', 'l', 'o'] "
     "(character 'x' at position 2 is not in the vocabulary)"),
    ("hidden_size=-3", "hidden_size=-3: expected a positive integer"),
])
def test_a_config_error_is_one_clear_line_before_any_run(tmp_path, override, message):
    proc = run_logged([sys.executable, "-m", "rnnexp", override], tmp_path)
    assert proc.returncode == 2
    assert f"rnnexp: error: {message}" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not imported(proc.stderr) & set(HEAVY)
    assert not (tmp_path / "mlflow.db").exists()  # no store touched, so no run left RUNNING
