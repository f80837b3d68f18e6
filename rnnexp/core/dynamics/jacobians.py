"""The NumPy reference's one-step map and its analytic Jacobian.

For one step s_t = F(s_{t-1}, x_t) of each cell (the equations of
rnnexp.core.reference, row vectors: z = x W + h U + b), J_t = ∂s_t/∂s_{t-1}
with J[i, j] = ∂s_t[i] / ∂s_{t-1}[j], from the cell's own derivatives:
tanh' = 1 - tanh², σ' = σ(1 - σ). All float64, a batch of rows at a time.
"""

from typing import Dict, Mapping, Tuple

import numpy as np

from rnnexp.config.schema import Rnn
from rnnexp.core.cells import cell_of
from rnnexp.core.reference import run_reference, sigmoid


def state_size(rnn, hidden: int) -> int:
    """S: H for SimpleRNN and GRU, 2H for LSTM ([h; c])."""
    return hidden * len(cell_of(rnn).states)


def _rows(d: np.ndarray, u_block: np.ndarray) -> np.ndarray:
    """diag(d) @ u_blockᵀ per row: (N, H) and (H, H) -> (N, H, H), the
    Jacobian of d-scaled pre-activations z = h U with respect to h."""
    return d[:, :, None] * u_block.T[None]


def simple_rnn_jacobian(x, s, w) -> Tuple[np.ndarray, np.ndarray]:
    """h' = tanh(x W + h U + b);  ∂h'/∂h = diag(1 - h'²) Uᵀ."""
    h = np.tanh(x @ w["kernel"] + s @ w["recurrent_kernel"] + w["bias"])
    return h, _rows(1.0 - h * h, w["recurrent_kernel"])


def gru_jacobian(x, s, w) -> Tuple[np.ndarray, np.ndarray]:
    """h' = z h + (1 - z) ĥ, ĥ = tanh(x_h + r (h U_h + b'_h)) (reset_after):
    ∂h'/∂h = diag(z) + diag(h - ĥ) ∂z/∂h + diag(1 - z) ∂ĥ/∂h, with
    ∂z/∂h = diag(z(1 - z)) U_zᵀ and
    ∂ĥ/∂h = diag(1 - ĥ²) [diag((h U_h + b'_h) r(1 - r)) U_rᵀ + diag(r) U_hᵀ]."""
    u_z, u_r, u_h = np.split(w["recurrent_kernel"], 3, axis=-1)
    bias_x, bias_h = w["bias"]
    x_z, x_r, x_h = np.split(x @ w["kernel"] + bias_x, 3, axis=-1)
    h_z, h_r, h_h = np.split(s @ w["recurrent_kernel"] + bias_h, 3, axis=-1)
    z, r = sigmoid(x_z + h_z), sigmoid(x_r + h_r)
    candidate = np.tanh(x_h + r * h_h)
    new = z * s + (1.0 - z) * candidate
    d_candidate = (1.0 - candidate ** 2)
    jacobian = (_rows((s - candidate) * z * (1.0 - z), u_z)
                + _rows((1.0 - z) * d_candidate * h_h * r * (1.0 - r), u_r)
                + _rows((1.0 - z) * d_candidate * r, u_h))
    jacobian += z[:, :, None] * np.eye(s.shape[-1])[None]
    return new, jacobian


