"""Training the configured RNN to predict each next character, as plain values
in and plain values out: no Hydra, no MLflow, no files. Usable from a notebook:

    from rnnexp.experiment import Spec
    from rnnexp.training import TrainSettings, train
    spec = Spec(api="layer", rnn="simple_rnn", hidden_size=2, seed=0,
                vocab=("h", "i", "e", "l", "o"), sequences=("hihello",))
    result = train(spec, TrainSettings())
    result.predictions  # ["ihello"]

For each sequence the inputs are its characters [:-1] and the targets its
characters [1:]: from "hihell" the model learns to say "ihello".
"""

from dataclasses import dataclass, replace
from typing import Dict, List, Sequence

import numpy as np

from rnnexp import model, next_char_model
from rnnexp.encoding import Encoded, one_hot
from rnnexp.experiment import ForwardResult, Spec, _plain, check_forward
from rnnexp.validation import check_trainable


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 300
    optimizer: str = "rmsprop"
    learning_rate: float = 0.1
    batch_size: int = 32

    @classmethod
    def from_config(cls, train_cfg) -> "TrainSettings":
        """From the composed config's `train` node."""
        return cls(epochs=int(train_cfg.epochs), optimizer=str(_plain(train_cfg.optimizer)),
                   learning_rate=float(train_cfg.learning_rate), batch_size=int(train_cfg.batch_size))


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
    spec: Spec
    settings: TrainSettings
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
        return list(self.forward.spec.sequences)

    @property
    def target_texts(self) -> List[str]:
        return [s[1:] for s in self.spec.sequences]


def train(spec: Spec, settings: TrainSettings) -> TrainResult:
    """Builds the seeded model, trains it, and reads back what it learned.

    Raises:
        ConfigError: for a sequence shorter than 2 characters, before Keras is imported.
    """
    data = next_char_data(spec.vocab, spec.sequences)  # first, so bad input never imports Keras
    inputs, mask = data.encoded.inputs, data.encoded.mask
    next_char_model.enable_determinism()
    layer = model.build_rnn(spec.api, spec.rnn, spec.hidden_size, spec.seed)
    classifier = next_char_model.build_next_char_model(layer, len(spec.vocab), settings.optimizer,
                                                       settings.learning_rate)
    history = next_char_model.fit(classifier, inputs, data.targets, mask, settings.epochs,
                                  settings.batch_size, spec.seed)
    probabilities = next_char_model.predict(classifier, inputs)
    forward = ForwardResult(
        spec=replace(spec, sequences=tuple(s[:-1] for s in spec.sequences)), encoded=data.encoded,
        tensors={"inputs": inputs, **model.forward(layer, spec.rnn, inputs, mask)},
        weights=model.get_weights(layer),
    )
    return TrainResult(
        spec=spec, settings=settings, data=data, history=history,
        final=scores(probabilities, data.targets, mask), probabilities=probabilities,
        predictions=decode_predictions(spec.vocab, probabilities, data.encoded.lengths),
        forward=check_forward(forward), keras_model=classifier,
    )

