"""An independent NumPy implementation of Keras's recurrent cells.

Used to check every run (the outputs Keras returned must be what these
equations give for the logged inputs and weights), and short enough to read as
the definition of each cell. Notation, per time step t, for one batch row:

    x_t: (V,) input, h_{t-1}: (H,) previous state, W = kernel (V, G*H),
    U = recurrent_kernel (H, G*H), b = bias; G is the number of gate blocks
    (1 for SimpleRNN, 4 for LSTM, 3 for GRU), each H columns wide. The loop
    starts from h_0 = 0 (and c_0 = 0). The code runs on a whole batch at once:
    x is (B, V) and h is (B, H), the same equations row by row.

A stack (`run_stack_reference`) runs these layer by layer, each reading the
outputs of the one below; a backward direction runs on the reversed sequence.
"""

from typing import Dict, Optional

import numpy as np

from rnnexp.config.schema import Rnn
from rnnexp.core.cells import DIRECTIONS, cell_of


def sigmoid(z):
    """σ(z) = 1 / (1 + e^-z), Keras's default recurrent activation."""
    return 1.0 / (1.0 + np.exp(-z))


def simple_rnn_step(x, state, w):
    """h_t = tanh(x_t W + h_{t-1} U + b)"""
    (h,) = state
    h = np.tanh(x @ w["kernel"] + h @ w["recurrent_kernel"] + w["bias"])
    return h, (h,)


def lstm_step(x, state, w):
    """Keras's gate order in W, U, b is i, f, c, o:

    i = σ(z_i), f = σ(z_f), o = σ(z_o)   where z = x_t W + h_{t-1} U + b
    c_t = f * c_{t-1} + i * tanh(z_c)
    h_t = o * tanh(c_t)
    """
    h, c = state
    z_i, z_f, z_c, z_o = np.split(x @ w["kernel"] + h @ w["recurrent_kernel"] + w["bias"], 4, axis=-1)
    c = sigmoid(z_f) * c + sigmoid(z_i) * np.tanh(z_c)
    h = sigmoid(z_o) * np.tanh(c)
    return h, (h, c)


def gru_step(x, state, w):
    """Keras's GRU with reset_after=True (its default); gate order z, r, h and
    bias (2, 3H) = [input bias, recurrent bias]:

    z = σ(x_t W_z + b_z + h_{t-1} U_z + b'_z)            update gate
    r = σ(x_t W_r + b_r + h_{t-1} U_r + b'_r)            reset gate
    ĥ = tanh(x_t W_h + b_h + r * (h_{t-1} U_h + b'_h))   candidate
    h_t = z * h_{t-1} + (1 - z) * ĥ
    """
    (h,) = state
    bias_x, bias_h = w["bias"]
    x_z, x_r, x_h = np.split(x @ w["kernel"] + bias_x, 3, axis=-1)
    h_z, h_r, h_h = np.split(h @ w["recurrent_kernel"] + bias_h, 3, axis=-1)
    z = sigmoid(x_z + h_z)
    r = sigmoid(x_r + h_r)
    candidate = np.tanh(x_h + r * h_h)
    h = z * h + (1.0 - z) * candidate
    return h, (h,)


STEPS = {Rnn.simple_rnn: simple_rnn_step, Rnn.lstm: lstm_step, Rnn.gru: gru_step}


def run_reference(rnn: Rnn, inputs: np.ndarray, weights: Dict[str, np.ndarray],
                  mask: Optional[np.ndarray] = None, zero_masked: bool = False) -> Dict[str, np.ndarray]:
    """Loops a cell over time from a zero state, in float64.

    Args:
        rnn: the cell (an Rnn or its name: "simple_rnn", "lstm", "gru").
        inputs: (B, T, V).
        weights: kernel, recurrent_kernel, bias as Keras names and shapes them.
        mask: (B, T) bool or None; on a masked step the state and the output
            are carried over unchanged, as Keras does.
        zero_masked: the output of a masked step is 0 instead, as in Keras's
            Bidirectional (zero_output_for_mask); the state is still carried.

    Returns:
        {"outputs": (B, T, H), "state_h": (B, H)} plus, for LSTM, "state_c"
        (B, H) and "cell_states" (B, T, H): c after every step, which Keras
        does not return (it gives only the final c).
    """
    steps = ReferenceSteps(rnn, inputs, weights, mask, zero_masked)
    outputs = np.empty((steps.steps, steps.batch, steps.hidden))
    for t, (output, _) in enumerate(steps):
        outputs[t] = output
    return {"outputs": outputs.transpose(1, 0, 2), **steps.results()}


