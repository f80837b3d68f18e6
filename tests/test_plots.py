"""A run's state plots: files, pixel sizes, bounds for large runs (matplotlib, no TensorFlow)."""

import sys

import numpy as np
import pytest

from rnnexp import plots
from conftest import png_size


def test_hidden_states_of_the_lesson_batch(tmp_path):
    states = np.tanh(np.random.default_rng(0).normal(size=(3, 5, 2)))
    files = plots.write_state_plots(tmp_path, ["hello", "eolll", "lleel"], np.array([5, 5, 5]), states)
    assert [f.name for f in files] == ["states.png"] and files[0].parent == tmp_path
    width, height = png_size(files[0])
    assert width >= 200 and height >= 150
    assert "matplotlib.pyplot" not in sys.modules  # the object API only: no global backend change


def test_lstm_adds_the_cell_state_panel(tmp_path):
    rng = np.random.default_rng(1)
    outputs, cells = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 4, 3))
    lengths = np.array([4, 2])  # ragged: the padding of row 1 is not drawn
    (tmp_path / "h").mkdir()
    (tmp_path / "hc").mkdir()
    (without,) = plots.write_state_plots(tmp_path / "h", ["abca", "ab"], lengths, outputs)
    (with_c,) = plots.write_state_plots(tmp_path / "hc", ["abca", "ab"], lengths, outputs, cells)
    assert png_size(with_c)[1] > png_size(without)[1]  # a second panel below the first


def test_one_step_one_sequence_is_still_readable(tmp_path):
    (path,) = plots.write_state_plots(tmp_path, ["h"], np.array([1]), np.array([[[0.1, -0.2]]]))
    width, height = png_size(path)
    assert width >= 200 and height >= 150


def test_long_sequences_and_wide_states_stay_bounded(tmp_path):
    rng = np.random.default_rng(2)
    sequences = ["".join(rng.choice(list("abcdefgh"), 200)) for _ in range(16)]
    states = np.tanh(rng.normal(size=(16, 200, 64)))
    (path,) = plots.write_state_plots(tmp_path, sequences, np.full(16, 200), states, states, max_sequences=8)
    width, height = png_size(path)
    assert 200 <= width <= 16 * plots.DPI and 150 <= height <= 16 * plots.DPI


def test_layout_caps_sequences_and_columns():
    assert plots._layout([5, 5, 5], 2) == [0, 6]
    assert plots._layout([5, 5, 5], 10) == [0, 6, 12]
    assert plots._layout([300, 300], 4) == [0]  # a second one would pass MAX_COLUMNS
    assert plots._layout([900], 4) == [0]  # the first one is always shown


def test_plots_config_node(compose):
    from rnnexp.errors import ConfigError
    from rnnexp.validation import validate

    assert compose().plots.enabled is True and compose().plots.max_sequences == 4
    assert compose(["plots.enabled=false"]).plots.enabled is False
    with pytest.raises(ConfigError, match=r"plots.max_sequences=0: expected a positive integer"):
        validate(compose(["plots.max_sequences=0"]))
