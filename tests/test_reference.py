"""The NumPy reference against values worked out by hand or with scalar math,
independently of Keras (NumPy only; no TensorFlow)."""

import math

import numpy as np
import pytest

from rnnexp.core.reference import run_reference


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def column(values):
    """A (1, T, 1) input: one sequence, one-dimensional input per step."""
    return np.array(values, dtype=np.float64).reshape(1, -1, 1)


def test_simple_rnn_identity_kernel_gives_tanh_of_inputs():
    # W = I, U = 0, b = 0: h_t = tanh(x_t); tanh(1) = 0.7615941559557649
    inputs = np.array([[[1, 0], [0, 1], [1, 1]]], dtype=np.float32)
    weights = {"kernel": np.eye(2), "recurrent_kernel": np.zeros((2, 2)), "bias": np.zeros(2)}
    result = run_reference("simple_rnn", inputs, weights)
    t1 = 0.7615941559557649
    np.testing.assert_allclose(result["outputs"][0], [[t1, 0], [0, t1], [t1, t1]], atol=1e-15)
    np.testing.assert_allclose(result["state_h"], [[t1, t1]], atol=1e-15)


def test_simple_rnn_one_unit_by_scalar_math():
    w, u, b = 0.5, -0.4, 0.1
    weights = {"kernel": [[w]], "recurrent_kernel": [[u]], "bias": [b]}
    x = [1.0, 0.0, 2.0]
    h, expected = 0.0, []
    for x_t in x:
        h = math.tanh(x_t * w + h * u + b)
        expected.append(h)
    result = run_reference("simple_rnn", column(x), weights)
    np.testing.assert_allclose(result["outputs"][0, :, 0], expected, rtol=1e-12)
    assert result["state_h"][0, 0] == pytest.approx(expected[-1], rel=1e-12)


def test_zero_weights_keep_every_cell_at_zero():
    inputs = np.ones((2, 3, 4))
    for rnn, gates, bias_shape in (("simple_rnn", 1, (2,)), ("lstm", 4, (8,)), ("gru", 3, (2, 6))):
        weights = {"kernel": np.zeros((4, gates * 2)), "recurrent_kernel": np.zeros((2, gates * 2)),
                   "bias": np.zeros(bias_shape)}
        result = run_reference(rnn, inputs, weights)
        # simple_rnn: tanh(0) = 0; lstm: c = 0.5*0 + 0.5*tanh(0) = 0; gru: h = 0.5*0 + 0.5*tanh(0) = 0
        for name, array in result.items():
            assert np.all(array == 0), (rnn, name)


def test_lstm_bias_only_by_hand():
    # All gates sigmoid(0) = 1/2, candidate tanh(atanh(1/2)) = 1/2, so
    # c_t = c_{t-1}/2 + 1/4: 0.25, 0.375, 0.4375; h_t = tanh(c_t)/2.
    weights = {"kernel": np.zeros((1, 4)), "recurrent_kernel": np.zeros((1, 4)),
               "bias": np.array([0.0, 0.0, np.arctanh(0.5), 0.0])}
    result = run_reference("lstm", column([0, 0, 0]), weights)
    c = [0.25, 0.375, 0.4375]
    np.testing.assert_allclose(result["cell_states"][0, :, 0], c, rtol=1e-12)
    np.testing.assert_allclose(result["outputs"][0, :, 0], [math.tanh(v) / 2 for v in c], rtol=1e-12)
    assert result["state_c"][0, 0] == pytest.approx(0.4375, rel=1e-12)


def test_lstm_gate_order_is_i_f_c_o():
    # Distinct values per gate: a wrong order gives different numbers.
    wi, wf, wc, wo = 0.3, -0.7, 1.1, 0.9
    ui, uf, uc, uo = -0.2, 0.6, 0.4, -0.5
    bi, bf, bc, bo = 0.05, 1.0, -0.1, 0.2
    weights = {"kernel": [[wi, wf, wc, wo]], "recurrent_kernel": [[ui, uf, uc, uo]], "bias": [bi, bf, bc, bo]}
    h = c = 0.0
    hs, cs = [], []
    for x in (1.0, 0.0, -1.0):
        i = sigmoid(x * wi + h * ui + bi)
        f = sigmoid(x * wf + h * uf + bf)
        g = math.tanh(x * wc + h * uc + bc)
        o = sigmoid(x * wo + h * uo + bo)
        c = f * c + i * g
        h = o * math.tanh(c)
        hs.append(h)
        cs.append(c)
    result = run_reference("lstm", column([1.0, 0.0, -1.0]), weights)
    np.testing.assert_allclose(result["outputs"][0, :, 0], hs, rtol=1e-12)
    np.testing.assert_allclose(result["cell_states"][0, :, 0], cs, rtol=1e-12)
    assert result["state_h"][0, 0] == pytest.approx(hs[-1], rel=1e-12)
    assert result["state_c"][0, 0] == pytest.approx(cs[-1], rel=1e-12)


