"""The command line: `python -m rnnexp [overrides] [-m]`. A thin Hydra entry;
the work is in rnnexp.job."""

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

import rnnexp.schema  # noqa: F401  registers the schema before Hydra composes
from rnnexp import trackers
from rnnexp.errors import ConfigError

CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "conf")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def _hydra_main(cfg: DictConfig) -> None:
    from rnnexp.job import hydra_context, run_job

    try:
        run_job(cfg)
    except ConfigError as error:
        if hydra_context().get("multirun"):
            raise  # the point fails; the sweep goes on
        print(f"rnnexp: error: {error}", file=sys.stderr)
        raise SystemExit(2)  # not an Exception, so Hydra adds no traceback


def main() -> None:
    trackers.pipeline_runs()  # MLflow work in a helper process, drained below
    error = None
    try:
        _hydra_main()
    except BaseException as caught:
        error = caught
        raise
    finally:
        if "rnnexp.sweep" in sys.modules:  # only a multirun loads it
            sys.modules["rnnexp.sweep"].finish_open_sweeps(error)
        trackers.close_trackers(error)


if __name__ == "__main__":
    main()
