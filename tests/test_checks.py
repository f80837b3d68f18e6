"""The check functions: plain arrays in, floats and messages out (no TensorFlow)."""

import numpy as np
import pytest

from rnnexp.core import checks
from rnnexp.errors import CheckFailed
from rnnexp.core.reference import run_reference


def lstm_case(seed=0):
    rng = np.random.default_rng(seed)
    weights = {"kernel": rng.normal(size=(4, 8)).astype(np.float32),
               "recurrent_kernel": rng.normal(size=(2, 8)).astype(np.float32),
               "bias": rng.normal(size=8).astype(np.float32)}
    inputs = np.eye(4, dtype=np.float32)[[[0, 1, 2, 2, 3], [1, 3, 2, 0, 0]]]
    inputs[1, 3:] = 0.0
    mask = np.array([[True] * 5, [True, True, True, False, False]])
    reference = run_reference("lstm", inputs, weights, mask)
    # What a float32 implementation would have returned.
    tensors = {"inputs": inputs, **{k: reference[k].astype(np.float32) for k in ("outputs", "state_h", "state_c")}}
    return tensors, weights, mask


def test_tensor_errors_per_tensor_without_inputs():
    actual = {"inputs": np.zeros(2), "outputs": np.array([[1.0, 2.0]]), "state_h": np.array([3.0])}
    expected = {"inputs": np.ones(2), "outputs": np.array([[1.0, 2.5]]), "state_h": np.array([2.0]), "extra": 0}
    assert checks.tensor_errors(actual, expected) == {"outputs": 0.5, "state_h": 1.0}


def test_tensor_errors_name_a_missing_or_misshapen_tensor():
    with pytest.raises(ValueError, match=r"state_c: expected a tensor of shape \(1, 2\) to compare with, got nothing"):
        checks.tensor_errors({"state_c": np.zeros((1, 2))}, {})
    with pytest.raises(ValueError, match=r"outputs: expected a tensor of shape \(1, 2\).*got \(2, 1\)"):
        checks.tensor_errors({"outputs": np.zeros((1, 2))}, {"outputs": np.zeros((2, 1))})


def test_float32_result_is_within_the_reference_tolerance():
    tensors, weights, mask = lstm_case()
    errors = checks.tensor_errors(tensors, run_reference("lstm", tensors["inputs"], weights, mask))
    assert set(errors) == {"outputs", "state_h", "state_c"}
    assert 0 < max(errors.values()) <= checks.TOLERANCES[checks.REFERENCE]
    assert checks.failures({checks.REFERENCE: errors}) == []


def test_a_perturbed_weight_fails_the_reference_check_naming_the_tensors():
    tensors, weights, mask = lstm_case()
    perturbed = {**weights, "recurrent_kernel": weights["recurrent_kernel"] + np.float32(0.01)}
    recomputed = run_reference("lstm", tensors["inputs"], perturbed, mask)
    errors = {checks.REFERENCE: checks.tensor_errors(tensors, recomputed),
              checks.LAST_OUTPUT: checks.last_output_errors(tensors)}
    metrics = checks.check_metrics(errors)
    assert metrics[checks.REFERENCE] > 1e-3
    assert metrics[checks.LAST_OUTPUT] == 0.0
    (message,) = checks.failures(errors)
    assert message.startswith(f"check.reference_max_abs_err = {metrics[checks.REFERENCE]:.3g} > 1e-05: ")
    worst = max(errors[checks.REFERENCE], key=errors[checks.REFERENCE].get)
    assert f": {worst} differs by" in message  # the worst tensor comes first
    assert "NumPy reference" in message
    with pytest.raises(CheckFailed, match="check.reference_max_abs_err"):
        checks.raise_for_failures(errors)


def test_parity_tolerance_is_tighter_and_nan_counts_as_diverged():
    errors = {checks.API_PARITY: {"outputs": 5e-6, "state_h": 0.0}, checks.REFERENCE: {"outputs": 5e-6},
              checks.LAST_OUTPUT: {"outputs[:, -1]": float("nan")}}
    messages = checks.failures(errors)
    assert len(messages) == 2
    assert messages[0].startswith(
        "check.api_parity_max_abs_err = 5e-06 > 1e-06: outputs differs by 5e-06 from the other Keras API")
    assert "state_h" not in messages[0]
    assert messages[1].startswith("check.last_output_state_max_abs_err = nan > 1e-06: outputs[:, -1] differs by nan")


def test_last_output_errors():
    outputs = np.array([[[0.1, 0.2], [0.3, 0.4]]])
    assert checks.last_output_errors({"outputs": outputs, "state_h": np.array([[0.3, 0.4]])}) == {"outputs[:, -1]": 0.0}
    off = checks.last_output_errors({"outputs": outputs, "state_h": np.array([[0.3, 0.5]])})
    assert off["outputs[:, -1]"] == pytest.approx(0.1)


@pytest.mark.parametrize("rnn,gates", [("simple_rnn", 1), ("lstm", 4), ("gru", 3)])
@pytest.mark.parametrize("masked", [False, True])
def test_reference_errors_step_by_step_equal_the_whole_reference(rnn, gates, masked):
    rng = np.random.default_rng(7)
    bias_shape = (2, 3 * 3) if rnn == "gru" else (gates * 3,)
    weights = {"kernel": rng.normal(size=(4, gates * 3)), "recurrent_kernel": rng.normal(size=(3, gates * 3)),
               "bias": rng.normal(size=bias_shape)}
    inputs = np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(5, 6))]
    mask = np.ones((5, 6), bool)
    if masked:
        mask[1, 4:] = mask[3, 1:] = False
        inputs[~mask] = 0.0
    whole = run_reference(rnn, inputs, weights, mask)
    # float32 tensors a little off the float64 reference, as Keras's are; one step far off
    actual = {"inputs": inputs, **{k: (whole[k] + rng.normal(scale=1e-6, size=whole[k].shape)).astype(np.float32)
                                   for k in ("outputs", "state_h", "state_c") if k in whole}}
    actual["outputs"][2, 3, 1] += 0.5

    errors, reference = checks.reference_errors(actual, rnn, inputs, weights, mask)

    assert errors == checks.tensor_errors(actual, whole)  # the same floats, not just close
    assert list(errors) == [k for k in actual if k != "inputs"]
    assert errors["outputs"] == pytest.approx(0.5, abs=1e-4)
    assert "outputs" not in reference
    for name in ("state_h", "state_c", "cell_states"):
        assert (name in reference) == (name in whole)
        if name in whole:
            np.testing.assert_array_equal(reference[name], whole[name])


def test_reference_errors_name_outputs_of_another_shape():
    weights = {"kernel": np.zeros((4, 2)), "recurrent_kernel": np.zeros((2, 2)), "bias": np.zeros(2)}
    inputs = np.zeros((1, 3, 4), np.float32)
    with pytest.raises(ValueError, match=r"outputs: expected a tensor of shape \(1, 2, 2\).*got \(1, 3, 2\)"):
        checks.reference_errors({"outputs": np.zeros((1, 2, 2))}, "simple_rnn", inputs, weights)
