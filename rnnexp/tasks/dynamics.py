"""What a run records of its recurrence as a dynamical system
(rnnexp.core.dynamics, docs/dynamics.md): the gradient flow of a checked
forward result, a training run's spectra before training, and the trained
cell's fixed points."""

import json

from rnnexp.config.schema import Config
from rnnexp.tracking.run_record import RunRecord


def record_gradient_flow(run: RunRecord, result, config: Config) -> None:
    """Logs `dynamics.grad_norm` with step=k (k = 1..T) and draws
    plots/gradients.png, if the forward result has its gradient flow; its
    scalar metrics and check go with the result's own metrics."""
    flow = result.dynamics
    if flow is None:
        return
    from rnnexp.core.dynamics.flow import GRAD_NORM

    run.log_series({GRAD_NORM: [float(v) for v in flow.grad_norm]}, first_step=1)
    if config.plots.enabled:
        from rnnexp.record.dynamics_plots import MAX_CURVES, write_gradient_plot

        run.render(write_gradient_plot, flow.grad_norm, flow.norms[:MAX_CURVES],
                   f"{config.rnn.value}, hidden_size={config.hidden_size}", under="plots")


FIXED_POINTS = "dynamics.fixed_points"  # metrics: how many points were recorded
STABLE_FIXED_POINTS = "dynamics.stable_fixed_points"


def record_training_dynamics(run: RunRecord, result, config: Config) -> None:
    """What training changed: the spectral radii of the initial weights
    (`dynamics.*_init`; the trained ones come with the forward record), and
    with dynamics.fixed_points the trained cell's fixed points:
    dynamics/fixed_points.json, their counts, plots/fixed_points.png."""
    import numpy as np

    from rnnexp.core.dynamics.spectra import last_step_radius, recurrent_spectral_radius
    from rnnexp.core.reference import first_cell_weights

    settings = config.dynamics
    inputs, lengths = result.data.encoded.inputs, result.data.encoded.lengths
    if settings.gradients and result.initial_weights is not None:
        shown, initial_weights = slice(0, settings.max_sequences), first_cell_weights(result.initial_weights)
        initial = {"dynamics.jacobian_spectral_radius_init":
                   last_step_radius(config.rnn, initial_weights, inputs[shown], lengths[shown])}
        recurrent = recurrent_spectral_radius(config.rnn, initial_weights)
        if recurrent is not None:
            initial["dynamics.recurrent_spectral_radius_init"] = recurrent
        run.log_metrics(initial)
    if not settings.fixed_points:
        return
    from rnnexp.core.dynamics.fixed_points import find_fixed_points
    from rnnexp.core.dynamics.jacobians import reference_states

    weights = first_cell_weights(result.forward.weights)  # a stack's first layer
    states = reference_states(config.rnn, inputs, weights, lengths)  # (B, T + 1, S), s_0 first
    trajectories = [states[b, :int(n) + 1] for b, n in enumerate(lengths)]
    points = [point.as_json() for point in find_fixed_points(
        config.rnn, weights, config.data.vocab, np.concatenate(trajectories), settings.starts, settings.noise,
        config.seed)]
    folder = run.folder / "dynamics"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fixed_points.json").write_text(json.dumps({"points": points}, indent=1) + "\n")
    run.log_metrics({FIXED_POINTS: len(points), STABLE_FIXED_POINTS: sum(point["stable"] for point in points)})
    if config.plots.enabled:
        from rnnexp.record.dynamics_plots import MAX_CURVES, write_fixed_point_plot

        run.render(write_fixed_point_plot, trajectories[:MAX_CURVES], result.input_texts[:MAX_CURVES], points,
                   f"{config.rnn.value}, hidden_size={config.hidden_size}", under="plots")
