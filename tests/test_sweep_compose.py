"""rnnexp.sweep_compose: a sweep point is composed once, by Hydra's real
config loader, and that composition serves the check, the sweeper and the
launch; a point listed twice still gets two separate configs to run. A point
derived from a sibling's composition equals Hydra's own composition of it."""

import pytest
from hydra import initialize_config_dir
from hydra.errors import ConfigCompositionException
from hydra.core.global_hydra import GlobalHydra
from hydra.types import RunMode
from omegaconf import OmegaConf

import rnnexp.schema  # noqa: F401  registers the schema
from rnnexp.sweep_compose import ReusingConfigLoader
from rnnexp.sweep_siblings import SiblingConfigs
from conftest import CONF_DIR


class Counting:
    """Hydra's loader, counting the compositions it makes."""

    def __init__(self, inner):
        self.inner, self.composed = inner, []

    def load_sweep_config(self, master_config, sweep_overrides):
        self.composed.append(tuple(sweep_overrides))
        return self.inner.load_sweep_config(master_config, sweep_overrides)


def _loader_and_master():
    loader = GlobalHydra.instance().config_loader()
    master = loader.load_configuration("config", overrides=[], run_mode=RunMode.MULTIRUN)
    return loader, master


def test_each_point_is_composed_once_for_check_sweeper_and_launch():
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        inner, master = _loader_and_master()
        counting = Counting(inner)
        reusing = ReusingConfigLoader(counting, uses=3)
        points = [["hidden_size=1"], ["hidden_size=2"], ["hidden_size=3", "rnn=lstm"]]
        handed = [[reusing.load_sweep_config(master, point) for point in points] for _ in range(3)]

    assert counting.composed == [tuple(point) for point in points]
    for column in range(len(points)):
        assert handed[0][column] is handed[1][column] is handed[2][column]
    assert [cfg.hidden_size for cfg in handed[2]] == [1, 2, 3]
    assert handed[2][2].rnn.value == "lstm"
    assert not reusing.kept  # used up: nothing held once the sweep has launched


def test_a_point_listed_twice_runs_two_separate_configs():
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        inner, master = _loader_and_master()
        counting = Counting(inner)
        reusing = ReusingConfigLoader(counting, uses=3)
        point = ["hidden_size=2"]
        check = [reusing.load_sweep_config(master, point) for _ in range(2)]
        sweeper = [reusing.load_sweep_config(master, point) for _ in range(2)]
        launch = [reusing.load_sweep_config(master, point) for _ in range(2)]

    assert launch[0] is not launch[1]  # each job gets its own config to number and run
    assert len(counting.composed) >= 2
    assert all(cfg.hidden_size == 2 for cfg in check + sweeper + launch)


def _plain(cfg):
    """The whole composition, `hydra` node included, as Hydra would launch it."""
    plain = OmegaConf.to_container(cfg, resolve=False)
    return plain, OmegaConf.is_struct(cfg), OmegaConf.is_readonly(cfg.hydra)


SWEEPS = {
    "values": [[f"hidden_size={h}"] for h in (1, 2, 3)],
    "values after a group": [["rnn=lstm", f"hidden_size={h}", f"seed={s}"] for h in (1, 4) for s in (0, 7)],
    "lists": [[f"data.vocab=[{v}]", "data.sequences=[ab,ba]"] for v in ("a,b", "b,a", "a,b,c")],
    "groups and values": [[f"api={a}", f"hidden_size={h}"] for a in ("cell", "layer") for h in (2, 5)],
    "a null and a string": [["mlflow.tracking_uri=null", "mlflow.experiment_name=x"],
                            ["mlflow.tracking_uri=sqlite:///a.db", "mlflow.experiment_name=y"]],
}


@pytest.mark.parametrize("sweep", SWEEPS, ids=list(SWEEPS))
def test_a_derived_point_equals_hydras_own_composition(sweep):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        loader, master = _loader_and_master()
        siblings = SiblingConfigs(loader)
        derived = [siblings.load_sweep_config(master, point) for point in SWEEPS[sweep]]
        composed = [loader.load_sweep_config(master, point) for point in SWEEPS[sweep]]

    assert siblings.templates  # the fast path was taken
    for point, ours, hydras in zip(SWEEPS[sweep], derived, composed):
        assert _plain(ours) == _plain(hydras), point


def test_only_value_overrides_are_derived():
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        loader, master = _loader_and_master()
        counting = Counting(loader)
        siblings = SiblingConfigs(counting)
        siblings.repository = loader.repository
        points = [["hidden_size=1"], ["hidden_size=2"], ["rnn=gru"], ["rnn=lstm"], ["+extra=1"], ["+extra=2"],
                  ["hidden_size=3", "seed=1"], ["data={vocab: [a], sequences: [a]}"], ["data={vocab: [b], sequences: [b]}"]]
        configs = [siblings.load_sweep_config(master, point) for point in points]

    assert counting.composed == [("hidden_size=1",), ("rnn=gru",), ("rnn=lstm",), ("+extra=1",), ("+extra=2",),
                                 ("hidden_size=3", "seed=1"), ("data={vocab: [a], sequences: [a]}",),
                                 ("data={vocab: [b], sequences: [b]}",)]
    assert [c.hidden_size for c in configs[:2]] == [1, 2]
    assert configs[3].rnn.value == "lstm" and configs[5].extra == 2 and list(configs[8].data.vocab) == ["b"]


def test_a_bad_value_in_a_derived_point_fails_as_hydra_reports_it():
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        loader, master = _loader_and_master()
        siblings = SiblingConfigs(loader)
        siblings.load_sweep_config(master, ["hidden_size=1"])
        with pytest.raises(ConfigCompositionException) as ours:
            siblings.load_sweep_config(master, ["hidden_size=two"])
        with pytest.raises(ConfigCompositionException) as hydras:
            loader.load_sweep_config(master, ["hidden_size=two"])

    assert str(ours.value) == str(hydras.value)
    assert str(ours.value.__cause__) == str(hydras.value.__cause__)
    assert "could not be converted to Integer" in str(ours.value.__cause__)
