"""Gradient flow through time (rnnexp.core.dynamics): the reference's
analytic Jacobians against finite differences and a hand-checkable case,
Keras's autodiff against the reference for every cell, the product through
time against TensorFlow differentiating the whole Keras layer."""

import numpy as np
import pytest

from rnnexp.core.checks import DYNAMICS, failures
from rnnexp.core.dynamics.flow import gradient_flow
from rnnexp.core.dynamics.jacobians import reference_states, step_with_jacobian
from rnnexp.core.reference import run_reference

GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}


def random_weights(rnn, hidden=3, vocab=4, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    width = GATES[rnn] * hidden
    return {"kernel": scale * rng.normal(size=(vocab, width)),
            "recurrent_kernel": scale * rng.normal(size=(hidden, width)),
            "bias": scale * rng.normal(size=(2, width) if rnn == "gru" else (width,))}


def one_hot_batch(lengths, vocab=4, seed=1):
    rng = np.random.default_rng(seed)
    inputs = np.eye(vocab, dtype=np.float32)[rng.integers(0, vocab, size=(len(lengths), max(lengths)))]
    inputs[np.arange(max(lengths))[None, :] >= np.asarray(lengths)[:, None]] = 0.0  # padding
    return inputs, np.asarray(lengths)


@pytest.mark.parametrize("rnn", sorted(GATES))
def test_step_jacobian_matches_central_differences_and_the_reference_step(rnn):
    weights = random_weights(rnn)
    size = 6 if rnn == "lstm" else 3
    rng = np.random.default_rng(2)
    x, s = rng.normal(size=(5, 4)), rng.normal(size=(5, size))
    new, jacobian = step_with_jacobian(rnn, x, s, weights)
    eps, numeric = 1e-6, np.empty_like(jacobian)
    for j in range(size):
        d = np.zeros(size)
        d[j] = eps
        numeric[:, :, j] = (step_with_jacobian(rnn, x, s + d, weights)[0]
                            - step_with_jacobian(rnn, x, s - d, weights)[0]) / (2 * eps)
    assert np.abs(numeric - jacobian).max() < 1e-8
    inputs, lengths = one_hot_batch([6, 4])
    states = reference_states(rnn, inputs, weights, lengths)
    reference = run_reference(rnn, inputs, weights, np.arange(6)[None] < lengths[:, None])
    assert np.abs(states[:, 1:, :3] - reference["outputs"]).max() < 1e-12  # the same recurrence


def test_diagonal_simple_rnn_with_zero_input_has_the_known_product():
    """W = 0, b = 0: the state stays 0, every J_t = U = diag(d), so
    ds_T/ds_(T-k) = diag(d^k) and its norm is sqrt(sum d_i^(2k))."""
    d = np.array([0.9, 0.5, -0.3])
    weights = {"kernel": np.zeros((4, 3)), "recurrent_kernel": np.diag(d), "bias": np.zeros(3)}
    inputs, lengths = one_hot_batch([7, 4])
    flow = gradient_flow("simple_rnn", weights, inputs, lengths)
    expected = np.sqrt((d[None, :] ** (2 * np.arange(1, 8)[:, None])).sum(axis=1))
    np.testing.assert_allclose(flow.grad_norm, expected, rtol=1e-6)
    np.testing.assert_allclose(flow.reference_grad_norm, expected, rtol=1e-12)
    assert np.isnan(flow.norms[1, 4:]).all() and not np.isnan(flow.norms[1, :4]).any()  # its own T = 4
    assert flow.jacobian_spectral_radius == pytest.approx(0.9, rel=1e-6)
    assert flow.recurrent_spectral_radius == pytest.approx(0.9)


@pytest.mark.parametrize("rnn", sorted(GATES))
def test_keras_autodiff_matches_the_reference_on_a_ragged_batch(rnn):
    weights = random_weights(rnn, scale=0.8)
    inputs, lengths = one_hot_batch([25, 9, 17])
    flow = gradient_flow(rnn, weights, inputs, lengths)
    assert flow.grad_norm.shape == (25,) and flow.max_rel_err < 1e-10  # both sides float64
    np.testing.assert_allclose(flow.grad_norm, flow.reference_grad_norm, rtol=1e-10)
    # ragged: each sequence's k counts back from its own end, as if it ran alone
    alone = gradient_flow(rnn, weights, inputs[1:2, :9], lengths[1:2])
    np.testing.assert_allclose(flow.norms[1, :9], alone.norms[0], rtol=1e-6)
    counted = (~np.isnan(flow.norms)).sum(axis=0)
    np.testing.assert_array_equal(counted, [3] * 9 + [2] * 8 + [1] * 8)


@pytest.mark.parametrize("rnn", sorted(GATES))
def test_product_through_time_is_what_tensorflow_gets_through_the_whole_layer(rnn):
    """ds_T/ds_0 from one tape over the Keras layer, started from a watched state."""
    import tensorflow as tf

    from rnnexp.core.keras_rnn import build_rnn, set_weights

    weights = random_weights(rnn, scale=0.8)
    inputs, lengths = one_hot_batch([8, 8])
    layer = build_rnn("cell", rnn, 3, initialized=False)
    set_weights(layer, {k: v.astype(np.float32) for k, v in weights.items()}, inputs.shape)
    start = tf.zeros((2, 6 if rnn == "lstm" else 3))
    with tf.GradientTape() as tape:
        tape.watch(start)
        initial = [start[:, :3], start[:, 3:]] if rnn == "lstm" else [start]
        _, *final = layer(inputs, initial_state=initial)
        final = tf.concat(final, axis=-1)
    whole = tape.batch_jacobian(final, start).numpy()
    flow = gradient_flow(rnn, weights, inputs, lengths)
    np.testing.assert_allclose(flow.norms[:, -1], np.linalg.norm(whole, axis=(1, 2)), rtol=1e-5)


def test_a_large_difference_fails_the_run_naming_the_jacobians():
    (message,) = failures({DYNAMICS: {"ds_T/ds_(T-k)": 2e-3}})
    assert message.startswith("check.dynamics_max_rel_err = 0.002 > 0.001") and "ds_T/ds_(T-k)" in message
    assert failures({DYNAMICS: {"ds_T/ds_(T-k)": float("nan")}})
    assert not failures({DYNAMICS: {"ds_T/ds_(T-k)": 1e-6}})


def test_a_large_run_is_bounded_to_fewer_sequences_then_fewer_steps():
    from rnnexp.core.dynamics.flow import MAX_ELEMENTS, MAX_WORK, limits

    assert limits(3, 5, 4, 32) == (3, 5)  # the lesson: everything
    sequences, depth = limits(256, 200, 512, 32)  # an LSTM of 256 units
    assert (sequences, depth) == (1, 1)  # k = 1 at least: the spectral radius needs it
    sequences, depth = limits(64, 200, 16, 32)
    assert sequences * depth * 16 ** 3 <= MAX_WORK and sequences * depth * 16 ** 2 <= MAX_ELEMENTS
    weights = random_weights("gru", scale=0.8)
    inputs, lengths = one_hot_batch([12, 7])
    full, cut = (gradient_flow("gru", weights, inputs, lengths, depth=d) for d in (None, 4))
    assert cut.grad_norm.shape == (4,)
    np.testing.assert_allclose(cut.norms, full.norms[:, :4], rtol=1e-12)


def test_the_float64_cells_kept_for_the_jacobians_are_few_and_reused():
    """A sweep over sizes builds a cell per size: only KEPT_CELLS are kept
    (memory stays flat), and a shape seen again reuses its cell."""
    from rnnexp.core.dynamics import autodiff

    weights = {size: {"kernel": np.zeros((4, size)), "recurrent_kernel": np.zeros((size, size)),
                      "bias": np.zeros(size)} for size in range(1, 8)}
    first = autodiff.keras_cell("simple_rnn", weights[1])
    for size in range(2, 8):
        autodiff.keras_cell("simple_rnn", weights[size])
    assert len(autodiff._cells) == autodiff.KEPT_CELLS
    again = autodiff.keras_cell("simple_rnn", weights[7])
    assert again is autodiff.keras_cell("simple_rnn", weights[7]) and again is not first
