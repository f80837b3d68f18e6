"""Config composition, as `python -m rnnexp` composes it, without TensorFlow,
Keras or MLflow."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException

from rnnexp.config.compose import to_config
from rnnexp.core.encoding import one_hot
from rnnexp.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
CONF_DIR = REPO / "rnnexp" / "conf"
HELLO_BATCH = ["hello", "eolll", "lleel"]


def test_defaults_are_the_lessons_batch(compose):
    cfg = compose(return_hydra_config=True)
    assert cfg.hidden_size == 2 and cfg.seed == 0
    assert cfg.api == "layer" and cfg.rnn == "simple_rnn"
    assert list(cfg.data.vocab) == ["h", "e", "l", "o"]
    assert list(cfg.data.sequences) == HELLO_BATCH
    assert cfg.mlflow.tracking_uri is None and cfg.mlflow.experiment_name == "rnnexp"
    choices = cfg.hydra.runtime.choices
    assert (choices.api, choices.rnn, choices.data) == ("layer", "simple_rnn", "hello_batch")


def test_group_and_value_overrides(compose):
    cfg = compose(["api=cell", "rnn=lstm", "data=hello", "seed=7", "hidden_size=4"])
    assert (cfg.api, cfg.rnn, cfg.seed, cfg.hidden_size) == ("cell", "lstm", 7, 4)
    assert list(cfg.data.sequences) == ["hello"]


@pytest.mark.parametrize("rnn", ["simple_rnn", "lstm", "gru"])
@pytest.mark.parametrize("api", ["cell", "layer"])
def test_every_rnn_and_api_composes(compose, api, rnn):
    cfg = compose([f"api={api}", f"rnn={rnn}"])
    assert (cfg.api, cfg.rnn) == (api, rnn)
    to_config(cfg)


def test_tokens_are_strings_even_when_they_look_like_numbers(compose):
    cfg = compose(["data.vocab=[a,1]", "data.sequences=[a1,11a]"])
    assert list(cfg.data.vocab) == ["a", "1"]
    assert all(type(token) is str for token in cfg.data.vocab)
    encoded = one_hot(list(cfg.data.vocab), list(cfg.data.sequences))
    assert encoded.inputs[1, :, 1].tolist() == [1, 1, 0]  # "11a": token "1" is position 1


@pytest.mark.parametrize("override, value", [
    ("hidden_size=two", "two"),
    ("seed=1.5", "1.5"),
    ("api=rnn", "rnn"),
    ("rnn=transformer", "transformer"),
    ("data=nope", "nope"),
])
def test_a_wrong_value_fails_at_compose_time(compose, override, value):
    with pytest.raises(ConfigCompositionException) as caught:
        compose([override])
    chain = f"{caught.value} {caught.value.__cause__}"
    assert value in chain and override.split("=")[0] in chain


@pytest.mark.parametrize("override, key", [
    ("hidden_size=0", "hidden_size"),
    ("data.vocab=[h,h]", "data.vocab[1]"),
    ("data.sequences=[hello,hxllo]", "data.sequences[1]"),
])
def test_validation_names_the_key(compose, override, key):
    with pytest.raises(ConfigError) as caught:
        to_config(compose([override]))
    assert caught.value.key == key


@pytest.mark.parametrize("data, shape", [
    ("char_h", (1, 1, 4)),
    ("hello", (1, 5, 4)),
    ("hello_batch", (3, 5, 4)),
    ("hihello", (1, 7, 5)),
])
def test_each_shipped_data_group_gives_the_lessons_shape(compose, data, shape):
    cfg = compose([f"data={data}"])
    assert one_hot(list(cfg.data.vocab), list(cfg.data.sequences)).inputs.shape == shape


def test_the_shipped_data_groups():
    assert {p.stem for p in (CONF_DIR / "data").glob("*.yaml")} >= {"char_h", "hello", "hello_batch", "hihello"}


def test_run_artifacts_are_git_ignored():
    ignored = (REPO / ".gitignore").read_text().split()
    assert {"outputs/", "multirun/", "mlflow.db", "mlruns/"} <= set(ignored)


COMPOSE_AND_PREPARE = """
import json, sys
import rnnexp.cli, rnnexp.sweep.callback, rnnexp.core.forward, rnnexp.core.training
from rnnexp.config.compose import compose_hydra, to_config
from rnnexp.core.encoding import one_hot
from rnnexp.job import recorded_config, run_name
from rnnexp.tracking.run_record import config_params
cfg = compose_hydra(["rnn=lstm", "api=cell"])
config = to_config(cfg)
one_hot(config.data.vocab, config.data.sequences)
config_params(recorded_config(cfg), {"rnn": "lstm"})
run_name(["rnn=lstm"])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "mlflow"))
print(json.dumps(heavy))
"""


def test_composing_and_preparing_imports_no_tensorflow_keras_or_mlflow():
    proc = subprocess.run([sys.executable, "-c", COMPOSE_AND_PREPARE],
                          capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
