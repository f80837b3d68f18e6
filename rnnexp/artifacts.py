"""Writes a forward result as the files a run records, into one folder.

Every path here is a fixed name or built from an index, never from config text,
so no config value can steer a file outside the folder. Layout (a contract):

    shapes.json                      {"inputs": [B,T,V], "outputs": [B,T,H], "state_h": [B,H], ...}
    tensors/<name>.npy               inputs, outputs, state_h (+ state_c), float32
    tensors/lengths.npy              each sequence's own length (B,) int64
    weights/<name>.npy               kernel, recurrent_kernel, bias
    tables/states.csv                one row per sequence and step, for the UI's table view
    config.yaml                      the full resolved config
"""

import json
from pathlib import Path
from typing import Dict, Sequence

import numpy as np

# The table is for reading, not for analysis (the .npy files are exact): it
# keeps the first rows and units of large runs, so writing it stays cheap.
TABLE_MAX_SEQUENCES = 32
TABLE_MAX_UNITS = 16


def states_table(sequences: Sequence[str], tensors: Dict[str, np.ndarray], lengths: np.ndarray):
    """A pandas DataFrame: sequence, text, step, char, then h0.. for each real
    step of each sequence (padding left out), of the first
    TABLE_MAX_SEQUENCES sequences and TABLE_MAX_UNITS units."""
    import pandas as pd

    rows = min(len(sequences), TABLE_MAX_SEQUENCES)
    units = min(tensors["outputs"].shape[-1], TABLE_MAX_UNITS)
    counts = [int(n) for n in lengths[:rows]]
    # one column at a time over all rows: a frame per sequence cost 20 ms each
    columns = {
        "sequence": np.repeat(np.arange(rows), counts),
        "text": np.repeat(np.asarray(sequences[:rows], dtype=object), counts),
        "step": np.concatenate([np.arange(n) for n in counts]) if rows else np.arange(0),
        "char": [c for b in range(rows) for c in sequences[b][:counts[b]]],
    }
    states = tensors["outputs"]
    steps = np.concatenate([states[b, :n, :units] for b, n in enumerate(counts)]) if rows else states[:0, 0, :units]
    columns.update({f"h{u}": steps[:, u] for u in range(units)})
    return pd.DataFrame(columns).round(6)


def table_inputs(sequences: Sequence[str], tensors: Dict[str, np.ndarray], lengths: np.ndarray):
    """The part of a run's (sequences, tensors, lengths) that `states_table`
    reads, for `write_tables`: a few kB, whatever the run's size."""
    rows = slice(0, TABLE_MAX_SEQUENCES)
    return list(sequences[rows]), {"outputs": tensors["outputs"][rows, :, :TABLE_MAX_UNITS]}, np.asarray(lengths)[rows]


def write_forward_artifacts(folder: Path, sequences: Sequence[str], tensors: Dict[str, np.ndarray],
                            weights: Dict[str, np.ndarray], lengths: np.ndarray, config_yaml: str) -> Path:
    """Writes the layout above, plus the resolved config as `config.yaml`, into
    `folder` (created) and returns it. With `weights` empty, `weights/` is
    left for `write_weights`. The same as `write_tensors`, `write_tables` and
    `write_weights` into one folder."""
    write_tensors(folder, tensors, lengths)
    write_tables(folder, *table_inputs(sequences, tensors, lengths), config_yaml)
    if weights:
        write_weights(folder, weights)
    return Path(folder)


def write_tensors(folder: Path, tensors: Dict[str, np.ndarray], lengths: np.ndarray) -> Path:
    """Writes `shapes.json` and `tensors/` into `folder` and returns it."""
    folder = Path(folder)
    (folder / "tensors").mkdir(parents=True, exist_ok=True)
    shapes = {name: list(array.shape) for name, array in tensors.items()}
    (folder / "shapes.json").write_text(json.dumps(shapes) + "\n")
    for name, array in tensors.items():
        np.save(folder / "tensors" / f"{name}.npy", array)
    np.save(folder / "tensors" / "lengths.npy", np.asarray(lengths))
    return folder


def write_tables(folder: Path, sequences: Sequence[str], tensors: Dict[str, np.ndarray], lengths: np.ndarray,
                 config_yaml: str) -> Path:
    """Writes `tables/states.csv` and `config.yaml` into `folder` and returns
    it; `table_inputs` gives all it needs of a large run."""
    folder = Path(folder)
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(config_yaml)
    states_table(sequences, tensors, lengths).to_csv(folder / "tables" / "states.csv", index=False)
    return folder


def write_weights(folder: Path, weights: Dict[str, np.ndarray]) -> Path:
    """Writes `weights/<name>.npy` into `folder` and returns it."""
    (Path(folder) / "weights").mkdir(parents=True, exist_ok=True)
    for name, array in weights.items():
        np.save(Path(folder) / "weights" / f"{name}.npy", array)
    return Path(folder)
