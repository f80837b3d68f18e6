"""Checks a composed config before any heavy import (TensorFlow, MLflow).

The schema already rejects wrong types at compose time; this adds the checks a
type cannot express. Every failure is a ConfigError naming key, value and what
was expected.
"""

from rnnexp.encoding import check_sequences, check_vocab
from rnnexp.errors import ConfigError


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
