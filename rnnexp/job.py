"""One job, end to end: a composed config → the typed `Config` → the run
(the lesson's forward pass, or training) → its record in MLflow. Hydra's app
calls `run_job` for every run and every sweep point; Python code can too:

    from rnnexp.config.compose import compose_hydra
    from rnnexp.job import run_job
    run_job(compose_hydra(["rnn=gru"]))   # runs and records, as `python -m rnnexp rnn=gru`
"""

from omegaconf import OmegaConf

from rnnexp.config.compose import to_config
from rnnexp.config.hydra_errors import resolved
from rnnexp.config.job_context import JobContext, job_context
from rnnexp.config.schema import Config, Task
from rnnexp.config.typed_overrides import check_kept_as_typed
from rnnexp.errors import ConfigError
from rnnexp.record.console import point_line, point_number, say
from rnnexp.store_uri import without_passwords
from rnnexp.sweep.handoff import job_log_tags, parent_run_id, sweep_points
from rnnexp.tracking import tags as t
from rnnexp.tracking.recorder import TrackingError, ui_note
from rnnexp.tracking.recorders import check_open, open_recorder
from rnnexp.tracking.run_record import RunRecord, RunStart, config_params
from rnnexp.tracking.store import check_reachable


def run_name(overrides, swept=()) -> str:
    """The run's name: its overrides as typed, e.g. "rnn=lstm,api=cell,hidden_size=4"
    ("default" without any), leaving out those that do not change what runs
    compute (`resume=true`). A sweep point's name starts with the values of
    the swept keys, "lstm,cell (rnn=lstm,api=cell,hidden_size=4)", so that
    names stay distinct where the MLflow UI cuts them short.

    Args:
        overrides: the job's overrides, in the order typed.
        swept: the keys that vary across the job's sweep, in the order typed.
    """
    named = [item for item in overrides if item.lstrip("+~").split("=")[0].split(".")[0] not in t.NOT_IDENTITY]
    values = [item.split("=", 1)[1] for name in swept for item in named if item.split("=", 1)[0] == name]
    full = ",".join(named) or "default"
    return f"{','.join(values)} ({full})" if values else full


# The keys a task=generate run does not record: its model and vocabulary are the source run's.
NOT_GENERATING = ("train", "data", "api", "rnn", "hidden_size", "num_layers", "bidirectional", "dynamics")
TEXT_KEYS = ("text_file", "window", "stride", "val_fraction")  # data.*, recorded with a text file only


def recorded_config(cfg) -> dict:
    """The config as a run records it (params, config.yaml, the identity
    hash): resolved, plain containers; `train` only for a training run,
    `generate` for a training or generating run, `data.text_file` and its
    settings only with a text file."""
    plain = resolved(OmegaConf.structured(cfg) if isinstance(cfg, Config) else cfg)
    plain.pop("hydra", None)
    if isinstance(plain.get("mlflow"), dict) and isinstance(plain["mlflow"].get("tracking_uri"), str):
        plain["mlflow"]["tracking_uri"] = without_passwords(plain["mlflow"]["tracking_uri"])  # never recorded
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
    swept = sweep_points(context.sweep_dir).swept if parent else []
    return RunStart(name=run_name(context.overrides, swept), params=config_params(plain, choices), tags=tags,
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
        check_kept_as_typed(context.overrides, cfg)  # '+1' must not run as '1'
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

    try:
        recorder = open_recorder(config.mlflow.tracking_uri, config.mlflow.experiment_name,
                                 warm_ups(config.plots.enabled))
        keras_module()  # TensorFlow now, while a background recorder's worker opens the store
        check_open(recorder)
    except TrackingError as error:  # nothing computed, no run created
        raise ConfigError("mlflow.tracking_uri", config.mlflow.tracking_uri, "a tracking store that opens",
                          f"{error} (experiment {config.mlflow.experiment_name!r})") from None
    if config.resume:
        done = recorder.find_finished({key: start.tags[key] for key in t.IDENTITY_TAGS if key in start.tags})
        if done:
            say(f"Skipped '{start.name}': resume=true and run {done} already FINISHED "
                f"with the same config and code ({start.tags[t.CODE_VERSION_TAG]})")
            return None
    source = None
    if config.task is Task.generate:
        from rnnexp.tasks.generate import load_source, with_source

        source = load_source(config)  # a ConfigError (no such model, a prompt off its vocabulary) creates no run
        start = with_source(start, source)
    # A single run prints its whole printout, a sweep's point one line (console.tensors=true: both)
    in_sweep = start.parent_id is not None
    tensors = config.console.tensors if config.console.tensors is not None else not in_sweep
    show = not in_sweep or tensors
    with recorder.run(start) as run:
        if config.task is Task.train:
            from rnnexp.tasks.train import train_and_record

            result = train_and_record(run, config, plain, context, text, show)
        elif config.task is Task.generate:
            from rnnexp.tasks.generate import generate_and_record

            result = generate_and_record(run, config, plain, context, source, show)
        else:
            from rnnexp.tasks.forward import forward_and_record

            result = forward_and_record(run, config, plain, context, show, tensors)
    report(recorder, run, result, config, context)
    return result


def report(recorder, run: RunRecord, result, config: Config, context: JobContext) -> None:
    """What the console shows once a run is recorded: a sweep point's one
    line, or where a single run was recorded, with its link into the UI."""
    url = recorder.run_url(run.run_id)
    trained = config.task is Task.train
    if run.start.parent_id:
        where = point_number(context.number, sweep_points(context.sweep_dir).count)
        if config.task is Task.generate:  # the generated text is all it has
            say(point_line(where, run.start.name, {}, url, generated=result))
            return
        checks = (result.forward if trained else result).checks
        say(point_line(where, run.start.name, checks, url, result.final if trained else None,
                       result.generated if trained else None))
        return
    written = recorder.written(run)  # "Recorded" only once it is: a single run waits for its record
    if run.write_error:
        say(f"rnnexp: error: run '{run.start.name}' ({run.run_id}) could not be recorded whole: {run.write_error}",
            error=True)
        return
    say(f"Recorded run '{run.start.name}' ({run.run_id}) in experiment '{recorder.experiment_name}' "
        f"at {recorder.tracking_uri}: {url}")
    if trained:
        say(f"Trained model: {written.get('model_uri', '(not logged)')}")
    note = ui_note(recorder.tracking_uri)
    if note:
        say(note)
