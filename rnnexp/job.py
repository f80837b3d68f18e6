"""One Hydra job, end to end: validate, open the tracking store, run the
experiment, record it. The side effects (MLflow, files, console) live here."""

import json
from pathlib import Path
from typing import Dict, Optional

from omegaconf import DictConfig, OmegaConf

from rnnexp.errors import ConfigError
from rnnexp.launchers import job_log_tags, parent_run_id, sweep_folder
from rnnexp.params import config_params, param_value
from rnnexp.resume import CODE_VERSION_TAG, CONFIG_HASH_TAG, NOT_IDENTITY, identity_tags
from rnnexp.server_probe import check_tracking_server
from rnnexp.validation import validate

OUTPUT_DIR_TAG = "rnnexp.output_dir"  # the job's Hydra folder: .hydra/ and its log


def run_name(overrides) -> str:
    """A readable name made from the command-line overrides, e.g.
    "rnn=lstm,api=cell,hidden_size=4"; "default" when there are none. Overrides
    that do not change what runs compute (`resume=true`) are left out."""
    named = [item for item in overrides if item.lstrip("+~").split("=")[0] not in NOT_IDENTITY]
    return ",".join(named) or "default"


def hydra_context() -> Dict[str, object]:
    """The bits of Hydra's runtime a job records; empty outside a Hydra app."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return {}
    hc = HydraConfig.get()
    output_dir = Path(hc.runtime.output_dir)  # absolute, even after a chdir
    multirun = hc.mode == RunMode.MULTIRUN
    return {
        "overrides": list(hc.overrides.task),
        "choices": {k: v for k, v in hc.runtime.choices.items() if not k.startswith("hydra")},
        "output_dir": output_dir,
        "multirun": multirun,
        "sweep_dir": sweep_folder(output_dir, str(hc.sweep.subdir)) if multirun else None,
    }


def tracker_for(tracking_uri: Optional[str], experiment_name: str):
    """One Tracker per store and experiment per process (sweep points share
    it): in the CLI an AsyncTracker, whose helper process opens the store
    while this one imports TensorFlow (see rnnexp.trackers)."""
    from rnnexp.trackers import open_tracker

    return open_tracker(tracking_uri, experiment_name)


def prepare_plots(tracker, cfg: DictConfig) -> None:
    """If the run plots, has an AsyncTracker's worker load matplotlib now,
    while this process loads TensorFlow (Tracker.prepare_writers)."""
    if cfg.plots.enabled:
        from rnnexp.plots import warm_up

        tracker.prepare_writers(warm_up)


def plot_waits_for_checks(result) -> bool:
    """An LSTM's plot shows the cell states of the checks' reference (Keras
    returns only the final one); any other plot can be drawn while they run."""
    return "state_c" in result.tensors


def run_job(cfg: DictConfig):
    """Runs and records the experiment `cfg` describes.

    Returns:
        Its ForwardResult (a TrainResult for task=train), or None when
        `resume` found it already FINISHED.

    Raises:
        ConfigError: for a bad value or an unreachable tracking server, before
            any computation. A sweep's point records it as a FAILED run first,
            so that the sweep's summary lists it.
        CheckFailed: a check of the forward pass exceeded its tolerance; the
            run is recorded, with its numbers, as FAILED.
    """
    context = hydra_context()
    plain = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    if plain["task"] != "train":
        plain.pop("train")  # the settings of a task that does not run are not recorded
    params = config_params(plain, context.get("choices", {}))
    name = run_name(context.get("overrides", []))
    parent = parent_run_id(context["sweep_dir"]) if context.get("multirun") else None
    tags = {"rnnexp.role": "point" if parent else "single", **identity_tags(plain), **job_log_tags()}
    if context:
        tags[OUTPUT_DIR_TAG] = str(context["output_dir"])
    try:
        validate(cfg)
    except ConfigError:
        if parent:  # recorded as a FAILED point: the sweep's summary reads its points from the store
            with tracker_for(cfg.mlflow.tracking_uri, cfg.mlflow.experiment_name).run(
                    name, params, tags, parent):
                raise
        raise
    check_tracking_server(cfg.mlflow.tracking_uri)
    tracker = tracker_for(cfg.mlflow.tracking_uri, cfg.mlflow.experiment_name)
    prepare_plots(tracker, cfg)
    from rnnexp.model import preload

    preload()  # TensorFlow, while an AsyncTracker's worker imports MLflow and opens the store
    if cfg.resume:
        done = tracker.find_finished({key: tags[key] for key in (CONFIG_HASH_TAG, CODE_VERSION_TAG)})
        if done:
            print(f"Skipped '{name}': resume=true and run {done} already FINISHED "
                  f"with the same config and code ({tags[CODE_VERSION_TAG]})")
            return None

    if plain["task"] == "train":
        from rnnexp.train_job import run_train_job

        return run_train_job(cfg, plain, context, tracker, name, params, tags, parent)
    from rnnexp import experiment
    from rnnexp.console import describe

    with tracker.run(name, params, tags, parent) as run_id:
        result = experiment.forward_pass(experiment.Spec.from_config(cfg))
        record_tensors(tracker, run_id, result, plain)  # an AsyncTracker writes them while the checks run here
        experiment.check_forward(result)
        print(describe(result))
        record_checks(tracker, run_id, result, cfg, context)
    run_id = tracker.resolved(run_id)  # an AsyncTracker's id was provisional until now
    print(f"Recorded run '{name}' ({run_id}) in experiment '{tracker.experiment_name}' "
          f"at {tracker.tracking_uri}: {tracker.run_url(run_id)}")
    return result


def record_forward(tracker, run_id: str, result, cfg: DictConfig, plain: dict, context: dict) -> None:
    """Logs a checked forward pass: `record_tensors`, then `record_checks`."""
    record_tensors(tracker, run_id, result, plain)
    record_checks(tracker, run_id, result, cfg, context)


def record_tensors(tracker, run_id: str, result, plain: dict) -> None:
    """Logs what the forward pass gave, the bulk of a run's record: shapes,
    tensors, the states table and the resolved config (rnnexp.artifacts), and
    the state plot unless it waits for the checks (`record_plot`).

    The tensors are written here: for a large run that takes less time than
    handing them to an AsyncTracker's worker, which then never holds them. The
    table needs only their first rows: it is written wherever the tracker
    writes, for an AsyncTracker in its worker."""
    from rnnexp.artifacts import table_inputs, write_tables, write_tensors

    lengths = result.encoded.lengths
    tracker.write_here_and_log(run_id, write_tensors, result.tensors, lengths)
    tracker.write_and_log(run_id, write_tables, *table_inputs(result.spec.sequences, result.tensors, lengths),
                          OmegaConf.to_yaml(plain))
    if not plot_waits_for_checks(result):
        record_plot(tracker, run_id, result, plain["plots"])


def record_plot(tracker, run_id: str, result, plots) -> None:
    """Logs the run's state plot (rnnexp.plots), if `plots["enabled"]`: the
    Keras outputs, and for an LSTM the reference's cell states (after the
    checks: `plot_waits_for_checks`)."""
    from rnnexp.plots import write_state_plots

    if not plots["enabled"]:
        return
    shown = int(plots["max_sequences"])  # a plot draws the first few sequences: only those are sent
    cell_states = result.reference.get("cell_states")
    tracker.write_and_log(run_id, write_state_plots, list(result.spec.sequences), result.encoded.lengths,
                          result.tensors["outputs"][:shown], None if cell_states is None else cell_states[:shown],
                          shown, artifact_path="plots")


def record_checks(tracker, run_id: str, result, cfg: DictConfig, context: dict) -> None:
    """Logs what the checks used and found: the weights (as the checks read
    them), an LSTM's plot, the job's .hydra folder and the metrics; then raises
    CheckFailed if a check exceeded its tolerance (after logging, so the
    FAILED run keeps its numbers)."""
    from rnnexp.artifacts import write_weights
    from rnnexp.checks import raise_for_failures
    from rnnexp.tracking import SHAPES_TAG

    lengths = result.encoded.lengths
    tracker.write_and_log(run_id, write_weights, result.weights)
    if plot_waits_for_checks(result):
        record_plot(tracker, run_id, result, cfg.plots)
    hydra_dir = context.get("output_dir", Path(".")) / ".hydra"
    if context and hydra_dir.is_dir():
        tracker.log_folder(run_id, hydra_dir, ".hydra")
    tracker.log_metrics(run_id, result.metrics,
                        tags={SHAPES_TAG: json.dumps(result.shapes), **length_tags(lengths)})
    raise_for_failures(result.check_errors)


def length_tags(lengths) -> Dict[str, str]:
    """Each sequence's own length, as tags: `rnnexp.lengths` (a JSON list, cut
    like a param if long; tensors/lengths.npy has them all) and `rnnexp.ragged`."""
    lengths = [int(n) for n in lengths]
    return {"rnnexp.lengths": param_value(lengths),
            "rnnexp.ragged": str(len(set(lengths)) > 1).lower()}
