"""Builds and runs the lesson's Keras RNN: a cell in `keras.layers.RNN`, or
the `SimpleRNN`/`LSTM`/`GRU` layer, with return_sequences and return_state;
stacked and bidirectional, a `RecurrentStack` of them.

Keras (and TensorFlow under it) is imported by `keras_module()` on first use,
so that `--help`, `--cfg job` and config errors never pay for it.
"""

import os
import random
import re
from typing import Dict, Iterator, Optional, Tuple

import numpy as np

from rnnexp.config.schema import Api
from rnnexp.core.cells import DIRECTIONS, cell_of
from rnnexp.frozen_imports import import_frozen

# Run eagerly, Keras loops over time steps in Python, a few ms a step; a graph
# (tf.function) loops inside TensorFlow but costs ~0.1 s to trace. From this
# many steps on, the graph is the faster of the two (bench/ case c); the
# tensors are identical (tests/test_rnn_graph_mode.py).
GRAPH_MIN_STEPS = 32
# A cell's initializers when its weights are set right after it is built: nothing drawn, no orthogonal QR.
ZERO_INITIALIZERS = {f"{kind}_initializer": "zeros" for kind in ("kernel", "recurrent", "bias")}
_seeded_backend = None  # the seed TensorFlow's global seed was last set to by `seed_weights`


# TensorFlow's native start-up notes, written to fd 2 while it loads whatever
# TF_CPP_MIN_LOG_LEVEL says (2.21: "WARNING: All log messages before
# absl::InitializeLog() ..." and an I-line on oneDNN, each twice); warnings and errors stay.
START_UP_NOTES = re.compile(r"WARNING: All log messages before absl::InitializeLog\(\)|I\d{4} [\d:. ]+\d+ \S+:\d+\] ")


