"""rnnexp.sweep_compose: a sweep point is composed once, by Hydra's real
config loader, and that composition serves the check, the sweeper and the
launch; a point listed twice still gets two separate configs to run."""

from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.types import RunMode

import rnnexp.schema  # noqa: F401  registers the schema
from rnnexp.sweep_compose import ReusingConfigLoader
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
