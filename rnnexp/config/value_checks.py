"""The checks of single config values that the schema's dataclasses run
beside their fields (rnnexp.config.schema re-exports them): each raises
ConfigError naming the key, the value and what was expected.

Standard library only, as the schema, so that a bad value is reported before
NumPy, TensorFlow or MLflow is imported.
"""

from typing import List, Sequence

from rnnexp.errors import ConfigError


def check_positive_int(key: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(key, value, "a positive integer")


def check_vocab(vocab: Sequence[str]) -> None:
    """Raises ConfigError unless `vocab` is a non-empty list of distinct single characters."""
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


def check_over_vocab(key: str, text: str, vocab: Sequence[str], vocab_name: str = "data.vocab") -> None:
    """Raises ConfigError unless `text` is a non-empty string over `vocab`."""
    if not isinstance(text, str) or len(text) == 0:
        raise ConfigError(key, text, "a non-empty string")
    known = set(vocab)
    for position, char in enumerate(text):
        if char not in known:
            raise ConfigError(key, text, f"characters from {vocab_name} {list(vocab)}",
                              f"character {char!r} at position {position} is not in the vocabulary")


def check_data(vocab: Sequence[str], sequences: Sequence[str]) -> None:
    """Raises ConfigError unless `vocab` is a non-empty list of distinct
    single characters and every sequence a non-empty string over it."""
    check_vocab(vocab)
    if len(sequences) == 0:
        raise ConfigError("data.sequences", list(sequences), "a non-empty list of strings")
    for row, sequence in enumerate(sequences):
        check_over_vocab(f"data.sequences[{row}]", sequence, vocab)


def check_trainable(sequences: Sequence[str]) -> None:
    """Raises ConfigError unless every sequence has a next character to learn."""
    for row, sequence in enumerate(sequences):
        if len(sequence) < 2:
            raise ConfigError(f"data.sequences[{row}]", sequence, "at least 2 characters for task=train",
                              "the inputs are a sequence's characters [:-1] and the targets its characters [1:]")


def check_fraction(key: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ConfigError(key, value, "a number in [0, 1)")


def text_vocab(text: str) -> List[str]:
    """The vocabulary a text implies: its distinct characters, sorted."""
    return sorted(set(text))


def validation_start(length: int, val_fraction: float) -> int:
    """Where a text of `length` characters is split: characters [:start]
    train, [start:] validate (the last `val_fraction` of the text)."""
    return length - round(length * val_fraction)


def check_windows(length: int, window: int, val_fraction: float) -> None:
    """Raises ConfigError unless the training part of a text of `length`
    characters (and its validation part, if any) holds a window: `window`
    input characters and the one after them."""
    start = validation_start(length, val_fraction)
    for part, size in (("the text", length), ("its training part", start), ("its validation part", length - start)):
        if (part != "its validation part" or val_fraction) and size < window + 1:
            raise ConfigError("data.window", window, f"at most {max(size - 1, 0)} for this text",
                              f"{part} has {size} characters; a window takes {window} and the one after them"
                              + (f" (data.val_fraction={val_fraction:g} of {length})" if part != "the text" else ""))
