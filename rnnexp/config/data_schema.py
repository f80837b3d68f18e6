"""The `data` part of the typed config (rnnexp.config.schema re-exports it):
the vocabulary and sequences of the lesson, or a text file to train on, each
setting checked beside its field. Standard library only, as the schema is.
"""

from dataclasses import dataclass
from typing import List, Optional

from rnnexp.config.value_checks import (
    check_data,
    check_fraction,
    check_positive_int,
    check_vocab,
)
from rnnexp.errors import ConfigError

# OmegaConf's marker for a value the composed config must give (omegaconf.MISSING).
MISSING = "???"


@dataclass
class DataConfig:
    # Single-character tokens; a token's one-hot position is its index here.
    # null with data.text_file: the file's distinct characters, sorted (text_vocab).
    vocab: Optional[List[str]] = MISSING
    # Strings over the vocabulary, one per batch row; shorter ones are padded and
    # masked. null with data.text_file (the option data=text).
    sequences: Optional[List[str]] = MISSING
    # A UTF-8 text file (relative to the folder rnnexp runs in) to train on,
    # cut into windows; rnnexp.config.text_file reads and checks it.
    text_file: Optional[str] = None
    window: Optional[int] = None  # steps per training sequence, with text_file
    stride: int = 1  # characters between the starts of two windows
    val_fraction: float = 0.0  # the last part of the text held out for validation

    def check(self) -> None:
        check_positive_int("data.stride", self.stride)
        check_fraction("data.val_fraction", self.val_fraction)
        if self.text_file is not None:
            self.check_text_settings()
            return
        if self.val_fraction:
            raise ConfigError("data.val_fraction", self.val_fraction, "0 without data.text_file",
                              "validation holds out the last part of a text file")
        if self.sequences is None:
            raise ConfigError("data.text_file", None, "the path of a UTF-8 text file",
                              "data.sequences is null (data=text): give data.text_file=PATH, or sequences")
        for key, value in (("data.vocab", self.vocab), ("data.sequences", self.sequences)):
            if value == MISSING or value is None:
                raise ConfigError(key, value, "a list", "none given: pick a data option (data=hello) or set it")
        check_data(self.vocab, self.sequences)

    def check_text_settings(self) -> None:
        """The settings of a text file; its contents are checked where it is
        read (rnnexp.config.text_file)."""
        if not isinstance(self.text_file, str) or not self.text_file.strip() or self.text_file == MISSING:
            raise ConfigError("data.text_file", self.text_file, "the path of a UTF-8 text file",
                              "none given" if self.text_file == MISSING else "")
        if self.sequences not in (None, MISSING):
            raise ConfigError("data.sequences", self.sequences, "null with data.text_file",
                              "train on sequences or on a text file; pick data=text for a text file: "
                              "it sets data.sequences and data.vocab to null")
        if self.window is None:
            raise ConfigError("data.window", None, "a positive integer with data.text_file",
                              "the steps of each training sequence cut from the text")
        check_positive_int("data.window", self.window)
        if self.vocab not in (None, MISSING):
            check_vocab(self.vocab)
