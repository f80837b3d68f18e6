"""The dynamics' pictures: drawn from plain values, MLflow-viewer sized,
also for the edge cases (a norm of 0, one sequence, a state of one unit)."""

import numpy as np
from PIL import Image

from rnnexp.record.dynamics_plots import (
    principal_axes,
    sweep_gradient_figure,
    write_fixed_point_plot,
    write_gradient_plot,
)


def png_size(path):
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


def test_gradient_plots_are_drawn_for_a_run_and_a_sweep(tmp_path):
    norms = np.array([[1.0, 0.1, 0.0], [2.0, np.nan, np.nan]])  # ragged, and an exact 0
    path = write_gradient_plot(tmp_path / "plots", np.nanmean(norms, axis=0), norms, "lstm, hidden_size=2")
    assert path.name == "gradients.png" and png_size(path) == (1000, 450)
    sweep = sweep_gradient_figure(tmp_path / "sweep_gradients.png", {"lstm (rnn=lstm)": [1.0, 0.5],
                                                                     "gru (rnn=gru)": [1.0, 1e-9, 1e-12]})
    assert png_size(sweep) == (1000, 500)


def test_fixed_point_plot_projects_onto_the_visited_states_principal_components(tmp_path):
    rng = np.random.default_rng(0)
    line = np.outer(np.linspace(-1, 1, 9), [3.0, 0.0, 1.0]) + 1e-3 * rng.normal(size=(9, 3))
    mean, axes = principal_axes(line)
    assert abs(abs(axes[0] @ np.array([3.0, 0.0, 1.0]) / np.sqrt(10)) - 1) < 1e-4  # along the line
    one_unit = [np.linspace(0, 0.5, 5)[:, None]]  # hidden_size=1: a second component of zeros
    points = [{"token": "a", "state": [0.4], "stable": True}, {"token": "b", "state": [0.0], "stable": False}]
    path = write_fixed_point_plot(tmp_path, one_unit, ["abab"], points, "simple_rnn, hidden_size=1")
    assert png_size(path) == (1000, 600)


def test_a_run_prints_its_gradient_flow_in_one_line():
    from types import SimpleNamespace

    from rnnexp.record.console import gradient_line

    flow = SimpleNamespace(grad_norm=np.array([1.2, 0.5, 0.043]), jacobian_spectral_radius=0.93)
    assert gradient_line(flow) == ("gradient flow ||ds_T/ds_(T-k)||: k=1: 1.2, k=3: 0.043; "
                                   "spectral radius of ds_T/ds_(T-1): 0.93")
    flow.grad_norm = np.array([0.7])
    assert gradient_line(flow).startswith("gradient flow ||ds_T/ds_(T-k)||: k=1: 0.7; ")


def test_a_kept_gradient_figure_draws_what_a_new_one_would(tmp_path):
    """A sweep's points draw gradients.png on one kept figure: drawn after
    another run's (more sequences, other steps, an exact 0), the picture is
    pixel for pixel the one a new figure draws."""
    from rnnexp.record.state_figure import forget_figures

    rng = np.random.default_rng(2)
    lesson = (rng.uniform(0.1, 1.0, 5), rng.uniform(0.1, 1.0, (3, 5)), "simple_rnn, hidden_size=4")
    other = (np.array([1.0, 0.1, 0.0]), np.vstack([rng.uniform(0, 1, (9, 3)), [[2.0, np.nan, np.nan]]]), "lstm")

    def pixels(path):
        with Image.open(path) as image:
            return np.asarray(image.convert("RGBA"))

    forget_figures()
    new = write_gradient_plot(tmp_path / "new", *lesson)
    forget_figures()
    other_path = write_gradient_plot(tmp_path / "other", *other)
    kept = write_gradient_plot(tmp_path / "kept", *lesson)
    assert forget_figures() == [("gradients",)]  # the lesson's curves were drawn on the other run's figure
    assert np.array_equal(pixels(kept), pixels(new))
    assert not np.array_equal(pixels(other_path), pixels(new))
