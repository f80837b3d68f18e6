"""One-hot encoding, against the lesson's own vectors."""

import numpy as np
import pytest

from rnnexp.core.encoding import decode, one_hot
from rnnexp.errors import ConfigError

VOCAB = ["h", "e", "l", "o"]
# The lesson's vectors, written out as it writes them.
h, e, l, o = [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]


def test_the_lessons_four_vectors():
    encoded = one_hot(VOCAB, ["h", "e", "l", "o"])
    np.testing.assert_array_equal(encoded.inputs[:, 0], [h, e, l, o])


@pytest.mark.parametrize("sequences, x_data", [
    (["h"], [[h]]),
    (["hello"], [[h, e, l, l, o]]),
    (["hello", "eolll", "lleel"], [[h, e, l, l, o], [e, o, l, l, l], [l, l, e, e, l]]),
])
def test_the_lessons_x_data(sequences, x_data):
    expected = np.array(x_data, dtype=np.float32)  # as the lesson builds X_data
    encoded = one_hot(VOCAB, sequences)
    assert encoded.inputs.dtype == np.float32
    assert encoded.inputs.shape == expected.shape  # (1,1,4), (1,5,4), (3,5,4)
    np.testing.assert_array_equal(encoded.inputs, expected)
    assert encoded.mask.all() and not encoded.ragged
    assert encoded.lengths.tolist() == [len(s) for s in sequences]


def test_ragged_sequences_are_padded_with_zero_rows_and_masked():
    encoded = one_hot(["a", "b", "c"], ["ab", "abca", "c"])
    assert encoded.inputs.shape == (3, 4, 3)
    assert encoded.lengths.tolist() == [2, 4, 1]
    assert encoded.ragged
    np.testing.assert_array_equal(encoded.mask, [[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]])
    assert not encoded.inputs[~encoded.mask].any()  # padding rows are all zero
    np.testing.assert_array_equal(encoded.inputs[encoded.mask].sum(axis=-1), 1.0)  # real rows are one-hot
    assert decode(["a", "b", "c"], encoded.inputs) == ["ab", "abca", "c"]


@pytest.mark.parametrize("vocab, sequences, key, value, detail", [
    ([], ["a"], "data.vocab", [], "non-empty"),
    (["a", "bc"], ["a"], "data.vocab[1]", "bc", "2 characters"),
    (["a", "b", "a"], ["a"], "data.vocab[2]", "a", "data.vocab[0]"),
    (["a", "b"], [], "data.sequences", [], "non-empty"),
    (["a", "b"], ["ab", ""], "data.sequences[1]", "", "non-empty string"),
    (["h", "e", "l", "o"], ["hello", "helxo"], "data.sequences[1]", "helxo", "'x' at position 3"),
])
def test_errors_name_key_value_and_position(vocab, sequences, key, value, detail):
    with pytest.raises(ConfigError) as caught:
        one_hot(vocab, sequences)
    error = caught.value
    assert (error.key, error.value) == (key, value)
    assert str(error).startswith(f"{key}={value!r}: expected")
    assert detail in str(error)
