"""The CLI's paths that must stay light: `--help`, `--cfg job` and config
errors import neither TensorFlow, Keras nor MLflow (Python's own import log,
PYTHONPROFILEIMPORTTIME, lists every module a process imported)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rnnexp.config.long_lists import ANNOUNCE_FROM

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
    assert proc.stdout.startswith("rnnexp: the lesson")  # rnnexp's own, not "cli is powered by Hydra"
    assert "powered by Hydra" not in proc.stdout
    for part in ("-m", "data: char_h, hello, hello_batch, hihello", "rnn: gru, lstm, simple_rnn",
                 "sqlite:///mlflow.db", "mlflow ui", "python -m rnnexp rnn=simple_rnn,lstm,gru -m", "Exit codes"):
        assert part in proc.stdout, part
    loaded = imported(proc.stderr)
    assert "hydra" in loaded  # the log works
    assert not loaded & set(HEAVY)


@pytest.mark.parametrize("override, message", [
    ("hidden_size=two,3", "point #0 (hidden_size=two): hidden_size=two: Value 'two' of type 'str' could not be "
                          "converted to Integer"),
    ("rnn=bar,lstm", "point #0 (rnn=bar): rnn=bar: no option 'bar' in group 'rnn'; expected one of gru, lstm, "
                     "simple_rnn"),
])
def test_a_sweep_with_a_mistyped_point_stops_with_one_line_per_bad_point(tmp_path, override, message):
    proc = run_logged([sys.executable, "-m", "rnnexp", override, "-m"], tmp_path)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("import time:")]
    assert errors == ["rnnexp: error: 1 sweep point(s) have bad values; nothing was run:", f"  {message}"], errors
    assert not imported(proc.stderr) & set(HEAVY)
    assert not (tmp_path / "mlflow.db").exists()


def test_hydra_full_error_still_gives_the_full_trace(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "rnnexp", "rnn=bar"], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "HYDRA_FULL_ERROR": "1"}, timeout=120)
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "MissingConfigException" in proc.stderr


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
    # mistakes Hydra finds while composing: a wrong type, an unknown option or key
    ("hidden_size=two", "hidden_size=two: Value 'two' of type 'str' could not be converted to Integer"),
    ("seed=1.5", "seed=1.5: Value '1.5' of type 'float' could not be converted to Integer"),
    ("rnn=bar", "rnn=bar: no option 'bar' in group 'rnn'; expected one of gru, lstm, simple_rnn"),
    ("hidden_sise=3", "hidden_sise: not a key of the config (to add a new key, write +hidden_sise=3)"),
    ("data.vocab=3", "data.vocab=3: Invalid value assigned: int is not a ListConfig, list or tuple."),
    # and an interpolation that does not resolve, found when the job reads its config
    ("data.sequences=[${oc.env:RNNEXP_NOT_SET}]",
     "data.sequences[0]='${oc.env:RNNEXP_NOT_SET}': expected a value that resolves (KeyError raised while "
     "resolving interpolation: \"Environment variable 'RNNEXP_NOT_SET' not found\")"),
])
def test_a_config_error_is_one_clear_line_before_any_run(tmp_path, override, message):
    proc = run_logged([sys.executable, "-m", "rnnexp", override], tmp_path)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("import time:")]
    assert errors == [f"rnnexp: error: {message}"], errors  # one line, nothing else
    assert not imported(proc.stderr) & set(HEAVY)
    assert not (tmp_path / "mlflow.db").exists()  # no store touched, so no run left RUNNING


@pytest.mark.parametrize("items", [ANNOUNCE_FROM - 1, ANNOUNCE_FROM])
def test_a_long_list_is_announced_before_hydra_composes_it(tmp_path, items):
    """Issue 15, item 12: Hydra's parser takes time growing with the square of
    a list's items; from ANNOUNCE_FROM items on, one line says so first."""
    override = "data.sequences=[" + ",".join(["hel"] * items) + "]"
    started = time.monotonic()
    proc = run_logged([sys.executable, "-m", "rnnexp", override, "--cfg", "job"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("- hel") == items  # the whole list was composed
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("import time:")]
    if items < ANNOUNCE_FROM:
        assert lines == []
    else:
        assert len(lines) == 1 and lines[0].startswith(
            f"rnnexp: composing the config: data.sequences has {items} items (about "), lines
        assert "square" in lines[0] and "conf/data/<name>.yaml" in lines[0]
    assert not imported(proc.stderr) & set(HEAVY)
    assert time.monotonic() - started < 60
