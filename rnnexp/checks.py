"""Checks of a forward pass, each a number logged as an MLflow metric named
`check.<what>`: 0 up to float error when the claim holds."""

from typing import Dict

import numpy as np


def last_output_vs_state(tensors: Dict[str, np.ndarray]) -> float:
    """The lesson's claim: the last output step is the final hidden state.

    Returns max |outputs[:, -1] - state_h|. With masking Keras carries the last
    real output over the padding, so this holds for ragged batches too.
    """
    return float(np.max(np.abs(tensors["outputs"][:, -1] - tensors["state_h"])))


def run_checks(tensors: Dict[str, np.ndarray]) -> Dict[str, float]:
    """All checks for one forward pass, as metric name -> value."""
    return {"check.last_output_state_max_abs_err": last_output_vs_state(tensors)}
