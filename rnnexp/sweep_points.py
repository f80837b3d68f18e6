"""Checks every point of a sweep before any of them runs.

A typo in one value of `hidden_size=2,0,4 -m` should not cost the runs of the
other points first and then a traceback: the launching process composes each
point as Hydra's basic sweeper will, runs `validate` on it, and reports every
bad point at once, within a second, before the sweep's parent run exists and
before MLflow or TensorFlow are imported. Hydra composes each point of a batch
before launching it too, but stops at the first failure and after the parent
run was created.

Other sweepers choose their points as they go; their points are checked by
each job, which records a bad point as a FAILED run (see rnnexp.job).
"""

from typing import List, Optional

from omegaconf import DictConfig, OmegaConf

from rnnexp.errors import ConfigError
from rnnexp.validation import validate

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


def point_overrides(config: DictConfig) -> Optional[List[List[str]]]:
    """Each point's overrides, in launch order, as the basic sweeper expands
    them from `hydra.sweeper.params` and the command line; None for another sweeper."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    if config.hydra.sweeper.get("_target_") != BASIC_SWEEPER:
        return None
    params = config.hydra.sweeper.get("params") or {}
    arguments = [f"{key}={value}" for key, value in params.items()]
    arguments += OmegaConf.to_container(config.hydra.overrides.task, resolve=False)
    parser = OverridesParser.create(config_loader=GlobalHydra.instance().config_loader())
    batches = BasicSweeper.split_arguments(parser.parse_overrides(arguments), None)
    return [list(point) for batch in batches for point in batch]


def point_problems(config: DictConfig) -> List[str]:
    """One line per point that would fail: composition errors in Hydra's words
    (a wrong type, an unknown option), the rest from `validate`. Empty if all
    points are fine or the sweeper is not the basic one."""
    from hydra.core.global_hydra import GlobalHydra

    points = point_overrides(config)
    if not points:
        return []
    loader = GlobalHydra.instance().config_loader()
    problems = []
    for number, overrides in enumerate(points):
        try:
            validate(loader.load_sweep_config(master_config=config, sweep_overrides=overrides))
        except ConfigError as error:
            problems.append(_line(number, overrides, str(error)))
        except Exception as error:  # Hydra's and OmegaConf's composition errors
            cause = f"\n{error.__cause__}" if error.__cause__ is not None else ""
            problems.append(_line(number, overrides, f"{error}{cause}"))
    return problems


def _line(number: int, overrides: List[str], message: str) -> str:
    message = message.split("Config search path:")[0]  # Hydra's list of folders, the same for every point
    indented = "\n    ".join(line for line in message.strip().splitlines() if line.strip())
    return f"point #{number} ({','.join(overrides) or 'no overrides'}): {indented}"
