"""rnnexp.keras_rnn.forward runs long sequences as a TensorFlow graph: the tensors
must be those of Keras's own eager call and of the NumPy reference, masked
or not, for every cell and both APIs."""

import numpy as np
import pytest

from rnnexp.core import keras_rnn
from rnnexp.core.cells import STATE_NAMES
from rnnexp.core.encoding import one_hot
from rnnexp.core.reference import run_reference

pytestmark = pytest.mark.slow

SEQUENCES = ("hello" * 8, "hel" * 7, "o" * 40)  # 40, 21 and 40 steps: ragged, so masked


@pytest.mark.parametrize("api", ["layer", "cell"])
@pytest.mark.parametrize("rnn", ["simple_rnn", "lstm", "gru"])
def test_a_graph_forward_gives_the_eager_tensors(rnn, api):
    encoded = one_hot(tuple("helo"), SEQUENCES)
    assert encoded.inputs.shape[1] >= keras_rnn.GRAPH_MIN_STEPS  # so forward takes the graph path

    graph = keras_rnn.forward(keras_rnn.build_rnn(api, rnn, 3, seed=7), rnn, encoded.inputs, encoded.mask)
    eager_layer = keras_rnn.build_rnn(api, rnn, 3, seed=7)
    eager = [np.asarray(t) for t in eager_layer(encoded.inputs, mask=encoded.mask)]

    assert list(graph) == ["outputs", *STATE_NAMES[rnn]]
    for name, expected in zip(graph, eager):
        np.testing.assert_array_equal(graph[name], expected, err_msg=name)
    reference = run_reference(rnn, encoded.inputs, keras_rnn.get_weights(eager_layer), encoded.mask)
    for name in graph:
        assert np.abs(graph[name] - reference[name]).max() < 1e-5, name
