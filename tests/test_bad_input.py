"""Issue 4.1: bad config values fail at once, in one clear line naming key,
value and expectation, with no traceback and before TensorFlow, Keras or
MLflow are imported (proved with Python's own import log,
PYTHONPROFILEIMPORTTIME, which lists every module the process imported)."""

import re

import pytest

HEAVY = re.compile(r"^(tensorflow|keras|mlflow)(\.|$)")


def imported_modules(stderr: str):
    """Module names from PYTHONPROFILEIMPORTTIME lines ("import time: a | b | name")."""
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def message_lines(stderr: str) -> str:
    return "\n".join(line for line in stderr.splitlines() if not line.startswith("import time:"))


def run_bad(cli, *args, env=None):
    proc = cli(*args, check=False, env={"PYTHONPROFILEIMPORTTIME": "1", **(env or {})})
    modules = imported_modules(proc.stderr)
    assert "rnnexp.cli" in modules  # the import log works, so its silence below means something
    heavy = sorted(m for m in modules if HEAVY.match(m))
    assert heavy == [], f"imported {heavy[:5]} before failing"
    return proc, message_lines(proc.stderr)


CASES = [
    # (overrides, what the message must name)
    (["data.sequences=[hello,hexlo]"], ["data.sequences[1]", "'hexlo'", "'x'", "position 2", "vocab"]),
    (["data.vocab=[]"], ["data.vocab", "[]", "non-empty"]),
    (["data.vocab=[h,e,l,o,e]"], ["data.vocab[4]", "'e'", "distinct", "data.vocab[1]"]),
    (["data.vocab=[h,el,o]"], ["data.vocab[1]", "'el'", "a single character"]),
    (["data.sequences=[]"], ["data.sequences", "[]", "non-empty list"]),
    (["data.sequences=[hello,'']"], ["data.sequences[1]", "''", "non-empty string"]),
    (["hidden_size=0"], ["hidden_size", "0", "positive integer"]),
    (["hidden_size=-3"], ["hidden_size", "-3", "positive integer"]),
    (["hidden_size=two"], ["hidden_size", "two", "Integer"]),
    (["hidden_size=1.5"], ["hidden_size", "1.5", "Integer"]),
    (["hidden_size=true"], ["hidden_size", "bool", "Integer"]),
    (["seed=x"], ["seed", "'x'", "Integer"]),
    (["seed=0.5"], ["seed", "0.5", "Integer"]),
    (["api=foo"], ["api=foo", "cell", "layer"]),
    (["rnn=bar"], ["rnn=bar", "simple_rnn", "lstm", "gru"]),
    (["data=nope"], ["data=nope", "hello_batch", "char_h"]),
    (["hidden_sise=3"], ["hidden_sise", "not a key", "+hidden_sise=3"]),
    # issue 15, item 8: what NumPy, TensorFlow or MLflow would refuse only later, with a traceback
    (["seed=-1"], ["seed=-1", "0 to 4294967295"]),
    (["seed=4294967296"], ["seed=4294967296", "0 to 4294967295"]),
    (["hidden_size=50000"], ["hidden_size=50000", "fits in memory", "needs about", "GiB available"]),
    (["mlflow.tracking_uri=bogus://x"], ["mlflow.tracking_uri='bogus://x'", "no MLflow tracking store knows 'bogus'"]),
    (["mlflow.tracking_uri=file:///tmp/fs"], ["mlflow.tracking_uri='file:///tmp/fs'", "maintenance mode"]),
    (["mlflow.tracking_uri=some/folder"], ["mlflow.tracking_uri='some/folder'", "sqlite:///mlflow.db"]),
    # item 4: text values that Hydra's parser would change are refused, saying how to quote them
    (["data.vocab=[+,-,1]", "data.sequences=[+1,-1,1+1]"],
     ["data.sequences[0]='+1'", "the int 1", """'data.sequences=["+1",-1,1+1]'"""]),
    (["data.vocab=[1,0,_]", "data.sequences=[1_0]"], ["data.sequences[0]='1_0'", "the int 10"]),
    (["data.vocab=[1,e]", "data.sequences=[1e1]"], ["data.sequences[0]='1e1'", "the float 10.0"]),
    (["data=hello", "generate.prompt= h ", "task=train"], ["generate.prompt=' h '", """'generate.prompt=" h "'"""]),
    (["mlflow.experiment_name=true"], ["mlflow.experiment_name='true'", "the bool True"]),
    (["data.vocab=[+,-,1]", "data.sequences=[+1,-1],[1]", "-m"], ["data.sequences[0]='+1'", "the int 1"]),
    # item 9
    (["mlflow.experiment_name="], ["mlflow.experiment_name=''", "non-empty name of at most 500"]),
    (["mlflow.experiment_name=" + "x" * 501], ["mlflow.experiment_name=", "at most 500 characters", "it has 501"]),
]


