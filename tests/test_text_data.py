"""data.text_file without TensorFlow: reading and checking the file (bad
files are ConfigErrors naming the key), the vocabulary it gives, the windows
it is cut into (checked against slices of the text), the validation split,
and what a text-file run records."""

import json
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

from rnnexp.config.compose import to_config
from rnnexp.config.text_file import read_text
from rnnexp.core.text_windows import encode_text, text_data, window_batch
from rnnexp.errors import ConfigError
from rnnexp.job import recorded_config
from rnnexp.tracking.run_record import config_params

PATTERN = "hello world, rnn basic! "  # the repeating pattern of tests/data/pattern.txt


@pytest.fixture
def text_file(tmp_path, monkeypatch):
    """text_file(content) -> a file name relative to the working folder (tmp_path)."""
    monkeypatch.chdir(tmp_path)

    def write(content, name="corpus.txt"):
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return name

    return write


def text_config(compose, name, *overrides):
    return to_config(compose(["task=train", "data=text", f"data.text_file={name}", "data.window=4", *overrides]))


@pytest.mark.parametrize("content, expected, detail", [
    (None, "an existing UTF-8 text file", "no such file"),
    (b"", "a non-empty UTF-8 text file", "the file is empty"),
    (b"abc\xff\xfedef", "a UTF-8 text file", "byte 3 (b'\\xff') is not UTF-8"),
    (b"ab\xc3", "a UTF-8 text file", "byte 2 (b'\\xc3') is not UTF-8"),  # a cut multi-byte character
])
def test_a_missing_empty_or_non_utf8_file_is_a_config_error(compose, text_file, content, expected, detail):
    name = "absent.txt" if content is None else text_file(content)
    with pytest.raises(ConfigError) as caught:
        text_config(compose, name)
    assert caught.value.key == "data.text_file" and caught.value.value == name
    assert caught.value.expected == expected and detail in str(caught.value)


def test_a_folder_is_not_a_text_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    with pytest.raises(ConfigError, match="it is a folder"):
        read_text("folder")


def test_utf8_text_reads_whole_with_its_non_ascii_characters(text_file):
    assert read_text(text_file("grüße, 世界\n")) == "grüße, 世界\n"


@pytest.mark.parametrize("content, overrides, message", [
    ("abcd", [], "data.window=4: expected at most 3 for this text (the text has 4 characters"),
    ("abcdefghij", ["data.val_fraction=0.3"],
     "data.window=4: expected at most 2 for this text (its validation part has 3 characters"),
    ("abcdefghij", ["data.val_fraction=0.6"],
     "data.window=4: expected at most 3 for this text (its training part has 4 characters"),
])
def test_a_window_longer_than_the_text_or_a_part_of_it_is_a_config_error(compose, text_file, content, overrides,
                                                                       message):
    with pytest.raises(ConfigError) as caught:
        text_config(compose, text_file(content), *overrides)
    assert str(caught.value).startswith(message), str(caught.value)


def test_the_vocabulary_is_the_files_sorted_distinct_characters(compose, text_file):
    config = text_config(compose, text_file("hello world"))
    assert config.data.vocab == [" ", "d", "e", "h", "l", "o", "r", "w"]
    assert config.data.sequences is None and config.data.window == 4 and config.data.stride == 1


def test_a_given_vocabulary_is_kept_and_must_cover_the_file(compose, text_file):
    name = text_file("abcabc")
    assert text_config(compose, name, "data.vocab=[c,b,a,z]").data.vocab == ["c", "b", "a", "z"]
    with pytest.raises(ConfigError, match=r"data.text_file='corpus.txt': expected characters from data.vocab "
                                          r"\['a', 'b'\] \(character 'c' at position 2"):
        text_config(compose, name, "data.vocab=[a,b]")


@pytest.mark.parametrize("overrides, key, value", [
    (["data.text_file=x.txt", "data.window=4"], "data.sequences", ["hello", "eolll", "lleel"]),  # data=hello_batch's
    (["data=text", "data.window=4"], "data.text_file", None),
    (["data=text", "data.text_file=x.txt"], "data.window", None),
    (["data=text", "data.text_file=x.txt", "data.window=0"], "data.window", 0),
    (["data=text", "data.text_file=x.txt", "data.window=4", "data.stride=0"], "data.stride", 0),
    (["data=text", "data.text_file=x.txt", "data.window=4", "data.val_fraction=1"], "data.val_fraction", 1.0),
    (["data=text", "data.text_file=x.txt", "data.window=4", "data.val_fraction=-0.1"], "data.val_fraction", -0.1),
    (["data=hihello", "data.val_fraction=0.1"], "data.val_fraction", 0.1),  # validation is a text file's
])
def test_text_settings_are_checked_beside_their_fields(compose, overrides, key, value):
    with pytest.raises(ConfigError) as caught:
        to_config(compose(["task=train", *overrides]))
    assert (caught.value.key, caught.value.value) == (key, value)


def test_a_text_file_is_for_training(compose, text_file):
    with pytest.raises(ConfigError, match="data.text_file='corpus.txt': expected null for task=forward"):
        to_config(compose(["data=text", f"data.text_file={text_file('abcdef')}", "data.window=2"]))


