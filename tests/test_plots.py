"""A run's state plots: files, pixel sizes, bounds for large runs (matplotlib, no TensorFlow)."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from rnnexp.record import plots
from conftest import png_size


def test_hidden_states_of_the_lesson_batch(tmp_path):
    states = np.tanh(np.random.default_rng(0).normal(size=(3, 5, 2)))
    files = plots.write_state_plots(tmp_path, ["hello", "eolll", "lleel"], np.array([5, 5, 5]), states)
    assert [f.name for f in files] == ["states.png"] and files[0].parent == tmp_path
    width, height = png_size(files[0])
    assert width >= 200 and height >= 150


def test_lstm_adds_the_cell_state_panel(tmp_path):
    rng = np.random.default_rng(1)
    outputs, cells = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 4, 3))
    lengths = np.array([4, 2])  # ragged: the padding of row 1 is not drawn
    (tmp_path / "h").mkdir()
    (tmp_path / "hc").mkdir()
    (without,) = plots.write_state_plots(tmp_path / "h", ["abca", "ab"], lengths, outputs)
    (with_c,) = plots.write_state_plots(tmp_path / "hc", ["abca", "ab"], lengths, outputs, cells)
    assert png_size(with_c)[1] > png_size(without)[1]  # a second panel below the first


def test_a_stack_of_3_layers_by_2_directions_gets_a_plot_each(tmp_path):
    """Each file as readable as one layer's: the same layout, 1000 px wide;
    each shows its own layer and direction (the pixels differ)."""
    rng = np.random.default_rng(4)
    hidden, cells = rng.uniform(-1, 1, size=(6, 2, 5, 3)), rng.uniform(-1, 1, size=(6, 2, 5, 3))
    files = plots.write_stack_plots(tmp_path, ["hello", "eo"], np.array([5, 2]), hidden, cells, 4, directions=2)
    assert [f.name for f in files] == [f"states_layer{level}_{direction}.png" for level in range(3)
                                       for direction in ("forward", "backward")]
    (single,) = plots.write_state_plots(tmp_path, ["hello", "eo"], np.array([5, 2]),
                                        hidden[0], cells[0])
    assert {png_size(f) for f in files} == {png_size(single)} and png_size(single)[0] == 1000
    assert len({f.read_bytes() for f in files}) == 6


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


def pixels(path):
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"))


def test_a_kept_figure_draws_what_a_new_one_would(tmp_path):
    from rnnexp.record.state_figure import forget_figures

    rng = np.random.default_rng(3)
    lesson = (["hello", "eolll", "lleel"], np.array([5, 5, 5]), np.tanh(rng.normal(size=(3, 5, 3))))
    # the same layout (17 columns, one panel, the same height band), everything else different:
    # ragged, 9 units (more than MAX_LINES: other legend), other characters and scale
    other = (["abcde", "wxyz", "pqrstu"], np.array([5, 4, 6]), 3 * np.tanh(rng.normal(size=(3, 6, 9))))
    for name in ("new", "kept", "other"):
        (tmp_path / name).mkdir()
    forget_figures()
    (new,) = plots.write_state_plots(tmp_path / "new", *lesson)
    forget_figures()
    (other_path,) = plots.write_state_plots(tmp_path / "other", *other)
    (kept,) = plots.write_state_plots(tmp_path / "kept", *lesson)
    assert len(forget_figures()) == 1  # one layout: the lesson's plot was drawn on the other run's figure
    assert pixels(kept).shape == pixels(new).shape
    assert np.array_equal(pixels(kept), pixels(new))
    assert not np.array_equal(pixels(other_path), pixels(new))


def test_what_the_figure_shows(tmp_path):
    from rnnexp.record import state_figure

    rng = np.random.default_rng(5)
    states = np.tanh(rng.normal(size=(2, 4, 3)))
    state_figure.forget_figures()
    # drawn on a figure that showed 11 units (another legend, more lines) before
    plots.write_state_plots(tmp_path, ["abca", "ab"], np.array([4, 2]), np.tanh(rng.normal(size=(2, 4, 11))))
    plots.write_state_plots(tmp_path, ["abca", "ab"], np.array([4, 2]), states)
    (kept,) = state_figure._kept.values()
    heat, lines = kept.heats[0], kept.line_axes[0]
    image = heat.images[0]
    assert tuple(image.get_extent()) == (-0.5, 6.5, 2.5, -0.5)  # 3 units x (4 + 1 + 2) columns
    assert heat.get_ylim() == (2.5, -0.5) and heat.get_xlim() == (-0.5, 6.5)
    expected = np.full((3, 7), np.nan)
    expected[:, :4], expected[:, 5:] = states[0].T, states[1, :2].T  # row 1's padding is not drawn
    np.testing.assert_array_equal(np.asarray(image.get_array().filled(np.nan)), expected)
    assert image.get_clim() == pytest.approx((-np.nanmax(np.abs(expected)), np.nanmax(np.abs(expected))))
    assert [t.get_text() for t in heat.get_xticklabels()] == ["a", "b", "c", "a", "a", "b"]
    assert [line.get_visible() for line in kept.lines[0]] == [True] * 3 + [False] * 5
    np.testing.assert_array_equal(kept.lines[0][2].get_ydata(), expected[2])
    assert [t.get_text() for t in lines.get_legend().get_texts()] == ["0", "1", "2"]
    assert lines.get_legend().get_title().get_text() == "unit"


def test_layouts_are_kept_apart_and_bounded(tmp_path):
    from rnnexp.record.state_figure import KEPT_FIGURES, forget_figures

    rng = np.random.default_rng(4)
    forget_figures()
    for steps in range(1, KEPT_FIGURES + 3):  # each length a layout of its own
        states = rng.normal(size=(1, steps, 2))
        plots.write_state_plots(tmp_path, ["a" * steps], np.array([steps]), states)
        plots.write_state_plots(tmp_path, ["a" * steps], np.array([steps]), states, states)  # two panels
    assert len(forget_figures()) == KEPT_FIGURES


def test_layout_caps_sequences_and_columns():
    assert plots._layout([5, 5, 5], 2) == [0, 6]
    assert plots._layout([5, 5, 5], 10) == [0, 6, 12]
    assert plots._layout([300, 300], 4) == [0]  # a second one would pass MAX_COLUMNS
    assert plots._layout([900], 4) == [0]  # the first one is always shown


def test_plots_config_node(compose):
    from rnnexp.errors import ConfigError
    from rnnexp.config.compose import to_config

    assert compose().plots.enabled is True and compose().plots.max_sequences == 4
    assert compose(["plots.enabled=false"]).plots.enabled is False
    with pytest.raises(ConfigError, match=r"plots.max_sequences=0: expected a positive integer"):
        to_config(compose(["plots.max_sequences=0"]))


def test_sweep_errors_on_a_decade_axis(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    saved = []
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: saved.append(self))
    checks = {"check.reference_max_abs_err": [3e-7, 0.0, float("nan")],  # an exact 0, a point without checks
              "check.api_parity_max_abs_err": [0.0, 2e-3, float("nan")]}
    tolerances = {"check.reference_max_abs_err": 1e-5, "check.api_parity_max_abs_err": 0.0}
    plots.sweep_figure(tmp_path / "s.png", ["a", "b", "c"], [1.0, 2.0, float("nan")], checks, tolerances)
    bottom = saved[0].axes[1]
    labels = [t.get_text() for t in bottom.get_yticklabels()]
    assert labels[0] == "1e-12" and labels[-1] == "1e-2"  # from the floor (0 is drawn there) to 2e-3's decade
    reference = next(line for line in bottom.get_lines() if line.get_label() == "reference").get_ydata()
    np.testing.assert_allclose(reference[:2], [np.log10(3e-7), -12])
    assert np.isnan(reference[2])
    dashed = [line.get_ydata()[0] for line in bottom.get_lines() if line.get_linestyle() == "--"]
    assert sorted(dashed) == [-12, -5]  # a zero tolerance sits on the floor


def test_plots_never_load_pyplot(tmp_path):
    """In a process of its own: Keras, imported by other tests, loads pyplot."""
    code = textwrap.dedent(f"""
        import sys
        import numpy as np
        from pathlib import Path
        from rnnexp.record import plots
        plots.warm_up()
        assert "matplotlib.backends.backend_agg" in sys.modules
        states = np.tanh(np.random.default_rng(0).normal(size=(3, 5, 2)))
        plots.write_state_plots(Path({str(tmp_path)!r}), ["hello", "eolll", "lleel"], np.array([5, 5, 5]), states)
        plots.sweep_figure(Path({str(tmp_path)!r}) / "s.png", ["a"], [1.0], {{"check.x": [0.0]}}, {{}})
        assert "matplotlib.pyplot" not in sys.modules, "pyplot loaded"  # the object API only: no global backend change
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "states.png").exists() and (tmp_path / "s.png").exists()
