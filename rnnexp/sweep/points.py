"""A sweep's points, expanded and checked before any of them runs.

A typo in one value of `hidden_size=2,0,4 -m` should not cost the runs of the
other points first and then a traceback: the sweep callback expands the
points as Hydra's basic sweeper does (the product of the comma lists and
ranges, `hydra.sweeper.params` first), composes each one (rnnexp.sweep.compose)
and checks it as a job would (`to_config`), and reports every bad point at
once, before the sweep's parent run exists and before MLflow or TensorFlow are
imported. The compositions are kept in the `SweepPlan`: rnnexp's sweeper and
launcher (hydra_plugins/rnnexp_plugins) run them as they are, so each point is
composed once. Under other launchers (joblib, submitit) each job composes its
own point again, in its own process.
"""

import itertools
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from hydra.core.override_parser.types import ValueType
from omegaconf import DictConfig, OmegaConf

from rnnexp.config.compose import to_config
from rnnexp.config.hydra_errors import CONFIG_ERRORS, describe_config_error
from rnnexp.config.typed_overrides import check_kept_as_typed, split_top_level
from rnnexp.errors import ConfigError
from rnnexp.sweep.compose import PointComposer


def expand(loader, config: DictConfig, parse: Optional[Callable] = None) -> List[List[str]]:
    """Each point's overrides, in launch order, as Hydra's basic sweeper
    expands `hydra.sweeper.params` and the command line's overrides.

    Args:
        parse: a line -> its parsed Override, e.g. PointComposer.parsed, which
            parses each line once per sweep; Hydra's parser by default.

    Raises:
        ConfigError: for a sweep that is not a list of values (an interval).
    """
    if parse is None:
        from hydra.core.override_parser.overrides_parser import OverridesParser

        parser = OverridesParser.create(config_loader=loader)
        parse = lambda line: parser.parse_overrides([line])[0]  # noqa: E731
    params = config.hydra.sweeper.get("params") or {}
    arguments = [f"{key}={value}" for key, value in params.items()]
    arguments += OmegaConf.to_container(config.hydra.overrides.task, resolve=False)
    choices: Dict[str, List[str]] = OrderedDict()  # a key given twice keeps its first place, its last value
    for override in map(parse, arguments):
        key = override.get_key_element()
        if not override.is_sweep_override():
            choices[key] = [f"{key}={value}" for value in typed_choices(override, 1)
                            or [override.get_value_element_as_str()]]
        elif override.is_discrete_sweep():
            canonical = list(override.sweep_string_iterator())
            choices[key] = [f"{key}={value}" for value in typed_choices(override, len(canonical)) or canonical]
        else:
            raise ConfigError(key, override.input_line, "a list of values (a,b,c or range(...))",
                              f"rnnexp's sweeper does not support {override.value_type.name} sweeps")
    return [list(point) for point in itertools.product(*choices.values())]


def typed_choices(override, count: int) -> List[str]:
    """A plain override's value, or a comma list's choices, as typed (`true`,
    not Hydra's re-rendered `True`), so that a point's overrides and run name
    say what the user wrote; [] when they cannot be cut out of what was typed
    (a function such as `range(...)` or `shuffle(...)`, an escape, a glob)."""
    if override.value_type not in (ValueType.ELEMENT, ValueType.SIMPLE_CHOICE_SWEEP) or "=" not in override.input_line:
        return []
    typed = override.get_value_string()
    texts = [text.strip() for text in split_top_level(typed)]
    if "\\" in typed or len(texts) != count or any(not text or "(" in text for text in texts):
        return []
    return texts


def swept_keys(points: List[List[str]]) -> List[str]:
    """The keys whose value differs between the points, in the order typed
    (e.g. ["rnn", "api"] for `rnn=lstm,gru api=cell,layer hidden_size=4`)."""
    values: Dict[str, set] = OrderedDict()
    for point in points:
        for override in point:
            key, _, value = override.partition("=")
            values.setdefault(key, set()).add(value)
    return [key for key, seen in values.items() if len(seen) > 1]


@dataclass
class SweepPlan:
    """A sweep's points, each composed once, and what is wrong with them."""

    points: List[List[str]]
    problems: List[str]
    configs: Dict[tuple, List[DictConfig]] = field(default_factory=dict)  # overrides -> compositions to run

    def take(self, overrides) -> Optional[DictConfig]:
        """The next composition of a point with these overrides (a point
        listed twice gets two), or None if there is none left."""
        kept = self.configs.get(tuple(overrides))
        return kept.pop(0) if kept else None


def plan_sweep(loader, config: DictConfig) -> SweepPlan:
    """Expands, composes and checks every point of the sweep `config` describes.

    Raises:
        ConfigError: a text value that Hydra's parser would change (typed_overrides).
    """
    composer = PointComposer(loader, config)  # parses each override once, for all of these
    check_kept_as_typed(list(config.hydra.overrides.task), parse=composer.parsed)  # the points' are as typed too
    points = expand(loader, config, composer.parsed)
    plan = SweepPlan(points=points, problems=[])
    for number, overrides in enumerate(points):
        try:
            composed = composer.compose(overrides)
            to_config(composed)
        except ConfigError as error:
            plan.problems.append(_line(number, overrides, str(error)))
        except CONFIG_ERRORS as error:  # Hydra's and OmegaConf's composition errors
            plan.problems.append(_line(number, overrides, describe_config_error(error)))
        else:
            plan.configs.setdefault(tuple(overrides), []).append(composed)
    return plan


def _line(number: int, overrides: List[str], message: str) -> str:
    return f"point #{number} ({','.join(overrides) or 'no overrides'}): {message}"


_current: Optional[SweepPlan] = None  # the plan of this process's multirun (Hydra runs one at a time)


def set_current_plan(plan: Optional[SweepPlan]) -> None:
    global _current
    _current = plan


def current_plan() -> Optional[SweepPlan]:
    """The plan the sweep callback made for the multirun under way, if any."""
    return _current
