"""Writes a forward result as the files a run records, into one folder.

Every path here is a fixed name or built from an index, never from config text,
so no config value can steer a file outside the folder. Layout (a contract,
docs/artifacts.md):

    shapes.json                      {"inputs": [B,T,V], "outputs": [B,T,H], "state_h": [B,H], ...}
                                     a stack: outputs [B,T,D*H], states [L*D,B,H], "num_layers", "directions"
    tensors/<name>.npy               inputs, outputs, state_h (+ state_c), float32
    tensors/lengths.npy              each sequence's own length (B,) int64
    weights/<name>.npy               kernel, recurrent_kernel, bias
    weights/layer<l>/<direction>/<name>.npy   the same per layer and direction, for a stack
    tables/states.csv                one row per sequence and step, for the UI's table view
    config.yaml                      the full resolved config
"""

import json
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from rnnexp.record.console import shortened

# The table is for reading, not for analysis (the .npy files are exact): it
# keeps the first rows and units of large runs, so writing it stays cheap.
TABLE_MAX_SEQUENCES = 32
TABLE_MAX_UNITS = 16
TABLE_MAX_TEXT = 40  # characters of a sequence's text column


def write_forward_files(folder: Path, tensors: Dict[str, np.ndarray], lengths: np.ndarray,
                        weights: Dict[str, np.ndarray], config_yaml: str, stack: Optional[Dict[str, int]] = None
                        ) -> Path:
    """Writes shapes.json, tensors/, weights/ and config.yaml into `folder`
    (created) and returns it; the states table is `write_states_table`'s.

    Args:
        weights: name -> array; a name "layer0/forward/kernel" is written
            under weights/layer0/forward/ (names are rnnexp.core.keras_rnn's).
        stack: {"num_layers": L, "directions": D}, added to shapes.json for a
            stack; None for one layer in one direction.
    """
    folder = Path(folder)
    for sub in ("tensors", "weights"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    shapes = {**{name: list(array.shape) for name, array in tensors.items()}, **(stack or {})}
    (folder / "shapes.json").write_text(json.dumps(shapes) + "\n")
    for name, array in tensors.items():
        np.save(folder / "tensors" / f"{name}.npy", array)
    np.save(folder / "tensors" / "lengths.npy", np.asarray(lengths))
    for name, array in weights.items():
        path = folder / "weights" / f"{name}.npy"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, array)
    (folder / "config.yaml").write_text(config_yaml)
    return folder


def states_table(sequences: Sequence[str], outputs: np.ndarray, lengths: np.ndarray):
    """A pandas DataFrame: sequence, text, step, char, then h0.. for each real
    step of each sequence (padding left out), of the first
    TABLE_MAX_SEQUENCES sequences and TABLE_MAX_UNITS units.

    Args:
        outputs: (B, T, H) hidden state after every step.
    """
    import pandas as pd

    rows = min(len(sequences), TABLE_MAX_SEQUENCES)
    units = min(outputs.shape[-1], TABLE_MAX_UNITS)
    counts = [int(n) for n in lengths[:rows]]
    # one column at a time over all rows: a frame per sequence cost 20 ms each
    columns = {
        "sequence": np.repeat(np.arange(rows), counts),
        # cut: the whole sequence on every one of its steps would grow with the square of its length
        "text": np.repeat(np.asarray([shortened(s, TABLE_MAX_TEXT) for s in sequences[:rows]], dtype=object), counts),
        "step": np.concatenate([np.arange(n) for n in counts]) if rows else np.arange(0),
        "char": [c for b in range(rows) for c in sequences[b][:counts[b]]],
    }
    steps = np.concatenate([outputs[b, :n, :units] for b, n in enumerate(counts)]) if rows else outputs[:0, 0, :units]
    columns.update({f"h{u}": steps[:, u] for u in range(units)})
    return pd.DataFrame(columns).round(6)


def table_inputs(sequences: Sequence[str], outputs: np.ndarray, lengths: np.ndarray) -> Tuple[list, np.ndarray,
                                                                                                np.ndarray]:
    """The part of a run's (sequences, outputs, lengths) that `states_table`
    reads: a few kB, whatever the run's size, to hand to `write_states_table`."""
    rows = slice(0, TABLE_MAX_SEQUENCES)
    return list(sequences[rows]), np.array(outputs[rows, :, :TABLE_MAX_UNITS]), np.array(lengths[rows])


def write_states_table(folder: Path, sequences: Sequence[str], outputs: np.ndarray, lengths: np.ndarray) -> Path:
    """Writes `tables/states.csv` into `folder` and returns its path."""
    path = Path(folder) / "tables" / "states.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    states_table(sequences, outputs, lengths).to_csv(path, index=False)
    return path
