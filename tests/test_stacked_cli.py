"""Stacked and bidirectional RNNs through the real CLI: the issue's 12-point
sweep (2 layers, uni and bi, every cell, both APIs) on a ragged batch, read
back with MLflow's client and recomputed from the logged per-layer weights by
the NumPy stack of test_stacked; and num_layers=1 recording exactly what a
run without the new settings records."""

import json

import numpy as np
import pytest
from test_stacked import DIRECTIONS, numpy_stack

pytestmark = pytest.mark.slow

SWEEP = ("num_layers=2", "bidirectional=true,false", "rnn=simple_rnn,lstm,gru", "api=cell,layer",
         "data.sequences=[hello,eo,l]", "-m")


def load_weights(folder):
    """name -> array for every weights/**/*.npy, named by its path under weights/ ("layer0/forward/kernel")."""
    return {str(path.relative_to(folder / "weights").with_suffix("")): np.load(path)
            for path in (folder / "weights").rglob("*.npy")}


def test_the_stacked_sweep_records_12_finished_runs_that_match_numpy(recorded):
    sweep = recorded(*SWEEP)
    parent, children = sweep.parent_and_children()
    assert parent.info.status == "FINISHED"
    assert len(children) == 12 and {c.info.status for c in children} == {"FINISHED"}
    seen = set()
    for child in children:
        params = child.data.params
        rnn, directions = params["rnn"], 2 if params["bidirectional"] == "True" else 1
        seen.add((rnn, params["api"], directions))
        folder = sweep.artifacts(child.info.run_id)
        tensors = {path.stem: np.load(path) for path in (folder / "tensors").glob("*.npy")}
        states = ("state_h", "state_c") if rnn == "lstm" else ("state_h",)
        shapes = json.loads((folder / "shapes.json").read_text())
        assert shapes == {"inputs": [3, 5, 4], "outputs": [3, 5, 2 * directions], "num_layers": 2,
                          "directions": directions, **{name: [2 * directions, 3, 2] for name in states}}
        weights = load_weights(folder)
        assert sorted(weights) == sorted(f"layer{level}/{direction}/{name}" for level in (0, 1)
                                         for direction in DIRECTIONS[:directions]
                                         for name in ("kernel", "recurrent_kernel", "bias"))
        outputs, finals = numpy_stack(rnn, tensors["inputs"], tensors["lengths"], weights, 2, directions)
        real = ~np.isnan(outputs)
        assert np.abs(tensors["outputs"][real] - outputs[real]).max() < 1e-5
        for name in states:
            assert np.abs(tensors[name] - finals[name]).max() < 1e-5
        metrics = child.data.metrics
        assert metrics["check.reference_max_abs_err"] < 1e-5 and metrics["check.api_parity_max_abs_err"] < 1e-6
        assert metrics["check.last_output_state_max_abs_err"] < 1e-6
        plots = sorted(path.name for path in (folder / "plots").glob("states*.png"))
        assert plots == sorted(f"states_layer{level}_{direction}.png" for level in (0, 1)
                               for direction in DIRECTIONS[:directions])
    assert len(seen) == 12


def test_num_layers_1_records_exactly_what_the_default_run_records(recorded):
    default, explicit = recorded(), recorded("num_layers=1", "bidirectional=false")
    (run_a,), (run_b,) = default.runs(), explicit.runs()
    a, b = default.artifacts(run_a.info.run_id), explicit.artifacts(run_b.info.run_id)
    files = {path.relative_to(a) for path in a.rglob("*") if path.is_file() and ".hydra" not in path.parts}
    assert files == {path.relative_to(b) for path in b.rglob("*") if path.is_file() and ".hydra" not in path.parts}
    assert (a / "shapes.json").read_text() == (b / "shapes.json").read_text()
    for path in files:
        if path.suffix == ".npy":
            assert np.array_equal(np.load(a / path), np.load(b / path)), path
    assert {path.as_posix() for path in files if path.parts[0] == "weights"} == {
        "weights/kernel.npy", "weights/recurrent_kernel.npy", "weights/bias.npy"}
    assert run_a.data.metrics == run_b.data.metrics
