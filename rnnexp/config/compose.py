"""The typed config with Hydra: the schema registered in Hydra's ConfigStore,
the shipped YAML found inside the package (`pkg://rnnexp.conf`, so an
installed rnnexp runs from any folder), and the way from a composed config to
the checked `Config` that the rest of rnnexp receives.

From Python or a notebook:

    from rnnexp.config.compose import compose
    config = compose(["rnn=gru", "data=hello"])  # what `python -m rnnexp rnn=gru data=hello` runs
"""

from typing import Sequence

from omegaconf import DictConfig, OmegaConf

from rnnexp.config.schema import Config
from rnnexp.config.text_file import resolved

CONFIG_MODULE = "rnnexp.conf"
CONFIG_PATH = f"pkg://{CONFIG_MODULE}"  # rnnexp/conf/, shipped in the package
CONFIG_NAME = "config"
SCHEMA_NAME = "rnnexp_schema"  # conf/config.yaml lists it first in its defaults
VERSION_BASE = "1.3"


def register_schema() -> None:
    """Registers `Config` in Hydra's ConfigStore as `rnnexp_schema` (idempotent)."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name=SCHEMA_NAME, node=Config)


def to_config(cfg: DictConfig) -> Config:
    """A job's composed config as a `Config`, resolved and checked, its text
    file (`data.text_file`) too (rnnexp.config.text_file).

    Args:
        cfg: what Hydra composed (with or without its `hydra` node), or a
            `Config` already.

    Raises:
        ConfigError: a value fails its check (rnnexp.config.schema).
        omegaconf.errors.OmegaConfBaseException: a value is missing or an
            interpolation cannot be resolved.
    """
    if isinstance(cfg, Config):
        return resolved(cfg)
    if OmegaConf.get_type(cfg) is not Config:  # a config composed without the schema first
        cfg = OmegaConf.merge(OmegaConf.structured(Config), OmegaConf.masked_copy(cfg, _task_keys(cfg)))
    elif "hydra" in cfg:  # its other keys, typed as composed, make the Config as OmegaConf would
        return resolved(Config(**OmegaConf.to_object(OmegaConf.masked_copy(cfg, _task_keys(cfg)))))
    return resolved(OmegaConf.to_object(cfg))


def _task_keys(cfg: DictConfig) -> list:
    return [key for key in cfg if key != "hydra"]


def compose_hydra(overrides: Sequence[str] = (), return_hydra_config: bool = False) -> DictConfig:
    """Hydra's composition of rnnexp's config with `overrides`, as a job gets it
    (outside a running Hydra app: from Python, a notebook, a test)."""
    from hydra import compose as hydra_compose, initialize_config_module

    register_schema()
    with initialize_config_module(config_module=CONFIG_MODULE, version_base=VERSION_BASE):
        return hydra_compose(CONFIG_NAME, list(overrides), return_hydra_config=return_hydra_config)


def compose(overrides: Sequence[str] = ()) -> Config:
    """The checked `Config` that `python -m rnnexp *overrides` runs."""
    return to_config(compose_hydra(overrides))
