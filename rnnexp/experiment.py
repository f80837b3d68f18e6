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

from rnnexp import checks, model
from rnnexp.encoding import Encoded, one_hot


OTHER_API = {"cell": "layer", "layer": "cell"}  # the API-parity check builds the other one


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
    # check name -> its metric, and check name -> {tensor: max abs error}
    checks: Dict[str, float] = field(default_factory=dict)
    check_errors: Dict[str, Dict[str, float]] = field(default_factory=dict)
    # the NumPy recurrence's final states, and for LSTM cell_states (B, T, H); its
    # outputs are compared step by step, not kept (rnnexp.checks.reference_errors)
    reference: Dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def shapes(self) -> Dict[str, list]:
        return {name: list(array.shape) for name, array in self.tensors.items()}

    @property
    def metrics(self) -> Dict[str, float]:
        """What a run logs: the checks, and state_h_norm, the mean over the
        sequences of the final hidden state's length ||h_T||, a number to
        compare across sweep points."""
        norm = float(np.linalg.norm(self.tensors["state_h"], axis=-1).mean())
        return {**self.checks, "state_h_norm": norm}


def run_forward(spec: Spec) -> ForwardResult:
    """Encodes the sequences, builds the seeded RNN, runs it once, checks it.

    Raises:
        ConfigError: for a vocabulary or sequence problem, before Keras is imported.
    """
    return check_forward(forward_pass(spec))


def forward_pass(spec: Spec) -> ForwardResult:
    """`run_forward` without the checks (`check_forward` adds them): its
    tensors and weights are final, its checks still empty.

    Raises:
        ConfigError: for a vocabulary or sequence problem, before Keras is imported.
    """
    encoded = one_hot(spec.vocab, spec.sequences)  # first, so bad input never imports Keras
    layer = model.build_rnn(spec.api, spec.rnn, spec.hidden_size, spec.seed)
    returned = model.forward(layer, spec.rnn, encoded.inputs, encoded.mask)
    return ForwardResult(spec=spec, encoded=encoded, tensors={"inputs": encoded.inputs, **returned},
                         weights=model.get_weights(layer))


def check_forward(result: ForwardResult) -> ForwardResult:
    """Recomputes `result.tensors` from its inputs and weights in two
    independent ways, the NumPy reference and the other Keras API, and fills
    in `result.reference`, `result.check_errors` and `result.checks`.

    It reads only what a run records (inputs, mask, weights), never the layer
    that produced the outputs: a weight altered after the forward pass shows
    up here as a divergence.
    """
    spec, inputs, mask = result.spec, result.tensors["inputs"], result.encoded.mask
    # the other API first: its tensors are dropped before the reference's are made
    twin = model.build_rnn(OTHER_API[spec.api], spec.rnn, spec.hidden_size, initialized=False)
    model.set_weights(twin, result.weights, inputs.shape)
    parity = checks.tensor_errors(result.tensors, model.forward(twin, spec.rnn, inputs, mask))
    del twin
    reference, result.reference = checks.reference_errors(result.tensors, spec.rnn, inputs, result.weights, mask)
    result.check_errors = {
        checks.REFERENCE: reference,
        checks.API_PARITY: parity,
        checks.LAST_OUTPUT: checks.last_output_errors(result.tensors),
    }
    result.checks = checks.check_metrics(result.check_errors)
    return result
