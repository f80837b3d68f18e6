"""Training the configured RNN to predict each next character, as plain values
in and out: a `Config` in, a `TrainResult` out; no Hydra, no MLflow, no files.

    from rnnexp.config.compose import compose
    from rnnexp.core.training import train
    result = train(compose(["task=train", "data=hihello"]))
    result.predictions  # ["ihello"]

For each sequence the inputs are its characters [:-1] and the targets its
characters [1:]: from "hihell" the model learns to say "ihello".
"""

from dataclasses import dataclass
from typing import Dict, List, Sequence

import numpy as np

from rnnexp.config.schema import Config, check_trainable
from rnnexp.core import keras_rnn, next_char
from rnnexp.core.encoding import Encoded, one_hot
from rnnexp.core.forward import ForwardResult, check_forward, run_layer


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


@dataclass
class TrainResult:
    config: Config  # what was trained, and how (config.train)
    data: NextCharData
    history: Dict[str, List[float]]  # "loss", "accuracy": one value per epoch
    final: Dict[str, float]  # "loss", "accuracy" of the trained model on the training data
    probabilities: np.ndarray  # (B, T-1, V) the trained model's next-character probabilities
    predictions: List[str]  # the most probable next characters, one string per sequence
    # The trained RNN layer run once more on the inputs and checked, as a
    # forward run of the sequences' characters [:-1]: its tensors are inputs
    # (B, T-1, V), outputs (B, T-1, H), state_h (B, H) (+ state_c), its weights
    # the trained kernel, recurrent_kernel, bias.
    forward: ForwardResult
    keras_model: object  # the trained keras.Model: (None, None, V) -> (None, None, V)

    @property
    def input_texts(self) -> List[str]:
        return list(self.forward.sequences)

    @property
    def target_texts(self) -> List[str]:
        return [s[1:] for s in self.config.data.sequences]


def train(config: Config) -> TrainResult:
    """Builds the seeded model, trains it as `config.train` says, and reads
    back what it learned."""
    vocab, settings = config.data.vocab, config.train
    data = next_char_data(vocab, config.data.sequences)
    inputs, mask = data.encoded.inputs, data.encoded.mask
    next_char.enable_determinism()
    layer = keras_rnn.build_rnn(config.api, config.rnn, config.hidden_size, config.seed)
    classifier = next_char.build_next_char_model(layer, len(vocab), settings.optimizer, settings.learning_rate)
    history = next_char.fit(classifier, inputs, data.targets, mask, settings.epochs, settings.batch_size,
                            config.seed)
    probabilities = next_char.predict(classifier, inputs)
    forward = run_layer(config, layer, [s[:-1] for s in config.data.sequences], data.encoded)
    return TrainResult(
        config=config, data=data, history=history,
        final=scores(probabilities, data.targets, mask), probabilities=probabilities,
        predictions=decode_predictions(vocab, probabilities, data.encoded.lengths),
        forward=check_forward(forward), keras_model=classifier,
    )
