"""Training in a job (`task=train`): the trained model's record on top of a
forward run's, as rnnexp.job's `run_job` calls it."""

import time

from rnnexp.config.job_context import JobContext
from rnnexp.config.schema import Config
from rnnexp.record.console import say
from rnnexp.tasks.dynamics import record_training_dynamics
from rnnexp.tasks.forward import record_forward
from rnnexp.tracking import tags as t
from rnnexp.tracking.run_record import RunRecord


def train_and_record(run: RunRecord, config: Config, plain: dict, context: JobContext, text=None,
                     show: bool = True):
    """Trains the model `config` describes (on `text`, a text file's), prints
    (if `show`) and records it in `run`: what training adds (curves,
    predictions, final scores, the generated text, the model), then the
    trained RNN as a forward run (`record_forward`)."""
    from rnnexp.core.training import train
    from rnnexp.record.console import (
        MAX_PREDICTIONS,
        EpochProgress,
        describe_training,
        training_header,
    )
    from rnnexp.record.training_files import write_loss_curve, write_training_tables
    from rnnexp.tasks.generate import record_generated
    from rnnexp.tracking.keras_model import save_keras_model

    if show:
        say(training_header(config))
    started = time.perf_counter()
    result = train(config, text, EpochProgress(config.train.epochs, lines=show))
    seconds = time.perf_counter() - started
    if show:
        say(describe_training(result, seconds))
    record_generated(run, config, result.generated, show=show)
    epochs = len(result.history["loss"])
    write_training_tables(run.folder, result.input_texts, result.target_texts, result.predictions, result.history)
    if config.plots.enabled:
        run.render(write_loss_curve, result.history,
                   f"{config.rnn.value} {config.api.value}, hidden_size={config.hidden_size}")
    run.log_series(result.history, first_step=1)
    # At the last epoch's step, so that they are linked to the model logged with that step.
    run.log_metrics({"train.final_loss": result.final["loss"], "train.final_accuracy": result.final["accuracy"],
                     "train.seconds": seconds}, step=epochs)
    run.set_tags({t.PREDICTED_TAG.format(i): text[:t.MAX_TAG_CHARS]
                  for i, text in enumerate(result.predictions[:MAX_PREDICTIONS])})
    run.log_model(save_keras_model(run.model_folder(), result.keras_model, config.data.vocab,
                                   result.sequences[0][0], step=epochs))
    record_training_dynamics(run, result, config)
    record_forward(run, result.forward, config, plain, context)
    return result

