"""task=train without TensorFlow: the config, its validation, the shifted
inputs and targets, the scores and the files a training run writes."""

import math
import subprocess
import sys

import numpy as np
import pytest

from rnnexp.core.encoding import decode
from rnnexp.errors import ConfigError
from rnnexp.tracking.run_record import config_params
from rnnexp.config.compose import to_config
from rnnexp.core.training import decode_predictions, next_char_data, scores
from rnnexp.record.training_files import write_loss_curve, write_training_tables

HIHELLO_VOCAB = ("h", "i", "e", "l", "o")


def test_default_task_is_forward_and_train_is_a_group_choice(compose):
    assert compose().task.value == "forward"
    cfg = compose(["task=train", "data=hihello"])
    assert cfg.task.value == "train"
    assert (cfg.train.epochs, cfg.train.optimizer, cfg.train.batch_size) == (300, "rmsprop", 32)
    assert cfg.train.learning_rate == pytest.approx(0.1)
    assert cfg.hidden_size == 2  # the lesson's default; the training defaults reach 1.0 with it


def test_the_typed_config_is_what_was_composed(compose):
    from rnnexp.config.schema import Config, Task, TrainConfig

    config = to_config(compose(["task=train", "data=hihello"]))
    assert isinstance(config, Config) and config.task is Task.train
    assert config.train == TrainConfig()  # the schema's defaults, the only copy of them


def test_train_settings_are_typed_at_compose_time(compose):
    with pytest.raises(Exception, match="train.epochs"):
        compose(["task=train", "train.epochs=many"])
    assert compose(["task=train", "train.learning_rate=1"]).train.learning_rate == 1.0


def test_task_and_train_settings_become_params(compose):
    from omegaconf import OmegaConf

    cfg = compose(["task=train", "data=hihello", "train.epochs=7"])
    plain = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    params = config_params(plain, {"task": "train", "data": "hihello"})
    assert params["task"] == "train"
    assert (params["train.epochs"], params["train.optimizer"], params["train.learning_rate"]) == ("7", "rmsprop", "0.1")


@pytest.mark.parametrize("override, key, value", [
    ("train.epochs=0", "train.epochs", 0),
    ("train.epochs=-5", "train.epochs", -5),
    ("train.batch_size=0", "train.batch_size", 0),
    ("train.optimizer=adamx", "train.optimizer", "adamx"),
    ("train.learning_rate=0", "train.learning_rate", 0.0),
    ("train.learning_rate=-0.1", "train.learning_rate", -0.1),
    ("train.learning_rate=inf", "train.learning_rate", math.inf),
    ("data=char_h", "data.sequences[0]", "h"),
])
def test_bad_train_settings_are_config_errors_naming_key_and_value(compose, override, key, value):
    cfg = compose(["task=train", "data=hihello", override])
    with pytest.raises(ConfigError) as caught:
        to_config(cfg)
    assert caught.value.key == key and caught.value.value == value
    assert key in str(caught.value)


def test_train_settings_are_not_checked_when_not_training(compose):
    to_config(compose(["train.epochs=0", "data=char_h"]))  # a forward run: no error


def test_unknown_optimizer_error_lists_the_known_ones(compose):
    with pytest.raises(ConfigError, match=r"expected one of \[.*'adam'.*'sgd'"):
        to_config(compose(["task=train", "train.optimizer=Adamm"]))


