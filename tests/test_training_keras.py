"""rnnexp.core.training.train in-process (imports TensorFlow): ragged batches in
several shuffled batches, with the cell API and an LSTM."""

import numpy as np
import pytest

from rnnexp.config.schema import Api, Config, DataConfig, Rnn, Task, TrainConfig
from rnnexp.core.checks import API_PARITY, LAST_OUTPUT, REFERENCE
from rnnexp.core.reference import run_reference
from rnnexp.core.training import train

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ragged():
    return train(Config(task=Task.train, api=Api.cell, rnn=Rnn.lstm, hidden_size=3, seed=1,
                        data=DataConfig(vocab=["h", "e", "l", "o"], sequences=["hello", "eol", "lo"]),
                        train=TrainConfig(epochs=4, optimizer="adam", learning_rate=0.01, batch_size=2)))


def test_one_value_per_epoch_and_one_prediction_per_real_step(ragged):
    assert [len(ragged.history[name]) for name in ("loss", "accuracy")] == [4, 4]
    assert all(np.isfinite(ragged.history["loss"]))
    assert [len(text) for text in ragged.predictions] == [4, 2, 1]
    assert ragged.input_texts == ["hell", "eo", "l"] and ragged.target_texts == ["ello", "ol", "o"]


def test_keras_loss_and_accuracy_leave_out_the_padding(ragged):
    """Keras's own loss of the trained model (padding masked by the Masking
    layer) equals the NumPy cross-entropy over the real steps only."""
    data = ragged.data
    logs = ragged.keras_model.test_on_batch(data.encoded.inputs, data.targets, return_dict=True)
    assert logs["loss"] == pytest.approx(ragged.final["loss"], rel=1e-4)
    assert logs["accuracy"] == pytest.approx(ragged.final["accuracy"], abs=1e-6)


def test_recorded_tensors_are_the_trained_layer_on_the_shifted_inputs(ragged):
    forward, mask = ragged.forward, ragged.data.encoded.mask
    tensors = forward.tensors
    assert forward.sequences == ["hell", "eo", "l"]
    assert sorted(tensors) == ["inputs", "outputs", "state_c", "state_h"]
    assert tensors["inputs"].shape == (3, 4, 4) and tensors["outputs"].shape == (3, 4, 3)
    reference = run_reference("lstm", tensors["inputs"], forward.weights, mask)
    for name in ("outputs", "state_h", "state_c"):
        np.testing.assert_allclose(reference[name], tensors[name], atol=1e-5)
    assert forward.checks[REFERENCE] <= 1e-5 and forward.checks[API_PARITY] <= 1e-6
    assert forward.checks[LAST_OUTPUT] <= 1e-6


def test_recorded_weights_are_the_trained_ones(ragged):
    from rnnexp.core import keras_rnn

    untrained = keras_rnn.build_rnn("cell", "lstm", 3, seed=1)
    keras_rnn.forward(untrained, "lstm", ragged.forward.tensors["inputs"])  # builds it
    trained = ragged.forward.weights
    assert any(not np.array_equal(trained[n], w) for n, w in keras_rnn.get_weights(untrained).items())
    import keras

    layer = next(layer for layer in ragged.keras_model.layers if isinstance(layer, keras.layers.RNN))
    for variable in layer.weights:
        np.testing.assert_array_equal(variable.numpy(), trained[variable.name])


def test_on_epoch_is_told_every_epoch_with_its_scores():
    seen = []
    config = Config(task=Task.train, data=DataConfig(vocab=list("hielo"), sequences=["hihello"]),
                    train=TrainConfig(epochs=4))
    result = train(config, on_epoch=lambda epoch, logs: seen.append((epoch, dict(logs))))
    assert [epoch for epoch, _ in seen] == [1, 2, 3, 4]
    assert [logs["loss"] for _, logs in seen] == result.history["loss"]
    assert [logs["accuracy"] for _, logs in seen] == result.history["accuracy"]
