"""The fixed-point finder on cells whose fixed points are known in closed
form, and the dynamics settings' checks."""

import numpy as np
import pytest

from rnnexp.config.schema import Config, DataConfig, DynamicsConfig, Task
from rnnexp.core.dynamics.fixed_points import find_fixed_points
from rnnexp.errors import ConfigError


def root_of_tanh(gain: float) -> float:
    """The positive root of h = tanh(gain * h) (gain > 1), by bisection."""
    low, high = 1e-9, 1.0
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if np.tanh(gain * middle) > middle else (low, middle)
    return low


def test_a_diagonal_simple_rnn_has_its_closed_form_fixed_points():
    """U = diag(2, 0.5), W = 0, b = 0: h_1 in {0, ±r} with r = tanh(2r), h_2 = 0.
    At 0, ∂F/∂s = U (max |λ| 2: unstable); at ±r, diag(2(1 - r²), 0.5): stable."""
    weights = {"kernel": np.zeros((2, 2)), "recurrent_kernel": np.diag([2.0, 0.5]), "bias": np.zeros(2)}
    visited = np.random.default_rng(0).uniform(-1, 1, size=(20, 2))
    points = find_fixed_points("simple_rnn", weights, ["a", "b"], visited, starts=32, noise=0.3)
    r = root_of_tanh(2.0)
    for token in "ab":
        found = sorted((p for p in points if p.token == token), key=lambda p: p.state[0])
        assert len(found) == 3, [p.state for p in found]
        np.testing.assert_allclose([p.state for p in found], [[-r, 0], [0, 0], [r, 0]], atol=1e-10)
        assert [p.stable for p in found] == [True, False, True]
        np.testing.assert_allclose([p.max_abs_eigenvalue for p in found], [0.5, 2.0, 0.5], rtol=1e-9)
        assert all(p.residual <= 1e-12 for p in found)


def test_an_input_moves_the_fixed_point_of_a_contracting_cell():
    """U = 0.5 I, token i's kernel row = b_i: the one fixed point solves h = tanh(0.5 h + b_i)."""
    drive = np.array([[0.3, -0.2], [-1.0, 0.7]])
    weights = {"kernel": drive, "recurrent_kernel": 0.5 * np.eye(2), "bias": np.zeros(2)}
    points = find_fixed_points("simple_rnn", weights, ["a", "b"], np.zeros((1, 2)), starts=8, noise=1.0)
    assert [p.token for p in points] == ["a", "b"]
    for point, row in zip(points, drive):
        np.testing.assert_allclose(point.state, np.tanh(0.5 * point.state + row), atol=1e-12)
        assert point.stable


@pytest.mark.parametrize("rnn", ["lstm", "gru"])
def test_gated_cells_points_are_fixed_and_within_reach(rnn):
    from rnnexp.core.dynamics.jacobians import step_with_jacobian

    rng = np.random.default_rng(3)
    width = 3 * (4 if rnn == "lstm" else 3)
    weights = {"kernel": rng.normal(size=(2, width)), "recurrent_kernel": 2 * rng.normal(size=(3, width)),
               "bias": rng.normal(size=(2, width) if rnn == "gru" else (width,))}
    size = 6 if rnn == "lstm" else 3
    points = find_fixed_points(rnn, weights, ["a", "b"], rng.uniform(-1, 1, size=(30, size)), starts=32)
    assert points
    for point in points:
        x = np.eye(2)[["a", "b"].index(point.token)][None]
        new, jacobian = step_with_jacobian(rnn, x, point.state[None], weights)
        assert np.abs(new[0] - point.state).max() <= 1e-5 and np.abs(point.state[:3]).max() <= 1.0
        assert point.max_abs_eigenvalue == pytest.approx(np.abs(np.linalg.eigvals(jacobian[0])).max())


def test_dynamics_settings_are_checked():
    data = DataConfig(vocab=["h", "i"], sequences=["hi"])
    assert Config(data=data).dynamics == DynamicsConfig(gradients=True, fixed_points=False)
    with pytest.raises(ConfigError, match="dynamics.fixed_points"):
        Config(data=data, dynamics=DynamicsConfig(fixed_points=True))  # task=forward
    Config(task=Task.train, data=data, dynamics=DynamicsConfig(fixed_points=True))
    for bad in ({"starts": 0}, {"max_sequences": -1}, {"noise": -0.1}, {"gradients": "yes"}):
        with pytest.raises(ConfigError, match="dynamics."):
            Config(data=data, dynamics=DynamicsConfig(**bad))
