"""`python -m rnnexp.compare`: a table of runs, one row per run.

    python -m rnnexp.compare                      # the latest sweep of experiment "rnnexp"
    python -m rnnexp.compare --sweep <parent run id> --csv table.csv
    python -m rnnexp.compare --all --experiment mine --tracking-uri http://127.0.0.1:5000

The console shows a narrow view that fits the terminal (the name, the short
run id, what varies, the checks, the status; rnnexp.record.comparison);
`--wide` shows every column, as the CSV has them. From Python, `runs_table`
gives the same table as a pandas DataFrame:

    from rnnexp.compare import runs_table
    table = runs_table()                          # the latest sweep's points
"""

import argparse
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Optional, Sequence, Tuple

from rnnexp.tracking.tags import ROLE_SWEEP, ROLE_TAG


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m rnnexp.compare",
        description="Print a table of rnnexp runs: the latest sweep's, unless --sweep or --all says otherwise.")
    parser.add_argument("--experiment", default="rnnexp", metavar="NAME", help="MLflow experiment (default: rnnexp)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--sweep", metavar="ID", help="the sweep's parent run id (default: the latest sweep)")
    which.add_argument("--all", action="store_true", help="every run of the experiment, not one sweep")
    parser.add_argument("--wide", action="store_true", help="every column (default: what fits the terminal)")
    parser.add_argument("--csv", metavar="FILE", help="also write every column to FILE as CSV (- for stdout only)")
    parser.add_argument("--tracking-uri", metavar="URI", default=None,
                        help="MLflow tracking URI (default: MLflow's own, MLFLOW_TRACKING_URI or ./mlflow.db)")
    return parser.parse_args(argv)


def runs_table(experiment: str = "rnnexp", sweep: Optional[str] = None, all_runs: bool = False,
               tracking_uri: Optional[str] = None):
    """The comparison table of a sweep's points (the latest sweep unless
    `sweep` names its parent run) or of every run (`all_runs`), as a pandas
    DataFrame: name, run_id, the varying params, shape.*, check.*, the other
    metrics, status (rnnexp.record.comparison.compare_table).

    Raises:
        LookupError: no such store, experiment or sweep.
    """
    return _read(experiment, sweep, all_runs, tracking_uri)[0]


def _read(experiment: str, sweep: Optional[str], all_runs: bool, tracking_uri: Optional[str]) -> Tuple:
    """The table, what it shows and the store's URI."""
    from rnnexp.record.comparison import compare_table
    from rnnexp.tracking import queries
    from rnnexp.tracking.store import open_store

    client, uri, experiment_id = open_store(tracking_uri, experiment, create=False)
    if all_runs:
        return (compare_table(queries.experiment_runs(client, experiment_id)),
                f"experiment {experiment!r}", uri)
    parent = queries.get_run(client, experiment_id, sweep) if sweep else queries.latest_sweep(client, experiment_id)
    if parent is None:
        raise LookupError(f"experiment {experiment!r} has no sweep yet (run `python -m rnnexp "
                          "<overrides> -m`), or pass --all for its single runs")
    if parent["tags"].get(ROLE_TAG) != ROLE_SWEEP:
        raise LookupError(f"run {parent['run_id']!r} ({parent['name']}) is not a sweep's parent run")
    runs = queries.children(client, experiment_id, parent["run_id"])
    return compare_table(runs), f"sweep '{parent['name']}' ({parent['run_id']})", uri


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    from rnnexp.record.comparison import format_table

    try:
        table, title, tracking_uri = _read(args.experiment, args.sweep, args.all, args.tracking_uri)
    except LookupError as error:
        print(f"rnnexp.compare: error: {error.args[0]}", file=sys.stderr)
        return 2
    if args.csv == "-":
        table.to_csv(sys.stdout, index=False)
        return 0
    width = shutil.get_terminal_size((120, 24)).columns  # COLUMNS if set, else the terminal's, else 120
    for line in (f"{len(table)} runs of {title}", f"at {tracking_uri}"):
        print(line if args.wide else "\n".join(textwrap.wrap(line, width, subsequent_indent="  ")))
    print(format_table(table, width=width, wide=args.wide))
    if args.csv:
        table.to_csv(Path(args.csv), index=False)
        print(f"wrote {args.csv} (every column)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
