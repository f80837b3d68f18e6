"""Command-line values of text settings kept exactly as typed, or refused.

Hydra's override grammar reads an unquoted `+1` as the int 1, `1_0` as 10,
`1e1` as 10.0, `true` as True, and strips the spaces around an unquoted
value; a text setting (`data.sequences`, `data.vocab`, `generate.prompt`,
...) then holds '1', '10', '10.0', 'True' or 'a': something else than was
typed would run. `check_kept_as_typed` compares, for every text setting an
override sets, each value Hydra's parser made with the text typed for it,
and raises a ConfigError that says how to quote it when they differ.

Hydra's parser takes time growing with the square of a list's items (its
list visitor looks each element up from the first: 20000 items, 30 s), so a
list a run has composed is compared with the composed values instead of
being parsed again; only an item found changed is parsed, alone, to say how.
"""

import dataclasses
import typing
from typing import Callable, List, Optional, Sequence

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep
from omegaconf import DictConfig, ListConfig, OmegaConf

from rnnexp.config.schema import Config
from rnnexp.errors import ConfigError

QUOTES = ("'", '"')


def check_kept_as_typed(overrides: Sequence[str], composed: Optional[DictConfig] = None,
                        parse: Optional[Callable] = None) -> None:
    """Raises ConfigError for the first value of a text setting that Hydra's
    parser changed (a sweep's choices each count: `a,+1`).

    Args:
        overrides: the overrides as typed.
        composed: the config Hydra composed from exactly these overrides (a
            run's, not a sweep's), whose lists then need no second parse.
        parse: a line -> its parsed Override (a sweep's, which parses each
            line once); Hydra's parser by default.
    """
    parser = OverridesParser.create()
    parse = parse or (lambda line: parser.parse_overrides([line])[0])
    last = {line.lstrip("+~").partition("=")[0]: index for index, line in enumerate(overrides)}
    for index, line in enumerate(overrides):
        key, _, typed = line.lstrip("+~").partition("=")
        kind = text_kind(key)
        if kind is None or "${" in typed or "\\" in typed:  # interpolations and escapes are Hydra's to read
            continue
        if kind == "list" and isinstance(composed, DictConfig) and last[key] == index and not line.startswith("~"):
            if len(split_top_level(typed)) == 1:  # one list, not a sweep's choices: what runs is in `composed`
                _compare_composed(key, typed, OmegaConf.select(composed, key), line, parser)
                continue
        try:
            override = parse(line)
        except Exception:  # noqa: BLE001  composing reports a syntax error in one line
            continue
        value = override.value()
        choices = value.list if isinstance(value, ChoiceSweep) else [value] if not override.is_sweep_override() else []
        texts = split_top_level(typed) if isinstance(value, ChoiceSweep) else [typed]
        if len(texts) != len(choices):
            continue
        for text, parsed in zip(texts, choices):
            if kind == "list" and isinstance(parsed, list):
                items = split_top_level(text.strip()[1:-1]) if text.strip().startswith("[") else []
                if len(items) == len(parsed):
                    for index, (item, element) in enumerate(zip(items, parsed)):
                        _compare(f"{key}[{index}]", item.strip(), element, line)
            elif kind == "text":
                _compare(key, text, parsed, line)


def _compare_composed(key: str, typed: str, values, line: str, parser) -> None:
    """The typed items of the list `typed` against the list composed from it."""
    values = OmegaConf.to_container(values, resolve=False) if isinstance(values, ListConfig) else values
    items = split_top_level(typed.strip()[1:-1]) if typed.strip().startswith("[") else []
    if not isinstance(values, list) or len(items) != len(values):
        return
    for index, (item, value) in enumerate(zip(items, values)):
        item = item.strip()
        if isinstance(value, str) and value != _unquoted(item):  # parsed alone, to say what Hydra made of it
            (element,) = parser.parse_overrides([f"{key}=[{item}]"])[0].value()
            _compare(f"{key}[{index}]", item, element, line)


def _unquoted(typed: str) -> str:
    return typed[1:-1] if len(typed) >= 2 and typed[0] == typed[-1] and typed[0] in QUOTES else typed


def _compare(key: str, typed: str, parsed, line: str) -> None:
    if parsed is None or isinstance(parsed, (list, dict)):
        return
    if str(parsed) == _unquoted(typed):
        return
    what = f"the {type(parsed).__name__} {parsed!r}" if not isinstance(parsed, str) else repr(parsed)
    quoted = line.replace(typed, f'"{typed}"', 1) if '"' not in typed else line.replace(typed, f"'{typed}'", 1)
    raise ConfigError(key, typed, "a value kept as typed",
                      f"Hydra's command-line parser reads it as {what}, which would run {str(parsed)!r}; "
                      f"quote it to keep it: '{quoted}'")


def text_kind(key: str) -> Optional[str]:
    """"text" for a setting of type str, "list" for a list of str, else None
    (numbers, switches, groups: Hydra's reading is what they mean)."""
    kind = Config
    for part in key.split("."):
        fields = {f.name: f for f in dataclasses.fields(kind)} if dataclasses.is_dataclass(kind) else {}
        if part not in fields:
            return None
        kind = typing.get_type_hints(kind)[part]
        if typing.get_origin(kind) is typing.Union:  # Optional[X]
            kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    if kind is str:
        return "text"
    if typing.get_origin(kind) in (list, List) and typing.get_args(kind) == (str,):
        return "list"
    return None


def split_top_level(text: str) -> List[str]:
    """`text` cut at its commas outside brackets and quotes."""
    parts, depth, quote, current = [], 0, None, ""
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in QUOTES:
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    return parts + [current]
