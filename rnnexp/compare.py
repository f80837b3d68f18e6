"""`python -m rnnexp.compare`: a table of runs, one row per run.

    python -m rnnexp.compare                      # the latest sweep of experiment "rnnexp"
    python -m rnnexp.compare --sweep <parent run id> --csv table.csv
    python -m rnnexp.compare --all --experiment mine --tracking-uri http://127.0.0.1:5000

Columns: the run's name and id, the params that vary across the runs, the
tensor shapes, the `check.*` metrics (then any other metric) and the status
(rnnexp.record.comparison builds the table; rnnexp.tracking reads the runs).
"""

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from rnnexp.tracking.tags import ROLE_SWEEP, ROLE_TAG


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m rnnexp.compare",
        description="Print a table of rnnexp runs: the latest sweep's, unless --sweep or --all says otherwise.")
    parser.add_argument("--experiment", default="rnnexp", metavar="NAME", help="MLflow experiment (default: rnnexp)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--sweep", metavar="ID", help="the sweep's parent run id (default: the latest sweep)")
    which.add_argument("--all", action="store_true", help="every run of the experiment, not one sweep")
    parser.add_argument("--csv", metavar="FILE", type=Path, help="also write the table to FILE as CSV")
    parser.add_argument("--tracking-uri", metavar="URI", default=None,
                        help="MLflow tracking URI (default: MLflow's own, MLFLOW_TRACKING_URI or ./mlflow.db)")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    from rnnexp.record.comparison import compare_table, format_table
    from rnnexp.tracking import queries
    from rnnexp.tracking.store import open_store

    try:
        client, tracking_uri, experiment_id = open_store(args.tracking_uri, args.experiment, create=False)
        if args.all:
            runs, title = queries.experiment_runs(client, experiment_id), f"all runs of experiment {args.experiment!r}"
        else:
            parent = (queries.get_run(client, experiment_id, args.sweep) if args.sweep
                      else queries.latest_sweep(client, experiment_id))
            if parent is None:
                raise LookupError(f"experiment {args.experiment!r} has no sweep yet (run `python -m rnnexp "
                                  "<overrides> -m`), or pass --all for its single runs")
            if parent["tags"].get(ROLE_TAG) != ROLE_SWEEP:
                raise LookupError(f"run {parent['run_id']!r} ({parent['name']}) is not a sweep's parent run")
            runs = queries.children(client, experiment_id, parent["run_id"])
            title = f"sweep '{parent['name']}' ({parent['run_id']})"
    except LookupError as error:
        print(f"rnnexp.compare: error: {error.args[0]}", file=sys.stderr)
        return 2
    table = compare_table(runs)
    print(f"{title}: {len(runs)} runs, at {tracking_uri}")
    print(format_table(table))
    if args.csv:
        table.to_csv(args.csv, index=False)
        print(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
