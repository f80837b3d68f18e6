"""The typed config: what a run is, as dataclasses that check their own values.

Hydra composes the YAML of `rnnexp/conf/` against these classes
(rnnexp.config.compose registers them), so a wrong type (`hidden_size=two`)
fails while composing; `OmegaConf.to_object` then builds a `Config`, whose
`__post_init__` runs the checks a type cannot express, each beside its field,
raising ConfigError (key, value, expectation). A `Config` built by hand, in a
notebook, is checked the same way. Every layer receives this object or a part
of it; nothing else holds the settings or their defaults.

Standard library only, so that a config error is reported before NumPy,
TensorFlow or MLflow is imported.
"""

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import List, Optional, Sequence

from rnnexp.errors import ConfigError

# OmegaConf's marker for a value the composed config must give (omegaconf.MISSING).
MISSING = "???"


class Api(str, Enum):
    """How the recurrent network is built (the lesson's two approaches)."""

    cell = "cell"  # keras.layers.RNN(<Cell>(units)): a cell does one step, RNN loops it
    layer = "layer"  # keras.layers.SimpleRNN / LSTM / GRU


class Rnn(str, Enum):
    """Which recurrent cell."""

    simple_rnn = "simple_rnn"
    lstm = "lstm"
    gru = "gru"


class Task(str, Enum):
    """What a run does with the configured RNN."""

    forward = "forward"  # the lesson's forward pass: build the seeded RNN, run it once
    train = "train"  # learn to predict each next character (rnnexp.core.training)


def check_positive_int(key: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(key, value, "a positive integer")


def check_data(vocab: Sequence[str], sequences: Sequence[str]) -> None:
    """Raises ConfigError unless `vocab` is a non-empty list of distinct
    single characters and every sequence a non-empty string over it."""
    if len(vocab) == 0:
        raise ConfigError("data.vocab", list(vocab), "a non-empty list of single characters")
    seen = {}
    for index, token in enumerate(vocab):
        if not isinstance(token, str) or len(token) != 1:
            raise ConfigError(f"data.vocab[{index}]", token, "a single character",
                              f"tokens are one character each; got {len(str(token))} characters")
        if token in seen:
            raise ConfigError(f"data.vocab[{index}]", token, "distinct tokens",
                              f"{token!r} is also data.vocab[{seen[token]}]")
        seen[token] = index
    if len(sequences) == 0:
        raise ConfigError("data.sequences", list(sequences), "a non-empty list of strings")
    for row, sequence in enumerate(sequences):
        if not isinstance(sequence, str) or len(sequence) == 0:
            raise ConfigError(f"data.sequences[{row}]", sequence, "a non-empty string")
        for position, char in enumerate(sequence):
            if char not in seen:
                raise ConfigError(f"data.sequences[{row}]", sequence, f"characters from data.vocab {list(vocab)}",
                                  f"character {char!r} at position {position} is not in the vocabulary")


def check_trainable(sequences: Sequence[str]) -> None:
    """Raises ConfigError unless every sequence has a next character to learn."""
    for row, sequence in enumerate(sequences):
        if len(sequence) < 2:
            raise ConfigError(f"data.sequences[{row}]", sequence, "at least 2 characters for task=train",
                              "the inputs are a sequence's characters [:-1] and the targets its characters [1:]")


@dataclass
class DataConfig:
    # Single-character tokens; a token's one-hot position is its index here.
    vocab: List[str] = MISSING
    # Strings over the vocabulary, one per batch row; shorter ones are padded and masked.
    sequences: List[str] = MISSING

    def check(self) -> None:
        for key, value in (("data.vocab", self.vocab), ("data.sequences", self.sequences)):
            if value == MISSING:
                raise ConfigError(key, value, "a list", "none given: pick a data option (data=hello) or set it")
        check_data(self.vocab, self.sequences)


# train.optimizer option -> Keras optimizer class name (rnnexp.core.next_char builds it).
OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop",
              "adagrad": "Adagrad", "nadam": "Nadam"}


@dataclass
class TrainConfig:
    """Settings of `task=train`, checked only when training. The defaults take
    `data=hihello` to accuracy 1.0 with the lesson's SimpleRNN of
    hidden_size=2 for every seed tried (0-29); Adam at the same rate left 2
    seeds in 10 stuck (docs/training.md)."""

    epochs: int = 300
    optimizer: str = "rmsprop"  # a key of OPTIMIZERS
    learning_rate: float = 0.1
    batch_size: int = 32  # sequences per gradient step; reshuffled every epoch

    def check(self) -> None:
        check_positive_int("train.epochs", self.epochs)
        check_positive_int("train.batch_size", self.batch_size)
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError("train.optimizer", self.optimizer, f"one of {sorted(OPTIMIZERS)}")
        rate = self.learning_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate <= 0:
            raise ConfigError("train.learning_rate", rate, "a positive finite number")


@dataclass
class MlflowConfig:
    # None: MLflow's own default (MLFLOW_TRACKING_URI, else sqlite:///mlflow.db
    # in the working folder, which `mlflow ui` started there reads).
    tracking_uri: Optional[str] = None
    experiment_name: str = "rnnexp"  # created if missing


@dataclass
class PlotsConfig:
    # Per run plots/states.png (hidden states, and an LSTM's cell state, as a
    # heatmap and as lines); per sweep the parent's sweep_summary.png.
    enabled: bool = True
    # How many of the batch's sequences a run's plot shows (the first ones).
    max_sequences: int = 4

    def check(self) -> None:
        check_positive_int("plots.max_sequences", self.max_sequences)


@dataclass
class ConsoleConfig:
    # What a run prints of its tensors (inputs, outputs, states with their
    # shapes): None (the default) prints them for a single run and not for a
    # sweep's points, which print one line each; true always, false never.
    tensors: Optional[bool] = None


@dataclass
class Config:
    task: Task = Task.forward
    hidden_size: int = 2  # units H of the RNN
    seed: int = 0  # decides the initial weights (and training's shuffling)
    api: Api = Api.layer
    rnn: Rnn = Rnn.simple_rnn
    data: DataConfig = field(default_factory=DataConfig)
    # Used by task=train only; a forward run neither checks nor records them.
    train: TrainConfig = field(default_factory=TrainConfig)
    mlflow: MlflowConfig = field(default_factory=MlflowConfig)
    plots: PlotsConfig = field(default_factory=PlotsConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    # true: skip a run (or sweep point) that already FINISHED in this
    # experiment with the same config and code (rnnexp.tracking.tags).
    resume: bool = False

    def __post_init__(self) -> None:
        """Checks every value, in the order the keys are listed above; an
        option given as a string (`api="cell"`, from Python) becomes its Enum."""
        for key, kind in (("task", Task), ("api", Api), ("rnn", Rnn)):
            try:
                setattr(self, key, kind(getattr(self, key)))
            except ValueError:
                raise ConfigError(key, getattr(self, key), f"one of {[option.value for option in kind]}") from None
        check_positive_int("hidden_size", self.hidden_size)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ConfigError("seed", self.seed, "an integer")
        self.plots.check()
        self.data.check()
        if self.task is Task.train:
            self.train.check()
            check_trainable(self.data.sequences)
