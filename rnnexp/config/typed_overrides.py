"""Command-line values of text settings kept exactly as typed, or refused.

Hydra's override grammar reads an unquoted `+1` as the int 1, `1_0` as 10,
`1e1` as 10.0, `true` as True, and strips the spaces around an unquoted
value; a text setting (`data.sequences`, `data.vocab`, `generate.prompt`,
...) then holds '1', '10', '10.0', 'True' or 'a': something else than was
typed would run. `check_kept_as_typed` compares, for every text setting an
override sets, each value Hydra's parser made with the text typed for it,
and raises a ConfigError that says how to quote it when they differ.
"""

import dataclasses
import typing
from typing import List, Optional, Sequence

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep

from rnnexp.config.schema import Config
from rnnexp.errors import ConfigError

QUOTES = ("'", '"')


def check_kept_as_typed(overrides: Sequence[str]) -> None:
    """Raises ConfigError for the first value of a text setting that Hydra's
    parser changed (a sweep's choices each count: `a,+1`)."""
    parser = OverridesParser.create()
    for line in overrides:
        key, _, typed = line.lstrip("+~").partition("=")
        kind = text_kind(key)
        if kind is None or "${" in typed or "\\" in typed:  # interpolations and escapes are Hydra's to read
            continue
        try:
            (override,) = parser.parse_overrides([line])
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


def _compare(key: str, typed: str, parsed, line: str) -> None:
    if parsed is None or isinstance(parsed, (list, dict)):
        return
    kept = typed[1:-1] if len(typed) >= 2 and typed[0] == typed[-1] and typed[0] in QUOTES else typed
    if str(parsed) == kept:
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
