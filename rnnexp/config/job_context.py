"""What a running Hydra job knows of itself, as plain values: the overrides
as typed, the config-group choices, its output folder and, in a sweep, the
sweep's folder. Empty outside a Hydra app (a notebook calling the job)."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional


@dataclass(frozen=True)
class JobContext:
    overrides: List[str] = field(default_factory=list)  # hydra.overrides.task, in the order typed
    choices: Dict[str, str] = field(default_factory=dict)  # group -> option, e.g. {"data": "hello_batch"}
    output_dir: Optional[Path] = None  # the job's folder (.hydra/, its log), absolute
    sweep_dir: Optional[Path] = None  # the sweep's folder, for a job of a multirun
    number: Optional[int] = None  # a multirun job's index from 0 (hydra.job.num)

    @property
    def hydra_dir(self) -> Optional[Path]:
        """The job's `.hydra/` folder (config.yaml, hydra.yaml, overrides.yaml), if Hydra wrote one."""
        folder = self.output_dir / ".hydra" if self.output_dir else None
        return folder if folder is not None and folder.is_dir() else None


def sweep_folder(output_dir: Path, subdir: str) -> Path:
    """The sweep folder of a job whose folder is `output_dir`: `hydra.sweep.dir`,
    found by stripping `subdir` (`hydra.sweep.subdir`, which may be nested,
    e.g. `lr=${lr}/seed=${seed}`), so that it is absolute like `output_dir`."""
    depth = len(Path(subdir).parts)
    return output_dir.parents[depth - 1] if depth else output_dir


def job_context() -> JobContext:
    """This job's context, from Hydra's runtime config; empty outside Hydra."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    if not HydraConfig.initialized():
        return JobContext()
    hc = HydraConfig.get()
    output_dir = Path(hc.runtime.output_dir)  # absolute, even after a chdir
    multirun = hc.mode == RunMode.MULTIRUN
    return JobContext(
        # as typed: an override's own `${...}` is not resolved here (it may not resolve at all)
        overrides=list(OmegaConf.to_container(hc.overrides.task, resolve=False)),
        choices={k: v for k, v in hc.runtime.choices.items() if not k.startswith("hydra") and v is not None},
        output_dir=output_dir,
        sweep_dir=sweep_folder(output_dir, str(hc.sweep.subdir)) if multirun else None,
        number=int(hc.job.num) if multirun and hc.job.get("num") is not None else None,
    )
