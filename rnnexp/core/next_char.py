"""The next-character classifier that `task=train` fits around the lesson's
RNN (rnnexp.core.keras_rnn builds the RNN): build, fit, predict.
"""

from typing import Dict

import numpy as np

from rnnexp.config.schema import OPTIMIZERS
from rnnexp.core.keras_rnn import keras_module


def build_next_char_model(layer, vocab_size: int, optimizer: str, learning_rate: float):
    """Wraps a recurrent layer from `build_rnn` into a compiled classifier of
    the next character at every step.

    One-hot inputs (B, T, V) -> Masking (all-zero rows are padding) -> `layer`
    (its sequence output (B, T, H); the states are not used) -> Dense softmax
    (B, T, V). Trained with sparse categorical cross-entropy on integer targets
    (B, T); padded steps count in neither the loss nor the accuracy.

    Args:
        layer: a recurrent layer from `build_rnn` (seed Keras before calling
            this, as `build_rnn` does, so the Dense weights are seeded too).
        vocab_size: V, the number of classes.
        optimizer: a key of OPTIMIZERS.
        learning_rate: the optimizer's learning rate.

    Returns:
        A compiled `keras.Model`, input (None, None, V), output (None, None, V).
    """
    keras = keras_module()
    inputs = keras.Input(shape=(None, vocab_size), name="inputs")
    outputs, *_states = layer(keras.layers.Masking(mask_value=0.0)(inputs))
    probabilities = keras.layers.Dense(vocab_size, activation="softmax", name="next_char")(outputs)
    model = keras.Model(inputs, probabilities, name="next_char_rnn")
    model.compile(
        optimizer=getattr(keras.optimizers, OPTIMIZERS[optimizer])(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def fit(model, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray, epochs: int,
        batch_size: int, seed: int, on_epoch=None) -> Dict[str, list]:
    """Trains `model` for `epochs` passes over the data.

    One `train_on_batch` call per batch rather than `model.fit`, which spends
    tens of milliseconds of set-up per epoch: that dominates when an epoch is
    one tiny batch. The batches are reshuffled each epoch from `seed`.

    Args:
        model: from `build_next_char_model`.
        inputs: (B, T, V) float32, one-hot, padded steps all zero.
        targets: (B, T) int, the next character's index; ignored where padded.
        mask: (B, T) bool, True on real steps.
        epochs: number of passes.
        batch_size: sequences per step.
        seed: for the shuffling.
        on_epoch: called as on_epoch(epoch (from 1), {"loss": ..., "accuracy": ...})
            after every epoch, e.g. to show progress; None for nothing.

    Returns:
        {"loss": [...], "accuracy": [...]}, one value per epoch: the mean over
        that epoch's real steps of the values Keras reports per batch.
    """
    rng = np.random.default_rng(seed)
    history = {"loss": [], "accuracy": []}
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(inputs))
        totals, steps = {"loss": 0.0, "accuracy": 0.0}, 0
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            logs = model.train_on_batch(inputs[rows], targets[rows], return_dict=True)
            real = int(mask[rows].sum())
            for name in totals:
                totals[name] += float(logs[name]) * real
            steps += real
        for name, total in totals.items():
            history[name].append(total / steps)
        if on_epoch is not None:
            on_epoch(epoch, {name: values[-1] for name, values in history.items()})
    return history


def fit_batches(model, batches, validation, epochs: int, on_epoch=None) -> Dict[str, list]:
    """Trains `model` for `epochs` passes over `batches` with `model.fit` (an
    epoch of a text file is many batches, so fit's set-up per epoch is small),
    scoring `validation` after each epoch.

    Args:
        batches, validation: keras.utils.PyDataset of (inputs (b, W, V), targets
            (b, W)) (rnnexp.core.window_batches); validation may be None.
        on_epoch: as in `fit`, with Keras's logs of the epoch.

    Returns:
        {"loss": [...], "accuracy": [...]} and, with validation, "val_loss" and
        "val_accuracy": one value per epoch, as Keras reports them.
    """
    # shuffle=False: the batches shuffle their windows themselves, from the run's
    # seed; Keras would also reorder whole batches with Python's `random`.
    callbacks = [] if on_epoch is None else [
        keras_module().callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: on_epoch(epoch + 1, dict(logs)))]
    history = model.fit(batches, validation_data=validation, epochs=epochs, shuffle=False, verbose=0,
                        callbacks=callbacks).history
    names = ["loss", "accuracy"] + (["val_loss", "val_accuracy"] if validation is not None else [])
    return {name: [float(value) for value in history[name]] for name in names}


def evaluate_batches(model, batches) -> Dict[str, float]:
    """Cross-entropy and accuracy of `model` over every batch (all steps real),
    in NumPy from its predictions, one batch at a time."""
    loss, correct, steps = 0.0, 0, 0
    for number in range(len(batches)):
        inputs, targets = batches[number]
        probabilities = predict(model, inputs)
        picked = np.take_along_axis(probabilities, targets[..., None], axis=-1)[..., 0]
        loss += float(-np.log(np.clip(picked, 1e-7, 1.0)).sum())
        correct += int((probabilities.argmax(axis=-1) == targets).sum())
        steps += targets.size
    return {"loss": loss / steps, "accuracy": correct / steps}


def predict(model, inputs: np.ndarray) -> np.ndarray:
    """The model's next-character probabilities (B, T, V) for `inputs` (B, T, V)."""
    return np.asarray(model.predict_on_batch(inputs), dtype=np.float32)


def enable_determinism() -> None:
    """Makes TensorFlow pick deterministic kernels, so a seeded run gives the
    same losses every time (tf.config.experimental.enable_op_determinism)."""
    keras_module()
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()

