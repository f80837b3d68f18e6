"""rnnexp.keras_rnn.seed_weights skips TensorFlow's global seed when it is already
set (setting it clears TensorFlow's kernel cache): the initial weights must
still be those `keras.utils.set_random_seed` gives, for every cell and API, on
the first build and on later builds with the same seed in the same process."""

import numpy as np
import pytest

from rnnexp.config.schema import Rnn
from rnnexp.core import keras_rnn
from rnnexp.core.cells import CELLS

pytestmark = pytest.mark.slow

INPUT_SHAPE = (3, 5, 4)


def keras_seeded_weights(api, rnn, hidden_size, seed):
    """The weights of the same layer built right after Keras's own full seeding."""
    import keras

    keras.utils.set_random_seed(seed)
    layer_name, cell_name = CELLS[Rnn(rnn)].layer, CELLS[Rnn(rnn)].cell
    if api == "cell":
        layer = keras.layers.RNN(getattr(keras.layers, cell_name)(units=hidden_size), return_state=True)
    else:
        layer = getattr(keras.layers, layer_name)(units=hidden_size, return_state=True)
    layer.build(INPUT_SHAPE)
    return [w.numpy() for w in layer.weights]


# Seeds repeat, so that most builds take the path without TensorFlow's seed;
# each build follows a forward pass, which could move a generator.
CASES = [("layer", "simple_rnn", 2, 0), ("cell", "simple_rnn", 2, 0), ("layer", "lstm", 5, 0),
         ("cell", "gru", 3, 0), ("cell", "lstm", 4, 7), ("layer", "gru", 6, 7), ("layer", "simple_rnn", 9, 0)]


def test_seeded_builds_give_the_weights_of_keras_own_seeding():
    inputs = np.zeros(INPUT_SHAPE, dtype=np.float32)
    inputs[:, :, 0] = 1.0
    for api, rnn, hidden_size, seed in CASES:
        layer = keras_rnn.build_rnn(api, rnn, hidden_size, seed)
        keras_rnn.forward(layer, rnn, inputs)
        ours = list(keras_rnn.get_weights(layer).values())
        expected = keras_seeded_weights(api, rnn, hidden_size, seed)
        assert len(ours) == len(expected) == 3
        for got, want in zip(ours, expected):
            np.testing.assert_array_equal(got, want, err_msg=f"{api} {rnn} H={hidden_size} seed={seed}")


def test_the_seed_decides_the_weights():
    layers = [keras_rnn.build_rnn("layer", "simple_rnn", 4, seed) for seed in (1, 1, 2)]
    for layer in layers:  # built one after another: the generators move between builds
        layer.build(INPUT_SHAPE)
    first, again, other = (list(keras_rnn.get_weights(layer).values()) for layer in layers)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], other[0])


def test_releasing_old_models_keeps_the_seeded_weights_and_resets_keras_state():
    """release_models (keras.backend.clear_session) resets Keras's global state,
    the layer names counting from the start again, and the seeded weights
    stay those of Keras's own seeding, before and after it."""
    import keras

    inputs = np.zeros(INPUT_SHAPE, dtype=np.float32)
    before = keras_rnn.build_rnn("layer", "lstm", 3, 0)
    keras_rnn.forward(before, "lstm", inputs)
    keras.layers.Dense(2)  # a name taken
    keras_rnn.release_models()
    assert keras.layers.Dense(2).name == "dense"
    after = keras_rnn.build_rnn("layer", "lstm", 3, 0)
    keras_rnn.forward(after, "lstm", inputs)
    for got, want in zip(keras_rnn.get_weights(after).values(), keras_seeded_weights("layer", "lstm", 3, 0)):
        np.testing.assert_array_equal(got, want)
    assert np.array_equal(keras_rnn.forward(before, "lstm", inputs)["outputs"],
                          keras_rnn.forward(after, "lstm", inputs)["outputs"])  # the old model still runs


def test_a_sweep_releases_old_models_every_release_every_points(monkeypatch):
    from rnnexp.sweep import callback

    released = []
    monkeypatch.setattr(keras_rnn, "release_models", lambda: released.append(True))
    hook = callback.SweepCallback()
    for _ in range(2 * callback.RELEASE_EVERY + 1):
        hook.on_job_end(config=None, job_return=None)
    assert len(released) == 2
