"""What makes two runs "the same", so that `resume=true` can skip a point that
already FINISHED: the same resolved config and the same code.

Every run is tagged with both (`rnnexp.config_hash`, `rnnexp.code_version`).

The code version is the package version plus a hash of the package's own
source files, not a git commit: it is exact (an uncommitted edit counts, an
edit to the README or the tests does not) and it works where there is no git,
e.g. an installed wheel or a cluster node. The config hash covers the resolved
config without `resume` itself; Hydra's own settings (output folders, launcher)
are not part of the job's config, so they never change it.
"""

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Mapping

import rnnexp

CONFIG_HASH_TAG = "rnnexp.config_hash"
CODE_VERSION_TAG = "rnnexp.code_version"
NOT_IDENTITY = ("resume",)  # config keys that do not change what a run computes


def config_hash(config: Mapping[str, Any]) -> str:
    """A short, stable hash of a resolved config given as plain containers.

    Args:
        config: e.g. `OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)`.

    Returns:
        16 hex digits; equal for configs equal up to key order and `resume`.
    """
    identity = {key: value for key, value in config.items() if key not in NOT_IDENTITY}
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@lru_cache(maxsize=None)
def code_version() -> str:
    """"<package version>+src.<12 hex digits>", the digits hashing every .py file
    of the package (name and content, in name order)."""
    digest = hashlib.sha256()
    package = Path(rnnexp.__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return f"{rnnexp.__version__}+src.{digest.hexdigest()[:12]}"


def identity_tags(config: Mapping[str, Any]) -> Dict[str, str]:
    """The tags that identify a run for resuming."""
    return {CONFIG_HASH_TAG: config_hash(config), CODE_VERSION_TAG: code_version()}
