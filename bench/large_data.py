"""The benchmark's large data set, generated the same way for both sides:
256 sequences of 200 characters over a vocabulary of 60 characters.

`python -m rnnexp` reads it from a data config that bench/run.py writes with
`write_data_config`; bench/lesson.py calls `large_data()` directly.
"""

import json
from pathlib import Path

import numpy as np

BATCH, STEPS = 256, 200
VOCAB = tuple("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567")  # 60 tokens
SEED = 1234


def large_data(batch: int = BATCH, steps: int = STEPS):
    """Returns (vocab, sequences): deterministic for a given numpy version."""
    picks = np.random.default_rng(SEED).integers(0, len(VOCAB), size=(batch, steps))
    return list(VOCAB), ["".join(VOCAB[i] for i in row) for row in picks]


def write_data_config(conf_dir: Path, name: str = "bench_large") -> Path:
    """Writes `<conf_dir>/data/<name>.yaml` (every token quoted, so YAML reads
    none of them as a number) and returns `conf_dir`, for `--config-dir`."""
    vocab, sequences = large_data()
    path = Path(conf_dir) / "data" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"vocab: {json.dumps(vocab)}\nsequences: {json.dumps(sequences)}\n")
    return Path(conf_dir)
