"""The issue's acceptance, end to end through the real CLI: a training sweep
of the three cells records the gradient flow of every point (the parent
draws them on one figure) and fixed points that are fixed under the NumPy
reference's own step with the run's logged trained weights."""

import json

import numpy as np
import pytest

from rnnexp.config.schema import Rnn
from rnnexp.core.reference import STEPS

pytestmark = pytest.mark.slow
SWEEP = ("task=train", "data=hihello", "hidden_size=3", "rnn=simple_rnn,gru,lstm", "dynamics.fixed_points=true", "-m")


def reference_step(rnn: str, weights, token: int, vocab_size: int, state: np.ndarray) -> np.ndarray:
    """s_t = F(s_{t-1}, x) by rnnexp.core.reference's step, [h; c] for LSTM."""
    x = np.zeros((1, vocab_size))
    x[0, token] = 1.0
    states = tuple(np.split(state[None], 2, axis=-1)) if rnn == "lstm" else (state[None],)
    _, new = STEPS[Rnn(rnn)](x, states, weights)
    return np.concatenate(new, axis=-1)[0]


def test_every_point_records_its_gradient_flow_and_reference_fixed_points(recorded):
    run = recorded(*SWEEP)
    parent, children = run.parent_and_children()
    assert len(children) == 3
    assert "sweep_gradients.png" in [a.path for a in run.client.list_artifacts(parent.info.run_id)]
    vocab = ["h", "i", "e", "l", "o"]
    for child in children:
        metrics, rnn = child.data.metrics, child.data.params["rnn"]
        history = run.client.get_metric_history(child.info.run_id, "dynamics.grad_norm")
        assert sorted(m.step for m in history) == list(range(1, 7))  # "hihell": T = 6
        assert metrics["check.dynamics_max_rel_err"] <= 1e-3
        assert "dynamics.jacobian_spectral_radius_init" in metrics and "dynamics.jacobian_spectral_radius" in metrics
        assert ("dynamics.recurrent_spectral_radius_init" in metrics) == (rnn == "simple_rnn")
        folder = run.artifacts(child.info.run_id)
        assert (folder / "plots" / "gradients.png").exists() and (folder / "plots" / "fixed_points.png").exists()
        weights = {name: np.load(folder / "weights" / f"{name}.npy").astype(np.float64)
                   for name in ("kernel", "recurrent_kernel", "bias")}
        points = json.loads((folder / "dynamics" / "fixed_points.json").read_text())["points"]
        assert points and metrics["dynamics.fixed_points"] == len(points), rnn
        assert metrics["dynamics.stable_fixed_points"] == sum(point["stable"] for point in points)
        for point in points:
            state, token = np.asarray(point["state"]), vocab.index(point["token"])
            assert np.abs(reference_step(rnn, weights, token, 5, state) - state).max() <= 1e-4
            eps, size = 1e-6, len(state)
            jacobian = np.empty((size, size))  # by central differences of the reference step
            for j in range(size):
                d = np.zeros(size)
                d[j] = eps
                jacobian[:, j] = (reference_step(rnn, weights, token, 5, state + d)
                                  - reference_step(rnn, weights, token, 5, state - d)) / (2 * eps)
            radius = np.abs(np.linalg.eigvals(jacobian)).max()
            assert radius == pytest.approx(point["max_abs_eigenvalue"], rel=1e-5, abs=1e-6)
            assert point["stable"] == (radius < 1.0)
