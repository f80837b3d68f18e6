"""Issue 4.2: ragged sequences are padded and masked, so each sequence's final
state is the state after its own last character: with the same weights, `hel`
in the batch [hello, hel] ends where [hel] alone ends, for every cell and API."""

import numpy as np
import pytest

from rnnexp.core.cells import STATE_NAMES
from rnnexp.core.encoding import one_hot

VOCAB = ("h", "e", "l", "o")


def test_padding_rows_are_zero_and_masked():
    encoded = one_hot(VOCAB, ["hello", "hel"])
    assert encoded.inputs.shape == (2, 5, 4)
    assert encoded.lengths.tolist() == [5, 3]
    assert encoded.mask.tolist() == [[True] * 5, [True, True, True, False, False]]
    assert not encoded.inputs[1, 3:].any() and (encoded.inputs[1, :3].sum(axis=-1) == 1).all()
    assert encoded.ragged and not one_hot(VOCAB, ["hel", "leh"]).ragged


@pytest.mark.slow
@pytest.mark.parametrize("api", ["cell", "layer"])
@pytest.mark.parametrize("rnn", ["simple_rnn", "lstm", "gru"])
def test_final_state_of_a_short_sequence_ignores_the_padding(api, rnn):
    from rnnexp.core import keras_rnn

    batch = one_hot(VOCAB, ["hello", "hel"])
    alone = one_hot(VOCAB, ["hel"])
    layer = keras_rnn.build_rnn(api, rnn, hidden_size=3, seed=1)
    in_batch = keras_rnn.forward(layer, rnn, batch.inputs, batch.mask)
    weights = keras_rnn.get_weights(layer)

    fresh = keras_rnn.build_rnn(api, rnn, hidden_size=3, seed=2)  # other initial weights ...
    keras_rnn.set_weights(fresh, weights, alone.inputs.shape)  # ... replaced by the same ones
    by_itself = keras_rnn.forward(fresh, rnn, alone.inputs, alone.mask)

    for state in STATE_NAMES[rnn]:
        np.testing.assert_allclose(in_batch[state][1], by_itself[state][0], rtol=0, atol=1e-6)
    np.testing.assert_allclose(in_batch["outputs"][1, :3], by_itself["outputs"][0], rtol=0, atol=1e-6)
    # Without the mask the padding steps would move the state: the test can fail.
    unmasked = keras_rnn.forward(layer, rnn, batch.inputs, None)
    assert np.abs(unmasked["state_h"][1] - by_itself["state_h"][0]).max() > 1e-3
