"""Gradient flow through time: how a change of the state k steps before the
end reaches the final state, ∂s_T/∂s_{T-k} = J_T J_{T-1} ... J_{T-k+1}
(J_t = ∂s_t/∂s_{t-1}), for k = 1..T, computed twice: from Keras's cell by
TensorFlow autodiff (rnnexp.core.dynamics.autodiff) and from the NumPy
reference's analytic derivatives (rnnexp.core.dynamics.jacobians). The two
must agree; their largest relative difference is a check.

A ragged batch: each sequence's own T, so k counts back from its own last step.
"""

from dataclasses import dataclass
from typing import Dict, Mapping, Optional

import numpy as np

from rnnexp.core.dynamics.autodiff import keras_step_jacobians
from rnnexp.core.dynamics.jacobians import reference_states, state_size, step_pairs, step_with_jacobian
from rnnexp.core.dynamics.spectra import recurrent_spectral_radius, spectral_radius

GRAD_NORM = "dynamics.grad_norm"  # logged with step=k
JACOBIAN_RADIUS = "dynamics.jacobian_spectral_radius"
RECURRENT_RADIUS = "dynamics.recurrent_spectral_radius"
JACOBIAN_NAME = "ds_T/ds_(T-k)"  # what the check compares, as its failure message names it
TINY = 1e-300  # a Jacobian norm below this counts as 0 in the relative difference


@dataclass
class GradientFlow:
    grad_norm: np.ndarray  # (T,) [k-1]: mean over sequences with T_b >= k of ||ds_T/ds_(T-k)||_F (Keras)
    reference_grad_norm: np.ndarray  # (T,) the same from the NumPy reference
    norms: np.ndarray  # (B, T) per sequence (Keras side); NaN where k > T_b
    max_rel_err: float  # max over b, k of ||P_keras - P_ref||_F / ||P_ref||_F
    jacobian_spectral_radius: float  # mean over sequences of max |eig(ds_T/ds_(T-1))| (Keras side)
    recurrent_spectral_radius: Optional[float]  # SimpleRNN: max |eig(recurrent_kernel)|; else None
    sequences: int  # how many sequences it was computed on (the first ones)

    @property
    def metrics(self) -> Dict[str, float]:
        """The scalar metrics (the grad_norm curve is logged with steps, apart)."""
        metrics = {JACOBIAN_RADIUS: self.jacobian_spectral_radius}
        if self.recurrent_spectral_radius is not None:
            metrics[RECURRENT_RADIUS] = self.recurrent_spectral_radius
        return metrics


def products_through_time(jacobians: np.ndarray, lengths: np.ndarray):
    """Yields, for k = 1..K, (k, the (B, S, S) products ∂s_{T_b}/∂s_{T_b-k})
    (frozen where k > T_b).

    Args:
        jacobians: (B, K, S, S), [b, k-1] = J_{T_b - k + 1} of sequence b,
            counted back from its own last step (any value where k > T_b).
        lengths: (B,) each sequence's T_b.
    """
    batch, depth, size, _ = jacobians.shape
    product = np.broadcast_to(np.eye(size), (batch, size, size)).copy()
    for k in range(1, depth + 1):
        active = np.flatnonzero(lengths >= k)
        product[active] = product[active] @ jacobians[active, k - 1]
        yield k, product


def gradient_flow(rnn, weights: Mapping[str, np.ndarray], inputs: np.ndarray, lengths: np.ndarray,
                  states: Optional[np.ndarray] = None, depth: Optional[int] = None) -> GradientFlow:
    """The gradient flow of one recurrent layer on a batch, both ways.

    Args:
        rnn: the cell (an Rnn or its name).
        weights: ONE layer's kernel, recurrent_kernel, bias under Keras's names.
        inputs: (B, T, V); lengths: (B,) each sequence's own length.
        states: (B, T + 1, S) where Keras's side linearises, s_0 = 0 first;
            None: the reference's float64 states, as the reference's side.
        depth: the largest k (None: T); a run's cost bound (`limits`).

    Returns:
        A GradientFlow; the reference side always linearises at its own
        float64 states.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    batch, steps, _ = inputs.shape
    steps = steps if depth is None else max(0, min(steps, int(depth)))
    own = reference_states(rnn, inputs, weights, lengths)
    pairs = step_pairs(inputs, own, lengths, steps)
    _, reference = step_with_jacobian(rnn, pairs["x"], pairs["s"], weights)
    keras_pairs = pairs if states is None else step_pairs(inputs, np.asarray(states, np.float64), lengths, steps)
    autodiff = keras_step_jacobians(rnn, weights, keras_pairs["x"], keras_pairs["s"])
    size = own.shape[-1]
    grids = []
    for flat in (autodiff, reference):
        grid = np.zeros((batch, steps, size, size))
        grid[pairs["rows"], pairs["back"]] = flat
        grids.append(grid)
    norms = np.full((2, batch, steps), np.nan)
    worst = 0.0
    for (k, keras_product), (_, reference_product) in zip(products_through_time(grids[0], lengths),
                                                          products_through_time(grids[1], lengths)):
        active = lengths >= k
        norms[0, active, k - 1] = np.linalg.norm(keras_product[active], axis=(1, 2))
        norms[1, active, k - 1] = np.linalg.norm(reference_product[active], axis=(1, 2))
        gap = np.linalg.norm(keras_product[active] - reference_product[active], axis=(1, 2))
        relative = gap / np.maximum(norms[1, active, k - 1], TINY)
        worst = float(np.max(np.append(relative, worst)))  # NaN stays NaN: it fails the check
        if k == 1:
            radius = float(spectral_radius(keras_product).mean())
    with np.errstate(invalid="ignore"):
        means = np.nanmean(norms, axis=1) if steps else np.zeros((2, 0))
    return GradientFlow(grad_norm=means[0], reference_grad_norm=means[1], norms=norms[0], max_rel_err=worst,
                        jacobian_spectral_radius=radius if steps else float("nan"),
                        recurrent_spectral_radius=recurrent_spectral_radius(rnn, weights), sequences=batch)


# A run's bound on the work: multiply-adds of one side's products (~0.1 s of
# NumPy), and elements of one side's Jacobians (32 MB). The lesson's sizes are
# thousands of times below both; a run of 256 units over 200 steps is not.
MAX_WORK = 1e8
MAX_ELEMENTS = 1 << 22


def limits(batch: int, steps: int, size: int, max_sequences: int):
    """(sequences, depth) within MAX_WORK and MAX_ELEMENTS: the first
    sequences (halved until they fit, down to one), then the largest k."""
    sequences = max(1, min(batch, max_sequences))
    while sequences > 1 and sequences * steps * size ** 3 > MAX_WORK:
        sequences = (sequences + 1) // 2
    depth = min(steps, int(MAX_WORK // (sequences * size ** 3)), MAX_ELEMENTS // (sequences * size ** 2))
    return sequences, max(1, depth)


def forward_gradient_flow(rnn, weights, inputs: np.ndarray, lengths: np.ndarray,
                          max_sequences: int = 32) -> GradientFlow:
    """`gradient_flow` of a forward pass (inputs (B, T, V), lengths (B,)):
    of its first `max_sequences` sequences and for k up to T, or fewer of
    both for a large run (`limits`); both sides at the reference's states
    (which check.reference_max_abs_err matches with Keras's)."""
    size = state_size(rnn, np.shape(weights["recurrent_kernel"])[0])
    sequences, depth = limits(len(inputs), inputs.shape[1], size, max_sequences)
    return gradient_flow(rnn, weights, inputs[:sequences], np.asarray(lengths)[:sequences], depth=depth)
