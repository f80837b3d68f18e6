"""Builds and runs the Keras RNN. The only module that imports Keras/TensorFlow,
and only inside functions, so that `--help`, `--cfg job` and config errors never
pay for the TensorFlow import.
"""

import random
from typing import Dict, List, Optional

import numpy as np

from rnnexp.heavy_imports import collector_paused
from rnnexp.schema import OPTIMIZERS

# rnn option -> (Keras layer class, Keras cell class)
KERAS_CLASSES = {
    "simple_rnn": ("SimpleRNN", "SimpleRNNCell"),
    "lstm": ("LSTM", "LSTMCell"),
    "gru": ("GRU", "GRUCell"),
}
STATE_NAMES = {"simple_rnn": ("state_h",), "lstm": ("state_h", "state_c"), "gru": ("state_h",)}
WEIGHT_NAMES = ("kernel", "recurrent_kernel", "bias")
# Run eagerly, Keras loops over time steps in Python, a few ms a step; a graph
# (tf.function) loops inside TensorFlow but costs ~0.1 s to trace. From this
# many steps on, the graph is the faster of the two (measured: 256 sequences of
# 200 steps, hidden 256: 1.4 s eager, 0.4 s traced and run; the tensors are
# identical).
GRAPH_MIN_STEPS = 32
_seeded_backend = None  # the seed TensorFlow's global seed was last set to by `seed_weights`


def _keras():
    import os
    import sys

    if "keras" not in sys.modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's start-up chatter off the console
        with collector_paused():  # a fifth of the import's time, see rnnexp.heavy_imports
            import keras  # noqa: F401
    return sys.modules["keras"]


def preload() -> None:
    """Imports Keras and TensorFlow now (seconds), so that the caller can
    choose when to pay for it."""
    _keras()


def seed_weights(seed: int) -> None:
    """Seeds the next layers' initial weights, as `keras.utils.set_random_seed(seed)` does.

    Keras 3 draws each initializer's seed from Python's `random` and runs
    TensorFlow's stateless random ops, so Python's (and NumPy's) generators
    decide the weights. `set_random_seed` also sets TensorFlow's global seed,
    and setting that clears TensorFlow's kernel cache: the next forward pass
    sets up every op again, about 40 ms a build. So the full call is made when
    the seed differs from the last one; otherwise only Python's and NumPy's
    generators are reset. The weights are the full call's either way
    (tests/test_seeding.py).
    """
    global _seeded_backend
    if seed != _seeded_backend:
        _keras().utils.set_random_seed(seed)
        _seeded_backend = seed
    random.seed(seed)
    np.random.seed(seed)


