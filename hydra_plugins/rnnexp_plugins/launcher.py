"""`hydra/launcher=rnnexp`: Hydra's basic launcher (every job in this
process, one after another), running each point as rnnexp's sweep callback
composed it (rnnexp.sweep.points.SweepPlan), or composing it if there is no
such composition (rnnexp.sweep.compose)."""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence

from hydra.core.config_store import ConfigStore
from hydra.core.utils import JobReturn, configure_log, filter_overrides, run_job, setup_globals
from hydra.plugins.launcher import Launcher
from omegaconf import DictConfig, open_dict


@dataclass
class RnnexpLauncherConf:
    _target_: str = "hydra_plugins.rnnexp_plugins.launcher.RnnexpLauncher"


ConfigStore.instance().store(group="hydra/launcher", name="rnnexp", node=RnnexpLauncherConf, provider="rnnexp")
log = logging.getLogger(__name__)


class RnnexpLauncher(Launcher):
    def __init__(self) -> None:
        super().__init__()
        self.config = self.task_function = self.hydra_context = None
        self.composer = None

    def setup(self, *, hydra_context, task_function, config: DictConfig) -> None:
        self.config, self.hydra_context, self.task_function = config, hydra_context, task_function

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        from rnnexp.sweep.points import current_plan

        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        log.info(f"Launching {len(job_overrides)} jobs locally")
        plan, runs = current_plan(), []
        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            log.debug(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")  # each point prints its own line
            config = (plan.take(overrides) if plan is not None else None) or self._compose(list(overrides))
            with open_dict(config):
                config.hydra.job.id = idx
                config.hydra.job.num = idx
            ended = run_job(hydra_context=self.hydra_context, task_function=self.task_function, config=config,
                            job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir")
            # The job's own copies of its config (~0.14 MB a point), read by nothing once it has ended
            # (the sweeper reads the status and return value): a long sweep's memory stays flat.
            ended.cfg = ended.hydra_cfg = None
            runs.append(ended)
            configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        return runs

    def _compose(self, overrides: List[str]) -> DictConfig:
        from rnnexp.sweep.compose import PointComposer

        if self.composer is None:
            self.composer = PointComposer(self.hydra_context.config_loader, self.config)
        return self.composer.compose(overrides)
