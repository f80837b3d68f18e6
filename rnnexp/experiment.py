"""One experiment, as plain values in and plain values out: no Hydra, no
MLflow, no files. Usable from a notebook:

    from rnnexp.experiment import Spec, run_forward
    result = run_forward(Spec(api="cell", rnn="lstm", hidden_size=2, seed=0,
                              vocab=("h", "e", "l", "o"), sequences=("hello",)))
    result.tensors["outputs"].shape  # (1, 5, 2)
"""

from dataclasses import dataclass, field
from typing import Dict, Tuple

import numpy as np

from rnnexp import model
from rnnexp.checks import run_checks
from rnnexp.encoding import Encoded, one_hot


@dataclass(frozen=True)
class Spec:
    api: str  # "cell" | "layer"
    rnn: str  # "simple_rnn" | "lstm" | "gru"
    hidden_size: int
    seed: int
    vocab: Tuple[str, ...]
    sequences: Tuple[str, ...]

    @classmethod
    def from_config(cls, cfg) -> "Spec":
        """From a composed rnnexp config (an OmegaConf node or the dataclass)."""
        return cls(
            api=_plain(cfg.api), rnn=_plain(cfg.rnn), hidden_size=int(cfg.hidden_size),
            seed=int(cfg.seed), vocab=tuple(cfg.data.vocab), sequences=tuple(cfg.data.sequences),
        )


def _plain(value) -> str:
    return getattr(value, "value", value)  # Enum members -> their string


@dataclass
class ForwardResult:
    spec: Spec
    encoded: Encoded
    # inputs (B, T, V), outputs (B, T, H), state_h (B, H), state_c (B, H) for LSTM
    tensors: Dict[str, np.ndarray]
    # kernel, recurrent_kernel, bias, as Keras names and shapes them
    weights: Dict[str, np.ndarray]
    checks: Dict[str, float] = field(default_factory=dict)

    @property
    def shapes(self) -> Dict[str, list]:
        return {name: list(array.shape) for name, array in self.tensors.items()}


def run_forward(spec: Spec) -> ForwardResult:
    """Encodes the sequences, builds the seeded RNN, runs it once, checks it.

    Raises:
        ConfigError: for a vocabulary or sequence problem, before Keras is imported.
    """
    encoded = one_hot(spec.vocab, spec.sequences)  # first, so bad input never imports Keras
    layer = model.build_rnn(spec.api, spec.rnn, spec.hidden_size, spec.seed)
    returned = model.forward(layer, spec.rnn, encoded.inputs, encoded.mask)
    tensors = {"inputs": encoded.inputs, **returned}
    return ForwardResult(
        spec=spec, encoded=encoded, tensors=tensors,
        weights=model.get_weights(layer), checks=run_checks(tensors),
    )
