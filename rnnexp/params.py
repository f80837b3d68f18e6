"""Turns a composed config into MLflow params: flat, dotted, string-valued,
within MLflow's limits. Plain Python, so it is tested without MLflow."""

import json
from typing import Any, Dict, Mapping

# MLflow rejects a param value over 6000 characters (MAX_PARAM_VAL_LENGTH) and a
# log_batch call with over 100 params (MAX_PARAMS_TAGS_PER_BATCH).
MAX_PARAM_VALUE = 6000
MAX_PARAMS_PER_BATCH = 100
TRUNCATION_MARKER = "...[truncated; full value in config.yaml]"


def flatten(node: Mapping[str, Any], prefix: str = "") -> Dict[str, Any]:
    """{"data": {"vocab": [...]}} -> {"data.vocab": [...]}; lists stay whole."""
    flat = {}
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def param_value(value: Any) -> str:
    """A param's string form: JSON for lists (so ["1"] and [1] differ), str
    otherwise, cut to MLflow's limit with a marker that says where the rest is."""
    text = json.dumps(value) if isinstance(value, (list, tuple)) else ("null" if value is None else str(value))
    if len(text) > MAX_PARAM_VALUE:
        text = text[: MAX_PARAM_VALUE - len(TRUNCATION_MARKER)] + TRUNCATION_MARKER
    return text


def config_params(config: Mapping[str, Any], choices: Mapping[str, str]) -> Dict[str, str]:
    """The params of one run.

    Args:
        config: the resolved config as plain containers, without the `hydra` node.
        choices: the config-group choices (e.g. {"data": "hello_batch"}), logged
            as plain keys; a dotted key of the config wins over a choice of the
            same name (`api`, `rnn` are both).

    Returns:
        key -> string value, each within MLflow's length limit.
    """
    params = {key: param_value(value) for key, value in choices.items() if value is not None}
    params.update({key: param_value(value) for key, value in flatten(config).items()})
    return params


def batches(items: list, size: int = MAX_PARAMS_PER_BATCH):
    """Consecutive slices of `items` of at most `size` each."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
