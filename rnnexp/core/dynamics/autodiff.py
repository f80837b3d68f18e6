"""One-step Jacobians ∂s_t/∂s_{t-1} by TensorFlow autodiff through Keras's
own cell (`SimpleRNNCell`, `LSTMCell`, `GRUCell`), for every step at once.

Every row of a cell's call is independent of the others, so one call on the
N steps' (x_t, s_{t-1}) repeated S times, with copy j keeping only output j,
gives all N Jacobians' rows from a single gradient: one tape, no loop over
steps or k (`tape.batch_jacobian` is ~15 times slower here).
"""

from collections import OrderedDict
from typing import Mapping, Tuple

import numpy as np

from rnnexp.core.cells import cell_of
from rnnexp.core.keras_rnn import ZERO_INITIALIZERS, keras_module

MAX_ROWS = 1 << 16  # rows (N * S) per cell call: bounds TensorFlow's memory for large runs
# Built cells by (rnn, H, V), the most recently used last: a build costs tens of ms, and a sweep's
# points mostly share a shape; a few are kept, so that a sweep over sizes holds no cell per point.
KEPT_CELLS = 4
_cells: "OrderedDict[Tuple[str, int, int], object]" = OrderedDict()


def keras_cell(rnn, weights: Mapping[str, np.ndarray]):
    """A built float64 Keras cell of `rnn` holding `weights` (kernel (V, G*H), ...)."""
    cell = cell_of(rnn)
    vocab, width = np.shape(weights["kernel"])
    hidden = width // cell.gates
    key = (cell.cell, hidden, vocab)
    built = _cells.pop(key, None)
    if built is None:  # its weights are set below
        built = getattr(keras_module().layers, cell.cell)(units=hidden, dtype="float64", **ZERO_INITIALIZERS)
        built.build((None, vocab))
    _cells[key] = built
    while len(_cells) > KEPT_CELLS:
        _cells.popitem(last=False)
    built.set_weights([np.asarray(weights[w.name], dtype=np.float64) for w in built.weights])
    return built


def keras_step_jacobians(rnn, weights: Mapping[str, np.ndarray], x: np.ndarray, s: np.ndarray) -> np.ndarray:
    """∂F/∂s of Keras's cell at each row's (x, s), the cell built in float64.

    Float64, so that the Jacobians compare with the reference's to ~1e-12:
    in float32, a saturated unit's tanh' = 1 - h² (h = 0.9999) alone is off by
    1e-3 relative, which would hide a wrong derivative as well as fail a right one.

    Args:
        rnn: the cell (an Rnn or its name).
        weights: ONE layer's kernel, recurrent_kernel, bias (Keras's names).
        x: (N, V) inputs; s: (N, S) states ([h; c] for LSTM).

    Returns:
        (N, S, S) float64, [n, i, j] = ∂s_new[n, i] / ∂s[n, j].
    """
    import tensorflow as tf

    cell, size = keras_cell(rnn, weights), s.shape[-1]
    two = len(cell_of(rnn).states) == 2
    jacobians = np.empty((len(s), size, size))
    chunk = max(1, MAX_ROWS // max(size, 1))
    pick = tf.reshape(tf.eye(size, dtype=tf.float64), (size, 1, size))  # copy j keeps output j
    for start in range(0, len(s), chunk):
        count = len(s[start:start + chunk])
        states = tf.constant(np.tile(np.asarray(s[start:start + chunk], np.float64), (size, 1)))
        inputs = tf.constant(np.tile(np.asarray(x[start:start + chunk], np.float64), (size, 1)))
        with tf.GradientTape() as tape:
            tape.watch(states)
            previous = [states[:, :size // 2], states[:, size // 2:]] if two else [states]
            _, new = cell(inputs, previous)
            new = tf.concat(list(new), axis=-1) if two else (new[0] if isinstance(new, (list, tuple)) else new)
            chosen = tf.reduce_sum(tf.reshape(new, (size, count, size)) * pick)
        rows = tape.gradient(chosen, states).numpy().reshape(size, count, size)  # [i, n, j]
        jacobians[start:start + count] = rows.transpose(1, 0, 2)
    return jacobians
