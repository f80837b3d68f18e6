"""Checks of what the libraries below would refuse or could not afford, made
before any of them is imported (standard library only): the seed's range,
the memory a run needs against what the machine has, and the MLflow
settings that MLflow itself would refuse only once opened.
"""

import os
import re
from importlib.metadata import entry_points
from typing import Optional

from rnnexp.errors import ConfigError

SEED_MAX = 2 ** 32 - 1  # NumPy's and Python's seeding through keras.utils.set_random_seed
EXPERIMENT_NAME_MAX = 500  # MLflow's MAX_EXPERIMENT_NAME_LENGTH
GATES = {"simple_rnn": 1, "gru": 3, "lstm": 4}  # weight blocks per cell
# Bytes per weight, counted generously: Keras's float32 weights and their
# initializers' work arrays (orthogonal: a QR), the NumPy reference's float64 copy.
BYTES_PER_WEIGHT = 32
BYTES_PER_STEP_VALUE = 48  # per step and unit: outputs and states in float32, the reference's float64, the tables
# MLflow's own tracking-store schemes; plugins add theirs through this entry point group.
MLFLOW_SCHEMES = {"http", "https", "sqlite", "postgresql", "mysql", "mssql", "databricks", "databricks-uc", "uc"}
STORE_PLUGINS = "mlflow.tracking_store"


def check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise ConfigError("seed", seed, f"an integer from 0 to {SEED_MAX} (2**32 - 1)",
                          "NumPy's and Python's generators are seeded with it")


def memory_needed(rnn: str, hidden_size: int, vocab_size: int, steps: int, cells: int = 1) -> int:
    """Bytes a run needs, roughly and on the safe side: its weights, and its
    outputs and states over `steps` (sequences times length), for each of
    `cells` cells (num_layers x directions; a layer above the first reads
    D*H features, so 2*H is counted per cell beside the vocabulary)."""
    width = vocab_size if cells == 1 else vocab_size + 2 * hidden_size
    weights = GATES.get(rnn, 4) * hidden_size * (width + hidden_size + 1)
    return cells * (weights * BYTES_PER_WEIGHT + steps * (hidden_size + width) * BYTES_PER_STEP_VALUE)


def available_memory() -> Optional[int]:
    """Bytes the machine can give a new process now (MemAvailable), None if unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(rnn: str, hidden_size: int, vocab_size: int, steps: int, cells: int = 1) -> None:
    """ConfigError if the run would need more memory than the machine has available."""
    needed, available = memory_needed(rnn, hidden_size, vocab_size, steps, cells), available_memory()
    if available is not None and needed > available:
        raise ConfigError("hidden_size", hidden_size, "a size whose run fits in memory",
                          f"a {rnn} of {hidden_size} units over {vocab_size} tokens and {steps} steps needs about "
                          f"{needed / 2 ** 30:.1f} GiB; this machine has {available / 2 ** 30:.1f} GiB available")


def check_experiment_name(name) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > EXPERIMENT_NAME_MAX:
        raise ConfigError("mlflow.experiment_name", name, f"a non-empty name of at most {EXPERIMENT_NAME_MAX} "
                          "characters", f"it has {len(name)}" if isinstance(name, str) and name.strip() else "")


def check_tracking_uri(uri) -> None:
    """A URI MLflow can open a tracking store at: None (MLflow's default), a
    server, or a database (a scheme an installed plugin adds counts too)."""
    if uri is None:
        return
    scheme = re.match(r"([A-Za-z][A-Za-z0-9.+-]*)://", uri) if isinstance(uri, str) else None
    kind = scheme.group(1).split("+")[0].lower() if scheme else ""
    if kind in MLFLOW_SCHEMES or kind in {point.name for point in entry_points(group=STORE_PLUGINS)}:
        return
    if kind in ("", "file"):
        raise ConfigError("mlflow.tracking_uri", uri, "a database or server URI, e.g. sqlite:///mlflow.db",
                          "MLflow 3 keeps the file store (a folder, file://) in maintenance mode and refuses it "
                          "for new runs; `mlflow migrate-filestore` moves one into a database")
    raise ConfigError("mlflow.tracking_uri", uri, f"a URI whose scheme is one of {sorted(MLFLOW_SCHEMES)}",
                      f"no MLflow tracking store knows {kind!r}")
