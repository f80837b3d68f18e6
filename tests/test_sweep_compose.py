"""rnnexp.sweep.compose and the sweep plan: a point derived from an earlier
point's composition equals Hydra's own composition of it, `hydra` node
included; only plain value overrides are derived; a bad value fails as Hydra
reports it; and a planned sweep composes each point once, for the check and
the launch alike, a point listed twice getting two separate configs."""

import pytest
from hydra import initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import ConfigCompositionException
from hydra.types import RunMode
from omegaconf import OmegaConf

from rnnexp.config.compose import CONFIG_MODULE, register_schema
from rnnexp.sweep.compose import PointComposer
from rnnexp.sweep.points import plan_sweep


class Counting:
    """Hydra's loader, counting the compositions it makes."""

    def __init__(self, inner):
        self.inner, self.composed = inner, []

    def load_sweep_config(self, master_config, sweep_overrides):
        self.composed.append(tuple(sweep_overrides))
        return self.inner.load_sweep_config(master_config, sweep_overrides)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture
def hydra_loader():
    """(Hydra's config loader, a function composing a multirun's master config)."""
    register_schema()
    with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        yield loader, lambda overrides=(): loader.load_configuration("config", list(overrides), RunMode.MULTIRUN)


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
def test_a_derived_point_equals_hydras_own_composition(hydra_loader, sweep):
    loader, master = hydra_loader
    composer = PointComposer(loader, master())
    derived = [composer.compose(point) for point in SWEEPS[sweep]]
    composed = [loader.load_sweep_config(composer.master, point) for point in SWEEPS[sweep]]

    assert composer.templates  # the fast path was taken
    for point, ours, hydras in zip(SWEEPS[sweep], derived, composed):
        assert _plain(ours) == _plain(hydras), point


def test_override_dirname_follows_hydras_settings(hydra_loader):
    loader, master = hydra_loader
    config = master(["hydra.job.config.override_dirname.exclude_keys=[seed]",
                     "hydra.job.config.override_dirname.kv_sep=-"])
    composer = PointComposer(loader, config)
    points = [["seed=1", "hidden_size=3", "rnn=gru"], ["seed=2", "hidden_size=4", "rnn=gru"]]
    derived = [composer.compose(point) for point in points]
    assert derived[1].hydra.job.override_dirname == "hidden_size-4,rnn-gru"
    assert _plain(derived[1]) == _plain(loader.load_sweep_config(config, points[1]))


def test_only_value_overrides_are_derived(hydra_loader):
    loader, master = hydra_loader
    counting = Counting(loader)
    composer = PointComposer(counting, master())
    points = [["hidden_size=1"], ["hidden_size=2"], ["rnn=gru"], ["rnn=lstm"], ["+extra=1"], ["+extra=2"],
              ["hidden_size=3", "seed=1"], ["data={vocab: [a], sequences: [a]}"], ["data={vocab: [b], sequences: [b]}"]]
    configs = [composer.compose(point) for point in points]

    assert counting.composed == [("hidden_size=1",), ("rnn=gru",), ("rnn=lstm",), ("+extra=1",), ("+extra=2",),
                                 ("hidden_size=3", "seed=1"), ("data={vocab: [a], sequences: [a]}",),
                                 ("data={vocab: [b], sequences: [b]}",)]
    assert [c.hidden_size for c in configs[:2]] == [1, 2]
    assert configs[3].rnn.value == "lstm" and configs[5].extra == 2 and list(configs[8].data.vocab) == ["b"]


def test_a_bad_value_in_a_derived_point_fails_as_hydra_reports_it(hydra_loader):
    loader, master = hydra_loader
    composer = PointComposer(loader, master())
    composer.compose(["hidden_size=1"])
    with pytest.raises(ConfigCompositionException) as ours:
        composer.compose(["hidden_size=two"])
    with pytest.raises(ConfigCompositionException) as hydras:
        loader.load_sweep_config(composer.master, ["hidden_size=two"])

    assert str(ours.value) == str(hydras.value)
    assert str(ours.value.__cause__) == str(hydras.value.__cause__)
    assert "could not be converted to Integer" in str(ours.value.__cause__)


def test_a_planned_sweep_composes_each_point_once(hydra_loader):
    loader, master = hydra_loader
    counting = Counting(loader)
    plan = plan_sweep(counting, master(["hidden_size=1,2,3", "rnn=lstm"]))
    assert plan.points == [["hidden_size=1", "rnn=lstm"], ["hidden_size=2", "rnn=lstm"], ["hidden_size=3", "rnn=lstm"]]
    assert counting.composed == [("hidden_size=1", "rnn=lstm")]  # the others derived from it
    launched = [plan.take(point) for point in plan.points]
    assert [cfg.hidden_size for cfg in launched] == [1, 2, 3] and launched[2].rnn.value == "lstm"
    assert not any(plan.configs.values())  # used up: nothing held once the sweep has launched


def test_a_point_listed_twice_runs_two_separate_configs(hydra_loader):
    loader, master = hydra_loader
    plan = plan_sweep(loader, master(["hidden_size=2,2"]))
    first, second = plan.take(["hidden_size=2"]), plan.take(["hidden_size=2"])
    assert first is not second and first.hidden_size == second.hidden_size == 2
    assert plan.take(["hidden_size=2"]) is None


def test_points_expand_as_hydras_basic_sweeper_does(hydra_loader):
    from omegaconf import open_dict

    from rnnexp.sweep.points import expand

    loader, master = hydra_loader
    config = master(["hidden_size=2,3", "rnn=lstm", "hidden_size=4,5"])  # a key given twice: its last values
    with open_dict(config):
        config.hydra.sweeper.params = {"seed": "range(0,2)"}  # as a config's hydra.sweeper.params sets it
    assert expand(loader, config) == [["seed=0", "hidden_size=4", "rnn=lstm"], ["seed=0", "hidden_size=5", "rnn=lstm"],
                                      ["seed=1", "hidden_size=4", "rnn=lstm"], ["seed=1", "hidden_size=5", "rnn=lstm"]]
