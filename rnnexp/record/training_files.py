"""Writes what a training run adds to a forward run's files, into one folder:

    tables/predictions.csv    one row per sequence: input, target, predicted, correct steps
    tables/history.csv        epoch, loss, accuracy (and val_loss, val_accuracy)
    plots/loss_curve.png      loss (log scale) and accuracy per epoch (and validation's)

Paths are fixed names, never built from config text.
"""

from pathlib import Path
from typing import Dict, List, Sequence

# Cells of the predictions table are cut to this many characters: it is for
# reading in the UI; the exact predictions are the run's tags and the model.
TEXT_MAX_CHARS = 200


def predictions_table(inputs: Sequence[str], targets: Sequence[str], predictions: Sequence[str]):
    """A pandas DataFrame with one row per sequence."""
    import pandas as pd

    correct = [sum(p == t for p, t in zip(pred, target)) for pred, target in zip(predictions, targets)]
    return pd.DataFrame({
        "sequence": range(len(inputs)),
        "input": [text[:TEXT_MAX_CHARS] for text in inputs],
        "target": [text[:TEXT_MAX_CHARS] for text in targets],
        "predicted": [text[:TEXT_MAX_CHARS] for text in predictions],
        "correct_steps": correct,
        "steps": [len(target) for target in targets],
    })


def plot_history(path: Path, history: Dict[str, List[float]], title: str) -> Path:
    """Saves the loss (log scale) and accuracy curves side by side as a PNG
    (matplotlib's object API, never pyplot, as rnnexp.record.plots)."""
    from rnnexp.record.state_figure import new_figure

    epochs = range(1, len(history["loss"]) + 1)
    figure = new_figure(9, 3.5)
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    loss_axes.plot(epochs, history["loss"], color="tab:blue", label="training")
    loss_axes.set(xlabel="epoch", ylabel="loss (cross-entropy)", yscale="log", title="loss")
    accuracy_axes.plot(epochs, history["accuracy"], color="tab:green", label="training")
    if "val_loss" in history:  # a text file's held-out part, data.val_fraction
        loss_axes.plot(epochs, history["val_loss"], color="tab:orange", label="validation")
        accuracy_axes.plot(epochs, history["val_accuracy"], color="tab:red", label="validation")
        for axes in (loss_axes, accuracy_axes):
            axes.legend()
    accuracy_axes.set(xlabel="epoch", ylabel="accuracy", ylim=(-0.02, 1.02), title="accuracy")
    for axes in (loss_axes, accuracy_axes):
        axes.grid(alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path


def write_training_tables(folder: Path, inputs: Sequence[str], targets: Sequence[str],
                          predictions: Sequence[str], history: Dict[str, List[float]]) -> Path:
    """Writes tables/predictions.csv and tables/history.csv into `folder` and returns it."""
    import pandas as pd

    folder = Path(folder)
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    predictions_table(inputs, targets, predictions).to_csv(folder / "tables" / "predictions.csv", index=False)
    epochs = range(1, len(history["loss"]) + 1)
    pd.DataFrame({"epoch": epochs, **history}).to_csv(folder / "tables" / "history.csv", index=False)
    return folder


def write_loss_curve(folder: Path, history: Dict[str, List[float]], title: str) -> Path:
    """Writes plots/loss_curve.png into `folder` and returns its path."""
    (Path(folder) / "plots").mkdir(parents=True, exist_ok=True)
    return plot_history(Path(folder) / "plots" / "loss_curve.png", history, title)
