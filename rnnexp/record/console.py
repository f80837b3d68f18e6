"""What a run prints: the lesson's inputs, outputs and states with their
shapes (summarised rather than dumped when large), and for a training run
its settings, a few epochs and the predictions."""

import numpy as np

# Beyond this many numbers NumPy prints the corners with "..." between.
SUMMARY_THRESHOLD = 200
# Epochs printed for a training run, spread evenly from the first to the last.
PRINTED_EPOCHS = 8
# Predictions printed (and tagged, rnnexp.tracking.tags) at most.
MAX_PREDICTIONS = 32


def format_tensor(name: str, array: np.ndarray) -> str:
    with np.printoptions(precision=4, suppress=True, threshold=SUMMARY_THRESHOLD, edgeitems=2):
        body = np.array2string(array, prefix="  ")
    return f"{name}: shape {tuple(array.shape)}\n  {body}"


def _model_line(config) -> str:
    return f"{config.api.value} API, {config.rnn.value}, hidden_size={config.hidden_size}, seed={config.seed}"


def describe(result) -> str:
    """A forward run (rnnexp.core.forward.ForwardResult): the RNN, the data,
    every tensor with its shape, and the checks."""
    lines = [f"rnnexp: {_model_line(result.config)}",
             f"vocab {list(result.config.data.vocab)}; sequences {_short(list(result.sequences))}"]
    lines += [format_tensor(name, array) for name, array in result.tensors.items()]
    lines += [f"{name} = {value:.3g}" for name, value in result.checks.items()]
    return "\n".join(lines)


def describe_training(result, seconds: float) -> str:
    """A training run (rnnexp.core.training.TrainResult): settings, a few
    epochs, the final scores, the trained RNN's checks, the predictions."""
    config, settings, history = result.config, result.config.train, result.history
    epochs = len(history["loss"])
    shown = sorted({round(i * (epochs - 1) / (PRINTED_EPOCHS - 1)) for i in range(PRINTED_EPOCHS)})
    lines = [
        f"rnnexp: training {_model_line(config)}: {settings.optimizer} learning_rate={settings.learning_rate}, "
        f"{settings.epochs} epochs, batch_size={settings.batch_size}",
        f"vocab {list(config.data.vocab)}; {len(result.sequences)} sequence(s); "
        f"inputs {list(result.data.encoded.inputs.shape)}",
    ]
    if result.window_counts is not None:  # a text file: the sequences shown are its first windows
        data = config.data
        lines.append(f"text {data.text_file}: {result.window_counts['train']} training and "
                     f"{result.window_counts['validation']} validation windows of {data.window} steps, "
                     f"stride {data.stride}; the first {len(result.sequences)} shown")
    lines += [f"  epoch {i + 1:>5}: " + "  ".join(f"{name} {values[i]:.4f}" for name, values in history.items())
              for i in shown]
    lines.append(f"trained in {seconds:.1f} s; final loss {result.final['loss']:.4f}, "
                 f"accuracy {result.final['accuracy']:.4f}")
    lines += [f"{name} = {value:.3g}" for name, value in result.forward.checks.items()]
    for text, target, predicted in list(zip(result.input_texts, result.target_texts,
                                            result.predictions))[:MAX_PREDICTIONS]:
        verdict = "ok" if predicted == target else f"target {target}"
        lines.append(f"  {text} -> {predicted}  ({verdict})")
    return "\n".join(lines)


def _short(items: list, limit: int = 8) -> str:
    return str(items) if len(items) <= limit else f"{items[:limit]} ... ({len(items)} in all)"
