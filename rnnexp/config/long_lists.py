"""A line on stderr before a command line's long list is composed.

Hydra's override parser takes time growing with the square of a list's
items (its list visitor looks each element up from the first one): on a
2-core machine 3000 items take about 0.7 s, 20000 about 30 s (one argument
holds at most 128 KiB: some 30000 to 60000 items), in silence. OmegaConf then
builds a node per item (about 0.2 ms each), as it does for a list in a config
file, which skips the parser's square. `long_list_note` says so first.
"""

from typing import Optional, Sequence

from rnnexp.config.typed_overrides import split_top_level

ANNOUNCE_FROM = 3000  # items in one list: from here on, composing takes a second or more
PARSE_SECONDS_PER_ITEM_SQUARED = 8e-8  # measured: 2000 to 20000 items, `--cfg job`
NODE_SECONDS_PER_ITEM = 2e-4  # OmegaConf's node per item (a config file's 200000 items: 39 s)


def long_list_note(arguments: Sequence[str]) -> Optional[str]:
    """The line to print for the longest list among the command line's
    `arguments` (`key=[a,b,...]`, or a sweep's lists), None under ANNOUNCE_FROM items."""
    longest, where = 0, None
    for argument in arguments:
        key, equals, value = argument.lstrip("+~").partition("=")
        if not equals or value.count(",") + 1 < ANNOUNCE_FROM:  # cheap bound first: most arguments are short
            continue
        for part in split_top_level(value):
            part = part.strip()
            items = len(split_top_level(part[1:-1])) if part.startswith("[") and part.endswith("]") else 0
            if items > longest:
                longest, where = items, key
    if longest < ANNOUNCE_FROM:
        return None
    seconds = PARSE_SECONDS_PER_ITEM_SQUARED * longest ** 2 + NODE_SECONDS_PER_ITEM * longest
    return (f"rnnexp: composing the config: {where} has {longest} items (about {_duration(seconds)}: Hydra's "
            f"override parser takes time growing with the square of a list's items, and OmegaConf builds one node "
            f"per item; a config file such as conf/data/<name>.yaml skips the square)")


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