def build_rnn(api: str, rnn: str, hidden_size: int, seed: Optional[int] = None, initialized: bool = True):
    """Builds an unbuilt recurrent layer with return_sequences and return_state.

    Args:
        api: "cell" wraps `<Cell>(hidden_size)` in `keras.layers.RNN`;
            "layer" uses the `SimpleRNN`/`LSTM`/`GRU` layer.
        rnn: "simple_rnn", "lstm" or "gru".
        hidden_size: number of units, H.
        seed: if not None, seeds Keras (and Python, NumPy) first, so that the
            initial weights are the same for both APIs and on every rerun.
        initialized: False starts every weight at zero instead of Keras's
            random initializers (the orthogonal one is a QR decomposition),
            for a layer whose weights are about to be set (`set_weights`).

    Returns:
        A Keras layer; calling it on (B, T, V) inputs gives (outputs, *states).
    """
    if rnn not in KERAS_CLASSES:
        raise ValueError(f"rnn={rnn!r}: expected one of {sorted(KERAS_CLASSES)}")
    if api not in ("cell", "layer"):
        raise ValueError(f"api={api!r}: expected 'cell' or 'layer'")
    keras = _keras()
    if seed is not None:
        seed_weights(seed)
    layer_name, cell_name = KERAS_CLASSES[rnn]
    zeros = {} if initialized else {f"{kind}_initializer": "zeros" for kind in ("kernel", "recurrent", "bias")}
    if api == "cell":
        cell = getattr(keras.layers, cell_name)(units=hidden_size, **zeros)
        return keras.layers.RNN(cell, return_sequences=True, return_state=True)
    return getattr(keras.layers, layer_name)(
        units=hidden_size, return_sequences=True, return_state=True, **zeros
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
        Sequences of GRAPH_MIN_STEPS steps or more run as a TensorFlow graph;
        the numbers are the same either way.
    """
    call = layer
    if inputs.shape[1] >= GRAPH_MIN_STEPS:
        import tensorflow as tf

        call = tf.function(layer)  # traced once for this call; the layer's variables are built inside
    results = call(inputs, mask=None if mask is None or mask.all() else mask)
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


def build_next_char_model(layer, vocab_size: int, optimizer: str, learning_rate: float):
    """Wraps a recurrent layer from `build_rnn` into a compiled classifier of
    the next character at every step.

    One-hot inputs (B, T, V) -> Masking (all-zero rows are padding) -> `layer`
    (its sequence output (B, T, H); the states are not used) -> Dense softmax
    (B, T, V). Trained with sparse categorical cross-entropy on integer targets
    (B, T); padded steps count in neither the loss nor the accuracy.

    Args:
        layer: a recurrent layer from `build_rnn` (seed Keras before calling
            this, as `build_rnn` does, so the Dense weights are seeded too).
        vocab_size: V, the number of classes.
        optimizer: a key of OPTIMIZERS.
        learning_rate: the optimizer's learning rate.

    Returns:
        A compiled `keras.Model`, input (None, None, V), output (None, None, V).
    """
    keras = _keras()
    inputs = keras.Input(shape=(None, vocab_size), name="inputs")
    outputs, *_states = layer(keras.layers.Masking(mask_value=0.0)(inputs))
    probabilities = keras.layers.Dense(vocab_size, activation="softmax", name="next_char")(outputs)
    model = keras.Model(inputs, probabilities, name="next_char_rnn")
    model.compile(
        optimizer=getattr(keras.optimizers, OPTIMIZERS[optimizer])(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def fit(model, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray, epochs: int,
        batch_size: int, seed: int) -> Dict[str, list]:
    """Trains `model` for `epochs` passes over the data.

    One `train_on_batch` call per batch rather than `model.fit`, which spends
    tens of milliseconds of set-up per epoch: that dominates when an epoch is
    one tiny batch. The batches are reshuffled each epoch from `seed`.

    Args:
        model: from `build_next_char_model`.
        inputs: (B, T, V) float32, one-hot, padded steps all zero.
        targets: (B, T) int, the next character's index; ignored where padded.
        mask: (B, T) bool, True on real steps.
        epochs: number of passes.
        batch_size: sequences per step.
        seed: for the shuffling.

    Returns:
        {"loss": [...], "accuracy": [...]}, one value per epoch: the mean over
        that epoch's real steps of the values Keras reports per batch.
    """
    rng = np.random.default_rng(seed)
    history = {"loss": [], "accuracy": []}
    for _ in range(epochs):
        order = rng.permutation(len(inputs))
        totals, steps = {"loss": 0.0, "accuracy": 0.0}, 0
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            logs = model.train_on_batch(inputs[rows], targets[rows], return_dict=True)
            real = int(mask[rows].sum())
            for name in totals:
                totals[name] += float(logs[name]) * real
            steps += real
        for name, total in totals.items():
            history[name].append(total / steps)
    return history


def predict(model, inputs: np.ndarray) -> np.ndarray:
    """The model's next-character probabilities (B, T, V) for `inputs` (B, T, V)."""
    return np.asarray(model.predict_on_batch(inputs), dtype=np.float32)


def enable_determinism() -> None:
    """Makes TensorFlow pick deterministic kernels, so a seeded run gives the
    same losses every time (tf.config.experimental.enable_op_determinism)."""
    _keras()
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()


def pip_requirements() -> List[str]:
    """Keras and TensorFlow pinned to the installed versions, for a logged model."""
    from importlib.metadata import PackageNotFoundError, version

    pins = [f"keras=={version('keras')}"]
    for backend in ("tensorflow-cpu", "tensorflow"):  # whichever distribution installed TensorFlow
        try:
            return pins + [f"{backend}=={version(backend)}"]
        except PackageNotFoundError:
            continue
    return pins
