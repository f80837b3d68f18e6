"""One job, end to end: a composed config → the typed `Config` → the run
(the lesson's forward pass, or training) → its record in MLflow. Hydra's app
calls `run_job` for every run and every sweep point; Python code can too:

    from rnnexp.config.compose import compose_hydra
    from rnnexp.job import run_job
    run_job(compose_hydra(["rnn=gru"]))   # runs and records, as `python -m rnnexp rnn=gru`
"""

import json
import time
from typing import Dict

from omegaconf import OmegaConf

from rnnexp.config.compose import to_config
from rnnexp.config.job_context import JobContext, job_context
from rnnexp.config.schema import Config, Task
from rnnexp.errors import ConfigError
from rnnexp.sweep.handoff import job_log_tags, parent_run_id
from rnnexp.tracking import tags as t
from rnnexp.tracking.recorders import open_recorder
from rnnexp.tracking.run_record import RunRecord, RunStart, config_params, param_value
from rnnexp.tracking.store import check_reachable


def run_name(overrides) -> str:
    """The run's name: its overrides as typed, e.g. "rnn=lstm,api=cell,hidden_size=4"
    ("default" without any), leaving out those that do not change what runs
    compute (`resume=true`). Hydra's `override_dirname` sorts the overrides,
    which would put a sweep's varying value anywhere in the name."""
    named = [item for item in overrides if item.lstrip("+~").split("=")[0] not in t.NOT_IDENTITY]
    return ",".join(named) or "default"


# The keys a task=generate run does not record: its model and vocabulary are the source run's.
NOT_GENERATING = ("train", "data", "api", "rnn", "hidden_size")
TEXT_KEYS = ("text_file", "window", "stride", "val_fraction")  # data.*, recorded with a text file only


def recorded_config(cfg) -> dict:
    """The config as a run records it (params, config.yaml, the identity
    hash): resolved, plain containers; `train` only for a training run,
    `generate` for a training or generating run, `data.text_file` and its
    settings only with a text file."""
    plain = OmegaConf.to_container(OmegaConf.structured(cfg) if isinstance(cfg, Config) else cfg,
                                   resolve=True, enum_to_str=True)
    plain.pop("hydra", None)
    task = plain.get("task")
    if task != Task.train.value:
        plain.pop("train", None)  # the settings of a task that does not run are not recorded
    if task == Task.forward.value:
        plain.pop("generate", None)
    if task == Task.generate.value:
        for key in NOT_GENERATING:
            plain.pop(key, None)
    elif isinstance(plain.get("data"), dict) and plain["data"].get("text_file") is None:
        for key in TEXT_KEYS:
            plain["data"].pop(key, None)
    return plain


def run_start(plain: dict, context: JobContext, text=None) -> RunStart:
    """The run's name, params and tags, as it is created (`text`: a text file's, for its hash)."""
    parent = parent_run_id(context.sweep_dir) if context.sweep_dir else None
    tags = {t.ROLE_TAG: t.ROLE_POINT if parent else t.ROLE_SINGLE, **t.identity_tags(plain, text), **job_log_tags()}
    if context.output_dir:
        tags[t.OUTPUT_DIR_TAG] = str(context.output_dir)
    choices = {group: option for group, option in context.choices.items() if group in plain}
    return RunStart(name=run_name(context.overrides), params=config_params(plain, choices), tags=tags,
                    parent_id=parent)


