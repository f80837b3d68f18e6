"""Training the configured RNN to predict each next character, as plain values
in and out: a `Config` in, a `TrainResult` out; no Hydra, no MLflow, no files.

    from rnnexp.config.compose import compose
    from rnnexp.core.training import train
    result = train(compose(["task=train", "data=hihello"]))
    result.predictions  # ["ihello"]

For each sequence the inputs are its characters [:-1] and the targets its
characters [1:]: from "hihell" the model learns to say "ihello". A text file
(`data.text_file`) is cut into windows instead (rnnexp.core.text_windows),
streamed to Keras a batch at a time, its last part held out for validation.
Then the trained model generates text (rnnexp.core.generation).
"""

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

from rnnexp.config.schema import Config, check_trainable
from rnnexp.core import keras_rnn, next_char
from rnnexp.core.encoding import Encoded, one_hot
from rnnexp.core.forward import ForwardResult, check_forward, run_layer
from rnnexp.core.generation import generate
from rnnexp.core.text_windows import text_data


@dataclass(frozen=True)
class NextCharData:
    encoded: Encoded  # the inputs: each sequence's characters [:-1], one-hot (B, T-1, V)
    targets: np.ndarray  # (B, T-1) int64, the index of each next character; 0 where padded


def next_char_data(vocab: Sequence[str], sequences: Sequence[str]) -> NextCharData:
    """Inputs and targets for learning the next character.

    Returns:
        A `NextCharData`; for vocab (h, i, e, l, o) and "hihello" the inputs
        encode "hihell" (1, 6, 5) and the targets are [[1, 0, 2, 3, 3, 4]] ("ihello").

    Raises:
        ConfigError: for a sequence shorter than 2 or a bad vocabulary/sequence.
    """
    check_trainable(sequences)
    encoded = one_hot(vocab, [s[:-1] for s in sequences])
    index = {token: i for i, token in enumerate(vocab)}
    targets = np.zeros(encoded.mask.shape, dtype=np.int64)
    for row, sequence in enumerate(sequences):
        targets[row, : len(sequence) - 1] = [index[c] for c in sequence[1:]]
    return NextCharData(encoded=encoded, targets=targets)


def decode_predictions(vocab: Sequence[str], probabilities: np.ndarray, lengths: np.ndarray) -> List[str]:
    """The most probable character at each real step, as one string per sequence."""
    best = probabilities.argmax(axis=-1)  # (B, T)
    return ["".join(vocab[i] for i in row[: int(n)]) for row, n in zip(best, lengths)]


