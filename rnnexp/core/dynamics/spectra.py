"""Spectral radii: how much one step of the recurrence stretches a state
perturbation, at most, per step in the long run (> 1 grows, < 1 fades)."""

from typing import Mapping, Optional

import numpy as np

from rnnexp.config.schema import Rnn
from rnnexp.core.dynamics.jacobians import reference_states, step_with_jacobian


def spectral_radius(matrices: np.ndarray) -> np.ndarray:
    """max |eigenvalue| of each square matrix: (..., S, S) -> (...)."""
    return np.abs(np.linalg.eigvals(np.asarray(matrices, np.float64))).max(axis=-1)


def recurrent_spectral_radius(rnn, weights: Mapping[str, np.ndarray]) -> Optional[float]:
    """A SimpleRNN's max |eigenvalue| of its recurrent kernel U (H, H), the
    linear part of its step; None for LSTM and GRU, whose U holds gate blocks."""
    if Rnn(rnn) is not Rnn.simple_rnn:
        return None
    return float(spectral_radius(weights["recurrent_kernel"]))


def last_step_radius(rnn, weights: Mapping[str, np.ndarray], inputs: np.ndarray, lengths: np.ndarray) -> float:
    """The mean over sequences of the spectral radius of ∂s_T/∂s_{T-1} at each
    sequence's own last step, from the NumPy reference (for weights no Keras
    layer holds any more, e.g. a training run's initial ones).

    Args:
        inputs: (B, T, V); lengths: (B,).
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    states = reference_states(rnn, inputs, weights, lengths)
    rows = np.arange(len(lengths))
    _, jacobian = step_with_jacobian(rnn, inputs[rows, lengths - 1], states[rows, lengths - 1], weights)
    return float(spectral_radius(jacobian).mean())