def test_bad_train_config_fails_before_tensorflow_keras_or_mlflow_are_imported(tmp_path):
    code = (
        "import sys\n"
        "from rnnexp.errors import ConfigError\n"
        "from rnnexp.config.schema import Config, DataConfig, TrainConfig\n"
        "try:\n    Config(task='train', train=TrainConfig(epochs=0), data=DataConfig(['a', 'b'], ['ab']))\n"
        "except ConfigError as e:\n    print(e)\n"
        "import rnnexp.job, rnnexp.core.training\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'mlflow') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["train.epochs=0: expected a positive integer", "[]"]


def test_hihello_inputs_are_hihell_and_targets_are_ihello():
    data = next_char_data(HIHELLO_VOCAB, ["hihello"])
    assert data.encoded.inputs.shape == (1, 6, 5)
    assert decode(HIHELLO_VOCAB, data.encoded.inputs) == ["hihell"]
    np.testing.assert_array_equal(data.targets, [[1, 0, 2, 3, 3, 4]])  # i h e l l o
    assert data.encoded.mask.all()


def test_ragged_sequences_pad_inputs_and_targets_and_mask_the_padding():
    vocab = ("h", "e", "l", "o")
    data = next_char_data(vocab, ["hello", "eo", "lle"])
    assert data.encoded.inputs.shape == (3, 4, 4)
    assert decode(vocab, data.encoded.inputs) == ["hell", "e", "ll"]
    np.testing.assert_array_equal(data.encoded.lengths, [4, 1, 2])
    np.testing.assert_array_equal(data.targets, [[1, 2, 2, 3], [3, 0, 0, 0], [2, 1, 0, 0]])
    np.testing.assert_array_equal(data.encoded.mask, [[1, 1, 1, 1], [1, 0, 0, 0], [1, 1, 0, 0]])
    assert not data.encoded.inputs[~data.encoded.mask].any()  # padded steps are all-zero rows


def test_a_sequence_without_a_next_character_is_rejected():
    with pytest.raises(ConfigError, match=r"data.sequences\[1\]='o'"):
        next_char_data(("h", "o"), ["ho", "o"])


def test_predictions_are_argmax_characters_up_to_each_length():
    probabilities = np.zeros((2, 3, 3), np.float32)
    probabilities[0, [0, 1, 2], [2, 0, 1]] = 1.0
    probabilities[1, [0, 1, 2], [1, 1, 2]] = 1.0  # the last step is padding
    assert decode_predictions(("a", "b", "c"), probabilities, np.array([3, 2])) == ["cab", "bb"]


def test_scores_count_only_real_steps():
    probabilities = np.array([[[0.4, 0.6], [0.9, 0.1], [0.2, 0.8]]], np.float32)  # (1, 3, 2)
    targets = np.array([[1, 0, 0]])  # steps 0 and 1 are right, step 2 is wrong
    padded_last = scores(probabilities, targets, np.array([[True, True, False]]))
    assert padded_last["loss"] == pytest.approx(-(math.log(0.6) + math.log(0.9)) / 2, rel=1e-6)
    assert padded_last["accuracy"] == 1.0
    all_real = scores(probabilities, targets, np.ones((1, 3), bool))
    assert all_real["accuracy"] == pytest.approx(2 / 3)
    assert all_real["loss"] == pytest.approx(-(math.log(0.6) + math.log(0.9) + math.log(0.2)) / 3, rel=1e-6)


def test_training_artifacts_hold_predictions_history_and_a_loss_curve(tmp_path):
    import pandas as pd
    from PIL import Image

    history = {"loss": [1.6, 0.8, 0.1], "accuracy": [0.2, 0.5, 1.0]}
    write_training_tables(tmp_path, ["hihell", "hel"], ["ihello", "ell"], ["ihello", "elo"], history)
    write_loss_curve(tmp_path, history, "t")
    table = pd.read_csv(tmp_path / "tables" / "predictions.csv")
    assert table.to_dict("list") == {
        "sequence": [0, 1], "input": ["hihell", "hel"], "target": ["ihello", "ell"],
        "predicted": ["ihello", "elo"], "correct_steps": [6, 2], "steps": [6, 3],
    }
    curve = pd.read_csv(tmp_path / "tables" / "history.csv")
    assert curve["epoch"].tolist() == [1, 2, 3] and curve["loss"].tolist() == history["loss"]
    with Image.open(tmp_path / "plots" / "loss_curve.png") as image:
        assert image.format == "PNG" and image.size[0] >= 400 and image.size[1] >= 200
