"""One Hydra job, end to end: validate, open the tracking store, run the
experiment, record it. The side effects (MLflow, files, console) live here."""

import os
from pathlib import Path
from typing import Dict, Optional

from omegaconf import DictConfig, OmegaConf

from rnnexp.params import config_params
from rnnexp.validation import validate

# Set by the sweep callback in the launching process; jobs inherit it.
PARENT_RUN_ENV = "RNNEXP_SWEEP_PARENT_RUN_ID"


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
    return {
        "overrides": list(hc.overrides.task),
        "choices": {k: v for k, v in hc.runtime.choices.items() if not k.startswith("hydra")},
        "output_dir": Path(hc.runtime.output_dir),
        "multirun": hc.mode == RunMode.MULTIRUN,
    }


def tracker_for(tracking_uri: Optional[str], experiment_name: str):
    """One Tracker per store and experiment per process (sweep points share
    it): in the CLI an AsyncTracker, whose helper process opens the store
    while this one imports TensorFlow (see rnnexp.trackers)."""
    from rnnexp.trackers import open_tracker

    return open_tracker(tracking_uri, experiment_name)


def run_job(cfg: DictConfig):
    """Runs and records the experiment `cfg` describes; returns its ForwardResult."""
    validate(cfg)
    context = hydra_context()
    from rnnexp.artifacts import write_forward_artifacts
    from rnnexp.console import describe
    from rnnexp.experiment import Spec, run_forward
    from rnnexp.model import preload

    spec = Spec.from_config(cfg)
    plain = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    params = config_params(plain, context.get("choices", {}))
    tracker = tracker_for(cfg.mlflow.tracking_uri, cfg.mlflow.experiment_name)
    preload()  # TensorFlow, while an AsyncTracker's worker imports MLflow and opens the store
    parent = os.environ.get(PARENT_RUN_ENV) if context.get("multirun") else None
    name = run_name(context.get("overrides", []))
    tags = {"rnnexp.role": "point" if parent else "single"}
    with tracker.run(name, params, tags, parent) as run_id:
        result = run_forward(spec)
        print(describe(result))
        tracker.write_and_log(run_id, write_forward_artifacts, spec.sequences, result.tensors,
                              result.weights, result.encoded.lengths, OmegaConf.to_yaml(plain))
        hydra_dir = context.get("output_dir", Path(".")) / ".hydra"
        if context and hydra_dir.is_dir():
            tracker.log_folder(run_id, hydra_dir, ".hydra")
        tracker.log_metrics(run_id, result.checks)
    print(f"Recorded run '{name}' ({run_id}) in experiment '{tracker.experiment_name}' "
          f"at {tracker.tracking_uri}: {tracker.run_url(run_id)}")
    return result
