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
    """A pandas DataFrame: sequence, step, char, then h0.. (and c0.. for LSTM)
    for each real step of each sequence (padding left out)."""
    import pandas as pd

    rows = min(len(sequences), TABLE_MAX_SEQUENCES)
    units = min(tensors["outputs"].shape[-1], TABLE_MAX_UNITS)
    frames = []
    for b in range(rows):
        n = int(lengths[b])
        frame = pd.DataFrame({"sequence": b, "text": sequences[b], "step": np.arange(n), "char": list(sequences[b])})
        for u in range(units):
            frame[f"h{u}"] = tensors["outputs"][b, :n, u]
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    return table.round(6)


def write_forward_artifacts(folder: Path, sequences: Sequence[str], tensors: Dict[str, np.ndarray],
                            weights: Dict[str, np.ndarray], lengths: np.ndarray, config_yaml: str) -> Path:
    """Writes the layout above, plus the resolved config as `config.yaml`, into
    `folder` (created) and returns it. With `weights` empty, `weights/` is
    left for `write_weights`."""
    folder = Path(folder)
    (folder / "config.yaml").write_text(config_yaml)
    for sub in ("tensors", "tables"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    shapes = {name: list(array.shape) for name, array in tensors.items()}
    (folder / "shapes.json").write_text(json.dumps(shapes) + "\n")
    for name, array in tensors.items():
        np.save(folder / "tensors" / f"{name}.npy", array)
    np.save(folder / "tensors" / "lengths.npy", np.asarray(lengths))
    if weights:
        write_weights(folder, weights)
    states_table(sequences, tensors, lengths).to_csv(folder / "tables" / "states.csv", index=False)
    return folder


def write_weights(folder: Path, weights: Dict[str, np.ndarray]) -> Path:
    """Writes `weights/<name>.npy` into `folder` and returns it."""
    (Path(folder) / "weights").mkdir(parents=True, exist_ok=True)
    for name, array in weights.items():
        np.save(Path(folder) / "weights" / f"{name}.npy", array)
    return Path(folder)
