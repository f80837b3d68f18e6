"""Stacked and bidirectional RNNs (num_layers, bidirectional) against a NumPy
stack written here, independently of rnnexp's own: each sequence on its own
real steps only (no padding, no mask), the backward direction a plain
reference run over the reversed characters, each layer fed the outputs of the
one below. Every cell x API x L in {1, 2, 3} x (uni, bi), ragged and not."""

import itertools

import numpy as np
import pytest

from rnnexp.config.schema import Api, Config, DataConfig, Rnn
from rnnexp.core.reference import run_reference
from rnnexp.errors import ConfigError

pytestmark = pytest.mark.slow  # imports TensorFlow

VOCAB = list("helo")
DATA = {False: ["hello", "olleh"], True: ["hello", "eo", "l"]}  # ragged: padded and masked
DIRECTIONS = ("forward", "backward")
WEIGHT_NAMES = ("kernel", "recurrent_kernel", "bias")


def cell_weights(weights, num_layers, directions, level, direction):
    """One cell's weights: plain names for one layer in one direction, else layer{l}/{direction}/..."""
    if num_layers * directions == 1:
        return {name: weights[name] for name in WEIGHT_NAMES}
    return {name: weights[f"layer{level}/{direction}/{name}"] for name in WEIGHT_NAMES}


def numpy_stack(rnn, inputs, lengths, weights, num_layers, directions):
    """(outputs (B, T, D*H) on real steps, NaN beyond, {state: (L*D, B, H)}) sequence by sequence."""
    state_names = ("state_h", "state_c") if rnn == "lstm" else ("state_h",)
    batch, steps, _ = inputs.shape
    hidden = weights[next(k for k in weights if k.endswith("recurrent_kernel"))].shape[0]
    outputs = np.full((batch, steps, directions * hidden), np.nan)
    finals = {name: np.zeros((num_layers * directions, batch, hidden)) for name in state_names}
    for b, n in enumerate(lengths):
        x = inputs[b:b + 1, :n].astype(np.float64)
        for level in range(num_layers):
            halves = []
            for d, direction in enumerate(DIRECTIONS[:directions]):
                ran = run_reference(rnn, x[:, ::-1] if d else x,
                                    cell_weights(weights, num_layers, directions, level, direction))
                halves.append(ran["outputs"][:, ::-1] if d else ran["outputs"])
                for name in state_names:
                    finals[name][level * directions + d, b] = ran[name][0]
            x = np.concatenate(halves, axis=-1)
        outputs[b, :n] = x[0]
    return outputs, finals


CASES = list(itertools.product(Rnn, Api, (1, 2, 3), (False, True), (False, True)))


@pytest.mark.parametrize("rnn, api, num_layers, bidirectional, ragged", CASES,
                         ids=[f"{r.value}-{a.value}-L{n}-{'bi' if b else 'uni'}-{'ragged' if g else 'even'}"
                              for r, a, n, b, g in CASES])
def test_a_stack_matches_the_numpy_stack_and_its_checks_pass(rnn, api, num_layers, bidirectional, ragged):
    from rnnexp.core.forward import run_forward

    config = Config(api=api, rnn=rnn, hidden_size=2, seed=3, num_layers=num_layers, bidirectional=bidirectional,
                    data=DataConfig(vocab=VOCAB, sequences=DATA[ragged]))
    result = run_forward(config)
    tensors, lengths, directions = result.tensors, result.encoded.lengths, config.directions
    stacked = num_layers * directions > 1
    batch, steps = len(DATA[ragged]), max(map(len, DATA[ragged]))
    assert tensors["outputs"].shape == (batch, steps, directions * 2)
    states = ("state_h", "state_c") if rnn is Rnn.lstm else ("state_h",)
    assert set(tensors) == {"inputs", "outputs", *states}
    for name in states:
        assert tensors[name].shape == ((num_layers * directions, batch, 2) if stacked else (batch, 2))
    outputs, finals = numpy_stack(rnn.value, tensors["inputs"], lengths, result.weights, num_layers, directions)
    real = ~np.isnan(outputs)
    assert np.abs(tensors["outputs"][real] - outputs[real]).max() < 1e-5
    for name in states:
        expected = finals[name] if stacked else finals[name][0]
        assert np.abs(tensors[name] - expected).max() < 1e-5
    # beyond a sequence's end Keras carries the last output over; Bidirectional gives 0 there
    for b, n in enumerate(lengths):
        padded = tensors["outputs"][b, n:]
        assert np.array_equal(padded, np.zeros_like(padded) if bidirectional else
                              np.broadcast_to(tensors["outputs"][b, n - 1], padded.shape))
    assert result.checks["check.reference_max_abs_err"] < 1e-5
    assert result.checks["check.api_parity_max_abs_err"] < 1e-6
    assert result.checks["check.last_output_state_max_abs_err"] < 1e-6
    if stacked:  # each layer above the first reads D*H features
        assert all(result.weights[f"layer{level}/{direction}/kernel"].shape[0] == (4 if level == 0 else 2 * directions)
                   for level in range(num_layers) for direction in DIRECTIONS[:directions])
        assert result.reference["hidden_states"].shape == (num_layers * directions, batch, steps, 2)


