"""Checks of a forward pass: plain arrays in, floats out.

Each check compares the tensors Keras returned with the same tensors computed
another way and gives, per tensor, the max absolute difference. Its MLflow
metric `check.<what>` is the largest of those: 0 up to float error when the
claim holds. Over its tolerance the run fails, naming the tensor that diverged.
"""

from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np

from rnnexp.core.reference import ReferenceSteps, run_stack_reference
from rnnexp.errors import CheckFailed

REFERENCE = "check.reference_max_abs_err"  # vs the NumPy recurrence (rnnexp.core.reference), float64
API_PARITY = "check.api_parity_max_abs_err"  # vs the other API (cell <-> layer), same weights
LAST_OUTPUT = "check.last_output_state_max_abs_err"  # the lesson: outputs[:, -1] is the final state
# Keras autodiff vs the reference's analytic Jacobians ds_T/ds_(T-k), relative (rnnexp.core.dynamics.flow)
DYNAMICS = "check.dynamics_max_rel_err"

# float32 against float64 drifts by ~1e-7 per step; 1e-5 leaves room for long
# sequences while any wrong weight, gate order or bias shows up far above it.
# The two Keras APIs run the same float32 ops, so they agree almost exactly.
# Both sides of the Jacobians are float64 (rnnexp.core.dynamics.autodiff): they agree to ~1e-12; a wrong
# derivative is off by O(1). 1e-3 is the bound.
TOLERANCES = {REFERENCE: 1e-5, API_PARITY: 1e-6, LAST_OUTPUT: 1e-6, DYNAMICS: 1e-3}
ROWS_PER_BLOCK = 32  # sequences compared at a time (see max_abs_difference)

COMPARED_WITH = {
    REFERENCE: "the NumPy reference recurrence on the recorded inputs and weights",
    API_PARITY: "the other Keras API built with the same weights",
    LAST_OUTPUT: "the final state",
    DYNAMICS: "the NumPy reference's analytic Jacobians (relative)",
}


def tensor_errors(actual: Mapping[str, np.ndarray], expected: Mapping[str, np.ndarray]) -> Dict[str, float]:
    """max |actual - expected| for each tensor of `actual` except "inputs".

    Args:
        actual: name -> array, e.g. outputs (B, T, H), state_h (B, H).
        expected: the same names and shapes, computed another way.

    Raises:
        ValueError: a tensor is missing from `expected` or has another shape.
    """
    errors = {}
    for name, array in actual.items():
        if name == "inputs":
            continue
        if name not in expected or np.shape(expected[name]) != np.shape(array):
            got = np.shape(expected[name]) if name in expected else "nothing"
            raise ValueError(f"{name}: expected a tensor of shape {np.shape(array)} to compare with, got {got}")
        errors[name] = max_abs_difference(array, expected[name])
    return errors


def reference_errors(actual: Mapping[str, np.ndarray], rnn: str, inputs: np.ndarray,
                     weights: Mapping[str, np.ndarray], mask: Optional[np.ndarray] = None,
                     num_layers: int = 1, directions: int = 1) -> Tuple[Dict[str, float], Dict[str, np.ndarray]]:
    """`tensor_errors(actual, run_reference(rnn, inputs, weights, mask))`
    without ever holding the reference's outputs whole: each step's output is
    compared as it comes (for 256 x 200 steps x 256 units, 105 MB of float64).
    A stack (num_layers * directions > 1) is compared with
    `run_stack_reference`, whose layers each need the whole outputs below.

    Returns:
        (errors, reference): the errors as `tensor_errors` gives them, and the
        rest of what the reference computed: the final states, and for LSTM
        "cell_states" (B, T, H); for a stack "hidden_states" and "cell_states"
        (L*D, B, T, H) (rnnexp.core.reference.run_stack_reference).
    """
    if num_layers * directions > 1:
        reference = run_stack_reference(rnn, inputs, weights, mask, num_layers, directions)
        return tensor_errors(actual, reference), {k: v for k, v in reference.items() if k != "outputs"}
    outputs = actual["outputs"]
    steps = ReferenceSteps(rnn, inputs, weights, mask)
    if np.shape(outputs) != (steps.batch, steps.steps, steps.hidden):
        raise ValueError(f"outputs: expected a tensor of shape {np.shape(outputs)} to compare with, "
                         f"got {(steps.batch, steps.steps, steps.hidden)}")
    worst = 0.0
    for t, (output, _) in enumerate(steps):
        diff = np.subtract(outputs[:, t], output, dtype=np.float64)
        if diff.size:
            worst = max(worst, float(np.abs(diff, out=diff).max()))
    reference = steps.results()
    errors = tensor_errors({k: v for k, v in actual.items() if k != "outputs"}, reference)
    return {k: worst if k == "outputs" else errors[k] for k in actual if k != "inputs"}, reference


