"""What a run prints: the lesson's inputs, outputs and states with their
shapes, summarised rather than dumped when large."""

import numpy as np

from rnnexp.experiment import ForwardResult

# Beyond this many numbers NumPy prints the corners with "..." between.
SUMMARY_THRESHOLD = 200


def format_tensor(name: str, array: np.ndarray) -> str:
    with np.printoptions(precision=4, suppress=True, threshold=SUMMARY_THRESHOLD, edgeitems=2):
        body = np.array2string(array, prefix="  ")
    return f"{name}: shape {tuple(array.shape)}\n  {body}"


def describe(result: ForwardResult) -> str:
    spec = result.spec
    lines = [
        f"rnnexp: {spec.api} API, {spec.rnn}, hidden_size={spec.hidden_size}, seed={spec.seed}",
        f"vocab {list(spec.vocab)}; sequences {_short(list(spec.sequences))}",
    ]
    lines += [format_tensor(name, array) for name, array in result.tensors.items()]
    lines += [f"{name} = {value:.3g}" for name, value in result.checks.items()]
    return "\n".join(lines)


def _short(items: list, limit: int = 8) -> str:
    return str(items) if len(items) <= limit else f"{items[:limit]} ... ({len(items)} in all)"
