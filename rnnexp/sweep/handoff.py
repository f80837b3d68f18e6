"""What a sweep's job learns from the launcher that started it, whichever it is
(rnnexp's own, joblib's worker processes, submitit on this machine or on
SLURM): the sweep's parent run, and where its own console output goes.

The parent run id travels two ways. The sweep callback writes it into the sweep
folder, which every job knows from its Hydra config and which a cluster shares
with its nodes, and exports it in the environment, which local workers inherit.
A job trusts the file first: a worker's environment is a copy taken when the
worker started (joblib keeps its workers for later calls in the same process,
and some SLURM sites start jobs with `--export=NONE`), while the file belongs to
this sweep folder alone.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from rnnexp.errors import ConfigError
from rnnexp.tracking.tags import JOB_LOG_ERR_TAG, JOB_LOG_TAG

PARENT_RUN_ENV = "RNNEXP_SWEEP_PARENT_RUN_ID"
PARENT_RUN_FILE = ".rnnexp_parent_run_id"  # in the sweep folder, next to .submitit/
SWEEP_POINTS_FILE = ".rnnexp_sweep_points.json"  # beside it: how many points, which keys vary


@dataclass(frozen=True)
class SweepPoints:
    """What a job's console line and run name need to know of its sweep."""

    count: Optional[int] = None  # the sweep's number of points (None: not known)
    swept: List[str] = field(default_factory=list)  # the keys whose value varies, in the order typed


def _write_atomically(path: Path, text: str) -> None:
    partial = path.parent / f"{path.name}.{os.getpid()}.tmp"
    partial.write_text(text)
    os.replace(partial, path)  # so that no job ever reads half a file


def publish_parent_run(sweep_dir: Path, run_id: str, points: Optional[SweepPoints] = None) -> Path:
    """Makes `run_id` the parent of every job launched into `sweep_dir`.

    Args:
        sweep_dir: the sweep folder (Hydra's `hydra.sweep.dir`), absolute;
            created if missing (the launcher would create it next anyway).
        run_id: the MLflow id of the sweep's parent run.
        points: the sweep's size and varying keys, for the jobs' console lines.

    Returns:
        The file the id was written to.

    Raises:
        ConfigError: the folder already holds another sweep's parent run id
            (two sweeps must never share one: each would nest the other's points).
    """
    sweep_dir.mkdir(parents=True, exist_ok=True)
    path = sweep_dir / PARENT_RUN_FILE
    _claim(path, run_id + "\n")
    points = points or SweepPoints()
    _write_atomically(sweep_dir / SWEEP_POINTS_FILE, json.dumps({"count": points.count, "swept": points.swept}))
    os.environ[PARENT_RUN_ENV] = run_id
    return path


def _claim(path: Path, text: str) -> None:
    """Writes `path` whole, only if no file is there yet: a hard link of a
    complete file, which fails if another process linked one first."""
    partial = path.parent / f"{path.name}.{os.getpid()}.tmp"
    partial.write_text(text)
    try:
        os.link(partial, path)
    except FileExistsError:
        other = path.read_text().strip()
        if other == text.strip():  # published again by the same sweep
            return
        raise ConfigError("hydra.sweep.dir", str(path.parent), "a folder of this sweep alone",
                          f"it already holds sweep run {other}'s id ({PARENT_RUN_FILE})") from None
    finally:
        partial.unlink()


def sweep_points(sweep_dir: Optional[Path]) -> SweepPoints:
    """What the sweep callback published of the sweep in `sweep_dir`; empty
    if nothing was (a job outside a sweep, or a sweep without the callback)."""
    try:
        published = json.loads((Path(sweep_dir) / SWEEP_POINTS_FILE).read_text())
        return SweepPoints(count=published["count"], swept=list(published["swept"]))
    except (TypeError, OSError, ValueError, KeyError):
        return SweepPoints()


def withdraw_parent_run() -> None:
    """Stops exporting the parent run id. The file stays in the sweep folder as
    the record of which run that folder's jobs belong to."""
    os.environ.pop(PARENT_RUN_ENV, None)


def parent_run_id(sweep_dir: Optional[Path]) -> Optional[str]:
    """The parent run of a job in `sweep_dir`: the id published in that folder,
    else the one in the environment, else None."""
    if sweep_dir is not None:
        try:
            published = (Path(sweep_dir) / PARENT_RUN_FILE).read_text().strip()
        except FileNotFoundError:
            published = ""
        if published:
            return published
    return os.environ.get(PARENT_RUN_ENV) or None


def job_log_tags() -> Dict[str, str]:
    """Where this job's stdout and stderr go when submitit runs it (locally or
    on SLURM: `<sweep dir>/.submitit/<job id>/<job id>_<task>_log.out|err`), as
    run tags; empty under any other launcher, whose jobs print to the console
    and log to `<output dir>/<job name>.log`."""
    if "SUBMITIT_FOLDER" not in os.environ:  # set by submitit in its jobs only
        return {}
    import submitit

    paths = submitit.JobEnvironment().paths
    return {JOB_LOG_TAG: str(paths.stdout.resolve()), JOB_LOG_ERR_TAG: str(paths.stderr.resolve())}