def max_abs_difference(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| in float64, a block of ROWS_PER_BLOCK rows (sequences) at
    a time, so that the float64 difference never takes more memory than a
    block's worth; 0.0 for empty arrays."""
    worst = 0.0
    for start in range(0, len(a), ROWS_PER_BLOCK):
        diff = np.subtract(a[start:start + ROWS_PER_BLOCK], b[start:start + ROWS_PER_BLOCK], dtype=np.float64)
        if diff.size:
            worst = max(worst, float(np.abs(diff, out=diff).max()))
    return worst


def last_output_errors(tensors: Mapping[str, np.ndarray], lengths: Optional[np.ndarray] = None,
                       directions: int = 1) -> Dict[str, float]:
    """The lesson's claim: the last output step is the final hidden state.

    With masking Keras carries the last real output over the padding, so this
    holds for ragged batches too: {"outputs[:, -1]": max |outputs[:, -1] - h|},
    h the state_h (B, H) of one layer, or the top layer's (state_h[-1]) of a
    stack. Bidirectional (directions=2; Keras gives padded steps 0 outputs):
    the forward half at each sequence's own last step against the top
    forward state, and the backward half at step 0, where the backward
    direction ends, against the top backward state.
    """
    outputs, state_h = tensors["outputs"], tensors["state_h"]
    if directions == 1:
        top = state_h if state_h.ndim == 2 else state_h[-1]
        return {"outputs[:, -1]": float(np.max(np.abs(outputs[:, -1] - top)))}
    hidden = state_h.shape[-1]
    last = np.asarray(lengths if lengths is not None else [outputs.shape[1]] * len(outputs)) - 1
    forward_last = outputs[np.arange(len(outputs)), last, :hidden]
    return {"outputs[b, length_b - 1, :H]": float(np.max(np.abs(forward_last - state_h[-2]), initial=0.0)),
            "outputs[:, 0, H:]": float(np.max(np.abs(outputs[:, 0, hidden:] - state_h[-1]), initial=0.0))}


def check_metrics(errors: Mapping[str, Mapping[str, float]]) -> Dict[str, float]:
    """check name -> {tensor: error} becomes check name -> its largest error."""
    return {check: float(np.max(list(per_tensor.values()), initial=0.0)) for check, per_tensor in errors.items()}


def failures(errors: Mapping[str, Mapping[str, float]], tolerances: Mapping[str, float] = TOLERANCES) -> List[str]:
    """One message per check over its tolerance, naming the tensors that
    diverged, worst first. NaN counts as diverged."""
    messages = []
    for check, per_tensor in errors.items():
        tolerance = tolerances.get(check)
        diverged = {n: e for n, e in per_tensor.items() if tolerance is not None and not e <= tolerance}
        if not diverged:
            continue
        worst = sorted(diverged, key=lambda n: -np.nan_to_num(diverged[n], nan=np.inf))
        which = ", ".join(f"{name} differs by {diverged[name]:.3g}" for name in worst)
        value = check_metrics({check: per_tensor})[check]
        messages.append(f"{check} = {value:.3g} > {tolerance:g}: {which} from {COMPARED_WITH.get(check, check)}")
    return messages


def raise_for_failures(errors: Mapping[str, Mapping[str, float]]) -> None:
    """Raises CheckFailed with every failing check's message, if any."""
    messages = failures(errors)
    if messages:
        raise CheckFailed("; ".join(messages))
