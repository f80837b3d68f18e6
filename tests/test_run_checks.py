"""The job's checks and plots through the real run-status path: the job runs in
this process (TensorFlow), records to an MLflow store on disk, and the store is
read back with MlflowClient."""

import numpy as np
import pytest

from rnnexp.record import plots
from rnnexp.errors import CheckFailed
from rnnexp.record.state_figure import heat_height
from conftest import png_size

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    """One store for the module's runs: creating a SQLite store costs seconds."""
    return tmp_path_factory.mktemp("store")


@pytest.fixture
def job(store_dir, monkeypatch, compose):
    """job(*overrides) runs rnnexp.job.run_job in-process on store_dir's store
    and returns (the raised exception or None, the run read back)."""
    from mlflow.tracking import MlflowClient

    from rnnexp.job import run_job

    monkeypatch.chdir(store_dir)  # MLflow puts the artifacts of a sqlite store under ./mlruns
    uri = f"sqlite:///{store_dir / 'mlflow.db'}"
    client = MlflowClient(uri)

    def _job(*overrides):
        cfg = compose([f"mlflow.tracking_uri='{uri}'", *overrides])
        error = None
        try:
            run_job(cfg)
        except Exception as caught:  # noqa: BLE001  the test looks at it
            error = caught
        experiment = client.get_experiment_by_name("rnnexp")
        run = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"])[0]
        return error, run

    _job.client = client
    return _job


def artifact_paths(client, run_id, path=None):
    out = []
    for item in client.list_artifacts(run_id, path):
        out += artifact_paths(client, run_id, item.path) if item.is_dir else [item.path]
    return out


def test_a_weight_perturbed_between_forward_pass_and_check_fails_the_run(job, monkeypatch):
    from rnnexp.core import forward
    from rnnexp.core.reference import run_reference

    check_forward = forward.check_forward

    def perturb_then_check(result):
        kernel = result.weights["recurrent_kernel"].copy()
        kernel[0, 0] += 0.05
        result.weights["recurrent_kernel"] = kernel
        return check_forward(result)

    monkeypatch.setattr(forward, "check_forward", perturb_then_check)
    error, run = job("rnn=gru")
    assert isinstance(error, CheckFailed)
    assert run.info.status == "FAILED"
    message = run.data.tags["rnnexp.error"]
    assert message.startswith("CheckFailed: check.reference_max_abs_err = ")
    assert "outputs differs by" in message and "state_h differs by" in message and "NumPy reference" in message
    assert "check.api_parity_max_abs_err" in message  # the other API got the recorded weights too
    metrics = run.data.metrics
    assert metrics["check.reference_max_abs_err"] > 1e-5 and metrics["check.api_parity_max_abs_err"] > 1e-6
    assert metrics["check.last_output_state_max_abs_err"] == 0.0
    # The record shows the divergence too: the logged weights do not give the logged outputs.
    folder = job.client.download_artifacts(run.info.run_id, "")
    load = lambda name: np.load(f"{folder}/{name}.npy")  # noqa: E731
    weights = {name: load(f"weights/{name}") for name in ("kernel", "recurrent_kernel", "bias")}
    recomputed = run_reference("gru", load("tensors/inputs"), weights)
    assert np.abs(recomputed["outputs"] - load("tensors/outputs")).max() == pytest.approx(
        metrics["check.reference_max_abs_err"], rel=1e-6)


def test_ragged_lstm_cell_api_passes_every_check_and_plots_the_cell_state(job):
    error, run = job("api=cell", "rnn=lstm", "hidden_size=3", "data.sequences=[hello,he,l]")
    assert error is None and run.info.status == "FINISHED"
    metrics = run.data.metrics
    assert 0 <= metrics["check.reference_max_abs_err"] <= 1e-5
    assert 0 <= metrics["check.api_parity_max_abs_err"] <= 1e-6
    assert metrics["check.last_output_state_max_abs_err"] <= 1e-6
    assert metrics["state_h_norm"] > 0
    assert run.data.tags["rnnexp.shapes"] == (
        '{"inputs": [3, 5, 4], "outputs": [3, 5, 3], "state_h": [3, 3], "state_c": [3, 3]}')
    assert "plots/states.png" in artifact_paths(job.client, run.info.run_id)
    # drawn after the checks, with the reference's cell state as a second panel:
    # two panels of 3 units are (0.5 + 2 * 3.45) inches high, one is 3.95
    png = job.client.download_artifacts(run.info.run_id, "plots/states.png")
    assert png_size(png)[1] == pytest.approx((0.5 + 2 * (heat_height(3) + 2.2)) * plots.DPI, abs=2)  # 2 panels


def test_plots_can_be_turned_off(job):
    error, run = job("plots.enabled=false")
    assert error is None and run.info.status == "FINISHED"
    paths = artifact_paths(job.client, run.info.run_id)
    assert "tensors/outputs.npy" in paths
    assert not [path for path in paths if path.startswith("plots") or path.endswith(".png")]
    assert run.data.params["plots.enabled"] == "False"


def test_a_run_records_its_gradient_flow_through_time(job):
    """dynamics.grad_norm with step=k for k = 1..T (a ragged batch: T = 21 and 5),
    as the reference computes it from the logged inputs and weights."""
    from rnnexp.core.dynamics.flow import gradient_flow

    error, run = job("rnn=lstm", "hidden_size=4", "data.sequences=[hellohelloheolleholeh,hello]")
    assert error is None and run.info.status == "FINISHED"
    history = sorted(job.client.get_metric_history(run.info.run_id, "dynamics.grad_norm"), key=lambda m: m.step)
    assert [m.step for m in history] == list(range(1, 22))
    assert run.data.metrics["check.dynamics_max_rel_err"] <= 1e-3
    assert "plots/gradients.png" in artifact_paths(job.client, run.info.run_id)
    load = lambda path: np.load(job.client.download_artifacts(run.info.run_id, path))  # noqa: E731
    weights = {name: load(f"weights/{name}.npy") for name in ("kernel", "recurrent_kernel", "bias")}
    flow = gradient_flow("lstm", weights, load("tensors/inputs.npy"), load("tensors/lengths.npy"))
    np.testing.assert_allclose([m.value for m in history], flow.reference_grad_norm, rtol=1e-9)
    assert run.data.metrics["dynamics.jacobian_spectral_radius"] == pytest.approx(flow.jacobian_spectral_radius)


def test_a_wrong_derivative_fails_the_run_and_gradients_can_be_turned_off(job, monkeypatch):
    from rnnexp.config.schema import Rnn
    from rnnexp.core.dynamics import jacobians

    right = jacobians.JACOBIANS[Rnn.gru]

    def one_percent_off(x, s, w):  # a derivative 1% off
        new, jacobian = right(x, s, w)
        return new, jacobian * 0.99

    monkeypatch.setitem(jacobians.JACOBIANS, Rnn.gru, one_percent_off)
    error, run = job("rnn=gru")
    assert isinstance(error, CheckFailed) and run.info.status == "FAILED"
    assert run.data.tags["rnnexp.error"].startswith("CheckFailed: check.dynamics_max_rel_err = ")
    assert "ds_T/ds_(T-k) differs by" in run.data.tags["rnnexp.error"]
    error, run = job("rnn=gru", "dynamics.gradients=false")
    assert error is None and not [key for key in run.data.metrics if "dynamics" in key]
    assert "plots/gradients.png" not in artifact_paths(job.client, run.info.run_id)
