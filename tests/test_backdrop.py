"""rnnexp.record.backdrop: a picture drawn over kept pixels is, pixel for
pixel, the full draw of the same figure (matplotlib, no TensorFlow)."""

import numpy as np
import pytest
from PIL import Image

from rnnexp.record import plots, state_figure
from rnnexp.record.backdrop import Backdrop
from rnnexp.record.dynamics_plots import write_gradient_plot


def pixels(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"))


def full_draw(backdrop: Backdrop, path):
    """What `savefig` of the figure draws with nothing kept: every artist drawn, in order."""
    for artist in backdrop.changing:
        artist.set_animated(False)
    try:
        backdrop.figure.savefig(path, dpi=state_figure.DPI)
    finally:
        for artist in backdrop.changing:
            artist.set_animated(True)
    return path


def test_kept_pixels_are_redrawn_when_the_key_changes_and_only_then(tmp_path):
    figure = state_figure.new_figure(3.0, 2.0)
    axes = figure.subplots()
    (line,) = axes.plot([0, 1], [0, 1])
    label = figure.text(0.5, 0.9, "first")  # unchanging: keyed
    backdrop = Backdrop(figure, [line])
    backdrop.save(tmp_path / "a.png", "first")
    line.set_ydata([1, 0])
    backdrop.save(tmp_path / "b.png", "first")
    assert np.array_equal(pixels(tmp_path / "b.png"), pixels(full_draw(backdrop, tmp_path / "b_full.png")))
    assert not np.array_equal(pixels(tmp_path / "a.png"), pixels(tmp_path / "b.png"))
    label.set_text("second")  # under the same key the kept pixels stay: the key must name what is shown
    backdrop.save(tmp_path / "c.png", "first")
    assert np.array_equal(pixels(tmp_path / "c.png"), pixels(tmp_path / "b.png"))
    backdrop.save(tmp_path / "d.png", "second")
    assert np.array_equal(pixels(tmp_path / "d.png"), pixels(full_draw(backdrop, tmp_path / "d_full.png")))
    assert not np.array_equal(pixels(tmp_path / "d.png"), pixels(tmp_path / "c.png"))


@pytest.mark.parametrize("lstm", [False, True])
def test_a_sweep_of_state_plots_equals_full_draws(tmp_path, lstm):
    """Hidden sizes 1..12 (legends of 1..8 units, then 'first 8'), the
    characters changed once: every picture equals its full draw."""
    rng = np.random.default_rng(7)
    state_figure.forget_figures()
    for units in range(1, 13):
        sequences = ["hello", "eolll", "lleel"] if units != 6 else ["abcde", "vwxyz", "pqrst"]
        states = np.tanh(rng.normal(size=(3, 5, units)) * units)
        (path,) = plots.write_state_plots(tmp_path, sequences, np.array([5, 5, 5]), states,
                                          0.5 * states if lstm else None)
        (kept,) = state_figure._kept.values()
        assert np.array_equal(pixels(path), pixels(full_draw(kept.backdrop, tmp_path / "full.png"))), units


def test_a_sweep_of_gradient_plots_equals_full_draws(tmp_path):
    rng = np.random.default_rng(8)
    state_figure.forget_figures()
    for steps in (5, 5, 7, 5, 12, 3):
        norms = 10.0 ** -np.cumsum(rng.uniform(0, 2, (3, steps)), axis=1)
        norms[0, -1] = np.nan
        path = write_gradient_plot(tmp_path, np.nanmean(norms, axis=0), norms, f"{steps} steps")
        kept = state_figure._kept[("gradients",)]
        assert np.array_equal(pixels(path), pixels(full_draw(kept.backdrop, tmp_path / "full.png"))), steps
