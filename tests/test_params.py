"""Config -> MLflow params (flat, dotted, within MLflow's limits) and run names."""

import json

import pytest
from omegaconf import OmegaConf

from rnnexp.job import run_name
from rnnexp.tracking.run_record import MAX_PARAM_VALUE, TRUNCATION_MARKER, config_params, flatten, param_value


def test_flatten_makes_dotted_keys_and_keeps_lists_whole():
    nested = {"hidden_size": 2, "data": {"vocab": ["h", "e"], "deep": {"x": None}}}
    assert flatten(nested) == {"hidden_size": 2, "data.vocab": ["h", "e"], "data.deep.x": None}


def test_param_values_are_strings_and_lists_are_json():
    assert param_value(2) == "2"
    assert param_value(None) == "null"
    assert param_value(["a", "1"]) == '["a", "1"]'
    assert param_value(["a", "1"]) != param_value(["a", 1])


def test_long_values_are_truncated_with_a_marker():
    at_limit = "x" * MAX_PARAM_VALUE
    assert param_value(at_limit) == at_limit
    long = param_value(["hello"] * 2000)  # 18000 characters as JSON
    assert MAX_PARAM_VALUE == 6000 and len(long) == MAX_PARAM_VALUE
    assert long.endswith(TRUNCATION_MARKER) and long.startswith('["hello", ')


def test_params_of_a_composed_config(compose):
    overrides = ["rnn=lstm", "api=cell", "data=hello"]
    runtime = compose(overrides, return_hydra_config=True).hydra.runtime
    choices = {k: v for k, v in runtime.choices.items() if not k.startswith("hydra")}
    cfg = compose(overrides)
    params = config_params(OmegaConf.to_container(cfg, resolve=True, enum_to_str=True), choices)
    assert params["hidden_size"] == "2" and params["seed"] == "0"
    assert (params["api"], params["rnn"], params["data"]) == ("cell", "lstm", "hello")
    assert json.loads(params["data.vocab"]) == ["h", "e", "l", "o"]
    assert json.loads(params["data.sequences"]) == ["hello"]
    assert params["mlflow.experiment_name"] == "rnnexp" and params["mlflow.tracking_uri"] == "null"
    assert all(isinstance(v, str) for v in params.values())


def test_a_huge_config_stays_within_mlflows_limits(compose):
    cfg = compose(["data.vocab=[a,b]", f"data.sequences=[{','.join(['ab' * 50] * 300)}]"])
    params = config_params(OmegaConf.to_container(cfg, enum_to_str=True), {"data": "hello_batch"})
    assert len(params["data.sequences"]) == MAX_PARAM_VALUE
    assert params["data.sequences"].endswith(TRUNCATION_MARKER)


def test_log_batches_keeps_within_mlflows_limits_per_call():
    """At most 100 params, 100 tags and 1000 entities in all per log_batch
    call (MLflow refuses more), nothing lost, nothing sent twice."""
    from rnnexp.tracking.writer import log_batches

    class Client:
        calls = []

        def log_batch(self, run_id, metrics, params, tags):
            assert len(params) <= 100 and len(tags) <= 100 and len(metrics) + len(params) + len(tags) <= 1000
            self.calls.append((len(params), len(metrics), len(tags)))

    metrics = [(f"m{i}", float(i), 0, i) for i in range(1950)]
    log_batches(Client(), "run", params={f"p{i}": str(i) for i in range(250)}, metrics=metrics,
                tags={f"t{i}": "x" for i in range(120)})
    assert Client.calls == [(100, 800, 100), (100, 880, 20), (50, 270, 0)]
    Client.calls.clear()
    log_batches(Client(), "run")
    assert Client.calls == []


@pytest.mark.parametrize("overrides, name", [
    ([], "default"),
    (["hidden_size=4"], "hidden_size=4"),
    (["rnn=lstm", "api=cell", "hidden_size=4"], "rnn=lstm,api=cell,hidden_size=4"),
])
def test_run_name_is_made_from_the_overrides(overrides, name):
    assert run_name(overrides) == name


@pytest.mark.slow
def test_many_and_long_params_reach_a_real_store(tmp_path):
    """The batches and the truncation keep MLflow from refusing."""
    from mlflow.tracking import MlflowClient

    from rnnexp.tracking.recorder import Recorder
    from rnnexp.tracking.run_record import RunStart

    recorder = Recorder(f"sqlite:///{tmp_path / 'mlflow.db'}", "limits")
    params = config_params({f"p{i:03d}": i for i in range(250)} | {"long": ["x" * 100] * 100}, {})
    with recorder.run(RunStart("limits", params, {})) as record:
        record.log_series({"loss": [1.0 / (i + 1) for i in range(1500)]})
    run = MlflowClient(recorder.tracking_uri).get_run(record.run_id)
    assert len(MlflowClient(recorder.tracking_uri).get_metric_history(record.run_id, "loss")) == 1500
    assert run.info.status == "FINISHED"
    assert len(run.data.params) == 251 and run.data.params["p249"] == "249"
    assert run.data.params["long"].endswith(TRUNCATION_MARKER)
