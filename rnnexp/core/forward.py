"""The lesson's forward pass as plain values in and out: a `Config` in, a
checked `ForwardResult` out; no Hydra, no MLflow, no files.

    from rnnexp.config.schema import Api, Config, DataConfig, Rnn
    from rnnexp.core.forward import run_forward
    result = run_forward(Config(api=Api.cell, rnn=Rnn.lstm,
                                data=DataConfig(vocab=["h", "e", "l", "o"], sequences=["hello"])))
    result.tensors["outputs"].shape  # (1, 5, 2)
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from rnnexp.config.schema import Api, Config
from rnnexp.core import checks, keras_rnn
from rnnexp.core.encoding import Encoded, one_hot
from rnnexp.core.reference import first_cell_weights

OTHER_API = {Api.cell: Api.layer, Api.layer: Api.cell}  # the API-parity check builds the other one


@dataclass
class ForwardResult:
    config: Config  # the RNN that ran: api, rnn, hidden_size, seed; data.vocab
    sequences: List[str]  # what it ran on: config.data.sequences, or a training run's inputs
    encoded: Encoded
    # inputs (B, T, V), outputs (B, T, D*H), state_h (B, H) (+ state_c for LSTM),
    # or (L*D, B, H) each for a stack (rnnexp.core.keras_rnn.forward)
    tensors: Dict[str, np.ndarray]
    # kernel, recurrent_kernel, bias, as Keras names and shapes them; for a stack
    # prefixed "layer{l}/{forward|backward}/" (rnnexp.core.keras_rnn.get_weights)
    weights: Dict[str, np.ndarray]
    # check name -> its metric, and check name -> {tensor: max abs error}
    checks: Dict[str, float] = field(default_factory=dict)
    check_errors: Dict[str, Dict[str, float]] = field(default_factory=dict)
    # the NumPy recurrence's final states, and for LSTM cell_states (B, T, H); its
    # outputs are compared step by step, not kept (rnnexp.core.checks.reference_errors);
    # for a stack also hidden_states and cell_states (L*D, B, T, H)
    reference: Dict[str, np.ndarray] = field(default_factory=dict)
    # with config.dynamics.gradients: the gradient flow through time (rnnexp.core.dynamics.flow.GradientFlow)
    dynamics: Optional[object] = None

    @property
    def shapes(self) -> Dict[str, list]:
        return {name: list(array.shape) for name, array in self.tensors.items()}

    @property
    def metrics(self) -> Dict[str, float]:
        """What a run logs: the checks, and state_h_norm, the mean over the
        sequences of the final hidden state's length ||h_T|| (a stack's top
        layer's, both directions), a number to compare across sweep points;
        with the gradient flow, its metrics."""
        state_h = self.tensors["state_h"]
        if state_h.ndim == 3:  # a stack: the top layer's, its directions side by side (B, D*H)
            state_h = np.concatenate(list(state_h[-self.config.directions:]), axis=-1)
        norm = float(np.linalg.norm(state_h, axis=-1).mean())
        return {**self.checks, "state_h_norm": norm, **(self.dynamics.metrics if self.dynamics else {})}


def run_forward(config: Config) -> ForwardResult:
    """Encodes the sequences, builds the seeded RNN, runs it once, checks it."""
    return check_forward(forward_pass(config))


def forward_pass(config: Config) -> ForwardResult:
    """`run_forward` without the checks (`check_forward` adds them): its
    tensors and weights are final, its checks still empty."""
    encoded = one_hot(config.data.vocab, config.data.sequences)
    layer = keras_rnn.build_rnn(config.api, config.rnn, config.hidden_size, config.seed,
                                num_layers=config.num_layers, bidirectional=config.bidirectional)
    return run_layer(config, layer, list(config.data.sequences), encoded)


def run_layer(config: Config, layer, sequences: List[str], encoded: Encoded) -> ForwardResult:
    """Runs a recurrent layer built as `config` says (seeded or trained) on
    `encoded`, the encoding of `sequences`; the result is not checked yet."""
    returned = keras_rnn.forward(layer, config.rnn, encoded.inputs, encoded.mask)
    return ForwardResult(config=config, sequences=sequences, encoded=encoded,
                         tensors={"inputs": encoded.inputs, **returned}, weights=keras_rnn.get_weights(layer))


def check_forward(result: ForwardResult) -> ForwardResult:
    """Recomputes `result.tensors` from its inputs and weights in two
    independent ways, the NumPy reference and the other Keras API, and fills
    in `result.reference`, `result.check_errors` and `result.checks`.

    It reads only what a run records (inputs, mask, weights), never the layer
    that produced the outputs: a weight altered after the forward pass shows
    up here as a divergence.
    """
    config, inputs, mask = result.config, result.tensors["inputs"], result.encoded.mask
    # the other API first: its tensors are dropped before the reference's are made
    twin = keras_rnn.build_rnn(OTHER_API[config.api], config.rnn, config.hidden_size, initialized=False,
                               num_layers=config.num_layers, bidirectional=config.bidirectional)
    keras_rnn.set_weights(twin, result.weights, inputs.shape)
    parity = checks.tensor_errors(result.tensors, keras_rnn.forward(twin, config.rnn, inputs, mask))
    del twin
    reference, result.reference = checks.reference_errors(result.tensors, config.rnn, inputs, result.weights, mask,
                                                          config.num_layers, config.directions)
    result.check_errors = {
        checks.REFERENCE: reference,
        checks.API_PARITY: parity,
        checks.LAST_OUTPUT: checks.last_output_errors(result.tensors, result.encoded.lengths, config.directions),
    }
    if config.dynamics.gradients:  # the first layer's forward direction of a deep run
        from rnnexp.core.dynamics.flow import JACOBIAN_NAME, forward_gradient_flow

        result.dynamics = forward_gradient_flow(config.rnn, first_cell_weights(result.weights), inputs,
                                                result.encoded.lengths, config.dynamics.max_sequences)
        result.check_errors[checks.DYNAMICS] = {JACOBIAN_NAME: result.dynamics.max_rel_err}
    result.checks = checks.check_metrics(result.check_errors)
    return result