def test_gru_input_bias_only_by_hand():
    # z = r = sigmoid(0) = 1/2, candidate tanh(atanh(1/2)) = 1/2, so
    # h_t = h_{t-1}/2 + 1/4: 0.25, 0.375.
    bias = np.zeros((2, 3))
    bias[0, 2] = np.arctanh(0.5)
    weights = {"kernel": np.zeros((1, 3)), "recurrent_kernel": np.zeros((1, 3)), "bias": bias}
    result = run_reference("gru", column([0, 0]), weights)
    np.testing.assert_allclose(result["outputs"][0, :, 0], [0.25, 0.375], rtol=1e-12)


def test_gru_reset_after_by_scalar_math():
    # reset_after: r multiplies (h U_h + b'_h), the recurrent bias included.
    wz, wr, wh = 0.4, -0.3, 0.8
    uz, ur, uh = 0.2, 0.7, -0.6
    bias = [[0.1, -0.2, 0.3], [-0.05, 0.15, 0.5]]
    weights = {"kernel": [[wz, wr, wh]], "recurrent_kernel": [[uz, ur, uh]], "bias": bias}
    (bz, br, bh), (cz, cr, ch) = bias
    h, expected = 0.0, []
    for x in (1.0, -2.0, 0.5):
        z = sigmoid(x * wz + bz + h * uz + cz)
        r = sigmoid(x * wr + br + h * ur + cr)
        candidate = math.tanh(x * wh + bh + r * (h * uh + ch))
        h = z * h + (1 - z) * candidate
        expected.append(h)
    result = run_reference("gru", column([1.0, -2.0, 0.5]), weights)
    np.testing.assert_allclose(result["outputs"][0, :, 0], expected, rtol=1e-12)


@pytest.mark.parametrize("rnn, gates", [("simple_rnn", 1), ("lstm", 4), ("gru", 3)])
def test_masked_steps_carry_output_and_state_over(rnn, gates):
    rng = np.random.default_rng(1)
    weights = {"kernel": rng.normal(size=(3, gates * 2)), "recurrent_kernel": rng.normal(size=(2, gates * 2)),
               "bias": rng.normal(size=(2, gates * 2) if rnn == "gru" else gates * 2)}
    inputs = rng.normal(size=(2, 4, 3))
    inputs[1, 2:] = 0.0  # row 1 is two steps long, padded to four
    mask = np.array([[True] * 4, [True, True, False, False]])
    result = run_reference(rnn, inputs, weights, mask)
    alone = run_reference(rnn, inputs[1:, :2], weights)
    # the padded steps repeat the last real step; the state is the one after it
    np.testing.assert_array_equal(result["outputs"][1, 2:], np.repeat(result["outputs"][1, 1:2], 2, axis=0))
    np.testing.assert_allclose(result["outputs"][1, :2], alone["outputs"][0], rtol=1e-12)
    np.testing.assert_allclose(result["state_h"][1], alone["state_h"][0], rtol=1e-12)
    # the unmasked row is what it is without a mask
    np.testing.assert_allclose(result["outputs"][0], run_reference(rnn, inputs[:1], weights)["outputs"][0], rtol=1e-12)
    if rnn == "lstm":
        np.testing.assert_allclose(result["state_c"][1], alone["state_c"][0], rtol=1e-12)
        np.testing.assert_array_equal(result["cell_states"][1, 3], result["cell_states"][1, 1])
    else:
        assert "cell_states" not in result


def test_masked_leading_step_keeps_the_zero_state():
    weights = {"kernel": [[1.0]], "recurrent_kernel": [[0.5]], "bias": [0.0]}
    result = run_reference("simple_rnn", column([3.0, 1.0]), weights, np.array([[False, True]]))
    assert result["outputs"][0, 0, 0] == 0.0
    assert result["outputs"][0, 1, 0] == pytest.approx(math.tanh(1.0), rel=1e-12)


def test_unknown_cell_names_the_choices():
    with pytest.raises(ValueError, match=r"rnn='rnn2'.*'gru', 'lstm', 'simple_rnn'"):
        run_reference("rnn2", np.zeros((1, 1, 1)), {"kernel": [[0.0]], "recurrent_kernel": [[0.0]], "bias": [0.0]})