class ReferenceSteps:
    """The loop of `run_reference` (same arguments), one step at a time: an
    iterator of (output (B, H), states) in float64 for t = 0 .. T-1, for a
    caller that compares each step as it comes instead of keeping them all.
    `results()` gives the rest of `run_reference`'s results once it is done.
    """

    def __init__(self, rnn: Rnn, inputs: np.ndarray, weights: Dict[str, np.ndarray],
                 mask: Optional[np.ndarray] = None, zero_masked: bool = False):
        self.state_names = cell_of(rnn).states  # raises for an unknown cell
        self.step, self.n_states = STEPS[Rnn(rnn)], len(self.state_names)
        self.w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
        # time-major (T, B, V): each step reads contiguous rows, converted to
        # float64 one step at a time rather than all at once
        self.x = np.ascontiguousarray(np.asarray(inputs).transpose(1, 0, 2))
        self.steps, self.batch, _ = self.x.shape
        self.hidden = self.w["recurrent_kernel"].shape[0]
        # (T, B, 1): which rows take a step; None when every row takes every step
        self.keep = None if mask is None or np.all(mask) else np.asarray(mask, bool).T[:, :, None]
        self.zero_masked = zero_masked
        self.state = tuple(np.zeros((self.batch, self.hidden)) for _ in range(self.n_states))  # h_0 = c_0 = 0
        self.cell_states = np.empty((self.steps, self.batch, self.hidden)) if self.n_states == 2 else None

    def __iter__(self):
        output = np.zeros((self.batch, self.hidden))
        for t in range(self.steps):
            new_output, new_state = self.step(self.x[t].astype(np.float64), self.state, self.w)
            if self.keep is None:
                output, self.state = new_output, new_state
            else:  # a masked row carries its output and state over
                output = np.where(self.keep[t], new_output, 0.0 if self.zero_masked else output)
                self.state = tuple(np.where(self.keep[t], new, old) for new, old in zip(new_state, self.state))
            if self.cell_states is not None:
                self.cell_states[t] = self.state[-1]
            yield output, self.state

    def results(self) -> Dict[str, np.ndarray]:
        """All of `run_reference`'s results but "outputs": the final states
        and, for LSTM, "cell_states" (B, T, H)."""
        results = dict(zip(self.state_names, self.state))
        if self.cell_states is not None:
            results["cell_states"] = self.cell_states.transpose(1, 0, 2)
        return results


def layer_weights(weights: Dict[str, np.ndarray], level: int, direction: str) -> Dict[str, np.ndarray]:
    """One cell's kernel, recurrent_kernel and bias out of a stack's weights,
    named "layer{level}/{direction}/<name>" (rnnexp.core.keras_rnn.get_weights)."""
    prefix = f"layer{level}/{direction}/"
    return {name[len(prefix):]: array for name, array in weights.items() if name.startswith(prefix)}


def first_cell_weights(weights: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """The weights of the first layer's forward cell: `weights` itself for one
    layer in one direction, else its "layer0/forward/" part (what the
    dynamics of a stack read, docs/dynamics.md)."""
    return weights if "kernel" in weights else layer_weights(weights, 0, "forward")


def run_stack_reference(rnn: Rnn, inputs: np.ndarray, weights: Dict[str, np.ndarray], mask: Optional[np.ndarray],
                        num_layers: int, directions: int) -> Dict[str, np.ndarray]:
    """A stack of `num_layers` layers of `directions` (1 or 2) directions in
    NumPy, as Keras runs it: layer l+1 reads the outputs of layer l, forward
    and backward concatenated. The backward direction runs on the sequences
    reversed in time (padding and mask with them: a padded sequence's own last
    character is its first real step) and its outputs are reversed back.

    Args:
        weights: "layer{l}/{forward|backward}/{kernel,recurrent_kernel,bias}".

    Returns:
        {"outputs": (B, T, D*H) of the top layer, "state_h": (L*D, B, H)} and
        for LSTM "state_c" (L*D, B, H), layer by layer, forward before
        backward; "hidden_states" (L*D, B, T, H) every layer's and direction's
        h after every step in time order (float32, for the pictures), and for
        LSTM "cell_states" likewise.
    """
    names = cell_of(rnn).states
    finals, per_step = {name: [] for name in names}, {"hidden_states": [], "cell_states": []}
    layer_inputs = np.asarray(inputs)
    for level in range(num_layers):
        halves = []
        for direction in DIRECTIONS[:directions]:
            backward = direction == "backward"
            flip = (lambda a: a[:, ::-1]) if backward else (lambda a: a)
            result = run_reference(rnn, flip(layer_inputs), layer_weights(weights, level, direction),
                                   None if mask is None else flip(mask), zero_masked=directions == 2)
            halves.append(flip(result["outputs"]))
            per_step["hidden_states"].append(halves[-1].astype(np.float32))
            if "cell_states" in result:
                per_step["cell_states"].append(flip(result["cell_states"]).astype(np.float32))
            for name in names:
                finals[name].append(result[name])
        layer_inputs = np.concatenate(halves, axis=-1)
    stacked = {name: np.stack(values) for name, values in finals.items()}
    return {"outputs": layer_inputs, **stacked, **{k: np.stack(v) for k, v in per_step.items() if v}}
