"""The real CLI in scratch folders, read back with MlflowClient: the issue's
acceptance commands, each run once per session (see the `recorded` fixture).

The NumPy recurrence in rnnexp.core.reference is the trusted reference for what
Keras computed; the lesson's arrays are the reference for the inputs.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from rnnexp.core.reference import run_reference

pytestmark = pytest.mark.slow


h, e, l, o = [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]
LESSON_BATCH = np.array([[h, e, l, l, o], [e, o, l, l, l], [l, l, e, e, l]], dtype=np.float32)
# Keras's weight shapes for V=4 inputs and H=2 units: G gates give G*H columns.
WEIGHT_SHAPES = {
    "simple_rnn": {"kernel": (4, 2), "recurrent_kernel": (2, 2), "bias": (2,)},
    "lstm": {"kernel": (4, 8), "recurrent_kernel": (2, 8), "bias": (8,)},
    "gru": {"kernel": (4, 6), "recurrent_kernel": (2, 6), "bias": (2, 6)},  # reset_after=True
}


def load_run(folder: Path) -> dict:
    """A run's downloaded tensors and weights as name -> array."""
    arrays = {f"tensors/{p.stem}": np.load(p) for p in (folder / "tensors").glob("*.npy")}
    arrays.update({f"weights/{p.stem}": np.load(p) for p in (folder / "weights").glob("*.npy")})
    return arrays


def assert_reference_reproduces(folder: Path, rnn: str) -> None:
    """A NumPy recurrence over the logged inputs and weights gives the logged
    outputs and states, to 1e-5."""
    arrays = load_run(folder)
    inputs, lengths = arrays["tensors/inputs"], arrays["tensors/lengths"]
    mask = np.arange(inputs.shape[1])[None, :] < lengths[:, None]
    weights = {name: arrays[f"weights/{name}"] for name in ("kernel", "recurrent_kernel", "bias")}
    expected = run_reference(rnn, inputs, weights, mask)
    logged = {"outputs", "state_h"} | ({"state_c"} if rnn == "lstm" else set())
    assert logged <= set(expected)  # the reference also gives LSTM's per-step cell states
    for name in logged:
        value = expected[name]
        np.testing.assert_allclose(arrays[f"tensors/{name}"], value, rtol=0, atol=1e-5, err_msg=name)


# -- acceptance 1: `python -m rnnexp` -------------------------------------------------

def test_default_run_is_recorded(recorded):
    run_ = recorded()
    assert (run_.folder / "mlflow.db").is_file()
    runs = run_.runs()
    assert [r.info.status for r in runs] == ["FINISHED"]
    run = runs[0]
    assert run.info.run_name == "default"
    assert run.data.tags["rnnexp.role"] == "single" and "mlflow.parentRunId" not in run.data.tags
    params = run.data.params
    assert (params["hidden_size"], params["seed"]) == ("2", "0")
    assert (params["api"], params["rnn"], params["data"]) == ("layer", "simple_rnn", "hello_batch")
    assert json.loads(params["data.vocab"]) == ["h", "e", "l", "o"]
    assert json.loads(params["data.sequences"]) == ["hello", "eolll", "lleel"]
    assert params["task"] == "forward" and not any(key.startswith("train.") for key in params)
    assert run.data.metrics["check.last_output_state_max_abs_err"] == 0.0


def test_default_run_artifacts(recorded):
    run_ = recorded()
    run = run_.runs()[0]
    folder = run_.artifacts(run.info.run_id)
    assert json.loads((folder / "shapes.json").read_text()) == {
        "inputs": [3, 5, 4], "outputs": [3, 5, 2], "state_h": [3, 2]}
    arrays = load_run(folder)
    assert set(arrays) == {"tensors/inputs", "tensors/outputs", "tensors/state_h", "tensors/lengths",
                           "weights/kernel", "weights/recurrent_kernel", "weights/bias"}
    assert all(arrays[f"tensors/{n}"].dtype == np.float32 for n in ("inputs", "outputs", "state_h"))
    np.testing.assert_array_equal(arrays["tensors/inputs"], LESSON_BATCH)
    np.testing.assert_array_equal(arrays["tensors/outputs"][:, -1], arrays["tensors/state_h"])
    assert {k: arrays[f"weights/{k}"].shape for k in WEIGHT_SHAPES["simple_rnn"]} == WEIGHT_SHAPES["simple_rnn"]
    assert_reference_reproduces(folder, "simple_rnn")

    config = yaml.safe_load((folder / "config.yaml").read_text())
    assert config["hidden_size"] == 2 and config["data"]["sequences"] == ["hello", "eolll", "lleel"]
    assert {p.name for p in (folder / ".hydra").iterdir()} == {"config.yaml", "hydra.yaml", "overrides.yaml"}

    import pandas as pd

    table = pd.read_csv(folder / "tables" / "states.csv", keep_default_na=False)
    assert list(table.columns) == ["sequence", "text", "step", "char", "h0", "h1"]
    assert len(table) == 15
    assert ["".join(group["char"]) for _, group in table.groupby("sequence")] == ["hello", "eolll", "lleel"]
    np.testing.assert_allclose(table[["h0", "h1"]].to_numpy(), arrays["tensors/outputs"].reshape(15, 2),
                               atol=1e-6)


