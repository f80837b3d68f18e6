"""What a run prints: the lesson's inputs, outputs and states with their
shapes (summarised rather than dumped when large), and for a training run
its settings, a few epochs and the predictions; a sweep's point prints one
line (`point_line`).

`say` prints through the logger `rnnexp.console` when Hydra's job logging
has set it up (rnnexp/conf/hydra/job_logging/rnnexp.yaml: plain on the
console, time-stamped in the job's rnnexp.log), else with print (a notebook)."""

import logging
import sys
import time
from typing import Mapping, Optional

from rnnexp.store_uri import without_passwords

# Beyond this many numbers NumPy prints the corners with "..." between.
SUMMARY_THRESHOLD = 200
# Epochs printed for a training run, spread evenly from the first to the last.
PRINTED_EPOCHS = 8
MAX_GENERATED = 40  # characters of a generated text in a sweep point's line
# Predictions printed (and tagged, rnnexp.tracking.tags) at most.
MAX_PREDICTIONS = 32


CONSOLE_LOGGER = "rnnexp.console"
ERRORS_LOGGER = "rnnexp.console.errors"
# The checks' short names in a point's line (and the compare table).
CHECK_LABELS = {"check.reference_max_abs_err": "ref", "check.api_parity_max_abs_err": "parity",
                "check.last_output_state_max_abs_err": "last", "check.dynamics_max_rel_err": "dyn"}


def say(text: str, error: bool = False) -> None:
    """Shows `text` on the console (stderr if `error`) and in the job's log."""
    text = without_passwords(text)  # a tracking URI as typed may carry one
    logger = logging.getLogger(ERRORS_LOGGER if error else CONSOLE_LOGGER)
    if logger.handlers:
        logger.info(text)
    else:
        print(text, file=sys.stderr if error else sys.stdout, flush=True)


def point_number(number: Optional[int], count: Optional[int]) -> str:
    """"[3/6]" for a sweep's point 2 (from 0) of 6; "[#2]" if the count is not
    known (a sweep without rnnexp's callback), "" outside a sweep."""
    if number is None:
        return ""
    return f"[{number + 1}/{count}]" if count else f"[#{number}]"


def point_line(where: str, name: str, checks: Mapping[str, float], url: str,
               final: Optional[Mapping[str, float]] = None, generated: Optional[str] = None) -> str:
    """A sweep point's line: "[3/6] name: ref 1e-07, parity 0, last 0; <url>".

    Args:
        where: the point's `point_number`.
        final: a training run's final scores (loss, accuracy): its accuracy is shown first.
        generated: the text a run generated, shown (cut to MAX_GENERATED characters) after the checks.
    """
    scores = [f"accuracy {final['accuracy']:.3f}"] if final else []
    scores += [f"{CHECK_LABELS.get(key, key)} {value:.2g}" for key, value in checks.items()]
    if generated is not None:
        scores.append(f"generated {shortened(generated, MAX_GENERATED)!r}")
    return f"{where} {name}: {', '.join(scores)}; {url}".strip()


def format_tensor(name: str, array) -> str:
    """`name: shape (B, T, H)` and the array, summarised when large (NumPy
    imported here: a config error is reported without it)."""
    import numpy as np

    with np.printoptions(precision=4, suppress=True, threshold=SUMMARY_THRESHOLD, edgeitems=2):
        body = np.array2string(array, prefix="  ")
    return f"{name}: shape {tuple(array.shape)}\n  {body}"


def _model_line(config) -> str:
    stack = f"{config.num_layers} layers, " if config.num_layers > 1 else ""
    stack += "bidirectional, " if config.bidirectional else ""
    return f"{config.api.value} API, {config.rnn.value}, {stack}hidden_size={config.hidden_size}, seed={config.seed}"


def describe(result, tensors: bool = True) -> str:
    """A forward run (rnnexp.core.forward.ForwardResult): the RNN, the data,
    every tensor with its shape (if `tensors`, else the shapes only), and the checks."""
    lines = [f"rnnexp: {_model_line(result.config)}",
             f"vocab {list(result.config.data.vocab)}; sequences {_short(list(result.sequences))}"]
    if tensors:
        lines += [format_tensor(name, array) for name, array in result.tensors.items()]
    else:
        lines.append("shapes: " + ", ".join(f"{name} {tuple(a.shape)}" for name, a in result.tensors.items()))
    lines += [f"{name} = {value:.3g}" for name, value in result.checks.items()]
    if getattr(result, "dynamics", None) is not None:
        lines.append(gradient_line(result.dynamics))
    return "\n".join(lines)


