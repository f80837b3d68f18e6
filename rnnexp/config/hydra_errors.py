"""Why Hydra could not compose a command's config, or OmegaConf resolve it, in one line.

Hydra reports a bad override (`hidden_size=two`, `rnn=bar`, `foo=1`) in
several lines and exits 1; rnnexp reports every config mistake the same way,
`rnnexp: error: <key>=<value>: <what was expected>`, and exits 2. The CLI asks
Hydra to raise these errors (its HYDRA_FULL_ERROR switch) and describes them here.
"""

from hydra.errors import CompactHydraException, MissingConfigException
from omegaconf.errors import OmegaConfBaseException

# The errors that mean "the config is wrong", not "rnnexp failed".
CONFIG_ERRORS = (CompactHydraException, OmegaConfBaseException)


def _lines(text) -> list:
    return [line.strip() for line in str(text).splitlines() if line.strip()]


def describe_config_error(error: BaseException) -> str:
    """One line naming the override (key and value as typed) and what was
    expected, e.g. "rnn=bar: no option 'bar' in group 'rnn'; expected one of
    gru, lstm, simple_rnn".

    Args:
        error: one of CONFIG_ERRORS, as Hydra raised it while composing.
    """
    lines = _lines(error) or [type(error).__name__]
    if isinstance(error, MissingConfigException) and error.missing_cfg_file and error.options is not None:
        group, _, option = str(error.missing_cfg_file).rpartition("/")
        if group:
            return (f"{group}={option}: no option {option!r} in group {group!r}; "
                    f"expected one of {', '.join(sorted(error.options))}")
    if lines[0].startswith("Could not override '"):  # an unknown key; Hydra's next line names the fix
        key = lines[0].split("'")[1]
        hint = lines[1].removeprefix("To append to your config use ") if len(lines) > 1 else f"+{key}=..."
        return f"{key}: not a key of the config (to add a new key, write {hint})"
    cause = error.__cause__ if isinstance(error.__cause__, OmegaConfBaseException) else None
    detail = (_lines(getattr(cause, "msg", None) or cause) or [""])[0] if cause is not None else ""
    if lines[0].startswith("Error merging override ") and detail:
        return f"{lines[0].removeprefix('Error merging override ')}: {detail}"
    return "; ".join([lines[0]] + ([detail] if detail and detail not in lines[0] else []))


def resolved(cfg) -> dict:
    """`cfg` as plain containers, every interpolation resolved.

    Raises:
        ConfigError: naming the key and its interpolation, for one that does
            not resolve (`${oc.env:NOT_SET}`, a key that is not there).
    """
    from omegaconf import OmegaConf

    from rnnexp.errors import ConfigError

    try:
        return OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    except OmegaConfBaseException as error:
        key = error.full_key or "config"
        raw = _raw_value(OmegaConf.to_container(cfg, resolve=False), key)
        raise ConfigError(key, raw, "a value that resolves", _lines(error.msg or error)[0]) from None


def _raw_value(plain, key: str):
    """The value at `key` ("data.sequences[0]") of unresolved containers, or "?"."""
    node = plain
    for part in key.replace("[", ".").replace("]", "").split("."):
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            return "?"
    return node
