"""Checks a composed config before any heavy import (TensorFlow, MLflow).

The schema already rejects wrong types at compose time; this adds the checks a
type cannot express. Every failure is a ConfigError naming key, value and what
was expected.
"""

import math
from typing import Sequence

from rnnexp.encoding import check_sequences, check_vocab
from rnnexp.errors import ConfigError
from rnnexp.schema import OPTIMIZERS


def validate(cfg) -> None:
    """Raises ConfigError for the first problem found in `cfg`."""
    hidden_size = cfg.hidden_size
    if isinstance(hidden_size, bool) or not isinstance(hidden_size, int) or hidden_size <= 0:
        raise ConfigError("hidden_size", hidden_size, "a positive integer")
    if isinstance(cfg.seed, bool) or not isinstance(cfg.seed, int):
        raise ConfigError("seed", cfg.seed, "an integer")
    max_sequences = cfg.plots.max_sequences
    if isinstance(max_sequences, bool) or not isinstance(max_sequences, int) or max_sequences <= 0:
        raise ConfigError("plots.max_sequences", max_sequences, "a positive integer")
    vocab, sequences = list(cfg.data.vocab), list(cfg.data.sequences)
    check_vocab(vocab)
    check_sequences(vocab, sequences)
    if getattr(cfg.task, "value", cfg.task) == "train":
        validate_train(cfg.train, sequences)


def _positive_int(key: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(key, value, "a positive integer")


def validate_train(train, sequences) -> None:
    """The checks of `task=train`: its settings, and sequences long enough to
    have a next character."""
    _positive_int("train.epochs", train.epochs)
    _positive_int("train.batch_size", train.batch_size)
    if train.optimizer not in OPTIMIZERS:
        raise ConfigError("train.optimizer", train.optimizer, f"one of {sorted(OPTIMIZERS)}")
    rate = train.learning_rate
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate <= 0:
        raise ConfigError("train.learning_rate", rate, "a positive finite number")
    check_trainable(sequences)


def check_trainable(sequences: Sequence[str]) -> None:
    """Raises ConfigError unless every sequence has a next character to learn."""
    for row, sequence in enumerate(sequences):
        if len(sequence) < 2:
            raise ConfigError(
                f"data.sequences[{row}]", sequence, "at least 2 characters for task=train",
                "the inputs are a sequence's characters [:-1] and the targets its characters [1:]",
            )
