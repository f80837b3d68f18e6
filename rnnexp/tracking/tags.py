"""Every tag rnnexp sets on a run, named once; and the tags that say what a
run is, so that `resume=true` can skip a point that already FINISHED: the
same resolved config (`rnnexp.config_hash`) and the same code
(`rnnexp.code_version`).

A text-file run also carries its text's hash (`rnnexp.text_hash`).
The code version is the package version plus a hash of the package's own
source files, not a git commit: it is exact (an uncommitted edit counts, an
edit to the README or the tests does not) and it works where there is no git,
e.g. an installed wheel or a cluster node. No MLflow import here.
"""

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

PARENT_TAG = "mlflow.parentRunId"  # MLflow's own: the UI nests a sweep's points under it
ROLE_TAG = "rnnexp.role"  # one of the roles below
ROLE_SINGLE, ROLE_SWEEP, ROLE_POINT = "single", "sweep", "point"
ERROR_TAG = "rnnexp.error"  # why a run FAILED or was KILLED: "Type: message"
SHAPES_TAG = "rnnexp.shapes"  # JSON {"inputs": [B, T, V], ...}: a table of runs needs no download
LENGTHS_TAG = "rnnexp.lengths"  # JSON list of each sequence's own length (cut like a long param)
RAGGED_TAG = "rnnexp.ragged"  # "true" when the sequences differ in length
OUTPUT_DIR_TAG = "rnnexp.output_dir"  # the job's Hydra folder: .hydra/ and its log
SWEEP_DIR_TAG = "rnnexp.sweep_dir"  # on a sweep's parent: the sweep's Hydra folder
JOB_LOG_TAG = "rnnexp.job_log"  # submitit's file with the job's stdout
JOB_LOG_ERR_TAG = "rnnexp.job_log_err"  # and with its stderr
MODEL_URI_TAG = "rnnexp.model_uri"  # a trained run's logged model, for mlflow.pyfunc.load_model
PREDICTED_TAG = "predicted.{}"  # a trained run's predicted next characters, per sequence
GENERATED_TAG = "rnnexp.generated"  # the text generated (prompt included), cut like a long param
SOURCE_RUN_TAG = "rnnexp.source_run_id"  # task=generate: the run that logged the model it used
SOURCE_MODEL_TAG = "rnnexp.source_model_uri"  # task=generate: that model (generate.model_uri)
CONFIG_HASH_TAG = "rnnexp.config_hash"
TEXT_HASH_TAG = "rnnexp.text_hash"  # a text-file run's text (data.text_file): resume compares it too
CODE_VERSION_TAG = "rnnexp.code_version"
IDENTITY_TAGS = (CONFIG_HASH_TAG, CODE_VERSION_TAG, TEXT_HASH_TAG)  # what resume compares, where a run has it

MAX_TAG_CHARS = 5000  # within MLflow's limit on a tag's value
NOT_IDENTITY = ("resume", "console")  # config keys that do not change what a run computes


def error_text(error: BaseException) -> str:
    """What the `rnnexp.error` tag says: "Type: message", or the type alone
    when the message is empty (Ctrl-C), within a tag's length."""
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return text[:MAX_TAG_CHARS]


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
    import rnnexp

    digest = hashlib.sha256()
    package = Path(rnnexp.__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return f"{rnnexp.__version__}+src.{digest.hexdigest()[:12]}"


def identity_tags(config: Mapping[str, Any], text: Optional[str] = None) -> Dict[str, str]:
    """The tags that identify a run for resuming; with `text`, the text file's
    contents too (the config names only its path)."""
    tags = {CONFIG_HASH_TAG: config_hash(config), CODE_VERSION_TAG: code_version()}
    if text is not None:
        tags[TEXT_HASH_TAG] = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return tags