def test_default_run_console_shows_the_lessons_prints(recorded):
    out = recorded().proc.stdout
    for line in ("inputs: shape (3, 5, 4)", "outputs: shape (3, 5, 2)", "state_h: shape (3, 2)",
                 "Recorded run 'default'"):
        assert line in out


def test_sweep_point_names_keep_the_values_as_typed(recorded):
    """Issue 15, item 4: a point's name shows `true`/`false` as typed, not the
    `True`/`False` Hydra's sweeper re-renders, swept or not."""
    sweep = recorded("bidirectional=true,false", "num_layers=2", "data=char_h", "plots.enabled=false", "-m")
    parent, children = sweep.parent_and_children()
    assert sorted((c.info.run_name, c.data.params["bidirectional"], c.info.status) for c in children) == [
        ("false (bidirectional=false,num_layers=2,data=char_h,plots.enabled=false)", "False", "FINISHED"),
        ("true (bidirectional=true,num_layers=2,data=char_h,plots.enabled=false)", "True", "FINISHED")]
    points = sorted(line.split(":")[0] for line in sweep.proc.stdout.splitlines() if re.match(r"\[\d+/\d+\] ", line))
    assert points == ["[1/2] true (bidirectional=true,num_layers=2,data=char_h,plots.enabled=false)",
                      "[2/2] false (bidirectional=false,num_layers=2,data=char_h,plots.enabled=false)"]


# -- acceptance 2: `python -m rnnexp hidden_size=2,4 -m` ---------------------------------

def test_hidden_size_sweep_nests_two_runs_under_one_parent(recorded):
    sweep = recorded("hidden_size=2,4", "-m")
    parent, children = sweep.parent_and_children()
    assert parent.info.status == "FINISHED" and parent.data.tags["rnnexp.role"] == "sweep"
    assert sorted((c.data.params["hidden_size"], c.info.run_name, c.info.status) for c in children) == [
        ("2", "2 (hidden_size=2)", "FINISHED"), ("4", "4 (hidden_size=4)", "FINISHED")]
    out = sweep.proc.stdout.splitlines()
    points = [line for line in out if re.match(r"\[\d+/\d+\] ", line)]
    assert [line.split(":")[0] for line in points] == ["[1/2] 2 (hidden_size=2)", "[2/2] 4 (hidden_size=4)"]
    assert all("ref " in line and "/#/experiments/" in line for line in points)
    assert "state_h: shape" not in sweep.proc.stdout  # a point's tensors are not printed by default
    assert any("/#/compare-runs?runs=" in line for line in out) and any("workflowType=machine_learning" in line
                                                                         for line in out)
    for child in children:
        assert child.data.tags["rnnexp.role"] == "point"
        size = int(child.data.params["hidden_size"])
        folder = sweep.artifacts(child.info.run_id)
        shapes = json.loads((folder / "shapes.json").read_text())
        assert shapes == {"inputs": [3, 5, 4], "outputs": [3, 5, size], "state_h": [3, size]}
        assert np.load(folder / "weights" / "recurrent_kernel.npy").shape == (size, size)


def test_same_config_and_seed_give_the_same_run_in_another_process(recorded):
    default = recorded()
    sweep = recorded("hidden_size=2,4", "-m")
    _, children = sweep.parent_and_children()
    (point,) = [c for c in children if c.data.params["hidden_size"] == "2"]
    a = load_run(default.artifacts(default.runs()[0].info.run_id))
    b = load_run(sweep.artifacts(point.info.run_id))
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


# -- acceptance 3: `python -m rnnexp data=char_h,hello,hello_batch api=cell,layer -m` ----

def test_data_by_api_sweep_gives_the_lessons_shapes(recorded):
    sweep = recorded("data=char_h,hello,hello_batch", "api=cell,layer", "-m")
    parent, children = sweep.parent_and_children()
    assert parent.info.status == "FINISHED"
    expected = {"char_h": (1, 1, 2), "hello": (1, 5, 2), "hello_batch": (3, 5, 2)}
    seen = {}
    for child in children:
        assert child.info.status == "FINISHED"
        data, api = child.data.params["data"], child.data.params["api"]
        assert child.info.run_name == f"{data},{api} (data={data},api={api})"
        folder = sweep.artifacts(child.info.run_id)
        outputs = np.load(folder / "tensors" / "outputs.npy")
        assert outputs.shape == expected[data]
        assert json.loads((folder / "shapes.json").read_text())["outputs"] == list(expected[data])
        seen[data, api] = outputs
    assert sorted(seen) == sorted((d, a) for d in expected for a in ("cell", "layer"))
    for data in expected:  # same seed, same weights: the lesson's two APIs agree
        np.testing.assert_array_equal(seen[data, "cell"], seen[data, "layer"])