def test_the_prompt_is_checked_against_the_files_vocabulary(compose, text_file):
    with pytest.raises(ConfigError, match=r"generate.prompt='ax': expected characters from the text's characters"):
        text_config(compose, text_file("abcabc"), "generate.prompt=ax")


def test_windows_are_slices_of_the_text_and_their_next_characters():
    text = "abcdefghij"
    vocab = sorted(set(text))
    data = text_data(text, vocab, window=4, stride=3, val_fraction=0.0)
    assert data.validation is None and data.train.count == 2  # starts 0 and 3; 6 would need text[6:11]
    assert data.train.texts(vocab, 10) == ["abcde", "defgh"]
    inputs, targets = data.train.batch(np.array([1, 0]), len(vocab))
    assert inputs.shape == (2, 4, 10) and inputs.dtype == np.float32 and targets.dtype == np.int64
    assert ["".join(vocab[i] for i in row.argmax(-1)) for row in inputs] == ["defg", "abcd"]
    assert (inputs.sum(-1) == 1).all()  # one-hot: every step real
    assert ["".join(vocab[i] for i in row) for row in targets] == ["efgh", "bcde"]


def test_stride_one_gives_every_window_and_the_count_formula_holds():
    text = PATTERN * 3
    vocab = sorted(set(text))
    for window, stride in ((1, 1), (16, 1), (16, 5), (71, 1), (10, 7)):
        windows = text_data(text, vocab, window, stride, 0.0).train
        expected = [text[s : s + window + 1] for s in range(0, len(text) - window, stride)]
        assert windows.count == len(expected) and windows.texts(vocab, 10**6) == expected


def test_validation_is_the_last_part_of_the_text():
    text = "".join(chr(ord("a") + i % 26) for i in range(100))
    vocab = sorted(set(text))
    data = text_data(text, vocab, window=5, stride=1, val_fraction=0.1)
    assert data.train.texts(vocab, 10**6) == [text[s : s + 6] for s in range(0, 90 - 5)]
    assert data.validation.texts(vocab, 10**6) == [text[90 + s : 90 + s + 6] for s in range(0, 10 - 5)]


def test_encoding_follows_the_vocabularys_order_in_the_smallest_type():
    codes = encode_text("hello", ["o", "l", "h", "e"])
    assert codes.tolist() == [2, 3, 1, 1, 0] and codes.dtype == np.uint8
    assert encode_text("ab", [chr(0x4E00 + i) for i in range(300)] + ["a", "b"]).dtype == np.uint16
    with pytest.raises(KeyError, match="'x' at position 2"):
        encode_text("hex", ["h", "e"])


def test_a_batch_of_a_5mb_text_takes_memory_of_a_batch_not_of_the_file():
    """The one-hot copy of this text would be 5.3e6 x 16 x 4 bytes = 338 MB
    (and 64 times that as windows); cutting it and making a batch stays
    within a few bytes a character."""
    text = PATTERN * 220_000  # 5.28 MB
    vocab = sorted(set(text))
    tracemalloc.start()
    try:
        data = text_data(text, vocab, window=64, stride=1, val_fraction=0.1)
        inputs, targets = data.train.batch(np.arange(32), len(vocab))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert data.train.count == round(len(text) * 0.9) - 64 and inputs.shape == (32, 64, 16)
    # the codes (1 byte a character) and a chunk's temporary arrays: about 12.6 MB
    assert peak < 4 * len(text), f"{peak / 1e6:.1f} MB"
    assert window_batch(data.train.codes, np.array([24]), 23, 16)[0].argmax(-1).tolist() == \
        [[vocab.index(c) for c in PATTERN[:23]]]


def test_a_text_file_run_records_the_files_vocabulary_and_settings(compose, text_file):
    config = text_config(compose, text_file("abcab"), "data.val_fraction=0")
    plain = recorded_config(config)
    assert plain["data"] == {"vocab": ["a", "b", "c"], "sequences": None, "text_file": "corpus.txt", "window": 4,
                             "stride": 1, "val_fraction": 0.0}
    params = config_params(plain, {"data": "text"})
    assert json.loads(params["data.vocab"]) == ["a", "b", "c"] and params["data.text_file"] == "corpus.txt"


def test_runs_without_a_text_file_do_not_record_its_settings(compose):
    assert set(recorded_config(compose(["task=train", "data=hihello"]))["data"]) == {"vocab", "sequences"}
    assert "generate" not in recorded_config(compose())  # a forward run does not generate


def test_a_bad_text_file_fails_before_numpy_tensorflow_or_mlflow_are_imported(tmp_path):
    code = (
        "import sys\n"
        "from rnnexp.config.compose import compose\n"
        "from rnnexp.errors import ConfigError\n"
        "try:\n    compose(['task=train', 'data=text', 'data.text_file=absent.txt', 'data.window=4'])\n"
        "except ConfigError as e:\n    print(e)\n"
        "print(sorted(m for m in ('numpy', 'tensorflow', 'keras', 'mlflow') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert out.splitlines() == [f"data.text_file='absent.txt': expected an existing UTF-8 text file "
                                f"(no such file in {tmp_path})", "[]"]