def lstm_jacobian(x, s, w) -> Tuple[np.ndarray, np.ndarray]:
    """s = [h; c]; c' = f c + i g, h' = o tanh(c') (gates i, f, g = tanh(z_c), o).
    The 2H x 2H block Jacobian [[∂h'/∂h, ∂h'/∂c], [∂c'/∂h, ∂c'/∂c]]:
    ∂c'/∂h = diag(c f(1-f)) U_fᵀ + diag(g i(1-i)) U_iᵀ + diag(i (1-g²)) U_cᵀ,
    ∂c'/∂c = diag(f), ∂h'/∂h = diag(tanh(c') o(1-o)) U_oᵀ + diag(o (1-tanh²c')) ∂c'/∂h,
    ∂h'/∂c = diag(o (1-tanh²c') f)."""
    hidden = s.shape[-1] // 2
    h, c = s[:, :hidden], s[:, hidden:]
    u_i, u_f, u_c, u_o = np.split(w["recurrent_kernel"], 4, axis=-1)
    z_i, z_f, z_c, z_o = np.split(x @ w["kernel"] + h @ w["recurrent_kernel"] + w["bias"], 4, axis=-1)
    i, f, g, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_c), sigmoid(z_o)
    c_new = f * c + i * g
    tanh_c = np.tanh(c_new)
    dc_dh = _rows(c * f * (1 - f), u_f) + _rows(g * i * (1 - i), u_i) + _rows(i * (1 - g * g), u_c)
    through_c = o * (1 - tanh_c * tanh_c)
    dh_dh = _rows(tanh_c * o * (1 - o), u_o) + through_c[:, :, None] * dc_dh
    eye = np.eye(hidden)[None]
    jacobian = np.concatenate([np.concatenate([dh_dh, (through_c * f)[:, :, None] * eye], axis=2),
                               np.concatenate([dc_dh, f[:, :, None] * eye], axis=2)], axis=1)
    return np.concatenate([o * tanh_c, c_new], axis=-1), jacobian


JACOBIANS = {Rnn.simple_rnn: simple_rnn_jacobian, Rnn.lstm: lstm_jacobian, Rnn.gru: gru_jacobian}


def step_with_jacobian(rnn, x: np.ndarray, s: np.ndarray, weights: Mapping[str, np.ndarray]
                       ) -> Tuple[np.ndarray, np.ndarray]:
    """One step of the reference from each row's state, and its Jacobian.

    Args:
        rnn: the cell (an Rnn or its name).
        x: (N, V) inputs; s: (N, S) states (S = `state_size`).
        weights: kernel, recurrent_kernel, bias as Keras names and shapes them.

    Returns:
        (F(s, x) (N, S), ∂F/∂s (N, S, S)), float64.
    """
    w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    return JACOBIANS[Rnn(rnn)](np.asarray(x, np.float64), np.asarray(s, np.float64), w)


def reference_states(rnn, inputs: np.ndarray, weights: Mapping[str, np.ndarray], lengths: np.ndarray) -> np.ndarray:
    """The states the reference visits, s_0 = 0 then s_t after every step.

    Args:
        inputs: (B, T, V); lengths: (B,) each sequence's own T (steps beyond
            it carry the state over, as Keras's mask does).

    Returns:
        (B, T + 1, S) float64: [:, t] is s_t, [:, 0] the zero start.
    """
    batch, steps, _ = inputs.shape
    mask = np.arange(steps)[None] < np.asarray(lengths)[:, None]
    ran = run_reference(rnn, inputs, weights, mask)  # its masked steps carry h (and c) over
    visited = np.concatenate([ran["outputs"], ran["cell_states"]], axis=-1) if "cell_states" in ran else ran["outputs"]
    return np.concatenate([np.zeros((batch, 1, visited.shape[-1])), visited], axis=1)


def step_pairs(inputs: np.ndarray, states: np.ndarray, lengths: np.ndarray, depth: int) -> Dict[str, np.ndarray]:
    """The (x_t, s_{t-1}) of each sequence's last `depth` real steps.

    Args:
        inputs: (B, T, V); states: (B, T + 1, S) with [:, 0] = s_0; lengths (B,).

    Returns:
        {"x": (N, V), "s": (N, S), "rows": (N,) the sequence, "back": (N,)
        T_b - t: 0 for the sequence's last step}.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    counts = np.minimum(lengths, depth)
    rows = np.repeat(np.arange(len(lengths)), counts)
    back = np.concatenate([np.arange(n) for n in counts]) if len(lengths) else np.zeros(0, np.int64)
    steps = lengths[rows] - 1 - back  # t - 1
    return {"x": inputs[rows, steps], "s": states[rows, steps], "rows": rows, "back": back}
