"""One Hydra job, end to end: validate, open the tracking store, run the
experiment, record it. The side effects (MLflow, files, console) live here."""

import functools
import json
from pathlib import Path
from typing import Dict, Optional

from omegaconf import DictConfig, OmegaConf

from rnnexp.launchers import PARENT_RUN_ENV, job_log_tags, parent_run_id, sweep_folder  # noqa: F401
from rnnexp.params import config_params
from rnnexp.validation import validate

OUTPUT_DIR_TAG = "rnnexp.output_dir"  # the job's Hydra folder: .hydra/ and its log


def run_name(overrides) -> str:
    """A readable name made from the command-line overrides, e.g.
    "rnn=lstm,api=cell,hidden_size=4"; "default" when there are none."""
    return ",".join(overrides) or "default"


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


@functools.lru_cache(maxsize=None)
def tracker_for(tracking_uri: Optional[str], experiment_name: str):
    """One Tracker per store and experiment per process (sweep points share it)."""
    from rnnexp.tracking import Tracker

    return Tracker(tracking_uri, experiment_name)


def run_job(cfg: DictConfig):
    """Runs and records the experiment `cfg` describes; returns its ForwardResult."""
    validate(cfg)
    context = hydra_context()
    from rnnexp.artifacts import write_forward_artifacts
    from rnnexp.checks import raise_for_failures
    from rnnexp.console import describe
    from rnnexp.experiment import Spec, run_forward
    from rnnexp.plots import write_state_plots
    from rnnexp.tracking import SHAPES_TAG

    spec = Spec.from_config(cfg)
    plain = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    params = config_params(plain, context.get("choices", {}))
    tracker = tracker_for(cfg.mlflow.tracking_uri, cfg.mlflow.experiment_name)
    parent = parent_run_id(context["sweep_dir"]) if context.get("multirun") else None
    name = run_name(context.get("overrides", []))
    tags = {"rnnexp.role": "point" if parent else "single", **job_log_tags()}
    if context:
        tags[OUTPUT_DIR_TAG] = str(context["output_dir"])
    with tracker.run(name, params, tags, parent) as run_id:
        result = run_forward(spec)
        print(describe(result))
        tracker.write_and_log(run_id, write_forward_artifacts, spec.sequences, result.tensors,
                              result.weights, result.encoded.lengths, OmegaConf.to_yaml(plain))
        if cfg.plots.enabled:
            tracker.write_and_log(run_id, write_state_plots, list(spec.sequences), result.encoded.lengths,
                                  result.tensors["outputs"], result.reference.get("cell_states"),
                                  int(cfg.plots.max_sequences), artifact_path="plots")
        hydra_dir = context.get("output_dir", Path(".")) / ".hydra"
        if context and hydra_dir.is_dir():
            tracker.log_folder(run_id, hydra_dir, ".hydra")
        tracker.log_metrics(run_id, result.metrics, tags={SHAPES_TAG: json.dumps(result.shapes)})
        raise_for_failures(result.check_errors)  # after logging: the run ends FAILED with its numbers
    print(f"Recorded run '{name}' ({run_id}) in experiment '{tracker.experiment_name}' "
          f"at {tracker.tracking_uri}: {tracker.run_url(run_id)}")
    return result
