"""Each sweep point's config composed once instead of three times.

rnnexp checks every point before the sweep starts (rnnexp.sweep_points);
Hydra's basic sweeper then composes every point of a batch before launching
any (to fail early on a bad one), and the basic launcher composes each point
again to run it. A composition costs about as much as a small point's forward
pass, so for a sweep of small points that was a third of its time. With these
two, the first composition of a point is handed to the later requests: the
very object Hydra made for that point, which the check and the sweeper only
looked at, and which the launcher then gives its job number and runs. That
first composition is itself cheap for most points (rnnexp.sweep_siblings).
"""

from typing import Dict, List, Optional

from hydra.core.config_loader import ConfigLoader
from omegaconf import DictConfig

from rnnexp.sweep_siblings import SiblingConfigs

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"
BASIC_LAUNCHER = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"
MAX_KEPT = 256  # configs held between a point's check and its launch


class ReusingConfigLoader(ConfigLoader):
    """Hydra's config loader, keeping a sweep point's first composition for
    the later requests of the same overrides.

    Args:
        inner: the loader Hydra made.
        uses: how many requests a composition serves: the check, the
            sweeper's look and the launch make 3. The last request is always
            the launch, the only one that changes the config. Overrides
            requested more often (a point listed twice) are composed afresh
            once their composition is used up.
    """

    def __init__(self, inner: ConfigLoader, uses: int = 3):
        self.inner, self.uses = inner, uses
        self.kept: Dict[tuple, list] = {}  # overrides -> [config, requests left]
        self.requested = set()
        self.siblings = SiblingConfigs(inner)

    def load_sweep_config(self, master_config: DictConfig, sweep_overrides: List[str]) -> DictConfig:
        key = tuple(sweep_overrides)
        if key in self.kept:
            entry = self.kept[key]
            entry[1] -= 1
            if entry[1] == 0:
                del self.kept[key]
            return entry[0]
        config = self.siblings.load_sweep_config(master_config, sweep_overrides)
        if key not in self.requested and len(self.kept) < MAX_KEPT and self.uses > 1:
            self.kept[key] = [config, self.uses - 1]
        self.requested.add(key)
        return config

    def load_configuration(self, *args, **kwargs):
        return self.inner.load_configuration(*args, **kwargs)

    def get_search_path(self):
        return self.inner.get_search_path()

    def get_sources(self):
        return self.inner.get_sources()

    def list_groups(self, parent_name: str):
        return self.inner.list_groups(parent_name)

    def get_group_options(self, *args, **kwargs):
        return self.inner.get_group_options(*args, **kwargs)

    def compute_defaults_list(self, *args, **kwargs):
        return self.inner.compute_defaults_list(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def compose_sweep_points_once(config: DictConfig) -> Optional[ReusingConfigLoader]:
    """Installs a ReusingConfigLoader for this multirun, if it uses the basic
    sweeper and launcher. Call from `on_multirun_start`, before the points are
    checked: Hydra hands its config loader to the sweeper right after.

    Returns:
        The loader installed, or None when left as it was.
    """
    from hydra.core.global_hydra import GlobalHydra

    if (config.hydra.sweeper.get("_target_"), config.hydra.launcher.get("_target_")) != (BASIC_SWEEPER, BASIC_LAUNCHER):
        return None
    hydra = GlobalHydra.instance().hydra
    if hydra is None or not isinstance(getattr(hydra, "config_loader", None), ConfigLoader):
        return None
    if not isinstance(hydra.config_loader, ReusingConfigLoader):
        hydra.config_loader = ReusingConfigLoader(hydra.config_loader)
    return hydra.config_loader