@pytest.mark.parametrize("api", list(Api))
def test_a_long_stack_runs_as_a_graph_with_the_same_numbers(api):
    """From GRAPH_MIN_STEPS steps on, forward runs the stack as a tf.function."""
    from rnnexp.core.forward import run_forward
    from rnnexp.core.keras_rnn import GRAPH_MIN_STEPS

    sequences = ["hello" * 8, "ole"]
    assert len(sequences[0]) >= GRAPH_MIN_STEPS
    result = run_forward(Config(api=api, rnn=Rnn.lstm, num_layers=2, bidirectional=True, hidden_size=3,
                                data=DataConfig(vocab=VOCAB, sequences=sequences)))
    outputs, finals = numpy_stack("lstm", result.tensors["inputs"], result.encoded.lengths, result.weights, 2, 2)
    real = ~np.isnan(outputs)
    assert np.abs(result.tensors["outputs"][real] - outputs[real]).max() < 1e-5
    assert np.abs(result.tensors["state_c"] - finals["state_c"]).max() < 1e-5
    assert max(result.checks.values()) < 1e-5


def test_a_wrong_backward_weight_fails_the_reference_check():
    """The checks read the recorded weights: a backward kernel altered after
    the forward pass is a divergence, named by the tensor."""
    from rnnexp.core import checks
    from rnnexp.core.forward import check_forward, forward_pass

    result = forward_pass(Config(num_layers=2, bidirectional=True, data=DataConfig(vocab=VOCAB, sequences=DATA[True])))
    result.weights["layer1/backward/kernel"] = result.weights["layer1/backward/kernel"] + 0.01
    failed = checks.failures(check_forward(result).check_errors)
    assert any(message.startswith(checks.REFERENCE) for message in failed)
    assert any(message.startswith(checks.API_PARITY) for message in failed)


@pytest.mark.parametrize("settings, key", [
    ({"num_layers": 0}, "num_layers"), ({"num_layers": True}, "num_layers"),
    ({"bidirectional": "yes"}, "bidirectional"),
    ({"task": "train", "bidirectional": True}, "bidirectional"),
])
def test_bad_stack_settings_name_the_key(settings, key):
    with pytest.raises(ConfigError) as raised:
        Config(**settings, data=DataConfig(vocab=VOCAB, sequences=["hello"]))
    assert raised.value.key == key


def test_a_stacks_dynamics_are_its_first_forward_layers():
    """docs/dynamics.md: a deep run's gradient flow is that of its first
    layer's forward cell, on the one-hot inputs."""
    from rnnexp.core.dynamics.flow import forward_gradient_flow
    from rnnexp.core.forward import run_forward

    config = Config(rnn=Rnn.gru, num_layers=2, bidirectional=True, hidden_size=3,
                    data=DataConfig(vocab=VOCAB, sequences=DATA[True]))
    result = run_forward(config)
    first = {name: result.weights[f"layer0/forward/{name}"] for name in WEIGHT_NAMES}
    alone = forward_gradient_flow("gru", first, result.tensors["inputs"], result.encoded.lengths,
                                  config.dynamics.max_sequences)
    np.testing.assert_array_equal(result.dynamics.grad_norm, alone.grad_norm)
    assert result.checks["check.dynamics_max_rel_err"] < 1e-3
