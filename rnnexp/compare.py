"""`python -m rnnexp.compare`: a table of runs, one row per run.

    python -m rnnexp.compare                      # the latest sweep of experiment "rnnexp"
    python -m rnnexp.compare --sweep <parent run id> --csv table.csv
    python -m rnnexp.compare --all --experiment mine --tracking-uri http://127.0.0.1:5000

Columns: the run's name and id, the params that vary across the runs, the
tensor shapes, the `check.*` metrics (then any other metric) and the status.
The same table, and a summary plot, go to a sweep's parent run when the sweep
ends (`write_sweep_summary`). The data come through rnnexp.tracking; building
the table is plain (`compare_table`: run dicts in, DataFrame out).
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

from rnnexp.tracking import ROLE_TAG, SHAPES_TAG  # tracking imports MLflow only inside its Tracker

SHAPE_ORDER = ("inputs", "outputs", "state_h", "state_c")


def varying_params(runs: Sequence[Mapping]) -> List[str]:
    """The param keys whose value is not the same in every run (a key some
    runs lack counts as varying), sorted."""
    keys = sorted({key for run in runs for key in run["params"]})
    return [key for key in keys if len({run["params"].get(key) for run in runs}) > 1]


def shape_cells(run: Mapping) -> Dict[str, str]:
    """{"shape.inputs": "3x5x4", ...} from the run's shapes tag; {} without one."""
    try:
        shapes = json.loads(run["tags"].get(SHAPES_TAG, "{}"))
    except ValueError:
        return {}
    return {f"shape.{name}": "x".join(str(d) for d in shapes[name]) for name in SHAPE_ORDER if name in shapes}


def compare_table(runs: Sequence[Mapping]):
    """A pandas DataFrame with one row per run, in the given order.

    Args:
        runs: dicts with keys run_id, name, status, params, metrics, tags (as
            rnnexp.tracking.Tracker returns them).

    Returns:
        Columns name, run_id, the varying params, shape.*, check.*, the other
        metrics, status. A value a run lacks is empty (NaN).
    """
    import pandas as pd

    params = varying_params(runs)
    shapes = [column for column in (f"shape.{n}" for n in SHAPE_ORDER)
              if any(column in shape_cells(run) for run in runs)]
    metrics = sorted({key for run in runs for key in run["metrics"]}, key=lambda k: (not k.startswith("check."), k))
    columns = ["name", "run_id", *params, *shapes, *metrics, "status"]
    rows = []
    for run in runs:
        row = {"name": run["name"], "run_id": run["run_id"], "status": run["status"]}
        row.update({key: run["params"][key] for key in params if key in run["params"]})
        row.update(shape_cells(run))
        row.update(run["metrics"])
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def format_table(table) -> str:
    """The table as text for the console: every column, 3 significant digits."""
    if table.empty:
        return "(no runs)"
    return table.to_string(index=False, float_format=lambda value: f"{value:.3g}")


def write_sweep_summary(folder: Path, runs: List[Dict], plot: bool = True) -> None:
    """A sweep parent's artifacts (a writer for Tracker.write_and_log):
    compare.csv and compare.html (the table) and, if `plot`, sweep_summary.png
    (the final-state norm and each check per point)."""
    from rnnexp.checks import TOLERANCES

    folder = Path(folder)
    table = compare_table(runs)
    table.to_csv(folder / "compare.csv", index=False)
    (folder / "compare.html").write_text(table.to_html(index=False, float_format=lambda v: f"{v:.3g}", na_rep=""))
    if plot:
        from rnnexp.plots import sweep_figure

        norms = table["state_h_norm"].tolist() if "state_h_norm" in table else [float("nan")] * len(table)
        checks = {name: table[name].tolist() for name in table.columns if name.startswith("check.")}
        sweep_figure(folder / "sweep_summary.png", table["name"].tolist(), norms, checks, TOLERANCES)


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
    from rnnexp.tracking import Tracker

    try:
        tracker = Tracker(args.tracking_uri, args.experiment, create=False)
        if args.all:
            runs, title = tracker.experiment_runs(), f"all runs of experiment {args.experiment!r}"
        else:
            parent = tracker.get_run(args.sweep) if args.sweep else tracker.latest_sweep()
            if parent is None:
                raise LookupError(f"experiment {args.experiment!r} has no sweep yet (run `python -m rnnexp "
                                  "<overrides> -m`), or pass --all for its single runs")
            if parent["tags"].get(ROLE_TAG) != "sweep":
                raise LookupError(f"run {parent['run_id']!r} ({parent['name']}) is not a sweep's parent run")
            runs, title = tracker.children(parent["run_id"]), f"sweep '{parent['name']}' ({parent['run_id']})"
    except LookupError as error:
        print(f"rnnexp.compare: error: {error.args[0]}", file=sys.stderr)
        return 2
    table = compare_table(runs)
    print(f"{title}: {len(runs)} runs, at {tracker.tracking_uri}")
    print(format_table(table))
    if args.csv:
        table.to_csv(args.csv, index=False)
        print(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
