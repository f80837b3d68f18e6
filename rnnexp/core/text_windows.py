"""A text cut into training windows, as index arrays rather than one-hot
copies: the text's characters as small integer codes (N,), and each window
known by its start alone. A window of `window` steps starting at s has the
inputs codes[s : s + window] and the targets codes[s + 1 : s + window + 1];
starts are 0, stride, 2 * stride, ... as long as a window and its next
character fit. One-hot inputs exist only for the batch at hand
(`window_batch`), so a 5 MB text trains in memory proportional to a batch.
"""

from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from rnnexp.config.schema import check_windows, validation_start


ENCODE_CHUNK = 1 << 18  # characters encoded at once (a few MB of temporary arrays)


@dataclass(frozen=True)
class Windows:
    codes: np.ndarray  # (N,) the part's characters as vocabulary indices (uint8/uint16/uint32)
    window: int  # steps W per window
    stride: int

    @property
    def count(self) -> int:
        """How many windows: those whose W inputs and next character fit."""
        return (len(self.codes) - 1 - self.window) // self.stride + 1

    def starts(self, numbers: np.ndarray) -> np.ndarray:
        return np.asarray(numbers, dtype=np.int64) * self.stride

    def batch(self, numbers: np.ndarray, vocab_size: int):
        """Windows `numbers` (b,) as one-hot inputs (b, W, V) float32 and targets (b, W) int64."""
        return window_batch(self.codes, self.starts(numbers), self.window, vocab_size)

    def texts(self, vocab: Sequence[str], count: int) -> List[str]:
        """The first `count` windows with their next character, as strings of W + 1 characters."""
        return ["".join(vocab[c] for c in self.codes[s : s + self.window + 1])
                for s in self.starts(np.arange(min(count, self.count)))]


@dataclass(frozen=True)
class TextData:
    train: Windows  # the text before the validation part
    validation: Optional[Windows]  # the last data.val_fraction of the text, or None


def encode_text(text: str, vocab: Sequence[str]) -> np.ndarray:
    """The text's characters as indices into `vocab`, (N,) in the smallest
    unsigned integer type that holds them; vectorised over the code points a
    chunk of ENCODE_CHUNK characters at a time, so that a 5 MB text takes a
    fraction of a second and little memory beside the result.

    Raises:
        KeyError: naming the first character that is not in `vocab`.
    """
    tokens = np.array([ord(token) for token in vocab], dtype=np.uint32)
    order = np.argsort(tokens)
    codes = np.empty(len(text), dtype=np.min_scalar_type(max(len(vocab) - 1, 0)))
    for first in range(0, len(text), ENCODE_CHUNK):
        points = np.frombuffer(text[first : first + ENCODE_CHUNK].encode("utf-32-le"), dtype=np.uint32)
        found = order[np.minimum(np.searchsorted(tokens, points, sorter=order), len(tokens) - 1)]
        unknown = np.flatnonzero(tokens[found] != points)
        if unknown.size:
            position = first + int(unknown[0])
            raise KeyError(f"character {text[position]!r} at position {position} is not in the vocabulary")
        codes[first : first + len(points)] = found
    return codes


def text_data(text: str, vocab: Sequence[str], window: int, stride: int, val_fraction: float) -> TextData:
    """The text's training and validation windows.

    Raises:
        ConfigError: a part of the text is shorter than a window and its next character.
    """
    check_windows(len(text), window, val_fraction)
    codes = encode_text(text, vocab)
    start = validation_start(len(codes), val_fraction)
    validation = Windows(codes[start:], window, stride) if val_fraction else None
    return TextData(train=Windows(codes[:start], window, stride), validation=validation)


def window_batch(codes: np.ndarray, starts: np.ndarray, window: int, vocab_size: int):
    """One-hot inputs (b, W, V) float32 and integer targets (b, W) int64 of the
    windows starting at `starts` (b,)."""
    positions = starts[:, None] + np.arange(window + 1)[None, :]  # (b, W + 1)
    chars = codes[positions].astype(np.int64)
    inputs = np.zeros((len(starts), window, vocab_size), np.float32)
    np.put_along_axis(inputs, chars[:, :-1, None], 1.0, axis=-1)
    return inputs, chars[:, 1:]
