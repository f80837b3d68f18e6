"""One-hot encoding of character sequences, as in the lesson.

    h = [1, 0, 0, 0]; e = [0, 1, 0, 0]; l = [0, 0, 1, 0]; o = [0, 0, 0, 1]

A batch of sequences becomes a float32 tensor shaped (batch_size,
sequence_length, vocab_size). Sequences of different lengths are padded at the
end with all-zero rows up to the longest; `Encoded.mask` says which steps are
real, so the RNN skips the padding and each sequence's final state is the state
after its own last character.
"""

from dataclasses import dataclass
from typing import List, Sequence

import numpy as np

from rnnexp.config.schema import check_data


@dataclass(frozen=True)
class Encoded:
    inputs: np.ndarray  # (B, T, V) float32, one-hot; padded steps are all zero
    lengths: np.ndarray  # (B,) int64, each sequence's own length
    mask: np.ndarray  # (B, T) bool, True on real steps

    @property
    def ragged(self) -> bool:
        return bool((self.lengths != self.inputs.shape[1]).any())


def one_hot(vocab: Sequence[str], sequences: Sequence[str]) -> Encoded:
    """Encodes `sequences` over `vocab`.

    Args:
        vocab: distinct single-character tokens; token i is one-hot position i.
        sequences: non-empty strings over `vocab`.

    Returns:
        An `Encoded` with inputs (B, T, V) where T is the longest sequence.

    Raises:
        ConfigError: naming the offending key, value and position.
    """
    check_data(vocab, sequences)
    index = {token: i for i, token in enumerate(vocab)}
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    batch, steps = len(sequences), int(lengths.max())
    inputs = np.zeros((batch, steps, len(vocab)), dtype=np.float32)
    rows = np.repeat(np.arange(batch), lengths)
    cols = np.concatenate([np.arange(n) for n in lengths])
    chars = [index[c] for s in sequences for c in s]
    inputs[rows, cols, chars] = 1.0
    mask = np.arange(steps)[None, :] < lengths[:, None]
    return Encoded(inputs=inputs, lengths=lengths, mask=mask)


def decode(vocab: Sequence[str], inputs: np.ndarray) -> List[str]:
    """The inverse of `one_hot` for its `inputs`: padded steps are dropped."""
    out = []
    for row in inputs:
        real = row.any(axis=-1)
        out.append("".join(vocab[i] for i in row[real].argmax(axis=-1)))
    return out