def run_job(cfg):
    """Runs and records the experiment `cfg` describes.

    Args:
        cfg: a composed config (a DictConfig from Hydra) or a `Config`.

    Returns:
        Its ForwardResult (a TrainResult for task=train, the generated text
        for task=generate), or None when `resume` found it already FINISHED.

    Raises:
        ConfigError: for a bad value or an unreachable tracking server, before
            any computation. A sweep's point records it as a FAILED run first,
            so that the sweep's summary lists it.
        CheckFailed: a check of the forward pass exceeded its tolerance; the
            run is recorded, with its numbers, as FAILED.
    """
    context = job_context()
    plain = recorded_config(cfg)
    start = run_start(plain, context)
    try:
        config = to_config(cfg)
    except ConfigError:
        if start.parent_id:  # recorded as a FAILED point: the sweep's summary reads its points from the store
            mlflow = plain.get("mlflow", {})
            with open_recorder(mlflow.get("tracking_uri"), mlflow.get("experiment_name")).run(start):
                raise
        raise
    check_reachable(config.mlflow.tracking_uri)
    text = None
    if config.task is Task.train and config.data.text_file is not None:
        from rnnexp.config.text_file import read_text

        text = read_text(config.data.text_file)
        plain = recorded_config(config)  # with the vocabulary the file gave
        start = run_start(plain, context, text)
    from rnnexp.core.keras_rnn import keras_module
    from rnnexp.record.plots import warm_ups

    recorder = open_recorder(config.mlflow.tracking_uri, config.mlflow.experiment_name,
                             warm_ups(config.plots.enabled))
    keras_module()  # TensorFlow now, while a background recorder's worker opens the store
    if config.resume:
        done = recorder.find_finished({key: start.tags[key] for key in t.IDENTITY_TAGS if key in start.tags})
        if done:
            print(f"Skipped '{start.name}': resume=true and run {done} already FINISHED "
                  f"with the same config and code ({start.tags[t.CODE_VERSION_TAG]})")
            return None
    source = None
    if config.task is Task.generate:
        from rnnexp.generate_task import load_source, with_source

        source = load_source(config)  # a ConfigError (no such model, a prompt off its vocabulary) creates no run
        start = with_source(start, source)
    with recorder.run(start) as run:
        if config.task is Task.train:
            result = train_and_record(run, config, plain, context, text)
        elif config.task is Task.generate:
            from rnnexp.generate_task import generate_and_record

            result = generate_and_record(run, config, plain, context, source)
        else:
            result = forward_and_record(run, config, plain, context)
    print(f"Recorded run '{start.name}' ({run.run_id}) in experiment '{recorder.experiment_name}' "
          f"at {recorder.tracking_uri}: {recorder.run_url(run.run_id)}")
    if config.task is Task.train:
        print(f"Trained model: {recorder.written(run).get('model_uri', '(not logged)')}")
    return result


def forward_and_record(run: RunRecord, config: Config, plain: dict, context: JobContext):
    """The lesson's forward pass, checked, printed and recorded in `run`."""
    from rnnexp.core.forward import run_forward
    from rnnexp.record.console import describe

    result = run_forward(config)
    print(describe(result))
    record_forward(run, result, config, plain, context)
    return result


def record_forward(run: RunRecord, result, config: Config, plain: dict, context: JobContext) -> None:
    """Records a checked forward result: its files, the pictures to draw,
    the job's .hydra folder, the metrics and tags; then raises CheckFailed if
    a check exceeded its tolerance (the FAILED run keeps its numbers)."""
    from rnnexp.core.checks import raise_for_failures
    from rnnexp.record.forward_files import table_inputs, write_forward_files, write_states_table

    lengths = result.encoded.lengths
    write_forward_files(run.folder, result.tensors, lengths, result.weights, OmegaConf.to_yaml(plain))
    run.render(write_states_table, *table_inputs(result.sequences, result.tensors["outputs"], lengths))
    if config.plots.enabled:
        from rnnexp.record.plots import write_state_plots

        shown = config.plots.max_sequences  # a plot draws the first few sequences: only those are handed over
        cell_states = result.reference.get("cell_states")
        run.render(write_state_plots, list(result.sequences), lengths, result.tensors["outputs"][:shown],
                   None if cell_states is None else cell_states[:shown], shown, under="plots")
    if context.hydra_dir:
        run.add_folder(context.hydra_dir, ".hydra")
    run.log_metrics(result.metrics)
    run.set_tags({t.SHAPES_TAG: json.dumps(result.shapes), **length_tags(lengths)})
    raise_for_failures(result.check_errors)


def length_tags(lengths) -> Dict[str, str]:
    """Each sequence's own length, as tags: `rnnexp.lengths` (a JSON list, cut
    like a param if long; tensors/lengths.npy has them all) and `rnnexp.ragged`."""
    lengths = [int(n) for n in lengths]
    return {t.LENGTHS_TAG: param_value(lengths), t.RAGGED_TAG: str(len(set(lengths)) > 1).lower()}


def train_and_record(run: RunRecord, config: Config, plain: dict, context: JobContext, text=None):
    """Trains the model `config` describes (on `text`, a text file's), prints
    and records it in `run`: what training adds (curves, predictions, final
    scores, the generated text, the model), then the trained RNN as a
    forward run (`record_forward`)."""
    from rnnexp.core.training import train
    from rnnexp.generate_task import record_generated
    from rnnexp.record.console import MAX_PREDICTIONS, describe_training
    from rnnexp.record.training_files import write_loss_curve, write_training_tables
    from rnnexp.tracking.keras_model import save_keras_model

    started = time.perf_counter()
    result = train(config, text)
    seconds = time.perf_counter() - started
    print(describe_training(result, seconds))
    record_generated(run, config, result.generated)
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
    record_forward(run, result.forward, config, plain, context)
    return result

