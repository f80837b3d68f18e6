"""What a run records of its recurrence as a dynamical system
(rnnexp.core.dynamics, docs/dynamics.md): the gradient flow of a checked
forward result, a training run's spectra before training, and the trained
cell's fixed points."""

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