# -- acceptance 4: `python -m rnnexp rnn=simple_rnn,lstm,gru api=cell,layer -m` ----------

def test_rnn_by_api_sweep_matches_the_numpy_recurrence(recorded):
    sweep = recorded("rnn=simple_rnn,lstm,gru", "api=cell,layer", "-m")
    parent, children = sweep.parent_and_children()
    assert parent.info.status == "FINISHED"
    assert sorted((c.data.params["rnn"], c.data.params["api"]) for c in children) == sorted(
        (r, a) for r in WEIGHT_SHAPES for a in ("cell", "layer"))
    for child in children:
        assert child.info.status == "FINISHED"
        rnn = child.data.params["rnn"]
        folder = sweep.artifacts(child.info.run_id)
        shapes = json.loads((folder / "shapes.json").read_text())
        expected_shapes = {"inputs": [3, 5, 4], "outputs": [3, 5, 2], "state_h": [3, 2]}
        if rnn == "lstm":
            expected_shapes["state_c"] = [3, 2]
        assert shapes == expected_shapes
        weights = {p.stem: np.load(p).shape for p in (folder / "weights").glob("*.npy")}
        assert weights == WEIGHT_SHAPES[rnn]
        assert_reference_reproduces(folder, rnn)
        assert child.data.metrics["check.last_output_state_max_abs_err"] < 1e-6


# -- acceptance 5: a new conf/data file runs with no code change ------------------------

MINE_YAML = """\
# Digits read as numbers by YAML are still tokens; ragged sequences are padded.
vocab: [x, 1, y]
sequences: [x1y, 1y, yyx1]
"""


def test_a_new_data_file_runs_with_no_code_change(cli_in, tmp_path):
    """A folder of one's own work gets conf/data/mine.yaml, and `python -m
    rnnexp data=mine` run there finds it (rnnexp's code and configs unchanged)."""
    project = tmp_path / "project"
    (project / "conf" / "data").mkdir(parents=True)
    (project / "conf" / "data" / "mine.yaml").write_text(MINE_YAML)
    proc = cli_in(project, "data=mine", "rnn=lstm", "api=cell", "seed=7")
    assert str(project / "mlflow.db") in proc.stdout  # the folder's own store was used

    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("rnnexp").experiment_id])
    assert run.info.status == "FINISHED"
    assert (run.data.params["data"], run.data.params["seed"]) == ("mine", "7")
    assert json.loads(run.data.params["data.vocab"]) == ["x", "1", "y"]
    folder = tmp_path / "artifacts"
    client.download_artifacts(run.info.run_id, "", str(folder))
    assert json.loads((folder / "shapes.json").read_text()) == {
        "inputs": [3, 4, 3], "outputs": [3, 4, 2], "state_h": [3, 2], "state_c": [3, 2]}
    arrays = load_run(folder)
    assert arrays["tensors/lengths"].tolist() == [3, 2, 4]
    assert not arrays["tensors/inputs"][1, 2:].any()  # "1y" padded with zero rows
    assert_reference_reproduces(folder, "lstm")
    # Masking carries the last real step, so the lesson's claim holds for ragged rows too.
    np.testing.assert_array_equal(arrays["tensors/outputs"][:, -1], arrays["tensors/state_h"])


# -- the notebook path: compose, run, get tensors back; no MLflow -------------------------

NOTEBOOK = """
import json, sys
import numpy as np
from rnnexp.config.compose import compose
from rnnexp.core.forward import run_forward

result = run_forward(compose(["data=hello", "api=cell"]))
np.save(sys.argv[1], result.tensors["outputs"])
print(json.dumps({"shapes": result.shapes, "checks": result.checks,
                  "mlflow": sorted(m for m in sys.modules if m.split(".")[0] == "mlflow")}))
"""


def test_the_runner_from_python_without_mlflow(recorded, tmp_path):
    outputs_path = tmp_path / "outputs.npy"
    proc = subprocess.run([sys.executable, "-c", NOTEBOOK, str(outputs_path)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600, check=True)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["shapes"] == {"inputs": [1, 5, 4], "outputs": [1, 5, 2], "state_h": [1, 2]}
    assert report["mlflow"] == []
    assert report["checks"]["check.last_output_state_max_abs_err"] == 0.0
    # The same config through the CLI gave the same tensors.
    sweep = recorded("data=char_h,hello,hello_batch", "api=cell,layer", "-m")
    _, children = sweep.parent_and_children()
    (cli_run,) = [c for c in children if c.info.run_name == "hello,cell (data=hello,api=cell)"]
    cli_outputs = np.load(sweep.artifacts(cli_run.info.run_id) / "tensors" / "outputs.npy")
    np.testing.assert_array_equal(np.load(outputs_path), cli_outputs)