def keras_module():
    """Keras, imported on the first call (seconds: TensorFlow comes with it)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter off the console
    return import_frozen("keras", dropped_lines=START_UP_NOTES)


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
        keras_module().utils.set_random_seed(seed)  # Python's and NumPy's generators too
        _seeded_backend = seed
    else:
        random.seed(seed)
        np.random.seed(seed)


def release_models() -> None:
    """Drops what Keras keeps of every model built so far, its global state
    and TensorFlow's kernel cache (`keras.backend.clear_session`): a process
    building two networks a sweep point grows by about 0.6 MB a point without
    it. Models built before stay usable; the next forward pass sets up its
    kernels again (about 0.1 s), so a sweep calls this every few dozen points
    (rnnexp.sweep.callback). Nothing to do before Keras is imported."""
    import sys

    if "keras" in sys.modules:
        keras_module().backend.clear_session(free_memory=False)  # the collector's own passes free the rest


def build_rnn(api, rnn, hidden_size: int, seed: Optional[int] = None, initialized: bool = True,
              num_layers: int = 1, bidirectional: bool = False):
    """Builds an unbuilt recurrent network with return_sequences and return_state.

    Args:
        api: `Api.cell` (or "cell") wraps `<Cell>(hidden_size)` in
            `keras.layers.RNN`; `Api.layer` uses the `SimpleRNN`/`LSTM`/`GRU` layer.
        rnn: an `Rnn` or its name ("simple_rnn", "lstm", "gru").
        hidden_size: number of units, H.
        seed: if not None, seeds Keras (and Python, NumPy) first, so that the
            initial weights are the same for both APIs and on every rerun.
        initialized: False starts every weight at zero instead of Keras's
            random initializers (the orthogonal one is a QR decomposition),
            for a layer whose weights are about to be set (`set_weights`).
        num_layers: L layers stacked, each reading the outputs of the one below.
        bidirectional: each layer in `keras.layers.Bidirectional` (D = 2).

    Returns:
        For L = D = 1 the Keras layer itself, as the lesson builds it;
        otherwise a `RecurrentStack`. Calling either on (B, T, V) inputs
        gives (outputs, *states).

    Raises:
        ValueError: naming the argument, the value received and the choices.
    """
    cell = cell_of(rnn)
    if api not in (Api.cell, Api.layer):
        raise ValueError(f"api={api!r}: expected 'cell' or 'layer'")
    if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
        raise ValueError(f"num_layers={num_layers!r}: expected a positive integer")
    keras = keras_module()
    if seed is not None:
        seed_weights(seed)
    zeros = {} if initialized else ZERO_INITIALIZERS

    def one_step():
        return getattr(keras.layers, cell.cell)(units=hidden_size, **zeros)

    def one_layer():
        if api == Api.cell:
            return keras.layers.RNN(one_step(), return_sequences=True, return_state=True)
        return getattr(keras.layers, cell.layer)(units=hidden_size, return_sequences=True, return_state=True, **zeros)

    if num_layers == 1 and not bidirectional:
        return one_layer()
    if api == Api.cell and not bidirectional:  # Keras's own stack of cells: one RNN steps them all
        stacked = keras.layers.StackedRNNCells([one_step() for _ in range(num_layers)])
        return RecurrentStack([keras.layers.RNN(stacked, return_sequences=True, return_state=True)])
    return RecurrentStack([keras.layers.Bidirectional(one_layer()) if bidirectional else one_layer()
                           for _ in range(num_layers)])


class RecurrentStack:
    """Recurrent Keras layers run one after the other, each reading the
    outputs (B, T, D*H) of the one before: one direction each, or
    `keras.layers.Bidirectional` (outputs forward then backward, concatenated),
    or one `keras.layers.RNN` over `StackedRNNCells`. Called as a recurrent
    layer is, it returns (outputs of the top layer, *states), the states of
    every cell layer by layer, forward before backward, each cell's (h[, c]).
    """

    def __init__(self, layers):
        self.layers = list(layers)

    def __call__(self, inputs, mask=None):
        outputs, states = inputs, []
        for layer in self.layers:
            outputs, *returned = layer(outputs) if mask is None else layer(outputs, mask=mask)
            states.extend(returned)
        return [outputs, *keras_module().tree.flatten(states)]  # StackedRNNCells gives a list per cell

    @property
    def built(self) -> bool:
        return all(layer.built for layer in self.layers)

    def build(self, input_shape) -> None:
        for layer in self.layers:
            layer.build(tuple(input_shape))
            input_shape = (*input_shape[:-1], layer.compute_output_shape(tuple(input_shape))[0][-1])

    def cells(self) -> Iterator[Tuple[str, object]]:
        """("layer{l}/{direction}", cell) for every cell, layer by layer, forward before backward."""
        keras = keras_module()
        for number, layer in enumerate(self.layers):
            if isinstance(layer, keras.layers.Bidirectional):
                for direction, part in zip(DIRECTIONS, (layer.forward_layer, layer.backward_layer)):
                    yield f"layer{number}/{direction}", part.cell
            elif isinstance(layer.cell, keras.layers.StackedRNNCells):
                yield from ((f"layer{level}/forward", cell) for level, cell in enumerate(layer.cell.cells))
            else:
                yield f"layer{number}/forward", layer.cell


def forward(layer, rnn, inputs: np.ndarray, mask: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
    """Runs `layer` on `inputs` once.

    Args:
        layer: from `build_rnn`.
        rnn: the cell (an `Rnn` or its name), to name the states.
        inputs: (B, T, V) float32.
        mask: (B, T) bool or None; masked steps are skipped, carrying the
            previous output and state forward (a bidirectional layer gives 0
            as their outputs, as Keras's Bidirectional does).

    Returns:
        {"outputs": (B, T, D*H), "state_h"} plus "state_c" for LSTM, each
        state (B, H) for one layer in one direction, else (L*D, B, H), layer
        by layer, forward before backward. Sequences of GRAPH_MIN_STEPS steps
        or more run as a TensorFlow graph; the numbers are the same either way.
    """
    names = cell_of(rnn).states
    call = layer
    if inputs.shape[1] >= GRAPH_MIN_STEPS:
        import tensorflow as tf

        call = tf.function(lambda x, mask: layer(x, mask=mask))  # traced once; the variables are built inside
    results = call(inputs, mask=None if mask is None or mask.all() else mask)
    outputs, *states = (np.asarray(t, dtype=np.float32) for t in results)
    if len(states) == len(names):
        return {"outputs": outputs, **dict(zip(names, states))}
    return {"outputs": outputs, **{name: np.stack(states[i::len(names)]) for i, name in enumerate(names)}}


def get_weights(layer) -> Dict[str, np.ndarray]:
    """The cells' weights under Keras's own names: kernel (V, G*H),
    recurrent_kernel (H, G*H), bias (G*H,) or (2, 3H) for GRU with reset_after;
    for a `RecurrentStack` each prefixed "layer{l}/{forward|backward}/"
    (layer l > 0 has a kernel of D*H rows)."""
    if isinstance(layer, RecurrentStack):
        return {f"{where}/{w.name}": np.asarray(w.numpy()) for where, cell in layer.cells() for w in cell.weights}
    return {w.name: np.asarray(w.numpy()) for w in layer.weights}


def set_weights(layer, weights: Dict[str, np.ndarray], input_shape) -> None:
    """Builds `layer` for `input_shape` if needed and loads `weights` by name
    (as `get_weights` names them)."""
    if not layer.built:
        layer.build(tuple(input_shape))
    if isinstance(layer, RecurrentStack):
        for where, cell in layer.cells():
            for w in cell.weights:
                w.assign(weights[f"{where}/{w.name}"])
        return
    layer.set_weights([weights[w.name] for w in layer.weights])