def gradient_line(flow) -> str:
    """The gradient flow in one line: ||ds_T/ds_(T-k)|| at k = 1 and at the largest k, the spectral radius."""
    norms, last = flow.grad_norm, len(flow.grad_norm)
    far = f", k={last}: {norms[-1]:.3g}" if last > 1 else ""
    return (f"gradient flow ||ds_T/ds_(T-k)||: k=1: {norms[0]:.3g}{far}; "
            f"spectral radius of ds_T/ds_(T-1): {flow.jacobian_spectral_radius:.3g}")


def training_header(config) -> str:
    """What a training run is about to do: the RNN and the settings."""
    settings = config.train
    return (f"rnnexp: training {_model_line(config)}: {settings.optimizer} learning_rate={settings.learning_rate}, "
            f"{settings.epochs} epochs, batch_size={settings.batch_size}")


class EpochProgress:
    """Shows a training run's progress, called after every epoch (`train`'s
    `on_epoch`): a line for PRINTED_EPOCHS epochs spread from the first to the
    last (if `lines`: a single run), and on a terminal a status line that is
    rewritten in place and erased at the end (not in the job's log).

    Args:
        epochs: how many epochs the run trains.
        lines: print the spread epochs' lines (through `say`, so also logged).
        stream: where the status line goes; it is drawn only if a terminal.
    """

    def __init__(self, epochs: int, lines: bool = True, stream=None):
        self.epochs, self.lines = epochs, lines
        self.stream = stream if stream is not None else sys.stdout
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.printed = {round(i * (epochs - 1) / (PRINTED_EPOCHS - 1)) + 1 for i in range(PRINTED_EPOCHS)}
        self.drawn_at = 0.0

    def __call__(self, epoch: int, logs: Mapping[str, float]) -> None:
        scores = "  ".join(f"{name} {float(value):.4f}" for name, value in logs.items())
        if self.lines and epoch in self.printed:
            self._erase()
            say(f"  epoch {epoch:>5}: {scores}")
        if self.live and (time.monotonic() - self.drawn_at > 0.1 or epoch == self.epochs):
            self.stream.write(f"\r  epoch {epoch}/{self.epochs}: {scores}\033[K")
            self.stream.flush()
            self.drawn_at = time.monotonic()
        if epoch == self.epochs:
            self._erase()

    def _erase(self) -> None:
        if self.live and self.drawn_at:
            self.stream.write("\r\033[K")
            self.stream.flush()


def describe_training(result, seconds: float) -> str:
    """A trained run (rnnexp.core.training.TrainResult), after its epochs
    (`EpochProgress`): the data, the final scores, the trained RNN's checks,
    the predictions."""
    config = result.config
    lines = [
        f"vocab {list(config.data.vocab)}; {len(result.sequences)} sequence(s); "
        f"inputs {list(result.data.encoded.inputs.shape)}",
    ]
    if result.window_counts is not None:  # a text file: the sequences shown are its first windows
        data = config.data
        lines.append(f"text {data.text_file}: {result.window_counts['train']} training and "
                     f"{result.window_counts['validation']} validation windows of {data.window} steps, "
                     f"stride {data.stride}; the first {len(result.sequences)} shown")
    lines.append(f"trained in {seconds:.1f} s; final loss {result.final['loss']:.4f}, "
                 f"accuracy {result.final['accuracy']:.4f}")
    lines += [f"{name} = {value:.3g}" for name, value in result.forward.checks.items()]
    if getattr(result.forward, "dynamics", None) is not None:
        lines.append(gradient_line(result.forward.dynamics) + " (trained)")
    for text, target, predicted in list(zip(result.input_texts, result.target_texts,
                                            result.predictions))[:MAX_PREDICTIONS]:
        verdict = "ok" if predicted == target else f"target {target}"
        lines.append(f"  {text} -> {predicted}  ({verdict})")
    return "\n".join(lines)


def shortened(text: str, limit: int) -> str:
    """`text`, or its first `limit` - 1 characters and "…" if it is longer."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _short(items: list, limit: int = 8) -> str:
    return str(items) if len(items) <= limit else f"{items[:limit]} ... ({len(items)} in all)"
