"""The sweep's Hydra callback (`hydra.callbacks.sweep_parent` in
rnnexp/conf/config.yaml): Hydra calls `on_multirun_start` in the launching
process before any job starts, `on_job_end` after each job where it ran, and
`on_multirun_end` after the last.

It checks every point first (rnnexp.sweep.points) and that the tracking
server answers, so a bad sweep fails at once with nothing recorded; then it
opens the sweep's parent run (rnnexp.sweep.parent). Opening the store there,
once, also creates and migrates a new store's schema before any parallel
worker (joblib, submitit) could race to create it. The parent is ended by
`on_multirun_end`, or, when Hydra stops early (an interrupt, an error), by
`close_open_sweeps`, which the CLI calls on its way out. Every
RELEASE_EVERY jobs, `on_job_end` lets Keras drop what it keeps of the models
built so far, so that a long sweep's memory stays flat.
"""

import os
import sys
import traceback
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from rnnexp.config.schema import MlflowConfig
from rnnexp.errors import ConfigError
from rnnexp.store_uri import without_passwords
from rnnexp.sweep.handoff import SweepPoints
from rnnexp.sweep.parent import SweepParent, close_open_sweeps
from rnnexp.sweep.points import plan_sweep, set_current_plan, swept_keys
from rnnexp.tracking.recorder import TrackingError
from rnnexp.tracking.store import check_reachable

IN_PROCESS_LAUNCHER = "hydra_plugins.rnnexp_plugins.launcher.RnnexpLauncher"  # runs the jobs here
# Points between two releases of what Keras keeps of old models (rnnexp.core.keras_rnn.release_models):
# memory stays within ~20 MB of flat; each release costs the next point ~0.1 s.
RELEASE_EVERY = 32


class SweepCallback(Callback):
    def __init__(self) -> None:
        self.jobs_ended = 0  # in this process (a joblib worker counts its own)

    def on_job_end(self, config: DictConfig, job_return, **kwargs) -> None:
        self.jobs_ended += 1
        if self.jobs_ended % RELEASE_EVERY == 0:
            from rnnexp.core.keras_rnn import release_models

            release_models()

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        # Hydra turns an Exception raised here into a warning and sweeps on;
        # SystemExit is not one, so these stop the sweep before it starts.
        from hydra.core.global_hydra import GlobalHydra

        # Resolved first, so that OmegaConf caches its `${now:...}` in this config
        # (which the sweeper and launcher share) and every point composed from
        # it copies that cache: one folder for the sweep, however long planning takes.
        sweep_dir = Path(os.path.abspath(str(config.hydra.sweep.dir)))  # as Hydra makes job folders
        try:
            plan = plan_sweep(GlobalHydra.instance().config_loader(), config)
        except ConfigError as error:
            _stop(2, f"rnnexp: error: {error}")
        except Exception:
            traceback.print_exc()
            _stop(1, "rnnexp: error: could not check the sweep's points; nothing was run")
        if plan.problems:
            _stop(2, f"rnnexp: error: {len(plan.problems)} sweep point(s) have bad values; nothing was run:\n"
                     + "\n".join(f"  {line}" for line in plan.problems))
        mlflow = MlflowConfig(**OmegaConf.to_container(config.mlflow, resolve=True))
        try:
            check_reachable(mlflow.tracking_uri)
        except ConfigError as error:
            _stop(2, f"rnnexp: error: {error}")
        set_current_plan(plan)
        in_process = config.hydra.launcher.get("_target_") == IN_PROCESS_LAUNCHER
        try:
            SweepParent.open(mlflow, list(config.hydra.overrides.task),
                             sweep_dir,
                             plots=bool(config.plots.enabled), preload=_load_keras if in_process else None,
                             points=SweepPoints(count=len(plan.points), swept=swept_keys(plan.points)))
        except ConfigError as error:  # the sweep folder is another sweep's
            _stop(2, f"rnnexp: error: {error}")
        except TrackingError as error:  # the store could not be opened: no parent run, nothing run
            _stop(2, f"rnnexp: error: mlflow.tracking_uri={mlflow.tracking_uri!r}: {error}; nothing was run")
        except Exception:
            traceback.print_exc()
            _stop(1, "rnnexp: error: could not record the sweep's parent run; nothing was run")

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        set_current_plan(None)
        close_open_sweeps(None)


def _load_keras() -> None:
    """TensorFlow's import, for jobs that run in this process: meanwhile a
    background recorder's worker opens the store."""
    from rnnexp.core.keras_rnn import keras_module

    keras_module()


def _stop(code: int, message: str):
    print(without_passwords(message), file=sys.stderr)
    raise SystemExit(code)
