"""Each sweep point's config composed once instead of three times, and
most of them derived from a sibling's instead of composed from scratch.

rnnexp checks every point before the sweep starts (rnnexp.sweep_points);
Hydra's basic sweeper then composes every point of a batch before launching
any (to fail early on a bad one), and the basic launcher composes each point
again to run it. A composition costs about as much as a small point's forward
pass, so for a sweep of small points that was a third of its time. With these
two, the first composition of a point is handed to the later requests: the
very object Hydra made for that point, which the check and the sweeper only
looked at, and which the launcher then gives its job number and runs.

Points that differ from an earlier one only in plain values (`hidden_size=1`
vs `hidden_size=2`, the usual sweep) share its defaults list, the costly part
of a composition: such a point is a copy of that earlier composition with
Hydra's own override step applied to it (`SiblingConfigs`).
"""

import copy
import os
from typing import Dict, List, Optional

from hydra.core.config_loader import ConfigLoader
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import OverrideType
from omegaconf import DictConfig, ListConfig, OmegaConf

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


class SiblingConfigs:
    """Composes a sweep point with Hydra's loader, or derives it from an
    earlier point with the same config group choices.

    A composition is a defaults list (which configs, from the group choices)
    merged into one config, then the value overrides applied to it. Two points
    whose overrides differ only in the values of non-group keys, at the same
    positions, have the same defaults list and merge; a copy of the first with
    the second's overrides applied, and its override bookkeeping
    (`hydra.overrides.task`, `hydra.job.override_dirname`) rewritten, is the
    second's composition. Anything else (a group choice, `+`/`~`/`++`, a dict
    value, a `hydra.` key) is composed from scratch, as is a point whose
    derivation raises, so Hydra reports its errors itself.
    """

    def __init__(self, inner: ConfigLoader):
        self.inner = inner
        self.repository = getattr(inner, "repository", None)  # Hydra's ConfigLoaderImpl has one
        self.parser = OverridesParser.create()
        self.templates: Dict[tuple, DictConfig] = {}  # shape of the overrides -> a pristine composition

    def load_sweep_config(self, master_config: DictConfig, sweep_overrides: List[str]) -> DictConfig:
        shape = self._shape(sweep_overrides)
        template = self.templates.get(shape) if shape else None
        if template is not None:
            try:
                return self._derive(template, master_config, sweep_overrides)
            except Exception:  # noqa: BLE001  composed from scratch below, which reports it Hydra's way
                pass
        config = self.inner.load_sweep_config(master_config, sweep_overrides)
        if shape and shape not in self.templates and len(self.templates) < MAX_KEPT:
            self.templates[shape] = copy.deepcopy(config)  # before the launcher numbers it
        return config

    def _shape(self, sweep_overrides: List[str]) -> Optional[tuple]:
        """What two points must share to derive one from the other: the group
        overrides as written, the value overrides' keys; None if a point's
        overrides cannot be derived at all."""
        if self.repository is None:
            return None
        try:
            parsed = self.parser.parse_overrides(sweep_overrides)
        except Exception:  # noqa: BLE001  Hydra's own composition reports it
            return None
        shape = []
        for override in parsed:
            if (override.type != OverrideType.CHANGE or override.package is not None
                    or override.is_sweep_override() or override.is_hydra_override()):
                return None
            value = override.value()
            if self.repository.group_exists(override.key_or_group):
                if not isinstance(value, str):
                    return None
                shape.append(("group", override.input_line))
            elif _plain(value):
                shape.append(("value", override.key_or_group))
            else:
                return None
        return tuple(shape)

    def _derive(self, template: DictConfig, master_config: DictConfig, sweep_overrides: List[str]) -> DictConfig:
        from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname

        parsed = self.parser.parse_overrides(sweep_overrides)
        config = copy.deepcopy(template)
        ConfigLoaderImpl._apply_overrides_to_config(
            [o for o in parsed if not self.repository.group_exists(o.key_or_group)], config)
        job = config.hydra.job
        config.hydra.overrides.task = list(sweep_overrides)
        config.hydra.runtime.cwd = os.getcwd()
        job.override_dirname = get_overrides_dirname(
            overrides=parsed, kv_sep=job.config.override_dirname.kv_sep,
            item_sep=job.config.override_dirname.item_sep, exclude_keys=job.config.override_dirname.exclude_keys)
        OmegaConf.copy_cache(from_config=master_config, to_config=config)
        return config


def _plain(value) -> bool:
    """A value an override sets outright (a list replaces a list when merged;
    a dict would merge into the template's)."""
    if isinstance(value, (list, ListConfig)):
        return all(_plain(item) and not isinstance(item, (list, ListConfig)) for item in value)
    return value is None or isinstance(value, (str, int, float, bool))


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
