"""task=train end to end: the real CLI in a scratch folder, read back with
MlflowClient. Two subprocesses for the whole module: one single training run
(the issue's acceptance command) and one 3-point training sweep; the sweep's
hidden_size=2 point repeats the single run's config in another process, after
another point, so the two must have the same losses."""

import json

import numpy as np
import pytest

from conftest import run_cli
from rnnexp.core.checks import API_PARITY, REFERENCE, TOLERANCES
from rnnexp.tracking.tags import SHAPES_TAG

pytestmark = pytest.mark.slow

VOCAB = ("h", "i", "e", "l", "o")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The store after `task=train data=hihello` and its 3-point sweep."""
    from mlflow.tracking import MlflowClient

    folder = tmp_path_factory.mktemp("train")
    single = run_cli(["task=train", "data=hihello"], cwd=folder)
    sweep = run_cli(["task=train", "data=hihello", "hidden_size=1,2,8", "-m"], cwd=folder)
    client = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("rnnexp").experiment_id])
    by_role = {}
    for run in runs:
        by_role.setdefault(run.data.tags["rnnexp.role"], []).append(run)
    return {"client": client, "folder": folder, "stdout": single.stdout + sweep.stdout,
            "single": by_role["single"][0], "sweep": by_role["sweep"][0], "points": by_role["point"]}


def artifact(client, run_id, path):
    return client.download_artifacts(run_id, path)


def test_training_run_finishes_and_learns_ihello(trained):
    client, run = trained["client"], trained["single"]
    assert run.info.status == "FINISHED"
    assert run.data.params["task"] == "train" and run.data.params["train.epochs"] == "300"
    loss = [m.value for m in client.get_metric_history(run.info.run_id, "loss")]
    steps = [m.step for m in client.get_metric_history(run.info.run_id, "loss")]
    assert len(loss) >= 10 and steps == list(range(1, len(loss) + 1))
    assert loss[-1] < loss[0] / 5
    assert len(client.get_metric_history(run.info.run_id, "accuracy")) == len(loss)
    assert run.data.metrics["train.final_accuracy"] == 1.0
    assert run.data.tags["predicted.0"] == "ihello"
    assert "hihell -> ihello" in trained["stdout"]


def test_training_run_records_forward_artifacts_of_the_trained_rnn_and_a_table_and_plot(trained):
    import pandas as pd
    from PIL import Image

    client, run_id = trained["client"], trained["single"].info.run_id
    shapes = json.loads(open(artifact(client, run_id, "shapes.json")).read())
    assert shapes == {"inputs": [1, 6, 5], "outputs": [1, 6, 2], "state_h": [1, 2]}
    table = pd.read_csv(artifact(client, run_id, "tables/predictions.csv"))
    assert table[["input", "target", "predicted"]].values.tolist() == [["hihell", "ihello", "ihello"]]
    for plot in ("plots/loss_curve.png", "plots/states.png"):  # training's curves; the trained states
        with Image.open(artifact(client, run_id, plot)) as image:
            assert image.size[0] >= 400 and image.size[1] >= 200
    # The trained RNN passes a forward run's checks.
    metrics = trained["single"].data.metrics
    assert metrics[REFERENCE] <= TOLERANCES[REFERENCE] and metrics[API_PARITY] <= TOLERANCES[API_PARITY]
    assert json.loads(trained["single"].data.tags[SHAPES_TAG]) == shapes
    # The logged tensors are what the logged weights compute (NumPy reference).
    from rnnexp.core.reference import run_reference

    tensors = {n: np.load(artifact(client, run_id, f"tensors/{n}.npy")) for n in ("inputs", "outputs", "state_h")}
    weights = {n: np.load(artifact(client, run_id, f"weights/{n}.npy")) for n in ("kernel", "recurrent_kernel", "bias")}
    reference = run_reference("simple_rnn", tensors["inputs"], weights)
    np.testing.assert_allclose(reference["outputs"], tensors["outputs"], atol=1e-5)
    np.testing.assert_allclose(reference["state_h"], tensors["state_h"], atol=1e-5)


def test_logged_model_is_linked_to_the_run_and_predicts_the_recorded_text(trained):
    import keras
    import mlflow
    import mlflow.keras

    client, run = trained["client"], trained["single"]
    run_id = run.info.run_id
    uri = run.data.tags["rnnexp.model_uri"]
    model_id = uri.removeprefix("models:/")
    logged = client.get_logged_model(model_id)
    assert logged.source_run_id == run_id and logged.experiment_id == run.info.experiment_id
    assert model_id in [output.model_id for output in client.get_run(run_id).outputs.model_outputs]

    inputs = np.load(artifact(client, run_id, "tensors/inputs.npy"))  # "hihell", (1, 6, 5)
    mlflow.set_tracking_uri(client.tracking_uri)
    try:
        pyfunc_model = mlflow.pyfunc.load_model(uri)
        assert pyfunc_model.metadata.signature.inputs.to_dict()[0]["tensor-spec"]["shape"] == (-1, -1, 5)
        probabilities = pyfunc_model.predict(inputs)
        keras_model = mlflow.keras.load_model(uri)
    finally:
        mlflow.set_tracking_uri(None)
    assert probabilities.shape == (1, 6, 5)
    assert "".join(VOCAB[i] for i in probabilities[0].argmax(-1)) == run.data.tags["predicted.0"] == "ihello"
    # The model holds the very weights the run logged as the trained RNN's.
    rnn = next(layer for layer in keras_model.layers if isinstance(layer, keras.layers.RNN))
    for variable in rnn.weights:
        np.testing.assert_array_equal(variable.numpy(), np.load(artifact(client, run_id, f"weights/{variable.name}.npy")))


def test_training_sweep_records_three_runs_with_per_epoch_curves(trained):
    import pandas as pd

    client, points = trained["client"], trained["points"]
    assert trained["sweep"].info.status == "FINISHED"
    # The sweep's compare table shows each point's final loss and accuracy.
    table = pd.read_csv(artifact(client, trained["sweep"].info.run_id, "compare.csv"))
    assert sorted(table["hidden_size"]) == [1, 2, 8]
    assert table["train.final_accuracy"].between(0, 1).all() and (table["train.final_loss"] > 0).all()
    assert table.loc[table["hidden_size"] == 8, "train.final_accuracy"].item() == 1.0
    assert sorted(int(run.data.params["hidden_size"]) for run in points) == [1, 2, 8]
    for run in points:
        assert run.info.status == "FINISHED"
        assert run.data.tags["mlflow.parentRunId"] == trained["sweep"].info.run_id
        history = client.get_metric_history(run.info.run_id, "loss")
        assert [m.step for m in history] == list(range(1, 301))
        assert len(client.get_metric_history(run.info.run_id, "accuracy")) == 300
        hidden = int(run.data.params["hidden_size"])
        shapes = json.loads(open(artifact(client, run.info.run_id, "shapes.json")).read())
        assert shapes["outputs"] == [1, 6, hidden]
        assert {"train.final_loss", "train.final_accuracy"} <= set(run.data.metrics)


def test_seeded_training_is_reproducible_across_processes(trained):
    client, single = trained["client"], trained["single"]
    rerun = next(run for run in trained["points"] if run.data.params["hidden_size"] == "2")
    first = [m.value for m in client.get_metric_history(single.info.run_id, "loss")]
    again = [m.value for m in client.get_metric_history(rerun.info.run_id, "loss")]
    assert first == again  # exactly, not approximately
    for name in ("kernel", "recurrent_kernel", "bias"):
        np.testing.assert_array_equal(np.load(artifact(client, single.info.run_id, f"weights/{name}.npy")),
                                      np.load(artifact(client, rerun.info.run_id, f"weights/{name}.npy")))