@pytest.mark.slow
@pytest.mark.parametrize("overrides,named", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_value_fails_fast_and_clearly(cli, tmp_path, overrides, named):
    proc, message = run_bad(cli, *overrides)
    assert proc.returncode == 2  # every mistake in the config, whoever finds it (Hydra or rnnexp's checks)
    assert len(message.splitlines()) == 1 and message.startswith("rnnexp: error: "), message
    for part in named:
        assert part in message, f"{part!r} not in:\n{message}"
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "mlruns").exists()


@pytest.mark.slow
def test_sweep_reports_every_bad_point_before_running_any(cli, tmp_path):
    proc, message = run_bad(cli, "hidden_size=2,0", "data.sequences=[hello],[hexlo]", "-m")
    assert proc.returncode == 2
    assert "Traceback" not in message
    assert "3 sweep point(s) have bad values; nothing was run" in message
    assert "(hidden_size=2,data.sequences=[hexlo]): data.sequences[0]='hexlo'" in message
    assert "(hidden_size=0,data.sequences=[hello]): hidden_size=0: expected a positive integer" in message
    assert "(hidden_size=0,data.sequences=[hexlo]): hidden_size=0" in message
    assert not (tmp_path / "mlflow.db").exists()  # not even the sweep's parent run


@pytest.mark.slow
def test_sweep_composition_errors_are_listed_too(cli, tmp_path):
    proc, message = run_bad(cli, "hidden_size=2,two", "rnn=lstm,nope", "-m")
    assert proc.returncode == 2 and "Traceback" not in message
    assert "3 sweep point(s)" in message
    assert ("(hidden_size=two,rnn=lstm): hidden_size=two: Value 'two' of type 'str' could not be converted to "
            "Integer") in message
    assert "(hidden_size=2,rnn=nope): rnn=nope: no option 'nope' in group 'rnn'; expected one of gru," in message
    assert len(message.splitlines()) == 4  # the headline and one line per bad point
    assert not (tmp_path / "mlflow.db").exists()


@pytest.mark.slow
def test_full_error_shows_the_trace(cli):
    proc = cli("hidden_size=0", check=False, env={"HYDRA_FULL_ERROR": "1"})
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "ConfigError: hidden_size=0" in proc.stderr


@pytest.mark.slow
def test_a_bad_value_fails_without_importing_numpy_either(cli):
    """NumPy costs 0.15-0.4 s to import here: a config error does without it,
    so that it stays within a second."""
    proc = cli("data.sequences=[hello,hexlo]", check=False, env={"PYTHONPROFILEIMPORTTIME": "1"})
    modules = imported_modules(proc.stderr)
    assert proc.returncode == 2 and "rnnexp.config.schema" in modules
    assert sorted(m for m in modules if m.split(".")[0] == "numpy") == []


@pytest.mark.slow
def test_quoted_values_run_as_typed(recorded):
    """Issue 15, item 4: quoted, as the refusal says, the values run as typed."""
    import numpy as np

    run = recorded('data.vocab=[+,-,1]', 'data.sequences=["+1",-1,1+1]', "plots.enabled=false")
    (single,) = run.runs()
    assert single.info.status == "FINISHED"
    assert single.data.params["data.sequences"] == '["+1", "-1", "1+1"]'
    assert single.data.params["data.vocab"] == '["+", "-", "1"]'
    lengths = np.load(run.artifacts(single.info.run_id) / "tensors" / "lengths.npy")
    assert lengths.tolist() == [2, 2, 3]