def scores(probabilities: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> Dict[str, float]:
    """Cross-entropy and accuracy over the real steps, computed here in NumPy
    from the trained model's own predictions rather than taken from Keras.

    Args:
        probabilities: (B, T, V); targets: (B, T) int; mask: (B, T) bool.

    Returns:
        {"loss": mean -log p(target), "accuracy": fraction of argmax == target}.
    """
    picked = np.take_along_axis(probabilities, targets[..., None], axis=-1)[..., 0]  # (B, T)
    loss = -np.log(np.clip(picked[mask], 1e-7, 1.0)).mean()
    accuracy = (probabilities.argmax(axis=-1) == targets)[mask].mean()
    return {"loss": float(loss), "accuracy": float(accuracy)}


# A text file's first windows are the sequences a training run predicts, prints
# and records as its forward run.
SHOWN_WINDOWS = 8


@dataclass
class TrainResult:
    config: Config  # what was trained, and how (config.train)
    # The sequences predicted and recorded: config.data.sequences, or a text
    # file's first SHOWN_WINDOWS windows with their next character (W + 1 each).
    sequences: List[str]
    data: NextCharData  # of `sequences`
    # "loss", "accuracy" (and for a text file with data.val_fraction "val_loss",
    # "val_accuracy"): one value per epoch
    history: Dict[str, List[float]]
    final: Dict[str, float]  # "loss", "accuracy" of the trained model on all the training data
    probabilities: np.ndarray  # (B, T-1, V) the trained model's next-character probabilities
    predictions: List[str]  # the most probable next characters, one string per sequence
    # The trained RNN layer run once more on the inputs and checked, as a
    # forward run of the sequences' characters [:-1]: its tensors are inputs
    # (B, T-1, V), outputs (B, T-1, H), state_h (B, H) (+ state_c), its weights
    # the trained kernel, recurrent_kernel, bias.
    forward: ForwardResult
    keras_model: object  # the trained keras.Model: (None, None, V) -> (None, None, V)
    generated: str  # generate.prompt and generate.length characters the trained model generated
    # A text file's window counts, {"train": ..., "validation": ...}; None for sequences.
    window_counts: Optional[Dict[str, int]] = None
    # The RNN's weights before training (kernel, recurrent_kernel, bias), for what changed (the spectra).
    initial_weights: Optional[Dict[str, np.ndarray]] = None

    @property
    def input_texts(self) -> List[str]:
        return [s[:-1] for s in self.sequences]

    @property
    def target_texts(self) -> List[str]:
        return [s[1:] for s in self.sequences]


def train(config: Config, text: Optional[str] = None, on_epoch=None) -> TrainResult:
    """Builds the seeded model, trains it as `config.train` says, reads back
    what it learned and generates text with it as `config.generate` says.

    Args:
        config: checked; with `data.text_file`, resolved by
            rnnexp.config.compose.to_config (its `data.vocab` known).
        text: the text of `data.text_file` (rnnexp.config.text_file.read_text);
            core reads no files.
        on_epoch: called as on_epoch(epoch (from 1), {"loss": ..., ...}) after
            every epoch, e.g. to show progress (rnnexp.record.console.EpochProgress).
    """
    vocab, settings, windows = config.data.vocab, config.train, None
    if config.data.text_file is not None:
        if text is None:
            raise ValueError("train: config.data.text_file is set; pass its text (rnnexp.config.text_file.read_text)")
        windows = text_data(text, vocab, config.data.window, config.data.stride, config.data.val_fraction)
        sequences = windows.train.texts(vocab, SHOWN_WINDOWS)
    else:
        sequences = list(config.data.sequences)
    data = next_char_data(vocab, sequences)
    inputs, mask = data.encoded.inputs, data.encoded.mask
    next_char.enable_determinism()
    layer = keras_rnn.build_rnn(config.api, config.rnn, config.hidden_size, config.seed, num_layers=config.num_layers)
    classifier = next_char.build_next_char_model(layer, len(vocab), settings.optimizer, settings.learning_rate)
    initial_weights = keras_rnn.get_weights(layer)  # built by the model's call
    if windows is None:
        history = next_char.fit(classifier, inputs, data.targets, mask, settings.epochs, settings.batch_size,
                                config.seed, on_epoch)
    else:
        history, final = fit_windows(classifier, windows, len(vocab), settings.epochs, settings.batch_size, on_epoch,
                                     config.seed)
    probabilities = next_char.predict(classifier, inputs)
    if windows is None:
        final = scores(probabilities, data.targets, mask)
    forward = run_layer(config, layer, [s[:-1] for s in sequences], data.encoded)
    wanted = config.generate
    generated = generate(classifier, vocab, wanted.prompt or sequences[0][0], wanted.length, wanted.temperature,
                         config.seed)
    return TrainResult(
        config=config, sequences=sequences, data=data, history=history, final=final,
        probabilities=probabilities, predictions=decode_predictions(vocab, probabilities, data.encoded.lengths),
        forward=check_forward(forward), keras_model=classifier, generated=generated,
        window_counts=None if windows is None else {
            "train": windows.train.count, "validation": 0 if windows.validation is None else windows.validation.count},
        initial_weights=initial_weights,
    )


def fit_windows(model, windows, vocab_size: int, epochs: int, batch_size: int, on_epoch, seed: int):
    """Trains on a text's windows (rnnexp.core.text_windows.TextData), a batch
    at a time, shuffled each epoch from `seed`; returns (history, the final
    loss and accuracy over all the training windows)."""
    from rnnexp.core.window_batches import WindowBatches

    validation = None if windows.validation is None else WindowBatches(windows.validation, vocab_size, batch_size)
    history = next_char.fit_batches(model, WindowBatches(windows.train, vocab_size, batch_size, seed), validation,
                                    epochs, on_epoch)
    return history, next_char.evaluate_batches(model, WindowBatches(windows.train, vocab_size, batch_size))
