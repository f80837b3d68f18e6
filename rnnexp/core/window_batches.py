"""A text's windows (rnnexp.core.text_windows) as a `keras.utils.PyDataset`
for `model.fit`: one one-hot batch at a time, made when Keras asks for it.
Importing this module imports Keras (TensorFlow with it); rnnexp.core.training
imports it only for a text file.
"""

import math

import numpy as np

from rnnexp.core.keras_rnn import keras_module
from rnnexp.core.text_windows import Windows

keras = keras_module()


class WindowBatches(keras.utils.PyDataset):
    """Batches of `batch_size` windows: inputs (b, W, V) float32, targets (b, W) int64.

    Args:
        windows: the windows of one part of the text.
        vocab_size: V.
        batch_size: windows per batch (the last batch may be smaller).
        seed: shuffle the windows before every epoch with a numpy Generator
            seeded by it; None keeps them in order (validation, evaluation).
    """

    def __init__(self, windows: Windows, vocab_size: int, batch_size: int, seed=None):
        super().__init__(workers=1, use_multiprocessing=False)  # in order, in this thread: reproducible
        self.windows, self.vocab_size, self.batch_size = windows, vocab_size, batch_size
        self.rng = None if seed is None else np.random.default_rng(seed)
        count = windows.count
        self.order = np.arange(count, dtype=np.int32 if count < 2**31 else np.int64)
        self.on_epoch_end()

    def __len__(self) -> int:
        return math.ceil(self.windows.count / self.batch_size)

    def __getitem__(self, number: int):
        numbers = self.order[number * self.batch_size : (number + 1) * self.batch_size]
        return self.windows.batch(numbers, self.vocab_size)

    def on_epoch_end(self) -> None:
        if self.rng is not None:
            self.rng.shuffle(self.order)
