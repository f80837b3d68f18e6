"""Sweep points composed cheaply, through Hydra's public API only.

Hydra composes a point in two steps: the defaults list (which config files
the group choices pick) merged into one config, the costly part (about
0.14 s here), then the point's value overrides applied to it with
`OmegaConf.update`. Points that differ only in the values of keys that are
not config groups (`hidden_size=1` vs `hidden_size=2`, the usual sweep) share
the first step. So a later point is a copy of an earlier point's composition
with its own values applied by `OmegaConf.update` and Hydra's record of the
overrides rewritten (`hydra.overrides.task`, `hydra.job.override_dirname`):
about 0.01 s. tests/test_sweep_compose.py pins this against Hydra's own
composition of every kind of point, `hydra` node included.
"""

import copy
import os
import re
from typing import Dict, List, Optional, Set, Tuple

from hydra.core.config_loader import ConfigLoader
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from omegaconf import DictConfig, ListConfig, OmegaConf

MAX_TEMPLATES = 256  # distinct group choices kept per sweep


class PointComposer:
    """Composes a sweep's points as Hydra's `load_sweep_config` would.

    A point is composed by Hydra's loader when it is the first of its shape
    (its group choices and the keys of its value overrides, in order), or
    has an override that is not a plain change (`+`, `~`, `++`, a `hydra.`
    key, a dict value), or when deriving it raises (so that Hydra reports the
    error its own way); otherwise it is derived from the first of its shape.

    Args:
        loader: Hydra's config loader.
        master_config: the sweep's own config (what Hydra hands its sweeper).
    """

    def __init__(self, loader: ConfigLoader, master_config: DictConfig):
        self.loader, self.master = loader, master_config
        self.groups = config_groups(loader)
        self.parser = OverridesParser.create(config_loader=loader)  # the loader: for glob(...)
        self.templates: Dict[tuple, DictConfig] = {}  # shape -> a pristine composition
        self.lines: Dict[str, Override] = {}  # an override as typed -> Hydra's parse of it

    def compose(self, overrides: List[str]) -> DictConfig:
        shape, parsed = self.shape(overrides)
        template = self.templates.get(shape) if shape else None
        if template is not None:
            try:
                return self.derive(template, overrides, parsed, shape)
            except Exception:  # noqa: BLE001  composed by Hydra below, which reports it
                pass
        config = self.loader.load_sweep_config(self.master, list(overrides))
        if shape and shape not in self.templates and len(self.templates) < MAX_TEMPLATES:
            self.templates[shape] = copy.deepcopy(config)  # before the launcher numbers it
        return config

    def shape(self, overrides: List[str]) -> Tuple[Optional[tuple], List[Override]]:
        """(shape, parsed overrides): what two points must share for one to be
        derived from the other, None if a point cannot be derived at all."""
        try:
            parsed = [self.parsed(line) for line in overrides]
        except Exception:  # noqa: BLE001  Hydra's own composition reports it
            return None, []
        shape = []
        for override in parsed:
            if (override.type != OverrideType.CHANGE or override.package is not None
                    or override.is_sweep_override() or override.is_hydra_override()):
                return None, []
            value = override.value()
            if override.key_or_group in self.groups:
                if not isinstance(value, str):
                    return None, []
                shape.append(("group", override.input_line))
            elif _plain(value):
                shape.append(("value", override.key_or_group))
            else:
                return None, []
        return tuple(shape), parsed

    def parsed(self, line: str) -> Override:
        """`line` parsed once per sweep: the points repeat the unswept
        overrides, and Hydra's parser takes time growing with the square of a
        list's items (20000: 30 s), which every point would pay again."""
        if line not in self.lines:
            (self.lines[line],) = self.parser.parse_overrides([line])
        return self.lines[line]

    def derive(self, template: DictConfig, overrides: List[str], parsed: List[Override], shape: tuple) -> DictConfig:
        config = copy.deepcopy(template)
        for override, (kind, _) in zip(parsed, shape):
            if kind == "value":
                OmegaConf.update(config, override.key_or_group, override.value(), merge=True)
        job = config.hydra.job
        config.hydra.overrides.task = list(overrides)
        config.hydra.runtime.cwd = os.getcwd()
        job.override_dirname = override_dirname(parsed, list(job.config.override_dirname.exclude_keys),
                                                job.config.override_dirname.item_sep,
                                                job.config.override_dirname.kv_sep)
        OmegaConf.copy_cache(from_config=self.master, to_config=config)
        return config


def config_groups(loader: ConfigLoader, parent: str = "") -> Set[str]:
    """Every config group the loader knows, nested ones as "hydra/launcher"."""
    groups = set()
    for name in loader.list_groups(parent):
        path = f"{parent}/{name}" if parent else name
        groups |= {path} | config_groups(loader, path)
    return groups


def override_dirname(overrides: List[Override], exclude_keys: List[str], item_sep: str, kv_sep: str) -> str:
    """`hydra.job.override_dirname` as Hydra makes it: the overrides as typed,
    but for `exclude_keys`, sorted, joined by `item_sep`, `=` turned into `kv_sep`."""
    lines = sorted(o.input_line for o in overrides if o.key_or_group not in exclude_keys)
    return re.sub("=", kv_sep, item_sep.join(lines))


def _plain(value) -> bool:
    """A value an override sets outright (a list replaces a list when merged;
    a dict would merge into the template's)."""
    if isinstance(value, (list, ListConfig)):
        return all(_plain(item) and not isinstance(item, (list, ListConfig)) for item in value)
    return value is None or isinstance(value, (str, int, float, bool))
