"""`hydra/sweeper=rnnexp`: Hydra's basic sweeper (every combination of the
comma lists and ranges, `hydra.sweeper.params` first, in batches of
`max_batch_size`), launching the points that rnnexp's sweep callback already
composed and checked (rnnexp.sweep.points.SweepPlan) rather than composing
each one again to check it. Without the callback's plan it expands the points
itself and checks nothing: each job then checks its own."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from hydra.core.config_store import ConfigStore
from hydra.plugins.sweeper import Sweeper
from omegaconf import DictConfig, OmegaConf


@dataclass
class RnnexpSweeperConf:
    _target_: str = "hydra_plugins.rnnexp_plugins.sweeper.RnnexpSweeper"
    max_batch_size: Optional[int] = None  # points launched at a time; None: all at once
    params: Optional[Dict[str, str]] = None  # swept keys given in the config, as on the command line


ConfigStore.instance().store(group="hydra/sweeper", name="rnnexp", node=RnnexpSweeperConf, provider="rnnexp")


class RnnexpSweeper(Sweeper):
    def __init__(self, max_batch_size: Optional[int] = None, params: Optional[Dict[str, str]] = None):
        super().__init__()
        self.max_batch_size, self.params = max_batch_size, params
        self.hydra_context = self.config = self.launcher = None

    def setup(self, *, hydra_context, task_function, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context, self.config = hydra_context, config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: List[str]) -> Any:
        from rnnexp.sweep.points import current_plan, expand

        plan = current_plan()
        points = plan.points if plan is not None else expand(self.hydra_context.config_loader, self.config)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")  # as Hydra's basic sweeper does
        size = self.max_batch_size if self.max_batch_size and self.max_batch_size > 0 else max(1, len(points))
        returns = []
        for first in range(0, len(points), size):
            results = self.launcher.launch(points[first:first + size], initial_job_idx=first)
            for result in results:
                _ = result.return_value  # raises a job's error, as Hydra's basic sweeper does
            returns.append(results)
        return returns
