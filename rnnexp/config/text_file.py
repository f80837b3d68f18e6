"""`data.text_file`: reading the UTF-8 text file a run trains on, and checking
it against the data settings, so that a missing, empty or non-UTF-8 file, a
character outside `data.vocab` or a window longer than the text is a
ConfigError before TensorFlow is imported. `resolved` gives the `Config` a job
runs and records: with `data.vocab` the file's sorted distinct characters
when it was not given.

Standard library only. A relative path is taken from the working folder: the
folder rnnexp was launched in (`hydra.job.chdir` is false in rnnexp's config).
"""

import dataclasses
from pathlib import Path

from rnnexp.config.schema import MISSING, Config, Task, check_windows, text_vocab
from rnnexp.errors import ConfigError

KEY = "data.text_file"


def read_text(path: str) -> str:
    """The whole text of the file `path`, decoded as UTF-8.

    Raises:
        ConfigError: the file is missing, not a file, unreadable, not valid
            UTF-8 (naming the byte offset) or empty.
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(KEY, path, "an existing UTF-8 text file",
                          f"no such file in {Path.cwd()}" if not file.is_absolute() else "no such file") from None
    except IsADirectoryError:
        raise ConfigError(KEY, path, "a UTF-8 text file", "it is a folder") from None
    except OSError as error:
        raise ConfigError(KEY, path, "a readable UTF-8 text file", error.strerror or str(error)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(KEY, path, "a UTF-8 text file",
                          f"byte {error.start} ({data[error.start:error.start + 1]!r}) is not UTF-8: {error.reason}") from None
    if not text:
        raise ConfigError(KEY, path, "a non-empty UTF-8 text file", "the file is empty")
    return text


def resolved(config: Config) -> Config:
    """`config` with its text file read and checked; `data.vocab` is the file's
    sorted distinct characters if it was not given. Returns `config` itself
    when there is no text file (or for task=generate, which uses no data)."""
    data = config.data
    if data.text_file is None or config.task is Task.generate:
        return config
    text = read_text(data.text_file)
    check_text(config, text)
    if data.vocab not in (None, MISSING):
        return config
    vocab = text_vocab(text)
    config.generate.check_prompt(vocab, "the text's characters")
    return dataclasses.replace(config, data=dataclasses.replace(data, vocab=vocab))


def check_text(config: Config, text: str) -> None:
    """Raises ConfigError unless `text` fits `config.data`: over its vocabulary
    (when given) and long enough for one window (in each part)."""
    data = config.data
    if data.vocab not in (None, MISSING):
        vocab = set(data.vocab)
        outside = next((i for i, char in enumerate(text) if char not in vocab), None)
        if outside is not None:
            raise ConfigError(KEY, data.text_file, f"characters from data.vocab {list(data.vocab)}",
                              f"character {text[outside]!r} at position {outside} is not in the vocabulary; "
                              "data.vocab=null takes the file's characters")
    check_windows(len(text), data.window, data.val_fraction)
