"""Builds and runs the Keras RNN. The only module that imports Keras/TensorFlow,
and only inside functions, so that `--help`, `--cfg job` and config errors never
pay for the TensorFlow import.
"""

from typing import Dict, Optional

import numpy as np

# rnn option -> (Keras layer class, Keras cell class)
KERAS_CLASSES = {
    "simple_rnn": ("SimpleRNN", "SimpleRNNCell"),
    "lstm": ("LSTM", "LSTMCell"),
    "gru": ("GRU", "GRUCell"),
}
STATE_NAMES = {"simple_rnn": ("state_h",), "lstm": ("state_h", "state_c"), "gru": ("state_h",)}
WEIGHT_NAMES = ("kernel", "recurrent_kernel", "bias")


def _keras():
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's start-up chatter off the console
    import keras

    return keras


def preload() -> None:
    """Imports Keras and TensorFlow now (seconds), so that the caller can
    choose when to pay for it."""
    _keras()


def build_rnn(api: str, rnn: str, hidden_size: int, seed: Optional[int] = None):
    """Builds an unbuilt recurrent layer with return_sequences and return_state.

    Args:
        api: "cell" wraps `<Cell>(hidden_size)` in `keras.layers.RNN`;
            "layer" uses the `SimpleRNN`/`LSTM`/`GRU` layer.
        rnn: "simple_rnn", "lstm" or "gru".
        hidden_size: number of units, H.
        seed: if not None, seeds Keras (and Python, NumPy) first, so that the
            initial weights are the same for both APIs and on every rerun.

    Returns:
        A Keras layer; calling it on (B, T, V) inputs gives (outputs, *states).
    """
    if rnn not in KERAS_CLASSES:
        raise ValueError(f"rnn={rnn!r}: expected one of {sorted(KERAS_CLASSES)}")
    if api not in ("cell", "layer"):
        raise ValueError(f"api={api!r}: expected 'cell' or 'layer'")
    keras = _keras()
    if seed is not None:
        keras.utils.set_random_seed(seed)
    layer_name, cell_name = KERAS_CLASSES[rnn]
    if api == "cell":
        cell = getattr(keras.layers, cell_name)(units=hidden_size)
        return keras.layers.RNN(cell, return_sequences=True, return_state=True)
    return getattr(keras.layers, layer_name)(
        units=hidden_size, return_sequences=True, return_state=True
    )


def forward(layer, rnn: str, inputs: np.ndarray, mask: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
    """Runs `layer` on `inputs` once.

    Args:
        layer: from `build_rnn`.
        rnn: the cell kind, to name the states.
        inputs: (B, T, V) float32.
        mask: (B, T) bool or None; masked steps are skipped, carrying the
            previous output and state forward.

    Returns:
        {"outputs": (B, T, H), "state_h": (B, H)} plus "state_c": (B, H) for LSTM.
    """
    results = layer(inputs, mask=None if mask is None or mask.all() else mask)
    outputs, *states = (np.asarray(t, dtype=np.float32) for t in results)
    return {"outputs": outputs, **dict(zip(STATE_NAMES[rnn], states))}


def get_weights(layer) -> Dict[str, np.ndarray]:
    """The cell's weights under Keras's own names: kernel (V, G*H),
    recurrent_kernel (H, G*H), bias (G*H,) or (2, 3H) for GRU with reset_after."""
    return {w.name: np.asarray(w.numpy()) for w in layer.weights}


def set_weights(layer, weights: Dict[str, np.ndarray], input_shape) -> None:
    """Builds `layer` for `input_shape` if needed and loads `weights` by name."""
    if not layer.built:
        layer.build(tuple(input_shape))
    layer.set_weights([weights[w.name] for w in layer.weights])
