"""One `task=train` job: train, print, record. rnnexp.job hands over to
`run_train_job` once the config is validated and the run's name, params and
tags are known; the trained RNN is then recorded like a forward run
(rnnexp.job.record_forward), plus what training adds."""

import time
from typing import Dict, List, Mapping, Optional

from rnnexp import next_char_model
from rnnexp.experiment import Spec
from rnnexp.job import record_forward
from rnnexp.training import TrainResult, TrainSettings, train
from rnnexp.training_artifacts import write_training_artifacts

# Tags `predicted.<i>` are set for this many sequences at most (the table and
# the model hold them all), each cut to this many characters.
MAX_PREDICTION_TAGS = 32
MAX_TAG_CHARS = 5000
# Epochs printed on the console, spread evenly from the first to the last.
PRINTED_EPOCHS = 8


def describe_training(result: TrainResult, seconds: float) -> str:
    """What a training run prints: settings, a few epochs, the predictions."""
    spec, settings, history = result.spec, result.settings, result.history
    epochs = len(history["loss"])
    shown = sorted({round(i * (epochs - 1) / (PRINTED_EPOCHS - 1)) for i in range(PRINTED_EPOCHS)})
    lines = [
        f"rnnexp: training {spec.api} API, {spec.rnn}, hidden_size={spec.hidden_size}, seed={spec.seed}: "
        f"{settings.optimizer} learning_rate={settings.learning_rate}, {settings.epochs} epochs, "
        f"batch_size={settings.batch_size}",
        f"vocab {list(spec.vocab)}; {len(spec.sequences)} sequence(s); "
        f"inputs {list(result.data.encoded.inputs.shape)}",
    ]
    lines += [f"  epoch {i + 1:>5}: loss {history['loss'][i]:.4f}  accuracy {history['accuracy'][i]:.4f}"
              for i in shown]
    lines.append(f"trained in {seconds:.1f} s; final loss {result.final['loss']:.4f}, "
                 f"accuracy {result.final['accuracy']:.4f}")
    lines += [f"{name} = {value:.3g}" for name, value in result.forward.checks.items()]
    for text, target, predicted in list(zip(result.input_texts, result.target_texts,
                                            result.predictions))[:MAX_PREDICTION_TAGS]:
        verdict = "ok" if predicted == target else f"target {target}"
        lines.append(f"  {text} -> {predicted}  ({verdict})")
    return "\n".join(lines)


def final_metrics(result: TrainResult, seconds: float) -> Dict[str, float]:
    """The trained model's loss and accuracy on the training data (computed
    after the last update, unlike the last epoch's running values)."""
    return {"train.final_loss": result.final["loss"], "train.final_accuracy": result.final["accuracy"],
            "train.seconds": seconds}


def prediction_tags(predictions: List[str]) -> Dict[str, str]:
    return {f"predicted.{i}": text[:MAX_TAG_CHARS] for i, text in enumerate(predictions[:MAX_PREDICTION_TAGS])}


def record_training(tracker, run_id: str, result: TrainResult, seconds: float) -> str:
    """Logs what training adds to a forward run's record to `run_id`: the
    curves, predictions, final scores and the model; returns the model's URI."""
    epochs = len(result.history["loss"])
    title = f"{result.spec.rnn} {result.spec.api}, hidden_size={result.spec.hidden_size}"
    tracker.write_and_log(run_id, write_training_artifacts, result.input_texts, result.target_texts,
                          result.predictions, result.history, title)
    tracker.log_metric_series(run_id, result.history, first_step=1)
    # At the last epoch's step, so that MLflow links them to the model logged below.
    tracker.log_metrics(run_id, final_metrics(result, seconds), step=epochs)
    tracker.set_tags(run_id, prediction_tags(result.predictions))
    return tracker.log_keras_model(run_id, result.keras_model, len(result.spec.vocab),
                                   next_char_model.pip_requirements(), step=epochs)


def run_train_job(cfg, plain: dict, context: dict, tracker, name: str, params: Mapping[str, str],
                  tags: Mapping[str, str], parent: Optional[str]) -> TrainResult:
    """Trains the model `cfg` describes inside one tracked run and records it.

    Raises:
        CheckFailed: a check of the trained RNN exceeded its tolerance; the run
            is recorded, with its numbers and model, as FAILED.
    """
    spec, settings = Spec.from_config(cfg), TrainSettings.from_config(cfg.train)
    with tracker.run(name, params, tags, parent) as run_id:
        started = time.perf_counter()
        result = train(spec, settings)
        seconds = time.perf_counter() - started
        print(describe_training(result, seconds))
        model_uri = record_training(tracker, run_id, result, seconds)
        record_forward(tracker, run_id, result.forward, cfg, plain, context)
    run_id = tracker.resolved(run_id)  # an AsyncTracker's id was provisional until now
    print(f"Recorded run '{name}' ({run_id}) in experiment '{tracker.experiment_name}' "
          f"at {tracker.tracking_uri}: {tracker.run_url(run_id)}\nTrained model: {model_uri}")
    return result
